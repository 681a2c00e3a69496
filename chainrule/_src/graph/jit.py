"""jit: stage once per (argument structure, shapes, dtypes, static values), then
replay the compiled Graph.

Python control flow that read a traced value while tracing became guards; a call
whose guards fail re-traces (and the new variant is cached beside the old one). The
variants live in a :class:`~.cache.CompileCache` under the key of the call's arguments
(:func:`~.cache.signature`): bounded, the least recently used dropped first;
``cache_info()`` says what happened and why each miss occurred. :class:`Staged` is the
machinery, which ``linearize`` shares.

Threads may call one jitted function at once. Each key's variants are an immutable
tuple, replaced (never changed in place) under the cache's lock, so a call reads the
cache without locking and never sees a half-made change; tracing and compiling run
outside the lock (they run the user's code).

Under another transformation (``grad(jit(f))``, ``vmap(jit(f))``) the function runs
inline, so the outer transformation sees its primitives; ``jit(grad(f))`` and
``jit(vmap(f))`` stage the transformed program.
"""
import functools
import warnings

import numpy as np

from .. import backend, core
from ..core import _state, size_of
from ..tree_util import tree_flatten, tree_unflatten
from ..argcheck import (check_callable, static_argnums_tuple, static_positions,
                        check_static_argnames, reconcile_static)
from ..interpreters.staging import Literal
from .cache import CompileCache, signature
from .environment import Environment, reachable_arrays
from .codegen import compile_graph, Retrace, HasInfinity
from .make import trace_to_graph


def jit(fun, static_argnums=(), static_argnames=(), maxsize=32):
    """Compile ``fun`` by staging it and replaying straight-line NumPy code.

    Parameters
    ----------
    fun : callable
    static_argnums : int or tuple of ints
        Positional arguments treated as compile-time constants (hashable; a new
        value traces again). Positions ``fun``'s signature does not have raise
        ValueError here; a static argument a call leaves out keeps its default.
    static_argnames : str or tuple of str
        Keyword arguments treated the same way (names ``fun`` does not take raise
        ValueError). As in JAX, a static parameter is static whether it is passed by
        position or by name.
    maxsize : int
        Number of compiled variants kept (the least recently used are dropped first).

    Returns
    -------
    callable
        With ``cache_info()``, ``cache_clear()`` and ``lower(*args)`` (the Graph and
        generated source of the variant for those arguments).

    Notes
    -----
    Side effects of ``fun`` (printing, NumPy random numbers, appending to lists) happen
    while tracing; a replay reuses what they produced then. Arrays ``fun`` closes over
    (or reaches through globals, defaults and the objects it holds) are read on every
    call, as NumPy would read them: writing into them between calls is seen. A name it
    reads that is rebound between calls (a global or closed-over number or array, an
    attribute, a dict item), or a small array it read with NumPy itself while traced
    (``a[0]``) that changed, traces again (graph/environment.py). A guard that keeps failing
    (Python control flow reading a value that changes on every call) re-traces every
    time; after 10 such re-traces a warning says so. A program that fails to compile
    runs uncompiled (counted in ``cache_info().failures``; raised under
    ``chainrule.config.update("compile_errors", "raise")``).
    """
    check_callable(fun, "jit")
    if isinstance(maxsize, bool) or not isinstance(maxsize, (int, np.integer)) or \
            maxsize < 1:
        raise ValueError(f"jit: maxsize must be a positive int, got {maxsize!r}")
    static_nums, static_names = reconcile_static(
        fun, static_argnums_tuple(fun, static_argnums, "jit"),
        check_static_argnames(fun, static_argnames, "jit"))
    staged = Staged(fun, "jit", maxsize, static_nums, static_names)

    @functools.wraps(fun)
    def jitted(*args, **kwargs):
        if _state.trace is not None:        # inside another transformation: run inline
            return fun(*args, **kwargs)
        return staged(args, kwargs)

    jitted.cache_info = staged.cache.info
    jitted.cache_clear = staged.cache.clear
    jitted.lower = staged.lower
    return jitted


