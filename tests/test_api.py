"""The Python API at the package's top level: train, evaluate, report, load_agent, end to end, their errors, their examples."""

from __future__ import annotations

import doctest
import json
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import gymnasium as gym
import pytest

import nalu_rl
from nalu_rl import api

FRAMES = 4096  # a few sync updates on the grid: seconds, enough to write every file a run has
TINY = {"env": "fast", "frames": FRAMES, "mode": "sync", "progress": False}


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("runs")


@pytest.fixture(scope="module")
def run(runs_dir) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "far below the preset's frames": meant
        return nalu_rl.train("lstm", out=runs_dir / "lstm-s0", **TINY)


def test_import_stays_light_and_exports_the_api():
    code = (
        "import sys, nalu_rl\n"
        "heavy = sorted(m for m in ('torch', 'nalu_rl.api', 'nalu_rl.agents', 'nalu_rl.analysis') if m in sys.modules)\n"
        "assert not heavy, heavy\n"
        "names = {}\n"
        "exec('from nalu_rl import *', names)\n"
        "assert {'train', 'evaluate', 'report', 'load_agent', '__version__'} <= set(names), sorted(names)\n"
        "assert {'train', 'evaluate', 'report', 'load_agent'} <= set(dir(nalu_rl))\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert [getattr(nalu_rl, name) for name in api.__all__] == [getattr(api, name) for name in api.__all__]
    with pytest.raises(AttributeError, match="no attribute 'trian'"):
        nalu_rl.trian  # noqa: B018


def test_train_writes_a_run_and_resume_extends_it(run):
    config = json.loads((run / "config.json").read_text())
    assert (config["agent"], config["env_preset"], config["frames"]) == ("lstm", "fast", FRAMES)
    assert config["provenance"]["version"] == nalu_rl.__version__
    agent = nalu_rl.load_agent(run)
    assert agent.checkpoint["frames"] >= FRAMES


def test_resume_continues_from_the_checkpoint(run, tmp_path):
    copy = shutil.copytree(run, tmp_path / "copy")
    assert nalu_rl.train(out=copy, resume=True, frames=2 * FRAMES, progress=False) == copy
    assert nalu_rl.load_agent(copy).checkpoint["frames"] >= 2 * FRAMES
    assert [r["version"] for r in json.loads((copy / "config.json").read_text())["resumes"]] == [nalu_rl.__version__]


def test_evaluate_writes_the_result_into_the_run(run):
    doc = nalu_rl.evaluate(run, t_values="5,12,20", episodes=6)
    assert [r["T"] for r in doc["results"]] == [5, 12, 20] and {r["episodes"] for r in doc["results"]} == {6}
    assert json.loads((run / "extrapolation.json").read_text()) == json.loads(json.dumps(doc))
    assert doc["checkpoint"] == "latest" and doc["frames"] >= FRAMES


def test_report_writes_beside_the_runs_by_default(run, runs_dir):
    nalu_rl.evaluate(run, t_values=[5, 12, 20], episodes=6)
    summary = nalu_rl.report(runs_dir, tensorboard=False)
    beside = runs_dir.parent / f"{runs_dir.name}-report"
    assert Path(summary["files"]["report"]) == beside / "report.md" and (beside / "report.png").is_file()
    assert not (runs_dir / "report.md").exists() and not (run / "report.md").exists()  # the runs' folders hold runs
    assert list(summary["agents"]) == ["lstm"] and "lstm" in (beside / "report.md").read_text()
    chosen = nalu_rl.report(run, out=runs_dir.parent / "chosen", title="one run")  # one run folder, an explicit out
    assert (runs_dir.parent / "chosen" / "report.md").read_text().startswith("# one run")
    assert Path(chosen["files"]["tensorboard"]) == runs_dir.parent / "chosen" / "tb"


def test_load_agent_acts_along_an_episode(run):
    agent = nalu_rl.load_agent(run)
    env = gym.make("nalu_rl/TimedGrid-v0", **agent.config["env"])
    obs, _ = env.reset(seed=1, options={"instruction": 9})
    state, done, steps = None, False, 0
    while not done:
        action, state = agent.predict(obs, state=state, deterministic=True)
        assert env.action_space.contains(action)
        obs, _, terminated, truncated, info = env.step(action)
        done, steps = terminated or truncated, steps + 1
    assert info["instruction"] == 9 and "success" in info and steps >= 1
    assert agent.predict(obs, deterministic=True)[0] == nalu_rl.load_agent(run).predict(obs, deterministic=True)[0]


def _says_python(err: pytest.ExceptionInfo, *names: str) -> None:
    text = str(err.value)
    assert "--" not in text, text  # no command-line flag
    for name in names:
        assert name in text, text


def test_train_errors_name_the_keywords(run, tmp_path, monkeypatch):
    with pytest.raises(FileExistsError) as err:
        nalu_rl.train("lstm", out=run, **TINY)
    _says_python(err, "resume=True", "out=", str(run))
    monkeypatch.chdir(tmp_path)  # the default folder, runs/AGENT-ENV-sSEED, already holds a run
    shutil.copytree(run, tmp_path / "runs" / "lstm-fast-s0")
    with pytest.raises(FileExistsError) as err:
        nalu_rl.train("lstm", **TINY)
    _says_python(err, "resume=True", "out=", "lstm-fast-s0")
    with pytest.raises(ValueError) as err:
        nalu_rl.train(resume=True, progress=False)
    _says_python(err, "resume=True", "out=")
    with pytest.raises(FileNotFoundError) as err:
        nalu_rl.train(out=tmp_path / "empty", resume=True, progress=False)
    _says_python(err, "out=", "resume=False")
    with pytest.raises(ValueError) as err:
        nalu_rl.train(out=run, resume=True, overrides={"lr": 1e-3}, progress=False)
    _says_python(err, "overrides=")
    with pytest.raises(ValueError) as err:
        nalu_rl.train(env="fast", out=tmp_path / "new", progress=False)
    _says_python(err, "agent=")
    with pytest.raises(ValueError) as err:
        nalu_rl.train("lstm", env="fast", frames=0, out=tmp_path / "new", progress=False)
    _says_python(err, "frames")
    assert not (tmp_path / "new").exists()  # refused before anything is written


def test_evaluate_report_and_load_errors_name_the_arguments(run, tmp_path):
    with pytest.raises(FileNotFoundError) as err:
        nalu_rl.evaluate(tmp_path / "nope")
    _says_python(err, "run=")
    with pytest.raises(ValueError) as err:
        nalu_rl.evaluate(run, episodes=0)
    _says_python(err, "episodes")
    with pytest.raises(FileNotFoundError) as err:
        nalu_rl.load_agent(tmp_path / "nope")
    _says_python(err, "run=")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError) as err:
        nalu_rl.report(tmp_path / "empty")
    _says_python(err, "nalu_rl.evaluate(run)")
    with pytest.raises(FileNotFoundError) as err:
        nalu_rl.report(tmp_path / "nope")
    _says_python(err, "runs_dir=")
    with pytest.raises(ValueError) as err:
        nalu_rl.report(run.parent, out=run)  # a run's own tb/ would take the report's events
    _says_python(err, "out=", "run folder")


