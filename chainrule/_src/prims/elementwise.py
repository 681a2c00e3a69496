"""Elementwise primitives as tables: one row per NumPy ufunc.

A unary row is ``(name, numpy function, derivative)`` where the derivative is an
expression in ``x`` and ``ans`` written with chainrule operations, so it can be
differentiated again. A binary row has one derivative per argument. The factories
derive jvp, vjp, batching and cost from the row; un-broadcasting of cotangents
happens once, in :func:`fit_cotangent`.

Complex numbers follow JAX's convention: for holomorphic functions the vjp is the
plain transpose ``ct * f'(x)`` (no conjugation).

Rows marked ``singular`` have derivatives that are infinite somewhere (sqrt and log
at 0, ...). Their rules multiply the incoming tangent/cotangent by the derivative with
:class:`SingularProduct`, a product that is 0 wherever the tangent is 0 (``0 * inf`` is
0, not nan): a direction that does not move an input contributes nothing. This is what
makes ``where(x > 0, sqrt(x), 0)`` differentiable at ``x = 0``. The product's own
derivative in the tangent is the derivative itself, so a tangent that is 0 only at this
point (zero-initialised weights ``w`` times ``sqrt(s)``) still has the right second
derivative: ``d/dw d/ds w sqrt(s)`` is ``inf`` at ``s = 0``, as it is.

A unary row whose formula is 0/0 at a point where the function is smooth (sinc at 0)
declares a :class:`Removable` singularity instead: the limits of the function and of
its first two derivatives there (and optionally of higher ones), which the rules use at
that point; a derivative beyond those declared is nan there.

Each row becomes a primitive in ``PRIMS`` (:func:`add_row`); ``numpy/ufuncs.py`` makes
every primitive of ``PRIMS`` a chainrule.numpy function, routes ``np.<name>(tracer)`` to
it, and the docs' function lists are generated from that registry.
"""
import functools
import math
import operator

import numpy as np

from .. import backend
from ..core import (numpy_only, Primitive, NonDiffPrimitive, Zero, shape_of, dtype_of, instantiate,
                    size_of, Scaled, scaled, materialize)
from ..interpreters.batching import fit_scale, safe_factor, one_sign
from ..interpreters.forward import jvp_flat
from .shape import (fit_cotangent, broadcast_to, moveaxis, reshape,
                    real_p, imag_p, conj_p, convert_element_type_p)


def _size(x):
    return size_of(shape_of(x))


def _times(ct, d, operands=()):
    """``ct * d`` for a tangent or cotangent ``ct``. A scalar ``d`` is left as a pending
    factor on a large array (:func:`~chainrule._src.core.scaled`; the traces take it out
    of the next rule), and the product is skipped when ``ct`` is the broadcast 1.0 that
    seeds the backward pass of a sum (the first rule of every ``grad(sum(...))`` would
    otherwise multiply a whole array by ones), unless ``d`` is one of ``operands`` (the
    rule's arguments and output, which may be the caller's arrays: a result is never
    one of them)."""
    scalar = type(d) is float or type(d) is int or getattr(d, "shape", None) == ()
    if type(ct) is Scaled:                  # a tangent whose factor is still pending
        return scaled(ct, d) if scalar else scaled(ct.base * d, ct.scale)
    if type(ct) is np.ndarray:
        if scalar:
            return scaled(ct, d)
        if ct.size > 1 and not any(ct.strides) and ct.flat[0] == 1 and \
                getattr(d, "shape", None) == ct.shape and dtype_of(d) == ct.dtype and \
                not any(d is o for o in operands):
            return d
    return ct * d


def _no_zeros(t):
    """True when ``t`` is a concrete array (or float) without zeros: a singular row's
    product with it is the plain one (:class:`SingularProduct` would change nothing).
    A pending factor is never zero, so a Scaled has the zeros of its base."""
    if type(t) is Scaled:
        t = t.base
    if type(t) is np.ndarray:
        if t.size and not any(t.strides):   # a broadcast seed: one value to look at
            return bool(t.flat[0])
        return t.all()
    return type(t) is float and t != 0.0


def _at(deriv, *args):
    """``deriv(*args)`` without warnings, where it may be infinite (a singular row's
    derivative at its singular point). Python numbers that raise there (``1.0 / 0.0``)
    are taken as NumPy's float64, which gives ``inf`` as NumPy does."""
    with np.errstate(all="ignore"):
        try:
            return deriv(*args)
        except (ZeroDivisionError, OverflowError, ValueError):
            return deriv(*[np.float64(a) if type(a) in (int, float) else a for a in args])


def _deriv(deriv, *args):
    """``deriv(*args)``, or :func:`_at`'s NumPy answer where Python numbers raise (a
    Python float at a singular point, ``1.0 / 0.0`` in log's derivative: NumPy's inf,
    as for a float64 argument, not ZeroDivisionError)."""
    try:
        return deriv(*args)
    except (ZeroDivisionError, OverflowError):
        return _at(deriv, *args)


def _singular_times(prim, args, which, t):
    """``t`` times the derivative of the singular row ``prim`` in argument ``which``
    at ``args``, 0 where ``t`` is 0 (:class:`SingularProduct`); a pending factor on
    ``t`` (never 0) stays pending."""
    if type(t) is Scaled:
        return scaled(singular_product_p.bind(*args, t.base, row=prim, which=(which,)),
                      t.scale)
    return singular_product_p.bind(*args, t, row=prim, which=(which,))


