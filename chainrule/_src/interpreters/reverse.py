"""Reverse mode: a trace that records a tape while the forward pass runs (vjp).

The tape is a list of records in the order the primitives ran, which is a topological
order: a :class:`Record` per primitive application (named fields ``prim``, ``params``,
``nodes``, ``args``, ``res``, ``out``: the primitive, its parameters, the argument nodes,
the ``args`` and ``res`` its rule reads, the ``out`` node or nodes), a :class:`Deferred`
record where a deferred value must be computed first, and a :class:`Remat` record per
checkpointed call. The backward pass walks it once from
the end, handing each record's output cotangent to the primitive's ``vjp`` rule.
Rules are written with chainrule's own operations and run with whatever trace is
current when the backward pass runs, so the backward pass can be differentiated again
(higher order), batched and staged. Nothing here compiles: the API layer hands
recurring top-level pullbacks to graph/replay.py.

Each recorded value has a *node*: an integer, unique within its trace, under which
its cotangent accumulates in the backward pass's store (a dict: node -> cotangent).
Nodes belong to values, not to tracers: an in-place update (``x[i] = v``) re-points a
tracer to the new value's node, and earlier uses of the old value still receive their
cotangents.

Large float64 elementwise operations and sums may be recorded with a
:class:`~.deferred.Pending` value, evaluated when something first needs it (see
``deferred.py``): what nothing needs is never computed.
"""
from ..core import (inherited_lift, Trace, PrimalTracer, Zero, _state, is_inexact, Scaled,
                    scaled, materialize, ShapeDtype, shape_of, dtype_of)
from .forward import JVPTrace
from .deferred import Pending, force, forced, deferred_shape, large, shapes_only

from collections import namedtuple

import numpy as np

from .. import backend, core


class ReverseTracer(PrimalTracer):
    __slots__ = ("node",)

    def __init__(self, trace, primal, node):
        self._trace = trace
        self.primal = primal
        self.node = node

    def _describe(self):
        return "ReverseTracer (reverse-mode value)"


