"""The n-step actor-critic objective against hand-computed values."""

from __future__ import annotations

import pytest
import torch

from nalu_rl.agents.a2c import a2c_loss, counting_loss, lambda_returns

T, F = True, False


def test_lambda_returns_with_lambda_1_are_the_n_step_returns_by_hand():
    gamma = 0.9
    # Three steps of three environments:
    #   env 0: rewards 0, 0, 1, no episode end: bootstraps from the value after the rollout (2.0).
    #   env 1: terminated at step 1 (reward -1), a new episode follows: its return stops there.
    #   env 2: truncated at step 0 (final value 0.5), then a new episode that runs on.
    rewards = torch.tensor([[0.0, 0.0, -1.0], [0.0, -1.0, 0.0], [1.0, 0.0, 0.0]])
    terminated = torch.tensor([[F, F, F], [F, T, F], [F, F, F]])
    truncated = torch.tensor([[F, F, T], [F, F, F], [F, F, F]])
    final_values = torch.tensor([[0.0, 0.0, 0.5], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    bootstrap = torch.tensor([2.0, 3.0, 4.0])

    returns = lambda_returns(rewards, terminated, truncated, final_values, bootstrap, gamma)

    # env 0: R2 = 1 + .9*2 = 2.8; R1 = 0 + .9*2.8 = 2.52; R0 = .9*2.52 = 2.268
    # env 1: R2 = 0 + .9*3 = 2.7; R1 = -1 (terminated); R0 = 0 + .9*(-1) = -0.9
    # env 2: R2 = .9*4 = 3.6; R1 = .9*3.6 = 3.24; R0 = -1 + .9*0.5 = -0.55 (bootstraps from the final value)
    expected = torch.tensor([[2.268, -0.9, -0.55], [2.52, -1.0, 3.24], [2.8, 2.7, 3.6]])
    torch.testing.assert_close(returns, expected)


def test_termination_ignores_the_bootstrap_and_truncation_uses_the_final_value():
    rewards = torch.tensor([[-1.0, -1.0]])
    returns = lambda_returns(
        rewards, torch.tensor([[T, F]]), torch.tensor([[F, T]]), torch.tensor([[7.0, 7.0]]), torch.tensor([100.0, 100.0]), 0.5
    )
    torch.testing.assert_close(returns, torch.tensor([[-1.0, -1.0 + 0.5 * 7.0]]))


def test_lambda_returns_match_hand_computation():
    gamma, lam = 0.9, 0.5
    # One environment, three steps, no episode end; the critic's values V0..V2, then bootstrap V3 = 2.
    rewards = torch.tensor([[0.0], [0.0], [1.0]])
    no = torch.zeros(3, 1, dtype=torch.bool)
    values = torch.tensor([[1.0], [3.0], [5.0]])
    returns = lambda_returns(rewards, no, no, torch.zeros(3, 1), torch.tensor([2.0]), gamma, values, lam)
    # R2 = 1 + .9*2 = 2.8
    # R1 = 0 + .9*(.5*V2 + .5*R2) = .9*(2.5 + 1.4) = 3.51
    # R0 = 0 + .9*(.5*V1 + .5*R1) = .9*(1.5 + 1.755) = 2.9295
    torch.testing.assert_close(returns, torch.tensor([[2.9295], [3.51], [2.8]]))
    # λ = 0: one-step TD targets r_t + γ V_{t+1}; λ = 1: the n-step returns whatever the values
    td = lambda_returns(rewards, no, no, torch.zeros(3, 1), torch.tensor([2.0]), gamma, values, 0.0)
    torch.testing.assert_close(td, torch.tensor([[0.9 * 3.0], [0.9 * 5.0], [2.8]]))
    n_step = lambda_returns(rewards, no, no, torch.zeros(3, 1), torch.tensor([2.0]), gamma, values, 1.0)
    torch.testing.assert_close(n_step, lambda_returns(rewards, no, no, torch.zeros(3, 1), torch.tensor([2.0]), gamma))
    with pytest.raises(ValueError, match="values"):
        lambda_returns(rewards, no, no, torch.zeros(3, 1), torch.tensor([2.0]), gamma, lam=0.5)


def test_a2c_loss_parts_and_gradients():
    log_probs = torch.tensor([[-1.0, -2.0]], requires_grad=True)
    entropies = torch.tensor([[1.5, 0.5]], requires_grad=True)
    values = torch.tensor([[0.5, -1.0]], requires_grad=True)
    returns = torch.tensor([[1.5, -2.0]])
    loss, parts = a2c_loss(log_probs, entropies, values, returns, value_coef=0.5, entropy_coef=0.01)

    advantages = torch.tensor([1.0, -1.0])
    assert parts["policy_loss"].item() == pytest.approx(-((-1.0 * 1.0) + (-2.0 * -1.0)) / 2)
    assert parts["value_loss"].item() == pytest.approx(0.5 * (1.0 + 1.0) / 2)
    assert parts["entropy"].item() == pytest.approx(1.0)
    assert loss.item() == pytest.approx(-0.5 + 0.5 * 0.5 - 0.01 * 1.0)

    loss.backward()
    # Gradient descent raises the log-probability of the action with a positive advantage and
    # lowers the other: d loss / d log_prob = -advantage / N.
    torch.testing.assert_close(log_probs.grad, -advantages[None] / 2)
    # The critic learns from the value term only (the advantage is a constant in the policy term).
    torch.testing.assert_close(values.grad, 0.5 * (values - returns).detach() / 2)
    torch.testing.assert_close(entropies.grad, torch.full((1, 2), -0.01 / 2))


def test_counting_loss_is_the_mean_squared_error_against_the_steps_taken():
    counts = torch.tensor([[1.0, 2.5], [2.0, 0.0]], requires_grad=True)
    t = torch.tensor([[1, 2], [2, 1]])
    loss = counting_loss(counts, t)
    assert loss.item() == pytest.approx((0.0 + 0.25 + 0.0 + 1.0) / 4)
    loss.backward()
    torch.testing.assert_close(counts.grad, torch.tensor([[0.0, 0.25], [0.0, -0.5]]))


def test_explained_variance_is_sb3s():
    from nalu_rl.agents.a2c import explained_variance

    returns = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert explained_variance(returns, returns).item() == 1.0  # a perfect critic
    assert explained_variance(torch.full_like(returns, 2.5), returns).item() == 0.0  # a constant one
    noisy = returns + torch.tensor([[0.5, -0.5], [-0.5, 0.5]])
    expected = 1 - torch.var(returns - noisy) / torch.var(returns)
    torch.testing.assert_close(explained_variance(noisy, returns), expected)
    assert explained_variance(returns, torch.ones_like(returns)).item() == 0.0  # returns that do not vary
