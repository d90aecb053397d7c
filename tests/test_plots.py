"""Plots and reports from real (tiny) runs: every picture is a valid PNG, dispatch and errors work."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pytest

from relu_lab.activations import ACTIVATIONS
from relu_lab.errors import UserError
from relu_lab.grid import run_sweep
from relu_lab.loading import config_from_dict
from relu_lab.plan import Axis, plan_sweep
from relu_lab.plots import plot_activations, plot_any, plot_run, plot_sweep
from relu_lab.report import write_report
from relu_lab.run import train_run

CIRCLE = {  # seed 004's circle, small: a 2-20-1 ReLU net learns a visible polygon in ~0.5 s
    "name": "circle",
    "data": {"name": "circle", "n": 300, "test_n": 100},
    "model": {"layers": [2, 20, 1], "hidden": "relu"},
    "train": {"lr": 0.5, "epochs": 200, "batch_size": 16},
    "log_every": 2,
}
INTERPOLATION = {
    "name": "interp",
    "data": {"name": "interpolation", "n": 100},
    "model": {"layers": [1, 30, 1], "hidden": "relu"},
    "train": {"lr": 0.002, "epochs": 200, "batch_size": 10},
    "log_every": 2,
}
XOR = {
    "name": "xor",
    "data": {"name": "xor"},
    "model": {"layers": [2, 4, 4, 1], "hidden": "relu"},
    "train": {"lr": 0.3, "epochs": 300},
}
SMALL = {  # for sweeps: 60 points, 12 epochs
    "name": "small",
    "data": {"name": "circle", "n": 60},
    "model": {"layers": [2, 6, 1], "hidden": "relu"},
    "train": {"lr": 0.1, "epochs": 12, "batch_size": 4},
    "log_every": 3,
    "success": {"metric": "accuracy", "at_least": 0.7},
}


def copy(raw: dict, **changes) -> dict:
    return json.loads(json.dumps(raw)) | changes


def train(raw: dict, out: Path) -> Path:
    return train_run(config_from_dict(copy(raw)), out=out).run_dir


def sweep(raw: dict, axes: list[Axis], seeds: list[int], out: Path, kind: str = "sweep") -> Path:
    return run_sweep(plan_sweep(config_from_dict(copy(raw)), axes, seeds), out, kind=kind).run_dir


def check_png(path: Path, min_bytes: int = 10_000) -> None:
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n"), path
    assert len(data) > min_bytes, (path, len(data))
    image = mpimg.imread(path)
    h, w = image.shape[:2]
    assert 200 <= w <= 4000 and 200 <= h <= 4000, (path, w, h)
    assert 0.2 < w / h < 5
    assert np.ptp(image[..., :3]) > 0.5  # not a blank picture


def no_temp_files(run_dir: Path) -> None:
    assert not [p.name for p in run_dir.iterdir() if ".tmp" in p.name]


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    """One run of each kind, made once for the module; each trains in well under a second."""
    out = tmp_path_factory.mktemp("runs")
    lr_seeds = [0, 1, 2]
    return {
        "circle": train(CIRCLE, out),
        "interpolation": train(INTERPOLATION, out),
        "xor": train(XOR, out),
        "sweep": sweep(SMALL, [Axis("train.lr", [0.01, 0.3])], lr_seeds, out),
        "compare": sweep(SMALL, [Axis("model.hidden", ["relu", "tanh"])], lr_seeds, out, kind="compare"),
    }


def read_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


# --- train runs ---------------------------------------------------------------------------


def test_circle_run_gives_curves_and_a_decision_boundary(runs):
    paths = plot_run(runs["circle"])
    names = {p.name for p in paths}
    assert {"curves.png", "decision_boundary.png"} <= names and "fit.png" not in names
    for p in paths:
        assert p.parent == runs["circle"]
        check_png(p)
    no_temp_files(runs["circle"])


def test_interpolation_run_gives_a_fitted_curve(runs):
    names = {p.name for p in plot_run(runs["interpolation"])}
    assert {"curves.png", "fit.png"} <= names and "decision_boundary.png" not in names
    check_png(runs["interpolation"] / "fit.png")
    check_png(runs["interpolation"] / "curves.png")


def test_xor_run(runs):
    names = {p.name for p in plot_run(runs["xor"])}
    assert {"curves.png", "decision_boundary.png"} <= names
    check_png(runs["xor"] / "decision_boundary.png")


def test_plot_any_works_on_a_finished_run_after_the_fact(runs):
    for key, expected in (("circle", "decision_boundary.png"), ("interpolation", "fit.png"),
                          ("sweep", "sweep.png"), ("compare", "compare_curves.png")):
        paths = plot_any(runs[key])
        assert expected in {p.name for p in paths}
        for p in paths:
            check_png(p)
    again = plot_any(str(runs["circle"]))  # a string path, and drawing twice replaces the files
    assert all(p.exists() for p in again)


def test_diagnostics_only_when_the_columns_exist(runs, tmp_path):
    run = tmp_path / "xor-diag"
    shutil.copytree(runs["xor"], run)
    metrics = run / "metrics.csv"
    rows = read_rows(metrics)
    if not any(k.startswith("grad_L") for k in rows[0]):  # fabricate what the trainer will log
        for i, r in enumerate(rows):
            for l in (1, 2, 3):
                r[f"grad_L{l}"] = repr(0.1 * l * np.exp(-i / 50))
                r[f"wnorm_L{l}"] = repr(1.0 + l + i / 100)
            for l in (1, 2):
                r[f"dead_L{l}"] = repr(min(1.0, i / 400 * l))
                r[f"sparsity_L{l}"] = repr(0.3 + 0.1 * l)
                r[f"slope_L{l}"] = repr(0.25 - i / 4000)
        with open(metrics, "w", newline="") as fh:
            writer = csv.DictWriter(fh, list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    assert "diagnostics.png" in {p.name for p in plot_run(run)}
    check_png(run / "diagnostics.png")

    plain = tmp_path / "xor-plain"  # the same run without any per-layer column: no diagnostics.png
    shutil.copytree(runs["xor"], plain)
    keep = ["epoch", "step", "lr", "cost", "accuracy"]
    rows = read_rows(plain / "metrics.csv")
    with open(plain / "metrics.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, keep, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    (plain / "diagnostics.png").unlink(missing_ok=True)
    names = {p.name for p in plot_run(plain)}
    assert "diagnostics.png" not in names and not (plain / "diagnostics.png").exists()


def test_multiclass_csv_run_gives_class_regions(tmp_path):
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 0.0], [3.0, 0.0], [1.5, 2.5]])
    label = np.arange(90) % 3
    X = centres[label] + rng.normal(0, 0.6, size=(90, 2))
    path = tmp_path / "blobs.csv"
    path.write_text("x1,x2,label\n" + "".join(f"{a},{b},{c}\n" for (a, b), c in zip(X, label)))
    raw = {"name": "blobs", "data": {"name": "csv", "path": str(path)}, "model": {"layers": [2, 8, 3]},
           "train": {"lr": 0.3, "epochs": 100, "batch_size": 10}}
    run = train(raw, tmp_path / "runs")
    assert "decision_boundary.png" in {p.name for p in plot_run(run)}
    check_png(run / "decision_boundary.png")


def test_an_unfinished_run_still_gets_its_curves(runs, tmp_path):
    run = tmp_path / "partial"
    shutil.copytree(runs["circle"], run)
    (run / "params.npz").unlink()
    (run / "summary.json").unlink()
    assert [p.name for p in plot_run(run)] == ["curves.png"] + (
        ["diagnostics.png", "depth.png", "activations.png"] if "dead_L1" in read_rows(run / "metrics.csv")[0] else [])


# --- sweeps and comparisons ---------------------------------------------------------------


def test_sweep_plot(runs):
    paths = plot_sweep(runs["sweep"])
    assert [p.name for p in paths] == ["sweep.png", "depth.png"]
    check_png(paths[0])
    no_temp_files(runs["sweep"])


def test_sweep_with_a_second_axis_and_without_a_success_criterion(tmp_path):
    raw = copy(SMALL)
    del raw["success"]
    run = sweep(raw, [Axis("train.lr", [0.01, 0.1, 1.0]), Axis("model.init_scale", [0.5, 2.0])], [0, 1], tmp_path)
    assert "success_rate" not in read_rows(run / "summary.csv")[0]
    paths = plot_sweep(run)
    assert [p.name for p in paths] == ["sweep.png", "sweep_heatmap.png", "depth.png"]  # the heatmap shows median costs
    for path in paths:
        check_png(path)
    report = write_report(run).read_text()
    assert "success rate" not in report and "](sweep.png)" in report and "](sweep_heatmap.png)" in report
    from relu_lab.runfiles import SweepDir

    g = SweepDir(run)  # each grid point's members, as the pictures group them
    points = [[m["member"] for m in g.members_at(row)] for row in g.summary]
    assert len(points) == 6 and all(len(p) == 2 for p in points)
    assert sorted(int(m) for p in points for m in p) == list(range(12))
    for row, members in zip(g.summary, points):
        assert all(m["train.lr"] == row["train.lr"] and m["model.init_scale"] == row["model.init_scale"]
                   for m in g.members if m["member"] in members)


def test_compare_plots(runs):
    names = [p.name for p in plot_sweep(runs["compare"])]
    assert names == ["compare_curves.png", "compare_success.png", "depth.png"]
    for name in names:
        check_png(runs["compare"] / name)


def test_compare_with_an_lr_axis_uses_each_activations_best_lr(tmp_path):
    axes = [Axis("model.hidden", ["relu", "tanh"]), Axis("train.lr", [0.001, 0.5])]
    run = sweep(SMALL, axes, [0, 1], tmp_path, kind="compare")
    names = [p.name for p in plot_sweep(run)]
    assert names == ["sweep.png", "sweep_heatmap.png", "compare_curves.png", "compare_success.png", "depth.png"]
    for name in names:
        check_png(run / name)
    report = write_report(run, make_plots=False).read_text()
    assert "best grid point" in report and "train.lr = 0.5" in report


def test_compare_without_success_criterion_plots_costs(tmp_path):
    raw = copy(SMALL)
    del raw["success"]
    run = sweep(raw, [Axis("model.hidden", ["relu", "elu", "tanh"])], [0, 1], tmp_path, kind="compare")
    names = [p.name for p in plot_sweep(run)]
    assert names == ["compare_curves.png", "compare_cost.png", "depth.png"]
    check_png(run / "compare_cost.png")


def test_a_diverging_sweep_still_plots(tmp_path):
    raw = copy(SMALL, data={"name": "interpolation", "n": 40}, model={"layers": [1, 10, 1]},
               success={"metric": "r2", "at_least": 0.5})
    run = sweep(raw, [Axis("train.lr", [0.001, 0.01, 100.0])], [0, 1], tmp_path)
    assert any(r["status"] == "diverged" for r in read_rows(run / "members.csv"))
    check_png(plot_sweep(run)[0])
    assert "2/2" in write_report(run, make_plots=False).read_text()  # the diverged column


# --- report -------------------------------------------------------------------------------


def test_report_has_setup_table_and_image_links(runs):
    for key, images in (("sweep", ["sweep.png"]), ("compare", ["compare_curves.png", "compare_success.png"])):
        path = write_report(runs[key])
        assert path == runs[key] / "report.md"
        text = path.read_text()
        assert text.startswith("# ")
        assert "circle" in text and "2-6-1" in text and "0, 1, 2 (3 seeds)" in text
        table = [line for line in text.splitlines() if line.startswith("|")]
        assert len(table) == 2 + 2  # header, alignment row, two grid points
        assert table[1].replace(" ", "").strip("|").split("|")[0] == "---"
        assert sum("**" in line for line in table) == 1  # the best row, in bold
        assert all(line.count("|") == table[0].count("|") for line in table)
        assert "%" in table[2] and "[" in table[2]  # success rate with its interval
        for image in images:
            assert f"]({image})" in text and (runs[key] / image).exists()
        no_temp_files(runs[key])


def test_report_is_refused_for_a_train_run(runs):
    with pytest.raises(UserError, match="sweep and compare"):
        write_report(runs["circle"])


# --- activations --------------------------------------------------------------------------


def test_plot_activations_of_every_registered_name(tmp_path):
    path = plot_activations(list(ACTIVATIONS), tmp_path / "acts" / "activations.png")
    check_png(path)
    few = plot_activations(["relu", "softplus"], tmp_path / "two.png")
    check_png(few)
    assert plot_activations([], tmp_path / "all.png").exists()  # no names: all of them


def test_plot_activations_finds_a_configs_own_module_beside_it(tmp_path, monkeypatch):
    from relu_lab.plots.activations import drawn_activations

    folder = tmp_path / "exp"
    folder.mkdir()
    (folder / "beside_mod.py").write_text("def cube(z):\n    return z ** 3\n\ndef dcube(z):\n    return 3 * z ** 2\n")
    (folder / "cube.yaml").write_text('data: {name: xor}\nmodel: {layers: [2, 4, 1], hidden: cube, custom_activations: '
                                      '{cube: {f: "beside_mod:cube", df: "beside_mod:dcube"}}}\n')
    monkeypatch.chdir(tmp_path)  # not the config's folder
    titles = [p.title for p in drawn_activations([str(folder / "cube.yaml")])]
    assert titles == ["cube (beside_mod:cube)", "sigmoid (output)"]
    (folder / "cube.yaml").write_text(
        'data: {name: xor}\nmodel: {layers: [2, 4, 1], hidden: cube, custom_activations: '
        '{cube: {f: "nowhere_mod:cube", df: "nowhere_mod:dcube"}}}\n')
    with pytest.raises(UserError, match=r"cube\.yaml:\d+: model\.custom_activations\.cube: cannot import"):
        drawn_activations([str(folder / "cube.yaml")])


def test_the_shifted_rectifiers_panel_goes_with_the_whole_gallery_only(tmp_path, figures):
    plot_activations([], tmp_path / "all.png")
    plot_activations(["relu", "softplus"], tmp_path / "two.png")
    titles = [ax.get_title() for ax in figures["all.png"].axes]
    assert len(titles) == len(ACTIVATIONS) + 1 and titles[-1] == "Differences of shifted rectifiers vs sigmoid"
    assert [ax.get_title() for ax in figures["two.png"].axes] == ["relu", "softplus"]
    plot_activations(["relu6", "relu"], tmp_path / "six.png")
    six, plain = figures["six.png"].axes
    assert six.get_xlim()[1] > 6 and plain.get_xlim()[1] < 5  # relu6's cap at 6 is in its panel


def test_a_users_derivative_that_is_not_fs_slope_is_drawn_beside_the_slope_and_said(tmp_path, figures):
    from relu_lab.plots.activations import drawn_activations

    (wrong,) = drawn_activations(["tests.custom_act:swish,tests.custom_act:dswish_wrong"])
    (right,) = drawn_activations(["tests.custom_act:swish,tests.custom_act:dswish"])
    assert wrong.mismatch and right.mismatch is None
    said = []
    plot_activations(["tests.custom_act:swish,tests.custom_act:dswish_wrong"], tmp_path / "wrong.png", said.append)
    assert len(said) == 1 and said[0].startswith("tests.custom_act:swish: the derivative dswish_wrong does not match")
    (ax,) = figures["wrong.png"].axes
    assert "its f' is not f's slope" in ax.get_title()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["f(z)", "f'(z) (yours)", "f's slope (numerical)"]
    with pytest.raises(UserError, match="must work elementwise|shape"):
        drawn_activations(["numpy:sum,numpy:sum"])


def test_plot_activations_rejects_an_unknown_name(tmp_path):
    with pytest.raises(UserError, match="did you mean 'relu'"):
        plot_activations(["relu", "rleu"], tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()


# --- errors -------------------------------------------------------------------------------


def test_plot_any_refuses_what_is_not_a_run(tmp_path, runs):
    cases = {}
    cases["missing"] = tmp_path / "nope"
    (tmp_path / "file.txt").write_text("hello")
    cases["a file"] = tmp_path / "file.txt"
    (tmp_path / "empty").mkdir()
    cases["empty"] = tmp_path / "empty"
    bad_json = tmp_path / "bad-json"
    shutil.copytree(runs["sweep"], bad_json)
    (bad_json / "summary.json").write_text("{not json")
    cases["bad json"] = bad_json
    no_rows = tmp_path / "no-rows"
    shutil.copytree(runs["circle"], no_rows)
    (no_rows / "metrics.csv").write_text("epoch,step,lr,cost,accuracy\n")
    cases["no rows"] = no_rows
    binary = tmp_path / "binary"
    shutil.copytree(runs["compare"], binary)
    (binary / "summary.csv").write_bytes(b"\xff\xfe\x00garbage")
    cases["binary csv"] = binary
    for what, path in cases.items():
        with pytest.raises(UserError) as err:
            plot_any(path)
        message = str(err.value)
        assert "\n" not in message and str(path) in message, (what, message)


# --- diverged runs: the finite part is drawn, the divergence marked ---------------------------


def finite_points(line) -> int:
    return int(np.isfinite(np.asarray(line.get_ydata(), dtype=float)).sum())


def test_a_diverged_run_draws_its_finite_points_and_no_phase_it_never_reached(tmp_path, figures):
    raw = copy(INTERPOLATION, train={"phases": [{"epochs": 30, "lr": 5.0, "hidden": "relu"},
                                                {"epochs": 30, "lr": 5.0, "hidden": "elu"}],
                                      "batch_size": 10})
    run = train(raw, tmp_path)
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "diverged" and summary["diverged_epoch"] < 30
    plot_run(run)
    ax_cost = figures["curves.png"].axes[0]
    cost = [ln for ln in ax_cost.get_lines() if ln.get_label() == "train cost"][0]
    assert finite_points(cost) >= 1 and cost.get_marker() == "o"  # one or two points: drawn as dots
    labels = [t.get_text().strip() for t in ax_cost.texts]
    assert labels == ["relu"]  # the elu phase started after the divergence: not marked
    assert any("diverged (epoch" in str(ln.get_label()) for ln in ax_cost.get_lines())


def test_compare_curves_stop_at_the_divergence_and_say_so(tmp_path, figures):
    raw = copy(INTERPOLATION, train={"lr": 0.3, "epochs": 40, "batch_size": 10}, log_every=5)
    run = sweep(raw, [Axis("model.hidden", ["relu", "tanh"])], [0, 1, 2], tmp_path, kind="compare")
    status = {r["model.hidden"]: r["status"] for r in read_rows(run / "members.csv")}
    assert status == {"relu": "completed", "tanh": "diverged"}, status  # the case this test is about
    plot_sweep(run)
    ax_cost, ax_score = figures["compare_curves.png"].axes[:2]
    for ax in (ax_cost, ax_score):
        lines = {str(ln.get_label()).split(",")[0]: ln for ln in ax.get_lines() if "n=3" in str(ln.get_label())}
        relu, tanh = lines["relu"], lines["tanh"]
        assert "diverged" not in relu.get_label()  # epochs the others logged do not count against it
        assert finite_points(relu) == len(relu.get_xdata())
        assert "median diverged at epoch" in tanh.get_label()
        assert 1 <= finite_points(tanh) < len(tanh.get_xdata())
        crosses = [ln for ln in ax.get_lines() if ln.get_marker() == "x"]
        assert len(crosses) == 1
    assert ax_score.get_ylim()[1] <= 1.06  # R² never above 1


def test_a_learning_rate_redirected_into_phase_0_is_plotted_as_the_learning_rate(tmp_path, figures):
    raw = copy(SMALL, train={"phases": [{"epochs": 4, "lr": 0.1}, {"epochs": 4, "lr": 0.01}], "batch_size": 4})
    run = sweep(raw, [Axis("train.lr", [0.01, 0.3])], [0], tmp_path)  # redirected to train.phases.0.lr
    plot_sweep(run)
    ax = figures["sweep.png"].axes[0]
    assert ax.get_xlabel() == "learning rate (train.phases.0.lr)" and ax.get_xscale() == "log"
    assert "learning-rate sweep" in figures["sweep.png"].get_suptitle()


# --- sweeps over any key ---------------------------------------------------------------------


def test_two_varied_keys_give_a_heatmap_with_the_interval_in_each_cell(tmp_path, figures):
    run = sweep(SMALL, [Axis("model.init_scale", [0.5, 2.0]), Axis("train.lr", [0.01, 0.3, 1.0])], [0, 1], tmp_path)
    names = [p.name for p in plot_sweep(run)]
    assert names == ["sweep.png", "sweep_heatmap.png", "depth.png"]
    fig = figures["sweep_heatmap.png"]
    ax = fig.axes[0]
    assert ax.get_xlabel() == "learning rate" and ax.get_ylabel() == "model.init_scale"  # lr across, always
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0.01", "0.3", "1"]
    cells = [t.get_text() for t in ax.texts]
    assert len(cells) == 6 and all("%\n[" in c and c.count("/2") == 1 for c in cells)
    rows = read_rows(run / "summary.csv")
    first = next(r for r in rows if r["train.lr"] == "0.01" and r["model.init_scale"] == "0.5")
    assert cells[0].startswith(f"{100 * float(first['success_rate']):.0f}%")  # cell (0, 0) is that point
    assert "sweep over learning rate × model.init_scale" in figures["sweep.png"].get_suptitle()


def test_a_sweep_over_another_key_puts_that_key_on_the_x_axis(tmp_path, figures):
    run = sweep(SMALL, [Axis("model.init_scale", [0.25, 1.0, 4.0])], [0], tmp_path)
    assert [p.name for p in plot_sweep(run)] == ["sweep.png", "depth.png"]  # one varied key: no heatmap
    fig = figures["sweep.png"]
    ax = fig.axes[0]
    assert ax.get_xlabel() == "model.init_scale" and ax.get_xscale() == "linear"  # 16x: not log
    line = next(ln for ln in ax.get_lines() if len(ln.get_xdata()) == 3)
    assert list(line.get_xdata()) == [0.25, 1.0, 4.0]  # spread over the key, not stacked at one lr
    assert "learning-rate" not in fig.get_suptitle() and "model.init_scale" in fig.get_suptitle()


def test_a_key_held_at_one_value_is_not_an_axis(tmp_path, figures):
    run = sweep(SMALL, [Axis("train.lr", [0.3]), Axis("model.init_scale", [0.5, 1.0])], [0], tmp_path)
    assert [p.name for p in plot_sweep(run)] == ["sweep.png", "depth.png"]
    assert figures["sweep.png"].axes[0].get_xlabel() == "model.init_scale"




# --- every unit: maps, when they died, weights --------------------------------------------------


def test_a_train_run_draws_its_units_their_raster_and_weights(runs):
    for key in ("circle", "interpolation"):
        names = {p.name for p in plot_run(runs[key])}
        assert {"units.png", "units_raster.png", "weights.png"} <= names, key
        for name in ("units.png", "units_raster.png", "weights.png"):
            check_png(runs[key] / name)


def kill_unit(run: Path, unit: int, bias: float = -1.0) -> None:
    """Make `unit` of layer 1 dead in the last snapshot: z = -1 on every input (another bias: z = bias)."""
    with np.load(run / "snapshots.npz") as z:
        arrays = {k: z[k].copy() for k in z.files}
    arrays["W0"][-1][:, unit] = 0.0
    arrays["b0"][-1][:, unit] = bias
    np.savez(run / "snapshots.npz", **arrays)


def test_a_dead_unit_is_shown_dead_on_its_map_and_in_the_raster(runs, tmp_path, figures):
    from relu_lab.plots.units import active_shares, plot_units
    from relu_lab.run import load_network
    from relu_lab.snapshots import load

    run = tmp_path / "circle"
    shutil.copytree(runs["circle"], run)
    cfg, data, _ = load_network(run)
    kill_unit(run, 3)
    plot_units(run, cfg, data)
    fig = figures["units.png"]
    panel = next(ax for ax in fig.axes if ax.get_title().startswith("L1 u3:"))
    assert panel.get_title() == "L1 u3: 0%" and panel.title.get_color() == "red"
    assert [t.get_text() for t in panel.texts] == ["dead"]
    others = [ax for ax in fig.axes if ax.get_title().startswith("L1 u") and ax is not panel]
    assert len(others) == 19
    for ax in others:  # a unit is marked dead exactly when it is active on no training sample
        assert ("dead" in [t.get_text() for t in ax.texts]) == ax.get_title().endswith(": 0%"), ax.get_title()
    shares = active_shares(cfg, data, *load(run / "snapshots.npz"))[0][0]
    assert shares[3, -1] == 0.0 and shares.shape == (20, len(load(run / "snapshots.npz")[0]))


def test_units_at_an_epoch_that_was_not_kept_are_refused_naming_the_nearest(runs):
    from relu_lab.plots.units import plot_units
    from relu_lab.run import load_network

    cfg, data, _ = load_network(runs["circle"])
    with pytest.raises(UserError, match=r"--epoch 3: no weights kept for that epoch .* the nearest kept is [24]"):
        plot_units(runs["circle"], cfg, data, epoch=3)
    path = plot_units(runs["circle"], cfg, data, epoch=100)
    assert path.name == "units-epoch100.png"
    check_png(path)


@pytest.mark.parametrize("cut", [40, 100, 101, 250])
def test_a_resumed_snapshot_log_keeps_what_an_uninterrupted_one_keeps(tmp_path, cut):
    """Resumed after `cut` logs (inside the dense first logs, at their end, or in the strided rest)."""
    from relu_lab.snapshots import DENSE, SnapshotLog

    class Net:
        def __init__(self, epoch):
            self.epoch = epoch

        def state(self):
            return {"W0": np.full((1, 2, 2), float(self.epoch))}

    logs = 451  # epochs 0..450, logged every epoch: more than MAX_SNAPSHOTS
    whole = SnapshotLog(stride=4, dense=DENSE)
    for e in range(logs):
        whole(e, 0, Net(e))
    whole.finish()
    first = SnapshotLog(stride=4, dense=DENSE)
    for e in range(cut):
        first(e, 0, Net(e))
    first.finish()
    first.write(tmp_path / "snapshots.npz")
    rest = SnapshotLog(stride=4, dense=DENSE)
    assert rest.resume_from(tmp_path, cut - 1, cut)
    for e in range(cut, logs):
        rest(e, 0, Net(e))
    rest.finish()
    assert rest.epochs == whole.epochs and [s["W0"][0, 0] for s in rest.states] == whole.epochs


def test_snapshots_are_thinned_to_at_most_the_maximum_and_keep_the_last(tmp_path):
    from relu_lab.snapshots import DENSE, MAX_SNAPSHOTS, load

    run = train(copy(XOR, log_every=1, train={"lr": 0.3, "epochs": 450}), tmp_path)
    epochs, phases, states = load(run / "snapshots.npz")
    assert set(phases) == {0} and len(epochs) <= MAX_SNAPSHOTS + 1 and epochs[0] == 0 and epochs[-1] == 450
    assert epochs == sorted(set(epochs))
    assert epochs[:DENSE] == list(range(DENSE))  # the first logs one by one: where units die early
    assert {b - a for a, b in zip(epochs[DENSE:-2], epochs[DENSE + 1:-1])} == {4}  # then evenly: (451 - 100) / 100
    with np.load(run / "params.npz") as final:
        np.testing.assert_array_equal(states[-1]["W0"], final["W0"][0])


def test_plot_epoch_draws_the_units_then_or_refuses_in_one_line(runs):
    from typer.testing import CliRunner

    from relu_lab.cli import app

    ok = CliRunner().invoke(app, ["plot", str(runs["circle"]), "--epoch", "50"])
    assert ok.exit_code == 0 and ok.output.strip().endswith("units-epoch50.png")
    for target, words in ((runs["sweep"], "--epoch goes with a train run directory"),
                          (runs["circle"], "no weights kept for that epoch")):
        bad = CliRunner().invoke(app, ["plot", str(target), "--epoch", "7" if target == runs["circle"] else "50"])
        assert bad.exit_code == 2 and words in bad.output and "Traceback" not in bad.output


@pytest.mark.parametrize("first,second", [("leaky_relu", "prelu"), ("prelu", "relu")])
def test_unit_pictures_follow_the_activations_of_each_snapshots_phase(tmp_path, first, second):
    from relu_lab.snapshots import load

    raw = copy(CIRCLE, model={"layers": [2, 6, 6, 1], "hidden": first},
               train={"batch_size": 16, "phases": [{"epochs": 20, "lr": 0.3}, {"epochs": 20, "hidden": second}]})
    run = train(raw, tmp_path)
    epochs, phases, states = load(run / "snapshots.npz")
    assert phases[0] == 0 and phases[-1] == 1 and phases == sorted(phases)
    learned = ["learned0" in s for s in states]  # PReLU's slopes exist exactly in its phase
    assert learned == [(p == 0) == (first == "prelu") for p in phases]
    names = {p.name for p in plot_run(run)}
    assert {"units.png", "units_raster.png", "weights.png"} <= names


# --- training unfolding: animated GIFs ----------------------------------------------------------


def gif_frames(path: Path) -> list[np.ndarray]:
    from PIL import Image, ImageSequence

    with Image.open(path) as image:
        assert image.format == "GIF"
        return [np.asarray(frame.convert("RGB")) for frame in ImageSequence.Iterator(image)]


@pytest.mark.parametrize("what", ["training", "units"])
def test_an_animation_has_a_frame_per_kept_epoch_and_they_differ(tmp_path, what):
    from typer.testing import CliRunner

    from relu_lab.cli import app
    from relu_lab.snapshots import load

    raw = copy(INTERPOLATION if what == "units" else XOR, log_every=20)
    raw["train"] = raw["train"] | {"epochs": 80}
    run = train(raw, tmp_path)
    result = CliRunner().invoke(app, ["plot", str(run), "--animate", what])
    assert result.exit_code == 0, result.output
    frames = gif_frames(run / f"{what}.gif")
    assert len(frames) == len(load(run / "snapshots.npz")[0]) == 5  # epochs 0, 20, ..., 80
    h, w, _ = frames[0].shape
    assert 250 <= w <= 2000 and 200 <= h <= 2000 and all(f.shape == frames[0].shape for f in frames)
    assert all(np.ptp(f) > 100 for f in frames)  # not blank
    assert np.abs(frames[0].astype(int) - frames[-1].astype(int)).mean() > 0.5  # training changed the picture


def test_every_frame_of_units_gif_colours_a_layer_on_one_scale(tmp_path):
    """A unit's map brightens only when the unit changes, not because another frame's outputs span less."""
    from relu_lab.plots.style import plt
    from relu_lab.plots.units import draw_units, unit_scales
    from relu_lab.run import load_network
    from relu_lab.snapshots import load, network_at

    raw = copy(XOR, log_every=20)
    raw["train"] = raw["train"] | {"epochs": 80}
    run = train(raw, tmp_path)
    cfg, data, _ = load_network(run)
    epochs, phases, states = load(run / "snapshots.npz")
    nets = [network_at(cfg, s, p) for s, p in zip(states, phases)]
    scales = unit_scales(cfg, data, nets)
    assert len(scales) == len(cfg.model.layers) - 2
    own = []  # per frame, per layer: the range of its outputs on the data
    for net in nets:
        _, outputs = net.forward(data.X)
        own.append([(outputs[l].min(), outputs[l].max()) for l in range(1, len(scales) + 1)])
        fig = draw_units(cfg, data, net, scales)[0]
        assert {im.get_clim() for ax in fig.axes for im in ax.images} == set(scales)
        assert all("over all frames" in ax.get_ylabel() for ax in fig.axes if ax.get_ylabel())
        plt.close(fig)
    for l, (lo, hi) in enumerate(scales):
        assert lo == min(frame[l][0] for frame in own) and hi == max(frame[l][1] for frame in own)
    assert len({tuple(frame) for frame in own}) > 1  # the frames' own ranges differ: the shared scale is the point


def test_every_frame_of_training_gif_colours_the_output_on_one_scale(tmp_path):
    """A linear output's range changes as it trains; the frames share one colour scale all the same."""
    from relu_lab.plots.output import draw_boundary, output_span
    from relu_lab.plots.style import plt
    from relu_lab.run import load_network
    from relu_lab.snapshots import load, network_at

    raw = copy(XOR, log_every=20)
    raw["model"] = raw["model"] | {"output": "linear"}
    raw["loss"] = "mse"
    raw["train"] = raw["train"] | {"epochs": 80}
    run = train(raw, tmp_path)
    cfg, data, _ = load_network(run)
    epochs, phases, states = load(run / "snapshots.npz")
    nets = [network_at(cfg, s, p) for s, p in zip(states, phases)]
    lo, hi = output_span(data, nets, 40)
    limits = set()
    for net in nets:
        fig, ax = plt.subplots()
        draw_boundary(fig, ax, cfg, data, net, colorbar=False, points=40, span=(lo, hi))
        limits.add((ax.images[0].norm.vmin, ax.images[0].norm.vmax))
        plt.close(fig)
    assert len(limits) == 1  # every frame the same
    assert lo < 0 or hi > 1  # a linear output leaves [0, 1]: the per-frame scale would have moved


