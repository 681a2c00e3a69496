"""chainrule.scipy.stats: log-densities of common distributions, differentiable with
respect to every float argument (values and parameters).

Each distribution is a namespace with SciPy's method names and signatures
(``norm.logpdf(x, loc=0, scale=1)``). The functions are registered under the
module ``"scipy.stats"`` as ``"norm.logpdf"`` etc.; the public module groups them
into namespaces that fall back to SciPy's own distribution object for every other
method (``rvs``, ``mean``, ``fit``, ...).

Conventions as SciPy: -inf outside the support, nan for invalid parameters
(``scale <= 0``, ``df <= 0``, ...). Distribution functions (``cdf``, ``sf`` and
their logs) are differentiable in ``x``, ``loc``, ``scale`` and the shape parameters
(through ``gammainc`` and ``betainc``, whose derivatives in ``a`` and ``b`` are computed
by series; see ``prims/incomplete.py``); counts (``poisson``'s ``k``) have no derivative: asking for one raises.
"""
import functools
import math

import types

import numpy as np
import scipy.stats as sst

from ..core import Tracer, shape_of, size_of, dtype_of
from ..prims import special as ps, incomplete as pinc
from ..prims.elementwise import select_p, PRIMS as EW
from ..prims.products import einsum_p
from ..prims.shape import reshape, reduce_sum, broadcast_to, transpose, convert_element_type_p
from ..prims.control import stop_gradient_p, no_derivative
from ..prims.linalg import read_hermitian
from ..prims.scipy_linalg import solve_triangular_p
from ..numpy import linalg as nla
from ..numpy.basic import asarray_like, as_inexact, concatenate
from ..numpy.dispatch import numpy_function, PUBLIC

MODULE = "scipy.stats"
_LOG_2PI = math.log(2.0 * math.pi)
_LOG_PI = math.log(math.pi)

exp, log, log1p, floor = EW["exp"].bind, EW["log"].bind, EW["log1p"].bind, EW["floor"].bind
gammaln, xlogy, xlog1py = ps.gammaln_p.bind, ps.xlogy_p.bind, ps.xlog1py_p.bind
betaln = ps.betaln_p.bind


def gammainc(a, x):
    return pinc.gammainc_p.bind(a, x, n=0)


def gammaincc(a, x):
    return pinc.gammaincc_p.bind(a, x)


def betainc(a, b, x):
    return pinc.betainc_p.bind(a, b, x, i=0, j=0)


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


_F64 = np.dtype(np.float64)


def _float64(v):
    """A real floating argument narrower than float64 (float32, float16) as float64:
    SciPy's distributions return float64 for such input, so the traced version must too
    (it returned float32 when every argument was float32). Values agree with SciPy's to
    the input's rounding: SciPy forms ``(x - loc) / scale`` in float32 first."""
    if isinstance(v, Tracer) or isinstance(v, (np.ndarray, np.floating)):
        dt = dtype_of(v) if isinstance(v, Tracer) else v.dtype
        if dt.kind == "f" and dt.itemsize < 8:
            return convert_element_type_p.bind(v, dtype=_F64)
    return v


_MULTIVARIATE = {"multivariate_normal", "dirichlet", "multinomial"}


def _nan_where_nan(out, args):
    """``out`` with nan wherever an argument is nan, as SciPy's univariate methods
    (``place(output, ... + isnan(x), badvalue)``): the traced formulas' support masks
    (``where(x >= 0, f, 0)``) took a nan ``x`` or ``loc`` for a point outside the
    support (expon.cdf(nan) was 0 under grad and jit). A constant argument without nan
    adds nothing."""
    bad = None
    for a in args:
        if isinstance(a, Tracer):
            if dtype_of(a).kind not in "fc":
                continue
            m = a != a
        elif isinstance(a, (float, complex, np.floating, np.complexfloating, np.ndarray)):
            if np.asarray(a).dtype.kind not in "fc" or not np.isnan(a).any():
                continue
            m = np.isnan(a)
        else:
            continue
        bad = m if bad is None else bad | m
    return out if bad is None else _where(bad, np.nan, out)


