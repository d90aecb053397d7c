"""From a validated config to a fully resolved one plus its dataset.

Resolution fills every default that depends on the data (number of points,
noise, output activation, loss, logging interval) and checks what only the data
can tell: layer sizes against the dataset's dimensions, the loss against the task.
The resolved config is what a run saves: rerunning it reproduces the run.
"""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np

from .activations import check_activation, custom_activation, found_in
from .config import PHASE_FIELDS, Config
from .datasets import DATASETS, DataError, Dataset, read_csv, standardize
from .errors import UserError
from .loading import where
from .losses import LOSSES, output_fits
from .resolved import Experiment

DEFAULT_OUTPUT = {"binary": "sigmoid", "multiclass": "softmax", "regression": "linear"}
DEFAULT_LOSS = {"binary": "bce", "multiclass": "cross_entropy", "regression": "mse"}
LOG_ROWS = 200  # default number of logged rows per run, at most
# A log point evaluates (forward and backward, for the diagnostics) the whole training set: it costs
# about (1 + 0.7 n) / (1 + 0.7 B) training steps of batch B (measured on the 2-core machine: a step's
# fixed cost is worth about 1.4 samples). By default, log points are at least LOG_SPACING such costs
# apart, so that they take about 1 / (1 + LOG_SPACING) of the time (10 %).
LOG_SPACING = 9


def default_log_every(cfg: Config, n: int, rows: int = LOG_ROWS, spacing: float = LOG_SPACING) -> int:
    """Epochs between logged rows when the config does not say: at most `rows` rows, and log points
    `spacing` times their own cost apart (so a minibatch run over many points logs every few epochs)."""
    by_rows = cfg.total_epochs() // rows
    B = min(min(p.batch_size or n, n) for p in cfg.phases())
    log_cost = (1 + 0.7 * n) / (1 + 0.7 * B)  # in training steps
    by_cost = math.ceil(spacing * log_cost / math.ceil(n / B))
    return max(1, by_rows, by_cost)


def make_dataset(cfg: Config, base_dir: Path | None = None) -> Dataset:
    """The training (and test) set that `cfg.data` describes, from its own data seed."""
    d = cfg.data
    spec = DATASETS[d.name]
    rng = np.random.default_rng(d.seed)
    if d.name == "csv":
        X, Y, task = read_csv(csv_path(cfg, base_dir), d.target, d.task)
        X_test = Y_test = None
    else:
        task = spec.task
        X, Y = spec.make(rng, d.n, d.noise)
        X_test, Y_test = spec.make(rng, d.test_n, d.noise) if d.test_n and not spec.fixed else (None, None)
    if d.task == "regression" and task != "regression":
        task = "regression"
    if d.normalize:
        X, X_test = standardize(X, X_test)
    return Dataset(d.name, task, X, Y, X_test, Y_test)


def _fail(cfg: Config, source: str, path: str, message: str) -> UserError:
    """A one-line error about key `path`, with the line of that key when the config came from a file."""
    return UserError(f"{where(cfg, source, path)}: {path}: {message}")


def csv_path(cfg: Config, base_dir: Path | None) -> Path:
    """A relative CSV path is taken from the working directory, else from the config's directory."""
    path = Path(cfg.data.path)
    if not path.is_absolute() and base_dir is not None and not path.exists():
        path = base_dir / path
    return path.resolve()


