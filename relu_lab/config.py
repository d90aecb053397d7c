"""The experiment config: a pydantic schema, validated once at load (see loading.py).

Every field has a default or is required, unknown keys are rejected, and every
name (dataset, activation, loss, initialiser) is checked against its registry.
Checks made above the field they concern raise `PathError`, so that the
one-line error still names the key path.
"""

from __future__ import annotations

import json
import re
import types
import typing
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    create_model,
    field_validator,
    model_serializer,
    model_validator,
)

from .activations import ACTIVATIONS, HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS, Activation
from .datasets import DATASETS
from .errors import did_you_mean
from .initializers import INITIALIZERS
from .losses import LOSSES
from .optimizers import ARGUMENTS, OPTIMIZERS, Argument, users

Order = Literal["sequential", "shuffle", "random"]
METRICS = ("cost", "accuracy", "r2", "test_cost", "test_accuracy", "test_r2")


class PathError(ValueError):
    """A check made above the field it concerns; `path` names that field (e.g. ('hidden',))."""

    def __init__(self, path: tuple, message: str):
        super().__init__(message)
        self.path = path


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, validate_assignment=True)

    @model_validator(mode="before")
    @classmethod
    def _no_booleans_for_numbers(cls, data: Any) -> Any:
        """`true` where a number is expected is refused (pydantic would read it as 1): a YAML boolean
        is no layer size, epoch count or seed. The error names the key, and the item of a list."""
        if isinstance(data, dict):
            for name, numeric in _numeric_fields(cls).items():
                found = _boolean_at(numeric, data.get(name))
                if found is not None:
                    where, what = found
                    raise PathError((name, *where), f"expected {what}, not a boolean")
        return data


_NUMERIC_FIELDS: dict[type, dict[str, dict[str, Any]]] = {}


def _numeric_shape(ann: Any) -> dict[str, Any]:
    """What of an annotation takes numbers: {'int': True} / {'float': True} for the scalar itself,
    {'items': shape} for list members, {'values': shape} for dict values ({} when none do)."""
    members = typing.get_args(ann) if typing.get_origin(ann) in (typing.Union, types.UnionType) else (ann,)
    if bool in members:
        return {}
    shape: dict[str, Any] = {}
    for m in members:
        origin = typing.get_origin(m)
        if m is int:
            shape["int"] = True
        elif m is float:
            shape["float"] = True
        elif origin is list and (inner := _numeric_shape(typing.get_args(m)[0])):
            shape["items"] = inner
        elif origin is dict and (inner := _numeric_shape(typing.get_args(m)[1])):
            shape["values"] = inner
    return shape


def _numeric_fields(cls: type[BaseModel]) -> dict[str, dict[str, Any]]:
    if cls not in _NUMERIC_FIELDS:
        shapes = {name: _numeric_shape(f.annotation) for name, f in cls.model_fields.items()}
        _NUMERIC_FIELDS[cls] = {name: shape for name, shape in shapes.items() if shape}
    return _NUMERIC_FIELDS[cls]


def _boolean_at(shape: dict[str, Any], value: Any) -> tuple[tuple, str] | None:
    """Where within `value` a boolean stands for a number of `shape`, and what that number is ('a whole
    number', 'a number'); None when there is none."""
    if isinstance(value, bool):
        if shape.get("int") or shape.get("float"):
            return (), "a number" if shape.get("float") else "a whole number"
        return None
    if isinstance(value, list) and "items" in shape:
        for i, item in enumerate(value):
            if (found := _boolean_at(shape["items"], item)) is not None:
                return (i, *found[0]), found[1]
    if isinstance(value, dict) and "values" in shape:
        for key, item in value.items():
            if (found := _boolean_at(shape["values"], item)) is not None:
                return (key, *found[0]), found[1]
    return None


class DataConfig(Strict):
    name: str = Field("xor", description="dataset: " + ", ".join(DATASETS))
    n: int | None = Field(None, ge=1, le=10_000_000, description="training points (default: the dataset's)")
    noise: float | None = Field(None, ge=0, description="noise level (default: the dataset's)")
    test_n: int = Field(0, ge=0, le=10_000_000, description="fresh test points drawn like the training set")
    seed: int = Field(0, ge=0, description="seed of the data generator, shared by all members of a sweep")
    normalize: bool = Field(False, description="standardise inputs to zero mean, unit variance")
    path: str | None = Field(None, description="csv: the file")
    target: str | int | None = Field(None, description="csv: target column name or index (default: last)")
    task: Literal["auto", "classification", "regression"] = "auto"

    @field_validator("name")
    @classmethod
    def _known(cls, v: str) -> str:
        if v not in DATASETS:
            raise ValueError(did_you_mean("dataset", v, DATASETS))
        return v

    @model_validator(mode="after")
    def _csv_fields(self) -> DataConfig:
        if self.name == "csv" and not self.path:
            raise ValueError("the csv dataset needs 'path: your_file.csv'")
        if self.name != "csv" and (self.path or self.target is not None):
            raise ValueError(f"'path' and 'target' belong to the csv dataset, not '{self.name}'")
        return self


