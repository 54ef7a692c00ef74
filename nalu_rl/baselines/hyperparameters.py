"""RecurrentPPO's hyper-parameters: the defaults for this task, checked overrides, SB3's keyword arguments."""

from __future__ import annotations

import math
import numbers
from typing import Any

from nalu_rl.common.checks import LIMITS, check_int

DEFAULT_FRAMES = 1_000_000

# Tuned lightly for this task: short episodes (T + 10 steps at most), a reward only at the end.
DEFAULTS: dict[str, Any] = {
    "n_envs": 16,  # DummyVecEnv copies of the environment
    "n_steps": 128,  # steps per environment per rollout (a rollout is n_envs * n_steps frames)
    "batch_size": 512,  # frames per minibatch (RecurrentPPO cuts them into whole sequences)
    "n_epochs": 4,
    "learning_rate": 1e-3,
    "gamma": 0.99,
    "gae_lambda": 0.95,
    "clip_range": 0.2,
    "ent_coef": 0.01,
    "vf_coef": 0.5,
    "max_grad_norm": 0.5,
    "lstm_hidden_size": 64,
    "net_arch": 64,  # width of the one hidden layer of the policy and value heads after the LSTM
}
INT_KEYS = ("n_envs", "n_steps", "batch_size", "n_epochs", "lstm_hidden_size", "net_arch")
# Upper bounds: a typo (n_envs=10**9, learning_rate=1e9) is refused before anything is built.
INT_MAX = {"n_envs": 1024, "n_steps": 4096, "n_epochs": 1000, "lstm_hidden_size": 4096, "net_arch": 4096}
NUMBER_MAX = {"learning_rate": 1.0, "clip_range": 10.0, "max_grad_norm": 1e6, "ent_coef": 1e3, "vf_coef": 1e3}
UNIT_INTERVAL_KEYS = ("gamma", "gae_lambda")
NONZERO_KEYS = ("learning_rate", "clip_range", "max_grad_norm")


def resolve_hyperparameters(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """:data:`DEFAULTS` with ``overrides`` applied and checked (ValueError naming the bad key)."""
    params = dict(DEFAULTS)
    for key, value in (overrides or {}).items():
        if key not in DEFAULTS:
            raise ValueError(f"unknown RecurrentPPO hyper-parameter {key!r}; allowed: {', '.join(sorted(DEFAULTS))}")
        params[key] = value
    for key, value in params.items():
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
            raise ValueError(f"{key} must be a number, got {value!r}")
        if key in INT_KEYS:
            params[key] = check_int(key, value) if key in LIMITS else check_int(key, value, 1, INT_MAX[key])
        elif key in UNIT_INTERVAL_KEYS:
            if not 0 <= value <= 1:
                raise ValueError(f"{key} must be in [0, 1], got {value!r}")
        elif value < 0 or (key in NONZERO_KEYS and value == 0) or value > NUMBER_MAX[key]:
            low = "> 0" if key in NONZERO_KEYS else ">= 0"
            raise ValueError(f"{key} must be a number {low} and <= {NUMBER_MAX[key]:g}, got {value!r}")
    if params["batch_size"] < 2:
        raise ValueError("batch_size must be >= 2 (PPO normalises advantages over a minibatch)")
    return params


def model_kwargs(params: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments of ``RecurrentPPO(...)`` for resolved ``params`` (``n_envs`` goes to the VecEnv)."""
    kwargs = {k: v for k, v in params.items() if k not in ("n_envs", "lstm_hidden_size", "net_arch")}
    kwargs["policy_kwargs"] = {"lstm_hidden_size": params["lstm_hidden_size"], "net_arch": [params["net_arch"]]}
    return kwargs
