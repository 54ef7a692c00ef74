"""Training: synchronous A2C in one process, or asynchronous A3C workers sharing one network.

:func:`train` is the Python API that ``nalu-rl train`` wraps. It validates everything first
(:func:`prepare`, which writes nothing), then runs (:func:`run`), writing into the run folder
``config.json``, TensorBoard events under ``tb/`` and checkpoints under ``checkpoints/``.

* ``sync``: one process steps ``workers × envs_per_worker`` environments as one batch and
  applies each rollout's gradient to the network. Deterministic for a given seed and device.
* ``async`` (A3C): ``workers`` spawned processes each step their own ``envs_per_worker``
  environments on their device with a local copy of the network, and apply their gradients
  to the shared parameters (CPU shared memory) through an optimiser whose state is shared too,
  without a lock (Hogwild). The parent only watches: it logs, checkpoints, and stops
  everything when a worker dies.

Ctrl-C or SIGTERM stops at the end of the current rollout, saves a checkpoint and raises
:class:`TrainingInterrupted`; ``resume=True`` continues from ``checkpoints/latest.pt``.
"""

from __future__ import annotations

import os
import signal
import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import multiprocessing as mp

from nalu_rl import __version__
from nalu_rl.agents import runs
from nalu_rl.agents.checkpoint import load_checkpoint, rng_state, save_checkpoint, set_rng_state
from nalu_rl.agents.config import MODES, AgentConfig, load_preset
from nalu_rl.agents.learner import Learner
from nalu_rl.agents.monitor import Monitor
from nalu_rl.agents.network import ActorCritic
from nalu_rl.envs import DEFAULT_PRESET, env_kwargs_from_preset
from nalu_rl.envs.batched import TimedGridVecEnv, resolve_device
from nalu_rl.nn import clip_weights_

DEFAULT_RUN_ROOT = Path("runs")
JOIN_TIMEOUT_S = 30.0


class TrainingInterrupted(KeyboardInterrupt):
    """Training stopped by SIGINT or SIGTERM after saving a checkpoint."""

    def __init__(self, signum: int, frames: int, checkpoint: Path) -> None:
        super().__init__(f"stopped by {signal.Signals(signum).name} at {frames} frames; checkpoint saved to {checkpoint}")
        self.signum, self.frames, self.checkpoint = signum, frames, checkpoint


class WorkerError(RuntimeError):
    """An asynchronous worker raised or was killed; the others were stopped."""


@dataclass
class Plan:
    """A validated run: what :func:`run` needs, nothing written yet."""

    run_dir: Path
    config: dict[str, Any]  # the contents of config.json
    agent_config: AgentConfig
    checkpoint: dict[str, Any] | None  # the one to resume from
    checkpoint_interval: float  # seconds between periodic checkpoints


def train(
    agent: str | None = None,
    env: str | None = None,
    frames: int | None = None,
    seed: int | None = None,
    run_dir: str | Path | None = None,
    device: str | None = None,
    mode: str | None = None,
    workers: int | None = None,
    envs_per_worker: int | None = None,
    resume: bool = False,
    progress: bool = True,
    overrides: dict[str, Any] | None = None,
    checkpoint_interval: float = 300.0,
) -> Path:
    """Train an agent and return its run folder.

    ``agent`` and ``env`` are preset names or TOML paths; ``None`` arguments take the agent
    preset's ``[run]`` defaults (seed 0, device ``cpu``). ``overrides`` replaces
    hyper-parameters or run defaults by name (e.g. ``{"lr": 3e-4}``). With ``resume=True`` the
    run in ``run_dir`` continues from its latest checkpoint; ``frames`` may extend it.
    Raises ``ValueError``/``FileNotFoundError`` for bad arguments before anything is written,
    :class:`TrainingInterrupted` after a signal, :class:`WorkerError` when a worker dies.
    """
    plan = prepare(
        agent=agent, env=env, frames=frames, seed=seed, run_dir=run_dir, device=device, mode=mode, workers=workers,
        envs_per_worker=envs_per_worker, resume=resume, overrides=overrides, checkpoint_interval=checkpoint_interval,
    )  # fmt: skip
    run(plan, progress=progress)
    return plan.run_dir


