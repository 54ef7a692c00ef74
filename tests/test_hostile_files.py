"""Damaged or foreign files: one line naming the file and the field, in eval, train --resume and report."""

from __future__ import annotations

import json

import pytest
import torch

from nalu_rl.agents.trainer import train
from nalu_rl.cli import main

SMALL = dict(agent="lstm", env="fast", mode="sync", workers=1, envs_per_worker=8, overrides={"n_steps": 16})


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return train(**SMALL, frames=256, run_dir=tmp_path_factory.mktemp("base") / "run", progress=False)


def _copy(run, tmp_path):
    import shutil

    return shutil.copytree(run, tmp_path / "copy")


def _one_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err


@pytest.mark.parametrize("field, value, message", [
    ("agent_config", "oops", "agent_config must be a table"),
    ("env", 5, "env must be a table"),
    ("env.size", "five", "env: size must be an integer"),
    ("seed", "0", "seed must be an integer"),
    ("frames", -3, "frames must be an integer in"),
    ("agent_config.lr", "fast", "agent_config: lr must be a finite number"),
])  # fmt: skip
@pytest.mark.parametrize("command", ["eval", "resume"])
def test_a_config_json_with_fields_of_the_wrong_type(run, tmp_path, capsys, field, value, message, command):
    folder = _copy(run, tmp_path)
    config = json.loads((folder / "config.json").read_text())
    outer, _, inner = field.partition(".")
    if inner:
        config[outer][inner] = value
    else:
        config[outer] = value
    (folder / "config.json").write_text(json.dumps(config))
    argv = ["eval", str(folder), "--quiet"] if command == "eval" else ["train", "--resume", "--out", str(folder), "--quiet"]
    assert main(argv) == 2
    err = _one_line(capsys)
    assert str(folder / "config.json") in err and message in err


@pytest.mark.parametrize("change, message, commands", [
    (lambda c: c.update(frames=-5), "its frames must be an integer >= 0, got -5", ("eval", "resume")),
    (lambda c: c.pop("optimizer"), "holds no optimizer state, which a resume needs", ("resume",)),
])  # fmt: skip
def test_a_checkpoint_with_a_bad_counter_or_no_optimiser_state(run, tmp_path, capsys, change, message, commands):
    folder = _copy(run, tmp_path)
    path = folder / "checkpoints" / "latest.pt"
    payload = torch.load(path, weights_only=True)
    change(payload)
    torch.save(payload, path)
    for command in commands:
        argv = ["eval", str(folder), "--quiet"] if command == "eval" else ["train", "--resume", "--out", str(folder), "--quiet"]
        assert main(argv) == 2
        err = _one_line(capsys)
        assert str(path) in err and message in err


def test_report_says_which_runs_it_left_out_and_why(tmp_path, capsys):
    from test_report import fake_run

    root = tmp_path / "sweep"
    for seed in range(3):
        fake_run(root, "lstm", seed, 13)
    (root / "lstm-s1" / "extrapolation.json").write_text("")
    doc = json.loads((root / "lstm-s2" / "extrapolation.json").read_text())
    (root / "lstm-s2" / "extrapolation.json").write_text(json.dumps({**doc, "results": []}))
    assert main(["report", str(root), "--no-tensorboard"]) == 0
    out = capsys.readouterr().out
    left = [line for line in out.splitlines() if line.startswith("warning: left out")]
    assert len(left) == 2 and "lstm-s1" in left[0] and "unreadable" in left[0] and "lstm-s2" in left[1] and "no result" in left[1]
    assert "| lstm | 1 |" in out  # the run that was left is reported
