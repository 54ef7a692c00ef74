"""``nalu-rl sweep``: train + evaluate agents × seeds in a local process pool, or on a Ray cluster."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from nalu_rl.analysis.t_values import format_t_values
from nalu_rl.analysis.text import show
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

NAME = "sweep"
HELP = "train and evaluate agents × seeds: a local process pool by default, a Ray cluster with --ray-address"
ORDER = 50


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from nalu_rl.envs import DEFAULT_PRESET

    add_agents(parser, ["lstm", "lstm_nac"])
    add_seeds(parser, 3)
    add_env(parser, DEFAULT_PRESET)
    add_frames(parser, None, "each agent preset's")
    add_eval_arguments(parser)
    add_out(parser, Path("runs/sweep"))
    add_device(parser)
    parser.add_argument(
        "--ray-address", default=None, metavar="ADDR",
        help="run as Ray tasks on an existing cluster: host:port of its head, or auto (needs pip install -e '.[ray]')",
    )  # fmt: skip
    add_jobs(parser)
    parser.add_argument(
        "--gpus-per-run", type=float, default=None, metavar="G",
        help="GPUs each Ray task asks for with --device cuda (or auto on a cluster with GPUs); fractions share one (default 1)",
    )  # fmt: skip
    add_training_shape(parser)
    parser.add_argument("--ray-timeout", type=float, default=None, metavar="SECONDS",
                        help="with --ray-address: give up joining the cluster after SECONDS (default 60)")
    add_eval_every(parser, None, "never")
    add_portable_kernels(parser)
    add_quiet(parser)


def check_plan(agents: list[str], seeds: list[int], **options) -> None:
    """The sweep's own validation (``plan_runs``) before the banner: a mistake is the only line printed, nothing runs."""
    from nalu_rl.sweep import plan_runs

    plan_runs(agents, seeds, **options)


def format_table(records: list[dict]) -> str:
    """One row per run, the paper's measure first: reward over 13..20, reward horizon, then the exact-success horizons."""
    from nalu_rl.sweep.summary import horizon_text

    lines = [f"{'run':<24} {'status':<11} {'r13-20':>6} {'r.hor':>5} {'h90':>4} {'h50':>4} {'seconds':>8}  error"]
    for r in records:
        hr, h90, h50 = (horizon_text(r.get(k), r.get("t_max")) for k in ("reward_horizon", "horizon_90", "horizon_50"))
        reward = show(r.get("reward_13_20"), ".2f")
        seconds = "" if r["seconds"] is None else f"{r['seconds']:.1f}"
        lines.append(f"{r['name']:<24} {r['status']:<11} {reward:>6} {hr:>5} {h90:>4} {h50:>4} {seconds:>8}  {r['error'] or ''}".rstrip())
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from nalu_rl.sweep import SUMMARY_FILE, SweepInterrupted, run_sweep

    t_values = check_range(args)
    check_device(args.device)
    overrides = parse_overrides(args.overrides)
    options = {"mode": args.mode, "workers": args.workers, "envs_per_worker": args.envs_per_worker, "overrides": overrides,
               "eval_every": args.eval_every}
    check_plan(args.agents, args.seeds, env=args.env, frames=args.frames, episodes=args.episodes, t_values=t_values,
               out=args.out, device=args.device, train_options=options, gpus_per_run=args.gpus_per_run)  # fmt: skip
    # The seeds spelled out: "--seeds 20" means seeds 0-19, easy to take for seed 20 alone.
    print(f"nalu-rl sweep: {', '.join(args.agents)} x seeds {format_t_values(args.seeds)} -> {args.out}", flush=True)
    warn_low_frames("sweep", args.agents, args.frames, args.env)
    try:
        records = run_sweep(
            args.agents, args.seeds, env=args.env, frames=args.frames, episodes=args.episodes, t_values=t_values,
            out=args.out, device=args.device, ray_address=args.ray_address, jobs=args.jobs,
            progress=not args.quiet, train_options=options, gpus_per_run=args.gpus_per_run, ray_timeout=args.ray_timeout,
        )  # fmt: skip
    except SweepInterrupted as err:
        print(f"nalu-rl sweep: {err}", file=sys.stderr)
        return 130
    print(format_table(records))
    failed = [r for r in records if r["status"] != "ok" and r["status"] != "skipped"]
    print(f"{len(records) - len(failed)}/{len(records)} runs done; summary in {args.out / SUMMARY_FILE}; "
          f"aggregate with: nalu-rl report {args.out}")  # fmt: skip
    if failed:
        print(f"{len(failed)} run(s) failed: {', '.join(r['name'] for r in failed)} (tracebacks in {args.out / SUMMARY_FILE})")
        return 1
    return 0
