"""Array backends: what NumPy's dispatch does not do for arrays of other libraries.

chainrule's primitives call NumPy functions, and Dask and CuPy arrays implement those
through NumPy's protocols (``__array_ufunc__``, ``__array_function__``): ``np.exp(x)``,
``np.matmul(x, y)``, ``np.sum(x)`` return a Dask array for a Dask ``x``. A few things
are not dispatched, and this module is the one place that knows about them:

* ufunc *methods* (``np.add.reduce``, ``np.maximum.reduce``, ``np.add.at``): Dask does
  not implement them and CuPy only partly. Reductions go through the functions
  (``np.sum``, ``np.max``) instead, and scatter-add has one implementation per backend.
* creating arrays (``np.zeros``, ``np.broadcast_to`` of a NumPy constant): a NumPy result
  would be embedded in a Dask graph (``n * 8`` bytes per constant) or copied to the GPU.
  Constants are made by the backend of the array they meet, with its chunks.
* reading a value (``bool(x)``, a check whether an array has zeros): a Dask array is
  lazy, and reading it computes the whole graph. :func:`is_lazy` tells rules not to.

Every function keeps NumPy's own fast path for ``np.ndarray`` (one type test), so plain
NumPy programs pay nothing. A function a backend lacks raises ``NotImplementedError``
naming the function and the backend (:func:`unsupported`). Nothing here imports Dask or
CuPy unless an array of theirs was given.
"""
import operator
import threading

import numpy as np

_ndarray = np.ndarray
_NUMPY = frozenset(("numpy", "builtins"))
_NOT_FOREIGN = frozenset(("numpy", "builtins", "chainrule"))   # (tracers are chainrule's)


def library(x):
    """The library an array comes from: ``'numpy'`` for NumPy arrays, NumPy scalars and
    Python numbers, else the top-level module of its type (``'dask'``, ``'cupy'``)."""
    t = type(x)
    if t is _ndarray:
        return "numpy"
    name = t.__module__.partition(".")[0]
    return "numpy" if name in _NUMPY else name


def is_foreign(x):
    """Whether ``x`` is an array of another library than NumPy (Dask, CuPy, ...), which
    must never be converted with ``np.asarray``. chainrule's tracers are not."""
    t = type(x)
    return t is not _ndarray and t.__module__.partition(".")[0] not in _NOT_FOREIGN and \
        hasattr(t, "__array_function__")


def is_lazy(x):
    """Whether reading ``x``'s values would run a computation that has not happened
    (a Dask array): rules must not look at its values (``bool``, checks for zeros)."""
    return type(x).__module__.startswith("dask.")


def unsupported(function, x, why=""):
    """The ``NotImplementedError`` for a function that ``x``'s backend lacks."""
    return NotImplementedError(
        f"{function} is not implemented for {library(x)} arrays "
        f"({type(x).__module__}.{type(x).__name__}){': ' + why if why else ''}. "
        "Compute the array (np.asarray(x.compute()) for Dask, x.get() for CuPy) to use "
        "the NumPy implementation.")


def check_input(x):
    """Refuse what a transformation cannot work with before tracing starts: a Dask
    array whose chunk sizes are unknown (after boolean indexing, ``unique``, ...)."""
    if is_lazy(x):
        chunks = getattr(x, "chunks", ())
        if any(c != c for dim in chunks for c in dim):        # nan: unknown
            raise ValueError(
                f"a Dask array with unknown chunk sizes (shape {x.shape}) was given to a "
                "chainrule transformation: derivatives need every shape. Call "
                "x.compute_chunk_sizes() first (or rechunk to known sizes).")
    return x


# ------------------------------------------------------------------------- reductions

_REDUCTIONS = {"sum": (np.add, np.sum), "max": (np.maximum, np.max),
               "min": (np.minimum, np.min), "prod": (np.multiply, np.prod),
               "any": (np.logical_or, np.any), "all": (np.logical_and, np.all)}


