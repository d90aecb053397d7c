"""relu-lab sweep and relu-lab compare: a grid of members, trained group by group, and its tables."""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..activations import COMPARED
from ..console import SweepProgress, print_sweep, sweep_footer
from ..errors import UserError
from ..grid import MEMORY_BUDGET, best_per, resume_plan, run_sweep
from ..loading import load_config
from ..plan import grid_from, plan_sweep
from .base import (
    EXIT_BAD_INPUT,
    EXIT_INTERRUPTED,
    DebugOpt,
    EngineOpt,
    GridConfigArg,
    LrOpt,
    NameOpt,
    NoPlotsOpt,
    OutOpt,
    ParamOpt,
    QuietOpt,
    SeedsOpt,
    SetOpt,
    app,
    complain,
    console,
    interruptible,
    notes_to_stderr,
    overrides,
    say,
    user_errors,
)
from .pictures import draw_plots


def _executor(name: str, scheduler: str | None, workers: int | None):
    if name == "local":
        if scheduler or workers:
            raise UserError("--scheduler and --workers go with --executor dask")
        return nullcontext(None)
    if name != "dask":
        raise UserError(f"--executor: unknown executor '{name}' (allowed: local, dask)")
    if workers is not None and workers < 1:
        raise UserError(f"--workers: need at least 1 worker, got {workers}")
    from ..executors import DaskExecutor

    return DaskExecutor(scheduler, workers)


@interruptible
def _grid(kind: str, config: str | None, set_, out, quiet, debug, lr, seeds, params, activations=None,
          resume: Path | None = None, executor: str = "local", scheduler: str | None = None,
          workers: int | None = None, no_plots: bool = False, engine: str | None = None,
          name: str | None = None) -> None:
    """`sweep` and `compare`: plan the grid, train it group by group, render the summary."""
    notes_to_stderr()
    with user_errors(debug):
        budget = MEMORY_BUDGET
        if resume is not None:
            if config is not None or lr or seeds or params or activations or set_ or engine or name:
                raise UserError("--resume continues a sweep exactly as it was started: give only the run directory")
            plan, kind, budget = resume_plan(resume)
        elif config is None:
            raise UserError(f"give a CONFIG file to {kind}, or --resume RUN_DIR")
        else:
            cfg = load_config(config, overrides(set_, engine, name))
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
            from ..report import write_report

            pictures = [write_report(report.run_dir, make_plots=False)]
        else:
            pictures = draw_plots(report.run_dir, after_run=True)
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
    name: NameOpt = None,
) -> None:
    """Train one config over learning rates x seeds (x any --param), as stacked ensembles.

    Example: relu-lab sweep configs/seed003_deep_xor_relu.yaml --lr 0.01,0.1,1 --seeds 64
    """
    _grid("sweep", config, set_, out, quiet, debug, lr, seeds, param, resume=resume, executor=executor,
          scheduler=scheduler, workers=workers, no_plots=no_plots, engine=engine, name=name)


@app.command()
def compare(
    config: GridConfigArg = None,
    activations: Annotated[Optional[str], typer.Option(
        "--activations", "-a", help="Hidden activations to compare, comma-separated \\[default: all registered: "
        + ", ".join(COMPARED) + "].", show_default=False)] = None,
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
    name: NameOpt = None,
) -> None:
    """Train one config across hidden activations, each over the same seeds (and --lr values).

    Example: relu-lab compare configs/seed003_deep_xor_relu.yaml --activations relu,leaky_relu,sigmoid --seeds 64
    """
    names = [a.strip() for a in activations.split(",") if a.strip()] if activations is not None else None
    if names is not None and not names:
        complain("error", "red", "--activations: the list is empty")
        raise typer.Exit(EXIT_BAD_INPUT)
    _grid("compare", config, set_, out, quiet, debug, lr, seeds, param, names, resume=resume, executor=executor,
          scheduler=scheduler, workers=workers, no_plots=no_plots, engine=engine, name=name)
