"""``nalu-rl bench train``: env-steps/s of whole training runs, sync and async, next to sb3-contrib RecurrentPPO.

Every configuration is one ``nalu-rl train`` process timed from start to exit (start-up,
worker spawning and checkpoints included), so the figure is what a user gets. RecurrentPPO
(MultiInputLstmPolicy, LSTM 64, 16 environments, n_steps 64, 4 epochs) trains on the same
environment in its own process, timed the same way, twice: on 16 Python copies in SB3's DummyVecEnv and on the
batched twin through the VecEnv adapter that ``nalu-rl baseline`` uses; "x PPO" divides by the faster of the two,
so the ratio is not DummyVecEnv's. The peer runs on the CPU with one torch thread (its fastest setting on a small
CPU: more threads only add synchronisation to its small matrices).
The machine may be shared: compare the ratios within one run. ``--portable-kernels`` and ``--eval-every``
time each configuration again with portable kernels or with in-training evaluation, for their cost.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from nalu_rl import runs
from nalu_rl.common import files
from nalu_rl.common.checks import MAX_FRAMES, int_type
from nalu_rl.common.renamed import add_renamed

HELP = "env-steps/s of whole training runs (sync and async, several batch sizes) next to sb3-contrib RecurrentPPO"
CPU_CONFIGS = "sync:1x64,sync:1x256,async:2x64,async:2x256"
GPU_CONFIGS = "sync:1x4096,sync:1x16384,sync:1x65536,async:2x16384"


def add_arguments(parser: argparse.ArgumentParser, flags: Any) -> None:
    """This target's flags; ``flags`` is the command line's shared definitions (``nalu_rl.cli.args``), handed in."""
    from nalu_rl.envs import DEFAULT_PRESET

    parser.add_argument("--agents", default="lstm_nac",
                        help="agent presets, comma-separated, compared in one run (default lstm_nac)")  # fmt: skip
    add_renamed(parser, "--agent", "--agents", "agents")
    parser.add_argument("--env", default=DEFAULT_PRESET,
                        help=f"environment presets, comma-separated, timed in one run; the first is what the others are "
                        f"compared with, e.g. {DEFAULT_PRESET},paper for pixels against grid (default {DEFAULT_PRESET})")
    flags.add_device(parser)
    flags.add_frames(parser, 2_000_000)
    parser.add_argument(
        "--configs",
        help=f"comma-separated MODE:WORKERSxENVS (default on CPU {CPU_CONFIGS}; on CUDA {GPU_CONFIGS})",
    )
    parser.add_argument("--ppo-frames", type=int_type("ppo_frames", 0, MAX_FRAMES), default=16_384, help="RecurrentPPO frames (default 16,384; 0 skips it)")
    flags.add_portable_kernels(parser, also=True)
    add_renamed(parser, "--portable", "--portable-kernels", "portable_kernels", flag=True)
    parser.add_argument("--eval-every", type=int_type("eval_every_frames"), default=0, metavar="FRAMES",
                        help="also time every configuration evaluating every FRAMES frames while training (the cost of the curves)")
    flags.add_json(parser)


def _parse_configs(text: str) -> list[tuple[str, int, int]]:
    configs = []
    for item in text.split(","):
        try:
            mode, sizes = item.strip().split(":")
            workers, envs = (int(v) for v in sizes.lower().split("x"))
        except ValueError:
            raise ValueError(f"--configs: expected MODE:WORKERSxENVS such as sync:1x256, got {item!r}") from None
        if mode not in ("sync", "async") or workers < 1 or envs < 1:
            raise ValueError(f"--configs: bad configuration {item!r} (mode sync or async, sizes >= 1)")
        configs.append((mode, workers, envs))
    return configs


def run(args: argparse.Namespace) -> int:
    """Time every configuration and print the table; ValueError for a bad flag value, device or preset."""
    from nalu_rl.agents.config import load_preset
    from nalu_rl.common.devices import resolve_device

    device = str(resolve_device(args.device))
    configs = _parse_configs(args.configs or (GPU_CONFIGS if device.startswith("cuda") else CPU_CONFIGS))
    agents, envs = args.agents.split(","), args.env.split(",")
    for flag, names in (("--agents", agents), ("--env", envs)):
        if "" in names or len(set(names)) != len(names):
            raise ValueError(f"{flag}: each name once, comma-separated, got {','.join(names)!r}")
    for agent in agents:
        for env in envs:
            load_preset(agent, env=env)  # ValueError for an unknown or malformed preset, agent or env
    rows = []
    if args.ppo_frames:  # the peer on Python copies (DummyVecEnv) and on the batched twin (the adapter nalu-rl baseline uses)
        for env in envs:
            for vec in ("dummy", "batched"):
                frames, wall = _time_recurrent_ppo(env, args.ppo_frames, vec)
                rows.append({"trainer": f"sb3-contrib RecurrentPPO ({vec})", "env": env, "mode": "-", "envs": "16",
                             "device": "cpu", "variant": "native", "frames": frames, "wall_s": wall})  # fmt: skip
    variants = {"native": []}
    if args.portable_kernels:
        variants["portable"] = ["--portable-kernels"]
    if args.eval_every:
        variants[f"eval/{args.eval_every:.0e}".replace("+0", "")] = ["--eval-every", str(args.eval_every)]
    for env in envs:
        for agent in agents:
            for mode, workers, batch in configs:
                for variant, extra in variants.items():
                    frames, wall = _time_nalu_train(agent, env, device, args.frames, mode, workers, batch, extra)
                    rows.append({"trainer": f"nalu-rl {Path(agent).stem}", "env": env, "mode": mode, "envs": f"{workers}x{batch}",
                                 "device": device, "variant": variant, "frames": frames, "wall_s": wall})  # fmt: skip
    _ratios(rows, envs[0])
    print(_table(rows, envs, os.cpu_count()))
    if args.json:
        files.write_json(args.json, rows)
    return 0


def _time_nalu_train(
    agent: str, env: str, device: str, frames: int, mode: str, workers: int, envs: int, extra: list[str]
) -> tuple[int, float]:
    import torch

    with tempfile.TemporaryDirectory(prefix="nalu-rl-bench-") as tmp:
        run_dir = Path(tmp) / "run"
        cmd = [
            sys.executable, "-m", "nalu_rl", "train", "--agent", agent, "--env", env, "--frames", str(frames),
            "--mode", mode, "--workers", str(workers), "--envs-per-worker", str(envs), "--device", device,
            "--out", str(run_dir), "--quiet", *extra,
        ]  # fmt: skip
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        wall = time.perf_counter() - start
        done = torch.load(runs.latest_checkpoint(run_dir), weights_only=True)["frames"]
    return done, wall


_PPO_SCRIPT = """
import sys, torch
import nalu_rl
from nalu_rl.envs import env_kwargs_from_preset
from sb3_contrib import RecurrentPPO
from stable_baselines3.common.env_util import make_vec_env
from nalu_rl.baselines.vec_env import sb3_vec_env
torch.set_num_threads(1)
_, kwargs = env_kwargs_from_preset(sys.argv[1])
if sys.argv[3] == "dummy":
    env = make_vec_env("nalu_rl/TimedGrid-v0", n_envs=16, env_kwargs=kwargs, seed=0)
