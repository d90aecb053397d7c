"""fit() with the rows it logged: the trainer hands each row to its callback and keeps none."""

from __future__ import annotations

from relu_lab.trainer import LogRow, TrainResult, fit


def logged(configs, data, callback=None, **kwargs) -> tuple[TrainResult, list[LogRow]]:
    rows: list[LogRow] = []

    def keep(row: LogRow) -> None:
        rows.append(row)
        if callback is not None:
            callback(row)

    return fit(configs, data, keep, **kwargs), rows
