"""An interrupted training's state on disk (trainer.Checkpoint), to resume it bit for bit.

One .npz file holds the members' indices, the parameters, learning rates, fates, the log rows so
far and, as JSON text, the position (phase, epochs left, epoch, step) and each member's
sample-order Generator state. It is read with allow_pickle=False: nothing in it runs code.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from .errors import UserError
from .rundir import replacing
from .trainer import Checkpoint, LogRow


def save(path: Path, members: list[int], ckpt: Checkpoint) -> None:
    """Write `ckpt` of the ensemble made of `members` to `path`, atomically."""
    metrics = list(ckpt.history[0].metrics) if ckpt.history else []
    meta = {"phase": ckpt.phase, "left": ckpt.left, "epoch": ckpt.epoch, "step": ckpt.step,
            "order_states": ckpt.order_states, "metrics": metrics}
    arrays = {
        "members": np.asarray(members), "lr": ckpt.lr, "alive": ckpt.alive, "flat": ckpt.flat,
        "diverged_epoch": ckpt.diverged_epoch, "success_epoch": ckpt.success_epoch,
        "h_epoch": np.array([r.epoch for r in ckpt.history]), "h_step": np.array([r.step for r in ckpt.history]),
        "h_lr": np.array([r.lr for r in ckpt.history]), "meta": np.array(json.dumps(meta)),
    }
    if ckpt.clipped is not None:
        arrays["clipped"] = ckpt.clipped
    for i, name in enumerate(metrics):
        arrays[f"h_metric{i}"] = np.array([r.metrics[name] for r in ckpt.history])
    path.parent.mkdir(parents=True, exist_ok=True)
    with replacing(path) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, **arrays)
        fh.flush()
        os.fsync(fh.fileno())


def load(path: Path) -> tuple[list[int], Checkpoint]:
    """The members and the checkpoint saved at `path`; raises UserError for a file that is not one."""
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            history = [
                LogRow(int(e), int(s), z["h_lr"][i], {m: z[f"h_metric{j}"][i] for j, m in enumerate(meta["metrics"])})
                for i, (e, s) in enumerate(zip(z["h_epoch"], z["h_step"]))
            ]
            ckpt = Checkpoint(meta["phase"], meta["left"], meta["epoch"], meta["step"], z["lr"], z["alive"],
                              z["diverged_epoch"], z["success_epoch"], z["flat"], meta["order_states"], history,
                              z["clipped"] if "clipped" in z else None)
            return [int(m) for m in z["members"]], ckpt
    except (OSError, ValueError, KeyError) as err:
        raise UserError(f"{path}: not a readable relu-lab checkpoint ({err})") from None