class Unary(Primitive):
    """An elementwise function of one argument with derivative ``deriv(x, ans)``."""
    defer = "map"

    def __init__(self, name, impl, deriv, singular=None, flops=1):
        super().__init__(name)
        self.ufunc = _ufunc(name, impl)
        # (a ufunc reaches Dask and CuPy arrays; another function may convert them)
        self.impl = impl if self.ufunc is not None else numpy_only(name, impl)
        self.deriv = deriv
        # whether the derivative is infinite somewhere (the row gives a point or True)
        self.singular = singular is not None and singular is not False
        self.flops = flops

    def _times_d(self, t, x, ans):
        """The tangent/cotangent ``t`` times the derivative at ``x``: 0 where ``t`` is 0
        for a singular row (:class:`SingularProduct`)."""
        if not self.singular or _no_zeros(t):
            return _times(t, _deriv(self.deriv, x, ans), (x, ans))
        return _singular_times(self, (x,), 0, t)

    def jvp(self, primals, tangents):
        (x,), (t,) = primals, tangents
        ans = self.bind(x)
        if type(t) is Zero:
            return ans, Zero.like(ans)
        return ans, self._times_d(t, x, ans)

    def vjp(self, ct, ans, args, needs):
        return [self._times_d(ct, args[0], ans)]

    def batch(self, args, dims):
        return self.bind(args[0]), dims[0]

    def cost(self, args, ans):
        return self.flops * _size(ans)

    prefix = None           # code generation: an operator (``_CODEGEN``), if any

    def spell(self, ops, ins, **params):
        return None if self.prefix is None else f"{self.prefix}{ops[0]}"


class Removable:
    """Points where a unary row's derivative formula is 0/0 although the function is
    smooth there, each with the limits of the function and of its first and second
    derivatives: ``Removable({0.0: (1.0, 0.0, -math.pi ** 2 / 3)})`` for sinc.

    At such a point ``x0`` the rules take the derivative to be ``d1`` with derivative
    ``d2`` (:class:`RemovableTaylor`), so first and second derivatives are exact there
    in forward and reverse mode. ``higher`` may give the limits of the next derivatives,
    ``{x0: (f3, f4, ...)}``; a derivative beyond those declared is nan at the point,
    never a finite guess. Elsewhere the
    formula runs with the points replaced by ``safe`` (a point where it is finite), so
    the unselected branch and its derivatives never turn into nan. The op database
    adds a sample at every declared point (tests/opdb/__init__.py).
    """

    def __init__(self, limits, safe=None, higher=None):
        self.limits = {p: tuple(v) for p, v in limits.items()}
        if any(len(v) != 3 for v in self.limits.values()):
            raise ValueError("Removable: give (f, f', f'') at each point")
        self.higher = {p: tuple(v) for p, v in (higher or {}).items()}
        if any(p not in self.limits for p in self.higher):
            raise ValueError("Removable: higher derivatives at a point without limits")
        self.safe = max(self.limits) + 1.0 if safe is None else safe
        if self.safe in self.limits:
            raise ValueError(f"Removable: the safe point {self.safe} is a declared point")

    def coefs(self, p):
        """The limits of f', f'', f3, ... at the declared point ``p``."""
        return self.limits[p][1:] + self.higher.get(p, ())

    def __repr__(self):
        return f"Removable({self.limits})"


class RemovableUnary(Unary):
    """A unary row with a :class:`Removable` singularity (``removable``)."""

    def __init__(self, name, impl, deriv, removable, flops=1):
        super().__init__(name, impl, deriv, flops=flops)
        self.removable = removable

    def _times_d(self, t, x, ans):
        return _times(t, self._d(x, ans), (x, ans))

    def _d(self, x, ans):
        r = self.removable
        at = [equal_p.bind(x, p) for p in r.limits]
        hit = at[0]
        for m in at[1:]:
            hit = PRIMS["logical_or"].bind(hit, m)
        d = self.deriv(select_p.bind(hit, r.safe, x),
                       select_p.bind(hit, self.impl(r.safe), ans))
        for m, p in zip(at, r.limits):
            d = select_p.bind(m, removable_taylor_p.bind(x, point=p, coefs=r.coefs(p)), d)
        return d


class RemovableTaylor(Primitive):
    """The derivative of a :class:`RemovableUnary` at its declared point ``point``:
    ``bind(x, point=p, coefs=(c0, c1, ...))`` is ``c0`` where ``x == p`` (0 elsewhere,
    where a ``where`` drops it), and its tangent is ``t`` times ``bind(x, point=p,
    coefs=(c1, ...))``; with no coefficient left it is nan at the point. So each
    derivative of the row's function at the point is its declared limit while there is
    one, and nan after that: never a finite guess (the polynomial ``d1 + d2 (x - p)``
    made every third derivative 0, where sinc's fourth is pi^4 / 5)."""
    dispatches = True           # operators and np.where: Dask/CuPy arrays too
    vjp_uses_ans = False

    def impl(self, x, *, point, coefs):
        c = coefs[0] if coefs else np.nan
        if type(x) in (float, complex):
            return c + 0.0 * x if x == point else 0.0 * x
        z = x * 0.0                         # (x's dtype and shape)
        out = np.where(x == point, z + c, z)
        return out[()] if type(out) is np.ndarray and not out.ndim else out

    def jvp(self, primals, tangents, *, point, coefs):
        (x,), (t,) = primals, tangents
        ans = self.bind(x, point=point, coefs=coefs)
        if type(t) is Zero:
            return ans, Zero.like(ans)
        return ans, _times(t, self.bind(x, point=point, coefs=coefs[1:]))

    def vjp(self, ct, ans, args, needs, *, point, coefs):
        return [_times(ct, self.bind(args[0], point=point, coefs=coefs[1:]))]

    def batch(self, args, dims, *, point, coefs):
        return self.bind(args[0], point=point, coefs=coefs), dims[0]

    def cost(self, args, ans, **params):
        return _size(ans)


