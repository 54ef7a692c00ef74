"""``nalu-rl arith``: the arithmetic benchmark of the arithmetic units (Trask et al. Table 1), static or recurrent."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from nalu_rl.cli.args import add_out, add_quiet, add_seed, add_seeds
from nalu_rl.common.checks import int_type

NAME = "arith"
HELP = "arithmetic benchmark of NAC, NALU, NAU, NMU against MLP (static) or LSTM/GRU (--recurrent) baselines (paper Table 1)"
ORDER = 60


def _names(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _int_flag(parser: argparse.ArgumentParser, flag: str, limit: str, default: int, help: str) -> None:
    parser.add_argument(flag, type=int_type(limit), default=default, help=f"{help} (default {default})")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from nalu_rl.arith import DEFAULT_MODELS, RECURRENT_MODELS, TASKS, ArithConfig
    from nalu_rl.arith.data import TASK_DEFAULTS
    from nalu_rl.arith.models import FEEDBACKS

    d = ArithConfig()
    static, recurrent = TASK_DEFAULTS["static"], TASK_DEFAULTS["recurrent"]

    def both(name: str) -> str:
        return f"default {static[name]:g}; with --recurrent {recurrent[name]:g}"
    parser.epilog = (
        "The defaults are a quick CPU run. The later literature's protocol (Madsen & Johansen) is "
        "--steps 5000000 --warmup 0.2 0.4 --test-size 10000 --eval-every 1000 with many seeds."
    )
    parser.add_argument("--tasks", type=_names, default=d.tasks, metavar="LIST",
                        help=f"comma-separated tasks (default: all of {','.join(TASKS)})")
    parser.add_argument("--models", type=_names, default=None, metavar="LIST",
                        help="comma-separated models: linear, relu6, tanh (MLP baselines; lstm, gru with --recurrent), "
                             f"a unit name (both layers), or first-second units (default: {','.join(DEFAULT_MODELS)}; "
                             f"with --recurrent {','.join(RECURRENT_MODELS)})")
    parser.add_argument("--recurrent", action="store_true",
                        help="the recurrent task (Table 1's second column): one input vector per step, a and b summed "
                             "over the sequence; prints it beside the static table when OUT holds one")
    _int_flag(parser, "--length", "length", d.length, "--recurrent: steps of a training sequence")
    _int_flag(parser, "--extrapolation-length", "extrapolation_length", d.extrapolation_length, "--recurrent: steps of an extrapolation sequence")
    parser.add_argument("--feedback", choices=FEEDBACKS, default=d.feedback,
                        help="--recurrent unit cells: identity (h + unit(x_t): the cell accumulates) or learned "
                             f"(unit over [x_t, h], as in stable-nalu) (default {d.feedback})")
    _int_flag(parser, "--rnn-hidden-size", "rnn_hidden_size", d.rnn_hidden_size, "--recurrent: units of the LSTM and GRU baselines")
    add_seeds(parser, d.seeds)  # of every task and model
    parser.add_argument("--steps", type=int_type("steps"), default=None, help=f"training steps ({both('steps')})")
    parser.add_argument("--batch-size", type=int_type("batch_size"), default=d.batch_size, help=f"(default {d.batch_size})")
    parser.add_argument("--lr", type=float, default=None, help=f"Adam learning rate ({both('learning_rate')})")
    parser.add_argument("--input-size", type=int_type("input_size"), default=None,
                        help=f"length of x, or of each step's vector with --recurrent ({both('input_size')})")
    parser.add_argument("--subset-ratio", type=float, default=d.subset_ratio,
                        help=f"slice length as a fraction of the input size (default {d.subset_ratio})")
    parser.add_argument("--overlap-ratio", type=float, default=d.overlap_ratio,
                        help=f"overlap of the two slices as a fraction of a slice (default {d.overlap_ratio})")
    parser.add_argument("--hidden-size", type=int_type("hidden_size"), default=d.hidden_size, help=f"(default {d.hidden_size})")
    parser.add_argument("--interpolation", type=float, nargs=2, default=d.interpolation, metavar=("LO", "HI"),
                        help="training and interpolation range of each input, U[LO, HI] (default 1 2)")
    parser.add_argument("--extrapolation", type=float, nargs=2, default=d.extrapolation, metavar=("LO", "HI"),
                        help="extrapolation test range, U[LO, HI] (default 2 6)")
    parser.add_argument("--sparsity", type=float, default=d.sparsity,
                        help=f"NAU/NMU sparsity regulariser weight after warm-up (default {d.sparsity:g})")
    parser.add_argument("--warmup", type=float, nargs=2, default=d.warmup, metavar=("START", "END"),
                        help="fractions of --steps over which the sparsity weight ramps from 0 to --sparsity "
                             "(default 0.4 0.7)")
    _int_flag(parser, "--eval-every", "eval_every", d.eval_every, "steps between evaluations")
    _int_flag(parser, "--test-size", "test_size", d.test_size, "samples per test set")
    parser.add_argument("--epsilon", type=float, default=d.epsilon,
                        help=f"success threshold: error of the eps-perfect solution (default {d.epsilon:g})")
    add_seed(parser, d.seed)
    add_out(parser, Path("runs/arith"))  # arith.json and TensorBoard events
    add_quiet(parser)


def run(args: argparse.Namespace) -> int:
    from torch.utils.tensorboard import SummaryWriter

    from nalu_rl.arith import REPORT_FILE, ArithConfig, format_side_by_side, format_table, run_benchmark, write_report
    from nalu_rl.cli import UsageError

    cfg = ArithConfig(
        tasks=args.tasks, models=args.models, seeds=tuple(args.seeds), steps=args.steps,
        batch_size=args.batch_size, learning_rate=args.lr, input_size=args.input_size,
        subset_ratio=args.subset_ratio, overlap_ratio=args.overlap_ratio, hidden_size=args.hidden_size,
        interpolation=tuple(args.interpolation), extrapolation=tuple(args.extrapolation),
        sparsity=args.sparsity, warmup=tuple(args.warmup), eval_every=args.eval_every,
        test_size=args.test_size, epsilon=args.epsilon, seed=args.seed, recurrent=args.recurrent,
        length=args.length, extrapolation_length=args.extrapolation_length, feedback=args.feedback,
        rnn_hidden_size=args.rnn_hidden_size,
    )
    if args.out.exists() and not args.out.is_dir():
        raise UsageError(f"--out {args.out} exists and is not a folder")

    args.out.mkdir(parents=True, exist_ok=True)
    with SummaryWriter(log_dir=str(args.out)) as writer:
        report = run_benchmark(cfg, writer=writer, progress=not args.quiet)
        table = format_table(report)
        writer.add_text(f"arith/{cfg.tag_prefix}table", "```\n" + table + "\n```")
    path = write_report(report, args.out)
    print(table)
    static = args.out / REPORT_FILE
    if args.recurrent and static.is_file():
        try:
            side = format_side_by_side(json.loads(static.read_text()), report)
        except (ValueError, KeyError, TypeError):
            side = f"({static} is not a static arithmetic report: no side-by-side table)"
        if side:
            print(f"\n{side}")
    print(f"\nwrote {path} and TensorBoard events to {args.out} ({report['elapsed_s']:.0f} s)")
    return 0
