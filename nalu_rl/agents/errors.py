"""How a training run ends early (stopped by a signal, a worker died) or cannot start (its folder holds a run)."""

from __future__ import annotations

import signal
from pathlib import Path


class TrainingInterrupted(KeyboardInterrupt):
    """Training stopped by SIGINT or SIGTERM after saving a checkpoint."""

    def __init__(self, signum: int, frames: int, checkpoint: Path) -> None:
        super().__init__(f"stopped by {signal.Signals(signum).name} at {frames} frames; checkpoint saved to {checkpoint}")
        self.signum, self.frames, self.checkpoint = signum, frames, checkpoint


class WorkerError(RuntimeError):
    """An asynchronous worker raised or was killed; the others were stopped."""


class RunExists(ValueError):
    """A new run's folder already holds a run; ``run_dir`` names it, so that each door words the way out its own way."""

    def __init__(self, message: str, run_dir: Path) -> None:
        super().__init__(message)
        self.run_dir = run_dir
