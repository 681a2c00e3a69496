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
from .indexing import getitem_p, scatter_add_p, ARRAY
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



class MaskedSum(Primitive):
    """``np.add.reduce(x, axis, keepdims=, initial=, where=mask)``: NumPy's masked sum,
    in NumPy's own order of additions (runs of unmasked elements; a sum with zeros in
    the masked places rounds differently). ``mask``: a boolean array of x's shape (not
    differentiated); ``initial``: None or a Python scalar exact in x's dtype. Affine in
    x: the tangent is the masked sum of the tangent, the cotangent the broadcast
    cotangent where the mask holds and 0 elsewhere."""
    vjp_uses_ans = False
    fresh = True
    ufunc = None        # (not an elementwise ufunc: code generation)
    reduce = np.add.reduce

    def impl(self, x, mask, *, axis, keepdims, initial):
        if initial is None:
            return self.reduce(x, axis=axis, keepdims=keepdims, where=mask)
        return self.reduce(x, axis=axis, keepdims=keepdims, where=mask, initial=initial)

    def jvp(self, primals, tangents, *, axis, keepdims, initial):
        (x, mask), (t, _) = primals, tangents
        ans = self.bind(x, mask, axis=axis, keepdims=keepdims, initial=initial)
        if type(t) is Zero:
            return ans, Zero.like(ans)
        return ans, self._tangent(x, mask, t, axis, keepdims, initial)

    def vjp(self, ct, ans, args, needs, *, axis, keepdims, initial):
        x, mask = args
        if not needs[0]:
            return [None, None]
        ctb = broadcast_to(_keep(ct, x, axis, keepdims), shape_of(x))
        g = self._scaled(ctb, x, mask, axis, keepdims, initial)
        z = np.zeros((), dtype_of(g))           # (not 0 * g: g may hold inf)
        return [ew.select_p.bind(mask, g, z), None]

    # the reduction's own parts of the rules above (a sum: affine in x)
    def _tangent(self, x, mask, t, axis, keepdims, initial):
        return self.bind(t, mask, axis=axis, keepdims=keepdims, initial=None)

    def _scaled(self, ctb, x, mask, axis, keepdims, initial):
        return ctb

    def batch(self, args, dims, *, axis, keepdims, initial):
        (x, mask), (dx, dm) = args, dims
        if dx is None:
            n = shape_of(mask)[dm]
            x = broadcast_to(x, (n,) + tuple(shape_of(x)))
        else:
            x = moveaxis(x, dx, 0)
        if dm is None:      # (NumPy broadcasts the mask against the batch)
            mask = reshape(mask, (1,) + tuple(shape_of(mask)))
        else:
            mask = moveaxis(mask, dm, 0)
        return self.bind(x, mask, axis=tuple(a + 1 for a in axis), keepdims=keepdims,
                         initial=initial), 0

    def cost(self, args, ans, **params):
        return _size(shape_of(args[0]))


masked_sum_p = MaskedSum("masked_sum")

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


class MaskedProd(MaskedSum):
    """``np.multiply.reduce(x, axis, keepdims=, initial=, where=mask)``: NumPy's own
    product (float16 accumulated in float32, complex products skipping the masked
    entries, ``initial`` multiplied in first), with the derivatives of
    ``initial * prod(where(mask, x, 1))``: the zero-safe products of the others
    (``_prod_others``), 0 where the mask is False."""
    reduce = np.multiply.reduce

    def _others(self, x, mask, axis, keepdims, initial):
        xs = ew.select_p.bind(mask, x, np.ones((), dtype_of(x)))
        others = _prod_others(xs, axis, reduce_prod_p.bind(xs, axis=axis, keepdims=keepdims),
                              keepdims)
        return others if initial is None else others * initial

    def _tangent(self, x, mask, t, axis, keepdims, initial):
        ts = ew.select_p.bind(mask, t, np.zeros((), dtype_of(t)))
        return reduce_sum(ts * self._others(x, mask, axis, keepdims, initial), axis,
                          keepdims)

    def _scaled(self, ctb, x, mask, axis, keepdims, initial):
        return ctb * self._others(x, mask, axis, keepdims, initial)


masked_prod_p = MaskedProd("masked_prod")


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


# ------------------------------------------------------------------ ufunc methods

def _shift(x, d, axis, fill):
    """``x`` moved ``d`` places up ``axis`` (``y[k] = x[k - d]``), ``fill`` in the first
    ``d`` places."""
    s = shape_of(x)
    n = s[axis]
    pad = np.full(s[:axis] + (min(d, n),) + s[axis + 1:], fill, dtype_of(x))
    if d >= n:
        return pad
    return concatenate_p.bind(pad, getitem_p.bind(x, spec=_slice_spec(axis, 0, n - d)),
                              axis=axis)


