"""chainrule.scipy beyond the op database: masked (-inf) rows of the softmax family,
special points (xlogy at 0, i1 at 0), derivatives against independent references
(expm_frechet, analytic Dirichlet gradient), the public modules' fallbacks, errors,
and cost rules."""
import warnings

import numpy as np
import pytest
import scipy.linalg as sl
import scipy.special as sps
import scipy.stats as sst

import chainrule as cr
import chainrule.numpy as cnp
import chainrule.scipy as csc
import chainrule.scipy.special as csp
import chainrule.scipy.stats as cst
import chainrule.scipy.linalg as cla
import chainrule.scipy.signal as csg
from chainrule.test_util import check_grads
from chainrule._src.numpy.dispatch import PUBLIC

HAVE_CHOLESKY = "cholesky" in PUBLIC.get("numpy.linalg", {})

NEG = -np.inf
MASKED = np.array([[NEG, NEG, NEG], [1.0, 2.0, NEG], [0.5, -1.0, 3.0]])


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def _finite(tree):
    return all(np.all(np.isfinite(np.asarray(x))) for x in
               (tree if isinstance(tree, (tuple, list)) else [tree]))


# ------------------------------------------------------------------ softmax family

def test_logsumexp_all_neg_inf_row_value_and_zero_gradient():
    f = lambda x: csp.logsumexp(x, axis=1)
    out = cr.vjp(f, MASKED)[0]
    np.testing.assert_array_equal(out, sps.logsumexp(MASKED, axis=1))
    assert out[0] == -np.inf
    for jac in (cr.jacrev(f)(MASKED), cr.jacfwd(f)(MASKED)):
        assert _finite(jac)
        np.testing.assert_array_equal(jac[0], 0.0)      # the dead row: exactly 0
        np.testing.assert_array_equal(jac[:, 0], 0.0)   # nothing flows into it
        np.testing.assert_allclose(jac[1, 1], [sps.expit(-1.0), sps.expit(1.0), 0.0])


def test_logsumexp_masked_second_order_is_finite():
    def loss(x):
        v = csp.logsumexp(x, axis=1)
        return cnp.sum(cnp.where(cnp.isfinite(v), v, 0.0) ** 2)
    h = cr.hessian(loss)(MASKED)
    assert _finite(h)
    np.testing.assert_array_equal(h[0], 0.0)
    check_grads(loss, (np.array([[0.1, 0.2], [-0.3, 1.0]]),), order=2)


def test_logsumexp_with_b_and_sign_masked_row():
    f = lambda x, b: csp.logsumexp(x, 1, b, return_sign=True)
    b = np.ones_like(MASKED)
    out, sgn = cr.vjp(f, MASKED, b)[0]
    ref = sps.logsumexp(MASKED, 1, b, return_sign=True)
    np.testing.assert_allclose(out, ref[0])
    np.testing.assert_array_equal(sgn, ref[1])
    _, back = cr.vjp(f, MASKED, b)
    ga, gb = back((np.ones(3), np.ones(3)))
    assert _finite(ga) and _finite(gb)
    np.testing.assert_array_equal(ga[0], 0.0)
    np.testing.assert_array_equal(gb[0], 0.0)


def test_logsumexp_negative_weights_gradient():
    a = np.array([0.3, -0.2, 1.0])
    b = np.array([2.0, -1.0, 0.5])
    f = lambda a, b: csp.logsumexp(a, b=b, return_sign=True)[0]
    check_grads(f, (a, b), order=2)
    s = np.sum(b * np.exp(a))
    np.testing.assert_allclose(cr.grad(f)(a, b), b * np.exp(a) / s)