def _method(dist, method, layout="C"):
    """Register ``traced`` as ``scipy.stats.<dist>.<method>`` (its floating arguments
    promoted to float64 first, as SciPy's). ``layout``: SciPy's methods allocate their
    result (``zeros(shape(cond))``, a sum over a product), C-ordered whatever the
    arguments' layouts, where chainrule's elementwise result follows theirs (an
    F-ordered ``x`` gave an F-ordered pdf, and a write through its reshape reached
    the wrong array); None where SciPy's result follows the arguments (multinomial)."""
    sp_fn = getattr(getattr(sst, dist), method)
    register = numpy_function(sp_fn, module=MODULE, name=f"{dist}.{method}",
                              layout=layout)

    elementwise = dist not in _MULTIVARIATE

    def deco(body):
        @functools.wraps(body)
        def traced(*args, **kwargs):
            for a in list(args) + list(kwargs.values()):
                if isinstance(a, complex) or (isinstance(a, (Tracer, np.ndarray, np.generic))
                                              and dtype_of(a).kind == "c"):
                    raise TypeError(
                        f"scipy.stats.{dist}.{method}: complex arguments are not supported "
                        f"(SciPy's distributions are real: they raise or drop the "
                        f"imaginary part); pass real arrays")
            args = [_float64(a) for a in args]
            kwargs = {k: _float64(v) for k, v in kwargs.items()}
            out = body(*args, **kwargs)
            return _nan_where_nan(out, args + list(kwargs.values())) if elementwise else out
        fn = register(traced)
        fn.__name__, fn.__qualname__ = method, f"{dist}.{method}"
        return fn
    return deco


def _exp_of(logfn, dist, method, layout="C"):
    @functools.wraps(logfn.traced)      # logfn's signature
    def fn(*args, **kwargs):
        return exp(logfn.traced(*args, **kwargs))
    fn.__doc__ = f"``exp`` of ``{dist}.{logfn.__name__}``."
    return _method(dist, method, layout)(fn)


def _log_of(fn, dist, method, complement=None):
    """``log(fn)``; with ``complement`` (the function ``1 - fn``: sf for a cdf), SciPy's
    continuous distributions' choice: ``log1p(-complement)`` where ``fn >= 1/2`` (below
    their median), which is exact where ``fn`` rounds to 1 (``log(fn)`` is then 0
    with derivative 0: beta.logcdf was 0 for -7.2e-272)."""
    @functools.wraps(fn.traced)
    def logfn(*args, **kwargs):
        p = fn.traced(*args, **kwargs)
        zero = p == 0
        if complement is None:
            return _where(zero, -np.inf, log(_safe(p, zero, 1.0)))
        q = complement.traced(*args, **kwargs)
        low = p < 0.5
        small = _where(zero, -np.inf, log(_safe(p, zero | ~low, 0.25)))
        return _where(low, small, log1p(-_safe(q, low, 0.25)))
    tail = "" if complement is None else \
        f"; ``log1p(-{complement.__name__})`` from 1/2 on, as SciPy"
    logfn.__doc__ = f"``log`` of ``{dist}.{fn.__name__}`` (-inf, with derivative 0, where " \
                    f"that is 0){tail}."
    return _method(dist, method)(logfn)


# ---------------------------------------------------------------- norm

def _scale(scale):
    """``scale`` where it is valid (> 0) and 1 elsewhere: the result there is nan
    (``_valid``), and computing it raises no floating-point warning."""
    scale = as_inexact(scale)
    bad = scale <= 0
    if isinstance(bad, (bool, np.bool_)):
        return 1.0 if bad else scale
    return select_p.bind(bad, 1.0, scale)


def _z(x, loc, scale):
    return (as_inexact(x) - loc) / _scale(scale)


def _norm_logpdf(x, loc=0, scale=1):
    z = _z(x, loc, scale)
    return _valid(scale > 0, -0.5 * z * z - 0.5 * _LOG_2PI - log(_scale(scale)))


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
    val = (gammaln(half) - gammaln(0.5 * df) - 0.5 * (log(df) + _LOG_PI) - log(_scale(scale))
           - half * log1p(z * z / df))
    return _valid((scale > 0) & (df > 0), val)


