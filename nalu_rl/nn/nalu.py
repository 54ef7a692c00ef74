"""Neural Arithmetic Logic Unit (Trask et al., 2018)."""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from nalu_rl.nn.nac import NAC
from nalu_rl.nn.registry import register
from nalu_rl.nn.unit import Unit


@register("nalu")
class NALU(Unit):
    """y = g * a + (1 - g) * m, a = W x, m = exp(W log(|x| + eps)), g = sigmoid(G x), no biases.

    As in the paper the additive and the multiplicative path share one NAC weight W
    (``tied=False`` gives the multiplicative path a NAC of its own).

    Numerical safety, so outputs and gradients stay finite for zero, tiny and negative inputs:

    - ``eps`` (default 1e-7, as stable-nalu) keeps log(|x| + eps) finite at x = 0; the gradient
      of |x| at 0 is 0, so no inf enters the backward pass either.
    - the exponent W log(|x| + eps) is clamped from above at log(float max) / 2 (about 44 in
      float32), so m and its input gradient m W / (|x| + eps) cannot overflow; below the
      clamp the unit is exactly the paper's.

    The paper's multiplicative path sees only |x|, so it returns |a * b| for a negative a.
    ``mul_sign=True`` restores the sign with the factor prod_i (1 - |W_ji| + |W_ji| sign(x_i))
    (Schlör et al., iNALU 2020), which is sign(x_i) where |W_ji| = 1 and 1 where W_ji = 0.
    It has no regulariser. Applies to the last dimension of a tensor of any rank.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        eps: float = 1e-7,
        tied: bool = True,
        mul_sign: bool = False,
    ) -> None:
        super().__init__(in_features, out_features)
        if eps <= 0:
            raise ValueError(f"eps must be positive, got {eps}")
        self.eps = eps
        self.tied = tied
        self.mul_sign = mul_sign
        self.nac = NAC(in_features, out_features)
        self.nac_mul = None if tied else NAC(in_features, out_features)
        self.G = nn.Parameter(torch.empty(out_features, in_features))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.nac.reset_parameters()
        if self.nac_mul is not None:
            self.nac_mul.reset_parameters()
        nn.init.xavier_uniform_(self.G, gain=nn.init.calculate_gain("sigmoid"))

    def gate(self, x: torch.Tensor) -> torch.Tensor:
        """g in (0, 1): 1 selects the additive path, 0 the multiplicative one."""
        return torch.sigmoid(F.linear(x, self.G))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w_add = self.nac.weight
        w_mul = w_add if self.nac_mul is None else self.nac_mul.weight
        a = F.linear(x, w_add)
        exponent = F.linear(torch.log(x.abs() + self.eps), w_mul)
        m = torch.exp(exponent.clamp(max=math.log(torch.finfo(exponent.dtype).max) / 2.0))
        if self.mul_sign:
            w_abs = w_mul.abs()
            m = m * (1.0 - w_abs + w_abs * torch.sign(x).unsqueeze(-2)).prod(dim=-1)
        g = self.gate(x)
        return g * a + (1.0 - g) * m

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, eps={self.eps}, tied={self.tied}, mul_sign={self.mul_sign}"
