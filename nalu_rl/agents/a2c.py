"""The advantage actor-critic objective (Mnih et al., 2016), written out: returns, loss, counting loss.

Tensors are time-major: (n, B) for n steps of B environments.
"""

from __future__ import annotations

import torch


def lambda_returns(
    rewards: torch.Tensor,
    terminated: torch.Tensor,
    truncated: torch.Tensor,
    final_values: torch.Tensor,
    bootstrap: torch.Tensor,
    gamma: float,
    values: torch.Tensor | None = None,
    lam: float = 1.0,
) -> torch.Tensor:
    """λ-returns R_t = r_t + γ·(value of what follows step t), backwards in time.

    What follows step t is: nothing when the episode terminated at t (the task is over);
    ``final_values[t]``, the critic's value of the final observation, when it was truncated
    at t (the time limit cut it short, the task was not over); otherwise (1 − λ)·V_{t+1} +
    λ·R_{t+1}, and after the last step ``bootstrap``, the value of the observation the next
    rollout starts from.

    ``lam`` = 1 (the default, no ``values`` needed) gives the n-step returns of A3C exactly.
    With ``lam`` < 1 and the critic's ``values`` of each step, R_t − V_t is the generalised
    advantage estimate GAE(γ, λ) (Schulman et al., 2016), which trades the n-step return's
    variance for the critic's bias.
    """
    if lam < 1.0 and values is None:
        raise ValueError("λ-returns (lam < 1) need the critic's values")
    returns = torch.empty_like(rewards)
    following = bootstrap
    for t in reversed(range(rewards.shape[0])):
        following = torch.where(truncated[t], final_values[t], following)
        following = torch.where(terminated[t], torch.zeros_like(following), following)
        returns[t] = rewards[t] + gamma * following
        following = returns[t] if lam == 1.0 else (1.0 - lam) * values[t] + lam * returns[t]
    return returns


def a2c_loss(
    log_probs: torch.Tensor,
    entropies: torch.Tensor,
    values: torch.Tensor,
    returns: torch.Tensor,
    value_coef: float,
    entropy_coef: float,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """``(loss, parts)``: policy gradient with the advantage R - V, value regression, entropy bonus.

    ``log_probs`` are of the actions taken; the advantage is held constant in the policy term,
    so the critic learns only from the value term.
    """
    advantages = (returns - values).detach()
    policy_loss = -(log_probs * advantages).mean()
    value_loss = 0.5 * (returns - values).pow(2).mean()
    entropy = entropies.mean()
    loss = policy_loss + value_coef * value_loss - entropy_coef * entropy
    return loss, {"policy_loss": policy_loss.detach(), "value_loss": value_loss.detach(), "entropy": entropy.detach()}


def counting_loss(counts: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Mean squared error of a clock's counts against the steps taken, over (n, B) steps.

    An auxiliary, self-supervised task: an agent always knows how many steps it has taken
    since its episode began, so it may be trained to count them. ``t`` is the env's step
    count after each step (times the instruction scale), the count the clock should hold once
    it has ticked for that step.
    """
    return (counts - t).pow(2).mean()


def explained_variance(values: torch.Tensor, returns: torch.Tensor) -> torch.Tensor:
    """1 − Var(R − V) / Var(R), as Stable-Baselines3 logs it: 1 for a perfect critic, ≤ 0 for one no better than a constant.

    0 when the returns do not vary (SB3 gives NaN there, which would poison the running sums).
    """
    var_returns = returns.var()
    ratio = (returns - values).var() / var_returns.clamp_min(torch.finfo(returns.dtype).tiny)
    return torch.where(var_returns > 0, 1.0 - ratio, torch.zeros_like(var_returns))
