"""Structural primitives beyond the basic shape ones: concatenate (linear), round
(piecewise constant) and argsort (no derivative: the permutation sorting gathers
with). Flip, roll, pad, tile, repeat, take, sort, diagonal, ... are compositions of
these with ``getitem``/``scatter_add`` (``numpy/shape.py``, ``numpy/reductions.py``),
so they need no rules of their own."""
import numpy as np

from ..core import Primitive, NonDiffPrimitive, Zero, shape_of, instantiate
from ..core import size_of as _size
from ..interpreters.batching import axis_size
from .indexing import getitem_p



class Concatenate(Primitive):
    """np.concatenate(arrays, axis). Linear: the vjp slices the cotangent apart."""

    def impl(self, *arrays, axis):
        return np.concatenate(arrays, axis)

    def jvp(self, primals, tangents, *, axis):
        ans = self.bind(*primals, axis=axis)
        if all(type(t) is Zero for t in tangents):
            return ans, Zero.like(ans)
        return ans, self.bind(*[instantiate(t) for t in tangents], axis=axis)

    def vjp(self, ct, ans, args, needs, *, axis):
        out, start = [], 0
        for a, need in zip(args, needs):
            n = shape_of(a)[axis]
            if need:
                spec = (("slice", None, None, None),) * axis + (("slice", start, start + n, None),)
                out.append(getitem_p.bind(ct, spec=spec))
            else:
                out.append(None)
            start += n
        return out

    def batch(self, args, dims, *, axis):
        from .shape import moveaxis, broadcast_to
        size = axis_size(args, dims)
        moved = []
        for a, d in zip(args, dims):
            if d is None:
                a = broadcast_to(a, (size,) + shape_of(a))
            else:
                a = moveaxis(a, d, 0)
            moved.append(a)
        return self.bind(*moved, axis=axis + 1), 0

    def cost(self, args, ans, **params):
        return 0


concatenate_p = Concatenate("concatenate")


class Round(NonDiffPrimitive):
    """np.round(x, decimals): piecewise constant, so its derivative is zero."""

    def impl(self, x, *, decimals):
        return np.round(x, decimals)

    def batch(self, args, dims, *, decimals):
        return self.bind(args[0], decimals=decimals), dims[0]

    def cost(self, args, ans, **params):
        return _size(shape_of(ans))


round_p = Round("round")


class ArgSort(NonDiffPrimitive):
    """np.argsort(x, axis): the permutation that sort, median and quantile gather
    with (a primitive so that it batches under vmap). NumPy's default kind: ties are
    ordered arbitrarily, which moves derivatives between equal values only."""

    def impl(self, x, *, axis):
        return np.argsort(x, axis=axis)

    def batch(self, args, dims, *, axis):
        from .shape import moveaxis
        return self.bind(moveaxis(args[0], dims[0], 0), axis=axis + 1), 0

    def cost(self, args, ans, *, axis):
        n = shape_of(args[0])[axis] if shape_of(args[0]) else 1
        return _size(shape_of(ans)) * max(int(np.ceil(np.log2(max(n, 2)))), 1)


argsort_p = ArgSort("argsort")


class Permute(Primitive):
    """take_along_axis(x, perm, axis) for a permutation ``perm`` along ``axis`` (what
    sort gathers with); ``inverse=True`` scatters instead (``out[perm] = x``). Linear
    in x, and the two directions are each other's transpose, so neither derivative
    needs ``np.add.at``."""

    def impl(self, x, perm, *, axis, inverse):
        if not inverse:
            return np.take_along_axis(x, perm, axis)
        out = np.empty(np.shape(x), np.result_type(x))
        np.put_along_axis(out, perm, x, axis)
        return out

    def jvp(self, primals, tangents, *, axis, inverse):
        x, perm = primals
        ans = self.bind(x, perm, axis=axis, inverse=inverse)
        t = tangents[0]
        if type(t) is Zero:
            return ans, Zero.like(ans)
        return ans, self.bind(t, perm, axis=axis, inverse=inverse)

    def vjp(self, ct, ans, args, needs, *, axis, inverse):
        from .shape import fit_cotangent
        ct_x = self.bind(ct, args[1], axis=axis, inverse=not inverse)
        return [fit_cotangent(ct_x, args[0]), None]

    def batch(self, args, dims, *, axis, inverse):
        from .vmapping import bdim_to_front
        size = axis_size(args, dims)
        x, perm = (bdim_to_front(a, d, size) for a, d in zip(args, dims))
        return self.bind(x, perm, axis=axis + 1, inverse=inverse), 0

    def cost(self, args, ans, **params):
        return 0


permute_p = Permute("permute")