# --------------------------------------------------------------------------- validation


def prepare(
    agent: str | None = None,
    env: str | None = None,
    frames: int | None = None,
    seed: int | None = None,
    run_dir: str | Path | None = None,
    device: str | None = None,
    mode: str | None = None,
    workers: int | None = None,
    envs_per_worker: int | None = None,
    resume: bool = False,
    overrides: dict[str, Any] | None = None,
    checkpoint_interval: float = 300.0,
) -> Plan:
    """Check every argument and build the run's config; raises before anything is written."""
    if not checkpoint_interval > 0:
        raise ValueError(f"checkpoint interval must be > 0 seconds, got {checkpoint_interval!r}")
    if resume:
        return _prepare_resume(agent, env, frames, seed, run_dir, device, mode, workers, envs_per_worker, overrides, checkpoint_interval)
    if agent is None:
        raise ValueError("an agent preset is required (e.g. --agent lstm_nac)")
    name, agent_config, defaults = load_preset(agent, overrides, env)
    env_name, env_kwargs = env_kwargs_from_preset(env if env is not None else defaults.get("env", DEFAULT_PRESET))
    seed = 0 if seed is None else seed
    _check_int("seed", seed, 0)
    config = {
        "agent": name,
        "core": agent_config.core,
        "agent_config": agent_config.to_dict(),
        "env_preset": env_name,
        "env": {**env_kwargs, "t_range": list(env_kwargs.get("t_range", (5, 12)))},
        "seed": seed,
        "frames": _first(frames, defaults.get("frames")),
        "mode": _first(mode, defaults.get("mode"), "async"),
        "workers": _first(workers, defaults.get("workers"), 1),
        "envs_per_worker": _first(envs_per_worker, defaults.get("envs_per_worker")),
        "device": device or "cpu",
        "version": __version__,
    }
    config["env"].setdefault("obs_mode", "pixels")
    _check_run_settings(config)
    run_dir = Path(run_dir) if run_dir is not None else DEFAULT_RUN_ROOT / f"{name}-{env_name}-s{seed}"
    if (run_dir / runs.CONFIG_FILE).exists():
        raise ValueError(f"{run_dir} already holds a run: continue it with --resume or choose another --run-dir")
    if run_dir.exists() and not run_dir.is_dir():
        raise ValueError(f"run folder {run_dir} exists and is not a folder")
    return Plan(run_dir, config, agent_config, None, checkpoint_interval)


def _prepare_resume(agent, env, frames, seed, run_dir, device, mode, workers, envs_per_worker, overrides, checkpoint_interval) -> Plan:
    if run_dir is None:
        raise ValueError("--resume needs the run folder (--run-dir)")
    run_dir = Path(run_dir)
    config = runs.read_config(run_dir)
    for key, given in (("agent", agent), ("env_preset", env), ("seed", seed)):
        if given is not None and given != config[key]:
            raise ValueError(f"cannot resume {run_dir} with {key} {given!r}: the run was started with {config[key]!r}")
    if overrides:
        raise ValueError("hyper-parameters cannot be changed on --resume; start a new run instead")
    agent_config = AgentConfig.of_run(config["agent_config"])
    checkpoint = load_checkpoint(runs.latest_checkpoint(run_dir))
    config = {**config, "agent_config": agent_config.to_dict()}  # complete, for the workers and config.json
    for key, given in (("frames", frames), ("mode", mode), ("workers", workers), ("envs_per_worker", envs_per_worker), ("device", device)):
        if given is not None:
            config[key] = given
    config["version"] = __version__
    _check_run_settings(config)
    return Plan(run_dir, config, agent_config, checkpoint, checkpoint_interval)


def _first(*values):
    return next((v for v in values if v is not None), None)


