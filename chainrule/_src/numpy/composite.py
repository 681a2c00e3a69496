"""NumPy functions that are compositions of other chainrule.numpy functions (each
NumPy's own outside transformations, its algorithm ported inside them, so values
agree to rounding and every derivative, vmap and jit follow from the parts):

- array-API names: ``concat``, ``permute_dims``, ``matrix_transpose``, ``unstack``,
  ``astype``, ``vecdot``, ``matvec``, ``vecmat``; ``block``, ``full``, ``row_stack``;
- signals and statistics: ``convolve``, ``correlate``, ``cov``, ``corrcoef``,
  ``trapezoid``, ``interp``, ``unwrap``, ``vander``, ``logspace``, ``geomspace``, ``i0``;
- two-output ufuncs ``divmod`` and ``frexp``, and ``ldexp``;
- selections with concrete conditions: ``compress``, ``extract``, ``choose``,
  ``piecewise``, ``trim_zeros``, ``apply_along_axis``, ``apply_over_axes``,
  ``sort_complex`` and the set routines ``union1d``, ``intersect1d``, ``setdiff1d``,
  ``setxor1d`` (their result's size depends on the values: under vmap they raise).
"""
import math
import operator
import warnings

import numpy as np

from .. import backend
from ..core import (Tracer, _state, shape_of, dtype_of, NonDiffPrimitive, Primitive, Zero,
                    has_value)
from ..prims import elementwise as ew
from ..prims import shape as sp
from ..prims.signal import convolve_p, _flip
from ..prims.special import i0_p
from .basic import asarray_like, as_inexact, concrete, clip_mode, normalize_axis, single_axis, lazy_value_error
from .dispatch import numpy_function, PUBLIC, HANDLED_UFUNCS, no_kwargs
from .nondiff import checked_index


def _n():
    return PUBLIC["numpy"]


def _refuse_foreign(fname, *values):
    """NotImplementedError for another backend's array (Dask, CuPy) given to a function
    that reads its values (converting it would compute a Dask graph or copy a GPU
    array); a traced value's own concrete read refuses it in the same way."""
    for v in values:
        if isinstance(v, (list, tuple)):
            _refuse_foreign(fname, *v)
        elif v is not None and not isinstance(v, Tracer) and backend.is_foreign(v):
            raise backend.unsupported(f"chainrule.numpy.{fname}", v,
                                      "it reads the values")


# ---------------------------------------------------------------- array-API names

@numpy_function(np.concat)
def concat(arrays, /, axis=0, out=None, *, dtype=None, casting="same_kind"):
    return _n()["concatenate"](arrays, axis=axis, out=out, dtype=dtype, casting=casting)


@numpy_function(np.permute_dims, view="always")
def permute_dims(a, /, axes=None):
    return _n()["transpose"](a, axes)


@numpy_function(np.matrix_transpose, view="always")
def matrix_transpose(x, /):
    x = asarray_like(x)
    if len(shape_of(x)) < 2:
        raise ValueError("Input array must be at least 2-dimensional, but it is "
                         f"{len(shape_of(x))}")
    return _n()["swapaxes"](x, -1, -2)


@numpy_function(np.unstack)
def unstack(x, /, *, axis=0):
    x = asarray_like(x)
    if not shape_of(x):
        raise ValueError("Input array must be at least 1-d.")
    x = _n()["moveaxis"](x, axis, 0)
    return tuple(x[i] for i in range(shape_of(x)[0]))


@numpy_function(np.astype)
def astype(x, dtype, /, *, copy=True, device=None):
    if not isinstance(x, Tracer):
        return np.astype(x, dtype, copy=copy)
    return x.astype(dtype, copy=copy)


@numpy_function(np.vecdot)
def vecdot(x1, x2, /, *args, axis=-1, **kwargs):
    """sum(conj(x1) * x2) over ``axis`` (the gufunc's other arguments are refused)."""
    no_kwargs("vecdot", out=args[0] if args else kwargs.pop("out", None), **kwargs)
    return PUBLIC["numpy.linalg"]["vecdot"](x1, x2, axis=axis)


@numpy_function(np.matvec, layout="C")
def matvec(x1, x2, /, *args, **kwargs):
    """(..., m, n) x (..., n) -> (..., m), no conjugation (as NumPy's gufunc)."""
    no_kwargs("matvec", out=args[0] if args else kwargs.pop("out", None), **kwargs)
    x1, x2 = asarray_like(x1), asarray_like(x2)
    if len(shape_of(x1)) < 2 or len(shape_of(x2)) < 1 or shape_of(x1)[-1] != shape_of(x2)[-1]:
        raise ValueError(f"matvec: mismatch in its core dimension: {shape_of(x1)} and "
                         f"{shape_of(x2)}")
    return _n()["sum"](x1 * _n()["expand_dims"](x2, -2), axis=-1)


@numpy_function(np.vecmat, layout="C")
def vecmat(x1, x2, /, *args, **kwargs):
    """(..., n) x (..., n, m) -> (..., m), ``x1`` conjugated (as NumPy's gufunc)."""
    no_kwargs("vecmat", out=args[0] if args else kwargs.pop("out", None), **kwargs)
    x1, x2 = asarray_like(x1), asarray_like(x2)
    if len(shape_of(x2)) < 2 or len(shape_of(x1)) < 1 or shape_of(x1)[-1] != shape_of(x2)[-2]:
        raise ValueError(f"vecmat: mismatch in its core dimension: {shape_of(x1)} and "
                         f"{shape_of(x2)}")
    if dtype_of(x1).kind == "c":
        x1 = ew.conj_p.bind(x1)
    return _n()["sum"](_n()["expand_dims"](x1, -1) * x2, axis=-2)


def _block_depth(a):
    if isinstance(a, tuple):
        raise TypeError("arrays is a tuple. Only lists can be used to arrange blocks, and "
                        "np.block does not allow implicit conversion from tuple to ndarray.")
    if isinstance(a, list):
        if not a:
            raise ValueError("List at arrays cannot be empty")
        depths = {_block_depth(x) for x in a}
        if len(depths) != 1:
            raise ValueError("List depths are mismatched.")
        return depths.pop() + 1
    return 0


@numpy_function(np.block)
def block(arrays):
    """Nested lists of blocks: the innermost concatenated along the last axis."""
    depth = _block_depth(arrays)

    def leaves(a):
        return [y for x in a for y in leaves(x)] if isinstance(a, list) else [a]
    nd = max([depth] + [len(shape_of(asarray_like(x))) for x in leaves(arrays)])

    def build(a, level):
        if not isinstance(a, list):
            a = asarray_like(a)
            return sp.reshape(a, (1,) * (nd - len(shape_of(a))) + shape_of(a))
        return _n()["concatenate"]([build(x, level + 1) for x in a], axis=-(depth - level))
    return build(arrays, 0)


