"""`relu-lab runs`: list, show and diff real (tiny) run directories, and folders that are not runs."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
from datetime import datetime
from pathlib import Path

import pytest
import yaml
from rich.console import Console
from typer.testing import CliRunner

import relu_lab.runs as runs_module
from relu_lab import runfiles
from relu_lab.cli import app
from relu_lab.errors import UserError
from relu_lab.grid import run_sweep
from relu_lab.loading import config_from_dict
from relu_lab.plan import Axis, plan_sweep
from relu_lab.run import train_run
from relu_lab.runs import ABSENT, RunInfo, config_changes, diff_runs, flatten, list_runs, runs_table, show_run

XOR = {
    "name": "xor",
    "data": {"name": "xor"},
    "model": {"layers": [2, 4, 4, 1], "hidden": "relu"},
    "train": {"lr": 0.3, "epochs": 300},
    "success": {"metric": "accuracy", "at_least": 1.0},
}
INTERP = {  # lr 50 on a regression: the cost is infinite within an epoch or two
    "name": "interp",
    "data": {"name": "interpolation", "n": 100},
    "model": {"layers": [1, 30, 1], "hidden": "relu"},
    "train": {"lr": 50, "epochs": 20, "batch_size": 10},
}
SMALL = {  # for grids: 60 points, 12 epochs
    "name": "small",
    "data": {"name": "circle", "n": 60},
    "model": {"layers": [2, 6, 1], "hidden": "relu"},
    "train": {"lr": 0.1, "epochs": 12, "batch_size": 4},
    "log_every": 3,
    "success": {"metric": "accuracy", "at_least": 0.7},
}

runner = CliRunner()


def config(raw: dict, **train) -> object:
    raw = json.loads(json.dumps(raw))
    raw["train"] |= train
    return config_from_dict(raw)


def stamped(run_dir: Path, minute: int, name: str) -> Path:
    """The run directory renamed <2025-01-01 12:minute>-<name>: known names in a known order (runs made
    within one second would share a stamp and get -2, -3 suffixes in whatever order they finished)."""
    stamp = datetime(2025, 1, 1, 12, minute).strftime("%Y%m%d-%H%M%S")
    return run_dir.rename(run_dir.with_name(f"{stamp}-{name}"))


def stop_at_epoch_20(row) -> None:
    if row.epoch >= 20:
        raise KeyboardInterrupt  # what Ctrl-C does inside fit: the run ends 'interrupted'


def ctrl_c(member_epochs: int) -> None:
    """A sweep's progress callback that interrupts it at the first report, before any member finished."""
    raise KeyboardInterrupt


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    """A runs folder with every kind and status, a foreign folder, a broken run, a file and a hidden folder."""
    out = tmp_path_factory.mktemp("runs")
    runs = {
        "xor": train_run(config(XOR), out=out).run_dir,
        "xor-lr": train_run(config(XOR, lr=0.5), out=out).run_dir,
        "xor-stopped": train_run(config(XOR), out=out, on_log=stop_at_epoch_20).run_dir,
        "interp": train_run(config(INTERP), out=out).run_dir,
        "sweep-small": run_sweep(plan_sweep(config(SMALL), [Axis("train.lr", [0.01, 0.3])], [0, 1]), out).run_dir,
        "compare-small": run_sweep(plan_sweep(config(SMALL), [Axis("model.hidden", ["relu", "tanh"])], [0, 1]), out,
                                   kind="compare").run_dir,
    }
    cut = plan_sweep(config(SMALL), [Axis("model.hidden", ["relu", "tanh"])], [0, 1])
    runs["compare-cut"] = run_sweep(cut, out, kind="compare", on_progress=ctrl_c).run_dir
    for minute, (name, run_dir) in enumerate(runs.items()):
        stamped(run_dir, minute, name)
    (out / "notes").mkdir()
    (out / "notes" / "todo.txt").write_text("try elu\n")
    os.utime(out / "notes", (datetime(2020, 1, 1).timestamp(),) * 2)  # no stamp: its mtime, the oldest
    broken = shutil.copytree(out / "20250101-120000-xor", out / "20250102-000000-broken")
    (broken / "summary.json").write_text("{not json")
    (out / "readme.txt").write_text("a file, not a run\n")
    (out / ".cache").mkdir()
    return out


