"""The models of the arithmetic benchmark: two layers, a pair of arithmetic units or an MLP baseline.

The recurrent task's models read one input vector per step: a recurrent cell (an LSTM or GRU
baseline, or an arithmetic unit that accumulates, or one over [x_t, h_{t-1}]: :class:`UnitCell`)
and, on its last state, an output layer.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from nalu_rl.nn import UNITS, get_unit, regularization_loss

ACTIVATIONS: dict[str, type[nn.Module]] = {"linear": nn.Identity, "relu6": nn.ReLU6, "tanh": nn.Tanh}

DEFAULT_MODELS = ("linear", "relu6", "tanh", "nac", "nalu", "nau", "nau-nmu")
RNN_BASELINES = ("lstm", "gru")
RECURRENT_MODELS = ("lstm", "gru", "nac", "nalu", "nau", "nau-nmu")


def model_layers(spec: str, recurrent: bool = False) -> tuple[str, str]:
    """The (first, second) layer of a model name: an MLP activation (static) or an RNN baseline (recurrent),
    ``unit`` (twice) or ``unit-unit``; for a recurrent unit model the first is the recurrent cell."""
    baselines = RNN_BASELINES if recurrent else ACTIVATIONS
    if spec in baselines:
        return spec, "linear"
    parts = spec.split("-")
    if len(parts) > 2 or not all(parts) or not all(p.lower() in UNITS for p in parts):
        raise ValueError(
            f"bad {'recurrent ' if recurrent else ''}model {spec!r}: use {', '.join(baselines)}, a unit ({', '.join(sorted(UNITS))}) "
            "for both layers, or first-second units such as nau-nmu"
        )
    return parts[0], parts[-1]


class StaticNet(nn.Module):
    """input -> hidden -> 1; ``forward`` returns the prediction and the units' regularisation loss."""

    def __init__(self, spec: str, input_size: int, hidden_size: int) -> None:
        super().__init__()
        first, second = model_layers(spec)
        if second == "linear":
            self.layers = nn.Sequential(
                nn.Linear(input_size, hidden_size), ACTIVATIONS[first](), nn.Linear(hidden_size, 1)
            )
        else:
            self.layers = nn.Sequential(get_unit(first)(input_size, hidden_size), get_unit(second)(hidden_size, 1))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.layers(x).squeeze(-1), regularization_loss(self.layers)


class LSTMCell(nn.Module):
    """The LSTM step written out (gate order i, f, g, o), since ``torch.func.vmap`` has no rule for ``aten::lstm_cell``."""

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        self.x_gates = nn.Linear(input_size, 4 * hidden_size)
        self.h_gates = nn.Linear(hidden_size, 4 * hidden_size, bias=False)
        self.state_size = 2 * hidden_size

    def forward(self, x: torch.Tensor, state: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h, c = state.chunk(2, dim=-1)
        i, f, g, o = (self.x_gates(x) + self.h_gates(h)).chunk(4, dim=-1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        return h, torch.cat([h, c], dim=-1)


class GRUCell(nn.Module):
    """The GRU step written out (PyTorch's equations), for the same reason as :class:`LSTMCell`."""

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        self.x_gates = nn.Linear(input_size, 3 * hidden_size)
        self.h_gates = nn.Linear(hidden_size, 3 * hidden_size)
        self.state_size = hidden_size

    def forward(self, x: torch.Tensor, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        xr, xz, xn = self.x_gates(x).chunk(3, dim=-1)
        hr, hz, hn = self.h_gates(h).chunk(3, dim=-1)
        r, z = torch.sigmoid(xr + hr), torch.sigmoid(xz + hz)
        h = (1 - z) * torch.tanh(xn + r * hn) + z * h
        return h, h


FEEDBACKS = ("learned", "identity")


class UnitCell(nn.Module):
    """An arithmetic unit as a recurrent cell.

    ``feedback="learned"``: h_t = unit([x_t, h_{t-1}]), the cell of stable-nalu's recurrent
    tasks, which must learn to carry its state over (weights of exactly 1 on h_{t-1}).
    ``"identity"``: h_t = h_{t-1} + unit(x_t), a cell that can only accumulate (as the clock of
    :class:`~nalu_rl.agents.cores.LSTMClockCore` does).
    """

    def __init__(self, unit: str, input_size: int, hidden_size: int, feedback: str) -> None:
        super().__init__()
        if feedback not in FEEDBACKS:
            raise ValueError(f"feedback must be one of {', '.join(FEEDBACKS)}, got {feedback!r}")
        self.learned = feedback == "learned"
        self.unit = get_unit(unit)(input_size + hidden_size if self.learned else input_size, hidden_size)
        self.state_size = hidden_size

    def forward(self, x: torch.Tensor, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.unit(torch.cat([x, h], dim=-1)) if self.learned else h + self.unit(x)
        return h, h


class RecurrentNet(nn.Module):
    """Sequences x (N, L, input) -> one prediction each: a cell over the steps, an output layer on its last output.

    ``forward`` returns the predictions and the units' regularisation loss. The LSTM and GRU
    baselines have ``rnn_hidden_size`` units and a linear output; a unit model has
    ``hidden_size`` units in its cell and its second unit as the output layer.
    """

    def __init__(self, spec: str, input_size: int, hidden_size: int, rnn_hidden_size: int, feedback: str) -> None:
        super().__init__()
        first, second = model_layers(spec, recurrent=True)
        if first == "lstm":
            self.cell: nn.Module = LSTMCell(input_size, rnn_hidden_size)
        elif first == "gru":
            self.cell = GRUCell(input_size, rnn_hidden_size)
        else:
            self.cell = UnitCell(first, input_size, hidden_size, feedback)
        width = rnn_hidden_size if first in RNN_BASELINES else hidden_size
        self.out = nn.Linear(width, 1) if second == "linear" else get_unit(second)(width, 1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        state = x.new_zeros(*x.shape[:-2], self.cell.state_size)
        out = state
        for t in range(x.shape[-2]):
            out, state = self.cell(x[..., t, :], state)
        return self.out(out).squeeze(-1), regularization_loss(self)


def stack_networks(nets: list[list[nn.Module]]) -> nn.Module:
    """One module whose parameters are those of a (tasks x seeds) grid of nets, stacked as (T, S, ...)."""
    holder = copy.deepcopy(nets[0][0])
    for name, _ in holder.named_parameters():
        module_name, _, attr = name.rpartition(".")
        stacked = torch.stack([torch.stack([n.get_parameter(name).detach() for n in row]) for row in nets])
        holder.get_submodule(module_name).register_parameter(attr, nn.Parameter(stacked))
    return holder
