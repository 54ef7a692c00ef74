"""The Python API, for notebooks and scripts: :func:`train`, :func:`evaluate`, :func:`report`, :func:`load_agent`.

They run what ``nalu-rl train``, ``eval`` and ``report`` run (:mod:`nalu_rl.agents.trainer`,
:mod:`nalu_rl.analysis.evaluate`, :mod:`nalu_rl.analysis.report`), and write the same files, but speak Python:
an argument at fault is named as the keyword it is (``out=``, ``resume=True``), and a mistake raises
``ValueError``, ``FileNotFoundError`` or ``FileExistsError`` instead of printing a line and exiting.
Every function is importable from ``nalu_rl`` itself.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from nalu_rl import runs

__all__ = ["evaluate", "load_agent", "report", "train"]

REPORT_SUFFIX = "-report"  # report(runs) writes beside the folder it reads: runs/sweep -> runs/sweep-report


def train(
    agent: str | None = None,
    *,
    env: str | None = None,
    frames: int | None = None,
    seed: int | None = None,
    out: str | Path | None = None,
    resume: bool = False,
    mode: str | None = None,
    workers: int | None = None,
    envs_per_worker: int | None = None,
    device: str | None = None,
    overrides: Mapping[str, Any] | None = None,
    eval_every: int | None = None,
    progress: bool = True,
) -> Path:
    """Train one agent into a run folder (``config.json``, ``checkpoints/``, TensorBoard events under ``tb/``).

    Arguments left at None take the agent preset's ``[run]`` table (its frames, mode, workers and batch),
    seed 0 and the CPU, as ``nalu-rl train`` does.

    :param agent: agent preset (``"lstm"``, ``"lstm_nac"``, ...) or the path of a TOML file; required for a new run,
        optional with ``resume=True`` (it must then be the run's own)
    :param env: environment preset (``"paper_grid"``, ``"fast"``, ``"paper"`` for pixels, ...) or a TOML path
    :param frames: environment frames to train for in total; with ``resume=True`` it may extend the run
    :param seed: the run's seed
    :param out: the run folder; None: ``runs/AGENT-ENV-sSEED`` under the current folder
    :param resume: continue the run in ``out`` from its latest checkpoint instead of starting a new one
    :param mode: ``"sync"`` (A2C, one process, deterministic for a seed) or ``"async"`` (A3C worker processes)
    :param workers: worker processes (async) or batch multiplier (sync)
    :param envs_per_worker: environments each worker steps as one batch
    :param device: ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"auto"``
    :param overrides: hyper-parameters replacing the preset's, by name (``{"lr": 3e-4}``); not with ``resume=True``
    :param eval_every: evaluate extrapolation every this many frames while training (``eval_history.csv``,
        ``checkpoints/best.pt``); None or 0: never
    :param progress: show a progress bar
    :return: the run folder
    :raises ValueError: a bad argument, before anything is written
    :raises FileExistsError: ``out`` already holds a run and ``resume`` is False
    :raises FileNotFoundError: ``resume=True`` and ``out`` holds no run
    :raises nalu_rl.agents.TrainingInterrupted: Ctrl-C or SIGTERM; a checkpoint was saved, ``resume=True`` continues

    >>> import nalu_rl
    >>> run = nalu_rl.train("lstm", env="fast", frames=4096, out=tmp / "lstm-s0", mode="sync", progress=False)
    >>> (run / "config.json").is_file(), (run / "checkpoints" / "latest.pt").is_file()
    (True, True)
    >>> run = nalu_rl.train(out=run, resume=True, frames=8192, progress=False)  # 4096 frames more
    """
    from nalu_rl.agents.errors import RunExists
    from nalu_rl.agents.planning import TrainRequest, frames_warning, prepare
    from nalu_rl.agents.trainer import run as run_plan

    if resume:
        if out is None:
            raise ValueError("resume=True needs out=, the run folder to continue")
        if not runs.is_run_folder(Path(out)):
            raise FileNotFoundError(f"out={str(out)!r} holds no run to resume (no {runs.CONFIG_FILE}): start it with resume=False")
        if overrides:
            raise ValueError("overrides= cannot change a resumed run's hyper-parameters: start a new run in another out= folder")
    elif agent is None:
        raise ValueError("agent= is required for a new run: an agent preset such as 'lstm_nac', or a TOML file")
    request = TrainRequest(
        agent=agent, env=env, frames=frames, seed=seed, run_dir=out, device=device, mode=mode, workers=workers,
        envs_per_worker=envs_per_worker, resume=resume, overrides=dict(overrides or {}), eval_every=eval_every,
    )  # fmt: skip
    try:
        plan = prepare(request)
        for note in plan.notes:
            warnings.warn(note, stacklevel=2)
        low = frames_warning(agent, plan.config.frames, env) if agent is not None and not resume else None
        if low:
            warnings.warn(low, stacklevel=2)
        run_plan(plan, progress=progress)
    except RunExists as err:
        raise FileExistsError(
            f"out={str(err.run_dir)!r} already holds a run: continue it with resume=True, or choose another out="
        ) from None
    return plan.run_dir


def evaluate(
    run: str | Path,
    *,
    t_values: str | Sequence[int] | None = None,
    episodes: int | None = None,
    checkpoint: str | None = None,
    sample: bool = False,
    seed: int | None = None,
    device: str | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Evaluate a run's agent at each instructed T; write ``extrapolation.json``, ``.csv`` and ``.png`` into the run.

    Arguments left at None take ``nalu-rl eval``'s defaults (:func:`nalu_rl.analysis.evaluate.evaluate_run`).

    :param run: the run folder (``train``'s or ``nalu-rl baseline``'s)
    :param t_values: the T to evaluate: ints, or text such as ``"1-30,50,100"``; None: 1..30
    :param episodes: seeded episodes per T (None: ``nalu_rl.analysis.t_values.DEFAULT_EPISODES``)
    :param checkpoint: ``"latest"`` (the final weights; None: this) or ``"best"`` (chosen on T = 8..12 while training)
    :param sample: sample actions from the policy instead of taking the most probable
    :param seed: evaluation seed: picks the start states (and the samples); None: 0
    :param device: ``"cpu"`` (None: this), ``"cuda"``, ``"cuda:N"`` or ``"auto"``
    :param progress: show a progress bar
    :return: the ``extrapolation.json`` document: per-T ``results``, ``horizon_90``, ``horizon_50``, the paper's
        ``reward_13_20`` and ``reward_horizon``, which ``checkpoint`` was scored at how many ``frames``
    :raises FileNotFoundError: ``run`` is not a folder, or lacks its config or checkpoint
    :raises ValueError: a bad argument or a damaged run

    >>> doc = nalu_rl.evaluate(run, t_values=[5, 12, 20], episodes=8)
    >>> [r["T"] for r in doc["results"]], doc["results"][0]["episodes"]
    ([5, 12, 20], 8)
    """
    from nalu_rl.analysis.evaluate import evaluate_run

    if not Path(run).is_dir():
        raise FileNotFoundError(f"run={str(run)!r} is not a folder: give a run folder that train wrote")
    given = {"episodes": episodes, "checkpoint": checkpoint, "seed": seed, "device": device}
    options = {name: value for name, value in given.items() if value is not None}
    return evaluate_run(run, t_values=t_values, sample=sample, progress=progress, **options)


def report(
    runs_dir: str | Path,
    *,
    out: str | Path | None = None,
    title: str | None = None,
    t_values: str | Sequence[int] | None = None,
    tensorboard: bool = True,
) -> dict[str, Any]:
    """Aggregate the evaluated runs under a folder: the paper's measure, success and arrival time vs T per agent.

    Writes ``report.md``, ``summary.json``, the figures (``report.png``, ``reward_vs_T.png``, ``success_vs_T.png``,
    ``arrival_vs_T.png``; ``training_curves.png``/``.csv`` for runs evaluated while training) and TensorBoard events
    under ``tb/`` into ``out``. ``nalu-rl report DIR`` writes them into DIR itself; here they go beside it by default,
    so that the folder of runs holds runs only and a run folder's own ``tb/`` is not mixed with the report's.

    :param runs_dir: a folder holding run folders (a sweep's), or one run folder, evaluated (``extrapolation.json``)
    :param out: the folder to write into, created if missing; None: ``<runs_dir>-report`` beside ``runs_dir``
    :param title: the heading of ``report.md`` and of the combined figure
    :param t_values: which evaluated T the tables and figures show (ints or text such as ``"1-30,50"``);
        None: every T the runs were evaluated at. The horizons are always the runs' own
    :param tensorboard: also write TensorBoard events under ``out/tb``
    :return: the summary (``summary.json``'s numbers), with ``"markdown"`` (the tables) and ``"files"`` (name -> path)
    :raises FileNotFoundError: ``runs_dir`` is not a folder
    :raises ValueError: no evaluated run under ``runs_dir``, or ``out`` is a run folder

    >>> summary = nalu_rl.report(tmp, out=tmp / "report")
    >>> sorted(summary["agents"]), Path(summary["files"]["report"]).name
    (['lstm'], 'report.md')
    """
    from nalu_rl.analysis.report import make_report

    root = Path(runs_dir)
    if not root.is_dir():
        raise FileNotFoundError(f"runs_dir={str(runs_dir)!r} is not a folder")
    if out is None:
        name = root.resolve().name
        if not name:
            raise ValueError(f"runs_dir={str(runs_dir)!r} has no name to put a report beside: give out=")
        out = root.resolve().parent / f"{name}{REPORT_SUFFIX}"
    if runs.is_run_folder(Path(out)):
        raise ValueError(f"out={str(out)!r} is a run folder: write the report into a folder of its own")
    return make_report(root, title=title, tensorboard=tensorboard, t_values=t_values, out=out)


def load_agent(run: str | Path, *, checkpoint: str | None = None, device: str | None = None) -> Any:
    """The trained agent of a run folder, ready to act: ``agent.predict(obs, state, episode_start, deterministic)``.

    Works for the runs of ``train`` and of ``nalu-rl baseline`` (the Stable-Baselines3 peer) alike;
    ``agent.config`` is the run's ``config.json``.

    :param run: the run folder
    :param checkpoint: ``"latest"`` (the final weights; None: this) or ``"best"`` (chosen on T = 8..12 while training)
    :param device: ``"cpu"`` (None: this), ``"cuda"``, ``"cuda:N"`` or ``"auto"``
    :return: an agent whose ``predict`` takes one Gymnasium observation or a batch, and the recurrent state
        (None at the start of an episode), and returns ``(action, next state)``
    :raises FileNotFoundError: ``run`` is not a folder, or lacks its config or checkpoint
    :raises ValueError: a damaged run or an unknown device

    >>> import gymnasium as gym
    >>> agent = nalu_rl.load_agent(run)
    >>> env = gym.make("nalu_rl/TimedGrid-v0", **agent.config["env"])
    >>> obs, info = env.reset(seed=0, options={"instruction": 7})
    >>> action, state = agent.predict(obs, state=None, deterministic=True)
    >>> env.action_space.contains(action)
    True
    """
    if not Path(run).is_dir():
        raise FileNotFoundError(f"run={str(run)!r} is not a folder: give a run folder that train wrote")
    given = {"checkpoint": checkpoint, "device": device}
    return runs.load_agent(run, **{name: value for name, value in given.items() if value is not None})
