"""Compiled backward passes for tapes that recur.

A training loop calls the same ``value_and_grad`` on arrays of the same shapes again
and again. Each call runs the user's Python (the forward pass stays eager, so control
flow, printing and in-place updates behave as always) and records a tape; the tapes
of successive calls have the same *structure*: the same primitives with the same
parameters, wired the same way, on inputs and constants of the same shapes and dtypes.
The eager backward pass pays some Python per rule, which dominates on small arrays.

The API layer hands each top-level pullback to :func:`recurring`, which keys the tape by
its structure (:func:`tape_key`). The first ``COMPILE_AFTER - 1`` times a structure is
seen it is walked eagerly; the next time the walk runs under the staging trace (the
rules run exactly as under ``jit``) and the resulting graph is compiled to
straight-line NumPy code by the jit's code generator (about 15 eager backward passes'
worth of time); from then on a tape with that structure is handed to the compiled
code, which reads the values it needs (arguments, outputs, seeds) from the new tape's
records by name. Everything the generated code bakes in (shapes, parameters, constants
a rule created, grad's unit seed) is a function of the key: shapes follow from the
inputs' and constants' shapes, primitive by primitive. A rule that looked at a value
while staging left a guard; a failed guard falls back to the eager walk.

The key is built from the tape in a few passes in C (the records' primitives,
parameters and nodes, the inputs' types, shapes, dtypes and layouts) plus the codes of
the few constant arguments. A function that is differentiated again and again
(``hint``: the user's function) remembers the key it last replayed; a new tape's key is
compared with it (tuples compared in C) before the cache is asked (which hashes it).

Only small programs are replayed: top-level reverse mode (not under another
transformation, debug_nans or deferred evaluation), no checkpoint or custom rules on
the tape, array inputs of at least one dimension, C-contiguous values, inputs, constants
and intermediates below ``core.LAZY_SIZE`` elements, float64 / complex128 / int64 / bool
values (whose promotion does not depend on Python scalars being weakly typed). The
generated code computes what the eager walk computes, in its order, on the same memory
layouts (the code generator's exact mode: no reassociation, no rewrite that hands an input
on as an output, no buffer reuse; the eager walk makes no pending scale factors on arrays
this small), so results are the same bits.

What does not apply is counted in ``cache_info()`` with its reason: a structure that
is not compiled (and why), a guard that failed, a floating-point error under
``np.errstate`` (the eager walk decides what to raise). Where staging, code generation
or the compiled code raises and the eager walk does not, that is a failure: counted,
the eager result returned, and raised under ``config.update("compile_errors",
"raise")`` (the test suite's setting).

Threads share the cache (graph/cache.py): lookups take no lock, every change is made
under its lock re-reading the entry there. One thread compiles a structure (the entry
says ``_COMPILING`` meanwhile) while the others walk their tapes eagerly, with the same
results.
"""
import operator
import weakref
from itertools import compress, count, repeat

import numpy as np

from .. import core
from ..config import config
from ..core import Zero, ShapeDtype, _state
from ..interpreters.reverse import ReverseTrace, Record
from ..interpreters.staging import stage_flat
from .cache import CompileCache
from .codegen import compile_graph, Retrace
from .ir import Graph

MAX_ENTRIES = 2000      # longer tapes are walked eagerly (compiling costs ~0.05 ms per entry)
COMPILE_AFTER = 8       # compile a structure the 8th time it is seen (compiling costs about
                        # 15 eager backward passes: a program run a few times never pays it)

# key -> times seen (int), a _Compiled, _COMPILING or a _Never
cache = CompileCache(256)
_recent = {}            # id(hint) -> (weakref to hint, key, _Compiled): the structure the
                        # function last replayed (at most cache.maxsize; changed under
                        # cache.lock)

_OK = frozenset(np.dtype(t) for t in (np.float64, np.complex128, np.int64, np.bool_))
_SCALARS = (float, int, complex, bool)
_COMPILING = "compiling"    # a structure another thread is compiling (walk eagerly)


class _Never:
    """The entry of a structure that is not compiled, and why."""
    __slots__ = ("reason",)

    def __init__(self, reason):
        self.reason = reason


def cache_info():
    """The compiled backward passes' :class:`~.cache.CacheInfo`."""
    return cache.info()


def cache_clear():
    """Forget every structure seen and compiled backward pass (the counts stay)."""
    cache.clear()
    with cache.lock:
        _recent.clear()


