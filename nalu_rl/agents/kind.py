"""Our agents as a run kind (runs/kinds.py): trained from their presets, resumed from ``checkpoints/latest.pt``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nalu_rl import runs
from nalu_rl.runs.config import DEFAULT_MODE, DEFAULT_WORKERS
from nalu_rl.runs.kinds import Display, RunKind, TrainJob

RUN_OPTIONS = ("mode", "workers", "envs_per_worker", "eval_every")  # the train options that are run settings, not hyper-parameters


def run_settings(agent: str, env: str, options: dict[str, Any]) -> dict[str, Any]:
    """The preset's ``[run]`` table on ``env`` with a sweep's train options applied; PresetError for a bad agent or value."""
    from nalu_rl.agents.config import RUN_KEYS, load_preset

    overrides = {**(options.get("overrides") or {}), **{k: options[k] for k in RUN_KEYS if options.get(k) is not None}}
    return load_preset(agent, overrides, env)[2]


def cores_of(settings: dict[str, Any]) -> int:
    """The cores a run with these ``[run]`` settings takes: one per async worker, one in sync mode."""
    mode, workers = settings.get("mode", DEFAULT_MODE), settings.get("workers", DEFAULT_WORKERS)
    return workers if mode == "async" and isinstance(workers, int) and workers > 0 else 1


@dataclass(frozen=True)
class PresetAgent(RunKind):
    """The agents of :mod:`nalu_rl.agents`, from their presets."""

    def plan_cpus(self, agent: str, env: str, options: dict[str, Any]) -> int:
        return cores_of(run_settings(agent, env, options))

    def trained_frames(self, run_dir: Path) -> tuple[int | None, int]:
        from nalu_rl.agents.checkpoint import load_checkpoint

        configured = runs.read_config(run_dir).frames
        path = runs.latest_checkpoint(run_dir)
        if not path.is_file():
            return None, configured
        return int(load_checkpoint(path)["frames"]), configured

    def has_checkpoint(self, run_dir: Path) -> bool:
        return runs.latest_checkpoint(run_dir).is_file()

    def train(self, job: TrainJob, resume: bool) -> None:
        from nalu_rl.agents.trainer import train

        run_opts = {k: job.options[k] for k in RUN_OPTIONS if job.options.get(k) is not None}
        if resume:
            train(run_dir=Path(job.run_dir), frames=job.frames, device=job.device, resume=True, progress=False, **run_opts)
        else:
            train(agent=job.agent, env=job.env, frames=job.frames, seed=job.seed, run_dir=Path(job.run_dir),
                  device=job.device, progress=False, overrides=job.options.get("overrides") or None, **run_opts)  # fmt: skip

    def load(self, run_dir: Path, device: Any, checkpoint: str) -> Any:
        from nalu_rl.agents.loading import load_preset_agent

        return load_preset_agent(run_dir, device, checkpoint)

    def prepare(self, agent: str) -> None:
        from nalu_rl.agents.config import prepare_preset

        prepare_preset(agent)

    def display(self, agent: str) -> Display:
        from nalu_rl.agents.config import preset_display

        return preset_display(agent)
