"""The baseline's run folder: file names, paths, atomic model saves and the "finished" test."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nalu_rl import runs
from nalu_rl.common import files

AGENT_NAME = "recurrent_ppo"
ALGOS = ("recurrent-ppo",)
MODEL_FILE = "model.zip"
TRAINING_FILE = "training.json"
CHECKPOINT_FILE = "latest.zip"
TB_NAME = "RecurrentPPO"


def model_path(run_dir: Path) -> Path:
    return Path(run_dir) / MODEL_FILE


def checkpoint_path(run_dir: Path) -> Path:
    return Path(run_dir) / runs.CHECKPOINT_DIR / CHECKPOINT_FILE


def is_finished(run_dir: Path) -> bool:
    """Whether the baseline in ``run_dir`` trained all its frames (``model.zip`` and ``training.json`` agree)."""
    run_dir = Path(run_dir)
    try:
        done = files.read_json(run_dir / TRAINING_FILE)["frames_done"]
        return model_path(run_dir).is_file() and int(done) >= runs.read_config(run_dir).frames
    except (OSError, ValueError, KeyError, TypeError):
        return False


def save_model(model: Any, path: Path) -> None:
    """``model.save`` to ``path`` atomically; SB3 appends ``.zip`` to a name without it, hence the suffix."""
    files.write_with(Path(path), model.save, suffix=".zip")