def recurring(pullback, hint=None):
    """``backward(cts, consume=False)``: the backward pass of ``pullback`` (a
    :class:`~..interpreters.reverse.Pullback`), run by compiled code when its tape's
    structure recurs. ``hint`` is the user's function (whose last structure is
    remembered). Pullbacks recorded under another transformation, debug_nans or
    deferral are returned as they are."""
    if not pullback.trace.lean:
        return pullback

    def backward(cts, consume=False):
        if _state.trace is None and config.replay_backward:
            result = _replayed(pullback, cts, hint)
            if result is not None:
                if consume:
                    pullback.trace.tape.clear()
                return result
        return pullback(cts, consume)
    return backward


# ------------------------------------------------------------------ the key

class _Key:
    """The structure of a tape: a tuple of parts compared in C; hashed (once) only when
    the cache is asked. ``consts_at`` lists the (record, argument) positions of the
    constant arguments (a function of the nodes, which are part of the key)."""
    __slots__ = ("parts", "consts_at", "_hash")

    def __init__(self, parts, consts_at):
        self.parts, self.consts_at = parts, consts_at
        self._hash = None

    def __eq__(self, other):
        return self.parts == other.parts

    def __hash__(self):
        h = self._hash
        if h is None:
            prims, params, *rest = self.parts
            h = self._hash = hash((prims, tuple(map(frozenset, map(dict.items, params))),
                                   *rest))
        return h


# reverse.Record's fields, read in C (a checkpoint's record has no primitive: it fails
# the key)
_prim, _params, _nodes = (operator.itemgetter(Record._fields.index(f))
                          for f in ("prim", "params", "nodes"))
# an input's type, shape, dtype and layout (one C call each)
_in_code = operator.attrgetter("__class__", "shape", "dtype", "flags.c_contiguous")


def tape_key(tape, in_vals, out_nodes, cts, like=None):
    """The key of a tape, or None when it is not replayed: its records' primitives,
    parameters and argument nodes, the code of each constant argument
    (:func:`_const_code`), the inputs' types, shapes, dtypes and layouts, the seeds'
    codes. Two tapes with equal keys are served by one compiled backward pass. (Whether
    a key's structure can be compiled at all is decided once, when it is first seen:
    :func:`_refusal`.) ``like``: a key whose constants' positions are reused when the
    nodes are the same (a function remembers the key it last replayed)."""
    if len(tape) > MAX_ENTRIES:
        return None
    try:
        prims = tuple(map(_prim, tape))     # (a checkpoint's record has no primitive)
        nodes = tuple(map(_nodes, tape))
        ins = tuple(map(_in_code, in_vals))
        seeds = _seed_codes(out_nodes, cts)
    except (AttributeError, TypeError, _NotReplayed):  # (a Python scalar has no shape)
        return None
    if like is not None and like.parts[2] == nodes:
        at = like.consts_at
    else:
        at = [(k, j) for k in compress(count(), map(operator.contains, nodes, repeat(None)))
              for j, n in enumerate(nodes[k]) if n is None]
    consts = tuple([_const_code(tape[k].args[j]) for k, j in at])
    return _Key((prims, tuple(map(_params, tape)), nodes, consts, ins, seeds), at)


def _matches(key, tape, in_vals, out_nodes, cts):
    """Whether ``tape_key(tape, in_vals, out_nodes, cts) == key`` (the structure a
    function last replayed, which its next tape usually has), without building the new
    key: the parts compared one at a time, the cheap ones first."""
    prims, params, nodes, consts, ins, seeds = key.parts
    if len(tape) != len(prims):
        return False
    try:
        if tuple(map(_prim, tape)) != prims or tuple(map(_nodes, tape)) != nodes or \
                tuple(map(_in_code, in_vals)) != ins or \
                tuple(map(_params, tape)) != params or _seed_codes(out_nodes, cts) != seeds:
            return False
        return tuple([_const_code(tape[k].args[j]) for k, j in key.consts_at]) == consts
    except (AttributeError, TypeError, ValueError, _NotReplayed):
        # (a checkpoint's record; a Python scalar input; an array where a number was)
        return False


class _NotReplayed(Exception):
    """A value that takes a tape out of replay (a seed of an unknown type)."""


def _const_code(a):
    """The key's code of a constant argument: shape, dtype and layout of an array and
    type of a NumPy scalar (the compiled code reads them from the tape), type and value
    of anything else (baked into the code)."""
    t = type(a)
    if t is np.ndarray:
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
    """Whether the compiled code reads argument ``a`` from the tape (see _const_code)."""
    return n is not None or type(a) is np.ndarray or isinstance(a, np.generic)


