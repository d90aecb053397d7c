"""Claims with verdicts: a config's `claim:` block measured over seeds and judged.

Each setting of a claim (the config with some keys changed) is trained as a sweep over the same
seeds. Each expectation takes one figure of one setting (FIGURES in config.py) with its 95 %
interval and compares the interval with the threshold:

    at_least T   holds when the interval's low end >= T, fails when its high end < T
    at_most T    holds when the interval's high end <= T, fails when its low end > T

and is inconclusive when the interval straddles T; then it says about how many seeds would
decide it. Proportions (success, divergence, a layer all dead) get Wilson intervals; medians and
means a bootstrap percentile interval (2000 resamples, a fixed Generator, so reruns agree).
An expectation with `versus` judges the difference of a figure between two settings the same way:
Newcombe's hybrid score interval for two proportions, a bootstrap of the difference otherwise
(the settings' members are taken as independent samples, though they share seeds).
A claim holds when all its expectations hold, fails when any fails, else is inconclusive.
A check stopped by Ctrl-C (CheckInterrupted) judges nothing it did not finish: claims.json says
"interrupted", names the claims not judged, and never says all hold.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .config import LAYERED, PROPORTIONS, Config, Expectation
from .errors import UserError
from .grid import run_sweep, wilson
from .loading import apply_override, config_from_dict
from .plan import SweepPlan, plan_sweep
from .runfiles import cell_float, iter_rows, read_rows

Z95 = 1.959963984540054
BOOTSTRAP = 2000
HOLDS, FAILS, INCONCLUSIVE = "holds", "fails", "inconclusive"


@dataclass
class Measured:
    """One expectation measured: the figure, its 95 % interval and the verdict."""

    expectation: str
    value: float | None
    low: float | None
    high: float | None
    n: int
    count: int | None  # members counted, for a proportion
    verdict: str
    seeds_to_decide: int | None = None  # when inconclusive: about how many seeds would decide it
    note: str = ""
    versus_n: int | None = None  # a difference: the second setting's members (and count, for a proportion)
    versus_count: int | None = None

    def text(self) -> str:
        """'12% [5-26%] (3/25)' for a proportion, '0.0123 [0.01, 0.02]' for a median, '+35 pp [12, 55]
        (19/40 vs 0/40)' for a difference of proportions, '+0.4 [0.1, 0.7] (n=40 vs 40)' of medians."""
        if self.value is None:
            return "-"
        if self.versus_n is not None:
            if self.count is not None:
                return (f"{100 * self.value:+.0f} pp [{100 * self.low:+.0f}, {100 * self.high:+.0f}] "
                        f"({self.count}/{self.n} vs {self.versus_count}/{self.versus_n})")
            return f"{self.value:+.3g} [{self.low:+.3g}, {self.high:+.3g}] (n={self.n} vs {self.versus_n})"
        if self.count is not None:
            return f"{100 * self.value:.0f}% [{100 * self.low:.0f}-{100 * self.high:.0f}%] ({self.count}/{self.n})"
        return f"{self.value:.3g} [{self.low:.3g}, {self.high:.3g}] (n={self.n})"


@dataclass
class Verdict:
    name: str
    statement: str
    source: str
    seeds: int
    measured: list[Measured] = field(default_factory=list)
    runs: dict[str, str] = field(default_factory=dict)  # setting -> its sweep directory

    @property
    def verdict(self) -> str:
        verdicts = {m.verdict for m in self.measured}
        return FAILS if FAILS in verdicts else INCONCLUSIVE if INCONCLUSIVE in verdicts else HOLDS

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"verdict": self.verdict}


