"""The basic chainrule.numpy functions: array creation from traced values, sum/mean/
max/min, the core shape functions and where (the products are in ``products.py``).

Each function is NumPy's own outside transformations (see ``dispatch.py``); the
bodies below are the traced versions.
"""
import builtins
import operator
import warnings

import numpy as np

from .. import backend
from ..core import (Tracer, shape_of, dtype_of, is_inexact, has_value, value_of,
                   LazyValueError, _LAZY_MSG)
from ..prims import shape as sp
from ..prims import elementwise as ew
from ..prims.reductions import reduce_max_p, reduce_min_p, masked_sum_p
from ..prims.structure import concatenate_p, full_like_p
from . import aliasing
from .dispatch import numpy_function, no_kwargs


def normalize_axis(axis, ndim, name="axis"):
    """A tuple of non-negative axes; raises numpy's AxisError when out of range."""
    if axis is None:
        return tuple(range(ndim))
    if type(axis) is int and -ndim <= axis < ndim:      # the common case
        return (axis % ndim,)
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    out = []
    for a in axes:
        a = operator.index(a)       # NumPy: a float axis is a TypeError
        if not -ndim <= a < builtins.max(ndim, 1) or (ndim == 0 and a not in (0, -1)):
            raise np.exceptions.AxisError(a, ndim)
        out.append(a % ndim if ndim else 0)
    if len(set(out)) != len(out):
        raise ValueError("duplicate value in 'axis'")
    return tuple(out)


def single_axis(axis, ndim, name="axis"):
    """The one non-negative axis of a function that takes exactly one (``cumsum``,
    ``argmax``, ``concatenate``, ...): a tuple or list is NumPy's TypeError."""
    (a,) = normalize_axis(operator.index(axis), ndim, name)
    return a


def asarray_like(x):
    """An array_like argument as an array: tracers as they are, lists and tuples that hold
    traced values stacked (NumPy's shape and dtype, derivatives to every element),
    anything else as an ndarray."""
    if isinstance(x, Tracer):
        return x
    if isinstance(x, (list, tuple)) and _has_tracer(x):
        return array(x)
    if backend.is_foreign(x):           # a Dask or CuPy array stays on its backend
        return x
    return np.asarray(x)


def _has_tracer(obj):
    if isinstance(obj, Tracer):
        return True
    if isinstance(obj, (list, tuple)):
        return any(_has_tracer(o) for o in obj)
    return False


# ---------------------------------------------------------------- array creation

@numpy_function(np.array, view="identity")
def array(object, dtype=None, *, copy=True, order="K", subok=False, ndmin=0, like=None):
    """Builds arrays from nested lists that may contain traced values (stacks them)."""
    if isinstance(object, Tracer):
        out = object
        if not copy and order in ("C", "F", "c", "f") and shape_of(out):
            # NumPy copies (into that order) where the array is not laid out so already:
            # np.asarray(x, order="F") of a C array is a new F array, not x
            v = aliasing.numpy_layout(out)
            if not (v.flags.c_contiguous if order in "Cc" else v.flags.f_contiguous):
                if copy is False:
                    raise ValueError("Unable to avoid copy while creating an array as "
                                     "requested.")
                copy = True
        if copy and (dtype is None or np.dtype(dtype) == out.dtype):
            out = sp.copy_p.bind(out, order=order)
    elif isinstance(object, (list, tuple)) and _has_tracer(object):
        out = stack([array(o, copy=None) for o in object])
    elif backend.is_foreign(object) and not ndmin:
        # inside a transformation a Dask or CuPy array stays on its backend (NumPy
        # would compute it, or copy it off the GPU)
        out = backend.copy(object) if copy else object
        if dtype is not None and np.dtype(dtype) != out.dtype:
            out = backend.astype(out, dtype)
        return out
    else:
        return np.array(object, dtype=dtype, copy=copy, order=order, ndmin=ndmin)
    if dtype is not None and np.dtype(dtype) != out.dtype:
        out = astype(out, dtype)
    if ndmin > out.ndim:
        out = reshape(out, (1,) * (ndmin - out.ndim) + out.shape)
    return out


@numpy_function(np.asarray, view="identity")
def asarray(a, dtype=None, order=None, *, like=None, copy=None):
    # (copy None: a copy only where needed, a dtype or an order="C"/"F" the array lacks)
    return array(a, dtype=dtype, copy=copy, order="K" if order is None else order)


@numpy_function(np.asanyarray, view="identity")
def asanyarray(a, dtype=None, order=None, *, like=None):
    return array(a, dtype=dtype, copy=None, order="K" if order is None else order)


