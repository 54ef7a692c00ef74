"""Training sb3-contrib's RecurrentPPO on an environment preset into a run folder, and resuming it."""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from nalu_rl import runs
from nalu_rl.baselines import safe_load
from nalu_rl.baselines.callbacks import make_callback
from nalu_rl.baselines.hyperparameters import DEFAULT_FRAMES, model_kwargs, resolve_hyperparameters
from nalu_rl.baselines.run_folder import (
    AGENT_NAME,
    ALGOS,
    TB_NAME,
    TRAINING_FILE,
    checkpoint_path,
    model_path,
    save_model,
)
from nalu_rl.baselines.sb3 import library_versions, require_sb3
from nalu_rl.common import files
from nalu_rl.common.checks import check_int
from nalu_rl.common.devices import resolve_device
from nalu_rl.common.signals import StopSignals
from nalu_rl.envs import DEFAULT_PRESET, env_kwargs_from_preset
from nalu_rl.envs.rules import Config as EnvConfig
from nalu_rl.version import __version__


class BaselineInterrupted(KeyboardInterrupt):
    """Training stopped by SIGINT or SIGTERM after writing ``checkpoints/latest.zip``."""


def make_vec_env(env_kwargs: dict[str, Any], n_envs: int, seed: int):
    """``n_envs`` environments as one batch in SB3's VecEnv API (:mod:`nalu_rl.baselines.vec_env`), monitored;
    environment i is seeded ``seed + i`` and plays what a ``DummyVecEnv`` copy seeded so would."""
    require_sb3()
    from nalu_rl.baselines.vec_env import sb3_vec_env

    return sb3_vec_env(EnvConfig.from_dict(env_kwargs).kwargs(), n_envs, seed)


def train_recurrent_ppo(
    *,
    env: str | None = None,
    frames: int | None = None,
    seed: int | None = None,
    run_dir: str | Path | None = None,
    device: str | None = None,
    overrides: dict[str, Any] | None = None,
    resume: bool = False,
    progress: bool = True,
    checkpoint_every: int = 100_000,
    threads: int | None = 1,
) -> Path:
    """Train RecurrentPPO on an environment preset into ``run_dir`` and return the run folder.

    ``env`` is a preset name or TOML path (default :data:`nalu_rl.envs.DEFAULT_PRESET`), ``frames``
    the environment steps (default :data:`DEFAULT_FRAMES`), ``overrides`` replaces entries of
    :data:`DEFAULTS`. ``resume=True`` continues the run in ``run_dir`` from ``checkpoints/latest.zip``
    (or extends a finished one to a larger ``frames``; starts it afresh from its config.json, saying
    so, when it was stopped before its first checkpoint). ValueError / FileNotFoundError for bad
    arguments before anything is written; :class:`BaselineInterrupted` after SIGINT/SIGTERM
    (checkpoint saved). ``threads`` sets torch's intra-op threads while training (None leaves
    them): one thread is the fastest for this small network, by far so when other processes
    share the cores.
    """
    require_sb3()
    check_int("checkpoint_every", checkpoint_every, 1)
    if resume:
        config, start_from = _prepare_resume(run_dir, env, frames, seed, device, overrides)
        run_dir = Path(run_dir)
        params = resolve_hyperparameters(dict(config.agent_config))
    else:
        config = _new_config(env, frames, seed, device, overrides)
        params = dict(config.agent_config)
        run_dir = Path(run_dir) if run_dir is not None else runs.DEFAULT_RUN_ROOT / f"{AGENT_NAME}-{config.env_preset}-s{config.seed}"
        if runs.is_run_folder(run_dir):
            raise ValueError(f"{run_dir} already holds a run: continue it with --resume or choose another --out")
        if run_dir.exists() and not run_dir.is_dir():
            raise ValueError(f"run folder {run_dir} exists and is not a folder")
        start_from = None
    if threads is not None:
        check_int("threads", threads)

    runs.check_own_files(run_dir)  # before the work: no link leads its writes out of the folder
    run_dir.mkdir(parents=True, exist_ok=True)
    runs.remove_stale_temps(run_dir)  # of a run killed mid-write
    runs.write_config(run_dir, config)
    previous_threads = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        return _train(run_dir, config, params, start_from, progress, checkpoint_every)
    finally:
        torch.set_num_threads(previous_threads)


