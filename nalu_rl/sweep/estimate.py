"""What a local sweep will take, said before it starts: its runs' frames over throughputs measured on this machine.

Each agent trains briefly in a temporary folder: one update (the start-up: network, environments, first checkpoint)
and one update plus :data:`CALIBRATION_FRAMES`; the difference is its frames per second (after a first update that
takes what happens once per process). The peer
(RecurrentPPO) is not timed: its start-up alone outlasts the measurement.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nalu_rl.agents.kind import PresetAgent, cores_of, run_settings
from nalu_rl.common.cpus import available_cores
from nalu_rl.runs.kinds import TrainJob, kind_of

CALIBRATION_FRAMES = 1 << 16
# Evaluating every 500k frames adds about 5% to a run's wall time (docs/FINDINGS.md, "the cost of evaluating").
EVALUATION_SHARE = 0.05


@dataclass(frozen=True)
class Estimate:
    seconds: float  # the whole sweep, runs spread over the cores
    rates: dict[str, float]  # frames per second of one run, per agent
    at_once: int  # runs trained side by side
    left_out: tuple[str, ...] = ()  # agents not timed

    def line(self) -> str:
        rates = ", ".join(f"{agent} {rate / 1e3:.0f}k" for agent, rate in self.rates.items())
        line = f"expected wall time ≈ {self.seconds / 60:.0f} min (measured here: {rates} frames/s a run; {self.at_once} at once)"
        return line + (f"; not counted: {', '.join(self.left_out)}" if self.left_out else "")


def estimate(
    agents: list[str], seeds: list[int], *, env: str, frames: int | None, jobs: int | None, train_options: dict[str, Any]
) -> Estimate:
    """How long training ``agents`` x ``seeds`` takes here, from a few seconds of training each agent."""
    options = {k: v for k, v in train_options.items() if k != "eval_every" and v is not None}
    share = EVALUATION_SHARE if train_options.get("eval_every") else 0.0
    rates, run_seconds, cpus, left_out = {}, [], 1, []
    for agent in agents:
        kind = kind_of(agent)
        if not isinstance(kind, PresetAgent):
            left_out.append(agent)
            continue
        settings = run_settings(agent, env, options)
        budget = frames if frames is not None else settings["frames"]
        rates[agent] = _frames_per_second(kind, agent, env, options)
        run_seconds += [budget / rates[agent] * (1 + share)] * len(seeds)
        cpus = max(cpus, cores_of(settings))
    at_once = max(1, min(jobs or max(1, available_cores() // cpus), len(run_seconds) or 1))
    seconds = max(sum(run_seconds) / at_once, max(run_seconds, default=0.0))
    return Estimate(seconds, rates, at_once, tuple(left_out))


def _frames_per_second(kind: PresetAgent, agent: str, env: str, options: dict[str, Any]) -> float:
    with tempfile.TemporaryDirectory(prefix="nalu-rl-estimate-") as tmp:

        def timed(frames: int, name: str) -> tuple[float, int]:
            job = TrainJob(run_dir=Path(tmp) / name, agent=agent, env=env, seed=0, frames=frames, options=options)
            start = time.perf_counter()
            kind.train(job, resume=False)
            seconds = time.perf_counter() - start
            return seconds, kind.trained_frames(job.run_dir)[0] or frames

        timed(1, "warm-up")  # what happens once per process (imports, kernels) is no part of a run's time
        start_up, first = timed(1, "start-up")  # one update: whatever one update is for this agent
        whole, done = timed(first + CALIBRATION_FRAMES, "timed")
    return (done - first) / max(whole - start_up, 1e-3)
