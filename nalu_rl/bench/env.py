"""``nalu-rl bench env``: environment throughput, single vs SyncVectorEnv vs the batched twin.

Every measurement runs in a fresh process, so its peak memory (resident set growth over the
process's state after imports, or peak CUDA allocation) belongs to that measurement alone.
Steps/s are wall-clock over at least ``--seconds`` of stepping with random actions, after a
warm-up; the machine is shared and noisy, so read the ratios in the same run.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from multiprocessing import get_context
from typing import Any

from nalu_rl.common import files
from nalu_rl.common.checks import MAX_ENVS_PER_WORKER, check_int, parse_int
from nalu_rl.common.renamed import add_renamed

DEFAULT_KS = (1, 4, 16, 64, 256, 1024, 4096, 16384, 65536)
SYNC_VECTOR_KS = (16, 4096)

HELP = "environment steps/s and peak memory: the single env, Gymnasium's SyncVectorEnv and the batched twin"


@dataclass
class Result:
    impl: str
    obs_mode: str
    num_envs: int
    device: str
    steps_per_s: float
    peak_mb: float


def add_arguments(parser: argparse.ArgumentParser, flags: Any) -> None:
    """This target's flags; ``flags`` is the command line's shared definitions (``nalu_rl.cli.args``), handed in."""
    parser.add_argument("--ks", default=",".join(map(str, DEFAULT_KS)), help="batch sizes K of the batched twin")
    parser.add_argument("--sync-ks", default=",".join(map(str, SYNC_VECTOR_KS)), help="K for SyncVectorEnv")
    parser.add_argument("--modes", default="grid,pixels", help="observation modes")
    # Several devices side by side, as --ks and --modes: a list of its own, not --device (one device everywhere else).
    parser.add_argument("--devices", type=_names, metavar="LIST", help="cpu, cuda, cuda:N, comma-separated (default cpu, and cuda if present)")
    add_renamed(parser, "--device", "--devices", "devices", type=_names, repeated=True)
    parser.add_argument("--seconds", type=float, default=1.0, help="stepping time per measurement")
    flags.add_threads(parser, None, "all cores")
    flags.add_json(parser)


def _names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def run(args: argparse.Namespace) -> int:
    """Measure every configuration and print the table; ValueError for a bad flag value or device."""
    ks = [check_int("--ks", parse_int(k), 1, MAX_ENVS_PER_WORKER) for k in args.ks.split(",")]
    sync_ks = [check_int("--sync-ks", parse_int(k), 1, MAX_ENVS_PER_WORKER) for k in args.sync_ks.split(",") if k]
    modes = args.modes.split(",")
    if not set(modes) <= {"grid", "pixels"} or args.seconds <= 0:
        raise ValueError("--modes takes grid and/or pixels, --seconds a time > 0")
    devices = args.devices or _default_devices()
    jobs = []
    for mode in modes:
        jobs.append(("single", mode, 1, "cpu"))
        jobs += [("sync_vector", mode, k, "cpu") for k in sync_ks]
        jobs += [("batched", mode, k, dev) for dev in devices for k in ks]
    results = []
    from nalu_rl.common.progress import progress_bar

    with progress_bar(jobs, enabled=not args.quiet, desc="bench env", unit="run") as bar:
        for impl, mode, k, dev in bar:
            bar.set_postfix_str(f"{impl} {mode} K={k} {dev}")
            results.append(_in_fresh_process(impl, mode, k, dev, args.seconds, args.threads or 0))  # ValueError: a bad device
    print(format_table(results))
    if args.json:
        files.write_text(args.json, json.dumps([asdict(r) for r in results], indent=2))
    return 0


def format_table(results: list[Result]) -> str:
    """Results side by side, with the batched twin's speed-up over SyncVectorEnv at equal K."""
    sync = {(r.obs_mode, r.num_envs): r.steps_per_s for r in results if r.impl == "sync_vector"}
    single = {r.obs_mode: r.steps_per_s for r in results if r.impl == "single"}
    lines = [
        f"{'impl':<12} {'obs':<7} {'K':>6} {'device':<7} {'env-steps/s':>13} {'peak MB':>9} {'x single':>9} {'x SyncVec':>10}",
        "-" * 80,
    ]
    for r in results:
        vs_sync = sync.get((r.obs_mode, r.num_envs))
        lines.append(
            f"{r.impl:<12} {r.obs_mode:<7} {r.num_envs:>6} {r.device:<7} {r.steps_per_s:>13,.0f} {r.peak_mb:>9.1f}"
            f" {r.steps_per_s / single[r.obs_mode]:>9.1f}"
            f" {(f'{r.steps_per_s / vs_sync:.1f}' if vs_sync and r.impl == 'batched' else '-'):>10}"
        )
    return "\n".join(lines)


def _default_devices() -> list[str]:
    import torch

    return ["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"]


def _in_fresh_process(impl: str, mode: str, k: int, device: str, seconds: float, threads: int) -> Result:
    with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
        return pool.submit(measure, impl, mode, k, device, seconds, threads).result()


def measure(impl: str, mode: str, k: int, device: str, seconds: float, threads: int = 0) -> Result:
    """Steps/s and peak memory of one environment implementation (run in a fresh process)."""
    import gymnasium as gym
    import numpy as np
    import torch

    import nalu_rl  # noqa: F401  (registers the environment)

    if threads:
        torch.set_num_threads(threads)
    rss_before = _rss_mb()
    kwargs = {"obs_mode": mode}
    rng = np.random.default_rng(0)
    if impl == "single":
        env = gym.make("nalu_rl/TimedGrid-v0", **kwargs)
        env.reset(seed=0)
        actions = rng.integers(0, 5, 4096).tolist()

        def step(i: int) -> None:
            _, _, term, trunc, _ = env.step(actions[i % len(actions)])
            if term or trunc:
                env.reset()

        per_call = 1
    elif impl == "sync_vector":
        env = gym.make_vec("nalu_rl/TimedGrid-v0", num_envs=k, vectorization_mode="sync", **kwargs)
        env.reset(seed=0)
        actions = [rng.integers(0, 5, k) for _ in range(8)]

        def step(i: int) -> None:
            env.step(actions[i % len(actions)])

        per_call = k
    else:
        env = gym.make_vec(
            "nalu_rl/TimedGrid-v0", num_envs=k, backend="torch",
            device=device, copy=False, check_actions=False, **kwargs,
        )
        env.reset(seed=0)
        actions = [torch.randint(0, 5, (k,), device=env.device) for _ in range(8)]

        def step(i: int) -> None:
            env.step(actions[i % len(actions)])

        per_call = k
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    for i in range(3):
        step(i)
    sync()
    calls, start = 0, time.perf_counter()
    while True:
        step(calls)
        calls += 1
        if calls % 8 == 0 or calls < 8:
            sync()
            elapsed = time.perf_counter() - start
            if elapsed >= seconds and calls >= 3:
                break
    peak = torch.cuda.max_memory_allocated() / 2**20 if device.startswith("cuda") else _rss_mb() - rss_before
    return Result(impl, mode, k, device, calls * per_call / elapsed, peak)


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB
