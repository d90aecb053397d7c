"""Training an ensemble over phases: the engine runs the steps, the trainer everything around them.

The trainer never prints. It reports each logged epoch through a callback and
returns a `TrainResult` holding what the end of the run needs (a `Tally`) and each member's fate.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from . import engines
from .datasets import Dataset
from .diagnostics import diagnose
from .engines import Plan
from .losses import Loss
from .network import Ensemble
from .resolved import Experiment, Trainee
from .tally import Tally

COMPLETED, DIVERGED, INTERRUPTED = "completed", "diverged", "interrupted"


@dataclass
class LogRow:
    """Figures of every member at one logged epoch; arrays have shape (K,)."""

    epoch: int
    step: int
    lr: np.ndarray
    metrics: dict[str, np.ndarray]  # cost, accuracy | r2, test_cost, test_accuracy | test_r2


@dataclass
class TrainResult:
    tally: Tally  # what the end of the run needs from its log rows (the rows went to the callback)
    status: list[str]  # per member: completed | diverged | interrupted
    diverged_epoch: np.ndarray  # (K,), -1 where the member did not diverge
    success_epoch: np.ndarray  # (K,), first logged epoch meeting the criterion, -1 if never
    epochs_done: int
    steps_done: int
    seconds: float
    net: Ensemble = field(repr=False)
    engine: str = "numpy"  # the engine that ran the steps
    checkpoint: Checkpoint | None = field(default=None, repr=False)  # set when interrupted: fit(resume=...)
    clipped_steps: np.ndarray | None = None  # (K,) steps whose gradient train.clip scaled down (None: no clip)
    cut: bool = False  # interrupted inside a block that would not end (see Cut): no checkpoint
    log_seconds: float = 0.0  # of `seconds`, spent evaluating at the log points (figures and diagnostics)

    @property
    def final(self) -> dict[str, np.ndarray]:
        return self.tally.final


def member_rngs(seed: int) -> tuple[np.random.Generator, np.random.Generator]:
    """Generators for a member's initial weights and its sample order, from its seed alone."""
    init_ss, order_ss = np.random.SeedSequence(seed).spawn(2)
    return np.random.default_rng(init_ss), np.random.default_rng(order_ss)


def evaluate(net: Ensemble, data: Dataset, loss: Loss, reduction: str = "mean", diagnostics: list[str] = (),
             engine=None) -> dict[str, np.ndarray]:
    """Cost and accuracy (classification) or R^2 (regression) of every member, train and test,
    then the named per-layer diagnostics (see diagnostics.py) on the training set. The passes over
    the data run on `engine` (a module of `engines`; the NumPy one by default)."""
    engine = engine or engines.load("numpy")
    out = {}
    sets = [("", data.X, data.Y)]
    if data.X_test is not None:
        sets.append(("test_", data.X_test, data.Y_test))
    for prefix, X, Y in sets:
        p = engine.evaluate_pass(net, X, Y, loss, reduction, bool(diagnostics) and not prefix)
        a = p.a
        per_sample = loss.value(p.z, a, Y)
        out[prefix + "cost"] = per_sample.mean(axis=-1) if reduction == "mean" else per_sample.sum(axis=-1)
        if data.task == "regression":
            sse = np.sum((a - Y) ** 2, axis=(-2, -1))
            sst = np.sum((Y - Y.mean(axis=0)) ** 2)
            out[prefix + "r2"] = 1.0 - sse / sst if sst > 0 else np.where(sse == 0, 1.0, 0.0)
        elif data.task == "multiclass":
            out[prefix + "accuracy"] = np.mean(a.argmax(-1) == Y.argmax(-1), axis=-1)
        else:
            out[prefix + "accuracy"] = np.mean((a > 0.5) == (Y > 0.5), axis=(-2, -1))
        if p.grad is not None:
            diagnosed = diagnose(net, p, diagnostics)
    if diagnostics:
        out |= diagnosed
    return out


def _orders(order: str, rngs: list[np.random.Generator], n: int, epochs: int) -> np.ndarray | None:
    """Each member's sample indices for `epochs` epochs `(epochs, K, n)`, or None for the data's own order.

    Each member draws from its own Generator, epoch after epoch, so the draws do not depend on the
    other members or on how many epochs are drawn at once."""
    if order == "sequential":
        return None
    if order == "shuffle":
        draw = [[rng.permutation(n) for _ in range(epochs)] for rng in rngs]
    else:  # "random": with replacement
        draw = [[rng.integers(0, n, size=n) for _ in range(epochs)] for rng in rngs]
    return np.stack([np.stack(d) for d in draw], axis=1)


# One engine call covers at most this many member-samples (K x n x epochs): it bounds the sample
# orders' memory (8 bytes each) and how long a Ctrl-C waits for a compiled call to return. A NumPy
# call covers at most NUMPY_CALL_SAMPLES member-samples and NUMPY_CALL_STEPS steps (each costs
# Python's overhead, whatever its size), so that Ctrl-C is answered within a fraction of a second
# whatever the batching and log_every.
CALL_SAMPLES = 2**21
NUMPY_CALL_SAMPLES, NUMPY_CALL_STEPS = 2**18, 2000
# seconds: with the NumPy engine (the one that runs a user's own activation, which may never return),
# Ctrl-C pressed again this long after a held one stops the block where it is. A compiled call runs
# no user code and always returns: its block is never cut.
PATIENCE = 1.0


HELD = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)  # Ctrl-C, kill, a closed terminal


def _still_in_a_step() -> None:
    if engines.notify is not None:
        engines.notify("still inside a training step (a custom activation that does not return?); press Ctrl-C "
                       "again to stop it where it is (the run then cannot be resumed)")


class Cut(KeyboardInterrupt):
    """Ctrl-C (or SIGTERM) pressed again while a held training block would not end (a custom
    activation that hangs): the block is stopped where it was, so its state cannot be resumed."""


