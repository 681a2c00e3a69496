"""Compiled backward passes for tapes that recur.

A training loop calls the same ``value_and_grad`` on arrays of the same shapes again
and again. Each call runs the user's Python (the forward pass stays eager, so control
flow, printing and in-place updates behave as always) and records a tape; the tapes
of successive calls have the same *structure*: the same primitives with the same
parameters, wired the same way, on inputs and constants of the same shapes and dtypes.
The eager backward pass pays some Python per rule, which dominates on small arrays.

So the backward pass is keyed by that structure (:func:`signature`). The first
``COMPILE_AFTER - 1`` times a structure is seen it is walked eagerly; the next time the
walk runs under the staging trace (the rules run exactly as under ``jit``) and the
resulting graph is compiled to straight-line NumPy code by the jit's code generator
(about 15 eager backward passes' worth of time); from then on a tape with that structure
is handed to the compiled code, which reads the values it needs (arguments,
outputs, seeds) straight from the new tape. Everything the generated code bakes in
(shapes, parameters, constants a rule created, grad's unit seed) is a function of the
key: shapes follow from the inputs' and constants' shapes, primitive by primitive. A
rule that looked at a value while staging left a guard; a failed guard falls back to
the eager walk.

A function that is differentiated again and again (``hint``: the user's function)
remembers the structure it last replayed (:class:`_Template`), and a tape is first
compared with that: list comparisons in C instead of a key built entry by entry.

Only small programs are replayed: top-level reverse mode (not under another
transformation, debug_nans or deferred evaluation), no checkpoint or custom rules on
the tape, array inputs of at least one dimension, C-contiguous values, inputs, constants
and intermediates below ``core.LAZY_SIZE`` elements, float64 / complex128 / int64 / bool
values (whose promotion does not depend on Python scalars being weakly typed). The
generated code computes what the eager walk computes, in its order, on the same memory
layouts (the code generator's exact mode: no reassociation, no rewrite that hands an input
on as an output, no buffer reuse; the eager walk makes no pending scale factors on arrays
this small), so results are the same bits.

Threads share the cache. Reads take no lock (a dict lookup, a template compared); every
change (a count, a compiled pass, an eviction, the memo, the counters in ``stats``)
happens under ``_lock``, re-reading the entry there. One thread compiles a structure
(the entry says ``_COMPILING`` meanwhile) while the others walk their tapes eagerly,
with the same results.
"""
import collections
import operator
import threading
import weakref

import numpy as np

from .. import core
from ..core import Zero, ShapeDtype
from ..interpreters.staging import stage_flat
from .codegen import compile_graph
from .ir import Graph

MAX_ENTRIES = 2000      # longer tapes are walked eagerly (compiling costs ~0.05 ms per entry)
COMPILE_AFTER = 8       # compile a structure the 8th time it is seen (compiling costs about
                        # 15 eager backward passes: a program run a few times never pays it)
MAXSIZE = 256           # structures remembered (least recently used dropped)
enabled = True          # tests switch replay off to compare against the eager walk

_OK = frozenset(np.dtype(t) for t in (np.float64, np.complex128, np.int64, np.bool_))
_SCALARS = (float, int, complex, bool)
_NEVER = "never"        # a structure that cannot be compiled (see _compile)
_COMPILING = "compiling"    # a structure another thread is compiling (walk eagerly)
_cache = collections.OrderedDict()   # key -> times seen (int), _Compiled, _COMPILING
                                     # or _NEVER
_recent = {}            # id(hint) -> _Template of the structure it last replayed
_lock = threading.Lock()    # every change of _cache, _recent and stats
stats = {"compiled": 0, "replayed": 0, "matched": 0, "fallbacks": 0}


class _NotReplayed(Exception):
    """A value that takes a tape out of replay (too large, a scalar input, ...)."""


def _code(n, a):
    """The key's code for argument ``a`` (``n`` its node): the node of a traced value,
    shape and dtype of a constant array, type of a NumPy scalar (all read from the tape
    by the compiled code), type and value of anything else (baked into the code)."""
    if n is not None:
        return n
    t = type(a)
    if t is np.ndarray:
        if a.size >= core.LAZY_SIZE:
            raise _NotReplayed
        return ("array", a.shape, a.dtype, a.flags.c_contiguous)
    if isinstance(a, np.generic):
        return ("scalar", t)
    # a Python scalar (rules may branch on its type and value) or another hashable
    # constant; 0.0 and -0.0 are equal keys but not the same constant (str tells them
    # apart, in complex numbers and tuples too)
    if t is float:
        return ("const", t, a, str(a)) if a == 0 else ("const", t, a)
    if t is complex or t is tuple:
        return ("const", t, a, str(a))
    return ("const", t, a)