def _unit_seed(c):
    """A real seed that is the number 1 (grad's): the compiled code takes it as a
    constant (the key says so), and the rules' products with it are computed once, while
    staging (constant folding: the same operations, the same bits)."""
    t = type(c)
    if t is np.ndarray:
        return c.size == 1 and c.dtype.kind == "f" and c.flat[0] == 1
    return (t is float or isinstance(c, np.floating)) and c == 1


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
            raise _NotReplayed
    return tuple(out)


def _refusal(key):
    """Why a tape of structure ``key`` is never compiled, or None. Only arrays of at
    least one dimension are replayed as inputs: rules branch on the Python type of
    scalar values (``x ** p`` with a Python float ``p`` takes shortcuts a staged value
    cannot), and the code generator does not keep NumPy scalars apart from 0-d arrays.
    (Layouts: NumPy's reductions add in memory order, and the layouts of every value in
    the tape follow from the inputs' and the constants'.)"""
    _, _, _, consts, ins, _ = key.parts
    shapes = [c[1] for c in ins]
    if any(c[0] is not np.ndarray for c in ins) or () in shapes:
        return "an input that is not an array of at least one dimension"
    limit = core.LAZY_SIZE
    if any(core.size_of(s) >= limit for s in shapes) or \
            any(c[0] == "array" and core.size_of(c[1]) >= limit for c in consts):
        return f"an input or constant of at least core.LAZY_SIZE ({limit}) elements"
    return None


# ------------------------------------------------------------------ lookup and run

def _replayed(pullback, cts, hint):
    """The input cotangents by a compiled backward pass, or None (walk eagerly)."""
    memo = _recent.get(id(hint)) if hint is not None else None
    if memo is not None and memo[0]() is not hint:
        memo = None
    tape = pullback.trace.tape
    if memo is not None and _matches(memo[1], tape, pullback.primals, pullback.out_nodes,
                                     cts):
        return _run(memo[2], memo[1], pullback, cts)
    key = tape_key(tape, pullback.primals, pullback.out_nodes, cts,
                   memo[1] if memo is not None else None)
    if key is None:
        return None
    if not _plain.issuperset(key.parts[0]) and not _all_plain(key.parts[0]):
        return None                 # (custom rules: nothing stored, nothing kept alive)
    try:
        entry = cache.get(key)
    except TypeError:               # a parameter that is not hashable
        return None
    if type(entry) is _Compiled:
        _remember(hint, key, entry)
        return _run(entry, key, pullback, cts)
    if entry is _COMPILING or type(entry) is _Never:
        cache.count("misses")
        return None
    mine = []                       # whether this thread is to compile it

    def seen(now):                  # (under the lock: another thread may have changed it)
        if now is None:
            refused = _refusal(key)     # (decided once, at the first sighting)
            if refused is not None:
                return _Never(refused)
        elif type(now) is not int:
            return now
        n = (now or 0) + 1
        if n < COMPILE_AFTER:
            return n
        mine.append(True)
        return _COMPILING
    now = cache.update(key, seen)
    if mine:
        return _compile_and_run(key, pullback, cts, hint)
    if type(now) is _Compiled:
        return _run(now, key, pullback, cts)
    cache.count("misses", f"a tape structure seen {now} time(s): compiled when seen "
                          f"{COMPILE_AFTER} times" if type(now) is int else
                          f"not compiled: {now.reason}" if type(now) is _Never else
                          "another thread compiles this structure")
    return None


# primitives without a user function in their parameters (not higher order, no fwd):
# tapes of others are never compiled, and their keys (whose parameters hold the user's
# functions, new ones each call) are never stored
_plain = set()


def _all_plain(prims):
    for p in set(prims):
        if p.higher_order or p.fwd is not None:
            return False
        _plain.add(p)
    return True


def _run(compiled, key, pullback, cts):
    try:
        outs = compiled.fn(pullback.trace.tape, cts)
    except Retrace:
        cache.count("retraces", "a guard failed (a rule read a value): walked eagerly")
        return None
    except FloatingPointError:
        # np.errstate(..., "raise") and the generic rules (which may evaluate both sides
        # of a where) met what the eager walk's concrete fast paths avoid: the
        # eager walk decides (and raises whatever it should)
        cache.count("fallbacks", "a floating-point error under np.errstate: walked "
                                 "eagerly")
        return None
    except Exception as e:          # noqa: BLE001 - the eager walk decides: see _failed
        return _failed(pullback, cts, "running a compiled backward pass", e)
    cache.hit(key)
    if compiled.mask is None:
        return outs
    it = iter(outs)
    return [next(it) if m else None for m in compiled.mask]


def _failed(pullback, cts, what, exc):
    """Compiled code (or compiling) raised ``exc``: the eager walk's result, or what it
    raises. Only where the eager walk succeeds is it a failure (counted, and raised
    under ``compile_errors="raise"``)."""
    result = pullback(cts)
    cache.failed(what, exc)
    return result


