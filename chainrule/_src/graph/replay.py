"""Compiled backward passes for tapes that recur.

A training loop calls the same ``value_and_grad`` on arrays of the same shapes again
and again. Each call runs the user's Python (the forward pass stays eager, so control
flow, printing and in-place updates behave as always) and records a tape; the tapes
of successive calls have the same *structure*: the same primitives with the same
parameters, wired the same way, on inputs and constants of the same shapes and dtypes.
The eager backward pass pays some Python per rule, which dominates on small arrays.

So the backward pass is keyed by that structure (:func:`signature`). The first time a
structure is seen it is walked eagerly; the second time the walk runs under the staging
trace (the rules run exactly as under ``jit``) and the resulting graph is compiled to
straight-line NumPy code by the jit's code generator; from then on a tape with that
structure is handed to the compiled code, which reads the values it needs (arguments,
outputs and seeds) from the new tape. Everything the generated code bakes in (shapes,
parameters, constants a rule created) is a function of the key: shapes follow from the
inputs' and constants' shapes, primitive by primitive. A rule that looked at a value
while staging left a guard; a failed guard falls back to the eager walk.

Only small programs are replayed: top-level reverse mode (not under another
transformation, debug_nans or deferred evaluation), no checkpoint or custom rules on
the tape, inputs and constant arrays below ``core.LAZY_SIZE`` elements, float64 /
complex128 / int64 / bool values (whose promotion does not depend on Python scalars
being weakly typed). Results agree with the eager walk's to rounding (the code
generator reassociates scalar factors).
"""
import collections
import threading

import numpy as np

from .. import core
from ..core import Zero, ShapeDtype, materialize, _state
from ..interpreters.staging import stage_flat, Literal
from .codegen import compile_graph, Retrace
from .ir import Graph

MAX_ENTRIES = 2000      # longer tapes are walked eagerly (compiling costs ~0.1 ms per entry)
MAXSIZE = 256           # structures remembered (least recently used dropped)
enabled = True          # tests switch replay off to compare against the eager walk

_OK = frozenset(np.dtype(t) for t in (np.float64, np.complex128, np.int64, np.bool_))
_SCALARS = (float, int, complex, bool)
_NEVER = "never"        # a structure that cannot be compiled (see _compile)
_cache = collections.OrderedDict()   # signature -> times seen (int), compiled, or _NEVER
_lock = threading.Lock()
stats = {"compiled": 0, "replayed": 0, "fallbacks": 0}


def _staged(n, a):
    """Whether the tape value ``a`` (an argument, ``n`` its node) becomes an input of
    the compiled code (True) or is baked into it and keyed by value (False)."""
    return n is not None or type(a) is np.ndarray or isinstance(a, np.generic)


def _code(n, a, put):
    """The key's code for argument ``a`` (``n`` its node), putting staged values."""
    if n is not None:
        put(a)      # a ShapeDtype too (the tape kept no array): _compile refuses those
        return n
    t = type(a)
    if t is np.ndarray:
        if a.size >= core.LAZY_SIZE:
            raise _Large
        put(a)
        return ("array", a.shape, a.dtype)
    if isinstance(a, np.generic):
        put(a)
        return ("scalar", t)
    # baked: a Python scalar (rules may branch on its type and value; 0.0 and -0.0
    # are equal keys but not the same constant) or another hashable constant
    return ("const", t, a, str(a)) if t is float and a == 0 else ("const", t, a)


class _Large(Exception):
    pass


def signature(tape, out_nodes, cts, in_vals):
    """``(key, values)`` for a tape, or None when it is not replayed.

    ``key`` is hashable and equal for two tapes exactly when one compiled backward pass
    serves both: one tuple per entry (primitive, parameters, one code per argument:
    the node for traced values, shape and dtype for constant
    arrays, type and value for Python scalars). ``values`` are the tape's values the
    compiled code reads, in order.
    """
    if len(tape) > MAX_ENTRIES:
        return None
    key, values = [], []
    app, put = key.append, values.append
    limit = core.LAZY_SIZE
    ndarray = np.ndarray
    for v in in_vals:
        t = type(v)
        if t is ndarray:
            if v.size >= limit:
                return None
            app((v.shape, v.dtype))
        else:
            app(t)
    try:
        for prim, params, nodes, args, res, out in tape:
            if prim.lean is not True and (prim.higher_order or prim.fwd is not None):
                return None
            p = tuple(params.items()) if params else None
            if None in nodes:               # constants: coded one by one
                app((prim, p) + tuple([_code(n, a, put) for n, a in zip(nodes, args)]))
            else:                           # all traced (the common case): their nodes
                app((prim, p, *nodes))
                values += args
            if res is not None:
                if prim.multiple_results:
                    values.extend(res)
                else:
                    put(res)
    except _Large:
        return None
    app("seeds")
    for n, c in zip(out_nodes, cts):
        if n is None or c is None or type(c) is Zero:
            app(None)
            continue
        t = type(c)
        if _unit_seed(c):                   # grad's seed: baked (its products fold)
            app((n, "one", t, getattr(c, "shape", ()), getattr(c, "dtype", None)))
            continue
        if t is ndarray:
            app((n, c.shape, c.dtype))
        elif t in _SCALARS or isinstance(c, np.generic):
            app((n, t))
        else:
            return None
        put(c)
    return tuple(key), values