@numpy_function(np.full)
def full(shape, fill_value, dtype=None, order="C", *, device=None, like=None):
    """A traced ``fill_value`` carries its derivative to every element."""
    v = asarray_like(fill_value)
    if dtype is not None:
        v = v.astype(dtype) if isinstance(v, Tracer) else np.asarray(v, dtype)
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    return _n()["copy"](sp.broadcast_to(v, shape))


if hasattr(np, "row_stack"):
    @numpy_function(np.row_stack)
    def row_stack(tup, *, dtype=None, casting="same_kind"):
        """NumPy's deprecated alias of ``vstack``."""
        return _n()["vstack"](tup, dtype=dtype, casting=casting)


# ---------------------------------------------------------------- signals and statistics

def _conv_mode(mode):
    modes = {0: "valid", 1: "same", 2: "full", "v": "valid", "s": "same", "f": "full"}
    mode = modes.get(mode, modes.get(mode[:1] if isinstance(mode, str) else mode, None)) \
        if mode not in ("valid", "same", "full") else mode
    if mode is None:
        raise ValueError("mode must be one of 'valid', 'same', or 'full'")
    return mode


def _conv_args(a, v):
    a, v = asarray_like(a), asarray_like(v)
    a = sp.reshape(a, (-1,)) if not shape_of(a) else a
    v = sp.reshape(v, (-1,)) if not shape_of(v) else v
    if len(shape_of(a)) != 1 or len(shape_of(v)) != 1:
        raise ValueError("object too deep for desired array")
    if shape_of(a)[0] == 0:
        raise ValueError("a cannot be empty")
    if shape_of(v)[0] == 0:
        raise ValueError("v cannot be empty")
    # NumPy's dtype: integers and booleans convolve exactly in their own type (a bool
    # result is the OR of ANDs), as scipy.signal's direct method does
    dt = np.result_type(dtype_of(a), dtype_of(v))
    return (a if dtype_of(a) == dt else sp.convert_element_type_p.bind(a, dtype=dt),
            v if dtype_of(v) == dt else sp.convert_element_type_p.bind(v, dtype=dt))


@numpy_function(np.convolve)
def convolve(a, v, mode="full"):
    """The longer argument first (as NumPy); derivatives are correlations."""
    a, v = _conv_args(a, v)
    if shape_of(v)[0] > shape_of(a)[0]:
        a, v = v, a
    return convolve_p.bind(a, v, mode=_conv_mode(mode), method="direct", nbatch=0)


@numpy_function(np.correlate)
def correlate(a, v, mode="valid"):
    """sum_n a[n + k] conj(v[n]), NumPy's lags (a shorter ``a`` reverses the result)."""
    if not shape_of(asarray_like(a)) or not shape_of(asarray_like(v)):
        # (NumPy's correlate, unlike its convolve, takes no 0-d argument)
        raise ValueError("object of too small depth for desired array")
    a, v = _conv_args(a, v)
    mode = _conv_mode(mode)
    if dtype_of(v).kind == "c":
        v = ew.conj_p.bind(v)
    if shape_of(v)[0] > shape_of(a)[0]:
        # NumPy: correlate(v, a) reversed and conjugated back
        out = convolve_p.bind(v, _flip(a, 0), mode=mode, method="direct", nbatch=0)
        return _flip(out, 0)
    return convolve_p.bind(a, _flip(v, 0), mode=mode, method="direct", nbatch=0)


@numpy_function(np.cov)
def cov(m, y=None, rowvar=True, bias=False, ddof=None, fweights=None, aweights=None, *,
        dtype=None):
    """NumPy's algorithm; weights (concrete or traced) carry derivatives too."""
    N = _n()
    if ddof is not None and ddof != int(ddof):
        raise ValueError("ddof must be integer")
    m = asarray_like(m)
    if len(shape_of(m)) > 2:
        raise ValueError("m has more than 2 dimensions")
    if dtype is None:
        dtype = np.result_type(dtype_of(m), np.float64) if y is None else \
            np.result_type(dtype_of(m), dtype_of(asarray_like(y)), np.float64)
    X = N["atleast_2d"](m).astype(dtype)
    if not rowvar and len(shape_of(m)) != 1:     # NumPy: a (1, N) m is N variables
        X = X.T
    if shape_of(X)[0] == 0:
        return np.array([]).reshape(0, 0)
    if y is not None:
        y = N["atleast_2d"](asarray_like(y)).astype(dtype)
        if len(shape_of(y)) > 2:
            raise ValueError("y has more than 2 dimensions")
        if not rowvar and shape_of(y)[0] != 1:
            y = y.T
        X = N["concatenate"]((X, y), axis=0)
    if ddof is None:
        ddof = 0 if bias else 1
    w = None
    if fweights is not None:
        fw = np.asarray(concrete(fweights))
        if not np.all(fw == np.around(fw)):
            raise TypeError("fweights must be integer")
        if fw.ndim > 1:
            raise RuntimeError("cannot handle multidimensional fweights")
        if fw.shape[0] != shape_of(X)[1]:
            raise RuntimeError("incompatible numbers of samples and fweights")
        if np.any(fw < 0):
            raise ValueError("fweights cannot be negative")
        w = fw.astype(np.float64)
    if aweights is not None:
        aw = as_inexact(aweights)
        if len(shape_of(aw)) > 1:
            raise RuntimeError("cannot handle multidimensional aweights")
        if shape_of(aw)[0] != shape_of(X)[1]:
            raise RuntimeError("incompatible numbers of samples and aweights")
        if has_value(aw) and np.any(np.asarray(concrete(aw)) < 0):
            raise ValueError("aweights cannot be negative")
        w = aw if w is None else w * aw
    avg = N["average"](X, axis=1, weights=w)
    w_sum = shape_of(X)[1] if w is None else N["sum"](w)
    if w is None:
        fact = shape_of(X)[1] - ddof
    elif ddof == 0:
        fact = w_sum
    elif aweights is None:
        fact = w_sum - ddof
    else:
        fact = w_sum - ddof * N["sum"](w * aw) / w_sum
    # NumPy: degrees of freedom <= 0 warn and divide by 0 (inf and nan entries)
    if isinstance(fact, Tracer) and not has_value(fact):
        fact = N["where"](fact <= 0, 0.0, fact)
    elif (fact._concrete() if isinstance(fact, Tracer) else fact) <= 0:
        warnings.warn("Degrees of freedom <= 0 for slice", RuntimeWarning, stacklevel=3)
        fact = 0.0
    X = X - avg[:, None]
    X_T = X.T if w is None else (X * w).T
    c = N["dot"](X, X_T.conj() if dtype_of(X).kind == "c" else X_T)
    if isinstance(fact, Tracer):
        c = c * (1.0 / fact)
    else:                   # NumPy's c *= 1 / fact keeps c's dtype: a Python float
        with np.errstate(divide="ignore"):
            c = c * float(np.true_divide(1, fact))
    return N["squeeze"](c)


