"""A training killed at any moment (SIGKILL: nothing saved on the way out) leaves a run folder that resumes to the end.

The runs are real ``nalu-rl train`` processes, killed at seeded random moments; each is then
resumed with ``--resume`` (or started again, where it was killed before writing config.json),
and the finished folder must hold no temporary file, load, and evaluate.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from nalu_rl.agents import load_agent
from nalu_rl.agents.checkpoint import load_checkpoint
from nalu_rl.analysis.evaluate import evaluate_run
from nalu_rl.cli import main

FRAMES = 12_800  # 100 updates of 8 environments x 16 steps: a few seconds of training
TRAIN = [sys.executable, "-m", "nalu_rl", "train"]  # main() takes what follows "nalu_rl"
# Checkpoints every 50 ms: a kill often lands in or near a write.
COMMON = ["--quiet", "--checkpoint-interval", "0.05"]


def start(run_dir: Path) -> list[str]:
    return [*TRAIN, "--agent", "lstm", "--env", "fast", "--frames", str(FRAMES), "--mode", "sync", "--workers", "1",
            "--envs-per-worker", "8", "--set", "n_steps=16", "--out", str(run_dir), *COMMON]  # fmt: skip


def resume(run_dir: Path) -> list[str]:
    return [*TRAIN, "--resume", "--out", str(run_dir), *COMMON]


def temp_files(run_dir: Path) -> list[Path]:
    return [p for p in run_dir.rglob(".*") if ".tmp" in p.name]


def kill_when(cmd: list[str], ready, delay: float = 0.0, timeout: float = 120.0) -> int:
    """Start ``cmd``, SIGKILL it ``delay`` seconds after ``ready()`` first holds; its pid (dead now)."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    try:
        while not ready() and proc.poll() is None:
            assert time.monotonic() < deadline, "the run never got there"
            time.sleep(0.001)
        time.sleep(delay)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    return proc.pid


def finish(cmd: list[str], capsys) -> str:
    """Run ``nalu-rl train`` to the end in this process (only the killed ones need their own); its stderr."""
    code = main(cmd[len(TRAIN) - 1 :])
    err = capsys.readouterr().err
    assert code == 0 and "Traceback" not in err, err
    return err


def assert_finished(run_dir: Path) -> None:
    assert load_checkpoint(run_dir / "checkpoints" / "latest.pt")["frames"] == FRAMES
    assert not temp_files(run_dir)
    assert load_agent(run_dir).config["frames"] == FRAMES
    doc = evaluate_run(run_dir, t_min=5, t_max=6, episodes=4)
    assert [r["T"] for r in doc["results"]] == [5, 6]


def test_killed_before_its_first_checkpoint_the_run_resumes_afresh(tmp_path, capsys):
    run_dir = tmp_path / "run"
    latest = run_dir / "checkpoints" / "latest.pt"
    pid = kill_when(start(run_dir), lambda: (run_dir / "config.json").is_file())
    # What a kill during the first checkpoint's write leaves: config.json and the writer's temporary
    # file, no latest.pt. Where the kill came after the rename, put the folder back in that state.
    partial = run_dir / "checkpoints" / f".latest.pt.{pid}.tmp"
    partial.parent.mkdir(exist_ok=True)
    if latest.is_file():
        latest.rename(partial)
    else:
        partial.write_bytes(b"PK\x03\x04 half a checkpoint")
    provenance = json.loads((run_dir / "config.json").read_text())["provenance"]

    assert main(start(run_dir)[len(TRAIN) - 1 :]) == 2
    again = capsys.readouterr().err
    assert "already holds a run" in again and "--resume" in again and len(again.strip().splitlines()) == 1

    afresh = [line for line in finish(resume(run_dir), capsys).splitlines() if "afresh" in line]
    assert len(afresh) == 1 and "has no checkpoint" in afresh[0] and str(run_dir) in afresh[0]
    assert not partial.exists()
    config = json.loads((run_dir / "config.json").read_text())
    assert config["provenance"] == provenance and len(config["resumes"]) == 1  # the original start is kept
    assert_finished(run_dir)


def test_sigkill_at_random_moments_then_resume_completes(tmp_path, capsys):
    rng = random.Random(17)
    run_dir = tmp_path / "run"
    checkpoint = run_dir / "checkpoints" / "latest.pt"
    kills = []
    # Seeded moments after two landmarks: config.json written (start-up: before or just after the first
    # checkpoint), then a checkpoint written by this process (training under way).
    for landmark in ("config", "checkpoint"):
        cmd = resume(run_dir) if (run_dir / "config.json").is_file() else start(run_dir)
        launched = time.time()
        ready = {
            "config": lambda: (run_dir / "config.json").is_file(),
            "checkpoint": lambda: checkpoint.is_file() and checkpoint.stat().st_mtime > launched,  # noqa: B023
        }[landmark]
        pid = kill_when(cmd, ready, delay=rng.uniform(0.0, 0.5))
        kills.append(load_checkpoint(checkpoint)["frames"] if checkpoint.is_file() else None)
        if checkpoint.is_file():  # a checkpoint's write under way at the kill: its temporary file stays behind
            (checkpoint.parent / f".latest.pt.{pid}.tmp").write_bytes(checkpoint.read_bytes()[:100])
    assert kills[-1] is not None and 0 < kills[-1] < FRAMES, kills  # the last kill came during training
    finish(resume(run_dir) if (run_dir / "config.json").is_file() else start(run_dir), capsys)
    assert_finished(run_dir)
