"""NumPy functions whose outputs carry no derivative (integer, boolean or index
results, and array creation).

Those with a fixed output shape are primitives with batching rules, or compositions of
them: ``any``, ``all``, ``count_nonzero``, ``isclose``, ``allclose``, ``array_equal``,
``array_equiv``, ``isreal``, ``iscomplex``, ``isposinf``, ``isneginf``, ``isin``,
``nanargmax`` and ``nanargmin`` (reductions and elementwise functions), and
``searchsorted``, ``digitize`` and ``lexsort`` (index results). Outside vmap each runs
NumPy's own function on the values (so values, dtypes and result types are NumPy's; a
Python bool from ``allclose``, ``array_equal`` and ``array_equiv``); under ``vmap`` one
NumPy call covers the batch with any of the array arguments batched (each example's
answer is the one NumPy gives it alone); ``jit`` stages them without guards on their
values.

``argwhere``, ``nonzero`` and ``flatnonzero`` have a result whose length depends on the
values: they run NumPy on the concrete values (under ``jit`` a guard on where the array
is nonzero) and cannot be batched (a clear error under ``vmap``). ``isscalar``,
``shares_memory`` and ``may_share_memory`` ask NumPy about the concrete values; under
``jit`` the compiled code decides memory and scalar types, so they raise there.
"""
import builtins

import numpy as np

from ..core import NonDiffPrimitive, Tracer, PrimalTracer, shape_of, dtype_of
from ..interpreters.staging import StagingTracer
from ..prims import shape as sp
from ..interpreters.batching import ConcretizationError
from .dispatch import numpy_function, no_kwargs, PUBLIC
from .basic import asarray_like, clip_mode, concrete, normalize_axis, single_axis, lazy_value_error

_NoValue = np._NoValue

NONDIFF_FUNCTIONS = [
    "argwhere", "nonzero", "flatnonzero", "count_nonzero",
    "isclose", "allclose", "array_equal", "array_equiv",
    "all", "any", "isreal", "iscomplex", "isscalar", "shares_memory", "may_share_memory", "isin", "in1d",
    "zeros_like", "ones_like", "empty_like", "full_like", "iscomplexobj",
    "isneginf", "isposinf", "nanargmax", "nanargmin",
]


def _staged(x):
    """Whether ``x`` holds a value staged by jit or make_graph (at any depth of nesting):
    the compiled program makes its memory and its type, which tracing cannot see."""
    while isinstance(x, PrimalTracer):
        if isinstance(x, StagingTracer):
            return True
        x = x.primal
    return False


@numpy_function(np.isscalar, name="isscalar")
def isscalar(element):
    """``numpy.isscalar``: False for a traced value of one or more dimensions (never a
    scalar), NumPy's answer for a 0-d one eagerly. Under ``jit`` and ``vmap`` a 0-d
    value raises NotImplementedError: compiled code gives a 0-d array where NumPy gives a
    scalar, and vmap's examples are whatever a loop would index, so neither answer is
    NumPy's for every call (write ``cnp.ndim(x) == 0``)."""
    if not isinstance(element, Tracer):
        return np.isscalar(element)
    if shape_of(element) != ():
        return False
    where = "jit/make_graph" if _staged(element) else None
    if where is None:
        try:
            return np.isscalar(concrete(element))
        except ConcretizationError:
            where = "vmap"
    raise NotImplementedError(
        f"cnp.isscalar of a 0-d traced value under {where}: whether NumPy would have a "
        "scalar or a 0-d array there is not known while tracing; test cnp.ndim(x) == 0, "
        "or call it outside the transformation")


def _memory(np_fn):
    @numpy_function(np_fn, name=np_fn.__name__)
    def fn(a, b, max_work=None):
        if _staged(a) or _staged(b):
            raise NotImplementedError(
                f"cnp.{np_fn.__name__} of a value traced by jit/make_graph: which arrays "
                "share memory is decided by the compiled code, not while tracing; call it "
                "outside jit")
        return np_fn(concrete(a), concrete(b), max_work=max_work)
    fn.__doc__ = (f"``numpy.{np_fn.__name__}``: NumPy's answer for the arrays; under "
                  "``jit``, a traced argument raises NotImplementedError (the compiled "
                  "code decides which arrays share memory).")
    return fn