@pytest.mark.parametrize("fn", [csp.softmax, csp.log_softmax])
def test_softmax_all_neg_inf_row_has_no_nan_gradient(fn):
    ref = getattr(sps, fn.__name__)(MASKED, axis=1)
    out = cr.vjp(lambda x: fn(x, axis=1), MASKED)[0]
    np.testing.assert_allclose(out, ref)        # nan in the dead row, as SciPy

    def loss(x):     # a typical masked loss: ignore the masked entries
        y = fn(x, axis=1)
        return cnp.sum(cnp.where(cnp.isfinite(y), y * np.arange(3.0), 0.0))
    g = cr.grad(loss)(MASKED)
    assert _finite(g)
    np.testing.assert_array_equal(g[0], 0.0)
    for jac in (cr.jacrev(lambda x: fn(x, axis=1))(MASKED),
                cr.jacfwd(lambda x: fn(x, axis=1))(MASKED)):
        assert not np.any(np.isnan(jac[:, :, 0])), "nan flowed out of the dead row"
        assert not np.any(np.isnan(jac[1:, :, 1:])), "nan leaked into live rows"
    h = cr.hessian(loss)(MASKED)
    assert _finite(h)


def test_softmax_gradient_partially_masked_row():
    x = np.array([1.0, NEG, 2.0])
    g = cr.grad(lambda x: csp.softmax(x)[0])(x)
    p = sps.softmax(x)
    np.testing.assert_allclose(g, p[0] * (np.eye(3)[0] - p))


def test_softmax_default_axis_is_all_axes():
    x = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(cr.vjp(csp.softmax, x)[0], sps.softmax(x))
    np.testing.assert_allclose(cr.vjp(csp.log_softmax, x)[0], sps.log_softmax(x))
    np.testing.assert_allclose(np.sum(cr.vjp(csp.softmax, x)[0]), 1.0)


# ------------------------------------------------------------------ special points

def test_xlogy_at_zero_is_zero_with_finite_gradient():
    for x, y in [(0.0, 0.0), (0.0, 2.0)]:
        v, g = cr.value_and_grad(csp.xlogy, argnums=(0, 1))(x, y)
        assert v == 0.0
        assert _finite(g)
    gx, gy = cr.grad(csp.xlogy, argnums=(0, 1))(0.0, 2.0)
    np.testing.assert_allclose(gx, np.log(2.0))      # the true partial at x = 0
    assert gy == 0.0
    assert _finite(cr.hessian(lambda v: csp.xlogy(v[0], v[1]))(np.zeros(2)))
    gx, gy = cr.grad(csp.xlog1py, argnums=(0, 1))(0.0, -1.0)
    assert np.isfinite(gx) and np.isfinite(gy)


def test_xlogy_entropy_with_zero_probability():
    p = np.array([0.0, 0.25, 0.75])
    g = cr.grad(lambda p: -cnp.sum(csp.xlogy(p, p)))(p)
    assert np.isfinite(g[1:]).all()
    np.testing.assert_allclose(g[1:], -(np.log(p[1:]) + 1))


def test_bessel_derivatives():
    x = np.array([-1.3, 0.4, 2.5])
    np.testing.assert_allclose(cr.elementwise_grad(csp.i0)(x), sps.i1(x))
    np.testing.assert_allclose(cr.elementwise_grad(csp.i1)(x), sps.i0(x) - sps.i1(x) / x)
    assert cr.grad(csp.i1)(0.0) == 0.5
    assert cr.grad(csp.i1e)(0.0) == 0.5
    np.testing.assert_allclose(cr.grad(cr.grad(csp.i0))(0.0), 0.5)
    check_grads(csp.i1, (np.array([1e-3, -0.7]),), order=2)


def test_polygamma_order_is_not_differentiated():
    x = np.array([0.7, 1.5, 3.0])
    n = np.array([0, 1, 2])
    g = cr.elementwise_grad(lambda x: csp.polygamma(n, x))(x)
    np.testing.assert_allclose(g, sps.polygamma(n + 1, x))
    np.testing.assert_allclose(cr.elementwise_grad(csp.digamma)(x), sps.polygamma(1, x))
    np.testing.assert_allclose(cr.elementwise_grad(csp.gammaln)(x), sps.digamma(x))


def test_scipy_ufunc_called_on_a_tracer_is_differentiated():
    # scipy.special's own ufuncs route traced values to chainrule (__array_ufunc__)
    g = cr.grad(lambda x: sps.erf(x) + sps.gammaln(x))(1.3)
    np.testing.assert_allclose(g, 2 / np.sqrt(np.pi) * np.exp(-1.69) + sps.digamma(1.3))


