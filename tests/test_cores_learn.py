"""Every core that reads the paper differently learns the small timing task, under the paper's rules too."""

from __future__ import annotations

import pytest

from nalu_rl.agents import load_agent, train
from nalu_rl.evaluation.engine import evaluate

SMALL = {"mode": "sync", "workers": 1, "envs_per_worker": 32, "progress": False}


@pytest.mark.parametrize(
    "core, rules, measure, untrained_below, trained_above",
    [
        # the paper's rules and measure: graded reward (1 on time, 0.85 a step off, 0 never arriving)
        ("lstm_nac", 'placement = "uniform"\nreward = "graded"\n', "paper_reward", 0.3, 0.8),
        ("lstm_nac_input", 'placement = "reachable"\nreward = "exact"\n', "success_rate", 0.15, 0.5),
    ],
)
def test_a_nac_reading_learns_to_arrive_on_time(tmp_path, core, rules, measure, untrained_below, trained_above):
    """3×3 grid, T in 3..4, 300k frames (1–2 minutes): from about the untrained score to most of the way to 1.

    A core whose NAC output or T never reached the LSTM, or whose state leaked across episodes,
    would stay near the untrained score.
    """
    env = tmp_path / "small.toml"
    env.write_text(f'size = 3\nt_range = [3, 4]\nobs_mode = "grid"\n{rules}')

    def score(frames: int) -> list[float]:
        run = train(agent=core, env=str(env), frames=frames, seed=0, run_dir=tmp_path / f"run{frames}", **SMALL)
        return [r[measure] for r in evaluate(load_agent(run), [3, 4], 100)]

    untrained, trained = score(1), score(300_000)
    assert max(untrained) < untrained_below, untrained
    assert min(trained) >= trained_above, trained
