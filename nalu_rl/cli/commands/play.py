"""``nalu-rl play RUN``: episodes of a trained agent (ours or the baseline) as an animated GIF."""

from __future__ import annotations

import argparse
from pathlib import Path

from nalu_rl.cli.args import add_quiet, add_renamed, check_device
from nalu_rl.common.checks import int_type

NAME = "play"
HELP = "render episodes of a trained agent (any run folder, the baseline too) to an animated GIF with t and T on each frame"
ORDER = 80


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run", metavar="RUN", type=Path, help="run folder (ours or a baseline)")
    add_quiet(parser)
    parser.add_argument(
        "--t", dest="instruction", type=int_type("instruction"), default=None, metavar="T",
        help="the instruction T of every episode (default: drawn from the run's training range)",
    )  # fmt: skip
    add_renamed(parser, "--instruction", "--t", "instruction", type=int_type("instruction"))
    add_renamed(parser, "-T", "--t", "instruction", type=int_type("instruction"))
    parser.add_argument("--episodes", type=int_type("gif_episodes"), default=1, metavar="N", help="episodes in the GIF (default 1)")
    parser.add_argument("--gif", type=Path, default=None, metavar="FILE.gif", help="the GIF to write (default RUN/episode.gif)")
    add_renamed(parser, "--out", "--gif", "gif", type=Path)
    parser.add_argument("--seed", type=int_type("seed"), default=0, help="episode i starts from reset(seed=SEED + i) (default 0)")
    parser.add_argument("--fps", type=_positive_float, default=4.0, help="frames per second (default 4)")
    parser.add_argument("--sample", action="store_true", help="sample actions from the policy instead of greedy (argmax)")
    parser.add_argument("--scale", type=int_type("scale", 1, 16), default=2, help="enlarge the frames by this factor (default 2)")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or auto (default cpu)")


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 < value < 1000:
        raise argparse.ArgumentTypeError(f"must be a number in (0, 1000), got {text}")
    return value


def run(args: argparse.Namespace) -> int:
    from nalu_rl.analysis.play import outcome_text, play
    from nalu_rl.cli import UsageError
    from nalu_rl.common.errors import first_line

    check_device(args.device)
    if not args.run.is_dir():
        raise UsageError(f"run folder not found: {args.run}")
    out = args.gif if args.gif is not None else args.run / "episode.gif"
    try:
        records = play(
            args.run, instruction=args.instruction, episodes=args.episodes, out=out, seed=args.seed, fps=args.fps,
            sample=args.sample, scale=args.scale, device=args.device,
        )  # fmt: skip
    except (ImportError, FileNotFoundError, ValueError) as err:
        raise UsageError(first_line(err)) from None
    for r in records:
        print(f"episode {r['episode'] + 1} (seed {r['seed']}, T={r['instruction']}): {outcome_text(r)}")
    print(out)
    return 0
