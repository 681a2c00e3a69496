"""Shape manipulation and indexing functions of chainrule.numpy: stacking and
splitting, tiling and repeating, flips and rolls, padding, take/take_along_axis,
select, meshgrid, diagonals and triangles, insert/delete/resize.

None of them needs a primitive of its own: they are compositions of reshape,
broadcast_to, transpose, concatenate, select and ``getitem`` (whose transpose
scatters back, adding repeated indices). Integer index maps are computed with NumPy
on index arrays (e.g. ``np.pad(np.arange(n), ...)``), which reproduces NumPy's
semantics and errors exactly; the data then moves with one gather.

Every function calls NumPy itself when none of its arguments is traced.
"""
import builtins
import functools
import operator

import numpy as np

from ..core import Tracer, shape_of, dtype_of
from ..prims import shape as sp
from ..prims import elementwise as ew
from ..prims.indexing import getitem_p, scatter_add_p, ARRAY, sliding_window_p
from ..prims.products import matmul_p
from .dispatch import numpy_function, no_kwargs, PUBLIC, dask_differs, WRITES_IN_PLACE
from . import aliasing
from .basic import (normalize_axis, single_axis, asarray_like, concatenate, reshape, transpose, ravel,
                    astype, array, _has_tracer, concrete)

_NoValue = np._NoValue


def traced_numpy(np_fn, **kw):
    """``numpy_function`` whose traced body only runs when an argument is traced."""
    def deco(fn):
        @functools.wraps(fn)
        def body(*args, **kwargs):
            if not _has_tracer(args) and not _has_tracer(tuple(kwargs.values())):
                return np_fn(*args, **kwargs)
            return fn(*args, **kwargs)
        return numpy_function(np_fn, **kw)(body)
    return deco


def _prod(shape):
    return functools.reduce(operator.mul, shape, 1)


def _full_slices(axis):
    return (("slice", None, None, None),) * axis


def slice_axis(a, axis, start, stop, step=None):
    """``a[..., start:stop:step, ...]`` on one axis (a view; vjp writes back)."""
    return getitem_p.bind(a, spec=_full_slices(axis) + (("slice", start, stop, step),))


def take_axis(a, idx, axis):
    """``np.take(a, idx, axis)`` for a concrete integer index array (NumPy raises
    IndexError for out-of-bounds entries); vjp adds repeated indices."""
    if not isinstance(idx, Tracer):
        idx = np.asarray(idx, dtype=np.intp)
    return getitem_p.bind(a, idx, spec=_full_slices(axis) + (ARRAY,))


def _int_array(x, what="indices"):
    """An integer index array; a traced one (batched under vmap) stays traced."""
    if isinstance(x, Tracer):
        if dtype_of(x).kind not in "iu":
            raise IndexError(f"{what} must be integers")
        return x
    x = np.asarray(x)
    if x.dtype.kind not in "iub" and x.size:
        raise IndexError(f"{what} must be integers")
    return x.astype(np.intp)


# ---------------------------------------------------------------- atleast / stacking

def _atleast(arys, nd):
    out = []
    for a in arys:
        a = asarray_like(a)
        s = shape_of(a)
        if len(s) < nd:
            if nd == 3 and len(s) == 2:
                s = s + (1,)
            elif nd == 3 and len(s) == 1:
                s = (1,) + s + (1,)
            else:
                s = (1,) * (nd - len(s)) + s
            a = sp.reshape(a, s)
        out.append(a)
    return out[0] if len(out) == 1 else tuple(out)


@traced_numpy(np.atleast_1d, view="each")
def atleast_1d(*arys):
    return _atleast(arys, 1)


@traced_numpy(np.atleast_2d, view="each")
def atleast_2d(*arys):
    return _atleast(arys, 2)


@traced_numpy(np.atleast_3d, view="each")
def atleast_3d(*arys):
    return _atleast(arys, 3)


def _as_list(tup, name):
    if not isinstance(tup, (list, tuple)):
        raise TypeError(f"arrays to {name} must be passed as a sequence type such as "
                        "list or tuple.")
    return list(tup)


@traced_numpy(np.vstack)
def vstack(tup, *, dtype=None, casting="same_kind"):
    arrs = [_atleast([a], 2) for a in _as_list(tup, "stack")]
    return concatenate(arrs, axis=0, dtype=dtype, casting=casting)


@traced_numpy(np.hstack)
def hstack(tup, *, dtype=None, casting="same_kind"):
    arrs = [_atleast([a], 1) for a in _as_list(tup, "stack")]
    if arrs and len(shape_of(arrs[0])) == 1:
        return concatenate(arrs, axis=0, dtype=dtype, casting=casting)
    return concatenate(arrs, axis=1, dtype=dtype, casting=casting)


@traced_numpy(np.dstack)
def dstack(tup):
    return concatenate([_atleast([a], 3) for a in _as_list(tup, "stack")], axis=2)


