"""SIGINT and SIGTERM as a polite stop request, so long work can save before it exits."""

from __future__ import annotations

import signal
import threading
from typing import Any

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopSignals:
    """While entered, the first SIGINT/SIGTERM sets :attr:`signum`; with ``second_interrupts`` a second one raises.

    Handlers can be installed from the main thread only; elsewhere the context does nothing.
    ``interrupt=True`` raises ``KeyboardInterrupt`` at the first signal instead (for callers that
    stop by unwinding, such as a sweep waiting on its pool).
    """

    def __init__(self, *, second_interrupts: bool = True, interrupt: bool = False) -> None:
        self.signum: int | None = None
        self.second_interrupts = second_interrupts
        self.interrupt = interrupt
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():
            self._previous = {s: signal.signal(s, self._handle) for s in STOP_SIGNALS}
        return self

    def __exit__(self, *exc: object) -> None:
        for s, handler in self._previous.items():
            signal.signal(s, handler)
        self._previous = {}

    @property
    def stopped(self) -> bool:
        return self.signum is not None

    def _handle(self, signum: int, frame: object) -> None:
        if self.interrupt or (self.second_interrupts and self.signum is not None):
            raise KeyboardInterrupt
        self.signum = signum


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the command line's Ctrl-C would be, so that it unwinds as politely (exit 143)."""

    signum = signal.SIGTERM


def quiet_start_up(program: str = "nalu-rl") -> None:
    """Until :func:`loud_again`, Ctrl-C or SIGTERM ends the process with one line, not an import's traceback.

    The command line calls it before its heavy imports (Gymnasium, torch), which a traceback would cite line by line.
    """

    def stop(signum: int, frame: Any) -> None:
        import os
        import sys

        sys.stderr.write(f"{program}: {'terminated' if signum == signal.SIGTERM else 'interrupted'}\n")
        sys.stderr.flush()
        os._exit(128 + signum)

    for signum in STOP_SIGNALS:
        signal.signal(signum, stop)


def loud_again() -> None:
    """Ctrl-C raises KeyboardInterrupt again, SIGTERM :class:`Terminated`: the command's own handling takes over.

    Unwinding (rather than the default SIGTERM, which ends the process at once) lets every atomic write remove
    its temporary file, so a report or an evaluation stopped by a scheduler leaves its folder as it found it.
    """
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _raise_terminated)


def _raise_terminated(signum: int, frame: Any) -> None:
    raise Terminated
