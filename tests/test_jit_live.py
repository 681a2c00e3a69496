"""jit of a transformation reads the arrays its function closes over on every call.

A derivative rule that computes with a closed-over array alone (``ct * a`` with the
constant seed of ``grad``, ``a - 1`` in the rule of ``x ** a``, a jvp's constant
tangent times ``a``) is staged (``Trace.lift``), so a write into the array between
calls reaches the derivative as it reaches the value. Random compositions of
operations with closed-over arrays, under nine transformations, are compared with the
same transformation run eagerly after each write.
"""
import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp

A0 = [0.7, 1.3, 0.9]
B0 = [[1.1, 0.2, 0.3], [0.4, 0.8, 0.1], [0.2, 0.5, 1.2]]
A = np.array(A0)
B = np.array(B0)
S = np.array(1.5)

BINARY = [lambda x: A * x, lambda x: x * A, lambda x: x / A, lambda x: A / (1.0 + x * x),
          lambda x: x ** A, lambda x: A ** x, lambda x: B @ x, lambda x: x @ B,
          lambda x: B.T @ x, lambda x: A[::-1] * x, lambda x: cnp.exp(A) * x,
          lambda x: x * S, lambda x: cnp.maximum(x, A),
          lambda x: cnp.where(cnp.greater(A, 1.0), x, -x), lambda x: cnp.dot(A, x) * x,
          lambda x: x + A, lambda x: A - x, lambda x: cnp.arctan2(x, A),
          lambda x: cnp.hypot(x, A), lambda x: cnp.sum(B * x, axis=0),
          lambda x: cnp.einsum("ij,j->i", B, x),
          # read with NumPy itself while traced: jit copies small arrays it does not
          # stage, and traces again when one changes (graph/environment.py)
          lambda x: A[0] * x, lambda x: float(S) * x, lambda x: x * B.sum(),
          lambda x: x + (A > 1.0)]
UNARY = [cnp.sin, cnp.tanh, lambda x: x * x, cnp.exp, lambda x: cnp.log1p(x * x), cnp.cos]


def _total(f):
    return lambda x: cnp.sum(f(x))


TRANSFORMS = {
    "grad": lambda f: cr.grad(_total(f)),
    "value_and_grad": lambda f: (lambda x: cr.value_and_grad(_total(f))(x)[1]),
    "jvp": lambda f: (lambda x: cr.jvp(f, (x,), (np.array([1.0, -0.5, 0.25]),))[1]),
    "vjp": lambda f: (lambda x: cr.vjp(f, x)[1](np.array([0.3, 1.0, -2.0]))[0]),
    "jacfwd": cr.jacfwd,
    "jacrev": cr.jacrev,
    "hessian": lambda f: cr.hessian(_total(f)),
    "vmap_grad": lambda f: (lambda x: cr.vmap(cr.grad(_total(f)))(cnp.stack([x, 2 * x]))),
    "jacrev_grad": lambda f: cr.jacrev(cr.grad(_total(f))),
    "checkpoint": lambda f: cr.grad(lambda x: cnp.sum(cr.checkpoint(f)(x))),
    "vmap_jvp": lambda f: (lambda x: cr.vmap(lambda t: cr.jvp(f, (x,), (t,))[1])(np.eye(3))),
    "hvp": lambda f: (lambda x: cr.jvp(cr.grad(_total(f)), (x,),
                                       (np.array([1.0, 0.5, -1.0]),))[1]),
}


def _program(rng):
    ops = [(bool(rng.integers(2)), int(rng.integers(len(BINARY))),
            int(rng.integers(len(UNARY)))) for _ in range(int(rng.integers(1, 4)))]
    ops[0] = (True,) + ops[0][1:]           # at least one closed-over array

    def f(x):
        for binary, b, u in ops:
            x = BINARY[b](x) if binary else UNARY[u](x)
        return x
    return f


@pytest.mark.parametrize("name", sorted(TRANSFORMS))
@pytest.mark.parametrize("seed", range(16))
def test_jit_of_a_transformation_reads_closed_over_arrays_every_call(name, seed):
    f = _program(np.random.default_rng(seed * 31 + len(name)))
    eager = TRANSFORMS[name](f)
    compiled = cr.jit(eager)
    A[:], B[:], S[...] = A0, B0, 1.5
    x = np.array([0.3, 0.6, 0.45])
    try:
        for _ in range(3):
            with np.errstate(all="ignore"):
                np.testing.assert_allclose(compiled(x), eager(x), rtol=1e-10, atol=1e-12)
            A[:] = A * 1.1 + 0.05           # written in place between calls
            B[:] = B[::-1] * 0.9
            S[...] = S + 0.25
    finally:
        A[:], B[:], S[...] = A0, B0, 1.5


def test_gradient_of_a_closed_over_weight_follows_writes():
    w = np.array([1.0, 2.0, 3.0])
    g = cr.jit(cr.grad(lambda x: cnp.sum(w * cnp.sin(x))))
    x = np.array([0.1, 0.2, 0.3])
    np.testing.assert_allclose(g(x), w * np.cos(x))
    w[:] = [10.0, 20.0, 30.0]
    np.testing.assert_allclose(g(x), w * np.cos(x))
    h = cr.jit(cr.grad(lambda x: cnp.sum(x ** w)))
    np.testing.assert_allclose(h(x), w * x ** (w - 1))
    w[:] = [0.5, 1.5, 2.5]
    np.testing.assert_allclose(h(x), w * x ** (w - 1))
