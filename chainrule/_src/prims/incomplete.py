"""The regularized incomplete gamma and beta functions (``scipy.special.gammainc``,
``gammaincc``, ``betainc``), differentiable to any order in every argument.

In ``x`` the derivatives are closed forms: the gamma and beta densities. In the shape
parameters (``a``; ``a`` and ``b``) there is none, so the derivative order is a
parameter of the primitive: ``gammainc_p.bind(a, x, n=n)`` is the n-th derivative of
``gammainc`` in ``a`` (n = 0: SciPy's function) and ``betainc_p.bind(a, b, x, i=i, j=j)``
the i-th in ``a`` and j-th in ``b``. d/da of order n is order n + 1 and d/dx of order
n is the n-th ``a``-derivative of the density, so the family differentiates again to
any order (second-order checks, Hessians, hvp).

Orders above 0 are computed as truncated Taylor series in the parameters ("jets":
``c[i][j]`` is the coefficient of ``da**i db**j``) pushed through the series and
continued fractions that evaluate the functions: for ``gammainc``, the power series
where ``x <= max(a, 1)`` and the continued fraction of ``gammaincc`` elsewhere (the
regions JAX and TensorFlow use); for ``betainc``, its continued fraction on the
side of ``x < (a + 1) / (a + b + 2)`` where it converges fast (Numerical Recipes,
section 6.4). Iterations stop when no Taylor coefficient of an element changes by
more than machine precision, after at most ``MAXITER`` steps (nan for the elements
where that is not enough: shape parameters beyond about 1e6; convergence is decided
per element). The densities' jets are written with chainrule
operations, so they differentiate again.
"""
import math

import numpy as np
import scipy.special as sps

from ..core import Primitive, Zero, shape_of
from ..core import size_of as _size
from .elementwise import _lead_batch, PRIMS as EW
from .shape import broadcast_to, fit_cotangent
from . import special as ps

MAXITER = 5000
_EPS = np.finfo(np.float64).eps


# ---------------------------------------------------------------- jets
# A jet is a list of lists: jet[i][j] is the Taylor coefficient of da**i db**j.
# Entries are NumPy arrays, tracers (in the derivative rules) or the float 0.0,
# which the operations skip.

def _nz(v):
    return not (type(v) is float and v == 0.0)


def _zeros(A, B):
    return [[0.0] * B for _ in range(A)]


def jconst(v, A, B):
    out = _zeros(A, B)
    out[0][0] = v
    return out


def jvar(v, A, B, axis):
    """The jet of the parameter ``v`` itself: ``v + d(axis)``."""
    out = jconst(v, A, B)
    if axis == 0 and A > 1:
        out[1][0] = 1.0
    elif axis == 1 and B > 1:
        out[0][1] = 1.0
    return out


def _add(x, y):
    return y if not _nz(x) else x if not _nz(y) else x + y


def _mul(x, y):
    return x * y if _nz(x) and _nz(y) else 0.0


def jadd(u, v):
    return [[_add(x, y) for x, y in zip(ru, rv)] for ru, rv in zip(u, v)]


def jaddc(u, c):
    """u + c for a constant (scalar or array) c."""
    out = [list(r) for r in u]
    out[0][0] = _add(out[0][0], c)
    return out


def jscale(u, c):
    return [[_mul(x, c) for x in r] for r in u]


def jmul(u, v):
    A, B = len(u), len(u[0])
    out = _zeros(A, B)
    for p in range(A):
        for q in range(B):
            x = u[p][q]
            if not _nz(x):
                continue
            for r in range(A - p):
                for s in range(B - q):
                    y = v[r][s]
                    if _nz(y):
                        out[p + r][q + s] = _add(out[p + r][q + s], x * y)
    return out


def jrecip(u):
    A, B = len(u), len(u[0])
    w = _zeros(A, B)
    inv0 = 1.0 / u[0][0]
    w[0][0] = inv0
    for i in range(A):
        for j in range(B):
            if i == j == 0:
                continue
            acc = 0.0
            for p in range(i + 1):
                for q in range(j + 1):
                    if (p or q) and _nz(u[p][q]) and _nz(w[i - p][j - q]):
                        acc = _add(acc, u[p][q] * w[i - p][j - q])
            w[i][j] = -acc * inv0 if _nz(acc) else 0.0
    return w


def jdiv(u, v):
    return jmul(u, jrecip(v))


def jexp(u, exp):
    """exp of a jet: exp(u00) * sum_m d**m / m! with d = u - u00 (nilpotent)."""
    A, B = len(u), len(u[0])
    e = exp(u[0][0])
    d = [list(r) for r in u]
    d[0][0] = 0.0
    out = jconst(1.0, A, B)
    power = jconst(1.0, A, B)
    for m in range(1, A + B - 1):
        power = jmul(power, d)
        out = jadd(out, jscale(power, 1.0 / math.factorial(m)))
    return jscale(out, e)


