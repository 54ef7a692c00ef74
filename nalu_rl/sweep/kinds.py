"""What differs between our agents and the Stable-Baselines3 peer in a sweep, in one place.

A run's :class:`RunKind` says how many cores it takes, how far its training got, whether it has
a checkpoint to resume from, and how it trains. Everything else (status, evaluation, records)
is the same for both.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nalu_rl.sweep.spec import RunSpec

RUN_OPTIONS = ("mode", "workers", "envs_per_worker", "eval_every")  # the train_options that are run settings, not hyper-parameters


class RunKind(ABC):
    """How one kind of agent plans, trains and checkpoints."""

    @abstractmethod
    def plan_cpus(self, agent: str, env: str, options: dict[str, Any]) -> int:
        """The cores one run takes; validates the agent (PresetError) before anything runs."""

    @abstractmethod
    def trained_frames(self, run_dir: Path) -> tuple[int | None, int]:
        """(frames trained so far or None without a checkpoint, frames the run is configured for)."""

    @abstractmethod
    def has_checkpoint(self, run_dir: Path) -> bool:
        """Whether a stopped run left something to resume from."""

    @abstractmethod
    def train(self, spec: RunSpec, resume: bool) -> None:
        """Train ``spec`` into its run folder: from scratch, or on from its checkpoint with ``resume``."""


@dataclass(frozen=True)
class OurAgent(RunKind):
    """The agents of :mod:`nalu_rl.agents`, from their presets."""

    def plan_cpus(self, agent: str, env: str, options: dict[str, Any]) -> int:
        from nalu_rl.agents.config import RUN_KEYS, load_preset

        overrides = {**(options.get("overrides") or {}), **{k: options[k] for k in RUN_KEYS if options.get(k) is not None}}
        _, _, defaults = load_preset(agent, overrides, env)  # PresetError for an unknown agent or a bad value
        mode = defaults.get("mode", "async")
        workers = defaults.get("workers", 1)
        return workers if mode == "async" and isinstance(workers, int) and workers > 0 else 1

    def trained_frames(self, run_dir: Path) -> tuple[int | None, int]:
        from nalu_rl.agents import runs
        from nalu_rl.agents.checkpoint import load_checkpoint

        config = runs.read_config(run_dir)
        path = runs.latest_checkpoint(run_dir)
        if not path.is_file():
            return None, int(config["frames"])
        return int(load_checkpoint(path)["frames"]), int(config["frames"])

    def has_checkpoint(self, run_dir: Path) -> bool:
        from nalu_rl.agents import runs

        return runs.latest_checkpoint(run_dir).is_file()

    def train(self, spec: RunSpec, resume: bool) -> None:
        from nalu_rl.agents import train

        run_opts = {k: spec.options[k] for k in RUN_OPTIONS if spec.options.get(k) is not None}
        if resume:
            train(run_dir=Path(spec.run_dir), frames=spec.frames, device=spec.device, resume=True, progress=False, **run_opts)
        else:
            train(agent=spec.agent, env=spec.env, frames=spec.frames, seed=spec.seed, run_dir=Path(spec.run_dir),
                  device=spec.device, progress=False, overrides=spec.options.get("overrides") or None, **run_opts)  # fmt: skip


@dataclass(frozen=True)
class RecurrentPPOPeer(RunKind):
    """sb3-contrib's RecurrentPPO (:mod:`nalu_rl.baselines`), one core, with its own hyper-parameters."""

    def plan_cpus(self, agent: str, env: str, options: dict[str, Any]) -> int:
        return 1

    def trained_frames(self, run_dir: Path) -> tuple[int | None, int]:
        from nalu_rl.baselines.recurrent_ppo import TRAINING_FILE, checkpoint_path, is_finished

        config = json.loads((run_dir / "config.json").read_text())
        if is_finished(run_dir):
            return int(json.loads((run_dir / TRAINING_FILE).read_text())["frames_done"]), int(config["frames"])
        return (0 if checkpoint_path(run_dir).is_file() else None), int(config["frames"])

    def has_checkpoint(self, run_dir: Path) -> bool:
        from nalu_rl.baselines.recurrent_ppo import checkpoint_path, model_path

        return checkpoint_path(run_dir).is_file() or model_path(run_dir).is_file()

    def train(self, spec: RunSpec, resume: bool) -> None:
        from nalu_rl.baselines import train_recurrent_ppo

        if resume:
            train_recurrent_ppo(run_dir=Path(spec.run_dir), frames=spec.frames, device=spec.device, resume=True,
                                progress=False, threads=spec.threads)  # fmt: skip
        else:
            # the --set overrides name our agents' hyper-parameters: the peer keeps its own defaults
            train_recurrent_ppo(env=spec.env, frames=spec.frames, seed=spec.seed, run_dir=Path(spec.run_dir),
                                device=spec.device, progress=False, threads=spec.threads)  # fmt: skip


def baseline_names() -> tuple[str, ...]:
    """The agent names a sweep trains as the peer rather than from our presets."""
    from nalu_rl.baselines import AGENT_NAME

    return (AGENT_NAME,)


def kind_of(agent: str) -> RunKind:
    return RecurrentPPOPeer() if agent in baseline_names() else OurAgent()
