"""What trains, resumes and loads a run folder: one answer, looked up by the agent's name.

A :class:`RunKind` is registered in the entry-point group ``nalu_rl.run_kinds`` under the
``config.json["agent"]`` its runs write; the kind named ``presets`` (our agents, built from the
presets of :mod:`nalu_rl.agents`) serves every other name. ``pyproject.toml``::

    [project.entry-points."nalu_rl.run_kinds"]
    presets = "nalu_rl.agents.kind:PresetAgent"
    recurrent_ppo = "nalu_rl.baselines.kind:RecurrentPPOPeer"

so this package, below the agents and the baselines, names neither.
"""

from __future__ import annotations

import functools
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from nalu_rl.runs.config_file import read_config

KINDS_GROUP = "nalu_rl.run_kinds"
DEFAULT_KIND = "presets"
MAX_LABEL = 200  # a legend entry, not a paragraph: labels also come from run folders made elsewhere


@dataclass(frozen=True)
class Display:
    """How reports name, colour and compare an agent: a preset's ``[display]`` table, or what a run recorded of it.

    ``color`` is a Matplotlib colour, None for one of the spares; ``baseline`` the agent this one is
    measured against (a report's probability of improvement), None for none.
    """

    label: str
    color: str | None = None
    baseline: str | None = None

    @classmethod
    def from_table(cls, name: str, table: Any) -> Display:
        """The display of agent ``name`` from a ``[display]`` table; ValueError for anything but text under known keys."""
        fields = ("label", "color", "baseline")
        if not isinstance(table, dict) or set(table) - set(fields) or not all(isinstance(v, str) for v in table.values()):
            raise ValueError(f"[display] takes {', '.join(fields)}, all text; got {table!r}")
        if len(table.get("label", "")) > MAX_LABEL:
            raise ValueError(f"[display] label must be at most {MAX_LABEL} characters, got {len(table['label'])}")
        return cls(label=table.get("label", name), color=table.get("color"), baseline=table.get("baseline"))

    def to_table(self) -> dict[str, str]:
        return {k: v for k, v in (("label", self.label), ("color", self.color), ("baseline", self.baseline)) if v is not None}


@dataclass(frozen=True)
class TrainJob:
    """One run to train into ``run_dir``: what a sweep hands to a kind."""

    run_dir: Path
    agent: str
    env: str
    seed: int
    frames: int | None  # None: the agent's own budget
    device: str = "cpu"
    threads: int = 1
    options: dict[str, Any] = field(default_factory=dict)  # a sweep's train options: run settings and overrides


class RunKind(ABC):
    """How one kind of agent plans, trains, checkpoints and loads."""

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
    def train(self, job: TrainJob, resume: bool) -> None:
        """Train ``job`` into its run folder: from scratch, or on from its checkpoint with ``resume``."""

    @abstractmethod
    def load(self, run_dir: Path, device: Any, checkpoint: str) -> Any:
        """The agent of the run folder, with ``predict``, ``initial_state`` and ``config`` (see agents/policy.py)."""

    def prepare(self, agent: str) -> None:
        """Make this process ready to resume and load runs of ``agent`` (a sweep worker calls it first); nothing to do
        unless the kind knows better."""
        return None

    def display(self, agent: str) -> Display:
        """How figures name and colour ``agent``: by its name, in a spare colour, unless the kind knows better."""
        return Display(label=agent)


@functools.cache
def kind_of(agent: str) -> RunKind:
    """The kind that trains and loads runs of ``agent`` (a preset name or path, or another trainer's name)."""
    found = entry_points(group=KINDS_GROUP, name=agent) or entry_points(group=KINDS_GROUP, name=DEFAULT_KIND)
    if not found:
        raise RuntimeError(f"no {KINDS_GROUP} entry points: nalu-rl's installation is incomplete (pip install -e .)")
    return next(iter(found)).load()()


@functools.cache
def display_of(agent: str) -> Display:
    """How figures name and colour ``agent``; its name and no colour when nothing (no preset) says otherwise."""
    try:
        return kind_of(agent).display(agent)
    except (OSError, ValueError):  # a run of a preset file that is gone or was edited since: drawn all the same
        return Display(label=agent)


def load_agent(run_dir: str | Path, device: Any = "cpu", checkpoint: str = "latest") -> Any:
    """The agent of a run folder, whichever trainer wrote it: ``checkpoint`` is ``latest`` or ``best`` (ours only).

    FileNotFoundError for a missing folder, config or checkpoint; ValueError for a damaged one or an unknown device.
    """
    run_dir = Path(run_dir)
    return kind_of(read_config(run_dir).agent).load(run_dir, device, checkpoint)