def _coeff(u, i, j):
    """The mixed partial derivative of order (i, j) held by jet ``u``."""
    return _mul(u[i][j], float(math.factorial(i) * math.factorial(j)))


# ---------------------------------------------------------------- log-jets of the prefactors
# Functions of the NumPy or chainrule flavour, so that the same jets serve the
# implementation (arrays) and the derivative rules (tracers).

class _NumPyOps:
    exp, log, log1p = staticmethod(np.exp), staticmethod(np.log), staticmethod(np.log1p)
    gammaln, betaln = staticmethod(sps.gammaln), staticmethod(sps.betaln)
    xlogy, xlog1py = staticmethod(sps.xlogy), staticmethod(sps.xlog1py)

    @staticmethod
    def psi(m, x):
        return sps.digamma(x) if m == 0 else sps.polygamma(m, x)


class _ChainruleOps:
    exp, log, log1p = EW["exp"].bind, EW["log"].bind, EW["log1p"].bind
    gammaln, betaln = ps.gammaln_p.bind, ps.betaln_p.bind
    xlogy, xlog1py = ps.xlogy_p.bind, ps.xlog1py_p.bind

    @staticmethod
    def psi(m, x):
        return ps.digamma_p.bind(x) if m == 0 else ps.polygamma_p.bind(m, x)


def _lgamma_tail(u, a, A, N, sign=-1.0, shift=0.0):
    """Add ``sign * lgamma(a + shift + da)``'s coefficients of order >= 1 to the
    univariate jet ``u`` (in place; returns u)."""
    for m in range(1, A):
        u[m][0] = _add(u[m][0], (sign / math.factorial(m)) * N.psi(m - 1, a + shift))
    return u


def _gamma_log_jet(a, x, A, N, const, lgamma_shift):
    """Jet in ``a`` of ``const + a' log x - lgamma(a' + lgamma_shift)``, a' = a + da
    (``const`` is the value, computed by the caller)."""
    u = jconst(const, A, 1)
    if A > 1:
        u[1][0] = N.log(x)
    return _lgamma_tail(u, a, A, N, -1.0, lgamma_shift)


def _beta_log_jet(a, b, x, A, B, N, const):
    """Jet in (a, b) of ``const + a' log x + b' log1p(-x) - betaln(a', b')``."""
    u = jconst(const, A, B)
    s = a + b
    for p in range(A):
        for q in range(B):
            if p + q == 0:
                continue
            m = p + q
            c = N.psi(m - 1, s) * (1.0 / (math.factorial(p) * math.factorial(q)))
            if q == 0:
                c = c - N.psi(m - 1, a) * (1.0 / math.factorial(p))
                if p == 1:
                    c = c + N.log(x)
            if p == 0:
                c = c - N.psi(m - 1, b) * (1.0 / math.factorial(q))
                if q == 1:
                    c = c + N.log1p(-x)
            u[p][q] = c
    return u


def gamma_density(a, x, n, N=_ChainruleOps):
    """d^n/da^n of x**(a-1) exp(-x) / Gamma(a), the x-derivative of gammainc."""
    h0 = N.xlogy(a - 1.0, x) - x - N.gammaln(a)
    if n == 0:
        return N.exp(h0)
    return _coeff(jexp(_gamma_log_jet(a, x, n + 1, N, h0, 0.0), N.exp), n, 0)


def beta_density(a, b, x, i, j, N=_ChainruleOps):
    """d^(i+j)/da^i db^j of x**(a-1) (1-x)**(b-1) / B(a, b), the x-derivative of betainc."""
    h0 = N.xlogy(a - 1.0, x) + N.xlog1py(b - 1.0, -x) - N.betaln(a, b)
    if i == j == 0:
        return N.exp(h0)
    return _coeff(jexp(_beta_log_jet(a, b, x, i + 1, j + 1, N, h0), N.exp), i, j)


# ---------------------------------------------------------------- NumPy evaluation of the jets

def _converged(new, old, done):
    """``done`` (a boolean array, per element) or-ed with the elements whose every
    Taylor coefficient changed by at most eps: convergence is decided per element, so
    that one element that needs more than MAXITER steps makes only itself nan, not
    every element evaluated with it (gammainc's a-derivative at x = 1e-300 was nan
    next to a = x = 1e8)."""
    ok = np.ones(done.shape, bool)
    for rn, ro in zip(new, old):
        for vn, vo in zip(rn, ro):
            if _nz(vn):
                with np.errstate(invalid="ignore"):
                    ok &= np.abs(vn - vo) <= _EPS * np.abs(vn)
    return done | ok


