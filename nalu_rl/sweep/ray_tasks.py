"""The Ray backend: each run is one task on an existing cluster.

``ray.init(address=...)`` joins the cluster, and each task asks for the CPUs its run needs and,
on a CUDA device, ``gpus_per_run`` GPUs (default 1); ``device="auto"`` means CUDA when the
cluster has GPUs. The sweep folder must be on a file system the cluster's nodes share (any
single-machine cluster qualifies).
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import replace
from typing import Any

from nalu_rl.common.signals import StopSignals
from nalu_rl.sweep.backend import STOP_GRACE_S, Finished, SweepInterrupted
from nalu_rl.sweep.spec import RunSpec
from nalu_rl.sweep.summary import error_text, new_record
from nalu_rl.sweep.worker import run_one

RAY_HINT = "pip install -e '.[ray]'"


CONNECT_TIMEOUT_S = 60.0  # joining a cluster takes seconds; an address where none listens would hang for minutes


class RayTasks:
    """Runs specs as Ray tasks, at most ``jobs`` at once (default: as many as the cluster schedules).

    Ray is imported here, so that a missing extra is an ImportError before any work.
    """

    name = "ray"

    def __init__(self, address: str, jobs: int | None = None, timeout: float = CONNECT_TIMEOUT_S) -> None:
        # Ray's core logs each failed connection attempt on stderr unless told before it loads.
        os.environ.setdefault("RAY_BACKEND_LOG_LEVEL", "error")
        try:
            import ray
        except ImportError:
            raise ImportError(f"--ray-address needs Ray, an optional extra: {RAY_HINT}") from None
        self._ray = ray
        self.address = address
        self.jobs = jobs
        self.timeout = timeout

    def run(self, specs: list[RunSpec], finished: Finished) -> None:
        ray = self._ray
        owns = not ray.is_initialized()
        if owns:
            self._connect()
        try:
            self._run(specs, finished)
        finally:
            if owns:
                ray.shutdown()

    def _connect(self) -> None:
        """``ray.init`` within ``timeout`` seconds: Ray itself retries an address that answers nothing for minutes."""
        import logging
        import threading

        # Ray's driver would log that a thread cannot set a SIGTERM handler (ours stays in place): the caller says
        # what went wrong, in one line.
        logging.getLogger("ray._private.worker").setLevel(logging.ERROR)
        outcome: dict[str, BaseException | None] = {}

        def join() -> None:
            try:
                self._ray.init(address=self.address, log_to_driver=False, configure_logging=False)
                outcome["error"] = None
            except BaseException as err:  # noqa: BLE001 — handed to the caller's thread
                outcome["error"] = err

        self._probe()
        thread = threading.Thread(target=join, name="nalu-rl-ray-connect", daemon=True)
        thread.start()
        thread.join(self.timeout)
        if "error" not in outcome:
            raise ConnectionError(f"cannot join the Ray cluster at {self.address!r}: no answer within {self.timeout:g} s")
        err = outcome["error"]
        if err is not None:
            raise ConnectionError(f"cannot join the Ray cluster at {self.address!r}: {error_text(err)}") from None

    def _probe(self) -> None:
        """A plain TCP connection to HOST:PORT first: where nothing listens, say so at once (Ray would retry for minutes)."""
        import socket

        host, sep, port = self.address.rpartition("://")[2].rpartition(":")
        if not sep or not port.isdigit():
            return  # "auto" or a form Ray resolves itself
        try:
            socket.create_connection((host, int(port)), timeout=min(self.timeout, 10.0)).close()
        except OSError as err:
            raise ConnectionError(f"cannot join the Ray cluster at {self.address!r}: {err.strerror or err}") from None

    def _run(self, specs: list[RunSpec], finished: Finished) -> None:
        ray = self._ray
        remote = ray.remote(max_retries=0)(run_one)
        cluster_gpus = float(ray.cluster_resources().get("GPU", 0.0))
        futures: dict[Any, RunSpec] = {}
        pending = list(specs)
        limit = self.jobs or len(specs)
        try:
            with StopSignals(interrupt=True):
                while pending or futures:
                    while pending and len(futures) < limit:
                        spec, cpus, gpus = placement(pending.pop(0), cluster_gpus)
                        task = remote.options(num_cpus=cpus, num_gpus=gpus, name=f"nalu-rl-sweep:{spec.name}")
                        futures[task.remote(spec)] = spec
                    ready, _ = ray.wait(list(futures), num_returns=1, timeout=1.0)
                    for ref in ready:
                        spec = futures.pop(ref)
                        try:
                            record = ray.get(ref)
                        except Exception as err:  # noqa: BLE001 — a crashed worker, a lost node
                            record = new_record(spec, status="failed", error=error_text(err))
                        finished(record)
        except KeyboardInterrupt:
            self._stop(futures, finished)
            raise SweepInterrupted from None

    def _stop(self, futures: dict[Any, RunSpec], finished: Finished) -> None:
        """Cancel the tasks in flight and collect the records of those that stop within the grace time."""
        ray = self._ray
        for ref in futures:
            ray.cancel(ref)  # interrupts the task (KeyboardInterrupt); the run resumes from its latest checkpoint
        deadline = time.monotonic() + STOP_GRACE_S
        while futures and time.monotonic() < deadline:
            ready, _ = ray.wait(list(futures), num_returns=len(futures), timeout=1.0)
            for ref in ready:
                futures.pop(ref)
                try:
                    record = ray.get(ref)
                except Exception:  # noqa: BLE001 — cancelled
                    continue
                finished(record)


def placement(spec: RunSpec, cluster_gpus: float) -> tuple[RunSpec, float, float]:
    """The spec as its task runs it, and the task's (num_cpus, num_gpus); ``auto`` is ``cuda`` when the cluster has GPUs."""
    device = spec.device
    if device == "auto":
        device = "cuda" if cluster_gpus > 0 else "cpu"
    gpus = float(spec.gpus or 1.0) if device.startswith("cuda") else 0.0
    return replace(spec, device=device, threads=max(1, math.floor(spec.cpus))), float(spec.cpus), gpus
