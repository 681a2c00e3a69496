"""Reductions beyond the linear sum: max/min (ties share the cotangent equally, as
in JAX), prod, cumsum and cumprod.

Products have derivatives ``prod / x`` that fail at zeros. Their rules use that
formula only when x is known to have no zeros (:func:`no_zeros`) and otherwise
differentiate :func:`cumprod_scan`, products by doubling that never divide, so a
zero in the input gets exact derivatives of every order."""
import numpy as np

from .. import backend
from ..core import Primitive, NonDiffPrimitive, Tracer, Zero, shape_of, dtype_of, has_value
from ..core import size_of as _size
from ..interpreters.forward import jvp_flat
from ..interpreters.reverse import vjp_flat
from .shape import (reshape, broadcast_to, reduce_sum, moveaxis, transpose, LinearUnary,
                    kept_shape, spell_reduction, convert_element_type_p)
from . import elementwise as ew
from .indexing import getitem_p
from .structure import concatenate_p



def _keep(ans, x, axis, keepdims):
    """Reshape a reduced value so it broadcasts against ``x``."""
    if keepdims:
        return ans
    return reshape(ans, kept_shape(shape_of(x), axis))


def _weight_dtype(dt):
    """The real dtype of a derivative's weights for values of dtype ``dt``: float32 for
    float32 and complex64, float16 for float16, float64 otherwise."""
    return np.dtype(dt.char.lower()) if dt.kind in "fc" else np.dtype(np.float64)


class ReduceExtremum(Primitive):
    """np.max / np.min over a tuple of axes."""
    dispatches = True           # Dask/CuPy arrays too (core.Primitive)
    fresh = True

    def __init__(self, name, np_fn, method):
        super().__init__(name)
        self.np_fn = np_fn
        self.method = method            # the array's method (code generation)

    def impl(self, x, *, axis, keepdims):
        if type(x) is np.ndarray:
            return self.np_fn(x, axis=axis, keepdims=keepdims)
        return backend.reduce(self.method, x, axis, keepdims)

    def spell(self, ops, ins, *, axis, keepdims):
        return spell_reduction(ops, ins, self.method, axis, keepdims)

    def _weights(self, x, ans, axis, keepdims):
        # the positions of the extremum, each 1 / (their count), in x's (real)
        # precision: a float32 tangent or cotangent stays float32 (float16's count and
        # its reciprocal are taken in float32, over the reduced shape)
        hit = ew.equal_p.bind(x, _keep(ans, x, axis, keepdims))
        wd = _weight_dtype(dtype_of(x))
        if wd == np.float64:                # (True / 2 == 0.5)
            return hit / reduce_sum(hit, axis, True)
        cd = np.dtype(np.float32) if wd == np.float16 else wd
        inv = 1.0 / convert_element_type_p.bind(reduce_sum(hit, axis, True), dtype=cd)
        if cd != wd:
            inv = convert_element_type_p.bind(inv, dtype=wd)
        return convert_element_type_p.bind(hit, dtype=wd) * inv

    def jvp(self, primals, tangents, *, axis, keepdims):
        (x,), (t,) = primals, tangents
        ans = self.bind(x, axis=axis, keepdims=keepdims)
        if type(t) is Zero:
            return ans, Zero.like(ans)
        w = self._weights(x, ans, axis, keepdims)
        return ans, reduce_sum(t * w, axis, keepdims)

    def vjp(self, ct, ans, args, needs, *, axis, keepdims):
        x = args[0]
        if type(x) is np.ndarray and type(ct) is np.ndarray and type(ans) is np.ndarray:
            # concrete: the same weights in a few NumPy calls
            if not keepdims:
                kept = kept_shape(x.shape, axis)
                ans, ct = ans.reshape(kept), ct.reshape(kept)
            hit = x == ans
            wd = _weight_dtype(x.dtype)
            if wd == np.float64:
                return [ct * (hit / np.add.reduce(hit, axis=axis, keepdims=True))]
            cd = np.float32 if wd == np.float16 else wd
            inv = (1.0 / np.add.reduce(hit, axis=axis, keepdims=True, dtype=cd)).astype(wd)
            return [ct * (hit * inv)]
        w = self._weights(x, ans, axis, keepdims)
        return [_keep(ct, x, axis, keepdims) * w]     # w has x's shape

    def batch(self, args, dims, *, axis, keepdims):
        x = moveaxis(args[0], dims[0], 0)
        return self.bind(x, axis=tuple(a + 1 for a in axis), keepdims=keepdims), 0

    def cost(self, args, ans, **params):
        return _size(shape_of(args[0])) - _size(shape_of(ans))


