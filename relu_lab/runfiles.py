"""Reading run directories (no matplotlib): what kind a directory is, and a sweep's files.

The plots, report.md and the command line read runs through these; importing this module does not
load matplotlib, so commands that only read or write files stay quick.
"""

from __future__ import annotations

import csv
import itertools
import json
import math
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from .errors import UserError

SWEEP_PLOTS = ("sweep.png", "sweep_heatmap.png", "compare_curves.png", "compare_success.png", "compare_cost.png",
               "depth.png")


def read_rows(path: Path) -> list[dict[str, str]]:
    """The rows of a CSV file with a header, as strings; raises UserError."""
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            rows = list(reader)
            if reader.fieldnames is None:
                raise UserError(f"{path}: the file is empty (no header row)")
            return rows
    except FileNotFoundError:
        raise UserError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise UserError(f"{path}: cannot read the CSV file: {getattr(err, 'strerror', None) or err}") from None


def _csv_error(path: Path, err: Exception) -> UserError:
    if isinstance(err, FileNotFoundError):
        return UserError(f"{path}: no such file")
    return UserError(f"{path}: cannot read the CSV file: {getattr(err, 'strerror', None) or err}")


def iter_rows(path: Path) -> Iterator[dict[str, str]]:
    """The rows of a CSV file with a header, as read_rows gives them, one at a time (a metrics.csv of
    a million rows is never held whole); raises UserError, for an empty file before the first row."""
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            if reader.fieldnames is None:
                raise UserError(f"{path}: the file is empty (no header row)")
            yield from reader
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise _csv_error(path, err) from None


def read_header(path: Path) -> list[str]:
    """A CSV file's header row (empty for an empty file); raises UserError."""
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            return next(csv.reader(fh), None) or []
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise _csv_error(path, err) from None


def same_columns(path: Path, columns: list[str], what: str) -> None:
    """Refuse to go on writing a CSV log whose header is not `columns` (a run started by a relu-lab that
    logged other figures): its old rows would sit under the new header, misread. A missing file passes."""
    if not path.is_file():
        return
    have = read_header(path)
    if have and have != columns:  # an empty file is a damaged log, which the resume's own checks name
        new = [c for c in columns if c not in have]
        gone = [c for c in have if c not in columns]
        diff = "; ".join(part for part in (f"new: {', '.join(new[:6])}{' ...' if len(new) > 6 else ''}" if new else "",
                                            f"no longer: {', '.join(gone[:6])}" if gone else "") if part)
        raise UserError(f"{what}: {path.name} has other columns than this relu-lab logs ({diff or 'another order'}): "
                        "the run was started by another version; finish it with that version, or start it again")


def row_chunks(path: Path, fast=None) -> tuple[list[str], Iterator[Any]]:
    """A CSV file's header and its rows (as csv.reader gives them, blank lines skipped) a chunk of
    CHUNK_BYTES at a time, for readers that keep less than the rows; raises UserError. `fast(lines,
    width)`: tried first on a chunk without quotes (its lines, blank ones left out); what it returns
    instead of None is yielded in place of that chunk's rows."""
    try:
        fh = open(path, newline="", encoding="utf-8")
    except OSError as err:
        raise _csv_error(path, err) from None
    try:
        header = next(csv.reader(fh), None)
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        fh.close()
        raise _csv_error(path, err) from None
    if header is None:
        fh.close()
        raise UserError(f"{path}: the file is empty (no header row)")

    def chunks() -> Iterator[list[list[str]]]:
        try:
            with fh:
                while lines := fh.readlines(CHUNK_BYTES):
                    if any('"' in line for line in lines):  # quoted cells (may hold newlines): the csv module
                        chunk: list[list[str]] = []
                        for row in csv.reader(itertools.chain(lines, fh)):
                            if row:
                                chunk.append(row)
                            if len(chunk) == 65536:
                                yield chunk
                                chunk = []
                        if chunk:
                            yield chunk
                        return
                    lines = [line for line in lines if line not in ("\n", "\r\n", "\r")]
                    if not lines:
                        continue
                    done = fast(lines, len(header)) if fast is not None else None
                    if done is not None:
                        yield done
                        continue
                    # no quotes: a line's cells are its text split at commas, as csv.reader splits it
                    yield [line.rstrip("\r\n").split(",") for line in lines]
        except (OSError, UnicodeDecodeError, csv.Error) as err:
            raise _csv_error(path, err) from None

    return header, chunks()


CHUNK_BYTES = 2 * 2**20  # read_columns and row_chunks parse this much of a file at a time (~15k metrics rows)


