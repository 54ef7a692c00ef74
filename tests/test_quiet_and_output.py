"""Output conventions: --quiet is silent on success in every command, no escape codes off a terminal, errors name the command."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from nalu_rl.agents.trainer import train
from nalu_rl.cli import build_parser, main
from nalu_rl.version import __version__

SMALL = dict(agent="lstm", env="fast", mode="sync", workers=1, envs_per_worker=8, overrides={"n_steps": 16})
TINY_TRAIN = ["--env", "fast", "--mode", "sync", "--envs-per-worker", "8", "--set", "n_steps=16"]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return train(**SMALL, frames=256, run_dir=tmp_path_factory.mktemp("quiet") / "run", progress=False)


def _commands(parser) -> dict[str, object]:
    """Every command's parser by its name, sub-commands (bench env, bench train) included."""
    found = {}
    for action in parser._actions:
        for name, sub in getattr(action, "choices", None).items() if action.dest in ("command", "target") else ():
            nested = _commands(sub)
            found.update({f"{name} {k}": v for k, v in nested.items()} if nested else {name: sub})
    return found


def test_every_command_has_quiet_with_one_meaning():
    helps = {name: next((a.help for a in p._actions if "--quiet" in a.option_strings), None)
             for name, p in _commands(build_parser()).items()}  # fmt: skip
    assert set(helps) >= {"train", "eval", "report", "sweep", "experiment", "baseline", "play", "arith", "bench env",
                          "bench train"}  # fmt: skip
    assert None not in helps.values(), [n for n, h in helps.items() if h is None]
    assert len(set(helps.values())) == 1, helps


def test_quiet_prints_nothing_on_success(run, tmp_path, capsys):
    commands = [
        ["train", "--agent", "lstm", *TINY_TRAIN, "--frames", "200", "--out", str(tmp_path / "t")],  # a note: 200 -> 256
        ["eval", str(run), "--t", "5-6", "--episodes", "2"],
        ["report", str(run), "--no-tensorboard"],
        ["play", str(run), "--t", "5", "--gif", str(tmp_path / "a.gif")],
        ["sweep", "--agents", "lstm", "--seeds", "1", "--env", "fast", "--frames", "2048", "--t", "5", "--episodes", "1",
         "--out", str(tmp_path / "s")],
        ["arith", "--tasks", "add", "--models", "nac", "--seeds", "1", "--steps", "20", "--out", str(tmp_path / "a")],
    ]  # fmt: skip
    for argv in commands:
        assert main([*argv, "--quiet"]) == 0, argv
        out, err = capsys.readouterr()
        assert out == "", (argv, out)
        assert all(": warning: " in line for line in err.splitlines()), (argv, err)  # warnings alone (tiny budgets)


def test_output_off_a_terminal_has_no_escape_codes_or_carriage_returns(run, tmp_path):
    env = dict(os.environ, NO_COLOR="1")
    for argv in (["train", "--agent", "lstm", *TINY_TRAIN, "--frames", "4096", "--out", str(tmp_path / "t")],
                 ["eval", str(run), "--t", "5-6", "--episodes", "2"]):  # fmt: skip
        done = subprocess.run([sys.executable, "-m", "nalu_rl", *argv], capture_output=True, text=True, env=env,
                              timeout=300)  # fmt: skip
        assert done.returncode == 0, done.stderr
        for text in (done.stdout, done.stderr):
            assert "\x1b" not in text and "\r" not in text, (argv, text)


def test_version_and_unknown_arguments_name_the_command(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0 and capsys.readouterr().out.strip() == f"nalu-rl {__version__}"
    for argv, command in ((["train", "--bogus"], "nalu-rl train"), (["bench", "env", "--bogus"], "nalu-rl bench env")):
        assert main(argv) == 2
        assert capsys.readouterr().err.strip() == f"{command}: error: unrecognized arguments: --bogus"


def test_batches_bound_evaluations_before_work_and_the_frames_trained_are_said(capsys, tmp_path):
    argv = ["train", "--agent", "lstm", *TINY_TRAIN, "--out", str(tmp_path / "t"), "--quiet"]
    assert main([*argv, "--frames", "1024", "--eval-every", "64"]) == 2
    assert "eval_every must be 0 (never) or at least one batch of 128 frames (workers x envs_per_worker 8 x n_steps 16), got 64" in (
        capsys.readouterr().err)  # fmt: skip
    assert not (tmp_path / "t").exists()
    assert main([*argv[:-1], "--frames", "100"]) == 0  # less than one batch: one batch, said before training
    assert "100 frames is not a whole number of batches of 128: training stops at 128" in capsys.readouterr().err
    assert main(["experiment", "--agents", "lstm,lstm", "--seeds", "1", "--out", str(tmp_path / "e")]) == 2
    assert "agents repeat" in capsys.readouterr().err
