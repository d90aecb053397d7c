"""Bad input, one explicit example each: exit code 2 and exactly one line "error: ..." naming what is wrong.

The contract: every bad input gives exactly one line starting with "error:" that names the file and key path (and
the YAML line where known), the allowed values or range, and a did-you-mean for misspelt names; exit code 2; never
a traceback (except with --debug).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from relu_lab.cli import app

runner = CliRunner()
RELU_LAB = [sys.executable, "-c", "from relu_lab.cli import run; run()"]
GOOD = "name: ok\nmodel: {layers: [2, 3, 1]}\ntrain: {epochs: 2}\n"


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def error_line(result) -> str:
    """The one line of a bad-input failure; fails on a traceback, another exit code or more lines."""
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"uncaught {type(result.exception).__name__}: {result.exception}\n{result.output}")
    assert "Traceback" not in result.output, result.output
    assert result.exit_code == 2, (result.exit_code, result.output)
    lines = [line for line in result.output.split("\n") if line.strip()]  # terminal lines: split at \n only
    assert len(lines) == 1, result.output
    assert lines[0].startswith("error:"), lines[0]
    return lines[0]


def assert_words(line: str, words: list[str]) -> None:
    for word in words:
        assert word in line, (word, line)


def no_runs(out: Path) -> None:
    assert not out.exists() or not any(out.iterdir()), f"bad input left {list(out.iterdir())}"


def train_bad(tmp_path: Path, text: str | bytes, *extra: str) -> str:
    path = tmp_path / "bad.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    result = invoke("train", path, "--out", tmp_path / "runs", "--no-plots", *extra)
    line = error_line(result)
    no_runs(tmp_path / "runs")
    return line


# --- values in the config file ------------------------------------------------------------------------------------

CONFIGS = {
    # infinite values
    "inf_lr": ("train: {lr: .inf}\n", ["bad.yaml:1", "train.lr", "finite", "inf"]),
    "inf_layer_size": ("model: {layers: [2, .inf, 1]}\n", ["bad.yaml:1", "model.layers.1", "finite", "inf"]),
    "minus_inf_weight_decay": ("train:\n  weight_decay: -.inf\n", ["bad.yaml:2", "train.weight_decay", "finite"]),
    "inf_success_bound": ("success: {metric: accuracy, at_least: .inf}\n", ["success.at_least", "finite"]),
    # layer sizes
    "negative_layer_size": ("model: {layers: [2, -3, 1]}\n", ["bad.yaml:1", "model.layers", "-3", "1 and 100000"]),
    "zero_layer_size": ("model: {layers: [2, 0, 1]}\n", ["bad.yaml:1", "model.layers", "size 0", "1 and 100000"]),
    "negative_input_size": ("model:\n  layers: [-2, 3, 1]\n", ["bad.yaml:2", "model.layers", "-2"]),
    "zero_layers": ("model:\n  layers: []\n", ["bad.yaml:2", "model.layers", "at least 2"]),
    # epochs beyond the limit
    "huge_epochs": ("train: {epochs: 1000000000}\n", ["bad.yaml:1", "train.epochs", "100000000", "1000000000"]),
    "huge_phase_epochs": ("train:\n  phases:\n    - {epochs: 1000000000}\n",
                          ["bad.yaml:3", "train.phases.0.epochs", "100000000"]),
    # a name with a newline in it must not split the error into two lines
    "newline_in_name": ('model: {hidden: "rel\\nu"}\n', ["bad.yaml:1", "model.hidden", "did you mean 'relu'"]),
    # a key holding '[' must not crash the error formatter
    "bracket_in_key": ("a[b]: 1\n", ["bad.yaml:1", "a[b]", "unknown key"]),
    # a YAML key that is a list (unhashable)
    "list_as_key": ("[a]: 1\n", ["bad.yaml:1", "key"]),
    # a wrong type for a union field: the key path is the field, not pydantic's union member
    "int_as_hidden": ("model: {hidden: 3}\n", ["bad.yaml:1", "model.hidden:", "got 3"]),
    # misspelt choices of a fixed set get a did-you-mean like the registries' names
    "misspelt_order": ("train: {order: shufle}\n", ["bad.yaml:1", "train.order", "'shufle'", "did you mean 'shuffle'"]),
    # nesting deeper than the parser's recursion limit
    "deep_nesting": ("model: {layers: " + "[" * 5000 + "]" * 5000 + "}\n", ["bad.yaml", "invalid YAML"]),
    # a custom activation whose module does not exist is bad input, found before training
    "custom_activation_missing_module": (
        "model:\n  custom_activations: {mine: {f: 'nomod:f', df: 'nomod:df'}}\n  hidden: mine\ntrain: {epochs: 1}\n",
        ["model.custom_activations.mine", "nomod:f"]),
}


@pytest.mark.parametrize("case", list(CONFIGS))
def test_bad_config_value(tmp_path, case):
    text, words = CONFIGS[case]
    line = train_bad(tmp_path, text)
    assert_words(line, words)
    if case == "int_as_hidden":
        assert "model.hidden.str" not in line, line


def test_network_too_big_for_memory_is_bad_input(tmp_path):
    """Each size is within the schema's 1..100000, but 2-100000-100000-1 needs 75 GiB of weights."""
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    overcommit = Path("/proc/sys/vm/overcommit_memory")
    if ram > 60 * 2**30 or (overcommit.exists() and overcommit.read_text().strip() == "1"):
        pytest.skip("this machine might really try to allocate the weights")
    line = train_bad(tmp_path, "model: {layers: [2, 100000, 100000, 1]}\ntrain: {epochs: 1}\n")
    assert_words(line, ["bad.yaml", "model.layers"])


