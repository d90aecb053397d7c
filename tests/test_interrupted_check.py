"""Ctrl-C during `check` and `show`: what was done is kept and said, nothing unfinished is judged or compared.

Every interrupt here is pressed at a point the test chooses (a real SIGINT from inside a progress or
log callback, or a KeyboardInterrupt where a folder is being made), never after a delay.
"""

from __future__ import annotations

import csv
import json
import signal
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

import relu_lab
from relu_lab import claims, grid, member
from relu_lab.cli import app
from relu_lab.runs import UNREADABLE, list_runs, read_run


def claim_config(tmp_path: Path, name: str, settings: dict) -> Path:
    """A quick XOR claim: each setting's success rate at least 0.2 (ReLU and tanh both get there)."""
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump({
        "name": name, "data": {"name": "xor"}, "model": {"layers": [2, 8, 1], "hidden": "relu", "init": "he"},
        "train": {"lr": 0.5, "epochs": 200}, "log_every": 10, "success": {"metric": "accuracy", "at_least": 1.0},
        "claim": {"statement": f"{name} trains XOR", "source": "test", "settings": settings,
                  "expect": [{"setting": s, "figure": "success_rate", "at_least": 0.2} for s in settings]}}))
    return path


@pytest.fixture
def two_claims(tmp_path):
    """claim_a (one setting) and claim_b (settings relu, then tanh)."""
    return [claim_config(tmp_path, "claim_a", {"relu": {}}),
            claim_config(tmp_path, "claim_b", {"relu": {}, "tanh": {"model.hidden": "tanh"}})]


def press_ctrl_c_in_sweep(monkeypatch, which: str) -> list[str]:
    """Ctrl-C (a real SIGINT) at the first progress report of the sweep of setting `which`
    ('claim_b-tanh'), inside its only chunk; returns the settings' names as their sweeps start."""
    real, started = claims.run_sweep, []

    def run_sweep(plan, out, on_progress=None, **kw):
        started.append(plan.base.name)
        pressed = []

        def progress(k):
            if on_progress is not None:
                on_progress(k)
            if plan.base.name == which and not pressed:
                pressed.append(k)
                signal.raise_signal(signal.SIGINT)

        return real(plan, out, on_progress=progress, **kw)

    monkeypatch.setattr(claims, "run_sweep", run_sweep)
    return started


def check_dir_of(out: Path) -> Path:
    (check_dir,) = out.iterdir()
    return check_dir


def strict(path: Path) -> dict:
    return json.loads(path.read_text(), parse_constant=lambda c: pytest.fail(f"{path}: {c}"))


def test_a_check_interrupted_in_its_second_claim_says_so_and_judges_only_the_first(two_claims, tmp_path,
                                                                                   monkeypatch):
    started = press_ctrl_c_in_sweep(monkeypatch, "claim_b-tanh")
    out = tmp_path / "runs"
    result = CliRunner().invoke(app, ["check", *map(str, two_claims), "--seeds", "4", "--out", str(out)])
    assert result.exit_code == 130, result.output
    assert started == ["claim_a-relu", "claim_b-relu", "claim_b-tanh"]
    check_dir = check_dir_of(out)
    report = strict(check_dir / "claims.json")
    assert report.get("status") == "interrupted" and report["all_hold"] is False
    assert [c["name"] for c in report["claims"]] == ["claim_a"] and report["claims"][0]["verdict"] == "holds"
    assert report["not_judged"] == ["claim_b"]
    assert report["interrupted"]["claim"] == "claim_b" and report["interrupted"]["setting"] == "tanh"
    text = (check_dir / "report.md").read_text()
    assert "**Interrupted**" in text and "not judged: claim_b" in text and "| **claim_b** | not judged" in text

    assert "Traceback" not in result.output
    said = [line for line in result.output.splitlines() if line.startswith("interrupted:")]
    assert len(said) == 1 and "claim claim_b while setting tanh trained" in said[0] and "not judged: claim_b" in said[0]
    # the terminal table: claim_a judged, claim_b a row that says it was not
    assert "claim_a: holds" in result.output and "claim_b: not judged" in result.output
    assert "1 of 2 claims judged" in result.output

    # every folder in the check directory is a readable run: claim_b's finished relu sweep, and its tanh sweep
    # as an interrupted, resumable one (a checkpoint of its chunk), named in claims.json
    infos = {i.path.name: i for i in list_runs(check_dir)}
    assert len(infos) == 3 and not [i for i in infos.values() if i.kind == UNREADABLE]
    tanh = Path(report["interrupted"]["runs"]["tanh"])
    assert read_run(tanh).status == "interrupted" and list((tanh / "checkpoints").glob("*.npz"))
    assert read_run(report["interrupted"]["runs"]["relu"]).status == "completed"


