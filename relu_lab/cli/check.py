"""relu-lab check: each config's claim measured over seeds and judged, with a bar per setting."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ..console import SweepProgress, print_wide
from .base import (
    EXIT_INTERRUPTED,
    EXIT_RUN_FAILED,
    DebugOpt,
    OutOpt,
    QuietOpt,
    app,
    complain,
    console,
    interruptible,
    notes_to_stderr,
    say,
    user_errors,
)


@app.command()
@interruptible
def check(
    configs: Annotated[Optional[list[str]], typer.Argument(
        help="Configs with a 'claim:' block, or folders of them \\[default: configs/claims].",
        show_default=False)] = None,
    seeds: Annotated[Optional[int], typer.Option(
        "--seeds", help="Seeds per setting \\[default: each claim's own claim.seeds].", show_default=False,
        min=1)] = None,
    out: OutOpt = Path("runs"),
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Measure each config's claim over seeds and judge it: holds, fails or inconclusive.

    An inconclusive figure says about how many seeds would decide it. Exits 0 only when every claim holds.

    Example: relu-lab check configs/seed003_deep_xor_relu.yaml --seeds 16
    """
    from .. import claims
    from ..console import claims_table
    from ..rundir import new_run_dir

    notes_to_stderr()
    verdicts = []
    with user_errors(debug):
        found = claims.claim_configs(configs or ["configs/claims"])
        # every claim is planned (so valid) before any trains
        plans = [claims.plan_claim(cfg, seeds, source, Path(source).parent) for source, cfg in found]
        check_dir = new_run_dir(out, "check")
        bar = [SweepProgress(console, quiet)]  # one bar per setting trained
        for i, (source, cfg) in enumerate(found, 1):
            def on_setting(name, plan, i=i, cfg=cfg):
                bar[0].close()
                bar[0] = SweepProgress(console, quiet)
                bar[0].start(plan.member_epochs, f"claim {i}/{len(found)} {cfg.name}: setting {name}, "
                                                  f"{len(plan.seeds)} seeds")

            try:
                verdicts.append(claims.check(cfg, check_dir, seeds, source, Path(source).parent, on_setting,
                                             lambda k: bar[0].advance(k), plans[i - 1]))
            except KeyboardInterrupt:
                bar[0].close()
                claims.write_report(check_dir, verdicts)
                complain("interrupted", "yellow", f"the claims checked so far are in {check_dir}")
                raise typer.Exit(EXIT_INTERRUPTED) from None
            finally:
                bar[0].close()
        report = claims.write_report(check_dir, verdicts)
    if quiet:
        say(str(check_dir))
    else:
        print_wide(console, claims_table(verdicts))
        say(f"written: {report}")
    if any(v.verdict != claims.HOLDS for v in verdicts):
        raise typer.Exit(EXIT_RUN_FAILED)
