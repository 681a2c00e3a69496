"""jit: stage once per (argument structure, shapes, dtypes, static values), then
replay the compiled Graph.

Python control flow that read a traced value while tracing became guards; a call
whose guards fail re-traces (and the new variant is cached beside the old one). The
cache is bounded (the oldest variants are dropped first); ``cache_info()`` says
what happened and why each miss occurred.

Threads may call one jitted function at once. Each key's variants are an immutable
tuple, replaced (never changed in place) under the function's lock, so a call reads the
cache without locking and never sees a half-made change; tracing and compiling run
outside the lock (they run the user's code).

Under another transformation (``grad(jit(f))``, ``vmap(jit(f))``) the function runs
inline, so the outer transformation sees its primitives; ``jit(grad(f))`` and
``jit(vmap(f))`` stage the transformed program.
"""
import collections
import functools
import threading
import warnings

import numpy as np

from .. import core
from ..core import _state, shape_of, dtype_of, size_of
from ..tree_util import tree_flatten, tree_unflatten
from ..argcheck import (check_callable, static_argnums_tuple, static_positions,
                        check_static_argnames, reconcile_static)
from ..interpreters.staging import Literal
from .codegen import compile_graph, Retrace
from .make import trace_to_graph

CacheInfo = collections.namedtuple(
    "CacheInfo", "hits misses retraces size maxsize miss_reasons")


_SCALARS = (float, int, complex, bool)


