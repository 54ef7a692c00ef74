"""Processes left behind: a sweep's pool processes end with it, a Ray address that answers nothing times out, Ctrl-C during start-up."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        text = (task / "children").read_text().split() if (task / "children").exists() else []
        found += [int(c) for c in text]
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except OSError:
        return False
    return state != "Z"


def test_pool_processes_end_when_the_sweep_is_killed(tmp_path):
    out = tmp_path / "sweep"
    sweep = subprocess.Popen(
        [sys.executable, "-m", "nalu_rl", "sweep", "--agents", "lstm", "--seeds", "1", "--frames", "50000000",
         "--env", "fast", "--out", str(out), "--quiet", "--jobs", "1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not (out / "lstm-s0" / "checkpoints" / "latest.pt").is_file():  # the run trains in a pool process
            assert time.monotonic() < deadline and sweep.poll() is None
            time.sleep(0.1)
        workers = [pid for pid in _children(sweep.pid) if "nalu-rl" in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
                   or "multiprocessing" in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")]  # fmt: skip
        assert workers
    finally:
        sweep.send_signal(signal.SIGKILL)
        sweep.wait()
    deadline = time.monotonic() + 60
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = [pid for pid in workers if _alive(pid)]
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, "pool processes outlived the sweep"


def test_an_unreachable_ray_address_times_out_with_one_line(tmp_path):
    import pytest

    pytest.importorskip("ray")
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "nalu_rl", "sweep", "--agents", "lstm", "--seeds", "1", "--frames", "6000000",
         "--out", str(tmp_path / "s"), "--quiet", "--ray-address", "127.0.0.1:9", "--ray-timeout", "5"],
        capture_output=True, text=True, timeout=240, env={**os.environ, "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"},
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    err = done.stderr.strip()
    assert len(err.splitlines()) == 1 and "cannot join the Ray cluster at '127.0.0.1:9'" in err, err
    assert time.monotonic() - started < 120


def test_a_listening_address_that_is_not_ray_times_out(tmp_path):
    import socket

    import pytest

    pytest.importorskip("ray")
    with socket.socket() as server:  # accepts connections and never answers, as a hung or foreign service would
        server.bind(("127.0.0.1", 0))
        server.listen()
        address = f"127.0.0.1:{server.getsockname()[1]}"
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "nalu_rl", "sweep", "--agents", "lstm", "--seeds", "1", "--frames", "6000000",
             "--out", str(tmp_path / "s"), "--quiet", "--ray-address", address, "--ray-timeout", "5"],
            capture_output=True, text=True, timeout=240, env={**os.environ, "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"},
        )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert f"cannot join the Ray cluster at '{address}'" in done.stderr and "within 5 s" in done.stderr
    assert time.monotonic() - started < 120


def test_ctrl_c_during_start_up_is_one_line(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "nalu_rl", "experiment", "--out", str(tmp_path / "e")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    time.sleep(0.3)  # still importing
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and err.strip().splitlines()[-1].endswith("interrupted")
