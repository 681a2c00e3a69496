"""value_and_grad of an MLP loss with respect to its parameters.

tanh hidden layers, softmax cross-entropy on one-hot labels, mean over the
batch; parameters are a list of (W, b) pairs.  Every AD implementation runs the
same operations: ``z = logits - max(logits)``, ``log(sum(exp(z)))``,
``sum(Y * z)``, ``mean``; the NumPy reference computes the same forward pass and
the analytic backward pass.  ``chainrule-jit`` and ``jax-jit`` wrap the whole
``value_and_grad`` in the library's ``jit``.
"""

from __future__ import annotations

import itertools

import numpy as np

from . import peers
from .harness import Target, Workload, register


def make_data(sizes, batch, seed=0):
    rng = np.random.default_rng(seed)
    params = [(rng.standard_normal((m, n)) / np.sqrt(m), 0.1 * rng.standard_normal(n))
              for m, n in itertools.pairwise(sizes)]
    x = rng.standard_normal((batch, sizes[0]))
    labels = rng.integers(0, sizes[-1], size=batch)
    Y = np.eye(sizes[-1])[labels]
    return {"params": params, "x": x, "Y": Y}


def make_loss(xp):
    """The loss in any NumPy-like namespace (chainrule.numpy, autograd.numpy, jax.numpy)."""

    def loss(params, x, Y):
        h = x
        for W, b in params[:-1]:
            h = xp.tanh(h @ W + b)
        W, b = params[-1]
        logits = h @ W + b
        z = logits - xp.max(logits, axis=1, keepdims=True)
        lse = xp.log(xp.sum(xp.exp(z), axis=1))
        return xp.mean(lse - xp.sum(Y * z, axis=1))

    return loss


def numpy_value_and_grad(params, x, Y):
    """Hand-written forward and backward pass."""
    hs = [x]
    h = x
    for W, b in params[:-1]:
        h = np.tanh(h @ W + b)
        hs.append(h)
    W, b = params[-1]
    logits = h @ W + b
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    s = e.sum(axis=1)
    value = np.mean(np.log(s) - np.sum(Y * z, axis=1))
    d = (e / s[:, None] - Y) / x.shape[0]  # d loss / d logits
    grads = [None] * len(params)
    for i in range(len(params) - 1, -1, -1):
        h = hs[i]
        grads[i] = (h.T @ d, d.sum(axis=0))
        if i > 0:
            d = (d @ params[i][0].T) * (1.0 - h * h)
    return value, grads


# Builders ``builder(data) -> thunk`` shared with jit_compile.py (the same loss and data).

def build_numpy(d):
    params, x, Y = d["params"], d["x"], d["Y"]
    return lambda: numpy_value_and_grad(params, x, Y)


def build_chainrule(d):
    cr, cnp = peers.chainrule()
    vg = cr.value_and_grad(make_loss(cnp))
    params, x, Y = d["params"], d["x"], d["Y"]
    return lambda: vg(params, x, Y)


def build_chainrule_jit(d):
    cr, cnp = peers.chainrule()
    vg = cr.jit(cr.value_and_grad(make_loss(cnp)))
    params, x, Y = d["params"], d["x"], d["Y"]
    return lambda: vg(params, x, Y)


def jax_inputs(d):
    """(jax, jax.numpy, params, x, Y) with the data as JAX arrays."""
    jx, jnp = peers.jax()
    params = [(jnp.asarray(W), jnp.asarray(b)) for W, b in d["params"]]
    return jx, jnp, params, jnp.asarray(d["x"]), jnp.asarray(d["Y"])


def build_jax_jit(d):
    jx, jnp, params, x, Y = jax_inputs(d)
    vg = jx.jit(jx.value_and_grad(make_loss(jnp)))
    return lambda: jx.block_until_ready(vg(params, x, Y))


def _add(name, sizes, batch, target, jit_target, reported):
    w = register(Workload(
        name=name, family="mlp",
        description=(f"value_and_grad of MLP {'-'.join(map(str, sizes))}, batch {batch}, tanh, "
                     "softmax cross-entropy, w.r.t. list of (W, b)"),
        make_data=lambda: make_data(sizes, batch),
        target=(Target(ratio=target), Target(ratio=jit_target, impl="chainrule-jit")),
        reported=reported))
    w.impl("numpy")(build_numpy)
    w.impl("chainrule")(build_chainrule)
    w.impl("chainrule-jit")(build_chainrule_jit)

    @w.impl("autograd")
    def _autograd(d):
        ag, anp = peers.autograd()
        vg = ag.value_and_grad(make_loss(anp))
        params, x, Y = d["params"], d["x"], d["Y"]
        return lambda: vg(params, x, Y)

    @w.impl("jax")
    def _jax(d):
        jx, jnp, params, x, Y = jax_inputs(d)
        vg = jx.value_and_grad(make_loss(jnp))
        return lambda: jx.block_until_ready(vg(params, x, Y))

    w.impl("jax-jit")(build_jax_jit)

    @w.impl("torch")
    def _torch(d):
        th = peers.torch()
        params = [(th.tensor(W, requires_grad=True), th.tensor(b, requires_grad=True))
                  for W, b in d["params"]]
        flat = [p for pair in params for p in pair]
        x, Y = th.from_numpy(d["x"]), th.from_numpy(d["Y"])

        def loss(params, x, Y):
            h = x
            for W, b in params[:-1]:
                h = th.tanh(h @ W + b)
            W, b = params[-1]
            logits = h @ W + b
            z = logits - th.amax(logits, dim=1, keepdim=True)
            lse = th.log(th.sum(th.exp(z), dim=1))
            return th.mean(lse - th.sum(Y * z, dim=1))

        def run():
            value = loss(params, x, Y)
            grads = th.autograd.grad(value, flat)
            return value.detach(), grads

        return run

    return w


SMALL = ((2, 32, 32, 2), 16)
LARGE = ((784, 512, 512, 10), 256)

_add("mlp_small", *SMALL, 3.0, 1.3,
     {"torch": "4.4x", "autograd": "17x", "jax (no jit)": "160x", "jax-jit": "2.0x"})
_add("mlp_large", *LARGE, 1.15, 1.0, {"torch": "1.5x", "autograd": "4.9x", "jax-jit": "0.86x"})
