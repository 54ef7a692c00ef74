"""nalu_rl/IntervalRepro-v0 (Ready-Set-Go): its rules as scenarios, the checkers, its twins step for step, its misuse."""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium.utils.env_checker import check_env
from gymnasium.vector import AutoresetMode, SyncVectorEnv
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nalu_rl  # noqa: F401  (registers the environments)
from nalu_rl.envs import INTERVAL_ENV_ID
from nalu_rl.envs import interval_rules as irules
from nalu_rl.envs.interval_batched import IntervalReproVecEnv
from nalu_rl.envs.interval_repro import IntervalReproEnv
from nalu_rl.envs.numpy_batched import IntervalReproNumpyVecEnv

WAIT, GO = 0, 1
NONE, READY, SET = np.eye(3, dtype=np.float32)
BATCHED = {"torch": IntervalReproVecEnv, "numpy": IntervalReproNumpyVecEnv}
KINDS = ("single", *BATCHED)


def make(**kwargs) -> IntervalReproEnv:
    return gym.make(INTERVAL_ENV_ID, **kwargs).unwrapped


def play(env, go_at: int | None, **options):
    """Reset with ``options`` and wait until the clock ``go_at`` (absolute), then "go"; the last step's outcome."""
    obs, info = env.reset(seed=0, options=options or None)
    cues = [obs["cue"]]
    while True:
        action = GO if go_at is not None and info["t"] + 1 == go_at else WAIT
        obs, reward, terminated, truncated, info = env.step(action)
        cues.append(obs["cue"])
        if terminated or truncated:
            return reward, terminated, truncated, info, np.array(cues)


# --------------------------------------------------------------------------- the rules


def test_cues_ready_at_the_delay_set_an_interval_later_and_nothing_else():
    env = make(delay_range=(2, 2))
    *_, info, cues = play(env, None, interval=4)
    flags = cues.argmax(1)
    assert flags[2] == 1 and flags[6] == 2 and (np.delete(flags, [2, 6]) == 0).all()
    assert np.array_equal(cues.sum(1), np.ones(len(cues)))  # one-hot every step, never the elapsed time
    assert info["t"] == 2 + 4 + 2 * 4  # truncated twice the target after "set"


@pytest.mark.parametrize("penalty", [0.15, 0.4])
def test_go_on_time_pays_1_and_a_step_late_or_early_loses_the_penalty(penalty):
    env = make(timing_penalty=penalty)
    reward, terminated, truncated, info, _ = play(env, 7 + 7, interval=7)
    assert (reward, terminated, truncated) == (1.0, True, False)
    assert info == {"t": 14, "success": True, "go_time": 7, "interval": 7, "target": 7}
    late, *_, late_info, _ = play(env, 7 + 8, interval=7)
    early, *_, early_info, _ = play(env, 7 + 6, interval=7)
    assert late == pytest.approx(1 - penalty) and early == pytest.approx(1 - penalty)
    assert (late_info["success"], late_info["go_time"], early_info["go_time"]) == (False, 8, 6)
    assert play(env, 7 + 1, interval=7)[0] == pytest.approx(max(-1.0, 1 - 6 * penalty))


def test_a_premature_go_pays_minus_one_and_never_going_pays_nothing():
    env = make()
    for go_at in (1, 5):  # before "set", and at the step that shows it (chosen before it was seen)
        reward, terminated, _, info, _ = play(env, go_at, interval=5)
        assert (reward, terminated, info["success"], info["go_time"]) == (-1.0, True, False, 0)
    reward, terminated, truncated, info, _ = play(env, None, interval=5)
    assert (reward, terminated, truncated, info["go_time"], info["success"]) == (0.0, False, True, -1, False)


def test_exact_reward_gain_and_time_limit():
    env = make(reward="exact", gain=1.5, time_limit=30)
    assert play(env, 5 + 8, interval=5)[:4] == (1.0, True, False, {"t": 13, "success": True, "go_time": 8, "interval": 5, "target": 8})
    assert play(env, 5 + 7, interval=5)[0] == -1.0  # round(1.5 * 5) = 8, halves up
    reward, _, truncated, info, _ = play(env, None, interval=5)
    assert (reward, truncated, info["t"]) == (-1.0, True, 30)
    assert irules.target_table(0.1)[3] == 1  # never 0: "go" can come one step after "set" at the earliest


