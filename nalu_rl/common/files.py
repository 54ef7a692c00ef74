"""Atomic file writes (a reader sees the old file or the complete new one, never a partial one), and bounded reads.

Run folders travel between people, so what is read from one is data of bounded size: a file larger than
its kind ever is, or JSON nested deeper than the parser's stack, is refused with one line naming it.
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

TEMP_NAME = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.tmp(?P<suffix>\.[^.]+)?$")


def temp_path(path: Path, suffix: str = "") -> Path:
    """A hidden temporary name beside ``path``, unique to this process (``.name.PID.tmp`` + ``suffix``)."""
    path = Path(path)
    return path.with_name(f".{path.name}.{os.getpid()}.tmp{suffix}")


def remove_stale_temps(folder: Path) -> list[Path]:
    """Remove the temporary files of writers that died in ``folder`` (not recursive); the paths removed.

    A writer killed between creating its temporary file and the rename leaves it behind. Those
    of a process still alive (another writer at work) are kept.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return []
    removed = []
    for path in sorted(folder.iterdir()):
        match = TEMP_NAME.match(path.name)
        if match and path.is_file() and not _alive(int(match["pid"])):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return False  # this process writes one file at a time, and is not writing while it cleans up
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):
        return False
    except PermissionError:
        return True  # another user's process: leave its file alone
    return True


@contextmanager
def replacing(path: Path, suffix: str = "", fsync: bool = False) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces ``path``, on failure it is removed.

    ``suffix`` is for writers that insist on a file ending (SB3 appends ``.zip`` otherwise,
    matplotlib picks the format from it); ``fsync`` flushes the file to disk before the rename.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path(path, suffix)
    try:
        yield tmp
        if fsync:
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as err:
        if err.filename is None or Path(err.filename) == tmp:  # name the file the user knows, not our temporary one
            raise OSError(err.errno, err.strerror or str(err), str(path)) from err
        raise
    finally:
        tmp.unlink(missing_ok=True)


MiB = 1 << 20
# Far above what nalu-rl writes (config.json ~2 KB, extrapolation.json ~10 KB, eval_history.csv ~100 KB at 25M
# frames), far below what would strain a laptop's memory.
MAX_TEXT_BYTES = 64 * MiB


class TooLarge(ValueError):
    """A file larger than its kind ever is: not read."""


def check_size(path: Path, limit: int) -> int:
    """The size of the regular file ``path``; :class:`TooLarge` naming it when over ``limit`` bytes."""
    return _within(path, os.stat(path).st_size, limit)


def _within(path: Path, size: int, limit: int) -> int:
    if size > limit:
        raise TooLarge(f"{path} is {size / MiB:,.1f} MiB, more than the {limit / MiB:,.0f} MiB such a file may be: not read")
    return size


def read_text(path: Path, limit: int = MAX_TEXT_BYTES) -> str:
    """The text of ``path`` when it is at most ``limit`` bytes (:class:`TooLarge` otherwise), read without holding more."""
    status = os.stat(path)
    if not stat.S_ISREG(status.st_mode):  # a FIFO or a device would block or never end
        raise ValueError(f"{path} is not a regular file: not read")
    _within(path, status.st_size, limit)
    with open(path, "rb") as fh:
        data = fh.read(limit + 1)  # a file that grows between a size check and the read is bounded too
    if len(data) > limit:
        raise TooLarge(f"{path} is more than the {limit / MiB:,.0f} MiB such a file may be: not read")
    return data.decode("utf-8")


def read_json(path: Path, limit: int = MAX_TEXT_BYTES) -> Any:
    """The JSON document in ``path``; :class:`TooLarge`, or ValueError naming the file when it nests too deeply to parse.

    Decoding and syntax errors propagate as ``UnicodeDecodeError`` and ``json.JSONDecodeError`` for callers to word.
    """
    text = read_text(path, limit)
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError(f"{path} nests its JSON too deeply to read: not a file nalu-rl wrote") from None


def write_with(path: Path, writer: Callable[[Path], Any], suffix: str = "", fsync: bool = False) -> Path:
    """Atomically write ``path`` by calling ``writer(temporary path)``."""
    with replacing(path, suffix, fsync) as tmp:
        writer(tmp)
    return Path(path)


def write_text(path: Path, text: str) -> Path:
    """Atomically write ``text`` to ``path``."""
    return write_with(path, lambda tmp: tmp.write_text(text))


def write_json(path: Path, doc: Any) -> Path:
    """Atomically write ``doc`` as indented JSON with a final newline."""
    return write_text(path, json.dumps(doc, indent=2) + "\n")
