"""Choosing the engine: config key and --engine, the fall-back for a user's own activation, the
record in the run directory, the first-compile note, and no numba for commands that do not train."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import yaml
from typer.testing import CliRunner

from relu_lab import engines
from relu_lab.cli import app
from relu_lab.engines import compiled

ROOT = Path(__file__).resolve().parents[1]
XOR = ROOT / "configs" / "xor_relu.yaml"
runner = CliRunner()

CUSTOM = """\
name: mine
data: {name: xor}
model:
  layers: [2, 4, 1]
  hidden: swish
  custom_activations: {swish: {f: 'tests.custom_act:swish', df: 'tests.custom_act:dswish'}}
train: {epochs: 20}
"""


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def run_dir(out: Path) -> Path:
    (run,) = [p for p in out.iterdir() if p.is_dir()]
    return run


def test_auto_compiles_a_long_run_and_records_it(tmp_path):
    # 40,000 steps of 4 points x 3 layers: about 1.7 s for the NumPy engine, past the compiled one's start-up
    result = invoke("train", XOR, "--out", tmp_path, "--no-plots", "--set", "train.epochs=40000",
                    "--set", "model.layers=[2,8,8,1]")
    assert result.exit_code == 0, result.output
    run = run_dir(tmp_path)
    assert yaml.safe_load((run / "config.yaml").read_text())["engine"] == "compiled"
    summary = json.loads((run / "summary.json").read_text())
    assert summary["engine"] == "compiled" and summary["engine_note"] is None


def test_auto_takes_numpy_for_a_short_run_and_records_why_without_saying_it(tmp_path):
    result = invoke("train", XOR, "--out", tmp_path, "--no-plots", "--set", "train.epochs=50")
    assert result.exit_code == 0, result.output
    assert "NumPy engine" not in result.output  # a choice, not a fall-back: the run's files say it
    run = run_dir(tmp_path)
    assert yaml.safe_load((run / "config.yaml").read_text())["engine"] == "numpy"
    summary = json.loads((run / "summary.json").read_text())
    assert summary["engine"] == "numpy" and "short run" in summary["engine_note"]


def test_the_cost_model_counts_a_sweeps_whole_ensemble(tmp_path):
    """The same short config: alone it trains on NumPy; 4 learning rates x 64 seeds, one ensemble, compile;
    the member retrained alone (show --member) keeps the sweep's engine, so it reproduces bit for bit."""
    from relu_lab.experiment import AUTO_COMPILED_FROM, numpy_seconds, resolve
    from relu_lab.loading import load_config

    cfg, data = resolve(load_config(XOR, ["train.epochs=8000"]))
    assert cfg.engine == "numpy" and numpy_seconds(cfg, len(data.X), 1) < AUTO_COMPILED_FROM
    assert numpy_seconds(cfg, len(data.X), 256) > AUTO_COMPILED_FROM
    args = ["--set", "train.epochs=8000", "--out", tmp_path, "--no-plots", "--quiet"]
    assert invoke("sweep", XOR, "--lr", "0.1,0.2,0.3,0.5", "--seeds", "64", *args).exit_code == 0
    sweep = run_dir(tmp_path)
    assert json.loads((sweep / "summary.json").read_text())["engine"] == "compiled"
    shown = invoke("show", sweep, "--member", "5", "--no-plots", "--quiet")
    assert shown.exit_code == 0, shown.output
    (member,) = [p for p in (sweep / "members").iterdir() if p.is_dir()]
    assert json.loads((member / "summary.json").read_text())["engine"] == "compiled"


def test_engine_option_forces_numpy_and_reruns_match(tmp_path):
    for engine in ("numpy", "compiled"):
        result = invoke("train", XOR, "--out", tmp_path / engine, "--no-plots", "--engine", engine)
        assert result.exit_code == 0, result.output
        assert json.loads((run_dir(tmp_path / engine) / "summary.json").read_text())["engine"] == engine
    finals = [json.loads((run_dir(tmp_path / e) / "summary.json").read_text())["final"] for e in ("numpy", "compiled")]
    assert finals[0]["accuracy"] == finals[1]["accuracy"] == 1.0
    assert abs(finals[0]["cost"] - finals[1]["cost"]) < 1e-9


def test_bad_engine_name_is_one_line(tmp_path):
    result = invoke("train", XOR, "--out", tmp_path, "--engine", "cuda")
    assert result.exit_code == 2
    assert "engine" in result.output and "compiled" in result.output and "Traceback" not in result.output


def test_own_activation_falls_back_to_numpy_with_a_note(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)  # tests.custom_act is importable from here
    cfg = tmp_path / "mine.yaml"
    cfg.write_text(CUSTOM)
    result = invoke("train", cfg, "--out", tmp_path / "runs", "--no-plots")
    assert result.exit_code == 0, result.output
    assert "using the NumPy engine: activation 'swish' is your own Python function" in result.output
    summary = json.loads((run_dir(tmp_path / "runs") / "summary.json").read_text())
    assert summary["engine"] == "numpy" and "swish" in summary["engine_note"]


