"""Argument helpers that more than one command uses: the evaluation flags and their checks."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from nalu_rl.analysis.t_values import DEFAULT_EPISODES, DEFAULT_T_RANGE, resolve_t_values
from nalu_rl.cli import UsageError
from nalu_rl.common.checks import int_type
from nalu_rl.common.renamed import add_renamed

T_LIST_EXAMPLE = "1-30,50,100,200,500,1000"


def add_t_list_argument(parser: argparse.ArgumentParser, help: str) -> None:
    """``--t LIST`` (``args.t_list``, text): values and ranges such as 1-30,50,100, parsed by :func:`check_range`."""
    parser.add_argument("--t", dest="t_list", default=None, metavar="LIST", help=help)


def add_eval_arguments(parser: argparse.ArgumentParser) -> None:
    """The evaluation flags of ``eval``, ``experiment``, ``sweep`` and ``baseline``; :func:`check_range` gives their T list."""
    lo, hi = DEFAULT_T_RANGE
    add_t_list_argument(parser, f"instructed T to evaluate: values and ranges, comma-separated, e.g. {T_LIST_EXAMPLE} "
                                f"(default {lo}-{hi}); or the range --t-min..--t-max")  # fmt: skip
    parser.add_argument("--t-min", type=int_type("T"), default=None, metavar="T", help=f"smallest instruction T of a range (default {lo})")
    parser.add_argument("--t-max", type=int_type("T"), default=None, metavar="T", help=f"largest instruction T of a range (default {hi})")
    parser.add_argument(
        "--episodes", type=int_type("episodes"), default=DEFAULT_EPISODES, metavar="N",
        help=f"seeded episodes per T, the same start states for every agent (default {DEFAULT_EPISODES})",
    )  # fmt: skip


def check_range(args: argparse.Namespace) -> list[int]:
    """The sorted T list of ``--t``, or of the range ``--t-min``..``--t-max``; UsageError for bad or conflicting flags."""
    t_min, t_max = getattr(args, "t_min", None), getattr(args, "t_max", None)
    if args.t_list is not None and (t_min is not None or t_max is not None):
        raise UsageError("give --t or --t-min/--t-max, not both")
    if args.t_list is None:
        lo, hi = (DEFAULT_T_RANGE[0] if t_min is None else t_min), (DEFAULT_T_RANGE[1] if t_max is None else t_max)
        if lo > hi:
            raise UsageError(f"--t-min ({lo}) must not exceed --t-max ({hi})")
        return list(range(lo, hi + 1))
    try:
        return resolve_t_values(args.t_list)
    except ValueError as err:
        raise UsageError(f"--t: {err}") from None


def check_device(device: str) -> None:
    from nalu_rl.common.devices import resolve_device  # imports torch: not for --help

    try:
        resolve_device(device)
    except ValueError as err:
        raise UsageError(f"--device: {err}") from None


def warn_low_frames(command: str, agents: Sequence[str], frames: int | None, env: str | None) -> None:
    """One line on stderr per agent whose preset trains with far more than ``frames``; nothing for the presets' own budgets."""
    if frames is None:
        return
    from nalu_rl.agents.planning import frames_warning
    from nalu_rl.presets import PresetError

    for agent in dict.fromkeys(agents):
        try:
            warning = frames_warning(agent, frames, env)
        except PresetError:  # not one of our presets (the peer) or unknown: the sweep's own checks name it
            continue
        if warning:
            print(f"nalu-rl {command}: {warning}", file=sys.stderr)


def add_portable_argument(parser: argparse.ArgumentParser) -> None:
    """``--portable-kernels``: acted on by :func:`nalu_rl.cli.main` before torch loads; here for --help and parsing."""
    from nalu_rl.common.kernels import FLAG, PORTABLE

    settings = ", ".join(f"{k}={v}" for k, v in PORTABLE.items())
    parser.add_argument(FLAG, action="store_true",
                        help=f"float kernels that give the same bits on any x86-64 CPU, slower ({settings}); recorded in config.json")


def add_quiet(parser: argparse.ArgumentParser) -> None:
    """``--quiet``, the one spelling of "print nothing on success" in every command (``--no-progress`` still accepted).

    :func:`nalu_rl.cli.main` acts on it: the command's standard output is discarded and its progress bars are off;
    warnings and errors still go to stderr.
    """
    parser.add_argument("--quiet", action="store_true", help="print nothing on success: no progress bars, tables or "
                        "notes (warnings and errors still go to stderr)")  # fmt: skip
    add_renamed(parser, "--no-progress", "--quiet", "quiet", flag=True)


def parse_overrides(items: Sequence[str]) -> dict:
    """The ``--set KEY=VALUE`` items of a command as a dict; a malformed one is a UsageError naming it."""
    from nalu_rl.agents.config import parse_override

    try:
        return dict(parse_override(text) for text in items)
    except ValueError as err:
        raise UsageError(str(err)) from None
