"""Issue 18, point 6.10: a damaged or edited file of a run directory, and a user's activation that returns
the wrong thing, are refused in one line naming the file and what was wrong (exit 2), not a traceback."""

from __future__ import annotations

import json
import signal
import textwrap
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from relu_lab.cli import app
from relu_lab.errors import UserError
from relu_lab.grid import run_sweep
from relu_lab.loading import load_config
from relu_lab.plan import Axis, plan_sweep
from relu_lab.run import load_network, train_run
from relu_lab.snapshots import load as load_snapshots
from relu_lab.snapshots import network_at

ROOT = Path(__file__).resolve().parents[1]
XOR = str(ROOT / "configs" / "xor_relu.yaml")


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def one_line(result, code: int = 2) -> str:
    """The output of a refused command: exit `code`, a single line, no traceback."""
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output and not isinstance(result.exception, (TypeError, IndexError,
                                                                                    ValueError, AttributeError))
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    return lines[0]


def press_ctrl_c_at(epoch: int):
    def on_log(row):
        if row.epoch == epoch:
            signal.raise_signal(signal.SIGINT)
    return on_log


@pytest.fixture(scope="module")
def finished_train(tmp_path_factory) -> Path:
    return train_run(load_config(XOR, ["train.epochs=60"]), tmp_path_factory.mktemp("train")).run_dir


@pytest.fixture
def train_dir(finished_train, tmp_path) -> Path:
    """A copy of a finished train run, to damage."""
    import shutil

    return Path(shutil.copytree(finished_train, tmp_path / "run"))


@pytest.fixture(scope="module")
def finished_sweep(tmp_path_factory) -> Path:
    plan = plan_sweep(load_config(XOR, ["train.epochs=40"]), [Axis("train.lr", [0.1, 1.0])], [0, 1], XOR)
    return run_sweep(plan, tmp_path_factory.mktemp("sweep")).run_dir


@pytest.fixture
def sweep_dir(finished_sweep, tmp_path) -> Path:
    import shutil

    return Path(shutil.copytree(finished_sweep, tmp_path / "sweep"))


@pytest.fixture
def cut_train(tmp_path) -> Path:
    report = train_run(load_config(XOR, ["train.epochs=600"]), tmp_path / "runs", on_log=press_ctrl_c_at(200))
    assert report.summary["status"] == "interrupted" and (report.run_dir / "checkpoint.npz").is_file()
    return report.run_dir


@pytest.fixture
def cut_sweep(tmp_path) -> Path:
    """2 x 2 members in chunks of 1 (budget 1), interrupted at epoch 100 of its second chunk."""
    plan = plan_sweep(load_config(XOR, ["train.epochs=300"]), [Axis("train.lr", [0.1, 1.0])], [0, 1], XOR)
    chunks = []

    def progress(n):
        chunks.append(n)
        if sum(chunks) >= 300 + 100:
            signal.raise_signal(signal.SIGINT)

    report = run_sweep(plan, tmp_path / "runs", on_progress=progress, budget=1)
    assert report.status == "interrupted" and list((report.run_dir / "checkpoints").glob("*.npz"))
    return report.run_dir


def widen(config: Path) -> None:
    """Edit a run's config.yaml after the fact: the 2-8-1 network becomes 2-16-1."""
    text = config.read_text()
    assert "layers: [2, 8, 1]" in text
    config.write_text(text.replace("layers: [2, 8, 1]", "layers: [2, 16, 1]"))


# --- 1. grid.json of the wrong shape -----------------------------------------------------------

GOOD = {"kind": "sweep", "axes": {"train.lr": [0.1, 1.0]}, "seeds": [0, 1], "members": 4, "groups": 1,
        "budget": 268435456}


