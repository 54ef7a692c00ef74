"""Asynchronous training (A3C): worker processes apply their gradients to one shared network, without a lock.

``workers`` spawned processes each step their own ``envs_per_worker`` environments on their
device with a local copy of the network, and apply their gradients to the shared parameters
(CPU shared memory) through an optimiser whose state is shared too (Hogwild). The parent only
watches: it logs, checkpoints, and stops everything when a worker dies.
"""

from __future__ import annotations

import os
import signal
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import multiprocessing as mp

from nalu_rl import runs
from nalu_rl.agents.checkpoint import PeriodicCheckpoints
from nalu_rl.agents.config import AgentConfig
from nalu_rl.agents.errors import TrainingInterrupted, WorkerError
from nalu_rl.agents.history import TrainingEvaluation
from nalu_rl.agents.monitor import Monitor
from nalu_rl.agents.network import ActorCritic
from nalu_rl.agents.planning import Plan
from nalu_rl.agents.rollouts import RolloutCollector, make_env, stream_seed
from nalu_rl.agents.update import finite_losses, learning_rate, make_optimizer, update
from nalu_rl.common.cpus import available_cores
from nalu_rl.common.signals import StopSignals
from nalu_rl.runs.config import RunConfig

JOIN_TIMEOUT_S = 30.0


@dataclass
class _WorkerSpec:
    rank: int
    device: str
    num_envs: int
    threads: int
    seed: int
    config: RunConfig
    agent_config: AgentConfig
    errors_dir: str
    parent_pid: int


def share_optimizer_state(optimizer: torch.optim.Optimizer) -> list[dict[str, torch.Tensor]]:
    """Create the optimiser's per-parameter state if it has none, move it into shared memory.

    A fresh state is made by torch itself: one step with zero gradients (which moves no
    weight, as the parameters are restored afterwards) and the step counters set back to 0.
    Returns the state of each parameter in ``param_groups`` order, for the workers to attach.
    """
    params = [p for group in optimizer.param_groups for p in group["params"]]
    if not optimizer.state:
        saved = [p.detach().clone() for p in params]
        for p in params:
            p.grad = torch.zeros_like(p)
        optimizer.step()
        with torch.no_grad():
            for p, value in zip(params, saved):
                p.copy_(value)
                p.grad = None
        for state in optimizer.state.values():
            state["step"].zero_()
    for state in optimizer.state.values():
        for value in state.values():
            value.share_memory_()
    return [optimizer.state[p] for p in params]


def train_async(plan: Plan, monitor: Monitor, stop: StopSignals) -> None:
    """Start the workers and watch them until the plan's frames, a stop signal or a worker's death."""
    cfg, config, ckpt = plan.agent_config, plan.config, plan.checkpoint
    total = config.frames
    shared, optimizer = _shared_network(plan)
    start, start_updates = (ckpt["frames"], ckpt["updates"]) if ckpt else (0, 0)
    optimizer_state = share_optimizer_state(optimizer)
    evaluation = TrainingEvaluation.of_plan(plan, monitor.writer)
    checkpoints = PeriodicCheckpoints(plan.run_dir, plan.checkpoint_interval, config.core, evaluation.elapsed)
    if not ckpt:
        checkpoints.save(shared, optimizer, 0, 0)
    with torch.random.fork_rng(devices=[]):  # the evaluated copy: the shared weights move while it plays
        snapshot = ActorCritic(config.env, cfg)

    def freeze(at: int, done: int) -> Callable[[], Path]:
        """Copy the shared weights into the snapshot, which evaluation plays; how to checkpoint that copy."""
        snapshot.load_state_dict(shared.state_dict())
        return lambda: checkpoints.save(snapshot, optimizer, at, done)

    ctx = mp.get_context("spawn")
    frames, updates = ctx.Value("q", start), ctx.Value("q", start_updates)
    stop_event, stats_queue = ctx.Event(), ctx.Queue()
    errors_dir = plan.run_dir / runs.ERRORS_DIR
    procs = [
        ctx.Process(target=_worker, args=(spec, shared, optimizer_state, frames, updates, stop_event, stats_queue),
                    name=f"nalu-rl-worker-{spec.rank}", daemon=True)
        for spec in _worker_specs(plan, start, errors_dir)
    ]  # fmt: skip
    for p in procs:
        p.start()
    try:
        lr = learning_rate(cfg, start, total)
        while True:
            _drain(stats_queue, monitor)
            dead = [(rank, p) for rank, p in enumerate(procs) if p.exitcode not in (None, 0)]
            if dead and not stop.stopped:
                rank, p = dead[0]
                raise WorkerError(f"worker {rank} died: {_death_reason(p.exitcode, errors_dir / f'worker-{rank}.txt')}")
            if all(p.exitcode is not None for p in procs):
                break
            if stop.stopped:
                stop_event.set()
            lr = learning_rate(cfg, frames.value, total)
            if frames.value > start:
                monitor.first_update(frames.value)
            if monitor.due():
                monitor.log(frames.value, lr)
            if evaluation.due(frames.value) and not stop.stopped:
                at = frames.value
                evaluation.evaluate_and_save(snapshot, at, freeze(at, updates.value))
            elif checkpoints.due():
                checkpoints.save(shared, optimizer, frames.value, updates.value)
            time.sleep(0.05)
        _drain(stats_queue, monitor)
        monitor.log(frames.value, lr)
        save = freeze(frames.value, updates.value)
        path = evaluation.finish(snapshot, frames.value, save, stop.stopped)
        if stop.stopped:
            raise TrainingInterrupted(stop.signum, frames.value, path)
    finally:
        stop_event.set()
        for p in procs:
            p.join(JOIN_TIMEOUT_S if p.exitcode is None else 0)
            if p.is_alive():
                p.kill()
                p.join()
        stats_queue.cancel_join_thread()


