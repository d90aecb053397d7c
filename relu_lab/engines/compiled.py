"""The compiled engine: numba kernels that run the SGD steps of one log interval in one call, and
the passes over the data at the log points.

Only this package's compiled modules import numba (commands that do not train never load it).
Two kernels train, chosen by the batch size alone (samples_as_lanes):

    block_epochs    short batches (online SGD, the XOR table): the members are cut into blocks; a
                    block trains in lockstep, every operation running over its members innermost
                    (contiguous, vectorised)
    member_epochs   batches of 8 samples or more: a member at a time, each layer's products over the
                    batch one BLAS call (numba's np.dot)

member_evaluate runs a log point's passes with member_epochs's forward and backward. Blocks or
members run side by side on threads (the kernels release the GIL). A member's arithmetic never
depends on its block, the thread count or the other members (no fast-math, nothing summed across
members), so reruns are bit-identical and a sweep's member trains the same alone. The activations
and the loss come from the registries (scalar.py).

The kernels are compiled once after an install and cached on disk.
"""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numba
import numpy as np
from numba import njit

from .. import activations, engines, losses, optimizers
from . import scalar

# --- the kernel -------------------------------------------------------------------
# Cached on disk. numba checks the kernel's own file for changes, not the functions it compiles in,
# so the cache lives in a folder named after their source: a changed activation, loss or dispatch
# gets a fresh compile. NUMBA_CACHE_DIR, when set, takes precedence.


def cache_dir() -> Path:
    sources = b"".join(Path(m.__file__).read_bytes() for m in (activations, losses, optimizers, scalar))
    digest = hashlib.sha256(sources).hexdigest()
    root = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(os.environ.get("NUMBA_CACHE_DIR") or Path(root) / "relu-lab" / f"kernels-{digest[:16]}")


_user_cache_dir = numba.config.CACHE_DIR
numba.config.CACHE_DIR = str(cache_dir())  # read when a cached function is defined (just below)


