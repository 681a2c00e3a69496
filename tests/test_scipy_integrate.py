"""chainrule.scipy.integrate's quadratures of sampled data (trapezoid,
cumulative_trapezoid, simpson, romb) beyond the op database: values bit for bit
SciPy's, with SciPy's dtypes (float32 data, integer data, in-place sums over 2-D
data), inside transformations; SciPy's errors; the error of a plain SciPy call on a
traced value; derivatives against JAX and against SciPy's own weights."""
import warnings

import numpy as np
import pytest
import scipy.integrate as si

import chainrule as cr
import chainrule.numpy as cnp
import chainrule.scipy.integrate as cig
from chainrule import TracerConversionError

RNG = np.random.default_rng(57)
NAMES = ("trapezoid", "cumulative_trapezoid", "simpson", "romb")


def bits(a, b):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape and a.dtype == b.dtype, (a.shape, b.shape, a.dtype, b.dtype)
    assert np.array_equal(a.reshape(-1).view(np.uint8), b.reshape(-1).view(np.uint8)), (a, b)


def traced(fn, y, **kw):
    """fn(y, **kw) with y traced in three ways: reverse mode, jit, vmap."""
    out = [cr.vjp(lambda v: fn(v, **kw), y)[0], cr.jit(lambda v: fn(v, **kw))(y),
           cr.vmap(lambda v: fn(v, **kw))(y[None])[0]]
    return out


def _cases():
    out = []
    for shape, axis in [((7,), -1), ((6,), 0), ((2,), -1), ((3, 8), -1), ((6, 3), 0),
                        ((2, 5, 4), 1), ((9,), -1), ((3, 5), 1), ((1,), 0)]:
        n = shape[axis]
        for dt in (np.float64, np.float32, np.complex128):
            y = RNG.standard_normal(shape)
            if dt is np.complex128:
                y = y + 1j * RNG.standard_normal(shape)
            y = y.astype(dt)
            for kw in ({}, {"dx": 0.37}, {"x": np.cumsum(RNG.uniform(0.1, 1, n))},
                       {"x": np.cumsum(RNG.uniform(0.1, 1, shape), axis=axis)}):
                out.append((y, dict(kw, axis=axis)))
    return out


