"""More of chainrule.scipy.stats: the distribution functions JAX has beyond
``stats.py``'s (expon, cauchy, laplace, logistic cdfs; gumbel_r, gumbel_l, pareto,
uniform, truncnorm, vonmises, wrapcauchy, gennorm; the discrete bernoulli, binom,
geom, nbinom, betabinom, multinomial) and ``sem``. SciPy's signatures and values,
written with ``stats.py``'s helpers (nan for invalid parameters, SciPy's values
outside the support); differentiable in ``x``, ``loc``, ``scale`` and the float shape
parameters; counts (``k``, binom's ``n``) have no derivative: asking for one raises
NotImplementedError (SciPy's function of a non-integer count is -inf); multinomial's
``x`` and ``n`` are truncated to integers, as SciPy does (derivative 0).
"""
import math

import numpy as np
import scipy.stats as sst

from ..core import shape_of
from ..prims import special as ps, incomplete as pinc
from ..prims.elementwise import PRIMS as EW
from ..prims.shape import reduce_sum
from ..prims.control import no_derivative
from ..numpy.basic import asarray_like, as_inexact, reshape
from ..numpy.reductions import std
from ..numpy.dispatch import numpy_function
from .stats import (MODULE, _method, _exp_of, _log_of, _z, _scale, _valid, _support,
                    _where, _safe, gammaln, xlogy, xlog1py, betaln, gammainc, exp, log,
                    log1p, floor)

expm1, arctan, tan, cos = EW["expm1"].bind, EW["arctan"].bind, EW["tan"].bind, EW["cos"].bind
arctan2, sin = EW["arctan2"].bind, EW["sin"].bind
ndtr, log_ndtr, ndtri = ps.ndtr_p.bind, ps.log_ndtr_p.bind, ps.ndtri_p.bind
expit, logit, i0e = ps.expit_p.bind, ps.logit_p.bind, ps.i0e_p.bind
_LOG_2PI = math.log(2.0 * math.pi)


def _q(q):
    """A probability argument: nan outside [0, 1] (as SciPy's ppf)."""
    q = as_inexact(q)
    return q, (q >= 0) & (q <= 1)


def _ppf(q, loc, scale, standard):
    q, ok = _q(q)
    return _valid((scale > 0) & ok, loc + _scale(scale) * standard(_safe(q, ~ok, 0.5)))


def _log1mexp(y):
    """log(1 - exp(y)) for y <= 0, accurate at both ends."""
    small = y > -math.log(2.0)
    return _where(small, log(-expm1(_safe(y, ~small, -1.0))),
                  log1p(-exp(_safe(y, small, -1.0))))


# ---------------------------------------------------------------- expon

@_method("expon", "cdf")
def expon_cdf(x, loc=0, scale=1):
    z = _z(x, loc, scale)
    inside = z >= 0
    return _valid(scale > 0, _support(inside, -expm1(-_safe(z, ~inside, 0.0)), 0.0))


@_method("expon", "sf")
def expon_sf(x, loc=0, scale=1):
    z = _z(x, loc, scale)
    inside = z >= 0
    return _valid(scale > 0, _support(inside, exp(-_safe(z, ~inside, 0.0)), 1.0))


@_method("expon", "logsf")
def expon_logsf(x, loc=0, scale=1):
    z = _z(x, loc, scale)
    inside = z >= 0
    return _valid(scale > 0, _support(inside, -_safe(z, ~inside, 0.0), 0.0))


@_method("expon", "logcdf")
def expon_logcdf(x, loc=0, scale=1):
    """log(1 - exp(-z)), exact at both ends (``log(-expm1(-z))`` is 0 for z > 37, where
    SciPy's value is -exp(-z))."""
    z = _z(x, loc, scale)
    inside = z > 0
    return _valid(scale > 0, _support(inside, _log1mexp(-_safe(z, ~inside, 1.0))))


@_method("expon", "ppf")
def expon_ppf(q, loc=0, scale=1):
    return _ppf(q, loc, scale, lambda q: -log1p(-q))


# ---------------------------------------------------------------- cauchy

@_method("cauchy", "cdf")
def cauchy_cdf(x, loc=0, scale=1):
    """``arctan2(1, -z) / pi``, as SciPy: ``1/2 + arctan(z) / pi`` cancels in the lower
    tail (3.1830982e-11 for 3.1830989e-11 at z = -1e10)."""
    return _valid(scale > 0, arctan2(1.0, -_z(x, loc, scale)) / math.pi)


