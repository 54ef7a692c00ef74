"""What a damaged run folder tells its user: what is wrong and what to do, in one line, never a library's advice."""

from __future__ import annotations

import json
import shutil

import pytest

from nalu_rl.agents import load_agent, train
from nalu_rl.cli import main

SMALL = {"mode": "sync", "workers": 1, "envs_per_worker": 8, "progress": False, "overrides": {"n_steps": 16}}
LIBRARY_TEXT = ("weights_only", "Error(s) in loading", "PytorchStreamReader", "Traceback", "Expecting value", "miniz")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two finished runs of different cores (128 frames each)."""
    root = tmp_path_factory.mktemp("runs")
    return {core: train(agent=core, env="fast", frames=128, run_dir=root / core, **SMALL) for core in ("lstm", "lstm_nac")}


@pytest.fixture
def run(runs, tmp_path):
    """A copy of the lstm_nac run, to damage."""
    return shutil.copytree(runs["lstm_nac"], tmp_path / "run")


def refused(capsys, run_dir, message: str) -> None:
    """``nalu-rl train --resume`` and ``load_agent`` both refuse ``run_dir`` with ``message``: one line, exit 2 / ValueError."""
    assert main(["train", "--resume", "--out", str(run_dir), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1, err
    assert not any(text in err for text in LIBRARY_TEXT), err
    with pytest.raises((ValueError, FileNotFoundError)) as raised:
        load_agent(run_dir)
    assert message in str(raised.value) and "\n" not in str(raised.value)


@pytest.mark.parametrize(
    "content, reason",
    [
        (bytes(range(256)) * 8, "not a PyTorch file"),
        (b"", "an empty file"),
        (None, "damaged or truncated"),  # the first half of the real checkpoint
    ],
)
def test_a_damaged_checkpoint_says_what_it_is_and_how_to_start_afresh(run, capsys, content, reason):
    latest = run / "checkpoints" / "latest.pt"
    latest.write_bytes(latest.read_bytes()[: latest.stat().st_size // 2] if content is None else content)
    refused(capsys, run, f"{latest} is not a nalu-rl checkpoint ({reason}); delete it and rerun nalu-rl train --resume")


def test_a_checkpoint_of_another_core_names_both_cores_and_the_parameters(runs, run, capsys):
    shutil.copy(runs["lstm"] / "checkpoints" / "latest.pt", run / "checkpoints" / "latest.pt")
    refused(capsys, run, "holds core lstm, config.json says lstm_nac: missing core.unit.W_hat, core.unit.M_hat; other shape")
    with pytest.raises(ValueError, match=r"other shape core\.cell\.weight_ih; put back the run's own checkpoint or delete it"):
        load_agent(run)


def test_a_damaged_config_json_says_what_is_wrong(run, capsys):
    config = run / "config.json"
    for text, message in (("", "config.json is empty"), ('{"agent": "lstm",', "config.json is not valid JSON (expecting"),
                          ("[1, 2]", "config.json is not a JSON object"), ('{"agent": "lstm"}', "config.json lacks core")):  # fmt: skip
        config.write_text(text)
        refused(capsys, run, message)


def test_a_folder_that_is_not_a_run_or_has_no_checkpoint_yet(run, tmp_path, capsys):
    with pytest.raises(FileNotFoundError, match="not a run folder .*give a folder that nalu-rl train or baseline wrote"):
        load_agent(tmp_path)
    (run / "checkpoints" / "latest.pt").unlink()
    with pytest.raises(FileNotFoundError, match="has no checkpoint yet .*nalu-rl train --resume --out"):
        load_agent(run)
    assert json.loads((run / "config.json").read_text())["agent"] == "lstm_nac"