@pytest.mark.parametrize("grid,words", [
    ([], "expected a mapping, got a list"),
    (3, "expected a mapping, got a number"),
    (None, "expected a mapping, got null"),
    ("sweep", "expected a mapping, got a string"),
    (GOOD | {"axes": [["train.lr", [0.1]]]}, "'axes' is a list"),
    (GOOD | {"axes": {"train.lr": 0.1}}, "axis 'train.lr' is a number"),
    (GOOD | {"axes": {"train.lr": []}}, "axis 'train.lr' is a list, expected a non-empty list"),
    (GOOD | {"seeds": 2}, "'seeds' is 2"),
    (GOOD | {"seeds": ["a", "b"]}, "'seeds' is [\"a\", \"b\"]"),
    (GOOD | {"seeds": [0, 0]}, "seed 0 is listed twice"),
    (GOOD | {"budget": "lots"}, "'budget' is \"lots\""),
    (GOOD | {"kind": 3}, "'kind' is 3"),
    ({k: v for k, v in GOOD.items() if k != "seeds"}, "no 'seeds'"),
    (GOOD | {"members": 8}, "says the sweep has 8 members, but its axes and seeds make 4"),
])
@pytest.mark.parametrize("command", ["sweep", "show"])
def test_a_grid_json_of_the_wrong_shape_is_one_line_naming_it(sweep_dir, grid, words, command):
    (sweep_dir / "grid.json").write_text(json.dumps(grid))
    args = ["sweep", "--resume", str(sweep_dir), "--no-plots", "-q"] if command == "sweep" else \
        ["show", str(sweep_dir), "--member", "0", "--no-plots", "-q"]
    line = one_line(invoke(*args))
    assert "grid.json" in line and words in line, line


# --- 2. a config edited after the interrupt ------------------------------------------------------

def test_train_resume_refuses_a_checkpoint_that_does_not_fit_the_edited_config(cut_train):
    widen(cut_train / "config.yaml")
    before = (cut_train / "metrics.csv").read_bytes()
    line = one_line(invoke("train", "--resume", str(cut_train), "--no-plots", "-q"))
    assert "checkpoint.npz" in line and "do not fit" in line and "2-16-1" in line and "edited" in line, line
    assert "33" in line and "65" in line  # the parameter counts: held, and what the config builds
    assert (cut_train / "metrics.csv").read_bytes() == before  # nothing cut back
    assert (cut_train / "checkpoint.npz").is_file()


def test_train_resume_refuses_a_config_whose_epochs_were_cut_below_the_checkpoint(cut_train):
    config = cut_train / "config.yaml"
    config.write_text(config.read_text().replace("epochs: 600", "epochs: 100"))
    line = one_line(invoke("train", "--resume", str(cut_train), "--no-plots", "-q"))
    assert "checkpoint.npz" in line and "epoch(s) left" in line and "edited" in line, line


def test_sweep_resume_refuses_a_checkpoint_that_does_not_fit_the_edited_config(cut_sweep):
    widen(cut_sweep / "config.yaml")
    line = one_line(invoke("sweep", "--resume", str(cut_sweep), "--no-plots", "-q"))
    assert "checkpoints/members-" in line and "do not fit" in line and "2-16-1" in line and "edited" in line, line


def test_sweep_resume_refuses_a_checkpoint_of_members_the_grid_no_longer_has(cut_sweep):
    grid = json.loads((cut_sweep / "grid.json").read_text())
    grid["axes"], grid["seeds"] = {"train.lr": [0.1]}, [0]  # the checkpoint is member 1's (the second chunk)
    grid.pop("members")
    (cut_sweep / "grid.json").write_text(json.dumps(grid))
    (cut_sweep / "members.csv").write_text((cut_sweep / "members.csv").read_text().splitlines(keepends=True)[0])
    line = one_line(invoke("sweep", "--resume", str(cut_sweep), "--no-plots", "-q"))
    assert "checkpoints/members-" in line and "but the sweep has members 0..0" in line, line


def test_an_unedited_interrupted_run_still_resumes(cut_train, cut_sweep):
    assert invoke("train", "--resume", str(cut_train), "--no-plots", "-q").exit_code == 0
    assert invoke("sweep", "--resume", str(cut_sweep), "--no-plots", "-q").exit_code == 0


# --- 3. params.npz and snapshots.npz against an edited config -------------------------------------

def test_load_network_refuses_params_that_do_not_fit_the_config(train_dir):
    widen(train_dir / "config.yaml")
    with pytest.raises(UserError, match=r"params.npz: does not fit .*config.yaml: it holds a 2-8-1 network, "
                                        r"but .* builds a 2-16-1 network"):
        load_network(train_dir)


def test_plot_at_an_epoch_after_the_config_was_edited_is_one_line(train_dir):
    widen(train_dir / "config.yaml")
    line = one_line(invoke("plot", str(train_dir), "--epoch", "0"))
    assert "params.npz" in line and "2-16-1" in line and "edited" in line, line


