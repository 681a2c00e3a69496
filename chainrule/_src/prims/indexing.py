"""Indexing: ``x[idx]`` (gather) and functional updates ``x.at[idx].set/add/multiply``.

An index is split into a hashable ``spec`` (slices, ints, None, Ellipsis, and a
placeholder for each integer array) and the integer arrays themselves, which are
passed as (non-differentiable) arguments so that vmap can batch them. Boolean
masks are turned into integer arrays by ``np.nonzero`` before binding.
"""
import numpy as np

from ..core import Primitive, Zero, shape_of, dtype_of, instantiate
from .shape import fit_cotangent, unbroadcast

ARRAY = "<array>"     # placeholder for an integer index array in a spec


def split_index(idx):
    """(spec, arrays) for a NumPy index; raises IndexError/TypeError like NumPy."""
    if not isinstance(idx, tuple):
        idx = (idx,)
    spec, arrays = [], []
    for i in idx:
        if isinstance(i, slice):
            spec.append(("slice", _int_or_none(i.start), _int_or_none(i.stop),
                         _int_or_none(i.step)))
        elif i is None or i is Ellipsis:
            spec.append(i)
        elif isinstance(i, (bool, np.bool_)):
            spec.append(ARRAY)
            arrays.append(np.asarray(i))
        elif isinstance(i, (int, np.integer)):
            spec.append(int(i))
        else:
            a = i if hasattr(i, "_trace") else np.asarray(i)
            kind = dtype_of(a).kind
            if kind == "b":
                if hasattr(a, "_trace"):
                    a = a._concrete()
                for part in np.nonzero(a):
                    spec.append(ARRAY)
                    arrays.append(part)
                continue
            if kind not in "iu":
                raise IndexError("only integers, slices (`:`), ellipsis (`...`), "
                                 "numpy.newaxis (`None`) and integer or boolean arrays "
                                 "are valid indices")
            spec.append(ARRAY)
            arrays.append(a)
    return tuple(spec), arrays


def _int_or_none(v):
    if v is None:
        return None
    if hasattr(v, "_trace"):
        v = v._concrete()
    return int(np.asarray(v))


def join_index(spec, arrays):
    it = iter(arrays)
    out = []
    for s in spec:
        if s is ARRAY:
            out.append(next(it))
        elif isinstance(s, tuple):
            out.append(slice(*s[1:]))
        else:
            out.append(s)
    return tuple(out)


def _basic(spec):
    return ARRAY not in spec


class GetItem(Primitive):
    """x[idx]. Linear in x; vjp scatters the cotangent back (adding duplicates)."""

    def impl(self, x, *arrays, spec):
        return x[join_index(spec, arrays)]

    def jvp(self, primals, tangents, *, spec):
        x, *arrays = primals
        ans = self.bind(x, *arrays, spec=spec)
        t = tangents[0]
        if type(t) is Zero:
            return ans, Zero.like(ans)
        return ans, self.bind(t, *arrays, spec=spec)

    def vjp(self, ct, ans, args, needs, *, spec):
        x, *arrays = args
        ct_x = scatter_add_p.bind(ct, *arrays, spec=spec, shape=shape_of(x),
                                  dtype=np.result_type(dtype_of(ct), dtype_of(x)).str)
        return [fit_cotangent(ct_x, x)] + [None] * len(arrays)

    def cost(self, args, ans, **params):
        return 0


class ScatterAdd(Primitive):
    """zeros(shape)[idx] += ct (with repeated indices accumulating): getitem's transpose."""

    def impl(self, ct, *arrays, spec, shape, dtype):
        z = np.zeros(shape, dtype)
        idx = join_index(spec, arrays)
        if _basic(spec):
            z[idx] = ct
        else:
            np.add.at(z, idx, ct)
        return z

    def jvp(self, primals, tangents, **params):
        ct, *arrays = primals
        ans = self.bind(ct, *arrays, **params)
        t = tangents[0]
        return ans, (Zero.like(ans) if type(t) is Zero else self.bind(t, *arrays, **params))

    def vjp(self, ct, ans, args, needs, *, spec, shape, dtype):
        _, *arrays = args
        return [fit_cotangent(getitem_p.bind(ct, *arrays, spec=spec), args[0])] + \
            [None] * len(arrays)

    def cost(self, args, ans, **params):
        return _size(shape_of(args[0]))


class Scatter(Primitive):
    """x.at[idx].set(v) / .add(v) / .multiply(v): a new array, x unchanged."""

    def impl(self, x, v, *arrays, spec, mode):
        out = np.array(x, copy=True)     # NumPy semantics: x keeps its dtype
        idx = join_index(spec, arrays)
        if mode == "set":
            out[idx] = v
        elif mode == "add":
            np.add.at(out, idx, v)
        elif mode == "multiply":
            np.multiply.at(out, idx, v)
        else:
            raise ValueError(f"unknown scatter mode {mode!r}")
        return out

    def jvp(self, primals, tangents, *, spec, mode):
        x, v, *arrays = primals
        tx, tv = tangents[0], tangents[1]
        ans = self.bind(x, v, *arrays, spec=spec, mode=mode)
        if type(tx) is Zero and type(tv) is Zero:
            return ans, Zero.like(ans)
        if mode == "multiply":
            # d(x * v) at idx = tx * v + x * tv; elsewhere tx
            tx = instantiate(tx) if type(tx) is not Zero else 0.0 * x
            t = self.bind(tx, v, *arrays, spec=spec, mode="multiply")
            if type(tv) is not Zero:
                xs = getitem_p.bind(x, *arrays, spec=spec)
                t = self.bind(t, xs * tv, *arrays, spec=spec, mode="add")
            return ans, t
        tx = 0.0 * ans if type(tx) is Zero else tx
        tv = 0.0 * v if type(tv) is Zero else tv
        return ans, self.bind(tx, tv, *arrays, spec=spec, mode=mode)

    def vjp(self, ct, ans, args, needs, *, spec, mode):
        x, v, *arrays = args
        ct_x = ct_v = None
        if mode == "set":
            if needs[0]:
                ct_x = self.bind(ct, 0.0 * v, *arrays, spec=spec, mode="set")
            if needs[1]:
                ct_v = getitem_p.bind(ct, *arrays, spec=spec)
        elif mode == "add":
            ct_x = ct if needs[0] else None
            if needs[1]:
                ct_v = getitem_p.bind(ct, *arrays, spec=spec)
        else:
            if needs[0]:
                ct_x = self.bind(ct, v, *arrays, spec=spec, mode="multiply")
            if needs[1]:
                ct_v = getitem_p.bind(ct * x, *arrays, spec=spec)
        if ct_x is not None:
            ct_x = fit_cotangent(ct_x, x)
        if ct_v is not None:
            ct_v = fit_cotangent(ct_v, v)
        return [ct_x, ct_v] + [None] * len(arrays)

    def cost(self, args, ans, **params):
        return _size(shape_of(args[1]))


def _size(shape):
    n = 1
    for d in shape:
        n *= d
    return n


getitem_p = GetItem("getitem")
scatter_add_p = ScatterAdd("scatter_add")
scatter_p = Scatter("scatter")

__all__ = ["getitem_p", "scatter_add_p", "scatter_p", "split_index", "join_index",
           "unbroadcast"]