def test_scipy_ufunc_without_chainrule_import_of_scipy_is_routed():
    # only `import chainrule` and scipy.special: the first traced SciPy ufunc loads
    # chainrule's scipy layer; one chainrule lacks is named as SciPy's
    import subprocess
    import sys
    code = ("import chainrule as cr, scipy.special as sps\n"
            "print(cr.grad(lambda x: sps.expit(x))(0.0))\n"
            "try:\n    cr.grad(lambda x: sps.struve(1.0, x))(1.0)\n"
            "except NotImplementedError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.splitlines()
    assert float(out[0]) == 0.25
    assert out[1].startswith("scipy.special.struve has no differentiable version")


def test_bessel_order_derivative_raises_naming_it():
    for fn in (csp.jv, csp.yv, csp.iv, csp.ive, csp.yn):
        with pytest.raises(NotImplementedError, match=r"order v"):
            cr.grad(lambda v: fn(v, 1.5))(1.0)
    # held fixed (a constant), the order is fine; d/dx J_0 = -J_1
    np.testing.assert_allclose(cr.grad(lambda x: csp.jv(0.0, x))(1.5), -sps.j1(1.5))


def test_incomplete_gamma_and_beta_shape_derivatives():
    # d/da gammainc against JAX's value at a point of its continued-fraction region
    np.testing.assert_allclose(cr.grad(csp.gammainc)(50.0, 60.0), -0.021284992786349568,
                               rtol=1e-12)
    # third order in a, and gammaincc = 1 - gammainc
    d3 = cr.grad(cr.grad(cr.grad(csp.gammainc)))(2.5, 1.3)
    d3c = cr.grad(cr.grad(cr.grad(csp.gammaincc)))(2.5, 1.3)
    np.testing.assert_allclose(d3, -0.01869793351002146, rtol=1e-8)
    np.testing.assert_allclose(d3c, -d3)
    # x = 0 and x = inf: gammainc is 0 and 1 for every a
    assert cr.grad(csp.gammainc)(2.0, 0.0) == 0.0
    assert cr.grad(csp.gammainc)(2.0, np.inf) == 0.0
    # betainc: symmetry I_x(a, b) = 1 - I_(1-x)(b, a) in the derivatives
    ga = cr.grad(csp.betainc, argnums=(0, 1))(2.5, 1.5, 0.3)
    gs = cr.grad(lambda a, b: 1.0 - csp.betainc(b, a, 0.7), argnums=(0, 1))(2.5, 1.5)
    np.testing.assert_allclose(ga, gs, rtol=1e-12)


def test_rgamma_derivative_at_its_zeros():
    # d/dx 1/Gamma(x) at x = -n is (-1)^n n!
    x = np.array([0.0, -1.0, -2.0, -3.0])
    np.testing.assert_allclose(cr.elementwise_grad(csp.rgamma)(x), [1.0, -1.0, 2.0, -6.0])


def test_t_cdf_near_zero_and_in_df():
    df = 3.0
    np.testing.assert_allclose(cr.grad(cst.t.cdf)(0.0, df), sst.t.pdf(0.0, df))
    h = 1e-6
    num = (sst.t.cdf(1.3, df + h) - sst.t.cdf(1.3, df - h)) / (2 * h)
    np.testing.assert_allclose(cr.grad(cst.t.cdf, argnums=1)(1.3, df), num, rtol=1e-7)


@pytest.mark.skipif(not HAVE_CHOLESKY, reason="needs cholesky")
def test_multivariate_normal_allow_singular():
    rng = np.random.default_rng(5)
    b = rng.standard_normal((3, 2))
    cov, mean = b @ b.T, np.zeros(3)
    x = rng.standard_normal((4, 2)) @ b.T
    x[0] += 1.0                                    # off the support
    f = lambda x: cst.multivariate_normal.logpdf(x, mean, cov, allow_singular=True)
    np.testing.assert_allclose(cr.vjp(f, x)[0], sst.multivariate_normal.logpdf(
        x, mean, cov, allow_singular=True))
    # entropy: the gradient of 0.5 logdet(cov) is 0.5 cov^-1 (symmetric, as cholesky's
    # and eigh's gradients)
    a = rng.standard_normal((3, 3))
    spd = a @ a.T + np.eye(3)
    g = cr.grad(lambda c: cst.multivariate_normal.entropy(cov=c))(spd)
    inv = np.linalg.inv(spd)
    np.testing.assert_allclose(g, 0.5 * inv, atol=1e-12)


def test_outside_transformations_scipy_is_called():
    x = np.linspace(0.1, 0.9, 5)
    assert type(csp.erf(x)) is np.ndarray
    np.testing.assert_array_equal(csp.logit(x), sps.logit(x))
    np.testing.assert_array_equal(cst.norm.logpdf(x, 0.2, 3.0), sst.norm.logpdf(x, 0.2, 3.0))


# ------------------------------------------------------------------ stats

def test_norm_logpdf_gradients_analytic():
    x, mu, s = 0.7, -0.2, 1.5
    gx, gmu, gs = cr.grad(cst.norm.logpdf, argnums=(0, 1, 2))(x, mu, s)
    z = (x - mu) / s
    np.testing.assert_allclose([gx, gmu, gs], [-z / s, z / s, (z * z - 1) / s])


def test_dirichlet_gradient_in_x_on_the_simplex():
    x = np.array([0.2, 0.3, 0.5])
    alpha = np.array([1.5, 2.0, 0.7])
    g = cr.grad(cst.dirichlet.logpdf)(x, alpha)
    np.testing.assert_allclose(g, (alpha - 1) / x)
    with pytest.raises(ValueError):
        cr.grad(cst.dirichlet.logpdf)(np.array([0.2, 0.3, 0.6]), alpha)


def test_poisson_rate_gradient():
    k = np.array([0, 2, 5])
    mu = np.array([0.5, 2.0, 4.0])
    np.testing.assert_allclose(cr.elementwise_grad(lambda m: cst.poisson.logpmf(k, m))(mu),
                               k / mu - 1)


def test_multivariate_normal_diagonal_matches_product_of_normals():
    x = np.array([[0.1, -0.4, 1.2], [0.3, 0.0, -1.0]])
    mean, var = np.array([0.0, 0.5, -0.5]), np.array([0.5, 1.5, 2.0])
    f = lambda x, m, v: cst.multivariate_normal.logpdf(x, m, v)
    g = lambda x, m, v: cnp.sum(cst.norm.logpdf(x, m, cnp.sqrt(v)), axis=-1)
    np.testing.assert_allclose(cr.vjp(f, x, mean, var)[0], g(x, mean, var))
    for i in range(3):
        np.testing.assert_allclose(cr.jacrev(f, argnums=i)(x, mean, var),
                                   cr.jacrev(g, argnums=i)(x, mean, var))


def test_multivariate_normal_full_covariance():
    if not HAVE_CHOLESKY:
        pytest.skip("chainrule.numpy.linalg.cholesky not available")
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 3))
    cov = a @ a.T + 3 * np.eye(3)
    x, mean = rng.standard_normal((4, 3)), rng.standard_normal(3)
    f = lambda x, m, c: cst.multivariate_normal.logpdf(x, m, c)
    np.testing.assert_allclose(cr.vjp(f, x, mean, cov)[0],
                               sst.multivariate_normal.logpdf(x, mean, cov))
    # d/dcov of sum logpdf, symmetric parametrisation: -1/2 (S^-1 - S^-1 D D^T S^-1)
    g = cr.grad(lambda c: cnp.sum(f(x, mean, (c + c.T) / 2)))(cov)
    si = np.linalg.inv(cov)
    d = x - mean
    want = -0.5 * (len(x) * si - si @ d.T @ d @ si)
    np.testing.assert_allclose(g, want, atol=1e-10)


