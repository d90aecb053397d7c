"""The experiment config: a pydantic schema, validated once at load.

Every field has a default or is required, unknown keys are rejected, and every
name (dataset, activation, loss, initialiser) is checked against its registry.
`load_config` reads YAML safely, applies `--set key.path=value` overrides and
turns any problem into a `UserError` of one line naming the file, the line and
the key path.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator

from .activations import ACTIVATIONS, HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS
from .datasets import DATASETS
from .errors import UserError, did_you_mean
from .initializers import INITIALIZERS
from .losses import LOSSES

Order = Literal["sequential", "shuffle", "random"]
METRICS = ("cost", "accuracy", "r2", "test_cost", "test_accuracy", "test_r2")


class PathError(ValueError):
    """A check made above the field it concerns; `path` names that field (e.g. ('hidden',))."""

    def __init__(self, path: tuple, message: str):
        super().__init__(message)
        self.path = path


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, validate_assignment=True)


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


class ModelConfig(Strict):
    layers: list[int] = Field([2, 8, 1], min_length=2, description="sizes from input to output, e.g. [2, 5, 1]")
    hidden: str | list[str] = Field("relu", description="hidden activation, or one per hidden layer")
    output: str | None = Field(None, description="output activation (default: fits the loss)")
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
            if size < 1 or size > 100_000:
                raise ValueError(f"layer {i} has size {size}; sizes must be between 1 and 100000")
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
            if name in ACTIVATIONS:
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

    def params_of(self, name: str) -> dict[str, float]:
        """The parameters of activation `name`: its defaults updated by `activation_params`."""
        defaults = ACTIVATIONS[name].params if name in ACTIVATIONS else {}
        return {**defaults, **self.activation_params.get(name, {})}


class LossConfig(Strict):
    name: str | None = Field(None, description="loss: " + ", ".join(LOSSES) + " (default: fits the task)")
    reduction: Literal["mean", "sum"] = Field("mean", description="cost over samples: mean or sum")

    @model_validator(mode="before")
    @classmethod
    def _from_name(cls, v: Any) -> Any:
        if isinstance(v, str):
            return {"name": v}
        if v is not None and not isinstance(v, dict):
            raise ValueError(f"expected a loss name ({', '.join(LOSSES)}) or {{name: mse, reduction: sum}}")
        return v

    @field_validator("name")
    @classmethod
    def _known(cls, v: str | None) -> str | None:
        if v is not None and v not in LOSSES:
            raise ValueError(did_you_mean("loss", v, LOSSES))
        return v


class PhaseConfig(Strict):
    """A stage of training on the same weights; unset fields come from `train`."""

    epochs: int | None = Field(None, ge=1, le=100_000_000)
    lr: float | None = Field(None, gt=0, description="unset: continue from the previous phase's decayed lr")
    lr_decay: float | None = Field(None, gt=0, le=10)
    order: Order | None = None
    batch_size: int | None = Field(None, ge=1)
    hidden: str | list[str] | None = None


class TrainConfig(Strict):
    lr: float = Field(0.1, gt=0, description="learning rate")
    epochs: int = Field(1000, ge=1, le=100_000_000, description="passes over the training set")
    batch_size: int | None = Field(None, ge=1, description="samples per step; unset: full batch")
    order: Order = Field("shuffle", description="sequential, shuffle (each epoch) or random (with replacement)")
    lr_decay: float = Field(1.0, gt=0, le=10, description="lr is multiplied by this after every epoch")
    clip: float | None = Field(None, gt=0, description="clip each member's gradient to this global norm")
    weight_decay: float = Field(0.0, ge=0, description="L2 penalty on weights (not biases)")
    phases: list[PhaseConfig] = Field([], description="stages run one after another on the same weights")


class SuccessConfig(Strict):
    metric: Literal[METRICS] = "accuracy"  # type: ignore[valid-type]
    at_least: float | None = None
    at_most: float | None = None

    @model_validator(mode="after")
    def _one_bound(self) -> SuccessConfig:
        if (self.at_least is None) == (self.at_most is None):
            raise ValueError("give exactly one of 'at_least' and 'at_most', e.g. {metric: accuracy, at_least: 1.0}")
        return self

    def met(self, value):
        return value >= self.at_least if self.at_least is not None else value <= self.at_most

    def __str__(self) -> str:
        return f"{self.metric} >= {self.at_least}" if self.at_least is not None else f"{self.metric} <= {self.at_most}"


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
    return values


class SweepConfig(Strict):
    """The grid of a sweep or compare; command-line options take precedence."""

    lr: list[float] | str | None = Field(None, description="learning rates: a list or a log range 'lo:hi:n'")
    seeds: int | list[int] = Field(32, description="a count N (seeds 0..N-1) or a list of seeds")
    params: dict[str, list[Any]] = Field({}, description="other keys to vary: {key.path: [values]}")
    activations: list[str] | None = Field(None, description="compare: hidden activations (default: all)")

    @field_validator("lr")
    @classmethod
    def _lr(cls, v):
        return None if v is None else parse_lr_spec(v)

    @field_validator("seeds")
    @classmethod
    def _seeds(cls, v):
        if isinstance(v, int) and v < 1:
            raise ValueError(f"need at least 1 seed, got {v}")
        if isinstance(v, list) and (not v or min(v) < 0):
            raise ValueError("a seed list must be non-empty with seeds >= 0")
        return v

    @field_validator("params")
    @classmethod
    def _params(cls, v):
        for key, values in v.items():
            if not values:
                raise ValueError(f"'{key}' has an empty list of values")
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
    sweep: SweepConfig | None = Field(None, description="the grid for relu-lab sweep / compare")
    _tree: Any = PrivateAttr(default=None)  # the composed YAML, for line numbers in later errors

    def where(self, source: str, path: str) -> str:
        """'file.yaml:LINE' for a dotted key path of the file this config came from (just 'file' if unknown)."""
        line = _line_of(self._tree, tuple(int(p) if p.isdigit() else p for p in path.split(".")))
        return f"{source}:{line}" if line else source

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
                    epochs=p.epochs or t.epochs,
                    lr=p.lr if p.lr is not None else (t.lr if i == 0 else None),
                    lr_decay=p.lr_decay if p.lr_decay is not None else t.lr_decay,
                    order=p.order or t.order,
                    batch_size=p.batch_size or t.batch_size,
                    hidden=p.hidden if p.hidden is not None else self.model.hidden,
                )
            )
        return out

    def total_epochs(self) -> int:
        return sum(p.epochs for p in self.phases())


# --- loading ------------------------------------------------------------------


class _UniqueKeyLoader(yaml.SafeLoader):
    """Safe YAML (no objects from tags) that rejects duplicate keys."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False):
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(
                None, None, f"a key must be a plain value, not a {type(key).__name__}", key_node.start_mark) from None
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key '{key}' (first on line {seen[key] + 1})", key_node.start_mark
            )
        seen[key] = key_node.start_mark.line
    return yaml.SafeLoader.construct_mapping(loader, node, deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def parse_yaml(text: str, source: str) -> Any:
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except RecursionError:
        raise UserError(f"{source}: invalid YAML: nested too deeply") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise UserError(f"{source}{where}: invalid YAML: {problem}") from None


def _line_of(root: yaml.Node | None, path: tuple) -> int | None:
    """The line (1-based) of the deepest node along `path` in a composed YAML tree."""
    node, line = root, None
    for key in path:
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if k.value == str(key):
                    node, line = v, k.start_mark.line + 1
                    break
            else:
                return line
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def parse_override(item: str) -> tuple[list[str | int], Any]:
    """'train.lr=0.5' -> (['train', 'lr'], 0.5); values are read as YAML."""
    key, sep, value = item.partition("=")
    if not sep or not re.fullmatch(r"[A-Za-z_][\w]*(\.\w+)*", key.strip()):
        raise UserError(f"--set '{item}': expected key.path=value, e.g. train.lr=0.5")
    try:
        parsed = yaml.safe_load(value) if value.strip() else None
    except yaml.YAMLError:
        parsed = value
    path: list[str | int] = [int(p) if p.isdigit() else p for p in key.strip().split(".")]
    return path, parsed


def apply_override(raw: dict, path: list[str | int], value: Any, label: str) -> None:
    node: Any = raw
    for i, key in enumerate(path[:-1]):
        nxt = path[i + 1]
        if isinstance(node, list) and isinstance(key, int) and key < len(node):
            node = node[key]
            continue
        if not isinstance(node, dict):
            raise UserError(f"{label}: '{'.'.join(map(str, path[:i]))}' is not a mapping")
        if not isinstance(node.get(key), (dict, list)):
            node[key] = [] if isinstance(nxt, int) else {}
        node = node[key]
    last = path[-1]
    if isinstance(node, list) and isinstance(last, int):
        if last >= len(node):
            raise UserError(f"{label}: index {last} is past the end of a list of {len(node)}")
        node[last] = value
    elif isinstance(node, dict):
        node[last] = value
    else:
        raise UserError(f"{label}: cannot set '{'.'.join(map(str, path))}'")


_TYPE_TAG = re.compile(r"^(str|int|float|bool|none|[a-z-]+\[.*\])$")  # pydantic's names of union members


def _clean_loc(e: dict) -> tuple:
    """The key path of a pydantic error without its internal tags ('str', 'list[str]', 'function-after[...]')."""
    loc = list(e["loc"])
    keep_last = e["type"] == "extra_forbidden"  # there the last part is the user's own (unknown) key
    return tuple(p for i, p in enumerate(loc)
                 if not (isinstance(p, str) and _TYPE_TAG.match(p) and not (keep_last and i == len(loc) - 1)))


def format_validation_error(err: ValidationError, source: str, tree: yaml.Node | None) -> str:
    """The first error of a pydantic ValidationError as one line with file, line and key path.

    Errors at the same key path (one per member of a union such as `str | list[str]`)
    are joined with "or"; errors elsewhere are counted.
    """
    errors = err.errors(include_url=False)
    e = errors[0]
    loc = _clean_loc(e)
    cause = e.get("ctx", {}).get("error")
    if isinstance(cause, PathError):
        loc += cause.path
    here = [x for x in errors if _clean_loc(x) == _clean_loc(e)]
    path = ".".join(str(p) if str(p).isprintable() else repr(p) for p in loc) or "(top level)"
    line = _line_of(tree, loc)
    where = f"{source}:{line}" if line else source
    msg = " or ".join(dict.fromkeys(x["msg"].removeprefix("Value error, ") for x in here))
    if e["type"] == "extra_forbidden" and loc:
        parent = _model_at(loc[:-1])
        msg = did_you_mean("key", loc[-1], parent.model_fields) if parent else f"unknown key {loc[-1]!r}"
    elif e["type"] == "missing":
        msg = "required key is missing"
    elif e["type"] in ("model_type", "model_attributes_type", "dict_type"):
        model = _model_at(loc)
        keys = f" ({', '.join(model.model_fields)})" if model else ""
        msg = f"expected a mapping of keys{keys}, got {type(e.get('input')).__name__}"
    elif e["type"] == "literal_error":
        allowed = re.findall(r"'([^']*)'", e.get("ctx", {}).get("expected", ""))
        msg = did_you_mean("value", e.get("input"), allowed)
    elif "input" in e and not msg.startswith("unknown"):
        given = e["input"]
        if not isinstance(given, (dict, list)):
            msg += f" (got {given!r})"
    more = len(errors) - len(here)
    tail = f" (+{more} more)" if more else ""
    return f"{where}: {path}: {msg}{tail}"


def _model_at(loc: tuple) -> type[BaseModel] | None:
    model: Any = Config
    for key in loc:
        if isinstance(key, int):
            continue
        field = model.model_fields.get(key) if isinstance(model, type) and issubclass(model, BaseModel) else None
        if field is None:
            return None
        ann = field.annotation
        model = next((a for a in getattr(ann, "__args__", (ann,)) if isinstance(a, type) and issubclass(a, BaseModel)),
                     None)
        if model is None and getattr(ann, "__args__", None):  # list[PhaseConfig]
            inner = ann.__args__[0]
            model = inner if isinstance(inner, type) and issubclass(inner, BaseModel) else None
        if model is None:
            return None
    return model


def config_from_dict(raw: Any, source: str = "config", overrides: list[str] = (), tree=None) -> Config:
    """Validate a mapping (plus overrides) into a Config, or raise UserError."""
    if raw is None:
        raise UserError(f"{source}: the file is empty; expected a mapping such as 'data: {{name: xor}}'")
    if not isinstance(raw, dict):
        raise UserError(f"{source}: expected a mapping of keys (data, model, train, ...), got {type(raw).__name__}")
    for item in overrides:
        path, value = parse_override(item)
        apply_override(raw, path, value, f"{source}: --set '{item}'")
    try:
        return Config.model_validate(raw)
    except RecursionError:
        raise UserError(f"{source}: the config is nested too deeply") from None
    except ValidationError as err:
        label = source + (" (with --set)" if overrides else "")
        raise UserError(format_validation_error(err, label, tree)) from None


def load_config(path: str | Path, overrides: list[str] = ()) -> Config:
    """Read, check and validate a YAML config file; raises UserError with one line."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{p}: no such config file") from None
    except IsADirectoryError:
        raise UserError(f"{p}: is a directory, expected a YAML config file") from None
    except (OSError, UnicodeDecodeError) as err:
        raise UserError(f"{p}: cannot read the config file: {getattr(err, 'strerror', None) or err}") from None
    raw = parse_yaml(text, str(p))
    try:
        tree = yaml.compose(text, Loader=yaml.SafeLoader)
    except (yaml.YAMLError, RecursionError):
        tree = None
    cfg = config_from_dict(raw, str(p), overrides, tree)
    cfg._tree = tree
    return cfg


def dump_config(cfg: Config) -> str:
    """The config as YAML, in schema order, with no unset optional noise."""
    return yaml.safe_dump(cfg.model_dump(mode="json"), sort_keys=False, default_flow_style=None)
