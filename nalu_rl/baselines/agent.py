"""The trained peer behind our agents' interface: :class:`SB3Agent` and its loader :func:`load_sb3_agent`."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from nalu_rl import runs
from nalu_rl.agents.checkpoint import ZIP_MAGIC
from nalu_rl.baselines import safe_load
from nalu_rl.baselines.run_folder import AGENT_NAME, MODEL_FILE, checkpoint_path, model_path
from nalu_rl.baselines.sb3 import require_sb3
from nalu_rl.common.devices import resolve_device
from nalu_rl.common.errors import first_line


class SB3Agent:
    """A trained SB3 recurrent model behind the interface of :class:`nalu_rl.agents.Agent`.

    The recurrent state is one array of shape (B, 2·layers·hidden) holding the actor LSTM's h and c
    (NumPy or torch like the observation), so callers treat it as opaquely as our agents' state.
    """

    def __init__(self, model, config: dict[str, Any], device: torch.device) -> None:
        self.model = model
        self.config = config
        self.device = torch.device(device)
        self._layers, _, self._hidden = model.policy.lstm_hidden_state_shape
        self.state_size = 2 * self._layers * self._hidden

    def initial_state(self, batch_size: int) -> torch.Tensor:
        """The recurrent state at the start of an episode, (batch_size, state_size) zeros on the agent's device."""
        return torch.zeros(batch_size, self.state_size, device=self.device)

    def predict(self, obs: dict[str, Any], state: Any = None, episode_start: Any = None, deterministic: bool = False):
        """``(actions, next state)`` for one Gymnasium observation (→ ``np.int64``) or a batch (NumPy or torch)."""
        image = obs["image"]
        as_torch = isinstance(image, torch.Tensor)
        single = image.ndim == 3
        batch = 1 if single else int(image.shape[0])
        np_obs = {key: _numpy(value).reshape(batch, *np.shape(value)[(0 if single else 1) :]) for key, value in obs.items()}
        np_obs["instruction"] = np_obs["instruction"].reshape(batch, 1).astype(np.float32)
        start = None if episode_start is None else _numpy(episode_start).reshape(batch).astype(np.float32)
        actions, (h, c) = self.model.predict(
            np_obs, state=self._lstm_state(state, batch), episode_start=start, deterministic=deterministic
        )
        actions = np.asarray(actions, dtype=np.int64).reshape(batch)
        new_state = np.concatenate([h.transpose(1, 0, 2).reshape(batch, -1), c.transpose(1, 0, 2).reshape(batch, -1)], axis=1)
        if as_torch:
            return torch.as_tensor(actions, device=self.device), torch.as_tensor(new_state, device=self.device)
        return (actions[0] if single else actions), new_state

    def _lstm_state(self, state: Any, batch: int) -> tuple[np.ndarray, np.ndarray] | None:
        """Our flat (B, state_size) state as SB3's (h, c), each (layers, B, hidden)."""
        if state is None:
            return None
        flat = _numpy(state).astype(np.float32)
        if flat.shape != (batch, self.state_size):
            raise ValueError(f"state must have shape ({batch}, {self.state_size}), got {tuple(np.shape(state))}")
        half = self._layers * self._hidden
        parts = (flat[:, i * half : (i + 1) * half].reshape(batch, self._layers, self._hidden) for i in (0, 1))
        h, c = (np.ascontiguousarray(part.transpose(1, 0, 2)) for part in parts)
        return h, c


def _unreadable(path: Path, err: Exception) -> str:
    """Why SB3 could not load ``path``, in the file's terms."""
    with open(path, "rb") as fh:
        head = fh.read(len(ZIP_MAGIC))
    if not head:
        return "an empty file"
    if not zipfile.is_zipfile(path):
        return "not a zip archive" if head != ZIP_MAGIC else "a damaged or truncated zip archive"
    return f"a zip archive SB3 cannot read: {first_line(err)}"


def _numpy(value: Any) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    return np.asarray(value)


def load_sb3_agent(run_dir: str | Path, device: str | torch.device = "cpu") -> SB3Agent:
    """The peer of a baseline run folder (``model.zip``, else the latest checkpoint of an unfinished run).

    FileNotFoundError for a missing folder, config or model; ValueError for a damaged one.
    """
    require_sb3()
    from sb3_contrib import RecurrentPPO

    run_dir = Path(run_dir)
    config = runs.read_config(run_dir)
    if config.agent != AGENT_NAME:
        raise ValueError(f"{run_dir} is not a RecurrentPPO baseline run (agent {config.agent!r})")
    path = next((p for p in (model_path(run_dir), checkpoint_path(run_dir)) if p.is_file()), None)
    if path is None:
        raise FileNotFoundError(f"no trained model in {run_dir}: {MODEL_FILE} not found")
    dev = resolve_device(device)
    try:
        # Unpickled by nalu-rl's restricted unpickler, never by SB3 (safe_load); the schedules are only needed to train.
        custom = {**safe_load.custom_objects(path), "learning_rate": 0.0, "lr_schedule": lambda _: 0.0,
                  "clip_range": lambda _: 0.0}  # fmt: skip
        model = RecurrentPPO.load(path, device=dev, custom_objects=custom)
    except (safe_load.UnsafeModel, safe_load.files.TooLarge):  # said as they are: not damage, a file to distrust
        raise
    except Exception as err:  # zipfile, pickle, torch and KeyError all signal a damaged file
        raise ValueError(
            f"{path} is not a readable RecurrentPPO model ({_unreadable(path, err)}); delete it and rerun "
            f"nalu-rl baseline --resume --out {run_dir} to train on from the latest checkpoint (or afresh)"
        ) from None
    return SB3Agent(model, config.to_json(), dev)