def test_extrapolation_to_interval_100_single_and_batched():
    env = make()
    reward, _, _, info, cues = play(env, 200, interval=100)
    assert reward == 1.0 and info["success"] and info["interval"] == 100 and cues[100].argmax() == 2
    vec = IntervalReproVecEnv(num_envs=3)
    vec.reset(seed=0, options={"interval": [100, 100, 1000], "delay": 3})
    ended = {}
    for t in range(1, 204):
        _, reward, terminated, truncated, infos = vec.step(torch.tensor([int(t == 203), int(t == 202), 0]))
        for i in (terminated | truncated).nonzero().flatten().tolist():
            ended[i] = (reward[i].item(), infos["success"][i].item(), infos["go_time"][i].item())
    assert ended == {0: (1.0, True, 100), 1: (pytest.approx(1 - irules.TIMING_PENALTY), False, 99)}


def test_intervals_are_drawn_over_the_range_and_seeds_replay():
    env = make(interval_range=(3, 6), delay_range=(0, 4))
    seen = set()
    for seed in range(60):
        env.reset(seed=seed)
        seen.add((env._interval, env._delay))
    assert {i for i, _ in seen} == {3, 4, 5, 6} and {d for _, d in seen} == set(range(5))
    a, b = make(interval_range=(1, 1000), delay_range=(0, 9)), make(interval_range=(1, 1000), delay_range=(0, 9))
    a.reset(seed=5)
    b.reset(seed=5)
    assert (a._interval, a._delay) == (b._interval, b._delay)  # a seed replays its episode
    a.reset(seed=6)
    assert (a._interval, a._delay) != (b._interval, b._delay)


def test_render_modes():
    env = make(render_mode="rgb_array", delay_range=(1, 1))
    env.reset(seed=0, options={"interval": 5})
    frame = env.render()
    assert frame.shape == (24, 400, 3) and frame.dtype == np.uint8
    text = make(render_mode="ansi")
    text.reset(seed=0, options={"interval": 3})
    for action in (WAIT, WAIT, WAIT, WAIT, GO):
        text.step(action)
    assert text.render().splitlines()[1] == "R..S.G"
    vec = IntervalReproNumpyVecEnv(num_envs=2, render_mode="rgb_array")
    vec.reset(seed=0)
    assert vec.render().shape == (2, 24, 400, 3)


# --------------------------------------------------------------------------- checkers


@pytest.mark.parametrize("render_mode", [None, "rgb_array", "ansi"])
def test_gymnasium_and_sb3_check_env_in_every_render_mode_without_warnings(render_mode):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        env = gym.make(INTERVAL_ENV_ID, render_mode=render_mode, delay_range=(0, 3))
        check_env(env.unwrapped)
        env.close()
    pytest.importorskip("stable_baselines3")
    from stable_baselines3.common.env_checker import check_env as sb3_check_env

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sb3_check_env(make(render_mode=render_mode), warn=True, skip_render_check=False)


def test_make_vec_follows_the_backend_convention():
    envs = gym.make_vec(INTERVAL_ENV_ID, num_envs=3)
    assert isinstance(envs, IntervalReproNumpyVecEnv) and envs.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP
    assert isinstance(gym.make_vec(INTERVAL_ENV_ID, num_envs=3, backend="torch"), IntervalReproVecEnv)
    assert isinstance(gym.make_vec(INTERVAL_ENV_ID, num_envs=3, device="cpu"), IntervalReproVecEnv)
    with pytest.raises(TypeError, match="device.*backend='torch'"):
        gym.make_vec(INTERVAL_ENV_ID, num_envs=3, backend="numpy", device="cpu")
    with pytest.raises(ValueError, match="backend"):
        gym.make_vec(INTERVAL_ENV_ID, num_envs=3, backend="jax")


# --------------------------------------------------------------------------- twins == single env, step for step