class ReverseTrace(Trace):
    __slots__ = ("tape", "where", "defers", "lean", "count")

    def __init__(self, parent):
        self.parent = parent
        self.lift = inherited_lift(parent)   # (inside a jit: see Trace)
        self.tape = []
        # the next value's node: from 1, as rules read the nodes of their arguments as
        # ``needs`` (truthy: the argument needs a cotangent)
        self.count = 1
        # debug_nans on when this trace starts: tape index -> user source line
        self.where = {} if _state.nan_checks else None
        # deferral (set by vjp_flat when an input is large): not under debug_nans, where
        # values are checked as they are computed, nor under vmap or staging, which keep
        # their own order of operations
        self.defers = False
        # the common case (top level: no parent, no debug_nans, no deferral) takes a short
        # path for primitives without special handling (_lean)
        self.lean = parent is None and self.where is None

    def new_input(self, x):
        n = self.count
        self.count = n + 1
        return ReverseTracer(self, x, n)

    def process(self, prim, args, params):
        # unpack the tracers this trace owns (written out for one and two arguments,
        # the hot cases: this runs once per primitive of a differentiated program)
        if len(args) == 2:
            a, b = args
            if type(a) is ReverseTracer and a._trace is self:
                pa, na = a.primal, a.node
            else:
                pa, na = a, None
            if type(b) is ReverseTracer and b._trace is self:
                pb, nb = b.primal, b.node
            else:
                pb, nb = b, None
            if na is None and nb is None:
                return self.in_parent(prim, args, params)
            primals, nodes = [pa, pb], (na, nb)
        elif len(args) == 1:
            a = args[0]
            if type(a) is not ReverseTracer or a._trace is not self:
                return self.in_parent(prim, args, params)
            primals, nodes = [a.primal], (a.node,)
        else:
            primals, nodes, found = [], [], False
            for a in args:
                if type(a) is ReverseTracer and a._trace is self:
                    primals.append(a.primal)
                    nodes.append(a.node)
                    found = True
                else:
                    primals.append(a)
                    nodes.append(None)
            if not found:
                return self.in_parent(prim, primals, params)
            nodes = tuple(nodes)
        if self.lean:
            try:
                lean = _lean[prim]
            except KeyError:
                lean = _lean[prim] = _lean_code(prim)
            if lean:
                # what the general path below does for these primitives, without the
                # checks that cannot apply; the parent is None, so impl runs with this
                # trace current (any primitive it binds sees no value of this trace
                # and goes straight to NumPy)
                ans = prim.impl(*primals, **params) if params else prim.impl(*primals)
                t = type(ans)
                if t is _ndarray:               # (is_inexact, written out: once per op)
                    dt = ans.dtype
                    if dt is not _F64 and dt.kind not in "fc":
                        return ans
                elif t is not float and not is_inexact(ans):
                    return backend.watched(ans)
                out = self.count
                self.count = out + 1
                if lean & _FREES_ARGS and t is not float:
                    limit = core.LAZY_SIZE      # (no Pending here: a lean trace defers none)
                    for p in primals:
                        if type(p) is _ndarray and p.size >= limit:
                            primals = shapes_only(primals, limit)
                            break
                self.tape.append(_new(Record, (prim, params, nodes, primals,
                                               ans if lean & _KEEPS_ANS else None, out)))
                # (ReverseTracer(self, ans, out) without the call of __init__)
                tracer = _new_object(ReverseTracer)
                tracer._trace = self
                tracer.primal = ans
                tracer.node = out
                return tracer
        if self.lift is not None:
            primals = self.lift(list(primals))
        if self.defers and prim.defer is not None:
            how = deferred_shape(prim, primals, nodes, params)
            if how is not None:
                return self._defer(prim, primals, nodes, params, *how)
        if self.defers:                         # arguments may be Pending
            primals = [p.value() if type(p) is Pending else p for p in primals]
        if not prim.differentiable:             # (a lazy result begins the guard)
            return backend.watched(self.in_parent(prim, primals, params))
        parent = self.parent
        _state.trace = parent
        try:
            if prim.fwd is not None:
                ans, res = prim.fwd(*primals, **params)
            elif parent is None:
                res = ans = prim.impl(*primals, **params)
            else:
                res = ans = parent.process(prim, primals, params)
        finally:
            _state.trace = self
        if prim.multiple_results:
            outs, out_nodes = [], []
            for a in ans:
                if is_inexact(a):
                    n = self.count
                    self.count = n + 1
                    outs.append(ReverseTracer(self, a, n))
                else:
                    n = None
                    outs.append(a)
                out_nodes.append(n)
        elif is_inexact(ans):
            out_nodes = self.count
            self.count = out_nodes + 1
            outs = ReverseTracer(self, ans, out_nodes)
        else:
            return backend.watched(ans)
        if self.where is not None:
            from .debug import record_site
            record_site(self, out_nodes)
        if not prim.vjp_uses_args and type(ans) is not float:
            primals = shapes_only(primals, core.LAZY_SIZE)   # large arguments can be freed
        self.tape.append(_new(Record, (prim, params, nodes, primals,
                                       res if prim.vjp_uses_ans else None, out_nodes)))
        return outs

    def _defer(self, prim, primals, nodes, params, shape, depth):
        pending = Pending(shape, prim, primals, params, self.parent, depth)
        out = self.count
        self.count = out + 1
        if not prim.vjp_uses_args:
            primals = shapes_only(primals)
        # a rule that reads a Pending (its output, or arguments deferred before) has
        # them computed first
        rec = (prim, params, nodes, primals, pending if prim.vjp_uses_ans else None, out)
        self.tape.append(_new(Deferred if prim.vjp_uses_ans or
                              (prim.vjp_uses_args and depth > 1) else Record, rec))
        return ReverseTracer(self, pending, out)

    def backward(self, out_nodes, cts, in_nodes, consume=False):
        """Run the backward pass; returns the cotangent of each input node (or None)."""
        store = {}
        seed(store, out_nodes, cts)
        self.walk(self.tape, store, consume)
        return [materialize(store.get(n)) for n in in_nodes]

    def walk(self, tape, store, consume=False):
        """Hand cotangents backwards through ``tape`` (a list of records), reading and
        adding them in ``store`` (node -> cotangent)."""
        check = self.where is not None          # debug_nans was on in the forward pass
        pop = store.pop
        for i in range(len(tape) - 1, -1, -1):
            rec = tape[i]
            kind = type(rec)
            if kind is Remat:
                rec.rewalk(self, store)
                continue
            prim, out = rec.prim, rec.out
            if prim.multiple_results:
                ct = [None if o is None else materialize(pop(o, None)) for o in out]
                if all(c is None for c in ct):
                    continue
                ct = [Zero.like(a) if c is None else c
                      for c, a in zip(ct, res_outputs(prim, rec.res))]
            else:
                ct = pop(out, None)
                if ct is None:
                    continue
            if consume:
                tape[i] = None
            nodes, args, res = rec.nodes, rec.args, rec.res
            if kind is Deferred:
                args, res = forced(prim, args, res, nodes)
            try:
                lazy = None
                if type(ct) is Scaled:
                    if check:
                        ct = ct.value()
                    else:
                        lazy, ct = ct, ct.base
                in_cts = prim.vjp(ct, res, args, nodes, **rec.params)
                if lazy is not None:
                    # rules are linear in the cotangent: they ran on the base; scale their
                    # results (lazily; a base passed through keeps the same Scaled)
                    in_cts = [c if c is None or type(c) is Zero else
                              lazy if c is ct else scaled(c, lazy.scale) for c in in_cts]
                if check:
                    from .debug import check_cotangents
                    check_cotangents(ct, in_cts)
            except FloatingPointError as e:
                if check:
                    from .debug import annotate
                    annotate(e, self, out, prim)
                raise
            for n, c in zip(nodes, in_cts):
                if n is not None and c is not None:
                    prev = store.get(n)
                    store[n] = c if prev is None else prev + c
        if consume:
            tape.clear()

    def checkpointed(self, fun, args):
        """``fun(*args)`` whose intermediates are not kept: the tape records one entry
        that re-runs ``fun`` under this trace in the backward pass. ``fun`` may close
        over values this trace owns (a layer's parameters): their cotangents are found
        when the recomputation walks its own short tape.

        NumPy's global random generator (``np.random.*``) is saved before the forward
        run and restored around the re-run, so the recomputation draws the same numbers
        (as PyTorch's checkpoint does); the generator is then put back, so the
        user's stream goes on as if nothing had been re-run."""
        rng = np.random.get_state()
        # the arguments as they are now: ``fun``, or the caller later, may write into them
        # (an in-place update re-points a tracer), and the re-run needs these values
        frozen = [self._frozen(a) for a in args]
        outs, side = self.on_side_tape(fun, args)   # the forward's intermediates: dropped
        # arguments ``fun`` wrote into are outputs too: their new values come from the
        # dropped tape, so the re-run must hand their cotangents back as well
        written = [i for i, (a, f) in enumerate(zip(args, frozen))
                   if type(a) is ReverseTracer and a is not f and a.node != f.node]
        ends = list(outs) + [args[i] for i in written]
        produced = {n for r in side for n in _out_nodes(r) if n is not None}
        out_nodes = [o.node if type(o) is ReverseTracer and o.node in produced else None
                     for o in ends]
        shapes = [ShapeDtype(shape_of(o), dtype_of(o)) for o in ends]   # for Zero.like
        self.tape.append(Remat(fun, rng, frozen, written, shapes, out_nodes))
        return outs

    def _frozen(self, a):
        """A new tracer for ``a``'s current value and node (``a`` if this trace does not
        own it), which later writes into ``a`` leave alone."""
        return ReverseTracer(self, a.primal, a.node) if type(a) is ReverseTracer and \
            a._trace is self else a

    def on_side_tape(self, fun, args):
        """Run ``fun(*args)`` with this trace current, recording on a fresh tape;
        returns ``(outs, side_tape)`` and leaves the tape as it was."""
        saved_tape, saved = self.tape, _state.trace
        self.tape, _state.trace = [], self
        try:
            outs = fun(*args)
        finally:
            side, self.tape, _state.trace = self.tape, saved_tape, saved
        return outs, side