def test_animate_refuses_what_it_cannot_draw(runs):
    from typer.testing import CliRunner

    from relu_lab.cli import app

    for args, words in (([str(runs["sweep"]), "--animate", "training"], "--animate goes with a train run"),
                        ([str(runs["xor"]), "--animate", "unit"], "unknown animation 'unit'; did you mean 'units'"),
                        ([str(runs["xor"]), "--animate", "units", "--epoch", "3"], "go separately"),
                        ([str(runs["xor"]), "--frames", "10"], "--frames goes with --animate"),
                        ([str(runs["xor"]), "--from", "1", "--to", "5"], "--from, --to go with --animate"),
                        ([str(runs["xor"]), "--animate", "units", "--frames", "1"], "from 2 to 500 frames"),
                        ([str(runs["xor"]), "--animate", "units", "--from", "9", "--to", "3"], "is after --to 3"),
                        ([str(runs["xor"]), "--animate", "units", "--from", "100000"],
                         "no weights were kept in epochs 100000..the end"),
                        ([str(runs["xor"]), "--animate", "units", "--from", "0", "--to", "0"],
                         "only one set of weights was kept in epochs 0..0, and an animation needs two")):
        result = CliRunner().invoke(app, ["plot", *args])
        assert result.exit_code == 2 and words in result.output, result.output