@traced_numpy(np.column_stack)
def column_stack(tup):
    arrs = []
    for a in _as_list(tup, "stack"):
        a = asarray_like(a)
        s = shape_of(a)
        if len(s) < 2:
            a = sp.reshape(a, (_prod(s), 1))
        arrs.append(a)
    return concatenate(arrs, axis=1)


@traced_numpy(np.append)
def append(arr, values, axis=None):
    arr, values = asarray_like(arr), asarray_like(values)
    if axis is None:
        return concatenate([ravel(arr), ravel(values)], axis=0)
    return concatenate([arr, values], axis=axis)


# ---------------------------------------------------------------- splitting

def _split(ary, indices_or_sections, axis, equal):
    ary = asarray_like(ary)
    s = shape_of(ary)
    axis = single_axis(axis, len(s))
    n = s[axis]
    if isinstance(indices_or_sections, (int, np.integer)) or \
            np.ndim(concrete(indices_or_sections)) == 0:
        raw = concrete(indices_or_sections)
        sections = int(raw)
        if sections <= 0:
            raise ValueError("number sections must be larger than 0.")
        if equal and n % raw:       # (NumPy's test, with the value given: 1.5 splits 4 unequally)
            raise ValueError("array split does not result in an equal division")
        each, extra = divmod(n, sections)
        sizes = [0] + extra * [each + 1] + (sections - extra) * [each]
        points = np.cumsum(sizes).tolist()
    else:
        points = [0] + [operator.index(i) for i in concrete(indices_or_sections)] + [n]
    return [slice_axis(ary, axis, points[i], points[i + 1]) for i in range(len(points) - 1)]


@traced_numpy(np.split, view="split")
def split(ary, indices_or_sections, axis=0):
    return _split(ary, indices_or_sections, axis, True)


@traced_numpy(np.array_split, view="split")
def array_split(ary, indices_or_sections, axis=0):
    return _split(ary, indices_or_sections, axis, False)


@traced_numpy(np.hsplit, view="split")
def hsplit(ary, indices_or_sections):
    nd = len(shape_of(ary))
    if nd == 0:
        raise ValueError("hsplit only works on arrays of 1 or more dimensions")
    return _split(ary, indices_or_sections, 1 if nd > 1 else 0, True)


@traced_numpy(np.vsplit, view="split")
def vsplit(ary, indices_or_sections):
    if len(shape_of(ary)) < 2:
        raise ValueError("vsplit only works on arrays of 2 or more dimensions")
    return _split(ary, indices_or_sections, 0, True)


@traced_numpy(np.dsplit, view="split")
def dsplit(ary, indices_or_sections):
    if len(shape_of(ary)) < 3:
        raise ValueError("dsplit only works on arrays of 3 or more dimensions")
    return _split(ary, indices_or_sections, 2, True)


# ---------------------------------------------------------------- tile / repeat

@traced_numpy(np.tile)
def tile(A, reps):
    A = asarray_like(A)
    # (an integer: NumPy's TypeError for a float, where int() took 1.5 for 1; booleans
    # count)
    def _rep(r):
        return int(r) if isinstance(r, (bool, np.bool_)) else operator.index(r)
    reps = tuple(_rep(r) for r in np.atleast_1d(concrete(reps))) \
        if np.ndim(reps) == 0 else tuple(_rep(r) for r in reps)
    if builtins.any(r < 0 for r in reps):
        raise ValueError("negative dimensions are not allowed")
    s = shape_of(A)
    d = builtins.max(len(reps), len(s))
    s = (1,) * (d - len(s)) + s
    reps = (1,) * (d - len(reps)) + reps
    inter = sum(((1, n) for n in s), ())
    big = sum(((r, n) for r, n in zip(reps, s)), ())
    out = sp.broadcast_to(sp.reshape(A, inter), big)
    return sp.reshape(out, tuple(r * n for r, n in zip(reps, s)))


@traced_numpy(np.repeat)
def repeat(a, repeats, axis=None):
    """Integer ``repeats`` broadcast the array (no index arrays); array repeats gather."""
    a = asarray_like(a)
    if axis is None:
        a, axis = ravel(a), 0
    s = shape_of(a)
    axis = single_axis(axis, len(s))
    n = s[axis]
    reps = np.asarray(concrete(repeats))
    idx = np.repeat(np.arange(n), reps)     # NumPy's errors (negative, bad shapes)
    if reps.ndim == 0 or reps.size == 1:
        r = int(reps.reshape(()))
        out = sp.broadcast_to(sp.reshape(a, s[:axis + 1] + (1,) + s[axis + 1:]),
                              s[:axis + 1] + (r,) + s[axis + 1:])
        return sp.reshape(out, s[:axis] + (n * r,) + s[axis + 1:])
    return take_axis(a, idx, axis)


# ---------------------------------------------------------------- flips and rolls

