"""Structural primitives beyond the basic shape ones: concatenate (linear), round
(piecewise constant) and full_like (a buffer shaped like a traced array). Flip, roll, pad, tile, repeat, take, sort, diagonal, ... are
compositions of these with ``getitem``/``scatter_add`` and the permutations of
``indexing.py`` (``numpy/shape.py``, ``numpy/reductions.py``), so they need no rules of
their own."""
import numpy as np

from ..core import Primitive, NonDiffPrimitive, Zero, shape_of, instantiate
from ..core import size_of as _size
from ..interpreters.batching import axis_size
from .indexing import getitem_p
from .shape import moveaxis, broadcast_to



class Concatenate(Primitive):
    """np.concatenate(arrays, axis). Linear: the vjp slices the cotangent apart."""
    dispatches = True           # Dask/CuPy arrays too (core.Primitive)

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
    dispatches = True           # Dask/CuPy arrays too (core.Primitive)

    def impl(self, x, *, decimals):
        return np.round(x, decimals)

    def batch(self, args, dims, *, decimals):
        return self.bind(args[0], decimals=decimals), dims[0]

    def cost(self, args, ans, **params):
        return _size(shape_of(ans))


round_p = Round("round")


class FullLike(Primitive):
    """np.full_like(a, fill, dtype, order) of a traced ``a``: a new array of constants
    that is itself a traced value of ``a``'s transformations, with derivative zero.
    ``zeros_like``/``ones_like``/``empty_like``/``full_like`` of a traced value give one,
    so that a buffer made like a traced array takes traced values as NumPy's takes any
    (``out = np.zeros_like(x); out[1:] = f(x)``), and under vmap it has the batch."""
    dispatches = True           # Dask/CuPy arrays too (core.Primitive)
    vjp_uses_ans = False
    vjp_uses_args = False
    fresh = True

    def impl(self, a, *, fill, dtype, order):
        return np.full_like(a, fill, dtype=dtype, order=order)

    def jvp(self, primals, tangents, **params):
        # zeros, but written out (forward mode drops a value with a symbolic Zero tangent
        # back to a plain array, which a traced value could not then be written into);
        # made like the argument's tangent, so that under vmap the batch comes along
        ans = self.bind(*primals, **params)
        t = tangents[0]
        if type(t) is Zero:
            return ans, Zero.like(ans)
        return ans, self.bind(t, **dict(params, fill=0))

    def vjp(self, ct, ans, args, needs, **params):
        return [None]

    def batch(self, args, dims, **params):
        return self.bind(args[0], **params), dims[0]

    def cost(self, args, ans, **params):
        return 0

    def spell(self, ops, ins, *, fill, dtype, order):
        return f"np.full_like({ops[0]}, {fill!r}, dtype=np.{np.dtype(dtype).name}, order={order!r})"


full_like_p = FullLike("full_like")
