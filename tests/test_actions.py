"""The batched environment refuses exactly the actions the single environment refuses.

A batch is refused iff one of its elements is an action that ``TimedGridEnv.step`` refuses
(``Discrete(5).contains``): elements of a list are taken as they are, those of an array or a
tensor as numpy scalars of its dtype. Wrong shapes are refused as well.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nalu_rl.envs.batched import TimedGridVecEnv
from nalu_rl.envs.timed_grid import TimedGridEnv

K = 4
DEVICES = [
    "cpu",
    pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")),
]
NUMPY_DTYPES = [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64,
                np.float16, np.float32, np.float64, np.bool_, np.complex64]
SMALL = st.integers(-3, 8)
CANDIDATES = st.one_of(
    SMALL,
    st.integers(min_value=2**62) | st.integers(max_value=-(2**62)),  # around and beyond int64
    st.floats() | st.sampled_from([0.0, 2.0, 4.0]),  # integral floats are refused too
    st.booleans(),
    st.builds(lambda v, dtype: np.array(v).astype(dtype)[()], SMALL, st.sampled_from(NUMPY_DTYPES)),  # numpy scalars
    st.builds(lambda v, dtype: np.array(v).astype(dtype), SMALL, st.sampled_from(NUMPY_DTYPES)),  # 0-d arrays
    st.builds(lambda v: np.array([v]), SMALL),  # 1-element arrays: not scalars
    st.builds(torch.tensor, SMALL),
    st.text(max_size=2),
    st.none(),
    st.just([1]),
)
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def single_refuses(action) -> bool:
    env = TimedGridEnv()
    env.reset(seed=0)
    try:
        env.step(action)
    except ValueError:
        return True
    return False


def batched_refuses(actions, num_envs: int, device: str, check_actions: bool = True) -> bool:
    env = TimedGridVecEnv(num_envs=num_envs, device=device, check_actions=check_actions)
    env.reset(seed=0)
    try:
        env.step(actions)
    except ValueError as err:
        assert "actions" in str(err)
        return True
    return False


def containers(batch: list):
    """The batch as a list, and as the numpy array and torch tensor numpy and torch make of it."""
    yield batch
    try:
        array = np.array(batch)
    except (ValueError, TypeError, OverflowError):
        return
    yield array
    if array.dtype.kind in "biuf" or array.dtype == np.complex64:
        yield torch.as_tensor(array)


def elements(container) -> list:
    if isinstance(container, torch.Tensor):
        return list(container.cpu().numpy())
    return list(container)


@pytest.mark.parametrize("device", DEVICES)
@SETTINGS
@given(action=CANDIDATES, slot=st.integers(0, K - 1))
def test_batched_env_refuses_what_the_single_env_refuses(device, action, slot):
    refused = single_refuses(action)
    assert batched_refuses([action], 1, device) == refused
    batch = [0] * K
    batch[slot] = action
    assert batched_refuses(batch, K, device) == refused
    for container in containers(batch):
        expected = any(single_refuses(a) for a in elements(container))
        assert batched_refuses(container, K, device) == expected, (type(container), container)


@pytest.mark.parametrize("device", DEVICES)
def test_batched_env_refuses_wrong_shapes_and_kinds(device):
    for actions in ([0, 1], [0, 1, 2, 3, 4], [[0], [1], [2], [3]], torch.zeros(K, 1, dtype=torch.int64),
                    torch.zeros(1, K, dtype=torch.int64), np.zeros((2, 2), dtype=np.int64), 0, "0123", None,
                    {0: 0, 1: 0, 2: 0, 3: 0}, iter(range(K))):
        assert batched_refuses(actions, K, device), actions
    assert batched_refuses(torch.tensor(2), 1, device)  # a batch of one is a (1,) tensor
    assert not batched_refuses(torch.tensor([2]), 1, device)


@pytest.mark.parametrize("device", DEVICES)
def test_unchecked_batched_env_still_refuses_wrong_types(device):
    """``check_actions=False`` skips only the range check of tensors and arrays (it would wait for the device)."""
    for actions in (torch.full((K,), 2.0), torch.ones(K, dtype=torch.bool), np.full(K, 2.0), np.ones(K, dtype=np.uint64),
                    torch.zeros(K, 1, dtype=torch.int64), [0, 1, 2, 2.0], [0, 1, 2, None], [0, 1, 2, 7]):
        assert batched_refuses(actions, K, device, check_actions=False), actions
    for dtype in (torch.int64, torch.int32, torch.uint8):
        assert not batched_refuses(torch.tensor([0, 1, 2, 4], dtype=dtype, device=device), K, device, check_actions=False)
