"""The rules of TimedGrid, written once for both the single and the batched environment.

Every function here is array-generic: it takes NumPy arrays (the single environment, with
batch size 1) or torch tensors (the batched twin, any device) and uses only operations that
both libraries spell the same way (``where``, ``zeros_like``, ``&``, ``*``, ``>>``...). The two
environments differ only in how they store state and draw observations into buffers.

Randomness is counter-based: every random draw is a hash of (seed, episode number, draw index),
so an environment seeded ``s`` produces the same episodes whether it is a single Gymnasium
environment or slot ``i`` of a batch of any size on any device.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from functools import cache
from typing import Any

import numpy as np
import torch
from gymnasium.vector import AutoresetMode

from nalu_rl.common.checks import MAX_INSTRUCTION, check_int

# Actions: 0 UP (row - 1), 1 DOWN (row + 1), 2 LEFT (col - 1), 3 RIGHT (col + 1), 4 PASS.
ACTION_NAMES = ("UP", "DOWN", "LEFT", "RIGHT", "PASS")
NUM_ACTIONS = len(ACTION_NAMES)
ACTION_DROW = (-1, 1, 0, 0, 0)
ACTION_DCOL = (0, 0, -1, 1, 0)

REWARD_SUCCESS = 1.0
REWARD_FAILURE = -1.0
PLACEMENTS = ("reachable", "uniform")
REWARDS = ("exact", "graded")
TIMING_PENALTY = 0.15  # graded reward lost per step of earliness or lateness (the paper's Fig. 5)
# The defaults of every environment (Config, TimedGridEnv, TimedGridVecEnv): the strict protocol on pixels.
SIZE = 5
T_RANGE = (5, 12)  # the paper's training range of instructions
OBS_MODE = "pixels"
PLACEMENT = "reachable"
REWARD = "exact"

IMAGE_SIZE = 56  # pixels per side, as in the paper
# Upper bounds of what one machine can hold: the start-cell tables grow as N^4 (size 32: 1M pairs, built in a
# second), a batch's observations as num_envs x (2 N^2 floats or 56 x 56 x 3 bytes).
MAX_SIZE = 32
MAX_ENVS = {"grid": 1 << 22, "pixels": 1 << 18}  # 2^22 grids of 5 x 5 (0.8 GB); 2^18 frames (2.5 GB)
BACKGROUND = (0, 0, 0)
AGENT_COLOR = (128, 128, 128)
TARGET_COLOR = (255, 0, 0)
OBS_MODES = ("pixels", "grid")

_MASK32 = 0xFFFFFFFF
# Draw indices within one episode's start (one independent hash each).
DRAW_INSTRUCTION = 0
DRAW_PLACEMENT = 1


def xp_of(x: Any):
    """The array module (torch or numpy) that ``x`` belongs to."""
    return torch if isinstance(x, torch.Tensor) else np


# --------------------------------------------------------------------------- validation


@dataclass(frozen=True)
class Config:
    """Validated environment parameters shared by the single and the batched environment.

    The one home of the environment's defaults: both environments, the presets and the run
    folders' ``config.json`` (:meth:`to_dict` / :meth:`from_dict`) go through it.
    """

    size: int = SIZE
    t_range: tuple[int, int] = T_RANGE
    obs_mode: str = OBS_MODE
    time_limit: int | None = None
    placement: str = PLACEMENT
    reward: str = REWARD
    timing_penalty: float = TIMING_PENALTY

    @classmethod
    def from_kwargs(
        cls,
        size: int = SIZE,
        t_range: tuple[int, int] | list[int] = T_RANGE,
        obs_mode: str = OBS_MODE,
        time_limit: int | None = None,
        placement: str = PLACEMENT,
        reward: str = REWARD,
        timing_penalty: float = TIMING_PENALTY,
    ) -> Config:
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or not 2 <= size <= MAX_SIZE:
            raise ValueError(f"size must be an integer in [2, {MAX_SIZE}], got {size!r}")
        size = int(size)
        lo, hi = check_range("t_range", t_range, 1, MAX_INSTRUCTION)
        if obs_mode not in OBS_MODES:
            raise ValueError(f"obs_mode must be one of {OBS_MODES}, got {obs_mode!r}")
        if obs_mode == "pixels" and size > IMAGE_SIZE:
            raise ValueError(f"size must be <= {IMAGE_SIZE} in 'pixels' mode (one pixel per cell at least), got {size}")
        check_time_limit(time_limit)
        if placement not in PLACEMENTS:
            raise ValueError(f"placement must be one of {PLACEMENTS}, got {placement!r}")
        if reward not in REWARDS:
            raise ValueError(f"reward must be one of {REWARDS}, got {reward!r}")
        timing_penalty = check_positive("timing_penalty", timing_penalty)
        limit = None if time_limit is None else int(time_limit)
        return cls(size, (lo, hi), obs_mode, limit, placement, reward, timing_penalty)

    @classmethod
    def from_dict(cls, table: dict[str, Any]) -> Config:
        """A config from keyword arguments (a preset, a run's ``config.json["env"]``); ValueError for unknown keys."""
        return cls.from_kwargs(**known_kwargs(table, KWARGS))

    def to_dict(self) -> dict[str, Any]:
        """The keyword arguments that rebuild this config, JSON-ready (``t_range`` as a list)."""
        return {**self.kwargs(), "t_range": list(self.t_range)}

    def kwargs(self) -> dict[str, Any]:
        """The keyword arguments of either environment that rebuild this config (``t_range`` as a tuple)."""
        return {k: getattr(self, k) for k in KWARGS}


KWARGS = tuple(f.name for f in fields(Config))


def check_range(name: str, value: Any, lo: int, hi: int) -> tuple[int, int]:
    """An inclusive range argument (``t_range``, ...) as ``(a, b)``: two integers with lo <= a <= b <= hi; ValueError naming it."""
    try:
        a, b = (int(v) for v in value)
        ok = all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value)
    except (TypeError, ValueError):
        ok = False
    if not ok or not lo <= a <= b <= hi:
        raise ValueError(f"{name} must be two integers (lo, hi) with {lo} <= lo <= hi <= {hi}, got {value!r}")
    return a, b


