"""The command line: parse, call one library function, render. No logic lives here."""

from __future__ import annotations

import functools
import json
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup

from . import __version__, runs
from .activations import HIDDEN_ACTIVATIONS
from .config import json_schema
from .console import (
    Survivable,
    SweepProgress,
    TrainProgress,
    print_sweep,
    print_wide,
    summary_table,
    sweep_footer,
)
from .errors import UserError
from .experiment import resolve
from .grid import MEMORY_BUDGET, best_per, grid_from, plan_sweep, resume_plan, run_sweep
from .loading import dump_config, load_config
from .run import train_run
from .rundir import free_path

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


def _overrides(set_: list[str] | None, engine: str | None) -> list[str]:
    """--set items, with --engine as one more (validated like the config key)."""
    return [*(set_ or []), *([f"engine={engine}"] if engine is not None else [])]


def _notes_to_stderr() -> None:
    """The library's one-line notes (the first compile of the kernels) go to stderr as they happen."""
    from . import engines

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


class _Interrupts:
    """Ctrl-C and SIGTERM during a command. The first stops training cleanly (KeyboardInterrupt: the
    files say "interrupted"); one that comes while the run saves its files is answered, not obeyed,
    so the save that makes --resume possible is never cut short."""

    def __init__(self):
        self.count = 0

    def __call__(self, signum, frame) -> None:
        self.count += 1
        if self.count == 1:
            raise KeyboardInterrupt
        complain("interrupt", "yellow", "saving what the run did, one moment; it then exits by itself")


def _interruptible(command):
    """Ctrl-C and SIGTERM go to a fresh _Interrupts while `command` runs; the old handlers come back
    after it (a command may run inside a longer Python process: a test, a notebook)."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        handler = _Interrupts()
        old = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            return command(*args, **kwargs)
        finally:
            for sig, previous in old.items():
                signal.signal(sig, previous)

    return wrapper


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
@_interruptible
def train(
    config: GridConfigArg = None,
    resume: Annotated[Optional[Path], typer.Option(
        "--resume", help="Finish an interrupted train run in its run directory.", show_default=False)] = None,
    set_: SetOpt = None,
    out: OutOpt = Path("runs"),
    quiet: QuietOpt = False,
    no_plots: NoPlotsOpt = False,
    engine: EngineOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Train one network from a config and write its run directory.

    Example: relu-lab train configs/xor_relu.yaml --set train.lr=0.5
    """
    _notes_to_stderr()
    with user_errors(debug):
        if resume is not None:
            if config is not None or set_ or engine:
                raise UserError("--resume continues a run exactly as it was started: give only the run directory")
            if not (resume / "config.yaml").is_file():
                raise UserError(f"--resume {resume}: not a train run directory (no config.yaml)")
            config = str(resume / "config.yaml")
        elif config is None:
            raise UserError("give a CONFIG file to train, or --resume RUN_DIR")
        cfg = load_config(config, _overrides(set_, engine))
        report = _train_shown(lambda on_start, on_log: train_run(
            cfg, out, source=config, base_dir=Path(config).parent, on_start=on_start, on_log=on_log, resume=resume),
            quiet, no_plots)
    _end_of_train(report, quiet)


def _train_shown(start, quiet: bool, no_plots: bool):
    """Run `start(on_start, on_log)` (a train run) with its notes, progress bar and plots."""
    progress = TrainProgress(console, quiet)

    def on_start(resolved, data, run_dir):
        if resolved._engine_note:
            complain("note", "cyan", resolved._engine_note)
        for warning in resolved._warnings:
            complain("warning", "yellow", warning)
        layers = "-".join(map(str, resolved.model.layers))
        progress.start(resolved.total_epochs(), f"{resolved.name} ({data.name}, {layers})", resolved.name)

    try:
        report = start(on_start, progress.update)
    finally:
        progress.close()
    report.pictures = [] if no_plots else _plots(report.run_dir, after_run=True)
    return report


