"""The batched twin follows exactly the rules of the single environment, step for step.

Both are driven from the same start states (same per-environment seeds, so the same draws, or
start states fixed through ``options``) with the same hypothesis-generated action sequences,
through episode ends and autoresets; observations, rewards, terminated/truncated and infos are
compared at every step.
"""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nalu_rl.envs.batched import TimedGridVecEnv
from nalu_rl.envs.timed_grid import TimedGridEnv

K = 4
KWARGS = st.fixed_dictionaries(
    {
        "size": st.integers(2, 7),
        "t_range": st.tuples(st.integers(1, 8), st.integers(0, 8)).map(lambda p: (p[0], p[0] + p[1])),
        "obs_mode": st.sampled_from(["grid", "pixels"]),
        "time_limit": st.one_of(st.none(), st.integers(1, 20)),
        "placement": st.sampled_from(["reachable", "uniform"]),
        "reward": st.sampled_from(["exact", "graded"]),
        "timing_penalty": st.floats(0.01, 2.0),
    }
)


def assert_same_obs(single: dict, batched: dict, i: int, where: str) -> None:
    np.testing.assert_array_equal(single["image"], batched["image"][i].cpu().numpy(), err_msg=where)
    np.testing.assert_array_equal(single["instruction"], batched["instruction"][i].cpu().numpy(), err_msg=where)


def drive(kwargs: dict, seeds: list[int], actions: list[list[int]], options: dict | None) -> None:
    singles = [TimedGridEnv(**kwargs) for _ in seeds]
    vec = TimedGridVecEnv(num_envs=len(seeds), **kwargs)
    batched_obs, _ = vec.reset(seed=seeds, options=options)
    for i, env in enumerate(singles):
        single_options = None
        if options:
            single_options = {"instruction": options["instruction"][i], "agent": options["agent"][i], "target": options["target"][i]}
        obs, _ = env.reset(seed=seeds[i], options=single_options)
        assert_same_obs(obs, batched_obs, i, f"reset env {i}")
    for step, row in enumerate(actions):
        batched_obs, reward, terminated, truncated, infos = vec.step(torch.tensor(row))
        for i, env in enumerate(singles):
            where = f"step {step} env {i}"
            obs, r, term, trunc, info = env.step(row[i])
            assert (r, term, trunc) == (reward[i].item(), terminated[i].item(), truncated[i].item()), where
            assert info["t"] == infos["t"][i].item(), where
            done = term or trunc
            assert infos["_final_obs"][i].item() == done, where
            if done:
                for key in ("success", "arrival_time", "instruction"):
                    assert infos[f"_{key}"][i].item(), where
                    assert info[key] == infos[key][i].item(), (where, key)
                assert_same_obs(obs, infos["final_obs"], i, where)
                obs, _ = env.reset()  # same-step autoreset: the batch already began the next episode
            assert_same_obs(obs, batched_obs, i, where)


actions_strategy = st.lists(st.lists(st.integers(0, 4), min_size=K, max_size=K), min_size=1, max_size=60)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kwargs=KWARGS, seeds=st.lists(st.integers(0, 2**62), min_size=K, max_size=K), actions=actions_strategy)
def test_same_seeds_same_trajectories(kwargs, seeds, actions):
    drive(kwargs, seeds, actions, None)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kwargs=KWARGS, data=st.data(), actions=actions_strategy)
def test_fixed_start_states_same_trajectories(kwargs, data, actions):
    n = kwargs["size"]
    cell = st.tuples(st.integers(0, n - 1), st.integers(0, n - 1))
    pairs = data.draw(st.lists(st.tuples(cell, cell).filter(lambda p: p[0] != p[1]), min_size=K, max_size=K))
    options = {
        "instruction": data.draw(st.lists(st.integers(1, 30), min_size=K, max_size=K)),
        "agent": [p[0] for p in pairs],
        "target": [p[1] for p in pairs],
    }
    drive(kwargs, [0, 1, 2, 3], actions, options)


def test_large_grid_composed_observations_match():
    """Grids too large for the pair lookup table compose images per cell: same pictures."""
    rng = np.random.default_rng(0)
    for obs_mode, size in (("grid", 12), ("pixels", 9)):
        drive({"size": size, "obs_mode": obs_mode}, [5, 6, 7, 8], rng.integers(0, 5, (40, K)).tolist(), None)


def test_seeded_slot_independent_of_batch_size():
    small = TimedGridVecEnv(num_envs=1, obs_mode="grid")
    large = TimedGridVecEnv(num_envs=64, obs_mode="grid")
    small.reset(seed=[40])
    large.reset(seed=list(range(64)))
    assert small.states()[0] == large.states()[40]
