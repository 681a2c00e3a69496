"""Regression tests from a hunt for silent wrong answers in the special functions,
statistics and distributions (generated inputs over wide domains; references from
SciPy, from mpmath at 50 digits, or from asymptotic expansions written out here)."""
import warnings

import numpy as np
import pytest
import scipy.special as sps
import scipy.stats as sst

import chainrule as cr
import chainrule.scipy.special as csp
import chainrule.scipy.stats as cst


def d1(f, x):
    x = np.asarray(x, float)
    return np.asarray(cr.jvp(f, (x,), (np.ones_like(x),))[1])


def d2(f, x):
    x = np.asarray(x, float)
    return np.asarray(cr.jvp(lambda y: cr.jvp(f, (y,), (np.ones_like(y),))[1],
                             (x,), (np.ones_like(x),))[1])


def traced_value(f, *args):
    """f's value inside a transformation (the primal output of jvp in the first arg)."""
    first, rest = np.asarray(args[0], float), args[1:]
    return np.asarray(cr.jvp(lambda x: f(x, *rest), (first,), (np.ones_like(first),))[0])


# ------------------------------------------------------------------ special functions

def test_log_ndtr_derivatives_in_the_lower_tail():
    # exp(-x^2/2 - log_ndtr(x)) cancelled: 1.0001e6 at -1e6, inf from -1e10 on; the
    # second derivative was -1.09e8 at -1e6 (true: -1)
    x = np.array([-5.0, -20.0, -40.0, -1e3, -1e4, -1e6, -1e10, -1e100])
    v = 1.0 / x ** 2
    mills = -x / (1 - v + 3 * v ** 2 - 15 * v ** 3)        # phi/Phi, asymptotically
    got = d1(csp.log_ndtr, x)
    np.testing.assert_allclose(got[3:], mills[3:], rtol=1e-13)
    # mpmath (50 digits) below -20 is the expansion; above, its values:
    np.testing.assert_allclose(got[:3], [5.186503967, 20.04975307, 40.02496885], rtol=1e-9)
    # d2 = -(phi/Phi) (x + phi/Phi)
    np.testing.assert_allclose(d2(csp.log_ndtr, np.array([-1e3, -1e4, -1e6])),
                               [-0.999999, -0.99999999, -1.0], rtol=1e-7)
    g = cr.grad(lambda t: csp.log_ndtr(t))
    assert g(-1e10) == pytest.approx(1e10, rel=1e-14)
    np.testing.assert_allclose(d2(csp.log_ndtr, np.array([0.0, 3.0])),
                               [-2 / np.pi, -0.013333212], rtol=1e-7)


def test_norm_logcdf_gradient_in_the_tail():
    g = cr.grad(lambda x: cst.norm.logcdf(x))(-1e6)
    assert g == pytest.approx(1e6 / (1 - 1e-12), rel=1e-14)
    h = cr.hessian(lambda x: cst.norm.logcdf(x))(-1e4)
    assert h == pytest.approx(-1.0, rel=1e-7)


@pytest.mark.parametrize("x", [1e3, 1e5, 1e10, 1e100])
def test_erfcx_and_dawsn_derivatives_for_large_arguments(x):
    # 2 x erfcx(x) - 2/sqrt(pi) and 1 - 2 x dawsn(x) cancel: 0 for x >= 1e8
    u = 0.5 / x ** 2
    erfcx1 = 2 / np.sqrt(np.pi) * (-u + 3 * u ** 2 - 15 * u ** 3)
    erfcx2 = 2 / np.sqrt(np.pi) * (2 * u - 12 * u ** 2 + 90 * u ** 3) / x
    dawsn1 = -(u + 3 * u ** 2 + 15 * u ** 3)
    dawsn2 = (2 * u + 12 * u ** 2 + 90 * u ** 3) / x
    assert float(d1(csp.erfcx, x)) == pytest.approx(erfcx1, rel=1e-12)
    assert float(d2(csp.erfcx, x)) == pytest.approx(erfcx2, rel=1e-10)
    for s in (1.0, -1.0):
        assert float(d1(csp.dawsn, s * x)) == pytest.approx(dawsn1, rel=1e-12)
        assert float(d2(csp.dawsn, s * x)) == pytest.approx(s * dawsn2, rel=1e-10)


