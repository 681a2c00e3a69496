"""Rows for basic.py: creation from traced values, sum/mean/max/min, core shape
functions, where, and the products."""
import numpy as np

import chainrule.numpy as cnp
from . import Row, S, randn, cplx

# rows added after the first ones draw from a generator of their own, so that the
# shared stream (and every later row's samples) stays what it was
_OWN = np.random.default_rng(2026)


def _rn(*shape):
    return _OWN.standard_normal(shape)


def _cx(*shape):
    return _rn(*shape) + 1j * _rn(*shape)


_x = randn(3, 4)
_t = randn(2, 3, 4)
_ties = np.array([[1.0, 3.0, 3.0], [2.0, -1.0, 0.5]])

def _vectorized(mod, signature=None):
    """np.vectorize / cnp.vectorize of a function written with cnp (which is NumPy's
    own on plain values)."""
    if signature is None:
        fn = mod.vectorize(lambda a, b: cnp.sin(a) * b + a ** 2)
    else:
        fn = mod.vectorize(lambda a, b: (cnp.dot(a, b), a * cnp.sum(b)), signature=signature)
    return lambda *args: fn(*args)


def _vectorized_kw(mod):
    fn = mod.vectorize(lambda a, scale, b=1.0: cnp.exp(a * scale) - b,
                       excluded={1}, otypes=[np.float64])
    return lambda a, b: fn(a, 0.5, b=b)


