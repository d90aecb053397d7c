"""What went on inside, drawn: depth.png (gradient norms and dead shares against depth) for train, sweep and compare
runs, the dead share against the learning rate, activations.png and saturation; with the
data it draws checked against seed 003's point (sigmoid's gradient vanishes towards the input, ReLU's not)."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pytest

from relu_lab.console import _sweep_cells
from relu_lab.grid import run_sweep
from relu_lab.loading import config_from_dict as load_config_dict
from relu_lab.loading import load_config
from relu_lab.plan import Axis, plan_sweep
from relu_lab.plots import plot_run, plot_sweep
from relu_lab.plots.depth import grid_depth, layer_columns, profiles
from relu_lab.plots.layer_outputs import hidden_layers, layer_label
from relu_lab.plots.style import read_metrics
from relu_lab.report import write_report
from relu_lab.run import train_run
from relu_lab.runfiles import SweepDir, compare_choices, read_columns

from .test_plots import check_png

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
SIGMOID = CONFIGS / "seed003_deep_xor_sigmoid.yaml"


def test_a_train_run_of_seed_003_sigmoid_draws_the_vanishing_gradient(tmp_path):
    run = train_run(load_config(SIGMOID, ["train.epochs=40", "log_every=20"]), out=tmp_path)
    assert run.run_dir / "depth.png" in plot_run(run.run_dir)
    check_png(run.run_dir / "depth.png")
    (line,) = profiles(read_metrics(run.run_dir / "metrics.csv"))
    assert line.layers["grad"] == list(range(1, 12)) and line.layers["dead"] == list(range(1, 11))
    assert line.epochs == (0.0, 40.0)
    grad = line.first["grad"][0]  # one member: its values at epoch 0
    assert grad[0] < 1e-3 * grad[-1]  # layer 1 gets at least 1000x less than layer 11
    assert np.all(np.diff(np.log(grad)) > -1.0)  # and it grows (all but noise) towards the output


def test_a_compare_draws_a_line_per_activation_with_the_median_of_its_seeds(tmp_path):
    cfg = load_config(SIGMOID, ["train.epochs=20", "log_every=10"])
    plan = plan_sweep(cfg, [Axis("model.hidden", ["sigmoid", "relu"])], [0, 1, 2, 3, 4])
    run_dir = run_sweep(plan, tmp_path, kind="compare").run_dir
    assert run_dir / "depth.png" in plot_sweep(run_dir)
    check_png(run_dir / "depth.png")
    g = SweepDir(run_dir)
    assert [name for name, _ in compare_choices(g)] == ["sigmoid", "relu"]
    lines = {}
    for name, row in compare_choices(g):
        ids = [float(m["member"]) for m in g.members if m["model.hidden"] == row["model.hidden"]]
        (lines[name],) = profiles(read_columns(run_dir / "metrics.csv"), [(name, ids)])
    for line in lines.values():
        assert line.first["grad"].shape == (5, 11)  # 5 seeds x 11 weight layers
    ratio = {name: np.median(line.first["grad"][:, 0] / line.first["grad"][:, -1]) for name, line in lines.items()}
    assert ratio["sigmoid"] < 1e-3 < 1e-1 < ratio["relu"]
    # the table's ratio, of the largest gradient each layer got over the run, says the same (the ratio at the
    # end would not: a stalled sigmoid net's gradients are all tiny alike)
    peaks = {row["model.hidden"]: float(row["grad_peak_ratio_median"]) for row in g.summary}
    assert peaks["sigmoid"] < 1e-3 < 1e-1 < peaks["relu"]
    assert grid_depth(g) == run_dir / "depth.png"


def test_a_member_that_diverged_is_drawn_from_its_last_finite_row():
    cols = {"member": np.array([0.0, 0, 0, 1, 1, 1]), "epoch": np.array([0.0, 10, 20, 0, 10, 20]),
            "cost": np.array([1.0, 0.5, 0.4, 1.0, 0.7, np.nan]),
            "grad_L1": np.array([1.0, 2, 3, 4, 5, np.inf]), "grad_L2": np.array([1.0, 2, 3, 4, 5, np.nan])}
    assert layer_columns(cols) == {"grad": [1, 2]}
    (line,) = profiles(cols, [("all", [0, 1])])
    np.testing.assert_array_equal(line.first["grad"], [[1, 1], [4, 4]])
    np.testing.assert_array_equal(line.last["grad"], [[3, 3], [5, 5]])  # member 1: epoch 10, its last finite
    assert profiles(cols, [("none", [7])]) == []


@pytest.mark.parametrize("diagnostics", [True, False])
def test_depth_png_only_with_per_layer_columns(tmp_path, diagnostics):
    cfg = load_config(CONFIGS / "xor_relu.yaml", ["train.epochs=20", f"diagnostics={str(diagnostics).lower()}"])
    run = train_run(cfg, out=tmp_path)
    assert (run.run_dir / "depth.png" in plot_run(run.run_dir)) == diagnostics
    assert (run.run_dir / "depth.png").exists() == diagnostics


# --- the dead share against the learning rate (seed 004's 1-D fit): summary.csv, the table, report.md, sweep.png


def test_inside_figures_are_means_and_medians_of_what_is_known():
    from relu_lab.grid import inside_figures

    rows = [{"dead_L1": 0.5, "dead_L2": math.nan, "grad_L1": 1e-6, "grad_L2": 1e-2, "grad_L3": 1.0},
            {"dead_L1": 1.0, "dead_L2": math.nan, "grad_L1": 1e-3, "grad_L2": 1.0, "grad_L3": 10.0},
            {"dead_L1": "", "dead_L2": math.nan, "grad_L1": 0.0, "grad_L2": 0.0, "grad_L3": 0.0}]
    out = inside_figures(rows)
    assert out["dead_L1_mean"] == 0.75 and out["dead_L2_mean"] is None  # unknown: null, never a number
    assert out["grad_ratio_median"] == pytest.approx(5.05e-5)  # median of 1e-6 and 1e-4; 0/0 left out
    assert "grad_ratio_median" not in inside_figures([{"dead_L1": 0.0, "grad_L1": 1.0}])  # one layer: no ratio


def test_a_learning_rate_sweep_of_seed_004s_fit_shows_the_dead_share_rising(tmp_path):
    cfg = load_config(CONFIGS / "seed004_interpolation.yaml", ["train.phases.1.epochs=100"])
    plan = plan_sweep(cfg, [Axis("train.phases.0.lr", [0.0003, 0.03])], list(range(8)))
    report = run_sweep(plan, tmp_path)
    low, high = report.summary
    assert low["dead_L1_mean"] < 0.4 < 0.8 < high["dead_L1_mean"]  # 0.24 against 0.90 when written
    for point in (low, high):
        assert point["grad_ratio_median"] > 0
    g = SweepDir(report.run_dir)
    assert g.summary[1]["dead_L1_mean"] == str(high["dead_L1_mean"])  # summary.csv has it
    headers, rows = _sweep_cells(["train.phases.0.lr"], report.summary)
    assert headers[-2:] == ["dead L1", "grad L1/out (peaks)"]
    assert rows[1][-2] == f"{100 * high['dead_L1_mean']:.0f}%"
    text = write_report(report.run_dir, make_plots=False).read_text()
    assert "dead L1: mean" in text and f"{100 * high['dead_L1_mean']:.0f}%" in text
    sweep_png = report.run_dir / "sweep.png"
    assert sweep_png in plot_sweep(report.run_dir)
    assert mpimg.imread(sweep_png).shape[1] > 1700  # three panels (success, cost, dead) of 650 px; two are 1300


def test_a_deep_sweep_table_shows_its_most_dead_layer():
    summary = [{"train.lr": 0.1, "members": 4, "cost_median": 0.5, "cost_q1": 0.4, "cost_q3": 0.6,
                "accuracy_median": 0.75, "diverged": 0, **{f"dead_L{l}_mean": l / 10 for l in range(1, 6)},
                "grad_ratio_median": None}]
    headers, rows = _sweep_cells(["train.lr"], summary)
    assert headers[-2:] == ["dead, most", "grad L1/out (end)"] and rows[0][-2:] == ["50% (L5)", "-"]


# --- saturation: activations.png and the epoch axis ---------------------------------------------


def test_activations_png_draws_each_hidden_layers_mean_spread_and_saturation(tmp_path):
    cfg = load_config(SIGMOID, ["train.epochs=30", "log_every=10", "model.init=normal", "model.init_scale=4"])
    run = train_run(cfg, out=tmp_path)
    assert run.run_dir / "activations.png" in plot_run(run.run_dir)
    check_png(run.run_dir / "activations.png")
    cols = read_metrics(run.run_dir / "metrics.csv")
    assert hidden_layers(cols) == list(range(1, 11))
    means = np.stack([cols[f"act_mean_L{l}"] for l in range(1, 11)])
    assert np.all((means > 0) & (means < 1)) and np.all(np.stack([cols[f"act_std_L{l}"] for l in range(1, 11)]) > 0)
    # weights N(0, 16): many sigmoid units start pinned at 0 or 1
    assert max(cols[f"saturated_L{l}"][0] for l in range(1, 11)) > 0.2
    assert layer_label(cfg, 3) == "layer 3 (sigmoid)"


def test_the_epoch_axis_goes_logarithmic_only_when_the_change_is_early():
    from relu_lab.plots.style import epoch_axis, plt

    epoch = np.arange(0, 1001, 10.0)
    for y, early in ((np.exp(-epoch / 20), True), (epoch / 1000, False), (np.zeros_like(epoch), False)):
        fig, ax = plt.subplots()
        assert epoch_axis(ax, epoch, [y]) == early
        assert ax.get_xscale() == ("symlog" if early else "linear")
        plt.close(fig)


def test_a_saturated_tanh_unit_is_called_saturated_on_its_map_and_in_the_raster(tmp_path, figures):
    """A tanh unit pinned near 1 on every sample (z = 8: f' = 5e-7, not exactly 0) is saturated, not dead,
    and the raster counts the samples where a tanh unit is not saturated, not those with z > 0."""
    from relu_lab.loading import config_from_dict
    from relu_lab.plots.units import active_shares, plot_raster, plot_units
    from relu_lab.run import load_network
    from relu_lab.snapshots import load

    from .test_plots import CIRCLE, copy, kill_unit

    raw = copy(CIRCLE) | {"model": {"layers": [2, 6, 1], "hidden": "tanh"}, "train": {"lr": 0.1, "epochs": 10}}
    run = train_run(config_from_dict(raw), out=tmp_path).run_dir
    cfg, data, _ = load_network(run)
    kill_unit(run, 2, bias=8.0)
    plot_units(run, cfg, data)
    panels = {ax.get_title().split(":")[0]: ax for ax in figures["units.png"].axes if ax.get_title().startswith("L1")}
    assert [t.get_text() for t in panels["L1 u2"].texts] == ["saturated"]
    assert panels["L1 u2"].get_title() == "L1 u2: 0%" and panels["L1 u2"].title.get_color() == "darkorange"
    assert all(not ax.texts for name, ax in panels.items() if name != "L1 u2")
    assert "1 saturated on every sample (framed in orange)" in figures["units.png"].get_suptitle()
    (shares,), by_saturation = active_shares(cfg, data, *load(run / "snapshots.npz"))
    assert by_saturation == [True] and shares[2, -1] == 0.0 and np.all(shares[[0, 1, 3, 4, 5], -1] > 0)
    plot_raster(run, cfg, data, {})
    titles = [ax.get_title() for ax in figures["units_raster.png"].axes]
    assert "layer 1: 6 units, 1 saturated on every sample at the end" in titles
    assert figures["units_raster.png"].get_suptitle().endswith("when units are not saturated, per logged epoch")


# --- pictures that hid their point -------------------------------------------------------------


def test_diagnostics_png_of_a_deep_net_gives_each_layer_its_colour_and_keeps_the_legend_off_the_panels(
        tmp_path, figures):
    cfg = load_config(CONFIGS / "seed003_deep_xor_relu.yaml", ["train.epochs=300", "train.lr=1", "log_every=10"])
    run = train_run(cfg, out=tmp_path)
    plot_run(run.run_dir)
    fig = figures["diagnostics.png"]
    grad = next(ax for ax in fig.axes if ax.get_title() == "Gradient norm per weight layer")
    colours = [tuple(line.get_color()) for line in grad.lines if line.get_linestyle() == "-"]
    assert len(colours) == 11 and len(set(colours)) == 11  # W1 and W11 no longer share one
    assert all(ax.get_legend() is None for ax in fig.axes) and len(fig.legends) == 1
    # lr 1 kills the net: its gradients become exactly 0, drawn at the floor with a marker, not dropped
    cols = read_metrics(run.run_dir / "metrics.csv")
    assert np.any(cols["grad_L1"] == 0)
    floor_marks = [line for line in grad.lines if line.get_marker() == "v"]
    assert floor_marks and "0 (at the axis floor)" in [t.get_text() for t in fig.legends[0].get_texts()]
    assert min(np.min(line.get_ydata()) for line in floor_marks) > 0


def test_compare_curves_draw_the_score_success_is_judged_on(tmp_path, figures):
    from relu_lab.plots.sweep import curve_score

    cfg = load_config(CONFIGS / "xor_relu.yaml", ["train.epochs=20", "data.n=40", "data.noise=0.1",
                                                  "data.test_n=40", "success.metric=test_accuracy"])
    plan = plan_sweep(cfg, [Axis("model.hidden", ["relu", "tanh"])], [0, 1])
    run_dir = run_sweep(plan, tmp_path, kind="compare").run_dir
    assert curve_score(SweepDir(run_dir)) == "test_accuracy"
    plot_sweep(run_dir)
    panel = figures["compare_curves.png"].axes[1]
    assert panel.get_ylabel() == "test accuracy" and panel.get_title().startswith("Median test accuracy")


def test_a_long_title_is_folded_to_the_figure_width():
    from relu_lab.plots.style import wrapped

    title = "seed004_circle: success rate (test_accuracy ≥ 0.95) over learning rate × model.hidden\n(3 seeds per cell)"
    folded = wrapped(title, 4.4)
    assert folded.replace("\n", " ").split() == title.replace("\n", " ").split()  # nothing lost
    assert max(len(line) for line in folded.split("\n")) <= 4.4 * 72 / 5.5


def test_sweep_png_lines_of_equal_values_stay_visible(tmp_path, figures):
    from relu_lab.plots.sweep import stacked

    assert [stacked(i, 3)["lw"] for i in range(3)] == [4.0, 2.75, 1.5]  # the first drawn widest
    assert len({stacked(i, 3)["marker"] for i in range(3)}) == 3


def test_units_share_a_colour_scale_per_layer_and_a_deep_nets_weights_wrap(tmp_path, figures):
    run = train_run(load_config(SIGMOID, ["train.epochs=20", "log_every=10"]), out=tmp_path)
    plot_run(run.run_dir)
    width, height = figures["weights.png"].get_size_inches()
    assert width / height < 2  # 11 layers in rows of 4, not a 4560x672 strip
    fig = figures["units.png"]
    for layer in range(1, 11):
        scales = {ax.images[0].get_clim() for ax in fig.axes if ax.get_title().startswith(f"L{layer} u")}
        assert len(scales) == 1  # every unit of the layer on the same scale
    assert all(len(line) <= 110 for line in fig.get_suptitle().split("\n"))  # folded, not cut at the sides


def test_1d_unit_curves_are_drawn_over_the_datas_range(tmp_path, figures):
    from relu_lab.run import load_network

    from .test_plots import INTERPOLATION, copy

    raw = copy(INTERPOLATION) | {"model": {"layers": [1, 30, 1], "hidden": "relu", "init": "normal",
                                           "init_scale": 30.0}}
    run = train_run(load_config_dict(raw), out=tmp_path).run_dir
    cfg, data, net = load_network(run)
    from relu_lab.plots.units import plot_units

    plot_units(run, cfg, data)
    panel = figures["units.png"].axes[1]
    x = data.X[:, 0]
    _, outs = net.forward(np.linspace(x.min(), x.max(), 400)[:, None])
    top = float(np.max(outs[1][0]))
    assert panel.get_ylim()[1] <= top * 1.2 + 1  # not stretched to the far tails of the steepest unit


def test_a_unit_is_at_work_where_it_passes_gradient_for_activations_that_can_die():
    """hard_tanh passes gradient for -1 < z < 1, relu6 for 0 < z < 6: that is where the raster and the unit maps
    count a unit active, not z > 0; leaky ReLU (never dead) keeps z > 0."""
    from relu_lab.activations import ACTIVATIONS
    from relu_lab.network import Act, Ensemble
    from relu_lab.plots.units import working

    z = np.array([[[-2.0, -0.5, 0.5, 3.0, 7.0]]])  # one member, one sample, five units
    for name, expected in (("hard_tanh", [0, 1, 1, 0, 0]), ("relu6", [0, 0, 1, 1, 0]), ("leaky_relu", [0, 0, 1, 1, 1])):
        net = Ensemble([np.zeros((1, 1, 5)), np.zeros((1, 5, 1))], [np.zeros((1, 1, 5)), np.zeros((1, 1, 1))],
                       [Act(ACTIVATIONS[name], dict(ACTIVATIONS[name].params))], Act(ACTIVATIONS["linear"], {}))
        assert working(net, [z], 0, False)[0].astype(int).tolist() == expected, name