class CustomActivation(Strict):
    f: str = Field(pattern=r"^[\w.]+:\w+$", description="module:function computing f(z)")
    df: str = Field(pattern=r"^[\w.]+:\w+$", description="module:function computing f'(z)")
    folder: str | None = Field(None, description="the folder the module was found in (written into a run's "
                               "config.yaml, so that a rerun from anywhere finds it; default: the config's folder)")


MIN_SIZE, MAX_SIZE = 1, 100_000  # a layer's units (model.layers), in validation and in the JSON Schema


class ModelConfig(Strict):
    layers: list[int] = Field([2, 8, 1], min_length=2, description="sizes from input to output, e.g. [2, 5, 1] "
                              f"(each {MIN_SIZE} to {MAX_SIZE})")
    hidden: str | list[str] = Field("relu", description="hidden activation, or one per hidden layer: "
                                    + ", ".join(HIDDEN_ACTIVATIONS) + ", or your own name declared under "
                                    "model.custom_activations")
    output: str | None = Field(None, description="output activation (default: fits the loss): "
                               + ", ".join(OUTPUT_ACTIVATIONS) + ", or your own name declared under "
                               "model.custom_activations")
    activation_params: dict[str, dict[str, float]] = Field(
        {}, description="per activation, e.g. {leaky_relu: {slope: 0.1}}"
    )
    custom_activations: dict[str, CustomActivation] = Field(
        {}, description="your own activations: {name: {f: module:function, df: module:function}}"
    )
    init: str = Field("he", description="weight initialiser: " + ", ".join(INITIALIZERS))
    init_scale: float = Field(1.0, gt=0, description="uniform: half-width; normal: std; glorot/he: factor")
    bias_init: Literal["zeros", "like_weights"] = "zeros"

    @field_validator("layers")
    @classmethod
    def _positive(cls, v: list[int]) -> list[int]:
        for i, size in enumerate(v):
            if size < MIN_SIZE or size > MAX_SIZE:
                raise ValueError(f"layer {i} has size {size}; sizes must be between {MIN_SIZE} and {MAX_SIZE}")
        return v

    @field_validator("init")
    @classmethod
    def _known_init(cls, v: str) -> str:
        if v not in INITIALIZERS:
            raise ValueError(did_you_mean("initialiser", v, INITIALIZERS))
        return v

    def hidden_list(self, hidden: str | list[str] | None = None) -> list[str]:
        """One hidden activation name per hidden layer."""
        h = self.hidden if hidden is None else hidden
        return [h] * (len(self.layers) - 2) if isinstance(h, str) else list(h)

    def check_hidden(self, hidden: str | list[str]) -> None:
        names = self.hidden_list(hidden)
        if len(names) != len(self.layers) - 2:
            raise PathError(("hidden",), f"{len(names)} hidden activations given for "
                            f"{len(self.layers) - 2} hidden layers (model.layers has {len(self.layers)} sizes)")
        allowed = HIDDEN_ACTIVATIONS + list(self.custom_activations)
        for i, name in enumerate(names):
            if name not in allowed:
                where = ("hidden",) if isinstance(hidden, str) else ("hidden", i)
                raise PathError(where, did_you_mean("hidden activation", name, allowed))

    @model_validator(mode="after")
    def _names(self) -> ModelConfig:
        for name in self.custom_activations:
            if name in ACTIVATIONS and ACTIVATIONS[name].alias_of is None:  # an alias (swish) may be a user's own
                raise PathError(("custom_activations", name),
                                f"custom activation '{name}' would shadow the built-in one; choose another name")
        self.check_hidden(self.hidden)
        allowed = OUTPUT_ACTIVATIONS + list(self.custom_activations)
        if self.output is not None and self.output not in allowed:
            raise PathError(("output",), did_you_mean("output activation", self.output, allowed))
        for name, params in self.activation_params.items():
            if name not in ACTIVATIONS:
                raise PathError(("activation_params", name), did_you_mean("activation", name, ACTIVATIONS))
            known = ACTIVATIONS[name].params
            for p in params:
                if p not in known:
                    have = ", ".join(known) or "none"
                    raise PathError(("activation_params", name, p), f"unknown parameter '{p}' (allowed: {have})")
        return self

    def builtin(self, name: str) -> Activation | None:
        """The registry's activation `name`, or None when it is the user's own (a name under
        custom_activations, which may take an alias's name such as swish, or none registered)."""
        return None if name in self.custom_activations else ACTIVATIONS.get(name)

    def params_of(self, name: str) -> dict[str, float]:
        """The parameters of activation `name`: its defaults updated by `activation_params`."""
        act = self.builtin(name)
        return {**(act.params if act else {}), **self.activation_params.get(name, {})}


