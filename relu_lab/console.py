"""What the terminal shows: live rich progress, or plain periodic lines when not interactive."""

from __future__ import annotations

import io
import json
import os
import sys

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.measure import Measurement
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from .diagnostics import is_diagnostic
from .runfiles import rule_text, varies_loss
from .trainer import LogRow

PLAIN_LINES = 10  # lines printed over a run when the output is not a terminal


class Survivable(io.TextIOBase):
    """sys.stdout or sys.stderr (looked up at each write, so a test's capture is seen) for the consoles:
    when the reader has gone (`| head -1`: a closed pipe), the stream was closed (`>&-`) or the device
    is full, what is printed is dropped and the run goes on; nothing a run writes to its directory
    depends on its output being read.

    While rich draws a live display it puts a FileProxy in sys.stdout and sys.stderr that prints
    through the display's console. That console writes to the file behind the proxy (writing into
    the proxy would loop back into itself forever); the stderr console writes through the proxy
    when stderr is a terminal (its lines then appear above the bar, not across it) and to the file
    behind it otherwise (`2> log` keeps what it was sent).
    """

    def __init__(self, name: str):
        self.name, self.lost = name, False

    @property
    def stream(self):
        stream = getattr(sys, self.name)
        behind = getattr(stream, "rich_proxied_file", None)
        if behind is None:
            return stream
        if self.name == "stderr" and _is_tty(behind):
            return stream
        return behind

    def write(self, text: str) -> int:
        if not self.lost:
            try:
                self.stream.write(text)
            except (OSError, ValueError, AttributeError):  # AttributeError: no stream at all (`>&-`)
                self._lose()
        return len(text)

    def flush(self) -> None:
        if not self.lost:
            try:
                self.stream.flush()
            except (OSError, ValueError, AttributeError):
                self._lose()

    def _lose(self) -> None:
        """From now on print nothing; point the descriptor at /dev/null so the exit's flush is quiet too."""
        self.lost = True
        try:
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, self.stream.fileno())
            os.close(null)
        except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
            pass

    def isatty(self) -> bool:
        return not self.lost and _is_tty(self.stream)

    def fileno(self) -> int:
        return self.stream.fileno()

    @property
    def encoding(self) -> str:
        return getattr(self.stream, "encoding", None) or "utf-8"


def _is_tty(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (OSError, ValueError, AttributeError):
        return False


def figure(x: float) -> str:
    return f"{x:.4g}"


def grid_cell(key: str, value) -> str:
    """A grid value as the tables show it, typed (a live sweep) or as summary.csv holds it (runs show): a
    number to 4 figures, an optimizer as 'adam(beta1=0.8)', anything else as written."""
    if isinstance(value, str):
        try:
            value = json.loads(value)  # '0.0031622776601683794', '{"name": "adam", ...}'
        except ValueError:
            return value
    if key.endswith("optimizer"):
        return rule_text(value)
    if isinstance(value, float):
        return figure(value)
    return value if isinstance(value, str) else json.dumps(value)


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
    if summary.get("optimizer") not in (None, "sgd"):
        table.add_row("optimizer", escape(summary["optimizer"]))
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


BEST_NOTE = "* best setting: highest success rate, then lowest median cost"
BEST_NOTE_LOSSES = "* best setting: highest success rate, then highest median score (the losses' costs do not compare)"
DEAD_COLUMNS = 3  # layers whose dead share the sweep table shows each; beyond, the largest share


def _sweep_cells(keys: list[str], summary: list[dict]) -> tuple[list[str], list[list[str]]]:
    """The sweep table's headers and its rows of plain-text cells (one row per grid point)."""
    headers = [key.rsplit(".", 1)[-1] for key in keys]  # model.hidden -> hidden
    has_success = bool(summary) and "success_rate" in summary[0]
    if has_success:
        headers.append("success [95% CI]")
    headers.append("cost median [IQR]")
    # the score and, when success is judged on another figure (test_accuracy ...), that one too
    scores = [k for k in (summary[0] if summary else {}) if k.endswith("_median") and not k.startswith("cost")
              and k not in ("median_success_epoch", "grad_ratio_median", "grad_peak_ratio_median")]
    headers += [score.replace("_median", "").replace("accuracy", "acc.") for score in scores]
    headers += ["div.", "n"]
    # what went on inside: the dead share of each layer (up to 3; beyond, the largest and its layer)
    # and the gradient ratio from the first weight layer to the last
    dead = [k for k in (summary[0] if summary else {}) if k.startswith("dead_L") and k.endswith("_mean")]
    layer = {k: k[len("dead_L"):-len("_mean")] for k in dead}
    headers += [f"dead L{layer[k]}" for k in dead] if len(dead) <= DEAD_COLUMNS else ["dead, most"] if dead else []
    # the gradient layer 1 gets against the last: of the largest each got over the run (a stalled net's end
    # gradients are all tiny alike), else at the end (a sweep written before the peaks were kept)
    ratio = next((k for k in ("grad_peak_ratio_median", "grad_ratio_median") if summary and k in summary[0]), None)
    if ratio:
        headers.append("grad L1/out" + (" (peaks)" if ratio == "grad_peak_ratio_median" else " (end)"))
    rows = []
    for s in summary:
        cells = [grid_cell(k, s[k]) for k in keys]
        if has_success:
            rate, lo, hi = (100 * s[k] for k in ("success_rate", "success_low", "success_high"))
            cells.append(f"{rate:.0f}% [{lo:.0f}-{hi:.0f}]")
        cells.append(f"{s['cost_median']:.3g} [{s['cost_q1']:.2g}, {s['cost_q3']:.2g}]")
        cells += [f"{s[score]:.3g}" if s[score] is not None else "-" for score in scores]
        cells += [str(s["diverged"]), str(s["members"])]
        shares = {k: s[k] for k in dead if s[k] is not None}
        if len(dead) <= DEAD_COLUMNS:
            cells += [f"{100 * s[k]:.0f}%" if s[k] is not None else "-" for k in dead]
        elif dead:
            most = max(shares, key=shares.get) if shares else None
            cells.append("-" if most is None else "0%" if shares[most] == 0 else
                         f"{100 * shares[most]:.0f}% (L{layer[most]})")
        if ratio:
            cells.append(f"{s[ratio]:.1e}" if s[ratio] is not None else "-")
        rows.append(cells)
    return headers, rows


def sweep_table(title: str, keys: list[str], summary: list[dict], best: int | None) -> Fitted:
    """The per-grid-point summary, the best setting marked with a star (a line per point when narrow)."""
    headers, rows = _sweep_cells(keys, summary)
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False, caption_justify="left")
    for i, header in enumerate(headers):
        table.add_column(header, no_wrap=True, justify="left" if i < len(keys) else "right")
    for i, cells in enumerate(rows):
        cells = [escape(c) for c in cells]
        if i == best:
            cells[0] = f"[bold green]* {cells[0]}[/]"
        table.add_row(*cells)
    note = BEST_NOTE_LOSSES if varies_loss(keys) else BEST_NOTE
    table.caption = note if best is not None else None
    lines = [Text(title, style="italic")]
    for i, cells in enumerate(rows):  # narrow: one line per grid point, 'header value' pairs
        lines.append(Text(("* " if i == best else "  ") + ", ".join(f"{h} {c}" for h, c in zip(headers, cells))))
    if best is not None:
        lines.append(Text(note, style="dim"))
    return Fitted(table, lines)