class _Variant:
    """A compiled program and its Graph; ``fn`` None where compiling it failed (calls
    then run the function uncompiled)."""
    __slots__ = ("fn", "graph", "writes", "env", "fp_raise")

    def __init__(self, fn, graph, env=None):
        self.fn, self.graph = fn, graph
        # what the function reads besides its arguments, as traced (None: nothing to
        # check; graph/environment.py)
        self.env = env
        # the arguments it writes into (None: none; graph/make.trace_to_graph)
        self.writes = getattr(graph, "writes", None) or None
        # an operation ran under np.errstate(..., "raise"/"call") while traced (the
        # function's own, around a try/except FloatingPointError): the compiled program
        # runs under errstate "raise", and a floating-point event runs the function
        self.fp_raise = getattr(graph, "fp_raise", False)


class Staged:
    """``fun`` compiled per argument signature (graph/cache.py): the machinery of jit,
    which linearize shares. Each key of the cache holds a tuple of variants (one per
    set of guards that held while tracing), replaced whole, never changed in place, so
    a call reads it without locking."""

    def __init__(self, fun, name, maxsize, static_nums=(), static_names=(),
                 own_outputs=False, live=True):
        # live: read the arrays fun can reach on every call (jit; linearize folds the
        # primal work at its point instead)
        self.fun, self.name, self.own_outputs, self.live = fun, name, own_outputs, live
        self.label = f"{name}({getattr(fun, '__name__', 'fun')})"     # (in messages)
        self.static_nums, self.static_names = static_nums, static_names
        self.cache = CompileCache(maxsize, weight=len)

    def split(self, args, kwargs):
        """(key, flat dynamic leaves, static positions, static keywords, dynamic
        keywords) of a call."""
        if not self.static_nums and not self.static_names:
            key, flat = signature(args, kwargs)
            return key, flat, (), {}, kwargs
        nums = static_positions(self.static_nums, len(args), "jit") if self.static_nums \
            else ()
        static_kw = {k: kwargs[k] for k in self.static_names if k in kwargs}
        static = tuple((i, args[i]) for i in nums) + tuple(static_kw.items())
        dyn_args = tuple([a for i, a in enumerate(args) if i not in nums]) if nums else args
        dyn_kwargs = {k: v for k, v in kwargs.items() if k not in self.static_names} \
            if kwargs else kwargs
        key, flat = signature(dyn_args, dyn_kwargs, static)
        return key, flat, nums, static_kw, dyn_kwargs

    def __call__(self, args, kwargs):
        key, flat, nums, static_kw, dyn_kw = self.split(args, kwargs)
        cache = self.cache
        try:
            variants = cache.get(key)       # (a tuple: never changed in place)
        except TypeError:
            raise TypeError(f"{self.name}: static arguments must be hashable") from None
        stale = ()
        if variants is not None:
            for v in variants:
                if v.env is not None and not v.env.holds():
                    stale += (v,)           # (a name rebound, a copied array written)
                    continue
                if v.fn is None:            # failed to compile: run uncompiled
                    cache.hit(key, "fallbacks")
                    return self.fun(*args, **kwargs)
                if v.writes is not None and not _may_write(v.writes, flat):
                    cache.count("fallbacks", _UNWRITABLE)
                    return self.fun(*args, **kwargs)
                try:
                    if v.fp_raise:
                        with np.errstate(all="raise"):
                            outs = v.fn(*flat)
                    else:
                        outs = v.fn(*flat)
                except HasInfinity:         # (reassociated sums: NumPy's order decides)
                    cache.count("fallbacks", "an infinity where the compiled code adds "
                                             "reassociated terms: ran uncompiled")
                    return self.fun(*args, **kwargs)
                except Retrace:
                    continue
                except (np.linalg.LinAlgError, ArithmeticError) as e:
                    # (a singular matrix, FloatingPointError under np.errstate): the
                    # program may catch it (try/except around a Cholesky factorization,
                    # an np.errstate of its own), which straight-line code cannot
                    cache.count("fallbacks", f"the compiled program raised "
                                             f"{type(e).__name__}: ran uncompiled")
                    return self.fun(*args, **kwargs)
                except Exception as e:      # noqa: BLE001 - the function decides
                    out = self.fun(*args, **kwargs)     # (raises what the program does)
                    cache.failed(f"running compiled {self.label}", e)
                    return out
                cache.hit(key)
                if v.writes is not None:
                    outs = _write_back(v.graph, flat, outs)
                return tree_unflatten(v.graph.out_tree, outs)
            retraces = cache.count("retraces", _REBOUND if stale else _GUARD)
            if retraces == 10:
                warnings.warn(
                    f"{self.label} has re-traced 10 times because Python control flow "
                    "read traced values that changed (if/while/float() on them become "
                    "guards), or because a name it reads was rebound or an array it read "
                    "with NumPy itself changed. If that is a loss printed or compared "
                    "every call, move it outside the jitted function or express the "
                    "branch with cnp.where; pass values that change every call as "
                    "arguments.", RuntimeWarning, stacklevel=3)
        else:
            cache.count("misses", "new argument structure, shapes, dtypes or static "
                                  "values" if len(cache) else "first call")
        return self.trace(args, key, variants, nums, static_kw, dyn_kw, stale)[1]

    def trace(self, args, key=None, seen=None, nums=None, static_kw=None, dyn_kw=None,
              stale=()):
        """Trace and compile a variant for ``args`` and add it to the cache (after
        ``seen``, the variants the caller tried, less ``stale``: those whose names were
        rebound or whose copied arrays changed); returns (Graph, outputs)."""
        if key is None:
            key, _, nums, static_kw, dyn_kw = self.split(args, {})
        graph, out = _trace(self.fun, args, nums, static_kw, dyn_kw, self.live)
        if graph.writes:
            # the function wrote into array arguments (as NumPy would): so does the
            # traced call, unless one is read-only or shares memory with another
            # argument (NumPy's own program decides that, and keeps deciding it)
            flat = _flat_inputs(args, nums, dyn_kw)
            uncompiled = not _may_write(graph.writes, flat)
            if not uncompiled:
                out = tree_unflatten(graph.out_tree, _write_back(
                    graph, flat, tree_flatten(out)[0] + graph.written_values))
        else:
            uncompiled = False
        try:
            fn = _compile(graph, self.own_outputs, _numpy_only(args, dyn_kw))
        except Exception as e:          # noqa: BLE001 - counted (raised if so configured)
            self.cache.failed(f"compiling {self.label}", e)
            fn = None
        else:
            self.cache.count("compiled")
        env = Environment(self.fun, _staged_arrays(graph)) if self.live else None
        variant = _Variant(fn, graph, env or None)
        maxsize = self.cache.maxsize

        def add(now):
            if now is None or now is seen:
                kept = tuple(v for v in now if v not in stale) if stale else (now or ())
                return (kept + (variant,))[-maxsize:]
            return now              # another thread has just added a variant for this
            # key: that one serves it, or a later call re-traces
        self.cache.update(key, add)
        if uncompiled:
            self.cache.count("fallbacks", _UNWRITABLE)
            return graph, self.fun(*args, **(dyn_kw or {}), **(static_kw or {}))
        return graph, _unshared(graph, out)

    def lower(self, *args, **kwargs):
        """The Graph and generated source for these arguments (traces afresh)."""
        _, _, nums, static_kw, dyn_kw = self.split(args, kwargs)
        graph, _ = _trace(self.fun, args, nums, static_kw, dyn_kw, self.live)
        return graph, _compile(graph, self.own_outputs).source


