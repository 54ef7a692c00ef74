"""Sweeps: train and evaluate every (agent, seed), in a local process pool or as Ray tasks.

:func:`run_sweep` is what ``nalu-rl sweep`` (and ``nalu-rl experiment``) runs. Every run lives in
``OUT/<agent>-s<seed>/`` — an ordinary run folder that ``eval``, ``play`` and ``report`` take —
and is

1. trained (our agents with :func:`nalu_rl.agents.train`, the peer ``recurrent_ppo`` with
   :func:`nalu_rl.baselines.train_recurrent_ppo`), or *resumed* from its latest checkpoint when an
   earlier sweep was interrupted, and then
2. evaluated with :func:`nalu_rl.analysis.evaluate.evaluate_run` (``extrapolation.json``).

A run whose training finished and whose ``extrapolation.json`` covers the requested T list and
episodes is *skipped*, so re-running a sweep only does what is missing. A run that fails (a
damaged folder, a diverged loss, a crashed process) becomes a ``failed`` record with its name and
error, its traceback goes to ``OUT/sweep.json``, and the other runs carry on.

The modules, in the order a sweep uses them: :mod:`~nalu_rl.sweep.plan` (one
:class:`~nalu_rl.sweep.spec.RunSpec` per run; its kind, from :mod:`nalu_rl.runs.kinds`, holds what
differs between our agents and the peer), :mod:`~nalu_rl.sweep.status` (what is left to do),
:mod:`~nalu_rl.sweep.local` and :mod:`~nalu_rl.sweep.ray_tasks` (the two backends, see
:mod:`~nalu_rl.sweep.backend`), :mod:`~nalu_rl.sweep.worker` (one run where a backend runs it),
:mod:`~nalu_rl.sweep.summary` (the records and ``sweep.json``), :mod:`~nalu_rl.sweep.driver`
(:func:`run_sweep`).
"""

from nalu_rl.sweep.backend import STOP_GRACE_S, Backend, SweepInterrupted
from nalu_rl.sweep.driver import run_sweep
from nalu_rl.sweep.local import LocalPool
from nalu_rl.sweep.plan import SweepOptions, plan_runs
from nalu_rl.sweep.ray_tasks import RAY_HINT, RayTasks
from nalu_rl.sweep.spec import RunSpec, run_name
from nalu_rl.sweep.status import status_of
from nalu_rl.sweep.summary import RECORD_KEYS, STATUSES, SUMMARY_FILE, format_record
from nalu_rl.sweep.worker import run_one

__all__ = [
    "Backend", "LocalPool", "RAY_HINT", "RECORD_KEYS", "RayTasks", "RunSpec",
    "STATUSES", "STOP_GRACE_S", "SUMMARY_FILE", "SweepInterrupted", "SweepOptions", "format_record",
    "plan_runs", "run_name", "run_one", "run_sweep", "status_of",
]  # fmt: skip
