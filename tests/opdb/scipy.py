"""Rows for chainrule.scipy: special, stats, linalg, signal."""
import numpy as np
import scipy.linalg as sl
import scipy.signal as ss
import scipy.special as sps
import scipy.stats as sst

import chainrule.numpy as cnp
import chainrule.scipy.special as csp
import chainrule.scipy.stats as cst
import chainrule.scipy.linalg as cla
import chainrule.scipy.signal as csg
from chainrule._src.numpy.dispatch import PUBLIC
from . import Row, S, RNG, randn, pos, unit, cplx, spd
from .linalg import hermitian_input


def _sym_cov(mod, fn):
    """``fn(x, mean, cov, ...)`` with a matrix ``cov`` replaced by its symmetric part: the
    gradient in a covariance is symmetric (cholesky's convention), so it is compared
    with finite differences along symmetric directions."""
    def f(x, mean=None, cov=1, *rest, **kwargs):
        if np.ndim(cov) >= 2:
            cov = 0.5 * (cov + mod.swapaxes(cov, -1, -2))
        return fn(x, mean, cov, *rest, **kwargs)
    return f


def _assumed_hermitian(kwargs):
    return kwargs.get("assume_a") in ("pos", "sym", "her", "positive definite",
                                      "symmetric", "hermitian")


def _quietly(f):
    """``f`` without SciPy's divide-by-zero warnings (its value at scale 0 is nan);
    chainrule's traced version computes none."""
    def g(*args, **kwargs):
        with np.errstate(divide="ignore", invalid="ignore"):
            return f(*args, **kwargs)
    return g


def between(low, high):
    return lambda *s: RNG.uniform(low, high, s)


ROWS = []

# ------------------------------------------------------------------ special: ufuncs
UNARY = {
    "erf": randn, "erfc": randn, "erfinv": unit, "erfcinv": between(0.2, 1.8),
    "ndtr": randn, "log_ndtr": randn, "ndtri": between(0.1, 0.9), "expit": randn,
    "log_expit": randn, "logit": between(0.1, 0.9), "softplus": randn, "gamma": pos,
    "gammaln": pos, "digamma": pos, "psi": pos, "i0": randn, "i1": randn,
    "i0e": lambda *s: pos(*s) * RNG.choice([-1.0, 1.0], s), "i1e": randn, "entr": pos,
    "rgamma": between(-2.9, 3.0), "j0": randn, "j1": randn, "y0": pos, "y1": pos,
}
for _name, _dom in UNARY.items():
    ROWS.append(Row("scipy.special." + _name, getattr(csp, _name), getattr(sps, _name),
                    [S(_dom(3, 4)), S(_dom())]))
ROWS.append(Row("scipy.special.gammaln[negative]", csp.gammaln, sps.gammaln,
                [S(np.array([-0.5, -1.5, -2.3]))]))

BINARY = {
    "xlogy": (randn, pos), "xlog1py": (randn, between(-0.5, 2.0)), "betaln": (pos, pos),
    "beta": (pos, pos), "rel_entr": (pos, pos), "kl_div": (pos, pos),
}
for _name, (_d1, _d2) in BINARY.items():
    ROWS.append(Row("scipy.special." + _name, getattr(csp, _name), getattr(sps, _name),
                    [S(_d1(3, 4), _d2(3, 4)), S(_d1(3, 1), _d2(4)), S(_d1(), _d2(2, 3))]))
ROWS.append(Row("scipy.special.gammasgn", csp.gammasgn, sps.gammasgn,
                [S(np.array([-2.5, -1.5, -0.5, 0.5, 3.0]))], grad=False))
ROWS.append(Row("scipy.special.rgamma[zeros]", csp.rgamma, sps.rgamma,
                [S(np.array([-2.0, -1.0, 0.0, 0.4, 0.6]))]))

# JAX's other special functions, from a generator of their own
_SR = np.random.default_rng(128)


def _su(low, high, *shape):
    return _SR.uniform(low, high, shape)


ROWS += [
    Row("scipy.special.erfcx", csp.erfcx, sps.erfcx, [S(_su(-1, 3, 3, 4)), S(_su(-1, 3))]),
    Row("scipy.special.dawsn", csp.dawsn, sps.dawsn, [S(_su(-3, 3, 3, 4))]),
    Row("scipy.special.exp1", csp.exp1, sps.exp1, [S(_su(0.2, 3, 3, 4))]),
    Row("scipy.special.expi", csp.expi, sps.expi, [S(_su(0.2, 3, 3, 4)), S(_su(-3, -0.2, 4))]),
    Row("scipy.special.loggamma", csp.loggamma, sps.loggamma, [S(_su(0.2, 5, 3, 4))]),
    Row("scipy.special.spence", csp.spence, sps.spence,
        [S(_su(0.2, 3, 3, 4)), S(np.array([1.0, 0.5, 1.0, 2.0])), S(np.array(1.0))]),
    Row("scipy.special.wofz", csp.wofz, sps.wofz,
        [S(_su(-2, 2, 4) + 1j * _su(0.1, 2, 4)), S(_su(-2, 2, 3))]),
    Row("scipy.special.poch", csp.poch, sps.poch, [S(_su(0.5, 3, 5), _su(-0.4, 2, 5))]),
    Row("scipy.special.expn", csp.expn, sps.expn,
        [S(np.array([0, 1, 2, 3, 5]), _su(0.3, 3, 5)), S(2, _su(0.3, 3, 2, 3))]),
    Row("scipy.special.owens_t", csp.owens_t, sps.owens_t,
        [S(_su(-2, 2, 5), _su(-2, 2, 5)), S(_su(-2, 2, 3, 1), 0.7)]),
    Row("scipy.special.sici", csp.sici, sps.sici, [S(_su(0.2, 5, 5))]),
    Row("scipy.special.fresnel", csp.fresnel, sps.fresnel, [S(_su(-2, 2, 5))]),
    Row("scipy.special.hyp1f1", csp.hyp1f1, sps.hyp1f1,
        [S(0.7, 1.3, _su(-2, 2, 5), diff=(2,)), S(np.array([0.5, 1.5]), 2.5, _su(-1, 1, 3, 1), diff=(2,))]),
    Row("scipy.special.hyp2f1", csp.hyp2f1, sps.hyp2f1,
        [S(0.7, 1.3, 2.1, _su(-0.8, 0.8, 5), diff=(3,)),
         S(np.array([0.5, 1.5]), 0.3, 2.5, _su(-0.5, 0.5, 3, 1), diff=(3,))]),
    Row("scipy.special.zeta", csp.zeta, sps.zeta,
        [S(3.0, _su(0.5, 3, 5), diff=(1,)), S(np.array([2.0, 4.5]), _su(0.5, 3, 3, 1), diff=(1,)),
         S(np.array([2.0, 3.5]), diff=())]),
    Row("scipy.special.sph_harm_y", csp.sph_harm_y, sps.sph_harm_y,
        [S(np.array([0, 1, 2, 3, 4]), np.array([0, -1, 2, 1, -3]), _su(0.3, 2.8, 5),
           _su(-3, 3, 5)), S(3, 2, _su(0.3, 2.8, 2, 1), 0.4)]),
    Row("scipy.special.factorial", csp.factorial, sps.factorial, [S(_su(-1, 4, 5))]),
    Row("scipy.special.comb", csp.comb, sps.comb,
        [S(_su(4, 8, 5), _su(0.5, 3, 5)), S(_su(4, 8, 5), _su(0.5, 3, 5), repetition=True),
         S(np.array([3.0, 2.0, -1.0]), np.array([4.0, -1.0, 1.0]), diff=())]),
    Row("scipy.special.boxcox", csp.boxcox, sps.boxcox,
        [S(_su(0.5, 3, 5), np.array([0.0, 0.5, -0.3, 1.0, 0.0])), S(_su(0.5, 3, 2, 3), 0.0)]),
    Row("scipy.special.boxcox1p", csp.boxcox1p, sps.boxcox1p,
        [S(_su(-0.5, 3, 5), np.array([0.0, 0.5, -0.3, 1.0, 2.0]))]),
]