def test_erfcx_dawsn_derivatives_continuous_at_the_switch():
    for f in (csp.erfcx, csp.dawsn):
        lo, hi = d1(f, 10.0 - 1e-9), d1(f, 10.0 + 1e-9)
        assert hi == pytest.approx(lo, rel=1e-9)
        lo, hi = d2(f, 10.0 - 1e-9), d2(f, 10.0 + 1e-9)
        assert hi == pytest.approx(lo, rel=1e-9)


@pytest.mark.parametrize("f", [csp.i1, csp.i1e])
def test_i1_second_derivative_near_zero(f):
    # i0(x) - i1(x)/x differentiated again subtracts terms of size 1/x: i1''(1e-300) was
    # 2e284, i1''(1e-8) 5e-9 (true 3x/8)
    x = np.array([1e-300, 1e-30, 1e-8, -1e-5, 1e-3])
    got = d2(f, x)
    i1, i1d, i1dd = x / 2 + x ** 3 / 16, 0.5 + 3 * x ** 2 / 16, 3 * x / 8   # series
    if f is csp.i1:
        true = i1dd
    else:   # i1e = exp(-|x|) i1, odd: e^-|x| (i1'' - 2 sign(x) i1' + i1)
        true = np.exp(-abs(x)) * (i1dd - 2 * np.sign(x) * i1d + i1)
    np.testing.assert_allclose(got, true, rtol=1e-5, atol=1e-300)
    # the first derivative is unchanged (1/2 at 0)
    assert float(d1(f, 0.0)) == 0.5
    assert float(d2(csp.i1, 0.0)) == 0.0


def test_incomplete_gamma_beta_shape_derivatives_converge_per_element():
    # one element that needs more than MAXITER steps (a = x = 1e8) made every element
    # of the same array nan
    a = np.array([0.3, 1e8, 2.0])
    x = np.array([1e-300, 1e8, 1.0])
    got = d1(lambda a: csp.gammainc(a, x), a)
    alone = [float(d1(lambda t: csp.gammainc(t, x[i]), a[i])) for i in (0, 2)]
    assert np.isfinite(got[[0, 2]]).all()
    np.testing.assert_allclose(got[[0, 2]], alone, rtol=1e-14)
    assert got[0] == pytest.approx(-7.69502937e-88, rel=1e-8)


# ------------------------------------------------------------------ distributions

def test_t_cdf_lower_tail_has_no_cancellation():
    # 1/2 - betainc(1/2, df/2, ...)/2 gave 1.72085e-15 for 1.71333e-15, and 0 below 1e-17
    x = np.array([-8.0, -4.6013360388109765, -3.077116232790459, -40.0, -1e-5, -1e10])
    df = np.array([1000.0, 1791.896122666898, 136.99418808047014, 846.87, 0.3, 1.0])
    loc = np.array([0.0, -0.23570444146936032, -0.0002319921921557612, 0, 0, 0])
    scale = np.array([1.0, 0.5002404357316593, 0.6848647016944, 1, 1, 1])
    for fn, ref in ((cst.t.cdf, sst.t.cdf), (cst.t.logcdf, sst.t.logcdf)):
        got = traced_value(fn, x, df, loc, scale)
        np.testing.assert_allclose(got, ref(x, df, loc, scale), rtol=1e-12)
    got = traced_value(cst.t.sf, -x, df, -loc, scale)
    np.testing.assert_allclose(got, sst.t.sf(-x, df, -loc, scale), rtol=1e-12)
    g = cr.grad(lambda t: cst.t.logcdf(t, 1000.0))(-8.0)
    h = 1e-5
    fd = (sst.t.logcdf(-8.0 + h, 1000.0) - sst.t.logcdf(-8.0 - h, 1000.0)) / (2 * h)
    assert g == pytest.approx(fd, rel=1e-7)


