"""The batched twins in Gymnasium's vector conventions and wrappers (NumPy) and in Stable-Baselines3's VecEnv API."""

from __future__ import annotations

import subprocess
import sys

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, SyncVectorEnv
from gymnasium.wrappers import vector as vw
from gymnasium.wrappers.vector import NormalizeReward, RecordEpisodeStatistics

import nalu_rl  # noqa: F401  (registers the environment)
from nalu_rl.envs import ENV_ID, env_kwargs_from_preset
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
    a = TimedGridNumpyVecEnv(num_envs=6, autoreset_mode=AutoresetMode.SAME_STEP, **KWARGS)
    b = TimedGridVecEnv(num_envs=6, **KWARGS)
    oa, _ = a.reset(seed=11)
    ob, _ = b.reset(seed=11)
    rng = np.random.default_rng(1)
    for _ in range(40):
        assert np.array_equal(oa["image"], ob["image"].numpy()) and np.array_equal(oa["instruction"], ob["instruction"].numpy())
        actions = rng.integers(0, 5, 6)
        oa, ra, ta, _, _ = a.step(actions)
        ob, rb, tb, _, _ = b.step(actions)
        assert np.allclose(ra, rb.numpy()) and np.array_equal(ta, tb.numpy())


def test_make_vec_follows_gymnasiums_conventions_and_the_torch_twin_is_asked_for():
    envs = gym.make_vec(ENV_ID, num_envs=3, obs_mode="grid")
    assert isinstance(envs, TimedGridNumpyVecEnv) and envs.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP
    obs, _ = envs.reset(seed=0)
    _, reward, terminated, _, _ = envs.step(envs.action_space.sample())
    assert isinstance(obs["image"], np.ndarray) and reward.dtype == np.float64 and terminated.dtype == np.bool_
    torch_twin = gym.make_vec(ENV_ID, num_envs=3, obs_mode="grid", backend="torch", device="cpu")
    assert isinstance(torch_twin, TimedGridVecEnv) and torch_twin.metadata["autoreset_mode"] == AutoresetMode.SAME_STEP
    same_step = gym.make_vec(ENV_ID, num_envs=3, autoreset_mode=AutoresetMode.SAME_STEP)
    assert same_step.metadata["autoreset_mode"] == AutoresetMode.SAME_STEP
    with pytest.raises(ValueError, match="backend"):
        gym.make_vec(ENV_ID, num_envs=3, backend="jax")
    with pytest.raises(TypeError, match="device.*backend='torch'"):
        gym.make_vec(ENV_ID, num_envs=3, backend="numpy", device="cpu")
    # the specification's own call (SPEC.md §3): a device asks for the torch twin
    spec = gym.make_vec(ENV_ID, num_envs=3, vectorization_mode="vector_entry_point", device="cpu")
    assert isinstance(spec, TimedGridVecEnv)
    with pytest.raises(ValueError, match="autoreset_mode"):
        gym.make_vec(ENV_ID, num_envs=3, autoreset_mode="sometimes")


def _same_infos(ours: dict, theirs: dict) -> bool:
    """Equal where either says a key is valid (a key SyncVectorEnv leaves out is valid nowhere)."""
    for key in {k for k in (*ours, *theirs) if not k.startswith("_")}:
        mask = ours.get(f"_{key}", np.zeros(3, bool))
        if not np.array_equal(mask, theirs.get(f"_{key}", np.zeros(3, bool))):
            return False
        if isinstance(ours.get(key), dict):  # final_info: its own keys and masks
            if not _same_infos(ours[key], theirs[key]):
                return False
            continue
        for i in np.flatnonzero(mask):
            a, b = ours[key][i], theirs[key][i]
            same = a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a) if isinstance(a, dict) else a == b
            if not same:
                return False
    return True


@pytest.mark.parametrize("mode", list(AutoresetMode))
def test_the_numpy_twin_steps_as_sync_vector_env_does_in_every_autoreset_mode(mode):
    kwargs = {**KWARGS, "t_range": tuple(KWARGS["t_range"])}
    ours = TimedGridNumpyVecEnv(num_envs=3, autoreset_mode=mode, **kwargs)
    theirs = gym.make_vec(ENV_ID, num_envs=3, vectorization_mode="sync", vector_kwargs={"autoreset_mode": mode}, **kwargs)
    assert isinstance(theirs, SyncVectorEnv) and ours.metadata["autoreset_mode"] == theirs.metadata["autoreset_mode"]
    (o1, i1), (o2, i2) = ours.reset(seed=3), theirs.reset(seed=3)
    rng = np.random.default_rng(0)
    ends = 0
    for _ in range(90):
        assert all(np.array_equal(o1[k], o2[k]) for k in o2) and _same_infos(i1, i2)
        actions = rng.integers(0, 5, 3)
        o1, r1, te1, tr1, i1 = ours.step(actions)
        o2, r2, te2, tr2, i2 = theirs.step(actions)
        assert r1.dtype == r2.dtype and np.array_equal(r1, r2) and np.array_equal(te1, te2) and np.array_equal(tr1, tr2)
        done = te1 | tr1
        ends += done.sum()
        if mode == AutoresetMode.DISABLED and done.any():
            assert all(np.array_equal(o1[k], o2[k]) for k in o2) and _same_infos(i1, i2)
            with pytest.raises(RuntimeError, match="reset_mask"):
                ours.step(actions)
            o1, i1 = ours.reset(options={"reset_mask": done.copy()})
            o2, i2 = theirs.reset(options={"reset_mask": done.copy()})
    assert ends >= 6


def _image_alone(env):
    image = env.single_observation_space["image"]
    return vw.TransformObservation(
        env, lambda obs: obs["image"], spaces.Box(0, 255, (env.num_envs, *image.shape), np.uint8), image
    )


