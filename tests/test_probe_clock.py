"""scripts/probe_clock.py on a real (tiny) lstm_countdown run: the clock's drift and the cap compared on one checkpoint."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from nalu_rl.cli import main

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "probe_clock.py"


def test_probe_clock_reports_the_clock_and_each_cap(tmp_path):
    run = tmp_path / "cd"
    argv = ["train", "--agent", "lstm_countdown", "--env", "fast", "--frames", "2048", "--envs-per-worker", "16",
            "--out", str(run), "--quiet"]  # fmt: skip
    assert main(argv) == 0
    out = subprocess.run(
        [sys.executable, str(SCRIPT), str(run), "--t", "5,40", "--episodes", "8", "--cap", "0", "12"],
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout
    assert "time-left cap 12.0" in out  # the preset's cap, in scaled units
    assert "clock after 1,000 steps" in out and "drift" in out
    lines = [line for line in out.splitlines() if line.strip().startswith("cap")]
    assert len(lines) == 4 and sum("cap none" in line for line in lines) == 2 and sum("cap   12" in line for line in lines) == 2
    for line in lines:  # the four outcomes of each T add up to every episode
        shares = [float(line.split(word)[1].split()[0]) for word in ("on time", "early", "late", "never")]
        assert abs(sum(shares) - 1.0) < 1e-6