@pytest.mark.parametrize("name", NAMES)
def test_values_are_scipys_bit_for_bit_inside_transformations(name):
    count = 0
    for y, kw in _cases():
        if name == "romb":
            n = y.shape[kw["axis"]]
            if "x" in kw or n < 2 or (n - 1) & (n - 2):
                continue
        if name == "cumulative_trapezoid" and "dx" in kw:
            kw = dict(kw, initial=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            want = getattr(si, name)(y, **kw)
        for got in traced(getattr(cig, name), y, **kw):
            bits(got, want)
            count += 1
    assert count >= 60


def test_dtypes_follow_scipys_code_paths():
    # simpson over float32 data with an even count: SciPy adds a float64 correction
    # in place into a 2-D float32 result (float32) and out of place to a 1-D one's
    # scalar (float64)
    y2 = RNG.standard_normal((3, 6)).astype(np.float32)
    y1 = RNG.standard_normal(6).astype(np.float32)
    for y in (y1, y2):
        for got in traced(cig.simpson, y):
            bits(got, si.simpson(y))
    assert si.simpson(y1).dtype == np.float64 and si.simpson(y2).dtype == np.float32
    # trapezoid sums float32 data with float64 spacings in float32 (SciPy's dtype=)
    x = np.cumsum(RNG.uniform(0.1, 1, 6))
    for got in traced(cig.trapezoid, y2, x=x):
        bits(got, si.trapezoid(y2, x=x))
    # romb: float32 data times the float64 step is float64
    for got in traced(cig.romb, RNG.standard_normal((2, 5)).astype(np.float32), dx=0.3):
        assert got.dtype == np.float64
    # integer data and integer sample points (x is differentiated only when float)
    yi, xi = np.arange(7) ** 2, np.arange(7)
    for name in ("trapezoid", "cumulative_trapezoid", "simpson"):
        out = cr.jit(lambda: getattr(cig, name)(yi, x=xi))()
        bits(out, getattr(si, name)(yi, x=xi))
        got, _ = cr.vjp(lambda yf: getattr(cig, name)(yf, x=xi), yi.astype(float))
        bits(got, getattr(si, name)(yi.astype(float), x=xi))


def test_traced_dx_is_scipys_value():
    # trapezoid, cumulative_trapezoid, romb and odd-count simpson: bit for bit; an even
    # count's correction cubes dx, which SciPy does on a NumPy scalar (C's pow) and
    # chainrule on an array (NumPy's vectorised power): the last bit may differ
    y = RNG.standard_normal((3, 9))
    for dx in RNG.uniform(0.05, 3, 20):
        for name in ("trapezoid", "cumulative_trapezoid", "romb", "simpson"):
            want = getattr(si, name)(y, dx=dx)
            got = cr.vjp(lambda d: getattr(cig, name)(y, dx=d), dx)[0]
            bits(got, want)
        want = si.simpson(y[:, :8], dx=dx)
        got = cr.vjp(lambda d: cig.simpson(y[:, :8], dx=d), dx)[0]
        np.testing.assert_allclose(got, want, rtol=4e-16, atol=0)


def _both(ref, fn):
    try:
        ref()
    except Exception as e:
        with pytest.raises(type(e)) as info:
            cr.vjp(fn, np.ones(1))
        return str(e), str(info.value)
    raise AssertionError("SciPy did not raise")


@pytest.mark.parametrize("case", [
    ("simpson", (np.ones(0),), {}), ("simpson", (np.ones(5),), {"axis": 1}),
    ("simpson", (np.ones(5), np.ones(4)), {}), ("simpson", (np.ones(5), np.ones((1, 5))), {}),
    ("trapezoid", (np.ones(5),), {"axis": 2}), ("trapezoid", (np.ones(5), np.ones(4)), {}),
    ("cumulative_trapezoid", (np.ones(0),), {}),
    ("cumulative_trapezoid", (np.ones(5),), {"initial": 1}),
    ("cumulative_trapezoid", (np.ones(5),), {"initial": np.array(0.0)}),
    ("cumulative_trapezoid", (np.ones(5), np.ones(4)), {}),
    ("cumulative_trapezoid", (np.ones(5), np.ones((1, 1, 5))), {}),
    ("romb", (np.ones(6),), {}), ("romb", (np.ones(1),), {}),
    ("simpson", (np.ones((2, 3)),), {"dx": np.ones((2, 1))}),   # SciPy's in-place *=
], ids=lambda c: c[0])
def test_scipys_errors(case):
    name, args, kw = case
    a, b = _both(lambda: getattr(si, name)(*args, **kw),
                 lambda s: getattr(cig, name)(args[0] * s, *args[1:], **kw))
    assert a.replace(" ", "") == b.replace(" ", "")


def test_refusals_name_the_case():
    y = np.ones(5)
    with pytest.raises(NotImplementedError, match="show="):
        cr.grad(lambda v: cig.romb(v, show=True))(y)
    with pytest.raises(NotImplementedError, match="complex x"):
        cr.grad(lambda v: cig.simpson(v, x=np.arange(5) + 0j))(y)


@pytest.mark.parametrize("name", NAMES)
def test_scipys_own_function_on_a_traced_value_names_chainrules(name):
    with pytest.raises(TracerConversionError,
                       match=f"Call chainrule.scipy.integrate.{name} instead"):
        cr.grad(lambda v: cnp.sum(getattr(si, name)(v)))(np.ones(5))


def test_derivatives_match_jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy

    def jsimpson(y, x):                    # SciPy >= 1.11's rule, 1-D, uneven x
        h = jnp.diff(x)
        n = y.shape[0]
        m = n - 2 if n % 2 else n - 3
        h0, h1 = h[0:m:2], h[1:m + 1:2]
        hs, hp, q = h0 + h1, h0 * h1, h0 / h1
        r = jnp.sum(hs / 6.0 * (y[0:m:2] * (2.0 - 1.0 / q) + y[1:m + 1:2] * (hs * hs / hp)
                                + y[2:m + 2:2] * (2.0 - q)))
        if n % 2 == 0:
            a, b = h[-2], h[-1]
            r = r + (2 * b ** 2 + 3 * a * b) / (6 * (a + b)) * y[-1] \
                + (b ** 2 + 3.0 * a * b) / (6 * a) * y[-2] - b ** 3 / (6 * a * (a + b)) * y[-3]
        return r

    def jcum(y, x):
        return jnp.sum(jnp.sin(jnp.cumsum(jnp.diff(x) * (y[1:] + y[:-1]) / 2.0)))

    for n in (5, 6, 9, 10):
        y, x = RNG.standard_normal(n), np.cumsum(RNG.uniform(0.2, 1, n))
        pairs = [(lambda y, x: cig.simpson(y, x=x), jsimpson),
                 (lambda y, x: cig.trapezoid(y, x) ** 2,
                  lambda y, x: jax.scipy.integrate.trapezoid(y, x) ** 2),
                 (lambda y, x: cnp.sum(cnp.sin(cig.cumulative_trapezoid(y, x))), jcum)]
        for f, jf in pairs:
            np.testing.assert_allclose(f(y, x), jf(y, x), rtol=1e-13)
            got, want = cr.grad(f, argnums=(0, 1))(y, x), jax.grad(jf, argnums=(0, 1))(y, x)
            for a, b in zip(got, want):
                np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13)
            np.testing.assert_allclose(cr.hessian(f, argnums=1)(y, x),
                                       jax.hessian(jf, argnums=1)(y, x), rtol=1e-10, atol=1e-12)
            np.testing.assert_allclose(cr.jacfwd(cr.grad(f, argnums=1), argnums=0)(y, x),
                                       jax.jacfwd(jax.grad(jf, argnums=1), argnums=0)(y, x),
                                       rtol=1e-10, atol=1e-12)