shares_memory = _memory(np.shares_memory)
may_share_memory = _memory(np.may_share_memory)


# ---------------------------------------------------------------- index primitives

def _standin(x):
    """Zeros with ``x``'s (per-example) shape and dtype, without memory: NumPy's own
    function run on stand-ins raises NumPy's errors for shapes, dtypes and options
    before a primitive is bound."""
    return np.broadcast_to(np.zeros((), dtype_of(x)), shape_of(x))


def _rows(x, nbatch):
    """``x`` with its ``nbatch`` leading (batch) axes merged into one and the rest
    flattened: shape (R, m)."""
    s = np.shape(x)
    r = int(np.prod(s[:nbatch], dtype=np.int64))
    return np.reshape(x, (r, int(np.prod(s[nbatch:], dtype=np.int64))))


class _Indexed(NonDiffPrimitive):
    """An index primitive whose ``nbatch`` leading axes (of every argument) are batch
    axes, each example an independent call of NumPy's function; vmap adds one."""

    def batch(self, args, dims, **params):
        args = sp.batch_to_front(args, dims)
        return self.bind(*args, **dict(params, nbatch=params["nbatch"] + 1)), 0

    def cost(self, args, ans, **params):
        return 0


def _searchsorted_rows(a, v, side):
    """``np.searchsorted(a[r], v[r], side)`` for each row ``r`` of ``a`` (R, n) and
    ``v`` (R, m).

    One search of the rows laid end to end: every value is replaced by its rank among
    all the values of ``a`` and ``v`` (``np.unique``: NumPy's sort order, NaN last, equal
    values one rank) plus ``r`` times the number of ranks, so the keys of different rows
    never interleave and a sorted row's keys stay sorted. A row of ``a`` that is not
    sorted (NumPy's answer then depends on its search path) is searched by NumPy alone."""
    R, n = a.shape
    if R == 0 or n == 0 or v.shape[1] == 0:
        return np.zeros(v.shape, np.intp)
    u = np.unique(np.concatenate([a.ravel(), v.ravel()]))
    off = np.arange(R, dtype=np.intp)[:, None]
    ka = np.searchsorted(u, a) + off * (len(u) + 1)
    kv = np.searchsorted(u, v) + off * (len(u) + 1)
    out = np.searchsorted(ka.ravel(), kv.ravel(), side=side).reshape(v.shape) - off * n
    for r in np.flatnonzero(np.any(ka[:, 1:] < ka[:, :-1], axis=1)):
        out[r] = np.searchsorted(a[r], v[r], side=side)
    return out


class _SearchSorted(_Indexed):
    """``np.searchsorted(a, v, side)`` (``a`` 1-D per example)."""

    def impl(self, a, v, *, side, nbatch):
        if nbatch == 0:
            return np.searchsorted(a, v, side=side)
        a, v = np.asarray(a), np.asarray(v)
        return _searchsorted_rows(_rows(a, nbatch), _rows(v, nbatch), side).reshape(v.shape)

    def batch(self, args, dims, *, side, nbatch):
        if dims[0] is None and nbatch == 0:       # one sorted array: elementwise in v
            return self.bind(args[0], args[1], side=side, nbatch=0), dims[1]
        return super().batch(args, dims, side=side, nbatch=nbatch)


def _monotonicity_rows(b):
    """NumPy's ``_monotonicity`` of each row of ``b`` (R, n), in float64 as NumPy's:
    1 (non-decreasing, or all equal), -1 (decreasing), 0 (neither). NumPy skips the
    values equal to the first, takes the direction from the first that is not, and
    checks each consecutive pair from there on."""
    b = np.asarray(b, dtype=np.float64)
    R, n = b.shape
    if n < 2:
        return np.ones(R, int)
    same = b[:, 1:] == b[:, :1]
    first = np.where(same.all(axis=1), n, 1 + np.argmin(same, axis=1))
    nxt = b[np.arange(R), np.minimum(first, n - 1)]
    active = np.arange(1, n)[None, :] >= (first + 1)[:, None]      # pair (k - 1, k)
    bad_up = np.any(active & (b[:, :-1] > b[:, 1:]), axis=1)
    bad_down = np.any(active & (b[:, :-1] < b[:, 1:]), axis=1)
    return np.where(first == n, 1,
                    np.where(b[:, 0] < nxt, np.where(bad_up, 0, 1), np.where(bad_down, 0, -1)))


