"""Third-party checkers and a real Stable-Baselines3 model on the environment."""

from __future__ import annotations

import warnings

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env

import nalu_rl  # noqa: F401

RENDER_MODES = (None, "rgb_array", "ansi", "human")


@pytest.fixture
def headless(monkeypatch):
    """No display, and matplotlib told to draw off-screen: "human" frames are drawn and shown nowhere, silently.

    Gymnasium has no vector-environment checker in 1.4 (``check_vector_env``); tests/test_vector_apis.py compares the
    batched twins with its ``SyncVectorEnv`` step by step instead.
    """
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("MPLBACKEND", "Agg")


@pytest.mark.parametrize("render_mode", RENDER_MODES)
@pytest.mark.parametrize("obs_mode", ["pixels", "grid"])
def test_gymnasium_check_env_in_every_render_mode_without_warnings(obs_mode, render_mode, headless):
    # The render check also rebuilds the env once per mode in metadata["render_modes"] and renders it.
    env = gym.make("nalu_rl/TimedGrid-v0", obs_mode=obs_mode, render_mode=render_mode)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(env.unwrapped)
    env.close()


@pytest.mark.parametrize("render_mode", RENDER_MODES)
@pytest.mark.parametrize("obs_mode", ["pixels", "grid"])
def test_sb3_check_env_in_every_render_mode_without_warnings(obs_mode, render_mode, headless):
    from stable_baselines3.common.env_checker import check_env as sb3_check_env

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # The spec fixes grid observations as float32 (2, N, N) planes in [0, 1]; SB3 reads any 3-D box as an image and
        # advises uint8 in [0, 255] (and 36x36 for its CnnPolicy). Only this image advice passes, and only in grid mode.
        if obs_mode == "grid":
            for advice in (r"is an image but its `dtype` is \(float32\)", "is an image but the upper", "minimal resolution"):
                warnings.filterwarnings("ignore", message=f".*{advice}")
        env = gym.make("nalu_rl/TimedGrid-v0", obs_mode=obs_mode, render_mode=render_mode).unwrapped
        sb3_check_env(env, warn=True, skip_render_check=False)
    env.close()


def _greedy_success(model, env, episodes: int) -> float:
    obs, _ = env.reset(seed=1)
    wins = 0
    for _ in range(episodes):
        done = False
        while not done:
            action, _ = model.predict(obs, deterministic=True)
            obs, _, terminated, truncated, info = env.step(int(action))
            done = terminated or truncated
        wins += info["success"]
        obs, _ = env.reset()
    return wins / episodes


def test_sb3_ppo_learns_to_reach_an_adjacent_target():
    """PPO learns through SB3's own API, from chance (one right move in five) to nearly every episode.

    A memoryless MLP policy cannot count steps, so the task is cut down to what it learns in a
    few thousand steps: T = 1 on a 3×3 grid, where the target is always one step away and the
    right move is a function of the observation. A learner that does not learn (lr = 0) stays
    near chance, far below the bar.
    """
    from stable_baselines3 import PPO

    env = gym.make("nalu_rl/TimedGrid-v0", obs_mode="grid", size=3, t_range=(1, 1))
    model = PPO("MultiInputPolicy", env, n_steps=256, batch_size=64, n_epochs=4, learning_rate=3e-3, seed=0, device="cpu")
    evaluation = gym.make("nalu_rl/TimedGrid-v0", obs_mode="grid", size=3, t_range=(1, 1))
    untrained = _greedy_success(model, evaluation, episodes=200)
    before = [p.detach().clone() for p in model.policy.parameters()]
    model.learn(total_timesteps=3072)
    assert model.num_timesteps >= 3072
    assert any((b != a).any() for b, a in zip(before, model.policy.parameters()))
    trained = _greedy_success(model, evaluation, episodes=200)
    assert untrained < 0.5 and trained >= 0.85, (untrained, trained)
    obs, _ = env.reset(seed=0)
    action, _ = model.predict(obs, deterministic=True)
    assert env.action_space.contains(int(action))
