"""What every arithmetic unit is: :class:`Unit`, and :class:`ClampedUnit` for those whose weight is a clamped parameter."""

from __future__ import annotations

import abc

import torch
from torch import nn


class Unit(nn.Module, abc.ABC):
    """An arithmetic unit ``Unit(in_features, out_features, **opts)`` acting on the last dimension of any-rank tensors.

    The model-wide :func:`~nalu_rl.nn.regularization_loss` and :func:`~nalu_rl.nn.clip_weights_`
    reach every ``Unit`` inside a model and no other module, so a unit only overrides the two
    hooks below when it has a regulariser or bounded raw parameters.
    """

    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features

    @abc.abstractmethod
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The unit's output for inputs ``x`` (..., in_features)."""

    def regularization_loss(self) -> torch.Tensor:
        """This unit's regulariser; zero by default, a tensor on the unit's device and dtype so losses sum uniformly."""
        first = next(self.parameters(), None)
        return torch.zeros(()) if first is None else first.new_zeros(())

    def clip_weights_(self) -> None:
        """Bring raw parameters back into range in place after an optimiser step; nothing to do by default."""

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}"


class ClampedUnit(Unit):
    """A unit whose effective weight is its raw parameter ``W`` (out_features, in_features) clamped to ``bounds``.

    The forward clamp keeps the effective weight in range whatever the optimiser does; a
    parameter pushed past a bound stops receiving gradient, so training loops call
    :meth:`clip_weights_` after each optimiser step, as Madsen & Johansen (2020) do.
    Subclasses set ``bounds`` and define ``reset_parameters``.
    """

    bounds: tuple[float, float]

    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__(in_features, out_features)
        self.W = nn.Parameter(torch.empty(out_features, in_features))
        self.reset_parameters()

    @abc.abstractmethod
    def reset_parameters(self) -> None:
        """Initialise ``W`` (the unit's own scheme)."""

    @property
    def weight(self) -> torch.Tensor:
        """The effective weight matrix (out_features, in_features), within ``bounds``."""
        return self.W.clamp(*self.bounds)

    @torch.no_grad()
    def clip_weights_(self) -> None:
        """Clip the raw parameter into ``bounds`` in place (after an optimiser step)."""
        self.W.clamp_(*self.bounds)
