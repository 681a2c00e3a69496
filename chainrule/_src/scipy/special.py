"""chainrule.scipy.special: differentiable special functions with SciPy's names and
signatures. Outside transformations each is SciPy's own function; inside one it
binds the primitives of ``prims/special.py``, ``prims/bessel.py`` and
``prims/incomplete.py``.

Derivatives are taken in every argument SciPy's function is differentiable in:
``gammainc``/``gammaincc`` in ``a`` and ``x``, ``betainc`` in ``a``, ``b`` and ``x`` (to
any order; in the shape parameters by series and continued fractions, see
``prims/incomplete.py``). Bessel functions are differentiated in ``x``; asking for the
derivative in the order ``v`` raises NotImplementedError. Integer arguments
(``polygamma``'s and ``yn``'s order, ``multigammaln``'s ``d``) carry no derivative.

The softmax family is safe for fully masked rows: where every entry along ``axis``
is ``-inf``, ``logsumexp`` is ``-inf``, ``softmax``/``log_softmax`` are nan (as
SciPy), and the derivatives are 0 (never nan).
"""
import numpy as np
import scipy.special as sps

from ..core import shape_of, Tracer
from ..prims import special as ps, bessel as pb, incomplete as pi
from ..prims.shape import broadcast_to, reshape, reduce_sum
from ..prims.reductions import reduce_min_p
from ..prims.elementwise import select_p, PRIMS as EW
from ..numpy.basic import asarray_like, as_inexact, normalize_axis
from ..numpy.dispatch import numpy_function

MODULE = "scipy.special"


def _check(name, args, kwargs):
    if args or any(v is not None for k, v in kwargs.items() if k != "where") or \
            kwargs.get("where", True) is not True:
        raise NotImplementedError(
            f"chainrule.scipy.special.{name}: out=, where=, dtype= and positional out "
            "arguments are not supported inside a transformation")


def _ufunc(name, prim_name=None, prims=ps.PRIMS):
    """Register the SciPy ufunc ``name`` as a binding of the primitive ``prim_name``."""
    sp_fn = getattr(sps, name)
    prim = prims[prim_name or name]
    if getattr(sp_fn, "nin", 1) == 1:
        def traced(x, /, *args, **kwargs):
            _check(name, args, kwargs)
            return prim.bind(x)
    else:
        def traced(x, y, /, *args, **kwargs):
            _check(name, args, kwargs)
            return prim.bind(x, y)
    traced.__name__ = traced.__qualname__ = name
    traced.__doc__ = (f"A SciPy ufunc (``out=``/``where=`` only outside transformations). "
                      f"See SciPy's documentation of ``scipy.special.{name}``.")
    return numpy_function(sp_fn, module=MODULE, name=name)(traced)


for _name in ["erf", "erfc", "erfinv", "erfcinv", "ndtr", "log_ndtr", "ndtri", "expit",
              "log_expit", "logit", "gamma", "gammaln", "digamma", "i0", "i1", "i0e",
              "i1e", "entr", "xlogy", "xlog1py", "betaln", "beta", "rel_entr", "kl_div",
              "rgamma", "gammasgn"]:
    globals()[_name] = _ufunc(_name)
psi = _ufunc("psi", "digamma")
for _name in ["jv", "yv", "iv", "ive", "yn", "j0", "j1", "y0", "y1"]:
    globals()[_name] = _ufunc(_name, prims=pb.PRIMS)
jn = _ufunc("jn", "jv", pb.PRIMS)       # SciPy's jn is jv


@numpy_function(sps.gammainc, module=MODULE)
def gammainc(a, x, /, *args, **kwargs):
    """Differentiable in ``x`` (the gamma density) and in ``a`` (to any order, by the
    series or continued fraction that evaluates it; see ``prims/incomplete.py``)."""
    _check("gammainc", args, kwargs)
    return pi.gammainc_p.bind(a, x, n=0)


@numpy_function(sps.gammaincc, module=MODULE)
def gammaincc(a, x, /, *args, **kwargs):
    """Differentiable in ``a`` and ``x`` (see ``gammainc``)."""
    _check("gammaincc", args, kwargs)
    return pi.gammaincc_p.bind(a, x)


