"""Reductions and order statistics of chainrule.numpy: prod, var/std, ptp, average,
cumulative sums and products, median/quantile, the nan-ignoring family, clip, sort,
unique, round, diff, trace, cross and kron.

Primitives: ``reduce_prod`` and ``cumprod`` (zero-safe derivatives), ``cumsum``,
``round``, ``argsort`` and ``permute``; the rest are compositions. Order statistics
(sort, median, quantile) gather through the ``argsort`` primitive (which batches), so
derivatives flow to the picked elements; a tie sends the derivative to one of the
equal elements.

Every function calls NumPy itself when none of its arguments is traced.
"""
import builtins
import functools
import operator
import warnings

import numpy as np

from ..core import Tracer, shape_of, dtype_of, has_value, value_of
from ..prims import shape as sp
from ..prims import elementwise as ew
from ..prims.reductions import (reduce_prod_p, cumsum_p, cumprod_p, argmax_p, argmin_p,
                                masked_sum_p, masked_prod_p, cummax_p, cummin_p,
                                logaddexp_reduce_p, logaddexp_accumulate_p, add_reduceat_p)
from ..prims.structure import round_p
from ..prims.indexing import argsort_p, permute_p
from ..prims.selection import argpartition_p, partition_index_p
from ..interpreters.batching import ConcretizationError
from .dispatch import numpy_function, no_kwargs, dask_differs
from . import aliasing
from .basic import (normalize_axis, single_axis, asarray_like, as_inexact, _reduce_args, concrete,
                    lazy_value_error, astype, ravel, reshape, transpose, concatenate, stack,
                    mean, sum as _sum, max as _max, min as _min, moveaxis, divide_count,
                    reduced_dtype, _has_tracer, where_mask, count_where,
                    any_zero_count, staged_count)
from .shape import traced_numpy, take_along_axis, take_axis, slice_axis, diagonal, _prod

_NoValue = np._NoValue


def _kd(keepdims):
    return False if keepdims is _NoValue else keepdims


def _count(shape, axes):
    return _prod(shape[i] for i in axes)


# ---------------------------------------------------------------- prod and moments

@traced_numpy(np.prod)
def prod(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=True):
    """The derivative is right when elements are zero (products of the other elements,
    no division). ``where=`` and ``initial=``: NumPy's own masked product, with the
    derivative 0 where the mask is False."""
    a, axes = _reduce_args("prod", a, axis, dtype, out, keepdims)
    mask = where_mask("prod", a, axes, where)
    if mask is not None or (initial is not None and not isinstance(initial, Tracer)):
        # NumPy's own masked product (its order, float16 in float32, initial first)
        if dtype is None:
            a = astype(a, np.prod(np.empty(0, dtype_of(a))).dtype)
        if initial is not None:
            if isinstance(initial, Tracer):
                raise NotImplementedError(
                    "chainrule.numpy.prod: a traced initial= with where= is not supported "
                    "inside a transformation (multiply the product by it)")
            # converted to the result's dtype as NumPy does (an integer product
            # truncates 2.5 to 2; 1j raises)
            initial = np.multiply.reduce(np.empty(0, dtype_of(a)), initial=initial).item()
        if mask is None:
            mask = np.broadcast_to(np.True_, shape_of(a))
        return masked_prod_p.bind(a, mask, axis=axes, keepdims=keepdims, initial=initial)
    if axes or keepdims:
        out = reduce_prod_p.bind(a, axis=axes, keepdims=keepdims)
    elif dtype is None and dtype_of(a).kind in "biu":
        out = astype(a, np.prod(np.zeros(1, dtype_of(a))).dtype)   # NumPy's int64
    elif dtype_of(a).kind == "c":
        out = a * 1     # NumPy multiplies its identity in: (1+0j)(inf+1j) is inf+nanj
    else:
        out = a
    out = reduced_dtype(out, dtype)
    return out if initial is None else out * initial


def _inexact(a):
    return dtype_of(a).kind in "fc"


def _moments(name, a, axis, dtype, out, ddof, keepdims, where, mean_, correction, nan):
    """NumPy's var (``nan``: nanvar) in NumPy's dtypes: the mean is summed in ``dtype``
    (float64 for bools and integers), the deviations are taken from the input (nanvar:
    rounded back to the input's dtype), their squares summed in ``dtype`` and divided
    by the degrees of freedom (nanvar: NaN where there are none)."""
    keepdims = _kd(keepdims)
    if correction is not _NoValue:
        if ddof != 0:
            raise ValueError("ddof and correction can't be provided simultaneously.")
        ddof = correction
    a, axes = _reduce_args(name, a, axis, None, out, keepdims)
    if nan and where is not _NoValue:
        no_kwargs(name, where=where)
    where = where_mask(name, a, axes, True if where is _NoValue else where)
    nan = nan and _inexact(a)           # NumPy: no NaNs to ignore, np.var's result
    if dtype is not None:
        dtype = np.dtype(dtype)
        if dtype.kind not in "fc":
            if nan:
                raise TypeError("If a is inexact, then dtype must be inexact")
            raise NotImplementedError(
                f"chainrule.numpy.{name}: dtype={dtype} (not floating or complex) is not "
                "supported inside a transformation: NumPy truncates the mean and the "
                "variance in that dtype")
    acc = dtype if dtype is not None else \
        (dtype_of(a) if _inexact(a) else np.dtype(np.float64))
    most = _count(shape_of(a), axes)
    if nan:
        a0, mask = _nan_fill(a, 0)
        n = _count_valid(mask, axes, True)
    elif where is not None:
        # NumPy's: sums over the mask, divided by its count (an array)
        a0, n = a, count_where(where, axes, True)
        if any_zero_count(n, ddof):
            warnings.warn("Degrees of freedom <= 0 for slice", RuntimeWarning,
                          stacklevel=3)
        n = staged_count(where, n, axes, True, a)
    else:
        a0, n = a, most
    if mean_ is not _NoValue:
        m = mean_
    elif where is not None:
        s = masked_sum_p.bind(astype(a0, acc), where, axis=axes, keepdims=True, initial=None)
        m = aliasing.fresh_layout(divide_count(s, n, most), "K", s)     # (as below)
    else:
        m = divide_count(sp.reduce_sum(astype(a0, acc), axes, True), n, most) if axes \
            else astype(a0, acc)
    if nan:
        d = ew.select_p.bind(mask, 0, astype(a - m, dtype_of(a)))
    else:
        d = (a if _inexact(a) or dtype is not None else as_inexact(a)) - m
        if where is not None:
            # (the masked deviations are not summed; 0 keeps an inf or NaN there out of
            # the derivatives)
            d = ew.select_p.bind(where, d, np.zeros((), dtype_of(d)))
    if dtype_of(d).kind != "c":
        sq = d * d
    elif nan:
        sq = ew.real_p.bind(d * ew.conj_p.bind(d))         # nanvar's
    else:
        re, im = ew.real_p.bind(d), ew.imag_p.bind(d)     # var's: re**2 + im**2
        sq = re * re + im * im
    if dtype is not None:
        sq = astype(sq, dtype)
    if where is not None:
        s = masked_sum_p.bind(sq, where, axis=axes, keepdims=keepdims, initial=None)
        dof = ew.PRIMS["maximum"].bind(n - ddof, 0.0)
        if not keepdims:
            dof = sp.reshape(dof, shape_of(s))
        # (NumPy divides into the sum's own memory: its layout, not the count's)
        return aliasing.fresh_layout(divide_count(s, dof, most), "K", s)
    s = sp.reduce_sum(sq, axes, keepdims) if (axes or keepdims) else sq
    if nan:
        dof = n - ddof
        if not keepdims:
            dof = sp.reshape(dof, shape_of(s))
        none = ew.PRIMS["less_equal"].bind(dof, 0)
        # NaN where no degree of freedom is left (NumPy's); a safe divisor there, so
        # the unselected quotient sends no NaN into derivatives
        v = divide_count(s, ew.select_p.bind(none, 1.0, dof), most)
        return ew.select_p.bind(none, np.nan, v)
    return divide_count(s, builtins.max(n - ddof, 0), most)