class Record(namedtuple("Record", "prim params nodes args res out")):
    """A primitive application on the tape: the primitive, its parameters, the argument
    nodes (None: not this trace's), the ``args`` and ``res`` (output) its rule reads, the
    ``out`` node (a list of nodes for several results). Read by name, generated code
    included (``t[k].args[j]``); made with ``tuple.__new__(Record, (...))``, about 100 ns
    less than calling the class, once per primitive of every differentiated call."""
    __slots__ = ()


_new = tuple.__new__


class Deferred(Record):
    """A :class:`Record` of a deferred primitive whose rule reads its output or
    arguments, some of them :class:`~.deferred.Pending`: the walk computes them before
    running the rule."""
    __slots__ = ()


class Remat:
    """A checkpointed call ``fun(*args)`` (:meth:`ReverseTrace.checkpointed`): the walk
    re-runs it on a side tape (drawing the random numbers the forward run drew, from
    ``rng``) and walks that tape with the same store, so values ``fun`` closes over get
    their cotangents. ``shapes`` gives the outputs' shapes and dtypes, ``out`` their
    nodes (None for an output that is an input or a constant)."""
    __slots__ = ("fun", "rng", "args", "written", "shapes", "out")

    def __init__(self, fun, rng, args, written, shapes, out):
        self.fun, self.rng, self.args, self.written = fun, rng, args, written
        self.shapes, self.out = shapes, out

    def rewalk(self, trace, store):
        cts = [None if o is None else materialize(store.pop(o, None)) for o in self.out]
        if all(c is None for c in cts):
            return
        cts = [Zero.like(s) if c is None else c for c, s in zip(cts, self.shapes)]
        now = np.random.get_state()
        np.random.set_state(self.rng)   # the numbers the forward run drew
        args = [trace._frozen(a) for a in self.args]     # the re-run may write into them
        try:
            outs, side = trace.on_side_tape(self.fun, args)
        finally:
            np.random.set_state(now)
        ends = list(outs) + [args[i] for i in self.written]
        seed(store, [o.node if type(o) is ReverseTracer and o._trace is trace else None
                     for o in ends], cts)
        trace.walk(side, store)

    def __repr__(self):
        return f"Remat({getattr(self.fun, '__name__', 'fun')}, out={self.out})"


