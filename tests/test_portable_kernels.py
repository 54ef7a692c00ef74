"""--portable-kernels: one seed gives the same weights whatever instruction set the calling environment capped the kernels at."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import torch

from nalu_rl.agents.checkpoint import load_checkpoint
from nalu_rl.cli import main
from nalu_rl.common import kernels

# Two callers whose native kernels train apart within a few updates (checked below, so the test can fail).
CALLERS = {"native": {}, "baseline": {"ATEN_CPU_CAPABILITY": "default", "MKL_CBWR": "AUTO"}}


def _train(run_dir, caller: dict[str, str], portable: bool) -> dict[str, torch.Tensor]:
    env = {k: v for k, v in os.environ.items() if k not in kernels.PORTABLE}
    env.update(caller)
    cmd = [sys.executable, "-m", "nalu_rl", "train", "--agent", "lstm_nac", "--env", "fast", "--frames", "20000",
           "--envs-per-worker", "16", "--out", str(run_dir), "--quiet"] + ([kernels.FLAG] if portable else [])  # fmt: skip
    subprocess.run(cmd, env=env, check=True, capture_output=True)
    return load_checkpoint(run_dir / "checkpoints" / "latest.pt")["model"]


def _same(a, b) -> bool:
    return all(torch.equal(a[k], b[k]) for k in a)


def test_portable_kernels_give_the_same_bits_whatever_the_caller_capped(tmp_path):
    native = {name: _train(tmp_path / f"{name}-native", caller, portable=False) for name, caller in CALLERS.items()}
    assert not _same(native["native"], native["baseline"])  # the kernels matter here: without the flag they differ
    portable = {name: _train(tmp_path / f"{name}-portable", caller, portable=True) for name, caller in CALLERS.items()}
    assert _same(portable["native"], portable["baseline"])
    recorded = json.loads((tmp_path / "baseline-portable" / "config.json").read_text())["provenance"]["kernels"]
    assert recorded["portable"] is True and recorded["variables"]["MKL_CBWR"] == "COMPATIBLE"
    assert recorded["cpu_capability"] == "DEFAULT"


def test_the_flag_refuses_where_torch_is_already_loaded(capsys, monkeypatch):
    for name in kernels.PORTABLE:
        monkeypatch.delenv(name, raising=False)
    assert main(["train", "--agent", "lstm", kernels.FLAG]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "before torch loads" in err and "MKL_CBWR=COMPATIBLE" in err


@pytest.mark.parametrize("command", ["train", "sweep", "experiment"])
def test_the_commands_that_train_take_the_flag(command, capsys):
    with pytest.raises(SystemExit):
        main([command, "--help"])
    assert kernels.FLAG in capsys.readouterr().out
