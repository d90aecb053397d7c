"""relu-lab runs [DIR] | runs show RUN | runs diff RUN_A RUN_B: the runs already on disk."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from typer.core import TyperGroup

from .. import runs
from ..console import print_wide
from .base import DebugOpt, app, console, user_errors


class _ListByDefault(TyperGroup):
    """A group whose first word, when it is no command, starts `list`: `runs DIR --kind sweep` lists."""

    def collect_usage_pieces(self, ctx) -> list[str]:
        return ["[DIR] [--name TEXT] [--kind KIND] | COMMAND [ARGS]..."]

    def parse_args(self, ctx, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ctx.help_option_names):
            args = ["list", *args]
        return super().parse_args(ctx, args)


runs_app = typer.Typer(
    cls=_ListByDefault,
    help="List past runs, newest first (the default), show one run, or compare two.\n\n"
         "Examples: relu-lab runs --kind sweep  |  relu-lab runs show runs/20261123-120000-xor_relu  |  "
         "relu-lab runs diff RUN_A RUN_B",
    add_completion=False,
    pretty_exceptions_enable=False,
)

RunArg = Annotated[Path, typer.Argument(metavar="RUN", help="A run directory, e.g. runs/20261123-120000-xor_relu.",
                                        show_default=False)]


@runs_app.command("list")
def list_command(
    root: Annotated[Path, typer.Argument(
        metavar="[DIR]", help="The folder of run directories (what train, sweep and compare got as --out).")] = Path(
        "runs"),
    name: Annotated[Optional[str], typer.Option(
        "--name", "-n", help="Only runs whose name contains this text (any case).", show_default=False)] = None,
    kind: Annotated[Optional[str], typer.Option(
        "--kind", "-k", help="Only runs of one kind: train, sweep, compare (or unreadable).",
        show_default=False)] = None,
    debug: DebugOpt = False,
) -> None:
    """List the runs in DIR, newest first (also: relu-lab runs [DIR]).

    Example: relu-lab runs runs --kind sweep --name xor
    """
    with user_errors(debug):
        infos = runs.list_runs(root, name, kind)
    filters = " ".join(f"--{opt} {value}" for opt, value in (("name", name), ("kind", kind)) if value is not None)
    empty = f"no runs in {root}" + (f" match {filters}" if filters else "")
    title = f"{root}: {len(infos)} run{'s' if len(infos) != 1 else ''}"
    print_wide(console, runs.runs_table(infos, title=title, empty=empty))


@runs_app.command("show")
def show_command(run: RunArg, debug: DebugOpt = False) -> None:
    """Show one run: status, config essentials, results, warnings and files.

    Example: relu-lab runs show runs/20261123-120000-xor_relu
    """
    with user_errors(debug):
        print_wide(console, runs.show_run(run))


@runs_app.command("diff")
def diff_command(
    run_a: Annotated[Path, typer.Argument(metavar="RUN_A", help="The first run directory.", show_default=False)],
    run_b: Annotated[Path, typer.Argument(metavar="RUN_B", help="The run directory to compare it with.",
                                          show_default=False)],
    debug: DebugOpt = False,
) -> None:
    """Compare two runs: the config keys that differ (key: A -> B), then their results side by side.

    Example: relu-lab runs diff runs/20261123-120000-xor_relu runs/20261123-121500-xor_relu
    """
    with user_errors(debug):
        print_wide(console, runs.diff_runs(run_a, run_b))


app.add_typer(runs_app, name="runs")
