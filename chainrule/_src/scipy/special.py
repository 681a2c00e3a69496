"""chainrule.scipy.special: differentiable special functions with SciPy's names and
signatures. Outside transformations each is SciPy's own function; inside one it
binds the primitives of ``prims/special.py``, ``prims/bessel.py`` and
``prims/incomplete.py``.

Derivatives are taken in every argument SciPy's function is differentiable in:
``gammainc``/``gammaincc`` in ``a`` and ``x``, ``betainc`` in ``a``, ``b`` and ``x`` (to
any order; in the shape parameters by series and continued fractions, see
``prims/incomplete.py``). Bessel functions are differentiated in ``x``; asking for the
derivative in the order ``v`` raises NotImplementedError. Integer arguments
(``polygamma``'s, ``expn``'s and ``yn``'s order) have no derivative: asking for one
raises NotImplementedError; ``multigammaln``'s ``d`` is a Python integer.

The softmax family is safe for fully masked rows: where every entry along ``axis``
is ``-inf``, ``logsumexp`` is ``-inf``, ``softmax``/``log_softmax`` are nan (as
SciPy), and the derivatives are 0 (never nan).
"""
import numpy as np
import scipy.special as sps

from ..core import shape_of, dtype_of, Tracer
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


def _arr(a):
    """A list or tuple argument as an array (a primitive's derivative rules compute with
    their arguments: ``v - 1.0`` on a list ``v`` failed in jv's pullback)."""
    return asarray_like(a) if type(a) in (list, tuple) else a


def _ufunc(name, prim_name=None, prims=ps.PRIMS):
    """Register the SciPy ufunc ``name`` as a binding of the primitive ``prim_name``."""
    sp_fn = getattr(sps, name)
    prim = prims[prim_name or name]
    if getattr(sp_fn, "nin", 1) == 1:
        def traced(x, /, *args, **kwargs):
            _check(name, args, kwargs)
            return prim.bind(_arr(x))
    else:
        def traced(x, y, /, *args, **kwargs):
            _check(name, args, kwargs)
            return prim.bind(_arr(x), _arr(y))
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
    return pi.gammainc_p.bind(_arr(a), _arr(x), n=0)


@numpy_function(sps.gammaincc, module=MODULE)
def gammaincc(a, x, /, *args, **kwargs):
    """Differentiable in ``a`` and ``x`` (see ``gammainc``)."""
    _check("gammaincc", args, kwargs)
    return pi.gammaincc_p.bind(_arr(a), _arr(x))


@numpy_function(sps.betainc, module=MODULE)
def betainc(a, b, x, /, *args, **kwargs):
    """Differentiable in ``x`` (the beta density) and in ``a`` and ``b`` (to any order,
    by the continued fraction that evaluates it; see ``prims/incomplete.py``)."""
    _check("betainc", args, kwargs)
    return pi.betainc_p.bind(_arr(a), _arr(b), _arr(x), i=0, j=0)


@numpy_function(sps.multigammaln, module=MODULE, layout="C")   # SciPy: a sum of a stack
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
    """``n`` (integers) has no derivative (asking for one raises); d/dx polygamma(n, x) =
    polygamma(n+1, x)."""
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
    # sign of sum(b exp(a)) = sign of sum(b exp(a - out)) (0 where out is -inf; where
    # out is +inf, the sign of the sum of b over the entries that are +inf)
    dead = out == -np.inf
    big = out == np.inf
    safe = select_p.bind(dead | big, 0.0, out)
    kept = tuple(1 if i in axes else d for i, d in enumerate(shape_of(a)))
    if not keepdims:
        safe, big = reshape(safe, kept), reshape(big, kept)
    w = select_p.bind(big, select_p.bind(a == np.inf, 1.0, 0.0), EW["exp"].bind(a - safe))
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
    # (keepdims on a 0-d x would give shape (1,), as SciPy's logsumexp, where
    # SciPy's log_softmax keeps the shape ())
    return x - ps.logsumexp_p.bind(x, axis=axes, keepdims=bool(shape_of(x)), signed=False)


