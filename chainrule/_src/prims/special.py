"""Special functions (scipy.special) as elementwise primitives, plus the two
reductions of the softmax family (logsumexp, softmax).

The elementwise ones are rows for the ``Unary``/``Binary`` factories of
``prims/elementwise.py``: name, SciPy implementation, derivative written with
chainrule operations (so it differentiates again). Arguments that carry no
derivative (the order ``n`` of ``polygamma``) get a zero partial. Bessel functions
are in ``prims/bessel.py``, the incomplete gamma and beta functions (derivatives in
their shape parameters too) in ``prims/incomplete.py``.

``logsumexp`` and ``softmax`` are primitives rather than compositions so that
rows that are entirely ``-inf`` (fully masked) have value ``-inf`` / ``nan`` (as
SciPy) but derivative exactly 0, never ``nan``.
"""
import math

import numpy as np
import scipy.special as sps

from ..core import Primitive, Zero, shape_of, numpy_only
from ..core import size_of as _size
from .elementwise import (Unary, Binary, NonDiffElementwise, RemovableUnary, Removable,
                          select_p, _safe, PRIMS as EW)
from .shape import (reshape, reduce_sum, broadcast_to, moveaxis, fit_cotangent, kept_shape,
                    batch_to_front)
from .reductions import reduce_max_p

_SQRT_PI = math.sqrt(math.pi)
_SQRT_2PI = math.sqrt(2.0 * math.pi)
_TWO_OVER_SQRT_PI = 2.0 / _SQRT_PI

# chainrule operations used by the derivative expressions
exp, log, sqrt = EW["exp"].bind, EW["log"].bind, EW["sqrt"].bind
sign, equal_p = EW["sign"].bind, EW["equal"]


def _where(c, x, y):
    return select_p.bind(c, x, y)


def _no_derivative(name, arg, integer=False):
    """The partial derivative of ``scipy.special.<name>`` in ``arg``: refused. An
    integer argument (an order) has none, where 0 would be a wrong number (NumPy's
    function of a non-integer order is another function, or nan)."""
    what = (f"{arg} is an integer argument: it has no derivative" if integer else
            f"the derivative with respect to {arg} is not implemented (it has no closed "
            "form)")

    def d(*args):
        raise NotImplementedError(f"scipy.special.{name}: {what}. Hold {arg} fixed (pass "
                                  "it as a constant, or chainrule.stop_gradient).")
    return d


# below this |x|, i1' is its Taylor series: i0(x) - i1(x)/x is exact there, but its
# own derivative (i1'') subtracts terms of size 1/x (2e284 for 3x/8 at x = 1e-300)
_I1_SMALL = 0.1


def _i1_series_d(x):
    """i1'(x) = sum_k (2k+1)/2 (x/2)^(2k) / (k! (k+1)!) for |x| < _I1_SMALL (terms
    through x^10: the next is below 1e-20 of the sum)."""
    q = 0.25 * x * x
    p = 0.0
    for k in range(5, -1, -1):
        p = p * q + (k + 0.5) / (math.factorial(k) * math.factorial(k + 1))
    return p


def _i1_d(x, a):
    # i1'(x) = i0(x) - i1(x)/x away from 0, its series near 0 (each branch at a point
    # where it is finite, so that neither leaks nan into the other's derivatives)
    small = abs(x) < _I1_SMALL
    xl = _where(small, 1.0, x)
    return _where(small, _i1_series_d(_where(small, x, 0.0)),
                  i0(xl) - i1(xl) / xl)


def _i1e_d(x, a):
    # i1e = exp(-|x|) i1: i1e' = i0e - i1e/x - sign(x) i1e; near 0,
    # exp(-|x|) i1'(x) - sign(x) i1e with i1' from its series; beyond _IE_ASYMPTOTIC
    # (where i0e and i1e cancel) the asymptotic series of that difference (even in x)
    small = abs(x) < _I1_SMALL
    big = abs(x) > _IE_ASYMPTOTIC
    xl, xs = _where(small, 1.0, x), _where(small, x, 0.0)
    xb = _where(big, abs(x), 2.0 * _IE_ASYMPTOTIC)
    near = exp(-abs(xs)) * _i1_series_d(xs) - sign(xs) * i1e(xs)
    far = i0e(xl) - i1e(xl) / xl - sign(xl) * i1e(xl)
    return _where(big, _ie_tail(xb, _I1E_D_COEF), _where(small, near, far))