class Fitted:
    """A table that keeps every cell whole: given the width it needs (every column that may not wrap whole,
    the others wrapped at their words), the table; given less (a narrow terminal), the same rows as lines
    that the terminal folds, nothing cut to an ellipsis."""

    def __init__(self, table: Table, lines: list[Text]):
        self.table, self.lines = table, lines

    def __rich_measure__(self, console: Console, options) -> Measurement:
        return Measurement.get(console, options, self.table)

    def needed(self, console: Console, options) -> int:
        """The width at which no cell is cut: a column that may not wrap at its widest cell, one that may at
        its longest word, plus the table's padding and edges."""
        wide = options.update_width(10_000)
        least = widest = 0
        for column in self.table.columns:
            sizes = [Measurement.get(console, wide, cell) for cell in [column.header, *column.cells]]
            least += max((m.maximum if column.no_wrap else m.minimum) for m in sizes)
            widest += max(m.maximum for m in sizes)
        chrome = Measurement.get(console, wide, self.table).maximum - widest  # padding and edges
        return least + max(chrome, 0)

    def __rich_console__(self, console: Console, options):
        if self.needed(console, options) <= options.max_width:
            yield self.table
        else:
            yield from self.lines


def natural_width(console: Console, renderable) -> int:
    return Measurement.get(console, console.options.update_width(10_000), renderable).maximum


def print_wide(console: Console, renderable) -> None:
    """Print `renderable`; a pipe or file gets it at its natural width, since nothing wraps there
    (rich would otherwise fold or cut it to COLUMNS, 80 by default)."""
    width = natural_width(console, renderable)
    if console.is_terminal or width <= console.width:
        console.print(renderable, highlight=False)
    else:
        Console(file=console.file, width=width, color_system=None, highlight=False).print(renderable)


def print_sweep(console: Console, title: str, keys: list[str], summary: list[dict], best: int | None) -> None:
    """The sweep table with every column, whatever the width (see Fitted)."""
    print_wide(console, sweep_table(title, keys, summary, best))


def sweep_footer(report) -> str:
    """'192 members, 3,840,000 member-steps in 5.5 s (700,000/s)'; a resumed or unfinished sweep says so.

    The steps and the time are this session's, an interrupted chunk's steps included: a resumed sweep's
    earlier work is counted in members only.
    """
    total, done = len(report.plan.members), len(report.rows)
    members = f"{total} members" if done == total else f"{done} of {total} members finished"
    if report.members_before:
        members += f" ({report.members_before} before this resume)"
    rate = f" ({report.member_steps / report.seconds:,.0f}/s)" if report.seconds > 0 else ""
    if report.resumed:
        return f"{members}; this session trained {report.member_steps:,} member-steps in {report.seconds:.1f} s{rate}"
    return f"{members}, {report.member_steps:,} member-steps trained in {report.seconds:.1f} s{rate}"



VERDICT_STYLE = {"holds": "green", "fails": "red", "inconclusive": "yellow"}


def claims_table(verdicts) -> Table:
    """Every claim checked: each expectation, its figure with the 95 % interval, and the verdicts."""
    table = Table(title="relu-lab check", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for name in ("claim", "expectation", "measured [95% interval]", "verdict"):
        table.add_column(name, overflow="fold")
    for v in verdicts:
        for i, m in enumerate(v.measured):
            style = VERDICT_STYLE[m.verdict]
            decide = f" (~{m.seeds_to_decide} seeds to decide)" if m.seeds_to_decide else ""
            claim = f"[bold]{escape(v.name)}[/]: [{VERDICT_STYLE[v.verdict]}]{v.verdict}[/]" if i == 0 else ""
            measured = escape(m.text()) + (f"\n[dim]{escape(m.note)}[/]" if m.note else "")
            table.add_row(claim, escape(m.expectation), measured, f"[{style}]{m.verdict}[/]{decide}")
    return table
