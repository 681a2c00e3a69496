"""Regressions found by a generated hunt of the composite NumPy functions and SciPy
extras (numpy/composite.py, polynomial.py, scipy/signal.py): values, dtypes and
derivatives inside transformations against NumPy/SciPy and finite differences. Each
test failed on the files before the fix; most were silent (a wrong value, shape or
dtype, no error)."""
import warnings

import numpy as np
import pytest
import scipy.signal as ss

import chainrule as cr
import chainrule.numpy as cnp
import chainrule.scipy.signal as css


def _same(got, want, tol=1e-12):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, (got.shape, want.shape)
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


# ---------------------------------------------------------------- convolve/correlate

@pytest.mark.parametrize("fn", ["convolve", "correlate"])
@pytest.mark.parametrize("a,v", [
    (np.array([1, -2, 3]), np.array([4, 5])),
    (np.array([True, False, True]), np.array([True, True])),
    (np.array([1, 2], np.int32), np.array([True, False, True])),
])
def test_convolve_integer_dtypes(fn, a, v):
    """Integers and booleans convolve in their own dtype, as NumPy's (were float64)."""
    for mode in ("full", "same", "valid"):
        want = getattr(np, fn)(a, v, mode)
        _same(cr.jit(lambda a, v: getattr(cnp, fn)(a, v, mode))(a, v), want)


# ---------------------------------------------------------------- cov / corrcoef

