"""``nalu-rl play RUN``: episodes of a trained agent (ours or the baseline) as an animated GIF."""

from __future__ import annotations

import argparse
from pathlib import Path

from nalu_rl.cli.args import (
    add_device,
    add_episodes,
    add_eval_seed,
    add_gif,
    add_quiet,
    add_renamed,
    add_sample,
    add_t_list_argument,
    check_device,
    check_range,
)
from nalu_rl.common.checks import int_type

NAME = "play"
HELP = "render episodes of a trained agent (any run folder, the baseline too) to an animated GIF with t and T on each frame"
ORDER = 80


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run", metavar="RUN", type=Path, help="run folder (ours or a baseline)")
    add_quiet(parser)
    add_t_list_argument(parser, "drawn from the run's training range")
    add_renamed(parser, "--instruction", "--t", "t_list")
    add_renamed(parser, "-T", "--t", "t_list")
    add_episodes(parser, 1, "gif_episodes")  # every frame of a GIF is held in memory
    add_gif(parser, "RUN/episode.gif")
    add_eval_seed(parser)
    parser.add_argument("--fps", type=_positive_float, default=4.0, help="frames per second (default 4)")
    add_sample(parser)
    parser.add_argument("--scale", type=int_type("scale", 1, 16), default=2, help="enlarge the frames by this factor (default 2)")
    add_device(parser)


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

    t_values = None if args.t_list is None else check_range(args)
    check_device(args.device)
    if not args.run.is_dir():
        raise UsageError(f"run folder not found: {args.run}")
    out = args.gif if args.gif is not None else args.run / "episode.gif"
    records = play(
        args.run, instruction=t_values, episodes=args.episodes, out=out, seed=args.eval_seed, fps=args.fps,
        sample=args.sample, scale=args.scale, device=args.device,
    )  # fmt: skip
    for r in records:
        print(f"episode {r['episode'] + 1} (seed {r['seed']}, T={r['instruction']}): {outcome_text(r)}")
    print(out)
    return 0
