"""The NumPy engine, the reference: one batched computation over all members per SGD step."""

from __future__ import annotations

import numpy as np

from . import Pass, Plan


def steps(net, X, Y, plan: Plan, orders, epochs: int, lr: np.ndarray, alive: np.ndarray) -> np.ndarray:
    """`epochs` epochs of training by the phase's rule (plan.rule); `orders` (epochs, K, n) is each member's sample
    order, None for the data's own."""
    K, n = net.K, len(X)
    B = min(plan.batch, n)
    dead_at = np.zeros(K, dtype=np.int64)
    for e in range(epochs):
        # each member's epoch in its own order, gathered once: (K, n, features)
        Xe, Ye = (X, Y) if orders is None else (X[orders[e]], Y[orders[e]])
        lr2 = np.where(alive, lr, 0.0)[:, None]
        for s in range(0, n, B):
            Xb, Yb = (Xe, Ye) if B == n else (Xe[..., s : s + B, :], Ye[..., s : s + B, :])
            zs, as_ = net.forward(Xb)
            update(net, net.backward(zs, as_, Yb, plan.loss, plan.reduction), lr2, plan)
        lr *= plan.decay
        bad = alive & ~np.isfinite(net.W[-1]).all(axis=(1, 2))
        dead_at[bad] = e + 1
        alive[bad] = False
        if not alive.any():
            break
    return dead_at


def update(net, grad: np.ndarray, lr2: np.ndarray, plan: Plan) -> None:
    """One update of the flat parameters `(K, P)` in place by the phase's rule (optimizers.py), from the
    gradient g: with `clip`, each member's g is first scaled down to at most that global norm (and
    plan.clipped counts the members it scaled); then g += weight_decay W + l1 sign(W) (weights only);
    then the rule, p -= lr g for SGD. `lr2` is (K, 1): each member's rate, 0 for a frozen one."""
    if plan.clip is not None:
        norm = np.sqrt(np.einsum("kp,kp->k", grad, grad))
        scale = np.minimum(1.0, plan.clip / (norm + 1e-12))
        if plan.clipped is not None:  # counted in place (the Plan itself is frozen)
            np.add(plan.clipped, scale < 1.0, out=plan.clipped)
        grad *= scale[:, None]
    if plan.weight_decay:
        grad += plan.weight_decay * net.weight_mask * net.flat
    if plan.l1:
        grad += plan.l1 * net.weight_mask * np.sign(net.flat)
    if plan.rule.name == "sgd":  # in place: the registry's sgd, p - lr g, without a copy of the parameters
        grad *= lr2
        net.flat -= grad
        return
    slots = net.optimizer_state()
    net.steps += 1
    c1, c2 = plan.rule.factors()(net.steps[:, None], **plan.rule_args)  # once per member, not per parameter
    net.flat[...], slots[0], slots[1] = plan.rule.step(net.flat, grad, slots[0], slots[1], lr2, c1, c2,
                                                       **plan.rule_args)


def evaluate_pass(net, X, Y, loss, reduction: str, inside: bool) -> Pass:
    """Every member over the whole set X, Y at once (see Pass); the gradient by `net.backward`."""
    zs, as_ = net.forward(X)
    if not inside:
        return Pass(zs[-1], as_[-1])
    grad = net.backward(zs, as_, Y, loss, reduction).copy()
    L = len(net.W)
    silent, saturated = [], []
    with np.errstate(invalid="ignore", over="ignore"):
        for l in range(L - 1):  # each layer's f'(z) once, dropped before the next (it is members x samples x units)
            d = net.derivative(l, zs[l])
            silent.append(np.all(d == 0, axis=-2))
            below = net.saturated_below[l]
            share = np.mean(np.abs(d) < below, axis=(-2, -1)) if np.isfinite(below) else np.full(net.K, np.nan)
            saturated.append(share)
            del d
        silent.append(np.all(net.derivative(L - 1, zs[-1]) == 0, axis=-2) if net.output.fn.elementwise
                      else np.zeros(zs[-1].shape[::2], dtype=bool))
        zero_share = [np.mean(as_[l + 1] == 0, axis=(-2, -1)) for l in range(L)]
        finite = [np.all(np.isfinite(zs[l]), axis=(-2, -1)) for l in range(L)]
        act_mean = [np.mean(as_[l + 1], axis=(-2, -1)) for l in range(L - 1)]
        act_std = [np.std(as_[l + 1], axis=(-2, -1)) for l in range(L - 1)]
    return Pass(zs[-1], as_[-1], silent, zero_share, finite, grad, act_mean, act_std, saturated)