def _gammainc_series(a, x, A):
    """Jet in ``a`` of P(a, x) = x^a e^-x / Gamma(a+1) * sum_k x^k / ((a+1)...(a+k))."""
    term = jconst(np.ones_like(x), A, 1)
    total = term
    done = np.zeros(np.shape(x), bool)
    for k in range(1, MAXITER):
        term = jdiv(jscale(term, x), jvar(a + k, A, 1, 0))
        new = jadd(total, term)
        done = _converged(new, total, done)
        total = new
        if done.all():
            break
    pre = _gamma_log_jet(a, x, A, _NumPyOps, sps.xlogy(a, x) - x - sps.gammaln(a + 1.0), 1.0)
    return jmul(jexp(pre, np.exp), total), done


def _gammaincc_fraction(a, x, A):
    """Jet in ``a`` of Q(a, x) by the continued fraction (modified Lentz)."""
    aj = jvar(a, A, 1, 0)
    b = jaddc(jscale(aj, -1.0), x + 1.0)
    c = None
    d = jrecip(b)
    h = d
    done = np.zeros(np.shape(x), bool)
    for i in range(1, MAXITER):
        an = jaddc(jscale(aj, float(i)), -float(i * i))       # -i (i - a)
        b = jaddc(b, 2.0)
        d = jrecip(jadd(jmul(an, d), b))
        c = b if c is None else jadd(b, jdiv(an, c))
        new = jmul(h, jmul(d, c))
        done = _converged(new, h, done)
        h = new
        if done.all():
            break
    pre = _gamma_log_jet(a, x, A, _NumPyOps, sps.xlogy(a, x) - x - sps.gammaln(a), 0.0)
    return jmul(jexp(pre, np.exp), h), done


def _betacf(p, q, x):
    """Jet of the continued fraction of betainc (Numerical Recipes' betacf) for jets
    ``p``, ``q`` (the parameters) and an array ``x``."""
    A, B = len(p), len(p[0])
    qab, qap, qam = jadd(p, q), jaddc(p, 1.0), jaddc(p, -1.0)
    c = jconst(np.ones_like(x), A, B)
    d = jrecip(jaddc(jscale(jdiv(qab, qap), -x), 1.0))
    h = d
    done = np.zeros(np.shape(x), bool)
    for m in range(1, MAXITER):
        m2 = 2.0 * m
        aa = jdiv(jscale(jaddc(q, -float(m)), m * x), jmul(jaddc(qam, m2), jaddc(p, m2)))
        d = jrecip(jaddc(jmul(aa, d), 1.0))
        c = jaddc(jdiv(aa, c), 1.0)
        h = jmul(h, jmul(d, c))
        aa = jdiv(jscale(jmul(jaddc(p, float(m)), jaddc(qab, float(m))), -x),
                  jmul(jaddc(p, m2), jaddc(qap, m2)))
        d = jrecip(jaddc(jmul(aa, d), 1.0))
        c = jaddc(jdiv(aa, c), 1.0)
        new = jmul(h, jmul(d, c))
        done = _converged(new, h, done)
        h = new
        if done.all():
            break
    return h, done


def _fill(out, mask, jet_done, i, j, sign=1.0):
    """out[mask] = the (i, j) derivative held by the jet, nan where it did not converge."""
    jet, done = jet_done
    out[mask] = np.where(done, sign * _coeff(jet, i, j), np.nan)


def _gammainc_d(a, x, n):
    """d^n/da^n gammainc(a, x) for n >= 1."""
    a, x = np.broadcast_arrays(np.asarray(a, np.float64), np.asarray(x, np.float64))
    out = np.full(a.shape, np.nan)
    ok = (a > 0) & (x >= 0)
    edge = ok & ((x == 0) | (x == np.inf))       # P is 0 or 1 for every a
    out[edge] = 0.0
    frac = ok & ~edge & (x > 1) & (x > a)
    series = ok & ~edge & ~frac
    if series.any():
        _fill(out, series, _gammainc_series(a[series], x[series], n + 1), n, 0)
    if frac.any():
        _fill(out, frac, _gammaincc_fraction(a[frac], x[frac], n + 1), n, 0, -1.0)
    return out[()]


