"""Sweeps on a Dask LocalCluster: the same results as local, and a killed worker costs only a retry."""

from __future__ import annotations

import json
import os
import signal

import pytest

pytest.importorskip("dask.distributed")

from relu_lab.executors import MIN_CHUNK, DaskExecutor  # noqa: E402
from relu_lab.grid import run_sweep  # noqa: E402
from relu_lab.loading import config_from_dict  # noqa: E402
from relu_lab.plan import Axis, plan_sweep  # noqa: E402

RAW = {
    "name": "dist",
    "data": {"name": "circle", "n": 120},
    "model": {"layers": [2, 12, 1]},
    "train": {"lr": 0.1, "epochs": 40, "batch_size": 8},
    "success": {"metric": "accuracy", "at_least": 0.85},
}


@pytest.fixture(scope="module")
def cluster():
    with DaskExecutor(workers=2) as ex:
        yield ex


def plan(seeds: int = 8):
    cfg = config_from_dict(dict(RAW))
    return plan_sweep(cfg, [Axis("train.lr", [0.03, 0.3]), Axis("model.hidden", ["relu", "tanh"])],
                      list(range(seeds)))


def same_results(a, b) -> None:
    for name in ("members.csv", "summary.csv"):
        assert (a.run_dir / name).read_text() == (b.run_dir / name).read_text(), name
    # metrics arrive in another order, but hold the same rows
    assert sorted((a.run_dir / "metrics.csv").read_text().splitlines()) == \
        sorted((b.run_dir / "metrics.csv").read_text().splitlines())


def test_distributed_sweep_equals_local(tmp_path, cluster):
    assert cluster.workers == 2
    local = run_sweep(plan(), tmp_path / "local")
    dist = run_sweep(plan(), tmp_path / "dist", executor=cluster, budget=1)  # budget 1: a chunk per member
    assert dist.status == "completed"
    same_results(local, dist)


def test_chunk_size_rule(cluster):
    p = plan(seeds=600)  # groups of 1200 members
    group = p.groups[0]
    assert cluster.chunk_size(group, budget=2**40) == 1200 // (4 * 2) + 0  # ceil(1200 / 8) = 150
    small = plan(seeds=8).groups[0]
    assert cluster.chunk_size(small, budget=2**40) == MIN_CHUNK  # never below the efficient size
    assert cluster.chunk_size(group, budget=1) == 1  # memory wins


@pytest.fixture
def own_cluster():
    """A cluster for a test that kills a worker: the restart of the killed one cannot reach other tests."""
    with DaskExecutor(workers=2) as ex:
        yield ex


def test_a_killed_worker_costs_a_retry_not_the_sweep(tmp_path, own_cluster):
    """A worker is killed while it holds chunks, at a moment the test chooses rather than a timer: as
    the first chunk's result arrives (its progress), with most of the sweep still to train."""
    cluster = own_cluster
    local = run_sweep(plan(seeds=16), tmp_path / "local")
    pids = cluster.client.run(os.getpid)  # worker address -> process id
    killed = []

    def kill_a_busy_worker(member_epochs: int) -> None:
        if killed:
            return
        busy = {address: keys for address, keys in cluster.client.processing().items() if keys and address in pids}
        address = next(iter(busy))  # a worker with a chunk in hand (StopIteration: nothing left to kill)
        os.kill(pids[address], signal.SIGKILL)  # dies mid-chunk; its nanny starts a new worker
        killed.append((address, len(busy[address])))

    dist = run_sweep(plan(seeds=16), tmp_path / "dist", executor=cluster, budget=2**16,  # one member per chunk
                     on_progress=kill_a_busy_worker)
    assert killed and killed[0][1] > 0  # the worker died holding chunks, while the sweep was running
    assert dist.status == "completed"
    same_results(local, dist)


def test_resume_on_the_cluster_after_an_interrupt(tmp_path, cluster):
    local = run_sweep(plan(), tmp_path / "local")
    dist = run_sweep(plan(), tmp_path / "dist", executor=cluster, budget=1)
    # what an interrupt leaves: some members finished, an unfinished chunk's partial metrics, a status
    lines = (dist.run_dir / "members.csv").read_text().splitlines(keepends=True)
    (dist.run_dir / "members.csv").write_text("".join(lines[:12]))
    summary = json.loads((dist.run_dir / "summary.json").read_text())
    (dist.run_dir / "summary.json").write_text(json.dumps(summary | {"status": "interrupted"}))
    resumed = run_sweep(plan(), resume=dist.run_dir, executor=cluster, budget=1)
    assert resumed.status == "completed"
    same_results(local, resumed)


def test_without_dask_the_executor_says_how_to_install(monkeypatch):
    import sys

    from relu_lab.errors import UserError

    monkeypatch.setitem(sys.modules, "dask.distributed", None)
    with pytest.raises(UserError, match=r"pip install 'relu-lab\[dask\]'"):
        DaskExecutor(workers=1)