class NamedEntry(Strict):
    """A registry's entry as a config names it: a name (`loss: bce`) or a mapping with its settings."""

    REGISTRY: ClassVar[dict] = {}
    WHAT: ClassVar[str] = ""  # e.g. "loss", for "unknown loss 'x'; did you mean ..."
    A_NAME: ClassVar[str] = ""  # e.g. "a loss name"
    EXAMPLE: ClassVar[str] = ""  # the mapping form, e.g. "{name: mse, reduction: sum}"

    @model_validator(mode="before")
    @classmethod
    def _from_name(cls, v: Any) -> Any:
        if isinstance(v, str):
            return {"name": v}
        if v is not None and not isinstance(v, dict):
            raise ValueError(f"expected {cls.A_NAME} ({', '.join(cls.REGISTRY)}) or {cls.EXAMPLE}")
        return v

    @field_validator("name", check_fields=False)
    @classmethod
    def _known(cls, v: str | None) -> str | None:
        if v is not None and v not in cls.REGISTRY:
            raise ValueError(did_you_mean(cls.WHAT, v, cls.REGISTRY))
        return v


class LossConfig(NamedEntry):
    REGISTRY, WHAT, A_NAME, EXAMPLE = LOSSES, "loss", "a loss name", "{name: mse, reduction: sum}"
    name: str | None = Field(None, description="loss: " + ", ".join(LOSSES) + " (default: fits the task)")
    reduction: Literal["mean", "sum"] = Field("mean", description="cost over samples: mean or sum")


class _OptimizerEntry(NamedEntry):
    """An update rule of optimizers.py and its arguments; unset ones take the rule's defaults (PyTorch's).
    Its argument fields are made from optimizers.ARGUMENTS (OptimizerConfig, below)."""

    REGISTRY, WHAT, A_NAME, EXAMPLE = OPTIMIZERS, "optimizer", "an optimizer name", "{name: adam, beta1: 0.9}"

    name: str = Field("sgd", description="update rule: " + ", ".join(OPTIMIZERS))

    @model_validator(mode="after")
    def _its_own_arguments(self) -> _OptimizerEntry:
        known = OPTIMIZERS[self.name].params
        given = [k for k in ARGUMENTS if getattr(self, k) is not None]
        for key in given:
            if key not in known:
                raise ValueError(f"'{key}' is not an argument of {self.name} (its arguments: "
                                 f"{', '.join(known) or 'none'}); it is one of {', '.join(users(key))}'s")
        why = OPTIMIZERS[self.name].refuses and OPTIMIZERS[self.name].refuses(**self.arguments())
        if why:
            raise ValueError(f"{self.name} {why}")
        return self

    @model_serializer(mode="wrap")
    def _without_unset(self, handler) -> dict[str, Any]:
        return {k: v for k, v in handler(self).items() if v is not None}  # as written: {name: adam, beta1: 0.8}

    def arguments(self) -> dict[str, float]:
        """The rule's arguments: its defaults, updated by those given."""
        defaults = OPTIMIZERS[self.name].params
        return {k: getattr(self, k) if getattr(self, k) is not None else v for k, v in defaults.items()}

    def __str__(self) -> str:
        args = ", ".join(f"{k}={v:g}" for k, v in self.arguments().items())
        return f"{self.name}({args})" if args else self.name


def _argument_field(name: str, arg: Argument) -> tuple[Any, Any]:
    low = {"gt": arg.low} if arg.open_low else {"ge": arg.low}
    defaults = ", ".join(f"{rule} {OPTIMIZERS[rule].params[name]:g}" for rule in users(name))
    return float | None, Field(None, **low, lt=arg.high, description=f"{arg.meaning}; unset: the rule's default "
                               f"({defaults}); only for {', '.join(users(name))}")


