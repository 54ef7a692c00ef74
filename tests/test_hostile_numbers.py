"""Numbers that are not numbers: hyper-parameters are finite and bounded, and a run that goes non-finite keeps its last good checkpoint."""

from __future__ import annotations

import pytest
import torch

from nalu_rl import runs
from nalu_rl.agents.checkpoint import load_checkpoint, non_finite
from nalu_rl.agents.trainer import train
from nalu_rl.cli import main

SMALL = dict(agent="lstm", env="fast", mode="sync", workers=1, envs_per_worker=8, overrides={"n_steps": 16})


@pytest.mark.parametrize(
    "setting, name",
    [("lr=inf", "lr"), ("lr=nan", "lr"), ("entropy_coef=1e9", "entropy_coef"), ("max_grad_norm=-inf", "max_grad_norm"),
     ("n_steps=1000000000", "n_steps"), ("hidden_size=1e9", "hidden_size"), ('gamma="0.9"', "gamma"),
     ("adam_beta1=1", "adam_beta1")],
)  # fmt: skip
def test_train_refuses_numbers_that_are_not_numbers(tmp_path, capsys, monkeypatch, setting, name):
    monkeypatch.chdir(tmp_path)
    assert main(["train", "--agent", "lstm", "--set", setting]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"{name} must be" in err and "Traceback" not in err
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("beta1", [0, 0.5])  # 0 as --set parses it: an integer, which Adam refuses unless converted
def test_adams_momentum_is_the_configured_one(beta1):
    from nalu_rl.agents.config import AgentConfig
    from nalu_rl.agents.update import make_optimizer

    optimizer = make_optimizer([torch.nn.Parameter(torch.zeros(2))], AgentConfig(adam_beta1=beta1))
    assert optimizer.param_groups[0]["betas"] == (beta1, 0.999)


@pytest.mark.parametrize("setting", ["lr=inf", "n_envs=1000000000", "ent_coef=1e12"])
def test_the_peer_refuses_them_too(tmp_path, capsys, setting):
    pytest.importorskip("sb3_contrib")
    assert main(["baseline", "--frames", "1000", "--out", str(tmp_path / "p"), "--set", setting]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and setting.split("=")[0] in err
    assert not (tmp_path / "p").exists()


def test_training_that_goes_non_finite_stops_and_keeps_the_last_good_checkpoint(tmp_path, monkeypatch):
    from nalu_rl.agents import update as update_module

    calls = {"n": 0}
    real = update_module.update

    def poisoned(collector, optimizer, lr, shared=None):
        real(collector, optimizer, lr, shared)
        calls["n"] += 1
        if calls["n"] == 40:  # the weights blow up between two checkpoints
            with torch.no_grad():
                next(collector.net.parameters()).fill_(float("nan"))

    import nalu_rl.agents.sync_trainer as sync_trainer

    monkeypatch.setattr(sync_trainer, "update", poisoned)
    run_dir = tmp_path / "run"
    with pytest.raises(FloatingPointError, match="non-finite"):
        train(**SMALL, frames=12_800, run_dir=run_dir, eval_every=1_000, progress=False)
    kept = load_checkpoint(runs.latest_checkpoint(run_dir))
    assert non_finite(kept["model"]) is None and 0 < kept["frames"] < 40 * 128
    assert non_finite(load_checkpoint(runs.best_checkpoint(run_dir))["model"]) is None


def test_eval_refuses_a_checkpoint_with_non_finite_weights(tmp_path, capsys):
    from nalu_rl.agents.checkpoint import save_checkpoint

    run_dir = train(**SMALL, frames=256, run_dir=tmp_path / "run", progress=False)
    ckpt = load_checkpoint(runs.latest_checkpoint(run_dir))
    name = next(iter(ckpt["model"]))
    ckpt["model"][name] = torch.full_like(ckpt["model"][name], float("nan"))
    save_checkpoint(runs.latest_checkpoint(run_dir), **{k: ckpt[k] for k in ("model", "optimizer", "frames", "updates", "rng")})
    assert main(["eval", str(run_dir), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "non-finite weights" in err and name in err
