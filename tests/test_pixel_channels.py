"""scripts/pixel_channels.py on a real pixel run whose per-cell layer and read-out were set by hand."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from nalu_rl.agents.checkpoint import load_checkpoint, save_checkpoint
from nalu_rl.agents.trainer import train

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "pixel_channels.py"


@pytest.mark.parametrize("encoder", ["cells", "cell_sums", "cell_means"])
def test_pixel_channels_counts_the_channels_that_fire_on_each_colour(tmp_path, encoder):
    run = train(agent="lstm", env="paper", frames=64, envs_per_worker=4, run_dir=tmp_path / "run", progress=False,
                overrides={"pixel_encoder": encoder, "pixel_channels": 6, "encoder_size": 8})  # fmt: skip
    path = run / "checkpoints" / "latest.pt"
    payload = load_checkpoint(path)
    model = payload["model"]
    # Channels 0-3 read red minus green minus blue (only the target's red fires), channels 4-5 nothing but a bias:
    # 4 fires everywhere, 5 nowhere. Read-out: outputs 0-2 a positive constant, 3-7 a negative one.
    first, head = ("encoder.net.0", "encoder.net.3") if encoder == "cells" else ("encoder", "encoder.head.2")
    weight = torch.zeros_like(model[f"{first}.weight"])
    weight[:4, 0], weight[:4, 1:] = 1.0, -1.0
    weight /= weight[0, 0].numel() * (121 if encoder == "cell_sums" else 1)  # the same per-cell response for each encoder
    model[f"{first}.weight"] = weight
    model[f"{first}.bias"] = torch.tensor([-0.1] * 4 + [0.5, -0.5])
    model[f"{head}.weight"] = torch.zeros_like(model[f"{head}.weight"])
    model[f"{head}.bias"] = torch.tensor([1.0] * 3 + [-1.0] * 5)
    save_checkpoint(path, **{k: v for k, v in payload.items() if k != "format"})
    out = subprocess.run([sys.executable, str(SCRIPT), str(run)], capture_output=True, text=True, timeout=120, check=True).stdout
    found = re.search(r"firing on empty / agent / target: (\d+) / (\d+) / (\d+) of (\d+); encoder outputs never firing: "
                      r"(\d+) of (\d+); rank over the placements: (\d+)", out)  # fmt: skip
    assert found, out
    assert [int(v) for v in found.groups()] == [1, 1, 5, 6, 5, 8, 1]


def test_pixel_channels_refuses_a_grid_run_in_one_line(tmp_path):
    run = train(agent="lstm", env="paper_grid", frames=64, envs_per_worker=4, run_dir=tmp_path / "run", progress=False)
    done = subprocess.run([sys.executable, str(SCRIPT), str(run)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "has no per-cell layer" in done.stderr and "Traceback" not in done.stderr