def test_distribution_namespaces_fall_back_to_scipy():
    assert cst.norm.rvs is not None
    assert cst.norm.mean() == 0.0
    assert cst.multivariate_normal.logpdf.__qualname__ == "multivariate_normal.logpdf"
    assert "scipy.stats.multivariate_normal.logpdf" in cst.multivariate_normal.logpdf.__doc__
    assert cst.ttest_ind is sst.ttest_ind
    assert csp.struve is sps.struve
    assert cla.schur is sl.schur
    assert csc.special is csp
    with pytest.raises(AttributeError):
        csp.no_such_function


# ------------------------------------------------------------------ linalg

def test_expm_derivatives_match_expm_frechet():
    rng = np.random.default_rng(1)
    a, e = 0.6 * rng.standard_normal((4, 4)), rng.standard_normal((4, 4))
    _, t = cr.jvp(cla.expm, (a,), (e,))
    np.testing.assert_allclose(t, sl.expm_frechet(a, e, compute_expm=False), atol=1e-12)
    ct = rng.standard_normal((4, 4))
    (g,) = cr.vjp(cla.expm, a)[1](ct)
    np.testing.assert_allclose(g, sl.expm_frechet(a.T, ct, compute_expm=False), atol=1e-12)


def test_sqrtm_derivative_solves_sylvester():
    rng = np.random.default_rng(2)
    m = rng.standard_normal((3, 3))
    a = m @ m.T + 3 * np.eye(3)
    e = rng.standard_normal((3, 3))
    x, t = cr.jvp(cla.sqrtm, (a,), (e,))
    np.testing.assert_allclose(x @ t + t @ x, e, atol=1e-10)


