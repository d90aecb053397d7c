"""depth.png: what each layer gets, against its depth, at the first and the last log point.

The gradient norm of every weight matrix (log scale), the share of dead units of every hidden layer
and the share of its outputs saturated (sigmoid's and tanh's way of passing no gradient). Seed 003's
vanishing gradient is sigmoid's line rising by orders of magnitude from layer 1 to the output while
ReLU's stays flat. One line per run (train), grid point (sweep) or activation (compare); over an
ensemble, the median of its seeds with the inter-quartile band. A member's last log point is its own
(a diverged member's last finite row; values that are not finite are left out).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.lines import Line2D

from ..diagnostics import COLUMN
from ..runfiles import SweepDir, compare_choices, read_columns, read_header
from .style import band_alpha, log_y, palette, plt, save

# kind of per-layer column -> (panel title, y label, log scale)
PANELS = {
    "grad": ("Gradient norm by weight layer", "‖dC/dW‖ (full training set)", True),
    "dead": ("Dead units by layer", "share of units passing no gradient", False),
    "saturated": ("Saturated outputs by hidden layer", "share with |f'(z)| < 1 % of its peak", False),
}


@dataclass
class Profile:
    """A line of depth.png: per member (rows) and layer (columns), the values of one kind of column at
    each member's first and last log point."""

    label: str
    layers: dict[str, list[int]]  # kind -> its layer numbers (1-based)
    first: dict[str, np.ndarray]  # kind -> (members, layers)
    last: dict[str, np.ndarray]
    epochs: tuple[float, float]  # the first and the latest last log point's epoch


def layer_columns(columns) -> dict[str, list[int]]:
    """{'grad': [1, 2, ...], 'dead': [...]} for the kinds depth.png draws, from metrics.csv's header."""
    found: dict[str, list[int]] = {}
    for key in columns:
        m = COLUMN.fullmatch(key)
        if m and m.group(1) in PANELS:
            found.setdefault(m.group(1), []).append(int(m.group(2)))
    return {kind: sorted(found[kind]) for kind in PANELS if kind in found}


