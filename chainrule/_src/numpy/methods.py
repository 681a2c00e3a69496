"""Operators, ndarray methods and the NumPy protocols, installed on Tracer.

* Operators and methods call the chainrule.numpy functions.
* ``__array_ufunc__`` / ``__array_function__`` route plain ``np.sin(x)`` calls on
  traced values to chainrule, or raise an error naming the missing function.
* Converting a traced value to a NumPy array or a Python float raises an error that
  says what to write instead: it would silently drop the derivative.
* ``x[i] = v`` and ``x += v`` on traced arrays update the tracer in place (NumPy
  semantics: other names bound to the same array see the update).
* ``x.at[i].set(v)`` / ``.add(v)`` / ``.multiply(v)`` are JAX's functional updates.
"""
import sys

import numpy as np

from .. import backend
from ..core import Tracer, _state, check_not_leaked, TracerConversionError, shape_of, value_of
from ..prims import elementwise as ew
from ..prims.indexing import getitem_p, split_index, ARRAY
from ..prims.products import matmul_p
from ..prims.shape import reshape as sp_reshape
from .dispatch import (HANDLED_FUNCTIONS, HANDLED_UFUNCS, PUBLIC, traced_only, numpy_function,
                       dask_differs, WRITES_IN_PLACE)
from . import basic, aliasing, products, reductions
from .aliasing import update
from .ufuncs import UFUNCS


def _ufunc_op(name, reflected=False):
    """An operator that hands its primitive straight to the current trace (the hot
    path of scalar code such as a Taylor series: no wrapper calls in between)."""
    prim = ew.PRIMS[name]
    repeats = name == "multiply"
    if reflected:
        def op(self, other):
            trace = _state.trace
            if trace is None:
                check_not_leaked(self)
            if type(other) in _SEQUENCES:
                if repeats and _immutable(self):
                    return NotImplemented       # [0.0] * n: Python's repetition
                other = basic.asarray_like(other)
            return trace.process(prim, (other, self), _NO_PARAMS)
    else:
        def op(self, other):
            trace = _state.trace
            if trace is None:
                check_not_leaked(self)
            if type(other) in _SEQUENCES:
                if repeats and _immutable(self):
                    return NotImplemented
                other = basic.asarray_like(other)
            return trace.process(prim, (self, other), _NO_PARAMS)
    op.__name__ = name
    return op


_NO_PARAMS = {}
# array_like operands (x + [1.0, y]) become arrays; but a list times a NumPy scalar (an
# element or a reduction's result: [0.0] * n) repeats the list, as NumPy's scalars let
# Python do (their index value; a float scalar raises TypeError there, as NumPy's)
_SEQUENCES = (list, tuple)


_BINOPS = {
    "add": "add", "sub": "subtract", "mul": "multiply", "truediv": "divide",
    "floordiv": "floor_divide", "mod": "remainder", "pow": "power",
    "and": "bitwise_and", "or": "bitwise_or", "xor": "bitwise_xor",
    "lshift": "left_shift", "rshift": "right_shift",
}
for _op, _name in _BINOPS.items():
    setattr(Tracer, f"__{_op}__", _ufunc_op(_name))
    setattr(Tracer, f"__r{_op}__", _ufunc_op(_name, reflected=True))

    def _inplace(self, other, _fn=UFUNCS[_name], _repeats=_name == "multiply"):
        if _immutable(self):                # a number: ``x += v`` rebinds x
            if _repeats and type(other) in _SEQUENCES:
                # s *= [0.0]: a repetition, as for NumPy's scalars (a Tracer is a
                # sequence to Python, so NotImplemented would not get there)
                return other * _to_index(self)
            return _fn(self, other)
        return aliasing.assign(self, _fn(self, other))
    setattr(Tracer, f"__i{_op}__", _inplace)


def _immutable(x):
    """Whether ``x`` stands for a Python number or a NumPy scalar (what NumPy's
    reductions return), which ``+=`` rebinds instead of writing into: another name for
    the old value keeps it. The value a forward, reverse or staging tracer holds says;
    a 0-d example under vmap is taken to be a scalar (a reduction's result) unless it is
    a view, or has views (``b[0, ...]``: a 0-d array, written in place)."""
    if shape_of(x) or aliasing._alias(x) is not None:
        return False
    v = value_of(x)
    return type(v) is not np.ndarray and (isinstance(v, Tracer) or not backend.is_foreign(v))