reduce_max_p = ReduceExtremum("reduce_max", np.maximum.reduce, "max")
reduce_min_p = ReduceExtremum("reduce_min", np.minimum.reduce, "min")


# ------------------------------------------------------------------ products

def _slice_spec(axis, start, stop, step=None):
    return (("slice", None, None, None),) * axis + (("slice", start, stop, step),)


def _flip(x, axis):
    return getitem_p.bind(x, spec=_slice_spec(axis, None, None, -1))


def cumprod_scan(x, axis, reverse=False, exclusive=False):
    """Cumulative product along ``axis`` by doubling (Hillis-Steele): ceil(log2 n) steps
    of ``y[k] *= y[k - d]``, written with chainrule operations.

    It only multiplies, so it is exact at zeros and differentiates again to any order
    (no ``ans / x``). ``exclusive``: the product of the elements strictly before
    (``reverse``: strictly after) each position, 1 at the first one.
    """
    if reverse:
        return _flip(cumprod_scan(_flip(x, axis), axis, False, exclusive), axis)
    s = shape_of(x)
    n = s[axis]

    def ones(k):
        return np.ones(s[:axis] + (k,) + s[axis + 1:], dtype_of(x))

    def shift(y, d):      # y[k - d] along axis, 1 for k < d
        if d >= n:
            return ones(n)
        return concatenate_p.bind(ones(d), getitem_p.bind(y, spec=_slice_spec(axis, 0, n - d)),
                                  axis=axis)
    if exclusive:
        x = shift(x, 1)
    d = 1
    while d < n:
        x = x * shift(x, d)
        d *= 2
    return x


def no_zeros(x):
    """True when ``x`` is known to have no zero entry: then ``prod / x`` is the
    derivative of a product. Under jit this reads the value through a guard; under
    vmap (a batched value has no single answer) it is False, and rules take the
    zero-safe path, which gives the same numbers; so do lazy (Dask) values."""
    if not has_value(x):                # batched, or lazy (Dask: reading would compute)
        return False
    if not isinstance(x, Tracer):
        return not np.any(np.equal(x, 0))
    hits = convert_element_type_p.bind(ew.equal_p.bind(x, 0.0), dtype=np.dtype(np.float64))
    return not bool(reduce_sum(hits, tuple(range(len(shape_of(x))))))


def _prod_others(x, axis, ans=None, keepdims=False):
    """prod over ``axis`` of x with each element left out (the derivative of prod):
    ``ans / x`` when x has no zeros, else prefix times suffix products."""
    if ans is not None and no_zeros(x):
        return _keep(ans, x, axis, keepdims) / x
    nd = len(shape_of(x))
    rest = tuple(i for i in range(nd) if i not in axis)
    perm = rest + tuple(axis)
    xt = transpose(x, perm)
    st = shape_of(xt)
    flat = reshape(xt, st[:len(rest)] + (_size(st[len(rest):]),))
    last = len(rest)
    others = cumprod_scan(flat, last, exclusive=True) * \
        cumprod_scan(flat, last, reverse=True, exclusive=True)
    return transpose(reshape(others, st), tuple(np.argsort(perm)))


class ReduceProd(Primitive):
    """np.prod over a tuple of axes. The derivative is the product of the other
    elements: ``prod / x`` when x has no zeros, prefix times suffix products (no
    division) otherwise, so it is right at zeros and differentiates again."""
    dispatches = True           # Dask/CuPy arrays too (core.Primitive)

    def impl(self, x, *, axis, keepdims):
        return np.prod(x, axis=axis, keepdims=keepdims)

    def jvp(self, primals, tangents, *, axis, keepdims):
        (x,), (t,) = primals, tangents
        ans = self.bind(x, axis=axis, keepdims=keepdims)
        if type(t) is Zero:
            return ans, Zero.like(ans)
        return ans, reduce_sum(t * _prod_others(x, axis, ans, keepdims), axis, keepdims)

    def vjp(self, ct, ans, args, needs, *, axis, keepdims):
        x = args[0]
        return [broadcast_to(_keep(ct, x, axis, keepdims), shape_of(x)) *
                _prod_others(x, axis, ans, keepdims)]

    batch = ReduceExtremum.batch
    cost = ReduceExtremum.cost


