"""The measures of one run's per-T results: exact-success horizons, the paper's reward horizon and bands, mastery.

Every function here reads the per-T result dicts of :func:`nalu_rl.evaluation.engine.evaluate`.
The training range's own measures (:func:`training_range_score`, :func:`mastered`) read
T <= 12 only: they choose checkpoints, and extrapolation is the test set.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from nalu_rl.envs import rules

DEFAULT_TRAIN_RANGE = rules.T_RANGE
HORIZON_LEVELS = (0.9, 0.5)
# The paper's own measure (its Fig. 5): the mean episode reward under its graded reward, with
# the horizon read where it stays >= 0.7 from T = 8 (the lowest T at which every placement can
# be won) and the mean over T = 13..20, past the training range.
REWARD_HORIZON_LEVEL = 0.7
REWARD_HORIZON_FROM = 8
PAPER_RANGE = (13, 20)
# Mastery of the training range: greedy exact success >= 0.9 at every T = 8..12 (below 8 the
# paper's uniform placement draws start cells that cannot be reached in time).
MASTERY_RANGE = (8, 12)
MASTERY_LEVEL = 0.9
# Checkpoint selection ranks by mean success over MASTERY_RANGE, ties broken by the paper's reward over this range.
SELECTION_REWARD_RANGE = (5, 12)


def rounded(x: float) -> float:
    """Results are stored to 6 decimals: enough for rates over 2^24 episodes, and stable text in JSON and CSV."""
    return round(float(x), 6)


def horizon(results: Sequence[dict[str, Any]], train_lo: int, q: float) -> int | None:
    """The largest T' with success rate >= q for every T from ``train_lo`` up to T' (docs/RESULTS.md).

    None when ``train_lo`` itself falls short or was not evaluated; the scan stops at the first
    T that fails or is missing, and at the top of the evaluated range (the horizon may lie beyond).
    """
    return _last_above({int(r["T"]): _rate(r) for r in results}, train_lo, q)


def _last_above(by_t: dict[int, float | None], start: int, level: float) -> int | None:
    """The largest T' such that ``by_t[T] >= level`` for every T from ``start`` to T'; None if ``start`` fails."""
    best, t = None, start
    while by_t.get(t) is not None and by_t[t] >= level - 1e-9:
        best, t = t, t + 1
    return best


def _rate(result: dict[str, Any]) -> float:
    if "successes" in result:
        return result["successes"] / result["episodes"]
    return float(result["success_rate"])


def reward_horizon(results: Sequence[dict[str, Any]]) -> int | None:
    """The paper's horizon: the largest T' with ``paper_reward`` >= 0.7 for every T from 8 to T'.

    None when T = 8 falls short or was not evaluated (or the results predate ``paper_reward``).
    """
    return _last_above({int(r["T"]): r.get("paper_reward") for r in results}, REWARD_HORIZON_FROM, REWARD_HORIZON_LEVEL)


def paper_range_reward(results: Sequence[dict[str, Any]]) -> float | None:
    """The mean ``paper_reward`` over T = 13..20; None unless every one of them was evaluated."""
    return band_mean(results, "paper_reward", *PAPER_RANGE)


def horizon_key(q: float) -> str:
    return f"horizon_{round(q * 100)}"


def run_measures(results: Sequence[dict[str, Any]], train_lo: int) -> dict[str, Any]:
    """The per-run measures of ``results``: the exact-success horizons, the reward horizon and the reward over T = 13..20."""
    measures: dict[str, Any] = {horizon_key(q): horizon(results, train_lo, q) for q in HORIZON_LEVELS}
    measures["reward_horizon"] = reward_horizon(results)
    measures["reward_13_20"] = paper_range_reward(results)
    return measures




def band_mean(results: Sequence[dict[str, Any]], key: str, lo: int, hi: int) -> float | None:
    """The mean of ``key`` over T = lo..hi; None unless every one of them was evaluated with a value."""
    by_t = {int(r["T"]): r.get(key) for r in results}
    values = [by_t.get(t) for t in range(lo, hi + 1)]
    return None if None in values else rounded(sum(values) / len(values))


def _in_training_range(results: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in results if int(r["T"]) <= MASTERY_RANGE[1]]


def training_range_score(results: Sequence[dict[str, Any]]) -> tuple[float, float]:
    """What checkpoint selection ranks by: (mean success over T = 8..12, mean paper reward over T = 5..12).

    Reads T <= 12 only, whatever ``results`` holds: nothing that selects may look at extrapolation.
    ValueError when one of those T was not evaluated.
    """
    inside = _in_training_range(results)
    success = band_mean(inside, "success_rate", *MASTERY_RANGE)
    reward = band_mean(inside, "paper_reward", *SELECTION_REWARD_RANGE)
    if success is None or reward is None:
        raise ValueError(f"checkpoint selection needs results for every T in {SELECTION_REWARD_RANGE[0]}..{MASTERY_RANGE[1]}")
    return success, reward


def mastered(results: Sequence[dict[str, Any]]) -> bool:
    """Greedy exact success >= 0.9 at every T = 8..12 (T <= 12 only is read)."""
    by_t = {int(r["T"]): _rate(r) for r in _in_training_range(results)}
    return all(by_t.get(t) is not None and by_t[t] >= MASTERY_LEVEL - 1e-9 for t in range(MASTERY_RANGE[0], MASTERY_RANGE[1] + 1))
