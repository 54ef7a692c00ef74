"""Encoders, recurrent cores, state resets and Agent.predict / load_agent."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from nalu_rl.agents import Agent, AgentConfig, load_agent
from nalu_rl.agents.checkpoint import save_checkpoint
from nalu_rl.agents.cores import CORES
from nalu_rl.agents.network import ActorCritic, AtariEncoder, CellEncoder, CellMeanEncoder, CellSumEncoder
from nalu_rl.envs.batched import TimedGridVecEnv
from nalu_rl.envs.rules import Config

GRID = {"size": 5, "t_range": [5, 12], "obs_mode": "grid"}
PIXELS = {"size": 5, "t_range": [5, 12], "obs_mode": "pixels"}


def make_net(core: str = "lstm_nac", env: dict = GRID, seed: int = 0, **hyper) -> ActorCritic:
    torch.manual_seed(seed)
    return ActorCritic(Config.from_dict(env), AgentConfig(core=core, hidden_size=16, encoder_size=16, unit_size=4, **hyper))


def batch_obs(env: dict, batch: int, seed: int = 0):
    vec = TimedGridVecEnv(num_envs=batch, **{**env, "t_range": tuple(env["t_range"])})
    obs, _ = vec.reset(seed=seed)
    return vec, obs


@pytest.mark.parametrize("core", sorted(CORES))
@pytest.mark.parametrize("env", [GRID, PIXELS], ids=["grid", "pixels"])
def test_network_shapes_for_every_core(core, env):
    net = make_net(core, env)
    _, obs = batch_obs(env, 3)
    state = net.initial_state(3)
    logits, value, next_state = net(obs["image"], obs["instruction"], state)
    assert logits.shape == (3, 5) and value.shape == (3,) and next_state.shape == state.shape == (3, net.state_size)
    assert torch.isfinite(logits).all() and torch.isfinite(value).all()


def test_the_cell_encoder_reads_each_grid_cell_at_one_position_of_its_first_layer():
    encoder = CellEncoder(size=5, out_features=8, channels=4)
    conv = encoder.net[0]
    _, obs = batch_obs(PIXELS, 1)
    image = obs["image"]

    def first_layer(img):
        return conv(img[:, encoder.crop, encoder.crop].permute(0, 3, 1, 2).float() / 255.0)[0]

    base = first_layer(image)
    assert base.shape[1:] == (5, 5)
    for row, col in [(0, 0), (2, 3), (4, 4)]:
        changed = image.clone()
        changed[0, row * 11 : (row + 1) * 11, col * 11 : (col + 1) * 11] = torch.tensor([255, 0, 0], dtype=torch.uint8)
        moved = (first_layer(changed) - base).abs().sum(0) > 0  # (5, 5): positions whose output changed
        expected = torch.zeros(5, 5, dtype=torch.bool)
        expected[row, col] = True
        assert torch.equal(moved, expected)


@pytest.mark.parametrize("size", [5, 6])  # 6: cells of 9 pixels and a 1-pixel border around them
def test_the_cell_sum_encoder_starts_as_the_cell_encoder_and_takes_the_same_adam_steps(size):
    # On the paper's frames every cell is a solid block: the cells encoder's kernel weights over a cell get equal
    # gradients, so only their sum matters; the sums encoder holds that sum (divided by cell²) and must move with it.
    env = {**PIXELS, "size": size}
    _, obs = batch_obs(env, 32, seed=3)
    nets = [make_net("lstm_nac", env, seed=7, pixel_encoder=encoder) for encoder in ("cells", "cell_sums")]
    assert isinstance(nets[1].encoder, CellSumEncoder)
    optimizers = [torch.optim.Adam(net.parameters(), lr=3e-3, eps=1e-12) for net in nets]  # ε is what they differ by

    def outputs(net):
        logits, value, _ = net(obs["image"], obs["instruction"], net.initial_state(32))
        return torch.cat([logits, value[:, None]], 1)

    start = outputs(nets[0]).detach()
    for _ in range(4):
        cells, sums = outputs(nets[0]), outputs(nets[1])
        torch.testing.assert_close(sums, cells, atol=1e-6, rtol=0)
        for out, optimizer in zip((cells, sums), optimizers):
            loss = -out[:, :5].log_softmax(1)[:, 0].mean() + out[:, 5].square().mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    assert (outputs(nets[0]) - start).abs().max() > 0.02  # they moved, and together


@pytest.mark.parametrize("size", [5, 6])
def test_the_cell_mean_encoder_starts_as_the_cell_sum_encoder_and_its_cell_layer_steps_cell_squared_times_less(size):
    # Same function at the start; but one Adam step on the per-cell weight changes that layer's output cell² times
    # less over means than over sums (the grid encoder's pace instead of 121 times it, for cells of 11 pixels).
    env = {**PIXELS, "size": size}
    _, obs = batch_obs(env, 32, seed=3)
    nets = [make_net("lstm_nac", env, seed=7, pixel_encoder=encoder) for encoder in ("cell_sums", "cell_means")]
    assert isinstance(nets[1].encoder, CellMeanEncoder)
    cell = nets[0].encoder.cell
    lo, hi = nets[0].encoder.offset, nets[0].encoder.offset + size * cell
    sums = obs["image"][:, lo:hi, lo:hi].float().unfold(1, cell, cell).unfold(2, cell, cell).sum((-1, -2))
    sums = sums.permute(0, 3, 1, 2)  # (B, RGB, N, N)

    def cell_layer(encoder):  # (B, channels, N, N) pre-activations of the per-cell layer
        return torch.nn.functional.conv2d(sums / encoder.input_scale, encoder.weight, encoder.bias).detach()

    def outputs(net):
        logits, value, _ = net(obs["image"], obs["instruction"], net.initial_state(32))
        return torch.cat([logits, value[:, None]], 1)

    torch.testing.assert_close(outputs(nets[1]), outputs(nets[0]), atol=1e-6, rtol=0)
    moved = []
    for net in nets:
        before = cell_layer(net.encoder)
        optimizer = torch.optim.Adam([net.encoder.weight], lr=1e-3, eps=1e-12)
        outputs(net)[:, :5].log_softmax(1)[:, 0].mean().backward()
        optimizer.step()
        moved.append((cell_layer(net.encoder) - before).abs().max().item())
    assert moved[0] == pytest.approx(moved[1] * cell**2, rel=1e-3)


def test_pixel_encoder_is_chosen_by_the_config():
    def net(**hyper):
        return ActorCritic(Config.from_dict(PIXELS), AgentConfig(encoder_size=16, hidden_size=16, **hyper))

    assert isinstance(net().encoder, CellEncoder)
    assert isinstance(net(pixel_encoder="cell_sums").encoder, CellSumEncoder)
    assert isinstance(net(pixel_encoder="cell_means").encoder, CellMeanEncoder)
    assert isinstance(net(pixel_encoder="atari").encoder, AtariEncoder)
    assert net().encoder.net[0].out_channels == 64 and net(pixel_channels=16).encoder.net[0].out_channels == 16
    assert net(pixel_encoder="cell_sums", pixel_channels=16).encoder.weight.shape[0] == 16
    with pytest.raises(ValueError, match="pixel_encoder must be one of"):
        AgentConfig(pixel_encoder="resnet")


def test_registry_has_the_required_cores():
    assert {"lstm", "lstm_nac", "lstm_nac_input", "lstm_nac_acc", "lstm_nau", "gru"} <= set(CORES)
    with pytest.raises(ValueError, match="unknown core 'transformer'; choose from gru, lstm, "):
        AgentConfig(core="transformer")


def test_lstm_nac_reads_t_and_h_through_the_nac_and_feeds_it_to_the_lstm_at_the_next_step():
    core = make_net("lstm_nac").core
    seen = []
    core.cell.register_forward_hook(lambda module, args, out: seen.append(args[0]))
    x, tau = torch.randn(2, 16), torch.tensor([[5.0], [20.0]])
    state = torch.randn(2, core.state_size)
    hidden = 16
    out, new = core(x, tau, state)
    # the LSTM sees [x, T, u_prev]: T directly, and the NAC's output of the previous step
    torch.testing.assert_close(seen[0], torch.cat([x, tau, state[:, 2 * hidden :]], 1))
    # u = W [T, h] with W = tanh(W_hat) * sigmoid(M_hat), no bias, no constant
    h = new[:, :hidden]
    weight = torch.tanh(core.unit.W_hat) * torch.sigmoid(core.unit.M_hat)
    torch.testing.assert_close(new[:, 2 * hidden :], torch.cat([tau, h], 1) @ weight.T)
    torch.testing.assert_close(out, h)  # the heads read h alone unless unit_to_heads
    assert make_net("lstm_nac", unit_to_heads=True).core(x, tau, state)[0].shape == (2, hidden + 4)


def test_lstm_nac_input_passes_t_alone_through_the_nac_into_the_lstm():
    core = make_net("lstm_nac_input").core
    seen = []
    core.cell.register_forward_hook(lambda module, args, out: seen.append(args[0]))
    x, tau = torch.randn(2, 16), torch.tensor([[5.0], [20.0]])
    out, new = core(x, tau, torch.zeros(2, core.state_size))
    weight = torch.tanh(core.unit.W_hat) * torch.sigmoid(core.unit.M_hat)
    torch.testing.assert_close(seen[0], torch.cat([x, tau, tau @ weight.T], 1))
    assert core.state_size == 32 and out.shape == (2, 16)


def test_unit_to_heads_needs_a_core_with_a_unit():
    with pytest.raises(ValueError, match="unit_to_heads needs a core with an arithmetic unit"):
        AgentConfig(core="lstm", unit_to_heads=True)


def test_lstm_nac_acc_feeds_the_unit_back_and_sees_its_previous_output_t_and_a_constant():
    net = make_net("lstm_nac_acc", unit_to_heads=True)
    core = net.core
    x = torch.randn(2, 16)
    tau = torch.tensor([[0.5], [0.5]])
    state = torch.randn(2, core.state_size)
    hidden, units = 16, 4
    out, new = core(x, tau, state)
    # Changing only the previous unit output changes the LSTM's output (it is an LSTM input)...
    other = state.clone()
    other[:, 2 * hidden :] += 1.0
    out2, _ = core(x, tau, other)
    assert not torch.allclose(out[:, :hidden], out2[:, :hidden])
    # ...and the unit's output is W [a_prev, h, tau, 1] with W = tanh(W_hat) * sigmoid(M_hat), where
    # each output sees its own previous value only (W's feedback block is diagonal).
    a_prev, h = state[:, 2 * hidden :], new[:, :hidden]
    weight = core.unit.weight.detach().clone()
    weight[:, :units] *= torch.eye(units)
    expected = torch.cat([a_prev, h, tau, torch.ones(2, 1)], 1) @ weight.T
    torch.testing.assert_close(new[:, 2 * hidden :], expected)
    assert out.shape == (2, hidden + units)


def test_lstm_nac_acc_stays_finite_whatever_its_weights():
    """With every unit weight at its bound the diagonal feedback still accumulates only linearly.

    A full feedback block of ones has eigenvalue 4 here: its output would grow as 4^t.
    """
    core = make_net("lstm_nac_acc").core
    with torch.no_grad():
        core.unit.W_hat.fill_(20.0)  # tanh -> 1
        core.unit.M_hat.fill_(20.0)  # sigmoid -> 1
    state = torch.zeros(1, core.state_size)
    x, tau = torch.zeros(1, 16), torch.tensor([[1.0]])
    for _ in range(100):
        _, state = core(x, tau, state)
    a = state[:, 32:]
    assert torch.isfinite(a).all() and a.abs().max() <= 100 * (16 + 2) + 1e-3


@pytest.mark.parametrize("core", ["lstm_clock", "lstm_countdown"])
def test_clock_cores_count_exactly_past_the_training_range_and_feed_the_lstm(core):
    net = make_net(core)
    clock = net.core
    seen = []
    clock.cell.register_forward_hook(lambda module, args, out: seen.append(args[0]))
    with torch.no_grad():
        clock.unit.W.fill_(1.0)  # the solution the counting loss trains towards
    tau = torch.tensor([[8.0], [40.0]])
    x = torch.randn(2, 16)  # the encoded observation; T comes apart
    state = net.initial_state(2)
    for step in range(1, 31):
        _, state = clock(x, tau, state)
        torch.testing.assert_close(clock.count(state), torch.full((2,), float(step)))
        if core == "lstm_countdown":  # the LSTM sees the time left in place of T
            torch.testing.assert_close(seen[-1][:, -4:], (tau - step).expand(2, 4))
            torch.testing.assert_close(seen[-1][:, :16], x)
        else:  # T and the clock side by side
            torch.testing.assert_close(seen[-1][:, -5:], torch.cat([tau, torch.full((2, 4), float(step))], 1))


def test_time_left_cap_keeps_what_the_countdown_lstm_reads_within_the_cap():
    # Uncapped, the LSTM of a T = 1000 episode reads a time left of hundreds, which it never saw
    # in training; capped, it reads the cap until the time left falls below it.
    config = AgentConfig(core="lstm_countdown", encoder_size=16, unit_size=4, time_left_cap=12, instruction_scale=0.5)
    net = ActorCritic(Config(obs_mode="grid"), config)
    assert net.core.time_left_cap == 6.0  # in the scaled units the core sees T in
    seen = []
    net.core.cell.register_forward_hook(lambda module, args, out: seen.append(args[0][:, -4:].clone()))
    with torch.no_grad():
        net.core.unit.W.fill_(0.5)  # one step of the clock = one step of the scaled T
    tau = torch.tensor([[500.0], [5.0]])
    state = net.initial_state(2)
    for step in range(1, 5):
        _, state = net.core(torch.zeros(2, 16), tau, state)
        torch.testing.assert_close(seen[-1][:, 0], torch.tensor([6.0, 5.0 - 0.5 * step]))
    assert AgentConfig.of_run({"core": "lstm_countdown", "unit_to_heads": False}).time_left_cap == 0  # runs before the cap


@pytest.mark.parametrize("value, message", [(-1, "integer >= 0"), (2.5, "integer >= 0"), (True, "integer >= 0")])
def test_time_left_cap_must_be_a_count_of_steps(value, message):
    with pytest.raises(ValueError, match=f"time_left_cap must be an {message}"):
        AgentConfig(core="lstm_countdown", time_left_cap=value)


def test_time_left_cap_needs_a_core_that_reads_the_time_left():
    with pytest.raises(ValueError, match="time_left_cap needs a core that reads the time left"):
        AgentConfig(core="lstm_clock", time_left_cap=12)


def test_count_coef_needs_a_clock_core():
    with pytest.raises(ValueError, match="count_coef needs a core with a clock"):
        AgentConfig(core="lstm_nac", count_coef=0.1)
    assert AgentConfig(core="lstm_countdown", count_coef=0.1).count_coef == 0.1


def test_instruction_reaches_the_core_linearly_scaled_even_outside_the_training_range():
    net = make_net("lstm_nac")
    seen = []
    net.core.register_forward_hook(lambda module, args, out: seen.append(args))
    image = torch.zeros(3, 2, 5, 5)
    instruction = torch.tensor([[5.0], [50.0], [1000.0]])
    net(image, instruction, net.initial_state(3))
    x, tau, _ = seen[0]
    torch.testing.assert_close(tau, instruction * net.instruction_scale)  # neither clipped nor squashed
    assert x.shape == (3, 16)  # the encoding alone: the core decides where T goes
    units = net.core(x, tau, net.initial_state(3))[1][:, -4:]
    assert len({tuple(u) for u in units.tolist()}) == 3  # far-apart T stay distinct in the NAC


def test_episode_start_resets_the_state():
    net = make_net("lstm")
    agent = Agent(net, {"env": GRID}, torch.device("cpu"))
    _, obs = batch_obs(GRID, 4)
    _, state = agent.predict(obs, deterministic=True)
    _, state = agent.predict(obs, state, deterministic=True)
    start = torch.tensor([True, False, True, False])
    fresh_actions, fresh_state = agent.predict(obs, None, deterministic=True)
    _, mixed = agent.predict(obs, state, episode_start=start, deterministic=True)
    torch.testing.assert_close(mixed[start], fresh_state[start])
    assert not torch.allclose(mixed[~start], fresh_state[~start])


def test_predict_single_numpy_observation_and_batches():
    net = make_net("lstm_nac")
    agent = Agent(net, {"env": GRID}, torch.device("cpu"))
    vec, obs = batch_obs(GRID, 5)
    single = {k: v[0].numpy() for k, v in obs.items()}
    action, state = agent.predict(single, deterministic=True)
    assert isinstance(action, np.integer) and 0 <= action < 5
    assert isinstance(state, np.ndarray) and state.shape == (1, agent.network.state_size)
    action2, _ = agent.predict(single, state, episode_start=np.array([False]), deterministic=True)
    assert isinstance(action2, np.integer)

    actions_np, state_np = agent.predict({k: v.numpy() for k, v in obs.items()}, deterministic=True)
    assert actions_np.shape == (5,) and state_np.shape == (5, agent.network.state_size)
    actions_t, state_t = agent.predict(obs, deterministic=True)
    assert isinstance(actions_t, torch.Tensor) and actions_t.shape == (5,)
    np.testing.assert_array_equal(actions_t.numpy(), actions_np)
    assert int(actions_np[0]) == int(action)
    state_t.zero_()  # ordinary tensors, not inference tensors: callers may modify them
    vec.step(actions_t)
    with pytest.raises(ValueError, match="state must have shape"):
        agent.predict(obs, torch.zeros(2, 3))


def _write_run(tmp_path, net: ActorCritic, core: str = "lstm_nac", env: dict = GRID, agent_config: dict | None = None):
    if agent_config is None:
        agent_config = AgentConfig(core=core, hidden_size=16, encoder_size=16, unit_size=4).to_dict()
    config = {
        "agent": core, "core": core, "agent_config": agent_config,
        "env_preset": "fast", "env": env, "seed": 0, "frames": 0, "mode": "sync", "workers": 1,
        "envs_per_worker": 1, "device": "cpu", "version": "0",
    }  # fmt: skip
    (tmp_path / "config.json").write_text(json.dumps(config))
    save_checkpoint(tmp_path / "checkpoints" / "latest.pt", model=net.state_dict(), optimizer={}, frames=0, updates=0, rng={})


def test_load_agent_round_trip_and_errors(tmp_path):
    net = make_net("lstm_nac")
    _write_run(tmp_path, net)
    agent = load_agent(tmp_path)
    for name, tensor in net.state_dict().items():
        torch.testing.assert_close(agent.network.state_dict()[name], tensor)
    assert agent.config["agent"] == "lstm_nac"

    with pytest.raises(FileNotFoundError, match="run folder not found"):
        load_agent(tmp_path / "missing")
    with pytest.raises(ValueError, match="device"):
        load_agent(tmp_path, device="tpu")
    (tmp_path / "checkpoints" / "latest.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match=r"is not a nalu-rl checkpoint \(not a PyTorch file\)"):
        load_agent(tmp_path)
    (tmp_path / "checkpoints" / "latest.pt").unlink()
    with pytest.raises(FileNotFoundError, match="has no checkpoint yet"):
        load_agent(tmp_path)


def test_an_lstm_nac_run_of_0_2_0_loads_as_the_accumulator_with_the_unit_at_the_heads(tmp_path):
    net = make_net("lstm_nac_acc", unit_to_heads=True)
    net_config = AgentConfig(core="lstm_nac_acc", hidden_size=16, encoder_size=16, unit_size=4).to_dict()
    old = {**net_config, "core": "lstm_nac"}
    del old["unit_to_heads"]  # what nalu-rl 0.2.0 wrote
    _write_run(tmp_path, net, "lstm_nac", GRID, old)
    agent = load_agent(tmp_path)
    assert type(agent.network.core).__name__ == "LSTMNACAccumulatorCore" and agent.network.core.unit_to_heads
    for name, tensor in net.state_dict().items():
        torch.testing.assert_close(agent.network.state_dict()[name], tensor)


def test_a_pixel_run_saved_before_pixel_encoder_existed_loads_with_the_atari_encoder(tmp_path):
    torch.manual_seed(0)
    config = AgentConfig(core="lstm", hidden_size=16, encoder_size=16, pixel_encoder="atari")
    net = ActorCritic(Config.from_dict(PIXELS), config)
    old = config.to_dict()
    del old["pixel_encoder"]  # what nalu-rl 0.1.0 wrote
    _write_run(tmp_path, net, "lstm", PIXELS, old)
    agent = load_agent(tmp_path)
    assert isinstance(agent.network.encoder, AtariEncoder)
    for name, tensor in net.state_dict().items():
        torch.testing.assert_close(agent.network.state_dict()[name], tensor)
