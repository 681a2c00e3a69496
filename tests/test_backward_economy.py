"""Economies of derivatives on large arrays: pending scalar factors on cotangents and
tangents (core.Scaled: large float64 arrays multiplied by scalars are not multiplied
until needed), and tapes that keep only what rules read. These tests use arrays
above the size threshold, so the lazy paths run as they do in users' programs."""
import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from chainrule._src import core

N = 2 * core.LAZY_SIZE


def _descent_loss(alphas, x0):
    """Half the squared norm after 10 descent steps x <- x - alphas[k] * x."""
    x = x0
    for k in range(10):
        x = x - alphas[k] * x
    return 0.5 * cnp.dot(x, x)


def test_gradient_through_descent_steps_matches_closed_form():
    rng = np.random.default_rng(0)
    x0, alphas = rng.standard_normal(N), np.linspace(0.05, 0.15, 10)
    ga, gx = cr.grad(_descent_loss, argnums=(0, 1))(alphas, x0)
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
    gz = cr.grad(lambda z: cnp.sum(cnp.abs(-2.0 * z) ** 2))(z)
    assert gz.dtype == np.complex128
    np.testing.assert_allclose(gz, 8.0 * np.conj(z), rtol=1e-12)     # d 4|z|^2 = 8 conj(z)


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
    g = cr.grad(_descent_loss)
    g(alphas, x0)
    tracemalloc.start()
    try:
        g(alphas, x0)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 12.5 * n * 8, peak / (n * 8)


BIG = 2 * core.DEFER_SIZE      # above core.DEFER_SIZE: reverse mode defers elementwise work


def test_grad_does_not_evaluate_an_unused_loss():
    """The loss sum(x**2) is never computed by grad (its rule needs only x): an
    overflow that would raise under np.errstate(over='raise') does not happen, while
    value_and_grad, which returns the value, computes it and raises like NumPy."""
    x = np.full(BIG, 1e200)
    f = lambda x: cnp.sum(x ** 2)
    with np.errstate(over="raise"):
        g = cr.grad(f)(x)
        np.testing.assert_allclose(g, 2e200)
        with pytest.raises(FloatingPointError):      # value_and_grad evaluates the loss
            cr.value_and_grad(f)(x)


def test_deferred_values_match_eager_everywhere(monkeypatch):
    rng = np.random.default_rng(0)
    x = rng.uniform(0.5, 1.5, BIG)

    def f(x):
        y = x
        for _ in range(50):                       # a long chain: forced in short steps
            y = cnp.sin(y) * 0.5 + y * 0.25
        if cnp.sum(y) > 0:                        # Python control flow on a lazy value
            y = y * 2.0
        y[0] = 3.0                                # in-place update of a lazy value
        return cnp.sum(cnp.tanh(y) ** 2), cnp.mean(y)

    def results():
        (v, aux), g = cr.value_and_grad(f, has_aux=True)(x)
        h = cr.hvp(lambda x: f(x)[0], (x,), (np.ones(BIG),))
        return v, aux, g, cr.grad(lambda x: f(x)[0])(x), h
    got = results()
    monkeypatch.setattr(core, "DEFER_SIZE", 10 ** 18)
    want = results()
    for a, b in zip(got, want):
        assert type(a) in (np.ndarray, np.float64), type(a)
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-13)


def test_hvp_of_large_sum_of_squares_matches_closed_form():
    rng = np.random.default_rng(1)
    X, V = 0.7 * rng.standard_normal((300, 400)), rng.standard_normal((300, 400))
    hv = cr.hvp(lambda X: cnp.sum(cnp.tanh(X) ** 2), (X,), (V,))
    t = np.tanh(X)
    np.testing.assert_allclose(hv, V * (2 - 6 * t * t) * (1 - t * t), rtol=1e-12, atol=1e-12)


def _f(x):
    return cnp.sum(cnp.tanh(x) ** 2 * 0.5 + cnp.exp(-x * x))


_V = np.random.default_rng(5).standard_normal(4000)
COMPOSITIONS = {
    "grad": lambda x: cr.grad(_f)(x),
    "value_and_grad": lambda x: cr.value_and_grad(_f)(x),
    "grad_of_vmap": lambda x: cr.grad(lambda x: cnp.sum(cr.vmap(lambda r: cnp.sin(r) * r)(
        cnp.reshape(x, (2, 2000)))))(x),
    "vmap_of_grad": lambda x: cr.vmap(cr.grad(_f))(cnp.stack([x, 2 * x])),
    "jit_of_grad": lambda x: cr.jit(cr.grad(_f))(x),
    "hvp": lambda x: cr.hvp(_f, (x,), (_V,)),
    "grad_of_grad": lambda x: cr.grad(lambda x: cnp.sum(cr.grad(_f)(x) * _V))(x),
    "checkpoint": lambda x: cr.grad(lambda x: cnp.sum(
        cr.checkpoint(lambda y: cnp.sin(y) * 2.0)(x) ** 2))(x),
    "linearize": lambda x: cr.linearize(cr.grad(_f), x)[1](_V),
    "elementwise_grad": lambda x: cr.elementwise_grad(lambda x: cnp.tanh(x) ** 2)(x),
}