def _first_action_passes(action):
    return np.where(np.arange(len(action)) == 0, 4, action)


# Every vector wrapper Gymnasium 1.4 ships, on gym.make_vec's environment: the NumPy twin, next-step autoreset, a Dict
# observation of "image" and "instruction", Discrete(5) actions. Those that need a Box (flattened or image alone)
# get one from the wrappers before them. Not here, because they cannot apply:
#   ClipAction, RescaleAction: continuous (Box) actions only;
#   JaxToNumpy, JaxToTorch: for environments that compute in JAX;
#   ArrayConversion, NumpyToTorch: need array-api-compat, which neither Gymnasium's core nor this project installs;
#   ResizeObservation: needs OpenCV; RecordVideo: needs moviepy; HumanRendering: needs pygame and a display.
WRAPPERS = {
    "RecordEpisodeStatistics": ("grid", vw.RecordEpisodeStatistics),
    "NormalizeReward": ("grid", vw.NormalizeReward),
    "ClipReward": ("grid", lambda env: vw.ClipReward(env, -0.5, 0.5)),
    "TransformReward": ("grid", lambda env: vw.TransformReward(env, lambda r: 2 * r)),
    "VectorizeTransformReward": ("grid", lambda env: vw.VectorizeTransformReward(env, gym.wrappers.ClipReward, min_reward=0)),
    "TransformAction": ("grid", lambda env: vw.TransformAction(env, _first_action_passes)),
    "VectorizeTransformAction": (
        "grid", lambda env: vw.VectorizeTransformAction(env, gym.wrappers.TransformAction, func=lambda a: 4 - a, action_space=None),
    ),
    "DictInfoToList": ("grid", vw.DictInfoToList),
    "FilterObservation": ("grid", lambda env: vw.FilterObservation(env, ["image"])),
    "TransformObservation": ("pixels", _image_alone),
    "VectorizeTransformObservation": (
        "grid", lambda env: vw.VectorizeTransformObservation(env, gym.wrappers.FilterObservation, filter_keys=["instruction"]),
    ),
    "FlattenObservation": ("grid", vw.FlattenObservation),
    "NormalizeObservation": ("grid", lambda env: vw.NormalizeObservation(vw.FlattenObservation(env))),
    "DtypeObservation": ("grid", lambda env: vw.DtypeObservation(vw.FlattenObservation(env), np.float64)),
    "RescaleObservation": ("grid", lambda env: vw.RescaleObservation(vw.FlattenObservation(env), -1.0, 1.0)),
    "ReshapeObservation": ("grid", lambda env: vw.ReshapeObservation(vw.FlattenObservation(env), (1, 51))),
    "GrayscaleObservation": ("pixels", lambda env: vw.GrayscaleObservation(_image_alone(env), keep_dim=True)),
}  # fmt: skip


@pytest.mark.parametrize("name", WRAPPERS)
def test_every_applicable_gymnasium_vector_wrapper_runs_through_episode_ends(name):
    obs_mode, wrap = WRAPPERS[name]
    env = wrap(gym.make_vec(ENV_ID, num_envs=4, **{**KWARGS, "obs_mode": obs_mode}))
    obs, _ = env.reset(seed=0)
    assert env.observation_space.contains(obs) or name == "NormalizeObservation"  # normalised values leave the bounds
    ends, rng = 0, np.random.default_rng(0)
    for _ in range(60):
        obs, reward, terminated, truncated, infos = env.step(rng.integers(0, 5, 4))
        assert isinstance(reward, np.ndarray) and reward.shape == (4,) and terminated.dtype == np.bool_
        assert name == "NormalizeObservation" or env.observation_space.contains(obs)
        ends += int((terminated | truncated).sum())
    assert ends >= 8, ends
    env.close()


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


def test_the_sb3_adapter_is_a_public_class_and_sb3_stays_optional():
    pytest.importorskip("stable_baselines3")
    from stable_baselines3.common.vec_env import VecEnv

    lazy = (
        "import sys, nalu_rl, nalu_rl.envs, nalu_rl.baselines; assert 'stable_baselines3' not in sys.modules; "
        "from nalu_rl.baselines import TimedGridSB3VecEnv; assert 'stable_baselines3' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", lazy], check=True)
    from nalu_rl.baselines import TimedGridSB3VecEnv

    assert issubclass(TimedGridSB3VecEnv, VecEnv) and ":param num_envs:" in TimedGridSB3VecEnv.__doc__

    class Counting(TimedGridSB3VecEnv):  # a subclass, as a user extending the adapter writes one
        steps = 0

        def step_wait(self):
            self.steps += 1
            return super().step_wait()

    env = Counting(3, seed=0, obs_mode="grid")
    obs = env.reset()
    assert obs["image"].shape == (3, 2, 5, 5)
    ended = 0
    for _ in range(30):  # passing: every episode times out within T + 2N <= 22 steps
        obs, rewards, dones, infos = env.step(np.full(3, 4))
        ended += sum("terminal_observation" in info for info in infos)
    assert env.steps == 30 and ended >= 3


def test_recurrent_ppo_trains_through_the_adapter_and_saves_its_model(tmp_path):
    # a smoke test of the plumbing (learning is the job of tests/test_baseline.py's budgets, not of 512 frames)
    pytest.importorskip("sb3_contrib")
    from nalu_rl.baselines import train_recurrent_ppo

    run = train_recurrent_ppo(frames=512, run_dir=tmp_path / "rppo", progress=False,
                              overrides={"n_envs": 4, "n_steps": 64, "batch_size": 128, "n_epochs": 1})  # fmt: skip
    assert (run / "model.zip").is_file()
