"""The batched twin in Gymnasium's vector wrappers (NumPy mode) and in Stable-Baselines3's VecEnv API."""

from __future__ import annotations

import numpy as np
import pytest
from gymnasium.wrappers.vector import NormalizeReward, RecordEpisodeStatistics

from nalu_rl.envs import env_kwargs_from_preset
from nalu_rl.envs.batched import TimedGridVecEnv
from nalu_rl.envs.numpy_batched import TimedGridNumpyVecEnv

KWARGS = env_kwargs_from_preset("paper_grid")[1]


def test_gymnasium_vector_wrappers_run_on_the_numpy_twin():
    env = NormalizeReward(RecordEpisodeStatistics(TimedGridNumpyVecEnv(num_envs=8, **KWARGS)))
    obs, _ = env.reset(seed=0)
    assert isinstance(obs["image"], np.ndarray) and obs["image"].shape == (8, 2, 5, 5)
    lengths = []
    rng = np.random.default_rng(0)
    for _ in range(60):
        obs, reward, terminated, truncated, info = env.step(rng.integers(0, 5, 8))
        assert isinstance(reward, np.ndarray) and isinstance(terminated, np.ndarray)
        if "episode" in info:
            lengths += info["episode"]["l"][info["_episode"]].tolist()
    assert len(lengths) >= 8 and all(1 <= n <= 12 + 10 for n in lengths)  # T <= 12, limit T + 2N
    with pytest.raises(TypeError):  # the torch twin is what these wrappers cannot take
        wrapped = RecordEpisodeStatistics(TimedGridVecEnv(num_envs=8, **KWARGS))
        wrapped.reset(seed=0)
        for _ in range(30):
            wrapped.step(rng.integers(0, 5, 8))


def test_the_numpy_twin_plays_the_torch_twins_episodes():
    a, b = TimedGridNumpyVecEnv(num_envs=6, **KWARGS), TimedGridVecEnv(num_envs=6, **KWARGS)
    oa, _ = a.reset(seed=11)
    ob, _ = b.reset(seed=11)
    rng = np.random.default_rng(1)
    for _ in range(40):
        assert np.array_equal(oa["image"], ob["image"].numpy()) and np.array_equal(oa["instruction"], ob["instruction"].numpy())
        actions = rng.integers(0, 5, 6)
        oa, ra, ta, _, _ = a.step(actions)
        ob, rb, tb, _, _ = b.step(actions)
        assert np.allclose(ra, rb.numpy()) and np.array_equal(ta, tb.numpy())


def test_the_sb3_adapter_plays_what_dummy_vec_env_plays():
    pytest.importorskip("stable_baselines3")
    from stable_baselines3.common.env_util import make_vec_env

    from nalu_rl.baselines.vec_env import sb3_vec_env

    ours = sb3_vec_env(KWARGS, 4, seed=5)
    dummy = make_vec_env("nalu_rl/TimedGrid-v0", n_envs=4, env_kwargs={**KWARGS, "t_range": tuple(KWARGS["t_range"])}, seed=5)
    o1, o2 = ours.reset(), dummy.reset()
    rng = np.random.default_rng(2)
    ended = 0
    for _ in range(80):
        assert all(np.array_equal(o1[k], o2[k]) for k in o1)
        actions = rng.integers(0, 5, 4)
        o1, r1, d1, i1 = ours.step(actions)
        o2, r2, d2, i2 = dummy.step(actions)
        assert np.allclose(r1, r2) and np.array_equal(d1, d2)
        for i in np.flatnonzero(d1):
            ended += 1
            assert all(np.array_equal(i1[i]["terminal_observation"][k], i2[i]["terminal_observation"][k]) for k in o1)
            assert i1[i]["TimeLimit.truncated"] == i2[i].get("TimeLimit.truncated", False)
            assert i1[i]["success"] == i2[i]["success"] and "episode" in i1[i]  # VecMonitor's episode stats
    assert ended >= 10


def test_recurrent_ppo_learns_through_the_adapter(tmp_path):
    pytest.importorskip("sb3_contrib")
    from nalu_rl.baselines import train_recurrent_ppo

    run = train_recurrent_ppo(frames=512, run_dir=tmp_path / "rppo", progress=False,
                              overrides={"n_envs": 4, "n_steps": 64, "batch_size": 128, "n_epochs": 1})  # fmt: skip
    assert (run / "model.zip").is_file()
