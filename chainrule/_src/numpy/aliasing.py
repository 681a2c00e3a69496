"""Copies, views and in-place writes with NumPy's semantics, on traced arrays.

NumPy programs write into arrays: ``y[0] = 0``, ``c = X[:, 0]; c *= 3``, ``X.T[0] = 0``,
``np.add(a, b, out=y)``. A traced array is immutable underneath (each primitive makes a
new value, which is what derivatives need), so chainrule follows PyTorch's model of views:

* A tracer is either a **base** (it owns its data) or a **view** of a base: the view
  records its base and the *steps* that derive it (``transpose``, a basic index, a
  ``reshape`` NumPy could do without copying, ...). Views of views record the steps from
  the first base, so every view of one base knows the same root. A copy is a new base.
* A **write** (``x[i] = v``, ``x += v``, ``out=``, ``np.add.at``, ``x.sort()``, ...)
  through a view becomes a functional update of its base: the positions of the view in
  the base are NumPy's own answer (the steps applied to ``arange(base.size)``), and the
  base is re-pointed to a scatter into those positions. Then every live view of that
  base is re-derived from the new base. Derivatives follow this functional program, so
  they are exact.
* Whether a function returns a view or a copy is NumPy's decision: for ``reshape`` and
  ``ravel`` NumPy is asked, on the concrete arrays (the base's memory layout and the
  steps), whether it could avoid a copy. ``diagonal``, ``broadcast_to`` and the
  imaginary part of a real array are read-only, as in NumPy.

Functions of the numpy layer declare their kind (``numpy_function(..., view=...)``);
inner calls made by chainrule's own implementations make no views (``_local.depth``),
so only what the user's program sees follows NumPy's aliasing. Tracer slots:
``_alias`` is ``None`` (unset) for an array without views, a :class:`Base` record for
a base with views, or a :class:`View` record for a view.
"""
import threading
import weakref

import numpy as np

from ..core import Tracer, _state, shape_of, dtype_of, value_of, TracerConversionError
from ..prims import elementwise as ew
from ..prims import shape as sp
from ..prims.indexing import scatter_p, split_index, join_index, ARRAY


class _Local(threading.local):
    depth = 0       # > 0 while a chainrule.numpy function runs: its inner calls make no views


_local = _Local()


class Base:
    """Alias record of a base array that has (or had) views: weak references to them."""
    __slots__ = ("views", "writeable")

    def __init__(self, writeable=True):
        self.views = []
        self.writeable = writeable


class View:
    """Alias record of a view: its base tracer, the steps from the base, writeability."""
    __slots__ = ("base", "steps", "writeable")

    def __init__(self, base, steps, writeable):
        self.base = base
        self.steps = steps
        self.writeable = writeable


class Step:
    """One view function applied to an array: ``fn(v, *args, **kwargs)``.

    ``kind`` is ``"pos"`` for views that select elements of their input (their positions
    in it are the step applied to an index array), ``"real"`` / ``"imag"`` for the parts
    of a complex array."""
    __slots__ = ("fn", "args", "kwargs", "kind")

    def __init__(self, fn, args=(), kwargs=None, kind="pos"):
        self.fn, self.args, self.kwargs, self.kind = fn, args, kwargs or {}, kind

    def __call__(self, v):
        return self.fn(v, *self.args, **self.kwargs)


def _alias(x):
    return getattr(x, "_alias", None)


def _inner(fn, *args, **kwargs):
    """Run ``fn`` as an inner call (it makes no views)."""
    saved = _local.depth
    _local.depth = saved + 1
    try:
        return fn(*args, **kwargs)
    finally:
        _local.depth = saved


def as_user(fn, *args, **kwargs):
    """Run the user's ``fn`` from inside a chainrule function (vectorize's function, pad's
    callable mode): its views and writes are the user's program, so they follow NumPy."""
    saved = _local.depth
    _local.depth = 0
    try:
        return fn(*args, **kwargs)
    finally:
        _local.depth = saved