@_method("cauchy", "sf")
def cauchy_sf(x, loc=0, scale=1):
    """``arctan2(1, z) / pi``, as SciPy (exact in the upper tail)."""
    return _valid(scale > 0, arctan2(1.0, _z(x, loc, scale)) / math.pi)


cauchy_logcdf = _log_of(cauchy_cdf, "cauchy", "logcdf", cauchy_sf)
cauchy_logsf = _log_of(cauchy_sf, "cauchy", "logsf", cauchy_cdf)


@_method("cauchy", "ppf")
def cauchy_ppf(q, loc=0, scale=1):
    return _ppf(q, loc, scale, lambda q: tan(math.pi * q - math.pi / 2.0))


@_method("cauchy", "isf")
def cauchy_isf(q, loc=0, scale=1):
    return _ppf(q, loc, scale, lambda q: tan(math.pi / 2.0 - math.pi * q))


# ---------------------------------------------------------------- laplace, logistic

@_method("laplace", "cdf")
def laplace_cdf(x, loc=0, scale=1):
    z = _z(x, loc, scale)
    pos = z > 0
    return _valid(scale > 0, _where(pos, 1.0 - 0.5 * exp(-_safe(z, ~pos, 1.0)),
                                    0.5 * exp(_safe(z, pos, -1.0))))


@_method("logistic", "cdf")
def logistic_cdf(x, loc=0, scale=1):
    return _valid(scale > 0, expit(_z(x, loc, scale)))


@_method("logistic", "sf")
def logistic_sf(x, loc=0, scale=1):
    return _valid(scale > 0, expit(-_z(x, loc, scale)))


@_method("logistic", "ppf")
def logistic_ppf(q, loc=0, scale=1):
    return _ppf(q, loc, scale, logit)


@_method("logistic", "isf")
def logistic_isf(q, loc=0, scale=1):
    return _ppf(q, loc, scale, lambda q: -logit(q))


# ---------------------------------------------------------------- gumbel_r, gumbel_l

def _gumbel(sign):
    """gumbel_r (sign 1: the maximum's law) or gumbel_l (sign -1), in the variable
    w = sign * z: logpdf = -w - exp(-w); cdf_r = exp(-exp(-w)), cdf_l = sf_r(w)."""
    name = "gumbel_r" if sign > 0 else "gumbel_l"

    def w(x, loc, scale):
        return sign * _z(x, loc, scale)

    def logpdf(x, loc=0, scale=1):
        v = w(x, loc, scale)
        return _valid(scale > 0, -v - exp(-v) - log(_scale(scale)))

    def clamped(x, loc, scale):
        # below w = -700, exp(-w) overflows and exp(-exp(-w)) is 0 with derivative 0; the
        # unclamped derivative exp(-exp(-w)) exp(-w) is 0 * inf = nan there
        v = w(x, loc, scale)
        return _where(v < -700.0, -700.0, v)

    def upper(x, loc=0, scale=1):         # exp(-exp(-w)): cdf of gumbel_r, sf of gumbel_l
        return _valid(scale > 0, exp(-exp(-clamped(x, loc, scale))))

    def lower(x, loc=0, scale=1):
        return _valid(scale > 0, -expm1(-exp(-clamped(x, loc, scale))))

    def log_upper(x, loc=0, scale=1):
        return _valid(scale > 0, -exp(-w(x, loc, scale)))

    def log_lower(x, loc=0, scale=1):
        return _valid(scale > 0, _log1mexp(-exp(-clamped(x, loc, scale))))

    def ppf(q, loc=0, scale=1):
        if sign > 0:
            return _ppf(q, loc, scale, lambda q: -log(-log(q)))
        return _ppf(q, loc, scale, lambda q: log(-log1p(-q)))
    def pdf(x, loc=0, scale=1):
        # exp(logpdf) with w clamped as in ``upper``: below w = -700 the density is 0
        # and so is its derivative (exp(logpdf)'s is 0 * inf = nan there)
        v = clamped(x, loc, scale)
        return _valid(scale > 0, exp(-v - exp(-v)) / _scale(scale))
    _method(name, "logpdf")(logpdf)
    _method(name, "pdf")(pdf)
    pairs = (("cdf", upper), ("sf", lower), ("logcdf", log_upper), ("logsf", log_lower))
    for meth, fn in pairs:
        if sign < 0:        # gumbel_l's cdf is gumbel_r-form's sf and so on
            meth = {"cdf": "sf", "sf": "cdf", "logcdf": "logsf", "logsf": "logcdf"}[meth]
        fn.__name__ = meth
        _method(name, meth)(fn)
    _method(name, "ppf")(ppf)


