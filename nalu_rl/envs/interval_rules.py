"""The rules of IntervalRepro (Ready-Set-Go), written once for the single and the batched environments.

As in :mod:`nalu_rl.envs.rules` (whose hash, array helpers and argument checks these rules reuse), every function is
array-generic: NumPy arrays for the single environment (batch size 1), torch tensors on any device for the batched
twin. Randomness is counter-based: the interval and the delay of an episode are hashes of (seed, episode number, draw
index), so an environment seeded ``s`` plays the same episodes alone or as slot ``i`` of a batch.

The clock of an episode: ``t = 0`` at reset; the "ready" cue is observed at ``t = D`` (the delay), the "set" cue at
``t = S = D + I`` (I the interval), and the action that brings the clock to ``t`` is "go" on time when
``t - S == K``, the target ``K = round(gain · I)``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import cache
from typing import Any

import numpy as np

from nalu_rl.envs import rules
from nalu_rl.envs.rules import REWARD_FAILURE, REWARD_SUCCESS, random_below, random_u32, xp_of

ACTION_NAMES = ("WAIT", "GO")
NUM_ACTIONS = len(ACTION_NAMES)
WAIT, GO = 0, 1
CUE_NAMES = ("none", "ready", "set")  # the one-hot flags of the observation's "cue", in this order
NUM_CUES = len(CUE_NAMES)
CUE_NONE, CUE_READY, CUE_SET = range(NUM_CUES)

# The defaults of every IntervalRepro environment (IntervalConfig, the single env and its twins).
INTERVAL_RANGE = (5, 12)  # TimedGrid's training range of T, so that the two tasks' extrapolation reads alike
GAIN = 1.0
DELAY_RANGE = (0, 0)  # no distractor steps: "ready" is the first observation
REWARD = "graded"
TIMING_PENALTY = rules.TIMING_PENALTY
MAX_INTERVAL = rules.MAX_INSTRUCTION  # reset(options={"interval": I}) takes I up to 1000
MAX_DELAY = 1000
MAX_GAIN = 10.0
MAX_ENVS = 1 << 22  # a batch's observations are 4 floats per environment

# Draw indices within one episode's start (one independent hash each).
DRAW_INTERVAL = 0
DRAW_DELAY = 1


@dataclass(frozen=True)
class IntervalConfig:
    """Validated parameters of IntervalRepro, shared by the single and the batched environments (their defaults' home)."""

    interval_range: tuple[int, int] = INTERVAL_RANGE
    gain: float = GAIN
    delay_range: tuple[int, int] = DELAY_RANGE
    time_limit: int | None = None
    reward: str = REWARD
    timing_penalty: float = TIMING_PENALTY

    @classmethod
    def from_kwargs(
        cls,
        interval_range: tuple[int, int] | list[int] = INTERVAL_RANGE,
        gain: float = GAIN,
        delay_range: tuple[int, int] | list[int] = DELAY_RANGE,
        time_limit: int | None = None,
        reward: str = REWARD,
        timing_penalty: float = TIMING_PENALTY,
    ) -> IntervalConfig:
        interval_range = rules.check_range("interval_range", interval_range, 1, MAX_INTERVAL)
        gain = rules.check_positive("gain", gain, MAX_GAIN)
        delay_range = rules.check_range("delay_range", delay_range, 0, MAX_DELAY)
        rules.check_time_limit(time_limit)
        if reward not in rules.REWARDS:
            raise ValueError(f"reward must be one of {rules.REWARDS}, got {reward!r}")
        timing_penalty = rules.check_positive("timing_penalty", timing_penalty)
        limit = None if time_limit is None else int(time_limit)
        return cls(interval_range, gain, delay_range, limit, reward, timing_penalty)

    @classmethod
    def from_dict(cls, table: dict[str, Any]) -> IntervalConfig:
        """A config from keyword arguments (a preset, a run's ``config.json["env"]``); ValueError for unknown keys."""
        return cls.from_kwargs(**rules.known_kwargs(table, KWARGS))

    def to_dict(self) -> dict[str, Any]:
        """The keyword arguments that rebuild this config, JSON-ready (ranges as lists)."""
        return {**self.kwargs(), "interval_range": list(self.interval_range), "delay_range": list(self.delay_range)}

    def kwargs(self) -> dict[str, Any]:
        """The keyword arguments of any IntervalRepro environment that rebuild this config."""
        return {k: getattr(self, k) for k in KWARGS}


KWARGS = tuple(f.name for f in fields(IntervalConfig))


def check_num_envs(num_envs: Any) -> int:
    """A batch size the machine can hold; ValueError naming ``num_envs`` otherwise."""
    if isinstance(num_envs, bool) or not isinstance(num_envs, (int, np.integer)) or not 1 <= num_envs <= MAX_ENVS:
        raise ValueError(f"num_envs must be an integer in [1, {MAX_ENVS:,}], got {num_envs!r}")
    return int(num_envs)


def check_option(options: dict[str, Any], name: str) -> int:
    """A fixed ``interval`` (1..1000) or ``delay`` (0..1000) from the single environment's ``reset(options=...)``."""
    lo, hi = OPTION_BOUNDS[name]
    value = options[name]
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not lo <= value <= hi:
        raise ValueError(f"options[{name!r}] must be an integer in [{lo}, {hi}], got {rules.describe(value)}")
    return int(value)


OPTION_BOUNDS = {"interval": (1, MAX_INTERVAL), "delay": (0, MAX_DELAY)}


# --------------------------------------------------------------------------- start states


def sample_interval(key, lo: int, hi: int):
    """The interval I, uniform over ``[lo, hi]``, of the episodes given by their :func:`rules.episode_key`."""
    return lo + random_below(random_u32(key, DRAW_INTERVAL), hi - lo + 1)


def sample_delay(key, lo: int, hi: int):
    """The distractor steps D before "ready", uniform over ``[lo, hi]``."""
    return lo + random_below(random_u32(key, DRAW_DELAY), hi - lo + 1)


@cache
def target_table(gain: float) -> np.ndarray:
    """``K = max(1, round(gain · I))`` for every I in 0..1000 (halves rounded up), int64, computed once in float64.

    A table, so that the single environment and the twins on any device (some without float64) get the same K.
    """
    return np.maximum(1, np.floor(gain * np.arange(MAX_INTERVAL + 1, dtype=np.float64) + 0.5)).astype(np.int64)


def episode_limit(set_time, target, time_limit: int | None):
    """The clock at which an episode without "go" is truncated: ``time_limit``, or S + 2·K when it is None.

    The default gives the agent twice the target after "set", as NeuroGym's ReadySetGo production period does.
    """
    return set_time + 2 * target if time_limit is None else set_time * 0 + time_limit


# --------------------------------------------------------------------------- dynamics


def cue(t, delay, set_time):
    """The cue observed at clock ``t``: :data:`CUE_READY` at t = D, :data:`CUE_SET` at t = S, else :data:`CUE_NONE`."""
    xp = xp_of(t)
    return xp.where(t == delay, t * 0 + CUE_READY, xp.where(t == set_time, t * 0 + CUE_SET, t * 0 + CUE_NONE))


def go_time(went, t, set_time):
    """Steps from "set" to "go" for an episode that ended at clock ``t``: ``t - S`` >= 1 after "set", 0 for a
    premature "go" (at or before the step that shows "set"), -1 if the agent never went."""
    xp = xp_of(t)
    return xp.where(went, xp.where(t > set_time, t - set_time, t * 0), t * 0 - 1)


def outcome(action, t, set_time, target, limit, cfg: IntervalConfig):
    """Reward, terminated, truncated and success after the action that brought the clock to ``t``.

    "go" ends the episode (terminated). A premature "go" (``t <= S``: chosen before the agent saw "set") gives -1
    under both rewards. After "set", ``reward="graded"`` gives max(-1, 1 - ``timing_penalty`` · |t - S - K|)
    (:func:`rules.graded_reward`, the grid task's), ``"exact"`` +1 on time and -1 otherwise. Not going by the limit
    truncates the episode: 0 under ``"graded"``, -1 under ``"exact"``. Every other step gives 0.
    """
    xp = xp_of(t)
    went = action == GO
    premature = went & (t <= set_time)
    produced = t - set_time
    success = went & ~premature & (produced == target)
    truncated = ~went & (t >= limit)
    zero = xp.zeros_like(t, dtype=xp.float32)
    failure = zero + REWARD_FAILURE
    if cfg.reward == "graded":
        after_set = xp.where(premature, failure, rules.graded_reward(produced, target, cfg.timing_penalty))
        reward = xp.where(went, after_set, zero)
    else:
        reward = xp.where(success, zero + REWARD_SUCCESS, xp.where(went | truncated, failure, zero))
    return reward, went, truncated, success