reduce_prod_p = ReduceProd("reduce_prod")


# ------------------------------------------------------------------ cumulative sums

class Cumsum(LinearUnary):
    """np.cumsum along one axis; ``reverse=True`` sums from the end. Linear: the
    transpose is the cumulative sum in the other direction."""
    dispatches = True           # Dask/CuPy arrays too (core.Primitive)

    def impl(self, x, *, axis, reverse):
        if reverse:
            return np.flip(np.cumsum(np.flip(x, axis), axis), axis)
        return np.cumsum(x, axis)

    def transpose(self, ct, x, *, axis, reverse):
        return self.bind(ct, axis=axis, reverse=not reverse)

    def batch(self, args, dims, *, axis, reverse):
        x = moveaxis(args[0], dims[0], 0)
        return self.bind(x, axis=axis + 1, reverse=reverse), 0

    def cost(self, args, ans, **params):
        return _size(shape_of(ans))


cumsum_p = Cumsum("cumsum")


class Cumprod(Primitive):
    """np.cumprod along one axis. Without zeros in x the rules are
    ``ans * cumsum(t / x)`` and ``revcumsum(ct * ans) / x``; with zeros (or when that
    is unknown, under vmap) they differentiate :func:`cumprod_scan`, which only
    multiplies, so zeros get exact derivatives of every order."""
    dispatches = True           # Dask/CuPy arrays too (core.Primitive)

    def impl(self, x, *, axis):
        return np.cumprod(x, axis)

    def jvp(self, primals, tangents, *, axis):
        (x,), (t,) = primals, tangents
        ans = self.bind(x, axis=axis)
        if type(t) is Zero:
            return ans, Zero.like(ans)
        if no_zeros(x):
            return ans, ans * cumsum_p.bind(t / x, axis=axis, reverse=False)
        _, (t_ans,) = jvp_flat(lambda v: [cumprod_scan(v, axis)], [x], [t])
        return ans, t_ans

    def vjp(self, ct, ans, args, needs, *, axis):
        x = args[0]
        if no_zeros(x):
            return [cumsum_p.bind(ct * ans, axis=axis, reverse=True) / x]
        _, back = vjp_flat(lambda v: [cumprod_scan(v, axis)], [x])
        return back([ct])

    def batch(self, args, dims, *, axis):
        return self.bind(moveaxis(args[0], dims[0], 0), axis=axis + 1), 0

    def cost(self, args, ans, **params):
        return _size(shape_of(ans))


cumprod_p = Cumprod("cumprod")


class ArgExtremum(NonDiffPrimitive):
    """np.argmax / np.argmin along one axis (None: the flattened array)."""
    dispatches = True           # Dask/CuPy arrays too (core.Primitive)

    def __init__(self, name, np_fn):
        super().__init__(name)
        self.np_fn = np_fn

    def impl(self, x, *, axis, keepdims):
        return self.np_fn(x, axis=axis, keepdims=keepdims)

    def batch(self, args, dims, *, axis, keepdims):
        x = moveaxis(args[0], dims[0], 0)
        if axis is None:
            s = shape_of(x)
            out = self.bind(reshape(x, (s[0], _size(s[1:]))),     # (no -1: s[0] may be 0)
                            axis=1, keepdims=False)
            if keepdims:
                out = reshape(out, (s[0],) + (1,) * (len(s) - 1))
            return out, 0
        return self.bind(x, axis=axis + 1, keepdims=keepdims), 0

    def cost(self, args, ans, **params):
        return _size(shape_of(args[0]))


argmax_p = ArgExtremum("argmax", np.argmax)
argmin_p = ArgExtremum("argmin", np.argmin)