@traced_numpy(np.var)
def var(a, axis=None, dtype=None, out=None, ddof=0, keepdims=_NoValue, *, where=_NoValue,
        mean=_NoValue, correction=_NoValue):
    return _moments("var", a, axis, dtype, out, ddof, keepdims, where, mean, correction, False)


@traced_numpy(np.std)
def std(a, axis=None, dtype=None, out=None, ddof=0, keepdims=_NoValue, *, where=_NoValue,
        mean=_NoValue, correction=_NoValue):
    return _root_spread(_moments("std", a, axis, dtype, out, ddof, keepdims, where, mean,
                                 correction, False))


def _root_spread(v):
    """sqrt of a variance, with the subgradient 0 where the spread is 0 (as for ``abs``
    and ``norm`` at 0; sqrt's derivative is infinite there and would give NaN): the
    unselected branch sees a safe 1.0, so no NaN reaches any derivative order."""
    zero = ew.PRIMS["less_equal"].bind(v, 0.0)
    return ew.select_p.bind(zero, 0.0, ew.sqrt(ew.select_p.bind(zero, 1.0, v)))


@traced_numpy(np.nanvar)
def nanvar(a, axis=None, dtype=None, out=None, ddof=0, keepdims=_NoValue, *,
           where=_NoValue, mean=_NoValue, correction=_NoValue):
    return _moments("nanvar", a, axis, dtype, out, ddof, keepdims, where, mean, correction,
                    True)


@traced_numpy(np.nanstd)
def nanstd(a, axis=None, dtype=None, out=None, ddof=0, keepdims=_NoValue, *,
           where=_NoValue, mean=_NoValue, correction=_NoValue):
    return _root_spread(_moments("nanstd", a, axis, dtype, out, ddof, keepdims, where,
                                 mean, correction, True))


@traced_numpy(np.ptp)
def ptp(a, axis=None, out=None, keepdims=_NoValue):
    no_kwargs("ptp", out=out)
    kd = _kd(keepdims)
    return _max(a, axis=axis, keepdims=kd) - _min(a, axis=axis, keepdims=kd)


@traced_numpy(np.average)
def average(a, axis=None, weights=None, returned=False, *, keepdims=_NoValue):
    a = asarray_like(a)
    kd = _kd(keepdims)
    s = shape_of(a)
    if weights is None:
        avg = mean(a, axis=axis, keepdims=kd)
        scl = np.full(shape_of(avg), _prod(s) / builtins.max(_prod(shape_of(avg)), 1),
                      dtype=dtype_of(avg))
    else:
        w = asarray_like(weights)
        # NumPy's arithmetic dtype (float64 at least for bool and integer a)
        rdt = np.result_type(dtype_of(a), dtype_of(w),
                             *((np.float64,) if not _inexact(a) else ()))
        a, w = astype(a, rdt), astype(w, rdt)
        axes = normalize_axis(axis, len(s)) if axis is not None else None
        if shape_of(w) != s:
            if axes is None:
                raise TypeError("Axis must be specified when shapes of a and weights "
                                "differ.")
            if shape_of(w) != tuple(s[ax] for ax in axes):
                raise ValueError("Shape of weights must be consistent with shape of a "
                                 "along specified axis.")
            w = transpose(w, tuple(np.argsort(axes)))
            w = reshape(w, tuple(d if ax in axes else 1 for ax, d in enumerate(s)))
        if axes is None:
            axes = tuple(range(len(s)))
        # NumPy's: the sum of the weights as broadcast along the axes (laid out as its)
        scl = sp.reduce_sum(w, axes, kd) if (axes or kd) else w
        if np.any(_maybe_concrete(scl) == 0.0):
            raise ZeroDivisionError("Weights sum to zero, can't be normalized")
        prodw = a * w
        avg = (sp.reduce_sum(prodw, axes, kd) if (axes or kd) else prodw) / scl
    if returned:
        if shape_of(scl) != shape_of(avg):
            scl = sp.broadcast_to(scl, shape_of(avg))
        return avg, scl
    return avg


# ---------------------------------------------------------------- cumulative

def _cum_args(name, a, axis, dtype, out):
    no_kwargs(name, out=out)
    a = asarray_like(a)
    if dtype is not None:
        a = astype(a, dtype)
    if axis is None or not shape_of(a):    # (NumPy takes a 0-d array as shape (1,))
        a = ravel(a)
        axis = 0 if axis is None else axis
    axis = single_axis(axis, len(shape_of(a)))
    return a, axis


@traced_numpy(np.cumsum)
def cumsum(a, axis=None, dtype=None, out=None):
    a, axis = _cum_args("cumsum", a, axis, dtype, out)
    return reduced_dtype(cumsum_p.bind(a, axis=axis, reverse=False), dtype)


@traced_numpy(np.cumprod)
def cumprod(a, axis=None, dtype=None, out=None):
    """The derivative is right when elements are zero (no division there)."""
    a, axis = _cum_args("cumprod", a, axis, dtype, out)
    return reduced_dtype(cumprod_p.bind(a, axis=axis), dtype)


def _cumulative(name, fn, one):
    def cumulative(x, /, *, axis=None, dtype=None, out=None, include_initial=False):
        x = asarray_like(x)
        if axis is None:
            if len(shape_of(x)) > 1:
                raise ValueError(f"The `axis` argument to `{name}` must be provided "
                                 "for arrays with more than one dimension")
            axis = 0
        out_ = fn(x, axis=axis, dtype=dtype, out=out)
        if include_initial:
            s = list(shape_of(out_))
            (ax,) = normalize_axis(axis, len(s))
            s[ax] = 1
            out_ = concatenate([np.full(s, one, dtype_of(out_)), out_], axis=ax)
        return out_
    cumulative.__name__ = name
    return traced_numpy(getattr(np, name))(cumulative)


