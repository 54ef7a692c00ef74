"""Sweeps: train and evaluate every (agent, seed), in a local process pool or as Ray tasks.

:func:`run_sweep` is what ``nalu-rl sweep`` (and ``nalu-rl experiment``) runs. Every run lives in
``OUT/<agent>-s<seed>/`` — an ordinary run folder that ``eval``, ``play`` and ``report`` take —
and is

1. trained (our agents with :func:`nalu_rl.agents.train`, the peer ``recurrent_ppo`` with
   :func:`nalu_rl.baselines.train_recurrent_ppo`), or *resumed* from its latest checkpoint when an
   earlier sweep was interrupted, and then
2. evaluated with :func:`nalu_rl.analysis.evaluate.evaluate_run` (``extrapolation.json``).

A run whose training finished and whose ``extrapolation.json`` covers the requested T range and
episodes is *skipped*, so re-running a sweep only does what is missing. A run that fails (a
damaged folder, a diverged loss, a crashed process) becomes a ``failed`` record with its name and
error, its traceback goes to ``OUT/sweep.json``, and the other runs carry on.

*Local* (default): a pool of ``jobs`` spawned processes, each running one run at a time, by
default as many as the machine's cores hold (a run needs ``workers`` cores in async mode, one
otherwise); each process gets ``cores // jobs`` torch threads, so the pool does not oversubscribe
the CPU. A pool process that dies (killed, out of memory) fails its run only and is replaced.
*Ray* (``ray_address``): ``ray.init(address=...)`` joins an existing cluster and each run is one
task asking for the CPUs it needs, and ``gpus_per_run`` GPUs (default 1) on a CUDA device (with
``device="auto"``: when the cluster has GPUs). ``OUT`` must be on a file system the cluster's
nodes share (any single-machine cluster qualifies).
"""

from __future__ import annotations

import json
import math
import numbers
import os
import signal
import socket
import threading
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from nalu_rl.analysis.evaluate import RESULT_FILE

SUMMARY_FILE = "sweep.json"
RAY_HINT = "pip install -e '.[ray]'"
STOP_GRACE_S = 120.0  # how long interrupted runs get to write their checkpoint
RECORD_KEYS = (
    "name", "agent", "seed", "run_dir", "status", "error", "horizon_90", "horizon_50", "frames",
    "trained", "resumed", "evaluated", "train_seconds", "eval_seconds", "seconds", "worker",
)  # fmt: skip
STATUSES = ("ok", "skipped", "failed", "interrupted")


class SweepInterrupted(KeyboardInterrupt):
    """The sweep was stopped (SIGINT/SIGTERM); runs in progress saved a checkpoint to resume from."""


def baseline_names() -> tuple[str, ...]:
    from nalu_rl.baselines import AGENT_NAME

    return (AGENT_NAME,)


def run_name(agent: str, seed: int) -> str:
    """The run folder's name inside the sweep folder: ``<agent>-s<seed>`` (a preset path counts by its stem)."""
    stem = Path(agent).stem if agent.endswith(".toml") else agent
    return f"{stem}-s{seed}"


# --------------------------------------------------------------------------- the plan


