"""A sweep's records: one dict per run, returned by :func:`~nalu_rl.sweep.run_sweep` and written to ``OUT/sweep.json``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from nalu_rl import runs
from nalu_rl.analysis.text import show
from nalu_rl.common import files
from nalu_rl.common.errors import first_line
from nalu_rl.common.files import write_json

if TYPE_CHECKING:
    from nalu_rl.sweep.spec import RunSpec

SUMMARY_FILE = "sweep.json"
RECORD_KEYS = (
    "name", "agent", "seed", "run_dir", "status", "error", "reward_13_20", "reward_horizon", "horizon_90", "horizon_50",
    "t_max", "frames",
    "trained", "resumed", "evaluated", "train_seconds", "eval_seconds", "seconds", "worker",
)  # fmt: skip
STATUSES = ("ok", "skipped", "failed", "interrupted")


def new_record(spec: RunSpec, **fields: Any) -> dict[str, Any]:
    """The record of a run nothing has been done for yet, with ``fields`` set."""
    record = dict.fromkeys(RECORD_KEYS)
    record.update(name=spec.name, agent=spec.agent, seed=spec.seed, run_dir=spec.run_dir,
                  trained=False, resumed=False, evaluated=False)  # fmt: skip
    record.update(fields)
    return record


def fill_results(record: dict[str, Any]) -> None:
    """Copy the paper's measure, the horizons, the top evaluated T and the trained frames of the run's
    ``extrapolation.json`` into its record."""
    doc = files.read_json(Path(record["run_dir"]) / runs.RESULT_FILE)
    record.update({key: doc.get(key) for key in ("reward_13_20", "reward_horizon", "horizon_90", "horizon_50", "frames")})
    record["t_max"] = max((r["T"] for r in doc.get("results", [])), default=None)


def horizon_text(value: int | None, t_max: int | None) -> str:
    """A horizon as people read it: ``none``, the number, or ``≥30`` when it reached the top of the evaluated T."""
    if value is None:
        return show(value)
    return f"≥{value}" if t_max is not None and value >= t_max else str(value)


def error_text(err: BaseException) -> str:
    """A record's ``error``: the exception's type and the first line of its message."""
    return f"{type(err).__name__}: {first_line(err)}" if str(err).strip() else type(err).__name__


def write_summary(out: Path, records: list[dict[str, Any]], seconds: float, backend: str, ray_address: str | None) -> None:
    """``OUT/sweep.json``: the backend, the counts per status and every record (with failures' tracebacks)."""
    write_json(out / SUMMARY_FILE, {
        "backend": backend,
        "ray_address": ray_address,
        "seconds": round(seconds, 3),
        "counts": {s: sum(r["status"] == s for r in records) for s in STATUSES},
        "runs": records,
    })  # fmt: skip


def public(record: dict[str, Any]) -> dict[str, Any]:
    """The record as :func:`~nalu_rl.sweep.run_sweep` returns it: :data:`RECORD_KEYS` only (no traceback)."""
    return {k: record.get(k) for k in RECORD_KEYS}


def format_record(record: dict[str, Any]) -> str:
    """One line about a finished run, as the progress output prints it."""
    parts = [f"{record['name']}: {record['status']}"]
    if record["status"] in ("ok", "skipped"):
        horizons = {k: horizon_text(record.get(k), record.get("t_max")) for k in ("reward_horizon", "horizon_90", "horizon_50")}
        parts.append(f"reward_13_20={show(record.get('reward_13_20'), '.2f')} reward_horizon={horizons['reward_horizon']} "
                     f"horizon_90={horizons['horizon_90']} horizon_50={horizons['horizon_50']}")  # fmt: skip
        trained = "resumed" if record["resumed"] else "trained" if record["trained"] else ""
        what = [w for w in (trained, "evaluated" if record["evaluated"] else "") if w]
        if what:
            parts.append(f"({' + '.join(what)} in {record['seconds']:.1f} s)")
    elif record.get("error"):
        parts.append(record["error"])
    return "  ".join(parts)
