"""The command line: parse, call one library function, render. No logic lives here."""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from . import __version__
from .config import load_config
from .console import TrainProgress, summary_table
from .errors import UserError
from .run import train_run

app = typer.Typer(
    help="relu-lab: experiments on activation functions in small neural networks.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)

EXIT_BAD_INPUT, EXIT_RUN_FAILED, EXIT_INTERRUPTED = 2, 1, 130

# Options shared by every command that trains, spelled alike everywhere.
ConfigArg = Annotated[str, typer.Argument(help="YAML config file, e.g. configs/xor_relu.yaml", show_default=False)]
SetOpt = Annotated[
    Optional[list[str]],
    typer.Option("--set", "-s", help="Override a config key: --set train.lr=0.5 (repeatable).", show_default=False),
]
OutOpt = Annotated[Path, typer.Option("--out", "-o", help="Directory that receives run directories.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress or table; print only the run directory.")]
DebugOpt = Annotated[bool, typer.Option("--debug", help="Show the full traceback of errors.")]


@contextmanager
def user_errors(debug: bool) -> Iterator[None]:
    """Turn bad input into one line on stderr and exit code 2 (a traceback only with --debug)."""
    try:
        yield
    except UserError as err:
        if debug:
            raise
        err_console.print(f"[red]error:[/] {err}", highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None


def _sigterm_as_interrupt() -> None:
    # SIGTERM ends a run like Ctrl-C: the trainer stops cleanly and the files say "interrupted".
    def handler(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


def _version(value: bool) -> None:
    if value:
        console.print(f"relu-lab {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """relu-lab: experiments on activation functions in small neural networks."""


@app.command()
def train(
    config: ConfigArg,
    set_: SetOpt = None,
    out: OutOpt = Path("runs"),
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Train one network from a config and write its run directory.

    Example: relu-lab train configs/xor_relu.yaml --set train.lr=0.5
    """
    _sigterm_as_interrupt()
    with user_errors(debug):
        cfg = load_config(config, set_ or [])
        progress = TrainProgress(console, quiet)

        def on_start(resolved, data, run_dir):
            layers = "-".join(map(str, resolved.model.layers))
            progress.start(resolved.total_epochs(), f"{resolved.name} ({data.name}, {layers})")

        try:
            report = train_run(cfg, out, source=config, base_dir=Path(config).parent,
                               on_start=on_start, on_log=progress.update)
        finally:
            progress.close()
    summary = report.summary
    if quiet:
        console.print(str(report.run_dir), highlight=False, soft_wrap=True)
    else:
        console.print(summary_table(summary))
        console.print(f"run directory: {report.run_dir}", highlight=False, soft_wrap=True)
    if summary["status"] == "diverged":
        err_console.print(f"[red]diverged:[/] the cost became NaN or infinite by epoch {summary['diverged_epoch']}; "
                          "try a smaller learning rate or --set train.clip=1", highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_RUN_FAILED)
    if summary["status"] == "interrupted":
        err_console.print(f"interrupted at epoch {summary['epochs_done']}; what was logged is in {report.run_dir}",
                          highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_INTERRUPTED)


def run() -> None:  # console-script entry point
    try:
        app()
    except KeyboardInterrupt:  # an interrupt outside training (e.g. while loading)
        err_console.print("interrupted")
        sys.exit(EXIT_INTERRUPTED)
