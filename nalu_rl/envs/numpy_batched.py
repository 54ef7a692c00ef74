"""The batched twin in NumPy: arrays in, arrays out, the same rules and seeds, for Gymnasium's vector wrappers.

:class:`TimedGridNumpyVecEnv` steps a :class:`~nalu_rl.envs.batched.TimedGridVecEnv` on the CPU and hands back
NumPy arrays where the torch twin hands back tensors, so that Gymnasium's vector wrappers
(``RecordEpisodeStatistics``, ``NormalizeReward``, ...) and NumPy code accept it. Environment *i* of a batch seeded
*s* still plays the episodes of ``TimedGridEnv`` reset with ``seed=s + i``. Same-step autoreset, as the torch twin:
``infos["final_obs"]`` holds the last observation of the episodes that ended (valid where ``infos["_final_obs"]``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from gymnasium.vector import VectorEnv

from nalu_rl.envs.batched import TimedGridVecEnv


def _numpy(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.numpy()
    if isinstance(value, dict):
        return {k: _numpy(v) for k, v in value.items()}
    return value


class TimedGridNumpyVecEnv(VectorEnv):
    """K TimedGrid environments stepped at once, NumPy in and out; the kwargs are the torch twin's (on the CPU)."""

    metadata = TimedGridVecEnv.metadata

    def __init__(self, num_envs: int = 1, **kwargs: Any) -> None:
        if kwargs.get("device", "cpu") != "cpu":
            raise ValueError(f"device must be 'cpu' for NumPy arrays, got {kwargs['device']!r} (use TimedGridVecEnv on GPUs)")
        kwargs = {k: v for k, v in kwargs.items() if k != "device"}
        self.torch_env = TimedGridVecEnv(num_envs=num_envs, device="cpu", copy=True, **kwargs)
        self.num_envs = self.torch_env.num_envs
        self.cfg = self.torch_env.cfg
        self.render_mode = self.torch_env.render_mode
        self.single_observation_space = self.torch_env.single_observation_space
        self.observation_space = self.torch_env.observation_space
        self.single_action_space = self.torch_env.single_action_space
        self.action_space = self.torch_env.action_space

    def reset(self, *, seed: int | list[int] | None = None, options: dict[str, Any] | None = None):
        obs, infos = self.torch_env.reset(seed=seed, options=options)
        return _numpy(obs), _numpy(infos)

    def step(self, actions):
        obs, reward, terminated, truncated, infos = self.torch_env.step(actions)
        return _numpy(obs), reward.numpy().astype(np.float64), terminated.numpy(), truncated.numpy(), _numpy(infos)

    def render(self):
        return self.torch_env.render()

    def close_extras(self, **kwargs: Any) -> None:
        self.torch_env.close()