def _numpy(fn, *args, **kwargs):
    """Run ``fn`` on plain arrays with no transformation current (NumPy itself)."""
    saved, _state.trace = _state.trace, None
    try:
        return _inner(fn, *args, **kwargs)
    finally:
        _state.trace = saved


# ------------------------------------------------------------------ making views

def make_view(base, out, step, writeable=True):
    """Record ``out`` (a tracer) as a view of ``base`` made by ``step``; returns ``out``."""
    if not isinstance(out, Tracer) or out is base or not isinstance(base, Tracer) or \
            out._trace is not base._trace:
        return out
    info = _alias(base)
    if info is None and not shape_of(base) and _numpy_scalar(base):
        return out      # a NumPy scalar's reshape, asarray, [None], ...: a new array
    if type(info) is View:
        root, steps = info.base, info.steps + (step,)
        writeable = writeable and info.writeable
    else:
        root, steps = base, (step,)
        if info is None:
            info = base._alias = Base()
        writeable = writeable and info.writeable
    views = root._alias.views
    if len(views) >= 16:                 # drop the views that died since
        views[:] = [r for r in views if r() is not None]
    views.append(weakref.ref(out))
    out._alias = View(root, steps, writeable)
    return out


def _numpy_scalar(x):
    """Whether the 0-d traced ``x`` holds a NumPy scalar (``x[0]`` of a vector, a
    reduction's result), which has no memory a view could share: NumPy's
    ``np.atleast_1d(s)``, ``s.reshape(1)``, ``s[None]`` are new arrays. Only where the
    value is held (forward, reverse and staging traces; not vmap's batches)."""
    return isinstance(value_of(x), np.generic)


def read_only(out):
    """Mark a fresh traced array read-only (``x.imag`` of a real ``x``)."""
    if isinstance(out, Tracer):
        out._alias = Base(writeable=False)
    return out


def numpy_makes_view(a, step):
    """Whether NumPy's function (``step``) returns a view of ``a``: asked of NumPy, on
    an array with ``a``'s memory layout (its base's concrete value and the view steps
    that lead to ``a``). None when that layout is not known: under vmap, where a batch
    is laid out differently from one example, and the two candidates disagree."""
    info = _alias(a)
    root, steps = (info.base, info.steps) if type(info) is View else (a, ())
    answers = set()
    for v in _layouts(root):
        for s in steps:
            v = _numpy(s, v)
        answers.add(bool(np.may_share_memory(_numpy(step, v), v)))
    return answers.pop() if len(answers) == 1 else None


def _layouts(x):
    """Arrays with the memory layout of one example of ``x``'s value: its concrete value
    (read without a guard); under vmap (at every level of nesting) one example of the
    batch, and a C-contiguous array of that shape (a batch need not be laid out as NumPy
    lays out one example)."""
    v, bdims = x, []
    for _ in range(64):
        if type(v) is np.ndarray:
            break
        if hasattr(v, "primal"):                 # reverse, forward, staging tracers
            v = v.primal
        elif hasattr(v, "bdim"):                 # vmap: its batch axis, sliced off below
            bdims.append(v.bdim)
            v = v.val
        elif hasattr(v, "value") and callable(v.value):      # deferred.Pending
            v = v.value()
        else:
            break
    if type(v) is not np.ndarray:
        return [np.empty(shape_of(x), dtype_of(x))]
    if not bdims:
        return [v]
    for d in reversed(bdims):                    # the outermost batch axis first
        v = v[(slice(None),) * d + (0,)]
    # one example of a batch lies in memory with gaps (the other examples): NumPy
    # allocates it without, in the order of its strides
    order = sorted(range(v.ndim), key=lambda a: (-abs(v.strides[a]), a))
    dense = np.empty([v.shape[a] for a in order], v.dtype).transpose(np.argsort(order))
    return [dense, np.empty(v.shape, v.dtype)]


