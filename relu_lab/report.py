"""report.md for a sweep or compare directory: what was run, the summary table and the plots.

Plain Markdown (headings, lists, one pipe table, image links relative to the
directory), so it reads the same on GitHub, in an editor or in any viewer.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from .datasets import DATASETS
from .errors import UserError
from .rundir import atomic_write
from .runfiles import (
    SWEEP_PLOTS,
    SweepDir,
    cell_float,
    compare_choices,
    lr_key,
    penalties_text,
    read_yaml_or_none,
    rule_text,
    run_kind,
    short_value,
)

PLOT_CAPTIONS = {
    "sweep.png": "Success rate and median final cost against the learning rate",
    "compare_curves.png": "Median cost and score over epochs per activation (inter-quartile bands)",
    "compare_success.png": "Success rate per activation with 95% Wilson intervals",
    "compare_cost.png": "Median final cost per activation with inter-quartile ranges",
    "depth.png": "Gradient norm of each weight layer and dead share of each layer, at the first and the last log point",
}


def write_report(run_dir: str | Path, make_plots: bool = True) -> Path:
    """Write `report.md` into a sweep/compare directory and return its path; raises UserError.

    With `make_plots` (the default) the pictures are drawn first (`plots.plot_sweep`);
    without, the report links whichever of them already exist.
    """
    run_dir = Path(run_dir)
    kind = run_kind(run_dir)
    if kind == "train":
        raise UserError(f"{run_dir}: report.md is written for sweep and compare directories, not a train run")
    g = SweepDir(run_dir)
    if make_plots:
        from .plots import plot_sweep  # matplotlib only when drawing

        plot_sweep(run_dir)
    cfg = read_yaml_or_none(run_dir / "config.yaml")  # the base, resolved where the grid's points agree
    cfg = cfg if isinstance(cfg, dict) else {}
    lines = [f"# {kind.capitalize()} `{g.name}`", ""]
    lines += _overview(g)
    lines += ["", "## What was run", ""]
    lines += _setup(g, cfg)
    lines += ["", "## Results", ""]
    lines += _table(g)
    if kind == "compare" and len(g.keys) > 1:
        others = [k for k in g.keys if k != "model.hidden"]
        picks = "; ".join(f"{name} at {_point(g, row, others)}" for name, row in compare_choices(g))
        lines += ["", f"The compare plots use each activation's best grid point ({picks})."]
    plots = [p for p in SWEEP_PLOTS if (run_dir / p).exists()]
    if plots:
        lines += ["", "## Plots", ""]
        for p in plots:
            caption = PLOT_CAPTIONS.get(p, p)
            lines += [f"![{caption}]({p})", "", f"*{caption}.*", ""]
    path = run_dir / "report.md"
    try:
        atomic_write(path, "\n".join(lines).rstrip() + "\n")
    except OSError as err:
        raise UserError(f"{path}: cannot write the report: {err.strerror or err}") from None
    return path


def _overview(g: SweepDir) -> list[str]:
    info = g.info
    parts = [f"Status **{info.get('status', '?')}**"]
    members, done = info.get("members"), info.get("members_done")
    if members is not None:
        parts.append(f"{done if done is not None else '?'} of {members} members trained")
    if info.get("seconds") is not None:
        parts.append(f"{cell_float(info['seconds']):.3g} s")
    if info.get("member_steps_per_second"):
        parts.append(f"{info['member_steps_per_second']:,} member-steps/s")
    if info.get("started"):
        parts.append(f"date {info['started']}")
    return [", ".join(parts) + f". Directory: `{g.dir.name}`."]


def _setup(g: SweepDir, cfg: dict[str, Any]) -> list[str]:
    data = cfg.get("data") or {}
    model = cfg.get("model") or {}
    train = cfg.get("train") or {}
    loss = cfg.get("loss") or {}
    varied = [("lr" if lr_key([k]) else k.removeprefix("train.")) for k in g.keys if k.startswith("train.")]
    spec = DATASETS.get(data.get("name"))
    n = data.get("n") if data.get("n") is not None else (spec.n if spec else "default")
    noise = data.get("noise") if data.get("noise") is not None else (spec.noise if spec else "default")
    dataset = f"{data.get('name', '?')} (n = {n}, noise = {noise}"
    dataset += f", test_n = {data['test_n']})" if data.get("test_n") else ")"
    hidden = model.get("hidden", "?")
    hidden = hidden if isinstance(hidden, str) else ", ".join(map(str, hidden))
    if "model.hidden" in g.keys:
        hidden = "varied by the grid"
    out = [
        f"- **Config name:** `{cfg.get('name', g.name)}`",
        f"- **Dataset:** {dataset}",
        f"- **Layers:** {'-'.join(map(str, model.get('layers', []))) or '?'}; hidden activation {hidden}, "
        f"output {model.get('output') or 'default for the task'}",
        f"- **Initialisation:** {model.get('init', '?')} (scale {model.get('init_scale', '?')})",
        f"- **Loss:** {loss.get('name') or 'default for the task'} ({loss.get('reduction', 'mean')})",
        f"- **Training:** {_training(train)}" + (f" ({', '.join(varied)} varied by the grid)" if varied else ""),
    ]
    success = cfg.get("success")
    if isinstance(success, dict) and success.get("metric"):
        bound = f">= {success['at_least']}" if success.get("at_least") is not None else f"<= {success.get('at_most')}"
        out.append(f"- **Success:** final {success['metric']} {bound}")
    out.append("- **Grid axes:**" + ("" if g.keys else " none"))
    for key in g.keys:
        values = ", ".join(short_value(str(v)) if not isinstance(v, (list, dict)) else str(v) for v in g.axes[key])
        n = len(g.axes[key])
        out.append(f"    - `{key}`: {values} ({n} value{'s' if n != 1 else ''})")
    out.append(f"- **Seeds:** {_seeds(g.seeds)}")
    return out


def _training(train: dict[str, Any]) -> str:
    batch = train.get("batch_size")
    text = (f"lr {train.get('lr', '?')}, {train.get('epochs', '?')} epochs, "
            f"{'batch ' + str(batch) if batch else 'full batch'}, order {train.get('order', '?')}")
    if train.get("lr_decay") not in (None, 1, 1.0):
        text += f", lr decay {train['lr_decay']} per epoch"
    text += f", optimizer {rule_text(train.get('optimizer'))}"
    if penalties_text(train):
        text += f", {penalties_text(train)}"
    phases = train.get("phases") or []
    if phases:
        text += f", {len(phases)} phases (" + "; ".join(
            ", ".join(f"{k} {rule_text(v) if k == 'optimizer' else v}" for k, v in p.items() if v is not None)
            for p in phases) + ")"
    return text


def _seeds(seeds: list) -> str:
    if not seeds:
        return "?"
    if seeds == list(range(len(seeds))) and len(seeds) > 3:
        return f"0 .. {len(seeds) - 1} ({len(seeds)} seeds)"
    return ", ".join(map(str, seeds)) + f" ({len(seeds)} seed{'s' if len(seeds) != 1 else ''})"


def _point(g: SweepDir, row: dict[str, str], keys: list[str] | None = None) -> str:
    keys = g.keys if keys is None else keys
    return ", ".join(f"{k} = {short_value(row[k])}" for k in keys) or "the only grid point"


def _fmt(x: float, digits: int = 3) -> str:
    if not math.isfinite(x):
        return "-" if math.isnan(x) else ("inf" if x > 0 else "-inf")
    return f"{x:.{digits}g}"


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%" if math.isfinite(x) else "-"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _table(g: SweepDir) -> list[str]:
    score = g.score
    header = [f"`{k}`" for k in g.keys] + ["members"]
    align = ["---"] * len(g.keys) + ["---:"]
    if g.has_success:
        header += ["success rate [95% CI]", "median epoch to success"]
        align += ["---:", "---:"]
    # the criterion's own figure beside the score when success is judged on another one (test_accuracy ...)
    judged = [k.removesuffix("_median") for k in g.summary[0] if k.startswith("test_") and k.endswith("_median")]
    label = {"r2": "R²", "accuracy": "accuracy", "test_r2": "test R²", "test_accuracy": "test accuracy"}
    header += ["final cost: median [Q1, Q3]", *(f"{label.get(m, m)}: median" for m in [score, *judged]), "diverged"]
    align += ["---:"] * (3 + len(judged))
    # inside the nets at the end: each layer's mean dead share, and how much of the gradient reaches layer 1
    dead = [k for k in g.summary[0] if k.startswith("dead_L") and k.endswith("_mean")]
    ratios = [k for k in ("grad_peak_ratio_median", "grad_ratio_median") if k in g.summary[0]]
    names = {"grad_peak_ratio_median": "grad L1 / last, of their peaks: median",
             "grad_ratio_median": "grad L1 / last, at the end: median"}
    header += [f"dead L{k[6:-5]}: mean" for k in dead] + [names[k] for k in ratios]
    align += ["---:"] * (len(dead) + len(ratios))
    best = g.best()
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"]
    for row in g.summary:
        n = cell_float(row.get("members"))
        cells = [short_value(row[k]) for k in g.keys] + [_fmt(n, 6)]
        if g.has_success:
            cells.append(f"{_pct(cell_float(row.get('success_rate')))} "
                         f"[{_pct(cell_float(row.get('success_low')))}, {_pct(cell_float(row.get('success_high')))}]")
            cells.append(_fmt(cell_float(row.get("median_success_epoch")), 6))
        med = cell_float(row.get("cost_median"))
        cells.append(f"{_fmt(med)} [{_fmt(cell_float(row.get('cost_q1')))}, {_fmt(cell_float(row.get('cost_q3')))}]"
                     if math.isfinite(med) else "-")
        cells += [_fmt(cell_float(row.get(f"{m}_median"))) for m in [score, *judged]]
        d = cell_float(row.get("diverged"))
        cells.append(f"{_fmt(d, 6)}/{_fmt(n, 6)}" if math.isfinite(d) else "-")
        cells += [_pct(cell_float(row.get(k))) for k in dead]
        for key in ratios:
            r = cell_float(row.get(key))
            cells.append(f"{r:.1e}" if math.isfinite(r) else "-")
        cells = [_cell(c) for c in cells]
        if row is best:
            cells = [f"**{c}**" for c in cells]
        lines.append("| " + " | ".join(cells) + " |")
    rule = "highest success rate, then lowest median final cost" if g.has_success else "lowest median final cost"
    lines += ["", f"Bold: the best grid point ({rule}): {_point(g, best)}."]
    return lines