t_pdf = _exp_of(t_logpdf, "t", "pdf")


def _t_cdf(z, df):
    """P(T <= z) = I/2 for z < 0 (1 - I/2 for z > 0), with I = P(|T| >= |z|) computed
    from the argument that is exact: ``betaincc(1/2, df/2, z^2 / (df + z^2))`` for
    z^2 < df, ``betainc(df/2, 1/2, df / (df + z^2))`` beyond. (``1/2 - betainc(1/2, ...)/2``
    cancels in the lower tail: 1.7208e-15 for 1.7133e-15 at z = -8, df = 1000, and 0
    from about 1e-17 down.) Within 1e-8 of 0 it is its Taylor polynomial
    1/2 + pdf(0) z (exact to rounding: the next term is O(z^3)), whose derivatives are
    finite where the betainc forms' are 0 * inf."""
    small = abs(z) < 1e-8
    zs = _safe(z, small, 1.0)
    z2 = zs * zs
    near = z2 < df
    z2n, z2f = _safe(z2, ~near, 0.5 * df), _safe(z2, near, 2.0 * df)
    i = _where(near, pinc.betaincc_p.bind(0.5, 0.5 * df, z2n / (df + z2n)),
               betainc(0.5 * df, 0.5, df / (df + z2f)))
    tail = _where(zs < 0, 0.5 * i, 1.0 - 0.5 * i)
    pdf0 = exp(gammaln(0.5 * (df + 1.0)) - gammaln(0.5 * df) - 0.5 * (log(df) + _LOG_PI))
    return _where(small, 0.5 + pdf0 * z, tail)


@_method("t", "cdf")
def t_cdf(x, df, loc=0, scale=1):
    df = as_inexact(df)
    return _valid((scale > 0) & (df > 0), _t_cdf(_z(x, loc, scale), df))


@_method("t", "sf")
def t_sf(x, df, loc=0, scale=1):
    df = as_inexact(df)
    return _valid((scale > 0) & (df > 0), _t_cdf(-_z(x, loc, scale), df))


t_logcdf = _log_of(t_cdf, "t", "logcdf", t_sf)
t_logsf = _log_of(t_sf, "t", "logsf", t_cdf)


# ---------------------------------------------------------------- gamma

@_method("gamma", "logpdf")
def gamma_logpdf(x, a, loc=0, scale=1):
    z = _z(x, loc, scale)
    a = as_inexact(a)
    inside = z >= 0
    zs = _safe(z, ~inside, 1.0)
    val = xlogy(a - 1.0, zs) - zs - gammaln(a) - log(_scale(scale))
    return _valid((scale > 0) & (a > 0), _support(inside, val))


gamma_pdf = _exp_of(gamma_logpdf, "gamma", "pdf")


def _gamma_cdf(z, a, upper):
    """gammainc(a, z) (gammaincc for ``upper``), 0 (1) for z < 0."""
    inside = z >= 0
    zs = _safe(z, ~inside, 1.0)
    return _support(inside, (gammaincc if upper else gammainc)(a, zs), 1.0 if upper else 0.0)


@_method("gamma", "cdf")
def gamma_cdf(x, a, loc=0, scale=1):
    a = as_inexact(a)
    return _valid((scale > 0) & (a > 0), _gamma_cdf(_z(x, loc, scale), a, False))


@_method("gamma", "sf")
def gamma_sf(x, a, loc=0, scale=1):
    a = as_inexact(a)
    return _valid((scale > 0) & (a > 0), _gamma_cdf(_z(x, loc, scale), a, True))


gamma_logcdf = _log_of(gamma_cdf, "gamma", "logcdf", gamma_sf)
gamma_logsf = _log_of(gamma_sf, "gamma", "logsf", gamma_cdf)


# ---------------------------------------------------------------- chi2

_LOG_2 = math.log(2.0)


@_method("chi2", "logpdf")
def chi2_logpdf(x, df, loc=0, scale=1):
    z = _z(x, loc, scale)
    df = as_inexact(df)
    inside = z >= 0
    zs = _safe(z, ~inside, 1.0)
    half = 0.5 * df
    val = xlogy(half - 1.0, zs) - 0.5 * zs - gammaln(half) - _LOG_2 * half \
        - log(_scale(scale))
    return _valid((scale > 0) & (df > 0), _support(inside, val))


