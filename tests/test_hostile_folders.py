"""Two processes at once, files in the way, OS errors: one line each, nothing lost, nothing half-written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from nalu_rl.agents.checkpoint import load_checkpoint
from nalu_rl.agents.trainer import train
from nalu_rl.cli import main
from nalu_rl.common.locks import LOCK_FILE, FolderBusy, FolderLock

SMALL = dict(agent="lstm", env="fast", mode="sync", workers=1, envs_per_worker=8, overrides={"n_steps": 16})
TRAIN = ["train", "--env", "fast", "--mode", "sync", "--envs-per-worker", "8", "--set", "n_steps=16", "--quiet"]


def _one_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err


def test_a_second_train_into_a_new_run_folder_refuses_naming_the_holder(tmp_path, capsys):
    run_dir = tmp_path / "run"
    first = subprocess.Popen([sys.executable, "-m", "nalu_rl", *TRAIN, "--agent", "lstm", "--frames", "3000000",
                              "--out", str(run_dir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not (run_dir / LOCK_FILE).is_file() or not (run_dir / LOCK_FILE).read_text():
            assert time.monotonic() < deadline and first.poll() is None
            time.sleep(0.01)
        code = main([*TRAIN, "--agent", "lstm_nac", "--frames", "2048", "--out", str(run_dir)])
        err = capsys.readouterr().err
        holder = f"process {first.pid}"
        assert code in (1, 2) and holder in err or "already holds a run" in err, err
    finally:
        first.kill()
        first.wait()
    assert json.loads((run_dir / "config.json").read_text())["agent"] == "lstm"  # the first run's folder is its own


def test_a_held_run_folder_refuses_a_resume_and_a_held_sweep_folder_a_sweep(tmp_path, capsys):
    run_dir = train(**SMALL, frames=256, run_dir=tmp_path / "run", progress=False)
    before = load_checkpoint(run_dir / "checkpoints" / "latest.pt")["frames"]
    with FolderLock(run_dir, what="run"):
        assert main(["train", "--resume", "--out", str(run_dir), "--frames", "512", "--quiet"]) == 1
        err = _one_line(capsys)
        assert f"run folder {run_dir} is in use by process {os.getpid()}" in err
    assert load_checkpoint(run_dir / "checkpoints" / "latest.pt")["frames"] == before  # nothing trained, nothing written
    out = tmp_path / "sweep"
    with FolderLock(out, what="sweep"):
        assert main(["sweep", "--agents", "lstm", "--seeds", "1", "--frames", "6000000", "--out", str(out), "--quiet"]) == 1
        assert f"sweep folder {out.resolve()} is in use by process {os.getpid()}" in _one_line(capsys)
    assert not (out / "lstm-s0").exists()


def test_a_lock_left_by_a_dead_process_blocks_no_one(tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / LOCK_FILE).write_text("process 999999999 (nalu-rl train, killed -9)\n")
    train(**SMALL, frames=256, run_dir=run_dir, progress=False)
    with FolderLock(run_dir), pytest.raises(FolderBusy):
        with FolderLock(run_dir):
            pass


def test_a_resume_onto_a_checkpoint_that_is_a_folder_fails_before_training(tmp_path, capsys):
    run_dir = train(**SMALL, frames=256, run_dir=tmp_path / "run", progress=False)
    latest = run_dir / "checkpoints" / "latest.pt"
    latest.unlink()
    latest.mkdir()
    started = time.monotonic()
    assert main(["train", "--resume", "--out", str(run_dir), "--frames", "3000000", "--quiet"]) == 1
    err = capsys.readouterr().err
    assert f"{latest} is in the way (not a file)" in err and "Traceback" not in err
    assert time.monotonic() - started < 20  # refused before 3M frames of work, not at the save after them


@contextmanager
def _tmpfs(path: Path, size: str):
    path.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def test_os_errors_are_one_line_naming_the_path_and_leave_nothing_half_written(tmp_path, capsys):
    from test_report import fake_run

    with _tmpfs(tmp_path / "full", "160k") as disk:
        for seed in range(2):
            fake_run(disk / "sweep", "lstm", seed, 13)
        before = {p.name for p in (disk / "sweep").iterdir()}
        assert main(["report", str(disk / "sweep"), "--no-tensorboard"]) == 1
        err = _one_line(capsys)
        assert "No space left on device" in err and str(disk / "sweep") in err
        assert not [p for p in (disk / "sweep").iterdir() if ".tmp" in p.name]  # no temporary file left
    with _tmpfs(tmp_path / "ro", "8m") as disk:
        run_dir = train(**SMALL, frames=256, run_dir=disk / "run", progress=False)
        subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
        assert main(["eval", str(run_dir), "--quiet", "--episodes", "2"]) == 1
        err = _one_line(capsys)
        assert "Read-only file system" in err and str(run_dir) in err
    assert before  # the report's inputs were there


def test_eval_removes_what_a_killed_eval_left_behind(tmp_path, capsys):
    run_dir = train(**SMALL, frames=256, run_dir=tmp_path / "run", progress=False)
    stale = [run_dir / ".extrapolation.json.999999999.tmp", run_dir / ".extrapolation.png.999999998.tmp.png"]
    for path in stale:
        path.write_text("half")
    assert main(["eval", str(run_dir), "--quiet", "--episodes", "2"]) == 0
    assert not any(path.exists() for path in stale)


def test_a_folder_named_like_a_preset_does_not_shadow_it(tmp_path, monkeypatch):
    # `nalu-rl sweep --agents lstm --out lstm`, run again from the same folder, once refused the preset as a missing file.
    from nalu_rl import presets
    from nalu_rl.sweep import plan_runs

    monkeypatch.chdir(tmp_path)
    for name in ("lstm", "fast"):
        (tmp_path / name).mkdir()
    assert presets.resolve("agents", "lstm")[1].parent.name == "agents"
    spec = plan_runs(["lstm"], [0], env="fast", frames=None, episodes=10, out=tmp_path / "lstm")[0]
    assert (spec.agent, spec.env) == ("lstm", "fast")
    (tmp_path / "mine.toml").mkdir()
    with pytest.raises(presets.PresetError, match="preset file not found"):
        presets.resolve("agents", "mine.toml")
