"""The package on a GPU: batched environments, sync and async training, checkpoints across devices, predict.

Marked ``cuda`` and skipped where no CUDA device is visible. ``scripts/gpu/run.sh`` runs them on
a GPU machine; its CPU rehearsal (``--device cpu``) sets ``NALU_RL_CUDA_TESTS_DEVICE=cpu`` so that
the same code runs once on the CPU before any device time is spent on it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from nalu_rl.agents import AgentConfig, load_agent, train
from nalu_rl.agents.checkpoint import load_checkpoint
from nalu_rl.agents.network import ActorCritic
from nalu_rl.envs.batched import TimedGridVecEnv
from nalu_rl.envs.rules import Config
from nalu_rl.envs.timed_grid import TimedGridEnv

DEVICE = os.environ.get("NALU_RL_CUDA_TESTS_DEVICE", "cuda")
pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(DEVICE.startswith("cuda") and not torch.cuda.is_available(), reason="no CUDA device visible"),
]

# 8 environments x 16 steps = 128 frames per update.
SMALL = {"agent": "lstm_nac", "env": "fast", "mode": "sync", "workers": 1, "envs_per_worker": 8, "progress": False,
         "overrides": {"n_steps": 16}}  # fmt: skip


def checkpoint(run_dir: Path) -> dict:
    return load_checkpoint(run_dir / "checkpoints" / "latest.pt")


def initial_params(run_dir: Path) -> dict[str, torch.Tensor]:
    config = json.loads((run_dir / "config.json").read_text())
    torch.manual_seed(config["seed"])
    return ActorCritic(Config.from_dict(config["env"]), AgentConfig.from_dict(config["agent_config"])).state_dict()


def assert_same(a, b, where: str) -> None:
    """Equal values (dicts of tensors key by key), whatever device each lives on."""
    if isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for key in a:
            assert_same(a[key], b[key], f"{where}[{key}]")
    else:
        assert torch.equal(torch.as_tensor(a).cpu(), torch.as_tensor(b).cpu()), where


@pytest.mark.parametrize(
    "kwargs",
    [
        {"obs_mode": "grid"},
        {"obs_mode": "pixels"},
        {"obs_mode": "grid", "placement": "uniform", "reward": "graded", "time_limit": 9},
    ],
    ids=["grid", "pixels", "grid-uniform-graded"],
)
def test_the_batched_env_on_cuda_plays_the_episodes_it_plays_on_cpu(kwargs):
    k, steps = 64, 120  # several episodes per environment, through same-step autoresets
    seeds = [int(s) for s in np.random.default_rng(1).integers(0, 2**62, k)]
    actions = torch.as_tensor(np.random.default_rng(2).integers(0, 5, (steps, k)))
    cpu, gpu = TimedGridVecEnv(num_envs=k, device="cpu", **kwargs), TimedGridVecEnv(num_envs=k, device=DEVICE, **kwargs)
    cpu_obs, cpu_info = cpu.reset(seed=seeds)
    gpu_obs, gpu_info = gpu.reset(seed=seeds)
    assert gpu_obs["image"].device.type == torch.device(DEVICE).type
    assert_same(cpu_obs, gpu_obs, "reset obs")
    assert_same(cpu_info, gpu_info, "reset infos")
    episodes = 0
    for step in range(steps):
        cpu_out, gpu_out = cpu.step(actions[step]), gpu.step(actions[step].to(DEVICE))
        for name, a, b in zip(("obs", "reward", "terminated", "truncated", "infos"), cpu_out, gpu_out):
            assert_same(a, b, f"step {step} {name}")
        episodes += int(cpu_out[4]["_final_obs"].sum())
    assert episodes >= 2 * k

    # the batched twin still plays what the single environment plays
    single = TimedGridEnv(**kwargs)
    obs, _ = single.reset(seed=seeds[0])
    gpu_obs, _ = gpu.reset(seed=seeds)
    np.testing.assert_array_equal(obs["image"], gpu_obs["image"][0].cpu().numpy())


def test_a_sync_training_step_on_cuda(tmp_path):
    run_dir = train(frames=256, seed=4, device=DEVICE, run_dir=tmp_path / "run", **SMALL)
    config = json.loads((run_dir / "config.json").read_text())
    assert config["device"] == str(torch.device(DEVICE))
    saved = checkpoint(run_dir)
    assert (saved["frames"], saved["updates"]) == (256, 2)
    initial = initial_params(run_dir)
    assert not all(torch.equal(initial[k], v) for k, v in saved["model"].items())
    assert all(torch.isfinite(v).all() for v in saved["model"].values())


@pytest.mark.parametrize("written_on, loaded_on", [(DEVICE, "cpu"), ("cpu", DEVICE)], ids=["cuda-to-cpu", "cpu-to-cuda"])
def test_a_checkpoint_loads_and_resumes_on_the_other_device(tmp_path, written_on, loaded_on):
    run_dir = train(frames=256, seed=2, device=written_on, run_dir=tmp_path / "run", **SMALL)
    there, here = load_agent(run_dir, device=written_on), load_agent(run_dir, device=loaded_on)
    assert here.device == torch.device(loaded_on)
    assert all(p.device.type == torch.device(loaded_on).type for p in here.network.parameters())
    env = TimedGridVecEnv(num_envs=32, obs_mode="grid", device="cpu")
    obs, _ = env.reset(seed=0)
    outputs = []
    for agent in (there, here):
        dev = agent.device
        with torch.inference_mode():
            logits, value, state = agent.network(obs["image"].to(dev), obs["instruction"].to(dev), agent.initial_state(32))
        outputs.append((logits.cpu(), value.cpu(), state.cpu()))
    for a, b in zip(*outputs):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)

    train(run_dir=run_dir, frames=512, device=loaded_on, resume=True, progress=False)
    resumed = checkpoint(run_dir)
    assert (resumed["frames"], resumed["updates"]) == (512, 4)
    assert json.loads((run_dir / "config.json").read_text())["device"] == str(torch.device(loaded_on))
    assert all(torch.isfinite(v).all() for v in resumed["model"].values())


def test_async_workers_on_one_gpu_train(tmp_path):
    import multiprocessing

    run_dir = train(agent="lstm_nac", env="fast", frames=2048, mode="async", workers=3, envs_per_worker=8, device=DEVICE,
                    run_dir=tmp_path / "run", progress=False)  # fmt: skip
    saved = checkpoint(run_dir)
    assert saved["frames"] >= 2048 and saved["updates"] >= 16
    initial = initial_params(run_dir)
    assert not all(torch.equal(initial[k], v) for k, v in saved["model"].items())
    assert all(torch.isfinite(v).all() for v in saved["model"].values())
    assert not (run_dir / "errors").exists()
    assert not [p for p in multiprocessing.active_children() if p.name.startswith("nalu-rl-worker")]


def _workers(pid: int) -> set[int]:
    """The multiprocessing workers that process ``pid`` spawned (not its resource tracker)."""
    found = set()
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            parent = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
            spawned = parent == pid and b"spawn_main" in (proc / "cmdline").read_bytes()
        except OSError:  # the process has just exited
            continue
        if spawned:
            found.add(int(proc.name))
    return found


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads worker processes from /proc")
def test_async_workers_on_one_gpu_stop_cleanly_on_sigterm(tmp_path):
    run_dir = tmp_path / "run"
    cmd = [sys.executable, "-m", "nalu_rl", "train", "--agent", "lstm", "--env", "fast", "--frames", "1e12", "--mode", "async",
           "--workers", "2", "--envs-per-worker", "8", "--device", DEVICE, "--out", str(run_dir), "--quiet",
           "--checkpoint-interval", "0.5"]  # fmt: skip
    latest = run_dir / "checkpoints" / "latest.pt"
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(lambda: len(_workers(proc.pid)) == 2, 180, "the workers")
        workers = _workers(proc.pid)
        _wait_for(lambda: latest.exists() and load_checkpoint(latest)["frames"] > 0, 180, "the workers to train")
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert "stopped by SIGTERM" in err and "--resume" in err and "Traceback" not in err
    _wait_for(lambda: not [pid for pid in workers if _alive(pid)], 30, "the worker processes to exit")
    assert checkpoint(run_dir)["frames"] > 0
    assert not (run_dir / "errors").exists()


def test_load_agent_predict_on_cuda(tmp_path):
    run_dir = train(frames=256, seed=1, device="cpu", run_dir=tmp_path / "run", **SMALL)
    agent, reference = load_agent(run_dir, device=DEVICE), load_agent(run_dir, device="cpu")
    assert agent.device == torch.device(DEVICE)

    env = TimedGridEnv(obs_mode="grid")
    obs, _ = env.reset(seed=0)
    action, state = agent.predict(obs, deterministic=True)
    assert isinstance(action, np.integer) and 0 <= action < 5
    assert isinstance(state, np.ndarray) and state.shape == (1, agent.network.state_size)

    vec = TimedGridVecEnv(num_envs=64, obs_mode="grid", device=DEVICE)
    batch, _ = vec.reset(seed=0)
    actions, state = agent.predict(batch, deterministic=True)
    assert actions.device == state.device == batch["image"].device and actions.shape == (64,)
    ref_actions, ref_state = reference.predict({k: v.cpu() for k, v in batch.items()}, deterministic=True)
    torch.testing.assert_close(state.cpu(), ref_state, rtol=1e-4, atol=1e-5)
    with torch.inference_mode():
        logits = reference.network(batch["image"].cpu(), batch["instruction"].cpu(), reference.initial_state(64))[0]
    top2 = logits.topk(2, dim=1).values
    clear = (top2[:, 0] - top2[:, 1]) > 1e-3  # where the greedy choice is not a near-tie, both devices agree
    assert torch.equal(actions.cpu()[clear], ref_actions[clear]) and clear.any()

    batch, *_ = vec.step(actions)
    sampled, state = agent.predict(batch, state, episode_start=torch.zeros(64, dtype=torch.bool, device=DEVICE))
    assert sampled.device == batch["image"].device and ((sampled >= 0) & (sampled < 5)).all()
    numpy_actions, numpy_state = agent.predict({k: v.cpu().numpy() for k, v in batch.items()}, state.cpu().numpy())
    assert isinstance(numpy_actions, np.ndarray) and numpy_actions.shape == (64,) and numpy_state.shape == tuple(state.shape)