# Bessel functions: differentiated in x (the order v is held fixed: diff=(1,))
_V, _VN = np.array([0.0, 0.5, 1.0, 2.5]), np.array([0, 1, 2, 3])
for _name, _xs in {"jv": randn, "yv": pos, "iv": randn, "ive": randn}.items():
    _v = _V if _name != "yv" else _V + 0.3
    if _name in ("iv", "ive"):          # non-integer orders need x > 0
        _xs = pos
    ROWS.append(Row("scipy.special." + _name, getattr(csp, _name), getattr(sps, _name),
                    [S(_v, _xs(3, 4), diff=(1,)), S(1.5, _xs(2, 3), diff=(1,))]))
ROWS.append(Row("scipy.special.iv[negative x]", csp.iv, sps.iv, [S(_VN, randn(3, 4))]))
ROWS.append(Row("scipy.special.ive[negative x]", csp.ive, sps.ive, [S(_VN, randn(3, 4))]))
ROWS.append(Row("scipy.special.jn", csp.jn, sps.jn, [S(_VN, randn(4)), S(2, randn(3))]))
ROWS.append(Row("scipy.special.yn", csp.yn, sps.yn, [S(_VN, pos(4)), S(2, pos(3))]))

# incomplete gamma and beta functions: every argument, second order
_A, _X = pos(3, 4, low=0.5, high=4.0), pos(3, 4, low=0.2, high=6.0)
ROWS += [
    Row("scipy.special.gammainc", csp.gammainc, sps.gammainc, [
        S(_A, _X), S(pos(4, low=0.5, high=3.0), pos(3, 1, low=0.1, high=5.0)),
        S(np.array([2, 5]), pos(2, low=0.2, high=8.0))]),
    Row("scipy.special.gammaincc", csp.gammaincc, sps.gammaincc, [
        S(_A, _X), S(pos(3, 1, low=0.5, high=3.0), pos(4, low=0.1, high=5.0))]),
    Row("scipy.special.betainc", csp.betainc, sps.betainc, [
        S(pos(3, 4, low=0.5, high=4.0), pos(3, 4, low=0.5, high=4.0), between(0.05, 0.95)(3, 4)),
        S(pos(3, 1, low=0.5, high=3.0), 1.5, between(0.05, 0.95)(4)),
        S(2.0, pos(2), np.array([0.3, 0.8]))]),
    Row("scipy.special.multigammaln", csp.multigammaln, sps.multigammaln,
        [S(pos(3, low=2.0, high=4.0), 3), S(2.7, 1), S(pos(2, 2, low=1.5, high=3.0), 2)]),
]
ROWS.append(Row("scipy.special.polygamma", csp.polygamma, sps.polygamma,
                [S(np.array([0, 1, 2, 3]), pos(4)), S(1, pos(2, 3)), S(np.arange(3)[:, None],
                                                                      pos(4))]))

# ------------------------------------------------------------------ special: softmax family
_a = randn(3, 4)
_b = pos(3, 4) * np.array([[3.0, -0.2, 0.3, -0.1]])    # mixed signs, sums far from 0
ROWS += [
    Row("scipy.special.logsumexp", csp.logsumexp, sps.logsumexp, [
        S(randn(3, 4)), S(randn(3, 4), axis=1), S(randn(3, 4), axis=(0, 1), keepdims=True),
        S(randn(2, 3, 4), -1, keepdims=True), S(randn(3, 4), 0, pos(3, 4)),
        S(randn(3, 4), 1, pos(4)), S(_a, 1, _b, return_sign=True),
        S(_a, 1, _b, keepdims=True, return_sign=True), S(randn()),
    ]),
    Row("scipy.special.softmax", csp.softmax, sps.softmax, [
        S(randn(3, 4)), S(randn(3, 4), axis=1), S(randn(2, 3, 4), axis=(0, 2)),
    ]),
    Row("scipy.special.log_softmax", csp.log_softmax, sps.log_softmax, [
        S(randn(3, 4)), S(randn(3, 4), axis=1), S(randn(2, 3, 4), axis=(0, 2)),
    ]),
]

