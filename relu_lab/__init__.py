"""relu-lab: a command-line laboratory for activation functions in small MLPs.

From Python: relu_lab.train, sweep, compare and check (see relu_lab/api.py); they are imported
on first use, so that `import relu_lab` stays light.
"""

__version__ = "0.1.0"
__all__ = ["train", "sweep", "compare", "check", "__version__"]


def __getattr__(name: str):
    if name in ("train", "sweep", "compare", "check"):
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'relu_lab' has no attribute {name!r}")