if hasattr(np, "cumulative_sum"):
    cumulative_sum = _cumulative("cumulative_sum", cumsum, 0)
    cumulative_prod = _cumulative("cumulative_prod", cumprod, 1)


# ---------------------------------------------------------------- nan-ignoring

def _nan_fill(a, value):
    """(a with NaNs replaced by ``value``, the NaN mask); the mask may be batched. For
    floating or complex ``a`` (NumPy ignores no NaN in other dtypes); the constants
    are made in a's dtype, so the result keeps it."""
    a = asarray_like(a)
    dt = dtype_of(a)
    mask = ew.PRIMS["isnan"].bind(a)
    filled = ew.select_p.bind(mask, np.zeros((), dt), a)
    if value != 0:
        # added as a constant: select's jvp would form 0 * value = nan for value = inf
        # (-0.0 elsewhere: x + -0.0 is x, -0.0 included, where + 0.0 gave +0.0, and
        # nanprod/nanmax/nancumprod lost the sign of a -0.0)
        filled = filled + ew.select_p.bind(mask, np.asarray(value, dt),
                                           np.negative(np.zeros((), dt)))
    return filled, mask


def _count_valid(mask, axis, keepdims):
    """Number of non-NaN entries along ``axis`` (float64)."""
    return _sum(astype(ew.PRIMS["logical_not"].bind(mask), np.float64), axis=axis,
                keepdims=keepdims)


def _maybe_concrete(x):
    """The concrete value of ``x``, or NaN where it has none (batched under vmap)."""
    return concrete(x) if has_value(x) else np.nan


def _nan_kwargs(name, initial=_NoValue, where=_NoValue):
    """NumPy passes these on to the reduction; inside transformations they are refused
    (not dropped: ``where=None`` is NumPy's mask of False everywhere, not "no mask")."""
    if where is None:
        raise NotImplementedError(f"chainrule.numpy.{name}: where= is not supported "
                                  "inside a transformation")
    no_kwargs(name, initial=None if initial is _NoValue else initial,
              where=None if where is _NoValue else where)


@traced_numpy(np.nansum)
def nansum(a, axis=None, dtype=None, out=None, keepdims=_NoValue, initial=_NoValue,
           where=_NoValue):
    """NumPy's: ``sum`` of the input with NaNs replaced by 0 (``where=`` and a
    concrete ``initial=`` passed on to it)."""
    a = asarray_like(a)
    if _inexact(a):
        a = _nan_fill(a, 0)[0]
    kw = {} if where is _NoValue else {"where": where}
    if initial is not _NoValue and not isinstance(initial, Tracer):
        kw["initial"] = initial
    out_ = _sum(a, axis=axis, dtype=dtype, out=out, keepdims=_kd(keepdims), **kw)
    if initial is _NoValue or "initial" in kw:
        return out_
    if not isinstance(initial, Tracer):     # in the result's dtype, as NumPy converts it
        initial = np.add.reduce(np.empty(0, dtype_of(out_)), initial=initial)
    return out_ + initial


@traced_numpy(np.nanprod)
def nanprod(a, axis=None, dtype=None, out=None, keepdims=_NoValue, initial=_NoValue,
            where=_NoValue):
    _nan_kwargs("nanprod", where=where)
    a = asarray_like(a)
    if _inexact(a):
        a = _nan_fill(a, 1)[0]
    return prod(a, axis=axis, dtype=dtype, out=out, keepdims=_kd(keepdims),
                initial=None if initial is _NoValue else initial)


@traced_numpy(np.nanmean)
def nanmean(a, axis=None, dtype=None, out=None, keepdims=_NoValue, *, where=_NoValue):
    """NumPy's: the sum in ``dtype`` (float16 is not widened, unlike mean), divided by
    the count; NaN for an all-NaN slice."""
    _nan_kwargs("nanmean", where=where)
    a = asarray_like(a)
    kd = _kd(keepdims)
    if not _inexact(a):
        return mean(a, axis=axis, dtype=dtype, out=out, keepdims=kd)
    if dtype is not None and np.dtype(dtype).kind not in "fc":
        raise TypeError("If a is inexact, then dtype must be inexact")
    filled, mask = _nan_fill(a, 0)
    tot = _sum(filled, axis=axis, dtype=dtype, out=out, keepdims=kd)
    return divide_count(tot, _count_valid(mask, axis, kd),
                        _count(shape_of(a), normalize_axis(axis, len(shape_of(a)))))


def _nan_extremum(name, fn, fill):
    def nanext(a, axis=None, out=None, keepdims=_NoValue, initial=_NoValue, where=_NoValue):
        _nan_kwargs(name, initial, where)
        a = asarray_like(a)
        kd = _kd(keepdims)
        if not _inexact(a):
            return fn(a, axis=axis, out=out, keepdims=kd)
        filled, mask = _nan_fill(a, fill)
        out_ = fn(filled, axis=axis, out=out, keepdims=kd)
        return ew.select_p.bind(_count_valid(mask, axis, kd) == 0, np.nan, out_)
    nanext.__name__ = name
    return traced_numpy(getattr(np, name))(nanext)


nanmax = _nan_extremum("nanmax", _max, -np.inf)
nanmin = _nan_extremum("nanmin", _min, np.inf)


@traced_numpy(np.nancumsum)
def nancumsum(a, axis=None, dtype=None, out=None):
    a = asarray_like(a)
    return cumsum(_nan_fill(a, 0)[0] if _inexact(a) else a, axis=axis, dtype=dtype,
                  out=out)


@traced_numpy(np.nancumprod)
def nancumprod(a, axis=None, dtype=None, out=None):
    a = asarray_like(a)
    return cumprod(_nan_fill(a, 1)[0] if _inexact(a) else a, axis=axis, dtype=dtype,
                   out=out)


# ---------------------------------------------------------------- order statistics

@traced_numpy(np.sort, layout="K")        # NumPy: a.copy(order="K"), sorted
def sort(a, axis=-1, kind=None, order=None, *, stable=None):
    """The vjp scatters the cotangent back through the sorting permutation."""
    if order is not None:
        raise NotImplementedError("chainrule.numpy.sort: order= (structured arrays) is "
                                  "not supported inside a transformation")
    a = asarray_like(a)
    if axis is None:
        a, axis = ravel(a), -1
    axis = single_axis(axis, len(shape_of(a)))
    return permute_p.bind(a, argsort_p.bind(a, axis=axis), axis=axis, inverse=False)


def _kth(kth, n):
    """NumPy's ``kth`` as a sorted tuple of non-negative positions (its errors)."""
    ks = np.asarray(concrete(kth))
    if ks.dtype.kind not in "iu":
        raise TypeError("Partition index must be integer")
    if ks.ndim > 1:
        raise ValueError("kth array must have dimension <= 1")
    out = []
    for k in ks.reshape(-1).tolist():
        if not -n <= k < n:
            raise ValueError(f"kth(={k}) out of bounds ({n})")
        out.append(k % n)
    # (sorted, as NumPy's introselect takes them, but not deduplicated: NumPy's
    # arrangement for kth=[3, 3] differs from kth=3's, and traced values must be its)
    return tuple(sorted(out))