def reduce(name, x, axis, keepdims=False):
    """``np.<ufunc>.reduce(x, axis, keepdims)`` for NumPy values; the dispatched
    function (``np.sum``, ``np.max``, ...) for other backends' arrays."""
    ufunc, function = _REDUCTIONS[name]
    if type(x) is _ndarray or not is_foreign(x):
        return ufunc.reduce(x, axis=axis, keepdims=keepdims)
    return function(x, axis=axis, keepdims=keepdims)


def cumsum(x, axis):
    """``np.add.accumulate`` for NumPy, ``np.cumsum`` for other backends."""
    if type(x) is _ndarray or not is_foreign(x):
        return np.add.accumulate(x, axis=axis)
    return np.cumsum(x, axis=axis)


# ----------------------------------------------------------------- creating arrays

def zeros(shape, dtype, like=None):
    """Zeros of ``shape`` on ``like``'s backend (NumPy when ``like`` is a NumPy value or
    None); for a Dask ``like`` of the same shape, with its chunks."""
    if like is None or type(like) is _ndarray or not is_foreign(like):
        return np.zeros(shape, dtype)
    if is_lazy(like):
        import dask.array as da
        if tuple(like.shape) == tuple(shape):
            return da.zeros_like(like, dtype=dtype)
        return da.zeros(shape, dtype=dtype, chunks=_chunks_for(like, shape))
    return np.zeros(shape, dtype, like=like)


def broadcast_to(x, shape, like):
    """``np.broadcast_to(x, shape)`` for a (small) NumPy ``x`` that will meet ``like``'s
    backend: a Dask array with ``like``'s chunks whose graph holds ``x`` once (not the
    ``n * 8`` bytes of a broadcast NumPy array), or a CuPy array."""
    if is_lazy(like):
        import dask.array as da
        chunks = _chunks_for(like, shape)
        if np.size(x) != 1:                 # x's own axes: rechunked to the target's
            return da.broadcast_to(da.asarray(x), shape).rechunk(chunks)
        if type(x) is _ndarray or isinstance(x, (np.generic, int, float, complex)):
            # one number: a blockwise layer, which Dask fuses into the elementwise tasks
            # that read it (a broadcast_to layer is a task per chunk, run ahead of the
            # data and kept: a gradient's seed, negated, cost a pass over memory per chunk)
            x = np.asarray(x)
            return da.full(shape, x.reshape(()).item(), dtype=x.dtype, chunks=chunks)
        return da.broadcast_to(x, shape, chunks=chunks)
    if not is_foreign(like):
        return np.broadcast_to(x, shape)
    xp = _namespace(like)
    return xp.broadcast_to(xp.asarray(x), shape)


def _chunks_for(like, shape):
    """``like``'s chunks for an array of ``shape``: its trailing axes' chunks where the
    lengths agree (broadcasting aligns on the right), 'auto' for other axes."""
    chunks = list(like.chunks)
    out = []
    for i, n in enumerate(shape):
        j = len(chunks) - len(shape) + i
        out.append(chunks[j] if 0 <= j and sum(chunks[j]) == n else "auto")
    return tuple(out)


def copy(x, order="K"):
    """A new array with ``x``'s values on ``x``'s backend (``np.array(x, copy=True)``
    for NumPy, which would turn a foreign array into a NumPy one)."""
    if type(x) is _ndarray or not is_foreign(x):
        return np.array(x, copy=True, order=order)
    return x.copy()


def astype(x, dtype):
    """``x.astype(dtype)`` keeping ``x``'s backend (NumPy scalars and lists too)."""
    if type(x) is _ndarray or not is_foreign(x):
        return np.asarray(x).astype(dtype)
    return x.astype(dtype)