def _layout_function(np_fn, order):
    """``np.ascontiguousarray`` / ``np.asfortranarray``: ``a`` itself where NumPy's
    would be (laid out in ``order`` already: NumPy's own function asked on ``a``'s
    layout, ``aliasing.numpy_layout``), else a copy laid out in ``order``; a 0-d
    ``a`` a view of shape (1,)."""
    def fn(a, dtype=None, *, like=None):
        a = asarray_like(a)
        out = a if dtype is None else astype(a, np.dtype(dtype))
        if not shape_of(out):
            return aliasing.as_user(reshape, out, (1,))
        if out is not a:                        # a converted copy, laid out in order
            return aliasing.fresh_layout(out, order)
        v = aliasing.numpy_layout(a)
        if type(v) is np.ndarray and np_fn(v) is v:
            return a
        return aliasing.copy_of(a, order)
    fn.__name__ = np_fn.__name__
    fn.__doc__ = ("``a`` itself where NumPy returns it (already laid out in "
                  f"{order!r} order), else a copy laid out as NumPy's.")
    return numpy_function(np_fn, view="identity")(fn)


ascontiguousarray = _layout_function(np.ascontiguousarray, "C")
asfortranarray = _layout_function(np.asfortranarray, "F")

_REQUIRE_FLAGS = {"C": "C", "C_CONTIGUOUS": "C", "CONTIGUOUS": "C", "F": "F",
                  "F_CONTIGUOUS": "F", "FORTRAN": "F", "A": "A", "ALIGNED": "A",
                  "W": "W", "WRITEABLE": "W", "O": "O", "OWNDATA": "O", "E": "E",
                  "ENSUREARRAY": "E"}


@numpy_function(np.require, view="identity")
def require(a, dtype=None, requirements=None, *, like=None):
    """NumPy's: ``a`` itself where it meets the requirements (its layout from
    ``aliasing.numpy_layout``; 'W' false for a read-only traced view such as
    ``broadcast_to``'s, 'O' false for any traced view), else a copy."""
    if not requirements:
        return asanyarray(a, dtype=dtype)
    req = {_REQUIRE_FLAGS[x.upper()] for x in requirements}
    req.discard("E")
    if req >= {"C", "F"}:
        raise ValueError('Cannot specify both "C" and "F" order')
    order = "C" if "C" in req else "F" if "F" in req else "A"
    req.discard(order)
    a = asarray_like(a)
    arr = a
    if dtype is not None and np.dtype(dtype) != dtype_of(a):
        arr = astype(a, np.dtype(dtype))
        if order != "A":
            arr = aliasing.fresh_layout(arr, order)
    elif order != "A":
        arr = (ascontiguousarray if order == "C" else asfortranarray).traced(a) \
            if shape_of(a) else a
    info = getattr(arr, "_alias", None)
    for prop in req:
        if prop == "A":
            continue
        if prop == "W":
            ok = info is None or info.writeable is True
        elif prop == "O":
            ok = not isinstance(arr, Tracer) or type(info) is not aliasing.View
        else:
            v = aliasing.numpy_layout(arr)
            ok = type(v) is np.ndarray and (v.flags.c_contiguous if prop == "C" else
                                            v.flags.f_contiguous)
        if not ok:
            return aliasing.copy_of(arr, order)
    return arr


def astype(x, dtype):
    dtype = np.dtype(dtype)
    if dtype_of(x) == dtype:
        return x
    return sp.convert_element_type_p.bind(x, dtype=dtype)


def as_inexact(x):
    """``x`` as an array, converted to float64 unless already floating or complex."""
    x = asarray_like(x)
    return x if is_inexact(x) else astype(x, np.float64)


def _traced_like(a, fill, dtype, order, shape):
    """``np.full_like(a, fill, dtype, order)`` as a traced value of ``a``'s
    transformations (``prims.structure.FullLike``: derivative zero) when ``a`` is traced
    and the result is floating or complex: a buffer that traced values can be written
    into, as into NumPy's. None otherwise (NumPy's plain array is the answer)."""
    dtype = dtype_of(a) if dtype is None else np.dtype(dtype)
    if not isinstance(a, Tracer) or dtype.kind not in "fc" or shape is not None or \
            isinstance(fill, Tracer) or np.ndim(fill) != 0:
        return None
    fill = np.array(fill).astype(dtype).item()      # NumPy's cast of the fill value
    return full_like_p.bind(a, fill=fill, dtype=dtype, order=order)


def _like_layout(a, *args, order="K", **kwargs):
    return order if order in ("C", "F") else (order, aliasing.numpy_layout(a))


