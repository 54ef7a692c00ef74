"""``nalu-rl sweep`` in the local process pool: train + evaluate, skip, resume, failures by name."""

from __future__ import annotations

import io
import json
import os
import sys
import time
from pathlib import Path

import pytest

from nalu_rl.cli import main
from nalu_rl.sweep import RECORD_KEYS, SUMMARY_FILE, run_sweep

ROOT = Path(__file__).resolve().parents[1]
# 16 steps × 8 envs = 128 frames per update, one core per run
TINY = {"mode": "sync", "workers": 1, "envs_per_worker": 8, "overrides": {"n_steps": 16}}
SWEEP = {"env": "fast", "frames": 256, "episodes": 4, "t_min": 4, "t_max": 6}


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    """2 agents × 2 seeds: one new run, one interrupted run to resume, one that fails while training, one damaged."""
    from nalu_rl.agents import train

    tmp = tmp_path_factory.mktemp("sweep")
    out = tmp / "out"
    # lstm-s1 was interrupted at 128 of 256 frames by an earlier sweep
    train(agent="lstm", env=SWEEP["env"], frames=128, seed=1, run_dir=out / "lstm-s1", progress=False, **TINY)
    # broken-s0 fails inside its worker: a folder stands where its checkpoint goes (found before training)
    broken = tmp / "broken.toml"
    broken.write_text((ROOT / "agents" / "lstm.toml").read_text())
    (out / "broken-s0" / "checkpoints" / "latest.pt").mkdir(parents=True)
    # broken-s1's folder is damaged
    (out / "broken-s1").mkdir(parents=True)
    (out / "broken-s1" / "config.json").write_text("{ not json")
    records = run_sweep(["lstm", str(broken)], [0, 1], out=out, jobs=2, progress=False, train_options=TINY, **SWEEP)
    return out, broken, records


def test_records_one_per_run_in_order(sweep):
    out, _, records = sweep
    assert [r["name"] for r in records] == ["lstm-s0", "lstm-s1", "broken-s0", "broken-s1"]
    assert all(set(r) == set(RECORD_KEYS) for r in records)
    by = {r["name"]: r for r in records}
    assert by["lstm-s0"]["status"] == "ok" and by["lstm-s0"]["trained"] and not by["lstm-s0"]["resumed"]
    assert by["lstm-s1"]["status"] == "ok" and by["lstm-s1"]["resumed"]
    for name in ("lstm-s0", "lstm-s1"):
        doc = json.loads((out / name / "extrapolation.json").read_text())
        assert [r["T"] for r in doc["results"]] == [4, 5, 6] and doc["results"][0]["episodes"] == 4
        assert by[name]["horizon_90"] == doc["horizon_90"] and by[name]["frames"] == 256
        assert by[name]["run_dir"] == str((out / name).resolve())


def test_resumed_run_continued_its_checkpoint(sweep):
    import torch

    out, _, _ = sweep
    config = json.loads((out / "lstm-s1" / "config.json").read_text())
    assert config["frames"] == 256 and config["seed"] == 1
    assert torch.load(out / "lstm-s1" / "checkpoints" / "latest.pt", weights_only=True)["frames"] == 256


def test_failures_are_reported_by_name_and_others_complete(sweep):
    out, _, records = sweep
    by = {r["name"]: r for r in records}
    assert by["broken-s0"]["status"] == "failed"
    assert by["broken-s0"]["error"].startswith("ValueError: ") and "latest.pt is in the way" in by["broken-s0"]["error"]
    assert by["broken-s1"]["status"] == "failed" and "config.json" in by["broken-s1"]["error"]
    summary = json.loads((out / SUMMARY_FILE).read_text())
    assert summary["backend"] == "local" and summary["counts"] == {"ok": 2, "skipped": 0, "failed": 2, "interrupted": 0}
    tracebacks = {r["name"]: r.get("traceback") or "" for r in summary["runs"]}
    assert tracebacks["broken-s0"].startswith("Traceback") and by["broken-s0"]["error"].split(":")[0] in tracebacks["broken-s0"]
    workers = {r["worker"] for r in records if r["status"] == "ok" or r["name"] == "broken-s0"}
    assert None not in workers and not any(w.endswith(f":{os.getpid()}") for w in workers)  # ran in pool processes
    assert 1 <= len(workers) <= 2  # jobs=2: the pool's processes take one run after another


