"""make_graph: stage a function into a Graph, and cost helpers that compare
strategies (jacfwd vs jacrev, the orders of a matrix chain) by FLOPs."""
import functools

import numpy as np

from ..argcheck import (check_callable, static_argnums_tuple, static_positions,
                        reconcile_static)
from ..interpreters.staging import stage_flat
from ..tree_util import tree_flatten, tree_unflatten
from .ir import Graph


def make_graph(fun, *, static_argnums=()):
    """Return a function that stages ``fun`` at the given arguments into a Graph.

    ``make_graph(f)(*args)`` runs ``f`` once, recording every primitive (including
    those run by transformations inside it: ``make_graph(grad(f))`` shows the forward
    and backward passes) into a :class:`Graph` that prints as a readable program,
    draws with ``.to_dot()``, and counts ``.flops()`` and ``.bytes()``.

    Parameters
    ----------
    fun : callable
    static_argnums : int or tuple of ints
        Arguments that are not staged (Python values baked into the program), whether a
        call passes them by position or by name (as ``jit``'s).
    """
    check_callable(fun, "make_graph")
    static = static_argnums_tuple(fun, static_argnums, "make_graph")
    # as jit: a static parameter is static whether a call passes it by position or by name
    static, names = reconcile_static(fun, static, ())

    @functools.wraps(fun)
    def staged(*args, **kwargs):
        nums = static_positions(static, len(args), "make_graph") if static else ()
        static_kw = {k: kwargs[k] for k in names if k in kwargs}
        if static_kw:
            dyn_kw = {k: v for k, v in kwargs.items() if k not in static_kw}
            graph, _ = trace_to_graph(lambda *a, **kw: fun(*a, **kw, **static_kw), args,
                                      dyn_kw, nums, fold_constants=False)
        else:
            graph, _ = trace_to_graph(fun, args, kwargs, nums, fold_constants=False)
        return graph
    return staged


def trace_to_graph(fun, args, kwargs, static, fold_constants=True, live_ids=frozenset(),
                   writes=False):
    """Stage ``fun(*args, **kwargs)``; returns (Graph, concrete outputs). ``live_ids``:
    arrays the function can reach, read on every call (``staging.Literal``).

    With ``writes`` (jit), an array argument the function writes into (``x[0] = 1``,
    ``x += 1``, ``out=x``) is an output too: ``graph.writes`` lists the positions of
    those arguments among the flat inputs, their new values follow the function's
    outputs (``graph.n_out`` of them), ``graph.returns_written`` maps an output that is
    such an argument itself to its position, and ``graph.written_values`` holds the new
    values of this call."""
    static = tuple(i % len(args) for i in static) if args else ()
    dyn = [a for i, a in enumerate(args) if i not in static]
    flat, in_tree = tree_flatten((dyn, kwargs))
    store = {}

    def flat_fun(*xs):
        before = [getattr(x, "_var", None) for x in xs]
        d, kw = tree_unflatten(in_tree, xs)
        it = iter(d)
        full = [args[i] if i in static else next(it) for i in range(len(args))]
        out_flat, store["out_tree"] = tree_flatten(fun(*full, **kw))
        store["written"] = written = [
            k for k, x in enumerate(xs) if writes and isinstance(flat[k], np.ndarray)
            and getattr(x, "_var", None) is not before[k]]
        if written:
            finals = {id(xs[k]._var): k for k in written}
            store["returns"] = {i: finals[id(o._var)] for i, o in enumerate(out_flat)
                                if id(getattr(o, "_var", None)) in finals}
            out_flat = list(out_flat) + [xs[k] for k in written]
        return out_flat
    info = {}
    values, in_vars, outs, eqns, guards = stage_flat(flat_fun, flat, fold_constants,
                                                     live_ids, info)
    graph = Graph(in_vars, eqns, outs, guards, store["out_tree"])
    graph.fp_raise = info["fp_raise"]       # (an np.errstate that raises: jit.Staged)
    written = store["written"]
    n = graph.n_out = len(values) - len(written)
    graph.writes = written
    graph.returns_written = store.get("returns", {})
    graph.written_values = values[n:]
    _record_sharing(graph, flat, values)
    return graph, tree_unflatten(store["out_tree"], values[:n])


def _record_sharing(graph, flat, values):
    """What the traced call's results were (NumPy scalars) and whose memory they shared
    (the inputs', each other's): code generation keeps that where it rewrites an output
    (``x * 1`` as ``x`` must not hand out the caller's array)."""
    graph.out_scalar = [isinstance(v, np.generic) for v in values]
    arrays = [(i, v) for i, v in enumerate(values) if type(v) is np.ndarray and v.size]
    ins = [(graph.in_vars[j].id, a) for j, a in enumerate(flat)
           if type(a) is np.ndarray and a.size]
    graph.out_shares = [set() for _ in values]
    graph.out_overlaps = set()
    for i, v in arrays:
        graph.out_shares[i] = {k for k, a in ins if np.may_share_memory(v, a)}
        for j, w in arrays:
            if j != i and np.may_share_memory(v, w):
                graph.out_overlaps.add((i, j))


def flops(fun, *args, **kwargs):
    """FLOPs of ``fun(*args, **kwargs)``, counted on its staged graph."""
    return make_graph(fun)(*args, **kwargs).flops()


def compare_cost(strategies, *args, **kwargs):
    """Stage each of ``strategies`` (a dict name -> function) at the same arguments.

    Returns a dict name -> {"flops", "bytes", "equations"}; e.g.
    ``compare_cost({"jacfwd": jacfwd(f), "jacrev": jacrev(f)}, x)``.
    """
    out = {}
    for name, fn in strategies.items():
        g = make_graph(fn)(*args, **kwargs)
        out[name] = {"flops": g.flops(), "bytes": g.bytes(), "equations": len(g.eqns)}
    return out
