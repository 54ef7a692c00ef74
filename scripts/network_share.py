"""How much of a sync training run's wall time the network itself takes: its forward calls and the backward pass.

    python scripts/network_share.py [--agent lstm_nac] [--frames 1000000] [--envs 128]

Trains a throw-away sync run (one process, one thread, the preset's recipe, no in-training evaluation) on the paper's
grid and times every call of the actor-critic's forward and every backward pass. Whatever the rest of a run costs
(environment, sampling, optimiser, bookkeeping), training cannot get faster than 1 / (the network's share) without
making the network's own arithmetic cheaper.
"""

from __future__ import annotations

import argparse
import tempfile
import time

import torch

from nalu_rl.agents import network
from nalu_rl.agents.trainer import train


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agent", default="lstm_nac")
    parser.add_argument("--frames", type=int, default=1_000_000)
    parser.add_argument("--envs", type=int, default=128, help="environments per update (default 128, the recipe's)")
    args = parser.parse_args()
    spent = {"forward": 0.0, "backward": 0.0}

    def timed(function, key):
        def call(*a, **k):
            start = time.perf_counter()
            out = function(*a, **k)
            spent[key] += time.perf_counter() - start
            return out

        return call

    network.ActorCritic.forward = timed(network.ActorCritic.forward, "forward")
    torch.Tensor.backward = timed(torch.Tensor.backward, "backward")
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        train(agent=args.agent, env="paper_grid", frames=args.frames, seed=0, mode="sync", envs_per_worker=args.envs,
              run_dir=f"{tmp}/run", progress=False)  # fmt: skip
        wall = time.perf_counter() - start
    share = (spent["forward"] + spent["backward"]) / wall
    print(f"{args.agent}, {args.envs} envs: {args.frames / wall:,.0f} frames/s; network forward {spent['forward'] / wall:.0%}, "
          f"backward {spent['backward'] / wall:.0%}: {share:.0%} of {wall:.1f} s, so at most {1 / share:.1f}x faster without it")  # fmt: skip


if __name__ == "__main__":
    main()
