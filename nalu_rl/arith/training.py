"""Training the arithmetic benchmark's networks, all seeds and tasks of a model at once, and scoring them."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from statistics import median
from typing import TYPE_CHECKING, Any

import torch
from torch.func import functional_call, vmap

from nalu_rl.arith.data import ArithConfig, ArithData, slice_sums, targets
from nalu_rl.arith.models import RecurrentNet, StaticNet, stack_networks
from nalu_rl.common.intervals import wilson_interval
from nalu_rl.nn import clip_weights_, sparsity_weight

if TYPE_CHECKING:
    from torch.utils.tensorboard import SummaryWriter
    from tqdm import tqdm

BEST_OF_LAST = 100  # evaluations considered for model selection (stable-nalu's best.range)


def train_model(
    spec: str, cfg: ArithConfig, data: ArithData, writer: SummaryWriter | None, bar: tqdm | None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Train all (task, seed) networks of one model.

    Returns the evaluation steps and the interpolation and extrapolation MSE, each (E, T, S).
    """
    nets = []
    with torch.random.fork_rng():
        for _ in cfg.tasks:
            nets.append([])
            for s in cfg.seed_ids:
                torch.manual_seed(cfg.seed * 1_000_003 + s)  # same init for a seed across tasks
                nets[-1].append(make_net(spec, cfg))
    stacked = stack_networks(nets)
    params = dict(stacked.named_parameters())
    # inner vmap over seeds (own inputs), outer over tasks (the seed's inputs are shared, so
    # input-sized work such as the NALU's log|x| is done once, not once per task)
    forward = vmap(vmap(lambda p, x: functional_call(stacked, p, (x,))), in_dims=(0, None))
    optimizer = torch.optim.Adam(stacked.parameters(), lr=cfg.learning_rate)

    test_sets = {}
    for name, x in (("interpolation", data.x_interpolation), ("extrapolation", data.x_extrapolation)):
        test_sets[name] = (x, targets(cfg.tasks, *slice_sums(x.double(), data.a_mask, data.b_mask)))

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
                    tag = f"{cfg.tag_prefix}{task}/{spec}"
                    for name in errors:
                        writer.add_scalar(f"{tag}/mse_{name}", _nan_median(errors[name][-1][ti]), step)
                    if train_mse is not None:
                        writer.add_scalar(f"{tag}/mse_train", _nan_median(train_mse[ti]), step)
        if step == cfg.steps:
            break
        x = torch.empty(len(cfg.seed_ids), cfg.batch_size, *cfg.steps_of("train"), cfg.input_size)
        x.uniform_(*cfg.interpolation, generator=data.generator)
        target = targets(cfg.tasks, *slice_sums(x, data.a_mask, data.b_mask))
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


def make_net(spec: str, cfg: ArithConfig) -> StaticNet | RecurrentNet:
    """One network of model ``spec`` for the task ``cfg`` sets (static or recurrent)."""
    if cfg.recurrent:
        return RecurrentNet(spec, cfg.input_size, cfg.hidden_size, cfg.rnn_hidden_size, cfg.feedback)
    return StaticNet(spec, cfg.input_size, cfg.hidden_size)


def _mse(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    # float64: success thresholds go down to ~1e-8 (a - b), so keep float32 rounding out of the comparison
    return ((pred.double() - target) ** 2).mean(-1)


def _finite(v: float) -> float | None:
    return v if math.isfinite(v) else None


def _diverged_as_inf(v: torch.Tensor) -> torch.Tensor:
    # NaN (a diverged network) counts as +inf: it is a worse error, not a missing one
    return torch.nan_to_num(v.double(), nan=math.inf, posinf=math.inf)


def _nan_median(v: torch.Tensor) -> float:
    return float(_diverged_as_inf(v).median())


def summarise(
    task_index: int, spec: str, cfg: ArithConfig, steps: torch.Tensor, inter: torch.Tensor, extra: torch.Tensor,
    threshold: torch.Tensor,
) -> dict[str, Any]:
    """The report entry of one (task, model): per-seed selection at the best interpolation, success and medians."""
    per_seed = []
    window = max(0, len(steps) - BEST_OF_LAST)
    for s, seed in enumerate(cfg.seed_ids):
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
            "seed": seed,
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
    lo, hi = wilson_interval(wins, len(cfg.seed_ids))

    def med(key: str) -> float | None:
        values = [math.inf if r[key] is None else r[key] for r in per_seed]
        return _finite(median(values))

    return {
        "task": cfg.tasks[task_index],
        "model": spec,
        "error_x100_interpolation": med("error_x100_interpolation"),
        "error_x100_extrapolation": med("error_x100_extrapolation"),
        "successes": wins,
        "seeds": len(cfg.seed_ids),
        "success_rate": wins / len(cfg.seed_ids),
        "success_ci95": [lo, hi],
        "per_seed": per_seed,
    }


@contextmanager
def cpu_settings() -> Iterator[None]:
    """One intra-op thread and subnormal floats flushed to zero while training; restored afterwards.

    The networks are tiny, so intra-op threads only add synchronisation. Saturated NAC and NALU
    weights drive Adam's second moments into subnormal floats, which x86 CPUs process many times slower.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.set_flush_denormal(True)
    try:
        yield
    finally:
        torch.set_flush_denormal(False)  # torch's default; it offers no getter to restore from
        torch.set_num_threads(threads)
