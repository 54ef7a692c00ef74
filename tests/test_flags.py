"""One vocabulary of flags across commands: walk every parser; old spellings still work, with a warning."""

from __future__ import annotations

import argparse
import re

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


OLD = {"--run-dir": "--out", "--no-progress": "--quiet", "--instruction": "--t", "-T": "--t", "--portable": "--portable-kernels"}


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
             if "--seeds" in _visible(p)}  # fmt: skip
    assert set(seeds) == {"sweep", "experiment", "arith"} and len(set(seeds.values())) == 1
    for name in ("eval", "sweep", "experiment", "play", "report", "baseline"):
        assert "--t" in _visible(commands[name]), name


@pytest.mark.parametrize("argv, dest, value, old, new", [
    (["train", "--run-dir", "R"], "out", "R", "--run-dir", "--out"),
    (["baseline", "--run-dir", "R"], "out", "R", "--run-dir", "--out"),
    (["train", "--no-progress"], "quiet", True, "--no-progress", "--quiet"),
    (["arith", "--no-progress"], "quiet", True, "--no-progress", "--quiet"),
    (["play", "RUN", "--instruction", "7"], "t_list", "7", "--instruction", "--t"),
    (["play", "RUN", "-T", "7"], "t_list", "7", "-T", "--t"),
    (["play", "RUN", "--out", "a.gif"], "gif", "a.gif", "--out", "--gif"),
    (["play", "RUN", "--seed", "5"], "eval_seed", 5, "--seed", "--eval-seed"),
    (["eval", "RUN", "--seed", "5"], "eval_seed", 5, "--seed", "--eval-seed"),
    (["bench", "train", "--portable"], "portable_kernels", True, "--portable", "--portable-kernels"),
    (["bench", "env", "--device", "cpu", "--device", "cuda"], "devices", ["cpu", "cuda"], "--device", "--devices"),
])  # fmt: skip
def test_old_spellings_still_work_with_a_warning(argv, dest, value, old, new, capsys):
    args = build_parser().parse_args(argv)
    assert str(getattr(args, dest)) == str(value)
    err = capsys.readouterr().err
    assert f"warning: {old} is now spelled {new}" in err


def test_the_seed_of_a_run_and_the_seed_of_its_evaluation_have_their_own_names():
    commands = _commands()
    for name in ("train", "baseline", "arith"):
        assert "--seed" in _visible(commands[name]) and "--eval-seed" not in _visible(commands[name]), name
    for name in ("eval", "play"):
        assert "--eval-seed" in _visible(commands[name]) and "--seed" not in _visible(commands[name]), name


# Flags whose meaning in one command is a variant of the shared one, said in their own help: bench train times each
# agent, environment and kernel choice side by side and the cost of evaluating while training, so its --agents,
# --env, --portable-kernels and --eval-every add measurements rather than set the run; arith's --eval-every counts
# optimiser steps of the arithmetic benchmark, which has no frames.
VARIANTS = {("bench train", "--agents"), ("bench train", "--env"), ("bench train", "--portable-kernels"),
            ("bench train", "--eval-every"), ("arith", "--eval-every")}  # fmt: skip
# Names that begin with another name and mean something else: --t-min and --t-max are the range form of --t;
# --checkpoint picks which weights to score, --checkpoint-interval how often training saves them; arith's
# --extrapolation is a range of inputs, --extrapolation-length a number of steps.
FAMILIES = {"--t": {"--t-min", "--t-max"}, "--checkpoint": {"--checkpoint-interval"},
            "--extrapolation": {"--extrapolation-length"}}  # fmt: skip
_DEFAULT = re.compile(r" ?\(default[ :][^()]*(\([^()]*\)[^()]*)*\)")


def _definition(action: argparse.Action) -> tuple:
    """What a flag is, the default left out: its help (without "(default ...)"), kind, type, metavar, choices, dest."""
    kind = getattr(action.type, "__qualname__", repr(action.type))
    return (_DEFAULT.sub("", action.help), type(action).__name__, kind, action.metavar, action.choices, action.dest,
            action.nargs, action.const)  # fmt: skip