def resolve(cfg: Config, source: str = "config", base_dir: Path | None = None, members: int = 1,
            log_rows: int = LOG_ROWS, log_spacing: float = LOG_SPACING) -> Experiment:
    """The config with every data-dependent default filled in, and its dataset; raises UserError.
    `members`: how many members will train with it in one ensemble (in a sweep, its seeds times the
    learning rates that share its ensemble), for `engine: auto`. `log_rows`, `log_spacing`: the rule for
    a default `log_every` (default_log_every; a sweep logs fewer rows)."""
    spec = DATASETS[cfg.data.name]
    cfg = cfg.model_copy(deep=True)
    warnings: list[str] = []
    if spec.fixed and cfg.data.n not in (None, spec.n):
        raise _fail(cfg, source, "data.n", f"dataset '{spec.name}' is a fixed table of {spec.n} points")
    if spec.fixed and cfg.data.test_n:
        raise _fail(cfg, source, "data.test_n", f"dataset '{spec.name}' is a fixed table and has no test set")
    if cfg.data.name != "csv":
        cfg.data.n = cfg.data.n or spec.n
        cfg.data.noise = spec.noise if cfg.data.noise is None else cfg.data.noise
    try:
        data = make_dataset(cfg, base_dir)
    except DataError as err:  # name the config's key: the message's own ("data.target: ...") or data.path
        key, _, rest = str(err).partition(": ")
        if not key.startswith("data."):
            key, rest = ("data.path" if cfg.data.name == "csv" else "data"), str(err)
        raise _fail(cfg, source, key, rest) from None
    if cfg.data.name == "csv":  # the saved config must find the file from anywhere
        cfg.data.path = str(csv_path(cfg, base_dir))
    m = cfg.model
    if m.layers[0] != data.n_inputs:
        raise _fail(cfg, source, "model.layers", f"the input layer has {m.layers[0]} units but dataset "
                    f"'{data.name}' has {data.n_inputs} input feature(s); start the list with {data.n_inputs}")
    if m.layers[-1] != data.n_outputs:
        raise _fail(cfg, source, "model.layers", f"the output layer has {m.layers[-1]} units but dataset "
                    f"'{data.name}' has {data.n_outputs} output(s); end the list with {data.n_outputs}")
    if m.output is None:
        needs = LOSSES[cfg.loss.name].outputs if cfg.loss.name else None
        if needs:
            m.output = needs[0]
        elif cfg.loss.name and data.task == "multiclass":
            m.output = "linear"  # softmax pairs only with cross_entropy
        else:
            m.output = DEFAULT_OUTPUT[data.task]
    if cfg.loss.name is None:
        cfg.loss.name = _default_loss(m.output, data.task)
    loss = LOSSES[cfg.loss.name]
    output = m.builtin(m.output)
    if output is not None and not output_fits(loss, output):
        need = " or ".join(loss.outputs) if loss.outputs else "an elementwise activation (not softmax)"
        raise _fail(cfg, source, "model.output", f"'{m.output}' does not fit loss '{loss.name}', which needs {need}")
    if loss.outputs and data.task == "regression":
        raise _fail(cfg, source, "loss.name", f"'{loss.name}' is for classification; "
                        f"dataset '{data.name}' is a regression task (use mse or half_mse)")
    if loss.name == "bce" and data.task == "multiclass":
        raise _fail(cfg, source, "loss.name", f"bce is for one output; use cross_entropy for {data.n_outputs} classes")
    if loss.name == "cross_entropy" and data.n_outputs < 2:
        # softmax over one output is 1 whatever the input: the cost is 0 and nothing is learned
        raise _fail(cfg, source, "loss.name", f"cross_entropy with softmax needs one output column per class; dataset "
                    f"'{data.name}' has 1 (for two classes use bce, with a sigmoid output)")
    if cfg.data.name == "csv" and cfg.data.test_n:
        raise _fail(cfg, source, "data.test_n", "a csv dataset has no generator to draw test points from; "
                    "remove test_n (a test split of a csv file is not supported yet)")
    if cfg.success is not None and cfg.success.metric.startswith("test_") and data.X_test is None:
        raise _fail(cfg, source, "success.metric", f"'{cfg.success.metric}' needs a test set (set data.test_n)")
    if cfg.success is not None:
        wrong = "r2" if data.task != "regression" else "accuracy"
        if cfg.success.metric.endswith(wrong):
            raise _fail(cfg, source, "success.metric", f"'{cfg.success.metric}' is not measured on a "
                            f"{data.task} task")
    for name, custom in m.custom_activations.items():  # import and check them now, not in the middle of a run
        folder = custom.folder or base_dir
        if custom.folder and base_dir is not None and not Path(custom.folder).is_absolute():
            folder = Path(base_dir) / custom.folder  # a folder the user wrote is relative to the config
        try:
            warning = check_activation(custom_activation(custom.f, custom.df, folder))
        except ValueError as err:
            raise _fail(cfg, source, f"model.custom_activations.{name}", str(err)) from None
        # the saved config names the folder, so a rerun from its run directory finds the module too
        custom.folder = found_in(custom.f, folder) or found_in(custom.df, folder)
        if warning:
            warnings.append(f"custom activation '{name}': {warning}")
    _check_size(cfg, data, source)
    for rule in [cfg.train.optimizer, *(p.optimizer for p in cfg.train.phases if p.optimizer is not None)]:
        for key, value in rule.arguments().items():  # the saved config says every argument the rule ran with
            setattr(rule, key, value)
    m.activation_params = {
        name: m.params_of(name) for name in _used_activations(cfg) if m.builtin(name) and m.builtin(name).params
    }
    if cfg.log_every is None:
        cfg.log_every = default_log_every(cfg, len(data.X), log_rows, log_spacing)
    note, choice = _choose_engine(cfg, source, len(data.X), members)
    for field in PHASE_FIELDS:  # set at train: level (not to its default), but every phase (lr: the first) sets its own
        if cfg.unreached(field) and getattr(cfg.train, field) != type(cfg.train).model_fields[field].default:
            which = "the first phase sets its own lr" if field == "lr" else f"every phase sets its own {field}"
            warnings.append(f"train.{field} is not used: {which} (train.phases.N.{field})")
    if m.init == "zeros" and len(m.layers) > 2:
        warnings.append("init: zeros starts every hidden unit of a layer identical; they get identical "
                        "gradients and stay identical (seed 001), so each layer acts as one unit")
    return Experiment(cfg, data, tuple(warnings), note, choice)


