"""Lazy (Dask) values in the optimisers.

With Dask data, ``value_and_grad(f)(x)`` returns Dask arrays: nothing is computed until
asked. The optimisers ask once per point, for everything they need there (value,
gradient, and the Hessian for Newton's exact method) in one ``dask.compute`` call, so
each pass over the data serves the whole iteration. Dask is never imported here: if it
has not been imported, no value can be a Dask collection.
"""
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
    active). Returns a tuple."""
    if is_lazy(*values):
        values = _dask().compute(*values)
    return tuple(np.asarray(v, dtype=np.float64) for v in values)


def persist(args, enabled):
    """``args`` with its Dask collections persisted (one computation, now), so that each
    iteration reads the data from memory (a cluster's workers: they spill to disk beyond
    their memory limit) instead of recomputing the graph that makes it. Other arguments
    pass through; nothing happens when ``enabled`` is false or there is no Dask value."""
    if not enabled or not is_lazy(*args):
        return tuple(args)
    return tuple(_dask().persist(*args))