def _signature(x, leaves, sig):
    """Flatten ``x`` (in tree_flatten's leaf order) and describe it as a flat list of
    hashable items: container kinds and sizes, leaf shapes and dtypes. One pass, and
    the resulting tuple hashes at C speed (a PyTreeDef hashes recursively in Python)."""
    t = type(x)
    if t is np.ndarray:
        leaves.append(x)
        sig.append(x.shape)
        sig.append(x.dtype)
    elif t in _SCALARS:
        leaves.append(x)
        sig.append(t)
    elif t is list or t is tuple:
        sig.append((t, len(x)))
        for c in x:
            _signature(c, leaves, sig)
    elif t is dict:
        keys = sorted(x)
        sig.append((dict, tuple(keys)))
        for k in keys:
            _signature(x[k], leaves, sig)
    else:
        sub, td = tree_flatten(x)
        sig.append(td)
        for leaf in sub:
            leaves.append(leaf)
            sig.append((shape_of(leaf), dtype_of(leaf)) if type(leaf) not in _SCALARS
                       else type(leaf))


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
        Number of compiled variants kept (the oldest are dropped first).

    Returns
    -------
    callable
        With ``cache_info()``, ``cache_clear()`` and ``lower(*args)`` (the Graph and
        generated source of the variant for those arguments).

    Notes
    -----
    Side effects of ``fun`` (printing, NumPy random numbers, appending to lists) happen
    while tracing; a replay reuses what they produced then. A guard that keeps failing
    (Python control flow reading a value that changes on every call) re-traces every
    time; after 10 such re-traces a warning says so.
    """
    check_callable(fun, "jit")
    if isinstance(maxsize, bool) or not isinstance(maxsize, (int, np.integer)) or \
            maxsize < 1:
        raise ValueError(f"jit: maxsize must be a positive int, got {maxsize!r}")
    static_nums, static_names = reconcile_static(
        fun, static_argnums_tuple(fun, static_argnums, "jit"),
        check_static_argnames(fun, static_argnames, "jit"))
    cache = collections.OrderedDict()      # key -> tuple of (compiled, graph)
    stats = {"hits": 0, "misses": 0, "retraces": 0, "size": 0,
             "reasons": collections.deque(maxlen=20)}
    lock = threading.Lock()                 # every change of cache and stats

    def split(args, kwargs):
        nums = static_positions(static_nums, len(args), "jit") if static_nums else ()
        static_kw = {k: kwargs[k] for k in static_names if k in kwargs}
        static = tuple((i, args[i]) for i in nums) + tuple(static_kw.items())
        dyn_args = [a for i, a in enumerate(args) if i not in nums] if nums else args
        dyn_kwargs = {k: v for k, v in kwargs.items() if k not in static_names} \
            if kwargs else kwargs
        flat, sig = [], [static]
        _signature(list(dyn_args), flat, sig)
        if dyn_kwargs:
            _signature(dyn_kwargs, flat, sig)
        try:
            key = tuple(sig)
            hash(key)
        except TypeError:
            raise TypeError("jit: static arguments must be hashable") from None
        return key, flat, nums, static_kw, dyn_kwargs

    @functools.wraps(fun)
    def jitted(*args, **kwargs):
        if _state.trace is not None:        # inside another transformation: run inline
            return fun(*args, **kwargs)
        key, flat, nums, static_kw, dyn_kw = split(args, kwargs)
        variants = cache.get(key)           # (a tuple: never changed in place)
        if variants is not None:
            for compiled, graph in variants:
                try:
                    outs = compiled(*flat)
                except Retrace:
                    continue
                with lock:
                    stats["hits"] += 1
                return tree_unflatten(graph.out_tree, outs)
            with lock:
                stats["retraces"] += 1
                retraces = stats["retraces"]
                stats["reasons"].append("a guard failed (Python control flow took another "
                                        "branch): traced again")
            if retraces == 10:
                warnings.warn(
                    f"jit({getattr(fun, '__name__', 'fun')}) has re-traced 10 times because "
                    "Python control flow read traced values that changed (if/while/float() "
                    "on them become guards). If that is a loss printed or compared every "
                    "call, move it outside the jitted function or express the branch with "
                    "cnp.where.", RuntimeWarning, stacklevel=2)
        else:
            with lock:
                stats["misses"] += 1
                stats["reasons"].append("new argument structure, shapes, dtypes or static "
                                        "values" if cache else "first call")
        graph, out = _trace(fun, args, nums, static_kw, dyn_kw)
        compiled = _compile(graph)
        out = _unshared(graph, out)
        with lock:
            now = cache.get(key)
            if now is None or now is variants:  # (else another thread has just added a
                # variant for this key: that one serves it, or a later call re-traces)
                cache[key] = (now or ()) + ((compiled, graph),)
                cache.move_to_end(key)          # eviction drops the oldest trace first
                stats["size"] += 1
                while stats["size"] > maxsize:
                    oldest, old = next(iter(cache.items()))
                    if len(old) > 1:
                        cache[oldest] = old[1:]
                    else:
                        del cache[oldest]
                    stats["size"] -= 1
        return out

    def cache_info():
        with lock:
            return CacheInfo(stats["hits"], stats["misses"], stats["retraces"],
                             stats["size"], maxsize, list(stats["reasons"]))

    def cache_clear():
        with lock:
            cache.clear()
            stats["size"] = 0

    def lower(*args, **kwargs):
        """The Graph and generated source for these arguments (traces afresh)."""
        _, _, nums, static_kw, dyn_kw = split(args, kwargs)
        graph, _ = _trace(fun, args, nums, static_kw, dyn_kw)
        return graph, _compile(graph).source

    jitted.cache_info = cache_info
    jitted.cache_clear = cache_clear
    jitted.lower = lower
    return jitted


def _unshared(graph, out):
    """``out`` (the traced call's results) with copies of the arrays that the graph
    keeps as constants: the caller may write to its result, and every later call
    returns (or computes with) the graph's constant."""
    consts = {id(o.val) for o in graph.outs
              if isinstance(o, Literal) and type(o.val) is np.ndarray}
    if not consts:
        return out
    leaves = tree_flatten(out)[0]
    return tree_unflatten(graph.out_tree, [x.copy() if id(x) in consts else x
                                           for x in leaves])


def _compile(graph):
    """compile_graph; without ``del`` statements when every array is small (freeing
    early lets NumPy reuse memory, which only pays on large arrays)."""
    small = all(size_of(v.shape) < core.LAZY_SIZE for v in graph.in_vars) and \
        all(size_of(o.shape) < core.LAZY_SIZE for e in graph.eqns for o in e.outs)
    return compile_graph(graph, free=not small)


def _trace(fun, args, nums, static_kw, dyn_kw):
    """Stage ``fun`` with the static keywords baked in (``split`` separated them)."""

    def f(*a, **kw):
        return fun(*a, **kw, **static_kw)
    return trace_to_graph(f, args, dyn_kw, nums, fold_constants=True)