# `engine: auto` takes the NumPy engine for short runs: the compiled one first spends about 0.65 s
# importing numba and loading its kernels (2-core machine, bench_engine.py's start-up line), which a
# run must win back.
AUTO_COMPILED_FROM = 1.0  # seconds of training the NumPy engine would take, from which auto compiles


def numpy_seconds(cfg: Config, n: int, members: int) -> float:
    """About how long the NumPy engine trains `members` members of `cfg` on n points (2-core machine):
    each step costs 14 us per layer for the ensemble, 0.25 us per layer and member, and 2.5 ns per
    weight, sample and member (a fit to the benchmarks' NumPy runs, within 2-3x)."""
    layers = cfg.model.layers
    L = len(layers) - 1
    weights = sum(layers[i] * layers[i + 1] for i in range(L))
    seconds = 0.0
    for phase in cfg.phases():
        steps = phase.epochs * math.ceil(n / min(phase.batch_size or n, n))
        seconds += steps * L * (14e-6 + 0.25e-6 * members) + phase.epochs * n * members * weights * 2.5e-9
    return seconds


def auto_engine(cfg: Config, n: int, members: int) -> tuple[str, str | None]:
    """The engine `auto` takes for `members` members of `cfg` on n points, and why when not compiled:
    NumPy for a config the compiled engine cannot run or a run too short to repay its start-up."""
    why = compiled_unsupported(cfg)
    if why:
        return "numpy", why
    estimate = numpy_seconds(cfg, n, members)
    if estimate < AUTO_COMPILED_FROM:
        return "numpy", (f"a short run (about {estimate:.2g} s of training), shorter than the compiled "
                         "engine's start-up")
    return "compiled", None


