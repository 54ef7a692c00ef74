"""Portable float kernels: the same bits on any x86-64 CPU, at a cost in speed.

Torch, MKL and oneDNN pick their kernels by the instruction set of the CPU they run on, so one
seed trains different weights on an AVX512 machine and an AVX2 one (the gap starts near 1e-7 and
grows chaotically with training). Pinning ATen's dispatch to its baseline, oneDNN to SSE4.1 and
MKL to its conditional numerical reproducibility mode (``MKL_CBWR=COMPATIBLE``) removes that
dependence. The variables are read once, when torch loads: they must be set before it does.
"""

from __future__ import annotations

import os
import sys

PORTABLE = {
    "ATEN_CPU_CAPABILITY": "default",
    "ONEDNN_MAX_CPU_ISA": "SSE41",
    "MKL_CBWR": "COMPATIBLE",
    "MKL_ENABLE_INSTRUCTIONS": "SSE4_2",
}
FLAG = "--portable-kernels"


def pinned() -> bool:
    """Whether this process's environment holds every portable setting."""
    return all(os.environ.get(name) == value for name, value in PORTABLE.items())


def pin() -> None:
    """Set the portable kernels for this process and the processes it starts; RuntimeError once torch has loaded."""
    if pinned():
        return
    if "torch" in sys.modules:
        settings = " ".join(f"{k}={v}" for k, v in PORTABLE.items())
        raise RuntimeError(f"portable kernels must be chosen before torch loads: start a new process with {settings}")
    os.environ.update(PORTABLE)
