"""The CLI commands beyond train: plot, validate, schema, --no-plots."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from typer.testing import CliRunner

from relu_lab.cli import app

ROOT = Path(__file__).resolve().parents[1]
XOR = ROOT / "configs" / "xor_relu.yaml"
runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def is_png(path: Path) -> bool:
    return path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000


def test_train_draws_plots_and_no_plots_skips_them(tmp_path):
    assert invoke("train", XOR, "--out", tmp_path / "a", "--set", "train.epochs=50", "-q").exit_code == 0
    run = next((tmp_path / "a").iterdir())
    assert is_png(run / "curves.png") and is_png(run / "decision_boundary.png") and is_png(run / "diagnostics.png")
    assert invoke("train", XOR, "--out", tmp_path / "b", "--set", "train.epochs=50", "-q",
                  "--no-plots").exit_code == 0
    bare = next((tmp_path / "b").iterdir())
    assert not list(bare.glob("*.png"))
    # drawn later from the saved files, without retraining
    result = invoke("plot", bare)
    assert result.exit_code == 0, result.output
    assert is_png(bare / "curves.png") and is_png(bare / "decision_boundary.png")
    assert (bare / "metrics.csv").read_bytes() == (run / "metrics.csv").read_bytes()


def test_sweep_writes_a_report_with_its_plots(tmp_path):
    result = invoke("sweep", XOR, "--lr", "0.1,1", "--seeds", "3", "--set", "train.epochs=40", "--out", tmp_path,
                    "-q")
    assert result.exit_code == 0, result.output
    run = Path(result.output.strip())
    report = (run / "report.md").read_text()
    assert "](sweep.png)" in report and "| " in report
    assert is_png(run / "sweep.png")


def test_plot_activations_never_overwrites(tmp_path):
    target = tmp_path / "act.png"
    for expected in ("act.png", "act-2.png"):
        result = invoke("plot", "activations", "relu", "softplus", "--out", target)
        assert result.exit_code == 0, result.output
        assert result.output.strip().endswith(expected)
    assert is_png(tmp_path / "act.png") and is_png(tmp_path / "act-2.png")
    bad = invoke("plot", "activations", "rleu", "--out", target)
    assert bad.exit_code == 2 and "did you mean 'relu'" in bad.output


def test_plot_of_a_directory_that_is_no_run(tmp_path):
    result = invoke("plot", tmp_path)
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and result.output.startswith("error:")


def test_validate_prints_the_resolved_config_and_the_grid(tmp_path):
    result = invoke("validate", XOR, "--set", "train.lr=0.25", "--seeds", "4")
    assert result.exit_code == 0, result.output
    text = result.output
    resolved = yaml.safe_load("\n".join(line for line in text.splitlines() if not line.startswith("#")))
    assert resolved["train"]["lr"] == 0.25 and resolved["model"]["output"] == "sigmoid"
    assert "# sweep grid: train.lr x 9, 4 seeds -> 36 members in 1 group(s)" in text
    assert not (tmp_path / "runs").exists()
    bad = invoke("validate", XOR, "--set", "model.layers=[3, 4, 1]")
    assert bad.exit_code == 2 and "model.layers" in bad.output


def test_schema_is_json_schema_of_the_config():
    result = invoke("schema")
    assert result.exit_code == 0
    schema = json.loads(result.output)
    assert {"data", "model", "loss", "train", "success", "sweep"} <= set(schema["properties"])
    assert schema["additionalProperties"] is False