def _check_int(name: str, value: Any, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")


def _check_run_settings(config: dict[str, Any]) -> None:
    for key in ("frames", "workers", "envs_per_worker"):
        if config[key] is None:
            raise ValueError(f"{key} is not set: give it or put it in the agent preset's [run] table")
        _check_int(key, config[key], 1)
    if config["mode"] not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {config['mode']!r}")
    config["device"] = str(resolve_device(config["device"]))


# --------------------------------------------------------------------------- running


def run(plan: Plan, progress: bool = True) -> None:
    """Train as planned, writing config.json, TensorBoard events and checkpoints into the run folder."""
    plan.run_dir.mkdir(parents=True, exist_ok=True)
    runs.write_config(plan.run_dir, plan.config)
    start = plan.checkpoint["frames"] if plan.checkpoint else 0
    if start >= plan.config["frames"]:
        return
    monitor = Monitor(plan.run_dir, plan.config, start, progress)
    threads = torch.get_num_threads()
    try:
        with _StopSignals() as stop:
            if plan.config["mode"] == "sync":
                _train_sync(plan, monitor, stop)
            else:
                _train_async(plan, monitor, stop)
    finally:
        torch.set_num_threads(threads)
        monitor.close()


def make_optimizer(params, config: AgentConfig) -> torch.optim.Optimizer:
    if config.optimizer == "adam":
        return torch.optim.Adam(params, lr=config.lr, eps=config.eps)
    return torch.optim.RMSprop(params, lr=config.lr, eps=config.eps, alpha=0.99)


def learning_rate(config: AgentConfig, frames: int, total: int) -> float:
    if config.lr_schedule == "linear":
        return config.lr * max(0.0, 1.0 - frames / total)
    return config.lr


def stream_seed(seed: int, *keys: int) -> int:
    """An independent 62-bit seed for each (seed, keys...), e.g. (seed, worker, start frame)."""
    return int(np.random.SeedSequence(seed, spawn_key=keys).generate_state(1, np.uint64)[0] >> np.uint64(2))


def _make_env(config: dict[str, Any], num_envs: int, device: str | torch.device) -> TimedGridVecEnv:
    env_kwargs = {**config["env"], "t_range": tuple(config["env"]["t_range"])}
    return TimedGridVecEnv(num_envs=num_envs, device=device, copy=False, check_actions=False, **env_kwargs)


class _Checkpointer:
    def __init__(self, run_dir: Path, interval: float) -> None:
        self.path, self.interval, self.last = runs.latest_checkpoint(run_dir), interval, time.monotonic()

    def due(self) -> bool:
        return time.monotonic() - self.last >= self.interval

    def save(self, net: torch.nn.Module, optimizer: torch.optim.Optimizer, frames: int, updates: int) -> Path:
        self.last = time.monotonic()
        return save_checkpoint(
            self.path, model=net.state_dict(), optimizer=optimizer.state_dict(), frames=frames, updates=updates, rng=rng_state()
        )


class _StopSignals:
    """Turns the first SIGINT/SIGTERM into a stop request; a second one interrupts at once."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> _StopSignals:
        if threading.current_thread() is threading.main_thread():  # signal handlers live in the main thread only
            self._previous = {s: signal.signal(s, self._handle) for s in (signal.SIGINT, signal.SIGTERM)}
        return self

    def __exit__(self, *exc) -> None:
        for s, handler in self._previous.items():
            signal.signal(s, handler)

    def _handle(self, signum: int, frame) -> None:
        if self.signum is not None:
            raise KeyboardInterrupt
        self.signum = signum


def _train_sync(plan: Plan, monitor: Monitor, stop: _StopSignals) -> None:
    cfg, config, ckpt = plan.agent_config, plan.config, plan.checkpoint
    device, total = torch.device(config["device"]), config["frames"]
    # The network is small: intra-op threads cost more in synchronisation than they save, and
    # they collapse under contention (measured 10x slower with 2 threads on a shared 2-core
    # machine). More cores are what the async mode is for.
    torch.set_num_threads(1)
    torch.manual_seed(config["seed"])
    net = ActorCritic(config["env"], cfg).to(device)
    optimizer = make_optimizer(net.parameters(), cfg)
    frames, updates = (ckpt["frames"], ckpt["updates"]) if ckpt else (0, 0)
    # Seeded like async worker 0, so that one async worker retraces this run (a test relies on it).
    stream = stream_seed(config["seed"], 0, frames)
    torch.manual_seed(stream)
    if ckpt:
        net.load_state_dict(ckpt["model"])
        optimizer.load_state_dict(ckpt["optimizer"])
        set_rng_state(ckpt["rng"])
    env = _make_env(config, config["workers"] * config["envs_per_worker"], device)
    learner = Learner(net, env, cfg, seed=stream)
    checkpointer = _Checkpointer(plan.run_dir, plan.checkpoint_interval)
    if not ckpt:
        checkpointer.save(net, optimizer, frames, updates)
    per_update = cfg.n_steps * env.num_envs
    lr = learning_rate(cfg, frames, total)
    while frames < total and stop.signum is None:
        loss, parts = learner.rollout()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        grad_norm = torch.nn.utils.clip_grad_norm_(net.parameters(), cfg.max_grad_norm)
        lr = learning_rate(cfg, frames, total)
        for group in optimizer.param_groups:
            group["lr"] = lr
        optimizer.step()
        clip_weights_(net)  # arithmetic units with bounded weights (NAU); a no-op for the others
        learner.stats.record_update(parts, grad_norm)
        frames += per_update
        updates += 1
        if monitor.due():
            _check_finite(learner.stats, monitor, frames, lr)
        if checkpointer.due():
            checkpointer.save(net, optimizer, frames, updates)
    _check_finite(learner.stats, monitor, frames, lr)
    path = checkpointer.save(net, optimizer, frames, updates)
    if stop.signum is not None:
        raise TrainingInterrupted(stop.signum, frames, path)


def _check_finite(stats, monitor: Monitor, frames: int, lr: float) -> None:
    popped = stats.pop()
    if not all(np.isfinite([popped["policy_loss"], popped["value_loss"], popped["grad_norm"]])):
        raise FloatingPointError(f"training diverged at {frames} frames: non-finite loss or gradient")
    monitor.add(popped)
    monitor.log(frames, lr)


# --------------------------------------------------------------------------- asynchronous (A3C)


@dataclass
class _WorkerSpec:
    rank: int
    device: str
    num_envs: int
    threads: int
    seed: int
    config: dict[str, Any]
    errors_dir: str
    parent_pid: int


def _worker_devices(device: str, workers: int) -> list[str]:
    """Workers on 'cuda' spread round-robin over every visible GPU; 'cuda:N' and 'cpu' are kept."""
    if device == "cuda":
        return [f"cuda:{rank % torch.cuda.device_count()}" for rank in range(workers)]
    return [device] * workers


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


def _train_async(plan: Plan, monitor: Monitor, stop: _StopSignals) -> None:
    cfg, config, ckpt = plan.agent_config, plan.config, plan.checkpoint
    workers, total = config["workers"], config["frames"]
    torch.manual_seed(config["seed"])
    shared = ActorCritic(config["env"], cfg)
    optimizer = make_optimizer(shared.parameters(), cfg)
    start, start_updates = (ckpt["frames"], ckpt["updates"]) if ckpt else (0, 0)
    if ckpt:
        shared.load_state_dict(ckpt["model"])
        optimizer.load_state_dict(ckpt["optimizer"])
    shared.share_memory()
    optimizer_state = share_optimizer_state(optimizer)
    checkpointer = _Checkpointer(plan.run_dir, plan.checkpoint_interval)
    if not ckpt:
        checkpointer.save(shared, optimizer, 0, 0)

    ctx = mp.get_context("spawn")
    frames, updates = ctx.Value("q", start), ctx.Value("q", start_updates)
    stop_event, stats_queue = ctx.Event(), ctx.Queue()
    errors_dir = plan.run_dir / runs.ERRORS_DIR
    # The workers share this process's thread budget: the cores it may use, or fewer when a
    # caller (a sweep pool running several trainings at once) has lowered torch's thread count.
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    budget = min(cores, torch.get_num_threads())
    specs = [
        _WorkerSpec(rank, dev, config["envs_per_worker"], max(1, budget // workers), stream_seed(config["seed"], rank, start),
                    config, str(errors_dir), os.getpid())
        for rank, dev in enumerate(_worker_devices(config["device"], workers))
    ]  # fmt: skip
    procs = [
        ctx.Process(target=_worker, args=(spec, shared, optimizer_state, frames, updates, stop_event, stats_queue),
                    name=f"nalu-rl-worker-{spec.rank}", daemon=True)
        for spec in specs
    ]  # fmt: skip
    for p in procs:
        p.start()
    try:
        lr = learning_rate(cfg, start, total)
        while True:
            _drain(stats_queue, monitor)
            dead = [(rank, p) for rank, p in enumerate(procs) if p.exitcode not in (None, 0)]
            if dead and stop.signum is None:
                rank, p = dead[0]
                raise WorkerError(f"worker {rank} died: {_death_reason(p.exitcode, errors_dir / f'worker-{rank}.txt')}")
            if all(p.exitcode is not None for p in procs):
                break
            if stop.signum is not None:
                stop_event.set()
            lr = learning_rate(cfg, frames.value, total)
            if monitor.due():
                monitor.log(frames.value, lr)
            if checkpointer.due():
                checkpointer.save(shared, optimizer, frames.value, updates.value)
            time.sleep(0.05)
        _drain(stats_queue, monitor)
        monitor.log(frames.value, lr)
        path = checkpointer.save(shared, optimizer, frames.value, updates.value)
        if stop.signum is not None:
            raise TrainingInterrupted(stop.signum, frames.value, path)
    finally:
        stop_event.set()
        for p in procs:
            p.join(JOIN_TIMEOUT_S if p.exitcode is None else 0)
            if p.is_alive():
                p.kill()
                p.join()
        stats_queue.cancel_join_thread()


def _drain(queue, monitor: Monitor) -> None:
    while True:
        try:
            stats = queue.get_nowait()
        except Exception:  # queue.Empty; a half-written message from a killed worker is dropped too
            return
        if not all(np.isfinite([stats["policy_loss"], stats["value_loss"], stats["grad_norm"]])):
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
    cfg = AgentConfig.from_dict(spec.config["agent_config"])
    total = spec.config["frames"]
    device = torch.device(spec.device)
    optimizer = make_optimizer(shared.parameters(), cfg)
    shared_params = list(shared.parameters())
    for p, state in zip(shared_params, optimizer_state):
        optimizer.state[p] = state
    net = ActorCritic(spec.config["env"], cfg).to(device)
    net.load_state_dict(shared.state_dict())
    torch.manual_seed(spec.seed)
    local_params = list(net.parameters())
    learner = Learner(net, _make_env(spec.config, spec.num_envs, device), cfg, seed=spec.seed)
    per_update = cfg.n_steps * spec.num_envs
    last_report = time.monotonic()
    while not stop_event.is_set() and frames.value < total and os.getppid() == spec.parent_pid:
        loss, parts = learner.rollout()
        net.zero_grad(set_to_none=True)
        loss.backward()
        grad_norm = torch.nn.utils.clip_grad_norm_(local_params, cfg.max_grad_norm)
        for shared_p, local_p in zip(shared_params, local_params):
            shared_p.grad = local_p.grad.to(shared_p.device)
        lr = learning_rate(cfg, frames.value, total)
        for group in optimizer.param_groups:
            group["lr"] = lr
        optimizer.step()
        clip_weights_(shared)
        with torch.no_grad():
            for shared_p, local_p in zip(shared_params, local_params):
                local_p.copy_(shared_p)
        learner.stats.record_update(parts, grad_norm)
        with frames.get_lock():
            frames.value += per_update
        with updates.get_lock():
            updates.value += 1
        if time.monotonic() - last_report >= 0.5:
            stats_queue.put(learner.stats.pop())
            last_report = time.monotonic()
    stats_queue.put(learner.stats.pop())