chi2_pdf = _exp_of(chi2_logpdf, "chi2", "pdf")


@_method("chi2", "cdf")
def chi2_cdf(x, df, loc=0, scale=1):
    df = as_inexact(df)
    return _valid((scale > 0) & (df > 0), _gamma_cdf(0.5 * _z(x, loc, scale), 0.5 * df, False))


@_method("chi2", "sf")
def chi2_sf(x, df, loc=0, scale=1):
    df = as_inexact(df)
    return _valid((scale > 0) & (df > 0), _gamma_cdf(0.5 * _z(x, loc, scale), 0.5 * df, True))


chi2_logcdf = _log_of(chi2_cdf, "chi2", "logcdf", chi2_sf)
chi2_logsf = _log_of(chi2_sf, "chi2", "logsf", chi2_cdf)


# ---------------------------------------------------------------- beta

@_method("beta", "logpdf")
def beta_logpdf(x, a, b, loc=0, scale=1):
    z = _z(x, loc, scale)
    a, b = as_inexact(a), as_inexact(b)
    inside = (z >= 0) & (z <= 1)
    zs = _safe(z, ~inside, 0.5)
    val = xlogy(a - 1.0, zs) + xlog1py(b - 1.0, -zs) - betaln(a, b) - log(_scale(scale))
    return _valid((scale > 0) & (a > 0) & (b > 0), _support(inside, val))


beta_pdf = _exp_of(beta_logpdf, "beta", "pdf")


def _beta_cdf(z, a, b, upper):
    """betainc(a, b, z) (for ``upper``: betaincc(a, b, z), as SciPy), 0 or 1 outside
    [0, 1]."""
    inside = (z >= 0) & (z <= 1)
    zs = _safe(z, ~inside, 0.5)
    val = pinc.betaincc_p.bind(a, b, zs) if upper else betainc(a, b, zs)
    below, above = (1.0, 0.0) if upper else (0.0, 1.0)
    return _where(z < 0, below, _where(z > 1, above, val))


@_method("beta", "cdf")
def beta_cdf(x, a, b, loc=0, scale=1):
    a, b = as_inexact(a), as_inexact(b)
    return _valid((scale > 0) & (a > 0) & (b > 0), _beta_cdf(_z(x, loc, scale), a, b, False))


@_method("beta", "sf")
def beta_sf(x, a, b, loc=0, scale=1):
    a, b = as_inexact(a), as_inexact(b)
    return _valid((scale > 0) & (a > 0) & (b > 0), _beta_cdf(_z(x, loc, scale), a, b, True))


beta_logcdf = _log_of(beta_cdf, "beta", "logcdf", beta_sf)
beta_logsf = _log_of(beta_sf, "beta", "logsf", beta_cdf)


# ---------------------------------------------------------------- poisson

@_method("poisson", "logpmf")
def poisson_logpmf(k, mu, loc=0):
    """``k`` (counts) has no derivative (asking for one raises); ``mu`` does."""
    k = no_derivative(asarray_like(k) - loc, "scipy.stats.poisson.logpmf: the count k "
                      "(and loc)")
    mu = as_inexact(mu)
    inside = (k >= 0) & (floor(k) == k)
    ks = _safe(as_inexact(k), ~inside, 0.0)
    val = xlogy(ks, mu) - gammaln(ks + 1.0) - mu
    return _valid(mu >= 0, _support(inside, val))


poisson_pmf = _exp_of(poisson_logpmf, "poisson", "pmf")


def _poisson_cdf(k, mu, loc, upper):
    """P(K <= k) = gammaincc(floor(k) + 1, mu) (P(K > k) = gammainc(...) for ``upper``),
    with SciPy's values below the support (0 or 1) and at k = inf (1 or 0)."""
    k = floor(asarray_like(k) - loc)
    mu = as_inexact(mu)
    inside = (k >= 0) & (k < np.inf)
    ks = _safe(as_inexact(k), ~inside, 0.0)
    val = (gammainc if upper else gammaincc)(ks + 1.0, mu)
    below, above = (1.0, 0.0) if upper else (0.0, 1.0)
    return _valid(mu >= 0, _where(k < 0, below, _where(k == np.inf, above, val)))


