"""The batched twin in NumPy, with Gymnasium's vector conventions: what ``gym.make_vec("nalu_rl/TimedGrid-v0")`` gives.

:class:`TimedGridNumpyVecEnv` steps a :class:`~nalu_rl.envs.batched.TimedGridVecEnv` on the CPU and hands back
NumPy arrays where the torch twin hands back tensors, so that Gymnasium's vector wrappers
(``RecordEpisodeStatistics``, ``NormalizeReward``, ``FlattenObservation``, ...), CleanRL-style loops and
Stable-Baselines3's adapter (:class:`nalu_rl.baselines.TimedGridSB3VecEnv`) accept it. Environment *i* of a batch
seeded *s* plays the episodes of ``TimedGridEnv`` reset with ``seed=s + i``, and each step returns what Gymnasium's
``SyncVectorEnv`` over ``TimedGridEnv`` copies returns in the same autoreset mode
(``tests/test_vector_apis.py`` checks it):

* ``autoreset_mode="NextStep"`` (the default, Gymnasium's): the step that ends an episode returns its last
  observation; the next step ignores that environment's action and returns the first observation of its next
  episode, with reward 0, ``terminated`` and ``truncated`` False and info ``t`` = 0.
* ``autoreset_mode="SameStep"``: the step that ends an episode returns the first observation of the next one; the
  last observation is ``infos["final_obs"][i]`` (an object array of observation dicts, None where no episode
  ended) and that step's info is ``infos["final_info"]`` (a dict with its own masks), as ``SyncVectorEnv`` has
  them; both keys are there only on steps that end an episode.
* ``autoreset_mode="Disabled"``: an environment whose episode ended stays ended until
  ``reset(options={"reset_mask": mask})`` restarts it; stepping it before raises ``RuntimeError``.

Infos hold ``t`` every step and ``success``, ``arrival_time``, ``instruction`` (with their ``_key`` masks) where an
episode ended. ``reset(options=...)`` takes what the torch twin takes (``instruction``, ``agent`` and ``target``,
``reset_mask``).

:class:`IntervalReproNumpyVecEnv` is the same for ``nalu_rl/IntervalRepro-v0`` (over its torch twin,
:class:`~nalu_rl.envs.interval_batched.IntervalReproVecEnv`), with that environment's infos and options;
:class:`NumpyTwin` is what both share.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from gymnasium.vector import AutoresetMode, VectorEnv

from nalu_rl.envs import interval_rules as irules
from nalu_rl.envs import rules
from nalu_rl.envs.batched import TimedGridVecEnv, TorchTwin
from nalu_rl.envs.interval_batched import IntervalReproVecEnv

__all__ = ["IntervalReproNumpyVecEnv", "NumpyTwin", "TimedGridNumpyVecEnv"]


def _numpy(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.numpy()
    if isinstance(value, dict):
        return {k: _numpy(v) for k, v in value.items()}
    return value


class NumpyTwin(VectorEnv):
    """A torch twin stepped on the CPU with NumPy in and out and Gymnasium's same-step infos: what every NumPy twin shares.

    A NumPy twin builds its torch twin (``device="cpu"``, ``copy=True``) and hands it to :meth:`_wrap`.
    """

    def _wrap(self, torch_env: TorchTwin) -> None:
        self.torch_env = torch_env
        self.autoreset_mode = torch_env.autoreset_mode
        self.metadata = {**self.metadata, "autoreset_mode": self.autoreset_mode}
        self.num_envs = torch_env.num_envs
        self.cfg = torch_env.cfg
        self.render_mode = torch_env.render_mode
        self.single_observation_space = torch_env.single_observation_space
        self.observation_space = torch_env.observation_space
        self.single_action_space = torch_env.single_action_space
        self.action_space = torch_env.action_space

    def reset(self, *, seed: int | Sequence[int] | None = None, options: dict[str, Any] | None = None):
        obs, infos = self.torch_env.reset(seed=seed, options=options)
        return _numpy(obs), _numpy(infos)

    def step(self, actions):
        obs, reward, terminated, truncated, infos = self.torch_env.step(actions)
        obs, infos = _numpy(obs), _numpy(infos)
        terminated, truncated = terminated.numpy(), truncated.numpy()
        if self.autoreset_mode == AutoresetMode.SAME_STEP:
            infos = self._same_step_infos(infos, terminated | truncated)
        return obs, reward.numpy().astype(np.float64), terminated, truncated, infos

    @staticmethod
    def _same_step_infos(infos: dict[str, Any], done: np.ndarray) -> dict[str, Any]:
        """The torch twin's same-step infos as ``SyncVectorEnv`` lays them out.

        The ended step's info moves to ``final_info``; the top level holds what a reset returns there (``t`` = 0), and
        ``final_obs`` becomes an object array of per-environment observations.
        """
        final = infos.pop("final_obs")
        del infos["_final_obs"]
        t, mask = infos.pop("t"), infos.pop("_t")
        out = {"t": np.where(done, 0, t), "_t": mask}
        if done.any():  # SyncVectorEnv adds these keys only on steps that end an episode
            final_obs = np.full(len(done), None, dtype=object)
            for i in np.flatnonzero(done):
                final_obs[i] = {key: value[i] for key, value in final.items()}
            out.update(
                final_obs=final_obs, _final_obs=done, final_info={"t": t, "_t": done, **infos}, _final_info=done
            )
        return out

    def render(self):
        return self.torch_env.render()

    def close_extras(self, **kwargs: Any) -> None:
        self.torch_env.close()


class TimedGridNumpyVecEnv(NumpyTwin):
    """K TimedGrid environments stepped at once on the CPU, NumPy in and out (next-step autoreset by default).

    :param num_envs: how many environments the batch holds
    :param size: grid side N, as :class:`~nalu_rl.envs.timed_grid.TimedGridEnv` takes it; so are ``t_range``,
        ``obs_mode``, ``time_limit``, ``placement``, ``reward`` and ``timing_penalty``
    :param render_mode: None, ``"rgb_array"`` (a (K, H, W, 3) array of frames) or ``"ansi"`` (K strings)
    :param autoreset_mode: ``AutoresetMode.NEXT_STEP`` (or ``"NextStep"``, the default), ``SAME_STEP`` or
        ``DISABLED``; see the module docstring
    """

    metadata = {**TimedGridVecEnv.metadata, "autoreset_mode": AutoresetMode.NEXT_STEP}

    def __init__(
        self,
        num_envs: int = 1,
        size: int = rules.SIZE,
        t_range: tuple[int, int] = rules.T_RANGE,
        obs_mode: str = rules.OBS_MODE,
        time_limit: int | None = None,
        render_mode: str | None = None,
        placement: str = rules.PLACEMENT,
        reward: str = rules.REWARD,
        timing_penalty: float = rules.TIMING_PENALTY,
        autoreset_mode: AutoresetMode | str = AutoresetMode.NEXT_STEP,
    ) -> None:
        self._wrap(TimedGridVecEnv(
            num_envs, size, t_range, obs_mode, time_limit, render_mode, device="cpu", copy=True, placement=placement,
            reward=reward, timing_penalty=timing_penalty, autoreset_mode=autoreset_mode,
        ))  # fmt: skip


class IntervalReproNumpyVecEnv(NumpyTwin):
    """K IntervalRepro environments stepped at once on the CPU, NumPy in and out (next-step autoreset by default).

    What ``gym.make_vec("nalu_rl/IntervalRepro-v0", num_envs=K)`` gives; it steps as ``SyncVectorEnv`` over
    ``IntervalReproEnv`` copies does, with the conventions of the module docstring. Infos hold ``t`` every step and
    ``success``, ``go_time``, ``interval``, ``target`` where an episode ended; ``reset(options=...)`` takes
    ``interval``, ``delay`` (an int or one per environment) and ``reset_mask``.

    :param num_envs: how many environments the batch holds
    :param interval_range: as :class:`~nalu_rl.envs.interval_repro.IntervalReproEnv` takes it; so are ``gain``,
        ``delay_range``, ``time_limit``, ``reward`` and ``timing_penalty``
    :param render_mode: None, ``"rgb_array"`` (a (K, 24, 400, 3) array of strips) or ``"ansi"`` (K strings)
    :param autoreset_mode: ``AutoresetMode.NEXT_STEP`` (or ``"NextStep"``, the default), ``SAME_STEP`` or
        ``DISABLED``
    """

    metadata = {**IntervalReproVecEnv.metadata, "autoreset_mode": AutoresetMode.NEXT_STEP}

    def __init__(
        self,
        num_envs: int = 1,
        interval_range: tuple[int, int] = irules.INTERVAL_RANGE,
        gain: float = irules.GAIN,
        delay_range: tuple[int, int] = irules.DELAY_RANGE,
        time_limit: int | None = None,
        render_mode: str | None = None,
        reward: str = irules.REWARD,
        timing_penalty: float = irules.TIMING_PENALTY,
        autoreset_mode: AutoresetMode | str = AutoresetMode.NEXT_STEP,
    ) -> None:
        self._wrap(IntervalReproVecEnv(
            num_envs, interval_range, gain, delay_range, time_limit, render_mode, device="cpu", copy=True,
            reward=reward, timing_penalty=timing_penalty, autoreset_mode=autoreset_mode,
        ))  # fmt: skip