class _Digitize(_Indexed):
    """``np.digitize(x, bins, right)`` (``bins`` 1-D per example)."""

    def impl(self, x, bins, *, right, nbatch):
        if nbatch == 0:
            return np.digitize(x, bins, right=right)
        x, bins = np.asarray(x), np.asarray(bins)
        b, xr = _rows(bins, nbatch), _rows(x, nbatch)
        mono = _monotonicity_rows(b)
        if np.any(mono == 0):
            raise ValueError("bins must be monotonically increasing or decreasing")
        down = (mono == -1)[:, None]
        side = "left" if right else "right"
        # NumPy: len(bins) - searchsorted(bins[::-1], x) for decreasing bins
        found = _searchsorted_rows(np.where(down, b[:, ::-1], b), xr, side)
        return np.where(down, b.shape[1] - found, found).reshape(x.shape)

    def batch(self, args, dims, *, right, nbatch):
        if dims[1] is None and nbatch == 0:       # one set of bins: elementwise in x
            return self.bind(args[0], args[1], right=right, nbatch=0), dims[0]
        return super().batch(args, dims, right=right, nbatch=nbatch)


class _LexSort(_Indexed):
    """``np.lexsort(keys, axis)`` of the keys as separate arguments (``axis``
    non-negative, counted in the per-example shape)."""

    def impl(self, *keys, axis, nbatch):
        return np.lexsort(keys, axis=axis + nbatch)


class _IndexCheck(_Indexed):
    """Integer indices into ``n`` items under NumPy's ``mode`` (``np.choose``, a
    ``sorter``): 'raise' raises ``ValueError(message)`` for any index outside
    [0, n), 'wrap' and 'clip' map them into range; intp either way. Elementwise, so a
    batch is one call (``nbatch`` is only counted)."""

    def impl(self, idx, *, n, mode, message, nbatch):
        idx = np.asarray(idx)
        if mode == "raise" and idx.size and (idx.min() < 0 or idx.max() >= n):
            raise ValueError(message)
        return clip_mode(idx, n, mode).astype(np.intp, copy=False)

    def batch(self, args, dims, **params):
        return self.bind(args[0], **dict(params, nbatch=params["nbatch"] + 1)), dims[0]


searchsorted_p = _SearchSorted("searchsorted")
digitize_p = _Digitize("digitize")
lexsort_p = _LexSort("lexsort")
index_check_p = _IndexCheck("index_check")


def checked_index(idx, n, mode, message):
    """``idx`` (maybe traced, maybe batched) as intp indices into ``n`` items under
    NumPy's ``mode`` ('raise': ``ValueError(message)`` for one out of range)."""
    if mode not in ("raise", "wrap", "clip"):
        clip_mode(idx, n, mode)                     # NumPy's error for the mode
    return index_check_p.bind(idx, n=int(n), mode=mode, message=message, nbatch=0)


def _traced(*xs):
    return builtins.any(isinstance(x, Tracer) for x in xs)


@numpy_function(np.searchsorted)
def searchsorted(a, v, side="left", sorter=None):
    """Not differentiable (index result). Works under ``vmap`` with ``a``, ``v`` and
    ``sorter`` batched in any combination: each example is NumPy's search of its own
    ``a`` (rows of a batched ``a`` are searched at once, laid end to end). A ``sorter``
    entry outside ``range(len(a))`` raises ``ValueError``."""
    a, v = asarray_like(a), asarray_like(v)
    s = None if sorter is None else asarray_like(sorter)
    if not _traced(a, v, s):
        return np.searchsorted(a, v, side=side, sorter=s)
    np.searchsorted(_standin(a), _standin(v), side=side,
                    sorter=None if s is None else _standin(s))      # NumPy's errors
    if s is not None:
        s = checked_index(s, shape_of(a)[0], "raise", "Sorter index out of range.")
        a = PUBLIC["numpy"]["take"](a, s)
    return searchsorted_p.bind(a, v, side=side, nbatch=0)


