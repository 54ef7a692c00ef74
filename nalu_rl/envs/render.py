"""Human-facing pictures of a TimedGrid state (an upscaled RGB frame, a text grid, a window) and of an IntervalRepro
episode (a timeline strip, a line of text)."""

from __future__ import annotations

import os
import sys
from typing import NamedTuple

import numpy as np

from nalu_rl.envs import rules

CELL_PIXELS = 32
GRID_LINE = (64, 64, 64)


class State(NamedTuple):
    size: int
    agent: tuple[int, int]
    target: tuple[int, int]
    t: int
    instruction: int


def rgb_frame(state: State, cell: int = CELL_PIXELS) -> np.ndarray:
    """An upscaled (N·cell+1, N·cell+1, 3) uint8 frame with visible grid lines.

    The agent on the target is drawn as a smaller square inside it, so that both stay visible.
    """
    side = state.size * cell + 1
    frame = np.zeros((side, side, 3), dtype=np.uint8)
    inset = cell // 4 if state.agent == state.target else 0
    for (row, col), color, margin in ((state.target, rules.TARGET_COLOR, 0), (state.agent, rules.AGENT_COLOR, inset)):
        frame[row * cell + margin : (row + 1) * cell - margin, col * cell + margin : (col + 1) * cell - margin] = color
    frame[::cell, :] = GRID_LINE
    frame[:, ::cell] = GRID_LINE
    return frame


ANSI_KEY = "A agent, X target, * agent on target; success: on the target at exactly t = T"


def ansi(state: State) -> str:
    """A text grid: ``A`` agent, ``X`` target, ``*`` agent on the target, with t and T above and the key below."""
    rows = []
    for r in range(state.size):
        line = []
        for c in range(state.size):
            here = (r, c)
            line.append("*" if here == state.agent == state.target else "A" if here == state.agent else "X" if here == state.target else ".")
        rows.append(" ".join(line))
    return f"t={state.t} T={state.instruction}\n" + "\n".join(rows) + "\n" + ANSI_KEY + "\n"


class IntervalState(NamedTuple):
    t: int
    delay: int  # the clock of "ready"
    interval: int
    target: int  # steps from "set" to the "go" on time
    limit: int  # the clock at which an episode without "go" is truncated
    go: int  # the clock of "go", -1 before it


STRIP_WIDTH = 400  # pixels: one IntervalRepro episode, however long, fits this strip
STRIP_HEIGHT = 24
READY_COLOR = (0, 160, 255)
SET_COLOR = (255, 200, 0)
GO_COLOR = (255, 255, 255)
ELAPSED_COLOR = (80, 80, 80)
FUTURE_COLOR = (24, 24, 24)


def interval_strip(state: IntervalState) -> np.ndarray:
    """An IntervalRepro episode as a (24, 400, 3) uint8 timeline from t = 0 to the limit, whatever their lengths.

    Gray: the steps elapsed; blue: "ready"; yellow: "set"; a red mark: the clock of the "go" on time; white: the
    agent's "go". Time runs left to right, each column showing the step it falls on.
    """
    steps = max(state.limit, state.t, state.delay + state.interval + state.target) + 1
    clock = np.arange(STRIP_WIDTH) * steps // STRIP_WIDTH  # the step each column shows
    row = np.zeros((STRIP_WIDTH, 3), dtype=np.uint8)
    row[:] = FUTURE_COLOR
    row[clock <= state.t] = ELAPSED_COLOR
    row[clock == state.delay] = READY_COLOR
    row[clock == state.delay + state.interval] = SET_COLOR
    if state.go >= 0:
        row[clock == state.go] = GO_COLOR
    frame = np.repeat(row[None], STRIP_HEIGHT, axis=0)
    on_time = clock == state.delay + state.interval + state.target
    frame[: STRIP_HEIGHT // 4, on_time] = rules.TARGET_COLOR
    return frame


INTERVAL_KEY = "R ready, S set, G go, . a step; success: go exactly target steps after set"


def interval_ansi(state: IntervalState) -> str:
    """The steps so far as one line of text (``R`` ready, ``S`` set, ``G`` go), with t, I and the target above."""
    marks = {state.delay: "R", state.delay + state.interval: "S", state.go: "G"}
    line = "".join(marks.get(t, ".") for t in range(state.t + 1))
    return f"t={state.t} I={state.interval} target={state.target} after set\n{line}\n{INTERVAL_KEY}\n"


# matplotlib's backends that draw into files or memory, never a window.
OFF_SCREEN_BACKENDS = ("agg", "cairo", "pdf", "pgf", "ps", "svg", "template")


def off_screen() -> bool:
    """Whether ``MPLBACKEND`` asks matplotlib to draw off-screen (``MPLBACKEND=Agg``, as CI does for headless checks).

    Human frames are then drawn and shown nowhere, without a warning: the environment variable says so on purpose,
    as pygame's ``SDL_VIDEODRIVER=dummy`` does for Gymnasium's own environments.
    """
    return os.environ.get("MPLBACKEND", "").lower() in OFF_SCREEN_BACKENDS


def has_display() -> bool:
    """Whether human frames have somewhere to go: any desktop on macOS/Windows, X11/Wayland elsewhere, or :func:`off_screen`."""
    if sys.platform in ("darwin", "win32") or off_screen():
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


NO_DISPLAY = (
    "render_mode='human' needs a display (no DISPLAY or WAYLAND_DISPLAY is set): frames are not shown; "
    "use render_mode='rgb_array' or 'ansi' on a headless machine, or MPLBACKEND=Agg to draw them off-screen"
)


class HumanWindow:
    """A matplotlib window that shows frames as the episode runs; opened by the first frame, as Gymnasium's own are."""

    def __init__(self) -> None:
        self._fig = self._image = None

    def show(self, frame: np.ndarray, fps: float) -> None:
        import matplotlib.pyplot as plt

        if self._fig is None:
            plt.ion()
            self._fig, ax = plt.subplots(figsize=(4, 4))
            ax.set_axis_off()
            self._image = ax.imshow(frame)
        else:
            self._image.set_data(frame)
        if off_screen():  # nobody watches: draw without pausing (plt.pause would warn that Agg cannot show)
            self._fig.canvas.draw()
        else:
            plt.pause(1.0 / fps)

    def close(self) -> None:
        if self._fig is not None:
            import matplotlib.pyplot as plt

            plt.close(self._fig)
            self._fig = None
