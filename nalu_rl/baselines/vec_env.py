"""The batched twin as a Stable-Baselines3 ``VecEnv``: the peer steps one batch, not n Python copies of the env.

:class:`TimedGridSB3VecEnv` wraps :class:`~nalu_rl.envs.numpy_batched.TimedGridNumpyVecEnv` in SB3's VecEnv API:
``reset()`` returns the observations, ``step_wait()`` ``(obs, rewards, dones, infos)`` with one info dict per
environment — at an episode's end ``terminal_observation``, ``TimeLimit.truncated``, ``is_success`` (SB3's success rate), and our ``success``,
``arrival_time`` and ``instruction``. Environment i is seeded ``seed + i`` at the first reset, as ``DummyVecEnv``
seeds its copies, so both play the same episodes for the same actions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from nalu_rl.envs.numpy_batched import TimedGridNumpyVecEnv


def sb3_vec_env(env_kwargs: dict[str, Any], n_envs: int, seed: int | None):
    """A ``VecEnv`` of ``n_envs`` environments seeded ``seed + i``, wrapped in SB3's ``VecMonitor`` (episode stats)."""
    from stable_baselines3.common.vec_env import VecEnv, VecMonitor

    class TimedGridSB3VecEnv(VecEnv):
        def __init__(self) -> None:
            self.venv = TimedGridNumpyVecEnv(num_envs=n_envs, **env_kwargs)
            super().__init__(n_envs, self.venv.single_observation_space, self.venv.single_action_space)
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
                infos[i] = {
                    "terminal_observation": {key: value[i] for key, value in info["final_obs"].items()},
                    "TimeLimit.truncated": bool(truncated[i] and not terminated[i]),
                    "success": bool(info["success"][i]),
                    "is_success": bool(info["success"][i]),  # SB3 logs rollout/success_rate from it
                    "arrival_time": int(info["arrival_time"][i]),
                    "instruction": int(info["instruction"][i]),
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

    return VecMonitor(TimedGridSB3VecEnv())
