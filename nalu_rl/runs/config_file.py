"""A run's ``config.json``: read with every field checked, written atomically, stamped with where it ran."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from nalu_rl.common import files
from nalu_rl.common.provenance import command_line, kernels, libraries, provenance, utc_now
from nalu_rl.runs.config import MissingFields, RunConfig
from nalu_rl.runs.layout import CONFIG_FILE

DAMAGED_CONFIG = "restore it from a copy, or train the run again into a new --out folder"


def read_json(run_dir: Path) -> dict[str, Any]:
    """The run's ``config.json`` as it is, unchecked but a JSON object; FileNotFoundError or ValueError naming the file.

    For readers that need a field or two (identity, provenance) of folders that may predate a check.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise FileNotFoundError(f"run folder not found: {run_dir}")
    path = run_dir / CONFIG_FILE
    if not path.is_file():
        raise FileNotFoundError(
            f"not a run folder (no {CONFIG_FILE}): {run_dir}; give a folder that nalu-rl train or baseline wrote"
        )
    try:
        config = files.read_json(path)
    except (OSError, UnicodeDecodeError) as err:
        raise ValueError(f"{path} cannot be read as text ({type(err).__name__}): {DAMAGED_CONFIG}") from None
    except json.JSONDecodeError as err:
        if not err.doc.strip():
            raise ValueError(f"{path} is empty: {DAMAGED_CONFIG}") from None
        where = f"{err.msg.lower()} at line {err.lineno}, column {err.colno}"
        raise ValueError(f"{path} is not valid JSON ({where}): {DAMAGED_CONFIG}") from None
    if not isinstance(config, dict):
        raise ValueError(f"{path} is not a JSON object of a run's settings: {DAMAGED_CONFIG}")
    return config


def read_config(run_dir: Path) -> RunConfig:
    """The run's settings; FileNotFoundError for a missing folder or ``config.json``, ValueError naming the field if damaged."""
    table = read_json(run_dir)
    try:
        return RunConfig.from_json(table)
    except ValueError as err:
        joint = " " if isinstance(err, MissingFields) else ": "  # "config.json lacks seed", "config.json: seed must be ..."
        raise ValueError(f"{Path(run_dir) / CONFIG_FILE}{joint}{err}: {DAMAGED_CONFIG}") from None


def write_config(run_dir: Path, config: RunConfig) -> None:
    """Write ``config.json`` atomically (temp file + rename)."""
    files.write_json(Path(run_dir) / CONFIG_FILE, config.to_json())


def with_provenance(config: RunConfig) -> RunConfig:
    """A new run's config with ``provenance``: versions, git commit, command line, start time (:mod:`~nalu_rl.common.provenance`)."""
    return config.replace(provenance=provenance(config.version))


def with_resume(config: RunConfig, version: str) -> RunConfig:
    """A resumed run's config: its provenance kept, this session appended to ``resumes``."""
    session = {"at": utc_now(), "version": version, "command": command_line(), "kernels": kernels(), "libraries": libraries()}
    return config.replace(version=version, resumes=(*config.resumes, session))
