"""Reports over a folder of evaluated runs: success vs T, arrival time vs T, a Markdown table of horizons.

:func:`make_report` finds every ``extrapolation.json`` under a folder (one per run, written by
:func:`nalu_rl.analysis.evaluate.evaluate_run`), groups them by agent and writes into the folder:

* ``success_vs_T.png`` — success rate vs T per agent, mean over seeds with a 95% band (Student t
  over seeds; the Wilson interval when there is one seed), training range shaded, the paper's
  horizons marked;
* ``arrival_vs_T.png`` — mean arrival time vs instructed T with the identity line: an agent that
  counts follows the diagonal, one that saturates flattens out;
* ``extrapolation.png`` — both panels side by side;
* ``report.md`` — horizons per agent (median and range over seeds), success inside and outside
  the training range, and the same per run;
* ``summary.json`` — the numbers behind them;
* TensorBoard events under ``tb/`` (figures, the table as text, horizons).
"""

from __future__ import annotations

import math
import statistics
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nalu_rl.analysis.evaluate import HORIZON_LEVELS, RESULT_FILE, horizon_key, read_result
from nalu_rl.common import files as atomic

REPORT_FILE = "report.md"
SUMMARY_FILE = "summary.json"
SUCCESS_FIGURE = "success_vs_T.png"
ARRIVAL_FIGURE = "arrival_vs_T.png"
COMBINED_FIGURE = "extrapolation.png"
TENSORBOARD_DIR = "tb"
AGENT_ORDER = ("lstm", "lstm_nac", "lstm_clock", "lstm_countdown")

# Two-sided 97.5% quantiles of Student's t for 1..30 degrees of freedom (then the normal 1.96).
_T975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
         2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042)  # fmt: skip


def t_quantile_975(df: int) -> float:
    return _T975[df - 1] if 1 <= df <= len(_T975) else 1.959963984540054


class ReportError(ValueError):
    """Nothing to report on (no evaluated runs) or unreadable results."""


def find_results(root: Path) -> list[tuple[Path, dict[str, Any]]]:
    """``(run folder, extrapolation.json document)`` for every evaluated run under ``root``, sorted by path."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"folder not found: {root}")
    found = []
    for path in sorted(root.rglob(RESULT_FILE)):
        if any(part.startswith(".") for part in path.relative_to(root).parts):
            continue
        found.append((path.parent, read_result(path)))
    return found


def group_name(doc: dict[str, Any]) -> str:
    return str(doc["agent"]) + (" [sampled]" if doc.get("policy") == "sampled" else "")


def _agent_sort_key(name: str) -> tuple:
    base = name.split(" ")[0]
    return (AGENT_ORDER.index(base) if base in AGENT_ORDER else len(AGENT_ORDER), name)


def aggregate(docs: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per agent: the T values all its runs share, success mean and 95% band, arrival time mean/min/max, horizons."""
    by_agent: dict[str, list[dict[str, Any]]] = {}
    for doc in docs:
        by_agent.setdefault(group_name(doc), []).append(doc)
    groups = {}
    for name in sorted(by_agent, key=_agent_sort_key):
        runs = sorted(by_agent[name], key=lambda d: (d.get("seed") is None, d.get("seed")))
        common = sorted(set.intersection(*({r["T"] for r in d["results"]} for d in runs)))
        if not common:
            continue
        rows = [{r["T"]: r for r in d["results"]} for d in runs]
        rate = np.array([[row[t]["success_rate"] for t in common] for row in rows], dtype=float)
        arrival = np.array(
            [[np.nan if row[t]["mean_arrival_time"] is None else row[t]["mean_arrival_time"] for t in common] for row in rows],
            dtype=float,
        )
        n = len(runs)
        mean = rate.mean(0)
        if n >= 2:
            half = t_quantile_975(n - 1) * rate.std(0, ddof=1) / math.sqrt(n)
            lo, hi = np.clip(mean - half, 0, 1), np.clip(mean + half, 0, 1)
        else:
            ci = [rows[0][t]["success_ci95"] for t in common]
            lo, hi = np.array([c[0] for c in ci]), np.array([c[1] for c in ci])
        with warnings.catch_warnings():  # a T at which no run arrived gives NaN ("all-NaN slice")
            warnings.simplefilter("ignore", RuntimeWarning)
            arrival_mean = np.nanmean(arrival, 0)
            arrival_min, arrival_max = np.nanmin(arrival, 0), np.nanmax(arrival, 0)
        groups[name] = {
            "agent": runs[0]["agent"],
            "policy": runs[0].get("policy", "greedy"),
            "T": np.array(common, dtype=float),
            "mean": mean,
            "lo": lo,
            "hi": hi,
            "arrival_mean": arrival_mean,
            "arrival_min": arrival_min,
            "arrival_max": arrival_max,
            "seeds": n,
            "runs": runs,
        }
    return groups


