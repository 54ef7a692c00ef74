"""An evaluation in a run's TensorBoard folder: its measures as scalars, the per-T values as a table, the figure."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from nalu_rl.analysis.text import show
from nalu_rl.evaluation.measures import HORIZON_LEVELS, horizon_key


def log_tensorboard(log_dir: Path, doc: dict[str, Any], image=None, step: int = 0) -> None:
    """The run's measures as scalars at ``step`` (its frames), the per-T values as a table and the figure.

    Per-T values are not scalars: TensorBoard would put T on its step axis and smooth across neighbouring T.
    """
    from torch.utils.tensorboard import SummaryWriter

    prefix = f"extrapolation/{doc['policy']}"
    with SummaryWriter(log_dir=str(log_dir)) as writer:
        for key in (*(horizon_key(q) for q in HORIZON_LEVELS), "reward_horizon", "reward_13_20"):
            value = doc.get(key)
            if value is not None:
                writer.add_scalar(f"{prefix}/{key}", value, global_step=step)
        writer.add_text(f"{prefix}/per_T", per_t_markdown(doc["results"]), global_step=step)
        if image is not None:
            writer.add_image(f"{prefix}/figure", image, global_step=step, dataformats="HWC")


def per_t_markdown(results: Sequence[dict[str, Any]]) -> str:
    """The per-T results as a Markdown table: the paper's reward, success, the share that arrives, mean arrival time."""
    lines = ["| T | reward (paper) | success | arrive | mean arrival |", "|---|---|---|---|---|"]
    for r in results:
        cells = [r.get("paper_reward"), r["success_rate"], r["arrival_rate"], r["mean_arrival_time"]]
        lines.append(f"| {r['T']} | " + " | ".join(show(v, ".3g") for v in cells) + " |")
    return "\n".join(lines)
