"""Rows for indexing: x[idx] in all of NumPy's forms (basic, integer arrays with
repeated entries, boolean masks, mixed), the functional updates x.at[idx].set/add/
multiply, and in-place updates x[idx] = v and x += v on traced arrays.

``.at`` exists only on traced arrays (as in JAX); :func:`at` gives plain arrays the
same interface so that each row runs with and without a transformation. Boolean
masks with a data-dependent result shape are tested in tests/test_indexing.py (they
cannot be batched by vmap)."""
import numpy as np

import chainrule.numpy as cnp
from . import Row, S, randn, pos

_x = randn(3, 4)
_t = randn(2, 3, 4)
_v = randn(5)


class _NumpyRef:
    def __init__(self, x, idx):
        self.x, self.idx = x, idx

    def get(self):
        return self.x[self.idx]

    def set(self, v):
        out = np.array(self.x, copy=True)
        out[self.idx] = v
        return out

    def add(self, v):
        out = np.array(self.x, copy=True)
        np.add.at(out, self.idx, v)
        return out

    def multiply(self, v):
        out = np.array(self.x, copy=True)
        np.multiply.at(out, self.idx, v)
        return out


class _NumpyAt:
    def __init__(self, x):
        self.x = x

    def __getitem__(self, idx):
        return _NumpyRef(self.x, idx)


def at(x, v):
    """``x.at`` (x made a traced buffer when v is traced), or NumPy's equivalent."""
    x = x + 0.0 * cnp.sum(v)
    return x.at if hasattr(x, "at") else _NumpyAt(np.asarray(x))


def _get(idx):
    return lambda x: x[idx]


def _row(name, idx, *samples):
    f = _get(idx)
    return Row(f"getitem[{name}]", f, f, [S(s) for s in samples])


def _traced_copy(x, v):
    """x as a fresh buffer that is traced whenever x or v is (in-place rows)."""
    return x + 0.0 * cnp.sum(v)


def _setitem_slice(x, v):
    x = _traced_copy(x, v)
    x[1:3] = v
    return x


def _setitem_fancy(x, v):
    x = _traced_copy(x, v)
    x[np.array([0, 2]), 1:] = v
    return x


def _iadd(x, v):
    y = _traced_copy(x, v)
    y += v
    y *= x
    return y


def _iadd_slice(x, v):
    x = _traced_copy(x, v)
    x[:, 1] += v
    return x


_rows_idx = np.array([0, 2, 2])
_cols_idx = np.array([1, 3, 0])

ROWS = [
    _row("slice", slice(1, 3), _x, _v),
    _row("step", slice(None, None, -2), _v, _x),
    _row("int", 1, _x, _t),
    _row("negative int", -1, _x, _v),
    _row("ellipsis newaxis", (Ellipsis, None), _x, _t),
    _row("newaxis mid", (slice(None), None, 1), _x),
    _row("int array", np.array([2, 0]), _x, _v),
    _row("repeated ints", [0, 0, 1], _x, _v),
    _row("slice int array", (slice(None), np.array([2, 0, 2])), _x, _t),
    _row("2-d fancy", (_rows_idx, _cols_idx), _x),
    _row("broadcast fancy", (np.array([[0], [2]]), np.array([1, 3])), _x),
    _row("mixed", (slice(1, None), np.array([0, 2])), _x),
    _row("split advanced", (np.array([1, 0]), slice(None), np.array([2, 3])), _t),
    _row("int and array", (1, slice(None), np.array([0, 0, 3])), _t),
    _row("ellipsis int", (Ellipsis, 2), _t),
    _row("bool array", np.array([True, False, True]), _x),
    Row("at.set", lambda x, v, idx: at(x, v)[idx].set(v), lambda x, v, idx: at(x, v)[idx].set(v),
        [S(_x, randn(4), 1), S(_x, 2.5, (slice(None), 2)), S(_v, randn(2), np.array([4, 0])),
         S(_x, randn(3), (np.array([0, 1, 2]), _cols_idx))]),
    Row("at.add", lambda x, v, idx: at(x, v)[idx].add(v), lambda x, v, idx: at(x, v)[idx].add(v),
        [S(_v, randn(4), np.array([0, 0, 3, 0])), S(_x, randn(3), (_rows_idx, _cols_idx)),
         S(_x, randn(3, 1), (slice(None), np.array([1, 1]))), S(_x, 1.5, (0,))]),
    Row("at.multiply", lambda x, v, idx: at(x, v)[idx].multiply(v),
        lambda x, v, idx: at(x, v)[idx].multiply(v),
        [S(_v, pos(2), np.array([1, 3])), S(_x, randn(4), 2),
         S(_x, randn(3), (np.array([0, 1, 2]), np.array([3, 0, 1]))),
         # repeated indices, one factor exactly 0 (its derivative is the product of the
         # others, which dividing the output by the factor could not give)
         S(_v, np.array([0.0, 1.5, -0.7, 2.0]), np.array([1, 1, 3, 1])),
         S(_x, np.array([[0.0, 1.2, -0.5, 2.0]]), (np.array([2, 0, 2]),))]),
    Row("setitem[slice]", _setitem_slice, _setitem_slice, [S(_x, randn(2, 4)), S(_x, randn(4))]),
    Row("setitem[fancy]", _setitem_fancy, _setitem_fancy, [S(_x, randn(2, 3)), S(_x, 0.5)]),
    Row("iadd", _iadd, _iadd, [S(_x, randn(4)), S(_v, 1.5)]),
    Row("iadd[slice]", _iadd_slice, _iadd_slice, [S(_x, randn(3))]),
]

# ufunc.at beyond add/multiply: applied in NumPy's order, a round per repeated position
_UA = np.random.default_rng(125)


def _ufunc_at(ufunc, mod_np):
    def f(x, v, idx):
        y = (x + 0.0 * np.sum(v)) if not mod_np else x.copy()
        ufunc.at(y, idx, v)
        return y
    return f


def _unary_at(ufunc, mod_np):
    def f(x, idx):
        y = x * 1.0 if not mod_np else x.copy()
        ufunc.at(y, idx)
        return y
    return f


_ux = _UA.uniform(0.5, 1.5, (3, 4))
_uidx = np.array([0, 2, 0, 1, 0])
ROWS += [
    Row(f"{uf.__name__}.at", _ufunc_at(uf, False), _ufunc_at(uf, True),
        [S(_UA.uniform(0.5, 1.5, 4), _UA.uniform(0.3, 1.7, 5), _uidx),
         S(_ux, _UA.uniform(0.3, 1.7, (2, 4)), (np.array([1, 1]),)),
         S(_ux, _UA.uniform(0.3, 1.7, 3), (slice(None), np.array([3, 0, 3])))])
    for uf in (np.maximum, np.minimum, np.fmax, np.fmin, np.power, np.logaddexp,
               np.hypot, np.arctan2)
] + [
    Row("negative.at", _unary_at(np.negative, False), _unary_at(np.negative, True),
        [S(_UA.standard_normal(4), _uidx)]),
    Row("exp.at", _unary_at(np.exp, False), _unary_at(np.exp, True),
        [S(_UA.uniform(-1, 0, (3, 4)), (np.array([2, 0, 2]), np.array([1, 3, 1])))]),
]