@njit(cache=True, nogil=True, error_model="numpy")
def block_epochs(F, X, Y, idx, sizes, w_off, b_off, l_off, codes, params, out_code, out_params,
                 loss_code, needs_df, mean, B, E, lr, decay, alive, clip, wd, l1, wmask, dead_at, clipped,
                 rule, rargs, S1, S2, steps):
    """E epochs of training (SGD, or the phase's update rule) for a block of members in lockstep: F is (P, kb).

    Every operation runs over the members innermost, each member on its own lane of the same
    IEEE operations (no fast-math, no reductions across members), so a member's result does not
    depend on its block. idx (E, kb, n) holds each member's sample order per epoch (0 rows: the
    data's own order). A frozen member (alive False) trains with rate 0, as in the NumPy engine.
    A member whose last weight matrix stops being finite after an epoch is frozen and dead_at
    gets that epoch (1-based within this call). clip <= 0: no clipping; clipped[k] counts the steps
    whose gradient the clip scaled down. The update is `rule`'s (a code of scalar.RULE_CODES, with its
    arguments rargs): SGD in place, any other through scalar.rule_update with its state S1, S2 laid out
    like F and its step count steps[k].
    """
    P, kb = F.shape
    L = sizes.size - 1
    n = X.shape[0]
    width = sizes.max()
    O = sizes[L]
    rowwise = out_code >= scalar.N_ELEMENTWISE
    g = np.empty((P, kb))
    zs = np.empty((L, width, kb))
    acts = np.empty((L + 1, width, kb))
    d = np.empty((width, kb))
    ga = np.empty((width, kb))
    y = np.empty((O, kb))
    dfz = np.zeros((O, kb))
    rate = np.empty(kb)
    sq = np.empty(kb)
    c1, c2 = np.empty(kb), np.empty(kb)  # the update rule's per-step factors of each member
    for e in range(E):
        for k in range(kb):
            rate[k] = lr[k] if alive[k] else 0.0
        for s in range(0, n, B):
            nb = min(B, n - s)
            g[:] = 0.0
            for t in range(s, s + nb):
                # each member's sample: the input row and the target
                for k in range(kb):
                    row = idx[e, k, t] if idx.shape[0] > 0 else t
                    for c in range(sizes[0]):
                        acts[0, c, k] = X[row, c]
                    for o in range(O):
                        y[o, k] = Y[row, o]
                # forward: z = a W + b, a = f(z), layer by layer
                for l in range(L):
                    nin, nout, wo, bo = sizes[l], sizes[l + 1], w_off[l], b_off[l]
                    z = zs[l]
                    for j in range(nout):
                        zj = z[j]
                        zj[:] = 0.0
                        for c in range(nin):
                            ac = acts[l, c]
                            w = F[wo + c * nout + j]
                            for k in range(kb):
                                zj[k] += ac[k] * w[k]
                        bj = F[bo + j]
                        for k in range(kb):
                            zj[k] += bj[k]
                    if l < L - 1:
                        scalar.activate(codes[l], z, acts[l + 1], nout, kb, params[l], F[l_off[l]:])
                    elif rowwise:
                        scalar.rowwise_output(out_code - scalar.N_ELEMENTWISE, z, acts[L], nout, kb)
                    else:
                        scalar.activate(out_code, z, acts[L], nout, kb, out_params, z)
                        if needs_df:
                            scalar.output_df(out_code, z, dfz, nout, kb, out_params)
                scalar.loss_delta(loss_code, zs[L - 1], acts[L], y, dfz, d, O, kb, rowwise)
                if mean and nb > 1:
                    for o in range(O):
                        for k in range(kb):
                            d[o, k] /= nb
                # backward: dC/dW = a^T delta, dC/db = delta, dC/da = delta W^T
                for l in range(L - 1, -1, -1):
                    nin, nout, wo, bo = sizes[l], sizes[l + 1], w_off[l], b_off[l]
                    for c in range(nin):
                        ac = acts[l, c]
                        for j in range(nout):
                            gw = g[wo + c * nout + j]
                            dj = d[j]
                            for k in range(kb):
                                gw[k] += ac[k] * dj[k]
                    for j in range(nout):
                        gb = g[bo + j]
                        dj = d[j]
                        for k in range(kb):
                            gb[k] += dj[k]
                    if l == 0:
                        break
                    for c in range(nin):
                        gc = ga[c]
                        gc[:] = 0.0
                        for j in range(nout):
                            w = F[wo + c * nout + j]
                            dj = d[j]
                            for k in range(kb):
                                gc[k] += dj[k] * w[k]
                    h = l - 1
                    scalar.backward_through(codes[h], zs[h], ga, nin, kb, params[h], F[l_off[h]:], g[l_off[h]:])
                    for c in range(nin):
                        for k in range(kb):
                            d[c, k] = ga[c, k]
            # the update: p -= lr (g + wd W + l1 sign W), g first scaled down to at most the clip norm
            if clip > 0:
                sq[:] = 0.0
                for q in range(P):
                    for k in range(kb):
                        sq[k] += g[q, k] * g[q, k]
                for k in range(kb):
                    sq[k] = min(1.0, clip / (np.sqrt(sq[k]) + 1e-12))
                    if sq[k] < 1.0:
                        clipped[k] += 1
                for q in range(P):
                    for k in range(kb):
                        g[q, k] *= sq[k]
            if wd != 0.0:
                for q in range(P):
                    for k in range(kb):
                        g[q, k] += wd * wmask[q] * F[q, k]
            if l1 != 0.0:
                for q in range(P):
                    for k in range(kb):
                        g[q, k] += l1 * wmask[q] * np.sign(F[q, k])
            if rule == scalar.SGD:  # in place
                for q in range(P):
                    for k in range(kb):
                        F[q, k] -= g[q, k] * rate[k]
            else:  # the rule's step (optimizers.py), its state S1, S2 per parameter and member
                for k in range(kb):
                    steps[k] += 1
                scalar.rule_update(rule, F, g, S1, S2, rate, steps, rargs, P, kb, c1, c2)
        for k in range(kb):
            lr[k] *= decay[k]
            if alive[k]:
                last = w_off[L - 1]
                for q in range(last, last + sizes[L - 1] * O):
                    if not np.isfinite(F[q, k]):
                        alive[k] = False
                        dead_at[k] = e + 1
                        break


