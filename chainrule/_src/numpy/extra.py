"""NumPy functions built from other chainrule functions and transformations:
``vectorize`` (on vmap, as jax.numpy's), ``gradient`` (finite differences of an array)
and ``real_if_close``.

Every function calls NumPy itself outside transformations.
"""
import numpy as np

from ..core import Tracer, _state, shape_of, dtype_of, has_value
from ..interpreters.batching import batch_flat, ConcretizationError
from ..prims import shape as sp
from ..prims import elementwise as ew
from . import aliasing
from .basic import (asarray_like, astype, concatenate, normalize_axis, reshape, stack,
                    concrete, lazy_value_error)
from .dispatch import numpy_function, traced_only, PUBLIC
from .shape import traced_numpy, slice_axis

_FB = np.lib._function_base_impl


# ---------------------------------------------------------------- vectorize

@traced_only()
class vectorize:
    """Differentiable ``numpy.vectorize``: NumPy's signature and semantics.

    Outside transformations the call is NumPy's own ``np.vectorize``. Inside one,
    ``pyfunc`` runs once on the whole broadcast batch of elements (or of core
    sub-arrays, with ``signature``) through ``vmap``, as ``jax.numpy.vectorize`` does,
    so it is written with chainrule/NumPy operations and every derivative, batching and
    ``jit`` follow. Where ``pyfunc`` branches in Python on a value (``if x > 0:``),
    which vmap cannot do, it is called element by element instead, as NumPy does
    (not under an enclosing ``vmap``, where the error asks for ``cnp.where``).
    ``otypes`` cast the outputs; ``cache`` is accepted and has no effect.
    """

    def __init__(self, pyfunc=np._NoValue, otypes=None, doc=None, excluded=None,
                 cache=False, signature=None):
        self._np = np.vectorize(pyfunc, otypes=otypes, doc=doc, excluded=excluded,
                                cache=cache, signature=signature)
        self.pyfunc, self.cache, self.signature = pyfunc, cache, signature
        self.otypes, self.excluded = self._np.otypes, self._np.excluded
        self.__doc__ = self._np.__doc__
        if hasattr(self._np, "__name__"):
            self.__name__ = self._np.__name__

    def __call__(self, *args, **kwargs):
        if self.pyfunc is np._NoValue:            # @cnp.vectorize(otypes=...) form
            self._np(*args, **kwargs)
            self.pyfunc = self._np.pyfunc
            self.__name__, self.__doc__ = self._np.__name__, self._np.__doc__
            return self
        if _state.trace is None:
            return self._np(*args, **kwargs)
        return aliasing._inner(self._traced, *args, **kwargs)   # its own calls: no views

    def _traced(self, *args, **kwargs):
        excluded = self.excluded
        func, vargs = self.pyfunc, list(args)
        if kwargs or excluded:                    # NumPy's rule: what is vectorized
            names = [n for n in kwargs if n not in excluded]
            inds = [i for i in range(len(args)) if i not in excluded]
            the_args, kw = list(args), dict(kwargs)

            def func(*xs):
                for n, i in enumerate(inds):
                    the_args[i] = xs[n]
                kw.update(zip(names, xs[len(inds):]))
                return self.pyfunc(*the_args, **kw)
            vargs = [args[i] for i in inds] + [kwargs[n] for n in names]
        if not vargs:
            return func()
        vargs = [asarray_like(a) for a in vargs]
        if self.signature is None:
            in_core, out_core = [()] * len(vargs), None
        else:
            in_core, out_core = _FB._parse_gufunc_signature(self.signature)
            if len(vargs) != len(in_core):
                raise TypeError(f"wrong number of positional arguments: expected "
                                f"{len(in_core)!r}, got {len(vargs)!r}")
        sizes, loops = {}, []
        for a, core in zip(vargs, in_core):
            s = shape_of(a)
            if len(s) < len(core):
                raise ValueError(f"{len(s)}-dimensional argument does not have enough "
                                 f"dimensions for all core dimensions {core!r}")
            _core_sizes(sizes, s[len(s) - len(core):], core)
            loops.append(s[:len(s) - len(core)])
        loop = np.broadcast_shapes(*loops)
        n = int(np.prod(loop))
        flat = [reshape(sp.broadcast_to(a, loop + s[len(s) - len(c):]),
                        (n,) + s[len(s) - len(c):])
                for a, c, s in ((a, c, shape_of(a)) for a, c in zip(vargs, in_core))]
        if n == 0:
            return self._empty(loop, sizes, out_core)
        store = {}

        def each(*xs):
            out = aliasing.as_user(func, *xs)
            store["tuple"] = isinstance(out, tuple)
            return list(out) if store["tuple"] else [out]
        try:
            outs = [_to_front(v, d, n) for v, d in batch_flat(each, flat, [0] * len(flat), n)]
        except ConcretizationError:
            if not all(has_value(x) for x in flat):
                raise
            outs = _loop(each, flat, n)        # Python control flow on the values
        if out_core is None:
            out_core = [()] * len(outs)
        if len(outs) != len(out_core):
            raise ValueError(f"wrong number of outputs from pyfunc: expected "
                             f"{len(out_core)}, got {len(outs)}")
        res = []
        for k, (o, core) in enumerate(zip(outs, out_core)):
            s = shape_of(o)[1:]
            if self.signature is None and s:
                raise ValueError("setting an array element with a sequence.")
            if len(s) != len(core):
                raise ValueError(f"{len(s)}-dimensional argument does not have enough "
                                 f"dimensions for all core dimensions {core!r}"
                                 if len(s) < len(core) else
                                 f"output {k} of pyfunc has shape {s}, which does not "
                                 f"match the signature's core dimensions {core!r}")
            _core_sizes(sizes, s, core)
            o = reshape(o, loop + s)
            if self.otypes:
                dt = np.dtype(self.otypes[k])
                if dtype_of(o) != dt:
                    o = astype(o, dt)
            res.append(o)
        # NumPy's layout: with a signature np.empty (C order), else a ufunc's (order
        # "K" of the arguments: NumPy is asked on small arrays laid out as they are)
        lay = "C" if self.signature is not None else ("K", np.frompyfunc(
            lambda *a: 0, len(vargs), 1)(*[aliasing.small_like(aliasing.numpy_layout(v))
                                          for v in vargs]))
        res = [aliasing.fresh_layout(o, lay) for o in res]
        return tuple(res) if store["tuple"] else res[0]

    def _empty(self, loop, sizes, out_core):
        if not self.otypes:
            raise ValueError("cannot call `vectorize` on size 0 inputs unless `otypes` "
                             "is set")
        out_core = out_core or [()] * len(self.otypes)
        for core in out_core:
            for d in core:
                if d not in sizes:
                    raise ValueError("cannot call `vectorize` with a signature including "
                                     "new output dimensions on size 0 inputs")
        res = [np.empty(loop + tuple(sizes[d] for d in core), dtype=np.dtype(t))
               for core, t in zip(out_core, self.otypes)]
        return res[0] if len(res) == 1 else tuple(res)


