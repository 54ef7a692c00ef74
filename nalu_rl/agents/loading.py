"""Loading one of our agents from its run folder: ``config.json`` and ``checkpoints/latest.pt`` (or ``best.pt``).

:func:`nalu_rl.runs.load_agent` is the address for any run folder: it asks the folder's kind
(runs/kinds.py), which for our agents is :func:`load_preset_agent` and for the peer its own loader.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from nalu_rl import runs
from nalu_rl.agents.checkpoint import check_fits, load_checkpoint, non_finite
from nalu_rl.agents.config import agent_config_of
from nalu_rl.agents.network import ActorCritic
from nalu_rl.agents.policy import Agent
from nalu_rl.common.devices import resolve_device


def load_agent(run_dir: str | Path, device: str | torch.device = "cpu", checkpoint: str = "latest") -> Any:
    """The agent of a run folder, from its ``config.json`` and ``checkpoints/latest.pt`` (or ``best.pt``).

    ``checkpoint="best"`` loads the checkpoint chosen by the training range during training
    (``--eval-every``); ``agent.checkpoint`` says which was loaded and at how many frames.

    An :class:`Agent` for our runs; for a baseline run folder (``nalu-rl baseline``) the agent
    its kind loads (:class:`nalu_rl.baselines.SB3Agent`), which has the same ``predict``,
    ``initial_state`` and ``config``.

    Raises ``FileNotFoundError`` for a missing folder, config or checkpoint and ``ValueError``
    for a damaged one or an unknown device.
    """
    return runs.load_agent(run_dir, device, checkpoint)


def load_preset_agent(run_dir: str | Path, device: str | torch.device = "cpu", checkpoint: str = "latest") -> Agent:
    """One of our agents from its run folder (see :func:`load_agent`)."""
    run_dir = Path(run_dir)
    path = runs.checkpoint_path(run_dir, checkpoint)
    config = runs.read_config(run_dir)
    dev = resolve_device(device)
    if not path.is_file() and checkpoint == "best":
        raise FileNotFoundError(f"{run_dir} has no best checkpoint ({path}): only runs trained with --eval-every keep one")
    if not path.is_file():
        raise FileNotFoundError(
            f"{run_dir} has no checkpoint yet ({path} not found): train it on with nalu-rl train --resume --out {run_dir}"
        )
    agent_config = agent_config_of(run_dir, config)
    network = ActorCritic(config.env, agent_config)
    payload = load_checkpoint(path, map_location=dev)
    check_fits(network, payload, path, agent_config.core)
    bad = non_finite(payload["model"])
    if bad:
        raise ValueError(f"{path} holds non-finite weights ({bad}): the run diverged; train it again with a lower learning rate")
    network.load_state_dict(payload["model"])
    agent = Agent(network, config.to_json(), dev)
    agent.checkpoint = {"name": checkpoint, "frames": int(payload["frames"])}
    return agent
