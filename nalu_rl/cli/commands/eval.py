"""``nalu-rl eval RUN``: timing extrapolation of a trained agent, for every T of a list (default 1..30)."""

from __future__ import annotations

import argparse
from pathlib import Path

from nalu_rl.analysis.text import show
from nalu_rl.cli.args import add_device, add_eval_arguments, add_eval_seed, add_quiet, add_sample, check_device, check_range

NAME = "eval"
HELP = "evaluate a run for each instructed T of a list (--t 1-30,50,100); writes extrapolation.json/.csv/.png into the run folder"
ORDER = 30


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run", metavar="RUN", type=Path, help="run folder (holds config.json and checkpoints/)")
    add_eval_arguments(parser)
    add_sample(parser)
    add_eval_seed(parser)
    add_device(parser)
    parser.add_argument("--checkpoint", choices=("latest", "best"), default="latest",
                        help="latest: the final weights (default); best: chosen by success on T 8..12 while training (--eval-every)")
    add_quiet(parser)


def format_results(doc: dict) -> str:
    lines = [f"{'T':>5}  {'reward':>6}  {'success':>7}  {'95% CI':>13}  {'arrived':>7}  {'arrival':>7}  {'|err|':>5}"]
    lo, hi = doc["train_range"]
    for r in doc["results"]:
        mark = "*" if lo <= r["T"] <= hi else " "
        ci = f"[{r['success_ci95'][0]:.2f}, {r['success_ci95'][1]:.2f}]"
        arrival, mae = show(r["mean_arrival_time"], ".1f"), show(r["timing_mae"], ".1f")
        reward = show(r.get("paper_reward"), ".2f")
        lines.append(f"{r['T']:>4}{mark}  {reward:>6}  {r['success_rate']:>7.3f}  {ci:>13}  {r['arrival_rate']:>7.3f}  {arrival:>7}  {mae:>5}")
    lines.append(f"(* training range {lo}–{hi}; {doc['policy']} policy; reward: the paper's graded reward, its Fig. 5's measure; "
                 "arrived: the share of episodes that reach the target at all, arrival: their mean arrival time)")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from nalu_rl.analysis.evaluate import evaluate_run
    from nalu_rl.cli import UsageError
    from nalu_rl.runs.layout import CSV_FILE, FIGURE_FILE, RESULT_FILE

    t_values = check_range(args)
    check_device(args.device)
    if not args.run.is_dir():
        raise UsageError(f"run folder not found: {args.run}")
    doc = evaluate_run(
        args.run, t_values=t_values, episodes=args.episodes, sample=args.sample,
        seed=args.eval_seed, device=args.device, progress=not args.quiet, checkpoint=args.checkpoint,
    )  # fmt: skip
    if not args.quiet:
        print(format_results(doc))
    print(f"scored {doc['checkpoint']}.pt ({show(doc['frames'], ',')} frames)")
    print(f"{doc['agent']} (seed {doc['seed']}): reward 13–20 = {show(doc.get('reward_13_20'), '.2f')}, "
          f"reward horizon = {show(doc.get('reward_horizon'))}; horizon_90 = {show(doc['horizon_90'])}, horizon_50 = {show(doc['horizon_50'])}")
    for name in (RESULT_FILE, CSV_FILE, FIGURE_FILE):
        print(args.run / name)
    return 0
