"""What the end of a run needs from its log rows, kept as the rows pass.

The rows themselves go to metrics.csv as they are logged; keeping them in memory would cost
about 2 KB a row for ever (a long run with frequent logs would reach gigabytes, and so would
its checkpoint). A `Tally` holds, per member, only what the summary, members.csv and the
warnings read: the last row's figures, and for the warnings the dead share of each layer with
the epoch it last changed, the identical flags and the largest gradient norms, all over the rows
where the member's cost was finite. Its size does not grow with the run.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np

# per-layer figures the warnings read, by the prefix of their column
DEAD, IDENTICAL, GRAD = "dead_L", "identical_L", "grad_L"


@dataclass
class Tally:
    rows: int = 0  # rows logged
    last_epoch: int = -1  # the epoch of the last row (-1: none yet)
    final: dict[str, np.ndarray] = field(default_factory=dict)  # the last row's figures, (K,) each
    # per member, over its rows with a finite cost (epochs are -1 where there was none):
    first_ok: np.ndarray | None = None  # the first such row's epoch
    last_ok: np.ndarray | None = None  # the last one's
    dead: dict[str, np.ndarray] = field(default_factory=dict)  # the last finite dead share of each layer
    dead_since: dict[str, np.ndarray] = field(default_factory=dict)  # the epoch it took that value
    dead_known: dict[str, np.ndarray] = field(default_factory=dict)  # the last epoch it was finite
    identical: dict[str, np.ndarray] = field(default_factory=dict)  # at the last finite-cost row
    grad_max: dict[str, np.ndarray] = field(default_factory=dict)  # the largest finite gradient norm

    def add(self, epoch: int, metrics: dict[str, np.ndarray]) -> None:
        """One logged epoch of every member."""
        ok = np.isfinite(metrics["cost"])
        if self.first_ok is None:
            self._start(metrics, len(ok))
        self.rows, self.last_epoch, self.final = self.rows + 1, epoch, metrics
        self.first_ok = np.where(ok & (self.first_ok < 0), epoch, self.first_ok)
        self.last_ok = np.where(ok, epoch, self.last_ok)
        for key, share in self.dead.items():
            value = metrics[key]
            known = ok & np.isfinite(value)
            # a share is (dead units) / (units), so it changes exactly when the count does
            self.dead_since[key] = np.where(known & (value != share), epoch, self.dead_since[key])
            self.dead[key] = np.where(known, value, share)
            self.dead_known[key] = np.where(known, epoch, self.dead_known[key])
        for key, flag in self.identical.items():
            self.identical[key] = np.where(ok, metrics[key], flag)
        for key, top in self.grad_max.items():
            value = metrics[key]
            self.grad_max[key] = np.where(ok & np.isfinite(value) & (value > top), value, top)

    def _start(self, metrics: dict[str, np.ndarray], K: int) -> None:
        never = np.full(K, -1)
        self.first_ok, self.last_ok = never.copy(), never.copy()
        for key in metrics:
            if key.startswith(DEAD):
                self.dead[key] = np.full(K, np.nan)
                self.dead_since[key], self.dead_known[key] = never.copy(), never.copy()
            elif key.startswith(IDENTICAL):
                self.identical[key] = np.full(K, np.nan)
            elif key.startswith(GRAD):
                self.grad_max[key] = np.zeros(K)

    def copy(self) -> Tally:
        return copy.deepcopy(self)

    # --- as arrays, for a checkpoint file (checkpoint.py) ---------------------------------------

    _PER_KEY = ("final", "dead", "dead_since", "dead_known", "identical", "grad_max")

    def to_arrays(self) -> dict[str, np.ndarray]:
        out = {"rows": np.array(self.rows), "last_epoch": np.array(self.last_epoch)}
        if self.first_ok is not None:
            out |= {"first_ok": self.first_ok, "last_ok": self.last_ok}
        for name in self._PER_KEY:
            out |= {f"{name}:{key}": value for key, value in getattr(self, name).items()}
        return out

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> Tally:
        tally = cls(int(arrays["rows"]), int(arrays["last_epoch"]), first_ok=arrays.get("first_ok"),
                    last_ok=arrays.get("last_ok"))
        for name, value in arrays.items():
            part, _, key = name.partition(":")
            if key and part in cls._PER_KEY:
                getattr(tally, part)[key] = value
        return tally
