"""Reports over a folder of evaluated runs: the paper's measure, success and arrival time vs T, Markdown tables.

:func:`make_report` finds every ``extrapolation.json`` under a folder (one per run, written by
:func:`nalu_rl.analysis.evaluate.evaluate_run`), groups them by agent and writes into the folder:

* ``reward_vs_T.png`` — the paper's own measure (its Fig. 5): mean episode reward under the
  graded reward vs T per agent, with the paper's two curves as read off its figure;
* ``success_vs_T.png`` — exact success rate vs T per agent, training range shaded, the paper's
  horizons marked;
* ``arrival_vs_T.png`` — mean arrival time vs instructed T with the identity line: an agent that
  counts follows the diagonal, one that saturates flattens out;
* ``report.png`` — the three panels side by side;
* ``report.md`` — per agent the paper's measure (mean reward over T = 13..20, reward horizon)
  and the exact-success horizons (median and range over seeds), then the same per run, and
  exact success at each evaluated T beyond 30 (runs evaluated with a T list such as
  ``1-30,50,100,200,500,1000``);
* ``training_curves.png`` / ``training_curves.csv`` — for runs trained with ``--eval-every``: the
  paper's reward over T = 13..20 and success over T = 8..12 against frames, and a table of time to
  mastery in ``report.md`` (:mod:`nalu_rl.analysis.training_curves`);
* ``summary.json`` — the numbers behind them;
* TensorBoard events under ``tb/`` (figures, the table as text, horizons).

``report.md`` says which checkpoint each table scored, and warns when its runs were trained under
different float kernels (CPU capability, MKL/oneDNN variables) or library versions.

Bands and intervals over seeds are 95% stratified bootstrap intervals (rliable, Agarwal et al.
2021), with the interquartile mean beside the mean, except a score's interval over fewer than ten seeds, which is
Student's t for the mean (``stats.BOOTSTRAP_MIN_SEEDS``); a single run is drawn without a band, and
its success interval is the Wilson interval over its episodes. When the evaluated T reach far
past the training range (a T list, or T > 60), the figures put T on a log axis.
"""

from __future__ import annotations

import math
import statistics
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nalu_rl import runs
from nalu_rl.analysis import paper, report_tables, training_curves
from nalu_rl.analysis.display import ordered, preset_displays, run_display
from nalu_rl.analysis.results import read_result
from nalu_rl.analysis.stats import per_task_mean_ci, seed_aggregates
from nalu_rl.analysis.t_values import resolve_t_values
from nalu_rl.common import files as atomic
from nalu_rl.common.locks import FolderLock
from nalu_rl.evaluation.measures import DEFAULT_TRAIN_RANGE, HORIZON_LEVELS, REWARD_HORIZON_FROM, horizon_key, run_measures
from nalu_rl.runs.layout import RESULT_FILE

REPORT_FILE = "report.md"
SUMMARY_FILE = "summary.json"
SUCCESS_FIGURE = "success_vs_T.png"
ARRIVAL_FIGURE = "arrival_vs_T.png"
COMBINED_FIGURE = "report.png"  # not extrapolation.png: a run folder has its own figure of that name
TENSORBOARD_DIR = runs.TENSORBOARD_DIR  # the report folder's events, named as a run folder's
REWARD_FIGURE = "reward_vs_T.png"
REPORT_LOCK_FILE = ".nalu-rl.report.lock"  # its own: a report may write into a sweep folder while the sweep runs


class ReportError(ValueError):
    """Nothing to report on (no evaluated runs) or unreadable results."""


