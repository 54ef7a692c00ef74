"""T lists (``--t 1-30,50,100``): the parser, the Python API, ``eval``, ``sweep``, ``experiment`` and ``report``."""

from __future__ import annotations

import json

import pytest
from test_evaluate import exit_code, scripted_run  # noqa: F401  (scripted_run is a fixture)
from test_report import fake_run

from nalu_rl.analysis import evaluate as ev
from nalu_rl.analysis import report as rp
from nalu_rl.analysis.t_values import format_t_values, parse_t_list, resolve_t_values
from nalu_rl.cli import main

T_LIST = [*range(1, 31), 50, 100, 200, 500, 1000]


def test_a_t_list_is_ranges_and_values_sorted_without_repeats():
    assert parse_t_list("1-30,50,100,200,500,1000") == T_LIST
    assert parse_t_list(" 200, 5-7 ,6,1000,5 ") == [5, 6, 7, 200, 1000]
    assert parse_t_list("9-9") == [9] and parse_t_list("1000") == [1000]
    assert format_t_values(T_LIST) == "1-30,50,100,200,500,1000" and format_t_values([4, 2, 3]) == "2-4"


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "empty"), (" ", "empty"), ("1,,5", "empty part"), ("5,", "empty part"), ("30-1", "runs backwards"),
        ("0", "in [1, 1000]"), ("1-1001", "in [1, 1000]"), ("1e3", "'1e3'"), ("2.5", "'2.5'"), ("-3", "'-3'"),
        ("1-", "'1-'"), ("1-2-3", "'1-2-3'"), ("ten", "'ten'"),
    ],
)  # fmt: skip
def test_bad_t_lists_are_value_errors_naming_the_t_list(text, message):
    with pytest.raises(ValueError, match="T list") as err:
        parse_t_list(text)
    assert message in str(err.value)


def test_the_api_takes_a_list_text_or_a_range_but_not_both():
    assert resolve_t_values() == list(range(1, 31))  # the default
    assert resolve_t_values(t_min=3, t_max=5) == [3, 4, 5] and resolve_t_values(t_max=2) == [1, 2]
    assert resolve_t_values([50, 3, 3]) == [3, 50] and resolve_t_values("3,50") == [3, 50]
    for bad, name in (({"t_values": [1], "t_max": 5}, "not both"), ({"t_values": []}, "t_values"),
                      ({"t_values": [0]}, "T"), ({"t_min": 9, "t_max": 3}, "t_min")):  # fmt: skip
        with pytest.raises(ValueError, match=name):
            resolve_t_values(**bad)


def test_evaluate_run_with_a_t_list_and_its_horizons_stop_at_a_gap(scripted_run):  # noqa: F811
    doc = ev.evaluate_run(scripted_run, t_values="1-20,50,200", episodes=10)  # the agent believes T <= 15
    assert [r["T"] for r in doc["results"]] == [*range(1, 21), 50, 200]
    by_t = {r["T"]: r for r in doc["results"]}
    assert by_t[200]["success_rate"] == 0.0 and by_t[200]["mean_arrival_time"] == 15.0
    assert doc["horizon_90"] == 15
    gap = ev.evaluate_run(scripted_run, t_values=[*range(1, 11), *range(12, 21)], episodes=10)
    assert gap["horizon_90"] == gap["horizon_50"] == 10  # T = 11 was not evaluated: the scan stops there
    assert ev.evaluate_run(scripted_run, t_min=4, t_max=6, episodes=10)["results"][0]["T"] == 4


def test_eval_cli_takes_a_t_list(scripted_run, capsys):  # noqa: F811
    assert main(["eval", str(scripted_run), "--t", "1-20,50,200", "--episodes", "10"]) == 0
    out = capsys.readouterr().out
    doc = json.loads((scripted_run / ev.RESULT_FILE).read_text())
    assert [r["T"] for r in doc["results"]] == [*range(1, 21), 50, 200]
    assert "\n 200 " in out and "horizon_90 = 15" in out