def by_dir(infos: list[RunInfo]) -> dict[str, RunInfo]:
    """The runs by their directory's name without the stamp."""
    return {i.path.name.split("-", 2)[2] if i.path.name[0].isdigit() else i.path.name: i for i in infos}


def summary(run_dir: Path) -> dict:
    return json.loads((run_dir / "summary.json").read_text())


def render(renderable) -> str:
    console = Console(file=io.StringIO(), width=200, color_system=None)
    console.print(renderable)
    return console.file.getvalue()


def test_list_reads_every_kind_and_status(root):
    runs = by_dir(list_runs(root))
    assert set(runs) == {"xor", "xor-lr", "xor-stopped", "interp", "sweep-small", "compare-small", "compare-cut",
                         "broken", "notes"}  # no file, no hidden folder
    kinds = {k: (r.kind, r.status, r.members, r.members_done) for k, r in runs.items()}
    assert kinds["xor"] == ("train", "completed", 1, 1)
    assert kinds["xor-stopped"] == ("train", "interrupted", 1, 1)
    assert kinds["interp"] == ("train", "diverged", 1, 1)
    assert kinds["sweep-small"] == ("sweep", "completed", 4, 4)
    assert kinds["compare-small"] == ("compare", "completed", 4, 4)
    assert kinds["compare-cut"] == ("compare", "interrupted", 4, 0)

    final = summary(runs["xor"].path)["final"]
    assert runs["xor"].headline == f"acc. {final['accuracy']:.2f}  cost {final['cost']:.3g}"
    assert runs["xor-stopped"].cost == summary(runs["xor-stopped"].path)["final"]["cost"]
    assert 20 <= summary(runs["xor-stopped"].path)["epochs_done"] < 300
    # a diverged run has no figures: '-', not a number
    assert (runs["interp"].score_name, runs["interp"].score, runs["interp"].cost) == ("r2", None, None)
    assert runs["interp"].headline == "R² -  cost -"
    best = summary(runs["sweep-small"].path)["best"]
    assert runs["sweep-small"].success == best["success_rate"]
    assert runs["sweep-small"].headline == f"success {100 * best['success_rate']:.0f}% (lr={best['train.lr']:g})"
    assert runs["compare-small"].point == f"hidden={summary(runs['compare-small'].path)['best']['model.hidden']}"
    assert runs["compare-cut"].headline == "-" and runs["compare-cut"].error is None


def test_folders_that_are_not_runs_are_listed_as_unreadable(root):
    runs = by_dir(list_runs(root))
    assert runs["notes"].kind == runs["broken"].kind == "unreadable"
    assert "not a relu-lab run directory" in runs["notes"].error
    assert "summary.json: cannot read the JSON file" in runs["broken"].error
    assert runs["broken"].headline == "-" and runs["broken"].status is None


def test_list_newest_first_by_stamp_then_mtime(root):
    names = [i.path.name for i in list_runs(root)]
    assert names == ["20250102-000000-broken", "20250101-120600-compare-cut", "20250101-120500-compare-small",
                     "20250101-120400-sweep-small", "20250101-120300-interp", "20250101-120200-xor-stopped",
                     "20250101-120100-xor-lr", "20250101-120000-xor", "notes"]
    assert list_runs(root)[-1].date == datetime(2020, 1, 1)


def test_filters_by_name_and_kind(root):
    assert [i.path.name for i in list_runs(root, name="XOR")] == [
        "20250101-120200-xor-stopped", "20250101-120100-xor-lr", "20250101-120000-xor"]
    assert [i.kind for i in list_runs(root, kind="compare")] == ["compare", "compare"]
    assert [i.path.name for i in list_runs(root, name="small", kind="sweep")] == ["20250101-120400-sweep-small"]
    assert {i.path.name for i in list_runs(root, kind="unreadable")} == {"20250102-000000-broken", "notes"}
    assert list_runs(root, name="nothing-like-this") == []
    with pytest.raises(UserError, match="unknown run kind 'swep'; did you mean 'sweep'"):
        list_runs(root, kind="swep")


def test_a_root_that_is_no_folder_of_runs_is_a_user_error(root, tmp_path):
    with pytest.raises(UserError, match="no such directory"):
        list_runs(tmp_path / "missing")
    with pytest.raises(UserError, match="not a directory"):
        list_runs(root / "readme.txt")
    with pytest.raises(UserError, match="is a train run, not a folder of runs"):
        list_runs(root / "20250101-120000-xor")
    assert list_runs(tmp_path) == []


