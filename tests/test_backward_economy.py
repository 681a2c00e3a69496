"""Economies of derivatives on large arrays: pending scalar factors on cotangents and
tangents (core.Scaled: large float64 arrays multiplied by scalars are not multiplied
until needed), and tapes that keep only what rules read. These tests use arrays
above the size threshold, so the lazy paths run as they do in users' programs."""
import numpy as np

import chainrule as cr
import chainrule.numpy as cnp
from chainrule._src import core

N = 2 * core.LAZY_SIZE


def test_gradient_through_descent_steps_matches_closed_form():
    rng = np.random.default_rng(0)
    x0, alphas = rng.standard_normal(N), np.linspace(0.05, 0.15, 10)

    def loss(alphas, x0):
        x = x0
        for k in range(10):
            x = x - alphas[k] * x
        return 0.5 * cnp.dot(x, x)

    ga, gx = cr.grad(loss, argnums=(0, 1))(alphas, x0)
    p = np.prod(1.0 - alphas)
    np.testing.assert_allclose(ga, -(p * p) * (x0 @ x0) / (1.0 - alphas), rtol=1e-12)
    np.testing.assert_allclose(gx, p * p * x0, rtol=1e-12)
    assert type(gx) is np.ndarray and type(ga) is np.ndarray


def test_factors_that_cancel_give_exact_zeros_and_safe_derivatives():
    x = np.abs(np.random.default_rng(1).standard_normal(N))
    x[:10] = 0.0

    def f(x):
        y = cnp.sqrt(x)              # singular at 0: needs the zero cotangent to be seen
        return cnp.sum(2.0 * y - y * 2.0 + 0.0 * x)

    g = cr.grad(f)(x)
    assert np.all(g == 0.0)


def test_float32_and_complex_cotangents_keep_their_kind():
    x32 = np.ones(N, np.float32)
    g = cr.grad(lambda x: cnp.sum(-(3.0 * x) * x))(x32)
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, -6.0)
    z = np.full(N, 1 + 2j)
    gz = cr.grad(lambda x: cnp.real(cnp.sum((2.0 - 1j) * x * 3.0)))(np.ones(N))
    np.testing.assert_allclose(gz, 6.0)
    assert cr.grad(lambda z: cnp.sum(cnp.abs(-2.0 * z) ** 2))(z).dtype == np.complex128


def test_higher_order_and_debug_nans_see_ordinary_values():
    x = np.linspace(0.1, 1.0, N)
    f = lambda x: cnp.sum(cnp.sin(-2.0 * x) * 0.5)
    hv = cr.hvp(f, (x,), (np.ones(N),))
    np.testing.assert_allclose(hv, -2.0 * np.sin(-2.0 * x), rtol=1e-12)
    with cr.debug_nans():
        g = cr.grad(f)(x)
    np.testing.assert_allclose(g, -np.cos(-2.0 * x), rtol=1e-12)


def test_tape_keeps_only_what_rules_read():
    """x - a * x keeps x (multiply's rule reads it) but neither a * x (no rule reads it:
    multiply's output, subtract's argument) nor anything of the loss: the peak memory
    of 10 descent steps is the 11 iterates, not 20 or 30 arrays."""
    import tracemalloc
    n = 200_000
    x0, alphas = np.random.default_rng(0).standard_normal(n), np.linspace(0.05, 0.15, 10)

    def loss(alphas, x0):
        x = x0
        for k in range(10):
            x = x - alphas[k] * x
        return 0.5 * cnp.dot(x, x)
    g = cr.grad(loss)
    g(alphas, x0)
    tracemalloc.start()
    try:
        g(alphas, x0)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 12.5 * n * 8, peak / (n * 8)
