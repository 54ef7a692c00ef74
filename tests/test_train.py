"""Training runs: config.json, TensorBoard, checkpoints and resume, determinism, signals, bad input."""

from __future__ import annotations

import json
import platform
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from nalu_rl.agents import load_agent, train
from nalu_rl.agents.checkpoint import load_checkpoint, save_checkpoint
from nalu_rl.cli import main

# Small and quick: 8 environments x 16 steps = 128 frames per update.
SMALL = {"mode": "sync", "workers": 1, "envs_per_worker": 8, "progress": False, "overrides": {"n_steps": 16}}


def params(run_dir: Path) -> dict[str, torch.Tensor]:
    return load_checkpoint(run_dir / "checkpoints" / "latest.pt")["model"]


def test_config_json_tensorboard_and_checkpoint(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run_dir = train(agent="lstm_nac", env="fast", frames=512, seed=3, run_dir=tmp_path / "run", **SMALL)
    config = json.loads((run_dir / "config.json").read_text())
    assert config["agent"] == "lstm_nac" and config["core"] == "lstm_nac" and config["env_preset"] == "fast"
    # every environment argument, defaults included: the rules the run was trained under
    assert config["env"] == {"size": 5, "t_range": [5, 12], "obs_mode": "grid", "placement": "reachable", "reward": "exact",
                             "time_limit": None, "timing_penalty": 0.15}  # fmt: skip
    assert (config["seed"], config["frames"], config["mode"], config["workers"], config["envs_per_worker"]) == (3, 512, "sync", 1, 8)
    assert config["device"] == "cpu" and config["version"]
    assert config["agent_config"]["core"] == "lstm_nac" and "lr" in config["agent_config"]

    checkpoint = load_checkpoint(run_dir / "checkpoints" / "latest.pt")
    assert checkpoint["frames"] == 512 and checkpoint["updates"] == 4
    assert set(checkpoint) >= {"model", "optimizer", "frames", "rng"}
    assert not [p for p in (run_dir / "checkpoints").iterdir() if p.name != "latest.pt"]  # no temp files left

    events = EventAccumulator(str(run_dir / "tb"))
    events.Reload()
    tags = set(events.Tags()["scalars"])
    assert {  # Stable-Baselines3's names, so that the peer's curves line up with ours
        "rollout/ep_rew_mean", "rollout/success_rate", "rollout/ep_len_mean", "time/fps",
        "train/policy_gradient_loss", "train/value_loss", "train/entropy_loss", "train/explained_variance",
        "train/learning_rate", "train/grad_norm",
    } <= tags  # fmt: skip
    assert any(tag.startswith("success_by_T/T") for tag in tags)
    assert events.Scalars("train/learning_rate")[-1].step == 512  # step = environment frames
    assert all(e.value < 0 for e in events.Scalars("train/entropy_loss"))  # SB3's sign: minus the entropy
    assert all(e.value <= 1 for e in events.Scalars("train/explained_variance"))
    assert events.PluginTagToContent("hparams")

    agent = load_agent(run_dir)
    assert agent.config == config


def test_sync_training_is_deterministic(tmp_path):
    a = train(agent="lstm_nac", frames=384, seed=7, run_dir=tmp_path / "a", **SMALL)
    b = train(agent="lstm_nac", frames=384, seed=7, run_dir=tmp_path / "b", **SMALL)
    c = train(agent="lstm_nac", frames=384, seed=8, run_dir=tmp_path / "c", **SMALL)
    pa, pb, pc = params(a), params(b), params(c)
    assert all(torch.equal(pa[k], pb[k]) for k in pa)
    assert not all(torch.equal(pa[k], pc[k]) for k in pa)


def test_a_short_run_learns_to_arrive_on_time(tmp_path):
    """On a 3×3 grid with T in 2..4, 300k frames (about 30 s) take greedy success from ~0 to most episodes.

    Waiting exactly T - distance steps before moving is what the task asks; a learner with a
    wrong sign, a broken return or a state that does not reset stays near the untrained rate.
    """
    from nalu_rl.evaluation.engine import evaluate

    env = tmp_path / "small.toml"
    env.write_text('size = 3\nt_range = [2, 4]\nobs_mode = "grid"\n')
    options = {**SMALL, "envs_per_worker": 32}

    def success(run_dir: Path) -> list[float]:
        return [r["success_rate"] for r in evaluate(load_agent(run_dir), [2, 3, 4], 100)]

    untrained = success(train(agent="lstm", env=str(env), frames=1, seed=0, run_dir=tmp_path / "untrained", **options))
    trained = success(train(agent="lstm", env=str(env), frames=300_000, seed=0, run_dir=tmp_path / "trained", **options))
    assert max(untrained) < 0.15, untrained
    assert min(trained) >= 0.5, trained


def test_the_counting_loss_teaches_the_clock_to_count_exactly(tmp_path):
    """A short lstm_countdown run pulls the clock's NAU weight to exactly 1 (a count of t at any t).

    A wrong target (t - 1, t + 1) or sign would leave it elsewhere: from zero, a clock a = k w
    fits k - 1 or k + 1 only with w away from 1. Without the loss the weight wanders with the
    policy gradient. TensorBoard gets the loss.
    """
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    def clock_weight(run_dir: Path) -> float:
        return params(run_dir)["core.unit.W"].item()

    counted = train(agent="lstm_countdown", env="fast", frames=50_000, seed=0, run_dir=tmp_path / "on", **SMALL)
    uncounted = train(agent="lstm_countdown", env="fast", frames=50_000, seed=0, run_dir=tmp_path / "off",
                      **{**SMALL, "overrides": {**SMALL["overrides"], "count_coef": 0.0}})  # fmt: skip
    assert abs(clock_weight(counted) - 1.0) < 0.01, clock_weight(counted)
    assert abs(clock_weight(uncounted) - 1.0) > 0.1, clock_weight(uncounted)
    # Scalars are written about once a second: a resumed stretch makes sure the last one covers only the end.
    train(run_dir=counted, frames=60_000, resume=True, progress=False)
    acc = EventAccumulator(str(counted / "tb"))
    acc.Reload()
    count_loss = [event.value for event in acc.Scalars("train/count_loss")]
    assert count_loss[-1] < 1e-3 < count_loss[0], count_loss


def test_checkpoint_round_trip_is_atomic(tmp_path):
    path = tmp_path / "ck.pt"
    model = {"w": torch.randn(3, 4)}
    save_checkpoint(path, model=model, optimizer={"state": {}}, frames=10, updates=2, rng={"torch": torch.get_rng_state()})
    loaded = load_checkpoint(path)
    torch.testing.assert_close(loaded["model"]["w"], model["w"])
    assert (loaded["frames"], loaded["updates"]) == (10, 2)
    assert [p.name for p in tmp_path.iterdir()] == ["ck.pt"]


def test_resume_continues_counting_frames(tmp_path):
    run_dir = train(agent="lstm", frames=256, run_dir=tmp_path / "run", **SMALL)
    before = load_checkpoint(run_dir / "checkpoints" / "latest.pt")
    train(run_dir=run_dir, frames=640, resume=True, progress=False)
    after = load_checkpoint(run_dir / "checkpoints" / "latest.pt")
    assert (before["frames"], after["frames"]) == (256, 640)
    assert after["updates"] == before["updates"] + 3
    assert json.loads((run_dir / "config.json").read_text())["frames"] == 640
    assert not all(torch.equal(before["model"][k], after["model"][k]) for k in before["model"])
    with pytest.raises(ValueError, match="started with"):
        train(agent="lstm_nac", run_dir=run_dir, resume=True, progress=False)


def _cli(capsys, *argv: str) -> tuple[int, str]:
    try:
        code = main(["train", *argv])
    except SystemExit as exit_:  # argparse refuses a flag's value itself
        code = exit_.code
    err = capsys.readouterr().err
    return code, err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--agent", "nope"], "unknown agent preset 'nope'"),
        (["--agent", "lstm", "--frames", "0"], "--frames: must be an integer in [1, 1,000,000,000,000], got 0"),
        (["--agent", "lstm", "--frames", "-5"], "--frames: must be an integer in [1,"),
        (["--agent", "lstm", "--device", "tpu"], "device must be"),
        (["--agent", "lstm", "--workers", "0"], "--workers: must be an integer in [1, 1024], got 0"),
        (["--agent", "lstm", "--set", "lr=-1"], "lr must be a finite number in (0, 1], got -1"),
        (["--resume", "--out", "does/not/exist"], "run folder not found"),
        ([], "agent preset is required"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    code, err = _cli(capsys, *argv)
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "runs").exists()  # nothing written


def test_divergence_is_one_line_and_exit_1_and_keeps_the_last_finite_checkpoint(tmp_path, capsys, monkeypatch):
    import nalu_rl.agents.sync_trainer as sync_trainer

    real = sync_trainer.update

    def diverging(collector, optimizer, lr, shared=None):  # the loss goes non-finite after a few updates
        real(collector, optimizer, lr, shared)
        if collector.stats.updates >= 3:
            collector.stats.sums[4] = float("nan")

    monkeypatch.setattr(sync_trainer, "update", diverging)
    run_dir = tmp_path / "run"
    argv = ("--agent", "lstm", "--env", "fast", "--frames", "4096", "--out", str(run_dir), "--mode", "sync",
            "--envs-per-worker", "8", "--quiet")  # fmt: skip
    code, err = _cli(capsys, *argv)
    assert code == 1 and "Traceback" not in err
    # --quiet: the warning and the error alone
    assert err.count("\n") == 2 and "nalu-rl train: error: training diverged at" in err and "last good checkpoint is kept" in err
    assert err.startswith("nalu-rl train: warning: 4,096 frames is far below the 20,000,000 the lstm preset trains with;")
    saved = load_checkpoint(run_dir / "checkpoints" / "latest.pt")  # the one before the divergence
    assert saved["frames"] < 4096 and all(torch.isfinite(p).all() for p in saved["model"].values())


def test_corrupt_checkpoint_and_existing_run_are_refused_without_overwriting(tmp_path, capsys):
    run_dir = train(agent="lstm", frames=128, run_dir=tmp_path / "run", **SMALL)
    latest = run_dir / "checkpoints" / "latest.pt"
    latest.write_bytes(b"\x00garbage")
    config_before = (run_dir / "config.json").read_text()

    code, err = _cli(capsys, "--resume", "--out", str(run_dir))
    assert code == 2 and "is not a nalu-rl checkpoint" in err and len(err.strip().splitlines()) == 1
    assert latest.read_bytes() == b"\x00garbage" and (run_dir / "config.json").read_text() == config_before

    code, err = _cli(capsys, "--agent", "lstm", "--out", str(run_dir))
    assert code == 2 and "already holds a run" in err
    assert latest.read_bytes() == b"\x00garbage" and (run_dir / "config.json").read_text() == config_before


def _wait_for(predicate, timeout: float = 120.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def test_sigterm_saves_a_checkpoint_then_resume_continues(tmp_path):
    run_dir = tmp_path / "run"
    cmd = [sys.executable, "-m", "nalu_rl", "train", "--agent", "lstm", "--frames", "1e9", "--mode", "sync",
           "--workers", "1", "--envs-per-worker", "8", "--out", str(run_dir), "--quiet"]  # fmt: skip
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(lambda: (run_dir / "tb").is_dir() and (run_dir / "checkpoints" / "latest.pt").exists(), what="start")
        time.sleep(1.0)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert "stopped by SIGTERM" in err and "--resume" in err and "Traceback" not in err
    stopped = load_checkpoint(run_dir / "checkpoints" / "latest.pt")["frames"]
    assert stopped > 0

    target = stopped + 256
    done = subprocess.run([*cmd[:4], "--resume", "--out", str(run_dir), "--frames", str(target), "--quiet"],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert load_checkpoint(run_dir / "checkpoints" / "latest.pt")["frames"] == target


def test_a_0_2_0_lstm_nac_run_resumes_as_the_accumulator(tmp_path):
    """nalu-rl 0.2.0's lstm_nac is today's lstm_nac_acc with its unit at the heads: its run folders resume as that."""
    run = train(agent="lstm_nac_acc", frames=256, seed=0, run_dir=tmp_path / "old", **SMALL)
    config = json.loads((run / "config.json").read_text())
    config["core"] = config["agent_config"]["core"] = "lstm_nac"
    del config["agent_config"]["unit_to_heads"], config["provenance"]
    config["version"] = "0.2.0"
    (run / "config.json").write_text(json.dumps(config))
    train(run_dir=run, resume=True, frames=512, progress=False)
    resumed = json.loads((run / "config.json").read_text())
    assert resumed["core"] == resumed["agent_config"]["core"] == "lstm_nac_acc"
    assert resumed["agent_config"]["unit_to_heads"] is True
    assert "provenance" not in resumed and len(resumed["resumes"]) == 1  # none invented for an old run
    assert load_checkpoint(run / "checkpoints" / "latest.pt")["frames"] >= 512


def test_config_json_records_provenance_and_a_resume_keeps_it(tmp_path):
    import gymnasium

    from nalu_rl import __version__

    run_dir = train(agent="lstm", env="fast", frames=128, run_dir=tmp_path / "run", **SMALL)
    prov = json.loads((run_dir / "config.json").read_text())["provenance"]
    assert prov["version"] == __version__
    import numpy
    import stable_baselines3

    assert prov["libraries"]["torch"] == torch.__version__ and prov["libraries"]["gymnasium"] == gymnasium.__version__
    assert prov["libraries"]["numpy"] == numpy.__version__ and prov["libraries"]["stable-baselines3"] == stable_baselines3.__version__
    assert prov["python"] == platform.python_version()
    kernels = prov["kernels"]
    assert kernels["cpu_capability"] == torch.backends.cpu.get_cpu_capability() and kernels["cpu"]
    assert set(kernels["variables"]) >= {"ATEN_CPU_CAPABILITY", "MKL_ENABLE_INSTRUCTIONS", "MKL_CBWR", "ONEDNN_MAX_CPU_ISA"}
    assert kernels["torch_threads"] >= 1
    assert prov["started"].endswith("+00:00") and prov["command"]
    git = subprocess.run(["git", "-C", str(Path(__file__).parents[1]), "rev-parse", "HEAD"], capture_output=True, text=True)
    assert prov["git_commit"].removesuffix("-dirty") == git.stdout.strip()  # the tests run from the checkout
    train(run_dir=run_dir, frames=256, resume=True, progress=False)
    config = json.loads((run_dir / "config.json").read_text())
    assert config["provenance"] == prov and [r["version"] for r in config["resumes"]] == [__version__]
    assert config["resumes"][0]["kernels"]["cpu_capability"] == kernels["cpu_capability"]  # a resume on another machine shows


def test_git_commit_is_none_outside_a_checkout_or_without_git(tmp_path, monkeypatch):
    from nalu_rl.common.provenance import git_commit

    assert git_commit(tmp_path) is None
    (tmp_path / ".git").mkdir()  # looks like a checkout, but git finds nothing there
    monkeypatch.setenv("PATH", str(tmp_path))  # and no git on PATH
    assert git_commit(tmp_path) is None


def test_resume_without_any_checkpoint_starts_afresh_from_config_json(tmp_path, capsys):
    run_dir = train(agent="lstm", env="fast", frames=256, seed=4, run_dir=tmp_path / "run", **SMALL)
    finished = load_checkpoint(run_dir / "checkpoints" / "latest.pt")
    (run_dir / "checkpoints" / "latest.pt").unlink()  # as if killed before its first checkpoint
    capsys.readouterr()
    train(run_dir=run_dir, resume=True, progress=False)
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "has no checkpoint" in err and "starting it afresh from its config.json" in err
    again = load_checkpoint(run_dir / "checkpoints" / "latest.pt")
    assert again["frames"] == 256 and all(torch.equal(again["model"][k], finished["model"][k]) for k in finished["model"])


def test_frames_warning_when_far_below_the_preset():
    from nalu_rl.agents.planning import frames_warning

    assert frames_warning("lstm", 20_000) == (
        "warning: 20,000 frames is far below the 20,000,000 the lstm preset trains with; expect little learning"
    )
    assert frames_warning("lstm", 5_000_000) is None  # a quarter is enough not to warn
    assert frames_warning("lstm", 4_999_999) is not None


def test_the_first_fps_point_leaves_start_up_out(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from nalu_rl.agents.monitor import Monitor
    from nalu_rl.agents.trainer import prepare

    plan = prepare(agent="lstm", env="fast", frames=10_000, run_dir=tmp_path / "run")
    monitor = Monitor(tmp_path / "run", plan.config, plan.agent_config, 0, progress=False)
    time.sleep(0.3)  # start-up: the network, the envs, the first checkpoint, the first rollout
    monitor.first_update(128)
    monitor.log(128, 1e-3)  # nothing measured yet
    monitor.log(1128, 1e-3)
    monitor.close()
    events = EventAccumulator(str(tmp_path / "run" / "tb"))
    events.Reload()
    fps = events.Scalars("time/fps")
    assert [e.step for e in fps] == [1128] and fps[0].value > 10 * 1128 / 0.3
