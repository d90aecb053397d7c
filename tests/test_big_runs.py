"""Readers of large run files: memory that scales with what is kept, not with a dict per row.

A small real compare and train run are made, then their metrics.csv grown to 300k rows by repeating
their own rows (same format, new epochs). Each reader runs in a child process; its peak RSS
(VmHWM) is compared with the same child's peak after the imports, so nothing depends on
the machine's speed. The old readers held a dict of strings per row: ~1.2 KB a row, ~350 MB here;
the limits below are a third of that or less.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import relu_lab
from relu_lab.api import History, _number
from relu_lab.runfiles import read_columns, read_rows

pytestmark = pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads VmHWM from /proc (Linux)")

ROOT = Path(__file__).resolve().parents[1]
XOR = ROOT / "configs" / "xor_relu.yaml"
ROWS = 300_000
MB = 2**20


def _grow(metrics: Path, rows: int, epoch_col: str = "epoch") -> None:
    """Append copies of the file's rows (epochs shifted past the last) until it holds `rows` rows."""
    lines = metrics.read_text().splitlines()
    header, body = lines[0].split(","), lines[1:]
    e = header.index(epoch_col)
    step = header.index("step") if "step" in header else None
    last = max(int(line.split(",")[e]) for line in body)
    out, shift = [], last + 1
    while len(body) + len(out) < rows:
        for line in body:
            cells = line.split(",")
            cells[e] = str(int(cells[e]) + shift)
            if step is not None:
                cells[step] = str(int(cells[step]) + shift)
            out.append(",".join(cells))
        shift += last + 1
    with open(metrics, "a") as fh:
        fh.write("\n".join(out[: rows - len(body)]) + "\n")


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    root = tmp_path_factory.mktemp("big")
    train = relu_lab.train(XOR, {"train.epochs": 400, "log_every": 1}, out=root)
    grid = relu_lab.compare(XOR, {"train.epochs": 400, "log_every": 1}, activations=["relu", "tanh"], seeds=4,
                            out=root)
    _grow(train.run_dir / "metrics.csv", ROWS)
    _grow(grid.run_dir / "metrics.csv", ROWS)
    return train.run_dir, grid.run_dir


