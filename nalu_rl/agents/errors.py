"""How a training run ends early: stopped by a signal, or a worker died."""

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