@numpy_function(np.corrcoef)
def corrcoef(x, y=None, rowvar=True, *, dtype=None):
    N = _n()
    c = cov(x, y, rowvar, dtype=dtype)
    if not shape_of(c):
        return c / c
    d = N["diagonal"](c)
    stddev = N["sqrt"](N["real"](d))
    c = c / stddev[:, None]
    c = c / stddev[None, :]
    if dtype_of(c).kind == "c":
        return N["clip"](N["real"](c), -1, 1) + 1j * N["imag"](c)
    return N["clip"](c, -1, 1)


@numpy_function(np.trapezoid)
def trapezoid(y, x=None, dx=1.0, axis=-1):
    N = _n()
    y = asarray_like(y)
    nd = len(shape_of(y))
    axis = single_axis(axis, nd)        # (NumPy's IndexError: ``axis % nd`` wrapped 5 to 1)
    if x is None:
        d = dx
    else:
        x = asarray_like(x)
        if len(shape_of(x)) == 1:
            d = N["diff"](x)
            d = sp.reshape(d, tuple(shape_of(d)[0] if i == axis else 1 for i in range(nd)))
        else:
            d = N["diff"](x, axis=axis)
    lo = tuple(slice(None, -1) if i == axis else slice(None) for i in range(nd))
    hi = tuple(slice(1, None) if i == axis else slice(None) for i in range(nd))
    return N["sum"](d * (y[hi] + y[lo]) / 2.0, axis=axis)


@numpy_function(np.interp, layout="C")
def interp(x, xp, fp, left=None, right=None, period=None):
    """Differentiable in ``x``, ``xp`` and ``fp`` (and ``left``/``right``); ``xp`` must
    be increasing, as for NumPy (with ``period``, any order: sorted as NumPy does).
    NumPy's dtypes (float64, complex128 for complex ``fp``) and its rules where a
    slope is not finite: ``fp[j]`` at a knot, then the line from the right end."""
    N = _n()
    x, xp, fp = asarray_like(x), as_inexact(xp), asarray_like(fp)
    if dtype_of(x).kind == "c" or dtype_of(xp).kind == "c":     # (astype dropped the imaginary part)
        raise TypeError("Cannot cast array data from dtype('complex128') to "
                        "dtype('float64') according to the rule 'safe'")
    cdt = np.complex128 if dtype_of(fp).kind == "c" else np.float64
    if period is not None:
        if has_value(period) and concrete(period) == 0:
            raise ValueError("period must be a non-zero value")
        period = abs(period)
        left = right = None
    if len(shape_of(xp)) != 1 or len(shape_of(fp)) != 1:
        if period is not None:
            raise ValueError("Data points must be 1-D sequences")
        raise ValueError("object too deep for desired array" if len(shape_of(xp)) > 1 else
                         "object of too small depth for desired array")
    n = shape_of(xp)[0]
    if shape_of(fp)[0] != n:
        raise ValueError("fp and xp are not of the same length" +
                         ("" if period is not None else "."))
    if n == 0:
        raise ValueError("array of sample points is empty")
    fp = fp if dtype_of(fp) == cdt else fp.astype(cdt)
    x = x if dtype_of(x) == np.float64 else x.astype(np.float64)
    xp = xp if dtype_of(xp) == np.float64 else xp.astype(np.float64)
    if period is not None:
        x, xp = N["mod"](x, period), N["mod"](xp, period)
        order = N["argsort"](xp)
        xp, fp = N["take"](xp, order), N["take"](fp, order)
        xp = N["concatenate"]((xp[n - 1:] - period, xp, xp[:1] + period))
        fp = N["concatenate"]((fp[n - 1:], fp, fp[:1]))
        n += 2
    first, last = fp[0], fp[n - 1]
    left = first if left is None else left
    right = last if right is None else right
    if n == 1:
        out = N["where"](x < xp[0], left, N["where"](x > xp[0], right, first))
        return out
    # searchsorted(xp, x, side="right") - 1, as comparisons (they batch under vmap)
    below = N["sum"](N["where"](N["expand_dims"](x, -1) >= xp, 1.0, 0.0), axis=-1)
    j = N["clip"](below - 1.0, 0, n - 2).astype(np.intp)
    x0, x1 = N["take"](xp, j), N["take"](xp, j + 1)
    f0, f1 = N["take"](fp, j), N["take"](fp, j + 1)
    slope = (f1 - f0) / (x1 - x0)
    val = slope * (x - x0) + f0
    # NumPy where that is nan (an infinite slope or fp): fp[j] at the knot, else the
    # line through the right end, else fp[j] where both ends are equal
    bad = N["isnan"](val)
    if N["any"](bad) if has_value(bad) else True:
        other = slope * (x - x1) + f1
        other = N["where"](N["isnan"](other) & (f0 == f1), f0, other)
        other = N["where"](N["isnan"](x), np.nan, other)      # NumPy: nan at x nan
        val = N["where"](bad, N["where"](x == x0, f0, other), val)
    val = N["where"](x == xp[n - 1], last, val)
    return N["where"](x < xp[0], left, N["where"](x > xp[n - 1], right, val))


@numpy_function(np.unwrap)
def unwrap(p, discont=None, axis=-1, *, period=2 * math.pi):
    """NumPy's algorithm and dtype: ``result_type(diff(p), period)``, so integer
    ``p`` with an integer ``period`` stays integer (NumPy's integer branch), booleans
    differ by ``!=``."""
    N = _n()
    p = asarray_like(p)
    nd = len(shape_of(p))
    if nd == 0:
        raise ValueError("diff requires input that is at least one dimensional")
    ax = single_axis(axis, nd)
    tail = tuple(slice(1, None) if i == ax else slice(None) for i in range(nd))
    head = tuple(slice(None, -1) if i == ax else slice(None) for i in range(nd))
    first = tuple(slice(0, 1) if i == ax else slice(None) for i in range(nd))
    if dtype_of(p) == np.bool_:
        dd = N["not_equal"](p[tail], p[head])
    else:
        dd = N["diff"](p, axis=ax)
    if discont is None:
        discont = period / 2
    dtype = np.result_type(dtype_of(dd), period)
    if np.issubdtype(dtype, np.integer):
        high, rem = divmod(period, 2)
        ambiguous = rem == 0
        if dtype.kind == "u" and high:      # NumPy: dd - (-high) in the unsigned dtype
            raise OverflowError(f"Python integer {-high} out of bounds for {dtype}")
    else:
        high, ambiguous = period / 2, True
    ddmod = N["mod"](dd + high, period) - high
    if ambiguous:
        ddmod = N["where"]((ddmod == -high) & (dd > 0), high, ddmod)
    correct = N["where"](abs(dd) < discont, 0, ddmod - dd)
    p = p.astype(dtype) if dtype_of(p) != dtype else p
    rest = p[tail] + N["cumsum"](correct, axis=ax)    # (NumPy writes it into p's copy)
    rest = rest.astype(dtype) if dtype_of(rest) != dtype else rest
    return N["concatenate"]([p[first], rest], axis=ax)


