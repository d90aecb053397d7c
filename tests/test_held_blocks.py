"""Ctrl-C held during a training block: a compiled call (no user code, it always returns) is never
cut however long it takes and however often Ctrl-C is pressed; a cut NumPy block still counts as the
interrupt for the handler it was held from."""

from __future__ import annotations

import signal
import time

import pytest

from relu_lab import trainer
from relu_lab.experiment import resolve
from relu_lab.loading import config_from_dict


def test_a_block_without_patience_is_never_cut_however_late_the_presses():
    pressed = []
    old = signal.signal(signal.SIGINT, lambda signum, frame: pressed.append(signum))
    try:
        with trainer.held_interrupts(None):
            signal.raise_signal(signal.SIGINT)
            time.sleep(0.05)
            signal.raise_signal(signal.SIGINT)  # pressed again, long after: still held
        assert pressed == [signal.SIGINT]  # handed on once, when the block was done
    finally:
        signal.signal(signal.SIGINT, old)


def test_a_cut_block_tells_the_handler_it_was_held_from(monkeypatch):
    heard = []

    def outer(signum, frame):
        heard.append(signum)
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGINT, outer)
    try:
        with pytest.raises(trainer.Cut), trainer.held_interrupts(0.01):
            signal.raise_signal(signal.SIGINT)
            time.sleep(0.05)
            signal.raise_signal(signal.SIGINT)  # pressed again after the patience: cut
        assert heard == [signal.SIGINT]  # the CLI's handler counted it: later presses are answered
    finally:
        signal.signal(signal.SIGINT, old)


@pytest.mark.parametrize("engine,patience", [("compiled", None), ("numpy", trainer.PATIENCE)])
def test_only_the_numpy_engine_blocks_can_be_cut(engine, patience, monkeypatch):
    seen = set()
    held = trainer.held_interrupts

    def recording(p=None):
        seen.add(p)
        return held(p)

    monkeypatch.setattr(trainer, "held_interrupts", recording)
    exp = resolve(config_from_dict({"data": {"name": "xor"}, "model": {"layers": [2, 4, 1]},
                                    "train": {"epochs": 20}, "engine": engine, "log_every": 10}))
    trainer.fit(exp)
    assert seen == {patience}