@_method("poisson", "cdf")
def poisson_cdf(k, mu, loc=0):
    """``k`` (counts): a step function of it, derivative 0; ``mu`` is differentiable."""
    return _poisson_cdf(k, mu, loc, False)


@_method("poisson", "sf")
def poisson_sf(k, mu, loc=0):
    """``k`` (counts): a step function of it, derivative 0; ``mu`` is differentiable."""
    return _poisson_cdf(k, mu, loc, True)


poisson_logcdf = _log_of(poisson_cdf, "poisson", "logcdf")
poisson_logsf = _log_of(poisson_sf, "poisson", "logsf")


def _poisson_entropy_numpy(mu, loc=0):
    """The value outside transformations: the same series as the traced one. SciPy's
    own (``poisson.entropy``) stops short from mu ~ 1e4 on ("sum did not converge":
    3.29 at mu = 3e4, where the entropy is 6.57), and a function must not give one
    number eagerly and another under jit or grad."""
    h = ps._poisson_entropy_d(0.0, np.asarray(mu, float))
    shape = np.broadcast_shapes(np.shape(h), np.shape(loc))
    return h if shape == np.shape(h) else np.broadcast_to(h, shape).copy()


@numpy_function(_poisson_entropy_numpy, module=MODULE, name="poisson.entropy")
def poisson_entropy(mu, loc=0):
    """``-sum_k p(k) log p(k)`` (``prims/special.py``'s ``poisson_entropy_d``: the
    entropy and its derivatives in ``mu`` to every order, summed without cancellation).
    ``loc`` shifts the support and leaves the entropy alone (the shape is ``mu``'s and
    ``loc``'s, broadcast)."""
    mu = as_inexact(mu)
    h = ps.poisson_entropy_d(0.0, mu)
    shape = np.broadcast_shapes(shape_of(h), np.shape(loc) if not isinstance(loc, Tracer)
                                else shape_of(loc))
    return broadcast_to(h, shape) if shape != shape_of(h) else h


poisson_entropy.__name__, poisson_entropy.__qualname__ = "entropy", "poisson.entropy"


# ---------------------------------------------------------------- dirichlet

def _flag(cond):
    """The Python truth of a traced condition (under jit a guard on it, not on the
    values), or None under vmap, where each example may differ."""
    try:
        return bool(cond)
    except TypeError:
        return None


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

def _mvn_mean_cov(mean, cov):
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
    return mean, cov, dim


def _mvn_params(x, mean, cov):
    x = as_inexact(x)
    mean, cov, dim = _mvn_mean_cov(mean, cov)
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


def _chol_logdet(chol):
    return 2.0 * reduce_sum(log(einsum_p.bind(chol, subscripts="ii->i")), (0,))


def _maha(chol, dev, dim):
    """sum over the last axis of (L^-1 dev)^2, for dev of shape (..., dim)."""
    lead = shape_of(dev)[:-1]
    cols = transpose(reshape(dev, (size_of(lead), dim)), (1, 0))
    z = solve_triangular_p.bind(chol, cols, lower=True, trans=0, unit_diagonal=False)
    return reshape(reduce_sum(z * z, (0,)), lead)


def _cho_solve(chol, b):
    """(L L')^-1 b for a lower Cholesky factor L and a matrix b."""
    y = solve_triangular_p.bind(chol, b, lower=True, trans=0, unit_diagonal=False)
    return solve_triangular_p.bind(chol, y, lower=True, trans=1, unit_diagonal=False)


