"""Where a planned run stands: not started, to train (or resume), to evaluate again, or done."""

from __future__ import annotations

from pathlib import Path

from nalu_rl import runs
from nalu_rl.common import files
from nalu_rl.sweep.spec import RunSpec, agent_label


def status_of(spec: RunSpec) -> str:
    """``new`` (no folder), ``done`` (trained and evaluated as asked), ``evaluate`` or ``train`` (resume/start).

    ValueError when the folder holds another run or an unreadable ``config.json``.
    """
    run_dir = Path(spec.run_dir)
    if not runs.is_run_folder(run_dir):
        return "new"
    check_identity(spec)
    done, configured = spec.kind.trained_frames(run_dir)
    target = configured if spec.frames is None else spec.frames
    if done is None or done < target:
        return "train"
    return "done" if evaluation_current(spec) else "evaluate"


def check_identity(spec: RunSpec) -> None:
    """A run folder that already exists must hold this very run (agent, seed, environment)."""
    config = runs.read_json(Path(spec.run_dir))
    want = {"agent": agent_label(spec.agent), "seed": spec.seed, "env_preset": spec.env_preset}
    for key, value in want.items():
        if config.get(key) != value:
            raise ValueError(
                f"{spec.run_dir} holds a run with {key} {config.get(key)!r}, not {value!r}: choose another sweep folder"
            )


def evaluation_current(spec: RunSpec) -> bool:
    """Whether ``extrapolation.json`` exists and covers exactly the requested T and episodes."""
    try:
        doc = files.read_json(Path(spec.run_dir) / runs.RESULT_FILE)
        results = doc["results"]
        return (
            doc.get("policy") == "greedy"
            and [r["T"] for r in results] == list(spec.t_values)
            and all(r["episodes"] == spec.episodes for r in results)
        )
    except (OSError, ValueError, KeyError, TypeError):
        return False
