"""Every shipped preset trains: each agent preset on the default environment, ``lstm`` on every environment preset.

Presets are discovered, so a new ``agents/*.toml`` or ``envs/*.toml`` is covered without editing
this file. Not the full cross product: the agents differ in their networks, the environments in
their rules and observations, and one pairing of each is what catches a preset that does not load,
build or train.
"""

from __future__ import annotations

import json
import math

import gymnasium as gym
import pytest
import torch

from nalu_rl import presets
from nalu_rl.agents import load_agent, train
from nalu_rl.agents.config import load_preset
from nalu_rl.envs import DEFAULT_PRESET, ENV_ID, env_kwargs_from_preset

FRAMES = 256  # two updates of 16 steps × 8 environments: a few seconds, pixel environments included
ENVS = 8
CHEAP_AGENT = "lstm"

PAIRS = [(agent, DEFAULT_PRESET) for agent in presets.available("agents")] + [
    (CHEAP_AGENT, env) for env in presets.available("envs") if env != DEFAULT_PRESET
]


def test_the_pairs_cover_every_shipped_preset():
    assert {agent for agent, _ in PAIRS} == set(presets.available("agents"))
    assert {env for _, env in PAIRS} == set(presets.available("envs"))
    assert DEFAULT_PRESET in presets.available("envs") and CHEAP_AGENT in presets.available("agents")


@pytest.mark.parametrize(("agent", "env"), PAIRS, ids=[f"{a}-{e}" for a, e in PAIRS])
def test_a_shipped_preset_trains_saves_and_acts(tmp_path, agent, env):
    run_dir = train(agent=agent, env=env, frames=FRAMES, run_dir=tmp_path / "run", mode="sync", workers=1,
                    envs_per_worker=ENVS, progress=False)  # fmt: skip

    # config.json records the rules the run trained under: the env preset's, the agent preset's
    # (with its [pixels] table where the environment has pixels).
    config = json.loads((run_dir / "config.json").read_text())
    _, env_kwargs = env_kwargs_from_preset(env)
    _, agent_table = presets.load("agents", agent)
    _, agent_config, _ = load_preset(agent, env=env)
    assert (config["agent"], config["env_preset"]) == (agent, env)
    assert config["env"] == env_kwargs
    assert config["core"] == config["agent_config"]["core"] == agent_table["core"]
    assert config["agent_config"] == agent_config.to_dict()
    assert (config["frames"], config["mode"], config["workers"], config["envs_per_worker"]) == (FRAMES, "sync", 1, ENVS)

    # The checkpoint holds the requested frames (whole rollouts), as many updates, finite weights.
    checkpoint = torch.load(run_dir / "checkpoints" / "latest.pt", weights_only=True)
    per_update = agent_config.n_steps * ENVS
    assert FRAMES <= checkpoint["frames"] < FRAMES + per_update
    assert checkpoint["updates"] == checkpoint["frames"] // per_update
    weights = [t for t in checkpoint["model"].values() if t.is_floating_point()]
    assert weights and all(bool(torch.isfinite(t).all()) for t in weights)

    # The loaded agent holds those weights and plays a whole episode of the preset's environment.
    loaded = load_agent(run_dir)
    for name, tensor in loaded.network.state_dict().items():
        assert torch.equal(tensor, checkpoint["model"][name]), name
    play = gym.make(ENV_ID, **{**env_kwargs, "t_range": tuple(env_kwargs["t_range"])})
    obs, _ = play.reset(seed=0)
    state, steps, done = None, 0, False
    while not done:
        action, state = loaded.predict(obs, state, deterministic=True)
        assert play.action_space.contains(int(action))
        assert state.shape == (1, loaded.network.state_size) and all(math.isfinite(v) for v in state.ravel())
        obs, _, terminated, truncated, _ = play.step(int(action))
        steps, done = steps + 1, terminated or truncated
    assert 1 <= steps <= (env_kwargs["time_limit"] or env_kwargs["t_range"][1] + 2 * env_kwargs["size"])


def test_train_help_names_every_shipped_preset(capsys):
    from nalu_rl.cli import main

    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for name in presets.available("agents") + presets.available("envs"):
        assert name in text, name
