"""Rewrite the README's table of claims from a fresh `relu-lab check`: python docs/claims_table.py

The table between the README's `<!-- claims:start -->` and `<!-- claims:end -->` lines is
replaced by what `relu-lab check configs/claims` measures now (each claim at its own seed
count); nothing in it is typed by hand. Takes about half a minute on two cores.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from relu_lab.claims import Measured

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
START, END = "<!-- claims:start -->", "<!-- claims:end -->"


def table(claims: list[dict]) -> str:
    lines = ["| claim (config in `configs/claims/`) | source | measured (95 % interval) | verdict |",
             "|---|---|---|---|"]
    for c in claims:
        figures = "<br>".join(f"{m['expectation']}: {Measured(**m).text()}" + (f" ({m['note']})" if m["note"] else "")
                              + f" ({m['verdict']})" for m in c["measured"])
        lines.append(f"| **{c['name']}**: {c['statement']} | {c['source']} | {figures} | **{c['verdict']}** |")
    return "\n".join(lines)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        run = subprocess.run([sys.executable, "-c", "from relu_lab.cli import run; run()", "check", "configs/claims",
                              "--out", tmp, "--quiet"], cwd=ROOT, capture_output=True, text=True)
        if run.returncode not in (0, 1):  # 1: some claim does not hold, which the table says
            sys.exit(f"relu-lab check failed: {run.stderr.strip()}")
        claims = json.loads((Path(run.stdout.strip().splitlines()[-1]) / "claims.json").read_text())["claims"]
    text = README.read_text(encoding="utf-8")
    if START not in text or END not in text:
        sys.exit(f"README.md has no {START} ... {END} section")
    new = re.sub(re.escape(START) + ".*?" + re.escape(END), lambda _: f"{START}\n{table(claims)}\n{END}", text,
                 flags=re.S)
    README.write_text(new, encoding="utf-8")
    print(f"README.md: {len(claims)} claims")


if __name__ == "__main__":
    main()