def find_results(root: Path) -> tuple[list[tuple[Path, dict[str, Any]]], list[str]]:
    """``(run folder, extrapolation.json document)`` for every evaluated run under ``root``, sorted by path, and
    one line for each run left out (an unreadable, damaged or empty result) saying which and why."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"folder not found: {root}")
    found, left_out = [], []
    for path in sorted(root.rglob(RESULT_FILE)):
        if any(part.startswith(".") for part in path.relative_to(root).parts):
            continue
        try:
            doc = read_result(path)
        except ValueError as err:
            left_out.append(f"left out {path.parent}: {err}")
            continue
        if not doc["results"]:
            left_out.append(f"left out {path.parent}: {path} holds no result (evaluate it again: nalu-rl eval {path.parent})")
            continue
        found.append((path.parent, doc))
    return found, left_out


def group_name(doc: dict[str, Any]) -> str:
    return str(doc["agent"]) + (" [sampled]" if doc.get("policy") == "sampled" else "")


def aggregate(docs: Sequence[dict[str, Any]], displays: Mapping[str, runs.Display] | None = None) -> dict[str, dict[str, Any]]:
    """Per agent: the T values all its runs share, success mean and 95% band, arrival time mean/min/max, horizons,
    and its ``display`` (from ``displays`` by group name, else its preset's), in the report's order (display.ordered)."""
    by_agent: dict[str, list[dict[str, Any]]] = {}
    for doc in docs:
        by_agent.setdefault(group_name(doc), []).append(doc)
    displays = {**preset_displays(name for name in by_agent if name not in (displays or {})), **(displays or {})}
    groups = {}
    for name in ordered({name: displays[name] for name in by_agent}):
        runs = sorted(by_agent[name], key=lambda d: (d.get("seed") is None, d.get("seed")))
        common = sorted(set.intersection(*({r["T"] for r in d["results"]} for d in runs)))
        if not common:
            continue
        rows = [{r["T"]: r for r in d["results"]} for d in runs]
        rate = np.array([[row[t]["success_rate"] for t in common] for row in rows], dtype=float)
        reward = np.array([[_or_nan(row[t].get("paper_reward")) for t in common] for row in rows], dtype=float)
        arrival = np.array(
            [[np.nan if row[t]["mean_arrival_time"] is None else row[t]["mean_arrival_time"] for t in common] for row in rows],
            dtype=float,
        )
        n = len(runs)
        if n >= 2:
            mean, lo, hi = per_task_mean_ci(rate)
        else:  # one run: the interval over its episodes
            mean = rate[0]
            ci = [rows[0][t]["success_ci95"] for t in common]
            lo, hi = np.array([c[0] for c in ci]), np.array([c[1] for c in ci])
        if np.isnan(reward).any():  # results evaluated before nalu-rl 0.3 have no paper_reward
            reward_mean = reward_lo = reward_hi = np.full(len(common), np.nan)
        else:
            reward_mean, reward_lo, reward_hi = per_task_mean_ci(reward)
        with warnings.catch_warnings():  # a T at which no run arrived gives NaN ("all-NaN slice")
            warnings.simplefilter("ignore", RuntimeWarning)
            arrival_mean = np.nanmean(arrival, 0)
            arrival_min, arrival_max = np.nanmin(arrival, 0), np.nanmax(arrival, 0)
        groups[name] = {
            "agent": runs[0]["agent"],
            "display": displays[name],
            "policy": runs[0].get("policy", "greedy"),
            "T": np.array(common, dtype=float),
            "mean": mean,
            "lo": lo,
            "hi": hi,
            "reward_mean": reward_mean,
            "reward_lo": reward_lo,
            "reward_hi": reward_hi,
            "arrival_mean": arrival_mean,
            "arrival_min": arrival_min,
            "arrival_max": arrival_max,
            "seeds": n,
            "runs": runs,
        }
    return groups


def _or_nan(value: float | None) -> float:
    return np.nan if value is None else value


def _train_range(docs: Sequence[dict[str, Any]]) -> tuple[int, int]:
    ranges = [tuple(d["train_range"]) for d in docs]
    return max(set(ranges), key=ranges.count)


def _median(values: list[int | None], floor: int) -> float | None:
    """Median of horizons where None (the bottom of the training range fails) ranks below every number."""
    ranked = [floor - 1 if v is None else v for v in values]
    m = statistics.median(ranked)
    return None if m < floor else m


def _horizon_summary(values: list[int | None], floor: int) -> dict[str, Any]:
    """Per-seed horizons with their median (None ranking lowest) and range; ``floor`` is where the scan starts."""
    numbers = [v for v in values if v is not None]
    return {
        "per_seed": values,
        "median": _median(values, floor),
        "min": None if None in values else min(numbers),
        "max": max(numbers) if numbers else None,
    }


def _contiguous_top(ts: Sequence[float]) -> int:
    """The top of the unbroken run of T that starts at the smallest of ``ts`` (horizons cannot pass a gap)."""
    have = {int(t) for t in ts}
    top = min(have)
    while top + 1 in have:
        top += 1
    return top


def _range_success(doc: dict[str, Any], lo: int, hi: int) -> float | None:
    rates = [r["success_rate"] for r in doc["results"] if lo <= r["T"] <= hi]
    return float(np.mean(rates)) if rates else None


def summarize(groups: dict[str, dict[str, Any]], train_range: tuple[int, int]) -> dict[str, Any]:
    """The numbers of the report, JSON-ready."""
    lo, hi = train_range
    out: dict[str, Any] = {"train_range": list(train_range), "agents": {}}
    for name, g in groups.items():
        t_min, t_max, t_top = int(g["T"].min()), int(g["T"].max()), _contiguous_top(g["T"])
        entry: dict[str, Any] = {
            "agent": g["agent"],
            "policy": g["policy"],
            "seeds": [d.get("seed") for d in g["runs"]],
            "t_range_evaluated": [t_min, t_max],
            "t_contiguous": [t_min, t_top],  # the unbroken range from t_min: where horizons can reach
            "paper_horizon": paper.HORIZONS.get(g["agent"]) if g["policy"] == "greedy" else None,
        }
        stands_for = paper.paper_agent(str(g["agent"])) if g["policy"] == "greedy" else None
        entry["paper"] = None if stands_for is None else {
            "agent": stands_for,
            "reward_horizon": paper.REWARD_HORIZONS[stands_for],
            "reward_13_20": paper.REWARD_13_20[stands_for],
        }
        entry["reward_horizon"] = _horizon_summary([d.get("reward_horizon") for d in g["runs"]], REWARD_HORIZON_FROM)
        scores = [d.get("reward_13_20") for d in g["runs"]]
        entry["reward_13_20"] = {"per_seed": scores, **(seed_aggregates(scores) if None not in scores else {})}
        for q in HORIZON_LEVELS:
            entry[horizon_key(q)] = _horizon_summary([d.get(horizon_key(q)) for d in g["runs"]], lo)
        entry["success_inside"] = [_range_success(d, lo, hi) for d in g["runs"]]
        entry["success_beyond"] = [_range_success(d, hi + 1, t_top) for d in g["runs"]]
        entry["success_below"] = [_range_success(d, t_min, lo - 1) for d in g["runs"]]
        entry["success_vs_T"] = {
            "T": g["T"].astype(int).tolist(),
            "mean": np.round(g["mean"], 4).tolist(),
            "ci95_lo": np.round(g["lo"], 4).tolist(),
            "ci95_hi": np.round(g["hi"], 4).tolist(),
        }
        entry["reward_vs_T"] = {
            "T": g["T"].astype(int).tolist(),
            "mean": [None if math.isnan(v) else round(float(v), 4) for v in g["reward_mean"]],
            "ci95_lo": [None if math.isnan(v) else round(float(v), 4) for v in g["reward_lo"]],
            "ci95_hi": [None if math.isnan(v) else round(float(v), 4) for v in g["reward_hi"]],
        }
        entry["arrival_vs_T"] = [None if math.isnan(v) else round(float(v), 3) for v in g["arrival_mean"]]
        out["agents"][name] = entry
    return out


def make_report(
    root: Path | str,
    *,
    title: str | None = None,
    tensorboard: bool = True,
    t_values: str | Sequence[int] | None = None,
    out: Path | str | None = None,
) -> dict[str, Any]:
    """Write the figures, ``report.md`` and ``summary.json`` of the runs under ``root`` into ``out`` (default ``root``,
    created if missing); return the summary (+ ``"markdown"``, ``"files"``).

    ``t_values`` (ints, or text such as ``"1-30,50,100"``) selects which evaluated T the tables
    and figures show; the horizons are the runs' own, from every T they were evaluated for.
    One report at a time writes into a folder (:class:`~nalu_rl.common.locks.FolderBusy` for a second); what a
    report killed mid-write left there is removed first.
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"folder not found: {root}")
    out = root if out is None else Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"report folder {out} exists and is not a folder")
    with FolderLock(out, what="report", name=REPORT_LOCK_FILE):
        atomic.remove_stale_temps(out)
        atomic.remove_stale_temps(out / TENSORBOARD_DIR)
        return _write_report(root, out, title, tensorboard, t_values)