def test_solve_triangular_ignores_the_other_triangle():
    rng = np.random.default_rng(3)
    a = rng.standard_normal((3, 3)) + 3 * np.eye(3)
    b = rng.standard_normal(3)
    g = cr.grad(lambda a: cnp.sum(cla.solve_triangular(a, b, lower=True)))(a)
    np.testing.assert_array_equal(np.triu(g, 1), 0.0)
    g = cr.grad(lambda a: cnp.sum(cla.solve_triangular(a, b, unit_diagonal=True)))(a)
    np.testing.assert_array_equal(np.tril(g), 0.0)


def test_linalg_errors():
    f = lambda a: cla.solve_triangular(a, np.ones(4))
    with pytest.raises(ValueError):
        cr.grad(lambda a: cnp.sum(f(a)))(np.eye(3))
    with pytest.raises(ValueError):
        cr.grad(lambda a: cnp.sum(cla.expm(a)))(np.ones((2, 3)))
    with pytest.raises(ValueError):
        cr.grad(lambda a: cnp.sum(cla.solve_triangular(a, np.ones(3), trans=5)))(np.eye(3))


def test_cho_solve_roundtrip():
    if not HAVE_CHOLESKY:
        pytest.skip("chainrule.numpy.linalg.cholesky not available")
    rng = np.random.default_rng(4)
    m = rng.standard_normal((3, 3))
    a = m @ m.T + 3 * np.eye(3)
    b = rng.standard_normal(3)
    for lower in (False, True):
        f = lambda a, b: cla.cho_solve(cla.cho_factor(a, lower=lower), b)
        np.testing.assert_allclose(cr.vjp(f, a, b)[0], np.linalg.solve(a, b))
        g = cr.grad(lambda b: cnp.sum(f(a, b)))(b)
        np.testing.assert_allclose(g, np.linalg.solve(a, np.ones(3)))


