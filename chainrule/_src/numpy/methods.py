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
import numpy as np

from ..core import Tracer, _state, check_not_leaked, TracerConversionError
from ..prims import elementwise as ew
from ..prims.indexing import getitem_p, scatter_p, split_index, join_index
from ..prims.products import matmul_p
from .dispatch import HANDLED_FUNCTIONS, HANDLED_UFUNCS, traced_only
from . import basic
from .ufuncs import UFUNCS


def _ufunc_op(name, reflected=False):
    """An operator that hands its primitive straight to the current trace (the hot
    path of scalar code such as a Taylor series: no wrapper calls in between)."""
    prim = ew.PRIMS[name]
    if reflected:
        def op(self, other):
            trace = _state.trace
            if trace is None:
                check_not_leaked(self)
            return trace.process(prim, (other, self), _NO_PARAMS)
    else:
        def op(self, other):
            trace = _state.trace
            if trace is None:
                check_not_leaked(self)
            return trace.process(prim, (self, other), _NO_PARAMS)
    op.__name__ = name
    return op


_NO_PARAMS = {}


_BINOPS = {
    "add": "add", "sub": "subtract", "mul": "multiply", "truediv": "divide",
    "floordiv": "floor_divide", "mod": "remainder", "pow": "power",
    "and": "bitwise_and", "or": "bitwise_or", "xor": "bitwise_xor",
    "lshift": "left_shift", "rshift": "right_shift",
}
for _op, _name in _BINOPS.items():
    setattr(Tracer, f"__{_op}__", _ufunc_op(_name))
    setattr(Tracer, f"__r{_op}__", _ufunc_op(_name, reflected=True))

    def _inplace(self, other, _fn=UFUNCS[_name]):
        return self._assign(_fn(self, other))
    setattr(Tracer, f"__i{_op}__", _inplace)

for _op, _name in {"eq": "equal", "ne": "not_equal", "lt": "less", "le": "less_equal",
                   "gt": "greater", "ge": "greater_equal"}.items():
    setattr(Tracer, f"__{_op}__", _ufunc_op(_name))
Tracer.__hash__ = None

Tracer.__neg__ = lambda self: UFUNCS["negative"](self)
Tracer.__pos__ = lambda self: self
Tracer.__abs__ = lambda self: UFUNCS["absolute"](self)
Tracer.__invert__ = lambda self: UFUNCS["invert"](self)
def _matmul_op(reflected):
    """``@``: two matrices go straight to the trace (the operator is a layer's hot path:
    no wrapper or bind in between); anything else through chainrule.numpy.matmul."""
    def op(self, other):
        a, b = (other, self) if reflected else (self, other)
        trace = _state.trace
        if trace is not None and basic.two_matrices(a, b):
            return trace.process(matmul_p, (a, b), _NO_PARAMS)
        return basic.matmul(a, b)
    return op


