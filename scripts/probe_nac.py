"""Look inside a trained NAC agent: its NAC weights, and what the NAC outputs along greedy episodes.

    python scripts/probe_nac.py RUN [RUN ...] [--t 10 20] [--episodes 200]

For each run (an ``lstm_nac``, ``lstm_nac_input`` or ``lstm_nac_acc`` run folder) it prints:

* the NAC's effective weights W = tanh(W_hat) * sigmoid(M_hat): the weight on T per output, and
  how many of all weights lie within 0.05 of -1, 0 or 1 (the unit's "exact" values);
* for each T asked for, on the evaluation's seeded start states: the share of episodes arriving
  early, on time, late or never, the mean arrival time, and the NAC's outputs (mean over
  episodes) at t = 1, T/2 and T - 1 for the output that varies most along the episode.
"""

from __future__ import annotations

import argparse

import torch

from nalu_rl.agents import load_agent
from nalu_rl.envs.batched import TimedGridVecEnv
from nalu_rl.evaluation.engine import start_seed


def nac_weights(core) -> torch.Tensor:
    unit = core.unit
    return (torch.tanh(unit.W_hat) * torch.sigmoid(unit.M_hat)).detach()


@torch.no_grad()
def probe(run: str, t_values: list[int], episodes: int) -> None:
    agent = load_agent(run)
    core = agent.network.core
    w = nac_weights(core)
    exact = ((w.abs() - 1).abs() < 0.05) | (w.abs() < 0.05)
    print(f"\n{run}: core {type(core).__name__}, NAC {tuple(w.shape)}")
    print(f"  weights within 0.05 of -1, 0 or 1: {int(exact.sum())} of {w.numel()} ({exact.float().mean():.0%})")
    t_column = {"LSTMNACCore": 0, "LSTMNACInputCore": 0}.get(type(core).__name__)
    if t_column is None:  # the accumulator reads [a_prev, h, T, 1]
        t_column = core.unit_size + core.hidden_size
    print(f"  weight on T per output: {[round(v, 3) for v in w[:, t_column].tolist()]}")
    env_kwargs = {**agent.config["env"], "placement": "reachable"}
    for t_value in t_values:
        env = TimedGridVecEnv(num_envs=episodes, **env_kwargs)
        obs, _ = env.reset(seed=[start_seed(0, j) for j in range(episodes)], options={"instruction": t_value})
        state = agent.initial_state(episodes)
        start = torch.ones(episodes, dtype=torch.bool)
        done = torch.zeros(episodes, dtype=torch.bool)
        arrival = torch.full((episodes,), -1)
        outputs = []
        for step in range(1, t_value + 2 * env.cfg.size + 1):
            actions, state = agent.predict(obs, state, start, deterministic=True)
            if core.recurrent_unit:
                outputs.append(state[:, 2 * core.hidden_size :].clone())
            obs, _, term, trunc, info = env.step(actions)
            arrival = torch.where(~done & term, step, arrival)
            done |= term | trunc
            start = term | trunc
            if bool(done.all()):
                break
        arrived = arrival >= 0
        early = (arrived & (arrival < t_value)).float().mean()
        on_time = (arrival == t_value).float().mean()
        late = (arrival > t_value).float().mean()
        mean_arrival = arrival[arrived].float().mean().item() if bool(arrived.any()) else float("nan")
        line = (f"  T={t_value}: early {early:.2f}, on time {on_time:.2f}, late {late:.2f}, never {1 - arrived.float().mean():.2f}; "
                f"mean arrival {mean_arrival:.1f}")  # fmt: skip
        if outputs:
            trace = torch.stack(outputs)  # (steps, episodes, units)
            unit = int(trace.mean(1).std(0).argmax())
            at = {t: trace[min(t, len(trace)) - 1, :, unit].mean().item() for t in (1, max(1, t_value // 2), max(1, t_value - 1))}
            line += f"; NAC output {unit} at t={list(at)}: {[round(v, 2) for v in at.values()]}"
        print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+")
    parser.add_argument("--t", type=int, nargs="+", default=[10, 20])
    parser.add_argument("--episodes", type=int, default=200)
    args = parser.parse_args()
    torch.set_num_threads(1)
    for run in args.runs:
        probe(run, args.t, args.episodes)


if __name__ == "__main__":
    main()
