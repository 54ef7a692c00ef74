"""``nalu-rl sweep --ray-address``: a real local Ray head on loopback, a tiny sweep as Ray tasks, then shutdown.

The head is started as ``ray start --head --block`` in its own process group and stopped by
signalling that group only (``ray stop`` would stop every Ray cluster on the machine).
``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0`` keeps Ray on 127.0.0.1: without it Ray swaps a loopback
``--node-ip-address`` for the machine's first network address.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import pytest

pytest.importorskip("ray", reason="Ray is in the dev extra: pip install -e '.[dev]'")

START_TIMEOUT_S = 120
SWEEP_TIMEOUT_S = 400


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ray_env() -> dict[str, str]:
    return {**os.environ, "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_USAGE_STATS_ENABLED": "0", "RAY_ADDRESS": ""}


@pytest.fixture(scope="module")
def ray_head():
    port = _free_port()
    temp_dir = tempfile.mkdtemp(prefix="nr-ray-", dir="/tmp")  # short: Ray's socket paths must fit in 107 bytes
    log = open(os.path.join(temp_dir, "head.log"), "w")
    cmd = [sys.executable, "-c", "import sys; from ray.scripts.scripts import main; sys.argv[0] = 'ray'; sys.exit(main())",
           "start", "--head", "--node-ip-address=127.0.0.1", f"--port={port}", "--num-cpus=2", "--num-gpus=0",
           "--include-dashboard=false", "--disable-usage-stats", f"--temp-dir={temp_dir}", "--block"]  # fmt: skip
    head = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=_ray_env(), start_new_session=True)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if head.poll() is not None:
                log.flush()
                pytest.fail(f"ray start exited with {head.returncode}:\n{open(log.name).read()[-3000:]}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"the Ray head did not open 127.0.0.1:{port} within {START_TIMEOUT_S} s")
                time.sleep(0.5)
        yield f"127.0.0.1:{port}"
    finally:
        _stop_group(head)
        log.close()
        shutil.rmtree(temp_dir, ignore_errors=True)


def _stop_group(proc: subprocess.Popen) -> None:
    """SIGTERM to the head's process group (its GCS, raylet and workers), SIGKILL to whatever outlives 5 s."""
    for sig, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, 10)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(wait)
        except subprocess.TimeoutExpired:
            continue
        deadline = time.monotonic() + wait  # the head is gone; give its children a moment too
        while time.monotonic() < deadline:
            try:
                os.killpg(proc.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.5)


def test_sweep_runs_as_ray_tasks(ray_head, tmp_path):
    out = tmp_path / "ray-sweep"
    argv = [sys.executable, "-m", "nalu_rl", "sweep", "--agents", "lstm", "--seeds", "2", "--env", "fast",
            "--frames", "128", "--episodes", "4", "--t-min", "4", "--t-max", "5", "--out", str(out),
            "--mode", "sync", "--workers", "1", "--envs-per-worker", "8", "--ray-address", ray_head]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, env=_ray_env(), timeout=SWEEP_TIMEOUT_S)
    assert done.returncode == 0, done.stdout + done.stderr
    summary = json.loads((out / "sweep.json").read_text())
    assert summary["backend"] == "ray" and summary["ray_address"] == ray_head
    assert [(r["name"], r["status"]) for r in summary["runs"]] == [("lstm-s0", "ok"), ("lstm-s1", "ok")]
    for r in summary["runs"]:
        assert r["trained"] and r["evaluated"] and r["worker"]  # ran in a Ray worker process
        assert (out / r["name"] / "extrapolation.json").is_file()
        assert (out / r["name"] / "checkpoints" / "latest.pt").is_file()
    assert "lstm-s0" in done.stdout and "2/2 runs done" in done.stdout