@numpy_function(np.vander, layout="C")
def vander(x, N=None, increasing=False):
    """Columns by cumulative products (NumPy's ``multiply.accumulate``)."""
    ns = _n()
    x = asarray_like(x)
    if len(shape_of(x)) != 1:
        raise ValueError("x must be a one-dimensional array or sequence.")
    n = shape_of(x)[0] if N is None else operator.index(N)    # (NumPy: 1.5 is a TypeError)
    if n < 0:
        raise ValueError("negative dimensions are not allowed")
    dt = np.promote_types(dtype_of(x), int)       # NumPy's result dtype (float32: float64)
    if n == 0:
        return np.empty((shape_of(x)[0], 0), dt)
    x = x if dtype_of(x) == dt else x.astype(dt)
    cols = [ns["ones_like"](x)] + [x] * (n - 1)
    v = ns["cumprod"](ns["stack"](cols, axis=1), axis=1)
    return v if increasing else v[:, ::-1]


@numpy_function(np.logspace)
def logspace(start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0):
    N = _n()
    # (as NumPy: a base that is a number is left as it is, so a Python float stays weak
    # and a float32 range stays float32)
    if not isinstance(base, (float, int)) and len(shape_of(base)):
        base = asarray_like(base)   # NumPy: start, stop and base to one ndim first
        start, stop = asarray_like(start), asarray_like(stop)
        nd = max(len(shape_of(start)), len(shape_of(stop)), len(shape_of(base)))
        start, stop = (sp.reshape(v, (1,) * (nd - len(shape_of(v))) + shape_of(v))
                       for v in (start, stop))
        base = N["expand_dims"](base, axis)
    y = N["linspace"](start, stop, num=num, endpoint=endpoint, axis=axis)
    out = N["power"](base, y)
    return out if dtype is None else out.astype(dtype)


@numpy_function(np.geomspace)
def geomspace(start, stop, num=50, endpoint=True, dtype=None, axis=0):
    """Real ``start``/``stop`` of one sign (complex ones are refused inside
    transformations); the ends are exactly ``start`` and ``stop``, as NumPy's."""
    N = _n()
    start, stop = as_inexact(start), as_inexact(stop)
    if dtype_of(start).kind == "c" or dtype_of(stop).kind == "c":
        raise NotImplementedError("chainrule.numpy.geomspace: complex endpoints are not "
                                  "supported inside a transformation")
    if has_value(start) and has_value(stop):        # (under vmap: unchecked)
        cs, ce = np.asarray(concrete(start)), np.asarray(concrete(stop))
        if np.any(cs == 0) or np.any(ce == 0):
            raise ValueError("Geometric sequence cannot include zero")
        if np.any(np.sign(cs) != np.sign(ce)):
            raise NotImplementedError("chainrule.numpy.geomspace: endpoints of opposite "
                                      "signs (a complex result) are not supported inside "
                                      "a transformation")
    start, stop = N["broadcast_arrays"](start, stop)     # NumPy broadcasts them first
    sign = N["where"](start < 0, -1.0, 1.0)
    ls, le = N["log10"](start * sign), N["log10"](stop * sign)
    out = logspace(ls, le, num=num, endpoint=endpoint, base=10.0, axis=0)
    if num > 0:
        pieces = [N["expand_dims"](start * sign, 0)]
        if endpoint and num > 1:
            pieces += [out[1:-1], N["expand_dims"](stop * sign, 0)]
        else:
            pieces += [out[1:]]
        out = N["concatenate"](pieces, axis=0) if num > 1 else pieces[0]
    out = out * sign
    if axis != 0:
        out = N["moveaxis"](out, 0, axis)
    return out if dtype is None else out.astype(dtype)


@numpy_function(np.i0)
def i0(x):
    """The modified Bessel function of order 0 (SciPy's i0; derivative i1)."""
    x = as_inexact(x)
    if dtype_of(x).kind == "c":
        raise TypeError("i0 not supported for complex values")
    return i0_p.bind(x)


# ---------------------------------------------------------------- ufuncs with two outputs

class _Exponent(NonDiffPrimitive):
    """frexp's exponent, as float64 (piecewise constant: no derivative)."""

    def impl(self, x):
        return np.frexp(x)[1].astype(np.float64)

    def batch(self, args, dims):
        return self.bind(args[0]), dims[0]

    def cost(self, args, ans):
        return int(np.prod(shape_of(ans)))


_exponent_p = _Exponent("frexp_exponent")


def _scale2(x, e):
    """x * 2**e for integer-valued float e, exact while the result is finite
    (two halves: 2**e alone may overflow where the product does not)."""
    h = ew.PRIMS["floor"].bind(e * 0.5)
    exp2 = ew.PRIMS["exp2"].bind
    return x * exp2(h) * exp2(e - h)


_PY_SCALARS = (bool, int, float, complex)


def _ufunc2(np_fn, name):
    """Register ``traced`` as ``chainrule.numpy.<name>``. Python scalars reach it as
    they are (NumPy's weak scalars, NEP 50: ``divmod(int32_array, 7)`` is int32),
    other arguments as arrays."""
    def deco(traced):
        def fn(*args, **kwargs):
            if _state.trace is None:
                return np_fn(*args, **kwargs)
            if len(args) != np_fn.nin or kwargs:
                raise NotImplementedError(f"chainrule.numpy.{name}: out=, where= and the "
                                          "other ufunc arguments are not supported inside "
                                          "a transformation")
            return traced(*[a if type(a) in _PY_SCALARS else asarray_like(a)
                            for a in args])
        fn.__name__ = fn.__qualname__ = name
        fn.__doc__ = f"Differentiable ``numpy.{name}``. " + (traced.__doc__ or "")
        fn.numpy_function = np_fn
        PUBLIC["numpy"][name] = HANDLED_UFUNCS[np_fn] = fn
        return fn
    return deco


def _probe(x):
    """A stand-in for ``x`` from which NumPy resolves a ufunc's loop as for ``x``: a
    Python scalar itself (weak), else an empty array of its dtype."""
    return x if type(x) in _PY_SCALARS else np.empty(0, dtype_of(x))


def _as(x, dtype):
    x = asarray_like(x)
    return x if dtype_of(x) == dtype else x.astype(dtype)


