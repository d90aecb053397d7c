"""relu-lab from Python: `relu_lab.train`, `sweep`, `compare` and `check`.

Each takes a config (a YAML path, a dict, or a Config) and overrides ({"train.lr": 0.5}),
trains exactly as the command line does, and returns plain result objects. Files are
written only with `out=`: without it the run goes to a temporary directory that is read
back and removed. A user's activation may be given as Python functions:
`custom_activations={"mine": (f, df)}` names it "mine" for `model.hidden`.

    run = relu_lab.train("configs/xor_relu.yaml", {"train.epochs": 500})
    run.summary["final"]["accuracy"], run.history[-1]["cost"]
    grid = relu_lab.sweep("configs/xor_relu.yaml", lr=[0.1, 1.0], seeds=8)
    grid.summary[0]["success_rate"]; grid.frame("members")   # a pandas DataFrame, when pandas is installed
"""

from __future__ import annotations

import math
import sys
import tempfile
import types
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .config import Config
from .errors import UserError
from .loading import config_from_dict, load_config
from .runfiles import read_json, read_rows, row_chunks

ConfigLike = str | Path | Mapping | Config
USER_MODULE = "relu_lab._user_activations"  # where activations given as Python functions are found


class History(Sequence):
    """A train run's metrics.csv as a sequence of dicts, one per logged epoch ({column: int, float or None},
    as _number reads each cell), kept as a NumPy array per column: 8 bytes a cell rather than a dict of
    Python objects per row (a million-row log is ~100 MB, not ~1.5 GB). A row's dict is made when it is
    asked for; `history == [...]` compares row by row; `list(history)` makes every dict at once."""

    def __init__(self, path: Path):
        header, chunks = row_chunks(path, fast=_fast_chunk)
        self.columns: list[str] = list(dict.fromkeys(header))
        where = {name: i for i, name in enumerate(header)}  # a repeated name: the last one, as DictReader
        parts: dict[str, list[np.ndarray]] = {k: [] for k in self.columns}
        self._n = 0
        width = len(header)
        for chunk in chunks:
            if isinstance(chunk, list):  # rows of cells: each column typed cell by cell where it must be
                self._n += len(chunk)
                if all(len(r) == width for r in chunk):
                    by_column = list(zip(*chunk))
                else:  # a short row's missing cells are None, as csv.DictReader gives them; extra cells are left out
                    by_column = [[r[i] if i < len(r) else None for r in chunk] for i in range(width)]
                del chunk
                typed = [_typed(c) for c in by_column]
            else:  # _fast_chunk's columns (a tuple), already typed
                typed = chunk
                self._n += len(typed[0])
            for key in self.columns:
                parts[key].append(typed[where[key]])
        self._cols = {k: _joined(parts.pop(k)) for k in list(parts)}  # a column at a time: no second copy of all

    def __len__(self) -> int:
        return self._n

    def _row(self, i: int) -> dict[str, Any]:
        out = {}
        for k, col in self._cols.items():
            v = col[i]
            if col.dtype.kind == "f":
                v = float(v) if math.isfinite(v) else None
            elif col.dtype.kind == "i":
                v = int(v)
            out[k] = v
        return out

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self._row(j) for j in range(*i.indices(self._n))]
        if not -self._n <= i < self._n:
            raise IndexError("history index out of range")
        return self._row(i % self._n)

    def __iter__(self):
        return (self._row(i) for i in range(self._n))

    def __eq__(self, other) -> bool:
        if isinstance(other, History):
            return self.columns == other.columns and all(
                np.array_equal(self._cols[k], other._cols[k], equal_nan=self._cols[k].dtype.kind == "f")
                if self._cols[k].dtype == other._cols[k].dtype else list(self._cols[k]) == list(other._cols[k])
                for k in self.columns) and len(self) == len(other)
        if isinstance(other, (list, tuple)):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other))
        return NotImplemented

    __hash__ = None

    def __repr__(self) -> str:
        return f"History({self._n} rows: {', '.join(self.columns)})"

    def column(self, key: str) -> np.ndarray:
        """One column as an array (floats with NaN where the cell is None; ints as int64)."""
        return self._cols[key]

    def frame(self):
        try:
            import pandas as pd
        except ImportError:
            raise ImportError("frame() needs pandas, which relu-lab does not install: pip install pandas") from None
        return pd.DataFrame(dict(self._cols), columns=self.columns)


