"""Arithmetic units as PyTorch layers: NAC and NALU (Trask et al., 2018), NAU and NMU (Madsen & Johansen, 2020).

Each is a :class:`Unit`, ``Unit(in_features, out_features, **opts)`` applied to the last
dimension of any-rank tensors, with ``regularization_loss()`` (zero where the unit has none)
and ``clip_weights_()`` (a no-op where its parameters are unbounded).
"""

from nalu_rl.nn.nac import NAC
from nalu_rl.nn.nalu import NALU
from nalu_rl.nn.nau import NAU, sparsity_weight
from nalu_rl.nn.nmu import NMU
from nalu_rl.nn.registry import UNITS, clip_weights_, get_unit, register, regularization_loss
from nalu_rl.nn.unit import Unit

__all__ = [
    "NAC",
    "NALU",
    "NAU",
    "NMU",
    "UNITS",
    "Unit",
    "clip_weights_",
    "get_unit",
    "register",
    "regularization_loss",
    "sparsity_weight",
]