ROWS = [
    Row("array", lambda a, b: cnp.array([a, b]), lambda a, b: np.array([a, b]),
        [S(randn(3), randn(3)), S(1.5, 2.5)]),
    Row("asarray", cnp.asarray, np.asarray, [S(_x)]),
    Row("asanyarray", cnp.asanyarray, np.asanyarray, [S(_x)]),
    Row("copy", cnp.copy, np.copy, [S(_x)]),
    Row("sum", cnp.sum, np.sum, [S(_t), S(_t, axis=1), S(_t, axis=(0, 2), keepdims=True),
                                 S(_t, axis=-1), S(cplx(2, 3), axis=0)]),
    Row("mean", cnp.mean, np.mean, [S(_t), S(_t, axis=1), S(_t, axis=(0, 2), keepdims=True)]),
    Row("max", cnp.max, np.max, [S(_t), S(_t, axis=1), S(_t, axis=0, keepdims=True)]),
    Row("min", cnp.min, np.min, [S(_t), S(_t, axis=(1, 2))]),
    Row("amax", cnp.amax, np.amax, [S(_x, axis=0)]),
    Row("amin", cnp.amin, np.amin, [S(_x, axis=1)]),
    Row("max[ties]", cnp.max, np.max, [S(_ties, axis=1)], order=1),
    Row("reshape", cnp.reshape, np.reshape, [S(_t, (4, 6)), S(_t, (-1,)), S(_x, (2, -1, 3))]),
    Row("ravel", cnp.ravel, np.ravel, [S(_t)]),
    Row("transpose", cnp.transpose, np.transpose, [S(_t), S(_t, (1, 0, 2)), S(_t, (2, 0, 1))]),
    Row("moveaxis", cnp.moveaxis, np.moveaxis, [S(_t, 0, -1), S(_t, (0, 1), (2, 0))]),
    Row("swapaxes", cnp.swapaxes, np.swapaxes, [S(_t, 0, 2)]),
    Row("broadcast_to", cnp.broadcast_to, np.broadcast_to, [S(randn(3, 1), (2, 3, 4))]),
    Row("expand_dims", cnp.expand_dims, np.expand_dims, [S(_x, 1), S(_x, (0, 3))]),
    Row("squeeze", cnp.squeeze, np.squeeze, [S(randn(3, 1, 4, 1)), S(randn(1, 3, 1), axis=0)]),
    Row("concatenate", cnp.concatenate, np.concatenate,
        [S([_x, randn(2, 4)]), S([_x, randn(3, 2)], axis=1), S([_x, _x], axis=None)]),
    Row("stack", cnp.stack, np.stack, [S([_x, _x * 2]), S([_x, _x], axis=-1)]),
    Row("where", cnp.where, np.where, [S(_x > 0, _x, randn(3, 4)), S(_x > 0, _x, 0.5)]),
    Row("matmul", cnp.matmul, np.matmul,
        [S(randn(3, 4), randn(4, 2)), S(randn(4), randn(4, 2)), S(randn(3, 4), randn(4)),
         S(randn(4), randn(4)), S(randn(2, 3, 4), randn(4, 5)), S(randn(2, 1, 3, 4), randn(3, 4, 2)),
         S(cplx(2, 3), cplx(3, 2))]),
    Row("dot", cnp.dot, np.dot, [S(randn(3, 4), randn(4, 2)), S(randn(4), randn(4)),
                                 S(randn(2, 3, 4), randn(5, 4, 2)), S(2.0, randn(3))]),
    Row("vdot", cnp.vdot, np.vdot, [S(randn(3, 4), randn(3, 4)), S(cplx(3), cplx(3))]),
    Row("inner", cnp.inner, np.inner, [S(randn(3, 4), randn(2, 4)), S(randn(4), randn(4))]),
    Row("outer", cnp.outer, np.outer, [S(randn(3), randn(4))]),
    Row("tensordot", cnp.tensordot, np.tensordot,
        [S(randn(2, 3, 4), randn(3, 4, 5)), S(randn(2, 3, 4), randn(4, 3), axes=([1, 2], [1, 0])),
         S(randn(3, 4), randn(4, 5), axes=1)]),
    Row("einsum", cnp.einsum, np.einsum,
        [S("ij,jk->ik", randn(3, 4), randn(4, 2)), S("ii->i", randn(3, 3)),
         S("ij->", randn(3, 4)), S("ij,ij->i", randn(3, 4), randn(3, 4)),
         S("...ij,...jk", randn(2, 3, 4), randn(2, 4, 5)), S("i,j,k->ijk", randn(2), randn(3), randn(4)),
         S("ii", randn(3, 3)), S("ij,k->ijk", randn(2, 3), randn(2))]),
    Row("einsum[operand lists]", cnp.einsum, np.einsum,
        [S(_rn(3, 4), [0, 1], _rn(4, 2), [1, 2]), S(_rn(3, 3), [5, 5]),
         S(_rn(3, 4), [0, 1], _rn(3, 4), [0, 1], [0]),
         S(_rn(2, 3, 4), [Ellipsis, 0, 30], _rn(4, 5), [30, 51], [51, Ellipsis, 0])]),
    Row("vectorize", _vectorized(cnp), _vectorized(np),
        [S(_rn(3, 1), _rn(4)), S(_rn(5), 0.5), S(_cx(3), _cx(3))]),
    Row("vectorize[signature]", _vectorized(cnp, "(n),(n)->(),(n)"),
        _vectorized(np, "(n),(n)->(),(n)"),
        [S(_rn(4, 3), _rn(3)), S(_rn(2, 1, 3), _rn(5, 3))]),
    Row("vectorize[excluded, otypes]", _vectorized_kw(cnp), _vectorized_kw(np),
        [S(_rn(4), _rn(2, 1))]),
    Row("real_if_close", cnp.real_if_close, np.real_if_close,
        [S(_x), S(_x + 1e-16j, diff=()), S(_cx(3), diff=()), S(_x + 1e-3j, 1e-2, diff=())]),
]

NONDIFF_ROWS = ["shape", "ndim", "size", "result_type", "iscomplexobj", "isrealobj",
                "zeros_like", "ones_like", "empty_like", "full_like", "diag_indices_from",
                "tril_indices_from", "triu_indices_from"]
