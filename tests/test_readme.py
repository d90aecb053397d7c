"""Every Python example in the README runs as written (from the repository's root)."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BLOCKS = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), flags=re.S)


def test_the_readme_has_python_examples():
    assert BLOCKS


@pytest.mark.parametrize("code", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_a_readme_example_runs(code, monkeypatch, capsys, tmp_path):
    monkeypatch.chdir(ROOT)
    # a temporary folder of the test's own: another process's relu-lab-* folders in /tmp are not this one's
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    runs = sorted((ROOT / "runs").glob("*"))
    temporary = sorted(Path(tempfile.gettempdir()).glob("relu-lab-*"))
    exec(compile(code, "README.md", "exec"), {"__name__": "readme"})
    assert capsys.readouterr().out.strip()  # the example shows its results
    # without out=, nothing is left behind: no run directory, no temporary one
    assert sorted((ROOT / "runs").glob("*")) == runs
    assert sorted(Path(tempfile.gettempdir()).glob("relu-lab-*")) == temporary
