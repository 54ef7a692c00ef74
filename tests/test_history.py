"""Extrapolation measured while training: the history's rows, the best checkpoint by the training range alone, kills."""

from __future__ import annotations

import random
import sys
import time

import pytest
import torch

from nalu_rl import runs
from nalu_rl.agents import history
from nalu_rl.agents.checkpoint import load_checkpoint
from nalu_rl.agents.trainer import train
from nalu_rl.cli import main
from nalu_rl.evaluation.measures import training_range_score

FRAMES = 12_800  # 100 updates of 8 environments x 16 steps
EVERY = 2_000
SMALL = dict(agent="lstm", env="fast", frames=FRAMES, mode="sync", workers=1, envs_per_worker=8,
             overrides={"n_steps": 16})  # fmt: skip


def _results(success: dict[int, float], reward: dict[int, float]) -> list[dict]:
    return [{"T": t, "episodes": 100, "success_rate": success[t], "paper_reward": reward[t], "arrival_rate": 1.0}
            for t in sorted(success)]  # fmt: skip


def test_the_selector_reads_the_training_range_only():
    inside = {t: 0.8 for t in range(5, 13)}
    a = _results({**inside, **{t: 0.0 for t in range(13, 21)}}, {**inside, **{t: -1.0 for t in range(13, 21)}})
    b = _results({**inside, **{t: 1.0 for t in range(13, 21)}}, {**inside, **{t: 1.0 for t in range(13, 21)}})
    assert training_range_score(a) == training_range_score(b) == (0.8, 0.8)
    with pytest.raises(ValueError, match="5..12"):
        training_range_score([r for r in a if r["T"] != 9])


def test_best_is_not_the_checkpoint_that_extrapolates_best():
    in_range = {"success_8_12": 0.96, "reward_5_12": 0.90, "reward_13_20": 0.20}
    extrapolates = {"success_8_12": 0.94, "reward_5_12": 0.95, "reward_13_20": 0.85}
    tie_lower_reward = {"success_8_12": 0.96, "reward_5_12": 0.80, "reward_13_20": 0.99}
    rows = [{"frames": f, **r} for f, r in ((1, extrapolates), (2, in_range), (3, tie_lower_reward))]
    assert history.best_row(rows)["frames"] == 2
    assert history.best_row([{"frames": 1, **in_range}, {"frames": 2, **in_range}])["frames"] == 1  # the earliest of equals


