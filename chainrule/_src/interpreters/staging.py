"""Staging: a trace that records every primitive into a Graph (the IR behind
make_graph and jit).

Staging tracers carry their *concrete* value as well as the graph variable that
names it, so the function runs exactly as it would eagerly: Python control flow
that reads a traced value (``if x > 0``, ``float(loss)``, ``while err > tol``)
simply gets the concrete answer, and the staging trace records a **guard** (this
variable had this value). A compiled graph checks its guards on every call and
re-traces when one fails: users never meet a concretization error.

Operations on constants only are evaluated immediately and never recorded (constant
folding for free). Nested transformations record what they run: ``make_graph(grad(f))``
shows the forward pass and the backward pass.
"""
import itertools

import numpy as np

from .. import backend
from ..core import (new_trace_context, Trace, Tracer, PrimalTracer, _state, shape_of, dtype_of,
                    inherited_lift)
from ..core import LazyValueError, _LAZY_MSG, materialize
from .deferred import _geterr


class Var:
    """A value in a Graph: a name, a shape and a dtype."""
    __slots__ = ("id", "shape", "dtype")
    _ids = itertools.count()

    def __init__(self, shape, dtype):
        self.id = next(Var._ids)
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)

    def __repr__(self):
        return f"Var({self.id}, {self.shape}, {self.dtype})"


class Literal:
    """A constant operand (a Python scalar or an array captured from outside).

    ``live``: an array the user's function can reach (closed over, a global, a default
    argument; jit finds them): the user may write into it between calls, so compiled
    code reads it on every call and no simplification may depend on its values."""
    __slots__ = ("val", "shape", "dtype", "live")

    def __init__(self, val, live=False):
        self.val = val
        self.shape = shape_of(val)
        self.dtype = dtype_of(val)
        self.live = live


def is_live(a, live_ids):
    """Whether the array ``a`` is one of ``live_ids`` (ids of arrays the user's function
    can reach) or a view of one."""
    while type(a) is np.ndarray:
        if id(a) in live_ids:
            return True
        a = a.base
    return False


class Eqn:
    """``outs = prim(*ins, **params)``; ``site`` is the user's source line."""
    __slots__ = ("prim", "ins", "outs", "params")

    def __init__(self, prim, ins, outs, params):
        self.prim, self.ins, self.outs, self.params = prim, ins, outs, params


class Guard:
    """``kind(var) == value`` must hold for a compiled graph to be reused."""
    __slots__ = ("var", "kind", "value")

    def __init__(self, var, kind, value):
        self.var, self.kind, self.value = var, kind, value


class StagingTracer(PrimalTracer):
    __slots__ = ("_var",)   # (not "var": ndarray.var is a method)

    def __init__(self, trace, primal, var):
        self._trace = trace
        self.primal = primal
        self._var = var

    def _describe(self):
        return "StagingTracer (jit/make_graph value)"

    # Python control flow on a staged value: take the concrete answer, record a guard
    def _guarded(self, kind, convert):
        p = self.primal
        if type(p) is not np.ndarray and backend.is_lazy(p):
            raise LazyValueError(_LAZY_MSG.format(shape=self.shape))
        value = convert(p._concrete() if isinstance(p, Tracer) else p)
        self._trace.guards.append(Guard(self._var, kind, value))
        return value

    def guard_no_infinity(self):
        """Record that the compiled program holds only where this value has no
        infinity (a reassociation that is exact on finite values: codegen's
        NoInfinity); a call where it has one runs as written."""
        self._trace.guards.append(Guard(self._var, "no_infinity", None))

    def _concrete(self):
        """The concrete value, which the compiled program may then depend on: guarded."""
        return self._guarded("value", lambda v: np.array(v, copy=True))

    def __bool__(self):
        return self._guarded("bool", bool)

    def __float__(self):
        return self._guarded("float", float)

    def __int__(self):
        return self._guarded("int", int)

    def __index__(self):
        if self.dtype.kind not in "iu":      # (NumPy 2: not floats, nor bools)
            raise TypeError("only integer traced values can be used as an index")
        return self._guarded("int", int)

    def __complex__(self):
        return self._guarded("complex", complex)

    def item(self):
        return self._guarded("item", lambda v: np.asarray(v).item())

    def tolist(self):
        return self._guarded("tolist", lambda v: np.asarray(v).tolist())


