"""Datasets: one registry of generators `make(rng, n, noise) -> (X, Y)`.

`X` is `(n, features)`, `Y` is `(n, outputs)`: 0/1 labels for binary tasks,
one-hot rows for multi-class ones, real targets for regression. A test set is
drawn from the same generator with fresh points; fixed tables (`table4`) have
no test set.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import UserError, did_you_mean


class DataError(UserError):
    """A dataset that cannot be built (bad CSV file, impossible sizes)."""


@dataclass
class Dataset:
    """Training (and optional test) arrays; `task` is binary, multiclass or regression."""

    name: str
    task: str
    X: np.ndarray
    Y: np.ndarray
    X_test: np.ndarray | None = None
    Y_test: np.ndarray | None = None

    @property
    def n_inputs(self) -> int:
        return self.X.shape[1]

    @property
    def n_outputs(self) -> int:
        return self.Y.shape[1]

    def __repr__(self) -> str:
        test = 0 if self.X_test is None else len(self.X_test)
        return f"Dataset({self.name}, {self.task}, train={self.X.shape}, test={test})"


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    make: Callable[..., tuple[np.ndarray, np.ndarray]]
    task: str
    n: int  # default number of points
    noise: float  # default noise
    description: str
    fixed: bool = False  # a fixed table: n is not a parameter and there is no test set
    inputs: int | None = 2  # feature count, None when only the file knows
    outputs: int | None = 1


def xor(rng, n, noise):
    corners = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    labels = np.array([[0.0], [1.0], [1.0], [0.0]])
    if n == 4 and noise == 0:
        return corners, labels
    pick = np.arange(n) % 4  # a balanced cloud around the corners
    return corners[pick] + rng.normal(0.0, noise, size=(n, 2)), labels[pick]


def interpolation(rng, n, noise):
    # Seed 004: y = 0.2 + 0.8 sin x + 0.5 x - 3 + U(-noise, noise), x ~ U(0, 7).
    x = rng.uniform(0.0, 7.0, size=(n, 1))
    y = 0.2 + 0.8 * np.sin(x) + 0.5 * x - 3.0 + rng.uniform(-noise, noise, size=(n, 1))
    return x, y


def circle(rng, n, noise):
    # Seed 004: label 1 inside the circle of radius 0.4 around (0.5, 0.5); noise flips labels.
    x = rng.uniform(0.0, 1.0, size=(n, 2))
    y = (np.sum((x - 0.5) ** 2, axis=1) < 0.4**2).astype(float)
    flip = rng.uniform(size=n) < noise
    return x, np.where(flip, 1.0 - y, y)[:, None]


def table4(rng, n, noise):
    # Seed 002's four points (its targets are 5/3, 11/3, 1, 5/3).
    x = np.array([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0], [6.0, 7.0]])
    y = np.array([[5 / 3], [11 / 3], [1.0], [5 / 3]])
    return x, y


def spiral(rng, n, noise):
    # Two interleaved arms as in TensorFlow Playground; noise is the std of a jitter.
    label = np.arange(n) % 2
    t = rng.uniform(0.0, 1.0, size=n)
    r = 5.0 * t
    angle = 1.75 * 2 * np.pi * t + np.pi * label
    x = np.stack([r * np.sin(angle), r * np.cos(angle)], axis=1)
    return x + rng.normal(0.0, noise, size=(n, 2)), label[:, None].astype(float)


def gauss(rng, n, noise):
    # Two Gaussian blobs around (2, 2) and (-2, -2); noise is their standard deviation.
    label = np.arange(n) % 2
    centre = np.where(label[:, None] == 1, 2.0, -2.0)
    return centre + rng.normal(0.0, noise, size=(n, 2)), label[:, None].astype(float)


def moons(rng, n, noise):
    # Two interleaving half circles, as scikit-learn's make_moons (label 0 the upper arc, 1 the lower,
    # each arc's points evenly spaced); noise is the std of a jitter. Labels alternate, as in spiral.
    label = np.arange(n) % 2
    t = np.empty(n)
    for c in (0, 1):
        t[label == c] = np.linspace(0.0, np.pi, int(np.sum(label == c)))
    x = np.where(label[:, None] == 0, np.stack([np.cos(t), np.sin(t)], axis=1),
                 np.stack([1.0 - np.cos(t), 0.5 - np.sin(t)], axis=1))
    return x + rng.normal(0.0, noise, size=(n, 2)), label[:, None].astype(float)


DATASETS: dict[str, DatasetSpec] = {
    d.name: d
    for d in [
        DatasetSpec("xor", xor, "binary", 4, 0.0, "XOR's 4 corners; n > 4 with noise > 0: a noisy cloud"),
        DatasetSpec("interpolation", interpolation, "regression", 200, 0.2, "seed 004's 1-D function", inputs=1),
        DatasetSpec("circle", circle, "binary", 1000, 0.0, "seed 004's points inside a circle"),
        DatasetSpec("table4", table4, "regression", 4, 0.0, "seed 002's four points", fixed=True),
        DatasetSpec("spiral", spiral, "binary", 400, 0.1, "two spiral arms (TensorFlow Playground)"),
        DatasetSpec("moons", moons, "binary", 400, 0.1, "two interleaving half circles (scikit-learn's make_moons)"),
        DatasetSpec("gauss", gauss, "binary", 400, 1.0, "two Gaussian blobs (TensorFlow Playground)"),
        DatasetSpec("csv", None, "auto", 0, 0.0, "your own CSV file: feature columns + target column",
                    inputs=None, outputs=None),
    ]
}


def read_csv(path: Path, target: str | int | None, task: str) -> tuple[np.ndarray, np.ndarray, str]:
    """Features and target of a CSV file (with or without a header row); raises DataError."""
    try:
        with open(path, newline="") as fh:
            rows = [r for r in csv.reader(fh) if r and any(c.strip() for c in r)]
    except OSError as err:
        raise DataError(f"cannot read CSV file '{path}': {err.strerror or err}") from None
    except (csv.Error, UnicodeDecodeError) as err:
        raise DataError(f"CSV file '{path}' is not readable text: {err}") from None
    if not rows:
        raise DataError(f"CSV file '{path}' is empty")
    header = None
    try:
        [float(c) for c in rows[0]]
    except ValueError:
        header, rows = [c.strip() for c in rows[0]], rows[1:]
    if not rows:
        raise DataError(f"CSV file '{path}' has a header but no data rows")
    width = len(header) if header else len(rows[0])
    if width < 2:
        raise DataError(f"CSV file '{path}' needs at least 2 columns (features + target), has {width}")
    values = np.empty((len(rows), width))
    first = 2 if header else 1
    for i, row in enumerate(rows):
        if len(row) != width:
            raise DataError(f"CSV file '{path}' line {i + first}: {len(row)} values, expected {width}")
        for j, cell in enumerate(row):
            try:
                values[i, j] = float(cell)
            except ValueError:
                what = "missing value" if not cell.strip() else f"non-numeric value '{cell.strip()}'"
                raise DataError(f"CSV file '{path}' line {i + first}, column {j + 1}: {what}") from None
    if not np.all(np.isfinite(values)):
        raise DataError(f"CSV file '{path}' holds NaN or infinite values")
    col = _target_column(target, header, width, path)
    X = np.delete(values, col, axis=1)
    y = values[:, col]
    if task == "auto":
        integral = np.all(y == np.round(y))
        task = "regression" if not integral or len(np.unique(y)) > 10 else "classification"
    if task == "regression":
        return X, y[:, None], "regression"
    classes = np.unique(y)
    if len(classes) < 2:
        raise DataError(f"CSV file '{path}': the target column has a single class, need at least 2 to classify "
                        "(data.task: regression fits it as a number)")
    if len(classes) == 2:
        return X, (y == classes[1]).astype(float)[:, None], "binary"
    return X, (y[:, None] == classes[None, :]).astype(float), "multiclass"


def _target_column(target, header, width, path) -> int:
    if target is None:
        return width - 1
    if isinstance(target, int):
        if not -width <= target < width:
            raise DataError(f"data.target: column {target} does not exist in '{path}' ({width} columns)")
        return target % width
    if header is None:
        raise DataError(f"data.target: '{path}' has no header row, so name the target column by index (0-{width - 1})")
    if target not in header:
        raise DataError(f"data.target: in '{path}': " + did_you_mean("column", target, header))
    return header.index(target)


def standardize(X: np.ndarray, X_test: np.ndarray | None):
    """Zero mean, unit variance per feature, with the training set's statistics."""
    mean, std = X.mean(axis=0), X.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    return (X - mean) / std, None if X_test is None else (X_test - mean) / std
