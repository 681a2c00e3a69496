"""Hessian-vector product of f(X) = sum(tanh(X)**2) on a 300x400 X.

chainrule: ``cr.hvp(f, (X,), (V,))`` (forward-over-reverse; ``chainrule-jit`` wraps it
in ``cr.jit``); JAX: the same
composition written out, ``jvp(grad(f))``; autograd: ``hessian_tensor_product``
(reverse-over-reverse); PyTorch: double backward with ``create_graph=True``.
Reference: the closed form, H V = V * (2 - 6 t^2) (1 - t^2) with t = tanh(X)
(the Hessian is diagonal).
"""

from __future__ import annotations

import numpy as np

from . import peers
from .harness import Target, Workload, register

SHAPE = (300, 400)


def make_data(seed=0):
    rng = np.random.default_rng(seed)
    return {"X": 0.7 * rng.standard_normal(SHAPE), "V": rng.standard_normal(SHAPE)}


def make_f(xp):
    def f(X):
        return xp.sum(xp.tanh(X) ** 2)

    return f


def numpy_hvp(X, V):
    t = np.tanh(X)
    s = t * t
    return V * (2.0 - 6.0 * s) * (1.0 - s)


w = register(Workload(
    name="hvp_tanh", family="hvp",
    description=f"Hessian-vector product of sum(tanh(X)**2), X {SHAPE[0]}x{SHAPE[1]}",
    make_data=make_data, target=(Target(ratio=3.0), Target(ratio=1.0, impl="chainrule-jit")),
    reported={"autograd": "5x", "jax-jit": "1.0x"}))


@w.impl("numpy")
def _numpy(d):
    X, V = d["X"], d["V"]
    return lambda: numpy_hvp(X, V)


@w.impl("chainrule")
def _chainrule(d):
    cr, cnp = peers.chainrule()
    f = make_f(cnp)
    X, V = d["X"], d["V"]
    return lambda: cr.hvp(f, (X,), (V,))


@w.impl("chainrule-jit")
def _chainrule_jit(d):
    cr, cnp = peers.chainrule()
    f = make_f(cnp)
    hvp = cr.jit(lambda X, V: cr.hvp(f, (X,), (V,)))
    X, V = d["X"], d["V"]
    return lambda: hvp(X, V)


@w.impl("autograd")
def _autograd(d):
    ag, anp = peers.autograd()
    hvp = ag.hessian_tensor_product(make_f(anp))
    X, V = d["X"], d["V"]
    return lambda: hvp(X, V)


def _jax_hvp(jx, f):
    return lambda X, V: jx.jvp(jx.grad(f), (X,), (V,))[1]


@w.impl("jax")
def _jax(d):
    jx, jnp = peers.jax()
    hvp = _jax_hvp(jx, make_f(jnp))
    X, V = jnp.asarray(d["X"]), jnp.asarray(d["V"])
    return lambda: jx.block_until_ready(hvp(X, V))


@w.impl("jax-jit")
def _jax_jit(d):
    jx, jnp = peers.jax()
    hvp = jx.jit(_jax_hvp(jx, make_f(jnp)))
    X, V = jnp.asarray(d["X"]), jnp.asarray(d["V"])
    return lambda: jx.block_until_ready(hvp(X, V))


@w.impl("torch")
def _torch(d):
    th = peers.torch()
    X = th.tensor(d["X"], requires_grad=True)
    V = th.from_numpy(d["V"])

    def run():
        y = th.sum(th.tanh(X) ** 2)
        (g,) = th.autograd.grad(y, X, create_graph=True)
        (hv,) = th.autograd.grad(g, X, grad_outputs=V)
        return hv

    return run