@numpy_function(np.digitize)
def digitize(x, bins, right=False):
    """Not differentiable (index result). Works under ``vmap`` with ``x`` and ``bins``
    batched in any combination; each example's ``bins`` must be monotonic (else NumPy's
    ``ValueError``), increasing or decreasing example by example."""
    x, bins = asarray_like(x), asarray_like(bins)
    if not _traced(x, bins):
        return np.digitize(x, bins, right=right)
    np.digitize(_standin(x), _standin(bins), right=right)         # NumPy's errors
    return digitize_p.bind(x, bins, right=bool(right), nbatch=0)


@numpy_function(np.lexsort)
def lexsort(keys, axis=-1):
    """Not differentiable (index result). Works under ``vmap`` with any of the keys
    batched (or ``keys`` one batched array): each example sorted by its own keys."""
    if isinstance(keys, Tracer):
        keys = [keys[i] for i in range(shape_of(keys)[0])] if shape_of(keys) else [keys]
    elif isinstance(keys, (list, tuple)) and _traced(*keys):
        keys = [asarray_like(k) for k in keys]
    else:
        return np.lexsort(keys, axis=axis)
    if not keys:
        raise TypeError("need sequence of keys with len > 0 in lexsort")
    if len({shape_of(k) for k in keys}) > 1:
        raise ValueError("all keys need to be the same shape")
    nd = len(shape_of(keys[0]))
    axis = single_axis(axis, nd)
    if nd == 0:
        return np.intp(0)
    return lexsort_p.bind(*keys, axis=axis, nbatch=0)



# ------------------------------------------------- reductions and elementwise functions

class _Arg:
    """Marks, in an elementwise primitive's ``slots``, the place of its next array
    argument (the other slots hold NumPy's arguments that are Python or NumPy scalars:
    NumPy's weak scalars stay weak)."""
    __slots__ = ()

    def __repr__(self):
        return "ARG"


ARG = _Arg()


def _join(args, slots):
    it = iter(args)
    return [next(it) if s is ARG else s for s in slots]


def _align(arrays, nbatch):
    """Arrays with ``nbatch`` leading batch axes each (of equal lengths), their
    per-example axes padded with length-1 axes after the batch axes to one rank:
    NumPy's broadcasting of one example's arrays, example by example."""
    rank = max(np.ndim(a) for a in arrays)
    return [np.reshape(a, np.shape(a)[:nbatch] + (1,) * (rank - np.ndim(a)) +
                       np.shape(a)[nbatch:]) for a in arrays]


class _Dispatching(_Indexed):
    """``impl`` calls NumPy's functions, which reach CuPy's through NumPy's dispatch
    (as NumPy's function on the concrete values did before these were primitives).
    ``check`` refuses a lazy (Dask) array where the answer would compute it (all but
    the elementwise functions, which Dask computes lazily)."""
    dispatches = True

    def check(self, args):
        for a in args:
            if type(a) is not np.ndarray:
                lazy_value_error(a)


def _example_axes(ndim, axis, nbatch):
    """NumPy's ``axis`` (None, an int or a tuple) of one example of ``ndim - nbatch``
    axes, as axes of the batch of ``ndim`` axes."""
    nd = ndim - nbatch
    if axis is None:
        return tuple(range(nbatch, ndim))
    if nd == 0:
        return ()             # (a 0-d array's any/all/count_nonzero take axis 0 or -1)
    return tuple(a + nbatch for a in normalize_axis(axis, nd))


