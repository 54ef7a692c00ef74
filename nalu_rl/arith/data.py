"""The tasks and data of the arithmetic benchmark: its configuration, inputs, targets and success thresholds."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch

from nalu_rl.arith.models import DEFAULT_MODELS, FEEDBACKS, RECURRENT_MODELS, model_layers
from nalu_rl.common.checks import check_int

TASKS: dict[str, tuple[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]]] = {
    "add": ("a + b", lambda a, b: a + b),
    "sub": ("a - b", lambda a, b: a - b),
    "mul": ("a * b", lambda a, b: a * b),
    "div": ("a / b", lambda a, b: a / b),
    "squared": ("a^2", lambda a, b: a * a),
    "root": ("sqrt(a)", lambda a, b: torch.sqrt(a)),
}


# The settings whose default depends on the task: the recurrent task's quick run steps through
# sequences, so it trains fewer steps on shorter input vectors, at a rate the LSTM baseline needs.
TASK_DEFAULTS: dict[str, dict[str, object]] = {
    "static": {"models": DEFAULT_MODELS, "steps": 8_000, "learning_rate": 1e-3, "input_size": 100},
    "recurrent": {"models": RECURRENT_MODELS, "steps": 3_000, "learning_rate": 1e-2, "input_size": 10},
}


# A list of seeds runs each seed s on the slices it has among seeds 0..s, so make_data draws those of every seed
# below the largest: the list's seeds stay below this bound.
MAX_SEED_ID = 100_000


@dataclass(frozen=True)
class ArithConfig:
    """Everything that defines a run; the defaults are the quick CPU run, see the CLI for the full protocol.

    ``recurrent``: the paper's recurrent task. x is then a sequence of ``length`` input vectors
    (``extrapolation_length`` in the extrapolation test), a and b sum the same slices over every
    step, and the models are recurrent (``models`` defaults to :data:`RECURRENT_MODELS`).
    """

    tasks: tuple[str, ...] = tuple(TASKS)
    models: tuple[str, ...] | None = None  # None here and below: the task's own default (TASK_DEFAULTS)
    recurrent: bool = False
    length: int = 10  # recurrent: steps of a training and interpolation sequence
    extrapolation_length: int = 100  # recurrent: steps of an extrapolation sequence
    rnn_hidden_size: int = 32  # recurrent: units of the LSTM and GRU baselines
    feedback: str = "identity"  # recurrent unit cells: "identity" (h + unit(x_t)) or "learned" (unit over [x_t, h])
    seeds: int | tuple[int, ...] = 3  # a count N (seeds 0..N-1) or the seeds themselves
    steps: int | None = None
    batch_size: int = 128
    learning_rate: float | None = None
    input_size: int | None = None
    subset_ratio: float = 0.25
    overlap_ratio: float = 0.5
    hidden_size: int = 2
    interpolation: tuple[float, float] = (1.0, 2.0)
    extrapolation: tuple[float, float] = (2.0, 6.0)
    sparsity: float = 10.0
    warmup: tuple[float, float] = (0.4, 0.7)
    eval_every: int = 500
    test_size: int = 1000
    epsilon: float = 1e-5
    seed: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.recurrent, bool):
            raise ValueError(f"recurrent must be true or false, got {self.recurrent!r}")
        if self.feedback not in FEEDBACKS:
            raise ValueError(f"feedback must be one of {', '.join(FEEDBACKS)}, got {self.feedback!r}")
        for name, value in TASK_DEFAULTS["recurrent" if self.recurrent else "static"].items():
            if getattr(self, name) is None:
                object.__setattr__(self, name, value)
        for name in self.tasks:
            if name not in TASKS:
                raise ValueError(f"unknown task {name!r}; choose from {', '.join(TASKS)}")
        if not self.tasks or not self.models:
            raise ValueError("tasks and models must not be empty")
        for spec in self.models:
            model_layers(spec, self.recurrent)
        if isinstance(self.seeds, int):
            check_int("seeds", self.seeds)
        else:
            object.__setattr__(self, "seeds", tuple(check_int("seed", s) for s in self.seeds))
            check_int("seeds", len(self.seeds))
            if len(set(self.seeds)) != len(self.seeds):
                raise ValueError(f"seeds must not repeat, got {self.seeds}")
            if max(self.seeds) >= MAX_SEED_ID:  # seed s's slices are the s-th drawn from --seed: each below it is drawn
                raise ValueError(f"seeds must be below {MAX_SEED_ID:,} here, got {max(self.seeds)}")
        counts = ("seed", "steps", "batch_size", "input_size", "hidden_size", "eval_every", "test_size",
                  "length", "extrapolation_length", "rnn_hidden_size")  # fmt: skip
        for name in counts:  # the bounds every command and the Python API share
            check_int(name, getattr(self, name))
        if self.learning_rate <= 0:
            raise ValueError(f"learning_rate must be positive, got {self.learning_rate}")
        if self.sparsity < 0:
            raise ValueError(f"sparsity must be >= 0, got {self.sparsity}")
        if not 0 < self.epsilon < 0.5:
            raise ValueError(f"epsilon must be in (0, 0.5), got {self.epsilon}")
        for name in ("interpolation", "extrapolation"):
            lo, hi = getattr(self, name)
            if not lo < hi:
                raise ValueError(f"{name} range must satisfy low < high, got {lo}, {hi}")
            if lo <= 0 and {"div", "root"} & set(self.tasks):
                raise ValueError(f"{name} range must be positive for the div and root tasks, got {lo}, {hi}")
        start, end = self.warmup
        if not 0 <= start <= end <= 1:
            raise ValueError(f"warmup must satisfy 0 <= start <= end <= 1 (fractions of steps), got {start}, {end}")
        if not (0 < self.subset_ratio <= 1 and 0 <= self.overlap_ratio <= 1):
            raise ValueError("subset_ratio must be in (0, 1] and overlap_ratio in [0, 1]")
        subset_size, overlap = self.slice_sizes()
        if subset_size < 1 or 2 * subset_size - overlap > self.input_size:
            raise ValueError(
                f"subset_ratio {self.subset_ratio} and overlap_ratio {self.overlap_ratio} do not give two "
                f"non-empty slices that fit in input_size {self.input_size}"
            )

    @property
    def seed_ids(self) -> tuple[int, ...]:
        """The seeds trained: 0..N-1 for a count N, else the ones given."""
        return tuple(range(self.seeds)) if isinstance(self.seeds, int) else self.seeds

    def steps_of(self, test: str) -> tuple[int, ...]:
        """The sequence dimension of the ``"train"``, ``"interpolation"`` or ``"extrapolation"`` inputs: () when static."""
        if not self.recurrent:
            return ()
        return (self.extrapolation_length if test == "extrapolation" else self.length,)

    @property
    def tag_prefix(self) -> str:
        """What TensorBoard tags start with, so that a static and a recurrent run can share one folder."""
        return "recurrent/" if self.recurrent else ""

    def slice_sizes(self) -> tuple[int, int]:
        """(slice length, overlap length), floored as in the reference implementation."""
        subset_size = math.floor(self.subset_ratio * self.input_size)
        return subset_size, math.floor(self.overlap_ratio * subset_size)


@dataclass
class ArithData:
    """Slice masks per seed and the fixed test sets; training batches are drawn on demand."""

    a_mask: torch.Tensor  # (S, input_size)
    b_mask: torch.Tensor
    x_interpolation: torch.Tensor  # (S, test_size, input_size), or (S, test_size, steps, input_size) when recurrent
    x_extrapolation: torch.Tensor
    generator: torch.Generator = field(repr=False)


def make_data(cfg: ArithConfig) -> ArithData:
    """Slice positions drawn per seed and the two test sets, all from ``cfg.seed``."""
    gen = torch.Generator().manual_seed(cfg.seed)
    subset_size, overlap = cfg.slice_sizes()
    span = 2 * subset_size - overlap
    ids = cfg.seed_ids
    starts = [int(torch.randint(0, cfg.input_size - span + 1, (1,), generator=gen)) for _ in range(max(ids) + 1)]
    a_mask = torch.zeros(len(ids), cfg.input_size)
    b_mask = torch.zeros(len(ids), cfg.input_size)
    for row, s in enumerate(ids):  # seed s has the same slices whichever seeds run beside it
        a_start = starts[s]
        b_start = a_start + subset_size - overlap
        a_mask[row, a_start : a_start + subset_size] = 1.0
        b_mask[row, b_start : b_start + subset_size] = 1.0

    def sample(test: str, rng: tuple[float, float]) -> torch.Tensor:
        shape = (len(cfg.seed_ids), cfg.test_size, *cfg.steps_of(test), cfg.input_size)
        return torch.empty(shape).uniform_(*rng, generator=gen)

    return ArithData(
        a_mask, b_mask, sample("interpolation", cfg.interpolation), sample("extrapolation", cfg.extrapolation), gen
    )


def targets(tasks: Sequence[str], a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """The target of every task for operands a and b, stacked along a new first (task) dimension."""
    return torch.stack([TASKS[t][1](a, b) for t in tasks])


def slice_sums(x: torch.Tensor, a_mask: torch.Tensor, b_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """a and b (S, N) for inputs x (S, N, in), or sequences (S, N, steps, in), and per-seed slice masks (S, in)."""
    return _sum(x, a_mask), _sum(x, b_mask)


def _sum(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Per sample, the sum of x over the entries ``mask`` selects (every step of a sequence)."""
    mask = mask.to(x.dtype).view(mask.shape[0], *[1] * (x.dim() - 2), mask.shape[1])
    return (x * mask).flatten(2).sum(-1)


def epsilon_thresholds(cfg: ArithConfig, data: ArithData) -> torch.Tensor:
    """MSE of the epsilon-perfect solution on the extrapolation set, per (task, seed), in float64.

    Its first layer has weight 1 - eps on each slice and eps elsewhere; the operation is exact.
    """
    x = data.x_extrapolation.double()
    a, b = slice_sums(x, data.a_mask, data.b_mask)
    total = x.flatten(2).sum(-1)
    eps = cfg.epsilon
    a_eps = (1 - eps) * a + eps * (total - a)
    b_eps = (1 - eps) * b + eps * (total - b)
    return ((targets(cfg.tasks, a_eps, b_eps) - targets(cfg.tasks, a, b)) ** 2).mean(-1)
