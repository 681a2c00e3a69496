"""Indexing: ``x[idx]`` (gather), functional updates ``x.at[idx].set/add/multiply``,
and the permutations sorting gathers with (``argsort``, ``permute``).

An index is split into a hashable ``spec`` (slices, ints, None, Ellipsis, and a
placeholder for each integer array) and the integer arrays themselves, which are
passed as (non-differentiable) arguments so that vmap can batch them. Boolean
masks are turned into integer arrays by ``np.nonzero`` before binding.
"""
import operator

import numpy as np

from .. import backend

from ..core import Primitive, NonDiffPrimitive, Zero, shape_of, dtype_of, instantiate
from ..core import size_of as _size
from ..interpreters.batching import axis_size
from .shape import fit_cotangent, moveaxis, reshape, bdim_to_front, broadcast_to, \
    transpose, LinearUnary
from .elementwise import equal_p, select_p, logical_and_p

ARRAY = "<array>"     # placeholder for an integer index array in a spec


def split_index(idx, shape=None):
    """(spec, arrays) for a NumPy index; raises IndexError/TypeError like NumPy. With
    the indexed array's ``shape``, boolean masks are checked against the axes they
    index, as NumPy does (their positions become index arrays here, which would fit
    axes of another length)."""
    if not isinstance(idx, tuple):
        idx = (idx,)
    if shape is not None:
        _check_masks(idx, shape)
    spec, arrays = [], []
    for i in idx:
        if isinstance(i, slice):
            spec.append(("slice", _int_or_none(i.start), _int_or_none(i.stop),
                         _int_or_none(i.step)))
        elif i is None or i is Ellipsis:
            spec.append(i)
        elif isinstance(i, (bool, np.bool_)):
            spec.append(ARRAY)
            arrays.append(np.asarray(i))
        elif isinstance(i, (int, np.integer)):
            spec.append(int(i))
        else:
            a = i if hasattr(i, "_trace") else np.asarray(i)
            if type(i) is list and a.size == 0:
                a = a.astype(np.intp)           # x[[]]: NumPy's empty integer index
            kind = dtype_of(a).kind
            if kind == "b":
                if hasattr(a, "_trace"):
                    a = a._concrete()
                if np.ndim(a) == 0:             # x[np.array(True)]: as x[True]
                    spec.append(ARRAY)
                    arrays.append(np.asarray(a))
                    continue
                for part in np.nonzero(a):
                    spec.append(ARRAY)
                    arrays.append(part)
                continue
            if kind not in "iu":
                raise IndexError("only integers, slices (`:`), ellipsis (`...`), "
                                 "numpy.newaxis (`None`) and integer or boolean arrays "
                                 "are valid indices")
            spec.append(ARRAY)
            arrays.append(a)
    return tuple(spec), arrays


def _check_masks(idx, shape):
    """NumPy's IndexError where a boolean mask's shape does not match the axes it
    indexes: NumPy itself indexes a stand-in of ``shape`` that holds no data (the masks'
    values, zeros for other index arrays; only where a mask of 1 or more dimensions is
    present)."""
    idx = tuple(_listed(i) for i in idx)        # x[[True, False]]: a mask too
    masks = [i for i in idx if not isinstance(i, (slice, int, np.integer, bool, np.bool_))
             and i is not None and i is not Ellipsis and dtype_of(i).kind == "b"
             and len(shape_of(i))]
    if not masks:
        return
    parts = []
    for i in idx:
        if i is None or i is Ellipsis or isinstance(i, (slice, int, np.integer, bool,
                                                         np.bool_)):
            parts.append(slice(None) if isinstance(i, (int, np.integer)) and
                         not isinstance(i, (bool, np.bool_)) else i)
        elif dtype_of(i).kind == "b":
            parts.append(i._concrete() if hasattr(i, "_trace") else np.asarray(i))
        else:
            parts.append(np.zeros(shape_of(i), np.intp))
    stand_in = np.lib.stride_tricks.as_strided(np.zeros(1, np.bool_), shape=shape,
                                               strides=(0,) * len(shape))
    stand_in[tuple(parts)]


def _listed(i):
    """A list index as the array NumPy makes of it (one holding traced values as it is)."""
    if type(i) is not list:
        return i
    try:
        return np.asarray(i)
    except TypeError:
        return i


def _int_or_none(v):
    if v is None:
        return None
    if hasattr(v, "_trace"):
        if v.dtype.kind not in "iu":        # NumPy's TypeError (x[:2.0], x[:True])
            raise TypeError("slice indices must be integers or None or have an "
                            "__index__ method")
        v = v._concrete()
    return operator.index(v)