# ---------------------------------------------------------------- JAX's other functions

for _name in ["erfcx", "dawsn", "exp1", "expi", "loggamma", "poch", "expn", "owens_t"]:
    globals()[_name] = _ufunc(_name)


@numpy_function(sps.spence, module=MODULE)
def spence(z, /, *args, **kwargs):
    """Real ``z >= 0``; derivative log(z) / (1 - z) (-1 at z = 1)."""
    _check("spence", args, kwargs)
    return ps.spence_p.bind(as_inexact(z))


@numpy_function(sps.wofz, module=MODULE)
def wofz(z, /, *args, **kwargs):
    """Holomorphic: w'(z) = -2 z w(z) + 2i / sqrt(pi); a real ``z`` is complex first."""
    _check("wofz", args, kwargs)
    z = asarray_like(z)
    if z.dtype.kind != "c":
        z = as_inexact(z).astype(np.complex128)
    return ps.wofz_p.bind(z)


def _pair(name, first, second):
    sp_fn = getattr(sps, name)

    def traced(x, /, *args, **kwargs):
        _check(name, args, kwargs)
        x = as_inexact(x)
        if x.dtype.kind == "c":
            raise NotImplementedError(f"chainrule.scipy.special.{name}: complex arguments "
                                      "are not supported inside a transformation")
        return ps.PRIMS[first].bind(x), ps.PRIMS[second].bind(x)
    traced.__name__ = traced.__qualname__ = name
    traced.__doc__ = f"Both outputs differentiable (real ``x``)."
    return numpy_function(sp_fn, module=MODULE, name=name)(traced)


sici = _pair("sici", "sici_si", "sici_ci")
fresnel = _pair("fresnel", "fresnel_s", "fresnel_c")


@numpy_function(sps.hyp1f1, module=MODULE)
def hyp1f1(a, b, x, /, *args, **kwargs):
    """Differentiable in ``x`` (d/dx = a/b 1F1(a+1; b+1; x)); the derivative in ``a`` or
    ``b`` raises NotImplementedError."""
    _check("hyp1f1", args, kwargs)
    return ps.hyp1f1_p.bind(as_inexact(a), as_inexact(b), as_inexact(x))


@numpy_function(sps.hyp2f1, module=MODULE)
def hyp2f1(a, b, c, x, /, *args, **kwargs):
    """Differentiable in ``x`` (d/dx = ab/c 2F1(a+1, b+1; c+1; x)); the derivative in
    ``a``, ``b`` or ``c`` raises NotImplementedError."""
    _check("hyp2f1", args, kwargs)
    return ps.hyp2f1_p.bind(as_inexact(a), as_inexact(b), as_inexact(c), as_inexact(x))


@numpy_function(sps.zeta, module=MODULE)
def zeta(x, q=None, out=None):
    """Hurwitz zeta (Riemann's for ``q=None``): differentiable in ``q``
    (d/dq = -x zeta(x+1, q)); the derivative in ``x`` raises NotImplementedError."""
    if out is not None:
        _check("zeta", (out,), {})
    # (SciPy's complex Riemann zeta: the primitive is SciPy's real Hurwitz zeta, which
    # gave nan for a complex x)
    _real_only("zeta", x, q, error=NotImplementedError, message=(
        "chainrule.scipy.special.zeta: complex arguments are not supported inside a "
        "transformation"))
    return ps.zeta_p.bind(as_inexact(x), 1.0 if q is None else as_inexact(q))


def _real_only(name, *args, error=TypeError, message=None):
    """SciPy's error for a complex argument of a function it defines for real numbers
    only (the composition below would compute a complex extension: a value where SciPy
    has none)."""
    if any(dtype_of(a).kind == "c" for a in args if a is not None):
        raise error(message or f"ufunc '{name}' not supported for the input types, and "
                    "the inputs could not be safely coerced to any supported types "
                    "according to the casting rule ''safe''")


