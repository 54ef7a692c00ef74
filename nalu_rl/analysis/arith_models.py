"""The models of the arithmetic benchmark: two layers, a pair of arithmetic units or an MLP baseline."""

from __future__ import annotations

import copy

import torch
from torch import nn

from nalu_rl.nn import UNITS, get_unit, regularization_loss

ACTIVATIONS: dict[str, type[nn.Module]] = {"linear": nn.Identity, "relu6": nn.ReLU6, "tanh": nn.Tanh}

DEFAULT_MODELS = ("linear", "relu6", "tanh", "nac", "nalu", "nau", "nau-nmu")


def model_layers(spec: str) -> tuple[str, str]:
    """The (first, second) layer of a model name: an MLP activation, ``unit`` (twice) or ``unit-unit``."""
    if spec in ACTIVATIONS:
        return spec, "mlp"
    parts = spec.split("-")
    if len(parts) > 2 or not all(parts) or not all(p.lower() in UNITS for p in parts):
        raise ValueError(
            f"bad model {spec!r}: use {', '.join(ACTIVATIONS)}, a unit ({', '.join(sorted(UNITS))}) "
            "for both layers, or first-second units such as nau-nmu"
        )
    return parts[0], parts[-1]


class StaticNet(nn.Module):
    """input -> hidden -> 1; ``forward`` returns the prediction and the units' regularisation loss."""

    def __init__(self, spec: str, input_size: int, hidden_size: int) -> None:
        super().__init__()
        first, second = model_layers(spec)
        if second == "mlp":
            self.layers = nn.Sequential(
                nn.Linear(input_size, hidden_size), ACTIVATIONS[first](), nn.Linear(hidden_size, 1)
            )
        else:
            self.layers = nn.Sequential(get_unit(first)(input_size, hidden_size), get_unit(second)(hidden_size, 1))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.layers(x).squeeze(-1), regularization_loss(self.layers)


def stack_networks(nets: list[list[nn.Module]]) -> nn.Module:
    """One module whose parameters are those of a (tasks x seeds) grid of nets, stacked as (T, S, ...)."""
    holder = copy.deepcopy(nets[0][0])
    for name, _ in holder.named_parameters():
        module_name, _, attr = name.rpartition(".")
        stacked = torch.stack([torch.stack([n.get_parameter(name).detach() for n in row]) for row in nets])
        holder.get_submodule(module_name).register_parameter(attr, nn.Parameter(stacked))
    return holder
