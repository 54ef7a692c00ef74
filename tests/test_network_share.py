"""scripts/network_share.py on a real (tiny) run: the network's forward and backward are timed, and they are part of the run."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "network_share.py"


def test_network_share_times_the_network_inside_a_real_run():
    out = subprocess.run(
        [sys.executable, str(SCRIPT), "--agent", "lstm", "--frames", "8192", "--envs", "16"],
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout  # fmt: skip
    found = re.search(r"network forward (\d+)%, backward (\d+)%: (\d+)% of [\d.]+ s, so at most ([\d.]+)x", out)
    assert found, out
    forward, backward, total, bound = (float(v) for v in found.groups())
    assert forward > 0 and backward > 0  # both hooks saw calls
    assert abs(forward + backward - total) <= 1 and total < 100  # a part of the run, not all of it
    assert 100 / (total + 0.5) - 0.05 <= bound <= 100 / (total - 0.5) + 0.05  # 1 / share, from the unrounded share
