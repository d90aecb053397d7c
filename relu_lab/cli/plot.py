"""relu-lab plot, and the drawing of a run's pictures that train, show, sweep and compare share."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import UserError
from ..rundir import free_path
from .base import DebugOpt, app, complain, say, user_errors
from .pictures import draw_plots

MAX_GIF_FRAMES = 500  # a GIF of more is tens of megabytes and minutes to draw


def _units_at(run_dir: Path, epoch: int) -> Path:
    from ..plots.units import plot_units
    from ..run import load_network
    from ..runfiles import run_kind

    if str(run_dir) == "activations" or run_kind(run_dir) != "train":
        raise UserError(f"--epoch goes with a train run directory; {run_dir} is not one")
    cfg, data, _ = load_network(run_dir)
    return plot_units(run_dir, cfg, data, epoch=epoch)


def _animation(run_dir: Path, what: str, frames: int | None, start: int | None, stop: int | None) -> Path:
    from ..errors import did_you_mean
    from ..plots.animation import MAX_FRAMES, animate, load_curves
    from ..plots.run import try_json
    from ..run import load_network
    from ..runfiles import run_kind

    if what not in ("training", "units"):
        raise UserError("--animate: " + did_you_mean("animation", what, ["training", "units"]))
    if str(run_dir) == "activations" or run_kind(run_dir) != "train":
        raise UserError(f"--animate goes with a train run directory; {run_dir} is not one")
    cfg, data, _ = load_network(run_dir)
    return animate(run_dir, cfg, data, try_json(run_dir / "summary.json"), load_curves(run_dir), what,
                   frames=frames or MAX_FRAMES, start=start, stop=stop)


@app.command()
def plot(
    target: Annotated[str, typer.Argument(help="A run directory, or the word 'activations'.", show_default=False)],
    names: Annotated[Optional[list[str]], typer.Argument(
        help="With 'activations': registered names, your own as module:f,module:df (or module:f, its slope then "
        "numerical), or a config file to draw the activations it uses (default: all registered, and seed 004's "
        "shifted-rectifier panel).",
        show_default=False)] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="With 'activations': the PNG to write.")] = Path(
        "activations.png"),
    epoch: Annotated[Optional[int], typer.Option(
        "--epoch", help="With a train run: draw its hidden units at this logged epoch (units-epoch<E>.png) only.",
        show_default=False)] = None,
    animate: Annotated[Optional[str], typer.Option(
        "--animate", help="With a train run: an animated GIF over the logged epochs: 'training' (the boundary or "
        "fit beside the cost curve) or 'units' (the unit maps).", show_default=False)] = None,
    frames: Annotated[Optional[int], typer.Option(
        "--frames", help="With --animate: at most this many frames, spaced by how much the weights change "
        "\\[default: 40].", show_default=False)] = None,
    start: Annotated[Optional[int], typer.Option(
        "--from", help="With --animate: the first epoch to show (the snapshots from it on).",
        show_default=False)] = None,
    stop: Annotated[Optional[int], typer.Option(
        "--to", help="With --animate: the last epoch to show.", show_default=False)] = None,
    debug: DebugOpt = False,
) -> None:
    """Redraw a run's plots from its saved files (no retraining), or plot activations and their derivatives.

    Example: relu-lab plot runs/20261123-120000-xor_relu    |    relu-lab plot activations relu softplus elu
    """
    with user_errors(debug):
        if epoch is not None and animate is not None:
            raise UserError("--epoch and --animate go separately: one picture at an epoch, or all epochs as a GIF")
        given = [opt for opt, v in (("--frames", frames), ("--from", start), ("--to", stop)) if v is not None]
        if given and animate is None:
            raise UserError(f"{', '.join(given)} go{'es' if len(given) == 1 else ''} with --animate")
        if frames is not None and not 2 <= frames <= MAX_GIF_FRAMES:
            raise UserError(f"--frames {frames}: from 2 to {MAX_GIF_FRAMES} frames")
        if epoch is not None:
            pictures = [_units_at(Path(target), epoch)]
        elif animate is not None:
            pictures = [_animation(Path(target), animate, frames, start, stop)]
        elif target == "activations":
            from ..plots import plot_activations

            # a file already there is kept (the picture goes beside it); a directory or a non-.png name is refused
            kept = out if out.is_file() else None
            warn = partial(complain, "warning", "yellow")
            pictures = [plot_activations(names or [], free_path(out) if kept else out, warn)]
            if kept:
                say(f"{kept} exists and is kept; the picture is written beside it:")
        else:
            if names:
                raise UserError("names of activations go with 'relu-lab plot activations', not a run directory")
            pictures = draw_plots(Path(target))
    for p in pictures:
        say(str(p))