def _choose_engine(cfg: Config, source: str, n: int, members: int) -> tuple[str | None, str | None]:
    """Settle `engine: auto` on the engine that will run; returns why when it is not the compiled one, as
    (a note to say: a config it cannot run, a choice to record only: a short run)."""
    why = compiled_unsupported(cfg)
    if cfg.engine == "compiled" and why:
        raise _fail(cfg, source, "engine", f"the compiled engine cannot run this config: {why}; "
                    "use engine: numpy (or auto, which falls back to it)")
    if cfg.engine != "auto":
        return None, None
    cfg.engine, reason = auto_engine(cfg, n, members)
    if why:
        return f"using the NumPy engine: {why}", None
    return None, f"using the NumPy engine: {reason}" if reason else None


def compiled_unsupported(cfg: Config) -> str | None:
    """Why the compiled engine cannot run `cfg`, or None (it compiles every registered activation and loss)."""
    if importlib.util.find_spec("numba") is None:
        return "numba is not installed (pip install numba)"
    for name in _used_activations(cfg):
        if cfg.model.builtin(name) is None:
            return f"activation '{name}' is your own Python function, which only NumPy can run"
    return None


MAX_MEMBER_BYTES = 4 * 2**30  # one network's training arrays; beyond this relu-lab refuses the config


def training_bytes(cfg: Config, data: Dataset) -> int:
    """Bytes of arrays one member needs while training: its parameters and gradient (about 4
    copies of P floats, P counting a learned slope per unit) plus z, a and delta of every unit for
    the largest batch or the full-data evaluation (train and test), whichever is larger."""
    layers = cfg.model.layers
    P = sum(layers[i] * layers[i + 1] + 2 * layers[i + 1] for i in range(len(layers) - 1))
    n_eval = len(data.X) + (0 if data.X_test is None else len(data.X_test))
    batch = max(min(p.batch_size or len(data.X), len(data.X)) for p in cfg.phases())
    return 8 * (4 * P + 3 * sum(layers) * max(batch, n_eval))


def _check_size(cfg: Config, data: Dataset, source: str) -> None:
    """Refuse a network whose training arrays alone would need more than MAX_MEMBER_BYTES."""
    layers = cfg.model.layers
    params = sum(layers[i] * layers[i + 1] + layers[i + 1] for i in range(len(layers) - 1))
    n = len(data.X) + (0 if data.X_test is None else len(data.X_test))
    need = training_bytes(cfg, data)
    if need > MAX_MEMBER_BYTES:
        raise _fail(cfg, source, "model.layers", f"{layers} has {params:,} parameters and would need about "
                        f"{need / 2**30:.0f} GiB to train on {n} points; the limit is "
                        f"{MAX_MEMBER_BYTES / 2**30:.0f} GiB per network")


def _default_loss(output: str | None, task: str) -> str:
    if task == "regression":
        return "mse"
    if output is not None:
        for name, loss in LOSSES.items():
            if loss.outputs and output in loss.outputs:
                return name
        return "mse"
    return DEFAULT_LOSS[task]


def _used_activations(cfg: Config) -> list[str]:
    names = set(cfg.model.hidden_list()) | {cfg.model.output}
    for phase in cfg.train.phases:
        if phase.hidden is not None:
            names |= set(cfg.model.hidden_list(phase.hidden))
    return sorted(names)


def parameter_shapes(cfg: Config, phase: int | None = None) -> dict[str, tuple[int, ...]]:
    """One member's parameter arrays (named as Ensemble.state(), without the member axis) of the
    network `cfg` builds, with the hidden activations of `phase` (the last phase when None)."""
    layers = cfg.model.layers
    phases = cfg.phases()
    hidden = phases[-1 if phase is None else phase].hidden
    shapes: dict[str, tuple[int, ...]] = {}
    for l in range(len(layers) - 1):
        shapes[f"W{l}"] = (layers[l], layers[l + 1])
        shapes[f"b{l}"] = (1, layers[l + 1])
    for l, name in enumerate(cfg.model.hidden_list(hidden)):
        act = cfg.model.builtin(name)
        if act is not None and act.learned and l + 1 < len(layers):
            shapes[f"learned{l}"] = (1, layers[l + 1])
    return shapes