def _partition_args(a, kth, axis):
    a = asarray_like(a)
    if axis is None:
        a, axis = ravel(a), -1
    if not shape_of(a):
        raise np.exceptions.AxisError(axis, 0)
    axis = single_axis(axis, len(shape_of(a)))
    return a, _kth(kth, shape_of(a)[axis]), axis


@traced_numpy(np.partition, layout="K")
def partition(a, kth, axis=-1, kind="introselect", order=None):
    """NumPy's arrangement (the same values in the same places); the vjp scatters the
    cotangent back through the permutation, as for sort."""
    if order is not None:
        raise NotImplementedError("chainrule.numpy.partition: order= (structured arrays) "
                                  "is not supported inside a transformation")
    a, kth, axis = _partition_args(a, kth, axis)
    perm = partition_index_p.bind(a, axis=axis, kth=kth)
    return permute_p.bind(a, perm, axis=axis, inverse=False)


@numpy_function(np.argpartition)
def argpartition(a, kth, axis=-1, kind="introselect", order=None):
    """Not differentiable (indices); a primitive, so it batches under vmap."""
    if order is not None:
        raise NotImplementedError("chainrule.numpy.argpartition: order= is not supported "
                                  "inside a transformation")
    a, kth, axis = _partition_args(a, kth, axis)
    return argpartition_p.bind(a, axis=axis, kth=kth)


@traced_numpy(np.unique)
def unique(ar, return_index=False, return_inverse=False, return_counts=False, axis=None,
           *, equal_nan=True, sorted=True):
    """The unique values are a gather of their first occurrences, ``x[first_index]``
    (along ``axis``), so the derivative flows to those elements; the indices, inverse
    and counts are NumPy's own (computed on the concrete values, like the output's
    shape). Under ``jit`` the compiled program is specialised on the values."""
    a = asarray_like(ar)
    if not has_value(a):
        lazy_value_error(a)
        raise ConcretizationError(
            "chainrule.numpy.unique under vmap: each example would have its own number "
            "of unique values (an output of data-dependent shape); call it per example "
            "outside vmap")
    kw = {} if sorted else {"sorted": False}       # NumPy < 2.3 has no sorted=
    _, first, *rest = np.unique(concrete(a), return_index=True,
                                return_inverse=return_inverse, return_counts=return_counts,
                                axis=axis, equal_nan=equal_nan, **kw)
    values = take_axis(ravel(a), first, 0) if axis is None else \
        take_axis(a, first, normalize_axis(axis, len(shape_of(a)))[0])
    if not (return_index or return_inverse or return_counts):
        return values
    return (values,) + ((first,) if return_index else ()) + tuple(rest)


_SETOPS = np.lib._arraysetops_impl


def _unique_result(name, *values):
    cls = getattr(_SETOPS, name, None)
    return cls(*values) if cls is not None else tuple(values)


if hasattr(np, "unique_values"):
    @traced_numpy(np.unique_values)
    def unique_values(x):
        """NumPy's order (unsorted for some dtypes), each value a gather of its first
        occurrence; NaNs are not merged (``equal_nan=False``)."""
        a = ravel(asarray_like(x))
        if not has_value(a):
            unique(a)                                   # its vmap error
        c = concrete(a)
        u = np.unique_values(c)
        _, first = np.unique(c, return_index=True, equal_nan=False)
        rank = np.empty(len(u), np.intp)
        rank[np.argsort(u, kind="stable")] = np.arange(len(u))
        return take_axis(a, first[rank], 0)

    @traced_numpy(np.unique_counts)
    def unique_counts(x):
        return _unique_result("UniqueCountsResult",
                              *unique(x, return_counts=True, equal_nan=False))

    @traced_numpy(np.unique_inverse)
    def unique_inverse(x):
        return _unique_result("UniqueInverseResult",
                              *unique(x, return_inverse=True, equal_nan=False))

    @traced_numpy(np.unique_all)
    def unique_all(x):
        """Values, first indices, inverse and counts; only the values carry a
        derivative."""
        return _unique_result("UniqueAllResult",
                              *unique(x, return_index=True, return_inverse=True,
                                      return_counts=True, equal_nan=False))


@traced_numpy(np.nan_to_num, view="identity")
def nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
    """Derivative 1 at finite entries, 0 where a NaN or infinity is replaced (and, for
    traced ``nan``/``posinf``/``neginf``, 1 to them where they are used). ``copy=False``
    writes into a traced ``x`` and returns it, as NumPy does."""
    a = asarray_like(x)
    if dtype_of(a).kind not in "fc":
        return a if (not copy and a is x) else aliasing.copy_of(a)
    real_t = np.finfo(dtype_of(a))
    hi = real_t.max if posinf is None else posinf
    lo = real_t.min if neginf is None else neginf

    def fix(d):
        isnan, ispos, isneg = (ew.PRIMS["isnan"].bind(d), ew.equal_p.bind(d, np.inf),
                               ew.equal_p.bind(d, -np.inf))
        d = ew.select_p.bind(isnan, nan, d)
        d = ew.select_p.bind(ispos, hi, d)
        return ew.select_p.bind(isneg, lo, d)
    if dtype_of(a).kind == "c":
        # the entries with a non-finite part are rebuilt from their fixed parts
        re, im = ew.real_p.bind(a), ew.imag_p.bind(a)
        bad = ew.PRIMS["logical_not"].bind(ew.PRIMS["isfinite"].bind(a))
        out = ew.select_p.bind(bad, fix(re) + 1j * fix(im), a)
    else:
        out = fix(a)
    if dtype_of(out) != dtype_of(a):
        out = astype(out, dtype_of(a))
    if not copy and a is x and isinstance(x, Tracer):
        aliasing.assign(x, out)
        return x
    return out


def _to_last(a, axis):
    """Move the reduced axes to the end and merge them: (flat (..., n), kept shape)."""
    a = asarray_like(a)
    s = shape_of(a)
    axes = normalize_axis(axis, len(s))
    rest = tuple(i for i in range(len(s)) if i not in axes)
    flat = reshape(sp.transpose(a, rest + axes), tuple(s[i] for i in rest) +
                   (_count(s, axes),))
    kept = tuple(1 if i in axes else d for i, d in enumerate(s))
    return flat, tuple(s[i] for i in rest), kept


def _pick(flat, positions, order):
    """flat[..., order[..., p]] for each position p (gathers (..., len(positions)))."""
    last = len(shape_of(flat)) - 1
    return take_along_axis(flat, take_axis(order, np.asarray(positions, np.intp), last), last)


