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
from pathlib import Path
from typing import Any

import torch

from nalu_rl.agents import runs
from nalu_rl.agents.async_trainer import train_async
from nalu_rl.agents.errors import TrainingInterrupted, WorkerError
from nalu_rl.agents.monitor import Monitor
from nalu_rl.agents.planning import Plan, TrainRequest, prepare
from nalu_rl.agents.sync_trainer import train_sync
from nalu_rl.common.signals import StopSignals

__all__ = ["Plan", "TrainRequest", "TrainingInterrupted", "WorkerError", "prepare", "run", "train"]


def train(request: TrainRequest | None = None, /, *, progress: bool = True, **fields: Any) -> Path:
    """Train an agent and return its run folder: ``train(agent="lstm_nac", env="fast", frames=10**6, ...)``.

    The keywords are the fields of :class:`TrainRequest` (``agent``, ``env``, ``frames``, ``seed``,
    ``run_dir``, ``device``, ``mode``, ``workers``, ``envs_per_worker``, ``resume``, ``overrides``,
    ``checkpoint_interval``, ``eval_every``), or pass one ``TrainRequest``; ``progress`` shows a progress bar.
    Raises ``ValueError``/``FileNotFoundError`` for bad arguments before anything is written,
    :class:`TrainingInterrupted` after a signal, :class:`WorkerError` when a worker dies.
    """
    plan = prepare(request, **fields)
    for note in plan.notes:
        print(f"nalu-rl: {note}", file=sys.stderr)
    run(plan, progress=progress)
    return plan.run_dir


def run(plan: Plan, progress: bool = True) -> None:
    """Train as planned, writing config.json, TensorBoard events and checkpoints into the run folder."""
    plan.run_dir.mkdir(parents=True, exist_ok=True)
    runs.remove_stale_temps(plan.run_dir)  # of a run killed mid-write
    runs.write_config(plan.run_dir, plan.config)
    start = plan.checkpoint["frames"] if plan.checkpoint else 0
    if start >= plan.config["frames"]:
        return
    monitor = Monitor(plan.run_dir, plan.config, start, progress)
    threads = torch.get_num_threads()
    try:
        with StopSignals() as stop:
            if plan.config["mode"] == "sync":
                train_sync(plan, monitor, stop)
            else:
                train_async(plan, monitor, stop)
    finally:
        torch.set_num_threads(threads)
        monitor.close()