def join_index(spec, arrays):
    it = iter(arrays)
    out = []
    for s in spec:
        if s is ARRAY:
            out.append(next(it))
        elif isinstance(s, tuple):
            out.append(slice(*s[1:]))
        else:
            out.append(s)
    return tuple(out)


def _basic(spec):
    return ARRAY not in spec


FULL = ("slice", None, None, None)


def _gathered_bdim(spec, arrays):
    """Where the batch axis lands in ``x[spec]`` when ``spec`` starts with a full slice
    for it: NumPy moves advanced-index dimensions to the front when the advanced
    indices (arrays, and ints mixed with arrays) are not adjacent."""
    if ARRAY not in spec:
        return 0
    adv = [i for i, s in enumerate(spec) if s is ARRAY or isinstance(s, int)]
    if adv == list(range(adv[0], adv[-1] + 1)):
        return 0
    return len(np.broadcast_shapes(*[shape_of(a) for a in arrays]))


def _prefix_advanced(spec):
    """True if the advanced entries of ``spec`` come first (batched-index fast path)."""
    adv = [i for i, s in enumerate(spec) if s is ARRAY or isinstance(s, int)]
    return adv == list(range(len(adv)))


def _batched_arrays(arrays, dims, size):
    """Index arrays with their batch axis first, unbatched ones broadcastable; plus
    the iota array that selects each example, shaped to broadcast against them."""
    nd = max(len(shape_of(a)) - (d is not None) for a, d in zip(arrays, dims))
    out = []
    for a, d in zip(arrays, dims):
        if d is None:
            s = shape_of(a)
            out.append(reshape(a, (1,) * (nd + 1 - len(s)) + s))
        else:
            a = moveaxis(a, d, 0)
            s = shape_of(a)
            out.append(reshape(a, s[:1] + (1,) * (nd + 1 - len(s)) + s[1:]))
    iota = np.arange(size).reshape((size,) + (1,) * nd)
    return iota, out


def _example_block(spec, ndim):
    """Where the dimensions of the (broadcast) index arrays go in ``x[spec]`` for an
    ``x`` of rank ``ndim`` whose advanced entries do not start ``spec``: after the
    dimensions of the entries before the first advanced one when the advanced entries
    are adjacent (NumPy's rule: ints count, ``None`` and ``...`` separate), else first
    (0)."""
    adv = [i for i, s in enumerate(spec) if s is ARRAY or isinstance(s, int)]
    if adv != list(range(adv[0], adv[-1] + 1)):
        return 0
    consumed = sum(1 for s in spec if s is ARRAY or isinstance(s, (int, tuple)))
    return sum(ndim - consumed if s is Ellipsis else 1 for s in spec[:adv[0]])


def _move_block(x, src, dst, k):
    """``x`` with its axes ``src .. src + k - 1`` moved, in order, to start at ``dst``."""
    if src == dst or not k:
        return x
    rest = [a for a in range(len(shape_of(x))) if not src <= a < src + k]
    return transpose(x, rest[:dst] + list(range(src, src + k)) + rest[dst:])


def _indexed_shape(shape, spec, arrays):
    """Per-example shape of ``x[spec]`` for ``x`` of ``shape``."""
    concrete = [a._concrete() if hasattr(a, "_concrete") else a for a in arrays]
    return np.empty(shape, np.bool_)[join_index(spec, concrete)].shape