def _run_examples(docstrings: list[tuple[str, str]], globs: dict) -> None:
    """Run the ``>>>`` examples of each docstring in order, sharing one namespace, as a reader types them in turn."""
    parser, runner = doctest.DocTestParser(), doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    for name, text in docstrings:
        test = parser.get_doctest(text, globs, name, None, 0)
        assert test.examples, f"{name} has no example"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the examples' budgets are far below the presets': meant
            result = runner.run(test, clear_globs=False)
        globs.update(test.globs)  # a DocTest runs in a copy of the namespace it is given
        assert result.failed == 0, f"the example in {name} fails (see the output above)"


def test_the_api_examples_run(tmp_path):
    order = ("train", "evaluate", "report", "load_agent")  # each example continues the one before
    assert set(order) == set(api.__all__)
    _run_examples([(name, getattr(api, name).__doc__) for name in order], {"nalu_rl": nalu_rl, "Path": Path, "tmp": tmp_path})


def test_the_package_example_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # it writes runs/demo and runs/demo-report where it is run
    _run_examples([("nalu_rl", nalu_rl.__doc__)], {})
    assert (tmp_path / "runs" / "demo-report" / "report.md").is_file()
    assert (tmp_path / "runs" / "demo" / "lstm_nac-s0" / "extrapolation.json").is_file()


def test_numpy_integers_are_integers_and_a_preset_that_is_no_name_is_a_type_error(tmp_path):
    import numpy as np

    run = nalu_rl.train("lstm", env="fast", frames=np.int64(256), seed=np.int32(1), envs_per_worker=np.int64(8),
                        overrides={"n_steps": 16}, out=tmp_path / "run", progress=False)  # fmt: skip
    doc = nalu_rl.evaluate(run, t_values="5-6", episodes=np.int32(2))
    assert doc["results"][0]["episodes"] == 2 and json.loads((run / "config.json").read_text())["seed"] == 1
    with pytest.raises(TypeError, match="agent preset must be a name or a path, got 3"):
        nalu_rl.train(3, env="fast", frames=256, out=tmp_path / "other", progress=False)
