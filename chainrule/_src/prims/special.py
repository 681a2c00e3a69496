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

from ..core import Primitive, Zero, shape_of
from ..core import size_of as _size
from .elementwise import Unary, Binary, NonDiffElementwise, select_p, _safe, PRIMS as EW
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


def _zero(*args):
    return 0.0


def _i1_d(x, a):
    # i1'(x) = i0(x) - i1(x)/x, with the limit 1/2 at x = 0
    at0 = x == 0
    return _where(at0, 0.5, i0(x) - a / _safe(x, at0))


def _i1e_d(x, a):
    # i1e = exp(-|x|) i1: i1e' = i0e - i1e/x - sign(x) i1e (limit 1/2 at 0)
    at0 = x == 0
    return _where(at0, 0.5, i0e(x) - a / _safe(x, at0) - sign(x) * a)


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


def _xlogy_dx(x, y, a):
    # log(y); 0 where x == 0 and y == 0 (the value there is 0 and stays 0 nearby
    # in x along y = 0 only in the limit; a finite choice, as TensorFlow/JAX)
    both = (x == 0) & (y == 0)
    return _where(both, 0.0, log(_safe(y, both)))


def _xlogy_dy(x, y, a):
    # x / y; 0 where x == 0 (even at y == 0)
    x0 = x == 0
    return _where(x0, 0.0, x / _safe(y, x0))


def _xlog1py_dx(x, y, a):
    both = (x == 0) & (y == -1)
    return _where(both, 0.0, EW["log1p"].bind(_safe(y, both, 0.0)))


def _xlog1py_dy(x, y, a):
    x0 = x == 0
    return _where(x0, 0.0, x / (_safe(y, x0, 0.0) + 1.0))


def _rel_entr_dx(x, y, a):
    # d/dx x log(x/y) = log(x/y) + 1 (x > 0, y > 0); -inf at x = 0 (singular row)
    return log(x / y) + 1.0


def _kl_div_dx(x, y, a):
    return log(x / y)


_UNARY = [
    # name, scipy implementation, derivative(x, ans) [, a point where it is finite]
    ("erf", sps.erf, lambda x, a: _TWO_OVER_SQRT_PI * exp(-x * x)),
    ("erfc", sps.erfc, lambda x, a: -_TWO_OVER_SQRT_PI * exp(-x * x)),
    ("erfinv", sps.erfinv, lambda x, a: (0.5 * _SQRT_PI) * exp(a * a), 0.0),
    ("erfcinv", sps.erfcinv, lambda x, a: (-0.5 * _SQRT_PI) * exp(a * a), True),
    ("ndtr", sps.ndtr, lambda x, a: exp(-0.5 * x * x) / _SQRT_2PI),
    ("log_ndtr", sps.log_ndtr, lambda x, a: exp(-0.5 * x * x - a) / _SQRT_2PI),
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
    ("i0e", sps.i0e, lambda x, a: i1e(x) - sign(x) * a),
    ("i1e", sps.i1e, _i1e_d),
    ("entr", sps.entr, lambda x, a: -(log(x) + 1.0), True),
    ("rgamma", sps.rgamma, _rgamma_d),
]

_BINARY = [
    # name, scipy implementation, d/dx(x, y, ans), d/dy(x, y, ans) [, singular]
    ("polygamma", sps.polygamma, _zero, lambda n, x, a: polygamma(n + 1, x)),
    ("xlogy", sps.xlogy, _xlogy_dx, _xlogy_dy, True),
    ("xlog1py", sps.xlog1py, _xlog1py_dx, _xlog1py_dy, True),
    ("betaln", sps.betaln, lambda x, y, a: digamma(x) - digamma(x + y),
     lambda x, y, a: digamma(y) - digamma(x + y)),
    ("beta", sps.beta, lambda x, y, a: a * (digamma(x) - digamma(x + y)),
     lambda x, y, a: a * (digamma(y) - digamma(x + y))),
    ("rel_entr", sps.rel_entr, _rel_entr_dx, lambda x, y, a: -x / y, True),
    ("kl_div", sps.kl_div, _kl_div_dx, lambda x, y, a: 1.0 - x / y, True),
]

PRIMS = {}
for _row in _UNARY:
    PRIMS[_row[0]] = Unary(_row[0], _row[1], _row[2], *_row[3:], flops=20)
for _row in _BINARY:
    PRIMS[_row[0]] = Binary(_row[0], _row[1], _row[2], _row[3], *_row[4:], flops=20)

# the sign of Gamma(x): piecewise constant, no derivative (as sign)
PRIMS["gammasgn"] = NonDiffElementwise("gammasgn", sps.gammasgn)

globals().update({f"{_k}_p": _v for _k, _v in PRIMS.items()})

erf, expit, digamma = PRIMS["erf"].bind, PRIMS["expit"].bind, PRIMS["digamma"].bind
polygamma, i0, i1 = PRIMS["polygamma"].bind, PRIMS["i0"].bind, PRIMS["i1"].bind
i0e, i1e = PRIMS["i0e"].bind, PRIMS["i1e"].bind


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
