"""Agent hyper-parameters: the ``agents/*.toml`` presets, validated and resolved.

A preset holds the hyper-parameters at its top level (and, for a core of one's own, the ``core_module`` that
registers it), those that differ for pixel observations in its ``[pixels]`` table and for asynchronous workers in its ``[async]`` table, and the defaults of
a run (environment, frames, mode, workers, envs per worker) in its ``[run]`` table; command-line
flags and ``overrides`` win over all of them.
"""

from __future__ import annotations

import dataclasses
import importlib
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from nalu_rl import presets, runs
from nalu_rl.common.checks import check_int

OPTIMIZERS = ("adam", "rmsprop")
LR_SCHEDULES = ("constant", "linear")
PIXEL_ENCODERS = ("cells", "cell_sums", "cell_means", "atari")
RUN_KEYS = ("env", "frames", "mode", "workers", "envs_per_worker")
# Bounds of the hyper-parameters: wide enough for any sensible run, tight enough that a typo (lr=inf, n_steps=10**9)
# is refused before anything trains rather than ending in NaN weights or an allocator's traceback.
SIZE_LIMITS = {"encoder_size": 4096, "pixel_channels": 1024, "hidden_size": 4096, "unit_size": 1024, "n_steps": 4096}
NUMBER_LIMITS = {  # name: (low, high, low excluded)
    "instruction_scale": (0.0, 1e3, True), "lr": (0.0, 1.0, True), "eps": (0.0, 1.0, True),
    "max_grad_norm": (0.0, 1e6, True), "entropy_coef": (0.0, 1e3, False), "value_coef": (0.0, 1e3, False),
    "unit_reg_coef": (0.0, 1e3, False), "count_coef": (0.0, 1e3, False), "gamma": (0.0, 1.0, False),
    "gae_lambda": (0.0, 1.0, False), "adam_beta1": (0.0, 0.999, False),
}  # fmt: skip


