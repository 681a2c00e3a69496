"""Lazy (Dask) values in the optimisers.

With Dask data, ``value_and_grad(f)(x)`` returns Dask arrays: nothing is computed until
asked. The optimisers ask once per point, for everything they need there (value,
gradient, and the Hessian for Newton's exact method) in one ``dask.compute`` call, so
each pass over the data serves the whole iteration. Dask is never imported here: if it
has not been imported, no value can be a Dask collection.

One task per chunk of the data
------------------------------
The graph of a value, a gradient and a Hessian has some ten small tasks per chunk of
the data (``X @ w``, the elementwise terms, ``X.T @ r``, ``X.T @ (d * X)``, ...), each
of whose results a scheduler keeps, and a distributed one may move between workers.
:func:`compute` runs each chunk's part of the graph as one task instead (``_rows``):
the tasks that depend on one chunk of the data (the blocks of the arrays read or held,
which carry the same block index) and on nothing computed from other chunks are fused
into one, which hands the partial sums that the reductions combine over to the rest of
the graph. Nothing else changes: the same functions run on the same blocks, so the
results are the same numbers. The fusion needs the graph's structure to be as
described (Dask's task specification, ``dask._task_spec``); if building it fails, the
values are computed by ``dask.compute`` as they are.
"""
import operator
import sys

import numpy as np

__all__ = ["is_lazy", "compute", "persist"]


def _dask():
    return sys.modules.get("dask")


def is_lazy(*values):
    """True when any of ``values`` (searched one level into tuples/lists) is a Dask
    collection."""
    dask = _dask()
    if dask is None:
        return False
    for v in values:
        if isinstance(v, (tuple, list)):
            if any(dask.is_dask_collection(u) for u in v):
                return True
        elif dask.is_dask_collection(v):
            return True
    return False


def compute(*values):
    """``values`` as NumPy float64 arrays, the lazy ones computed together in one
    ``dask.compute`` call (on the current scheduler: a ``distributed.Client`` if one is
    active), each chunk's part of the graph as one task (the module's docstring).
    Returns a tuple."""
    if is_lazy(*values):
        values = _compute_lazy(values)
    return tuple(np.asarray(v, dtype=np.float64) for v in values)


def persist(args, enabled):
    """``args`` with its Dask collections persisted (one computation, now), so that each
    iteration reads the data from memory (a cluster's workers: they spill to disk beyond
    their memory limit) instead of recomputing the graph that makes it. Other arguments
    pass through; nothing happens when ``enabled`` is false or there is no Dask value."""
    if not enabled or not is_lazy(*args):
        return tuple(args)
    return tuple(_dask().persist(*args))


# ------------------------------------------------------------------ one task per chunk

def _compute_lazy(values):
    dask = _dask()
    try:
        fused = _fused(values)
    except Exception:       # noqa: BLE001 (a graph this code does not know: as it is)
        fused = None
    if fused is None:
        return dask.compute(*values)
    delayed, lazy = fused
    out = list(values)
    for i, v in zip(lazy, dask.compute(delayed, optimize_graph=False)[0]):
        out[i] = v
    return tuple(out)


def _fused(values):
    """(a ``Delayed`` computing the tuple of the lazy ``values``, their indices), built
    as ``dask.compute`` builds its graph, with each chunk's tasks fused into one
    (``_rows``); None when there is nothing to fuse."""
    import dask
    from dask._expr import FinalizeCompute
    from dask._task_spec import Task, TaskRef, convert_legacy_graph
    from dask.base import collections_to_expr, tokenize
    from dask.delayed import Delayed

    lazy = [i for i, v in enumerate(values) if dask.is_dask_collection(v)]
    expr = FinalizeCompute(collections_to_expr([values[i] for i in lazy], True)).optimize()
    dsk = convert_legacy_graph(dict(expr.__dask_graph__()))
    outs = list(dask.core.flatten(expr.__dask_keys__()))
    deps = {k: node.dependencies for k, node in dsk.items()}
    if len(outs) != len(lazy) or any(k not in dsk for k in outs):
        return None
    dependents = {k: [] for k in dsk}
    for k, ds in deps.items():
        for d in ds:
            dependents.setdefault(d, []).append(k)
    priority = _topological(dsk, deps, dependents)
    groups = _row_groups(dsk, deps, dependents, priority)
    if not groups:
        return None
    wanted = set(outs)
    new = dict(dsk)
    token = tokenize(outs)
    for j, members in enumerate(groups.values()):
        members.sort(key=priority.__getitem__)
        inside = set(members)
        external = sorted({d for k in members for d in deps[k]} - inside, key=str)
        needed = [k for k in members
                  if k in wanted or any(u not in inside for u in dependents[k])]
        name = ("chainrule-rows-" + token, j)
        for k in members:
            del new[k]
        new[name] = Task(name, _rows, {k: dsk[k] for k in members}, tuple(needed),
                         tuple(external), *(TaskRef(d) for d in external),
                         _data_producer=any(getattr(dsk[k], "data_producer", False)
                                            for k in members))
        for i, k in enumerate(needed):
            new[k] = Task(k, operator.getitem, TaskRef(name), i)
    final = "chainrule-values-" + token
    new[final] = Task(final, _pack, *(TaskRef(k) for k in outs))
    return Delayed(final, new), lazy


