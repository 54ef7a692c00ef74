"""Look inside a trained clock agent (``lstm_countdown``, ``lstm_clock``) at large T: its clock, and why it fails.

    python scripts/probe_clock.py RUN [RUN ...] [--t 12,100,1000] [--episodes 200] [--cap 12 0]

For each run it prints:

* the clock's tick (what the NAU adds per step, in units of the scaled T) and the clock after
  1,000 steps as the core accumulates it in float32, against 1,000 ticks in float64 (the
  float32 drift) and against the count it is trained to (1,000 steps times the instruction
  scale: the count error);
* for each cap on the time left the LSTM reads (``--cap``: 0 for none, else that many steps; the
  run's own setting unless given) and each T: the share of episodes on time, early, late or
  never arriving, and for the early ones the median arrival time, on the evaluation's seeded
  start states (greedy). The same checkpoint under several caps shows whether a failure comes
  from the clock or from the LSTM reading a time left it never saw in training.
"""

from __future__ import annotations

import argparse

import torch

from nalu_rl.agents import load_agent
from nalu_rl.analysis.t_values import parse_t_list
from nalu_rl.envs.batched import TimedGridVecEnv
from nalu_rl.envs.rules import episode_limit
from nalu_rl.evaluation.engine import start_seed


@torch.no_grad()
def clock_drift(core, scale: float, steps: int = 1000) -> tuple[float, float, float]:
    """(tick, clock after ``steps`` ticks in float32, the same in float64)."""
    one = torch.ones(1, 1)
    tick = core.unit(one)[0, 0]
    clock = torch.zeros(())
    for _ in range(steps):  # as LSTMClockCore.forward accumulates it
        clock = clock + tick
    return float(tick) / scale, float(clock) / scale, float(tick.double()) * steps / scale


@torch.no_grad()
def outcomes(agent, t_value: int, episodes: int) -> dict[str, float]:
    env_kwargs = {**agent.config["env"], "placement": "reachable"}
    env = TimedGridVecEnv(num_envs=episodes, **env_kwargs)
    obs, _ = env.reset(seed=[start_seed(0, j) for j in range(episodes)], options={"instruction": t_value})
    state, start = None, torch.ones(episodes, dtype=torch.bool)
    done = torch.zeros(episodes, dtype=torch.bool)
    arrival = torch.full((episodes,), -1)
    for _ in range(episode_limit(t_value, env.cfg.size, env.cfg.time_limit)):
        actions, state = agent.predict(obs, state, start, deterministic=True)
        obs, _, term, trunc, info = env.step(actions)
        arrival = torch.where(~done & (term | trunc), info["arrival_time"], arrival)
        done |= term | trunc
        start = term | trunc
        if bool(done.all()):
            break
    early = (arrival >= 0) & (arrival < t_value)
    return {
        "on time": float((arrival == t_value).float().mean()),
        "early": float(early.float().mean()),
        "late": float((arrival > t_value).float().mean()),
        "never": float((arrival < 0).float().mean()),
        "early_median_t": float(arrival[early].median()) if bool(early.any()) else float("nan"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+")
    parser.add_argument("--t", default="12,100,1000", help="T list, e.g. 12,100,200,500,1000")
    parser.add_argument("--episodes", type=int, default=200)
    parser.add_argument("--cap", type=int, nargs="*", default=None, help="time-left caps to compare (0: none)")
    args = parser.parse_args()
    t_values = parse_t_list(args.t)
    for run in args.runs:
        agent = load_agent(run)
        network = agent.network
        core = network.core
        scale = network.instruction_scale
        tick, f32, f64 = clock_drift(core, scale)
        print(f"\n{run}: {type(core).__name__}, time-left cap {core.time_left_cap or 'none'} (scaled T units)")
        print(f"  tick {tick:.6f} steps/step; clock after 1,000 steps: {f32:.3f} (float32), {f64:.3f} (float64): "
              f"drift {f32 - f64:+.4f}, count error {f32 - 1000:+.3f} steps")  # fmt: skip
        own = core.time_left_cap
        for cap in args.cap if args.cap is not None else [None]:
            core.time_left_cap = own if cap is None else (cap * scale if cap > 0 else None)
            label = "own" if cap is None else (cap or "none")
            for t_value in t_values:
                o = outcomes(agent, t_value, args.episodes)
                print(f"  cap {label!s:>4}  T={t_value:<5} on time {o['on time']:.3f}  early {o['early']:.3f} "
                      f"(median t {o['early_median_t']:.0f})  late {o['late']:.3f}  never {o['never']:.3f}")  # fmt: skip
        core.time_left_cap = own


if __name__ == "__main__":
    main()