def test_python_object_tag_is_invalid_yaml_and_never_runs(tmp_path):
    marker = tmp_path / "executed"
    line = train_bad(tmp_path, f'!!python/object/apply:os.system ["echo hi > {marker}"]\n')
    assert_words(line, ["bad.yaml:1", "invalid YAML", "python/object/apply:os.system"])
    assert not marker.exists()


def test_non_utf8_file(tmp_path):
    line = train_bad(tmp_path, b"name: caf\xe9\ndata: {name: xor}\n")
    assert_words(line, ["bad.yaml", "cannot read", "utf-8"])


def test_directory_as_config(tmp_path):
    folder = tmp_path / "configs"
    folder.mkdir()
    line = error_line(invoke("train", folder, "--out", tmp_path / "runs"))
    assert_words(line, [str(folder), "is a directory"])
    no_runs(tmp_path / "runs")


# --- CSV datasets -------------------------------------------------------------------------------------------------

CSVS = {
    "missing_value": ("a,b,y\n1,,0\n2,3,1\n3,4,0\n", ["line 2", "column 2", "missing value"]),
    "non_numeric_value": ("a,b,y\n1,2,0\n2,x,1\n3,4,0\n", ["line 3", "column 2", "non-numeric value 'x'"]),
    "ragged_row": ("a,b,y\n1,2,0\n2,3\n3,4,0\n", ["line 3", "2 values, expected 3"]),
    "empty_file": ("", ["empty"]),
    "single_column": ("y\n0\n1\n0\n", ["at least 2 columns", "has 1"]),
}


@pytest.mark.parametrize("case", list(CSVS))
def test_bad_csv_file(tmp_path, case):
    content, words = CSVS[case]
    data = tmp_path / f"{case}.csv"
    data.write_text(content)
    line = train_bad(tmp_path, f"data: {{name: csv, path: {data}}}\nmodel: {{layers: [2, 3, 1]}}\n")
    assert_words(line, [data.name, *words])


def test_missing_csv_file(tmp_path):
    line = train_bad(tmp_path, "data: {name: csv, path: nothere.csv}\nmodel: {layers: [2, 3, 1]}\n")
    assert_words(line, ["nothere.csv", "No such file", "data.path"])


