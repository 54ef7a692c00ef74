"""Timing-extrapolation evaluation: the harness on scripted agents, horizons, files, the eval CLI."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest
import torch

from nalu_rl.analysis import evaluate as ev
from nalu_rl.analysis import results as rs
from nalu_rl.cli import main
from nalu_rl.common.intervals import wilson_interval
from nalu_rl.evaluation import engine, measures

GRID_ENV = {"size": 5, "t_range": [5, 12], "obs_mode": "grid"}
UP, DOWN, LEFT, RIGHT, PASS = range(5)


class ScriptedTimer:
    """A hand-written Agent: counts steps, waits while it has time to spare, then walks to the target.

    With ``cap`` it believes T is at most ``cap`` (a counter that saturates): it arrives at
    min(T, cap), so it succeeds exactly for T <= cap. ``rush`` walks straight there (arrives early).
    """

    def __init__(self, cap: int | None = None, rush: bool = False, env: dict | None = None) -> None:
        self.cap, self.rush = cap, rush
        self.config = {"agent": "scripted", "seed": 0, "env": dict(env or GRID_ENV), "frames": 0}
        self.first_obs: list[torch.Tensor] = []

    def initial_state(self, batch: int) -> torch.Tensor:
        return torch.zeros(batch)

    def predict(self, obs, state=None, episode_start=None, deterministic=False):
        image, instruction = obs["image"], obs["instruction"][:, 0]
        batch, n = image.shape[0], image.shape[-1]
        if state is None:
            state = self.initial_state(batch)
            self.first_obs.append(image.clone())
        if episode_start is not None:
            state = torch.where(episode_start, torch.zeros_like(state), state)
        agent = image[:, 0].reshape(batch, -1).argmax(1)
        target = image[:, 1].reshape(batch, -1).argmax(1)
        dr, dc = target // n - agent // n, target % n - agent % n
        goal = instruction if self.cap is None else instruction.clamp(max=self.cap)
        remaining = goal - state
        move = torch.where(dr > 0, DOWN, torch.where(dr < 0, UP, torch.where(dc > 0, RIGHT, LEFT)))
        wait = (remaining > dr.abs() + dc.abs()) & (not self.rush)
        return torch.where(wait, PASS, move), state + 1


class RandomAgent(ScriptedTimer):
    """Uniformly random actions from torch's global RNG (in both modes)."""

    def predict(self, obs, state=None, episode_start=None, deterministic=False):
        if state is None:
            self.first_obs.append(obs["image"].clone())
            state = torch.zeros(obs["image"].shape[0])
        return torch.randint(0, 5, (obs["image"].shape[0],)), state


# --------------------------------------------------------------------------- the harness


def test_perfect_timer_succeeds_for_every_t():
    results = engine.evaluate(ScriptedTimer(), range(1, 31), 50)
    assert [r["T"] for r in results] == list(range(1, 31))
    for r in results:
        assert r["success_rate"] == 1.0 and r["successes"] == 50, r
        assert r["mean_reward"] == 1.0 and r["arrival_rate"] == 1.0
        assert r["mean_arrival_time"] == r["T"] and r["timing_mae"] == 0.0
        assert r["success_ci95"] == [round(v, 6) for v in wilson_interval(50, 50)]
    doc = rs.summarize(results, agent="scripted", seed=0, train_range=(5, 12), sample=False)
    assert doc["horizon_90"] == doc["horizon_50"] == 30  # censored at the top of the evaluated range


def test_saturating_counter_has_its_cap_as_horizon():
    results = engine.evaluate(ScriptedTimer(cap=17), range(1, 26), 40)
    by_t = {r["T"]: r for r in results}
    assert all(by_t[t]["success_rate"] == 1.0 for t in range(1, 18))
    assert all(by_t[t]["success_rate"] == 0.0 for t in range(18, 26))
    assert all(by_t[t]["mean_arrival_time"] == 17.0 and by_t[t]["timing_mae"] == t - 17 for t in range(18, 26))
    assert all(by_t[t]["mean_reward"] == -1.0 and by_t[t]["arrival_rate"] == 1.0 for t in range(18, 26))
    doc = rs.summarize(results, agent="capped", seed=3, train_range=(5, 12), sample=False)
    assert (doc["horizon_90"], doc["horizon_50"]) == (17, 17)


def test_rushing_agent_arrives_early():
    results = engine.evaluate(ScriptedTimer(rush=True), [8, 20], 30)
    for r in results:  # on a 5x5 grid nothing is farther than 8 steps, so T=20 is always missed
        assert r["arrival_rate"] == 1.0 and r["mean_arrival_time"] <= 8
    assert results[1]["success_rate"] == 0.0 and results[1]["timing_mae"] >= 12


