"""Episodes of a trained agent as an animated GIF: what ``nalu-rl play RUN`` writes.

Any run folder that :func:`nalu_rl.agents.load_agent` opens (our agents, or the Stable-Baselines3
peer) is played in the single Gymnasium environment with ``render_mode="rgb_array"``, through
``agent.predict`` only. Every frame gets a header with the elapsed time t, the instruction T and
a bar that fills up as t approaches T; the last frame of each episode says how it ended and is
held for a moment, framed in the outcome's colour. A key under the grid names the colours
(agent, target; arrival on time, early, late).
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nalu_rl import runs
from nalu_rl.common import files
from nalu_rl.common.checks import LIMITS, check_int
from nalu_rl.envs.rules import AGENT_COLOR, TARGET_COLOR
from nalu_rl.envs.rules import Config as EnvConfig

HEADER = 40  # pixels above the grid for the text, then a line for the outcome (OUTCOME)
OUTCOME = 18
BACKGROUND = (24, 24, 24)
TEXT = (235, 235, 235)
DIM = (150, 150, 150)
GOOD = (60, 180, 75)  # on the target at t = T
EARLY = (240, 170, 30)
BAD = (220, 50, 50)  # past T on the bar
LATE = (180, 90, 240)
BAR = (90, 120, 220)
KEY = 18  # pixels below the grid for the colour key
BORDER = 4  # the outcome's frame around the grid on an episode's last frame


def play(
    run_dir: str | Path,
    instruction: int | Sequence[int] | None = None,
    episodes: int = 1,
    out: str | Path = "episode.gif",
    seed: int = 0,
    fps: float = 4.0,
    *,
    sample: bool = False,
    scale: int = 2,
    hold: float = 1.0,
    device: str = "cpu",
) -> list[dict[str, Any]]:
    """Play ``episodes`` episodes of the agent in ``run_dir`` and write them to the GIF ``out``.

    ``instruction`` fixes T for every episode (any 1..1000, also outside the training range); a list of T plays
    ``episodes`` episodes at each in turn, from the same start states; None draws T from the run's training
    range. Episode i (of each T) is reset with ``seed + i``. Actions
    are greedy unless ``sample``. ``scale`` enlarges the frames (nearest neighbour), ``hold`` is
    how long (seconds) the last frame of an episode stays. Returns one record per episode
    (instruction, success, arrival_time, steps). FileNotFoundError / ValueError for a missing or
    damaged run and for bad arguments.
    """
    import gymnasium as gym
    import torch

    from nalu_rl.envs import ENV_ID

    instructions = [instruction] if instruction is None or isinstance(instruction, numbers.Integral) else list(instruction)
    out, run_dir = _checked(run_dir, instructions, episodes, seed, out, fps, scale, hold)
    agent = runs.load_agent(run_dir, device=device)
    env = gym.make(ENV_ID, render_mode="rgb_array", **EnvConfig.from_dict(agent.config["env"]).kwargs())
    step_ms = max(20, round(1000 / fps))  # GIF delays are in 1/100 s; browsers floor tiny ones
    frames: list = []
    durations: list[int] = []
    records = []
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)  # sampled actions are reproducible too
            shows = [(target, episode) for target in instructions for episode in range(episodes)]
            for number, (target, episode) in enumerate(shows):
                caption = f"{run_dir.resolve().name}  ·  episode {number + 1}/{len(shows)}"
                shown, record = _episode(env, agent, seed + episode, target, sample, caption, scale)
                frames += shown
                durations += [step_ms] * (len(shown) - 1) + [step_ms + round(hold * 1000)]
                records.append({"episode": number, **record})
    finally:
        env.close()

    def write_gif(path: Path) -> None:
        frames[0].save(path, format="GIF", save_all=True, append_images=frames[1:], duration=durations, loop=0, disposal=1)

    files.write_with(out, write_gif)  # a reader never sees half a GIF
    return records


def _checked(run_dir, instructions, episodes, seed, out, fps, scale, hold) -> tuple[Path, Path]:
    """The GIF's path and the run folder, once every argument is valid; ValueError or FileNotFoundError before any work."""
    if not instructions:
        raise ValueError("give at least one instruction T, or None to draw them")
    for instruction in instructions:
        if instruction is not None:
            check_int("instruction", instruction)
    check_int("episodes", episodes, limit="gif_episodes")
    most = LIMITS["gif_episodes"][1]
    if episodes * len(instructions) > most:  # one GIF holds them all
        raise ValueError(f"{episodes} episodes x {len(instructions)} T is more than a GIF holds ({most} episodes)")
    seed, scale = check_int("seed", seed), check_int("scale", scale, 1, 16)
    if isinstance(fps, bool) or not isinstance(fps, numbers.Real) or not 0 < fps < 1000:
        raise ValueError(f"fps must be a number in (0, 1000), got {fps!r}")
    if isinstance(hold, bool) or not isinstance(hold, numbers.Real) or not 0 <= hold < 1000:
        raise ValueError(f"hold must be a number of seconds in [0, 1000), got {hold!r}")
    out = Path(out)
    if out.suffix.lower() != ".gif":
        raise ValueError(f"the output must be a .gif file, got {out}")
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise FileNotFoundError(f"run folder not found: {run_dir}")
    return out, run_dir