for _like, _fill in ((np.zeros_like, 0), (np.ones_like, 1), (np.empty_like, 0)):
    def _make_like(np_fn, fill):
        @numpy_function(np_fn, name=np_fn.__name__,
                        layout=lambda a, dtype=None, order="K", *r, **k: _like_layout(a, order=order))
        def like(a, dtype=None, order="K", subok=True, shape=None, **kwargs):
            """Of a traced floating or complex array: a traced buffer (derivative zero)
            that traced values can be written into, as into NumPy's
            (``out = np.zeros_like(x); out[1:] = f(x)``); otherwise NumPy's own array,
            laid out as NumPy's (order="K": as ``a``)."""
            out = _traced_like(a, fill, dtype, order, shape) if not kwargs else None
            if out is None:
                return np_fn(aliasing.numpy_layout(a), dtype, order, subok, shape, **kwargs)
            return out
        return like
    _make_like(_like, _fill)


@numpy_function(np.full_like, layout=lambda a, fill_value, dtype=None, order="K", *r, **k:
                _like_layout(a, order=order))
def full_like(a, fill_value, dtype=None, order="K", subok=True, shape=None, *,
              device=None):
    """Differentiable in ``fill_value`` (the result is ``fill_value`` broadcast); of a
    traced floating or complex ``a`` with a constant scalar fill, a traced buffer (as
    ``zeros_like``)."""
    out = _traced_like(a, fill_value, dtype, order, shape)
    if out is not None:
        return out
    shape = shape_of(a) if shape is None else shape
    dtype = dtype_of(a) if dtype is None else np.dtype(dtype)
    if not isinstance(fill_value, Tracer):
        return np.full_like(aliasing.numpy_layout(a), fill_value, dtype, order, shape=shape)
    return broadcast_to(astype(fill_value, dtype), shape)


@numpy_function(np.copy)
def copy(a, order="K", subok=False):
    return a


@numpy_function(np.shape)
def shape(a):
    return shape_of(a)


@numpy_function(np.ndim)
def ndim(a):
    return len(shape_of(a))


@numpy_function(np.size)
def size(a, axis=None):
    s = shape_of(a)
    if axis is not None:
        return s[axis]
    n = 1
    for d in s:
        n *= d
    return n


for _from in (np.diag_indices_from, np.tril_indices_from, np.triu_indices_from):
    def _make_from(np_fn):
        @numpy_function(np_fn, name=np_fn.__name__)
        def indices_from(arr, *args, **kwargs):
            """Integer indices from ``arr``'s shape alone: NumPy's function on a
            stand-in of that shape (its checks and errors included)."""
            return np_fn(np.broadcast_to(np.False_, shape_of(arr)), *args, **kwargs)
        return indices_from
    _make_from(_from)


@numpy_function(np.result_type)
def result_type(*arrays_and_dtypes):
    return np.result_type(*[dtype_of(a) if isinstance(a, Tracer) else a
                            for a in arrays_and_dtypes])


@numpy_function(np.iscomplexobj)
def iscomplexobj(x):
    return dtype_of(x).kind == "c"


@numpy_function(np.isrealobj)
def isrealobj(x):
    return dtype_of(x).kind != "c"


# ---------------------------------------------------------------- reductions

def _reduce_args(fn_name, a, axis, dtype, out, keepdims, where=True, initial=None):
    if out is None and initial is None and where is True and dtype is None and \
            isinstance(a, Tracer):                      # the common case
        return a, normalize_axis(axis, len(a.shape))
    no_kwargs(fn_name, out=out, initial=initial, where=None if where is True else where)
    a = asarray_like(a)
    if dtype is not None:
        a = astype(a, dtype)
    return a, normalize_axis(axis, len(shape_of(a)))


def _fast_axes(a, axis, keepdims):
    """The fast paths' axes (``normalize_axis``'s) for ``axis`` and a bool ``keepdims``,
    or None to decline: other ``keepdims`` values (NumPy's bools and ints reach the
    primitive's parameters as they are on the full path), axes other than None, an int
    in range or a tuple, and a reduction over no axis without keepdims (the full path
    returns a copy, or ``a`` itself)."""
    if keepdims is not False and keepdims is not True:
        return None
    if axis is None:
        axes = tuple(range(len(a.shape)))
    elif type(axis) is int:
        ndim = len(a.shape)
        if not -ndim <= axis < ndim:
            return None
        axes = (axis % ndim,)
    elif type(axis) is tuple:
        axes = normalize_axis(axis, len(a.shape))
    else:
        return None
    if not axes and not keepdims:
        return None
    return axes


