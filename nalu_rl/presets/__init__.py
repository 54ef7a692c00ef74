"""Declarative presets (TOML) for environments and agents.

The files live in the repository's ``envs/`` and ``agents/`` folders (read from there in an
editable install) and are installed as the ``nalu_rl.presets.envs`` / ``nalu_rl.presets.agents``
package data by a regular one, so a preset can be named (``fast``) or given as a path
(``my/variant.toml``) either way.
"""

from __future__ import annotations

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib
from importlib import resources
from pathlib import Path
from typing import Any

KINDS = ("envs", "agents")


class PresetError(ValueError):
    """An unknown preset name, a missing file or a malformed TOML file."""


def available(kind: str) -> list[str]:
    """Names of the presets shipped for ``kind`` ("envs" or "agents")."""
    folder = _folder(kind)
    return sorted(p.name[: -len(".toml")] for p in folder.iterdir() if p.name.endswith(".toml"))


def is_path(name_or_path: str | Path) -> bool:
    """Whether a preset is given as a file path (a ``.toml`` name or an existing file) rather than a shipped name.

    A folder is never a preset: `--out lstm` leaves a folder named like the preset it trained.
    """
    candidate = Path(name_or_path)
    return candidate.suffix == ".toml" or candidate.is_file()


def resolve(kind: str, name_or_path: str | Path) -> tuple[str, Path]:
    """Return ``(name, path)`` of a preset given by shipped name or by file path; TypeError for anything else."""
    if not isinstance(name_or_path, (str, Path)):
        raise TypeError(f"{kind[:-1]} preset must be a name or a path, got {name_or_path!r}")
    candidate = Path(name_or_path)
    if is_path(candidate):
        if not candidate.is_file():
            raise PresetError(f"{kind[:-1]} preset file not found: {candidate}")
        return candidate.stem, candidate
    shipped = _folder(kind) / f"{name_or_path}.toml"
    if not shipped.is_file():
        raise PresetError(
            f"unknown {kind[:-1]} preset {str(name_or_path)!r}; available: {', '.join(available(kind))}"
        )
    return str(name_or_path), Path(str(shipped))


def load(kind: str, name_or_path: str | Path) -> tuple[str, dict[str, Any]]:
    """Return ``(name, table)`` of a preset; see :func:`resolve`."""
    name, path = resolve(kind, name_or_path)
    try:
        with open(path, "rb") as fh:
            return name, tomllib.load(fh)
    except tomllib.TOMLDecodeError as err:
        raise PresetError(f"malformed preset {path}: {err}") from None


def _folder(kind: str):
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    try:  # a regular install: the presets are package data
        return resources.files(f"nalu_rl.presets.{kind}")
    except ModuleNotFoundError:  # an editable install or a source checkout: the repository's folders
        return Path(__file__).resolve().parents[2] / kind