class CheckInterrupted(KeyboardInterrupt):
    """Ctrl-C while a claim's settings trained: the claim is not judged. `runs` holds the sweeps kept
    (the settings that finished, and the interrupted one's when it had trained something to resume)."""

    def __init__(self, claim: str, setting: str | None, runs: dict[str, str]):
        super().__init__(f"{claim}: interrupted {self.during(setting)}")
        self.claim, self.setting, self.runs = claim, setting, runs

    @staticmethod
    def during(setting: str | None) -> str:
        """'while setting relu trained'; None: 'while its figures were measured'; '': 'before a setting trained'."""
        if setting is None:
            return "while its figures were measured"
        return f"while setting {setting} trained" if setting else "before a setting trained"

    def to_dict(self) -> dict[str, Any]:
        return {"claim": self.claim, "setting": self.setting, "runs": self.runs}


def settings_of(cfg: Config, source: str = "config") -> dict[str, Config]:
    """Each named setting of cfg's claim as a Config (the claim and sweep blocks dropped); raises UserError."""
    if cfg.claim is None:
        raise UserError(f"{source}: no 'claim:' block to check (see the README's Claims section)")
    out = {}
    for name, changes in cfg.claim.settings.items():
        raw = cfg.model_dump(mode="json", exclude={"claim", "sweep"}, exclude_none=True)
        for key, value in changes.items():
            path = [int(p) if p.isdigit() else p for p in str(key).split(".")]
            apply_override(raw, path, value, f"{source}: claim.settings.{name}.{key}")
        raw["name"] = f"{cfg.name}-{name}"[:100]
        out[name] = config_from_dict(raw, f"{source} (claim setting {name})")
    return out


def plan_claim(cfg: Config, seeds: int | None = None, source: str = "config",
               base_dir: Path | None = None) -> dict[str, SweepPlan]:
    """One sweep plan (no grid axes, the claim's seeds) per setting, every expectation checked against the
    settings it measures (before anything trains); raises UserError."""
    if seeds is not None and (isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1):
        raise UserError(f"seeds: a count of seeds per setting, at least 1 (got {seeds!r})")
    n = seeds or (cfg.claim.seeds if cfg.claim is not None else 32)
    plans = {name: plan_sweep(c, [], list(range(n)), f"{source} (claim setting {name})", base_dir)
             for name, c in settings_of(cfg, source).items()}
    for i, e in enumerate(cfg.claim.expect):
        for name in dict.fromkeys(e.named()):
            problem = _cannot_measure(e, plans[name])
            if problem is not None:
                raise UserError(f"{source}: claim.expect.{i} ({e}): setting {name}: {problem}")
    return plans


def _cannot_measure(e: Expectation, plan: SweepPlan) -> str | None:
    """Why the runs of `plan` will not give e's figure (None: they will)."""
    cfg, data = plan.members[0].config, plan.groups[0].data
    layers = cfg.model.layers
    columns = plan.groups[0].experiment.diagnostics
    if e.figure == "success_rate" and cfg.success is None:
        return "the config has no success criterion to count (add success: {metric: ..., at_least: ...})"
    metric = e.figure.removeprefix("test_")
    task = "regression" if data.task == "regression" else "classification"
    if metric in ("accuracy", "r2") and (metric == "r2") != (task == "regression"):
        return f"{e.figure} is not measured on a {task} task (accuracy is for classification, r2 for regression)"
    if e.figure.startswith("test_") and data.X_test is None:
        return f"{e.figure} needs a test set (set data.test_n)"
    if e.figure in LAYERED or e.figure == "grad_ratio":
        if not columns:
            return f"{e.figure} needs the per-layer diagnostics, which this config turns off (diagnostics: false)"
    if e.figure == "grad_ratio" and len(layers) < 3:
        return "grad_ratio compares layer 1 with the last layer: the net needs a hidden layer"
    if e.figure in LAYERED:
        kind = "identical" if e.figure == "identical_rate" else "dead"
        if f"{kind}_L{e.layer}" not in columns:
            allowed = [int(c.split("_L")[1]) for c in columns if c.startswith(f"{kind}_L")]
            what = "hidden layers" + (" and a ReLU-like output" if kind == "dead" else "")
            which = ("none" if not allowed else f"that is layer {allowed[0]}" if len(allowed) == 1
                     else f"those are layers {', '.join(map(str, allowed))}")
            return (f"layer {e.layer} has no {kind}_L{e.layer} figure ({kind} is logged for {what}; in this net "
                    f"of layers {layers} {which})")
        if kind == "identical" and layers[e.layer] < 2:
            return f"layer {e.layer} has 1 unit: 'all its units identical' says nothing"
    return None