def register(kind, fn, args, kwargs, out):
    """The aliasing of a public function's result (``numpy_function(view=kind)``)."""
    if kind is None:                             # a new array, never an argument itself
        if isinstance(out, Tracer):
            for a in args:
                if a is out:
                    return copy_of(out)
        return out
    if kind == "identity":
        if isinstance(out, Tracer) and not shape_of(out) and _alias(out) is None and \
                any(a is out for a in args) and _numpy_scalar(out):
            return copy_of(out)     # np.asarray / np.require of a NumPy scalar: a new array
        return out
    if kind == "diag":                           # np.diag of a matrix: its diagonal
        if len(shape_of(args[0] if args else kwargs["v"])) != 2:
            return out if out is not (args[0] if args else None) else copy_of(out)
        kind = "readonly"
    if kind in ("split", "each"):
        return _several(kind, fn, args, kwargs, out)
    base = args[0] if args else next(iter(kwargs.values()))
    if not isinstance(base, Tracer) or not isinstance(out, Tracer):
        return out
    step = Step(fn, args[1:], kwargs)
    if kind == "maybe":                          # reshape/ravel: NumPy decides
        return _maybe_view(base, out, step, kwargs)
    if out is base:                              # an unchanged shape: the same array
        return out
    if kind == "always":
        return make_view(base, out, step)
    if kind == "readonly":
        return make_view(base, out, step, writeable=False)
    if kind in ("real", "imag"):
        if dtype_of(base).kind == "c":
            return make_view(base, out, Step(fn, args[1:], kwargs, kind))
        return out if kind == "real" else read_only(out)
    raise ValueError(f"unknown view kind {kind!r}")


def _maybe_view(base, out, step, kwargs):
    """reshape/ravel: a view when NumPy's would be one (``copy=`` as NumPy's). ``out``
    may be ``base`` itself (an unchanged shape)."""
    copy = kwargs.get("copy")
    view = False if copy else numpy_makes_view(base, step)
    if view is False:
        if copy is False:
            raise ValueError("Unable to avoid creating a copy while reshaping.")
        return copy_of(out) if out is base else out
    if out is base:
        if view:
            return out
        out = copy_of(out)
    make_view(base, out, step)
    if view is None:                             # unknown under vmap: writes raise
        out._alias.writeable = None
    return out


def _several(kind, fn, args, kwargs, out):
    """Functions returning several views: ``split`` (each output a view of the first
    argument) and ``each`` (output k a view of argument k: broadcast_arrays,
    atleast_1d(a, b))."""
    if not isinstance(out, (list, tuple)):
        return register("always", fn, args, kwargs, out)
    if kind == "split":
        for k, o in enumerate(out):
            make_view(args[0], o, Step(_nth_split, (fn, k, args[1:], kwargs)))
        return out
    shapes = [shape_of(a) for a in args]
    for k, (a, o) in enumerate(zip(args, out)):
        make_view(a, o, Step(_nth_each, (fn, k, shapes, kwargs)))
    return out


def _nth_split(v, fn, k, rest, kwargs):
    return fn(v, *rest, **kwargs)[k]


def _nth_each(v, fn, k, shapes, kwargs):
    """Output ``k`` of ``fn`` with ``v`` as argument ``k`` (the others only lend their
    shapes: broadcast_arrays)."""
    args = [v if i == k else np.empty(s) for i, s in enumerate(shapes)]
    return fn(*args, **kwargs)[k]


def getitem_view(x, spec, out):
    """``x[spec]``: basic indexing that does not pick a single element is a view."""
    if _local.depth or ARRAY in spec or (len(spec) == len(shape_of(x)) and
                                         all(type(s) is int for s in spec)):
        return out
    return make_view(x, out, Step(_index, (join_index(spec, ()),)))


def _index(v, idx):
    return v[idx]


def copy_of(x, order="K"):
    """A new base with ``x``'s values (``x.copy()``, ``np.copy``, ``+x``, ...)."""
    if not isinstance(x, Tracer):
        return np.array(x, copy=True, order=order)
    return sp.copy_p.bind(x, order=order)