# ------------------------------------------------------------------ stats
ROWS += [
    Row("scipy.stats.norm.logpdf", cst.norm.logpdf, sst.norm.logpdf,
        [S(randn(5)), S(randn(3, 4), randn(4), pos(3, 1)), S(randn(), 0.5, 2.0)]),
    Row("scipy.stats.norm.pdf", cst.norm.pdf, sst.norm.pdf,
        [S(randn(5)), S(randn(3, 4), randn(4), pos(3, 1))]),
    Row("scipy.stats.norm.cdf", cst.norm.cdf, sst.norm.cdf,
        [S(randn(5)), S(randn(3, 4), randn(4), pos(3, 1))]),
    Row("scipy.stats.norm.logcdf", cst.norm.logcdf, sst.norm.logcdf,
        [S(randn(5)), S(randn(3, 4), randn(4), pos(3, 1))]),
    Row("scipy.stats.norm.sf", cst.norm.sf, sst.norm.sf,
        [S(randn(5)), S(randn(3, 4), randn(4), pos(3, 1))]),
    Row("scipy.stats.norm.logsf", cst.norm.logsf, sst.norm.logsf,
        [S(randn(5)), S(randn(3, 4), randn(4), pos(3, 1))]),
    Row("scipy.stats.norm.ppf", cst.norm.ppf, sst.norm.ppf,
        [S(between(0.1, 0.9)(5)), S(between(0.1, 0.9)(3, 4), randn(4), pos(3, 1))]),
    Row("scipy.stats.norm.isf", cst.norm.isf, sst.norm.isf,
        [S(between(0.1, 0.9)(5)), S(between(0.1, 0.9)(3, 4), randn(4), pos(3, 1))]),
    Row("scipy.stats.norm.logpdf[invalid scale]", _quietly(cst.norm.logpdf),
        _quietly(sst.norm.logpdf), [S(randn(3), 0.0, np.array([1.0, -1.0, 0.0]))], grad=False),
    Row("scipy.stats.t.logpdf", cst.t.logpdf, sst.t.logpdf,
        [S(randn(5), pos(5) + 1.0), S(randn(3, 4), pos(4) + 2.0, randn(4), pos(3, 1))]),
    Row("scipy.stats.t.pdf", cst.t.pdf, sst.t.pdf,
        [S(randn(5), pos(5) + 1.0), S(randn(3, 4), pos(4) + 2.0, randn(4), pos(3, 1))]),
    Row("scipy.stats.gamma.logpdf", cst.gamma.logpdf, sst.gamma.logpdf,
        [S(pos(5), pos(5, low=1.5, high=3.0)),
         S(pos(3, 4), pos(4, low=0.5, high=3.0), -0.2 * pos(4), pos(3, 1))]),
    Row("scipy.stats.gamma.logpdf[support]", cst.gamma.logpdf, sst.gamma.logpdf,
        [S(np.array([-1.0, 0.0, 0.0, 1.0]), np.array([2.0, 1.0, 2.0, 0.5]))], grad=False),
    Row("scipy.stats.gamma.pdf", cst.gamma.pdf, sst.gamma.pdf,
        [S(pos(5), pos(5, low=1.5, high=3.0)),
         S(pos(3, 4), pos(4, low=0.5, high=3.0), -0.2 * pos(4), pos(3, 1))]),
    Row("scipy.stats.beta.logpdf", cst.beta.logpdf, sst.beta.logpdf,
        [S(between(0.1, 0.9)(5), pos(5), pos(5)),
         S(between(0.1, 0.9)(3, 4), pos(4), pos(3, 1), -0.2, 1.5)]),
    Row("scipy.stats.beta.logpdf[support]", cst.beta.logpdf, sst.beta.logpdf,
        [S(np.array([-0.5, 0.0, 0.5, 1.0, 2.0]), 1.0, 2.0)], grad=False),
    Row("scipy.stats.beta.pdf", cst.beta.pdf, sst.beta.pdf,
        [S(between(0.1, 0.9)(5), pos(5), pos(5)),
         S(between(0.1, 0.9)(3, 4), pos(4), pos(3, 1), -0.2, 1.5)]),
    Row("scipy.stats.poisson.logpmf", cst.poisson.logpmf, sst.poisson.logpmf,
        [S(np.array([0, 1, 3, 5]), pos(4)), S(np.array([[1], [3]]), pos(3), 1)]),
    Row("scipy.stats.poisson.logpmf[support]", cst.poisson.logpmf, sst.poisson.logpmf,
        [S(np.array([0.0, 1.0, 2.5, -1.0]), pos(4)), S(np.array([0, 1]), 0.0)], grad=False),
    Row("scipy.stats.poisson.pmf", cst.poisson.pmf, sst.poisson.pmf,
        [S(np.array([0, 1, 3, 5]), pos(4)), S(np.array([[0], [2]]), pos(3))]),
    Row("scipy.stats.dirichlet.logpdf", cst.dirichlet.logpdf, sst.dirichlet.logpdf,
        [S(np.array([0.2, 0.3]), pos(3)), S(np.array([[0.2, 0.1], [0.3, 0.5]]), pos(3)),
         S(np.array([0.2, 0.3, 0.5]), pos(3), diff=(1,))]),
    Row("scipy.stats.dirichlet.pdf", cst.dirichlet.pdf, sst.dirichlet.pdf,
        [S(np.array([0.2, 0.3]), pos(3)), S(np.array([0.2, 0.3, 0.5]), pos(3), diff=(1,))]),
]

# distribution functions (cdf, sf and their logs) through gammainc / betainc
_T = [S(randn(5), pos(5) + 1.0), S(randn(3, 4), pos(4) + 2.0, randn(4), pos(3, 1))]
_GAMMA = [S(pos(5), pos(5, low=1.5, high=3.0)),
          S(pos(3, 4), pos(4, low=0.5, high=3.0), -0.2 * pos(4), pos(3, 1))]
_CHI2 = [S(pos(5), pos(5, low=1.0, high=6.0)),
         S(pos(3, 4), pos(4, low=2.5, high=6.0), -0.2 * pos(4), pos(3, 1))]
_BETA = [S(between(0.1, 0.9)(5), pos(5), pos(5)),
         S(between(0.1, 0.9)(3, 4), pos(4), pos(3, 1), -0.2, 1.5)]
_POISSON = [S(np.array([0, 1, 3, 5]), pos(4)), S(np.array([[1], [3]]), pos(3), 1)]
for _dist, _samples, _methods in [
        ("t", _T, ["cdf", "logcdf", "sf", "logsf"]),
        ("gamma", _GAMMA, ["cdf", "logcdf", "sf", "logsf"]),
        ("chi2", _CHI2, ["logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"]),
        ("beta", _BETA, ["cdf", "logcdf", "sf", "logsf"]),
        ("poisson", _POISSON, ["cdf", "logcdf", "sf", "logsf"])]:
    for _m in _methods:     # sf and the logs are compositions: one sample is enough
        ROWS.append(Row(f"scipy.stats.{_dist}.{_m}", getattr(getattr(cst, _dist), _m),
                        getattr(getattr(sst, _dist), _m),
                        _samples if _m in ("cdf", "logpdf") else _samples[1:]))
ROWS += [
    Row("scipy.stats.t.cdf[near 0]", cst.t.cdf, sst.t.cdf,
        [S(np.array([-4e-9, 3e-9, -0.5, 2.0]), pos(4) + 1.0)]),
    Row("scipy.stats.gamma.cdf[support]", cst.gamma.cdf, sst.gamma.cdf,
        [S(np.array([-1.0, 0.0, 1.0, np.inf]), 2.0)], grad=False),
    Row("scipy.stats.chi2.logcdf[support]", cst.chi2.logcdf, sst.chi2.logcdf,
        [S(np.array([-1.0, 0.0, 1.0]), 3.0)], grad=False),
    Row("scipy.stats.beta.cdf[support]", cst.beta.cdf, sst.beta.cdf,
        [S(np.array([-0.5, 0.0, 0.5, 1.0, 2.0]), 1.5, 2.0)], grad=False),
    Row("scipy.stats.beta.sf[support]", cst.beta.sf, sst.beta.sf,
        [S(np.array([-0.5, 0.0, 0.5, 1.0, 2.0]), 1.5, 2.0)], grad=False),
    Row("scipy.stats.poisson.cdf[support]", cst.poisson.cdf, sst.poisson.cdf,
        [S(np.array([-1.0, 0.0, 2.5, np.inf]), pos(4)), S(np.array([0, 1]), 0.0)], grad=False),
    Row("scipy.stats.poisson.logsf[support]", cst.poisson.logsf, sst.poisson.logsf,
        [S(np.array([-1.0, 0.0, 2.5, np.inf]), pos(4))], grad=False),
]

_MVN = [S(randn(4, 3), randn(3), pos(3)), S(randn(3), randn(3), 2.0),
        S(randn(5), 0.5, 2.0), S(randn(2, 3), np.zeros(3), pos(3))]