class _Elementwise(_Dispatching):
    """NumPy's elementwise function ``fn`` of broadcast arguments, called with
    ``_join(args, slots)`` and ``kwargs`` (a tuple of pairs); with ``reduce``, ``all``
    of its result over each example (allclose, array_equal, array_equiv), and
    ``plain`` (NumPy's own function, which gives a Python bool) outside vmap."""
    dispatches = True

    def __init__(self, name, fn, plain=None, reduce=False):
        super().__init__(name)
        self.fn, self.plain, self.reduce = fn, plain or fn, reduce

    def impl(self, *args, slots, kwargs, nbatch):
        if self.reduce:                 # (elementwise: lazy on Dask, as NumPy's is)
            self.check(args)
        if nbatch == 0:
            return self.plain(*_join(args, slots), **dict(kwargs))
        out = self.fn(*_join(_align(args, nbatch), slots), **dict(kwargs))
        if self.reduce:
            out = np.all(out, axis=tuple(range(nbatch, np.ndim(out))))
        return out

    def batch(self, args, dims, **params):
        if len(args) == 1 and not self.reduce:      # one array: elementwise in it
            return self.bind(args[0], **params), dims[0]
        return super().batch(args, dims, **params)


def _bind_elementwise(prim, values, **kwargs):
    """``prim`` of NumPy's positional arguments ``values``: traced values and arrays
    as arguments, Python and NumPy scalars as they are (``slots``)."""
    args, slots = [], []
    for v in values:
        if not isinstance(v, Tracer) and isinstance(v, (bool, int, float, complex,
                                                         np.generic)):
            slots.append(v)
        else:
            args.append(asarray_like(v))
            slots.append(ARG)
    try:
        np.broadcast_shapes(*(shape_of(a) for a in args))
    except ValueError:
        prim.plain(*_join([_standin(a) for a in args], slots), **kwargs)  # NumPy's error
        raise
    return prim.bind(*args, slots=tuple(slots), kwargs=tuple(sorted(kwargs.items())),
                     nbatch=0)


def _equal(a, b, equal_nan=False):
    """``a == b`` elementwise; with ``equal_nan``, NaN equal to NaN (np.array_equal's
    rule: dtypes that cannot hold NaN are compared as they are)."""
    eq = a == b
    if equal_nan and not (a.dtype.kind in "biu" and b.dtype.kind in "biu"):
        eq = eq | (np.isnan(a) & np.isnan(b))
    return eq


class _Reduction(_Dispatching):
    """``fn(a, axis=axis, keepdims=keepdims[, where=where])`` (np.any, np.all,
    np.count_nonzero), ``axis`` as the caller gave it (None, an int or a tuple; counted
    in one example's axes), ``where`` the second argument if there is one."""
    dispatches = True

    def __init__(self, name, fn):
        super().__init__(name)
        self.fn = fn

    def impl(self, a, *where, axis, keepdims, nbatch):
        self.check((a, *where))
        if nbatch:
            a, *where = _align([a, *where], nbatch)
            axis = _example_axes(np.ndim(a), axis, nbatch)
        kw = {"keepdims": True} if keepdims else {}
        if where:
            kw["where"] = where[0]
        return self.fn(a, axis=axis, **kw)


class _NanArg(_Dispatching):
    """``np.nanargmax`` / ``np.nanargmin`` (``axis`` None or an int, counted in one
    example's axes): NumPy's ``ValueError`` for an all-NaN slice of any example."""
    dispatches = True

    def __init__(self, name, fn):
        super().__init__(name)
        self.fn = fn

    def impl(self, a, *, axis, keepdims, nbatch):
        self.check((a,))
        if nbatch == 0:
            return self.fn(a, axis=axis, keepdims=keepdims)
        lead, nd = np.shape(a)[:nbatch], np.ndim(a) - nbatch
        if axis is None or nd == 0:
            out = self.fn(_rows(a, nbatch), axis=1).reshape(lead)
            return out.reshape(lead + (1,) * nd) if keepdims else out
        axis = single_axis(axis, nd)
        return self.fn(a, axis=axis + nbatch, keepdims=keepdims)


def _isin_rows(e, t):
    """``np.isin(e[r], t[r])`` for each row ``r`` of ``e`` (R, n) and ``t`` (R, m): every
    value replaced by its rank among all of them (``np.unique``: equal values one rank)
    plus ``r`` times the number of ranks, so that rows never meet; NaN is in no set."""
    R, n = e.shape
    m = t.shape[1]
    if R == 0 or n == 0 or m == 0:
        return np.zeros_like(e, dtype=bool)
    both = np.concatenate([e.ravel(), t.ravel()])
    u, inv = np.unique(both, return_inverse=True)
    inv = inv.reshape(-1)
    off = np.arange(R, dtype=np.intp, like=inv)[:, None] * len(u)
    found = np.isin(inv[:R * n].reshape(R, n) + off, inv[R * n:].reshape(R, m) + off)
    if both.dtype.kind in "fc":
        found &= ~np.isnan(both[:R * n]).reshape(R, n)
    return found


