"""The evaluation engine: an agent rolled out greedily (or sampled) on seeded start states, per instruction T.

:func:`evaluate` rolls an agent out in the batched environment for every instruction T of a
list, on a fixed set of seeded start states: environment j of every T is seeded
``start_seed(seed, j)``, so every agent evaluated with the same ``seed`` plays identical
episodes (same start cells for the same T). Only each environment's first episode counts;
what the batched twin plays after its same-step autoreset is ignored. The T values are stepped
in batches of similar episode length, so that T = 1000 costs what its own episodes cost and
no more: a batch steps until its longest episode can end, finished or not.

The agent is used through ``predict(obs, state, episode_start, deterministic)`` only, so any
agent that :func:`nalu_rl.load_agent` returns (ours, or a Stable-Baselines3 peer), the trainer's
network during training, and any hand-written object with that method are evaluated the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from nalu_rl.common.checks import check_int
from nalu_rl.common.devices import rng_devices
from nalu_rl.common.intervals import wilson_interval
from nalu_rl.envs import rules
from nalu_rl.envs.rules import episode_limit
from nalu_rl.evaluation.measures import rounded

# Evaluation start states are seeded far away from the small seeds training uses.
EVAL_SEED_BASE = 1 << 40
EPISODES_PER_SEED = 1 << 24
MAX_BATCH = 1 << 16  # environments stepped at once; larger evaluations run in chunks of T values
# A chunk of T values steps until its longest episode can end; episode limits within a chunk stay
# within this factor of its shortest, so finished episodes cost at most as much again as live ones.
CHUNK_SPREAD = 2


def start_seed(seed: int, episode: int) -> int:
    """Seed of evaluation episode ``episode`` (the same for every T and every agent)."""
    return EVAL_SEED_BASE + seed * EPISODES_PER_SEED + episode


def evaluate(
    agent: Any,
    t_values: Sequence[int],
    episodes: int,
    *,
    sample: bool = False,
    seed: int = 0,
    env_kwargs: dict[str, Any] | None = None,
    device: str | torch.device | None = None,
    progress: bool = False,
    max_batch: int = MAX_BATCH,
) -> list[dict[str, Any]]:
    """Roll ``agent`` out for ``episodes`` seeded episodes per instruction T; one result dict per T.

    ``env_kwargs`` (the environment's rules; t_range is irrelevant here since T is fixed)
    default to ``agent.config["env"]``; ``device`` to the agent's, else the CPU. Start states
    are always drawn from the pairs within reach of T (``placement="reachable"``): for
    T >= 2N - 2 that is the paper's uniform draw itself, and below it every episode can be won,
    so agents trained under either placement play identical episodes. Greedy actions unless
    ``sample``; sampled actions draw from torch's RNG seeded with ``seed`` (the global RNG state
    is restored afterwards). The result dicts hold the keys of :data:`RESULT_KEYS` plus
    ``"successes"``: ``mean_reward`` under the environment's own reward, ``paper_reward``
    under the paper's graded one (:func:`rules.graded_reward` on arrival, 0 on timeout).
    """
    from nalu_rl.envs.batched import TimedGridVecEnv

    t_values = [check_int("T", t) for t in t_values]
    if not t_values:
        raise ValueError("t_values must not be empty")
    episodes, seed = check_int("episodes", episodes), check_int("seed", seed)  # NumPy integers become ints
    kwargs = dict((getattr(agent, "config", None) or {}).get("env", {}) if env_kwargs is None else env_kwargs)
    kwargs = {k: v for k, v in kwargs.items() if k in rules.KWARGS}
    kwargs["placement"] = "reachable"
    if device is None:
        device = getattr(agent, "device", None) or "cpu"
    cfg = rules.Config(**kwargs)
    chunks = _chunks(sorted(set(t_values)), max(1, max_batch // episodes), lambda t: episode_limit(t, cfg.size, cfg.time_limit))
    bar = None
    if progress:
        from nalu_rl.common.progress import progress_bar

        bar = progress_bar(total=sum(len(c) for c in chunks), desc="eval", unit="T", leave=False)
    by_t: dict[int, dict[str, Any]] = {}
    with torch.random.fork_rng(devices=rng_devices(device)):
        torch.manual_seed(seed)
        for chunk in chunks:
            env = TimedGridVecEnv(num_envs=len(chunk) * episodes, device=device, **kwargs)
            by_t.update((r["T"], r) for r in _rollout(agent, env, chunk, episodes, sample, seed))
            if bar is not None:
                bar.update(len(chunk))
    if bar is not None:
        bar.close()
    return [dict(by_t[t]) for t in t_values]


def _chunks(t_values: list[int], per_chunk: int, limit) -> list[list[int]]:
    """Sorted ``t_values`` cut into chunks of at most ``per_chunk`` T whose episode ``limit(T)`` stay within CHUNK_SPREAD."""
    chunks: list[list[int]] = []
    for t in t_values:
        if chunks and len(chunks[-1]) < per_chunk and limit(t) <= CHUNK_SPREAD * limit(chunks[-1][0]):
            chunks[-1].append(t)
        else:
            chunks.append([t])
    return chunks


@torch.no_grad()
def _rollout(agent, env, t_values: list[int], episodes: int, sample: bool, seed: int) -> list[dict[str, Any]]:
    """First-episode outcomes of ``len(t_values) * episodes`` environments, aggregated per T."""
    dev = env.device
    k = env.num_envs
    instruction = torch.tensor(t_values, dtype=torch.int64, device=dev).repeat_interleave(episodes)
    seeds = [start_seed(seed, j) for j in range(episodes)] * len(t_values)
    obs, _ = env.reset(seed=seeds, options={"instruction": instruction})
    state = None
    episode_start = torch.ones(k, dtype=torch.bool, device=dev)
    finished = torch.zeros(k, dtype=torch.bool, device=dev)
    success = torch.zeros(k, dtype=torch.bool, device=dev)
    arrival = torch.full((k,), -1, dtype=torch.int64, device=dev)
    episode_return = torch.zeros(k, dtype=torch.float32, device=dev)
    limit = episode_limit(max(t_values), env.cfg.size, env.cfg.time_limit)  # every first episode ends by then
    for _ in range(limit):
        actions, state = agent.predict(obs, state=state, episode_start=episode_start, deterministic=not sample)
        actions = torch.as_tensor(actions, device=dev).long().reshape(-1)
        obs, reward, terminated, truncated, info = env.step(actions)
        live = ~finished
        episode_return += torch.where(live, torch.as_tensor(reward, device=dev).float(), 0.0)
        done = (terminated | truncated) & live
        success |= done & info["success"]
        arrival = torch.where(done, info["arrival_time"], arrival)
        finished |= done
        episode_start = terminated | truncated
        if bool(finished.all()):
            break
    if not bool(finished.all()):  # cannot happen: the env truncates at its limit
        raise RuntimeError("evaluation episodes did not end within the time limit")
    return _aggregate(t_values, episodes, success, arrival, episode_return, instruction)


def _aggregate(t_values, episodes, success, arrival, episode_return, instruction) -> list[dict[str, Any]]:
    success = success.view(len(t_values), episodes).cpu()
    arrival = arrival.view(len(t_values), episodes).cpu()
    episode_return = episode_return.view(len(t_values), episodes).cpu()
    target = instruction.view(len(t_values), episodes).cpu()
    paper = torch.where(arrival >= 0, rules.graded_reward(arrival, target), torch.zeros(()))
    out = []
    for i, t in enumerate(t_values):
        wins = int(success[i].sum())
        arrived = arrival[i] >= 0
        n_arrived = int(arrived.sum())
        lo, hi = wilson_interval(wins, episodes)
        times = arrival[i][arrived].double()
        out.append(
            {
                "T": int(t),
                "episodes": episodes,
                "success_rate": rounded(wins / episodes),
                "success_ci95": [rounded(lo), rounded(hi)],
                "mean_reward": rounded(float(episode_return[i].double().mean())),
                "paper_reward": rounded(float(paper[i].double().mean())),
                "arrival_rate": rounded(n_arrived / episodes),
                "mean_arrival_time": rounded(float(times.mean())) if n_arrived else None,
                "timing_mae": rounded(float((times - target[i][arrived]).abs().mean())) if n_arrived else None,
                "successes": wins,
            }
        )
    return out
