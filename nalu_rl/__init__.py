"""nalu-rl: timing extrapolation in reinforcement-learning agents with neural arithmetic units."""

import sys as _sys

from nalu_rl.version import __version__ as __version__

if _sys.argv[:1] == ["-m"] or _sys.argv[0].endswith("nalu-rl"):  # started as the command line (python -m nalu_rl, nalu-rl)
    from nalu_rl.common.signals import quiet_start_up as _quiet_start_up

    _quiet_start_up()

from nalu_rl.envs import register_envs as _register_envs  # noqa: E402

_register_envs()


def __getattr__(name: str):
    # `nalu_rl.load_agent` is imported on first use, so that `import nalu_rl` does not load the agents.
    if name == "load_agent":
        from nalu_rl.runs import load_agent

        return load_agent
    raise AttributeError(f"module 'nalu_rl' has no attribute {name!r}")
