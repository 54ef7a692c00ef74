"""The Stable-Baselines3 peer: sb3-contrib's ``RecurrentPPO`` on ``nalu_rl/TimedGrid-v0``.

:func:`train_recurrent_ppo` trains ``RecurrentPPO("MultiInputLstmPolicy", ...)`` (an LSTM of 64
units, 16 environments in a ``DummyVecEnv``) on the same environment preset as our agents and
writes an ordinary run folder::

    config.json            {"agent": "recurrent_ppo", "algo": "recurrent-ppo", "env", "env_preset", "seed", "frames", ...}
    model.zip              the SB3 model (RecurrentPPO.save), written when training finishes
    training.json          frames done, wall time, success rate and reward of the last 100 episodes
    tb/RecurrentPPO_1/     SB3's own TensorBoard logs (rollout/success_rate, rollout/ep_rew_mean, train/...)
    checkpoints/latest.zip periodic checkpoint while training (removed once model.zip is written)

:func:`load_sb3_agent` returns an :class:`SB3Agent` with the ``predict`` / ``initial_state`` /
``config`` of :class:`nalu_rl.agents.Agent`, so ``evaluate_run``, ``play`` and the report take
the peer like any other run. Resuming continues from the checkpoint with the saved weights and
optimiser state; it is not bit-identical to an uninterrupted run (SB3 saves neither the rollout
buffer nor the environments' random streams).
"""

from __future__ import annotations

import json
import math
import numbers
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from nalu_rl import __version__
from nalu_rl.agents import runs
from nalu_rl.envs import DEFAULT_PRESET, ENV_ID, env_kwargs_from_preset

AGENT_NAME = "recurrent_ppo"
ALGOS = ("recurrent-ppo",)
MODEL_FILE = "model.zip"
TRAINING_FILE = "training.json"
CHECKPOINT_FILE = "latest.zip"
TB_NAME = "RecurrentPPO"
DEFAULT_RUN_ROOT = Path("runs")
DEFAULT_FRAMES = 1_000_000
INSTALL_HINT = "pip install -e '.[sb3]' (stable-baselines3 and sb3-contrib; the dev extra has them too)"

# Tuned lightly for this task: short episodes (T + 10 steps at most), a reward only at the end.
DEFAULTS: dict[str, Any] = {
    "n_envs": 16,  # DummyVecEnv copies of the environment
    "n_steps": 128,  # steps per environment per rollout (a rollout is n_envs * n_steps frames)
    "batch_size": 512,  # frames per minibatch (RecurrentPPO cuts them into whole sequences)
    "n_epochs": 4,
    "learning_rate": 1e-3,
    "gamma": 0.99,
    "gae_lambda": 0.95,
    "clip_range": 0.2,
    "ent_coef": 0.01,
    "vf_coef": 0.5,
    "max_grad_norm": 0.5,
    "lstm_hidden_size": 64,
    "net_arch": 64,  # width of the one hidden layer of the policy and value heads after the LSTM
}
_INT_KEYS = ("n_envs", "n_steps", "batch_size", "n_epochs", "lstm_hidden_size", "net_arch")


class BaselineInterrupted(KeyboardInterrupt):
    """Training stopped by SIGINT or SIGTERM after writing ``checkpoints/latest.zip``."""


def _sb3():
    try:
        import sb3_contrib
        import stable_baselines3
    except ImportError as err:
        raise ImportError(f"the RecurrentPPO baseline needs Stable-Baselines3 ({err.name} is missing): {INSTALL_HINT}") from None
    return stable_baselines3, sb3_contrib


# --------------------------------------------------------------------------- hyper-parameters