def _namespace(x):
    """The module with NumPy's array functions for ``x``'s backend."""
    lib = library(x)
    if lib == "dask":
        import dask.array as da
        return da
    if lib == "cupy":
        import cupy
        return cupy
    raise unsupported("creating arrays", x)


# ----------------------------------------------------------------- scatter-add

def scatter_add(z, index, v):
    """``z[index] += v`` with repeated positions adding up (``np.add.at``), on ``z``'s
    backend; returns the result (``z`` itself for NumPy and CuPy)."""
    if type(z) is _ndarray or not is_foreign(z):
        np.add.at(z, index, v)
        return z
    lib = library(z)
    if lib == "cupy":
        import cupyx
        cupyx.scatter_add(z, index, v)
        return z
    if lib == "dask" and _is_basic(index):
        # a basic index (slices, integers) names every position at most once: the sum
        # is the assignment into zeros, which Dask does lazily, chunk by chunk
        return _dask_setitem(z, index, v, add=True)
    if lib == "dask":
        return _dask_scatter_add(z, index, v)
    raise unsupported("scatter-add (np.add.at, the derivative of indexing with arrays)",
                      z, "only slices and integers are supported on Dask arrays")


SCATTER_LIMIT = 2 ** 25     # elements of a Dask scatter-add's target (one per chunk's sum)


def _dask_scatter_add(z, index, v):
    """``np.add.at`` into a Dask array with an index of NumPy integer arrays: each chunk
    of ``v`` adds its values into a partial sum of ``z``'s size (``np.bincount`` at the
    flat positions its elements go to), and the partial sums are added up as a tree. The
    target must be small enough for one partial sum per chunk (``SCATTER_LIMIT``
    elements: a parameter's cotangent, not the data's)."""
    import dask
    import dask.array as da
    from dask.array.core import slices_from_chunks
    index = index if type(index) is tuple else (index,)
    if any(is_foreign(i) for i in index):
        raise unsupported("scatter-add (np.add.at) with an index that is a lazy or GPU "
                          "array", z, "the positions must be concrete NumPy integers")
    if z.size > SCATTER_LIMIT:
        raise unsupported("scatter-add (np.add.at, the derivative of indexing with arrays)",
                          z, f"the target's {z.size} elements exceed the "
                             f"{SCATTER_LIMIT} that one partial sum per chunk may hold")
    # the flat position in z of every element of z[index] (NumPy's indexing rules: the
    # same positions np.add.at would add at, negative indices and all)
    pos = np.arange(z.size).reshape(z.shape)[index]
    v = v if is_lazy(v) else da.asarray(v)
    if tuple(v.shape) != pos.shape:
        v = da.broadcast_to(v, pos.shape)
    complex_ = np.dtype(z.dtype).kind == "c" or np.dtype(v.dtype).kind == "c"
    size = int(z.size)

    def partial(block, where):
        w, p = np.ravel(block), np.ravel(where)
        out = np.bincount(p, weights=w.real, minlength=size)
        if complex_:
            out = out + 1j * np.bincount(p, weights=w.imag, minlength=size)
        return out

    blocks = v.to_delayed().ravel()
    where = [pos[sl] for sl in slices_from_chunks(v.chunks)]
    parts = [da.from_delayed(dask.delayed(partial)(b, p), (size,),
                             np.complex128 if complex_ else np.float64)
             for b, p in zip(blocks, where)]
    total = da.stack(parts).sum(axis=0) if len(parts) > 1 else parts[0]
    return z + total.reshape(z.shape).astype(z.dtype)


def assign(z, index, v):
    """``z[index] = v`` for a basic index (slices, integers, None, ...) on ``z``'s
    backend; returns the result. Dask assigns lazily but takes no ``None`` in the
    index: those axes (of length 1 in ``v``) are dropped from ``v`` instead."""
    if type(z) is _ndarray or not is_foreign(z):
        z[index] = v
        return z
    if is_lazy(z):
        if not _is_basic(index):
            raise unsupported("assignment with an index of arrays", z,
                              "only slices and integers are supported on Dask arrays")
        return _dask_setitem(z, index, v)
    z[index] = v
    return z