def test_gradient_in_y_is_scipys_weights():
    # simpson and romb are linear in y: the gradient is SciPy's result on unit vectors
    for n in (2, 3, 4, 5, 8, 9, 17):
        e = np.eye(n)
        y = RNG.standard_normal(n)
        x = np.cumsum(RNG.uniform(0.2, 1, n))
        cases = [(cig.simpson, si.simpson, {"x": x}),
                 (cig.simpson, si.simpson, {"dx": 0.7}),
                 (cig.trapezoid, si.trapezoid, {"x": x})]
        if (n - 1) & (n - 2) == 0:
            cases.append((cig.romb, si.romb, {"dx": 0.7}))
        for fn, ref, kw in cases:
            w = np.array([ref(e[i], **kw) for i in range(n)])
            np.testing.assert_allclose(cr.grad(lambda v: fn(v, **kw))(y), w,
                                       rtol=1e-14, atol=1e-15)
            np.testing.assert_allclose(cr.jvp(lambda v: fn(v, **kw), (y,), (e[n // 2],))[1],
                                       w[n // 2], rtol=1e-14, atol=1e-15)


def test_repeated_sample_points_have_finite_derivatives():
    # SciPy sets the quotients of a zero spacing to 0: the value is SciPy's and the
    # derivatives are those of that branch (finite, no nan from the unused quotient)
    y = np.array([1.0, 2.0, 0.5, 3.0, 1.5, 2.5])
    x = np.array([0.0, 1.0, 1.0, 2.0, 3.0, 3.0])
    for n in (5, 6):
        bits(cr.vjp(lambda v: cig.simpson(v, x=x[:n]), y[:n])[0], si.simpson(y[:n], x=x[:n]))
        gx = cr.grad(lambda v: cig.simpson(y[:n], x=v))(x[:n])
        hx = cr.hessian(lambda v: cig.simpson(y[:n], x=v))(x[:n])
        gy = cr.grad(lambda v: cig.simpson(v, x=x[:n]))(y[:n])
        assert np.isfinite(gx).all() and np.isfinite(hx).all()
        np.testing.assert_allclose(gy, [si.simpson(np.eye(n)[i], x=x[:n]) for i in range(n)],
                                   rtol=1e-14)


def test_batched_sample_points_match_a_loop():
    y = RNG.standard_normal((4, 6))
    xs = np.cumsum(RNG.uniform(0.2, 1, (3, 6)), axis=1)
    for name in ("trapezoid", "cumulative_trapezoid", "simpson"):
        f = getattr(cig, name)
        got = cr.vmap(lambda x: f(y, x))(xs)
        for k in range(3):
            bits(got[k], getattr(si, name)(y, xs[k]))
        g = cr.vmap(cr.grad(lambda x: cnp.sum(f(y, x) ** 2)))(xs)
        for k in range(3):
            np.testing.assert_allclose(g[k], cr.grad(lambda x: cnp.sum(f(y, x) ** 2))(xs[k]),
                                       rtol=1e-13, atol=1e-14)