# ------------------------------------------------------------------ writing

_PY_SCALARS = (int, float, complex, bool)


def write(target, idx, value, mode="set"):
    """``target[idx] = value`` (mode ``"set"``), ``np.add.at(target, idx, value)``
    (``"add"``) or ``np.multiply.at`` (``"multiply"``), in place with NumPy's
    aliasing: the base of ``target`` is updated and every live view of it re-derived.
    ``idx`` None means the whole array."""
    py = type(value) in _PY_SCALARS
    if type(value) in (list, tuple):             # a[1:3] = [x[0], 2.0]: an array_like
        from .basic import asarray_like
        py, value = value, asarray_like(value)
        py = py if not isinstance(value, Tracer) else False
    if py is not False and mode == "set" and isinstance(target, Tracer):
        # Python numbers are converted to the array's dtype as NumPy converts them:
        # its errors for 1j into a float array, NaN into an integer one, 300 into int8
        np.asarray(value if py is True else py, dtype=dtype_of(target))
    if not isinstance(target, Tracer):
        if not isinstance(value, Tracer) and not _traced_index(idx):
            idx = Ellipsis if idx is None else idx       # plain arrays: NumPy itself
            if mode == "set":
                target[idx] = value
            else:
                getattr(np, mode).at(target, idx, value)
            return target
        raise TracerConversionError(
            "a traced value was written into a NumPy array (an in-place update of an "
            "ndarray with a traced value). That would drop its derivative: make the "
            "buffer like a traced array (np.zeros_like(x), np.full_like(x, c) of a "
            "traced x are traced buffers; np.zeros(n) is NumPy's), or use "
            "y = cnp.at(y)[i].set(v), which returns a traced copy that later in-place "
            "writes update")
    info = _alias(target)
    if info is not None and not info.writeable:
        if info.writeable is None:
            raise NotImplementedError(_AMBIGUOUS)
        raise ValueError("assignment destination is read-only")
    if mode == "set" and _is_mask(idx, target) and not shape_of(value):
        # x[mask] = scalar: a select, with no data-dependent shape (vmap, jit)
        value = ew.select_p.bind(idx, value, target)
        if dtype_of(value) != dtype_of(target):
            value = sp.convert_element_type_p.bind(value, dtype=dtype_of(target))
        idx = None
    if type(info) is View:
        root = info.base
        new = _write_through(root, info.steps, idx, value, mode)
    else:
        root = target
        new = update(target, Ellipsis if idx is None else idx, value, mode)
    _repoint(root, new)
    return target


def assign(target, value):
    """``target[...] = value`` for the result of an in-place operator (``x += v``):
    ``value`` is cast to ``target``'s dtype where NumPy's ``same_kind`` rule allows it."""
    td, vd = dtype_of(target), dtype_of(value)
    if td != vd:
        if not np.can_cast(vd, td, "same_kind"):
            # NumPy's own error (numpy._core._exceptions._UFuncOutputCastingError)
            np.add(np.zeros(1, td), np.zeros(1, vd), out=np.zeros(1, td))
        value = sp.convert_element_type_p.bind(value, dtype=td)
    if shape_of(value) != shape_of(target):
        np.broadcast_shapes(shape_of(value), shape_of(target))
        if np.broadcast_shapes(shape_of(value), shape_of(target)) != shape_of(target):
            raise ValueError(f"non-broadcastable output operand with shape "
                             f"{shape_of(target)} doesn't match the broadcast shape "
                             f"{np.broadcast_shapes(shape_of(value), shape_of(target))}")
    if not isinstance(target, Tracer):
        return write(target, None, value, "set")
    info = _alias(target)
    if info is None and shape_of(value) == shape_of(target) and \
            isinstance(value, Tracer) and value._trace is target._trace and \
            type(value) is type(target):
        # a base without views: no scatter needed (its memory layout is kept)
        target._assign(keep_layout(target, value))
        return target
    return write(target, None, value, "set")