if "cholesky" in PUBLIC.get("numpy.linalg", {}):
    _MVN += [S(randn(4, 3), randn(3), spd(3)), S(randn(3), randn(3), spd(3)),
             S(randn(2, 2, 3), None, spd(3)), S(randn(2), 0.3, np.array([[1.5]]))]
    _MVN += [S(randn(2, 3), randn(3), spd(3), allow_singular=True),
             S(randn(3), randn(3), np.eye(3), allow_singular=True)]     # repeated eigenvalues
_M0, _B = randn(3), randn(3, 2)


def _mvn_factor(fn):
    """logpdf at m0 + c b' under cov = b b' (singular, rank 2): x stays in the support
    as b turns it, so derivatives in b and c exist (the rank is fixed)."""
    return lambda b, c: fn(_M0 + c @ b.T, _M0, b @ b.T, allow_singular=True)


_xs = _M0 + randn(4, 2) @ _B.T
_xs[0] += 0.5                                              # off the support: -inf
ROWS += [
    Row("scipy.stats.multivariate_normal.logpdf[singular]",
        _mvn_factor(cst.multivariate_normal.logpdf), _mvn_factor(sst.multivariate_normal.logpdf),
        [S(_B, randn(2, 2))]),
    Row("scipy.stats.multivariate_normal.logpdf[off support]",
        lambda x: cst.multivariate_normal.logpdf(x, _M0, _B @ _B.T, allow_singular=True),
        lambda x: sst.multivariate_normal.logpdf(x, _M0, _B @ _B.T, allow_singular=True),
        [S(_xs)], grad=False),
    Row("scipy.stats.multivariate_normal.entropy",
        lambda mean, cov: cst.multivariate_normal.entropy(mean, cov if np.ndim(cov) < 2 else
                                                          0.5 * (cov + cov.T)),
        lambda mean, cov: sst.multivariate_normal.entropy(mean, cov if np.ndim(cov) < 2 else
                                                          0.5 * (cov + cov.T)),
        [S(None, spd(3)), S(np.zeros(3), pos(3)), S(None, 2.0)]),
    Row("scipy.stats.multivariate_normal.entropy[singular]",
        lambda b: cst.multivariate_normal.entropy(None, b @ b.T),
        lambda b: sst.multivariate_normal.entropy(None, b @ b.T), [S(_B)]),
]
ROWS += [
    Row("scipy.stats.multivariate_normal.logpdf",
        _sym_cov(cnp, cst.multivariate_normal.logpdf),
        _sym_cov(np, sst.multivariate_normal.logpdf), _MVN),
    Row("scipy.stats.multivariate_normal.pdf", _sym_cov(cnp, cst.multivariate_normal.pdf),
        _sym_cov(np, sst.multivariate_normal.pdf), _MVN[:2] + _MVN[4:5]),
]
for _dist in ["expon", "laplace", "cauchy", "logistic"]:
    _x = pos(5) if _dist == "expon" else randn(5)
    _loc = -0.3 * pos(4) if _dist == "expon" else randn(4)
    for _m in ["logpdf", "pdf"]:
        ROWS.append(Row(f"scipy.stats.{_dist}.{_m}", getattr(getattr(cst, _dist), _m),
                        getattr(getattr(sst, _dist), _m),
                        [S(_x), S(pos(3, 4), _loc, pos(3, 1))]))


# ------------------------------------------------------------------ linalg
def tri(n, lower=True, batch=()):
    a = RNG.standard_normal(batch + (n, n))
    return (np.tril(a) if lower else np.triu(a)) + 3.0 * np.eye(n)


def well(n, batch=()):
    return RNG.standard_normal(batch + (n, n)) + 4.0 * np.eye(n)


ROWS += [
    Row("scipy.linalg.solve_triangular", cla.solve_triangular, sl.solve_triangular, [
        S(tri(4), randn(4, 2), lower=True), S(tri(4, False), randn(4), trans=1),
        S(tri(4), randn(4, 3), trans="T", lower=True, unit_diagonal=True),
        S(tri(3, batch=(2,)), randn(2, 3, 2), lower=True),
        S(tri(3, False, batch=(2,)), randn(3, 2), trans=1),
        S(tri(3) + 0.3j * np.tril(randn(3, 3)), cplx(3, 2), trans=2, lower=True),
        S(tri(3) + 0.3j * np.tril(randn(3, 3)), cplx(3), trans=1, lower=True),
    ]),
    Row("scipy.linalg.expm", cla.expm, sl.expm, [
        S(0.5 * randn(3, 3)), S(0.5 * randn(2, 3, 3)), S(0.5 * cplx(2, 2))]),
    Row("scipy.linalg.sqrtm", cla.sqrtm, sl.sqrtm, [S(spd(3)), S(spd(2, (2,)))]),
    Row("scipy.linalg.solve_sylvester", cla.solve_sylvester, sl.solve_sylvester, [
        S(well(3), well(2), randn(3, 2)), S(well(2, (2,)), well(3), randn(2, 3))]),
]
if "cholesky" in PUBLIC.get("numpy.linalg", {}):
    def _cho_solve(a, b, lower):
        return cla.cho_solve(cla.cho_factor(a, lower=lower), b)

    def _cho_solve_ref(a, b, lower):
        return sl.cho_solve(sl.cho_factor(a, lower=lower), b)

    ROWS += [
        Row("scipy.linalg.cholesky", hermitian_input(cnp, cla.cholesky),
            hermitian_input(np, sl.cholesky),
            [S(spd(3)), S(spd(3), lower=True), S(spd(2, (2,)))]),
        Row("scipy.linalg.cho_factor", cla.cho_factor, sl.cho_factor,
            [S(spd(3)), S(spd(3), lower=True)], grad=False),    # (c, lower): values only
        Row("scipy.linalg.cho_factor[c]",
            hermitian_input(cnp, lambda a, lower: cla.cho_factor(a, lower)[0]),
            hermitian_input(np, lambda a, lower: sl.cho_factor(a, lower)[0]),
            [S(spd(3), False), S(spd(3), True), S(spd(2, (2,)), True)]),
        Row("scipy.linalg.cho_solve", hermitian_input(cnp, _cho_solve),
            hermitian_input(np, _cho_solve_ref),
            [S(spd(3), randn(3, 2), False), S(spd(3), randn(3), True)]),
        Row("scipy.linalg.cho_solve[given factor]",
            lambda c, b, lower: cla.cho_solve((c, lower), b),
            lambda c, b, lower: sl.cho_solve((c, lower), b),
            [S(np.linalg.cholesky(spd(3)), randn(3, 2), True),
             S(np.linalg.cholesky(spd(3)).T, randn(3), False)]),
    ]

_NL = PUBLIC.get("numpy.linalg", {})
if "solve" in _NL:
    ROWS.append(Row("scipy.linalg.solve", hermitian_input(cnp, cla.solve, _assumed_hermitian),
                    hermitian_input(np, sl.solve, _assumed_hermitian), [
        S(well(3), randn(3)), S(well(3), randn(3, 2)), S(well(3, (2,)), randn(3)),
        S(well(3, (2,)), randn(2, 3, 2)), S(well(3), randn(3), transposed=True),
        S(spd(3), randn(3), assume_a="pos"), S(spd(3), randn(3, 2), assume_a="sym", lower=True),
        S(tri(3), randn(3), assume_a="lower triangular"),
        S(tri(3, False), randn(3, 2), assume_a="upper triangular"),
        S(well(3), randn(3, 2), assume_a="diagonal"), S(well(4), randn(4), assume_a="tridiagonal"),
    ]))