def _write_report(
    root: Path, out: Path, title: str | None, tensorboard: bool, t_values: str | Sequence[int] | None
) -> dict[str, Any]:
    from nalu_rl.analysis import plots

    found, left_out = find_results(root)
    if not found:
        why = f" ({'; '.join(left_out)})" if left_out else ""
        raise ReportError(f"no {RESULT_FILE} to report on under {root}: evaluate its runs first (nalu-rl eval RUN; in Python nalu_rl.evaluate(run)){why}")
    if t_values is not None:
        found = _select_t(found, set(resolve_t_values(t_values)), root)
    docs = [doc for _, doc in found]
    train_range = _train_range(docs)
    displays: dict[str, runs.Display] = {}
    for path, doc in found:  # a group's display: what its first run recorded (display.run_display)
        displays.setdefault(group_name(doc), run_display(str(doc["agent"]), path))
    groups = aggregate(docs, displays)
    summary = summarize(groups, train_range)
    names = {id(doc): str(path.relative_to(root)) if path != root else "." for path, doc in found}
    for name, g in groups.items():
        summary["agents"][name]["runs"] = [names[id(d)] for d in g["runs"]]
    text = report_tables.markdown(summary)
    summary["checkpoints"] = _scored(docs)
    summary["warnings"] = left_out + provenance_warnings([path for path, _ in found])
    by_agent = training_curves.collect([(group_name(doc), doc.get("seed"), path) for path, doc in found])
    training = training_curves.summarize(by_agent, displays) if by_agent else {}
    summary["training"] = training
    heading = f"# {title}\n\n" if title else "# Timing extrapolation report\n\n"
    notes = "".join(f"> **Warning:** {w}\n\n" for w in summary["warnings"])
    body = (
        heading
        + f"{len(docs)} evaluated run(s) under `{root}`; training range T = {train_range[0]}–{train_range[1]}; "
        + f"scored: {summary['checkpoints']}.\n\n"
        + notes
        + text
        + f"\n![the paper's measure, success and arrival time vs T]({COMBINED_FIGURE})\n"
    )
    if training:
        body += ("\n## Extrapolation over training\n\n" + training_curves.mastery_markdown(training)
                 + "\n" + training_curves.late_markdown(training)
                 + f"\n![reward over T = 13..20 and success over T = 8..12 against frames]({training_curves.CURVES_FIGURE})\n")
    files = {
        "report": out / REPORT_FILE,
        "summary": out / SUMMARY_FILE,
        "success": out / SUCCESS_FIGURE,
        "arrival": out / ARRIVAL_FIGURE,
        "reward": out / REWARD_FIGURE,
        "figure": out / COMBINED_FIGURE,
    }
    atomic.write_text(files["report"], body)
    atomic.write_json(files["summary"], summary)
    figures = {
        "success": plots.success_figure(groups, train_range),
        "arrival": plots.arrival_figure(groups, train_range),
        "reward": plots.reward_figure(groups, train_range),
        "figure": plots.combined_figure(groups, train_range, title=title),
    }
    if training:
        files["training_curves"] = out / training_curves.CURVES_FIGURE
        files["training_csv"] = out / training_curves.CURVES_CSV
        figures["training_curves"] = training_curves.figure(by_agent, training, title=title, displays=displays)
        files["figure5"] = out / training_curves.FIGURE5
        figures["figure5"] = training_curves.figure5(by_agent, _figure5_title(by_agent, found), displays)
        training_curves.write_csv(files["training_csv"], by_agent)
    for key, fig in figures.items():
        plots.save(fig, files[key])
    if tensorboard:
        _log_tensorboard(out / TENSORBOARD_DIR, summary, text, figures)
        files["tensorboard"] = out / TENSORBOARD_DIR
    return {**summary, "markdown": text, "files": {k: str(v) for k, v in files.items()}}


