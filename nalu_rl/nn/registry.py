"""Look arithmetic units up by name, and the two model-wide operations their training needs.

Every unit is ``Unit(in_features, out_features, **opts)`` acting on the last dimension and has
``regularization_loss()``; units with bounded raw parameters also have ``clip_weights_()``.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from nalu_rl.nn.nac import NAC
from nalu_rl.nn.nalu import NALU
from nalu_rl.nn.nau import NAU
from nalu_rl.nn.nmu import NMU

UNITS: dict[str, type[nn.Module]] = {"nac": NAC, "nalu": NALU, "nau": NAU, "nmu": NMU}


def register(name: str) -> Callable[[type[nn.Module]], type[nn.Module]]:
    """Class decorator adding a unit under ``name`` (lower-case); refuses to shadow an existing one."""
    key = name.lower()

    def add(cls: type[nn.Module]) -> type[nn.Module]:
        if key in UNITS and UNITS[key] is not cls:
            raise ValueError(f"a unit named {key!r} is already registered ({UNITS[key].__name__})")
        UNITS[key] = cls
        return cls

    return add


def get_unit(name: str) -> type[nn.Module]:
    """The unit class registered under ``name`` (case-insensitive); ValueError naming the choices."""
    try:
        return UNITS[name.lower()]
    except KeyError:
        raise ValueError(f"unknown unit {name!r}; choose from {', '.join(sorted(UNITS))}") from None


def regularization_loss(model: nn.Module) -> torch.Tensor:
    """Sum of ``regularization_loss()`` over every module in ``model`` that has one (0 if none)."""
    terms = [m.regularization_loss() for m in model.modules() if hasattr(m, "regularization_loss")]
    if terms:
        return torch.stack(terms).sum()
    first = next(model.parameters(), None)
    return torch.zeros(()) if first is None else first.new_zeros(())


def clip_weights_(model: nn.Module) -> None:
    """Call ``clip_weights_()`` on every module in ``model`` that has one; use after each optimiser step."""
    for m in model.modules():
        if hasattr(m, "clip_weights_"):
            m.clip_weights_()
