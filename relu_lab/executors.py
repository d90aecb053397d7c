"""Running a sweep's chunks on a Dask cluster (the local executor lives in grid.py).

A chunk is a slice of one ensemble group: its members train together in one
stacked `fit` on a worker, and the worker returns the `TrainResult` (without the
network) and the chunk's log rows, as arrays. Each member's randomness comes from
its own seed, and a member's arithmetic does not depend on which other members
share its ensemble, so a distributed sweep gives the same members.csv and
summary.csv as a local one.

Chunk size rule: a chunk must be big enough for the stacked engine to pay off
(cost per member-step falls steeply up to about 64 members) and small enough to
spread over the workers with some slack for uneven speed (about four chunks per
worker), and never larger than the memory budget allows:

    size = min(memory_limit, MAX_CHUNK, max(MIN_CHUNK, ceil(group_members / (CHUNKS_PER_WORKER * workers))))

(MAX_CHUNK = 512: larger ensembles outgrow the CPU caches, see grid.py.)
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterator

from .datasets import Dataset
from .errors import UserError
from .grid import MAX_CHUNK, Chunk, chunk_size
from .plan import Group, SweepPlan
from .resolved import Experiment, Trainee
from .trainer import Checkpoint, LogRow, TrainResult, fit

MIN_CHUNK = 64
CHUNKS_PER_WORKER = 4
INSTALL_HINT = "--executor dask needs Dask's distributed scheduler: pip install 'relu-lab[dask]'"


def train_members(exp: Experiment, trainees: list[Trainee], resume: Checkpoint | None = None
                  ) -> tuple[TrainResult, list[LogRow]]:
    """What a worker runs for one chunk: the stacked training, returned without the network, and its
    log rows (those after `resume`'s, which the sweep logged before).

    The arrays are copied first: unpickled arrays can sit at other memory alignments than
    freshly allocated ones, and NumPy's SIMD loops may then round differently in the last bit.
    """
    data = exp.data
    fresh = {f.name: getattr(data, f.name) for f in dataclasses.fields(data)}
    fresh = {k: v.copy() if hasattr(v, "copy") else v for k, v in fresh.items()}
    exp = dataclasses.replace(exp, data=Dataset(**fresh))
    rows: list[LogRow] = []
    return dataclasses.replace(fit(exp, trainees, rows.append, resume=resume), net=None), rows


class DaskExecutor:
    """Chunks as tasks on a Dask cluster: a running scheduler's address, or a local cluster of N workers.

    A worker that dies takes its chunk with it; the scheduler runs that chunk again
    elsewhere (`retries` more times for errors raised inside the task).
    """

    def __init__(self, scheduler: str | None = None, workers: int | None = None, retries: int = 2):
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError:
            raise UserError(INSTALL_HINT) from None
        self.retries, self.cluster = retries, None
        if scheduler:
            try:
                self.client = Client(scheduler, timeout="10s")
            except (OSError, TimeoutError) as err:
                raise UserError(f"--scheduler {scheduler}: cannot connect to a Dask scheduler there ({err})") from None
        else:
            self.cluster = LocalCluster(n_workers=workers or 2, threads_per_worker=1, processes=True,
                                        dashboard_address=None)
            self.client = Client(self.cluster)
        self.workers = max(1, len(self.client.scheduler_info()["workers"]))

    def __enter__(self) -> DaskExecutor:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()

    def chunk_size(self, group: Group, budget: int) -> int:
        memory = chunk_size(group.members[0].config, group.data, budget)
        spread = math.ceil(len(group.members) / (CHUNKS_PER_WORKER * self.workers))
        return min(memory, MAX_CHUNK, max(MIN_CHUNK, spread))

    def run(self, plan: SweepPlan, chunks: list[Chunk], log: Callable[[Chunk, LogRow], None],
            resume: Callable[[Chunk], Checkpoint | None] = lambda chunk: None) -> Iterator[tuple[Chunk, TrainResult]]:
        """Submit every chunk, then hand back results as they finish (logging their rows first)."""
        from dask.distributed import as_completed

        # an experiment travels as its config and data, and is bound again on the worker (Experiment.__reduce__)
        exps = {g: self.client.scatter(plan.groups[g].experiment, broadcast=True) for g in {c.group for c in chunks}}
        states = {id(c): resume(c) for c in chunks}
        futures = {
            self.client.submit(train_members, exps[c.group], [m.trainee for m in c.members], states[id(c)],
                               retries=self.retries, pure=False): c
            for c in chunks
        }
        try:
            for future in as_completed(futures):
                chunk, (result, rows) = futures[future], future.result()
                for row in rows:
                    log(chunk, row)
                yield chunk, result
        finally:
            for future in futures:
                future.cancel()
