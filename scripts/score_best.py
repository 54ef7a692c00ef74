"""Score each run's ``checkpoints/best.pt`` the way ``nalu-rl eval`` scores the final weights, writing nothing into it.

    python scripts/score_best.py OUT.csv RUN_FOLDER [RUN_FOLDER ...]

best.pt is chosen during training by the training range alone (success over T = 8..12); this gives its paper's
reward over T = 13..20 and reward horizon (T = 1..30, 200 seeded episodes per T, greedy), one CSV row per run, so
that the secondary measure of docs/PROTOCOL.md can be compared with the final checkpoints' ``extrapolation.json``.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

from nalu_rl import runs
from nalu_rl.analysis.stats import probability_of_improvement, seed_aggregates
from nalu_rl.analysis.t_values import DEFAULT_EPISODES
from nalu_rl.evaluation.engine import evaluate
from nalu_rl.evaluation.measures import paper_range_reward, reward_horizon


def main(out: Path, run_dirs: list[Path]) -> None:
    rows = []
    for run_dir in run_dirs:
        agent = runs.load_agent(run_dir, checkpoint="best")
        results = evaluate(agent, range(1, 31), DEFAULT_EPISODES, env_kwargs=agent.config["env"])
        row = {"run": run_dir.name, "agent": agent.config["agent"], "seed": agent.config["seed"],
               "best_frames": agent.checkpoint["frames"], "reward_13_20": paper_range_reward(results),
               "reward_horizon": reward_horizon(results)}  # fmt: skip
        print(", ".join(f"{k} {v}" for k, v in row.items()), flush=True)
        rows.append(row)
    with open(out, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    by_agent: dict[str, list[float]] = {}
    for row in rows:
        by_agent.setdefault(row["agent"], []).append(row["reward_13_20"])
    for agent, values in by_agent.items():  # the report's statistics over seeds
        agg = seed_aggregates(values)
        (mlo, mhi), iqm_ci = agg["mean_ci95"], agg["iqm_ci95"]
        iqm = f"{agg['iqm']:.2f}" + ("" if iqm_ci is None else f" [{iqm_ci[0]:.2f}, {iqm_ci[1]:.2f}]")
        print(f"{agent}: {len(values)} seeds, mean {agg['mean']:.2f} [{mlo:.2f}, {mhi:.2f}], IQM {iqm}")
    if {"lstm", "lstm_nac"} <= set(by_agent):
        p = probability_of_improvement(by_agent["lstm_nac"], by_agent["lstm"])
        print(f"P(lstm_nac > lstm) {p['p']:.2f} [{p['ci95'][0]:.2f}, {p['ci95'][1]:.2f}]")


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__.strip().splitlines()[2].strip())
    main(Path(sys.argv[1]), [Path(p) for p in sys.argv[2:]])
