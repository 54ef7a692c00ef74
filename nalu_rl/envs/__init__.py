"""The TimedGrid and IntervalRepro environments, their batched twins, and their Gymnasium registration.

* ``gym.make("nalu_rl/TimedGrid-v0")``: one environment, :class:`~nalu_rl.envs.timed_grid.TimedGridEnv`;
* ``gym.make_vec("nalu_rl/TimedGrid-v0", num_envs=K)``: K of them as one batch with Gymnasium's vector conventions
  (NumPy arrays, next-step autoreset; :class:`~nalu_rl.envs.numpy_batched.TimedGridNumpyVecEnv`);
* ``gym.make_vec("nalu_rl/TimedGrid-v0", num_envs=K, backend="torch", device=...)``: the torch twin
  (:class:`~nalu_rl.envs.batched.TimedGridVecEnv`: tensors on any device, same-step autoreset), which the trainers step.

All three apply the rules of :mod:`nalu_rl.envs.rules`; :mod:`nalu_rl.envs.vector` is the vector entry point.

``nalu_rl/IntervalRepro-v0`` (Ready-Set-Go interval reproduction, the rules of :mod:`nalu_rl.envs.interval_rules`)
comes through the same three doors: :class:`~nalu_rl.envs.interval_repro.IntervalReproEnv`,
:class:`~nalu_rl.envs.numpy_batched.IntervalReproNumpyVecEnv` and, with ``backend="torch"``,
:class:`~nalu_rl.envs.interval_batched.IntervalReproVecEnv`.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym

ENV_ID = "nalu_rl/TimedGrid-v0"
INTERVAL_ENV_ID = "nalu_rl/IntervalRepro-v0"
# The environment preset every command trains on unless told otherwise: the paper's protocol on grid planes.
DEFAULT_PRESET = "paper_grid"


def register_envs() -> None:
    """Register ``nalu_rl/TimedGrid-v0`` and ``nalu_rl/IntervalRepro-v0`` (single and vector entry points) once."""
    for env_id, entry_point, vector_entry_point in (
        (ENV_ID, "nalu_rl.envs.timed_grid:TimedGridEnv", "nalu_rl.envs.vector:make_batched"),
        (INTERVAL_ENV_ID, "nalu_rl.envs.interval_repro:IntervalReproEnv", "nalu_rl.envs.vector:make_interval_batched"),
    ):
        if env_id not in gym.registry:
            gym.register(
                id=env_id, entry_point=entry_point, vector_entry_point=vector_entry_point, disable_env_checker=False
            )


def env_kwargs_from_preset(name_or_path: str) -> tuple[str, dict[str, Any]]:
    """``(name, kwargs)`` of an environment preset (``envs/*.toml``), validated and complete.

    The kwargs are :meth:`Config.to_dict`: every environment argument, defaults included, so a
    run's ``config.json`` records the rules it was trained under.
    """
    from nalu_rl import presets
    from nalu_rl.envs.rules import Config

    name, table = presets.load("envs", name_or_path)
    try:
        config = Config.from_dict(table)
    except (TypeError, ValueError) as err:
        raise presets.PresetError(f"env preset {name!r}: {err}") from None
    return name, config.to_dict()
