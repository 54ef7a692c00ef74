"""The interface a sweep's backends share: the local process pool and Ray tasks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from nalu_rl.sweep.spec import RunSpec

STOP_GRACE_S = 120.0  # how long interrupted runs get to write their checkpoint
Finished = Callable[[dict[str, Any]], None]


class SweepInterrupted(KeyboardInterrupt):
    """The sweep was stopped (SIGINT/SIGTERM); runs in progress saved a checkpoint to resume from."""


class Backend(Protocol):
    """Runs specs with :func:`nalu_rl.sweep.worker.run_one` somewhere, and hands over each run's record."""

    name: str  # "local" or "ray", as ``sweep.json`` says
    address: str | None  # the Ray cluster's, None locally

    def run(self, specs: list[RunSpec], finished: Finished) -> None:
        """Run every spec, calling ``finished(record)`` once for each run as it ends.

        At SIGINT/SIGTERM: stop the runs in flight (they checkpoint), hand over the records they
        still return within :data:`STOP_GRACE_S`, then raise :class:`SweepInterrupted`.
        """
        ...
