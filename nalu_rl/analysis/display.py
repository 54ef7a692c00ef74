"""How a report names, colours, orders and compares its agents, from data alone: no list of agents lives here.

Each agent's :class:`~nalu_rl.runs.Display` is the ``[display]`` table its runs recorded when they trained (a
preset given by path is known by nothing else), else its preset's today (:func:`nalu_rl.runs.display_of`). A
group of a report is an agent, or an agent with `` [sampled]`` for runs evaluated with a sampled policy.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from nalu_rl import runs
from nalu_rl.runs import Display


def base_agent(group: str) -> str:
    """The agent of a report's group: ``"lstm [sampled]"`` → ``"lstm"``."""
    return group.split(" ")[0]


def run_display(agent: str, run_dir: Path | None = None) -> Display:
    """The display ``run_dir`` recorded for ``agent`` when it trained, else the preset's (its name where there is none).

    The recorded table is text checked like a preset's; a folder made elsewhere with one that is not falls back too.
    """
    if run_dir is not None:
        try:
            recorded = runs.read_json(Path(run_dir)).get("display")
            if recorded is not None:
                return Display.from_table(agent, recorded)
        except (OSError, ValueError):
            pass
    return runs.display_of(agent)


def preset_displays(groups: Iterable[str]) -> dict[str, Display]:
    """Each group's display from its agent's preset, for callers that have no run folders at hand."""
    return {group: runs.display_of(base_agent(group)) for group in groups}


def baseline_of(group: str, displays: Mapping[str, Display]) -> str | None:
    """The group ``group`` is compared with: its display's ``baseline``, evaluated the same way, if the report holds it."""
    baseline = displays[group].baseline
    if baseline is None:
        return None
    paired = baseline + group[len(base_agent(group)) :]
    return paired if paired in displays and paired != group else None


def ordered(displays: Mapping[str, Display]) -> list[str]:
    """The groups in a report's order: the baselines of agents present first, then the agents that declare a baseline,
    then the rest, by name within each.

    The order comes from the presets' own ``baseline`` keys, so a new agent needs no edit here, and the paper's
    comparison reads as it always did: the baseline (lstm) first, then what is measured against it (lstm_nac).
    """
    baselines = {b for g in displays if (b := baseline_of(g, displays)) is not None}

    def rank(group: str) -> tuple[int, str]:
        if group in baselines:
            return 0, group
        # declared against a baseline, present or not: the paper's agents before the variants that declare none
        return (1 if displays[group].baseline is not None else 2), group

    return sorted(displays, key=rank)
