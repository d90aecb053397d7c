"""Every registered activation and its derivative, and seed 004's differences of shifted rectifiers."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..activations import ACTIVATIONS, reach, relu, sigmoid, softplus
from ..errors import UserError, did_you_mean
from .style import COLORS, break_jumps, plt, save, wrapped


@dataclass
class Drawn:
    """One panel: f (and f', or None for a numerical slope) with the parameters to call them with."""

    title: str
    f: Callable
    df: Callable | None
    params: dict = field(default_factory=dict)
    elementwise: bool = True
    mismatch: str | None = None  # a user's df that is not f's slope (activations.check_activation): said on the panel


def _checked(title: str, act) -> Drawn:
    """A user's activation as a panel, its df checked against f's slope; UserError for one that cannot be drawn."""
    from ..activations import check_activation

    try:
        warning = check_activation(act)
    except ValueError as err:
        raise UserError(f"{title}: {err}") from None
    return Drawn(title, act.f, act.df, mismatch=warning)


def drawn_activations(specs: list[str]) -> list[Drawn]:
    """The panels for `relu-lab plot activations SPEC...`: a registered name; a user's 'module:f' (its slope
    numerical) or 'module:f,module:df'; or a config file, whose hidden activations are drawn as it uses them
    (its parameters, its own activations). Every registered one when `specs` is empty. Raises UserError."""
    from ..activations import custom_activation, get_activation, importable_from, is_custom

    out: list[Drawn] = []
    # "mish,relu" names two registered activations (a comma joins a user's f and df only after a ':')
    specs = [part for spec in specs for part in (spec.split(",") if not is_custom(spec) else [spec])]
    for spec in specs or list(ACTIVATIONS):
        if spec in ACTIVATIONS:
            act = ACTIVATIONS[spec]
            out.append(Drawn(spec, act.f, act.df, dict(act.params), act.elementwise))
        elif spec.endswith((".yaml", ".yml")) or Path(spec).is_file():
            out += _of_config(spec)
        elif is_custom(spec):
            f_path, _, df_path = spec.partition(",")
            try:
                with importable_from(Path.cwd()):
                    act = custom_activation(f_path, df_path) if df_path else None
                    f = act.f if act else get_activation(f_path, df=f_path).f
            except ValueError as err:
                raise UserError(f"{spec}: {err}") from None
            out.append(_checked(f_path, act) if act else Drawn(f_path, f, None))
        else:
            raise UserError(did_you_mean("activation", spec, ACTIVATIONS) + "; or your own as module:f,module:df, "
                            "or a config file whose activations to draw")
    unique: dict[str, Drawn] = {}
    for d in out:  # the same one named twice: one panel, the first
        unique.setdefault(d.title + repr(d.params), d)
    return list(unique.values())


def _of_config(path: str) -> list[Drawn]:
    from ..experiment import resolve
    from ..loading import load_config
    from ..resolved import bind

    cfg = resolve(load_config(path), path, Path(path).parent).config  # imports its own activations, from its folder
    names = dict.fromkeys(n for p in cfg.phases() for n in cfg.model.hidden_list(p.hidden))
    drawn = []
    for name, where in [*((n, "") for n in names), (cfg.model.output, " (output)")]:
        act = bind(cfg, name)
        params = {k: v for k, v in act.params.items() if k != act.fn.learned} if act.fn.learned else act.params
        title = (name if act.fn.name == name else f"{name} ({act.fn.name})") + where
        if name in cfg.model.custom_activations:
            drawn.append(_checked(title, act.fn))
        else:
            drawn.append(Drawn(title, act.fn.f, act.fn.df, {**act.fn.params, **params}, act.fn.elementwise))
    return drawn


def plot_activations(specs: list[str] | None, path: str | Path,
                     on_warning: Callable[[str], None] | None = None) -> Path:
    """Panels of f and f' over z in [-4, 4] for activations (`drawn_activations`). With no `specs`, all
    registered ones and one more panel comparing (ReLU(z+2) - ReLU(z-2))/4 and (softplus(z+2) - softplus(z-2))/4
    with the sigmoid (seed 004: a difference of two shifted rectifiers looks like a sigmoid). A user's df that
    is not f's slope is drawn with the numerical slope beside it, and the panel says so (and `on_warning`)."""
    panels = drawn_activations(list(dict.fromkeys(specs or [])))
    for p in panels:
        if p.mismatch and on_warning is not None:
            on_warning(f"{p.title}: {p.mismatch}")
    path = Path(path)
    if path.is_dir():
        raise UserError(f"{path}: is a directory; give a file name such as {path / 'activations.png'}")
    if path.suffix.lower() != ".png":
        raise UserError(f"{path}: the picture is a PNG; give a file name ending in .png")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UserError(f"{path.parent}: cannot create the directory ({err.strerror or err})") from None
    gallery = not specs  # every registered one: seed 004's comparison goes with them
    n_panels = len(panels) + gallery
    ncols = min(4, n_panels)
    nrows = math.ceil(n_panels / ncols)
    fig = plt.figure(figsize=(3.6 * ncols, 3.0 * nrows), layout="constrained")
    gs = fig.add_gridspec(nrows, ncols)
    axes = [fig.add_subplot(gs[i // ncols, i % ncols]) for i in range(len(panels))]
    for ax, act in zip(axes, panels):
        z = np.linspace(-_span(act), _span(act), 801)
        with np.errstate(all="ignore"):
            try:
                if act.elementwise:
                    f = np.asarray(act.f(z.copy(), **act.params), dtype=float)
                    df = np.asarray(act.df(z.copy(), **act.params), dtype=float) if act.df is not None \
                        else np.gradient(f, z)
                    title = act.title
                else:  # softmax: the first of two outputs for logits (z, 0), which is sigmoid(z)
                    f = act.f(np.stack([z, np.zeros_like(z)], axis=-1))[:, 0]
                    df = np.gradient(f, z)
                    title = f"{act.title} of (z, 0), first output"
            except Exception as err:  # noqa: BLE001 - a user's function: said in one line, not raised through
                raise UserError(f"{act.title}: cannot be drawn over z in [{z[0]:g}, {z[-1]:g}] "
                                f"({type(err).__name__}: {err})") from None
        if f.shape != z.shape or df.shape != z.shape:
            raise UserError(f"{act.title}: f or f' does not return one value per z (elementwise)")
        params = ", ".join(f"{k}={v:g}" for k, v in act.params.items())
        ax.axhline(0, color="0.6", lw=0.8)
        ax.axvline(0, color="0.6", lw=0.8)
        ax.plot(z, f, color=COLORS[0], lw=2, label="f(z)")
        numerical = act.df is None or not act.elementwise
        ax.plot(z, break_jumps(df), "--", color=COLORS[3], lw=1.6,
                label="f'(z)" + (" (numerical)" if numerical else " (yours)" if act.mismatch else ""))
        title += f" ({params})" if params else ""
        if act.mismatch:  # what training would use, and what it should be
            ax.plot(z, break_jumps(np.gradient(f, z)), ":", color="black", lw=1.4, label="f's slope (numerical)")
            title += "\nits f' is not f's slope"
        ax.set_title(title, fontsize=10, color="red" if act.mismatch else "black")
        ax.set_xlabel("z", fontsize=9)
        ax.set_ylabel("f(z), f'(z)", fontsize=9)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="upper left")
    if gallery:
        row, col = divmod(len(panels), ncols)
        span = 2 if ncols - col >= 2 else 1  # wider when the last row has room
        _shifted_rectifiers(fig.add_subplot(gs[row, col : col + span]), np.linspace(-4, 4, 801))
    size = 10 if ncols == 1 else 12
    fig.suptitle(wrapped("Activation functions f (solid) and derivatives f' (dashed); parameters in the titles",
                         3.6 * ncols, size), fontsize=size)
    return save(fig, path)


def _span(act: Drawn) -> float:
    """How far each side of 0 a panel draws z: 4, or further for a bound that lies beyond (relu6 reaches 6 at 6)."""
    if not act.elementwise:
        return 4.0
    lo, hi = reach(act.f, act.params)
    bound = max((abs(v) for v in (lo, hi) if np.isfinite(v)), default=0.0)
    return max(4.0, 1.2 * bound)


def _shifted_rectifiers(ax, z: np.ndarray) -> None:
    ax.axhline(0, color="0.6", lw=0.8)
    ax.axvline(0, color="0.6", lw=0.8)
    ax.plot(z, sigmoid(z), color="black", lw=2, label="sigmoid(z)")
    ax.plot(z, (relu(z + 2) - relu(z - 2)) / 4, color=COLORS[0], lw=1.8, label="[ReLU(z+2) - ReLU(z-2)] / 4")
    ax.plot(z, (softplus(z + 2) - softplus(z - 2)) / 4, "--", color=COLORS[2], lw=1.8,
            label="[softplus(z+2) - softplus(z-2)] / 4")
    ax.set_title("Differences of shifted rectifiers vs sigmoid", fontsize=10)
    ax.set_xlabel("z", fontsize=9)
    ax.set_ylabel("value", fontsize=9)
    ax.set_ylim(-0.1, 1.25)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper left")