if "inv" in _NL:
    ROWS.append(Row("scipy.linalg.inv", hermitian_input(cnp, cla.inv, _assumed_hermitian),
                    hermitian_input(np, sl.inv, _assumed_hermitian), [
        S(well(3)), S(well(3, (2,))), S(spd(3), assume_a="pos"),
        S(spd(3), assume_a="sym", lower=True)]))
if "det" in _NL:
    ROWS.append(Row("scipy.linalg.det", cla.det, sl.det, [S(well(3)), S(well(3, (2,)))]))

# solve_banded: bands with a dominant diagonal (row u), from a generator of their own
_BAND_RNG = np.random.default_rng(121)


def _bandmat(l, u, n, dtype=float):
    ab = _BAND_RNG.standard_normal((l + u + 1, n))
    if dtype is complex:
        ab = ab + 1j * _BAND_RNG.standard_normal((l + u + 1, n))
    ab[u] += 4.0
    return ab


ROWS.append(Row("scipy.linalg.solve_banded", cla.solve_banded, sl.solve_banded, [
    S((1, 2), _bandmat(1, 2, 5), _BAND_RNG.standard_normal(5)),
    S((1, 1), _bandmat(1, 1, 4), _BAND_RNG.standard_normal((4, 2))),
    S((2, 0), _bandmat(2, 0, 5), _BAND_RNG.standard_normal((5, 3))),
    S((0, 0), _bandmat(0, 0, 3), _BAND_RNG.standard_normal(3)),
    S((0, 0), _bandmat(0, 0, 1), _BAND_RNG.standard_normal(1)),
    S((1, 1), _bandmat(1, 1, 4, complex), _BAND_RNG.standard_normal(4)),
]))

# ------------------------------------------------------------------ signal
_SIG = [
    S(randn(6), randn(3)), S(randn(6), randn(3), "same"), S(randn(6), randn(3), "valid"),
    S(randn(3), randn(6), "valid"), S(randn(4), randn(7), "same"),
    S(randn(6), randn(4), "same", "fft"), S(randn(4, 5), randn(2, 3), "full", "direct"),
    S(randn(4, 5), randn(3, 2), "same"), S(randn(4, 5), randn(2, 3), "valid", "fft"),
    S(randn(2, 3), randn(4, 5), "valid"), S(cplx(5), cplx(3), "same"),
    S(randn(5), cplx(2)), S(randn(3, 2, 4), randn(2, 2, 2), "same"),
]
ROWS += [
    Row("scipy.signal.convolve", csg.convolve, ss.convolve, _SIG),
    Row("scipy.signal.correlate", csg.correlate, ss.correlate, _SIG),
    Row("scipy.signal.fftconvolve", csg.fftconvolve, ss.fftconvolve,
        [S(randn(6), randn(3)), S(randn(4, 5), randn(2, 3), "same"),
         S(randn(6), randn(4), "valid")]),
]


# ------------------------------------------------------------------ functions of
# Hermitian matrices: scipy.linalg.eigh (subsets), funm, logm, fractional_matrix_power.
# Samples at repeated eigenvalues (ties at 0 too) where these stay exact; their own
# generator, so the shared samples above do not shift
_MF = np.random.default_rng(2027)


def _planted(ws, complex_=False, batch=()):
    """A Hermitian matrix with eigenvalues ``ws`` (repeats planted) in a random basis."""
    n = len(ws)
    x = _MF.standard_normal(batch + (n, n))
    if complex_:
        x = x + 1j * _MF.standard_normal(batch + (n, n))
    q = np.linalg.qr(x)[0]
    a = (q * np.asarray(ws, float)) @ np.swapaxes(q, -1, -2).conj()
    return 0.5 * (a + np.swapaxes(a, -1, -2).conj())


def _sl_eigh_row(mod, lin):
    def f(a, **kw):
        out = lin.eigh(a, **kw)
        if kw.get("eigvals_only"):
            return out
        w, v = out
        return w, (v * v.conj()).real, v @ mod.swapaxes(v.conj(), -1, -2)
    return f


_SPREAD = [-2.0, -0.5, 1.0, 2.5]
ROWS += [
    Row("scipy.linalg.eigh", hermitian_input(cnp, _sl_eigh_row(cnp, cla)),
        hermitian_input(np, _sl_eigh_row(np, sl)),
        [S(_planted(_SPREAD)), S(_planted(_SPREAD), lower=False),
         S(_planted(_SPREAD), subset_by_index=[1, 2]), S(_planted(_SPREAD), eigvals_only=True),
         S(_planted(_SPREAD[:3], batch=(2,)), subset_by_index=[2, 2]),
         S(_planted(_SPREAD, complex_=True), subset_by_index=[0, 1])]),
    # the selected eigenpairs are not repeated; the others are (ties at 0 and at 1):
    # exact. Order 1: the second derivative goes through all the eigenvectors
    Row("scipy.linalg.eigh[degenerate]", hermitian_input(cnp, _sl_eigh_row(cnp, cla)),
        hermitian_input(np, _sl_eigh_row(np, sl)),
        [S(_planted([0.0, 0.0, 0.0, 2.0]), subset_by_index=[3, 3]),
         S(_planted([1.0, 1.0, 3.0, 4.0]), subset_by_index=[2, 3]),
         S(_planted([-1.0, 0.5, 0.5, 0.5], complex_=True), subset_by_index=[0, 0])], order=1),
    Row("scipy.linalg.funm", hermitian_input(cnp, lambda a, k: cla.funm(a, _FUNCS[k])),
        hermitian_input(np, lambda a, k: sl.funm(a, _FUNCS[k])),
        [S(_planted(_SPREAD), "exp"), S(_planted(_SPREAD), "sin"),
         S(_planted(_SPREAD, complex_=True), "cube")]),
    # at repeated eigenvalues (ties at 0 with g(0) = 0 among them): exact, order 1
    Row("scipy.linalg.funm[degenerate]",
        hermitian_input(cnp, lambda a, k: cla.funm(a, _FUNCS[k])),
        hermitian_input(np, lambda a, k: sl.funm(a, _FUNCS[k])),
        [S(_planted([0.0, 0.0, 2.0]), "ident"), S(_planted([0.0, 0.0, 2.0]), "sin"),
         S(np.diag([0.0, 0.0, 1.5]), "cube"), S(_planted([1.0, 1.0, 1.0]), "exp"),
         S(_planted([-1.0, 0.5, 0.5], complex_=True), "sin")], order=1),
    Row("scipy.linalg.logm", cla.logm, sl.logm,
        [S(_MF.standard_normal((3, 3)) + 3.0 * np.eye(3)), S(_planted([0.5, 0.5, 2.0])),
         S(np.diag([2.0, 2.0, 3.0])), S(spd(2, (2,)))]),
    Row("scipy.linalg.fractional_matrix_power", cla.fractional_matrix_power,
        sl.fractional_matrix_power,
        [S(_MF.standard_normal((3, 3)) + 3.0 * np.eye(3), 0.5, diff=(0,)),
         S(_planted([0.5, 0.5, 2.0]), -0.3, diff=(0,)),
         S(np.diag([2.0, 2.0, 3.0]), 1.7, diff=(0,))]),
]
_FUNCS = {"exp": np.exp, "sin": np.sin, "cube": lambda w: w ** 3, "ident": lambda w: w}
# ------------------------------------------------------------------ integrate
import scipy.integrate as si                       # noqa: E402
import chainrule.numpy as cnp                      # noqa: E402
import chainrule.scipy.integrate as cig            # noqa: E402

