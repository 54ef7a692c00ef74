"""A trained agent: its network acting with the Stable-Baselines3 recurrent convention (``predict``).

:func:`nalu_rl.agents.loading.load_agent` gives the agent of a run folder.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from nalu_rl.agents.network import ActorCritic

Array = np.ndarray | torch.Tensor


class Agent:
    """A network with its run's config; ``predict`` maps observations (and recurrent state) to actions."""

    def __init__(self, network: ActorCritic, config: dict[str, Any], device: torch.device) -> None:
        self.network = network.to(device).eval()
        self.config = config
        self.device = device
        self.checkpoint: dict[str, Any] | None = None  # {"name": "latest" | "best", "frames"} when loaded from a run folder

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
