"""TensorBoard scalars and the progress bar (step = environment frames)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from nalu_rl.agents.runs import TENSORBOARD_DIR


class Monitor:
    """Sums the statistics of rollouts and writes them out about once per ``interval`` seconds."""

    def __init__(self, run_dir: Path, config: dict[str, Any], start_frames: int, progress: bool, interval: float = 1.0):
        from torch.utils.tensorboard import SummaryWriter
        from tqdm.auto import tqdm

        # purge_step hides events a resumed run logged after its checkpoint, so curves do not fold back.
        self.writer = SummaryWriter(str(Path(run_dir) / TENSORBOARD_DIR), purge_step=start_frames or None)
        if start_frames == 0:
            self._write_hparams(config)
        self.t_lo, self.t_hi = config["env"]["t_range"]
        self.bar = tqdm(
            total=config["frames"], initial=start_frames, unit="frame", unit_scale=True,
            disable=not progress, dynamic_ncols=True, smoothing=0.1,
        )  # fmt: skip
        self.interval = interval
        self.counting = config["agent_config"].get("count_coef", 0) > 0
        self.pending: dict[str, Any] | None = None
        self.last_frames, self.last_time = start_frames, time.monotonic()

    def due(self) -> bool:
        return time.monotonic() - self.last_time >= self.interval

    def add(self, stats: dict[str, Any]) -> None:
        """Accumulate the sums of :meth:`nalu_rl.agents.rollouts.RolloutStats.pop`."""
        if self.pending is None:
            self.pending = stats
            return
        for key, value in stats.items():
            if isinstance(value, list):
                self.pending[key] = [a + b for a, b in zip(self.pending[key], value)]
            else:
                self.pending[key] += value

    def log(self, frames: int, lr: float) -> None:
        """Write the accumulated statistics at step ``frames`` and move the progress bar."""
        now = time.monotonic()
        sps = (frames - self.last_frames) / max(now - self.last_time, 1e-9)
        self.last_frames, self.last_time = frames, now
        w, s = self.writer, self.pending or {}
        self.pending = None
        w.add_scalar("perf/env_steps_per_s", sps, frames)
        w.add_scalar("train/lr", lr, frames)
        postfix = {"sps": f"{sps / 1e3:.1f}k"}
        if s.get("episodes", 0) > 0:
            episodes = s["episodes"]
            success = s["successes"] / episodes
            w.add_scalar("episode/return", s["return"] / episodes, frames)
            w.add_scalar("episode/success_rate", success, frames)
            w.add_scalar("episode/length", s["length"] / episodes, frames)
            for t in range(self.t_lo, self.t_hi + 1):
                if s["episodes_per_t"][t] > 0:
                    w.add_scalar(f"success_by_T/T{t:02d}", s["successes_per_t"][t] / s["episodes_per_t"][t], frames)
            postfix["success"] = f"{success:.3f}"
        if s.get("updates", 0) > 0:
            updates = s["updates"]
            w.add_scalar("loss/policy", s["policy_loss"] / updates, frames)
            w.add_scalar("loss/value", s["value_loss"] / updates, frames)
            w.add_scalar("loss/entropy", s["entropy"] / updates, frames)
            if self.counting:
                w.add_scalar("loss/count", s["count_loss"] / updates, frames)
            w.add_scalar("train/grad_norm", s["grad_norm"] / updates, frames)
        self.bar.update(frames - self.bar.n)
        self.bar.set_postfix(postfix, refresh=True)

    def close(self) -> None:
        self.bar.close()
        self.writer.close()

    def _write_hparams(self, config: dict[str, Any]) -> None:
        """The run's settings for the HParams dashboard, next to the scalars it compares."""
        from torch.utils.tensorboard.summary import hparams

        flat: dict[str, Any] = {k: config[k] for k in ("agent", "core", "env_preset", "seed", "frames", "mode", "workers", "envs_per_worker", "device")}
        flat.update({f"env/{k}": (str(v) if isinstance(v, list) or v is None else v) for k, v in config["env"].items()})
        flat.update(config["agent_config"])
        metrics = {"episode/success_rate": 0.0, "episode/return": 0.0, "perf/env_steps_per_s": 0.0}
        for summary in hparams(flat, metrics):
            self.writer.file_writer.add_summary(summary)
