"""One training run from a config to a finished run directory (the library side of `train`)."""

from __future__ import annotations

import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from . import checkpoint
from .config import Config
from .datasets import Dataset
from .diagnostics import warnings_of
from .errors import RunFailed, UserError
from .experiment import Experiment, check_checkpoint_fits, check_state_fits, make_dataset, resolve
from .loading import dump_config, load_config
from .network import Ensemble
from .resolved import bind
from .rundir import CsvLog, atomic_write, filter_lines, holding, new_run_dir, save_params, versions, write_json
from .runfiles import same_columns
from .snapshots import SNAPSHOTS, SnapshotLog, npz_problem
from .tally import Tally
from .trainer import Checkpoint, LogRow, TrainResult, fit, held_interrupts

CHECKPOINT = "checkpoint.npz"  # what an interrupted train run leaves to be resumed from


@dataclass
class RunReport:
    run_dir: Path
    config: Config
    data: Dataset
    result: TrainResult
    summary: dict[str, Any]
    pictures: list[Path] = field(default_factory=list)  # drawn by the caller (the CLI), if any


def metric_columns(exp: Experiment) -> list[str]:
    """The figures logged per epoch: cost, accuracy or R^2, their test twins, then diagnostics."""
    data = exp.data
    score = "r2" if data.task == "regression" else "accuracy"
    cols = ["cost", score]
    if data.X_test is not None:
        cols += ["test_cost", "test_" + score]
    return cols + list(exp.diagnostics)


def train_run(
    cfg: Config,
    out: str | Path = "runs",
    source: str = "config",
    base_dir: Path | None = None,
    on_start: Callable[[Experiment, Path], None] | None = None,
    on_log: Callable[[LogRow], None] | None = None,
    resume: str | Path | None = None,
) -> RunReport:
    """Resolve `cfg`, train it (K = 1) and leave config.yaml, metrics.csv and summary.json.

    With `resume` (an interrupted run's directory, whose config.yaml `cfg` is), training goes on
    from the checkpoint the interrupt left there; metrics.csv ends as if it never stopped.
    """
    exp = resolve(cfg, source, base_dir)
    cfg = exp.config
    state = None
    if resume is None:
        run_dir = new_run_dir(out, cfg.name)
        atomic_write(run_dir / "config.yaml", dump_config(cfg))
    else:
        run_dir = Path(resume)
        path = run_dir / CHECKPOINT
        if not path.is_file():
            raise UserError(f"--resume {run_dir}: no {CHECKPOINT} there (only an interrupted train run has one)")
        _, state = checkpoint.load(path)
        check_checkpoint_fits(cfg, 1, state, path, str(run_dir / "config.yaml"))
    with holding(run_dir):
        return _train_in(run_dir, exp, state, on_start, on_log)