class _IsIn(_Dispatching):
    """``np.isin(element, test_elements, ...)``; each example's ``test_elements`` are
    a set of their own (a batch's sets are searched at once)."""

    dispatches = True

    def impl(self, element, test, *, assume_unique, invert, kind, nbatch):
        self.check((element, test))
        if nbatch == 0:
            return np.isin(element, test, assume_unique=assume_unique, invert=invert,
                           kind=kind)
        found = np.reshape(_isin_rows(_rows(element, nbatch), _rows(test, nbatch)),
                           np.shape(element))
        return ~found if invert else found

    def batch(self, args, dims, **params):
        if dims[1] is None and params["nbatch"] == 0:   # one set: elementwise in element
            return self.bind(args[0], args[1], **params), dims[0]
        return super().batch(args, dims, **params)


any_p = _Reduction("any", np.any)
all_p = _Reduction("all", np.all)
count_nonzero_p = _Reduction("count_nonzero", np.count_nonzero)
isclose_p = _Elementwise("isclose", np.isclose)
allclose_p = _Elementwise("allclose", np.isclose, np.allclose, reduce=True)
array_equal_p = _Elementwise("array_equal", _equal, np.array_equal, reduce=True)
array_equiv_p = _Elementwise("array_equiv", np.equal, np.array_equiv, reduce=True)
isreal_p = _Elementwise("isreal", np.isreal)
iscomplex_p = _Elementwise("iscomplex", np.iscomplex)
isposinf_p = _Elementwise("isposinf", np.isposinf)
isneginf_p = _Elementwise("isneginf", np.isneginf)
nanargmax_p = _NanArg("nanargmax", np.nanargmax)
nanargmin_p = _NanArg("nanargmin", np.nanargmin)
isin_p = _IsIn("isin")


def _plain(np_fn, *args, **kwargs):
    """NumPy's function on values none of which is traced, given only the keyword
    arguments that differ from NumPy's defaults (None, False, no value): another
    backend's function, which NumPy's dispatch may call, need not take them all."""
    return np_fn(*args, **{k: v for k, v in kwargs.items()
                           if v is not None and v is not False and v is not _NoValue})


def _user_axis(axis):
    """``axis`` as a primitive's parameter: a list as a tuple, a traced axis's value."""
    axis = concrete(axis)
    return tuple(axis) if isinstance(axis, list) else axis


def _keepdims(keepdims):
    return False if keepdims is _NoValue else bool(keepdims)


def _reduce(prim, a, axis, out, keepdims, where=_NoValue):
    """any / all / count_nonzero of a traced ``a`` (or ``where``)."""
    no_kwargs(prim.name, out=out)
    a = asarray_like(a)
    axis, keepdims = _user_axis(axis), _keepdims(keepdims)
    nd = len(shape_of(a))
    if axis is not None:
        prim.fn(np.zeros((1,) * nd, dtype_of(a)), axis=axis)      # NumPy's axis errors
    args = [a]
    if where is not _NoValue and where is not True:
        w = asarray_like(where)
        ws, s = shape_of(w), shape_of(a)
        if dtype_of(w) != np.bool_ or len(ws) > nd or \
                builtins.any(i not in (1, j) for i, j in zip(ws[::-1], s[::-1])):
            prim.fn(_standin(a), axis=axis, where=_standin(w))    # NumPy's error
        args.append(w)
    return prim.bind(*args, axis=axis, keepdims=keepdims, nbatch=0)


def _truth_reduction(np_fn, prim):
    """``numpy.any`` / ``numpy.all``: a bool, staged by ``jit`` and batched by ``vmap``
    (``where`` batched too)."""
    def fn(a, axis=None, out=None, keepdims=_NoValue, *, where=_NoValue):
        if not _traced(a, where):
            return _plain(np_fn, a, axis=axis, out=out, keepdims=keepdims, where=where)
        return _reduce(prim, a, axis, out, keepdims, where)
    fn.__name__ = fn.__qualname__ = np_fn.__name__
    fn.__doc__ = ("Not differentiable (a bool). Staged by ``jit`` and batched by ``vmap`` "
                  "(also ``where`` batched).")
    return numpy_function(np_fn)(fn)


