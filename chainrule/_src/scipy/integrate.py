"""chainrule.scipy.integrate: ``odeint`` with SciPy's signature and values, differentiable
in ``y0``, ``t`` and the float arguments in ``args`` (``prims/ode.py``: the tangent
system in forward mode, the adjoint system solved backwards in reverse mode); and the
quadratures of sampled data ``trapezoid``, ``cumulative_trapezoid``, ``simpson`` and
``romb``, SciPy's source (``scipy/integrate/_quadrature.py``) transcribed onto
chainrule.numpy functions: the same NumPy operations in the same order, so the same
values and dtypes, differentiable in ``y``, ``x`` and ``dx``."""
import functools

import numpy as np
import scipy.integrate as si

from ..core import Tracer, shape_of, dtype_of
from ..prims.ode import odeint_p
from ..prims.shape import reshape
from ..numpy.basic import as_inexact, asarray_like
from ..numpy.dispatch import numpy_function, PUBLIC
from ..tree_util import tree_flatten, tree_unflatten, treedef_is_leaf

MODULE = "scipy.integrate"

_UNSUPPORTED = ("col_deriv", "full_output", "ml", "mu", "printmessg")


@functools.lru_cache(maxsize=512)
def _normalised(func, tfirst, n, treedef=None):
    """``func`` as ``(y, t, *args) -> (n,)`` array: lists of traced values stacked,
    SciPy's check of the returned shape. With ``treedef``, ``args`` are the leaves of
    the caller's ``args`` (a tuple of pytrees), rebuilt before ``func`` sees them."""
    def rhs(y, t, *args):
        if treedef is not None:
            args = tree_unflatten(treedef, args)
        out = func(t, y, *args) if tfirst else func(y, t, *args)
        out = as_inexact(asarray_like(out))
        s = shape_of(out)
        if len(s) > 1:
            raise RuntimeError("The array return by func must be one-dimensional, but "
                               f"got ndim={len(s)}.")
        if (s[0] if s else 1) != n:
            raise RuntimeError(f"func returned {s[0] if s else 1} values for a system "
                               f"of size {n}")
        return reshape(out, (n,)) if s != (n,) else out
    return rhs


def _is_container(a):
    """An argument that is a pytree of arrays rather than one array: a list, tuple or
    dict (or registered node) holding anything but Python and NumPy scalars."""
    if isinstance(a, (np.ndarray, np.generic, int, float, complex)) or hasattr(a, "_trace"):
        return False
    leaves, treedef = tree_flatten(a)
    if treedef_is_leaf(treedef):
        return False
    return not all(isinstance(x, (int, float, complex, np.generic)) for x in leaves)


@functools.lru_cache(maxsize=512)
def _normalised_jac(jac, tfirst, treedef=None):
    def dfun(y, t, *args):
        if treedef is not None:
            args = tree_unflatten(treedef, args)
        return jac(t, y, *args) if tfirst else jac(y, t, *args)
    return dfun


