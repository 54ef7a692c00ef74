"""Planning a sweep: one validated :class:`RunSpec` per (agent, seed), before anything runs."""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nalu_rl import presets
from nalu_rl.agents.kind import RUN_OPTIONS
from nalu_rl.common.checks import check_int
from nalu_rl.runs.kinds import kind_of
from nalu_rl.sweep.spec import RunSpec, run_name

TRAIN_OPTIONS = (*RUN_OPTIONS, "overrides")


@dataclass(frozen=True)
class SweepOptions:
    """What every run of a sweep shares: the keyword arguments of :func:`plan_runs`."""

    env: str
    frames: int | None
    episodes: int
    out: Path
    t_values: str | Sequence[int] | None = None  # a T list (text such as "1-30,50,100" or ints); else the range
    t_min: int | None = None
    t_max: int | None = None
    device: str = "cpu"
    train_options: dict[str, Any] | None = None
    gpus_per_run: float | None = None


def plan_runs(agents: Sequence[str], seeds: Sequence[int], **options: Any) -> list[RunSpec]:
    """One spec per (agent, seed), everything validated; ValueError / PresetError before anything runs.

    ``options`` are the fields of :class:`SweepOptions` (``env``, ``frames``, ``episodes``, ``out``,
    optionally the T list ``t_values`` or the range ``t_min``/``t_max`` (default 1..30), ``device``,
    ``train_options``, ``gpus_per_run``).
    """
    from nalu_rl.analysis.t_values import resolve_t_values
    from nalu_rl.common.devices import resolve_device
    from nalu_rl.envs import env_kwargs_from_preset

    opts = SweepOptions(**options)
    agents = list(agents)
    seeds = list(seeds)
    if not agents:
        raise ValueError("no agents given")
    if not seeds:
        raise ValueError("no seeds given")
    for seed in seeds:
        check_int("seed", seed)
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds repeat: {seeds}")
    if opts.frames is not None:
        check_int("frames", opts.frames)
    check_int("episodes", opts.episodes)
    t_values = tuple(resolve_t_values(opts.t_values, opts.t_min, opts.t_max))
    resolve_device(opts.device)  # ValueError for an unknown device
    env_name, _ = env_kwargs_from_preset(opts.env)
    env = _absolute_if_path(opts.env)  # Ray tasks and pool processes may run elsewhere than this working directory
    agents = [_absolute_if_path(a) for a in agents]
    gpus = opts.gpus_per_run
    if gpus is not None and (isinstance(gpus, bool) or not isinstance(gpus, numbers.Real) or not 0 < gpus <= 64):
        raise ValueError(f"gpus_per_run must be a number in (0, 64], got {gpus!r}")
    train_options = dict(opts.train_options or {})
    unknown = set(train_options) - set(TRAIN_OPTIONS)
    if unknown:
        raise ValueError(f"unknown train option(s) {sorted(unknown)}; allowed: {', '.join(TRAIN_OPTIONS)}")
    names = [run_name(a, 0) for a in agents]
    if len(set(names)) != len(names):
        raise ValueError(f"agents repeat: {agents}")
    out = Path(opts.out).resolve()
    specs = []
    for agent in agents:
        kind = kind_of(agent)
        cpus = kind.plan_cpus(agent, env, train_options)
        for seed in seeds:
            name = run_name(agent, seed)
            specs.append(
                RunSpec(
                    name=name, agent=agent, kind=kind, seed=int(seed), env=env, env_preset=env_name, frames=opts.frames,
                    episodes=opts.episodes, t_values=t_values, run_dir=str(out / name),
                    device=opts.device, options=train_options, cpus=cpus, gpus=gpus,
                )
            )  # fmt: skip
    return specs


def _absolute_if_path(preset: str) -> str:
    return str(Path(preset).resolve()) if presets.is_path(preset) else preset
