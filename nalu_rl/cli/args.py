"""Argument helpers that more than one command uses: bounded integers, the evaluation flags, their checks."""

from __future__ import annotations

import argparse

from nalu_rl.cli import UsageError

MAX_T = 1000  # the environment's largest instruction


def int_in(lo: int, hi: int | None = None):
    """An argparse type: an integer in [lo, hi] (one-line error otherwise)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < lo or (hi is not None and value > hi):
            bound = f">= {lo}" if hi is None else f"in [{lo}, {hi}]"
            raise argparse.ArgumentTypeError(f"must be an integer {bound}, got {value}")
        return value

    return parse


def add_eval_arguments(parser: argparse.ArgumentParser) -> None:
    """The evaluation flags of ``eval``, ``experiment``, ``sweep`` and ``baseline``; check them with :func:`check_range`."""
    parser.add_argument("--t-min", type=int_in(1, MAX_T), default=1, metavar="T", help="smallest instruction T (default 1)")
    parser.add_argument("--t-max", type=int_in(1, MAX_T), default=30, metavar="T", help="largest instruction T (default 30)")
    parser.add_argument(
        "--episodes", type=int_in(1, 1_000_000), default=200, metavar="N",
        help="seeded episodes per T, the same start states for every agent (default 200)",
    )  # fmt: skip


def check_range(args: argparse.Namespace) -> None:
    if args.t_min > args.t_max:
        raise UsageError(f"--t-min ({args.t_min}) must not exceed --t-max ({args.t_max})")


def check_device(device: str) -> None:
    from nalu_rl.common.devices import resolve_device  # imports torch: not for --help

    try:
        resolve_device(device)
    except ValueError as err:
        raise UsageError(f"--device: {err}") from None