OptimizerConfig = create_model("OptimizerConfig", __base__=_OptimizerEntry, __module__=__name__,
                               **{name: _argument_field(name, arg) for name, arg in ARGUMENTS.items()})


PHASE_FIELDS = ("epochs", "lr", "lr_decay", "order", "batch_size", "optimizer")  # train.X a phase may set itself


class PhaseConfig(Strict):
    """A stage of training on the same weights; unset fields come from `train`."""

    epochs: int | None = Field(None, ge=0, le=100_000_000)
    lr: float | None = Field(None, gt=0, description="unset: continue from the previous phase's decayed lr")
    lr_decay: float | None = Field(None, gt=0, le=10)
    order: Order | None = None
    batch_size: int | None = Field(None, ge=1)
    optimizer: OptimizerConfig | None = Field(None, description="unset: train.optimizer; a phase that changes "
                                             "it starts the new rule's state afresh")
    hidden: str | list[str] | None = None


class TrainConfig(Strict):
    lr: float = Field(0.1, gt=0, description="learning rate")
    epochs: int = Field(1000, ge=0, le=100_000_000, description="passes over the training set (0: evaluate the "
                        "networks as initialised)")
    batch_size: int | None = Field(None, ge=1, description="samples per step; unset: full batch")
    order: Order = Field("shuffle", description="sequential, shuffle (each epoch) or random (with replacement)")
    lr_decay: float = Field(1.0, gt=0, le=10, description="lr is multiplied by this after every epoch")
    clip: float | None = Field(None, gt=0, description="clip each member's gradient to this global norm")
    weight_decay: float = Field(0.0, ge=0, description="L2 penalty on weights (not biases)")
    l1: float = Field(0.0, ge=0, description="L1 penalty on weights (not biases): l1 sign(W) added to the gradient")
    optimizer: OptimizerConfig = Field(OptimizerConfig(), description="the update rule: a name ("
                                       + ", ".join(OPTIMIZERS) + ") or {name: adam, beta1: 0.9, ...}")
    phases: list[PhaseConfig] = Field([], description="stages run one after another on the same weights")


class Bounded(Strict):
    """A figure's threshold: exactly one of at_least and at_most (a success criterion, a claim's expectation)."""

    at_least: float | None = None
    at_most: float | None = None

    def one_bound(self) -> str | None:
        """What is wrong when not exactly one bound is given (None: it is)."""
        if (self.at_least is None) == (self.at_most is None):
            return "give exactly one of 'at_least' and 'at_most'"
        return None

    @property
    def threshold(self) -> float:
        return self.at_least if self.at_least is not None else self.at_most

    def bound_text(self, spec: str = "") -> str:
        """'>= 1.0' or '<= 0.1' (the number formatted by `spec`, e.g. 'g')."""
        return f"{'>=' if self.at_least is not None else '<='} {self.threshold:{spec}}"

    def met(self, value):
        return value >= self.at_least if self.at_least is not None else value <= self.at_most


class SuccessConfig(Bounded):
    metric: Literal[METRICS] = "accuracy"  # type: ignore[valid-type]

    @model_validator(mode="after")
    def _one_bound(self) -> SuccessConfig:
        if (problem := self.one_bound()) is not None:
            raise ValueError(f"{problem}, e.g. {{metric: accuracy, at_least: 1.0}}")
        return self

    def __str__(self) -> str:
        return f"{self.metric} {self.bound_text()}"


MAX_MEMBERS = 250_000  # per sweep: planning alone holds about 2 KB per member (0.5 GB at the limit)


FIGURES = {  # what a claim can measure over a setting's seeds, from its members.csv (and metrics.csv)
    "success_rate": "share of seeds meeting the success criterion",
    "diverged_rate": "share of seeds whose cost became NaN or infinite",
    "all_dead_rate": "share of seeds whose layer `layer` ends with every unit dead",
    "dead_share": "mean share of dead units in layer `layer` (units that pass no gradient on any sample)",
    "identical_rate": "share of seeds whose hidden layer `layer` ends with all units identical (one function)",
    "cost": "median final training cost",
    "accuracy": "median final training accuracy",
    "r2": "median final training R²",
    "test_cost": "median final cost on the test set",
    "test_accuracy": "median final accuracy on the test set",
    "test_r2": "median final R² on the test set",
    "grad_ratio": "median of grad_L1 / grad_L<last>: gradient reaching the first layer against the last",
}
PROPORTIONS = ("success_rate", "diverged_rate", "all_dead_rate", "identical_rate")  # Wilson intervals
LAYERED = ("all_dead_rate", "dead_share", "identical_rate")  # need `layer`