def check_time_limit(time_limit: Any) -> None:
    """Refuse a ``time_limit`` that is neither None nor an integer >= 1 (ValueError naming it)."""
    if time_limit is not None and (
        isinstance(time_limit, bool) or not isinstance(time_limit, (int, np.integer)) or time_limit < 1
    ):
        raise ValueError(f"time_limit must be None or an integer >= 1, got {time_limit!r}")


def known_kwargs(table: Mapping[str, Any], allowed: Sequence[str]) -> Mapping[str, Any]:
    """``table`` when it names environment arguments of ``allowed`` alone; ValueError naming the unknown ones."""
    unknown = set(table) - set(allowed)
    if unknown:
        raise ValueError(f"unknown environment argument(s) {sorted(unknown)}; allowed: {', '.join(allowed)}")
    return table


def check_positive(name: str, value: Any, hi: float = float("inf")) -> float:
    """A real-number argument (``timing_penalty``, ...) as a float: finite, > 0 and <= ``hi``; ValueError naming it."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float, np.integer, np.floating))
        or not 0 < value < float("inf")
        or value > hi
    ):
        bound = "a finite number > 0" if hi == float("inf") else f"a number in (0, {hi:g}]"
        raise ValueError(f"{name} must be {bound}, got {value!r}")
    return float(value)


def check_render_mode(render_mode: Any, allowed: Sequence[str]) -> str | None:
    """``render_mode`` if it is None or one of ``allowed`` (an environment's ``metadata["render_modes"]``); ValueError otherwise."""
    if render_mode is not None and (not isinstance(render_mode, str) or render_mode not in allowed):
        raise ValueError(f"render_mode must be None or one of {list(allowed)}, got {render_mode!r}")
    return render_mode


def check_autoreset_mode(mode: Any, allowed: Sequence[AutoresetMode]) -> AutoresetMode:
    """``mode`` (an :class:`AutoresetMode` or its value, such as ``"NextStep"``) if ``allowed``; ValueError otherwise."""
    try:
        mode = AutoresetMode(mode)
    except (ValueError, TypeError):
        mode = None
    if mode not in allowed:
        names = ", ".join(f"{m.value!r}" for m in allowed)
        raise ValueError(f"autoreset_mode must be an AutoresetMode or one of {names}, got {mode!r}")
    return mode


def check_options(options: Any, allowed: Sequence[str]) -> dict[str, Any]:
    """``reset``'s ``options`` as a dict: None or a mapping whose keys are all ``allowed``."""
    if options is None:
        return {}
    if not isinstance(options, Mapping):
        raise TypeError(f"options must be None or a dict, got {type(options).__name__}")
    unknown = set(options) - set(allowed)
    if unknown:
        listed = ", ".join(repr(k) for k in allowed)
        raise ValueError(f"unknown reset option(s) {sorted(map(str, unknown))}; allowed: {listed}")
    if ("agent" in options) != ("target" in options):
        raise ValueError("options 'agent' and 'target' must be given together")
    return dict(options)


def check_can_step(started: bool, ended: bool) -> None:
    """Refuse a step before the first ``reset`` or after an episode ended and was not reset."""
    if not started:
        raise RuntimeError("step() called before reset(); call reset() first")
    if ended:
        raise RuntimeError("step() called on a finished episode; call reset() first")


def is_action(action: Any, num_actions: int = NUM_ACTIONS) -> bool:
    """Whether ``action`` is one action (what ``Discrete(num_actions).contains`` takes, bools excepted)."""
    if isinstance(action, (bool, np.bool_)):  # Discrete.contains takes True as 1; a bool is no move
        return False
    if isinstance(action, np.ndarray):
        return action.shape == () and np.issubdtype(action.dtype, np.integer) and 0 <= action < num_actions
    return isinstance(action, (int, np.integer)) and 0 <= action < num_actions


def check_action(action: Any, num_actions: int = NUM_ACTIONS) -> int:
    """One action as an int; ValueError naming ``action`` otherwise."""
    if not is_action(action, num_actions):
        raise ValueError(f"action must be an integer in [0, {num_actions - 1}], got {action!r}")
    return int(action)


def option_ints(options: dict[str, Any], name: str, lo: int, hi: int, shapes: Sequence[tuple[int, ...]], what: str):
    """``options[name]`` for the batched twin, as an int64 tensor (kept on its device) or array of one of ``shapes``.

    Integers only (Python, NumPy or torch; no bools, floats or strings), each in ``[lo, hi]``;
    ValueError naming the option, with ``what`` it must be, otherwise.
    """
    value = options[name]
    problem = f"options[{name!r}] must be {what} in [{lo}, {hi}], got {describe(value)}"
    if isinstance(value, torch.Tensor):
        if value.dtype == torch.bool or value.is_floating_point() or value.is_complex():
            raise ValueError(problem)
        ints = value.long()
    else:
        try:  # sequences item by item (np.asarray would take True as 1 and "5" as text), arrays by their dtype
            array = value if isinstance(value, np.ndarray) else np.asarray(value, dtype=object)
        except (TypeError, ValueError):  # ragged nesting
            raise ValueError(problem) from None
        if array.dtype == object:
            items = array.ravel().tolist()
            if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and lo <= v <= hi for v in items):
                raise ValueError(problem)
            array = np.array([int(v) for v in items], dtype=np.int64).reshape(array.shape)
        elif not np.issubdtype(array.dtype, np.integer):
            raise ValueError(problem)
        ints = array.astype(np.int64)  # out-of-range uint64 values wrap negative and are refused below
    if tuple(ints.shape) not in shapes or bool(((ints < lo) | (ints > hi)).any()):
        raise ValueError(problem)
    return ints


