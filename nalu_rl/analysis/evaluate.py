"""Evaluating a run folder: its agent played per T, the result written as ``extrapolation.json/.csv/.png`` and to TensorBoard.

:func:`evaluate_run` takes the steps in order: load the agent (:mod:`nalu_rl.runs`), play it
(:mod:`nalu_rl.evaluation.engine`), summarise the measures and write the files
(:mod:`~nalu_rl.analysis.results`), draw the figure (:mod:`~nalu_rl.analysis.plots`) and log
to the run's TensorBoard folder (:mod:`~nalu_rl.analysis.tensorboard_log`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from nalu_rl import runs
from nalu_rl.analysis import plots
from nalu_rl.analysis.results import summarize, write_csv
from nalu_rl.analysis.t_values import DEFAULT_EPISODES, resolve_t_values
from nalu_rl.analysis.tensorboard_log import log_tensorboard
from nalu_rl.common import files
from nalu_rl.common.checks import check_int
from nalu_rl.evaluation.engine import evaluate
from nalu_rl.evaluation.measures import DEFAULT_TRAIN_RANGE
from nalu_rl.runs.layout import CSV_FILE, FIGURE_FILE, RESULT_FILE


def evaluate_run(
    run_dir: Path | str,
    *,
    t_values: str | Sequence[int] | None = None,
    t_min: int | None = None,
    t_max: int | None = None,
    episodes: int = DEFAULT_EPISODES,
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
    run_dir = Path(run_dir)
    t_values = resolve_t_values(t_values, t_min, t_max)
    episodes, seed = check_int("episodes", episodes), check_int("seed", seed)  # NumPy integers become ints
    if not run_dir.is_dir():
        raise FileNotFoundError(f"run folder not found: {run_dir}")
    runs.check_own_files(run_dir)  # before the work, not when its results are written
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
