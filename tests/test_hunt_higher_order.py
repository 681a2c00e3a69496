"""Third and fourth derivatives (helper-50's hunt): every route agrees with mpmath, and a
derivative the rules cannot know is nan or inf, never a finite guess."""
import math

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
import chainrule.scipy.special as csp
from chainrule._src.prims import elementwise as ew

mp = pytest.importorskip("mpmath")    # the `test` extra: references at 40-50 digits

mp.mp.dps = 40


def nest(op, f, k):
    for _ in range(k):
        f = op(f)
    return f


def jvpd(f):
    return lambda x: cr.jvp(f, (x,), (1.0,))[1]


def routes(f, k):
    """The k-th derivative of a scalar function by every route."""
    r = {"grad": nest(cr.grad, f, k), "jacfwd": nest(cr.jacfwd, f, k),
         "jacrev": nest(cr.jacrev, f, k), "jvp": nest(jvpd, f, k),
         "lin": nest(lambda g: (lambda x: cr.linearize(g, x)[1](1.0)), f, k),
         "jit(grad)": cr.jit(nest(cr.grad, f, k)),
         "grad(jit)": cr.grad(cr.jit(nest(cr.grad, f, k - 1))),
         "jvp(grad)": jvpd(nest(cr.grad, f, k - 1))}
    if k >= 3:
        r["hessian"] = cr.hessian(nest(cr.grad, f, k - 2))
    return r


def sinc_ref(k, x=0.0):
    return float(mp.diff(lambda v: mp.sinc(mp.pi * v) if v != 0 else mp.mpf(1), x, k))


# ------------------------------------------------------------ removable singularities