@dataclass(frozen=True)
class AgentConfig:
    """Network and learning hyper-parameters of one agent (``config.json["agent_config"]``)."""

    core: str = "lstm"
    encoder_size: int = 64  # features out of the observation encoder
    # pixels only: "cells" (one conv window per grid cell), "cell_sums" (the same from each cell's pixel sums, faster),
    # "cell_means" (the same start over each cell's mean colour: a per-cell layer that learns 121x slower) or "atari"
    pixel_encoder: str = "cells"
    pixel_channels: int = 64  # channels of the cell encoders' convolution (see network.CellEncoder)
    hidden_size: int = 64  # LSTM / GRU units
    unit_size: int = 8  # outputs of the arithmetic unit in lstm_nac / lstm_nau
    instruction_scale: float = 1.0  # the core sees T * scale: linear, so T outside training stays distinct
    optimizer: str = "adam"
    adam_beta1: float = 0.9  # Adam's momentum (asynchronous workers add momentum of their own: docs/FINDINGS.md)
    lr: float = 3e-3
    lr_schedule: str = "constant"  # "linear": decays to 0 at the run's last frame
    eps: float = 1e-5  # optimiser epsilon
    gamma: float = 0.99
    gae_lambda: float = 1.0  # 1: n-step returns (A3C); < 1: λ-returns, i.e. GAE advantages
    n_steps: int = 16  # rollout length = truncated-BPTT window
    entropy_coef: float = 0.01
    value_coef: float = 0.5
    max_grad_norm: float = 1.0
    unit_reg_coef: float = 0.0  # weight of the arithmetic unit's regulariser (NAU sparsity)
    count_coef: float = 0.0  # weight of the auxiliary counting loss (clock cores; see a2c.counting_loss)
    unit_to_heads: bool = False  # cores with an arithmetic unit: its output reaches the policy and value heads too
    time_left_cap: int = 0  # lstm_countdown: the LSTM reads at most this many steps left (0: no cap)

    def __post_init__(self) -> None:
        from nalu_rl.agents.cores import CORES, core_class

        try:
            core = core_class(self.core)
        except ValueError as err:
            raise ValueError(f"core: {err}") from None
        for name, hi in SIZE_LIMITS.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= hi:
                raise ValueError(f"{name} must be an integer in [1, {hi}], got {value!r}")
        for name, (lo, hi, lo_open) in NUMBER_LIMITS.items():
            value = getattr(self, name)
            inside = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
            if not (inside and (lo < value if lo_open else lo <= value) and value <= hi):
                raise ValueError(f"{name} must be a finite number in {'(' if lo_open else '['}{lo:g}, {hi:g}], got {value!r}")
        if self.count_coef > 0 and not core.counts:
            counting = sorted(name for name, core in CORES.items() if core.counts)
            raise ValueError(f"count_coef needs a core with a clock ({', '.join(counting)}), got {self.core!r}")
        if not isinstance(self.unit_to_heads, bool):
            raise ValueError(f"unit_to_heads must be true or false, got {self.unit_to_heads!r}")
        if self.unit_to_heads and not core.has_unit:
            with_unit = sorted(name for name, core in CORES.items() if core.has_unit)
            raise ValueError(f"unit_to_heads needs a core with an arithmetic unit ({', '.join(with_unit)}), got {self.core!r}")
        check_int("time_left_cap", self.time_left_cap, 0)  # 0: no cap
        if self.time_left_cap and not core.reads_time_left:
            reading = sorted(name for name, core in CORES.items() if core.reads_time_left)
            raise ValueError(f"time_left_cap needs a core that reads the time left ({', '.join(reading)}), got {self.core!r}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {self.optimizer!r}")
        if self.pixel_encoder not in PIXEL_ENCODERS:
            raise ValueError(f"pixel_encoder must be one of {PIXEL_ENCODERS}, got {self.pixel_encoder!r}")
        if self.lr_schedule not in LR_SCHEDULES:
            raise ValueError(f"lr_schedule must be one of {LR_SCHEDULES}, got {self.lr_schedule!r}")

    @classmethod
    def from_dict(cls, table: dict[str, Any]) -> AgentConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(table) - known
        if unknown:
            raise ValueError(f"unknown hyper-parameter(s) {sorted(unknown)}; allowed: {', '.join(sorted(known))}")
        return cls(**table)

    @classmethod
    def of_run(cls, table: dict[str, Any]) -> AgentConfig:
        """The hyper-parameters in a run's ``config.json``, with what older versions implied.

        Runs written before ``pixel_encoder`` existed (nalu-rl 0.1.0) saw pixels through the Atari
        encoder. Runs written before ``unit_to_heads`` existed (0.2.0 and older) passed the unit's
        output to the heads, and their ``lstm_nac`` was the accumulator now named ``lstm_nac_acc``.
        """
        table = {"pixel_encoder": "atari", **table}
        if "unit_to_heads" not in table:
            if table.get("core") == "lstm_nac":
                table["core"] = "lstm_nac_acc"
            table["unit_to_heads"] = table.get("core") in ("lstm_nac_acc", "lstm_nau")
        return cls.from_dict(table)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def agent_config_of(run_dir: Path, config: runs.RunConfig) -> AgentConfig:
    """The hyper-parameters of a run's config.json; ValueError naming the file and the field when they are not valid."""
    try:
        return AgentConfig.of_run(dict(config.agent_config))
    except (TypeError, ValueError) as err:
        raise ValueError(f"{Path(run_dir) / runs.CONFIG_FILE}: agent_config: {err}: {runs.DAMAGED_CONFIG}") from None


