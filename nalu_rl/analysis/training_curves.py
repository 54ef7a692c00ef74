"""Extrapolation over training: the in-training evaluations of a report's runs, aligned on frames, and time to mastery.

Each run trained with ``--eval-every`` holds ``eval_history.csv`` (:mod:`nalu_rl.agents.history`).
Per agent this module draws the paper's reward over T = 13..20 and exact success over T = 8..12
against frames — one thin line per seed, the mean over seeds with its 95% stratified bootstrap
band — writes the rows of every run into one long CSV, and tabulates **time to mastery**: the
first evaluation at which greedy exact success is >= 0.9 at every T = 8..12, in frames and in
training wall seconds.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from nalu_rl.agents.history import SUMMARY_COLUMNS, read_history
from nalu_rl.analysis.display import baseline_of, preset_displays
from nalu_rl.analysis.stats import interval_note, per_task_mean_ci, probability_of_improvement, seed_aggregates
from nalu_rl.analysis.text import NONE
from nalu_rl.common import files
from nalu_rl.evaluation.measures import DEFAULT_TRAIN_RANGE, MASTERY_LEVEL, MASTERY_RANGE, PAPER_RANGE
from nalu_rl.runs import Display

CURVES_FIGURE = "training_curves.png"
CURVES_CSV = "training_curves.csv"
# (history column, what the figure's panel says)
PANELS = (
    ("reward_13_20", f"paper's reward, mean over T = {PAPER_RANGE[0]}..{PAPER_RANGE[1]} (extrapolation)"),
    ("success_8_12", f"exact success, mean over T = {MASTERY_RANGE[0]}..{MASTERY_RANGE[1]} (training range)"),
)
GRID_POINTS = 101  # where the seeds' curves are compared (linear interpolation between evaluations)
# A run's extrapolation at its budget: the mean reward over T = 13..20 of its last LATE evaluations (docs/PROTOCOL.md):
# one checkpoint is a noisy sample, the reward swings between neighbouring ones once the training range is mastered.
LATE = 10
# Seeds per agent for a verdict (docs/PROTOCOL.md): over fewer, P's bootstrap interval is too narrow (stats.py).
VERDICT_SEEDS = 10


def collect(runs: list[tuple[str, Any, Path]]) -> dict[str, list[dict[str, Any]]]:
    """Per agent, ``{"seed", "run", "rows"}`` for every ``(agent, seed, run folder)`` that has an evaluation history."""
    by_agent: dict[str, list[dict[str, Any]]] = {}
    for agent, seed, run_dir in runs:
        rows = read_history(run_dir)
        if rows:
            by_agent.setdefault(agent, []).append({"seed": seed, "run": run_dir, "rows": rows})
    return by_agent


def mastery(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The first evaluation that mastered the training range: ``{"frames", "elapsed_s"}`` (None, None where none did)."""
    first = next((row for row in rows if row.get("mastered")), None)
    return {"frames": None if first is None else first["frames"], "elapsed_s": None if first is None else first["elapsed_s"]}


def _median_worst(values: list[float | None]) -> tuple[float | None, float | None]:
    """Median and worst over seeds, a seed that never mastered counting as slower than any that did (None).

    Frames and seconds are ranked apart: the seed slowest in frames need not be the slowest in seconds.
    """
    ranked = [np.inf if v is None else float(v) for v in values]
    median, worst = statistics.median(ranked), max(ranked)
    return (None if np.isinf(median) else median), (None if np.isinf(worst) else worst)


