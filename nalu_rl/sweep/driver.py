"""The sweep itself: plan, settle what is already done, run the rest on a backend, write the summary."""

from __future__ import annotations

import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from nalu_rl.common.checks import check_int
from nalu_rl.common.locks import FolderLock
from nalu_rl.sweep.backend import Backend, SweepInterrupted
from nalu_rl.sweep.local import LocalPool
from nalu_rl.sweep.plan import plan_runs
from nalu_rl.sweep.progress import Progress
from nalu_rl.sweep.spec import RunSpec
from nalu_rl.sweep.status import status_of
from nalu_rl.sweep.summary import error_text, fill_results, new_record, public, write_summary


def run_sweep(
    agents: list[str],
    seeds: list[int],
    *,
    env: str,
    frames: int | None,
    episodes: int,
    out: Path,
    t_values: str | Sequence[int] | None = None,
    t_min: int | None = None,
    t_max: int | None = None,
    device: str = "cpu",
    ray_address: str | None = None,
    jobs: int | None = None,
    progress: bool = True,
    train_options: dict[str, Any] | None = None,
    gpus_per_run: float | None = None,
    ray_timeout: float | None = None,
) -> list[dict[str, Any]]:
    """Train and evaluate every (agent, seed) into ``out/<agent>-s<seed>/``; one record per run.

    ``frames=None`` trains each agent for its preset's default. ``agents`` are agent presets
    (names or TOML paths) or ``recurrent_ppo`` (the Stable-Baselines3 peer). ``jobs`` caps the
    runs in flight (default: as many as the cores hold locally, as many as the cluster schedules
    on Ray). Each run is evaluated for the T list ``t_values`` (ints, or text such as
    ``"1-30,50,100"``) or the range ``t_min``..``t_max`` (default 1..30). ``train_options`` may set ``mode``, ``workers``, ``envs_per_worker`` and
    ``overrides`` (hyper-parameters of our agents; the ``recurrent_ppo`` peer keeps its defaults)
    for every run; ``gpus_per_run`` is what each Ray task asks for on a CUDA device; ``ray_timeout`` bounds the
    seconds spent joining the cluster (default 60). Records
    (:data:`RECORD_KEYS`) have status ``ok`` (trained and/or evaluated now), ``skipped`` (already
    done), ``failed`` (with ``error``) or ``interrupted``; they are also written, with the failures'
    tracebacks, to ``out/sweep.json``.

    Raises ValueError (or a preset error) for bad arguments before anything runs, ImportError
    when ``ray_address`` is given without Ray installed, ConnectionError when the cluster cannot
    be reached, :class:`SweepInterrupted` after SIGINT/SIGTERM once the runs in flight stopped,
    :class:`~nalu_rl.common.locks.FolderBusy` when another process holds ``out``.
    """
    if jobs is not None:
        check_int("jobs", jobs)
    backend = _backend(ray_address, jobs, ray_timeout)
    specs = plan_runs(agents, seeds, env=env, frames=frames, episodes=episodes, t_values=t_values, t_min=t_min,
                      t_max=t_max, out=out, device=device, train_options=train_options, gpus_per_run=gpus_per_run)  # fmt: skip
    out = Path(out).resolve()
    with FolderLock(out, what="sweep"):  # a second sweep into the same folder refuses, naming this one
        return _run(specs, backend, out, progress)


def _run(specs: list[RunSpec], backend: Backend, out: Path, progress: bool) -> list[dict[str, Any]]:
    records = _settle(specs)
    todo = [s for s in specs if s.name not in records]
    bar = Progress(len(specs), progress, settled=list(records.values()), pending={s.name: Path(s.run_dir) for s in todo})

    def finished(record: dict[str, Any]) -> None:
        records[record["name"]] = record
        bar.done(record)

    started = time.perf_counter()
    try:
        if todo:
            backend.run(todo, finished)
    except SweepInterrupted:
        raise SweepInterrupted(
            f"sweep stopped; runs in progress saved checkpoints — run the same command again to resume ({out})"
        ) from None
    finally:
        bar.close()
        ordered = [records.get(s.name) or new_record(s, status="interrupted", error="not run") for s in specs]
        write_summary(out, ordered, time.perf_counter() - started, backend.name, backend.address)
    return [public(r) for r in ordered]


def _backend(ray_address: str | None, jobs: int | None, ray_timeout: float | None) -> Backend:
    if ray_address is None:
        return LocalPool(jobs)
    from nalu_rl.sweep.ray_tasks import CONNECT_TIMEOUT_S, RayTasks

    if ray_timeout is not None and not (isinstance(ray_timeout, (int, float)) and 0 < ray_timeout <= 3600):
        raise ValueError(f"ray_timeout must be a number of seconds in (0, 3600], got {ray_timeout!r}")
    return RayTasks(ray_address, jobs, CONNECT_TIMEOUT_S if ray_timeout is None else float(ray_timeout))  # imports Ray: a missing extra is a usage error before any work


def _settle(specs: list[RunSpec]) -> dict[str, dict[str, Any]]:
    """The records of runs that need no process: finished ones (skipped) and unusable folders (failed)."""
    records = {}
    for spec in specs:
        try:
            state = status_of(spec)
        except Exception as err:  # noqa: BLE001 — a damaged run folder fails that run only
            records[spec.name] = new_record(spec, status="failed", error=error_text(err), traceback=traceback.format_exc())
            continue
        if state == "done":
            record = new_record(spec, status="skipped")
            fill_results(record)
            records[spec.name] = record
    return records
