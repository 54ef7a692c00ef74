"""Third-party checkers and a real Stable-Baselines3 model on the environment."""

from __future__ import annotations

import warnings

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env

import nalu_rl  # noqa: F401


@pytest.mark.parametrize("obs_mode", ["pixels", "grid"])
def test_gymnasium_check_env_without_warnings(obs_mode):
    # The render check would open every mode in metadata, "human" too, which needs a display;
    # the render modes are tested on their own in test_env_rules.py.
    env = gym.make("nalu_rl/TimedGrid-v0", obs_mode=obs_mode)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(env.unwrapped, skip_render_check=True)


@pytest.mark.parametrize("obs_mode", ["pixels", "grid"])
def test_sb3_check_env(obs_mode):
    from stable_baselines3.common.env_checker import check_env as sb3_check_env

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # SPEC §3 fixes grid observations as float32 (2, N, N) planes in [0, 1]; SB3 advises uint8
        # in [0, 255] for image-shaped boxes and flattens other ones, which is what we want here.
        # (and 36x36 for its CnnPolicy). Only this image advice passes, and only in grid mode.
        if obs_mode == "grid":
            for advice in (r"is an image but its `dtype` is \(float32\)", "is an image but the upper", "minimal resolution"):
                warnings.filterwarnings("ignore", message=f".*{advice}")
        sb3_check_env(gym.make("nalu_rl/TimedGrid-v0", obs_mode=obs_mode).unwrapped, warn=True)


def test_sb3_ppo_learns_a_few_hundred_steps():
    from stable_baselines3 import PPO

    env = gym.make("nalu_rl/TimedGrid-v0", obs_mode="grid")
    model = PPO("MultiInputPolicy", env, n_steps=128, batch_size=64, n_epochs=2, seed=0, device="cpu")
    before = [p.detach().clone() for p in model.policy.parameters()]
    model.learn(total_timesteps=384)
    assert model.num_timesteps >= 384
    assert any((b != a).any() for b, a in zip(before, model.policy.parameters()))
    obs, _ = env.reset(seed=0)
    action, _ = model.predict(obs, deterministic=True)
    assert env.action_space.contains(int(action))