class GetItem(Primitive):
    """x[idx]. Linear in x; vjp scatters the cotangent back (adding duplicates)."""
    dispatches = True           # Dask/CuPy arrays too (core.Primitive)
    vjp_uses_ans = False
    homogeneous = (1,)          # code generation (core.Primitive's docstring)

    def impl(self, x, *arrays, spec):
        if type(x) is not np.ndarray:
            if backend.is_foreign(x):
                return backend.getitem(x, join_index(spec, arrays))
            x = np.asarray(x)               # a Python scalar indexes like a 0-d array
        return x[join_index(spec, arrays)]

    def spell(self, ops, ins, *, spec):
        if hasattr(ins[0], "val") or not ins[0].shape:
            return None                     # a constant, or a scalar (maybe a Python float)
        arrays = iter(ops[1:])
        parts = [next(arrays) if s is ARRAY else
                 ":".join("" if v is None else str(v) for v in s[1:3]) +
                 ("" if s[3] is None else f":{s[3]}") if isinstance(s, tuple) else
                 "..." if s is Ellipsis else repr(s) for s in spec]
        index = ", ".join(parts) + ("," if len(parts) == 1 else "") if parts else "()"
        return f"{ops[0]}[{index}]"

    def simplify(self, ins, graph, *, spec):
        # slices that keep every element of every axis: x itself
        x = ins[0]
        if not spec or len(spec) > len(x.shape) or not all(
                isinstance(s, tuple) and slice(*s[1:]).indices(n) == (0, n, 1)
                for s, n in zip(spec, x.shape)):
            return None
        return x

    def jvp(self, primals, tangents, *, spec):
        x, *arrays = primals
        ans = self.bind(x, *arrays, spec=spec)
        t = tangents[0]
        if type(t) is Zero:
            return ans, Zero.like(ans)
        return ans, self.bind(t, *arrays, spec=spec)

    def vjp(self, ct, ans, args, needs, *, spec):
        x, *arrays = args
        dc, dx = dtype_of(ct), dtype_of(x)
        ct_x = scatter_add_p.bind(ct, *arrays, spec=spec, shape=shape_of(x),
                                  dtype=(dc if dc == dx else np.result_type(dc, dx)).str)
        return [fit_cotangent(ct_x, x)] + [None] * len(arrays)

    def batch(self, args, dims, *, spec):
        x, *arrays = args
        dx, *dis = dims
        if all(d is None for d in dis):
            spec2 = (FULL,) + spec
            return self.bind(moveaxis(x, dx, 0), *arrays, spec=spec2), \
                _gathered_bdim(spec2, arrays)
        size = axis_size(args, dims)
        iota, arrs = _batched_arrays(arrays, dis, size)
        # the index arrays' dimensions in one example's result (NumPy's placement)
        p = 0 if _prefix_advanced(spec) else _example_block(
            spec, len(shape_of(x)) - (dx is not None))
        if dx is None:          # (the batch axis leads the index arrays' dimensions)
            return self.bind(x, *arrs, spec=spec), p
        # with the examples' index first, the index dimensions lead: (B, idx..., rest)
        out = self.bind(moveaxis(x, dx, 0), iota, *arrs, spec=(ARRAY,) + spec)
        return _move_block(out, 1, 1 + p, len(shape_of(iota)) - 1), 0

    def cost(self, args, ans, **params):
        return 0


class ScatterAdd(Primitive):
    """zeros(shape)[idx] += ct (with repeated indices accumulating): getitem's transpose."""
    dispatches = True           # Dask/CuPy arrays too (core.Primitive)

    def impl(self, ct, *arrays, spec, shape, dtype):
        idx = join_index(spec, arrays)
        if type(ct) is not np.ndarray and backend.is_foreign(ct):
            z = backend.zeros(shape, dtype, like=ct)
            return backend.assign(z, idx, ct) if _basic(spec) else \
                backend.scatter_add(z, idx, ct)
        z = np.zeros(shape, dtype)
        if _basic(spec):
            z[idx] = ct
        else:
            np.add.at(z, idx, ct)
        return z

    def jvp(self, primals, tangents, **params):
        ct, *arrays = primals
        ans = self.bind(ct, *arrays, **params)
        t = tangents[0]
        return ans, (Zero.like(ans) if type(t) is Zero else self.bind(t, *arrays, **params))

    def vjp(self, ct, ans, args, needs, *, spec, shape, dtype):
        _, *arrays = args
        return [fit_cotangent(getitem_p.bind(ct, *arrays, spec=spec), args[0])] + \
            [None] * len(arrays)

    def batch(self, args, dims, *, spec, shape, dtype):
        ct, *arrays = args
        dc, *dis = dims
        size = axis_size(args, dims)
        if all(d is None for d in dis):
            spec2 = (FULL,) + spec
            ct = moveaxis(ct, dc, _gathered_bdim(spec2, arrays))
            return self.bind(ct, *arrays, spec=spec2, shape=(size,) + shape,
                             dtype=dtype), 0
        iota, arrs = _batched_arrays(arrays, dis, size)
        p = 0 if _prefix_advanced(spec) else _example_block(spec, len(shape))
        ct = _move_block(bdim_to_front(ct, dc, size), 1 + p, 1, len(shape_of(iota)) - 1)
        return self.bind(ct, iota, *arrs, spec=(ARRAY,) + spec,
                         shape=(size,) + shape, dtype=dtype), 0

    def cost(self, args, ans, **params):
        return _size(shape_of(args[0]))