def _betainc_d(a, b, x, i, j):
    """d^(i+j)/da^i db^j betainc(a, b, x) for i + j >= 1."""
    a, b, x = np.broadcast_arrays(*(np.asarray(v, np.float64) for v in (a, b, x)))
    out = np.full(a.shape, np.nan)
    ok = (a > 0) & (b > 0) & (x >= 0) & (x <= 1)
    edge = ok & ((x == 0) | (x == 1))            # I is 0 or 1 for every a, b
    out[edge] = 0.0
    direct = ok & ~edge & (x < (a + 1.0) / (a + b + 2.0))
    swapped = ok & ~edge & ~direct
    A, B = i + 1, j + 1
    for mask, flip in ((direct, False), (swapped, True)):
        if not mask.any():
            continue
        am, bm, xm = a[mask], b[mask], x[mask]
        aj, bj = jvar(am, A, B, 0), jvar(bm, A, B, 1)
        # I = front * cf(a, b, x) / a, or 1 - front * cf(b, a, 1 - x) / b
        cf, done = _betacf(bj, aj, 1.0 - xm) if flip else _betacf(aj, bj, xm)
        const = sps.xlogy(am, xm) + sps.xlog1py(bm, -xm) - sps.betaln(am, bm)
        front = jexp(_beta_log_jet(am, bm, xm, A, B, _NumPyOps, const), np.exp)
        jet = jdiv(jmul(front, cf), bj if flip else aj)
        _fill(out, mask, (jet, done), i, j, -1.0 if flip else 1.0)
    return out[()]


# ---------------------------------------------------------------- primitives

class _Elementwise(Primitive):
    """An elementwise function of broadcasting arguments whose partial derivatives
    ``partial(k, args, **params)`` are chainrule expressions."""
    vjp_uses_ans = False

    def jvp(self, primals, tangents, **params):
        ans = self.bind(*primals, **params)
        out = None
        for k, t in enumerate(tangents):
            if type(t) is Zero:
                continue
            term = t * self.partial(k, primals, **params)
            out = term if out is None else out + term
        if out is None:
            return ans, Zero.like(ans)
        return ans, broadcast_to(out, shape_of(ans))

    def vjp(self, ct, ans, args, needs, **params):
        return [fit_cotangent(ct * self.partial(k, args, **params), x) if need else None
                for k, (x, need) in enumerate(zip(args, needs))]

    def batch(self, args, dims, **params):
        nd = max(len(shape_of(x)) - (d is not None) for x, d in zip(args, dims))
        return self.bind(*[_lead_batch(x, d, nd) for x, d in zip(args, dims)], **params), 0

    def cost(self, args, ans, **params):
        order = sum(params.values())
        return (30 if order == 0 else 200 * (order + 1)) * _size(shape_of(ans))


class GammaInc(_Elementwise):
    """d^n/da^n of scipy.special.gammainc(a, x) (n = 0: the function itself)."""

    def impl(self, a, x, *, n):
        return sps.gammainc(a, x) if n == 0 else _gammainc_d(a, x, n)

    def partial(self, k, args, *, n):
        a, x = args
        if k == 0:
            return self.bind(a, x, n=n + 1)
        return gamma_density(a, x, n)


class GammaIncc(_Elementwise):
    """scipy.special.gammaincc(a, x) = 1 - gammainc(a, x), evaluated by SciPy."""

    def impl(self, a, x):
        return sps.gammaincc(a, x)

    def partial(self, k, args):
        a, x = args
        if k == 0:
            return -gammainc_p.bind(a, x, n=1)
        return -gamma_density(a, x, 0)


class BetaInc(_Elementwise):
    """d^(i+j)/da^i db^j of scipy.special.betainc(a, b, x) (i = j = 0: the function)."""

    def impl(self, a, b, x, *, i, j):
        return sps.betainc(a, b, x) if i == j == 0 else _betainc_d(a, b, x, i, j)

    def partial(self, k, args, *, i, j):
        a, b, x = args
        if k == 0:
            return self.bind(a, b, x, i=i + 1, j=j)
        if k == 1:
            return self.bind(a, b, x, i=i, j=j + 1)
        return beta_density(a, b, x, i, j)


class BetaIncc(_Elementwise):
    """scipy.special.betaincc(a, b, x) = 1 - betainc(a, b, x), evaluated by SciPy: exact
    where betainc is close to 1 (``1 - betainc`` there cancels). Its derivatives are
    those of betainc, negated."""

    def impl(self, a, b, x):
        return sps.betaincc(a, b, x)

    def partial(self, k, args):
        a, b, x = args
        if k == 2:
            return -beta_density(a, b, x, 0, 0)
        return -betainc_p.bind(a, b, x, i=int(k == 0), j=int(k == 1))


gammainc_p = GammaInc("gammainc")
gammaincc_p = GammaIncc("gammaincc")
betainc_p = BetaInc("betainc")
betaincc_p = BetaIncc("betaincc")

__all__ = ["gammainc_p", "gammaincc_p", "betainc_p", "betaincc_p", "gamma_density",
           "beta_density"]