@pytest.mark.parametrize("dist,method,args", [
    ("beta", "logcdf", (0.7811000007552903, 0.12030097164425281, 221.24815610115263,
                        -0.14315774198592812, 0.9846551395824716)),
    ("beta", "logsf", (0.01, 0.5, 0.5)),
    ("chi2", "logsf", (0.6294206876170841, 15.529556039211672, -0.028622434650249214,
                       0.9409734197410827)),
    ("gamma", "logcdf", (3.2792899078914814, 0.02933394226668261, 0.02728130091195989,
                         0.42353436418597656)),
    ("gamma", "logcdf", (60.0, 3.0)),
    ("t", "logcdf", (12.0, 3.0)),
    ("cauchy", "logcdf", (1e10,)),
    ("cauchy", "logcdf", (-1e10,)),
    ("cauchy", "sf", (1e10,)),
    ("cauchy", "cdf", (-1e10,)),
    ("expon", "logcdf", (100.0,)),
    ("truncnorm", "logcdf", (2.056845910522103, -0.10953386429516225, 6.643133039776547,
                             0.15177840057072176, 0.3443513253369661)),
    ("truncnorm", "cdf", (5.0, 4.0, 40.0)),
    ("vonmises", "logpdf", (-1.5898970568847706, 97.23116977523303, -0.027346427022368253,
                            0.42136273552115333)),
    ("vonmises", "logpdf", (-7.4999, 1.8797931832917638)),
    ("vonmises", "logpdf", (1e-9, 1e10)),
])
def test_log_probabilities_near_one_and_tails_match_scipy(dist, method, args):
    """log(cdf) where cdf rounds to 1 was 0 (SciPy: log1p(-sf)); cauchy's
    1/2 + arctan(z)/pi lost 7 digits in the tail; vonmises was -inf outside [-pi, pi]
    (SciPy: periodic on the whole line)."""
    ref = getattr(getattr(sst, dist), method)(*args)
    fn = getattr(getattr(cst, dist), method)
    got = float(traced_value(fn, *args))
    assert got == pytest.approx(ref, rel=1e-12, abs=0.0)
    jit = cr.jit(fn)
    for _ in range(3):
        assert float(jit(*args)) == pytest.approx(ref, rel=1e-12, abs=0.0)


def test_gumbel_derivatives_where_exp_overflows():
    # exp(-exp(-w)) exp(-w) is 0 * inf = nan for w < -709; the derivative is 0
    for fn in (cst.gumbel_r.cdf, cst.gumbel_r.pdf, cst.gumbel_r.sf, cst.gumbel_r.logsf,
               cst.gumbel_l.sf, cst.gumbel_l.pdf, cst.gumbel_l.cdf):
        name = fn.__qualname__
        x = 800.0 if name.startswith("gumbel_l") else -800.0
        g = cr.grad(fn, argnums=(0, 1, 2))(x, 0.0, 1.0)
        assert np.all(np.asarray(g) == 0.0), (name, g)
    np.testing.assert_equal(traced_value(cst.gumbel_r.pdf, np.array([-800.0, 0.5, 3.0])),
                            sst.gumbel_r.pdf(np.array([-800.0, 0.5, 3.0])))


def test_gennorm_cdf_tail_and_derivative_at_the_center():
    x = np.array([-5.0, -3.0, -2.2112843719899926, 0.0, 1.0])
    b = np.array([4.0, 8.0, 1.4374567883822251, 2.0, 2.0])
    ref = sst.gennorm.cdf(x, b)
    np.testing.assert_allclose(traced_value(cst.gennorm.cdf, x, b), ref, rtol=1e-12)
    f = cr.jit(lambda x, b: cst.gennorm.cdf(x, b))
    for _ in range(3):
        np.testing.assert_allclose(f(x, b), ref, rtol=1e-12)
    # at x = loc the derivative is the density (it was 0 through sign(0))
    for beta in (0.5, 1.0, 2.0, 8.0):
        g = cr.grad(lambda t: cst.gennorm.cdf(t, beta))(0.0)
        assert g == pytest.approx(sst.gennorm.pdf(0.0, beta), rel=1e-14)


