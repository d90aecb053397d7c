"""What every picture shares: colours, axes helpers, the metrics reader and the atomic PNG save.

matplotlib runs on the non-interactive Agg backend. A figure is saved to a temporary name and
renamed, so a PNG is never half-written.
"""

from __future__ import annotations

import math
import re
import textwrap
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FuncFormatter, MaxNLocator, NullLocator  # noqa: E402
from matplotlib.transforms import blended_transform_factory  # noqa: E402

from ..errors import UserError  # noqa: E402
from ..rundir import replacing  # noqa: E402
from ..runfiles import cell_float, read_columns, read_json  # noqa: E402

DPI = 120
COLORS = plt.get_cmap("tab10").colors


# --- reading run directories ----------------------------------------------------------------


def metric_columns(rows: list[dict[str, str]], path: Path) -> dict[str, np.ndarray]:
    """Numeric columns of a metrics.csv; raises UserError when it has no rows."""
    if not rows:
        raise UserError(f"{path}: no logged rows yet")
    return {key: np.array([cell_float(r.get(key)) for r in rows]) for key in rows[0] if key is not None}


def read_metrics(path: Path) -> dict[str, np.ndarray]:
    """The numeric columns of a metrics.csv, as metric_columns gives them, read a chunk of rows at a time
    (a million-row log is its columns' floats, not a dict of strings per row); raises UserError when it
    has no rows."""
    cols = read_columns(path)
    if not cols or not len(next(iter(cols.values()))):
        raise UserError(f"{path}: no logged rows yet")
    return cols


MAX_POINTS = 2000  # buckets a drawn line is thinned to: first, last, smallest and largest point of each


