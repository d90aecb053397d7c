"""Run directories: `runs/<YYYYmmdd-HHMMSS>-<name>/` with config.yaml, metrics.csv, summary.json.

A run never writes over another: the directory is created exclusively, with a
numeric suffix when the name is taken. Whole files are written to a temporary
name and renamed; metrics.csv grows a complete line at a time, so that what an
interrupted run logged is on disk and parseable.
"""

from __future__ import annotations

import fcntl
import json
import math
import os
import platform
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__
from .errors import UserError


def safe_name(name: str) -> str:
    """A name fit for a directory: no path separators, no '..'."""
    name = re.sub(r"[^A-Za-z0-9_.+-]", "_", name).strip(".") or "run"
    return name.replace("..", "_")[:100]


def new_run_dir(root: str | Path, name: str, now: datetime | None = None) -> Path:
    """Create and return a fresh directory `root/<stamp>-<name>[-N]`; raises UserError."""
    root = Path(root)
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    base = f"{stamp}-{safe_name(name)}"
    if root.exists() and not root.is_dir():
        raise UserError(f"--out {root}: exists and is not a directory; give a directory for run directories")
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UserError(f"--out {root}: cannot create the output directory ({err.strerror or err})") from None
    if not root.is_dir():
        raise UserError(f"--out {root}: exists and is not a directory")
    for i in range(1, 10_000):
        path = root / (base if i == 1 else f"{base}-{i}")
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue
        except OSError as err:
            raise UserError(f"--out {root}: cannot create a run directory there ({err.strerror or err})") from None
    raise UserError(f"--out {root}: too many runs named '{base}'")


def free_path(path: Path) -> Path:
    """`path`, or `name-2.ext`, `name-3.ext`, ... when it exists: never write over a user's file."""
    path = Path(path)
    candidate, i = path, 1
    while candidate.exists():
        i += 1
        candidate = path.with_name(f"{path.stem}-{i}{path.suffix}")
    return candidate


@contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """A temporary name beside `path` to write it through; renamed onto `path` when the block ends.

    A failure (a full disk, an interrupt) leaves `path` as it was and no temporary file; an
    OSError is raised again naming `path`. The temporary name keeps the suffix (np.savez needs it).
    """
    tmp = path.with_name(f".{path.stem}.tmp{path.suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    except OSError as err:
        raise OSError(err.errno, err.strerror, str(path)) from None
    finally:
        tmp.unlink(missing_ok=True)


def filter_lines(path: Path, header: str, keep: Callable[[str], bool],
                 accept: Callable[[int], None] = lambda kept: None) -> None:
    """Rewrite the CSV log `path` (atomically) with `header` and those of its complete lines after the
    first that `keep` accepts; a last line without its newline was cut short and is dropped. Read and
    written a line at a time: a file of gigabytes costs no more memory than a line. `accept` is shown
    the number of lines kept before the file is replaced: an error it raises leaves the file as it was.
    """
    kept = 0
    with replacing(path) as tmp, open(path, encoding="utf-8", newline="") as src, \
            open(tmp, "w", encoding="utf-8", newline="") as dst:
        dst.write(header)
        next(src, None)
        for line in src:
            if line.endswith("\n") and keep(line):
                dst.write(line)
                kept += 1
        accept(kept)


@contextmanager
def holding(run_dir: Path) -> Iterator[None]:
    """Hold `run_dir` for this process while the block runs: a second relu-lab writing into the same
    directory (two `--resume` of one run) is refused, naming the process that holds it."""
    fd = os.open(run_dir, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            try:
                holder = f"process {int((run_dir / LOCK).read_text())}"
            except (OSError, ValueError):
                holder = "another process"
            raise UserError(f"{run_dir}: in use by {holder} (another relu-lab is writing into it); "
                            "wait until it ends, or stop it first") from None
        (run_dir / LOCK).write_text(str(os.getpid()))
        try:
            yield
        finally:
            (run_dir / LOCK).unlink(missing_ok=True)
    finally:
        os.close(fd)  # releases the lock


LOCK = ".relu-lab-pid"  # in a run directory while a process holds it: that process's id


def atomic_write(path: Path, text: str) -> None:
    """Write `text` to `path` through a temporary file and a rename: never half-written."""
    with replacing(path) as tmp, open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())


def write_json(path: Path, data: Any) -> None:
    """Strict JSON, as every JSON tool reads it: a NaN or infinite figure (a diverged run's) is written null."""
    atomic_write(path, json.dumps(strict_json(data), indent=2, allow_nan=False) + "\n")


def strict_json(x: Any) -> Any:
    """`x` with NumPy scalars and arrays as plain values and every non-finite float as None."""
    if isinstance(x, dict):
        return {k: strict_json(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [strict_json(v) for v in x]
    if isinstance(x, np.ndarray):
        return strict_json(x.tolist())
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if x is None or isinstance(x, (str, int, float, bool)):
        return x
    raise TypeError(f"not JSON serialisable: {type(x).__name__}")


def save_params(path: Path, net) -> None:
    """The final parameters of an ensemble (`Ensemble.state()`), written atomically."""
    with replacing(path) as tmp:
        np.savez(tmp, **net.state())


def fmt(x: float) -> str:
    """The shortest text that reads back as the same float (so equal runs give equal files)."""
    return repr(float(x))


class CsvLog:
    """A CSV file written a whole line at a time and flushed, with a fixed header."""

    def __init__(self, path: Path, columns: list[str], append: bool = False):
        self.path, self.columns = path, columns
        self._fh = open(path, "a" if append else "w", encoding="utf-8", newline="")
        if not append:
            self._fh.write(",".join(columns) + "\n")
            self._fh.flush()

    def write(self, rows: list[list]) -> None:
        """Append rows of values (float, int or str)."""
        self.write_columns([list(c) for c in zip(*rows)] if rows else [])

    def write_columns(self, columns: list[list]) -> None:
        """Append rows given column by column: the fast path for many members at once."""
        if not columns or not columns[0]:
            return
        text = "\n".join(map(",".join, zip(*(_format_column(c) for c in columns)))) + "\n"
        end = self._fh.tell()
        try:
            self._fh.write(text)
            self._fh.flush()
        except OSError as err:  # a full disk: cut back to the last whole line, and say which file
            self._cut_back(end)
            raise OSError(err.errno, err.strerror, str(self.path)) from None

    def _cut_back(self, end: int) -> None:
        try:
            self._fh.close()  # its buffer cannot be written either; the file is closed all the same
        except OSError:
            pass
        try:
            os.truncate(self.path, end)
        finally:
            self._fh = open(self.path, "a", encoding="utf-8", newline="")

    def close(self) -> None:
        self._fh.close()


def _format_column(values: list) -> list[str]:
    if type(values[0]) is float:  # a column of floats (from ndarray.tolist()): the fast path
        return list(map(repr, values))  # shortest round-trip text
    return [fmt(v) if isinstance(v, float) else str(v) for v in values]


def versions() -> dict[str, str]:
    return {"python": platform.python_version(), "numpy": np.__version__, "relu_lab": __version__}
