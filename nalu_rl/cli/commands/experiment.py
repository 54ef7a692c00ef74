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
    add_agents,
    add_device,
    add_env,
    add_eval_arguments,
    add_eval_every,
    add_frames,
    add_jobs,
    add_out,
    add_portable_kernels,
    add_quiet,
    add_seeds,
    add_training_shape,
    check_device,
    check_range,
    parse_overrides,
    warn_low_frames,
)
from nalu_rl.cli.commands.sweep import check_plan
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
    add_out(parser, DEFAULT_OUT)
    add_seeds(parser, DEFAULT_SEEDS)
    add_frames(parser, None, "each agent preset's")
    add_device(parser)
    add_agents(parser, DEFAULT_AGENTS)
    add_env(parser, DEFAULT_PRESET)
    add_eval_arguments(parser)
    add_jobs(parser)
    add_training_shape(parser)
    add_eval_every(parser, EVAL_EVERY, f"{EVAL_EVERY:_}, about 5%% of training time")
    add_portable_kernels(parser)
    add_quiet(parser)


def run(args: argparse.Namespace) -> int:
    from nalu_rl.cli import UsageError

    t_values = check_range(args)
    check_device(args.device)
    if args.out.exists() and not args.out.is_dir():
        raise UsageError(f"--out {args.out} exists and is not a folder")
    from nalu_rl.analysis.report import make_report
    from nalu_rl.analysis.t_values import format_t_values
    from nalu_rl.analysis.text import show
    from nalu_rl.cli.output import print_report
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
    if args.device == "cpu":  # the throughputs are measured on the CPU; a GPU run says nothing it has not measured
        expected = estimate(agents, seeds, env=args.env, frames=args.frames, jobs=args.jobs, train_options=train_options)
        print(expected.line(), flush=True)
    records = run_sweep(
        agents, seeds, env=args.env, frames=args.frames, episodes=args.episodes, t_values=t_values,
        out=args.out, device=args.device, jobs=args.jobs, progress=not args.quiet, train_options=train_options,
    )  # fmt: skip
    failed = [r for r in records if r["status"] not in ("ok", "skipped")]
    for r in failed:
        print(f"{r['name']}: {r['status']}: {show(r.get('error'))}", file=sys.stderr)
    report = make_report(args.out, title=f"nalu-rl experiment: {' vs '.join(agents)}")
    minutes = (time.monotonic() - start) / 60
    print()
    print_report(report)
    print(f"wall time: {minutes:.1f} min; runs in {args.out} (run again with the same --out to reuse finished runs)")
    if failed:
        print(f"{len(failed)} of {len(records)} runs did not finish: see {args.out / SUMMARY_FILE}", file=sys.stderr)
        return 1
    return 0