def _topological(dsk, deps, dependents):
    """{key: position} in an order in which every task of ``dsk`` comes after its
    dependencies in ``dsk``."""
    waiting = {k: sum(d in dsk for d in ds) for k, ds in deps.items()}
    ready = [k for k, n in waiting.items() if not n]
    position = {}
    while ready:
        k = ready.pop()
        position[k] = len(position)
        for u in dependents.get(k, ()):
            waiting[u] -= 1
            if not waiting[u]:
                ready.append(u)
    if len(position) != len(dsk):
        raise ValueError("a cycle in the graph")
    return position


def _pack(*parts):
    return parts


def _rows(nodes, outkeys, inkeys, *inputs):
    """Run ``nodes`` (a chunk's tasks, in order) on ``inputs`` (their results from
    outside); return the results of ``outkeys``, releasing the others once used."""
    results = dict(zip(inkeys, inputs))
    uses = {}
    for node in nodes.values():
        for d in node.dependencies:
            uses[d] = uses.get(d, 0) + 1
    keep = set(outkeys) | set(inkeys)
    for key, node in nodes.items():
        results[key] = node(results)
        for d in node.dependencies:
            uses[d] -= 1
            if not uses[d] and d not in keep:
                del results[d]
    return tuple(results[k] for k in outkeys)


def _leaf_label(key, blocks):
    """The block index of a task with no dependencies, along the axes in which its
    array has more than one block (None for a one-block array or a key without one)."""
    if not (isinstance(key, tuple) and len(key) > 1):
        return None
    axes = blocks.get(key[0], ())
    return tuple(key[1 + a] for a in axes) or None


_AGGREGATE = object()


def _row_groups(dsk, deps, dependents, priority):
    """{block label: keys of the tasks to fuse}. The tasks with no dependencies (the
    data, read or held, and constants; and the keys of data held by a cluster, which
    are not in the graph) label the tasks computed from them: a task whose labelled
    inputs all carry one label (and none computed from several) gets it; one that meets
    two labels, or depends on such a task, combines chunks (a reduction's aggregation)
    and is not fused. The tasks of one label depend only on the same label's, on leaves
    and on unlabelled tasks (computed from one-block leaves only), so each group is one
    task without creating a cycle; a leaf of the graph that computes (reads a chunk from
    disk, makes one) joins the group of its dependents when they are all in one."""
    leaves = [k for k, ds in deps.items() if not ds]
    leaves += [d for ds in deps.values() for d in ds if d not in dsk]
    index = {}                                        # leaf names -> their block indices
    for k in leaves:
        if isinstance(k, tuple) and len(k) > 1:
            index.setdefault(k[0], set()).add(k[1:])
    blocks = {}
    for name, idx in index.items():
        ndim = min(len(i) for i in idx)
        blocks[name] = tuple(a for a in range(ndim) if len({i[a] for i in idx}) > 1)
    label = {k: _leaf_label(k, blocks) for k in leaves}
    groups = {}
    for k in sorted(dsk, key=priority.__getitem__):   # dependencies first
        ds = deps[k]
        if not ds:
            continue
        seen = {label[d] for d in ds} - {None}
        if _AGGREGATE in seen or len(seen) > 1:
            label[k] = _AGGREGATE
        elif seen:
            (label[k],) = seen
            groups.setdefault(label[k], []).append(k)
        else:
            label[k] = None
    from dask._task_spec import DataNode
    for k in leaves:            # tasks that read or make data (data held stays apart)
        if k in dsk and dependents.get(k) and not isinstance(dsk[k], DataNode):
            labs = {label[u] for u in dependents[k]}
            if len(labs) == 1 and next(iter(labs)) in groups:
                groups[next(iter(labs))].append(k)
    return {lab: ks for lab, ks in groups.items() if len(ks) > 1}
