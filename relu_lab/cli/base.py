"""What every command shares: the app, the consoles, the options spelled alike everywhere,
one-line errors, exit codes, and Ctrl-C handling."""

from __future__ import annotations

import functools
import inspect
import json
import re
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Optional

import typer
import typer.rich_utils
from rich.console import Console
from rich.markup import escape

from .. import __version__, entry
from ..console import Survivable
from ..errors import UserError

app = typer.Typer(
    help="relu-lab: experiments on activation functions in small neural networks.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(file=Survivable("stdout"))
err_console = Console(file=Survivable("stderr"), stderr=True)

EXIT_BAD_INPUT, EXIT_RUN_FAILED, EXIT_INTERRUPTED = 2, 1, 130
LONGEST_LINE = 600  # characters of an error line

# Options shared by every command that trains, spelled alike everywhere.
ConfigArg = Annotated[str, typer.Argument(help="YAML config file, e.g. configs/xor_relu.yaml", show_default=False)]
GridConfigArg = Annotated[Optional[str], typer.Argument(
    help="YAML config file (omit with --resume)", show_default=False)]
SetOpt = Annotated[
    Optional[list[str]],
    typer.Option("--set", "-s", help="Override a config key: --set train.lr=0.5 (repeatable).", show_default=False),
]
OutOpt = Annotated[Path, typer.Option("--out", "-o", help="Directory that receives run directories.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress or table; print only the run directory.")]
DebugOpt = Annotated[bool, typer.Option("--debug", help="Show the full traceback of errors.")]
NoPlotsOpt = Annotated[bool, typer.Option(
    "--no-plots", help="Skip the PNG plots (draw them later with: relu-lab plot RUN_DIR).")]
EngineOpt = Annotated[Optional[str], typer.Option(
    "--engine", help="What runs the SGD steps: auto, compiled or numpy \\[default: the config's engine, else auto].",
    show_default=False)]

LrOpt = Annotated[Optional[str], typer.Option(
    "--lr", help="Learning rates: a list 0.001,0.01,0.1 or a log range lo:hi:n such as 1e-4:10:9.",
    show_default=False)]
SeedsOpt = Annotated[Optional[str], typer.Option(
    "--seeds", help="Seeds for every grid point: a count N (0..N-1), a list 3,5,7 or a range 100:164 (100..163) "
    "\\[default: the config's sweep.seeds, else 32].", show_default=False)]
ParamOpt = Annotated[Optional[list[str]], typer.Option(
    "--param", "-p", help="Vary another key: --param model.init_scale=0.5,1,2 (repeatable; grid = product).",
    show_default=False)]


NameOpt = Annotated[Optional[str], typer.Option(
    "--name", help="Name the run (its directory and its listing in `relu-lab runs`) \\[default: the config's name].",
    show_default=False)]
NAME = re.compile(r"[A-Za-z0-9_+-][A-Za-z0-9_.+-]{0,99}")


def checked_name(name: str) -> str:
    """--name as given, when it can name a directory as it is; raises UserError."""
    if not NAME.fullmatch(name):
        raise UserError(f"--name {name!r}: use 1-100 letters, digits and _ . + - (not starting with '.'); "
                        "it names the run directory")
    return name


def overrides(set_: list[str] | None, engine: str | None, name: str | None = None) -> list[str]:
    """--set items, with --engine and --name as more (validated like the config keys)."""
    return [*(set_ or []), *([f"engine={engine}"] if engine is not None else []),
            *([f"name={json.dumps(checked_name(name))}"] if name is not None else [])]


def notes_to_stderr() -> None:
    """The library's one-line notes (the first compile of the kernels) go to stderr as they happen."""
    from .. import engines

    engines.notify = lambda text: complain("note", "cyan", text)


def say(text: str) -> None:
    """A plain line on stdout: no markup, so paths and names are printed as they are."""
    console.print(text, markup=False, highlight=False, soft_wrap=True)


def complain(tag: str, style: str, text: str) -> None:
    """One line on stderr with a coloured tag; the text is escaped (a key like 'a[b]' is not markup)
    and kept on one line whatever characters a file or key name brings."""
    one_line = text.replace("\r", "\\r").replace("\n", "\\n")
    if len(one_line) > LONGEST_LINE:  # a 5000-character name quoted back is no longer one line to read
        cut = len(one_line) - LONGEST_LINE
        one_line = f"{one_line[:LONGEST_LINE - 100]} [... {cut} characters ...] {one_line[-100:]}"
    err_console.print(f"[{style}]{tag}:[/] {escape(one_line)}", highlight=False, soft_wrap=True)
    if tag == "interrupted" and entry.current is not None:
        entry.current.reported = True


@contextmanager
def user_errors(debug: bool) -> Iterator[None]:
    """Turn bad input into one line on stderr and exit code 2 (a traceback only with --debug)."""
    try:
        yield
    except UserError as err:
        if debug:
            raise
        complain("error", "red", str(err))
        raise typer.Exit(EXIT_BAD_INPUT) from None


def _answer() -> None:
    complain("interrupt", "yellow", "saving what the run did, one moment; it then exits by itself")


def _Interrupts() -> entry.Interrupts:  # noqa: N802 - the handler a command installs for itself
    """Ctrl-C and SIGTERM during a command. The first stops training cleanly (KeyboardInterrupt: the
    files say "interrupted"); one that comes while the run saves its files is answered, not obeyed,
    so the save that makes --resume possible is never cut short."""
    return entry.Interrupts(_answer)


def _arguments(command, args, kwargs) -> dict:
    try:
        return inspect.signature(command).bind_partial(*args, **kwargs).arguments
    except TypeError:
        return {}


def _entries(folder) -> set[str]:
    try:
        return {p.name for p in Path(folder).iterdir()} if folder is not None and Path(folder).is_dir() else set()
    except OSError:
        return set()


def _out(name: str, arguments: dict):
    """Where the command makes its run directory (show: RUN_DIR/members unless --out)."""
    if name == "show" and arguments.get("out") is None and arguments.get("run_dir") is not None:
        return Path(arguments["run_dir"]) / "members"
    return arguments.get("out")


def _what_was_kept(name: str, arguments: dict, before: set[str]) -> str:
    """The line for a Ctrl-C that the command did not answer itself (while it loaded, planned, drew
    the plots or printed its table): what is on disk, and what to do with it."""
    kind = "train" if name == "show" else arguments.get("kind", name)  # show makes a train run directory
    run_dir = arguments.get("resume")
    out = _out(name, arguments)
    if run_dir is None and out is not None:
        new = sorted(_entries(out) - before)
        run_dir = Path(out) / new[0] if len(new) == 1 else None
    if run_dir is None:
        target = arguments.get("run_dir")
        if target is not None:
            return f"relu-lab {name} stopped before it finished; {target} keeps the files it had"
        return f"relu-lab {name} stopped before a run directory was made; nothing was written"
    run_dir = Path(run_dir)
    status = None
    for name in ("summary.json", "claims.json"):  # a run's, a check's
        try:
            status = status or json.loads((run_dir / name).read_text()).get("status")
        except (OSError, ValueError, AttributeError):
            pass
    if status in ("completed", "diverged") and kind == "check":
        return f"the check had finished: its verdicts are in {run_dir}"
    if status in ("completed", "diverged"):
        return (f"the run had finished ({status}): its results are in {run_dir}; "
                f"draw or redraw its plots with: relu-lab plot {run_dir}")
    resumable = (run_dir / "checkpoint.npz").is_file() or (run_dir / "checkpoints").is_dir() or status == "interrupted"
    if resumable and kind != "check":
        return f"what was done is in {run_dir}; continue with: relu-lab {kind} --resume {run_dir}"
    if status is not None or kind == "check":
        return f"what was done is in {run_dir}"
    return f"stopped as the run began: {run_dir} holds no results yet; start the run again"


def interruptible(command):
    """Ctrl-C and SIGTERM go to a fresh handler while `command` runs; the old handlers come back
    after it (a command may run inside a longer Python process: a test, a notebook). Under the console
    script (relu_lab.entry), its handler stays instead: it answers every Ctrl-C until the process exits.

    An interrupt the command does not answer itself (while loading, plotting, printing) ends in one
    line saying what was kept, and exit code 130."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        arguments = _arguments(command, args, kwargs)
        name = arguments.get("kind", command.__name__.strip("_"))
        before = _entries(_out(name, arguments))
        try:
            current = signal.getsignal(signal.SIGINT)
            if isinstance(current, entry.Interrupts):  # the console script's, or an outer command's
                current.answer = _answer
                return command(*args, **kwargs)
            handler = _Interrupts()
            old = {sig: signal.signal(sig, handler) for sig in entry.SIGNALS}
            try:
                return command(*args, **kwargs)
            finally:
                for sig, previous in old.items():
                    signal.signal(sig, previous)
        except KeyboardInterrupt:
            complain("interrupted", "yellow", _what_was_kept(name, arguments, before))
            raise typer.Exit(EXIT_INTERRUPTED) from None

    return wrapper


def _version(value: bool) -> None:
    if value:
        console.print(f"relu-lab {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """relu-lab: experiments on activation functions in small neural networks."""
    if entry.current is not None:  # for the line an interrupt from here on ends with
        entry.current.started = ctx.invoked_subcommand


def _usage_error_line(error) -> None:
    """How typer shows a usage error (an option value of the wrong type, an unknown option or command): one
    line on stderr naming what was wrong and where the allowed forms are, not rich's box of several lines.
    typer still exits with the error's code (2)."""
    ctx = getattr(error, "ctx", None)
    where = f" (see: {ctx.command_path} --help)" if ctx is not None else ""
    complain("error", "red", " ".join(error.format_message().split()) + where)


typer.rich_utils.rich_format_error = _usage_error_line  # the one place typer renders such errors (typer.core._main)
