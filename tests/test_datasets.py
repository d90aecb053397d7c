"""Datasets: shapes, labels, determinism by data seed, CSV files and normalisation."""

from __future__ import annotations

import numpy as np
import pytest

from relu_lab.datasets import DATASETS, DataError, read_csv, standardize
from relu_lab.experiment import resolve
from relu_lab.loading import config_from_dict

GENERATED = [name for name, spec in DATASETS.items() if name != "csv"]


def dataset(**data):
    return resolve(config_from_dict({"data": data, "model": {"layers": [DATASETS[data["name"]].inputs, 4,
                                                                        DATASETS[data["name"]].outputs]}})).data


@pytest.mark.parametrize("name", GENERATED)
def test_every_dataset_has_its_declared_shape_and_is_reproducible(name):
    spec = DATASETS[name]
    test_n = 0 if spec.fixed else 7
    a = dataset(name=name, test_n=test_n, seed=3)
    b = dataset(name=name, test_n=test_n, seed=3)
    n = spec.n
    assert a.X.shape == (n, spec.inputs) and a.Y.shape == (n, spec.outputs)
    assert np.array_equal(a.X, b.X) and np.array_equal(a.Y, b.Y)
    assert np.all(np.isfinite(a.X)) and np.all(np.isfinite(a.Y))
    if not spec.fixed:
        assert a.X_test.shape == (7, spec.inputs)
        assert not np.array_equal(a.X[:7], a.X_test)  # fresh points, not a copy of the training set
        c = dataset(name=name, seed=4)
        if spec.noise > 0 or name in ("interpolation", "circle"):
            assert not np.array_equal(a.X, c.X)
    if spec.task == "binary":
        assert set(np.unique(a.Y)) <= {0.0, 1.0}


def test_xor_is_the_four_corners_or_a_balanced_cloud():
    d = dataset(name="xor")
    assert d.X.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]] and d.Y.ravel().tolist() == [0, 1, 1, 0]
    cloud = dataset(name="xor", n=400, noise=0.1)
    assert cloud.Y.mean() == 0.5
    corner = np.round(cloud.X)  # the noise is small: each point lies near its corner, labelled by XOR
    assert np.mean(np.logical_xor(corner[:, 0], corner[:, 1]) == cloud.Y[:, 0]) > 0.99


def test_circle_labels_points_inside_radius_04():
    d = dataset(name="circle", n=2000)
    inside = np.hypot(d.X[:, 0] - 0.5, d.X[:, 1] - 0.5) < 0.4
    assert np.array_equal(inside, d.Y[:, 0] == 1)
    assert 0.45 < d.Y.mean() < 0.56  # the circle covers pi * 0.16 = 50 % of the square


def test_interpolation_follows_seed_004s_function():
    d = dataset(name="interpolation", noise=0.0)
    x = d.X[:, 0]
    assert x.min() >= 0 and x.max() <= 7
    assert np.allclose(d.Y[:, 0], 0.2 + 0.8 * np.sin(x) + 0.5 * x - 3)


def test_moons_are_two_interleaving_half_circles_as_scikit_learn_draws_them():
    d = dataset(name="moons", n=101, noise=0.0)
    x, y, upper = d.X[:, 0], d.X[:, 1], d.Y[:, 0] == 0
    assert upper.sum() == 51 and (~upper).sum() == 50  # labels alternate, the first upper
    np.testing.assert_allclose(np.hypot(x[upper], y[upper]), 1.0)  # the unit circle's upper half
    assert y[upper].min() >= -1e-12
    np.testing.assert_allclose(np.hypot(x[~upper] - 1.0, y[~upper] - 0.5), 1.0)  # its mirror, moved by (1, -0.5)
    assert y[~upper].max() <= 0.5 + 1e-12
    np.testing.assert_allclose(np.sort(x[upper]), np.cos(np.linspace(np.pi, 0.0, 51)), atol=1e-12)  # evenly spaced
    jittered = dataset(name="moons", n=400)  # the default noise: 0.1
    assert 0.05 < np.std(np.hypot(jittered.X[::2, 0], jittered.X[::2, 1]) - 1.0) < 0.15


def test_normalize_standardises_with_training_statistics():
    d = dataset(name="table4", normalize=True)
    assert np.allclose(d.X.mean(axis=0), 0) and np.allclose(d.X.std(axis=0), 1)
    X, X_test = standardize(np.array([[1.0, 5.0], [3.0, 5.0]]), np.array([[5.0, 5.0]]))
    assert X.tolist() == [[-1.0, 0.0], [1.0, 0.0]] and X_test.tolist() == [[3.0, 0.0]]  # constant column kept


def test_csv_with_header_binary_regression_and_multiclass(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("a,b,label\n0,1,3\n1,0,7\n1,1,3\n")
    X, Y, task = read_csv(path, None, "auto")
    assert task == "binary" and X.tolist() == [[0, 1], [1, 0], [1, 1]] and Y.ravel().tolist() == [0, 1, 0]
    X, Y, task = read_csv(path, "a", "auto")
    assert X.tolist() == [[1, 3], [0, 7], [1, 3]]
    _, Y, task = read_csv(path, -1, "regression")
    assert task == "regression" and Y.ravel().tolist() == [3, 7, 3]
    path.write_text("1,2,0\n2,3,1\n3,4,2\n")  # no header, three classes: one-hot
    _, Y, task = read_csv(path, None, "auto")
    assert task == "multiclass" and Y.tolist() == [[1, 0, 0], [0, 1, 0], [0, 0, 1]]


def test_csv_through_a_config_resolves_an_absolute_path(tmp_path):
    (tmp_path / "d.csv").write_text("x,y\n0,0.5\n1,1.5\n2,2.5\n")
    cfg = config_from_dict({"data": {"name": "csv", "path": "d.csv"}, "model": {"layers": [1, 3, 1]}})
    resolved, data = resolve(cfg, "c.yaml", tmp_path)
    assert data.task == "regression" and resolved.loss.name == "mse" and resolved.model.output == "linear"
    assert resolved.data.path == str((tmp_path / "d.csv").resolve())


@pytest.mark.parametrize("text,words", [
    ("a,b,y\n1,2,0\n3,,1\n", "line 3, column 2: missing value"),
    ("a,b,y\n1,2,0\n3,x,1\n", "non-numeric value 'x'"),
    ("a,b,y\n1,2,0\n3,4\n", "line 3: 2 values, expected 3"),
    ("", "is empty"),
    ("a\n1\n2\n", "at least 2 columns"),
    ("a,y\n1,0\n", "single class"),  # one row is valid data; one class cannot be classified
    ("a,y\n", "no data rows"),
    ("a,y\n1,nan\n2,1\n", "NaN or infinite"),
    ("a,y\n1,0\n2,0\n", "single class"),
])
def test_bad_csv_files(tmp_path, text, words):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(DataError, match=words):
        read_csv(path, None, "classification")