def _read(n, a):
    """Whether the compiled code reads argument ``a`` from the tape (see _code)."""
    return n is not None or type(a) is np.ndarray or isinstance(a, np.generic)


def _unit_seed(c):
    """A real seed that is the number 1 (grad's): the compiled code takes it as a
    constant (the key says so), and the rules' products with it are computed once, while
    staging (constant folding: the same operations, the same bits)."""
    t = type(c)
    if t is np.ndarray:
        return c.size == 1 and c.dtype.kind == "f" and c.flat[0] == 1
    return (t is float or isinstance(c, np.floating)) and c == 1


def _input_codes(in_vals):
    """The inputs' shapes, dtypes and layouts. Only arrays of at least one dimension
    are replayed: rules branch on the Python type of scalar values (``x ** p`` with a
    Python float ``p`` takes shortcuts a staged value cannot), and the code generator
    does not keep NumPy scalars apart from 0-d arrays. (Layouts: NumPy's reductions add
    in memory order, and the layouts of every value in the tape follow from the inputs'
    and the constants'.)"""
    out = []
    for v in in_vals:
        if type(v) is not np.ndarray or not v.shape or v.size >= core.LAZY_SIZE:
            raise _NotReplayed
        out.append((v.shape, v.dtype, v.flags.c_contiguous))
    return out


def _seed_codes(out_nodes, cts):
    out = []
    for n, c in zip(out_nodes, cts):
        t = type(c)
        if n is None or c is None or t is Zero:
            out.append(None)
        elif _unit_seed(c):
            out.append((n, "one", t, getattr(c, "shape", ()), getattr(c, "dtype", None)))
        elif t is np.ndarray:
            out.append((n, c.shape, c.dtype))
        elif t in _SCALARS or isinstance(c, np.generic):
            out.append((n, t))
        else:
            raise _NotReplayed                    # (not replayed)
    return out


def signature(tape, out_nodes, cts, in_vals):
    """The key of a tape (hashable unless a parameter or constant is not), or None
    when it is not replayed: the inputs' shapes and dtypes, one tuple per entry
    (primitive, parameters, one :func:`_code` per argument), the seeds'. Two tapes
    with equal keys are served by one compiled backward pass."""
    if len(tape) > MAX_ENTRIES:
        return None
    try:
        key = _input_codes(in_vals)
        app = key.append
        for prim, params, nodes, args, res, out in tape:
            if prim.lean is not True and (prim.higher_order or prim.fwd is not None):
                return None
            p = tuple(params.items()) if params else None
            if None in nodes:               # constants: coded one by one
                app((prim, p) + tuple([_code(n, a) for n, a in zip(nodes, args)]))
            else:                           # all traced (the common case): their nodes
                app((prim, p, *nodes))
        app("seeds")
        key += _seed_codes(out_nodes, cts)
    except _NotReplayed:
        return None
    return tuple(key)


class _Compiled:
    """A compiled backward pass: ``fn(tape, cts)`` -> the input cotangents that are
    not None (``mask``: which)."""
    __slots__ = ("fn", "mask")

    def __init__(self, fn, mask):
        self.fn, self.mask = fn, mask

    def run(self, tape, cts, matched=0):
        try:
            outs = self.fn(tape, cts)
        except Exception:
            # a guard failed (Retrace); or np.errstate(..., "raise") and the generic
            # rules (which may evaluate both sides of a safe point) met what the eager
            # walk's concrete fast paths avoid: the eager walk decides (and raises
            # whatever it should)
            with _lock:
                stats["fallbacks"] += 1
                stats["matched"] += matched
            return None
        with _lock:
            stats["replayed"] += 1
            stats["matched"] += matched
        if self.mask is None:
            return outs
        it = iter(outs)
        return [next(it) if m else None for m in self.mask]


_first, _second, _third = (operator.itemgetter(i) for i in range(3))


