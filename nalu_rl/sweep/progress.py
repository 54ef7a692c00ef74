"""A sweep's progress output: a tqdm bar over runs and one line per finished run."""

from __future__ import annotations

import sys
from typing import Any

from nalu_rl.sweep.summary import format_record


class Progress:
    """A tqdm bar over runs (on stderr) plus one line per finished run (on stdout), or nothing when progress is off.

    Each line is written, and flushed, while the bar is cleared: a buffered stdout (a pipe, a
    log file) would otherwise release it later, onto the end of the bar's line.
    """

    def __init__(self, total: int, enabled: bool, settled: list[dict[str, Any]]) -> None:
        self._bar = None
        if enabled:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=total, initial=len(settled), desc="sweep", unit="run")
            for record in settled:
                self._line(format_record(record))

    def done(self, record: dict[str, Any]) -> None:
        if self._bar is None:
            return
        self._bar.update(1)
        self._line(format_record(record))

    def _line(self, text: str) -> None:
        with self._bar.external_write_mode(file=sys.stdout):
            print(text, file=sys.stdout, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
