"""The static arithmetic benchmark: Trask et al. (2018) Table 1, measured also the stricter later way.

Task. An input vector x of ``input_size`` numbers is drawn uniformly from a range; a and b are
sums of two overlapping slices of it (slice length ``subset_ratio * input_size``, overlap
``overlap_ratio`` of a slice, positions drawn per seed), and the target is one of a + b, a - b,
a * b, a / b, a^2, sqrt(a). Models train on the interpolation range and are tested on the
extrapolation range. Each model is two layers, ``input_size -> hidden_size -> 1``: a unit pair
such as NAU -> NMU, or an MLP baseline (linear, ReLU6 or Tanh hidden layer, linear output).

The recurrent task (the paper's second column, ``ArithConfig(recurrent=True)``): x is a sequence
of input vectors, one per step, and a and b sum the same slices over every step. The models read
one vector per step: an LSTM or GRU baseline, or a unit as the recurrent cell with a second unit
on its last state; they train on short sequences and are tested on sequences
``extrapolation_length`` long with inputs from the extrapolation range.

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

The parts: :mod:`~nalu_rl.arith.data` (configuration, tasks, data, thresholds),
:mod:`~nalu_rl.arith.models` (the networks), :mod:`~nalu_rl.arith.training`
(the training loop and the scoring) and :mod:`~nalu_rl.arith.table` (table and JSON).
"""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import TYPE_CHECKING

from nalu_rl.arith.data import TASKS, ArithConfig, ArithData, epsilon_thresholds, make_data
from nalu_rl.arith.models import ACTIVATIONS, DEFAULT_MODELS, RECURRENT_MODELS, RecurrentNet, StaticNet, model_layers
from nalu_rl.arith.table import RECURRENT_REPORT_FILE, REPORT_FILE, format_side_by_side, format_table, write_report
from nalu_rl.arith.training import BEST_OF_LAST, cpu_settings, summarise, train_model
from nalu_rl.common.progress import progress_bar

if TYPE_CHECKING:
    from torch.utils.tensorboard import SummaryWriter

__all__ = [
    "ACTIVATIONS", "BEST_OF_LAST", "DEFAULT_MODELS", "RECURRENT_MODELS", "RECURRENT_REPORT_FILE", "REPORT_FILE", "TASKS",
    "ArithConfig", "ArithData", "RecurrentNet", "StaticNet", "epsilon_thresholds", "format_side_by_side", "format_table",
    "make_data", "model_layers", "run_benchmark", "summarise", "write_report",
]  # fmt: skip


def run_benchmark(cfg: ArithConfig, writer: SummaryWriter | None = None, progress: bool = True) -> dict:
    """Train every model on every task for every seed; returns the JSON-ready report.

    ``writer`` is an optional TensorBoard ``SummaryWriter``: per task and model it receives the
    median over seeds of the interpolation and extrapolation MSE at each evaluation.
    """
    t0 = time.perf_counter()
    data = make_data(cfg)
    threshold = epsilon_thresholds(cfg, data)
    results = []
    with cpu_settings(), progress_bar(
        total=cfg.steps * len(cfg.models), enabled=progress, unit="step", dynamic_ncols=True
    ) as bar:
        for spec in cfg.models:
            bar.set_description(spec)
            steps, inter, extra = train_model(spec, cfg, data, writer, bar if progress else None)
            results += [summarise(i, spec, cfg, steps, inter, extra, threshold) for i in range(len(cfg.tasks))]
    return {
        "config": asdict(cfg),
        "results": results,
        "elapsed_s": round(time.perf_counter() - t0, 1),
    }
