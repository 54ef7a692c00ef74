"""The runs behind the README's tables ship with the repository: a reader can evaluate and report them without training."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nalu_rl import load_agent
from nalu_rl.analysis import report as rp
from nalu_rl.evaluation.engine import evaluate
from nalu_rl.evaluation.measures import MASTERY_LEVEL, MASTERY_RANGE, paper_range_reward

RUNS = Path(__file__).resolve().parents[1] / "runs"
VERDICT = ("verdict-default", "verdict-portable")  # the verdict's runs, with their final weights
CURVES = RUNS / "curves-default"  # the learning curves: config, history and final evaluation, no weights
LINEAR = RUNS / "linear-default"  # sync, the learning rate decaying to 0 (a candidate recipe), fresh seeds 30-39
ASYNC = RUNS / "async-rmsprop-default"  # A3C, 2 workers, the presets' [async] RMSProp, seeds 20-29: no weights
ASYNC_PORTABLE = RUNS / "async-rmsprop-portable"  # the same under portable kernels
PIXELS_ASYNC = RUNS / "pixels-async-default"  # A3C on the paper's 56x56 frames, the presets' recipe, seeds 20-24


def folders(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.is_dir())


def test_the_shipped_runs_are_the_readmes_and_fit_in_10_mb():
    for name in VERDICT:
        assert folders(RUNS / name) == sorted(f"{a}-s{s}" for a in ("lstm", "lstm_nac") for s in range(10, 20)), name
        assert all((RUNS / name / run / "checkpoints" / "latest.pt").is_file() for run in folders(RUNS / name))
    assert folders(CURVES) == sorted(f"{a}-s{s}" for a in ("lstm", "lstm_nac") for s in range(10))
    assert folders(LINEAR) == sorted(f"{a}-s{s}" for a in ("lstm", "lstm_nac") for s in range(30, 40))
    for root in (ASYNC, ASYNC_PORTABLE):
        assert folders(root) == sorted(f"{a}-s{s}" for a in ("lstm", "lstm_nac") for s in range(20, 30))
    assert folders(PIXELS_ASYNC) == sorted(f"{a}-s{s}" for a in ("lstm", "lstm_nac") for s in range(20, 25))
    total = sum(p.stat().st_size for p in RUNS.rglob("*") if p.is_file())
    assert total < 10 * 2**20


@pytest.mark.parametrize("shipped, name, frames", [
    ("verdict-default", "lstm_nac-s11", 20_000_768), ("verdict-portable", "lstm-s13", 20_000_768),
    ("pixels-async-default", "lstm_nac-s20", 20_002_816),  # the one pixel run with its weights (runs/ is nearly full)
])  # fmt: skip
def test_a_shipped_run_masters_the_training_range_and_gives_its_recorded_extrapolation(shipped, name, frames):
    run = RUNS / shipped / name
    agent = load_agent(run)
    assert agent.checkpoint == {"name": "latest", "frames": frames}
    recorded = json.loads((run / "extrapolation.json").read_text())
    results = evaluate(agent, range(5, 21), recorded["results"][0]["episodes"], env_kwargs=agent.config["env"])
    for r in results:
        if MASTERY_RANGE[0] <= r["T"] <= MASTERY_RANGE[1]:
            assert r["success_rate"] >= MASTERY_LEVEL, r
    # the same seeded episodes as the recorded evaluation: the same numbers, up to a rare greedy tie on other kernels
    assert paper_range_reward(results) == pytest.approx(recorded["reward_13_20"], abs=0.02)


@pytest.mark.parametrize("root, seeds, mastered, late_means", [
    (CURVES, range(10), {"lstm": 10, "lstm_nac": 10}, {"lstm": 0.35, "lstm_nac": 0.55}),
    (LINEAR, range(30, 40), {"lstm": 10, "lstm_nac": 10}, {"lstm": 0.42, "lstm_nac": 0.70}),
    (ASYNC, range(20, 30), {"lstm": 10, "lstm_nac": 10}, {"lstm": 0.28, "lstm_nac": 0.47}),
    (ASYNC_PORTABLE, range(20, 30), {"lstm": 10, "lstm_nac": 10}, {"lstm": 0.27, "lstm_nac": 0.49}),
    (PIXELS_ASYNC, range(20, 25), {"lstm": 5, "lstm_nac": 5}, {"lstm": 0.43, "lstm_nac": 0.60}),
], ids=["curves", "linear", "async-rmsprop", "async-rmsprop-portable", "pixels-async"])  # fmt: skip
def test_runs_shipped_without_weights_report_the_readmes_numbers(tmp_path, root, seeds, mastered, late_means):
    import shutil

    copy = tmp_path / root.name
    shutil.copytree(root, copy)
    report = rp.make_report(copy)
    for agent in ("lstm", "lstm_nac"):
        training = report["training"][agent]
        assert [p["seed"] for p in training["late"]["per_seed"]] == list(seeds)
        assert training["mastery"]["mastered"] == mastered[agent]
        assert training["late"]["mean"] == pytest.approx(late_means[agent], abs=0.005)