@pytest.mark.parametrize("k", [3, 4, 6, 8])
def test_sinc_higher_derivatives_at_zero(k):
    """sinc's fourth derivative at 0 is pi^4 / 5; the rules used f' + f'' x there, so
    every derivative from the third on was 0."""
    want = (-1) ** (k // 2) * math.pi ** k / (k + 1) if k % 2 == 0 else 0.0
    assert want == pytest.approx(sinc_ref(k), rel=1e-12, abs=1e-30)
    for name, r in routes(cnp.sinc, k).items():
        if k > 4 and name in ("jacrev", "lin", "jit(grad)", "grad(jit)"):
            continue                            # (slow at order 8; the same rules)
        assert float(r(0.0)) == pytest.approx(want, rel=1e-12, abs=1e-300), name


def test_sinc_fourth_derivative_batched_and_holomorphic():
    d4 = nest(cr.grad, cnp.sinc, 4)
    got = cr.vmap(d4)(np.array([0.0, 0.5, 0.0]))
    np.testing.assert_allclose(got, [math.pi ** 4 / 5, sinc_ref(4, 0.5), math.pi ** 4 / 5],
                               rtol=1e-10)
    H = cr.hessian(cr.hessian(lambda v: cnp.sum(cnp.sinc(v))))(np.zeros(2))
    assert H[1, 1, 1, 1] == pytest.approx(math.pi ** 4 / 5, rel=1e-12)
    assert H[0, 0, 1, 1] == 0.0
    hol = nest(lambda g: cr.grad(g, holomorphic=True), cnp.sinc, 4)(0j)
    assert hol == pytest.approx(math.pi ** 4 / 5, rel=1e-12)


def test_sinc_beyond_the_declared_derivatives_is_nan():
    assert np.isnan(nest(cr.grad, cnp.sinc, 9)(0.0))
    assert np.isnan(nest(cr.jacfwd, cnp.sinc, 9)(0.0))
    # elsewhere the formula runs: finite, and the point's nan does not leak
    assert nest(cr.grad, cnp.sinc, 9)(0.5) == pytest.approx(
        float(mp.diff(lambda v: mp.sinc(mp.pi * v), 0.5, 9)), rel=1e-6)


@pytest.mark.parametrize("k", [3, 4, 5, 8])
def test_spence_higher_derivatives_at_one(k):
    """spence(z) = Li2(1 - z): f^(k)(1) = (-1)^k (k-1)! / k (the third was 0)."""
    want = (-1) ** k * math.factorial(k - 1) / k
    assert want == pytest.approx(float(mp.diff(lambda z: mp.polylog(2, 1 - z), 1, k)),
                                 rel=1e-12)
    for name in ("grad", "jacfwd", "jvp"):
        assert float(routes(csp.spence, k)[name](1.0)) == pytest.approx(want, rel=1e-12)


def test_a_row_declaring_only_three_limits_has_nan_third_derivative():
    """A row declaring f, f', f'' (the walk-through's minimum) gets nan, not 0, for the
    third derivative at its point; elsewhere the formula's value."""
    exprel = ew.RemovableUnary(
        "exprel_h50", lambda x: np.where(x == 0, 1.0, np.expm1(x) / np.where(x == 0, 1.0, x)),
        lambda x, a: (ew.exp(x) - a) / x, ew.Removable({0.0: (1.0, 0.5, 1.0 / 3.0)}))
    f = lambda x: exprel.bind(x)
    assert nest(cr.grad, f, 2)(0.0) == pytest.approx(1.0 / 3.0, rel=1e-14)
    assert np.isnan(nest(cr.grad, f, 3)(0.0))           # (true value 1/4; was 0)
    assert np.isnan(nest(cr.jacfwd, f, 3)(0.0))
    ref = float(mp.diff(lambda v: mp.expm1(v) / v, mp.mpf(0.7), 3))
    assert nest(cr.grad, f, 3)(0.7) == pytest.approx(ref, rel=1e-8)


# ----------------------------------------------------------------- xlogy, xlog1py

@pytest.mark.parametrize("fn", [csp.xlogy, lambda x, y: csp.xlog1py(x, y - 1.0)])
def test_xlogy_mixed_second_derivative_where_x_is_zero(fn):
    """d2/dx dy (x log y) = 1/y, also at x = 0 (it was 0 there: the rule's y-derivative
    was a constant 0 wherever x == 0, so reverse and forward mode disagreed)."""
    H = cr.hessian(lambda v: fn(v[0], v[1]))(np.array([0.0, 2.0]))
    np.testing.assert_allclose(H, [[0.0, 0.5], [0.5, 0.0]], rtol=1e-15)
    H2 = cr.jacrev(cr.jacrev(lambda v: fn(v[0], v[1])))(np.array([0.0, 2.0]))
    np.testing.assert_allclose(H2, H, rtol=1e-15)
    g = lambda x: fn(x, 1.0 + x)            # x log(1 + x): f'' = 2, f''' = -3 at 0
    for name, r in routes(g, 2).items():
        assert float(r(0.0)) == pytest.approx(2.0, rel=1e-14), name
    for name, r in routes(g, 3).items():
        assert float(r(0.0)) == pytest.approx(-3.0, rel=1e-14), name


def test_xlogy_at_the_origin_keeps_its_documented_zero_gradient():
    assert list(cr.grad(lambda v: csp.xlogy(v[0], v[1]))(np.zeros(2))) == [0.0, 0.0]
    assert list(cr.grad(lambda v: csp.xlog1py(v[0], v[1]))(np.array([0.0, -1.0]))) == \
        [0.0, 0.0]


# -------------------------------------------------- Python floats at singular points

def test_python_float_at_a_singular_point_gives_numpys_infinities():
    """A Python float at log's singular point: the derivative formula 1.0 / x raised
    ZeroDivisionError where a float64 argument gives inf (jvp, and every grad of
    order 2 and more)."""
    with np.errstate(all="ignore"):
        assert cr.jvp(cnp.log, (0.0,), (1.0,)) == (-np.inf, np.inf)
        assert cr.grad(cr.grad(cnp.log))(0.0) == -np.inf
        assert cr.grad(cr.grad(cr.grad(cnp.log)))(0.0) == np.inf
        assert cr.grad(cr.grad(cnp.arctanh))(1.0) == cr.grad(cr.grad(cnp.arctanh))(
            np.float64(1.0))
        assert np.isnan(cr.grad(cnp.arctan2)(0.0, 0.0))
        assert np.isnan(cr.jvp(cnp.arctan2, (0.0, 0.0), (1.0, 1.0))[1])


# ------------------------------------------------- higher orders that are infinite

@pytest.mark.parametrize("f, k", [(lambda x: x ** 2.5, 3), (lambda x: cnp.power(x, 2.5), 3),
                                  (lambda x: x ** (7.0 / 3.0), 3), (lambda x: x ** 3.5, 4),
                                  (lambda x: cnp.sin(x) ** 2.5, 3)])
def test_an_infinite_higher_derivative_is_not_finite(f, k):
    for name in ("grad", "jacfwd", "jvp", "jit(grad)"):
        with np.errstate(all="ignore"):
            got = float(routes(f, k)[name](0.0))
        assert not np.isfinite(got), name
        assert float(routes(f, k - 1)["grad"](0.0)) == 0.0


# ------------------------------------------------ random compositions against mpmath

_CASES = [  # chainrule, mpmath, point
    (lambda x: cnp.tanh(cnp.sin(x) * x) ** 3, lambda x: mp.tanh(mp.sin(x) * x) ** 3, 0.7),
    (lambda x: cnp.logaddexp(x * x, cnp.cos(x)) / (1 + x * x),
     lambda x: mp.log(mp.exp(x * x) + mp.exp(mp.cos(x))) / (1 + x * x), -0.4),
    (lambda x: cnp.hypot(x, cnp.exp(x)) * cnp.arctan2(x, 2.0 - x),
     lambda x: mp.hypot(x, mp.exp(x)) * mp.atan2(x, 2 - x), 0.3),
    (lambda x: (1.0 + x * x) ** cnp.cos(x), lambda x: (1 + x * x) ** mp.cos(x), 1.3),
    (lambda x: csp.erf(cnp.sqrt(x)) * cnp.cbrt(x) ** -1.5,
     lambda x: mp.erf(mp.sqrt(x)) * mp.cbrt(x) ** mp.mpf(-1.5), 0.8),
    (lambda x: cnp.maximum(cnp.sinh(x), x ** 2) + cnp.where(x > 0.5, cnp.log1p(x), x),
     lambda x: max(mp.sinh(x), x ** 2) + (mp.log1p(x) if x > 0.5 else x), 0.9),
    (lambda x: csp.gammaln(2.0 + x * x) * csp.expit(-x) + cnp.arcsinh(x) ** 2,
     lambda x: mp.loggamma(2 + x * x) / (1 + mp.exp(x)) + mp.asinh(x) ** 2, -1.2),
    (lambda x: cnp.abs(cnp.expm1(x)) ** 1.5 / cnp.reciprocal(2.0 + cnp.tan(x)),
     lambda x: abs(mp.expm1(x)) ** mp.mpf(1.5) * (2 + mp.tan(x)), 0.6),
    (lambda x: x * cnp.sinc(x) ** 2, lambda x: x * (mp.sin(mp.pi * x) / (mp.pi * x)) ** 2, 0.37),
    (lambda x: csp.xlogy(x * x, 1.0 + x) + csp.log_ndtr(x), lambda x: x * x * mp.log(1 + x) +
     mp.log(mp.ncdf(x)), 0.0),
]


@pytest.mark.parametrize("case", range(len(_CASES)))
@pytest.mark.parametrize("k", [3, 4])
def test_compositions_against_mpmath(case, k):
    f, g, x0 = _CASES[case]
    want = float(mp.diff(g, mp.mpf(x0), k))
    for name, r in routes(f, k).items():
        assert float(r(x0)) == pytest.approx(want, rel=1e-8, abs=1e-8), name


# --------------------------------------- third-derivative tensors: routes and vmap

def _third(f):
    return {"fwd(hess)": cr.jacfwd(cr.hessian(f)), "rev(hess)": cr.jacrev(cr.hessian(f)),
            "fwd^3": cr.jacfwd(cr.jacfwd(cr.jacfwd(f))),
            "rev^3": cr.jacrev(cr.jacrev(cr.grad(f))),
            "jit": cr.jit(cr.jacfwd(cr.hessian(f))),
            "checkpoint": cr.jacrev(cr.jacfwd(cr.grad(cr.checkpoint(f))))}


_B = np.array([[0.3, -0.2, 0.1], [0.5, 0.4, -0.3], [-0.1, 0.2, 0.6]])


def _solve_det(x):
    M = _B @ _B.T + cnp.diag(2.0 + x ** 2) + 0.1 * cnp.outer(x, x)
    return cnp.sum(cnp.linalg.solve(M, cnp.sin(x))) + cnp.linalg.slogdet(M)[1]


def _eigh_chol(x):
    M = cnp.diag(cnp.arange(3) * 3.0 + x) + 0.1 * (cnp.outer(x, x) + _B + _B.T)
    w, V = cnp.linalg.eigh(M)
    L = cnp.linalg.cholesky(M + 10.0 * cnp.eye(3))
    return cnp.sum(w ** 3) + cnp.sum(V[:, 0] ** 4) + cnp.sum(L ** 3)


def _lse(x):
    z = _B @ x
    return csp.logsumexp(z) + cnp.prod(1.5 + cnp.sin(z)) + cnp.linalg.norm(z + 1.0) ** 3


@pytest.mark.parametrize("f", [_solve_det, _eigh_chol, _lse], ids=lambda f: f.__name__)
def test_third_derivative_tensor_routes_and_vmap(f):
    x = np.array([0.3, -0.5, 0.8])
    rs = {k: np.asarray(r(x)) for k, r in _third(f).items()}
    ref = rs.pop("fwd(hess)")
    assert ref.shape == (3, 3, 3)
    for k, v in rs.items():
        np.testing.assert_allclose(v, ref, rtol=1e-9, atol=1e-9 * np.abs(ref).max(),
                                   err_msg=k)
    # symmetric, and central differences of the Hessian
    np.testing.assert_allclose(ref, ref.transpose(1, 0, 2), atol=1e-9 * np.abs(ref).max())
    np.testing.assert_allclose(ref, ref.transpose(2, 1, 0), atol=1e-9 * np.abs(ref).max())
    H, h = cr.hessian(f), 1e-5
    fd = np.stack([(H(x + h * e) - H(x - h * e)) / (2 * h) for e in np.eye(3)], axis=-1)
    np.testing.assert_allclose(ref, fd, rtol=1e-5, atol=1e-6 * np.abs(ref).max())
    X = x + 0.1 * np.arange(6.0).reshape(2, 3)
    T = cr.jacfwd(cr.hessian(f))
    np.testing.assert_allclose(cr.vmap(T)(X), np.stack([T(xx) for xx in X]), rtol=1e-12,
                               atol=1e-12 * np.abs(ref).max())


def test_inverse_trig_and_hyperbolic_derivatives_near_1_and_far_out():
    # 1 - x*x cancelled near |x| = 1 (arcsin', arctanh' off by 2.5e-10 relative at
    # 0.999999999) and x*x overflowed past 1e154 (arcsinh'(1e200) was 0, not 1e-200)
    import mpmath as mp
    mp.mp.dps = 40
    cases = [(cnp.arcsin, lambda x: 1 / mp.sqrt(1 - x * x), [0.999999999, -0.9999999999]),
             (cnp.arccos, lambda x: -1 / mp.sqrt(1 - x * x), [0.999999999]),
             (cnp.arccosh, lambda x: 1 / mp.sqrt(x * x - 1), [1 + 1e-10, 1e200]),
             (cnp.arcsinh, lambda x: 1 / mp.sqrt(x * x + 1), [1e200, -1e300, 1e-10]),
             (cnp.arctanh, lambda x: 1 / (1 - x * x), [0.999999999]),
             (cnp.expm1, mp.exp, [-25.0, -50.0, 1e-10, 3.0])]   # (a + 1 cancelled)
    for f, d, points in cases:
        for p in points:
            want = float(d(mp.mpf(p)))
            for got in (cr.grad(f)(p), cr.jvp(f, (p,), (1.0,))[1],
                        cr.jit(cr.grad(f))(np.float64(p))):
                assert abs(got - want) <= 1e-15 * abs(want), (f, p, got, want)


def test_inverse_trig_second_derivatives_near_0_keep_their_size():
    # d/dx 1/(1 - x^2) near 0 is 2x: written (1 - x)(1 + x) everywhere, its derivative
    # -(1 + x) + (1 - x) cancelled to 0 at 1e-20
    for f, want in ((cnp.arctanh, lambda x: 2 * x / (1 - x * x) ** 2),
                    (cnp.arcsin, lambda x: x / (1 - x * x) ** 1.5),
                    (cnp.arccos, lambda x: -x / (1 - x * x) ** 1.5)):
        for x in (1e-20, -1e-8, 1e-3):
            got = cr.grad(cr.grad(f))(x)
            assert abs(got - want(x)) <= 1e-8 * abs(want(x))
