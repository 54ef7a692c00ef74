"""``nalu-rl train``: train one agent into a run folder (config.json, checkpoints/, tb/)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from nalu_rl.cli import os_error_line
from nalu_rl.cli.args import (
    add_agent,
    add_device,
    add_env,
    add_eval_every,
    add_frames,
    add_out,
    add_portable_kernels,
    add_quiet,
    add_renamed,
    add_resume,
    add_seed,
    add_training_shape,
    parse_overrides,
)

NAME = "train"
HELP = "train one agent (A3C/A2C with an lstm, lstm_nac, ... core); TensorBoard events and checkpoints go to a run folder"
ORDER = 20


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_agent(parser)
    add_env(parser, None)
    add_frames(parser, None, "the agent preset's")
    add_seed(parser, None)  # None: 0 for a new run, the run's own on --resume
    add_device(parser, None)
    add_out(parser, None, "runs/AGENT-ENV-sSEED")
    add_renamed(parser, "--run-dir", "--out", "out", type=Path)
    add_training_shape(parser)
    add_resume(parser)
    parser.add_argument("--checkpoint-interval", type=float, default=300.0, metavar="SECONDS", help="seconds between periodic checkpoints (default 300)")
    add_eval_every(parser, None, "never, or as the resumed run had it")
    add_portable_kernels(parser)
    parser.add_argument("--log-interval", type=float, default=1.0, metavar="SECONDS",
                        help="seconds between TensorBoard points and progress-bar updates (default 1)")
    add_quiet(parser)


def run(args: argparse.Namespace) -> int:
    from nalu_rl.agents.planning import frames_warning
    from nalu_rl.agents.trainer import TrainingInterrupted, TrainRequest, WorkerError, prepare
    from nalu_rl.agents.trainer import run as run_plan
    from nalu_rl.runs import latest_checkpoint

    plan = prepare(TrainRequest(
        agent=args.agent, env=args.env, frames=args.frames, seed=args.seed, run_dir=args.out,
        device=args.device, mode=args.mode, workers=args.workers, envs_per_worker=args.envs_per_worker,
        resume=args.resume, overrides=parse_overrides(args.overrides), checkpoint_interval=args.checkpoint_interval,
        eval_every=args.eval_every, log_interval=args.log_interval,
    ))  # fmt: skip
    c = plan.config
    start = plan.checkpoint["frames"] if plan.checkpoint else 0
    for note in (n for n in plan.notes if not args.quiet or n.startswith("warning:")):
        print(f"nalu-rl train: {note}", file=sys.stderr)
    low = frames_warning(args.agent, c.frames, args.env) if args.agent is not None else None
    if low:
        print(f"nalu-rl train: {low}", file=sys.stderr)
    def announce() -> None:
        if args.quiet:
            return
        print(
            f"{'resuming' if plan.checkpoint else 'training'} {c.agent} on {c.env_preset} ({c.env.obs_mode}) "
            f"from {start:,} to {c.whole_frames if c.mode == 'sync' else c.frames:,} frames: {c.mode}, {c.workers} x {c.envs_per_worker} envs "
            f"on {c.device}; run folder {plan.run_dir}",
            file=sys.stderr,
        )

    resume_hint = f"continue with: nalu-rl train --resume --out {plan.run_dir}"
    try:
        run_plan(plan, progress=not args.quiet, on_start=announce)
    except TrainingInterrupted as stop:
        print(f"nalu-rl train: {stop}; {resume_hint}", file=sys.stderr)
        return 128 + stop.signum
    except WorkerError as err:
        print(f"nalu-rl train: error: {err}; latest checkpoint {latest_checkpoint(plan.run_dir)}; {resume_hint}", file=sys.stderr)
        return 1
    except ValueError as err:  # found once the folder was ours: another process moved the run, a file in the way
        print(f"nalu-rl train: error: {err}", file=sys.stderr)
        return 1
    except FloatingPointError as err:  # nothing non-finite was saved: the last checkpoint predates it
        print(f"nalu-rl train: error: {err}; {_kept(plan.run_dir)}; a lower learning rate (--set lr=...) may help", file=sys.stderr)
        return 1
    except OSError as err:  # a full disk or a quota at a save: the checkpoint before it is whole, its temporary removed
        print(f"nalu-rl train: error: {os_error_line(err)}; {_kept(plan.run_dir)}; {resume_hint} once there is room",
              file=sys.stderr)  # fmt: skip
        return 1
    if not args.quiet:
        print(f"done: {plan.run_dir}", file=sys.stderr)
    return 0


def _kept(run_dir) -> str:
    """Which checkpoint a failed run keeps, and at how many frames."""
    from nalu_rl.agents.checkpoint import load_checkpoint
    from nalu_rl.runs import latest_checkpoint

    path = latest_checkpoint(run_dir)
    if not path.is_file():
        return "no checkpoint was written"
    try:
        return f"the last good checkpoint is kept: {path} ({load_checkpoint(path)['frames']:,} frames)"
    except (OSError, ValueError):
        return f"latest checkpoint {path}"