def plan_runs(
    agents: Sequence[str],
    seeds: Sequence[int],
    *,
    env: str,
    frames: int | None,
    episodes: int,
    t_min: int,
    t_max: int,
    out: Path,
    device: str = "cpu",
    train_options: dict[str, Any] | None = None,
    gpus_per_run: float | None = None,
) -> list[dict[str, Any]]:
    """One spec per (agent, seed), everything validated; ValueError / PresetError before anything runs."""
    from nalu_rl.agents.config import RUN_KEYS, load_preset
    from nalu_rl.envs import env_kwargs_from_preset
    from nalu_rl.envs.batched import resolve_device
    from nalu_rl.envs.rules import MAX_INSTRUCTION

    agents = list(agents)
    seeds = list(seeds)
    if not agents:
        raise ValueError("no agents given")
    if not seeds:
        raise ValueError("no seeds given")
    for seed in seeds:
        _check_int("seed", seed, 0)
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds repeat: {seeds}")
    if frames is not None:
        _check_int("frames", frames, 1)
    _check_int("episodes", episodes, 1)
    _check_int("t_min", t_min, 1, MAX_INSTRUCTION)
    _check_int("t_max", t_max, 1, MAX_INSTRUCTION)
    if t_min > t_max:
        raise ValueError(f"t_min ({t_min}) must not exceed t_max ({t_max})")
    resolve_device(device)  # ValueError for an unknown device
    env_name, _ = env_kwargs_from_preset(env)
    env = _absolute_if_path(env)  # Ray tasks and pool processes may run elsewhere than this working directory
    agents = [_absolute_if_path(a) for a in agents]
    if gpus_per_run is not None and (
        isinstance(gpus_per_run, bool) or not isinstance(gpus_per_run, numbers.Real) or not 0 < gpus_per_run <= 64
    ):
        raise ValueError(f"gpus_per_run must be a number in (0, 64], got {gpus_per_run!r}")
    options = dict(train_options or {})
    unknown = set(options) - {"mode", "workers", "envs_per_worker", "overrides"}
    if unknown:
        raise ValueError(f"unknown train option(s) {sorted(unknown)}; allowed: mode, workers, envs_per_worker, overrides")
    names = [run_name(a, 0) for a in agents]
    if len(set(names)) != len(names):
        raise ValueError(f"agents repeat: {agents}")
    out = Path(out).resolve()
    specs = []
    for agent in agents:
        if agent in baseline_names():
            kind, cpus = "baseline", 1
        else:
            overrides = {**(options.get("overrides") or {}), **{k: options[k] for k in RUN_KEYS if options.get(k) is not None}}
            _, _, defaults = load_preset(agent, overrides, env)  # PresetError for an unknown agent or a bad value
            mode = defaults.get("mode", "async")
            workers = defaults.get("workers", 1)
            kind, cpus = "agent", (workers if mode == "async" and isinstance(workers, int) and workers > 0 else 1)
        for seed in seeds:
            name = run_name(agent, seed)
            specs.append(
                {
                    "name": name, "agent": agent, "kind": kind, "seed": int(seed), "env": env, "env_preset": env_name,
                    "frames": frames, "episodes": episodes, "t_min": t_min, "t_max": t_max, "run_dir": str(out / name),
                    "device": device, "options": options, "cpus": cpus, "gpus": gpus_per_run, "threads": 1,
                }
            )  # fmt: skip
    return specs


def _absolute_if_path(preset: str) -> str:
    path = Path(preset)
    return str(path.resolve()) if preset.endswith(".toml") or path.exists() else preset


