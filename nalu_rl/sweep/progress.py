"""A sweep's progress output: a tqdm bar over runs, the frames of the runs under way, one line per finished run."""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import Any

from nalu_rl import runs
from nalu_rl.sweep.summary import format_record

WATCH_S = 2.0  # how often the bar reads the frames of the runs under way


def frames_done(run_dir: Path) -> int | None:
    """The frames of a run's last in-training evaluation (its eval_history.csv's last row), read without parsing it all."""
    path = Path(run_dir) / runs.HISTORY_FILE
    try:
        with open(path, "rb") as fh:
            fh.seek(0, 2)
            fh.seek(max(0, fh.tell() - 4096))
            last = fh.read().decode("utf-8", "replace").strip().splitlines()[-1]
        return int(last.split(",", 1)[0])
    except (OSError, IndexError, ValueError):
        return None


class Progress:
    """A tqdm bar over runs (on stderr) plus one line per finished run (on stdout), or nothing when progress is off.

    Each line is written, and flushed, while the bar is cleared: a buffered stdout (a pipe, a
    log file) would otherwise release it later, onto the end of the bar's line.
    """

    def __init__(self, total: int, enabled: bool, settled: list[dict[str, Any]], pending: dict[str, Path] | None = None) -> None:
        self._bar = None
        self._pending = dict(pending or {})  # run name -> folder, until the run's record arrives
        self._stop = threading.Event()
        if enabled:
            from nalu_rl.common.progress import progress_bar

            self._bar = progress_bar(total=total, initial=len(settled), desc="sweep", unit="run")
            for record in settled:
                self._line(format_record(record))
            if self._pending:  # inside the runs: the frames their in-training evaluations have reached
                threading.Thread(target=self._watch, name="nalu-rl-sweep-progress", daemon=True).start()

    def _watch(self) -> None:
        while not self._stop.wait(WATCH_S):
            under_way = {name: frames_done(folder) for name, folder in list(self._pending.items())}
            text = " ".join(f"{name} {frames / 1e6:.1f}M" for name, frames in under_way.items() if frames)
            if self._bar is not None and text:
                self._bar.set_postfix_str(text, refresh=True)

    def done(self, record: dict[str, Any]) -> None:
        self._pending.pop(record["name"], None)
        if self._bar is None:
            return
        self._bar.update(1)
        self._line(format_record(record))

    def _line(self, text: str) -> None:
        with self._bar.external_write_mode(file=sys.stdout):
            print(text, file=sys.stdout, flush=True)

    def close(self) -> None:
        self._stop.set()
        if self._bar is not None:
            self._bar.close()