@pytest.mark.parametrize("command", ["eval", "sweep", "experiment"])
@pytest.mark.parametrize(
    "flags, message",
    [
        (["--t", "30-1"], "--t: T list '30-1'"), (["--t", "1e3"], "--t: T list '1e3'"), (["--t", ""], "--t: T list"),
        (["--t", "1-1001"], "--t: T list"), (["--t", "1-5", "--t-max", "9"], "not both"),
        (["--t-min", "40"], "--t-min (40) must not exceed --t-max (30)"),
    ],
)  # fmt: skip
def test_bad_t_flags_are_one_line_exit_2(command, flags, message, scripted_run, tmp_path, capsys):  # noqa: F811
    where = [str(scripted_run)] if command == "eval" else ["--out", str(tmp_path / "out")]
    assert exit_code([command, *where, *flags]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert not (tmp_path / "out").exists()


def test_sweep_specs_carry_the_t_list_and_want_it_evaluated(tmp_path):
    from nalu_rl.sweep import plan_runs
    from nalu_rl.sweep.status import evaluation_current

    common = {"env": "fast", "frames": 256, "episodes": 10, "out": tmp_path}
    (spec,) = plan_runs(["lstm"], [0], t_values="1-30,50,1000", **common)
    assert spec.t_values == (*range(1, 31), 50, 1000) and (spec.t_min, spec.t_max) == (1, 1000)
    (ranged,) = plan_runs(["lstm"], [0], t_min=2, t_max=4, **common)
    assert ranged.t_values == (2, 3, 4)
    assert plan_runs(["lstm"], [0], **common)[0].t_values == tuple(range(1, 31))
    with pytest.raises(ValueError, match="not both"):
        plan_runs(["lstm"], [0], t_values=[5], t_min=1, **common)
    run = tmp_path / "lstm-s0"
    fake_run(tmp_path, "lstm", 0, 12, episodes=10, t_values=[*range(1, 31), 50, 1000])
    assert evaluation_current(spec)
    assert not evaluation_current(ranged)  # evaluated for other T: evaluate again
    (run / ev.RESULT_FILE).unlink()
    assert not evaluation_current(spec)


@pytest.fixture
def far_sweep(tmp_path):
    root = tmp_path / "far"
    for seed, cap in enumerate([14, 60]):
        fake_run(root, "lstm_nac", seed, cap, t_values=T_LIST)
    fake_run(root, "lstm_countdown", 0, 500, t_values=T_LIST)
    return root


def test_report_tabulates_success_beyond_30_and_report_t_selects(far_sweep, capsys):
    report = rp.make_report(far_sweep, tensorboard=False)
    text = report["markdown"]
    far = text.split("Exact success at the evaluated T beyond 30")[1]
    assert "| T | lstm_nac | lstm_countdown |" in far
    assert "| 50 | 0.50 [0.00, 1.00] | 1.00 [0.96, 1.00] |" in far  # two seeds: bootstrap; one: Wilson
    assert "| 1000 | 0.00 [0.00, 0.00] | 0.00 [0.00, 0.04] |" in far
    nac = report["agents"]["lstm_nac"]
    assert nac["t_contiguous"] == [1, 30] and nac["t_range_evaluated"] == [1, 1000]
    assert "success T=13–30" in text  # the column over the unbroken range, not 13..1000
    assert "| lstm_countdown | 1 | **≥30** | **≥30** |" in text  # censored at the gap after 30
    assert main(["report", str(far_sweep), "--t", "1-30", "--no-tensorboard"]) == 0
    summary = json.loads((far_sweep / rp.SUMMARY_FILE).read_text())
    assert summary["agents"]["lstm_nac"]["success_vs_T"]["T"] == list(range(1, 31))
    assert "beyond 30" not in (far_sweep / rp.REPORT_FILE).read_text()
    assert summary["agents"]["lstm_nac"]["horizon_90"]["per_seed"] == [14, 30]  # the runs' own horizons
    # A selection that ends below a run's horizon measures it anew: 30 over 1..30 is "≥20" over 1..20.
    assert main(["report", str(far_sweep), "--t", "1-20", "--no-tensorboard"]) == 0
    summary = json.loads((far_sweep / rp.SUMMARY_FILE).read_text())
    assert summary["agents"]["lstm_nac"]["horizon_90"]["per_seed"] == [14, 20]
    assert "≥30" not in (far_sweep / rp.REPORT_FILE).read_text()
    capsys.readouterr()
    for flags, message in ((["--t", "31-40"], "any of the T"), (["--t", "5-1"], "--t: T list")):
        assert main(["report", str(far_sweep), *flags]) == 2
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) == 1, err
