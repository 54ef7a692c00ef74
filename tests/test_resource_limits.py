"""A full disk, a small address space, absurd thread counts: one line, the last good checkpoint kept, no temporaries."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from nalu_rl.agents.checkpoint import load_checkpoint
from nalu_rl.agents.trainer import train

SMALL = dict(agent="lstm", env="fast", mode="sync", workers=1, envs_per_worker=8, overrides={"n_steps": 16})
CLI = [sys.executable, "-m", "nalu_rl"]
TRAIN = ["train", "--agent", "lstm", "--env", "fast", "--mode", "sync", "--envs-per-worker", "8", "--set", "n_steps=16",
         "--quiet"]  # fmt: skip


def _limited(kind: int, size: int):
    """A preexec_fn that caps one resource of the child; a file over the cap fails with EFBIG, as a full disk does."""

    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(kind, (size, size))

    return apply


def _run(argv, kind: int, size: int, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *argv], capture_output=True, text=True, timeout=300,
                          preexec_fn=_limited(kind, size), **kw)  # fmt: skip


def _error_line(done: subprocess.CompletedProcess) -> str:
    lines = [line for line in done.stderr.splitlines() if line.strip() and "warning" not in line
             and not line.startswith(("training ", "resuming "))]  # fmt: skip
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    return lines[0]


def _temporaries(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if ".tmp" in p.name]


def test_a_full_disk_at_a_checkpoint_keeps_the_last_good_one_and_resumes(tmp_path):
    run = tmp_path / "run"
    # 200 kB: the first checkpoint (weights, no optimiser state yet) fits, the one after the first updates does not
    done = _run([*TRAIN, "--frames", "4096", "--out", str(run)], resource.RLIMIT_FSIZE, 200_000)
    assert done.returncode == 1
    line = _error_line(done)
    assert line.startswith(f"nalu-rl train: error: {run / 'checkpoints' / 'latest.pt'}: File too large"), line
    assert f"the last good checkpoint is kept: {run / 'checkpoints' / 'latest.pt'} (0 frames)" in line
    assert not _temporaries(run)
    assert load_checkpoint(run / "checkpoints" / "latest.pt")["frames"] == 0
    resumed = subprocess.run([*CLI, "train", "--resume", "--out", str(run), "--quiet"], capture_output=True, text=True,
                             timeout=300)  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    assert load_checkpoint(run / "checkpoints" / "latest.pt")["frames"] == 4096


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    return train(**SMALL, frames=256, run_dir=tmp_path_factory.mktemp("limits") / "run", progress=False)


def test_eval_and_report_on_a_full_disk_are_one_line_and_leave_no_temporaries(trained, tmp_path):
    run = tmp_path / "run"
    subprocess.run(["cp", "-r", str(trained), str(run)], check=True)
    done = _run(["eval", str(run), "--t", "5-6", "--episodes", "2"], resource.RLIMIT_FSIZE, 20_000)  # the figure is larger
    assert done.returncode == 1
    assert "File too large" in _error_line(done)
    assert not _temporaries(run)
    assert subprocess.run([*CLI, "eval", str(run), "--t", "5-6", "--episodes", "2"], capture_output=True).returncode == 0
    done = _run(["report", str(tmp_path), "--no-tensorboard"], resource.RLIMIT_FSIZE, 20_000)
    assert done.returncode == 1
    assert "File too large" in _error_line(done)
    assert not _temporaries(tmp_path)


def _peak_kib(code: str) -> int:
    done = subprocess.run([sys.executable, "-c", code + "\nprint(open('/proc/self/status').read())"], capture_output=True,
                          text=True, check=True)  # fmt: skip
    return next(int(line.split()[1]) for line in done.stdout.splitlines() if line.startswith("VmPeak:"))


def test_an_address_space_too_small_for_torch_is_one_line(tmp_path):
    # Between what the command line needs before torch loads and what torch needs: measured here, not assumed.
    before = _peak_kib("import nalu_rl.cli")
    after = _peak_kib("import nalu_rl.cli, torch, nalu_rl.agents.trainer")
    assert after > before + 100_000, (before, after)
    done = _run([*TRAIN, "--frames", "256", "--out", str(tmp_path / "run")], resource.RLIMIT_AS, (before + after) // 2 * 1024)
    assert done.returncode == 1
    assert "error: out of memory under an address-space limit" in _error_line(done), done.stderr


def test_absurd_thread_counts_do_not_hang_training(tmp_path):
    env = dict(os.environ, OMP_NUM_THREADS="1000000", MKL_NUM_THREADS="1000000", OPENBLAS_NUM_THREADS="1000000")
    done = subprocess.run([*CLI, *TRAIN, "--frames", "256", "--out", str(tmp_path / "run")], capture_output=True,
                          text=True, timeout=240, env=env)  # fmt: skip
    assert done.returncode == 0, done.stderr