def _i0e_d(x, a):
    # i0e' = i1e - sign(x) i0e; beyond _IE_ASYMPTOTIC, sign(x) times the asymptotic
    # series of i1e(t) - i0e(t) at t = |x| (i0e is even)
    big = abs(x) > _IE_ASYMPTOTIC
    xb = _where(big, abs(x), 2.0 * _IE_ASYMPTOTIC)
    return _where(big, sign(x) * _ie_tail(xb, _I0E_D_COEF), i1e(x) - sign(x) * a)


# i0e' = i1e - i0e and i1e' = i0e - i1e/x - i1e (x > 0) subtract numbers of size
# 1/sqrt(2 pi x) whose difference is ~1/(2x) of that: relative error ~eps x, and
# their own derivatives more (i0e''(1e5) 2.8e-6 relative, 130% at 1e8). Beyond
# |x| = 30 the differences are Hankel's asymptotic series with the leading terms
# cancelled exactly: e^-t I_nu(t) ~ (2 pi t)^(-1/2) sum_k (-1)^k a_k(nu) / t^k,
# a_k(nu) = prod_{j<=k} (4 nu^2 - (2j - 1)^2) / (k! 8^k); 23 terms (below 1e-18 of
# the sum from t = 30 on).
_IE_ASYMPTOTIC = 30.0


def _hankel_a(k, nu):
    p = 1
    for j in range(1, k + 1):
        p *= 4 * nu * nu - (2 * j - 1) ** 2
    return p / (math.factorial(k) * 8 ** k)


# coefficients of 1/t^k, k = 1..23, of (2 pi t)^(1/2) (i1e - i0e)(t) and of
# (2 pi t)^(1/2) (i0e - i1e/t - i1e)(t)
_I0E_D_COEF = [(-1) ** k * (_hankel_a(k, 1) - _hankel_a(k, 0)) for k in range(1, 24)]
_I1E_D_COEF = [(-1) ** k * (_hankel_a(k, 0) - _hankel_a(k, 1) + _hankel_a(k - 1, 1))
               for k in range(1, 24)]


def _ie_tail(t, coef):
    """(2 pi t)^(-1/2) sum_k coef[k-1] / t^k, by Horner in 1/t."""
    u = 1.0 / t
    p = coef[-1]
    for c in coef[-2::-1]:
        p = p * u + c
    return p * u / sqrt((2.0 * math.pi) * t)


def _asymptotic(u, n_terms, alternating):
    """sum_{n=1}^{n_terms} s^n (2n-1)!! u^n (s = -1 if ``alternating``), by Horner: the
    tails of erfcx(x) = 1/(x sqrt pi) (1 + that sum) and dawsn(x) = 1/(2x) (1 + sum)
    with u = 1/(2 x^2)."""
    coef = [((-1.0) ** n if alternating else 1.0) * math.prod(range(1, 2 * n, 2))
            for n in range(1, n_terms + 1)]
    p = coef[-1]
    for c in coef[-2::-1]:
        p = p * u + c
    return p * u


# erfcx' = 2 x erfcx - 2/sqrt(pi) and dawsn' = 1 - 2 x dawsn subtract numbers of size 1
# whose difference is ~1/x^2: relative error eps x^2 (erfcx'(1e5): 1.6e-6, its second
# derivative 1e4 times too large; 0 from x = 1e8 on). Beyond |x| = 10 the asymptotic
# series (16 terms: truncation below 1e-17) replaces them.
_ASYMPTOTIC_FROM = 10.0


def _erfcx_d(x, a):
    big = x > _ASYMPTOTIC_FROM
    xb = _where(big, x, 2.0 * _ASYMPTOTIC_FROM)
    series = _TWO_OVER_SQRT_PI * _asymptotic(0.5 / (xb * xb), 16, True)
    return _where(big, series, 2.0 * x * a - _TWO_OVER_SQRT_PI)