def _episode(env, agent, seed: int, instruction: int | None, sample: bool, caption: str, scale: int) -> tuple[list, dict[str, Any]]:
    """One episode: its annotated frames (the last says how it ended) and its record."""
    obs, info = env.reset(seed=seed, options=None if instruction is None else {"instruction": int(instruction)})
    target = int(obs["instruction"][0])
    frames = []
    state, start, t = None, np.array([True]), 0
    while True:
        frames.append(_annotate(env.render(), t, target, caption, None, scale))
        action, state = agent.predict(obs, state=state, episode_start=start, deterministic=not sample)
        obs, _, terminated, truncated, info = env.step(int(action))
        start, t = np.array([False]), info["t"]
        if terminated or truncated:
            break
    record = {"seed": seed, "instruction": target, "success": bool(info["success"]),
              "arrival_time": int(info["arrival_time"]), "steps": int(t)}  # fmt: skip
    frames.append(_annotate(env.render(), t, target, caption, record, scale))
    return frames, record


def outcome_text(record: dict[str, Any]) -> str:
    """One line saying how an episode ended."""
    t, target, arrival = record["steps"], record["instruction"], record["arrival_time"]
    if record["success"]:
        return f"success: on the target at t = T = {target}"
    if arrival < 0:
        return f"fail: not on the target by t={t} (T={target})"
    return f"fail: on the target at t={arrival}, {'early' if arrival < target else 'late'} (T={target})"


def outcome_color(record: dict[str, Any]) -> tuple[int, int, int]:
    """The colour of an episode's ending: on time, early, late; dim when the agent never arrived."""
    if record["success"]:
        return GOOD
    if record["arrival_time"] < 0:
        return DIM
    return EARLY if record["arrival_time"] < record["instruction"] else LATE


def _annotate(frame: np.ndarray, t: int, target: int, caption: str, record: dict[str, Any] | None, scale: int):
    """The env frame, enlarged, under a header with t, T, a t/T bar and (at the end) the outcome, over the colour key."""
    from PIL import Image, ImageDraw

    grid = Image.fromarray(np.asarray(frame, dtype=np.uint8))
    if scale != 1:
        grid = grid.resize((grid.width * scale, grid.height * scale), Image.NEAREST)
    width = max(grid.width + 2 * BORDER, 240)
    header = HEADER + OUTCOME  # on every frame: a GIF's frames share the first one's size
    image = Image.new("RGB", (width, grid.height + header + BORDER + KEY), BACKGROUND)
    left = (width - grid.width) // 2
    draw = ImageDraw.Draw(image)
    if record is not None:
        draw.rectangle((left - BORDER, header - BORDER, left + grid.width + BORDER - 1, header + grid.height + BORDER - 1),
                       fill=outcome_color(record))  # fmt: skip
    image.paste(grid, (left, header))
    font = _font(14)
    small = _font(10)
    draw.text((6, 4), f"t={t}", fill=TEXT, font=font)
    draw.text((width // 2, 4), f"T={target}", fill=TEXT, font=font)
    draw.text((6, 22), caption[:60], fill=DIM, font=small)
    filled = round((width - 12) * min(t / target, 1.0)) if target else 0
    draw.rectangle((6, 34, width - 6, 37), outline=DIM)
    if filled:
        draw.rectangle((6, 34, 6 + filled, 37), fill=BAR if t <= target else BAD)
    if record is not None:
        draw.text((6, HEADER), outcome_text(record)[:64], fill=outcome_color(record), font=small)
    _draw_key(draw, image.height - KEY + 4, small)
    return image


KEY_ITEMS = (("agent", AGENT_COLOR), ("target", TARGET_COLOR), ("on time", GOOD), ("early", EARLY), ("late", LATE))


def _draw_key(draw, top: int, font) -> None:
    """A swatch and a word for every colour of the frames, in one row from ``top``."""
    x = 6
    for label, color in KEY_ITEMS:
        draw.rectangle((x, top, x + 9, top + 9), fill=color)
        draw.text((x + 12, top - 1), label, fill=TEXT, font=font)
        x += 12 + round(draw.textlength(label, font=font)) + 8


_FONTS: dict[int, Any] = {}


def _font(size: int):
    from PIL import ImageFont

    if size not in _FONTS:
        try:
            _FONTS[size] = ImageFont.load_default(size=size)  # Pillow >= 10.1 with FreeType
        except (TypeError, OSError, ImportError):
            _FONTS[size] = ImageFont.load_default()
    return _FONTS[size]
