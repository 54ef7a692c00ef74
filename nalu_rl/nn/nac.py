"""Neural Accumulator (Trask et al., 2018): a bias-free linear map whose weights lean to -1, 0, 1."""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from nalu_rl.nn.registry import register
from nalu_rl.nn.unit import Unit


def _weight_variance(r: float) -> float:
    """Var(tanh(w) * sigmoid(m)) for w, m ~ U[-r, r] independently (closed form)."""
    if r == 0.0:
        return 0.0
    return (1.0 - math.tanh(r) / r) * (r - math.tanh(r / 2.0)) / (2.0 * r)


def glorot_range(in_features: int, out_features: int) -> float:
    """The r for which U[-r, r] on both W-hat and M-hat gives W a Glorot variance 2 / (fan_in + fan_out).

    Found by bisection; the variance grows monotonically with r. The fan is floored at 5 because
    below that no r reaches the target (W's variance is bounded), as in stable-nalu.
    """
    target = 2.0 / max(in_features + out_features, 5)
    lo, hi = 0.0, 10.0
    for _ in range(60):
        mid = (lo + hi) / 2.0
        lo, hi = (mid, hi) if _weight_variance(mid) < target else (lo, mid)
    return (lo + hi) / 2.0


@register("nac")
class NAC(Unit):
    """y = W x with W = tanh(W-hat) * sigmoid(M-hat), recomputed in every forward; no bias.

    Recomputing W on every call is the whole point: a W built once at construction turns the
    unit into a frozen random linear layer whose W-hat and M-hat never receive gradients.
    W lies in [-1, 1] by construction (|tanh| <= 1, 0 <= sigmoid <= 1) and its saturation
    points are -1, 0 and 1, which biases the unit towards adding and subtracting inputs.
    It has no regulariser. Applies to the last dimension of a tensor of any rank.
    """

    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__(in_features, out_features)
        self.W_hat = nn.Parameter(torch.empty(out_features, in_features))
        self.M_hat = nn.Parameter(torch.empty(out_features, in_features))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        r = glorot_range(self.in_features, self.out_features)
        nn.init.uniform_(self.W_hat, -r, r)
        nn.init.uniform_(self.M_hat, -r, r)

    @property
    def weight(self) -> torch.Tensor:
        """The effective weight matrix (out_features, in_features), in [-1, 1]."""
        return torch.tanh(self.W_hat) * torch.sigmoid(self.M_hat)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight)