def _middle_dtypes(dt):
    """(result, accumulation) dtypes of NumPy's mean of a median's middle values: float64
    for bools and integers, float16 summed in float32."""
    if dt.kind not in "fc":
        return np.dtype(np.float64), np.dtype(np.float64)
    return dt, (np.dtype(np.float32) if dt == np.float16 else dt)


def _middle_mean(x, y=None):
    """NumPy's median of the middle value ``x`` (odd count) or the middle pair ``x``,
    ``y`` (even count): ``np.mean`` of them, in its dtypes."""
    res, acc = _middle_dtypes(dtype_of(x))
    if y is None:
        return astype(x, res)
    return astype((astype(x, acc) + astype(y, acc)) / 2, res)


@traced_numpy(np.median)
def median(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    """Differentiable in the middle element(s) (a NaN in a slice gives NaN). NumPy's
    mean of the middle pair: bools and integers in float64, float16 in float32."""
    no_kwargs("median", out=out)
    flat, rest, kept = _to_last(a, axis)
    n = shape_of(flat)[-1]
    if n == 0:
        return mean(a, axis=axis, keepdims=keepdims)
    lo, hi = (n - 1) // 2, n // 2
    nans = _inexact(flat)               # NumPy checks for NaNs in these dtypes only
    order = argsort_p.bind(flat, axis=len(rest))            # NaNs sort last
    v = _pick(flat, [lo, hi] + ([n - 1] if nans else []), order)
    last = len(rest)
    m = _middle_mean(slice_axis(v, last, 0, 1)) if lo == hi else \
        _middle_mean(slice_axis(v, last, 0, 1), slice_axis(v, last, 1, 2))
    if nans:
        m = ew.select_p.bind(ew.PRIMS["isnan"].bind(slice_axis(v, last, 2, 3)), np.nan, m)
    return reshape(m, kept if keepdims else rest)


@traced_numpy(np.nanmedian)
def nanmedian(a, axis=None, out=None, overwrite_input=False, keepdims=_NoValue):
    """NumPy's two ways: reducing every axis (or a 1-d array) or slices of 600 or more,
    it takes np.median of the non-NaN values; shorter slices of some axes go through
    np.ma.median, which sums the middle pair (the middle value twice for an odd
    count) in the input's dtype and halves it (float16 not widened)."""
    no_kwargs("nanmedian", out=out)
    a = asarray_like(a)
    if not _inexact(a):
        return median(a, axis=axis, keepdims=_kd(keepdims))
    flat, rest, kept = _to_last(a, axis)
    n = shape_of(flat)[-1]
    if n == 0:
        return mean(a, axis=axis, keepdims=_kd(keepdims))
    last = len(rest)
    order = argsort_p.bind(flat, axis=last)                  # NaNs sort last
    cnt = _count_valid(ew.PRIMS["isnan"].bind(flat), last, True)
    half = ew.PRIMS["floor_divide"]
    lo = astype(ew.PRIMS["maximum"].bind(half.bind(cnt - 1.0, 2.0), 0.0), np.intp)
    hi = astype(ew.PRIMS["minimum"].bind(half.bind(cnt, 2.0), n - 1.0), np.intp)
    vlo = take_along_axis(flat, take_along_axis(order, lo, last), last)
    vhi = take_along_axis(flat, take_along_axis(order, hi, last), last)
    nd = len(shape_of(a))
    if axis is not None and len(normalize_axis(axis, nd)) < nd and n < 600:
        m = (vlo + vhi) / 2                                 # np.ma.median's
    else:
        m = ew.select_p.bind(lo == hi, _middle_mean(vlo), _middle_mean(vlo, vhi))
    m = ew.select_p.bind(cnt == 0, np.nan, m)
    return reshape(m, kept if _kd(keepdims) else rest)


_FB = np.lib._function_base_impl


def _quantile_args(name, a, method, weights):
    """The input as an array (NumPy refuses complex values) and the method's row of
    NumPy's table."""
    if weights is not None:
        raise NotImplementedError(f"chainrule.numpy.{name}: weights= is not supported "
                                  "inside a transformation")
    a = asarray_like(a)
    if dtype_of(a).kind == "c":
        raise TypeError("a must be an array of real numbers")
    if method not in _FB._QuantileMethods:
        raise ValueError(f"{method!r} is not a valid method. Use one of: "
                         f"{_FB._QuantileMethods.keys()}")
    return a, _FB._QuantileMethods[method]


def _direct(props, method, virtual):
    """Whether NumPy takes the values at ``virtual`` without interpolating."""
    return props["fix_gamma"] is None or (method == "linear" and virtual.dtype.kind in "iu")


def _lerp(a, b, t, omt, high):
    """NumPy's _lerp: ``a + (b - a) t``, and where ``t >= 0.5`` (``high``) ``b - (b - a)
    (1 - t)`` computed in the first one's dtype; ``omt`` is NumPy's ``1 - t``. The
    difference is taken in the input's dtype (NumPy's: integers wrap, bools raise);
    ``t`` a Python float promotes weakly (float16 stays float16)."""
    diff = b - a
    lo = a + diff * t
    res = dtype_of(lo)
    hi = astype(b, res) - astype(diff * omt, res)
    if isinstance(high, (bool, np.bool_)):
        return hi if high else lo
    return ew.select_p.bind(high, hi, lo)


def _quantile(name, a, q, axis, method, keepdims, weights, weak=False):
    """NumPy's _quantile: its positions and weights (its own method table, on the
    concrete ``q`` in its dtype), its _lerp in its dtypes (``weak``: ``q`` was a Python
    number, NumPy's weak promotion), the values gathered through argsort. Methods that
    pick a value keep the input's dtype."""
    a, props = _quantile_args(name, a, method, weights)
    flat, rest, kept = _to_last(a, axis)
    n, last = shape_of(flat)[-1], len(rest)
    dt = dtype_of(flat)
    qa = np.asanyarray(q)
    virtual = np.asanyarray(props["get_virtual_index"](n, qa))
    order = argsort_p.bind(flat, axis=last)                  # NaNs sort last
    if _direct(props, method, virtual):
        v = virtual.ravel()
        r = _pick(flat, np.where(v < 0, v + n, v), order)
    else:
        prev, nxt = _FB._get_indexes(np.empty(0, dt), virtual, n)
        gamma = _FB._get_gamma(virtual, prev, props)
        m = builtins.max(n, 1)             # (no values: NumPy's IndexError below)
        va, vb = _pick(flat, prev.ravel() % m, order), _pick(flat, nxt.ravel() % m, order)
        if weak:                            # NumPy: float(gamma), a Python number
            t = float(gamma)
            r = _lerp(va, vb, t, 1 - t, t >= 0.5)
        else:
            t = gamma.ravel()
            r = _lerp(va, vb, t, 1 - t, t >= 0.5)
    if dt.kind in "fc":                     # a slice with a NaN: NaN
        r = ew.select_p.bind(ew.PRIMS["isnan"].bind(_pick(flat, [n - 1], order)), np.nan, r)
    r = moveaxis(r, -1, 0)
    return reshape(r, qa.shape + (kept if _kd(keepdims) else rest))


def _fractions(q, scale):
    """NumPy's ``q`` (percentiles: ``q / 100``, in NumPy's dtype) and whether it
    promotes weakly (a Python int or float); NumPy's error outside [0, 1]."""
    weak = type(value_of(q)) in (int, float)   # (jit's argument: the value it stands for)
    q = concrete(q)
    qc = np.asanyarray(q) if scale == 1 else np.true_divide(q, scale, out=...)
    if not (np.all(qc >= 0) and np.all(qc <= 1)):
        raise ValueError("Quantiles must be in the range [0, 1]" if scale == 1 else
                         "Percentiles must be in the range [0, 100]")
    return qc, weak


_APPROXIMATE = ("Dask's quantiles are an approximation (and need an axis); compute the "
                "array for NumPy's")


@traced_numpy(np.quantile, eager=dask_differs(np.quantile, _APPROXIMATE))
def quantile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
             keepdims=False, *, weights=None, interpolation=None):
    """Every ``method`` of NumPy's, in NumPy's dtypes; ``q`` is not differentiated
    (``weights=`` is not supported inside transformations)."""
    no_kwargs("quantile", out=out, interpolation=interpolation)
    qc, weak = _fractions(q, 1)
    return _quantile("quantile", a, qc, axis, method, keepdims, weights, weak)


