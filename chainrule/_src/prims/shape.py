"""The linear primitives that every other family leans on: reshape, broadcast_to,
transpose, reduce_sum, moveaxis, convert_element_type, copy, complex and the complex
parts real/imag/conj, and the helper ``unbroadcast`` that sums a cotangent back to an
argument's shape (done once, here, for every broadcasting rule).

All of these are linear: jvp applies the primitive to the tangent, vjp is the
transpose. This is the lowest module of prims/: it imports no other (every other
family imports it), so the imports inside prims/ point one way.
"""
import numpy as np

from .. import backend
from ..core import (Primitive, Tracer, Zero, shape_of, dtype_of, Scaled, scaled, value_of,
                   BROADCAST_VIEW_SIZE)
from ..core import size_of as _size
from ..interpreters.batching import axis_size



class LinearUnary(Primitive):
    """A primitive linear in its single array argument."""
    vjp_uses_ans = False
    homogeneous = (1,)          # code generation: a scalar factor passes through

    def jvp(self, primals, tangents, **params):
        (x,), (t,) = primals, tangents
        ans = self.bind(x, **params)
        if type(t) is Zero:
            return ans, Zero.like(ans)
        return ans, self.bind(t, **params)

    def vjp(self, ct, ans, args, needs, **params):
        return [self.transpose(ct, args[0], **params)]

    def cost(self, args, ans, **params):
        return 0


def _is_array(x):
    """Whether a code-generation operand is an array at run time (not a constant, not
    a scalar, which may be a Python number): it has the array's methods."""
    return not hasattr(x, "val") and bool(x.shape)