def _check_int(name: str, value: Any, lo: int, hi: int | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < lo or (hi is not None and value > hi):
        bound = f">= {lo}" if hi is None else f"in [{lo}, {hi}]"
        raise ValueError(f"{name} must be an integer {bound}, got {value!r}")


def available_cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


# --------------------------------------------------------------------------- one run (in a worker)


def _trained_frames(spec: dict[str, Any]) -> tuple[int | None, int]:
    """(frames trained so far or None without a checkpoint, frames the run is configured for)."""
    run_dir = Path(spec["run_dir"])
    if spec["kind"] == "baseline":
        from nalu_rl.baselines.recurrent_ppo import TRAINING_FILE, checkpoint_path, is_finished

        config = json.loads((run_dir / "config.json").read_text())
        if is_finished(run_dir):
            return int(json.loads((run_dir / TRAINING_FILE).read_text())["frames_done"]), int(config["frames"])
        return (0 if checkpoint_path(run_dir).is_file() else None), int(config["frames"])
    from nalu_rl.agents import runs
    from nalu_rl.agents.checkpoint import load_checkpoint

    config = runs.read_config(run_dir)
    path = runs.latest_checkpoint(run_dir)
    if not path.is_file():
        return None, int(config["frames"])
    return int(load_checkpoint(path)["frames"]), int(config["frames"])


def _check_identity(spec: dict[str, Any]) -> None:
    """A run folder that already exists must hold this very run (agent, seed, environment)."""
    run_dir = Path(spec["run_dir"])
    try:
        config = json.loads((run_dir / "config.json").read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"unreadable {run_dir / 'config.json'}: {err}") from None
    if not isinstance(config, dict):
        raise ValueError(f"{run_dir / 'config.json'} is not a run config")
    want = {"agent": Path(spec["agent"]).stem if spec["agent"].endswith(".toml") else spec["agent"],
            "seed": spec["seed"], "env_preset": spec["env_preset"]}  # fmt: skip
    for key, value in want.items():
        if config.get(key) != value:
            raise ValueError(
                f"{run_dir} holds a run with {key} {config.get(key)!r}, not {value!r}: choose another sweep folder"
            )


def _evaluation_current(spec: dict[str, Any]) -> bool:
    """Whether ``extrapolation.json`` exists and covers the requested T range and episodes."""
    path = Path(spec["run_dir"]) / RESULT_FILE
    try:
        doc = json.loads(path.read_text())
        results = doc["results"]
        return (
            doc.get("policy") == "greedy"
            and [r["T"] for r in results] == list(range(spec["t_min"], spec["t_max"] + 1))
            and all(r["episodes"] == spec["episodes"] for r in results)
        )
    except (OSError, ValueError, KeyError, TypeError):
        return False


def status_of(spec: dict[str, Any]) -> str:
    """``new`` (no folder), ``done`` (trained and evaluated as asked), ``evaluate`` or ``train`` (resume/start)."""
    run_dir = Path(spec["run_dir"])
    if not (run_dir / "config.json").exists():
        return "new"
    _check_identity(spec)
    done, configured = _trained_frames(spec)
    target = configured if spec["frames"] is None else spec["frames"]
    if done is None or done < target:
        return "train"
    return "done" if _evaluation_current(spec) else "evaluate"


def _train(spec: dict[str, Any], resume: bool) -> None:
    run_dir = Path(spec["run_dir"])
    options = spec["options"]
    if spec["kind"] == "baseline":
        from nalu_rl.baselines import train_recurrent_ppo

        if resume:
            train_recurrent_ppo(run_dir=run_dir, frames=spec["frames"], device=spec["device"], resume=True, progress=False,
                                threads=spec["threads"])  # fmt: skip
        else:
            # the --set overrides name our agents' hyper-parameters: the peer keeps its own defaults
            train_recurrent_ppo(env=spec["env"], frames=spec["frames"], seed=spec["seed"], run_dir=run_dir,
                                device=spec["device"], progress=False, threads=spec["threads"])  # fmt: skip
        return
    from nalu_rl.agents import train

    run_opts = {k: options[k] for k in ("mode", "workers", "envs_per_worker") if options.get(k) is not None}
    if resume:
        train(run_dir=run_dir, frames=spec["frames"], device=spec["device"], resume=True, progress=False, **run_opts)
    else:
        train(agent=spec["agent"], env=spec["env"], frames=spec["frames"], seed=spec["seed"], run_dir=run_dir,
              device=spec["device"], progress=False, overrides=options.get("overrides") or None, **run_opts)  # fmt: skip


def _has_checkpoint(spec: dict[str, Any]) -> bool:
    run_dir = Path(spec["run_dir"])
    if spec["kind"] == "baseline":
        from nalu_rl.baselines.recurrent_ppo import checkpoint_path, model_path

        return checkpoint_path(run_dir).is_file() or model_path(run_dir).is_file()
    from nalu_rl.agents import runs

    return runs.latest_checkpoint(run_dir).is_file()


def run_one(spec: dict[str, Any]) -> dict[str, Any]:
    """Train (or resume) and evaluate one run; never raises for the run's own failures: see the record."""
    import torch

    from nalu_rl.analysis.evaluate import evaluate_run

    torch.set_num_threads(max(1, int(spec["threads"])))
    started = time.perf_counter()
    record = _record(spec)
    record["worker"] = f"{socket.gethostname()}:{os.getpid()}"
    try:
        state = status_of(spec)
        if state in ("new", "train"):
            resume = state == "train" and _has_checkpoint(spec)
            if state == "train" and not resume:  # stopped before its first checkpoint: start again
                (Path(spec["run_dir"]) / "config.json").unlink()
            t0 = time.perf_counter()
            _train(spec, resume)
            record.update(trained=True, resumed=resume, train_seconds=round(time.perf_counter() - t0, 3))
        if state != "done":
            t0 = time.perf_counter()
            evaluate_run(spec["run_dir"], t_min=spec["t_min"], t_max=spec["t_max"], episodes=spec["episodes"],
                         device=spec["device"], progress=False)  # fmt: skip
            record.update(evaluated=True, eval_seconds=round(time.perf_counter() - t0, 3))
        record["status"] = "ok" if state != "done" else "skipped"
        _fill_results(record)
    except KeyboardInterrupt as err:  # includes the trainers' "stopped by SIGINT, checkpoint saved"
        record.update(status="interrupted", error=str(err) or "interrupted")
    except Exception as err:  # noqa: BLE001 — a failing run must not take the sweep down
        record.update(status="failed", error=_one_line(err), traceback=traceback.format_exc())
    record["seconds"] = round(time.perf_counter() - started, 3)
    return record


def _record(spec: dict[str, Any]) -> dict[str, Any]:
    record = dict.fromkeys(RECORD_KEYS)
    record.update(name=spec["name"], agent=spec["agent"], seed=spec["seed"], run_dir=spec["run_dir"],
                  trained=False, resumed=False, evaluated=False)  # fmt: skip
    return record


def _fill_results(record: dict[str, Any]) -> None:
    doc = json.loads((Path(record["run_dir"]) / RESULT_FILE).read_text())
    record.update(horizon_90=doc.get("horizon_90"), horizon_50=doc.get("horizon_50"), frames=doc.get("frames"))


def _one_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0]}" if text else type(err).__name__