def _sum_fast(trace, a, axis, keepdims):
    """``sum(a, axis, keepdims=)`` of a floating or complex tracer (dispatch.py's
    ``fast``): the full path's reduce_sum; declines integers and bools (NumPy's widened
    dtype, or a concrete sum)."""
    if a.dtype.kind not in "fc":
        return None
    axes = _fast_axes(a, axis, keepdims)
    if axes is None:
        return None
    return trace.process(sp.reduce_sum_p, (a,), {"axis": axes, "keepdims": keepdims})


def where_mask(fn_name, a, axes, where):
    """NumPy's ``where=`` of a reduction of ``a`` over ``axes``: None for ``True``, else
    a boolean mask (an ndarray or a traced value) of ``a``'s shape; NumPy's errors for a
    mask that is not boolean or does not broadcast to ``a``'s shape."""
    if where is True:
        return None
    if where is None and fn_name in ("mean", "var", "std"):
        # (NumPy counts the mask first: int(None); sum, prod, max take None as False)
        raise TypeError("int() argument must be a string, a bytes-like object or a real "
                        "number, not 'NoneType'")
    shape = tuple(shape_of(a))
    traced = isinstance(where, Tracer)
    m = where if traced else np.asarray(where)
    if dtype_of(m) != np.bool_ or not _broadcasts(m, shape):
        # NumPy's own error (or its cast of a Python scalar such as 1.0), on
        # stand-ins of a's shape and dtype (a view of one zero); mean, var and std
        # count the mask's entries first (np.broadcast_to's error)
        w = np.broadcast_to(np.zeros((), dtype_of(m)), shape_of(m)) if traced else where
        if fn_name in ("mean", "var", "std"):
            np.broadcast_to(w, shape)
        np.add.reduce(np.broadcast_to(np.zeros((), dtype_of(a)), shape), axis=axes, where=w)
        if traced:
            raise NotImplementedError(
                f"chainrule.numpy.{fn_name}: a traced where= of dtype {dtype_of(m)} (not "
                "bool) is not supported inside a transformation")
        m = m.astype(bool)
    if tuple(shape_of(m)) == shape:
        return m
    return sp.broadcast_to(m, shape) if traced else np.broadcast_to(m, shape)


def _broadcasts(m, shape):
    """Whether ``m`` broadcasts to ``shape`` (without growing it)."""
    try:
        return np.broadcast_shapes(shape_of(m), shape) == shape
    except ValueError:
        return False


def masked_sum(a, axes, keepdims, initial, mask):
    """``np.sum(a, axes, keepdims=, initial=, where=mask)`` for a reduction dtype
    ``a`` (int64 for bools and smaller integers, as NumPy's sum), through NumPy's own
    masked reduction (``masked_sum``: its order of additions). ``initial`` converted
    to a's dtype as NumPy converts it (a traced one is refused)."""
    dt = dtype_of(a)
    if initial is not None:
        if isinstance(initial, Tracer):
            raise NotImplementedError(
                "chainrule.numpy.sum: a traced initial= is not supported inside a "
                "transformation (add it to the sum: NumPy rounds initial + sum once)")
        initial = np.add.reduce(np.empty(0, dt), initial=initial).item()
    if mask is None:
        mask = np.broadcast_to(np.True_, shape_of(a))
    return masked_sum_p.bind(a, mask, axis=axes, keepdims=keepdims, initial=initial)


def count_where(mask, axes, keepdims):
    """NumPy's count of the True entries of ``mask`` over ``axes`` (a float64 array,
    traced where the mask is)."""
    if isinstance(mask, Tracer):
        return sp.reduce_sum(astype(mask, np.float64), axes, keepdims) \
            if (axes or keepdims) else astype(mask, np.float64)
    return np.add.reduce(mask, axis=axes, dtype=np.intp, keepdims=keepdims).astype(
        np.float64)


def staged_count(mask, count, axes, keepdims, like):
    """``count`` (from :func:`count_where`) as a value of ``like``'s transformations
    where the mask is a constant and ``like`` is traced: the masked sum of ones shaped
    like ``like``, so that jit's compiled program counts the mask it reads on every call
    (a mask written in place between calls), not the count it had when traced."""
    if isinstance(mask, Tracer) or not isinstance(like, Tracer):
        return count
    ones = full_like_p.bind(like, fill=1.0, dtype=np.dtype(np.float64), order="C")
    return masked_sum_p.bind(ones, mask, axis=axes, keepdims=keepdims, initial=None)


def any_zero_count(count, ddof=0):
    """Whether a concrete count (from :func:`count_where`) is at most ``ddof``
    somewhere (False when it is traced)."""
    return not isinstance(count, Tracer) and bool(np.any(count <= ddof))