def _repoint(root, new):
    if type(new) is not type(root) or new._trace is not root._trace:
        raise TypeError("x[i] = v cannot update a traced array with a value from an "
                        "inner transformation; write x = x.at[i].set(v) instead")
    root._assign(keep_layout(root, new))
    info = _alias(root)
    if info is None:
        return
    live = []
    for ref in info.views:
        v = ref()
        if v is None:
            continue
        if v._alias.writeable is None:
            raise NotImplementedError(_AMBIGUOUS)
        live.append(ref)
        val = root
        for s in v._alias.steps:
            val = _inner(s, val)
        v._assign(val)
    info.views[:] = live


def _dense_order(v):
    """The axes of ``v`` from the largest stride to the smallest when ``v`` is dense
    in that order (a C-contiguous array of the permuted axes: every array NumPy
    allocates is), else None. Axes of length 1 go last (any stride fits them)."""
    if v.flags.c_contiguous:
        return tuple(range(v.ndim))
    order = tuple(sorted(range(v.ndim), key=lambda a: (-abs(v.strides[a]) if
                                                       v.shape[a] > 1 else 0, a)))
    return order if np.transpose(v, order).flags.c_contiguous else None


def keep_layout(old, new):
    """``new`` (the value an in-place write gives the array ``old``) laid out in memory
    as ``old`` is: in NumPy a write never moves an array's elements, and whether a
    later ``reshape``/``ravel`` of it is a view is decided on that layout
    (:func:`numpy_makes_view`). The layout is read from the concrete values (one
    example under vmap); an array whose layout is not that of a NumPy allocation is
    left as it is."""
    if not isinstance(new, Tracer) or len(shape_of(old)) < 2 or \
            shape_of(new) != shape_of(old):
        return new
    a = _layouts(old)[0]
    if type(a) is not np.ndarray or a.shape != shape_of(old):
        return new
    return _in_order(new, _dense_order(a))


def _in_order(x, order):
    """``x`` dense in memory with its axes in ``order`` (largest stride first): a copy
    where its concrete value (one example under vmap) is not laid out so."""
    if order is None or not isinstance(x, Tracer) or len(shape_of(x)) < 2:
        return x
    v = _layouts(x)[0]
    if type(v) is not np.ndarray or v.shape != shape_of(x) or _dense_order(v) == order:
        return x
    if order == tuple(range(len(order))):
        return sp.copy_p.bind(x, order="C")
    inverse = tuple(int(i) for i in np.argsort(order))
    return sp.transpose(sp.copy_p.bind(sp.transpose(x, order), order="C"), inverse)


def numpy_layout(a):
    """An ndarray laid out in memory as NumPy's own ``a`` would be: a view's layout
    is its steps applied to its base's (under vmap, one example's; the values are
    then not meaningful)."""
    if not isinstance(a, Tracer):
        return np.asarray(a)
    info = _alias(a)
    if type(info) is View:
        v = _layouts(info.base)[0]
        for s in info.steps:
            v = _numpy(s, v)
        return v
    return _layouts(a)[0]


