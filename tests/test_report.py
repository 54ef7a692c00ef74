"""Reports over folders of evaluated runs: figures, Markdown, summary numbers, TensorBoard, CLI errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nalu_rl.analysis import evaluate as ev
from nalu_rl.analysis import report as rp
from nalu_rl.analysis import results as rs
from nalu_rl.cli import main
from nalu_rl.common import files
from nalu_rl.common.intervals import wilson_interval

PNG = b"\x89PNG\r\n\x1a\n"


def fake_run(
    root: Path, agent: str, seed: int, cap: int | None, episodes: int = 100, t_max: int = 30, t_values=None
) -> Path:
    """A run folder whose agent succeeds for T <= cap and arrives at cap + 1 beyond (cap None: fails everywhere).

    Evaluated for T = 1..t_max, or for the T of ``t_values``.
    """
    results = []
    for t in t_values or range(1, t_max + 1):
        wins = episodes if cap is not None and t <= cap else 0
        lo, hi = wilson_interval(wins, episodes)
        arrival = float(t if cap is not None and t <= cap else (cap or 0) + 1)
        results.append(
            {"T": t, "episodes": episodes, "successes": wins, "success_rate": wins / episodes, "success_ci95": [lo, hi],
             "mean_reward": 2 * wins / episodes - 1, "arrival_rate": 1.0, "mean_arrival_time": arrival,
             "timing_mae": abs(arrival - t), "paper_reward": max(-1.0, 1 - 0.15 * abs(arrival - t))}  # fmt: skip
        )
    doc = rs.summarize(results, agent=agent, seed=seed, train_range=(5, 12), sample=False)
    run = root / f"{agent}-s{seed}"
    run.mkdir(parents=True)
    (run / "config.json").write_text(json.dumps({"agent": agent, "seed": seed}))
    files.write_json(run / ev.RESULT_FILE, doc)
    return run


@pytest.fixture
def sweep(tmp_path):
    root = tmp_path / "sweep"
    for seed, cap in enumerate([12, 13, 15]):
        fake_run(root, "lstm", seed, cap)
    for seed, cap in enumerate([18, 30, 20, None]):
        fake_run(root, "lstm_nac", seed, cap)
    for seed in (0, 1):
        fake_run(root, "lstm_countdown", seed, 30)
    return root


def test_report_writes_figures_markdown_summary_and_tensorboard(sweep):
    report = rp.make_report(sweep)
    for name in ("success_vs_T.png", "arrival_vs_T.png", "reward_vs_T.png", "report.png"):
        assert (sweep / name).read_bytes()[:8] == PNG
    assert list((sweep / "tb").glob("events.out.tfevents.*"))
    summary = json.loads((sweep / "summary.json").read_text())
    lstm, nac = summary["agents"]["lstm"], summary["agents"]["lstm_nac"]
    assert lstm["seeds"] == [0, 1, 2] and nac["seeds"] == [0, 1, 2, 3]
    assert lstm["horizon_90"] == {"per_seed": [12, 13, 15], "median": 13, "min": 12, "max": 15}
    # None (fails at T=5) ranks lowest: sorted [none, 18, 20, 30] -> median (18 + 20) / 2
    assert nac["horizon_90"]["per_seed"] == [18, 30, 20, None]
    assert nac["horizon_90"]["median"] == 19 and nac["horizon_90"]["min"] is None and nac["horizon_90"]["max"] == 30
    assert lstm["paper_horizon"] == 13 and nac["paper_horizon"] == 19
    assert lstm["success_inside"] == [1.0, 1.0, 1.0] and nac["success_inside"][3] == 0.0
    assert lstm["success_beyond"][1] == pytest.approx(1 / 18)  # T=13 of 13..30
    assert lstm["success_vs_T"]["mean"][12] == pytest.approx(2 / 3, abs=1e-4)  # T = 13: seeds 1 and 2
    text = (sweep / "report.md").read_text()
    assert "| lstm | 3 | **13** [12–15]" in text
    assert "| lstm_nac | 4 | **19** [none–≥30]" in text
    assert "| lstm_nac-s1 | lstm_nac | 1 | ≥30 | ≥30 |" in text
    assert "| lstm_countdown | 2 | **≥30** (all seeds) | **≥30** (all seeds) |" in text
    assert "![the paper's measure, success and arrival time vs T](report.png)" in text
    assert report["markdown"] in text and report["files"]["figure"] == str(sweep / "report.png")


def test_aggregate_band_is_a_bootstrap_over_seeds_or_wilson_for_one_seed(tmp_path):
    docs = [rs.read_result(fake_run(tmp_path, "lstm", s, cap)) for s, cap in enumerate([12, 14])]
    g = rp.aggregate(docs)["lstm"]
    i = list(g["T"]).index(13)  # rates 0 and 1: bootstrap means 0, 0.5 or 1 -> the band spans [0, 1]
    assert g["mean"][i] == 0.5 and (g["lo"][i], g["hi"][i]) == (0.0, 1.0)
    j = list(g["T"]).index(5)  # both seeds 1.0: the band collapses onto the mean
    assert (g["lo"][j], g["mean"][j], g["hi"][j]) == (1.0, 1.0, 1.0)
    again = rp.aggregate(docs)["lstm"]
    assert (again["lo"] == g["lo"]).all() and (again["hi"] == g["hi"]).all()  # seeded: reproducible
    single = rp.aggregate(docs[:1])["lstm"]
    assert single["lo"][0] == pytest.approx(wilson_interval(100, 100)[0])


def test_the_paper_measure_in_summary_and_markdown(sweep):
    report = rp.make_report(sweep, tensorboard=False)
    lstm, nac = report["agents"]["lstm"], report["agents"]["lstm_nac"]
    # fake runs arrive on time up to their cap and at cap + 1 beyond: paper_reward 1 then 1 - 0.15 (T - cap - 1)
    # cap c arrives at c + 1 beyond it: reward 1 - 0.15 (T - c - 1) >= 0.7 up to T = c + 3 (0.7 itself counts)
    assert lstm["reward_horizon"]["per_seed"] == [15, 16, 18]
    assert lstm["reward_13_20"]["per_seed"][0] == pytest.approx(sum(max(-1.0, 1 - 0.15 * abs(13 - t)) for t in range(13, 21)) / 8)
    agg = lstm["reward_13_20"]
    assert agg["mean"] == pytest.approx(sum(agg["per_seed"]) / 3, abs=1e-4)
    assert agg["mean_ci95"][0] <= agg["mean"] <= agg["mean_ci95"][1] and agg["iqm_ci95"] is None  # 3 seeds: Student's t
    assert nac["reward_horizon"]["per_seed"][3] is None and nac["reward_horizon"]["min"] is None
    assert lstm["paper"] == {"agent": "lstm", "reward_horizon": 14, "reward_13_20": 0.42}
    assert nac["paper"]["reward_13_20"] == 0.81 and report["agents"]["lstm_countdown"]["paper"] is None
    text = report["markdown"]
    assert "| lstm | 3 | " in text.split("horizon_90")[0]  # the paper's table comes first
    assert "≈ 0.42 / ≈ 14" in text and "≈ 0.81 / ≈ 19" in text
    assert "| lstm_countdown | 2 |" in text and text.split("| lstm_countdown | 2 |")[1].split("\n")[0].endswith("| — |")
    assert "None" not in text  # "none": no horizon; "—": no number in the paper, in its columns only
    assert all(line.endswith("| — |") for line in text.splitlines() if "—" in line and line.startswith("| "))
    assert (sweep / rp.REWARD_FIGURE).read_bytes()[:8] == PNG
    assert report["agents"]["lstm"]["reward_vs_T"]["mean"][0] == pytest.approx(1.0)


def test_sampled_runs_form_their_own_group(tmp_path):
    run = fake_run(tmp_path, "lstm", 0, 12)
    doc = rs.read_result(run)
    doc["policy"] = "sampled"
    other = tmp_path / "lstm-s0-sampled"
    other.mkdir()
    files.write_json(other / ev.RESULT_FILE, doc)
    report = rp.make_report(tmp_path, tensorboard=False)
    assert list(report["agents"]) == ["lstm", "lstm [sampled]"]
    assert report["agents"]["lstm [sampled]"]["paper_horizon"] is None
    assert not (tmp_path / "tb").exists()


def test_report_cli(sweep, capsys):
    assert main(["report", str(sweep), "--title", "demo"]) == 0
    out = capsys.readouterr().out
    assert "| lstm_nac | 4 |" in out and str(sweep / "report.png") in out
    assert (sweep / "report.md").read_text().startswith("# demo\n")


def test_report_cli_errors_are_one_line_exit_2(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    bad = tmp_path / "bad" / "run"
    bad.mkdir(parents=True)
    (bad / "extrapolation.json").write_text("{not json")
    for folder, message in ((tmp_path / "nope", "folder not found"), (tmp_path / "empty", "no extrapolation.json"),
                            (tmp_path / "bad", "unreadable")):  # fmt: skip
        assert main(["report", str(folder)]) == 2
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) == 1, err


def test_a_report_on_one_run_folder_leaves_the_runs_own_figure_alone(tmp_path):
    run = fake_run(tmp_path, "lstm", 0, 12)
    (run / ev.FIGURE_FILE).write_bytes(b"the run's own figure")
    report = rp.make_report(run, tensorboard=False)
    assert (run / ev.FIGURE_FILE).read_bytes() == b"the run's own figure"
    assert report["files"]["figure"] == str(run / rp.COMBINED_FIGURE)


def test_report_cli_writes_into_out_and_leaves_the_runs_folder_alone(sweep, tmp_path, capsys):
    out = tmp_path / "elsewhere"
    assert main(["report", str(sweep), "--out", str(out), "--quiet"]) == 0
    assert (out / "report.md").is_file() and (out / "report.png").is_file()
    assert not (sweep / "report.md").exists()