def _dawsn_d(x, a):
    big = abs(x) > _ASYMPTOTIC_FROM
    xb = _where(big, x, 2.0 * _ASYMPTOTIC_FROM)
    return _where(big, -_asymptotic(0.5 / (xb * xb), 16, False), 1.0 - 2.0 * x * a)


def _gauss_d(c, k):
    """c exp(-k x^2), the derivative of erf, erfc and ndtr, as a function of x that is 0
    at x = +-inf with every derivative 0 there (their limits): written exp(-k x^2)
    directly, its derivative at inf is 0 * inf = nan, so a Hessian through
    norm.cdf(inf - eta) (an ordinal model's outer cut points) was nan."""
    def d(x, a):
        inf = abs(x) == np.inf
        xf = _where(inf, 0.0, x)
        return _where(inf, 0.0, c * exp(-k * xf * xf))
    return d


_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_LOG_NDTR_TAIL = -20.0


def _log_ndtr_d(x, a):
    """phi(x) / ndtr(x). For x >= 0 as exp(-x^2/2 - log_ndtr(x)) / sqrt(2 pi); below 0 that
    subtracts two numbers of size x^2/2 (relative error eps x^2: 1e-4 at x = -1e6, inf
    from -1e10 on), so there sqrt(2/pi) / erfcx(-x/sqrt 2), and below -20 the asymptotic
    Mills ratio -x / (1 - 1/x^2 + 3/x^4 - ...), finite to x = -inf."""
    hi, lo = x >= 0, x < _LOG_NDTR_TAIL
    mid = ~hi & ~lo
    top = x == np.inf                    # 0 there, with every derivative (see _gauss_d)
    xh = _where(hi & ~top, x, 0.0)
    ah = _where(hi & ~top, a, math.log(0.5))
    upper = _where(top, 0.0, exp(-0.5 * xh * xh - ah) / _SQRT_2PI)
    xm = _where(mid, x, -1.0)
    middle = _SQRT_2_OVER_PI / PRIMS["erfcx"].bind(xm * (-1.0 / math.sqrt(2.0)))
    xl = _where(lo, x, 2.0 * _LOG_NDTR_TAIL)
    # Mills ratio R(t) ~ (1/t) sum (-1)^n (2n-1)!! / t^(2n): phi/ndtr = t / (1 + sum)
    lower = -xl / (1.0 + _asymptotic(1.0 / (xl * xl), 14, True))
    return _where(hi, upper, _where(lo, lower, middle))


def _rgamma_d(x, a):
    # -rgamma(x) digamma(x) for x >= 1/2; below, from 1/Gamma(x) = sin(pi x) Gamma(1-x) / pi:
    # Gamma(1-x) (cos(pi x) - sin(pi x) digamma(1-x) / pi), finite at the zeros
    # x = 0, -1, ... of rgamma (where digamma(x) is infinite). Each branch is
    # evaluated at a point where it is finite, so neither leaks nan into the other.
    low = x < 0.5
    xl, xh = _where(low, x, 0.0), _where(low, 1.0, x)
    pi_x = math.pi * xl
    left = PRIMS["gamma"].bind(1.0 - xl) * (EW["cos"].bind(pi_x) - EW["sin"].bind(pi_x) *
                                            digamma(1.0 - xl) / math.pi)
    return _where(low, left, -PRIMS["rgamma"].bind(xh) * digamma(xh))


# B(x, y) = Gamma(x) Gamma(y) rgamma(x + y) and poch(z, m) = Gamma(z + m) rgamma(z) are
# 0 where rgamma is (x + y, or z, at 0, -1, -2, ...), and there B (psi(x) - psi(x + y))
# is 0 * inf = nan (beta(-0.3, 0.3)' is -12.94), with growing cancellation next to
# those points. Below 1/2 (where rgamma's derivative has its own finite branch) the
# partial is the product's: Gamma(x) Gamma(y) (psi(x) rgamma(s) + rgamma'(s)), where
# that gamma product is finite and nonzero; elsewhere the usual form. Each branch is
# evaluated at a point where it is finite (none leaks nan into higher derivatives).
def _near_rgamma_zero(s, gg):
    return (s < 0.5) & (abs(gg) < np.inf) & (gg != 0.0)