@numpy_function(np.sum, fast=_sum_fast)
def sum(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=True):
    """``where=`` and ``initial=``: NumPy's masked sum (its order of additions); the
    derivative is 0 where the mask is False."""
    a, axis = _reduce_args("sum", a, axis, dtype, out, keepdims)
    mask = where_mask("sum", a, axis, where)
    if mask is not None or initial is not None:
        if a.dtype.kind in "biu" and dtype is None:
            a = astype(a, np.sum(np.zeros(1, a.dtype)).dtype)
        return reduced_dtype(masked_sum(a, axis, keepdims, initial, mask), dtype)
    if a.dtype.kind in "biu" and dtype is None:
        if not isinstance(a, Tracer):
            return np.sum(a, axis=axis, keepdims=keepdims)
        # a traced sum in NumPy's result dtype (bool -> int): under jit a staged
        # count, not a value read while tracing (a guard that re-traced on each count)
        a = astype(a, np.sum(np.zeros(1, a.dtype)).dtype)
    if axis or keepdims:
        out_ = sp.reduce_sum(a, axis, keepdims)
    else:       # over no axes: NumPy adds to its identity 0 (-0.0 becomes 0.0)
        out_ = a + 0.0 if dtype_of(a).kind in "fc" else a
    return reduced_dtype(out_, dtype)


def reduced_dtype(out_, dtype):
    """A sum's or product's result in NumPy's dtype for an explicit ``dtype=``: the
    primitives reduce small integers and bools in (u)int64, as NumPy does without
    ``dtype=`` (np.add.reduce and np.sum alike); wrapping arithmetic makes the
    narrowed result NumPy's own (sums and products modulo 2**bits, any() / all() for
    bool)."""
    return out_ if dtype is None else astype(out_, dtype)


def clip_mode(ind, n, mode):
    """Concrete indices ``ind`` (a NumPy array) into ``n`` items under NumPy's ``mode``
    (``np.choose``, ``np.put``): 'wrap' and 'clip' map them into range, 'raise' leaves
    them as they are (the caller checks them, with its function's error)."""
    if mode == "wrap":
        return ind % n
    if mode == "clip":
        return np.clip(ind, 0, n - 1)
    if mode != "raise":
        raise ValueError(f"clipmode must be one of 'clip', 'raise', or 'wrap' (got {mode!r})")
    return ind


def lazy_value_error(x):
    """Raise :class:`LazyValueError` where ``x`` stands for a lazy (Dask) value that a
    function must read (before the vmap message a value-reading function would give:
    no example is involved)."""
    if backend.is_lazy(value_of(x)):
        raise LazyValueError(_LAZY_MSG.format(shape=shape_of(x)))


def concrete(x):
    """The value of ``x`` where chainrule needs it to decide something (an axis, a
    shape, a branch): a tracer's concrete value (under jit through a guard; under vmap
    a ConcretizationError), lists and tuples elementwise, anything else as it is."""
    if isinstance(x, Tracer):
        return x._concrete()
    if isinstance(x, (list, tuple)):
        return type(x)(concrete(v) for v in x)
    return x


_F16, _F32, _C64 = np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.complex64)
_F64, _C128 = np.dtype(np.float64), np.dtype(np.complex128)
# the largest count each narrow dtype holds exactly (float32 and complex64 share it)
_EXACT_COUNT = {_F16: 2 ** 11, _F32: 2 ** 24}


def divide_count(s, count, most):
    """NumPy's division of a sum ``s`` (floating or complex) by an element count
    (``true_divide(s, count, out=s, casting='unsafe')``), in ``s``'s dtype.

    ``count`` is a Python number or a float64 array (maybe traced) of counts of at most
    ``most``. NumPy divides by the intp count in float64 (complex128) and rounds back;
    float16 and float32 dividing by a count they hold exactly give that same correctly
    rounded quotient; complex64 does not (NumPy's complex division by a real count
    multiplies by its reciprocal, at double precision there), so it divides wide."""
    dt = dtype_of(s)
    if dt.itemsize >= 8 and dt != _C64:
        return s / count
    if most <= _EXACT_COUNT.get(dt, 0):
        return s / (count if type(count) in (int, float) else astype(count, dt))
    wide = np.complex128 if dt.kind == "c" else np.float64
    return astype(astype(s, wide) / count, dt)


