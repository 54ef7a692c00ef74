"""How values read in human output (tables, progress lines, Markdown): one spelling of a missing value.

JSON files keep ``null``; everything printed or written for people says ``none``.
"""

from __future__ import annotations

from typing import Any

NONE = "none"
NO_REFERENCE = "—"  # a table cell the paper has no number for (not a horizon that does not exist)


def show(value: Any, spec: str = "") -> str:
    """``value`` formatted with ``spec``, or ``none`` for None (a horizon that does not exist, a T no episode reached)."""
    return NONE if value is None else format(value, spec)
