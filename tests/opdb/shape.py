"""Rows for numpy/shape.py: stacking and splitting, tile/repeat, flips and rolls, rollaxis, pad,
take/take_along_axis/put_along_axis, select, meshgrid, diagonals and triangles,
insert/delete/resize."""
import numpy as np

import chainrule.numpy as cnp
from . import Row, S, randn

_x = randn(3, 4)
_t = randn(2, 3, 4)
_v = randn(5)


def _put(mod):
    def f(x, v, idx, axis):
        x = x + 0.0 * mod.sum(v)     # a traced buffer whenever x or v is traced
        mod.put_along_axis(x, idx, v, axis)
        return x
    return f


def _in_place(name, *extra):
    """A row for an in-place NumPy function (it returns None): write into a buffer
    that is traced whenever x or v is, and return the buffer."""
    def make(mod):
        def f(x, v, *args):
            x = x + 0.0 * mod.sum(v)
            getattr(mod, name)(x, *args[:1], v, *args[1:]) if name != "copyto" else \
                mod.copyto(x, v, *args)
            return x
        return f
    return make


def _fill_diagonal(mod):
    def f(x, v, wrap=False):
        x = x + 0.0 * mod.sum(v)
        mod.fill_diagonal(x, v, wrap=wrap)
        return x
    return f


def _padc(mod):
    return lambda x, c, **kw: mod.pad(x, ((1, 2), (0, 1)), constant_values=c, **kw)


def _padr(mod):
    return lambda x, lo, hi: mod.pad(x, ((1, 2), (2, 1)), mode="linear_ramp",
                                     end_values=((lo, hi), (hi, 0.5)))


def _padwith(vector, pad_width, iaxis, kwargs):
    """NumPy's own example of a callable pad mode (writes into the 1-D line)."""
    vector[:pad_width[0]] = kwargs.get("padder", 2.0) * vector[pad_width[0]]
    if pad_width[1]:
        vector[-pad_width[1]:] = vector[-pad_width[1] - 1] ** 2


