"""One batch of environments stepped by one network: rollouts, their A2C loss, and episode statistics.

Both training modes are built from this: the synchronous trainer owns one
:class:`RolloutCollector` over a large batch, and every asynchronous worker owns one over its
own batch. The collector computes the loss; the optimiser step is the trainer's.
"""

from __future__ import annotations

import numpy as np
import torch

from nalu_rl.agents.a2c import a2c_loss, counting_loss, explained_variance, lambda_returns
from nalu_rl.agents.config import AgentConfig
from nalu_rl.agents.network import ActorCritic
from nalu_rl.envs.batched import TimedGridVecEnv
from nalu_rl.envs.rules import Config as EnvConfig
from nalu_rl.nn import regularization_loss

# Order of the running sums in RolloutStats.sums.
SUM_KEYS = (
    "episodes", "return", "length", "successes",
    "policy_loss", "value_loss", "entropy", "count_loss", "grad_norm", "explained_variance",
)  # fmt: skip


class RolloutStats:
    """Running sums of episode outcomes and losses, kept on the device and read in one transfer."""

    def __init__(self, batch: int, t_hi: int, device: torch.device) -> None:
        self.sums = torch.zeros(len(SUM_KEYS), device=device)
        self.per_t = torch.zeros(2, t_hi + 1, device=device)  # [episodes, successes] per instruction T
        self.episode_return = torch.zeros(batch, device=device)  # of the episodes under way
        self.updates = 0

    def record_rollout(
        self, rewards: torch.Tensor, done: torch.Tensor, t: torch.Tensor, success: torch.Tensor, instruction: torch.Tensor
    ) -> None:
        """Add the episodes that ended in a rollout ((n, B) tensors of rewards, ends and the env's infos)."""
        ended = done.float()
        ended_return = torch.empty_like(rewards)
        running = self.episode_return
        for k in range(rewards.shape[0]):
            running = running + rewards[k]
            ended_return[k] = running * ended[k]
            running = running * (1.0 - ended[k])
        self.episode_return = running
        won = success.float() * ended
        self.sums[:4] += torch.stack([ended.sum(), ended_return.sum(), (t * ended).sum(), won.sum()])
        self.per_t.index_add_(1, instruction.flatten(), torch.stack([ended.flatten(), won.flatten()]))

    def record_update(self, parts: dict[str, torch.Tensor], grad_norm: torch.Tensor) -> None:
        count_loss = parts.get("count_loss", torch.zeros_like(grad_norm))
        self.sums[4:] += torch.stack([
            parts["policy_loss"], parts["value_loss"], parts["entropy"], count_loss, grad_norm, parts["explained_variance"]
        ])  # fmt: skip
        self.updates += 1

    def pop(self) -> dict:
        """The sums since the last call, as Python numbers (one device transfer), and reset."""
        sums, per_t = self.sums.tolist(), self.per_t.tolist()
        out = dict(zip(SUM_KEYS, sums))
        out["episodes_per_t"], out["successes_per_t"], out["updates"] = per_t[0], per_t[1], self.updates
        self.sums.zero_()
        self.per_t.zero_()
        self.updates = 0
        return out