def _mean_fast(trace, a, axis, keepdims):
    """``mean(a, axis, keepdims=)`` of a float64, complex128 or float32 tracer (dispatch.py's
    ``fast``): the full path's reduce_sum and division by the count; declines other
    dtypes (NumPy's casts), empty reductions and float32 counts above 2**24."""
    dt = a.dtype
    if dt is not _F64 and dt is not _C128 and dt is not _F32:
        return None
    axes = _fast_axes(a, axis, keepdims)
    if axes is None:
        return None
    shape = a.shape
    n = 1
    for i in axes:
        n *= shape[i]
    if not n or (dt is _F32 and n > 16777216):
        return None
    return trace.process(sp.reduce_sum_p, (a,), {"axis": axes, "keepdims": keepdims}) / n


@numpy_function(np.mean, fast=_mean_fast)
def mean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=True):
    """NumPy's arithmetic: bools and integers in float64, float16 accumulated in
    float32 (and rounded back), an integer ``dtype=`` truncates the quotient."""
    a, axes = _reduce_args("mean", a, axis, None, out, keepdims)
    mask = where_mask("mean", a, axes, where)
    dt = dtype_of(a)
    if dtype is not None:
        res = acc = np.dtype(dtype)
    elif dt.kind in "biu":
        res = acc = np.dtype(np.float64)
    else:
        res, acc = dt, (_F32 if dt == _F16 else dt)
    if acc is not dt:
        a = astype(a, acc)
    n = 1
    for i in axes:
        n *= shape_of(a)[i]
    if mask is not None:
        # NumPy's: the masked sum divided by the count of the mask (an array)
        count = count_where(mask, axes, keepdims)
        if any_zero_count(count):
            warnings.warn("Mean of empty slice", RuntimeWarning, stacklevel=2)
        count = staged_count(mask, count, axes, keepdims, a)
        s = masked_sum_p.bind(a, mask, axis=axes, keepdims=keepdims, initial=None)
        if acc.kind not in "fc":
            return astype(astype(astype(s, acc), np.float64) / count, acc)
        # (NumPy divides into the sum's own memory: its layout, not the count's)
        m = aliasing.fresh_layout(divide_count(s, count, n), "K", s)
        return m if res is acc else astype(m, res)
    s = sp.reduce_sum(a, axes, keepdims) if (axes or keepdims) else a
    if acc.kind not in "fc":
        # NumPy sums in the integer (or bool) dtype, divides in float64 and casts
        # back: the wrapped sum, then the quotient truncated
        return astype(astype(astype(s, acc), np.float64) / n if n else
                      astype(s, np.float64) * np.nan, acc)
    if not n:
        m = s * np.nan
    elif acc is _F64 or acc is _C128:       # (the common case: one division, no casts)
        m = s / n
    else:
        m = divide_count(s, n, n)
    return m if res is acc else astype(m, res)


_FILL = {"max": (-np.inf, "min", False), "min": (np.inf, "max", True)}


def _extremum(prim, name):
    ufunc = np.maximum if prim is reduce_max_p else np.minimum
    inf, bound, boolean = _FILL["max" if prim is reduce_max_p else "min"]

    def fn(a, axis=None, out=None, keepdims=False, initial=None, where=True):
        """``where=`` (NumPy: with ``initial``) and ``initial=``: the extremum of the
        unmasked entries and ``initial`` (``maximum(max(a), initial)``), with the
        derivative 0 where the mask is False (and none to ``initial``)."""
        a, axes = _reduce_args(name, a, axis, None, out, keepdims)
        mask = where_mask(name, a, axes, where)
        shape = shape_of(a)
        if initial is not None:
            return _extremum_initial(a, axes, keepdims, initial, mask)
        if mask is not None:
            raise ValueError(f"reduction operation '{ufunc.__name__}' does not have an "
                             "identity, so to use a where mask one has to specify "
                             "'initial'")
        if 0 in shape and builtins.any(shape[i] == 0 for i in axes):
            raise ValueError(f"zero-size array to reduction operation {name} "
                             "which has no identity")
        if not axes and not keepdims:
            return a
        return prim.bind(a, axis=axes, keepdims=keepdims)

    def _extremum_initial(a, axes, keepdims, initial, mask):
        if isinstance(initial, Tracer):
            raise NotImplementedError(
                f"chainrule.numpy.{name}: a traced initial= is not supported inside a "
                f"transformation (use np.{ufunc.__name__}(np.{name}(a), initial))")
        dt = dtype_of(a)
        c = ufunc.reduce(np.empty(0, dt), initial=initial)     # NumPy's conversion
        shape = shape_of(a)
        if builtins.any(shape[i] == 0 for i in axes):          # nothing but initial
            out_shape = sp.kept_shape(shape, axes) if keepdims else \
                tuple(d for i, d in enumerate(shape) if i not in axes)
            return np.full(out_shape, c, dt)
        if mask is not None:
            # the masked entries out of the way: the dtype's bound (the reduction's
            # derivative then goes to no masked entry), initial itself for complex
            if dt.kind == "f":
                fill = dt.type(inf)
            elif dt.kind in "iu":
                fill = getattr(np.iinfo(dt), bound)
            elif dt.kind == "b":
                fill = boolean
            else:
                fill = c
            a = ew.select_p.bind(mask, a, np.asarray(fill, dt))
        r = prim.bind(a, axis=axes, keepdims=keepdims) if (axes or keepdims) else a
        return ew.PRIMS[ufunc.__name__].bind(r, c)
    fn.__name__ = name
    return fn


