"""Timing extrapolation: how far beyond the training range an agent keeps arriving on time.

:func:`evaluate` rolls an agent out in the batched environment for every instruction T of a
list, on a fixed set of seeded start states: environment j of every T is seeded
``start_seed(seed, j)``, so every agent evaluated with the same ``seed`` plays identical
episodes (same start cells for the same T). Only each environment's first episode counts;
what the batched twin plays after its same-step autoreset is ignored. The T values are stepped
in batches of similar episode length, so that T = 1000 costs what its own episodes cost and
no more: a batch steps until its longest episode can end, finished or not.

The agent is used through ``predict(obs, state, episode_start, deterministic)`` only, so any
agent that :func:`nalu_rl.load_agent` returns (ours, or a Stable-Baselines3 peer) and any
hand-written object with that method is evaluated the same way.

:func:`evaluate_run` does this for a run folder and writes ``extrapolation.json`` (SPEC §5),
``extrapolation.csv`` and ``extrapolation.png`` next to the run's ``config.json``, and the
curves, horizons and figure to the run's TensorBoard folder ``tb/``.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from nalu_rl.analysis.stats import wilson_interval
from nalu_rl.common import files
from nalu_rl.common.checks import check_int
from nalu_rl.common.devices import rng_devices
from nalu_rl.envs import rules
from nalu_rl.envs.rules import episode_limit

RESULT_FILE = "extrapolation.json"
CSV_FILE = "extrapolation.csv"
FIGURE_FILE = "extrapolation.png"
TENSORBOARD_DIR = "tb"
DEFAULT_TRAIN_RANGE = (5, 12)
HORIZON_LEVELS = (0.9, 0.5)
# The paper's own measure (its Fig. 5): the mean episode reward under its graded reward, with
# the horizon read where it stays >= 0.7 from T = 8 (the lowest T at which every placement can
# be won) and the mean over T = 13..20, past the training range.
REWARD_HORIZON_LEVEL = 0.7
REWARD_HORIZON_FROM = 8
PAPER_RANGE = (13, 20)
# Evaluation start states are seeded far away from the small seeds training uses.
EVAL_SEED_BASE = 1 << 40
EPISODES_PER_SEED = 1 << 24
MAX_BATCH = 1 << 16  # environments stepped at once; larger evaluations run in chunks of T values
# A chunk of T values steps until its longest episode can end; episode limits within a chunk stay
# within this factor of its shortest, so finished episodes cost at most as much again as live ones.
CHUNK_SPREAD = 2
REQUIRED_KEYS = (
    "T", "episodes", "success_rate", "success_ci95", "mean_reward",
    "arrival_rate", "mean_arrival_time", "timing_mae",
)  # fmt: skip
RESULT_KEYS = (*REQUIRED_KEYS, "paper_reward")  # results written by 0.2.0 lack paper_reward
CSV_COLUMNS = (
    "T", "episodes", "successes", "success_rate", "success_ci95_lo", "success_ci95_hi",
    "mean_reward", "paper_reward", "arrival_rate", "mean_arrival_time", "timing_mae",
)  # fmt: skip


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
    check_int("episodes", episodes)
    check_int("seed", seed)
    kwargs = dict((getattr(agent, "config", None) or {}).get("env", {}) if env_kwargs is None else env_kwargs)
    kwargs = {k: v for k, v in kwargs.items() if k in rules.KWARGS}
    kwargs["placement"] = "reachable"
    if device is None:
        device = getattr(agent, "device", None) or "cpu"
    cfg = rules.Config(**kwargs)
    chunks = _chunks(sorted(set(t_values)), max(1, max_batch // episodes), lambda t: episode_limit(t, cfg.size, cfg.time_limit))
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=sum(len(c) for c in chunks), desc="eval", unit="T", leave=False)
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
                "success_rate": _round(wins / episodes),
                "success_ci95": [_round(lo), _round(hi)],
                "mean_reward": _round(float(episode_return[i].double().mean())),
                "paper_reward": _round(float(paper[i].double().mean())),
                "arrival_rate": _round(n_arrived / episodes),
                "mean_arrival_time": _round(float(times.mean())) if n_arrived else None,
                "timing_mae": _round(float((times - target[i][arrived]).abs().mean())) if n_arrived else None,
                "successes": wins,
            }
        )
    return out


def _round(x: float) -> float:
    return round(float(x), 6)


def horizon(results: Sequence[dict[str, Any]], train_lo: int, q: float) -> int | None:
    """The largest T' with success rate >= q for every T from ``train_lo`` up to T' (SPEC §5).

    None when ``train_lo`` itself falls short or was not evaluated; the scan stops at the first
    T that fails or is missing, and at the top of the evaluated range (the horizon may lie beyond).
    """
    return _last_above({int(r["T"]): _rate(r) for r in results}, train_lo, q)


def _last_above(by_t: dict[int, float | None], start: int, level: float) -> int | None:
    """The largest T' such that ``by_t[T] >= level`` for every T from ``start`` to T'; None if ``start`` fails."""
    best, t = None, start
    while by_t.get(t) is not None and by_t[t] >= level - 1e-9:
        best, t = t, t + 1
    return best


def _rate(result: dict[str, Any]) -> float:
    if "successes" in result:
        return result["successes"] / result["episodes"]
    return float(result["success_rate"])


def reward_horizon(results: Sequence[dict[str, Any]]) -> int | None:
    """The paper's horizon: the largest T' with ``paper_reward`` >= 0.7 for every T from 8 to T'.

    None when T = 8 falls short or was not evaluated (or the results predate ``paper_reward``).
    """
    return _last_above({int(r["T"]): r.get("paper_reward") for r in results}, REWARD_HORIZON_FROM, REWARD_HORIZON_LEVEL)


def paper_range_reward(results: Sequence[dict[str, Any]]) -> float | None:
    """The mean ``paper_reward`` over T = 13..20; None unless every one of them was evaluated."""
    by_t = {int(r["T"]): r.get("paper_reward") for r in results}
    values = [by_t.get(t) for t in range(PAPER_RANGE[0], PAPER_RANGE[1] + 1)]
    return None if None in values else _round(sum(values) / len(values))


def horizon_key(q: float) -> str:
    return f"horizon_{round(q * 100)}"


def summarize(
    results: Sequence[dict[str, Any]], *, agent: str, seed: Any, train_range: Sequence[int], sample: bool, **extra: Any
) -> dict[str, Any]:
    """The ``extrapolation.json`` document (SPEC §5) for per-T ``results``."""
    train_range = [int(train_range[0]), int(train_range[1])]
    doc: dict[str, Any] = {
        "agent": agent,
        "seed": seed,
        "train_range": train_range,
        "policy": "sampled" if sample else "greedy",
        "results": [{k: r[k] for k in RESULT_KEYS if k in r} for r in results],
        **run_measures(results, train_range[0]),
    }
    doc.update(extra)
    return doc


def run_measures(results: Sequence[dict[str, Any]], train_lo: int) -> dict[str, Any]:
    """The per-run measures of ``results``: the exact-success horizons, the reward horizon and the reward over T = 13..20."""
    measures: dict[str, Any] = {horizon_key(q): horizon(results, train_lo, q) for q in HORIZON_LEVELS}
    measures["reward_horizon"] = reward_horizon(results)
    measures["reward_13_20"] = paper_range_reward(results)
    return measures


# --------------------------------------------------------------------------- files


def write_csv(path: Path, results: Sequence[dict[str, Any]]) -> None:
    import io

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in results:
        lo, hi = r["success_ci95"]
        successes = r.get("successes", round(r["success_rate"] * r["episodes"]))
        row = [r["T"], r["episodes"], successes, r["success_rate"], lo, hi, r["mean_reward"], r.get("paper_reward"),
               r["arrival_rate"], r["mean_arrival_time"], r["timing_mae"]]  # fmt: skip
        writer.writerow("" if v is None else v for v in row)
    files.write_text(Path(path), buf.getvalue())


def read_result(path: Path) -> dict[str, Any]:
    """An ``extrapolation.json`` (or the run folder holding one); ValueError if it is not one."""
    path = Path(path)
    if path.is_dir():
        path = path / RESULT_FILE
    try:
        doc = json.loads(path.read_text())
    except FileNotFoundError:
        raise
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"unreadable {path}: {err}") from None
    needed = ("agent", "seed", "train_range", "policy", "results")
    if not isinstance(doc, dict) or any(k not in doc for k in needed) or not isinstance(doc["results"], list):
        raise ValueError(f"{path} is not an extrapolation result (needs {', '.join(needed)})")
    for r in doc["results"]:
        if not isinstance(r, dict) or any(k not in r for k in REQUIRED_KEYS):
            raise ValueError(f"{path}: a result lacks one of {', '.join(REQUIRED_KEYS)}")
    return doc


def log_tensorboard(log_dir: Path, doc: dict[str, Any], image=None, step: int = 0) -> None:
    """Per-T curves (the step axis is T), the horizons (at ``step``, the run's frames) and the figure."""
    from torch.utils.tensorboard import SummaryWriter

    prefix = f"extrapolation/{doc['policy']}"
    with SummaryWriter(log_dir=str(log_dir)) as writer:
        for r in doc["results"]:
            for key in ("success_rate", "mean_reward", "paper_reward", "arrival_rate", "mean_arrival_time", "timing_mae"):
                if r.get(key) is not None:
                    writer.add_scalar(f"{prefix}/{key}_vs_T", r[key], global_step=r["T"])
        for key in (*(horizon_key(q) for q in HORIZON_LEVELS), "reward_horizon", "reward_13_20"):
            value = doc.get(key)
            if value is not None:
                writer.add_scalar(f"{prefix}/{key}", value, global_step=step)
        if image is not None:
            writer.add_image(f"{prefix}/figure", image, global_step=step, dataformats="HWC")


def evaluate_run(
    run_dir: Path | str,
    *,
    t_values: str | Sequence[int] | None = None,
    t_min: int | None = None,
    t_max: int | None = None,
    episodes: int = 200,
    sample: bool = False,
    seed: int = 0,
    device: str = "cpu",
    progress: bool = False,
) -> dict[str, Any]:
    """Evaluate the agent of ``run_dir`` for every T of ``t_values`` (or of t_min..t_max) and write the results there.

    ``t_values`` is a list of ints or text such as ``"1-30,50,100,200,500,1000"``
    (:func:`~nalu_rl.analysis.t_values.parse_t_list`); without it, the range t_min..t_max
    (default 1..30). Writes ``extrapolation.json`` / ``.csv`` / ``.png`` into the run folder and
    logs to ``run_dir/tb``; returns the JSON document. FileNotFoundError for a missing run folder,
    ValueError for bad arguments or a damaged run.
    """
    from nalu_rl.agents import loading
    from nalu_rl.analysis import plots
    from nalu_rl.analysis.t_values import resolve_t_values

    run_dir = Path(run_dir)
    t_values = resolve_t_values(t_values, t_min, t_max)
    check_int("episodes", episodes)
    check_int("seed", seed)
    if not run_dir.is_dir():
        raise FileNotFoundError(f"run folder not found: {run_dir}")
    agent = loading.load_agent(run_dir, device=device)
    config = dict(getattr(agent, "config", None) or {})
    env = dict(config.get("env") or {})
    train_range = tuple(env.get("t_range") or DEFAULT_TRAIN_RANGE)
    results = evaluate(
        agent, t_values, episodes, sample=sample, seed=seed, env_kwargs=env, device=device, progress=progress
    )
    frames = config.get("frames")
    doc = summarize(
        results,
        agent=config.get("agent", run_dir.name),
        seed=config.get("seed"),
        train_range=train_range,
        sample=sample,
        eval_seed=seed,
        frames=frames,
    )
    files.write_json(run_dir / RESULT_FILE, doc)
    write_csv(run_dir / CSV_FILE, results)
    frames_text = f", {frames:,} frames" if isinstance(frames, int) and not isinstance(frames, bool) else ""
    fig = plots.run_figure(doc, title=f"{run_dir.name}: {doc['agent']}, seed {doc['seed']}{frames_text}")
    plots.save(fig, run_dir / FIGURE_FILE)
    step = int(frames) if isinstance(frames, int) and not isinstance(frames, bool) else 0
    log_tensorboard(run_dir / TENSORBOARD_DIR, doc, plots.to_image(fig), step=step)
    return doc
