"""The SB3 callback of a baseline run: periodic checkpoints, a progress bar and the stop request."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nalu_rl.baselines.run_folder import save_model
from nalu_rl.common.signals import StopSignals


def make_callback(path: Path, every: int, total: int, start: int, progress: bool, stop: StopSignals) -> Any:
    """A ``BaseCallback``: ``model.save`` to ``path`` every ``every`` frames, a bar, and ``learn`` ends once ``stop`` is set.

    ``start`` is the frame count the model resumes from, ``total`` the run's frames (the bar's length).
    """
    from stable_baselines3.common.callbacks import BaseCallback

    class Callback(BaseCallback):
        def __init__(self) -> None:
            super().__init__()
            self._next = start + every
            self._last = start
            self._bar = None
            if progress:
                from tqdm.auto import tqdm

                self._bar = tqdm(total=total, initial=start, desc="recurrent-ppo", unit="frame", unit_scale=True)

        def _on_step(self) -> bool:
            now = self.model.num_timesteps
            if self._bar is not None:
                self._bar.update(now - self._last)
            self._last = now
            if now >= self._next:
                save_model(self.model, path)
                self._next = now + every
            return not stop.stopped

        def close(self) -> None:
            if self._bar is not None:
                self._bar.close()
                self._bar = None

    return Callback()
