"""Sync A2C whose gradients are applied late, as a second A3C worker's are: does staleness alone slow learning?

    python scripts/probe_stale_gradients.py RUN_FOLDER --seed 13 --frames 10000000 [--delay 1] [--agent lstm_nac] [--set KEY=VALUE]...

With two asynchronous workers, each gradient was computed on weights the other worker has moved since: it is applied
one update late. This trains the sync way (one process, the preset's batch of 128 environments, one thread, the
same seed stream), except that update k applies the gradient computed at update k − delay; --delay 0 is the sync
trainer itself, bit for bit. The run folder is an ordinary one, evaluated every 500,000 frames (eval_history.csv),
so `nalu-rl report` reads its time to mastery. A probe, not a training mode: resuming it forgets the pending gradients.
"""

from __future__ import annotations

import argparse
from collections import deque

import torch

from nalu_rl.agents import sync_trainer
from nalu_rl.agents.trainer import train
from nalu_rl.cli.args import parse_overrides


def delayed(make_optimizer, delay: int):
    """A ``make_optimizer`` whose optimisers step with the gradient of ``delay`` updates ago (none before that).

    Only the step is changed: the sync trainer's own update computes, clips and hands over each gradient as usual.
    """

    def make(params, config) -> torch.optim.Optimizer:
        optimizer = make_optimizer(params, config)
        params = [p for group in optimizer.param_groups for p in group["params"]]
        pending: deque[list[torch.Tensor]] = deque()
        step = optimizer.step

        def delayed_step() -> None:
            pending.append([p.grad.clone() for p in params])
            if len(pending) > delay:
                for p, grad in zip(params, pending.popleft()):
                    p.grad = grad
                step()

        optimizer.step = delayed_step
        return optimizer

    return make


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir")
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--frames", type=int, required=True)
    parser.add_argument("--delay", type=int, default=1)
    parser.add_argument("--agent", default="lstm_nac")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="a hyper-parameter other than the preset's, as in nalu-rl train (repeatable)")  # fmt: skip
    args = parser.parse_args()
    sync_trainer.make_optimizer = delayed(sync_trainer.make_optimizer, args.delay)
    train(agent=args.agent, env="paper_grid", frames=args.frames, seed=args.seed, mode="sync", run_dir=args.run_dir,
          eval_every=500_000, overrides=parse_overrides(args.set), progress=False)  # fmt: skip


if __name__ == "__main__":
    main()