def _segment_scan(v, seg, axis):
    """Inclusive sums of ``v`` along ``axis`` within runs of equal ``seg`` (segment ids,
    contiguous along the axis), by doubling: only terms of the same segment are added
    (no cancellation of a global running sum). Linear in ``v``."""
    n = shape_of(v)[axis]
    d = 1
    while d < n:
        same = ew.equal_p.bind(_shift(seg, d, axis, -1), seg)
        v = v + ew.select_p.bind(same, _shift(v, d, axis, 0), np.zeros((), dtype_of(v)))
        d *= 2
    return v


class CumExtremum(Primitive):
    """``np.maximum.accumulate`` / ``np.minimum.accumulate`` along one axis (NumPy's
    own values). The running extremum at i is the extremum of ``x[:i + 1]``; its
    derivative goes to the element that set it, shared equally among the elements
    equal to it (reduce_max's rule for ``max(x[:i + 1])``); from a NaN on, to the NaN
    (NumPy's value there). Piecewise linear: the weights are constants."""
    fresh = True

    def __init__(self, name, ufunc, strict):
        super().__init__(name)
        self.ufunc, self.strict = ufunc, strict       # strict: greater_p / less_p

    def impl(self, x, *, axis):
        return self.ufunc.accumulate(x, axis=axis)

    def _parts(self, x, ans, axis):
        """(elements equal to their running extremum, segment ids, counts): a segment
        starts where an element strictly beats the extremum before it (or at a first
        NaN); the chain of position i is the elements of its segment equal to ans."""
        s = shape_of(x)
        n = s[axis]
        prev = _shift(ans, 1, axis, np.nan)
        nan_now, nan_before = ew.isnan_p.bind(ans), ew.isnan_p.bind(prev)
        start = ew.logical_or_p.bind(
            ew.logical_or_p.bind(self.strict.bind(x, prev), _first(s, axis)),
            ew.logical_and_p.bind(nan_now, ew.logical_not_p.bind(nan_before)))
        hit = ew.logical_or_p.bind(ew.equal_p.bind(x, ans), start)
        pos = np.broadcast_to(np.arange(n).reshape((n,) + (1,) * (len(s) - axis - 1)), s)
        seg = cummax_p.bind(ew.select_p.bind(start, pos, 0), axis=axis)
        wd = _weight_dtype(dtype_of(x))
        hitw = convert_element_type_p.bind(hit, dtype=wd)
        return hit, seg, _segment_scan(hitw, seg, axis)

    def _apply(self, t, x, ans, axis, transpose):
        hit, seg, count = self._parts(x, ans, axis)
        z = np.zeros((), dtype_of(t))
        if not transpose:
            return _segment_scan(ew.select_p.bind(hit, t, z), seg, axis) / count
        # the transpose: sum over the later positions of the segment of c / count
        c = _flip(t / count, axis)
        back = _flip(_segment_scan(c, _flip(seg, axis), axis), axis)
        return ew.select_p.bind(hit, back, z)

    def jvp(self, primals, tangents, *, axis):
        (x,), (t,) = primals, tangents
        ans = self.bind(x, axis=axis)
        if type(t) is Zero:
            return ans, Zero.like(ans)
        return ans, self._apply(t, x, ans, axis, False)

    def vjp(self, ct, ans, args, needs, *, axis):
        return [self._apply(ct, args[0], ans, axis, True)]

    def batch(self, args, dims, *, axis):
        return self.bind(moveaxis(args[0], dims[0], 0), axis=axis + 1), 0

    def cost(self, args, ans, **params):
        return _size(shape_of(ans))


def _first(shape, axis):
    """True at index 0 along ``axis`` (a constant of ``shape``)."""
    m = np.zeros(shape, np.bool_)
    if shape[axis]:         # (an empty axis has no index 0: the derivatives of an empty
        m[(slice(None),) * axis + (0,)] = True      # maximum.accumulate raised)
    return m


cummax_p = CumExtremum("cummax", np.maximum, ew.greater_p)
cummin_p = CumExtremum("cummin", np.minimum, ew.less_p)


class LogAddExpReduce(MaskedSum):
    """``np.logaddexp.reduce(x, axis, keepdims=, initial=, where=mask)`` (NumPy's own
    fold). The derivative is ``exp(x - ans)`` (the softmax weights), 0 where the mask
    is False or x is -inf."""
    reduce = np.logaddexp.reduce
    vjp_uses_ans = True

    def _weights(self, x, mask, ans, axis, keepdims):
        off = ew.logical_or_p.bind(ew.logical_not_p.bind(mask),
                                   ew.equal_p.bind(x, -np.inf))
        zero = np.zeros((), dtype_of(x))
        # (the entries that are off see 0 - 0: no -inf - -inf, no warning)
        w = ew.exp(ew.select_p.bind(off, zero, x) -
                   ew.select_p.bind(off, zero, _keep(ans, x, axis, keepdims)))
        return ew.select_p.bind(off, zero, w)

    def jvp(self, primals, tangents, *, axis, keepdims, initial):
        (x, mask), (t, _) = primals, tangents
        ans = self.bind(x, mask, axis=axis, keepdims=keepdims, initial=initial)
        if type(t) is Zero:
            return ans, Zero.like(ans)
        return ans, reduce_sum(t * self._weights(x, mask, ans, axis, keepdims), axis,
                               keepdims)

    def vjp(self, ct, ans, args, needs, *, axis, keepdims, initial):
        x, mask = args
        ctb = broadcast_to(_keep(ct, x, axis, keepdims), shape_of(x))
        return [ctb * self._weights(x, mask, ans, axis, keepdims), None]