def _beta_dx(x, y, a):
    gamma = PRIMS["gamma"].bind
    use = _near_rgamma_zero(x + y, gamma(x) * gamma(y))
    xp, yp = _where(use, x, 0.5), _where(use, y, -1.5)       # (s = -1: finite)
    sp_ = xp + yp
    pole = gamma(xp) * gamma(yp) * (digamma(xp) * PRIMS["rgamma"].bind(sp_) +
                                    _rgamma_d(sp_, None))
    xg, yg, ag = _where(use, 1.0, x), _where(use, 1.0, y), _where(use, 1.0, a)
    return _where(use, pole, ag * (digamma(xg) - digamma(xg + yg)))


def _poch_dz(z, m, a):
    gamma = PRIMS["gamma"].bind
    use = _near_rgamma_zero(z, gamma(z + m))
    zp, mp_ = _where(use, z, -1.0), _where(use, m, 1.5)
    pole = gamma(zp + mp_) * (digamma(zp + mp_) * PRIMS["rgamma"].bind(zp) +
                              _rgamma_d(zp, None))
    zg, mg, ag = _where(use, 1.0, z), _where(use, 1.0, m), _where(use, 1.0, a)
    return _where(use, pole, ag * (digamma(zg + mg) - digamma(zg)))


def _xlogy_dx(x, y, a):
    # log(y); 0 where x == 0 and y == 0 (the value there is 0 and stays 0 nearby
    # in x along y = 0 only in the limit; a finite choice, as TensorFlow/JAX)
    both = (x == 0) & (y == 0)
    return _where(both, 0.0, log(_safe(y, both)))


def _xlogy_dy(x, y, a):
    # x / y; 0 where x == 0 (even at y == 0). Where only x is 0, x / y itself (0,
    # with its derivative 1 / y in x: a constant 0 there would drop d2/dxdy)
    both = (x == 0) & (y == 0)
    return _where(both, 0.0, x / _safe(y, both))


def _xlog1py_dx(x, y, a):
    both = (x == 0) & (y == -1)
    return _where(both, 0.0, EW["log1p"].bind(_safe(y, both, 0.0)))


def _xlog1py_dy(x, y, a):
    both = (x == 0) & (y == -1)
    return _where(both, 0.0, x / (_safe(y, both, 0.0) + 1.0))


def _rel_entr_dx(x, y, a):
    # d/dx x log(x/y) = log(x/y) + 1 (x > 0, y > 0); -inf at x = 0 (singular row)
    return log(x / y) + 1.0


def _kl_div_dx(x, y, a):
    return log(x / y)


def _expn_dx(n, x, a):
    # E_n' = -E_{n-1}; E_0 = exp(-x)/x, E_0' = -exp(-x)(x + 1)/x^2
    first = n == 0
    n1 = _where(first, 1, n)
    e0 = -exp(-x) * (x + 1.0) / (x * x)
    return _where(first, e0, -PRIMS["expn"].bind(n1 - 1, x))


def _owens_t_dh(h, t, a):
    # dT/dh = -phi(h) erf(t h / sqrt 2) / 2
    return (-0.5 / _SQRT_2PI) * exp(-0.5 * h * h) * erf(t * h / math.sqrt(2.0))


def _owens_t_da(h, t, a):
    # dT/da = exp(-h^2 (1 + a^2) / 2) / (2 pi (1 + a^2))
    w = 1.0 + t * t
    return exp(-0.5 * h * h * w) / ((2.0 * math.pi) * w)


