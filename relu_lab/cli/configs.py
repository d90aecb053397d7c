"""relu-lab validate and relu-lab schema: a config checked and shown without training."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from ..config import json_schema
from ..console import Survivable
from ..experiment import resolve
from ..loading import dump_config, load_config
from ..plan import grid_from, plan_sweep
from .base import EXIT_RUN_FAILED, ConfigArg, DebugOpt, LrOpt, ParamOpt, SeedsOpt, SetOpt, app, complain, user_errors


def print_out(lines: list[str], what: str) -> None:
    """`lines` on stdout, where what these commands print is their whole result: a stdout that cannot
    take it (a full device) is said in one line naming `what`, exit 1. A reader that went away
    (`| head -1`) or a closed stdout (`>&-`) is no failure: what is left is dropped."""
    stream = sys.stdout
    if stream is None:
        return
    try:
        stream.write("".join(line + "\n" for line in lines))
        stream.flush()
    except BrokenPipeError:
        Survivable("stdout")._lose()
    except OSError as err:
        Survivable("stdout")._lose()  # the exit's own flush of what is left goes nowhere, quietly
        complain("failed", "red", f"could not write {what} to stdout: {err.strerror or err}")
        raise typer.Exit(EXIT_RUN_FAILED) from None


@app.command()
def validate(
    config: ConfigArg,
    set_: SetOpt = None,
    lr: LrOpt = None,
    seeds: SeedsOpt = None,
    param: ParamOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Check a config (and its sweep grid) without training; print the fully resolved config.

    Example: relu-lab validate configs/xor_relu.yaml --set train.lr=0.5
    """
    with user_errors(debug):
        cfg = load_config(config, set_ or [])
        resolved, data = resolve(cfg, config, Path(config).parent)
        grid = None
        if cfg.sweep is not None or lr or seeds is not None or param:
            # a sweep block naming activations is a compare grid: check those names too
            compare = cfg.sweep is not None and cfg.sweep.activations is not None
            axes, seed_list = grid_from(cfg, lr, seeds, param or [], compare=compare)
            grid = plan_sweep(cfg, axes, seed_list, source=config, base_dir=Path(config).parent)
        if cfg.claim is not None:  # every setting of the claim must be a valid config too
            from ..claims import plan_claim

            plan_claim(cfg, None, config, Path(config).parent)
    lines = [dump_config(resolved).rstrip("\n"), f"# valid: {data!r}"]
    if cfg.claim is not None:
        lines.append(f"# claim: {len(cfg.claim.settings)} settings, {len(cfg.claim.expect)} expectations, "
                     f"{cfg.claim.seeds} seeds each (relu-lab check)")
    if grid is not None:
        axes_text = ", ".join(f"{a.key} x {len(a.values)}" for a in grid.axes)
        lines.append(f"# sweep grid: {axes_text}, {len(grid.seeds)} seeds -> {len(grid.members)} members in "
                     f"{len(grid.groups)} group(s)")
    print_out(lines, "the resolved config")


@app.command()
def schema() -> None:
    """Print the config's JSON Schema (for editors: see the README's YAML language server note).

    Example: relu-lab schema > relu-lab.schema.json
    """
    print_out([json.dumps(json_schema(), indent=2)], "the schema")
