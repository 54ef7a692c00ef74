"""Where a run came from: the package's version and git commit, the libraries, the float kernels, the command line, the time.

The kernels are what can make two machines train different weights from one seed: the instruction
set torch dispatches to, the variables that cap MKL's and oneDNN's, the CPU and torch's threads.
"""

from __future__ import annotations

import os
import platform
import shlex
import subprocess
import sys
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

LIBRARIES = ("torch", "gymnasium", "numpy", "stable-baselines3", "sb3-contrib")
# The variables that choose float kernels: ATen's dispatch, MKL's instruction set and its reproducibility mode, oneDNN's ISA.
KERNEL_VARIABLES = ("ATEN_CPU_CAPABILITY", "MKL_ENABLE_INSTRUCTIONS", "MKL_CBWR", "ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA")
SOURCE = Path(__file__).resolve().parents[2]  # the folder holding the package: a git checkout when installed editable


def provenance(version: str) -> dict[str, Any]:
    """``{"version", "git_commit", "python", "libraries", "kernels", "command", "started"}`` for this process, now.

    :param version: the package version the run records (``nalu_rl.version.__version__``); passed in rather than read
        from the installed metadata, which an editable install leaves at the version it was installed at
    :return: ``git_commit`` is the commit of the checkout the package runs from, with ``-dirty`` when it
        has uncommitted changes; None for an installed package or where git is missing or cannot read the checkout.
    """
    return {
        "version": version,
        "git_commit": git_commit(SOURCE),
        "python": platform.python_version(),
        "libraries": libraries(),
        "kernels": kernels(),
        "command": command_line(),
        "started": utc_now(),
    }


def libraries() -> dict[str, str | None]:
    """The installed versions of the libraries a run's numbers depend on (None: not installed)."""
    return {name: _version(name) for name in LIBRARIES}


def kernels() -> dict[str, Any]:
    """What chooses this process's float kernels: torch's dispatched CPU capability, the variables, the CPU, the threads."""
    import torch

    from nalu_rl.common.kernels import pinned

    return {
        "portable": pinned(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "variables": {name: os.environ.get(name) for name in KERNEL_VARIABLES},
        "cpu": cpu_model(),
        "torch_threads": torch.get_num_threads(),
        "torch_interop_threads": torch.get_num_interop_threads(),
    }


def cpu_model() -> str | None:
    """The CPU's model name as the OS reports it (Linux: /proc/cpuinfo), else the platform's processor string."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def command_line() -> str:
    """This process's command line, as a shell would take it."""
    return shlex.join([Path(sys.argv[0]).name if sys.argv and sys.argv[0] else sys.executable, *sys.argv[1:]])


def utc_now() -> str:
    """The time now in UTC, ISO 8601 to the second: ``2025-01-31T12:00:00+00:00``."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def git_commit(folder: Path) -> str | None:
    """The commit checked out in ``folder`` (with ``-dirty`` for uncommitted changes) if it is a git checkout's top.

    None where ``folder`` is no checkout's top (an installed package), git is missing, or git cannot read it (a
    worktree whose main repository is not mounted here). Costs two git calls, at most ``GIT_TIMEOUT`` seconds each.
    """
    folder = Path(folder).resolve()
    if not (folder / ".git").exists():  # a folder (a clone) or a file (a worktree's pointer)
        return None
    try:
        head = _git(folder, "rev-parse", "HEAD")
        dirty = _git(folder, "status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):  # no git, not a repository, or it hangs
        return None
    return head + ("-dirty" if dirty else "")


GIT_TIMEOUT = 5.0  # seconds for one git call: a run starts anyway, without its commit


def _git(folder: Path, *args: str) -> str:
    # The checkout is the one whose code this process runs, so it is trusted: safe.directory lets git read it when a
    # different user owns it (a checkout mounted into a container, where git refused it and runs recorded no commit).
    # GIT_DIR, GIT_WORK_TREE, ... of the caller's shell would point git at another repository: left out.
    env = {name: value for name, value in os.environ.items() if not name.startswith("GIT_")}
    done = subprocess.run(
        ["git", "-c", f"safe.directory={folder}", "-C", str(folder), *args],
        capture_output=True, text=True, timeout=GIT_TIMEOUT, check=True, env=env, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    return done.stdout.strip()


def _version(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None