def check(cfg: Config, out: Path, seeds: int | None = None, source: str = "config", base_dir: Path | None = None,
          on_setting: Callable[[str, SweepPlan], None] | None = None,
          on_progress: Callable[[int], None] | None = None,
          plans: dict[str, SweepPlan] | None = None) -> Verdict:
    """Train every setting of cfg's claim under `out` and judge each expectation (`plans`: plan_claim's, when
    the caller has made them already)."""
    plans = plans if plans is not None else plan_claim(cfg, seeds, source, base_dir)
    claim = cfg.claim
    verdict = Verdict(cfg.name, claim.statement, claim.source, len(next(iter(plans.values())).seeds))
    needed = {name for e in claim.expect for name in e.named()}
    for name, plan in plans.items():
        if name not in needed:
            continue
        before = _folders(out)
        try:
            if on_setting is not None:
                on_setting(name, plan)
            report = run_sweep(plan, out, on_progress=on_progress)
        except KeyboardInterrupt:  # before the sweep could say so itself (creating or closing its folder)
            kept = _keep_trained(_folders(out) - before)
            raise CheckInterrupted(cfg.name, name, verdict.runs | ({name: kept} if kept else {})) from None
        if report.status != "completed":  # the sweep says "interrupted" and kept what it did; the check stops
            kept = _keep_trained({report.run_dir})
            raise CheckInterrupted(cfg.name, name, verdict.runs | ({name: kept} if kept else {}))
        verdict.runs[name] = str(report.run_dir)
    try:
        _measure_all(claim.expect, verdict, plans)
    except KeyboardInterrupt:  # the bootstraps take a moment: a Ctrl-C there leaves the claim not judged
        raise CheckInterrupted(cfg.name, None, dict(verdict.runs)) from None
    return verdict


def _measure_all(expect: list[Expectation], verdict: Verdict, plans: dict[str, SweepPlan]) -> None:
    for e in expect:
        if e.trend is not None:
            verdict.measured.append(measure_trend(e, [Path(verdict.runs[s]) for s in e.settings],
                                                  [plans[s] for s in e.settings]))
        elif e.versus is not None:
            verdict.measured.append(measure_difference(e, *[(Path(verdict.runs[s]), plans[s])
                                                            for s in (e.setting, e.versus)]))
        else:
            verdict.measured.append(measure(e, Path(verdict.runs[e.setting]), plans[e.setting]))


def _folders(out: Path) -> set[Path]:
    return {p for p in Path(out).iterdir() if p.is_dir()} if Path(out).is_dir() else set()


def _keep_trained(folders: set[Path]) -> str | None:
    """The interrupted setting's sweep folder, kept when it holds trained work (a finished member's row
    or a chunk's checkpoint: `relu-lab sweep --resume` goes on from it); removed when it holds none (an
    interrupt while it was being created), so no empty or half-made folder is left. Its path, or None."""
    import shutil

    kept = None
    for folder in folders:
        members = folder / "members.csv"
        rows = members.read_text(encoding="utf-8").count("\n") - 1 if members.is_file() else 0
        if rows > 0 or any((folder / "checkpoints").glob("*.npz")):
            kept = str(folder)
        else:
            shutil.rmtree(folder, ignore_errors=True)
    return kept