class Binary(Primitive):
    """An elementwise function of two broadcasting arguments.

    ``d_x(x, y, ans)`` and ``d_y`` are the partial derivatives; the constants ``ONE``
    and ``NEG`` mark the derivative 1 and -1 so linear rows do no multiplication.
    Its jvp takes tangents with different pending factors (``core.Scaled``) as they
    are: each partial keeps its factor and the sum combines them.
    """
    scaled_tangents = True
    defer = "map"

    def __init__(self, name, impl, d_x, d_y, singular=False, flops=1):
        super().__init__(name)
        self.ufunc = _ufunc(name, impl)
        # (a ufunc reaches Dask and CuPy arrays; another function may convert them)
        self.impl = impl if self.ufunc is not None else numpy_only(name, impl)
        # singular: False, True, or a predicate (x, y) -> bool deciding per call
        self.singular = singular
        self.d_x, self.d_y = d_x, d_y
        self.flops = flops

    def _apply(self, t, d, x, y, ans):
        if d is ONE:
            return t
        if d is NEG:
            return scaled(t, -1.0)
        x, y = _computed_in(x, y)
        s = self.singular
        if s is False or (s is not True and not s(x, y)) or _no_zeros(t):
            return _times(t, _deriv(d, x, y, ans), (x, y, ans))
        return _singular_times(self, (x, y), 0 if d is self.d_x else 1, t)

    def jvp(self, primals, tangents):
        ans = self.bind(*primals)
        return ans, self.jvp_with_ans(primals, tangents, ans)

    def jvp_with_ans(self, primals, tangents, ans):
        """The tangent, given the output ``ans`` (for rows whose derivatives do not read
        it, ``vjp_uses_ans = False``, a ``deferred.Pending`` that stays unevaluated)."""
        x, y = primals
        tx, ty = tangents
        dt = dtype_of(ans)

        def passed(t, d):
            # a derivative of +-1 hands the tangent on: in the output's dtype (float32
            # x % int32 y is float64, a real x + complex y complex), as NumPy's
            if (d is ONE or d is NEG) and dtype_of(t) != dt and dt.kind in "fc":
                return convert_element_type_p.bind(materialize(t), dtype=dt)
            return t
        out = None
        if type(tx) is not Zero:
            out = self._apply(passed(tx, self.d_x), self.d_x, x, y, ans)
        if type(ty) is not Zero:
            ty = self._apply(passed(ty, self.d_y), self.d_y, x, y, ans)
            out = ty if out is None else ty + out if type(ty) is Scaled else out + ty
        if out is None:
            return Zero.like(ans)
        if dtype_of(out) != dt and dt.kind in "fc":     # (no other rule should need it)
            out = convert_element_type_p.bind(materialize(out), dtype=dt)
        shape = shape_of(ans)
        if type(out) is Scaled:
            return out if out.shape == shape else \
                scaled(broadcast_to(out.base, shape), out.scale)
        return broadcast_to(out, shape)

    def vjp(self, ct, ans, args, needs):
        x, y = args
        ct_x = fit_cotangent(self._apply(ct, self.d_x, x, y, ans), x) if needs[0] else None
        ct_y = fit_cotangent(self._apply(ct, self.d_y, x, y, ans), y) if needs[1] else None
        return (ct_x, ct_y)

    def batch(self, args, dims):
        x, y = args
        dx, dy = dims
        nd = max(len(shape_of(x)) - (dx is not None), len(shape_of(y)) - (dy is not None))
        x = _lead_batch(x, dx, nd)
        y = _lead_batch(y, dy, nd)
        return self.bind(x, y), 0

    def cost(self, args, ans):
        return self.flops * _size(ans)

    # code generation: the operator the table (``_CODEGEN``) gives, if any
    infix, scalar_infix, units = None, None, ()

    def spell(self, ops, ins, **params):
        if self.infix is None:
            return None
        if self.scalar_infix is not None and not (ins[0].shape or ins[1].shape) and \
                not self.scalar_infix(*ins):
            return None         # Python's operator on two scalars would differ from NumPy
        return f"{ops[0]} {self.infix} {ops[1]}"

    def simplify(self, ins, graph, **params):
        # ``units[i]``: the number operand i may be for the output to be the other one.
        # Exactly, signed zeros included: x + (-0.0) and x - 0.0 are x, but x + 0.0 is
        # +0.0 where x is -0.0; a complex x is left alone (1 is 1 + 0j: x * 1 turns an
        # infinite part into nan, x + 0.0 a -0.0 imaginary part into +0.0)
        for i, unit in enumerate(self.units):
            if unit is None:
                continue
            v, kind = _number(ins[i]), ins[1 - i].dtype.kind
            if v is None or v != unit or kind == "c":
                continue
            if unit == 0 and kind == "f" and (not isinstance(v, (float, np.floating)) or
                                              math.copysign(1.0, v) !=
                                              math.copysign(1.0, unit)):
                continue
            return ins[1 - i]
        return None


_PY_NUMBERS = (int, float, complex, bool)


def _computed_in(x, y):
    """``x`` and ``y`` in the dtype NumPy computes ``x op y`` in, for the derivative
    formulas: float64 ``x / y`` with a float32 or float16 ``y`` divides by float64(y),
    so its derivative is ``1 / float64(y)``, not ``1 / y`` rounded to y's precision
    (``2 ** -11`` relative error for float16). Python numbers are weak (they take the
    other operand's dtype) and integer and bool operands are left alone, but for a
    complex ``y`` a real Python ``x`` is complex: ``(-2) ** z`` has the derivative
    ``log(-2 + 0j) (-2) ** z`` (a real ``y`` stays a Python number: power's rules
    branch on it)."""
    if type(x) in _PY_NUMBERS or type(y) in _PY_NUMBERS:
        if type(x) in _PY_NUMBERS and type(x) is not complex and \
                type(y) not in _PY_NUMBERS and dtype_of(y).kind == "c":
            x = complex(x)
        return x, y
    dx, dy = dtype_of(x), dtype_of(y)
    if dx == dy:
        return x, y
    dt = np.promote_types(dx, dy)
    if dt.kind not in "fc":
        return x, y
    return _cast_inexact(x, dx, dt), _cast_inexact(y, dy, dt)


def _cast_inexact(v, dv, dt):
    if dv == dt or dv.kind not in "fc":
        return v
    return convert_element_type_p.bind(v, dtype=dt)


def _number(x):
    """The value of a constant operand that is a number (Python's, or a NumPy float64
    or int64; code generation's operands: a constant has its value in ``val``), else
    None."""
    v = getattr(x, "val", None)
    return v if type(v) in (int, float, np.float64, np.int64) else None


