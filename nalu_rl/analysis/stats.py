"""Statistics over seeds for reports: rliable's stratified bootstrap of means and IQMs."""

from __future__ import annotations

import warnings

import numpy as np

# --------------------------------------------------------------------------- over seeds (rliable)

BOOTSTRAP_REPS = 2000  # resamples; the intervals are reproducible for a given seed
BOOTSTRAP_SEED = 0


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
    """Mean and interquartile mean of one score per seed, each with its 95% stratified bootstrap interval.

    The IQM (mean of the middle 50% of runs) is what Agarwal et al. (2021) recommend beside the
    mean for few seeds: it is robust to one outlier seed. With fewer than two seeds the intervals are None.
    """
    from rliable import metrics

    values = np.asarray(values, dtype=float)
    if len(values) < 2:
        value = float(values[0]) if len(values) else None
        return {"mean": value, "iqm": value, "mean_ci95": None, "iqm_ci95": None}
    point, interval = _interval_estimates(
        values[:, None], lambda x: np.array([metrics.aggregate_mean(x), metrics.aggregate_iqm(x)])
    )
    point, lo, hi = (np.round(a.astype(float), 4).tolist() for a in (point, interval[0], interval[1]))
    return {"mean": point[0], "iqm": point[1], "mean_ci95": [lo[0], hi[0]], "iqm_ci95": [lo[1], hi[1]]}


def probability_of_improvement(x, y) -> dict:
    """rliable's P(X > Y) for one score per seed of two agents, with its 95% stratified bootstrap interval.

    The probability that a run of X scores higher than a run of Y (ties count half), over every pair of their seeds.
    """
    from rliable import metrics

    x, y = np.asarray(x, dtype=float)[:, None], np.asarray(y, dtype=float)[:, None]
    point, interval = _interval_estimates((x, y), metrics.probability_of_improvement)
    lo, hi = np.ravel(interval)
    return {"p": round(float(point), 4), "ci95": [round(float(lo), 4), round(float(hi), 4)]}
