"""Figures of timing extrapolation, drawn without pyplot (no GUI backend, safe in worker processes).

Legends sit outside the axes, so that no curve hides behind them. When the evaluated T reach far
past the training range (:func:`log_t`: a T list with gaps, or T above :data:`LOG_ABOVE`), T is
drawn on a log axis (and arrival time too, so that counting stays the diagonal).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import is_color_like
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter, ScalarFormatter

from nalu_rl import runs
from nalu_rl.analysis import paper
from nalu_rl.analysis.t_values import is_contiguous
from nalu_rl.common import files
from nalu_rl.evaluation.measures import HORIZON_LEVELS, REWARD_HORIZON_LEVEL, horizon_key

PAPER_HORIZONS = paper.HORIZONS
_SPARE = ("tab:cyan", "black", "gold")  # for agents whose preset names no colour
LOG_ABOVE = 60  # evaluated T beyond this (or with gaps) put T on a log axis
_HORIZON_STYLES = dict(zip(HORIZON_LEVELS, ("-", ":")))


def color(display: runs.Display, index: int = 0) -> str:
    """An agent's colour from its ``[display]`` table, else (none, or none Matplotlib knows) a spare one by its place."""
    return display.color if display.color and is_color_like(display.color) else _SPARE[index % len(_SPARE)]


def label(agent: str, display: runs.Display) -> str:
    """The agent as a legend names it: its display's label, with the name a command line takes."""
    return agent if display.label == agent else f"{display.label} [{agent}]"


def _shade_training(ax, train_range: Sequence[int]) -> None:
    lo, hi = train_range
    ax.axvspan(lo - 0.5, hi + 0.5, color="0.88", zorder=0, label=f"training range {lo}–{hi}")


def log_t(t: Sequence[float]) -> bool:
    """Whether T values reach far enough past the training range to be drawn on a log axis."""
    t = np.asarray(t, dtype=float)
    return bool(t.max() > LOG_ABOVE or not is_contiguous(t.astype(int).tolist()))


def _t_axis(ax, t: np.ndarray, log: bool) -> None:
    ax.set_xlabel("instructed time T" + (" (log scale)" if log else ""))
    if log:
        ax.set_xscale("log")
        ax.set_xlim(t.min() / 1.25, t.max() * 1.25)
        ax.xaxis.set_major_formatter(ScalarFormatter())  # 1, 10, 100 rather than 10^0, 10^1, 10^2
        ax.xaxis.set_minor_formatter(NullFormatter())
    else:
        ax.set_xlim(t.min() - 0.5, t.max() + 0.5)
    ax.grid(alpha=0.3)


def _success_axes(ax, t: np.ndarray, log: bool) -> None:
    _t_axis(ax, t, log)
    ax.set_ylabel("success rate (on time)")
    ax.set_ylim(-0.02, 1.02)


def _arrival_axes(ax, t: np.ndarray, log: bool) -> None:
    ax.plot(t, t, color="k", lw=1, ls="--", label="arrival = T (perfect counting)")
    _t_axis(ax, t, log)
    if log:
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(ScalarFormatter())
        ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set_ylabel("mean arrival time (episodes that arrived)")


def _thresholds(ax) -> None:
    """The exact-success levels the horizons read, labelled."""
    for q in HORIZON_LEVELS:
        ax.axhline(q, color="0.5", lw=0.6, ls=_HORIZON_STYLES[q], label=f"success {q} ({horizon_key(q)})")


def _legend(ax) -> None:
    """The axes' legend to the right of its data area, where it covers no curve."""
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)


def _values(results: list[dict[str, Any]], key: str) -> np.ndarray:
    return np.array([np.nan if r[key] is None else r[key] for r in results], dtype=float)