def _extremum_fast(prim):
    def fast(trace, a, axis, keepdims):
        """``max``/``min(a, axis, keepdims=)`` of a tracer (dispatch.py's ``fast``):
        the full path's primitive; declines zero-size arrays (the full path's error)."""
        if 0 in a.shape:
            return None
        axes = _fast_axes(a, axis, keepdims)
        if axes is None:
            return None
        return trace.process(prim, (a,), {"axis": axes, "keepdims": keepdims})
    return fast


_max_fast, _min_fast = _extremum_fast(reduce_max_p), _extremum_fast(reduce_min_p)
max = numpy_function(np.max, name="max", fast=_max_fast)(_extremum(reduce_max_p, "max"))
min = numpy_function(np.min, name="min", fast=_min_fast)(_extremum(reduce_min_p, "min"))
amax = numpy_function(np.amax, name="amax", fast=_max_fast)(_extremum(reduce_max_p, "amax"))
amin = numpy_function(np.amin, name="amin", fast=_min_fast)(_extremum(reduce_min_p, "amin"))


# ---------------------------------------------------------------- shape functions

def _layout_order(a, order, fname):
    """'C' or 'F' for NumPy's ``order`` argument. 'A' and 'K' follow the array's memory
    layout, which a traced value does not carry into compiled programs: they are taken
    where C and F order agree (at most one axis longer than 1) and refused otherwise."""
    if order is None:
        order = "C"
    if order in ("C", "F", "c", "f"):
        return order.upper()
    if order in ("A", "K", "a", "k"):
        if builtins.sum(1 for d in shape_of(a) if d != 1) <= 1:
            return "C"
        raise NotImplementedError(
            f"chainrule.numpy.{fname}: order={order!r} depends on the array's memory "
            "layout, which is not known inside a transformation; use order='C' or 'F'")
    raise ValueError(f"order must be one of 'C', 'F', 'A', or 'K' (got {order!r})")


@numpy_function(np.reshape, view="maybe")
def reshape(a, /, shape=None, order="C", *, newshape=None, copy=None):
    """``order='F'`` reshapes in Fortran order (a transpose, a C-order reshape, a
    transpose); ``order='A'`` only where C and F order agree."""
    a = asarray_like(a)
    if order in ("K", "k"):
        raise ValueError("order 'K' is not permitted for reshaping")
    order = _layout_order(a, order, "reshape")
    shape = newshape if shape is None else shape
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    # resolve -1 and validate exactly as NumPy does
    shape = np.empty(shape_of(a), dtype=np.bool_).reshape(shape).shape
    if order == "F":
        nd = len(shape_of(a))
        if nd > 1:
            a = sp.transpose(a, tuple(range(nd))[::-1])
        out = sp.reshape(a, shape[::-1])
        return sp.transpose(out, tuple(range(len(shape)))[::-1]) if len(shape) > 1 else out
    return sp.reshape(a, shape)


@numpy_function(np.ravel, view="maybe")
def ravel(a, order="C"):
    """``order='F'`` reads in Fortran order; 'A' and 'K' only where C and F order
    agree."""
    a = asarray_like(a)
    return reshape(a, (-1,), order=_layout_order(a, order, "ravel"))


@numpy_function(np.transpose, view="always")
def transpose(a, axes=None):
    a = asarray_like(a)
    nd = len(shape_of(a))
    if axes is None:
        axes = tuple(range(nd))[::-1]
    else:
        # (NumPy's AxisError out of range: ``int(x) % nd`` took axis 5 of a matrix for 1)
        axes = normalize_axis(tuple(axes), nd, "axes")
        if sorted(axes) != list(range(nd)):
            raise ValueError("axes don't match array")
    return sp.transpose(a, axes)