def _dask_setitem(z, index, v, add=False):
    """``z[index] = v`` (``add``: ``+= v``) for a basic index on a Dask array, as a new
    array. The index is first put in the form Dask assigns correctly: no None (those
    axes, of length 1 in ``v``, are dropped from ``v``), no Ellipsis, integers counted
    from the start, and slices with a positive step (a negative one is its positions in
    increasing order, ``v`` reversed along that axis): Dask put the values of
    ``z[-1, ::-2] = v`` at the wrong positions, silently, on a 4-d array."""
    index = index if type(index) is tuple else (index,)
    shape = tuple(z.shape)
    view = np.broadcast_to(np.empty((), bool), shape)       # free: shapes of z[...]
    v = np.broadcast_to(v, view[index].shape) if np.shape(v) != view[index].shape else v
    kept = [i for i in index if i is not None]
    if len(kept) != len(index):
        v = v.reshape(view[tuple(kept)].shape)
    kept = _expand_ellipsis(kept, len(shape))
    new, flips, out = [], [], 0
    for i, n in zip(kept, shape):
        if type(i) is slice:
            r = range(*i.indices(n))
            if r.step < 0:
                new.append(slice(r[-1], r[0] + 1, -r.step) if len(r) else slice(0, 0))
                flips.append(out)
            else:
                new.append(slice(r.start, r.stop, r.step))
            out += 1
        else:
            new.append(operator.index(i) % n)
    new += [slice(None)] * (len(shape) - len(new))
    if flips:
        v = v[tuple(slice(None, None, -1) if k in flips else slice(None)
                    for k in range(len(np.shape(v))))]
    if getattr(v, "size", 1) == 0:
        return z
    new = tuple(new)
    if add:             # z plus v placed in zeros (z[new] + v inside the assignment made
        d = zeros(z.shape, z.dtype, like=z)     # graphs Dask could not run: step 3)
        d[new] = v
        return z + d
    z = z.copy()
    z[new] = v
    return z


def _no_empty_chunks(y):
    """A Dask array without chunks of length 0 (a step slice leaves them; Dask then
    broadcast ``y * w`` with ``w`` of length 1 into too many elements, silently)."""
    if any(0 in c and len(c) > 1 for c in y.chunks):
        y = y.rechunk(tuple(tuple(n for n in c if n) or (0,) for c in y.chunks))
    return y


def _expand_ellipsis(idx, ndim):
    """The index list ``idx`` with its Ellipsis replaced by the full slices it stands
    for on an array of ``ndim`` axes."""
    for k, i in enumerate(idx):
        if i is Ellipsis:
            used = sum(1 for j in idx if j is not None and j is not Ellipsis)
            return idx[:k] + [slice(None)] * (ndim - used) + idx[k + 1:]
    return idx


def getitem(x, index):
    """``x[index]``; an index another backend cannot take raises NotImplementedError
    (Dask takes one integer array per index, NumPy any)."""
    if type(x) is _ndarray or not is_foreign(x):
        return x[index]
    if _is_basic(index):
        return _no_empty_chunks(x[index]) if is_lazy(x) else x[index]
    after = None
    if is_lazy(x):
        x, index, after = _advanced_first(x, index)
    try:
        return x[index] if after is None else after(x[index])
    except (IndexError, TypeError, ValueError, AssertionError, NotImplementedError) as e:
        raise unsupported("indexing with this index", x, f"{type(e).__name__}: {e}") from e