class Expectation(Bounded):
    """One measurable part of a claim: a figure of one setting against a threshold, the difference
    of that figure between two settings against a threshold, or its trend over an ordered list of
    settings (a rank correlation, see claims.py)."""

    setting: str | None = Field(None, description="a name from the claim's settings (with at_least / at_most)")
    versus: str | None = Field(None, description="a second setting: the figure of `setting` minus this one's is "
                               "judged against at_least / at_most")
    settings: list[str] | None = Field(None, min_length=2, description="settings in order (with trend)")
    trend: Literal["increasing", "decreasing"] | None = Field(
        None, description="the figure rises (or falls) along `settings`")
    figure: Literal[tuple(FIGURES)] = Field(description="; ".join(f"{k}: {v}" for k, v in FIGURES.items()))  # type: ignore[valid-type]
    layer: int | None = Field(None, ge=1, description="the layer of " + " / ".join(LAYERED) + " (1-based, by "
                              "weight matrix; the output layer is the last)")
    at: Literal["start", "end"] = Field("end", description="dead_share and grad_ratio: at the first or last log")

    @model_validator(mode="after")
    def _well_formed(self) -> Expectation:
        if self.trend is not None:
            if self.settings is None or self.setting is not None or self.at_least is not None \
                    or self.at_most is not None or self.versus is not None:
                raise ValueError("a trend goes with 'settings: [a, b, ...]' in order, without setting, versus, "
                                 "at_least or at_most")
        elif self.setting is None or self.settings is not None:
            raise ValueError("give 'setting' with at_least or at_most, or 'settings' with a trend")
        elif (problem := self.one_bound()) is not None:
            raise ValueError(problem)
        elif self.versus is not None and self.versus == self.setting:
            raise ValueError(f"'versus' names a second setting, not '{self.setting}' again")
        if self.settings is not None and len(set(self.settings)) != len(self.settings):
            raise ValueError("a trend's settings are distinct, in order: [a, b, c]")
        if self.figure in PROPORTIONS and self.trend is None:
            low, high = (-1.0, 1.0) if self.versus is not None else (0.0, 1.0)
            what = "a difference of two shares" if self.versus is not None else "a share"
            t = self.threshold
            if not low < t < high:
                never = (self.at_least is not None and t >= high) or (self.at_most is not None and t <= low)
                raise ValueError(f"{what} lies in [{low:g}, {high:g}] and its 95 % interval never reaches the ends: "
                                 f"{self.bound_text('g')} " + ("can never hold" if never else "always holds") +
                                 f"; give a threshold strictly between {low:g} and {high:g}")
        if (self.figure in LAYERED) != (self.layer is not None):
            raise ValueError(f"'layer' goes with {', '.join(LAYERED)} (and only with them)")
        if self.at == "start" and self.figure not in ("dead_share", "grad_ratio"):
            raise ValueError("'at: start' goes with dead_share and grad_ratio only")
        return self

    def __str__(self) -> str:
        what = self.figure + (f" of layer {self.layer}" if self.layer else "") + (" at the start" if
                                                                                    self.at == "start" else "")
        if self.trend is not None:
            return f"{what} {self.trend} over {', '.join(self.settings)}"
        bound = self.bound_text("g")
        if self.versus is not None:
            return f"{self.setting} minus {self.versus}: {what} {bound}"
        return f"{self.setting}: {what} {bound}"

    def named(self) -> list[str]:
        """The settings this expectation measures."""
        if self.settings is not None:
            return list(self.settings)
        return [self.setting] + ([self.versus] if self.versus is not None else [])


SECTIONS = ("data", "model", "train")  # a claim's setting changes keys inside them, not whole sections


class ClaimConfig(Strict):
    """A statement from a tutorial, a paper or a seed, in a form relu-lab can measure (relu-lab check)."""

    statement: str = Field(min_length=1, description="the claim in words")
    source: str = Field(min_length=1, description="where it comes from: a seed file, a paper, a tutorial")
    settings: dict[str, dict[str, Any]] = Field(
        min_length=1, description="named variants of this config: {name: {key.path: value}}; {} is the config as is")
    expect: list[Expectation] = Field(min_length=1, description="what must hold, all of it")
    seeds: int = Field(32, ge=1, le=MAX_MEMBERS, description="seeds per setting (relu-lab check --seeds overrides)")

    @model_validator(mode="after")
    def _known_settings(self) -> ClaimConfig:
        for name, changes in self.settings.items():
            for key, value in (changes or {}).items():
                head = str(key).split(".")[0]
                if head in ("seed", "sweep", "claim", "name"):
                    raise PathError(("settings", name, key), f"a setting cannot change '{key}': the claim sets the "
                                    "seeds (claim.seeds, --seeds), the name and the grid of its settings itself")
                if head == key and key in SECTIONS and isinstance(value, dict):
                    first = next(iter(value), "hidden")
                    raise PathError(("settings", name, key), f"write one key per change, e.g. '{key}.{first}: ...'; "
                                    f"a mapping here would replace the whole {key} section with its defaults")
        for i, e in enumerate(self.expect):
            for name in e.named():
                if name not in self.settings:
                    key = "settings" if e.settings is not None else "versus" if name == e.versus else "setting"
                    raise PathError(("expect", i, key), did_you_mean("setting", name, self.settings))
        return self


