"""Old spellings of command-line flags: still accepted, hidden from --help, with a warning naming the new one."""

from __future__ import annotations

import argparse
import sys


class _Renamed(argparse.Action):
    """An old spelling of a flag: still accepted, with a warning naming the one to use."""

    def __init__(self, option_strings, dest, new: str, repeated: bool = False, **kwargs) -> None:
        self.new, self.repeated = new, repeated
        super().__init__(option_strings, dest, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        print(f"{parser.prog}: warning: {option_string} is now spelled {self.new}; the old spelling still works for now",
              file=sys.stderr)  # fmt: skip
        if self.repeated:  # the old flag was given once per item, the new one takes a list
            values = (getattr(namespace, self.dest) or []) + values
        setattr(namespace, self.dest, True if self.nargs == 0 else values)


def add_renamed(parser: argparse.ArgumentParser, old: str, new: str, dest: str, flag: bool = False, **kwargs) -> None:
    """Accept ``old`` for ``new`` (same ``dest``), hidden from --help, with a warning when used.

    ``repeated=True``: ``old`` was given once per item and ``new`` takes a list (``type`` gives one); the items add up.
    """
    parser.add_argument(old, dest=dest, action=_Renamed, new=new, nargs=0 if flag else None, help=argparse.SUPPRESS, **kwargs)