_GUARD = "a guard failed (Python control flow took another branch): traced again"
_REBOUND = ("a name the function reads was rebound, or an array it read with NumPy "
            "itself while traced changed: traced again")
_UNWRITABLE = ("an argument the function writes into is read-only or shares memory with "
               "another: ran uncompiled")


def _staged_arrays(graph):
    """Ids of the arrays the compiled program reads on every call (live constants)."""
    return {id(x.val) for e in graph.eqns for x in e.ins
            if isinstance(x, Literal) and x.live} | \
        {id(o.val) for o in graph.outs if isinstance(o, Literal) and o.live}


def _flat_inputs(args, nums, dyn_kw):
    """The flat dynamic leaves of a call, in the order trace_to_graph stages them."""
    dyn = [a for i, a in enumerate(args) if i not in (nums or ())]
    return tree_flatten((dyn, dyn_kw or {}))[0]


def _may_write(writes, flat):
    """Whether compiled code may write the new values of the arguments ``writes`` (flat
    positions) into the caller's arrays: each is writeable and shares no memory with
    another argument (``f(x, x)``: NumPy's program sees its own writes through the
    other name, which a staged program, whose inputs are apart, does not)."""
    arrays = [(j, a) for j, a in enumerate(flat) if isinstance(a, np.ndarray)]
    for k in writes:
        t = flat[k]
        if not isinstance(t, np.ndarray) or not t.flags.writeable:
            return False
        if any(j != k and np.may_share_memory(a, t) for j, a in arrays):
            return False
    return True