ROWS += [
    Row("shape", cnp.shape, np.shape, [S(_t)], grad=False),
    Row("ndim", cnp.ndim, np.ndim, [S(_t)], grad=False),
    Row("size", cnp.size, np.size, [S(_t)], grad=False),
    Row("zeros_like", cnp.zeros_like, np.zeros_like, [S(_t)], grad=False),
    Row("ones_like", cnp.ones_like, np.ones_like, [S(_t)], grad=False),
    Row("empty_like", lambda x: cnp.empty_like(x).shape, lambda x: np.empty_like(x).shape,
        [S(_t)], grad=False),
    Row("full_like", cnp.full_like, np.full_like, [S(_t, 2.0)], grad=False),
    Row("iscomplexobj", cnp.iscomplexobj, np.iscomplexobj, [S(_t)], grad=False),
    Row("isrealobj", cnp.isrealobj, np.isrealobj, [S(_t)], grad=False),
    Row("result_type", cnp.result_type, np.result_type, [S(_t, 1.0)], grad=False),
    Row("diag_indices_from", cnp.diag_indices_from, np.diag_indices_from,
        [S(_rn(3, 3)), S(_rn(2, 2, 2))], grad=False),
    Row("tril_indices_from", cnp.tril_indices_from, np.tril_indices_from,
        [S(_rn(3, 3)), S(_rn(3, 4), k=-1)], grad=False),
    Row("triu_indices_from", cnp.triu_indices_from, np.triu_indices_from,
        [S(_rn(3, 3)), S(_rn(4, 3), k=1)], grad=False),
]
ROWS += [
    Row("argmax", cnp.argmax, np.argmax, [S(_t), S(_t, axis=1), S(_t, axis=-1, keepdims=True)],
        grad=False),
    Row("argmin", cnp.argmin, np.argmin, [S(_t), S(_t, axis=0)], grad=False),
    Row("argsort", cnp.argsort, np.argsort, [S(_t), S(_t, axis=0), S(_t, axis=None)],
        grad=False),
]
for _name in ["nonzero", "flatnonzero", "count_nonzero",
              "all", "any", "isclose", "allclose", "array_equal", "array_equiv", "unique",
              "isreal", "iscomplex", "isneginf", "isposinf", "nanargmax", "nanargmin",
              "argwhere", "searchsorted", "digitize", "isin", "histogram", "lexsort",
              "bincount", "isscalar", "shares_memory", "may_share_memory"]:
    _fn = getattr(np, _name, None)
    if _fn is None:
        continue
    if _name in ("isclose", "allclose", "array_equal", "array_equiv", "isin",
                 "shares_memory", "may_share_memory"):
        _args = (_x, _x + 1e-9)
    elif _name == "searchsorted":
        _args = (np.sort(randn(5)), randn(3))
    elif _name == "digitize":
        _args = (randn(3), np.sort(randn(5)))
    elif _name == "bincount":
        _args = (np.array([0, 1, 1, 3]),)
    elif _name == "lexsort":
        _args = ((randn(4), randn(4)),)
    else:
        _args = (_x,)
    ROWS.append(Row(_name, getattr(cnp, _name), _fn, [S(*_args, diff=())], grad=False))


def _np_set(x, v, idx):
    y = np.array(x, copy=True)
    y[idx] = v
    return y


ROWS += [
    Row("at", lambda x, v: cnp.at(x)[1:3].set(v), lambda x, v: _np_set(x, v, slice(1, 3)),
        [S(randn(4, 3), randn(2, 3)), S(randn(5), 2.0)]),
    Row("at[add,fancy]", lambda x, v: cnp.at(x)[np.array([0, 2, 0])].add(v),
        lambda x, v: (lambda y: (np.add.at(y, np.array([0, 2, 0]), v), y)[1])(x.copy()),
        [S(randn(4), randn(3))]),
]

# order='F' and the two-output modf: a generator of their own
_F = np.random.default_rng(123)
_tf = _F.standard_normal((2, 3, 4))


def _flatten(x, order="C"):
    return x.flatten(order=order)


def _method_reshape(x, shape, order):
    return x.reshape(shape, order=order)


ROWS += [
    Row("reshape[F]", cnp.reshape, np.reshape,
        [S(_tf, (4, 6), order="F"), S(_tf, (-1,), order="F"), S(_tf, (3, 2, 4), order="F"),
         S(_F.standard_normal(6), (2, 3), order="A")]),
    Row("reshape[method F]", _method_reshape, _method_reshape, [S(_tf, (6, 4), "F")]),
    Row("ravel[F]", cnp.ravel, np.ravel, [S(_tf, "F"), S(_F.standard_normal(5), "K")]),
    Row("flatten[F]", _flatten, _flatten, [S(_tf, "F"), S(_tf)]),
    Row("modf", cnp.modf, np.modf,
        [S(_F.uniform(-5, 5, (3, 4))), S(np.array([-2.5, 0.25, 7.75]))]),
]