def _nonzero_divisor(x, y):
    """Python divides two scalars as NumPy does unless the divisor is 0 (it raises
    where NumPy gives inf or nan): a divisor that is a non-zero number is safe."""
    return _number(y) not in (None, 0)


def _ufunc(name, impl):
    """The NumPy ufunc a row computes: its implementation, or NumPy's function of the
    row's name (add's implementation is Python's operator, fast on scalars)."""
    if isinstance(impl, np.ufunc):
        return impl
    f = getattr(np, name, None)
    return f if isinstance(f, np.ufunc) else None


def _lead_batch(x, d, nd):
    """Move batch axis ``d`` of ``x`` to the front, padding to ``nd`` + 1 dimensions."""
    if d is None:
        return x                            # broadcasting aligns it behind the batch axis
    x = moveaxis(x, d, 0)
    s = shape_of(x)
    pad = nd - (len(s) - 1)
    return reshape(x, (s[0],) + (1,) * pad + s[1:]) if pad > 0 else x


def _inner(a, b):
    """sum(a * b) over all elements, as one dot product (a and b of equal shape). The
    product is the ``@`` operator, as derivative expressions are written with operators:
    NumPy's on arrays, chainrule's matmul on traced values (products.py sits above this
    module and imports it)."""
    if len(shape_of(a)) != 1:
        a, b = reshape(a, (-1,)), reshape(b, (-1,))
    return a @ b


class Linear(Binary):
    """x + y, x - y: derivatives 1 and -1, read neither the output nor the arguments
    (only their shapes). Under vmap, two scalings of one batched array add (or subtract)
    their factors."""
    vjp_uses_ans = False
    vjp_uses_args = False

    def batch_scaled(self, args, dims, scales):
        sa, sb = scales
        if (sa is None and sb is None) or args[0] is not args[1] or dims[0] != dims[1]:
            return None
        dt = dtype_of(args[0])
        one = dt.type(1)                    # (factors have the batch's dtype)
        sa, sb = one if sa is None else sa, one if sb is None else sb
        # (x a - x b as x (a - b) only where it is exact on infinities: see one_sign)
        if not one_sign(sa, sb, subtract=self.name == "subtract", base=args[0]):
            return None
        f = safe_factor(self.bind(sa, sb), dt)
        return None if f is None else (args[0], dims[0], f)


class Power(Binary):
    """x ** y. A square (constant y == 2) has tangent and cotangent ``2 x t`` with the
    factor 2 left pending."""

    def _apply(self, t, d, x, y, ans):
        if d is self.d_x and (type(y) is int or type(y) is float) and y == 2:
            return scaled(_times(t, x), 2.0)
        return Binary._apply(self, t, d, x, y, ans)

    def reads_ans(self, args, needs):
        # d/dx = y x^(y-1) does not read x^y
        return needs[1]


class Multiply(Binary):
    """x * y. A scalar times an array (a step size times a gradient) takes its
    cotangent as one dot product instead of a product array and a sum; a square
    ``x * x`` has tangent ``2 x t`` (two passes, not three)."""
    vjp_uses_ans = False                    # the derivatives are the arguments

    def jvp_with_ans(self, primals, tangents, ans):
        x, y = primals
        tx, ty = tangents
        if x is y and tx is ty and type(tx) is not Zero:
            return scaled(x * tx, 2.0)
        return Binary.jvp_with_ans(self, primals, tangents, ans)

    def vjp(self, ct, ans, args, needs):
        x, y = args
        cts = shape_of(ct)
        if cts:
            xs, ys = shape_of(x), shape_of(y)
            if not xs and ys == cts:            # scalar x times array y
                s, a, need_s, need_a = x, y, needs[0], needs[1]
            elif not ys and xs == cts:
                s, a, need_s, need_a = y, x, needs[1], needs[0]
            else:
                return Binary.vjp(self, ct, ans, args, needs)
            ct_s = fit_cotangent(_inner(ct, a), s) if need_s else None
            ct_a = fit_cotangent(scaled(ct, s), a) if need_a else None
            return (ct_s, ct_a) if s is x else (ct_a, ct_s)
        return Binary.vjp(self, ct, ans, args, needs)

    def batch_scaled(self, args, dims, scales):
        """A large batched array times an unbatched factor that does not grow its
        examples: the factor is kept pending (``BatchTracer.scale``), multiplied into
        the one already pending."""
        for i in (0, 1):
            j = 1 - i
            if dims[i] is not None and dims[j] is None:
                val, u, s = args[i], args[j], scales[i]
                f = fit_scale(val, dims[i], u, s)
                return None if f is None else (val, dims[i], f)
        return None

    def batch_diagonal(self, args, dims, diags):
        """The one-hot basis scaled by ``d`` times an unbatched factor of shape () or
        (n,) (an elementwise derivative, in jacrev's and jacfwd's passes) is the basis
        scaled by ``d`` and that factor: the product is computed as ``batch`` does, and
        the factor is recorded with it (``MatMul.batch_diagonal`` uses them)."""
        for i in (0, 1):
            if diags[i] is not None and dims[1 - i] is None and \
                    shape_of(args[1 - i]) in ((), shape_of(args[i])[:1]):
                ans, out_dim = self.batch(args, dims)
                return ans, out_dim, diags[i] + (args[1 - i],)
        return None


class NonDiffElementwise(NonDiffPrimitive):
    """Elementwise with zero derivative (comparisons, floor, sign, ...)."""

    def __init__(self, name, impl):
        super().__init__(name)
        self.ufunc = _ufunc(name, impl)
        # (a ufunc reaches Dask and CuPy arrays; another function may convert them)
        self.impl = impl if self.ufunc is not None else numpy_only(name, impl)
        for k, v in _CODEGEN.get(name, {}).items():
            setattr(self, k, v)

    def batch(self, args, dims):
        if len(args) == 1:
            return self.bind(args[0]), dims[0]
        return Binary.batch(self, args, dims)

    def cost(self, args, ans):
        return _size(ans)

    infix, scalar_infix, units = None, None, ()
    spell = Binary.spell