_UNARY = [
    # name, scipy implementation, derivative(x, ans) [, a point where it is finite]
    ("erf", sps.erf, _gauss_d(_TWO_OVER_SQRT_PI, 1.0)),
    ("erfc", sps.erfc, _gauss_d(-_TWO_OVER_SQRT_PI, 1.0)),
    ("erfinv", sps.erfinv, lambda x, a: (0.5 * _SQRT_PI) * exp(a * a), 0.0),
    ("erfcinv", sps.erfcinv, lambda x, a: (-0.5 * _SQRT_PI) * exp(a * a), True),
    ("ndtr", sps.ndtr, _gauss_d(1.0 / _SQRT_2PI, 0.5)),
    ("log_ndtr", sps.log_ndtr, _log_ndtr_d),
    ("ndtri", sps.ndtri, lambda x, a: _SQRT_2PI * exp(0.5 * a * a), 0.5),
    ("expit", sps.expit, lambda x, a: a * expit(-x)),    # not a (1 - a): exact in the tails
    ("log_expit", sps.log_expit, lambda x, a: expit(-x)),
    ("logit", sps.logit, lambda x, a: 1.0 / (x * (1.0 - x)), 0.5),
    ("softplus", sps.softplus, lambda x, a: expit(x)),
    ("gamma", sps.gamma, lambda x, a: a * digamma(x)),
    ("gammaln", sps.gammaln, lambda x, a: digamma(x)),
    ("digamma", sps.digamma, lambda x, a: polygamma(1, x)),
    ("i0", sps.i0, lambda x, a: i1(x)),
    ("i1", sps.i1, _i1_d),
    ("i0e", sps.i0e, _i0e_d),
    ("i1e", sps.i1e, _i1e_d),
    ("entr", sps.entr, lambda x, a: -(log(x) + 1.0), True),
    ("rgamma", sps.rgamma, _rgamma_d),
    ("erfcx", sps.erfcx, _erfcx_d),
    ("dawsn", sps.dawsn, _dawsn_d),
    ("exp1", sps.exp1, lambda x, a: -exp(-x) / x, True),
    ("expi", sps.expi, lambda x, a: exp(x) / x, True),
    ("loggamma", sps.loggamma, lambda x, a: digamma(x)),
    # the parts of sici and fresnel (two-output ufuncs; scipy/special.py pairs them)
    ("sici_si", lambda x: sps.sici(x)[0], lambda x, a: EW["sinc"].bind(x / math.pi)),
    ("sici_ci", lambda x: sps.sici(x)[1], lambda x, a: EW["cos"].bind(x) / x, True),
    ("fresnel_s", lambda x: sps.fresnel(x)[0],
     lambda x, a: EW["sin"].bind((0.5 * math.pi) * x * x)),
    ("fresnel_c", lambda x: sps.fresnel(x)[1],
     lambda x, a: EW["cos"].bind((0.5 * math.pi) * x * x)),
]

def _poisson_entropy_d(n, mu):
    """The n-th derivative in ``mu`` of the entropy of Poisson(mu), elementwise (``n`` a
    nonnegative integer), each written so that no large terms cancel:
    ``H = E[-log p(K)]``, ``H' = E[log((K + 1) / mu)]`` and, for n >= 2,
    ``(-1)^(n-1) (n-2)! / mu^(n-1) + E[D^(n-1) log(K + 1)]`` (``D`` the forward
    difference in k; ``d/dmu E[f(K)] = E[f(K + 1) - f(K)]``). The sums run over
    ``mu +- (12 sqrt(mu) + 60)``, outside which the terms are below double precision:
    O(sqrt(mu)) per element. NaN for ``mu < 0`` (as SciPy's entropy)."""
    n, mu = np.broadcast_arrays(np.asarray(n, float), np.asarray(mu, float))
    out = np.empty(n.shape)
    for i in np.ndindex(n.shape):
        m, order = float(mu[i]), int(n[i])
        if not m >= 0 or order < 0 or m == np.inf:
            out[i] = np.nan
            continue
        w = 12.0 * math.sqrt(m) + 60.0
        k = np.arange(max(0.0, math.floor(m - w)), math.ceil(m + w) + 1.0)
        logp = sps.xlogy(k, m) - m - sps.gammaln(k + 1.0)
        p = np.exp(logp)
        keep = p > 0                    # (mu = 0: only k = 0, where log p = 0)
        k, p, logp = k[keep], p[keep], logp[keep]
        with np.errstate(divide="ignore"):
            if order == 0:
                out[i] = 0.0 - np.sum(p * logp)      # (+0.0 at mu = 0, as SciPy)
            elif order == 1:              # (+inf at mu = 0, as the entropy's slope)
                out[i] = np.sum(p * np.log((k + 1.0) / m))
            else:
                r = order - 1
                diff = sum((-1) ** (r - j) * math.comb(r, j) * np.log(k + 1.0 + j)
                           for j in range(r + 1))
                out[i] = (-1) ** r * math.factorial(order - 2) / m ** r + np.sum(p * diff)
    return out if out.ndim else out[()]


