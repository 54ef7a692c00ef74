"""The actor-critic network: observation encoder → [encoding, scaled T] → recurrent core → heads."""

from __future__ import annotations

import torch
from torch import nn

from nalu_rl.agents.config import AgentConfig
from nalu_rl.agents.cores import build_core
from nalu_rl.envs import rules


class GridEncoder(nn.Module):
    """A small MLP over the (2, N, N) agent/target planes."""

    def __init__(self, size: int, out_features: int) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(2 * size * size, out_features), nn.ReLU())

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.net(image)


class CellEncoder(nn.Module):
    """A conv net over the paper's 56×56 RGB frames whose first layer reads one grid cell per position.

    The frame draws cell (r, c) as a square block of ``56 // N`` pixels (:func:`rules.cell_masks`),
    so a convolution whose kernel and stride are that block sees exactly one cell at each of its
    N×N positions: what stands there (agent, target, nothing) is one linear read-out away.

    Gray agent and red target overlap in the red channel, so at initialisation the features of
    "agent here" and "target here" are correlated; the more channels, the more of them start
    out telling the two apart (docs/FINDINGS.md, "Pixels", has the measurements).
    """

    def __init__(self, size: int, out_features: int, channels: int) -> None:
        super().__init__()
        cell = rules.IMAGE_SIZE // size
        offset = (rules.IMAGE_SIZE - cell * size) // 2
        self.crop = slice(offset, offset + cell * size)
        self.net = nn.Sequential(
            nn.Conv2d(3, channels, kernel_size=cell, stride=cell),  # one output per cell
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(channels * size * size, out_features),
            nn.ReLU(),
        )

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.net(image[:, self.crop, self.crop].permute(0, 3, 1, 2).float() / 255.0)


class CellSumEncoder(nn.Module):
    """The cells encoder computed from each cell's pixel sums: on the paper's frames, the same function and the same
    Adam updates as :class:`CellEncoder`, at a fraction of the arithmetic.

    The frame draws every cell as a solid block, so the cells encoder's kernel meets one colour over a cell: its
    output is (the kernel summed over the cell) · colour, and the ``cell²`` weights of one input channel get equal
    gradients. Only their sum matters, and an Adam step moves it ``cell²`` times as far as it moves one weight. A 1×1
    convolution over the cells' pixel sums, started from the summed kernel / ``cell²``, computes the same and moves
    the same (docs/FINDINGS.md, "Pixels at the grid's pace"); only gradient clipping sees it differently, its norm
    being ``cell`` times the kernel's.
    """

    def __init__(self, size: int, out_features: int, channels: int, means: bool = False) -> None:
        super().__init__()
        self.size, self.cell = size, rules.IMAGE_SIZE // size
        self.offset = (rules.IMAGE_SIZE - self.cell * size) // 2
        # Sums reach cell² times a colour, means one colour: dividing the input (and not the start) by cell² keeps
        # the function a seed starts from and makes each Adam step move it cell² times less (see CellMeanEncoder).
        self.input_scale = 255.0 * self.cell**2 if means else 255.0
        # The cells encoder's kernel and read-out, drawn in its order: a seed starts both encoders alike.
        kernel = nn.Conv2d(3, channels, kernel_size=self.cell, stride=self.cell)
        summed = kernel.weight.detach().sum((2, 3), keepdim=True)
        self.weight = nn.Parameter(summed if means else summed / self.cell**2)
        self.bias = nn.Parameter(kernel.bias.detach().clone())
        self.head = nn.Sequential(nn.ReLU(), nn.Flatten(), nn.Linear(channels * size * size, out_features), nn.ReLU())

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        n, cell, lo = self.size, self.cell, self.offset
        hi = lo + n * cell
        batch, width, rgb = image.shape[0], image.shape[2], image.shape[3]
        # Rows first, over whole contiguous rows of uint8 (several times faster than summing 11×11 windows).
        bands = image[:, lo:hi].reshape(batch, n, cell, width * rgb).sum(2, dtype=torch.float32)
        sums = bands[:, :, lo * rgb : hi * rgb].reshape(batch, n, n, cell, rgb).sum(3)  # (B, N, N, RGB)
        return self.head(nn.functional.conv2d(sums.permute(0, 3, 1, 2) / self.input_scale, self.weight, self.bias))


