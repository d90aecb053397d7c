"""Pictures of finished runs, a module per kind: run (curves, diagnostics), output (decision
boundary, fit), sweep (grids and compares), activations; style holds what they share.

Every function reads only what a run directory holds (config.yaml, metrics.csv,
summary.json, params.npz; grid.json, members.csv, summary.csv for grids), writes
PNG files next to them and returns their paths. Figures are drawn with the
non-interactive Agg backend, saved to a temporary name and renamed, so a PNG is
never half-written. Problems with the directory or its files are `UserError`s.

    plot_run(run_dir)            curves.png, decision_boundary.png | fit.png, diagnostics.png
    plot_sweep(run_dir)          sweep.png; compare_curves.png, compare_success.png | compare_cost.png
    plot_activations(names, p)   f and f' of each activation, and two shifted ReLUs / softpluses vs sigmoid
    plot_any(run_dir)            whichever of plot_run and plot_sweep fits the directory
"""

from __future__ import annotations

from pathlib import Path

from ..runfiles import run_kind
from .activations import plot_activations
from .run import plot_run
from .sweep import plot_sweep

__all__ = ["plot_activations", "plot_any", "plot_run", "plot_sweep", "run_kind"]


def plot_any(run_dir: str | Path) -> list[Path]:
    """plot_run for a train run, plot_sweep for a sweep or compare; raises UserError otherwise."""
    kind = run_kind(run_dir)
    return plot_run(run_dir) if kind == "train" else plot_sweep(run_dir)
