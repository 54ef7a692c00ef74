"""TensorBoard scalars and the progress bar (step = environment frames)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from nalu_rl.agents.config import AgentConfig
from nalu_rl.runs import TENSORBOARD_DIR, RunConfig


class Monitor:
    """Sums the statistics of rollouts and writes them out about once per ``interval`` seconds."""

    def __init__(
        self, run_dir: Path, config: RunConfig, agent_config: AgentConfig, start_frames: int, progress: bool, interval: float = 1.0
    ):
        from torch.utils.tensorboard import SummaryWriter

        from nalu_rl.common.progress import progress_bar

        # purge_step hides events a resumed run logged after its checkpoint, so curves do not fold back.
        self.writer = SummaryWriter(str(Path(run_dir) / TENSORBOARD_DIR), purge_step=start_frames or None)
        if start_frames == 0:
            self._write_hparams(config, agent_config)
        # One rate on the bar, the steady one of time/fps (in the postfix), not tqdm's own, which counts start-up.
        self.bar = progress_bar(
            total=config.whole_frames if config.mode == "sync" else config.frames, initial=start_frames, unit="frame",
            unit_scale=True, enabled=progress, dynamic_ncols=True, smoothing=0.1,
            bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}{postfix}]",
        )  # fmt: skip
        self.interval = interval
        self.counting = agent_config.count_coef > 0
        self.pending: dict[str, Any] | None = None
        self.last_time = time.monotonic()
        self.clock: tuple[int, float] | None = None  # (frames, time) fps is measured from; set by first_update

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

    def first_update(self, frames: int) -> None:
        """Start the fps clock once the first update is done, so start-up (the network, the envs, the first
        checkpoint and the first, slow rollout) is left out of ``time/fps``."""
        if self.clock is None:
            self.clock = (frames, time.monotonic())

    def log(self, frames: int, lr: float) -> None:
        """Write the accumulated statistics at step ``frames`` and move the progress bar.

        The tags are Stable-Baselines3's (``rollout/``, ``train/``, ``time/``), so that these curves
        and the RecurrentPPO peer's share one TensorBoard; ``success_by_T/`` is ours, and the peer's too.
        """
        now = time.monotonic()
        self.last_time = now
        w, s = self.writer, self.pending or {}
        self.pending = None
        postfix = {}
        if self.clock is not None and frames > self.clock[0]:
            fps = (frames - self.clock[0]) / max(now - self.clock[1], 1e-9)
            w.add_scalar("time/fps", fps, frames)
            postfix["fps"] = f"{fps / 1e3:.1f}k"
            self.clock = (frames, now)
        w.add_scalar("train/learning_rate", lr, frames)
        if s.get("episodes", 0) > 0:
            episodes = s["episodes"]
            success = s["successes"] / episodes
            w.add_scalar("rollout/ep_rew_mean", s["return"] / episodes, frames)
            w.add_scalar("rollout/success_rate", success, frames)
            w.add_scalar("rollout/ep_len_mean", s["length"] / episodes, frames)
            for t, (n, won) in enumerate(zip(s["episodes_per_t"], s["successes_per_t"])):
                if n > 0:
                    w.add_scalar(success_tag(t), won / n, frames)
            postfix["success"] = f"{success:.3f}"
        if s.get("updates", 0) > 0:
            updates = s["updates"]
            w.add_scalar("train/policy_gradient_loss", s["policy_loss"] / updates, frames)
            w.add_scalar("train/value_loss", s["value_loss"] / updates, frames)
            w.add_scalar("train/entropy_loss", -s["entropy"] / updates, frames)  # SB3's sign: minus the entropy
            w.add_scalar("train/explained_variance", s["explained_variance"] / updates, frames)
            if self.counting:
                w.add_scalar("train/count_loss", s["count_loss"] / updates, frames)
            w.add_scalar("train/grad_norm", s["grad_norm"] / updates, frames)
        self.bar.update(frames - self.bar.n)
        self.bar.set_postfix(postfix, refresh=True)

    def close(self) -> None:
        self.bar.close()
        self.writer.close()

    def _write_hparams(self, config: RunConfig, agent_config: AgentConfig) -> None:
        """The run's settings for the HParams dashboard, next to the scalars it compares."""
        from torch.utils.tensorboard.summary import hparams

        names = ("agent", "core", "env_preset", "seed", "frames", "mode", "workers", "envs_per_worker", "device")
        flat: dict[str, Any] = {k: getattr(config, k) for k in names}
        flat.update({f"env/{k}": (str(v) if isinstance(v, list) or v is None else v) for k, v in config.env.to_dict().items()})
        flat.update(agent_config.to_dict())
        metrics = {"rollout/success_rate": 0.0, "rollout/ep_rew_mean": 0.0, "time/fps": 0.0}
        for summary in hparams(flat, metrics):
            self.writer.file_writer.add_summary(summary)


def success_tag(t: int) -> str:
    """The TensorBoard tag of the success rate of instruction ``t`` (``success_by_T/T05``), the peer's too."""
    return f"success_by_T/T{t:02d}"
