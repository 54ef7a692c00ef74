"""One update of the actor-critic, the same in both training modes: the optimiser, its schedule, the step."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import torch

from nalu_rl.agents.config import AgentConfig
from nalu_rl.agents.network import ActorCritic
from nalu_rl.agents.rollouts import RolloutCollector
from nalu_rl.nn import clip_weights_


def make_optimizer(params: Iterable[torch.nn.Parameter], config: AgentConfig) -> torch.optim.Optimizer:
    if config.optimizer == "adam":
        return torch.optim.Adam(params, lr=config.lr, betas=(float(config.adam_beta1), 0.999), eps=config.eps)
    return torch.optim.RMSprop(params, lr=config.lr, eps=config.eps, alpha=0.99)


def learning_rate(config: AgentConfig, frames: int, total: int) -> float:
    if config.lr_schedule == "linear":
        return config.lr * max(0.0, 1.0 - frames / total)
    return config.lr


def update(collector: RolloutCollector, optimizer: torch.optim.Optimizer, lr: float, shared: ActorCritic | None = None) -> None:
    """One rollout of ``collector`` and one optimiser step on its clipped gradient, at learning rate ``lr``.

    Without ``shared`` the optimiser steps the collector's own network (sync training). An A3C
    worker passes the shared network its optimiser steps: the collector's network is the
    worker's local copy, whose gradient goes to the shared parameters and which is refreshed
    from them afterwards.
    """
    net, cfg = collector.net, collector.config
    loss, parts = collector.rollout()
    net.zero_grad(set_to_none=True)
    loss.backward()
    grad_norm = torch.nn.utils.clip_grad_norm_(net.parameters(), cfg.max_grad_norm)
    if shared is not None:
        for shared_p, local_p in zip(shared.parameters(), net.parameters()):
            shared_p.grad = local_p.grad.to(shared_p.device)
    for group in optimizer.param_groups:
        group["lr"] = lr
    optimizer.step()
    clip_weights_(net if shared is None else shared)  # arithmetic units with bounded weights (NAU); a no-op for the others
    if shared is not None:
        with torch.no_grad():
            for shared_p, local_p in zip(shared.parameters(), net.parameters()):
                local_p.copy_(shared_p)
    collector.stats.record_update(parts, grad_norm)


def finite_losses(stats: dict[str, Any]) -> bool:
    """Whether the losses and gradient norm of :meth:`nalu_rl.agents.rollouts.RolloutStats.pop` are finite."""
    return bool(np.isfinite([stats["policy_loss"], stats["value_loss"], stats["grad_norm"]]).all())