def test_identical_start_states_for_every_agent_and_distinct_episodes():
    a, b = ScriptedTimer(), RandomAgent()
    engine.evaluate(a, [3, 20], 64, seed=5)
    engine.evaluate(b, [3, 20], 64, seed=5, sample=True)
    assert torch.equal(a.first_obs[0], b.first_obs[0])
    start = a.first_obs[0].view(2, 64, -1)
    assert len({tuple(row.tolist()) for row in start[1]}) > 10  # episodes differ from one another
    c = ScriptedTimer()
    engine.evaluate(c, [3, 20], 64, seed=6)
    assert not torch.equal(a.first_obs[0], c.first_obs[0])  # another evaluation seed, other episodes


def test_chunking_does_not_change_results():
    whole = engine.evaluate(ScriptedTimer(cap=9), range(1, 13), 20)
    chunked = engine.evaluate(ScriptedTimer(cap=9), range(1, 13), 20, max_batch=50)
    assert whole == chunked


def test_greedy_is_deterministic_and_sampling_is_seeded():
    agent = RandomAgent()
    torch.manual_seed(123)
    before = torch.get_rng_state()
    first = engine.evaluate(agent, range(1, 8), 40, sample=True, seed=1)
    assert torch.equal(torch.get_rng_state(), before)  # the global RNG is left alone
    assert engine.evaluate(agent, range(1, 8), 40, sample=True, seed=1) == first
    assert engine.evaluate(agent, range(1, 8), 40, sample=True, seed=2) != first
    timer = ScriptedTimer(cap=6)
    assert engine.evaluate(timer, range(1, 10), 30) == engine.evaluate(timer, range(1, 10), 30)


def test_arguments_are_validated():
    for bad in ([], [0], [1001]):
        with pytest.raises(ValueError):
            engine.evaluate(ScriptedTimer(), bad, 10)
    with pytest.raises(ValueError, match="episodes"):
        engine.evaluate(ScriptedTimer(), [5], 0)


# --------------------------------------------------------------------------- horizons and statistics


def _results(rates: dict[int, float], episodes: int = 100) -> list[dict]:
    return [
        {"T": t, "episodes": episodes, "successes": round(p * episodes), "success_rate": p} for t, p in rates.items()
    ]


def test_horizon_on_hand_made_results():
    rates = {1: 0.2, 2: 0.95, 5: 1.0, 6: 0.95, 7: 0.9, 8: 0.89, 9: 0.95, 10: 0.6, 11: 0.49, 12: 0.7}
    res = _results(rates)
    assert measures.horizon(res, 5, 0.9) == 7  # exactly 0.9 counts; the 0.89 at T=8 ends it despite T=9
    assert measures.horizon(res, 5, 0.5) == 10
    assert measures.horizon(res, 1, 0.9) is None  # the bottom of the training range itself falls short
    assert measures.horizon(res, 2, 0.9) == 2  # T=3 was not evaluated: the scan stops at the gap
    assert measures.horizon(_results({2: 0.95, 3: 0.1}), 2, 0.9) == 2
    assert measures.horizon(res, 3, 0.5) is None  # bottom not evaluated
    assert measures.horizon(_results({5: 1.0, 6: 1.0}), 5, 0.9) == 6  # censored at the top
    assert measures.horizon([{"T": 5, "episodes": 10, "success_rate": 0.9}], 5, 0.9) == 5  # from the rate alone


def test_wilson_numbers():
    lo, hi = wilson_interval(180, 200)
    assert (round(lo, 4), round(hi, 4)) == (0.8506, 0.9343)
    assert math.isclose(wilson_interval(0, 200)[0], 0.0, abs_tol=1e-12) and wilson_interval(200, 200)[1] == 1.0
    lo, hi = wilson_interval(200, 200)
    assert math.isclose(lo, 0.981154, abs_tol=1e-6)


# --------------------------------------------------------------------------- evaluate_run, files, CLI


def exit_code(argv: list[str]) -> int:
    """The CLI's exit status: returned, or raised by argparse as SystemExit."""
    try:
        return main(argv)
    except SystemExit as exc:
        return exc.code


@pytest.fixture
def scripted_run(tmp_path, monkeypatch):
    """A run folder whose agent is a ScriptedTimer(cap=15): load_agent is replaced for the test."""
    run = tmp_path / "scripted-s4"
    run.mkdir()
    config = {"agent": "scripted", "seed": 4, "frames": 1000, "env": GRID_ENV}
    (run / "config.json").write_text(json.dumps(config))
    from nalu_rl import runs

    def fake_load_agent(run_dir, device="cpu", checkpoint="latest"):
        if not (Path(run_dir) / "config.json").is_file():
            raise FileNotFoundError(f"not a run folder (no config.json): {run_dir}")
        agent = ScriptedTimer(cap=15)
        agent.config = json.loads((Path(run_dir) / "config.json").read_text())
        return agent

    monkeypatch.setattr(runs, "load_agent", fake_load_agent)
    return run