_MARKS = np.frombuffer(b".eEnNiI", dtype=np.uint8)  # in a float's text (0.5, 1e-05, nan, inf), never in an int's


def _fast_chunk(lines: list[str], width: int) -> tuple[np.ndarray, ...] | None:
    """Plain numeric lines (no quotes, blank lines gone) as typed columns, in C: numpy's parser reads the
    numbers (float() of each cell) and one pass over the bytes tells, per cell, an int's text (no '.',
    'e', 'n', 'i') from a float's. A column of ints is int64, of floats float64 (NaN for non-finite, which
    _number reads as None); None when a chunk is anything else (an empty cell, a word, a short row, a
    column mixing ints and floats): then it is read cell by cell."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            values = np.loadtxt(lines, delimiter=",", ndmin=2, comments=None, dtype=np.float64, encoding=None)
    except (ValueError, UserWarning):
        return None
    if values.shape != (len(lines), width):
        return None
    raw = np.frombuffer("".join(lines).encode("utf-8"), dtype=np.uint8)
    cr = raw == 13
    ends = (raw == 44) | (raw == 10)  # ',' or '\n': each cell ends with one
    if int(ends.sum()) != len(lines) * width or raw[-1] != 10:
        return None
    cell = np.cumsum(ends, dtype=np.int32) - ends  # the cell each byte belongs to
    marked = np.bincount(cell[np.isin(raw, _MARKS) & ~cr], minlength=len(lines) * width).reshape(-1, width) > 0
    out = []
    for j in range(width):
        column = values[:, j]
        if marked[:, j].all():
            column = column.copy()
            column[~np.isfinite(column)] = np.nan
        elif not marked[:, j].any() and np.all(np.abs(column) < 2.0**53):
            column = column.astype(np.int64)
        else:
            return None
        out.append(column)
    return tuple(out)


def _typed(cells) -> np.ndarray:
    """A chunk of one column's cells as _number reads them: int64 when every cell is an int, float64
    (NaN for None: '' and non-finite) when every cell is a float or empty, else objects, cell by cell."""
    try:
        return np.array(cells, dtype=np.int64)  # int() of each cell
    except (ValueError, TypeError, OverflowError):
        pass
    try:
        values = np.array(cells, dtype=np.float64)  # float() of each cell
    except (ValueError, TypeError):
        values = None
    if values is not None:
        text = np.array(cells, dtype=str)
        marked = np.zeros(len(cells), dtype=bool)  # a float's text, not an int's: 0.5, 1e-05, nan, inf
        for mark in ".eEnNiI":
            marked |= np.strings.find(text, mark) >= 0
        if marked.all():
            values[~np.isfinite(values)] = np.nan
            return values
    values = [_number(c) for c in cells]  # an int among floats, an empty cell, a word: cell by cell
    if all(v is None or type(v) is float for v in values):
        return np.array([math.nan if v is None else v for v in values], dtype=np.float64)
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _joined(parts: list[np.ndarray]) -> np.ndarray:
    if not parts:
        return np.zeros(0, dtype=object)
    kinds = {p.dtype.kind for p in parts}
    if len(kinds) == 1:
        return np.concatenate(parts)
    out = np.empty(sum(len(p) for p in parts), dtype=object)
    at = 0
    for p in parts:
        out[at:at + len(p)] = [None if isinstance(v, float) and not math.isfinite(v) else v
                               for v in p.tolist()]
        at += len(p)
    return out


@dataclass
class Run:
    """A train run: its summary (as summary.json), its history (a dict per logged epoch)."""

    summary: dict[str, Any]
    history: History | list[dict[str, float]]  # a History: a dict per logged row, kept as columns
    config: dict[str, Any]
    run_dir: Path | None = None  # None: nothing was kept on disk

    def to_dict(self) -> dict[str, Any]:
        return {"summary": self.summary, "history": list(self.history), "config": self.config,
                "run_dir": str(self.run_dir) if self.run_dir else None}

    def frame(self):
        """The history as a pandas DataFrame (pandas is not a dependency of relu-lab), made from its columns."""
        if isinstance(self.history, History):
            return self.history.frame()
        return _frame(self.history)


@dataclass
class Grid:
    """A sweep or compare: a row per member (as members.csv), a row per grid point (as summary.csv)."""

    kind: str
    members: list[dict[str, Any]]
    summary: list[dict[str, Any]]
    info: dict[str, Any]  # as summary.json: status, best point, timings
    run_dir: Path | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "members": self.members, "summary": self.summary, "info": self.info,
                "run_dir": str(self.run_dir) if self.run_dir else None}

    def frame(self, which: str = "summary"):
        """'summary' or 'members' as a pandas DataFrame."""
        if which not in ("summary", "members"):
            raise ValueError(f"frame: 'summary' or 'members', not {which!r}")
        return _frame(self.summary if which == "summary" else self.members)


@dataclass
class Checked:
    """The verdicts of `check`: one per claim judged, each with its measured figures. An interrupted check
    (Ctrl-C) has status "interrupted", no verdict for the claims in not_judged, and all_hold False."""

    claims: list[dict[str, Any]] = field(default_factory=list)
    run_dir: Path | None = None
    status: str = "completed"  # or "interrupted"
    not_judged: list[str] = field(default_factory=list)  # the names of the claims without a verdict

    @property
    def all_hold(self) -> bool:
        return self.status == "completed" and all(c["verdict"] == "holds" for c in self.claims)

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "claims": self.claims, "not_judged": self.not_judged,
                "all_hold": self.all_hold, "run_dir": str(self.run_dir) if self.run_dir else None}

    def rows(self) -> list[dict[str, Any]]:
        """A row per measured figure: the claim (name, its verdict) beside the figure, its interval and verdict."""
        return [{"claim": c["name"], "claim_verdict": c["verdict"], "seeds": c["seeds"]} | m
                for c in self.claims for m in c["measured"]]

    def frame(self):
        """rows() as a pandas DataFrame."""
        return _frame(self.rows())


def train(config: ConfigLike, overrides: Mapping[str, Any] | None = None, *, out: str | Path | None = None,
          custom_activations: Mapping[str, tuple[Callable, Callable]] | None = None) -> Run:
    """Train one run of `config` with `overrides`; see the module's docstring."""
    from .run import train_run

    cfg, source, base = _config(config, overrides, custom_activations)
    with _place(out) as where:
        report = train_run(cfg, where, source=source, base_dir=base)
        history = History(report.run_dir / "metrics.csv")
        return Run(read_json(report.run_dir / "summary.json"), history, report.config.model_dump(mode="json"),
                   report.run_dir if out is not None else None)


