"""The report's extrapolation over training: curves against frames, time to mastery, the warning for mixed kernels."""

from __future__ import annotations

import json

import numpy as np
import pytest
from test_report import PNG, fake_run

from nalu_rl.agents.history import write_history
from nalu_rl.analysis import report as rp
from nalu_rl.analysis import training_curves as tc
from nalu_rl.analysis.stats import interval_note, seed_aggregates
from nalu_rl.cli import main

EVERY = 1_000_000


def history(mastered_at: int | None, elapsed_per_eval: float = 10.0, evals: int = 6, reward: float = 0.05) -> list[dict]:
    """Rows every EVERY frames; success 8..12 reaches 1 (mastery) at evaluation ``mastered_at``, reward 13..20 climbs."""
    rows = []
    for i in range(evals):
        done = mastered_at is not None and i >= mastered_at
        rows.append({"frames": i * EVERY, "elapsed_s": i * elapsed_per_eval, "success_8_12": 1.0 if done else 0.1 * i,
                     "success_8_12_min": 0.95 if done else 0.0, "reward_5_12": 0.1 * i, "reward_13_20": reward * i,
                     "success_13_20": 0.0, "reward_horizon": None, "horizon_90": None, "mastered": int(done)})  # fmt: skip
    return rows


@pytest.fixture
def trained(tmp_path):
    root = tmp_path / "sweep"
    for seed, at in enumerate([2, 4, None]):
        write_history(fake_run(root, "lstm", seed, 13), history(at))
    for seed, at in enumerate([1, 1]):
        write_history(fake_run(root, "lstm_nac", seed, 18), history(at, elapsed_per_eval=7.0))
    fake_run(root, "lstm_countdown", 0, 30)  # trained without --eval-every: in the tables, not in the curves
    return root


def test_time_to_mastery_per_seed_median_and_worst(trained):
    report = rp.make_report(trained)
    lstm, nac = report["training"]["lstm"]["mastery"], report["training"]["lstm_nac"]["mastery"]
    assert [(p["seed"], p["frames"], p["elapsed_s"]) for p in lstm["per_seed"]] == [(0, 2 * EVERY, 20.0), (1, 4 * EVERY, 40.0), (2, None, None)]
    assert lstm["mastered"] == 2 and lstm["median_frames"] == 4 * EVERY and lstm["worst_frames"] is None  # one never did
    assert nac["mastered"] == 2 and nac["median_frames"] == nac["worst_frames"] == EVERY and nac["median_seconds"] == 7.0
    assert "lstm_countdown" not in report["training"]
    md = (trained / "report.md").read_text()
    assert "| lstm | 2/3 | 4.0M (40 s) | not mastered | s0: 2.0M (20 s) · s1: 4.0M (40 s) · s2: not mastered |" in md
    assert "| lstm_nac | 2/2 | 1.0M (7 s) | 1.0M (7 s) |" in md


def test_curves_figure_csv_and_the_mean_over_seeds(trained):
    report = rp.make_report(trained)
    assert (trained / tc.CURVES_FIGURE).read_bytes()[:8] == PNG
    rows = (trained / tc.CURVES_CSV).read_text().splitlines()
    assert rows[0].startswith("agent,seed,frames,elapsed_s,success_8_12") and len(rows) == 1 + 5 * 6
    curve = report["training"]["lstm"]
    assert curve["frames"][0] == 0 and curve["frames"][-1] == 5 * EVERY
    assert curve["reward_13_20"]["mean"][-1] == pytest.approx(0.25)  # every seed ends at 0.05 x 5
    mid = curve["frames"].index(2_500_000)  # between two evaluations: interpolated, then averaged over the 3 seeds
    expected = sum([1.0, 0.25, 0.25]) / 3  # seed 0 mastered (1.0) from eval 2; seeds 1, 2 at 0.1 x 2.5
    assert curve["success_8_12"]["mean"][mid] == pytest.approx(expected, abs=1e-4)
    assert curve["success_8_12"]["ci95_lo"][mid] <= expected <= curve["success_8_12"]["ci95_hi"][mid]