class _Template:
    """A replayed structure, in a form a tape is compared with quickly: the entries'
    primitives, parameters and nodes as lists (compared in C), the codes of the few
    constant arguments, the inputs' types, shapes and dtypes, the seeds' codes. A tape
    that matches has this structure's key (the same facts, compared instead of
    collected)."""
    __slots__ = ("ref", "prims", "params", "nodes", "consts", "in_types", "in_shapes",
                 "in_dtypes", "in_layouts", "seeds", "compiled")

    def __init__(self, hint, tape, in_vals, out_nodes, cts, compiled):
        self.ref = weakref.ref(hint)
        self.prims = list(map(_first, tape))
        self.params = list(map(_second, tape))
        self.nodes = list(map(_third, tape))
        self.consts = [(k, j, _code(None, a)) for k, e in enumerate(tape) if None in e[2]
                       for j, (n, a) in enumerate(zip(e[2], e[3])) if n is None]
        self.in_types = list(map(type, in_vals))
        self.in_shapes = list(map(_shape, in_vals))
        self.in_dtypes = list(map(_dtype, in_vals))
        self.in_layouts = list(map(_layout, in_vals))
        self.seeds = _seed_codes(out_nodes, cts)
        self.compiled = compiled

    def matches(self, tape, in_vals, out_nodes, cts):
        if len(tape) != len(self.prims) or list(map(_first, tape)) != self.prims or \
                list(map(_third, tape)) != self.nodes or \
                list(map(type, in_vals)) != self.in_types:
            return False
        try:
            if list(map(_second, tape)) != self.params:
                return False
            # (all arrays, as _input_codes requires; sizes follow from the shapes)
            if list(map(_shape, in_vals)) != self.in_shapes or \
                    list(map(_dtype, in_vals)) != self.in_dtypes or \
                    list(map(_layout, in_vals)) != self.in_layouts:
                return False
            for k, j, code in self.consts:
                if _code(None, tape[k][3][j]) != code:
                    return False
            return _seed_codes(out_nodes, cts) == self.seeds
        except (_NotReplayed, ValueError, TypeError):   # e.g. an array where a number was
            return False


_shape, _dtype = operator.attrgetter("shape"), operator.attrgetter("dtype")
_layout = operator.attrgetter("flags.c_contiguous")


def backward(trace, out_nodes, cts, in_nodes, in_vals, hint=None):
    """The input cotangents by a compiled backward pass, or None (walk eagerly)."""
    tape = trace.tape
    if hint is not None:
        t = _recent.get(id(hint))
        if t is not None and t.ref() is hint and t.matches(tape, in_vals, out_nodes, cts):
            return t.compiled.run(tape, cts, 1)
    key = signature(tape, out_nodes, cts, in_vals)
    if key is None:
        return None
    try:
        entry = _cache.get(key)
    except TypeError:               # a parameter or constant that is not hashable
        return None
    if type(entry) is not _Compiled:
        if entry is _NEVER or entry is _COMPILING:
            return None
        with _lock:
            entry = _cache.get(key)     # (again: another thread may have changed it)
            count = entry is None or type(entry) is int
            if count:
                seen = (entry or 0) + 1
                if seen < COMPILE_AFTER:
                    _cache[key] = seen
                    if entry is None:
                        _evict()
                    return None
                _cache[key] = _COMPILING    # this thread compiles it, the others walk
        if count:
            return _compile_and_run(key, trace, out_nodes, cts, in_nodes, hint, in_vals)
        if type(entry) is not _Compiled:
            return None                 # _NEVER, or another thread compiles it
    _remember(hint, tape, in_vals, out_nodes, cts, entry)
    return entry.run(tape, cts)


def _evict():
    """Drop the least recently stored structures beyond MAXSIZE (holding _lock)."""
    while len(_cache) > MAXSIZE:
        _cache.popitem(last=False)