@pytest.mark.parametrize("name", sorted(COMPOSITIONS))
def test_deferral_composes_with_every_transformation(name, monkeypatch):
    x = np.random.default_rng(4).uniform(-1, 1, 4000)
    monkeypatch.setattr(core, "DEFER_SIZE", 1000)
    got = COMPOSITIONS[name](x)
    monkeypatch.setattr(core, "DEFER_SIZE", 10 ** 18)
    want = COMPOSITIONS[name](x)
    got, want = (got if isinstance(got, tuple) else (got,)), \
        (want if isinstance(want, tuple) else (want,))
    assert len(got) == len(want)
    for a, b in zip(got, want):
        assert type(a) in (np.ndarray, np.float64), type(a)
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-13)


def test_gradients_are_fresh_writable_arrays():
    """Shortcuts (a unit seed times an argument, a broadcast seed) never hand back the
    user's own arrays or read-only views: in-place updates of a gradient are safe."""
    x, c = np.arange(float(BIG)), np.ones(BIG)
    for f in (lambda c: cnp.sum(c * x), lambda c: cnp.sum(x * c), lambda c: cnp.sum(c + x),
              lambda c: cnp.sum(c), lambda c: cnp.dot(c, x)):
        g = cr.grad(f)(c)
        assert g.flags.writeable and not np.shares_memory(g, x) and not np.shares_memory(g, c)
        g *= 2.0
    np.testing.assert_array_equal(x, np.arange(float(BIG)))


def test_vjp_and_jvp_never_return_the_callers_arrays():
    x, ct = np.arange(5.0), np.ones(5)
    for f, c in ((lambda x: x + 1.0, ct), (lambda x: cnp.reshape(x, (5, 1)), ct.reshape(5, 1)),
                 (lambda x: x, ct)):
        (g,) = cr.vjp(f, x)[1](c)
        assert not np.shares_memory(g, ct)
        t = cr.jvp(f, (x,), (ct,))[1]
        assert not np.shares_memory(t, ct)
        assert not np.shares_memory(cr.linearize(f, x)[1](ct), ct)


def test_deferral_never_reads_a_numpy_buffer_after_it_changes():
    """A plain NumPy array used inside the function and then modified in place (a reused
    buffer) is read when the operation runs, as NumPy would: operations on arrays from
    outside the trace are never deferred."""
    w = np.linspace(0.5, 1.5, BIG)
    buf = np.empty(BIG)

    def f(w):
        acc = 0.0 * w
        for k in range(3):
            buf[:] = k + 1.0                       # the buffer is reused
            acc = acc + w * buf
        return cnp.sum(acc * acc)

    v, g = cr.value_and_grad(f)(w)
    np.testing.assert_allclose(v, np.sum((6.0 * w) ** 2), rtol=1e-12)
    # pins the documented behaviour (docs/transformations.md, "NumPy arrays modified in
    # place"): the backward pass reads the buffer's new contents (3.0) for all three
    # products, so the gradient is 3 * 2 * (6w) * 3 = 108w, not the true 72w
    np.testing.assert_allclose(g, 108.0 * w, rtol=1e-12)


def test_a_full_sum_keeps_only_the_shape_of_a_large_argument():
    """Below the deferral size too (the short path of ReverseTrace.process): a sum whose
    rule reads only its argument's shape does not keep the array, even when its result
    is a NumPy scalar."""
    from chainrule._src.interpreters.reverse import ReverseTrace
    x = np.linspace(0.0, 1.0, 2 * core.LAZY_SIZE)
    assert x.size < core.DEFER_SIZE
    trace = ReverseTrace(None)
    t = trace.new_input(x)
    with core.new_trace_context(trace):
        out = cnp.sum(cnp.sin(t))
    kept = [r.args[0] for r in trace.tape if r.prim.name == "reduce_sum"]
    assert kept and all(type(a) is core.ShapeDtype for a in kept)
    np.testing.assert_allclose(trace.backward([out.node], [1.0], [t.node])[0], np.cos(x),
                               rtol=1e-15)
