"""Training: synchronous A2C in one process, or asynchronous A3C workers sharing one network.

:func:`train` is the Python API that ``nalu-rl train`` wraps. It validates everything first
(:func:`prepare`, which writes nothing), then runs (:func:`run`), writing into the run folder
``config.json``, TensorBoard events under ``tb/`` and checkpoints under ``checkpoints/``.

* ``sync`` (:mod:`nalu_rl.agents.sync_trainer`): one process steps ``workers ×
  envs_per_worker`` environments as one batch. Deterministic for a given seed and device.
* ``async`` (:mod:`nalu_rl.agents.async_trainer`, A3C): ``workers`` processes apply their
  gradients to one shared network, without a lock (Hogwild).

Ctrl-C or SIGTERM stops at the end of the current rollout, saves a checkpoint and raises
:class:`TrainingInterrupted`; ``resume=True`` continues from ``checkpoints/latest.pt``, or starts
the run afresh from its ``config.json`` when it was stopped (or killed) before its first checkpoint.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from nalu_rl import runs
from nalu_rl.agents.async_trainer import train_async
from nalu_rl.agents.checkpoint import load_checkpoint
from nalu_rl.agents.errors import RunExists, TrainingInterrupted, WorkerError
from nalu_rl.agents.monitor import Monitor
from nalu_rl.agents.planning import Plan, TrainRequest, prepare
from nalu_rl.agents.sync_trainer import train_sync
from nalu_rl.common.locks import FolderLock
from nalu_rl.common.signals import StopSignals

__all__ = ["Plan", "TrainRequest", "TrainingInterrupted", "WorkerError", "prepare", "run", "train"]


def train(request: TrainRequest | None = None, /, *, progress: bool = True, **fields: Any) -> Path:
    """Train an agent and return its run folder: ``train(agent="lstm_nac", env="fast", frames=10**6, ...)``.

    The keywords are the fields of :class:`TrainRequest` (``agent``, ``env``, ``frames``, ``seed``,
    ``run_dir``, ``device``, ``mode``, ``workers``, ``envs_per_worker``, ``resume``, ``overrides``,
    ``checkpoint_interval``, ``eval_every``, ``log_interval``), or pass one ``TrainRequest``; ``progress`` shows a progress bar.
    Raises ``ValueError``/``FileNotFoundError`` for bad arguments before anything is written,
    :class:`TrainingInterrupted` after a signal, :class:`WorkerError` when a worker dies.
    """
    plan = prepare(request, **fields)
    for note in plan.notes:
        print(f"nalu-rl: {note}", file=sys.stderr)
    run(plan, progress=progress)
    return plan.run_dir


def run(plan: Plan, progress: bool = True, on_start: Callable[[], None] | None = None) -> None:
    """Train as planned, writing config.json, TensorBoard events and checkpoints into the run folder.

    The folder is held by this process while it trains (:class:`~nalu_rl.common.locks.FolderLock`): a second
    ``train`` into it raises :class:`~nalu_rl.common.locks.FolderBusy` naming the holder, before writing anything.
    ``on_start`` is called once the folder is held and checked, before training starts.
    """
    with FolderLock(plan.run_dir, what="run"):
        _recheck(plan)
        runs.check_writable(plan.run_dir)  # before the work, not at its first save
        runs.remove_stale_temps(plan.run_dir)  # of a run killed mid-write
        if on_start is not None:
            on_start()
        runs.write_config(plan.run_dir, plan.config)
        _train(plan, progress)


def _recheck(plan: Plan) -> None:
    """What :func:`prepare` saw still holds now that the folder is ours: no other process started or moved the run."""
    if plan.checkpoint is None and not plan.config.resumes and (plan.run_dir / runs.CONFIG_FILE).exists():
        raise RunExists(f"{plan.run_dir} already holds a run (written since this one was planned): continue it with --resume", plan.run_dir)
    path = runs.latest_checkpoint(plan.run_dir)
    if plan.checkpoint is not None and path.is_file() and load_checkpoint(path)["frames"] != plan.checkpoint["frames"]:
        raise ValueError(f"{plan.run_dir} was trained on by another process since this resume was planned: resume it again")


def _train(plan: Plan, progress: bool) -> None:
    start = plan.checkpoint["frames"] if plan.checkpoint else 0
    if start >= plan.config.frames:
        return
    monitor = Monitor(plan.run_dir, plan.config, plan.agent_config, start, progress, interval=plan.log_interval)
    threads = torch.get_num_threads()
    try:
        with StopSignals() as stop:
            if plan.config.mode == "sync":
                train_sync(plan, monitor, stop)
            else:
                train_async(plan, monitor, stop)
    finally:
        torch.set_num_threads(threads)
        monitor.close()
