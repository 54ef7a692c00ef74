"""The static arithmetic benchmark: data, success threshold, model selection, run and CLI."""

from __future__ import annotations

import json
import math

import pytest
import torch

from nalu_rl import arith
from nalu_rl.arith import ArithConfig, StaticNet, epsilon_thresholds, format_table, run_benchmark
from nalu_rl.cli import main


def _contiguous(mask: torch.Tensor) -> tuple[int, int]:
    idx = torch.nonzero(mask).flatten()
    assert torch.equal(idx, torch.arange(int(idx[0]), int(idx[-1]) + 1)), "slice is not contiguous"
    return int(idx[0]), len(idx)


def test_data_are_overlapping_slices_of_inputs_in_range():
    cfg = ArithConfig(seeds=4, test_size=50)
    data = arith.make_data(cfg)
    for s in range(cfg.seeds):
        a_start, a_len = _contiguous(data.a_mask[s])
        b_start, b_len = _contiguous(data.b_mask[s])
        assert a_len == b_len == 25
        assert b_start == a_start + 25 - 12  # overlap floor(0.5 * 25) = 12
        assert b_start + b_len <= cfg.input_size
    assert data.x_interpolation.min() >= 1.0 and data.x_interpolation.max() <= 2.0
    assert data.x_extrapolation.min() >= 2.0 and data.x_extrapolation.max() <= 6.0
    starts = {_contiguous(data.a_mask[s])[0] for s in range(cfg.seeds)}
    assert len(starts) > 1, "every seed should draw its own slice positions"


def _solution(spec: str, task: str, a_mask: torch.Tensor, b_mask: torch.Tensor, eps: float) -> StaticNet:
    """A hand-set network solving ``task``, first layer off by eps like the eps-perfect solution."""
    net = StaticNet(spec, a_mask.numel(), 2).double()  # float32 would round 1 - eps visibly
    first, second = net.layers
    with torch.no_grad():
        first.W.copy_(torch.stack([a_mask, b_mask]).double() * (1 - 2 * eps) + eps)
        second.W.copy_(torch.tensor([[1.0, -1.0 if task == "sub" else 1.0]]))
    return net


@pytest.mark.parametrize("task, spec", [("add", "nau"), ("sub", "nau"), ("mul", "nau-nmu")])
def test_epsilon_threshold_is_the_error_of_the_epsilon_perfect_network(task, spec):
    cfg = ArithConfig(tasks=(task,), seeds=2, test_size=500)
    data = arith.make_data(cfg)
    threshold = epsilon_thresholds(cfg, data)
    for s in range(cfg.seeds):
        x = data.x_extrapolation[s].double()
        a, b = x @ data.a_mask[s].double(), x @ data.b_mask[s].double()
        target = arith.TASKS[task][1](a, b).double()
        with torch.no_grad():
            eps_net = _solution(spec, task, data.a_mask[s], data.b_mask[s], cfg.epsilon)
            exact_net = _solution(spec, task, data.a_mask[s], data.b_mask[s], 0.0)
            eps_mse = ((eps_net(x)[0] - target) ** 2).mean().item()
            exact_mse = ((exact_net(x)[0] - target) ** 2).mean().item()
        assert eps_mse == pytest.approx(float(threshold[0, s]), rel=1e-3)
        assert exact_mse < 1e-6 * float(threshold[0, s])
        assert float(threshold[0, s]) > 0


def test_selection_takes_best_interpolation_and_counts_nan_as_failure():
    cfg = ArithConfig(tasks=("add",), seeds=3)
    steps = torch.tensor([0, 10, 20, 30])
    # (E, T=1, S=3); seed 0 is best at step 20 where it also extrapolates; seed 1 is best at step 30,
    # where it does not, although it dipped below the threshold at step 10; seed 2 diverges (NaN)
    # and ends interpolating well but extrapolating to inf.
    inter = torch.tensor([[100.0, 100.0, 100.0], [5.0, 2.0, math.nan], [1.0, 3.0, math.nan], [2.0, 1.0, 3.0]])
    extra = torch.tensor(
        [[1000.0, 1000.0, 1000.0], [50.0, 0.5, math.nan], [0.5, 30.0, math.nan], [5.0, 20.0, math.inf]]
    )
    threshold = torch.full((1, 3), 1.0, dtype=torch.float64)
    r = arith.summarise(0, "nau", cfg, steps, inter[:, None], extra[:, None], threshold)
    seeds = r["per_seed"]
    assert [p["best_step"] for p in seeds] == [20, 30, 30]
    assert [p["success"] for p in seeds] == [True, False, False]
    assert [p["solved_at"] for p in seeds] == [20, 10, None]
    assert seeds[0]["error_x100_interpolation"] == pytest.approx(1.0)
    assert seeds[0]["error_x100_extrapolation"] == pytest.approx(0.05)
    assert r["successes"] == 1 and r["success_rate"] == pytest.approx(1 / 3)
    lo, hi = r["success_ci95"]
    assert 0 < lo < 1 / 3 < hi < 1
    assert r["error_x100_extrapolation"] == pytest.approx(2.0)  # median of 0.05, 2.0 and inf
    assert seeds[2]["mse_extrapolation"] is None and seeds[2]["error_x100_extrapolation"] is None
    json.dumps(r, allow_nan=False)  # no NaN or inf leaks into the report


