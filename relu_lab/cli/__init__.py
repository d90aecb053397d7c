"""The command line: parse, call one library function, render. No logic lives here.

One module per group of commands; importing them registers their commands on `app`, in the
order `relu-lab --help` lists them.
"""

from __future__ import annotations

import sys
from importlib import import_module

from ..console import Survivable
from .base import EXIT_INTERRUPTED, EXIT_RUN_FAILED, app, complain, err_console

for _commands in ("train", "grids", "plot", "past_runs", "check", "configs"):  # in the order --help lists them
    import_module(f"{__name__}.{_commands}")

__all__ = ["app", "run"]


def run() -> None:  # console-script entry point
    try:
        app()
    except KeyboardInterrupt:  # an interrupt outside training (e.g. while loading)
        err_console.print("interrupted")
        sys.exit(EXIT_INTERRUPTED)
    except BrokenPipeError:  # click's own output (--help) into a pipe its reader closed
        Survivable("stdout")._lose()
        sys.exit(0)
    except OSError as err:  # a full disk, a file that cannot be written: which one, and what now
        if "--debug" in sys.argv:
            raise
        where = f"{err.filename}: " if err.filename else ""
        complain("failed", "red", f"{where}{err.strerror or err}; the run directory keeps what was written "
                 "before (a sweep or compare goes on from there with --resume once the cause is fixed)")
        sys.exit(EXIT_RUN_FAILED)
    except Exception as err:  # a failure during a run: one line, the traceback only with --debug
        if "--debug" in sys.argv:
            raise
        complain("failed", "red", f"{type(err).__name__}: {err} (run again with --debug for the traceback)")
        sys.exit(EXIT_RUN_FAILED)
