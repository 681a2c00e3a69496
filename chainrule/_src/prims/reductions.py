"""Reductions that are not linear: max/min (ties share the cotangent equally, as
in JAX), and the cumulative and order-statistic family."""
import numpy as np

from ..core import Primitive, Zero, shape_of
from .shape import reshape, broadcast_to, reduce_sum
from . import elementwise as ew


def _size(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def _keep(ans, x, axis, keepdims):
    """Reshape a reduced value so it broadcasts against ``x``."""
    if keepdims:
        return ans
    return reshape(ans, tuple(1 if i in axis else d for i, d in enumerate(shape_of(x))))


class ReduceExtremum(Primitive):
    """np.max / np.min over a tuple of axes."""

    def __init__(self, name, np_fn):
        super().__init__(name)
        self.np_fn = np_fn

    def impl(self, x, *, axis, keepdims):
        return self.np_fn(x, axis=axis, keepdims=keepdims)

    def _weights(self, x, ans, axis, keepdims):
        hit = ew.equal_p.bind(x, _keep(ans, x, axis, keepdims))
        w = ew.select_p.bind(hit, 1.0, 0.0)
        return w / _keep(reduce_sum(w, axis, keepdims), x, axis, keepdims)

    def jvp(self, primals, tangents, *, axis, keepdims):
        (x,), (t,) = primals, tangents
        ans = self.bind(x, axis=axis, keepdims=keepdims)
        if type(t) is Zero:
            return ans, Zero.like(ans)
        w = self._weights(x, ans, axis, keepdims)
        return ans, reduce_sum(t * w, axis, keepdims)

    def vjp(self, ct, ans, args, needs, *, axis, keepdims):
        x = args[0]
        w = self._weights(x, ans, axis, keepdims)
        return [broadcast_to(_keep(ct, x, axis, keepdims), shape_of(x)) * w]

    def batch(self, args, dims, *, axis, keepdims):
        from .shape import moveaxis
        x = moveaxis(args[0], dims[0], 0)
        return self.bind(x, axis=tuple(a + 1 for a in axis), keepdims=keepdims), 0

    def cost(self, args, ans, **params):
        return _size(shape_of(args[0])) - _size(shape_of(ans))


reduce_max_p = ReduceExtremum("reduce_max", np.maximum.reduce)
reduce_min_p = ReduceExtremum("reduce_min", np.minimum.reduce)
