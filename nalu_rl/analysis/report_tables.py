"""The report's Markdown tables: the paper's measure per agent, exact-success horizons per agent and per run."""

from __future__ import annotations

from typing import Any

import numpy as np

from nalu_rl.analysis.evaluate import HORIZON_LEVELS, PAPER_RANGE, REWARD_HORIZON_FROM, REWARD_HORIZON_LEVEL, horizon_key


def _fmt_horizon(value: float | None, t_max: int) -> str:
    if value is None:
        return "none"
    text = f"{value:g}"
    return f"≥{text}" if value >= t_max else text


def _fmt_rate(values: list[float | None]) -> str:
    values = [v for v in values if v is not None]
    if not values:
        return "—"
    if len(values) == 1:
        return f"{values[0]:.2f}"
    return f"{np.mean(values):.2f} ({min(values):.2f}–{max(values):.2f})"


def _fmt_score(value: float | None, ci: list[float] | None = None) -> str:
    if value is None:
        return "—"
    return f"{value:.2f}" + ("" if ci is None else f" [{ci[0]:.2f}, {ci[1]:.2f}]")


def _fmt_median_range(h: dict[str, Any], seeds: int, t_max: int) -> str:
    low, high = _fmt_horizon(h["min"], t_max), _fmt_horizon(h["max"], t_max)
    rng = "" if seeds < 2 else " (all seeds)" if low == high else f" [{low}–{high}]"
    return f"**{_fmt_horizon(h['median'], t_max)}**{rng}"


def paper_markdown(summary: dict[str, Any]) -> list[str]:
    """The paper's own measure per agent: mean reward over T = 13..20 (mean and IQM over seeds) and the reward horizon."""
    a_lo, a_hi = PAPER_RANGE
    lines = [
        f"| agent | seeds | reward T={a_lo}–{a_hi}: mean [95% CI] | IQM [95% CI] | reward horizon median [range] "
        f"| paper: reward T={a_lo}–{a_hi} / horizon |",
        "|---|---|---|---|---|---|",
    ]
    for name, a in summary["agents"].items():
        score, seeds = a["reward_13_20"], len(a["seeds"])
        t_max = a["t_range_evaluated"][1]
        ref = a["paper"]
        lines.append("| " + " | ".join([
            name, str(seeds), _fmt_score(score.get("mean"), score.get("mean_ci95")),
            _fmt_score(score.get("iqm"), score.get("iqm_ci95")), _fmt_median_range(a["reward_horizon"], seeds, t_max),
            "—" if ref is None else f"≈ {ref['reward_13_20']:.2f} / ≈ {ref['reward_horizon']}",
        ]) + " |")  # fmt: skip
    lines += [
        "",
        f"The paper's measure (its Fig. 5): the mean episode reward under the graded reward (1 − 0.15 per step early or "
        f"late, 0 for no arrival). Reward horizon: the largest T such that it is ≥ {REWARD_HORIZON_LEVEL} for every T "
        f"from {REWARD_HORIZON_FROM} up to it. Intervals: 95% stratified bootstrap over seeds (rliable); IQM: the "
        "interquartile mean over seeds.",
        "",
    ]
    return lines


def markdown(summary: dict[str, Any]) -> str:
    """The report's Markdown: the paper's measure, then exact-success horizons per agent and per run."""
    lo, hi = summary["train_range"]
    agents = summary["agents"]
    t_top = max((a["t_range_evaluated"][1] for a in agents.values()), default=hi)
    t_bottom = min((a["t_range_evaluated"][0] for a in agents.values()), default=lo)
    lines = paper_markdown(summary) + [
        f"| agent | seeds | horizon_90 median [range] | horizon_50 median [range] | success T={lo}–{hi} (training) "
        f"| success T={hi + 1}–{t_top} | paper horizon |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, a in agents.items():
        cells = [name, str(len(a["seeds"]))]
        for q in HORIZON_LEVELS:
            cells.append(_fmt_median_range(a[horizon_key(q)], len(a["seeds"]), a["t_range_evaluated"][1]))
        cells += [_fmt_rate(a["success_inside"]), _fmt_rate(a["success_beyond"])]
        cells.append("—" if a["paper_horizon"] is None else f"≈ {a['paper_horizon']}")
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        f"horizon_q: the largest T such that the success rate is ≥ q for every T from {lo} up to it "
        f"(\"none\": T = {lo} itself falls short; \"≥\": still above q at the top of the evaluated range). "
        "Success: mean over T in the range, mean (min–max) over seeds.",
        "",
        f"| run | agent | seed | horizon_90 | horizon_50 | success T={lo}–{hi} | success T={hi + 1}–{t_top}"
        + (f" | success T={t_bottom}–{lo - 1}" if t_bottom < lo else "")
        + f" | reward horizon | reward T={PAPER_RANGE[0]}–{PAPER_RANGE[1]} |",
        "|---|---|---|---|---|---|---|" + ("---|" if t_bottom < lo else "") + "---|---|",
    ]
    for name, a in agents.items():
        t_max = a["t_range_evaluated"][1]
        for i, seed in enumerate(a["seeds"]):
            cells = [a.get("runs", [""] * len(a["seeds"]))[i], name, str(seed)]
            cells += [_fmt_horizon(a[horizon_key(q)]["per_seed"][i], t_max) for q in HORIZON_LEVELS]
            cells += [_fmt_rate([a["success_inside"][i]]), _fmt_rate([a["success_beyond"][i]])]
            if t_bottom < lo:
                cells.append(_fmt_rate([a["success_below"][i]]))
            cells += [_fmt_horizon(a["reward_horizon"]["per_seed"][i], t_max), _fmt_score(a["reward_13_20"]["per_seed"][i])]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