# --- the samples of a batch as the lanes: one member at a time, its products by BLAS ------------
# Buffers hold a layer's values units-major for the nb samples of a pass (unit c at [c nb, (c+1) nb)),
# so each layer is a contiguous (units, nb) matrix whatever nb is, and every product is one BLAS call.


@njit(cache=True, nogil=True, error_model="numpy")
def _forward_dot(f, zb, ab, dfz, slope, sizes, w_off, b_off, l_off, codes, params, out_code, out_params,
                 needs_df, nb):
    """One member's forward pass over nb samples (ab[0] holds their inputs): Z = W^T A + b, a = f(z),
    layer by layer, into zb and ab; dfz = f'(z) of an elementwise output when the loss needs it."""
    L = sizes.size - 1
    for l in range(L):
        nin, nout, wo, bo = sizes[l], sizes[l + 1], w_off[l], b_off[l]
        z = zb[l, : nout * nb].reshape((nout, nb))
        np.dot(f[wo : wo + nin * nout].reshape((nin, nout)).T, ab[l, : nin * nb].reshape((nin, nb)), z)
        for j in range(nout):
            bj = f[bo + j]
            for t in range(nb):
                z[j, t] += bj
        a = ab[l + 1, : nout * nb].reshape((nout, nb))
        if l < L - 1:
            if l_off[l] > 0:
                for j in range(nout):
                    slope[j, :nb] = f[l_off[l] + j]
            scalar.activate(codes[l], z, a, nout, nb, params[l], slope)
        elif out_code >= scalar.N_ELEMENTWISE:
            scalar.rowwise_output(out_code - scalar.N_ELEMENTWISE, z, a, nout, nb)
        else:
            scalar.activate(out_code, z, a, nout, nb, out_params, z)
            if needs_df:
                scalar.output_df(out_code, z, dfz, nout, nb, out_params)


@njit(cache=True, nogil=True, error_model="numpy")
def _backward_dot(f, g, zb, ab, db, gab, gw, gbias, ones, slope, gl, sizes, w_off, b_off, l_off, codes, params,
                  nb):
    """Backpropagation of D = dC/dz of the output (in db) over nb samples, added to the gradient g:
    dC/dW = A D^T, dC/db = D 1, dC/dA = W D (db and gab are overwritten on the way down)."""
    L = sizes.size - 1
    for l in range(L - 1, -1, -1):
        nin, nout, wo, bo = sizes[l], sizes[l + 1], w_off[l], b_off[l]
        D = db[: nout * nb].reshape((nout, nb))
        np.dot(ab[l, : nin * nb].reshape((nin, nb)), D.T, gw[: nin * nout].reshape((nin, nout)))
        for q in range(nin * nout):
            g[wo + q] += gw[q]
        np.dot(D, ones[:nb], gbias[:nout])
        for j in range(nout):
            g[bo + j] += gbias[j]
        if l == 0:
            break
        ga = gab[: nin * nb].reshape((nin, nb))
        np.dot(f[wo : wo + nin * nout].reshape((nin, nout)), D, ga)
        h = l - 1
        learned = l_off[h] > 0
        if learned:
            for c in range(nin):
                slope[c, :nb] = f[l_off[h] + c]
                gl[c, :nb] = 0.0
        scalar.backward_through(codes[h], zb[h, : nin * nb].reshape((nin, nb)), ga, nin, nb, params[h], slope, gl)
        if learned:
            for c in range(nin):
                for t in range(nb):
                    g[l_off[h] + c] += gl[c, t]
        db[: nin * nb] = gab[: nin * nb]


