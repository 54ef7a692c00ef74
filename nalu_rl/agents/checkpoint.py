"""Checkpoints: network, optimiser state, frame counter and RNG states, written atomically."""

from __future__ import annotations

import io
import pickle
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from nalu_rl import runs
from nalu_rl.common import files

FORMAT = "nalu-rl-checkpoint/1"
ZIP_MAGIC = b"PK\x03\x04"  # torch.save writes a zip archive
START_AFRESH = "delete it and rerun nalu-rl train --resume to start the run afresh from its config.json"
# A pixel network's checkpoint is a few MiB: a file hundreds of times larger is not one of ours, and is not read.
MAX_CHECKPOINT_BYTES = 1024 * files.MiB


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
    core: str | None = None,
    elapsed: float | None = None,
) -> Path:
    """Write a checkpoint so that ``path`` is either the old file or the complete new one, never partial.

    ``core`` names the network's core, so that a checkpoint copied into another run says what it holds;
    ``elapsed`` is the run's training wall seconds so far (time to mastery reads it).
    """
    payload = {"format": FORMAT, "model": model, "optimizer": optimizer, "frames": frames, "updates": updates, "rng": rng}
    if core is not None:
        payload["core"] = core
    if elapsed is not None:
        payload["elapsed"] = float(elapsed)
    # Serialised in memory, then written by Python: a full disk is an OSError naming the file (ENOSPC, EFBIG), where
    # torch's own writer reports it as a RuntimeError from its zip code, after the temporary file took the space.
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    return files.write_with(Path(path), lambda tmp: tmp.write_bytes(buffer.getbuffer()), fsync=True)


def load_checkpoint(path: Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """A checkpoint written by :func:`save_checkpoint`; FileNotFoundError or a one-line ValueError otherwise."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    try:
        files.check_size(path, MAX_CHECKPOINT_BYTES)
    except files.TooLarge as err:
        raise ValueError(f"{err}; {START_AFRESH}") from None
    payload = None
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # torch raises many kinds on damaged files (zip, pickle, EOF...), with advice that does not apply
        reason = _unreadable(path, err)
    else:
        reason = None if isinstance(payload, dict) and payload.get("format") == FORMAT else "a PyTorch file nalu-rl did not write"
    if reason is None:
        reason = _bad_counters(payload)
    if reason is not None:
        raise ValueError(f"{path} is not a nalu-rl checkpoint ({reason}); {START_AFRESH}") from None
    return payload


def _bad_counters(payload: dict[str, Any]) -> str | None:
    for key in ("frames", "updates"):
        value = payload.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            return f"its {key} must be an integer >= 0, got {value!r}"
    return None


def check_resumable(checkpoint: dict[str, Any], path: Path) -> None:
    """ValueError naming the field unless ``checkpoint`` holds what a resume needs beside the weights."""
    for key in ("optimizer", "rng"):
        if not isinstance(checkpoint.get(key), dict):
            raise ValueError(f"checkpoint {path} holds no {key} state, which a resume needs; {START_AFRESH}")


def _unreadable(path: Path, err: Exception) -> str:
    """Why torch could not load ``path``, in the file's terms rather than torch's."""
    with open(path, "rb") as fh:
        head = fh.read(4)
    if not head:
        return "an empty file"
    if head != ZIP_MAGIC:
        return "not a PyTorch file"
    if isinstance(err, pickle.UnpicklingError):
        return "it holds objects other than tensors"
    return "damaged or truncated"


def non_finite(model: dict[str, torch.Tensor]) -> str | None:
    """The first weight tensor of a state dict holding NaN or infinity, by name; None if all are finite."""
    return next((name for name, t in model.items() if t.is_floating_point() and not bool(torch.isfinite(t).all())), None)


def check_fits(network: torch.nn.Module, checkpoint: dict[str, Any], path: Path, core: str) -> None:
    """ValueError unless the checkpoint's weights have the names and shapes of ``network`` (built from config.json)."""
    expected, given = network.state_dict(), checkpoint.get("model")
    if not isinstance(given, dict):
        raise ValueError(f"{path} is not a nalu-rl checkpoint (it holds no network); {START_AFRESH}")
    missing = [k for k in expected if k not in given]
    unexpected = [k for k in given if k not in expected]
    resized = [k for k in expected if k in given and tuple(given[k].shape) != tuple(expected[k].shape)]
    if not (missing or unexpected or resized):
        return
    held = checkpoint.get("core")
    what = f"holds core {held}, config.json says {core}" if held and held != core else f"does not fit config.json's core {core}"
    parts = [f"{label} {_some(names)}" for label, names in (("missing", missing), ("unexpected", unexpected),
                                                               ("other shape", resized)) if names]  # fmt: skip
    raise ValueError(f"checkpoint {path} {what}: {'; '.join(parts)}; put back the run's own checkpoint or {START_AFRESH}")


def _some(names: list[str], shown: int = 3) -> str:
    more = f" (+{len(names) - shown} more)" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


class PeriodicCheckpoints:
    """A run's ``checkpoints/latest.pt``: saved when the trainer asks, and due every ``interval`` seconds.

    ``elapsed`` gives the run's training wall seconds, recorded in each checkpoint.
    """

    def __init__(self, run_dir: Path, interval: float, core: str, elapsed: Callable[[], float]) -> None:
        self.path, self.interval, self.core, self.last = runs.latest_checkpoint(run_dir), interval, core, time.monotonic()
        self.elapsed = elapsed

    def due(self) -> bool:
        return time.monotonic() - self.last >= self.interval

    def save(self, net: torch.nn.Module, optimizer: torch.optim.Optimizer, frames: int, updates: int) -> Path:
        """Save, unless the weights went non-finite: then FloatingPointError, and the last checkpoint stays as it was."""
        self.last = time.monotonic()
        model, state = net.state_dict(), optimizer.state_dict()
        bad = non_finite(model)
        if bad:
            kept = f"the last checkpoint {self.path} predates it" if self.path.is_file() else "no checkpoint was written"
            raise FloatingPointError(f"training diverged by {frames:,} frames: non-finite weights in {bad}; {kept}")
        return save_checkpoint(
            self.path, model=model, optimizer=state, frames=frames, updates=updates, rng=rng_state(), core=self.core,
            elapsed=self.elapsed(),
        )