def test_frames_crowd_where_the_weights_change_and_stay_in_the_epochs_asked_for():
    from relu_lab.plots.animation import change_spaced, frames_in

    # 100 snapshots: the weights move 1.0 a step over the first 10, then 0.01 a step
    w = np.concatenate([np.arange(11.0), 10 + 0.01 * np.arange(1, 90)])
    states = [{"W0": np.array([[x]]), "b0": np.zeros((1, 1))} for x in w]
    picks = change_spaced(states, 20)
    assert picks[0] == 0 and picks[-1] == 99 and len(picks) == 20  # the frames asked for
    assert set(range(11)) <= set(picks)  # every snapshot of the first tenth, where 90 % of the change happens
    assert len([i for i in picks if i > 10]) == 9  # the rest spread over the other 89
    still = [{"W0": np.zeros((1, 1))} for _ in range(100)]
    assert change_spaced(still, 5) == [0, 25, 50, 74, 99]  # nothing changes: evenly spread
    assert change_spaced(states[:7], 20) == list(range(7))
    epochs = list(range(0, 1000, 10))
    assert frames_in(epochs, 95, 130) == [10, 11, 12, 13] and frames_in(epochs, None, None) == list(range(100))


def test_plot_activations_draws_a_users_own_and_a_configs_as_it_uses_them(tmp_path, monkeypatch, figures):
    from relu_lab.plots.activations import drawn_activations

    (tmp_path / "mymod.py").write_text("import numpy as np\n\ndef cube(z):\n    return z ** 3\n\n"
                                       "def dcube(z):\n    return 3 * z ** 2\n")
    monkeypatch.chdir(tmp_path)
    config = Path(__file__).resolve().parents[1] / "configs" / "seed004_circle.yaml"  # leaky_relu (0.1), then relu
    panels = drawn_activations(["mymod:cube,mymod:dcube", "mymod:cube", str(config), "relu"])
    assert [(p.title, p.params) for p in panels] == [("mymod:cube", {}), ("leaky_relu", {"slope": 0.1}),
                                                     ("relu", {}), ("sigmoid (output)", {})]
    assert panels[0].df is not None and panels[0].df(np.array([2.0]))[0] == 12.0
    assert drawn_activations(["mymod:cube"])[0].df is None  # no derivative given: drawn as a numerical slope
    plot_activations(["mymod:cube", str(config)], tmp_path / "mine.png")
    titles = [ax.get_title() for ax in figures["mine.png"].axes]
    assert titles[:3] == ["mymod:cube", "leaky_relu (slope=0.1)", "relu"]
    assert "f'(z) (numerical)" in [t.get_text() for t in figures["mine.png"].axes[0].get_legend().get_texts()]
    for bad, words in ((["mymod:nope"], "has no attribute 'nope'"), (["nosuch"], "module:f,module:df")):
        with pytest.raises(UserError, match=words):
            drawn_activations(bad)
    assert [p.title for p in drawn_activations(["mish,relu"])] == ["mish", "relu"]  # a list, as --activations takes
    with pytest.raises(UserError, match="give a file name ending in .png"):
        plot_activations(["relu"], tmp_path / "x.jpg")