_BINARY = [
    # name, scipy implementation, d/dx(x, y, ans), d/dy(x, y, ans) [, singular]
    # d^n/dmu^n of Poisson(mu)'s entropy (scipy.stats.poisson.entropy): n is an order
    ("poisson_entropy_d", _poisson_entropy_d,
     _no_derivative("poisson_entropy_d", "n", integer=True),
     lambda n, mu, a: poisson_entropy_d(n + 1.0, mu)),
    ("polygamma", sps.polygamma, _no_derivative("polygamma", "n", integer=True),
     lambda n, x, a: polygamma(n + 1, x)),
    ("xlogy", sps.xlogy, _xlogy_dx, _xlogy_dy, True),
    ("xlog1py", sps.xlog1py, _xlog1py_dx, _xlog1py_dy, True),
    ("betaln", sps.betaln, lambda x, y, a: digamma(x) - digamma(x + y),
     lambda x, y, a: digamma(y) - digamma(x + y)),
    ("beta", sps.beta, _beta_dx, lambda x, y, a: _beta_dx(y, x, a)),
    ("rel_entr", sps.rel_entr, _rel_entr_dx, lambda x, y, a: -x / y, True),
    ("kl_div", sps.kl_div, _kl_div_dx, lambda x, y, a: 1.0 - x / y, True),
    ("poch", sps.poch, _poch_dz,
     lambda z, m, a: a * digamma(z + m)),
    ("expn", sps.expn, _no_derivative("expn", "n", integer=True), _expn_dx),
    ("owens_t", sps.owens_t, _owens_t_dh, _owens_t_da),
    # binomial coefficient, on comb's domain (0 <= k <= n): used by scipy/special.py
    ("binom", sps.binom, lambda n, k, a: a * (digamma(n + 1.0) - digamma(n - k + 1.0)),
     lambda n, k, a: a * (digamma(n - k + 1.0) - digamma(k + 1.0))),
]

PRIMS = {}
for _row in _UNARY:
    PRIMS[_row[0]] = Unary(_row[0], _row[1], _row[2], *_row[3:], flops=20)
for _row in _BINARY:
    PRIMS[_row[0]] = Binary(_row[0], _row[1], _row[2], _row[3], *_row[4:], flops=20)

# spence: log(z)/(1 - z) is 0/0 at z = 1 (limits: f = 0, f' = -1, f'' = 1/2; spence(z)
# = Li2(1 - z) = sum_n (1 - z)^n / n^2, so f^(k)(1) = (-1)^k (k - 1)! / k)
PRIMS["spence"] = RemovableUnary(
    "spence", sps.spence, lambda x, a: log(x) / (1.0 - x),
    Removable({1.0: (0.0, -1.0, 0.5)}, safe=2.0,
              higher={1.0: tuple((-1) ** k * math.factorial(k - 1) / k
                                 for k in range(3, 9))}), flops=20)
# wofz (Faddeeva): holomorphic, w' = -2 z w + 2i/sqrt(pi); complex arguments only
PRIMS["wofz"] = Unary("wofz", sps.wofz, lambda z, a: -2.0 * z * a + 2j / _SQRT_PI, flops=40)

# the sign of Gamma(x): piecewise constant, no derivative (as sign)
PRIMS["gammasgn"] = NonDiffElementwise("gammasgn", sps.gammasgn)

globals().update({f"{_k}_p": _v for _k, _v in PRIMS.items()})

erf, expit, digamma = PRIMS["erf"].bind, PRIMS["expit"].bind, PRIMS["digamma"].bind
polygamma, i0, i1 = PRIMS["polygamma"].bind, PRIMS["i0"].bind, PRIMS["i1"].bind
poisson_entropy_d = PRIMS["poisson_entropy_d"].bind
i0e, i1e = PRIMS["i0e"].bind, PRIMS["i1e"].bind


# ---------------------------------------------------------------- more arguments

