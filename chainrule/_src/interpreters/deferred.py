"""Deferred evaluation for reverse mode.

When a program is differentiated with respect to a large array, the reverse trace
records large float64 elementwise operations and sums (``Primitive.defer``) with a
:class:`Pending` value instead of computing them. A Pending is evaluated the first time
something needs it: an operation that is not deferred, a rule that reads it
(``reads_ans``, ``vjp_uses_args``), Python control flow, an in-place update, or the
caller. What nothing needs is never computed: ``grad`` does not evaluate the loss at
the end of the program (``sum(x**2)`` costs no square), and ``hvp`` neither the loss
nor its tangent.

Chains are at most ``MAX_DEPTH`` deep, so evaluation never recurses far, and each
Pending restores the NumPy error state (``np.errstate``) of its call.
"""
import numpy as np

from ..core import _state, _F64, PrimalTracer, ShapeDtype
from .. import core


class Pending:
    """The value of a deferred elementwise operation or sum: shape and dtype are known,
    the array is computed (once, under the NumPy error state of the call) by
    :meth:`value`. Chains are at most ``MAX_DEPTH`` deep, so forcing never recurses far."""
    __slots__ = ("shape", "dtype", "prim", "args", "params", "parent", "err", "depth",
                 "_value")

    def __init__(self, shape, prim, args, params, parent, depth):
        self.shape = shape
        self.dtype = _F64
        self.prim, self.args, self.params, self.parent = prim, args, params, parent
        self.err = _geterr()
        self.depth = depth
        self._value = None

    @property
    def ndim(self):
        return len(self.shape)

    def _concrete(self):
        v = self.value()
        concrete = getattr(v, "_concrete", None)
        return v if concrete is None else concrete()

    def value(self):
        v = self._value
        if v is None:
            args = [a.value() if type(a) is Pending else a for a in self.args]
            saved = _state.trace
            _state.trace = parent = self.parent
            token = _seterr(self.err)
            try:
                v = self.prim.impl(*args, **self.params) if parent is None else \
                    parent.process(self.prim, args, self.params)
            finally:
                _state.trace = saved
                if token is not None:
                    _reseterr(token)
            self._value = v
            self.args = None                    # the inputs may be freed now
        return v

    def __repr__(self):
        return f"Pending({self.prim}, shape={self.shape})"


MAX_DEPTH = 4

# NumPy's floating-point error state (np.errstate) at the call, restored when a Pending
# is evaluated later: NumPy 2 keeps it in a context variable (cheap to read and compare)
try:
    from numpy._core._ufunc_config import _extobj_contextvar as _ERRVAR
    _geterr = _ERRVAR.get

    def _seterr(state):
        return None if _ERRVAR.get() is state else _ERRVAR.set(state)
    _reseterr = _ERRVAR.reset
except ImportError:                                     # pragma: no cover
    _geterr = np.geterr

    def _seterr(state):
        if np.geterr() == state:
            return None
        ctx = np.errstate(**state)
        ctx.__enter__()
        return ctx

    def _reseterr(ctx):
        ctx.__exit__(None, None, None)


def force(x):
    """The value of ``x`` (evaluates a :class:`Pending`)."""
    return x.value() if type(x) is Pending else x


def deferred_shape(prim, primals, nodes, params):
    """(output shape, depth) if ``prim`` may be deferred on these arguments, else None:
    float64 arrays of at least ``core.DEFER_SIZE`` elements (concrete, pending, or the
    primal of a forward-mode value) that the trace owns (``nodes[i]`` set: a NumPy
    array from outside could be modified in place before the Pending is evaluated),
    Python/float64 scalars, one common shape."""
    shape, depth = None, 1
    for a, n in zip(primals, nodes):
        t = type(a)
        if t is Pending:
            if a.depth >= MAX_DEPTH:
                return None
            s = a.shape
            if a.depth >= depth:
                depth = a.depth + 1
        elif t is float or t is int or t is np.float64:
            continue
        else:
            if n is None:
                return None
            if isinstance(a, PrimalTracer):     # a forward-mode value: look at its primal
                a = a.primal
            if type(a) is not np.ndarray or a.dtype is not _F64 or a.size < core.DEFER_SIZE:
                return None
            s = a.shape
        if shape is None:
            shape = s
        elif s != shape:
            return None
    if shape is None:
        return None
    if prim.defer == "map":
        return shape, depth
    axis, keepdims = params["axis"], params["keepdims"]
    if keepdims:
        return tuple(1 if i in axis else d for i, d in enumerate(shape)), depth
    return tuple(d for i, d in enumerate(shape) if i not in axis), depth


def shapes_only(primals, min_size=0):
    """What a tape keeps of arguments whose values a rule does not read: the shape and
    dtype of arrays (of at least ``min_size`` elements) and of Pending values (the same
    list when there are none)."""
    for p in primals:
        if type(p) is Pending or (type(p) is np.ndarray and p.size >= min_size):
            return [ShapeDtype(p.shape, p.dtype) if type(p) is Pending or
                    (type(p) is np.ndarray and p.size >= min_size) else p for p in primals]
    return primals


def large(x):
    """Whether ``x`` is an array (or forward-mode value of one) that makes deferring
    worth its cost: programs differentiated with respect to large arrays."""
    if type(x) is not np.ndarray and isinstance(x, PrimalTracer):
        x = x.primal
    return type(x) is np.ndarray and x.size >= core.DEFER_SIZE


def forced(prim, args, res, needs):
    """The arguments and output of a :class:`~.reverse.Deferred` record as its rule
    reads them: Pending arguments computed, and the output too where the rule reads
    it for these arguments (``reads_ans``), else None."""
    args = [force(a) for a in args]
    if type(res) is Pending:
        res = res.value() if prim.reads_ans(args, needs) else None
    return args, res