_gumbel(1)
_gumbel(-1)


# ---------------------------------------------------------------- pareto, uniform

def _pareto_z(x, b, loc, scale):
    z = _z(x, loc, scale)
    b = as_inexact(b)
    inside = z >= 1
    return _safe(z, ~inside, 1.0), b, inside, (scale > 0) & (b > 0)


@_method("pareto", "logpdf")
def pareto_logpdf(x, b, loc=0, scale=1):
    z, b, inside, ok = _pareto_z(x, b, loc, scale)
    return _valid(ok, _support(inside, log(b) - (b + 1.0) * log(z) - log(_scale(scale))))


pareto_pdf = _exp_of(pareto_logpdf, "pareto", "pdf")


@_method("pareto", "cdf")
def pareto_cdf(x, b, loc=0, scale=1):
    z, b, inside, ok = _pareto_z(x, b, loc, scale)
    return _valid(ok, _support(inside, -expm1(-b * log(z)), 0.0))


@_method("pareto", "sf")
def pareto_sf(x, b, loc=0, scale=1):
    z, b, inside, ok = _pareto_z(x, b, loc, scale)
    return _valid(ok, _support(inside, exp(-b * log(z)), 1.0))


@_method("pareto", "logsf")
def pareto_logsf(x, b, loc=0, scale=1):
    z, b, inside, ok = _pareto_z(x, b, loc, scale)
    return _valid(ok, _support(inside, -b * log(z), 0.0))


@_method("pareto", "logcdf")
def pareto_logcdf(x, b, loc=0, scale=1):
    z, b, inside, ok = _pareto_z(x, b, loc, scale)
    inside = inside & (z > 1)
    return _valid(ok, _support(inside, _log1mexp(-b * log(_safe(z, ~inside, 2.0)))))


@_method("pareto", "ppf")
def pareto_ppf(q, b, loc=0, scale=1):
    b = as_inexact(b)
    q, ok = _q(q)
    std = exp(-log1p(-_safe(q, ~ok, 0.5)) / _safe(b, b <= 0, 1.0))
    return _valid((scale > 0) & (b > 0) & ok, loc + _scale(scale) * std)


@_method("uniform", "logpdf")
def uniform_logpdf(x, loc=0, scale=1):
    z = _z(x, loc, scale)
    inside = (z >= 0) & (z <= 1)
    return _valid(scale > 0, _support(inside, -log(_scale(scale)) + 0.0 * z))


uniform_pdf = _exp_of(uniform_logpdf, "uniform", "pdf")


@_method("uniform", "cdf")
def uniform_cdf(x, loc=0, scale=1):
    z = _z(x, loc, scale)
    return _valid(scale > 0, _where(z < 0, 0.0, _where(z > 1, 1.0, z)))


@_method("uniform", "ppf")
def uniform_ppf(q, loc=0, scale=1):
    return _ppf(q, loc, scale, lambda q: q)


# ---------------------------------------------------------------- truncnorm

def _log_ndtr_diff(hi, lo):
    """log(ndtr(hi) - ndtr(lo)) for lo < hi, computed in the tail it lies in."""
    upper = lo > 0                 # both in the upper tail: use the survival function
    a = _where(upper, -lo, hi)
    b = _where(upper, -hi, lo)
    la, lb = log_ndtr(a), log_ndtr(b)
    return la + _log1mexp(lb - la)


def _truncnorm(x, a, b, loc, scale):
    z = _z(x, loc, scale)
    a, b = as_inexact(a), as_inexact(b)
    return z, a, b, (scale > 0) & (a < b)


@_method("truncnorm", "logpdf")
def truncnorm_logpdf(x, a, b, loc=0, scale=1):
    z, a, b, ok = _truncnorm(x, a, b, loc, scale)
    inside = (z >= a) & (z <= b)
    val = -0.5 * z * z - 0.5 * _LOG_2PI - _log_ndtr_diff(b, a) - log(_scale(scale))
    return _valid(ok, _support(inside, val))


