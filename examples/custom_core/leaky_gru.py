"""A core of one's own: a GRU over [x, T] beside a learned leaky integrator that may count steps.

The integrator keeps k traces, m_t = a ⊙ m_{t-1} + (1 - a) ⊙ 1 with a = sigmoid(w) in (0, 1): a trace near
a = 1 rises slowly and smoothly with elapsed time, which the GRU reads beside T. Importing this module registers
the core as ``leaky_gru``; the preset beside it names the module in ``core_module``.
"""

import torch
from torch import nn

from nalu_rl.agents import Core, register_core


class LeakyGRUCore(Core):
    """h = GRU([x, T, m_prev], h); m = a ⊙ m_prev + (1 - a); out = h, state = [h, m]."""

    def __init__(self, input_size: int, hidden_size: int, unit_size: int) -> None:
        super().__init__()
        self.cell = nn.GRUCell(input_size + 1 + unit_size, hidden_size)
        # a = sigmoid(w) spread from 0.5 to 0.95: fast and slow traces of the time elapsed
        self.leak = nn.Parameter(torch.linspace(0.0, 3.0, unit_size))
        self.sizes = [hidden_size, unit_size]
        self.output_size = hidden_size
        self.state_size = hidden_size + unit_size

    def forward(self, x, instruction, state):
        h, m = state.split(self.sizes, dim=1)
        h = self.cell(torch.cat([x, instruction, m], dim=1), h)
        a = torch.sigmoid(self.leak)
        m = a * m + (1 - a)
        return h, torch.cat([h, m], dim=1)


register_core("leaky_gru", LeakyGRUCore)