def thin(n: int, *ys: np.ndarray, max_points: int = MAX_POINTS) -> np.ndarray | slice:
    """The indices of n points worth drawing: all of them up to 4 * max_points; beyond, the points are
    cut into max_points buckets and each keeps its first and last point, the smallest and the largest
    finite value of each of `ys`, and its first non-finite one (where a line breaks). At the widths
    relu-lab draws (well under max_points pixels a panel) the line looks the same, its extremes and
    the axis limits they set are kept exactly; a million logged epochs become a few thousand points."""
    if n <= 4 * max_points:
        return slice(None)
    size = -(-n // max_points)
    buckets = -(-n // size)
    starts = np.arange(buckets) * size
    keep = [starts, np.minimum(starts + size, n) - 1]
    pad = buckets * size - n
    for y in ys:
        y = np.asarray(y, dtype=float)
        finite = np.isfinite(y)
        low = np.pad(np.where(finite, y, np.inf), (0, pad), constant_values=np.inf).reshape(buckets, size)
        high = np.pad(np.where(finite, y, -np.inf), (0, pad), constant_values=-np.inf).reshape(buckets, size)
        broken = np.pad(~finite, (0, pad)).reshape(buckets, size)
        keep += [starts + low.argmin(axis=1), starts + high.argmax(axis=1)]
        has_break = broken.any(axis=1)
        keep.append((starts + broken.argmax(axis=1))[has_break])
    index = np.unique(np.concatenate(keep))
    return index[index < n]


def run_name(run_dir: Path) -> str:
    try:
        name = read_json(run_dir / "summary.json").get("name")
    except UserError:
        name = None
    return str(name) if name else re.sub(r"^\d{8}-\d{6}-", "", run_dir.name)


def score_label(score: str) -> str:
    return "R²" if score == "r2" else "accuracy"


# --- saving ---------------------------------------------------------------------------------


def save(fig, path: Path) -> Path:
    """Write `fig` as a PNG through a temporary file in the same directory, then close it.

    A failure to write (a full disk) is an OSError naming `path`, not bad input."""
    try:
        with replacing(path) as tmp:
            fig.savefig(tmp, format="png", dpi=DPI)
    finally:
        plt.close(fig)
    return path


def class_colours(task: str, classes: int) -> list:
    """One colour per class, the same in every picture of a run: for a binary task blue and red, the ends of
    the decision boundary's RdBu_r map (label 0 where the output is low); tab10 for more classes."""
    if task == "binary":
        cmap = plt.get_cmap("RdBu_r")
        return [cmap(0.08), cmap(0.92)]
    return [COLORS[k % 10] for k in range(classes)]


def class_labels(data) -> np.ndarray:
    """Each training point's class: its target's argmax, or for one output, whether the target is above 0.5."""
    return data.Y.argmax(axis=1) if data.Y.shape[1] > 1 else (data.Y[:, 0] > 0.5).astype(int)


def palette(n: int) -> list[tuple[float, float, float]]:
    """n distinct colours: tab10, or tab20 (dark shades first) for more than ten lines."""
    if n <= 10:
        return list(COLORS[:n])
    tab20 = plt.get_cmap("tab20").colors
    colours = list(tab20[0::2]) + list(tab20[1::2])
    return [colours[i % 20] for i in range(n)]


def band_alpha(n_lines: int) -> float:
    return 0.18 if n_lines <= 2 else 0.12 if n_lines <= 5 else 0.07


OFF_SCALE = 1e30  # values beyond this (a run blowing up) are left out of plots: log axes cannot span them


def on_scale(values: np.ndarray) -> np.ndarray:
    """`values` with NaN where they are not finite or beyond OFF_SCALE (so that axes stay drawable)."""
    with np.errstate(invalid="ignore"):
        return np.where(np.isfinite(values) & (np.abs(values) < OFF_SCALE), values, np.nan)


def positive(values: np.ndarray) -> bool:
    finite = values[np.isfinite(values)]
    return finite.size > 0 and bool(np.all(finite > 0))


def log_y(ax, values: np.ndarray) -> None:
    """A log y axis; within less than a decade the ticks read 0.6, 0.7 rather than 6x10^-1."""
    ax.set_yscale("log")
    finite = values[np.isfinite(values) & (values > 0)]
    if finite.size and finite.max() / finite.min() < 10:
        ax.yaxis.set_major_locator(MaxNLocator(6))
        ax.yaxis.set_minor_locator(NullLocator())
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.3g}"))


def break_jumps(y: np.ndarray, limit: float = 0.2) -> np.ndarray:
    """y with NaN where it jumps (a step derivative), so the line is not drawn vertically there."""
    y = y.astype(float).copy()
    jump = np.abs(np.diff(y)) > limit
    y[1:][jump] = np.nan
    return y


def phase_marks(ax, cfg, until: Any = None) -> None:
    """Dotted lines where a new training phase starts, labelled with its hidden activation.

    Phases that start after epoch `until` (a run that diverged or was interrupted before them)
    are not marked: they never ran.
    """
    if cfg is None or len(cfg.train.phases) < 2:
        return
    last = until if isinstance(until, (int, float)) else math.inf
    trans = blended_transform_factory(ax.transData, ax.transAxes)
    start = 0
    for i, phase in enumerate(cfg.phases()):
        if start > last or (start == last and start > 0):
            break
        if start > 0:
            ax.axvline(start, color="0.4", ls=":", lw=1)
        hidden = phase.hidden if isinstance(phase.hidden, str) else "/".join(phase.hidden)
        # labels at three heights in turn: phases that start close together do not overprint
        ax.text(start, 0.98 - 0.07 * (i % 3), f" {hidden}", transform=trans, va="top", ha="left", fontsize=8,
                color="0.3")
        start += phase.epochs


def wrapped(text: str, width_inches: float, fontsize: float = 10) -> str:
    """`text` with each line folded at word breaks to fit `width_inches` at `fontsize` points (a character is
    about 0.55 em wide), so that a title is never cut at the figure's edges."""
    chars = max(20, int(width_inches * 72 / (0.55 * fontsize)))
    return "\n".join(textwrap.fill(line, chars) for line in text.split("\n"))


def few_points(n: int) -> dict[str, Any]:
    """Marker options for a curve of n finite points: a line of one or two points is invisible."""
    return {"marker": "o", "ms": 5} if n <= 2 else {}


EARLY_SHARE = 0.1  # "early": the first tenth of the epochs logged
EARLY_CHANGE = 0.5  # an axis goes logarithmic in epochs when this share of the change happens early


def epoch_axis(ax, epoch: np.ndarray, series: list[np.ndarray]) -> bool:
    """Label the x axis "epoch" and make it logarithmic past the first logged epoch after 0 when the
    action is early: at least half of the series' total change (summed over all) happens in the first
    tenth of the epochs, where a linear axis would squeeze it into a sliver. Returns whether it did."""
    ax.set_xlabel("epoch")
    ok = np.isfinite(epoch)
    if ok.sum() < 8:
        return False
    e = epoch[ok]
    early = e <= e.min() + EARLY_SHARE * (e.max() - e.min())
    total = first = 0.0
    for y in series:
        step = np.abs(np.diff(np.where(np.isfinite(y[ok]), y[ok], np.nan)))
        step = np.where(np.isfinite(step), step, 0.0)
        scale = np.max(np.abs(y[ok][np.isfinite(y[ok])]), initial=0.0) or 1.0  # each series counts alike
        total += step.sum() / scale
        first += step[early[1:]].sum() / scale
    positive = e[e > 0]
    if total == 0 or first < EARLY_CHANGE * total or not positive.size or early.sum() < 3:
        return False
    ax.set_xscale("symlog", linthresh=float(positive.min()), linscale=0.5)
    ax.set_xlim(e.min(), e.max())
    ax.set_xlabel(f"epoch (logarithmic past {positive.min():g}: most of the change is early)")
    return True