def parse_lr_spec(spec: str | list | float) -> list[float]:
    """'0.001,0.01,0.1' or a log-spaced range 'lo:hi:n' ('1e-4:10:9') -> learning rates."""
    if isinstance(spec, (int, float)):
        values = [float(spec)]
    elif isinstance(spec, list):
        values = [float(v) for v in spec]
    elif ":" in spec:
        parts = spec.split(":")
        try:
            lo, hi, n = float(parts[0]), float(parts[1]), int(parts[2])
            if len(parts) != 3:
                raise ValueError
        except (ValueError, IndexError):
            raise ValueError(f"'{spec}' is not a range lo:hi:n such as 1e-4:10:9") from None
        if not (0 < lo < hi) or n < 2:
            raise ValueError(f"'{spec}': a range lo:hi:n needs 0 < lo < hi and n >= 2")
        values = [float(v) for v in np.logspace(np.log10(lo), np.log10(hi), n)]
    else:
        try:
            values = [float(v) for v in spec.split(",") if v.strip()]
        except ValueError:
            raise ValueError(f"'{spec}' is not a list of numbers such as 0.001,0.01,0.1") from None
    if not values:
        raise ValueError("the learning-rate list is empty")
    for v in values:
        if not (np.isfinite(v) and v > 0):
            raise ValueError(f"learning rates must be finite and > 0, got {v}")
    if (i := first_duplicate(values)) is not None:
        raise ValueError(f"learning rate {values[i]:g} is listed twice; give each once")
    return values


def _same_key(value: Any, budget: list[int]) -> Any:
    """A hashable stand-in for a grid value: equal numbers alike (1 and 1.0), booleans apart from them;
    None once more than `budget` nodes were looked at (a YAML bomb is not expanded to compare it)."""
    budget[0] -= 1
    if budget[0] < 0:
        return None
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return (type(value).__name__, value)
    if isinstance(value, (int, float)):
        return ("number", float(value))
    if isinstance(value, (list, tuple)):
        items = tuple(_same_key(v, budget) for v in value)
        return None if budget[0] < 0 else ("list", items)
    if isinstance(value, dict):
        items = tuple(sorted(((str(k), _same_key(v, budget)) for k, v in value.items()), key=lambda kv: kv[0]))
        return None if budget[0] < 0 else ("dict", items)
    return ("other", repr(value))


def first_duplicate(values: list[Any]) -> int | None:
    """The index of the first value equal to one before it (1 and 1.0 are equal, true and 1 are not);
    None when all differ. Values too large to compare cheaply (over 10,000 nodes) count as distinct."""
    seen: set[Any] = set()
    for i, value in enumerate(values):
        key = _same_key(value, [10_000])
        if key is None:
            continue
        if key in seen:
            return i
        seen.add(key)
    return None


def grid_value_text(value: Any) -> str:
    """A grid value as YAML would spell it, for messages: relu, 0.5, true, [2, 5, 1] (cut when long)."""
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= 80 else text[:60] + "..." + text[-10:]


def _few_enough(n: int) -> None:
    if n > MAX_MEMBERS:
        raise ValueError(f"{n:,} seeds: a sweep has at most {MAX_MEMBERS:,} members (planning {n:,} would take "
                         f"about {2 * n / 1e6:.1f} GB); split the seeds over several sweeps (--seeds a:b)")