@traced_numpy(np.flip, view="always")
def flip(m, axis=None):
    m = asarray_like(m)
    nd = len(shape_of(m))
    axes = normalize_axis(axis, nd)
    if not axes:
        return m
    spec = tuple(("slice", None, None, -1 if i in axes else None)
                 for i in range(builtins.max(axes) + 1))
    return getitem_p.bind(m, spec=spec)


@traced_numpy(np.fliplr, view="always")
def fliplr(m):
    if len(shape_of(m)) < 2:
        raise ValueError("Input must be >= 2-d.")
    return flip(m, 1)


@traced_numpy(np.flipud, view="always")
def flipud(m):
    if len(shape_of(m)) < 1:
        raise ValueError("Input must be >= 1-d.")
    return flip(m, 0)


@traced_numpy(np.roll)
def roll(a, shift, axis=None):
    a = asarray_like(a)
    if axis is None:
        return reshape(roll(ravel(a), shift, 0), shape_of(a))
    s = shape_of(a)
    like = a
    b = np.broadcast(np.asarray(concrete(shift)), np.asarray(axis))
    shifts = {}
    for sh, ax in b:
        (ax,) = normalize_axis(operator.index(ax), len(s))
        shifts[ax] = shifts.get(ax, 0) + int(sh)
    for ax, sh in shifts.items():
        n = s[ax]
        k = sh % n if n else 0
        if k:
            a = concatenate([slice_axis(a, ax, n - k, None), slice_axis(a, ax, 0, n - k)],
                            axis=ax)
    return aliasing.fresh_layout(a, "K", like=like)      # NumPy's: np.empty_like(a)


@traced_numpy(np.rot90, view="always")
def rot90(m, k=1, axes=(0, 1)):
    axes = tuple(axes)
    if len(axes) != 2:
        raise ValueError("len(axes) must be 2.")
    m = asarray_like(m)
    nd = len(shape_of(m))
    if axes[0] == axes[1] or builtins.abs(axes[0] - axes[1]) == nd:
        raise ValueError("Axes must be different.")
    if axes[0] >= nd or axes[0] < -nd or axes[1] >= nd or axes[1] < -nd:
        raise ValueError(f"Axes={axes} out of range for array of ndim={nd}.")
    k %= 4
    if k == 0:
        return m
    if k == 2:
        return flip(flip(m, axes[0]), axes[1])
    perm = list(range(nd))
    perm[axes[0]], perm[axes[1]] = perm[axes[1]], perm[axes[0]]
    if k == 1:
        return transpose(flip(m, axes[1]), perm)
    return flip(transpose(m, perm), axes[1])


@traced_numpy(np.rollaxis, view="always")
def rollaxis(a, axis, start=0):
    a = asarray_like(a)
    n = len(shape_of(a))
    axis = single_axis(axis, n)
    start = operator.index(start)
    if start < 0:
        start += n
    if not 0 <= start < n + 1:
        raise np.exceptions.AxisError(f"'start' arg requires {-n} <= start < {n + 1}, but "
                                      f"{start} was passed in")
    if axis < start:
        start -= 1
    axes = [i for i in range(n) if i != axis]
    axes.insert(start, axis)
    return transpose(a, axes)


# ---------------------------------------------------------------- padding

_PAD_KWARGS = {"constant": {"constant_values"}, "empty": set(), "edge": set(),
               "wrap": set(), "reflect": {"reflect_type"}, "symmetric": {"reflect_type"},
               "linear_ramp": {"end_values"}, "maximum": {"stat_length"},
               "mean": {"stat_length"}, "median": {"stat_length"},
               "minimum": {"stat_length"}}


def _as_pairs(x, nd):
    """NumPy's ``np.pad`` rule: ``x`` as ``nd`` (before, after) pairs."""
    x = np.asarray(x)
    if x.size == 1:
        return ((x.ravel()[0], x.ravel()[0]),) * nd
    if x.size == 2 and x.shape != (2, 1):
        x = x.ravel()
        return ((x[0], x[1]),) * nd
    return tuple(tuple(p) for p in np.broadcast_to(x, (nd, 2)))


def _traced_pairs(x, nd):
    """:func:`_as_pairs` for a traced ``constant_values`` (a tracer, or a nested
    list holding some): NumPy's rule (and errors) applied to the positions of the
    entries, which then pick traced values."""
    x = array(x)
    s = shape_of(x)
    where = _as_pairs(np.arange(_prod(s)).reshape(s), nd)
    flat = sp.reshape(x, (-1,))
    return tuple((flat[int(i)], flat[int(j)]) for i, j in where)


@traced_numpy(np.pad, eager=dask_differs(
    np.pad, "Dask's pad with a callable mode gives NaN",
    lambda array, pad_width, mode="constant", **kw: callable(mode)))
