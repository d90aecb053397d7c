"""relu-lab: a command-line laboratory for activation functions in small MLPs."""

__version__ = "0.1.0"
