"""``nalu-rl baseline``: the Stable-Baselines3 peer (sb3-contrib RecurrentPPO), trained and evaluated like our agents."""

from __future__ import annotations

import argparse
from pathlib import Path

from nalu_rl.cli.args import (
    add_device,
    add_env,
    add_eval_arguments,
    add_frames,
    add_out,
    add_overrides,
    add_quiet,
    add_renamed,
    add_resume,
    add_seed,
    add_threads,
    check_device,
    check_range,
    parse_overrides,
)

NAME = "baseline"
HELP = "train a Stable-Baselines3 peer (sb3-contrib RecurrentPPO) on the same environment into a run folder, then evaluate it"
ORDER = 70


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from nalu_rl.baselines import ALGOS, DEFAULT_FRAMES

    parser.add_argument(
        "--algo", choices=ALGOS, default=ALGOS[0],
        help=f"the peer algorithm: {ALGOS[0]}, the only one and the default (the flag stays for scripts that pass it)",
    )  # fmt: skip
    add_env(parser, None)
    add_frames(parser, None, f"{DEFAULT_FRAMES:,}")
    add_seed(parser, None)
    add_out(parser, None, "runs/recurrent_ppo-<env>-s<seed>")
    add_renamed(parser, "--run-dir", "--out", "out", type=Path)
    add_device(parser, None)
    add_overrides(parser)
    add_threads(parser, 1)  # the fastest for this small network
    add_resume(parser)
    parser.add_argument("--no-eval", action="store_true", help="train only; evaluate later with `nalu-rl eval RUN`")
    add_eval_arguments(parser)
    add_quiet(parser)


def run(args: argparse.Namespace) -> int:
    from nalu_rl.cli.commands.eval import format_results

    t_values = check_range(args)
    if args.device is not None:
        check_device(args.device)
    overrides = parse_overrides(args.overrides)
    from nalu_rl.baselines import BaselineInterrupted, train_recurrent_ppo
    try:
        run_dir = train_recurrent_ppo(
            env=args.env, frames=args.frames, seed=args.seed, run_dir=args.out, device=args.device,
            overrides=overrides, resume=args.resume, progress=not args.quiet, threads=args.threads,
        )  # fmt: skip
    except BaselineInterrupted as err:
        print(f"nalu-rl baseline: {err}; continue with --resume --out {args.out or '<run folder>'}")
        return 130
    _print_training(run_dir)
    if args.no_eval:
        print(run_dir)
        return 0
    from nalu_rl.analysis.evaluate import evaluate_run

    device = args.device or "cpu"
    doc = evaluate_run(
        run_dir, t_values=t_values, episodes=args.episodes, device=device, progress=not args.quiet
    )
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