def test_rerun_skips_finished_runs_and_cli_exits_1_on_failures(sweep, capsys):
    out, broken, _ = sweep
    argv = ["sweep", "--agents", f"lstm,{broken}", "--seeds", "2", "--env", "fast", "--frames", "256", "--episodes", "4",
            "--t-min", "4", "--t-max", "6", "--out", str(out), "--mode", "sync", "--workers", "1", "--envs-per-worker", "8"]  # fmt: skip
    before = (out / "lstm-s0" / "extrapolation.json").stat().st_mtime_ns
    # broken-s0's folder: made unusable for settling, so that the re-run only skips and settles failures
    import shutil

    shutil.rmtree(out / "broken-s0")
    (out / "broken-s0").mkdir()
    (out / "broken-s0" / "config.json").write_text("[]")
    assert main(argv) == 1
    table = capsys.readouterr().out
    assert table.splitlines()[0] == f"nalu-rl sweep: lstm, {broken} x seeds 0-1 -> {out}"  # "--seeds 2": 0 and 1
    lines = {line.split()[0]: line for line in table.splitlines() if line.split() and line.split()[0].endswith(("-s0", "-s1"))}
    assert "skipped" in lines["lstm-s0"] and "skipped" in lines["lstm-s1"]
    assert "failed" in lines["broken-s0"] and "failed" in lines["broken-s1"]
    assert "2 run(s) failed: broken-s0, broken-s1" in table
    assert (out / "lstm-s0" / "extrapolation.json").stat().st_mtime_ns == before  # not evaluated again
    summary = json.loads((out / SUMMARY_FILE).read_text())
    assert all(r["worker"] is None for r in summary["runs"])  # nothing was started


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--agents", "nope"], "unknown agent preset 'nope'"),
        (["--seeds", "0"], "--seeds"),
        (["--seeds", "1,1"], "--seeds"),
        (["--env", "nope"], "unknown env preset 'nope'"),
        (["--frames", "0"], "--frames"),
        (["--t-min", "9", "--t-max", "3"], "--t-min"),
        (["--jobs", "0"], "--jobs"),
        (["--agents", "lstm,lstm"], "agents repeat"),
        (["--set", "foo=1"], "unknown hyper-parameter(s) ['foo']"),
        (["--set", "lr=-1"], "lr must be"),
    ],
)
def test_cli_usage_errors_exit_2(argv, message, tmp_path, capsys):
    try:
        code = main(["sweep", "--out", str(tmp_path / "out"), "--quiet", *argv])
    except SystemExit as exc:  # argparse rejected the flag
        code = exc.code
    assert code == 2
    out, err = capsys.readouterr()
    assert message in err and "Traceback" not in err and out == ""  # the error alone, not after the banner
    assert not (tmp_path / "out").exists()  # nothing started


def test_ray_address_without_ray_names_the_extra(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)  # as if Ray were not installed
    with pytest.raises(ImportError, match=r"pip install -e '\.\[ray\]'"):
        run_sweep(["lstm"], [0], out=tmp_path / "out", ray_address="auto", progress=False, **SWEEP)
    assert main(["sweep", "--agents", "lstm", "--seeds", "1", "--out", str(tmp_path / "out"), "--ray-address", "auto"]) == 2
    err = capsys.readouterr().err
    assert "pip install -e '.[ray]'" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_seed_and_agent_parsing():
    from nalu_rl.cli.args import parse_agents, parse_seeds

    assert parse_seeds("3") == [0, 1, 2]
    assert parse_seeds("4,9") == [4, 9] and parse_seeds("7,") == [7]
    assert parse_seeds("2-4") == [2, 3, 4]
    assert parse_agents("lstm, lstm_nac,recurrent_ppo") == ["lstm", "lstm_nac", "recurrent_ppo"]


def test_plan_runs_gives_one_spec_per_run_and_the_peer_its_own_kind(tmp_path):
    from nalu_rl.agents.kind import PresetAgent
    from nalu_rl.baselines.kind import RecurrentPPOPeer
    from nalu_rl.sweep import RunSpec, plan_runs

    specs = plan_runs(["lstm", "recurrent_ppo"], [3, 5], out=tmp_path / "out", train_options=TINY, **SWEEP)
    assert all(isinstance(s, RunSpec) for s in specs)
    assert [s.name for s in specs] == ["lstm-s3", "lstm-s5", "recurrent_ppo-s3", "recurrent_ppo-s5"]
    assert [type(s.kind) for s in specs] == [PresetAgent, PresetAgent, RecurrentPPOPeer, RecurrentPPOPeer]
    assert all(s.cpus == 1 and s.run_dir == str((tmp_path / "out" / s.name).resolve()) for s in specs)
    assert not (tmp_path / "out").exists()  # planning writes nothing


@pytest.mark.parametrize(
    "change, message",
    [
        ({"seeds": [1, 1]}, "seeds repeat"),
        ({"episodes": 0}, "episodes must be an integer in [1, "),
        ({"t_min": 7}, "t_min (7) must not exceed t_max (6)"),
        ({"train_options": {"lr": 1}}, "unknown train option(s) ['lr']; allowed: mode, workers, envs_per_worker, eval_every, overrides"),
        ({"gpus_per_run": 0}, "gpus_per_run must be a number in (0, 64]"),
    ],
)
def test_plan_runs_rejects_bad_arguments(change, message, tmp_path):
    from nalu_rl.sweep import plan_runs

    args = {"out": tmp_path / "out", **SWEEP, **change}
    with pytest.raises(ValueError) as info:
        plan_runs(["lstm"], args.pop("seeds", [0]), **args)
    assert message in str(info.value)