@numpy_function(si.odeint, module=MODULE)
def odeint(func, y0, t, args=(), Dfun=None, col_deriv=0, full_output=0, ml=None,
           mu=None, rtol=None, atol=None, tcrit=None, h0=0.0, hmax=0.0, hmin=0.0,
           ixpr=0, mxstep=0, mxhnil=0, mxordn=12, mxords=5, printmessg=0, tfirst=False):
    """Values are SciPy's (one LSODA solve of the system as given). Derivatives in
    ``y0``, ``t`` and every float array or scalar in ``args``, to any order, in forward
    mode (the tangent system [y, v]' = [f, df/dy v + df/dargs dargs]) and in reverse
    mode (the adjoint system [y, a, argsbar]' = [f, -a df/dy, -a df/dargs], solved
    backwards from each output time to the one before, as autograd's and JAX's
    odeint). Those systems are solved with the same ``rtol``, ``atol`` and step
    options (``Dfun`` serves the values' solve only): derivatives carry the solver's
    error, so ask for tight tolerances (``rtol=1e-10, atol=1e-10``) where they
    matter.

    An element of ``args`` may be a pytree of arrays (a list of ``(W, b)`` layers, a
    dict): ``func`` receives it as given, as from SciPy, and each array in it is
    differentiable.

    ``func`` is called with traced values and must use chainrule-aware operations
    (``np.sin`` on a traced value is, ``math.sin`` is not); values it closes over are
    constants for the derivative: a traced value must reach it through ``args``
    (closing over one raises). Under ``vmap`` each example is its own solve.
    ``full_output``, ``col_deriv``, ``ml``/``mu`` and ``printmessg`` are refused
    inside transformations.
    """
    for name, val in zip(_UNSUPPORTED, (col_deriv, full_output, ml, mu, printmessg)):
        if val:
            raise NotImplementedError(f"chainrule.scipy.integrate.odeint: {name}= is not "
                                      "supported inside a transformation")
    if not isinstance(args, tuple):
        args = (args,)
    y0, t = as_inexact(y0), as_inexact(t)
    if dtype_of(y0).kind == "c" or dtype_of(t).kind == "c":
        raise TypeError("Cannot cast array data from dtype('complex128') to "
                        "dtype('float64') according to the rule 'safe'")
    if len(shape_of(y0)) > 1:
        raise ValueError("Initial condition y0 must be one-dimensional.")
    if len(shape_of(t)) != 1:
        t = reshape(t, (-1,)) if len(shape_of(t)) == 0 else t
        if len(shape_of(t)) != 1:
            raise ValueError("t must be one-dimensional")
    if not shape_of(y0):
        y0 = reshape(y0, (1,))
    n = shape_of(y0)[0]
    treedef = None
    if any(_is_container(a) for a in args):
        # parameters as a pytree (autograd's ode_net passes a list of (W, b) layers):
        # func receives them as given, as SciPy's odeint does; the primitive sees leaves
        args, treedef = tree_flatten(args)
    args = tuple(a if isinstance(a, (int, float, np.ndarray, np.generic)) or
                 hasattr(a, "_trace") else asarray_like(a) for a in args)
    options = dict(rtol=rtol, atol=atol, h0=h0, hmax=hmax, hmin=hmin, ixpr=ixpr,
                   mxstep=mxstep, mxhnil=mxhnil, mxordn=mxordn, mxords=mxords)
    if tcrit is not None:
        options["tcrit"] = tuple(np.asarray(tcrit, np.float64).ravel().tolist())
    for k in ("rtol", "atol"):
        v = options[k]
        if v is not None and np.ndim(v):
            options[k] = tuple(np.asarray(v, np.float64).ravel().tolist())
    opts = tuple(sorted((k, v) for k, v in options.items() if v is not None))
    jac = None if Dfun is None else _normalised_jac(Dfun, bool(tfirst), treedef)
    return odeint_p.bind(y0, t, *args, func=_normalised(func, bool(tfirst), n, treedef),
                         options=opts, jac=jac)


# ------------------------------------------------------------------ sampled data
# SciPy's functions convert ``y`` with np.asarray, which no NumPy protocol lets a traced
# value intercept: ``scipy.integrate.trapezoid(tracer)`` raises an error that names
# chainrule.scipy.integrate.trapezoid, the function to call instead. Each body below
# is SciPy 1.17's, line for line, with NumPy's functions replaced by chainrule's.

def _n():
    return PUBLIC["numpy"]


def _tupleset(t, i, value):
    lst = list(t)
    lst[i] = value
    return tuple(lst)


def _ndim(a):
    return len(shape_of(a))


def _safe_divide(num, den):
    """``np.true_divide(num, den, out=np.zeros_like(den), where=den != 0)``: the
    quotient where ``den != 0``, else 0, in ``den``'s dtype; the divisor is replaced
    by 1 where it is 0, so the unused quotient carries no inf/nan into derivatives."""
    N = _n()
    nz = den != 0
    q = N["where"](nz, num / N["where"](nz, den, 1.0), 0.0)
    dt = dtype_of(den)
    return q if dtype_of(q) == dt else N["astype"](q, dt)


def _inplace(result, value, op):
    """``result op= value`` as NumPy runs it: a new object where ``result`` is a
    scalar (SciPy's sums over 1-D data), else written into ``result``: its shape and
    dtype are kept (float32 data stays float32 after adding float64 corrections)."""
    if not isinstance(result, Tracer) and not isinstance(result, np.ndarray):
        return op(result, value)              # a Python float
    if _ndim(result) == 0:
        return op(result, value)
    out = op(result, value)
    if shape_of(out) != shape_of(result):
        raise ValueError(f"non-broadcastable output operand with shape {shape_of(result)} "
                         f"doesn't match the broadcast shape {shape_of(out)}")
    if dtype_of(out) != dtype_of(result):
        if not np.can_cast(dtype_of(out), dtype_of(result), "same_kind"):
            raise TypeError(f"Cannot cast ufunc output from {dtype_of(out)} to "
                            f"{dtype_of(result)} with casting rule 'same_kind'")
        out = _n()["astype"](out, dtype_of(result))
    return out


