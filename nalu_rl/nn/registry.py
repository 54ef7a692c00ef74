"""Look arithmetic units up by name, and the two model-wide operations their training needs.

A unit joins with ``@register("name")`` on a :class:`~nalu_rl.nn.Unit` subclass; names are
case-insensitive. The model-wide operations reach every ``Unit`` in a model, however deeply
nested, and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from nalu_rl.nn.unit import Unit

UNITS: dict[str, type[Unit]] = {}


def register(name: str) -> Callable[[type[Unit]], type[Unit]]:
    """Class decorator adding a unit under ``name`` (lower-case); refuses a non-``Unit`` and shadowing an existing one."""
    key = name.lower()

    def add(cls: type[Unit]) -> type[Unit]:
        if not (isinstance(cls, type) and issubclass(cls, Unit)):
            raise TypeError(f"a unit must subclass nalu_rl.nn.Unit, got {cls!r}")
        if key in UNITS and UNITS[key] is not cls:
            raise ValueError(f"a unit named {key!r} is already registered ({UNITS[key].__name__})")
        UNITS[key] = cls
        return cls

    return add


def get_unit(name: str) -> type[Unit]:
    """The unit class registered under ``name`` (case-insensitive); ValueError naming the choices."""
    try:
        return UNITS[name.lower()]
    except KeyError:
        raise ValueError(f"unknown unit {name!r}; choose from {', '.join(sorted(UNITS))}") from None


def regularization_loss(model: nn.Module) -> torch.Tensor:
    """Sum of ``regularization_loss()`` over every unit in ``model`` (0 if it has none)."""
    terms = [m.regularization_loss() for m in model.modules() if isinstance(m, Unit)]
    if terms:
        return torch.stack(terms).sum()
    first = next(model.parameters(), None)
    return torch.zeros(()) if first is None else first.new_zeros(())


def clip_weights_(model: nn.Module) -> None:
    """Call ``clip_weights_()`` on every unit in ``model``; use after each optimiser step."""
    for m in model.modules():
        if isinstance(m, Unit):
            m.clip_weights_()