@traced_numpy(np.percentile, eager=dask_differs(np.percentile, _APPROXIMATE))
def percentile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
               keepdims=False, *, weights=None, interpolation=None):
    """Every ``method`` of NumPy's, in NumPy's dtypes; ``q`` is not differentiated
    (``weights=`` is not supported inside transformations)."""
    no_kwargs("percentile", out=out, interpolation=interpolation)
    qc, weak = _fractions(q, 100)
    return _quantile("percentile", a, qc, axis, method, keepdims, weights, weak)


def _nan_positions(n, qa, method, weak, dt):
    """NumPy's neighbouring positions and weights for every count of valid (non-NaN)
    values 0..n, from its own method table (rows: the count; columns: the quantiles):
    (prev, next, t, 1 - t, t >= 0.5, direct), ``t`` and ``1 - t`` as NumPy's _lerp
    meets them (``weak``: Python floats, here rounded to the input's dtype ``dt`` as
    NumPy's weak promotion does; else in the dtype of NumPy's virtual index), and
    ``direct`` where NumPy takes a value without interpolating."""
    props = _FB._QuantileMethods[method]
    q = qa.ravel()
    prev = np.zeros((n + 1, q.size), np.intp)
    nxt = prev.copy()
    gamma, omt, high, direct = [None] * (n + 1), [None] * (n + 1), \
        np.zeros((n + 1, q.size), bool), np.zeros((n + 1, q.size), bool)
    for c in range(1, n + 1):
        virtual = np.asanyarray(props["get_virtual_index"](c, qa))
        if _direct(props, method, virtual):
            v = virtual.ravel()
            prev[c] = nxt[c] = np.where(v < 0, v + c, v)
            direct[c] = True
        else:
            p, x = _FB._get_indexes(np.empty(0, dt), virtual, c)
            g = _FB._get_gamma(virtual, p, props)
            prev[c], nxt[c] = p.ravel() % c, x.ravel() % c    # (-1: the last valid value)
            t = float(g) if weak else g.ravel()
            gamma[c], omt[c], high[c] = t, 1 - t, t >= 0.5
    if direct[1:].all():
        return prev, nxt, None, None, None, True
    gd = np.asarray(gamma[1]).dtype        # (weak: Python floats, cast to dt below)
    fill = np.zeros(q.size, gd)

    def stack(col):
        return np.array([fill if v is None else np.broadcast_to(np.asarray(v, gd), q.shape)
                         for v in col], gd).astype(dt if weak else gd)
    return prev, nxt, stack(gamma), stack(omt), high, False


def _nanquantile(name, a, q, axis, method, keepdims, weights, weak=False):
    """NumPy's quantile of the non-NaN values of each slice: they sort first, and the
    positions and weights for the slice's count of them are gathered from a table
    made with NumPy's own method functions (so vmap and jit need no concrete count).
    Integers and bools: np.quantile's; an empty array: np.nanmean's."""
    a, props = _quantile_args(name, a, method, weights)
    qa = np.asanyarray(q)
    if _prod(shape_of(a)) == 0:
        return nanmean(a, axis=axis, keepdims=keepdims)
    if not _inexact(a):
        return _quantile(name, a, qa, axis, method, keepdims, weights, weak)
    flat, rest, kept = _to_last(a, axis)
    n, last = shape_of(flat)[-1], len(rest)
    prev, nxt, gamma, omt, high, direct = _nan_positions(n, qa, method, weak,
                                                         dtype_of(flat))
    order = argsort_p.bind(flat, axis=last)                  # NaNs sort last
    cnt = _count_valid(ew.PRIMS["isnan"].bind(flat), last, False)
    row = astype(cnt, np.intp)

    def table(t):                                            # t[count] per slice
        return take_axis(t, row, 0)                          # rest + (nq,)

    def values(pos):
        return take_along_axis(flat, take_along_axis(order, pos, last), last)
    va = values(table(prev))
    r = va if direct else _lerp(va, values(table(nxt)), table(gamma), table(omt),
                                table(high))
    r = ew.select_p.bind(sp.reshape(cnt, shape_of(cnt) + (1,)) == 0, np.nan, r)
    r = moveaxis(r, -1, 0)
    return reshape(r, qa.shape + (kept if _kd(keepdims) else rest))


@traced_numpy(np.nanquantile)
def nanquantile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
                keepdims=_NoValue, *, weights=None):
    """Every ``method`` of NumPy's, in NumPy's dtypes, NaNs ignored (an all-NaN slice
    gives NaN, without NumPy's warning); ``q`` is not differentiated."""
    no_kwargs("nanquantile", out=out)
    qc, weak = _fractions(q, 1)
    return _nanquantile("nanquantile", a, qc, axis, method, keepdims, weights, weak)


@traced_numpy(np.nanpercentile)
def nanpercentile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
                  keepdims=_NoValue, *, weights=None):
    """Every ``method`` of NumPy's, in NumPy's dtypes, NaNs ignored (an all-NaN slice
    gives NaN, without NumPy's warning); ``q`` is not differentiated."""
    no_kwargs("nanpercentile", out=out)
    qc, weak = _fractions(q, 100)
    return _nanquantile("nanpercentile", a, qc, axis, method, keepdims, weights, weak)


# ---------------------------------------------------------------- clip and round

def _clip_where(fn):
    # where= (NumPy's ufunc argument, which keeps out='s entries where it is False) is
    # refused before untraced inputs go to NumPy: the wrapper has taken out= (perhaps
    # the only traced argument) off, and NumPy's result without it is uninitialised
    # where the mask is False
    def clip(*args, **kwargs):
        where = kwargs.get("where", True)
        no_kwargs("clip", where=None if where is True else where)
        if not _has_tracer(args) and not _has_tracer(tuple(kwargs.values())):
            return np.clip(*args, **kwargs)
        return fn(*args, **kwargs)
    return functools.wraps(fn)(clip)