def read_columns(path: Path, keys: Iterable[str] | None = None) -> dict[str, np.ndarray]:
    """Columns of a CSV file with a header as float arrays, each cell as cell_float reads it (NaN for '',
    a short row's missing cells and unreadable ones), parsed CHUNK_BYTES at a time (row_chunks): 8 bytes
    a cell kept, not a dict of strings per row. `keys`: only these columns (those absent from the header
    are left out); default all, in header order. Blank lines are skipped, as csv.DictReader does. Plain
    numeric chunks go through numpy's C parser; a chunk it refuses (an empty cell, a short row, a word)
    is read by the csv module, and from the first double quote on the rest of the file is; raises UserError."""
    header, chunks = row_chunks(path, fast=lambda lines, width: _numbers(lines, [where[k] for k in wanted]))
    where = {name: i for i, name in enumerate(header)}  # a repeated name: the last one, as DictReader
    wanted = list(dict.fromkeys(k for k in (header if keys is None else keys) if k in where))
    parts: dict[str, list[np.ndarray]] = {k: [] for k in wanted}
    for chunk in chunks:
        if isinstance(chunk, np.ndarray):  # numpy parsed it: a column per wanted key
            for j, key in enumerate(wanted):
                parts[key].append(chunk[:, j].copy())
        else:
            _parse_rows(chunk, wanted, where, parts)
    return {k: _concatenate(parts.pop(k)) for k in list(parts)}  # one column at a time: no second copy of all