_ODE_RNG = np.random.default_rng(120)             # (the shared stream stays as it was)
_TOL = dict(rtol=1e-12, atol=1e-12)


def _pendulum(y, t, a, b):
    return cnp.stack([a * y[1], -b * cnp.sin(y[0]) + 0.1 * t])


def _decay(y, t, k):
    return -k * y


def _decay_tfirst(t, y, k):
    return [-k[0] * y[0] + cnp.cos(t), k[1] * y[0] - y[1] ** 2]


def _ode(func, **kw):
    def fn(y0, t, *args):
        return cig.odeint(func, y0, t, args=args, **_TOL, **kw)

    def ref(y0, t, *args):
        return si.odeint(func, y0, t, args=args, **_TOL, **kw)
    return fn, ref


ROWS += [
    Row("scipy.integrate.odeint", *_ode(_pendulum), [
        S(_ODE_RNG.uniform(-1, 1, 2), np.array([0.0, 0.4, 1.1]), 1.3, np.array(0.7)),
        S(_ODE_RNG.uniform(-1, 1, 2), np.array([0.5, 0.2, -0.3, -0.6]), 0.8, np.array(1.4)),
    ], tol=1e-5),
    Row("scipy.integrate.odeint[scalar y0]", *_ode(_decay), [
        S(0.7, np.array([0.0, 0.3, 0.9]), _ODE_RNG.uniform(0.5, 1.5, 1))]),
    Row("scipy.integrate.odeint[tfirst]", *_ode(_decay_tfirst, tfirst=True), [
        S(_ODE_RNG.uniform(0.5, 1, 2), np.linspace(0.0, 1.0, 4), _ODE_RNG.uniform(0.5, 1, 2))]),
]

# quadratures of sampled data: differentiable in y, x (1-D or y's shape) and dx; simpson
# with an odd and an even number of samples (SciPy >= 1.11's correction of the last
# interval), romb with 2**k + 1 samples
_Q = np.random.default_rng(121)                    # (the shared stream stays as it was)


def _qx(*shape, axis=-1):
    """Increasing sample points along ``axis`` (uneven spacings)."""
    return np.cumsum(_Q.uniform(0.2, 1.0, shape), axis=axis)


def _simpson_dx(y, dx, axis=-1):
    return cig.simpson(y, dx=dx, axis=axis)


def _simpson_dx_ref(y, dx, axis=-1):
    return si.simpson(y, dx=dx, axis=axis)


ROWS += [
    Row("scipy.integrate.trapezoid", cig.trapezoid, si.trapezoid, [
        S(_Q.standard_normal((3, 6)), _qx(6)),
        S(_Q.standard_normal((3, 6)), None, 0.3),
        S(_Q.standard_normal((4, 3)), _qx(4, 3, axis=0), axis=0),
        S(_Q.standard_normal(5) + 1j * _Q.standard_normal(5), _qx(5))]),
    Row("scipy.integrate.cumulative_trapezoid", cig.cumulative_trapezoid,
        si.cumulative_trapezoid, [
            S(_Q.standard_normal((3, 6)), _qx(6)),
            S(_Q.standard_normal((3, 6)), None, 0.4, initial=0),
            S(_Q.standard_normal((4, 3)), _qx(4, 3, axis=0), axis=0, initial=0)]),
    Row("scipy.integrate.simpson", cig.simpson, si.simpson, [
        S(_Q.standard_normal((2, 7)), _qx(7)),
        S(_Q.standard_normal((2, 6)), _qx(6)),
        S(_Q.standard_normal((6, 3)), _qx(6, 3, axis=0), axis=0),
        S(_Q.standard_normal(2), _qx(2)),
        S(_Q.standard_normal((3, 5)))]),
    Row("scipy.integrate.simpson[dx]", _simpson_dx, _simpson_dx_ref, [
        S(_Q.standard_normal((2, 7)), 0.3), S(_Q.standard_normal((2, 6)), 0.7),
        S(_Q.standard_normal((4, 3)), 0.5, 0)]),
    Row("scipy.integrate.romb", cig.romb, si.romb, [
        S(_Q.standard_normal((2, 9)), 0.25), S(_Q.standard_normal(5)),
        S(_Q.standard_normal((5, 3)), 0.5, 0)]),
]

# ------------------------------------------------------------------ stats: JAX's other
# distribution functions (scipy/distributions.py), from a generator of their own
_DR = np.random.default_rng(126)


def _u(low, high, *shape):
    return _DR.uniform(low, high, shape)


_LOCSCALE = [S(_u(-2, 2, 5)), S(_u(-2, 2, 3, 4), _u(-0.5, 0.5, 4), _u(0.5, 2, 3, 1))]
_PROB = [S(_u(0.05, 0.95, 5)), S(_u(0.05, 0.95, 3, 4), _u(-0.5, 0.5, 4), _u(0.5, 2, 3, 1))]
_POSX = [S(_u(0.1, 3, 5)), S(_u(0.1, 3, 3, 4), _u(-0.05, 0.05, 4), _u(0.5, 2, 3, 1))]
_DIST_ROWS = [
    ("expon", ["cdf", "sf", "logsf", "logcdf"], _POSX),
    ("expon", ["ppf"], _PROB),
    ("cauchy", ["cdf", "sf", "logcdf", "logsf"], _LOCSCALE),
    ("cauchy", ["ppf", "isf"], _PROB),
    ("laplace", ["cdf"], _LOCSCALE),
    ("logistic", ["cdf", "sf"], _LOCSCALE),
    ("logistic", ["ppf", "isf"], _PROB),
    ("gumbel_r", ["logpdf", "pdf", "cdf", "sf", "logcdf", "logsf"], _LOCSCALE),
    ("gumbel_r", ["ppf"], _PROB),
    ("gumbel_l", ["logpdf", "pdf", "cdf", "sf", "logcdf", "logsf"], _LOCSCALE),
    ("gumbel_l", ["ppf"], _PROB),
    ("pareto", ["logpdf", "pdf", "cdf", "sf", "logcdf", "logsf"],
     [S(_u(2.3, 8, 5), _u(0.5, 3, 5)), S(_u(3, 8, 3, 4), _u(0.5, 3, 4), _u(-0.2, 0.2, 4), _u(0.8, 1.2, 3, 1))]),
    ("pareto", ["ppf"], [S(_u(0.05, 0.95, 5), _u(0.5, 3, 5))]),
    ("uniform", ["logpdf", "pdf", "cdf"],
     [S(_u(0.05, 0.95, 5)), S(_u(0.2, 1.2, 3, 4), _u(0.1, 0.15, 4), _u(1.2, 2, 3, 1))]),
    ("uniform", ["ppf"], _PROB),
    ("truncnorm", ["logpdf", "pdf", "cdf", "sf", "logcdf", "logsf"],
     [S(_u(-0.9, 1.9, 5), -1.0, 2.0), S(_u(1.6, 2.9, 4), 1.5, _u(3.0, 4.0, 4)),
      S(_u(-0.4, 0.4, 3, 4), _u(-1.5, -0.5, 4), _u(0.5, 1.5, 3, 1), 0.05, 1.1)]),
    ("vonmises", ["logpdf", "pdf"],
     [S(_u(-3, 3, 5), _u(0.3, 4, 5)), S(_u(-1, 1, 3, 4), _u(0.5, 2, 4), 0.1, 1.2)]),
    ("wrapcauchy", ["logpdf", "pdf"],
     [S(_u(0.1, 6.1, 5), _u(0.1, 0.9, 5)), S(_u(0.5, 3, 3, 4), _u(0.2, 0.8, 4), 0.1, 1.2)]),
    ("gennorm", ["logpdf", "pdf", "cdf"],
     [S(_u(0.2, 2, 5) * _DR.choice([-1, 1], 5), _u(0.8, 3, 5)),
      S(_u(0.3, 2, 3, 4), _u(1.2, 3, 4), -0.1, 1.3)]),
]
for _dist, _methods, _samples in _DIST_ROWS:
    for _m in _methods:
        ROWS.append(Row(f"scipy.stats.{_dist}.{_m}", getattr(getattr(cst, _dist), _m),
                        getattr(getattr(sst, _dist), _m), _samples))