def _out_nodes(rec):
    """The output nodes of a record, as a list."""
    out = rec.out
    return out if type(out) is list else [out]


# primitive -> whether ReverseTrace.process's short path applies (differentiable, one
# result, no fwd, not higher order: 0 where not), with the primitive's flags that path
# reads (_lean_code); computed once per primitive, kept here (not on the primitive, which
# every thread and trace shares)
_lean = {}
_KEEPS_ANS, _FREES_ARGS = 2, 4      # vjp_uses_ans; not vjp_uses_args


def _lean_code(prim):
    if not (prim.differentiable and prim.fwd is None and not prim.multiple_results and
            not prim.higher_order):
        return 0
    return 1 | (_KEEPS_ANS if prim.vjp_uses_ans else 0) | \
        (0 if prim.vjp_uses_args else _FREES_ARGS)


def seed(store, nodes, cts):
    """Add the cotangents ``cts`` of ``nodes`` to ``store``."""
    for n, ct in zip(nodes, cts):
        if n is not None and ct is not None and type(ct) is not Zero:
            prev = store.get(n)
            store[n] = ct if prev is None else prev + ct


def res_outputs(prim, res):
    """The outputs of a multiple-result primitive, from what its forward pass kept."""
    return prim.outputs_of(res) if prim.fwd is not None else res


class Pullback:
    """The backward pass of a recorded forward pass: ``pullback(cts, consume=False)``
    maps a list of output cotangents to a list of input cotangents (None where an
    input does not influence the outputs) by walking the tape; with ``consume`` the
    tape is freed as the walk goes (the pullback is then spent). It may be called many
    times otherwise. graph/replay.py compiles recurring ones from ``trace.tape``, the
    nodes and the inputs (``primals``)."""
    __slots__ = ("trace", "out_nodes", "in_nodes", "primals")

    def __init__(self, trace, out_nodes, in_nodes, primals):
        self.trace, self.out_nodes, self.in_nodes = trace, out_nodes, in_nodes
        self.primals = primals

    def __call__(self, cts, consume=False):
        return self.trace.backward(self.out_nodes, cts, self.in_nodes, consume)


def vjp_flat(fun, primals, lazy_outputs=False):
    """Run ``fun(*primals)`` recording a tape; return ``(outs, pullback)`` (a
    :class:`Pullback`). With ``lazy_outputs``, outputs may be :class:`Pending` (use
    :func:`force`)."""
    saved = _state.trace
    trace = ReverseTrace(saved)
    if trace.where is None and (saved is None or type(saved) is JVPTrace):
        limit = core.DEFER_SIZE
        for p in primals:
            if (p.size >= limit) if type(p) is _ndarray else large(p):
                trace.defers = True
                trace.lean = False
                break
    ins, in_nodes = [], []
    n = trace.count
    for p in primals:       # (is_inexact written out for arrays: a training step's inputs)
        if p.dtype.kind in "fc" if type(p) is _ndarray else is_inexact(p):
            x = _new_object(ReverseTracer)      # (trace.new_input(p), written out)
            x._trace = trace
            x.primal = p
            x.node = n
            ins.append(x)
            in_nodes.append(n)
            n += 1
        else:
            ins.append(p)
            in_nodes.append(_DEAD)
    trace.count = n
    _state.trace = trace
    try:
        outs = fun(*ins)
    finally:
        _state.trace = saved
    outs_primal, out_nodes = [], []
    lazy = lazy_outputs or not trace.defers       # (only deferring traces make Pending)
    for o in outs:
        if type(o) is ReverseTracer and o._trace is trace:
            outs_primal.append(o.primal if lazy else force(o.primal))
            out_nodes.append(o.node)
        else:
            outs_primal.append(o)
            out_nodes.append(None)
    return outs_primal, Pullback(trace, out_nodes, in_nodes, primals)


_ndarray = np.ndarray
_new_object = object.__new__
_F64 = np.dtype(np.float64)
_DEAD = -1       # the node of inputs that cannot carry a derivative (never given out)
