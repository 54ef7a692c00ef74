"""The Stable-Baselines3 peer: run folder, SB3Agent.predict (single, NumPy and torch batches), CLI errors."""

from __future__ import annotations

import json
import sys

import gymnasium as gym
import numpy as np
import pytest
import torch

pytest.importorskip("sb3_contrib")

from nalu_rl import runs  # noqa: E402
from nalu_rl.baselines import AGENT_NAME, load_sb3_agent, train_recurrent_ppo  # noqa: E402
from nalu_rl.baselines.recurrent_ppo import checkpoint_path, is_finished  # noqa: E402
from nalu_rl.cli import main  # noqa: E402
from nalu_rl.envs.batched import TimedGridVecEnv  # noqa: E402

TINY = {"n_envs": 4, "n_steps": 32, "batch_size": 64, "n_epochs": 1}  # 128 frames per rollout


@pytest.fixture(scope="module")
def baseline_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("baseline") / "rppo"
    return train_recurrent_ppo(env="fast", frames=256, seed=3, run_dir=run_dir, overrides=TINY, progress=False)


def test_run_folder_has_config_tensorboard_and_model(baseline_run):
    config = json.loads((baseline_run / "config.json").read_text())
    assert config["agent"] == AGENT_NAME == "recurrent_ppo"
    assert config["algo"] == "recurrent-ppo"
    assert config["env_preset"] == "fast"
    assert config["env"] == {"obs_mode": "grid", "size": 5, "t_range": [5, 12], "time_limit": None, "placement": "reachable",
                             "reward": "exact", "timing_penalty": 0.15}  # fmt: skip
    assert config["seed"] == 3 and config["frames"] == 256
    assert config["agent_config"]["lstm_hidden_size"] == 64 and config["agent_config"]["n_envs"] == 4
    assert set(runs.config.REQUIRED_KEYS) <= set(config)  # the same keys as our runs: read_config accepts it
    assert (baseline_run / "model.zip").is_file()
    assert not checkpoint_path(baseline_run).exists()  # the periodic checkpoint is gone once model.zip is written
    events = list((baseline_run / "tb").glob("RecurrentPPO_*/events.out.tfevents.*"))
    assert len(events) == 1
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(events[0]))
    acc.Reload()
    tags = set(acc.Tags()["scalars"])
    assert {"rollout/ep_rew_mean", "rollout/success_rate", "time/fps", "train/explained_variance"} <= tags
    assert any(tag.startswith("success_by_T/T") for tag in tags)  # our extra curve, under our name
    training = json.loads((baseline_run / "training.json").read_text())
    assert training["frames_done"] == 256 and is_finished(baseline_run)


def test_predict_single_numpy_and_torch_batches_agree(baseline_run):
    agent = load_sb3_agent(baseline_run)
    assert agent.config["agent"] == "recurrent_ppo"
    env = gym.make("nalu_rl/TimedGrid-v0", obs_mode="grid")
    obs, _ = env.reset(seed=0, options={"instruction": 9})
    action, state = agent.predict(obs, deterministic=True)
    assert isinstance(action, np.int64) and 0 <= action < 5
    assert state.shape == (1, agent.state_size) == (1, 128)
    obs2, *_ = env.step(int(action))
    action2, state2 = agent.predict(obs2, state=state, episode_start=np.array([False]), deterministic=True)

    batch = TimedGridVecEnv(num_envs=6, obs_mode="grid")
    tobs, _ = batch.reset(seed=list(range(6)))
    tobs = {k: v.clone() for k, v in tobs.items()}
    tobs["image"][0], tobs["instruction"][0] = torch.as_tensor(obs["image"]), float(obs["instruction"][0])
    t_actions, t_state = agent.predict(tobs, state=agent.initial_state(6), episode_start=torch.ones(6, dtype=torch.bool),
                                       deterministic=True)  # fmt: skip
    assert isinstance(t_actions, torch.Tensor) and t_actions.shape == (6,) and t_actions.dtype == torch.int64
    assert isinstance(t_state, torch.Tensor) and t_state.shape == (6, 128)
    n_actions, n_state = agent.predict({k: v.numpy() for k, v in tobs.items()}, deterministic=True)
    assert isinstance(n_actions, np.ndarray) and n_actions.tolist() == t_actions.tolist()
    np.testing.assert_allclose(n_state, t_state.numpy(), rtol=1e-5, atol=1e-6)
    # row 0 of the batch is the single observation: same action, same state
    assert int(t_actions[0]) == int(action)
    np.testing.assert_allclose(t_state[:1].numpy(), state, rtol=1e-5, atol=1e-6)
    # episode_start resets the state: a garbage state with episode_start=True acts like a fresh one
    garbage = torch.full((6, 128), 3.0)
    r_actions, r_state = agent.predict(tobs, state=garbage, episode_start=torch.ones(6, dtype=torch.bool), deterministic=True)
    assert r_actions.tolist() == t_actions.tolist() and torch.allclose(r_state, t_state, atol=1e-6)
    # the state is carried: the second single step equals a batch step from the first step's state
    b2 = {k: v[:1].copy() for k, v in {"image": obs2["image"][None], "instruction": obs2["instruction"][None]}.items()}
    b_action, b_state = agent.predict(b2, state=state, episode_start=np.zeros(1, bool), deterministic=True)
    assert int(b_action[0]) == int(action2)
    np.testing.assert_allclose(b_state, state2, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="state must have shape"):
        agent.predict(tobs, state=torch.zeros(6, 5))