def _zeros_as(a):
    """Zeros of ``a``'s shape and dtype (on its backend), for the derivative of a write:
    ``0.0 * a`` is nan where ``a`` is inf or nan, and ``s[mask] = -np.inf`` (masked
    attention scores) then gave nan tangents and gradients."""
    return backend.zeros(shape_of(a), dtype_of(a), like=a if backend.is_foreign(a) else None)


class Scatter(Primitive):
    """x.at[idx].set(v) / .add(v) / .multiply(v): a new array, x unchanged."""
    dispatches = True           # Dask/CuPy arrays too (core.Primitive)

    def impl(self, x, v, *arrays, spec, mode):
        out = backend.copy(x)            # NumPy semantics: x keeps its dtype
        idx = join_index(spec, arrays)
        if mode == "set":
            if type(out) is np.ndarray:
                out[idx] = v
            else:
                out = backend.assign(out, idx, v)
        elif mode == "add":
            out = backend.scatter_add(out, idx, v)
        elif mode == "multiply":
            out = backend.scatter_multiply(out, idx, v)
        else:
            raise ValueError(f"unknown scatter mode {mode!r}")
        return out

    def jvp(self, primals, tangents, *, spec, mode):
        x, v, *arrays = primals
        tx, tv = tangents[0], tangents[1]
        ans = self.bind(x, v, *arrays, spec=spec, mode=mode)
        if type(tx) is Zero and type(tv) is Zero:
            return ans, Zero.like(ans)
        if mode == "multiply":
            # d(x * v) at idx = tx * v + x * tv; elsewhere tx
            tx = instantiate(tx) if type(tx) is not Zero else _zeros_as(x)
            t = self.bind(tx, v, *arrays, spec=spec, mode="multiply")
            if type(tv) is not Zero:
                t = self.bind(t, _other_factors(x, v, spec, arrays) * tv, *arrays,
                              spec=spec, mode="add")
            return ans, t
        tx = _zeros_as(ans) if type(tx) is Zero else tx
        tv = _zeros_as(v) if type(tv) is Zero else tv
        if mode == "set" and arrays:        # a duplicate that is overwritten contributes 0
            tv = tv * _last_write_mask(x, spec, arrays)
        return ans, self.bind(tx, tv, *arrays, spec=spec, mode=mode)

    def vjp(self, ct, ans, args, needs, *, spec, mode):
        x, v, *arrays = args
        ct_x = ct_v = None
        if mode == "set":
            if needs[0]:
                ct_x = self.bind(ct, _zeros_as(v), *arrays, spec=spec, mode="set")
            if needs[1]:
                ct_v = getitem_p.bind(ct, *arrays, spec=spec)
                if arrays:      # repeated indices: only the last write reaches the output
                    ct_v = ct_v * _last_write_mask(x, spec, arrays)
        elif mode == "add":
            ct_x = ct if needs[0] else None
            if needs[1]:
                ct_v = getitem_p.bind(ct, *arrays, spec=spec)
        else:
            if needs[0]:
                ct_x = self.bind(ct, v, *arrays, spec=spec, mode="multiply")
            if needs[1]:
                ct_v = getitem_p.bind(ct, *arrays, spec=spec) * _other_factors(x, v, spec,
                                                                              arrays)
        if ct_x is not None:
            ct_x = fit_cotangent(ct_x, x)
        if ct_v is not None:
            ct_v = fit_cotangent(ct_v, v)
        return [ct_x, ct_v] + [None] * len(arrays)

    def batch(self, args, dims, *, spec, mode):
        x, v, *arrays = args
        dx, dv, *dis = dims
        size = axis_size(args, dims)
        xb = bdim_to_front(x, dx, size)
        target = _indexed_shape(shape_of(xb)[1:], spec, arrays) if all(
            d is None for d in dis) else None
        if target is not None:
            spec2 = (FULL,) + spec
            pos = _gathered_bdim(spec2, arrays)
        else:
            iota, arrays = _batched_arrays(arrays, dis, size)
            arrays = [iota] + arrays
            spec2 = (ARRAY,) + spec
            pos = 0
            target = _indexed_shape(shape_of(xb), spec2, arrays)[1:]
            if not _prefix_advanced(spec):
                # the batch's target is (B, idx..., rest); one example's has the index
                # dimensions after the p dimensions before them: v broadcasts against
                # the example's target, then its index dimensions move to the front
                k = len(shape_of(iota)) - 1
                p = _example_block(spec, len(shape_of(xb)) - 1)
                example = target[k:k + p] + target[:k] + target[k + p:]
                vb = bdim_to_front(v, dv, size)
                vs = shape_of(vb)
                vb = reshape(vb, vs[:1] + (1,) * (len(example) - len(vs) + 1) + vs[1:])
                vb = broadcast_to(vb, (size,) + example)
                return self.bind(xb, _move_block(vb, 1 + p, 1, k), *arrays, spec=spec2,
                                 mode=mode), 0
        vb = bdim_to_front(v, dv, size)
        vs = shape_of(vb)
        vb = reshape(vb, vs[:1] + (1,) * (len(target) - len(vs) + 1) + vs[1:])
        vb = moveaxis(vb, 0, pos)
        return self.bind(xb, vb, *arrays, spec=spec2, mode=mode), 0

    def cost(self, args, ans, *, spec, mode):
        if mode == "set":
            return 0                        # data movement
        # one addition or multiplication per position of x[idx] (``v`` broadcast to it; a
        # repeated index once per occurrence), from the index arrays' shapes alone (a 0-d
        # boolean index taken as True)
        stand_ins = [np.ones(shape_of(a), np.bool_) if dtype_of(a).kind == "b" else
                     np.zeros(shape_of(a), np.intp) for a in args[2:]]
        region = np.broadcast_to(np.False_, shape_of(args[0]))[join_index(spec, stand_ins)]
        return _size(np.shape(region))


