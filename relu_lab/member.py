"""One member of a sweep or compare, retrained alone into a full train run directory.

A member's config in the sweep's plan (its grid point, its seed, the sweep's log spacing) trains
to the same figures alone as inside its ensemble, bit for bit. `retrain` says whether it did:
every figure of the new run against the member's row in members.csv. A retraining interrupted by
Ctrl-C is not compared: it is an interrupted train run, resumable with `relu-lab train --resume`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from .errors import UserError
from .grid import resume_plan
from .plan import Member
from .run import RunReport, train_run
from .runfiles import cell_float, read_rows, run_kind

MEMBERS_DIR = "members"  # where a sweep's retrained members go, inside its directory


@dataclass
class Retrained:
    report: RunReport
    member: Member
    row: dict[str, str]  # the member's row in members.csv
    compared: list[str]  # the figures compared (none when interrupted)
    differ: list[str]  # 'cost: 0.1 (members.csv 0.2)' for each that differs

    @property
    def interrupted(self) -> bool:
        """Stopped by Ctrl-C before the end: a partial member, not compared with its members.csv row."""
        return self.report.summary["status"] == "interrupted"


def find_member(sweep_dir: Path, member: int | None = None, seed: int | None = None,
                where: list[str] = ()) -> tuple[list[Member], Member, dict[str, str]]:
    """The plan's members, the one chosen (by index, or by seed and key=value cells of members.csv),
    and its members.csv row; raises UserError when the choice is not exactly one finished member."""
    if run_kind(sweep_dir) not in ("sweep", "compare"):
        raise UserError(f"{sweep_dir}: not a sweep or compare run directory; show retrains one of their members")
    plan, _, _ = resume_plan(sweep_dir)
    rows = {int(r["member"]): r for r in read_rows(sweep_dir / "members.csv")}
    if member is None and seed is None and not where:
        raise UserError("say which member: --member N, or --seed S and --where key=value (e.g. --where lr=0.1)")
    chosen = [m for m in plan.members if (member is None or m.index == member) and (seed is None or m.seed == seed)]
    for item in where:
        key, sep, value = item.partition("=")
        column = _column(key.strip(), rows, plan)
        if not sep or column is None:
            raise UserError(f"--where '{item}': expected key=value with a grid key of this sweep "
                            f"({', '.join(a.key for a in plan.axes)})")
        chosen = [m for m in chosen if m.index in rows and _same(rows[m.index][column], value.strip())]
    if member is not None and not 0 <= member < len(plan.members):
        raise UserError(f"--member {member}: the sweep has members 0..{len(plan.members) - 1}")
    if len(chosen) != 1:
        if chosen:
            raise UserError(f"{len(chosen)} members match; narrow the choice down to one (--member N is the surest)")
        there = "; ".join(f"{a.key}: {', '.join(map(str, a.values))}" for a in plan.axes)
        contiguous = plan.seeds == list(range(plan.seeds[0], plan.seeds[-1] + 1))
        seeds = f"seeds {plan.seeds[0]}..{plan.seeds[-1]}" if contiguous else f"seeds {', '.join(map(str, plan.seeds))}"
        raise UserError(f"no member matches that choice; this sweep has {seeds}" + (f"; {there}" if there else ""))
    m = chosen[0]
    if m.index not in rows:
        raise UserError(f"member {m.index} has not finished (the sweep was interrupted): nothing to compare it with;"
                        " finish the sweep with --resume first")
    return plan.members, m, rows[m.index]


def _column(key: str, rows: dict[int, dict[str, str]], plan) -> str | None:
    """The members.csv column a --where key names: a grid key, or its last part (lr for train.lr)."""
    keys = [a.key for a in plan.axes]
    return next((k for k in keys if key in (k, k.rsplit(".", 1)[-1])), None)


def _same(cell: str, value: str) -> bool:
    a, b = cell_float(cell), cell_float(value)
    return a == b if math.isfinite(a) and math.isfinite(b) else cell == value


def retrain(sweep_dir: Path, member: int | None = None, seed: int | None = None, where: list[str] = (),
            out: Path | None = None, on_start=None, on_log=None) -> Retrained:
    """Train the chosen member alone into `out` (default: the sweep's members/ folder)."""
    _, m, row = find_member(sweep_dir, member, seed, where)
    cfg = m.config.model_copy(update={"name": f"{m.config.name}-member{m.index}"})
    report = train_run(cfg, out=out or sweep_dir / MEMBERS_DIR, source=str(sweep_dir / "config.yaml"),
                       base_dir=sweep_dir, on_start=on_start, on_log=on_log)
    if report.summary["status"] == "interrupted":  # half a member equals no row: nothing to compare
        return Retrained(report, m, row, [], [])
    compared, differ = compare_with_row(report, row)
    return Retrained(report, m, row, compared, differ)


def compare_with_row(report: RunReport, row: dict[str, str]) -> tuple[list[str], list[str]]:
    """Each figure of a run against the members.csv row of the same member (as the sweep wrote it)."""
    result = report.result
    mine = {c: repr(float(v[0])) for c, v in result.final.items()}
    mine["status"] = result.status[0]
    if result.status[0] == "completed":  # a diverged member's chunk trained on past its stop; alone it ends there
        mine["epochs_done"] = str(result.epochs_done)
    if report.summary.get("success") is not None:
        mine["success"] = str(int(report.summary["success"]["met"]))
    mine["diverged_epoch"] = str(int(result.diverged_epoch[0])) if result.diverged_epoch[0] >= 0 else ""
    if "success_epoch" in row:
        mine["success_epoch"] = str(int(result.success_epoch[0])) if result.success_epoch[0] >= 0 else ""
    compared = [c for c in mine if c in row]
    differ = [f"{c}: {mine[c]} (members.csv {row[c]})" for c in compared if mine[c] != row[c]]
    return compared, differ