for _op, _name in {"eq": "equal", "ne": "not_equal", "lt": "less", "le": "less_equal",
                   "gt": "greater", "ge": "greater_equal"}.items():
    setattr(Tracer, f"__{_op}__", _ufunc_op(_name))
Tracer.__hash__ = None

Tracer.__neg__ = lambda self: UFUNCS["negative"](self)
def _pos(self):
    """``+x``: np.positive, a new array (NumPy has no loop for bool)."""
    if self.dtype.kind == "b":
        raise TypeError("ufunc 'positive' did not contain a loop with signature matching "
                        "types <class 'numpy.dtypes.BoolDType'> -> None")
    return aliasing.copy_of(self)


Tracer.__pos__ = _pos
Tracer.__abs__ = lambda self: UFUNCS["absolute"](self)
Tracer.__invert__ = lambda self: UFUNCS["invert"](self)
def _matmul_op(reflected):
    """``@``: two matrices go straight to the trace (the operator is a layer's hot path:
    no wrapper or bind in between); anything else through chainrule.numpy.matmul."""
    def op(self, other):
        a, b = (other, self) if reflected else (self, other)
        trace = _state.trace
        # (products.two_matrices, written out: self is a Tracer)
        if trace is not None and (type(other) is _ndarray or isinstance(other, Tracer)):
            s1, s2 = a.shape, b.shape
            if len(s1) == 2 and len(s2) == 2 and s1[1] == s2[0]:
                return trace.process(matmul_p, (a, b), _NO_PARAMS)
        return products.matmul(a, b)
    return op


_ndarray = np.ndarray


Tracer.__matmul__ = _matmul_op(False)
Tracer.__rmatmul__ = _matmul_op(True)
def _imatmul(self, other):
    """``x @= A``: NumPy's in-place matmul (A at least a matrix, x keeps its shape)."""
    if not shape_of(self) or len(np.shape(other) if not isinstance(other, Tracer)
                                 else shape_of(other)) < 2:
        raise ValueError("inplace matrix multiplication requires the first operand to "
                         "have at least one and the second at least two dimensions.")
    return aliasing.assign(self, products.matmul(self, other))