class Nary(Primitive):
    """An elementwise function of several broadcasting arguments, with one partial
    derivative per argument: ``partials[i](*args, ans)`` (written with chainrule
    operations), or a function that raises (a derivative with no closed form, asked
    for only when that argument carries a tangent)."""
    vjp_uses_ans = True

    def __init__(self, name, impl, partials, flops=60):
        super().__init__(name)
        # a SciPy ufunc reaches Dask/CuPy through NumPy's dispatch; anything else
        # (sph_harm_y is not a ufunc) refuses their arrays
        self.impl = impl if isinstance(impl, np.ufunc) else numpy_only(name, impl)
        self.partials, self.flops = partials, flops

    def jvp(self, primals, tangents):
        ans = self.bind(*primals)
        out = None
        for i, t in enumerate(tangents):
            if type(t) is Zero:
                continue
            term = t * self.partials[i](*primals, ans)
            out = term if out is None else out + term
        if out is None:
            return ans, Zero.like(ans)
        return ans, sp_broadcast(out, shape_of(ans))

    def vjp(self, ct, ans, args, needs):
        return [fit_cotangent(ct * self.partials[i](*args, ans), a) if need else None
                for i, (a, need) in enumerate(zip(args, needs))]

    def batch(self, args, dims):
        size = next(shape_of(a)[d] for a, d in zip(args, dims) if d is not None)
        nd = max(len(shape_of(a)) - (d is not None) for a, d in zip(args, dims))
        moved = []
        for a, d in zip(args, dims):
            if d is None:
                moved.append(a)
                continue
            a = moveaxis(a, d, 0)
            s = shape_of(a)
            moved.append(reshape(a, (size,) + (1,) * (nd - len(s) + 1) + s[1:]))
        return self.bind(*moved), 0

    def cost(self, args, ans):
        return self.flops * _size(shape_of(ans))


def sp_broadcast(x, shape):
    return x if shape_of(x) == shape else broadcast_to(x, shape)


def _hyp1f1_dx(a, b, x, ans):
    return a / b * PRIMS["hyp1f1"].bind(a + 1.0, b + 1.0, x)


def _hyp2f1_dx(a, b, c, x, ans):
    return a * b / c * PRIMS["hyp2f1"].bind(a + 1.0, b + 1.0, c + 1.0, x)


def _zeta_dq(x, q, ans):
    return -x * PRIMS["zeta"].bind(x + 1.0, q)


PRIMS["hyp1f1"] = Nary("hyp1f1", sps.hyp1f1, [_no_derivative("hyp1f1", "a"),
                                              _no_derivative("hyp1f1", "b"), _hyp1f1_dx])
PRIMS["hyp2f1"] = Nary("hyp2f1", sps.hyp2f1, [_no_derivative("hyp2f1", "a"),
                                              _no_derivative("hyp2f1", "b"),
                                              _no_derivative("hyp2f1", "c"), _hyp2f1_dx])
PRIMS["zeta"] = Nary("zeta", sps.zeta, [_no_derivative("zeta", "x"), _zeta_dq])


def _sph_dtheta(n, m, theta, phi, ans):
    # m cot(theta) Y_n^m + sqrt((n - m)(n + m + 1)) e^{-i phi} Y_n^{m+1}
    up = PRIMS["sph_harm_y"].bind(n, m + 1, theta, phi)
    c = EW["sqrt"].bind(EW["maximum"].bind((n - m) * (n + m + 1) * 1.0, 0.0))
    return m * EW["cos"].bind(theta) / EW["sin"].bind(theta) * ans + \
        c * exp(-1j * phi) * up


def _sph_dphi(n, m, theta, phi, ans):
    return 1j * m * ans


PRIMS["sph_harm_y"] = Nary("sph_harm_y", lambda n, m, t, p: sps.sph_harm_y(n, m, t, p),
                           [_no_derivative("sph_harm_y", "n"),
                            _no_derivative("sph_harm_y", "m"), _sph_dtheta, _sph_dphi])
globals().update({f"{_k}_p": PRIMS[_k] for _k in ("hyp1f1", "hyp2f1", "zeta",
                                                   "sph_harm_y")})


# ---------------------------------------------------------------- softmax family


def _keep(v, x_shape, axis, keepdims):
    """Reshape a reduced value so that it broadcasts against the input."""
    return v if keepdims else reshape(v, kept_shape(x_shape, axis))


