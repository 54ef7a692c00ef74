"""Every rule of the environment (README, "The environment"; nalu_rl/envs/rules.py), as explicit scenarios on the single and the batched environment."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch

import nalu_rl  # noqa: F401  (registers the environment)
from nalu_rl.envs import rules
from nalu_rl.envs.batched import TimedGridVecEnv
from nalu_rl.envs.timed_grid import TimedGridEnv

UP, DOWN, LEFT, RIGHT, PASS = range(5)


def make(**kwargs) -> TimedGridEnv:
    return gym.make("nalu_rl/TimedGrid-v0", **kwargs).unwrapped


def start(env, instruction, agent, target, seed=0):
    return env.reset(seed=seed, options={"instruction": instruction, "agent": agent, "target": target})


def run(env, actions):
    out = None
    for a in actions:
        out = env.step(a)
    return out


# --------------------------------------------------------------------------- registration


def test_make_with_and_without_import_prefix():
    plain, prefixed = gym.make("nalu_rl/TimedGrid-v0", obs_mode="grid"), gym.make("nalu_rl:nalu_rl/TimedGrid-v0", obs_mode="grid")
    assert isinstance(plain.unwrapped, TimedGridEnv) and isinstance(prefixed.unwrapped, TimedGridEnv)
    vec = gym.make_vec("nalu_rl/TimedGrid-v0", num_envs=3, backend="torch", device="cpu", obs_mode="grid")
    assert isinstance(vec, TimedGridVecEnv) and vec.num_envs == 3
    first, batch = plain.reset(seed=7)[0], vec.reset(seed=7)[0]  # one environment, whichever door it came through
    assert np.array_equal(first["image"], prefixed.reset(seed=7)[0]["image"])
    assert np.array_equal(first["image"], batch["image"][0].numpy()) and first["instruction"][0] == batch["instruction"][0].item()


# --------------------------------------------------------------------------- arrival and reward


@pytest.mark.parametrize("obs_mode", ["pixels", "grid"])
def test_exact_arrival_succeeds(obs_mode):
    env = make(obs_mode=obs_mode)
    start(env, 5, (0, 0), (0, 2))
    # wait three steps, then two moves right: arrive at t = 5 = T
    for t, a in enumerate([PASS, PASS, PASS, RIGHT], start=1):
        _, r, term, trunc, info = env.step(a)
        assert (r, term, trunc, info["t"]) == (0.0, False, False, t)
    _, r, term, trunc, info = env.step(RIGHT)
    assert (r, term, trunc) == (1.0, True, False)
    assert info == {"t": 5, "success": True, "arrival_time": 5, "instruction": 5}


def test_early_arrival_fails():
    env = make()
    start(env, 6, (2, 2), (2, 3))
    _, r, term, trunc, info = env.step(RIGHT)
    assert (r, term, trunc) == (-1.0, True, False)
    assert info["success"] is False and info["arrival_time"] == 1 and info["instruction"] == 6


def test_late_arrival_fails():
    env = make()
    start(env, 2, (2, 2), (2, 3))
    _, r, term, trunc, info = run(env, [PASS, PASS, RIGHT])
    assert (r, term, trunc) == (-1.0, True, False)
    assert info["success"] is False and info["arrival_time"] == 3


def test_timeout_truncates_at_t_plus_2n():
    env = make()
    start(env, 7, (0, 0), (4, 4))
    limit = 7 + 2 * 5
    for t in range(1, limit):
        _, r, term, trunc, _ = env.step(PASS)
        assert (r, term, trunc) == (0.0, False, False), t
    _, r, term, trunc, info = env.step(PASS)
    assert (r, term, trunc) == (-1.0, False, True)
    assert info == {"t": limit, "success": False, "arrival_time": -1, "instruction": 7}


def test_explicit_time_limit():
    env = make(time_limit=3)
    start(env, 10, (0, 0), (4, 4))
    _, r, term, trunc, _ = run(env, [PASS, PASS, PASS])
    assert (r, term, trunc) == (-1.0, False, True)


# --------------------------------------------------------------------------- the paper's rules


def make_both(**kwargs):
    """The single environment and a batch of one, with the same rules."""
    return make(**kwargs), TimedGridVecEnv(num_envs=1, **kwargs)


def play_both(kwargs, instruction, agent, target, actions):
    """The last step's (reward, terminated, truncated, info) in both environments; they must agree."""
    single, vec = make_both(**kwargs)
    start(single, instruction, agent, target)
    vec.reset(seed=0, options={"instruction": instruction, "agent": agent, "target": target})
    for a in actions:
        _, r, term, trunc, info = single.step(a)
        _, vr, vterm, vtrunc, vinfo = vec.step(torch.tensor([a]))
        assert (r, term, trunc) == (vr.item(), vterm.item(), vtrunc.item())
    assert info["success"] == vinfo["success"].item() and info["arrival_time"] == vinfo["arrival_time"].item()
    return r, term, trunc, info