def _train_range(docs: Sequence[dict[str, Any]]) -> tuple[int, int]:
    ranges = [tuple(d["train_range"]) for d in docs]
    return max(set(ranges), key=ranges.count)


def _median(values: list[int | None], floor: int) -> float | None:
    """Median of horizons where None (the bottom of the training range fails) ranks below every number."""
    ranked = [floor - 1 if v is None else v for v in values]
    m = statistics.median(ranked)
    return None if m < floor else m


def _fmt_horizon(value: float | None, t_max: int) -> str:
    if value is None:
        return "none"
    text = f"{value:g}"
    return f"≥{text}" if value >= t_max else text


def _range_success(doc: dict[str, Any], lo: int, hi: int) -> float | None:
    rates = [r["success_rate"] for r in doc["results"] if lo <= r["T"] <= hi]
    return float(np.mean(rates)) if rates else None


def _fmt_rate(values: list[float | None]) -> str:
    values = [v for v in values if v is not None]
    if not values:
        return "—"
    if len(values) == 1:
        return f"{values[0]:.2f}"
    return f"{np.mean(values):.2f} ({min(values):.2f}–{max(values):.2f})"


def summarize(groups: dict[str, dict[str, Any]], train_range: tuple[int, int]) -> dict[str, Any]:
    """The numbers of the report, JSON-ready."""
    from nalu_rl.analysis.plots import PAPER_HORIZONS

    lo, hi = train_range
    out: dict[str, Any] = {"train_range": list(train_range), "agents": {}}
    for name, g in groups.items():
        t_min, t_max = int(g["T"].min()), int(g["T"].max())
        entry: dict[str, Any] = {
            "agent": g["agent"],
            "policy": g["policy"],
            "seeds": [d.get("seed") for d in g["runs"]],
            "t_range_evaluated": [t_min, t_max],
            "paper_horizon": PAPER_HORIZONS.get(g["agent"]) if g["policy"] == "greedy" else None,
        }
        for q in HORIZON_LEVELS:
            key = horizon_key(q)
            values = [d.get(key) for d in g["runs"]]
            numbers = [v for v in values if v is not None]
            entry[key] = {
                "per_seed": values,
                "median": _median(values, lo),
                "min": None if None in values else min(numbers),
                "max": max(numbers) if numbers else None,
            }
        entry["success_inside"] = [_range_success(d, lo, hi) for d in g["runs"]]
        entry["success_beyond"] = [_range_success(d, hi + 1, t_max) for d in g["runs"]]
        entry["success_below"] = [_range_success(d, t_min, lo - 1) for d in g["runs"]]
        entry["success_vs_T"] = {
            "T": g["T"].astype(int).tolist(),
            "mean": np.round(g["mean"], 4).tolist(),
            "ci95_lo": np.round(g["lo"], 4).tolist(),
            "ci95_hi": np.round(g["hi"], 4).tolist(),
        }
        entry["arrival_vs_T"] = [None if math.isnan(v) else round(float(v), 3) for v in g["arrival_mean"]]
        out["agents"][name] = entry
    return out