# --- activations.png: each hidden layer's outputs over the epochs -----------------------------------------


def test_the_band_of_a_layers_outputs_stays_within_what_its_activation_can_output(tmp_path, monkeypatch):
    """mean ± std of a sigmoid layer whose outputs sit mostly near 0 would reach below 0: it is clipped to [0, 1];
    a ReLU layer's only below; a linear layer's not at all."""
    from relu_lab.plots import layer_outputs

    drawn = []
    real = layer_outputs.plt.Axes.fill_between
    monkeypatch.setattr(layer_outputs.plt.Axes, "fill_between",
                        lambda self, x, lo, hi, **kw: drawn.append((np.asarray(lo), np.asarray(hi)))
                        or real(self, x, lo, hi, **kw))
    cfg = config_from_dict({"data": {"name": "xor"}, "model": {"layers": [2, 4, 4, 4, 1],
                                                                "hidden": ["sigmoid", "relu", "linear"]}})
    epoch = np.arange(0.0, 50.0, 10.0)
    cols = {"epoch": epoch}
    for l, (mean, std) in enumerate([(0.1, 0.3), (0.2, 0.5), (0.0, 2.0)], 1):
        cols |= {f"act_mean_L{l}": np.full(5, mean), f"act_std_L{l}": np.full(5, std), f"saturated_L{l}": np.zeros(5)}
    assert layer_outputs.output_range(cfg, 1) == (0.0, 1.0)
    assert layer_outputs.output_range(cfg, 2) == (0.0, np.inf)
    assert layer_outputs.output_range(cfg, 3) == (-np.inf, np.inf)
    check_png(layer_outputs.plot_layer_outputs(tmp_path, "clipped", cols, cfg))
    (lo1, hi1), (lo2, hi2), (lo3, hi3) = drawn
    assert np.all(lo1 == 0.0) and np.allclose(hi1, 0.4)  # not -0.2
    assert np.all(lo2 == 0.0) and np.allclose(hi2, 0.7)
    assert np.allclose(lo3, -2.0) and np.allclose(hi3, 2.0)