def test_a_grid_whose_files_break_does_not_break_the_listing(root, tmp_path):
    odd = shutil.copytree(root / "20250101-120400-sweep-small", tmp_path / "odd" / "20250101-000000-sweep-odd")
    (odd / "summary.json").write_text(json.dumps({"kind": "sweep", "status": 3, "members": "x", "best": [1]}))
    train = shutil.copytree(root / "20250101-120000-xor", tmp_path / "odd" / "20250101-000001-xor")
    (train / "summary.json").write_text(json.dumps({"final": {"cost": "0.5", "accuracy": True}}))
    running = shutil.copytree(root / "20250101-120000-xor", tmp_path / "odd" / "20250101-000002-running")
    (running / "summary.json").unlink()
    runs = by_dir(list_runs(tmp_path / "odd"))
    assert (runs["sweep-odd"].kind, runs["sweep-odd"].status, runs["sweep-odd"].members) == ("sweep", None, None)
    assert runs["sweep-odd"].headline == "-"
    assert runs["xor"].headline == "acc. -  cost 0.5"  # a bool is no accuracy
    assert runs["running"].kind == "train" and "no summary.json yet" in runs["running"].error
    assert "no summary.json yet" in render(runs_table(list(runs.values())))


def test_an_unexpected_failure_reading_one_folder_does_not_stop_the_listing(root, monkeypatch):
    def read_json(path: Path) -> dict:
        if "sweep-small" in str(path):
            raise RecursionError("maximum recursion depth exceeded")
        return runfiles.read_json(path)

    monkeypatch.setattr(runs_module, "read_json", read_json)
    listed = by_dir(list_runs(root))
    assert listed["sweep-small"].kind == "unreadable"
    assert listed["sweep-small"].error == "RecursionError: maximum recursion depth exceeded"
    assert listed["xor"].kind == "train" and len(listed) == 9


def test_runs_table(root):
    text = render(runs_table(list_runs(root), title="runs"))
    lines = text.splitlines()
    header = next(line for line in lines if "headline" in line)
    assert header.split() == ["date", "name", "kind", "status", "members", "headline"]
    row = next(line for line in lines if "sweep-small" in line)
    assert row.split()[:6] == ["2025-01-01", "12:04", "20250101-120400-sweep-small", "sweep", "completed", "4"]
    assert "success" in row and "(lr=" in row
    cut = next(line for line in lines if "compare-cut" in line)
    assert cut.split()[4:] == ["interrupted", "0/4", "-"]
    broken = next(line for line in lines if "broken" in line)
    assert "unreadable" in broken and "cannot read the JSON file" in broken
    assert render(runs_table([], empty="no runs in x")).strip() == "no runs in x"


def fields(text: str) -> dict[str, str]:
    """show_run's 'label  value' lines, up to the summary.csv table's title, as a mapping."""
    out = {}
    for line in text.splitlines():
        pair = re.split(r"\s{2,}", line.strip(), maxsplit=1)
        if len(pair) != 2:
            break
        out.setdefault(*pair)
    return out


def test_show_a_train_run(root):
    run = root / "20250101-120000-xor"
    text = render(show_run(run))
    s = summary(run)
    got = fields(text)
    assert got["kind"] == "train" and got["status"] == f"completed, {s['epochs_done']} of 300 epochs"
    assert {k: got[k] for k in ("dataset", "layers", "hidden", "output", "lr", "epochs")} == {
        "dataset": "xor", "layers": "2-4-4-1", "hidden": "relu", "output": "sigmoid", "lr": "0.3", "epochs": "300"}
    assert got["final"] == f"cost {s['final']['cost']:.4g}, accuracy {s['final']['accuracy']:.4g}"
    assert got["success"].startswith(("yes" if s["success"]["met"] else "no") + ": accuracy >= 1.0")
    assert got["files"] == ", ".join(sorted(os.listdir(run)))
    assert {"config.yaml", "metrics.csv", "params.npz", "summary.json"} <= set(os.listdir(run))


