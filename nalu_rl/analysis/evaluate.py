"""A run folder's extrapolation: its agent evaluated per T, written as ``extrapolation.json/.csv/.png`` and to TensorBoard.

:func:`evaluate_run` loads the agent of a run folder (its final checkpoint, or ``best``), runs the
engine (:mod:`nalu_rl.evaluation.engine`), computes the run's measures
(:mod:`nalu_rl.evaluation.measures`) and writes ``extrapolation.json`` (SPEC §5),
``extrapolation.csv`` and ``extrapolation.png`` next to the run's ``config.json``, and the
curves, horizons and figure to the run's TensorBoard folder ``tb/``.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from nalu_rl import runs
from nalu_rl.analysis.text import show
from nalu_rl.common import files
from nalu_rl.common.checks import check_int
from nalu_rl.evaluation.engine import evaluate
from nalu_rl.evaluation.measures import DEFAULT_TRAIN_RANGE, HORIZON_LEVELS, horizon_key, run_measures
from nalu_rl.runs.layout import CSV_FILE, FIGURE_FILE, RESULT_FILE

REQUIRED_KEYS = (
    "T", "episodes", "success_rate", "success_ci95", "mean_reward",
    "arrival_rate", "mean_arrival_time", "timing_mae",
)  # fmt: skip
RESULT_KEYS = (*REQUIRED_KEYS, "paper_reward")  # results written by 0.2.0 lack paper_reward
CSV_COLUMNS = (
    "T", "episodes", "successes", "success_rate", "success_ci95_lo", "success_ci95_hi",
    "mean_reward", "paper_reward", "arrival_rate", "mean_arrival_time", "timing_mae",
)  # fmt: skip


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
    """The run's measures as scalars at ``step`` (its frames), the per-T values as a table and the figure.

    Per-T values are not scalars: TensorBoard would put T on its step axis and smooth across neighbouring T.
    """
    from torch.utils.tensorboard import SummaryWriter

    prefix = f"extrapolation/{doc['policy']}"
    with SummaryWriter(log_dir=str(log_dir)) as writer:
        for key in (*(horizon_key(q) for q in HORIZON_LEVELS), "reward_horizon", "reward_13_20"):
            value = doc.get(key)
            if value is not None:
                writer.add_scalar(f"{prefix}/{key}", value, global_step=step)
        writer.add_text(f"{prefix}/per_T", per_t_markdown(doc["results"]), global_step=step)
        if image is not None:
            writer.add_image(f"{prefix}/figure", image, global_step=step, dataformats="HWC")


def per_t_markdown(results: Sequence[dict[str, Any]]) -> str:
    """The per-T results as a Markdown table: the paper's reward, success, the share that arrives, mean arrival time."""
    lines = ["| T | reward (paper) | success | arrive | mean arrival |", "|---|---|---|---|---|"]
    for r in results:
        cells = [r.get("paper_reward"), r["success_rate"], r["arrival_rate"], r["mean_arrival_time"]]
        lines.append(f"| {r['T']} | " + " | ".join(show(v, ".3g") for v in cells) + " |")
    return "\n".join(lines)


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
    checkpoint: str = "latest",
) -> dict[str, Any]:
    """Evaluate the agent of ``run_dir`` for every T of ``t_values`` (or of t_min..t_max) and write the results there.

    ``t_values`` is a list of ints or text such as ``"1-30,50,100,200,500,1000"``
    (:func:`~nalu_rl.analysis.t_values.parse_t_list`); without it, the range t_min..t_max
    (default 1..30). Writes ``extrapolation.json`` / ``.csv`` / ``.png`` into the run folder and
    logs to ``run_dir/tb``; returns the JSON document, whose ``checkpoint`` says which was scored
    (``latest``, the final weights, or ``best``, chosen by the training range) and at how many frames. FileNotFoundError for a missing run folder,
    ValueError for bad arguments or a damaged run.
    """
    from nalu_rl.analysis import plots
    from nalu_rl.analysis.t_values import resolve_t_values

    run_dir = Path(run_dir)
    t_values = resolve_t_values(t_values, t_min, t_max)
    check_int("episodes", episodes)
    check_int("seed", seed)
    if not run_dir.is_dir():
        raise FileNotFoundError(f"run folder not found: {run_dir}")
    agent = runs.load_agent(run_dir, device=device, checkpoint=checkpoint)
    config = dict(getattr(agent, "config", None) or {})
    env = dict(config.get("env") or {})
    train_range = tuple(env.get("t_range") or DEFAULT_TRAIN_RANGE)
    results = evaluate(
        agent, t_values, episodes, sample=sample, seed=seed, env_kwargs=env, device=device, progress=progress
    )
    scored = getattr(agent, "checkpoint", None) or {"name": checkpoint, "frames": config.get("frames")}
    frames = scored["frames"]
    doc = summarize(
        results,
        agent=config.get("agent", run_dir.name),
        seed=config.get("seed"),
        train_range=train_range,
        sample=sample,
        eval_seed=seed,
        frames=frames,
        checkpoint=scored["name"],
    )
    runs.remove_stale_temps(run_dir)  # what an evaluation killed mid-write left beside its results
    files.write_json(run_dir / RESULT_FILE, doc)
    write_csv(run_dir / CSV_FILE, results)
    frames_text = f", {frames:,} frames" if isinstance(frames, int) and not isinstance(frames, bool) else ""
    fig = plots.run_figure(doc, title=f"{run_dir.name}: {doc['agent']}, seed {doc['seed']}, {scored['name']} checkpoint{frames_text}")
    plots.save(fig, run_dir / FIGURE_FILE)
    step = int(frames) if isinstance(frames, int) and not isinstance(frames, bool) else 0
    log_tensorboard(run_dir / runs.TENSORBOARD_DIR, doc, plots.to_image(fig), step=step)
    return doc