def _sample(e: Expectation, run_dir: Path, plan: SweepPlan) -> tuple[np.ndarray, int, str]:
    """Each member's value of e's figure in a finished sweep (1.0 / 0.0 for a share), the ones that
    have one, the number of members, and a note on those left out (NaN: diverged before the figure
    could be measured)."""
    rows = read_rows(run_dir / "members.csv")
    layers = plan.base.model.layers
    if e.figure == "success_rate":
        values = np.array([float(r["success"] == "1") for r in rows])
    elif e.figure == "diverged_rate":
        values = np.array([float(r["status"] == "diverged") for r in rows])
    elif e.figure in PROPORTIONS:  # a layer all dead, all identical: unknown for a member that diverged
        key = _layer_column("identical" if e.figure == "identical_rate" else "dead", e.layer, layers, rows[0])
        values = np.array([cell_float(r[key]) for r in rows])
        values = np.where(np.isnan(values), np.nan, (values == 1.0).astype(float))
    else:
        values = _per_member(e, run_dir, rows, layers)
    known = values[~np.isnan(values)]
    return known, len(rows), _left_out(len(rows), known.size)


def measure(e: Expectation, run_dir: Path, plan: SweepPlan) -> Measured:
    """The expectation's figure over the members of a finished sweep, and its verdict."""
    values, n, note = _sample(e, run_dir, plan)
    if values.size == 0:
        return Measured(str(e), None, None, None, n, None, INCONCLUSIVE, note="no member gave a finite value")
    if e.figure in PROPORTIONS:
        k, m = int(values.sum()), values.size
        lo, hi = wilson(k, m)
        return _judge(e, k / m, lo, hi, m, count=k, note=note)
    stat = _statistic(e)
    value = float(stat(values))
    boots = stat(_resample(values, np.random.default_rng(0)), axis=1)
    lo, hi = (float(v) for v in np.quantile(boots, [0.025, 0.975]))
    return _judge(e, value, lo, hi, values.size, note=note)


def _statistic(e: Expectation) -> Callable[..., Any]:
    return np.mean if e.figure == "dead_share" else np.median