def test_a_snapshot_that_does_not_fit_the_config_is_refused(train_dir):
    epochs, phases, states = load_snapshots(train_dir / "snapshots.npz")
    widen(train_dir / "config.yaml")
    cfg = load_config(train_dir / "config.yaml")
    with pytest.raises(UserError, match=r"snapshots.npz: does not fit config.yaml: it holds a 2-8-1 network"):
        network_at(cfg, states[0], phases[0])
    with pytest.raises(UserError, match="phase 3, but the config has 1 phase"):
        network_at(load_config(XOR), states[0], 3)


# --- 4. a user's activation that returns a list ---------------------------------------------------

MODULE = '''import numpy as np

def relu_list(z):
    return [max(float(x), 0.0) for x in np.ravel(z)]

def relu(z):
    return np.maximum(z, 0.0)

def drelu(z):
    return (z > 0).astype(float)

def drelu_list(z):
    return np.ravel(drelu(z)).tolist()

def relu_flat(z):
    return np.maximum(z, 0.0).ravel()

def relu_complex(z):
    return np.maximum(z, 0) + 0j

def drelu_bool(z):
    return z > 0
'''


@pytest.mark.parametrize("f,df,words", [
    ("relu_list", "drelu", "f (listy_act:relu_list) returned shape (41,) (a list, not a NumPy array)"),
    ("relu", "drelu_list", "df (listy_act:drelu_list) returned shape (41,) (a list, not a NumPy array)"),
    ("relu_flat", "drelu", "returned shape (41,) for an input of shape (1, 41, 1)"),
    ("relu_complex", "drelu", "(complex128 values, not real numbers)"),
])
def test_a_custom_activation_that_returns_no_real_array_is_refused_at_load(tmp_path, f, df, words):
    (tmp_path / "listy_act.py").write_text(MODULE)
    config = tmp_path / "mine.yaml"
    config.write_text(textwrap.dedent(f"""\
        name: mine
        data: {{name: xor}}
        model:
          layers: [2, 4, 1]
          hidden: mine
          custom_activations: {{mine: {{f: "listy_act:{f}", df: "listy_act:{df}"}}}}
        train: {{epochs: 5}}
        """))
    line = one_line(invoke("train", str(config), "--out", str(tmp_path / "runs"), "--no-plots", "-q"))
    assert "mine.yaml:6: model.custom_activations.mine" in line and words in line, line
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_a_custom_activation_returning_float_arrays_still_trains(tmp_path):
    (tmp_path / "listy_act.py").write_text(MODULE)
    config = tmp_path / "mine.yaml"
    config.write_text('name: mine\ndata: {name: xor}\nmodel: {layers: [2, 4, 1], hidden: mine, custom_activations: '
                      '{mine: {f: "listy_act:relu", df: "listy_act:drelu"}}}\ntrain: {epochs: 5}\n')
    result = invoke("train", str(config), "--out", str(tmp_path / "runs"), "--no-plots", "-q")
    assert result.exit_code == 0, result.output


# --- 5. garbage in snapshots.npz, params.npz, members.csv ---------------------------------------

@pytest.mark.parametrize("content,words", [(b"", "the file is empty"), (b"garbage\n", "not a .npz archive")])
def test_a_garbage_snapshots_file_is_one_line_naming_it(train_dir, content, words):
    (train_dir / "snapshots.npz").write_bytes(content)
    with pytest.raises(UserError, match=f"snapshots.npz: not a readable snapshots file \\({words}"):
        load_snapshots(train_dir / "snapshots.npz")
    line = one_line(invoke("plot", str(train_dir), "--epoch", "0"))
    assert "snapshots.npz" in line and words in line, line


def test_a_snapshots_file_with_arrays_of_the_wrong_length_is_refused(train_dir):
    path = train_dir / "snapshots.npz"
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["W0"] = arrays["W0"][:1]
    np.savez(path, **arrays)
    with pytest.raises(UserError, match="snapshots.npz: a damaged snapshots file: array W0 has shape"):
        load_snapshots(path)