def summarize(by_agent: dict[str, list[dict[str, Any]]], displays: Mapping[str, Display] | None = None) -> dict[str, Any]:
    """Per agent: the curves on a common frame grid (mean and 95% band over seeds) and time to mastery per seed, and for
    an agent whose display names a ``baseline`` also here (lstm_nac: lstm, the paper's comparison), the probability
    that it improves on it (``improvement_over``).

    :param displays: by agent, how it is named and whom it is compared with; its preset's display for one not in it.
    """
    displays = {**preset_displays(by_agent), **(displays or {})}
    out: dict[str, Any] = {}
    for agent, runs in by_agent.items():
        last = min(run["rows"][-1]["frames"] for run in runs)
        grid = np.linspace(0, last, GRID_POINTS)
        entry: dict[str, Any] = {"frames": grid.round().astype(int).tolist(), "seeds": [run["seed"] for run in runs]}
        for key, _ in PANELS:
            matrix = np.array([_on_grid(run["rows"], key, grid) for run in runs])
            mean, lo, hi = per_task_mean_ci(matrix)
            entry[key] = {"mean": _rounded(mean), "ci95_lo": _rounded(lo), "ci95_hi": _rounded(hi)}
        times = [mastery(run["rows"]) for run in runs]
        frames_mw, seconds_mw = _median_worst([t["frames"] for t in times]), _median_worst([t["elapsed_s"] for t in times])
        entry["mastery"] = {
            "per_seed": [{"seed": run["seed"], **t} for run, t in zip(runs, times)],
            "mastered": sum(t["frames"] is not None for t in times),
            "median_frames": frames_mw[0], "worst_frames": frames_mw[1],
            "median_seconds": seconds_mw[0], "worst_seconds": seconds_mw[1],
        }  # fmt: skip
        late = [_late(run["rows"]) for run in runs]
        entry["late"] = {
            "evaluations": LATE,
            "per_seed": [{"seed": run["seed"], **value} for run, value in zip(runs, late)],
            **(seed_aggregates([v["reward_13_20"] for v in late]) if None not in [v["reward_13_20"] for v in late] else {}),
        }
        out[agent] = entry
    for x in out:
        y = baseline_of(x, {agent: displays[agent] for agent in out})
        if y is not None and len(out[x]["seeds"]) > 1 and len(out[y]["seeds"]) > 1:
            scores = [[v["reward_13_20"] for v in out[a]["late"]["per_seed"]] for a in (x, y)]
            if None not in scores[0] + scores[1]:
                out[x]["improvement_over"] = {"agent": y, **probability_of_improvement(*scores)}
    return out


