"""One vocabulary of flags across commands: walk every parser; old spellings still work, with a warning."""

from __future__ import annotations

import argparse

import pytest

from nalu_rl.cli import build_parser, main


def _commands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    found = dict(sub.choices)
    for name, child in list(found.items()):  # bench env, bench train
        for action in child._actions:
            if isinstance(action, argparse._SubParsersAction):
                found.update({f"{name} {k}": v for k, v in action.choices.items()})
    return found


def _visible(parser: argparse.ArgumentParser) -> set[str]:
    return {s for a in parser._actions if a.help != argparse.SUPPRESS for s in a.option_strings}


OLD = {"--run-dir": "--out", "--no-progress": "--quiet", "--instruction": "--t", "-T": "--t"}


def test_no_command_shows_an_old_spelling():
    for name, parser in _commands().items():
        shown = _visible(parser)
        assert not shown & set(OLD), (name, shown & set(OLD))
        assert "--agent" not in shown or name == "train", name  # one agent to train; --agents where several


@pytest.mark.parametrize("name", ["train", "sweep", "experiment", "baseline"])
def test_commands_that_train_share_out_set_quiet_and_eval_every(name):
    shown = _visible(_commands()[name])
    assert {"--out", "--set", "--quiet"} <= shown, name
    if name != "baseline":  # the peer is evaluated at its end only
        assert {"--eval-every", "--portable-kernels"} <= shown, name


@pytest.mark.parametrize("name", ["train", "eval", "sweep", "experiment", "baseline", "arith"])
def test_every_command_with_a_progress_bar_is_quieted_by_quiet(name):
    assert "--quiet" in _visible(_commands()[name])


def test_seeds_and_t_mean_the_same_everywhere():
    commands = _commands()
    seeds = {name: next(a for a in p._actions if "--seeds" in a.option_strings).type for name, p in commands.items()
             if "--seeds" in _visible(p) and name != "arith"}  # fmt: skip
    assert set(seeds) == {"sweep", "experiment"} and len(set(seeds.values())) == 1
    for name in ("eval", "sweep", "experiment", "play"):
        assert "--t" in _visible(commands[name]), name


@pytest.mark.parametrize("argv, dest, value, old", [
    (["train", "--run-dir", "R"], "run_dir", "R", "--run-dir"),
    (["train", "--no-progress"], "quiet", True, "--no-progress"),
    (["arith", "--no-progress"], "quiet", True, "--no-progress"),
    (["play", "RUN", "--instruction", "7"], "instruction", 7, "--instruction"),
    (["play", "RUN", "-T", "7"], "instruction", 7, "-T"),
])  # fmt: skip
def test_old_spellings_still_work_with_a_warning(argv, dest, value, old, capsys):
    args = build_parser().parse_args(argv)
    assert str(getattr(args, dest)) == str(value)
    err = capsys.readouterr().err
    assert f"warning: {old} is now spelled {OLD[old]}" in err


def test_the_help_texts_are_plain(capsys):
    for name, parser in _commands().items():
        text = parser.format_help()
        assert "``" not in text and ":func:" not in text and ":mod:" not in text, name


def test_the_log_interval_reaches_training(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "--agent", "lstm", "--env", "fast", "--frames", "2048", "--envs-per-worker", "8", "--out", str(run),
                 "--quiet", "--log-interval", "1e-6"]) == 0  # fmt: skip
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(run / "tb"))
    acc.Reload()
    assert len(acc.Scalars("train/learning_rate")) >= 5  # a point per update, not one a second
    assert main(["train", "--agent", "lstm", "--out", str(tmp_path / "x"), "--log-interval", "0"]) == 2
