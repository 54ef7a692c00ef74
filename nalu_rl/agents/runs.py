"""The run folder: ``config.json``, ``checkpoints/latest.pt`` and TensorBoard events under ``tb/``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from nalu_rl.common import files

CONFIG_FILE = "config.json"
CHECKPOINT_DIR = "checkpoints"
LATEST = "latest.pt"
TENSORBOARD_DIR = "tb"
ERRORS_DIR = "errors"
CONFIG_KEYS = (
    "agent", "core", "agent_config", "env_preset", "env", "seed", "frames",
    "mode", "workers", "envs_per_worker", "device", "version",
)  # fmt: skip


def latest_checkpoint(run_dir: Path) -> Path:
    return Path(run_dir) / CHECKPOINT_DIR / LATEST


def read_config(run_dir: Path) -> dict[str, Any]:
    """The run's ``config.json``; FileNotFoundError for a missing folder or file, ValueError if damaged."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise FileNotFoundError(f"run folder not found: {run_dir}")
    path = run_dir / CONFIG_FILE
    if not path.is_file():
        raise FileNotFoundError(f"not a run folder (no {CONFIG_FILE}): {run_dir}")
    try:
        config = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"unreadable {path}: {err}") from None
    missing = [k for k in CONFIG_KEYS if not isinstance(config, dict) or k not in config]
    if missing:
        raise ValueError(f"{path} lacks {', '.join(missing)}")
    return config


def write_config(run_dir: Path, config: dict[str, Any]) -> None:
    """Write ``config.json`` atomically (temp file + rename)."""
    files.write_json(Path(run_dir) / CONFIG_FILE, config)
