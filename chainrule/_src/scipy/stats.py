"""chainrule.scipy.stats: log-densities of common distributions, differentiable with
respect to every float argument (values and parameters).

Each distribution is a namespace with SciPy's method names and signatures
(``norm.logpdf(x, loc=0, scale=1)``). The functions are registered under the
module ``"scipy.stats"`` as ``"norm.logpdf"`` etc.; the public module groups them
into namespaces that fall back to SciPy's own distribution object for every other
method (``rvs``, ``mean``, ``fit``, ...).

Conventions as SciPy: -inf outside the support, nan for invalid parameters
(``scale <= 0``, ``df <= 0``, ...).
"""
import functools
import math

import numpy as np
import scipy.stats as sst

from ..core import Tracer, shape_of, size_of
from ..prims import special as ps
from ..prims.elementwise import select_p, PRIMS as EW
from ..prims.products import einsum_p
from ..prims.shape import reshape, reduce_sum, broadcast_to
from ..prims.scipy_linalg import solve_triangular_p
from ..numpy import linalg as nla
from ..numpy.basic import asarray_like, as_inexact
from ..numpy.dispatch import numpy_function, PUBLIC

MODULE = "scipy.stats"
_LOG_2PI = math.log(2.0 * math.pi)
_LOG_PI = math.log(math.pi)

exp, log, log1p, floor = EW["exp"].bind, EW["log"].bind, EW["log1p"].bind, EW["floor"].bind
gammaln, xlogy, xlog1py = ps.gammaln_p.bind, ps.xlogy_p.bind, ps.xlog1py_p.bind
betaln = ps.betaln_p.bind


def _where(c, x, y):
    """where(c, x, y); Python booleans pick a branch without a primitive."""
    if isinstance(c, (bool, np.bool_)):
        return x if c else y
    return select_p.bind(c, x, y)


def _safe(x, bad, fill):
    return _where(bad, fill, x)


def _valid(cond, value):
    """value where the parameters are valid (cond), nan elsewhere (as SciPy)."""
    if isinstance(cond, (bool, np.bool_)) and cond:
        return value
    return _where(cond, value, np.nan)


def _support(cond, value, outside=-np.inf):
    return _where(cond, value, outside)


def _method(dist, method):
    """Register ``traced`` as ``scipy.stats.<dist>.<method>``."""
    sp_fn = getattr(getattr(sst, dist), method)
    register = numpy_function(sp_fn, module=MODULE, name=f"{dist}.{method}")

    def deco(traced):
        fn = register(traced)
        fn.__name__, fn.__qualname__ = method, f"{dist}.{method}"
        return fn
    return deco


def _exp_of(logfn, dist, method):
    @functools.wraps(logfn.traced)      # logfn's signature
    def fn(*args, **kwargs):
        return exp(logfn.traced(*args, **kwargs))
    fn.__doc__ = f"``exp`` of ``{dist}.{logfn.__name__}``."
    return _method(dist, method)(fn)


# ---------------------------------------------------------------- norm

def _z(x, loc, scale):
    return (as_inexact(x) - loc) / scale


def _norm_logpdf(x, loc=0, scale=1):
    z = _z(x, loc, scale)
    return _valid(scale > 0, -0.5 * z * z - 0.5 * _LOG_2PI - log(as_inexact(scale)))


norm_logpdf = _method("norm", "logpdf")(_norm_logpdf)
norm_pdf = _exp_of(norm_logpdf, "norm", "pdf")


@_method("norm", "cdf")
def _norm_cdf(x, loc=0, scale=1):
    return _valid(scale > 0, ps.ndtr_p.bind(_z(x, loc, scale)))


@_method("norm", "logcdf")
def _norm_logcdf(x, loc=0, scale=1):
    return _valid(scale > 0, ps.log_ndtr_p.bind(_z(x, loc, scale)))


@_method("norm", "sf")
def _norm_sf(x, loc=0, scale=1):
    return _valid(scale > 0, ps.ndtr_p.bind(-_z(x, loc, scale)))


@_method("norm", "logsf")
def _norm_logsf(x, loc=0, scale=1):
    return _valid(scale > 0, ps.log_ndtr_p.bind(-_z(x, loc, scale)))


@_method("norm", "ppf")
def _norm_ppf(q, loc=0, scale=1):
    return _valid(scale > 0, loc + scale * ps.ndtri_p.bind(as_inexact(q)))


@_method("norm", "isf")
def _norm_isf(q, loc=0, scale=1):
    return _valid(scale > 0, loc - scale * ps.ndtri_p.bind(as_inexact(q)))


# ---------------------------------------------------------------- t

