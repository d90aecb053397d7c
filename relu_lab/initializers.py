"""Weight initialisers: one registry of `init(rng, shape, scale) -> array`.

`shape` is `(fan_in, fan_out)`; `scale` multiplies the initialiser's natural
spread (for `uniform` it is the half-width: weights in [-scale, scale], as in
seeds 003 and 004; for `normal` the standard deviation).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Initializer:
    name: str
    draw: Callable[[np.random.Generator, tuple[int, int], float], np.ndarray]
    formula: str

    def __repr__(self) -> str:
        return f"Initializer({self.name}: {self.formula})"


def uniform(rng, shape, scale):
    return rng.uniform(-scale, scale, size=shape)


def normal(rng, shape, scale):
    return rng.normal(0.0, scale, size=shape)


def glorot(rng, shape, scale):
    fan_in, fan_out = shape
    limit = scale * np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=shape)


def he(rng, shape, scale):
    fan_in, _ = shape
    return rng.normal(0.0, scale * np.sqrt(2.0 / fan_in), size=shape)


def lecun(rng, shape, scale):
    fan_in, _ = shape
    return rng.normal(0.0, scale / np.sqrt(fan_in), size=shape)


def zeros(rng, shape, scale):
    return np.zeros(shape)


INITIALIZERS: dict[str, Initializer] = {
    i.name: i
    for i in [
        Initializer("uniform", uniform, "U[-scale, scale]"),
        Initializer("normal", normal, "N(0, scale^2)"),
        Initializer("glorot", glorot, "U[-l, l], l = scale*sqrt(6/(fan_in + fan_out))"),
        Initializer("he", he, "N(0, scale^2 * 2/fan_in)"),
        Initializer("lecun", lecun, "N(0, scale^2/fan_in) (the one SELU's self-normalisation assumes)"),
        Initializer("zeros", zeros, "0 (every unit equal: symmetry is never broken)"),
    ]
}