class Reshape(LinearUnary):
    dispatches = True           # Dask/CuPy arrays too (core.Primitive)
    def impl(self, x, *, shape):
        return x.reshape(shape) if type(x) is np.ndarray else np.reshape(x, shape)

    def spell(self, ops, ins, *, shape):
        return f"{ops[0]}.reshape({shape!r})" if _is_array(ins[0]) else None

    def simplify(self, ins, graph, *, shape):
        # a reshape of a reshape is one reshape (of the same shape: none)
        x = ins[0]
        made = graph.producer(x)
        if made is None or made[0] is not self:
            return None
        y = made[1][0]
        if y.shape == tuple(shape):
            return y
        return graph.emit(self, [y], {"shape": tuple(shape)}, shape, x.dtype)

    def transpose(self, ct, x, *, shape):
        return reshape(ct, shape_of(x))

    def batch(self, args, dims, *, shape):
        (x,), (d,) = args, dims
        x = moveaxis(x, d, 0)
        s = shape_of(x)
        if -1 in shape:         # one example's -1, resolved (an empty batch leaves -1 open)
            rest = _size(tuple(n for n in shape if n != -1))
            if rest:
                shape = tuple(_size(s[1:]) // rest if n == -1 else n for n in shape)
        return reshape(x, s[:1] + tuple(shape)), 0


def kept_shape(shape, axis):
    """``shape`` with the reduced ``axis`` (a tuple) kept as length-1 dimensions."""
    return tuple(1 if i in axis else d for i, d in enumerate(shape))


class BroadcastTo(LinearUnary):
    dispatches = True           # Dask/CuPy arrays too (core.Primitive)
    broadcast = True            # code generation: a ufunc reading it may broadcast x

    def impl(self, x, *, shape):
        if _size(shape) > BROADCAST_VIEW_SIZE or backend.is_foreign(x):  # a read-only view
            return np.broadcast_to(x, shape)
        out = np.empty(shape, dtype_of(x))   # small: a copy is ~10x cheaper than the view
        out[...] = x
        return out

    def transpose(self, ct, x, *, shape):
        return unbroadcast(ct, shape_of(x))

    def batch(self, args, dims, *, shape):
        (x,), (d,) = args, dims
        x = moveaxis(x, d, 0)
        xs = shape_of(x)
        # align the unbatched part of x to the right of `shape`
        lead = len(shape) - (len(xs) - 1)
        x = reshape(x, (xs[0],) + (1,) * lead + xs[1:])
        return broadcast_to(x, (xs[0],) + tuple(shape)), 0


class Transpose(LinearUnary):
    dispatches = True           # Dask/CuPy arrays too (core.Primitive)
    def impl(self, x, *, axes):
        return x.transpose(axes) if type(x) is np.ndarray else np.transpose(x, axes)

    def spell(self, ops, ins, *, axes):
        if not _is_array(ins[0]):
            return None
        return f"{ops[0]}.T" if axes == (1, 0) else f"{ops[0]}.transpose({axes!r})"

    def transpose(self, ct, x, *, axes):
        return transpose(ct, tuple(np.argsort(axes)))

    def batch(self, args, dims, *, axes):
        (x,), (d,) = args, dims
        x = moveaxis(x, d, 0)
        return transpose(x, (0,) + tuple(a + 1 for a in axes)), 0


class ReduceSum(LinearUnary):
    """np.sum over a tuple of axes (normalised, non-negative)."""
    dispatches = True           # Dask/CuPy arrays too (core.Primitive)
    vjp_uses_args = False
    defer = "sum"
    fresh = True

    def impl(self, x, *, axis, keepdims):
        if type(x) is np.ndarray:
            return np.add.reduce(x, axis=axis, keepdims=keepdims)
        return backend.reduce("sum", x, axis, keepdims)

    def spell(self, ops, ins, *, axis, keepdims):
        return spell_reduction(ops, ins, "sum", axis, keepdims)

    def transpose(self, ct, x, *, axis, keepdims):
        shape = shape_of(x)
        # summed leading axes come back by broadcasting; others need their 1s back
        restore = not keepdims and axis != tuple(range(len(axis)))
        if type(ct) is np.ndarray:          # concrete: straight to NumPy
            kept = ct.reshape(kept_shape(shape, axis)) if restore else ct
            if type(x) is np.ndarray or not backend.is_foreign(value_of(x)):
                return broadcast_to_p.impl(kept, shape=shape)
        if type(x) is not np.ndarray and not isinstance(ct, Tracer) and \
                not backend.is_foreign(ct) and backend.is_foreign(value_of(x)):
            # x is a Dask/CuPy array and ct a constant (grad's seed): a cotangent of x's
            # backend and chunks (a NumPy broadcast would put n * 8 bytes in the graph)
            kept = np.reshape(ct, kept_shape(shape, axis)) if restore else ct
            return backend.broadcast_to(kept, shape, value_of(x))
        if restore:
            ct = reshape(ct, kept_shape(shape, axis))
        if isinstance(ct, Tracer) and type(x) is not np.ndarray and \
                backend.is_foreign(value_of(x)) and not backend.is_foreign(value_of(ct)):
            # a traced NumPy cotangent (jacrev's basis under vmap) over Dask/CuPy x: its
            # broadcast would be an n-sized NumPy array in x's graph; a unit array of x's
            # backend and chunks carries the shape instead (the product is lazy)
            return ct * backend.broadcast_to(np.ones((), dtype_of(x)), shape, value_of(x))
        return broadcast_to(ct, shape)

    def batch(self, args, dims, *, axis, keepdims):
        (x,), (d,) = args, dims
        x = moveaxis(x, d, 0)
        return reduce_sum(x, tuple(a + 1 for a in axis), keepdims), 0

    def cost(self, args, ans, **params):
        return _size(shape_of(args[0])) - _size(shape_of(ans))


def spell_reduction(ops, ins, method, axis, keepdims):
    """``x.sum(axis=...)``: the array's method (as fast as ``np.add.reduce`` on NumPy,
    and CuPy's and Dask's arrays have it too); None for a scalar operand."""
    if not _is_array(ins[0]):
        return None
    return f"{ops[0]}.{method}(axis={axis!r}{', keepdims=True' if keepdims else ''})"


class MoveAxis(LinearUnary):
    dispatches = True           # Dask/CuPy arrays too (core.Primitive)
    def impl(self, x, *, source, destination):
        return np.moveaxis(x, source, destination)

    def transpose(self, ct, x, *, source, destination):
        return moveaxis(ct, destination, source)

    def batch(self, args, dims, *, source, destination):
        (x,), (d,) = args, dims
        x = moveaxis(x, d, 0)
        return moveaxis(x, source + 1, destination + 1), 0


class ConvertElementType(Primitive):
    """x.astype(dtype). Differentiable between inexact dtypes."""
    dispatches = True           # Dask/CuPy arrays too (core.Primitive)

    def impl(self, x, *, dtype):
        return backend.astype(x, dtype)

    def jvp(self, primals, tangents, *, dtype):
        (x,), (t,) = primals, tangents
        ans = self.bind(x, dtype=dtype)
        if type(t) is Zero:
            return ans, Zero.like(ans)
        if np.dtype(dtype).kind not in "fc":
            return ans, Zero.like(ans)
        return ans, self.bind(t, dtype=dtype)

    def vjp(self, ct, ans, args, needs, *, dtype):
        x_dtype = dtype_of(args[0])
        if x_dtype.kind == "f" and dtype_of(ct).kind == "c":
            ct = real(ct)
        return [self.bind(ct, dtype=x_dtype)]

    def batch(self, args, dims, *, dtype):
        return self.bind(args[0], dtype=dtype), dims[0]

    def cost(self, args, ans, **params):
        return 0


class Copy(LinearUnary):
    """A new array with ``x``'s values (``x.copy()``, ``np.copy``, ``+x``): the identity,
    as a separate value, so that writing to one never changes the other."""
    dispatches = True           # Dask/CuPy arrays too (core.Primitive)
    fresh = True

    def impl(self, x, *, order):
        return backend.copy(x, order)

    def transpose(self, ct, x, *, order):
        return ct

    def batch(self, args, dims, *, order):
        return self.bind(args[0], order=order), dims[0]


reshape_p = Reshape("reshape")
class Complex(Primitive):
    """``re + 1j * im`` for real arrays, built exactly (NumPy's ``out.real = re;
    out.imag = im``: an infinite part does not turn the other into NaN, as ``1j * inf``
    does). Linear over the reals; the cotangent convention is that of ``re + 1j * im``."""
    vjp_uses_ans = False

    def impl(self, re, im):
        out = np.empty(np.broadcast_shapes(np.shape(re), np.shape(im)),
                       np.result_type(re, im, np.complex64))
        out.real = re
        out.imag = im
        return out

    def jvp(self, primals, tangents):
        ans = self.bind(*primals)
        t_re, t_im = tangents
        if type(t_re) is Zero and type(t_im) is Zero:
            return ans, Zero.like(ans)
        zero = np.zeros((), dtype_of(ans).char.lower())
        return ans, self.bind(zero if type(t_re) is Zero else t_re,
                              zero if type(t_im) is Zero else t_im)

    def vjp(self, ct, ans, args, needs):
        re, im = args
        return [fit_cotangent(real(ct), re) if needs[0] else None,
                fit_cotangent(real(ct * 1j), im) if needs[1] else None]

    def batch(self, args, dims):
        # broadcasting operands (a 0-d zero part from jvp): batch axes to the front and
        # padded to the output's rank; an unbatched operand broadcasts as it is
        nd = max(len(shape_of(a)) - (d is not None) for a, d in zip(args, dims))
        out = []
        for a, d in zip(args, dims):
            if d is not None:
                a = moveaxis(a, d, 0)
                s = shape_of(a)
                if len(s) - 1 < nd:
                    a = reshape(a, (s[0],) + (1,) * (nd - len(s) + 1) + s[1:])
            out.append(a)
        return self.bind(*out), 0

    def cost(self, args, ans):
        return 0


class ComplexPart(Primitive):
    """real, imag, conj: R-linear maps with JAX's transpose conventions. Elementwise
    (``elementwise.PRIMS`` lists them with the ufuncs), defined here because the
    cotangent rules of every family take the real part (:func:`fit_cotangent`)."""

    def __init__(self, name, impl, transpose):
        super().__init__(name)
        self.impl = impl
        self.transpose = transpose

    def jvp(self, primals, tangents):
        (x,), (t,) = primals, tangents
        ans = self.bind(x)
        return ans, (Zero.like(ans) if type(t) is Zero else self.bind(t))

    def vjp(self, ct, ans, args, needs):
        return [self.transpose(ct, args[0])]

    def batch(self, args, dims):
        return self.bind(args[0]), dims[0]

    def cost(self, args, ans):
        return _size(shape_of(ans))


def _real_t(ct, x):
    # ct + 0j, built exactly (``ct + 0j * ct`` is nan where ct is infinite)
    return ct if dtype_of(x).kind != "c" else complex_p.bind(ct, 0.0)


def _imag_t(ct, x):
    return 0.0 * ct if dtype_of(x).kind != "c" else -1j * ct


def _conj_t(ct, x):
    return conj_p.bind(ct)


copy_p = Copy("copy")
complex_p = Complex("complex")
broadcast_to_p = BroadcastTo("broadcast_to")
transpose_p = Transpose("transpose")
reduce_sum_p = ReduceSum("reduce_sum")
moveaxis_p = MoveAxis("moveaxis")
convert_element_type_p = ConvertElementType("convert_element_type")
real_p = ComplexPart("real", np.real, _real_t)
imag_p = ComplexPart("imag", np.imag, _imag_t)
conj_p = ComplexPart("conjugate", np.conjugate, _conj_t)


# ----------------------------------------------------------- helpers used by rules

def reshape(x, shape):
    shape = tuple(shape)
    return x if shape_of(x) == shape else reshape_p.bind(x, shape=shape)


def broadcast_to(x, shape):
    shape = tuple(shape)
    return x if shape_of(x) == shape else broadcast_to_p.bind(x, shape=shape)


def transpose(x, axes):
    axes = tuple(int(a) for a in axes)
    return x if axes == tuple(range(len(axes))) else transpose_p.bind(x, axes=axes)


def moveaxis(x, source, destination):
    nd = len(shape_of(x))
    source, destination = source % nd if nd else 0, destination % nd if nd else 0
    return x if source == destination else moveaxis_p.bind(
        x, source=source, destination=destination)


def reduce_sum(x, axis, keepdims=False):
    if not axis and not keepdims:
        return x
    return reduce_sum_p.bind(x, axis=tuple(axis), keepdims=keepdims)


def real(x):
    return real_p.bind(x)


def bdim_to_front(x, d, size):
    """Batch axis of ``x`` at position 0, broadcasting an unbatched ``x`` (d None)."""
    if d is None:
        s = shape_of(x)
        return broadcast_to(reshape(x, (1,) + s), (size,) + s)
    return moveaxis(x, d, 0)


def batch_to_front(args, dims):
    """vmap rules: every batch axis moved to the front, unbatched arguments broadcast
    along it (``dims[i]`` is the batch axis of ``args[i]`` or None)."""
    n = axis_size(args, dims)
    return [bdim_to_front(x, d, n) for x, d in zip(args, dims)]


def unbroadcast(ct, shape):
    """Sum ``ct`` down to ``shape`` (the transpose of NumPy broadcasting)."""
    cs = shape_of(ct)
    if cs == shape:
        return ct
    lead = len(cs) - len(shape)
    axes = tuple(range(lead)) + tuple(
        i + lead for i, d in enumerate(shape) if d == 1 and cs[i + lead] != 1)
    keep = not lead                         # only axes of length 1: keep them
    if type(ct) is np.ndarray:              # concrete: one NumPy reduction
        r = np.add.reduce(ct, axis=axes, keepdims=keep)
        return r if keep else r.reshape(shape)
    r = reduce_sum(ct, axes, keep)
    return r if keep else reshape(r, shape)


def fit_cotangent(ct, x):
    """Bring a cotangent to the shape and (real/complex) kind of argument ``x``."""
    if type(ct) is float and type(x) is float:      # Python scalars: nothing to do
        return ct
    xs = shape_of(x)
    if shape_of(ct) != xs:
        if type(ct) is Scaled:
            return scaled(fit_cotangent(ct.base, x), ct.scale)
        ct = unbroadcast(ct, xs)
    if dtype_of(ct).kind == "c" and dtype_of(x).kind != "c":
        ct = real(ct)
    return ct
