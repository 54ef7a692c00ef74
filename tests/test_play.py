"""``nalu-rl play``: episodes of a run (ours or the SB3 peer) as an animated GIF with t and T drawn."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from PIL import Image, ImageSequence

from nalu_rl.analysis.play import BACKGROUND, BORDER, EARLY, GOOD, HEADER, KEY, KEY_ITEMS, LATE, OUTCOME, outcome_color, play
from nalu_rl.cli import main
from nalu_rl.envs.rules import AGENT_COLOR, TARGET_COLOR


@pytest.fixture(scope="module")
def lstm_run(tmp_path_factory):
    from nalu_rl.agents import train

    run_dir = tmp_path_factory.mktemp("play") / "lstm"
    return train(agent="lstm", frames=128, seed=0, run_dir=run_dir, mode="sync", workers=1, envs_per_worker=8, progress=False)


def _frames(path):
    with Image.open(path) as gif:
        return [(np.asarray(f.convert("RGB")), f.info.get("duration")) for f in ImageSequence.Iterator(gif)]


def _replay(run_dir, instruction, episodes, seed):
    """The same episodes played without the GIF code: env + agent.predict, greedy."""
    from nalu_rl.agents import load_agent

    agent = load_agent(run_dir)
    env = gym.make("nalu_rl/TimedGrid-v0", **{**agent.config["env"], "t_range": tuple(agent.config["env"]["t_range"])})
    out = []
    for e in range(episodes):
        obs, _ = env.reset(seed=seed + e, options={"instruction": instruction})
        state, start = None, np.array([True])
        while True:
            action, state = agent.predict(obs, state=state, episode_start=start, deterministic=True)
            obs, _, term, trunc, info = env.step(int(action))
            start = np.array([False])
            if term or trunc:
                out.append((info["success"], info["arrival_time"], info["t"]))
                break
    return out


def test_gif_frames_durations_and_outcomes(lstm_run, tmp_path):
    out = tmp_path / "sub" / "episode.gif"
    records = play(lstm_run, instruction=7, episodes=2, out=out, seed=5, fps=5, hold=1.0)
    assert [r["instruction"] for r in records] == [7, 7] and [r["seed"] for r in records] == [5, 6]
    assert [(r["success"], r["arrival_time"], r["steps"]) for r in records] == _replay(lstm_run, 7, 2, 5)
    frames = _frames(out)
    # one frame per step before acting plus the final one, per episode
    assert len(frames) == sum(r["steps"] + 1 for r in records)
    durations = [d for _, d in frames]
    ends = np.cumsum([r["steps"] + 1 for r in records]) - 1
    assert all(durations[i] == 200 for i in range(len(frames)) if i not in ends)
    assert all(durations[i] == 1200 for i in ends)
    shapes = {f.shape for f, _ in frames}
    assert len(shapes) == 1
    h, w, _ = shapes.pop()
    assert w >= 5 * 32 * 2 and h > w  # the grid, scaled by 2, under a header
    first, second = frames[0][0], frames[1][0]
    header = first[:HEADER]
    assert (header != BACKGROUND).any(axis=2).mean() > 0.01  # text drawn on the header
    assert not np.array_equal(first[:20], second[:20])  # "t=0" became "t=1"
    last = frames[ends[0]][0]
    colour = np.array(outcome_color(records[0]))
    outcome_row = last[HEADER : HEADER + 16]
    assert (np.abs(outcome_row.astype(int) - colour).sum(axis=2) < 60).any()  # the outcome line is drawn


def _near(pixels: np.ndarray, colour) -> np.ndarray:
    return np.abs(pixels.astype(int) - np.array(colour)).sum(axis=-1) < 40  # GIF palettes shift colours a little


def test_the_arrival_frame_shows_both_agent_and_target():
    env = gym.make("nalu_rl/TimedGrid-v0", obs_mode="grid", size=5, render_mode="rgb_array")
    env.reset(seed=0, options={"instruction": 3, "agent": (2, 1), "target": (2, 2)})
    env.step(3)  # RIGHT: onto the target
    cell = env.render()[2 * 32 + 1 : 3 * 32, 2 * 32 + 1 : 3 * 32]  # the target's cell, inside its grid lines
    assert _near(cell, AGENT_COLOR).mean() > 0.2 and _near(cell, TARGET_COLOR).mean() > 0.2


def test_every_frame_has_the_colour_key_and_the_last_the_outcome_frame(lstm_run, tmp_path):
    records = play(lstm_run, instruction=6, episodes=3, out=tmp_path / "e.gif", seed=1)
    frames = [f for f, _ in _frames(tmp_path / "e.gif")]
    ends = set(np.cumsum([r["steps"] + 1 for r in records]) - 1)
    assert len({GOOD, EARLY, LATE, AGENT_COLOR, TARGET_COLOR}) == 5  # five colours a viewer can tell apart
    for i, frame in enumerate(frames):
        key = frame[-KEY:]
        assert all(_near(key, colour).sum() >= 50 for _, colour in KEY_ITEMS), i  # a swatch of each colour
        border = frame[HEADER + OUTCOME - BORDER : HEADER + OUTCOME - 1, frame.shape[1] // 2]  # above the grid
        ending = [r for r, end in zip(records, sorted(ends)) if end == i]
        if ending:
            assert _near(border, outcome_color(ending[0])).all(), i
        else:
            assert _near(border, BACKGROUND).all(), i


def test_instruction_none_draws_from_training_range(lstm_run, tmp_path):
    records = play(lstm_run, episodes=3, out=tmp_path / "e.gif", seed=0)
    assert all(5 <= r["instruction"] <= 12 for r in records)


def test_bad_arguments(lstm_run, tmp_path):
    with pytest.raises(ValueError, match="instruction must be an integer in \\[1, 1000\\]"):
        play(lstm_run, instruction=0, out=tmp_path / "a.gif")
    with pytest.raises(ValueError, match=r"\.gif"):
        play(lstm_run, instruction=3, out=tmp_path / "a.png")
    with pytest.raises(ValueError, match="episodes"):
        play(lstm_run, episodes=0, out=tmp_path / "a.gif")
    with pytest.raises(FileNotFoundError):
        play(tmp_path / "missing", out=tmp_path / "a.gif")
    assert not (tmp_path / "a.gif").exists()


def test_cli_writes_gif_and_reports_episodes(lstm_run, tmp_path, capsys):
    out = tmp_path / "cli.gif"
    assert main(["play", str(lstm_run), "--t", "17", "--episodes", "1", "--gif", str(out)]) == 0
    text = capsys.readouterr().out
    assert "T=17" in text and str(out) in text
    assert out.is_file() and len(_frames(out)) >= 2


@pytest.mark.parametrize(
    "argv, message",
    [
        (["{missing}"], "run folder not found"),
        (["{run}", "--t", "0"], "--t"),
        (["{run}", "--gif", "{tmp}/x.png"], ".gif"),
        (["{run}", "--fps", "0"], "--fps"),
        (["{run}", "--device", "tpu"], "--device"),
    ],
)
def test_cli_usage_errors_exit_2(argv, message, lstm_run, tmp_path, capsys):
    argv = [a.format(run=lstm_run, missing=tmp_path / "missing", tmp=tmp_path) for a in argv]
    try:
        code = main(["play", *argv])
    except SystemExit as exc:  # argparse rejected the flag
        code = exc.code
    assert code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_plays_the_sb3_peer(tmp_path):
    pytest.importorskip("sb3_contrib")
    from nalu_rl.baselines import train_recurrent_ppo

    run_dir = train_recurrent_ppo(frames=128, run_dir=tmp_path / "rppo", progress=False,
                                  overrides={"n_envs": 4, "n_steps": 32, "batch_size": 64, "n_epochs": 1})  # fmt: skip
    out = tmp_path / "peer.gif"
    assert main(["play", str(run_dir), "--t", "6", "--gif", str(out)]) == 0
    assert len(_frames(out)) >= 2


def test_cli_plays_episodes_per_t_of_a_list(lstm_run, tmp_path, capsys):
    out = tmp_path / "list.gif"
    assert main(["play", str(lstm_run), "--t", "5,9", "--episodes", "2", "--eval-seed", "3", "--gif", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines[:4]] == [
        "episode 1 (seed 3, T=5)", "episode 2 (seed 4, T=5)", "episode 3 (seed 3, T=9)", "episode 4 (seed 4, T=9)"]
    assert main(["play", str(lstm_run), "--t", "1-60", "--episodes", "2", "--gif", str(out)]) == 2
    assert "more than a GIF holds" in capsys.readouterr().err