def _concatenate(chunks: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(chunks) if chunks else np.zeros(0)


def _numbers(lines: list[str], columns: list[int]) -> np.ndarray | None:
    """The `columns` of plain numeric CSV lines (no blank ones) as a (lines, columns) array, by numpy's
    C parser; None when it refuses them (an empty cell, a short row, a word)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # "input contained no data" and the like: read it the slow way
            values = np.loadtxt(lines, delimiter=",", usecols=columns, ndmin=2, comments=None, dtype=np.float64,
                                encoding=None)
    except (ValueError, UserWarning):
        return None
    return values if len(values) == len(lines) else None


def _parse_rows(chunk: list[list[str]], wanted: list[str], where: dict[str, int],
                parts: dict[str, list[np.ndarray]]) -> None:
    if not chunk:
        return
    for key in wanted:
        i = where[key]
        try:
            values = np.array([row[i] for row in chunk], dtype=np.float64)  # float() of each cell
        except (IndexError, ValueError):  # a short row or a cell that is no number: cell by cell
            values = np.fromiter((cell_float(row[i] if i < len(row) else None) for row in chunk), np.float64,
                                 len(chunk))
        parts[key].append(values)


def read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise UserError(f"{path}: cannot read the JSON file: {getattr(err, 'strerror', None) or err}") from None
    if not isinstance(data, dict):
        raise UserError(f"{path}: expected a JSON object, got {type(data).__name__}")
    return data


def cell_float(text: Any) -> float:
    """A CSV cell as a float: '' and unreadable cells are NaN."""
    try:
        return float(text)
    except (TypeError, ValueError):
        return math.nan


def score_key(keys: Iterable[str]) -> str:
    return "r2" if "r2" in keys or "r2_median" in keys else "accuracy"


def varies_loss(keys: Iterable[str]) -> bool:
    """Whether a grid varies the loss: then its points' costs are in different units and do not compare."""
    return any(k == "loss" or k.startswith("loss.") for k in keys)


def best_rank(row: dict[str, Any]) -> tuple[float, float]:
    """How a summary row ranks for "best" (smaller first): the highest success rate, ties broken by the lowest
    median cost, or by the highest median score (accuracy, R^2) when the grid varies the loss. Typed rows and
    summary.csv's text cells alike; a figure that is not finite ranks last."""
    rate = cell_float(row.get("success_rate"))
    rate = rate if math.isfinite(rate) else 0.0
    if varies_loss(row):
        score = cell_float(row.get(f"{score_key(row)}_median"))
        return -rate, -score if math.isfinite(score) else math.inf
    cost = cell_float(row.get("cost_median"))
    return -rate, cost if math.isfinite(cost) else math.inf


class SweepDir:
    """The files of a sweep/compare directory, read once."""

    def __init__(self, run_dir: Path):
        self.dir = run_dir
        self.info = read_json(run_dir / "summary.json")
        self.kind = self.info.get("kind")
        grid = read_json(run_dir / "grid.json")
        axes = grid.get("axes")
        if not isinstance(axes, dict):
            raise UserError(f"{run_dir / 'grid.json'}: no 'axes' mapping")
        self.keys: list[str] = list(axes)
        self.axes: dict[str, list] = axes
        self.seeds: list = list(grid.get("seeds") or [])
        self.summary = read_rows(run_dir / "summary.csv")
        if not self.summary:
            raise UserError(f"{run_dir / 'summary.csv'}: no grid points (did the sweep finish any member?)")
        missing = [k for k in (*self.keys, "cost_median") if k not in self.summary[0]]
        if missing:
            raise UserError(f"{run_dir / 'summary.csv'}: missing column(s) {', '.join(missing)}")
        self.has_success = "success_rate" in self.summary[0]
        self.score = score_key(self.summary[0])
        self.name = str(self.info.get("name") or run_dir.name)
        self._members: list[dict[str, str]] | None = None
        self._at_point: dict[tuple, list[dict[str, str]]] | None = None

    @property
    def members(self) -> list[dict[str, str]]:
        if self._members is None:
            self._members = read_rows(self.dir / "members.csv")
        return self._members

    def members_at(self, row: dict[str, str]) -> list[dict[str, str]]:
        """The members.csv rows of the grid point of summary row `row` (indexed once: a grid has 10^5 members)."""
        if self._at_point is None:
            self._at_point = {}
            for m in self.members:
                self._at_point.setdefault(tuple(m.get(k) for k in self.keys), []).append(m)
        return self._at_point.get(tuple(row.get(k) for k in self.keys), [])

    def num(self, key: str, rows: list[dict[str, str]] | None = None) -> np.ndarray:
        return np.array([cell_float(r.get(key)) for r in (self.summary if rows is None else rows)])

    def best(self, rows: list[dict[str, str]] | None = None) -> dict[str, str]:
        """The best grid point (best_rank)."""
        return min(self.summary if rows is None else rows, key=best_rank)

    @property
    def varied(self) -> list[str]:
        """The grid keys that took more than one value (a key held at one value is no axis)."""
        return [k for k in self.keys if len({str(r.get(k)) for r in self.summary}) > 1]

    def label(self, row: dict[str, str], keys: list[str]) -> str:
        return ", ".join(f"{k}={short_value(row[k])}" for k in keys)


def short_value(value: str | None) -> str:
    """A grid value as a short label: 0.001 for '0.0010000', names as they are, '' for a missing cell."""
    if value is None:  # a short row of a damaged CSV file
        return ""
    v = cell_float(value)
    return f"{v:g}" if math.isfinite(v) and value.strip() else value


def rule_text(value: Any) -> str:
    """An optimizer as config.yaml holds it ('adam' or {name: adam, beta1: 0.9}) as 'adam(beta1=0.9)'."""
    if isinstance(value, str):
        return value
    if not isinstance(value, dict):
        return "sgd" if value is None else str(value)
    args = ", ".join(f"{k}={v:g}" if isinstance(v, (int, float)) else f"{k}={v}"
                     for k, v in value.items() if k != "name")
    name = value.get("name", "sgd")
    return f"{name}({args})" if args else str(name)


def penalties_text(train: dict) -> str:
    """'clip 1, weight decay 0.001, l1 0.01' for the penalties a train block sets; '' for none."""
    parts = [(label, train.get(key)) for label, key in (("clip", "clip"), ("weight decay", "weight_decay"),
                                                         ("l1", "l1"))]
    return ", ".join(f"{label} {v:g}" for label, v in parts if isinstance(v, (int, float)) and v)


def read_yaml_or_none(path: Path) -> Any:
    import yaml

    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None


LR_KEYS = ("train.lr", "train.phases.0.lr")  # grid keys that are the starting learning rate


def lr_key(keys: Iterable[str]) -> str | None:
    """The grid key that holds the learning rate (a --lr redirected into phase 0 included), if any."""
    return next((k for k in keys if k in LR_KEYS), None)


def compare_key(g: SweepDir) -> str | None:
    if "model.hidden" in g.keys:
        return "model.hidden"
    return next((k for k in g.keys if k not in LR_KEYS), None)


def compare_choices(g: SweepDir) -> list[tuple[str, dict[str, str]]]:
    """(activation, its best summary row) per compared activation, in grid order."""
    key = compare_key(g)
    groups: dict[str, list[dict[str, str]]] = {}
    for row in g.summary:
        groups.setdefault(row[key] if key else "all", []).append(row)
    return [(name, g.best(rows)) for name, rows in groups.items()]


def run_kind(run_dir: str | Path) -> str:
    """'train', 'sweep' or 'compare' for a run directory; raises UserError for anything else."""
    run_dir = Path(run_dir)
    if not run_dir.exists():
        raise UserError(f"{run_dir}: no such run directory")
    if not run_dir.is_dir():
        raise UserError(f"{run_dir}: not a directory; expected a run directory such as runs/<stamp>-<name>")
    summary = run_dir / "summary.json"
    if (run_dir / "grid.json").exists():
        if not summary.exists():
            raise UserError(f"{run_dir}: the sweep has no summary.json yet (still running, or interrupted hard)")
        kind = read_json(summary).get("kind")
        if kind not in ("sweep", "compare"):
            raise UserError(f"{summary}: 'kind' is {kind!r}, expected 'sweep' or 'compare'")
        return kind
    if summary.exists():
        kind = read_json(summary).get("kind")
        if kind in ("sweep", "compare"):
            raise UserError(f"{run_dir}: a {kind} directory without grid.json")
    if (run_dir / "metrics.csv").exists() and (run_dir / "config.yaml").exists():
        return "train"
    raise UserError(f"{run_dir}: not a relu-lab run directory (expected config.yaml and metrics.csv, "
                    f"or grid.json and summary.json)")
