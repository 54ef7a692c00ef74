"""One run of a sweep: which agent and seed, where its folder is, what it trains and evaluates."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nalu_rl.runs.kinds import RunKind, TrainJob


def agent_label(agent: str) -> str:
    """The agent as run folders name it: a preset path counts by its stem."""
    return Path(agent).stem if agent.endswith(".toml") else agent


def run_name(agent: str, seed: int) -> str:
    """The run folder's name inside the sweep folder: ``<agent>-s<seed>`` (a preset path counts by its stem)."""
    return f"{agent_label(agent)}-s{seed}"


@dataclass(frozen=True)
class RunSpec:
    """One validated (agent, seed) of a sweep; pickled to the pool process or Ray task that runs it."""

    name: str
    agent: str  # a preset name, an absolute preset path, or the peer's name
    kind: RunKind  # how this agent trains and checkpoints: ours or the peer
    seed: int
    env: str
    env_preset: str
    frames: int | None  # None: the preset's own budget
    episodes: int
    t_values: tuple[int, ...]  # the instructed T it is evaluated for, sorted
    run_dir: str
    device: str = "cpu"
    options: dict[str, Any] = field(default_factory=dict)  # the sweep's train_options
    cpus: int = 1
    gpus: float | None = None  # what a Ray task asks for on a CUDA device (None: 1)
    threads: int = 1  # torch threads, set by the backend

    @property
    def job(self) -> TrainJob:
        """What its kind trains."""
        return TrainJob(run_dir=Path(self.run_dir), agent=self.agent, env=self.env, seed=self.seed, frames=self.frames,
                        device=self.device, threads=self.threads, options=self.options)  # fmt: skip

    @property
    def t_min(self) -> int:
        return self.t_values[0]

    @property
    def t_max(self) -> int:
        return self.t_values[-1]

