"""Property tests of `relu-lab train` through typer's CliRunner.

Valid configs drawn at random train for a few epochs and end completed or diverged, never with a traceback or
a RuntimeWarning. Random mutations of a valid config (wrong types, typos, absurd values, unknown names) and random
bytes as the whole file end with exit code 2 and exactly one line starting with "error:", unless the mutation
happens to be valid: then the run trains. The oracle for "valid" is `config_from_dict` + `resolve`.
"""

from __future__ import annotations

import copy
import json
import math
import tempfile
import warnings
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from relu_lab.activations import ACTIVATIONS, HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS
from relu_lab.cli import app
from relu_lab.datasets import DATASETS
from relu_lab.errors import UserError
from relu_lab.experiment import resolve
from relu_lab.initializers import INITIALIZERS
from relu_lab.loading import config_from_dict, parse_yaml

runner = CliRunner()

# No shrinking (a failure is reported as first found, with a description of the mutation) and no example database:
# the file stays fast even while relu_lab has bugs, and writes nothing into the repository.
SETTINGS = {"deadline": None, "database": None, "phases": [Phase.explicit, Phase.generate],
            "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]}

NAMES = [name for name in DATASETS if name != "csv"]
ELEMENTWISE_OUTPUTS = [name for name in OUTPUT_ACTIVATIONS if ACTIVATIONS[name].elementwise]
ORDERS = ["sequential", "shuffle", "random"]


# --- running the CLI ----------------------------------------------------------------------------------------------


def invoke(*args: Any):
    """Run the CLI, recording every warning so that a RuntimeWarning cannot hide in pytest's capture."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = runner.invoke(app, [str(a) for a in args])
    runtime = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    return result, runtime


def no_crash(result) -> None:
    assert "Traceback" not in result.output, result.output
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"uncaught {type(result.exception).__name__}: {result.exception}\n{result.output}")


def one_error_line(result) -> str:
    no_crash(result)
    assert result.exit_code == 2, (result.exit_code, result.output)
    lines = [line for line in result.output.split("\n") if line.strip()]  # terminal lines: split at \n only
    assert len(lines) == 1, result.output
    assert lines[0].startswith("error:"), lines[0]
    assert len(lines[0]) > len("error: "), lines[0]
    return lines[0]


def trained(result, out: Path, runtime: list[str]) -> dict:
    """A run that trained: exit 0 (completed) or 1 (diverged), its summary.json says which."""
    no_crash(result)
    assert not runtime, runtime
    assert "RuntimeWarning" not in result.output, result.output
    assert result.exit_code in (0, 1), (result.exit_code, result.output)
    runs = [p for p in out.iterdir() if p.is_dir()]
    assert len(runs) == 1, (runs, result.output)
    summary = json.loads((runs[0] / "summary.json").read_text())
    assert summary["status"] in ("completed", "diverged"), summary
    assert result.exit_code == (1 if summary["status"] == "diverged" else 0), (result.exit_code, summary)
    if summary["status"] == "diverged":
        assert "diverged" in result.output
    return summary


# --- valid configs ------------------------------------------------------------------------------------------------

finite = {"allow_nan": False, "allow_infinity": False}


def log_uniform(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(math.log10(lo), math.log10(hi), **finite).map(lambda e: float(10.0**e))


hidden_name = st.sampled_from(HIDDEN_ACTIVATIONS)


def hidden_for(n_hidden: int) -> st.SearchStrategy:
    """One activation name for all hidden layers, or a list with one per layer."""
    return st.one_of(hidden_name, st.lists(hidden_name, min_size=n_hidden, max_size=n_hidden))


@st.composite
def valid_configs(draw) -> dict:
    name = draw(st.sampled_from(NAMES))
    spec = DATASETS[name]
    data: dict[str, Any] = {"name": name, "seed": draw(st.integers(0, 2**32))}
    if not spec.fixed:
        data["n"] = draw(st.integers(1, 24))
        if draw(st.booleans()):
            data["noise"] = draw(st.floats(0, 2, **finite))
        if draw(st.booleans()):
            data["test_n"] = draw(st.integers(1, 12))
    if draw(st.booleans()):
        data["normalize"] = True
    task = "regression" if spec.task == "regression" else "classification"

    hidden_sizes = draw(st.lists(st.integers(1, 6), min_size=1, max_size=3))
    layers = [spec.inputs, *hidden_sizes, spec.outputs]
    n_hidden = len(hidden_sizes)
    model: dict[str, Any] = {
        "layers": layers,
        "hidden": draw(hidden_for(n_hidden)),
        "init": draw(st.sampled_from(list(INITIALIZERS))),
        "init_scale": draw(log_uniform(1e-3, 1e3)),
        "bias_init": draw(st.sampled_from(["zeros", "like_weights"])),
    }
    if draw(st.booleans()):
        act = draw(st.sampled_from([n for n, a in ACTIVATIONS.items() if a.params]))
        model["activation_params"] = {act: {p: draw(st.floats(-2, 2, **finite)) for p in ACTIVATIONS[act].params}}

    # a loss and an output activation that fit each other and the task
    if task == "regression":
        loss = draw(st.sampled_from([None, "mse", "half_mse"]))
        outputs = [o for o in ELEMENTWISE_OUTPUTS if not (loss is None and o == "sigmoid")]  # sigmoid implies bce
    else:
        # cross_entropy needs a column per class (softmax over one output means nothing: refused)
        losses = [None, "bce", "mse", "half_mse"] + (["cross_entropy"] if spec.outputs > 1 else [])
        loss = draw(st.sampled_from(losses))
        outputs = {"bce": ["sigmoid"], "cross_entropy": ["softmax"]}.get(loss, ELEMENTWISE_OUTPUTS)
    output = draw(st.one_of(st.none(), st.sampled_from(outputs)))
    if output is not None:
        model["output"] = output
    cfg: dict[str, Any] = {"name": draw(st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_+-]{0,12}", fullmatch=True)),
                           "seed": draw(st.integers(0, 2**32)), "data": data, "model": model}
    if loss is not None or draw(st.booleans()):
        cfg["loss"] = {"name": loss, "reduction": draw(st.sampled_from(["mean", "sum"]))}

    lr = st.one_of(log_uniform(1e-6, 10.0), log_uniform(10.0, 1e300))  # huge rates must diverge cleanly
    train: dict[str, Any] = {
        "lr": draw(lr),
        "epochs": draw(st.integers(1, 3)),
        "order": draw(st.sampled_from(ORDERS)),
        "lr_decay": draw(st.floats(0.01, 10, **finite)),
        "weight_decay": draw(st.one_of(st.just(0.0), log_uniform(1e-6, 1e3))),
    }
    if draw(st.booleans()):
        train["batch_size"] = draw(st.integers(1, 30))
    if draw(st.booleans()):
        train["clip"] = draw(log_uniform(1e-3, 1e3))
    if draw(st.booleans()):  # phases on the same weights, each with its own hidden activations
        phases = []
        for _ in range(draw(st.integers(1, 2))):
            phase: dict[str, Any] = {"epochs": 1, "hidden": draw(hidden_for(n_hidden))}
            if draw(st.booleans()):
                phase["lr"] = draw(lr)
            if draw(st.booleans()):
                phase["order"] = draw(st.sampled_from(ORDERS))
            if draw(st.booleans()):
                phase["batch_size"] = draw(st.integers(1, 30))
            if draw(st.booleans()):
                phase["lr_decay"] = draw(st.floats(0.1, 2, **finite))
            phases.append(phase)
        train["phases"] = phases
    cfg["train"] = train

    if draw(st.booleans()):
        score = "r2" if task == "regression" else "accuracy"
        metrics = ["cost", score] + (["test_cost", "test_" + score] if data.get("test_n") else [])
        bound = draw(st.sampled_from(["at_least", "at_most"]))
        cfg["success"] = {"metric": draw(st.sampled_from(metrics)), bound: draw(st.floats(-1, 2, **finite))}
    if draw(st.booleans()):
        cfg["diagnostics"] = draw(st.booleans())
    if draw(st.booleans()):
        cfg["log_every"] = draw(st.integers(1, 3))
    return cfg


def write_config(directory: Path, raw: Any) -> Path:
    path = directory / "config.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def train_valid(raw: dict, plots: bool) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        path = write_config(tmp, raw)
        resolve(config_from_dict(copy.deepcopy(raw), str(path)), str(path), tmp)  # the strategy draws valid configs
        result, runtime = invoke("train", path, "--out", tmp / "runs", "--quiet", *([] if plots else ["--no-plots"]))
        summary = trained(result, tmp / "runs", runtime)
        assert 1 <= summary["epochs"] <= 6
        if plots:
            run = next((tmp / "runs").iterdir())
            assert "could not draw the plots" not in result.output, result.output
            assert list(run.glob("*.png")), list(run.iterdir())
        return summary


@settings(max_examples=150, **SETTINGS)
@given(raw=valid_configs())
def test_random_valid_configs_train_to_completion_or_clean_divergence(raw):
    train_valid(raw, plots=False)


@settings(max_examples=8, **SETTINGS)  # drawing the plots takes about a second per run
@given(raw=valid_configs())
def test_random_valid_configs_train_and_plot_without_runtime_warnings(raw):
    train_valid(raw, plots=True)


def test_a_diverged_run_plots_without_runtime_warnings():
    """Found by the property above: a run whose weights became NaN, then its decision boundary is drawn."""
    raw = {"name": "nan_boundary", "seed": 127015,
           "data": {"name": "gauss", "seed": 771566, "n": 22, "noise": 0.8553739432566261},
           "model": {"layers": [2, 2, 3, 6, 1], "hidden": "prelu", "init": "normal", "init_scale": 4.693799139995364,
                     "output": "softplus"},
           "train": {"lr": 6.800618948757839e245, "epochs": 2, "order": "shuffle", "lr_decay": 8.783801674926956,
                     "weight_decay": 0.00034970010508531723, "clip": 1.1220184543019633}}
    assert train_valid(raw, plots=True)["status"] == "diverged"


# --- mutations of a valid config ----------------------------------------------------------------------------------

SPECIAL = [None, True, False, "", " ", "null", "~", 0, -1, -(10**30), 10**9, 2**31, 2**63, 10**30, 10**400,
           0.0, -0.0, -1.5, 1e-320, 1e308, math.nan, math.inf, -math.inf, [], {}, [[]], {"": None}, [None], "\x00",
           "../../etc/passwd", "relu;rm -rf /", "é" * 3, "rel\nu", "relu\n", "\x1b[31mrelu", "a\rb"]

scalars = st.one_of(
    st.sampled_from(SPECIAL).map(copy.deepcopy),  # a fresh [] or {} each time: a mutation must not change SPECIAL
    st.booleans(),
    st.integers(-5, 12),
    st.integers(-(10**40), 10**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
)
garbage = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                          st.dictionaries(st.text(max_size=6), inner, max_size=3)),
                       max_leaves=6)

NAME_FIELDS = {("data", "name"): list(DATASETS), ("model", "hidden"): HIDDEN_ACTIVATIONS,
               ("model", "output"): OUTPUT_ACTIVATIONS, ("model", "init"): list(INITIALIZERS),
               ("loss", "name"): ["mse", "bce"], ("train", "order"): ORDERS, ("success", "metric"): ["accuracy"]}


def paths_of(node: Any, prefix: tuple = ()) -> list[tuple]:
    """Every key path in a nested dict/list (not the root)."""
    out = []
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
    for key, value in items:
        out.append((*prefix, key))
        out += paths_of(value, (*prefix, key))
    return out


def parent_of(raw: Any, path: tuple) -> Any:
    node = raw
    for key in path[:-1]:
        node = node[key]
    return node


def typo(word: str, draw) -> str:
    """A misspelling: drop, double, swap or change a character."""
    word = str(word) or "x"
    i = draw(st.integers(0, len(word) - 1))
    kind = draw(st.sampled_from(["drop", "double", "swap", "change"]))
    if kind == "drop" and len(word) > 1:
        return word[:i] + word[i + 1:]
    if kind == "swap" and i + 1 < len(word) and word[i] != word[i + 1]:
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if kind == "change":
        c = draw(st.sampled_from("abcdefghijklmnopqrstuvwxyz_0"))
        if c != word[i]:
            return word[:i] + c + word[i + 1:]
    return word[:i + 1] + word[i:]


@st.composite
def mutated_configs(draw) -> tuple[dict, list[str]]:
    raw = draw(valid_configs())
    done = []
    for _ in range(draw(st.integers(1, 3))):
        paths = paths_of(raw)
        kind = draw(st.sampled_from(["value", "delete", "rename", "add", "name", "name"]))
        if kind == "name":
            path = draw(st.sampled_from(list(NAME_FIELDS)))
            parent = raw.setdefault(path[0], {})
            if not isinstance(parent, dict):
                continue
            if draw(st.booleans()):
                new = typo(draw(st.sampled_from(NAME_FIELDS[path])), draw)
            else:
                new = draw(st.one_of(st.text(max_size=8), st.sampled_from([s for s in SPECIAL if isinstance(s, str)])))
            parent[path[1]] = new
            done.append(f"{'.'.join(path)} = {new!r}")
            continue
        path = draw(st.sampled_from(paths))
        parent = parent_of(raw, path)
        key = path[-1]
        if kind == "value":
            parent[key] = draw(garbage)
            done.append(f"{'.'.join(map(str, path))} = {parent[key]!r}")
        elif kind == "delete":
            del parent[key]
            done.append(f"delete {'.'.join(map(str, path))}")
        elif kind == "rename" and isinstance(parent, dict):
            new = typo(key, draw)
            parent[new] = parent.pop(key)
            done.append(f"rename {'.'.join(map(str, path))} -> {new}")
        elif kind == "add":
            target = parent if isinstance(parent, dict) else raw
            new = draw(st.one_of(st.text(min_size=1, max_size=8), st.integers(-3, 3), st.none()))
            target[new] = draw(garbage)
            done.append(f"add {new!r} = {target[new]!r} beside {'.'.join(map(str, path))}")
    return raw, done


def cheap(cfg) -> bool:
    """Whether a valid config trains in well under a second (else only `validate` is run)."""
    n = cfg.data.n or DATASETS[cfg.data.name].n
    if n > 2000 or cfg.data.test_n > 2000 or cfg.total_epochs() > 50:
        return False
    layers = cfg.model.layers
    params = sum(a * b for a, b in zip(layers, layers[1:]))
    steps = sum(p.epochs * -(-n // min(p.batch_size or n, n)) for p in cfg.phases())
    return params <= 20_000 and steps <= 2000 and params * n * cfg.total_epochs() <= 5_000_000


def oracle(path: Path) -> Any:
    """The validated config if the file is a valid config (decided by config_from_dict + resolve), else None."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return None
    try:
        cfg = config_from_dict(parse_yaml(text, str(path)), str(path))
        if (cfg.data.n or 0) > 100_000 or cfg.data.test_n > 100_000:
            return cfg  # valid as far as the schema goes; too big to resolve here
        resolve(cfg, str(path), path.parent)
        return cfg
    except UserError:
        return None


def check_cli_agrees(path: Path, out: Path, note: Any) -> None:
    cfg = oracle(path)
    event("valid, trained" if cfg is not None and cheap(cfg) else "valid, validated" if cfg is not None else "invalid")
    if cfg is not None and cheap(cfg):
        result, runtime = invoke("train", path, "--out", out, "--quiet", "--no-plots")
        assert result.exit_code != 2, (note, result.output)
        trained(result, out, runtime)
    elif cfg is not None:  # valid but too long to train here: validate only
        result, _ = invoke("validate", path)
        no_crash(result)
        if result.exit_code == 2:  # validate also checks the sweep grid, which train ignores
            assert cfg.sweep is not None, (note, result.output)
            one_error_line(result)
        else:
            assert result.exit_code == 0, (note, result.output)
    else:
        result, _ = invoke("train", path, "--out", out, "--quiet", "--no-plots")
        line = one_error_line(result)
        assert str(path) in line or path.name in line, (note, line)
        assert not out.exists() or not any(out.iterdir()), (note, "bad input left a run directory")


@settings(max_examples=400, **SETTINGS)
@given(mutation=mutated_configs())
def test_mutated_configs_give_one_error_line_or_train(mutation):
    raw, done = mutation
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        path = write_config(tmp, raw)
        check_cli_agrees(path, tmp / "runs", done)


@settings(max_examples=300, **SETTINGS)
@given(content=st.one_of(st.binary(max_size=200), st.text(max_size=200).map(lambda s: s.encode("utf-8")),
                         st.lists(st.sampled_from(["data:", "model:", " name:", "  - ", "[", "]", "{", "}", ": ",
                                                   "\n", "\t", "&a ", "*a", "!!", "---", "'", '"', "#", "xor", "1e9",
                                                   "layers", "|", ">", "%YAML 1.1", "\xff", ",", "?"]),
                                  max_size=30).map(lambda parts: "".join(parts).encode("utf-8", "surrogateescape"))))
def test_garbage_files_give_one_error_line(content):
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        path = tmp / "config.yaml"
        path.write_bytes(content)
        check_cli_agrees(path, tmp / "runs", content)
