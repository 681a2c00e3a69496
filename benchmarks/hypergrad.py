"""Hypergradient: grad through 10 steps of gradient descent w.r.t. the step sizes.

f(x) = 1/2 ||x||^2 on R^100000; x_{k+1} = x_k - alpha_k grad f(x_k);
L(alpha) = f(x_10); we want dL/dalpha (10 numbers).

``hypergrad`` (the target row) writes the inner gradient analytically
(grad f(x) = x), so the AD libraries differentiate the 10 update steps and the
final loss.  ``hypergrad_nested`` takes the inner gradient with the library's
own ``grad`` (nested differentiation: grad of a function that calls grad);
it has no target and shows the cost of nesting.

Reference for both: a manual reverse sweep (store x_k going forward; going
back, alpha_bar_k = -<x_bar_{k+1}, grad f(x_k)>, x_bar_k = x_bar_{k+1} (I - alpha_k H)
with H = I).  The closed form x_k = prod_j (1 - alpha_j) x_0 checks it.
"""

from __future__ import annotations

import numpy as np

from . import peers
from .harness import Target, Workload, register

N = 100_000
STEPS = 10


def make_data(seed=0):
    rng = np.random.default_rng(seed)
    return {"x0": rng.standard_normal(N), "alphas": np.linspace(0.05, 0.15, STEPS)}


def numpy_hypergrad(alphas, x0):
    xs = [x0]
    x = x0
    for k in range(STEPS):
        g = x  # grad f(x)
        x = x - alphas[k] * g
        xs.append(x)
    _loss = 0.5 * (x @ x)
    xbar = x  # dL/dx_10
    abar = np.empty(STEPS)
    for k in range(STEPS - 1, -1, -1):
        abar[k] = -(xbar @ xs[k])
        xbar = xbar * (1.0 - alphas[k])
    return abar


def closed_form_hypergrad(alphas, x0):
    p = np.prod(1.0 - alphas)
    return -(p * p) * (x0 @ x0) / (1.0 - alphas)


def make_loss(xp, inner_grad=None):
    """L(alphas, x0); ``inner_grad(f)`` (a library's grad) or None for the analytic x."""

    def f(x):
        return 0.5 * xp.dot(x, x)

    df = inner_grad(f) if inner_grad is not None else None

    def loss(alphas, x0):
        x = x0
        for k in range(STEPS):
            g = x if df is None else df(x)
            x = x - alphas[k] * g
        return f(x)

    return loss


def _add(name, nested, target, reported):
    kind = "inner grad by nested AD" if nested else "inner grad analytic"
    w = register(Workload(
        name=name, family="hypergrad",
        description=f"grad w.r.t. {STEPS} step sizes through {STEPS} GD steps on 1/2||x||^2, "
                    f"x in R^{N} ({kind})",
        make_data=make_data, target=Target(ratio=target) if target else None, reported=reported))

    @w.impl("numpy")
    def _numpy(d):
        alphas, x0 = d["alphas"], d["x0"]
        assert np.allclose(numpy_hypergrad(alphas, x0), closed_form_hypergrad(alphas, x0))
        return lambda: numpy_hypergrad(alphas, x0)

    @w.impl("chainrule")
    def _chainrule(d):
        cr, cnp = peers.chainrule()
        g = cr.grad(make_loss(cnp, cr.grad if nested else None))
        alphas, x0 = d["alphas"], d["x0"]
        return lambda: g(alphas, x0)

    @w.impl("chainrule-jit")
    def _chainrule_jit(d):
        cr, cnp = peers.chainrule()
        g = cr.jit(cr.grad(make_loss(cnp, cr.grad if nested else None)))
        alphas, x0 = d["alphas"], d["x0"]
        return lambda: g(alphas, x0)

    @w.impl("autograd")
    def _autograd(d):
        ag, anp = peers.autograd()
        g = ag.grad(make_loss(anp, ag.grad if nested else None))
        alphas, x0 = d["alphas"], d["x0"]
        return lambda: g(alphas, x0)

    @w.impl("jax")
    def _jax(d):
        jx, jnp = peers.jax()
        g = jx.grad(make_loss(jnp, jx.grad if nested else None))
        alphas, x0 = jnp.asarray(d["alphas"]), jnp.asarray(d["x0"])
        return lambda: jx.block_until_ready(g(alphas, x0))

    @w.impl("jax-jit")
    def _jax_jit(d):
        jx, jnp = peers.jax()
        g = jx.jit(jx.grad(make_loss(jnp, jx.grad if nested else None)))
        alphas, x0 = jnp.asarray(d["alphas"]), jnp.asarray(d["x0"])
        return lambda: jx.block_until_ready(g(alphas, x0))

    @w.impl("torch")
    def _torch(d):
        th = peers.torch()
        alphas0 = d["alphas"]
        x0 = th.tensor(d["x0"], requires_grad=nested)

        def f(x):
            return 0.5 * th.dot(x, x)

        def run():
            alphas = th.tensor(alphas0, requires_grad=True)
            x = x0
            for k in range(STEPS):
                if nested:
                    (g,) = th.autograd.grad(f(x), x, create_graph=True)
                else:
                    g = x
                x = x - alphas[k] * g
            (abar,) = th.autograd.grad(f(x), alphas)
            return abar

        return run

    return w


_add("hypergrad", False, 1.3, {"torch": "1.5x", "autograd": "2.9x"})
_add("hypergrad_nested", True, None, {})