def _core_sizes(sizes, shape, core):
    for d, size in zip(core, shape):
        if sizes.setdefault(d, size) != size:
            raise ValueError(f"inconsistent size for core dimension {d!r}: {size!r} vs "
                             f"{sizes[d]!r}")


def _to_front(v, d, n):
    """An output of the batched call with its batch axis first ((n,) + shape)."""
    v = asarray_like(v)
    if d is None:
        return sp.broadcast_to(v, (n,) + shape_of(v))
    return sp.moveaxis(v, d, 0)


def _loop(each, flat, n):
    """``each`` example by example (NumPy's own way), the outputs stacked."""
    results = [each(*[x[i] for x in flat]) for i in range(n)]
    return [stack([asarray_like(r[k]) for r in results]) for k in range(len(results[0]))]


# ---------------------------------------------------------------- gradient

@traced_numpy(np.gradient, layout="K")       # NumPy: empty_like(f)
def gradient(f, *varargs, axis=None, edge_order=1):
    """NumPy's finite differences (second order inside, first or second order at the
    edges), linear in ``f``. Traced coordinates (1-D arrays of sample positions) are
    differentiated too: they always use the formula for uneven spacing (NumPy takes
    its even-spacing formula where the coordinates happen to be evenly spaced, which
    has the same values but not the same derivative in the coordinates)."""
    f = asarray_like(f)
    nd = len(shape_of(f))
    axes = normalize_axis(axis, nd)
    if len(set(axes)) != len(axes):
        raise ValueError("repeated axis")
    if dtype_of(f).kind == "b" or any(dtype_of(asarray_like(d)).kind == "b" and
                                      len(shape_of(asarray_like(d))) == 1 for d in varargs):
        # (NumPy subtracts booleans, an error; the cast to float64 below hid it)
        raise TypeError("numpy boolean subtract, the `-` operator, is not supported, use "
                        "the bitwise_xor, the `^` operator, or the logical_xor function "
                        "instead.")
    n = len(varargs)
    if n == 0:
        dx = [1.0] * len(axes)
    elif n == 1 and len(shape_of(varargs[0])) == 0:
        dx = list(varargs) * len(axes)
    elif n == len(axes):
        dx = []
        for i, d in enumerate(varargs):
            d = asarray_like(d)
            if len(shape_of(d)) == 0:
                dx.append(d)
                continue
            if len(shape_of(d)) != 1:
                raise ValueError("distances must be either scalars or 1d")
            if shape_of(d)[0] != shape_of(f)[axes[i]]:
                raise ValueError("when 1d, distances must match the length of the "
                                 "corresponding dimension")
            if dtype_of(d).kind in "iub":
                d = astype(d, np.float64)
            diffx = slice_axis(d, 0, 1, None) - slice_axis(d, 0, 0, -1)
            if not isinstance(diffx, Tracer) and (diffx == diffx[0]).all():
                diffx = diffx[0]
            dx.append(diffx)
    else:
        raise TypeError("invalid number of arguments")
    if edge_order > 2:
        raise ValueError("'edge_order' greater than 2 not supported")
    if dtype_of(f).kind not in "fc":
        f = astype(f, np.float64)
    out = [_gradient_axis(f, ax, h, edge_order, nd) for ax, h in zip(axes, dx)]
    return out[0] if len(out) == 1 else tuple(out)


