"""Recurrent cores, chosen by name in the agent preset (``core = "lstm_nac"``).

A core advances one time step for a batch: ``forward(x, instruction, state) -> (out, state)``,
where ``x`` is the encoded observation (B, input_size) and ``instruction`` the scaled T (B, 1).
Each core decides where T goes. The recurrent state is one (B, state_size) tensor, so callers
reset, store and index it without knowing the core: zeros is the initial state of every core.
:class:`Core` declares everything the learner may call, the clock of the counting cores included.

Cores from outside this package join the registry in one of two ways:

* :func:`register_core` (``nalu_rl.agents.register_core``), called by the code that defines the
  core: a notebook, a test, or the module a preset names in ``core_module``
  (:func:`nalu_rl.agents.config.import_core_module`);
* an entry point of an installed package in the group ``nalu_rl.cores``, ``name = "module:Class"``,
  loaded the first time a core of that name is asked for (as the run kinds are, runs/kinds.py)::

      [project.entry-points."nalu_rl.cores"]
      leaky_gru = "my_cores:LeakyGRUCore"
"""

from __future__ import annotations

import abc
import inspect
import re
from collections.abc import Callable
from importlib.metadata import entry_points

import torch
from torch import nn
from torch.nn import functional as F

from nalu_rl.nn import get_unit

CORES_GROUP = "nalu_rl.cores"
CORES: dict[str, type[Core]] = {}
# A core's name is written into config.json and run folder names, and typed on command lines
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def register_core(name: str, cls: type[Core]) -> type[Core]:
    """Add the :class:`Core` subclass ``cls`` to the registry under ``name``, so presets may say ``core = name``.

    Registering the same class twice under one name is allowed (a module imported again); anything else
    that takes a name already registered is refused, so a run never silently trains another core.

    :param name: the name presets and ``config.json`` use: letters, digits, ``_``, ``.`` and ``-``.
    :param cls: a subclass of :class:`Core` built as ``cls(input_size=, hidden_size=, unit_size=)``.
    :return: ``cls``, so that it can also be used as a class decorator through :func:`register`.
    :raises ValueError: for a malformed name, a ``cls`` that is not a ``Core`` subclass, or a name already taken.
    """
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ValueError(f"name must be letters, digits, '_', '.' or '-' (not starting with the last three), got {name!r}")
    if not (isinstance(cls, type) and issubclass(cls, Core)) or inspect.isabstract(cls):
        raise ValueError(f"cls must be a subclass of nalu_rl.agents.cores.Core with a forward, got {cls!r}")
    if name in CORES and CORES[name] is not cls:
        taken = CORES[name]
        raise ValueError(f"a core named {name!r} is already registered ({taken.__module__}.{taken.__qualname__}); choose another name")
    CORES[name] = cls
    return cls


def register(name: str) -> Callable[[type[Core]], type[Core]]:
    """Class decorator adding a core under ``name``: :func:`register_core` for the class it decorates."""
    return lambda cls: register_core(name, cls)


def core_class(name: str) -> type[Core]:
    """The core registered under ``name``, looking in the ``nalu_rl.cores`` entry points for one not registered yet.

    :raises ValueError: naming the cores known when there is none of that name.
    """
    if not isinstance(name, str):
        raise ValueError(f"a core is named by text, got {name!r}")
    if name not in CORES:
        # An installed package's core: importing it is what installing the package asked for. This is the only import a
        # name read from a run folder's config.json can cause, and only of code already installed.
        for point in entry_points(group=CORES_GROUP, name=name):
            try:
                cls = point.load()
            except (ImportError, AttributeError) as err:
                raise ValueError(f"the {CORES_GROUP} entry point {name} = {point.value!r} does not load: {err}") from err
            register_core(point.name, cls)
    if name not in CORES:
        known = sorted({*CORES, *(point.name for point in entry_points(group=CORES_GROUP))})
        raise ValueError(f"unknown core {name!r}; choose from {', '.join(known)} or register one (docs/GUIDE.md, \"Bring your own core\")")
    return CORES[name]