def pad(array, pad_width, mode="constant", **kwargs):
    """Every mode. 'constant' (``constant_values`` may be traced), 'empty' (pads with
    0), 'edge', 'wrap', 'reflect', 'symmetric', 'linear_ramp' (``end_values`` may be
    traced) and the statistic modes are differentiable (the statistics' derivatives:
    a tie of 'maximum' sends it to one element); a callable mode runs on traced 1-D
    views of the padded array, as NumPy's does, so in-place writes are seen."""
    a = asarray_like(array)
    s = shape_of(a)
    nd = len(s)
    order = aliasing.numpy_order_of(a)     # NumPy allocates the result in a's order
    if not callable(mode) and mode not in _PAD_KWARGS:
        raise ValueError(f"mode '{mode}' is not supported")
    bad = set() if callable(mode) else set(kwargs) - _PAD_KWARGS[mode]
    if bad:
        raise ValueError(f"unsupported keyword arguments for mode '{mode}': {bad}")
    pw = np.asarray(concrete(pad_width))
    if pw.dtype.kind not in "iu":
        raise TypeError("`pad_width` must be of integral type.")
    pairs = [(int(b), int(e)) for b, e in _as_pairs(pw.astype(np.intp), nd)]
    if builtins.any(b < 0 or e < 0 for b, e in pairs):
        raise ValueError("index can't contain negative values")
    if callable(mode):
        return _pad_callable(a, pairs, mode, kwargs)
    if mode in ("constant", "empty"):
        cv = kwargs.get("constant_values", 0)
        if _has_tracer(cv):
            vals = _traced_pairs(cv, nd)
        else:
            vals = _as_pairs(np.asarray(cv, dtype=dtype_of(a)), nd)
        for ax, ((b, e), (vb, ve)) in enumerate(zip(pairs, vals)):
            if not b and not e:
                continue
            cur = shape_of(a)
            parts = [a]
            if b:
                parts.insert(0, _filled(vb, cur[:ax] + (b,) + cur[ax + 1:], a))
            if e:
                parts.append(_filled(ve, cur[:ax] + (e,) + cur[ax + 1:], a))
            a = concatenate(parts, axis=ax)
        return aliasing.fresh_layout(a, order)
    for ax, (b, e) in enumerate(pairs):
        if s[ax] == 0 and (b or e):
            raise ValueError(f"can't extend empty axis {ax} using modes other than "
                             "'constant' or 'empty'")
    if mode == "linear_ramp":
        return aliasing.fresh_layout(_pad_ramp(a, pairs, kwargs.get("end_values", 0)), order)
    if mode in _PAD_STATS:
        return aliasing.fresh_layout(_pad_stat(a, pairs, mode, kwargs.get("stat_length")),
                                     order)
    odd = kwargs.get("reflect_type", "even") == "odd"
    for ax, (b, e) in enumerate(pairs):
        if not b and not e:
            continue
        n = shape_of(a)[ax]
        parts = _pad_slices(a, ax, n, b, e, mode, odd)
        if parts is not None:
            a = concatenate(parts, axis=ax)
        elif odd:
            # the odd extension is linear but not a gather: apply NumPy's own map
            # (the padded identity) along this axis
            m = np.pad(np.eye(n), ((b, e), (0, 0)), mode=mode, **kwargs)
            a = sp.moveaxis(_matvec(m, sp.moveaxis(a, ax, -1)), -1, ax)
        else:
            a = take_axis(a, np.pad(np.arange(n), (b, e), mode=mode, **kwargs), ax)
    return aliasing.fresh_layout(a, order)


def _pad_slices(a, ax, n, b, e, mode, odd):
    """[before, a, after] from slices and flips when the widths fit in the array
    (cheap derivatives: no index arrays); None otherwise."""
    lim = {"edge": None, "reflect": n - 1, "symmetric": n, "wrap": n}[mode]
    if lim is not None and (b > lim or e > lim):
        return None
    if mode == "edge":
        cur = shape_of(a)
        first, last = slice_axis(a, ax, 0, 1), slice_axis(a, ax, n - 1, n)
        before = sp.broadcast_to(first, cur[:ax] + (b,) + cur[ax + 1:])
        after = sp.broadcast_to(last, cur[:ax] + (e,) + cur[ax + 1:])
    elif mode == "wrap":
        before, after = slice_axis(a, ax, n - b, n), slice_axis(a, ax, 0, e)
    else:
        k = 1 if mode == "reflect" else 0
        before = flip(slice_axis(a, ax, k, k + b), ax)
        after = flip(slice_axis(a, ax, n - k - e, n - k), ax)
        if odd:
            before = 2 * slice_axis(a, ax, 0, 1) - before
            after = 2 * slice_axis(a, ax, n - 1, n) - after
    return [p for p, w in ((before, b), (a, 1), (after, e)) if w]


def _matvec(m, x):
    """x @ m.T over the last axis of x (m is a constant matrix)."""
    return matmul_p.bind(x, np.ascontiguousarray(m.T))


def _filled(v, shape, like):
    if not isinstance(v, Tracer):
        return np.full(shape, v, dtype=dtype_of(like))
    if dtype_of(v) != dtype_of(like):       # NumPy casts the value to the array's dtype
        v = astype(v, dtype_of(like))       # (a traced 0.7 padded an int array with 0.7)
    return sp.broadcast_to(v, shape)