def _last_write_mask(x, spec, arrays):
    """1.0 where an element of ``v`` is the one NumPy's ``x[idx] = v`` keeps (the last
    write to each position), 0.0 for the overwritten duplicates. Built with
    primitives, so it works under vmap with batched indices too."""
    target = _indexed_shape(shape_of(x), spec, arrays) if not any(
        hasattr(a, "_trace") for a in arrays) else None
    if target is None:
        probe = getitem_p.bind(np.zeros(shape_of(x)), *arrays, spec=spec)
        target = shape_of(probe)
    pos = np.arange(_size(target), dtype=np.float64).reshape(target)
    owner = scatter_p.bind(np.full(shape_of(x), -1.0), pos, *arrays, spec=spec, mode="set")
    return select_p.bind(equal_p.bind(getitem_p.bind(owner, *arrays, spec=spec), pos),
                         1.0, 0.0)


def _other_factors(x, v, spec, arrays):
    """d out[idx_k] / d v_k for x.at[idx].multiply(v): ``x[idx_k]`` times the product
    of the *other* factors that land on the same position (np.multiply.at multiplies
    every factor of a repeated index in). Never divides by a factor, so a zero factor
    gives the exact derivative (to any order).

    Basic indices, and concrete index arrays that hit no position twice: ``x[idx]``.
    Otherwise the factors are sorted by the position they land on, and each one's
    others are the exclusive prefix times the exclusive suffix product of its run of
    equal positions: segmented scans (Hillis-Steele) of log2(longest run) steps of
    chainrule operations, so they differentiate again and batch (with traced index
    arrays, batched under vmap, the runs are found with traced comparisons and the
    scans take log2(len(v)) steps)."""
    xs = getitem_p.bind(x, *arrays, spec=spec)
    target = shape_of(xs)
    n = _size(target)
    if _basic(spec) or n < 2:
        return xs
    where = np.arange(_size(shape_of(x))).reshape(shape_of(x))
    i = np.arange(n)
    if all(type(a) is np.ndarray for a in arrays):
        p = np.broadcast_to(where[join_index(spec, arrays)], target).ravel()
        order = np.argsort(p, kind="stable")
        ps = p[order]
        first = np.r_[True, ps[1:] != ps[:-1]]
        if first.all():
            return xs
        starts = np.flatnonzero(first)
        steps = int(np.max(np.diff(np.r_[starts, n])))      # the longest run

        def same(d):          # is i + d in i's run? (constant masks)
            j = i + d
            return (j >= 0) & (j < n) & (ps[np.clip(j, 0, n - 1)] == ps)
    else:
        p = reshape(broadcast_to(getitem_p.bind(where, *arrays, spec=spec), target), (n,))
        order = argsort_p.bind(p, axis=0)
        ps = permute_p.bind(p, order, axis=0, inverse=False)
        steps = n

        def same(d):
            j = i + d
            near = getitem_p.bind(ps, np.clip(j, 0, n - 1), spec=(ARRAY,))
            return logical_and_p.bind((j >= 0) & (j < n), equal_p.bind(near, ps))

    def shifted(a, d):        # a[i + d] where that is in i's run, else 1
        return select_p.bind(same(d), getitem_p.bind(a, np.clip(i + d, 0, n - 1),
                                                     spec=(ARRAY,)), 1.0)

    fs = permute_p.bind(reshape(broadcast_to(v, target), (n,)), order, axis=0, inverse=False)
    pre, suf, d = fs, fs, 1              # inclusive products along each run
    while d < steps:
        pre, suf, d = pre * shifted(pre, -d), suf * shifted(suf, d), 2 * d
    others = shifted(pre, -1) * shifted(suf, 1)
    return xs * reshape(permute_p.bind(others, order, axis=0, inverse=True), target)


