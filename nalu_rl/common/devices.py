"""Torch devices from what a user types: 'cpu', 'cuda', 'cuda:N' or 'auto'."""

from __future__ import annotations

import torch

DEVICE_HELP = "'cpu', 'cuda', 'cuda:N' or 'auto'"


def resolve_device(device: str | torch.device) -> torch.device:
    """A torch device from 'cpu', 'cuda', 'cuda:N' or 'auto', with a clear ValueError otherwise."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(f"device must be {DEVICE_HELP}, got {device!r}") from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device {device!r} asked for, but CUDA is not available on this machine")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ValueError(f"device {device!r} does not exist: {torch.cuda.device_count()} CUDA device(s) visible")
    elif dev.type != "cpu":
        raise ValueError(f"device must be {DEVICE_HELP}, got {device!r}")
    return dev


def rng_devices(device: str | torch.device) -> list[int]:
    """The CUDA device indices whose RNG ``torch.random.fork_rng`` must save for work on ``device``."""
    dev = torch.device(device)
    return [dev.index or 0] if dev.type == "cuda" else []
