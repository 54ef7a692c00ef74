"""``nalu_rl/TimedGrid-v0``: step onto the red target at exactly t = T (Trask et al. 2018, §4.5)."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from nalu_rl.envs import render as rendering
from nalu_rl.envs import rules

RESET_OPTIONS = ("instruction", "agent", "target")


def observation_space(cfg: rules.Config) -> spaces.Dict:
    """The observation space of one environment (shared with the batched twin)."""
    if cfg.obs_mode == "pixels":
        image = spaces.Box(0, 255, (rules.IMAGE_SIZE, rules.IMAGE_SIZE, 3), np.uint8)
    else:
        image = spaces.Box(0.0, 1.0, (2, cfg.size, cfg.size), np.float32)
    instruction = spaces.Box(0.0, float(rules.MAX_INSTRUCTION), (1,), np.float32)
    return spaces.Dict({"image": image, "instruction": instruction})


class TimedGridEnv(gym.Env):
    """A 5×5 grid world told an integer T; success is arriving on the target at exactly t = T.

    ## Description

    The task of Trask et al., "Neural Arithmetic Logic Units" (NeurIPS 2018, §4.5): the agent is told T and must step
    onto a red target at exactly t = T, not before, not after. Trained on T in 5..12, an agent is evaluated on larger T
    (``reset(options={"instruction": T})``): timing extrapolation. The rules live in :mod:`nalu_rl.envs.rules`, which the batched twins
    (:class:`nalu_rl.envs.batched.TimedGridVecEnv`, :class:`nalu_rl.envs.numpy_batched.TimedGridNumpyVecEnv`) use too.

    ## Action Space

    ``Discrete(5)``: 0 UP (row − 1), 1 DOWN (row + 1), 2 LEFT (col − 1), 3 RIGHT (col + 1), 4 PASS.
    A move off the grid leaves the agent in place. Anything else (a bool, a float, an out-of-range integer) raises
    ``ValueError``; stepping before ``reset`` or after the episode ended raises ``RuntimeError``.

    ## Observation Space

    ``Dict(image, instruction)``: ``image`` is a uint8 (56, 56, 3) frame (black background,
    gray agent, red target) with ``obs_mode="pixels"``, or float32 (2, N, N) one-hot planes (agent, target) with
    ``obs_mode="grid"``; ``instruction`` is ``Box(0, 1000, (1,), float32)`` holding T. Elapsed time is never observed.

    ## Starting State

    t = 0; T drawn uniformly from ``t_range``; agent and target on distinct cells, drawn uniformly
    over the pairs at distance 1..T (``placement="reachable"``) or over all pairs (``"uniform"``, the paper's).

    ## Rewards and Episode End

    Arriving on the target terminates the episode; not arriving by the time limit
    (``time_limit``, or T + 2N) truncates it; every other step gives 0. ``reward="exact"``: +1 for arriving at t = T,
    −1 early, late or on timeout; ``reward="graded"`` (the paper's): max(−1, 1 − ``timing_penalty``·|t − T|) on
    arrival, 0 on timeout.

    ## Info

    ``t`` every step; at an episode's end also ``success`` (arrival at exactly t = T), ``arrival_time``
    (−1 if none) and ``instruction``.

    ## Reset Options

    ``instruction`` (any T in 1..1000, also outside ``t_range``), and ``agent`` and ``target``
    together as (row, col) pairs. Unknown keys raise ``ValueError``; options that are not a dict ``TypeError``.

    ## Arguments

    Without kwargs this is the strict protocol on pixels (``placement="reachable"``, ``reward="exact"``); the
    command line trains on the ``paper_grid`` preset instead (uniform placement, graded reward, grid planes):
    ``gym.make(ENV_ID, **env_kwargs_from_preset("paper_grid")[1])`` gives that one.

    :param size: grid side N, an integer in [2, 32] (NumPy integers too)
    :param t_range: the inclusive range (lo, hi) T is drawn from, 1 <= lo <= hi <= 1000
    :param obs_mode: ``"pixels"`` or ``"grid"``
    :param time_limit: steps before truncation, or None for T + 2N
    :param render_mode: None, ``"rgb_array"``, ``"ansi"`` or ``"human"`` (a matplotlib window; headless it warns once,
        unless ``MPLBACKEND=Agg`` asks for off-screen drawing)
    :param placement: ``"reachable"`` or ``"uniform"``
    :param reward: ``"exact"`` or ``"graded"``
    :param timing_penalty: reward lost per step early or late under ``"graded"``, a finite number > 0

    ## Version History

    * v0: the only version. A change of rules that alters the episodes played under the default arguments
      becomes v1; new arguments with defaults that keep them do not.
    """

    metadata = {"render_modes": ["rgb_array", "ansi", "human"], "render_fps": 4}

    def __init__(
        self,
        size: int = rules.SIZE,
        t_range: tuple[int, int] = rules.T_RANGE,
        obs_mode: str = rules.OBS_MODE,
        time_limit: int | None = None,
        render_mode: str | None = None,
        placement: str = rules.PLACEMENT,
        reward: str = rules.REWARD,
        timing_penalty: float = rules.TIMING_PENALTY,
    ) -> None:
        self.cfg = rules.Config.from_kwargs(size, t_range, obs_mode, time_limit, placement, reward, timing_penalty)
        self.render_mode = rules.check_render_mode(render_mode, self.metadata["render_modes"])
        self._window: rendering.HumanWindow | bool | None = None  # opened by the first human render; False: no display
        self.observation_space = observation_space(self.cfg)
        self.action_space = spaces.Discrete(rules.NUM_ACTIONS)
        self._drow = np.asarray(rules.ACTION_DROW, dtype=np.int64)
        self._dcol = np.asarray(rules.ACTION_DCOL, dtype=np.int64)
        self._masks = rules.cell_masks(self.cfg.size) if self.cfg.obs_mode == "pixels" else None
        self._seeded = False
        self._seed = np.zeros(1, dtype=np.int64)
        self._episode = np.zeros(1, dtype=np.int64)
        self._row = self._col = self._target_row = self._target_col = 0
        self._t = 0
        self._instruction = 0
        self._limit = 0
        self._started = False
        self._done = False

    # ------------------------------------------------------------------ gym API

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        if seed is not None:
            seed = rules.check_seed(seed)  # the batched twin's check (Gymnasium's own takes True as 1, and no NumPy int)
        options = rules.check_options(options, RESET_OPTIONS)
        super().reset(seed=seed)
        if seed is not None:
            self._seed[0], self._episode[0] = seed, 0
        elif not self._seeded:  # unseeded: a stream from fresh entropy
            self._seed[0] = int(self.np_random.integers(0, 2**63 - 1))
        self._seeded = True
        n = self.cfg.size
        key = rules.episode_key(rules.seed_key(self._seed), self._episode)
        if "instruction" in options:
            instruction = np.array([rules.check_instruction(options["instruction"])])
        else:
            instruction = rules.sample_instruction(key, *self.cfg.t_range)
        agent, target = (int(c[0]) for c in rules.sample_placement(key, instruction, n, placement=self.cfg.placement))
        self._episode += 1
        if "agent" in options:
            agent_row, agent_col = rules.check_cell("agent", options["agent"], n)
            target_row, target_col = rules.check_cell("target", options["target"], n)
            agent, target = agent_row * n + agent_col, target_row * n + target_col
            if agent == target:
                raise ValueError("options 'agent' and 'target' must be distinct cells")
        instruction = int(instruction[0])
        self._row, self._col = divmod(agent, n)
        self._target_row, self._target_col = divmod(target, n)
        self._instruction = instruction
        self._limit = int(rules.episode_limit(instruction, n, self.cfg.time_limit))
        self._t = 0
        self._started, self._done = True, False
        if self.render_mode == "human":
            self.render()
        return self._observation(), {"t": 0}

    def step(self, action):
        rules.check_can_step(self._started, self._done)
        action = rules.check_action(action)
        row, col = rules.move(
            np.array([self._row]), np.array([self._col]), np.array([action]), self.cfg.size, self._drow, self._dcol
        )
        self._row, self._col = int(row[0]), int(col[0])
        self._t += 1
        arrived = np.array([self._row == self._target_row and self._col == self._target_col])
        reward, terminated, truncated, success = rules.outcome(
            arrived, np.array([self._t]), np.array([self._instruction]), np.array([self._limit]), self.cfg
        )
        terminated, truncated = bool(terminated[0]), bool(truncated[0])
        info: dict[str, Any] = {"t": self._t}
        if terminated or truncated:
            self._done = True
            info.update(
                success=bool(success[0]),
                arrival_time=self._t if terminated else -1,
                instruction=self._instruction,
            )
        if self.render_mode == "human":
            self.render()
        return self._observation(), float(reward[0]), terminated, truncated, info

    def render(self):
        state = rendering.State(
            self.cfg.size, (self._row, self._col), (self._target_row, self._target_col), self._t, self._instruction
        )
        if self.render_mode == "rgb_array":
            return rendering.rgb_frame(state)
        if self.render_mode == "ansi":
            return rendering.ansi(state)
        if self.render_mode == "human":
            if self._window is None:
                self._window = rendering.HumanWindow() if rendering.has_display() else False
                if self._window is False:
                    gym.logger.warn(rendering.NO_DISPLAY)
            if self._window:
                self._window.show(rendering.rgb_frame(state), self.metadata["render_fps"])
            return None
        gym.logger.warn("render() called without a render_mode; pass render_mode='rgb_array', 'ansi' or 'human'")
        return None

    def close(self) -> None:
        if self._window:
            self._window.close()
        self._window = None

    # ------------------------------------------------------------------ helpers

    def _observation(self) -> dict[str, np.ndarray]:
        n = self.cfg.size
        agent, target = self._row * n + self._col, self._target_row * n + self._target_col
        if self._masks is not None:
            image = np.zeros((rules.IMAGE_SIZE, rules.IMAGE_SIZE, 3), dtype=np.uint8)
            image[self._masks[target]] = rules.TARGET_COLOR
            image[self._masks[agent]] = rules.AGENT_COLOR
        else:
            image = np.zeros((2, n, n), dtype=np.float32)
            image[0].flat[agent] = 1.0
            image[1].flat[target] = 1.0
        return {"image": image, "instruction": np.array([self._instruction], dtype=np.float32)}