def _figure5_title(by_agent: dict[str, list[dict[str, Any]]], found: list[tuple[Path, dict[str, Any]]]) -> str:
    """What the answer's figure shows, said in its title: runs, seeds, frames, kernel setting, and the measure."""
    from nalu_rl.runs import read_json

    configs = []
    for path, _ in found:
        try:
            configs.append(read_json(path))
        except (OSError, ValueError):
            continue
    seeds = sorted({run["seed"] for runs in by_agent.values() for run in runs if isinstance(run["seed"], int)})
    seed_text = f"seeds {seeds[0]}–{seeds[-1]}" if seeds and seeds == list(range(seeds[0], seeds[-1] + 1)) else (
        f"seeds {', '.join(map(str, seeds))}")  # fmt: skip
    frames = sorted({c.get("frames") for c in configs if isinstance(c.get("frames"), int)})
    frames_text = "/".join(f"{f / 1e6:g}M" for f in frames) + " frames" if frames else "frames unknown"
    portable = {bool((c.get("provenance") or {}).get("kernels", {}).get("portable")) for c in configs}
    kernels = {frozenset({False}): "default kernels", frozenset({True}): "portable kernels"}.get(frozenset(portable), "mixed kernels")
    agents = " vs ".join(by_agent)
    return (f"{agents}: {seed_text} per agent, {frames_text}, {kernels}\n"
            f"reward per T: each run's last {training_curves.LATE} in-training evaluations averaged")


