"""helper-58's break-it pass over zeros_like buffers, where=/initial= reductions, jit
guards, derivative formulas, einsum/norm and one-axis checks (0b7e75d..HEAD).

Two silent differences found and fixed:

* a NumPy scalar (``v = x[0]`` of a vector, ``x.sum()``) has no memory: NumPy's
  ``np.atleast_1d(v)``, ``v.reshape(1)``, ``v[None]``, ``np.ascontiguousarray(v)`` are new
  arrays, and writing into them leaves ``v`` alone. The traced ``v`` recorded them as
  views, so ``r = np.atleast_1d(v); r[0] = 9`` changed ``v`` to 9 under jit, jvp and grad
  (numpy/aliasing.py ``make_view``; ``np.asarray(v)``/``np.require(v)`` returned ``v``
  itself: ``register``).
* jit of ``np.mean/var/std(x, where=M)`` with a closed-over mask ``M`` written in place
  between calls: the compiled program summed over the new mask but divided by the
  count of the mask it had when traced (3.5 became 2.33; the gradient too)
  (numpy/basic.py ``staged_count``).
* nanprod / nanmax / nancumprod lost the sign of a -0.0 (NaNs were replaced by adding
  ``where(isnan, value, +0.0)``, and -0.0 + 0.0 is +0.0) (numpy/reductions.py
  ``_nan_fill``).
"""
import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp


def _same(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and np.array_equal(a, b, equal_nan=True) and \
        np.array_equal(np.signbit(a.real), np.signbit(b.real)) and \
        np.array_equal(np.signbit(a.imag), np.signbit(b.imag))


# ---------------------------------------------------------------- NumPy scalars

_SCALAR_VIEWS = {
    "atleast_1d": lambda v: np.atleast_1d(v),
    "reshape": lambda v: v.reshape(1),
    "np.reshape": lambda v: np.reshape(v, (1, 1)),
    "none": lambda v: v[None],
    "ellipsis": lambda v: v[...],
    "ravel": lambda v: np.ravel(v),
    "expand_dims": lambda v: np.expand_dims(v, 0),
    "ascontiguousarray": lambda v: cnp.ascontiguousarray(v),
    "asfortranarray": lambda v: cnp.asfortranarray(v),
    "require": lambda v: cnp.require(v, None, "C"),
    "require W": lambda v: cnp.require(v, None, "W"),
    "asarray": lambda v: cnp.asarray(v),
    "asanyarray": lambda v: cnp.asanyarray(v),
}


def _element_then_write(make):
    def f(x):
        x = x * 1.0
        v = x[0]                  # NumPy: a np.float64, not a view of x
        r = make(v)
        r[...] = 9.0
        return v * x[1] + x.sum()
    return f


def _sum_then_write(make):
    def f(x):
        v = np.sum(x)             # NumPy: a np.float64
        r = make(v)
        r[...] = 9.0
        return v * x
    return f


@pytest.mark.parametrize("name", sorted(_SCALAR_VIEWS))
@pytest.mark.parametrize("build", [_element_then_write, _sum_then_write])
def test_writing_into_an_array_made_from_a_numpy_scalar_leaves_it(name, build):
    f = build(_SCALAR_VIEWS[name])
    x = np.array([0.5, 1.5, -2.0])
    want = f(x.copy())
    assert _same(cr.jit(f)(x.copy()), want)
    jf = cr.jit(f)
    jf(x.copy())
    assert _same(jf(x.copy()), want)            # the compiled program
    t = np.array([1.0, -2.0, 0.5])
    p, tan = cr.jvp(f, (x.copy(),), (t,))
    assert _same(p, want)
    h = 1e-6
    fd = (f(x + h * t) - f(x - h * t)) / (2 * h)
    np.testing.assert_allclose(tan, fd, rtol=1e-6, atol=1e-8)
    g = cr.grad(lambda z: cnp.sum(f(z)))(x.copy())
    fd = np.array([(np.sum(f(x + h * e)) - np.sum(f(x - h * e))) / (2 * h)
                   for e in np.eye(3)])
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-8)


def test_a_zero_d_array_view_still_writes_through():
    # x[0, ...] and np.copy(x[0]) are 0-d arrays in NumPy: their views share memory
    def f(x):
        x = x * 1.0
        v = x[0, ...]
        v.reshape(1)[0] = 9.0
        c = np.copy(x[1])
        c.reshape(1)[0] = 7.0
        a = np.zeros_like(x[2, ...])
        np.atleast_1d(a)[0] = 4.0
        return x * c * a
    x = np.array([0.5, 1.5, -2.0])
    want = f(x.copy())
    for tr in (cr.jit, lambda f: (lambda z: cr.jvp(f, (z,), (z,))[0])):
        assert _same(tr(f)(x.copy()), want)
    np.testing.assert_allclose(cr.grad(lambda z: cnp.sum(f(z)))(x), [0.0, 28.0, 28.0])
    np.testing.assert_allclose(cr.vmap(f)(np.stack([x, x])), np.stack([want, want]))


