"""One run, where a backend runs it (a pool process, a Ray task): train or resume, then evaluate."""

from __future__ import annotations

import os
import socket
import time
import traceback
from pathlib import Path
from typing import Any

from nalu_rl import runs
from nalu_rl.sweep.spec import RunSpec
from nalu_rl.sweep.status import status_of
from nalu_rl.sweep.summary import error_text, fill_results, new_record


def run_one(spec: RunSpec) -> dict[str, Any]:
    """Train (or resume) and evaluate one run; never raises for the run's own failures: see the record."""
    import torch

    from nalu_rl.analysis.evaluate import evaluate_run

    torch.set_num_threads(max(1, int(spec.threads)))
    started = time.perf_counter()
    record = new_record(spec, worker=f"{socket.gethostname()}:{os.getpid()}")
    try:
        spec.kind.prepare(spec.agent)  # e.g. the core a preset's core_module registers, which this process has not seen
        state = status_of(spec)
        if state in ("new", "train"):
            resume = state == "train" and spec.kind.has_checkpoint(Path(spec.run_dir))
            if state == "train" and not resume:  # stopped before its first checkpoint: start again
                (Path(spec.run_dir) / runs.CONFIG_FILE).unlink()
            t0 = time.perf_counter()
            spec.kind.train(spec.job, resume)
            record.update(trained=True, resumed=resume, train_seconds=round(time.perf_counter() - t0, 3))
        if state != "done":
            t0 = time.perf_counter()
            evaluate_run(spec.run_dir, t_values=spec.t_values, episodes=spec.episodes, device=spec.device, progress=False)
            record.update(evaluated=True, eval_seconds=round(time.perf_counter() - t0, 3))
        record["status"] = "ok" if state != "done" else "skipped"
        fill_results(record)
    except KeyboardInterrupt as err:  # includes the trainers' "stopped by SIGINT, checkpoint saved"
        record.update(status="interrupted", error=str(err) or "interrupted")
    except Exception as err:  # noqa: BLE001 — a failing run must not take the sweep down
        record.update(status="failed", error=error_text(err), traceback=traceback.format_exc())
    record["seconds"] = round(time.perf_counter() - started, 3)
    return record
