"""How often a few-seed interval holds the ten-seed verdict's mean: percentile bootstrap against Student's t.

    python scripts/interval_coverage.py [K]

Reads the committed learning curves of the constant-rate recipe (docs/curves/default: seeds 0-9, docs/verdict/default
and docs/verdict/portable: seeds 10-19), scores each run as the protocol does at 20M frames (mean reward over
T = 13..20 of its last 10 evaluations), and for every K-seed subset of a kernel setting's seeds (K = 3, the main
job's, by default) asks whether its 95% interval holds that setting's verdict mean (seeds 10-19). The bootstrap is
rliable's with one task: resample the seeds, take percentiles.
"""

from __future__ import annotations

import csv
import itertools
import sys
from pathlib import Path

import numpy as np
from scipy import stats

from nalu_rl.analysis.stats import BOOTSTRAP_REPS as REPS
from nalu_rl.analysis.training_curves import LATE

DOCS = Path(__file__).resolve().parents[1] / "docs"
BUDGET = 20_000_000
BATCH = 2_048  # frames per update: the last evaluation of a 20M run lands at 20,000,768


def late_scores(path: Path) -> dict[tuple[str, int], float]:
    rows: dict[tuple[str, int], list[float]] = {}
    for row in csv.DictReader(path.open()):
        if int(row["frames"]) < BUDGET + BATCH:
            rows.setdefault((row["agent"], int(row["seed"])), []).append(float(row["reward_13_20"]))
    return {key: float(np.mean(values[-LATE:])) for key, values in rows.items()}


def main(k: int) -> None:
    rng = np.random.default_rng(0)
    settings = {
        "default": {**late_scores(DOCS / "curves/default/training_curves.csv"),
                    **late_scores(DOCS / "verdict/default/training_curves.csv")},
        "portable": late_scores(DOCS / "verdict/portable/training_curves.csv"),
    }  # fmt: skip
    t_quantile = stats.t.ppf(0.975, k - 1)
    print(f"{k}-seed subsets; share whose 95% interval holds the verdict mean (seeds 10-19), median width")
    for setting, scores in settings.items():
        for agent in ("lstm", "lstm_nac"):
            values = {seed: v for (a, seed), v in scores.items() if a == agent}
            verdict = np.mean([v for seed, v in values.items() if 10 <= seed <= 19])
            held = {"bootstrap": [], "t": []}
            widths = {"bootstrap": [], "t": []}
            for subset in itertools.combinations(sorted(values), k):
                x = np.array([values[s] for s in subset])
                means = x[rng.integers(0, k, (REPS, k))].mean(axis=1)
                half = t_quantile * x.std(ddof=1) / np.sqrt(k)
                for name, (lo, hi) in (("bootstrap", np.percentile(means, [2.5, 97.5])), ("t", (x.mean() - half, x.mean() + half))):
                    held[name].append(lo <= verdict <= hi)
                    widths[name].append(hi - lo)
            print(f"{setting:8s} {agent:8s} seeds {min(values)}-{max(values)} ({len(held['t'])} subsets), verdict mean {verdict:.2f}: "
                  + ", ".join(f"{name} {np.mean(held[name]):.2f} (width {np.median(widths[name]):.2f})" for name in held))  # fmt: skip


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
