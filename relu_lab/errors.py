"""Errors a user can fix; the CLI prints them as one line and exits with code 2."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class UserError(Exception):
    """Bad input: a config, an override, a data file or an output directory."""


class PictureWarning(UserWarning):
    """A picture that could not be drawn (the others are): the CLI prints it as one `warning:` line."""


class RunFailed(Exception):
    """A run stopped by an error inside it (a user's activation that raises): its directory says
    `failed` in summary.json, and the message names the cause and the directory. The CLI exits with 1."""


def did_you_mean(kind: str, given: str, allowed: Iterable[str]) -> str:
    """"unknown activation 'rleu'; did you mean 'relu'? (allowed: ...)"."""
    allowed = list(allowed)
    close = difflib.get_close_matches(str(given), allowed, n=1, cutoff=0.6)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return f"unknown {kind} {str(given)!r}{hint} (allowed: {', '.join(allowed)})"