ROWS = [
    Row("atleast_1d", cnp.atleast_1d, np.atleast_1d,
        [S(2.5), S(_v), S(_x), S(2.5, _v, _x)]),
    Row("atleast_2d", cnp.atleast_2d, np.atleast_2d, [S(2.5), S(_v), S(_t), S(_v, _x)]),
    Row("atleast_3d", cnp.atleast_3d, np.atleast_3d, [S(2.5), S(_v), S(_x), S(_t, _v)]),
    Row("vstack", cnp.vstack, np.vstack, [S([_v, randn(5)]), S([_x, randn(2, 4)])]),
    Row("hstack", cnp.hstack, np.hstack, [S([_v, randn(2)]), S([_x, randn(3, 2)])]),
    Row("dstack", cnp.dstack, np.dstack, [S([_v, randn(5)]), S([_x, _x * 2]),
                                          S([_t, randn(2, 3, 1)])]),
    Row("column_stack", cnp.column_stack, np.column_stack,
        [S([_v, randn(5)]), S([randn(3), _x])]),
    Row("append", cnp.append, np.append,
        [S(_v, randn(2)), S(_x, randn(1, 4), axis=0), S(_x, randn(3, 2), axis=1),
         S(_x, randn(2, 2))]),
    Row("split", cnp.split, np.split,
        [S(randn(6), 3), S(_x, [1, 3], axis=1), S(_t, 2), S(_x, [1, 10], axis=0)]),
    Row("array_split", cnp.array_split, np.array_split,
        [S(randn(7), 3), S(_x, 3, axis=1), S(_x, [2], axis=-1)]),
    Row("hsplit", cnp.hsplit, np.hsplit, [S(_x, 2), S(randn(6), [2, 3])]),
    Row("vsplit", cnp.vsplit, np.vsplit, [S(randn(4, 3), 2)]),
    Row("dsplit", cnp.dsplit, np.dsplit, [S(_t, [1])]),
    Row("tile", cnp.tile, np.tile,
        [S(randn(3), 2), S(_x, (2, 1, 2)), S(_t, (2, 1)), S(2.5, 3)]),
    Row("repeat", cnp.repeat, np.repeat,
        [S(randn(3), 2), S(_x, np.array([1, 0, 2]), axis=0), S(_x, 2, axis=1), S(_x, 2),
         S(_t, [2], axis=-1)]),
    Row("flip", cnp.flip, np.flip, [S(_t), S(_t, 1), S(_t, (0, 2)), S(_v, -1)]),
    Row("fliplr", cnp.fliplr, np.fliplr, [S(_x), S(_t)]),
    Row("flipud", cnp.flipud, np.flipud, [S(_v), S(_x)]),
    Row("roll", cnp.roll, np.roll,
        [S(_v, 2), S(_x, -1, 1), S(_t, (1, 2), (0, 2)), S(_x, 5), S(_x, (1, 1), (1, 1)),
         S(_v, 0)]),
    Row("rot90", cnp.rot90, np.rot90, [S(_x), S(_t, 3, (1, 2)), S(_x, 2), S(_x, -1)]),
    Row("pad", cnp.pad, np.pad,
        [S(_x, 1), S(_x, ((1, 2), (0, 1)), constant_values=2.0),
         S(_x, ((1, 2), (3, 0)), constant_values=((1.0, 2.0), (3.0, 4.0))),
         S(_x, 2, mode="edge"), S(_x, ((2, 3), (1, 4)), mode="reflect"),
         S(_x, ((2, 3), (1, 5)), mode="symmetric"), S(_x, ((4, 3), (1, 9)), mode="wrap"),
         S(randn(4), 5, mode="reflect", reflect_type="odd"),
         S(_x, (2, 3), mode="symmetric", reflect_type="odd"), S(_t, ((0, 0), (1, 1), (2, 0))),
         S(_x, ((2, 1), (3, 2)), mode="reflect"), S(_x, ((3, 1), (4, 2)), mode="symmetric"),
         S(_x, ((0, 3), (4, 1)), mode="wrap"), S(_x, ((2, 1), (3, 0)), mode="reflect",
                                                 reflect_type="odd"),
         S(_t, 1, mode="symmetric", reflect_type="odd"), S(randn(1, 3), 2, mode="reflect")]),
    Row("pad[traced constant]", _padc(cnp), _padc(np), [S(_x, 0.7)]),
    Row("pad[ramp and statistics]", cnp.pad, np.pad,
        [S(_x, ((1, 2), (3, 0)), mode="linear_ramp"),
         S(_x, 2, mode="linear_ramp", end_values=((1.0, -2.0), (0.5, 3.0))),
         S(_x, ((2, 1), (1, 2)), mode="maximum"), S(_x, 2, mode="minimum", stat_length=2),
         S(_x, ((1, 2), (2, 1)), mode="mean", stat_length=((1, 2), (3, 1))),
         S(_t, 1, mode="median"), S(_x, ((2, 0), (1, 1)), mode="median", stat_length=3)]),
    Row("pad[traced end_values]", _padr(cnp), _padr(np), [S(_x, 0.7, -1.5)]),
    Row("pad[callable]", cnp.pad, np.pad,
        [S(_x, 2, _padwith), S(_t, ((0, 1), (2, 0), (1, 1)), _padwith, padder=0.5)]),
    Row("rollaxis", cnp.rollaxis, np.rollaxis,
        [S(_t, 2), S(_t, 0, 3), S(_t, -1, 1), S(_t, 1, -2), S(_x, 1, 1)]),
    Row("take", cnp.take, np.take,
        [S(_x, np.array([0, 2, 2])), S(_x, np.array([[0, 1], [3, 3]]), axis=1),
         S(_x, np.array([5, -1]), axis=1, mode="wrap"), S(_x, 1), S(_t, 2, axis=2),
         S(_x, np.array([7, -3]), axis=0, mode="clip")]),
    Row("take_along_axis", cnp.take_along_axis, np.take_along_axis,
        [S(_x, np.argsort(_x, axis=1), axis=1), S(_x, np.array([[0], [2], [1]]), axis=1),
         S(_v, np.array([0, 0, 3]), axis=0), S(_t, np.array([[[1, 0]]]), axis=2),
         S(_x, np.array([4, 0, 4]), axis=None)]),
    Row("put_along_axis", _put(cnp), _put(np),
        [S(_x, randn(3, 1), np.array([[1], [3], [0]]), 1),
         S(_x, randn(1, 4), np.array([[2, 0, 1, 1]]), 0), S(_x, 2.5, np.array([[0]]), 1)]),
    Row("put", _in_place("put")(cnp), _in_place("put")(np),
        [S(_x, randn(3), np.array([0, 5, 11])), S(_x, randn(2), np.array([1, 1, 7, 2])),
         S(_x, 2.5, np.array([-1]))]),
    Row("putmask", _in_place("putmask")(cnp), _in_place("putmask")(np),
        [S(_x, randn(3), _x > 0), S(_x, randn(3, 4), _x < 0.5)]),
    Row("place", _in_place("place")(cnp), _in_place("place")(np),
        [S(_x, randn(2), _x > 0), S(_v, randn(5), _v < 10)]),
    Row("fill_diagonal", _fill_diagonal(cnp), _fill_diagonal(np),
        [S(_x, 1.5), S(_x, randn(2)), S(randn(7, 3), randn(3), wrap=True)]),
    Row("copyto", _in_place("copyto")(cnp), _in_place("copyto")(np),
        [S(_x, randn(3, 4)), S(_x, randn(4)), S(_x, randn(3, 4), "same_kind", _x > 0)]),
    Row("select", cnp.select, np.select,
        [S([_x > 0, _x < -1], [_x, _x ** 2], 0.5),
         S([_v > 0.5], [randn(5)], randn(5)), S([_x > 0, _x > 1], [_x, randn(4)])]),
    Row("meshgrid", cnp.meshgrid, np.meshgrid,
        [S(randn(3), randn(4)), S(randn(3), randn(4), randn(2), indexing="ij"),
         S(randn(3), randn(2), sparse=True), S(randn(3)), S(randn(2), randn(3), randn(2))]),
    Row("broadcast_arrays", cnp.broadcast_arrays, np.broadcast_arrays,
        [S(randn(3, 1), randn(4)), S(_x, 1.5)]),
    Row("diagonal", cnp.diagonal, np.diagonal,
        [S(_x), S(_x, 1), S(_x, -2), S(_t, -1, 2, 0), S(_t, 0, 1, 2), S(_x, 7)]),
    Row("diag", cnp.diag, np.diag,
        [S(randn(3)), S(randn(3), 1), S(randn(3), -2), S(randn(3, 4), 1), S(randn(4, 3), -1),
         S(randn(4, 4))]),
    Row("diagflat", cnp.diagflat, np.diagflat, [S(randn(2, 2), 1), S(randn(3))]),
    Row("tril", cnp.tril, np.tril, [S(randn(4, 4)), S(_t, -1), S(randn(3, 5), 2), S(_v)]),
    Row("triu", cnp.triu, np.triu, [S(randn(4, 4)), S(_t, 1), S(randn(5, 3), -2)]),
    Row("delete", cnp.delete, np.delete,
        [S(_v, 2), S(_x, [0, 2], axis=1), S(_x, slice(1, None), axis=0), S(_x, 1),
         S(_t, np.array([True, False, True]), axis=1)]),
    Row("insert", cnp.insert, np.insert,
        [S(_v, 2, 9.0), S(_x, [1, 3], randn(3, 2), axis=1), S(_x, 1, randn(4), axis=0),
         S(_x, [0, 0, 5], randn(3)), S(_x, 2, randn(3, 1), axis=1)]),
    Row("resize", cnp.resize, np.resize, [S(_v, (2, 4)), S(_x, 5), S(_t, (3, 3))]),
]