Tracer.__imatmul__ = _imatmul
Tracer.__divmod__ = lambda self, other: (self // other, self % other)
Tracer.__rdivmod__ = lambda self, other: (other // self, other % self)


# ------------------------------------------------------------------ conversions

_CONVERT_MSG = (
    "a traced value (the argument of a function being differentiated, batched or "
    "staged, or something computed from it) was converted to a {what}. That would "
    "silently drop its derivative, so chainrule refuses. Instead: keep it as an "
    "array and use chainrule.numpy functions; index a NumPy array A with a traced index i "
    "as cnp.take(A, i, axis=0) (A[i] is NumPy's own indexing, which cannot see i); "
    "build arrays with cnp.stack([...]) or "
    "cnp.array([...]) instead of writing into a NumPy buffer (buf[i] = x); update "
    "traced arrays with x = x.at[i].set(v) or x[i] = v (a NumPy buffer: buf = "
    "cnp.at(buf)[i].set(v)); and wrap a value whose "
    "derivative you really mean to drop in chainrule.stop_gradient(x).")


_AS_STRIDED = np.lib.stride_tricks.as_strided.__code__


def _to_array(self, dtype=None, copy=None):
    if _state.trace is None:
        check_not_leaked(self)
    if self.dtype.kind in "biu":
        # an integer or bool value (an index from argmax/digitize/argsort, a mask) has
        # no derivative to drop: NumPy reads its value, as int() does (under jit a guard,
        # under vmap a ConcretizationError): A[np.digitize(x, edges)] with A a NumPy
        # array works under jit as it does eagerly
        v = np.asarray(self._concrete())
        return v if dtype is None else v.astype(dtype, copy=False)
    if sys._getframe(1).f_code is _AS_STRIDED:          # (an error path: no cost)
        raise NotImplementedError(
            "numpy.lib.stride_tricks.as_strided is not supported on traced values "
            "(arbitrary strides into a traced array's memory have no derivative rule). "
            "For moving windows use numpy.lib.stride_tricks.sliding_window_view, which "
            "chainrule differentiates (a read-only view, as NumPy's).")
    raise TracerConversionError(_foreign_caller() + _CONVERT_MSG.format(
        what="NumPy array (np.asarray, np.array or assignment into an ndarray)"))


def _foreign_caller():
    """Name the SciPy function that converted a traced value (SciPy's non-ufunc
    functions call np.asarray, which no dispatch protocol reaches) and its chainrule
    counterpart; '' when the conversion did not happen inside SciPy."""
    frame, outer = sys._getframe(2), None
    while frame is not None:
        mod = frame.f_globals.get("__name__", "")
        if mod == "scipy" or mod.startswith("scipy."):
            outer = frame
        elif outer is not None:
            break
        frame = frame.f_back
    if outer is None:
        return ""
    parts = outer.f_globals["__name__"].split(".")
    public = parts[:2] if len(parts) > 1 and not parts[1].startswith("_") else parts[:1]
    name = ".".join(public + [outer.f_code.co_name])
    from ..scipy import api  # noqa: F401  (an error path: registers chainrule.scipy)
    if outer.f_code.co_name in PUBLIC.get(".".join(public), {}):
        return (f"{name} was called on a traced value: SciPy converts it with "
                f"np.asarray, which chainrule cannot intercept. Call chainrule.{name} "
                "instead (same signature). ")
    return (f"{name} was called on a traced value: SciPy converts it with np.asarray, "
            f"and chainrule has no differentiable {name}. ")


def _to_float(self):
    if _state.trace is None:
        check_not_leaked(self)
    raise TracerConversionError(_CONVERT_MSG.format(
        what="Python number (float(), int(), .item())"))


def _to_bool(self):
    """Python control flow on a traced value: allowed when the value is concrete."""
    if _state.trace is None:
        check_not_leaked(self)
    return bool(self._concrete())


def _to_index(self):
    if _state.trace is None:
        check_not_leaked(self)
    if self.dtype.kind not in "iu":          # (NumPy 2: not bools either)
        raise TypeError("only integer traced values can be used as an index")
    return int(self._concrete())


def _no_derivative(convert):
    """``int(i)``, ``float(i)``, ``i.item()``... of an integer or bool value (an
    ``argmax``, a count): a Python number that drops no derivative (an integer has
    none), so Python control flow reads the concrete value, as ``x[i]`` does (under jit
    a guard, under vmap a ConcretizationError). Of a floating value they still refuse."""
    def conv(self, *args):
        if _state.trace is None:
            check_not_leaked(self)
        if self.dtype.kind not in "biu":
            return _to_float(self)
        v = self._concrete()
        return getattr(v, convert)(*args) if isinstance(convert, str) else convert(v)
    return conv


Tracer.__array__ = _to_array
Tracer.__float__ = _no_derivative(float)
Tracer.__complex__ = _no_derivative(complex)
Tracer.__int__ = _no_derivative(int)
Tracer.item = _no_derivative("item")
Tracer.tolist = _no_derivative("tolist")
Tracer.__bool__ = _to_bool
Tracer.__index__ = _to_index


def _iter(self):
    if _state.trace is None:
        check_not_leaked(self)
    if not self.shape:
        raise TypeError("iteration over a 0-d traced array")
    return (self[i] for i in range(self.shape[0]))


Tracer.__iter__ = _iter


def _contains(self, value):
    """``v in x``: NumPy's ``(x == v).any()`` (a Python bool: Python control)."""
    if _state.trace is None:
        check_not_leaked(self)
    if not shape_of(self) and _immutable(self):     # a NumPy scalar is no container
        raise TypeError(f"argument of type 'numpy.{self.dtype.type.__name__}' is not "
                        "iterable")
    return bool(_namespace()["any"](self == value))


Tracer.__contains__ = _contains
# copy.copy / copy.deepcopy of an array: a new array (ndarray.__copy__), not a second
# Python object for the same traced array or view (a write to it would reach the base)
Tracer.__copy__ = lambda self: aliasing.copy_of(self)
Tracer.__deepcopy__ = lambda self, memo: aliasing.copy_of(self)


# ------------------------------------------------------------------ NumPy protocols

_np_matmul = np.matmul
_UFUNC_METHODS = {("add", "reduce"): "sum", ("multiply", "reduce"): "prod",
                  ("maximum", "reduce"): "max", ("minimum", "reduce"): "min",
                  ("add", "accumulate"): "cumsum", ("multiply", "accumulate"): "cumprod"}


def _array_ufunc(self, ufunc, method, *inputs, **kwargs):
    trace = _state.trace
    if trace is None:
        check_not_leaked(self)
    if method == "__call__":
        if ufunc is _np_matmul and trace is not None and not kwargs and len(inputs) == 2:
            # ``x @ W`` with an array x (a first layer): what chainrule.numpy.matmul does
            # with two matrices, without its wrappers
            a, b = inputs
            if (type(a) is _ndarray or isinstance(a, Tracer)) and \
                    (type(b) is _ndarray or isinstance(b, Tracer)):
                s1, s2 = a.shape, b.shape
                if len(s1) == 2 and len(s2) == 2 and s1[1] == s2[0]:
                    return trace.process(matmul_p, inputs, _NO_PARAMS)
        fn = HANDLED_UFUNCS.get(ufunc)
        if fn is None:       # SciPy's ufuncs (loads the scipy layer), or an error naming it
            from ..scipy.api import traced_ufunc
            fn = traced_ufunc(ufunc)
        return fn(*inputs, **kwargs)
    if method == "at":
        return _ufunc_at(ufunc, *inputs)
    if method == "outer":
        return _ufunc_outer(ufunc, inputs, kwargs)
    name = _UFUNC_METHODS.get((ufunc.__name__, method))
    if name is not None and name in _namespace():
        a, kw = _method_args(ufunc, method, name, inputs, kwargs)
        return _namespace()[name](a, **kw)
    fn = reductions.UFUNC_METHODS.get((ufunc.__name__, method))
    if fn is not None:
        return fn(*inputs, **kwargs)
    raise NotImplementedError(f"numpy.{ufunc.__name__}.{method} is not supported on "
                              "traced values")


# the ufunc methods' parameters after the array, in order (their axis defaults to 0,
# where chainrule.numpy's sum/cumsum/max reduce every axis by default)
_METHOD_PARAMS = {"reduce": ("axis", "dtype", "out", "keepdims", "initial", "where"),
                  "accumulate": ("axis", "dtype", "out")}


def _method_args(ufunc, method, name, inputs, kwargs):
    """``(array, keywords)`` of ``numpy.<ufunc>.<method>(*inputs, **kwargs)`` for the
    chainrule.numpy function ``name``: positions named, axis 0 by default."""
    (a, *rest), params = inputs, _METHOD_PARAMS[method]
    if len(rest) > len(params):
        raise TypeError(f"{ufunc.__name__}.{method}() takes at most {len(params) + 1} "
                        f"positional arguments ({len(rest) + 1} given)")
    kw = dict(zip(params, rest))
    for k, v in kwargs.items():
        if k in kw:
            raise TypeError(f"{ufunc.__name__}.{method}() got multiple values for "
                            f"argument '{k}'")
        kw[k] = v
    if not shape_of(a):                     # (NumPy's handling of a 0-d array)
        if method == "accumulate":
            raise TypeError("cannot accumulate on a scalar")
        kw.setdefault("axis", None)
    kw.setdefault("axis", 0)
    if method == "accumulate" and (kw["axis"] is None or type(kw["axis"]) is tuple):
        raise ValueError("accumulate does not allow multiple axes")
    if name in ("max", "min") and kw.pop("dtype", None) is not None:
        raise NotImplementedError(f"numpy.{ufunc.__name__}.{method} with dtype= is not "
                                  "supported on traced values")
    return a, kw


def _ufunc_outer(ufunc, inputs, kwargs):
    """``ufunc.outer(a, b)``: ``ufunc(a[..., None, ...], b)`` (a's axes, then b's)."""
    fn = HANDLED_UFUNCS.get(ufunc)
    if fn is None or len(inputs) != 2 or kwargs:
        raise NotImplementedError(f"numpy.{ufunc.__name__}.outer"
                                  f"{' with keyword arguments' if kwargs else ''} is not "
                                  "supported on traced values")
    a, b = (basic.asarray_like(v) for v in inputs)
    nb = len(shape_of(b))
    return fn(basic.reshape(a, tuple(shape_of(a)) + (1,) * nb) if nb else a, b)


def _array_function(self, func, types, args, kwargs):
    if _state.trace is None:
        check_not_leaked(self)
    fn = HANDLED_FUNCTIONS.get(func)
    if fn is None:
        mod = getattr(func, "__module__", "numpy") or "numpy"
        raise NotImplementedError(
            f"{mod}.{func.__name__} has no differentiable version in chainrule "
            "(it was called on a traced value). Use a chainrule.numpy function, or "
            "write it with custom_vjp/custom_jvp.")
    return fn(*args, **kwargs)


_AT_MODES = {"add": "add", "multiply": "multiply", "subtract": "add", "divide": "multiply"}


def _ufunc_at(ufunc, a, indices, b=None):
    """``np.add.at(a, idx, b)`` (and multiply, subtract, divide): unbuffered in-place
    updates of a traced ``a``, repeated indices accumulating. Every other ufunc
    chainrule has (``np.maximum.at``, ``np.minimum.at``, ``np.power.at``, unary ones
    such as ``np.negative.at(a, idx)``) is applied in NumPy's order: in rounds, the
    k-th occurrence of every position in round k (indices must be concrete)."""
    name = ufunc.__name__
    if ufunc.nout != 1 or (b is None) != (ufunc.nin == 1) or ufunc.nin > 2:
        raise TypeError(f"{name}.at takes {ufunc.nin} operand(s)" if ufunc.nout == 1
                        else f"{name}.at is not supported for ufuncs with more than one "
                        "output")
    mode = _AT_MODES.get(name)
    if mode is not None:
        if name == "subtract":
            b = -b
        elif name == "divide":
            b = 1.0 / b
        aliasing.write(a, indices, b, mode)
        return
    fn = HANDLED_UFUNCS.get(ufunc)
    if fn is None:
        raise NotImplementedError(f"numpy.{name}.at is not supported on traced values: "
                                  f"numpy.{name} has no differentiable version")
    _rounds_at(fn, a, indices, b)


def _rounds_at(fn, a, indices, b):
    """``a.flat[p] = fn(a.flat[p], b)`` for the flat positions ``p`` that ``indices``
    selects, in order: a round per occurrence (positions within a round distinct)."""
    if not isinstance(a, Tracer):
        aliasing.write(a, indices, b, "set")         # (its error for a plain target)
    idx = basic.concrete(indices)
    pos = np.arange(a.size).reshape(a.shape)[idx]
    flat_pos = np.asarray(pos).reshape(-1)
    if b is not None:
        b = basic.asarray_like(b)
        np.broadcast_shapes(np.shape(pos), b.shape)       # NumPy's error
        b = sp_reshape(_namespace()["broadcast_to"](b, np.shape(pos)), (-1,)) \
            if isinstance(b, Tracer) else np.broadcast_to(b, np.shape(pos)).reshape(-1)
    if flat_pos.size == 0:
        return
    # occurrence number of each entry among the entries at the same position
    order = np.argsort(flat_pos, kind="stable")
    sorted_pos = flat_pos[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_pos)) + 1]
    rank_sorted = np.arange(flat_pos.size) - np.repeat(starts, np.diff(np.r_[starts,
                                                                           flat_pos.size]))
    rank = np.empty_like(rank_sorted)
    rank[order] = rank_sorted
    cur = sp_reshape(a, (-1,))
    for k in range(int(rank.max()) + 1):
        sel = np.flatnonzero(rank == k)
        p = flat_pos[sel]
        old = getitem_p.bind(cur, p, spec=(ARRAY,))
        new = fn(old) if b is None else fn(old, b[sel])
        if new.dtype != a.dtype:
            new = basic.astype(new, a.dtype)
        cur = update(cur, p, new, "set")
    aliasing.write(a, None, sp_reshape(cur, a.shape), "set")


