"""Which instructed T an evaluation covers: a list such as ``1-30,50,100,200,500,1000``, a range, or the default.

The command line's ``--t`` and the Python API's ``t_values`` take the same text (or, in Python, a
sequence of ints); ``t_min``/``t_max`` remain as the range ``t_min..t_max``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from nalu_rl.common.checks import MAX_INSTRUCTION, check_int

DEFAULT_T_RANGE = (1, 30)  # what an evaluation covers unless told otherwise
DEFAULT_EPISODES = 200  # seeded episodes per T of an evaluation (nalu-rl eval, every sweep run)
_NUMBER = re.compile(r"\d+")


def parse_t_list(text: str) -> list[int]:
    """``"1-30,50,100"`` → ``[1, 2, ..., 30, 50, 100]``: ranges ``a-b`` and single values, comma separated.

    The result is sorted, without repeats. ValueError naming the T list for an empty list or part,
    a range that runs backwards, a value outside [1, MAX_INSTRUCTION] or anything but plain
    decimal integers (``1e3``, ``2.5``, ``-3``).
    """
    if not isinstance(text, str):
        raise ValueError(f"T list must be text such as 1-30,50,100, got {text!r}")
    if not text.strip():
        raise ValueError("T list is empty: give ranges and values such as 1-30,50,100")
    values: set[int] = set()
    for part in text.split(","):
        bounds = [b.strip() for b in part.split("-")]
        if len(bounds) > 2 or not all(_NUMBER.fullmatch(b) for b in bounds):
            what = "an empty part" if not part.strip() else f"{part.strip()!r}, not an integer or a range a-b"
            raise ValueError(f"T list {text!r}: {what} (write e.g. 1-30,50,100)")
        lo, hi = (_check_t(int(b), text) for b in (bounds[0], bounds[-1]))
        if hi < lo:
            raise ValueError(f"T list {text!r}: the range {lo}-{hi} runs backwards")
        values.update(range(lo, hi + 1))
    return sorted(values)


def _check_t(value: int, text: str) -> int:
    if not 1 <= value <= MAX_INSTRUCTION:
        raise ValueError(f"T list {text!r}: T must be in [1, {MAX_INSTRUCTION}], got {value}")
    return value


def resolve_t_values(
    t_values: str | Iterable[int] | None = None, t_min: int | None = None, t_max: int | None = None
) -> list[int]:
    """The sorted T an evaluation covers: ``t_values`` (text for :func:`parse_t_list` or ints) or ``t_min..t_max``.

    Either a T list or a range, not both; a range's missing end comes from :data:`DEFAULT_T_RANGE`,
    and nothing given at all is that range. ValueError naming the argument otherwise.
    """
    if t_values is not None:
        if t_min is not None or t_max is not None:
            raise ValueError("give a T list (t_values) or a range (t_min, t_max), not both")
        if isinstance(t_values, str):
            return parse_t_list(t_values)
        values = sorted({check_int("T", t) for t in t_values})
        if not values:
            raise ValueError("t_values must not be empty")
        return values
    lo = DEFAULT_T_RANGE[0] if t_min is None else check_int("t_min", t_min)
    hi = DEFAULT_T_RANGE[1] if t_max is None else check_int("t_max", t_max)
    if lo > hi:
        raise ValueError(f"t_min ({lo}) must not exceed t_max ({hi})")
    return list(range(lo, hi + 1))


def format_t_values(values: Iterable[int]) -> str:
    """The inverse of :func:`parse_t_list`: ``[1, 2, 3, 50]`` → ``"1-3,50"``."""
    parts: list[str] = []
    values = sorted(set(values))
    start = prev = None
    for t in [*values, None]:
        if prev is not None and t == prev + 1:
            prev = t
            continue
        if start is not None:
            parts.append(str(start) if start == prev else f"{start}-{prev}")
        start = prev = t
    return ",".join(parts)


def is_contiguous(values: Iterable[int]) -> bool:
    """Whether sorted ``values`` form one unbroken range (horizons scan such ranges only)."""
    values = sorted(set(values))
    return values == list(range(values[0], values[-1] + 1)) if values else True