GRADED = {"reward": "graded", "obs_mode": "grid"}


def test_graded_exact_arrival_pays_one():
    r, term, trunc, info = play_both(GRADED, 5, (0, 0), (0, 2), [PASS, PASS, PASS, RIGHT, RIGHT])
    assert (r, term, trunc) == (1.0, True, False) and info["success"] is True


def test_graded_one_step_early_pays_less_by_the_timing_penalty():
    r, term, trunc, info = play_both(GRADED, 5, (0, 0), (0, 2), [PASS, PASS, RIGHT, RIGHT])
    assert r == pytest.approx(0.85) and (term, trunc) == (True, False)
    assert info["success"] is False and info["arrival_time"] == 4


def test_graded_three_steps_late_with_another_penalty():
    r, _, _, info = play_both({**GRADED, "timing_penalty": 0.2}, 2, (2, 2), (2, 3), [PASS, PASS, PASS, PASS, RIGHT])
    assert r == pytest.approx(1 - 3 * 0.2) and info["arrival_time"] == 5 and info["success"] is False


def test_graded_reward_never_falls_below_minus_one():
    r, _, _, _ = play_both(GRADED, 30, (2, 2), (2, 3), [RIGHT])  # 29 steps early: 1 - 0.15 * 29 < -1
    assert r == -1.0


def test_graded_timeout_pays_zero():
    r, term, trunc, info = play_both(GRADED, 7, (0, 0), (4, 4), [PASS] * (7 + 2 * 5))
    assert (r, term, trunc) == (0.0, False, True)
    assert info["success"] is False and info["arrival_time"] == -1