@njit(cache=True, nogil=True, error_model="numpy")
def _lane_buffers(L, width, lanes, O):
    """The buffers of one member's passes over up to `lanes` samples: zb, ab (each layer's z and a,
    units-major), db, gab (dC/dz and dC/da of a layer), gw, gbias (a layer's gradient), ones, y, dfz,
    slope (a learned parameter in every lane), gl (its gradient per sample)."""
    return (np.empty((L, width * lanes)), np.empty((L + 1, width * lanes)), np.empty(width * lanes),
            np.empty(width * lanes), np.empty(width * width), np.empty(width), np.ones(lanes), np.empty((O, lanes)),
            np.zeros((O, lanes)), np.zeros((width, lanes)), np.empty((width, lanes)))


@njit(cache=True, nogil=True, error_model="numpy")
def member_epochs(F, X, Y, idx, sizes, w_off, b_off, l_off, codes, params, out_code, out_params,
                  loss_code, needs_df, mean, B, E, lr, decay, alive, clip, wd, l1, wmask, dead_at, clipped,
                 rule, rargs, S1, S2, steps):
    """block_epochs for the members one after another, with the samples of a batch as the lanes:
    F is (kb, P), member-major. Each layer's products over a batch are BLAS calls, so a long batch
    runs at matrix-product speed. The sums run in another order than block_epochs's (the two agree
    to rounding), so which kernel trains a config depends on the config alone (samples_as_lanes)."""
    kb, P = F.shape
    L = sizes.size - 1
    n = X.shape[0]
    width = sizes.max()
    O = sizes[L]
    rowwise = out_code >= scalar.N_ELEMENTWISE
    g = np.empty(P)
    rate1, c1, c2 = np.empty(1), np.empty(1), np.empty(1)  # the rule's rate and per-step factors, one lane
    zb, ab, db, gab, gw, gbias, ones, y, dfz, slope, gl = _lane_buffers(L, width, min(B, n), O)
    for m in range(kb):
        f = F[m]
        for e in range(E):
            rate = lr[m] if alive[m] else 0.0
            for s in range(0, n, B):
                nb = min(B, n - s)
                g[:] = 0.0
                for t in range(nb):
                    row = idx[e, m, s + t] if idx.shape[0] > 0 else s + t
                    for c in range(sizes[0]):
                        ab[0, c * nb + t] = X[row, c]
                    for o in range(O):
                        y[o, t] = Y[row, o]
                _forward_dot(f, zb, ab, dfz, slope, sizes, w_off, b_off, l_off, codes, params, out_code,
                             out_params, needs_df, nb)
                d = db[: O * nb].reshape((O, nb))
                scalar.loss_delta(loss_code, zb[L - 1, : O * nb].reshape((O, nb)), ab[L, : O * nb].reshape((O, nb)),
                                  y, dfz, d, O, nb, rowwise)
                if mean and nb > 1:
                    for o in range(O):
                        for t in range(nb):
                            d[o, t] /= nb
                _backward_dot(f, g, zb, ab, db, gab, gw, gbias, ones, slope, gl, sizes, w_off, b_off, l_off, codes,
                              params, nb)
                # the update: p -= lr (g + wd W + l1 sign W), g first scaled down to at most the clip norm
                if clip > 0:
                    sq = 0.0
                    for q in range(P):
                        sq += g[q] * g[q]
                    sq = min(1.0, clip / (np.sqrt(sq) + 1e-12))
                    if sq < 1.0:
                        clipped[m] += 1
                    for q in range(P):
                        g[q] *= sq
                if wd != 0.0:
                    for q in range(P):
                        g[q] += wd * wmask[q] * f[q]
                if l1 != 0.0:
                    for q in range(P):
                        g[q] += l1 * wmask[q] * np.sign(f[q])
                if rule == scalar.SGD:  # in place
                    for q in range(P):
                        f[q] -= g[q] * rate
                else:  # the rule's step, on the member's parameters as a column of one lane
                    steps[m] += 1
                    rate1[0] = rate
                    scalar.rule_update(rule, F[m].reshape((P, 1)), g.reshape((P, 1)), S1[m].reshape((P, 1)),
                                       S2[m].reshape((P, 1)), rate1, steps[m : m + 1], rargs, P, 1, c1, c2)
            lr[m] *= decay[m]
            if alive[m]:
                last = w_off[L - 1]
                for q in range(last, last + sizes[L - 1] * O):
                    if not np.isfinite(f[q]):
                        alive[m] = False
                        dead_at[m] = e + 1
                        break