_PAD_STATS = {"maximum": "max", "minimum": "min", "mean": "mean", "median": "median"}


def _pad_ramp(a, pairs, end_values):
    """NumPy's ramps, axis by axis: ``i * ((edge - end) / width) + end`` (linspace's
    arithmetic), the right one reversed."""
    nd = len(shape_of(a))
    ends = _traced_pairs(end_values, nd) if _has_tracer(end_values) else \
        _as_pairs(end_values, nd)
    for ax, ((b, e), pair) in enumerate(zip(pairs, ends)):
        n, parts = shape_of(a)[ax], [a]
        for width, end, at in ((b, pair[0], 0), (e, pair[1], n - 1)):
            if not width:
                continue
            edge = slice_axis(a, ax, at, at + 1)
            i = np.arange(width, dtype=dtype_of(a)).reshape(
                tuple(-1 if k == ax else 1 for k in range(nd)))
            ramp = i * ((edge - end) / width) + end
            if dtype_of(a).kind in "iu" and dtype_of(ramp).kind == "f":
                ramp = ew.PRIMS["floor"].bind(ramp)     # linspace's integer rounding
            parts.insert(0, ramp) if at == 0 else parts.append(flip(ramp, ax))
        a = concatenate([p if dtype_of(p) == dtype_of(a) else astype(p, dtype_of(a))
                         for p in parts], axis=ax)
    return a


def _pad_stat(a, pairs, mode, stat_length):
    """NumPy's statistic modes, axis by axis (later axes see earlier axes' pads)."""
    stat = PUBLIC["numpy"][_PAD_STATS[mode]]
    nd = len(shape_of(a))
    lengths = [(None, None)] * nd if stat_length is None else [
        (int(x), int(y)) for x, y in _as_pairs(np.round(concrete(stat_length)), nd)]
    if builtins.any(x is not None and x < 0 for p in lengths for x in p):
        raise ValueError("index can't contain negative values")
    for ax, ((b, e), (lb, le)) in enumerate(zip(pairs, lengths)):
        n = shape_of(a)[ax]
        lb, le = builtins.min(n, n if lb is None else lb), builtins.min(n, n if le is None else le)
        if (lb == 0 or le == 0) and mode in ("maximum", "minimum"):
            raise ValueError("stat_length of 0 yields no value for padding")
        left = stat(slice_axis(a, ax, 0, lb), axis=ax, keepdims=True)
        right = left if lb == le == n else \
            stat(slice_axis(a, ax, n - le, n), axis=ax, keepdims=True)
        cur = shape_of(a)
        parts = [sp.broadcast_to(left, cur[:ax] + (b,) + cur[ax + 1:])] if b else []
        parts += [a] + ([sp.broadcast_to(right, cur[:ax] + (e,) + cur[ax + 1:])] if e else [])
        a = concatenate(parts, axis=ax) if len(parts) > 1 else a
    return a


def _pad_callable(a, pairs, function, kwargs):
    """NumPy's callable mode: ``function(vector, (before, after), axis, kwargs)`` on every
    1-D line of the zero-padded array, axis by axis, writing into it in place. The
    lines are views (the function runs as the user's code), so its writes reach the
    padded array, in values and derivatives."""
    padded = aliasing.copy_of(pad(a, pairs) if isinstance(a, Tracer) else
                              np.pad(a, pairs))
    moveaxis = PUBLIC["numpy"]["moveaxis"]
    def lines():                         # views of ``padded``, as the user's code makes
        for ax in range(len(shape_of(padded))):
            view = moveaxis(padded, ax, -1)
            for ind in np.ndindex(*shape_of(view)[:-1]):
                function(view[ind + (Ellipsis,)], pairs[ax], ax, kwargs)
    aliasing.as_user(lines)
    return padded


# ---------------------------------------------------------------- take / select

@traced_numpy(np.take, eager=dask_differs(
    np.take, "without an axis Dask's take indexes along axis 0, where NumPy's indexes the "
    "flattened array: pass axis= (or ravel the array first)",
    lambda a, indices, axis=None, *args, **kw: axis is None and len(np.shape(a)) > 1))
def take(a, indices, axis=None, out=None, mode="raise"):
    no_kwargs("take", out=out)
    a = asarray_like(a)
    if axis is None:
        a, axis = ravel(a), 0
    s = shape_of(a)
    axis = single_axis(axis, len(s))
    idx = _int_array(indices)
    n = s[axis]
    if mode == "wrap":
        idx = idx % n if n else idx
    elif mode == "clip":
        idx = ew.PRIMS["minimum"].bind(ew.PRIMS["maximum"].bind(idx, 0), n - 1)
    elif mode != "raise":
        raise ValueError(f"clipmode must be one of 'clip', 'raise', or 'wrap' (got {mode!r})")
    # NumPy's take allocates in C order (the gather may have made another layout)
    return aliasing.fresh_layout(take_axis(a, idx, axis), "C")


