"""fit() from a list of resolved configs, and with the rows it logged (the trainer keeps none)."""

from __future__ import annotations

from relu_lab.resolved import Experiment, Trainee, trainee
from relu_lab.trainer import LogRow, TrainResult, fit


def ensemble(configs, data) -> tuple[Experiment, list[Trainee]]:
    """The experiment the first config makes on `data`, and a member per config (the configs differ only in
    seed and learning rates, as the members of one ensemble do)."""
    return Experiment(configs[0], data), [trainee(c) for c in configs]


def fit_configs(configs, data, **kwargs) -> TrainResult:
    return fit(*ensemble(configs, data), **kwargs)


def logged(configs, data, callback=None, **kwargs) -> tuple[TrainResult, list[LogRow]]:
    rows: list[LogRow] = []

    def keep(row: LogRow) -> None:
        rows.append(row)
        if callback is not None:
            callback(row)

    return fit_configs(configs, data, callback=keep, **kwargs), rows
