"""Sweeps and comparisons run: a plan's groups (plan.py) trained chunk by chunk, and their files.

Each group of a plan trains as stacked ensembles (`trainer.fit`); a group too large for memory is split
into chunks. A member's weights and sample order come from its own seed, so it reproduces exactly when its
config is run alone with `train`. members.csv, metrics.csv and summary.csv are written as chunks finish,
and an interrupted sweep goes on from its files (`--resume`).
"""

from __future__ import annotations

import contextlib
import csv
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from . import checkpoint
from .config import Config, first_duplicate, grid_value_text, parse_seeds
from .datasets import Dataset
from .errors import RunFailed, UserError
from .experiment import check_checkpoint_fits, training_bytes
from .loading import dump_config, load_config
from .plan import (
    Axis,
    Group,
    Member,
    SweepPlan,
    plan_sweep,
)
from .run import CLIPPED_SHARE, metric_columns
from .rundir import CsvLog, atomic_write, filter_lines, holding, new_run_dir, versions, write_json
from .runfiles import best_rank, cell_float, lr_key, same_columns
from .trainer import COMPLETED, DIVERGED, INTERRUPTED, Checkpoint, LogRow, TrainResult, fit, held_interrupts

MEMORY_BUDGET = 256 * 2**20  # bytes of arrays one chunk of members may use while training
# Members per chunk at most: beyond about 512 the arrays outgrow the CPU caches and each
# member-step costs more (W1 on the 2-core machine: 5.0 us at 512, 6.9 at 1024, 8.6 at 2048).
MAX_CHUNK = 512
Z95 = 1.959963984540054


@dataclass
class SweepReport:
    run_dir: Path
    plan: SweepPlan
    status: str
    rows: list[dict[str, Any]]  # members.csv
    summary: list[dict[str, Any]]  # summary.csv
    seconds: float
    member_steps: int = 0  # trained in this session (a resumed sweep's earlier steps are not in `seconds`)
    best: int | None = None  # index into summary of the best grid point
    members_before: int = 0  # members a resumed sweep found finished
    warnings: list[str] = field(default_factory=list)
    resumed: bool = False  # went on from an earlier session's files