def test_show_a_diverged_and_an_interrupted_run(root):
    text = render(show_run(root / "20250101-120300-interp"))
    got = fields(text)
    assert got["status"].startswith("diverged, ") and "diverged at epoch" in got["status"]
    assert got["final"] == "cost -, r2 -"
    assert re.search(r"warning\s+diverged at epoch", text)
    run = root / "20250101-120200-xor-stopped"
    got = fields(render(show_run(run)))
    assert got["status"] == f"interrupted, {summary(run)['epochs_done']} of 300 epochs"
    assert "checkpoint.npz" in got["files"]


def test_show_names_each_phase_as_the_grid_keys_do_and_marks_what_the_grid_varies(tmp_path):
    phased = json.loads(json.dumps(SMALL))
    phased["train"] = phased["train"] | {"phases": [{"epochs": 2, "lr": 0.05}, {"epochs": 2}]}
    run = run_sweep(plan_sweep(config(phased), [Axis("train.phases.0.lr", [0.01, 0.1])], [0]), tmp_path).run_dir
    got = fields(render(show_run(run)))
    assert got["phase 1 (train.phases.0)"] == "epochs 2, lr 0.05 (varied by the grid)"
    assert got["phase 2 (train.phases.1)"].startswith("epochs 2")
    assert "varied" not in got["phase 2 (train.phases.1)"]
    assert got["grid train.phases.0.lr"] == "0.01, 0.1"


def test_show_a_sweep_and_a_compare(root):
    text = render(show_run(root / "20250101-120400-sweep-small"))
    got = fields(text)
    assert got["status"] == "completed, 4 of 4 members"
    assert got["grid train.lr"] == "0.01, 0.3" and got["lr"] == "0.1 (varied by the grid)"
    assert got["seeds"] == "0..1 (2)" and (got["output"], got["loss"]) == ("sigmoid", "bce")  # resolved in config.yaml
    best = summary(root / "20250101-120400-sweep-small")["best"]
    assert got["best"].startswith(f"lr={best['train.lr']:g}: success {100 * best['success_rate']:.0f}%")
    lines = text.splitlines()
    table = lines[[line.strip() for line in lines].index("summary.csv"):]
    starred = [line for line in table if line.lstrip().startswith("* ")]
    assert len(starred) == 2 and starred[0].split()[1] == f"{best['train.lr']:g}"  # the row, then the caption
    got = fields(render(show_run(root / "20250101-120500-compare-small")))
    assert got["grid model.hidden"] == "relu, tanh" and got["hidden"] == "relu (varied by the grid)"
    got = fields(render(show_run(root / "20250101-120600-compare-cut")))
    assert got["status"] == "interrupted, 0 of 4 members" and got["best"] == "-  (no grid point has finished)"
    assert "checkpoints/" in got["files"]


def test_show_a_grid_with_a_broken_summary_csv(root, tmp_path):
    run = shutil.copytree(root / "20250101-120400-sweep-small", tmp_path / "20250101-000000-sweep-small")
    (run / "summary.csv").write_text("")
    text = render(show_run(run))
    assert fields(text)["status"] == "completed, 4 of 4 members" and "summary.csv: the file is empty" in text


def test_show_refuses_what_is_not_a_run(root):
    with pytest.raises(UserError, match="not a relu-lab run directory"):
        show_run(root / "notes")
    with pytest.raises(UserError, match="cannot read the JSON file"):
        show_run(root / "20250102-000000-broken")


def test_diff_shows_the_changed_key_and_the_results(root):
    a, b = root / "20250101-120000-xor", root / "20250101-120100-xor-lr"
    text = render(diff_runs(a, b))
    config = text[text.index("config"):text.index("results")].strip().splitlines()
    assert config == ["config", "train.lr: 0.3 -> 0.5"]
    results = text[text.index("results"):]
    cost = next(line.split() for line in results.splitlines() if line.split()[:1] == ["cost"])
    assert cost == ["cost", f"{summary(a)['final']['cost']:.3g}", f"{summary(b)['final']['cost']:.3g}"]