Tracer.__array_ufunc__ = _array_ufunc
Tracer.__array_function__ = _array_function


def _namespace():
    return PUBLIC["numpy"]


# ------------------------------------------------------------------ indexing

def _getitem(self, idx):
    if _state.trace is None:
        check_not_leaked(self)
    spec, arrays = split_index(idx, shape_of(self))
    return aliasing.getitem_view(self, spec, getitem_p.bind(self, *arrays, spec=spec))


def _setitem(self, idx, value):
    if _state.trace is None:
        check_not_leaked(self)
    # (x[None] = v: the index None, a new axis; aliasing.write's None is "everything")
    aliasing.write(self, (None,) if idx is None else idx, value, "set")


Tracer.__getitem__ = _getitem
Tracer.__setitem__ = _setitem


class _IndexUpdateHelper:
    """``x.at[idx]``: functional updates that return a new array."""
    __slots__ = ("x",)

    def __init__(self, x):
        self.x = x

    def __getitem__(self, idx):
        return _IndexUpdateRef(self.x, idx)


class _IndexUpdateRef:
    __slots__ = ("x", "idx")

    def __init__(self, x, idx):
        self.x, self.idx = x, idx

    def get(self):
        return self.x[self.idx]

    def set(self, v):
        return update(self.x, self.idx, v, "set")

    # (on a plain ndarray x with plain values these run NumPy directly: _update binds
    # the scatter primitive, which evaluates when no transformation is active)

    def add(self, v):
        return update(self.x, self.idx, v, "add")

    def multiply(self, v):
        return update(self.x, self.idx, v, "multiply")

    def subtract(self, v):
        return update(self.x, self.idx, -v, "add")

    def divide(self, v):
        return update(self.x, self.idx, 1.0 / v, "multiply")