def _along_axis_index(arr_shape, indices, axis):
    idx = _int_array(indices)
    if len(shape_of(idx)) != len(arr_shape):
        raise ValueError("`indices` and `arr` must have the same number of dimensions")
    nd = len(arr_shape)
    full = []
    for i in range(nd):
        if i == axis:
            full.append(idx)
        else:
            shp = [1] * nd
            shp[i] = arr_shape[i]
            full.append(np.arange(arr_shape[i]).reshape(shp))
    # NumPy's broadcasting errors, before any data moves
    np.broadcast_shapes(*[shape_of(f) for f in full])
    return full


@traced_numpy(np.take_along_axis)
def take_along_axis(arr, indices, axis=-1):
    arr = asarray_like(arr)
    if axis is None:
        if len(shape_of(indices)) != 1:
            raise ValueError("when axis=None, `indices` must have a single dimension.")
        arr, axis = ravel(arr), 0
    s = shape_of(arr)
    axis = single_axis(axis, len(s))
    full = _along_axis_index(s, indices, axis)
    return getitem_p.bind(arr, *full, spec=(ARRAY,) * len(full))


@traced_numpy(np.put_along_axis, eager=dask_differs(np.put_along_axis, WRITES_IN_PLACE))
def put_along_axis(arr, indices, values, axis):
    """In place, as NumPy: ``arr`` must be a traced array (or a plain array receiving
    plain values)."""
    s = shape_of(arr)
    if axis is None:            # arr.flat[indices] = values (values broadcast to indices)
        if len(shape_of(indices)) != 1:
            raise ValueError("when axis=None, `indices` must have a single dimension.")
        idx, n = _int_array(indices), _prod(s)
        if not isinstance(idx, Tracer):
            if idx.size and (idx.max() >= n or idx.min() < -n):
                bad = idx.max() if idx.max() >= n else idx.min()
                raise IndexError(f"index {bad} is out of bounds for axis 0 with size {n}")
            idx = idx % n if n else idx
        else:
            # a traced index out of range keeps an out-of-range first coordinate below,
            # so that indexing raises NumPy's IndexError (``% d`` on every axis wrapped
            # it: 1000 on 12 elements wrote element 4 under jit and vmap)
            idx = ew.select_p.bind(idx < 0, idx + n, idx)
            idx = ew.select_p.bind(idx < 0, n, idx)
        np.broadcast_shapes(shape_of(values), shape_of(idx))      # NumPy's error
        coords, rest = [], idx
        for k, d in enumerate(s[::-1]):     # the flat position's index along each axis
            coords.append(rest % d if k < len(s) - 1 else rest)
            rest = rest // d
        arr[tuple(coords[::-1])] = values
        return
    axis = single_axis(axis, len(s))
    arr[tuple(_along_axis_index(s, indices, axis))] = values


@traced_numpy(np.select)
def select(condlist, choicelist, default=0):
    if len(condlist) != len(choicelist):
        raise ValueError("list of cases must be same length as list of conditions")
    if len(condlist) == 0:
        raise ValueError("select with an empty condition list is not possible")
    conds = [asarray_like(c) for c in condlist]
    for i, c in enumerate(conds):
        if dtype_of(c).type is not np.bool_:
            raise TypeError(f"invalid entry {i} in condlist: should be boolean ndarray")
    choices = [asarray_like(c) for c in choicelist]
    dt = np.result_type(*[dtype_of(c) for c in choices], dtype_of(asarray_like(default)))
    shape = np.broadcast_shapes(*[shape_of(c) for c in conds], *[shape_of(c) for c in choices],
                                shape_of(default))
    out = default if isinstance(default, Tracer) else np.asarray(default, dt)
    for c, ch in zip(conds[::-1], choices[::-1]):
        out = ew.select_p.bind(c, ch, out)
    out = sp.broadcast_to(out, shape)
    return out if dtype_of(out) == dt else astype(out, dt)


@traced_numpy(np.meshgrid)
def meshgrid(*xi, copy=True, sparse=False, indexing="xy"):
    if indexing not in ("xy", "ij"):
        raise ValueError("Valid values for `indexing` are 'xy' and 'ij'.")
    nd = len(xi)
    out = []
    for i, x in enumerate(xi):
        shp = [1] * nd
        shp[i] = -1
        out.append(reshape(asarray_like(x), shp))
    if indexing == "xy" and nd > 1:
        out[0] = reshape(out[0], (1, -1) + (1,) * (nd - 2))
        out[1] = reshape(out[1], (-1, 1) + (1,) * (nd - 2))
    if not sparse:
        shape = np.broadcast_shapes(*[shape_of(o) for o in out])
        out = [sp.broadcast_to(o, shape) for o in out]
    return tuple(out)


@traced_numpy(np.broadcast_arrays, view="each")
def broadcast_arrays(*args, subok=False):
    args = [asarray_like(a) for a in args]
    shape = np.broadcast_shapes(*[shape_of(a) for a in args])
    return tuple(sp.broadcast_to(a, shape) for a in args)