truncnorm_pdf = _exp_of(truncnorm_logpdf, "truncnorm", "pdf")


def _truncnorm_log_cdf(z, a, b, upper):
    """log P(Z <= z | a <= Z <= b) (``upper``: log P(Z > z | ...)) inside (a, b)."""
    if upper:
        return _log_ndtr_diff(b, z) - _log_ndtr_diff(b, a)
    return _log_ndtr_diff(z, a) - _log_ndtr_diff(b, a)


def _truncnorm_fn(upper, logs):
    def fn(x, a, b, loc=0, scale=1):
        z, a, b, ok = _truncnorm(x, a, b, loc, scale)
        inside = (z > a) & (z < b)
        mid = (a + b) * 0.5
        zi = _where(inside, z, mid)
        v = _truncnorm_log_cdf(zi, a, b, upper)
        # near 0 the difference of logs cancels: there log1p(-exp(the other side)), as
        # SciPy (-2.90359863e-08 was -2.90359862e-08)
        near = v > -0.1
        other = _truncnorm_log_cdf(zi, a, b, not upper)
        v = _where(near, _log1mexp(_safe(other, ~near, -1.0)), v)
        v = v if logs else exp(v)
        below, above = (0.0, -np.inf) if upper else (-np.inf, 0.0)
        if not logs:
            below, above = (1.0, 0.0) if upper else (0.0, 1.0)
        elif upper:
            below, above = 0.0, -np.inf
        return _valid(ok, _where(z <= a, below, _where(z >= b, above, v)))
    return fn


for _m, _up, _lg in (("cdf", False, False), ("sf", True, False), ("logcdf", False, True),
                     ("logsf", True, True)):
    _f = _truncnorm_fn(_up, _lg)
    _f.__name__ = _m
    _method("truncnorm", _m)(_f)


# ---------------------------------------------------------------- vonmises, wrapcauchy

# SciPy's vonmises: periodic on the whole line since SciPy 1.? (support (-inf, inf));
# earlier versions restrict it to [-pi, pi]. Follow the installed SciPy.
_VONMISES_BOUNDED = bool(np.isfinite(sst.vonmises.support(1.0)[0]))


@_method("vonmises", "logpdf")
def vonmises_logpdf(x, kappa, loc=0, scale=1):
    """``kappa cosm1(z) - log(2 pi i0e(kappa))`` as SciPy (cosm1(z) = -2 sin(z/2)^2: no
    cancellation near z = 0); -inf outside [-pi, pi] only where the installed SciPy's
    support is bounded."""
    z = _z(x, loc, scale)
    kappa = as_inexact(kappa)
    half = sin(0.5 * z)
    val = kappa * (-2.0 * half * half) - _LOG_2PI - log(i0e(kappa)) - log(_scale(scale))
    if _VONMISES_BOUNDED:
        val = _support((z >= -math.pi) & (z <= math.pi), val)
    return _valid((scale > 0) & (kappa > 0), val)


vonmises_pdf = _exp_of(vonmises_logpdf, "vonmises", "pdf")


@_method("wrapcauchy", "logpdf")
def wrapcauchy_logpdf(x, c, loc=0, scale=1):
    z = _z(x, loc, scale)
    c = as_inexact(c)
    inside = (z >= 0) & (z <= 2.0 * math.pi)
    val = log1p(-c * c) - _LOG_2PI - log(1.0 + c * c - 2.0 * c * cos(z)) - log(_scale(scale))
    return _valid((scale > 0) & (c > 0) & (c < 1), _support(inside, val))


wrapcauchy_pdf = _exp_of(wrapcauchy_logpdf, "wrapcauchy", "pdf")


# ---------------------------------------------------------------- gennorm

@_method("gennorm", "logpdf")
def gennorm_logpdf(x, beta, loc=0, scale=1):
    z = _z(x, loc, scale)
    beta = as_inexact(beta)
    val = log(0.5 * beta) - gammaln(1.0 / beta) - abs(z) ** beta - log(_scale(scale))
    return _valid((scale > 0) & (beta > 0), val)


gennorm_pdf = _exp_of(gennorm_logpdf, "gennorm", "pdf")


