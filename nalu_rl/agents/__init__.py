"""Actor-critic agents with recurrent cores (``lstm``, ``lstm_nac``, ...), their training and loading.

* :func:`train` — train one agent into a run folder (what ``nalu-rl train`` runs);
* :func:`load_agent` → :class:`Agent` — act with a trained agent (``agent.predict``);
* :func:`register_core` — add a :class:`Core` of your own, which presets may then name.
"""

from nalu_rl.agents.config import AgentConfig
from nalu_rl.agents.cores import CORES, Core, register_core
from nalu_rl.agents.loading import load_agent
from nalu_rl.agents.planning import TrainRequest
from nalu_rl.agents.policy import Agent
from nalu_rl.agents.trainer import TrainingInterrupted, WorkerError, train

__all__ = [
    "CORES", "Agent", "AgentConfig", "Core", "TrainRequest", "TrainingInterrupted", "WorkerError", "load_agent", "register_core", "train",
]
