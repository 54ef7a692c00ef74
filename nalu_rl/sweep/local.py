"""The local backend: a pool of spawned processes, each running one run at a time.

The pool holds as many processes as the machine's cores hold runs (a run needs ``workers`` cores
in async mode, one otherwise) unless ``jobs`` says otherwise, and each process gets
``cores // (jobs × cores per run)`` torch threads, so the pool does not oversubscribe the CPU.
A process that dies (killed, out of memory) fails its run only and is replaced.
"""

from __future__ import annotations

import os
import queue
import signal
import time
from dataclasses import replace
from typing import Any

from nalu_rl.common.cpus import available_cores
from nalu_rl.common.signals import StopSignals
from nalu_rl.sweep.backend import STOP_GRACE_S, Finished, SweepInterrupted
from nalu_rl.sweep.spec import RunSpec
from nalu_rl.sweep.summary import new_record
from nalu_rl.sweep.worker import run_one

THREAD_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
ORPHAN_POLL_S = 0.5  # how often a pool process checks that the sweep that started it is alive


class LocalPool:
    """Runs specs in ``jobs`` spawned processes (default: as many as the cores hold)."""

    name = "local"
    address = None

    def __init__(self, jobs: int | None = None) -> None:
        self.jobs = jobs

    def run(self, specs: list[RunSpec], finished: Finished) -> None:
        cores = available_cores()
        per_run = max(s.cpus for s in specs)
        jobs = min(self.jobs or max(1, cores // per_run), len(specs))
        threads = max(1, cores // (jobs * per_run))
        pool = _Pool(jobs, threads, finished)
        try:
            # SIGTERM as well as SIGINT unwinds this wait; the runs themselves get a SIGINT in stop()
            with StopSignals(interrupt=True):
                pool.run([replace(s, threads=threads) for s in specs])
        except KeyboardInterrupt:
            pool.stop()
            raise SweepInterrupted from None
        finally:
            pool.close()


def _pool_worker(inbox, results, threads: int, parent: int) -> None:
    """A pool process: runs the specs it is handed, one at a time, until it gets None or its parent dies."""
    import torch

    orphaned = _end_with(parent)
    torch.set_num_threads(threads)
    try:
        while not orphaned.is_set():
            spec = inbox.get()
            if spec is None:
                return
            record = run_one(spec)
            if not orphaned.is_set():
                results.put(record)
    except KeyboardInterrupt:  # Ctrl-C while idle: the parent stops the pool
        return


def _end_with(parent: int):
    """A watchdog thread: when the sweep's process is gone (kill -9 leaves no one to send None), stop the run as
    SIGTERM does (it checkpoints), and exit after a grace period whatever it is doing. Returns the event it sets."""
    import threading

    orphaned = threading.Event()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(ORPHAN_POLL_S)
        orphaned.set()
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(STOP_GRACE_S)
        os._exit(1)

    threading.Thread(target=watch, name="nalu-rl-orphan-watch", daemon=True).start()
    return orphaned


class _thread_env:
    """Sets the thread-count variables a spawned child inherits (those the user did not set), then restores them."""

    def __init__(self, threads: int) -> None:
        self._set = {k: str(threads) for k in THREAD_ENV if k not in os.environ}

    def __enter__(self) -> None:
        os.environ.update(self._set)

    def __exit__(self, *exc: object) -> None:
        for key in self._set:
            os.environ.pop(key, None)


class _PoolProcess:
    """One process of the pool and the run it is on (None when idle)."""

    def __init__(self, ctx, results, threads: int, index: int) -> None:
        self.inbox = ctx.SimpleQueue()
        self.proc = ctx.Process(target=_pool_worker, args=(self.inbox, results, threads, os.getpid()), name=f"nalu-rl-sweep-{index}")
        with _thread_env(threads):  # read by OpenMP / BLAS when the child imports torch and numpy
            self.proc.start()
        self.spec: RunSpec | None = None

    def give(self, spec: RunSpec) -> None:
        self.spec = spec
        self.inbox.put(spec)


class _Pool:
    """The processes, the queue their records come back on, and who is on which run."""

    def __init__(self, size: int, threads: int, finished: Finished) -> None:
        import multiprocessing as mp

        self._ctx = mp.get_context("spawn")
        self._results = self._ctx.Queue()
        self._threads = threads
        self._finished = finished
        self._spawned = 0
        self.members = [self._spawn() for _ in range(size)]

    def _spawn(self) -> _PoolProcess:
        member = _PoolProcess(self._ctx, self._results, self._threads, self._spawned)
        self._spawned += 1
        return member

    def run(self, pending: list[RunSpec]) -> None:
        while pending or any(m.spec is not None for m in self.members):
            for member in self.members:
                if member.spec is None and pending and member.proc.is_alive():
                    member.give(pending.pop(0))
            self._collect(0.5)
            self._bury(respawn=bool(pending))

    def _finish(self, record: dict[str, Any]) -> None:
        for member in self.members:
            if member.spec is not None and member.spec.name == record["name"]:
                member.spec = None
        self._finished(record)

    def _collect(self, timeout: float) -> bool:
        try:
            self._finish(self._results.get(timeout=timeout))
            return True
        except queue.Empty:
            return False

    def _bury(self, respawn: bool) -> None:
        """Fail the run of each process that died (once its record, if any, is read) and replace the process."""
        for i, member in enumerate(self.members):
            if member.proc.is_alive():
                continue
            member.proc.join()
            while member.spec is not None and self._collect(5.0):  # its record may still be in the pipe
                pass
            if member.spec is not None:
                self._finish(new_record(member.spec, status="failed", error=_death(member.proc.exitcode)))
            if respawn:
                self.members[i] = self._spawn()

    def stop(self) -> None:
        """SIGINT to the busy processes (the trainers checkpoint and stop), then wait for their records."""
        for member in self.members:
            if member.spec is not None and member.proc.is_alive() and member.proc.pid:
                try:
                    os.kill(member.proc.pid, signal.SIGINT)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + STOP_GRACE_S
        while any(m.spec is not None and m.proc.is_alive() for m in self.members) and time.monotonic() < deadline:
            try:
                self._collect(0.5)
            except KeyboardInterrupt:  # a second Ctrl-C: stop waiting
                break
        for member in self.members:
            if member.proc.is_alive():
                member.proc.terminate()

    def close(self) -> None:
        """Idle processes exit at their None, the others within 10 s, or are killed."""
        for member in self.members:
            if member.proc.is_alive():
                member.inbox.put(None)
        for member in self.members:
            member.proc.join(10)
            if member.proc.is_alive():
                member.proc.kill()
                member.proc.join()


def _death(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        hint = " (out of memory?)" if name == "SIGKILL" else ""
        return f"the run's process was killed by {name}{hint}"
    return f"the run's process exited with status {exitcode} without a result"
