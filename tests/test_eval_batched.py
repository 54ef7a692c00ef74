"""The batched evaluation against a plain loop over the single Gymnasium env, and what its T chunks cost."""

from __future__ import annotations

import gymnasium
import numpy as np
import pytest
import torch

from nalu_rl.envs import rules
from nalu_rl.evaluation import engine

ENV = {"size": 5, "t_range": [5, 12], "obs_mode": "grid", "reward": "graded", "timing_penalty": 0.15}
T_VALUES = [1, 3, 7, 12, 50, 200]
UP, DOWN, LEFT, RIGHT, PASS = range(5)


class WalkAndWait:
    """Waits, then walks to the target to arrive at T; from T = 40 on it is one step late for targets in column 0 or 3.

    Acts on torch batches; ``steps`` counts the environments it was asked to act for.
    """

    def __init__(self) -> None:
        self.config = {"agent": "walker", "seed": 0, "env": dict(ENV)}
        self.steps = 0

    def predict(self, obs, state=None, episode_start=None, deterministic=False):
        image, instruction = obs["image"], obs["instruction"][:, 0].long()
        batch, n = image.shape[0], image.shape[-1]
        self.steps += batch
        state = torch.zeros(batch, dtype=torch.int64) if state is None else state
        if episode_start is not None:
            state = torch.where(episode_start, torch.zeros_like(state), state)
        agent = image[:, 0].reshape(batch, -1).argmax(1)
        target = image[:, 1].reshape(batch, -1).argmax(1)
        dr, dc = target // n - agent // n, target % n - agent % n
        late = (instruction >= 40) & (target % n % 3 == 0)
        remaining = instruction + late.long() - state
        move = torch.where(dr > 0, DOWN, torch.where(dr < 0, UP, torch.where(dc > 0, RIGHT, LEFT)))
        return torch.where(remaining > dr.abs() + dc.abs(), PASS, move), state + 1


def plain_loop(agent, t: int, episodes: int, seed: int) -> dict:
    """One episode at a time in ``gymnasium.make``'s env, from the evaluation's start seeds; the same numbers."""
    env = gymnasium.make("nalu_rl/TimedGrid-v0", **{**ENV, "placement": "reachable"})
    wins, arrivals, returns, paper = 0, [], [], []
    for j in range(episodes):
        obs, _ = env.reset(seed=engine.start_seed(seed, j), options={"instruction": t})
        state, total, done = None, np.float32(0), False
        while not done:
            batch = {k: torch.as_tensor(v)[None] for k, v in obs.items()}
            action, state = agent.predict(batch, state)
            obs, reward, terminated, truncated, info = env.step(int(action[0]))
            total += np.float32(reward)
            done = terminated or truncated
        wins += info["success"]
        returns.append(float(total))
        if info["arrival_time"] >= 0:
            arrivals.append(info["arrival_time"])
        paper.append(float(rules.graded_reward(np.array(info["arrival_time"]), t)) if info["arrival_time"] >= 0 else 0.0)
    return {
        "T": t, "successes": wins, "success_rate": wins / episodes, "arrival_rate": len(arrivals) / episodes,
        "mean_arrival_time": float(np.mean(arrivals)) if arrivals else None,
        "timing_mae": float(np.mean(np.abs(np.array(arrivals) - t))) if arrivals else None,
        "mean_reward": float(np.mean(returns)), "paper_reward": float(np.mean(paper)),
    }  # fmt: skip


def test_batched_evaluation_matches_a_plain_single_env_loop():
    episodes, seed = 24, 3
    batched = {r["T"]: r for r in engine.evaluate(WalkAndWait(), T_VALUES, episodes, seed=seed)}
    for t in T_VALUES:
        want, got = plain_loop(WalkAndWait(), t, episodes, seed), batched[t]
        assert got["successes"] == want["successes"], t
        for key in ("success_rate", "arrival_rate", "mean_arrival_time", "timing_mae", "mean_reward", "paper_reward"):
            assert got[key] == pytest.approx(want[key], abs=1e-6), (t, key)
    assert batched[12]["success_rate"] == 1.0
    for t in (50, 200):  # the deliberate error: some episodes late, some on time
        assert 0 < batched[t]["success_rate"] < 1 and batched[t]["timing_mae"] > 0


def test_t_values_are_chunked_by_episode_length_and_results_do_not_depend_on_it(monkeypatch):
    t_values = [*range(1, 31), 50, 100, 200, 500, 1000]
    limit = lambda t: rules.episode_limit(t, 5, None)  # noqa: E731
    chunks = engine._chunks(t_values, 1000, limit)
    assert sorted(t for c in chunks for t in c) == t_values
    assert all(limit(max(c)) <= engine.CHUNK_SPREAD * limit(min(c)) for c in chunks)
    assert chunks == [list(range(1, 13)), list(range(13, 31)), [50, 100], [200], [500, 1000]]
    assert all(len(c) <= 4 for c in engine._chunks(t_values, 4, limit))  # the batch cap still holds

    grouped = WalkAndWait()
    results = engine.evaluate(grouped, [1000, *range(1, 31), 200, 50], 8)
    assert [r["T"] for r in results] == [1000, *range(1, 31), 200, 50]  # in the order asked for
    monkeypatch.setattr(engine, "CHUNK_SPREAD", float("inf"))  # every T in one batch, as before chunking by length
    together = WalkAndWait()
    assert engine.evaluate(together, [1000, *range(1, 31), 200, 50], 8) == results
    # finished episodes of the short T no longer step until T = 1000's limit
    assert grouped.steps * 5 < together.steps