class ArgSort(NonDiffPrimitive):
    """np.argsort(x, axis): the permutation that sort, median and quantile gather
    with (a primitive so that it batches under vmap). NumPy's default kind: ties are
    ordered arbitrarily, which moves derivatives between equal values only."""

    def impl(self, x, *, axis):
        return np.argsort(x, axis=axis)

    def batch(self, args, dims, *, axis):
        return self.bind(moveaxis(args[0], dims[0], 0), axis=axis + 1), 0

    def cost(self, args, ans, *, axis):
        n = shape_of(args[0])[axis] if shape_of(args[0]) else 1
        return _size(shape_of(ans)) * max(int(np.ceil(np.log2(max(n, 2)))), 1)


argsort_p = ArgSort("argsort")


class Permute(Primitive):
    """take_along_axis(x, perm, axis) for a permutation ``perm`` along ``axis`` (what
    sort gathers with); ``inverse=True`` scatters instead (``out[perm] = x``). Linear
    in x, and the two directions are each other's transpose, so neither derivative
    needs ``np.add.at``."""

    def impl(self, x, perm, *, axis, inverse):
        if not inverse:
            return np.take_along_axis(x, perm, axis)
        out = np.empty(np.shape(x), np.result_type(x))
        np.put_along_axis(out, perm, x, axis)
        return out

    def jvp(self, primals, tangents, *, axis, inverse):
        x, perm = primals
        ans = self.bind(x, perm, axis=axis, inverse=inverse)
        t = tangents[0]
        if type(t) is Zero:
            return ans, Zero.like(ans)
        return ans, self.bind(t, perm, axis=axis, inverse=inverse)

    def vjp(self, ct, ans, args, needs, *, axis, inverse):
        ct_x = self.bind(ct, args[1], axis=axis, inverse=not inverse)
        return [fit_cotangent(ct_x, args[0]), None]

    def batch(self, args, dims, *, axis, inverse):
        size = axis_size(args, dims)
        x, perm = (bdim_to_front(a, d, size) for a, d in zip(args, dims))
        return self.bind(x, perm, axis=axis + 1, inverse=inverse), 0

    def cost(self, args, ans, **params):
        return 0


permute_p = Permute("permute")


getitem_p = GetItem("getitem")
scatter_add_p = ScatterAdd("scatter_add")
scatter_p = Scatter("scatter")


class SlidingWindow(LinearUnary):
    """``np.lib.stride_tricks.sliding_window_view(x, window_shape, axis)`` (``axis`` a
    tuple of non-negative axes): NumPy's own read-only view, so what reads it sees
    NumPy's memory layout (einsum's and sum's rounding follow the layout). Linear: the
    tangent is the windows of the tangent, the cotangent each window's entries added
    back to their positions in x (a scatter-add)."""

    def impl(self, x, *, window_shape, axis):
        return np.lib.stride_tricks.sliding_window_view(x, window_shape, axis)

    def vjp(self, ct, ans, args, needs, *, window_shape, axis):
        x = args[0]
        s = shape_of(x)
        pos = np.lib.stride_tricks.sliding_window_view(
            np.arange(_size(s), dtype=np.intp).reshape(s), window_shape, axis)
        flat = scatter_add_p.bind(ct, np.ascontiguousarray(pos), spec=(ARRAY,),
                                  shape=(_size(s),), dtype=dtype_of(ct))
        return [reshape(flat, s)]

    def batch(self, args, dims, *, window_shape, axis):
        x = moveaxis(args[0], dims[0], 0)
        return self.bind(x, window_shape=window_shape, axis=tuple(a + 1 for a in axis)), 0

    def cost(self, args, ans, **params):
        return 0


sliding_window_p = SlidingWindow("sliding_window")

__all__ = ["getitem_p", "scatter_add_p", "scatter_p", "argsort_p", "permute_p", "split_index",
           "join_index", "sliding_window_p"]
