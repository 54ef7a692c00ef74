"""``nalu-rl report DIR``: aggregate the evaluated runs of a folder into figures and a Markdown table."""

from __future__ import annotations

import argparse
from pathlib import Path

from nalu_rl.cli.args import add_out, add_quiet, add_t_list_argument, check_range

NAME = "report"
HELP = "aggregate the evaluated runs under DIR: success vs T with confidence bands, arrival time vs T, a Markdown table"
ORDER = 40


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dir", metavar="DIR", type=Path, help="folder holding run folders with extrapolation.json")
    parser.add_argument("--title", default=None, help="heading of report.md and the combined figure")
    parser.add_argument("--no-tensorboard", action="store_true", help="do not write TensorBoard events (tb/ in the folder written into)")
    add_out(parser, None, "DIR, beside the runs")
    add_quiet(parser)
    # Which evaluated T the tables and figures show; the horizons are always the runs' own.
    add_t_list_argument(parser, "every T the runs were evaluated for")


def run(args: argparse.Namespace) -> int:
    from nalu_rl.analysis.report import make_report
    from nalu_rl.cli import UsageError
    from nalu_rl.cli.output import print_report

    t_values = None if args.t_list is None else check_range(args)
    if not args.dir.is_dir():
        raise UsageError(f"folder not found: {args.dir}")
    report = make_report(args.dir, out=args.out, title=args.title, tensorboard=not args.no_tensorboard, t_values=t_values)
    print_report(report)
    return 0
