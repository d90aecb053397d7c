"""A user's own activation, as a config would name it: 'tests.custom_act:swish' with 'tests.custom_act:dswish'.

Written independently of relu_lab on purpose. `dswish_wrong` is a deliberately wrong derivative that the
finite-difference checker must reject.
"""

import numpy as np


def _sigmoid(z):
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def swish(z):
    return z * _sigmoid(z)


def dswish(z):
    s = _sigmoid(z)
    return s + z * s * (1.0 - s)


def dswish_wrong(z):
    return _sigmoid(z)  # forgets the z * s * (1 - s) term