any = _truth_reduction(np.any, any_p)
all = _truth_reduction(np.all, all_p)


@numpy_function(np.count_nonzero)
def count_nonzero(a, axis=None, *, keepdims=False):
    """Not differentiable (a count, intp). Staged by ``jit`` and batched by ``vmap``."""
    if not _traced(a):
        return _plain(np.count_nonzero, a, axis=axis, keepdims=keepdims)
    return _reduce(count_nonzero_p, a, axis, None, keepdims)


@numpy_function(np.isclose)
def isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Not differentiable (bools). Staged by ``jit`` and batched by ``vmap`` (any of
    ``a``, ``b``, ``rtol`` and ``atol`` batched)."""
    if not _traced(a, b, rtol, atol):
        return _plain(np.isclose, a, b, rtol, atol, equal_nan=equal_nan)
    return _bind_elementwise(isclose_p, (a, b, rtol, atol), equal_nan=bool(equal_nan))


@numpy_function(np.allclose)
def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Not differentiable. NumPy's Python bool outside vmap (staged by ``jit``); under
    ``vmap`` a bool per example."""
    if not _traced(a, b, rtol, atol):
        return _plain(np.allclose, a, b, rtol, atol, equal_nan=equal_nan)
    return _bind_elementwise(allclose_p, (a, b, rtol, atol), equal_nan=bool(equal_nan))


@numpy_function(np.array_equal)
def array_equal(a1, a2, equal_nan=False):
    """Not differentiable. NumPy's Python bool outside vmap (staged by ``jit``; shapes
    that differ give False at once); under ``vmap`` a bool per example."""
    if not _traced(a1, a2):
        return _plain(np.array_equal, a1, a2, equal_nan=equal_nan)
    try:
        a1, a2 = asarray_like(a1), asarray_like(a2)
    except Exception:                       # noqa: BLE001 - NumPy's answer: not equal
        return False
    if shape_of(a1) != shape_of(a2):
        return False
    return _bind_elementwise(array_equal_p, (a1, a2), equal_nan=bool(equal_nan))


@numpy_function(np.array_equiv)
def array_equiv(a1, a2):
    """Not differentiable. NumPy's Python bool outside vmap (staged by ``jit``; shapes
    that do not broadcast give False at once); under ``vmap`` a bool per example."""
    if not _traced(a1, a2):
        return np.array_equiv(a1, a2)
    try:
        a1, a2 = asarray_like(a1), asarray_like(a2)
        np.broadcast_shapes(shape_of(a1), shape_of(a2))
    except Exception:                       # noqa: BLE001 - NumPy's answer: not equal
        return False
    return _bind_elementwise(array_equiv_p, (a1, a2))


def _unary(prim, np_fn):
    def fn(x, out=None):
        if not _traced(x):
            return _plain(np_fn, x, out=out)
        no_kwargs(prim.name, out=out)
        return _bind_elementwise(prim, (x,))
    fn.__name__ = prim.name
    fn.__doc__ = "Not differentiable (bools). Staged by ``jit`` and batched by ``vmap``."
    return fn


def _no_out(fn):
    def f(x):
        return fn(x)
    f.__name__, f.__doc__ = fn.__name__, fn.__doc__
    return f


isreal = numpy_function(np.isreal)(_no_out(_unary(isreal_p, np.isreal)))
iscomplex = numpy_function(np.iscomplex)(_no_out(_unary(iscomplex_p, np.iscomplex)))
isposinf = numpy_function(np.isposinf)(_unary(isposinf_p, np.isposinf))
isneginf = numpy_function(np.isneginf)(_unary(isneginf_p, np.isneginf))