def fresh_layout(out, order="C", like=None):
    """The new array ``out`` of a NumPy function laid out in memory as NumPy
    allocates it (a later ``reshape``/``ravel`` is a view or a copy by that layout):
    ``order`` "C" or "F"; "K" for the order of the strides of ``like`` (as
    ``np.empty_like``: ``np.sort``, the FFTs); "A" for F where ``like`` is
    F-contiguous and not C (``np.pad``, ``np.insert``); "lapack" for F-ordered
    matrices in a C-ordered batch (SciPy's LAPACK results); "real" for the real part
    of a complex C-ordered array (SciPy's ``funm``); a tuple ``(order, like)``
    names its own ``like``; None leaves ``out`` as it is. chainrule's implementation
    may have made it otherwise (a gather along another axis, a transposed product)."""
    if order is None or not isinstance(out, (Tracer, np.ndarray)):
        return out
    nd = len(shape_of(out))
    if nd < 2:
        return out
    if type(order) is tuple:
        order, like = order
    if order == "A":
        order = numpy_order_of(like)
    if order == "real":
        if dtype_of(out).kind != "f":
            return fresh_layout(out, "C")
        v = _layouts(out)[0]
        if type(v) is np.ndarray and v.strides[-1] == 2 * v.itemsize:
            return out
        z = sp.complex_p.bind(fresh_layout(out, "C"), np.zeros(shape_of(out), dtype_of(out)))
        return sp.real_p.bind(z)
    if order == "K":
        v = numpy_layout(like)
        if type(v) is not np.ndarray or v.ndim != nd:
            return out
        want = tuple(sorted(range(nd), key=lambda a: (-abs(v.strides[a]) if
                                                     v.shape[a] > 1 else 0, a)))
    elif order == "F":
        want = tuple(range(nd))[::-1]
    elif order == "lapack":
        want = tuple(range(nd - 2)) + (nd - 1, nd - 2)
    elif order == "C":
        want = tuple(range(nd))
    else:
        raise ValueError(f"unknown layout {order!r}")
    if type(out) is np.ndarray:                  # a result without derivative (lu's P)
        if _dense_order(out) == want:
            return out
        return np.ascontiguousarray(out.transpose(want)).transpose(np.argsort(want))
    v = _layouts(out)[0]
    if type(v) is np.ndarray and v.shape == shape_of(out) and \
            (v.flags.c_contiguous if order == "C" else
             v.flags.f_contiguous if order == "F" else False):
        return out
    return _in_order(out, want)


def small_like(v):
    """An ndarray laid out as ``v`` (the order and the signs of its strides) with each
    axis of length at most 2: NumPy's functions whose layout depends only on their
    arguments' layouts (einsum's, a ufunc's order "K") are asked on these."""
    v = np.asarray(v)
    order = sorted(range(v.ndim), key=lambda a: (-abs(v.strides[a]), a))
    p = np.zeros([min(v.shape[a], 2) for a in order], v.dtype)
    p = p.transpose(np.argsort(order))
    return p[tuple(slice(None, None, -1) if s < 0 else slice(None) for s in v.strides)]


def numpy_allocation(out, layout, args, kwargs):
    """The result ``out`` of a user's call of a NumPy function laid out as NumPy's
    (``numpy_function(..., layout=...)``): ``layout`` is an order of
    :func:`fresh_layout` (its ``like`` the first argument), a tuple of them (one per
    output of a function that returns several), or a function of the call's
    arguments that returns one of those."""
    if callable(layout):
        layout = layout(*args, **kwargs)
    like = args[0] if args else next(iter(kwargs.values()), None)
    if isinstance(out, (tuple, list)):
        orders = layout if type(layout) is list else [layout] * len(out)
        new = [fresh_layout(o, k, like) for o, k in zip(out, orders)]
        if isinstance(out, list):
            return new
        return type(out)(*new) if hasattr(out, "_fields") else tuple(new)
    if type(layout) is list:
        layout = layout[0]
    return fresh_layout(out, layout, like)


def numpy_order_of(a):
    """"F" where NumPy's functions that allocate in the order of their argument
    (``pad``, ``insert``: ``'F' if arr.flags.fnc else 'C'``) allocate in F order."""
    v = numpy_layout(a)
    return "F" if type(v) is np.ndarray and v.flags.f_contiguous and \
        not v.flags.c_contiguous else "C"


def update(x, idx, value, mode):
    """``x.at[idx].<mode>(value)``: a new array (validated like NumPy)."""
    spec, arrays = split_index(idx, shape_of(x))
    concrete = _probe(arrays)
    if concrete is not None:
        # validate like NumPy (IndexError for out-of-bounds, broadcasting errors)
        probe = np.empty(shape_of(x), dtype=np.bool_)[join_index(spec, concrete)]
        np.broadcast_to(np.empty(shape_of(value), np.bool_), probe.shape)
    return scatter_p.bind(x, value, *arrays, spec=spec, mode=mode)



