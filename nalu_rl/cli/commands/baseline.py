"""``nalu-rl baseline``: the Stable-Baselines3 peer (sb3-contrib RecurrentPPO), trained and evaluated like our agents."""

from __future__ import annotations

import argparse
from pathlib import Path

from nalu_rl.cli.args import add_eval_arguments, add_quiet, add_renamed, check_device, check_range, parse_overrides
from nalu_rl.common.checks import int_type

NAME = "baseline"
HELP = "train a Stable-Baselines3 peer (sb3-contrib RecurrentPPO) on the same environment into a run folder, then evaluate it"
ORDER = 70


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from nalu_rl.baselines import ALGOS, DEFAULT_FRAMES
    from nalu_rl.envs import DEFAULT_PRESET

    parser.add_argument(
        "--algo", choices=ALGOS, default=ALGOS[0],
        help=f"the peer algorithm: {ALGOS[0]}, the only one and the default (the flag stays for scripts that pass it)",
    )  # fmt: skip
    parser.add_argument("--env", default=None, help=f"environment preset name or TOML path (default {DEFAULT_PRESET})")
    parser.add_argument(
        "--frames", type=int_type("frames"), default=None, metavar="N", help=f"environment steps to train (default {DEFAULT_FRAMES:,})"
    )
    parser.add_argument("--seed", type=int_type("seed"), default=None, help="training seed (default 0)")
    parser.add_argument(
        "--out", dest="run_dir", type=Path, default=None, metavar="DIR", help="run folder (default runs/recurrent_ppo-<env>-s<seed>)"
    )
    add_renamed(parser, "--run-dir", "--out", "run_dir", type=Path)
    parser.add_argument("--device", default=None, help="cpu, cuda, cuda:N or auto (default cpu)")
    parser.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
        help="override a RecurrentPPO hyper-parameter, e.g. --set learning_rate=3e-4 (repeatable)",
    )  # fmt: skip
    parser.add_argument(
        "--threads", type=int_type("threads"), default=1, metavar="N",
        help="torch threads while training (default 1: the fastest for this small network)",
    )  # fmt: skip
    parser.add_argument("--resume", action="store_true", help="continue the run in --out from its latest checkpoint")
    parser.add_argument("--no-eval", action="store_true", help="train only; evaluate later with `nalu-rl eval RUN`")
    add_eval_arguments(parser)
    add_quiet(parser)


def run(args: argparse.Namespace) -> int:
    from nalu_rl.cli import UsageError
    from nalu_rl.cli.commands.eval import format_results
    from nalu_rl.common.errors import first_line

    check_range(args)
    if args.device is not None:
        check_device(args.device)
    overrides = parse_overrides(args.overrides)
    from nalu_rl.baselines import BaselineInterrupted, train_recurrent_ppo
    try:
        run_dir = train_recurrent_ppo(
            env=args.env, frames=args.frames, seed=args.seed, run_dir=args.run_dir, device=args.device,
            overrides=overrides, resume=args.resume, progress=not args.quiet, threads=args.threads,
        )  # fmt: skip
    except BaselineInterrupted as err:
        print(f"nalu-rl baseline: {err}; continue with --resume --out {args.run_dir or '<run folder>'}")
        return 130
    except (ImportError, FileNotFoundError, ValueError) as err:
        raise UsageError(first_line(err)) from None
    _print_training(run_dir)
    if args.no_eval:
        print(run_dir)
        return 0
    from nalu_rl.analysis.evaluate import evaluate_run

    device = args.device or "cpu"
    try:
        doc = evaluate_run(
            run_dir, t_min=args.t_min, t_max=args.t_max, episodes=args.episodes, device=device, progress=not args.quiet
        )
    except (FileNotFoundError, ValueError) as err:
        raise UsageError(first_line(err)) from None
    if not args.quiet:
        print(format_results(doc))
    print(f"recurrent_ppo (seed {doc['seed']}): horizon_90 = {doc['horizon_90']}, horizon_50 = {doc['horizon_50']}")
    print(run_dir)
    return 0


def _print_training(run_dir: Path) -> None:
    from nalu_rl.baselines.run_folder import TRAINING_FILE
    from nalu_rl.common import files

    try:
        info = files.read_json(run_dir / TRAINING_FILE)
    except (OSError, ValueError):
        return
    rate = info.get("success_rate_last_episodes")
    rate_text = "—" if rate is None else f"{rate:.3f}"
    print(
        f"trained {info['frames_done']:,} frames ({info['frames_per_second']:,.0f} frames/s this session); "
        f"success rate of the last {info['last_episodes']} training episodes: {rate_text}"
    )