def _late(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Means over the last LATE evaluations: the paper's reward over 13..20, and the share of them that mastered 8..12."""
    last = rows[-LATE:]
    rewards = [row["reward_13_20"] for row in last if row.get("reward_13_20") is not None]
    return {
        "reward_13_20": round(float(np.mean(rewards)), 4) if len(rewards) == len(last) else None,
        "mastered_share": round(sum(bool(row.get("mastered")) for row in last) / len(last), 4),
        "evaluations": len(last),
    }


def _on_grid(rows: list[dict[str, Any]], key: str, grid: np.ndarray) -> np.ndarray:
    frames = np.array([row["frames"] for row in rows], dtype=float)
    values = np.array([np.nan if row.get(key) is None else row[key] for row in rows], dtype=float)
    keep = ~np.isnan(values)
    return np.interp(grid, frames[keep], values[keep])


def _rounded(values: np.ndarray) -> list[float]:
    return [round(float(v), 4) for v in values]


def write_csv(path: Path, by_agent: dict[str, list[dict[str, Any]]]) -> None:
    """Every evaluation of every run, long format: agent, seed, then the summary columns of the history."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(("agent", "seed", *SUMMARY_COLUMNS))
    for agent, runs in by_agent.items():
        for run in runs:
            for row in run["rows"]:
                writer.writerow((agent, run["seed"], *("" if row.get(k) is None else row[k] for k in SUMMARY_COLUMNS)))
    files.write_text(Path(path), buf.getvalue())


def mastery_markdown(summary: dict[str, Any]) -> str:
    """Time to mastery per agent (seeds mastered, median and worst) and per seed, as Markdown."""
    lo, hi = MASTERY_RANGE
    lines = [
        f"Time to mastery: the first in-training evaluation with greedy exact success ≥ {MASTERY_LEVEL} at every "
        f"T = {lo}..{hi} (frames; training wall seconds, evaluations included).",
        "",
        "| agent | mastered | median: frames (s) | slowest: frames (s) | per seed: frames (s) |",
        "|---|---|---|---|---|",
    ]
    for agent, entry in summary.items():
        m = entry["mastery"]
        per_seed = " · ".join(f"s{p['seed']}: {_when(p['frames'], p['elapsed_s'])}" for p in m["per_seed"])
        lines.append(
            f"| {agent} | {m['mastered']}/{len(m['per_seed'])} | {_when(m['median_frames'], m['median_seconds'])} "
            f"| {_when(m['worst_frames'], m['worst_seconds'])} | {per_seed} |"
        )
    return "\n".join(lines) + "\n"


def late_markdown(summary: dict[str, Any]) -> str:
    """Per agent, the paper's reward over T = 13..20 averaged over each run's last evaluations, and P(agent > baseline)
    for each agent compared with a baseline (P(lstm_nac > lstm))."""
    lo, hi = PAPER_RANGE
    counts = [len(entry["late"]["per_seed"]) for entry in summary.values()]
    lines = [
        f"The paper's reward over T = {lo}..{hi}, per run the mean of its last {LATE} in-training evaluations "
        f"(docs/PROTOCOL.md); mean and IQM over seeds. " + interval_note(counts),
        "",
        f"| agent | seeds | reward {lo}–{hi}, last {LATE}: mean [95% CI] | IQM [95% CI] | mastered share of the last {LATE} (mean) "
        "| per seed |",
        "|---|---|---|---|---|---|",
    ]
    for agent, entry in summary.items():
        late = entry["late"]
        per = late["per_seed"]
        seeds = " / ".join(NONE if v["reward_13_20"] is None else f"{v['reward_13_20']:.2f}" for v in per)
        share = np.mean([v["mastered_share"] for v in per])
        lines.append(f"| {agent} | {len(per)} | {_with_ci(late, 'mean')} | {_with_ci(late, 'iqm')} | {share:.2f} | {seeds} |")
    for agent, entry in summary.items():
        x = entry.get("improvement_over")
        if x:
            lines += ["", f"Probability of improvement P({agent} > {x['agent']}) on these scores: **{x['p']:.2f}** "
                          f"[{x['ci95'][0]:.2f}, {x['ci95'][1]:.2f}] (rliable, 95% stratified bootstrap)."]  # fmt: skip
    fewest = min(counts, default=VERDICT_SEEDS)
    if fewest < VERDICT_SEEDS:
        lines += ["", f"{fewest} seeds: a quick look, not a verdict. The interval of P above is a bootstrap over "
                      f"{fewest} seeds and so stays as narrow as their spread; the protocol's verdict takes "
                      f"{VERDICT_SEEDS} per agent (docs/PROTOCOL.md)."]  # fmt: skip
    return "\n".join(lines) + "\n"


def _with_ci(values: dict[str, Any], key: str) -> str:
    if values.get(key) is None:
        return NONE
    ci = values.get(f"{key}_ci95")
    return f"{values[key]:.2f}" + ("" if not ci else f" [{ci[0]:.2f}, {ci[1]:.2f}]")


def _when(frames: float | None, seconds: float | None) -> str:
    if frames is None:
        return "not mastered"
    return f"{frames / 1e6:.1f}M ({NONE if seconds is None else f'{seconds:.0f}'} s)"


def figure(
    by_agent: dict[str, list[dict[str, Any]]], summary: dict[str, Any], title: str | None = None,
    displays: Mapping[str, Display] | None = None,
):
    """Two panels against frames: reward over 13..20 and success over 8..12; per seed a thin line, the mean with its band.

    :param displays: by agent, how it is named and coloured; its preset's display for one not in it.
    """
    from matplotlib.figure import Figure

    from nalu_rl.analysis.plots import color, label

    displays = {**preset_displays(by_agent), **(displays or {})}
    fig = Figure(figsize=(13, 4.6), layout="constrained")
    axes = fig.subplots(1, len(PANELS))
    for ax, (key, heading) in zip(axes, PANELS):
        for i, (agent, runs) in enumerate(by_agent.items()):
            c = color(displays[agent], i)
            for run in runs:
                rows = run["rows"]
                ax.plot([r["frames"] / 1e6 for r in rows], [r[key] for r in rows], color=c, lw=0.7, alpha=0.35)
            s = summary[agent]
            x = np.array(s["frames"]) / 1e6
            what = f"mean of {len(runs)} seeds, 95% CI" if len(runs) > 1 else "1 seed"
            ax.plot(x, s[key]["mean"], color=c, lw=2.2, label=f"{label(agent, displays[agent])} ({what}; thin: each seed)")
            if len(runs) > 1:
                ax.fill_between(x, s[key]["ci95_lo"], s[key]["ci95_hi"], color=c, alpha=0.18, lw=0)
        ax.set_ylim(top=1.02)
        if key == "success_8_12":
            ax.set_ylim(bottom=-0.02)
        if key == "success_8_12":
            ax.axhline(MASTERY_LEVEL, color="0.4", ls="--", lw=0.8, label=f"mastery: ≥ {MASTERY_LEVEL} at every T (per seed)")
        ax.set_xlabel("training frames (millions)")
        ax.set_title(heading, fontsize=10)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("value at each in-training evaluation")
    handles, labels = axes[-1].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=min(4, len(labels)), fontsize=8, frameon=False)
    if title:
        fig.suptitle(title)
    return fig


FIGURE5 = "figure5.png"
FIGURE5_T = tuple(range(5, 21))  # every T an in-training evaluation scores in both ranges (T = 30, 100: off the axis)


def late_reward_per_t(rows: list[dict[str, Any]]) -> list[float] | None:
    """The paper's reward at each T of :data:`FIGURE5_T`, averaged over a run's last LATE evaluations (the verdict's
    measure, per T); None for a history that lacks a T."""
    last = rows[-LATE:]
    values = [[row.get(f"reward_T{t:02d}") for row in last] for t in FIGURE5_T]
    if any(v is None for column in values for v in column):
        return None
    return [float(np.mean(column)) for column in values]


def figure5(by_agent: dict[str, list[dict[str, Any]]], title: str, displays: Mapping[str, Display] | None = None):
    """The paper's Figure 5 from these runs: reward against T, per seed a thin line, the mean with its 95% band, and
    the paper's points with their reading error (±0.05); each run's value is its last LATE evaluations averaged.

    :param displays: by agent, how it is named and coloured; its preset's display for one not in it.
    """
    from matplotlib.figure import Figure

    from nalu_rl.analysis.paper import FIGURE5 as PAPER
    from nalu_rl.analysis.paper import FIGURE5_LABELS, paper_agent
    from nalu_rl.analysis.plots import color, label

    displays = {**preset_displays(by_agent), **(displays or {})}
    fig = Figure(figsize=(7.5, 5), layout="constrained")
    ax = fig.subplots()
    lo, hi = DEFAULT_TRAIN_RANGE
    ax.axvspan(lo - 0.5, hi + 0.5, color="0.92", lw=0, label=f"training range T = {lo}..{hi}")
    for i, (agent, runs) in enumerate(by_agent.items()):
        c = color(displays[agent], i)
        curves = np.array([v for v in (late_reward_per_t(run["rows"]) for run in runs) if v is not None])
        if not len(curves):
            continue
        for curve in curves:
            ax.plot(FIGURE5_T, curve, color=c, lw=0.7, alpha=0.35)
        mean, lo, hi = per_task_mean_ci(curves)
        what = f"mean of {len(curves)} seeds, 95% CI" if len(curves) > 1 else "1 seed"
        ax.plot(FIGURE5_T, mean, color=c, lw=2.2, label=f"{label(agent, displays[agent])} ({what}; thin: each seed)")
        if len(curves) > 1:
            ax.fill_between(FIGURE5_T, lo, hi, color=c, alpha=0.18, lw=0)
        paper = PAPER.get(paper_agent(agent) or "", {})
        shown = {t: r for t, r in paper.items() if t <= FIGURE5_T[-1]}
        if shown:
            ax.errorbar(list(shown), list(shown.values()), yerr=0.05, fmt="D", ms=5, color=c, mfc="white", capsize=2,
                        label=f"the paper: {FIGURE5_LABELS[paper_agent(agent)]} (read off its Fig. 5, ±0.05)")  # fmt: skip
    ax.set_xlabel("instructed T")
    ax.set_ylabel("the paper's reward (1 on time, 0.15 less per step off)")
    ax.set_xticks(FIGURE5_T)
    ax.set_ylim(-0.3, 1.05)  # the paper's reward runs to -1, but no curve here or in the paper falls below -0.25
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7.5, loc="lower left")
    ax.set_title(title, fontsize=9)
    return fig
