"""Recurrent cores, chosen by name in the agent preset (``core = "lstm_nac"``).

A core advances one time step for a batch: ``forward(x, instruction, state) -> (out, state)``.
``x`` is the encoded observation with the scaled instruction already concatenated;
``instruction`` is that scaled instruction alone (B, 1), for cores that route it elsewhere too.
The recurrent state is one (B, state_size) tensor, so callers reset, store and index it
without knowing the core: zeros is the initial state of every core here.
"""

from __future__ import annotations

import abc
from collections.abc import Callable

import torch
from torch import nn
from torch.nn import functional as F

from nalu_rl.nn import get_unit

CORES: dict[str, Callable[..., Core]] = {}


def register(name: str) -> Callable:
    def add(factory: Callable[..., Core]) -> Callable[..., Core]:
        CORES[name] = factory
        return factory

    return add


def build_core(name: str, input_size: int, hidden_size: int, unit_size: int) -> Core:
    """The core registered under ``name``; ValueError naming the choices otherwise."""
    if name not in CORES:
        raise ValueError(f"unknown core {name!r}; choose from {', '.join(sorted(CORES))}")
    return CORES[name](input_size=input_size, hidden_size=hidden_size, unit_size=unit_size)


def lstm_cell(input_size: int, hidden_size: int) -> nn.LSTMCell:
    """An LSTM cell whose forget gates start open (bias 1), so state is kept by default.

    Counting time is remembering: with the forget gate near 1 the cell state can accumulate
    from the first update on (Gers et al., 2000; Jozefowicz et al., 2015).
    """
    cell = nn.LSTMCell(input_size, hidden_size)
    with torch.no_grad():
        for bias in (cell.bias_ih, cell.bias_hh):  # gate order: input, forget, cell, output
            bias[hidden_size : 2 * hidden_size] = 0.5  # 0.5 + 0.5: a forget-gate bias of 1 in total
    return cell


