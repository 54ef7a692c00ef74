"""The TimedGrid environment, its batched torch twin, and their Gymnasium registration."""

from __future__ import annotations

from typing import Any

import gymnasium as gym

ENV_ID = "nalu_rl/TimedGrid-v0"
ENV_KWARGS = ("size", "t_range", "obs_mode", "time_limit")


def register_envs() -> None:
    """Register ``nalu_rl/TimedGrid-v0`` (single and vector entry points) once."""
    if ENV_ID in gym.registry:
        return
    gym.register(
        id=ENV_ID,
        entry_point="nalu_rl.envs.timed_grid:TimedGridEnv",
        vector_entry_point="nalu_rl.envs.batched:TimedGridVecEnv",
        disable_env_checker=False,
    )


def env_kwargs_from_preset(name_or_path: str) -> tuple[str, dict[str, Any]]:
    """``(name, kwargs)`` of an environment preset (``envs/*.toml``), validated."""
    from nalu_rl import presets
    from nalu_rl.envs.rules import Config

    name, table = presets.load("envs", name_or_path)
    unknown = set(table) - set(ENV_KWARGS)
    if unknown:
        raise presets.PresetError(f"env preset {name!r}: unknown key(s) {sorted(unknown)}; allowed: {ENV_KWARGS}")
    kwargs = dict(table)
    if "t_range" in kwargs:
        kwargs["t_range"] = tuple(kwargs["t_range"])
    Config.from_kwargs(**kwargs)  # raises ValueError naming the bad value
    return name, kwargs
