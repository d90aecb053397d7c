"""What a resolved experiment holds: its config and data, and the parts training runs with, bound once.

`experiment.resolve` makes an `Experiment`. The trainer, the sweep planner and the writers take it, so
nothing after resolution looks an activation, a loss or an update rule up by name again, and the
trainer never reads the config: what may differ between the members of one ensemble is a `Trainee`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .activations import custom_activation
from .datasets import Dataset
from .diagnostics import can_die, diagnostic_names
from .losses import LOSSES, Loss
from .network import Act, Ensemble
from .optimizers import OPTIMIZERS, Optimizer

if TYPE_CHECKING:
    from .config import Config, SuccessConfig


def bind(cfg: Config, name: str) -> Act:
    """The activation `name` with the config's parameters for it (a user's own: imported from its module)."""
    custom = cfg.model.custom_activations.get(name)
    if custom is not None:
        return Act(custom_activation(custom.f, custom.df, custom.folder), {})
    return Act(cfg.model.builtin(name), cfg.model.params_of(name))


def diagnostic_columns(cfg: Config) -> list[str]:
    """The diagnostics a run of `cfg` logs (none when `diagnostics: false`)."""
    if not cfg.diagnostics:
        return []
    learned = {l + 1 for p in cfg.phases() for l, h in enumerate(cfg.model.hidden_list(p.hidden))
               if cfg.model.builtin(h) and cfg.model.builtin(h).learned}
    out = cfg.model.builtin(cfg.model.output)
    return diagnostic_names(cfg.model.layers, learned, out is not None and can_die(out))


@dataclass(frozen=True)
class Stage:
    """One phase of training as the trainer runs it."""

    epochs: int
    batch: int  # samples per step (the whole set when the phase sets no batch_size)
    order: str  # how samples are drawn each epoch (trainer._orders)
    hidden: tuple[Act, ...]  # one per hidden layer
    rule: Optimizer
    rule_args: dict  # its arguments, defaults filled in


@dataclass(frozen=True)
class Trainee:
    """One member's own settings: all that may differ between the members of one ensemble."""

    seed: int
    lr: tuple[float | None, ...]  # per phase; None continues the previous phase's decayed rate
    lr_decay: tuple[float, ...]  # per phase: the rate's factor per epoch


def trainee(cfg: Config, seed: int | None = None) -> Trainee:
    """The member a resolved config describes, with `seed` instead of its own when given."""
    phases = cfg.phases()
    return Trainee(cfg.seed if seed is None else seed, tuple(p.lr for p in phases), tuple(p.lr_decay for p in phases))


@dataclass(frozen=True, eq=False)
class Experiment:
    """A config resolved against its data (`experiment.resolve`): the config a run saves (every default
    filled in, the engine chosen), its dataset, what to say about it, and the activations, loss and
    update rules it trains with, bound from the config when it is made. It unpacks as (config, data)."""

    config: Config
    data: Dataset
    warnings: tuple[str, ...] = ()  # said as a run starts, and kept in its summary
    engine_note: str | None = None  # why `auto` took NumPy for a config the compiled engine cannot run: said
    engine_choice: str | None = None  # why `auto` took NumPy for a short run: recorded in summary.json only
    hidden: tuple[Act, ...] = field(init=False)  # the model's hidden activations (before any phase's own)
    output: Act = field(init=False)
    loss: Loss = field(init=False)
    stages: tuple[Stage, ...] = field(init=False)
    diagnostics: tuple[str, ...] = field(init=False)  # the diagnostic columns each log point computes

    def __post_init__(self) -> None:
        cfg, n = self.config, len(self.data.X)
        m = cfg.model
        stages = tuple(Stage(p.epochs, min(p.batch_size or n, n), p.order,
                             tuple(bind(cfg, h) for h in m.hidden_list(p.hidden)),
                             OPTIMIZERS[p.optimizer.name], p.optimizer.arguments()) for p in cfg.phases())
        parts = {"hidden": tuple(bind(cfg, h) for h in m.hidden_list()), "output": bind(cfg, m.output),
                 "loss": LOSSES[cfg.loss.name], "stages": stages, "diagnostics": tuple(diagnostic_columns(cfg))}
        for name, value in parts.items():
            object.__setattr__(self, name, value)

    def __reduce__(self):
        # pickled (a Dask worker) as what it was made from; the worker binds again, importing a user's module there
        return Experiment, (self.config, self.data, self.warnings, self.engine_note, self.engine_choice)

    def __iter__(self) -> Iterator:
        return iter((self.config, self.data))

    def network(self, init_rngs: list) -> Ensemble:
        """The experiment's network, a member per generator of initial weights, with the model's activations."""
        m = self.config.model
        return Ensemble.create(m.layers, init_rngs, list(self.hidden), self.output, m.init, m.init_scale, m.bias_init)

    def trainee(self, seed: int | None = None) -> Trainee:
        """The config's member, with `seed` instead of the config's own when given."""
        return trainee(self.config, seed)

    @property
    def engine_reason(self) -> str | None:
        """Why the run is on the NumPy engine when it did not ask for it (summary.json's engine_note)."""
        return self.engine_note or self.engine_choice

    @property
    def engine(self) -> str:
        return self.config.engine

    @property
    def reduction(self) -> str:
        return self.config.loss.reduction

    @property
    def log_every(self) -> int:
        return self.config.log_every or 1

    @property
    def total_epochs(self) -> int:
        return sum(s.epochs for s in self.stages)

    @property
    def success(self) -> SuccessConfig | None:
        return self.config.success

    @property
    def penalties(self) -> tuple[float | None, float, float]:
        """train.clip (None: no clipping), weight_decay (L2) and l1."""
        t = self.config.train
        return t.clip, t.weight_decay, t.l1
