"""relu-lab check: each config's claim measured over seeds and judged, with a bar per setting."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape

from ..console import SweepProgress, print_wide
from ..errors import UserError
from .base import (
    EXIT_INTERRUPTED,
    EXIT_RUN_FAILED,
    DebugOpt,
    EngineOpt,
    NameOpt,
    OutOpt,
    QuietOpt,
    SetOpt,
    app,
    checked_name,
    complain,
    console,
    interruptible,
    notes_to_stderr,
    overrides,
    say,
    user_errors,
)


@app.command()
@interruptible
def check(
    configs: Annotated[Optional[list[str]], typer.Argument(
        help="Configs with a 'claim:' block, or folders of them \\[default: configs/claims].",
        show_default=False)] = None,
    seeds: Annotated[Optional[str], typer.Option(
        "--seeds", help="Seeds per setting, a count N (seeds 0..N-1) \\[default: each claim's own claim.seeds].",
        show_default=False)] = None,
    set_: SetOpt = None,
    engine: EngineOpt = None,
    out: OutOpt = Path("runs"),
    quiet: QuietOpt = False,
    name: NameOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Measure each config's claim over seeds and judge it: holds, fails or inconclusive.

    An inconclusive figure says about how many seeds would decide it. Exits 0 only when every claim holds.
    Ctrl-C exits 130: the claims judged so far are kept, the others named as not judged.

    --set and --engine apply to every claim's config before its settings do.

    Example: relu-lab check configs/claims/seed003_deep_xor.yaml --seeds 16
    """
    from .. import claims
    from ..rundir import new_run_dir

    notes_to_stderr()
    verdicts = []
    with user_errors(debug):
        count = _seed_count(seeds)
        found = claims.claim_configs(configs or ["configs/claims"], overrides(set_, engine))
        # every claim is planned (so valid) before any trains
        plans = [claims.plan_claim(cfg, count, source, Path(source).parent) for source, cfg in found]
        check_dir = new_run_dir(out, "check-" + (checked_name(name) if name is not None else _claims_name(found)))
        bar = [SweepProgress(console, quiet)]  # one bar per setting trained
        for i, (source, cfg) in enumerate(found, 1):
            def on_setting(name, plan, i=i, cfg=cfg):
                bar[0].close()
                bar[0] = SweepProgress(console, quiet)
                bar[0].start(plan.member_epochs, f"claim {i}/{len(found)} {cfg.name}: setting {name}, "
                                                  f"{len(plan.seeds)} seeds")

            try:
                verdicts.append(claims.check(cfg, check_dir, count, source, Path(source).parent, on_setting,
                                             lambda k: bar[0].advance(k), plans[i - 1]))
            except KeyboardInterrupt as stop:  # the claims judged so far are kept; this one and the rest are not
                bar[0].close()
                if not isinstance(stop, claims.CheckInterrupted):  # as the claim began, before a setting trained
                    stop = claims.CheckInterrupted(cfg.name, "", {})
                not_judged = [c.name for _, c in found[i - 1:]]
                report = claims.write_report(check_dir, verdicts, not_judged, interrupted=stop)
                _show(verdicts, not_judged, "interrupted", check_dir, report, quiet)
                complain("interrupted", "yellow", f"claim {cfg.name} {stop.during(stop.setting)}; {len(verdicts)} of "
                         f"{len(found)} claims judged, not judged: {', '.join(not_judged)}; what was done is in "
                         f"{check_dir}")
                raise typer.Exit(EXIT_INTERRUPTED) from None
            except UserError as err:  # the verdicts already reached are kept, and the claim that failed named
                bar[0].close()
                message = f"{source}: {err}"
                claims.write_report(check_dir, verdicts, [c.name for _, c in found[i - 1:]], error=message)
                raise UserError(f"{message} (the claims judged before it are in {check_dir})") from None
            finally:
                bar[0].close()
        report = claims.write_report(check_dir, verdicts)
    _show(verdicts, [], "completed", check_dir, report, quiet)
    if any(v.verdict != claims.HOLDS for v in verdicts):
        raise typer.Exit(EXIT_RUN_FAILED)


def _show(verdicts, not_judged: list[str], status: str, check_dir: Path, report: Path, quiet: bool) -> None:
    """The table of the claims judged (and a row for each claim not judged), or only the directory with --quiet."""
    from ..console import claims_table

    if quiet:
        say(str(check_dir))
        return
    table = claims_table(verdicts)
    for name in not_judged:
        table.add_row(f"[bold]{escape(name)}[/]: [yellow]not judged[/]", "", "", f"[yellow]{status}[/]")
    if not_judged:
        table.caption = f"{status}: {len(verdicts)} of {len(verdicts) + len(not_judged)} claims judged"
    print_wide(console, table)
    say(f"written: {report}")


def _claims_name(found) -> str:
    """A check directory's name from its claims: the claim's name, or the first one's and how many more."""
    names = [cfg.name for _, cfg in found]
    return names[0] if len(names) == 1 else f"{names[0]}+{len(names) - 1}-more"


def _seed_count(text: str | None) -> int | None:
    """--seeds as a count of seeds per setting (a claim's settings run seeds 0..N-1); raises UserError."""
    if text is None:
        return None
    try:
        count = int(text)
    except ValueError:
        count = 0
    if count < 1:
        raise UserError(f"--seeds: a count of seeds per setting, at least 1 (got {text!r}); a claim runs seeds "
                        "0..N-1 for every setting")
    return count