ONE, NEG = object(), object()
LN2, LN10 = math.log(2.0), math.log(10.0)

def _py_or_np(py_op, np_op):
    """Python's operator (fast on scalars, NumPy's ufunc on arrays), with NumPy's
    answer where Python raises (1.0 / 0.0 -> inf, (-8.0) ** 0.5 -> nan)."""
    def op(a, b):
        try:
            r = py_op(a, b)
        except (ZeroDivisionError, OverflowError):
            return np_op(a, b)
        if type(r) is complex and type(a) is not complex and type(b) is not complex:
            return np_op(a, b)
        return r
    op.__name__ = np_op.__name__
    return op


# ------------------------------------------------------------------ unary table
# name, numpy implementation, derivative(x, ans) [, singular: True, or a Removable]
_UNARY = [
    ("negative", operator.neg, lambda x, a: -1.0),
    ("positive", np.positive, lambda x, a: 1.0),
    ("sin", np.sin, lambda x, a: cos(x)),
    ("cos", np.cos, lambda x, a: -sin(x)),
    ("tan", np.tan, lambda x, a: 1.0 + a * a),
    # (1 - x^2 without cancellation near |x| = 1: the derivative was off by 2.5e-10
    # relative at 0.999999999; see _one_minus_square)
    ("arcsin", np.arcsin, lambda x, a: 1.0 / sqrt(_one_minus_square(x)), True),
    ("arccos", np.arccos, lambda x, a: -1.0 / sqrt(_one_minus_square(x)), True),
    ("arctan", np.arctan, lambda x, a: 1.0 / (1.0 + x * x)),
    ("sinh", np.sinh, lambda x, a: cosh(x)),
    ("cosh", np.cosh, lambda x, a: sinh(x)),
    ("tanh", np.tanh, lambda x, a: 1.0 - a * a),
    # hypot(x, 1) and sqrt(x - 1) sqrt(x + 1): no overflow of x*x past 1e154 (the
    # derivative was 0 at 1e200, where it is 1e-200) and no cancellation near 1
    ("arcsinh", np.arcsinh, lambda x, a: 1.0 / (sqrt(x * x + 1.0) if dtype_of(x).kind == "c"
                                                 else hypot(x, 1.0))),
    ("arccosh", np.arccosh, lambda x, a: 1.0 / (sqrt(x - 1.0) * sqrt(x + 1.0)), True),
    ("arctanh", np.arctanh, lambda x, a: 1.0 / _one_minus_square(x), True),
    ("exp", np.exp, lambda x, a: a),
    ("exp2", np.exp2, lambda x, a: a * LN2),
    ("expm1", np.expm1, lambda x, a: exp(x)),   # (a + 1 cancels for x < -1: 4e-6 at -25)
    ("log", np.log, lambda x, a: 1.0 / x, True),
    ("log2", np.log2, lambda x, a: 1.0 / (x * LN2), True),
    ("log10", np.log10, lambda x, a: 1.0 / (x * LN10), True),
    ("log1p", np.log1p, lambda x, a: 1.0 / (x + 1.0), True),
    ("sqrt", np.sqrt, lambda x, a: 0.5 / a, True),
    ("cbrt", np.cbrt, lambda x, a: 1.0 / (3.0 * a * a), True),
    ("square", np.square, lambda x, a: 2.0 * x),
    ("reciprocal", np.reciprocal, lambda x, a: -a * a, True),
    ("deg2rad", np.deg2rad, lambda x, a: math.pi / 180.0),
    ("rad2deg", np.rad2deg, lambda x, a: 180.0 / math.pi),
    ("fabs", np.fabs, lambda x, a: sign(x)),
    ("sinc", np.sinc, lambda x, a: (cos(math.pi * x) - a) / x,
     # (sinc = sum_k (-1)^k (pi x)^(2k) / (2k+1)!: f^(2k)(0) = (-1)^k pi^(2k) / (2k+1))
     Removable({0.0: (1.0, 0.0, -math.pi ** 2 / 3)},
               higher={0.0: (0.0, math.pi ** 4 / 5, 0.0, -math.pi ** 6 / 7, 0.0,
                             math.pi ** 8 / 9)})),
]

_BINARY = [
    # name, impl, d/dx(x, y, ans), d/dy(x, y, ans) [, singular]
    ("add", operator.add, ONE, ONE),
    ("subtract", operator.sub, ONE, NEG),
    ("multiply", operator.mul, lambda x, y, a: y, lambda x, y, a: x),
    ("divide", _py_or_np(operator.truediv, np.divide), lambda x, y, a: divide(1.0, y),
     lambda x, y, a: -divide(a, y)),
    ("power", _py_or_np(operator.pow, np.power), lambda x, y, a: _power_dx(x, y),
     lambda x, y, a: select_p.bind(x == 0, 0.0 * a, a * log(_safe(x, x == 0, like_x=True))),
     lambda x, y: not (type(y) in (int, float) and y >= 1)),
    ("arctan2", np.arctan2, lambda x, y, a: y / (x * x + y * y),
     lambda x, y, a: -x / (x * x + y * y)),
    ("hypot", np.hypot, lambda x, y, a: x / _safe(a, a == 0),
     lambda x, y, a: y / _safe(a, a == 0)),
    ("logaddexp", np.logaddexp, lambda x, y, a: exp(x - a), lambda x, y, a: exp(y - a)),
    ("logaddexp2", np.logaddexp2, lambda x, y, a: exp2(x - a), lambda x, y, a: exp2(y - a)),
    ("maximum", np.maximum, lambda x, y, a: _pick(x, y, greater_p, a),
     lambda x, y, a: _pick(y, x, greater_p, a)),
    ("minimum", np.minimum, lambda x, y, a: _pick(x, y, less_p, a),
     lambda x, y, a: _pick(y, x, less_p, a)),
    ("fmax", np.fmax, lambda x, y, a: _pick(x, y, greater_p, a),
     lambda x, y, a: _pick(y, x, greater_p, a)),
    ("fmin", np.fmin, lambda x, y, a: _pick(x, y, less_p, a),
     lambda x, y, a: _pick(y, x, less_p, a)),
    # |x| with y's sign bit: subgradient 0 at x = 0 (as abs), y = -0.0 counts as negative
    ("copysign", np.copysign, lambda x, y, a: sign(x) * copysign(1.0, y),
     lambda x, y, a: 0.0 * sign(y)),
    # 0 for x < 0, y where x == 0, 1 for x > 0: linear in y where x == 0
    ("heaviside", np.heaviside, lambda x, y, a: 0.0 * sign(a), lambda x, y, a: x == 0),
    ("remainder", np.remainder, ONE, lambda x, y, a: -floor(x / y)),
    ("fmod", np.fmod, ONE, lambda x, y, a: -trunc(x / y)),
]

