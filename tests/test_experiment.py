"""``nalu-rl experiment`` end to end (tiny), and its argument errors."""

from __future__ import annotations

import json

import pytest

from nalu_rl.cli import main


def exit_code(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as exc:
        return exc.code


def test_tiny_experiment_end_to_end(tmp_path, capsys):
    out = tmp_path / "exp"
    argv = ["experiment", "--out", str(out), "--seeds", "1", "--frames", "1024", "--episodes", "8", "--t-max", "20",
            "--mode", "sync", "--workers", "1", "--envs-per-worker", "16", "--jobs", "2"]  # fmt: skip
    assert main(argv) == 0
    captured = capsys.readouterr()
    printed = captured.out
    for agent in ("lstm", "lstm_nac", "lstm_countdown"):  # 1,024 frames: a warning per agent, once
        assert captured.err.count(f"the {agent} preset trains with") == 1, captured.err
    for agent in ("lstm", "lstm_nac"):
        run = out / f"{agent}-s0"
        config = json.loads((run / "config.json").read_text())
        assert config["agent"] == agent and config["env"]["obs_mode"] == "grid"
        doc = json.loads((run / "extrapolation.json").read_text())
        assert [r["T"] for r in doc["results"]] == list(range(1, 21)) and doc["results"][0]["episodes"] == 8
        assert (run / "extrapolation.png").is_file() and (run / "extrapolation.csv").is_file()
        assert f"| {agent} | 1 |" in printed
    for name in ("report.md", "report.png", "success_vs_T.png", "reward_vs_T.png", "arrival_vs_T.png", "summary.json"):
        assert (out / name).is_file()
    assert str(out / "report.png") in printed and "wall time" in printed
    assert printed.index("expected wall time ≈") < printed.index("wall time: ")  # said before it starts
    # in-training evaluation is on by default: every run has its history, and the report its curves and mastery table
    summary = json.loads((out / "summary.json").read_text())
    for agent in ("lstm", "lstm_nac", "lstm_countdown"):
        rows = (out / f"{agent}-s0" / "eval_history.csv").read_text().splitlines()
        assert rows[0].startswith("frames,elapsed_s") and [r.split(",")[0] for r in rows[1:]] == ["0", "1024"]
        assert summary["training"][agent]["mastery"]["per_seed"][0]["seed"] == 0
        assert f"| {agent} | 0/1 | not mastered |" in printed  # 1,024 frames master nothing
    assert (out / "training_curves.png").is_file() and str(out / "training_curves.png") in printed
    # the table printed is the runs' own numbers, not just files that exist
    for agent in ("lstm", "lstm_nac"):
        doc = json.loads((out / f"{agent}-s0" / "extrapolation.json").read_text())
        assert summary["agents"][agent]["reward_13_20"]["per_seed"] == [doc["reward_13_20"]]
        assert f"| {agent} | 1 | {doc['reward_13_20']:.2f} |" in printed
    from nalu_rl import load_agent

    assert load_agent(out / "lstm_nac-s0").config["agent"] == "lstm_nac"


@pytest.mark.parametrize(
    "args, message",
    [
        (["--seeds", "0"], "--seeds"),
        (["--frames", "-5"], "--frames"),
        (["--t-min", "20", "--t-max", "10"], "--t-min"),
        (["--device", "tpu"], "--device"),
        (["--agents", "nope"], "nope"),
    ],
)
def test_experiment_bad_input_is_one_line_exit_2(tmp_path, capsys, args, message):
    assert exit_code(["experiment", "--out", str(tmp_path / "x"), *args]) == 2
    captured = capsys.readouterr()
    err = captured.err
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert captured.out == ""  # no banner before the mistake


def test_the_expected_wall_time_adds_up_the_runs_at_the_measured_speeds():
    from nalu_rl.sweep.estimate import estimate

    options = {"mode": "sync", "envs_per_worker": 16, "eval_every": 0, "overrides": {}}
    one = estimate(["lstm", "recurrent_ppo"], [0], env="fast", frames=10**6, jobs=1, train_options=options)
    assert one.left_out == ("recurrent_ppo",) and list(one.rates) == ["lstm"]
    assert 1e3 < one.rates["lstm"] < 1e7 and one.seconds == pytest.approx(10**6 / one.rates["lstm"])
    four = estimate(["lstm"], [0, 1, 2, 3], env="fast", frames=10**6, jobs=2, train_options={**options, "eval_every": 10**5})
    per_run = 10**6 / four.rates["lstm"] * 1.05  # evaluating while training: 5% more
    assert four.at_once == 2 and four.seconds == pytest.approx(4 * per_run / 2)
    assert "expected wall time ≈" in four.line() and "2 at once" in four.line()
