"""The arithmetic benchmark's outputs: the printed table and ``arith.json``."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from nalu_rl.arith.data import TASKS
from nalu_rl.common import files

REPORT_FILE = "arith.json"
RECURRENT_REPORT_FILE = "arith_recurrent.json"


def _cell_ratio(v: float | None) -> str:
    if v is None:
        return "inf"
    return f"{v:.1f}" if v < 1000 else f"{v:.1e}"


def _cell_success(r: dict) -> str:
    lo, hi = r["success_ci95"]
    return f"{r['successes']}/{r['seeds']} ({100 * lo:.0f}-{100 * hi:.0f}%)"


def format_table(report: dict) -> str:
    """The printed table: tasks as rows, models as columns, the paper's metric then success rates."""
    cfg = report["config"]
    by_key = {(r["task"], r["model"]): r for r in report["results"]}
    models, tasks = cfg["models"], cfg["tasks"]
    labels = [TASKS[t][0] for t in tasks]
    first = max(len(s) for s in labels + ["Extrapolation"]) + 2

    def block(title: str, cell: Callable[[dict], str]) -> list[str]:
        rows = [[cell(by_key[(t, m)]) for m in models] for t in tasks]
        widths = [max(len(m), *(len(row[j]) for row in rows)) + 2 for j, m in enumerate(models)]
        lines = [title.ljust(first) + "".join(m.rjust(w) for m, w in zip(models, widths))]
        lines += [lab.ljust(first) + "".join(c.rjust(w) for c, w in zip(row, widths)) for lab, row in zip(labels, rows)]
        return lines

    i_lo, i_hi = cfg["interpolation"]
    e_lo, e_hi = cfg["extrapolation"]
    if cfg.get("recurrent"):
        task = (f"Recurrent arithmetic task ({cfg['feedback']} feedback in the unit cells): sequences of {cfg['length']} "
                f"steps, extrapolation {cfg['extrapolation_length']} steps,")  # fmt: skip
    else:
        task = "Static arithmetic task:"
    out = [
        f"{task} {_seeds_text(cfg['seeds'])} seeds x {cfg['steps']} steps, input size {cfg['input_size']}, "
        f"train U[{i_lo:g},{i_hi:g}], extrapolate U[{e_lo:g},{e_hi:g}]",
        "",
        "Paper metric (Trask et al. Table 1): MSE / MSE of the model at initialisation x100, median over seeds "
        "(0 = perfect, 100 = random)",
    ]
    out += block("Interpolation", lambda r: _cell_ratio(r["error_x100_interpolation"]))
    out += [""]
    out += block("Extrapolation", lambda r: _cell_ratio(r["error_x100_extrapolation"]))
    out += [
        "",
        "Success rate (Madsen & Johansen): extrapolation MSE below an eps-perfect solution's "
        f"(eps = {cfg['epsilon']:g}), 95% Wilson interval",
    ]
    out += block("Success", _cell_success)
    return "\n".join(out)


def format_side_by_side(static: dict, recurrent: dict) -> str:
    """The paper's Table 1 layout: per task, each model's extrapolation error (paper metric), static then recurrent.

    Columns are the unit models both reports have (the baselines differ: MLPs against RNNs).
    """
    s_by = {(r["task"], r["model"]): r for r in static["results"]}
    r_by = {(r["task"], r["model"]): r for r in recurrent["results"]}
    models = [m for m in recurrent["config"]["models"] if m in static["config"]["models"]]
    tasks = [t for t in recurrent["config"]["tasks"] if t in static["config"]["tasks"]]
    if not models or not tasks:
        return ""
    cell = {m: max(len(m) + 2, 17) for m in models}
    lines = [
        "Table 1 side by side: extrapolation, paper metric (MSE / MSE at initialisation x100), static / recurrent",
        "".ljust(12) + "".join(m.rjust(cell[m]) for m in models),
    ]
    for t in tasks:
        row = [f"{_cell_ratio(s_by[(t, m)]['error_x100_extrapolation'])} / {_cell_ratio(r_by[(t, m)]['error_x100_extrapolation'])}"
               for m in models]  # fmt: skip
        lines.append(TASKS[t][0].ljust(12) + "".join(c.rjust(cell[m]) for c, m in zip(row, models)))
    return "\n".join(lines)


def report_file(report: dict) -> str:
    """``arith.json`` for the static task, ``arith_recurrent.json`` for the recurrent one, so both fit in one folder."""
    return RECURRENT_REPORT_FILE if report["config"].get("recurrent") else REPORT_FILE


def write_report(report: dict, out_dir: Path) -> Path:
    """Write the report into ``out_dir`` (created if needed, atomically) under :func:`report_file`; returns its path."""
    return files.write_text(Path(out_dir) / report_file(report), json.dumps(report, indent=2, allow_nan=False) + "\n")


def _seeds_text(seeds: int | list[int]) -> str:
    """A count as it is; the seeds themselves (from --seeds 4-7 or 0,3,5) as their number and list."""
    return str(seeds) if isinstance(seeds, int) else f"{len(seeds)} ({','.join(map(str, seeds))})"
