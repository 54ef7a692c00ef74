"""nalu-rl: timing extrapolation in reinforcement-learning agents with neural arithmetic units.

Trask et al., "Neural Arithmetic Logic Units" (NeurIPS 2018, section 4.5): an agent in a 5x5 grid world is told an
integer T and must step onto a target at exactly t = T. An LSTM agent trained on T in 5..12 fails past T of about 13;
with a Neural Accumulator (NAC) fed back into its LSTM it keeps time further. nalu-rl rebuilds the experiment:
the environment ``nalu_rl/TimedGrid-v0`` (registered for ``gym.make`` on import), A2C/A3C agents with LSTM and
LSTM + NAC cores, and what trains, evaluates and reports them, from Python or as the ``nalu-rl`` command.

From Python (:mod:`nalu_rl.api`; each function's help has its arguments and an example):

* ``train(agent, env=..., frames=..., out=...)`` -- train one agent into a run folder; returns the folder
* ``evaluate(run, t_values=..., episodes=...)`` -- success and the paper's reward at each T; writes extrapolation.json
* ``report(runs_dir, out=...)`` -- aggregate evaluated runs: tables (report.md) and figures, beside the runs by default
* ``load_agent(run)`` -- the trained agent; ``agent.predict(obs, state, episode_start, deterministic)``

>>> import nalu_rl
>>> run = nalu_rl.train("lstm_nac", env="fast", frames=4096, out="runs/demo/lstm_nac-s0", progress=False)
>>> doc = nalu_rl.evaluate(run, t_values="5-20", episodes=20)  # doc["results"]: one row per T
>>> summary = nalu_rl.report("runs/demo")  # runs/demo-report/report.md, report.png, ...
>>> agent = nalu_rl.load_agent(run)
>>> print(summary["markdown"])  # doctest: +SKIP

A run that learns takes the preset's frames (leave frames out: 20M for lstm_nac); the README says what to expect.
"""

import sys as _sys

from nalu_rl.version import __version__ as __version__

if _sys.argv[:1] == ["-m"] or _sys.argv[0].endswith("nalu-rl"):  # started as the command line (python -m nalu_rl, nalu-rl)
    from nalu_rl.common.signals import quiet_start_up as _quiet_start_up

    _quiet_start_up()

from nalu_rl.envs import register_envs as _register_envs  # noqa: E402

_register_envs()


__all__ = ["__version__", "evaluate", "load_agent", "report", "train"]
_API = frozenset(__all__) - {"__version__"}


def __getattr__(name: str):
    # The API is imported on first use, so that `import nalu_rl` (gym.make, the command line's start) loads no torch.
    if name in _API:
        from nalu_rl import api

        return getattr(api, name)
    raise AttributeError(f"module 'nalu_rl' has no attribute {name!r}")


def __dir__() -> list[str]:
    # dir() and help() list the lazily imported functions too
    return sorted({*globals(), *__all__})
