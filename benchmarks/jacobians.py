"""Jacobians and per-example gradients: the transformations that batch (jacrev, vmap).

``jacrev_tanh``: the 300x300 Jacobian of x -> tanh(W x) by reverse mode,
``cr.jacrev(f)(x)``, against the closed form ``(1 - tanh(W x)**2)[:, None] * W``
(one matrix-vector product and one row scaling).  Peers: ``autograd.jacobian``,
``jax.jacrev`` (with and without ``jax.jit``), ``torch.func.jacrev``.

``per_example_grads``: the gradient of a logistic-regression loss (100 features,
weights and bias) for each of 256 examples separately,
``cr.vmap(cr.grad(loss), in_axes=(None, 0, 0))``, against a Python loop of
``cr.grad`` over the examples (``chainrule-loop``; the target is a speedup over
it) and the hand-written NumPy ``(sigmoid(X w + b) - y)[:, None] * X`` (the
reference of the cells).  JAX ``vmap(grad)`` and ``torch.func.vmap(grad)`` for
context.
"""

from __future__ import annotations

import numpy as np

from . import peers
from .harness import Target, Workload, register

# ---------------------------------------------------------------------------
# jacrev_tanh
# ---------------------------------------------------------------------------

N = 300


def make_jac_data(seed=0):
    rng = np.random.default_rng(seed)
    return {"W": rng.standard_normal((N, N)) / np.sqrt(N), "x": rng.standard_normal(N)}


def make_f(xp, W):
    def f(x):
        return xp.tanh(W @ x)

    return f


jac = register(Workload(
    name="jacrev_tanh", family="jacobian",
    description=f"jacrev of x -> tanh(W x), W {N}x{N} (a {N}x{N} Jacobian)",
    make_data=make_jac_data, target=Target(ratio=5.0),
    reported={"jax-jit": "12x", "torch (torch.func.jacrev)": "73x", "autograd": "147x"}))


@jac.impl("numpy")
def _jac_numpy(d):
    W, x = d["W"], d["x"]
    return lambda: (1 - np.tanh(W @ x) ** 2)[:, None] * W


@jac.impl("chainrule")
def _jac_chainrule(d):
    cr, cnp = peers.chainrule()
    J = cr.jacrev(make_f(cnp, d["W"]))
    x = d["x"]
    return lambda: J(x)


@jac.impl("chainrule-jit")
def _jac_chainrule_jit(d):
    cr, cnp = peers.chainrule()
    J = cr.jit(cr.jacrev(make_f(cnp, d["W"])))
    x = d["x"]
    return lambda: J(x)


@jac.impl("autograd")
def _jac_autograd(d):
    ag, anp = peers.autograd()
    J = ag.jacobian(make_f(anp, d["W"]))
    x = d["x"]
    return lambda: J(x)


@jac.impl("jax")
def _jac_jax(d):
    jx, jnp = peers.jax()
    J = jx.jacrev(make_f(jnp, jnp.asarray(d["W"])))
    x = jnp.asarray(d["x"])
    return lambda: jx.block_until_ready(J(x))


@jac.impl("jax-jit")
def _jac_jax_jit(d):
    jx, jnp = peers.jax()
    J = jx.jit(jx.jacrev(make_f(jnp, jnp.asarray(d["W"]))))
    x = jnp.asarray(d["x"])
    return lambda: jx.block_until_ready(J(x))


@jac.impl("torch")
def _jac_torch(d):
    th = peers.torch()
    J = th.func.jacrev(make_f(th, th.from_numpy(d["W"])))
    x = th.from_numpy(d["x"])
    return lambda: J(x)


# ---------------------------------------------------------------------------
# per_example_grads
# ---------------------------------------------------------------------------

FEATURES = 100
BATCH = 256


def make_pe_data(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((BATCH, FEATURES))
    w = rng.standard_normal(FEATURES) / np.sqrt(FEATURES)
    y = (rng.random(BATCH) < 0.5).astype(np.float64)
    return {"params": (w, np.array(0.1)), "X": X, "y": y}


def make_loss(logaddexp):
    """Logistic loss of one example: softplus(z) - y z with z = x . w + b (labels 0/1)."""

    def loss(params, x, y):
        w, b = params
        z = x @ w + b
        return logaddexp(0.0, z) - y * z

    return loss


def numpy_per_example_grads(params, X, y):
    w, b = params
    r = 1.0 / (1.0 + np.exp(-(X @ w + b))) - y  # d loss_i / d z_i
    return r[:, None] * X, r


pe = register(Workload(
    name="per_example_grads", family="jacobian",
    description=(f"per-example gradients, logistic regression ({FEATURES} features + bias), "
                 f"batch {BATCH}: vmap(grad(loss), in_axes=(None, 0, 0))"),
    make_data=make_pe_data,
    target=Target(speedup=10.0, impl="chainrule", baseline="chainrule-loop", label="vmap")))


@pe.impl("numpy")
def _pe_numpy(d):
    params, X, y = d["params"], d["X"], d["y"]
    return lambda: numpy_per_example_grads(params, X, y)


@pe.impl("chainrule")
def _pe_chainrule(d):
    cr, cnp = peers.chainrule()
    g = cr.vmap(cr.grad(make_loss(cnp.logaddexp)), in_axes=(None, 0, 0))
    params, X, y = d["params"], d["X"], d["y"]
    return lambda: g(params, X, y)


@pe.impl("chainrule-jit")
def _pe_chainrule_jit(d):
    cr, cnp = peers.chainrule()
    g = cr.jit(cr.vmap(cr.grad(make_loss(cnp.logaddexp)), in_axes=(None, 0, 0)))
    params, X, y = d["params"], d["X"], d["y"]
    return lambda: g(params, X, y)


@pe.impl("chainrule-loop")
def _pe_chainrule_loop(d):
    cr, cnp = peers.chainrule()
    g = cr.grad(make_loss(cnp.logaddexp))
    params, X, y = d["params"], d["X"], d["y"]

    def run():
        gs = [g(params, X[i], y[i]) for i in range(BATCH)]
        return np.stack([gw for gw, _ in gs]), np.array([gb for _, gb in gs])

    return run


@pe.impl("jax")
def _pe_jax(d):
    jx, jnp = peers.jax()
    g = jx.vmap(jx.grad(make_loss(jnp.logaddexp)), in_axes=(None, 0, 0))
    params = tuple(jnp.asarray(p) for p in d["params"])
    X, y = jnp.asarray(d["X"]), jnp.asarray(d["y"])
    return lambda: jx.block_until_ready(g(params, X, y))


@pe.impl("jax-jit")
def _pe_jax_jit(d):
    jx, jnp = peers.jax()
    g = jx.jit(jx.vmap(jx.grad(make_loss(jnp.logaddexp)), in_axes=(None, 0, 0)))
    params = tuple(jnp.asarray(p) for p in d["params"])
    X, y = jnp.asarray(d["X"]), jnp.asarray(d["y"])
    return lambda: jx.block_until_ready(g(params, X, y))


@pe.impl("torch")
def _pe_torch(d):
    th = peers.torch()
    zero = th.tensor(0.0)
    g = th.func.vmap(th.func.grad(make_loss(lambda a, z: th.logaddexp(zero, z))),
                     in_dims=(None, 0, 0))
    params = tuple(th.from_numpy(np.asarray(p)) for p in d["params"])
    X, y = th.from_numpy(d["X"]), th.from_numpy(d["y"])
    return lambda: g(params, X, y)