class CellMeanEncoder(CellSumEncoder):
    """:class:`CellSumEncoder` over each cell's mean colour: the same function at the start, a per-cell layer that
    learns at the grid encoder's pace.

    Over sums, an Adam step on the per-cell layer changes its output by up to ``cell²`` (121) times the learning rate,
    where the grid encoder's one-hot planes move by the learning rate: steps that large can silence a channel on a
    colour for good (what that did to pixel runs: docs/FINDINGS.md, "Pixels: why seeds failed").
    """

    def __init__(self, size: int, out_features: int, channels: int) -> None:
        super().__init__(size, out_features, channels, means=True)


class AtariEncoder(nn.Module):
    """The A3C conv net for Atari (Mnih et al., 2016) over the 56×56 RGB frames (uint8, channels last)."""

    def __init__(self, out_features: int) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(3, 16, kernel_size=8, stride=4),  # 56 → 13
            nn.ReLU(),
            nn.Conv2d(16, 32, kernel_size=4, stride=2),  # 13 → 5
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(32 * 5 * 5, out_features),
            nn.ReLU(),
        )

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.net(image.permute(0, 3, 1, 2).float() / 255.0)


class ActorCritic(nn.Module):
    """Policy logits over the 5 actions and a state value, one time step at a time."""

    def __init__(self, env: rules.Config, config: AgentConfig) -> None:
        super().__init__()
        obs_mode, size = env.obs_mode, env.size
        if obs_mode == "grid":
            self.encoder: nn.Module = GridEncoder(size, config.encoder_size)
        elif config.pixel_encoder == "cells":
            self.encoder = CellEncoder(size, config.encoder_size, config.pixel_channels)
        elif config.pixel_encoder == "cell_sums":
            self.encoder = CellSumEncoder(size, config.encoder_size, config.pixel_channels)
        elif config.pixel_encoder == "cell_means":
            self.encoder = CellMeanEncoder(size, config.encoder_size, config.pixel_channels)
        else:
            self.encoder = AtariEncoder(config.encoder_size)
        self.core = build_core(config.core, config.encoder_size, config.hidden_size, config.unit_size)
        if config.unit_to_heads:
            self.core.unit_to_heads = True
        if config.time_left_cap:
            self.core.time_left_cap = config.time_left_cap * config.instruction_scale
        self.policy = nn.Linear(self.core.output_size, rules.NUM_ACTIONS)
        self.value = nn.Linear(self.core.output_size, 1)
        self.instruction_scale = config.instruction_scale
        # A near-uniform initial policy (small logits) explores evenly from the start.
        nn.init.orthogonal_(self.policy.weight, gain=0.01)
        nn.init.zeros_(self.policy.bias)
        nn.init.orthogonal_(self.value.weight, gain=1.0)
        nn.init.zeros_(self.value.bias)
        self.state_size = self.core.state_size

    def initial_state(self, batch_size: int, device: torch.device | str | None = None) -> torch.Tensor:
        """Zeros: the state at the start of every episode."""
        return torch.zeros(batch_size, self.state_size, device=device)

    def forward(
        self, image: torch.Tensor, instruction: torch.Tensor, state: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(logits (B, 5), value (B,), next state)`` for observations (B, ...) and T (B, 1)."""
        # T enters linearly (no clipping or squashing), so instructions outside the
        # training range reach the core as distinct, proportionally larger values.
        tau = instruction * self.instruction_scale
        out, state = self.core(self.encoder(image), tau, state)
        return self.policy(out), self.value(out).squeeze(1), state

