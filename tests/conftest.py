"""Shared fixture: run a test with every floating-point problem turned into an error."""

import warnings

import numpy as np
import pytest


@pytest.fixture
def strict_numpy():
    """Overflow, division by zero and invalid operations raise; so does any warning.

    Underflow stays ignored (NumPy's default): e^-|z| flushing to 0 for |z| = 1e4 is the exact-enough,
    intended result of the stable formulas, not a problem.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
            yield