KWARGS = st.fixed_dictionaries(
    {
        "interval_range": st.tuples(st.integers(1, 8), st.integers(0, 6)).map(lambda p: (p[0], p[0] + p[1])),
        "gain": st.sampled_from([0.3, 0.5, 1.0, 1.5, 2.0]),
        "delay_range": st.tuples(st.integers(0, 3), st.integers(0, 3)).map(lambda p: (p[0], p[0] + p[1])),
        "time_limit": st.one_of(st.none(), st.integers(1, 30)),
        "reward": st.sampled_from(["exact", "graded"]),
        "timing_penalty": st.floats(0.01, 2.0),
    }
)
K = 4
# GO rarely, so that most episodes reach "set" and many a "go" after it
ACTIONS = st.lists(st.lists(st.sampled_from([WAIT] * 7 + [GO]), min_size=K, max_size=K), min_size=1, max_size=60)
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _options(data) -> dict | None:
    return data.draw(st.one_of(st.none(), st.fixed_dictionaries({"interval": st.integers(1, 12), "delay": st.integers(0, 4)})))


@SETTINGS
@given(kwargs=KWARGS, seeds=st.lists(st.integers(0, 2**62), min_size=K, max_size=K), actions=ACTIONS, data=st.data())
def test_the_torch_twin_plays_the_single_envs_episodes(kwargs, seeds, actions, data):
    options = _options(data)
    singles = [IntervalReproEnv(**kwargs) for _ in seeds]
    vec = IntervalReproVecEnv(num_envs=K, **kwargs)
    batched, _ = vec.reset(seed=seeds, options=options)
    for i, env in enumerate(singles):
        obs, _ = env.reset(seed=seeds[i], options=options)
        assert all(np.array_equal(obs[k], batched[k][i].numpy()) for k in obs)
    for step, row in enumerate(actions):
        batched, reward, terminated, truncated, infos = vec.step(torch.tensor(row))
        for i, env in enumerate(singles):
            where = f"step {step} env {i}"
            obs, r, term, trunc, info = env.step(row[i])
            assert (r, term, trunc) == (reward[i].item(), terminated[i].item(), truncated[i].item()), where
            assert info["t"] == infos["t"][i].item() and infos["_final_obs"][i].item() == (term or trunc), where
            if term or trunc:
                for key in ("success", "go_time", "interval", "target"):
                    assert infos[f"_{key}"][i].item() and info[key] == infos[key][i].item(), (where, key)
                assert all(np.array_equal(obs[k], infos["final_obs"][k][i].numpy()) for k in obs), where
                obs, _ = env.reset()  # same-step autoreset: the batch already began the next episode
            assert all(np.array_equal(obs[k], batched[k][i].numpy()) for k in obs), where


def _same_infos(ours: dict, theirs: dict, k: int) -> bool:
    """Equal where either says a key is valid (a key SyncVectorEnv leaves out is valid nowhere)."""
    for key in {key for key in (*ours, *theirs) if not key.startswith("_")}:
        mask = ours.get(f"_{key}", np.zeros(k, bool))
        if not np.array_equal(mask, theirs.get(f"_{key}", np.zeros(k, bool))):
            return False
        if isinstance(ours.get(key), dict):  # final_info: its own keys and masks
            if not _same_infos(ours[key], theirs[key], k):
                return False
            continue
        for i in np.flatnonzero(mask):
            a, b = ours[key][i], theirs[key][i]
            same = a.keys() == b.keys() and all(np.array_equal(a[n], b[n]) for n in a) if isinstance(a, dict) else a == b
            if not same:
                return False
    return True


@SETTINGS
@given(kwargs=KWARGS, seed=st.integers(0, 2**62), actions=ACTIONS, mode=st.sampled_from(list(AutoresetMode)))
def test_the_numpy_twin_steps_as_sync_vector_env_over_single_envs(kwargs, seed, actions, mode):
    ours = IntervalReproNumpyVecEnv(num_envs=K, autoreset_mode=mode, **kwargs)
    theirs = SyncVectorEnv([lambda: IntervalReproEnv(**kwargs) for _ in range(K)], autoreset_mode=mode)
    (o1, i1), (o2, i2) = ours.reset(seed=seed), theirs.reset(seed=seed)
    for row in actions:
        assert all(np.array_equal(o1[k], o2[k]) for k in o2) and _same_infos(i1, i2, K)
        o1, r1, te1, tr1, i1 = ours.step(np.array(row))
        o2, r2, te2, tr2, i2 = theirs.step(np.array(row))
        assert r1.dtype == r2.dtype and np.array_equal(r1, r2) and np.array_equal(te1, te2) and np.array_equal(tr1, tr2)
        assert all(np.array_equal(o1[k], o2[k]) for k in o2) and _same_infos(i1, i2, K)
        done = te1 | tr1
        if mode == AutoresetMode.DISABLED and done.any():
            (o1, i1), (o2, i2) = ours.reset(options={"reset_mask": done.copy()}), theirs.reset(options={"reset_mask": done.copy()})


