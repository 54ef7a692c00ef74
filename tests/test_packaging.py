"""Packaging: every subpackage ships, presets are package data, the CLI answers."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import tomllib

import nalu_rl
from nalu_rl import presets
from nalu_rl.cli import main
from nalu_rl.envs import DEFAULT_PRESET, env_kwargs_from_preset

ROOT = Path(__file__).resolve().parents[1]


def test_every_subpackage_is_listed_in_pyproject():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    on_disk = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "nalu_rl").rglob("__init__.py")}
    assert on_disk <= listed, f"add to [tool.setuptools] packages: {sorted(on_disk - listed)}"


def test_shipped_presets_load():
    assert {"paper_grid", "paper", "fast", "pixels_strict", DEFAULT_PRESET} <= set(presets.available("envs"))
    assert {"lstm", "lstm_nac", "lstm_nac_input", "lstm_nac_acc", "lstm_nau", "gru", "lstm_countdown", "lstm_clock"} <= set(
        presets.available("agents")
    )
    assert env_kwargs_from_preset("paper")[1]["obs_mode"] == "pixels"
    assert env_kwargs_from_preset("fast")[1]["obs_mode"] == "grid"


def test_preset_by_path_and_errors(tmp_path):
    good = tmp_path / "tiny.toml"
    good.write_text('size = 3\nt_range = [2, 4]\nobs_mode = "grid"\n')
    assert env_kwargs_from_preset(str(good)) == (
        "tiny",
        {"size": 3, "t_range": [2, 4], "obs_mode": "grid", "time_limit": None,
         "placement": "reachable", "reward": "exact", "timing_penalty": 0.15},
    )  # complete: the defaults it leaves out are recorded too
    with pytest.raises(presets.PresetError, match="unknown env preset 'nope'"):
        env_kwargs_from_preset("nope")
    bad = tmp_path / "bad.toml"
    bad.write_text("size = [")
    with pytest.raises(presets.PresetError, match="malformed"):
        env_kwargs_from_preset(str(bad))
    wrong = tmp_path / "wrong.toml"
    wrong.write_text("speed = 3\n")
    with pytest.raises(presets.PresetError, match="speed"):
        env_kwargs_from_preset(str(wrong))


def test_wheel_contains_presets(tmp_path):
    """A regular (non-editable) install gets the TOML presets as package data."""
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("nalu_rl-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"nalu_rl/presets/envs/paper.toml", "nalu_rl/presets/envs/fast.toml"} <= names
    in_repository = {f"nalu_rl/presets/{kind}/{p.name}" for kind in presets.KINDS for p in (ROOT / kind).glob("*.toml")}
    assert {f"nalu_rl/presets/agents/{name}.toml" for name in ("lstm", "lstm_nac")} <= in_repository
    assert {n for n in names if n.startswith("nalu_rl/presets/") and n.endswith(".toml")} == in_repository


def test_cli_help_and_module_entry():
    out = subprocess.run([sys.executable, "-m", "nalu_rl", "--help"], capture_output=True, text=True, check=True)
    assert "bench" in out.stdout


def test_cli_usage_errors_exit_2(capsys):
    assert main([]) == 2
    with pytest.raises(SystemExit) as exc:
        main(["no-such-command"])
    assert exc.value.code == 2
    assert main(["bench", "env", "--ks", "0"]) == 2
    assert main(["bench", "train", "--agent", "lstm,nope", "--ppo-frames", "0"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "error:" in err


def test_bench_env_runs_and_prints_table(capsys):
    assert main(["bench", "env", "--ks", "1,64", "--sync-ks", "4", "--modes", "grid", "--seconds", "0.05"]) == 0
    table = capsys.readouterr().out
    assert "single" in table and "sync_vector" in table and table.count("batched") == 2


def test_bench_train_times_several_agents_in_one_run(tmp_path, capsys):
    out = tmp_path / "bench.json"
    argv = ["bench", "train", "--agent", "lstm,lstm_nac", "--env", "paper", "--frames", "256", "--configs", "sync:1x8",
            "--ppo-frames", "0", "--json", str(out)]  # fmt: skip
    assert main(argv) == 0
    rows = json.loads(out.read_text())
    assert [row["trainer"] for row in rows] == ["nalu-rl lstm", "nalu-rl lstm_nac"]
    assert all(row["frames"] >= 256 and row["steps_per_s"] > 0 for row in rows)
    assert "nalu-rl lstm_nac" in capsys.readouterr().out


def test_bench_train_compares_pixels_with_grid_in_one_run(tmp_path, capsys):
    out = tmp_path / "bench.json"
    argv = ["bench", "train", "--agents", "lstm", "--env", "fast,pixels_strict", "--frames", "256", "--configs", "sync:1x8",
            "--ppo-frames", "0", "--json", str(out)]  # fmt: skip
    assert main(argv) == 0
    grid, pixels = json.loads(out.read_text())
    assert (grid["env"], pixels["env"]) == ("fast", "pixels_strict") and grid["vs_first_env"] == 1.0
    assert pixels["vs_first_env"] == pytest.approx(pixels["steps_per_s"] / grid["steps_per_s"])
    assert "x fast" in capsys.readouterr().out


def test_bench_ratios_compare_with_the_peer_on_the_same_environment():
    from nalu_rl.bench.train import _ratios

    def row(trainer, env, frames):
        return {"trainer": trainer, "env": env, "mode": "sync", "envs": "1x8", "variant": "native", "frames": frames, "wall_s": 1.0}

    rows = [row("sb3 peer", "grid", 100), row("sb3 peer", "pixels", 50), row("nalu-rl lstm", "grid", 1000), row("nalu-rl lstm", "pixels", 400)]
    _ratios(rows, "grid")
    assert [r["vs_ppo"] for r in rows[2:]] == [10.0, 8.0] and [r["vs_first_env"] for r in rows[2:]] == [1.0, 0.4]


# Lowest first: a package may import those before it (docs/ARCHITECTURE.md), and the package root (registration).
LAYERS = ("common", "version", "nn", "presets", "envs", "evaluation", "runs", "agents", "arith", "baselines",
          "analysis", "sweep", "bench", "cli", "__main__")  # fmt: skip


def _import_graph() -> dict[str, set[str]]:
    """Module → the modules of ours it imports, at the top or inside functions alike."""
    import ast

    root = Path(nalu_rl.__file__).parent
    modules = {".".join(p.relative_to(root.parent).with_suffix("").parts).removesuffix(".__init__"): p for p in root.rglob("*.py")}
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for module, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "nalu_rl":
                for alias in node.names:
                    name = f"{node.module}.{alias.name}"
                    graph[module].add(name if name in modules else node.module)
            elif isinstance(node, ast.Import):
                graph[module].update(a.name for a in node.names if a.name in modules)
    return graph


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "nalu_rl"


def test_imports_point_one_way():
    graph = _import_graph()
    assert {_layer(m) for m in graph} - {"nalu_rl"} == set(LAYERS)  # a new package takes its place in LAYERS
    upward = sorted(
        f"{module} imports {target}"
        for module, targets in graph.items()
        for target in targets
        if _layer(module) != "nalu_rl" and _layer(target) != "nalu_rl"
        and LAYERS.index(_layer(target)) > LAYERS.index(_layer(module))
    )
    assert upward == []


def test_no_module_imports_itself_back_through_others():
    graph = _import_graph()
    seen: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(module: str, path: list[str]) -> None:
        seen[module] = 1
        for target in sorted(graph[module]):
            assert seen.get(target) != 1, " -> ".join([*path, module, target])
            if target not in seen:
                visit(target, [*path, module])
        seen[module] = 2

    for module in sorted(graph):
        if module not in seen:
            visit(module, [])
