"""Issue 18, the input audit: the schema's bounds, run folders that hold a FIFO, a huge file or only
config.yaml, oversized configs, duplicate grid values, booleans given as whole numbers, and a full stdout."""

from __future__ import annotations

import builtins
import io
import json
import os
import re
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from relu_lab import loading, runs
from relu_lab.activations import HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS
from relu_lab.cli import app
from relu_lab.config import json_schema, parse_lr_spec, parse_seeds
from relu_lab.errors import UserError
from relu_lab.loading import config_from_dict, load_config
from relu_lab.plan import parse_param

runner = CliRunner()
RELU_LAB = [sys.executable, "-c", "from relu_lab.cli import run; run()"]
GOOD = "name: ok\nmodel: {layers: [2, 3, 1]}\ntrain: {epochs: 2}\n"


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def error_line(result, code: int = 2) -> str:
    """The one line of a failure: no traceback, exit `code`, exactly one line."""
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"uncaught {type(result.exception).__name__}: {result.exception}\n{result.output}")
    assert "Traceback" not in result.output, result.output
    assert result.exit_code == code, (result.exit_code, result.output)
    lines = [line for line in result.output.split("\n") if line.strip()]
    assert len(lines) == 1, result.output
    assert lines[0].startswith("error:"), lines[0]
    return lines[0]


@pytest.fixture
def good(tmp_path) -> Path:
    path = tmp_path / "good.yaml"
    path.write_text(GOOD, encoding="utf-8")
    return path


# --- 1. the JSON Schema bounds the sizes and lists the activation names ----------------------


def schema_errors(doc) -> list[str]:
    import jsonschema

    return [e.message for e in jsonschema.Draft202012Validator(json_schema()).iter_errors(doc)]


@pytest.mark.parametrize("layers", [[2, -3, 1], [2, 0, 1], [2, 100_001, 1], [2, True, 1], [2, 2.5, 1]])
def test_the_schema_refuses_sizes_that_validation_refuses(layers):
    assert schema_errors({"model": {"layers": layers}}) != []
    with pytest.raises(UserError):
        config_from_dict({"model": {"layers": layers}})


@pytest.mark.parametrize("layers", [[2, 1, 1], [2, 100_000, 1]])
def test_the_schema_accepts_the_sizes_at_the_bounds(layers):
    assert schema_errors({"model": {"layers": layers}}) == []
    config_from_dict({"model": {"layers": layers}, "train": {"epochs": 1}})


def test_the_schema_lists_the_activation_names_and_says_where_custom_ones_are_declared():
    model = json_schema()["$defs"]["ModelConfig"]["properties"]
    text = json.dumps(model["hidden"])
    for name in HIDDEN_ACTIVATIONS:
        assert f'"{name}"' in text
    assert "model.custom_activations" in model["hidden"]["description"]
    assert "model.custom_activations" in model["output"]["description"]
    assert all(f'"{name}"' in json.dumps(model["output"]) for name in OUTPUT_ACTIVATIONS)
    # a declared custom name stays allowed by the schema
    assert schema_errors({"model": {"hidden": "mine", "custom_activations": {"mine": {"f": "m:f", "df": "m:df"}}}}) \
        == []


def test_the_cli_schema_has_the_bounds():
    result = invoke("schema")
    assert result.exit_code == 0
    items = json.loads(result.output)["$defs"]["ModelConfig"]["properties"]["layers"]["items"]
    assert (items["type"], items["minimum"], items["maximum"]) == ("integer", 1, 100_000)


# --- 2. a run folder with only config.yaml says what it is -----------------------------------


def test_a_folder_with_only_config_yaml_is_a_run_killed_before_its_first_log(tmp_path, good):
    killed = tmp_path / "runs" / "20261204-100000-ok"
    killed.mkdir(parents=True)
    (killed / "config.yaml").write_text(GOOD, encoding="utf-8")
    [info] = runs.list_runs(tmp_path / "runs")
    assert info.kind == "unreadable"
    assert info.error == "started, no results (killed before its first log?)"
    result = invoke("runs", tmp_path / "runs")
    assert result.exit_code == 0
    assert "killed before its first log?" in result.output.replace("\n", " ").replace("  ", " ")
    with pytest.raises(UserError, match=r"started, no results \(killed before its first log\?\)"):
        runs.read_run(killed)


# --- 3. a FIFO or a huge file in a run folder is never opened --------------------------------