def test_evaluating_while_training_changes_no_weight_and_writes_the_history(tmp_path):
    plain = train(**SMALL, run_dir=tmp_path / "plain", progress=False)
    watched = train(**SMALL, run_dir=tmp_path / "watched", eval_every=EVERY, progress=False)
    a, b = (load_checkpoint(runs.latest_checkpoint(r))["model"] for r in (plain, watched))
    assert all(torch.equal(a[k], b[k]) for k in a)  # bitwise: the evaluation leaves torch's RNG alone
    rows = history.read_history(watched)
    frames = [row["frames"] for row in rows]
    assert frames[0] == 0 and frames[-1] == FRAMES and frames == sorted(set(frames))
    assert [f // EVERY for f in frames[1:-1]] == list(range(1, FRAMES // EVERY + 1))  # one row per interval crossed
    assert set(history.SUMMARY_COLUMNS) <= set(rows[0]) and {"reward_T05", "success_T20", "reward_T100"} <= set(rows[0])
    best = history.best_row(rows)
    assert load_checkpoint(runs.best_checkpoint(watched))["frames"] == best["frames"]
    assert all(0.0 <= row["elapsed_s"] for row in rows) and [r["elapsed_s"] for r in rows] == sorted(r["elapsed_s"] for r in rows)
    assert not history.read_history(plain) and not runs.best_checkpoint(plain).exists()
    events = list((watched / "tb").glob("events.*"))
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    tags = set()
    for path in events:
        acc = EventAccumulator(str(path))
        acc.Reload()
        tags |= set(acc.Tags()["scalars"])
    assert {"eval/reward_13_20", "eval/success_8_12", "eval/reward_T100"} <= tags


def test_the_runs_end_is_evaluated_once_even_when_async_workers_overshoot_it(tmp_path):
    run_dir = train(**{**SMALL, "frames": 2 * EVERY}, run_dir=tmp_path / "run", eval_every=EVERY, progress=False)
    evaluation = history.TrainingEvaluation(run_dir, runs.read_config(run_dir), 0, 0.0, writer=None)
    assert evaluation.due(EVERY) and evaluation.due(2 * EVERY - 1)
    # At or past the budget only finish() evaluates: workers that stop an update or two later got two rows there.
    assert not evaluation.due(2 * EVERY) and not evaluation.due(2 * EVERY + 256)


def _comparable(rows):
    return [{k: v for k, v in row.items() if k != "elapsed_s"} for row in rows]


def test_a_run_killed_at_random_moments_has_the_history_of_one_never_killed(tmp_path, capsys):
    from test_kill_resume import kill_when

    whole = train(**SMALL, run_dir=tmp_path / "whole", eval_every=EVERY, progress=False)
    run_dir = tmp_path / "killed"
    cmd = [sys.executable, "-m", "nalu_rl", "train", "--agent", "lstm", "--env", "fast", "--frames", str(FRAMES),
           "--mode", "sync", "--workers", "1", "--envs-per-worker", "8", "--set", "n_steps=16", "--eval-every", str(EVERY),
           "--out", str(run_dir), "--quiet", "--checkpoint-interval", "0.05"]  # fmt: skip
    resume = [*cmd[:4], "--resume", "--out", str(run_dir), "--quiet", "--checkpoint-interval", "0.05"]
    rng = random.Random(5)
    hist = run_dir / history.HISTORY_FILE
    killed_with_rows = 0
    for _ in range(3):
        launched = time.time()
        kill_when(resume if (run_dir / "config.json").is_file() else cmd,
                  lambda: hist.is_file() and hist.stat().st_mtime > launched,  # noqa: B023
                  delay=rng.uniform(0.0, 0.3))  # fmt: skip
        killed_with_rows += len(history.read_history(run_dir)) > 0
    assert killed_with_rows == 3
    assert main((resume if (run_dir / "config.json").is_file() else cmd)[3:]) == 0, capsys.readouterr().err
    rows, whole_rows = history.read_history(run_dir), history.read_history(whole)
    # The same rows, none twice, none missing (a resumed rollout restarts its environments, so later values differ)
    assert [r["frames"] for r in rows] == [r["frames"] for r in whole_rows]
    assert _comparable(rows[:1]) == _comparable(whole_rows[:1])
    best = history.best_row(history.read_history(run_dir))
    assert load_checkpoint(runs.best_checkpoint(run_dir))["frames"] == best["frames"]


def test_eval_every_is_checked_before_anything_is_written(tmp_path):
    with pytest.raises(ValueError, match="eval_every"):
        train(**SMALL, run_dir=tmp_path / "r", eval_every=-1, progress=False)
    assert not (tmp_path / "r").exists()


class _Killed(BaseException):
    """Stands for SIGKILL at one exact point: nothing after it runs, nothing is cleaned up by the trainer."""


@pytest.mark.parametrize("point", ["after the row, before the checkpoint", "after the checkpoint, before best.pt"])
def test_a_kill_between_the_writes_of_an_evaluation_resumes_whole(tmp_path, monkeypatch, point):
    whole = history.read_history(train(**SMALL, run_dir=tmp_path / "whole", eval_every=EVERY, progress=False))
    run_dir = tmp_path / "run"
    target = "save" if point.startswith("after the row") else "keep_best"
    original = history.TrainingEvaluation.evaluate_and_save

    def dying(self, net, frames, save):
        if frames < 3 * EVERY:
            return original(self, net, frames, save)
        self.evaluate(net, frames)
        if target == "keep_best":
            save()
        raise _Killed

    monkeypatch.setattr(history.TrainingEvaluation, "evaluate_and_save", dying)
    with pytest.raises(_Killed):
        train(**SMALL, run_dir=run_dir, eval_every=EVERY, progress=False)
    left = history.read_history(run_dir)
    checkpoint = load_checkpoint(runs.latest_checkpoint(run_dir))["frames"]
    assert (left[-1]["frames"] > checkpoint) == (target == "save")  # the state a kill at that point leaves
    if target == "save":  # the row of weights no checkpoint holds is dropped: training replays them from the checkpoint
        config = runs.read_config(run_dir)
        history.TrainingEvaluation(run_dir, config, checkpoint, 0.0, writer=None)
        assert [r["frames"] for r in history.read_history(run_dir)] == [r["frames"] for r in left if r["frames"] <= checkpoint]
    if target == "keep_best":  # make best.pt lag behind, as if the last row had been the best so far
        left[-1]["success_8_12"] = 1.0
        history.write_history(run_dir, left)
    monkeypatch.setattr(history.TrainingEvaluation, "evaluate_and_save", original)
    train(run_dir=run_dir, resume=True, progress=False)
    rows = history.read_history(run_dir)
    assert [r["frames"] for r in rows] == [r["frames"] for r in whole]
    assert load_checkpoint(runs.best_checkpoint(run_dir))["frames"] == history.best_row(rows)["frames"]


def test_eval_says_which_checkpoint_it_scored(tmp_path, capsys):
    from nalu_rl.analysis.evaluate import evaluate_run

    run_dir = train(**SMALL, run_dir=tmp_path / "run", eval_every=EVERY, progress=False)
    best = history.best_row(history.read_history(run_dir))
    doc = evaluate_run(run_dir, t_min=5, t_max=6, episodes=2, checkpoint="best")
    assert doc["checkpoint"] == "best" and doc["frames"] == best["frames"]
    assert main(["eval", str(run_dir), "--t", "5-6", "--episodes", "2"]) == 0
    assert f"scored latest.pt ({FRAMES:,} frames)" in capsys.readouterr().out
    plain = train(**SMALL, run_dir=tmp_path / "plain", progress=False)
    assert main(["eval", str(plain), "--checkpoint", "best", "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "no best checkpoint" in err and "--eval-every" in err