@pytest.mark.parametrize("content,words", [(b"", "the file is empty"), (b"garbage\n", "not a .npz archive")])
def test_a_garbage_params_file_is_one_line_naming_it(train_dir, content, words):
    (train_dir / "params.npz").write_bytes(content)
    with pytest.raises(UserError, match=f"params.npz: not a readable params file \\({words}"):
        load_network(train_dir)
    line = one_line(invoke("plot", str(train_dir), "--epoch", "0"))
    assert "params.npz" in line and words in line, line


def test_params_of_the_wrong_kind_are_refused(train_dir):
    np.savez(train_dir / "params.npz", W0=np.zeros((1, 2, 8), dtype=int), b0=np.zeros((1, 1, 8)),
             W1=np.zeros((1, 8, 1)), b1=np.zeros((1, 1, 1)))
    with pytest.raises(UserError, match="params.npz: W0 holds int64 values, expected floating-point"):
        load_network(train_dir)
    np.savez(train_dir / "params.npz", weights=np.zeros(3))
    with pytest.raises(UserError, match="params.npz: does not fit .* it holds weights, but"):
        load_network(train_dir)


@pytest.mark.parametrize("line,words", [
    ("1,garbage,,x\n", "4 values, expected"),
    ("x" + ",0" * 20 + "\n", "must be whole numbers"),
    ("9,0.1,0,completed" + ",0" * 17 + "\n", "member 9, but the sweep has members 0..3"),
    ("0,0.1,0,completed" + ",0" * 17 + "\n", "member 0 is listed twice"),
    ("3,0.1,0,nonsense" + ",0" * 17 + "\n", "status 'nonsense'"),
])
@pytest.mark.parametrize("command", ["sweep", "show"])
def test_a_garbage_line_in_members_csv_is_one_line_naming_it(sweep_dir, line, words, command):
    members = sweep_dir / "members.csv"
    rows = members.read_text().splitlines(keepends=True)
    assert len(rows[0].split(",")) == 21, rows[0]  # the lines above are written for this header
    members.write_text("".join(rows[:4] + [line]))  # members 0..2, then the line in place of member 3's
    args = ["sweep", "--resume", str(sweep_dir), "--no-plots", "-q"] if command == "sweep" else \
        ["show", str(sweep_dir), "--member", "0", "--no-plots", "-q"]
    out = one_line(invoke(*args))
    assert "members.csv: line " in out and words in out, out


def test_an_interrupted_run_is_loaded_with_the_activations_of_the_phase_it_stopped_in(tmp_path):
    """params.npz of a run interrupted in a ReLU phase, before a PReLU one, has no learned slopes: it is the
    network of the phase it stopped in (the checkpoint says which), not a misfit of the config's last phase."""
    from relu_lab.loading import config_from_dict

    cfg = config_from_dict({"name": "ph", "data": {"name": "xor"}, "model": {"layers": [2, 4, 1], "hidden": "relu"},
                            "train": {"lr": 0.5, "phases": [{"epochs": 100, "hidden": "relu"},
                                                            {"epochs": 100, "hidden": "prelu"}]},
                            "log_every": 10})
    report = train_run(cfg, tmp_path, on_log=press_ctrl_c_at(50))
    assert report.summary["status"] == "interrupted"
    _, _, net = load_network(report.run_dir)
    assert [a.name for a in net.hidden] == ["relu"] and not net.learned


def test_a_custom_derivative_that_returns_booleans_trains(tmp_path):
    (tmp_path / "listy_act.py").write_text(MODULE)
    config = tmp_path / "mine.yaml"
    config.write_text(textwrap.dedent("""\
        name: mine
        data: {name: xor}
        model:
          layers: [2, 4, 1]
          hidden: mine
          custom_activations: {mine: {f: "listy_act:relu", df: "listy_act:drelu_bool"}}
        train: {epochs: 5}
        """))
    result = CliRunner().invoke(app, ["train", str(config), "--no-plots", "-q", "--out", str(tmp_path / "runs")])
    assert result.exit_code == 0, result.output


def test_plot_of_a_run_whose_network_no_longer_fits_warns_in_one_line_and_draws_the_rest(train_dir):
    widen(train_dir / "config.yaml")
    result = invoke("plot", str(train_dir))
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.output.splitlines() if line.startswith("warning:")]
    assert warnings and "no decision boundary or fit" in warnings[0] and "params.npz" in warnings[0]
    assert "UserWarning" not in result.output and ".py:" not in result.output  # no file:line of Python's warnings
    assert (train_dir / "curves.png").is_file()