@_ufunc2(np.divmod, "divmod")
def divmod(x1, x2):
    """(floor_divide, remainder)."""
    N = _n()        # the public ufuncs: NumPy's type resolution, weak scalars included
    return N["floor_divide"](x1, x2), N["remainder"](x1, x2)


@_ufunc2(np.frexp, "frexp")
def frexp(x):
    """(mantissa, exponent): the mantissa has derivative 2**-exponent."""
    dt = np.frexp(_probe(x))[0].dtype   # NumPy's loop (TypeError for complex)
    wide = np.promote_types(dt, np.float64)   # exact: scaling by a power of 2
    x = _as(x, dt)
    e = _exponent_p.bind(x)
    m = _scale2(_as(x, wide), -e)
    return (m if wide == dt else m.astype(dt)), e.astype(np.int32)


@_ufunc2(np.ldexp, "ldexp")
def ldexp(x1, x2):
    """x1 * 2**x2 (``x2`` integers, no derivative)."""
    with np.errstate(all="ignore"):
        dt = np.ldexp(_probe(x1), _probe(x2)).dtype   # NumPy's loop (TypeError if none)
    wide = np.promote_types(dt, np.float64)   # exact; rounded once to dt
    out = _scale2(_as(_as(x1, dt), wide), _as(x2, np.float64))
    return out if wide == dt else out.astype(dt)


# ---------------------------------------------------------------- concrete selections

def _mask(c, what="condition"):
    _refuse_foreign(what, c)
    return np.asarray(concrete(c), dtype=bool)


@numpy_function(np.compress)
def compress(condition, a, axis=None, out=None):
    no_kwargs("compress", out=out)
    N = _n()
    cond = np.ravel(_mask(condition))
    a = asarray_like(a)
    if axis is None:
        a, axis = N["ravel"](a), 0
    size = shape_of(a)[axis]
    if cond.size > size:
        raise IndexError(f"index {cond.size - 1} is out of bounds for axis {axis} with "
                         f"size {size}")
    return N["take"](a, np.flatnonzero(cond), axis=axis)


@numpy_function(np.extract)
def extract(condition, arr):
    N = _n()
    return N["take"](N["ravel"](asarray_like(arr)), np.flatnonzero(np.ravel(_mask(condition))))


@numpy_function(np.choose, layout="C")
def choose(a, choices, out=None, mode="raise"):
    """Differentiable in ``choices``. ``a`` may be traced (under ``vmap``: batched):
    its entries are checked (``mode='raise'``) or mapped into range when the program
    runs, so a batched ``a`` picks each example's own choices."""
    _refuse_foreign('choose', a)
    no_kwargs("choose", out=out)
    N = _n()
    idx = asarray_like(a)
    n = len(choices)
    if isinstance(idx, Tracer):
        # NumPy's errors for the index dtype and an empty list of choices
        np.choose(np.zeros(0, dtype_of(idx)), [np.zeros(0)] * n)
        idx = checked_index(idx, n, mode, "invalid entry in choice array")
    else:
        idx = clip_mode(np.asarray(idx), n, mode)
        if mode == "raise" and idx.size and (idx.min() < 0 or idx.max() >= n):
            raise ValueError("invalid entry in choice array")
        idx = idx.astype(np.intp)
    choices = [asarray_like(c) for c in choices]
    shape = np.broadcast_shapes(shape_of(idx), *[shape_of(c) for c in choices])
    stacked = N["stack"]([sp.broadcast_to(c, shape) for c in choices], axis=0)
    return N["take_along_axis"](stacked, sp.reshape(sp.broadcast_to(idx, shape),
                                                    (1,) + shape), axis=0)[0]


def _arraylike_item(v):
    """NumPy's ``isinstance(condlist[0], (list, ndarray))`` (a tracer stands for an
    ndarray)."""
    return isinstance(v, (list, np.ndarray, Tracer))


def _batched(c):
    """Whether ``c`` is a traced value without one value to read (batched under vmap);
    a lazy (Dask) value raises there, as reading it would."""
    if not isinstance(c, Tracer):
        return False
    lazy_value_error(c)
    return not has_value(c)


@numpy_function(np.piecewise, layout="K")     # NumPy: zeros_like(x)
def piecewise(x, condlist, funclist, *args, **kw):
    """Each function runs on the selected elements, as NumPy's, where the conditions
    have values (concrete, or traced by grad/jit). As NumPy, a ``condlist`` whose first
    item is not a list or an array (one boolean array, a scalar) is one condition.

    Under ``vmap`` with batched conditions (``piecewise(x, [x < 0, x >= 0], ...)`` of a
    batched ``x``) the selection differs example by example: each function then runs
    once on all of ``x`` (flattened to 1-D, as NumPy's selection is), with each
    unselected element replaced by the example's first selected one (without
    derivative), and ``where`` keeps its results on the selected elements. Values and
    derivatives are those of NumPy's loop for functions that act elementwise (and
    constants), which is what piecewise is for; a function that combines the selected
    elements (``v - v.mean()``) is not supported there. A function must return one
    value per element, or one value: anything else raises ``ValueError``."""
    N = _n()
    x = asarray_like(x)
    n2 = len(funclist)
    nd = len(shape_of(x))
    if isinstance(condlist, (list, tuple)):
        if nd != 0 and condlist and not _arraylike_item(condlist[0]):
            condlist = [condlist]
    elif isinstance(condlist, (bool, np.bool_)) or np.ndim(condlist) == 0 or (
            nd != 0 and np.ndim(condlist) < 2):
        condlist = [condlist]            # (an array's item is an ndarray from 2-d on)
    conds = [asarray_like(c) for c in condlist]
    if any(_batched(c) for c in conds):
        return _piecewise_where(x, conds, funclist, args, kw)
    conds = np.asarray([_mask(c) for c in conds], dtype=bool)
    n = len(conds)
    if n == n2 - 1:
        conds = np.concatenate([conds, ~np.any(conds, axis=0, keepdims=True)], axis=0)
        n += 1
    elif n != n2:
        raise ValueError(f"with {n} condition(s), either {n} or {n + 1} functions are "
                         f"expected")
    if nd == 0:             # NumPy indexes a 0-d x with 0-d masks: one element or none
        out = piecewise(sp.reshape(x, (1,)), [np.reshape(c, (1,)) for c in conds],
                        funclist, *args, **kw)
        return sp.reshape(out, ())
    conds = [np.broadcast_to(c, shape_of(x)) for c in conds]
    y = np.zeros(shape_of(x), dtype_of(x))
    for cond, func in zip(conds, funclist):
        if not callable(func):
            y = N["at"](y)[cond].set(func)
        else:
            vals = x[cond]
            if vals.size > 0:
                y = N["at"](y)[cond].set(func(vals, *args, **kw))
    return y