def check_reset_mask(options: dict[str, Any], num_envs: int):
    """``options["reset_mask"]`` as a (num_envs,) bool tensor or array; ValueError naming it otherwise."""
    value = options["reset_mask"]
    if isinstance(value, torch.Tensor):
        ok = value.dtype == torch.bool
    else:
        value = np.asarray(value) if isinstance(value, (np.ndarray, Sequence)) and not isinstance(value, str) else value
        ok = isinstance(value, np.ndarray) and value.dtype == np.bool_
    if not ok or tuple(value.shape) != (num_envs,):
        raise ValueError(f"options['reset_mask'] must be {num_envs} booleans, got {describe(value)}")
    return value


def describe(value: Any) -> str:
    """``value`` for an error message: an array's type, dtype and shape, or a short repr."""
    if isinstance(value, (torch.Tensor, np.ndarray)) and value.ndim:
        return f"a {type(value).__name__} of dtype {value.dtype} and shape {tuple(value.shape)}"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def check_instruction(value: Any) -> int:
    """Validate a fixed instruction from ``reset(options={"instruction": k})``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 1 <= value <= MAX_INSTRUCTION:
        raise ValueError(f"options['instruction'] must be an integer in [1, {MAX_INSTRUCTION}], got {value!r}")
    return int(value)


def check_seed(seed: Any) -> int:
    """A seed both environments take: an integer (not a bool) in [0, 2^63 - 1]; ValueError naming ``seed`` otherwise."""
    return check_int("seed", seed, limit="env_seed")


def check_num_envs(num_envs: Any, obs_mode: str) -> int:
    """A batch size the machine can hold for ``obs_mode``; ValueError naming ``num_envs`` otherwise."""
    hi = MAX_ENVS[obs_mode]
    if isinstance(num_envs, bool) or not isinstance(num_envs, (int, np.integer)) or not 1 <= num_envs <= hi:
        raise ValueError(f"num_envs must be an integer in [1, {hi:,}] with {obs_mode!r} observations, got {num_envs!r}")
    return int(num_envs)


def check_cell(name: str, value: Any, size: int) -> tuple[int, int]:
    """Validate a fixed (row, col) from ``reset(options={"agent": ..., "target": ...})``."""
    try:
        row, col = value
        ok = all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in (row, col))
    except (TypeError, ValueError):
        ok = False
    if not ok or not (0 <= row < size and 0 <= col < size):
        raise ValueError(f"options[{name!r}] must be a (row, col) pair of integers in [0, {size - 1}], got {value!r}")
    return int(row), int(col)


# --------------------------------------------------------------------------- randomness


def _mix32(x):
    """Wellons' 'lowbias32' integer hash on values in [0, 2**32) (int64 or uint64 arrays)."""
    x = x & _MASK32
    x = x ^ (x >> 16)
    x = (x * 0x7FEB352D) & _MASK32
    x = x ^ (x >> 15)
    x = (x * 0x846CA68B) & _MASK32
    return x ^ (x >> 16)


