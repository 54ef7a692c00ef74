"""Synchronous training (A2C): one process steps every environment as one batch and applies each rollout's gradient.

Deterministic for a given seed and device: the same seed gives a bit-identical checkpoint.
"""

from __future__ import annotations

from pathlib import Path

import torch

from nalu_rl.agents.checkpoint import PeriodicCheckpoints, set_rng_state
from nalu_rl.agents.errors import TrainingInterrupted
from nalu_rl.agents.history import TrainingEvaluation
from nalu_rl.agents.monitor import Monitor
from nalu_rl.agents.network import ActorCritic
from nalu_rl.agents.planning import Plan
from nalu_rl.agents.rollouts import RolloutCollector, RolloutStats, make_env, stream_seed
from nalu_rl.agents.update import finite_losses, learning_rate, make_optimizer, update
from nalu_rl.common.signals import StopSignals


def train_sync(plan: Plan, monitor: Monitor, stop: StopSignals) -> None:
    """Train until the plan's frames or the first stop signal, then save a checkpoint (and raise on a signal).

    With ``eval_every`` set, the network is evaluated at frame 0, every ``eval_every`` frames and at the end
    (agents/history.py); the evaluation leaves torch's RNG as it found it, so the weights are the same without.
    """
    cfg, config, ckpt = plan.agent_config, plan.config, plan.checkpoint
    device, total = torch.device(config.device), config.frames
    # The network is small: intra-op threads cost more in synchronisation than they save, and
    # they collapse when other processes share the cores. More cores are what the async mode is for.
    torch.set_num_threads(1)
    torch.manual_seed(config.seed)
    net = ActorCritic(config.env, cfg).to(device)
    optimizer = make_optimizer(net.parameters(), cfg)
    frames, updates = (ckpt["frames"], ckpt["updates"]) if ckpt else (0, 0)
    # The stream of async worker 0: one async worker retraces this run
    # (tests/test_train_workers.py, test_one_async_worker_retraces_the_sync_run).
    stream = stream_seed(config.seed, 0, frames)
    torch.manual_seed(stream)
    if ckpt:
        net.load_state_dict(ckpt["model"])
        optimizer.load_state_dict(ckpt["optimizer"])
        set_rng_state(ckpt["rng"])
    collector = RolloutCollector(net, make_env(config.env, config.batch, device), cfg, seed=stream)
    evaluation = TrainingEvaluation.of_plan(plan, monitor.writer)
    checkpoints = PeriodicCheckpoints(plan.run_dir, plan.checkpoint_interval, config.core, evaluation.elapsed)

    def save() -> Path:
        return checkpoints.save(net, optimizer, frames, updates)

    if not ckpt:
        save()
    if evaluation.due(frames):
        evaluation.evaluate_and_save(net, frames, save)
    per_update = cfg.n_steps * collector.env.num_envs
    lr = learning_rate(cfg, frames, total)
    while frames < total and not stop.stopped:
        lr = learning_rate(cfg, frames, total)
        update(collector, optimizer, lr)
        frames += per_update
        updates += 1
        monitor.first_update(frames)
        if monitor.due():
            _log(collector.stats, monitor, frames, lr)
        if evaluation.due(frames):
            evaluation.evaluate_and_save(net, frames, save)
        elif checkpoints.due():
            save()
    _log(collector.stats, monitor, frames, lr)
    path = evaluation.finish(net, frames, save, stop.stopped)
    if stop.stopped:
        raise TrainingInterrupted(stop.signum, frames, path)


def _log(stats: RolloutStats, monitor: Monitor, frames: int, lr: float) -> None:
    popped = stats.pop()
    if not finite_losses(popped):  # raised before the next checkpoint, which would save a diverged network
        raise FloatingPointError(f"training diverged at {frames} frames: non-finite loss or gradient")
    monitor.add(popped)
    monitor.log(frames, lr)
