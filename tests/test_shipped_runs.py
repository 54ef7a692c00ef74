"""The runs behind the README's learning-curve table ship with the repository: a reader can evaluate and report them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nalu_rl import load_agent
from nalu_rl.evaluation.engine import evaluate
from nalu_rl.evaluation.measures import MASTERY_LEVEL, MASTERY_RANGE, paper_range_reward

SHIPPED = Path(__file__).resolve().parents[1] / "runs" / "curves-default"


def test_twenty_runs_ship_weights_config_history_and_results():
    folders = sorted(p.name for p in SHIPPED.iterdir() if p.is_dir())
    assert folders == sorted(f"{a}-s{s}" for a in ("lstm", "lstm_nac") for s in range(10))
    total = sum(p.stat().st_size for p in SHIPPED.rglob("*") if p.is_file())
    assert total < 10 * 2**20


@pytest.mark.parametrize("name", ["lstm_nac-s0", "lstm-s3"])
def test_a_shipped_run_masters_the_training_range_and_gives_its_recorded_extrapolation(name):
    run = SHIPPED / name
    agent = load_agent(run)
    assert agent.checkpoint == {"name": "latest", "frames": 30_001_152}
    recorded = json.loads((run / "extrapolation.json").read_text())
    results = evaluate(agent, range(5, 21), recorded["results"][0]["episodes"], env_kwargs=agent.config["env"])
    for r in results:
        if MASTERY_RANGE[0] <= r["T"] <= MASTERY_RANGE[1]:
            assert r["success_rate"] >= MASTERY_LEVEL, r
    # the same seeded episodes as the recorded evaluation: the same numbers, up to a rare greedy tie on another CPU
    assert paper_range_reward(results) == pytest.approx(recorded["reward_13_20"], abs=0.02)