def test_every_flag_is_defined_once():
    """A flag that several commands have is the one definition from nalu_rl/cli/args.py: the same words, type and
    destination everywhere; only its default may differ, shown as "(default ...)"."""
    found: dict[str, dict[tuple, list[str]]] = {}
    defaults: dict[str, dict[str, tuple]] = {}
    for name, parser in _commands().items():
        for action in parser._actions:
            if action.help == argparse.SUPPRESS or isinstance(action, argparse._HelpAction):
                continue
            for option in action.option_strings:
                if (name, option) in VARIANTS:
                    continue
                found.setdefault(option, {}).setdefault(_definition(action), []).append(name)
                defaults.setdefault(option, {})[name] = (action.default, action.help)
    for option, where in defaults.items():  # a default that differs between commands is said in each
        if len(where) > 1 and len({repr(default) for default, _ in where.values()}) > 1:
            for name, (_, help) in where.items():
                assert _DEFAULT.search(help), f"{name} {option}: the default is not shown as (default ...)"
    drifted = {option: definitions for option, definitions in found.items() if len(definitions) > 1}
    assert not drifted, "\n".join(f"{option}: {list(d.values())} define it differently" for option, d in drifted.items())


def test_no_two_names_for_one_concept():
    """A name that is another name and more words (--portable, --portable-kernels) is two spellings of one flag."""
    names = {option for parser in _commands().values() for option in _visible(parser) if option.startswith("--")}
    for short in names:
        longer = {n for n in names if n.startswith(short + "-")} - FAMILIES.get(short, set())
        assert not longer, f"{short} and {sorted(longer)}: one concept, one name"


def test_old_spellings_are_hidden_and_warned():
    """Every spelling left out of --help is an old one that warns and names the flag it stands for."""
    for name, parser in _commands().items():
        shown = _visible(parser)
        for action in parser._actions:
            if action.help == argparse.SUPPRESS and action.option_strings:
                assert type(action).__name__ == "_Renamed" and action.new in shown, (name, action.option_strings)


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


@pytest.mark.parametrize("error, line", [
    (ValueError("bad value\nmore detail"), "bad value"),
    (FileNotFoundError(2, "No such file or directory", "missing.toml"), "missing.toml: No such file or directory"),
    (ImportError("needs pip install -e '.[ray]'"), "needs pip install -e '.[ray]'"),
    (ConnectionError("no Ray cluster at 1.2.3.4:6379"), "no Ray cluster at 1.2.3.4:6379"),
])  # fmt: skip
def test_a_user_error_from_any_command_is_one_line_and_exit_2(error, line, monkeypatch, capsys):
    from nalu_rl.cli.commands import report

    def fail(args):
        raise error

    monkeypatch.setattr(report, "run", fail)
    assert main(["report", "DIR"]) == 2
    assert capsys.readouterr().err == f"nalu-rl report: error: {line}\n"


def test_the_commands_leave_the_mapping_of_user_errors_to_main():
    from pathlib import Path

    import nalu_rl.bench
    import nalu_rl.cli.commands

    for folder in (Path(nalu_rl.cli.commands.__file__).parent, Path(nalu_rl.bench.__file__).parent):
        for path in folder.glob("*.py"):
            assert "first_line" not in path.read_text(), f"{path.name} maps errors itself: main does it once"


def test_bench_times_the_portable_kernels_without_pinning_its_own_process(monkeypatch, capsys):
    from nalu_rl.common import kernels

    def pin():
        raise AssertionError("bench pinned its own kernels: its native runs would inherit them")

    monkeypatch.setattr(kernels, "pin", pin)
    assert main(["bench", "train", "--portable-kernels", "--agents", "no_such_agent"]) == 2
    assert "no_such_agent" in capsys.readouterr().err
