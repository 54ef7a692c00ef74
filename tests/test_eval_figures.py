"""The figures as matplotlib objects: log T axis for far T lists, legends off the data, bands, labelled thresholds."""

from __future__ import annotations

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PolyCollection
from test_report import fake_run

from nalu_rl.analysis import plots
from nalu_rl.analysis import report as rp
from nalu_rl.analysis import results as rs

FAR = [*range(1, 31), 50, 100, 200, 500, 1000]
TRAIN = (5, 12)


def groups_of(tmp_path, caps: dict[str, list[int]], t_values=None) -> dict:
    docs = [rs.read_result(fake_run(tmp_path, agent, seed, cap, t_values=t_values))
            for agent, agent_caps in caps.items() for seed, cap in enumerate(agent_caps)]  # fmt: skip
    return rp.aggregate(docs)


def report_figures(groups) -> dict:
    return {"success": plots.success_figure(groups, TRAIN), "arrival": plots.arrival_figure(groups, TRAIN),
            "reward": plots.reward_figure(groups, TRAIN)}  # fmt: skip


def drawn(fig):
    FigureCanvasAgg(fig).draw()
    return fig.canvas.get_renderer()


def test_far_t_lists_draw_t_on_a_log_axis_and_default_runs_stay_linear(tmp_path):
    assert plots.log_t(FAR) and plots.log_t([*range(1, 31), 40]) and plots.log_t(range(1, 62))
    assert not plots.log_t(range(1, 31)) and not plots.log_t(range(1, 61))
    far = groups_of(tmp_path / "far", {"lstm": [12, 14]}, FAR)
    near = groups_of(tmp_path / "near", {"lstm": [12, 14]})
    for key, fig in report_figures(far).items():
        (ax,) = fig.axes
        assert ax.get_xscale() == "log", key
        assert any(p.get_label() == "training range 5–12" for p in ax.patches), key
    assert report_figures(far)["arrival"].axes[0].get_yscale() == "log"  # counting stays the diagonal
    assert all(fig.axes[0].get_xscale() == "linear" for fig in report_figures(near).values())
    far_run = plots.run_figure(rs.read_result(tmp_path / "far" / "lstm-s0"))
    near_run = plots.run_figure(rs.read_result(tmp_path / "near" / "lstm-s0"))
    # the paper's reward, success, arrival time, and the arrival share on the arrival panel's twin axis
    assert [ax.get_xscale() for ax in far_run.axes] == ["log"] * 4
    assert [ax.get_xscale() for ax in near_run.axes] == ["linear"] * 4
    assert near_run.axes[0].get_xlim() == (0.5, 30.5)


def test_legends_sit_outside_the_data_area(tmp_path):
    groups = groups_of(tmp_path, {"lstm": [12, 14], "lstm_nac": [18]})
    run = plots.run_figure(rs.read_result(tmp_path / "lstm-s0"))
    twin = run.axes[3]  # the arrival share: its lines are in the arrival panel's legend
    for name, fig in [*report_figures(groups).items(), ("run", run)]:
        renderer = drawn(fig)
        for ax in (a for a in fig.axes if a is not twin):
            legend = ax.get_legend()
            assert legend is not None, name
            box, data = legend.get_window_extent(renderer), ax.get_window_extent(renderer)
            assert not box.overlaps(data), (name, box, data)
    combined = plots.combined_figure(groups, TRAIN)
    renderer = drawn(combined)
    (legend,) = combined.legends
    assert not any(legend.get_window_extent(renderer).overlaps(ax.get_window_extent(renderer)) for ax in combined.axes)


def bands(ax) -> list:
    return [c for c in ax.collections if isinstance(c, PolyCollection)]


def test_no_band_for_a_single_seed(tmp_path):
    one = groups_of(tmp_path / "one", {"lstm": [12]})
    two = groups_of(tmp_path / "two", {"lstm": [12, 14]})
    for key, fig in report_figures(one).items():
        assert bands(fig.axes[0]) == [], key
    for key, fig in report_figures(two).items():
        assert len(bands(fig.axes[0])) == 1, key  # two seeds: the band over seeds


def line_labels(ax) -> set[str]:
    return {line.get_label() for line in ax.get_lines()}


def test_threshold_lines_are_labelled(tmp_path):
    groups = groups_of(tmp_path, {"lstm": [12, 14]})
    figures = report_figures(groups)
    assert {"success 0.9 (horizon_90)", "success 0.5 (horizon_50)"} <= line_labels(figures["success"].axes[0])
    assert "reward 0.7 (the paper's horizon)" in line_labels(figures["reward"].axes[0])
    reward, success, arrival, _ = plots.run_figure(rs.read_result(tmp_path / "lstm-s0")).axes
    assert "reward 0.7 (the paper's horizon)" in line_labels(reward)
    assert "share of episodes that arrive (right)" in {t.get_text() for t in arrival.get_legend().get_texts()}
    thresholds = [line for line in success.get_lines() if line.get_label().startswith("success 0.")]
    assert sorted(line.get_ydata()[0] for line in thresholds) == pytest.approx([0.5, 0.9])
    assert {"success 0.9 (horizon_90)", "success 0.5 (horizon_50)"} <= {
        t.get_text() for t in success.get_legend().get_texts()
    }


def test_agents_are_named_and_coloured_by_their_presets(tmp_path):
    from matplotlib.colors import to_rgba

    groups = groups_of(tmp_path, {"lstm_nac": [18, 16], "my_own_agent": [12]})
    lines = {line.get_label(): line for line in plots.success_figure(groups, TRAIN).axes[0].get_lines()}
    nac = lines["LSTM + NAC (the paper's) [lstm_nac] (mean of 2 seeds)"]  # agents/lstm_nac.toml's [display]
    assert to_rgba(nac.get_color()) == to_rgba("tab:orange")
    unknown = lines["my_own_agent (mean of 1 seed)"]  # no preset by that name: its name, a spare colour
    assert to_rgba(unknown.get_color()) not in (to_rgba("tab:orange"), to_rgba("tab:blue"))


def test_every_shipped_agent_preset_has_its_own_label_and_colour():
    from nalu_rl import presets
    from nalu_rl.agents.config import preset_display

    shown = {name: preset_display(name) for name in presets.available("agents")}
    assert all(d.label != name and d.color for name, d in shown.items()), shown
    assert len({d.color for d in shown.values()}) == len(shown)


def test_a_display_table_of_the_wrong_shape_is_refused_naming_the_preset(tmp_path):
    from nalu_rl.agents.config import load_preset
    from nalu_rl.presets import PresetError

    path = tmp_path / "odd.toml"
    path.write_text('core = "lstm"\n\n[display]\nlabel = "Odd"\ncolour = "red"\n')
    with pytest.raises(PresetError, match=r"agent preset 'odd': \[display\] takes label, color, baseline"):
        load_preset(str(path))
