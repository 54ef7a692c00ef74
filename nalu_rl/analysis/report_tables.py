"""The report's Markdown tables: the paper's measure per agent, exact-success horizons per agent and per run,
exact success at the evaluated T beyond the default range."""

from __future__ import annotations

from typing import Any

import numpy as np

from nalu_rl.analysis.stats import interval_note
from nalu_rl.analysis.t_values import DEFAULT_T_RANGE
from nalu_rl.analysis.text import NO_REFERENCE, NONE
from nalu_rl.evaluation.measures import HORIZON_LEVELS, PAPER_RANGE, REWARD_HORIZON_FROM, REWARD_HORIZON_LEVEL, horizon_key

FAR_FROM = DEFAULT_T_RANGE[1]  # evaluated T above it get a table of their own


def _fmt_horizon(value: float | None, t_max: int) -> str:
    if value is None:
        return NONE
    text = f"{value:g}"
    return f"≥{text}" if value >= t_max else text


def _fmt_rate(values: list[float | None]) -> str:
    values = [v for v in values if v is not None]
    if not values:
        return NONE
    if len(values) == 1:
        return f"{values[0]:.2f}"
    return f"{np.mean(values):.2f} ({min(values):.2f}–{max(values):.2f})"


def _fmt_score(value: float | None, ci: list[float] | None = None) -> str:
    if value is None:
        return NONE
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
        t_max = _top(a)
        ref = a["paper"]
        lines.append("| " + " | ".join([
            name, str(seeds), _fmt_score(score.get("mean"), score.get("mean_ci95")),
            _fmt_score(score.get("iqm"), score.get("iqm_ci95")), _fmt_median_range(a["reward_horizon"], seeds, t_max),
            NO_REFERENCE if ref is None else f"≈ {ref['reward_13_20']:.2f} / ≈ {ref['reward_horizon']}",
        ]) + " |")  # fmt: skip
    lines += [
        "",
        f"The paper's measure (its Fig. 5): the mean episode reward under the graded reward (1 − 0.15 per step early or "
        f"late, 0 for no arrival). Reward horizon: the largest T such that it is ≥ {REWARD_HORIZON_LEVEL} for every T "
        f"from {REWARD_HORIZON_FROM} up to it. IQM: the interquartile mean over seeds. "
        + interval_note([len(a["seeds"]) for a in summary["agents"].values()]),
        "",
    ]
    return lines


def _top(agent: dict[str, Any]) -> int:
    """The top of the agent's unbroken evaluated range (summaries written before T lists: its top T)."""
    return agent.get("t_contiguous", agent["t_range_evaluated"])[1]


def far_markdown(summary: dict[str, Any]) -> list[str]:
    """Exact success at every evaluated T beyond FAR_FROM: one row per T, per agent the mean over seeds [95% CI]."""
    agents = summary["agents"]
    curves = {name: dict(zip(a["success_vs_T"]["T"], zip(*(a["success_vs_T"][k] for k in ("mean", "ci95_lo", "ci95_hi")))))
              for name, a in agents.items()}  # fmt: skip
    far = sorted({t for curve in curves.values() for t in curve if t > FAR_FROM})
    if not far:
        return []
    lines = [f"| T | {' | '.join(agents)} |", "|---|" + "---|" * len(agents)]
    for t in far:
        cells = [f"{curves[n][t][0]:.2f} [{curves[n][t][1]:.2f}, {curves[n][t][2]:.2f}]" if t in curves[n] else "not evaluated"
                 for n in agents]  # fmt: skip
        lines.append(f"| {t} | {' | '.join(cells)} |")
    return [
        "", f"Exact success at the evaluated T beyond {FAR_FROM}: mean over seeds [95% stratified bootstrap CI; "
        "one seed: the Wilson interval over its episodes].", "", *lines,
    ]  # fmt: skip


def markdown(summary: dict[str, Any]) -> str:
    """The report's Markdown: the paper's measure, exact-success horizons per agent and per run, success far out."""
    lo, hi = summary["train_range"]
    agents = summary["agents"]
    t_top = max((_top(a) for a in agents.values()), default=hi)
    t_bottom = min((a["t_range_evaluated"][0] for a in agents.values()), default=lo)
    lines = paper_markdown(summary) + [
        f"| agent | seeds | horizon_90 median [range] | horizon_50 median [range] | success T={lo}–{hi} (training) "
        f"| success T={hi + 1}–{t_top} | paper horizon |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, a in agents.items():
        cells = [name, str(len(a["seeds"]))]
        for q in HORIZON_LEVELS:
            cells.append(_fmt_median_range(a[horizon_key(q)], len(a["seeds"]), _top(a)))
        cells += [_fmt_rate(a["success_inside"]), _fmt_rate(a["success_beyond"])]
        cells.append(NO_REFERENCE if a["paper_horizon"] is None else f"≈ {a['paper_horizon']}")
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        f"horizon_q: the largest T such that the success rate is ≥ q for every T from {lo} up to it "
        f"(\"none\": T = {lo} itself falls short; \"≥\": still above q at the top of the unbroken evaluated range). "
        "Success: mean over T in the range, mean (min–max) over seeds.",
        "",
        f"| run | agent | seed | horizon_90 | horizon_50 | success T={lo}–{hi} | success T={hi + 1}–{t_top}"
        + (f" | success T={t_bottom}–{lo - 1}" if t_bottom < lo else "")
        + f" | reward horizon | reward T={PAPER_RANGE[0]}–{PAPER_RANGE[1]} |",
        "|---|---|---|---|---|---|---|" + ("---|" if t_bottom < lo else "") + "---|---|",
    ]
    for name, a in agents.items():
        t_max = _top(a)
        for i, seed in enumerate(a["seeds"]):
            cells = [a.get("runs", [""] * len(a["seeds"]))[i], name, str(seed)]
            cells += [_fmt_horizon(a[horizon_key(q)]["per_seed"][i], t_max) for q in HORIZON_LEVELS]
            cells += [_fmt_rate([a["success_inside"][i]]), _fmt_rate([a["success_beyond"][i]])]
            if t_bottom < lo:
                cells.append(_fmt_rate([a["success_below"][i]]))
            cells += [_fmt_horizon(a["reward_horizon"]["per_seed"][i], t_max), _fmt_score(a["reward_13_20"]["per_seed"][i])]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines + far_markdown(summary)) + "\n"