Tracer.at = property(lambda self: _IndexUpdateHelper(self))


@traced_only("numpy")
def at(x):
    """Functional index updates for any array: ``cnp.at(x)[i].set(v)``.

    Traced arrays have JAX's ``x.at[i]``; plain NumPy arrays cannot (ndarray has no such
    attribute), so code that starts from ``cnp.zeros(n)`` and fills in traced values
    writes ``buf = cnp.at(buf)[i].set(v)``. Returns a new array; ``x`` is unchanged.
    ``.set``, ``.add``, ``.multiply``, ``.subtract``, ``.divide`` and ``.get``.
    """
    return _IndexUpdateHelper(x if isinstance(x, Tracer) else np.asarray(x))


# ------------------------------------------------------------------ ndarray methods

def _method(name):
    def m(self, *args, **kwargs):
        return _namespace()[name](self, *args, **kwargs)
    m.__name__ = name
    return m


for _name in ["sum", "mean", "prod", "max", "min", "argmax", "argmin", "clip", "cumsum",
              "cumprod", "var", "std", "any", "all", "trace", "diagonal", "swapaxes",
              "repeat", "take", "dot", "ravel", "squeeze", "nonzero", "argsort",
              "ptp", "round", "conj", "conjugate"]:
    setattr(Tracer, _name, _method(_name))