def _pool_worker(inbox, results, threads: int) -> None:
    """A pool process: runs the specs it is handed, one at a time, until it gets None."""
    import torch

    torch.set_num_threads(threads)
    try:
        while True:
            spec = inbox.get()
            if spec is None:
                return
            results.put(run_one(spec))
    except KeyboardInterrupt:  # Ctrl-C while idle: the parent stops the pool
        return


THREAD_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


class _thread_env:
    """Sets the thread-count variables a spawned child inherits (those the user did not set), then restores them."""

    def __init__(self, threads: int) -> None:
        self._set = {k: str(threads) for k in THREAD_ENV if k not in os.environ}

    def __enter__(self) -> None:
        os.environ.update(self._set)

    def __exit__(self, *exc) -> None:
        for key in self._set:
            os.environ.pop(key, None)


class _PoolProcess:
    """One process of the local pool and the run it is on (None when idle)."""

    def __init__(self, ctx, results, threads: int, index: int) -> None:
        self.inbox = ctx.SimpleQueue()
        self.proc = ctx.Process(target=_pool_worker, args=(self.inbox, results, threads), name=f"nalu-rl-sweep-{index}")
        with _thread_env(threads):  # read by OpenMP / BLAS when the child imports torch and numpy
            self.proc.start()
        self.spec: dict[str, Any] | None = None

    def give(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.inbox.put(spec)


# --------------------------------------------------------------------------- the sweep


def run_sweep(
    agents: list[str],
    seeds: list[int],
    *,
    env: str,
    frames: int | None,
    episodes: int,
    t_min: int,
    t_max: int,
    out: Path,
    device: str = "cpu",
    ray_address: str | None = None,
    jobs: int | None = None,
    progress: bool = True,
    train_options: dict[str, Any] | None = None,
    gpus_per_run: float | None = None,
) -> list[dict[str, Any]]:
    """Train and evaluate every (agent, seed) into ``out/<agent>-s<seed>/``; one record per run.

    ``frames=None`` trains each agent for its preset's default. ``agents`` are agent presets
    (names or TOML paths) or ``recurrent_ppo`` (the Stable-Baselines3 peer). ``jobs`` caps the
    runs in flight (default: as many as the cores hold locally, as many as the cluster schedules
    on Ray). ``train_options`` may set ``mode``, ``workers``, ``envs_per_worker`` and
    ``overrides`` (hyper-parameters of our agents; the ``recurrent_ppo`` peer keeps its defaults)
    for every run; ``gpus_per_run`` is what each Ray task asks for on a CUDA device. Records
    (:data:`RECORD_KEYS`) have status ``ok`` (trained and/or evaluated now), ``skipped`` (already
    done), ``failed`` (with ``error``) or ``interrupted``; they are also written, with the failures'
    tracebacks, to ``out/sweep.json``.

    Raises ValueError (or a preset error) for bad arguments before anything runs, ImportError
    when ``ray_address`` is given without Ray installed, ConnectionError when the cluster cannot
    be reached, :class:`SweepInterrupted` after SIGINT/SIGTERM once the runs in flight stopped.
    """
    if jobs is not None:
        _check_int("jobs", jobs, 1)
    if ray_address is not None:
        ray = _import_ray()  # before any work: a missing extra is a usage error
    specs = plan_runs(agents, seeds, env=env, frames=frames, episodes=episodes, t_min=t_min, t_max=t_max, out=out,
                      device=device, train_options=train_options, gpus_per_run=gpus_per_run)  # fmt: skip
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    records: dict[str, dict[str, Any]] = {}
    todo = []
    for spec in specs:  # finished and unusable runs are settled here, without starting a process
        try:
            state = status_of(spec)
        except Exception as err:  # noqa: BLE001 — a damaged run folder fails that run only
            records[spec["name"]] = {**_record(spec), "status": "failed", "error": _one_line(err),
                                     "traceback": traceback.format_exc()}  # fmt: skip
            continue
        if state == "done":
            record = _record(spec)
            record["status"] = "skipped"
            _fill_results(record)
            records[spec["name"]] = record
        else:
            todo.append(spec)
    bar = _Progress(len(specs), progress, initial=len(records), settled=list(records.values()))
    started = time.perf_counter()
    try:
        if todo:
            if ray_address is not None:
                _run_ray(ray, ray_address, todo, jobs, records, bar, out)
            else:
                _run_local(todo, jobs, records, bar, out)
    finally:
        bar.close()
        ordered = [records.get(s["name"]) or {**_record(s), "status": "interrupted", "error": "not run"} for s in specs]
        _write_summary(out, ordered, time.perf_counter() - started, ray_address)
    return [{k: r.get(k) for k in RECORD_KEYS} for r in ordered]


def _write_summary(out: Path, records: list[dict[str, Any]], seconds: float, ray_address: str | None) -> None:
    doc = {
        "backend": "ray" if ray_address is not None else "local",
        "ray_address": ray_address,
        "seconds": round(seconds, 3),
        "counts": {s: sum(r["status"] == s for r in records) for s in STATUSES},
        "runs": records,
    }
    path = out / SUMMARY_FILE
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(doc, indent=2) + "\n")
    os.replace(tmp, path)