def load_preset(
    name_or_path: str, overrides: dict[str, Any] | None = None, env: str | None = None, mode: str | None = None
) -> tuple[str, AgentConfig, dict[str, Any]]:
    """``(name, hyper-parameters, run defaults)`` of an agent preset, with ``overrides`` applied.

    ``overrides`` may hold hyper-parameters and run keys (:data:`RUN_KEYS`) alike. A preset's
    ``[pixels]`` table holds what differs when the environment (``env``, an env preset, or else
    the preset's own ``[run] env``) has pixel observations, its ``[async]`` table what differs when
    the training mode (``mode``, else the overrides' or the preset's own) is ``"async"``: both hold
    hyper-parameters and run keys but ``env`` and ``mode``. ``[async]`` wins over ``[pixels]``,
    overrides over both.
    """
    from nalu_rl.envs import DEFAULT_PRESET, env_kwargs_from_preset
    from nalu_rl.envs.rules import Config
    from nalu_rl.runs.config import DEFAULT_MODE

    name, table = presets.load("agents", name_or_path)
    table = dict(table)
    _import_core_module(name_or_path, name, table.pop("core_module", None))
    _display(name, table.pop("display", {}))
    run = dict(table.pop("run", {}))
    conditional = {key: dict(table.pop(key, {})) for key in ("pixels", "async")}
    unknown_run = set(run) - set(RUN_KEYS)
    if unknown_run:
        raise presets.PresetError(f"agent preset {name!r}: unknown [run] key(s) {sorted(unknown_run)}; allowed: {RUN_KEYS}")
    for key, part in conditional.items():
        for fixed in ("env", "mode"):
            if fixed in part:
                raise presets.PresetError(f"agent preset {name!r}: [{key}] cannot set {fixed}")
    overrides = overrides or {}
    if env is None:
        env = overrides.get("env", run.get("env", DEFAULT_PRESET))
    if mode is None:
        mode = overrides.get("mode", run.get("mode", DEFAULT_MODE))
    applies = {"pixels": Config.from_dict(env_kwargs_from_preset(env)[1]).obs_mode == "pixels", "async": mode == "async"}
    applied: dict[str, Any] = {}
    for part, values in conditional.items():  # in order: [async] wins over [pixels]
        if applies[part]:
            applied.update(values)
    for key, value in {**applied, **overrides}.items():
        (run if key in RUN_KEYS else table)[key] = value
    try:
        for part in conditional.values():  # each table is checked whatever the environment and mode
            AgentConfig.from_dict({**table, **{k: v for k, v in part.items() if k not in RUN_KEYS}})
        config = AgentConfig.from_dict(table)
    except (TypeError, ValueError) as err:
        raise presets.PresetError(f"agent preset {name!r}: {err}") from None
    return name, config, run


def prepare_preset(name_or_path: str) -> None:
    """Make the core an agent preset names available in this process: import its ``core_module``, if it has one.

    What a sweep's worker process does before it resumes or evaluates a run of a preset given by path.
    """
    name, table = presets.load("agents", name_or_path)
    _import_core_module(name_or_path, name, table.get("core_module"))


def _import_core_module(name_or_path: str, name: str, module: Any) -> None:
    """Import the module a preset's top-level ``core_module`` names, from the preset's own folder, so that it registers
    its core (:func:`nalu_rl.agents.register_core`) before the preset's ``core`` is looked up.

    Importing a module named in a preset that the user hands to a command (``--agent mine.toml``) is the user's own
    choice, as ``python -m mine`` is. A run folder never causes this: its config.json holds the preset's name and
    display, not its path nor its module, so loading a run finds only cores registered by code already running or
    by installed packages (the ``nalu_rl.cores`` entry points).
    """
    if module is None:
        return
    if not isinstance(module, str) or not all(part.isidentifier() for part in module.split(".")):
        raise presets.PresetError(f"agent preset {name!r}: core_module must be a module name such as 'my_core', got {module!r}")
    # The preset's folder goes last on sys.path: an installed module is never shadowed, and processes spawned later
    # (async workers, a sweep's pool) inherit the path and can unpickle the core's class.
    folder = str(presets.resolve("agents", name_or_path)[1].parent.resolve())
    if folder not in sys.path:
        sys.path.append(folder)
    try:
        importlib.import_module(module)
    except ImportError as err:
        raise presets.PresetError(f"agent preset {name!r}: core_module {module!r} does not import from {folder} or the "
                                  f"installed packages: {err}") from None


def preset_display(name_or_path: str) -> runs.Display:
    """How reports name, colour and compare an agent preset: its ``[display]`` table (``label``, ``color``,
    ``baseline``), else its name."""
    name, table = presets.load("agents", name_or_path)
    return _display(name, table.get("display", {}))


def _display(name: str, table: Any) -> runs.Display:
    try:
        return runs.Display.from_table(name, table)
    except ValueError as err:
        raise presets.PresetError(f"agent preset {name!r}: {err}") from None


def parse_override(text: str) -> tuple[str, Any]:
    """``"lr=3e-4"`` → ``("lr", 0.0003)``: the value is read as TOML, else kept as a string."""
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ValueError(f"--set expects KEY=VALUE, got {text!r}")
    try:
        return key, tomllib.loads(f"v = {value.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        return key, value.strip()