class _FirstSelected(NonDiffPrimitive):
    """piecewise under vmap: the first element of ``flat`` (last axis) that ``cond``
    selects, without derivative: the stand-in for the unselected elements, so that a
    function runs only on values NumPy's loop gives it. An example that selects none
    takes the first selected element of the batch (its results are not used), or,
    where no example selects one, its own first element."""

    def impl(self, flat, cond, *, nbatch):
        flat, cond = np.asarray(flat), np.asarray(cond)
        batch = flat.shape[:nbatch]
        f2 = flat.reshape((math.prod(batch), -1))
        c2 = np.broadcast_to(cond, flat.shape).reshape(f2.shape)
        rows = np.arange(f2.shape[0])
        j = np.argmax(c2, axis=1)
        has, out = c2[rows, j], f2[rows, j]
        if has.any() and not has.all():
            out = np.where(has, out, out[np.argmax(has)])
        return out.reshape(batch)

    def batch(self, args, dims, *, nbatch):
        return self.bind(*sp.batch_to_front(args, dims), nbatch=nbatch + 1), 0

    def cost(self, args, ans, **params):
        return 0


_first_selected_p = _FirstSelected("piecewise_first_selected")


def _piecewise_where(x, conds, funclist, args, kw):
    """piecewise with batched conditions (see ``piecewise``): the selections by
    ``where``, the functions on all elements."""
    N = _n()
    shape, dt = shape_of(x), dtype_of(x)
    if len({shape_of(c) for c in conds}) > 1:
        raise ValueError("chainrule.numpy.piecewise: the conditions must have one shape")
    conds = [c if dtype_of(c) == np.bool_ else c.astype(bool) for c in conds]
    n, n2 = len(conds), len(funclist)
    if n == n2 - 1:
        anyc = conds[0] if conds else np.zeros(shape, bool)
        for c in conds[1:]:
            anyc = N["logical_or"](anyc, c)     # (cnp.any reads values: not under vmap)
        conds.append(N["logical_not"](anyc))
    elif n != n2:
        raise ValueError(f"with {n} condition(s), either {n} or {n + 1} functions are "
                         f"expected")
    size = math.prod(shape)
    flat = N["ravel"](x)
    y = np.zeros((size,), dt)
    for k, (cond, func) in enumerate(zip(conds, funclist)):
        cond = N["ravel"](sp.broadcast_to(cond, shape))
        if not callable(func):
            val = asarray_like(func)
        else:
            first = _first_selected_p.bind(flat, cond, nbatch=0) if size else flat
            val = asarray_like(func(N["where"](cond, flat, first), *args, **kw))
            if shape_of(val) not in ((), (1,), (size,)):
                raise ValueError(
                    f"chainrule.numpy.piecewise: under vmap with batched conditions, "
                    f"function {k} must return one value per element of x ({size}) or "
                    f"one value, not shape {shape_of(val)}")
        if dtype_of(val) != dt:
            val = val.astype(dt)
        y = N["where"](cond, val, y)
    return sp.reshape(y, shape)


@numpy_function(np.trim_zeros)
def trim_zeros(filt, trim="fb", axis=None):
    _refuse_foreign('trim_zeros', filt)
    N = _n()
    filt = asarray_like(filt)
    nz = np.asarray(concrete(filt != 0))
    trim = trim.lower()
    if axis is None:
        axes = tuple(range(nz.ndim))
    else:
        axes = (axis % nz.ndim,) if isinstance(axis, (int, np.integer)) else \
            tuple(a % nz.ndim for a in axis)
    idx = []
    for ax in range(nz.ndim):
        if ax not in axes:
            idx.append(slice(None))
            continue
        other = tuple(i for i in range(nz.ndim) if i != ax)
        hit = np.flatnonzero(np.any(nz, axis=other) if other else nz)
        if hit.size == 0:
            idx.append(slice(0, 0))
            continue
        start = hit[0] if "f" in trim else 0
        stop = hit[-1] + 1 if "b" in trim else nz.shape[ax]
        idx.append(slice(int(start), int(stop)))
    return N["copy"](filt[tuple(idx)])


@numpy_function(np.apply_along_axis)
def apply_along_axis(func1d, axis, arr, *args, **kwargs):
    """``func1d`` on each 1-D slice, in NumPy's order, the results stacked."""
    N = _n()
    arr = asarray_like(arr)
    nd = len(shape_of(arr))
    axis = single_axis(axis, nd)        # (NumPy's AxisError: ``axis % nd`` wrapped 5 to 1)
    moved = N["moveaxis"](arr, axis, -1)
    outer = shape_of(moved)[:-1]
    res = [asarray_like(func1d(moved[ind], *args, **kwargs)) for ind in np.ndindex(*outer)]
    if not res:
        raise ValueError("Cannot apply_along_axis when any iteration dimensions are 0")
    out = N["stack"](res, axis=0)
    out = N["reshape"](out, outer + shape_of(res[0]))
    k = len(shape_of(res[0]))
    # NumPy puts the function's output axes where ``axis`` was
    return N["moveaxis"](out, tuple(range(len(outer), len(outer) + k)),
                         tuple(range(axis, axis + k))) if k else out


@numpy_function(np.apply_over_axes)
def apply_over_axes(func, a, axes):
    N = _n()
    val = asarray_like(a)
    nd = len(shape_of(val))
    for axis in (axes if isinstance(axes, (list, tuple, np.ndarray)) else [axes]):
        axis = int(axis)
        axis = axis + nd if axis < 0 else axis      # NumPy's: func raises out of range
        res = asarray_like(func(val, axis))
        if len(shape_of(res)) == nd:
            val = res
        else:
            res = N["expand_dims"](res, axis)
            if len(shape_of(res)) != nd:
                raise ValueError("function is not returning an array of the correct shape")
            val = res
    return val


@numpy_function(np.sort_complex)
def sort_complex(a):
    """Sorted by real part, then imaginary part; complex result."""
    b = _n()["sort"](asarray_like(a))
    if dtype_of(b).kind != "c":
        b = b.astype(np.complex64 if dtype_of(b).char in "bhBH" else
                     np.clongdouble if dtype_of(b).char == "g" else np.complex128)
    return b


# set routines: NumPy's algorithms on chainrule's sort/unique, concrete masks

def _unique1(a):
    return _n()["unique"](_n()["ravel"](asarray_like(a)))


@numpy_function(np.union1d)
def union1d(ar1, ar2):
    _refuse_foreign('union1d', ar1, ar2)
    N = _n()
    return N["unique"](N["concatenate"]((N["ravel"](asarray_like(ar1)),
                                          N["ravel"](asarray_like(ar2)))))