# the reductions straight to their functions (basic.py's fast path, no call between)
for _name in ("sum", "mean", "max", "min"):
    setattr(Tracer, _name, getattr(basic, _name))


def _reshape(self, *shape, order="C"):
    if len(shape) == 1 and not isinstance(shape[0], (int, np.integer)):
        shape = shape[0]
    return basic.reshape(self, shape, order=order)


def _transpose(self, *axes):
    if len(axes) == 1 and not isinstance(axes[0], (int, np.integer)):
        axes = axes[0]
    return basic.transpose(self, axes or None)


Tracer.reshape = _reshape
Tracer.transpose = _transpose
Tracer.flatten = lambda self, order="C": aliasing.copy_of(
    aliasing._inner(basic.ravel, self, order))
Tracer.copy = lambda self, order="C": aliasing.copy_of(self, order)
Tracer.T = property(lambda self: basic.transpose(self))
Tracer.mT = property(lambda self: basic.swapaxes(self, -1, -2))
def _set_real(self, value):
    """``z.real = v``: writes the real part (all of a real array), in place."""
    aliasing.write(_namespace()["real"](self), None, value, "set")


def _set_imag(self, value):
    """``z.imag = v``: writes the imaginary part of a complex array, in place."""
    if self.dtype.kind != "c":
        raise TypeError("array does not have imaginary part to set")
    aliasing.write(_namespace()["imag"](self), None, value, "set")