# ---------------------------------------------------------------- live masks under jit

@pytest.mark.parametrize("name", ["mean", "var", "std_ddof", "mean_kd", "mean_c",
                                  "mean_int", "grad"])
def test_jit_counts_the_mask_it_reads_on_every_call(name):
    x = np.array([1.0, 2.0, 3.0, 4.0])
    M = np.array([True, False, True, True])
    f = {"mean": lambda z: np.mean(z, where=M),
         "var": lambda z: np.var(z, where=M),
         "std_ddof": lambda z: np.std(z.reshape(2, 2), axis=0, ddof=1,
                                      where=M.reshape(2, 2)),
         "mean_kd": lambda z: np.mean(z.reshape(2, 2), axis=1, keepdims=True,
                                      where=M.reshape(2, 2)),
         "mean_c": lambda z: np.mean(z * (1 + 1j), where=M),
         "mean_int": lambda z: np.mean(z.astype(int), where=M),
         "grad": cr.grad(lambda z: np.mean(z, where=M))}[name]
    jf = cr.jit(f)
    for k in range(3):
        with np.errstate(all="ignore"):
            want = f(x.copy())
            got = jf(x.copy())
        assert _same(got, want), (k, got, want)
        M[k] = not M[k]                 # the closed-over mask, written in place


# ---------------------------------------------------------------- -0.0 through nan*

_NAN_FUNCS = {
    "nanprod": lambda z: np.nanprod(z),
    "nanprod initial": lambda z: np.nanprod(z, initial=2),
    "nanprod axis": lambda z: np.nanprod(z.reshape(1, -1), axis=1),
    "nanmax": lambda z: np.nanmax(z),
    "nancumprod": lambda z: np.nancumprod(z),
}


@pytest.mark.parametrize("name", sorted(_NAN_FUNCS))
@pytest.mark.parametrize("x", [[-0.0, 2.0, np.nan], [-0.0, -2.0, np.nan], [-0.0, 3.0]],
                         ids=["pos", "neg", "nonan"])
def test_nan_functions_keep_the_sign_of_negative_zero(name, x):
    f = _NAN_FUNCS[name]
    x = np.array(x)
    want = f(x)
    assert _same(cr.jvp(f, (x,), (np.ones_like(x),))[0], want)
    assert _same(cr.jit(f)(x), want)
    assert _same(cr.vmap(f)(x[None])[0], want)


def test_nanprod_complex_negative_zero():
    x = np.array([complex(-0.0, -0.0), complex(2.0, -0.0), np.nan])
    want = np.nanprod(x)
    assert _same(cr.jvp(np.nanprod, (x,), (np.ones_like(x),))[0], want)
    assert _same(cr.jit(np.nanprod)(x), want)


# ---------------------------------------------------------------- held: no difference

def test_zeros_like_buffer_in_every_transformation():
    def f(x):
        d = np.zeros_like(x)
        d[1:-1] = x[2:] - x[:-2]
        v = d[::2]
        v += x[::2] ** 2
        return d * x
    x = np.array([0.3, -1.2, 0.7, 2.1, 0.5])
    want = f(x.copy())
    assert _same(cr.jit(f)(x.copy()), want)
    jac = np.zeros((5, 5))
    for i in range(5):
        e = np.eye(5)[i] * 1e-6
        jac[:, i] = (f(x + e) - f(x - e)) / 2e-6
    for J in (cr.jacfwd(f)(x), cr.jacrev(f)(x), cr.jit(cr.jacrev(f))(x),
              cr.jacrev(cr.checkpoint(f))(x)):
        np.testing.assert_allclose(J, jac, rtol=1e-6, atol=1e-8)
    xs = np.stack([x, 2 * x])
    np.testing.assert_array_equal(cr.vmap(f)(xs), np.stack([f(r) for r in xs]))


def test_masked_mean_var_values_and_derivatives():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 4))
    m = rng.random((3, 4)) > 0.4
    m[:, 0] = True
    for f in (lambda z: np.mean(z, axis=0, where=m), lambda z: np.var(z, axis=1, where=m),
              lambda z: np.max(z, axis=0, where=m, initial=-1.0),
              lambda z: np.sum(z, where=m, initial=2.5)):
        want = f(x)
        assert _same(cr.jvp(f, (x,), (np.ones_like(x),))[0], want)
        ct = np.cos(np.arange(np.size(want))).reshape(np.shape(want))
        g = cr.vjp(f, x)[1](ct)[0]
        fd = np.zeros_like(x)
        for i in np.ndindex(x.shape):
            e = np.zeros_like(x)
            e[i] = 1e-6
            fd[i] = np.sum((f(x + e) - f(x - e)) * ct) / 2e-6
        np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-8)
