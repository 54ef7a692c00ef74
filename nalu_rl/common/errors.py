"""Error text for people: one line, whatever the exception."""

from __future__ import annotations


def first_line(err: BaseException) -> str:
    """The first non-empty line of an exception's message, or its type's name when it has none."""
    for line in str(err).splitlines():
        if line.strip():
            return line.strip()
    return type(err).__name__
