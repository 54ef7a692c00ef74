"""Bring your own core: a core registered from outside the package trains, evaluates and is reported by its own label."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from nalu_rl.agents import CORES, Core, register_core
from nalu_rl.agents.config import load_preset
from nalu_rl.agents.trainer import train
from nalu_rl.analysis import plots
from nalu_rl.analysis import report as rp
from nalu_rl.analysis.display import run_display
from nalu_rl.analysis.evaluate import evaluate_run
from nalu_rl.presets import PresetError


class DiagonalCore(Core):
    """A diagonal linear recurrence h = a ⊙ h_prev + B [x, T] with |a| < 1 (a = tanh of a parameter)."""

    def __init__(self, input_size: int, hidden_size: int, unit_size: int) -> None:
        super().__init__()
        self.decay = nn.Parameter(torch.full((hidden_size,), 2.0))
        self.inputs = nn.Linear(input_size + 1, hidden_size)
        self.output_size = self.state_size = hidden_size

    def forward(self, x, instruction, state):
        h = torch.tanh(self.decay) * state + self.inputs(torch.cat([x, instruction], dim=1))
        return h, h


register_core("test_diagonal", DiagonalCore)
PRESET = 'core = "test_diagonal"\nhidden_size = 16\n\n[display]\nlabel = "Diagonal recurrence (test)"\nbaseline = "lstm"\n'
SHAPE = dict(env="fast", frames=4096, mode="sync", workers=1, envs_per_worker=8, overrides={"n_steps": 16}, progress=False)


def test_a_core_registered_here_trains_evaluates_and_is_reported_under_its_label(tmp_path):
    preset = tmp_path / "diagonal.toml"
    preset.write_text(PRESET)
    mine = train(agent=str(preset), run_dir=tmp_path / "runs" / "diagonal-s0", **SHAPE)
    lstm = train(agent="lstm", run_dir=tmp_path / "runs" / "lstm-s0", **SHAPE)
    for run in (mine, lstm):
        evaluate_run(run, t_min=5, t_max=6, episodes=2)
    summary = rp.make_report(tmp_path / "runs", tensorboard=False)
    assert list(summary["agents"]) == ["lstm", "diagonal"]  # the baseline its display names comes first
    assert "| diagonal |" in (tmp_path / "runs" / "report.md").read_text()
    # the preset was given by path: only the run's config.json still knows its label
    shown = run_display("diagonal", mine)
    assert (shown.label, shown.baseline) == ("Diagonal recurrence (test)", "lstm")
    found, _ = rp.find_results(tmp_path / "runs")
    groups = rp.aggregate([doc for _, doc in found], {doc["agent"]: run_display(doc["agent"], path) for path, doc in found})
    legend = [t.get_text() for t in plots.combined_figure(groups, (5, 12)).legends[0].get_texts()]
    assert any(text.startswith("Diagonal recurrence (test) [diagonal]") for text in legend), legend


def test_a_name_taken_twice_is_refused_unless_it_is_the_same_class():
    assert register_core("test_diagonal", DiagonalCore) is DiagonalCore  # a module imported again
    with pytest.raises(ValueError, match="a core named 'lstm' is already registered"):
        register_core("lstm", DiagonalCore)
    assert CORES["lstm"] is not DiagonalCore


@pytest.mark.parametrize("cls", [nn.GRUCell, Core, "DiagonalCore", DiagonalCore(4, 4, 1)])
def test_only_a_concrete_core_class_is_registered(cls):
    with pytest.raises(ValueError, match="cls must be a subclass of nalu_rl.agents.cores.Core"):
        register_core("test_not_a_core", cls)
    assert "test_not_a_core" not in CORES


@pytest.mark.parametrize("name", ["", "two words", "-dash", 3])
def test_a_malformed_name_is_refused(name):
    with pytest.raises(ValueError, match="name must be letters, digits"):
        register_core(name, DiagonalCore)


def test_a_preset_registers_the_core_its_core_module_names_from_its_own_folder(tmp_path):
    (tmp_path / "test_elsewhere_core.py").write_text(
        "from nalu_rl.agents import register_core\nfrom nalu_rl.agents.cores import GRUCore\n\n"
        "class Elsewhere(GRUCore):\n    pass\n\nregister_core('test_elsewhere', Elsewhere)\n"
    )
    preset = tmp_path / "elsewhere.toml"
    preset.write_text('core_module = "test_elsewhere_core"\ncore = "test_elsewhere"\n')
    assert load_preset(str(preset))[1].core == "test_elsewhere"
    assert CORES["test_elsewhere"].__name__ == "Elsewhere"
    preset.write_text('core_module = "no_such_module_here"\ncore = "test_elsewhere"\n')
    with pytest.raises(PresetError, match="core_module 'no_such_module_here' does not import"):
        load_preset(str(preset))
    preset.write_text('core_module = "../up"\ncore = "lstm"\n')
    with pytest.raises(PresetError, match="core_module must be a module name"):
        load_preset(str(preset))