class _UniformRandom:
    """Acts uniformly at random: what a model that learnt nothing is no better than."""

    def predict(self, obs, state=None, episode_start=None, deterministic=False):
        return torch.randint(0, 5, (obs["image"].shape[0],)), state


def test_training_beats_a_random_policy_by_far(tmp_path):
    """T = 1 on a 2x2 grid: one move of five wins, so random play wins 1 episode in 5 and a learner all of them.

    A model that does not learn (learning_rate=1e-12, a frozen policy) stays below the bar, greedy or sampled.
    """
    from nalu_rl.evaluation.engine import evaluate

    preset = tmp_path / "one_step.toml"
    preset.write_text('size = 2\nt_range = [1, 1]\nobs_mode = "grid"\nplacement = "reachable"\nreward = "exact"\n')
    run_dir = train_recurrent_ppo(env=str(preset), frames=4096, seed=0, run_dir=tmp_path / "r", progress=False,
                                  overrides={**TINY, "n_epochs": 4})  # fmt: skip
    agent = load_sb3_agent(run_dir)
    env = agent.config["env"]
    random = evaluate(_UniformRandom(), [1], episodes=200, seed=0, env_kwargs=env)[0]["success_rate"]
    greedy = evaluate(agent, [1], episodes=200, seed=0)[0]["success_rate"]
    sampled = evaluate(agent, [1], episodes=200, seed=0, sample=True)[0]["success_rate"]
    assert 0.1 < random < 0.3
    assert greedy > random + 0.5 and sampled > random + 0.5, (random, greedy, sampled)


def test_evaluate_accepts_the_peer(baseline_run):
    from nalu_rl.evaluation.engine import evaluate

    agent = load_sb3_agent(baseline_run)
    results = evaluate(agent, [1, 5, 9], episodes=8, seed=0)
    assert [r["T"] for r in results] == [1, 5, 9] and all(r["episodes"] == 8 for r in results)
    again = evaluate(agent, [1, 5, 9], episodes=8, seed=0)
    assert results == again  # greedy evaluation of fixed start states is reproducible


def test_load_agent_dispatches_to_the_peer(baseline_run):
    """``nalu_rl.load_agent`` (hence eval, report, play) opens the baseline's run folder."""
    import nalu_rl
    from nalu_rl.baselines import SB3Agent, load_sb3_agent

    agent, direct = nalu_rl.load_agent(baseline_run), load_sb3_agent(baseline_run)
    assert isinstance(agent, SB3Agent) and agent.config == direct.config and agent.config["agent"] == "recurrent_ppo"
    env = gym.make("nalu_rl/TimedGrid-v0", **{**agent.config["env"], "t_range": tuple(agent.config["env"]["t_range"])})
    obs, _ = env.reset(seed=3)
    action, state = agent.predict(obs, deterministic=True)
    expected, expected_state = direct.predict(obs, deterministic=True)  # the same weights, so the same greedy action
    assert action == expected and np.array_equal(np.asarray(state), np.asarray(expected_state))


def test_resume_extends_a_finished_run(tmp_path):
    run_dir = train_recurrent_ppo(frames=128, run_dir=tmp_path / "r", overrides=TINY, progress=False)
    with pytest.raises(ValueError, match="already holds a run"):
        train_recurrent_ppo(frames=128, run_dir=run_dir, overrides=TINY, progress=False)
    with pytest.raises(ValueError, match="cannot be changed on --resume"):
        train_recurrent_ppo(run_dir=run_dir, resume=True, overrides={"n_epochs": 2}, progress=False)
    train_recurrent_ppo(frames=256, run_dir=run_dir, resume=True, progress=False)
    assert json.loads((run_dir / "config.json").read_text())["frames"] == 256
    assert json.loads((run_dir / "training.json").read_text())["frames_done"] == 256
    assert len(list((run_dir / "tb").iterdir())) == 1  # SB3 continues the same TensorBoard run


