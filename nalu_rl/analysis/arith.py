"""The static arithmetic benchmark: Trask et al. (2018) Table 1, measured also the stricter later way.

Task. An input vector x of ``input_size`` numbers is drawn uniformly from a range; a and b are
sums of two overlapping slices of it (slice length ``subset_ratio * input_size``, overlap
``overlap_ratio`` of a slice, positions drawn per seed), and the target is one of a + b, a - b,
a * b, a / b, a^2, sqrt(a). Models train on the interpolation range and are tested on the
extrapolation range. Each model is two layers, ``input_size -> hidden_size -> 1``: a unit pair
such as NAU -> NMU, or an MLP baseline (linear, ReLU6 or Tanh hidden layer, linear output).

Two metrics, side by side:

- the paper's: test MSE divided by the MSE of the same model at initialisation, x100
  (0 is perfect, 100 is no better than random), median over seeds;
- success (Madsen & Johansen, 2019/2020): the extrapolation MSE is below that of an
  epsilon-perfect solution, whose first layer has weights 1 - eps on the slices and eps
  elsewhere (eps = 1e-5), with a 95% Wilson interval over seeds. The model is taken at the
  evaluation with the lowest interpolation error among the last 100, as in stable-nalu.

All seeds of all tasks of one model train at once as a grid of independent networks
(``torch.func.vmap``): the losses are summed, so each network's gradient is its own and Adam,
being elementwise, updates it exactly as if it were trained alone.
"""

from __future__ import annotations

import copy
import json
import math
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from statistics import median
from typing import TYPE_CHECKING

import torch
from torch import nn
from torch.func import functional_call, vmap
from tqdm import tqdm

from nalu_rl.analysis.stats import wilson_interval
from nalu_rl.nn import UNITS, clip_weights_, get_unit, regularization_loss, sparsity_weight

if TYPE_CHECKING:
    from torch.utils.tensorboard import SummaryWriter

TASKS: dict[str, tuple[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]]] = {
    "add": ("a + b", lambda a, b: a + b),
    "sub": ("a - b", lambda a, b: a - b),
    "mul": ("a * b", lambda a, b: a * b),
    "div": ("a / b", lambda a, b: a / b),
    "squared": ("a^2", lambda a, b: a * a),
    "root": ("sqrt(a)", lambda a, b: torch.sqrt(a)),
}

ACTIVATIONS: dict[str, type[nn.Module]] = {"linear": nn.Identity, "relu6": nn.ReLU6, "tanh": nn.Tanh}

DEFAULT_MODELS = ("linear", "relu6", "tanh", "nac", "nalu", "nau", "nau-nmu")

BEST_OF_LAST = 100  # evaluations considered for model selection (stable-nalu's best.range)


@dataclass(frozen=True)
class ArithConfig:
    """Everything that defines a run; the defaults are the quick CPU run, see the CLI for the full protocol."""

    tasks: tuple[str, ...] = tuple(TASKS)
    models: tuple[str, ...] = DEFAULT_MODELS
    seeds: int = 3
    steps: int = 8_000
    batch_size: int = 128
    learning_rate: float = 1e-3
    input_size: int = 100
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
        for name in self.tasks:
            if name not in TASKS:
                raise ValueError(f"unknown task {name!r}; choose from {', '.join(TASKS)}")
        if not self.tasks or not self.models:
            raise ValueError("tasks and models must not be empty")
        for spec in self.models:
            model_layers(spec)
        positive = ("seeds", "steps", "batch_size", "input_size", "hidden_size", "eval_every", "test_size")
        for name in positive:
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
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

    def slice_sizes(self) -> tuple[int, int]:
        """(slice length, overlap length), floored as in the reference implementation."""
        subset_size = math.floor(self.subset_ratio * self.input_size)
        return subset_size, math.floor(self.overlap_ratio * subset_size)


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


@dataclass
class _Data:
    """Slice masks per seed and the fixed test sets; training batches are drawn on demand."""

    a_mask: torch.Tensor  # (S, input_size)
    b_mask: torch.Tensor
    x_interpolation: torch.Tensor  # (S, test_size, input_size)
    x_extrapolation: torch.Tensor
    generator: torch.Generator = field(repr=False)


