"""`relu-lab runs`: list, show and diff the run directories that train, sweep and compare leave.

The library side reads only files (through runfiles: no matplotlib, no training) and returns
rich renderables, which `relu-lab runs` (cli.py) prints:

    list_runs(root, name, kind)   RunInfo per subdirectory of root, newest first
    runs_table(infos)             those as a table: date, name, kind, status, members, headline
    show_run(path)                one run: status, config essentials, results, warnings, files
    diff_runs(a, b)               two runs: changed config keys, then their results side by side

A folder under root that is not a readable run is listed as kind 'unreadable' with the reason;
a figure that cannot be read is None (shown '-'), never a guess. The files a listing reads are
looked at first: what is not a regular file (a FIFO would block forever) or is larger than
MAX_RUN_FILE_BYTES is never opened, and the folder is listed as unreadable saying so.
"""

from __future__ import annotations

import json
import math
import re
import stat
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from .console import Fitted, sweep_table
from .errors import UserError, did_you_mean
from .loading import size_text
from .runfiles import (
    SweepDir,
    cell_float,
    compare_choices,
    compare_key,
    penalties_text,
    read_json,
    read_yaml_or_none,
    rule_text,
    run_kind,
    score_key,
    short_value,
)

KINDS = ("train", "sweep", "compare", "check")
UNREADABLE = "unreadable"  # the kind of a folder under root that is not a readable run
GRIDS = ("sweep", "compare")
STAMP = re.compile(r"(\d{8}-\d{6})-")  # runs/<YYYYmmdd-HHMMSS>-<name>
STATUS_STYLE = {"completed": "green", "diverged": "red", "interrupted": "yellow",
                "holds": "green", "fails": "red", "inconclusive": "yellow", "failed": "red"}
ESSENTIALS = (("dataset", ("data.name", "data")), ("layers", ("model.layers",)), ("hidden", ("model.hidden",)),
              ("output", ("model.output",)), ("loss", ("loss.name", "loss")), ("lr", ("train.lr",)),
              ("epochs", ("train.epochs",)))  # show_run's config rows: (label, the dotted keys to try)
ABSENT = "(absent)"  # a config key that one run of a diff does not have
MAX_RUN_FILE_BYTES = 16 * 2**20  # summary.json, grid.json, claims.json, config.yaml, summary.csv: a few KB to a few MB
READ_FILES = ("summary.json", "grid.json", "claims.json", "config.yaml", "summary.csv")  # what reading a run opens
RESULT_FILES = ("metrics.csv", "summary.json", "grid.json", "members.csv", "claims.json")
STARTED = "started, no results (killed before its first log?)"  # a folder with config.yaml and nothing else yet


@dataclass
class RunInfo:
    """One subdirectory of a runs folder and its headline figures (None: not available)."""

    path: Path
    date: datetime | None
    name: str
    kind: str  # train, sweep, compare, check or unreadable
    status: str | None = None
    members: int | None = None  # planned (1 for a train run)
    members_done: int | None = None
    success: float | None = None  # grids: the best point's success rate, with a success criterion
    point: str | None = None  # grids: the best point, e.g. "lr=0.1"
    score_name: str | None = None  # accuracy or r2
    score: float | None = None  # train: final; grids: the best point's median
    cost: float | None = None  # train: final; grids: the best point's median
    error: str | None = None  # what could not be read
    summary: dict[str, Any] = field(default_factory=dict, repr=False)  # summary.json
    grid: dict[str, Any] = field(default_factory=dict, repr=False)  # grid.json

    @property
    def claims(self) -> list[dict[str, Any]]:
        """A check's claims as claims.json holds them (each with its verdict and measured figures)."""
        return [c for c in _sequence(self.summary.get("claims")) if isinstance(c, dict)]

    @property
    def headline(self) -> str:
        """'success 94% (lr=0.1)', 'median cost 0.03 (lr=0.1)', 'acc. 1.00  cost 0.0075' or '-'."""
        if self.kind in GRIDS:
            where = f" ({self.point})" if self.point else ""
            if self.success is not None:
                return f"success {100 * self.success:.0f}%{where}"
            return f"median cost {_num(self.cost)}{where}" if self.cost is not None else "-"
        if self.kind == "check" and self.members is not None:
            held = sum(c.get("verdict") == "holds" for c in self.claims)
            if self.members_done is not None and self.members_done != self.members:
                return f"{held} of {self.members_done} judged hold, {self.members - self.members_done} not judged"
            verb = "holds" if held == 1 or self.members == 1 else "hold"
            return f"{held} of {self.members} claim{'s' if self.members != 1 else ''} {verb}"
        if self.kind == "train" and self.score_name is not None:
            label = "R²" if self.score_name == "r2" else "acc."
            return f"{label} {_num(self.score, '.2f')}  cost {_num(self.cost)}"
        return "-"