class StagingTrace(Trace):
    """Records primitives. With ``fold_constants`` (jit), operations whose operands are
    all constants are evaluated now and not recorded; without it (make_graph), every
    primitive that runs is recorded, so FLOP counts include work on constants (the
    standard basis of jacfwd, for example)."""
    __slots__ = ("eqns", "guards", "fold_constants", "live_ids", "lifted", "errstate",
                 "raising", "fp_raise")

    def __init__(self, parent, fold_constants=True, live_ids=frozenset()):
        self.parent = parent
        self.eqns = []
        self.guards = []
        self.fold_constants = fold_constants
        self.live_ids = live_ids
        self.lifted = {}                    # id -> the StagingTracer of a live array
        # whether an operation ran under np.errstate(..., "raise" or "call"): the
        # program's own code (a try/except FloatingPointError) decides what then happens.
        # Its outputs are guarded ("fp_event": kept, computed as written) and jit runs
        # such a variant under errstate "raise", falling back on an error (stage_flat's
        # ``info``; errstate None: not watched)
        self.errstate, self.raising, self.fp_raise = None, False, False
        self.lift = self.lift_live if live_ids else inherited_lift(parent)

    def lift_live(self, vals):
        """``vals`` (a list, changed in place) with each live array (one the user's
        function can reach, or a view of one) replaced by a value of this trace that
        stands for it (its Var is the array's live Literal).

        The transformations inside a jit apply this to the values their rules compute
        with (``Trace.lift``): a rule's arithmetic on a closed-over array alone (a
        gradient's ``ct * a`` with a constant seed ``ct``, ``a - 1`` in the rule of
        ``x ** a``) is then staged and reads the array on every call, instead of
        running in NumPy while tracing and freezing its values of that moment."""
        ids = self.live_ids
        for i, a in enumerate(vals):
            if type(a) is np.ndarray and is_live(a, ids):
                t = self.lifted.get(id(a))
                if t is None:               # (the tracer holds the array: its id stays)
                    t = self.lifted[id(a)] = StagingTracer(self, a, Literal(a, True))
                vals[i] = t
        return vals

    def new_input(self, val):
        return StagingTracer(self, val, Var(shape_of(val), dtype_of(val)))

    def process(self, prim, args, params):
        if prim.higher_order:
            # custom_jvp/custom_vjp: a staged program is not differentiated further
            # (jit runs inline under other transformations), so record the function's
            # own operations; they may also use values of this trace it closes over
            return prim.impl(*args, **params)
        vals, ins, found, live = [], [], False, False
        for a in args:
            if type(a) is StagingTracer and a._trace is self:
                vals.append(a.primal)
                ins.append(a._var)
                found = True
            else:
                a = materialize(a)          # (a constant cotangent with a pending
                vals.append(a)              # factor: generated code holds the array)
                lit = Literal(a, self.live_ids and is_live(a, self.live_ids))
                live = live or lit.live
                ins.append(lit)
        if self.errstate is not None:
            err = _geterr()
            if err is not self.errstate:    # (NumPy 2: a context variable's value)
                self.errstate = err
                self.raising = any(v in ("raise", "call") for v in np.geterr().values())
                self.fp_raise = self.fp_raise or self.raising
        ans = self.in_parent(prim, vals, params)
        if not found and self.fold_constants and not live:
            return ans                      # (a live array's function runs every call)
        outs = [self.new_input(a) for a in (ans if prim.multiple_results else [ans])]
        self.eqns.append(Eqn(prim, ins, [o._var for o in outs], params))
        if self.raising:                    # (its floating-point events are the program's)
            self.guards.extend(Guard(o._var, "fp_event", None) for o in outs)
        return outs if prim.multiple_results else outs[0]


def stage_flat(fun, args, fold_constants=True, live_ids=frozenset(), info=None):
    """Run ``fun(*args)`` under a staging trace (``live_ids``: see :class:`Literal`;
    ``info``, a dict, gets ``fp_raise``: whether an operation ran under an
    ``np.errstate`` that raises).

    Returns ``(outs, in_vars, out_operands, eqns, guards)``: the concrete outputs,
    the graph inputs, each output's Var (or Literal for outputs that do not depend
    on the inputs), the recorded equations and the guards.
    """
    trace = StagingTrace(_state.trace, fold_constants, live_ids)
    if info is not None:
        trace.errstate = ()                 # (watched: see StagingTrace)
    ins = [trace.new_input(a) for a in args]
    in_vars = [t._var for t in ins]      # before the function runs: it may write into them
    with new_trace_context(trace):
        outs = fun(*ins)
    if info is not None:
        info["fp_raise"] = trace.fp_raise
    values, operands = [], []
    for o in outs:
        if type(o) is StagingTracer and o._trace is trace:
            values.append(o.primal)
            operands.append(o._var)
        else:
            o = materialize(o)
            values.append(o)
            operands.append(Literal(o, bool(live_ids) and is_live(o, live_ids)))
    return values, in_vars, operands, trace.eqns, trace.guards
