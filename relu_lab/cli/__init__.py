"""The command line: parse, call one library function, render. No logic lives here.

One module per group of commands; importing them registers their commands on `app`, in the
order `relu-lab --help` lists them.
"""

from __future__ import annotations

import sys
from importlib import import_module

from ..console import Survivable
from ..errors import RunFailed
from .base import EXIT_RUN_FAILED, app, complain

for _commands in ("train", "grids", "plot", "past_runs", "check", "configs"):  # in the order --help lists them
    import_module(f"{__name__}.{_commands}")

__all__ = ["app", "run", "exit_code"]


def run() -> None:
    """The console script's entry point (relu_lab.entry.run: Ctrl-C handled until the process exits)."""
    from ..entry import run as entry_run

    entry_run()


def _closed_pipe(done: SystemExit) -> bool:
    """Whether this exit(1) is click's or rich's answer to a closed pipe (their own output: --help,
    usage), not a failure: click wraps the streams in PacifyFlushWrapper, rich exits from on_broken_pipe."""
    if type(sys.stdout).__name__ == "PacifyFlushWrapper":  # by name: click deprecates importing it
        return True
    tb = done.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_name == "on_broken_pipe":
            return True
        tb = tb.tb_next
    return False


def exit_code() -> int:
    """Run the command line in sys.argv and return its exit code; errors become one line on stderr.

    A KeyboardInterrupt that no command turned into its own line comes out of here (to relu_lab.entry)."""
    try:
        app()
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else 0 if done.code is None else 1
        if code == 1 and _closed_pipe(done):  # click's or rich's own output (--help) into a pipe its reader
            Survivable("stdout")._lose()  # closed (`relu-lab --help | head -1`): not a failure
            return 0
        return code
    except RunFailed as err:  # an error inside a run: its cause, and where the run's files are
        if "--debug" in sys.argv:
            raise err.__cause__ from None
        complain("failed", "red", f"{err} (run again with --debug for the traceback)")
        return EXIT_RUN_FAILED
    except BrokenPipeError:  # the same, should click let it through
        Survivable("stdout")._lose()
        return 0
    except OSError as err:  # a full disk, a file that cannot be written: which one, and what now
        if "--debug" in sys.argv:
            raise
        where = f"{err.filename}: " if err.filename else ""
        complain("failed", "red", f"{where}{err.strerror or err}; the run directory keeps what was written "
                 "before (a sweep or compare goes on from there with --resume once the cause is fixed)")
        return EXIT_RUN_FAILED
    except Exception as err:  # a failure during a run: one line, the traceback only with --debug
        if "--debug" in sys.argv:
            raise
        complain("failed", "red", f"{type(err).__name__}: {err} (run again with --debug for the traceback)")
        return EXIT_RUN_FAILED
    return 0
