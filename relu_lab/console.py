"""What the terminal shows: live rich progress, or plain periodic lines when not interactive."""

from __future__ import annotations

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from .diagnostics import is_diagnostic
from .trainer import LogRow

PLAIN_LINES = 10  # lines printed over a run when the output is not a terminal


def figure(x: float) -> str:
    return f"{x:.4g}"


class TrainProgress:
    """Progress of one run over its epochs; a rich bar in a terminal, else about ten plain lines."""

    def __init__(self, console: Console, quiet: bool = False):
        self.console, self.quiet = console, quiet
        self.total = 0
        self.progress: Progress | None = None
        self._next_line = 0

    def start(self, total: int, label: str, name: str = "train") -> None:
        self.total = total
        if self.quiet:
            return
        self.console.print(f"training {label} for {total} epochs", markup=False, highlight=False, soft_wrap=True)
        if self.console.is_interactive:
            self.progress = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(bar_width=24),
                MofNCompleteColumn(),
                TextColumn("{task.fields[figures]}"),
                TimeRemainingColumn(),
                console=self.console,
            )
            self.progress.start()
            self.task = self.progress.add_task(escape(name[:20]), total=total, figures="")

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None

    def update(self, row: LogRow) -> None:
        main = {k: v[0] for k, v in row.metrics.items() if not is_diagnostic(k)}
        if self.progress is not None:  # the bar has room for the training figures only
            short = "  ".join(f"{k.replace('accuracy', 'acc')} {v:.3g}" for k, v in main.items()
                              if not k.startswith("test"))
            self.progress.update(self.task, completed=row.epoch, figures=short)
        elif not self.quiet and (row.epoch >= self._next_line or row.epoch == self.total):
            figures = "  ".join(f"{k} {figure(v)}" for k, v in main.items())
            self.console.print(f"epoch {row.epoch}/{self.total}  {figures}", highlight=False, soft_wrap=True)
            self._next_line = row.epoch + max(1, self.total // PLAIN_LINES)


def summary_table(summary: dict) -> Table:
    table = Table(title=f"relu-lab train: {summary['name']}", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    status = summary["status"]
    if summary.get("diverged_epoch") is not None:
        status += f" at epoch {summary['diverged_epoch']}"
    style = {"completed": "green", "diverged": "red", "interrupted": "yellow"}[summary["status"]]
    table.add_row("status", f"[{style}]{status}[/]")
    table.add_row("epochs", f"{summary['epochs_done']} of {summary['epochs']} ({summary['steps']} steps)")
    for key, value in summary["final"].items():
        table.add_row(key, figure(value))
    if summary.get("success"):
        s = summary["success"]
        verdict = "[green]yes[/]" if s["met"] else "[red]no[/]"
        when = f" (first at epoch {s['first_epoch']})" if s["first_epoch"] is not None else ""
        table.add_row("success", f"{verdict}: {s['criterion']}{when}")
    table.add_row("time", f"{summary['seconds']:.2f} s")
    for warning in summary.get("warnings", []):
        table.add_row("[yellow]warning[/]", escape(warning))
    return table


class SweepProgress:
    """One bar for a whole sweep, in member-epochs; plain periodic lines when not interactive."""

    def __init__(self, console: Console, quiet: bool = False):
        self.console, self.quiet = console, quiet
        self.progress: Progress | None = None
        self.done = self.total = 0
        self._next_line = 0

    def start(self, total: int, label: str) -> None:
        self.total = total
        if self.quiet:
            return
        self.console.print(f"{label}: {total} member-epochs", markup=False, highlight=False, soft_wrap=True)
        if self.console.is_interactive:
            self.progress = Progress(
                BarColumn(bar_width=32), TextColumn("{task.percentage:>3.0f}% of the member-epochs"),
                TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(), console=self.console,
            )
            self.progress.start()
            self.task = self.progress.add_task("", total=total)

    def advance(self, member_epochs: int) -> None:
        if member_epochs <= 0:
            return
        self.done += member_epochs
        if self.progress is not None:
            self.progress.update(self.task, completed=self.done)
        elif not self.quiet and (self.done >= self._next_line or self.done >= self.total):
            self.console.print(f"{100 * self.done / max(self.total, 1):.0f}% ({self.done}/{self.total} member-epochs)",
                               highlight=False)
            self._next_line = self.done + max(1, self.total // PLAIN_LINES)

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None


def sweep_table(title: str, keys: list[str], summary: list[dict], best: int | None) -> Table:
    """The per-grid-point summary, the best setting marked with a star; compact enough for 80 columns."""
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False, caption_justify="left")
    for key in keys:
        table.add_column(key.rsplit(".", 1)[-1], no_wrap=True)  # model.hidden -> hidden
    has_success = bool(summary) and "success_rate" in summary[0]
    if has_success:
        table.add_column("success [95% CI]", justify="right", no_wrap=True)
    table.add_column("cost median [IQR]", justify="right", no_wrap=True)
    # the score and, when success is judged on another figure (test_accuracy ...), that one too
    scores = [k for k in (summary[0] if summary else {}) if k.endswith("_median") and not k.startswith("cost")
              and k != "median_success_epoch"]
    for score in scores:
        table.add_column(score.replace("_median", "").replace("accuracy", "acc."), justify="right")
    table.add_column("div.", justify="right")
    table.add_column("n", justify="right")
    for i, s in enumerate(summary):
        cells = [escape(str(s[k])) if not isinstance(s[k], float) else figure(s[k]) for k in keys]
        if has_success:
            rate, lo, hi = (100 * s[k] for k in ("success_rate", "success_low", "success_high"))
            cells.append(f"{rate:.0f}% [{lo:.0f}-{hi:.0f}]")
        cells.append(f"{s['cost_median']:.3g} [{s['cost_q1']:.2g}, {s['cost_q3']:.2g}]")
        cells += [f"{s[score]:.3g}" if s[score] is not None else "-" for score in scores]
        cells += [str(s["diverged"]), str(s["members"])]
        if i == best:
            cells[0] = f"[bold green]* {cells[0]}[/]"
        table.add_row(*cells)
    table.caption = "* best setting: highest success rate, then lowest median cost" if best is not None else None
    return table
