"""NumPy functions whose outputs carry no derivative (integer, boolean or index
results, and array creation). Inside a transformation most of them run NumPy on the
concrete values of their traced arguments; there is nothing to differentiate.

``searchsorted``, ``digitize`` and ``lexsort`` are primitives instead (index results
with batching rules), so that they work under ``vmap`` with any of their array
arguments batched (each example's own search or sort, in one NumPy call over the
batch) and are staged by ``jit`` without guards on their values.
"""
import numpy as np

from ..core import NonDiffPrimitive, Tracer, shape_of, dtype_of
from ..prims import shape as sp
from .dispatch import numpy_function, PUBLIC
from .basic import asarray_like, clip_mode, concrete, normalize_axis


NONDIFF_FUNCTIONS = [
    "argwhere", "nonzero", "flatnonzero", "count_nonzero",
    "isclose", "allclose", "array_equal", "array_equiv",
    "all", "any", "isreal", "iscomplex", "isscalar", "shares_memory", "may_share_memory", "isin", "in1d",
    "zeros_like", "ones_like", "empty_like", "full_like", "iscomplexobj",
    "isneginf", "isposinf", "nanargmax", "nanargmin",
]


def _make(np_fn):
    @numpy_function(np_fn, name=np_fn.__name__)
    def fn(*args, **kwargs):
        return np_fn(*concrete(args), **{k: concrete(v) for k, v in kwargs.items()})
    fn.__doc__ = (f"``numpy.{np_fn.__name__}``: not differentiable (its result carries no "
                  "derivative); works on traced values through their concrete values.")
    return fn


for _name in NONDIFF_FUNCTIONS:
    _np_fn = getattr(np, _name, None)
    if _np_fn is not None and not isinstance(_np_fn, np.ufunc) and callable(_np_fn):
        if _name in ("zeros_like", "ones_like", "empty_like", "full_like", "iscomplexobj"):
            continue   # defined in basic.py
        _make(_np_fn)


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
    return np.reshape(x, (r, -1))


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
    return any(isinstance(x, Tracer) for x in xs)


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
    (axis,) = normalize_axis(axis, nd)
    if nd == 0:
        return np.intp(0)
    return lexsort_p.bind(*keys, axis=axis, nbatch=0)