@_method("t", "logpdf")
def t_logpdf(x, df, loc=0, scale=1):
    z = _z(x, loc, scale)
    df = as_inexact(df)
    half = 0.5 * (df + 1.0)
    val = (gammaln(half) - gammaln(0.5 * df) - 0.5 * (log(df) + _LOG_PI) - log(as_inexact(scale))
           - half * log1p(z * z / df))
    return _valid((scale > 0) & (df > 0), val)


t_pdf = _exp_of(t_logpdf, "t", "pdf")


# ---------------------------------------------------------------- gamma

@_method("gamma", "logpdf")
def gamma_logpdf(x, a, loc=0, scale=1):
    z = _z(x, loc, scale)
    a = as_inexact(a)
    inside = z >= 0
    zs = _safe(z, ~inside, 1.0)
    val = xlogy(a - 1.0, zs) - zs - gammaln(a) - log(as_inexact(scale))
    return _valid((scale > 0) & (a > 0), _support(inside, val))


gamma_pdf = _exp_of(gamma_logpdf, "gamma", "pdf")


# ---------------------------------------------------------------- beta

@_method("beta", "logpdf")
def beta_logpdf(x, a, b, loc=0, scale=1):
    z = _z(x, loc, scale)
    a, b = as_inexact(a), as_inexact(b)
    inside = (z >= 0) & (z <= 1)
    zs = _safe(z, ~inside, 0.5)
    val = xlogy(a - 1.0, zs) + xlog1py(b - 1.0, -zs) - betaln(a, b) - log(as_inexact(scale))
    return _valid((scale > 0) & (a > 0) & (b > 0), _support(inside, val))


beta_pdf = _exp_of(beta_logpdf, "beta", "pdf")


# ---------------------------------------------------------------- poisson

@_method("poisson", "logpmf")
def poisson_logpmf(k, mu, loc=0):
    """``k`` (counts) carries no derivative; ``mu`` does."""
    k = asarray_like(k) - loc
    mu = as_inexact(mu)
    inside = (k >= 0) & (floor(k) == k)
    ks = _safe(as_inexact(k), ~inside, 0.0)
    val = xlogy(ks, mu) - gammaln(ks + 1.0) - mu
    return _valid(mu >= 0, _support(inside, val))


poisson_pmf = _exp_of(poisson_logpmf, "poisson", "pmf")


# ---------------------------------------------------------------- dirichlet

def _concrete(x):
    if isinstance(x, Tracer):
        try:
            return x._concrete()
        except TypeError:     # batched under vmap (no single value): skip the checks
            return None
    return np.asarray(x)


@_method("dirichlet", "logpdf")
def dirichlet_logpdf(x, alpha):
    """``x`` has shape (K,) or (K, N) (or K-1 leading entries: the last one is
    ``1 - sum``); ``alpha`` has shape (K,). SciPy's input checks are applied to the
    concrete values."""
    x, alpha = as_inexact(x), as_inexact(alpha)
    if len(shape_of(alpha)) != 1:
        raise ValueError("Parameter vector 'a' must be one dimensional, but "
                         f"a.shape = {shape_of(alpha)}.")
    k = shape_of(alpha)[0]
    xs = shape_of(x)
    if not xs or xs[0] not in (k, k - 1):
        raise ValueError("Vector 'x' must have either the same number of entries as, "
                         f"or one entry fewer than, parameter vector 'a', but "
                         f"alpha.shape = {shape_of(alpha)} and x.shape = {xs}.")
    if xs[0] == k - 1:
        from ..numpy.basic import concatenate
        last = 1.0 - reduce_sum(x, (0,), True)
        x = concatenate([x, last], axis=0)
        xs = shape_of(x)
    cx, ca = _concrete(x), _concrete(alpha)
    if cx is not None and ca is not None and np.shape(cx) == xs and np.shape(ca) == (k,):
        sst.dirichlet.logpdf(cx, ca)       # SciPy's ValueErrors for invalid input
    a = reshape(alpha, (k,) + (1,) * (len(xs) - 1))
    lnB = reduce_sum(gammaln(alpha), (0,)) - gammaln(reduce_sum(alpha, (0,)))
    return reduce_sum(xlogy(a - 1.0, x), (0,)) - lnB


dirichlet_pdf = _exp_of(dirichlet_logpdf, "dirichlet", "pdf")


# ---------------------------------------------------------------- multivariate_normal

def _mvn_params(x, mean, cov):
    x = as_inexact(x)
    cov = as_inexact(1.0 if cov is None else cov)
    if mean is None:
        dim = 1 if len(shape_of(cov)) < 2 else shape_of(cov)[0]
        mean = np.zeros(dim)
    mean = as_inexact(mean)
    dim = size_of(shape_of(mean))
    mean = reshape(mean, (dim,))
    cs = shape_of(cov)
    if len(cs) > 2 or (len(cs) == 1 and cs[0] != dim) or \
            (len(cs) == 2 and cs != (dim, dim)):
        raise ValueError(f"Array 'cov' must be of shape ({dim}, {dim}), but it has "
                         f"shape {cs}.")
    xs = shape_of(x)
    if not xs:
        x = reshape(x, (1,))
    elif len(xs) == 1:
        x = reshape(x, (xs[0], 1) if dim == 1 else (1, xs[0]))
    if shape_of(x)[-1] != dim:
        raise ValueError(f"x has last dimension {shape_of(x)[-1]}, expected {dim}")
    return x, mean, cov, dim