def _scored(docs: Sequence[dict[str, Any]]) -> str:
    """Which checkpoint the runs' results scored, in words: results made before 0.4 scored the final weights too."""
    names = sorted({d.get("checkpoint", "latest") for d in docs})
    text = {"latest": "the final checkpoint (latest.pt)", "best": "the best checkpoint by T = 8..12 (best.pt)"}
    return " and ".join(text[n] for n in names) + (" (mixed across runs)" if len(names) > 1 else "")


def provenance_warnings(run_dirs: Sequence[Path]) -> list[str]:
    """One line per provenance field on which the runs differ (CPU capability, kernel variables, library versions).

    Runs whose config.json predates these fields (or the peer's) are not counted.
    """
    seen: dict[str, dict[str, list[str]]] = {}
    for run_dir in run_dirs:
        try:  # provenance alone is read: runs.read_config would refuse a folder for fields this does not need
            config = runs.read_json(Path(run_dir))
        except (OSError, ValueError):
            continue
        prov = config.get("provenance")
        if not isinstance(prov, dict) or not isinstance(prov.get("kernels"), dict):
            continue
        kernels = prov["kernels"]
        fields = {"CPU capability": kernels.get("cpu_capability"), "Python": prov.get("python")}
        fields.update({name: value for name, value in (kernels.get("variables") or {}).items()})
        fields.update({name: value for name, value in (prov.get("libraries") or {}).items()})
        for field, value in fields.items():
            seen.setdefault(field, {}).setdefault(str(value if value is not None else "unset"), []).append(Path(run_dir).name)
    return [
        f"the runs differ in {field}: " + "; ".join(f"{value} ({len(names)} run{'s' if len(names) > 1 else ''}: {', '.join(names[:3])}{', ...' if len(names) > 3 else ''})"
                                                   for value, names in values.items())
        for field, values in seen.items() if len(values) > 1
    ]  # fmt: skip


def _select_t(found: list[tuple[Path, dict[str, Any]]], wanted: set[int], root: Path) -> list[tuple[Path, dict[str, Any]]]:
    """The runs with their results at the ``wanted`` T only, and their measures over those; runs evaluated at none drop out.

    A horizon of 25 over T = 1..30 is "≥ 20" over T = 1..20, so the measures are taken anew.
    """
    selected = []
    for path, doc in found:
        results = [r for r in doc["results"] if r["T"] in wanted]
        if results:
            lo = (doc.get("train_range") or DEFAULT_TRAIN_RANGE)[0]
            selected.append((path, {**doc, "results": results, **run_measures(results, lo)}))
    if not selected:
        raise ReportError(f"no run under {root} was evaluated at any of the T asked for")
    return selected


def _log_tensorboard(log_dir: Path, summary: dict[str, Any], text: str, figures: dict[str, Any]) -> None:
    from torch.utils.tensorboard import SummaryWriter

    from nalu_rl.analysis import plots

    with SummaryWriter(log_dir=str(log_dir)) as writer:
        writer.add_text("report/table", text)
        for key in ("success", "arrival", "reward"):
            writer.add_image(f"report/{key}_vs_T", plots.to_image(figures[key]), dataformats="HWC")
        for name, a in summary["agents"].items():
            tag = name.replace(" ", "_").replace("[", "").replace("]", "")
            for q in HORIZON_LEVELS:
                median = a[horizon_key(q)]["median"]
                if median is not None:
                    writer.add_scalar(f"report/{horizon_key(q)}_median/{tag}", median)
            if a["reward_horizon"]["median"] is not None:
                writer.add_scalar(f"report/reward_horizon_median/{tag}", a["reward_horizon"]["median"])
            if a["reward_13_20"].get("mean") is not None:
                writer.add_scalar(f"report/reward_13_20_mean/{tag}", a["reward_13_20"]["mean"])
            # the curves against T are the figures above: as scalars TensorBoard would smooth across neighbouring T
