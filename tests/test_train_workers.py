"""Asynchronous (A3C) workers: shared training, and a dead worker stops the run with a clear reason."""

from __future__ import annotations

import dataclasses
import json
import multiprocessing
import os
import signal
import threading
import time

import pytest
import torch

from nalu_rl.agents import AgentConfig, WorkerError, load_agent, train
from nalu_rl.agents.checkpoint import load_checkpoint
from nalu_rl.agents.config import load_preset
from nalu_rl.agents.network import ActorCritic
from nalu_rl.agents.trainer import prepare, run
from nalu_rl.envs.rules import Config


def test_async_workers_update_the_shared_network(tmp_path):
    run_dir = train(agent="lstm_nac", frames=2048, mode="async", workers=2, envs_per_worker=8, run_dir=tmp_path / "run", progress=False)
    config = json.loads((run_dir / "config.json").read_text())
    checkpoint = load_checkpoint(run_dir / "checkpoints" / "latest.pt")
    assert checkpoint["frames"] >= 2048 and checkpoint["updates"] >= 16
    torch.manual_seed(config["seed"])
    initial = ActorCritic(Config.from_dict(config["env"]), AgentConfig.from_dict(config["agent_config"])).state_dict()
    assert not all(torch.equal(initial[k], v) for k, v in checkpoint["model"].items())
    assert load_agent(run_dir).config["mode"] == "async"
    assert not (run_dir / "errors").exists()


def test_one_async_worker_retraces_the_sync_run(tmp_path):
    """One A3C worker is A2C: the same seed stream, gradients and steps, so the same network bit for bit.

    Its gradients reach the shared network through a copy; a copy lost on the way (none, zeros
    or a wrong sign) or a step of the worker's local parameters instead would end elsewhere.
    """
    same = load_preset("lstm_nac", mode="sync")[1]  # the preset's [async] table would change the optimiser
    options = {"agent": "lstm_nac", "env": "fast", "frames": 384, "seed": 5, "workers": 1, "envs_per_worker": 8,
               "progress": False, "overrides": {"n_steps": 16, "optimizer": same.optimizer, "lr": same.lr}}  # fmt: skip
    sync = load_checkpoint(train(mode="sync", run_dir=tmp_path / "sync", **options) / "checkpoints" / "latest.pt")
    hogwild = load_checkpoint(train(mode="async", run_dir=tmp_path / "async", **options) / "checkpoints" / "latest.pt")
    assert (hogwild["frames"], hogwild["updates"]) == (sync["frames"], sync["updates"]) == (384, 3)
    assert all(torch.equal(sync["model"][k], hogwild["model"][k]) for k in sync["model"])


def test_a_killed_worker_stops_training_and_is_named(tmp_path):
    def kill_a_worker():
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            workers = [p for p in multiprocessing.active_children() if p.name == "nalu-rl-worker-1"]
            if workers and workers[0].pid and (tmp_path / "run" / "tb").is_dir():
                time.sleep(3.0)  # let it start stepping
                os.kill(workers[0].pid, signal.SIGKILL)
                return
            time.sleep(0.1)

    killer = threading.Thread(target=kill_a_worker, daemon=True)
    killer.start()
    started = time.monotonic()
    with pytest.raises(WorkerError, match=r"worker 1 died: killed by signal SIGKILL"):
        train(agent="lstm", frames=10**12, mode="async", workers=2, envs_per_worker=4, run_dir=tmp_path / "run", progress=False)
    killer.join()
    assert time.monotonic() - started < 150
    assert not [p for p in multiprocessing.active_children() if p.name.startswith("nalu-rl-worker")]
    load_checkpoint(tmp_path / "run" / "checkpoints" / "latest.pt")  # the last good checkpoint is intact


def test_a_worker_that_raises_is_reported_with_its_error(tmp_path):
    plan = prepare(agent="lstm", frames=10**12, mode="async", workers=2, envs_per_worker=4, run_dir=tmp_path / "run")
    # A config only the workers act on: they fail building their environments.
    plan.config = plan.config.replace(env=dataclasses.replace(plan.config.env, time_limit=0))
    with pytest.raises(WorkerError, match=r"worker \d died: ValueError: time_limit must be None or an integer >= 1"):
        run(plan, progress=False)
    assert list((tmp_path / "run" / "errors").glob("worker-*.txt"))
