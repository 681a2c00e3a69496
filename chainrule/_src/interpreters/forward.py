"""Forward mode: a trace whose tracers carry a primal and a tangent (jvp).

Each primitive's ``jvp`` rule runs with the parent trace current, so tangents may
themselves be traced by an outer transformation (forward-over-reverse, jacfwd of
jacrev, ...). A tangent that is symbolically zero is never materialised: an output
whose tangent is :class:`Zero` is returned as a plain (constant) value.
"""
from ..core import (inherited_lift, new_trace_context, Trace, PrimalTracer, Zero, _state, is_inexact,
                    Scaled, scaled, materialize)
from .deferred import Pending, deferred_shape
from .debug import check_tangent
from .. import backend


class JVPTracer(PrimalTracer):
    __slots__ = ("tangent",)

    def __init__(self, trace, primal, tangent):
        self._trace = trace
        self.primal = primal
        self.tangent = tangent

    def _describe(self):
        return "JVPTracer (forward-mode value)"


class JVPTrace(Trace):
    # lazy_ans (hvp): primal outputs of add/subtract/multiply on large arrays are left
    # unevaluated (deferred.Pending) until something reads them; hvp discards the
    # gradient's value and keeps only its tangent
    __slots__ = ("lazy_ans")

    def __init__(self, parent):
        self.parent = parent
        self.lazy_ans = False
        self.lift = inherited_lift(parent)   # (inside a jit: see Trace)

    def process(self, prim, args, params):
        primals = list(args)
        tangents = None
        for i, a in enumerate(args):
            if type(a) is JVPTracer and a._trace is self:
                if tangents is None:
                    tangents = [None] * len(args)
                p = a.primal
                primals[i] = p.value() if type(p) is Pending else p
                tangents[i] = a.tangent
        if tangents is None:
            return self.in_parent(prim, primals, params)
        if self.lift is not None:
            self.lift(primals)
        if not prim.differentiable:             # (a lazy result begins the guard)
            return backend.watched(self.in_parent(prim, primals, params))
        scale = None
        for i, t in enumerate(tangents):
            if t is None:
                tangents[i] = Zero.like(primals[i])
            elif type(t) is Scaled:
                scale = _common_scale(tangents) if scale is None else scale
                if scale is not False:
                    tangents[i] = t.base
                elif not prim.scaled_tangents:
                    tangents[i] = t.value()
        lazy = None
        if self.lazy_ans and prim.jvp_with_ans is not None and not prim.vjp_uses_ans:
            owned = [None if type(t) is Zero else True for t in tangents]
            how = deferred_shape(prim, primals, owned, params)
            if how is not None:
                lazy = Pending(how[0], prim, primals, params, self.parent, 1)
        saved = _state.trace
        _state.trace = self.parent
        try:
            if lazy is None:
                ans, t_ans = prim.jvp(primals, tangents, **params)
            else:
                ans, t_ans = lazy, prim.jvp_with_ans(primals, tangents, lazy, **params)
            if _state.nan_checks:
                check_tangent(prim, tangents, t_ans)
        finally:
            _state.trace = saved
        if scale:
            # jvp rules are linear in the tangents: they ran on the bases; the common
            # factor moves to the output tangents (still unevaluated for large arrays)
            if prim.multiple_results:
                t_ans = [t if type(t) is Zero else materialize(scaled(t, scale))
                         for t in t_ans]
            elif type(t_ans) is not Zero:
                t_ans = scaled(t_ans, scale)
        if prim.multiple_results:
            return [self.wrap(a, t) for a, t in zip(ans, t_ans)]
        return self.wrap(ans, t_ans)

    def wrap(self, primal, tangent):
        if tangent is None or type(tangent) is Zero or not is_inexact(primal):
            return primal
        return JVPTracer(self, primal, tangent)


def _common_scale(tangents):
    """The factor shared by all pending-scale tangents if every non-zero tangent is one
    (it can then be taken out of a rule), else False (evaluate them)."""
    scale = None
    for t in tangents:
        if t is None or type(t) is Zero:
            continue
        if type(t) is not Scaled or (scale is not None and t.scale != scale):
            return False
        scale = t.scale
    return scale


def jvp_flat(fun, primals, tangents, lazy_outputs=False):
    """Push ``tangents`` through ``fun(*primals)``; returns (outs, out_tangents) lists.

    ``fun`` takes and returns flat lists of values. Output tangents that are
    symbolically zero come back as :class:`Zero`. With ``lazy_outputs`` (the caller
    discards the primal outputs), large elementwise primal values may be left
    unevaluated (``deferred.Pending``).
    """
    trace = JVPTrace(_state.trace)
    trace.lazy_ans = lazy_outputs and trace.parent is None and not _state.nan_checks
    ins = [JVPTracer(trace, p, t) if type(t) is not Zero else p
           for p, t in zip(primals, tangents)]
    with new_trace_context(trace):
        outs = fun(*ins)
    primals_out, tangents_out = [], []
    for o in outs:
        if type(o) is JVPTracer and o._trace is trace:
            primals_out.append(o.primal)
            tangents_out.append(materialize(o.tangent))
        else:
            primals_out.append(o)
            tangents_out.append(Zero.like(o))
    return primals_out, tangents_out


__all__ = ["JVPTrace", "JVPTracer", "jvp_flat"]
