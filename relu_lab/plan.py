"""A sweep's plan: the grid of configs x seeds, each grid point resolved, and its members grouped.

A grid point is the base config with some keys set (learning rate, hidden activation, any other key),
resolved on its own (`experiment.resolve`). Each point runs over the same seeds. Members whose arrays can
be stacked (everything equal but seed and learning rates) form a group that trains as one ensemble
(`grid.run_sweep`). The plan saves its base config resolved wherever the points agree (`agreed_base`),
so that planning again from the saved files (`--resume`) gives the same members.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .activations import ACTIVATIONS, COMPARED
from .config import MAX_MEMBERS, PHASE_FIELDS, Config, first_duplicate, grid_value_text, parse_lr_spec, parse_seeds
from .datasets import Dataset
from .errors import UserError
from .experiment import resolve
from .loading import apply_override, config_from_dict
from .resolved import Experiment, Trainee

SWEEP_LOG_ROWS = 25  # default logged epochs per member in a sweep, at most
SWEEP_LOG_SPACING = 20  # log points' own costs between two, by default (experiment.default_log_every): 5 %


@dataclass
class Axis:
    key: str  # dotted config path, e.g. train.lr or model.hidden
    values: list[Any]


@dataclass
class Member:
    index: int
    point: int  # index of its grid point
    seed: int
    config: Config  # its grid point's resolved config, with its seed
    trainee: Trainee  # what the trainer takes of it (seed and learning rates)


@dataclass
class Group:
    """Members trained together: their configs differ only in seed and learning rate."""

    members: list[Member]
    experiment: Experiment  # its first member's grid point, resolved: what every member trains with

    @property
    def data(self) -> Dataset:
        return self.experiment.data

    @property
    def engine_choice(self) -> str | None:
        """Why `auto` took the NumPy engine for them (a short run): recorded, not said."""
        return self.experiment.engine_choice


@dataclass
class SweepPlan:
    base: Config
    axes: list[Axis]
    seeds: list[int]
    points: list[dict[str, Any]]  # grid values per point
    members: list[Member]
    groups: list[Group]
    notes: list[str] = field(default_factory=list)  # one line each, e.g. why a group runs on the NumPy engine

    @property
    def engine(self) -> str:
        """The engine(s) the groups train on, e.g. 'compiled' or 'compiled, numpy'."""
        return ", ".join(sorted({g.members[0].config.engine for g in self.groups}))

    @property
    def engine_choice(self) -> str | None:
        """Why `auto` took the NumPy engine for a short sweep (recorded in summary.json, not said)."""
        return next((g.engine_choice for g in self.groups if g.engine_choice), None)

    @property
    def member_epochs(self) -> int:
        return sum(m.config.total_epochs() for m in self.members)


DEFAULT_LR = "1e-3:10:9"  # from too small to learn to large enough to diverge or kill units
DEFAULT_SEEDS = 32


def parse_param(item: str) -> Axis:
    """'model.init_scale=0.5,1,2' or 'model.layers=[2,5,1],[2,10,1]' -> an Axis (values read as YAML)."""
    key, sep, rhs = item.partition("=")
    key = key.strip()
    if not sep or not key or not all(part.isidentifier() or part.isdigit() for part in key.split(".")):
        raise UserError(f"--param '{item}': expected key.path=v1,v2,... e.g. model.init_scale=0.5,1,2")
    try:
        values = yaml.safe_load(f"[{rhs}]")
    except yaml.YAMLError:
        raise UserError(f"--param '{item}': cannot read the values as a comma-separated list") from None
    if not values:
        raise UserError(f"--param '{item}': the list of values is empty")
    if (i := first_duplicate(values)) is not None:
        raise UserError(f"--param '{item}': the value {grid_value_text(values[i])} is listed twice; give each once")
    return Axis(key, values)


def grid_from(cfg: Config, lr: str | None = None, seeds: str | int | None = None, params: list[str] = (),
              activations: list[str] | None = None, compare: bool = False) -> tuple[list[Axis], list[int]]:
    """The grid axes and seeds: command-line options first, then the config's `sweep:` block, then defaults.

    `sweep` varies the learning rate (a wide log range by default, unless other keys of the grid vary a
    learning rate: train.lr or a phase's); `compare` varies the hidden activation (all registered ones by
    default) and the learning rate only when asked.
    """
    block = cfg.sweep
    axes: list[Axis] = []
    if compare:
        names = activations or (block.activations if block else None) or COMPARED
        axes.append(Axis("model.hidden", list(names)))
    lr_spec = lr if lr is not None else (block.lr if block and block.lr is not None else None)
    given = [*(block.params if block else {}), *(item.partition("=")[0].strip() for item in params)]
    if lr_spec is None and not compare and not any(LEARNING_RATE.fullmatch(k) for k in given):
        lr_spec = DEFAULT_LR
    if lr_spec is not None:
        try:
            axes.append(Axis("train.lr", parse_lr_spec(lr_spec)))
        except ValueError as err:
            raise UserError(f"--lr: {err}") from None
    for key, values in (block.params.items() if block else []):
        axes.append(Axis(key, list(values)))
    for item in params:
        axis = parse_param(item)
        axes = [a for a in axes if a.key != axis.key] + [axis]
    if seeds is not None:
        try:
            seed_list = parse_seeds(seeds)
        except ValueError as err:
            raise UserError(f"--seeds: {err}") from None
    elif block is not None:
        seed_list = parse_seeds(block.seeds)
    else:
        seed_list = list(range(DEFAULT_SEEDS))
    return axes, seed_list


def plan_sweep(base: Config, axes: list[Axis], seeds: list[int], source: str = "config",
               base_dir: Path | None = None) -> SweepPlan:
    """Resolve every grid point and group the members; raises UserError for a bad grid."""
    for axis in axes:
        if not axis.values:
            raise UserError(f"sweep: the grid for '{axis.key}' is empty")
    if not seeds:
        raise UserError("--seeds: need at least 1 seed")
    keys = [a.key for a in axes]
    if len(set(keys)) != len(keys):
        raise UserError(f"sweep: a key is given twice in the grid ({', '.join(keys)})")
    if "seed" in keys:
        raise UserError(f"{source}: seed: the seeds of a sweep are its own axis; use --seeds N or sweep.seeds")
    if "model.hidden" in keys and any(p.hidden is not None for p in base.train.phases):
        raise UserError(f"{source}: model.hidden: the grid varies the hidden activation, but train.phases set "
                        "their own (which would win); remove 'hidden' from the phases to compare activations")
    members = math.prod(len(a.values) for a in axes) * len(seeds)
    if members > MAX_MEMBERS:
        sizes = "".join(f"{len(a.values)} {a.key} x " for a in axes)
        raise UserError(f"sweep: {sizes}{len(seeds)} seeds = {members:,} members; a sweep has at most "
                        f"{MAX_MEMBERS:,} (planning them would take about {2 * members / 1e6:.1f} GB): split the grid "
                        "or the seeds over several sweeps")
    grid_notes: list[str] = []
    given = axes
    axes = [_through_phases(axis, base, source, grid_notes) for axis in axes]
    for i, axis in enumerate(axes):  # train.lr reaches train.phases.0.lr when the first phase sets its own
        twin = next((given[j].key for j in range(i) if axes[j].key == axis.key), None)
        if twin is not None:
            raise UserError(f"sweep: {twin} and {given[i].key} both vary {axis.key} (the first phase sets its own "
                            f"lr, so the grid's learning rate --lr goes there); give the values once, as --lr or as "
                            f"--param {axis.key}")
    for axis in axes:  # `compare -a silu,swish`: one function under two names, trained twice
        if axis.key == "model.hidden":
            named = [v for v in axis.values if isinstance(v, str) and v not in base.model.custom_activations]
            for v in named:
                alias = ACTIVATIONS.get(v)
                if alias is not None and alias.alias_of in named:
                    grid_notes.append(f"{v} is another name for {alias.alias_of}: the two train the same function")
    keys = [a.key for a in axes]
    if len(set(keys)) != len(keys):
        raise UserError(f"sweep: a key is given twice in the grid ({', '.join(keys)})")
    raw_base = base.model_dump(mode="json", exclude={"sweep"})
    # members of one ensemble: the seeds of every point that differs only in learning rates (_group_key)
    ensemble = len(seeds) * math.prod(len(a.values) for a in axes if LEARNING_RATE.fullmatch(a.key))
    points, resolved = [], []
    data_cache: dict[str, Dataset] = {}
    for values in itertools.product(*(a.values for a in axes)):
        point = dict(zip(keys, values))
        raw = json.loads(json.dumps(raw_base))
        label = ", ".join(f"{k}={v}" for k, v in point.items())
        for key, value in point.items():
            path = [int(p) if p.isdigit() else p for p in key.split(".")]
            apply_override(raw, path, value, f"sweep {key}")
        cfg = config_from_dict(raw, f"{source} (sweep point {label})")
        # a sweep logs every member: fewer rows than a single run
        exp = resolve(cfg, source, base_dir, ensemble, SWEEP_LOG_ROWS, SWEEP_LOG_SPACING)
        data_key = json.dumps(exp.config.data.model_dump(mode="json"), sort_keys=True)
        if data_cache.setdefault(data_key, exp.data) is not exp.data:  # points on the same data share its arrays
            exp = dataclasses.replace(exp, data=data_cache[data_key])
        points.append(point)
        resolved.append(exp)
    said = [exp.engine_note for exp in resolved if exp.engine_note]
    said += [warning for exp in resolved for warning in exp.warnings]
    notes = grid_notes + list(dict.fromkeys(said))
    members, groups_by_key = [], {}
    for p, exp in enumerate(resolved):
        cfg = exp.config
        group = groups_by_key.setdefault(_group_key(cfg), Group([], exp))
        for seed in seeds:
            m = Member(len(members), p, seed, cfg.model_copy(update={"seed": seed}), exp.trainee(seed))
            members.append(m)
            group.members.append(m)
    base = agreed_base(base, [exp.config for exp in resolved], [a.key for a in axes], source)
    return SweepPlan(base, axes, list(seeds), points, members, list(groups_by_key.values()), notes)


_DIFFER = object()  # a value the grid points do not agree on


def agreed_base(base: Config, points: list[Config], keys: list[str], source: str = "config") -> Config:
    """The base config with every value its resolved grid points agree on (the defaults resolution filled
    in: data.n, the loss, the output, log_every, the engine, where a user's module was found), and the
    grid's own keys as the base gives them: the sweep's config.yaml. Planning again from it gives the same
    points, since each point's resolved config already holds the values it takes from it."""
    def merge(mine: Any, theirs: list[Any], path: str) -> Any:
        if path == "sweep" or any(path == k or path.startswith(k + ".") for k in keys):
            return mine
        if isinstance(mine, dict) and all(isinstance(t, dict) for t in theirs):
            names = dict.fromkeys([*mine, *(k for t in theirs for k in t)])
            merged = {k: merge(mine.get(k, _DIFFER), [t.get(k, _DIFFER) for t in theirs],
                               f"{path}.{k}" if path else k) for k in names}
            return {k: v for k, v in merged.items() if v is not _DIFFER}
        if (isinstance(mine, list) and mine and all(isinstance(x, dict) for x in mine)
                and all(isinstance(t, list) and len(t) == len(mine) for t in theirs)):  # train.phases
            return [merge(x, [t[i] for t in theirs], f"{path}.{i}") for i, x in enumerate(mine)]
        first = theirs[0]
        return first if first is not _DIFFER and all(t == first for t in theirs) else mine

    raw = merge(base.model_dump(mode="json"), [c.model_dump(mode="json") for c in points], "")
    return config_from_dict(raw, f"{source} (the grid's base, resolved)")


def _through_phases(axis: Axis, base: Config, source: str, notes: list[str]) -> Axis:
    """The axis as it reaches the phases: a key that phases set for themselves would be silently ignored.

    The learning rate is the run's starting one: when the first phase sets its own, the grid varies
    `train.phases.0.lr` instead (said in a note). Any other train.X that every phase sets is refused;
    one that some phases set is noted with the phases it does not reach.
    """
    field = axis.key.removeprefix("train.")
    phases = base.train.phases
    if not axis.key.startswith("train.") or field not in PHASE_FIELDS:
        return axis
    own = base.phases_setting(field) if field != "lr" else [i for i, p in enumerate(phases) if p.lr is not None]
    if field == "lr":
        restarts = ", ".join(f"train.phases.{i}.lr = {phases[i].lr:g}" for i in own if i > 0)
        if restarts:
            notes.append(f"the grid's learning rate reaches the phases before the one that sets its own ({restarts})")
        if 0 in own:
            notes.append(f"the grid's learning rate varies train.phases.0.lr (the first phase sets its own, "
                         f"{phases[0].lr:g}, which train.lr would not reach)")
            return Axis("train.phases.0.lr", axis.values)
        return axis
    if base.unreached(field):
        raise UserError(f"{source}: train.phases.{own[0]}.{field}: every phase sets its own {field}, so varying "
                        f"{axis.key} would change nothing; vary train.phases.N.{field} with --param instead")
    if own:
        notes.append(f"{axis.key} does not reach " + ", ".join(f"train.phases.{i}, which sets its own {field}"
                                                                for i in own))
    return axis


# The keys _group_key leaves out besides the seed: points of a grid that differ only in them train together.
LEARNING_RATE = re.compile(r"train\.(phases\.\d+\.)?lr")


def _group_key(cfg: Config) -> str:
    """Everything that must be equal for members to share arrays: all but seed and learning rates."""
    d = cfg.model_dump(mode="json", exclude={"seed", "name", "sweep"})
    d["train"].pop("lr")
    for phase in d["train"]["phases"]:
        phase.pop("lr")
    return json.dumps(d, sort_keys=True)
