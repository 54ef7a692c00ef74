"""The batched twin as a Stable-Baselines3 ``VecEnv``: the peer steps one batch, not n Python copies of the env.

:class:`TimedGridSB3VecEnv` wraps :class:`~nalu_rl.envs.numpy_batched.TimedGridNumpyVecEnv` (same-step autoreset,
which is SB3's) in SB3's VecEnv API. This module imports Stable-Baselines3; :mod:`nalu_rl.baselines` imports it only
when the class is asked for, so that SB3 stays an optional dependency.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from gymnasium.vector import AutoresetMode
from stable_baselines3.common.vec_env import VecEnv, VecMonitor

from nalu_rl.envs.numpy_batched import TimedGridNumpyVecEnv

__all__ = ["TimedGridSB3VecEnv", "sb3_vec_env"]


class TimedGridSB3VecEnv(VecEnv):
    """``num_envs`` TimedGrid environments as one Stable-Baselines3 ``VecEnv``, stepped as a single NumPy batch.

    ``reset()`` returns the observations and ``step_wait()`` ``(obs, rewards, dones, infos)`` with one info dict per
    environment: at an episode's end ``terminal_observation``, ``TimeLimit.truncated``, ``is_success`` (what SB3 logs
    as its success rate), and the environment's ``success``, ``arrival_time`` and ``instruction``. Environment i is
    seeded ``seed + i`` at the first reset, as ``DummyVecEnv`` seeds its copies, so both play the same episodes for
    the same actions. There are no per-environment copies: ``env_method`` raises ``NotImplementedError``, and
    ``get_attr`` / ``set_attr`` reach the one batched environment.

    :param num_envs: how many environments the batch holds
    :param seed: the seed of environment 0 at the first reset (environment i gets ``seed + i``); None: fresh entropy
    :param env_kwargs: the environment's arguments (``size``, ``obs_mode``, ``reward``, ...), as ``gym.make`` takes them
    """

    def __init__(self, num_envs: int, seed: int | None = None, **env_kwargs: Any) -> None:
        self.venv = TimedGridNumpyVecEnv(num_envs, autoreset_mode=AutoresetMode.SAME_STEP, **env_kwargs)
        super().__init__(self.venv.num_envs, self.venv.single_observation_space, self.venv.single_action_space)
        self.render_mode = None
        self._actions: np.ndarray | None = None
        if seed is not None:
            self.seed(seed)

    def reset(self):
        seeds = self._seeds
        first = None if any(s is None for s in seeds) else [int(s) for s in seeds]
        obs, _ = self.venv.reset(seed=first)
        self._reset_seeds()
        return obs

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = np.asarray(actions).reshape(self.num_envs).astype(np.int64)

    def step_wait(self):
        obs, rewards, terminated, truncated, info = self.venv.step(self._actions)
        dones = terminated | truncated
        infos: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        for i in np.flatnonzero(dones):
            final = info["final_info"]
            infos[i] = {
                "terminal_observation": info["final_obs"][i],
                "TimeLimit.truncated": bool(truncated[i] and not terminated[i]),
                "success": bool(final["success"][i]),
                "is_success": bool(final["success"][i]),  # SB3 logs rollout/success_rate from it
                "arrival_time": int(final["arrival_time"][i]),
                "instruction": int(final["instruction"][i]),
            }
        return obs, rewards.astype(np.float32), dones, infos

    def close(self) -> None:
        self.venv.close()

    def get_attr(self, attr_name: str, indices=None) -> list[Any]:
        return [getattr(self.venv, attr_name)] * len(self._indices(indices))

    def set_attr(self, attr_name: str, value: Any, indices=None) -> None:
        setattr(self.venv, attr_name, value)

    def env_method(self, method_name: str, *method_args, indices=None, **method_kwargs) -> list[Any]:
        raise NotImplementedError(f"the batched twin steps every environment at once; it has no per-env {method_name}()")

    def env_is_wrapped(self, wrapper_class, indices=None) -> list[bool]:
        return [False] * len(self._indices(indices))

    def _indices(self, indices) -> Sequence[int]:
        if indices is None:
            return range(self.num_envs)
        return [indices] if isinstance(indices, int) else list(indices)


def sb3_vec_env(env_kwargs: dict[str, Any], n_envs: int, seed: int | None) -> VecMonitor:
    """A :class:`TimedGridSB3VecEnv` of ``n_envs`` environments seeded ``seed + i``, in SB3's ``VecMonitor`` (episode stats)."""
    return VecMonitor(TimedGridSB3VecEnv(n_envs, seed, **env_kwargs))