@_method("gennorm", "cdf")
def gennorm_cdf(x, beta, loc=0, scale=1):
    z = _z(x, loc, scale)
    beta = as_inexact(beta)
    # as SciPy's (0.5 + c) - c gammaincc(1/beta, |z|^beta), c = sign(z)/2: the lower tail
    # is gammaincc/2, without the cancellation of 1/2 - gammainc/2 (1.826806538818e-06
    # for 1.826806538816e-06). Written as a selection, not as SciPy's sum, which jit's
    # reassociation would turn back into the cancelling form (0 for 5.5e-40).
    # At z = 0 exactly: 1/2 + pdf(0) z (the next term is O(|z|^(beta+1))), whose
    # derivative is the density there; the forms above have derivative
    # 0 * inf there (0 through sign(z) before).
    zero = z == 0
    zs = _safe(z, zero, 1.0)
    half = 0.5 * pinc.gammaincc_p.bind(1.0 / beta, abs(zs) ** beta)
    pdf0 = 0.5 / ps.gamma_p.bind(1.0 + 1.0 / beta)
    val = _where(zero, 0.5 + pdf0 * z, _where(zs < 0, half, 1.0 - half))
    return _valid((scale > 0) & (beta > 0), val)


# ---------------------------------------------------------------- discrete

def _counts(k, loc, dist="a discrete distribution"):
    """Shifted counts as floats, and whether each is an integer. They have no
    derivative: a tangent or cotangent reaching ``k`` or ``loc`` raises (SciPy's
    function of a non-integer count is -inf)."""
    k = no_derivative(as_inexact(asarray_like(k)) - loc,
                      f"scipy.stats.{dist}: the count k (and loc)")
    return k, floor(k) == k


@_method("bernoulli", "logpmf")
def bernoulli_logpmf(k, p, loc=0):
    k, integer = _counts(k, loc, "bernoulli.logpmf")
    p = as_inexact(p)
    inside = integer & (k >= 0) & (k <= 1)
    ks = _safe(k, ~inside, 0.0)
    return _valid((p >= 0) & (p <= 1), _support(inside, xlogy(ks, p) + xlog1py(1.0 - ks, -p)))


bernoulli_pmf = _exp_of(bernoulli_logpmf, "bernoulli", "pmf")


@_method("bernoulli", "cdf")
def bernoulli_cdf(k, p, loc=0):
    k, _ = _counts(k, loc)
    p = as_inexact(p)
    return _valid((p >= 0) & (p <= 1), _where(k < 0, 0.0, _where(k >= 1, 1.0, 1.0 - p)))


@_method("bernoulli", "ppf")
def bernoulli_ppf(q, p, loc=0):
    """Integer-valued: no derivative."""
    q, ok = _q(q)
    p = as_inexact(p)
    val = _where((q > 1.0 - p) | (q == 1), 1.0, 0.0) + loc      # (q = 1: the support's end, p = 0 too)
    val = _where(q == 0, -1.0 + loc, val)
    return _valid((p >= 0) & (p <= 1) & ok, val)


@_method("binom", "logpmf")
def binom_logpmf(k, n, p, loc=0):
    k, integer = _counts(k, loc, "binom.logpmf")
    n = no_derivative(as_inexact(n), "scipy.stats.binom.logpmf: the number of trials n")
    p = as_inexact(p)
    inside = integer & (k >= 0) & (k <= n)
    ks = _safe(k, ~inside, 0.0)
    val = (gammaln(n + 1.0) - gammaln(ks + 1.0) - gammaln(n - ks + 1.0)
           + xlogy(ks, p) + xlog1py(n - ks, -p))
    return _valid((n >= 0) & (floor(n) == n) & (p >= 0) & (p <= 1), _support(inside, val))


binom_pmf = _exp_of(binom_logpmf, "binom", "pmf")


@_method("geom", "logpmf")
def geom_logpmf(k, p, loc=0):
    k, integer = _counts(k, loc, "geom.logpmf")
    p = as_inexact(p)
    inside = integer & (k >= 1)
    ks = _safe(k, ~inside, 1.0)
    return _valid((p > 0) & (p <= 1), _support(inside, xlog1py(ks - 1.0, -p) + log(p)))


geom_pmf = _exp_of(geom_logpmf, "geom", "pmf")


