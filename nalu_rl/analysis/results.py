"""The result of evaluating a run per T: the ``extrapolation.json`` document and its CSV twin, written and read.

The document's fields are described in docs/RESULTS.md; the measures it carries come from
:mod:`nalu_rl.evaluation.measures`.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from nalu_rl.common import files
from nalu_rl.evaluation.measures import run_measures
from nalu_rl.runs.layout import RESULT_FILE

REQUIRED_KEYS = (
    "T", "episodes", "success_rate", "success_ci95", "mean_reward",
    "arrival_rate", "mean_arrival_time", "timing_mae",
)  # fmt: skip
RESULT_KEYS = (*REQUIRED_KEYS, "paper_reward")  # results written by 0.2.0 lack paper_reward
CSV_COLUMNS = (
    "T", "episodes", "successes", "success_rate", "success_ci95_lo", "success_ci95_hi",
    "mean_reward", "paper_reward", "arrival_rate", "mean_arrival_time", "timing_mae",
)  # fmt: skip


def summarize(
    results: Sequence[dict[str, Any]], *, agent: str, seed: Any, train_range: Sequence[int], sample: bool, **extra: Any
) -> dict[str, Any]:
    """The ``extrapolation.json`` document (docs/RESULTS.md) for per-T ``results``."""
    train_range = [int(train_range[0]), int(train_range[1])]
    doc: dict[str, Any] = {
        "agent": agent,
        "seed": seed,
        "train_range": train_range,
        "policy": "sampled" if sample else "greedy",
        "results": [{k: r[k] for k in RESULT_KEYS if k in r} for r in results],
        **run_measures(results, train_range[0]),
    }
    doc.update(extra)
    return doc


def write_csv(path: Path, results: Sequence[dict[str, Any]]) -> None:
    import io

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in results:
        lo, hi = r["success_ci95"]
        successes = r.get("successes", round(r["success_rate"] * r["episodes"]))
        row = [r["T"], r["episodes"], successes, r["success_rate"], lo, hi, r["mean_reward"], r.get("paper_reward"),
               r["arrival_rate"], r["mean_arrival_time"], r["timing_mae"]]  # fmt: skip
        writer.writerow("" if v is None else v for v in row)
    files.write_text(Path(path), buf.getvalue())


def read_result(path: Path) -> dict[str, Any]:
    """An ``extrapolation.json`` (or the run folder holding one); ValueError naming the file and the field if it is not one."""
    path = Path(path)
    if path.is_dir():
        path = path / RESULT_FILE
    try:
        doc = files.read_json(path)
    except FileNotFoundError:
        raise
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"unreadable {path}: {err}") from None
    needed = ("agent", "seed", "train_range", "policy", "results")
    if not isinstance(doc, dict) or any(k not in doc for k in needed) or not isinstance(doc["results"], list):
        raise ValueError(f"{path} is not an extrapolation result (needs {', '.join(needed)})")
    for r in doc["results"]:
        if not isinstance(r, dict) or any(k not in r for k in REQUIRED_KEYS):
            raise ValueError(f"{path}: a result lacks one of {', '.join(REQUIRED_KEYS)}")
    problem = _wrong_type(doc)
    if problem:
        raise ValueError(f"{path}: {problem}")
    return doc


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)) and math.isfinite(value)


# What each field holds (docs/RESULTS.md); "or None" where the document may leave it null.
_TOP = {"agent": "text", "train_range": "pair", "policy": "text", "horizon_90": "int?", "horizon_50": "int?",
        "reward_horizon": "int?", "reward_13_20": "number?", "frames": "int?", "checkpoint": "text"}  # fmt: skip
_ROW = {"T": "int", "episodes": "int", "success_rate": "number", "success_ci95": "pair", "mean_reward": "number",
        "arrival_rate": "number", "mean_arrival_time": "number?", "timing_mae": "number?", "paper_reward": "number?"}  # fmt: skip
_KINDS = {
    "int": (_is_int, "a whole number"),
    "number": (_is_number, "a finite number"),
    "text": (lambda v: isinstance(v, str), "text"),
    "pair": (lambda v: isinstance(v, list) and len(v) == 2 and all(_is_number(x) for x in v), "a pair of numbers"),
}


def _wrong_type(doc: dict[str, Any]) -> str | None:
    """The first field of ``doc`` whose value is not of its kind, in words; None when every one is."""
    for where, table, fields in [("", doc, _TOP)] + [(f"results[{i}].", r, _ROW) for i, r in enumerate(doc["results"])]:
        for key, kind in fields.items():
            if key not in table or (kind.endswith("?") and table[key] is None):
                continue
            test, words = _KINDS[kind.rstrip("?")]
            if not test(table[key]):
                return f"{where}{key} must be {words}{' or null' if kind.endswith('?') else ''}, got {table[key]!r:.40}"
    return None