def _unit_seed(c):
    """A seed that is the number 1 (grad's): the compiled code may take it as a constant
    (the key says so), and the rules' products with it are computed once, while staging
    (constant folding: the same operations, the same bits)."""
    t = type(c)
    if t is np.ndarray:
        return c.size == 1 and c.dtype.kind in "fc" and c.flat[0] == 1
    return (t is float or t is complex or isinstance(c, np.inexact)) and c == 1


def backward(trace, out_nodes, cts, in_nodes, in_vals):
    """The input cotangents by a compiled backward pass, or None (walk eagerly)."""
    sig = signature(trace.tape, out_nodes, cts, in_vals)
    if sig is None:
        return None
    key, values = sig
    try:
        entry = _cache.get(key)
    except TypeError:               # a parameter or constant that is not hashable
        return None
    if type(entry) is tuple:
        fn, mask = entry
        try:
            outs = fn(*values)
        except (Retrace, FloatingPointError):
            # a guard failed; or np.errstate(..., "raise") and the generic rules (which
            # may evaluate both sides of a safe point) met what the eager walk might
            # not: the eager walk decides
            stats["fallbacks"] += 1
            return None
        stats["replayed"] += 1
        if mask is None:
            return outs
        it = iter(outs)
        return [next(it) if m else None for m in mask]
    with _lock:
        if entry is None:
            _cache[key] = 1
            while len(_cache) > MAXSIZE:
                _cache.popitem(last=False)
            return None
    if entry is _NEVER:
        return None
    try:
        compiled, result = _compile(trace.tape, out_nodes, cts, in_nodes, values)
    except Exception:
        # e.g. a missing rule, or np.errstate(..., "raise") tripping on the generic
        # rules: the eager walk raises what it should (or succeeds); never compile this
        compiled, result = _NEVER, None
    with _lock:
        _cache[key] = compiled
        _cache.move_to_end(key)
    # the staged values (the eager walk's, as the code's); none where it was refused
    return None if compiled is _NEVER else result


def _compile(tape, out_nodes, cts, in_nodes, values):
    """Stage the walk of ``tape`` with ``values`` as inputs; returns (compiled entry or
    _NEVER, the input cotangents of this call)."""
    from ..interpreters.reverse import ReverseTrace, seed
    if any(type(v) is ShapeDtype for v in values):   # a large argument was not kept
        return _NEVER, None
    mask = []

    def replay(*vals):
        it = iter(vals)
        staged = []
        for prim, params, nodes, args, res, out in tape:
            args = [next(it) if _staged(n, a) else a for n, a in zip(nodes, args)]
            if res is not None:
                res = [next(it) for _ in res] if prim.multiple_results else next(it)
            staged.append((prim, params, nodes, args, res, out))
        store = {}
        seed(store, out_nodes, [None if n is None or c is None or type(c) is Zero
                                else c if _unit_seed(c) else next(it)
                                for n, c in zip(out_nodes, cts)])
        ReverseTrace(None).walk(staged, store)
        result = [materialize(store.get(n)) for n in in_nodes]
        mask[:] = [r is not None and type(r) is not Zero for r in result]
        return [r for r, m in zip(result, mask) if m]

    outs, in_vars, operands, eqns, guards = stage_flat(replay, values)
    it = iter(outs)
    result = [next(it) if m else None for m in mask]
    # the eager walk makes no pending scale factors (core.Scaled) on arrays this small, so
    # the code below computes what it computes, in the same order: the same bits
    limit = core.LAZY_SIZE
    ok = all(v.dtype in _OK for v in in_vars) and all(
        o.dtype in _OK and core.size_of(o.shape) < limit for e in eqns for o in e.outs)
    if not ok:
        return _NEVER, None
    fn = compile_graph(Graph(in_vars, eqns, operands, guards), own_outputs=True,
                       reassociate=False, free=False)
    stats["compiled"] += 1
    return (fn, None if all(mask) else tuple(mask)), result


def cache_clear():
    """Forget every remembered structure and compiled backward pass."""
    with _lock:
        _cache.clear()
