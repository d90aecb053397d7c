"""Reading configs: safe YAML, `--set key.path=value` overrides, one-line errors.

`load_config` reads a YAML file (safely: no objects from tags; duplicate and
unhashable keys refused), applies overrides, validates it against the schema in
config.py and turns any problem into a `UserError` of one line naming the file,
the line and the key path, with the allowed values and a did-you-mean.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from .config import PHASE_FIELDS, Config, PathError
from .errors import UserError, did_you_mean


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
        if isinstance(node.get(key), str) and not isinstance(nxt, int):  # `optimizer: adam` then optimizer.beta1:
            node[key] = {"name": node[key]}  # the shorthand's mapping form, which keeps the name
        elif not isinstance(node.get(key), (dict, list)):
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
            text = repr(given)
            msg += f" (got {text if len(text) <= 80 else text[:60] + '...' + text[-10:]})"
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
        cfg = Config.model_validate(raw)
    except RecursionError:
        raise UserError(f"{source}: the config is nested too deeply") from None
    except ValidationError as err:
        label = source + (" (with --set)" if overrides else "")
        raise UserError(format_validation_error(err, label, tree)) from None
    for item in overrides:
        _check_reaches_phases(cfg, item, source)
    return cfg


def _check_reaches_phases(cfg: Config, item: str, source: str) -> None:
    """--set train.X where the phases set X for themselves would change nothing: refused, naming them."""
    path, _ = parse_override(item)
    if len(path) != 2 or path[0] != "train" or path[1] not in PHASE_FIELDS or not cfg.unreached(path[1]):
        return
    field = path[1]
    own = cfg.phases_setting(field)
    which, instead = ("the first phase sets", "train.phases.0.lr") if field == "lr" else \
        ("every phase sets", f"train.phases.N.{field}")
    raise UserError(f"{source}: --set '{item}' would change nothing: {which} its own {field} "
                    f"(train.phases.{own[0]}.{field}); set {instead} instead")


MAX_CONFIG_BYTES = 2**20  # a config is a few KB; parsing YAML takes about 5 s per MiB and far more memory


def size_text(n: int) -> str:
    """'37.0 MiB', '1.0 GiB', '812 bytes'."""
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= size:
            return f"{n // size} {unit}" if n % size == 0 else f"{n / size:.1f} {unit}"
    return f"{n} bytes"


def read_config_text(p: Path) -> str:
    """A config file's text, refused before parsing when it is larger than MAX_CONFIG_BYTES: a regular
    file by its size, a pipe or device (no size to ask) once the read passes the limit."""
    limit = f"a config file may be at most {size_text(MAX_CONFIG_BYTES)} ({MAX_CONFIG_BYTES:,} bytes)"
    try:
        with open(p, "rb") as fh:
            st = os.fstat(fh.fileno())
            if stat.S_ISREG(st.st_mode) and st.st_size > MAX_CONFIG_BYTES:
                raise UserError(f"{p}: the file is {size_text(st.st_size)} ({st.st_size:,} bytes); {limit}")
            data = fh.read(MAX_CONFIG_BYTES + 1)
        if len(data) > MAX_CONFIG_BYTES:
            raise UserError(f"{p}: more than {size_text(MAX_CONFIG_BYTES)} to read (not a regular file: read "
                            f"up to the limit and stopped); {limit}")
        return data.decode("utf-8")
    except FileNotFoundError:
        raise UserError(f"{p}: no such config file") from None
    except IsADirectoryError:
        raise UserError(f"{p}: is a directory, expected a YAML config file") from None
    except (OSError, UnicodeDecodeError) as err:
        raise UserError(f"{p}: cannot read the config file: {getattr(err, 'strerror', None) or err}") from None


def load_config(path: str | Path, overrides: list[str] = ()) -> Config:
    """Read, check and validate a YAML config file; raises UserError with one line."""
    p = Path(path)
    text = read_config_text(p)
    raw = parse_yaml(text, str(p))
    try:
        tree = yaml.compose(text, Loader=yaml.SafeLoader)
    except (yaml.YAMLError, RecursionError):
        tree = None
    cfg = config_from_dict(raw, str(p), overrides, tree)
    cfg._tree = tree
    return cfg


def where(cfg: Config, source: str, path: str) -> str:
    """'file.yaml:LINE' for a dotted key path of the file `cfg` was loaded from ('file' if unknown)."""
    line = _line_of(cfg._tree, tuple(int(p) if p.isdigit() else p for p in path.split(".")))
    return f"{source}:{line}" if line else source


def dump_config(cfg: Config) -> str:
    """The config as YAML, in schema order, with no unset optional noise, and without a train: setting that
    every phase overrides (it would be read back as a setting that changes nothing)."""
    d = cfg.model_dump(mode="json")
    for field in PHASE_FIELDS:
        if cfg.unreached(field):
            d["train"].pop(field, None)
    return yaml.safe_dump(d, sort_keys=False, default_flow_style=None)
