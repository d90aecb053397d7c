"""Every hidden unit, drawn: where in the input space it fires, when it died, how the weights moved.

    units.png          2-D inputs: each unit's activation over the input plane, a row per layer,
                       dead units framed in red, the data on top. 1-D inputs: each unit's
                       activation curve over x under the net's fit.
    units_raster.png   units x logged epochs per layer: the share of training samples on which
                       each unit is active (z > 0); black is a unit active on none (for
                       ReLU, dead).
    weights.png        weights and pre-activations per layer, at the first and the last snapshot.

All read snapshots.npz (the weights at logged epochs) and rebuild the dataset from config.yaml.
A "dead" unit is one that passes no gradient on any training sample (f'(z) = 0 on all of them;
for ReLU, z <= 0 everywhere), as in diagnostics.py.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ..diagnostics import can_die, saturates
from ..errors import UserError
from ..network import Ensemble
from ..snapshots import SNAPSHOTS, load, network_at, phase_starts
from .output import marker_size, plane
from .style import COLORS, class_colours, class_labels, plt, save, wrapped

WEIGHT_LAYERS_PER_ROW = 4  # weights.png's layers per row
MAX_UNITS = 64  # drawn in full up to this many hidden units; beyond, the first of each layer
PER_ROW = 10  # unit panels per row of units.png
UNIT_GRID = 90  # points per side of a unit's input plane


def snapshots_of(run_dir: Path) -> tuple[list[int], list[int], list[dict[str, np.ndarray]]]:
    path = run_dir / SNAPSHOTS
    if not path.exists():
        raise UserError(f"{run_dir}: no {SNAPSHOTS} (made by relu-lab 0.2 train runs); retrain to draw units")
    return load(path)


def state_at(run_dir: Path, epoch: int | None) -> tuple[int, int, dict[str, np.ndarray]]:
    """The snapshot (epoch, phase, parameters) at a logged `epoch` (the last one when None); refuses an
    epoch that was not kept."""
    epochs, phases, states = snapshots_of(run_dir)
    if epoch is None:
        return epochs[-1], phases[-1], states[-1]
    if epoch not in epochs:
        near = min(epochs, key=lambda e: abs(e - epoch))
        raise UserError(f"--epoch {epoch}: no weights kept for that epoch in {run_dir}; the nearest kept is {near} "
                        f"(kept: {epochs[0]}..{epochs[-1]}, {len(epochs)} epochs)")
    i = epochs.index(epoch)
    return epoch, phases[i], states[i]


def mortal_layers(net: Ensemble) -> list[bool]:
    """Per hidden layer: whether its activation can die (a unit there gets no gradient for z <= 0)."""
    return [can_die(a.fn) for a in net.hidden]


def saturating_layers(net: Ensemble) -> list[bool]:
    """Per hidden layer: whether its activation saturates at both ends (sigmoid, tanh): there a unit's
    state is saturated or not, rather than active (z > 0) or not."""
    return [saturates(a.fn, a.params) for a in net.hidden]


def working(net: Ensemble, zs: list[np.ndarray], l: int, saturating: bool,
            slope: np.ndarray | None = None) -> np.ndarray:
    """Member 0's hidden layer l over the samples of zs, (samples, units): where each unit is at work. For an
    activation that can die (ReLU, relu6, hard_tanh), where it passes gradient (f'(z) != 0: z > 0 for ReLU,
    -1 < z < 1 for hard_tanh); for a saturating one (sigmoid, tanh), where |f'(z)| is at least 1 % of its
    peak; for the others (leaky ReLU, ELU), where z > 0. `slope`: member 0's f'(zs[l]) when already at hand."""
    if not saturating and not can_die(net.hidden[l].fn):
        return zs[l][0] > 0
    slope = net.derivative(l, zs[l])[0] if slope is None else slope
    return np.abs(slope) >= net.saturated_below[l] if saturating else slope != 0


def _shown(layers: list[int]) -> tuple[list[int], bool]:
    """How many units of each hidden layer are drawn, and whether that is fewer than all."""
    hidden = layers[1:-1]
    if sum(hidden) <= MAX_UNITS:
        return hidden, False
    each = max(1, MAX_UNITS // len(hidden))
    return [min(h, each) for h in hidden], True


def plot_units(run_dir: Path, cfg, data, epoch: int | None = None, name: str = "") -> Path:
    """units.png (units-epoch<E>.png for a given logged epoch): every hidden unit over the inputs."""
    last = epoch is None
    epoch, phase, state = state_at(run_dir, epoch)
    if data.n_inputs not in (1, 2):
        raise UserError(f"{run_dir}: unit maps need 1 or 2 inputs; this dataset has {data.n_inputs}")
    fig, note = draw_units(cfg, data, network_at(cfg, state, phase))
    fig.suptitle(wrapped(f"{name or cfg.name}: hidden units at epoch {epoch} {note}", fig.get_figwidth(), 10),
                 fontsize=10)
    return save(fig, run_dir / ("units.png" if last else f"units-epoch{epoch}.png"))


def unit_scales(cfg, data, nets) -> list[tuple[float, float]]:
    """Per drawn hidden layer, the range of its outputs on the training data over all of `nets` (an
    animation's frames): one colour scale (or y axis) for every frame, so that a unit's map brightens only
    when the unit changes."""
    shown, _ = _shown(cfg.model.layers)
    lo, hi = [np.inf] * len(shown), [-np.inf] * len(shown)
    for net in nets:
        with np.errstate(all="ignore"):
            _, as_data = net.forward(data.X)
        for l, n in enumerate(shown):
            finite = as_data[l + 1][0][:, :n]
            finite = finite[np.isfinite(finite)]
            if finite.size:
                lo[l], hi[l] = min(lo[l], float(finite.min())), max(hi[l], float(finite.max()))
    return [(a, b) if a <= b else (0.0, 1.0) for a, b in zip(lo, hi)]


def draw_units(cfg, data, net, scales: list[tuple[float, float]] | None = None):
    """A figure of every hidden unit of `net` (1 or 2 inputs), and a note for its title: how many are
    dead, which are drawn, how to read a panel. `scales`: each drawn layer's output range to colour (or
    plot) by (unit_scales), instead of this net's own outputs on the data."""
    shown, cut = _shown(cfg.model.layers)
    with np.errstate(all="ignore"):
        zs_data, as_data = net.forward(data.X)
    mortal, saturating = mortal_layers(net), saturating_layers(net)
    with np.errstate(all="ignore"):
        slopes = [net.derivative(l, zs_data[l])[0] for l in range(len(shown))]  # f'(z) on the data, once a layer
        dead = [np.all(s == 0, axis=0) for s in slopes]
        at_work = [working(net, zs_data, l, saturating[l], s) for l, s in enumerate(slopes)]
    active = [np.mean(w, axis=0) for w in at_work]
    saturated = [~np.any(w, axis=0) & saturating[l] & ~dead[l] for l, w in enumerate(at_work)]
    if data.n_inputs == 2:
        fig = _plane_units(cfg, data, net, shown, dead, active, saturated, as_data, scales)
    else:
        fig = _curve_units(cfg, data, net, shown, dead, active, saturated, scales)
    total_dead = sum(int(d.sum()) for d in dead)
    total_saturated = sum(int(s.sum()) for s in saturated)
    sizes = ", ".join(map(str, cfg.model.layers[1:-1]))
    note = f"; the first {', '.join(map(str, shown))} units of layers of {sizes}" if cut else ""
    states = []
    if any(mortal) or total_dead:
        states.append(f"{total_dead} dead (framed in red)")
    if any(saturating[: len(shown)]):
        states.append(f"{total_saturated} saturated on every sample (framed in orange)")
    state_note = ", ".join(states) or "no layer whose units can die or saturate"
    what = " or, in a sigmoid-like layer, not saturated" if any(saturating[: len(shown)]) else ""
    how = ("\neach panel: the unit's output over the input plane (yellow high), the data on top; "
           f"title: the share of training samples where it is active (z > 0){what}") if data.n_inputs == 2 else ""
    return fig, f"({state_note}{note}){how}"


