"""Neural Addition Unit (Madsen & Johansen, ICLR 2020) and the sparsity warm-up both their units use."""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from nalu_rl.nn.registry import register
from nalu_rl.nn.unit import ClampedUnit


def sparsity_weight(step: int, start: int, end: int, scale: float = 10.0) -> float:
    """Coefficient of the sparsity regulariser at a training step (Madsen & Johansen, §2.4).

    lambda = scale * clip((step - start) / (end - start), 0, 1): off while the unit first fits
    the data, then ramped in linearly so the weights are pushed to exact {-1, 0, 1} (NAU) or
    {0, 1} (NMU) only once they are already near a solution. The paper's arithmetic task uses
    scale 10, start 1e6 and end 2e6 of 5e6 iterations.
    """
    if end <= start:
        return scale if step >= start else 0.0
    return scale * min(1.0, max(0.0, (step - start) / (end - start)))


@register("nau")
class NAU(ClampedUnit):
    """y = W x with W clamped to [-1, 1]; no bias.

    Unlike the NAC, W is linear in its parameter, so the gradient does not vanish near the
    solution, and a sparsity regulariser (see :meth:`regularization_loss`) drives it to exact
    -1, 0, 1. Call :meth:`clip_weights_` after each optimiser step (see
    :class:`~nalu_rl.nn.unit.ClampedUnit` for why). Applies to the last dimension of a tensor of any rank.
    """

    bounds = (-1.0, 1.0)

    def reset_parameters(self) -> None:
        # Glorot-uniform, capped at 0.5 so no weight starts closer to +-1 than to 0 (paper §2.4).
        std = math.sqrt(2.0 / (self.in_features + self.out_features))
        r = min(0.5, math.sqrt(3.0) * std)
        nn.init.uniform_(self.W, -r, r)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight)

    def regularization_loss(self) -> torch.Tensor:
        """Sparsity regulariser mean(min(|W|, 1 - |W|)): zero exactly when every weight is -1, 0 or 1.

        Multiply by :func:`sparsity_weight` for the paper's warm-up schedule.
        """
        w = self.weight.abs()
        return torch.minimum(w, 1.0 - w).mean()
