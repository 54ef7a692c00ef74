"""The Stable-Baselines3 peer as a run kind (runs/kinds.py): one core, its own hyper-parameters, ``model.zip``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nalu_rl import runs
from nalu_rl.common import files
from nalu_rl.runs.kinds import Display, RunKind, TrainJob


@dataclass(frozen=True)
class RecurrentPPOPeer(RunKind):
    """sb3-contrib's RecurrentPPO (:mod:`nalu_rl.baselines`), one core, with its own hyper-parameters."""

    def plan_cpus(self, agent: str, env: str, options: dict[str, Any]) -> int:
        return 1

    def trained_frames(self, run_dir: Path) -> tuple[int | None, int]:
        from nalu_rl.baselines.run_folder import TRAINING_FILE, checkpoint_path, is_finished

        configured = runs.read_config(run_dir).frames
        if is_finished(run_dir):
            return int(files.read_json(Path(run_dir) / TRAINING_FILE)["frames_done"]), configured
        return (0 if checkpoint_path(run_dir).is_file() else None), configured

    def has_checkpoint(self, run_dir: Path) -> bool:
        from nalu_rl.baselines.run_folder import checkpoint_path, model_path

        return checkpoint_path(run_dir).is_file() or model_path(run_dir).is_file()

    def train(self, job: TrainJob, resume: bool) -> None:
        from nalu_rl.baselines.training import train_recurrent_ppo

        if resume:
            train_recurrent_ppo(run_dir=Path(job.run_dir), frames=job.frames, device=job.device, resume=True,
                                progress=False, threads=job.threads)  # fmt: skip
        else:
            # the --set overrides name our agents' hyper-parameters: the peer keeps its own defaults
            train_recurrent_ppo(env=job.env, frames=job.frames, seed=job.seed, run_dir=Path(job.run_dir),
                                device=job.device, progress=False, threads=job.threads)  # fmt: skip

    def display(self, agent: str) -> Display:
        return Display(label="RecurrentPPO (SB3)", color="tab:gray")

    def load(self, run_dir: Path, device: Any, checkpoint: str) -> Any:
        from nalu_rl.baselines.agent import load_sb3_agent
        from nalu_rl.baselines.run_folder import AGENT_NAME

        if checkpoint != "latest":
            raise ValueError(f"{run_dir} was trained by {AGENT_NAME}, which keeps no {checkpoint} checkpoint")
        return load_sb3_agent(run_dir, device)
