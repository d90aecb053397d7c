"""Update rules: one registry of optimizers, each a step written once.

A rule's `step(p, g, s1, s2, lr, c1, c2, **params) -> (p, s1, s2)` works elementwise on arrays of any
shape (the NumPy engine calls it on every member's parameters at once): p the parameters, g their
gradient (already clipped, with the L2 and L1 penalties added), s1 and s2 the rule's per-parameter
state (velocity, or first and second moments; a rule that keeps less leaves the others as they are),
lr the learning rate. c1 and c2 are what the rule's `per_step(t, **params)` makes of the step count t
(1 at the first step), once per member and step rather than once per parameter: Adam's bias
corrections. They are PyTorch's documented algorithms with its default arguments, so that a run can be
checked against torch.optim step for step:

    sgd        p -= lr g
    momentum   v = mu v + g;  p -= lr v                        (torch.optim.SGD, momentum, dampening 0)
    nesterov   v = mu v + g;  p -= lr (g + mu v)               (SGD with nesterov=True)
    adam       m, v moments; p -= lr m^ / (sqrt(v^) + eps)     (torch.optim.Adam: bias-corrected, eps outside)
    rmsprop    v = alpha v + (1 - alpha) g^2; p -= lr g / (sqrt(v) + eps)   (not centred)
    adagrad    s += g^2;  p -= lr g / (sqrt(s) + eps)          (torch.optim.Adagrad, lr_decay 0)
    adadelta   v = rho v + (1 - rho) g^2;  d = sqrt(u + eps) / sqrt(v + eps) g;  u = rho u + (1 - rho) d^2;
               p -= lr d                                        (torch.optim.Adadelta)

`OPTIMIZERS` is the only list of names, and `ARGUMENTS` of the arguments they take: config validation
(`train.optimizer`'s keys and their ranges), the compiled engine's dispatch, the README and the tests read
them. A new rule is a step function here and a line in each; nothing else changes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Argument:
    """What a rule's argument means, and the values a config may give it: low <= x < high (low < x when
    `open_low`)."""

    meaning: str
    low: float = 0.0
    high: float = 1.0
    open_low: bool = False


@dataclass(frozen=True)
class Optimizer:
    name: str
    step: Callable
    state: tuple[str, ...]  # names of the per-parameter state it keeps, in s1, s2 order
    formula: str
    params: dict[str, float] = field(default_factory=dict)
    per_step: Callable = None  # (t, **params) -> (c1, c2); None: no_factors
    refuses: Callable = None  # (**arguments) -> why these arguments make no sense for the rule, or None

    def factors(self):
        return self.per_step or no_factors


def no_factors(t, *args, **params):
    """c1, c2 of a rule that does not use the step count."""
    return 1.0, 1.0


def sgd(p, g, s1, s2, lr, c1, c2):
    return p - lr * g, s1, s2


def momentum(p, g, v, s2, lr, c1, c2, momentum=0.9):
    v = momentum * v + g
    return p - lr * v, v, s2


def nesterov(p, g, v, s2, lr, c1, c2, momentum=0.9):
    v = momentum * v + g
    return p - lr * (g + momentum * v), v, s2


def adam(p, g, m, v, lr, c1, c2, beta1=0.9, beta2=0.999, eps=1e-8):
    # c1, c2: the bias corrections 1 - beta1^t, 1 - beta2^t (adam_corrections)
    m = beta1 * m + (1.0 - beta1) * g
    v = beta2 * v + (1.0 - beta2) * g * g
    return p - lr * (m / c1) / (np.sqrt(v / c2) + eps), m, v


def adam_corrections(t, beta1=0.9, beta2=0.999, eps=1e-8):
    return 1.0 - beta1**t, 1.0 - beta2**t


def rmsprop(p, g, v, s2, lr, c1, c2, alpha=0.99, eps=1e-8):
    v = alpha * v + (1.0 - alpha) * g * g
    return p - lr * g / (np.sqrt(v) + eps), v, s2


def adagrad(p, g, s, s2, lr, c1, c2, eps=1e-10):
    s = s + g * g
    return p - lr * g / (np.sqrt(s) + eps), s, s2


def adadelta(p, g, v, u, lr, c1, c2, rho=0.9, eps=1e-6):
    v = rho * v + (1.0 - rho) * g * g
    d = np.sqrt(u + eps) / np.sqrt(v + eps) * g  # the step in the parameters' own units
    u = rho * u + (1.0 - rho) * d * d
    return p - lr * d, v, u


OPTIMIZERS: dict[str, Optimizer] = {
    o.name: o
    for o in [
        Optimizer("sgd", sgd, (), "p -= lr g"),
        Optimizer("momentum", momentum, ("velocity",), "v = momentum v + g; p -= lr v", {"momentum": 0.9}),
        Optimizer("nesterov", nesterov, ("velocity",), "v = momentum v + g; p -= lr (g + momentum v)",
                  {"momentum": 0.9}, refuses=lambda momentum: "needs momentum > 0 (with 0 it is plain sgd; "
                  "torch.optim.SGD refuses nesterov=True without momentum too)" if momentum == 0 else None),
        Optimizer("adam", adam, ("m", "v"), "bias-corrected moments; p -= lr m^ / (sqrt(v^) + eps)",
                  {"beta1": 0.9, "beta2": 0.999, "eps": 1e-8}, adam_corrections),
        Optimizer("rmsprop", rmsprop, ("square_avg",), "v = alpha v + (1 - alpha) g^2; p -= lr g / (sqrt(v) + eps)",
                  {"alpha": 0.99, "eps": 1e-8}),
        Optimizer("adagrad", adagrad, ("sum",), "s += g^2; p -= lr g / (sqrt(s) + eps)", {"eps": 1e-10}),
        Optimizer("adadelta", adadelta, ("square_avg", "acc_delta"), "v = rho v + (1 - rho) g^2; "
                  "d = sqrt(u + eps) / sqrt(v + eps) g; u = rho u + (1 - rho) d^2; p -= lr d",
                  {"rho": 0.9, "eps": 1e-6}),
    ]
}
ARGUMENTS: dict[str, Argument] = {
    "momentum": Argument("the velocity's decay"),
    "beta1": Argument("the first moment's decay"),
    "beta2": Argument("the second moment's decay"),
    "alpha": Argument("the squared gradient's decay"),
    "rho": Argument("the running averages' decay"),
    "eps": Argument("added to the denominator", open_low=True),
}
SLOTS = max(len(o.state) for o in OPTIMIZERS.values())  # per-parameter state arrays a member carries
for _rule in OPTIMIZERS.values():
    if set(_rule.params) - set(ARGUMENTS):
        raise ImportError(f"optimizer {_rule.name}: arguments {sorted(set(_rule.params) - set(ARGUMENTS))} are not in "
                          "ARGUMENTS")


def users(argument: str) -> list[str]:
    """The rules that take `argument`."""
    return [o.name for o in OPTIMIZERS.values() if argument in o.params]