def test_resume_of_a_run_stopped_before_its_first_checkpoint_starts_afresh(tmp_path, capsys):
    run_dir = train_recurrent_ppo(frames=128, run_dir=tmp_path / "r", overrides=TINY, progress=False)
    (run_dir / "model.zip").unlink()  # as if killed before anything was saved: config.json only
    (run_dir / "training.json").unlink()
    (run_dir / ".model.zip.999999999.tmp.zip").write_bytes(b"PK\x03\x04 half a model")  # a killed writer's
    capsys.readouterr()
    train_recurrent_ppo(run_dir=run_dir, resume=True, progress=False)
    assert "has no checkpoint" in capsys.readouterr().err and is_finished(run_dir)
    assert not list(run_dir.glob(".*.tmp*"))


def test_bad_arguments_raise_before_writing(tmp_path):
    with pytest.raises(ValueError, match="unknown RecurrentPPO hyper-parameter 'lr'"):
        train_recurrent_ppo(frames=10, run_dir=tmp_path / "a", overrides={"lr": 1e-3})
    with pytest.raises(ValueError, match="n_steps must be an integer in \\[1, 4096\\]"):
        train_recurrent_ppo(frames=10, run_dir=tmp_path / "a", overrides={"n_steps": 0})
    with pytest.raises(ValueError, match="frames must be an integer in"):
        train_recurrent_ppo(frames=0, run_dir=tmp_path / "a")
    with pytest.raises(FileNotFoundError):
        train_recurrent_ppo(run_dir=tmp_path / "missing", resume=True)
    assert not (tmp_path / "a").exists()
    with pytest.raises(FileNotFoundError, match="run folder not found"):
        load_sb3_agent(tmp_path / "missing")


def test_corrupt_model_is_one_line_error(tmp_path, baseline_run, capsys):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(baseline_run, copy)
    (copy / "model.zip").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match=r"model.zip is not a readable RecurrentPPO model \(not a zip archive\); delete it"):
        load_sb3_agent(copy)
    good = (baseline_run / "model.zip").read_bytes()
    (copy / "model.zip").write_bytes(good[: len(good) // 2])
    with pytest.raises(ValueError, match=r"\(a damaged or truncated zip archive\)"):
        load_sb3_agent(copy)
    assert main(["eval", str(copy), "--t-max", "3", "--episodes", "2"]) == 2
    err = capsys.readouterr().err
    assert "is not a readable RecurrentPPO model" in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_config_json_records_provenance_and_resumes_keep_it(baseline_run, tmp_path):
    import shutil

    config = json.loads((baseline_run / "config.json").read_text())
    prov = config["provenance"]
    assert prov["version"] and prov["libraries"]["torch"] == torch.__version__ and prov["libraries"]["gymnasium"]
    assert prov["started"].endswith("+00:00") and "command" in prov
    copy = tmp_path / "copy"
    shutil.copytree(baseline_run, copy)
    train_recurrent_ppo(run_dir=copy, resume=True, frames=config["frames"] + 256, progress=False)
    resumed = json.loads((copy / "config.json").read_text())
    assert resumed["provenance"] == prov and len(resumed["resumes"]) == 1


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--algo", "ppo"], "invalid choice"),
        (["--frames", "0"], "--frames"),
        (["--set", "lr=0.1"], "unknown RecurrentPPO hyper-parameter"),
        (["--set", "nonsense"], "KEY=VALUE"),
        (["--env", "nope"], "unknown env preset 'nope'"),
        (["--resume"], "--resume needs the run folder"),
        (["--device", "tpu"], "--device"),
        (["--t-min", "9", "--t-max", "3"], "--t-min"),
    ],
)
def test_cli_usage_errors_exit_2(argv, message, capsys):
    assert _exit_code(["baseline", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_cli_refuses_existing_run_and_missing_sb3(tmp_path, capsys, monkeypatch, baseline_run):
    assert main(["baseline", "--frames", "128", "--out", str(baseline_run), "--no-eval", "--quiet"]) == 2
    assert "already holds a run" in capsys.readouterr().err
    monkeypatch.setitem(sys.modules, "sb3_contrib", None)  # as if the package were not installed
    assert main(["baseline", "--frames", "128", "--out", str(tmp_path / "x"), "--no-eval", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "pip install" in err and "sb3" in err and "Traceback" not in err
    assert not (tmp_path / "x").exists()


def test_cli_trains_and_evaluates(tmp_path, capsys):
    run_dir = tmp_path / "cli"
    argv = ["baseline", "--algo", "recurrent-ppo", "--frames", "128", "--seed", "1", "--out", str(run_dir),
            "--episodes", "4", "--t-min", "4", "--t-max", "6"]  # fmt: skip
    for key, value in TINY.items():
        argv += ["--set", f"{key}={value}"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "trained 128 frames" in out and "horizon_90" in out
    doc = json.loads((run_dir / "extrapolation.json").read_text())
    assert doc["agent"] == "recurrent_ppo" and [r["T"] for r in doc["results"]] == [4, 5, 6]


def _exit_code(argv: list[str]) -> int:
    """``main``'s status, also when argparse rejects a flag (it exits with SystemExit(2))."""
    try:
        return main(argv)
    except SystemExit as exc:
        return exc.code
