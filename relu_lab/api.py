"""relu-lab from Python: `relu_lab.train`, `sweep`, `compare` and `check`.

Each takes a config (a YAML path, a dict, or a Config) and overrides ({"train.lr": 0.5}),
trains exactly as the command line does, and returns plain result objects. Files are
written only with `out=`: without it the run goes to a temporary directory that is read
back and removed. A user's activation may be given as Python functions:
`custom_activations={"mine": (f, df)}` names it "mine" for `model.hidden`.

    run = relu_lab.train("configs/xor_relu.yaml", {"train.epochs": 500})
    run.summary["final"]["accuracy"], run.history[-1]["cost"]
    grid = relu_lab.sweep("configs/xor_relu.yaml", lr=[0.1, 1.0], seeds=8)
    grid.summary[0]["success_rate"]; grid.frame("members")   # a pandas DataFrame, when pandas is installed
"""

from __future__ import annotations

import math
import sys
import tempfile
import types
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .config import Config
from .errors import UserError
from .loading import config_from_dict, load_config
from .runfiles import read_json, read_rows

ConfigLike = str | Path | Mapping | Config
USER_MODULE = "relu_lab._user_activations"  # where activations given as Python functions are found


@dataclass
class Run:
    """A train run: its summary (as summary.json), its history (a dict per logged epoch)."""

    summary: dict[str, Any]
    history: list[dict[str, float]]
    config: dict[str, Any]
    run_dir: Path | None = None  # None: nothing was kept on disk

    def to_dict(self) -> dict[str, Any]:
        return {"summary": self.summary, "history": self.history, "config": self.config,
                "run_dir": str(self.run_dir) if self.run_dir else None}

    def frame(self):
        """The history as a pandas DataFrame (pandas is not a dependency of relu-lab)."""
        return _frame(self.history)


@dataclass
class Grid:
    """A sweep or compare: a row per member (as members.csv), a row per grid point (as summary.csv)."""

    kind: str
    members: list[dict[str, Any]]
    summary: list[dict[str, Any]]
    info: dict[str, Any]  # as summary.json: status, best point, timings
    run_dir: Path | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "members": self.members, "summary": self.summary, "info": self.info,
                "run_dir": str(self.run_dir) if self.run_dir else None}

    def frame(self, which: str = "summary"):
        """'summary' or 'members' as a pandas DataFrame."""
        if which not in ("summary", "members"):
            raise ValueError(f"frame: 'summary' or 'members', not {which!r}")
        return _frame(self.summary if which == "summary" else self.members)


@dataclass
class Checked:
    """The verdicts of `check`: one per claim judged, each with its measured figures. An interrupted check
    (Ctrl-C) has status "interrupted", no verdict for the claims in not_judged, and all_hold False."""

    claims: list[dict[str, Any]] = field(default_factory=list)
    run_dir: Path | None = None
    status: str = "completed"  # or "interrupted"
    not_judged: list[str] = field(default_factory=list)  # the names of the claims without a verdict

    @property
    def all_hold(self) -> bool:
        return self.status == "completed" and all(c["verdict"] == "holds" for c in self.claims)

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "claims": self.claims, "not_judged": self.not_judged,
                "all_hold": self.all_hold, "run_dir": str(self.run_dir) if self.run_dir else None}

    def rows(self) -> list[dict[str, Any]]:
        """A row per measured figure: the claim (name, its verdict) beside the figure, its interval and verdict."""
        return [{"claim": c["name"], "claim_verdict": c["verdict"], "seeds": c["seeds"]} | m
                for c in self.claims for m in c["measured"]]

    def frame(self):
        """rows() as a pandas DataFrame."""
        return _frame(self.rows())


def train(config: ConfigLike, overrides: Mapping[str, Any] | None = None, *, out: str | Path | None = None,
          custom_activations: Mapping[str, tuple[Callable, Callable]] | None = None) -> Run:
    """Train one run of `config` with `overrides`; see the module's docstring."""
    from .run import train_run

    cfg, source, base = _config(config, overrides, custom_activations)
    with _place(out) as where:
        report = train_run(cfg, where, source=source, base_dir=base)
        history = [{k: _number(v) for k, v in row.items()} for row in read_rows(report.run_dir / "metrics.csv")]
        return Run(read_json(report.run_dir / "summary.json"), history, report.config.model_dump(mode="json"),
                   report.run_dir if out is not None else None)


def sweep(config: ConfigLike, overrides: Mapping[str, Any] | None = None, *, lr: Any = None, seeds: Any = None,
          params: Mapping[str, list] | None = None, out: str | Path | None = None,
          custom_activations: Mapping[str, tuple[Callable, Callable]] | None = None) -> Grid:
    """A sweep over `lr` (a list, or 'lo:hi:n'), `seeds` (a count, a list or 'a:b') and `params` ({key: [values]})."""
    return _grid("sweep", config, overrides, lr, seeds, params, None, out, custom_activations)