def _write_back(graph, flat, outs):
    """The function's outputs, after writing the new values of the arguments it wrote
    into (the outputs past ``graph.n_out``) into the caller's arrays; an output that is
    such an argument is the caller's array itself, as NumPy returns it."""
    n = graph.n_out
    for k, new in zip(graph.writes, outs[n:]):
        np.copyto(flat[k], new, casting="unsafe")
    outs = list(outs[:n])
    for i, k in graph.returns_written.items():
        outs[i] = flat[k]
    return outs


def _unshared(graph, out):
    """``out`` (the traced call's results) with copies of the arrays that the graph
    keeps as constants: the caller may write to its result, and every later call
    returns (or computes with) the graph's constant."""
    consts = {id(o.val) for o in graph.outs
              if isinstance(o, Literal) and type(o.val) is np.ndarray and not o.live}
    if not consts:
        return out
    leaves = tree_flatten(out)[0]
    return tree_unflatten(graph.out_tree, [x.copy() if id(x) in consts else x
                                           for x in leaves])


def _compile(graph, own_outputs=False, numpy_only=True):
    """compile_graph; without ``del`` statements when every array is small (freeing
    early lets NumPy reuse memory, which only pays on large arrays), and without
    ``out=`` buffer reuse when an argument is another backend's array (the key of the
    cache holds the arrays' types, so a variant serves one backend)."""
    small = all(size_of(v.shape) < core.LAZY_SIZE for v in graph.in_vars) and \
        all(size_of(o.shape) < core.LAZY_SIZE for e in graph.eqns for o in e.outs)
    numpy_only = numpy_only and not any(
        isinstance(x, Literal) and backend.is_foreign(x.val) for e in graph.eqns
        for x in e.ins)                 # a Dask array the function closes over
    return compile_graph(graph, own_outputs=own_outputs, free=not small, reuse=numpy_only)


def _numpy_only(args, kwargs):
    """Whether no argument is a Dask or CuPy array (compiled code may write in place)."""
    leaves = tree_flatten((args, kwargs))[0]
    return not any(backend.is_foreign(x) for x in leaves)


def _trace(fun, args, nums, static_kw, dyn_kw, live=True):
    """Stage ``fun`` with the static keywords baked in (``split`` separated them);
    ``live``: the arrays it can reach are read on every call."""

    guard = backend.no_compute(tree_flatten((args, dyn_kw))[0])

    def f(*a, **kw):
        return backend.call_user(guard, fun, *a, **kw, **static_kw)
    return trace_to_graph(f, args, dyn_kw, nums, fold_constants=True,
                          live_ids=reachable_arrays(fun) if live else frozenset(),
                          writes=live)
