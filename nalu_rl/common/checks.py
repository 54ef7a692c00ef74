"""Argument checks shared by every command and the Python API: one rule, one message."""

from __future__ import annotations

import numbers
from typing import Any


def check_int(name: str, value: Any, lo: int, hi: int | None = None) -> int:
    """``value`` as an int if it is an integer (not a bool) in [lo, hi]; ValueError naming ``name`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < lo or (hi is not None and value > hi):
        bound = f">= {lo}" if hi is None else f"in [{lo}, {hi}]"
        raise ValueError(f"{name} must be an integer {bound}, got {value!r}")
    return int(value)
