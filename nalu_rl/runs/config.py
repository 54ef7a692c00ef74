"""A run's settings as types: :class:`RunConfig` (``config.json``), with its :class:`EvalSettings`.

The environment's settings are :class:`nalu_rl.envs.rules.Config`; the hyper-parameters stay the
table the run's kind reads (our agents: :meth:`nalu_rl.agents.config.AgentConfig.of_run`; the peer:
its own), so this package names no trainer. :meth:`RunConfig.from_json` and :meth:`RunConfig.to_json`
are the only places that know ``config.json``'s keys.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from nalu_rl.common.checks import MAX_FRAMES, check_int
from nalu_rl.envs.rules import Config as EnvConfig

MODES = ("async", "sync")
DEFAULT_MODE = "async"  # what a run trains in when neither its preset nor a flag says
DEFAULT_WORKERS = 1
EVAL_T = (*range(5, 21), 30, 100)  # the training range, T = 13..20 (the paper's), and two far T
EVAL_EPISODES = 100  # per T; every run plays the same 100 start states for each T
# What each field of config.json must hold; a file edited by hand or written by something else is refused by name.
FIELD_TYPES: dict[str, tuple[tuple[type, ...], str]] = {
    "agent": ((str,), "a preset name"), "core": ((str,), "a core name"), "agent_config": ((dict,), "a table"),
    "env_preset": ((str,), "a preset name"), "env": ((dict,), "a table of environment settings"),
    "seed": ((int,), "an integer"), "frames": ((int,), "an integer"), "mode": ((str,), "sync or async"),
    "workers": ((int,), "an integer"), "envs_per_worker": ((int,), "an integer"), "device": ((str,), "a device name"),
    "version": ((str,), "a version string"),
}  # fmt: skip
REQUIRED_KEYS = tuple(FIELD_TYPES)


class MissingFields(ValueError):
    """A ``config.json`` without some of :data:`REQUIRED_KEYS`."""


@dataclass(frozen=True)
class EvalSettings:
    """``config.json["eval"]``: every how many frames (0: never), how many episodes per T, which T."""

    every: int = 0
    episodes: int = EVAL_EPISODES
    t: tuple[int, ...] = EVAL_T

    @classmethod
    def from_json(cls, table: Any) -> EvalSettings:
        """The settings a run's config holds; runs made before in-training evaluation existed have none (never)."""
        table = table or {}
        if not isinstance(table, dict):
            raise ValueError(f"a table of every, episodes and t, got {table!r}")
        return cls(int(table.get("every", 0)), int(table.get("episodes", EVAL_EPISODES)), tuple(table.get("t", EVAL_T)))

    def to_json(self) -> dict[str, Any]:
        return {"every": self.every, "episodes": self.episodes, "t": list(self.t)}


@dataclass(frozen=True, kw_only=True)
class RunConfig:
    """Everything a run was started with, and where it has been resumed: the contents of ``config.json``."""

    agent: str  # the agent preset's name (or another trainer's, e.g. recurrent_ppo)
    core: str
    agent_config: Mapping[str, Any]  # the hyper-parameters, read by the run's kind
    env_preset: str
    env: EnvConfig
    seed: int = 0
    frames: int
    mode: str = DEFAULT_MODE
    workers: int = DEFAULT_WORKERS
    envs_per_worker: int
    device: str = "cpu"
    version: str
    eval: EvalSettings = EvalSettings()
    provenance: Mapping[str, Any] | None = None  # where and with what it started (common/provenance.py); None before 0.3
    resumes: tuple[Mapping[str, Any], ...] = ()  # one entry per resumed session
    # The agent preset's [display] table when the run started: a preset given by path is known to reports by nothing
    # else (runs/kinds.py: Display). Text only, never read as code. None: before 0.5, or a trainer that records none.
    display: Mapping[str, Any] | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)  # what other trainers add (the peer's algo), kept as written

    def __post_init__(self) -> None:
        for key in ("seed", "workers", "envs_per_worker"):
            check_int(key, getattr(self, key))
        if isinstance(self.frames, bool) or not isinstance(self.frames, int) or not 0 <= self.frames <= MAX_FRAMES:
            # 0: a run folder made to hold weights trained elsewhere
            raise ValueError(f"frames must be an integer in [0, {MAX_FRAMES:,}], got {self.frames!r}")

    @property
    def batch(self) -> int:
        """Environments in one training batch: all workers' in sync mode, one worker's in async mode."""
        return self.envs_per_worker * (self.workers if self.mode == "sync" else 1)

    @property
    def frames_per_batch(self) -> int:
        """Frames one update trains on: the batch's environments times the rollout's steps."""
        return self.batch * int(self.agent_config["n_steps"])

    @property
    def whole_frames(self) -> int:
        """The frames a sync run trains in all: ``frames`` rounded up to whole batches (the last batch is never cut)."""
        return -(-self.frames // self.frames_per_batch) * self.frames_per_batch

    def replace(self, **changes: Any) -> RunConfig:
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_json(cls, table: dict[str, Any]) -> RunConfig:
        """A ``config.json`` object; ValueError naming the first field that is missing or not what it must be."""
        missing = [k for k in REQUIRED_KEYS if k not in table]
        if missing:
            raise MissingFields(f"lacks {', '.join(missing)}")
        for key, (kinds, what) in FIELD_TYPES.items():
            value = table[key]
            if isinstance(value, bool) or not isinstance(value, kinds):  # True is an int to Python, not to a config
                raise ValueError(f"{key} must be {what}, got {value!r}")
        try:
            env = EnvConfig.from_dict(table["env"])
        except (TypeError, ValueError) as err:
            raise ValueError(f"env: {err}") from None
        try:
            settings = EvalSettings.from_json(table.get("eval"))
        except (TypeError, ValueError) as err:
            raise ValueError(f"eval: {err}") from None
        if not isinstance(table.get("provenance", {}), dict) or not isinstance(table.get("resumes", []), list):
            raise ValueError("provenance must be a table and resumes a list")
        if not isinstance(table.get("display", {}), dict):
            raise ValueError(f"display must be a table, got {table['display']!r}")
        known = {*REQUIRED_KEYS, "eval", "provenance", "resumes", "display"}
        return cls(
            **{k: table[k] for k in REQUIRED_KEYS if k != "env"},
            env=env,
            eval=settings,
            provenance=table.get("provenance"),
            resumes=tuple(table.get("resumes", ())),
            display=table.get("display"),
            extra={k: v for k, v in table.items() if k not in known},
        )

    def to_json(self) -> dict[str, Any]:
        table: dict[str, Any] = {
            "agent": self.agent, "core": self.core, "agent_config": dict(self.agent_config),
            "env_preset": self.env_preset, "env": self.env.to_dict(), "seed": self.seed, "frames": self.frames,
            "mode": self.mode, "workers": self.workers, "envs_per_worker": self.envs_per_worker, "device": self.device,
            "version": self.version, "eval": self.eval.to_json(), **self.extra,
        }  # fmt: skip
        if self.provenance is not None:
            table["provenance"] = dict(self.provenance)
        if self.resumes:
            table["resumes"] = [dict(r) for r in self.resumes]
        if self.display is not None:
            table["display"] = dict(self.display)
        return table
