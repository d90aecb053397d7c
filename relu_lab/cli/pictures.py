"""The pictures of a run, drawn right after it (train, show, sweep, compare) or on request (plot)."""

from __future__ import annotations

import warnings
from pathlib import Path

from ..errors import PictureWarning, UserError
from .base import complain


def draw_plots(run_dir: Path, after_run: bool = False) -> list[Path]:
    """Draw a run's plots (matplotlib is imported only here); for grids also write report.md.

    Right after a run, a failure to draw is a warning: the run's results are already on disk.
    """
    from ..plots import plot_any, run_kind
    from ..report import write_report

    try:
        with warnings.catch_warnings(record=True) as caught:  # the library's warnings: one line each, no file:line
            warnings.simplefilter("always")
            pictures = plot_any(run_dir)
        for warning in dict.fromkeys(str(w.message) for w in caught if issubclass(w.category, PictureWarning)):
            complain("warning", "yellow", warning)  # matplotlib's own notes are not the user's to act on
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
