"""Index primitives of partial sorting: ``np.partition`` and ``np.argpartition``.

Both are index results (no derivative) that the numpy layer gathers with
(``permute_p``), so that derivatives flow to the picked elements, as for sort.

NumPy's ``partition`` and ``argpartition`` use different selection algorithms, so
``take_along_axis(a, argpartition(a, k))`` need not equal ``partition(a, k)`` outside
the k-th positions. ``partition_index`` is the permutation that reproduces
``np.partition``'s own arrangement: ``take_along_axis(a, partition_index(a, k)) ==
np.partition(a, k)``, found by matching ranks (a stable argsort of ``a`` and of NumPy's
result). Both run NumPy independently on each 1-D slice, so a batch (vmap) is one call
along a shifted axis.
"""
import numpy as np

from ..core import NonDiffPrimitive, shape_of
from ..core import size_of as _size
from .shape import moveaxis


def _log_n(args, axis):
    n = shape_of(args[0])[axis] if shape_of(args[0]) else 1
    return max(int(np.ceil(np.log2(max(n, 2)))), 1)


class _AlongAxis(NonDiffPrimitive):
    """An index primitive of ``x`` along ``axis``; vmap moves the batch axis first."""

    def batch(self, args, dims, *, axis, kth):
        return self.bind(moveaxis(args[0], dims[0], 0), axis=axis + 1, kth=kth), 0

    def cost(self, args, ans, *, axis, kth):
        return _size(shape_of(ans)) * (1 + len(kth))


class ArgPartition(_AlongAxis):
    """np.argpartition(x, kth, axis) (``kth`` a tuple of non-negative positions)."""

    def impl(self, x, *, axis, kth):
        return np.argpartition(x, kth, axis=axis)


class PartitionIndex(_AlongAxis):
    """The permutation ``p`` with ``take_along_axis(x, p, axis) == np.partition(x, kth,
    axis)`` (NumPy's arrangement, not argpartition's)."""

    def impl(self, x, *, axis, kth):
        part = np.partition(x, kth, axis=axis)
        rank = np.argsort(np.argsort(part, axis=axis, kind="stable"), axis=axis,
                          kind="stable")
        order = np.argsort(x, axis=axis, kind="stable")
        return np.take_along_axis(order, rank, axis)

    def cost(self, args, ans, *, axis, kth):
        return _size(shape_of(ans)) * 3 * _log_n(args, axis)


argpartition_p = ArgPartition("argpartition")
partition_index_p = PartitionIndex("partition_index")