def _make_data(cfg: ArithConfig) -> _Data:
    gen = torch.Generator().manual_seed(cfg.seed)
    subset_size, overlap = cfg.slice_sizes()
    span = 2 * subset_size - overlap
    a_mask = torch.zeros(cfg.seeds, cfg.input_size)
    b_mask = torch.zeros(cfg.seeds, cfg.input_size)
    for s in range(cfg.seeds):
        a_start = int(torch.randint(0, cfg.input_size - span + 1, (1,), generator=gen))
        b_start = a_start + subset_size - overlap
        a_mask[s, a_start : a_start + subset_size] = 1.0
        b_mask[s, b_start : b_start + subset_size] = 1.0

    def sample(rng: tuple[float, float], n: int) -> torch.Tensor:
        return torch.empty(cfg.seeds, n, cfg.input_size).uniform_(*rng, generator=gen)

    return _Data(
        a_mask, b_mask, sample(cfg.interpolation, cfg.test_size), sample(cfg.extrapolation, cfg.test_size), gen
    )


def _targets(tasks: Sequence[str], a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return torch.stack([TASKS[t][1](a, b) for t in tasks])


def _slice_sums(x: torch.Tensor, a_mask: torch.Tensor, b_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """a and b for inputs x (S, N, in) and per-seed slice masks (S, in)."""
    return (x * a_mask[:, None].to(x.dtype)).sum(-1), (x * b_mask[:, None].to(x.dtype)).sum(-1)


def epsilon_thresholds(cfg: ArithConfig, data: _Data) -> torch.Tensor:
    """MSE of the epsilon-perfect solution on the extrapolation set, per (task, seed), in float64.

    Its first layer has weight 1 - eps on each slice and eps elsewhere; the operation is exact.
    """
    x = data.x_extrapolation.double()
    a, b = _slice_sums(x, data.a_mask, data.b_mask)
    total = x.sum(-1)
    eps = cfg.epsilon
    a_eps = (1 - eps) * a + eps * (total - a)
    b_eps = (1 - eps) * b + eps * (total - b)
    return ((_targets(cfg.tasks, a_eps, b_eps) - _targets(cfg.tasks, a, b)) ** 2).mean(-1)


def _stack(nets: list[list[nn.Module]]) -> nn.Module:
    """One module whose parameters are those of a (tasks x seeds) grid of nets, stacked as (T, S, ...)."""
    holder = copy.deepcopy(nets[0][0])
    for name, _ in holder.named_parameters():
        module_name, _, attr = name.rpartition(".")
        stacked = torch.stack([torch.stack([n.get_parameter(name).detach() for n in row]) for row in nets])
        holder.get_submodule(module_name).register_parameter(attr, nn.Parameter(stacked))
    return holder


def _mse(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    # float64: success thresholds go down to ~1e-8 (a - b), so keep float32 rounding out of the comparison
    return ((pred.double() - target) ** 2).mean(-1)


def _finite(v: float) -> float | None:
    return v if math.isfinite(v) else None


def _train_model(
    spec: str, cfg: ArithConfig, data: _Data, writer: SummaryWriter | None, bar: tqdm | None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Train all (task, seed) networks of one model.

    Returns the evaluation steps and the interpolation and extrapolation MSE, each (E, T, S).
    """
    nets = []
    with torch.random.fork_rng():
        for _ in cfg.tasks:
            nets.append([])
            for s in range(cfg.seeds):
                torch.manual_seed(cfg.seed * 1_000_003 + s)  # same init for a seed across tasks
                nets[-1].append(StaticNet(spec, cfg.input_size, cfg.hidden_size))
    stacked = _stack(nets)
    params = dict(stacked.named_parameters())
    # inner vmap over seeds (own inputs), outer over tasks (the seed's inputs are shared, so
    # input-sized work such as the NALU's log|x| is done once, not once per task)
    forward = vmap(vmap(lambda p, x: functional_call(stacked, p, (x,))), in_dims=(0, None))
    optimizer = torch.optim.Adam(stacked.parameters(), lr=cfg.learning_rate)

    test_sets = {}
    for name, x in (("interpolation", data.x_interpolation), ("extrapolation", data.x_extrapolation)):
        test_sets[name] = (x, _targets(cfg.tasks, *_slice_sums(x.double(), data.a_mask, data.b_mask)))

    start, end = (round(f * cfg.steps) for f in cfg.warmup)
    steps, errors = [], {"interpolation": [], "extrapolation": []}
    train_mse = None
    for step in range(cfg.steps + 1):
        if step % cfg.eval_every == 0 or step == cfg.steps:
            with torch.no_grad():
                steps.append(step)
                for name, (x, t) in test_sets.items():
                    pred, _ = forward(params, x)
                    errors[name].append(_mse(pred, t))
            if writer is not None:
                for ti, task in enumerate(cfg.tasks):
                    for name in errors:
                        writer.add_scalar(f"{task}/{spec}/mse_{name}", _nan_median(errors[name][-1][ti]), step)
                    if train_mse is not None:
                        writer.add_scalar(f"{task}/{spec}/mse_train", _nan_median(train_mse[ti]), step)
        if step == cfg.steps:
            break
        x = torch.empty(cfg.seeds, cfg.batch_size, cfg.input_size)
        x.uniform_(*cfg.interpolation, generator=data.generator)
        target = _targets(cfg.tasks, *_slice_sums(x, data.a_mask, data.b_mask))
        pred, reg = forward(params, x)
        mse = ((pred - target) ** 2).mean(-1)
        loss = mse.sum() + sparsity_weight(step, start, end, cfg.sparsity) * reg.sum()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        clip_weights_(stacked)
        train_mse = mse.detach()
        if bar is not None:
            bar.update(1)
    return torch.tensor(steps), torch.stack(errors["interpolation"]), torch.stack(errors["extrapolation"])


def _diverged_as_inf(v: torch.Tensor) -> torch.Tensor:
    # NaN (a diverged network) counts as +inf: it is a worse error, not a missing one
    return torch.nan_to_num(v.double(), nan=math.inf, posinf=math.inf)


def _nan_median(v: torch.Tensor) -> float:
    return float(_diverged_as_inf(v).median())


def _summarise(
    task_index: int, spec: str, cfg: ArithConfig, steps: torch.Tensor, inter: torch.Tensor, extra: torch.Tensor,
    threshold: torch.Tensor,
) -> dict:
    per_seed = []
    window = max(0, len(steps) - BEST_OF_LAST)
    for s in range(cfg.seeds):
        inter_s = _diverged_as_inf(inter[:, task_index, s])
        extra_s = _diverged_as_inf(extra[:, task_index, s])
        best = window + int(torch.argmin(inter_s[window:]))
        thr = float(threshold[task_index, s])
        below = torch.nonzero(extra_s < thr)
        ratio = {}
        for name, err in (("interpolation", inter_s), ("extrapolation", extra_s)):
            init = float(err[0])
            ratio[name] = 100.0 * float(err[best]) / init if init > 0 and math.isfinite(init) else math.inf
        per_seed.append({
            "seed": s,
            "best_step": int(steps[best]),
            "mse_interpolation": _finite(float(inter_s[best])),
            "mse_extrapolation": _finite(float(extra_s[best])),
            "init_mse_interpolation": _finite(float(inter_s[0])),
            "init_mse_extrapolation": _finite(float(extra_s[0])),
            "error_x100_interpolation": _finite(ratio["interpolation"]),
            "error_x100_extrapolation": _finite(ratio["extrapolation"]),
            "threshold": thr,
            "success": bool(extra_s[best] < thr),
            "solved_at": int(steps[below[0, 0]]) if len(below) else None,
        })
    wins = sum(r["success"] for r in per_seed)
    lo, hi = wilson_interval(wins, cfg.seeds)

    def med(key: str) -> float | None:
        values = [math.inf if r[key] is None else r[key] for r in per_seed]
        return _finite(median(values))

    return {
        "task": cfg.tasks[task_index],
        "model": spec,
        "error_x100_interpolation": med("error_x100_interpolation"),
        "error_x100_extrapolation": med("error_x100_extrapolation"),
        "successes": wins,
        "seeds": cfg.seeds,
        "success_rate": wins / cfg.seeds,
        "success_ci95": [lo, hi],
        "per_seed": per_seed,
    }


@contextmanager
def _cpu_settings() -> Iterator[None]:
    """One intra-op thread and subnormal floats flushed to zero while training; restored afterwards.

    The networks are tiny, so intra-op threads only add synchronisation (on a shared 2-core CPU
    they made a step several times slower). Saturated NAC and NALU weights drive Adam's second
    moments into subnormal floats, which x86 CPUs process many times slower.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.set_flush_denormal(True)
    try:
        yield
    finally:
        torch.set_flush_denormal(False)  # torch's default; it offers no getter to restore from
        torch.set_num_threads(threads)


def run_benchmark(cfg: ArithConfig, writer: SummaryWriter | None = None, progress: bool = True) -> dict:
    """Train every model on every task for every seed; returns the JSON-ready report.

    ``writer`` is an optional TensorBoard ``SummaryWriter``: per task and model it receives the
    median over seeds of the interpolation and extrapolation MSE at each evaluation.
    """
    t0 = time.perf_counter()
    data = _make_data(cfg)
    threshold = epsilon_thresholds(cfg, data)
    results = []
    with _cpu_settings(), tqdm(
        total=cfg.steps * len(cfg.models), disable=not progress, unit="step", dynamic_ncols=True
    ) as bar:
        for spec in cfg.models:
            bar.set_description(spec)
            steps, inter, extra = _train_model(spec, cfg, data, writer, bar if progress else None)
            results += [_summarise(i, spec, cfg, steps, inter, extra, threshold) for i in range(len(cfg.tasks))]
    return {
        "config": asdict(cfg),
        "results": results,
        "elapsed_s": round(time.perf_counter() - t0, 1),
    }


def _cell_ratio(v: float | None) -> str:
    if v is None:
        return "inf"
    return f"{v:.1f}" if v < 1000 else f"{v:.1e}"


def _cell_success(r: dict) -> str:
    lo, hi = r["success_ci95"]
    return f"{r['successes']}/{r['seeds']} ({100 * lo:.0f}-{100 * hi:.0f}%)"


def format_table(report: dict) -> str:
    """The printed table: tasks as rows, models as columns, the paper's metric then success rates."""
    cfg = report["config"]
    by_key = {(r["task"], r["model"]): r for r in report["results"]}
    models, tasks = cfg["models"], cfg["tasks"]
    labels = [TASKS[t][0] for t in tasks]
    first = max(len(s) for s in labels + ["Extrapolation"]) + 2

    def block(title: str, cell: Callable[[dict], str]) -> list[str]:
        rows = [[cell(by_key[(t, m)]) for m in models] for t in tasks]
        widths = [max(len(m), *(len(row[j]) for row in rows)) + 2 for j, m in enumerate(models)]
        lines = [title.ljust(first) + "".join(m.rjust(w) for m, w in zip(models, widths))]
        lines += [lab.ljust(first) + "".join(c.rjust(w) for c, w in zip(row, widths)) for lab, row in zip(labels, rows)]
        return lines

    i_lo, i_hi = cfg["interpolation"]
    e_lo, e_hi = cfg["extrapolation"]
    out = [
        f"Static arithmetic task: {cfg['seeds']} seeds x {cfg['steps']} steps, input size {cfg['input_size']}, "
        f"train U[{i_lo:g},{i_hi:g}], extrapolate U[{e_lo:g},{e_hi:g}]",
        "",
        "Paper metric (Trask et al. Table 1): MSE / MSE of the model at initialisation x100, median over seeds "
        "(0 = perfect, 100 = random)",
    ]
    out += block("Interpolation", lambda r: _cell_ratio(r["error_x100_interpolation"]))
    out += [""]
    out += block("Extrapolation", lambda r: _cell_ratio(r["error_x100_extrapolation"]))
    out += [
        "",
        "Success rate (Madsen & Johansen): extrapolation MSE below an eps-perfect solution's "
        f"(eps = {cfg['epsilon']:g}), 95% Wilson interval",
    ]
    out += block("Success", _cell_success)
    return "\n".join(out)


def write_report(report: dict, out_dir: Path) -> Path:
    """Write ``arith.json`` into ``out_dir`` (created if needed); returns its path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "arith.json"
    path.write_text(json.dumps(report, indent=2, allow_nan=False) + "\n")
    return path