@numpy_function(np.intersect1d)
def intersect1d(ar1, ar2, assume_unique=False, return_indices=False):
    """The values come from ``ar1`` (NumPy's sorted order); ``return_indices`` is
    refused inside transformations."""
    _refuse_foreign('intersect1d', ar1, ar2)
    if return_indices:
        raise NotImplementedError("chainrule.numpy.intersect1d: return_indices=True is not "
                                  "supported inside a transformation")
    N = _n()
    a1 = N["ravel"](asarray_like(ar1)) if assume_unique else _unique1(ar1)
    a2 = N["ravel"](asarray_like(ar2)) if assume_unique else _unique1(ar2)
    aux = N["sort"](N["concatenate"]((a1, a2)))
    eq = np.asarray(concrete(aux[1:] == aux[:-1]))
    return aux[:-1][eq]


@numpy_function(np.setdiff1d)
def setdiff1d(ar1, ar2, assume_unique=False):
    _refuse_foreign('setdiff1d', ar1, ar2)
    N = _n()
    a1 = N["ravel"](asarray_like(ar1)) if assume_unique else _unique1(ar1)
    keep = ~np.isin(np.asarray(concrete(a1)), np.asarray(concrete(asarray_like(ar2))),
                    assume_unique=assume_unique)
    return a1[keep]


@numpy_function(np.setxor1d)
def setxor1d(ar1, ar2, assume_unique=False):
    _refuse_foreign('setxor1d', ar1, ar2)
    N = _n()
    a1 = N["ravel"](asarray_like(ar1)) if assume_unique else _unique1(ar1)
    a2 = N["ravel"](asarray_like(ar2)) if assume_unique else _unique1(ar2)
    aux = N["sort"](N["concatenate"]((a1, a2)))
    if shape_of(aux)[0] == 0:
        return aux
    c = np.asarray(concrete(aux))
    flag = np.concatenate(([True], c[1:] != c[:-1], [True]))
    return aux[flag[1:] & flag[:-1]]


# ---------------------------------------------------------------- counting with weights
# The bins are decided on concrete values (the samples carry no derivative: counts are
# piecewise constant in them); weights, and bin edges given as traced arrays (through
# density's widths), carry theirs.

def _concrete_array(x, fname="histogram"):
    _refuse_foreign(fname, x)
    return np.asarray(concrete(asarray_like(x)))


def _bincount_length(x, minlength, nbatch):
    """The length of each example's ``np.bincount`` of ``x`` (``nbatch`` leading batch
    axes, concrete): one for all, or ``ValueError`` where they differ (a loop over
    the batch would give arrays of different lengths)."""
    x = np.asarray(x)
    rows = x.reshape((int(np.prod(x.shape[:nbatch], dtype=np.int64)), -1))
    if rows.size and rows.min() < 0:
        raise ValueError("'list' argument must have no negative elements")
    if rows.shape[0] == 0:
        return int(minlength)
    ns = np.maximum(rows.max(axis=1) + 1 if rows.shape[1] else 0, minlength)
    if nbatch and ns.min() != ns.max():
        raise ValueError(
            "chainrule.numpy.bincount: under vmap with a batched x, the examples need "
            f"different numbers of bins (max(x) + 1 ranges from {ns.min()} to "
            f"{ns.max()}), so a loop over the batch would give arrays of different "
            "lengths; pass minlength >= the largest max(x) + 1 to give every example "
            "the same length")
    return int(ns.max())


class _BinCount(Primitive):
    """``np.bincount(x[, w], minlength)`` of each example: ``x`` (and ``w``) of shape
    (*batch, m) with ``nbatch`` leading batch axes, result (*batch, length). Linear in
    the weights ``w`` (a scatter-add; its transpose gathers ``ct[..., x]``); ``x``
    carries no derivative. ``length``: every example's length, or None to find it from
    the values (``_bincount_length``). vmap adds a batch axis and fixes the length where
    ``x`` has a value, so staged programs (jit) have a fixed shape."""
    vjp_uses_ans = False

    def impl(self, x, *w, minlength, length, nbatch):
        x = np.asarray(x)
        n = _bincount_length(x, minlength, nbatch)
        if length is not None:
            if n > length:
                raise ValueError(f"chainrule.numpy.bincount: x needs {n} bins, more "
                                 f"than the {length} it was traced with")
            n = length
        if nbatch == 0:
            return np.bincount(x, *w, minlength=n)
        batch = x.shape[:nbatch]
        rows = x.reshape((int(np.prod(batch, dtype=np.int64)), -1))
        flat = (rows + n * np.arange(rows.shape[0])[:, None]).ravel()   # row r: r*n on
        w = [np.reshape(w[0], flat.shape)] if w else []
        return np.bincount(flat, *w, minlength=rows.shape[0] * n).reshape(batch + (n,))

    def jvp(self, primals, tangents, **params):
        ans = self.bind(*primals, **params)
        if len(primals) == 1 or type(tangents[1]) is Zero:
            return ans, Zero.like(ans)
        params = dict(params, length=shape_of(ans)[-1])
        return ans, self.bind(primals[0], tangents[1], **params)

    def vjp(self, ct, ans, args, needs, **params):
        if len(args) == 1 or not needs[1]:
            return [None] * len(args)
        g = _n()["take_along_axis"](ct, args[0], axis=-1)
        if dtype_of(g) != dtype_of(args[1]):
            g = g.astype(dtype_of(args[1]))
        return [None, g]

    def batch(self, args, dims, *, minlength, length, nbatch):
        args = sp.batch_to_front(args, dims)
        if length is None and has_value(args[0]):
            length = _bincount_length(concrete(args[0]), minlength, nbatch + 1)
        return self.bind(*args, minlength=minlength, length=length, nbatch=nbatch + 1), 0

    def cost(self, args, ans, **params):
        return int(np.prod(shape_of(args[0]))) if len(args) > 1 else 0


bincount_p = _BinCount("bincount")


@numpy_function(np.bincount)
def bincount(x, /, weights=None, minlength=0):
    """Differentiable in ``weights`` (a scatter-add). ``x`` carries no derivative; its
    values decide the length. Under ``vmap`` ``x`` may be batched when every example
    needs the same number of bins (``max(x) + 1``, or ``minlength`` where larger); where
    they differ, a loop would give results of different lengths, and ``ValueError``
    says so."""
    _refuse_foreign('bincount', x, weights)
    xa = asarray_like(x)
    if _batched(xa):
        w = None if weights is None else asarray_like(weights)
        if w is not None and dtype_of(w).kind == "c":
            raise TypeError("Cannot cast array data from dtype('complex128') to "
                            "dtype('float64') according to the rule 'safe'")
        np.bincount(np.zeros(shape_of(xa), dtype_of(xa)),                # NumPy's errors
                    None if w is None else np.zeros(shape_of(w)), minlength)
        return bincount_p.bind(*([xa] if w is None else [xa, w]), minlength=int(minlength),
                               length=None, nbatch=0)
    xs = _concrete_array(x)
    if weights is None or not _traced(weights):
        return np.bincount(xs, None if weights is None else _concrete_array(weights),
                           minlength)
    w = asarray_like(weights)
    if dtype_of(w).kind == "c":
        raise TypeError("Cannot cast array data from dtype('complex128') to "
                        "dtype('float64') according to the rule 'safe'")
    np.bincount(xs, np.zeros(shape_of(w)), minlength)              # NumPy's errors
    n = max(int(xs.max()) + 1 if xs.size else 0, int(minlength))
    return _n()["at"](np.zeros(n))[xs].add(w.astype(np.float64))


