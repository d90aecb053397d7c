"""activations.png of a train run: what each hidden layer outputs over the epochs.

Left, the mean of each hidden layer's outputs over the training samples and its units, with a band of
one standard deviation (Glorot and Bengio 2010, figure 2: the top sigmoid layer driven to 0 early in
training, the lower ones around 0.5). Right, the share of saturated outputs, where |f'(z)| is under
1 % of its peak: for sigmoid and tanh, pinned at a bound; for ReLU, the outputs at 0.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..activations import reach
from ..diagnostics import COLUMN
from .style import band_alpha, epoch_axis, palette, phase_marks, plt, save, thin


def hidden_layers(cols) -> list[int]:
    """The hidden layers with act_mean, act_std and saturated columns."""
    found = {int(m.group(2)) for key in cols if (m := COLUMN.fullmatch(key)) and m.group(1) == "act_mean"}
    return sorted(l for l in found if f"act_std_L{l}" in cols and f"saturated_L{l}" in cols)


def layer_label(cfg, l: int) -> str:
    """'layer 3 (sigmoid)', the activation named when the run used one throughout."""
    if cfg is None:
        return f"layer {l}"
    names = {cfg.model.hidden_list(p.hidden)[l - 1] for p in cfg.phases()} if l < len(cfg.model.layers) - 1 else set()
    return f"layer {l} ({names.pop()})" if len(names) == 1 else f"layer {l}"


def output_range(cfg, l: int) -> tuple[float, float]:
    """The values hidden layer l can output, over every phase's activation (activations.reach): the band is
    clipped to them, since mean ± std can leave a bounded activation's range (a sigmoid layer near 0)."""
    if cfg is None or l >= len(cfg.model.layers) - 1:
        return -np.inf, np.inf
    from ..resolved import bind

    lo, hi = np.inf, -np.inf
    try:
        for name in {cfg.model.hidden_list(p.hidden)[l - 1] for p in cfg.phases()}:
            act = bind(cfg, name)
            a, b = reach(act.fn.f, act.params)
            lo, hi = min(lo, a), max(hi, b)
    except (ValueError, KeyError):  # a user's module not found from here: the band as it is
        return -np.inf, np.inf
    return lo, hi


def plot_layer_outputs(run_dir: Path, name: str, cols: dict[str, np.ndarray], cfg) -> Path | None:
    """activations.png, or None when metrics.csv has no act_mean columns (diagnostics off, no hidden layer,
    or a run from before they were logged)."""
    layers = hidden_layers(cols)
    if not layers:
        return None
    epoch = cols["epoch"]
    keys = [f"{k}_L{l}" for l in layers for k in ("act_mean", "act_std", "saturated")]
    drawn = thin(len(epoch), *(cols[k] for k in keys))
    x = epoch[drawn]
    fig, (ax_m, ax_s) = plt.subplots(1, 2, figsize=(12, 4.6), layout="constrained", sharex=True)
    colours, alpha = palette(len(layers)), band_alpha(len(layers))
    for i, (colour, l) in enumerate(zip(colours, layers)):
        mean, std = cols[f"act_mean_L{l}"][drawn], cols[f"act_std_L{l}"][drawn]
        ax_m.plot(x, mean, color=colour, lw=1.6, label=layer_label(cfg, l))
        lo, hi = output_range(cfg, l)
        ax_m.fill_between(x, np.clip(mean - std, lo, hi), np.clip(mean + std, lo, hi), color=colour, alpha=alpha, lw=0)
        width = 1.2 + 2.8 * (len(layers) - 1 - i) / max(len(layers) - 1, 1)  # equal shares stay visible
        ax_s.plot(x, cols[f"saturated_L{l}"][drawn], color=colour, lw=width)
    ax_m.set_ylabel("output of the layer: mean ± 1 std\n(within the activation's range)")
    ax_m.set_title("Hidden layers' outputs over the training set", fontsize=10)
    ax_s.set_ylim(-0.02, 1.02)
    ax_s.set_ylabel("share of outputs saturated")
    ax_s.set_title("Saturated outputs: |f'(z)| below 1 % of its peak (ReLU: the outputs at 0)", fontsize=10)
    for ax in (ax_m, ax_s):
        ax.grid(alpha=0.3)
        epoch_axis(ax, epoch, [cols[k] for k in keys])
        phase_marks(ax, cfg, until=float(np.nanmax(epoch)) if np.isfinite(epoch).any() else None)
    fig.legend(*ax_m.get_legend_handles_labels(), loc="outside right center", fontsize=8)
    fig.suptitle(f"{name}: activations by layer")
    return save(fig, run_dir / "activations.png")