EVAL_LANES = 256  # samples per forward pass when evaluating


@njit(cache=True, nogil=True, error_model="numpy")
def member_evaluate(F, X, Y, sizes, w_off, b_off, l_off, codes, params, out_code, out_params, loss_code,
                    needs_df, mean, inside, sat_below, zout, aout, silent, zeros, finite, G, moments):
    """Each member (F is (kb, P)) over the whole set X, Y in the data's order, EVAL_LANES samples a pass:
    the output's z and a into zout, aout (kb, n, outputs). With `inside`, also what the diagnostics
    need: per layer l (the output of W_l), silent[m, l, j] whether unit j had f'(z) = 0 on every sample,
    zeros[m, l] its outputs that were exactly 0, finite[m, l] whether every z was finite, and G[m] the
    gradient of the cost over the whole set (the forward and backward passes of member_epochs); and per
    hidden layer, moments[m, l] = the mean and the standard deviation of its outputs and the share of them
    with |f'(z)| < sat_below[l] (saturated)."""
    kb, P = F.shape
    L = sizes.size - 1
    n = X.shape[0]
    width = sizes.max()
    O = sizes[L]
    lanes = min(EVAL_LANES, n)
    rowwise = out_code >= scalar.N_ELEMENTWISE
    zb, ab, db, gab, gw, gbias, ones, y, dfz, slope, gl = _lane_buffers(L, width, lanes, O)
    df = np.empty((width, lanes))
    scale = n if mean and n > 1 else 1
    # sums of a - shift and its square (shift: the layer's first output, so that the variance keeps its
    # digits when it is small against the mean), and the saturated count, per layer
    shift, s1, s2, sat = np.zeros(L), np.zeros(L), np.zeros(L), np.zeros(L)
    for m in range(kb):
        f = F[m]
        g = G[m]
        if inside:
            g[:] = 0.0
            silent[m] = True
            zeros[m] = 0
            finite[m] = True
            s1[:] = 0.0
            s2[:] = 0.0
            sat[:] = 0.0
        for s in range(0, n, lanes):
            nb = min(lanes, n - s)
            for t in range(nb):
                for c in range(sizes[0]):
                    ab[0, c * nb + t] = X[s + t, c]
                for o in range(O):
                    y[o, t] = Y[s + t, o]
            _forward_dot(f, zb, ab, dfz, slope, sizes, w_off, b_off, l_off, codes, params, out_code,
                         out_params, needs_df, nb)
            zo, ao = zb[L - 1, : O * nb].reshape((O, nb)), ab[L, : O * nb].reshape((O, nb))
            for t in range(nb):
                for o in range(O):
                    zout[m, s + t, o] = zo[o, t]
                    aout[m, s + t, o] = ao[o, t]
            if not inside:
                continue
            for l in range(L):
                nout = sizes[l + 1]
                z, a = zb[l, : nout * nb].reshape((nout, nb)), ab[l + 1, : nout * nb].reshape((nout, nb))
                if l < L - 1:  # f'(z) of a hidden layer: 1 through backward_through (its slope's gradient unused)
                    df[:nout, :nb] = 1.0
                    if l_off[l] > 0:
                        for j in range(nout):
                            slope[j, :nb] = f[l_off[l] + j]
                    scalar.backward_through(codes[l], z, df, nout, nb, params[l], slope, gl)
                elif not rowwise:
                    scalar.output_df(out_code, z, df, nout, nb, out_params)
                else:
                    df[:nout, :nb] = 1.0  # softmax: never dead
                if s == 0:
                    shift[l] = a[0, 0]
                below, c = sat_below[min(l, L - 2)] if l < L - 1 else 0.0, shift[l]
                for j in range(nout):  # counted without branches, so that the loop vectorises
                    zj, dj, aj = z[j], df[j], a[j]
                    bad = live = zero = flat = 0
                    t1 = t2 = 0.0
                    for t in range(nb):
                        bad += 0 if zj[t] - zj[t] == 0.0 else 1  # NaN or inf
                        live += 1 if dj[t] != 0.0 else 0
                        zero += 1 if aj[t] == 0.0 else 0
                        flat += 1 if abs(dj[t]) < below else 0
                        t1 += aj[t] - c
                        t2 += (aj[t] - c) * (aj[t] - c)
                    if bad > 0:
                        finite[m, l] = False
                    if live > 0:
                        silent[m, l, j] = False
                    zeros[m, l] += zero
                    s1[l] += t1
                    s2[l] += t2
                    sat[l] += flat
            d = db[: O * nb].reshape((O, nb))
            scalar.loss_delta(loss_code, zo, ao, y, dfz, d, O, nb, rowwise)
            if scale > 1:
                for o in range(O):
                    for t in range(nb):
                        d[o, t] /= scale
            _backward_dot(f, g, zb, ab, db, gab, gw, gbias, ones, slope, gl, sizes, w_off, b_off, l_off, codes,
                          params, nb)
        if inside:
            for l in range(L - 1):
                N = n * sizes[l + 1]
                moments[m, l, 0] = shift[l] + s1[l] / N
                moments[m, l, 1] = np.sqrt(max((s2[l] - s1[l] * s1[l] / N) / N, 0.0))
                moments[m, l, 2] = sat[l] / N