_NONDIFF = [
    "sign", "floor", "ceil", "trunc", "rint", "signbit", "isnan", "isinf", "isfinite",
    "logical_not", "invert", "bitwise_not",
    "equal", "not_equal", "less", "less_equal", "greater", "greater_equal",
    "logical_and", "logical_or", "logical_xor", "floor_divide",
    "bitwise_and", "bitwise_or", "bitwise_xor", "left_shift", "right_shift",
    "gcd", "lcm",
]
_NONDIFF_OPS = {"equal": operator.eq, "not_equal": operator.ne, "less": operator.lt,
                "less_equal": operator.le, "greater": operator.gt,
                "greater_equal": operator.ge}


# code generation (graph/codegen.py): the operator that spells a row (``scalar_infix``:
# whether it may where both operands are scalars, if not always), its units
# (``x op unit == x``, per side), and the algebra that lets scalar factors ride through
# (core.Primitive's docstring)
_CODEGEN = {
    "add": dict(infix="+", units=(-0.0, -0.0), combination=(1.0, 1.0)),
    "subtract": dict(infix="-", units=(None, 0.0), combination=(1.0, -1.0)),
    "multiply": dict(infix="*", units=(1, 1), homogeneous=(1, 1)),
    "divide": dict(infix="/", scalar_infix=_nonzero_divisor, units=(None, 1),
                   homogeneous=(1, -1)),
    "power": dict(infix="**", scalar_infix=lambda x, y: False),
    "negative": dict(prefix="-", combination=(-1.0,)),
    "positive": dict(combination=(1.0,)),
    # comparisons: Python's operators are their implementations
    **{name: dict(infix=op) for name, op in [
        ("equal", "=="), ("not_equal", "!="), ("less", "<"), ("less_equal", "<="),
        ("greater", ">"), ("greater_equal", ">=")]},
}


def _one_minus_square(x):
    """1 - x^2 without cancellation: as written where |x| < 0.5 (its derivative -2x is
    exact near 0), as (1 - x)(1 + x) elsewhere (exact near |x| = 1)."""
    return select_p.bind(less_p.bind(abs_p.bind(x), 0.5), 1.0 - x * x, (1.0 - x) * (1.0 + x))


def _power_dx(x, y):
    # y * x**(y-1), written so that x**0 has derivative 0 (not 0 * inf)
    if type(y) in (int, float):             # (y == 2 is Power._apply's square)
        if y == 0:
            return 0.0 * x
        if y == 1:
            return 1.0 + 0.0 * x
    return y * power(x, y - 1)


def _safe(x, bad, fill=1.0, *, like_x=False):
    """``x`` with ``fill`` where ``bad`` (a safe point, e.g. 1 for zeros): keeps the
    unselected branch of a ``where`` finite so that neither it nor its derivative
    turns into nan.

    By default the fill is the scalar ``fill``, which stays finite everywhere.
    ``like_x=True`` fills with ``fill + 0 * x`` instead: that has the dtype of ``x``,
    so higher derivatives of float32/complex64 inputs keep that precision (the zero
    tangent of a scalar fill is float64), but it is nan where ``x`` is infinite, so
    it only suits a ``bad`` that holds no infinities (such as ``x == 0``)."""
    if like_x:
        fill = fill + 0.0 * x
    return select_p.bind(bad, fill, x)


def _pick(x, y, cmp, ans):
    """1 where x wins, 0.5 at ties (as JAX), 0 where y wins: in the (real) precision of
    the output ``ans`` (a float32 tangent stays float32)."""
    dt = dtype_of(ans)
    dt = np.dtype(dt.char.lower()) if dt.kind in "fc" else np.dtype(np.float64)
    win = select_p.bind(cmp.bind(x, y), dt.type(1.0), dt.type(0.0))
    return select_p.bind(equal_p.bind(x, y), dt.type(0.5), win)


# ----------------------------------------------------------- special elementwise

class Select(Primitive):
    """where(cond, x, y): cond is not differentiable; the unselected side gets 0."""
    dispatches = True           # Dask/CuPy arrays too (core.Primitive)

    def impl(self, c, x, y):
        return np.where(c, x, y)

    def jvp(self, primals, tangents):
        c, x, y = primals
        _, tx, ty = tangents
        ans = self.bind(c, x, y)
        if type(tx) is Zero and type(ty) is Zero:
            return ans, Zero.like(ans)
        return ans, broadcast_to(self.bind(c, instantiate(tx), instantiate(ty)),
                                 shape_of(ans))

    def vjp(self, ct, ans, args, needs):
        c, x, y = args
        z = np.zeros(shape_of(ct), dtype_of(ct))     # not 0 * ct: ct may hold inf
        return [None,
                fit_cotangent(self.bind(c, ct, z), x) if needs[1] else None,
                fit_cotangent(self.bind(c, z, ct), y) if needs[2] else None]

    def batch(self, args, dims):
        nd = max(len(shape_of(a)) - (d is not None) for a, d in zip(args, dims))
        return self.bind(*[_lead_batch(a, d, nd) for a, d in zip(args, dims)]), 0

    def cost(self, args, ans):
        return _size(ans)

    def spell(self, ops, ins):
        return f"np.where({ops[0]}, {ops[1]}, {ops[2]})"

    def simplify(self, ins, graph):
        # a constant condition, all true or all false, picks one operand (not an array
        # the user can write into between calls: ``live``)
        c = getattr(ins[0], "val", None)
        if c is not None and not ins[0].live:
            c = np.asarray(c)
            if c.size and (c.all() or not c.any()):
                return ins[1] if c.all() else ins[2]
        return None