def compare(config: ConfigLike, overrides: Mapping[str, Any] | None = None, *, activations: list[str] | None = None,
            lr: Any = None, seeds: Any = None, out: str | Path | None = None,
            custom_activations: Mapping[str, tuple[Callable, Callable]] | None = None) -> Grid:
    """The same config over hidden `activations` (all registered by default), optionally over `lr`."""
    return _grid("compare", config, overrides, lr, seeds, None, activations, out, custom_activations)


def check(config: ConfigLike, overrides: Mapping[str, Any] | None = None, *, seeds: int | None = None,
          out: str | Path | None = None) -> Checked:
    """Measure and judge the config's `claim:` block (see relu-lab check)."""
    from . import claims
    from .rundir import new_run_dir

    cfg, source, base = _config(config, overrides, None)
    with _place(out) as where:
        check_dir = new_run_dir(where, "check")
        try:
            verdict = claims.check(cfg, check_dir, seeds, source, base)
        except KeyboardInterrupt as stop:  # as train and sweep do: what was done is kept and said, not judged
            if not isinstance(stop, claims.CheckInterrupted):
                stop = claims.CheckInterrupted(cfg.name, "", {})
            claims.write_report(check_dir, [], [cfg.name], interrupted=stop)
            return Checked([], check_dir if out is not None else None, "interrupted", [cfg.name])
        claims.write_report(check_dir, [verdict])
        claim = verdict.to_dict()
        if out is None:  # the settings' sweeps were in the temporary directory, now gone
            claim["runs"] = {}
        return Checked([claim], check_dir if out is not None else None)


def _grid(kind, config, overrides, lr, seeds, params, activations, out, custom) -> Grid:
    from .grid import grid_from, plan_sweep, run_sweep

    cfg, source, base = _config(config, overrides, custom)
    lr_text = ",".join(map(str, lr)) if isinstance(lr, (list, tuple)) else (None if lr is None else str(lr))
    seed_text = ",".join(map(str, seeds)) if isinstance(seeds, (list, tuple)) else seeds
    param_items = [f"{k}={','.join(map(_yaml, v))}" for k, v in (params or {}).items()]
    axes, seed_list = grid_from(cfg, lr_text, seed_text, param_items, activations, compare=kind == "compare")
    plan = plan_sweep(cfg, axes, seed_list, source, base)
    with _place(out) as where:
        report = run_sweep(plan, where, kind=kind)
        members = [{k: _number(v) for k, v in r.items()} for r in read_rows(report.run_dir / "members.csv")]
        summary = [{k: _number(v) for k, v in r.items()} for r in read_rows(report.run_dir / "summary.csv")]
        return Grid(kind, members, summary, read_json(report.run_dir / "summary.json"),
                    report.run_dir if out is not None else None)


def _config(config: ConfigLike, overrides: Mapping[str, Any] | None, custom) -> tuple[Config, str, Path | None]:
    """(Config, source label, folder a user's module is found in) from a path, a mapping or a Config."""
    items = [f"{k}={_yaml(v)}" for k, v in (overrides or {}).items()]
    if custom:
        items += _register(custom)
    if isinstance(config, Config):
        raw = config.model_dump(mode="json", exclude_none=True)
        return config_from_dict(raw, "config", items), "config", None
    if isinstance(config, Mapping):
        return config_from_dict(dict(config), "config", items), "config", None
    path = Path(config)
    return load_config(path, items), str(path), path.parent


def _register(custom: Mapping[str, tuple[Callable, Callable]]) -> list[str]:
    """Put a user's (f, df) pairs where a config can name them; the overrides that name them."""
    module = sys.modules.setdefault(USER_MODULE, types.ModuleType(USER_MODULE))
    items = []
    for name, pair in custom.items():
        if not (isinstance(pair, tuple) and len(pair) == 2 and all(callable(g) for g in pair)):
            raise UserError(f"custom_activations['{name}']: expected a pair of functions (f, df)")
        setattr(module, f"{name}_f", pair[0])
        setattr(module, f"{name}_df", pair[1])
        items.append(f"model.custom_activations.{name}={{f: '{USER_MODULE}:{name}_f', df: '{USER_MODULE}:{name}_df'}}")
    return items


@contextmanager
def _place(out: str | Path | None) -> Iterator[Path]:
    """Where a run is written: `out`, or a temporary directory that is removed afterwards."""
    if out is not None:
        yield Path(out)
        return
    with tempfile.TemporaryDirectory(prefix="relu-lab-") as tmp:
        yield Path(tmp)


def _yaml(value: Any) -> str:
    import json

    return value if isinstance(value, str) else json.dumps(value)


def _number(text: Any) -> Any:
    """A CSV cell as an int or float when it is one; None for a figure that was not computed ('') or
    that is not a number (nan, inf: a run that diverged), so that to_dict() stays strict JSON."""
    if text in ("", None):
        return None
    for kind in (int, float):
        try:
            value = kind(text)
        except (TypeError, ValueError):
            continue
        return value if math.isfinite(value) else None
    return text


def _frame(rows: list[dict[str, Any]]):
    try:
        import pandas as pd
    except ImportError:
        raise ImportError("frame() needs pandas, which relu-lab does not install: pip install pandas") from None
    return pd.DataFrame(rows)