def _advanced_first(x, index):
    """``(x, index, after)`` for Dask, with ``after(x[index])`` equal to NumPy's
    ``x[index]`` (``after`` None: nothing to do). Dask departs from NumPy's indexing
    rules, silently, in three ways this rewrites around:

    - where the advanced indices (arrays, and integers beside an array) are not
      adjacent, NumPy puts their broadcast axes first and Dask does not (``x[1, :,
      [0, 3]]`` came out transposed): their axes move to the front of ``x`` and their
      entries to the front of the index, where both libraries agree;
    - an index array of more (or fewer) than one dimension gave one axis: it is
      raveled and its axis reshaped to the array's shape afterwards;
    - ``None`` beside an array fails: it is dropped and its axis put back afterwards.

    Two index arrays, or a boolean array that is not alone, raise NotImplementedError."""
    idx = list(index) if type(index) is tuple else [index]
    idx = [np.asarray(i) if type(i) is list else i for i in idx]
    # adjacency as NumPy judges it: in the index as written (an Ellipsis between two
    # advanced indices separates them even where it stands for no axis)
    written = [p for p, i in enumerate(idx)
               if i is not None and i is not Ellipsis and type(i) is not slice]
    adjacent = written == list(range(written[0], written[-1] + 1)) if written else True
    idx = _expand_ellipsis(idx, len(x.shape))
    arrays = [i for i in idx if hasattr(i, "shape") and hasattr(i, "dtype")]
    if not arrays:
        return x, tuple(idx), None
    if len(arrays) > 1 or (np.dtype(arrays[0].dtype) == bool and
                           (len(idx) > 1 or len(arrays[0].shape) != 1)):
        raise unsupported("indexing with two index arrays, or a boolean array with "
                          "other indices", x, "Dask's rules differ from NumPy's there")
    adv = [p for p, i in enumerate(idx) if i is not None and type(i) is not slice]
    if not adjacent:
        axis, axes = 0, {}
        for p, i in enumerate(idx):
            if i is not None:
                axes[p] = axis
                axis += 1
        front = [axes[p] for p in adv]
        x = np.moveaxis(x, front, list(range(len(front))))
        idx = [idx[p] for p in adv] + [i for p, i in enumerate(idx) if p not in adv]
        adv = list(range(len(adv)))
    arr = arrays[0]
    shape = tuple(np.shape(arr))
    nones = any(i is None for i in idx)
    if len(shape) == 1 and not nones:
        return x, tuple(idx), None
    # the output without the None axes: the slices before the block, the block's axis
    # (one, for the raveled array), the slices after; ``put`` adds back the array's
    # axes and the None axes
    lead = sum(1 for i in idx[:adv[0]] if type(i) is slice)
    put = tuple([None if i is None else slice(None) for i in idx[:adv[0]]] +
                [slice(None)] * len(shape) +
                [None if i is None else slice(None) for i in idx[adv[-1] + 1:]])
    kept = tuple(np.ravel(i) if i is arr else i for i in idx if i is not None)

    def after(y):
        s = tuple(y.shape)
        y = y.reshape(s[:lead] + shape + s[lead + 1:])
        return y[put] if nones else y
    return x, kept, after


def dask_linalg(name, *args, **kwargs):
    """``dask.array.linalg.<name>(*args, **kwargs)`` for 2-d Dask arrays (Dask's linear
    algebra takes no stacks of matrices, and square matrices in square blocks); anything
    else raises NotImplementedError naming the function."""
    import dask.array as da
    lazy = next(a for a in args if is_lazy(a))
    if any(len(np.shape(a)) not in (1, 2) for a in args):
        raise unsupported(f"np.linalg.{name} of a stack of matrices", lazy,
                          "Dask's linear algebra takes 2-d arrays")
    args = [a if is_lazy(a) else da.from_array(np.asarray(a)) for a in args]
    try:
        return getattr(da.linalg, name)(*args, **kwargs)
    except (ValueError, NotImplementedError) as e:
        raise unsupported(f"np.linalg.{name}", lazy, f"{type(e).__name__}: {e}") from e


