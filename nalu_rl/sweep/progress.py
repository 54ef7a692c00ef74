"""A sweep's progress output: a tqdm bar over runs and one line per finished run."""

from __future__ import annotations

from typing import Any

from nalu_rl.sweep.summary import format_record


class Progress:
    """A tqdm bar over runs plus one line per finished run (or nothing when progress is off)."""

    def __init__(self, total: int, enabled: bool, settled: list[dict[str, Any]]) -> None:
        self._bar = None
        if enabled:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=total, initial=len(settled), desc="sweep", unit="run")
            for record in settled:
                self._bar.write(format_record(record))

    def done(self, record: dict[str, Any]) -> None:
        if self._bar is None:
            return
        self._bar.update(1)
        self._bar.write(format_record(record))

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