class LogSumExp(Primitive):
    """log |sum(b * exp(a))| over ``axis`` (a tuple); ``b`` is optional.

    ``signed=False`` reproduces SciPy's value (nan for a negative sum);
    ``signed=True`` gives the log of the absolute value (``return_sign=True``).
    Derivatives use the weights ``w = exp(a - ans)``, set to 0 in rows whose value is
    ``-inf`` (all of ``a`` is ``-inf``), so such rows get derivative 0, not nan.
    """

    def impl(self, a, *b, axis, keepdims, signed):
        b = b[0] if b else None
        axis = None if len(axis) == np.ndim(a) else axis
        if signed:
            return sps.logsumexp(a, axis=axis, b=b, keepdims=keepdims, return_sign=True)[0]
        return sps.logsumexp(a, axis=axis, b=b, keepdims=keepdims)

    def _weights(self, a, b, ans, axis, keepdims):
        """(w, s): d ans = sum(s * w * (b da + db)) with w = exp(a - ans), s = sign."""
        ans_k = _keep(ans, shape_of(a), axis, keepdims)
        dead = ans_k == -np.inf
        w = exp(a - _safe(ans_k, dead, 0.0))
        w = _where(dead, 0.0, w)
        if b is None:
            return w, None
        s = sign(reduce_sum(b * w, axis, True))       # +-1 (0 in dead rows)
        return w * s, s

    def jvp(self, primals, tangents, *, axis, keepdims, signed):
        a, *bs = primals
        ans = self.bind(*primals, axis=axis, keepdims=keepdims, signed=signed)
        if all(type(t) is Zero for t in tangents):
            return ans, Zero.like(ans)
        b = bs[0] if bs else None
        w, _ = self._weights(a, b, ans, axis, keepdims)
        ta = tangents[0]
        inner = None
        if type(ta) is not Zero:
            inner = ta if b is None else b * ta
        if b is not None and type(tangents[1]) is not Zero:
            inner = tangents[1] if inner is None else inner + tangents[1]
        inner = broadcast_to(inner, shape_of(a))
        return ans, reduce_sum(w * inner, axis, keepdims)

    def vjp(self, ct, ans, args, needs, *, axis, keepdims, signed):
        a, *bs = args
        b = bs[0] if bs else None
        w, _ = self._weights(a, b, ans, axis, keepdims)
        g = broadcast_to(_keep(ct, shape_of(a), axis, keepdims), shape_of(a)) * w
        out = [(g if b is None else g * b) if needs[0] else None]
        if b is not None:
            out.append(g if needs[1] else None)
        return out

    def batch(self, args, dims, *, axis, keepdims, signed):
        return self.bind(*batch_to_front(args, dims), axis=tuple(i + 1 for i in axis),
                         keepdims=keepdims, signed=signed), 0

    def cost(self, args, ans, **params):
        return 4 * _size(shape_of(args[0]))


class Softmax(Primitive):
    """scipy.special.softmax over ``axis`` (a tuple). A row that is entirely -inf has
    value nan (as SciPy) and derivative 0."""

    def impl(self, x, *, axis):
        return sps.softmax(x, axis=None if len(axis) == np.ndim(x) else axis)

    def _p(self, x, ans, axis):
        dead = reduce_max_p.bind(x, axis=axis, keepdims=True) == -np.inf
        return _where(dead, 0.0, ans)

    def jvp(self, primals, tangents, *, axis):
        (x,), (t,) = primals, tangents
        ans = self.bind(x, axis=axis)
        if type(t) is Zero:
            return ans, Zero.like(ans)
        p = self._p(x, ans, axis)
        return ans, p * (t - reduce_sum(p * t, axis, True))

    def vjp(self, ct, ans, args, needs, *, axis):
        p = self._p(args[0], ans, axis)
        return [fit_cotangent(p * (ct - reduce_sum(p * ct, axis, True)), args[0])]

    def batch(self, args, dims, *, axis):
        x = moveaxis(args[0], dims[0], 0)
        return self.bind(x, axis=tuple(i + 1 for i in axis)), 0

    def cost(self, args, ans, **params):
        return 4 * _size(shape_of(args[0]))


logsumexp_p = LogSumExp("logsumexp")
softmax_p = Softmax("softmax")

__all__ = ["PRIMS", "logsumexp_p", "softmax_p"] + [f"{k}_p" for k in PRIMS]
