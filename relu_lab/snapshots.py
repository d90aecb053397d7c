"""The weights of a train run at its logged epochs (snapshots.npz), for pictures of what happened
inside the network over time: unit maps at any epoch, when units died, how the boundary formed.

At most MAX_SNAPSHOTS are kept (the first and the last logged epochs always), so the file stays small:
a 2-64-64-1 net takes about 7 MB. When a run logs more often than that, the first DENSE logs are all
kept, where units die and the boundary forms, and the rest evenly spread. Each parameter array is
stacked over the snapshots; a learned slope (PReLU) absent in some phase is NaN there.
"""

from __future__ import annotations

import math
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .config import Config
from .errors import UserError
from .network import Ensemble
from .rundir import replacing

SNAPSHOTS = "snapshots.npz"
MAX_SNAPSHOTS = 200
DENSE = MAX_SNAPSHOTS // 2  # the first logs kept one by one when a run logs more than MAX_SNAPSHOTS times


@dataclass
class SnapshotLog:
    """Collects member 0's parameters at logged epochs: the first `dense` logs, then every stride-th."""

    stride: int = 1
    dense: int = 0
    epochs: list[int] = field(default_factory=list)
    phases: list[int] = field(default_factory=list)  # the phase whose activations the net had
    states: list[dict[str, np.ndarray]] = field(default_factory=list)
    _seen: int = 0
    _latest: tuple[int, int, dict[str, np.ndarray]] | None = None  # the last log, kept or not

    @classmethod
    def for_run(cls, cfg: Config) -> SnapshotLog:
        logs = cfg.total_epochs() // max(cfg.log_every or 1, 1) + 1
        if logs <= MAX_SNAPSHOTS:
            return cls()
        return cls(stride=math.ceil((logs - DENSE) / (MAX_SNAPSHOTS - DENSE)), dense=DENSE)

    def kept_of(self, logs: int) -> int:
        """How many of the first `logs` logs this schedule keeps."""
        return min(logs, self.dense) + -(-max(0, logs - self.dense) // self.stride)

    def __call__(self, epoch: int, phase: int, net: Ensemble) -> None:
        """trainer.fit's on_weights: a logged epoch's weights, during `phase`."""
        self._latest = (int(epoch), int(phase), {k: v[0].copy() for k, v in net.state().items()})
        if self._seen < self.dense or (self._seen - self.dense) % self.stride == 0:
            self._keep(*self._latest)
        self._seen += 1

    def _keep(self, epoch: int, phase: int, state: dict[str, np.ndarray]) -> None:
        self.epochs.append(epoch)
        self.phases.append(phase)
        self.states.append(state)

    def finish(self) -> None:
        """Keep the last logged epoch too (the weights the run ends with) when the stride passed it over."""
        if self._latest is not None and (not self.epochs or self.epochs[-1] != self._latest[0]):
            self._keep(*self._latest)

    def resume_from(self, run_dir: Path, upto: int, logs_before: int) -> bool:
        """Go on from an interrupted run's file: its snapshots up to epoch `upto` are kept.
        False when the run had logged epochs but the file is gone (the snapshots start anew here)."""
        path = run_dir / SNAPSHOTS
        self._seen = logs_before
        if not path.exists():
            return logs_before == 0
        on_stride = self.kept_of(logs_before)  # the logs the schedule kept; finish() added one more
        for e, p, s in list(zip(*load(path)))[:on_stride]:
            if e <= upto:
                self._keep(e, p, s)
        return True

    def write(self, path: Path) -> None:
        """All snapshots to `path`, atomically."""
        if not self.states:
            return
        names = list(dict.fromkeys(k for s in self.states for k in s))
        arrays = {"epoch": np.array(self.epochs), "phase": np.array(self.phases)}
        for name in names:
            shape = next(s[name].shape for s in self.states if name in s)
            arrays[name] = np.stack([s.get(name, np.full(shape, np.nan)) for s in self.states])
        with replacing(path) as tmp:
            np.savez(tmp, **arrays)


def npz_problem(path: Path, err: Exception) -> str:
    """What is wrong with a .npz file numpy could not read, in words: empty, not an archive, or numpy's error."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(4)
    except OSError:
        head = b"PK"
    if not head:
        return "the file is empty"
    if not head.startswith(b"PK"):
        return "not a .npz archive"
    return f"{type(err).__name__}: {err}"


def load(path: Path) -> tuple[list[int], list[int], list[dict[str, np.ndarray]]]:
    """The epochs, phases and parameter arrays (by name, as Ensemble.state()) of a snapshots file."""
    try:
        with np.load(path, allow_pickle=False) as z:
            epochs = [int(e) for e in z["epoch"]]
            phases = [int(p) for p in z["phase"]]
            names = [n for n in z.files if n not in ("epoch", "phase")]
            stacked = {n: z[n] for n in names}
    except KeyError as err:
        raise UserError(f"{path}: not a readable snapshots file (no {err} array)") from None
    except (OSError, ValueError, TypeError, EOFError, zipfile.BadZipFile) as err:
        raise UserError(f"{path}: not a readable snapshots file ({npz_problem(path, err)})") from None
    if len(phases) != len(epochs):
        raise UserError(f"{path}: a damaged snapshots file: {len(epochs)} epochs but {len(phases)} phases")
    for n, a in stacked.items():
        if a.ndim < 1 or len(a) != len(epochs) or a.dtype.kind != "f":
            raise UserError(f"{path}: a damaged snapshots file: array {n} has shape {a.shape} ({a.dtype}), "
                            f"expected {len(epochs)} snapshots of floating-point parameters")
    states = []
    for i in range(len(epochs)):
        state = {n: a[i] for n, a in stacked.items()}
        states.append({n: a for n, a in state.items() if not (n.startswith("learned") and np.isnan(a).all())})
    return epochs, phases, states


def network_at(cfg: Config, state: dict[str, np.ndarray], phase: int) -> Ensemble:
    """A one-member network from a snapshot, with the hidden activations of its phase."""
    from .experiment import check_state_fits
    from .resolved import bind

    phases = cfg.phases()
    if not 0 <= phase < len(phases):
        raise UserError(f"{SNAPSHOTS}: a snapshot of phase {phase}, but the config has {len(phases)} phase(s); "
                        "was config.yaml edited after the run?")
    check_state_fits(cfg, state, Path(SNAPSHOTS), phase)
    hidden = [bind(cfg, h) for h in cfg.model.hidden_list(phases[phase].hidden)]
    return Ensemble.from_state({k: v[None] for k, v in state.items()}, hidden, bind(cfg, cfg.model.output))


def phase_starts(cfg: Config) -> list[tuple[int, str]]:
    """(first epoch, hidden activation label) of every phase after the first."""
    out, start = [], 0
    for p, phase in enumerate(cfg.phases()):
        if p:
            hidden = phase.hidden if isinstance(phase.hidden, str) else "/".join(phase.hidden)
            out.append((start, hidden))
        start += phase.epochs
    return out