@numpy_function(np.clip)
@_clip_where
def clip(a, a_min=_NoValue, a_max=_NoValue, out=None, *, min=_NoValue, max=_NoValue,
         **kwargs):
    """Derivative 1 inside [a_min, a_max] (boundaries included), 0 outside; a traced
    bound receives the derivative where it is selected."""
    no_kwargs("clip", out=out, **kwargs)
    if a_min is not _NoValue and min is not _NoValue:
        raise ValueError("Passed more than one argument for the lower bound")
    if a_max is not _NoValue and max is not _NoValue:
        raise ValueError("Passed more than one argument for the upper bound")
    lo = a_min if a_min is not _NoValue else (None if min is _NoValue else min)
    hi = a_max if a_max is not _NoValue else (None if max is _NoValue else max)
    out_ = asarray_like(a)
    shape = np.broadcast_shapes(shape_of(out_), shape_of(lo) if lo is not None else (),
                                shape_of(hi) if hi is not None else ())
    if lo is not None:
        out_ = ew.select_p.bind(_beyond("less", out_, lo), lo, out_)
    if hi is not None:
        out_ = ew.select_p.bind(_beyond("greater", out_, hi), hi, out_)
    return sp.broadcast_to(out_, shape)


def _beyond(cmp, a, bound):
    """Where ``clip`` takes the bound: beyond it, or where the bound is NaN (NumPy's
    clip is ``minimum(maximum(a, lo), hi)``, which propagates a NaN bound)."""
    out = ew.PRIMS[cmp].bind(a, bound)
    if not isinstance(bound, Tracer) and not np.isnan(bound).any():
        return out                          # (a constant bound without NaN: as it was)
    if dtype_of(bound).kind in "fc":
        out = ew.PRIMS["logical_or"].bind(out, ew.PRIMS["not_equal"].bind(bound, bound))
    return out


@traced_numpy(np.round, name="round")
def round_(a, decimals=0, out=None):
    """Piecewise constant: its derivative is zero."""
    no_kwargs("round", out=out)
    # (NumPy: a float ``decimals`` is a TypeError, where int() took 1.5 for 1)
    return round_p.bind(asarray_like(a), decimals=operator.index(decimals))


@traced_numpy(np.around)
def around(a, decimals=0, out=None):
    """Piecewise constant: its derivative is zero."""
    return round_(a, decimals, out)


@traced_numpy(np.fix)
def fix(x, out=None):
    """NumPy's: ``trunc`` (rounds towards zero; -0.5 gives -0.0). Piecewise constant:
    its derivative is zero."""
    return ew.PRIMS["trunc"].bind(asarray_like(x))


# ---------------------------------------------------------------- differences

@traced_numpy(np.diff, view="identity")   # n=0: the argument itself
def diff(a, n=1, axis=-1, prepend=_NoValue, append=_NoValue):
    if n == 0:
        return a
    if n < 0:
        raise ValueError("order must be non-negative but got " + repr(n))
    a = asarray_like(a)
    nd = len(shape_of(a))
    if nd == 0:
        raise ValueError("diff requires input that is at least one dimensional")
    axis = single_axis(axis, nd)
    parts = []
    for extra in (prepend, append):
        if extra is _NoValue:
            parts.append(None)
            continue
        extra = asarray_like(extra)
        if not shape_of(extra):
            s = list(shape_of(a))
            s[axis] = 1
            extra = sp.broadcast_to(extra, tuple(s))
        parts.append(extra)
    if parts[0] is not None or parts[1] is not None:
        a = concatenate([p for p in (parts[0], a, parts[1]) if p is not None], axis=axis)
    for _ in range(n):
        m = shape_of(a)[axis]
        hi, lo = slice_axis(a, axis, 1, None), slice_axis(a, axis, 0, builtins.max(m - 1, 0))
        # NumPy: not_equal for booleans (a boolean result, no derivative)
        a = ew.not_equal_p.bind(hi, lo) if dtype_of(a) == np.bool_ else hi - lo
    return a


@traced_numpy(np.ediff1d)
def ediff1d(ary, to_end=None, to_begin=None):
    """NumPy's: the result has ``ary``'s dtype; ``to_begin``/``to_end`` are cast to
    it (a TypeError where that is not a same_kind cast); booleans raise (NumPy
    subtracts them)."""
    a = ravel(asarray_like(ary))
    dt = dtype_of(a)
    if dt == np.bool_:
        raise TypeError("chainrule.numpy.ediff1d: numpy boolean subtract, the `-` "
                        "operator, is not supported, use the bitwise_xor, the `^` "
                        "operator, or the logical_xor function instead.")
    d = diff(a)
    extra = {}
    for name, x in (("to_begin", to_begin), ("to_end", to_end)):
        if x is None:
            continue
        x = asarray_like(x)
        if not np.can_cast(dtype_of(x), dt, casting="same_kind"):
            raise TypeError(f"dtype of `{name}` must be compatible "
                            "with input `ary` under the `same_kind` rule.")
        extra[name] = astype(ravel(x), dt)
    parts = [p for p in (extra.get("to_begin"), d, extra.get("to_end")) if p is not None]
    return concatenate(parts) if len(parts) > 1 else d


# ---------------------------------------------------------------- small products

