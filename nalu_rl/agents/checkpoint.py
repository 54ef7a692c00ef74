"""Checkpoints: network, optimiser state, frame counter and RNG states, written atomically."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import torch

from nalu_rl.agents import runs
from nalu_rl.common import files
from nalu_rl.common.errors import first_line

FORMAT = "nalu-rl-checkpoint/1"


def rng_state() -> dict[str, Any]:
    """Torch's RNG states (CPU and every initialised CUDA device): the only generators the trainer draws from."""
    state = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available() and len(state["cuda"]) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(
    path: Path,
    *,
    model: dict[str, torch.Tensor],
    optimizer: dict[str, Any],
    frames: int,
    updates: int,
    rng: dict[str, Any],
) -> Path:
    """Write a checkpoint so that ``path`` is either the old file or the complete new one, never partial."""
    payload = {"format": FORMAT, "model": model, "optimizer": optimizer, "frames": frames, "updates": updates, "rng": rng}
    return files.write_with(Path(path), lambda tmp: torch.save(payload, tmp), fsync=True)


def load_checkpoint(path: Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """A checkpoint written by :func:`save_checkpoint`; FileNotFoundError or a one-line ValueError otherwise."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # torch raises many kinds on damaged files (zip, pickle, EOF...)
        raise ValueError(f"corrupt checkpoint {path}: {first_line(err)}") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ValueError(f"corrupt checkpoint {path}: not a nalu-rl checkpoint")
    return payload


class PeriodicCheckpoints:
    """A run's ``checkpoints/latest.pt``: saved when the trainer asks, and due every ``interval`` seconds."""

    def __init__(self, run_dir: Path, interval: float) -> None:
        self.path, self.interval, self.last = runs.latest_checkpoint(run_dir), interval, time.monotonic()

    def due(self) -> bool:
        return time.monotonic() - self.last >= self.interval

    def save(self, net: torch.nn.Module, optimizer: torch.optim.Optimizer, frames: int, updates: int) -> Path:
        self.last = time.monotonic()
        return save_checkpoint(
            self.path, model=net.state_dict(), optimizer=optimizer.state_dict(), frames=frames, updates=updates, rng=rng_state()
        )
