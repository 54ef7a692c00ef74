"""The README's answer table recomputes from what the repository ships: runs/ and the reports under docs/."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from nalu_rl.analysis import training_curves
from nalu_rl.analysis.report import find_results, group_name

ROOT = Path(__file__).resolve().parents[1]
# The table's rows in order: where each row's numbers come from (a folder of shipped runs, or a shipped report)
SOURCES = [
    "runs/verdict-default", "runs/verdict-portable", "runs/linear-default",
    "docs/recipe/linear-lr/fresh-portable/summary.json", "docs/async/adam/summary.json",
    "runs/async-rmsprop-default", "runs/async-rmsprop-portable", "runs/pixels-async-default",
]  # fmt: skip


def _table() -> list[list[str]]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## The answer so far", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| setting")]
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows]


def _training(source: str) -> dict:
    path = ROOT / source
    if path.suffix == ".json":
        return json.loads(path.read_text())["training"]
    found, _ = find_results(path)
    return training_curves.summarize(training_curves.collect([(group_name(doc), doc.get("seed"), p) for p, doc in found]))


def _seeds(per_seed: list[dict]) -> str:
    seeds = [p["seed"] for p in per_seed]
    assert seeds == list(range(seeds[0], seeds[-1] + 1))
    return f"{seeds[0]}–{seeds[-1]}"


@pytest.mark.parametrize("index", range(len(SOURCES)), ids=SOURCES)
def test_each_row_of_the_answer_table_is_what_its_runs_give(index):
    table = _table()
    assert len(table) == len(SOURCES)
    _, _, seeds, mastered, lstm, nac, p, _ = table[index]
    training = _training(SOURCES[index])
    a, b = training["lstm"], training["lstm_nac"]
    assert seeds == _seeds(a["late"]["per_seed"]) == _seeds(b["late"]["per_seed"])
    n = len(a["late"]["per_seed"])
    assert mastered == f"{a['mastery']['mastered']}/{n}, {b['mastery']['mastered']}/{n}"
    assert (lstm, nac) == (f"{a['late']['mean']:.2f}", f"{b['late']['mean']:.2f}")
    if n >= 10:
        better = b["improvement_over"]
        assert p == f"{better['p']:.2f} [{better['ci95'][0]:.2f}, {better['ci95'][1]:.2f}]"
    else:  # below ten seeds the table says what the seeds show, not a bootstrap interval
        lowest_nac = min(s["reward_13_20"] for s in b["late"]["per_seed"])
        highest_lstm = max(s["reward_13_20"] for s in a["late"]["per_seed"])
        assert lowest_nac > highest_lstm and p == f"every NAC seed above every LSTM seed, {n} vs {n}"


def test_the_commits_the_table_names_exist_and_touch_the_protocol():
    import subprocess

    commits = set(re.findall(r"\b([0-9a-f]{7})\b", "".join(row[-1] for row in _table())))
    assert commits
    for commit in commits:
        done = subprocess.run(["git", "show", "--stat", "--format=", commit], cwd=ROOT, capture_output=True, text=True)
        assert done.returncode == 0 and "docs/PROTOCOL.md" in done.stdout, (commit, done.stderr)
