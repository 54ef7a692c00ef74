"""One process at a time in a folder: an advisory lock held for as long as the process works there.

The lock is ``flock`` on ``FOLDER/.nalu-rl.lock``: the kernel releases it when its holder exits in
any way (``kill -9`` included), so a lock file left behind by a dead process never blocks anyone.
The file names its holder (pid and command line) for the message the next process prints, and a
holder that ends cleanly removes it. ``flock`` needs a POSIX system: training is Linux/macOS only.
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
    """``with FolderLock(folder, what="run"):`` holds ``folder`` (created if needed); FolderBusy when another process does.

    ``name`` is the lock file's: writers that may share a folder with a run or a sweep (a report) hold a lock of their own.
    """

    def __init__(self, folder: Path, what: str = "folder", name: str = LOCK_FILE) -> None:
        self.folder, self.what, self.name, self.fd, self.path = Path(folder), what, name, None, None

    def __enter__(self) -> FolderLock:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / self.name
        while True:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.read(fd, 4096).decode("utf-8", "replace").strip() or "another process"
                os.close(fd)
                raise FolderBusy(f"{self.what} folder {self.folder} is in use by {holder}: wait for it to end, or stop it") from None
            if _same_file(fd, path):
                break
            # the holder we waited on removed the file as it ended: our lock is on a name no one else will open
            os.close(fd)
        os.ftruncate(fd, 0)
        os.write(fd, f"process {os.getpid()} ({command_line()})\n".encode())
        self.fd, self.path = fd, path
        return self

    def __exit__(self, *exc) -> None:
        if self.fd is not None:
            # removed while still locked, so a process that opened it meanwhile sees another file (or none) and retries
            Path(self.path).unlink(missing_ok=True)
            os.close(self.fd)
            self.fd = None


def _same_file(fd: int, path: Path) -> bool:
    """Whether ``path`` still names the file open as ``fd``."""
    try:
        named = os.stat(path)
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (held.st_dev, held.st_ino) == (named.st_dev, named.st_ino)