def test_graded_rewards_match_the_rule_as_arrays():
    t, T = np.arange(1, 60), np.full(59, 20)
    expected = np.maximum(-1.0, 1.0 - 0.15 * np.abs(t - T)).astype(np.float32)
    np.testing.assert_allclose(rules.graded_reward(t, T), expected, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(rules.graded_reward(torch.tensor(t), torch.tensor(T)).numpy(), rules.graded_reward(t, T))


def _placements(env, instruction, draws):
    pairs = {}
    for _ in range(draws):
        obs, _ = env.reset(options={"instruction": instruction})
        image = obs["image"]
        a = int(np.argmax(image[0])), int(np.argmax(image[1]))
        pairs[a] = pairs.get(a, 0) + 1
    return pairs


@pytest.mark.parametrize("instruction", [1, 5, 12])
def test_uniform_placement_is_uniform_over_distinct_pairs_whatever_t(instruction):
    """The paper's placement: every distinct pair equally likely, also those farther apart than T."""
    n = 5
    env = make(obs_mode="grid", placement="uniform")
    env.reset(seed=4)
    draws = 30000
    pairs = _placements(env, instruction, draws)
    assert set(pairs) == {(a, t) for a in range(n * n) for t in range(n * n) if a != t}
    expected = draws / len(pairs)
    chi2 = sum((c - expected) ** 2 / expected for c in pairs.values())
    dof = len(pairs) - 1
    assert chi2 < dof + 5 * np.sqrt(2 * dof), (chi2, dof)


def test_uniform_placement_makes_some_episodes_infeasible_below_t_8():
    """For T < 2N - 2 = 8 some pairs lie farther than T: those episodes cannot be won."""
    env = make(obs_mode="grid", placement="uniform")
    env.reset(seed=5)
    for instruction, feasible_share in ((5, 1 - 60 / 600), (7, 1 - 4 / 600)):
        pairs = _placements(env, instruction, 6000)
        far = sum(c for (a, t), c in pairs.items() if abs(a // 5 - t // 5) + abs(a % 5 - t % 5) > instruction)
        assert far > 0
        assert abs((1 - far / 6000) - feasible_share) < 0.02, (instruction, far)
    pairs = _placements(env, 8, 2000)  # from T = 8 on every pair is within reach
    assert all(abs(a // 5 - t // 5) + abs(a % 5 - t % 5) <= 8 for a, t in pairs)


def test_uniform_placement_accepts_fixed_cells_farther_apart_than_t():
    env = make(obs_mode="grid", placement="uniform", reward="graded")
    obs, _ = start(env, 2, (0, 0), (4, 4))
    assert obs["image"][0, 0, 0] == 1 and obs["image"][1, 4, 4] == 1


def test_placements_agree_from_t_8_on():
    """For T >= 2N - 2 the reachable pairs are all pairs: the same seeds draw the same starts."""
    a = TimedGridVecEnv(num_envs=500, obs_mode="grid")
    b = TimedGridVecEnv(num_envs=500, obs_mode="grid", placement="uniform")
    a.reset(seed=9, options={"instruction": 8})
    b.reset(seed=9, options={"instruction": 8})
    assert a.states() == b.states()


def test_step_after_end_is_refused():
    env = make()
    start(env, 5, (2, 2), (2, 3))
    env.step(RIGHT)
    with pytest.raises(RuntimeError, match="reset"):
        env.step(PASS)


# --------------------------------------------------------------------------- movement


@pytest.mark.parametrize(
    "cell, action, expected",
    [
        ((2, 2), UP, (1, 2)),
        ((2, 2), DOWN, (3, 2)),
        ((2, 2), LEFT, (2, 1)),
        ((2, 2), RIGHT, (2, 3)),
        ((2, 2), PASS, (2, 2)),
        ((0, 1), UP, (0, 1)),
        ((4, 1), DOWN, (4, 1)),
        ((1, 0), LEFT, (1, 0)),
        ((1, 4), RIGHT, (1, 4)),
    ],
)
def test_moves_and_walls(cell, action, expected):
    env = make(obs_mode="grid")
    target = (4, 4) if cell != (4, 4) else (0, 0)
    start(env, 20, cell, target)
    obs, *_ = env.step(action)
    assert np.argwhere(obs["image"][0] == 1).tolist() == [list(expected)]


def test_invalid_action_is_refused():
    env = make()
    env.reset(seed=0)
    for bad in (5, -1, 2.5, "UP"):
        with pytest.raises(ValueError, match="action"):
            env.step(bad)


# --------------------------------------------------------------------------- observations


def test_pixel_colors():
    env = make(obs_mode="pixels")
    obs, _ = start(env, 5, (0, 0), (4, 4))
    image = obs["image"]
    assert image.shape == (56, 56, 3) and image.dtype == np.uint8
    colors = {tuple(c) for c in image.reshape(-1, 3)}
    assert colors == {(0, 0, 0), (128, 128, 128), (255, 0, 0)}
    assert tuple(image[1, 1]) == (128, 128, 128)  # cell (0, 0): the agent
    assert tuple(image[50, 50]) == (255, 0, 0)  # cell (4, 4): the target
    assert (image == (128, 128, 128)).all(-1).sum() == (image == (255, 0, 0)).all(-1).sum() == 11 * 11


def test_grid_planes():
    env = make(obs_mode="grid")
    obs, _ = start(env, 5, (1, 2), (3, 4))
    image = obs["image"]
    assert image.shape == (2, 5, 5) and image.dtype == np.float32
    assert np.argwhere(image[0]).tolist() == [[1, 2]] and np.argwhere(image[1]).tolist() == [[3, 4]]
    assert image.sum() == 2


@pytest.mark.parametrize("obs_mode", ["pixels", "grid"])
def test_instruction_at_every_step_and_never_elapsed_time(obs_mode):
    env = make(obs_mode=obs_mode)
    obs0, _ = start(env, 9, (0, 0), (4, 4))
    for _ in range(5):
        obs, *_ = env.step(PASS)
        assert obs["instruction"].tolist() == [9.0]
        # the agent has not moved: nothing in the observation may reveal that time passed
        np.testing.assert_array_equal(obs["image"], obs0["image"])
    assert set(obs) == {"image", "instruction"}


def test_agent_drawn_over_target_on_arrival():
    env = make(obs_mode="pixels")
    start(env, 1, (2, 2), (2, 3))
    obs, *_ = env.step(RIGHT)
    assert not (obs["image"] == (255, 0, 0)).all(-1).any()


# --------------------------------------------------------------------------- start states


def test_instruction_drawn_uniformly_from_t_range():
    env = make(t_range=(3, 6))
    env.reset(seed=1)
    counts = np.bincount([env.reset()[0]["instruction"][0].astype(int) for _ in range(4000)], minlength=7)
    assert counts[:3].sum() == 0
    assert np.all(np.abs(counts[3:] - 1000) < 120), counts


@pytest.mark.parametrize("instruction", [1, 3, 12])
def test_placement_uniform_over_pairs_within_reach(instruction):
    """Chi-square: every distinct pair with 1 <= d <= T equally likely, no other pair ever."""
    n = 5
    env = make(obs_mode="grid", size=n)
    env.reset(seed=2)
    pairs = {}
    draws = 12000
    for _ in range(draws):
        obs, _ = env.reset(options={"instruction": instruction})
        a = int(np.argmax(obs["image"][0])), int(np.argmax(obs["image"][1]))
        pairs[a] = pairs.get(a, 0) + 1
    valid = {
        (a, t)
        for a in range(n * n)
        for t in range(n * n)
        if 1 <= abs(a // n - t // n) + abs(a % n - t % n) <= instruction
    }
    assert set(pairs) == valid
    expected = draws / len(valid)
    chi2 = sum((c - expected) ** 2 / expected for c in pairs.values())
    dof = len(valid) - 1
    assert chi2 < dof + 5 * np.sqrt(2 * dof), (chi2, dof)


def test_batched_placement_matches_single_distribution():
    vec = TimedGridVecEnv(num_envs=20000, obs_mode="grid")
    vec.reset(seed=3, options={"instruction": 2})
    cells = torch.tensor([[s.agent[0] * 5 + s.agent[1], s.target[0] * 5 + s.target[1]] for s in vec.states()])
    dist = (cells[:, 0] // 5 - cells[:, 1] // 5).abs() + (cells[:, 0] % 5 - cells[:, 1] % 5).abs()
    assert dist.min() == 1 and dist.max() == 2
    counts = torch.bincount(cells[:, 0] * 25 + cells[:, 1]).float()
    counts = counts[counts > 0]
    assert len(counts) == sum(int(v) for v in rules.placement_table(5)[2][2:3])
    assert counts.std() / counts.mean() < 0.2


# --------------------------------------------------------------------------- seeding


@pytest.mark.parametrize("obs_mode", ["pixels", "grid"])
def test_same_seed_same_episodes(obs_mode):
    def rollout(seed):
        env = make(obs_mode=obs_mode)
        out = [env.reset(seed=seed)]
        rng = np.random.default_rng(0)
        for _ in range(200):
            step = env.step(int(rng.integers(5)))
            out.append(step)
            if step[2] or step[3]:
                out.append(env.reset())
        return out

    a, b, c = rollout(11), rollout(11), rollout(12)
    assert len(a) == len(b)
    for x, y in zip(a, b):
        for u, v in zip(x, y):
            if isinstance(u, dict) and "image" in u:
                np.testing.assert_array_equal(u["image"], v["image"])
                np.testing.assert_array_equal(u["instruction"], v["instruction"])
            else:
                assert u == v
    assert any(not np.array_equal(x[0]["image"], y[0]["image"]) for x, y in zip(a, c))


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"size": 1}, "size"),
        ({"size": 2.5}, "size"),
        ({"size": 100}, "size"),
        ({"t_range": (0, 5)}, "t_range"),
        ({"t_range": (6, 5)}, "t_range"),
        ({"t_range": (1, 1001)}, "t_range"),
        ({"t_range": 5}, "t_range"),
        ({"obs_mode": "rgb"}, "obs_mode"),
        ({"time_limit": 0}, "time_limit"),
        ({"render_mode": "video"}, "render_mode"),
        ({"placement": "anywhere"}, "placement"),
        ({"reward": "dense"}, "reward"),
        ({"timing_penalty": 0}, "timing_penalty"),
        ({"timing_penalty": -0.1}, "timing_penalty"),
        ({"timing_penalty": float("inf")}, "timing_penalty"),
        ({"timing_penalty": "0.1"}, "timing_penalty"),
    ],
)
def test_bad_kwargs_name_the_argument(kwargs, name):
    with pytest.raises(ValueError, match=name):
        TimedGridEnv(**kwargs)
    with pytest.raises(ValueError, match=name):
        TimedGridVecEnv(num_envs=2, **kwargs)


def test_bad_vector_kwargs():
    with pytest.raises(ValueError, match="num_envs"):
        TimedGridVecEnv(num_envs=0)
    with pytest.raises(ValueError, match="device"):
        TimedGridVecEnv(num_envs=2, device="tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA"):
            TimedGridVecEnv(num_envs=2, device="cuda")


@pytest.mark.parametrize(
    "options, match",
    [
        ({"instruction": 0}, "instruction"),
        ({"instruction": 1001}, "instruction"),
        ({"instruction": 2.0}, "instruction"),
        ({"agent": (0, 0), "target": (0, 5)}, "target"),
        ({"agent": (0, -1), "target": (0, 1)}, "agent"),
        ({"agent": (1, 1), "target": (1, 1)}, "distinct"),
        ({"agent": (1, 1)}, "together"),
        ({"speed": 3}, "speed"),
    ],
)
def test_bad_options_are_refused(options, match):
    with pytest.raises(ValueError, match=match):
        make().reset(seed=0, options=options)
    with pytest.raises(ValueError, match=match):
        TimedGridVecEnv(num_envs=2).reset(seed=0, options=options)


def test_instruction_outside_t_range_allowed_for_extrapolation():
    env = make()
    obs, _ = env.reset(seed=0, options={"instruction": 30})
    assert obs["instruction"].tolist() == [30.0]


def test_batched_bad_actions_and_seeds():
    vec = TimedGridVecEnv(num_envs=3)
    vec.reset(seed=0)
    with pytest.raises(ValueError, match="actions"):
        vec.step(torch.tensor([0, 5, 1]))
    with pytest.raises(ValueError, match="actions"):
        vec.step(torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="seed"):
        vec.reset(seed=[1, 2])


# --------------------------------------------------------------------------- rendering


def test_render_rgb_array_has_grid_lines():
    env = make(render_mode="rgb_array")
    start(env, 5, (0, 0), (4, 4))
    frame = env.render()
    assert frame.shape == (161, 161, 3) and frame.dtype == np.uint8
    assert tuple(frame[0, 5]) == tuple(frame[32, 5]) == (64, 64, 64)  # grid lines
    assert tuple(frame[16, 16]) == (128, 128, 128) and tuple(frame[150, 150]) == (255, 0, 0)


def test_render_ansi_shows_t_and_T():
    env = make(render_mode="ansi")
    start(env, 7, (0, 0), (0, 1))
    env.step(PASS)
    text = env.render()
    assert text.splitlines()[0] == "t=1 T=7"
    assert text.splitlines()[1] == "A X . . ."


def test_render_human_without_display_warns_once_and_shows_nothing(monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    env = make(render_mode="human")  # no window yet: Gymnasium's envs open theirs on the first render
    with pytest.warns(UserWarning, match="needs a display") as caught:
        env.reset(seed=0)
        env.step(PASS)
        assert env.render() is None
    assert len([w for w in caught if "needs a display" in str(w.message)]) == 1
    env.close()


def test_batched_render():
    vec = TimedGridVecEnv(num_envs=2, render_mode="ansi")
    vec.reset(seed=0, options={"instruction": 4, "agent": (0, 0), "target": (1, 1)})
    assert vec.render()[1].splitlines()[:6] == ["t=0 T=4", "A . . . .", ". X . . .", ". . . . .", ". . . . .", ". . . . ."]
    assert vec.render()[1].splitlines()[6].startswith("A agent, X target, * agent on target")  # the key
