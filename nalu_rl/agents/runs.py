"""The run folder: ``config.json``, ``checkpoints/latest.pt`` and TensorBoard events under ``tb/``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from nalu_rl.common import files
from nalu_rl.common.checks import MAX_FRAMES, check_int
from nalu_rl.common.provenance import command_line, kernels, libraries, provenance, utc_now
from nalu_rl.envs.rules import Config

CONFIG_FILE = "config.json"
CHECKPOINT_DIR = "checkpoints"
LATEST = "latest.pt"
BEST = "best.pt"  # chosen by the training range alone (agents/history.py)
HISTORY_FILE = "eval_history.csv"  # the in-training evaluations (agents/history.py)
TENSORBOARD_DIR = "tb"
DEFAULT_RUN_ROOT = Path("runs")  # where a run goes when no --out is given
ERRORS_DIR = "errors"
DAMAGED_CONFIG = "restore it from a copy, or train the run again into a new --out folder"
# What each field of config.json must hold; a file edited by hand or written by something else is refused by name.
CONFIG_TYPES: dict[str, tuple[tuple[type, ...], str]] = {
    "agent": ((str,), "a preset name"), "core": ((str,), "a core name"), "agent_config": ((dict,), "a table"),
    "env_preset": ((str,), "a preset name"), "env": ((dict,), "a table of environment settings"),
    "seed": ((int,), "an integer"), "frames": ((int,), "an integer"), "mode": ((str,), "sync or async"),
    "workers": ((int,), "an integer"), "envs_per_worker": ((int,), "an integer"), "device": ((str,), "a device name"),
    "version": ((str,), "a version string"),
}  # fmt: skip
CONFIG_KEYS = (
    "agent", "core", "agent_config", "env_preset", "env", "seed", "frames",
    "mode", "workers", "envs_per_worker", "device", "version",
)  # fmt: skip


def latest_checkpoint(run_dir: Path) -> Path:
    return Path(run_dir) / CHECKPOINT_DIR / LATEST


def best_checkpoint(run_dir: Path) -> Path:
    return Path(run_dir) / CHECKPOINT_DIR / BEST


CHECKPOINTS = {"latest": latest_checkpoint, "best": best_checkpoint}  # what eval can score: the final weights, or the best


def checkpoint_path(run_dir: Path, which: str) -> Path:
    """``checkpoints/latest.pt`` (``which="latest"``) or ``checkpoints/best.pt`` (``"best"``); ValueError for another name."""
    if which not in CHECKPOINTS:
        raise ValueError(f"checkpoint must be one of {', '.join(CHECKPOINTS)}, got {which!r}")
    return CHECKPOINTS[which](run_dir)


def read_config(run_dir: Path) -> dict[str, Any]:
    """The run's ``config.json``; FileNotFoundError for a missing folder or file, ValueError if damaged."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise FileNotFoundError(f"run folder not found: {run_dir}")
    path = run_dir / CONFIG_FILE
    if not path.is_file():
        raise FileNotFoundError(
            f"not a run folder (no {CONFIG_FILE}): {run_dir}; give a folder that nalu-rl train or baseline wrote"
        )
    try:
        config = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError) as err:
        raise ValueError(f"{path} cannot be read as text ({type(err).__name__}): {DAMAGED_CONFIG}") from None
    except json.JSONDecodeError as err:
        if not err.doc.strip():
            raise ValueError(f"{path} is empty: {DAMAGED_CONFIG}") from None
        where = f"{err.msg.lower()} at line {err.lineno}, column {err.colno}"
        raise ValueError(f"{path} is not valid JSON ({where}): {DAMAGED_CONFIG}") from None
    if not isinstance(config, dict):
        raise ValueError(f"{path} is not a JSON object of a run's settings: {DAMAGED_CONFIG}")
    missing = [k for k in CONFIG_KEYS if k not in config]
    if missing:
        raise ValueError(f"{path} lacks {', '.join(missing)}: {DAMAGED_CONFIG}")
    for key, (kinds, what) in CONFIG_TYPES.items():
        value = config[key]
        if isinstance(value, bool) or not isinstance(value, kinds):  # True is an int to Python, not to a config
            raise ValueError(f"{path}: {key} must be {what}, got {value!r}: {DAMAGED_CONFIG}")
    for key in ("seed", "workers", "envs_per_worker"):
        try:
            check_int(key, config[key])
        except ValueError as err:
            raise ValueError(f"{path}: {err}: {DAMAGED_CONFIG}") from None
    if not 0 <= config["frames"] <= MAX_FRAMES:  # 0: a run folder made to hold weights trained elsewhere
        raise ValueError(f"{path}: frames must be an integer in [0, {MAX_FRAMES:,}], got {config['frames']!r}: {DAMAGED_CONFIG}")
    try:
        Config.from_dict(config["env"])
    except (TypeError, ValueError) as err:
        raise ValueError(f"{path}: env: {err}: {DAMAGED_CONFIG}") from None
    return config


def check_writable(run_dir: Path) -> None:
    """ValueError (naming the path) unless training can write every file it will write: before the work, not after."""
    run_dir = Path(run_dir)
    targets = [run_dir / CONFIG_FILE, latest_checkpoint(run_dir), best_checkpoint(run_dir), run_dir / HISTORY_FILE]
    for path in targets:
        if path.exists() and not path.is_file():
            raise ValueError(f"{path} is in the way (not a file): move it aside, then run again")
    for folder in (run_dir, run_dir / CHECKPOINT_DIR, run_dir / TENSORBOARD_DIR):
        if folder.exists() and not folder.is_dir():
            raise ValueError(f"{folder} is in the way (not a folder): move it aside, then run again")
        try:
            folder.mkdir(parents=True, exist_ok=True)
            probe = files.temp_path(folder / ".write-probe")
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as err:
            raise ValueError(f"cannot write into {folder}: {err.strerror or err}") from None


def write_config(run_dir: Path, config: dict[str, Any]) -> None:
    """Write ``config.json`` atomically (temp file + rename)."""
    files.write_json(Path(run_dir) / CONFIG_FILE, config)


def remove_stale_temps(run_dir: Path) -> list[Path]:
    """Remove what writers killed mid-write left in the run folder (``.NAME.PID.tmp`` files); the paths removed."""
    run_dir = Path(run_dir)
    return [*files.remove_stale_temps(run_dir), *files.remove_stale_temps(run_dir / CHECKPOINT_DIR)]


def with_provenance(config: dict[str, Any]) -> dict[str, Any]:
    """A new run's config with ``provenance``: versions, git commit, command line, start time (:mod:`~nalu_rl.common.provenance`)."""
    return {**config, "provenance": provenance()}


def with_resume(config: dict[str, Any], version: str) -> dict[str, Any]:
    """A resumed run's config: its provenance kept, this session appended to ``resumes``."""
    session = {"at": utc_now(), "version": version, "command": command_line(), "kernels": kernels(), "libraries": libraries()}
    return {**config, "resumes": [*config.get("resumes", []), session]}
