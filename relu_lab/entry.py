"""`relu-lab`, the console script: Ctrl-C and SIGTERM are handled from its first line to its exit.

Only the standard library is loaded before the handler is in place; numpy, typer, rich and the
commands load after it, so an interrupt while they load ends like any other: one line on stderr
and exit code 130, never a traceback, never a process killed by the signal.

The first interrupt raises KeyboardInterrupt (training stops cleanly; a command stops). Every later
one, at any moment until the process has exited, is answered, not obeyed: the save that makes
--resume possible is never cut short, and the exit code stays 130.
"""

from __future__ import annotations

import os
import signal
import sys
import time

EXIT_INTERRUPTED = 130
SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)  # Ctrl-C, kill, a closed terminal
ANSWER_EVERY = 1.0  # seconds: an impatient user pressing Ctrl-C ten times is answered once, not ten times


class Interrupts:
    """A signal handler that counts Ctrl-C and SIGTERM. The first raises KeyboardInterrupt, unless the
    process is already on its way out (`closing`); the later ones call `answer` (at most once a second)."""

    def __init__(self, answer=None):
        self.count = 0
        self.closing = False  # the exit code is decided: nothing is raised any more
        self.reported = False  # a line saying "interrupted" (and what was kept) has been printed
        self.started = None  # the command that began (set by the CLI), for the line that says what stopped
        self.answer = answer or _plain_answer
        self._answered = -ANSWER_EVERY

    def __call__(self, signum, frame) -> None:
        self.count += 1
        if self.count == 1 and not self.closing:
            raise KeyboardInterrupt
        now = time.monotonic()
        if not self.closing and now - self._answered >= ANSWER_EVERY:
            self._answered = now
            try:
                self.answer()
            except Exception:  # an answer that cannot be printed (a closed pipe) is no reason to stop
                pass


def _plain_answer() -> None:
    sys.stderr.write("interrupt: stopping, one moment; it then exits by itself\n")
    sys.stderr.flush()


current: Interrupts | None = None  # the console script's handler, for the whole life of the process


def handle(handler) -> None:
    for sig in SIGNALS:
        signal.signal(sig, handler)


def run() -> None:
    """The console script's entry point (and `python -m relu_lab`)."""
    global current
    interrupts = current = Interrupts()
    handle(interrupts)
    code = EXIT_INTERRUPTED
    try:
        try:
            from .cli import exit_code  # numpy, typer, rich ...: an interrupt here is the first, and stops

            code = exit_code()
            interrupts.closing = True
        except KeyboardInterrupt:  # while the modules load, or between the command and here
            interrupts.closing = True
            code = EXIT_INTERRUPTED
    finally:  # (also when --debug lets a traceback through)
        interrupts.closing = True
        # from here no signal is obeyed: SIG_IGN outlives the interpreter's shutdown, a Python handler does not
        handle(signal.SIG_IGN)
    if interrupts.count:
        code = EXIT_INTERRUPTED
        if not interrupts.reported:
            _say_interrupted(interrupts.started)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError, AttributeError):  # a reader that has gone: the exit's own flush stays quiet
            try:
                null = os.open(os.devnull, os.O_WRONLY)
                os.dup2(null, stream.fileno())
                os.close(null)
            except (OSError, ValueError, AttributeError):
                pass
    sys.exit(code)


def _say_interrupted(started: str | None) -> None:
    if started is None:
        text = "interrupted: relu-lab stopped while starting; nothing was written"
    else:
        text = f"interrupted: relu-lab {started} was stopped; the files it had written are kept"
    try:
        sys.stderr.write(text + "\n")
    except (OSError, ValueError, AttributeError):
        pass