def test_report_warns_when_runs_come_from_different_kernels(trained, capsys):
    for run, capability in (("lstm-s0", "AVX512"), ("lstm-s1", "AVX2"), ("lstm_nac-s0", "AVX512")):
        config = json.loads((trained / run / "config.json").read_text())
        config["provenance"] = {"python": "3.11.7", "libraries": {"torch": "2.13.0+cpu"},
                                "kernels": {"cpu_capability": capability, "variables": {"ATEN_CPU_CAPABILITY": None}}}  # fmt: skip
        (trained / run / "config.json").write_text(json.dumps(config))
    assert main(["report", str(trained), "--no-tensorboard"]) == 0
    out = capsys.readouterr().out
    warnings = [line for line in out.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "CPU capability" in warnings[0] and "AVX2 (1 run: lstm-s1)" in warnings[0]
    assert "Time to mastery" in out and "training_curves.png" in out
    assert "**Warning:** the runs differ in CPU capability" in (trained / "report.md").read_text()


def test_a_run_made_under_other_kernels_is_named_in_the_warning(tmp_path, capsys):
    import os
    import subprocess
    import sys

    from nalu_rl.analysis.evaluate import evaluate_run

    # ATen's baseline capability differs from the machine's own on any x86-64 with AVX2 or better (AVX2-only CPUs
    # included, where pinning "avx2" would change nothing), so the second run is made under other kernels everywhere.
    root = tmp_path / "mixed"
    for name, extra in (("lstm-s0", {}), ("lstm-s1", {"ATEN_CPU_CAPABILITY": "default"})):
        env = {k: v for k, v in os.environ.items() if k != "ATEN_CPU_CAPABILITY"} | extra
        subprocess.run([sys.executable, "-m", "nalu_rl", "train", "--agent", "lstm", "--env", "fast", "--frames", "2048",
                        "--envs-per-worker", "8", "--seed", name[-1], "--out", str(root / name), "--quiet"],
                       env=env, check=True, capture_output=True)  # fmt: skip
        evaluate_run(root / name, t_min=5, t_max=6, episodes=2)
    assert main(["report", str(root), "--no-tensorboard"]) == 0
    warnings = [line for line in capsys.readouterr().out.splitlines() if line.startswith("warning:")]
    assert any("CPU capability" in w and "DEFAULT (1 run: lstm-s1)" in w for w in warnings), warnings
    assert any("ATEN_CPU_CAPABILITY" in w and "default (1 run: lstm-s1)" in w for w in warnings), warnings


def test_late_score_and_probability_of_improvement(tmp_path):
    root = tmp_path / "sweep"
    for seed in range(3):
        write_history(fake_run(root, "lstm", seed, 13), history(2, evals=12, reward=0.01 * (seed + 1)))
        write_history(fake_run(root, "lstm_nac", seed, 18), history(2, evals=12, reward=0.05 + 0.01 * seed))
    training = rp.make_report(root)["training"]
    # the mean over the last 10 of 12 evaluations (i = 2..11) of reward x i: reward x 6.5
    assert [v["reward_13_20"] for v in training["lstm"]["late"]["per_seed"]] == pytest.approx([0.065, 0.13, 0.195])
    assert training["lstm"]["late"]["per_seed"][0]["mastered_share"] == 1.0
    better = training["lstm_nac"]["improvement_over"]
    assert better["agent"] == "lstm" and better["p"] == 1.0  # every lstm_nac seed above every lstm seed
    assert "P(lstm_nac > lstm) on these scores: **1.00**" in (root / "report.md").read_text()
    for seed in range(3):  # now the baseline is better on every pair
        write_history(root / f"lstm-s{seed}", history(2, evals=12, reward=0.2))
    assert rp.make_report(root)["training"]["lstm_nac"]["improvement_over"]["p"] == 0.0


def test_fewer_seeds_than_a_verdict_are_called_a_quick_look(tmp_path):
    root = tmp_path / "sweep"
    for seed in range(tc.VERDICT_SEEDS):
        write_history(fake_run(root, "lstm", seed, 13), history(2, evals=12))
    assert "quick look" not in (text := tc.late_markdown(rp.make_report(root)["training"])) and "| lstm | 10 |" in text
    (root / "lstm-s3" / "eval_history.csv").unlink()  # nine seeds with a history
    assert "9 seeds: a quick look, not a verdict" in tc.late_markdown(rp.make_report(root)["training"])


def test_few_seeds_get_a_student_t_interval_that_can_leave_their_range():
    # The main job's three lstm_nac seeds at 20M frames (docs/experiment/printed.txt): a percentile bootstrap gave
    # [0.56, 0.81], their own range, and missed the ten-seed verdict's 0.49; t with 2 degrees of freedom is 4.303.
    three = [0.81, 0.56, 0.56]
    agg = seed_aggregates(three)
    half = 4.3027 * np.std(three, ddof=1) / np.sqrt(3)
    assert agg["mean_ci95"] == pytest.approx([np.mean(three) - half, np.mean(three) + half], abs=1e-3)
    assert agg["mean_ci95"][0] < 0.49 < agg["mean_ci95"][1] and agg["iqm_ci95"] is None
    ten = [0.2, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7, 0.9]
    agg = seed_aggregates(ten)
    assert min(ten) <= agg["mean_ci95"][0] < agg["mean_ci95"][1] <= max(ten)
    assert agg["iqm_ci95"] is not None  # from BOOTSTRAP_MIN_SEEDS on: rliable's bootstrap
    assert "Student's t" in interval_note([3, 10]) and "Student's t" not in interval_note([10, 12])


def test_the_curves_figure_is_titled_only_as_asked(trained):
    by_agent = tc.collect([(d.name.rsplit("-s", 1)[0], int(d.name.rsplit("-s", 1)[1]), d) for d in sorted(trained.iterdir()) if d.is_dir()])
    summary = tc.summarize(by_agent)
    untitled, titled = tc.figure(by_agent, summary), tc.figure(by_agent, summary, title="seeds 0-2")
    assert untitled._suptitle is None and titled._suptitle.get_text() == "seeds 0-2"
    assert [ax.get_title() for ax in titled.axes] == [heading for _, heading in tc.PANELS]


def test_the_answers_figure_averages_each_runs_last_ten_evaluations_per_t():
    rows = [{f"reward_T{t:02d}": float(i) for t in tc.FIGURE5_T} for i in range(12)]  # evaluation i scores i
    assert tc.late_reward_per_t(rows) == [6.5] * len(tc.FIGURE5_T)  # the mean of 2..11
    rows[-1]["reward_T20"] = None
    assert tc.late_reward_per_t(rows) is None
