"""Peer baselines from other libraries, trained on the same environment into ordinary run folders.

* :func:`train_recurrent_ppo` — sb3-contrib's ``RecurrentPPO`` (what ``nalu-rl baseline`` runs);
* :func:`load_sb3_agent` → :class:`SB3Agent` — the trained peer with the same ``predict`` /
  ``initial_state`` / ``config`` as :class:`nalu_rl.agents.Agent`, so ``nalu-rl eval``,
  ``report``, ``play`` and :func:`nalu_rl.load_agent` take its run folder like any other;
* :class:`TimedGridSB3VecEnv` — the environment as one batched Stable-Baselines3 ``VecEnv`` (what the peer trains on).

Stable-Baselines3 and sb3-contrib are imported only when a baseline is trained or loaded, or when
:class:`TimedGridSB3VecEnv` is first asked for (``from nalu_rl.baselines import TimedGridSB3VecEnv``).
"""

from nalu_rl.baselines.agent import SB3Agent, load_sb3_agent
from nalu_rl.baselines.hyperparameters import DEFAULT_FRAMES, DEFAULTS
from nalu_rl.baselines.run_folder import AGENT_NAME, ALGOS, is_finished
from nalu_rl.baselines.training import BaselineInterrupted, train_recurrent_ppo

__all__ = [
    "AGENT_NAME", "ALGOS", "BaselineInterrupted", "DEFAULTS", "DEFAULT_FRAMES", "SB3Agent", "TimedGridSB3VecEnv",
    "is_finished", "load_sb3_agent", "train_recurrent_ppo",
]  # fmt: skip


def __getattr__(name: str):
    # The adapter subclasses SB3's VecEnv, so its module imports SB3: loaded on first use, as the peer's training is.
    if name == "TimedGridSB3VecEnv":
        from nalu_rl.baselines.vec_env import TimedGridSB3VecEnv

        return TimedGridSB3VecEnv
    raise AttributeError(f"module 'nalu_rl.baselines' has no attribute {name!r}")
