"""Gather what scripts/gpu/run.sh measured into OUT/summary.json and OUT/result.txt.

Run after every phase, so that a run stopped half-way still brings back what it had. Reads the
work folder's ``phases.tsv`` (phase, status, seconds, note), ``machine.json`` and the output
folder's JSON files; imports nothing heavy.

    python scripts/gpu/summary.py WORK OUT
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def read_json(path: Path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def bench_env_rows(rows: list[dict] | None) -> list[str]:
    return [f"bench env {r['impl']} {r['obs_mode']} K={r['num_envs']} {r['device']}: {r['steps_per_s']:,.0f} env-steps/s, "
            f"peak {r['peak_mb']:,.1f} MB" for r in rows or []]  # fmt: skip


def bench_train_rows(rows: list[dict] | None) -> list[str]:
    return [f"bench train {r['mode']} {r['envs']} {r['device']}: {r['steps_per_s']:,.0f} env-steps/s "
            f"({r['frames']:,} frames in {r['wall_s']:.1f} s)" for r in rows or []]  # fmt: skip


def main(work: Path, out: Path) -> None:
    phases = []
    if (work / "phases.tsv").exists():
        for line in (work / "phases.tsv").read_text().splitlines():
            name, status, seconds, note = (line.split("\t") + ["", "", ""])[:4]
            phases.append({"phase": name, "status": status, "wall_s": float(seconds or 0), "note": note})
    train = read_json(out / "train.json") or {}
    doc = {
        "machine": read_json(work / "machine.json"),
        "phases": phases,
        "target": train.get("line"),
        "bench_env": read_json(out / "bench_env.json"),
        "bench_train": read_json(out / "bench_train.json"),
        "train": {k: train.get(k) for k in ("result", "frames", "train_wall_s", "wall_s", "trainer_returncode", "settings")},
    }
    (out / "summary.json").write_text(json.dumps(doc, indent=2) + "\n")
    lines = [f"{p['phase']}: {p['status']} ({p['wall_s']:.0f} s){' ' + p['note'] if p['note'] else ''}" for p in phases]
    lines += bench_env_rows(doc["bench_env"]) + bench_train_rows(doc["bench_train"])
    lines.append(f"target: {train.get('line') or 'not reached (no train phase result)'}")
    (out / "result.txt").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