_K5 = np.array([0, 1, 2, 4, 7])


def _on_simplex(logpmf):
    def f(x, n, theta):
        e = np.exp(theta - np.max(theta))
        return logpmf(x, n, e / np.sum(e))
    return f


def _quietly_future(f):
    """SciPy's function without its FutureWarning for a p off the simplex."""
    import warnings

    def g(*args, **kwargs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            return f(*args, **kwargs)
    return g

ROWS += [
    Row("scipy.stats.bernoulli.logpmf", cst.bernoulli.logpmf, sst.bernoulli.logpmf,
        [S(np.array([0, 1, 1, 0, 1]), _u(0.1, 0.9, 5)), S(np.array([[0], [1]]), _u(0.1, 0.9, 3))]),
    Row("scipy.stats.bernoulli.pmf", cst.bernoulli.pmf, sst.bernoulli.pmf,
        [S(np.array([0, 1, 1, 0, 1]), _u(0.1, 0.9, 5))]),
    Row("scipy.stats.bernoulli.pmf[support]", cst.bernoulli.pmf, sst.bernoulli.pmf,
        [S(np.array([-1, 2, 0]), _u(0.1, 0.9, 3))], grad=False),
    Row("scipy.stats.bernoulli.cdf", cst.bernoulli.cdf, sst.bernoulli.cdf,
        [S(np.array([-1.0, 0.0, 0.5, 1.0, 3.0]), _u(0.1, 0.9, 5), diff=(1,))]),
    Row("scipy.stats.bernoulli.ppf", cst.bernoulli.ppf, sst.bernoulli.ppf,
        [S(np.array([0.0, 0.2, 0.5, 0.9, 1.0]), 0.4, diff=())], grad=False),
    Row("scipy.stats.binom.logpmf", cst.binom.logpmf, sst.binom.logpmf,
        [S(_K5, 7, _u(0.1, 0.9, 5)), S(np.array([[0], [3]]), np.array([3, 5, 6]), _u(0.1, 0.9, 3))]),
    Row("scipy.stats.binom.pmf", cst.binom.pmf, sst.binom.pmf, [S(_K5, 6, _u(0.1, 0.9, 5))]),
    Row("scipy.stats.geom.logpmf", cst.geom.logpmf, sst.geom.logpmf,
        [S(np.array([1, 1, 2, 4, 7]), _u(0.1, 0.9, 5))]),
    Row("scipy.stats.geom.logpmf[support]", cst.geom.logpmf, sst.geom.logpmf,
        [S(np.array([0, -1, 2]), _u(0.1, 0.9, 3))], grad=False),
    Row("scipy.stats.geom.pmf", cst.geom.pmf, sst.geom.pmf, [S(np.array([1, 3]), _u(0.1, 0.9, 2))]),
    Row("scipy.stats.nbinom.logpmf", cst.nbinom.logpmf, sst.nbinom.logpmf,
        [S(_K5, _u(0.5, 4, 5), _u(0.1, 0.9, 5))]),
    Row("scipy.stats.nbinom.pmf", cst.nbinom.pmf, sst.nbinom.pmf,
        [S(_K5, _u(0.5, 4, 5), _u(0.1, 0.9, 5))]),
    Row("scipy.stats.betabinom.logpmf", cst.betabinom.logpmf, sst.betabinom.logpmf,
        [S(_K5, 7, _u(0.5, 3, 5), _u(0.5, 3, 5))]),
    Row("scipy.stats.betabinom.logpmf[support]", cst.betabinom.logpmf, sst.betabinom.logpmf,
        [S(_K5, 6, _u(0.5, 3, 5), _u(0.5, 3, 5))], grad=False),
    Row("scipy.stats.betabinom.pmf", cst.betabinom.pmf, sst.betabinom.pmf,
        [S(_K5, 7, _u(0.5, 3, 5), _u(0.5, 3, 5))]),
    # p on the simplex (softmax): SciPy's function jumps off it (it replaces p's last entry)
    Row("scipy.stats.multinomial.logpmf", _on_simplex(cst.multinomial.logpmf),
        _on_simplex(sst.multinomial.logpmf),
        [S(np.array([1, 2, 0, 3]), 6, _u(-1, 1, 4)),
         S(np.array([[1, 2, 3], [2, 2, 2], [0, 1, 5]]), 6, _u(-1, 1, 3))]),
    Row("scipy.stats.multinomial.pmf", _on_simplex(cst.multinomial.pmf),
        _on_simplex(sst.multinomial.pmf), [S(np.array([1, 2, 0, 3]), 6, _u(-1, 1, 4))]),
    Row("scipy.stats.multinomial.logpmf[off the simplex]",
        _quietly_future(cst.multinomial.logpmf),
        _quietly_future(sst.multinomial.logpmf),
        [S(np.array([1, 2, 3]), 6, np.array([0.2, 0.3, 0.4]), diff=()),
         S(np.array([[1, 2, 3], [2, 2, 1]]), 6, np.array([0.5, 0.25, 0.25]), diff=())],
        grad=False),
    Row("scipy.stats.sem", cst.sem, sst.sem,
        [S(_u(-1, 1, 6)), S(_u(-1, 1, 3, 4), axis=1, ddof=0), S(_u(-1, 1, 3, 4), axis=None)]),
]

# ------------------------------------------------------------------ linalg: JAX's others
# (special matrices: scipy/matrices.py; decompositions: scipy/linalg.py), own generator
_LR = np.random.default_rng(129)


def _lr(*shape):
    return _LR.standard_normal(shape)


def _sym(n):
    a = _lr(n, n)
    return a + a.T


def _herm(n):
    a = _lr(n, n) + 1j * _lr(n, n)
    return a + a.conj().T


def _gauge2(v):
    return (v * v.conj()).real


def _sl_svd_row(mod):
    def f(a, full_matrices=True):
        u, s, vh = mod.svd(a, full_matrices=full_matrices)
        return _gauge2(u), s, _gauge2(vh)
    return f


ROWS += [
    Row("scipy.linalg.block_diag", cla.block_diag, sl.block_diag,
        [S(_lr(2, 2), _lr(3), _lr(1, 2)), S(_lr(2, 3)), S(1.5, _lr(2, 2) + 1j * _lr(2, 2))]),
    Row("scipy.linalg.circulant", cla.circulant, sl.circulant, [S(_lr(4)), S(_lr(3) + 1j * _lr(3))]),
    Row("scipy.linalg.toeplitz", cla.toeplitz, sl.toeplitz,
        [S(_lr(3), _lr(4)), S(_lr(3)), S(_lr(3) + 1j * _lr(3))]),
    Row("scipy.linalg.hankel", cla.hankel, sl.hankel, [S(_lr(3), _lr(4)), S(_lr(3))]),
    Row("scipy.linalg.leslie", cla.leslie, sl.leslie, [S(_lr(4), _lr(3))]),
    Row("scipy.linalg.companion", cla.companion, sl.companion, [S(_lr(4)), S(_lr(2))]),
    Row("scipy.linalg.fiedler_companion", cla.fiedler_companion, sl.fiedler_companion,
        [S(_lr(6)), S(_lr(5)), S(_lr(2))]),
    Row("scipy.linalg.convolution_matrix", cla.convolution_matrix, sl.convolution_matrix,
        [S(_lr(3), 5), S(_lr(3), 5, "same"), S(_lr(4), 6, "valid")]),
    Row("scipy.linalg.fiedler", cla.fiedler, sl.fiedler, [S(_lr(4))]),
    Row("scipy.linalg.svd", _sl_svd_row(cla), _sl_svd_row(sl),
        [S(_lr(3, 3)), S(_lr(4, 3), False), S(_lr(2, 4), False)]),
    Row("scipy.linalg.svd[values]", cla.svd, sl.svd,
        [S(_lr(4, 3), diff=()), S(_lr(3, 4), compute_uv=False)]),
    Row("scipy.linalg.qr", cla.qr, sl.qr,
        [S(_lr(3, 3)), S(_lr(4, 3), mode="economic"), S(_lr(3, 4), mode="r"),
         S(_lr(3, 5))]),
    Row("scipy.linalg.eigh_tridiagonal", cla.eigh_tridiagonal, sl.eigh_tridiagonal,
        [S(_lr(4), _lr(3), True), S(_lr(2), _lr(1), eigvals_only=True)]),
    Row("scipy.linalg.polar", cla.polar, sl.polar, [S(_lr(3, 3)), S(_lr(3, 2), "left")]),
    Row("scipy.linalg.expm_frechet", cla.expm_frechet, sl.expm_frechet,
        [S(0.5 * _lr(3, 3), _lr(3, 3)), S(0.5 * _lr(2, 2), _lr(2, 2), compute_expm=False)]),
]


def _lu_solve(mod, trans=0):
    def f(a, b):
        return mod.lu_solve(mod.lu_factor(a), b, trans=trans)
    return f


_LA = _lr(4, 4) + 2 * np.eye(4)
ROWS += [
    Row("scipy.linalg.lu_factor", lambda a: cla.lu_factor(a)[0], lambda a: sl.lu_factor(a)[0],
        [S(_LA), S(_lr(3, 3) + 1j * _lr(3, 3)), S(_lr(2, 3, 3))]),
    Row("scipy.linalg.lu_factor[piv]", cla.lu_factor, sl.lu_factor, [S(_LA, diff=())]),
    Row("scipy.linalg.lu_solve", _lu_solve(cla), _lu_solve(sl), [S(_LA, _lr(4, 2)), S(_LA, _lr(4))]),
    Row("scipy.linalg.lu_solve[trans]", _lu_solve(cla, 1), _lu_solve(sl, 1), [S(_LA, _lr(4, 2))]),
    Row("scipy.linalg.lu_solve[given factors]", cla.lu_solve, sl.lu_solve,
        [S(sl.lu_factor(_LA), _lr(4, 2))]),
    Row("scipy.linalg.lu", cla.lu, sl.lu,
        [S(_LA), S(_LA, permute_l=True), S(_LA, p_indices=True)]),
]
ROWS.append(Row("scipy.linalg.qr_multiply", cla.qr_multiply, sl.qr_multiply,
                [S(_lr(4, 3), _lr(2, 4)), S(_lr(4, 3), _lr(4)), S(_lr(4, 3), _lr(3, 2), "left"),
                 S(_lr(3, 4), _lr(2, 3)), S(_lr(4, 3) + 1j * _lr(4, 3), _lr(2, 4), conjugate=True)]))

# rsf2csf along quasi-triangular T (the zero subdiagonal entries held at 0: SciPy's test
# on them switches a rotation on, a jump); real Schur forms of a matrix with one complex
# pair and of one with real eigenvalues
_T1, _Z1 = sl.schur(np.array([[0.5, -2.0, 0.3, 0.1], [1.5, 0.2, -0.4, 0.7],
                              [0.0, 0.3, 1.1, 0.2], [0.2, -0.1, 0.5, -0.9]]))
_T2, _Z2 = sl.schur(_lr(3, 3) @ np.diag([1.0, 2.0, 3.0]) @ np.linalg.inv(_lr(3, 3) + 3 * np.eye(3)))


def _quasi(mod, t0):
    mask = np.triu(np.ones(t0.shape)) + np.diag((np.abs(np.diag(t0, -1)) > 0) * 1.0, -1)

    def f(t, z):
        return mod.rsf2csf(t * mask, z)
    return f


ROWS += [
    Row("scipy.linalg.rsf2csf", _quasi(cla, _T1), _quasi(sl, _T1), [S(_T1, _Z1)]),
    Row("scipy.linalg.rsf2csf[real eigenvalues]", _quasi(cla, _T2), _quasi(sl, _T2),
        [S(_T2, _Z2)]),
]

# poisson.entropy: small, medium and large means (the summation's window scales with
# sqrt(mu)), a zero mean, and a loc that broadcasts (fixed arrays: no shared RNG draws)
ROWS.append(Row("scipy.stats.poisson.entropy", cst.poisson.entropy, sst.poisson.entropy,
                [S(np.array([0.3, 2.0, 15.0, 80.0])), S(np.array([[0.7], [4.5]])),
                 S(np.array([1.5, 250.0]), np.array([[0.0], [2.0]]), diff=(0,))]))
ROWS.append(Row("scipy.stats.poisson.entropy[zero mean]", cst.poisson.entropy,
                sst.poisson.entropy, [S(np.array([0.0, 3.0]))], grad=False))