def test_own_activation_with_engine_compiled_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    cfg = tmp_path / "mine.yaml"
    cfg.write_text(CUSTOM + "engine: compiled\n")
    result = invoke("train", cfg, "--out", tmp_path / "runs")
    assert result.exit_code == 2
    assert "engine" in result.output and "cannot run this config" in result.output
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_sweep_records_its_engine(tmp_path):
    result = invoke("sweep", XOR, "--lr", "0.1,0.5", "--seeds", "2", "--set", "train.epochs=30", "--out", tmp_path,
                    "--no-plots", "--quiet", "--engine", "compiled")
    assert result.exit_code == 0, result.output
    run = run_dir(tmp_path)
    assert yaml.safe_load((run / "config.yaml").read_text())["engine"] == "compiled"
    assert json.loads((run / "summary.json").read_text())["engine"] == "compiled"


def test_first_compile_is_announced_once(tmp_path, monkeypatch):
    said = []
    monkeypatch.setattr(engines, "notify", said.append)
    monkeypatch.setattr(compiled, "cache_dir", lambda: tmp_path)

    Fresh = SimpleNamespace(__name__="block_epochs", signatures=[])  # a kernel not yet compiled in this process

    compiled._announce_compile(Fresh)
    assert len(said) == 1 and "compiling" in said[0] and str(tmp_path) in said[0]
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "compiled.block_epochs-150.py311.nbi").write_bytes(b"")
    compiled._announce_compile(Fresh)
    assert len(said) == 1  # cached on disk: nothing to say


def test_commands_that_do_not_train_do_not_import_numba(tmp_path):
    probe = ("import atexit, sys; atexit.register(lambda: print('numba loaded' if 'numba' in sys.modules "
             "else 'no numba')); from relu_lab.cli import app; sys.argv = ['relu-lab', *sys.argv[1:]]; app()")
    for args in (["--version"], ["validate", str(XOR)], ["schema"], ["plot", "activations", "--out",
                                                                       str(tmp_path / "a.png")]):
        out = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, cwd=ROOT,
                             env=dict(os.environ, MPLBACKEND="Agg"))
        assert out.returncode == 0, (args, out.stderr)
        assert out.stdout.strip().endswith("no numba"), (args, out.stdout[-300:])


def test_sweep_files_are_byte_identical_on_one_thread_and_two(tmp_path):
    """NUMBA_NUM_THREADS=1 against 2: the same members.csv, metrics.csv and summary.csv, byte for byte."""
    cmd = [sys.executable, "-c", "from relu_lab.cli import run; run()", "sweep", str(ROOT / "configs" /
           "seed004_interpolation.yaml"), "--set", "train.phases.1.epochs=20", "--seeds", "12", "--no-plots",
           "--quiet"]
    dirs = []
    for threads in ("1", "2"):
        out = tmp_path / threads
        done = subprocess.run([*cmd, "--out", str(out)], capture_output=True, text=True, cwd=ROOT,
                              env=dict(os.environ, NUMBA_NUM_THREADS=threads))
        assert done.returncode == 0, done.stderr
        dirs.append(run_dir(out))
    for name in ("members.csv", "metrics.csv", "summary.csv"):
        assert (dirs[0] / name).read_bytes() == (dirs[1] / name).read_bytes(), name


def test_runs_say_what_their_log_points_cost(tmp_path):
    """summary.json's log_seconds: the part of the training spent evaluating at the log points, on both
    engines, for a train run and a sweep (the kernels are loaded before the clock starts)."""
    for engine in engines.ENGINES:
        out = tmp_path / engine
        assert invoke("train", XOR, "--set", "train.epochs=200", "--set", "log_every=1", "--engine", engine,
                      "--out", out, "--no-plots", "--quiet").exit_code == 0
        summary = json.loads((run_dir(out) / "summary.json").read_text())
        assert 0 < summary["log_seconds"] <= summary["train_seconds"] <= summary["seconds"]
        assert invoke("sweep", XOR, "--lr", "0.1,0.5", "--seeds", "2", "--set", "train.epochs=30", "--out",
                      out / "sweep", "--no-plots", "--quiet", "--engine", engine).exit_code == 0
        summary = json.loads((run_dir(out / "sweep") / "summary.json").read_text())
        assert 0 < summary["log_seconds"] <= summary["seconds"]


def test_the_default_log_interval_spaces_costly_log_points():
    """Unset, log_every gives about 200 rows, but a log point (the whole training set forward and backward)
    is spaced LOG_SPACING times its own cost from the next: minibatches of 32 over 1024 points log every
    9 epochs, not every one; the 4 XOR points every 10 of 2000 epochs as before; a sweep is sparser."""
    from relu_lab.experiment import LOG_SPACING, default_log_every, resolve
    from relu_lab.loading import config_from_dict, load_config
    from relu_lab.plan import SWEEP_LOG_ROWS, SWEEP_LOG_SPACING

    minibatch = config_from_dict({"data": {"name": "circle", "n": 1024}, "model": {"layers": [2, 32, 32, 1]},
                                  "train": {"epochs": 200, "batch_size": 32}})
    cfg, data = resolve(minibatch)
    assert cfg.log_every == default_log_every(cfg, 1024) == 9 and LOG_SPACING == 9
    assert default_log_every(cfg, 1024, SWEEP_LOG_ROWS, SWEEP_LOG_SPACING) == 20
    assert resolve(load_config(XOR)).config.log_every == 10  # 2000 epochs / 200 rows
    assert resolve(config_from_dict({**minibatch.model_dump(mode="json"), "log_every": 1})).config.log_every == 1