def _probe(arrays):
    """Concrete index arrays, or None when some are batched (vmap): not checkable."""
    out = []
    for a in arrays:
        if isinstance(a, Tracer):
            try:
                a = a._concrete()
            except TypeError:
                return None
        out.append(a)
    return out


def _write_through(base, steps, idx, value, mode):
    """The new value of ``base`` after writing ``value`` at ``idx`` of the view that
    ``steps`` derive from it."""
    k = 0
    while k < len(steps) and steps[k].kind == "pos":
        k += 1
    if k == len(steps):                          # all steps select elements
        pos = _numpy(_positions, shape_of(base), steps)
        sub = pos if idx is None else pos[_concrete_index(idx, pos.shape)]
        flat = sp.reshape(base, (-1,))
        if shape_of(value) != shape_of(sub):
            np.broadcast_shapes(shape_of(value), shape_of(sub))    # NumPy's error
            value = sp.broadcast_to(value, shape_of(sub))
        new = update(flat, sub.reshape(-1), sp.reshape(value, (-1,))
                      if shape_of(value) else value, mode)
        return sp.reshape(new, shape_of(base))
    if k == 0:                                   # a complex part
        part = _inner(steps[0], base)
        new_part = _write_through(part, steps[1:], idx, value, mode) if len(steps) > 1 \
            else update(part, Ellipsis if idx is None else idx, value, mode)
        re, im = ew.real_p.bind(base), ew.imag_p.bind(base)
        if steps[0].kind == "real":
            re = new_part
        else:
            im = new_part
        return sp.complex_p.bind(re, im)
    mid = _inner(_derive, base, steps[:k])
    new_mid = _write_through(mid, steps[k:], idx, value, mode)
    return _write_through(base, steps[:k], None, new_mid, "set")


_AMBIGUOUS = (
    "vmap: this array was made by reshape or ravel under vmap, where NumPy returns a view "
    "or a copy depending on the memory layout of each example, which a batch does not "
    "reproduce. Writing to it or to the array it came from could give a wrong value, so "
    "chainrule refuses: write .copy() after the reshape (a copy), or reshape after the "
    "write.")


def _traced_index(idx):
    return any(isinstance(i, Tracer) for i in (idx if isinstance(idx, tuple) else (idx,)))


def _is_mask(idx, target):
    return (isinstance(idx, (np.ndarray, Tracer)) and dtype_of(idx) == np.bool_ and
            shape_of(idx) == shape_of(target))


def _concrete_index(idx, shape=None):
    """``idx`` with traced index arrays replaced by their values (positions are
    concrete: a data-dependent write needs its indices' values); with the indexed
    ``shape``, boolean masks are checked against it (NumPy's IndexError)."""
    spec, arrays = split_index(idx, shape)
    return join_index(spec, [a._concrete() if isinstance(a, Tracer) else a
                             for a in arrays])


def _derive(v, steps):
    for s in steps:
        v = s(v)
    return v


def _positions(shape, steps):
    """Where each element of the view lies in its base (flat C-order positions)."""
    return _derive(np.arange(int(np.prod(shape, dtype=np.int64))).reshape(shape), steps)


# ------------------------------------------------------------------ out= arguments

def write_out(out, result):
    """Write ``result`` into ``out=`` (an ndarray, a tracer, or a 1-tuple of one)."""
    if isinstance(out, tuple):
        if len(out) != 1:
            raise NotImplementedError("out= with several arrays is not supported on "
                                      "traced values")
        out = out[0]
    if isinstance(out, Tracer):
        return assign(out, result)
    if isinstance(result, Tracer):
        raise TracerConversionError(
            "a traced result was written into a NumPy array with out=: that would drop "
            "its derivative. Make the output array traced (out = x * 0.0) or use the "
            "returned value instead of out=")
    np.copyto(out, result, casting="same_kind")
    return out
