"""`relu-lab train` through typer's CliRunner: the run directory, determinism and bad input."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from relu_lab.cli import app

ROOT = Path(__file__).resolve().parents[1]
XOR = ROOT / "configs" / "xor_relu.yaml"
runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, [str(a) for a in args])


def only_run(out: Path) -> Path:
    runs = sorted(p for p in out.iterdir() if p.is_dir())
    assert len(runs) == 1, runs
    return runs[0]


def test_train_xor_solves_and_writes_run_directory(tmp_path):
    result = invoke("train", XOR, "--out", tmp_path)
    assert result.exit_code == 0, result.output
    run = only_run(tmp_path)
    assert run.name.endswith("-xor_relu")
    assert {"config.yaml", "metrics.csv", "summary.json", "params.npz"} <= {p.name for p in run.iterdir()}
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "completed"
    assert summary["final"]["accuracy"] == 1.0
    assert summary["success"]["met"] is True
    assert set(summary["versions"]) == {"python", "numpy", "relu_lab"}
    rows = list(csv.DictReader((run / "metrics.csv").open()))
    assert rows[0]["epoch"] == "0" and rows[-1]["epoch"] == str(summary["epochs"])
    inside = ["dead_L1", "sparsity_L1", "identical_L1", "act_mean_L1", "act_std_L1", "saturated_L1", "grad_L1",
              "wnorm_L1", "grad_L2", "wnorm_L2"]
    assert ["epoch", "step", "lr", "cost", "accuracy", *inside] == list(rows[0])
    assert set(summary["diagnostics"]) == set(inside)
    assert rows[-1]["identical_L1"] == "0.0"  # He weights: eight different units
    assert str(run) in result.output.replace("\n", "")
    # not a terminal: plain lines, no control codes
    assert "\x1b[" not in result.output
    assert "epoch 0/" in result.output


def test_resolved_config_reproduces_the_run_bit_for_bit(tmp_path):
    assert invoke("train", XOR, "--out", tmp_path / "a", "--set", "train.epochs=300").exit_code == 0
    first = only_run(tmp_path / "a")
    config = yaml.safe_load((first / "config.yaml").read_text())
    assert config["model"]["output"] == "sigmoid" and config["loss"]["name"] == "bce"
    assert config["log_every"] == 10 and config["data"]["n"] == 4
    assert invoke("train", first / "config.yaml", "--out", tmp_path / "b").exit_code == 0
    second = only_run(tmp_path / "b")
    assert (first / "metrics.csv").read_bytes() == (second / "metrics.csv").read_bytes()


def test_same_config_and_seed_give_identical_metrics_and_another_seed_does_not(tmp_path):
    for out, seed in (("a", 3), ("b", 3), ("c", 4)):
        assert invoke("train", XOR, "--out", tmp_path / out, "--set", f"seed={seed}", "-q").exit_code == 0
    a, b, c = ((only_run(tmp_path / o) / "metrics.csv").read_bytes() for o in "abc")
    assert a == b
    assert a != c


def test_a_run_never_overwrites_another(tmp_path):
    for _ in range(3):
        assert invoke("train", XOR, "--out", tmp_path, "--set", "train.epochs=5", "-q").exit_code == 0
    assert len([p for p in tmp_path.iterdir() if p.is_dir()]) == 3


def test_quiet_prints_only_the_run_directory(tmp_path):
    result = invoke("train", XOR, "--out", tmp_path, "--set", "train.epochs=5", "--quiet")
    assert result.exit_code == 0
    assert result.output.strip() == str(only_run(tmp_path))


def test_divergence_is_reported_not_crashed(tmp_path):
    cfg = tmp_path / "div.yaml"
    cfg.write_text("data: {name: interpolation, n: 50}\nmodel: {layers: [1, 30, 1]}\n"
                   "train: {lr: 10.0, epochs: 200, batch_size: 1}\n")
    result = invoke("train", cfg, "--out", tmp_path / "runs")
    assert result.exit_code == 1, result.output
    assert "diverged" in result.output
    assert "Traceback" not in result.output
    summary = json.loads((only_run(tmp_path / "runs") / "summary.json").read_text())
    assert summary["status"] == "diverged"
    assert isinstance(summary["diverged_epoch"], int) and 1 <= summary["diverged_epoch"] < 200
    assert summary["epochs_done"] == summary["diverged_epoch"]


BAD = [
    # (file text, override, words the one-line error must contain)
    (None, None, ["no such config file"]),
    ("data:\n  name: xor\nmodel:\n  hiden: relu\n", None, ["bad.yaml:4", "model.hiden", "did you mean 'hidden'"]),
    ("model: [1, 2\n", None, ["bad.yaml:2", "invalid YAML"]),
    ("", None, ["empty"]),
    ("- 1\n- 2\n", None, ["expected a mapping"]),
    ("seed: 1\nseed: 2\n", None, ["bad.yaml:2", "duplicate key 'seed'"]),
    ("data: {name: xr}\n", None, ["data.name", "unknown dataset 'xr'", "did you mean 'xor'", "circle"]),
    ("model: {hidden: rleu}\n", None, ["model.hidden", "did you mean 'relu'", "leaky_relu"]),
    ("model: {output: sigmod}\n", None, ["model.output", "did you mean 'sigmoid'"]),
    ("loss: msee\n", None, ["loss.name", "did you mean 'mse'"]),
    ("model: {init: glorto}\n", None, ["model.init", "did you mean 'glorot'"]),
    ("train: {lr: -1}\n", None, ["bad.yaml:1", "train.lr", "greater than 0", "-1"]),
    ("train: {lr: 0}\n", None, ["train.lr", "greater than 0"]),
    ("train: {epochs: -1}\n", None, ["train.epochs", "greater than or equal to 0"]),  # 0: evaluate as initialised
    ("train: {lr: .nan}\n", None, ["train.lr", "finite"]),
    ("train: {lr: abc}\n", None, ["train.lr", "valid number", "'abc'"]),
    ("model: {layers: [3, 4, 1]}\n", None, ["model.layers", "3 units", "2 input feature"]),
    ("model: {layers: [2, 4, 3]}\n", None, ["model.layers", "end the list with 1"]),
    ("model: {layers: [2, -4, 1]}\n", None, ["model.layers", "-4"]),
    ("model: {layers: [2]}\n", None, ["model.layers", "at least 2"]),
    ("model: {output: softmax}\nloss: bce\n", None, ["model.output", "softmax", "bce", "sigmoid"]),
    ("data: {name: table4}\nmodel: {layers: [2, 4, 1]}\nloss: bce\n", None, ["loss.name", "regression"]),
    ("name: ../evil\n", None, ["name", "path separators"]),
    ("train: {lr: 0.1}\n", "train.lr=-3", ["--set", "train.lr", "greater than 0"]),
    ("train: {lr: 0.1}\n", "train.lrr=3", ["--set", "train.lrr", "did you mean 'lr'"]),
    ("train: {lr: 0.1}\n", "train.lr", ["--set", "key.path=value"]),
]


@pytest.mark.parametrize("text,override,words", BAD, ids=[f"bad{i}" for i in range(len(BAD))])
def test_bad_input_gives_one_clear_line_and_exit_2(tmp_path, text, override, words):
    path = tmp_path / "bad.yaml"
    if text is not None:
        path.write_text(text)
    args = ["train", path, "--out", tmp_path / "runs"] + (["--set", override] if override else [])
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert lines[0].startswith("error:")
    for word in words:
        assert word in lines[0], (word, lines[0])
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_every_command_has_help_with_an_example():
    for command in app.registered_commands:
        result = invoke(command.name or command.callback.__name__, "--help")
        assert result.exit_code == 0
        assert "Example:" in result.output