def _squeeze(out):
    s = shape_of(out)
    return reshape(out, tuple(d for d in s if d != 1))


@_method("multivariate_normal", "logpdf")
def mvn_logpdf(x, mean=None, cov=1, allow_singular=False):
    """Via a Cholesky factor of ``cov`` (its lower triangle is used, as SciPy's eigh
    does); a scalar or 1-D ``cov`` is a (diagonal) variance. ``allow_singular=True``
    is not supported inside transformations."""
    if allow_singular:
        raise NotImplementedError("multivariate_normal.logpdf(allow_singular=True) is "
                                  "not supported inside a transformation")
    x, mean, cov, dim = _mvn_params(x, mean, cov)
    dev = x - mean
    lead = shape_of(dev)[:-1]
    if len(shape_of(cov)) < 2:
        var = broadcast_to(cov, (dim,))
        logdet = reduce_sum(log(var), (0,))
        maha = reduce_sum(dev * dev / var, (len(shape_of(dev)) - 1,))
    else:
        chol = nla.cholesky(cov)     # reads (and differentiates) the lower triangle only
        logdet = 2.0 * reduce_sum(log(einsum_p.bind(chol, subscripts="ii->i")), (0,))
        cols = reshape(dev, (size_of(lead), dim)).T
        z = solve_triangular_p.bind(chol, cols, lower=True, trans=0, unit_diagonal=False)
        maha = reshape(reduce_sum(z * z, (0,)), lead)
    return _squeeze(-0.5 * (dim * _LOG_2PI + logdet + maha))


mvn_pdf = _exp_of(mvn_logpdf, "multivariate_normal", "pdf")


# ---------------------------------------------------------------- a few more

@_method("expon", "logpdf")
def expon_logpdf(x, loc=0, scale=1):
    z = _z(x, loc, scale)
    inside = z >= 0
    return _valid(scale > 0, _support(inside, -z - log(as_inexact(scale))))


expon_pdf = _exp_of(expon_logpdf, "expon", "pdf")


@_method("laplace", "logpdf")
def laplace_logpdf(x, loc=0, scale=1):
    z = _z(x, loc, scale)
    return _valid(scale > 0, -abs(z) - log(2.0 * as_inexact(scale)))


laplace_pdf = _exp_of(laplace_logpdf, "laplace", "pdf")


@_method("cauchy", "logpdf")
def cauchy_logpdf(x, loc=0, scale=1):
    z = _z(x, loc, scale)
    return _valid(scale > 0, -_LOG_PI - log(as_inexact(scale)) - log1p(z * z))


cauchy_pdf = _exp_of(cauchy_logpdf, "cauchy", "pdf")


@_method("logistic", "logpdf")
def logistic_logpdf(x, loc=0, scale=1):
    z = _z(x, loc, scale)
    # log(e^-z / (1 + e^-z)^2) = -|z| - 2 log1p(e^-|z|)
    az = abs(z)
    return _valid(scale > 0, -az - 2.0 * log1p(exp(-az)) - log(as_inexact(scale)))


logistic_pdf = _exp_of(logistic_logpdf, "logistic", "pdf")


DISTRIBUTIONS = ("norm", "t", "gamma", "beta", "poisson", "dirichlet",
                 "multivariate_normal", "expon", "laplace", "cauchy", "logistic")


class Distribution:
    """A namespace of differentiable methods; every other attribute is SciPy's."""

    def __init__(self, name, methods, scipy_dist):
        self.__name__ = name
        self._scipy = scipy_dist
        self.__dict__.update(methods)

    def __getattr__(self, attr):
        if attr.startswith("__") or attr == "_scipy":
            raise AttributeError(attr)
        return getattr(self._scipy, attr)

    def __repr__(self):
        return f"<chainrule.scipy.stats.{self.__name__}: differentiable " \
               f"{sorted(k for k in self.__dict__ if not k.startswith('_'))}>"


def namespaces():
    """{name: Distribution} built from the registry (for the public module)."""
    fns = PUBLIC.get(MODULE, {})
    out = {}
    for dist in DISTRIBUTIONS:
        methods = {k.split(".", 1)[1]: v for k, v in fns.items() if k.split(".")[0] == dist}
        out[dist] = Distribution(dist, methods, getattr(sst, dist))
    return out