def test_evaluate_run_writes_json_csv_png_and_tensorboard(scripted_run):
    doc = ev.evaluate_run(scripted_run, t_min=1, t_max=20, episodes=25)
    on_disk = json.loads((scripted_run / "extrapolation.json").read_text())
    assert on_disk == doc
    spec_keys = ["agent", "seed", "train_range", "policy", "results", "horizon_90", "horizon_50"]
    assert list(doc)[: len(spec_keys)] == spec_keys
    assert (doc["agent"], doc["seed"], doc["train_range"], doc["policy"]) == ("scripted", 4, [5, 12], "greedy")
    assert (doc["horizon_90"], doc["horizon_50"]) == (15, 15)
    assert [r["T"] for r in doc["results"]] == list(range(1, 21))
    for r in doc["results"]:
        assert list(r) == list(rs.RESULT_KEYS)
        assert isinstance(r["success_ci95"], list) and len(r["success_ci95"]) == 2
        assert r["episodes"] == 25
    with open(scripted_run / "extrapolation.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert tuple(rows[0]) == rs.CSV_COLUMNS and len(rows) == 20
    assert rows[15]["T"] == "16" and rows[15]["success_rate"] == "0.0" and rows[15]["mean_arrival_time"] == "15.0"
    png = (scripted_run / "extrapolation.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert list((scripted_run / "tb").glob("events.out.tfevents.*"))
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(scripted_run / "tb"), size_guidance={"tensors": 0})
    acc.Reload()
    scalars = acc.Tags()["scalars"]
    assert "extrapolation/greedy/horizon_90" in scalars and acc.Scalars("extrapolation/greedy/horizon_90")[0].step == 1000
    assert not [tag for tag in scalars if tag.endswith("_vs_T")]  # no per-T scalar: T is not a step
    table = acc.Tensors("extrapolation/greedy/per_T/text_summary")[0].tensor_proto.string_val[0].decode()
    assert table.splitlines()[2].startswith("| 1 |") and len(table.splitlines()) == 2 + 20
    assert "extrapolation/greedy/figure" in acc.Tags()["images"]
    assert rs.read_result(scripted_run) == doc


def test_eval_cli(scripted_run, capsys):
    assert main(["eval", str(scripted_run), "--t-min", "3", "--t-max", "18", "--episodes", "10", "--sample"]) == 0
    out = capsys.readouterr().out
    doc = json.loads((scripted_run / "extrapolation.json").read_text())
    assert doc["policy"] == "sampled" and [r["T"] for r in doc["results"]] == list(range(3, 19))
    assert "horizon_90" in out and "15" in out and str(scripted_run / "extrapolation.json") in out


@pytest.mark.parametrize(
    "args, message",
    [
        (["{missing}"], "run folder not found"),
        (["{run}", "--t-min", "9", "--t-max", "3"], "--t-min"),
        (["{run}", "--t-min", "0"], "--t-min"),
        (["{run}", "--t-max", "5000"], "--t-max"),
        (["{run}", "--episodes", "0"], "--episodes"),
        (["{empty}"], "config.json"),
    ],
)
def test_eval_cli_bad_input_is_one_line_exit_2(scripted_run, tmp_path, capsys, args, message):
    (tmp_path / "empty").mkdir()
    paths = {"missing": tmp_path / "nope", "run": scripted_run, "empty": tmp_path / "empty"}
    argv = ["eval"] + [a.format(**paths) for a in args]
    assert exit_code(argv) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_eval_output_spells_a_missing_value_none(scripted_run, capsys):
    from nalu_rl.cli.commands.eval import format_results

    assert main(["eval", str(scripted_run), "--t", "1-3", "--episodes", "5"]) == 0  # T = 5 not evaluated
    out = capsys.readouterr().out
    assert "horizon_90 = none, horizon_50 = none" in out and "None" not in out
    result = {"T": 200, "success_rate": 0.0, "success_ci95": [0.0, 0.1], "arrival_rate": 0.0,
              "mean_arrival_time": None, "timing_mae": None}  # fmt: skip
    row = format_results({"train_range": [5, 12], "policy": "greedy", "results": [result]}).splitlines()[1]
    assert row.split()[-2:] == ["none", "none"] and row.startswith(" 200 ")