class _Progress:
    """A tqdm bar over runs plus one line per finished run (or nothing when progress is off)."""

    def __init__(self, total: int, enabled: bool, initial: int, settled: list[dict[str, Any]]) -> None:
        self._bar = None
        if enabled:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=total, initial=initial, desc="sweep", unit="run")
            for record in settled:
                self._bar.write(format_record(record))

    def done(self, record: dict[str, Any]) -> None:
        if self._bar is None:
            return
        self._bar.update(1)
        self._bar.write(format_record(record))

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def format_record(record: dict[str, Any]) -> str:
    parts = [f"{record['name']}: {record['status']}"]
    if record["status"] in ("ok", "skipped"):
        parts.append(f"horizon_90={record['horizon_90']} horizon_50={record['horizon_50']}")
        trained = "resumed" if record["resumed"] else "trained" if record["trained"] else ""
        what = [w for w in (trained, "evaluated" if record["evaluated"] else "") if w]
        if what:
            parts.append(f"({' + '.join(what)} in {record['seconds']:.1f} s)")
    elif record.get("error"):
        parts.append(record["error"])
    return "  ".join(parts)


class _StopSignals:
    """SIGTERM raises KeyboardInterrupt in the main thread (SIGINT already does), restored afterwards."""

    def __enter__(self) -> _StopSignals:
        self._previous = None
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGTERM, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGTERM, self._previous)

    @staticmethod
    def _handle(signum, frame) -> None:
        raise KeyboardInterrupt