@contextlib.contextmanager
def held_interrupts(patience: float | None = None):
    """Hold Ctrl-C (and SIGTERM) until the block is done, then hand it to the handler it was held
    from (Python's raises KeyboardInterrupt; so does the CLI's for the first one).

    An engine call and the bookkeeping after it must not be cut apart: a compiled call cannot be
    interrupted inside, and an interrupt just after it would leave the weights ahead of the counters.
    With `patience`, a signal that comes that many seconds or more after a held one raises `Cut`
    inside the block: a block that does not end is not a trap. Without it (the writes that make a
    run finished or resumable) nothing cuts the block short.
    Only the main thread can handle signals; elsewhere (a Dask worker) the block runs as it is.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[tuple[int, float]] = []  # (signal, when)
    slow: list[threading.Timer] = []  # says so if the block outlasts the patience after a signal

    def hold(signum, frame) -> None:
        if patience is not None and caught and time.monotonic() - caught[0][1] >= patience:
            handler = old[signum]  # it hears of the interrupt too (the CLI's counts them: later ones are answered)
            if callable(handler):
                with contextlib.suppress(KeyboardInterrupt):
                    handler(signum, None)
            raise Cut
        caught.append((signum, time.monotonic()))
        if patience is not None and len(caught) == 1:  # after the append: a signal during start() is the second
            slow.append(threading.Timer(patience, _still_in_a_step))
            slow[0].start()

    old = {sig: signal.getsignal(sig) for sig in HELD}
    for sig in old:
        signal.signal(sig, hold)
    try:
        yield
    finally:
        for timer in slow:
            timer.cancel()
        for sig, handler in old.items():
            signal.signal(sig, handler)
    if caught:  # the held signal goes to the handler it was held from (the CLI's counts them)
        handler = old[caught[0][0]]
        if callable(handler):
            handler(caught[0][0], None)  # raises KeyboardInterrupt, or answers without stopping
        elif handler != signal.SIG_IGN:
            raise KeyboardInterrupt


@dataclass
class Checkpoint:
    """Everything an interrupted `fit` needs to go on exactly where it stopped (see checkpoint.py)."""

    phase: int  # the phase under way
    left: int  # its epochs still to train
    epoch: int
    step: int
    lr: np.ndarray
    alive: np.ndarray
    diverged_epoch: np.ndarray
    success_epoch: np.ndarray
    flat: np.ndarray  # the parameters, laid out for the phase's activations
    order_states: list[dict]  # each member's sample-order Generator state
    tally: Tally  # of the regular log rows so far (the rows themselves are in the caller's log)
    clipped: np.ndarray | None = None  # steps whose gradient the clip scaled down, per member
    slots: np.ndarray | None = None  # the update rule's state (Ensemble.slots), None when it keeps none
    rule_steps: np.ndarray | None = None  # the update rule's step count per member


def fit(
    exp: Experiment,
    trainees: list[Trainee] | None = None,
    callback: Callable[[LogRow], None] | None = None,
    resume: Checkpoint | None = None,
    on_weights: Callable[[int, int, Ensemble], None] | None = None,
) -> TrainResult:
    """Train one ensemble of `exp`'s network on its data: a member per trainee (its seed and learning
    rates; by default the config's own, `exp.trainee()`).

    The update steps between two log points run on the experiment's engine (`engines`); the data, the
    sample orders, the evaluation and the logs are the same for every engine.
    A member whose weights become non-finite is frozen (learning rate 0) and marked diverged at
    that epoch; the others go on. Ctrl-C ends training cleanly with status `interrupted` and a
    `checkpoint` in the result: `fit(..., resume=checkpoint)` then goes on bit for bit as if
    nothing had happened (the rows already logged are not logged again).
    Each logged row goes to `callback` and is not kept: memory does not grow with the run.
    """
    trainees = trainees or [exp.trainee()]
    data, stages = exp.data, exp.stages
    K = len(trainees)
    rngs = [member_rngs(t.seed) for t in trainees]
    net = exp.network([r[0] for r in rngs])
    order_rngs = [r[1] for r in rngs]
    engine_name = exp.engine
    if engine_name not in engines.ENGINES:  # experiment.resolve chooses it, once, for every caller
        raise ValueError(f"fit: engine '{engine_name}' is not settled; resolve the config first (experiment.resolve)")
    engine = engines.load(engine_name)
    loss, reduction = exp.loss, exp.reduction
    clip, weight_decay, l1 = exp.penalties
    success = exp.success
    total = exp.total_epochs
    log_every = exp.log_every
    n = len(data.X)

    tally = Tally()
    diverged_epoch = np.full(K, -1)
    success_epoch = np.full(K, -1)
    alive = np.ones(K, dtype=bool)
    lr = np.array([t.lr[0] for t in trainees])
    epoch = step = 0
    clipped = np.zeros(K, dtype=np.int64) if clip is not None else None  # steps the clip scaled
    at = [0, stages[0].epochs]  # the phase under way and its epochs left
    interrupted = cut = False
    checkpoint = None
    started = time.perf_counter()
    log_seconds = [0.0]

    diagnostics = list(exp.diagnostics)
    patience = PATIENCE if engine_name == "numpy" else None

    def log() -> None:
        t0 = time.perf_counter()
        metrics = evaluate(net, data, loss, reduction, diagnostics, engine)
        log_seconds[0] += time.perf_counter() - t0
        bad = alive & ~np.isfinite(metrics["cost"])
        diverged_epoch[bad] = epoch
        alive[bad] = False
        if success is not None and success.metric in metrics:
            newly = (success_epoch < 0) & alive & success.met(metrics[success.metric])
            success_epoch[newly] = epoch
        row = LogRow(epoch, step, np.where(alive, lr, 0.0), metrics)
        tally.add(epoch, metrics)
        if callback is not None:
            callback(row)
        if on_weights is not None:  # the weights of this logged epoch and the phase under way (snapshots.py)
            on_weights(epoch, at[0], net)

    def enter_phase(p: int) -> None:
        if p > 0 or stages[p].hidden != exp.hidden:
            net.set_hidden(list(stages[p].hidden))

    if resume is not None and not resume.tally.rows:
        resume = None  # stopped before its first log: nothing was trained, start afresh
    if resume is not None:
        enter_phase(resume.phase)
        net.flat[...] = resume.flat
        for rng, state in zip(order_rngs, resume.order_states):
            rng.bit_generator.state = state
        tally = resume.tally.copy()
        lr, alive = resume.lr.copy(), resume.alive.copy()
        diverged_epoch, success_epoch = resume.diverged_epoch.copy(), resume.success_epoch.copy()
        epoch, step, at = resume.epoch, resume.step, [resume.phase, resume.left]
        if clipped is not None and resume.clipped is not None:
            clipped[...] = resume.clipped
        if resume.slots is not None:
            net.optimizer_state()[...] = resume.slots
        net.steps[...] = resume.rule_steps if resume.rule_steps is not None else 0

    # Every change of state happens inside a held_interrupts block, so a Ctrl-C surfaces
    # only between them, when the weights, the counters and the sample orders agree.
    try:
        with np.errstate(all="ignore"):  # overflow is detected and reported as divergence
            if resume is None:
                with held_interrupts(patience):
                    enter_phase(0)  # the first log shows the net with the activations it trains with
                    log()
            for p in range(at[0], len(stages)):
                stage = stages[p]
                if p > at[0]:
                    with held_interrupts(patience):
                        # lr: each member's own; None continues the previous phase's decayed value
                        lr = np.array([t.lr[p] if t.lr[p] is not None else lr[k] for k, t in enumerate(trainees)])
                        enter_phase(p)
                        before = stages[p - 1]
                        if (stage.rule, stage.rule_args) != (before.rule, before.rule_args):  # a new rule starts afresh
                            net.reset_optimizer()
                        at = [p, stage.epochs]
                B = stage.batch
                plan = Plan(loss, reduction, B, np.array([t.lr_decay[p] for t in trainees]),
                            clip, weight_decay, clipped, l1, stage.rule, stage.rule_args)
                per_call = max(1, CALL_SAMPLES // (K * n))
                if engine_name == "numpy":
                    per_call = min(per_call, max(1, NUMPY_CALL_SAMPLES // (K * n)),
                                   max(1, NUMPY_CALL_STEPS // -(-n // B)))
                while at[1] > 0 and alive.any():
                    with held_interrupts(patience):
                        # up to the next log point, drawn and trained in one engine call
                        E = min(at[1], log_every - epoch % log_every, per_call)
                        orders = _orders(stage.order, order_rngs, n, E)
                        dead_at = engine.steps(net, data.X, data.Y, plan, orders, E, lr, alive)
                        died = dead_at > 0
                        diverged_epoch[died] = epoch + dead_at[died]
                        ran = E if alive.any() else int(dead_at.max())  # all frozen: training stops there
                        epoch, step, at[1] = epoch + ran, step + ran * -(-n // B), at[1] - ran
                        if epoch % log_every == 0 or epoch == total or not alive.any():
                            log()
                if not alive.any():
                    break
    except Cut:  # the weights may be part-way through a step: nothing to resume from, nothing more to evaluate
        interrupted = cut = True
    except KeyboardInterrupt:
        interrupted = True
        checkpoint = Checkpoint(at[0], at[1], epoch, step, lr.copy(), alive.copy(), diverged_epoch.copy(),
                                success_epoch.copy(), net.flat.copy(), [r.bit_generator.state for r in order_rngs],
                                tally.copy(), None if clipped is None else clipped.copy(),
                                None if net.slots is None else net.slots.copy(), net.steps.copy())
    if tally.last_epoch != epoch and not cut:
        with np.errstate(all="ignore"):
            log()
    status = [DIVERGED if d >= 0 else INTERRUPTED if interrupted else COMPLETED for d in diverged_epoch]
    return TrainResult(tally, status, diverged_epoch, success_epoch, epoch, step,
                       time.perf_counter() - started, net, engine_name, checkpoint, clipped, cut, log_seconds[0])