def layers_text(layers: list[int]) -> str:
    return "-".join(str(n) for n in layers)


def _state_layers(state: dict[str, np.ndarray]) -> str | None:
    """'2-8-1' for a state of weight arrays that chain, else None."""
    try:
        W = [state[f"W{l}"] for l in range(sum(1 for k in state if k.startswith("W")))]
        return layers_text([int(W[0].shape[-2])] + [int(w.shape[-1]) for w in W]) if W else None
    except (KeyError, IndexError, AttributeError):
        return None


def check_state_fits(cfg: Config, state: dict[str, np.ndarray], path: Path, phase: int | None = None,
                     members: int | None = None, config_name: str = "config.yaml") -> None:
    """Refuse parameter arrays (params.npz, one snapshot of snapshots.npz) that are not those of the
    network `cfg` builds: a config edited after the run, or a damaged file. `members`: the leading
    axis every array must have (None: the arrays have no member axis)."""
    want = parameter_shapes(cfg, phase)
    net = layers_text(cfg.model.layers)
    edited = f"was {config_name} edited after the run?"
    missing = [n for n in want if n not in state]
    extra = [n for n in state if n not in want and not n.startswith("learned")]
    if missing or extra:
        held = _state_layers(state)
        held = f"a {held} network" if held and held != net else ", ".join(sorted(state)) or "no arrays"
        raise UserError(f"{path}: does not fit {config_name}: it holds {held}, but {config_name} builds a "
                        f"{net} network (arrays {', '.join(want)}); {edited}")
    for name, shape in want.items():
        a = state[name]
        full = shape if members is None else (members, *shape)
        if isinstance(a, np.ndarray) and a.shape == full and a.dtype.kind != "f":
            raise UserError(f"{path}: {name} holds {a.dtype} values, expected floating-point parameters "
                            "(a damaged file?)")
        if not isinstance(a, np.ndarray) or a.shape != full:
            held = _state_layers(state)
            held = f"a {held} network" if held and held != net else f"{name} of shape {getattr(a, 'shape', '?')}"
            raise UserError(f"{path}: does not fit {config_name}: it holds {held}, but {config_name} builds a "
                            f"{net} network ({name} of shape {full}); {edited}")


def check_checkpoint_fits(cfg: Config, members: int, ckpt, path: Path, config_name: str = "config.yaml") -> None:
    """Refuse a checkpoint (trainer.Checkpoint of `members` members) whose parameters are not those of
    the network `cfg` builds, or whose position lies outside cfg's phases: the config was edited
    after the interrupt (or the file is damaged), and training on would fail or mean nothing."""
    phases = cfg.phases()
    again = f"was {config_name} edited after the interrupt? put it back as it was to resume"
    if not isinstance(ckpt.phase, int) or not 0 <= ckpt.phase < len(phases):
        raise UserError(f"{path}: the checkpoint was saved in phase {ckpt.phase}, but {config_name} has "
                        f"{len(phases)} phase(s); {again}")
    if not isinstance(ckpt.left, int) or not 0 <= ckpt.left <= phases[ckpt.phase].epochs:
        raise UserError(f"{path}: the checkpoint has {ckpt.left} epoch(s) left in phase {ckpt.phase}, but "
                        f"{config_name} gives that phase {phases[ckpt.phase].epochs}; {again}")
    want = sum(math.prod(s) for s in parameter_shapes(cfg, ckpt.phase).values())
    flat = ckpt.flat
    net = layers_text(cfg.model.layers)
    if not isinstance(flat, np.ndarray) or flat.ndim != 2 or flat.shape[0] != members:
        raise UserError(f"{path}: a damaged checkpoint: its parameters have shape {getattr(flat, 'shape', '?')}, "
                        f"expected {members} member(s) x {want} parameters")
    if flat.shape[1] != want:
        raise UserError(f"{path}: the checkpoint's parameters do not fit {config_name}: it holds "
                        f"{flat.shape[1]} per member, but {config_name} builds a {net} network of {want}; {again}")
