"""Neural Multiplication Unit (Madsen & Johansen, ICLR 2020)."""

from __future__ import annotations

import torch
from torch import nn

from nalu_rl.nn.registry import register
from nalu_rl.nn.unit import ClampedUnit


@register("nmu")
class NMU(ClampedUnit):
    """y_j = prod_i (W_ji x_i + 1 - W_ji) with W clamped to [0, 1]; no bias.

    W_ji = 1 multiplies x_i in, W_ji = 0 replaces it by the neutral 1. Working directly on x
    (no log) keeps the sign of the product and needs no epsilon: zeros and negative inputs are
    fine. The price is that it cannot divide. Call :meth:`clip_weights_` after each optimiser
    step (see :class:`~nalu_rl.nn.unit.ClampedUnit` for why). Applies to the last dimension of any-rank tensors.
    """

    bounds = (0.0, 1.0)

    def reset_parameters(self) -> None:
        # E[W] = 1/2 is the point where neither "multiply" nor "ignore" is favoured; the range
        # U[0.25, 0.75] is the paper's min(1/4, sqrt(3) * std) with std = 1/2.
        nn.init.uniform_(self.W, 0.25, 0.75)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = self.weight
        return (x.unsqueeze(-2) * w + (1.0 - w)).prod(dim=-1)

    def regularization_loss(self) -> torch.Tensor:
        """Sparsity regulariser mean(min(W, 1 - W)): zero exactly when every weight is 0 or 1.

        Multiply by :func:`~nalu_rl.nn.sparsity_weight` for the paper's warm-up schedule.
        """
        w = self.weight
        return torch.minimum(w, 1.0 - w).mean()