def _end_of_train(report, quiet: bool) -> None:
    """A train run's summary table, and its exit code: 1 when it diverged, 130 when interrupted."""
    summary = report.summary
    if quiet:
        say(str(report.run_dir))
    else:
        console.print(summary_table(summary))
        if report.pictures:
            say("plots: " + ", ".join(p.name for p in report.pictures))
        say(f"run directory: {report.run_dir}")
    if summary["status"] == "diverged":
        complain("diverged", "red", f"the cost became NaN or infinite by epoch {summary['diverged_epoch']}; "
                 "try a smaller learning rate or --set train.clip=1")
        raise typer.Exit(EXIT_RUN_FAILED)
    if summary["status"] == "interrupted":
        complain("interrupted", "yellow", f"at epoch {summary['epochs_done']}; what was logged is in {report.run_dir}; "
                 f"continue with: relu-lab train --resume {report.run_dir}")
        raise typer.Exit(EXIT_INTERRUPTED)


@app.command()
@_interruptible
def show(
    run_dir: Annotated[Path, typer.Argument(help="A sweep or compare run directory.", show_default=False)],
    member: Annotated[Optional[int], typer.Option("--member", "-m", help="The member's number (members.csv).",
                                                  show_default=False)] = None,
    seed: Annotated[Optional[int], typer.Option("--seed", help="Choose by seed ...", show_default=False)] = None,
    where: Annotated[Optional[list[str]], typer.Option(
        "--where", "-w", help="... and grid values: --where lr=0.1 --where hidden=tanh (repeatable).",
        show_default=False)] = None,
    out: Annotated[Optional[Path], typer.Option(
        "--out", "-o", help="Directory for the run directory [default: RUN_DIR/members].", show_default=False)] = None,
    quiet: QuietOpt = False,
    no_plots: NoPlotsOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Retrain one member of a sweep or compare alone, with all its plots, checked against members.csv.

    The member's figures must equal its row in members.csv bit for bit; a difference is a warning.

    Example: relu-lab show runs/20261123-120000-sweep-xor_relu --seed 3 --where lr=0.1
    """
    from .member import retrain

    _notes_to_stderr()
    with user_errors(debug):
        done = None

        def start(on_start, on_log):
            nonlocal done
            done = retrain(run_dir, member, seed, where or [], out, on_start=on_start, on_log=on_log)
            return done.report

        report = _train_shown(start, quiet, no_plots)
    if done.differ:
        complain("warning", "yellow", f"member {done.member.index} alone differs from its members.csv row: "
                 + "; ".join(done.differ))
    elif not quiet:
        say(f"member {done.member.index} (seed {done.member.seed}): {len(done.compared)} figures equal to members.csv "
            f"row {done.member.index}, bit for bit")
    _end_of_train(report, quiet)


LrOpt = Annotated[Optional[str], typer.Option(
    "--lr", help="Learning rates: a list 0.001,0.01,0.1 or a log range lo:hi:n such as 1e-4:10:9.",
    show_default=False)]
SeedsOpt = Annotated[Optional[str], typer.Option(
    "--seeds", help="Seeds for every grid point: a count N (0..N-1), a list 3,5,7 or a range 100:164 (100..163) "
    "\\[default: the config's sweep.seeds, else 32].", show_default=False)]
ParamOpt = Annotated[Optional[list[str]], typer.Option(
    "--param", "-p", help="Vary another key: --param model.init_scale=0.5,1,2 (repeatable; grid = product).",
    show_default=False)]


def _executor(name: str, scheduler: str | None, workers: int | None):
    if name == "local":
        if scheduler or workers:
            raise UserError("--scheduler and --workers go with --executor dask")
        return nullcontext(None)
    if name != "dask":
        raise UserError(f"--executor: unknown executor '{name}' (allowed: local, dask)")
    if workers is not None and workers < 1:
        raise UserError(f"--workers: need at least 1 worker, got {workers}")
    from .executors import DaskExecutor

    return DaskExecutor(scheduler, workers)


def _units_at(run_dir: Path, epoch: int) -> Path:
    from .plots.units import plot_units
    from .run import load_network
    from .runfiles import run_kind

    if str(run_dir) == "activations" or run_kind(run_dir) != "train":
        raise UserError(f"--epoch goes with a train run directory; {run_dir} is not one")
    cfg, data, _ = load_network(run_dir)
    return plot_units(run_dir, cfg, data, epoch=epoch)


def _animation(run_dir: Path, what: str) -> Path:
    from .errors import did_you_mean
    from .plots.animation import animate, load_curves
    from .plots.run import try_json
    from .run import load_network
    from .runfiles import run_kind

    if what not in ("training", "units"):
        raise UserError("--animate: " + did_you_mean("animation", what, ["training", "units"]))
    if str(run_dir) == "activations" or run_kind(run_dir) != "train":
        raise UserError(f"--animate goes with a train run directory; {run_dir} is not one")
    cfg, data, _ = load_network(run_dir)
    return animate(run_dir, cfg, data, try_json(run_dir / "summary.json"), load_curves(run_dir), what)


def _plots(run_dir: Path, after_run: bool = False) -> list[Path]:
    """Draw a run's plots (matplotlib is imported only here); for grids also write report.md.

    Right after a run, a failure to draw is a warning: the run's results are already on disk.
    """
    from .plots import plot_any, run_kind
    from .report import write_report

    try:
        pictures = plot_any(run_dir)
    except UserError:
        raise
    except Exception as err:
        if not after_run:
            raise
        complain("warning", "yellow", f"could not draw the plots ({type(err).__name__}: {err}); "
                 f"try again with: relu-lab plot {run_dir} --debug")
        pictures = []
    if run_kind(run_dir) != "train":
        pictures.append(write_report(run_dir, make_plots=False))
    return pictures


@_interruptible
def _grid(kind: str, config: str | None, set_, out, quiet, debug, lr, seeds, params, activations=None,
          resume: Path | None = None, executor: str = "local", scheduler: str | None = None,
          workers: int | None = None, no_plots: bool = False, engine: str | None = None) -> None:
    """`sweep` and `compare`: plan the grid, train it group by group, render the summary."""
    _notes_to_stderr()
    with user_errors(debug):
        budget = MEMORY_BUDGET
        if resume is not None:
            if config is not None or lr or seeds or params or activations or set_ or engine:
                raise UserError("--resume continues a sweep exactly as it was started: give only the run directory")
            plan, kind, budget = resume_plan(resume)
        elif config is None:
            raise UserError(f"give a CONFIG file to {kind}, or --resume RUN_DIR")
        else:
            cfg = load_config(config, _overrides(set_, engine))
            axes, seed_list = grid_from(cfg, lr, seeds, params or [], activations, compare=kind == "compare")
            plan = plan_sweep(cfg, axes, seed_list, source=config, base_dir=Path(config).parent)
        cfg = plan.base
        for note in plan.notes:
            complain("note", "cyan", note)
        progress = SweepProgress(console, quiet)

        def on_start(plan, run_dir):
            label = f"{kind} {cfg.name}: {len(plan.members)} members in {len(plan.groups)} group(s)"
            progress.start(plan.member_epochs, label)

        try:
            with _executor(executor, scheduler, workers) as ex:
                report = run_sweep(plan, out, kind, on_start=on_start, on_progress=progress.advance, budget=budget,
                                   resume=resume, executor=ex)
        finally:
            progress.close()
        if not report.rows:
            pictures = []  # no member finished: nothing to draw or report yet
        elif no_plots:
            from .report import write_report

            pictures = [write_report(report.run_dir, make_plots=False)]
        else:
            pictures = _plots(report.run_dir, after_run=True)
    if quiet:
        say(str(report.run_dir))
    else:
        keys = [a.key for a in plan.axes]
        title = f"relu-lab {kind}: {cfg.name}, {len(plan.seeds)} seeds per setting"
        print_sweep(console, title, keys, report.summary, report.best)
        if kind == "compare" and len(keys) > 1:  # each activation at its best learning rate (and other keys)
            best = best_per(report.summary, "model.hidden")
            rows = [report.summary[i] for i in best.values()]
            print_sweep(console, "each activation at its best setting", keys, rows, None)
        console.print(sweep_footer(report), highlight=False)
        if pictures:
            say("written: " + ", ".join(p.name for p in pictures))
        say(f"run directory: {report.run_dir}")
    for warning in report.warnings:
        complain("warning", "yellow", warning)
    if report.status == "interrupted":
        complain("interrupted", "yellow", f"finished members are in {report.run_dir}; "
                 f"continue with: relu-lab {kind} --resume {report.run_dir}")
        raise typer.Exit(EXIT_INTERRUPTED)


ResumeOpt = Annotated[Optional[Path], typer.Option(
    "--resume", help="Finish an interrupted sweep or compare in its run directory.", show_default=False)]
ExecutorOpt = Annotated[str, typer.Option(
    "--executor", help="Where chunks train: local (this process) or dask (a Dask cluster).")]
SchedulerOpt = Annotated[Optional[str], typer.Option(
    "--scheduler", help="With --executor dask: address of a running scheduler, e.g. tcp://10.0.0.5:8786.",
    show_default=False)]
WorkersOpt = Annotated[Optional[int], typer.Option(
    "--workers", help="With --executor dask and no --scheduler: start a local cluster of N worker processes.",
    show_default=False)]

@app.command()
def sweep(
    config: GridConfigArg = None,
    lr: LrOpt = None,
    seeds: SeedsOpt = None,
    param: ParamOpt = None,
    set_: SetOpt = None,
    out: OutOpt = Path("runs"),
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
    resume: ResumeOpt = None,
    executor: ExecutorOpt = "local",
    scheduler: SchedulerOpt = None,
    workers: WorkersOpt = None,
    no_plots: NoPlotsOpt = False,
    engine: EngineOpt = None,
) -> None:
    """Train one config over learning rates x seeds (x any --param), as stacked ensembles.

    Example: relu-lab sweep configs/seed003_deep_xor_relu.yaml --lr 0.01,0.1,1 --seeds 64
    """
    _grid("sweep", config, set_, out, quiet, debug, lr, seeds, param, resume=resume, executor=executor,
          scheduler=scheduler, workers=workers, no_plots=no_plots, engine=engine)


@app.command()
def compare(
    config: GridConfigArg = None,
    activations: Annotated[Optional[str], typer.Option(
        "--activations", "-a", help="Hidden activations to compare, comma-separated \\[default: all registered: "
        + ", ".join(HIDDEN_ACTIVATIONS) + "].", show_default=False)] = None,
    lr: LrOpt = None,
    seeds: SeedsOpt = None,
    param: ParamOpt = None,
    set_: SetOpt = None,
    out: OutOpt = Path("runs"),
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
    resume: ResumeOpt = None,
    executor: ExecutorOpt = "local",
    scheduler: SchedulerOpt = None,
    workers: WorkersOpt = None,
    no_plots: NoPlotsOpt = False,
    engine: EngineOpt = None,
) -> None:
    """Train one config across hidden activations, each over the same seeds (and --lr values).

    Example: relu-lab compare configs/seed003_deep_xor_relu.yaml --activations relu,leaky_relu,sigmoid --seeds 64
    """
    names = [a.strip() for a in activations.split(",") if a.strip()] if activations is not None else None
    if names is not None and not names:
        complain("error", "red", "--activations: the list is empty")
        raise typer.Exit(EXIT_BAD_INPUT)
    _grid("compare", config, set_, out, quiet, debug, lr, seeds, param, names, resume=resume, executor=executor,
          scheduler=scheduler, workers=workers, no_plots=no_plots, engine=engine)


@app.command()
def plot(
    target: Annotated[str, typer.Argument(help="A run directory, or the word 'activations'.", show_default=False)],
    names: Annotated[Optional[list[str]], typer.Argument(
        help="With 'activations': which ones (default: all registered).", show_default=False)] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="With 'activations': the PNG to write.")] = Path(
        "activations.png"),
    epoch: Annotated[Optional[int], typer.Option(
        "--epoch", help="With a train run: draw its hidden units at this logged epoch (units-epoch<E>.png) only.",
        show_default=False)] = None,
    animate: Annotated[Optional[str], typer.Option(
        "--animate", help="With a train run: an animated GIF over the logged epochs: 'training' (the boundary or "
        "fit beside the cost curve) or 'units' (the unit maps).", show_default=False)] = None,
    debug: DebugOpt = False,
) -> None:
    """Redraw a run's plots from its saved files (no retraining), or plot activations and their derivatives.

    Example: relu-lab plot runs/20261123-120000-xor_relu    |    relu-lab plot activations relu softplus elu
    """
    with user_errors(debug):
        if epoch is not None and animate is not None:
            raise UserError("--epoch and --animate go separately: one picture at an epoch, or all epochs as a GIF")
        if epoch is not None:
            pictures = [_units_at(Path(target), epoch)]
        elif animate is not None:
            pictures = [_animation(Path(target), animate)]
        elif target == "activations":
            from .plots import plot_activations

            pictures = [plot_activations(names or [], free_path(out))]
        else:
            if names:
                raise UserError("names of activations go with 'relu-lab plot activations', not a run directory")
            pictures = _plots(Path(target))
    for p in pictures:
        say(str(p))


@app.command()
def validate(
    config: ConfigArg,
    set_: SetOpt = None,
    lr: LrOpt = None,
    seeds: SeedsOpt = None,
    param: ParamOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Check a config (and its sweep grid) without training; print the fully resolved config.

    Example: relu-lab validate configs/xor_relu.yaml --set train.lr=0.5
    """
    with user_errors(debug):
        cfg = load_config(config, set_ or [])
        resolved, data = resolve(cfg, config, Path(config).parent)
        grid = None
        if cfg.sweep is not None or lr or seeds is not None or param:
            # a sweep block naming activations is a compare grid: check those names too
            compare = cfg.sweep is not None and cfg.sweep.activations is not None
            axes, seed_list = grid_from(cfg, lr, seeds, param or [], compare=compare)
            grid = plan_sweep(cfg, axes, seed_list, source=config, base_dir=Path(config).parent)
        if cfg.claim is not None:  # every setting of the claim must be a valid config too
            from .claims import plan_claim

            plan_claim(cfg, None, config, Path(config).parent)
    say(dump_config(resolved).rstrip("\n"))
    say(f"# valid: {data!r}")
    if cfg.claim is not None:
        say(f"# claim: {len(cfg.claim.settings)} settings, {len(cfg.claim.expect)} expectations, "
            f"{cfg.claim.seeds} seeds each (relu-lab check)")
    if grid is not None:
        axes_text = ", ".join(f"{a.key} x {len(a.values)}" for a in grid.axes)
        say(f"# sweep grid: {axes_text}, {len(grid.seeds)} seeds -> {len(grid.members)} members in "
            f"{len(grid.groups)} group(s)")


# --- relu-lab runs [DIR] | runs show RUN | runs diff RUN_A RUN_B --------------------------------


class _ListByDefault(TyperGroup):
    """A group whose first word, when it is no command, starts `list`: `runs DIR --kind sweep` lists."""

    def collect_usage_pieces(self, ctx) -> list[str]:
        return ["[DIR] [--name TEXT] [--kind KIND] | COMMAND [ARGS]..."]

    def parse_args(self, ctx, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ctx.help_option_names):
            args = ["list", *args]
        return super().parse_args(ctx, args)


runs_app = typer.Typer(
    cls=_ListByDefault,
    help="List past runs, newest first (the default), show one run, or compare two.\n\n"
         "Examples: relu-lab runs --kind sweep  |  relu-lab runs show runs/20261123-120000-xor_relu  |  "
         "relu-lab runs diff RUN_A RUN_B",
    add_completion=False,
    pretty_exceptions_enable=False,
)

RunArg = Annotated[Path, typer.Argument(metavar="RUN", help="A run directory, e.g. runs/20261123-120000-xor_relu.",
                                        show_default=False)]


@runs_app.command("list")
def list_command(
    root: Annotated[Path, typer.Argument(
        metavar="[DIR]", help="The folder of run directories (what train, sweep and compare got as --out).")] = Path(
        "runs"),
    name: Annotated[Optional[str], typer.Option(
        "--name", "-n", help="Only runs whose name contains this text (any case).", show_default=False)] = None,
    kind: Annotated[Optional[str], typer.Option(
        "--kind", "-k", help="Only runs of one kind: train, sweep, compare (or unreadable).",
        show_default=False)] = None,
    debug: DebugOpt = False,
) -> None:
    """List the runs in DIR, newest first (also: relu-lab runs [DIR]).

    Example: relu-lab runs runs --kind sweep --name xor
    """
    with user_errors(debug):
        infos = runs.list_runs(root, name, kind)
    filters = " ".join(f"--{opt} {value}" for opt, value in (("name", name), ("kind", kind)) if value is not None)
    empty = f"no runs in {root}" + (f" match {filters}" if filters else "")
    title = f"{root}: {len(infos)} run{'s' if len(infos) != 1 else ''}"
    print_wide(console, runs.runs_table(infos, title=title, empty=empty))


@runs_app.command("show")
def show_command(run: RunArg, debug: DebugOpt = False) -> None:
    """Show one run: status, config essentials, results, warnings and files.

    Example: relu-lab runs show runs/20261123-120000-xor_relu
    """
    with user_errors(debug):
        print_wide(console, runs.show_run(run))


@runs_app.command("diff")
def diff_command(
    run_a: Annotated[Path, typer.Argument(metavar="RUN_A", help="The first run directory.", show_default=False)],
    run_b: Annotated[Path, typer.Argument(metavar="RUN_B", help="The run directory to compare it with.",
                                          show_default=False)],
    debug: DebugOpt = False,
) -> None:
    """Compare two runs: the config keys that differ (key: A -> B), then their results side by side.

    Example: relu-lab runs diff runs/20261123-120000-xor_relu runs/20261123-121500-xor_relu
    """
    with user_errors(debug):
        print_wide(console, runs.diff_runs(run_a, run_b))


app.add_typer(runs_app, name="runs")


@app.command()
@_interruptible
def check(
    configs: Annotated[Optional[list[str]], typer.Argument(
        help="Configs with a 'claim:' block, or folders of them \\[default: configs/claims].",
        show_default=False)] = None,
    seeds: Annotated[Optional[int], typer.Option(
        "--seeds", help="Seeds per setting \\[default: each claim's own claim.seeds].", show_default=False,
        min=1)] = None,
    out: OutOpt = Path("runs"),
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Measure each config's claim over seeds and judge it: holds, fails or inconclusive.

    An inconclusive figure says about how many seeds would decide it. Exits 0 only when every claim holds.

    Example: relu-lab check configs/seed003_deep_xor_relu.yaml --seeds 16
    """
    from . import claims
    from .console import claims_table
    from .rundir import new_run_dir

    _notes_to_stderr()
    verdicts = []
    with user_errors(debug):
        found = claims.claim_configs(configs or ["configs/claims"])
        for source, cfg in found:
            claims.plan_claim(cfg, seeds, source, Path(source).parent)  # every claim is valid before any trains
        check_dir = new_run_dir(out, "check")
        bar = [SweepProgress(console, quiet)]  # one bar per setting trained
        for i, (source, cfg) in enumerate(found, 1):
            def on_setting(name, plan, i=i, cfg=cfg):
                bar[0].close()
                bar[0] = SweepProgress(console, quiet)
                bar[0].start(plan.member_epochs, f"claim {i}/{len(found)} {cfg.name}: setting {name}, "
                                                  f"{len(plan.seeds)} seeds")

            try:
                verdicts.append(claims.check(cfg, check_dir, seeds, source, Path(source).parent, on_setting,
                                             lambda k: bar[0].advance(k)))
            except KeyboardInterrupt:
                bar[0].close()
                claims.write_report(check_dir, verdicts)
                complain("interrupted", "yellow", f"the claims checked so far are in {check_dir}")
                raise typer.Exit(EXIT_INTERRUPTED) from None
            finally:
                bar[0].close()
        report = claims.write_report(check_dir, verdicts)
    if quiet:
        say(str(check_dir))
    else:
        print_wide(console, claims_table(verdicts))
        say(f"written: {report}")
    if any(v.verdict != claims.HOLDS for v in verdicts):
        raise typer.Exit(EXIT_RUN_FAILED)


@app.command()
def schema() -> None:
    """Print the config's JSON Schema (for editors: see the README's YAML language server note).

    Example: relu-lab schema > relu-lab.schema.json
    """
    typer.echo(json.dumps(json_schema(), indent=2))


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