@numpy_function(si.trapezoid, module=MODULE)
def trapezoid(y, x=None, dx=1.0, axis=-1):
    """SciPy's: differences of ``x`` (broadcast to ``y``'s shape when not 1-D), the
    sum in ``y``'s floating dtype. That sum casts before adding (chainrule.numpy.sum's
    ``dtype=``), where NumPy casts in blocks of 8192 elements: float32 (float16,
    complex64) data with float64 ``x`` or ``dx`` may differ from SciPy's value in its
    last bits beyond 8192 samples along the last axis."""
    N = _n()
    y = asarray_like(y)
    result_dtype = np.result_type(dtype_of(y), 1.0)
    nd = _ndim(y)
    slice1 = [slice(None)] * nd
    slice2 = [slice(None)] * nd
    slice1[axis] = slice(1, None)
    slice2[axis] = slice(None, -1)
    if x is None:
        d = dx
    else:
        x = asarray_like(x)
        if _ndim(x) == 1:
            d = x[1:] - x[:-1]
            slice3 = [None] * nd
            slice3[axis] = slice(None)
            d = d[tuple(slice3)]
        else:
            x = N["broadcast_to"](x, shape_of(y))
            d = x[tuple(slice1)] - x[tuple(slice2)]
    return N["sum"](d * (y[tuple(slice1)] + y[tuple(slice2)]) / 2.0, axis=axis,
                    dtype=result_dtype)


@numpy_function(si.cumulative_trapezoid, module=MODULE)
def cumulative_trapezoid(y, x=None, dx=1.0, axis=-1, initial=None):
    """SciPy's: ``initial`` must be None or the number 0 (a constant)."""
    N = _n()
    y = asarray_like(y)
    if shape_of(y)[axis] == 0:
        raise ValueError("At least one point is required along `axis`.")
    if x is None:
        d = dx
    else:
        x = asarray_like(x)
        if _ndim(x) == 1:
            d = N["diff"](x)
            shape = [1] * _ndim(y)
            shape[axis] = -1
            d = N["reshape"](d, tuple(shape))
        elif _ndim(x) != _ndim(y):
            raise ValueError("If given, shape of x must be 1-D or the same as y.")
        else:
            d = N["diff"](x, axis=axis)
        if shape_of(d)[axis] != shape_of(y)[axis] - 1:
            raise ValueError("If given, length of x along axis must be the same as y.")
    nd = _ndim(y)
    slice1 = _tupleset((slice(None),) * nd, axis, slice(1, None))
    slice2 = _tupleset((slice(None),) * nd, axis, slice(None, -1))
    res = N["cumsum"](d * (y[slice1] + y[slice2]) / 2.0, axis=axis)
    if initial is not None:
        if initial != 0:
            raise ValueError("`initial` must be `None` or `0`.")
        if not np.isscalar(initial):
            raise ValueError("`initial` parameter should be a scalar.")
        shape = list(shape_of(res))
        shape[axis] = 1
        res = N["concatenate"]((np.full(tuple(shape), initial, dtype=dtype_of(res)), res),
                               axis=axis)
    return res


def _basic_simpson(y, start, stop, x, dx, axis):
    N = _n()
    nd = _ndim(y)
    if start is None:
        start = 0
    step = 2
    slice_all = (slice(None),) * nd
    slice0 = _tupleset(slice_all, axis, slice(start, stop, step))
    slice1 = _tupleset(slice_all, axis, slice(start + 1, stop + 1, step))
    slice2 = _tupleset(slice_all, axis, slice(start + 2, stop + 2, step))
    if x is None:
        result = N["sum"](y[slice0] + 4.0 * y[slice1] + y[slice2], axis=axis)
        result = _inplace(result, dx / 3.0, lambda a, b: a * b)
    else:
        h = N["diff"](x, axis=axis)
        sl0 = _tupleset(slice_all, axis, slice(start, stop, step))
        sl1 = _tupleset(slice_all, axis, slice(start + 1, stop + 1, step))
        h0 = N["astype"](h[sl0], np.float64)
        h1 = N["astype"](h[sl1], np.float64)
        hsum = h0 + h1
        hprod = h0 * h1
        h0divh1 = _safe_divide(h0, h1)
        tmp = hsum / 6.0 * (y[slice0] * (2.0 - _safe_divide(1.0, h0divh1)) +
                            y[slice1] * (hsum * _safe_divide(hsum, hprod)) +
                            y[slice2] * (2.0 - h0divh1))
        result = N["sum"](tmp, axis=axis)
    return result