def _ends(member: np.ndarray, epoch: np.ndarray, cost: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct members, and the row of each one's first log point and of its last with a finite cost."""
    order = np.lexsort((epoch, member))
    ids, start = np.unique(member[order], return_index=True)
    stop = np.append(start[1:], len(order))
    first = order[start]
    last = np.empty(len(ids), dtype=np.int64)
    ok = np.isfinite(cost[order])
    for i, (a, b) in enumerate(zip(start, stop)):  # a member's rows are a run of `order`
        good = np.flatnonzero(ok[a:b])
        last[i] = order[a + good[-1]] if good.size else order[b - 1]
    return ids, first, last


def profiles(cols: dict[str, np.ndarray], groups: list[tuple[str, list[float]]] | None = None) -> list[Profile]:
    """The lines of depth.png from metrics.csv's columns: one for a train run's single member (no
    `member` column), else one per group of member numbers."""
    layers = layer_columns(cols)
    n = len(cols["epoch"])
    member = cols.get("member", np.zeros(n))
    ids, first, last = _ends(member, cols["epoch"], cols.get("cost", np.zeros(n)))
    groups = groups or [("", list(ids))]
    out = []
    for label, wanted in groups:
        pick = np.isin(ids, np.asarray(wanted, dtype=float))
        if not pick.any():
            continue
        f, la = first[pick], last[pick]
        take = {kind: [f"{kind}_L{l}" for l in ls] for kind, ls in layers.items()}
        with np.errstate(invalid="ignore"):
            out.append(Profile(
                label, layers,
                {kind: np.stack([cols[k][f] for k in keys], axis=1) for kind, keys in take.items()},
                {kind: np.stack([cols[k][la] for k in keys], axis=1) for kind, keys in take.items()},
                (float(np.min(cols["epoch"][f])), float(np.max(cols["epoch"][la])))))
    return out


def _quartiles(values: np.ndarray) -> np.ndarray:
    """(3, layers): the 25th, 50th and 75th percentile over the members of each layer's finite values
    (NaN where none is finite)."""
    v = np.where(np.isfinite(values), values, np.nan)
    out = np.full((3, v.shape[1]), np.nan)
    for j in range(v.shape[1]):
        col = v[:, j][~np.isnan(v[:, j])]
        if col.size:
            out[:, j] = np.percentile(col, [25, 50, 75])
    return out


def draw_depth(lines: list[Profile], title: str, path: Path) -> Path:
    """depth.png: a panel per kind of column (PANELS), each line's quartiles over its members against the
    layer, dashed at the first log point and solid at the last."""
    kinds = [k for k in PANELS if any(k in p.layers for p in lines)]
    zeros = False
    fig, axes = plt.subplots(1, len(kinds), figsize=(5.8 * len(kinds), 4.4), layout="constrained", squeeze=False)
    colours, alpha = palette(len(lines)), band_alpha(len(lines))
    ensemble = any(len(next(iter(p.first.values()))) > 1 for p in lines)
    for ax, kind in zip(axes[0], kinds):
        name, ylabel, log = PANELS[kind]
        floor = _floor(lines, kind) if log else None
        drawn, floored = [], False
        ticks: set[int] = set()
        for i, p in enumerate(lines):
            if kind not in p.layers:
                continue
            x = np.array(p.layers[kind], dtype=float)
            ticks |= set(p.layers[kind])
            width = 1.4 + 2.2 * (len(lines) - 1 - i) / max(len(lines) - 1, 1)  # the first drawn widest: equal
            for values, style, fill in ((p.first[kind], "--", "none"), (p.last[kind], "-", colours[i])):  # lines show
                q = _quartiles(values)
                if log:  # a log axis cannot show 0: zeros go to the floor, a median of 0 is marked there
                    zero = q[1] == 0
                    q = np.where(q == 0, floor, q)
                    ax.plot(x[zero], q[1][zero], "v", color=colours[i], ms=8, mfc="none")
                    floored |= bool(zero.any())
                drawn.append(q[1])
                ax.plot(x, q[1], style, marker="o", ms=3 + width, mfc=fill, color=colours[i], lw=width)
                if ensemble:
                    ax.fill_between(x, q[0], q[2], color=colours[i], alpha=alpha, lw=0)
        ax.set_xlabel("weight layer (1 = from the inputs)" if kind == "grad" else "layer (1 = first hidden)")
        ax.set_xticks(sorted(ticks))
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        medians = np.concatenate(drawn) if drawn else np.zeros(0)
        if log and np.any(medians > 0):  # the axis spans the medians: a wide band does not squash every line
            log_y(ax, medians)
            shown = medians[np.isfinite(medians) & (medians > 0)]
            ax.set_ylim(shown.min() / 5, shown.max() * 5)
        if not log:
            ax.set_ylim(-0.02, 1.02)
        ax.set_title(name, fontsize=10)
        zeros |= floored
    first, last = min(p.epochs[0] for p in lines), max(p.epochs[1] for p in lines)
    handles = [Line2D([], [], color="0.3", ls="--", marker="o", mfc="none", lw=1.7,
                      label=f"first log point (epoch {first:g})"),
               Line2D([], [], color="0.3", ls="-", marker="o", lw=1.7, label=f"last (epoch {last:g})")]
    if zeros:
        handles.append(Line2D([], [], color="0.3", ls="none", marker="v", mfc="none", label="0 (at the axis floor)"))
    handles += [Line2D([], [], color=colours[i], lw=4, label=p.label) for i, p in enumerate(lines) if p.label]
    fig.legend(handles=handles, loc="outside lower center", ncols=min(5, len(handles)), fontsize=8)
    fig.suptitle(title + (": median over seeds, band from the first to the third quartile" if ensemble else ""))
    return save(fig, path)


def _floor(lines: list[Profile], kind: str) -> float:
    """A tenth of the smallest positive finite value of `kind` (1e-12 when there is none)."""
    v = np.concatenate([np.ravel(x[kind]) for p in lines if kind in p.layers for x in (p.first, p.last)])
    v = v[np.isfinite(v) & (v > 0)]
    return float(v.min()) / 10 if v.size else 1e-12


def run_depth(run_dir: Path, name: str, cols: dict[str, np.ndarray]) -> Path | None:
    """depth.png of a train run from its metrics.csv columns; None without per-layer columns."""
    if not layer_columns(cols):
        return None
    return draw_depth(profiles(cols), f"{name} by depth", run_dir / "depth.png")


def grid_depth(g: SweepDir) -> Path | None:
    """depth.png of a sweep (a line per grid point) or a compare (a line per activation)."""
    path = g.dir / "metrics.csv"
    layers = layer_columns(read_header(path))
    if not layers:
        return None
    wanted = ["member", "epoch", "cost"] + [f"{k}_L{l}" for k, ls in layers.items() for l in ls]
    cols = read_columns(path, wanted)
    if not len(cols.get("epoch", ())):
        return None
    if g.kind == "compare":  # each activation at its best grid point, as the other compare pictures
        points = compare_choices(g)
    else:
        points = [(g.label(row, g.varied).replace("train.lr=", "lr="), row) for row in g.summary]
    groups = [(label, [float(m["member"]) for m in g.members_at(row)]) for label, row in points]
    lines = profiles(cols, groups)
    n_seeds = len(g.seeds) or "?"
    return draw_depth(lines, f"{g.name} by depth ({n_seeds} seeds a line)", g.dir / "depth.png")
