"""Structural primitives beyond the basic shape ones: concatenate, and (added by
family) pad, flip, roll, sort, cumulative sums, ... Each is linear or piecewise
linear in its array arguments."""
import numpy as np

from ..core import Primitive, Zero, shape_of, instantiate
from .indexing import getitem_p


def _size(shape):
    n = 1
    for d in shape:
        n *= d
    return n


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
        size = next(shape_of(a)[d] for a, d in zip(args, dims) if d is not None)
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
