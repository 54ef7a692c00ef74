"""The result of evaluating a run per T: the ``extrapolation.json`` document and its CSV twin, written and read.

The document's fields are described in docs/RESULTS.md; the measures it carries come from
:mod:`nalu_rl.evaluation.measures`.
"""

from __future__ import annotations

import csv
import json
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
    """An ``extrapolation.json`` (or the run folder holding one); ValueError if it is not one."""
    path = Path(path)
    if path.is_dir():
        path = path / RESULT_FILE
    try:
        doc = json.loads(path.read_text())
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
    return doc
