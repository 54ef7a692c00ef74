"""Extrapolation measured while training: a greedy evaluation every ``eval_every`` frames, its history, the best checkpoint.

Every evaluation plays the same seeded start states (:func:`nalu_rl.evaluation.engine.evaluate`,
seed 0) on the training range and past it (:data:`nalu_rl.runs.config.EVAL_T`), so the rows of every run and agent
compare. Each one appends a row to ``eval_history.csv`` in the run folder and scalars under
``eval/`` to TensorBoard, against frames.

``checkpoints/best.pt`` is chosen by the training range alone
(:func:`nalu_rl.evaluation.measures.training_range_score`: success over T = 8..12, ties broken by the
paper's reward over 5..12); nothing that selects reads T > 12.

Kill and resume: an evaluation writes its history row, then the latest checkpoint at the same
frames, then (if it is the best so far) copies that checkpoint to ``best.pt``. A resumed run drops
the rows logged after its checkpoint (training is replayed from there), restores ``best.pt`` from
the checkpoint if the kill fell between the two writes, and evaluates next where the history stops:
no row is missing or written twice.
"""

from __future__ import annotations

import csv
import io
import shutil
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from nalu_rl import runs
from nalu_rl.agents.checkpoint import load_checkpoint
from nalu_rl.agents.network import ActorCritic
from nalu_rl.agents.policy import Agent
from nalu_rl.common import files
from nalu_rl.evaluation.engine import evaluate
from nalu_rl.evaluation.measures import (
    MASTERY_RANGE,
    PAPER_RANGE,
    band_mean,
    horizon,
    mastered,
    reward_horizon,
    training_range_score,
)
from nalu_rl.runs.config import RunConfig

HISTORY_FILE = runs.HISTORY_FILE
EVAL_SEED = 0
# The columns every row has; per-T columns (reward_T05, success_T05, arrival_T05, ...) follow.
SUMMARY_COLUMNS = (
    "frames", "elapsed_s", "success_8_12", "success_8_12_min", "reward_5_12", "reward_8_12",
    "reward_13_20", "success_13_20", "reward_horizon", "horizon_90", "mastered",
)  # fmt: skip
TENSORBOARD_SCALARS = ("success_8_12", "success_8_12_min", "reward_5_12", "reward_8_12", "reward_13_20", "success_13_20", "reward_horizon", "horizon_90")


def row_of(results: Sequence[dict[str, Any]], frames: int, elapsed: float, train_lo: int) -> dict[str, Any]:
    """One history row: the summary measures (None where a T they need was not evaluated) and the per-T values.

    ``train_lo`` is the bottom of the run's training range, where horizon_90's scan starts.
    """
    success, reward = training_range_score(results)
    row: dict[str, Any] = {
        "frames": frames,
        "elapsed_s": round(elapsed, 1),
        "success_8_12": success,
        "success_8_12_min": min(r["success_rate"] for r in results if MASTERY_RANGE[0] <= r["T"] <= MASTERY_RANGE[1]),
        "reward_5_12": reward,
        "reward_8_12": band_mean(results, "paper_reward", *MASTERY_RANGE),
        "reward_13_20": band_mean(results, "paper_reward", *PAPER_RANGE),
        "success_13_20": band_mean(results, "success_rate", *PAPER_RANGE),
        "reward_horizon": reward_horizon(results),
        "horizon_90": horizon(results, train_lo, 0.9),
        "mastered": int(mastered(results)),
    }
    for key, name in (("paper_reward", "reward"), ("success_rate", "success"), ("arrival_rate", "arrival")):
        row.update({f"{name}_T{r['T']:02d}": r[key] for r in results})
    return row


def selection_key(row: dict[str, Any]) -> tuple[float, float]:
    """What ``best.pt`` maximises: (success over T = 8..12, paper's reward over 5..12), read from a history row."""
    return float(row["success_8_12"]), float(row["reward_5_12"])


def best_row(rows: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """The row ``best.pt`` holds: the highest :func:`selection_key`, the earliest of equals; None for no rows."""
    best = None
    for row in rows:
        if best is None or selection_key(row) > selection_key(best):
            best = row
    return best


def read_history(run_dir: Path) -> list[dict[str, Any]]:
    """The rows of a run's ``eval_history.csv`` with numbers parsed (empty cells: None); [] when there is none."""
    path = Path(run_dir) / HISTORY_FILE
    if not path.is_file():
        return []
    try:
        rows = list(csv.DictReader(io.StringIO(files.read_text(path))))
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise ValueError(f"{path} cannot be read ({type(err).__name__}): delete it to start the history afresh") from None
    try:
        return [{k: _number(v) for k, v in row.items()} for row in rows]
    except (ValueError, TypeError):
        raise ValueError(f"{path} holds a value that is not a number: delete it to start the history afresh") from None


def _number(text: str | None) -> int | float | None:
    if text is None or text == "":
        return None
    value = float(text)
    return int(value) if value.is_integer() and "." not in text and "e" not in text.lower() else value


def write_history(run_dir: Path, rows: Sequence[dict[str, Any]]) -> None:
    buf = io.StringIO()
    if rows:
        writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if v is None else v for k, v in row.items()})
    files.write_text(Path(run_dir) / HISTORY_FILE, buf.getvalue())


