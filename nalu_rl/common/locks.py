"""One process at a time in a folder: an advisory lock held for as long as the process works there.

The lock is ``flock`` on ``FOLDER/.nalu-rl.lock``: the kernel releases it when its holder exits in
any way (``kill -9`` included), so a lock file left behind by a dead process never blocks anyone.
The file names its holder (pid and command line) for the message the next process prints.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from nalu_rl.common.provenance import command_line

LOCK_FILE = ".nalu-rl.lock"


class FolderBusy(RuntimeError):
    """Another live process holds the folder."""


class FolderLock:
    """``with FolderLock(folder, what="run"):`` holds ``folder`` (created if needed); FolderBusy when another process does."""

    def __init__(self, folder: Path, what: str = "folder") -> None:
        self.folder, self.what, self.fd = Path(folder), what, None

    def __enter__(self) -> FolderLock:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / LOCK_FILE
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 4096).decode("utf-8", "replace").strip() or "another process"
            os.close(fd)
            raise FolderBusy(f"{self.what} folder {self.folder} is in use by {holder}: wait for it to end, or stop it") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"process {os.getpid()} ({command_line()})\n".encode())
        self.fd = fd
        return self

    def __exit__(self, *exc) -> None:
        if self.fd is not None:
            os.ftruncate(self.fd, 0)  # the file stays (removing it would race a process opening it); unlocked, it blocks no one
            os.close(self.fd)
            self.fd = None
