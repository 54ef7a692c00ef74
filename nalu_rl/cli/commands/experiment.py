"""``nalu-rl experiment``: the main job — train ``lstm``, ``lstm_nac`` and ``lstm_countdown`` over seeds, evaluate, report.

Trains every (agent, seed) into ``OUT/<agent>-s<seed>/`` (finished runs are skipped and
interrupted ones resumed when the command is run again with the same ``--out``), evaluates each
for T = 1..30 (or the T list of ``--t``) on the same seeded episodes, and writes the report (figures, ``report.md``) into
``OUT``. Ends by printing the table of horizons and the path of the figure.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from nalu_rl.cli.args import (
    add_eval_arguments,
    add_portable_argument,
    add_quiet,
    check_device,
    check_range,
    parse_overrides,
    warn_low_frames,
)
from nalu_rl.cli.commands.sweep import add_agents_argument, check_plan, parse_seeds
from nalu_rl.common.checks import int_type
from nalu_rl.envs import DEFAULT_PRESET

NAME = "experiment"
HELP = "the main job: train lstm, lstm_nac and lstm_countdown over several seeds, evaluate timing extrapolation, print the table"
ORDER = 10

# The paper's two agents and our clock agent; the presets' own frame budgets size the job (the command says how long
# it expects before it starts).
DEFAULT_AGENTS = ("lstm", "lstm_nac", "lstm_countdown")
DEFAULT_SEEDS = 3
DEFAULT_OUT = Path("runs") / "experiment"
# One greedy evaluation (T 5..20, 30, 100 x 100 episodes) costs about 0.28 s on one core: every 500k frames it adds
# about 5% to the wall time (docs/FINDINGS.md, "the cost of evaluating while training").
EVAL_EVERY = 500_000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT})")
    parser.add_argument("--seeds", type=parse_seeds, default=list(range(DEFAULT_SEEDS)), metavar="N|LIST",
                        help=f"N seeds 0..N-1, a list 0,3,5 or a range 4-7 (default {DEFAULT_SEEDS})")  # fmt: skip
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a hyper-parameter of every agent preset, e.g. --set lr=3e-4 (repeatable)")  # fmt: skip
    parser.add_argument("--frames", type=int_type("frames"), default=None, metavar="F",
                        help="environment frames per run (default: each agent preset's own)")  # fmt: skip
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or auto (default cpu)")
    add_agents_argument(parser, list(DEFAULT_AGENTS), "agent presets to compare")
    parser.add_argument("--env", default=DEFAULT_PRESET,
                        help=f"environment preset (default {DEFAULT_PRESET}: the paper's protocol on grid planes; "
                        "paper: the same on pixels; fast: the strict protocol)")  # fmt: skip
    add_eval_arguments(parser)
    parser.add_argument("--jobs", type=int_type("jobs"), default=None, metavar="J",
                        help="runs trained at once (default: the sweep's choice for the machine)")  # fmt: skip
    parser.add_argument("--mode", choices=("async", "sync"), default=None, help="training mode of every run (default: the preset's)")
    parser.add_argument("--workers", type=int_type("workers"), default=None, metavar="N", help="A3C workers per run (default: the preset's)")
    parser.add_argument("--envs-per-worker", type=int_type("envs_per_worker"), default=None, metavar="N",
                        help="environments per worker (default: the preset's)")  # fmt: skip
    parser.add_argument("--eval-every", type=int_type("eval_every_frames"), default=EVAL_EVERY, metavar="FRAMES",
                        help=f"evaluate each run every FRAMES frames while it trains, for the curves and time to mastery "
                        f"(default {EVAL_EVERY:_}, about 5%% of training time; 0: never)")
    add_portable_argument(parser)
    add_quiet(parser)


def run(args: argparse.Namespace) -> int:
    from nalu_rl.cli import UsageError

    t_values = check_range(args)
    check_device(args.device)
    if args.out.exists() and not args.out.is_dir():
        raise UsageError(f"--out {args.out} exists and is not a folder")
    from nalu_rl.analysis.report import ReportError, make_report
    from nalu_rl.analysis.t_values import format_t_values
    from nalu_rl.analysis.text import show
    from nalu_rl.cli.output import print_report
    from nalu_rl.common.errors import first_line
    from nalu_rl.sweep import SUMMARY_FILE, run_sweep
    from nalu_rl.sweep.estimate import estimate

    overrides = parse_overrides(args.overrides)
    seeds = args.seeds
    agents = list(args.agents)  # repeated names are refused with the plan, as in sweep
    train_options = {"mode": args.mode, "workers": args.workers, "envs_per_worker": args.envs_per_worker,
                     "eval_every": args.eval_every, "overrides": overrides}  # fmt: skip
    check_plan(agents, seeds, env=args.env, frames=args.frames, episodes=args.episodes, t_values=t_values, out=args.out,
               device=args.device, train_options=train_options)  # fmt: skip
    print(
        f"nalu-rl experiment: {', '.join(agents)} x seeds {format_t_values(seeds)}, {f'{args.frames:_}' if args.frames else 'preset'} frames each, "
        f"env {args.env}, device {args.device}; evaluating T = {format_t_values(t_values)} x {args.episodes} episodes "
        f"-> {args.out}",
        flush=True,
    )
    warn_low_frames("experiment", agents, args.frames, args.env)
    start = time.monotonic()
    try:
        if args.device == "cpu":  # the throughputs are measured on the CPU; a GPU run says nothing it has not measured
            expected = estimate(agents, seeds, env=args.env, frames=args.frames, jobs=args.jobs, train_options=train_options)
            print(expected.line(), flush=True)
        records = run_sweep(
            agents, seeds, env=args.env, frames=args.frames, episodes=args.episodes, t_values=t_values,
            out=args.out, device=args.device, jobs=args.jobs, progress=not args.quiet, train_options=train_options,
        )  # fmt: skip
    except (FileNotFoundError, ValueError, ImportError) as err:
        raise UsageError(first_line(err)) from None
    failed = [r for r in records if r["status"] not in ("ok", "skipped")]
    for r in failed:
        print(f"{r['name']}: {r['status']}: {show(r.get('error'))}", file=sys.stderr)
    try:
        report = make_report(args.out, title=f"nalu-rl experiment: {' vs '.join(agents)}")
    except (FileNotFoundError, ValueError, ReportError) as err:
        raise UsageError(first_line(err)) from None
    minutes = (time.monotonic() - start) / 60
    print()
    print_report(report)
    print(f"wall time: {minutes:.1f} min; runs in {args.out} (run again with the same --out to reuse finished runs)")
    if failed:
        print(f"{len(failed)} of {len(records)} runs did not finish: see {args.out / SUMMARY_FILE}", file=sys.stderr)
        return 1
    return 0

