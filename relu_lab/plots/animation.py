"""Training unfolding, as an animated GIF over the logged epochs (snapshots.npz).

    training.gif   the decision boundary (2-D classification) or the fit (1-D regression) at each
                   frame's epoch, beside the cost curve growing up to it
    units.gif      the hidden units' maps (as units.png) at each frame's epoch

Frames are spaced by how much the weights change (denser where the net changes fast), within the
epochs asked for (--from, --to), at most --frames of them. A frame's title names its epoch and phase;
phase switches and the divergence are marked on the cost curve and said in the title of the frames after
them. Frames are drawn one by one with matplotlib and joined with Pillow (which matplotlib installs).
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from ..errors import UserError
from ..rundir import replacing
from ..snapshots import network_at, phase_starts
from .output import draw_boundary, draw_fit, output_span
from .style import COLORS, DPI, plt, positive, read_metrics, thin
from .units import draw_units, snapshots_of, unit_scales

MAX_FRAMES = 40
FRAME_GRID = 120  # points per side of a frame's input plane (the still picture has 250)
FRAME_MS = 180  # per frame; the last one is held longer
HOLD_LAST_MS = 1500


def frame_indices(n: int, most: int = MAX_FRAMES) -> list[int]:
    """At most `most` snapshot indices, evenly spread, the first and the last always."""
    if n <= most:
        return list(range(n))
    return sorted(set(np.linspace(0, n - 1, most).round().astype(int).tolist()))


def change_spaced(states: list[dict[str, np.ndarray]], most: int = MAX_FRAMES) -> list[int]:
    """At most `most` indices into `states` (the snapshots in a range), spaced by how much the weights change
    rather than by epochs: frames at equal steps of the weights' cumulative change (the norm of the difference
    from one snapshot to the next), so they crowd where the net changes fast (units dying in the first epochs)
    and thin out where it settles. The first and the last always; evenly spread when nothing changes."""
    n = len(states)
    if n <= most:
        return list(range(n))
    keys = sorted(k for k in states[0] if k[0] in "Wb" and all(k in s for s in states))
    flat = [np.concatenate([np.ravel(s[k]) for k in keys]) if keys else np.zeros(1) for s in states]
    with np.errstate(all="ignore"):
        step = np.array([np.linalg.norm(b - a) for a, b in zip(flat, flat[1:])])
    step = np.where(np.isfinite(step), step, 0.0)
    walked = np.concatenate([[0.0], np.cumsum(step)])
    if walked[-1] <= 0:
        return frame_indices(n, most)
    picks = set(np.searchsorted(walked, np.linspace(0.0, walked[-1], most), side="left").clip(0, n - 1).tolist())
    picks |= {0, n - 1}
    for i in frame_indices(n, n):  # where two steps of change fell on one snapshot: fill up with the others,
        if len(picks) >= most:      # evenly, so that the animation has the frames asked for
            break
        if i not in picks and i % max(1, n // most) == 0:
            picks.add(i)
    return sorted(picks)


def frames_in(epochs: list[int], start: int | None, stop: int | None) -> list[int]:
    """The snapshots kept within [start, stop] (epochs, both included); raises UserError when none is."""
    lo = -np.inf if start is None else start
    hi = np.inf if stop is None else stop
    if lo > hi:
        raise UserError(f"--from {start} is after --to {stop}")
    inside = [i for i, e in enumerate(epochs) if lo <= e <= hi]
    if len(inside) < 2:
        asked = f"{start if start is not None else 'the start'}..{stop if stop is not None else 'the end'}"
        step = f", every {epochs[1] - epochs[0]}" if len(epochs) > 2 and len(set(np.diff(epochs[:-1]))) == 1 else ""
        raise UserError(f"--from/--to: {'no weights were' if not inside else 'only one set of weights was'} kept in "
                        f"epochs {asked}, and an animation needs two (kept: {epochs[0]}..{epochs[-1]}, "
                        f"{len(epochs)} epochs{step})")
    return inside


def animate(run_dir: Path, cfg, data, summary: dict, cols: dict[str, np.ndarray], what: str = "training",
            name: str = "", frames: int = MAX_FRAMES, start: int | None = None, stop: int | None = None) -> Path:
    """training.gif (what='training') or units.gif (what='units') of a train run: at most `frames` frames
    from the snapshots between epochs `start` and `stop`, spaced by change (change_spaced)."""
    if what == "training" and not ((data.n_inputs == 2 and data.task != "regression")
                                   or (data.n_inputs == 1 and data.task == "regression")):
        raise UserError(f"{run_dir}: training.gif needs 2-D classification or 1-D regression data; "
                        f"this dataset has {data.n_inputs} inputs ({data.task})")
    if what == "units" and data.n_inputs not in (1, 2):
        raise UserError(f"{run_dir}: units.gif needs 1 or 2 inputs; this dataset has {data.n_inputs}")
    epochs, phases, states = snapshots_of(run_dir)
    inside = frames_in(epochs, start, stop)
    chosen = [inside[j] for j in change_spaced([states[i] for i in inside], frames)]
    nets = [network_at(cfg, states[i], phases[i]) for i in chosen]
    # one colour scale for every frame: each hidden layer's (units), or the output's over the plane (training)
    if what == "units":
        scales = unit_scales(cfg, data, nets)
    elif data.n_inputs == 2 and data.task == "binary":
        scales = output_span(data, nets, FRAME_GRID)
    else:
        scales = None
    pictures = []
    for i, net in zip(chosen, nets):
        if what == "training":
            fig = _training_frame(cfg, data, net, epochs[i], cols, summary, scales)
        else:
            fig = draw_units(cfg, data, net, scales)[0]
        fig.suptitle(_frame_title(name or cfg.name, cfg, epochs[i], phases[i], summary), fontsize=11)
        pictures.append(_pixels(fig))
    return _write_gif(pictures, run_dir / f"{what}.gif")


def _frame_title(name: str, cfg, epoch: int, phase: int, summary: dict) -> str:
    hidden = cfg.phases()[phase].hidden
    hidden = hidden if isinstance(hidden, str) else "/".join(hidden)
    title = f"{name}: epoch {epoch}"
    if len(cfg.phases()) > 1:
        title += f", phase {phase + 1} ({hidden})"
    diverged = summary.get("diverged_epoch")
    if isinstance(diverged, (int, float)) and epoch >= diverged:
        title += f", diverged at epoch {int(diverged)}"
    return title


def _training_frame(cfg, data, net, epoch: int, cols: dict[str, np.ndarray], summary: dict, span=None):
    fig, (ax_out, ax_cost) = plt.subplots(1, 2, figsize=(10.5, 4.4), layout="constrained",
                                          gridspec_kw={"width_ratios": [1.15, 1]})
    if data.n_inputs == 2:
        draw_boundary(fig, ax_out, cfg, data, net, colorbar=False, points=FRAME_GRID, span=span)
    else:
        draw_fit(ax_out, cfg, data, net)
    _cost_so_far(ax_cost, cfg, cols, epoch, summary)
    return fig


def _cost_so_far(ax, cfg, cols: dict[str, np.ndarray], epoch: int, summary: dict) -> None:
    """The whole cost curve faint, the part up to `epoch` bold, a dot at `epoch`."""
    ep, cost = cols["epoch"], cols["cost"]
    ok = np.isfinite(cost)
    x, y = ep[ok], cost[ok]
    drawn = thin(len(x), y)
    ax.plot(x[drawn], y[drawn], color="0.8", lw=1.2)
    now = ok & (ep <= epoch)
    x, y = ep[now], cost[now]
    drawn = thin(len(x), y)
    ax.plot(x[drawn], y[drawn], color=COLORS[0], lw=2, label="training cost")
    if now.any():
        last = np.flatnonzero(now)[-1]
        ax.plot([ep[last]], [cost[last]], "o", color=COLORS[3], ms=7)
    if positive(cost[ok]):
        ax.set_yscale("log")
    for start, hidden in phase_starts(cfg):
        ax.axvline(start, color="0.4", ls=":", lw=1)
        ax.text(start, 0.98, f" {hidden}", transform=ax.get_xaxis_transform(), va="top", fontsize=8, color="0.3")
    diverged = summary.get("diverged_epoch")
    if isinstance(diverged, (int, float)):
        ax.axvline(diverged, color="red", lw=1.2, label=f"diverged (epoch {int(diverged)})")
    ax.axvline(epoch, color=COLORS[3], lw=0.8, alpha=0.6)
    ax.set_xlabel("epoch")
    ax.set_ylabel("cost")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper right")
    ax.set_title("cost so far", fontsize=10)


def _pixels(fig) -> np.ndarray:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI * 0.75)
    plt.close(fig)
    buffer.seek(0)
    from PIL import Image

    with Image.open(buffer) as image:
        return np.asarray(image.convert("RGB"))


def _write_gif(frames: list[np.ndarray], path: Path) -> Path:
    from PIL import Image

    h = max(f.shape[0] for f in frames)
    w = max(f.shape[1] for f in frames)
    images = []
    for f in frames:  # frames of one size: pad the odd one (a longer title) with white
        canvas = np.full((h, w, 3), 255, dtype=np.uint8)
        canvas[: f.shape[0], : f.shape[1]] = f
        images.append(Image.fromarray(canvas).quantize(colors=255, method=Image.Quantize.MEDIANCUT))
    durations = [FRAME_MS] * (len(images) - 1) + [HOLD_LAST_MS]
    with replacing(path) as tmp:
        images[0].save(tmp, format="GIF", save_all=True, append_images=images[1:], duration=durations, loop=0)
    return path


def load_curves(run_dir: Path) -> dict[str, np.ndarray]:
    return read_metrics(run_dir / "metrics.csv")