def _train_in(run_dir: Path, exp: Experiment, state: Checkpoint | None,
              on_start: Callable[[Experiment, Path], None] | None,
              on_log: Callable[[LogRow], None] | None) -> RunReport:
    cfg, data = exp
    if on_start is not None:
        on_start(exp, run_dir)
    cols = metric_columns(exp)
    diag = list(exp.diagnostics)
    header = ["epoch", "step", "lr", *cols]
    notes = []
    if state is not None:  # keep the rows up to the checkpoint's last log row, then append
        same_columns(run_dir / "metrics.csv", header, f"--resume {run_dir}")
        keep_logged_rows(run_dir, ",".join(header) + "\n", state.tally)
    log = CsvLog(run_dir / "metrics.csv", header, append=state is not None)
    snapshots = SnapshotLog.for_run(cfg)
    if state is not None and not snapshots.resume_from(run_dir, state.tally.last_epoch, state.tally.rows):
        notes.append(f"{SNAPSHOTS} was missing when the run was resumed: the snapshots (unit pictures over time) "
                     f"start at epoch {state.tally.last_epoch}")

    def record(row: LogRow) -> None:
        log.write([[row.epoch, row.step, float(row.lr[0]), *(float(row.metrics[c][0]) for c in cols)]])
        if on_log is not None:
            on_log(row)

    started = datetime.now().isoformat(timespec="seconds")
    t0 = time.perf_counter()
    try:
        result = fit(exp, callback=record, resume=state, on_weights=snapshots)
    except Exception as err:  # a user's activation that raises, say: the directory says so, then the error
        write_json(run_dir / "summary.json", {"name": cfg.name, "status": "failed", "error": failure(err),
                                              "epochs": cfg.total_epochs(), "started": started,
                                              "seconds": round(time.perf_counter() - t0, 3), "versions": versions()})
        raise RunFailed(f"{failure(err)}; what the run logged is in {run_dir}") from err
    finally:
        log.close()
    with held_interrupts():  # what makes the run finished or resumable is written whole, then Ctrl-C counts
        snapshots.finish()
        snapshots.write(run_dir / SNAPSHOTS)
        if result.checkpoint is not None:  # interrupted: `relu-lab train --resume RUN_DIR` goes on from here
            checkpoint.save(run_dir / CHECKPOINT, [0], result.checkpoint)
        summary = {
            "name": cfg.name,
            "status": result.status[0],
            "epochs": cfg.total_epochs(),
            "epochs_done": result.epochs_done,
            "steps": result.steps_done,
            "optimizer": optimizer_text(cfg),
            "diverged_epoch": int(result.diverged_epoch[0]) if result.diverged_epoch[0] >= 0 else None,
            "final": {c: float(result.final[c][0]) for c in cols if c not in diag},
            "diagnostics": {c: float(result.final[c][0]) for c in diag},
            "warnings": list(exp.warnings) + notes + cut_note(result) + run_warnings(result, cfg),
            "success": None,
            "started": started,
            "seconds": round(time.perf_counter() - t0, 3),
            "train_seconds": round(result.seconds, 3),
            "log_seconds": round(result.log_seconds, 3),  # of train_seconds: evaluating at the log points
            "engine": result.engine,
            "engine_note": exp.engine_reason,
            "versions": versions(),
        }
        if cfg.success is not None:
            epoch = int(result.success_epoch[0])
            met = bool(cfg.success.met(result.final[cfg.success.metric][0])) and result.status[0] != "diverged"
            summary["success"] = {"criterion": str(cfg.success), "met": met,
                                  "first_epoch": epoch if epoch >= 0 else None}
        save_params(run_dir / "params.npz", result.net)
        write_json(run_dir / "summary.json", summary)
        if result.checkpoint is None and state is not None:  # finished: the checkpoint is spent
            (run_dir / CHECKPOINT).unlink(missing_ok=True)
    return RunReport(run_dir, cfg, data, result, summary)


def keep_logged_rows(run_dir: Path, header: str, tally: Tally) -> None:
    """Cut metrics.csv back to the rows logged up to a checkpoint, refusing a file that lacks some of them."""
    path = run_dir / "metrics.csv"

    def logged_by_then(line: str) -> bool:
        try:
            return int(line.split(",", 1)[0]) <= tally.last_epoch
        except ValueError:
            raise UserError(f"--resume {run_dir}: metrics.csv has a line that is not a log row "
                            f"({line[:60].strip()!r}); the run cannot go on from a damaged log") from None

    def complete(kept: int) -> None:
        if kept != tally.rows:
            raise UserError(f"--resume {run_dir}: metrics.csv holds {kept} of the {tally.rows} rows logged before "
                            "the interrupt (cut short or edited?); the run cannot go on from a damaged log")

    if not path.is_file():
        raise UserError(f"--resume {run_dir}: no metrics.csv there; the run cannot go on without its log")
    filter_lines(path, header, logged_by_then, complete)


def failure(err: Exception) -> str:
    return f"{type(err).__name__}: {err}"


def cut_note(result: TrainResult) -> list[str]:
    return [CUT_NOTE] if result.cut else []