def seed_key(seed):
    """The part of every draw's hash that depends on the seed alone (up to 63 bits).

    Environments compute it once per seed, so starting an episode costs three hash rounds, not eight.
    """
    h = _mix32(seed & _MASK32)
    return _mix32(h ^ ((seed >> 32) & 0x7FFFFFFF))


def episode_key(key, episode):
    """The hash shared by an episode's draws, from :func:`seed_key` and the episode number."""
    return _mix32(key ^ (episode & _MASK32))


def random_u32(key, draw: int):
    """A uniform 32-bit integer per element from an :func:`episode_key` and a draw index."""
    return _mix32(key + draw)


def random_below(u32, n):
    """Map uniform 32-bit integers to [0, n) (bias below n / 2**32)."""
    return (u32 * n) >> 32


# --------------------------------------------------------------------------- start states


@cache
def placement_table(size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All ordered (agent, target) cell pairs sorted by Manhattan distance.

    Returns ``(agent_cells, target_cells, count_within)`` where cells are flat indices
    ``row * size + col`` and ``count_within[d]`` is the number of pairs at distance 1..d, so
    the pairs with ``1 <= distance <= T`` are exactly the first ``count_within[min(T, 2N-2)]``.
    """
    cells = np.arange(size * size)
    a, t = np.meshgrid(cells, cells, indexing="ij")
    a, t = a.ravel(), t.ravel()
    dist = np.abs(a // size - t // size) + np.abs(a % size - t % size)
    keep = dist > 0
    a, t, dist = a[keep], t[keep], dist[keep]
    order = np.argsort(dist, kind="stable")
    a, t, dist = a[order], t[order], dist[order]
    count_within = np.searchsorted(dist, np.arange(2 * size - 1), side="right")
    return a.astype(np.int64), t.astype(np.int64), count_within.astype(np.int64)


def sample_instruction(key, t_lo: int, t_hi: int):
    """Draw the instruction T uniformly from ``[t_lo, t_hi]`` for the episodes given by their :func:`episode_key`."""
    return t_lo + random_below(random_u32(key, DRAW_INSTRUCTION), t_hi - t_lo + 1)


def sample_placement(key, instruction, size: int, tables=None, placement: str = "reachable"):
    """Draw (agent cell, target cell) uniformly over distinct pairs at distance 1 <= d <= T.

    With ``placement="uniform"`` (the paper's) the pair is drawn over all distinct cells,
    whatever T: for T < 2N - 2 some episodes then cannot be won. ``key`` is the episodes'
    :func:`episode_key`; ``tables`` is :func:`placement_table` converted to the array type of ``key``.
    """
    xp = xp_of(key)
    agent_cells, target_cells, count_within = tables if tables is not None else placement_table(size)
    far = 2 * size - 2  # the largest distance on the grid
    reach = xp.where(instruction < far, instruction, far) if placement == "reachable" else instruction * 0 + far
    pair = random_below(random_u32(key, DRAW_PLACEMENT), count_within[reach])
    return agent_cells[pair], target_cells[pair]


def episode_limit(instruction, size: int, time_limit: int | None):
    """Steps before truncation: ``time_limit``, or T + 2·N when it is None."""
    return instruction + 2 * size if time_limit is None else instruction * 0 + time_limit


# --------------------------------------------------------------------------- dynamics


def move(row, col, action, size: int, drow, dcol):
    """Apply actions; a move off the grid leaves the agent in place.

    ``drow``/``dcol`` are :data:`ACTION_DROW`/:data:`ACTION_DCOL` as arrays of ``row``'s type.
    """
    xp = xp_of(row)
    new_row = row + drow[action]
    new_col = col + dcol[action]
    inside = (new_row >= 0) & (new_row < size) & (new_col >= 0) & (new_col < size)
    return xp.where(inside, new_row, row), xp.where(inside, new_col, col)


def graded_reward(t, instruction, timing_penalty: float = TIMING_PENALTY):
    """The paper's reward for arriving at ``t``: max(-1, 1 - timing_penalty · |t - T|), float32."""
    xp = xp_of(t)
    steps_off = xp.abs(t - instruction)
    steps_off = steps_off.float() if xp is torch else steps_off.astype(np.float32)
    return xp.maximum(1.0 - timing_penalty * steps_off, steps_off * 0 + REWARD_FAILURE)


def outcome(arrived, t, instruction, limit, cfg: Config):
    """Reward, terminated, truncated and success after a step that brought the clock to ``t``.

    Arriving ends the episode, not arriving by the limit truncates it, and every other step
    gives 0. ``reward="exact"``: +1 for arriving exactly at t == T, -1 early, late or on
    timeout. ``reward="graded"`` (the paper's): :func:`graded_reward` on arrival, 0 on timeout.
    """
    xp = xp_of(arrived)
    success = arrived & (t == instruction)
    truncated = ~arrived & (t >= limit)
    ended = arrived | truncated
    zero = xp.zeros_like(t, dtype=xp.float32)
    if cfg.reward == "graded":
        reward = xp.where(arrived, graded_reward(t, instruction, cfg.timing_penalty), zero)
    else:
        reward = xp.where(success, zero + REWARD_SUCCESS, xp.where(ended, zero + REWARD_FAILURE, zero))
    return reward, arrived, truncated, success


# --------------------------------------------------------------------------- pixels


@cache
def cell_masks(size: int) -> np.ndarray:
    """Boolean (N*N, 56, 56) masks: the pixels of each cell in the paper's 56×56 frame.

    Cells are ``56 // N`` pixels wide, centred; the leftover border stays background.
    """
    cell = IMAGE_SIZE // size
    offset = (IMAGE_SIZE - cell * size) // 2
    masks = np.zeros((size * size, IMAGE_SIZE, IMAGE_SIZE), dtype=bool)
    for index in range(size * size):
        r, c = divmod(index, size)
        y, x = offset + r * cell, offset + c * cell
        masks[index, y : y + cell, x : x + cell] = True
    return masks
