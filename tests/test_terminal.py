"""The commands as a person runs them: in a pseudo-terminal, with the live display drawn, and with
Ctrl-C pressed at the keyboard (the terminal turns \\x03 into SIGINT for the foreground process).

Piped or under CliRunner the live display is never drawn, which is how a hang in it went unseen.
The timeouts below only guard against a hang; nothing here depends on how fast the machine is.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
import yaml

pexpect = pytest.importorskip("pexpect")

ROOT = Path(__file__).resolve().parents[1]
XOR = str(ROOT / "configs" / "xor_relu.yaml")
GUARD = 300  # seconds: a command that has not ended by then hangs
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def spawn(args: list[str], cols: int, cwd: Path):
    return pexpect.spawn(sys.executable, ["-c", "from relu_lab.cli import run; run()", *args], cwd=str(cwd),
                         dimensions=(40, cols), encoding="utf-8", timeout=GUARD,
                         env={"PATH": "/usr/bin:/bin", "HOME": str(Path.home()), "TERM": "xterm-256color"})


def finish(child) -> tuple[str, int]:
    """Everything the terminal showed until the process ended, and its exit code."""
    shown = child.read()  # until EOF: the process closed the terminal
    child.close()
    assert child.signalstatus is None, f"killed by signal {child.signalstatus}:\n{shown[-2000:]}"
    return shown, child.exitstatus


def plain(shown: str) -> str:
    return ANSI.sub("", shown).replace("\r", "")


def drew_a_live_bar(shown: str) -> bool:
    """rich hides the cursor while it draws a live display and redraws the bar in place (\\r, erase line)."""
    return "\x1b[?25l" in shown and "\x1b[2K" in shown and "━" in shown and "\x1b[?25h" in shown


def claim_file(tmp_path: Path) -> Path:
    """A claim that holds at 6 seeds (XOR trains with ReLU at lr 0.5), so that check exits 0."""
    raw = yaml.safe_load(Path(XOR).read_text())
    raw["train"]["epochs"] = 300
    raw["claim"] = {"statement": "ReLU trains XOR", "source": "configs/xor_relu.yaml",
                    "settings": {"relu": {}}, "expect": [{"setting": "relu", "figure": "cost", "at_most": 0.5}],
                    "seeds": 6}
    path = tmp_path / "claim.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


COMMANDS = {
    "train": lambda tmp: ["train", XOR],
    "sweep": lambda tmp: ["sweep", XOR, "--lr", "0.1,1", "--seeds", "4"],
    "compare": lambda tmp: ["compare", XOR, "--activations", "relu,tanh", "--seeds", "4"],
    "check": lambda tmp: ["check", str(claim_file(tmp))],
}


@pytest.mark.parametrize("cols", [120, 60])
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_each_command_finishes_in_a_terminal_with_its_bar_and_table(tmp_path, command, cols):
    args = [*COMMANDS[command](tmp_path), "--out", str(tmp_path / "runs")]
    if command != "check":
        args.append("--no-plots")
    shown, code = finish(spawn(args, cols, tmp_path))
    text = plain(shown)
    assert code == 0, text[-3000:]
    assert drew_a_live_bar(shown), text[-3000:]
    assert "Traceback" not in text
    if command == "check":
        assert "relu-lab check" in text and "holds" in text and "written: " in text
    else:
        assert re.search(r"relu-lab (train|sweep|compare)", text), text[-3000:]  # the summary table's title
        assert "run directory: " in text.splitlines()[-1] or "run directory: " in text.splitlines()[-2]
    runs = [p for p in (tmp_path / "runs").iterdir() if p.is_dir()]
    assert runs and all((run / "summary.json").is_file() or (run / "claims.json").is_file() for run in runs)


@pytest.mark.parametrize("cols", [120, 60])
def test_show_finishes_in_a_terminal(tmp_path, cols):
    out = tmp_path / "runs"
    shown, code = finish(spawn(["sweep", XOR, "--lr", "0.5", "--seeds", "2", "--out", str(out), "--no-plots",
                                "--quiet"], cols, tmp_path))
    assert code == 0, plain(shown)
    (sweep,) = out.iterdir()
    shown, code = finish(spawn(["show", str(sweep), "--member", "1", "--out", str(out), "--no-plots"], cols, tmp_path))
    text = plain(shown)
    assert code == 0, text[-3000:]
    assert drew_a_live_bar(shown) and "relu-lab train" in text and "run directory: " in text
    assert "differs" not in text  # the member reproduced bit for bit


def press_ctrl_c_once_training(child, run_files: Path) -> None:
    """Wait until the bar is drawn and a log row is on disk, then press Ctrl-C at the keyboard."""
    child.expect("━")
    while not any(p.stat().st_size > 200 for p in run_files.glob("*/metrics.csv")):
        child.expect([pexpect.TIMEOUT, "━"], timeout=0.2)
        assert child.isalive(), "the run ended before it could be interrupted"
    child.send("\x03")


def interrupted_at_the_keyboard(args: list[str], tmp_path: Path) -> Path:
    """Run `args` in a terminal, press Ctrl-C once it trains: exit 130, the resume hint, no traceback,
    and a run directory that says "interrupted"; that directory."""
    out = tmp_path / "runs"
    child = spawn([*args, "--set", "train.epochs=10000000", "--no-plots", "--out", str(out)], 80, tmp_path)
    press_ctrl_c_once_training(child, out)
    shown, code = finish(child)
    text = plain(shown)
    assert code == 130, text[-3000:]
    assert "Traceback" not in text and "--resume" in text
    (run,) = out.iterdir()
    assert json.loads((run / "summary.json").read_text())["status"] == "interrupted"
    return run


def test_ctrl_c_in_a_terminal_mid_train_leaves_a_resumable_run(tmp_path):
    run = interrupted_at_the_keyboard(["train", XOR], tmp_path)
    assert (run / "checkpoint.npz").is_file() and (run / "params.npz").is_file()


def test_ctrl_c_in_a_terminal_mid_sweep_leaves_a_resumable_sweep(tmp_path):
    run = interrupted_at_the_keyboard(["sweep", XOR, "--lr", "0.1,1", "--seeds", "8"], tmp_path)
    assert list((run / "checkpoints").glob("*.npz"))


@pytest.mark.parametrize("args", [["train", XOR], ["train", XOR, "-q"], ["sweep", XOR, "--lr", "0.5", "--seeds", "2"]])
def test_a_closed_stdout_is_not_a_failure(tmp_path, args):
    """`relu-lab train ... >&-`: nothing can be printed, and the run is complete all the same."""
    import shlex
    import subprocess

    cmd = shlex.join([sys.executable, "-c", "from relu_lab.cli import run; run()", *args, "--no-plots",
                      "--out", str(tmp_path / "runs")])
    proc = subprocess.run(["bash", "-c", f"{cmd} >&-"], capture_output=False, stderr=subprocess.PIPE, text=True,
                          timeout=GUARD)
    assert proc.returncode == 0, proc.stderr
    assert "AttributeError" not in proc.stderr and "failed" not in proc.stderr
    (run,) = (tmp_path / "runs").iterdir()
    assert json.loads((run / "summary.json").read_text())["status"] == "completed"