class RolloutCollector:
    """Runs n-step rollouts of ``net`` in ``env`` and returns their loss, carrying the recurrent state across."""

    def __init__(self, net: ActorCritic, env: TimedGridVecEnv, config: AgentConfig, seed: int) -> None:
        self.net, self.env, self.config = net, env, config
        device, batch = env.device, env.num_envs
        self.obs, _ = env.reset(seed=seed)
        self.state = net.initial_state(batch, device)
        # The env reuses its observation buffer (copy=False); the graph of a rollout keeps the
        # encoder inputs for the backward pass, so each step's observation is copied here
        # (separate tensors: views of one tensor would share autograd's version counter).
        self.images = [torch.empty_like(self.obs["image"]) for _ in range(config.n_steps)]
        self.stats = RolloutStats(batch, env.cfg.t_range[1], device)

    def rollout(self) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Step every environment ``n_steps`` times; ``(loss, loss parts)`` of those steps.

        Back-propagation runs through the rollout only (truncated BPTT): it starts from the
        state carried over from the previous rollout, detached. Only what needs the step
        order runs in the loop; the rest is done on the stacked (n, B) tensors afterwards.
        """
        cfg, net, env = self.config, self.net, self.env
        state = self.state.detach()
        obs = self.obs
        log_policies, values, actions, rewards, terminated, truncated = ([] for _ in range(6))
        lengths, successes, instructions, cut, counts = [], [], [], [], []
        for t in range(cfg.n_steps):
            image = self.images[t].copy_(obs["image"])
            logits, value, state = net(image, obs["instruction"], state)
            if cfg.count_coef > 0:
                counts.append(net.core.count(state))
            log_policy = torch.log_softmax(logits, dim=1)
            action = sample(log_policy.detach().exp())
            obs, reward, term, trunc, info = env.step(action)
            rows = trunc.nonzero().squeeze(1)
            if len(rows):  # keep what the truncation bootstrap needs; the env reuses its buffers
                final = info["final_obs"]
                cut.append((t, rows, final["image"][rows], final["instruction"][rows], state[rows].detach()))
            state = state * (~(term | trunc)).unsqueeze(1)  # a new episode starts from the zero state

            log_policies.append(log_policy)
            values.append(value)
            actions.append(action)
            rewards.append(reward)
            terminated.append(term)
            truncated.append(trunc)
            lengths.append(info["t"])
            successes.append(info["success"])
            instructions.append(info["instruction"])

        rewards, terminated, truncated = torch.stack(rewards), torch.stack(terminated), torch.stack(truncated)
        with torch.no_grad():
            bootstrap = net(obs["image"], obs["instruction"], state)[1]
            final_values = self._truncation_values(cut, rewards.shape)
        values = torch.stack(values)
        returns = lambda_returns(
            rewards, terminated, truncated, final_values, bootstrap, cfg.gamma, values.detach(), cfg.gae_lambda
        )
        log_policy = torch.stack(log_policies)  # (n, B, actions)
        log_probs = log_policy.gather(2, torch.stack(actions).unsqueeze(2)).squeeze(2)
        entropies = -(log_policy.exp() * log_policy).sum(2)
        loss, parts = a2c_loss(log_probs, entropies, values, returns, cfg.value_coef, cfg.entropy_coef)
        parts["explained_variance"] = explained_variance(values.detach(), returns)
        if cfg.count_coef > 0:
            # the clock counts in the units of the scaled instruction it is compared with
            count_loss = counting_loss(torch.stack(counts), torch.stack(lengths) * cfg.instruction_scale)
            loss = loss + cfg.count_coef * count_loss
            parts["count_loss"] = count_loss.detach()
        if cfg.unit_reg_coef > 0:
            loss = loss + cfg.unit_reg_coef * regularization_loss(net)
        self.stats.record_rollout(
            rewards, terminated | truncated, torch.stack(lengths), torch.stack(successes), torch.stack(instructions)
        )
        self.obs, self.state = obs, state.detach()
        return loss, parts

    def _truncation_values(self, cut: list, shape: torch.Size) -> torch.Tensor:
        """The critic's values of the final observations of truncated episodes, (n, B), 0 elsewhere.

        A truncated episode was cut short, so its return continues past the last step: one
        more step of the core on the final observation, from the state that led to it, gives
        the value to bootstrap from. All truncated rows of the rollout go through at once.
        """
        values = torch.zeros(shape, device=self.state.device)
        if cut:
            steps = torch.cat([torch.full_like(rows, t) for t, rows, *_ in cut])
            rows, images, instructions, states = (torch.cat(parts) for parts in list(zip(*cut))[1:])
            values[steps, rows] = self.net(images, instructions, states)[1]
        return values


def sample(probs: torch.Tensor) -> torch.Tensor:
    """One action per row of (B, A) probabilities, by inverse CDF (several times faster than multinomial here)."""
    u = torch.rand(probs.shape[0], 1, device=probs.device)
    return (probs.cumsum(1)[:, :-1] < u).sum(1)


def make_env(env: EnvConfig, num_envs: int, device: str | torch.device) -> TimedGridVecEnv:
    """A batch of training environments, with buffers reused (``copy=False``)."""
    return TimedGridVecEnv(num_envs=num_envs, device=device, copy=False, check_actions=False, **env.kwargs())


def stream_seed(seed: int, *keys: int) -> int:
    """An independent 62-bit seed for each (seed, keys...), e.g. (seed, worker, start frame)."""
    return int(np.random.SeedSequence(seed, spawn_key=keys).generate_state(1, np.uint64)[0] >> np.uint64(2))