numba.config.CACHE_DIR = _user_cache_dir


def _announce_compile(*kernels) -> None:
    """Before the first compile after an install (nothing cached yet), say what the pause is."""
    if all(k.signatures or any(cache_dir().rglob(f"*{k.__name__}*.nbi")) for k in kernels):
        return
    if engines.notify is not None:
        engines.notify("compiling relu-lab's training kernels: once after an install, about half a minute; "
                       f"cached in {cache_dir()}")


def warm() -> None:
    """Load the three kernels (compile them, the first time after an install) on a net of one unit, so that
    a run's clock starts after it: loading the first costs about 0.4 s (numba's own start), each other 0.04 s."""
    from ..activations import ACTIVATIONS
    from ..losses import LOSSES
    from ..network import Act, Ensemble

    kernels = (block_epochs, member_epochs, member_evaluate)
    if all(k.signatures for k in kernels):
        return
    _announce_compile(*kernels)
    net = Ensemble.create([1, 1, 1], [np.random.default_rng(0)], [Act(ACTIVATIONS["relu"], {})],
                          Act(ACTIVATIONS["sigmoid"], {}))
    X, Y = np.zeros((SAMPLES_AS_LANES, 1)), np.zeros((SAMPLES_AS_LANES, 1))
    for batch in (1, SAMPLES_AS_LANES):  # block_epochs, member_epochs
        plan = engines.Plan(LOSSES["bce"], "mean", batch, np.ones(1), None, 0.0)
        steps(net, X, Y, plan, None, 1, np.zeros(1), np.ones(1, dtype=bool))
    evaluate_pass(net, X, Y, LOSSES["bce"], "mean", True)


# --- from an Ensemble to the kernel's arrays ----------------------------------

BLOCK = 128  # members per lockstep block at most: beyond, a block's arrays outgrow the caches


def _param_row(act) -> np.ndarray:
    """The activation's fixed parameters in its signature's order (a learned one comes from F)."""
    row = np.zeros(scalar.MAX_PARAMS)
    for i, name in enumerate(scalar.params_of(act.fn.f)):
        row[i] = act.params.get(name, act.fn.params.get(name, 0.0))
    return row