def test_cov_rowvar_false_of_one_row():
    """A (1, N) m with rowvar=False is N variables of one observation (NumPy
    transposes by m.ndim; chainrule returned a scalar)."""
    m = np.array([[0.3, -1.2, 0.5, 2.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        want = np.cov(m, rowvar=False)
        got = cr.jit(lambda m: cnp.cov(m, rowvar=False))(m)
    assert np.shape(got) == want.shape == (4, 4)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))


@pytest.mark.parametrize("shape,ddof", [((2, 1), None), ((2, 1), 2), ((2, 3), 3)])
def test_cov_degrees_of_freedom_not_positive(shape, ddof):
    """NumPy divides by 0 (inf/nan); chainrule raised ZeroDivisionError or divided by
    a negative count (-0 where NumPy has nan)."""
    m = np.random.default_rng(0).standard_normal(shape)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        want = np.cov(m, ddof=ddof)
        got = cr.jit(lambda m: cnp.cov(m, ddof=ddof))(m)
        out, _ = cr.jvp(lambda m: cnp.cov(m, ddof=ddof), (m,), (np.ones(shape),))
    np.testing.assert_array_equal(np.asarray(got), want)
    np.testing.assert_array_equal(np.asarray(out), want)


def test_cov_negative_aweights_raise():
    m = np.ones((2, 3))
    with pytest.raises(ValueError, match="aweights cannot be negative"):
        cr.grad(lambda w: cnp.sum(cnp.cov(m, aweights=w)))(np.array([1.0, -1.0, 2.0]))


# ---------------------------------------------------------------- interp

def test_interp_dtype_is_float64():
    """NumPy interpolates in float64 (complex128); float32 data gave float32."""
    x = np.array([0.3, 1.7], np.float32)
    for xp, fp in ((np.array([0.0, 1.0, 2.0], np.float32), np.array([1.0, -2.0, 0.5], np.float32)),
                   (np.array([0.5]), np.array([1.5], np.float32))):
        _same(cr.jit(cnp.interp)(x, xp, fp), np.interp(x, xp, fp))
        _same(cr.jvp(lambda fp: cnp.interp(x, xp, fp), (fp,), (fp,))[0],
              np.interp(x, xp, fp))


def test_interp_infinite_values_follow_numpy():
    """An infinite fp: NumPy takes fp[j] at a knot and the line from the right end
    elsewhere (chainrule gave nan); x nan gives nan."""
    xp = np.array([0.0, 1.0, 2.0])
    x = np.array([0.5, 1.0, 1.5, 0.0, 2.0, np.nan])
    for fp in (np.array([0.0, np.inf, 2.0]), np.array([np.inf, np.inf, 2.0])):
        want = np.interp(x, xp, fp)
        np.testing.assert_array_equal(cr.jit(lambda x: cnp.interp(x, xp, fp))(x), want)


def test_interp_period():
    """period= (was NotImplementedError): values and derivatives of NumPy's program."""
    rng = np.random.default_rng(3)
    xp, fp = rng.uniform(0, 6, 5), rng.standard_normal(5)
    x = rng.uniform(-5, 5, 6)
    f = lambda x, fp: cnp.interp(x, xp, fp, period=2.0)
    _same(cr.jit(f)(x, fp), np.interp(x, xp, fp, period=2.0))
    gx, gf = cr.grad(lambda x, fp: cnp.sum(f(x, fp)), argnums=(0, 1))(x, fp)
    h = 1e-6
    fd = [(np.sum(np.interp(x + h * e, xp, fp, period=2.0))
           - np.sum(np.interp(x - h * e, xp, fp, period=2.0))) / (2 * h) for e in np.eye(6)]
    np.testing.assert_allclose(gx, fd, rtol=1e-6, atol=1e-6)
    fd = [(np.sum(np.interp(x, xp, fp + h * e, period=2.0))
           - np.sum(np.interp(x, xp, fp - h * e, period=2.0))) / (2 * h) for e in np.eye(5)]
    np.testing.assert_allclose(gf, fd, rtol=1e-6, atol=1e-6)


# ---------------------------------------------------------------- unwrap

@pytest.mark.parametrize("p,kw", [
    (np.array([0, 5, 1, 7, 2, 6]), dict(period=8)),
    (np.array([0, 2, 4, 6, 3, 0]), dict(period=4)),
    (np.array([0, 5, 1, 7, 2, 6], np.int32), dict(period=7)),
    (np.array([True, False, False, True]), {}),
    (np.array([0.0, 3.5, 7.1, 1.0], np.float32), {}),
])
def test_unwrap_dtypes(p, kw):
    """NumPy's integer branch keeps integers (were float64); booleans differ by !="""
    _same(cr.jit(lambda p: cnp.unwrap(p, **kw))(p), np.unwrap(p, **kw), tol=1e-6)


def test_unwrap_unsigned_raises_as_numpy():
    p = np.array([0, 5, 1, 7], np.uint8)
    with pytest.raises(OverflowError):
        np.unwrap(p, period=8)
    with pytest.raises(OverflowError):
        cr.jit(lambda p: cnp.unwrap(p, period=8))(p)


# ---------------------------------------------------------------- vander, geomspace

@pytest.mark.parametrize("x", [np.array([1.5, -2.0], np.float32),
                               np.array([True, False]), np.array([2, 3], np.int8)])
def test_vander_dtype(x):
    """NumPy's vander is promote_types(x.dtype, int): float32 gave float32."""
    _same(cr.jit(lambda x: cnp.vander(x, 3))(x), np.vander(x, 3))


def test_geomspace_broadcasts_start_and_stop():
    a, b = np.array([1.0, 2.0]), np.array([[3.0], [4.0]])
    for num in (1, 5):
        _same(cr.jit(lambda a, b: cnp.geomspace(a, b, num))(a, b), np.geomspace(a, b, num))


# ---------------------------------------------------------------- polynomials

def test_polymul_trims_leading_zeros():
    """NumPy's polymul multiplies poly1d's coefficients (leading zeros trimmed; an
    empty polynomial is [0]): chainrule kept them (a longer result) or raised."""
    a, b = np.array([0.0, 0.0, 1.5, -2.0]), np.array([2.0, 1.0])
    _same(cr.jit(cnp.polymul)(a, b), np.polymul(a, b))
    _same(cr.jit(cnp.polymul)(np.array([0.3, -1.2, 0.5]), np.array([False, True])),
          np.polymul(np.array([0.3, -1.2, 0.5]), np.array([False, True])))
    _same(cr.jit(cnp.polymul)(np.zeros(0), np.ones(2)), np.polymul(np.zeros(0), np.ones(2)))
    g = cr.grad(lambda a: cnp.sum(cnp.polymul(a, b)))(a)
    np.testing.assert_allclose(g, [0.0, 0.0, 3.0, 3.0])


def test_polydiv_real_by_complex():
    """A real dividend and a complex divisor: NumPy divides in complex; chainrule added
    complex updates into the real remainder (imaginary parts dropped) and gave a float64
    quotient when deg(u) < deg(v)."""
    u = np.array([1.0, -2.0, 0.5, 3.0])
    v = np.array([1.0 + 2.0j, 0.5 - 1.0j])
    for uu, vv in ((u, v), (u[:1], v[:1]), (u[:2], np.r_[v, 1.0])):
        for got, want in zip(cr.jit(cnp.polydiv)(uu, vv), np.polydiv(uu, vv)):
            _same(got, want)


@pytest.mark.parametrize("p", [np.array([3, -1, 2]), np.array([True, False, True]),
                               np.array([1.5, 2.0], np.float32)])
def test_polyder_polyint_dtypes(p):
    """NumPy keeps integer coefficients (polyder) and p itself for m=0."""
    for m in (0, 1, 2):
        _same(cr.jit(lambda p: cnp.polyder(p, m))(p), np.polyder(p, m))
        _same(cr.jit(lambda p: cnp.polyint(p, m))(p), np.polyint(p, m))


def test_polyint_length_one_k():
    """A length-1 k is every constant, as NumPy's (chainrule raised for m > 1)."""
    p = np.array([1.0, 2.0, 3.0])
    _same(cr.jit(lambda p: cnp.polyint(p, 3, [0.5]))(p), np.polyint(p, 3, [0.5]))


def test_poly_and_roots_dtypes():
    z = np.array([1, -2, 3])
    _same(cr.jit(cnp.poly)(z), np.poly(z))
    c = np.array([0.0, 2.5])
    _same(cr.jit(cnp.roots)(c), np.roots(c))        # a constant: empty float64


# ---------------------------------------------------------------- piecewise

def test_piecewise_one_boolean_array_is_one_condition():
    """A boolean array as condlist is one condition (NumPy); chainrule read each
    element as a condition: with len(funclist) == len(x) every element got the first
    function, silently."""
    x = np.array([1.0, 2.0])
    c = np.array([True, False])
    f = [lambda v: 10 * v, lambda v: -v]
    _same(cr.jit(lambda x: cnp.piecewise(x, c, f))(x), np.piecewise(x, c, f))
    np.testing.assert_array_equal(
        cr.grad(lambda x: cnp.sum(cnp.piecewise(x, c, f)))(x), [10.0, -1.0])
    _same(cr.jit(lambda x: cnp.piecewise(x, [True, False], f))(x),
          np.piecewise(x, [True, False], f))


def test_piecewise_zero_dimensional():
    x = np.float64(3.0)
    for conds, funcs in (([True], [lambda v: 2 * v]), (True, [lambda v: 2 * v]),
                         ([False], [lambda v: 2 * v, 7.0])):
        _same(cr.jit(lambda x: cnp.piecewise(x, conds, funcs))(x),
              np.piecewise(x, conds, funcs))
    assert cr.grad(lambda x: cnp.piecewise(x, [True], [lambda v: 2 * v]))(3.0) == 2.0


# ---------------------------------------------------------------- histogram

def test_histogram_counts_in_the_weights_dtype():
    x = np.random.default_rng(0).standard_normal(20)
    for w in (np.linspace(0.5, 1.5, 20).astype(np.float32), np.arange(20),
              np.arange(20) > 5):
        _same(cr.jit(lambda w: cnp.histogram(x, 3, weights=w)[0])(w),
              np.histogram(x, 3, weights=w)[0])


# ---------------------------------------------------------------- scipy.signal

@pytest.mark.parametrize("a,b", [
    (np.array([1, 2, 3]), np.array([1, -1])),
    (np.array([1.0, 2.0, 3.0], np.float32), np.array([True, False])),
    (np.array([[1, 0], [2, 1]]), np.array([[True, False], [False, True]])),
    (np.array([1.0, 2.0, 3.0], np.float32), np.array([0.5, 1.5], np.float32)),
])
def test_fftconvolve_dtypes(a, b):
    """SciPy's transforms: integers and booleans in float64, float32 alone stays
    float32 (chainrule gave int64/bool/float32 where SciPy has float64)."""
    for mode in ("full", "same", "valid"):
        _same(cr.jit(lambda a, b: css.fftconvolve(a, b, mode))(a, b),
              ss.fftconvolve(a, b, mode), tol=1e-6)


def test_fftconvolve_empty():
    a, b = np.zeros(0), np.ones(2)
    _same(cr.jit(css.fftconvolve)(a, b), ss.fftconvolve(a, b))
