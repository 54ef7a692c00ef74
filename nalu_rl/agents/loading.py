"""The agent of a run folder: ours from its checkpoint, another library's through its registered loader.

Run folders of other trainers (``nalu-rl baseline``'s RecurrentPPO peer) are opened by loaders
registered in the entry-point group ``nalu_rl.run_loaders`` under the ``config.json["agent"]``
they write, e.g. in ``pyproject.toml``::

    [project.entry-points."nalu_rl.run_loaders"]
    recurrent_ppo = "nalu_rl.baselines.recurrent_ppo:load_sb3_agent"

A loader takes ``(run_dir, device)`` and returns an agent with ``predict``, ``initial_state``
and ``config`` like :class:`~nalu_rl.agents.policy.Agent`. This keeps the agents from
importing the layers built on top of them.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import torch

from nalu_rl.agents import runs
from nalu_rl.agents.checkpoint import check_fits, load_checkpoint, non_finite
from nalu_rl.agents.network import ActorCritic
from nalu_rl.agents.planning import agent_config_of
from nalu_rl.agents.policy import Agent
from nalu_rl.common.devices import resolve_device

RUN_LOADERS = "nalu_rl.run_loaders"


def load_agent(run_dir: str | Path, device: str | torch.device = "cpu", checkpoint: str = "latest") -> Any:
    """The agent of a run folder, from its ``config.json`` and ``checkpoints/latest.pt`` (or ``best.pt``).

    ``checkpoint="best"`` loads the checkpoint chosen by the training range during training
    (``--eval-every``); ``agent.checkpoint`` says which was loaded and at how many frames.

    An :class:`Agent` for our runs; for a baseline run folder (``nalu-rl baseline``) the
    agent its registered loader returns (:class:`nalu_rl.baselines.SB3Agent`), which has the
    same ``predict``, ``initial_state`` and ``config``.

    Raises ``FileNotFoundError`` for a missing folder, config or checkpoint and ``ValueError``
    for a damaged one or an unknown device.
    """
    run_dir = Path(run_dir)
    path = runs.checkpoint_path(run_dir, checkpoint)
    config = runs.read_config(run_dir)
    loader = run_loader(config["agent"])
    if loader is not None:
        if checkpoint != "latest":
            raise ValueError(f"{run_dir} was trained by {config['agent']}, which keeps no {checkpoint} checkpoint")
        return loader(run_dir, device)
    dev = resolve_device(device)
    if not path.is_file() and checkpoint == "best":
        raise FileNotFoundError(f"{run_dir} has no best checkpoint ({path}): only runs trained with --eval-every keep one")
    if not path.is_file():
        raise FileNotFoundError(
            f"{run_dir} has no checkpoint yet ({path} not found): train it on with nalu-rl train --resume --out {run_dir}"
        )
    agent_config = agent_config_of(run_dir, config)
    network = ActorCritic(config["env"], agent_config)
    payload = load_checkpoint(path, map_location=dev)
    check_fits(network, payload, path, agent_config.core)
    bad = non_finite(payload["model"])
    if bad:
        raise ValueError(f"{path} holds non-finite weights ({bad}): the run diverged; train it again with a lower learning rate")
    network.load_state_dict(payload["model"])
    agent = Agent(network, config, dev)
    agent.checkpoint = {"name": checkpoint, "frames": int(payload["frames"])}
    return agent


def run_loader(agent: str) -> Callable[[Path, str | torch.device], Any] | None:
    """The loader registered for run folders whose ``config.json["agent"]`` is ``agent``; None for ours."""
    found = entry_points(group=RUN_LOADERS, name=agent)
    return next(iter(found)).load() if found else None