class SingularProduct(Primitive):
    """How a singular row multiplies tangents by its derivatives: ``bind(*args, *vs,
    row=prim, which=(i_0, ..., i_k))`` is the partial derivative of ``prim`` in its
    arguments ``i_0, ..., i_k`` at ``args``, times ``vs[0] * ... * vs[k]``, and 0
    wherever one of ``vs`` is 0, whatever the derivative is there (``0 * inf`` is 0: a
    direction that moves no input contributes nothing).

    The derivatives of this product are products of the same kind: in ``vs[j]``, ``vs``
    with ``vs[j]`` replaced (it is linear in each); in argument ``a``, the next partial
    derivative, with ``which + (a,)`` and one more factor. So every order keeps the
    convention and is exact: ``w sqrt(s)`` has ``d/dw d/ds = inf`` at ``s = 0`` however
    the Hessian is taken, and ``where(x > 0, sqrt(x), 0)`` has derivatives 0 at 0 of
    every order. The partial derivatives are the row's own rules: the first is its
    derivative formula, the higher ones forward mode over it with unit tangents.
    """
    dispatches = True           # the rows' functions, products and where: any backend

    def impl(self, *args, row, which):
        if any(backend.is_lazy(a) for a in args):
            # chunk by chunk, so that the derivative's infinities raise no warnings when
            # the graph runs (NumPy's errstate would only cover building it)
            import dask.array as da
            return da.core.elemwise(functools.partial(self.impl, row=row, which=which),
                                    *args)
        n = len(args) - len(which)
        xs, vs = args[:n], args[n:]
        with np.errstate(all="ignore"):
            out = vs[0] * _partial(row, xs, which)   # (as the plain rules: t * d)
            for v in vs[1:]:
                out = out * v
        if type(out) is np.ndarray:
            if not np.isnan(out).any():     # (no 0 * inf: one look, the common case)
                return out
        elif isinstance(out, (float, complex, np.number)):
            return out if out == out or all(v != 0 for v in vs) else type(out)(0)
        zero = vs[0] == 0
        for v in vs[1:]:
            zero = zero | (v == 0)
        return np.where(zero, 0, out)       # (Dask, CuPy: elementwise, lazily)

    def jvp(self, primals, tangents, row, which):
        n = len(primals) - len(which)
        xs, vs = list(primals[:n]), list(primals[n:])
        ans = self.bind(*primals, row=row, which=which)
        out = None
        for j, t in enumerate(tangents[n:]):
            if type(t) is not Zero:
                term = self.bind(*xs, *vs[:j], t, *vs[j + 1:], row=row, which=which)
                out = term if out is None else out + term
        for a, t in enumerate(tangents[:n]):
            if type(t) is not Zero:
                term = self.bind(*xs, *vs, t, row=row, which=which + (a,))
                out = term if out is None else out + term
        if out is None:
            return ans, Zero.like(ans)
        return ans, broadcast_to(out, shape_of(ans))

    def vjp(self, ct, ans, args, needs, row, which):
        ct = materialize(ct)
        n = len(args) - len(which)
        xs, vs = list(args[:n]), list(args[n:])
        cts = [fit_cotangent(self.bind(*xs, *vs, ct, row=row, which=which + (a,)), xs[a])
               if needs[a] else None for a in range(n)]
        cts += [fit_cotangent(self.bind(*xs, *vs[:j], ct, *vs[j + 1:], row=row,
                                        which=which), vs[j]) if needs[n + j] else None
                for j in range(len(vs))]
        return cts

    def batch(self, args, dims, row, which):
        nd = max(len(shape_of(a)) - (d is not None) for a, d in zip(args, dims))
        return self.bind(*[_lead_batch(a, d, nd) for a, d in zip(args, dims)],
                         row=row, which=which), 0

    def cost(self, args, ans, row, which):
        return (row.flops + len(which)) * _size(ans)


def _partial(row, xs, which):
    """The partial derivative of the elementwise primitive ``row`` in its arguments
    ``which`` at the values ``xs`` (elementwise: the tangents are ones)."""
    if len(which) == 1:                     # the row's formula
        ans = row.impl(*xs)
        if len(xs) == 1:
            return _at(row.deriv, xs[0], ans)
        return _at(row.d_x if which[0] == 0 else row.d_y, *xs, ans)

    def f(*a):
        return [row.bind(*a)]
    for i in which:
        f = _directional(f, i)
    return f(*xs)[0]


def _directional(f, i):
    """``x -> d f(x) / d x_i`` for an elementwise ``f``: the unit tangent in argument i
    is the Python number 1.0 (it broadcasts; a real direction, which is the derivative
    for the holomorphic rows too; and any backend's rules see a tangent without zeros,
    so they take their plain path: a lazy array of ones would send a singular row back
    here)."""
    def g(*a):
        ts = [1.0 if k == i else Zero.like(v) for k, v in enumerate(a)]
        t = jvp_flat(f, list(a), ts)[1][0]
        return [0.0 * a[i] if type(t) is Zero else t]
    return g


