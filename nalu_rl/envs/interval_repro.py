"""``nalu_rl/IntervalRepro-v0``: measure the interval between "ready" and "set", then "go" round(gain·I) steps after "set"."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from nalu_rl.envs import interval_rules as irules
from nalu_rl.envs import render as rendering
from nalu_rl.envs import rules

RESET_OPTIONS = ("interval", "delay")


def observation_space(cfg: irules.IntervalConfig) -> spaces.Dict:
    """The observation space of one environment (shared with the batched twins)."""
    cue = spaces.Box(0.0, 1.0, (irules.NUM_CUES,), np.float32)
    gain = spaces.Box(0.0, irules.MAX_GAIN, (1,), np.float32)
    return spaces.Dict({"cue": cue, "gain": gain})


class IntervalReproEnv(gym.Env):
    """Ready-Set-Go: two cues I steps apart; success is acting "go" exactly round(gain·I) steps after the second.

    ## Description

    The interval-reproduction task of Jazayeri & Shadlen, "Temporal context calibrates interval timing" (Nature
    Neuroscience 13, 2010): a "ready" cue, then a "set" cue I steps later; the agent must measure I and produce it,
    acting "go" K = round(gain·I) steps after "set" (gain 1: reproduce I; the gain is the one of Remington et al.,
    Neuron 2018, as NeuroGym's ``ReadySetGo`` task has it: github.com/neurogym/neurogym, ``neurogym/envs/
    readysetgo.py``). Unlike TimedGrid, where the agent is told T, nothing observed says I: the agent must time
    the interval with its own memory, as the deep-RL agents of Deverett et al., "Interval timing in deep reinforcement
    learning agents" (NeurIPS 2019) do. Trained on I in 5..12, an agent is evaluated on larger I
    (``reset(options={"interval": I})``, up to 1000): timing extrapolation. The rules live in
    :mod:`nalu_rl.envs.interval_rules`, which the batched twins
    (:class:`nalu_rl.envs.interval_batched.IntervalReproVecEnv`,
    :class:`nalu_rl.envs.numpy_batched.IntervalReproNumpyVecEnv`) use too.

    ## Action Space

    ``Discrete(2)``: 0 WAIT, 1 GO. Anything else (a bool, a float, an out-of-range integer) raises ``ValueError``;
    stepping before ``reset`` or after the episode ended raises ``RuntimeError``.

    ## Observation Space

    ``Dict(cue, gain)``: ``cue`` is ``Box(0, 1, (3,), float32)``, the one-hot flags (none, ready, set) of what is shown
    at this step: "ready" at t = D, "set" at t = D + I, nothing at every other step; ``gain`` is ``Box(0, 10, (1,),
    float32)`` holding the gain. Neither I, nor the target K, nor the elapsed time is ever observed.

    ## Rewards

    "go" at clock t after "set" (S = D + I) produced t − S steps: ``reward="graded"`` (the default) pays
    max(−1, 1 − ``timing_penalty``·|t − S − K|), the grid task's graded reward: 1 on time, ``timing_penalty`` less per
    step early or late, at least −1 (NeuroGym's ReadySetGo also grades within a tolerance); ``reward="exact"`` pays
    +1 on time and −1 otherwise. A premature "go" (t <= S: chosen before "set" was seen) pays −1 under both, the
    graded reward's minimum, since no interval was measured. Never going by the time limit pays 0 (``"graded"``) or
    −1 (``"exact"``); every other step pays 0.

    ## Starting State

    t = 0; the delay D (distractor steps before "ready") drawn uniformly from ``delay_range``; I drawn uniformly from
    ``interval_range``; K = max(1, round(gain·I)), halves rounded up.

    ## Episode End

    "go" terminates the episode; not going by the time limit (clock ``time_limit``, or S + 2K: twice the target
    after "set") truncates it.

    ## Info

    ``t`` every step; at an episode's end also ``success`` ("go" exactly K steps after "set"), ``go_time`` (the steps
    from "set" to "go": t − S >= 1 after "set", 0 for a premature "go", −1 if none), ``interval`` (I) and
    ``target`` (K).

    ## Reset Options

    ``interval`` (any I in 1..1000, also outside ``interval_range``) and ``delay`` (any D in 0..1000). Unknown keys
    raise ``ValueError``; options that are not a dict ``TypeError``.

    ## Arguments

    :param interval_range: the inclusive range (lo, hi) I is drawn from, 1 <= lo <= hi <= 1000
    :param gain: K = round(gain·I), a number in (0, 10]
    :param delay_range: the inclusive range of distractor steps before "ready", 0 <= lo <= hi <= 1000
    :param time_limit: the clock at which an episode without "go" is truncated, or None for S + 2K
    :param render_mode: None, ``"rgb_array"`` (a (24, 400, 3) timeline strip of the episode) or ``"ansi"`` (its steps
        so far as a line of text)
    :param reward: ``"graded"`` or ``"exact"``
    :param timing_penalty: reward lost per step early or late under ``"graded"``, a finite number > 0

    ## Version History

    * v0: the only version. A change of rules that alters the episodes played under the default arguments
      becomes v1; new arguments with defaults that keep them do not.
    """

    metadata = {"render_modes": ["rgb_array", "ansi"], "render_fps": 4}

    def __init__(
        self,
        interval_range: tuple[int, int] = irules.INTERVAL_RANGE,
        gain: float = irules.GAIN,
        delay_range: tuple[int, int] = irules.DELAY_RANGE,
        time_limit: int | None = None,
        render_mode: str | None = None,
        reward: str = irules.REWARD,
        timing_penalty: float = irules.TIMING_PENALTY,
    ) -> None:
        self.cfg = irules.IntervalConfig.from_kwargs(interval_range, gain, delay_range, time_limit, reward, timing_penalty)
        self.render_mode = rules.check_render_mode(render_mode, self.metadata["render_modes"])
        self.observation_space = observation_space(self.cfg)
        self.action_space = spaces.Discrete(irules.NUM_ACTIONS)
        self._targets = irules.target_table(self.cfg.gain)
        self._seeded = False
        self._seed = np.zeros(1, dtype=np.int64)
        self._episode = np.zeros(1, dtype=np.int64)
        self._t = self._delay = self._interval = self._target = self._limit = 0
        self._go = -1
        self._started = False
        self._done = False

    # ------------------------------------------------------------------ gym API

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        if seed is not None:
            seed = rules.check_seed(seed)  # the batched twins' check
        options = rules.check_options(options, RESET_OPTIONS)
        fixed = {name: irules.check_option(options, name) for name in RESET_OPTIONS if name in options}
        super().reset(seed=seed)
        if seed is not None:
            self._seed[0], self._episode[0] = seed, 0
        elif not self._seeded:  # unseeded: a stream from fresh entropy
            self._seed[0] = int(self.np_random.integers(0, 2**63 - 1))
        self._seeded = True
        key = rules.episode_key(rules.seed_key(self._seed), self._episode)
        interval = int(irules.sample_interval(key, *self.cfg.interval_range)[0])
        delay = int(irules.sample_delay(key, *self.cfg.delay_range)[0])
        self._episode += 1
        self._interval = fixed.get("interval", interval)
        self._delay = fixed.get("delay", delay)
        self._target = int(self._targets[self._interval])
        self._limit = int(irules.episode_limit(self._delay + self._interval, self._target, self.cfg.time_limit))
        self._t, self._go = 0, -1
        self._started, self._done = True, False
        return self._observation(), {"t": 0}

    def step(self, action):
        rules.check_can_step(self._started, self._done)
        action = rules.check_action(action, irules.NUM_ACTIONS)
        self._t += 1
        set_time = np.array([self._delay + self._interval])
        t = np.array([self._t])
        reward, terminated, truncated, success = irules.outcome(
            np.array([action]), t, set_time, np.array([self._target]), np.array([self._limit]), self.cfg
        )
        terminated, truncated = bool(terminated[0]), bool(truncated[0])
        info: dict[str, Any] = {"t": self._t}
        if terminated:
            self._go = self._t
        if terminated or truncated:
            self._done = True
            info.update(
                success=bool(success[0]),
                go_time=int(irules.go_time(np.array([terminated]), t, set_time)[0]),
                interval=self._interval,
                target=self._target,
            )
        return self._observation(), float(reward[0]), terminated, truncated, info

    def render(self):
        state = rendering.IntervalState(self._t, self._delay, self._interval, self._target, self._limit, self._go)
        if self.render_mode == "rgb_array":
            return rendering.interval_strip(state)
        if self.render_mode == "ansi":
            return rendering.interval_ansi(state)
        gym.logger.warn("render() called without a render_mode; pass render_mode='rgb_array' or 'ansi'")
        return None

    # ------------------------------------------------------------------ helpers

    def _observation(self) -> dict[str, np.ndarray]:
        cue = np.zeros(irules.NUM_CUES, dtype=np.float32)
        cue[int(irules.cue(np.array([self._t]), self._delay, self._delay + self._interval)[0])] = 1.0
        return {"cue": cue, "gain": np.array([self.cfg.gain], dtype=np.float32)}