def _nanarg(prim, a, axis, out, keepdims):
    if not _traced(a):
        return _plain(prim.fn, a, axis=axis, out=out, keepdims=keepdims)
    no_kwargs(prim.name, out=out)
    a = asarray_like(a)
    axis = _user_axis(axis)
    if axis is not None:
        nd = len(shape_of(a))
        prim.fn(np.zeros((1,) * nd, dtype_of(a)), axis=axis)      # NumPy's axis errors
        axis = int(axis)
    return prim.bind(a, axis=axis, keepdims=_keepdims(keepdims), nbatch=0)


@numpy_function(np.nanargmax)
def nanargmax(a, axis=None, out=None, *, keepdims=_NoValue):
    """Not differentiable (an index). Staged by ``jit`` and batched by ``vmap``; an
    all-NaN slice raises NumPy's ``ValueError`` (under vmap: in any example)."""
    return _nanarg(nanargmax_p, a, axis, out, keepdims)


@numpy_function(np.nanargmin)
def nanargmin(a, axis=None, out=None, *, keepdims=_NoValue):
    """Not differentiable (an index). Staged by ``jit`` and batched by ``vmap``; an
    all-NaN slice raises NumPy's ``ValueError`` (under vmap: in any example)."""
    return _nanarg(nanargmin_p, a, axis, out, keepdims)


def _isin(e, t, assume_unique, invert, kind):
    e, t = asarray_like(e), asarray_like(t)
    np.isin(np.zeros(1, dtype_of(e)), np.zeros(1, dtype_of(t)), kind=kind)  # NumPy's errors
    return isin_p.bind(e, t, assume_unique=bool(assume_unique), invert=bool(invert),
                       kind=kind, nbatch=0)


@numpy_function(np.isin)
def isin(element, test_elements, assume_unique=False, invert=False, *, kind=None):
    """Not differentiable (bools). Staged by ``jit`` and batched by ``vmap`` with
    ``element`` and ``test_elements`` batched in any combination (each example's
    ``test_elements`` its own set)."""
    if not _traced(element, test_elements):
        return _plain(np.isin, element, test_elements, assume_unique=assume_unique,
                      invert=invert, kind=kind)
    return _isin(element, test_elements, assume_unique, invert, kind)


if hasattr(np, "in1d"):                     # (NumPy < 2.4; deprecated since 2.0)
    @numpy_function(np.in1d)
    def in1d(ar1, ar2, assume_unique=False, invert=False, *, kind=None):
        """Not differentiable (bools); ``isin`` of the flattened ``ar1``."""
        import warnings
        warnings.warn("`in1d` is deprecated. Use `np.isin` instead.", DeprecationWarning,
                      stacklevel=3)
        if not _traced(ar1, ar2):
            return _plain(np.isin, np.ravel(ar1), ar2, assume_unique=assume_unique,
                          invert=invert, kind=kind)
        return _isin(PUBLIC["numpy"]["ravel"](asarray_like(ar1)), ar2, assume_unique,
                     invert, kind)


# ------------------------------------------------- results whose shape depends on values

_VALUE_SHAPED = ("chainrule.numpy.{name}: its result has one entry per nonzero element, "
                 "so its length differs from example to example, and vmap cannot batch "
                 "it. Keep the mask instead: cnp.where(mask, x, fill) or x * mask for the "
                 "selected values, cnp.count_nonzero(mask, axis=...) for counts, "
                 "cnp.argmax(mask, axis=...) for the first nonzero position (or call the "
                 "function outside vmap, example by example).")


def _value_shaped(np_fn):
    name = np_fn.__name__

    @numpy_function(np_fn, name=name)
    def fn(a):
        if not _traced(a):
            return np_fn(a)
        try:             # (under jit: a guard on where ``a`` is nonzero, not on ``a``)
            mask = concrete(asarray_like(a) != 0)
        except ConcretizationError:
            raise ConcretizationError(_VALUE_SHAPED.format(name=name)) from None
        return np_fn(mask)
    fn.__doc__ = (f"``numpy.{name}``: not differentiable (indices). Its result's shape "
                  "depends on the values: under ``jit`` a guard on where the array is "
                  "nonzero (a new trace when that changes); under ``vmap`` an error.")
    return fn


argwhere = _value_shaped(np.argwhere)
nonzero = _value_shaped(np.nonzero)
flatnonzero = _value_shaped(np.flatnonzero)
