"""Planning a training run: a :class:`TrainRequest` checked and resolved into a :class:`Plan`, nothing written."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import torch

from nalu_rl import runs
from nalu_rl.agents.checkpoint import check_fits, check_resumable, load_checkpoint
from nalu_rl.agents.config import AgentConfig, agent_config_of, load_preset, preset_display
from nalu_rl.agents.errors import RunExists
from nalu_rl.agents.network import ActorCritic
from nalu_rl.common.checks import check_int
from nalu_rl.common.devices import resolve_device
from nalu_rl.envs import DEFAULT_PRESET, env_kwargs_from_preset
from nalu_rl.envs.rules import Config as EnvConfig
from nalu_rl.runs.config import MODES, EvalSettings, RunConfig
from nalu_rl.version import __version__

LOW_FRAMES_FACTOR = 4  # frames_warning: below a quarter of the preset's frames
# Environments one process trains on at once: a rollout keeps n_steps steps of observations and activations of each
# for the backward pass (about 2 kB a step on the grid, 20 kB on pixels), ~2 GB at n_steps 16 for these batches;
# the GPU checks use up to 2^16 grids.
MAX_TRAIN_BATCH = {"grid": 1 << 16, "pixels": 1 << 12}


@dataclass(frozen=True)
class TrainRequest:
    """What to train: the keyword arguments of :func:`nalu_rl.agents.train`, the flags of ``nalu-rl train``.

    ``agent`` and ``env`` are preset names or TOML paths; ``None`` fields take the agent
    preset's ``[run]`` defaults (seed 0, device ``cpu``). ``overrides`` replaces
    hyper-parameters or run defaults by name (e.g. ``{"lr": 3e-4}``). With ``resume=True`` the
    run in ``run_dir`` continues from its latest checkpoint; ``frames`` may extend it.
    ``checkpoint_interval`` is in seconds. ``eval_every`` (frames; 0 or None: never, unless a resumed
    run had it) evaluates extrapolation while training (agents/history.py).
    """

    agent: str | None = None
    env: str | None = None
    frames: int | None = None
    seed: int | None = None
    run_dir: str | Path | None = None
    device: str | None = None
    mode: str | None = None
    workers: int | None = None
    envs_per_worker: int | None = None
    resume: bool = False
    overrides: dict[str, Any] | None = None
    checkpoint_interval: float = 300.0
    eval_every: int | None = None
    log_interval: float = 1.0  # seconds between TensorBoard points and progress-bar updates


@dataclass
class Plan:
    """A validated run: what :func:`nalu_rl.agents.trainer.run` needs, nothing written yet."""

    run_dir: Path
    config: RunConfig  # what config.json holds
    agent_config: AgentConfig
    checkpoint: dict[str, Any] | None  # the one to resume from
    checkpoint_interval: float  # seconds between periodic checkpoints
    notes: tuple[str, ...] = field(default=())  # one line each, for the person who asked; "warning: ..." even when quiet
    log_interval: float = 1.0  # seconds between TensorBoard points


def prepare(request: TrainRequest | None = None, /, **fields: Any) -> Plan:
    """Check a :class:`TrainRequest` (or its fields, as keywords) and build the run's config.

    Raises ``ValueError`` or ``FileNotFoundError`` before anything is written.
    """
    if request is None:
        request = TrainRequest(**fields)
    elif not isinstance(request, TrainRequest) or fields:
        raise TypeError("give one TrainRequest or its fields as keywords (agent=..., frames=...), not both")
    if not request.checkpoint_interval > 0:
        raise ValueError(f"checkpoint interval must be > 0 seconds, got {request.checkpoint_interval!r}")
    if isinstance(request.log_interval, bool) or not isinstance(request.log_interval, (int, float)) or not 0 < request.log_interval <= 3600:
        raise ValueError(f"log_interval must be a number of seconds in (0, 3600], got {request.log_interval!r}")
    plan = _prepare_resume(request) if request.resume else _prepare_new(request)
    plan.log_interval = float(request.log_interval)
    c = plan.config
    if c.whole_frames != c.frames:
        plan.notes = (*plan.notes, f"{c.frames:,} frames is not a whole number of batches of {c.frames_per_batch:,}: "
                      f"training stops at {c.whole_frames:,}")  # fmt: skip
    return plan


def _prepare_new(request: TrainRequest) -> Plan:
    if request.agent is None:
        raise ValueError("an agent preset is required (e.g. --agent lstm_nac)")
    name, agent_config, defaults = load_preset(request.agent, request.overrides, request.env, request.mode)
    env_name, env_kwargs = env_kwargs_from_preset(request.env if request.env is not None else defaults.get("env", DEFAULT_PRESET))
    settings = {
        "seed": request.seed,
        "frames": _first(request.frames, defaults.get("frames")),
        "mode": _first(request.mode, defaults.get("mode")),
        "workers": _first(request.workers, defaults.get("workers")),
        "envs_per_worker": _first(request.envs_per_worker, defaults.get("envs_per_worker")),
        "device": request.device,
    }
    for key in ("frames", "envs_per_worker"):
        if settings[key] is None:
            raise ValueError(f"{key} is not set: give it or put it in the agent preset's [run] table")
    for key in ("seed", "frames", "workers", "envs_per_worker"):  # NumPy integers become ints; a run trains >= 1 frame
        if settings[key] is not None:
            settings[key] = check_int(key, settings[key])
    config = RunConfig(
        agent=name, core=agent_config.core, agent_config=agent_config.to_dict(), env_preset=env_name,
        env=EnvConfig.from_dict(env_kwargs), version=__version__, eval=EvalSettings(every=_eval_every(request)),
        display=preset_display(request.agent).to_table(), **{k: v for k, v in settings.items() if v is not None},
    )  # fmt: skip
    config = _checked(runs.with_provenance(config))
    run_dir = Path(request.run_dir) if request.run_dir is not None else runs.DEFAULT_RUN_ROOT / f"{name}-{env_name}-s{config.seed}"
    if runs.is_run_folder(run_dir):
        raise RunExists(f"{run_dir} already holds a run: continue it with --resume or choose another --out", run_dir)
    if run_dir.exists() and not run_dir.is_dir():
        raise ValueError(f"run folder {run_dir} exists and is not a folder")
    return Plan(run_dir, config, agent_config, None, request.checkpoint_interval)


def _prepare_resume(request: TrainRequest) -> Plan:
    if request.run_dir is None:
        raise ValueError("--resume needs the run folder (--out)")
    run_dir = Path(request.run_dir)
    config = runs.read_config(run_dir)
    for key, given in (("agent", request.agent), ("env_preset", request.env), ("seed", request.seed)):
        if given is not None and given != getattr(config, key):
            raise ValueError(f"cannot resume {run_dir} with {key} {given!r}: the run was started with {getattr(config, key)!r}")
    if request.overrides:
        raise ValueError("hyper-parameters cannot be changed on --resume; start a new run instead")
    agent_config = agent_config_of(run_dir, config)
    path = runs.latest_checkpoint(run_dir)
    checkpoint, notes = None, ()
    if path.is_file():
        checkpoint = load_checkpoint(path)
        check_resumable(checkpoint, path)
        with torch.random.fork_rng(devices=[]):  # building the network draws its initial weights
            check_fits(ActorCritic(config.env, agent_config), checkpoint, path, agent_config.core)
    else:
        notes = (f"warning: {run_dir} has no checkpoint (stopped before its first): starting it afresh from its config.json",)
    # complete, for the workers and config.json; a 0.2.0 lstm_nac run records the core it loads as (lstm_nac_acc)
    changes: dict[str, Any] = {"core": agent_config.core, "agent_config": agent_config.to_dict()}
    for key in ("frames", "mode", "workers", "envs_per_worker", "device"):
        given = getattr(request, key)
        if given is not None:
            changes[key] = check_int(key, given) if key in ("frames", "workers", "envs_per_worker") else given
    if request.eval_every is not None:
        changes["eval"] = replace(config.eval, every=_eval_every(request))
    config = _checked(runs.with_resume(config.replace(**changes), __version__))
    return Plan(run_dir, config, agent_config, checkpoint, request.checkpoint_interval, notes)


def frames_warning(agent: str, frames: int, env: str | None = None) -> str | None:
    """A one-line warning when ``frames`` is far below (under a quarter of) the agent preset's ``[run]`` frames; else None.

    ``agent`` and ``env`` are preset names or TOML paths as for :class:`TrainRequest`; PresetError for unknown ones.
    """
    name, _, defaults = load_preset(agent, None, env)
    preset_frames = defaults.get("frames")
    if not isinstance(preset_frames, int) or frames * LOW_FRAMES_FACTOR >= preset_frames:
        return None
    return f"warning: {frames:,} frames is far below the {preset_frames:,} the {name} preset trains with; expect little learning"


def _eval_every(request: TrainRequest) -> int:
    return 0 if request.eval_every is None else check_int("eval_every", request.eval_every, limit="eval_every_frames")


def _first(*values):
    return next((v for v in values if v is not None), None)


def _checked(config: RunConfig) -> RunConfig:
    """The config with its device resolved; ValueError for a mode, batch or device the trainers cannot run."""
    if config.mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {config.mode!r}")
    what = "workers x envs_per_worker" if config.mode == "sync" else "envs_per_worker"
    obs_mode = config.env.obs_mode
    if config.batch > MAX_TRAIN_BATCH[obs_mode]:
        raise ValueError(f"{what} must be at most {MAX_TRAIN_BATCH[obs_mode]:,} environments in one batch on {obs_mode}, got {config.batch:,}")
    per_batch = config.frames_per_batch
    batch = f"one batch of {per_batch:,} frames ({what} {config.batch:,} x n_steps {config.agent_config['n_steps']})"
    if config.eval.every and config.eval.every < per_batch:
        raise ValueError(f"eval_every must be 0 (never) or at least {batch}, got {config.eval.every:,}")
    return config.replace(device=str(resolve_device(config.device)))