@pytest.fixture
def opened(monkeypatch) -> list[str]:
    """Every path opened through open()/Path.read_text from here on; opening a FIFO or a file larger
    than a run's files may be fails at once (instead of blocking forever or filling the memory)."""
    paths: list[str] = []
    real_open = builtins.open

    def spying_open(file, *args, **kwargs):
        paths.append(str(file))
        path = Path(file) if isinstance(file, (str, os.PathLike)) else None
        if path is not None and (path.is_fifo() or (path.is_file() and path.stat().st_size > runs.MAX_RUN_FILE_BYTES)):
            raise OSError(f"the test refuses to open {file}")
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", spying_open)
    monkeypatch.setattr(io, "open", spying_open)
    return paths


def _train_like(folder: Path) -> None:
    folder.mkdir(parents=True)
    (folder / "config.yaml").write_text(GOOD, encoding="utf-8")
    (folder / "metrics.csv").write_text("epoch,cost\n0,1\n", encoding="utf-8")


@pytest.mark.parametrize("name", ["summary.json", "grid.json", "claims.json", "config.yaml"])
def test_a_fifo_in_a_run_folder_is_listed_as_unreadable_without_opening_it(tmp_path, opened, name):
    folder = tmp_path / "runs" / "20261204-100000-x"
    _train_like(folder)
    (folder / name).unlink(missing_ok=True)
    os.mkfifo(folder / name)
    opened.clear()  # what the setup wrote
    [info] = runs.list_runs(tmp_path / "runs")
    assert str(folder / name) not in opened
    assert info.kind == "unreadable"
    assert f"{folder / name}: not a regular file" in info.error
    with pytest.raises(UserError, match="not a regular file"):
        runs.show_run(folder)
    assert str(folder / name) not in opened


def test_a_fifo_summary_in_the_listed_folder_itself_is_not_opened(tmp_path, opened):
    root = tmp_path / "runs"
    _train_like(root / "20261204-100000-x")
    os.mkfifo(root / "summary.json")
    opened.clear()
    assert [i.path.name for i in runs.list_runs(root)] == ["20261204-100000-x"]
    assert str(root / "summary.json") not in opened


def test_a_huge_summary_json_is_refused_by_its_size_unread(tmp_path, opened, monkeypatch):
    folder = tmp_path / "runs" / "20261204-100000-huge"
    _train_like(folder)
    with open(folder / "summary.json", "wb") as fh:  # sparse: 1 GiB on paper, nothing on disk
        fh.truncate(2**30)
    opened.clear()
    [info] = runs.list_runs(tmp_path / "runs")
    assert str(folder / "summary.json") not in opened
    assert info.kind == "unreadable"
    assert f"{folder / 'summary.json'}: 1 GiB" in info.error and "at most 16 MiB" in info.error


def test_a_run_file_just_within_the_limit_is_read(tmp_path):
    folder = tmp_path / "runs" / "20261204-100000-x"
    _train_like(folder)
    text = json.dumps({"kind": "train", "status": "completed", "final": {"cost": 0.5, "accuracy": 1.0}})
    (folder / "summary.json").write_text(text.ljust(runs.MAX_RUN_FILE_BYTES), encoding="utf-8")
    [info] = runs.list_runs(tmp_path / "runs")
    assert (info.kind, info.status, info.cost) == ("train", "completed", 0.5)


# --- 4. a config's size is checked before it is parsed ----------------------------------------