def run_figure(doc: dict[str, Any], title: str | None = None) -> Figure:
    """One run: the paper's reward vs T with its horizon; success vs T with its 95% Wilson band and horizons;
    mean arrival time vs T beside the share of episodes that arrive at all."""
    results = doc["results"]
    t = np.array([r["T"] for r in results], dtype=float)
    rate = _values(results, "success_rate")
    lo = np.array([r["success_ci95"][0] for r in results])
    hi = np.array([r["success_ci95"][1] for r in results])
    agent = str(doc.get("agent"))
    c = color(runs.display_of(agent))
    log = log_t(t)
    fig = Figure(figsize=(18, 4.4), layout="constrained")
    ax0, ax1, ax2 = fig.subplots(1, 3)
    _shade_training(ax0, doc["train_range"])
    if any(r.get("paper_reward") is not None for r in results):  # results of 0.2.0 have none
        ax0.plot(t, np.array([np.nan if r.get("paper_reward") is None else r["paper_reward"] for r in results]),
                 "o-", color=c, ms=3, label=f"{agent} ({doc.get('policy')})")  # fmt: skip
    ax0.axhline(REWARD_HORIZON_LEVEL, color="0.4", lw=0.8, ls="--", label=f"reward {REWARD_HORIZON_LEVEL} (the paper's horizon)")
    if doc.get("reward_horizon") is not None:
        ax0.axvline(doc["reward_horizon"], color=c, lw=1, label=f"reward horizon = {doc['reward_horizon']}")
    _t_axis(ax0, t, log)
    ax0.set_ylim(-1.05, 1.05)
    ax0.set_ylabel("mean episode reward (graded, as in the paper)")
    ax0.set_title("the paper's measure", fontsize=10)
    _legend(ax0)
    _shade_training(ax1, doc["train_range"])
    ax1.fill_between(t, lo, hi, color=c, alpha=0.25, lw=0, label="95% Wilson interval (episodes)")
    ax1.plot(t, rate, "o-", color=c, ms=3, label=f"{agent} ({doc.get('policy')})")
    _thresholds(ax1)
    for q in HORIZON_LEVELS:
        h = doc.get(horizon_key(q))
        if h is not None:
            ax1.axvline(h, color=c, lw=1, ls=_HORIZON_STYLES[q], label=f"{horizon_key(q)} = {h}")
    _success_axes(ax1, t, log)
    _legend(ax1)
    _shade_training(ax2, doc["train_range"])
    _arrival_axes(ax2, t, log)
    ax2.plot(t, _values(results, "mean_arrival_time"), "o-", color=c, ms=3, label=f"{agent}: mean arrival time (left)")
    share = ax2.twinx()
    share.plot(t, _values(results, "arrival_rate"), "s--", color="0.45", ms=2.5, lw=0.9, label="share of episodes that arrive (right)")
    share.set_ylim(-0.02, 1.02)
    share.set_ylabel("share of episodes that arrive")
    handles = [h for a in (ax2, share) for h in a.get_legend_handles_labels()[0]]
    labels = [lab for a in (ax2, share) for lab in a.get_legend_handles_labels()[1]]
    ax2.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.12, 1.0), fontsize=8, frameon=False)
    if title:
        fig.suptitle(title)
    return fig


def success_figure(groups: dict[str, dict[str, Any]], train_range: Sequence[int]) -> Figure:
    """Success vs T per agent: mean over seeds with a 95% band; training range shaded, the paper's horizons marked.

    ``groups[agent]`` holds arrays ``T``, ``mean``, ``lo``, ``hi``, ``arrival_mean``,
    ``arrival_min``, ``arrival_max`` and ``seeds`` (a count); see :func:`nalu_rl.analysis.report.aggregate`.
    """
    fig = Figure(figsize=(10.5, 4.8), layout="constrained")
    draw_success(fig.subplots(), groups, train_range)
    return fig


def arrival_figure(groups: dict[str, dict[str, Any]], train_range: Sequence[int]) -> Figure:
    """Mean arrival time vs instructed T per agent, with the identity line.

    An agent that counts follows the diagonal; one that saturates flattens out beyond training.
    """
    fig = Figure(figsize=(10.5, 4.8), layout="constrained")
    draw_arrival(fig.subplots(), groups, train_range)
    return fig


def reward_figure(groups: dict[str, dict[str, Any]], train_range: Sequence[int]) -> Figure:
    """The paper's own measure (its Fig. 5): mean episode reward under the graded reward vs T, with the paper's curves."""
    fig = Figure(figsize=(10.5, 4.8), layout="constrained")
    draw_reward(fig.subplots(), groups, train_range)
    return fig


def combined_figure(groups: dict[str, dict[str, Any]], train_range: Sequence[int], title: str | None = None) -> Figure:
    """The paper's measure, exact success and arrival time side by side (the README figure), one legend below."""
    fig = Figure(figsize=(17, 5.4), layout="constrained")
    ax0, ax1, ax2 = fig.subplots(1, 3)
    has_reward = draw_reward(ax0, groups, train_range, legend=False)
    draw_success(ax1, groups, train_range, legend=False)
    draw_arrival(ax2, groups, train_range, legend=False)
    labelled: dict[str, Any] = {}
    for ax in (ax0, ax1, ax2):
        for handle, text in zip(*ax.get_legend_handles_labels()):
            labelled.setdefault(text, handle)
    fig.legend(labelled.values(), labelled.keys(), loc="outside lower center", ncol=min(5, len(labelled)), fontsize=8)
    if not has_reward:
        ax0.text(0.5, 0.5, "no paper_reward in these results\n(evaluated before nalu-rl 0.3)", ha="center",
                 transform=ax0.transAxes)  # fmt: skip
    if title:
        fig.suptitle(title, fontsize=11)
    return fig