@_method("nbinom", "logpmf")
def nbinom_logpmf(k, n, p, loc=0):
    k, integer = _counts(k, loc, "nbinom.logpmf")
    n, p = as_inexact(n), as_inexact(p)
    inside = integer & (k >= 0)
    ks = _safe(k, ~inside, 0.0)
    val = gammaln(n + ks) - gammaln(ks + 1.0) - gammaln(n) + xlogy(n, p) + xlog1py(ks, -p)
    return _valid((n > 0) & (p > 0) & (p <= 1), _support(inside, val))


nbinom_pmf = _exp_of(nbinom_logpmf, "nbinom", "pmf")


@_method("betabinom", "logpmf")
def betabinom_logpmf(k, n, a, b, loc=0):
    k, integer = _counts(k, loc, "betabinom.logpmf")
    n = no_derivative(as_inexact(n), "scipy.stats.betabinom.logpmf: the number of trials n")
    a, b = as_inexact(a), as_inexact(b)
    inside = integer & (k >= 0) & (k <= n)
    ks = _safe(k, ~inside, 0.0)
    val = (gammaln(n + 1.0) - gammaln(ks + 1.0) - gammaln(n - ks + 1.0)
           + betaln(ks + a, n - ks + b) - betaln(a, b))
    return _valid((n >= 0) & (floor(n) == n) & (a > 0) & (b > 0), _support(inside, val))


betabinom_pmf = _exp_of(betabinom_logpmf, "betabinom", "pmf")


@_method("multinomial", "logpmf", layout=None)     # SciPy's follows x's layout
def multinomial_logpmf(x, n, p):
    """Counts ``x`` (last axis: the categories; truncated to integers, as SciPy) and
    ``n`` carry no derivative; ``p`` does. As SciPy, a ``p`` whose entries do not sum
    to 1 within 10 eps has its last entry replaced by 1 - the sum of the others (SciPy
    warns that this becomes nan in 1.18): the function jumps across ``sum(p) = 1``, so
    derivatives are those along it (``p = softmax(theta)``, say)."""
    trunc = EW["trunc"].bind
    x = trunc(as_inexact(asarray_like(x)))
    n, p = trunc(as_inexact(n)), as_inexact(p)
    if not shape_of(x):
        raise ValueError("x must be an array.")
    if shape_of(x)[-1] != shape_of(p)[-1]:
        raise ValueError(f"Size of each quantile should be size of p: received "
                         f"{shape_of(x)[-1]}, but expected {shape_of(p)[-1]}.")
    k = shape_of(p)[-1]
    last = len(shape_of(p)) - 1
    head = p[..., :k - 1]
    rest = 1.0 - reduce_sum(head, (last,), True)
    off = abs(1.0 - reduce_sum(p, (last,), True)) > 10 * np.finfo(np.float64).eps
    p = _where(np.arange(k) == k - 1, _where(off, rest, p), p)
    nd = max(len(shape_of(x)), len(shape_of(p)))
    ax = (nd - 1,)
    # broadcast against each other (a nan in p must not make the counts nan: SciPy's
    # logpmf is nan there, not -inf as off the support)
    xs, ps_ = x + 0.0 * _where(p == p, p, 0.0), p + 0.0 * x
    none = lambda c: reduce_sum(_where(c, 1.0, 0.0), ax) == 0     # noqa: E731
    inside = none(xs < 0) & (reduce_sum(xs, ax) == n)
    val = gammaln(n + 1.0) + reduce_sum(xlogy(xs, ps_) - gammaln(xs + 1.0), ax)
    return _valid((n >= 0) & none((ps_ < 0) | (ps_ > 1)), _support(inside, val))


multinomial_pmf = _exp_of(multinomial_logpmf, "multinomial", "pmf", layout=None)


# ---------------------------------------------------------------- sem

@numpy_function(sst.sem, module=MODULE)
def sem(a, axis=0, ddof=1, nan_policy="propagate", *, keepdims=False):
    """std(a, ddof) / sqrt(n) along ``axis``; ``nan_policy='propagate'`` only inside
    transformations."""
    if nan_policy != "propagate":
        raise NotImplementedError("chainrule.scipy.stats.sem: only nan_policy='propagate' "
                                  "is supported inside a transformation")
    a = as_inexact(a)
    if axis is None:
        a, axis = reshape(a, (-1,)), 0
    n = shape_of(a)[axis]
    return std(a, axis=axis, ddof=ddof, keepdims=keepdims) / math.sqrt(n)
