"""A trained agent: load it from a run folder and act with the Stable-Baselines3 recurrent convention."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from nalu_rl.agents import runs
from nalu_rl.agents.checkpoint import load_checkpoint
from nalu_rl.agents.config import AgentConfig
from nalu_rl.agents.network import ActorCritic
from nalu_rl.envs.batched import TimedGridVecEnv, resolve_device

Array = np.ndarray | torch.Tensor


class Agent:
    """A network with its run's config; ``predict`` maps observations (and recurrent state) to actions."""

    def __init__(self, network: ActorCritic, config: dict[str, Any], device: torch.device) -> None:
        self.network = network.to(device).eval()
        self.config = config
        self.device = device

    def initial_state(self, batch_size: int) -> torch.Tensor:
        """The recurrent state at the start of an episode, (batch_size, state_size) on the agent's device."""
        return self.network.initial_state(batch_size, self.device)

    def predict(
        self,
        obs: dict[str, Array],
        state: Array | None = None,
        episode_start: Array | None = None,
        deterministic: bool = False,
    ) -> tuple[Any, Array]:
        """``(actions, next state)`` for one observation or a batch.

        ``obs`` is one Gymnasium observation (dict of NumPy arrays: returns one ``np.int64``
        action) or a batch whose arrays have a leading dimension B (returns B actions). NumPy in,
        NumPy out; torch in, torch out on the agent's device. ``state=None`` is the initial state;
        ``episode_start`` (B booleans) resets the state where True before acting, as in
        Stable-Baselines3. ``deterministic=True`` takes the most probable action.
        """
        image, instruction = obs["image"], obs["instruction"]
        as_torch = isinstance(image, torch.Tensor)
        single = image.ndim == 3  # (2, N, N) planes or a (56, 56, 3) frame without batch dimension
        with torch.inference_mode():
            image = torch.as_tensor(image, device=self.device)
            instruction = torch.as_tensor(instruction, dtype=torch.float32, device=self.device).reshape(-1, 1)
            if single:
                image = image.unsqueeze(0)
            batch = image.shape[0]
            if instruction.shape[0] != batch:
                raise ValueError(f"obs['instruction'] must hold {batch} values, got {instruction.shape[0]}")
            if state is None:
                state = self.initial_state(batch)
            else:
                state = torch.as_tensor(state, dtype=torch.float32, device=self.device)
                if state.shape != (batch, self.network.state_size):
                    raise ValueError(f"state must have shape ({batch}, {self.network.state_size}), got {tuple(state.shape)}")
            if episode_start is not None:
                start = torch.as_tensor(episode_start, device=self.device).reshape(batch).bool()
                state = state * (~start).unsqueeze(1)
            logits, _, state = self.network(image, instruction, state)
            if deterministic:
                actions = logits.argmax(1)
            else:
                actions = torch.multinomial(torch.softmax(logits, 1), 1).squeeze(1)
        if as_torch:  # clones outside inference mode are ordinary tensors the caller may modify in place
            return actions.clone(), state.clone()
        actions_np, state_np = actions.cpu().numpy(), state.cpu().numpy()
        return (actions_np[0] if single else actions_np), state_np


def load_agent(run_dir: str | Path, device: str | torch.device = "cpu") -> Agent:
    """The agent of a run folder, from its ``config.json`` and ``checkpoints/latest.pt``.

    A baseline run folder (``nalu-rl baseline``) gives its :class:`nalu_rl.baselines.SB3Agent`,
    which has the same ``predict``, ``initial_state`` and ``config``.

    Raises ``FileNotFoundError`` for a missing folder, config or checkpoint and ``ValueError``
    for a damaged one or an unknown device.
    """
    run_dir = Path(run_dir)
    config = runs.read_config(run_dir)
    if config["agent"] == "recurrent_ppo":  # a Stable-Baselines3 peer (nalu-rl baseline)
        from nalu_rl.baselines import load_sb3_agent

        return load_sb3_agent(run_dir, device)
    dev = resolve_device(device)
    network = ActorCritic(config["env"], AgentConfig.of_run(config["agent_config"]))
    path = runs.latest_checkpoint(run_dir)
    checkpoint = load_checkpoint(path, map_location=dev)
    try:
        network.load_state_dict(checkpoint["model"])
    except (RuntimeError, KeyError, TypeError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ValueError(f"checkpoint {path} does not match the run's config: {first}") from None
    return Agent(network, config, dev)


def greedy_success(agent: Agent, instructions: Sequence[int], episodes: int = 100, seed: int = 0) -> dict[int, float]:
    """Greedy success rate for each T: ``episodes`` first episodes per T in the run's environment."""
    env_kwargs = {**agent.config["env"], "t_range": tuple(agent.config["env"]["t_range"])}
    fixed = torch.tensor(list(instructions), device=agent.device).repeat_interleave(episodes)
    env = TimedGridVecEnv(num_envs=len(fixed), device=agent.device, **env_kwargs)
    obs, _ = env.reset(seed=seed, options={"instruction": fixed})
    finished = torch.zeros(len(fixed), dtype=torch.bool, device=agent.device)
    success = torch.zeros_like(finished)
    state, start = None, None
    while not bool(finished.all()):
        actions, state = agent.predict(obs, state, start, deterministic=True)
        obs, _, terminated, truncated, info = env.step(actions)
        start = terminated | truncated
        success |= start & ~finished & info["success"]
        finished |= start
    rates = success.float().reshape(len(instructions), episodes).mean(1).tolist()
    return dict(zip(instructions, rates))