class Abs(Primitive):
    """|x|: sign(x) for real x (subgradient 0 at 0); conj(x)/|x| for complex x."""
    dispatches = True           # Dask/CuPy arrays too (core.Primitive)

    ufunc = np.absolute

    def impl(self, x):
        return abs(x)

    def _d(self, x, ans):
        if dtype_of(x).kind != "c":
            return sign(x)
        safe = _safe(ans, ans == 0, like_x=True)
        return select_p.bind(ans == 0, 0.0 * x, conj(x) / safe)

    def jvp(self, primals, tangents):
        (x,), (t,) = primals, tangents
        ans = self.bind(x)
        if type(t) is Zero:
            return ans, Zero.like(ans)
        d = self._d(x, ans)
        return ans, (t * d if dtype_of(x).kind != "c" else real(t * d))

    def vjp(self, ct, ans, args, needs):
        return [ct * self._d(args[0], ans)]

    batch = Unary.batch
    cost = Unary.cost
    flops = 1


class ComplexSign(Primitive):
    """np.sign of a complex ``x``: NumPy 2's ``x / |x|`` (0 at 0). Not holomorphic: its
    tangent is ``(t - s Re(conj(s) t)) / |x|`` (``s`` the sign; 0 at ``x = 0``, the
    subgradient, as ``abs``), and its cotangent the transpose of that for the pairing
    ``Re(u v)`` that ``abs`` and ``angle`` use. (The sign of a real ``x`` is the
    non-differentiable row ``sign``.)"""
    dispatches = True           # Dask/CuPy arrays too (core.Primitive)
    ufunc = np.sign

    def impl(self, x):
        return np.sign(x)

    def _inv(self, x):
        a = abs_p.bind(x)
        zero = equal_p.bind(a, 0.0)
        return select_p.bind(zero, 0.0, 1.0 / select_p.bind(zero, 1.0, a))

    def jvp(self, primals, tangents):
        (x,), (t,) = primals, tangents
        ans = self.bind(x)
        if type(t) is Zero:
            return ans, Zero.like(ans)
        t = materialize(t)
        return ans, (t - ans * real(conj(ans) * t)) * self._inv(x)

    def vjp(self, ct, ans, args, needs):
        ct = materialize(ct)
        return [(ct - real(ct * ans) * conj(ans)) * self._inv(args[0])]

    batch = Unary.batch
    cost = Unary.cost
    flops = 4


class Angle(Primitive):
    """np.angle: for complex z = x + iy, d angle = (x dy - y dx) / |z|^2."""
    dispatches = True           # Dask/CuPy arrays too (core.Primitive)

    def impl(self, x):
        return np.angle(x)

    def _g(self, x):    # the JAX-convention gradient (a complex number)
        if dtype_of(x).kind != "c":
            return 0.0 * x
        r2 = real(x) * real(x) + imag(x) * imag(x)
        safe = _safe(r2, r2 == 0, like_x=True)
        return select_p.bind(r2 == 0, 0.0 * x, -1j * conj(x) / safe)

    def jvp(self, primals, tangents):
        (x,), (t,) = primals, tangents
        ans = self.bind(x)
        if type(t) is Zero or dtype_of(x).kind != "c":
            return ans, Zero.like(ans)
        return ans, real(t * self._g(x))

    def vjp(self, ct, ans, args, needs):
        return [ct * self._g(args[0])]

    batch = Unary.batch
    cost = Unary.cost
    flops = 1


# ------------------------------------------------------------------ build tables

PRIMS = {}
_BINARY_CLASSES = {"add": Linear, "subtract": Linear, "multiply": Multiply, "power": Power}


def add_row(row, binary=False):
    """The primitive of one row of ``_UNARY`` (``binary``: of ``_BINARY``), added to
    ``PRIMS``. The tables below are built with it."""
    if binary:
        name, fn, dx, dy = row[:4]
        prim = _BINARY_CLASSES.get(name, Binary)(name, fn, dx, dy, *row[4:])
    else:
        name, fn, d = row[:3]
        if len(row) > 3 and isinstance(row[3], Removable):
            prim = RemovableUnary(name, fn, d, *row[3:])
        else:
            prim = Unary(name, fn, d, *row[3:])
    for k, v in _CODEGEN.get(name, {}).items():
        setattr(prim, k, v)
    PRIMS[name] = prim
    return prim


for row in _UNARY:
    add_row(row)
for row in _BINARY:
    add_row(row, binary=True)
for name in _NONDIFF:
    PRIMS[name] = NonDiffElementwise(name, _NONDIFF_OPS.get(name, getattr(np, name)))
PRIMS["select"] = select_p = Select("select")
complex_sign_p = ComplexSign("complex_sign")     # (not a row: numpy/ufuncs.py's sign)
singular_product_p = SingularProduct("singular_product")
removable_taylor_p = RemovableTaylor("removable_taylor")
PRIMS["absolute"] = abs_p = Abs("absolute")
PRIMS["real"], PRIMS["imag"], PRIMS["conjugate"] = real_p, imag_p, conj_p   # prims/shape.py
PRIMS["angle"] = angle_p = Angle("angle")

globals().update({f"{k}_p": v for k, v in PRIMS.items()})


def _negate_scaled(args, dims, scales):
    """Under vmap, the negation of a batched array with a pending factor negates the
    factor (``Primitive.batch_scaled``)."""
    return None if scales[0] is None else (args[0], dims[0], -scales[0])


negative_p.batch_scaled = _negate_scaled

# short names used by the derivative expressions above
sin, cos, sinh, cosh = PRIMS["sin"].bind, PRIMS["cos"].bind, PRIMS["sinh"].bind, PRIMS["cosh"].bind
sqrt, exp, exp2, log = PRIMS["sqrt"].bind, PRIMS["exp"].bind, PRIMS["exp2"].bind, PRIMS["log"].bind
divide = PRIMS["divide"].bind
power, sign, floor, trunc = PRIMS["power"].bind, PRIMS["sign"].bind, PRIMS["floor"].bind, PRIMS["trunc"].bind
copysign, hypot = PRIMS["copysign"].bind, PRIMS["hypot"].bind
real, imag, conj = real_p.bind, imag_p.bind, conj_p.bind
greater_p, less_p, equal_p = PRIMS["greater"], PRIMS["less"], PRIMS["equal"]
