"""The vector entry points of ``nalu_rl/TimedGrid-v0`` and ``nalu_rl/IntervalRepro-v0``: what ``gym.make_vec`` builds without a ``vectorization_mode``.

``gym.make_vec("nalu_rl/TimedGrid-v0", num_envs=K, **kwargs)`` follows Gymnasium's vector conventions, as
``SyncVectorEnv`` does and as SB3's and CleanRL's code expects: NumPy arrays in and out and next-step autoreset
(:class:`~nalu_rl.envs.numpy_batched.TimedGridNumpyVecEnv`). ``backend="torch"`` asks for the torch twin instead
(:class:`~nalu_rl.envs.batched.TimedGridVecEnv`: tensors on ``device``, same-step autoreset, the fast path the
trainers step), and so does any argument only the torch twin has (``device``, ``copy``, ``check_actions``): the
product's specification creates the torch twin as ``gym.make_vec(ID, num_envs=K, vectorization_mode=
"vector_entry_point", device=...)``, and that call keeps doing so::

    envs = gym.make_vec("nalu_rl/TimedGrid-v0", num_envs=8, obs_mode="grid")                  # NumPy, next-step
    envs = gym.make_vec("nalu_rl/TimedGrid-v0", num_envs=4096, obs_mode="grid", backend="torch", device="cuda")
"""

from __future__ import annotations

from typing import Any

from gymnasium.vector import VectorEnv

from nalu_rl.envs.batched import TimedGridVecEnv
from nalu_rl.envs.interval_batched import IntervalReproVecEnv
from nalu_rl.envs.numpy_batched import IntervalReproNumpyVecEnv, TimedGridNumpyVecEnv

BACKENDS = ("numpy", "torch")
# Arguments only the torch twin has: where its tensors live and how it hands them out.
TORCH_ONLY = ("device", "copy", "check_actions")


def make_batched(num_envs: int = 1, *, backend: str | None = None, **kwargs: Any) -> VectorEnv:
    """K environments stepped as one batch.

    :param num_envs: how many environments the batch holds
    :param backend: ``"numpy"``: :class:`TimedGridNumpyVecEnv`, NumPy arrays and next-step autoreset;
        ``"torch"``: :class:`TimedGridVecEnv`, torch tensors on ``device`` and same-step autoreset; None (the
        default): ``"torch"`` when a torch-only argument is given, else ``"numpy"``
    :param kwargs: the environment's arguments (``size``, ``obs_mode``, ``autoreset_mode``, ...), and with
        ``backend="torch"`` also ``device``, ``copy`` and ``check_actions``
    """
    return _make(TimedGridNumpyVecEnv, TimedGridVecEnv, num_envs, backend, kwargs)


def make_interval_batched(num_envs: int = 1, *, backend: str | None = None, **kwargs: Any) -> VectorEnv:
    """K ``nalu_rl/IntervalRepro-v0`` environments stepped as one batch, by the same ``backend`` convention.

    :param num_envs: how many environments the batch holds
    :param backend: ``"numpy"``: :class:`~nalu_rl.envs.numpy_batched.IntervalReproNumpyVecEnv` (next-step
        autoreset); ``"torch"``: :class:`~nalu_rl.envs.interval_batched.IntervalReproVecEnv` (same-step); None:
        ``"torch"`` when a torch-only argument is given, else ``"numpy"``
    :param kwargs: the environment's arguments (``interval_range``, ``gain``, ``autoreset_mode``, ...), and with
        ``backend="torch"`` also ``device``, ``copy`` and ``check_actions``
    """
    return _make(IntervalReproNumpyVecEnv, IntervalReproVecEnv, num_envs, backend, kwargs)


def _make(numpy_twin: type[VectorEnv], torch_twin: type[VectorEnv], num_envs, backend, kwargs) -> VectorEnv:
    torch_only = [name for name in TORCH_ONLY if name in kwargs]
    if backend is None:
        backend = "torch" if torch_only else "numpy"
    if backend == "numpy":
        if torch_only:
            raise TypeError(f"{torch_only[0]} is an argument of the torch twin: pass backend='torch' with it")
        return numpy_twin(num_envs, **kwargs)
    if backend == "torch":
        return torch_twin(num_envs, **kwargs)
    raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