def resolve_hyperparameters(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """:data:`DEFAULTS` with ``overrides`` applied and checked (ValueError naming the bad key)."""
    params = dict(DEFAULTS)
    for key, value in (overrides or {}).items():
        if key not in DEFAULTS:
            raise ValueError(f"unknown RecurrentPPO hyper-parameter {key!r}; allowed: {', '.join(sorted(DEFAULTS))}")
        params[key] = value
    for key, value in params.items():
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
            raise ValueError(f"{key} must be a number, got {value!r}")
        if key in _INT_KEYS:
            if not isinstance(value, numbers.Integral) or value < 1:
                raise ValueError(f"{key} must be an integer >= 1, got {value!r}")
        elif key in ("gamma", "gae_lambda"):
            if not 0 <= value <= 1:
                raise ValueError(f"{key} must be in [0, 1], got {value!r}")
        elif value < 0 or (key in ("learning_rate", "clip_range", "max_grad_norm") and value == 0):
            raise ValueError(f"{key} must be a number > 0, got {value!r}")
    if params["batch_size"] < 2:
        raise ValueError("batch_size must be >= 2 (PPO normalises advantages over a minibatch)")
    return params


def _model_kwargs(params: dict[str, Any]) -> dict[str, Any]:
    kwargs = {k: v for k, v in params.items() if k not in ("n_envs", "lstm_hidden_size", "net_arch")}
    kwargs["policy_kwargs"] = {"lstm_hidden_size": params["lstm_hidden_size"], "net_arch": [params["net_arch"]]}
    return kwargs


# --------------------------------------------------------------------------- run folder


def model_path(run_dir: Path) -> Path:
    return Path(run_dir) / MODEL_FILE


def checkpoint_path(run_dir: Path) -> Path:
    return Path(run_dir) / runs.CHECKPOINT_DIR / CHECKPOINT_FILE


def is_finished(run_dir: Path) -> bool:
    """Whether the baseline in ``run_dir`` trained all its frames (``model.zip`` and ``training.json`` agree)."""
    run_dir = Path(run_dir)
    try:
        config = json.loads((run_dir / runs.CONFIG_FILE).read_text())
        done = json.loads((run_dir / TRAINING_FILE).read_text())["frames_done"]
        return model_path(run_dir).is_file() and int(done) >= int(config["frames"])
    except (OSError, ValueError, KeyError, TypeError):
        return False


def _atomic_save(model, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.zip")  # SB3 appends .zip to names without it
    try:
        model.save(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _write_json(path: Path, doc: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(doc, indent=2) + "\n")
    os.replace(tmp, path)


# --------------------------------------------------------------------------- training


class _SuccessInfo(gym.Wrapper):
    """Copies the env's ``success`` into ``is_success`` at episode end, so SB3 logs ``rollout/success_rate``."""

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        if "success" in info:
            info["is_success"] = info["success"]
        return obs, reward, terminated, truncated, info


def make_vec_env(env_kwargs: dict[str, Any], n_envs: int, seed: int):
    """``n_envs`` monitored copies of the environment in a ``DummyVecEnv``; copy i is seeded ``seed + i``."""
    _sb3()
    from stable_baselines3.common.env_util import make_vec_env as sb3_make_vec_env
    from stable_baselines3.common.vec_env import DummyVecEnv

    kwargs = {**env_kwargs, "t_range": tuple(env_kwargs["t_range"])}
    return sb3_make_vec_env(
        ENV_ID, n_envs=n_envs, seed=seed, env_kwargs=kwargs, wrapper_class=_SuccessInfo, vec_env_cls=DummyVecEnv
    )


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

    ``env`` is a preset name or TOML path (default ``fast``), ``frames`` the environment steps
    (default :data:`DEFAULT_FRAMES`), ``overrides`` replaces entries of :data:`DEFAULTS`.
    ``resume=True`` continues the run in ``run_dir`` from ``checkpoints/latest.zip`` (or extends a
    finished one to a larger ``frames``). ValueError / FileNotFoundError for bad arguments before
    anything is written; :class:`BaselineInterrupted` after SIGINT/SIGTERM (checkpoint saved).
    ``threads`` sets torch's intra-op threads while training (None leaves them): one thread is the
    fastest for this small network, by far so when other processes share the cores.
    """
    _sb3()
    from nalu_rl.envs.batched import resolve_device

    if isinstance(checkpoint_every, bool) or not isinstance(checkpoint_every, numbers.Integral) or checkpoint_every < 1:
        raise ValueError(f"checkpoint_every must be an integer >= 1, got {checkpoint_every!r}")
    if resume:
        config, start_from = _prepare_resume(run_dir, env, frames, seed, device, overrides)
        run_dir = Path(run_dir)
        params = resolve_hyperparameters(config["agent_config"])
    else:
        env_name, env_kwargs = env_kwargs_from_preset(env if env is not None else DEFAULT_PRESET)
        seed = 0 if seed is None else seed
        frames = DEFAULT_FRAMES if frames is None else frames
        _check_int("seed", seed, 0)
        _check_int("frames", frames, 1)
        params = resolve_hyperparameters(overrides)
        config = {
            "agent": AGENT_NAME,
            "algo": ALGOS[0],
            "core": "sb3_lstm",
            "agent_config": params,
            "env_preset": env_name,
            "env": {"obs_mode": "pixels", **env_kwargs, "t_range": list(env_kwargs.get("t_range", (5, 12)))},
            "seed": int(seed),
            "frames": int(frames),
            "mode": "sync",
            "workers": 1,
            "envs_per_worker": params["n_envs"],
            "device": str(resolve_device(device or "cpu")),
            "version": __version__,
            "library": _library_versions(),
        }
        run_dir = Path(run_dir) if run_dir is not None else DEFAULT_RUN_ROOT / f"{AGENT_NAME}-{env_name}-s{seed}"
        if (run_dir / runs.CONFIG_FILE).exists():
            raise ValueError(f"{run_dir} already holds a run: continue it with --resume or choose another --run-dir")
        if run_dir.exists() and not run_dir.is_dir():
            raise ValueError(f"run folder {run_dir} exists and is not a folder")
        start_from = None

    if threads is not None:
        _check_int("threads", threads, 1)
    run_dir.mkdir(parents=True, exist_ok=True)
    runs.write_config(run_dir, config)
    previous_threads = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        return _train(run_dir, config, params, start_from, progress, checkpoint_every)
    finally:
        torch.set_num_threads(previous_threads)


def _train(run_dir: Path, config: dict[str, Any], params: dict[str, Any], start_from: Path | None, progress: bool,
           checkpoint_every: int) -> Path:  # fmt: skip
    from sb3_contrib import RecurrentPPO

    vec_env = make_vec_env(config["env"], params["n_envs"], config["seed"])
    if start_from is None:
        model = RecurrentPPO(
            "MultiInputLstmPolicy", vec_env, seed=config["seed"], device=config["device"], verbose=0,
            tensorboard_log=str(run_dir / runs.TENSORBOARD_DIR), **_model_kwargs(params),
        )  # fmt: skip
    else:
        model = RecurrentPPO.load(
            start_from, env=vec_env, device=config["device"], tensorboard_log=str(run_dir / runs.TENSORBOARD_DIR)
        )
    done_before = int(model.num_timesteps)
    remaining = config["frames"] - done_before
    started = time.perf_counter()
    stopped = None
    if remaining > 0:
        with _StopSignals() as stop:
            callback = _make_callback(checkpoint_path(run_dir), checkpoint_every, config["frames"], done_before, progress, stop)
            try:
                model.learn(remaining, callback=callback, tb_log_name=TB_NAME, reset_num_timesteps=start_from is None)
            except KeyboardInterrupt:
                stop.signum = stop.signum or signal.SIGINT
            finally:
                callback.close()
            stopped = stop.signum
    seconds = time.perf_counter() - started
    vec_env.close()
    if stopped is not None:
        _atomic_save(model, checkpoint_path(run_dir))
        raise BaselineInterrupted(
            f"stopped by {signal.Signals(stopped).name} at {model.num_timesteps} frames; "
            f"checkpoint saved to {checkpoint_path(run_dir)}"
        )
    _atomic_save(model, model_path(run_dir))
    successes = list(model.ep_success_buffer)
    rewards = [info["r"] for info in model.ep_info_buffer]
    _write_json(
        run_dir / TRAINING_FILE,
        {
            "frames_done": int(model.num_timesteps),
            "frames_this_session": int(model.num_timesteps) - done_before,
            "seconds_this_session": round(seconds, 3),
            "frames_per_second": round((int(model.num_timesteps) - done_before) / max(seconds, 1e-9), 1),
            "last_episodes": len(rewards),
            "success_rate_last_episodes": round(float(np.mean(successes)), 6) if successes else None,
            "mean_reward_last_episodes": round(float(np.mean(rewards)), 6) if rewards else None,
        },
    )
    checkpoint_path(run_dir).unlink(missing_ok=True)
    try:
        checkpoint_path(run_dir).parent.rmdir()  # only when empty
    except OSError:
        pass
    return run_dir


def _prepare_resume(run_dir, env, frames, seed, device, overrides) -> tuple[dict[str, Any], Path]:
    from nalu_rl.envs.batched import resolve_device

    if run_dir is None:
        raise ValueError("--resume needs the run folder (--run-dir)")
    run_dir = Path(run_dir)
    config = dict(runs.read_config(run_dir))
    if config.get("agent") != AGENT_NAME:
        raise ValueError(f"{run_dir} is not a RecurrentPPO baseline run (agent {config.get('agent')!r})")
    for key, given in (("env_preset", env), ("seed", seed)):
        if given is not None and given != config[key]:
            raise ValueError(f"cannot resume {run_dir} with {key} {given!r}: the run was started with {config[key]!r}")
    if overrides:
        raise ValueError("hyper-parameters cannot be changed on --resume; start a new run instead")
    if frames is not None:
        _check_int("frames", frames, 1)
        config["frames"] = int(frames)
    if device is not None:
        config["device"] = str(resolve_device(device))
    config["version"] = __version__
    for path in (checkpoint_path(run_dir), model_path(run_dir)):
        if path.is_file():
            return config, path
    raise FileNotFoundError(
        f"nothing to resume in {run_dir}: neither {checkpoint_path(run_dir)} nor {model_path(run_dir)} exists"
    )


def _check_int(name: str, value: Any, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")


def _library_versions() -> dict[str, str]:
    sb3, contrib = _sb3()
    return {"stable_baselines3": sb3.__version__, "sb3_contrib": contrib.__version__, "torch": torch.__version__}


class _StopSignals:
    """SIGINT/SIGTERM set ``signum`` (training stops after the current step) instead of killing the process."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> _StopSignals:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    def _handle(self, signum: int, frame) -> None:
        self.signum = signum


def _make_callback(path: Path, every: int, total: int, start: int, progress: bool, stop: _StopSignals):
    """An SB3 callback: a checkpoint every ``every`` frames, a progress bar, and the stop flag."""
    from stable_baselines3.common.callbacks import BaseCallback

    class Callback(BaseCallback):
        def __init__(self) -> None:
            super().__init__()
            self._next = start + every
            self._last = start
            self._bar = None
            if progress:
                from tqdm.auto import tqdm

                self._bar = tqdm(total=total, initial=start, desc="recurrent-ppo", unit="frame", unit_scale=True)

        def _on_step(self) -> bool:
            now = self.model.num_timesteps
            if self._bar is not None:
                self._bar.update(now - self._last)
            self._last = now
            if now >= self._next:
                _atomic_save(self.model, path)
                self._next = now + every
            return stop.signum is None

        def close(self) -> None:
            if self._bar is not None:
                self._bar.close()
                self._bar = None

    return Callback()


# --------------------------------------------------------------------------- the trained agent


class SB3Agent:
    """A trained SB3 recurrent model behind the interface of :class:`nalu_rl.agents.Agent`.

    The recurrent state is one array of shape (B, 2·layers·hidden) holding the actor LSTM's h and c
    (NumPy or torch like the observation), so callers treat it as opaquely as our agents' state.
    """

    def __init__(self, model, config: dict[str, Any], device: torch.device) -> None:
        self.model = model
        self.config = config
        self.device = torch.device(device)
        self._layers, _, self._hidden = model.policy.lstm_hidden_state_shape
        self.state_size = 2 * self._layers * self._hidden

    def initial_state(self, batch_size: int) -> torch.Tensor:
        """The recurrent state at the start of an episode, (batch_size, state_size) zeros on the agent's device."""
        return torch.zeros(batch_size, self.state_size, device=self.device)

    def predict(self, obs: dict[str, Any], state: Any = None, episode_start: Any = None, deterministic: bool = False):
        """``(actions, next state)`` for one Gymnasium observation (→ ``np.int64``) or a batch (NumPy or torch)."""
        image = obs["image"]
        as_torch = isinstance(image, torch.Tensor)
        single = image.ndim == 3
        batch = 1 if single else int(image.shape[0])
        np_obs = {key: _numpy(value).reshape(batch, *np.shape(value)[(0 if single else 1) :]) for key, value in obs.items()}
        np_obs["instruction"] = np_obs["instruction"].reshape(batch, 1).astype(np.float32)
        lstm_state = None
        if state is not None:
            flat = _numpy(state).astype(np.float32)
            if flat.shape != (batch, self.state_size):
                raise ValueError(f"state must have shape ({batch}, {self.state_size}), got {tuple(np.shape(state))}")
            half = self._layers * self._hidden
            parts = (flat[:, i * half : (i + 1) * half].reshape(batch, self._layers, self._hidden) for i in (0, 1))
            lstm_state = tuple(np.ascontiguousarray(part.transpose(1, 0, 2)) for part in parts)  # (layers, B, hidden)
        start = None if episode_start is None else _numpy(episode_start).reshape(batch).astype(np.float32)
        actions, (h, c) = self.model.predict(np_obs, state=lstm_state, episode_start=start, deterministic=deterministic)
        actions = np.asarray(actions, dtype=np.int64).reshape(batch)
        new_state = np.concatenate([h.transpose(1, 0, 2).reshape(batch, -1), c.transpose(1, 0, 2).reshape(batch, -1)], axis=1)
        if as_torch:
            return torch.as_tensor(actions, device=self.device), torch.as_tensor(new_state, device=self.device)
        return (actions[0] if single else actions), new_state


def _numpy(value: Any) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    return np.asarray(value)


def load_sb3_agent(run_dir: str | Path, device: str | torch.device = "cpu") -> SB3Agent:
    """The peer of a baseline run folder (``model.zip``, else the latest checkpoint of an unfinished run).

    FileNotFoundError for a missing folder, config or model; ValueError for a damaged one.
    """
    _sb3()
    from sb3_contrib import RecurrentPPO

    from nalu_rl.envs.batched import resolve_device

    run_dir = Path(run_dir)
    config = runs.read_config(run_dir)
    if config.get("agent") != AGENT_NAME:
        raise ValueError(f"{run_dir} is not a RecurrentPPO baseline run (agent {config.get('agent')!r})")
    path = next((p for p in (model_path(run_dir), checkpoint_path(run_dir)) if p.is_file()), None)
    if path is None:
        raise FileNotFoundError(f"no trained model in {run_dir}: {MODEL_FILE} not found")
    dev = resolve_device(device)
    # The schedules are only needed to train; replacing them keeps loading independent of how they were pickled.
    custom = {"learning_rate": 0.0, "lr_schedule": lambda _: 0.0, "clip_range": lambda _: 0.0}
    try:
        model = RecurrentPPO.load(path, device=dev, custom_objects=custom)
    except Exception as err:  # zipfile, pickle, torch and KeyError all signal a damaged file
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ValueError(f"corrupt model {path}: {reason}") from None
    return SB3Agent(model, config, dev)