def chunk_size(cfg: Config, data: Dataset, budget: int = MEMORY_BUDGET) -> int:
    """How many members fit in `budget` bytes of training arrays (see experiment.training_bytes);
    chunks no larger than that are trained one after another."""
    return max(1, budget // training_bytes(cfg, data))


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval for a proportion (95 % by default)."""
    if n == 0:
        return (0.0, 1.0)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    lo = 0.0 if successes == 0 else max(0.0, centre - half)  # exact ends, free of rounding
    hi = 1.0 if successes == n else min(1.0, centre + half)
    return (lo, hi)


@dataclass
class Chunk:
    """Members of one group trained together in one ensemble (one task for an executor)."""

    group: int
    members: list[Member]


def pending_chunks(plan: SweepPlan, done: set[int], size_of: Callable[[Group], int]) -> list[Chunk]:
    """The members without results, group by group, cut into chunks of at most `size_of(group)`."""
    chunks = []
    for g, group in enumerate(plan.groups):
        todo = [m for m in group.members if m.index not in done]
        size = max(1, size_of(group))
        chunks += [Chunk(g, todo[i : i + size]) for i in range(0, len(todo), size)]
    return chunks


class SweepFiles:
    """A sweep's run directory, written as chunks finish: nothing finished is lost to an interrupt.

    members.csv and metrics.csv grow a complete line at a time; at the end members.csv is
    rewritten in member order and summary.csv / summary.json are written (atomically).
    With `resume`, the rows already there are kept and what an unfinished chunk logged is dropped.
    """

    def __init__(self, plan: SweepPlan, kind: str, out: str | Path, budget: int, resume: Path | None,
                 on_progress: Callable[[int], None] | None):
        self.plan, self.kind, self.on_progress = plan, kind, on_progress
        base = plan.members[0].config
        self.group_cols = [metric_columns(g.experiment) for g in plan.groups]
        self.cols = list(dict.fromkeys(c for gc in self.group_cols for c in gc))  # union: depths may differ
        self.keys = [a.key for a in plan.axes]
        # the starting learning rate, unless an axis is that rate already (a redirected --lr included)
        start_lr = [] if lr_key(self.keys) else ["lr"]
        cols = ["member", *self.keys, "seed", *start_lr, "status", *self.cols]
        cols += ["success", "success_epoch"] if base.success else []
        # the share of its steps whose gradient train.clip scaled down: a blow-up the clipping hides
        self.clips = any(m.config.train.clip is not None for m in plan.members)
        self.member_cols = cols + ["diverged_epoch", "epochs_done"] + (["clipped_share"] if self.clips else [])
        # grad_L1 / grad_L<last> of the largest gradient norms each received over the run (what the vanishing
        # gradient warning reads): at the end, a stalled sigmoid net's gradients are all tiny alike
        self.peaks = "grad_L2" in self.cols
        self.member_cols += ["grad_peak_ratio"] if self.peaks else []
        metric_cols = ["member", "epoch", "step", "lr", *self.cols]
        self.rows: list[dict[str, Any] | None] = [None] * len(plan.members)
        self.checkpoints: dict[tuple[int, ...], Checkpoint] = {}  # an interrupted chunk's state, by its members
        self.member_steps = 0
        self.log_seconds = 0.0  # of `seconds`, spent evaluating at the log points (this session's)
        self._start_step: dict[int, int] = {}  # a resumed chunk's step at its checkpoint
        self._last_epoch: dict[int, int] = {}
        self.members_before = 0
        self.resumed = resume is not None
        if resume is None:
            self.run_dir = new_run_dir(out, f"{kind}-{base.name}")
            atomic_write(self.run_dir / "config.yaml", dump_config(plan.base))
            write_json(self.run_dir / "grid.json", {
                "kind": kind, "axes": {a.key: a.values for a in plan.axes}, "seeds": plan.seeds,
                "members": len(plan.members), "groups": len(plan.groups), "budget": budget})
        else:
            self.run_dir = resume
            same_columns(resume / "members.csv", self.member_cols, f"--resume {resume}")
            same_columns(resume / "metrics.csv", metric_cols, f"--resume {resume}")
            for r in read_rows(resume / "members.csv"):
                self.rows[int(r["member"])] = r
            done = self.done()
            self.members_before = len(done)
            for path in sorted((resume / CHECKPOINTS).glob("*.npz")):
                members, ckpt = checkpoint.load(path)
                check_chunk_checkpoint(plan, members, ckpt, path, resume / "config.yaml")
                if not any(m in done for m in members):
                    self.checkpoints[tuple(members)] = ckpt
            # an unfinished chunk's rows are kept up to its checkpoint's last log row, the rest dropped
            # (and a line an interrupt cut short); then the files grow from there
            kept_log(resume, ",".join(metric_cols) + "\n", self.rows, self.checkpoints)
            filter_lines(resume / "members.csv", ",".join(self.member_cols) + "\n", lambda line: True)
        append = resume is not None
        self.members_log = CsvLog(self.run_dir / "members.csv", self.member_cols, append=append)
        self.metrics_log = CsvLog(self.run_dir / "metrics.csv", metric_cols, append=append)

    def done(self) -> set[int]:
        return {i for i, r in enumerate(self.rows) if r is not None}

    def _summary_columns(self) -> list[str]:
        """summary.csv's header, for a sweep interrupted before any member finished (no rows to take it from)."""
        success = ["success_rate", "success_low", "success_high", "median_success_epoch"]
        score = "r2" if "r2" in self.cols else "accuracy"
        dead = [f"{c}_mean" for c in self.cols if c.startswith("dead_L")]
        ratio = ["grad_ratio_median", "grad_peak_ratio_median"] if "grad_L2" in self.cols else []
        return [*self.keys, "members", *(success if self.plan.base.success else []), "cost_median", "cost_q1",
                "cost_q3", f"{score}_median", "diverged", *dead, *ratio]

    def resume_state(self, chunk: Chunk) -> Checkpoint | None:
        """The checkpoint an interrupted run left for exactly this chunk's members, if any."""
        ckpt = self.checkpoints.get(tuple(m.index for m in chunk.members))
        if ckpt is not None:
            self._last_epoch[id(chunk)] = ckpt.epoch
            self._start_step[id(chunk)] = ckpt.step
        return ckpt

    def save_checkpoint(self, chunk: Chunk, result: TrainResult) -> None:
        """An interrupted chunk: its state to go on from, and the steps it trained counted as this session's."""
        ckpt = result.checkpoint
        checkpoint.save(self._checkpoint_path(chunk), [m.index for m in chunk.members], ckpt)
        self.member_steps += (ckpt.step - self._start_step.pop(id(chunk), 0)) * len(chunk.members)
        self.log_seconds += result.log_seconds

    def _checkpoint_path(self, chunk: Chunk) -> Path:
        return self.run_dir / CHECKPOINTS / f"members-{chunk.members[0].index}-{chunk.members[-1].index}.npz"

    def advance(self, member_epochs: int) -> None:
        if self.on_progress is not None and member_epochs > 0:
            self.on_progress(member_epochs)

    def log(self, chunk: Chunk, row: LogRow) -> None:
        """One logged epoch of every member of a chunk."""
        n = len(chunk.members)
        values = (row.metrics[c].tolist() if c in row.metrics else [""] * n for c in self.cols)
        ids = [m.index for m in chunk.members]
        self.metrics_log.write_columns([ids, [row.epoch] * n, [row.step] * n, row.lr.tolist(), *values])
        self.advance((row.epoch - self._last_epoch.get(id(chunk), 0)) * n)
        self._last_epoch[id(chunk)] = row.epoch

    def finish(self, chunk: Chunk, result: TrainResult) -> None:
        """A chunk's members are done: their rows go to disk at once."""
        ms = chunk.members
        # members that stopped early (diverged) finish their share of the bar
        self.advance((ms[0].config.total_epochs() - self._last_epoch.pop(id(chunk), 0)) * len(ms))
        self.member_steps += (result.steps_done - self._start_step.pop(id(chunk), 0)) * len(ms)
        self.log_seconds += result.log_seconds
        gcols = self.group_cols[chunk.group]
        new = [_member_row(m, self.plan.points[m.point], result, k, gcols) for k, m in enumerate(ms)]
        if self.clips:
            for k, row in enumerate(new):  # completed members only: a diverged one stopped stepping early
                ok = result.clipped_steps is not None and result.steps_done and row["status"] == "completed"
                row["clipped_share"] = float(result.clipped_steps[k] / result.steps_done) if ok else ""
        if self.peaks:
            for k, row in enumerate(new):
                row["grad_peak_ratio"] = peak_ratio(result.tally, k)
        self.members_log.write([[r.get(c, "") for c in self.member_cols] for r in new])
        for m, r in zip(ms, new):
            self.rows[m.index] = r
        self._checkpoint_path(chunk).unlink(missing_ok=True)  # finished: its checkpoint is spent
        folder = self.run_dir / CHECKPOINTS
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()

    def _warnings(self, rows: list[dict[str, Any]]) -> list[str]:
        """What the members' rows say that a table of medians would hide."""
        if not self.clips:
            return []
        hidden = [r for r in rows if cell_float(r.get("clipped_share")) > CLIPPED_SHARE]
        if not hidden:
            return []
        return [f"{len(hidden)} of {len(rows)} members had train.clip scaling down more than half of their steps' "
                "gradients: a blow-up the clipping hides (members.csv: clipped_share)"]

    def close(self, status: str, seconds: float) -> SweepReport:
        self.metrics_log.close()
        self.members_log.close()
        done_rows = [r for r in self.rows if r is not None]
        _write_rows(self.run_dir / "members.csv", done_rows, self.member_cols)  # in member order
        summary = summarize(self.plan, done_rows, self.keys)
        _write_rows(self.run_dir / "summary.csv", summary, None if summary else self._summary_columns())
        best = best_point(summary)
        warnings = self._warnings(done_rows)
        write_json(self.run_dir / "summary.json", {
            "kind": self.kind, "name": self.plan.base.name, "status": status, "members": len(self.plan.members),
            "members_done": len(done_rows), "groups": len(self.plan.groups), "seconds": round(seconds, 3),
            "members_before": self.members_before,
            "member_steps": self.member_steps,
            "member_steps_per_second": round(self.member_steps / max(seconds, 1e-9)) if seconds > 0 else None,
            "log_seconds": round(self.log_seconds, 3),
            "engine": self.plan.engine, "engine_note": self.plan.engine_choice, "engine_notes": self.plan.notes,
            "warnings": warnings,
            "best": summary[best] if best is not None else None,
            "finished": datetime.now().isoformat(timespec="seconds"), "versions": versions(),
        })
        return SweepReport(self.run_dir, self.plan, status, done_rows, summary, seconds, self.member_steps, best,
                           self.members_before, warnings, self.resumed)


class LocalExecutor:
    """Chunks one after another in this process, logging while they train."""

    def chunk_size(self, group: Group, budget: int) -> int:
        return min(MAX_CHUNK, chunk_size(group.members[0].config, group.data, budget))

    def run(self, plan: SweepPlan, chunks: list[Chunk], log: Callable[[Chunk, LogRow], None],
            resume: Callable[[Chunk], Checkpoint | None] = lambda chunk: None):
        for chunk in chunks:
            yield chunk, fit(plan.groups[chunk.group].experiment, [m.trainee for m in chunk.members],
                             lambda row, c=chunk: log(c, row), resume=resume(chunk))


def run_sweep(
    plan: SweepPlan,
    out: str | Path = "runs",
    kind: str = "sweep",
    on_start: Callable[[SweepPlan, Path], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
    budget: int = MEMORY_BUDGET,
    resume: Path | None = None,
    executor: Any = None,
) -> SweepReport:
    """Train every member chunk by chunk and write members.csv, metrics.csv, summary.csv.

    `executor` runs the chunks: `LocalExecutor()` (the default) in this process, or
    `executors.DaskExecutor` on a cluster; both give the same members.csv and summary.csv.
    `resume` names the run directory of an interrupted sweep: only its unfinished members train.
    """
    if resume is not None and _status(Path(resume) / "summary.json") == "completed":  # keep its figures as they are
        raise UserError(f"--resume {resume}: this {kind} has finished (summary.json: completed); there is nothing "
                        f"to resume (redraw its plots with: relu-lab plot {resume})")
    with contextlib.ExitStack() as held:
        if resume is not None:  # held before its files are cut back: one process writes a run at a time
            held.enter_context(holding(resume))
        files = SweepFiles(plan, kind, out, budget, resume, on_progress)
        if resume is None:
            held.enter_context(holding(files.run_dir))
        return _sweep_into(files, plan, on_start, budget, executor or LocalExecutor())


def _sweep_into(files: SweepFiles, plan: SweepPlan, on_start, budget: int, executor) -> SweepReport:
    if on_start is not None:
        on_start(plan, files.run_dir)
    done = files.done()
    files.advance(sum(plan.members[i].config.total_epochs() for i in done))
    files.advance(sum(c.epoch * len(ms) for ms, c in files.checkpoints.items()))
    chunks = pending_chunks(plan, done, lambda g: executor.chunk_size(g, budget))
    t0 = time.perf_counter()
    status = "completed"
    try:
        for chunk, result in executor.run(plan, chunks, files.log, files.resume_state):
            with held_interrupts():  # a chunk's files are written whole
                if INTERRUPTED in result.status:
                    status = "interrupted"
                    if result.checkpoint is not None:  # the chunk goes on from here with --resume
                        files.save_checkpoint(chunk, result)
                    break
                files.finish(chunk, result)
    except KeyboardInterrupt:  # between chunks; inside one, fit() stops cleanly by itself
        status = "interrupted"
    except Exception as err:  # a user's activation that raises, say: the finished chunks are kept, then the error
        with held_interrupts():
            files.close("failed", time.perf_counter() - t0)
        raise RunFailed(f"{type(err).__name__}: {err}; the finished members are in {files.run_dir} "
                        "(relu-lab sweep --resume trains the others once the cause is fixed)") from err
    with held_interrupts():  # and so is the summary: a Ctrl-C now counts once it is written
        return files.close(status, time.perf_counter() - t0)


def resume_plan(run_dir: Path) -> tuple[SweepPlan, str, int]:
    """The plan, kind and memory budget of an earlier sweep or compare run directory."""
    grid_path = run_dir / "grid.json"
    if not grid_path.is_file() or not (run_dir / "members.csv").is_file():
        raise UserError(f"--resume {run_dir}: not a sweep or compare run directory (no grid.json/members.csv)")
    axes, seeds, kind, budget, count = _read_grid(grid_path)
    base = load_config(run_dir / "config.yaml")
    plan = plan_sweep(base, axes, seeds, str(run_dir / "config.yaml"), run_dir)
    if count is not None and count != len(plan.members):
        raise UserError(f"{grid_path}: says the sweep has {count} members, but its axes and seeds make "
                        f"{len(plan.members)}; was grid.json edited?")
    _check_member_rows(run_dir / "members.csv", plan)
    return plan, kind, budget


def _status(path: Path) -> str | None:
    """The status a run's summary.json gives, None when it has none (or cannot be read)."""
    try:
        return json.loads(path.read_text(encoding="utf-8")).get("status") if path.is_file() else None
    except (OSError, ValueError, AttributeError):
        return None


def check_chunk_checkpoint(plan: SweepPlan, members: list[int], ckpt: Checkpoint, path: Path, config: Path) -> None:
    """Refuse a chunk's checkpoint that is not of this plan's members, or whose parameters do not fit the
    network their config builds (config.yaml or grid.json edited after the interrupt)."""
    n = len(plan.members)
    if not members or any(not 0 <= m < n for m in members):
        raise UserError(f"{path}: holds members {members[0] if members else '?'}..{members[-1] if members else '?'}, "
                        f"but the sweep has members 0..{n - 1}; was grid.json or {config.name} edited after the "
                        "interrupt?")
    check_checkpoint_fits(plan.members[members[0]].config, len(members), ckpt, path, str(config))


MAX_GRID_BYTES = 64 * 2**20
GRID_KEYS = "kind ('sweep' or 'compare'), axes (config key: list of values), seeds (list of whole numbers), budget"


def _read_grid(path: Path) -> tuple[list[Axis], list[int], str, int, int | None]:
    """The axes, seeds, kind, memory budget and member count of a grid.json; UserError naming what is wrong."""
    def bad(what: str) -> UserError:
        return UserError(f"{path}: damaged: {what}; a grid.json holds {GRID_KEYS}")

    def whole(v: Any) -> bool:
        return isinstance(v, int) and not isinstance(v, bool)

    try:
        if path.stat().st_size > MAX_GRID_BYTES:  # a grid.json is a few KB (MBs for 250,000 seeds)
            raise bad(f"{path.stat().st_size:,} bytes, more than a grid.json can hold ({MAX_GRID_BYTES:,})")
        grid = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as err:
        raise UserError(f"{path}: cannot read it ({getattr(err, 'strerror', None) or err})") from None
    except ValueError as err:
        raise bad(f"not JSON ({err})") from None
    if not isinstance(grid, dict):
        raise bad(f"expected a mapping, got {_json_type(grid)}")
    missing = [k for k in ("kind", "axes", "seeds", "budget") if k not in grid]
    if missing:
        raise bad(f"no {', '.join(repr(k) for k in missing)}")
    kind, axes, seeds, budget = grid["kind"], grid["axes"], grid["seeds"], grid["budget"]
    if kind not in ("sweep", "compare"):
        raise bad(f"'kind' is {json.dumps(kind)[:40]}, expected 'sweep' or 'compare'")
    if not isinstance(axes, dict):
        raise bad(f"'axes' is {_json_type(axes)}, expected a mapping of config keys to lists of values")
    for key, values in axes.items():
        if not isinstance(values, list) or not values:
            raise bad(f"axis {key!r} is {_json_type(values)}, expected a non-empty list of values")
        if (i := first_duplicate(values)) is not None:
            raise bad(f"axis {key!r} lists {grid_value_text(values[i])} twice")
    if not isinstance(seeds, list) or not seeds or not all(whole(s) and s >= 0 for s in seeds):
        raise bad(f"'seeds' is {json.dumps(seeds)[:40]}, expected a non-empty list of whole numbers >= 0")
    try:
        parse_seeds(seeds)  # no seed twice, not too many
    except ValueError as err:
        raise bad(f"'seeds': {err}") from None
    if not whole(budget) or budget < 1:
        raise bad(f"'budget' is {json.dumps(budget)[:40]}, expected a whole number of bytes >= 1")
    count = grid.get("members")
    if count is not None and not whole(count):
        raise bad(f"'members' is {json.dumps(count)[:40]}, expected a whole number")
    return [Axis(k, v) for k, v in axes.items()], seeds, kind, budget, count


def _json_type(value: Any) -> str:
    names = {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean", int: "a number",
             float: "a number", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def _check_member_rows(path: Path, plan: SweepPlan) -> None:
    """Refuse a members.csv whose rows are not this sweep's: a member number out of range or twice, a
    row of the wrong length, a status or epoch count that is not one."""
    n = len(plan.members)
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            header_line = fh.readline()
            if not header_line.endswith("\n"):
                return  # empty, or a header an interrupt cut short: nothing finished
            header = next(csv.reader([header_line]), [])
            if not header or header[0] != "member" or "status" not in header or "epochs_done" not in header:
                raise UserError(f"{path}: line 1 is not members.csv's header (member,...,status,...,epochs_done): "
                                f"{header_line[:60].strip()!r}")
            status_at, epochs_at = header.index("status"), header.index("epochs_done")
            seen: set[int] = set()
            for number, line in enumerate(fh, start=2):
                if not line.endswith("\n"):
                    break  # a last line an interrupt cut short: dropped on resume

                def bad(what: str, line: str = line, number: int = number) -> UserError:
                    return UserError(f"{path}: line {number} is not a member's row ({what}: "
                                     f"{line[:60].strip()!r}); was members.csv edited or damaged?")

                cells = next(csv.reader([line]), [])
                if len(cells) != len(header):
                    raise bad(f"{len(cells)} values, expected {len(header)}")
                try:
                    member, epochs = int(cells[0]), int(cells[epochs_at])
                except ValueError:
                    raise bad("the member number and epochs_done must be whole numbers") from None
                if not 0 <= member < n:
                    raise bad(f"member {member}, but the sweep has members 0..{n - 1}")
                if member in seen:
                    raise bad(f"member {member} is listed twice")
                if cells[status_at] not in (COMPLETED, DIVERGED) or epochs < 0:
                    raise bad(f"status {cells[status_at]!r}, expected completed or diverged, with epochs_done >= 0")
                seen.add(member)
    except (OSError, UnicodeDecodeError) as err:
        raise UserError(f"{path}: cannot read it ({getattr(err, 'strerror', None) or err})") from None


CHECKPOINTS = "checkpoints"  # the folder of an interrupted sweep's chunk checkpoints


def kept_log(run_dir: Path, header: str, rows: list[dict | None], checkpoints: dict[tuple[int, ...], Checkpoint]
             ) -> None:
    """Cut an interrupted sweep's metrics.csv back to what goes on: a finished member's rows, and a
    checkpointed one's up to its checkpoint's last log row. A file that lacks some of them (cut short,
    edited) is refused and left as it was: a finished member's rows end at its last epoch, and a
    checkpointed one has every row its checkpoint counted."""
    ends = {m: r["epochs_done"] for m, r in enumerate(rows) if r is not None}
    upto = {m: c.tally.last_epoch for ms, c in checkpoints.items() for m in ms if c.tally.rows}
    expected = {m: c.tally.rows for ms, c in checkpoints.items() for m in ms if c.tally.rows}
    seen: dict[int, int] = {}  # a checkpointed member's rows kept; a finished member's last epoch
    path = run_dir / "metrics.csv"

    def keep(line: str) -> bool:
        try:
            member, epoch = (int(x) for x in line.split(",", 2)[:2])
        except ValueError:
            raise UserError(f"--resume {run_dir}: metrics.csv has a line that is not a log row "
                            f"({line[:60].strip()!r}); the sweep cannot go on from a damaged log") from None
        if member in ends:
            seen[member] = max(seen.get(member, -1), epoch)
            return True
        if member in upto and epoch <= upto[member]:
            seen[member] = seen.get(member, 0) + 1
            return True
        return False

    def complete(kept: int) -> None:
        short = [m for m, e in ends.items() if seen.get(m) != e] + [m for m, n in expected.items() if seen.get(m) != n]
        if short:
            raise UserError(f"--resume {run_dir}: metrics.csv lacks rows of {len(short)} member(s) (member "
                            f"{min(short)} first; cut short or edited?); the sweep cannot go on from a damaged log")

    if not path.is_file():
        raise UserError(f"--resume {run_dir}: no metrics.csv there; the sweep cannot go on without its log")
    filter_lines(path, header, keep, complete)


def read_lines(path: Path) -> list[str]:
    """The complete lines of a file (a last line without its newline was cut short and is dropped)."""
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    return [line for line in lines if line.endswith("\n")]


def read_rows(path: Path) -> list[dict[str, Any]]:
    """Rows of a CSV written by this module, numbers read back as int or float."""
    lines = read_lines(path)
    return [{k: _number(v) for k, v in row.items()} for row in csv.DictReader(lines)]


def _number(text: str) -> Any:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _member_row(m: Member, point: dict[str, Any], result: TrainResult, k: int, cols: list[str]) -> dict[str, Any]:
    row: dict[str, Any] = {"member": m.index, **{key: _cell(v) for key, v in point.items()}, "seed": m.seed}
    if lr_key(point) is None:
        row["lr"] = m.config.phases()[0].lr  # the starting learning rate
    row["status"] = result.status[k]
    for c in cols:
        row[c] = float(result.final[c][k])
    success = m.config.success
    if success is not None:
        met = result.status[k] != DIVERGED and bool(success.met(result.final[success.metric][k]))
        row["success"] = int(met)
        row["success_epoch"] = int(result.success_epoch[k]) if result.success_epoch[k] >= 0 else ""
    row["diverged_epoch"] = int(result.diverged_epoch[k]) if result.diverged_epoch[k] >= 0 else ""
    row["epochs_done"] = result.epochs_done
    return row


def _cell(v: Any) -> Any:
    return v if isinstance(v, (int, float, str)) else json.dumps(v)


def summarize(plan: SweepPlan, rows: list[dict[str, Any]], keys: list[str]) -> list[dict[str, Any]]:
    """Per grid point, over seeds: success rate with its Wilson interval, cost quartiles, divergences."""
    out = []
    for p, point in enumerate(plan.points):
        mine = [r for r in rows if plan.members[r["member"]].point == p]
        if not mine:
            continue
        cost = np.array([r["cost"] for r in mine])
        finite = cost[np.isfinite(cost)]
        q1, med, q3 = np.percentile(finite, [25, 50, 75]) if finite.size else (math.nan,) * 3
        entry: dict[str, Any] = {**{k: _cell(point[k]) for k in keys}, "members": len(mine)}
        if "success" in mine[0]:
            s = sum(r["success"] for r in mine)
            lo, hi = wilson(s, len(mine))
            # over the members that succeeded: one that met the criterion once and lost it does not count
            epochs = [r["success_epoch"] for r in mine if r["success"] and r["success_epoch"] != ""]
            entry |= {"success_rate": s / len(mine), "success_low": lo, "success_high": hi,
                      "median_success_epoch": float(np.median(epochs)) if epochs else None}
        entry |= {"cost_median": float(med), "cost_q1": float(q1), "cost_q3": float(q3)}
        score = "r2" if "r2" in mine[0] else "accuracy"
        judged = plan.members[mine[0]["member"]].config.success
        # the score, and the criterion's own figure when it is another one (e.g. test_accuracy): shown, labelled
        for metric in dict.fromkeys([score] + ([judged.metric] if judged and judged.metric != "cost" else [])):
            vals = np.array([cell if isinstance(cell := r.get(metric), float) else math.nan for r in mine])
            ok = np.isfinite(vals)
            entry[f"{metric}_median"] = float(np.median(vals[ok])) if ok.any() else None
        entry["diverged"] = sum(r["status"] == DIVERGED for r in mine)
        entry |= inside_figures(mine)
        out.append(entry)
    return out


def peak_ratio(tally, k: int) -> float | str:
    """Member k's largest grad_L1 over the run against the largest grad_L<last>; '' when either is unknown or 0."""
    last = max((int(key[6:]) for key in tally.grad_max), default=1)
    first, top = (float(tally.grad_max.get(f"grad_L{l}", [np.nan] * (k + 1))[k]) for l in (1, last))
    return first / top if last > 1 and math.isfinite(first) and math.isfinite(top) and top > 0 else ""


def inside_figures(mine: list[dict[str, Any]]) -> dict[str, float | None]:
    """Over a grid point's members, at the end: the mean dead share of each layer (dead_L<l>_mean) and the
    median of grad_L1 / grad_L<last> (grad_ratio_median: below 1e-4, the gradient vanishes on its way to the
    input). A figure no member has a finite value for is None (null), not a number."""

    def values(key: str) -> np.ndarray:
        return np.array([v if isinstance(v := r.get(key), (int, float)) else math.nan for r in mine], dtype=float)

    out: dict[str, float | None] = {}
    for key in (k for k in mine[0] if k.startswith("dead_L")):
        v = values(key)
        out[f"{key}_mean"] = float(np.mean(v[np.isfinite(v)])) if np.isfinite(v).any() else None
    last = max((int(k[6:]) for k in mine[0] if k.startswith("grad_L")), default=1)
    if last > 1:
        first, top = values("grad_L1"), values(f"grad_L{last}")
        ok = np.isfinite(first) & np.isfinite(top) & (top > 0)
        out["grad_ratio_median"] = float(np.median(first[ok] / top[ok])) if ok.any() else None
    if "grad_peak_ratio" in mine[0]:
        peaks = values("grad_peak_ratio")
        peaks = peaks[np.isfinite(peaks)]
        out["grad_peak_ratio_median"] = float(np.median(peaks)) if peaks.size else None
    return out


def best_point(summary: list[dict[str, Any]], among: list[int] | None = None) -> int | None:
    """The best grid point (runfiles.best_rank: the highest success rate, then the lowest median cost)."""
    among = list(range(len(summary))) if among is None else among
    return min(among, key=lambda i: best_rank(summary[i])) if among else None


def best_per(summary: list[dict[str, Any]], key: str) -> dict[Any, int]:
    """For each value of `key` (e.g. each activation), its best grid point over the other axes."""
    values = list(dict.fromkeys(row[key] for row in summary))
    return {v: best_point(summary, [i for i, row in enumerate(summary) if row[key] == v]) for v in values}


def _write_rows(path: Path, rows: list[dict[str, Any]], columns: list[str] | None = None) -> None:
    if not rows and not columns:
        atomic_write(path, "")
        return
    columns = columns or list(dict.fromkeys(k for r in rows for k in r))
    lines = [",".join(columns)]
    for r in rows:
        lines.append(",".join(_csv(r.get(c, "")) for c in columns))
    atomic_write(path, "\n".join(lines) + "\n")


def _csv(v: Any) -> str:
    if v is None:
        return ""  # a figure that cannot be computed is left empty
    if isinstance(v, float):
        return repr(v)
    text = str(v)
    return f'"{text.replace(chr(34), chr(34) * 2)}"' if ("," in text or '"' in text) else text