Tracer.real = property(lambda self: _namespace()["real"](self), _set_real)
Tracer.imag = property(lambda self: _namespace()["imag"](self), _set_imag)
Tracer.itemsize = property(lambda self: self.dtype.itemsize)
Tracer.nbytes = property(lambda self: self.size * self.dtype.itemsize)


def _astype(self, dtype, order="K", casting="unsafe", subok=True, copy=True):
    """``x.astype(dtype)``: a new array unless ``copy=False`` and the dtype is the same."""
    if not np.can_cast(self.dtype, dtype, casting):
        raise TypeError(f"Cannot cast array data from {self.dtype!r} to "
                        f"{np.dtype(dtype)!r} according to the rule {casting!r}")
    out = basic.astype(self, dtype)
    if out is self and copy:
        return aliasing.copy_of(self, order)
    return out


def _view(self, dtype=None, type=None):
    """``x.view()``: a new array object sharing ``x``'s data."""
    if (dtype is not None and np.dtype(dtype) != self.dtype) or type is not None:
        raise NotImplementedError("x.view(dtype) reinterprets memory: not supported on "
                                  "traced values (use x.astype(dtype))")
    return aliasing.make_view(self, aliasing.copy_of(self), aliasing.Step(_same))


def _same(v):
    return aliasing.copy_of(v) if isinstance(v, Tracer) else v.view()


Tracer.astype = _astype
Tracer.view = _view


# ------------------------------------------------------------------ in-place methods

def _fill(self, value):
    """``x.fill(value)``."""
    aliasing.write(self, None, value, "set")


def _sort(self, axis=-1, kind=None, order=None, *, stable=None):
    """``x.sort()``: sorts in place."""
    aliasing.assign(self, _namespace()["sort"](self, axis=axis, kind=kind, order=order,
                                               stable=stable))


def _partition(self, kth, axis=-1, kind="introselect", order=None):
    """``x.partition(kth)``: partitions in place (NumPy's arrangement)."""
    aliasing.assign(self, _namespace()["partition"](self, kth, axis=axis, kind=kind,
                                                    order=order))


def _put(self, indices, values, mode="raise"):
    """``x.put(indices, values)``: flat positions, values repeated as NumPy does."""
    put(self, indices, values, mode)


@numpy_function(np.put, eager=dask_differs(np.put, WRITES_IN_PLACE))
def put(a, ind, v, mode="raise"):
    """Writes ``v`` at the flat positions ``ind`` of a traced ``a``, in place."""
    n = a.size
    ind = np.asarray(ind).reshape(-1)
    ind = basic.clip_mode(ind, n, mode)
    if mode == "raise":
        if ind.size and (ind.max() >= n or ind.min() < -n):
            raise IndexError(f"index {ind.max() if ind.max() >= n else ind.min()} is out "
                             f"of bounds for axis 0 with size {n}")
        ind = ind % n if n else ind
    _write_flat(a, ind, v)


def _write_flat(a, pos, v):
    """``a.flat[pos] = v`` with ``v`` repeated to ``len(pos)`` as NumPy does."""
    if pos.size == 0:
        return None
    v = basic.asarray_like(v)
    v = sp_reshape(v, (-1,)) if isinstance(v, Tracer) else v.reshape(-1)
    if v.shape[0] != pos.size:
        if v.shape[0] == 0:
            return None
        v = aliasing._inner(_namespace()["resize"], v, (pos.size,))
    new = update(sp_reshape(a, (-1,)), pos, v, "set")
    aliasing.assign(a, sp_reshape(new, a.shape))
    return None


@numpy_function(np.putmask, eager=dask_differs(np.putmask, WRITES_IN_PLACE))
def putmask(a, mask, values):
    """``a.flat[n] = values.flat[n % len(values)]`` where ``mask.flat[n]``, in place: a
    select, so a traced mask's values are never needed (vmap, jit)."""
    size = int(np.prod(a.shape, dtype=np.int64))
    # NumPy pairs mask and data by flat position and wants equal sizes (a broadcast
    # mask was taken silently)
    mask = basic.asarray_like(mask)
    if int(np.prod(mask.shape, dtype=np.int64)) != size:
        raise ValueError("putmask: mask and data must be the same size")
    if mask.shape != a.shape:
        mask = sp_reshape(mask, a.shape) if isinstance(mask, Tracer) else mask.reshape(a.shape)
    v = basic.asarray_like(values)
    v = sp_reshape(v, (-1,)) if isinstance(v, Tracer) else v.reshape(-1)
    if v.shape[0] == 0 or size == 0:
        return None
    if v.shape[0] != size:
        v = aliasing._inner(_namespace()["resize"], v, (size,))
    new = _namespace()["where"](mask, sp_reshape(v, a.shape) if isinstance(v, Tracer)
                                else v.reshape(a.shape), a)
    aliasing.write(a, None, basic.astype(new, a.dtype) if isinstance(new, Tracer) else
                   new, "set")


