"""--name on train, sweep, compare and check: a run is listed under the name it is given; a check directory is
named after its claims."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from relu_lab.cli import app
from relu_lab.runs import list_runs

XOR = str(Path(__file__).resolve().parents[1] / "configs" / "xor_relu.yaml")
SHORT = ["--set", "train.epochs=20", "--quiet", "--no-plots"]


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


@pytest.mark.parametrize("command,extra,prefix", [("train", [], ""), ("sweep", ["--lr", "0.1,0.3", "--seeds", "2"],
                                                   "sweep-"),
                                                  ("compare", ["--activations", "relu,tanh", "--seeds", "2"],
                                                   "compare-")])
def test_name_names_the_directory_the_config_and_the_listing(tmp_path, command, extra, prefix):
    result = invoke(command, XOR, *extra, *SHORT, "--set", "model.hidden=tanh", "--name", "tanh_try.2",
                    "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    (run,) = tmp_path.iterdir()
    assert run.name.endswith(f"-{prefix}tanh_try.2")
    assert yaml.safe_load((run / "config.yaml").read_text())["name"] == "tanh_try.2"
    (info,) = list_runs(tmp_path)
    assert info.name == "tanh_try.2"


@pytest.mark.parametrize("name", ["my run", "../up", ".hidden", "a/b", "", "x" * 101])
def test_a_name_that_cannot_name_a_directory_is_refused(tmp_path, name):
    result = invoke("train", XOR, *SHORT, "--name", name, "--out", str(tmp_path))
    assert result.exit_code == 2 and "--name" in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not tmp_path.exists() or not any(tmp_path.iterdir())


def test_a_resumed_run_keeps_its_name(tmp_path):
    result = invoke("train", "--resume", str(tmp_path), "--name", "other")
    assert result.exit_code == 2 and "give only the run directory" in result.output
    result = invoke("sweep", "--resume", str(tmp_path), "--name", "other")
    assert result.exit_code == 2 and "give only the run directory" in result.output


def _claim(folder: Path, name: str) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump({
        "name": name, "data": {"name": "xor"}, "model": {"layers": [2, 8, 1]}, "train": {"epochs": 30},
        "claim": {"statement": "s", "source": "t", "settings": {"a": {}},
                  "expect": [{"setting": "a", "figure": "cost", "at_most": 10}]}}))
    return path


def test_a_check_directory_is_named_after_its_claims_or_given_name(tmp_path):
    one, two = _claim(tmp_path, "first"), _claim(tmp_path, "second")
    for args, suffix in (([one], "-check-first"), ([one, two], "-check-first+1-more"),
                         ([one, "--name", "mine"], "-check-mine")):
        out = tmp_path / suffix.strip("-")
        result = invoke("check", *map(str, args), "--seeds", "2", "--out", str(out), "--quiet")
        assert result.exit_code == 0, result.output
        check_dir = next(p for p in out.iterdir() if (p / "claims.json").exists())
        assert check_dir.name.endswith(suffix)
        info = next(i for i in list_runs(out) if i.kind == "check")
        assert info.name == suffix.removeprefix("-check-")
        assert info.headline == ("1 of 1 claim holds" if len(args) == 1 or "--name" in args else "2 of 2 claims hold")


def test_in_a_narrow_terminal_runs_and_their_tables_keep_names_and_grid_values_whole(tmp_path):
    """At 60 columns the runs table becomes lines (the run's name whole), and so does runs show's
    summary.csv (its learning rates whole); a wide terminal and a pipe get the tables."""
    import io

    from rich.console import Console

    from relu_lab.runs import runs_table, show_run

    result = invoke("sweep", XOR, "--lr", "0.0003,0.003", "--seeds", "2", *SHORT, "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    (run,) = tmp_path.iterdir()

    def render(renderable, width):
        out = io.StringIO()
        Console(file=out, width=width, force_terminal=True, color_system=None).print(renderable)
        return out.getvalue()

    narrow = render(runs_table(list_runs(tmp_path)), 60)
    assert run.name in narrow and "…" not in narrow
    assert "sweep, completed, 4 members" in narrow and "members" not in narrow.split("sweep,")[0]
    shown = render(show_run(run), 60)
    assert "lr 0.0003, success" in shown and "lr 0.003, success" in shown and "0.0…" not in shown
    wide = render(runs_table(list_runs(tmp_path)), 200)
    assert wide.split()[:2] == ["date", "name"] and run.name in wide  # the table, headers first