def test_a_config_larger_than_the_limit_is_refused_before_parsing(tmp_path, monkeypatch):
    path = tmp_path / "big.yaml"
    path.write_text(GOOD + "# padding\n" * (loading.MAX_CONFIG_BYTES // 10), encoding="utf-8")
    assert path.stat().st_size > loading.MAX_CONFIG_BYTES

    def no_parsing(*args, **kwargs):
        raise AssertionError("the YAML was parsed")

    monkeypatch.setattr(loading, "parse_yaml", no_parsing)
    monkeypatch.setattr(loading.yaml, "compose", no_parsing)
    with pytest.raises(UserError) as err:
        load_config(path)
    message = str(err.value)
    size = path.stat().st_size
    assert message.startswith(f"{path}: ") and f"{size / 2**20:.1f} MiB" in message and "1 MiB" in message


def test_a_config_just_within_the_limit_is_read(tmp_path):
    path = tmp_path / "padded.yaml"
    padding = "# padding\n" * ((loading.MAX_CONFIG_BYTES - len(GOOD)) // 10)
    path.write_text(GOOD + padding, encoding="utf-8")
    assert path.stat().st_size <= loading.MAX_CONFIG_BYTES
    assert load_config(path).name == "ok"


def test_the_cli_refuses_a_big_config_in_one_line(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text(GOOD + "# padding\n" * (loading.MAX_CONFIG_BYTES // 10), encoding="utf-8")
    line = error_line(invoke("validate", path))
    assert str(path) in line and "MiB" in line


def _limit_memory():
    resource.setrlimit(resource.RLIMIT_AS, (2 * 2**30, 2 * 2**30))


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_an_endless_config_stream_is_cut_at_the_limit():
    """/dev/zero has no size to check first: the read stops past the limit (the memory cap makes the
    old whole-file read fail fast instead of filling the machine)."""
    done = subprocess.run([*RELU_LAB, "validate", "/dev/zero"], capture_output=True, text=True,
                          preexec_fn=_limit_memory)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: /dev/zero: ") and "1 MiB" in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_a_yaml_bomb_is_still_refused_quickly(tmp_path):
    lines = ["name: b", "sweep:", "  params:", "    model.init_scale: &a [1, 2, 3, 4, 5, 6, 7, 8, 9]"]
    prev = "a"
    for n in "bcdefghi":
        lines.append(f"    model.x{n}: &{n} [" + ", ".join([f"*{prev}"] * 9) + "]")
        prev = n
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    line = error_line(invoke("validate", path))
    assert "members" in line or "listed twice" in line


# --- 5. duplicate values in --lr and --param are refused, naming them ------------------------


@pytest.mark.parametrize("spec,dup", [("0.1,0.1", "0.1"), ("0.01,0.1,1e-1", "0.1"), ([0.5, 0.5], "0.5")])
def test_a_learning_rate_listed_twice_is_refused(spec, dup):
    with pytest.raises(ValueError, match=rf"learning rate {dup} is listed twice"):
        parse_lr_spec(spec)


def test_a_seed_listed_twice_is_named():
    with pytest.raises(ValueError, match="seed 5 is listed twice"):
        parse_seeds("3,5,7,5")


@pytest.mark.parametrize("item,dup", [
    ("model.init_scale=1,2,1", "1"),
    ("model.init_scale=1,1.0", "1.0"),
    ("model.hidden=relu,tanh,relu", "relu"),
    ("model.layers=[2,5,1],[2,6,1],[2,5,1]", "[2, 5, 1]"),
])
def test_a_param_value_listed_twice_is_refused(item, dup):
    with pytest.raises(UserError, match=rf"--param .*value {re.escape(dup)} is listed twice"):
        parse_param(item)


def test_distinct_param_values_are_kept():
    assert parse_param("model.init_scale=1,2").values == [1, 2]
    assert parse_param("model.hidden=relu,tanh").values == ["relu", "tanh"]
    assert parse_param("data.normalize=true,false").values == [True, False]  # not 1 and 0


@pytest.mark.parametrize("args,words", [
    (["--lr", "0.1,0.1"], ["--lr", "learning rate 0.1 is listed twice"]),
    (["--param", "model.init_scale=0.5,0.5"], ["--param", "model.init_scale", "0.5 is listed twice"]),
    (["--seeds", "1,2,1"], ["--seeds", "seed 1 is listed twice"]),
])
def test_the_cli_refuses_duplicate_grid_values(good, tmp_path, args, words):
    line = error_line(invoke("sweep", good, *args, "--out", tmp_path / "out", "--no-plots", "-q"))
    for word in words:
        assert word in line, (word, line)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    line = error_line(invoke("validate", good, *args))
    assert words[-1] in line


def test_a_config_sweep_block_with_duplicates_is_refused(tmp_path):
    path = tmp_path / "dup.yaml"
    path.write_text(GOOD + "sweep: {lr: [0.1, 0.1], params: {model.init_scale: [1, 1]}}\n", encoding="utf-8")
    line = error_line(invoke("validate", path))
    assert "sweep.lr" in line and "0.1 is listed twice" in line
    path.write_text(GOOD + "sweep: {params: {model.init_scale: [1, 2, 2]}}\n", encoding="utf-8")
    line = error_line(invoke("validate", path))
    assert "sweep.params" in line and "model.init_scale" in line and "2 is listed twice" in line
    path.write_text(GOOD + "sweep: {activations: [relu, tanh, relu]}\n", encoding="utf-8")
    line = error_line(invoke("validate", path))
    assert "sweep.activations" in line and "activation relu is listed twice" in line


# --- 6. booleans are not whole numbers --------------------------------------------------------


@pytest.mark.parametrize("text,where", [
    ("model: {layers: [2, true, 1]}", "model.layers.1"),
    ("train: {epochs: true}", "train.epochs"),
    ("seed: false", "seed"),
    ("data: {name: xor, n: true}", "data.n"),
    ("train: {batch_size: true}", "train.batch_size"),
    ("log_every: true", "log_every"),
    ("train: {phases: [{epochs: true}]}", "train.phases.0.epochs"),
    ("sweep: {seeds: true}", "sweep.seeds"),
    ("sweep: {seeds: [0, true]}", "sweep.seeds.1"),
    ("train: {lr: true}", "train.lr"),
    ("model: {activation_params: {leaky_relu: {slope: true}}}", "model.activation_params.leaky_relu.slope"),
])
def test_a_boolean_where_a_whole_number_is_expected_is_refused(tmp_path, text, where):
    path = tmp_path / "bool.yaml"
    path.write_text(f"name: ok\n{text}\n", encoding="utf-8")
    line = error_line(invoke("validate", path))
    assert f": {where}: " in line and "boolean" in line, line
    number = "a number" if where in ("train.lr", "model.activation_params.leaky_relu.slope") else "a whole number"
    assert f"expected {number}, not a boolean" in line, line


def test_a_boolean_size_given_with_set_is_refused(good):
    line = error_line(invoke("validate", good, "--set", "model.layers=[2,true,1]"))
    assert "model.layers.1: expected a whole number, not a boolean" in line and "(with --set)" in line


def test_a_boolean_size_in_a_param_grid_is_refused(good):
    line = error_line(invoke("validate", good, "--param", "model.layers=[2,3,1],[2,true,1]"))
    assert "model.layers" in line and "boolean" in line


def test_whole_numbers_stay_accepted(good):
    cfg = load_config(good, ["model.layers=[2,4,1]", "train.epochs=3", "seed=1"])
    assert (cfg.model.layers, cfg.train.epochs, cfg.seed) == ([2, 4, 1], 3, 1)
    assert all(type(v) is int for v in cfg.model.layers)


# --- 7. a stdout that cannot be written to ----------------------------------------------------


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize("what", ["schema", "validate"])
def test_a_full_stdout_is_said_in_one_line(good, what):
    args = ["schema"] if what == "schema" else ["validate", str(good)]
    with open("/dev/full", "w") as full:
        done = subprocess.run([*RELU_LAB, *args], stdout=full, stderr=subprocess.PIPE, text=True)
    assert done.returncode == 1, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    thing = "the schema" if what == "schema" else "the resolved config"
    assert lines[0].startswith("failed: ") and f"could not write {thing} to stdout" in lines[0], lines[0]
    assert "No space left on device" in lines[0] and "run directory" not in lines[0]


@pytest.mark.parametrize("what", ["schema", "validate"])
def test_a_reader_that_goes_away_is_no_error(good, what):
    args = ["schema"] if what == "schema" else ["validate", str(good)]
    read, write = os.pipe()
    os.close(read)  # the reader has gone before anything was written (before the process even starts)
    try:
        proc = subprocess.Popen([*RELU_LAB, *args], stdout=write, stderr=subprocess.PIPE)
    finally:
        os.close(write)
    err = proc.stderr.read().decode()
    assert proc.wait() == 0, err
    assert err == ""


def test_the_schema_takes_the_optimizer_arguments_the_tool_takes_and_no_others():
    """For every rule and every argument name of the registry, the schema and validation agree."""
    from relu_lab.optimizers import ARGUMENTS, OPTIMIZERS

    for name, rule in OPTIMIZERS.items():
        for key, arg in ARGUMENTS.items():
            doc = {"train": {"optimizer": {"name": name, key: (arg.low + arg.high) / 2}}}
            try:
                config_from_dict(doc)
                takes = True
            except UserError:
                takes = False
            assert takes == (key in rule.params), (name, key)
            assert (schema_errors(doc) == []) == takes, (name, key, schema_errors(doc))
    assert schema_errors({"train": {"optimizer": {"beta1": 0.5}}}) != []  # no name: sgd, which takes none
