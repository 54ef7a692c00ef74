"""The batched, torch-native twin of TimedGrid: K environments as tensors on any device.

Created by ``gym.make_vec("nalu_rl/TimedGrid-v0", num_envs=K, backend="torch", device=...)`` (without
``backend="torch"``, ``gym.make_vec`` gives the NumPy twin, :mod:`nalu_rl.envs.numpy_batched`). It applies the very
same rule functions as the single environment (:mod:`nalu_rl.envs.rules`); ``tests/test_equivalence.py`` checks
step-for-step equality as well.

Autoreset is **same-step** by default (``metadata["autoreset_mode"] == AutoresetMode.SAME_STEP``), what the
trainers step: when an environment's episode ends, ``step`` returns the first observation of its next episode, and
the last observation of the finished one is in ``infos["final_obs"]`` (a dict of tensors for the whole batch, valid
where ``infos["_final_obs"]`` is True). ``autoreset_mode=AutoresetMode.NEXT_STEP`` (Gymnasium's default) returns the
last observation instead and starts the next episode on the following step, which ignores that environment's action
and gives reward 0; with ``DISABLED`` ended environments wait for ``reset(options={"reset_mask": mask})``. Infos
always hold every key as a batch tensor with a boolean mask ``_key`` that says where it is valid: ``"t"`` every step
(after a reset, where the environments were reset); ``"success"``, ``"arrival_time"`` and ``"instruction"`` where an
episode ended.

With ``copy=False`` the observation images are written into two buffers that the env reuses
(one for observations, one for final observations): they are valid until the next ``step`` or
``reset``, and rows of ``final_obs`` whose mask is False hold stale values (zeros with ``copy=True``). Training loops that consume them at once save the allocation; ``copy=True`` (the
default, as in Gymnasium's ``SyncVectorEnv``) returns fresh tensors.

Seeding is per environment: ``reset(seed=s)`` seeds environment i with ``s + i`` and
``reset(seed=[s0, s1, ...])`` gives each its own seed. An environment seeded ``s`` plays the
same episodes as ``TimedGridEnv`` reset with ``seed=s``, whatever the batch size or device.

:class:`TorchTwin` holds what does not depend on the rules (seeding, action checks, the autoreset modes, reset masks,
the infos' masks); the IntervalRepro twin (:mod:`nalu_rl.envs.interval_batched`) is built on it too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from nalu_rl.common.checks import LIMITS
from nalu_rl.common.devices import resolve_device
from nalu_rl.envs import render as rendering
from nalu_rl.envs import rules
from nalu_rl.envs.timed_grid import observation_space

Obs = dict[str, torch.Tensor]
__all__ = ["TimedGridVecEnv", "TorchTwin"]
RESET_OPTIONS = ("instruction", "agent", "target", "reset_mask")


class TorchTwin(VectorEnv):
    """What every torch twin shares: per-environment seeds, action checks, the three autoreset modes, reset masks.

    A twin of one environment (:class:`TimedGridVecEnv`, :class:`~nalu_rl.envs.interval_batched.IntervalReproVecEnv`)
    calls :meth:`_setup` and supplies its rules: ``RESET_OPTIONS`` and ``NUM_ACTIONS``; :meth:`_fixed_starts`
    (``reset``'s options as per-environment tensors), :meth:`_start` (begin episodes), :meth:`_advance` (one step of
    the rules: reward, terminated, truncated, success), :meth:`_end_infos` (the infos of an episode's end),
    :meth:`_observe` and :meth:`_final_observation`. Every twin keeps its clock in ``self._t``.
    """

    metadata = {"render_modes": ["rgb_array", "ansi"], "autoreset_mode": AutoresetMode.SAME_STEP}
    RESET_OPTIONS: tuple[str, ...] = ("reset_mask",)
    NUM_ACTIONS: int = rules.NUM_ACTIONS

    def _setup(self, num_envs, render_mode, device, check_actions, copy, autoreset_mode, single_observation_space):
        """The shared state of a batch of ``num_envs`` (already checked) environments."""
        self.num_envs = num_envs
        self.render_mode = rules.check_render_mode(render_mode, self.metadata["render_modes"])
        self.autoreset_mode = rules.check_autoreset_mode(autoreset_mode, tuple(AutoresetMode))
        self.metadata = {**self.metadata, "autoreset_mode": self.autoreset_mode}
        self.device = resolve_device(device)
        self.check_actions = check_actions
        self.copy = copy
        self.single_observation_space = single_observation_space
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.single_action_space = spaces.Discrete(self.NUM_ACTIONS)
        self.action_space = spaces.MultiDiscrete(np.full(self.num_envs, self.NUM_ACTIONS))
        zeros = torch.zeros(num_envs, dtype=torch.int64, device=self.device)
        self._seed_key, self._episode, self._t = zeros.clone(), zeros.clone(), zeros.clone()
        self._seeded = False
        self._started = False
        # Environments whose episode ended and did not restart yet (next-step and disabled autoreset).
        self._ended = torch.zeros(num_envs, dtype=torch.bool, device=self.device)
        self._all = torch.ones(num_envs, dtype=torch.bool, device=self.device)

    # ------------------------------------------------------------------ gym API

    def reset(self, *, seed: int | Sequence[int] | None = None, options: dict[str, Any] | None = None):
        """Start new episodes in every environment (or those in ``options["reset_mask"]``).

        ``options`` may fix the start states as the single environment's do, each as one value for every
        environment or one per environment.
        """
        options = rules.check_options(options, self.RESET_OPTIONS)
        mask = self._all
        if "reset_mask" in options:
            if not self._started:
                raise ValueError("options['reset_mask'] needs a first reset() of every environment")
            mask = torch.as_tensor(rules.check_reset_mask(options, self.num_envs), device=self.device)
        fixed = self._fixed_starts(options)
        self._seed_from(seed)
        self._start(mask.nonzero().squeeze(1), **fixed)
        self._ended &= ~mask
        self._started = True
        return self._observe(), {"t": self._t.clone(), "_t": mask.clone()}  # as SyncVectorEnv: infos of the reset ones

    def step(self, actions):
        """Step every environment; with next-step autoreset, those whose episode ended last step start the next one.

        Returns ``(obs, rewards, terminated, truncated, infos)`` as batch tensors (see the module docstring).
        """
        if not self._started:
            rules.check_can_step(started=False, ended=False)
        if self.autoreset_mode == AutoresetMode.DISABLED and bool(self._ended.any()):
            raise RuntimeError(
                "step() called on finished episodes with autoreset_mode=DISABLED; "
                "call reset(options={'reset_mask': ...}) on them first"
            )
        reward, terminated, truncated, success = self._advance(self._action_tensor(actions))
        if self.autoreset_mode == AutoresetMode.NEXT_STEP:
            return self._next_step(reward, terminated, truncated, success)
        done = terminated | truncated
        ended = done.nonzero().squeeze(1)
        infos = self._infos(done, terminated, success)
        if self.autoreset_mode == AutoresetMode.SAME_STEP:
            infos.update(final_obs=self._final_observation(ended), _final_obs=done)
            if ended.numel():  # most steps end no episode: skip the bookkeeping
                self._start(ended)
        else:
            self._ended |= done
        return self._observe(), reward, terminated, truncated, infos

    def _next_step(self, reward, terminated, truncated, success):
        """Next-step autoreset: the environments that ended last step start anew instead of moving.

        Their move and outcome above were computed on the finished episode and are discarded: they return
        the first observation of the next episode, reward 0, and neither terminated nor truncated.
        """
        restart = self._ended
        if bool(restart.any()):
            index = restart.nonzero().squeeze(1)
            self._start(index)
            reward = torch.where(restart, 0.0, reward)
            terminated, truncated, success = terminated & ~restart, truncated & ~restart, success & ~restart
        done = terminated | truncated
        self._ended = done
        return self._observe(), reward, terminated, truncated, self._infos(done, terminated, success)

    def _infos(self, done: torch.Tensor, terminated: torch.Tensor, success: torch.Tensor) -> dict[str, torch.Tensor]:
        """``t`` for every environment; ``success`` and :meth:`_end_infos` where ``done``."""
        infos = {"t": self._t.clone(), "_t": self._all.clone(), "success": success, "_success": done}
        for key, value in self._end_infos(terminated).items():
            infos[key], infos[f"_{key}"] = value, done
        return infos

    def render(self):
        states = self.states()
        if self.render_mode == "rgb_array":
            return np.stack([self._rgb_frame(s) for s in states])
        if self.render_mode == "ansi":
            return [self._ansi(s) for s in states]
        raise ValueError("render() needs render_mode='rgb_array' or 'ansi' at construction")

    # ------------------------------------------------------------------ what each twin supplies

    def _fixed_starts(self, options: dict[str, Any]) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def _start(self, index: torch.Tensor, **fixed: torch.Tensor) -> None:
        raise NotImplementedError

    def _advance(self, actions: torch.Tensor):
        raise NotImplementedError

    def _end_infos(self, terminated: torch.Tensor) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def _observe(self) -> Obs:
        raise NotImplementedError

    def _final_observation(self, index: torch.Tensor) -> Obs:
        raise NotImplementedError

    def states(self) -> list:
        raise NotImplementedError

    # ------------------------------------------------------------------ internals

    def _action_tensor(self, actions) -> torch.Tensor:
        """``actions`` as a (K,) int64 tensor on the device, refused where the single environment refuses.

        Each element must be an action the single environment's ``step`` accepts (:func:`rules.is_action`): a
        sequence's items as they are, an array's or a tensor's as scalars of its dtype, so only
        integer dtypes that fit int64 pass. Tensors and arrays are range-checked only with
        ``check_actions``, because the check waits for the device; sequences are checked item by
        item on the host, range included.
        """
        k, n = self.num_envs, self.NUM_ACTIONS
        if isinstance(actions, torch.Tensor):
            ok = actions.shape == (k,) and actions.dtype in TENSOR_ACTION_DTYPES
        elif isinstance(actions, np.ndarray) and actions.dtype != object:
            dtype = actions.dtype
            ok = actions.shape == (k,) and np.issubdtype(dtype, np.integer) and np.can_cast(dtype, np.int64)
        else:  # a sequence (or an object array): item by item, as the single environment checks its action
            items = isinstance(actions, Sequence) and not isinstance(actions, (str, bytes))
            items = items or isinstance(actions, np.ndarray) and actions.ndim == 1
            ok = items and len(actions) == k and all(rules.is_action(a, n) for a in actions)
            actions = [int(a) for a in actions] if ok else actions
        if not ok:
            raise ValueError(f"{self._actions_rule()}, got {rules.describe(actions)}")
        actions = torch.as_tensor(actions, device=self.device).long()
        if self.check_actions and bool(((actions < 0) | (actions >= n)).any()):
            raise ValueError(f"{self._actions_rule()}, got values outside that range")
        return actions

    def _actions_rule(self) -> str:
        return f"actions must be {self.num_envs} integers in [0, {self.NUM_ACTIONS - 1}] (a tensor, array or sequence)"

    def _seed_from(self, seed) -> None:
        if seed is None:
            if self._seeded:
                return
            seed = int(np.random.SeedSequence().generate_state(1, np.uint64)[0] >> np.uint64(2))
        listed = [seed] if np.ndim(seed) == 0 else list(np.asarray(seed, dtype=object).ravel())
        for one in listed:  # exactly what the single environment takes
            rules.check_seed(one)
        if np.ndim(seed) == 0 and int(seed) + self.num_envs - 1 > LIMITS["env_seed"][1]:
            raise ValueError(f"seed must leave room for {self.num_envs} seeds s, s + 1, ... below 2**63, got {seed!r}")
        seeds = torch.as_tensor(
            np.asarray(seed, dtype=np.int64) + (np.arange(self.num_envs) if np.ndim(seed) == 0 else 0),
            device=self.device,
        )
        if seeds.shape != (self.num_envs,) or bool((seeds < 0).any()):
            raise ValueError(f"seed must be a non-negative int or a sequence of {self.num_envs} of them, got {seed!r}")
        self._seed_key.copy_(rules.seed_key(seeds))
        self._episode.zero_()
        self._seeded = True

    def _option_per_env(self, options: dict[str, Any], name: str, lo: int, hi: int) -> torch.Tensor | None:
        """``options[name]`` (an int, or one per environment) as a (K,) int64 tensor on the device; None if absent."""
        if name not in options:
            return None
        k = self.num_envs
        value = rules.option_ints(options, name, lo, hi, ((), (1,), (k,)), f"an int or {k} ints")
        return torch.as_tensor(value, device=self.device).reshape(-1).expand(k)


class TimedGridVecEnv(TorchTwin):
    """K TimedGrid environments stepped at once as torch tensors (same-step autoreset by default).

    :param num_envs: how many environments the batch holds
    :param size: grid side N, as :class:`~nalu_rl.envs.timed_grid.TimedGridEnv` takes it; so are ``t_range``,
        ``obs_mode``, ``time_limit``, ``placement``, ``reward`` and ``timing_penalty``
    :param render_mode: None, ``"rgb_array"`` (a (K, H, W, 3) array of frames) or ``"ansi"`` (K strings)
    :param device: where the tensors live (``"cpu"``, ``"cuda"``, ``"cuda:N"``, ``"auto"``)
    :param check_actions: whether ``step`` range-checks tensor and array actions (a device sync on GPUs)
    :param copy: False: observations are written into reused buffers, valid until the next ``step`` or ``reset``
    :param autoreset_mode: ``AutoresetMode.SAME_STEP`` (the default), ``NEXT_STEP`` or ``DISABLED``, or their values
    """

    RESET_OPTIONS = RESET_OPTIONS

    def __init__(
        self,
        num_envs: int = 1,
        size: int = rules.SIZE,
        t_range: tuple[int, int] = rules.T_RANGE,
        obs_mode: str = rules.OBS_MODE,
        time_limit: int | None = None,
        render_mode: str | None = None,
        device: str | torch.device = "cpu",
        check_actions: bool = True,
        copy: bool = True,
        placement: str = rules.PLACEMENT,
        reward: str = rules.REWARD,
        timing_penalty: float = rules.TIMING_PENALTY,
        autoreset_mode: AutoresetMode | str = AutoresetMode.SAME_STEP,
    ) -> None:
        self.cfg = rules.Config.from_kwargs(size, t_range, obs_mode, time_limit, placement, reward, timing_penalty)
        num_envs = rules.check_num_envs(num_envs, self.cfg.obs_mode)
        self._setup(num_envs, render_mode, device, check_actions, copy, autoreset_mode, observation_space(self.cfg))

        def tensor(values) -> torch.Tensor:
            return torch.as_tensor(np.asarray(values), device=self.device)

        n, k = self.cfg.size, self.num_envs
        self._tables = tuple(tensor(a) for a in rules.placement_table(n))
        self._drow, self._dcol = tensor(rules.ACTION_DROW), tensor(rules.ACTION_DCOL)
        # Observation images come from lookup tables. For small grids one table holds every
        # (agent, target) pair: one contiguous gather per step. Larger grids compose the image
        # from per-cell tables, since the pair table grows as N⁴.
        self._pair_images = self._agent_images = self._target_images = None
        if _pair_table_bytes(self.cfg) <= PAIR_TABLE_MAX_BYTES:
            self._pair_images = tensor(_image_table(self.cfg, np.arange(n**4) // n**2, np.arange(n**4) % n**2))
        else:
            nowhere = np.full(n * n, -1)
            self._agent_images = tensor(_image_table(self.cfg, np.arange(n * n), nowhere))
            self._target_images = tensor(_image_table(self.cfg, nowhere, np.arange(n * n)))
        zeros = torch.zeros(k, dtype=torch.int64, device=self.device)
        self._row, self._col, self._target = zeros.clone(), zeros.clone(), zeros.clone()  # target: row * N + col
        self._instruction, self._limit = zeros.clone(), zeros.clone()
        image_space = self.observation_space["image"]
        image_dtype = torch.uint8 if image_space.dtype == np.uint8 else torch.float32
        self._buffers = [torch.empty(image_space.shape, dtype=image_dtype, device=self.device) for _ in range(2)]

    # ------------------------------------------------------------------ the rules of TimedGrid

    def _fixed_starts(self, options: dict[str, Any]) -> dict[str, torch.Tensor]:
        """``options`` may fix ``"instruction"`` (int or (K,) tensor), and ``"agent"`` and ``"target"`` together
        ((row, col) or (K, 2) tensors), as in the single environment."""
        fixed = {}
        instruction = self._option_per_env(options, "instruction", 1, rules.MAX_INSTRUCTION)
        if instruction is not None:
            fixed["instruction"] = instruction
        if "agent" in options:
            agent, target = self._option_cell(options, "agent"), self._option_cell(options, "target")
            if bool((agent == target).any()):
                raise ValueError("options 'agent' and 'target' must be distinct cells")
            fixed.update(agent=agent, target=target)
        return fixed

    def _advance(self, actions: torch.Tensor):
        n = self.cfg.size
        self._row, self._col = rules.move(self._row, self._col, actions, n, self._drow, self._dcol)
        self._t += 1
        return rules.outcome(self._row * n + self._col == self._target, self._t, self._instruction, self._limit, self.cfg)

    def _end_infos(self, terminated: torch.Tensor) -> dict[str, torch.Tensor]:
        """``arrival_time`` (-1 where the episode timed out) and ``instruction``."""
        return {"arrival_time": torch.where(terminated, self._t, -1), "instruction": self._instruction.clone()}

    @staticmethod
    def _rgb_frame(state: rendering.State) -> np.ndarray:
        return rendering.rgb_frame(state)

    @staticmethod
    def _ansi(state: rendering.State) -> str:
        return rendering.ansi(state)

    def states(self) -> list[rendering.State]:
        """Each environment's (agent, target, t, T), for rendering and debugging."""
        n = self.cfg.size
        cols = torch.stack([self._row, self._col, self._target, self._t, self._instruction], 1).cpu().tolist()
        return [rendering.State(n, (r, c), divmod(g, n), t, T) for r, c, g, t, T in cols]

    def _start(self, index: torch.Tensor, instruction=None, agent=None, target=None) -> None:
        """Begin the next episode of the environments in ``index``."""
        episode = self._episode[index]
        key = rules.episode_key(self._seed_key[index], episode)
        if instruction is None:
            instruction = rules.sample_instruction(key, *self.cfg.t_range)
        else:
            instruction = instruction[index]
        placed_agent, placed_target = rules.sample_placement(key, instruction, self.cfg.size, self._tables, self.cfg.placement)
        agent = placed_agent if agent is None else agent[index]
        self._row[index], self._col[index] = agent // self.cfg.size, agent % self.cfg.size
        self._target[index] = placed_target if target is None else target[index]
        self._instruction[index] = instruction
        self._limit[index] = rules.episode_limit(instruction, self.cfg.size, self.cfg.time_limit)
        self._t[index] = 0
        self._episode[index] = episode + 1

    def _observe(self) -> Obs:
        """Observations of the current state (into the reused buffer 0 when ``copy=False``)."""
        out = self._buffers[0]
        self._draw(self._row * self.cfg.size + self._col, self._target, out=out)
        image = out.clone() if self.copy else out
        return {"image": image, "instruction": self._instruction.to(torch.float32)[:, None]}

    def _final_observation(self, index: torch.Tensor) -> Obs:
        """Observations of the environments in ``index``, which just finished an episode.

        Only those rows are drawn (a step ends few episodes); the other rows are zeros, or
        stale with ``copy=False``: ``_final_obs`` says which rows are valid.
        """
        final = torch.zeros_like(self._buffers[1]) if self.copy else self._buffers[1]
        agent = self._row[index] * self.cfg.size + self._col[index]
        final.index_copy_(0, index, self._draw(agent, self._target[index]))
        return {"image": final, "instruction": self._instruction.to(torch.float32)[:, None]}

    def _draw(self, agent: torch.Tensor, target: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        """Images of agents and targets on the given flat cells."""
        if self._pair_images is not None:
            return torch.index_select(self._pair_images, 0, agent * self.cfg.size**2 + target, out=out)
        if self.cfg.obs_mode == "grid":  # planes: agent one-hot + target one-hot
            return torch.add(self._agent_images[agent], self._target_images[target], out=out)
        agent_image = self._agent_images[agent]  # the agent is drawn over the target
        drawn = (agent_image != 0).any(-1, keepdim=True)
        return torch.where(drawn, agent_image, self._target_images[target], out=out)

    def _option_cell(self, options: dict[str, Any], name: str) -> torch.Tensor:
        n, k = self.cfg.size, self.num_envs
        value = rules.option_ints(options, name, 0, n - 1, ((2,), (k, 2)), f"a (row, col) pair or ({k}, 2) ints")
        value = torch.as_tensor(value, device=self.device).reshape(-1, 2).expand(k, 2)
        return value[:, 0] * n + value[:, 1]


# Integer dtypes whose values fit int64, as Discrete(5) accepts them; uint16 and uint32 came with torch 2.3.
TENSOR_ACTION_DTYPES = frozenset(
    getattr(torch, name) for name in ("uint8", "int8", "int16", "int32", "int64", "uint16", "uint32") if hasattr(torch, name)
)


PAIR_TABLE_MAX_BYTES = 16 * 2**20


def _pair_table_bytes(cfg: rules.Config) -> int:
    per_image = 2 * cfg.size**2 * 4 if cfg.obs_mode == "grid" else rules.IMAGE_SIZE**2 * 3
    return cfg.size**4 * per_image


def _image_table(cfg: rules.Config, agent: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Observation images with the agent and target on the given flat cells (-1: absent)."""
    rows = np.arange(len(agent))
    n = cfg.size
    has_agent, has_target = agent >= 0, target >= 0
    if cfg.obs_mode == "grid":
        table = np.zeros((len(agent), 2, n * n), dtype=np.float32)
        table[rows[has_agent], 0, agent[has_agent]] = 1.0
        table[rows[has_target], 1, target[has_target]] = 1.0
        return table.reshape(len(agent), 2, n, n)
    masks = rules.cell_masks(n)
    table = np.zeros((len(agent), rules.IMAGE_SIZE, rules.IMAGE_SIZE, 3), dtype=np.uint8)
    for row in rows[has_target]:
        table[row][masks[target[row]]] = rules.TARGET_COLOR
    for row in rows[has_agent]:
        table[row][masks[agent[row]]] = rules.AGENT_COLOR
    return table