@numpy_function(np.moveaxis, view="always")
def moveaxis(a, source, destination):
    a = asarray_like(a)
    nd = len(shape_of(a))
    src = normalize_axis(source, nd, "source")
    dst = normalize_axis(destination, nd, "destination")
    if len(src) != len(dst):
        raise ValueError("`source` and `destination` arguments must have the same "
                         "number of elements")
    order = [n for n in range(nd) if n not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return sp.transpose(a, order)


@numpy_function(np.swapaxes, view="always")
def swapaxes(a, axis1, axis2):
    a = asarray_like(a)
    nd = len(shape_of(a))
    i, j = single_axis(axis1, nd), single_axis(axis2, nd)
    axes = list(range(nd))
    axes[i], axes[j] = axes[j], axes[i]
    return sp.transpose(a, axes)


@numpy_function(np.broadcast_to, view="readonly")
def broadcast_to(array, shape, subok=False):
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    np.broadcast_shapes(shape_of(array), shape)   # NumPy's error for bad shapes
    if len(shape) < len(shape_of(array)):
        raise ValueError("input operand has more dimensions than allowed by the axis "
                         "remapping")
    return sp.broadcast_to(asarray_like(array), shape)


@numpy_function(np.expand_dims, view="always")
def expand_dims(a, axis):
    if axis is None:        # (normalize_axis reads None as every axis)
        raise TypeError("'NoneType' object cannot be interpreted as an integer")
    a = asarray_like(a)
    s = shape_of(a)
    axes = normalize_axis(axis, len(s) + (len(axis) if isinstance(axis, (tuple, list))
                                          else 1))
    new = list(s)
    for ax in sorted(axes):
        new.insert(ax, 1)
    return sp.reshape(a, tuple(new))


@numpy_function(np.squeeze, view="always")
def squeeze(a, axis=None):
    a = asarray_like(a)
    s = shape_of(a)
    if axis is None:
        axes = tuple(i for i, d in enumerate(s) if d == 1)
    else:
        axes = normalize_axis(axis, len(s))
        if any(s[i] != 1 for i in axes):
            raise ValueError("cannot select an axis to squeeze out which has size not "
                             "equal to one")
    return sp.reshape(a, tuple(d for i, d in enumerate(s) if i not in axes))


@numpy_function(np.concatenate)
def concatenate(arrays, axis=0, out=None, dtype=None, casting="same_kind"):
    no_kwargs("concatenate", out=out)
    arrays = [asarray_like(a) for a in arrays]
    if axis is None:
        arrays = [ravel(a) for a in arrays]
        axis = 0
    if not arrays:
        raise ValueError("need at least one array to concatenate")
    nd = len(shape_of(arrays[0]))
    if nd == 0:
        raise ValueError("zero-dimensional arrays cannot be concatenated")
    axis = single_axis(axis, nd)
    np.concatenate([np.empty(shape_of(a), bool) for a in arrays], axis)   # shape errors
    target = np.result_type(*[dtype_of(a) for a in arrays]) if dtype is None else \
        np.dtype(dtype)
    for a in arrays:                         # NumPy's casting errors (casting=)
        if not np.can_cast(dtype_of(a), target, casting):
            raise TypeError(f"Cannot cast array data from {dtype_of(a)!r} to {target!r} "
                            f"according to the rule {casting!r}")
    if dtype is not None:
        arrays = [astype(a, dtype) for a in arrays]
    return concatenate_p.bind(*arrays, axis=axis)


@numpy_function(np.stack)
def stack(arrays, axis=0, out=None, *, dtype=None, casting="same_kind"):
    no_kwargs("stack", out=out)
    arrays = [asarray_like(a) for a in arrays]
    if not arrays:
        raise ValueError("need at least one array to stack")
    shapes = {shape_of(a) for a in arrays}
    if len(shapes) != 1:
        raise ValueError("all input arrays must have the same shape")
    nd = len(shape_of(arrays[0])) + 1
    axis = single_axis(axis, nd)
    return concatenate([expand_dims(a, axis) for a in arrays], axis=axis, dtype=dtype,
                       casting=casting)


# ---------------------------------------------------------------- where

@numpy_function(np.where)
def where(condition, x=None, y=None, /):
    """Differentiable in ``x`` and ``y``; the unselected branch receives exactly zero
    derivative even where it is inf or nan (so ``where(x > 0, sqrt(x), 0)`` has
    derivative 0 at 0)."""
    if x is None and y is None:
        return np.where(concrete(condition))
    if x is None or y is None:
        raise ValueError("either both or neither of x and y should be given")
    return ew.select_p.bind(*[asarray_like(a) if type(a) in (list, tuple) else a
                              for a in (condition, x, y)])
