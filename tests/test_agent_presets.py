"""Agent presets: the [run] defaults, the [pixels] table applied by observation mode and the [async] table by training mode."""

from __future__ import annotations

import json

import pytest

from nalu_rl import presets
from nalu_rl.agents import train
from nalu_rl.agents.config import RUN_KEYS, AgentConfig, load_preset
from nalu_rl.agents.planning import prepare
from nalu_rl.envs import DEFAULT_PRESET

PRESET = """
core = "lstm"
gae_lambda = 0.95
n_steps = 16

[run]
env = "fast"
frames = 1000

[pixels]
gae_lambda = 1.0
n_steps = 4
frames = 2000
"""


@pytest.fixture
def preset(tmp_path):
    path = tmp_path / "agent.toml"
    path.write_text(PRESET)
    return str(path)


def test_the_pixels_table_applies_to_pixel_environments_only(preset):
    _, grid, grid_run = load_preset(preset)  # the preset's own env: fast (grid)
    assert (grid.gae_lambda, grid.n_steps, grid_run["frames"]) == (0.95, 16, 1000)
    _, pixels, pixel_run = load_preset(preset, env="paper")
    assert (pixels.gae_lambda, pixels.n_steps, pixel_run["frames"]) == (1.0, 4, 2000)
    assert pixel_run["env"] == "fast"  # the [run] default is kept; the caller's env wins where given
    _, by_override, _ = load_preset(preset, {"env": "paper"})
    assert by_override == pixels


def test_overrides_win_over_the_pixels_table(preset):
    _, config, run = load_preset(preset, {"gae_lambda": 0.5, "frames": 300}, env="paper")
    assert (config.gae_lambda, config.n_steps, run["frames"]) == (0.5, 4, 300)


def test_a_bad_pixels_table_is_refused_whatever_the_environment(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('core = "lstm"\n[pixels]\ngae_lambda = 2.0\n')
    with pytest.raises(presets.PresetError, match="gae_lambda must be a finite number in"):
        load_preset(str(bad), env="fast")
    bad.write_text('core = "lstm"\n[pixels]\nenv = "paper"\n')
    with pytest.raises(presets.PresetError, match=r"\[pixels\] cannot set env"):
        load_preset(str(bad))


ASYNC_PRESET = """
core = "lstm"
lr = 3e-3

[run]
mode = "sync"
frames = 1000

[pixels]
lr = 2e-3
n_steps = 4

[async]
optimizer = "rmsprop"
lr = 1e-3
"""


def test_the_async_table_applies_to_async_runs_only(tmp_path):
    path = tmp_path / "agent.toml"
    path.write_text(ASYNC_PRESET)
    sync = load_preset(str(path))[1]
    assert (sync.optimizer, sync.lr) == ("adam", 3e-3)
    for asked in (dict(mode="async"), dict(overrides={"mode": "async"})):
        config = load_preset(str(path), **asked)[1]
        assert (config.optimizer, config.lr) == ("rmsprop", 1e-3)
    on_pixels = load_preset(str(path), env="paper", mode="async")[1]
    assert (on_pixels.lr, on_pixels.n_steps) == (1e-3, 4)  # [async] wins over [pixels]; the rest of [pixels] stays
    assert load_preset(str(path), {"lr": 5e-4}, mode="async")[1].lr == 5e-4  # overrides win over both
    plan = prepare(agent=str(path), env="fast", mode="async", workers=2, envs_per_worker=8, run_dir=tmp_path / "run")
    assert AgentConfig.from_dict(plan.config.agent_config).optimizer == "rmsprop"  # what the run records and trains with


def test_a_bad_async_table_is_refused_whatever_the_mode(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('core = "lstm"\n[run]\nmode = "sync"\n[async]\noptimizer = "sgd"\n')
    with pytest.raises(presets.PresetError, match="optimizer must be one of"):
        load_preset(str(bad))
    bad.write_text('core = "lstm"\n[async]\nmode = "sync"\n')
    with pytest.raises(presets.PresetError, match=r"\[async\] cannot set mode"):
        load_preset(str(bad))


@pytest.mark.parametrize("agent", ["lstm", "lstm_nac"])
def test_the_paper_agents_have_their_own_pixel_settings(agent):
    _, grid, grid_run = load_preset(agent, env="fast")
    _, pixels, pixel_run = load_preset(agent, env="paper")
    assert pixels.gae_lambda == 1.0 and grid.gae_lambda < 1.0
    assert pixel_run["frames"] >= grid_run["frames"]


@pytest.mark.parametrize("agent", presets.available("agents"))
def test_every_shipped_agent_applies_its_pixels_and_async_tables_where_they_belong(agent):
    _, table = presets.load("agents", agent)
    pixels_table = table.get("pixels", {})
    assert "env" not in table.get("run", {})  # the shipped agents train on the default environment preset
    assert load_preset(agent) == load_preset(agent, env=DEFAULT_PRESET)
    _, grid, grid_run = load_preset(agent, env="fast")
    _, pixels, pixel_run = load_preset(agent, env="paper")
    for key, value in pixels_table.items():
        assert (pixel_run[key] if key in RUN_KEYS else getattr(pixels, key)) == value, key
    for key in set(table) - {"run", "pixels", "async", "display"}:
        assert getattr(grid, key) == table[key], key
        if key not in pixels_table:
            assert getattr(pixels, key) == table[key], key
    assert grid_run == table["run"]
    assert pixel_run == {**table["run"], **{k: v for k, v in pixels_table.items() if k in RUN_KEYS}}
    _, async_grid, _ = load_preset(agent, env="fast", mode="async")
    for key, value in table.get("async", {}).items():
        assert getattr(async_grid, key) == value != getattr(grid, key), key


def test_a_pixel_run_records_the_settings_it_trained_with(tmp_path, preset):
    run_dir = train(agent=preset, env="paper", frames=64, run_dir=tmp_path / "run", mode="sync", envs_per_worker=4,
                    progress=False)  # fmt: skip
    config = json.loads((run_dir / "config.json").read_text())
    assert config["env"]["obs_mode"] == "pixels"
    assert config["agent_config"]["gae_lambda"] == 1.0 and config["agent_config"]["n_steps"] == 4
    assert config["agent_config"]["pixel_encoder"] == "cells"