def _layout(net) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows of each W_l, b_l and learned parameter in the (P, members) block (0 where nothing is learned)."""
    starts = net.offsets.astype(np.int64)
    L = len(net.W)
    l_off = np.zeros(max(L - 1, 1), dtype=np.int64)
    for i, l in enumerate(sorted(net.learned)):
        l_off[l] = starts[2 * L + i]
    return np.ascontiguousarray(starts[0 : 2 * L : 2]), np.ascontiguousarray(starts[1 : 2 * L : 2]), l_off


def threads() -> int:
    """Threads that train blocks side by side: NUMBA_NUM_THREADS, by default one per core."""
    return numba.config.NUMBA_NUM_THREADS


SHARES = 4  # blocks per thread, at least: a thread slowed down (another process on its core) is not waited for


def block_size(K: int, P: int) -> int:
    """Members per lockstep block: a thread's share cut in SHARES, but at least 64 lanes (or the thread's
    share, when smaller: measured on W1 and W2 with 256 members, a member costs 1.4-1.8x more in blocks
    of 16 than of 64, and 1.0-1.1x more in blocks of 64 than of 128), at most BLOCK, and at most 32 MB
    per block."""
    share = -(-K // threads())
    return int(max(1, min(BLOCK, max(min(64, share), -(-share // SHARES)), 2**22 // max(P, 1))))


def member_block(K: int) -> int:
    """Members per call of member_epochs or member_evaluate: a thread's share cut in SHARES."""
    return -(-K // (threads() * SHARES))


SAMPLES_AS_LANES = 8  # batches at least this long train a member at a time (member_epochs); measured below


def samples_as_lanes(batch: int) -> bool:
    """Whether member_epochs (a member at a time, its products over the batch by BLAS) rather than
    block_epochs (the members of a block as the lanes) trains with batches of `batch` samples.
    It depends on the batch alone, never on the number of members or threads: the two kernels sum
    in different orders, and a sweep's member must train the same alone. Measured on 2 cores, the
    members as lanes win at batches of 4 with 16 or more members (4-9x on seed 003's deep XOR, 25x
    online on W2), the samples from batches of 8 at any count (1.0-1.2x at 64-256 members of a
    2-32-32-1 net, 2.4x at 32 samples, 11-36x for one member)."""
    return batch >= SAMPLES_AS_LANES


_pool: ThreadPoolExecutor | None = None


def _side_by_side(K: int, size: int, run) -> None:
    """run(k0, k1) for the members in blocks of `size`, on `threads()` threads (the kernels release the GIL),
    each thread taking the next block when it is done with one."""
    global _pool
    blocks = [(k0, min(K, k0 + size)) for k0 in range(0, K, size)]
    if len(blocks) == 1 or threads() == 1:
        for k0, k1 in blocks:
            run(k0, k1)
        return
    _pool = _pool or ThreadPoolExecutor(threads(), thread_name_prefix="relu-lab")
    for done in [_pool.submit(run, k0, k1) for k0, k1 in blocks]:
        done.result()


def _net_arrays(net, loss) -> tuple:
    """The kernels' arguments that describe the network and its loss: sizes, w_off, b_off, l_off, codes,
    params, out_code, out_params, loss_code, needs_df."""
    w_off, b_off, l_off = _layout(net)
    hidden = np.array([_param_row(a) for a in net.hidden] or [np.zeros(scalar.MAX_PARAMS)])
    codes = np.array([scalar.CODES[a.name] for a in net.hidden] or [0], dtype=np.int64)
    return (np.array(net.layers, dtype=np.int64), w_off, b_off, l_off, codes, hidden, scalar.CODES[net.output.name],
            _param_row(net.output), scalar.LOSS_CODES[loss.name], loss.needs_df)


def _data(X, Y) -> tuple[np.ndarray, np.ndarray]:
    return np.ascontiguousarray(X, dtype=np.float64), np.ascontiguousarray(Y, dtype=np.float64)


def steps(net, X, Y, plan, orders, epochs: int, lr: np.ndarray, alive: np.ndarray) -> np.ndarray:
    """`epochs` epochs of training, the members in blocks trained side by side by `threads()` threads
    (the kernel releases the GIL); the contract is numpy_engine.steps's."""
    K, P = net.flat.shape
    X, Y = _data(X, Y)
    decay = np.ascontiguousarray(plan.decay, dtype=np.float64)
    if orders is None:
        orders = np.empty((0, K, len(X)), dtype=np.int64)
    dead_at = np.zeros(K, dtype=np.int64)
    fixed = (*_net_arrays(net, plan.loss), plan.reduction == "mean", min(plan.batch, len(X)), epochs)
    update = (plan.clip or 0.0, float(plan.weight_decay), float(plan.l1), net.weight_mask)
    rule = scalar.RULE_CODES[plan.rule.name]
    rargs = np.zeros(scalar.MAX_RULE_ARGS)
    for i, name in enumerate(scalar.rule_arguments(plan.rule)):
        rargs[i] = plan.rule_args.get(name, plan.rule.params[name])
    slots = net.optimizer_state() if rule != scalar.SGD else None  # (SLOTS, K, P); SGD keeps none
    none = np.empty((0, 0))

    clipped = plan.clipped if plan.clipped is not None else np.zeros(K, dtype=np.int64)
    by_samples = samples_as_lanes(min(plan.batch, len(X)))
    kernel = member_epochs if by_samples else block_epochs

    def lay(a: np.ndarray) -> np.ndarray:  # (members, P) for member_epochs; (P, members) for block_epochs
        return np.ascontiguousarray(a if by_samples else a.T)

    def run(k0: int, k1: int) -> None:
        F = lay(net.flat[k0:k1])
        S = [lay(slots[j, k0:k1]) if slots is not None else none for j in range(2)]  # the kernels carry 2 slots (SLOTS)
        kernel(F, X, Y, np.ascontiguousarray(orders[:, k0:k1], dtype=np.int64), *fixed,
               lr[k0:k1], decay[k0:k1], alive[k0:k1], *update, dead_at[k0:k1], clipped[k0:k1],
               rule, rargs, S[0], S[1], net.steps[k0:k1])
        net.flat[k0:k1] = F if by_samples else F.T
        if slots is not None:
            for j in range(2):
                slots[j, k0:k1] = S[j] if by_samples else S[j].T

    _announce_compile(kernel)
    _side_by_side(K, member_block(K) if by_samples else block_size(K, P), run)
    return dead_at


def evaluate_pass(net, X, Y, loss, reduction: str, inside: bool) -> engines.Pass:
    """Every member over the whole set X, Y, a member at a time on `threads()` threads, with
    member_evaluate; the contract is numpy_engine.evaluate_pass's."""
    K, P = net.flat.shape
    X, Y = _data(X, Y)
    n, L, layers = len(X), len(net.W), net.layers
    O = layers[-1]
    zout, aout = np.empty((K, n, O)), np.empty((K, n, O))
    shape = (K, L, max(layers)) if inside else (K, 0, 0)
    silent, zeros, finite = np.empty(shape, dtype=np.bool_), np.empty(shape[:2], dtype=np.int64), \
        np.empty(shape[:2], dtype=np.bool_)
    G = np.empty((K, P if inside else 0))
    moments = np.zeros((K, max(L - 1, 1) if inside else 0, 3))
    sat_below = np.array(net.saturated_below or [0.0])
    fixed = (*_net_arrays(net, loss), reduction == "mean", inside, sat_below)

    def run(k0: int, k1: int) -> None:
        member_evaluate(np.ascontiguousarray(net.flat[k0:k1]), X, Y, *fixed, zout[k0:k1], aout[k0:k1],
                        silent[k0:k1], zeros[k0:k1], finite[k0:k1], G[k0:k1], moments[k0:k1])

    _announce_compile(member_evaluate)
    _side_by_side(K, member_block(K), run)
    if not inside:
        return engines.Pass(zout, aout)
    saturated = [moments[:, l, 2] if np.isfinite(sat_below[l]) else np.full(K, np.nan) for l in range(L - 1)]
    return engines.Pass(zout, aout, [silent[:, l, : layers[l + 1]] for l in range(L)],
                        [zeros[:, l] / (n * layers[l + 1]) for l in range(L)], [finite[:, l] for l in range(L)], G,
                        [moments[:, l, 0] for l in range(L - 1)], [moments[:, l, 1] for l in range(L - 1)], saturated)
