"""relu-lab train and relu-lab show: one network, its progress bar, summary table and plots."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ..console import TrainProgress, summary_table
from ..errors import UserError
from ..loading import load_config
from ..run import train_run
from .base import (
    EXIT_INTERRUPTED,
    EXIT_RUN_FAILED,
    DebugOpt,
    EngineOpt,
    GridConfigArg,
    NameOpt,
    NoPlotsOpt,
    OutOpt,
    QuietOpt,
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


@app.command()
@interruptible
def train(
    config: GridConfigArg = None,
    resume: Annotated[Optional[Path], typer.Option(
        "--resume", help="Finish an interrupted train run in its run directory.", show_default=False)] = None,
    set_: SetOpt = None,
    out: OutOpt = Path("runs"),
    quiet: QuietOpt = False,
    no_plots: NoPlotsOpt = False,
    engine: EngineOpt = None,
    name: NameOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Train one network from a config and write its run directory.

    Example: relu-lab train configs/xor_relu.yaml --set train.lr=0.5
    """
    notes_to_stderr()
    with user_errors(debug):
        if resume is not None:
            if config is not None or set_ or engine or name:
                raise UserError("--resume continues a run exactly as it was started: give only the run directory")
            if not (resume / "config.yaml").is_file():
                raise UserError(f"--resume {resume}: not a train run directory (no config.yaml)")
            config = str(resume / "config.yaml")
        elif config is None:
            raise UserError("give a CONFIG file to train, or --resume RUN_DIR")
        cfg = load_config(config, overrides(set_, engine, name))
        report = train_shown(lambda on_start, on_log: train_run(
            cfg, out, source=config, base_dir=Path(config).parent, on_start=on_start, on_log=on_log, resume=resume),
            quiet, no_plots)
    end_of_train(report, quiet)


def train_shown(start, quiet: bool, no_plots: bool):
    """Run `start(on_start, on_log)` (a train run) with its notes, progress bar and plots."""
    progress = TrainProgress(console, quiet)

    def on_start(exp, run_dir):
        resolved, data = exp
        if exp.engine_note:
            complain("note", "cyan", exp.engine_note)
        for warning in exp.warnings:
            complain("warning", "yellow", warning)
        layers = "-".join(map(str, resolved.model.layers))
        progress.start(resolved.total_epochs(), f"{resolved.name} ({data.name}, {layers})", resolved.name)

    try:
        report = start(on_start, progress.update)
    finally:
        progress.close()
    # a run cut inside a step (a hanging activation) is not drawn: drawing would call that activation again
    report.pictures = [] if no_plots or report.result.cut else draw_plots(report.run_dir, after_run=True)
    return report


def end_of_train(report, quiet: bool) -> None:
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
        then = (f"continue with: relu-lab train --resume {report.run_dir}" if report.result.checkpoint is not None
                else "it cannot be resumed (stopped inside a step)")
        complain("interrupted", "yellow", f"at epoch {summary['epochs_done']}; what was logged is in {report.run_dir}; "
                 + then)
        raise typer.Exit(EXIT_INTERRUPTED)


@app.command()
@interruptible
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
    Interrupted (Ctrl-C), it is not compared: its run directory is an interrupted train run.

    Example: relu-lab show runs/20261123-120000-sweep-xor_relu --seed 3 --where lr=0.1
    """
    from ..member import retrain

    notes_to_stderr()
    with user_errors(debug):
        done = None

        def start(on_start, on_log):
            nonlocal done
            done = retrain(run_dir, member, seed, where or [], out, on_start=on_start, on_log=on_log)
            return done.report

        report = train_shown(start, quiet, no_plots)
    if done.interrupted:  # a partial member is not the member: it is neither compared nor said to differ
        if quiet:
            say(str(report.run_dir))
        else:
            console.print(summary_table(report.summary))
            say(f"run directory: {report.run_dir}")
        complain("interrupted", "yellow", f"member {done.member.index} at epoch {report.summary['epochs_done']} of "
                 f"{report.summary['epochs']}, not compared with members.csv; what was logged is in {report.run_dir}; "
                 f"continue with: relu-lab train --resume {report.run_dir}")
        raise typer.Exit(EXIT_INTERRUPTED)
    if done.differ:
        complain("warning", "yellow", f"member {done.member.index} alone differs from its members.csv row: "
                 + "; ".join(done.differ))
    elif not quiet:
        say(f"member {done.member.index} (seed {done.member.seed}): {len(done.compared)} figures equal to members.csv "
            f"row {done.member.index}, bit for bit")
    end_of_train(report, quiet)
