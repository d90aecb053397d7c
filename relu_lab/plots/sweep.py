"""A sweep's and a compare's pictures: success and cost over the grid, and activations compared
over epochs."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, NullFormatter
from matplotlib.transforms import blended_transform_factory

from ..errors import UserError
from ..runfiles import (
    LR_KEYS,
    SweepDir,
    cell_float,
    compare_choices,
    compare_key,
    lr_key,
    read_columns,
    read_header,
    read_yaml_or_none,
    short_value,
)
from .depth import grid_depth
from .style import band_alpha, few_points, log_y, palette, plt, positive, save, score_label, thin, wrapped

# --- sweeps and comparisons -----------------------------------------------------------------


def plot_sweep(run_dir: str | Path) -> list[Path]:
    """The pictures of a `sweep` or `compare` directory; returns the PNG paths written.

    sweep.png: success rate and median final cost against the key that varied (the learning rate
    when it did), a line per value of the other keys. sweep_heatmap.png when exactly two keys
    varied: the success rate (else the median cost) of every pair, its interval in the cell.
    compare: compare_curves.png and compare_success.png (compare_cost.png when the config has
    no success criterion), plus sweep.png and the heatmap when the learning rate varied too.
    """
    g = SweepDir(Path(run_dir))
    out = []
    varied = g.varied
    lr = lr_key(varied)
    if g.kind == "compare":
        if lr is not None:
            out.append(_sweep_figure(g, lr))
    else:
        out.append(_sweep_figure(g, lr or (varied[0] if varied else (g.keys[0] if g.keys else None))))
    if len(varied) == 2:
        x_key = lr or varied[0]
        out.append(_heatmap(g, x_key, next(k for k in varied if k != x_key)))
    if g.kind == "compare":
        out.append(_compare_curves(g))
        out.append(_compare_bars(g))
    depth = grid_depth(g)
    if depth is not None:
        out.append(depth)
    return out


def key_label(key: str | None) -> str:
    if key in LR_KEYS:
        return "learning rate" if key == "train.lr" else f"learning rate ({key})"
    return key or "grid point"


def _series(g: SweepDir, x_key: str | None) -> dict[str, list[dict[str, str]]]:
    """Summary rows grouped into lines by the values of every grid key except `x_key`."""
    others = [k for k in g.keys if k != x_key]
    lines: dict[str, list[dict[str, str]]] = {}
    for row in g.summary:
        lines.setdefault(g.label(row, others) or "all", []).append(row)
    return lines


def _sweep_figure(g: SweepDir, x_key: str | None) -> Path:
    lines = _series(g, x_key)
    xs_all = [r.get(x_key, "") for r in g.summary] if x_key else ["all"] * len(g.summary)
    numeric = all(math.isfinite(cell_float(v)) for v in xs_all)
    categories = list(dict.fromkeys(xs_all))

    def xpos(rows):
        if numeric:
            return np.array([cell_float(r.get(x_key)) for r in rows]) if x_key else np.zeros(len(rows))
        return np.array([categories.index(r.get(x_key, "all") if x_key else "all") for r in rows], dtype=float)

    dead = [k for k in g.summary[0] if k.startswith("dead_L") and k.endswith("_mean")]
    panels = (["success", "cost"] if g.has_success else ["cost"]) + (["dead"] if dead else [])
    colours, alpha = palette(len(lines)), band_alpha(len(lines))
    fig, axes = plt.subplots(1, len(panels), figsize=(5.4 * len(panels), 4.6), layout="constrained", squeeze=False,
                             sharex=True)
    best = g.best()
    xv_all = xpos(g.summary)
    log_x = bool(numeric and x_key and np.all(xv_all > 0) and (x_key in LR_KEYS or xv_all.max() / xv_all.min() >= 20))
    for ax, panel in zip(axes[0], panels):
        for i, (label, rows) in enumerate(lines.items()):
            order = np.argsort(xpos(rows), kind="stable")
            rows = [rows[j] for j in order]
            x, colour = dodge(xpos(rows), i, len(lines), log_x), colours[i]
            if panel == "dead":
                _dead_lines(ax, g, rows, x, dead, colour, alpha, label if len(lines) > 1 else None,
                            stacked(i, len(lines)))
                continue
            if panel == "success":
                y, lo, hi = (g.num(k, rows) for k in ("success_rate", "success_low", "success_high"))
            else:
                y, lo, hi = (g.num(k, rows) for k in ("cost_median", "cost_q1", "cost_q3"))
            ax.plot(x, y, "-", color=colour, label=label if len(lines) > 1 else None, **stacked(i, len(lines)))
            ax.fill_between(x, lo, hi, color=colour, alpha=alpha, lw=0)
            if best in rows:
                k = rows.index(best)
                if math.isfinite(y[k]):
                    ax.plot(x[k], y[k], "*", color="gold", ms=16, mec="black", zorder=5)
            if panel == "cost":
                _mark_diverged(ax, x, y, rows)
        if numeric and x_key:
            xv = np.array([cell_float(v) for v in xs_all])
            if log_x:
                ax.set_xscale("log")
                if xv.max() / xv.min() < 100:  # under two decades: label the grid values, not minor ticks
                    ax.set_xticks(sorted(set(xv)))
                    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
                    ax.xaxis.set_minor_formatter(NullFormatter())
        elif not numeric:
            ax.set_xticks(range(len(categories)), [short_value(c) for c in categories], rotation=20)
        ax.set_xlabel(key_label(x_key))
        ax.grid(alpha=0.3)
        if panel == "dead":
            ax.set_ylim(-0.03, 1.03)
            ax.set_ylabel("share of units dead at the end (mean over seeds)")
            ax.set_title("Dead units by hidden layer" if len(dead) <= DEAD_LINES else
                         f"Dead units, mean of {len(dead)} layers (band: least to most)", fontsize=10)
        elif panel == "success":
            ax.set_ylim(-0.03, 1.03)
            ax.set_ylabel("success rate")
            crit = _criterion(g)
            ax.set_title(f"Success rate ({crit}) with 95% Wilson interval", fontsize=10)
        else:
            costs = np.concatenate([g.num(k) for k in ("cost_median", "cost_q1", "cost_q3")])
            if positive(costs):
                log_y(ax, costs)
            ax.set_ylabel("final training cost")
            ax.set_title("Median final cost with inter-quartile range", fontsize=10)
        handles, names = ax.get_legend_handles_labels()
        if panel == "dead" and 1 < len(dead) <= DEAD_LINES:
            handles += [Line2D([], [], color="0.3", ls=DEAD_STYLES[i]) for i in range(len(dead))]
            names += [f"layer {k[6:-5]}" for k in dead]
        if panel == panels[0]:
            handles.append(Line2D([], [], ls="none", marker="*", color="gold", ms=14, mec="black"))
            names.append("best grid point")
        if handles:
            ax.legend(handles, names, fontsize=8, loc="best")
    if numeric and x_key:  # every grid point in view, also those whose members all diverged (no cost)
        xv = np.array([cell_float(v) for v in xs_all])
        if axes[0][0].get_xscale() == "log":
            axes[0][0].set_xlim(xv.min() / 1.6, xv.max() * 1.6)
        else:
            pad = 0.05 * (xv.max() - xv.min()) or 0.5
            axes[0][0].set_xlim(xv.min() - pad, xv.max() + pad)
    n_seeds = len(g.seeds) or "?"
    varied = sorted(g.varied, key=lambda k: k != x_key)  # the x axis's key first
    what = "learning-rate sweep" if varied == [x_key] and x_key in LR_KEYS else \
        "sweep over " + " × ".join(key_label(k) for k in varied) if varied else "sweep"
    fig.suptitle(f"{g.name}: {what} ({n_seeds} seeds per grid point)")
    return save(fig, g.dir / "sweep.png")


DEAD_LINES = 3  # hidden layers drawn each in sweep.png's dead panel; beyond, their mean and range
DEAD_STYLES = ("-", "--", ":")


def _dead_lines(ax, g: SweepDir, rows: list[dict[str, str]], x: np.ndarray, dead: list[str], colour, alpha: float,
                label: str | None, style: dict) -> None:
    """A series' mean dead share at the end against x: a line per hidden layer, or for more layers than
    DEAD_LINES their mean with a band from the least dead layer to the most."""
    shares = np.stack([g.num(k, rows) for k in dead])  # (layers, points)
    if len(dead) <= DEAD_LINES:
        for i, y in enumerate(shares):
            ax.plot(x, y, DEAD_STYLES[i], color=colour, label=label if i == 0 else None, **style)
        return
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a point whose every layer is unknown: NaN, not drawn
        mean, lo, hi = np.nanmean(shares, axis=0), np.nanmin(shares, axis=0), np.nanmax(shares, axis=0)
    ax.plot(x, mean, "-", color=colour, label=label, **style)
    ax.fill_between(x, lo, hi, color=colour, alpha=alpha, lw=0)


MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "h")  # a series' marker, so that lines on top of one another
DODGE = 0.012  # series apart on the x axis: this share of a decade on a log axis, of a unit on a linear one


def stacked(i: int, n: int) -> dict:
    """Line options of series i of n: its own marker, and the first drawn widest, so that a later line on top
    of an earlier one (equal values) leaves the earlier one showing at its sides."""
    widest = (n - 1 - i) / max(n - 1, 1)
    return {"marker": MARKERS[i % len(MARKERS)], "lw": 1.5 + 2.5 * widest, "ms": 4.5 + 3.5 * widest}


def dodge(x: np.ndarray, i: int, n: int, log: bool) -> np.ndarray:
    """Series i of n moved a little sideways, the middle one in place: lines of equal values (every point at a
    success rate of 0) then stay visible side by side instead of hiding each other."""
    shift = (i - (n - 1) / 2) * DODGE * (1.0 if n > 1 else 0.0)
    return x * 10**shift if log else x + shift * (np.ptp(x) if x.size > 1 and np.ptp(x) > 0 else 1.0)


def _heatmap(g: SweepDir, x_key: str, y_key: str) -> Path:
    """Two varied keys as a grid of cells: the success rate with its 95 % interval and k/n in each
    (else the median final cost with its quartiles); the best cell framed."""
    xs = list(dict.fromkeys(r[x_key] for r in g.summary))
    ys = list(dict.fromkeys(r[y_key] for r in g.summary))
    for values in (xs, ys):  # numbers in increasing order, names as given
        if all(math.isfinite(cell_float(v)) for v in values):
            values.sort(key=cell_float)
    value = np.full((len(ys), len(xs)), np.nan)
    text = [["" for _ in xs] for _ in ys]
    best = g.best()
    fig, ax = plt.subplots(figsize=(max(5.5, 1.15 * len(xs) + 2.5), max(3.6, 0.75 * len(ys) + 1.8)),
                           layout="constrained")
    for r in g.summary:
        i, j = ys.index(r[y_key]), xs.index(r[x_key])
        if g.has_success:
            rate, lo, hi, n = (cell_float(r.get(k)) for k in ("success_rate", "success_low", "success_high",
                                                                 "members"))
            value[i, j] = rate
            k = f"{round(rate * n)}/{int(n)}" if math.isfinite(rate) and math.isfinite(n) else "?"
            text[i][j] = f"{100 * rate:.0f}%\n[{100 * lo:.0f}-{100 * hi:.0f}]\n{k}"
        else:
            med, q1, q3 = (cell_float(r.get(k)) for k in ("cost_median", "cost_q1", "cost_q3"))
            value[i, j] = med
            text[i][j] = f"{med:.3g}\n[{q1:.2g}, {q3:.2g}]" if math.isfinite(med) else "diverged"
        if r is best:
            ax.add_patch(plt.Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, ec="red", lw=2.5, zorder=3))
    if g.has_success:
        image = ax.imshow(value, cmap="viridis", vmin=0, vmax=1, origin="lower", aspect="auto")
        what = f"success rate ({_criterion(g)})"
    else:
        finite = value[np.isfinite(value) & (value > 0)]
        from matplotlib.colors import LogNorm

        norm = LogNorm(finite.min(), finite.max()) if finite.size and finite.max() > finite.min() else None
        image = ax.imshow(value, cmap="viridis_r", norm=norm, origin="lower", aspect="auto")
        what = "median final cost"
    for i in range(len(ys)):
        for j in range(len(xs)):
            v = value[i, j]
            shade = image.cmap(image.norm(v)) if math.isfinite(v) else (1, 1, 1, 1)
            dark = 0.299 * shade[0] + 0.587 * shade[1] + 0.114 * shade[2] < 0.5
            ax.text(j, i, text[i][j], ha="center", va="center", fontsize=7.5, color="white" if dark else "black")
    fig.colorbar(image, ax=ax, label=what, shrink=0.9)
    ax.set_xticks(range(len(xs)), [short_value(v) for v in xs])
    ax.set_yticks(range(len(ys)), [short_value(v) for v in ys])
    ax.set_xlabel(key_label(x_key))
    ax.set_ylabel(key_label(y_key))
    below = "95% Wilson interval below the rate" if g.has_success else "quartiles below"
    title = (f"{g.name}: {what} over {key_label(x_key)} × {key_label(y_key)}\n"
             f"({len(g.seeds) or '?'} seeds per cell; {below}; best framed in red)")
    ax.set_title(wrapped(title, 0.8 * fig.get_figwidth()), fontsize=10)
    return save(fig, g.dir / "sweep_heatmap.png")


def _mark_diverged(ax, x: np.ndarray, y: np.ndarray, rows: list[dict[str, str]]) -> None:
    """Red text '3/8 div.' at grid points where members diverged (at the top when all did)."""
    trans = blended_transform_factory(ax.transData, ax.transAxes)
    for xi, yi, r in zip(x, y, rows):
        d, n = cell_float(r.get("diverged")), cell_float(r.get("members"))
        if not (math.isfinite(d) and d > 0):
            continue
        text = f"{int(d)}/{int(n) if math.isfinite(n) else '?'} div."
        if math.isfinite(yi):
            ax.annotate(text, (xi, yi), textcoords="offset points", xytext=(0, 7), ha="center", fontsize=7,
                        color="red")
        else:
            ax.plot([xi], [0.97], "x", color="red", ms=8, mew=2, transform=trans)
            ax.text(xi, 0.93, text, transform=trans, ha="center", va="top", fontsize=7, color="red")


def curve_score(g: SweepDir) -> str:
    """The score compare_curves.png draws: the one success is judged on when it is a score (test_accuracy,
    r2 ...) logged in metrics.csv, else the training score."""
    cfg = read_yaml_or_none(g.dir / "config.yaml")
    s = cfg.get("success") if isinstance(cfg, dict) else None
    metric = s.get("metric") if isinstance(s, dict) else None
    if isinstance(metric, str) and metric.removeprefix("test_") in ("accuracy", "r2") \
            and metric in read_header(g.dir / "metrics.csv"):
        return metric
    return g.score


def _criterion(g: SweepDir) -> str:
    cfg = read_yaml_or_none(g.dir / "config.yaml")
    s = cfg.get("success") if isinstance(cfg, dict) else None
    if isinstance(s, dict) and s.get("metric"):
        if s.get("at_least") is not None:
            return f"{s['metric']} ≥ {s['at_least']}"
        if s.get("at_most") is not None:
            return f"{s['metric']} ≤ {s['at_most']}"
    return "criterion met"


def _choice_label(g: SweepDir, name: str, row: dict[str, str]) -> str:
    others = [k for k in g.keys if k != compare_key(g)]
    extra = g.label(row, others).replace("train.lr=", "lr=")
    return f"{name} ({extra})" if extra else name


class _MemberCurves:
    """metrics.csv's member, epoch, cost and score columns as arrays (not a dict per row), the rows of
    each member found by one sort: 32 bytes a row for a million-row sweep."""

    def __init__(self, g: SweepDir, score: str):
        path = g.dir / "metrics.csv"
        cols = read_columns(path, ["member", "epoch", "cost", score])
        if any(k not in cols for k in ("member", "epoch", "cost")) and len(next(iter(cols.values()), ())):
            raise UserError(f"{path}: not a sweep's long-form metrics (needs member, epoch, cost)")
        n = len(cols.get("epoch", ()))
        self.member = cols.get("member", np.zeros(0))
        epoch = cols.get("epoch", np.zeros(0))
        if not np.isfinite(epoch).all():
            raise UserError(f"{path}: a row's epoch is not a number")
        self.epoch = epoch.astype(np.int64)
        self.cost = cols.get("cost", np.zeros(0))
        self.score = cols.get(score, np.full(n, np.nan))
        self.order = np.argsort(self.member, kind="stable")  # a member's rows in the order they were logged
        self.sorted = self.member[self.order]
        self.epochs = np.unique(self.epoch)  # every logged epoch, ascending

    def rows(self, member: str) -> np.ndarray:
        """The row numbers of one member (its number as members.csv spells it)."""
        m = cell_float(member)
        if not math.isfinite(m):
            return self.order[:0]
        lo, hi = np.searchsorted(self.sorted, m, side="left"), np.searchsorted(self.sorted, m, side="right")
        return self.order[lo:hi]


def _compare_curves(g: SweepDir) -> Path:
    score_key = curve_score(g)
    curves = _MemberCurves(g, score_key)
    choices = compare_choices(g)
    if not curves.epochs.size:
        raise UserError(f"{g.dir / 'metrics.csv'}: no logged rows")
    ep = curves.epochs.astype(float)
    n_epochs = len(curves.epochs)
    fig, (ax_c, ax_s) = plt.subplots(1, 2, figsize=(12, 4.8), layout="constrained")
    all_costs = []
    colours, alpha = palette(len(choices)), band_alpha(len(choices))
    for i, (name, row) in enumerate(choices):
        ids = [m["member"] for m in g.members_at(row)]
        if not ids:
            continue
        # After its last logged epoch a member has stopped: it diverged. It counts as the worst value
        # (cost +inf, score -inf), so a median is not taken over the survivors only. Epochs that
        # some running member did not log (others logged a divergence there) are left out.
        cost = np.full((len(ids), n_epochs), np.nan)
        score = np.full((len(ids), n_epochs), np.nan)
        for j, mid in enumerate(ids):
            rows = curves.rows(mid)
            if rows.size:
                # a member's epoch logged twice (it is not, in a file relu-lab wrote): its last row counts
                at, last = np.unique(curves.epoch[rows][::-1], return_index=True)
                rows = rows[::-1][last]
                at = np.searchsorted(curves.epochs, at)
                c, s = curves.cost[rows], curves.score[rows]
                ok = np.isfinite(c)
                cost[j, at] = np.where(ok, c, np.inf)
                score[j, at] = np.where(ok & np.isfinite(s), s, -np.inf)
            stopped = at.max() + 1 if rows.size else 0
            cost[j, stopped:], score[j, stopped:] = np.inf, -np.inf
        keep = ~np.isnan(cost).any(axis=0)
        cost, score = cost[:, keep], score[:, keep]
        colour = colours[i]
        style = "-" if i < 10 else "--"
        label = f"{_choice_label(g, name, row)}, n={len(ids)}"
        q = _quartiles(cost, worst=np.inf)
        all_costs.append(q[np.isfinite(q)])
        _median_line(ax_c, ep[keep], q, style, colour, alpha, label)
        _median_line(ax_s, ep[keep], _quartiles(score, worst=-np.inf), style, colour, alpha, label)
    if all_costs and positive(np.concatenate(all_costs)):
        log_y(ax_c, np.concatenate(all_costs))
    ax_c.set_ylabel("training cost")
    ax_c.set_title("Median training cost, inter-quartile band", fontsize=10)
    which = "test" if score_key.startswith("test_") else "training"
    score_name = score_label(score_key.removeprefix("test_"))
    ax_s.set_ylabel(f"{which} {score_name}")
    ax_s.set_title(f"Median {which} {score_name}, inter-quartile band", fontsize=10)
    if score_key.endswith("accuracy"):
        ax_s.set_ylim(-0.02, 1.02)
    elif ax_s.get_ylim()[0] < -1:  # R² is at most 1; early values can be hugely negative
        ax_s.set_ylim(-1.05, 1.05)
        ax_s.set_title(f"Median {which} R², inter-quartile band (axis clipped at -1)", fontsize=10)
    for ax in (ax_c, ax_s):
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="best")
    lr_note = "; each at its best grid point" if len(g.keys) > 1 else ""
    fig.suptitle(f"{g.name}: activations compared over epochs ({len(g.seeds) or '?'} seeds each{lr_note})")
    return save(fig, g.dir / "compare_curves.png")


def _quartiles(values: np.ndarray, worst: float) -> np.ndarray:
    """Quartiles over members (axis 0) where `worst` (±inf) marks a diverged member; NaN where infinite."""
    with np.errstate(invalid="ignore"):
        q = np.nan_to_num(np.quantile(values, [0.25, 0.5, 0.75], axis=0), nan=worst)
    q[~np.isfinite(q)] = np.nan
    return q


def _median_line(ax, ep: np.ndarray, q: np.ndarray, style: str, colour, alpha: float, label: str) -> None:
    """The median with its inter-quartile band, up to where half the members had diverged.

    From there on the median is the diverged members' (infinite): the line stops and a cross at
    the top of the panel marks the epoch, with the legend saying so.
    """
    finite = np.isfinite(q[1])
    gone = np.flatnonzero(~finite & (np.cumsum(finite) > 0))  # infinite after a finite start
    if finite.any() and gone.size:
        label += f" (median diverged at epoch {ep[gone[0]]:g})"
    elif not finite.any():
        label += " (median diverged before the first log)"
    drawn = thin(len(ep), *q)  # a long log: the points worth drawing, extremes kept
    ax.plot(ep[drawn], q[1][drawn], style, color=colour, lw=1.8, label=label, **few_points(int(finite.sum())))
    ax.fill_between(ep[drawn], q[0][drawn], q[2][drawn], color=colour, alpha=alpha, lw=0)
    if gone.size:
        trans = blended_transform_factory(ax.transData, ax.transAxes)
        ax.plot([ep[gone[0]]], [0.97], "x", color=colour, ms=9, mew=2.2, transform=trans, clip_on=False)


def _compare_bars(g: SweepDir) -> Path:
    choices = compare_choices(g)
    names = [_choice_label(g, n, r) for n, r in choices]
    rows = [r for _, r in choices]
    x = np.arange(len(rows))
    colours = palette(len(rows))
    fig, ax = plt.subplots(figsize=(max(6.0, 1.1 * len(rows) + 2), 4.8), layout="constrained")
    if g.has_success:
        y, lo, hi = (g.num(k, rows) for k in ("success_rate", "success_low", "success_high"))
        ax.bar(x, y, color=colours, alpha=0.85, edgecolor="black", lw=0.6)
        ax.scatter(x, y, color=colours, edgecolors="black", s=30, zorder=3)  # visible even at 0 %
        ax.errorbar(x, y, yerr=[np.maximum(y - lo, 0), np.maximum(hi - y, 0)], fmt="none", ecolor="black",
                    capsize=6, lw=1.2)
        for xi, r, yi, top in zip(x, rows, y, hi):
            n = cell_float(r.get("members"))
            k = round(yi * n) if math.isfinite(n) and math.isfinite(yi) else "?"
            ax.text(xi, (top if math.isfinite(top) else yi) + 0.02, f"{k}/{int(n) if math.isfinite(n) else '?'}",
                    ha="center", va="bottom", fontsize=8)
        ax.set_ylim(0, 1.1)
        ax.set_ylabel("success rate (error bars: 95% Wilson interval)")
        ax.set_title(f"{g.name}: success rate per activation ({_criterion(g)})")
        path = g.dir / "compare_success.png"
    else:
        # dots, not bars: a cost axis need not start at 0, and bars would exaggerate small differences
        y, lo, hi = (g.num(k, rows) for k in ("cost_median", "cost_q1", "cost_q3"))
        for xi, yi, l, h, c in zip(x, y, lo, hi, colours):
            if math.isfinite(yi):
                ax.errorbar([xi], [yi], yerr=[[max(yi - l, 0)], [max(h - yi, 0)]], fmt="o", color=c, ms=9,
                            mec="black", ecolor="black", capsize=6, lw=1.2)
        _mark_diverged(ax, x, y, rows)
        values = np.concatenate([y, lo, hi])
        finite = values[np.isfinite(values)]
        if positive(values) and finite.max() / finite.min() >= 10:
            ax.set_yscale("log")
        ax.set_xlim(-0.6, len(rows) - 0.4)
        ax.set_ylabel("final training cost: median and inter-quartile range")
        ax.set_title(f"{g.name}: final cost per activation")
        path = g.dir / "compare_cost.png"
    ax.set_xticks(x, names, rotation=20 if len(rows) > 4 else 0, ha="right" if len(rows) > 4 else "center")
    ax.set_xlabel("hidden activation" if compare_key(g) == "model.hidden" else (compare_key(g) or ""))
    ax.grid(alpha=0.3, axis="y")
    return save(fig, path)