# ---------------------------------------------------------------- diagonals and triangles

def _diag_index(n1, n2, offset):
    k = builtins.max(0, builtins.min(n1 + builtins.min(offset, 0), n2 - builtins.max(offset, 0)))
    i = np.arange(k) + builtins.max(-offset, 0)
    return i, i + offset


@traced_numpy(np.diagonal, view="readonly")
def diagonal(a, offset=0, axis1=0, axis2=1):
    a = asarray_like(a)
    s = shape_of(a)
    if len(s) < 2:
        raise ValueError("diag requires an array of at least two dimensions")
    (i1,), (i2,) = normalize_axis(axis1, len(s)), normalize_axis(axis2, len(s))
    if i1 == i2:
        raise ValueError("axis1 and axis2 cannot be the same")
    perm = [i for i in range(len(s)) if i not in (i1, i2)] + [i1, i2]
    a = sp.transpose(a, perm)
    rows, cols = _diag_index(s[i1], s[i2], operator.index(offset))     # (1.5: TypeError)
    return getitem_p.bind(a, rows, cols, spec=(Ellipsis, ARRAY, ARRAY))


@traced_numpy(np.diag, view="diag")
def diag(v, k=0):
    v = asarray_like(v)
    s = shape_of(v)
    if len(s) == 1:
        n = s[0] + builtins.abs(k)
        rows, cols = _diag_index(n, n, int(k))
        return scatter_add_p.bind(v, rows, cols, spec=(ARRAY, ARRAY), shape=(n, n),
                                  dtype=dtype_of(v).str)
    if len(s) == 2:
        return diagonal(v, k)
    raise ValueError("Input must be 1- or 2-d.")


@traced_numpy(np.diagflat)
def diagflat(v, k=0):
    return diag(ravel(v), k)


def _triangle(m, k, lower):
    m = asarray_like(m)
    s = shape_of(m)
    mask = np.tri(*s[-2:], k=k if lower else k - 1, dtype=bool)
    zero = np.zeros(1, dtype_of(m))
    return ew.select_p.bind(mask, m, zero) if lower else ew.select_p.bind(mask, zero, m)


@traced_numpy(np.tril)
def tril(m, k=0):
    return _triangle(m, k, True)


@traced_numpy(np.triu)
def triu(m, k=0):
    return _triangle(m, k, False)


# ---------------------------------------------------------------- insert / delete / resize

def _gather_flat(sources, index_map):
    """Element j of the result is element index_map[j] of the concatenated, raveled
    ``sources``."""
    flat = concatenate([ravel(asarray_like(x)) for x in sources], axis=0) \
        if len(sources) > 1 else ravel(asarray_like(sources[0]))
    return getitem_p.bind(flat, index_map, spec=(ARRAY,))


@traced_numpy(np.delete)
def delete(arr, obj, axis=None):
    arr = asarray_like(arr)
    s = shape_of(arr)
    if axis is None:
        arr, s, axis = ravel(arr), (_prod(s),), 0
    axis = single_axis(axis, len(s))
    try:
        keep = np.delete(np.arange(s[axis]), concrete(obj))
    except IndexError as e:
        raise IndexError(str(e).replace("axis 0", f"axis {axis}")) from None
    return take_axis(arr, keep, axis)


@traced_numpy(np.insert)
def insert(arr, obj, values, axis=None):
    """NumPy computes where everything goes (on index arrays); one gather moves it."""
    arr, values = asarray_like(arr), asarray_like(values)
    n = _prod(shape_of(arr))
    ids = np.arange(n).reshape(shape_of(arr))
    vals = -1 - np.arange(_prod(shape_of(values))).reshape(shape_of(values))
    where_from = np.insert(ids, concrete(obj), vals, axis=axis)
    index_map = np.where(where_from >= 0, where_from, n - 1 - where_from)
    if dtype_of(values) != dtype_of(arr):
        values = astype(values, dtype_of(arr))
    out = reshape(_gather_flat([arr, values], index_map.ravel()), where_from.shape)
    return aliasing.fresh_layout(out, aliasing.numpy_order_of(arr))     # as NumPy's


@traced_numpy(np.resize)
def resize(a, new_shape):
    a = asarray_like(a)
    index_map = np.resize(np.arange(_prod(shape_of(a))), concrete(new_shape))
    if index_map.size and not _prod(shape_of(a)):
        return np.zeros(index_map.shape, dtype_of(a))
    return reshape(_gather_flat([a], index_map.ravel()), index_map.shape)


# ---------------------------------------------------------------- ranges

