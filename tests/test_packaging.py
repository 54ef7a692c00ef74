"""Packaging: every subpackage ships, presets and py.typed are package data, the CLI answers, one version everywhere."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
import tomllib
import yaml

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


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel a regular (non-editable) install would install, built once for this module."""
    folder = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(folder), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (path,) = folder.glob("nalu_rl-*.whl")
    return path


def test_wheel_contains_presets(wheel):
    """A regular (non-editable) install gets the TOML presets as package data."""
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"nalu_rl/presets/envs/paper.toml", "nalu_rl/presets/envs/fast.toml"} <= names
    in_repository = {f"nalu_rl/presets/{kind}/{p.name}" for kind in presets.KINDS for p in (ROOT / kind).glob("*.toml")}
    assert {f"nalu_rl/presets/agents/{name}.toml" for name in ("lstm", "lstm_nac")} <= in_repository
    assert {n for n in names if n.startswith("nalu_rl/presets/") and n.endswith(".toml")} == in_repository


def test_wheel_ships_py_typed_and_the_license(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "nalu_rl/py.typed" in names  # PEP 561: without it type checkers ignore the annotations
    assert any(n.endswith(".dist-info/licenses/LICENSE") or n.endswith(".dist-info/LICENSE") for n in names)
    metadata = next(zipfile.ZipFile(wheel).read(n).decode() for n in names if n.endswith(".dist-info/METADATA"))
    assert f"Version: {nalu_rl.__version__}" in metadata.splitlines()


def _project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def test_classifiers_state_the_platforms_the_code_runs_on():
    classifiers = _project()["classifiers"]
    locks = (ROOT / "nalu_rl" / "common" / "locks.py").read_text()
    if re.search(r"^import fcntl", locks, re.M):  # Unix only: Windows has no fcntl
        assert "Operating System :: POSIX" in classifiers
        assert not [c for c in classifiers if "Windows" in c or "OS Independent" in c]
    low = _project()["requires-python"].removeprefix(">=")
    assert f"Programming Language :: Python :: {low}" in classifiers  # the oldest Python it installs on is listed
    assert "License :: OSI Approved :: MIT License" in classifiers and _project()["license"] == {"text": "MIT"}


def test_license_citation_and_changelog_ship_with_the_repository():
    assert (ROOT / "LICENSE").read_text().startswith("MIT License\n\nCopyright (c) ")
    assert "the nalu-rl authors" in (ROOT / "LICENSE").read_text().splitlines()[2]
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert citation["cff-version"] == "1.2.0" and citation["type"] == "software"
    assert citation["version"] == nalu_rl.__version__ and citation["license"] == "MIT"
    paper = next(r for r in citation["references"] if r["title"] == "Neural Arithmetic Logic Units")
    assert paper["year"] == 2018 and paper["authors"][0]["family-names"] == "Trask" and "NeurIPS" in paper["collection-title"]
    changelog = (ROOT / "CHANGELOG.md").read_text()
    releases = re.findall(r"^## \[(\d+\.\d+\.\d+)\] - \d{4}-\d{2}-\d{2}$", changelog, re.M)
    assert releases[0] == nalu_rl.__version__, "add this version's section to CHANGELOG.md"
    assert "0.3.0" in releases and "keepachangelog.com" in changelog


def test_version_command_says_the_package_version():
    out = subprocess.run([sys.executable, "-m", "nalu_rl", "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"nalu-rl {nalu_rl.__version__}"


def test_a_new_run_records_the_code_version_not_stale_install_metadata(tmp_path, monkeypatch):
    """An editable install keeps the metadata of the version it was installed at; the run records the code's."""
    from importlib.metadata import version

    from nalu_rl.agents.planning import prepare

    stale = tmp_path / "site" / "nalu_rl-0.0.1.dist-info"
    stale.mkdir(parents=True)
    (stale / "METADATA").write_text("Metadata-Version: 2.1\nName: nalu-rl\nVersion: 0.0.1\n")
    monkeypatch.syspath_prepend(str(stale.parent))
    assert version("nalu-rl") == "0.0.1"  # the metadata is stale, as after a version bump without reinstalling
    config = prepare(agent="lstm", env="fast", frames=128, run_dir=tmp_path / "run").config
    assert config.version == config.provenance["version"] == nalu_rl.__version__


def _head(folder: Path) -> str:
    return subprocess.run(["git", "-C", str(folder), "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()


def test_git_commit_is_the_checkouts_even_when_the_shell_points_git_elsewhere(tmp_path, monkeypatch):
    from nalu_rl.common.provenance import SOURCE, git_commit

    other = tmp_path / "other"
    subprocess.run(["git", "init", "-q", str(other)], check=True)
    subprocess.run(["git", "-C", str(other), "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty",
                    "-m", "other"], check=True)  # fmt: skip
    assert SOURCE == ROOT  # the tests run from the checkout
    head, other_head = _head(ROOT), _head(other)
    monkeypatch.setenv("GIT_DIR", str(other / ".git"))  # as inside a git hook, or a shell that exported it
    assert git_commit(ROOT).removesuffix("-dirty") == head != other_head


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="giving a folder to another user needs root")
def test_git_commit_of_a_checkout_owned_by_another_user(tmp_path):
    """A checkout mounted into a container belongs to the host's user: git refuses it as 'dubious ownership' unless told."""
    from nalu_rl.common.provenance import git_commit

    repo = tmp_path / "checkout"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty",
                    "-m", "x"], check=True)  # fmt: skip
    head = _head(repo)
    for path in [repo, *repo.rglob("*")]:
        os.chown(path, 4321, 4321, follow_symlinks=False)
    refused = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True)
    if refused.returncode == 0:
        pytest.skip("this git predates the ownership check")
    assert git_commit(repo) == head


def test_git_commit_is_none_for_a_package_outside_a_checkout(tmp_path):
    """The package as pip installs it, in a virtual environment inside some project's repository: that repository's
    commit is not the package's, so none is recorded, and without waiting."""
    project = tmp_path / "project"
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    subprocess.run(["git", "-C", str(project), "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty",
                    "-m", "x"], check=True)  # fmt: skip
    site = project / ".venv" / "site-packages"
    shutil.copytree(ROOT / "nalu_rl", site / "nalu_rl", ignore=shutil.ignore_patterns("__pycache__"))
    code = "from nalu_rl.common import provenance as p; print(p.SOURCE); print(p.git_commit(p.SOURCE))"
    env = {**os.environ, "PYTHONPATH": str(site)}
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path, env=env)
    assert out.stdout.split() == [str(site.resolve()), "None"]
    assert time.perf_counter() - started < 30  # the import alone; no git call hangs


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
          "analysis", "sweep", "bench", "api", "cli", "__main__")  # fmt: skip


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