def test_ray_tasks_place_auto_on_cuda_only_when_the_cluster_has_gpus(tmp_path):
    from nalu_rl.sweep import plan_runs
    from nalu_rl.sweep.ray_tasks import placement

    (spec,) = plan_runs(["lstm"], [0], out=tmp_path / "out", device="auto", gpus_per_run=0.5, **SWEEP)
    on_cpu, cpus, gpus = placement(spec, cluster_gpus=0)
    assert (on_cpu.device, cpus, gpus) == ("cpu", 1.0, 0.0)
    on_gpu, cpus, gpus = placement(spec, cluster_gpus=2)
    assert (on_gpu.device, on_gpu.threads, cpus, gpus) == ("cuda", 1, 1.0, 0.5)
    (default,) = plan_runs(["lstm"], [0], out=tmp_path / "out", device="cpu", **SWEEP)
    assert placement(default, cluster_gpus=2)[2] == 0.0  # a CPU run asks for no GPU


PROGRESS_SCRIPT = """
import time
from nalu_rl.sweep.progress import Progress
record = {"status": "ok", "horizon_90": None, "horizon_50": 12, "resumed": False, "trained": True, "evaluated": True,
          "seconds": 1.0}
bar = Progress(3, True, settled=[])
for seed in range(2):
    time.sleep(0.05)
    bar.done(dict(record, name=f"lstm-s{seed}"))
time.sleep(0.05)
bar.close()
"""


def test_run_lines_come_out_whole_into_a_buffered_pipe_with_no_bar():
    import subprocess

    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # stdout block-buffered, as in `| tee`
    out = subprocess.run([sys.executable, "-c", PROGRESS_SCRIPT], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         env=env, check=True, timeout=120).stdout.decode()  # fmt: skip
    lines = [f"lstm-s{seed}: ok  reward_13_20=none reward_horizon=none horizon_90=none horizon_50=12  (trained + evaluated in 1.0 s)"
             for seed in range(2)]  # fmt: skip
    assert out.splitlines() == lines and "\r" not in out  # a log or a pipe gets the lines, not a bar's redraws


def test_human_output_spells_a_missing_value_none():
    from nalu_rl.cli.commands.sweep import format_table
    from nalu_rl.sweep import format_record

    record = dict.fromkeys(RECORD_KEYS)
    record.update(name="lstm-s0", status="ok", horizon_50=7, resumed=False, trained=False, evaluated=True, seconds=2.0)
    assert "reward_13_20=none reward_horizon=none horizon_90=none horizon_50=7" in format_record(record)
    row = format_table([record]).splitlines()[1]
    assert row.split()[2:6] == ["none", "none", "none", "7"] and "None" not in row and "—" not in row
    record.update(reward_13_20=0.5, reward_horizon=16, horizon_90=30, t_max=30)  # at the top of the evaluated T: ≥
    assert "reward_13_20=0.50 reward_horizon=16 horizon_90=≥30 horizon_50=7" in format_record(record)
    assert format_table([record]).splitlines()[1].split()[2:6] == ["0.50", "16", "≥30", "7"]


@pytest.mark.parametrize("command", ["sweep", "experiment"])
def test_agents_take_a_comma_list_space_separated_names_or_both(command):
    from nalu_rl.cli import build_parser

    parser = build_parser()
    for words in (["lstm,lstm_nac"], ["lstm", "lstm_nac"], ["lstm,", "lstm_nac"]):
        assert parser.parse_args([command, "--agents", *words]).agents == ["lstm", "lstm_nac"], words
    assert parser.parse_args([command, "--agents", "lstm,lstm_nac", "gru"]).agents == ["lstm", "lstm_nac", "gru"]
    help_text = parser._subparsers._group_actions[0].choices[command].format_help()
    assert "--agents A,B" in help_text and "lstm,lstm_nac or lstm lstm_nac" in " ".join(help_text.split())


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_bar_shows_the_frames_of_the_runs_under_way(tmp_path, monkeypatch):
    from nalu_rl.agents.history import write_history
    from nalu_rl.sweep import progress

    run = tmp_path / "lstm-s0"
    run.mkdir()
    assert progress.frames_done(run) is None  # no history yet
    write_history(run, [{"frames": 0, "elapsed_s": 0.1}, {"frames": 1_500_000, "elapsed_s": 20.0}])
    assert progress.frames_done(run) == 1_500_000
    monkeypatch.setattr(progress, "WATCH_S", 0.05)
    monkeypatch.setattr(sys, "stderr", _Terminal())  # a bar is drawn on a terminal only
    bar = progress.Progress(2, True, settled=[], pending={"lstm-s0": run, "lstm-s1": tmp_path / "lstm-s1"})
    try:
        deadline = time.monotonic() + 10
        while "lstm-s0 1.5M" not in str(bar._bar) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "lstm-s0 1.5M" in str(bar._bar) and "lstm-s1" not in str(bar._bar)
    finally:
        bar.close()