Tracer.__matmul__ = _matmul_op(False)
Tracer.__rmatmul__ = _matmul_op(True)
Tracer.__imatmul__ = lambda self, other: self._assign(basic.matmul(self, other))
Tracer.__divmod__ = lambda self, other: (self // other, self % other)


# ------------------------------------------------------------------ conversions

_CONVERT_MSG = (
    "a traced value (the argument of a function being differentiated, batched or "
    "staged, or something computed from it) was converted to a {what}. That would "
    "silently drop its derivative, so chainrule refuses. Instead: keep it as an "
    "array and use chainrule.numpy functions; build arrays with cnp.stack([...]) or "
    "cnp.array([...]) instead of writing into a NumPy buffer (buf[i] = x); update "
    "traced arrays with x = x.at[i].set(v) or x[i] = v (a NumPy buffer: buf = "
    "cnp.at(buf)[i].set(v)); and wrap a value whose "
    "derivative you really mean to drop in chainrule.stop_gradient(x).")


def _to_array(self, dtype=None, copy=None):
    if _state.trace is None:
        check_not_leaked(self)
    raise TracerConversionError(_CONVERT_MSG.format(
        what="NumPy array (np.asarray, np.array or assignment into an ndarray)"))


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
    v = self._concrete()
    if np.asarray(v).dtype.kind not in "iub":
        raise TypeError("only integer traced values can be used as an index")
    return int(v)


Tracer.__array__ = _to_array
Tracer.__float__ = _to_float
Tracer.__complex__ = _to_float
Tracer.__int__ = _to_float
Tracer.item = _to_float
Tracer.tolist = _to_float
Tracer.__bool__ = _to_bool
Tracer.__index__ = _to_index


def _iter(self):
    if _state.trace is None:
        check_not_leaked(self)
    if not self.shape:
        raise TypeError("iteration over a 0-d traced array")
    return (self[i] for i in range(self.shape[0]))


Tracer.__iter__ = _iter


# ------------------------------------------------------------------ NumPy protocols

_UFUNC_METHODS = {("add", "reduce"): "sum", ("multiply", "reduce"): "prod",
                  ("maximum", "reduce"): "max", ("minimum", "reduce"): "min",
                  ("add", "accumulate"): "cumsum", ("multiply", "accumulate"): "cumprod"}


def _array_ufunc(self, ufunc, method, *inputs, **kwargs):
    if _state.trace is None:
        check_not_leaked(self)
    if method == "__call__":
        fn = HANDLED_UFUNCS.get(ufunc)
        if fn is None:
            raise NotImplementedError(
                f"numpy.{ufunc.__name__} has no differentiable version in chainrule: "
                "it cannot be applied to a traced value")
        return fn(*inputs, **kwargs)
    name = _UFUNC_METHODS.get((ufunc.__name__, method))
    if name is not None and name in _namespace():
        return _namespace()[name](*inputs, **kwargs)
    raise NotImplementedError(f"numpy.{ufunc.__name__}.{method} is not supported on "
                              "traced values")


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


Tracer.__array_ufunc__ = _array_ufunc
Tracer.__array_function__ = _array_function


def _namespace():
    from .dispatch import PUBLIC
    return PUBLIC["numpy"]


# ------------------------------------------------------------------ indexing

def _getitem(self, idx):
    if _state.trace is None:
        check_not_leaked(self)
    spec, arrays = split_index(idx)
    return getitem_p.bind(self, *arrays, spec=spec)


def _setitem(self, idx, value):
    if _state.trace is None:
        check_not_leaked(self)
    new = _update(self, idx, value, "set")
    if type(new) is not type(self) or new._trace is not self._trace:
        raise TypeError("x[i] = v cannot update a traced array with a value from an "
                        "inner transformation; write x = x.at[i].set(v) instead")
    self._assign(new)


def _update(x, idx, value, mode):
    spec, arrays = split_index(idx)
    concrete = _probe(arrays)
    if concrete is not None:
        # validate like NumPy (IndexError for out-of-bounds, broadcasting errors)
        probe = np.empty(x.shape, dtype=np.bool_)[join_index(spec, concrete)]
        np.broadcast_to(np.empty(np.shape(value) if not isinstance(value, Tracer)
                                 else value.shape, np.bool_), probe.shape)
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
        return _update(self.x, self.idx, v, "set")

    # (on a plain ndarray x with plain values these run NumPy directly: _update binds
    # the scatter primitive, which evaluates when no transformation is active)

    def add(self, v):
        return _update(self.x, self.idx, v, "add")

    def multiply(self, v):
        return _update(self.x, self.idx, v, "multiply")

    def subtract(self, v):
        return _update(self.x, self.idx, -v, "add")

    def divide(self, v):
        return _update(self.x, self.idx, 1.0 / v, "multiply")


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
Tracer.flatten = lambda self, order="C": basic.ravel(self, order)
Tracer.astype = lambda self, dtype, **kw: basic.astype(self, dtype)
Tracer.copy = lambda self, order="C": self
Tracer.T = property(lambda self: basic.transpose(self))
Tracer.mT = property(lambda self: basic.swapaxes(self, -1, -2))
Tracer.real = property(lambda self: UFUNCS["real"](self))
Tracer.imag = property(lambda self: UFUNCS["imag"](self))
Tracer.__round__ = lambda self, ndigits=0: _namespace()["round"](self, ndigits)