def test_a_check_interrupted_while_a_setting_makes_its_folder_leaves_no_empty_folder(two_claims, tmp_path,
                                                                                     monkeypatch):
    real = grid.new_run_dir

    def new_run_dir(root, name, now=None):  # Ctrl-C just after the folder exists, before anything is in it
        path = real(root, name, now)
        if name.endswith("claim_b-tanh"):
            raise KeyboardInterrupt
        return path

    monkeypatch.setattr(grid, "new_run_dir", new_run_dir)
    out = tmp_path / "runs"
    result = CliRunner().invoke(app, ["check", *map(str, two_claims), "--seeds", "4", "--out", str(out),
                                      "--quiet"])
    assert result.exit_code == 130, result.output
    check_dir = check_dir_of(out)
    folders = [p for p in check_dir.iterdir() if p.is_dir()]
    assert len(folders) == 2 and all(any(p.iterdir()) for p in folders), folders  # no empty tanh folder
    assert not [i for i in list_runs(check_dir) if i.kind == UNREADABLE]
    report = strict(check_dir / "claims.json")
    assert report["status"] == "interrupted" and report["all_hold"] is False and report["not_judged"] == ["claim_b"]
    assert set(report["interrupted"]["runs"]) == {"relu"}  # nothing of tanh was trained, nothing kept
    assert result.output.splitlines()[0] == str(check_dir)  # --quiet: the directory, then the one line


def test_a_check_interrupted_in_its_first_claim_names_every_claim_as_not_judged(two_claims, tmp_path,
                                                                                monkeypatch):
    press_ctrl_c_in_sweep(monkeypatch, "claim_a-relu")
    out = tmp_path / "runs"
    result = CliRunner().invoke(app, ["check", *map(str, two_claims), "--seeds", "4", "--out", str(out)])
    assert result.exit_code == 130, result.output
    report = strict(check_dir_of(out) / "claims.json")
    assert report.get("status") == "interrupted" and report["all_hold"] is False
    assert report["claims"] == [] and report["not_judged"] == ["claim_a", "claim_b"]


def test_check_from_python_interrupted_returns_an_interrupted_result(two_claims, tmp_path, monkeypatch):
    press_ctrl_c_in_sweep(monkeypatch, "claim_b-tanh")
    try:
        result = relu_lab.check(str(two_claims[1]), seeds=4, out=tmp_path / "runs")
    except KeyboardInterrupt:  # a failure of this test, not the end of the test session
        pytest.fail("relu_lab.check let the interrupt through instead of saying the check was interrupted")
    assert result.status == "interrupted" and result.all_hold is False and result.not_judged == ["claim_b"]
    assert result.to_dict()["all_hold"] is False and result.claims == []
    report = strict(result.run_dir / "claims.json")
    assert report["status"] == "interrupted" and report["not_judged"] == ["claim_b"]


# --- show: an interrupted retraining is not compared ------------------------------------------------


def test_an_interrupted_show_does_not_compare_and_leaves_a_resumable_train_run(tmp_path, monkeypatch):
    cfg = tmp_path / "sw.yaml"
    cfg.write_text(yaml.safe_dump({
        "name": "sw", "data": {"name": "xor"}, "model": {"layers": [2, 8, 1], "hidden": "relu", "init": "he"},
        "train": {"lr": 0.5, "epochs": 200}, "log_every": 10, "success": {"metric": "accuracy", "at_least": 1.0}}))
    made = CliRunner().invoke(app, ["sweep", str(cfg), "--lr", "0.1,0.5", "--seeds", "2", "--no-plots", "--quiet",
                                    "--out", str(tmp_path / "sweeps")])
    assert made.exit_code == 0, made.output
    sweep_dir = Path(made.output.strip().splitlines()[-1])

    real = member.train_run

    def train_run(*args, on_log=None, **kw):  # Ctrl-C (a real SIGINT) when the member logs epoch 50
        def log(row):
            if on_log is not None:
                on_log(row)
            if row.epoch == 50:
                signal.raise_signal(signal.SIGINT)

        return real(*args, on_log=log, **kw)

    monkeypatch.setattr(member, "train_run", train_run)
    out = tmp_path / "members"
    result = CliRunner().invoke(app, ["show", str(sweep_dir), "--member", "3", "--no-plots", "--out", str(out)])
    assert result.exit_code == 130, result.output
    assert "differs" not in result.output and "bit for bit" not in result.output and "Traceback" not in result.output
    said = [line for line in result.output.splitlines() if line.startswith(("interrupted:", "warning:"))]
    assert len(said) == 1 and said[0].startswith("interrupted: member 3 at epoch 50 of 200, not compared")
    (run,) = out.iterdir()
    assert f"relu-lab train --resume {run}" in said[0]
    assert strict(run / "summary.json")["status"] == "interrupted" and (run / "checkpoint.npz").is_file()

    # resumed as a train run, it ends as the member did in the sweep, bit for bit
    monkeypatch.setattr(member, "train_run", real)
    resumed = CliRunner().invoke(app, ["train", "--resume", str(run), "--no-plots", "--quiet"])
    assert resumed.exit_code == 0, resumed.output
    summary = strict(run / "summary.json")
    with open(sweep_dir / "members.csv", newline="") as fh:
        row = next(r for r in csv.DictReader(fh) if r["member"] == "3")
    assert summary["status"] == row["status"] == "completed"
    assert {k: repr(v) for k, v in summary["final"].items()} == {k: row[k] for k in summary["final"]}


def test_runs_lists_an_interrupted_check_as_interrupted_with_what_it_did_not_judge(tmp_path):
    check_dir = tmp_path / "20261204-120000-check"
    check_dir.mkdir()
    (check_dir / "claims.json").write_text(json.dumps({
        "status": "interrupted", "all_hold": False, "not_judged": ["claim_b"],
        "claims": [{"name": "claim_a", "verdict": "holds", "seeds": 4, "statement": "a"}]}))
    info = read_run(check_dir)
    assert info.status == "interrupted" and (info.members_done, info.members) == (1, 2)
    assert info.headline == "1 of 1 judged hold, 1 not judged"
