"""Statistics over seeds for reports: rliable's stratified bootstrap of means and IQMs, Student's t for few seeds."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

# --------------------------------------------------------------------------- over seeds (rliable)

BOOTSTRAP_REPS = 2000  # resamples; the intervals are reproducible for a given seed
BOOTSTRAP_SEED = 0
# Below this many seeds the mean's interval is Student's t and the IQM gets none. A percentile bootstrap over n seeds
# is a normal interval shrunk by sqrt((n - 1) / n) with z for t, and it never leaves the seeds' range: over 3 of our
# seeds it held the ten-seed verdict's mean in 66-83% of draws, Student's t in 93-97%; over 10, 91-96% and 96-98%
# (scripts/interval_coverage.py, docs/FINDINGS.md).
BOOTSTRAP_MIN_SEEDS = 10


def _interval_estimates(scores, func):
    """rliable's stratified bootstrap of ``func`` over the runs (rows) of a (runs, tasks) score matrix, or of a pair of them."""
    from rliable import library as rly  # imported here: it pulls in scipy, pandas and arch, which only reports need

    # rliable's stratified resampling draws from NumPy's global RNG whatever random_state it is
    # given, so the global state is seeded for the call (and restored) to make intervals reproducible.
    saved = np.random.get_state()
    try:
        np.random.seed(BOOTSTRAP_SEED)
        with warnings.catch_warnings():  # arch deprecates the RandomState that rliable passes on
            warnings.simplefilter("ignore", FutureWarning)
            data = tuple(np.asarray(m, dtype=float) for m in scores) if isinstance(scores, tuple) else np.asarray(scores, dtype=float)
            point, interval = rly.get_interval_estimates(
                {"x": data}, func, reps=BOOTSTRAP_REPS,
                random_state=np.random.RandomState(BOOTSTRAP_SEED),
            )  # fmt: skip
    finally:
        np.random.set_state(saved)
    return point["x"], interval["x"]


def per_task_mean_ci(scores):
    """Mean over runs of each column of a (runs, tasks) matrix and its 95% stratified bootstrap interval.

    Returns ``(mean, lo, hi)``, arrays of length ``tasks``; with one run the interval is that run's value.
    """
    scores = np.asarray(scores, dtype=float)
    if scores.shape[0] < 2:
        return scores.mean(0), scores.min(0), scores.max(0)
    point, interval = _interval_estimates(scores, lambda x: x.mean(axis=0))
    return point, interval[0], interval[1]


def seed_aggregates(values) -> dict:
    """Mean and interquartile mean of one score per seed, each with its 95% interval over seeds.

    From ``BOOTSTRAP_MIN_SEEDS`` seeds on, both intervals are rliable's stratified bootstrap; below, the mean's is
    Student's t and the IQM's is None. The IQM (mean of the middle 50% of runs) is what Agarwal et al. (2021)
    recommend beside the mean: it is robust to one outlier seed. With fewer than two seeds the intervals are None.
    """
    from rliable import metrics
    from scipy import stats

    values = np.asarray(values, dtype=float)
    if len(values) < 2:
        value = float(values[0]) if len(values) else None
        return {"mean": value, "iqm": value, "mean_ci95": None, "iqm_ci95": None}
    if len(values) < BOOTSTRAP_MIN_SEEDS:
        mean, half = values.mean(), stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values))
        return {"mean": round(float(mean), 4), "iqm": round(float(metrics.aggregate_iqm(values[:, None])), 4),
                "mean_ci95": [round(float(mean - half), 4), round(float(mean + half), 4)], "iqm_ci95": None}  # fmt: skip
    point, interval = _interval_estimates(
        values[:, None], lambda x: np.array([metrics.aggregate_mean(x), metrics.aggregate_iqm(x)])
    )
    point, lo, hi = (np.round(a.astype(float), 4).tolist() for a in (point, interval[0], interval[1]))
    return {"mean": point[0], "iqm": point[1], "mean_ci95": [lo[0], hi[0]], "iqm_ci95": [lo[1], hi[1]]}


def interval_note(seeds: Sequence[int]) -> str:
    """How a table's 95% intervals over seeds were made, for tables whose agents have ``seeds`` seeds each."""
    bootstrap = "95% stratified bootstrap over seeds (rliable)"
    if min(seeds, default=BOOTSTRAP_MIN_SEEDS) >= BOOTSTRAP_MIN_SEEDS:
        return f"Intervals: {bootstrap}."
    return (f"Intervals: for an agent with fewer than {BOOTSTRAP_MIN_SEEDS} seeds, Student's t for the mean and none for "
            f"the IQM (a bootstrap over so few seeds never leaves their range); otherwise {bootstrap}.")  # fmt: skip


def probability_of_improvement(x, y) -> dict:
    """rliable's P(X > Y) for one score per seed of two agents, with its 95% stratified bootstrap interval.

    The probability that a run of X scores higher than a run of Y (ties count half), over every pair of their seeds.
    """
    from rliable import metrics

    x, y = np.asarray(x, dtype=float)[:, None], np.asarray(y, dtype=float)[:, None]
    point, interval = _interval_estimates((x, y), metrics.probability_of_improvement)
    lo, hi = np.ravel(interval)
    return {"p": round(float(point), 4), "ci95": [round(float(lo), 4), round(float(hi), 4)]}