def draw_reward(ax, groups, train_range, legend: bool = True) -> bool:
    """Mean paper_reward vs T per agent (bootstrap band over seeds), the 0.7 threshold, Figure 5's points; False if no data."""
    _shade_training(ax, train_range)
    drawn = False
    for i, (agent, g) in enumerate(groups.items()):
        if np.all(np.isnan(g["reward_mean"])):
            continue
        drawn = True
        c = color(g["display"], i)
        n = g["seeds"]
        if n >= 2:
            ax.fill_between(g["T"], g["reward_lo"], g["reward_hi"], color=c, alpha=0.2, lw=0)
            _seed_lines(ax, g, "paper_reward", c)
        ax.plot(g["T"], g["reward_mean"], "o-", ms=3, color=c, label=f"{label(agent, g['display'])} (mean of {n} seed{'s' * (n != 1)})")
    for i, (agent, points) in enumerate(paper.FIGURE5.items()):
        t, r = zip(*sorted(points.items()))
        ax.plot(t, r, "x--", color=color(runs.display_of(agent), i), ms=7, mew=2, lw=0.8, alpha=0.8,
                label=f"paper Fig. 5, read off: {paper.FIGURE5_LABELS[agent]}")  # fmt: skip
    ax.axhline(REWARD_HORIZON_LEVEL, color="0.4", lw=0.8, ls="--", label=f"reward {REWARD_HORIZON_LEVEL} (the paper's horizon)")
    ax.axhline(0.0, color="0.6", lw=0.6)
    t = _t_all(groups)
    _t_axis(ax, t, log_t(t))
    ax.set_ylim(-1.05, 1.05)
    ax.set_ylabel("mean episode reward (graded, as in the paper)")
    if legend:
        _legend(ax)
    ax.set_title("the paper's measure: reward vs T (mean, 95% CI over seeds, thin: each seed)", fontsize=9)
    return drawn


def _seed_lines(ax, group: dict[str, Any], key: str, c: str) -> None:
    """One thin line per seed under the mean, so that a seed that failed shows as itself, not as a dip in a band."""
    wanted = set(group["T"].astype(int).tolist())
    for run in group["runs"]:
        points = sorted((r["T"], r.get(key)) for r in run["results"] if r["T"] in wanted and r.get(key) is not None)
        if points:
            t, v = zip(*points)
            ax.plot(t, v, "-", color=c, lw=0.7, alpha=0.35, label="_seed")


def _t_all(groups) -> np.ndarray:
    return np.unique(np.concatenate([g["T"] for g in groups.values()])) if groups else np.array([1.0, 30.0])


def draw_success(ax, groups, train_range, legend: bool = True) -> None:
    _shade_training(ax, train_range)
    for i, (agent, g) in enumerate(groups.items()):
        c = color(g["display"], i)
        if g["seeds"] >= 2:
            ax.fill_between(g["T"], g["lo"], g["hi"], color=c, alpha=0.2, lw=0)
            _seed_lines(ax, g, "success_rate", c)
        n = g["seeds"]
        ax.plot(g["T"], g["mean"], "o-", ms=3, color=c, label=f"{label(agent, g['display'])} (mean of {n} seed{'s' * (n != 1)})")
    for i, (agent, h) in enumerate(PAPER_HORIZONS.items()):
        ax.axvline(h, color=color(runs.display_of(agent), i), ls=":", lw=1.5, label=f"paper: {agent} ≈ {h}")
    _thresholds(ax)
    t = _t_all(groups)
    _success_axes(ax, t, log_t(t))
    if legend:
        _legend(ax)
    ax.set_title("exact success vs T (mean, 95% CI over seeds, thin: each seed)", fontsize=9)


def draw_arrival(ax, groups, train_range, legend: bool = True) -> None:
    _shade_training(ax, train_range)
    t = _t_all(groups)
    _arrival_axes(ax, t, log_t(t))
    for i, (agent, g) in enumerate(groups.items()):
        c = color(g["display"], i)
        if g["seeds"] >= 2:
            ax.fill_between(g["T"], g["arrival_min"], g["arrival_max"], color=c, alpha=0.2, lw=0)
        ax.plot(g["T"], g["arrival_mean"], "o-", ms=3, color=c, label=label(agent, g["display"]))
    if legend:
        _legend(ax)
    ax.set_title("does it count? mean arrival time vs instructed T (band: seed range)", fontsize=10)


def save(fig: Figure, path: Path, dpi: int = 110) -> Path:
    """Write ``fig`` as PNG atomically."""
    FigureCanvasAgg(fig)
    return files.write_with(Path(path), lambda tmp: fig.savefig(tmp, dpi=dpi), suffix=".png")


def to_image(fig: Figure, dpi: int = 80) -> np.ndarray:
    """The figure as an (H, W, 3) uint8 array, for TensorBoard."""
    fig.set_dpi(dpi)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()