def _peak_over_imports(code: str, imports: str) -> float:
    """MB a child's peak RSS grew while running `code`, over its peak after `imports`.

    The peak is VmHWM of /proc/self/status, the high-water mark of the child's own memory since its
    exec (ru_maxrss is not: Linux carries the parent's, this test process's, over the fork)."""
    script = textwrap.dedent(f"""
        import json, sys, warnings
        warnings.simplefilter("ignore")
        def peak():
            with open("/proc/self/status") as fh:
                return next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:"))
        {imports}
        import gc; gc.collect()
        before = peak()
        {code}
        print(json.dumps((peak() - before) / 1024))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


PLOT_IMPORTS = "import relu_lab.plots, relu_lab.plots.run, relu_lab.plots.sweep, relu_lab.run, relu_lab.loading"


def test_the_train_plots_read_a_long_log_as_columns(big):
    train_dir, _ = big
    path = train_dir / "metrics.csv"
    size = path.stat().st_size / MB
    code = (f"cols = read_metrics(Path({str(path)!r})); assert len(cols['cost']) == {ROWS}; "
            f"assert sorted(cols) == {sorted(read_rows(path)[0])!r}")
    grown = _peak_over_imports(code, "from pathlib import Path; from relu_lab.plots.style import read_metrics")
    # 12 columns of 300k floats are 29 MB; the old reader's list of dicts was ~10x the file (~350 MB here)
    assert grown < max(2.5 * size, 100), (grown, size)


def test_compare_curves_of_a_long_sweep_hold_four_columns(big):
    _, grid_dir = big
    size = (grid_dir / "metrics.csv").stat().st_size / MB
    grown = _peak_over_imports(f"from relu_lab.plots import plot_any; plot_any({str(grid_dir)!r})", PLOT_IMPORTS)
    assert grown < max(2 * size, 90), (grown, size)  # the old {member: {epoch: (cost, score)}}: ~15x the file
    assert (grid_dir / "compare_curves.png").exists()


def test_the_api_history_holds_columns(big):
    train_dir, _ = big
    size = (train_dir / "metrics.csv").stat().st_size / MB
    grown = _peak_over_imports(f"h = History(Path({str(train_dir / 'metrics.csv')!r})); assert len(h) == {ROWS}",
                               "from pathlib import Path; from relu_lab.api import History")
    assert grown < max(2.5 * size, 100), (grown, size)  # the old list of dicts: ~340 MB here, ~2 GB for 1M rows


def test_listing_and_showing_runs_does_not_read_metrics(big, tmp_path):
    train_dir, grid_dir = big
    code = ("from relu_lab.runs import list_runs, show_run, diff_runs; "
            f"list_runs({str(train_dir.parent)!r}); show_run({str(train_dir)!r}); show_run({str(grid_dir)!r}); "
            f"diff_runs({str(train_dir)!r}, {str(grid_dir)!r})")
    assert _peak_over_imports(code, "import relu_lab.runs, relu_lab.experiment, relu_lab.loading") < 40


def test_the_history_is_the_old_list_of_dicts_cell_for_cell(big, tmp_path):
    train_dir, _ = big
    path = tmp_path / "metrics.csv"
    path.write_text("".join((train_dir / "metrics.csv").open().readlines()[:20001]))  # a real log's rows
    for text in (path.read_text(),
                 "a,b,c,d\n1,2.5,,x\n2,nan,3,1.0\n\n3,inf,4.5,2\n 4 ,1e5,1_0\n5,-0.0,\"7\",8\n6,1.5,2,3",
                 "a,b\r\n1,2.5\r\n2,1e-5\r\n\r\n3,inf\r\n", "a,b\n1,2\n3\n4,5,6\n"):
        path.write_text(text)
        old = [{k: _number(v) for k, v in row.items() if k is not None} for row in read_rows(path)]
        new = History(path)
        assert len(new) == len(old)
        assert [[(k, type(v), v) for k, v in r.items()] for r in new] == \
            [[(k, type(v), v) for k, v in r.items()] for r in old]
        assert new == old and new[-1] == old[-1] and new[1:3] == old[1:3]


def test_read_columns_is_cell_float_of_every_cell(tmp_path):
    from relu_lab.runfiles import cell_float

    path = tmp_path / "m.csv"
    for text in ("a,b,c\r\n1,2,3\r\n\r\n4,,6\r\n 7 ,8\r\n9,x,1e400\r\n#1,2,3\r\n  \r\n5,6,7,8\r\n",
                 "a,b\n1,2\n3,\"4\"\n\"5\n\",6\n", "a,b\n0.1,0.30000000000000004\n1e-320,-0.0\n"):
        path.write_text(text)
        rows = read_rows(path)
        want = {k: np.array([cell_float(r.get(k)) for r in rows]) for k in rows[0] if k is not None}
        got = read_columns(path)
        assert list(got) == list(want)
        for k in want:
            assert np.array_equal(got[k].view(np.int64), want[k].view(np.int64)) or \
                np.array_equal(got[k], want[k], equal_nan=True), k


def test_thinning_keeps_the_extremes_and_the_ends():
    from relu_lab.plots.style import thin

    rng = np.random.default_rng(0)
    y = rng.normal(size=1_000_003)
    y[12345] = 50.0
    y[777] = np.nan
    keep = thin(len(y), y)
    assert len(keep) < 10_000 and keep[0] == 0 and keep[-1] == len(y) - 1
    assert 12345 in keep and 777 in keep and int(np.nanargmin(y)) in keep
    assert thin(100, y[:100]) == slice(None)