def test_diff_of_equal_configs_and_of_grids(root):
    text = render(diff_runs(root / "20250101-120000-xor", root / "20250101-120200-xor-stopped"))
    assert "configs are identical" in text
    assert next(line.split() for line in text.splitlines() if line.split()[:1] == ["status"]) == [
        "status", "completed", "interrupted"]
    text = render(diff_runs(root / "20250101-120400-sweep-small", root / "20250101-120500-compare-small"))
    lines = [line.split() for line in text.splitlines()]
    assert ["grid", "train.lr", "0.01,", "0.3", "-"] in lines
    assert ["grid", "model.hidden", "-", "relu,", "tanh"] in lines
    assert ["seeds", "0..1", "(2)", "0..1", "(2)"] in lines
    # both grids start from the same base config; each side's grid keys are what differs
    config = text.split("results")[0].split("config", 1)[1]
    assert [" ".join(line.split()) for line in config.strip().splitlines()] == [
        "train.lr: varied by the grid: 0.01, 0.3 -> 0.1", "model.hidden: relu -> varied by the grid: relu, tanh"]


def test_diff_of_a_train_run_and_a_sweep_of_the_same_config_shows_no_filled_default(tmp_path):
    # XOR sets no data.n, no output and no loss: the train run's config.yaml and the sweep's base both hold
    # them resolved. Neither is a difference.
    single = train_run(config(XOR), out=tmp_path).run_dir
    grid = run_sweep(plan_sweep(config(XOR), [Axis("train.lr", [0.3])], [0]), tmp_path).run_dir
    raw = yaml.safe_load((grid / "config.yaml").read_text())
    assert (raw["data"]["n"], raw["model"]["output"], raw["loss"]["name"]) == (4, "sigmoid", "bce")
    def config_lines(a, b) -> list[str]:
        part = render(diff_runs(a, b)).split("results")[0].split("config", 1)[1]
        return [" ".join(line.split()) for line in part.strip().splitlines()]

    # what does differ: the sweep logs fewer rows per member (its own default interval)
    every = [yaml.safe_load((d / "config.yaml").read_text())["log_every"] for d in (single, grid)]
    assert every[0] != every[1]
    assert config_lines(single, grid) == [f"log_every: {every[0]} -> {every[1]}"]
    other = run_sweep(plan_sweep(config(XOR, epochs=7), [Axis("train.lr", [0.3])], [0]), tmp_path).run_dir
    assert "train.epochs: 300 -> 7" in config_lines(single, other)
    assert config_lines(grid, grid) == ["configs are identical"]


def test_grid_cells_read_the_same_live_and_from_summary_csv():
    from relu_lab.console import grid_cell

    adam = {"name": "adam", "beta1": 0.8}
    for typed, written in ((0.0031622776601683794, "0.0031622776601683794"), ("relu", "relu"),
                           (adam, '{"name": "adam", "beta1": 0.8}'), ([2, 8, 1], "[2, 8, 1]")):
        key = "train.optimizer" if isinstance(typed, dict) else "k"
        assert grid_cell(key, typed) == grid_cell(key, written)
    assert grid_cell("train.lr", "0.0031622776601683794") == "0.003162"
    assert grid_cell("train.optimizer", '{"name": "adam", "beta1": 0.8}') == "adam(beta1=0.8)"


def test_config_changes_compare_a_grids_key_as_its_values():
    base = {"train": {"lr": 0.1, "optimizer": {"name": "sgd"}}}
    adam = {"train": {"lr": 0.1, "optimizer": {"name": "adam", "beta1": 0.9}}}
    grid_a, grid_b = {"train.optimizer": ["sgd", "adam"]}, {"train.optimizer": ["sgd", "rmsprop"]}
    assert config_changes(base, base, grid_a, grid_b) == [
        ("train.optimizer", "varied by the grid: sgd, adam", "varied by the grid: sgd, rmsprop")]
    assert config_changes(adam, base, {}, grid_a) == [
        ("train.optimizer", {"name": "adam", "beta1": 0.9}, "varied by the grid: sgd, adam")]
    assert config_changes(base, base, {"train.lr": [0.1]}, {}) == []  # a key held at one value, the same
    assert config_changes(base, base) == []


def test_flatten_and_config_changes():
    a = {"train": {"lr": 0.3, "phases": [{"lr": 5, "epochs": 30}]}, "model": {"layers": [2, 8, 1]}}
    b = {"train": {"lr": 0.3, "phases": []}, "model": {"layers": [2, 9, 1], "init": "he"}}
    assert flatten(a) == {"train.lr": 0.3, "train.phases.0.lr": 5, "train.phases.0.epochs": 30,
                          "model.layers": [2, 8, 1]}
    assert config_changes(a, b) == [("train.phases.0.lr", 5, ABSENT), ("train.phases.0.epochs", 30, ABSENT),
                                    ("model.layers", [2, 8, 1], [2, 9, 1]), ("model.init", ABSENT, "he")]
    assert config_changes(a, a) == []


