"""``nalu-rl sweep``: train + evaluate agents × seeds in a local process pool, or on a Ray cluster."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from nalu_rl.analysis.t_values import format_t_values
from nalu_rl.analysis.text import show
from nalu_rl.cli.args import (
    add_eval_arguments,
    add_portable_argument,
    add_quiet,
    check_device,
    check_range,
    parse_overrides,
    warn_low_frames,
)
from nalu_rl.common.checks import check_int, int_type, parse_int

NAME = "sweep"
HELP = "train and evaluate agents × seeds: a local process pool by default, a Ray cluster with --ray-address"
ORDER = 50


def parse_seeds(text: str) -> list[int]:
    """``"10"`` → seeds 0..9; ``"3,5,8"`` (any comma) → exactly those; ``"4-7"`` → 4..7."""
    text = text.strip()
    try:
        if "," in text:
            seeds = [check_int("seed", parse_int(part)) for part in text.split(",") if part.strip()]
        elif "-" in text.lstrip("-"):
            lo, hi = (check_int("seed", parse_int(part)) for part in text.split("-", 1))
            if lo > hi:
                raise argparse.ArgumentTypeError(f"empty seed range {text!r}")
            seeds = list(range(lo, lo + check_int("seeds", hi - lo + 1)))
        else:
            seeds = list(range(check_int("seeds", parse_int(text))))
        check_int("seeds", len(seeds))
    except ValueError as err:
        if "expected an integer" in str(err):
            err = f"expected a count (10), a list (0,3,5) or a range (4-7), got {text!r}"
        raise argparse.ArgumentTypeError(str(err)) from None
    if not seeds:
        raise argparse.ArgumentTypeError(f"no seeds in {text!r}")
    if len(set(seeds)) != len(seeds):
        raise argparse.ArgumentTypeError(f"seeds repeat in {text!r}")
    return seeds


def parse_agents(text: str) -> list[str]:
    agents = [a.strip() for a in text.split(",") if a.strip()]
    if not agents:
        raise argparse.ArgumentTypeError("give at least one agent, e.g. lstm,lstm_nac")
    return agents


class _AgentList(argparse.Action):
    """The words after ``--agents``, each a comma list: one flat list of names."""

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        setattr(namespace, self.dest, [agent for value in values for agent in value])


def add_agents_argument(parser: argparse.ArgumentParser, default: list[str], help: str) -> None:
    """``--agents lstm,lstm_nac`` and ``--agents lstm lstm_nac`` (and mixtures) alike, for ``sweep`` and ``experiment``."""
    parser.add_argument("--agents", nargs="+", type=parse_agents, action=_AgentList, default=default, metavar="A,B",
                        help=f"{help}: lstm,lstm_nac or lstm lstm_nac (default {','.join(default)})")  # fmt: skip


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from nalu_rl.envs import DEFAULT_PRESET

    add_agents_argument(parser, ["lstm", "lstm_nac"], "agent presets (names or TOML paths); recurrent_ppo adds the SB3 peer")
    parser.add_argument(
        "--seeds", type=parse_seeds, default=list(range(3)), metavar="N|LIST",
        help="N seeds 0..N-1, a list 0,3,5 or a range 4-7 (default 3)",
    )  # fmt: skip
    parser.add_argument("--env", default=DEFAULT_PRESET, help=f"environment preset name or TOML path (default {DEFAULT_PRESET})")
    parser.add_argument("--frames", type=int_type("frames"), default=None, metavar="N", help="frames per run (default: each agent preset's)")
    add_eval_arguments(parser)
    parser.add_argument("--out", type=Path, default=Path("runs/sweep"), metavar="DIR", help="sweep folder (default runs/sweep)")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or auto, for every run (default cpu)")
    parser.add_argument(
        "--ray-address", default=None, metavar="ADDR",
        help="run as Ray tasks on an existing cluster: host:port of its head, or auto (needs pip install -e '.[ray]')",
    )  # fmt: skip
    parser.add_argument(
        "--jobs", type=int_type("jobs"), default=None, metavar="N",
        help="runs at once (default: as many as the cores hold; on Ray, as many as the cluster schedules)",
    )  # fmt: skip
    parser.add_argument(
        "--gpus-per-run", type=float, default=None, metavar="G",
        help="GPUs each Ray task asks for with --device cuda (or auto on a cluster with GPUs); fractions share one (default 1)",
    )  # fmt: skip
    parser.add_argument("--mode", choices=("async", "sync"), default=None, help="training mode of every run (default: the preset's)")
    parser.add_argument("--workers", type=int_type("workers"), default=None, metavar="N", help="A3C workers per run (default: the preset's)")
    parser.add_argument(
        "--envs-per-worker", type=int_type("envs_per_worker"), default=None, metavar="N", help="environments per worker (default: the preset's)"
    )
    parser.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
        help="override a hyper-parameter of every agent preset (not the recurrent_ppo peer), e.g. --set lr=3e-4 (repeatable)",
    )  # fmt: skip
    parser.add_argument("--ray-timeout", type=float, default=None, metavar="SECONDS",
                        help="with --ray-address: give up joining the cluster after SECONDS (default 60)")
    parser.add_argument("--eval-every", type=int_type("eval_every_frames"), default=None, metavar="FRAMES",
                        help="evaluate every run greedily every FRAMES frames while it trains (default never; see nalu-rl train)")
    add_portable_argument(parser)
    add_quiet(parser)


def check_plan(agents: list[str], seeds: list[int], **options) -> None:
    """The sweep's own validation (``plan_runs``) before the banner: a mistake is the only line printed, nothing runs."""
    from nalu_rl.cli import UsageError
    from nalu_rl.common.errors import first_line
    from nalu_rl.presets import PresetError
    from nalu_rl.sweep import plan_runs

    try:
        plan_runs(agents, seeds, **options)
    except (PresetError, ValueError) as err:
        raise UsageError(first_line(err)) from None


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
    from nalu_rl import presets
    from nalu_rl.cli import UsageError
    from nalu_rl.common.errors import first_line
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
    except (ImportError, ConnectionError, ValueError, presets.PresetError) as err:
        raise UsageError(first_line(err)) from None
    print(format_table(records))
    failed = [r for r in records if r["status"] != "ok" and r["status"] != "skipped"]
    print(f"{len(records) - len(failed)}/{len(records)} runs done; summary in {args.out / SUMMARY_FILE}; "
          f"aggregate with: nalu-rl report {args.out}")  # fmt: skip
    if failed:
        print(f"{len(failed)} run(s) failed: {', '.join(r['name'] for r in failed)} (tracebacks in {args.out / SUMMARY_FILE})")
        return 1
    return 0