@pytest.mark.parametrize("assume_a", ["pos", "her", "sym"])
@pytest.mark.parametrize("lower", [False, True])
def test_solve_and_inv_complex_assume_a_match_scipy(assume_a, lower):
    """SciPy's Hermitian drivers ("pos", "her") read one triangle, conjugate its mirror
    and ignore the imaginary part of the diagonal; "sym" mirrors without conjugating.
    The input is deliberately not Hermitian (and has an imaginary diagonal): the values
    are SciPy's; the derivatives are along the Hermitian (for "sym": symmetric) part of
    the direction, as cholesky's and eigh's (Hermitian gradients), and match finite
    differences of SciPy along that part."""
    rng = np.random.default_rng(7)
    n = 3
    m = rng.standard_normal((n, n)) + 1j * rng.standard_normal((n, n))
    a = m @ m.conj().T + 3 * np.eye(n)
    a = a + 0.3 * (rng.standard_normal((n, n)) + 1j * rng.standard_normal((n, n)))
    e = rng.standard_normal((n, n)) + 1j * rng.standard_normal((n, n))
    b = rng.standard_normal(n) + 1j * rng.standard_normal(n)
    h = 1e-6
    cases = [(lambda a: cla.solve(a, b, assume_a=assume_a, lower=lower),
              lambda a: sl.solve(a, b, assume_a=assume_a, lower=lower)),
             (lambda a: cla.inv(a, assume_a=assume_a, lower=lower),
              lambda a: sl.inv(a, assume_a=assume_a, lower=lower))]
    part = 0.5 * (e + (e.T if assume_a == "sym" else e.conj().T))
    for f, ref in cases:
        v, t = cr.jvp(f, (a,), (e,))
        np.testing.assert_allclose(v, ref(a), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(t, cr.jvp(f, (a,), (part,))[1], rtol=1e-12, atol=1e-12)
        fd = (ref(a + h * part) - ref(a - h * part)) / (2 * h)
        np.testing.assert_allclose(t, fd, rtol=1e-6, atol=1e-8)


# ------------------------------------------------------------------ signal

def test_convolve_gradient_is_correlation():
    rng = np.random.default_rng(5)
    a, k = rng.standard_normal(7), rng.standard_normal(3)
    ct = rng.standard_normal(9)
    ga, gk = cr.vjp(csg.convolve, a, k)[1](ct)
    np.testing.assert_allclose(ga, np.correlate(ct, k, "valid"))
    np.testing.assert_allclose(gk, np.correlate(ct, a, "valid"))


def test_signal_errors():
    with pytest.raises(ValueError):
        cr.grad(lambda a: cnp.sum(csg.convolve(a, np.ones((2, 2)))))(np.ones(3))
    with pytest.raises(ValueError):
        cr.grad(lambda a: cnp.sum(csg.convolve(a, np.ones(2), mode="bad")))(np.ones(3))
    with pytest.raises(ValueError):    # 'valid' needs one input larger in every axis
        cr.grad(lambda a: cnp.sum(csg.convolve(a, np.ones((1, 4)), "valid")))(np.ones((3, 2)))
    with pytest.raises(NotImplementedError):
        cr.grad(lambda a: cnp.sum(csg.fftconvolve(a, np.ones(2), axes=0)))(np.ones(3))


# ------------------------------------------------------------------ batching and cost rules

def test_batch_rules_match_a_loop_without_a_trace():
    from chainrule._src.prims import special as ps, scipy_linalg as pl, signal as psig
    rng = np.random.default_rng(6)
    x = rng.standard_normal((4, 3, 5))
    ans, d = ps.logsumexp_p.batch([x], [1], axis=(1,), keepdims=False, signed=False)
    want = np.stack([sps.logsumexp(x[:, i], axis=1) for i in range(3)])
    np.testing.assert_allclose(np.moveaxis(ans, d, 0), want)
    a = rng.standard_normal((2, 3, 3))
    ans, d = pl.expm_p.batch([a], [0])
    np.testing.assert_allclose(ans, np.stack([sl.expm(m) for m in a]))
    u, v = rng.standard_normal((3, 6)), rng.standard_normal(2)
    ans, d = psig.convolve_p.batch([u, v], [0, None], mode="same", method="direct", nbatch=0)
    np.testing.assert_allclose(ans, np.stack([np.convolve(r, v, "same") for r in u]))


def test_cost_rules_are_positive_integers():
    from chainrule._src.prims import special as ps, scipy_linalg as pl, signal as psig
    x = np.ones((3, 4))
    a = np.eye(3)
    cases = [
        (ps.PRIMS["erf"], [x], {}),
        (ps.logsumexp_p, [x], dict(axis=(1,), keepdims=False, signed=False)),
        (ps.softmax_p, [x], dict(axis=(1,))),
        (pl.solve_triangular_p, [a, np.ones((3, 2))],
         dict(lower=True, trans=0, unit_diagonal=False)),
        (pl.expm_p, [a], {}), (pl.sqrtm_p, [a], {}), (pl.solve_sylvester_p, [a, a, a], {}),
        (psig.convolve_p, [np.ones(5), np.ones(3)], dict(mode="full", method="auto",
                                                          nbatch=0)),
    ]
    for prim, args, params in cases:
        c = prim.cost(args, prim.impl(*args, **params), **params)
        assert isinstance(c, (int, np.integer)) and c > 0, prim


def test_cho_solve_of_a_stack_of_factors_and_one_vector():
    """SciPy solves each factor of a stack against the same vector b (shape (n,)): the
    result is (batch, n), and its derivatives match finite differences."""
    import scipy.linalg as sl
    import chainrule as cr
    import chainrule.scipy as csp
    from chainrule.test_util import check_grads
    rng = np.random.default_rng(7)
    m = rng.standard_normal((2, 3, 3))
    a = m @ np.swapaxes(m, -1, -2) + 3 * np.eye(3)
    b = rng.standard_normal(3)
    for lower in (False, True):
        want = sl.cho_solve(sl.cho_factor(a, lower=lower), b)
        got = cr.jit(lambda a, b: csp.linalg.cho_solve(csp.linalg.cho_factor(a, lower=lower), b))(a, b)
        assert got.shape == (2, 3)
        np.testing.assert_allclose(got, want, rtol=1e-12)
        # (along symmetric directions of a: cho_factor's gradient is symmetric, the
        # convention of cholesky and eigh)
        check_grads(lambda a, b: csp.linalg.cho_solve(csp.linalg.cho_factor(
            0.5 * (a + np.swapaxes(a, -1, -2)), lower=lower), b), (a, b), order=2)


def test_derivatives_without_closed_form_raise():
    # hyp1f1/hyp2f1 in their parameters, zeta in x: no silent zero
    for f, x0 in [(lambda a: csp.hyp1f1(a, 1.3, 0.5), 0.7),
                  (lambda c: csp.hyp2f1(0.5, 1.0, c, 0.3), 2.0),
                  (lambda x: csp.zeta(x, 1.5), 3.0)]:
        with pytest.raises(NotImplementedError, match="not implemented"):
            cr.grad(f)(x0)
        with pytest.raises(NotImplementedError, match="not implemented"):
            cr.jvp(f, (x0,), (1.0,))


def test_boxcox_at_lambda_zero_matches_the_limit():
    # d/dl boxcox(x, l) at l = 0 is log(x)^2 / 2, d2/dl2 is log(x)^3 / 3
    x = 2.5
    g = cr.grad(lambda l: csp.boxcox(x, l))(0.0)
    h = cr.grad(cr.grad(lambda l: csp.boxcox(x, l)))(0.0)
    np.testing.assert_allclose(g, np.log(x) ** 2 / 2, rtol=1e-12)
    np.testing.assert_allclose(h, np.log(x) ** 3 / 3, rtol=1e-12)


def test_poisson_entropy_is_one_function_eagerly_and_traced():
    """SciPy's own series stops short from mu ~ 1e4 on (3.29 at mu = 3e4): chainrule's
    value is the same eagerly, under jit and under grad, and follows the entropy's
    asymptotic expansion 1/2 log(2 pi e mu) - 1/(12 mu) there."""
    import chainrule as cr
    import chainrule.scipy.stats as cst
    import scipy.stats as sst
    mu = np.array([0.3, 250.0, 1e4, 3e4, 1e5])
    eager = cst.poisson.entropy(mu)
    np.testing.assert_array_equal(eager, cr.jit(cst.poisson.entropy)(mu))
    for m, h in zip(mu, eager):
        assert cr.value_and_grad(cst.poisson.entropy)(m)[0] == h
    big = mu[2:]
    np.testing.assert_allclose(eager[2:], 0.5 * np.log(2 * np.pi * np.e * big) - 1 / (12 * big),
                               rtol=1e-9)
    np.testing.assert_allclose(eager[:2], sst.poisson.entropy(mu[:2]), rtol=1e-13)
    assert str(cst.poisson.entropy(0.0)) == "0.0"


def test_distributions_import_as_modules():
    # autograd's examples write `import autograd.scipy.stats.norm as norm` (8 of the 22
    # ported); the same line for chainrule raised ModuleNotFoundError
    import chainrule.scipy.stats as st
    import chainrule.scipy.stats.norm as norm
    import chainrule.scipy.stats.multivariate_normal as mvn
    assert norm is st.norm and mvn is st.multivariate_normal
    assert cr.grad(norm.logpdf)(0.5) == -0.5
    assert norm.rvs(size=2, random_state=0).shape == (2,)      # SciPy's own, as before
