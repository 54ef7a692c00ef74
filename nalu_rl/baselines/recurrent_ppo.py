"""The Stable-Baselines3 peer: sb3-contrib's ``RecurrentPPO`` on ``nalu_rl/TimedGrid-v0``.

:func:`train_recurrent_ppo` trains ``RecurrentPPO("MultiInputLstmPolicy", ...)`` (an LSTM of 64
units, 16 environments in a ``DummyVecEnv``) on the same environment preset as our agents and
writes an ordinary run folder::

    config.json            {"agent": "recurrent_ppo", "algo": "recurrent-ppo", "env", "env_preset", "seed", "frames", ...}
    model.zip              the SB3 model (RecurrentPPO.save), written when training finishes
    training.json          frames done, wall time, success rate and reward of the last 100 episodes
    tb/RecurrentPPO_1/     SB3's own TensorBoard logs (rollout/success_rate, rollout/ep_rew_mean, train/...)
    checkpoints/latest.zip periodic checkpoint while training (removed once model.zip is written)

:func:`load_sb3_agent` returns an :class:`SB3Agent` with the ``predict`` / ``initial_state`` /
``config`` of :class:`nalu_rl.agents.Agent`, so ``evaluate_run``, ``play`` and the report take
the peer like any other run. Resuming continues from the checkpoint with the saved weights and
optimiser state; it is not bit-identical to an uninterrupted run (SB3 saves neither the rollout
buffer nor the environments' random streams).

The code lives in :mod:`~nalu_rl.baselines.training` (training and resuming),
:mod:`~nalu_rl.baselines.agent` (the agent and its loader), :mod:`~nalu_rl.baselines.hyperparameters`
and :mod:`~nalu_rl.baselines.run_folder`; this module is their public address. The peer's run kind
(:mod:`~nalu_rl.baselines.kind`, an entry point in ``pyproject.toml``) is how sweeps and ``load_agent`` find it.
"""

from nalu_rl.baselines.agent import SB3Agent, load_sb3_agent
from nalu_rl.baselines.hyperparameters import DEFAULT_FRAMES, DEFAULTS, resolve_hyperparameters
from nalu_rl.baselines.run_folder import (
    AGENT_NAME,
    ALGOS,
    CHECKPOINT_FILE,
    MODEL_FILE,
    TB_NAME,
    TRAINING_FILE,
    checkpoint_path,
    is_finished,
    model_path,
)
from nalu_rl.baselines.sb3 import INSTALL_HINT
from nalu_rl.baselines.training import BaselineInterrupted, make_vec_env, train_recurrent_ppo

__all__ = [
    "AGENT_NAME", "ALGOS", "CHECKPOINT_FILE", "DEFAULTS", "DEFAULT_FRAMES", "INSTALL_HINT", "MODEL_FILE", "TB_NAME",
    "TRAINING_FILE", "BaselineInterrupted", "SB3Agent", "checkpoint_path", "is_finished", "load_sb3_agent", "make_vec_env",
    "model_path", "resolve_hyperparameters", "train_recurrent_ppo",
]  # fmt: skip