def test_a_seeded_slot_is_independent_of_the_batch_size():
    small, large = IntervalReproVecEnv(num_envs=1, delay_range=(0, 5)), IntervalReproVecEnv(num_envs=64, delay_range=(0, 5))
    small.reset(seed=[40])
    large.reset(seed=list(range(64)))
    assert small.states()[0] == large.states()[40]


# --------------------------------------------------------------------------- misuse


def _make_kind(kind: str, **kwargs):
    # the class itself: gym.make would meet render_mode="human" with its HumanRendering wrapper (and pygame)
    return IntervalReproEnv(**kwargs) if kind == "single" else BATCHED[kind](num_envs=2, **kwargs)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"interval_range": (0, 5)}, "interval_range"),
        ({"interval_range": (6, 5)}, "interval_range"),
        ({"interval_range": (5.0, 12)}, "interval_range"),
        ({"interval_range": (5, 1001)}, "interval_range"),
        ({"delay_range": (-1, 2)}, "delay_range"),
        ({"delay_range": 3}, "delay_range"),
        ({"gain": 0}, "gain"),
        ({"gain": True}, "gain"),
        ({"gain": float("nan")}, "gain"),
        ({"gain": 11}, "gain"),
        ({"gain": "1"}, "gain"),
        ({"time_limit": 2.5}, "time_limit"),
        ({"reward": "sparse"}, "reward"),
        ({"timing_penalty": -0.1}, "timing_penalty"),
        ({"render_mode": "human"}, "render_mode"),
    ],
)
def test_bad_arguments_name_themselves(kind, kwargs, match):
    with pytest.raises(ValueError, match=match):
        _make_kind(kind, **kwargs)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "options, error, match",
    [
        ({"interval": 0}, ValueError, r"options\['interval'\]"),
        ({"interval": 1001}, ValueError, r"options\['interval'\]"),
        ({"interval": 5.0}, ValueError, r"options\['interval'\]"),
        ({"interval": True}, ValueError, r"options\['interval'\]"),
        ({"delay": -1}, ValueError, r"options\['delay'\]"),
        ({"delay": "2"}, ValueError, r"options\['delay'\]"),
        ({"instruction": 5}, ValueError, "unknown reset option"),
        (["interval"], TypeError, "options must be None or a dict"),
    ],
)
def test_bad_reset_options_name_the_option(kind, options, error, match):
    with pytest.raises(error, match=match):
        _make_kind(kind).reset(seed=0, options=options)


@pytest.mark.parametrize("kind", KINDS)
def test_stepping_before_reset_and_bad_actions_are_refused(kind):
    env = _make_kind(kind)
    with pytest.raises(RuntimeError, match=r"before reset\(\)"):
        env.step(0 if kind == "single" else [0, 0])
    env.reset(seed=0)
    for bad in (2, True, 1.0, -1):
        with pytest.raises(ValueError, match=r"action.*\[0, 1\]"):
            env.step(bad if kind == "single" else [bad, 0])
    if kind == "single":
        env.reset(seed=0, options={"interval": 1})
        env.step(GO)
        with pytest.raises(RuntimeError, match="finished episode"):
            env.step(WAIT)


@pytest.mark.parametrize("kind", BATCHED)
def test_batched_num_envs_and_reset_masks_are_checked(kind):
    with pytest.raises(ValueError, match="num_envs"):
        BATCHED[kind](num_envs=0)
    with pytest.raises(ValueError, match="reset_mask"):
        BATCHED[kind](num_envs=2).reset(seed=0, options={"reset_mask": np.array([True, False])})
    env = BATCHED[kind](num_envs=2)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"options\['interval'\]"):
        env.reset(options={"interval": [5, 6, 7]})


def test_config_round_trips_through_a_dict():
    cfg = irules.IntervalConfig.from_kwargs(interval_range=[3, 9], gain=1.5, delay_range=(1, 4))
    assert irules.IntervalConfig.from_dict(cfg.to_dict()) == cfg and cfg.to_dict()["interval_range"] == [3, 9]
    with pytest.raises(ValueError, match="unknown environment argument"):
        irules.IntervalConfig.from_dict({"size": 5})