class _PSD:
    """SciPy's ``_PSD`` (``allow_singular=True``): pseudo-determinant and pseudo-inverse
    of ``cov`` (its lower triangle, as SciPy's eigh reads it), on the eigenvectors whose
    eigenvalues pass SciPy's cutoff ``1e6 * eps * max |w|``.

    The eigenvectors ``u`` are those of ``stop_gradient(cov)``: no eigenvector
    derivative (whose 1 / (w_i - w_j) repeated eigenvalues, cov = I for one, would make
    infinite). In their basis ``u' cov u = [[P, Q], [Q', R]]`` (kept / null directions),
    and a matrix of the same rank is ``X P X'`` with ``X = [I; K']``, ``K = P^-1 Q``. So

        pdet = det(P) det(I + K K'),  pinv = X (X'X)^-1 P^-1 (X'X)^-1 X',

    which are SciPy's values at ``cov`` (where Q = 0) and exact to every order along
    matrices of the same rank, whose support turns with Q. Perturbations that change
    the rank (R) have no effect: SciPy's pseudo-determinant jumps there. For a
    nonsingular ``cov`` nothing is null and this is logdet(cov) and cov^-1: then (when
    that is known, i.e. not under vmap) the regular density's Cholesky form is used."""

    def __init__(self, cov, dim):
        eye = np.eye(dim)
        if len(shape_of(cov)) < 2:
            cov = eye * broadcast_to(cov, (dim,))      # scalar * I or diag(cov)
        else:
            cov = read_hermitian(cov)    # SciPy's eigh reads the lower triangle
        w, u = nla.eigh(stop_gradient_p.bind(cov) if isinstance(cov, Tracer) else cov)
        eps = 1e6 * np.finfo(np.float64).eps * EW["maximum"].bind(abs(w[0]), abs(w[-1]))
        if _flag(w[0] < -eps):
            raise ValueError("The input matrix must be symmetric positive semidefinite.")
        self.dim, self.eps = dim, eps
        # nonsingular (a guard under jit): the regular density, the same function
        self.regular = _flag(w[0] > eps)
        if self.regular:
            self.lp = nla.cholesky(cov)
            self.log_pdet, self.rank = _chol_logdet(self.lp), float(dim)
            return
        keep = w > eps
        c = transpose(u, (1, 0)) @ cov @ u
        self.lp = nla.cholesky(_where(keep[:, None] & keep[None, :], c, eye))
        self.k = _cho_solve(self.lp, _where(keep[:, None] & ~keep[None, :], c, 0.0))
        self.lg = nla.cholesky(eye + self.k @ transpose(self.k, (1, 0)))
        self.log_pdet = _chol_logdet(self.lp) + _chol_logdet(self.lg)
        self.rank = reduce_sum(_where(keep, 1.0, 0.0), (0,))
        self.keep, self.u = keep[:, None], u

    def logpdf(self, dev):
        if self.regular:
            return -0.5 * (self.rank * _LOG_2PI + self.log_pdet + _maha(self.lp, dev, self.dim))
        lead = shape_of(dev)[:-1]
        y = transpose(reshape(dev, (size_of(lead), self.dim)) @ self.u, (1, 0))   # (dim, m)
        y_keep, y_null = _where(self.keep, y, 0.0), _where(self.keep, 0.0, y)
        v = _cho_solve(self.lg, y_keep + self.k @ y_null)          # (X'X)^-1 X' y
        z = solve_triangular_p.bind(self.lp, v, lower=True, trans=0, unit_diagonal=False)
        maha = reshape(reduce_sum(z * z, (0,)), lead)
        out = -0.5 * (self.rank * _LOG_2PI + self.log_pdet + maha)
        off = y_null - transpose(self.k, (1, 0)) @ y_keep           # off the support
        residual = reshape(EW["sqrt"].bind(reduce_sum(off * off, (0,))), lead)
        return _where(residual < 1e3 * self.eps, out, -np.inf)


