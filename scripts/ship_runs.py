"""Copy finished run folders into the repository as a reader needs them: config, results, history, weights only.

    python scripts/ship_runs.py SRC_FOLDER DEST_FOLDER

Each run folder under SRC_FOLDER (one holding config.json) is copied to DEST_FOLDER/<name>/ with its config.json,
extrapolation.json, eval_history.csv and checkpoints/latest.pt reduced to the network's weights (no
optimiser or RNG state: a shipped run can be evaluated, reported and played, not resumed). TensorBoard events stay
behind.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from nalu_rl import runs
from nalu_rl.agents.checkpoint import load_checkpoint, save_checkpoint

KEPT = (runs.CONFIG_FILE, runs.RESULT_FILE, runs.HISTORY_FILE)


def ship(src: Path, dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    for name in KEPT:
        if (src / name).is_file():
            shutil.copyfile(src / name, dest / name)
    for path in (runs.latest_checkpoint(src),):  # the final weights: what the README's tables scored
        if path.is_file():
            payload = load_checkpoint(path)
            save_checkpoint(dest / runs.CHECKPOINT_DIR / path.name, model=payload["model"], optimizer={},
                            frames=payload["frames"], updates=payload["updates"], rng={}, core=payload.get("core"))  # fmt: skip


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    src, dest = Path(argv[0]), Path(argv[1])
    folders = sorted(p.parent for p in src.glob(f"*/{runs.CONFIG_FILE}"))
    for folder in folders:
        ship(folder, dest / folder.name)
    print(f"shipped {len(folders)} runs into {dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