def _compile_and_run(key, trace, out_nodes, cts, in_nodes, hint, in_vals):
    """Compile the structure ``key`` (this thread marked it _COMPILING), store it and
    run it on ``trace``'s tape (None: walk eagerly)."""
    tape = trace.tape
    try:
        # any floating-point event while staging refuses the structure: operations on
        # constants are done once, now, and would not warn or raise when replayed
        with np.errstate(all="raise"):
            compiled = _compile(trace, out_nodes, cts, in_nodes)
    except Exception:
        # that, or e.g. a missing rule: the eager walk raises what it should (or
        # succeeds); this structure is never compiled
        compiled = _NEVER
    except BaseException:               # (KeyboardInterrupt: let a later call compile)
        with _lock:
            if _cache.get(key) is _COMPILING:
                del _cache[key]
        raise
    with _lock:
        _cache[key] = compiled
        _cache.move_to_end(key)
        _evict()
        if compiled is not _NEVER:
            stats["compiled"] += 1
    if compiled is _NEVER:
        return None
    _remember(hint, tape, in_vals, out_nodes, cts, compiled)
    return compiled.run(tape, cts)  # (not the staged values: some are the code's constants)


def _remember(hint, tape, in_vals, out_nodes, cts, compiled):
    if hint is None:
        return
    try:
        t = _Template(hint, tape, in_vals, out_nodes, cts, compiled)
    except TypeError:               # a hint that cannot be weakly referenced
        return
    with _lock:
        _recent[id(hint)] = t
        while len(_recent) > MAXSIZE:
            del _recent[next(iter(_recent))]


def _compile(trace, out_nodes, cts, in_nodes):
    """Stage the walk of ``trace``'s tape; returns a _Compiled or _NEVER."""
    tape = trace.tape
    # what the code reads, and where it finds it in a tape ``t`` and the seeds ``s``
    values, exprs = [], []
    for k, (prim, params, nodes, args, res, out) in enumerate(tape):
        for j, (n, a) in enumerate(zip(nodes, args)):
            if _read(n, a):
                if type(a) is ShapeDtype:   # a large argument was not kept
                    return _NEVER
                if type(a) is np.ndarray and not a.flags.c_contiguous:
                    return _NEVER           # (see _input_codes: layouts)
                values.append(a)
                exprs.append(f"t[{k}][3][{j}]")
        if res is not None:
            outs = res if prim.multiple_results else [res]
            if any(type(r) is np.ndarray and not r.flags.c_contiguous for r in outs):
                return _NEVER
            if prim.multiple_results:
                values.extend(res)
                exprs.extend(f"t[{k}][4][{m}]" for m in range(len(res)))
            else:
                values.append(res)
                exprs.append(f"t[{k}][4]")
    for i, (n, c) in enumerate(zip(out_nodes, cts)):
        if n is not None and c is not None and type(c) is not Zero and not _unit_seed(c):
            values.append(c)
            exprs.append(f"s[{i}]")
    mask = []

    def replay(*vals):
        it = iter(vals)
        staged = []
        for prim, params, nodes, args, res, out in tape:
            args = [next(it) if _read(n, a) else a for n, a in zip(nodes, args)]
            if res is not None:
                res = [next(it) for _ in res] if prim.multiple_results else next(it)
            staged.append((prim, params, nodes, args, res, out))
        fresh = type(trace)(None)               # a ReverseTrace walking the staged tape
        fresh.tape = staged
        result = fresh.backward(out_nodes, [
            None if n is None or c is None or type(c) is Zero else
            (c.copy() if type(c) is np.ndarray else c) if _unit_seed(c)   # not the caller's
            else next(it) for n, c in zip(out_nodes, cts)], in_nodes)
        mask[:] = [r is not None and type(r) is not Zero for r in result]
        return [r for r, m in zip(result, mask) if m]

    _, in_vars, operands, eqns, guards = stage_flat(replay, values)
    # arrays this small get no pending scale factors in the eager walk (core.Scaled), so
    # the code computes what it computes, in its order
    limit = core.LAZY_SIZE
    ok = all(v.dtype in _OK for v in in_vars) and all(
        o.dtype in _OK and core.size_of(o.shape) < limit for e in eqns for o in e.outs) \
        and all(core.size_of(x.shape) < limit for e in eqns for x in e.ins)
    if not ok:
        return _NEVER
    fn = compile_graph(Graph(in_vars, eqns, operands, guards), own_outputs=True,
                       reassociate=False, free=False, reads=(("t", "s"), exprs))
    return _Compiled(fn, None if all(mask) else tuple(mask))


def cache_clear():
    """Forget every remembered structure and compiled backward pass."""
    with _lock:
        _cache.clear()
        _recent.clear()