def sweep(config: ConfigLike, overrides: Mapping[str, Any] | None = None, *, lr: Any = None, seeds: Any = None,
          params: Mapping[str, list] | None = None, out: str | Path | None = None,
          custom_activations: Mapping[str, tuple[Callable, Callable]] | None = None) -> Grid:
    """A sweep over `lr` (a list, or 'lo:hi:n'), `seeds` (a count, a list or 'a:b') and `params` ({key: [values]})."""
    return _grid("sweep", config, overrides, lr, seeds, params, None, out, custom_activations)


def compare(config: ConfigLike, overrides: Mapping[str, Any] | None = None, *, activations: list[str] | None = None,
            lr: Any = None, seeds: Any = None, out: str | Path | None = None,
            custom_activations: Mapping[str, tuple[Callable, Callable]] | None = None) -> Grid:
    """The same config over hidden `activations` (all registered by default), optionally over `lr`."""
    return _grid("compare", config, overrides, lr, seeds, None, activations, out, custom_activations)


def check(config: ConfigLike, overrides: Mapping[str, Any] | None = None, *, seeds: int | None = None,
          out: str | Path | None = None) -> Checked:
    """Measure and judge the config's `claim:` block (see relu-lab check)."""
    from . import claims
    from .rundir import new_run_dir

    cfg, source, base = _config(config, overrides, None)
    with _place(out) as where:
        check_dir = new_run_dir(where, "check")
        try:
            verdict = claims.check(cfg, check_dir, seeds, source, base)
        except KeyboardInterrupt as stop:  # as train and sweep do: what was done is kept and said, not judged
            if not isinstance(stop, claims.CheckInterrupted):
                stop = claims.CheckInterrupted(cfg.name, "", {})
            claims.write_report(check_dir, [], [cfg.name], interrupted=stop)
            return Checked([], check_dir if out is not None else None, "interrupted", [cfg.name])
        claims.write_report(check_dir, [verdict])
        claim = verdict.to_dict()
        if out is None:  # the settings' sweeps were in the temporary directory, now gone
            claim["runs"] = {}
        return Checked([claim], check_dir if out is not None else None)


