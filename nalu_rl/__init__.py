"""nalu-rl: timing extrapolation in reinforcement-learning agents with neural arithmetic units."""

__version__ = "0.1.0"

from nalu_rl.envs import register_envs as _register_envs  # noqa: E402

_register_envs()