def _run_local(specs: list[dict[str, Any]], jobs: int | None, records: dict, bar: _Progress, out: Path) -> None:
    """A pool of ``jobs`` spawned processes, each running one run at a time; a process that dies is replaced."""
    import multiprocessing as mp
    import queue as queue_mod

    cores = available_cores()
    per_run = max(s["cpus"] for s in specs)
    if jobs is None:
        jobs = max(1, cores // per_run)
    jobs = min(jobs, len(specs))
    threads = max(1, cores // (jobs * per_run))
    ctx = mp.get_context("spawn")
    results = ctx.Queue()
    pending = [{**s, "threads": threads} for s in specs]
    pool = [_PoolProcess(ctx, results, threads, i) for i in range(jobs)]
    spawned = jobs

    def finish(record: dict[str, Any]) -> None:
        for member in pool:
            if member.spec is not None and member.spec["name"] == record["name"]:
                member.spec = None
        records[record["name"]] = record
        bar.done(record)

    def collect(timeout: float) -> bool:
        try:
            finish(results.get(timeout=timeout))
            return True
        except queue_mod.Empty:
            return False

    def bury() -> None:
        nonlocal spawned
        for i, member in enumerate(pool):
            if member.proc.is_alive():
                continue
            member.proc.join()
            if member.spec is not None:
                while member.spec is not None and collect(5.0):  # its record may still be in the pipe
                    pass
            if member.spec is not None:
                finish({**_record(member.spec), "status": "failed", "error": _death(member.proc.exitcode)})
            if pending:
                pool[i] = _PoolProcess(ctx, results, threads, spawned)
                spawned += 1

    try:
        with _StopSignals():
            while pending or any(m.spec is not None for m in pool):
                for member in pool:
                    if member.spec is None and pending and member.proc.is_alive():
                        member.give(pending.pop(0))
                collect(0.5)
                bury()
    except KeyboardInterrupt:
        _stop_pool(pool, collect)
        raise SweepInterrupted(
            f"sweep stopped; runs in progress saved checkpoints — run the same command again to resume ({out})"
        ) from None
    finally:
        for member in pool:
            if member.proc.is_alive():
                member.inbox.put(None)
        for member in pool:
            member.proc.join(10)
            if member.proc.is_alive():
                member.proc.kill()
                member.proc.join()


def _stop_pool(pool: list[_PoolProcess], collect) -> None:
    """SIGINT to the busy processes (the trainers checkpoint and stop), then wait for their records."""
    for member in pool:
        if member.spec is not None and member.proc.is_alive() and member.proc.pid:
            try:
                os.kill(member.proc.pid, signal.SIGINT)
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + STOP_GRACE_S
    while any(m.spec is not None and m.proc.is_alive() for m in pool) and time.monotonic() < deadline:
        try:
            collect(0.5)
        except KeyboardInterrupt:  # a second Ctrl-C: stop waiting
            break
    for member in pool:
        if member.proc.is_alive():
            member.proc.terminate()


def _death(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        hint = " (out of memory?)" if name == "SIGKILL" else ""
        return f"the run's process was killed by {name}{hint}"
    return f"the run's process exited with status {exitcode} without a result"


# --------------------------------------------------------------------------- Ray


def _import_ray():
    try:
        import ray
    except ImportError:
        raise ImportError(f"--ray-address needs Ray, an optional extra: {RAY_HINT}") from None
    return ray


def _ray_placement(spec: dict[str, Any], cluster_gpus: float) -> tuple[float, float, str]:
    """(num_cpus, num_gpus, device) of one run's task; ``auto`` becomes ``cuda`` when the cluster has GPUs."""
    device = str(spec["device"])
    if device == "auto":
        device = "cuda" if cluster_gpus > 0 else "cpu"
    gpus = float(spec["gpus"] or 1.0) if device.startswith("cuda") else 0.0
    return float(spec["cpus"]), gpus, device


def _run_ray(ray, address: str, specs: list[dict[str, Any]], jobs: int | None, records: dict, bar: _Progress, out: Path) -> None:
    owns = not ray.is_initialized()
    if owns:
        try:
            ray.init(address=address, log_to_driver=False, configure_logging=False)
        except (ConnectionError, RuntimeError, ValueError) as err:
            raise ConnectionError(f"cannot join the Ray cluster at {address!r}: {_one_line(err)}") from None
    remote = ray.remote(max_retries=0)(run_one)
    cluster_gpus = float(ray.cluster_resources().get("GPU", 0.0))
    futures: dict[Any, dict[str, Any]] = {}
    pending = list(specs)
    limit = jobs or len(specs)
    try:
        with _StopSignals():
            while pending or futures:
                while pending and len(futures) < limit:
                    spec = pending.pop(0)
                    cpus, gpus, device = _ray_placement(spec, cluster_gpus)
                    spec = {**spec, "device": device, "threads": max(1, math.floor(cpus))}
                    ref = remote.options(num_cpus=cpus, num_gpus=gpus, name=f"nalu-rl-sweep:{spec['name']}").remote(spec)
                    futures[ref] = spec
                ready, _ = ray.wait(list(futures), num_returns=1, timeout=1.0)
                for ref in ready:
                    spec = futures.pop(ref)
                    try:
                        record = ray.get(ref)
                    except Exception as err:  # noqa: BLE001 — a crashed worker, a lost node
                        record = {**_record(spec), "status": "failed", "error": _one_line(err)}
                    records[spec["name"]] = record
                    bar.done(record)
    except KeyboardInterrupt:
        for ref in futures:
            ray.cancel(ref)  # interrupts the task (KeyboardInterrupt); the run resumes from its latest checkpoint
        deadline = time.monotonic() + STOP_GRACE_S
        while futures and time.monotonic() < deadline:
            ready, _ = ray.wait(list(futures), num_returns=len(futures), timeout=1.0)
            for ref in ready:
                spec = futures.pop(ref)
                try:
                    records[spec["name"]] = ray.get(ref)
                except Exception:  # noqa: BLE001 — cancelled
                    pass
        raise SweepInterrupted(
            f"sweep stopped; runs in progress saved checkpoints — run the same command again to resume ({out})"
        ) from None
    finally:
        if owns:
            ray.shutdown()
