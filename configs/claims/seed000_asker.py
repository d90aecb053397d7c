"""Seed 000's leaky ReLU as the asker wrote it, for configs/claims/seed000_leaky_xor.yaml.

The asker's derivative compared z with epsilon (not 0) and returned ONE value for the whole array
(their EDIT: "it only returns a single float value, and not a NumPy array"). Here that value
fills the array, so relu-lab can train with it: 1 for every unit when the first pre-activation
exceeds epsilon, epsilon for every unit otherwise.
"""

import numpy as np

EPSILON = 0.1


def leaky(z):
    return np.maximum(EPSILON * z, z)


def asker_dleaky(z):
    z = np.asarray(z, dtype=float)
    first = z.flat[0] if z.size else 0.0
    return np.full_like(z, 1.0 if first > EPSILON else EPSILON)