def test_unknown_csv_target_column(tmp_path):
    data = tmp_path / "good.csv"
    data.write_text("a,b,target\n1,2,0\n2,3,1\n3,4,0\n")
    line = train_bad(tmp_path, f"data: {{name: csv, path: {data}, target: tagret}}\nmodel: {{layers: [2, 3, 1]}}\n")
    assert_words(line, ["data.target", "'tagret'", "a, b, target", "did you mean 'target'"])


# --- the output directory -----------------------------------------------------------------------------------------


def test_out_is_an_existing_file(tmp_path):
    config = tmp_path / "ok.yaml"
    config.write_text(GOOD)
    target = tmp_path / "afile"
    target.write_text("not a directory\n")
    line = error_line(invoke("train", config, "--out", target, "--no-plots"))
    assert_words(line, ["--out", str(target)])
    assert target.read_text() == "not a directory\n"


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write into a read-only directory")
def test_out_is_not_writable(tmp_path):
    config = tmp_path / "ok.yaml"
    config.write_text(GOOD)
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        line = error_line(invoke("train", config, "--out", locked, "--no-plots"))
    finally:
        locked.chmod(0o700)
    assert_words(line, ["--out", str(locked), "Permission denied"])
    assert not any(locked.iterdir())


# --- --set and the command line -----------------------------------------------------------------------------------


def test_set_unknown_key(tmp_path):
    line = train_bad(tmp_path, GOOD, "--set", "trian.lr=0.5")
    assert_words(line, ["bad.yaml", "--set", "trian", "did you mean 'train'"])


def test_set_list_index_past_the_end(tmp_path):
    line = train_bad(tmp_path, GOOD, "--set", "model.layers.9=3")
    assert_words(line, ["--set", "model.layers.9=3", "index 9", "past the end", "3"])


def test_unknown_subcommand_is_a_usage_error():
    result = invoke("trian", "configs/xor_relu.yaml")
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert "No such command" in result.output


def test_unknown_option_is_a_usage_error(tmp_path):
    config = tmp_path / "ok.yaml"
    config.write_text(GOOD)
    result = invoke("train", config, "--out", tmp_path / "runs", "--bogus")
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert "No such option" in result.output and "--bogus" in result.output
    no_runs(tmp_path / "runs")


# --- through the real entry point: the traceback appears only with --debug ----------------------------------------


def run_cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run([*RELU_LAB, *map(str, args)], capture_output=True, text=True, timeout=120)


def test_bad_config_without_debug_is_one_line_from_the_real_entry_point(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: {hiden: relu}\n")
    proc = run_cli("train", bad, "--out", tmp_path / "runs", "--no-plots")
    assert proc.returncode == 2, proc.stderr
    lines = [line for line in (proc.stdout + proc.stderr).split("\n") if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), lines
    assert_words(lines[0], ["bad.yaml:1", "model.hiden", "did you mean 'hidden'"])


def test_debug_on_a_bad_config_shows_the_traceback(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: {hiden: relu}\n")
    proc = run_cli("train", bad, "--out", tmp_path / "runs", "--no-plots", "--debug")
    assert proc.returncode != 0
    assert "Traceback (most recent call last)" in proc.stderr, proc.stderr
    assert "UserError" in proc.stderr and "did you mean 'hidden'" in proc.stderr
    no_runs(tmp_path / "runs")


@pytest.mark.parametrize("args,words", [
    (["plot", "runs", "--epoch", "abc"], "Invalid value for '--epoch'"),
    (["plot", "runs", "--animate", "units", "--frames", "x"], "Invalid value for '--frames'"),
    (["trian", "configs/xor_relu.yaml"], "Did you mean 'train'"),
    (["train", "configs/xor_relu.yaml", "--bogus"], "No such option: --bogus"),
    (["show"], "Missing argument"),
])
def test_a_usage_error_is_one_line_naming_where_the_allowed_forms_are(args, words):
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and words in lines[0], result.output
    assert "--help)" in lines[0] and "╭" not in result.output