class TrainingEvaluation:
    """The in-training evaluation of one run: when it is due, what it writes, which checkpoint is best.

    ``start`` is the frames of the checkpoint the run starts from and ``elapsed`` its training wall seconds.
    """

    def __init__(self, run_dir: Path, config: RunConfig, start: int, elapsed: float, writer: Any) -> None:
        self.run_dir, self.config, self.writer = Path(run_dir), config, writer
        self.settings = config.eval
        self.elapsed0, self.clock0 = elapsed, time.monotonic()
        logged = read_history(self.run_dir)
        self.rows = [row for row in logged if row["frames"] <= start]
        if self.settings.every and len(self.rows) != len(logged):
            write_history(self.run_dir, self.rows)  # rows logged after the checkpoint: training replays them
        self.next_at = self._after(self.rows[-1]["frames"]) if self.rows else 0
        self._repair_best(start)

    @classmethod
    def of_plan(cls, plan: Any, writer: Any) -> TrainingEvaluation:
        """The evaluation of a :class:`~nalu_rl.agents.planning.Plan`'s run, from the checkpoint it starts from."""
        ckpt = plan.checkpoint
        return cls(plan.run_dir, plan.config, ckpt["frames"] if ckpt else 0, ckpt.get("elapsed", 0.0) if ckpt else 0.0, writer)

    def _after(self, frames: int) -> int:
        """The first multiple of ``every`` past ``frames``: where the next evaluation is due."""
        return (frames // max(self.settings.every, 1) + 1) * self.settings.every

    @property
    def enabled(self) -> bool:
        return self.settings.every > 0

    def elapsed(self) -> float:
        """Training wall seconds of the run so far, over every session that trained it."""
        return self.elapsed0 + time.monotonic() - self.clock0

    def due(self, frames: int) -> bool:
        """Whether to evaluate now; never at the run's end, where :meth:`finish` evaluates the final weights (async
        workers overshoot the budget by an update or two: evaluating both there doubled a run's last evaluation)."""
        return self.enabled and self.next_at <= frames < self.config.frames


    def evaluate(self, net: ActorCritic, frames: int) -> bool:
        """Evaluate ``net`` greedily and append the row (to the file and TensorBoard); True if it is the best so far.

        The caller then saves the latest checkpoint and, if True, :meth:`keep_best`. Torch's RNG is left as it was,
        so a run trains the same weights with or without evaluations.
        """
        training = net.training
        device = next(net.parameters()).device
        agent = Agent(net, self.config.to_json(), device)
        try:
            results = evaluate(agent, self.settings.t, self.settings.episodes, seed=EVAL_SEED,
                               env_kwargs=self.config.env.to_dict(), device=device)  # fmt: skip
        finally:
            net.train(training)
        row = row_of(results, frames, self.elapsed(), self.config.env.t_range[0])
        best = best_row(self.rows)
        improved = best is None or selection_key(row) > selection_key(best)
        self.rows.append(row)
        write_history(self.run_dir, self.rows)
        for key in TENSORBOARD_SCALARS:
            if row[key] is not None:
                self.writer.add_scalar(f"eval/{key}", row[key], frames)
        for t in (t for t in self.settings.t if t > PAPER_RANGE[1]):
            self.writer.add_scalar(f"eval/reward_T{t:02d}", row[f"reward_T{t:02d}"], frames)
        self.next_at = self._after(frames)
        return improved

    def evaluate_and_save(self, net: ActorCritic, frames: int, save: Callable[[], Path]) -> Path:
        """Evaluate, then ``save()`` the latest checkpoint, then keep it as ``best.pt`` if it is: the order resume relies on."""
        improved = self.evaluate(net, frames)
        path = save()
        if improved:
            self.keep_best()
        return path

    def finish(self, net: ActorCritic, frames: int, save: Callable[[], Path], stopped: bool) -> Path:
        """The last checkpoint of a session: evaluated first when evaluating and not stopped by a signal (unless the
        final frames were just evaluated), so that the history ends where training did."""
        if self.enabled and not stopped and not (self.rows and self.rows[-1]["frames"] == frames):
            return self.evaluate_and_save(net, frames, save)
        return save()

    def keep_best(self) -> None:
        """Copy the latest checkpoint (just saved at the best row's frames) to ``best.pt``, atomically."""
        files.write_with(runs.best_checkpoint(self.run_dir), lambda tmp: shutil.copyfile(runs.latest_checkpoint(self.run_dir), tmp))

    def _repair_best(self, start: int) -> None:
        """A kill between the latest checkpoint and its copy to best.pt left best.pt behind: copy it now."""
        best = best_row(self.rows)
        if best is None or best["frames"] != start or not runs.latest_checkpoint(self.run_dir).is_file():
            return
        path = runs.best_checkpoint(self.run_dir)
        held = load_checkpoint(path)["frames"] if path.is_file() else None
        if held != start:
            self.keep_best()