def _traced(x):
    if isinstance(x, Tracer):
        return True
    if isinstance(x, (list, tuple)):
        return any(_traced(v) for v in x)
    return False


def _edges_out(bins, edges, sample=None, rng=None):
    """The bin edges as NumPy computes them, traced where they depend on traced values:
    the caller's edges, or for a number of bins without ``range``, linspace(min, max)
    of a traced sample (a string rule for the bins there is refused)."""
    if isinstance(bins, Tracer) and shape_of(bins):     # traced edges (a traced 0-d
        return as_inexact(bins)         # bins is a count: it was returned as the edges)
    if sample is None or not isinstance(sample, Tracer) or rng is not None or \
            np.ndim(concrete(bins)) != 0:
        return edges
    if isinstance(bins, str):
        raise NotImplementedError("chainrule.numpy.histogram: bins given by a rule "
                                  f"({bins!r}) of a traced sample are not supported inside "
                                  "a transformation; pass the number of bins or the edges")
    N = _n()
    lo, hi = N["min"](sample), N["max"](sample)
    if edges[0] != np.min(concrete(sample)):          # min == max: NumPy's +-0.5
        lo, hi = lo - 0.5, hi + 0.5
    return N["linspace"](lo, hi, len(edges))


@numpy_function(np.histogramdd)
def histogramdd(sample, bins=10, range=None, density=None, weights=None):
    """NumPy's bins (on the concrete sample); differentiable in ``weights`` and, with
    ``density``, in traced bin edges."""
    _refuse_foreign('histogramdd', sample, bins, weights)
    N = _n()
    cs = _concrete_array(sample)
    cb = concrete(bins)
    if not _traced((sample, bins, weights)):
        return np.histogramdd(cs, cb, range=range, density=density, weights=weights)
    _, edges = np.histogramdd(cs, cb, range=range, density=False)
    cs = cs if cs.ndim == 2 else np.atleast_2d(cs).T
    D = cs.shape[1]
    nbin = np.array([len(e) + 1 for e in edges])
    counts = []
    for i in np.arange(D):
        c = np.searchsorted(edges[i], cs[:, i], side="right")
        c[cs[:, i] == edges[i][-1]] -= 1
        counts.append(c)
    xy = np.ravel_multi_index(counts, nbin)
    if weights is None:
        hist = np.bincount(xy, minlength=int(nbin.prod()))
        hist = hist if density else hist.astype(np.float64)
    else:
        hist = bincount(xy, weights=weights, minlength=int(nbin.prod()))
    hist = N["reshape"](hist, tuple(nbin))
    core = (slice(1, -1),) * D
    hist = hist[core]
    # (as NumPy: an array of bins has one entry per dimension; a traced one was taken
    # for every dimension's edges)
    per = list(bins) if isinstance(bins, (list, tuple)) else \
        [bins[i] for i in np.arange(D)] if np.ndim(cb) else [bins] * D
    rngs = list(range) if range is not None else [None] * D
    samp = asarray_like(sample)
    samp = samp if len(shape_of(samp)) == 2 else N["reshape"](samp, (-1, 1))
    edges_out = [_edges_out(b, e, samp[:, i] if isinstance(samp, Tracer) else None, r)
                 for i, (b, e, r) in enumerate(zip(per, edges, rngs))]
    if density:
        s = N["sum"](hist)
        for i in np.arange(D):
            shape = np.ones(D, int)
            shape[i] = nbin[i] - 2
            hist = hist / N["reshape"](N["diff"](edges_out[i]), tuple(shape))
        hist = hist / s
    return hist, edges_out


@numpy_function(np.histogram2d)
def histogram2d(x, y, bins=10, range=None, density=None, weights=None):
    """NumPy's bins; differentiable in ``weights`` (see ``histogramdd``)."""
    _refuse_foreign('histogram2d', x, y, bins, weights)
    try:
        n = len(bins)
    except TypeError:
        n = 1
    if n != 1 and n != 2:
        bins = [bins, bins]
    hist, edges = histogramdd(_n()["stack"]([asarray_like(x), asarray_like(y)], axis=1)
                              if _traced((x, y)) else np.stack([_concrete_array(x),
                                                                _concrete_array(y)], 1),
                              bins, range, density, weights)
    return hist, edges[0], edges[1]


@numpy_function(np.histogram)
def histogram(a, bins=10, range=None, density=None, weights=None):
    """NumPy's bins (on the concrete ``a``); differentiable in ``weights`` and, with
    ``density``, in traced bin edges."""
    _refuse_foreign('histogram', a, bins, weights)
    N = _n()
    ca = _concrete_array(a).ravel()
    cb = concrete(bins)
    if weights is None and not (density and (isinstance(bins, Tracer) or
                                             isinstance(a, Tracer))):
        h, e = np.histogram(ca, cb, range=range, density=density)
        return h, _edges_out(bins, e, N["ravel"](a) if isinstance(a, Tracer) else None,
                             range)
    _, edges = np.histogram(ca, cb, range=range)
    w = None if weights is None else asarray_like(weights)
    # (NumPy compares the shapes, not the sizes: weights (1, n) for an a of (n,) raise)
    if w is not None and shape_of(w) != np.shape(_concrete_array(a)):
        raise ValueError("weights should have the same shape as a.")
    w = None if w is None else N["ravel"](w)
    keep = (ca >= edges[0]) & (ca <= edges[-1])
    idx = np.searchsorted(edges, ca, side="right") - 1
    idx[ca == edges[-1]] = len(edges) - 2
    nb = len(edges) - 1
    if w is None:
        n = np.bincount(idx[keep], minlength=nb).astype(np.float64)
    else:
        n = bincount(idx[keep], weights=w[np.flatnonzero(keep)], minlength=nb)
        if dtype_of(w) != dtype_of(n):      # NumPy counts in the weights' dtype
            n = n.astype(dtype_of(w))
    edges_out = _edges_out(bins, edges, N["ravel"](a) if isinstance(a, Tracer) else None,
                           range)
    if density:
        return n / N["diff"](edges_out) / N["sum"](n), edges_out
    return n, edges_out
