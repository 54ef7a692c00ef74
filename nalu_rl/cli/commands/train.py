"""``nalu-rl train``: train one agent into a run folder (config.json, checkpoints/, tb/)."""

from __future__ import annotations

import argparse
import sys

from nalu_rl.cli import UsageError, os_error_line
from nalu_rl.cli.args import add_portable_argument, add_quiet, add_renamed
from nalu_rl.common.checks import int_type

NAME = "train"
HELP = "train one agent (A3C/A2C with an lstm, lstm_nac, ... core); TensorBoard events and checkpoints go to a run folder"
ORDER = 20


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from nalu_rl import presets
    from nalu_rl.envs import DEFAULT_PRESET

    agents, envs = ", ".join(presets.available("agents")), ", ".join(presets.available("envs"))
    parser.add_argument("--agent", help=f"agent preset ({agents}) or a TOML file (required for a new run)")
    parser.add_argument("--env", help=f"environment preset ({envs}) or a TOML file (default {DEFAULT_PRESET})")
    parser.add_argument("--frames", type=int_type("frames"), help="environment frames to train for, in total (default: the agent preset's)")
    parser.add_argument("--seed", type=int_type("seed"), help="seed (default 0)")
    parser.add_argument("--device", help="cpu, cuda, cuda:N or auto (default cpu); async workers on 'cuda' spread over all GPUs")
    parser.add_argument("--out", dest="run_dir", metavar="DIR", help="run folder (default runs/AGENT-ENV-sSEED)")
    add_renamed(parser, "--run-dir", "--out", "run_dir")
    parser.add_argument("--mode", choices=("async", "sync"), help="async: A3C worker processes; sync: A2C, one process, one batch")
    parser.add_argument("--workers", type=int_type("workers"), help="worker processes (async) or batch multiplier (sync)")
    parser.add_argument("--envs-per-worker", type=int_type("envs_per_worker"), help="environments each worker steps as one batch")
    parser.add_argument("--resume", action="store_true", help="continue the run in --out from its latest checkpoint")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a hyper-parameter of the preset, e.g. --set lr=3e-4 (repeatable)")
    parser.add_argument("--checkpoint-interval", type=float, default=300.0, metavar="SECONDS", help="seconds between periodic checkpoints (default 300)")
    parser.add_argument("--eval-every", type=int_type("eval_every_frames"), metavar="FRAMES",
                        help="evaluate greedily every FRAMES frames while training (T 5..20, 30, 100; 0: never; default never, "
                        "or as the resumed run had it): eval_history.csv, eval/ in TensorBoard, checkpoints/best.pt")
    add_portable_argument(parser)
    parser.add_argument("--log-interval", type=float, default=1.0, metavar="SECONDS",
                        help="seconds between TensorBoard points and progress-bar updates (default 1)")
    add_quiet(parser)


def run(args: argparse.Namespace) -> int:
    from nalu_rl.agents.config import parse_override
    from nalu_rl.agents.planning import frames_warning
    from nalu_rl.agents.trainer import TrainingInterrupted, TrainRequest, WorkerError, prepare
    from nalu_rl.agents.trainer import run as run_plan
    from nalu_rl.runs import latest_checkpoint

    try:
        overrides = dict(parse_override(item) for item in args.set)
        plan = prepare(TrainRequest(
            agent=args.agent, env=args.env, frames=args.frames, seed=args.seed, run_dir=args.run_dir,
            device=args.device, mode=args.mode, workers=args.workers, envs_per_worker=args.envs_per_worker,
            resume=args.resume, overrides=overrides, checkpoint_interval=args.checkpoint_interval,
            eval_every=args.eval_every, log_interval=args.log_interval,
        ))  # fmt: skip
    except (ValueError, FileNotFoundError) as err:
        raise UsageError(str(err)) from None
    c = plan.config
    start = plan.checkpoint["frames"] if plan.checkpoint else 0
    for note in () if args.quiet else plan.notes:
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
