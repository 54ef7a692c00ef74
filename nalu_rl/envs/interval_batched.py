"""The batched, torch-native twin of IntervalRepro: K Ready-Set-Go environments as tensors on any device.

Created by ``gym.make_vec("nalu_rl/IntervalRepro-v0", num_envs=K, backend="torch", device=...)`` (without
``backend="torch"``, ``gym.make_vec`` gives the NumPy twin, :class:`~nalu_rl.envs.numpy_batched.IntervalReproNumpyVecEnv`).
It applies the rule functions of the single environment (:mod:`nalu_rl.envs.interval_rules`) and shares the torch
twins' machinery (:class:`~nalu_rl.envs.batched.TorchTwin`): same-step autoreset by default (``final_obs`` in the
infos), ``NEXT_STEP`` and ``DISABLED`` on request, per-environment seeds (environment i of a batch seeded s plays the
episodes of ``IntervalReproEnv`` reset with ``seed=s + i``), and infos as batch tensors with ``_key`` masks: ``t``
every step; ``success``, ``go_time``, ``interval`` and ``target`` where an episode ended.

Observations are four floats per environment and always fresh tensors (rows of ``final_obs`` whose mask is False
hold zeros): ``copy`` is taken for the torch twins' common signature and changes nothing.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from gymnasium.vector import AutoresetMode

from nalu_rl.envs import interval_rules as irules
from nalu_rl.envs import render as rendering
from nalu_rl.envs import rules
from nalu_rl.envs.batched import Obs, TorchTwin
from nalu_rl.envs.interval_repro import RESET_OPTIONS as SINGLE_RESET_OPTIONS
from nalu_rl.envs.interval_repro import observation_space

__all__ = ["IntervalReproVecEnv"]


class IntervalReproVecEnv(TorchTwin):
    """K IntervalRepro environments stepped at once as torch tensors (same-step autoreset by default).

    :param num_envs: how many environments the batch holds
    :param interval_range: as :class:`~nalu_rl.envs.interval_repro.IntervalReproEnv` takes it; so are ``gain``,
        ``delay_range``, ``time_limit``, ``reward`` and ``timing_penalty``
    :param render_mode: None, ``"rgb_array"`` (a (K, 24, 400, 3) array of strips) or ``"ansi"`` (K strings)
    :param device: where the tensors live (``"cpu"``, ``"cuda"``, ``"cuda:N"``, ``"auto"``)
    :param check_actions: whether ``step`` range-checks tensor and array actions (a device sync on GPUs)
    :param copy: taken for the torch twins' common signature (observations are always fresh tensors)
    :param autoreset_mode: ``AutoresetMode.SAME_STEP`` (the default), ``NEXT_STEP`` or ``DISABLED``, or their values
    """

    RESET_OPTIONS = (*SINGLE_RESET_OPTIONS, "reset_mask")
    NUM_ACTIONS = irules.NUM_ACTIONS

    def __init__(
        self,
        num_envs: int = 1,
        interval_range: tuple[int, int] = irules.INTERVAL_RANGE,
        gain: float = irules.GAIN,
        delay_range: tuple[int, int] = irules.DELAY_RANGE,
        time_limit: int | None = None,
        render_mode: str | None = None,
        device: str | torch.device = "cpu",
        check_actions: bool = True,
        copy: bool = True,
        reward: str = irules.REWARD,
        timing_penalty: float = irules.TIMING_PENALTY,
        autoreset_mode: AutoresetMode | str = AutoresetMode.SAME_STEP,
    ) -> None:
        self.cfg = irules.IntervalConfig.from_kwargs(interval_range, gain, delay_range, time_limit, reward, timing_penalty)
        num_envs = irules.check_num_envs(num_envs)
        self._setup(num_envs, render_mode, device, check_actions, copy, autoreset_mode, observation_space(self.cfg))
        self._targets = torch.as_tensor(irules.target_table(self.cfg.gain), device=self.device)
        self._eye = torch.eye(irules.NUM_CUES, dtype=torch.float32, device=self.device)
        self._gain = torch.full((num_envs, 1), self.cfg.gain, dtype=torch.float32, device=self.device)
        zeros = torch.zeros(num_envs, dtype=torch.int64, device=self.device)
        self._delay, self._interval, self._target, self._limit = (zeros.clone() for _ in range(4))
        self._go = zeros - 1

    # ------------------------------------------------------------------ the rules of IntervalRepro

    def _fixed_starts(self, options: dict[str, Any]) -> dict[str, torch.Tensor]:
        """``options`` may fix ``"interval"`` and ``"delay"``, each an int or one per environment."""
        fixed = {}
        for name in SINGLE_RESET_OPTIONS:
            value = self._option_per_env(options, name, *irules.OPTION_BOUNDS[name])
            if value is not None:
                fixed[name] = value
        return fixed

    def _start(self, index: torch.Tensor, interval=None, delay=None) -> None:
        """Begin the next episode of the environments in ``index``."""
        episode = self._episode[index]
        key = rules.episode_key(self._seed_key[index], episode)
        drawn_interval = irules.sample_interval(key, *self.cfg.interval_range)
        drawn_delay = irules.sample_delay(key, *self.cfg.delay_range)
        interval = drawn_interval if interval is None else interval[index]
        delay = drawn_delay if delay is None else delay[index]
        target = self._targets[interval]
        self._interval[index], self._delay[index], self._target[index] = interval, delay, target
        self._limit[index] = irules.episode_limit(delay + interval, target, self.cfg.time_limit)
        self._t[index] = 0
        self._go[index] = -1
        self._episode[index] = episode + 1

    def _advance(self, actions: torch.Tensor):
        self._t += 1
        reward, went, truncated, success = irules.outcome(
            actions, self._t, self._delay + self._interval, self._target, self._limit, self.cfg
        )
        self._go = torch.where(went, self._t, self._go)
        return reward, went, truncated, success

    def _end_infos(self, terminated: torch.Tensor) -> dict[str, torch.Tensor]:
        """``go_time`` (-1 where the agent never went, 0 where it went before "set"), ``interval`` and ``target``."""
        return {
            "go_time": irules.go_time(terminated, self._t, self._delay + self._interval),
            "interval": self._interval.clone(),
            "target": self._target.clone(),
        }

    def _observe(self) -> Obs:
        return {"cue": self._eye[irules.cue(self._t, self._delay, self._delay + self._interval)], "gain": self._gain.clone()}

    def _final_observation(self, index: torch.Tensor) -> Obs:
        """Observations of the environments in ``index``, which just finished an episode (zeros in the other rows)."""
        cue = torch.zeros((self.num_envs, irules.NUM_CUES), dtype=torch.float32, device=self.device)
        codes = irules.cue(self._t[index], self._delay[index], self._delay[index] + self._interval[index])
        cue.index_copy_(0, index, self._eye[codes])
        return {"cue": cue, "gain": self._gain.clone()}

    @staticmethod
    def _rgb_frame(state: rendering.IntervalState) -> np.ndarray:
        return rendering.interval_strip(state)

    @staticmethod
    def _ansi(state: rendering.IntervalState) -> str:
        return rendering.interval_ansi(state)

    def states(self) -> list[rendering.IntervalState]:
        """Each environment's (t, D, I, K, limit, go), for rendering and debugging."""
        cols = torch.stack([self._t, self._delay, self._interval, self._target, self._limit, self._go], 1).cpu().tolist()
        return [rendering.IntervalState(*row) for row in cols]