def _grid(kind, config, overrides, lr, seeds, params, activations, out, custom) -> Grid:
    from .grid import run_sweep
    from .plan import grid_from, plan_sweep

    cfg, source, base = _config(config, overrides, custom)
    lr_text = ",".join(map(str, lr)) if isinstance(lr, (list, tuple)) else (None if lr is None else str(lr))
    seed_text = ",".join(map(str, seeds)) if isinstance(seeds, (list, tuple)) else seeds
    param_items = [f"{k}={','.join(map(_yaml, v))}" for k, v in (params or {}).items()]
    axes, seed_list = grid_from(cfg, lr_text, seed_text, param_items, activations, compare=kind == "compare")
    plan = plan_sweep(cfg, axes, seed_list, source, base)
    with _place(out) as where:
        report = run_sweep(plan, where, kind=kind)
        members = [{k: _number(v) for k, v in r.items()} for r in read_rows(report.run_dir / "members.csv")]
        summary = [{k: _number(v) for k, v in r.items()} for r in read_rows(report.run_dir / "summary.csv")]
        return Grid(kind, members, summary, read_json(report.run_dir / "summary.json"),
                    report.run_dir if out is not None else None)


def _config(config: ConfigLike, overrides: Mapping[str, Any] | None, custom) -> tuple[Config, str, Path | None]:
    """(Config, source label, folder a user's module is found in) from a path, a mapping or a Config."""
    items = [f"{k}={_yaml(v)}" for k, v in (overrides or {}).items()]
    if custom:
        items += _register(custom)
    if isinstance(config, Config):
        raw = config.model_dump(mode="json", exclude_none=True)
        return config_from_dict(raw, "config", items), "config", None
    if isinstance(config, Mapping):
        return config_from_dict(dict(config), "config", items), "config", None
    path = Path(config)
    return load_config(path, items), str(path), path.parent


def _register(custom: Mapping[str, tuple[Callable, Callable]]) -> list[str]:
    """Put a user's (f, df) pairs where a config can name them; the overrides that name them."""
    module = sys.modules.setdefault(USER_MODULE, types.ModuleType(USER_MODULE))
    items = []
    for name, pair in custom.items():
        if not (isinstance(pair, tuple) and len(pair) == 2 and all(callable(g) for g in pair)):
            raise UserError(f"custom_activations['{name}']: expected a pair of functions (f, df)")
        setattr(module, f"{name}_f", pair[0])
        setattr(module, f"{name}_df", pair[1])
        items.append(f"model.custom_activations.{name}={{f: '{USER_MODULE}:{name}_f', df: '{USER_MODULE}:{name}_df'}}")
    return items


@contextmanager
def _place(out: str | Path | None) -> Iterator[Path]:
    """Where a run is written: `out`, or a temporary directory that is removed afterwards."""
    if out is not None:
        yield Path(out)
        return
    with tempfile.TemporaryDirectory(prefix="relu-lab-") as tmp:
        yield Path(tmp)


def _yaml(value: Any) -> str:
    import json

    return value if isinstance(value, str) else json.dumps(value)


def _number(text: Any) -> Any:
    """A CSV cell as an int or float when it is one; None for a figure that was not computed ('') or
    that is not a number (nan, inf: a run that diverged), so that to_dict() stays strict JSON."""
    if text in ("", None):
        return None
    for kind in (int, float):
        try:
            value = kind(text)
        except (TypeError, ValueError):
            continue
        return value if math.isfinite(value) else None
    return text


def _frame(rows: list[dict[str, Any]]):
    try:
        import pandas as pd
    except ImportError:
        raise ImportError("frame() needs pandas, which relu-lab does not install: pip install pandas") from None
    return pd.DataFrame(rows)
