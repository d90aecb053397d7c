"""python -m relu_lab: the same as the relu-lab console script."""

from .entry import run

run()
