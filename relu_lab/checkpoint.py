"""An interrupted training's state on disk (trainer.Checkpoint), to resume it bit for bit.

One .npz file holds the members' indices, the parameters, learning rates, fates, the tally of
the log rows so far (tally.py: its size does not grow with the run; the rows themselves are in
metrics.csv) and, as JSON text, the position (phase, epochs left, epoch, step) and each member's
sample-order Generator state. It is read with allow_pickle=False: nothing in it runs code, and
each array is read once, so reading costs time and memory in proportion to the file.
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import numpy as np

from .errors import UserError
from .rundir import replacing
from .tally import Tally
from .trainer import Checkpoint

STATE = ("lr", "alive", "diverged_epoch", "success_epoch", "flat")
TALLY = "tally/"  # the prefix of the tally's arrays


def save(path: Path, members: list[int], ckpt: Checkpoint) -> None:
    """Write `ckpt` of the ensemble made of `members` to `path`, atomically."""
    meta = {"phase": ckpt.phase, "left": ckpt.left, "epoch": ckpt.epoch, "step": ckpt.step,
            "order_states": ckpt.order_states}
    arrays = {"members": np.asarray(members), "meta": np.array(json.dumps(meta))}
    arrays |= {name: getattr(ckpt, name) for name in STATE}
    arrays |= {TALLY + name: value for name, value in ckpt.tally.to_arrays().items()}
    if ckpt.clipped is not None:
        arrays["clipped"] = ckpt.clipped
    if ckpt.slots is not None:
        arrays["slots"] = ckpt.slots
    if ckpt.rule_steps is not None:
        arrays["rule_steps"] = ckpt.rule_steps
    path.parent.mkdir(parents=True, exist_ok=True)
    with replacing(path) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, **arrays)
        fh.flush()
        os.fsync(fh.fileno())


def load(path: Path) -> tuple[list[int], Checkpoint]:
    """The members and the checkpoint saved at `path`; raises UserError for a file that is not one."""
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {name: z[name] for name in z.files}  # each read once: NpzFile reads anew at each index
        meta = json.loads(str(arrays["meta"]))
        tally = Tally.from_arrays({k[len(TALLY):]: v for k, v in arrays.items() if k.startswith(TALLY)})
        ckpt = Checkpoint(meta["phase"], meta["left"], meta["epoch"], meta["step"], arrays["lr"], arrays["alive"],
                          arrays["diverged_epoch"], arrays["success_epoch"], arrays["flat"], meta["order_states"],
                          tally, arrays.get("clipped"), arrays.get("slots"), arrays.get("rule_steps"))
        members = [int(m) for m in arrays["members"]]
    except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile) as err:
        raise UserError(f"{path}: not a readable relu-lab checkpoint ({type(err).__name__}: {err})") from None
    if len(members) != len(ckpt.lr) or len(ckpt.order_states) != len(members):
        raise UserError(f"{path}: a damaged relu-lab checkpoint ({len(members)} members, {len(ckpt.lr)} rates)")
    return members, ckpt