def build_core(name: str, input_size: int, hidden_size: int, unit_size: int) -> Core:
    """The core registered under ``name`` for encodings of ``input_size``; ValueError naming the choices otherwise."""
    return core_class(name)(input_size=input_size, hidden_size=hidden_size, unit_size=unit_size)


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
    """One recurrent step: ``forward(x, instruction, state) -> (out (B, output_size), state (B, state_size))``."""

    output_size: int
    state_size: int
    counts = False  # True: count(state) is a step counter that AgentConfig.count_coef may train
    has_unit = False  # True: an arithmetic unit whose output AgentConfig.unit_to_heads may pass to the heads
    reads_time_left = False  # True: the LSTM reads a time left that AgentConfig.time_left_cap may cap

    @abc.abstractmethod
    def forward(self, x: torch.Tensor, instruction: torch.Tensor, state: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One time step: the output for the heads and the next state."""

    def count(self, state: torch.Tensor) -> torch.Tensor:
        """The clock (B,) in a state this core returned; only cores with ``counts = True`` have one."""
        raise TypeError(f"{type(self).__name__} has no clock")


@register("lstm")
class LSTMCore(Core):
    """The baseline (paper §4.5): T is "an additional input unit concatenated to the output of the convnet"."""

    def __init__(self, input_size: int, hidden_size: int, unit_size: int) -> None:
        super().__init__()
        self.cell = lstm_cell(input_size + 1, hidden_size)
        self.output_size = hidden_size
        self.state_size = 2 * hidden_size

    def forward(self, x, instruction, state):
        h, c = self.cell(torch.cat([x, instruction], dim=1), state.chunk(2, dim=1))
        return h, torch.cat([h, c], dim=1)


@register("gru")
class GRUCore(Core):
    """A GRU cell over [x, T]; out = state = h."""

    def __init__(self, input_size: int, hidden_size: int, unit_size: int) -> None:
        super().__init__()
        self.cell = nn.GRUCell(input_size + 1, hidden_size)
        self.output_size = self.state_size = hidden_size

    def forward(self, x, instruction, state):
        h = self.cell(torch.cat([x, instruction], dim=1), state)
        return h, h


class LSTMWithUnit(Core):
    """An LSTM over [x, T, u] where u is an arithmetic unit's output; the readings of the paper differ in what u reads.

    ``unit_to_heads`` (set by :class:`~nalu_rl.agents.network.ActorCritic` from the agent
    config) passes [h, u] to the policy and value heads instead of h alone.
    """

    has_unit = True
    unit_name = "nac"

    def __init__(self, input_size: int, hidden_size: int, unit_size: int, unit_inputs: int, recurrent_unit: bool) -> None:
        super().__init__()
        self.cell = lstm_cell(input_size + 1 + unit_size, hidden_size)
        self.unit = get_unit(self.unit_name)(unit_inputs, unit_size)
        self.hidden_size, self.unit_size = hidden_size, unit_size
        # u kept in the state: it is computed from this step's h and read by the next step's LSTM
        self.recurrent_unit = recurrent_unit
        self.sizes = [hidden_size, hidden_size] + ([unit_size] if recurrent_unit else [])
        self.state_size = sum(self.sizes)
        self.unit_to_heads = False

    @property
    def output_size(self) -> int:
        return self.hidden_size + (self.unit_size if self.unit_to_heads else 0)

    def _out(self, h: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        return torch.cat([h, u], dim=1) if self.unit_to_heads else h


@register("lstm_nac")
class LSTMNACCore(LSTMWithUnit):
    """The paper's LSTM + NAC, as we read it: the NAC reads [T, h] and its output enters the LSTM at the next step.

    Trask et al. (2018, §4.5): "the instruction was passed both directly to the LSTM memory and
    passed through an NAC and back into the LSTM." T goes to the LSTM directly (as in the
    baseline) and through a NAC; "back into" the LSTM makes the NAC part of a loop with it,
    so the NAC reads the LSTM's output h beside T and its output returns as LSTM input::

        h, c = LSTM([x, T, u_prev], (h, c))    # u_prev = 0 at the start of an episode
        u    = NAC([T, h])

    The NAC can then form T minus a linear read-out of the LSTM, a difference that stays exact
    past the training range. The other readings are ``lstm_nac_input`` (T alone through the
    NAC) and ``lstm_nac_acc`` (a NAC that also accumulates its own output).
    """

    def __init__(self, input_size: int, hidden_size: int, unit_size: int) -> None:
        super().__init__(input_size, hidden_size, unit_size, unit_inputs=1 + hidden_size, recurrent_unit=True)

    def forward(self, x, instruction, state):
        h, c, u = state.split(self.sizes, dim=1)
        h, c = self.cell(torch.cat([x, instruction, u], dim=1), (h, c))
        u = self.unit(torch.cat([instruction, h], dim=1))
        return self._out(h, u), torch.cat([h, c, u], dim=1)


@register("lstm_nac_input")
class LSTMNACInputCore(LSTMWithUnit):
    """The most literal reading of the paper: T alone passes through a NAC into the LSTM's input.

    ``h, c = LSTM([x, T, NAC(T)], (h, c))``. A NAC of T alone is a scaling w·T with w in [-1, 1],
    so this is the baseline with T entering through a second, bounded weight.
    """

    def __init__(self, input_size: int, hidden_size: int, unit_size: int) -> None:
        super().__init__(input_size, hidden_size, unit_size, unit_inputs=1, recurrent_unit=False)

    def forward(self, x, instruction, state):
        u = self.unit(instruction)
        h, c = self.cell(torch.cat([x, instruction, u], dim=1), state.chunk(2, dim=1))
        return self._out(h, u), torch.cat([h, c], dim=1)


class LSTMAccumulatorCore(LSTMWithUnit):
    """A unit that accumulates: it reads its own previous output, h, T and a constant 1.

    At each step::

        h, c = LSTM([x, T, a_prev], (h, c))
        a    = Unit([a_prev, h, T, 1])   # output i sees a_prev[i] only

    The unit must be linear, y = W x (NAC, NAU). Each output sees its own previous value and
    not the others': a full feedback block, whose entries may reach (-1, 1), can have an
    eigenvalue above 1 and then grows geometrically (it did, on pixels). The NAC and NAU have
    no bias; the constant input lets a = a_prev + 1 be one weight pattern of {-1, 0, 1}.
    """

    def __init__(self, input_size: int, hidden_size: int, unit_size: int) -> None:
        super().__init__(input_size, hidden_size, unit_size, unit_inputs=unit_size + hidden_size + 2, recurrent_unit=True)
        mask = torch.ones(unit_size, unit_size + hidden_size + 2)
        mask[:, :unit_size] = torch.eye(unit_size)
        self.register_buffer("feedback_mask", mask, persistent=False)

    def forward(self, x, instruction, state):
        h, c, a = state.split(self.sizes, dim=1)
        h, c = self.cell(torch.cat([x, instruction, a], dim=1), (h, c))
        weight = self.unit.weight * self.feedback_mask
        a = F.linear(torch.cat([a, h, instruction, torch.ones_like(instruction)], dim=1), weight)
        return self._out(h, a), torch.cat([h, c, a], dim=1)


@register("lstm_nac_acc")
class LSTMNACAccumulatorCore(LSTMAccumulatorCore):
    unit_name = "nac"


@register("lstm_nau")
class LSTMNAUCore(LSTMAccumulatorCore):
    unit_name = "nau"


class LSTMClockCore(Core):
    """An LSTM that reads the time from a clock, an NAU accumulator taught to count (beyond the paper).

    At each step::

        a    = a_prev + NAU(1)           # a_prev = 0 at the start of an episode
        h, c = LSTM([x, T, a], (h, c))   # lstm_clock: T and the clock side by side
        h, c = LSTM([x, T - a], (h, c))  # lstm_countdown: the time left
        h, c = LSTM([x, min(T - a, cap)])  # lstm_countdown with time_left_cap

    ``time_left_cap`` (set by :class:`~nalu_rl.agents.network.ActorCritic` from
    ``AgentConfig.time_left_cap``, in scaled units) keeps the time left the LSTM reads within
    what it saw in training: with T = 1000 it reads the cap until the cap is reached, then counts
    down through values it knows. Uncapped, a time left of hundreds is an input the LSTM never
    saw. The unit's feedback is fixed to the identity, so it can only accumulate, and the auxiliary
    counting loss (``count_coef`` > 0, :func:`nalu_rl.agents.a2c.counting_loss`) trains the
    first output to the number of steps taken, which the agent always knows: reinforcement
    alone does not pull a unit's weights to the exact values a count needs. The clock sees a
    constant only, since a fit w_T·T + w_1 = 1 over a narrow range of T is ill-conditioned.
    Output: h; state: [h, c, a]. docs/FINDINGS.md has the measurements behind each choice.
    """

    counts = True
    time_left_cap: float | None = None

    def __init__(self, input_size: int, hidden_size: int, unit_size: int) -> None:
        super().__init__()
        self.unit = get_unit("nau")(1, unit_size)
        self.cell = lstm_cell(input_size + unit_size if self.reads_time_left else input_size + 1 + unit_size, hidden_size)
        self.sizes = [hidden_size, hidden_size, unit_size]
        self.output_size = hidden_size
        self.state_size = 2 * hidden_size + unit_size

    def forward(self, x, instruction, state):
        h, c, a = state.split(self.sizes, dim=1)
        a = a + self.unit(torch.ones_like(instruction))
        if self.reads_time_left:
            left = instruction - a
            seen = [x, left if self.time_left_cap is None else left.clamp(max=self.time_left_cap)]
        else:
            seen = [x, instruction, a]
        h, c = self.cell(torch.cat(seen, dim=1), (h, c))
        return h, torch.cat([h, c, a], dim=1)

    def count(self, state: torch.Tensor) -> torch.Tensor:
        return state[:, 2 * self.sizes[0]]


@register("lstm_clock")
class LSTMClock(LSTMClockCore):
    reads_time_left = False


@register("lstm_countdown")
class LSTMCountdown(LSTMClockCore):
    reads_time_left = True