def _plane_units(cfg, data, net, shown, dead, active, saturated, as_data, scales=None):
    """The unit maps; as_data: each layer's outputs on the training samples (net.forward), for the colours."""
    xx, yy, extent = plane(data.X, UNIT_GRID)
    grid = np.column_stack([xx.ravel(), yy.ravel()])
    with np.errstate(all="ignore"):
        _, as_grid = net.forward(grid)
    rows_per_layer = [math.ceil(n / PER_ROW) for n in shown]
    ncols = min(PER_ROW, max(shown))
    fig, axes = plt.subplots(sum(rows_per_layer), ncols, figsize=(1.55 * ncols + 0.6, 1.6 * sum(rows_per_layer) + 0.9),
                             squeeze=False, layout="constrained")
    labels = class_labels(data)
    colours = class_colours(data.task, max(int(labels.max()) + 1, 2))  # as in decision_boundary.png
    dot = marker_size(len(data.X)) / 6
    row = 0
    for l, n in enumerate(shown):
        values = as_grid[l + 1][0]  # (grid points, units): the hidden layer's outputs
        # one colour scale per layer, so that units compare (a saturated unit is one colour, a strong one bright),
        # spanning the outputs on the data: a far corner of the plane does not darken every unit where the data is
        if scales is not None:
            lo, hi = scales[l]
        else:
            on_data = as_data[l + 1][0][:, :n]
            finite = on_data[np.isfinite(on_data)]
            if not finite.size:
                finite = values[:, :n][np.isfinite(values[:, :n])]
            lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        for u in range(rows_per_layer[l] * ncols):
            ax = axes[row + u // ncols, u % ncols]
            if u >= n:
                ax.axis("off")
                continue
            img = values[:, u].reshape(xx.shape)
            ax.imshow(img, origin="lower", extent=extent, cmap="viridis", aspect="auto", interpolation="nearest",
                      vmin=lo, vmax=hi if hi > lo else lo + 1e-12)
            for k in np.unique(labels):
                pts = data.X[labels == k]
                ax.scatter(pts[:, 0], pts[:, 1], s=dot, color=colours[k], edgecolors="white", linewidths=0.25)
            ax.set_xlim(extent[0], extent[1])
            ax.set_ylim(extent[2], extent[3])
            ax.set_xticks([])
            ax.set_yticks([])
            share = active[l][u]
            state, colour = ("dead", "red") if dead[l][u] else ("saturated", "darkorange") if saturated[l][u] \
                else (None, "black")
            ax.set_title(f"L{l + 1} u{u}: " + ("<1%" if 0 < share < 0.005 else f"{100 * share:.0f}%"), fontsize=7.5,
                         pad=2, color=colour)
            if state:
                for spine in ax.spines.values():
                    spine.set_color(colour)
                    spine.set_linewidth(2.5)
                ax.text(0.5, 0.5, state, transform=ax.transAxes, ha="center", va="center", color=colour,
                        fontsize=9, fontweight="bold", bbox={"facecolor": "white", "alpha": 0.8, "lw": 0})
        over = "on the data" if scales is None else "on the data,\nover all frames"
        axes[row, 0].set_ylabel(f"layer {l + 1}\n{lo:.2g} to {hi:.2g}\n{over}", fontsize=8)
        row += rows_per_layer[l]
    return fig


def _curve_units(cfg, data, net, shown, dead, active, saturated, scales=None):
    x = data.X[:, 0]
    lo, hi = x.min(), x.max()
    pad = 0.1 * (hi - lo or 1.0)
    grid = np.linspace(lo - pad, hi + pad, 400)[:, None]
    with np.errstate(all="ignore"):
        _, as_grid = net.forward(grid)
    fig, axes = plt.subplots(1 + len(shown), 1, figsize=(7.5, 2.4 * (1 + len(shown)) + 0.6), sharex=True,
                             layout="constrained")
    ax = axes[0]
    ax.scatter(x, data.Y[:, 0], s=10, color="0.35", label="data")
    ax.plot(grid[:, 0], as_grid[-1][0][:, 0], color=COLORS[3], lw=2, label="network")
    ax.set_ylabel("y")
    ax.legend(fontsize=8, loc="best")
    ax.set_title("the fit", fontsize=9)
    for l, n in enumerate(shown):
        ax = axes[l + 1]
        values = as_grid[l + 1][0]
        for u in range(n):
            if dead[l][u] or saturated[l][u]:
                ax.plot(grid[:, 0], values[:, u], ":", color="red" if dead[l][u] else "darkorange", lw=1)
            else:
                ax.plot(grid[:, 0], values[:, u], color=plt.get_cmap("tab20")(u % 20), lw=1.2)
        ax.axvspan(lo, hi, color="0.9", zorder=-1)
        inside = (grid[:, 0] >= lo) & (grid[:, 0] <= hi)
        seen = values[inside][:, :n]
        seen = seen[np.isfinite(seen)]
        if scales is not None or seen.size:  # the outputs over the data's range, not a steep unit's far tails
            bottom, top = scales[l] if scales is not None else (float(seen.min()), float(seen.max()))
            margin = 0.08 * (top - bottom) or 0.5
            ax.set_ylim(bottom - margin, top + margin)
        n_dead, n_sat = int(dead[l][:n].sum()), int(saturated[l][:n].sum())
        states = f"{n_dead} dead, dotted red" + (f"; {n_sat} saturated, dotted orange" if n_sat else "")
        ax.set_title(f"layer {l + 1}: each unit's output over x ({n} units; {states}; "
                     "grey: the data's range)", fontsize=9)
        ax.set_ylabel("unit output")
    axes[-1].set_xlabel("x" + (" (standardised)" if cfg.data.normalize else ""))
    return fig


def active_shares(cfg, data, epochs, phases, states) -> tuple[list[np.ndarray], list[bool]]:
    """Per hidden layer, (units, snapshots): the share of training samples where each unit is at work
    (`working`: z > 0, or not saturated), and whether the layer was judged by saturation at any snapshot."""
    out = [np.full((h, len(epochs)), np.nan) for h in cfg.model.layers[1:-1]]
    by_saturation = [False] * len(out)
    for t, (phase, state) in enumerate(zip(phases, states)):
        net = network_at(cfg, state, phase)
        saturating = saturating_layers(net)
        with np.errstate(all="ignore"):
            zs, _ = net.forward(data.X)
            for l in range(len(out)):
                known = np.isfinite(zs[l][0]).all()
                out[l][:, t] = np.mean(working(net, zs, l, saturating[l]), axis=0) if known else np.nan
                by_saturation[l] |= saturating[l]
    return out, by_saturation


def plot_raster(run_dir: Path, cfg, data, summary: dict, name: str = "") -> Path:
    """units_raster.png: when units died (or came back), per hidden layer."""
    epochs, phases, states = snapshots_of(run_dir)
    shares, by_saturation = active_shares(cfg, data, epochs, phases, states)
    ep = np.array(epochs, dtype=float)
    # cell edges halfway between snapshots, so each column spans its own stretch of epochs
    mid = (ep[1:] + ep[:-1]) / 2 if len(ep) > 1 else np.array([])
    edges = np.concatenate([[ep[0] - (mid[0] - ep[0] if mid.size else 0.5)], mid,
                            [ep[-1] + (ep[-1] - mid[-1] if mid.size else 0.5)]])
    heights = [max(1.4, 0.12 * s.shape[0] + 0.8) for s in shares]
    fig, axes = plt.subplots(len(shares), 1, figsize=(9, sum(heights) + 1.0), sharex=True, squeeze=False,
                             gridspec_kw={"height_ratios": heights}, layout="constrained")
    cmap = plt.get_cmap("magma").with_extremes(bad="0.75")  # grey: not finite (diverged)
    for l, (ax, share) in enumerate(zip(axes[:, 0], shares)):
        mesh = ax.pcolormesh(edges, np.arange(share.shape[0] + 1) - 0.5, np.ma.masked_invalid(share), cmap=cmap,
                             vmin=0, vmax=1, shading="flat")
        idle_end = int(np.sum(share[:, -1] == 0)) if np.isfinite(share[:, -1]).all() else None
        idle = "saturated on every sample" if by_saturation[l] else "never active"
        ax.set_ylabel(f"layer {l + 1}\nunit")
        ax.set_title(f"layer {l + 1}: {share.shape[0]} units"
                     + (f", {idle_end} {idle} at the end" if idle_end is not None else ""), fontsize=9)
        for start, hidden in phase_starts(cfg):
            ax.axvline(start, color="cyan", ls="--", lw=1.2)
            ax.text(start, share.shape[0] - 0.5, f" {hidden}", color="cyan", fontsize=8, va="top")
        diverged = summary.get("diverged_epoch")
        if isinstance(diverged, (int, float)):
            ax.axvline(diverged, color="red", lw=1.5)
            ax.text(diverged, -0.5, " diverged", color="red", fontsize=8, va="bottom")
        if share.shape[0] <= 20:
            ax.set_yticks(range(share.shape[0]))
            ax.tick_params(axis="y", labelsize=6)
    label = "share of training samples where the unit is at work: passes gradient, z > 0 (black: none, dead)"
    if any(by_saturation):
        label = ("share of training samples where the unit is not saturated (|f'(z)| ≥ 1 % of its peak)"
                 if all(by_saturation) else "share of training samples where the unit is at work or not saturated")
    fig.colorbar(mesh, ax=axes[:, 0], label=wrapped(label, 0.9 * fig.get_figheight(), 10), shrink=0.9)
    axes[-1, 0].set_xlabel("epoch")
    state = "not saturated" if all(by_saturation) else "active or not saturated" if any(by_saturation) else "active"
    fig.suptitle(f"{name or cfg.name}: when units are {state}, per logged epoch", fontsize=11)
    return save(fig, run_dir / "units_raster.png")


def plot_weights(run_dir: Path, cfg, data, name: str = "") -> Path:
    """weights.png: histograms of each layer's weights and pre-activations, first vs last snapshot."""
    epochs, phases, states = snapshots_of(run_dir)
    picks = [(epochs[0], phases[0], states[0]), (epochs[-1], phases[-1], states[-1])]
    L = len(cfg.model.layers) - 1
    per_row = min(L, WEIGHT_LAYERS_PER_ROW)  # a deep net's layers wrap onto more rows: weights above, z below
    bands = math.ceil(L / per_row)
    fig, grid = plt.subplots(2 * bands, per_row, figsize=(3.4 * per_row + 0.6, 2.8 * 2 * bands), squeeze=False,
                             layout="constrained")
    axes = np.empty((2, L), dtype=object)
    for l in range(L):
        band, col = divmod(l, per_row)
        axes[0, l], axes[1, l] = grid[2 * band, col], grid[2 * band + 1, col]
    for ax in grid.flat[:]:
        if ax not in axes.flat:
            ax.remove()
    values: dict[tuple[int, int], list[np.ndarray]] = {}  # (row, layer) -> values at the first and last pick
    for _, phase, state in picks:
        net = network_at(cfg, state, phase)
        with np.errstate(all="ignore"):
            zs, _ = net.forward(data.X)
        for l in range(L):
            for row, v in ((0, net.W[l][0].ravel()), (1, zs[l][0].ravel())):
                values.setdefault((row, l), []).append(v[np.isfinite(v)])
    for (row, l), pair in values.items():
        ax = axes[row, l]
        both = np.concatenate(pair)
        bins = np.histogram_bin_edges(both, bins=30) if both.size else 30  # the same bins for both epochs
        for i, ((epoch, _, _), v) in enumerate(zip(picks, pair)):
            if v.size:
                ax.hist(v, bins=bins, color=COLORS[i], alpha=0.55, label=f"epoch {epoch}")
        ax.set_title(f"layer {l + 1}: " + ("weights" if row == 0 else "pre-activations z"), fontsize=9)
    for ax in axes.flat:
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
        ax.tick_params(labelsize=7)
    for l in range(L):
        axes[1, l].axvline(0, color="black", lw=0.8)
    fig.suptitle(f"{name or cfg.name}: weights and pre-activations (over the training set), start and end",
                 fontsize=11)
    return save(fig, run_dir / "weights.png")
