"""A run folder's layout: what each file is called and where it lives, for every trainer and every reader.

::

    config.json                  the run's settings (runs/config_file.py)
    checkpoints/latest.pt        the latest weights and optimiser state (best.pt: chosen by the training range)
    eval_history.csv             the in-training evaluations (agents/history.py)
    extrapolation.json/.csv/.png the evaluation per T (analysis/evaluate.py)
    tb/                          TensorBoard events
    errors/                      tracebacks of async workers that failed
"""

from __future__ import annotations

from pathlib import Path

from nalu_rl.common import files

CONFIG_FILE = "config.json"
CHECKPOINT_DIR = "checkpoints"
LATEST = "latest.pt"
BEST = "best.pt"  # chosen by the training range alone (agents/history.py)
HISTORY_FILE = "eval_history.csv"
RESULT_FILE = "extrapolation.json"
CSV_FILE = "extrapolation.csv"
FIGURE_FILE = "extrapolation.png"
TENSORBOARD_DIR = "tb"
ERRORS_DIR = "errors"
DEFAULT_RUN_ROOT = Path("runs")  # where a run goes when no --out is given


def is_run_folder(run_dir: Path) -> bool:
    """Whether ``run_dir`` holds a run's ``config.json`` (started, perhaps not trained)."""
    return (Path(run_dir) / CONFIG_FILE).exists()


def latest_checkpoint(run_dir: Path) -> Path:
    return Path(run_dir) / CHECKPOINT_DIR / LATEST


def best_checkpoint(run_dir: Path) -> Path:
    return Path(run_dir) / CHECKPOINT_DIR / BEST


CHECKPOINTS = {"latest": latest_checkpoint, "best": best_checkpoint}  # what eval can score: the final weights, or the best


def checkpoint_path(run_dir: Path, which: str) -> Path:
    """``checkpoints/latest.pt`` (``which="latest"``) or ``checkpoints/best.pt`` (``"best"``); ValueError for another name."""
    if which not in CHECKPOINTS:
        raise ValueError(f"checkpoint must be one of {', '.join(CHECKPOINTS)}, got {which!r}")
    return CHECKPOINTS[which](run_dir)


# What nalu-rl writes inside a run folder, files and folders (the peer's model.zip and training.json are replaced
# whole, which never follows a link; a folder is written into, which does).
OWN_ENTRIES = (CONFIG_FILE, CHECKPOINT_DIR, f"{CHECKPOINT_DIR}/{LATEST}", f"{CHECKPOINT_DIR}/{BEST}", HISTORY_FILE,
               RESULT_FILE, CSV_FILE, FIGURE_FILE, TENSORBOARD_DIR, ERRORS_DIR)  # fmt: skip


def check_own_files(run_dir: Path) -> None:
    """ValueError naming the first of the run's files or folders that is a symbolic link, before anything is written.

    A run folder may come from someone else: a link in it (``tb -> ~/.ssh``) would lead the writes of training or an
    evaluation out of the folder the user named, so nalu-rl writes only into folders whose entries are their own.
    """
    run_dir = Path(run_dir)
    for name in OWN_ENTRIES:
        path = run_dir / name
        if path.is_symlink():
            raise ValueError(f"{path} is a symbolic link: a run folder's files must be its own (a link could lead writes "
                             "out of it); replace it with the file or folder itself")  # fmt: skip


def check_writable(run_dir: Path) -> None:
    """ValueError (naming the path) unless training can write every file it will write: before the work, not after."""
    run_dir = Path(run_dir)
    check_own_files(run_dir)
    targets = [run_dir / CONFIG_FILE, latest_checkpoint(run_dir), best_checkpoint(run_dir), run_dir / HISTORY_FILE]
    for path in targets:
        if path.exists() and not path.is_file():
            raise ValueError(f"{path} is in the way (not a file): move it aside, then run again")
    for folder in (run_dir, run_dir / CHECKPOINT_DIR, run_dir / TENSORBOARD_DIR):
        if folder.exists() and not folder.is_dir():
            raise ValueError(f"{folder} is in the way (not a folder): move it aside, then run again")
        try:
            folder.mkdir(parents=True, exist_ok=True)
            probe = files.temp_path(folder / ".write-probe")
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as err:
            raise ValueError(f"cannot write into {folder}: {err.strerror or err}") from None


def remove_stale_temps(run_dir: Path) -> list[Path]:
    """Remove what writers killed mid-write left in the run folder (``.NAME.PID.tmp`` files); the paths removed."""
    run_dir = Path(run_dir)
    return [*files.remove_stale_temps(run_dir), *files.remove_stale_temps(run_dir / CHECKPOINT_DIR)]