@numpy_function(sps.factorial, module=MODULE)
def factorial(n, exact=False, extend="zero"):
    """gamma(n + 1), 0 for n < 0 (``exact=True`` is integer-valued: refused inside
    transformations)."""
    if exact or extend != "zero":
        raise NotImplementedError("chainrule.scipy.special.factorial: exact=True and "
                                  "extend= are not supported inside a transformation")
    _real_only("factorial", n, error=ValueError, message=(
        "In order to use non-integer arguments, you must opt into this by passing "
        "`extend='complex'`. Note that this changes the result for all negative "
        "arguments (which by default return 0)."))
    n = as_inexact(n)
    neg = n < 0
    return select_p.bind(neg, 0.0, ps.gamma_p.bind(select_p.bind(neg, 1.0, n) + 1.0))


@numpy_function(sps.comb, module=MODULE)
def comb(N, k, *, exact=False, repetition=False):
    """binom(N, k) where 0 <= k <= N (0 elsewhere), as SciPy; differentiable in both
    (digamma differences). ``exact=True`` is refused inside transformations."""
    if exact:
        raise NotImplementedError("chainrule.scipy.special.comb: exact=True is not "
                                  "supported inside a transformation")
    N, k = as_inexact(N), as_inexact(k)
    if repetition:
        N = N + k - 1.0
    ok = (k <= N) & (N >= 0) & (k >= 0)
    return select_p.bind(ok, ps.binom_p.bind(select_p.bind(ok, N, 1.0),
                                              select_p.bind(ok, k, 0.0)), 0.0)


def _boxcox(logx, lmbda):
    """(x^l - 1)/l = expm1(l log x)/l, log x at l = 0 (with its l-derivatives there
    to second order: log x + l log^2 x / 2 + l^2 log^3 x / 6)."""
    zero = lmbda == 0
    ls = select_p.bind(zero, 1.0, lmbda)
    general = EW["expm1"].bind(ls * logx) / ls
    series = logx + lmbda * logx * logx * 0.5 + lmbda * lmbda * logx * logx * logx / 6.0
    return select_p.bind(zero, series, general)


@numpy_function(sps.boxcox, module=MODULE)
def boxcox(x, lmbda, /, *args, **kwargs):
    """Differentiable in ``x`` and ``lmbda`` (also at lmbda = 0, to second order)."""
    _check("boxcox", args, kwargs)
    _real_only("boxcox", x, lmbda)
    return _boxcox(EW["log"].bind(as_inexact(x)), as_inexact(lmbda))


@numpy_function(sps.boxcox1p, module=MODULE)
def boxcox1p(x, lmbda, /, *args, **kwargs):
    """Differentiable in ``x`` and ``lmbda`` (also at lmbda = 0, to second order)."""
    _check("boxcox1p", args, kwargs)
    _real_only("boxcox1p", x, lmbda)
    return _boxcox(EW["log1p"].bind(as_inexact(x)), as_inexact(lmbda))


@numpy_function(sps.sph_harm_y, module=MODULE)
def sph_harm_y(n, m, theta, phi, *, diff_n=0):
    """Differentiable in ``theta`` and ``phi`` (``n``, ``m`` are integers);
    ``diff_n`` > 0 is refused inside transformations."""
    if diff_n:
        raise NotImplementedError("chainrule.scipy.special.sph_harm_y: diff_n= is not "
                                  "supported inside a transformation")
    n, m = asarray_like(n), asarray_like(m)
    if n.dtype.kind not in "iub" or m.dtype.kind not in "iub":
        raise TypeError("sph_harm_y: n and m must be integers")
    return ps.sph_harm_y_p.bind(n, m, as_inexact(theta), as_inexact(phi))


__all__ = ["polygamma", "softplus", "logsumexp", "softmax", "log_softmax", "psi", "jn",
           "gammainc", "gammaincc", "betainc", "multigammaln"]
