"""Where a planned run stands: not started, to train (or resume), to evaluate again, or done."""

from __future__ import annotations

import json
from pathlib import Path

from nalu_rl.analysis.evaluate import RESULT_FILE
from nalu_rl.sweep.spec import RunSpec, agent_label


def status_of(spec: RunSpec) -> str:
    """``new`` (no folder), ``done`` (trained and evaluated as asked), ``evaluate`` or ``train`` (resume/start).

    ValueError when the folder holds another run or an unreadable ``config.json``.
    """
    run_dir = Path(spec.run_dir)
    if not (run_dir / "config.json").exists():
        return "new"
    check_identity(spec)
    done, configured = spec.kind.trained_frames(run_dir)
    target = configured if spec.frames is None else spec.frames
    if done is None or done < target:
        return "train"
    return "done" if evaluation_current(spec) else "evaluate"


def check_identity(spec: RunSpec) -> None:
    """A run folder that already exists must hold this very run (agent, seed, environment)."""
    path = Path(spec.run_dir) / "config.json"
    try:
        config = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"unreadable {path}: {err}") from None
    if not isinstance(config, dict):
        raise ValueError(f"{path} is not a run config")
    want = {"agent": agent_label(spec.agent), "seed": spec.seed, "env_preset": spec.env_preset}
    for key, value in want.items():
        if config.get(key) != value:
            raise ValueError(
                f"{spec.run_dir} holds a run with {key} {config.get(key)!r}, not {value!r}: choose another sweep folder"
            )


def evaluation_current(spec: RunSpec) -> bool:
    """Whether ``extrapolation.json`` exists and covers exactly the requested T and episodes."""
    try:
        doc = json.loads((Path(spec.run_dir) / RESULT_FILE).read_text())
        results = doc["results"]
        return (
            doc.get("policy") == "greedy"
            and [r["T"] for r in results] == list(spec.t_values)
            and all(r["episodes"] == spec.episodes for r in results)
        )
    except (OSError, ValueError, KeyError, TypeError):
        return False