def test_a_short_run_learns_addition_with_the_nau_and_not_multiplication_with_an_mlp():
    cfg = ArithConfig(tasks=("add", "mul"), models=("nau", "relu6"), seeds=2, steps=200, eval_every=50,
                      test_size=200, learning_rate=0.01)
    threads = torch.get_num_threads()
    report = run_benchmark(cfg, progress=False)
    assert torch.get_num_threads() == threads, "process-wide settings must be restored"
    assert torch.tensor(1e-40).item() != 0.0, "subnormals must not stay flushed to zero"
    by_key = {(r["task"], r["model"]): r for r in report["results"]}
    assert set(by_key) == {(t, m) for t in cfg.tasks for m in cfg.models}
    assert by_key[("add", "nau")]["error_x100_extrapolation"] < 1.0
    assert by_key[("mul", "relu6")]["error_x100_extrapolation"] > 20.0
    for r in report["results"]:
        assert len(r["per_seed"]) == 2 and 0 <= r["success_ci95"][0] <= r["success_ci95"][1] <= 1
    json.dumps(report, allow_nan=False)
    table = format_table(report)
    for text in ("Interpolation", "Extrapolation", "Success", "a + b", "a * b", "nau", "relu6"):
        assert text in table


def test_config_rejects_bad_values():
    with pytest.raises(ValueError, match="steps"):
        ArithConfig(steps=0)
    with pytest.raises(ValueError, match="interpolation"):
        ArithConfig(interpolation=(2.0, 1.0))
    with pytest.raises(ValueError, match="bad model"):
        ArithConfig(models=("nau-lstm",))
    with pytest.raises(ValueError, match="slices"):
        ArithConfig(subset_ratio=0.9)


def test_cli_writes_json_and_tensorboard_events(tmp_path, capsys):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    out = tmp_path / "arith"
    rc = main(["arith", "--tasks", "add,sub", "--models", "nau,linear", "--seeds", "2", "--steps", "30",
               "--eval-every", "10", "--test-size", "64", "--out", str(out)])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "Success" in printed and "a - b" in printed
    report = json.loads((out / "arith.json").read_text())
    assert report["config"]["steps"] == 30 and report["config"]["models"] == ["nau", "linear"]
    assert {(r["task"], r["model"]) for r in report["results"]} == {
        ("add", "nau"), ("add", "linear"), ("sub", "nau"), ("sub", "linear"),
    }
    events = list(out.glob("events.out.tfevents.*"))
    assert events
    acc = EventAccumulator(str(out))
    acc.Reload()
    scalars = acc.Tags()["scalars"]
    assert "sub/nau/mse_extrapolation" in scalars
    assert [e.step for e in acc.Scalars("add/linear/mse_interpolation")] == [0, 10, 20, 30]


@pytest.mark.parametrize(
    "flags",
    [["--seeds", "0"], ["--warmup", "0.8", "0.2"], ["--models", "nau,gru"], ["--tasks", "pow"],
     ["--extrapolation", "-1", "5"]],
)
def test_cli_bad_flag_values_exit_2_with_one_line(flags, tmp_path, capsys):
    try:
        code = main(["arith", *flags, "--out", str(tmp_path)])
    except SystemExit as exit_:  # argparse refuses an integer flag's value itself
        code = exit_.code
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("nalu-rl arith: error:") and "\n" not in err


def test_cli_malformed_flag_exits_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["arith", "--steps", "many"])
    assert exc.value.code == 2


def test_a_list_of_seeds_keeps_each_seeds_slices_and_the_cli_takes_the_sweeps_syntax():
    from nalu_rl.arith.data import make_data
    from nalu_rl.cli import build_parser

    every = make_data(ArithConfig(seeds=7))
    some = make_data(ArithConfig(seeds=(4, 6)))
    assert torch.equal(some.a_mask, every.a_mask[[4, 6]]) and torch.equal(some.b_mask, every.b_mask[[4, 6]])
    assert torch.equal(make_data(ArithConfig(seeds=(0, 1, 2))).x_extrapolation, make_data(ArithConfig(seeds=3)).x_extrapolation)
    for text, seeds in (("3", [0, 1, 2]), ("0-2", [0, 1, 2]), ("4,6", [4, 6])):
        assert build_parser().parse_args(["arith", "--seeds", text]).seeds == seeds
    with pytest.raises(ValueError, match="repeat"):
        ArithConfig(seeds=(1, 1))
