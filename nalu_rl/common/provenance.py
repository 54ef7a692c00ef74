"""Where a run came from: the package's version and git commit, the libraries, the command line and the time."""

from __future__ import annotations

import shlex
import subprocess
import sys
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

PACKAGE = "nalu-rl"
LIBRARIES = ("torch", "gymnasium")
SOURCE = Path(__file__).resolve().parents[2]  # the folder holding the package: a git checkout when installed editable


def provenance() -> dict[str, Any]:
    """``{"version", "git_commit", "libraries", "command", "started"}`` for this process, now.

    ``git_commit`` is the commit of the checkout the package runs from, with ``-dirty`` when it
    has uncommitted changes; None for an installed package or where git is missing.
    """
    return {
        "version": _version(PACKAGE),
        "git_commit": git_commit(SOURCE),
        "libraries": {name: _version(name) for name in LIBRARIES},
        "command": command_line(),
        "started": utc_now(),
    }


def command_line() -> str:
    """This process's command line, as a shell would take it."""
    return shlex.join([Path(sys.argv[0]).name if sys.argv and sys.argv[0] else sys.executable, *sys.argv[1:]])


def utc_now() -> str:
    """The time now in UTC, ISO 8601 to the second: ``2025-01-31T12:00:00+00:00``."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def git_commit(folder: Path) -> str | None:
    """The commit checked out in ``folder`` (with ``-dirty`` for uncommitted changes) if it is a git checkout's top."""
    if not (Path(folder) / ".git").exists():
        return None
    try:
        head = _git(folder, "rev-parse", "HEAD")
        dirty = _git(folder, "status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):  # no git, not a repository, or it hangs
        return None
    return head + ("-dirty" if dirty else "")


def _git(folder: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(folder), *args], capture_output=True, text=True, timeout=10, check=True)
    return done.stdout.strip()


def _version(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None
