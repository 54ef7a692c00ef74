"""Misuse of the environment and its batched twins: an exception of the right type that names what was wrong.

Each case is refused alike by the single environment (``gym.make``), the torch twin and the NumPy twin where it
applies to them, by the checks in ``nalu_rl/envs/rules.py`` that all three share; never a torch or NumPy error
from deep inside, and never silently accepted.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import nalu_rl  # noqa: F401  (registers the environment)
from nalu_rl.envs import ENV_ID
from nalu_rl.envs.batched import TimedGridVecEnv
from nalu_rl.envs.numpy_batched import TimedGridNumpyVecEnv

BATCHED = {"torch": TimedGridVecEnv, "numpy": TimedGridNumpyVecEnv}
KINDS = ("single", *BATCHED)


def make(kind: str):
    if kind == "single":
        return gym.make(ENV_ID, obs_mode="grid").unwrapped  # unwrapped: Gymnasium's OrderEnforcing would answer first
    return BATCHED[kind](num_envs=2, obs_mode="grid")


def started(kind: str):
    env = make(kind)
    env.reset(seed=0)
    return env


@pytest.mark.parametrize(
    "options, error, match",
    [
        ({"instruction": "5"}, ValueError, r"options\['instruction'\]"),
        ({"instruction": [5, "6"]}, ValueError, r"options\['instruction'\]"),
        ({"instruction": [[5], [6, 7]]}, ValueError, r"options\['instruction'\]"),
        ({"agent": "ab", "target": (1, 1)}, ValueError, r"options\['agent'\]"),
        ({"agent": (0, 0), "target": (True, 1)}, ValueError, r"options\['target'\]"),
        ({"agent": (0, 0), "target": [[0, 1], [1]]}, ValueError, r"options\['target'\]"),
        ({"reset_mask": "ab"}, ValueError, r"options\['reset_mask'\]"),
        ({"reset_mask": [0.5, 2.0]}, ValueError, r"options\['reset_mask'\]"),
        ({"reset_mask": [1, 0]}, ValueError, r"options\['reset_mask'\]"),
    ],
)
@pytest.mark.parametrize("kind", BATCHED)
def test_batched_reset_options_of_the_wrong_type_name_the_option(kind, options, error, match):
    env = started(kind)
    with pytest.raises(error, match=match):
        env.reset(options=options)


@pytest.mark.parametrize("kind", KINDS)
def test_options_that_are_not_a_dict_are_a_type_error_naming_options(kind):
    with pytest.raises(TypeError, match="options must be None or a dict"):
        make(kind).reset(seed=0, options=["instruction"])


@pytest.mark.parametrize("kind", KINDS)
def test_stepping_before_reset_is_refused(kind):
    env = make(kind)
    actions = 4 if kind == "single" else [4, 4]
    with pytest.raises(RuntimeError, match=r"before reset\(\)"):
        env.step(actions)


@pytest.mark.parametrize("kind", BATCHED)
def test_a_reset_mask_before_the_first_reset_is_refused(kind):
    with pytest.raises(ValueError, match="reset_mask"):
        make(kind).reset(seed=0, options={"reset_mask": np.array([True, False])})


@pytest.mark.parametrize("kind", KINDS)
def test_bools_are_not_actions(kind):
    env = started(kind)
    with pytest.raises(ValueError, match="action"):
        env.step(True if kind == "single" else [True, False])


@pytest.mark.parametrize("kind", BATCHED)
@pytest.mark.parametrize("mode", ["sometimes", 1, None])
def test_unknown_autoreset_modes_name_the_argument(kind, mode):
    with pytest.raises(ValueError, match="autoreset_mode"):
        BATCHED[kind](num_envs=2, autoreset_mode=mode)