@numpy_function(np.place, eager=dask_differs(np.place, WRITES_IN_PLACE))
def place(arr, mask, vals):
    """``arr[mask] = vals``, ``vals`` repeated over the selected positions, in place."""
    m = _concrete_mask(mask)
    if m.size != int(np.prod(arr.shape, dtype=np.int64)):     # (as NumPy: no broadcasting)
        raise ValueError("place: mask and data must be the same size")
    pos = np.flatnonzero(m)
    if pos.size and int(np.prod(basic.asarray_like(vals).shape)) == 0:
        raise ValueError("Cannot insert from an empty array!")
    _write_flat(arr, pos, vals)


@numpy_function(np.fill_diagonal, eager=dask_differs(np.fill_diagonal, WRITES_IN_PLACE))
def fill_diagonal(a, val, wrap=False):
    """Writes ``val`` (repeated) on the main diagonal of a traced ``a``, in place."""
    marker = np.zeros(a.shape, np.bool_)
    np.fill_diagonal(marker, True, wrap=wrap)
    _write_flat(a, np.flatnonzero(marker), val)


@numpy_function(np.copyto, eager=dask_differs(np.copyto, WRITES_IN_PLACE))
def copyto(dst, src, casting="same_kind", where=True):
    """``dst[...] = src`` where ``where``: a traced ``dst`` is written in place."""
    src = basic.asarray_like(src)
    src_dtype = src.dtype
    if not np.can_cast(src_dtype, dst.dtype, casting):
        np.copyto(np.empty(0, dst.dtype), np.empty(0, src_dtype), casting=casting)  # its error
    if where is not True:
        src = _namespace()["where"](where, src, dst)
    if isinstance(dst, Tracer):
        if src_dtype != dst.dtype:
            src = basic.astype(src, dst.dtype)
        aliasing.write(dst, None, src, "set")
    else:
        aliasing.write_out(dst, src)


def _concrete_mask(mask):
    return np.asarray(basic.concrete(mask), dtype=np.bool_)


def _not_supported(name, instead):
    def m(self, *args, **kwargs):
        raise NotImplementedError(f"x.{name}() is not supported on traced values: "
                                  f"{instead}")
    m.__name__ = name
    return m


Tracer.fill = _fill
Tracer.sort = _sort
Tracer.put = _put
Tracer.partition = _partition
Tracer.resize = _not_supported("resize", "use cnp.resize(x, shape), which returns a new "
                                         "array")
def _round(self, ndigits=None):
    """Python's ``round`` as on NumPy's values: a 0-d value is a NumPy scalar there, so
    ``round(x)`` is a Python int (half to even; under jit a guard, under vmap an error:
    it is Python control) and ``round(x, n)`` a 0-d value; an array raises TypeError as
    an ndarray does."""
    if shape_of(self) or not _immutable(self):
        raise TypeError("type numpy.ndarray doesn't define __round__ method")
    if self.dtype.kind in "bc":
        raise TypeError(f"type numpy.{self.dtype.type.__name__} doesn't define __round__ "
                        "method")
    if ndigits is None:
        r = _namespace()["round"](self)
        return int(r._concrete() if isinstance(r, Tracer) else r)
    return _namespace()["round"](self, ndigits)


Tracer.__round__ = _round


def _flat(self):
    raise NotImplementedError(
        "x.flat (numpy.flatiter) is not supported on traced arrays: its reads and writes "
        "go through the array's memory one element at a time. Use x.reshape(-1) or "
        "x.ravel() (a view where NumPy's is) for reads, and x.reshape(-1)[i] = v or "
        "np.put(x, i, v) for writes")


Tracer.flat = property(_flat)