def markdown(summary: dict[str, Any]) -> str:
    """The report's Markdown: horizons per agent (median, range over seeds), success inside/outside training."""
    lo, hi = summary["train_range"]
    agents = summary["agents"]
    t_top = max((a["t_range_evaluated"][1] for a in agents.values()), default=hi)
    t_bottom = min((a["t_range_evaluated"][0] for a in agents.values()), default=lo)
    lines = [
        f"| agent | seeds | horizon_90 median [range] | horizon_50 median [range] | success T={lo}–{hi} (training) "
        f"| success T={hi + 1}–{t_top} | paper horizon |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, a in agents.items():
        cells = [name, str(len(a["seeds"]))]
        for q in HORIZON_LEVELS:
            h = a[horizon_key(q)]
            t_max = a["t_range_evaluated"][1]
            low, high = _fmt_horizon(h["min"], t_max), _fmt_horizon(h["max"], t_max)
            rng = "" if len(a["seeds"]) < 2 else " (all seeds)" if low == high else f" [{low}–{high}]"
            cells.append(f"**{_fmt_horizon(h['median'], t_max)}**{rng}")
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
        + (f" | success T={t_bottom}–{lo - 1} |" if t_bottom < lo else " |"),
        "|---|---|---|---|---|---|---|" + ("---|" if t_bottom < lo else ""),
    ]
    for name, a in agents.items():
        t_max = a["t_range_evaluated"][1]
        for i, seed in enumerate(a["seeds"]):
            cells = [a.get("runs", [""] * len(a["seeds"]))[i], name, str(seed)]
            cells += [_fmt_horizon(a[horizon_key(q)]["per_seed"][i], t_max) for q in HORIZON_LEVELS]
            cells += [_fmt_rate([a["success_inside"][i]]), _fmt_rate([a["success_beyond"][i]])]
            if t_bottom < lo:
                cells.append(_fmt_rate([a["success_below"][i]]))
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def make_report(root: Path | str, *, title: str | None = None, tensorboard: bool = True) -> dict[str, Any]:
    """Write the figures, ``report.md`` and ``summary.json`` into ``root``; return the summary (+ ``"markdown"``, ``"files"``)."""
    from nalu_rl.analysis import plots

    root = Path(root)
    found = find_results(root)
    if not found:
        raise ReportError(f"no {RESULT_FILE} under {root}: evaluate its runs first (nalu-rl eval RUN)")
    docs = [doc for _, doc in found]
    train_range = _train_range(docs)
    groups = aggregate(docs)
    summary = summarize(groups, train_range)
    names = {id(doc): str(path.relative_to(root)) if path != root else "." for path, doc in found}
    for name, g in groups.items():
        summary["agents"][name]["runs"] = [names[id(d)] for d in g["runs"]]
    text = markdown(summary)
    heading = f"# {title}\n\n" if title else "# Timing extrapolation report\n\n"
    body = (
        heading
        + f"{len(docs)} evaluated run(s) under `{root}`; training range T = {train_range[0]}–{train_range[1]}.\n\n"
        + text
        + f"\n![success and arrival time vs T]({COMBINED_FIGURE})\n"
    )
    files = {
        "report": root / REPORT_FILE,
        "summary": root / SUMMARY_FILE,
        "success": root / SUCCESS_FIGURE,
        "arrival": root / ARRIVAL_FIGURE,
        "figure": root / COMBINED_FIGURE,
    }
    atomic.write_text(files["report"], body)
    atomic.write_json(files["summary"], summary)
    success_fig = plots.success_figure(groups, train_range)
    arrival_fig = plots.arrival_figure(groups, train_range)
    combined = plots.combined_figure(groups, train_range, title=title)
    plots.save(success_fig, files["success"])
    plots.save(arrival_fig, files["arrival"])
    plots.save(combined, files["figure"])
    if tensorboard:
        _log_tensorboard(root / TENSORBOARD_DIR, summary, text, success_fig, arrival_fig)
        files["tensorboard"] = root / TENSORBOARD_DIR
    return {**summary, "markdown": text, "files": {k: str(v) for k, v in files.items()}}


def _log_tensorboard(log_dir: Path, summary: dict[str, Any], text: str, success_fig, arrival_fig) -> None:
    from torch.utils.tensorboard import SummaryWriter

    from nalu_rl.analysis import plots

    with SummaryWriter(log_dir=str(log_dir)) as writer:
        writer.add_text("report/table", text)
        writer.add_image("report/success_vs_T", plots.to_image(success_fig), dataformats="HWC")
        writer.add_image("report/arrival_vs_T", plots.to_image(arrival_fig), dataformats="HWC")
        for name, a in summary["agents"].items():
            tag = name.replace(" ", "_").replace("[", "").replace("]", "")
            for q in HORIZON_LEVELS:
                median = a[horizon_key(q)]["median"]
                if median is not None:
                    writer.add_scalar(f"report/{horizon_key(q)}_median/{tag}", median)
            curve = a["success_vs_T"]
            for t, v in zip(curve["T"], curve["mean"]):
                writer.add_scalar(f"report/success_vs_T/{tag}", v, global_step=t)