def _resample(values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """BOOTSTRAP resamples of `values` with replacement, one per row."""
    return rng.choice(values, size=(BOOTSTRAP, values.size), replace=True)


def _left_out(n: int, kept: int) -> str:
    return "" if kept == n else f"{n - kept} of {n} members without a finite value left out"


def newcombe(k1: int, n1: int, k2: int, n2: int) -> tuple[float, float]:
    """95 % interval of p1 - p2 from the two Wilson intervals: Newcombe's hybrid score method
    (method 10 of Newcombe 1998, "Interval estimation for the difference between independent
    proportions"); it stays inside [-1, 1] and behaves at 0/n and n/n, unlike the Wald interval."""
    p1, p2 = k1 / n1, k2 / n2
    (l1, u1), (l2, u2) = wilson(k1, n1), wilson(k2, n2)
    d = p1 - p2
    return d - math.hypot(p1 - l1, u2 - p2), d + math.hypot(u1 - p1, p2 - l2)


def measure_difference(e: Expectation, a: tuple[Path, SweepPlan], b: tuple[Path, SweepPlan]) -> Measured:
    """The figure of setting a minus that of setting b (e.versus), with its 95 % interval, judged."""
    (va, _, note_a), (vb, _, note_b) = _sample(e, *a), _sample(e, *b)
    note = "; ".join(f"{name}: {t}" for name, t in ((e.setting, note_a), (e.versus, note_b)) if t)
    if va.size == 0 or vb.size == 0:
        empty = e.setting if va.size == 0 else e.versus
        return Measured(str(e), None, None, None, va.size, None, INCONCLUSIVE, versus_n=vb.size,
                        note=f"setting {empty} gave no finite value: no difference")
    if e.figure in PROPORTIONS:
        (ka, na), (kb, nb) = (int(va.sum()), va.size), (int(vb.sum()), vb.size)
        lo, hi = newcombe(ka, na, kb, nb)
        m = _judge(e, ka / na - kb / nb, lo, hi, na, count=ka, note=note,
                   interval=lambda s: newcombe(round(ka / na * s), s, round(kb / nb * s), s))
        m.versus_n, m.versus_count = nb, kb
        return m
    stat = _statistic(e)
    rng = np.random.default_rng(0)
    boots = stat(_resample(va, rng), axis=1) - stat(_resample(vb, rng), axis=1)
    lo, hi = (float(v) for v in np.quantile(boots, [0.025, 0.975]))
    m = _judge(e, float(stat(va) - stat(vb)), lo, hi, min(va.size, vb.size), note=note)
    m.n, m.versus_n = va.size, vb.size
    return m


def measure_trend(e: Expectation, run_dirs: list[Path], plans: list[SweepPlan]) -> Measured:
    """A trend along ordered settings: Spearman's rank correlation between the setting's position and
    each member's value (0/1 for a proportion), with a bootstrap interval that resamples the members
    of each setting apart. Increasing holds when the interval lies above 0, fails when it lies below."""
    xs, ys, notes = [], [], []
    for i, (name, run_dir, plan) in enumerate(zip(e.settings, run_dirs, plans)):
        values, _, note = _sample(e, run_dir, plan)
        if values.size == 0:  # ranking without this setting would judge a trend over fewer settings than claimed
            return Measured(str(e), None, None, None, sum(v.size for v in ys), None, INCONCLUSIVE,
                            note=f"setting {name} gave no finite value: no trend over all the settings")
        notes += [f"{name}: {note}"] if note else []
        xs.append(np.full(values.size, float(i)))
        ys.append(values)
    x, y = np.concatenate(xs), np.concatenate(ys)
    n = int(y.size)
    rho = _spearman(x, y)
    if not math.isfinite(rho):
        return Measured(str(e), None, None, None, n, None, INCONCLUSIVE, note="no variation to rank")
    rng = np.random.default_rng(0)
    boots = []
    for _ in range(BOOTSTRAP):
        picks = [rng.choice(v, size=v.size, replace=True) for v in ys]
        boots.append(_spearman(x, np.concatenate(picks)))
    lo, hi = (float(v) for v in np.nanquantile(np.array(boots), [0.025, 0.975]))
    # With many ties (shares, dead units at 0) the resampled rho leans away from the sample's: the
    # percentile interval can miss rho itself. Widened to hold it, the interval errs on the cautious side.
    lo, hi = min(lo, rho), max(hi, rho)
    sign = 1 if e.trend == "increasing" else -1
    low, high = sorted((sign * lo, sign * hi))
    verdict = HOLDS if low > 0 else FAILS if high < 0 else INCONCLUSIVE
    per_setting = min(v.size for v in ys)  # the seeds to decide are per setting
    seeds = _seeds_to_decide(sign * rho, low, high, per_setting, 0.0) if verdict == INCONCLUSIVE else None
    return Measured(str(e), rho, lo, hi, n, None, verdict, seeds, note="; ".join(notes))


def _spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman's rank correlation (average ranks for ties); NaN when either side does not vary."""
    rx, ry = _ranks(x), _ranks(y)
    if np.ptp(rx) == 0 or np.ptp(ry) == 0:
        return math.nan
    return float(np.corrcoef(rx, ry)[0, 1])


def _ranks(a: np.ndarray) -> np.ndarray:
    order = np.argsort(a, kind="stable")
    ranks = np.empty(a.size)
    ranks[order] = np.arange(a.size)
    _, inverse, counts = np.unique(a, return_inverse=True, return_counts=True)
    return (np.bincount(inverse, weights=ranks) / counts)[inverse]


def _layer_column(kind: str, layer: int, layers: list[int], row: dict[str, str]) -> str:
    key = f"{kind}_L{layer}"
    if key not in row:
        output = ", and dead for the output when it is ReLU-like" if kind == "dead" else ""
        raise UserError(f"layer {layer}: no {key} column (layers 1..{len(layers) - 1}: {kind} is logged for "
                        f"hidden layers{output})")
    return key


def _per_member(e: Expectation, run_dir: Path, rows: list[dict[str, str]], layers: list[int]) -> np.ndarray:
    """Each member's value of a median/mean figure (NaN where it has none)."""
    if e.at == "start":  # the first logged row of each member in metrics.csv
        first: dict[str, dict[str, str]] = {}
        for r in iter_rows(run_dir / "metrics.csv"):  # streamed, until every member's first row is read
            first.setdefault(r["member"], r)
            if len(first) == len(rows):
                break
        rows = [first[r["member"]] for r in rows]
    if e.figure == "dead_share":
        key = _layer_column("dead", e.layer, layers, rows[0])
        return np.array([cell_float(r[key]) for r in rows])
    if e.figure == "grad_ratio":
        last = f"grad_L{len(layers) - 1}"
        first_layer = np.array([cell_float(r["grad_L1"]) for r in rows])
        last_layer = np.array([cell_float(r[last]) for r in rows])
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = first_layer / last_layer  # no gradient at the last layer either: no ratio (NaN)
        return np.where(np.isfinite(ratio), ratio, np.nan)
    if e.figure not in rows[0]:
        raise UserError(f"{e}: the runs have no {e.figure} column (accuracy is for classification, r2 for regression)")
    return np.array([cell_float(r[e.figure]) for r in rows])


def _judge(e: Expectation, value: float, lo: float, hi: float, n: int, count: int | None = None,
           note: str = "", interval: Callable[[int], tuple[float, float]] | None = None) -> Measured:
    """The verdict of [lo, hi] against e's threshold. A proportion's interval at m seeds is its Wilson
    interval at the same rate, unless `interval` gives another (a difference's)."""
    t = e.threshold
    if e.at_least is not None:
        verdict = HOLDS if lo >= t else FAILS if hi < t else INCONCLUSIVE
    else:
        verdict = HOLDS if hi <= t else FAILS if lo > t else INCONCLUSIVE
    if count is not None and interval is None:
        def interval(m: int) -> tuple[float, float]:
            return wilson(round(value * m), m)
    seeds = _seeds_to_decide(value, lo, hi, n, t, interval) if verdict == INCONCLUSIVE else None
    return Measured(str(e), value, lo, hi, n, count, verdict, seeds, note)


def _seeds_to_decide(value: float, lo: float, hi: float, n: int, t: float,
                     interval: Callable[[int], tuple[float, float]] | None = None) -> int | None:
    """About how many seeds (per setting) would shrink the interval to exclude the threshold (None: the
    value sits on it). `interval(m)`: the interval at m seeds with the same rates; without it, the
    half-width is taken to shrink as 1/sqrt(n)."""
    gap = abs(value - t)
    if gap == 0:
        return None
    if interval is not None:  # the fewest seeds whose interval, at the same rates, leaves the threshold out
        def decides(m: int) -> bool:
            low, high = interval(m)
            return low > t or high < t

        top = n
        while not decides(top):
            top *= 2
            if top > 10**7:
                return None
        bottom = max(n, top // 2)
        while bottom < top:
            mid = (bottom + top) // 2
            bottom, top = (bottom, mid) if decides(mid) else (mid + 1, top)
        return top
    half = (hi - lo) / 2
    if half == 0:  # a degenerate interval: more seeds of the same kind tell nothing new
        return None
    return max(n + 1, math.ceil(n * (half / gap) ** 2))


def claim_configs(paths: list[str], overrides: list[str] = ()) -> list[tuple[str, Config]]:
    """(source, config) for every config with a claim: the files given, and the *.yaml / *.yml in the folders
    given, each once; `overrides` (key=value) apply to every one before its settings do."""
    from .loading import load_config

    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            files += sorted([*p.glob("*.yaml"), *p.glob("*.yml")])
        elif p.exists():
            files.append(p)
        else:
            raise UserError(f"{p}: no such config file or folder")
    found = []
    for f in dict.fromkeys(f.resolve() for f in files):
        cfg = load_config(f, list(overrides))
        if cfg.claim is not None:
            found.append((_shown_path(f), cfg))
        elif f in [Path(p).resolve() for p in paths]:
            raise UserError(f"{_shown_path(f)}: no 'claim:' block to check (see the README's Claims section)")
    if not found:
        raise UserError(f"no config with a 'claim:' block in {', '.join(paths)}")
    return found


def _shown_path(path: Path) -> str:
    """A path as the user would type it: relative to the current folder when it lies under it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def write_report(check_dir: Path, verdicts: list[Verdict], not_judged: list[str] = (),
                 interrupted: CheckInterrupted | None = None, error: str | None = None) -> Path:
    """claims.json and report.md in `check_dir`: every claim judged, its measured figures and verdicts.

    A check that stopped before its last claim (`interrupted` by Ctrl-C, or an `error` in a claim) has
    status "interrupted" or "failed", names the claims it did not judge, and all_hold false: the claims
    it judged hold, perhaps, but the check does not."""
    from .rundir import atomic_write, write_json

    status = "interrupted" if interrupted is not None else "failed" if error is not None else "completed"
    stopped = {"interrupted": interrupted.to_dict()} if interrupted is not None else {"error": error} if error else {}
    write_json(check_dir / "claims.json", {
        "status": status, "claims": [v.to_dict() for v in verdicts], "not_judged": list(not_judged), **stopped,
        "all_hold": status == "completed" and all(v.verdict == HOLDS for v in verdicts)})
    lines = ["# relu-lab check", ""]
    if status != "completed":
        why = (f"Ctrl-C, claim {interrupted.claim} {interrupted.during(interrupted.setting)}"
               if interrupted is not None else f"an error: {error}")
        lines += [f"**{status.capitalize()}**: {why}. {len(verdicts)} of {len(verdicts) + len(not_judged)} claims "
                  f"judged; not judged: {', '.join(not_judged)}. The check as a whole has no verdict.", ""]
        if interrupted is not None and interrupted.runs:
            lines += [f"Sweeps kept for {interrupted.claim}: " + ", ".join(
                f"setting {s} `{Path(d).name}`" + (" (interrupted; `relu-lab sweep --resume` finishes it)"
                                                   if s == interrupted.setting else "")
                for s, d in interrupted.runs.items()) + ".", ""]
    lines += ["| claim | verdict | expectation | measured (95 % interval) | verdict |", "|---|---|---|---|---|"]
    for v in verdicts:
        for i, m in enumerate(v.measured):
            head = f"**{v.name}**: {v.statement} ({v.source}; {v.seeds} seeds)" if i == 0 else ""
            overall = v.verdict if i == 0 else ""
            decide = f"; about {m.seeds_to_decide} seeds would decide it" if m.seeds_to_decide else ""
            note = f" ({m.note})" if m.note else ""
            lines.append(f"| {head} | {overall} | {m.expectation} | {m.text()}{note} | {m.verdict}{decide} |")
    for name in not_judged:
        lines.append(f"| **{name}** | not judged ({status}) | | | |")
    lines += ["", "Proportions: Wilson intervals. Medians and means: bootstrap percentile intervals "
              f"({BOOTSTRAP} resamples). Differences between two settings (`minus`): Newcombe's hybrid score "
              "interval for two proportions, a bootstrap of the difference otherwise. Trends: Spearman's rank "
              "correlation between a setting's position and each member's value, with a bootstrap interval "
              "that resamples each setting's members apart. A claim holds when every expectation's interval "
              "lies on the right side of its threshold, fails when one lies on the wrong side, and is "
              "inconclusive otherwise.", ""]
    path = check_dir / "report.md"
    atomic_write(path, "\n".join(lines))
    return path