def scatter_multiply(z, index, v):
    """``np.multiply.at(z, index, v)`` on NumPy arrays; other backends raise."""
    if type(z) is _ndarray or not is_foreign(z):
        np.multiply.at(z, index, v)
        return z
    raise unsupported("scatter-multiply (np.multiply.at)", z)


def _is_basic(index):
    index = index if type(index) is tuple else (index,)
    return all(i is None or i is Ellipsis or type(i) is slice or
               isinstance(i, (int, np.integer)) for i in index)


# ----------------------------------------------------------------------- no computing

class _NoCompute:
    """While a transformation runs the user's function on Dask arrays, a Dask computation
    asked for by that thread raises LazyValueError (a comparison of traced lazy values
    is a plain Dask array, which an ``if`` would silently compute). Dask's scheduler
    setting is process-wide: the first thread in installs a scheduler that refuses for
    threads inside a transformation and hands every other thread's computation to the
    scheduler that was set before; the last one out puts that back."""

    def __init__(self):
        self.lock = threading.Lock()
        self.users = 0
        self.restore = None
        self.inside = threading.local()

    def __enter__(self):
        import dask
        from dask.base import get_scheduler
        with self.lock:
            if self.users == 0:
                outer = get_scheduler()
                if outer is None:
                    import dask.threaded
                    outer = dask.threaded.get

                def get(*args, **kwargs):
                    if getattr(self.inside, "depth", 0):
                        _refuse()
                    return outer(*args, **kwargs)
                self.restore = dask.config.set(scheduler=get)
            self.users += 1
        self.inside.depth = getattr(self.inside, "depth", 0) + 1

    def __exit__(self, *exc):
        self.inside.depth -= 1
        with self.lock:
            self.users -= 1
            if self.users == 0:
                self.restore.__exit__(None, None, None)
                self.restore = None
        return False


def _refuse():
    from .core import LazyValueError
    raise LazyValueError(
        "a Dask computation was asked for while chainrule transformed a function of Dask "
        "arrays (an `if` or `while` on a comparison such as `loss > 0`, bool(), "
        "np.asarray(), .compute() inside the function): transformations compute nothing "
        "and return lazy results. Compute the value outside the transformation, or write "
        "the branch with chainrule.numpy.where.")


_NO_COMPUTE = _NoCompute()


def no_compute(leaves):
    """The context in which the user's function runs where one of ``leaves`` is a Dask
    array (no Dask computation: :class:`_NoCompute`); else None (nothing to guard)."""
    for x in leaves:
        if type(x) is not _ndarray and is_lazy(x):
            return _NO_COMPUTE
    return None


class _Late(threading.local):
    n = 0                       # guards entered by watched() in this thread


_late = _Late()


def call_user(guard, fun, *args, **kwargs):
    """``fun(*args, **kwargs)``: a transformation running the user's function, under
    ``guard`` (:func:`no_compute` of its arguments, or None). A function whose Dask
    arrays are not among its arguments (closed over, globals) starts unguarded: the
    guard begins where a traced value first hands Python a lazy value
    (:func:`watched`), and ends with this call."""
    mark = _late.n
    try:
        if guard is None:
            return fun(*args, **kwargs)
        with guard:
            return fun(*args, **kwargs)
    finally:
        while _late.n > mark:
            _late.n -= 1
            _NO_COMPUTE.__exit__()


def watched(x):
    """``x``, an untraced result a transformation hands back to the user's function
    (a comparison of traced values, say), having begun the no-compute guard when ``x``
    is lazy: an ``if`` on ``loss > 0`` must raise LazyValueError, not compute, also
    where the Dask data were closed over rather than passed (:func:`call_user`)."""
    if type(x) is _ndarray or getattr(_NO_COMPUTE.inside, "depth", 0):
        return x
    if not is_lazy(x[0] if type(x) in (list, tuple) and x else x):    # (or results)
        return x
    _NO_COMPUTE.__enter__()
    _late.n += 1
    return x