def _gradient_axis(f, axis, h, edge_order, nd):
    if shape_of(f)[axis] < edge_order + 1:
        raise ValueError("Shape of array too small to calculate a numerical gradient, "
                         "at least (edge_order + 1) elements are required.")

    def at(start, stop=0):             # f[start:stop] along ``axis``; f[start] (kept)
        if stop == 0:
            stop = start + 1 if start != -1 else None
        return slice_axis(f, axis, start, stop)

    def along(v):                      # a 1-D coefficient array along ``axis``
        return reshape(v, tuple(-1 if i == axis else 1 for i in range(nd)))

    def pick(i):
        return h[i]
    uniform = len(shape_of(h)) == 0
    if uniform:
        inner = (at(2, None) - at(0, -2)) / (2.0 * h)
    else:
        dx1, dx2 = slice_axis(h, 0, 0, -1), slice_axis(h, 0, 1, None)
        a = -dx2 / (dx1 * (dx1 + dx2))
        b = (dx2 - dx1) / (dx1 * dx2)
        c = dx1 / (dx2 * (dx1 + dx2))
        inner = along(a) * at(0, -2) + along(b) * at(1, -1) + along(c) * at(2, None)
    if edge_order == 1:
        first = (at(1) - at(0)) / (h if uniform else pick(0))
        last = (at(-1) - at(-2, -1)) / (h if uniform else pick(-1))
    else:
        if uniform:
            a, b, c = -1.5 / h, 2.0 / h, -0.5 / h
        else:
            dx1, dx2 = pick(0), pick(1)
            a = -(2.0 * dx1 + dx2) / (dx1 * (dx1 + dx2))
            b = (dx1 + dx2) / (dx1 * dx2)
            c = -dx1 / (dx2 * (dx1 + dx2))
        first = a * at(0) + b * at(1) + c * at(2)
        if uniform:
            a, b, c = 0.5 / h, -2.0 / h, 1.5 / h
        else:
            dx1, dx2 = pick(-2), pick(-1)
            a = dx2 / (dx1 * (dx1 + dx2))
            b = -(dx2 + dx1) / (dx1 * dx2)
            c = (2.0 * dx2 + dx1) / (dx2 * (dx1 + dx2))
        last = a * at(-3, -2) + b * at(-2, -1) + c * at(-1)
    out = concatenate([first, inner, last], axis=axis)
    return out if dtype_of(out) == dtype_of(f) else astype(out, dtype_of(f))


# ---------------------------------------------------------------- real_if_close

@numpy_function(np.real_if_close, view="identity")
def real_if_close(a, tol=100):
    """As NumPy: a complex array whose imaginary parts are all below ``tol`` machine
    epsilons (or ``tol`` itself, if ``tol <= 1``) becomes its real part (a view of
    it, as ``a.real``); anything else is returned as it is. The test reads values:
    under ``jit`` a guard, under ``vmap`` (each example could decide differently, and
    the result's dtype depends on it) a ConcretizationError for complex input."""
    a = asarray_like(a)
    if dtype_of(a).kind != "c":
        return a
    if tol > 1:
        tol = np.finfo(dtype_of(a)).eps * tol
    small = ew.PRIMS["less"].bind(ew.abs_p.bind(ew.imag_p.bind(a)), tol)
    if not has_value(small):
        lazy_value_error(small)
        raise ConcretizationError(
            "chainrule.numpy.real_if_close of a complex array under vmap: whether the "
            "result is real (its dtype) depends on each example's values; call it per "
            "example outside vmap, or take cnp.real(a) explicitly")
    if not np.all(concrete(small)):
        return a
    return aliasing.as_user(PUBLIC["numpy"]["real"], a)      # a.real: a view of ``a``