@numpy_function(sps.betainc, module=MODULE)
def betainc(a, b, x, /, *args, **kwargs):
    """Differentiable in ``x`` (the beta density) and in ``a`` and ``b`` (to any order,
    by the continued fraction that evaluates it; see ``prims/incomplete.py``)."""
    _check("betainc", args, kwargs)
    return pi.betainc_p.bind(a, b, x, i=0, j=0)


@numpy_function(sps.multigammaln, module=MODULE)
def multigammaln(a, d):
    """``d`` (an integer) carries no derivative; differentiable in ``a``."""
    d = np.asarray(d)[()]
    if not np.isscalar(d) or (np.floor(d) != d):
        raise ValueError("d should be a positive integer (dimension)")
    a = as_inexact(a)
    low = reduce_min_p.bind(reshape(a, (-1,)), axis=(0,), keepdims=False) <= 0.5 * (d - 1)
    try:
        low = bool(low)             # under jit: a guard on this truth value
    except TypeError:               # under vmap: no single answer, no check
        low = False
    if low:
        value = a._concrete() if isinstance(a, Tracer) else a
        raise ValueError(f"condition a ({value}) > 0.5 * (d-1) ({0.5 * (d - 1)}) not met")
    out = (d * (d - 1) * 0.25) * np.log(np.pi)
    for j in range(int(d)):
        out = out + ps.gammaln_p.bind(a - 0.5 * j)
    return out


@numpy_function(sps.polygamma, module=MODULE)
def polygamma(n, x):
    """``n`` (integers) carries no derivative; d/dx polygamma(n, x) = polygamma(n+1, x)."""
    return ps.polygamma_p.bind(n, x)


@numpy_function(sps.softplus, module=MODULE)
def softplus(x, **kwargs):
    _check("softplus", (), kwargs)
    return ps.softplus_p.bind(x)


# ---------------------------------------------------------------- softmax family

@numpy_function(sps.logsumexp, module=MODULE)
def logsumexp(a, axis=None, b=None, keepdims=False, return_sign=False):
    """Derivative 0 (not nan) for slices whose value is -inf. ``return_sign=True``
    returns ``(log|sum|, sign)``; the sign carries no derivative."""
    a = as_inexact(a)
    args = (a,)
    if b is not None:
        b = asarray_like(b)
        shape = np.broadcast_shapes(shape_of(a), shape_of(b))
        a, b = broadcast_to(a, shape), broadcast_to(as_inexact(b), shape)
        args = (a, b)
    axes = normalize_axis(axis, len(shape_of(a)))
    out = ps.logsumexp_p.bind(*args, axis=axes, keepdims=keepdims, signed=return_sign)
    if not return_sign:
        return out
    # sign of sum(b exp(a)) = sign of sum(b exp(a - out)) (0 where out is -inf)
    dead = out == -np.inf
    safe = select_p.bind(dead, 0.0, out)
    if not keepdims:
        safe = reshape(safe, tuple(1 if i in axes else d for i, d in enumerate(shape_of(a))))
    w = EW["exp"].bind(a - safe)
    s = reduce_sum(w if b is None else b * w, axes, keepdims)
    sgn = EW["sign"].bind(s)
    return out, select_p.bind(dead, 0.0, sgn)


@numpy_function(sps.softmax, module=MODULE)
def softmax(x, axis=None):
    """A slice that is entirely -inf gives nan (as SciPy) with derivative 0."""
    x = as_inexact(x)
    return ps.softmax_p.bind(x, axis=normalize_axis(axis, len(shape_of(x))))


@numpy_function(sps.log_softmax, module=MODULE)
def log_softmax(x, axis=None):
    """A slice that is entirely -inf gives nan (as SciPy) with finite derivative."""
    x = as_inexact(x)
    axes = normalize_axis(axis, len(shape_of(x)))
    return x - ps.logsumexp_p.bind(x, axis=axes, keepdims=True, signed=False)


__all__ = ["polygamma", "softplus", "logsumexp", "softmax", "log_softmax", "psi", "jn",
           "gammainc", "gammaincc", "betainc", "multigammaln"]