def list_runs(root: str | Path, name: str | None = None, kind: str | None = None) -> list[RunInfo]:
    """The runs in `root`, newest first; `name` keeps names containing it (any case), `kind` one kind.

    Every visible subdirectory is listed: one that is not a readable run as kind 'unreadable'.
    Raises UserError for a root that is missing, not a directory, or a run itself, and an unknown kind.
    """
    root = Path(root)
    if kind is not None and kind not in (*KINDS, UNREADABLE):
        raise UserError(did_you_mean("run kind", kind, (*KINDS, UNREADABLE)))
    if not root.exists():
        raise UserError(f"{root}: no such directory")
    if not root.is_dir():
        raise UserError(f"{root}: not a directory; give the folder that holds run directories (e.g. runs)")
    try:
        check_files(root)
        own = run_kind(root)
    except UserError:
        own = None
    if own is not None:
        raise UserError(f"{root} is a {own} run, not a folder of runs; see it with: relu-lab runs show {root}")
    try:
        folders = [p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")]
    except OSError as err:
        raise UserError(f"{root}: cannot list the directory: {err.strerror or err}") from None
    infos = [_read_or_unreadable(p) for p in folders]
    if name is not None:
        infos = [i for i in infos if name.lower() in i.path.name.lower() or name.lower() in i.name.lower()]
    if kind is not None:
        infos = [i for i in infos if i.kind == kind]
    return sorted(infos, key=lambda i: (i.date or datetime.min, i.path.name), reverse=True)


def read_run(path: str | Path) -> RunInfo:
    """A run directory's kind, status and headline figures; raises UserError if it is not a run."""
    path = Path(path)
    check_files(path)
    if (path / "claims.json").is_file() and not (path / "config.yaml").exists():
        return _read_check(path)
    if (path / "config.yaml").is_file() and not any((path / name).exists() for name in RESULT_FILES):
        raise _Started(f"{path}: {STARTED}")
    info = RunInfo(path, run_date(path), STAMP.sub("", path.name, count=1), run_kind(path))
    if not (path / "summary.json").exists():  # a train run still going, or killed before it could write one
        info.error = "no summary.json yet: still running, or stopped hard"
        return info
    info.summary = summary = read_json(path / "summary.json")
    info.name = str(summary.get("name") or info.name)
    info.status = summary.get("status") if isinstance(summary.get("status"), str) else None
    if info.kind == "train":
        final = _mapping(summary.get("final"))
        info.members = info.members_done = 1
        info.score_name = score_key(final)
        info.score, info.cost = _figure(final.get(info.score_name)), _figure(final.get("cost"))
        return info
    info.grid = read_json(path / "grid.json")
    info.members, info.members_done = _count(summary.get("members")), _count(summary.get("members_done"))
    best = _mapping(summary.get("best"))  # the best summary.csv row; null while no grid point has finished
    if best:
        info.point = ", ".join(f"{k.rsplit('.', 1)[-1]}={short_value(_value(best.get(k)))}" for k in _axes(info))
        info.success = _figure(best.get("success_rate"))
        info.score_name = score_key(best)
        info.score, info.cost = _figure(best.get(f"{info.score_name}_median")), _figure(best.get("cost_median"))
    return info


def _read_check(path: Path) -> RunInfo:
    """A `relu-lab check` directory: its claims.json, one claim a member, the overall verdict as status."""
    # named after its claims (<stamp>-check-<name>; "check" alone for one written before relu-lab named them)
    info = RunInfo(path, run_date(path), STAMP.sub("", path.name, count=1).removeprefix("check-"), "check")
    info.summary = read_json(path / "claims.json")
    verdicts = {c.get("verdict") for c in info.claims}
    info.status = "fails" if "fails" in verdicts else "inconclusive" if "inconclusive" in verdicts else "holds"
    if info.summary.get("status") in ("interrupted", "failed"):  # stopped before its last claim: no overall verdict
        info.status = info.summary["status"]
    not_judged = [n for n in _sequence(info.summary.get("not_judged")) if isinstance(n, str)]
    info.members_done = len(info.claims)
    info.members = info.members_done + len(not_judged)
    return info


class _Started(UserError):
    """A run directory with its config.yaml and nothing else: killed before its first log (or just started)."""


_FILE_TYPES = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISDIR, "a directory"), (stat.S_ISCHR, "a character device"),
               (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def check_files(run_dir: Path) -> None:
    """Raise UserError for a file of READ_FILES in run_dir that must not be opened: one that is not a
    regular file (a FIFO blocks the reader forever, a device never ends) or one larger than
    MAX_RUN_FILE_BYTES (read whole, it would fill the memory). Missing files are left to the reader."""
    for name in READ_FILES:
        file = run_dir / name
        try:
            st = file.stat()  # follows a symbolic link: what it points to is what would be read
        except FileNotFoundError:
            continue
        except OSError as err:
            raise UserError(f"{file}: cannot look at the file: {err.strerror or err}") from None
        if not stat.S_ISREG(st.st_mode):
            what = next((text for test, text in _FILE_TYPES if test(st.st_mode)), "not a file")
            raise UserError(f"{file}: not a regular file ({what}), not opened; a run's {name} is a plain file")
        if st.st_size > MAX_RUN_FILE_BYTES:
            raise UserError(f"{file}: {size_text(st.st_size)} ({st.st_size:,} bytes), not read; a run's files "
                            f"are at most {size_text(MAX_RUN_FILE_BYTES)} here")


def _read_or_unreadable(path: Path) -> RunInfo:
    try:
        return read_run(path)
    except _Started:
        return RunInfo(path, run_date(path), path.name, UNREADABLE, error=STARTED)
    except Exception as err:  # whatever a folder holds, the listing goes on
        error = str(err) if isinstance(err, UserError) else f"{type(err).__name__}: {err}"
        return RunInfo(path, run_date(path), path.name, UNREADABLE, error=error)


def run_date(path: Path) -> datetime | None:
    """When a run started: the stamp in its name, else the directory's modification time."""
    match = STAMP.match(path.name)
    if match:
        try:
            return datetime.strptime(match.group(1), "%Y%m%d-%H%M%S")
        except ValueError:
            pass
    try:
        return datetime.fromtimestamp(path.stat().st_mtime)
    except OSError:
        return None


def runs_table(infos: list[RunInfo], title: str | None = None, empty: str = "no runs found") -> Table | Fitted:
    """The runs, one row each; a one-line table saying `empty` when there are none."""
    if not infos:
        table = Table.grid()
        table.add_row(Text(empty, style="dim"))
        return table
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for header in ("date", "name", "kind", "status", "members", "headline"):
        table.add_column(header, justify="right" if header == "members" else "left",
                         no_wrap=header not in ("name", "headline"))
    for i in infos:
        if i.error and i.headline == "-":
            headline = Text(i.error, style="red")
        else:
            headline = Text(i.headline)
        table.add_row(
            i.date.strftime("%Y-%m-%d %H:%M") if i.date else "-",
            Text(i.path.name),
            Text(i.kind, style="red" if i.kind == UNREADABLE else ""),
            _status(i.status),
            _members(i),
            headline,
        )
    lines = [Text(title, style="italic")] if title else []
    for i in infos:  # narrow: the date and the name (what `runs show` takes) whole on a line, the rest below
        date = i.date.strftime("%Y-%m-%d %H:%M") if i.date else "-"
        lines.append(Text(f"{date}  ").append(i.path.name, style="bold"))
        rest = i.error if i.error and i.headline == "-" else ", ".join(
            x for x in (i.kind, i.status or "-", _count_text(i), i.headline) if x != "-")
        lines.append(Text("    " + rest, style="red" if i.kind == UNREADABLE else ""))
    return Fitted(table, lines)


def show_run(path: str | Path) -> Group:
    """One run: kind, status, config essentials, results (for grids the summary.csv table), warnings, files."""
    info = read_run(path)
    s = info.summary
    rows: list[tuple[str, RenderableType]] = [("run", Text(str(info.path))), ("kind", Text(info.kind))]
    if info.kind == "check":
        rows.append(("status", Text(info.headline, style=STATUS_STYLE[info.status])))
        for c in info.claims:
            rows.append(("claim", Text(f"{_text(c.get('name'))}: ").append(_status(c.get("verdict")))
                         .append(f" ({_text(c.get('seeds'))} seeds; {_text(c.get('statement'))})", style="default")))
        not_judged = [str(n) for n in _sequence(s.get("not_judged"))]
        if not_judged:
            rows.append(("not judged", Text(f"{', '.join(not_judged)} ({info.status})", style="yellow")))
        rows.append(("files", Text(", ".join(_files(info.path)))))
        return Group(_fields(rows))
    status = _status(info.status)
    if info.kind == "train":
        status.append(f", {_text(s.get('epochs_done'))} of {_text(s.get('epochs'))} epochs", style="default")
        if s.get("diverged_epoch") is not None:
            status.append(f", diverged at epoch {s['diverged_epoch']}", style="default")
        rows += [("status", status), ("started", Text(f"{_text(s.get('started'))}, {_seconds(s)}, engine "
                                                      f"{_text(s.get('engine'))}"))]
    elif info.summary:
        status.append(f", {_text(info.members_done)} of {_text(info.members)} members", style="default")
        rows += [("status", status), ("finished", Text(f"{_text(s.get('finished'))}, {_seconds(s)}"))]
    rows += [(label, Text(value)) for label, value in config_essentials(info.path, _axes(info))]
    if info.kind == "train":
        rows += _train_results(s)
    else:
        rows += _grid_results(info)
    rows += [("warning", Text(str(w), style="yellow")) for w in _sequence(s.get("warnings"))]
    rows += [("note", Text(str(n), style="cyan")) for n in _sequence(s.get("engine_notes"))]
    if info.error:
        rows.append(("error", Text(info.error, style="red")))
    rows.append(("files", Text(", ".join(_files(info.path)))))
    parts: list[RenderableType] = [_fields(rows)]
    if info.kind in GRIDS and info.point is not None:
        parts.append(_summary_table(info.path))
    return Group(*parts)


def diff_runs(a: str | Path, b: str | Path) -> Group:
    """Two runs: each config key that differs ('key: A -> B'), then their results side by side."""
    runs = read_run(a), read_run(b)
    parts: list[RenderableType] = [_fields([(tag, Text(f"{i.path} ({i.kind}, {i.status or 'no status'})"))
                                            for tag, i in zip("AB", runs)])]
    configs = [read_yaml_or_none(i.path / "config.yaml") for i in runs]  # both saved resolved (a sweep: its base)
    unreadable = [f"{i.path / 'config.yaml'}" for i, c in zip(runs, configs) if not isinstance(c, dict)]
    parts.append(Text("\nconfig", style="bold"))
    if unreadable:
        parts.append(Text(f"cannot compare the configs: {', '.join(unreadable)} cannot be read", style="red"))
    else:
        changes = config_changes(*configs, *(_mapping(i.grid.get("axes")) for i in runs))
        parts.append(Text("\n".join(f"{key}: {_value(x)} -> {_value(y)}" for key, x, y in changes)
                          if changes else "configs are identical"))
    parts.append(Text("\nresults", style="bold"))
    figures = [results(i) for i in runs]
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for header in ("", "A", "B"):
        table.add_column(header)
    for key in dict.fromkeys([*figures[0], *figures[1]]):
        x, y = (f.get(key, "-") for f in figures)
        table.add_row(key, x, y, style="bold" if x != y else "dim")
    parts.append(table)
    return Group(*parts)


def flatten(tree: Any, prefix: str = "") -> dict[str, Any]:
    """Nested mappings and lists of mappings (train.phases) as dotted keys, {'train.phases.0.lr': 5};
    an empty one adds no key (phases: [] is no phases, like none given)."""
    if isinstance(tree, dict):
        items = [(str(k), v) for k, v in tree.items()]
    elif isinstance(tree, list) and all(isinstance(x, dict) for x in tree):
        items = [(str(k), v) for k, v in enumerate(tree)]
    else:
        return {prefix: tree}
    out: dict[str, Any] = {}
    for key, value in items:
        out |= flatten(value, f"{prefix}.{key}" if prefix else key)
    return out


def config_changes(a: dict[str, Any], b: dict[str, Any], axes_a: dict[str, list] | None = None,
                   axes_b: dict[str, list] | None = None) -> list[tuple[str, Any, Any]]:
    """(dotted key, value in a, value in b) for every key that differs; ABSENT where a side lacks it. A key
    that a side's grid varies (axes_a, axes_b: grid.json's axes) is compared as a whole, as 'varied by the
    grid: v1, v2' on that side: its base value in config.yaml is not what its members ran with."""
    fa, fb = flatten(a), flatten(b)
    for key in dict.fromkeys([*(axes_a or {}), *(axes_b or {})]):
        for flat, axes in ((fa, axes_a or {}), (fb, axes_b or {})):
            inside = {k: flat.pop(k) for k in list(flat) if k == key or k.startswith(key + ".")}
            if key in axes and isinstance(axes[key], list) and len(axes[key]) == 1:  # held at one value
                flat[key] = axes[key][0]
            elif key in axes:
                flat[key] = f"varied by the grid: {_values(axes[key])}"
            elif inside:
                flat[key] = inside.get(key, {k.removeprefix(key + "."): v for k, v in inside.items()})
    return [(k, fa.get(k, ABSENT), fb.get(k, ABSENT)) for k in dict.fromkeys([*fa, *fb])
            if fa.get(k, ABSENT) != fb.get(k, ABSENT)]


def config_essentials(run_dir: Path, varied: list[str] = ()) -> list[tuple[str, str]]:
    """(label, value) for the dataset, layers, activations, loss, lr, epochs and phases of config.yaml.

    A key in `varied` (a grid axis) is marked so; train.lr and train.epochs are left out where the
    phases set their own.
    """
    cfg = read_yaml_or_none(run_dir / "config.yaml")
    if not isinstance(cfg, dict):
        return [("config", f"{run_dir / 'config.yaml'} cannot be read")]
    flat = flatten(cfg)
    phases = [_mapping(p) for p in _sequence(_mapping(cfg.get("train")).get("phases"))]
    unused = set()
    if phases and phases[0].get("lr") is not None:  # train.lr only starts the first phase
        unused.add("train.lr")
    if phases and all(p.get("epochs") is not None for p in phases):
        unused.add("train.epochs")
    out = []
    for label, keys in ESSENTIALS:
        key = next((k for k in keys if k in flat), None)
        if key is None or key in unused:
            continue
        value = flat[key]
        if value is None:
            text = "default"  # left to relu-lab: the task's usual output and loss
        elif key == "model.layers" and isinstance(value, list):
            text = "-".join(map(str, value))
        else:
            text = _value(value)
        out.append((label, text + (" (varied by the grid)" if key in varied else "")))
    train = _mapping(cfg.get("train"))

    def grid_says(key: str) -> str:
        return " (varied by the grid)" if any(v == key or v.startswith(key + ".") for v in varied) else ""

    if not (phases and all(p.get("optimizer") is not None for p in phases)):
        out.append(("optimizer", rule_text(train.get("optimizer")) + grid_says("train.optimizer")))
    if penalties_text(train):
        out.append(("penalties", penalties_text(train)))
    for n, phase in enumerate(phases):  # named as the grid keys name it: train.phases.0 is the first
        out.append((f"phase {n + 1} (train.phases.{n})", ", ".join(
            f"{k} {rule_text(v) if k == 'optimizer' else _value(v)}" + grid_says(f"train.phases.{n}.{k}")
            for k, v in phase.items() if v is not None)))
    return out


def results(info: RunInfo) -> dict[str, str]:
    """A run's result figures as text, for diff_runs: status, progress, final or best-point figures."""
    s = info.summary
    out = {"kind": info.kind, "status": info.status or "-"}
    if info.kind == "train":
        out["epochs"] = f"{_text(s.get('epochs_done'))} of {_text(s.get('epochs'))}"
        out |= {key: _num(_figure(v)) for key, v in _mapping(s.get("final")).items()}
        success = _mapping(s.get("success"))
        if success:
            out["success"] = "yes" if success.get("met") else "no"
    else:
        out["members"] = f"{_text(info.members_done)} of {_text(info.members)}"
        out |= {f"grid {key}": _values(values) for key, values in _mapping(info.grid.get("axes")).items()}
        out["seeds"] = _seeds(info.grid.get("seeds"))
        out["best point"] = info.point or "-"
        if info.success is not None:
            out["success rate"] = _pct(info.success)
        out["median cost"] = _num(info.cost)
        if info.score_name:
            out[f"median {info.score_name}"] = _num(info.score)
    out["seconds"] = _num(_figure(s.get("seconds")))
    return out


def _train_results(s: dict[str, Any]) -> list[tuple[str, Text]]:
    final = _mapping(s.get("final"))
    rows = [("final", Text(", ".join(f"{k} {_num(_figure(v), '.4g')}" for k, v in final.items()) or "-"))]
    success = _mapping(s.get("success"))
    if success:
        first = f" (first at epoch {success['first_epoch']})" if success.get("first_epoch") is not None else ""
        verdict = Text("yes" if success.get("met") else "no", style="green" if success.get("met") else "red")
        rows.append(("success", verdict + Text(f": {_text(success.get('criterion'))}{first}")))
    return rows


def _grid_results(info: RunInfo) -> list[tuple[str, Text]]:
    axes = _mapping(info.grid.get("axes"))
    rows = [(f"grid {key}", Text(_values(values))) for key, values in axes.items()]
    rows.append(("seeds", Text(_seeds(info.grid.get("seeds")))))
    best = _mapping(info.summary.get("best"))
    if not best:
        rows.append(("best", Text("-  (no grid point has finished)")))
        return rows
    figures = []
    if info.success is not None:
        low, high = _figure(best.get("success_low")), _figure(best.get("success_high"))
        figures.append(f"success {_pct(info.success)} [{_pct(low)}-{_pct(high)}]")
    figures.append(f"median cost {_num(info.cost)}")
    figures.append(f"median {info.score_name} {_num(info.score)}")
    rows.append(("best", Text(f"{info.point}: {', '.join(figures)}")))
    if info.kind == "compare" and len(axes) > 1:
        try:
            g = SweepDir(info.path)
            picks = [f"{name} at {_point(g, row)}" for name, row in compare_choices(g)]
            rows.append(("per activation", Text("; ".join(picks))))
        except UserError as err:
            rows.append(("per activation", Text(str(err), style="red")))
    return rows


def _point(g: SweepDir, row: dict[str, str]) -> str:
    """A compare's grid point without the activation, with its success rate or median cost."""
    where = ", ".join(f"{k.rsplit('.', 1)[-1]}={short_value(row[k])}" for k in g.keys if k != compare_key(g))
    figure = (f"success {_pct(_figure(row.get('success_rate')))}" if g.has_success
              else f"median cost {_num(_figure(row.get('cost_median')))}")
    return f"{where} ({figure})"


def _summary_table(run_dir: Path) -> RenderableType:
    """summary.csv as the sweep command prints it, the best point starred."""
    try:
        g = SweepDir(run_dir)
    except UserError as err:
        return Text(str(err), style="red")
    rows = [{k: v if k in g.keys else _cell(v) for k, v in row.items()} for row in g.summary]
    try:
        return sweep_table("summary.csv", g.keys, rows, g.summary.index(g.best()))
    except (KeyError, TypeError, ValueError) as err:  # a column missing or a cell empty that should not be
        return Text(f"{run_dir / 'summary.csv'}: cannot show the table ({type(err).__name__}: {err})", style="red")


def _cell(text: str | None) -> int | float | None:
    """A summary.csv figure as sweep_table expects it: int, float, or None for an empty cell."""
    if text is None or text == "":
        return None
    try:
        return int(text)
    except ValueError:
        return cell_float(text)


def _fields(rows: list[tuple[str, RenderableType]]) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")  # a long path folds onto more lines in a narrow terminal, never cut
    for label, value in rows:
        table.add_row(label, value)
    return table


def _files(run_dir: Path) -> list[str]:
    try:
        return sorted(p.name + ("/" if p.is_dir() else "") for p in run_dir.iterdir())
    except OSError as err:
        return [f"(cannot list: {err.strerror or err})"]


def _axes(info: RunInfo) -> list[str]:
    return list(_mapping(info.grid.get("axes")))


def _status(status: str | None) -> Text:
    return Text(status or "-", style=STATUS_STYLE.get(status or "", "dim"))


def _count_text(info: RunInfo) -> str:
    """'1 member', '24 members', '2 claims' (a check's members are its claims); '-' when unknown."""
    n = _members(info)
    if n == "-":
        return n
    noun = "claim" if info.kind == "check" else "member"
    return f"{n} {noun}{'' if n == '1' else 's'}"


def _members(info: RunInfo) -> str:
    if info.members is None:
        return "-"
    if info.members_done is None or info.members_done == info.members:
        return str(info.members)
    return f"{info.members_done}/{info.members}"


def _mapping(x: Any) -> dict[str, Any]:
    return x if isinstance(x, dict) else {}


def _sequence(x: Any) -> list[Any]:
    return x if isinstance(x, list) else []


def _figure(x: Any) -> float | None:
    """A finite number from JSON or a CSV cell, else None."""
    v = math.nan if isinstance(x, bool) else cell_float(x)
    return v if math.isfinite(v) else None


def _count(x: Any) -> int | None:
    return x if isinstance(x, int) and not isinstance(x, bool) else None


def _num(x: float | None, spec: str = ".3g") -> str:
    return "-" if x is None else format(x, spec)


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.0f}%"


def _text(x: Any) -> str:
    return "-" if x is None else str(x)


def _seconds(s: dict[str, Any]) -> str:
    seconds = _figure(s.get("seconds"))
    return "-" if seconds is None else f"{seconds:.2f} s"


def _value(v: Any) -> str:
    """A config value as YAML would spell it: relu, 0.5, null, [2, 8, 1]."""
    return v if isinstance(v, str) else json.dumps(v)


def _values(values: Any) -> str:
    if not isinstance(values, list):
        return _value(values)
    return ", ".join(short_value(_value(v)) for v in values)


def _seeds(seeds: Any) -> str:
    """'0..31 (32)' for a run of consecutive seeds, else the list."""
    if not isinstance(seeds, list) or not seeds:
        return "-"
    if all(isinstance(s, int) for s in seeds) and seeds == list(range(seeds[0], seeds[0] + len(seeds))):
        return f"{seeds[0]}..{seeds[-1]} ({len(seeds)})" if len(seeds) > 1 else str(seeds[0])
    return ", ".join(map(str, seeds))