# cnp.linspace is NumPy's own until chainrule/numpy/__init__.py stops importing it from
# NumPy; the registry's version is differentiable in start and stop
from chainrule._src.numpy.dispatch import PUBLIC  # noqa: E402

_linspace = PUBLIC["numpy"]["linspace"]
ROWS.append(Row("linspace", _linspace, np.linspace,
                [S(0.5, 2.0, 5), S(randn(3), randn(3), 4, axis=1), S(-1.0, randn(2, 1), 3),
                 S(0.0, 1.5, 4, endpoint=False, retstep=True), S(1.0, 2.0, 1),
                 S(randn(2), 3.0, 6, axis=-1)]))

_PA = np.random.default_rng(124)
ROWS.append(Row("put_along_axis[axis None]", _put(cnp), _put(np),
                [S(_PA.standard_normal((3, 4)), _PA.standard_normal(3), np.array([0, 7, -1]),
                   None),
                 S(_PA.standard_normal((2, 3)), 1.5, np.array([4, 4, 1]), None)]))

# sliding_window_view: NumPy's read-only view (a generator of its own); the row calls
# NumPy's function, which reaches chainrule's on traced values (__array_function__)
_SW = np.random.default_rng(555)
_swv = np.lib.stride_tricks.sliding_window_view
ROWS.append(Row("lib.stride_tricks.sliding_window_view", _swv, _swv,
                [S(_SW.standard_normal(7), 3), S(_SW.standard_normal((4, 5)), (2, 3)),
                 S(_SW.standard_normal((3, 6)), 4, axis=1),
                 S(_SW.standard_normal((4, 5)), (2, 2), axis=(0, 0)),
                 S(_SW.standard_normal((3, 4)) + 1j * _SW.standard_normal((3, 4)), (2,),
                   axis=(-1,)),
                 S(_SW.standard_normal((2, 3, 4)), (3, 2), axis=(1, 2))]))