class _Compiled:
    """A compiled backward pass: ``fn(tape, cts)`` -> the input cotangents that are
    not None (``mask``: which)."""
    __slots__ = ("fn", "mask")

    def __init__(self, fn, mask):
        self.fn, self.mask = fn, mask


def _remember(hint, key, compiled):
    if hint is None:
        return
    try:
        ref = weakref.ref(hint)
    except TypeError:               # a hint that cannot be weakly referenced
        return
    with cache.lock:
        _recent[id(hint)] = (ref, key, compiled)
        while len(_recent) > cache.maxsize:
            del _recent[next(iter(_recent))]


def _compile_and_run(key, pullback, cts, hint):
    """Compile the structure ``key`` (this thread marked it _COMPILING), store it and
    run it on ``pullback``'s tape (None: walk eagerly)."""
    try:
        # any floating-point event while staging refuses the structure: operations on
        # constants are done once, now, and would not warn or raise when replayed
        with np.errstate(all="raise"):
            compiled = _compile(pullback, cts)
    except FloatingPointError:
        compiled = _Never("a floating-point event while staging (constants are folded "
                          "then)")
    except Exception as e:          # noqa: BLE001 - the eager walk decides: see _failed
        never = _Never(f"staging or compiling raised {e!r}")
        cache.update(key, lambda now: never)
        return _failed(pullback, cts, "compiling a backward pass", e)
    except BaseException:           # (KeyboardInterrupt: let a later call compile)
        cache.update(key, lambda now: None if now is _COMPILING else now)
        raise
    cache.update(key, lambda now: compiled)
    if type(compiled) is _Never:
        cache.count("misses", f"not compiled: {compiled.reason}")
        return None
    cache.count("compiled")
    _remember(hint, key, compiled)
    return _run(compiled, key, pullback, cts)  # (not the staged values: some are constants)


def _compile(pullback, cts):
    """Stage the walk of ``pullback``'s tape; returns a _Compiled or a _Never."""
    tape, out_nodes, in_nodes = pullback.trace.tape, pullback.out_nodes, pullback.in_nodes
    # what the code reads, and where it finds it in a tape ``t`` and the seeds ``s``
    values, exprs = [], []
    for k, rec in enumerate(tape):
        prim, res = rec.prim, rec.res
        for j, (n, a) in enumerate(zip(rec.nodes, rec.args)):
            if _read(n, a):
                if type(a) is ShapeDtype:   # a large argument was not kept
                    return _Never("a large argument whose value the tape does not keep")
                if type(a) is np.ndarray and not a.flags.c_contiguous:
                    return _Never("a value that is not C-contiguous")
                values.append(a)
                exprs.append(f"t[{k}].args[{j}]")
        if res is not None:
            outs = res if prim.multiple_results else [res]
            if any(type(r) is np.ndarray and not r.flags.c_contiguous for r in outs):
                return _Never("a value that is not C-contiguous")
            if prim.multiple_results:
                values.extend(res)
                exprs.extend(f"t[{k}].res[{m}]" for m in range(len(res)))
            else:
                values.append(res)
                exprs.append(f"t[{k}].res")
    for i, (n, c) in enumerate(zip(out_nodes, cts)):
        if n is not None and c is not None and type(c) is not Zero and not _unit_seed(c):
            values.append(c)
            exprs.append(f"s[{i}]")
    mask = []

    def replay(*vals):
        it = iter(vals)
        staged = []
        for rec in tape:
            args = [next(it) if _read(n, a) else a for n, a in zip(rec.nodes, rec.args)]
            res = rec.res
            if res is not None:
                res = [next(it) for _ in res] if rec.prim.multiple_results else next(it)
            staged.append(rec._replace(args=args, res=res))
        fresh = ReverseTrace(None)              # a trace walking the staged tape
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
    if not all(v.dtype in _OK for v in in_vars) or not all(
            o.dtype in _OK for e in eqns for o in e.outs):
        return _Never("a value of a dtype other than float64, complex128, int64, bool")
    if not all(core.size_of(o.shape) < limit for e in eqns for o in e.outs) or \
            not all(core.size_of(x.shape) < limit for e in eqns for x in e.ins):
        return _Never(f"an intermediate of at least core.LAZY_SIZE ({limit}) elements")
    fn = compile_graph(Graph(in_vars, eqns, operands, guards), own_outputs=True,
                       reassociate=False, free=False, reads=(("t", "s"), exprs))
    return _Compiled(fn, None if all(mask) else tuple(mask))
