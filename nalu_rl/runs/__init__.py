"""The run folder, below every trainer and reader: its layout, its ``config.json``, and what kind of run it holds.

Agents, baselines, analysis and sweep all find a run's files here (:mod:`~nalu_rl.runs.layout`),
read and write its settings here (:mod:`~nalu_rl.runs.config_file`) and ask here what trains or
loads it (:mod:`~nalu_rl.runs.kinds`).
"""

from nalu_rl.runs.config import EVAL_EPISODES, EVAL_T, MODES, EvalSettings, RunConfig
from nalu_rl.runs.config_file import (
    DAMAGED_CONFIG,
    read_config,
    read_json,
    with_provenance,
    with_resume,
    write_config,
)
from nalu_rl.runs.kinds import Display, RunKind, TrainJob, display_of, kind_of, load_agent
from nalu_rl.runs.layout import (
    BEST,
    CHECKPOINT_DIR,
    CHECKPOINTS,
    CONFIG_FILE,
    CSV_FILE,
    DEFAULT_RUN_ROOT,
    ERRORS_DIR,
    FIGURE_FILE,
    HISTORY_FILE,
    LATEST,
    RESULT_FILE,
    TENSORBOARD_DIR,
    best_checkpoint,
    check_own_files,
    check_writable,
    checkpoint_path,
    is_run_folder,
    latest_checkpoint,
    remove_stale_temps,
)

__all__ = [
    "BEST", "CHECKPOINTS", "CHECKPOINT_DIR", "CONFIG_FILE", "CSV_FILE", "DAMAGED_CONFIG", "EVAL_EPISODES", "EVAL_T", "MODES",
    "DEFAULT_RUN_ROOT", "ERRORS_DIR", "EvalSettings", "FIGURE_FILE", "HISTORY_FILE", "LATEST", "RESULT_FILE", "RunConfig",
    "TENSORBOARD_DIR", "RunKind",
    "Display", "TrainJob", "best_checkpoint", "display_of", "check_own_files", "check_writable", "checkpoint_path", "is_run_folder", "kind_of", "latest_checkpoint",
    "load_agent", "read_config", "read_json", "remove_stale_temps", "with_provenance", "with_resume", "write_config",
]  # fmt: skip