CUT_NOTE = ("stopped inside a training step that did not end when Ctrl-C was pressed again (a custom activation "
            "that hangs?): the weights may be part-way through a step, so this run cannot be resumed")


def optimizer_text(cfg: Config) -> str:
    """The update rule(s) with their arguments, e.g. 'adam(beta1=0.9, beta2=0.999, eps=1e-08)'; the phases' in
    turn, '; '-separated, when they change it."""
    return "; ".join(dict.fromkeys(str(p.optimizer) for p in cfg.phases()))


def run_warnings(result: TrainResult, cfg: Config, k: int = 0) -> list[str]:
    """Dead units, vanishing gradients and divergence of member k, as sentences."""
    out = []
    if result.diverged_epoch[k] >= 0:
        out.append(f"diverged at epoch {result.diverged_epoch[k]}: the cost became NaN or infinite")
    else:
        out += hidden_blow_up(result, cfg, k)
    return out + warnings_of(result.tally, cfg.model.layers, k)


CLIPPED_SHARE = 0.5  # clipping active in more steps than this: the raw gradient keeps blowing up
ABSURD_WEIGHT = 1e4  # a weight this large in a net of these sizes is a blow-up, even when finite


def hidden_blow_up(result: TrainResult, cfg: Config, k: int = 0) -> list[str]:
    """A blow-up that did not end in NaN: clipping scaling most steps down, or absurdly large weights."""
    out = []
    if result.clipped_steps is not None and result.steps_done:
        share = result.clipped_steps[k] / result.steps_done
        if share > CLIPPED_SHARE:
            out.append(f"gradient clipping was active in {100 * share:.0f} % of the {result.steps_done} steps: the "
                       f"raw gradient kept exceeding train.clip = {cfg.train.clip:g}, a blow-up the clipping hides")
    biggest = [float(np.abs(w[k]).max()) for w in result.net.W]
    layer = int(np.argmax(biggest))
    if biggest[layer] > ABSURD_WEIGHT:
        out.append(f"weights as large as |w| = {biggest[layer]:.3g} in layer {layer + 1}: far beyond what a net "
                   "of this size needs, a blow-up that stayed finite (or an init_scale far too large)")
    return out


def load_network(run_dir: str | Path) -> tuple[Config, Dataset, Ensemble]:
    """The resolved config, the dataset and the trained network of a finished `train` run."""
    run_dir = Path(run_dir)
    cfg = load_config(run_dir / "config.yaml")
    data = make_dataset(cfg, run_dir)
    path = run_dir / "params.npz"
    if not path.exists():
        raise UserError(f"{run_dir}: no params.npz (not a finished train run)")
    phase = _saved_in_phase(run_dir, cfg)
    hidden = [bind(cfg, h) for h in cfg.model.hidden_list(cfg.phases()[phase].hidden)]
    state = read_params(path)
    check_state_fits(cfg, state, path, phase, members=1, config_name=str(run_dir / "config.yaml"))
    net = Ensemble.from_state(state, hidden, bind(cfg, cfg.model.output))
    return cfg, data, net


def _saved_in_phase(run_dir: Path, cfg: Config) -> int:
    """The phase whose activations params.npz was saved with: an interrupted run's checkpoint says, else the last."""
    last = len(cfg.phases()) - 1
    if not (run_dir / CHECKPOINT).is_file():
        return last
    try:
        phase = checkpoint.load(run_dir / CHECKPOINT)[1].phase
    except UserError:  # a damaged checkpoint: --resume says so; the network is drawn as finished
        return last
    return phase if isinstance(phase, int) and 0 <= phase <= last else last


def read_params(path: Path) -> dict[str, np.ndarray]:
    """The arrays of a params.npz, read safely; raises UserError for a file that is not one."""
    try:
        with np.load(path, allow_pickle=False) as z:
            return {name: z[name] for name in z.files}
    except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile) as err:
        raise UserError(f"{path}: not a readable params file ({npz_problem(path, err)})") from None