logaddexp_reduce_p = LogAddExpReduce("logaddexp_reduce")


class LogAddExpAccumulate(Primitive):
    """``np.logaddexp.accumulate`` along one axis (NumPy's own fold). The derivative of
    ``y[i]`` in ``x[j]``, j <= i, is ``exp(x[j] - y[i]) = exp(x[j] - y[j]) exp(y[j] -
    y[i])``: a linear recurrence solved by doubling, with factors at most 1 (y does not
    decrease), 0 from a -inf."""
    fresh = True

    def impl(self, x, *, axis):
        return np.logaddexp.accumulate(x, axis=axis)

    @staticmethod
    def _scan(b, y, axis):
        """``B[k] = sum_{j <= k} exp(y[j] - y[k]) b[j]`` (y not decreasing along axis)."""
        n = shape_of(b)[axis]
        d = 1
        zero = np.zeros((), dtype_of(b))
        while d < n:
            ys = _shift(y, d, axis, -np.inf)
            # 0 where both are the same infinity (no term comes from a -inf), without
            # computing inf - inf there
            same = ew.logical_and_p.bind(ew.equal_p.bind(ys, y), ew.isinf_p.bind(y))
            diff = ew.select_p.bind(same, zero, ys) - ew.select_p.bind(same, zero, y)
            fac = ew.select_p.bind(same, zero, ew.exp(diff))
            b = b + fac * _shift(b, d, axis, 0)
            d *= 2
        return b

    @staticmethod
    def _times_w(v, x, y):
        """``v * exp(x - y)``, 0 where x is -inf (whatever v is there)."""
        off = ew.equal_p.bind(x, -np.inf)
        zero = np.zeros((), dtype_of(x))
        w = ew.exp(ew.select_p.bind(off, zero, x) - ew.select_p.bind(off, zero, y))
        return ew.select_p.bind(off, np.zeros((), dtype_of(v)), v * w)

    def jvp(self, primals, tangents, *, axis):
        (x,), (t,) = primals, tangents
        y = self.bind(x, axis=axis)
        if type(t) is Zero:
            return y, Zero.like(y)
        return y, self._scan(self._times_w(t, x, y), y, axis)

    def vjp(self, ct, ans, args, needs, *, axis):
        x, y = args[0], ans
        # C[j] = sum_{i >= j} exp(y[j] - y[i]) ct[i]: the same scan run backwards on -y
        back = _flip(self._scan(_flip(ct, axis), -_flip(y, axis), axis), axis)
        return [self._times_w(back, x, y)]

    def batch(self, args, dims, *, axis):
        return self.bind(moveaxis(args[0], dims[0], 0), axis=axis + 1), 0

    def cost(self, args, ans, **params):
        return 4 * _size(shape_of(ans))


logaddexp_accumulate_p = LogAddExpAccumulate("logaddexp_accumulate")


class AddReduceAt(LinearUnary):
    """``np.add.reduceat(x, indices, axis)`` (``indices`` a tuple of in-range ints, NumPy's
    own values): sums of the slices ``x[i_k:i_k+1]`` (``x[i_k]`` where ``i_k >= i_k+1``).
    Linear: the cotangent of each slice's entries is that slice's cotangent."""
    fresh = True

    def impl(self, x, *, indices, axis):
        return np.add.reduceat(x, np.asarray(indices, np.intp), axis=axis)

    def vjp(self, ct, ans, args, needs, *, indices, axis):
        x = args[0]
        s = shape_of(x)
        n = s[axis]
        seg, pos = [], []
        for k, i in enumerate(indices):
            stop = indices[k + 1] if k + 1 < len(indices) else n
            r = range(i, stop) if i < stop else range(i, i + 1)
            seg += [k] * len(r)
            pos += list(r)
        full = (("slice", None, None, None),) * axis
        picked = getitem_p.bind(ct, np.asarray(seg, np.intp), spec=full + (ARRAY,))
        return [scatter_add_p.bind(picked, np.asarray(pos, np.intp), spec=full + (ARRAY,),
                                   shape=tuple(s), dtype=dtype_of(ct))]

    def batch(self, args, dims, *, indices, axis):
        return self.bind(moveaxis(args[0], dims[0], 0), indices=indices, axis=axis + 1), 0

    def cost(self, args, ans, **params):
        return _size(shape_of(args[0]))


add_reduceat_p = AddReduceAt("add_reduceat")