@traced_numpy(np.linspace)
def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0, *,
             device=None):
    """Differentiable in ``start`` and ``stop`` (NumPy's formula: ``i * step + start``,
    the last sample set to ``stop``)."""
    num = operator.index(num)
    if num < 0:
        raise ValueError(f"Number of samples, {num}, must be non-negative.")
    div = (num - 1) if endpoint else num
    # NumPy's dtype: the result type of start and stop (Python numbers weak, so a
    # float32 start and a stop of 2.0 give float32), made inexact; asked of NumPy's
    # own linspace on stand-ins of those dtypes
    dt = np.linspace(*(_linspace_standin(v) for v in (start, stop)), num=0).dtype
    integer_dtype = dtype is not None and np.issubdtype(dtype, np.integer)
    start, stop = astype(asarray_like(start), dt), astype(asarray_like(stop), dt)
    if integer_dtype and dt.kind == "c":
        raise TypeError("chainrule.numpy.linspace: a complex sequence cannot be floored "
                        "to an integer dtype (NumPy's floor of complex values raises)")
    delta = stop - start
    nd = len(np.broadcast_shapes(shape_of(start), shape_of(stop)))
    y = np.arange(0, num, dtype=dtype_of(delta)).reshape((-1,) + (1,) * nd)
    step = delta / div if div > 0 else np.nan
    y = (y * step if div > 0 else y * delta) + start
    if endpoint and num > 1:
        last = sp.reshape(sp.broadcast_to(stop, shape_of(y)[1:]), (1,) + shape_of(y)[1:])
        y = concatenate([slice_axis(y, 0, 0, num - 1), last], axis=0)
    if axis != 0:
        (axis,) = normalize_axis(axis, nd + 1)
        y = sp.moveaxis(y, 0, axis)
    if integer_dtype:                   # NumPy floors before the cast (-3.3 -> -4)
        y = ew.floor_p.bind(y)
    if dtype is not None and np.dtype(dtype) != dtype_of(y):
        y = astype(y, dtype)
    return (y, step) if retstep else y


def _linspace_standin(v):
    """``v`` for NumPy's dtype resolution: a Python number as itself (weak), anything
    else a 0-d zero of its dtype."""
    if type(v) in (bool, int, float, complex):
        return v
    return np.zeros((), dtype_of(asarray_like(v)))


class _Concatenator:
    """``cnp.r_[...]`` / ``cnp.c_[...]``: NumPy's index-expression concatenation, with
    traced values among the items (NumPy's own objects cannot see them). Items are
    arrays, traced values, scalars, lists and slices (``1:4`` is ``arange(1, 4)``);
    without a traced item this is NumPy's own ``r_``/``c_``. String directives
    (``r_['0,2', ...]``) raise NotImplementedError with traced items."""

    def __init__(self, numpy_obj, columns):
        self.numpy_obj, self.columns = numpy_obj, columns

    def __getitem__(self, key):
        items = key if isinstance(key, tuple) else (key,)
        if not _has_tracer(items):
            return self.numpy_obj[key]
        parts = []
        for it in items:
            if isinstance(it, str):
                raise NotImplementedError(
                    f"chainrule.numpy.{'c_' if self.columns else 'r_'}: string directives "
                    "are not supported with traced values; use cnp.concatenate")
            if isinstance(it, slice):
                it = np.r_[it]
            a = asarray_like(it)
            nd = len(shape_of(a))
            if self.columns:
                if nd == 0:
                    raise NotImplementedError("chainrule.numpy.c_: scalar items are not "
                                              "supported with traced values")
                parts.append(reshape(a, shape_of(a) + (1,)) if nd == 1 else a)
            else:
                parts.append(reshape(a, (1,)) if nd == 0 else a)
        return concatenate(parts, axis=-1 if self.columns else 0)

    def __len__(self):
        return 0


r_ = _Concatenator(np.r_, columns=False)
c_ = _Concatenator(np.c_, columns=True)


# ---------------------------------------------------------------- sliding windows

_swv = np.lib.stride_tricks.sliding_window_view


@numpy_function(_swv, module="numpy.lib.stride_tricks", view="readonly")
def sliding_window_view(x, window_shape, axis=None, *, subok=False, writeable=False):
    """NumPy's read-only view (writing into it raises NumPy's error; a write into ``x``
    shows in it), with NumPy's memory layout; the derivative adds each window's
    cotangents back into ``x`` (a scatter-add).
    ``writeable=True`` (a view through which overlapping windows write into ``x``)
    is refused."""
    if writeable:
        raise NotImplementedError(
            "chainrule.numpy.lib.stride_tricks.sliding_window_view: writeable=True is not "
            "supported inside a transformation (the windows overlap in x's memory)")
    x = asarray_like(x)
    nd = len(shape_of(x))
    window_shape = tuple(window_shape) if np.iterable(window_shape) else (window_shape,)
    # NumPy's checks and errors, on a stand-in of x's shape (a view of one zero)
    _swv(np.broadcast_to(np.zeros((), np.bool_), shape_of(x)), window_shape, axis)
    axis = tuple(range(nd)) if axis is None else \
        tuple(operator.index(a) % nd for a in (axis if np.iterable(axis) else (axis,)))
    return sliding_window_p.bind(x, window_shape=tuple(operator.index(w) for w in
                                                      window_shape), axis=axis)