@_method("multivariate_normal", "logpdf")
def mvn_logpdf(x, mean=None, cov=1, allow_singular=False):
    """Via a Cholesky factor of ``cov`` (its lower triangle is used, as SciPy's eigh
    does; the gradient in ``cov`` is symmetric, as cholesky's); a scalar or 1-D ``cov`` is a (diagonal) variance. With
    ``allow_singular=True``, SciPy's pseudo-determinant and pseudo-inverse, -inf off
    the support; derivatives in a singular ``cov`` hold its rank fixed."""
    x, mean, cov, dim = _mvn_params(x, mean, cov)
    dev = x - mean
    if allow_singular:
        return _squeeze(_PSD(cov, dim).logpdf(dev))
    if len(shape_of(cov)) < 2:
        var = broadcast_to(cov, (dim,))
        logdet = reduce_sum(log(var), (0,))
        maha = reduce_sum(dev * dev / var, (len(shape_of(dev)) - 1,))
    else:
        chol = nla.cholesky(cov)     # reads the lower triangle; symmetric gradient
        logdet = _chol_logdet(chol)
        maha = _maha(chol, dev, dim)
    return _squeeze(-0.5 * (dim * _LOG_2PI + logdet + maha))


@_method("multivariate_normal", "entropy")
def mvn_entropy(mean=None, cov=1):
    """0.5 (rank (log(2 pi) + 1) + log pdet(cov)), with SciPy's pseudo-determinant
    (a singular ``cov`` is allowed, as in SciPy; see ``logpdf(allow_singular=True)``
    for its derivatives)."""
    mean, cov, dim = _mvn_mean_cov(mean, cov)
    psd = _PSD(cov, dim)
    return 0.5 * (psd.rank * (_LOG_2PI + 1.0) + psd.log_pdet)


mvn_pdf = _exp_of(mvn_logpdf, "multivariate_normal", "pdf")


# ---------------------------------------------------------------- a few more

@_method("expon", "logpdf")
def expon_logpdf(x, loc=0, scale=1):
    z = _z(x, loc, scale)
    inside = z >= 0
    return _valid(scale > 0, _support(inside, -z - log(_scale(scale))))


expon_pdf = _exp_of(expon_logpdf, "expon", "pdf")


@_method("laplace", "logpdf")
def laplace_logpdf(x, loc=0, scale=1):
    z = _z(x, loc, scale)
    return _valid(scale > 0, -abs(z) - log(2.0 * _scale(scale)))


laplace_pdf = _exp_of(laplace_logpdf, "laplace", "pdf")


@_method("cauchy", "logpdf")
def cauchy_logpdf(x, loc=0, scale=1):
    z = _z(x, loc, scale)
    return _valid(scale > 0, -_LOG_PI - log(_scale(scale)) - log1p(z * z))


cauchy_pdf = _exp_of(cauchy_logpdf, "cauchy", "pdf")


@_method("logistic", "logpdf")
def logistic_logpdf(x, loc=0, scale=1):
    z = _z(x, loc, scale)
    # log(e^-z / (1 + e^-z)^2) = -|z| - 2 log1p(e^-|z|)
    az = abs(z)
    return _valid(scale > 0, -az - 2.0 * log1p(exp(-az)) - log(_scale(scale)))


logistic_pdf = _exp_of(logistic_logpdf, "logistic", "pdf")




class Distribution(types.ModuleType):
    """A namespace of differentiable methods; every other attribute is SciPy's. A module
    (``chainrule.scipy.stats.norm``), as JAX's and autograd's are, so that
    ``import chainrule.scipy.stats.norm as norm`` works as it does for them."""

    def __init__(self, name, methods, scipy_dist):
        super().__init__(f"chainrule.scipy.stats.{name}",
                         f"scipy.stats.{name}'s methods, differentiable: "
                         f"{', '.join(sorted(methods))}; every other attribute is SciPy's.")
        self._scipy = scipy_dist
        self.__dict__.update(methods)

    def __getattr__(self, attr):
        if attr.startswith("__") or attr == "_scipy":
            raise AttributeError(attr)
        return getattr(self._scipy, attr)

    def __repr__(self):
        return f"<{self.__name__}: differentiable " \
               f"{sorted(k for k in self.__dict__ if not k.startswith('_'))}>"


def namespaces():
    """{name: Distribution} built from the registry (for the public module)."""
    fns = PUBLIC.get(MODULE, {})
    out = {}
    for dist in sorted({k.split(".")[0] for k in fns if "." in k}):
        methods = {k.split(".", 1)[1]: v for k, v in fns.items() if k.split(".")[0] == dist}
        out[dist] = Distribution(dist, methods, getattr(sst, dist))
    return out