def _shared_network(plan: Plan) -> tuple[ActorCritic, torch.optim.Optimizer]:
    """The network the workers update, in shared memory, and its optimiser: fresh from the seed, or the checkpoint's."""
    torch.manual_seed(plan.config.seed)
    shared = ActorCritic(plan.config.env, plan.agent_config)
    optimizer = make_optimizer(shared.parameters(), plan.agent_config)
    if plan.checkpoint:
        shared.load_state_dict(plan.checkpoint["model"])
        optimizer.load_state_dict(plan.checkpoint["optimizer"])
    shared.share_memory()
    return shared, optimizer


def _worker_specs(plan: Plan, start: int, errors_dir: Path) -> list[_WorkerSpec]:
    """What each worker runs: its device, environments, threads and random stream (by rank and start frame)."""
    config = plan.config
    # The workers share this process's thread budget: the cores it may use, or fewer when a
    # caller (a sweep pool running several trainings at once) has lowered torch's thread count.
    threads = max(1, min(available_cores(), torch.get_num_threads()) // config.workers)
    return [
        _WorkerSpec(rank, dev, config.envs_per_worker, threads, stream_seed(config.seed, rank, start),
                    config, plan.agent_config, str(errors_dir), os.getpid())
        for rank, dev in enumerate(_worker_devices(config.device, config.workers))
    ]  # fmt: skip


def _worker_devices(device: str, workers: int) -> list[str]:
    """Workers on 'cuda' spread round-robin over every visible GPU; 'cuda:N' and 'cpu' are kept."""
    if device == "cuda":
        return [f"cuda:{rank % torch.cuda.device_count()}" for rank in range(workers)]
    return [device] * workers


def _drain(queue, monitor: Monitor) -> None:
    while True:
        try:
            stats = queue.get_nowait()
        except Exception:  # queue.Empty; a half-written message from a killed worker is dropped too
            return
        if not finite_losses(stats):
            raise FloatingPointError("training diverged: a worker reported a non-finite loss or gradient")
        monitor.add(stats)


def _death_reason(exitcode: int, error_file: Path) -> str:
    if exitcode < 0:
        return f"killed by signal {signal.Signals(-exitcode).name}"
    if error_file.is_file():
        lines = [line for line in error_file.read_text().splitlines() if line.strip()]
        if lines:
            return f"{lines[-1]} (traceback in {error_file})"
    return f"exited with status {exitcode}"


def _worker(spec: _WorkerSpec, shared: ActorCritic, optimizer_state, frames, updates, stop_event, stats_queue) -> None:
    """One A3C worker: its own environments and network copy, gradients applied to the shared network."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole process group; the parent decides
    try:
        _worker_loop(spec, shared, optimizer_state, frames, updates, stop_event, stats_queue)
    except BaseException:
        Path(spec.errors_dir).mkdir(parents=True, exist_ok=True)
        (Path(spec.errors_dir) / f"worker-{spec.rank}.txt").write_text(traceback.format_exc())
        raise SystemExit(1) from None


def _worker_loop(spec: _WorkerSpec, shared: ActorCritic, optimizer_state, frames, updates, stop_event, stats_queue) -> None:
    torch.set_num_threads(spec.threads)
    cfg, total = spec.agent_config, spec.config.frames
    device = torch.device(spec.device)
    optimizer = make_optimizer(shared.parameters(), cfg)
    for p, state in zip(shared.parameters(), optimizer_state):
        optimizer.state[p] = state
    net = ActorCritic(spec.config.env, cfg).to(device)
    net.load_state_dict(shared.state_dict())
    torch.manual_seed(spec.seed)
    collector = RolloutCollector(net, make_env(spec.config.env, spec.num_envs, device), cfg, seed=spec.seed)
    per_update = cfg.n_steps * spec.num_envs
    last_report = time.monotonic()
    while not stop_event.is_set() and frames.value < total and os.getppid() == spec.parent_pid:
        update(collector, optimizer, learning_rate(cfg, frames.value, total), shared)
        with frames.get_lock():
            frames.value += per_update
        with updates.get_lock():
            updates.value += 1
        if time.monotonic() - last_report >= 0.5:
            stats_queue.put(collector.stats.pop())
            last_report = time.monotonic()
    stats_queue.put(collector.stats.pop())
