"""The README's and docs' Python blocks run as written, and their cheap shell commands work."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def _blocks() -> list[tuple[str, int, str]]:
    found = []
    for path in DOCS:
        text = path.read_text()
        for match in BLOCK.finditer(text):
            found.append((str(path.relative_to(ROOT)), text[: match.start()].count("\n") + 1, match.group(1)))
    return found


BLOCKS = _blocks()


def test_the_docs_have_python_blocks_to_run():
    assert {name for name, _, _ in BLOCKS} >= {"README.md", "docs/GUIDE.md"}


@pytest.mark.parametrize("name, line, code", BLOCKS, ids=[f"{n}:{line}" for n, line, _ in BLOCKS])
def test_each_python_block_runs(name, line, code, tmp_path, monkeypatch):
    # Run where a reader would: from a folder with a runs/ of their own (the guide loads "runs/nac-0", a trained run)
    monkeypatch.chdir(tmp_path)
    shutil.copytree(ROOT / "runs" / "verdict-default" / "lstm_nac-s11", tmp_path / "runs" / "nac-0")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    exec(compile(code, f"{name}:{line}", "exec"), {"__name__": "__docs__"})


@pytest.mark.parametrize("command", [
    "nalu-rl --help", "nalu-rl train --help", "nalu-rl report --help",
    "nalu-rl report runs/verdict-portable --out {tmp}/report --no-tensorboard --quiet",
])  # fmt: skip
def test_the_readmes_cheap_commands_run(command, tmp_path):
    argv = command.replace("{tmp}", str(tmp_path)).split()
    done = subprocess.run([sys.executable, "-m", "nalu_rl", *argv[1:]], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    if "report runs/" in command:
        assert (tmp_path / "report" / "report.md").is_file() and (tmp_path / "report" / "figure5.png").is_file()
        assert not (ROOT / "runs" / "verdict-portable" / "report.md").exists()  # nothing written into the checkout