@numpy_function(si.simpson, module=MODULE)
def simpson(y, x=None, *, dx=1.0, axis=-1):
    """SciPy's (>= 1.11 for an even number of samples: Simpson's rule on the first
    N-2 intervals and Cartwright's correction for the last). Where a spacing is 0 the
    quotients SciPy sets to 0 have derivative 0. The value is SciPy's bit for bit,
    except with a traced ``dx`` and an even number of samples: SciPy cubes the
    spacing as a NumPy scalar (C's ``pow``) and chainrule as an array (NumPy's
    vectorised ``power``), which may differ in the last bit."""
    N = _n()
    y = asarray_like(y)
    nd = _ndim(y)
    n = shape_of(y)[axis]
    last_dx = dx
    if x is not None:
        x = asarray_like(x)
        if dtype_of(x).kind == "c":
            raise NotImplementedError("chainrule.scipy.integrate.simpson: complex x is "
                                      "not supported (SciPy discards its imaginary part)")
        if _ndim(x) == 1:
            shapex = [1] * nd
            shapex[axis] = shape_of(x)[0]
            x = N["reshape"](x, tuple(shapex))
        elif _ndim(x) != nd:
            raise ValueError("If given, shape of x must be 1-D or the same as y.")
        if shape_of(x)[axis] != n:
            raise ValueError("If given, length of x along axis must be the same as y.")
    if n % 2 == 0:
        val = 0.0
        result = 0.0
        slice_all = (slice(None),) * nd
        if n == 2:
            slice1 = _tupleset(slice_all, axis, -1)
            slice2 = _tupleset(slice_all, axis, -2)
            if x is not None:
                last_dx = x[slice1] - x[slice2]
            val += 0.5 * last_dx * (y[slice1] + y[slice2])
        else:
            result = _basic_simpson(y, 0, n - 3, x, dx, axis)
            slice1 = _tupleset(slice_all, axis, -1)
            slice2 = _tupleset(slice_all, axis, -2)
            slice3 = _tupleset(slice_all, axis, -3)
            if x is not None:
                hm2 = _tupleset(slice_all, axis, slice(-2, -1, 1))
                hm1 = _tupleset(slice_all, axis, slice(-1, None, 1))
                diffs = N["astype"](N["diff"](x, axis=axis), np.float64)
                h = [N["squeeze"](diffs[hm2], axis=axis), N["squeeze"](diffs[hm1], axis=axis)]
                divide = _safe_divide
            elif isinstance(dx, Tracer):
                h = [N["astype"](dx, np.float64)] * 2
                divide = _safe_divide
            else:                                  # SciPy's own NumPy code
                h = np.asarray([dx, dx], dtype=np.float64)
                def divide(num, den):
                    return np.true_divide(num, den, out=np.zeros_like(den), where=den != 0)
            alpha = divide(2 * h[1] ** 2 + 3 * h[0] * h[1], 6 * (h[1] + h[0]))
            beta = divide(h[1] ** 2 + 3.0 * h[0] * h[1], 6 * h[0])
            eta = divide(1 * h[1] ** 3, 6 * h[0] * (h[0] + h[1]))
            result = _inplace(result, alpha * y[slice1] + beta * y[slice2] - eta * y[slice3],
                              lambda a, b: a + b)
        result = _inplace(result, val, lambda a, b: a + b)
    else:
        result = _basic_simpson(y, 0, n - 2, x, dx, axis)
    return result


@numpy_function(si.romb, module=MODULE)
def romb(y, dx=1.0, axis=-1, show=False):
    """SciPy's Richardson table; ``show=`` (printing it) is refused inside
    transformations."""
    if show:
        raise NotImplementedError("chainrule.scipy.integrate.romb: show= is not "
                                  "supported inside a transformation")
    N = _n()
    y = asarray_like(y)
    nd = _ndim(y)
    nsamps = shape_of(y)[axis]
    ninterv = nsamps - 1
    n = 1
    k = 0
    while n < ninterv:
        n <<= 1
        k += 1
    if n != ninterv:
        raise ValueError("Number of samples must be one plus a non-negative power of 2.")
    R = {}
    slice_all = (slice(None),) * nd
    slice0 = _tupleset(slice_all, axis, 0)
    slicem1 = _tupleset(slice_all, axis, -1)
    h = ninterv * (N["astype"](dx, np.float64) if isinstance(dx, Tracer)
                   else np.asarray(dx, dtype=np.float64))
    R[(0, 0)] = (y[slice0] + y[slicem1]) / 2.0 * h
    slice_R = slice_all
    start = stop = step = ninterv
    for i in range(1, k + 1):
        start >>= 1
        slice_R = _tupleset(slice_R, axis, slice(start, stop, step))
        step >>= 1
        R[(i, 0)] = 0.5 * (R[(i - 1, 0)] + h * N["sum"](y[slice_R], axis=axis))
        for j in range(1, i + 1):
            prev = R[(i, j - 1)]
            R[(i, j)] = prev + (prev - R[(i - 1, j - 1)]) / ((1 << (2 * j)) - 1)
        h = h / 2.0
    return R[(k, k)]
