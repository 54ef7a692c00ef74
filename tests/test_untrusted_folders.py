"""Run folders from strangers are data: nothing read from one runs code, writes outside it, hangs or takes unbounded memory."""

from __future__ import annotations

import base64
import json
import os
import pickle
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytest.importorskip("sb3_contrib")

from test_report import fake_run  # noqa: E402

from nalu_rl.agents.trainer import train  # noqa: E402
from nalu_rl.baselines import load_sb3_agent, train_recurrent_ppo  # noqa: E402
from nalu_rl.cli import main  # noqa: E402

SMALL = dict(agent="lstm", env="fast", mode="sync", workers=1, envs_per_worker=8, overrides={"n_steps": 16})
TINY_PEER = {"n_envs": 4, "n_steps": 32, "batch_size": 64, "n_epochs": 1}


def _one_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err


@pytest.fixture(scope="module")
def peer_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("peer") / "rppo"
    return train_recurrent_ppo(env="fast", frames=128, seed=1, run_dir=run_dir, overrides=TINY_PEER, progress=False)


@pytest.fixture(scope="module")
def our_run(tmp_path_factory):
    return train(**SMALL, frames=256, run_dir=tmp_path_factory.mktemp("ours") / "run", progress=False)


class _Marker:
    """Pickles as a call that creates a file: what a hostile model.zip would do, harmlessly."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self):
        return (os.mkdir, (str(self.path),))


@pytest.mark.parametrize("key", ["policy_class", "_last_obs", "observation_space", "lr_schedule"])
def test_a_model_zip_whose_pickles_would_run_code_is_refused_unrun(peer_run, tmp_path, capsys, key):
    hostile = tmp_path / "hostile"
    hostile.mkdir()
    for name in ("config.json", "training.json"):
        (hostile / name).write_bytes((peer_run / name).read_bytes())
    marker = tmp_path / "ran"
    with zipfile.ZipFile(peer_run / "model.zip") as src, zipfile.ZipFile(hostile / "model.zip", "w") as dst:
        data = json.loads(src.read("data"))
        data[key][":serialized:"] = base64.b64encode(pickle.dumps(_Marker(marker))).decode()
        for name in src.namelist():
            dst.writestr(name, json.dumps(data) if name == "data" else src.read(name))
    assert main(["eval", str(hostile), "--t", "5", "--episodes", "2"]) == 2
    err = _one_line(capsys)
    assert f"its {key!r} would run posix.mkdir to load" in err and "not loaded" in err
    assert not marker.exists()  # nothing of the file ran
    assert load_sb3_agent(peer_run).config["agent"] == "recurrent_ppo"  # an honest model.zip still loads


@pytest.mark.parametrize("entry", ["tb", "checkpoints"])
def test_a_link_out_of_a_run_folder_is_refused_before_anything_is_written(our_run, tmp_path, capsys, entry):
    run = tmp_path / "run"
    subprocess.run(["cp", "-r", str(our_run), str(run)], check=True)
    elsewhere = tmp_path / "elsewhere"
    subprocess.run(["mv", str(run / entry), str(elsewhere)], check=True)
    (run / entry).symlink_to(elsewhere)
    before = sorted(p.name for p in elsewhere.iterdir())
    for argv in (["train", "--resume", "--out", str(run), "--frames", "512", "--quiet"],
                 ["eval", str(run), "--t", "5", "--episodes", "2"]):  # fmt: skip
        assert main(argv) in (1, 2)
        err = _one_line(capsys)
        assert f"{run / entry} is a symbolic link" in err, err
    assert sorted(p.name for p in elsewhere.iterdir()) == before  # nothing was written through the link
    assert not (run / "extrapolation.json").exists()


def test_a_result_with_text_where_a_number_belongs_is_left_out_naming_the_file_and_field(tmp_path, capsys):
    root = tmp_path / "sweep"
    fake_run(root, "lstm", 0, 12)
    bad = fake_run(root, "lstm", 1, 12)
    doc = json.loads((bad / "extrapolation.json").read_text())
    doc["results"][3]["success_rate"] = "high"
    (bad / "extrapolation.json").write_text(json.dumps(doc))
    assert main(["report", str(root), "--no-tensorboard"]) == 0
    out = capsys.readouterr().out
    assert f"left out {bad}: {bad / 'extrapolation.json'}: results[3].success_rate must be a finite number, got 'high'" in out


def test_oversized_and_deeply_nested_files_are_refused_with_one_line(our_run, tmp_path, capsys):
    run = tmp_path / "run"
    subprocess.run(["cp", "-r", str(our_run), str(run)], check=True)
    (run / "config.json").write_text("[" * 200_000 + "]" * 200_000)  # deeper than Python's parser recurses
    assert main(["eval", str(run), "--t", "5", "--episodes", "2"]) == 2
    assert "nests its JSON too deeply to read" in _one_line(capsys)
    with open(run / "config.json", "wb") as fh:  # sparse: 100 MiB on paper, nothing on disk
        fh.truncate(100 << 20)
    assert main(["eval", str(run), "--t", "5", "--episodes", "2"]) == 2
    assert "is 100.0 MiB, more than the 64 MiB such a file may be: not read" in _one_line(capsys)


def test_a_fifo_named_like_a_result_does_not_hang_a_report(tmp_path):
    root = tmp_path / "sweep"
    fake_run(root, "lstm", 0, 12)
    fifo = root / "lstm-s1" / "extrapolation.json"
    fifo.parent.mkdir()
    os.mkfifo(fifo)
    done = subprocess.run([sys.executable, "-m", "nalu_rl", "report", str(root), "--no-tensorboard"],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"{fifo} is not a regular file: not read" in done.stdout