def test_cli_lists_by_default_and_with_list(root):
    result = runner.invoke(app, ["runs", str(root), "--kind", "sweep"])
    assert result.exit_code == 0, result.output
    assert "20250101-120400-sweep-small" in result.stdout and "xor" not in result.stdout
    result = runner.invoke(app, ["runs", "list", str(root), "-n", "xor"])
    assert result.exit_code == 0
    assert [line.split()[2] for line in result.stdout.splitlines() if "-xor" in line] == [
        "20250101-120200-xor-stopped", "20250101-120100-xor-lr", "20250101-120000-xor"]
    result = runner.invoke(app, ["runs", str(root), "--name", "zzz"])
    assert result.exit_code == 0 and result.stdout.strip() == f"no runs in {root} match --name zzz"


def test_cli_without_arguments_lists_runs_in_the_working_directory(root, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shutil.copytree(root / "20250101-120000-xor", tmp_path / "runs" / "20250101-120000-xor")
    result = runner.invoke(app, ["runs", ])
    assert result.exit_code == 0, result.output
    assert "runs: 1 run" in result.stdout and "20250101-120000-xor" in result.stdout


def test_cli_show_and_diff(root):
    result = runner.invoke(app, ["runs", "show", str(root / "20250101-120500-compare-small")])
    assert result.exit_code == 0, result.output
    assert "grid model.hidden" in result.stdout and "summary.csv" in result.stdout
    a, b = (str(root / n) for n in ("20250101-120000-xor", "20250101-120100-xor-lr"))
    result = runner.invoke(app, ["runs", "diff", a, b])
    assert result.exit_code == 0, result.output
    assert "train.lr: 0.3 -> 0.5" in result.stdout


def test_cli_lists_a_kind_and_shows_a_run(root):
    result = runner.invoke(app, ["runs", str(root), "--kind", "compare"])
    assert result.exit_code == 0, result.output
    assert "compare-cut" in result.stdout and "sweep-small" not in result.stdout
    result = runner.invoke(app, ["runs", "show", str(root / "20250101-120000-xor")])
    assert result.exit_code == 0 and "2-4-4-1" in result.stdout


@pytest.mark.parametrize("args, message", [
    (["{root}", "--kind", "swep"], "error: unknown run kind 'swep'; did you mean 'sweep'?"),
    (["{root}/missing"], "error: {root}/missing: no such directory"),
    (["{root}/readme.txt"], "error: {root}/readme.txt: not a directory"),
    (["show", "{root}/notes"], "error: {root}/notes: not a relu-lab run directory"),
    (["show", "{root}/20250102-000000-broken"], "error: {root}/20250102-000000-broken/summary.json: cannot read"),
    (["diff", "{root}/20250101-120000-xor", "{root}/nope"], "error: {root}/nope: no such run directory"),
])
def test_cli_bad_input_is_one_line_and_exit_2(root, args, message):
    result = runner.invoke(app, ["runs", *(a.format(root=root) for a in args)])
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith(message.format(root=root))
    assert "Traceback" not in result.stderr


def test_a_short_row_gives_empty_labels_not_a_crash():
    from relu_lab.runfiles import short_value

    assert short_value(None) == "" and short_value("0.0010000") == "0.001" and short_value("relu") == "relu"
    assert short_value("  ") == "  "


def test_a_check_directory_is_listed_and_shown_with_its_verdicts(tmp_path):
    check_dir = tmp_path / "20250101-130000-check"
    check_dir.mkdir()
    claims = [{"name": "c1", "statement": "s1", "seeds": 8, "verdict": "holds", "measured": []},
              {"name": "c2", "statement": "s2", "seeds": 8, "verdict": "inconclusive", "measured": []}]
    (check_dir / "claims.json").write_text(json.dumps({"claims": claims, "all_hold": False}))
    (info,) = list_runs(tmp_path)
    assert (info.kind, info.status, info.members, info.headline) == ("check", "inconclusive", 2, "1 of 2 claims holds")
    assert list_runs(tmp_path, kind="check") == [info]
    text = render(show_run(check_dir))
    assert "c1: holds (8 seeds; s1)" in text and "c2: inconclusive" in text
