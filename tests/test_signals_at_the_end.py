"""Signals and a second process at the end of work: stopping a report or a sweep, two reports, an eval beside training."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from nalu_rl.agents.checkpoint import load_checkpoint
from nalu_rl.agents.trainer import train
from nalu_rl.analysis.report import REPORT_LOCK_FILE
from nalu_rl.cli import main
from nalu_rl.common.locks import LOCK_FILE, FolderLock

CLI = [sys.executable, "-m", "nalu_rl"]
SHIPPED = Path(__file__).resolve().parents[1] / "runs" / "verdict-default"
SMALL = dict(agent="lstm", env="fast", mode="sync", workers=1, envs_per_worker=8, overrides={"n_steps": 16})


def _wait_for(condition, timeout: float = 120.0) -> None:
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.05)


def _temporaries(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if ".tmp" in p.name]


def test_sigterm_while_a_report_writes_is_one_line_and_leaves_its_folder_whole(tmp_path):
    root = tmp_path / "verdict"
    shutil.copytree(SHIPPED, root)
    proc = subprocess.Popen([*CLI, "report", str(root)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for(lambda: (root / "report.md").exists())  # the text is written first, the figures and events after it
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert err.strip() == "nalu-rl report: terminated"
    assert not _temporaries(root)
    assert not (root / REPORT_LOCK_FILE).exists()
    assert main(["report", str(root), "--no-tensorboard"]) == 0  # run again: it completes
    assert json.loads((root / "summary.json").read_text())["agents"]["lstm_nac"]["runs"]


def test_a_second_report_into_the_same_folder_waits_for_none_and_says_who_writes(tmp_path, capsys):
    root = tmp_path / "verdict"
    shutil.copytree(SHIPPED / "lstm-s10", root / "lstm-s10")
    with FolderLock(root, what="report", name=REPORT_LOCK_FILE):
        assert main(["report", str(root), "--no-tensorboard"]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"report folder {root} is in use by process" in err
    assert not (root / "report.md").exists()
    assert main(["report", str(root), "--no-tensorboard"]) == 0


def test_a_sweep_stopped_with_ctrl_c_says_so_on_stderr_alone(tmp_path):
    out = tmp_path / "sweep"
    proc = subprocess.Popen([*CLI, "sweep", "--agents", "lstm", "--seeds", "1", "--env", "fast", "--frames", "50000000",
                             "--out", str(out), "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    _wait_for(lambda: (out / "lstm-s0" / "config.json").exists())
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=200)
    assert proc.returncode == 130, stderr
    assert "sweep stopped" not in stdout and "Traceback" not in stderr
    assert stderr.strip().splitlines()[-1].startswith("nalu-rl sweep: sweep stopped; runs in progress saved checkpoints")


def test_a_run_that_ends_cleanly_leaves_no_lock_file(tmp_path):
    run = train(**SMALL, frames=256, run_dir=tmp_path / "run", progress=False)
    assert not (run / LOCK_FILE).exists()
    assert main(["eval", str(run), "--t", "5", "--episodes", "2"]) == 0
    assert sorted(p.name for p in run.iterdir() if p.name.startswith(".")) == []


def test_an_eval_beside_a_resume_training_the_same_run_reads_whole_checkpoints(tmp_path):
    run = train(**SMALL, frames=256, run_dir=tmp_path / "run", progress=False)
    proc = subprocess.Popen([*CLI, "train", "--resume", "--out", str(run), "--frames", "400000", "--checkpoint-interval",
                             "0.2", "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        _wait_for(lambda: load_checkpoint(run / "checkpoints" / "latest.pt")["frames"] > 256)
        for _ in range(2):  # while checkpoints are replaced every 0.2 s
            done = subprocess.run([*CLI, "eval", str(run), "--t", "5", "--episodes", "2"], capture_output=True, text=True,
                                  timeout=120)  # fmt: skip
            assert done.returncode == 0, done.stderr
            assert json.loads((run / "extrapolation.json").read_text())["frames"] > 256
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=120)
    assert subprocess.run([*CLI, "train", "--resume", "--out", str(run), "--frames", "4096", "--quiet"]).returncode == 0