def _new_config(env: str | None, frames: int | None, seed: int | None, device: str | None,
                overrides: dict[str, Any] | None) -> runs.RunConfig:  # fmt: skip
    """The ``config.json`` of a new run. ``core``, ``mode``, ``workers`` and ``envs_per_worker`` are
    the keys :func:`nalu_rl.runs.read_config` requires, filled with what SB3 does: one
    process stepping ``n_envs`` environments in lockstep."""
    env_name, env_kwargs = env_kwargs_from_preset(env if env is not None else DEFAULT_PRESET)
    seed = check_int("seed", 0 if seed is None else seed)
    frames = check_int("frames", DEFAULT_FRAMES if frames is None else frames)
    params = resolve_hyperparameters(overrides)
    config = runs.RunConfig(
        agent=AGENT_NAME, core="sb3_lstm", agent_config=params, env_preset=env_name, env=EnvConfig.from_dict(env_kwargs),
        seed=seed, frames=frames, mode="sync", workers=1, envs_per_worker=params["n_envs"],
        device=str(resolve_device(device or "cpu")), version=__version__,
        extra={"algo": ALGOS[0], "library": library_versions()},
    )  # fmt: skip
    return runs.with_provenance(config)


def _prepare_resume(run_dir, env, frames, seed, device, overrides) -> tuple[runs.RunConfig, Path | None]:
    """The run's config updated for this session, and the model to continue from (None: none was saved)."""
    if run_dir is None:
        raise ValueError("--resume needs the run folder (--out)")
    run_dir = Path(run_dir)
    config = runs.read_config(run_dir)
    if config.agent != AGENT_NAME:
        raise ValueError(f"{run_dir} is not a RecurrentPPO baseline run (agent {config.agent!r})")
    for key, given in (("env_preset", env), ("seed", seed)):
        if given is not None and given != getattr(config, key):
            raise ValueError(f"cannot resume {run_dir} with {key} {given!r}: the run was started with {getattr(config, key)!r}")
    if overrides:
        raise ValueError("hyper-parameters cannot be changed on --resume; start a new run instead")
    if frames is not None:
        config = config.replace(frames=check_int("frames", frames))
    if device is not None:
        config = config.replace(device=str(resolve_device(device)))
    config = runs.with_resume(config, __version__)
    path = next((p for p in (checkpoint_path(run_dir), model_path(run_dir)) if p.is_file()), None)
    if path is None:
        print(f"nalu-rl: {run_dir} has no checkpoint (stopped before its first): starting it afresh from its config.json",
              file=sys.stderr)  # fmt: skip
    return config, path


def _train(run_dir: Path, config: runs.RunConfig, params: dict[str, Any], start_from: Path | None, progress: bool,
           checkpoint_every: int) -> Path:  # fmt: skip
    from sb3_contrib import RecurrentPPO

    tensorboard_log = str(run_dir / runs.TENSORBOARD_DIR)
    vec_env = make_vec_env(config.env.to_dict(), params["n_envs"], config.seed)
    if start_from is None:
        model = RecurrentPPO(
            "MultiInputLstmPolicy", vec_env, seed=config.seed, device=config.device, verbose=0,
            tensorboard_log=tensorboard_log, **model_kwargs(params),
        )  # fmt: skip
    else:
        model = RecurrentPPO.load(start_from, env=vec_env, device=config.device, tensorboard_log=tensorboard_log,
                                  custom_objects=safe_load.custom_objects(start_from))  # fmt: skip
    done_before = int(model.num_timesteps)
    remaining = config.frames - done_before
    started = time.perf_counter()
    stopped = None
    if remaining > 0:
        # Every signal only asks to stop: learn() returns at the callback's next step, and the checkpoint follows.
        with StopSignals(second_interrupts=False) as stop:
            callback = make_callback(checkpoint_path(run_dir), checkpoint_every, config.frames, done_before, progress, stop)
            try:
                model.learn(remaining, callback=callback, tb_log_name=TB_NAME, reset_num_timesteps=start_from is None)
            finally:
                callback.close()
            stopped = stop.signum
    seconds = time.perf_counter() - started
    vec_env.close()
    if stopped is not None:
        save_model(model, checkpoint_path(run_dir))
        raise BaselineInterrupted(
            f"stopped by {signal.Signals(stopped).name} at {model.num_timesteps} frames; "
            f"checkpoint saved to {checkpoint_path(run_dir)}"
        )
    save_model(model, model_path(run_dir))
    files.write_json(run_dir / TRAINING_FILE, _training_summary(model, done_before, seconds))
    checkpoint_path(run_dir).unlink(missing_ok=True)
    try:
        checkpoint_path(run_dir).parent.rmdir()  # only when empty
    except OSError:
        pass
    return run_dir


def _training_summary(model: Any, done_before: int, seconds: float) -> dict[str, Any]:
    """``training.json``: frames done, this session's speed, and SB3's window of the last episodes."""
    done = int(model.num_timesteps)
    successes = list(model.ep_success_buffer)
    rewards = [info["r"] for info in model.ep_info_buffer]
    return {
        "frames_done": done,
        "frames_this_session": done - done_before,
        "seconds_this_session": round(seconds, 3),
        "frames_per_second": round((done - done_before) / max(seconds, 1e-9), 1),
        "last_episodes": len(rewards),
        "success_rate_last_episodes": round(float(np.mean(successes)), 6) if successes else None,
        "mean_reward_last_episodes": round(float(np.mean(rewards)), 6) if rewards else None,
    }
