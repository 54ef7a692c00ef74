"""Sizes without an upper bound and seeds of the wrong kind: refused at once, the same way by both environments."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import nalu_rl  # noqa: F401  (registers the environment)
from nalu_rl.cli import main
from nalu_rl.envs.batched import TimedGridVecEnv


@pytest.mark.parametrize("seed", [1.5, "7", True, -1, 2**64, np.float64(3.0)])
def test_both_environments_refuse_the_same_seeds(seed):
    single = gym.make("nalu_rl/TimedGrid-v0", obs_mode="grid")
    with pytest.raises(ValueError, match="seed must be an integer"):
        single.reset(seed=seed)
    batched = TimedGridVecEnv(num_envs=2, obs_mode="grid")
    with pytest.raises(ValueError, match="seed must be an integer"):
        batched.reset(seed=seed)
    with pytest.raises(ValueError, match="seed must be an integer"):
        batched.reset(seed=[0, seed])


def test_both_environments_take_the_same_good_seeds():
    single = gym.make("nalu_rl/TimedGrid-v0", obs_mode="grid")
    batched = TimedGridVecEnv(num_envs=2, obs_mode="grid")
    for seed in (0, np.int64(7), 2**62):
        single.reset(seed=seed)
        batched.reset(seed=[seed, 0])
    with pytest.raises(ValueError, match="room for 2 seeds"):
        batched.reset(seed=2**63 - 1)


@pytest.mark.parametrize("kwargs, message", [
    (dict(size=100), "size must be an integer in \\[2, 32\\]"),
    (dict(size=10**9), "size must be an integer in \\[2, 32\\]"),
    (dict(num_envs=10**9, obs_mode="grid"), "num_envs must be an integer in \\[1, 4,194,304\\]"),
    (dict(num_envs=1 << 19, obs_mode="pixels"), "num_envs must be an integer in \\[1, 262,144\\]"),
])  # fmt: skip
def test_sizes_that_no_machine_holds_are_refused_before_any_allocation(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TimedGridVecEnv(**kwargs)
    if "size" in kwargs:
        with pytest.raises(ValueError, match=message):
            gym.make("nalu_rl/TimedGrid-v0", **kwargs)


@pytest.mark.parametrize("argv, message", [
    (["--mode", "sync", "--envs-per-worker", "1000000"], "at most 65,536 environments in one batch on grid"),
    (["--mode", "sync", "--workers", "8", "--envs-per-worker", "16384"], "workers x envs_per_worker must be at most 65,536"),
    (["--env", "paper", "--mode", "async", "--envs-per-worker", "65536"], "envs_per_worker must be at most 4,096 environments in one batch on pixels"),
])  # fmt: skip
def test_train_refuses_batches_it_cannot_hold(tmp_path, capsys, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    assert main(["train", "--agent", "lstm", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err
    assert not (tmp_path / "runs").exists()