def test_stats_float32_inputs_give_float64_as_scipy():
    # the traced value was float32 where SciPy's (and the eager call's) is float64
    x = np.float32([0.5, 9.0, -40.0])
    loc, scale = np.float32([0.1, 0.0, 0.2]), np.float32([1.5, 1.0, 0.5])
    for fn, ref in ((cst.norm.sf, lambda x: sst.norm.sf(x, loc, scale)),
                    (cst.norm.logpdf, lambda x: sst.norm.logpdf(x, loc, scale)),
                    (cst.t.cdf, lambda x: sst.t.cdf(x, np.float32(3.0), loc, scale))):
        f = (lambda x, fn=fn: fn(x, np.float32(3.0), loc, scale)) if fn is cst.t.cdf else \
            (lambda x, fn=fn: fn(x, loc, scale))
        v, t = cr.jvp(f, (x,), (np.ones_like(x),))
        r = ref(x)
        assert v.dtype == r.dtype == np.float64
        # (SciPy forms (x - loc) / scale in float32 before it converts: float32 rounding)
        np.testing.assert_allclose(v, r, rtol=1e-6)
        g = cr.grad(lambda x: f(x).sum())(x)
        assert g.dtype == np.float32           # a cotangent has its argument's dtype


@pytest.mark.parametrize("f,args", [
    (lambda k, mu: cst.poisson.logpmf(k, mu), (0.0, 0.5)),
    (lambda k, p: cst.binom.logpmf(k, 3.0, p), (1.0, 0.4)),
    (lambda n, p: cst.binom.logpmf(1.0, n, p), (3.0, 0.4)),
    (lambda k, p: cst.geom.logpmf(k, p), (2.0, 0.3)),
    (lambda k, p: cst.bernoulli.logpmf(k, p), (1.0, 0.3)),
    (lambda k, p: cst.nbinom.logpmf(k, 2.5, p), (2.0, 0.3)),
    (lambda n, x: csp.polygamma(n, x), (1.0, 0.5)),
    (lambda n, x: csp.expn(n, x), (2.0, 0.5)),
])
def test_integer_arguments_refuse_a_derivative(f, args):
    """Counts and orders have no derivative: SciPy's function at a non-integer count is
    -inf (logpmf) or another function (polygamma's n). grad with respect to poisson's k
    gave 0.577 (the continuous extension's slope), polygamma's n and expn's n gave 0.
    The other argument keeps its derivative, and a constant count is fine."""
    for route in (cr.grad(f, argnums=0), cr.jacfwd(f, argnums=0)):
        with pytest.raises(NotImplementedError, match="integer argument"):
            route(*args)
    g = cr.grad(f, argnums=1)(*args)
    h = 1e-6
    fd = (f(args[0], args[1] + h) - f(args[0], args[1] - h)) / (2 * h)
    assert g == pytest.approx(float(fd), rel=1e-6)


@pytest.mark.parametrize("a,b", [([np.inf, 1.0], None), ([np.inf, 1.0], [-1.0, 2.0]),
                                 ([np.inf], [-1.0]), ([-np.inf, -np.inf], None),
                                 ([1.0, 2.0], [1.0, -3.0])])
def test_logsumexp_sign_with_infinities_is_scipys(a, b):
    """return_sign=True inside transformations: the sign was nan (inf - inf) where the
    value is +inf; SciPy gives the sign of b at the infinite entries."""
    want = sps.logsumexp(a, b=b, return_sign=True)
    bb = None if b is None else np.array(b)
    for f in (cr.jit(lambda x: csp.logsumexp(x, b=bb, return_sign=True)),
              lambda x: cr.vmap(lambda r: csp.logsumexp(r, b=bb, return_sign=True))(x[None])):
        got = f(np.array(a))
        np.testing.assert_array_equal(np.ravel(got[1]), [want[1]])
        np.testing.assert_array_equal(np.ravel(got[0]), [want[0]])
