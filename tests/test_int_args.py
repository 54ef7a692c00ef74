"""Integer arguments: one table of limits (common.checks.LIMITS), the same in every command and in Python.

The command-line tests sweep every integer flag of every command (bench targets included), so a
flag added later with a plain ``type=int`` or bounds of its own fails here.
"""

from __future__ import annotations

import argparse

import pytest

from nalu_rl.cli import build_parser, main
from nalu_rl.common.checks import LIMITS, MAX_FRAMES, SEED_MAX, check_int, int_type, parse_int


def _subparsers(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield (*path, name), sub
                yield from _subparsers(sub, (*path, name))


def _integer_flags():
    """(command words, flag, action) of every option whose value is an integer."""
    out = []
    for path, sub in _subparsers(build_parser()):
        for action in sub._actions:
            if action.option_strings and (action.type is int or hasattr(action.type, "bounds")):
                out.append((path, action.option_strings[-1], action))
    return out


FLAGS = _integer_flags()


def _ids():
    return [" ".join(path) + " " + flag for path, flag, _ in FLAGS]


def test_the_sweep_finds_the_integer_flags_of_every_command():
    commands = {path[0] for path, _, _ in FLAGS}
    assert {"train", "eval", "sweep", "experiment", "baseline", "play", "arith", "bench"} <= commands
    assert len(FLAGS) >= 30


@pytest.mark.parametrize(("path", "flag", "action"), FLAGS, ids=_ids())
def test_every_integer_flag_uses_the_one_table(path, flag, action):
    assert action.type is not int, f"{' '.join(path)} {flag} parses with a plain int: no bounds, no 5e6"
    name = action.type.argument
    if name in LIMITS:
        assert action.type.bounds == LIMITS[name]


@pytest.mark.parametrize(("path", "flag", "action"), FLAGS, ids=_ids())
def test_every_integer_flag_refuses_values_past_its_bounds_in_one_line(path, flag, action, capsys):
    lo, hi = action.type.bounds
    for bad in [str(lo - 1), "1e30", "1" * 31, "2.5", "ten"] + ([] if hi is None else [str(hi + 1)]):
        with pytest.raises(SystemExit) as exit_:
            main([*path, flag, bad])
        assert exit_.value.code == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and flag in err and "Traceback" not in err, (bad, err)


def test_the_same_argument_has_the_same_bounds_in_every_command():
    by_argument: dict[str, set] = {}
    for _, _, action in FLAGS:
        by_argument.setdefault(action.type.argument, set()).add(action.type.bounds)
    assert all(len(b) == 1 for b in by_argument.values()), by_argument
    assert by_argument["seed"] == {(0, SEED_MAX)} and by_argument["frames"] == {(1, MAX_FRAMES)}


def test_integers_are_written_the_same_way_everywhere():
    assert parse_int("5e6") == parse_int("5_000_000") == parse_int("5000000") == 5_000_000
    assert parse_int("1e30") == 10**30  # exactly, never through a float: the check then refuses it
    for bad in ("2.5", "5e-1", "inf", "nan", "0x10", "", "1e1000"):
        with pytest.raises(ValueError, match="expected an integer"):
            parse_int(bad)
    with pytest.raises(ValueError, match=r"frames must be an integer in \[1, 1,000,000,000,000\], got 1e\+30"):
        check_int("frames", 1e30)
    with pytest.raises(ValueError, match="seed must be"):
        check_int("seed", True)


def test_a_seed_beyond_the_limit_is_refused_before_anything_is_written(tmp_path, capsys):
    run_dir = tmp_path / "run"
    for flag, value in (("--seed", str(SEED_MAX + 1)), ("--frames", "1" * 31), ("--frames", "1e30")):
        argv = ["train", "--agent", "lstm", "--env", "fast", "--frames", "4096", "--out", str(run_dir), flag, value]
        with pytest.raises(SystemExit) as exit_:
            main(argv)
        assert exit_.value.code == 2 and flag in capsys.readouterr().err
        assert not run_dir.exists()


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [({"seed": SEED_MAX + 1}, "seed"), ({"frames": 10**30}, "frames"), ({"frames": 1e7}, "frames"),
     ({"workers": 10**6}, "workers"), ({"envs_per_worker": 0}, "envs_per_worker")],
)  # fmt: skip
def test_the_python_api_applies_the_same_limits(tmp_path, kwargs, argument):
    from nalu_rl.agents.trainer import TrainRequest, prepare

    run_dir = tmp_path / "run"
    with pytest.raises(ValueError, match=argument):
        prepare(TrainRequest(agent="lstm", env="fast", run_dir=run_dir, **{"frames": 4096, **kwargs}))
    assert not run_dir.exists()


def test_sweeps_and_evaluation_apply_the_same_limits(tmp_path):
    from nalu_rl.evaluation.engine import evaluate
    from nalu_rl.sweep.plan import plan_runs

    options = {"env": "fast", "frames": 4096, "episodes": 10, "t_min": 1, "t_max": 30, "out": tmp_path / "sweep"}
    with pytest.raises(ValueError, match="seed must be an integer in"):
        plan_runs(["lstm"], [SEED_MAX + 1], **options)
    with pytest.raises(ValueError, match="frames must be an integer in"):
        plan_runs(["lstm"], [0], **{**options, "frames": 10**13})
    assert not (tmp_path / "sweep").exists()
    with pytest.raises(ValueError, match="episodes must be an integer in"):
        evaluate(object(), [5], LIMITS["episodes"][1] + 1)
    with pytest.raises(ValueError, match="seed must be an integer in"):
        evaluate(object(), [5], 10, seed=SEED_MAX + 1)


def test_a_name_in_the_table_takes_its_bounds_from_the_table_only():
    # Two bounds for one argument are how the limits drifted apart between commands.
    with pytest.raises(TypeError, match="LIMITS"):
        check_int("seed", 3, 0, 10)
    with pytest.raises(TypeError, match="LIMITS"):
        int_type("frames", 1, 100)
    assert check_int("seed", SEED_MAX) == SEED_MAX


def test_a_python_argument_named_otherwise_keeps_its_own_name_in_the_message():
    from nalu_rl.analysis.play import play

    with pytest.raises(ValueError, match=r"^episodes must be an integer in \[1, 100\], got 500"):
        play("no-such-run", episodes=500)