@traced_numpy(np.trace)
def trace(a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    no_kwargs("trace", out=out)
    return _sum(diagonal(a, offset, axis1, axis2), axis=-1, dtype=dtype)


@traced_numpy(np.kron)
def kron(a, b):
    a, b = asarray_like(a), asarray_like(b)
    sa, sb = shape_of(a), shape_of(b)
    if not sa or not sb:
        return a * b
    nd = builtins.max(len(sa), len(sb))
    sa, sb = (1,) * (nd - len(sa)) + sa, (1,) * (nd - len(sb)) + sb
    a2 = sp.reshape(a, sum(((n, 1) for n in sa), ()))
    b2 = sp.reshape(b, sum(((1, n) for n in sb), ()))
    return sp.reshape(a2 * b2, tuple(x * y for x, y in zip(sa, sb)))


@traced_numpy(np.cross)
def cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """3-vectors (and NumPy's deprecated 2-vectors, as the z component)."""
    if axis is not None:
        axisa = axisb = axisc = axis
    a, b = asarray_like(a), asarray_like(b)
    axisa = single_axis(axisa, len(shape_of(a)))
    axisb = single_axis(axisb, len(shape_of(b)))
    a, b = moveaxis(a, axisa, -1), moveaxis(b, axisb, -1)
    na, nb = shape_of(a)[-1], shape_of(b)[-1]
    if na not in (2, 3) or nb not in (2, 3):
        raise ValueError("incompatible dimensions for cross product\n"
                         "(dimension must be 2 or 3)")
    lead = np.broadcast_shapes(shape_of(a)[:-1], shape_of(b)[:-1])
    ax = [slice_axis(a, len(shape_of(a)) - 1, i, i + 1)[..., 0] for i in range(na)]
    bx = [slice_axis(b, len(shape_of(b)) - 1, i, i + 1)[..., 0] for i in range(nb)]
    if na == 2 and nb == 2:
        warnings.warn("Arrays of 2-dimensional vectors are deprecated. Use arrays of "
                      "3-dimensional vectors instead. (deprecated in NumPy 2.0)",
                      DeprecationWarning, stacklevel=3)
        return sp.broadcast_to(ax[0] * bx[1] - ax[1] * bx[0], lead)
    z = 0.0
    a0, a1, a2 = ax + [z] * (3 - na)
    b0, b1, b2 = bx + [z] * (3 - nb)
    comps = [a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0]
    out = stack([sp.broadcast_to(asarray_like(c), lead) for c in comps], axis=-1)
    axisc = single_axis(axisc, len(shape_of(out)))
    return moveaxis(out, -1, axisc)


# ---------------------------------------------------------------- index results

def _arg_extremum(prim, name):
    def fn(a, axis=None, out=None, *, keepdims=False):
        """Not differentiable (an index); a primitive, so it batches under vmap."""
        no_kwargs(name, out=out)
        a = asarray_like(a)
        if axis is not None:
            axis = single_axis(axis, len(shape_of(a)))
        return prim.bind(a, axis=axis, keepdims=keepdims)
    fn.__name__ = name
    return fn


argmax = numpy_function(np.argmax, name="argmax")(_arg_extremum(argmax_p, "argmax"))
argmin = numpy_function(np.argmin, name="argmin")(_arg_extremum(argmin_p, "argmin"))


@numpy_function(np.argsort)
def argsort(a, axis=-1, kind=None, order=None, *, stable=None):
    """Not differentiable (indices); a primitive, so it batches under vmap."""
    if order is not None:
        raise NotImplementedError("chainrule.numpy.argsort: order= is not supported inside "
                                  "a transformation")
    a = asarray_like(a)
    if axis is None:
        a, axis = ravel(a), 0
    axis = single_axis(axis, len(shape_of(a)))
    return argsort_p.bind(a, axis=axis)


# ---------------------------------------------------------------- ufunc methods

def _loop_dtype(ufunc, a):
    """The dtype of NumPy's loop of the binary ``ufunc`` for ``a`` (ints -> float64 for
    logaddexp; NumPy's TypeError for a dtype it has no loop for)."""
    z = np.zeros(1, dtype_of(a))
    return ufunc(z, z).dtype


def _scalar_error(a, method):
    if not shape_of(a):
        raise TypeError(f"cannot {method} on a scalar")


def _accumulate_args(ufunc, a, axis, dtype, out):
    """``ufunc.accumulate``'s argument checks, as NumPy's: the array (in ``dtype``) and
    its one axis."""
    no_kwargs(f"{ufunc.__name__}.accumulate", out=out)
    a = asarray_like(a)
    _scalar_error(a, "accumulate")
    if dtype is not None:
        a = astype(a, dtype)
    if axis is None or isinstance(axis, tuple):
        raise ValueError("accumulate does not allow multiple axes")
    return a, single_axis(axis, len(shape_of(a)))


def _extremum_accumulate(prim, ufunc):
    def accumulate(a, axis=0, dtype=None, out=None):
        """NumPy's values; the derivative of each running extremum goes to the element
        that set it (shared equally among equal elements, as np.max's)."""
        a, axis = _accumulate_args(ufunc, a, axis, dtype, out)
        if dtype_of(a).kind == "c":
            raise NotImplementedError(f"numpy.{ufunc.__name__}.accumulate of complex values "
                                      "is not supported on traced values")
        return prim.bind(a, axis=axis)
    return accumulate


def _logaddexp_reduce(a, axis=0, dtype=None, out=None, keepdims=False, initial=_NoValue,
                      where=True):
    """NumPy's fold; derivative ``exp(x - result)`` (0 where masked out)."""
    no_kwargs("logaddexp.reduce", out=out)
    a = asarray_like(a)
    if dtype is not None:
        a = astype(a, dtype)
    dt = _loop_dtype(np.logaddexp, a)
    if dt != dtype_of(a):
        a = astype(a, dt)
    axes = normalize_axis(None if not shape_of(a) else axis, len(shape_of(a)))
    mask = where_mask("logaddexp.reduce", a, axes, where)
    if mask is None:
        mask = np.broadcast_to(np.True_, shape_of(a))
    if initial is _NoValue or initial is None:
        initial = None
    elif isinstance(initial, Tracer):
        raise NotImplementedError("numpy.logaddexp.reduce: a traced initial= is not "
                                  "supported inside a transformation")
    else:
        initial = np.logaddexp.reduce(np.empty(0, dt), initial=initial).item()
    return logaddexp_reduce_p.bind(a, mask, axis=axes, keepdims=keepdims, initial=initial)


def _logaddexp_accumulate(a, axis=0, dtype=None, out=None):
    """NumPy's fold; the derivative of ``y[i]`` in ``x[j]`` is ``exp(x[j] - y[i])``."""
    a, axis = _accumulate_args(np.logaddexp, a, axis, dtype, out)
    dt = _loop_dtype(np.logaddexp, a)
    return logaddexp_accumulate_p.bind(a if dt == dtype_of(a) else astype(a, dt), axis=axis)


def _add_reduceat(a, indices, axis=0, dtype=None, out=None):
    """NumPy's values (``indices`` concrete); the derivative of each sum goes to the
    entries of its slice."""
    no_kwargs("add.reduceat", out=out)
    a = asarray_like(a)
    _scalar_error(a, "reduceat")
    if dtype is not None:
        a = astype(a, dtype)
    idx = concrete(indices)
    # NumPy's checks and errors (indices' dtype and range, the axis), on a stand-in of
    # a's shape and dtype (a view of one zero)
    np.add.reduceat(np.broadcast_to(np.zeros((), dtype_of(a)), shape_of(a)), idx, axis=axis)
    idx = np.asarray(idx, np.intp).reshape(-1)
    return add_reduceat_p.bind(a, indices=tuple(int(i) for i in idx),
                               axis=single_axis(axis, len(shape_of(a))))


# numpy.<ufunc>.<method>(traced, ...) beyond the ones that are chainrule.numpy
# functions (methods.py's _array_ufunc)
UFUNC_METHODS = {
    ("maximum", "accumulate"): _extremum_accumulate(cummax_p, np.maximum),
    ("minimum", "accumulate"): _extremum_accumulate(cummin_p, np.minimum),
    ("logaddexp", "reduce"): _logaddexp_reduce,
    ("logaddexp", "accumulate"): _logaddexp_accumulate,
    ("add", "reduceat"): _add_reduceat,
}