def parse_seeds(spec: str | int | list) -> list[int]:
    """A count N (seeds 0..N-1), a list '3,5,7' or a range 'a:b' (seeds a..b-1) -> the seeds."""
    if isinstance(spec, bool):
        raise ValueError(f"'{spec}' is a boolean, not a seed count, list or range")
    if isinstance(spec, list):
        seeds = spec
    else:
        text = str(spec).strip()
        parts = text.split(":") if ":" in text else [p for p in text.split(",") if p.strip()]
        try:
            numbers = [int(p) for p in parts]
        except ValueError:
            numbers = []
        if not numbers or (":" in text and len(numbers) != 2):
            raise ValueError(f"'{text}' is not a seed count (32), list (3,5,7) or range (100:164)")
        if ":" in text:
            lo, hi = numbers
            if not 0 <= lo < hi:
                raise ValueError(f"'{text}': a range a:b needs 0 <= a < b (seeds a..b-1)")
            _few_enough(hi - lo)
            return list(range(lo, hi))
        if "," not in text:
            if numbers[0] < 1:
                raise ValueError(f"need at least 1 seed, got {numbers[0]}")
            _few_enough(numbers[0])
            return list(range(numbers[0]))
        seeds = numbers
    if not seeds or any(not isinstance(s, int) or isinstance(s, bool) or s < 0 for s in seeds):
        raise ValueError("a seed list must be non-empty, with whole seeds >= 0")
    if (i := first_duplicate(seeds)) is not None:
        raise ValueError(f"seed {seeds[i]} is listed twice; give each once")
    _few_enough(len(seeds))
    return list(seeds)


class SweepConfig(Strict):
    """The grid of a sweep or compare; command-line options take precedence."""

    lr: list[float] | str | None = Field(None, description="learning rates: a list or a log range 'lo:hi:n'")
    seeds: int | list[int] | str = Field(32, description="a count N (seeds 0..N-1), a list of seeds, or a "
                                         "range 'a:b' (seeds a..b-1)")
    params: dict[str, list[Any]] = Field({}, description="other keys to vary: {key.path: [values]}")
    activations: list[str] | None = Field(None, description="compare: hidden activations (default: all)")

    @field_validator("lr")
    @classmethod
    def _lr(cls, v):
        return None if v is None else parse_lr_spec(v)

    @field_validator("seeds")
    @classmethod
    def _seeds(cls, v):
        parse_seeds(v)
        return v

    @field_validator("params")
    @classmethod
    def _params(cls, v):
        for key, values in v.items():
            if not values:
                raise ValueError(f"'{key}' has an empty list of values")
            if (i := first_duplicate(values)) is not None:
                raise ValueError(f"'{key}': the value {grid_value_text(values[i])} is listed twice; give each once")
        return v

    @field_validator("activations")
    @classmethod
    def _activations(cls, v):
        if v is not None and (i := first_duplicate(v)) is not None:
            raise ValueError(f"activation {v[i]} is listed twice; give each once")
        return v


class Config(Strict):
    name: str = Field("run", description="names the run directory: letters, digits, _ . + -")
    seed: int = Field(0, ge=0, description="seed of the initial weights and the sample order")
    data: DataConfig = DataConfig()
    model: ModelConfig = ModelConfig()
    loss: LossConfig = LossConfig()
    train: TrainConfig = TrainConfig()
    log_every: int | None = Field(None, ge=1, description="epochs between logged rows (default: about 200 rows)")
    success: SuccessConfig | None = None
    diagnostics: bool = Field(True, description="log dead units, sparsity, gradient and weight norms per layer")
    engine: Literal["auto", "compiled", "numpy"] = Field(
        "auto", description="what runs the SGD steps: compiled (numba), numpy (the reference) or auto (compiled "
        "whenever every activation has a compiled form); a run's config.yaml records the one it used")
    sweep: SweepConfig | None = Field(None, description="the grid for relu-lab sweep / compare")
    claim: ClaimConfig | None = Field(None, description="a statement relu-lab check measures and judges")
    _tree: Any = PrivateAttr(default=None)  # the composed YAML, for line numbers in later errors (loading.where)

    @field_validator("name")
    @classmethod
    def _safe_name(cls, v: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.+-]{0,99}", v) or ".." in v:
            raise ValueError("must be 1-100 letters, digits, '_', '.', '+' or '-', starting with a letter or digit, "
                             "without '..' or path separators")
        return v

    @model_validator(mode="after")
    def _phases(self) -> Config:
        for i, phase in enumerate(self.train.phases):
            if phase.hidden is not None:
                try:
                    self.model.check_hidden(phase.hidden)
                except PathError as err:
                    raise PathError(("train", "phases", i, *err.path), str(err)) from None
        return self

    def phases(self) -> list[PhaseConfig]:
        """The phases with every field filled (lr None means: continue)."""
        t = self.train
        given = t.phases or [PhaseConfig(lr=t.lr)]
        out = []
        for i, p in enumerate(given):
            out.append(
                PhaseConfig(
                    epochs=p.epochs if p.epochs is not None else t.epochs,
                    lr=p.lr if p.lr is not None else (t.lr if i == 0 else None),
                    lr_decay=p.lr_decay if p.lr_decay is not None else t.lr_decay,
                    order=p.order or t.order,
                    batch_size=p.batch_size or t.batch_size,
                    optimizer=p.optimizer if p.optimizer is not None else t.optimizer,
                    hidden=p.hidden if p.hidden is not None else self.model.hidden,
                )
            )
        return out

    def total_epochs(self) -> int:
        return sum(p.epochs for p in self.phases())

    def phases_setting(self, field: str) -> list[int]:
        """The phases that set `field` (one of PHASE_FIELDS) for themselves, where train.<field> does
        not reach. The learning rate only starts phase 0 (later phases continue), so it counts there only."""
        own = [i for i, p in enumerate(self.train.phases) if getattr(p, field) is not None]
        return [i for i in own if i == 0] if field == "lr" else own

    def unreached(self, field: str) -> bool:
        """Whether train.<field> reaches no phase at all (a value set there would change nothing)."""
        own = self.phases_setting(field)
        return bool(own) and (field == "lr" or len(own) == len(self.train.phases))


