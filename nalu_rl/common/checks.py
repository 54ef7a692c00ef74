"""Integer arguments: one table of limits and one check, for every command and the Python API.

An argument named in :data:`LIMITS` (``seed``, ``frames``, ``T``, ...) has the same bounds
wherever it is given: a command-line flag, a sweep option, a preset's ``[run]`` table or a
keyword of a library function. The command line parses its text with :func:`parse_int` and
checks it with :func:`check_int`, so ``5e6`` means 5,000,000 everywhere and ``1e30`` is refused
everywhere, before anything is written.
"""

from __future__ import annotations

import argparse
import decimal
import numbers
from typing import Any

# NumPy's legacy seeding (which Stable-Baselines3's set_random_seed calls) takes seeds below 2**32;
# torch, NumPy's SeedSequence and the environments' counter-based hash take every one of them.
SEED_MAX = 2**32 - 1
MAX_INSTRUCTION = 1000  # the largest T an environment accepts
MAX_FRAMES = 10**12  # far beyond any run this package plans; keeps frame counts exact in float64 logs
MAX_EPISODES = 1 << 16  # evaluation episodes per T: one T's episodes fit in one batched environment
MAX_WORKERS = 1024
MAX_ENVS_PER_WORKER = 1 << 20

LIMITS: dict[str, tuple[int, int]] = {
    "seed": (0, SEED_MAX),
    "env_seed": (0, 2**63 - 1),  # what the environments take: their counter-based hash reads 63 bits
    "seeds": (1, 1000),  # how many seeds a sweep or an experiment trains per agent
    "frames": (1, MAX_FRAMES),
    "episodes": (1, MAX_EPISODES),
    "gif_episodes": (1, 100),  # every frame of a GIF is held in memory
    "T": (1, MAX_INSTRUCTION),
    "t_min": (1, MAX_INSTRUCTION),
    "t_max": (1, MAX_INSTRUCTION),
    "instruction": (1, MAX_INSTRUCTION),
    "workers": (1, MAX_WORKERS),
    "envs_per_worker": (1, MAX_ENVS_PER_WORKER),
    "jobs": (1, MAX_WORKERS),
    "threads": (1, MAX_WORKERS),
    # the arithmetic benchmark's sizes
    "steps": (1, 10**9),
    "batch_size": (1, 1 << 20),
    "input_size": (1, 1 << 16),
    "hidden_size": (1, 1 << 16),
    "eval_every": (1, 10**9),  # arithmetic steps
    "eval_every_frames": (0, MAX_FRAMES),  # RL frames between in-training evaluations; 0: none
    "test_size": (1, 1 << 24),
    "length": (1, 10_000),  # steps of a recurrent arithmetic sequence
    "extrapolation_length": (1, 10_000),
    "rnn_hidden_size": (1, 1 << 16),
}


def check_int(name: str, value: Any, lo: int | None = None, hi: int | None = None, *, limit: str | None = None) -> int:
    """``value`` as an int if it is an integer (not a bool) within its bounds; ValueError naming ``name`` otherwise.

    The bounds of a name in :data:`LIMITS` (or of ``limit``, the table's name for an argument
    called otherwise, such as ``play``'s ``episodes``) come from the table, and only from there;
    any other name needs ``lo`` (and optionally ``hi``).
    """
    key = name if limit is None else limit
    if key in LIMITS:
        if lo is not None or hi is not None:
            raise TypeError(f"{key} has its bounds in LIMITS: do not pass others")
        lo, hi = LIMITS[key]
    elif limit is not None:
        raise KeyError(f"{limit} is not in LIMITS")
    elif lo is None:
        raise TypeError(f"{name} is not in LIMITS: pass its lower bound")
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < lo or (hi is not None and value > hi):
        bound = f">= {lo}" if hi is None else f"in [{lo}, {hi:,}]" if hi >= 10_000 else f"in [{lo}, {hi}]"
        raise ValueError(f"{name} must be an integer {bound}, got {value!r}")
    return int(value)


def parse_int(text: str) -> int:
    """An integer written as ``5000000``, ``5_000_000`` or ``5e6`` (exactly; ``1.5`` or ``5e-1`` is refused)."""
    cleaned = text.strip()
    try:
        return int(cleaned)
    except ValueError:
        pass
    try:
        exact = decimal.Decimal(cleaned.replace("_", ""))
    except decimal.InvalidOperation:
        raise ValueError(f"expected an integer, got {text!r}") from None
    # Decimal keeps 1e30 exact; only a finite value with no fractional part is an integer.
    if not exact.is_finite() or exact != exact.to_integral_value() or exact.adjusted() > 100:
        raise ValueError(f"expected an integer, got {text!r}")
    return int(exact)


def int_type(name: str, lo: int | None = None, hi: int | None = None):
    """An argparse ``type=`` for the integer argument ``name``: :func:`parse_int`, then :func:`check_int`.

    Every command's integer flags use it, so a flag accepts the same text and the same bounds
    as the Python API; a bad value is one line naming the flag (argparse adds it).
    """
    if (name in LIMITS) == (lo is not None or hi is not None):
        raise TypeError(f"{name}: bounds come from LIMITS for the names there, and must be given for any other")

    def parse(text: str) -> int:
        try:
            return check_int(name, parse_int(text), lo, hi)
        except ValueError as err:
            raise argparse.ArgumentTypeError(str(err).removeprefix(f"{name} ")) from None

    parse.__name__ = "integer"  # argparse names the type in "invalid integer value"
    parse.argument = name  # type: ignore[attr-defined]  (tests sweep every flag by these)
    parse.bounds = LIMITS.get(name, (lo, hi))  # type: ignore[attr-defined]
    return parse
