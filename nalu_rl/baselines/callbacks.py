"""The SB3 callback of a baseline run: periodic checkpoints, a progress bar, the stop request and our extra curves."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nalu_rl.agents.monitor import success_tag
from nalu_rl.baselines.run_folder import save_model
from nalu_rl.common.signals import StopSignals


def make_callback(path: Path, every: int, total: int, start: int, progress: bool, stop: StopSignals) -> Any:
    """A ``BaseCallback``: ``model.save`` to ``path`` every ``every`` frames, a bar, and ``learn`` ends once ``stop`` is set.

    ``start`` is the frame count the model resumes from, ``total`` the run's frames (the bar's length).
    SB3 logs its own curves; the callback adds ``success_by_T/T05``... of each rollout, under the
    names our trainer uses (:func:`nalu_rl.agents.monitor.success_tag`).
    """
    from stable_baselines3.common.callbacks import BaseCallback

    class Callback(BaseCallback):
        def __init__(self) -> None:
            super().__init__()
            self._next = start + every
            self._last = start
            self._bar = None
            self._per_t: dict[int, list[int]] = {}  # T -> [episodes, successes] of this rollout
            if progress:
                from nalu_rl.common.progress import progress_bar

                self._bar = progress_bar(total=total, initial=start, desc="recurrent-ppo", unit="frame", unit_scale=True)

        def _on_step(self) -> bool:
            now = self.model.num_timesteps
            if self._bar is not None:
                self._bar.update(now - self._last)
            self._last = now
            for info in self.locals.get("infos", ()):
                if "instruction" in info:  # the episode ended
                    counts = self._per_t.setdefault(int(info["instruction"]), [0, 0])
                    counts[0] += 1
                    counts[1] += int(bool(info["success"]))
            if now >= self._next:
                save_model(self.model, path)
                self._next = now + every
            return not stop.stopped

        def _on_rollout_end(self) -> None:
            for t, (episodes, successes) in sorted(self._per_t.items()):
                self.logger.record(success_tag(t), successes / episodes)  # written with SB3's own curves
            self._per_t = {}

        def close(self) -> None:
            if self._bar is not None:
                self._bar.close()
                self._bar = None

    return Callback()
