"""What a pixel run's cell encoder can still see: which channels of its per-cell layer fire on each colour.

    python scripts/pixel_channels.py RUN [RUN ...] [--checkpoint latest|best]

The cell encoders (``cells``, ``cell_sums``, ``cell_means``) apply one per-cell layer, shared by the 25 cells, then a
ReLU. A channel whose pre-activation is negative on a colour is silent wherever that colour stands and passes no
gradient back from there. For each run the script prints how many channels fire on an empty cell, on the agent's
grey and on the target's red, and, over the frames of every (agent, target) placement, how many of the encoder's
outputs never fire and the rank of what it outputs: a run whose channels are silent on both colours sees the agent
and the target only as holes in the background, or not at all.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import torch

from nalu_rl.agents import load_agent
from nalu_rl.agents.network import CellEncoder, CellSumEncoder
from nalu_rl.envs import rules
from nalu_rl.envs.batched import TimedGridVecEnv


def cell_layer_relu(encoder: torch.nn.Module) -> torch.nn.Module:
    """The ReLU after the per-cell layer: its input is that layer's pre-activation."""
    if isinstance(encoder, CellEncoder):
        return encoder.net[1]
    if isinstance(encoder, CellSumEncoder):
        return encoder.head[0]
    raise ValueError(f"{type(encoder).__name__} has no per-cell layer: this script reads the cell encoders only")


def solid_frames(size: int) -> torch.Tensor:
    """Three frames whose every cell is empty, the agent's colour and the target's colour."""
    frames = np.zeros((3, rules.IMAGE_SIZE, rules.IMAGE_SIZE, 3), dtype=np.uint8)
    cells = rules.cell_masks(size).any(0)
    frames[1][cells] = rules.AGENT_COLOR
    frames[2][cells] = rules.TARGET_COLOR
    return torch.as_tensor(frames)


def placement_frames(size: int) -> torch.Tensor:
    """The frame of every placement of agent and target on distinct cells."""
    pairs = [(divmod(a, size), divmod(t, size)) for a in range(size * size) for t in range(size * size) if a != t]
    vec = TimedGridVecEnv(num_envs=len(pairs), size=size, obs_mode="pixels")
    cells = torch.tensor(pairs)  # (pairs, 2: agent / target, 2: row / col)
    obs, _ = vec.reset(seed=0, options={"agent": cells[:, 0], "target": cells[:, 1]})
    return obs["image"]


def channels(run: str, checkpoint: str = "latest") -> dict:
    agent = load_agent(run, checkpoint=checkpoint)
    encoder, size = agent.network.encoder, agent.config["env"]["size"]
    seen = {}
    hook = cell_layer_relu(encoder).register_forward_pre_hook(lambda _, args: seen.update(pre=args[0].detach()))
    with torch.no_grad():
        encoder(solid_frames(size))
        fires = (seen["pre"][:, :, 0, 0] > 0).sum(1).tolist()  # any cell: they are all alike
        hook.remove()
        out = encoder(placement_frames(size))
    return {"empty": fires[0], "agent": fires[1], "target": fires[2], "channels": seen["pre"].shape[1],
            "silent_outputs": int((out.max(0).values <= 0).sum()), "outputs": out.shape[1],
            "rank": int(torch.linalg.matrix_rank(out)), "encoder": agent.config["agent_config"]["pixel_encoder"]}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", metavar="RUN")
    parser.add_argument("--checkpoint", choices=("latest", "best"), default="latest")
    args = parser.parse_args()
    for run in args.runs:
        try:
            c = channels(run, args.checkpoint)
        except (FileNotFoundError, ValueError) as err:
            sys.exit(f"pixel_channels.py: {run}: {err}")
        print(f"{run}: {c['encoder']}; per-cell channels firing on empty / agent / target: "
              f"{c['empty']} / {c['agent']} / {c['target']} of {c['channels']}; encoder outputs never firing: "
              f"{c['silent_outputs']} of {c['outputs']}; rank over the placements: {c['rank']}")  # fmt: skip


if __name__ == "__main__":
    main()