class Core(nn.Module, abc.ABC):
    output_size: int
    state_size: int
    counts = False  # True: count(state) is a step counter that AgentConfig.count_coef may train

    @abc.abstractmethod
    def forward(self, x: torch.Tensor, instruction: torch.Tensor, state: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(out (B, output_size), next state (B, state_size))`` for one time step."""


@register("lstm")
class LSTMCore(Core):
    """The baseline: an LSTM cell; out = h, state = [h, c]."""

    def __init__(self, input_size: int, hidden_size: int, unit_size: int) -> None:
        super().__init__()
        self.cell = lstm_cell(input_size, hidden_size)
        self.hidden_size = hidden_size
        self.output_size = hidden_size
        self.state_size = 2 * hidden_size

    def forward(self, x, instruction, state):
        h, c = self.cell(x, state.chunk(2, dim=1))
        return h, torch.cat([h, c], dim=1)


@register("gru")
class GRUCore(Core):
    """A GRU cell; out = state = h."""

    def __init__(self, input_size: int, hidden_size: int, unit_size: int) -> None:
        super().__init__()
        self.cell = nn.GRUCell(input_size, hidden_size)
        self.output_size = self.state_size = hidden_size

    def forward(self, x, instruction, state):
        h = self.cell(x, state)
        return h, h


class LSTMUnitCore(Core):
    """An LSTM whose input is augmented with an arithmetic unit's previous output (the paper's LSTM+NAC).

    At each step::

        h, c = LSTM([x, a_prev], (h, c))
        a    = Unit([a_prev, h, instruction, 1])   # output i sees a_prev[i] only

    The unit sees its own previous output, so it can accumulate, and the instruction, so it
    can start from T or compare with it. Its output goes back into the LSTM at the next step
    and, with h, to the policy and value heads, so a linear readout of the count is available
    to the decision. The unit must be linear, y = W x (NAC, NAU).

    Each output sees its own previous value and not the others': with the full feedback
    block, whose entries may reach (-1, 1), lstm_nac on pixels learned an eigenvalue of 2.7
    and its output grew geometrically until the loss overflowed (0.47M frames). On the grid,
    seeds 0-2, horizon_90 was 13 [13-14] with the diagonal and 14 [13-14] with the full block.

    The constant input 1 is our addition to the paper's description. The NAC and NAU have no
    bias, so without it the only way to add a fixed amount per step is through an LSTM unit
    held near saturation, and |h| < 1 is never exactly constant: such a count drifts by an
    amount that grows with t. With the constant, a = a_prev + 1 is one weight pattern of
    {-1, 0, 1}, the unit's natural solution.
    """

    unit_name: str

    def __init__(self, input_size: int, hidden_size: int, unit_size: int) -> None:
        super().__init__()
        self.cell = lstm_cell(input_size + unit_size, hidden_size)
        self.unit = get_unit(self.unit_name)(unit_size + hidden_size + 2, unit_size)
        # output i sees a_prev[i] only (see above)
        mask = torch.ones(unit_size, unit_size + hidden_size + 2)
        mask[:, :unit_size] = torch.eye(unit_size)
        self.register_buffer("feedback_mask", mask, persistent=False)
        self.sizes = [hidden_size, hidden_size, unit_size]
        self.output_size = hidden_size + unit_size
        self.state_size = 2 * hidden_size + unit_size

    def forward(self, x, instruction, state):
        h, c, a = state.split(self.sizes, dim=1)
        h, c = self.cell(torch.cat([x, a], dim=1), (h, c))
        weight = self.unit.weight * self.feedback_mask
        a = F.linear(torch.cat([a, h, instruction, torch.ones_like(instruction)], dim=1), weight)
        return torch.cat([h, a], dim=1), torch.cat([h, c, a], dim=1)


@register("lstm_nac")
class LSTMNACCore(LSTMUnitCore):
    unit_name = "nac"


@register("lstm_nau")
class LSTMNAUCore(LSTMUnitCore):
    unit_name = "nau"


class LSTMClockCore(Core):
    """An LSTM that reads the time from a clock, an NAU accumulator taught to count (beyond the paper).

    At each step::

        a    = a_prev + NAU(1)           # a_prev = 0 at the start of an episode
        h, c = LSTM([x, T, a], (h, c))   # lstm_clock: T and the clock side by side
        h, c = LSTM([x, T - a], (h, c))  # lstm_countdown: the time left

    Why: in the paper's LSTM+NAC (``lstm_nac``) the LSTM does the counting, and its count
    saturates past the training range as the plain LSTM's does; reinforcement alone does not
    pull a unit's weights to the exact values a count needs (``lstm_countdown`` trained with
    ``count_coef = 0`` reached horizon_90 13). Here the unit's feedback is fixed to the
    identity, so it can only accumulate (a learned feedback matrix trained to count found
    [[1, -1], [-1, 1]], eigenvalue 2, and blew up), and the auxiliary counting loss
    (``count_coef`` > 0, :func:`nalu_rl.agents.a2c.counting_loss`) trains the first output
    to the number of steps taken; the NAU reaches the exact weight 1. The clock sees a
    constant only: given [T, 1], the fit w_T T + w_1 = 1 over T in 5..12 is ill-conditioned, and
    one seed settled on w = (0.004, 0.966), a clock 6% fast at T = 26 (horizon_90 17 instead of 30).
    Output: h; state: [h, c, a].
    """

    counts = True
    countdown: bool

    def __init__(self, input_size: int, hidden_size: int, unit_size: int) -> None:
        super().__init__()
        self.unit = get_unit("nau")(1, unit_size)
        # x ends with T; the countdown LSTM gets T - a in its place
        self.cell = lstm_cell(input_size - 1 + unit_size if self.countdown else input_size + unit_size, hidden_size)
        self.sizes = [hidden_size, hidden_size, unit_size]
        self.output_size = hidden_size
        self.state_size = 2 * hidden_size + unit_size

    def forward(self, x, instruction, state):
        h, c, a = state.split(self.sizes, dim=1)
        a = a + self.unit(torch.ones_like(instruction))
        seen = [x[:, :-1], instruction - a] if self.countdown else [x, a]
        h, c = self.cell(torch.cat(seen, dim=1), (h, c))
        return h, torch.cat([h, c, a], dim=1)

    def count(self, state: torch.Tensor) -> torch.Tensor:
        """The clock's first output (B,) in a state this core returned."""
        return state[:, 2 * self.sizes[0]]


@register("lstm_clock")
class LSTMClock(LSTMClockCore):
    countdown = False


@register("lstm_countdown")
class LSTMCountdown(LSTMClockCore):
    countdown = True