def json_schema() -> dict[str, Any]:
    """The config's JSON Schema, for editors: pydantic's, with the registries' names as enums and the
    shorthands the loader accepts (`loss: bce`). A user's own activation names stay allowed."""
    schema = Config.model_json_schema()
    defs = schema["$defs"]
    defs["DataConfig"]["properties"]["name"]["enum"] = list(DATASETS)
    defs["LossConfig"]["properties"]["name"] = {"anyOf": [{"enum": list(LOSSES)}, {"type": "null"}],
                                                "default": None, "description": "loss (default: fits the task)"}
    schema["properties"]["loss"] = {"anyOf": [{"enum": list(LOSSES)}, {"$ref": "#/$defs/LossConfig"}],
                                    "description": "a loss name, or {name: ..., reduction: mean | sum}"}
    model = defs["ModelConfig"]["properties"]
    model["layers"]["items"] = {"type": "integer", "minimum": MIN_SIZE, "maximum": MAX_SIZE}
    model["init"]["enum"] = list(INITIALIZERS)
    # the registry's names first (editors offer them); any other string may name a custom activation
    custom = {"type": "string", "description": "your own activation: a name declared under model.custom_activations"}
    hidden = {"anyOf": [{"enum": HIDDEN_ACTIVATIONS, "description": "a built-in activation"}, custom]}
    model["hidden"]["anyOf"] = [hidden, {"type": "array", "items": hidden}]
    model["output"]["anyOf"] = [{"enum": OUTPUT_ACTIVATIONS, "description": "a built-in activation"}, custom,
                                {"type": "null"}]
    model["activation_params"]["propertyNames"] = {"enum": [n for n, a in ACTIVATIONS.items() if a.params]}
    phase = defs["PhaseConfig"]["properties"]
    phase["hidden"]["anyOf"] = [hidden, {"type": "array", "items": hidden}, {"type": "null"}]
    phase["hidden"]["description"] = ("this phase's hidden activation, or one per hidden layer (default: "
                                      "model.hidden); names as in model.hidden, custom ones declared under "
                                      "model.custom_activations")
    # `optimizer: adam` as well as {name: adam, beta1: 0.9}
    defs["OptimizerConfig"]["properties"]["name"]["enum"] = list(OPTIMIZERS)
    # each rule takes its own arguments only (a mapping without a name is sgd's, which takes none)
    defs["OptimizerConfig"]["allOf"] = [
        {"if": {"properties": {"name": {"const": name}}} if name != "sgd" else
         {"anyOf": [{"not": {"required": ["name"]}}, {"properties": {"name": {"const": "sgd"}}}]},
         "then": {"not": {"anyOf": [{"required": [k]} for k in ARGUMENTS if k not in rule.params]}}}
        for name, rule in OPTIMIZERS.items() if set(ARGUMENTS) - set(rule.params)]
    rule = {"anyOf": [{"enum": list(OPTIMIZERS)}, {"$ref": "#/$defs/OptimizerConfig"}],
            "description": "an optimizer name, or {name: ..., and its arguments}"}
    defs["TrainConfig"]["properties"]["optimizer"] = rule
    phase["optimizer"] = {"anyOf": [*rule["anyOf"], {"type": "null"}], "description": "this phase's optimizer "
                          "(default: train.optimizer); a phase that changes it starts the rule's state afresh"}
    return schema