else:
    env = sb3_vec_env(kwargs, 16, 0)
model = RecurrentPPO("MultiInputLstmPolicy", env, n_steps=64, n_epochs=4, batch_size=256,
                     policy_kwargs={"lstm_hidden_size": 64}, device="cpu", seed=0, verbose=0)
model.learn(int(sys.argv[2]))
print(model.num_timesteps)
"""


def _time_recurrent_ppo(env: str, frames: int, vec: str) -> tuple[int, float]:
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", _PPO_SCRIPT, env, str(frames), vec], check=True, capture_output=True, text=True)
    wall = time.perf_counter() - start
    return int(out.stdout.split()[-1]), wall


def _ratios(rows: list[dict], first_env: str) -> None:
    """Each row's env-steps/s, its ratio to the faster peer on the same environment, and to itself on ``first_env``."""
    for row in rows:
        row["steps_per_s"] = row["frames"] / row["wall_s"]
    for row in rows:
        peers = [r["steps_per_s"] for r in rows if r["trainer"].startswith("sb3") and r["env"] == row["env"]]
        row["vs_ppo"] = row["steps_per_s"] / max(peers) if peers else None
        same = [r for r in rows if r["env"] == first_env and all(r[k] == row[k] for k in ("trainer", "mode", "envs", "variant"))]
        row["vs_first_env"] = row["steps_per_s"] / same[0]["steps_per_s"] if same else None


def _table(rows: list[dict], envs: list[str], cores: int | None) -> str:
    versus = f"x {envs[0]}"
    lines = [
        f"nalu-rl bench train: env presets {', '.join(envs)}, {cores} CPU cores; whole processes timed (start-up included)",
        f"{'trainer':<34} {'env':<11} {'mode':<6} {'envs':>9} {'device':<7} {'variant':<9} {'frames':>11} {'wall s':>8} "
        f"{'env-steps/s':>12} {'x PPO':>7}" + (f" {versus:>14}" if len(envs) > 1 else ""),
    ]
    for r in rows:
        ratio = f"{r['vs_ppo']:.1f}" if r["vs_ppo"] is not None else "-"
        line = (f"{r['trainer']:<34} {r['env']:<11} {r['mode']:<6} {r['envs']:>9} {r['device']:<7} {r['variant']:<9} "
                f"{r['frames']:>11,} {r['wall_s']:>8.1f} {r['steps_per_s']:>12,.0f} {ratio:>7}")  # fmt: skip
        if len(envs) > 1:
            line += f" {r['vs_first_env']:>14.2f}" if r["vs_first_env"] is not None else f" {'-':>14}"
        lines.append(line)
    return "\n".join(lines)
