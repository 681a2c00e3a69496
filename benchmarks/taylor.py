"""grad of a 30-term Taylor series of cos, on a Python float.

The series is written with operators only, so the same function runs under
every AD library: ``cos(x) ~ sum_{k<30} (-1)^k x^(2k) / (2k)!``, built term by
term with ``term_k = -term_{k-1} * x * x / ((2k-1) 2k)``.

The hand-written reference (``numpy`` column) is the textbook formula a person
would type: value ``sum (-1)^k x^(2k)/(2k)!`` and derivative
``sum (-1)^k 2k x^(2k-1)/(2k)!`` in plain Python float arithmetic with
``math.factorial``.  The targets and the peers' reported ratios are relative to
that.  ``numpy-recurrence`` is a faster hand-written version (value and
derivative pushed through the same recurrence as the AD code); it is shown for
context only.
"""

from __future__ import annotations

import math

from . import peers
from .harness import Target, Workload, register

N_TERMS = 30
X0 = 1.3


def taylor_cos(x):
    ans = term = 1.0
    for k in range(1, N_TERMS):
        term = -term * x * x / ((2 * k - 1) * (2 * k))
        ans = ans + term
    return ans


def taylor_cos_value_and_grad(x):
    """Value and derivative of the truncated series, textbook formula."""
    value = sum((-1) ** k * x ** (2 * k) / math.factorial(2 * k) for k in range(N_TERMS))
    grad = sum((-1) ** k * (2 * k) * x ** (2 * k - 1) / math.factorial(2 * k) for k in range(1, N_TERMS))
    return value, grad


def taylor_cos_value_and_grad_recurrence(x):
    """Value and derivative of the truncated series, forward propagation by hand."""
    value, term = 1.0, 1.0
    grad, dterm = 0.0, 0.0
    for k in range(1, N_TERMS):
        c = -1.0 / ((2 * k - 1) * (2 * k))
        dterm = c * (dterm * x * x + 2.0 * term * x)
        term = c * term * x * x
        value += term
        grad += dterm
    return value, grad


w = register(Workload(
    name="taylor_cos", family="taylor",
    description=f"grad of a {N_TERMS}-term Taylor series of cos at the Python float {X0}",
    make_data=lambda: {"x": X0},
    target=(Target(ratio=30.0), Target(ratio=1.0, impl="chainrule-jit")),
    reported={"torch": "34x", "autograd": "80x", "jax-jit": "0.25x"},
    rtol=1e-12, atol=1e-14))


@w.impl("numpy")
def _numpy(d):
    x = d["x"]
    return lambda: taylor_cos_value_and_grad(x)[1]


@w.impl("numpy-recurrence")
def _numpy_recurrence(d):
    x = d["x"]
    return lambda: taylor_cos_value_and_grad_recurrence(x)[1]


@w.impl("chainrule")
def _chainrule(d):
    cr, _ = peers.chainrule()
    g = cr.grad(taylor_cos)
    x = d["x"]
    return lambda: g(x)


@w.impl("chainrule-jit")
def _chainrule_jit(d):
    cr, _ = peers.chainrule()
    g = cr.jit(cr.grad(taylor_cos))
    x = d["x"]
    return lambda: g(x)


@w.impl("autograd")
def _autograd(d):
    ag, _ = peers.autograd()
    g = ag.grad(taylor_cos)
    x = d["x"]
    return lambda: g(x)


@w.impl("jax")
def _jax(d):
    jx, _ = peers.jax()
    g = jx.grad(taylor_cos)
    x = d["x"]
    return lambda: jx.block_until_ready(g(x))


@w.impl("jax-jit")
def _jax_jit(d):
    jx, _ = peers.jax()
    g = jx.jit(jx.grad(taylor_cos))
    x = d["x"]
    return lambda: jx.block_until_ready(g(x))


@w.impl("torch")
def _torch(d):
    th = peers.torch()
    x0 = d["x"]

    def run():
        # A fresh leaf per call, as a user differentiating at a Python float would.
        x = th.tensor(x0, requires_grad=True)
        (g,) = th.autograd.grad(taylor_cos(x), x)
        return g

    return run
