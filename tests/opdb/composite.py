"""Rows for numpy/composite.py: array-API names, signals and statistics, two-output
ufuncs, concrete selections and set routines (their own generator: the shared samples
stay put). Set routines and trim_zeros have value rows only (a result whose size depends
on the values has no finite-difference check and no vmap); their derivatives are
checked in tests/test_numpy_gaps.py."""
import warnings

import numpy as np

import chainrule.numpy as cnp
from . import Row, S

_R = np.random.default_rng(127)


def _r(*shape):
    return _R.standard_normal(shape)


def _quiet(f):
    def g(*args, **kwargs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return f(*args, **kwargs)
    return g


# the two-output ufuncs and ldexp on small integers, bools and float16/32 (NumPy's loops
# and weak Python scalars decide the dtypes: divmod(int32, 7) is int32, ldexp(bool, 2)
# float16, frexp(float32) float32). Literal values, so the shared samples stay put;
# float16/32 ones are held fixed (diff=()): finite differences in them are too coarse
# for the generic columns (tests/test_dtype_semantics.py checks their derivatives)
_I32 = np.array([5, -3, 9, 0, -7], np.int32)
_F32 = np.array([1.3, -2.7, 0.4, 5.5, -0.1], np.float32)
_F16 = np.array([1.5, -2.25, 0.375, 6.0, -0.125], np.float16)
_SMALL_DTYPES = {
    "divmod": [S(_I32, 7), S(_I32.astype(np.int8), np.int8(3)), S(7, _I32 % 4 + 1),
               S(_F32, 2.5, diff=()), S(_F16, 0.75, diff=())],
    "frexp": [S(_F32, diff=()), S(_F16, diff=()), S(_I32.astype(np.int8)), S(_I32 > 0),
              S(_I32.astype(np.int16))],
    "ldexp": [S(_F32, 2, diff=()), S(_F16, np.array([1, -3, 0, 5, 2], np.int8), diff=()),
              S(_I32 > 0, 2), S(_I32.astype(np.int8), _I32), S(_I32.astype(np.int16), 3),
              S(_I32, 2), S(_F32, np.int64(-2), diff=())],
}


def _twin(name, *extra, **kw):
    """(chainrule's, NumPy's) function with fixed extra arguments."""
    return (lambda *a: getattr(cnp, name)(*a, *extra, **kw),
            lambda *a: getattr(np, name)(*a, *extra, **kw))


_X, _a, _b = _r(3, 6), _r(5), _r(3)
_mask = np.array([True, False, True, True, False, False])
ROWS = [
    Row("concat", cnp.concat, np.concat, [S([_a, _b]), S((_X, _r(2, 6)), axis=0)]),
    Row("permute_dims", cnp.permute_dims, np.permute_dims, [S(_r(2, 3, 4), (2, 0, 1)), S(_X)]),
    Row("matrix_transpose", cnp.matrix_transpose, np.matrix_transpose, [S(_r(2, 3, 4))]),
    Row("unstack", cnp.unstack, np.unstack, [S(_X), S(_r(2, 3, 4), axis=2)]),
    Row("astype", cnp.astype, np.astype, [S(_X, np.complex128), S(_X, np.float64)]),
    Row("vecdot", cnp.vecdot, np.vecdot, [S(_X, _r(6)), S(_r(4, 3) + 1j * _r(4, 3), _r(2, 1, 3), axis=-1)]),
    Row("matvec", cnp.matvec, np.matvec, [S(_X, _r(6)), S(_r(2, 3, 4), _r(4))]),
    Row("vecmat", cnp.vecmat, np.vecmat, [S(_r(3), _X), S(_r(3) + 1j * _r(3), _r(2, 3, 4))]),
    Row("block", *_twin("block"), []),
    Row("full", cnp.full, np.full, [S((2, 3), 1.5), S((2, 3), _r(3)), S((2, 2), _r(2, 1), np.complex128)]),
    Row("row_stack", _quiet(cnp.row_stack), _quiet(np.row_stack), [S([_a, _r(5)])]),
    Row("convolve", cnp.convolve, np.convolve,
        [S(_a, _b), S(_b, _a, "same"), S(_a, _b, "valid"), S(_b, _r(3) + 1j * _r(3))]),
    Row("correlate", cnp.correlate, np.correlate,
        [S(_a, _b), S(_b, _a, "full"), S(_b, _a, "same"), S(_a, _b, "same"), S(_b, _a),
         S(_a + 1j * _r(5), _b, "full")]),
    Row("cov", cnp.cov, np.cov,
        [S(_X), S(_X.T, _r(6, 2), rowvar=False, bias=True), S(_r(6)),
         S(_X, None, True, False, None, np.arange(1, 7), _R.uniform(0.5, 1, 6), diff=(0, 6)),
         S(_X, None, True, False, 0, None, _R.uniform(0.5, 1, 6), diff=(0, 6))]),
    Row("corrcoef", cnp.corrcoef, np.corrcoef, [S(_X), S(_r(6), _r(6))]),
    Row("trapezoid", cnp.trapezoid, np.trapezoid,
        [S(_X, np.sort(_r(6))), S(_X, dx=0.3, axis=0), S(_X, _r(3, 6))]),
    Row("interp", cnp.interp, np.interp,
        [S(_R.uniform(-2, 2, 7), np.sort(_r(5)), _r(5)),
         S(_R.uniform(-2, 2, 7), np.sort(_r(4)), _r(4), -3.0, 2.5),
         S(_R.uniform(-1, 1, (2, 3)), np.array([-1.5, 1.5]), _r(2)),
         S(_R.uniform(-5, 5, 6), _R.uniform(0, 6, 5), _r(5), period=2.0),
         S(np.array([0.3, 1.7], np.float32), np.array([0.5]), np.array([1.5], np.float32),
           diff=())]),
    Row("unwrap", cnp.unwrap, np.unwrap,
        [S(np.cumsum(_R.uniform(0, 2.5, 8))), S(np.cumsum(_R.uniform(0, 2.5, (2, 6)), axis=1),
                                                discont=4.0, axis=1),
         S(np.cumsum(_R.uniform(0, 1.2, 6)), period=2.0),
         S(np.array([0, 5, 1, 7, 2, 6]), period=8), S(np.array([True, False, True]))]),
    Row("vander", cnp.vander, np.vander,
        [S(_a, 4), S(_b, None, True), S(_b.astype(np.float32), 3, diff=())]),
    Row("logspace", cnp.logspace, np.logspace,
        [S(0.5, 2.0, 5), S(_r(2), 1.0, 4, base=2.0), S(0.0, 1.0, 3, base=_R.uniform(1.5, 3, 2), axis=1)]),
    Row("geomspace", cnp.geomspace, np.geomspace,
        [S(0.5, 20.0, 5), S(-0.5, -20.0, 4, endpoint=False), S(_R.uniform(1, 2, 2), 30.0, 3, axis=1)]),
    Row("i0", cnp.i0, np.i0, [S(_r(5)), S(_r(2, 3))]),
    Row("divmod", cnp.divmod, np.divmod, [S(_r(5), _R.uniform(0.5, 1, 5)), S(_r(2, 3), 0.7)]
        + _SMALL_DTYPES["divmod"]),
    Row("frexp", cnp.frexp, np.frexp,
        [S(_r(5) * 10), S(_r(2, 3))] + _SMALL_DTYPES["frexp"]),
    Row("ldexp", cnp.ldexp, np.ldexp, [S(_r(5), np.array([1, -3, 0, 5, 2])), S(_r(2, 3), 4)]
        + _SMALL_DTYPES["ldexp"]),
    Row("compress", cnp.compress, np.compress,
        [S([True, False, True], _X, axis=0), S(_mask, _X, axis=1), S([False, True], _a)]),
    Row("extract", cnp.extract, np.extract, [S(_X > 0, _X), S(_mask, _r(6))]),
    Row("choose", cnp.choose, np.choose,
        [S(np.array([0, 1, 1, 0, 1]), [_a, _r(5)]),
         S(np.array([[0, 2, 1]]), [_r(2, 3), _r(3), 0.5]),
         S(np.array([3, -1, 0]), [_b, _r(3)], mode="wrap"),
         S(np.array([3, -1, 0]), [_b, _r(3)], mode="clip")]),
    Row("piecewise", cnp.piecewise, np.piecewise,
        [S(_a, [_a < 0, _a > 0.5], [lambda v: v ** 2, lambda v: -v, 0.25]),
         S(_b, _b > 0, [lambda v: 10 * v, lambda v: -v]),
         S(_X, [_X > 0], [np.sin, np.cos])]),
    Row("apply_along_axis", cnp.apply_along_axis, np.apply_along_axis,
        [S(lambda r: r[:2] * np.sum(r), 1, _X), S(lambda r: np.sum(r ** 2), 0, _X),
         S(lambda r: np.outer(r, r), 0, _r(2, 3))]),
    Row("apply_over_axes", cnp.apply_over_axes, np.apply_over_axes,
        [S(np.sum, _r(2, 3, 4), [0, 2]), S(np.mean, _X, 1)]),
    Row("sort_complex", cnp.sort_complex, np.sort_complex,
        [S(_a), S(_r(4) + 1j * _r(4))]),
    # value rows: the result's size depends on the values
    Row("trim_zeros", cnp.trim_zeros, np.trim_zeros,
        [S(np.r_[0.0, 0.0, _a, 0.0], diff=()), S(np.r_[0.0, _a], "b", diff=())]),
    Row("union1d", cnp.union1d, np.union1d, [S(_a, np.r_[_b, _a[1]], diff=())]),
    Row("intersect1d", cnp.intersect1d, np.intersect1d,
        [S(_a, np.r_[_b, _a[1], _a[3]], diff=()), S(np.r_[_a, _a], _a[:2], diff=())]),
    Row("setdiff1d", cnp.setdiff1d, np.setdiff1d, [S(_a, np.r_[_b, _a[1]], diff=())]),
    Row("setxor1d", cnp.setxor1d, np.setxor1d, [S(_a, np.r_[_b, _a[1]], diff=())]),
]
_blocks = [_r(2, 2), _r(2, 3), _r(1, 5), _r(3), _r(2)]
ROWS[[r.name for r in ROWS].index("block")] = Row(
    "block", lambda a, b, c: cnp.block([[a, b], [c]]),
    lambda a, b, c: np.block([[a, b], [c]]), [S(*_blocks[:3])])
ROWS.append(Row("block[1-d]", lambda a, b: cnp.block([a, b, 1.0]),
                lambda a, b: np.block([a, b, 1.0]), [S(_blocks[3], _blocks[4])]))

# numpy/polynomial.py
_p4, _p2 = _r(4), _r(2)
ROWS += [
    Row("polyval", cnp.polyval, np.polyval, [S(_p4, _r(6)), S(_p2, _r(2, 3)), S(_p4, 0.5)]),
    Row("polyadd", cnp.polyadd, np.polyadd, [S(_p4, _p2), S(_p2, _p4)]),
    Row("polysub", cnp.polysub, np.polysub, [S(_p4, _p2), S(_p2, _p4)]),
    Row("polymul", cnp.polymul, np.polymul, [S(_p4, _p2), S(np.r_[0.0, _p4], _p2, diff=(1,))]),
    Row("polyder", cnp.polyder, np.polyder, [S(_p4), S(_p4, 2), S(_p2, 3)]),
    Row("polyint", cnp.polyint, np.polyint,
        [S(_p4), S(_p4, 2, _p2), S(_p2, 1, 0.5), S(_p4, 3, np.array([0.5]))]),
    Row("polydiv", cnp.polydiv, np.polydiv,
        [S(_p4, _p2), S(_r(5), _r(3)), S(_p4, _p2 + 1j * _r(2))]),
    # (with complex roots, or a matrix's eigenvalues, the result is real or complex by
    # their values: no vmap; tests/test_numpy_gaps.py)
    Row("poly", cnp.poly, np.poly, [S(_p4), S(_r(2))], tol=1e-4),
    Row("roots", cnp.roots, np.roots, [S(_p4), S(_r(3))], tol=1e-4,
        dtype_differs={"vmap": "NumPy's roots are real where every root is real (a "
                       "value-dependent dtype); vmapped, each example could decide "
                       "differently, so they are complex (linalg.eigvals)"}),
    Row("roots[zeros]", cnp.roots, np.roots,
        [S(np.r_[0.0, _p4, 0.0], diff=()), S(np.zeros(3), diff=())]),
    Row("polyfit", cnp.polyfit, np.polyfit,
        [S(_r(6), _r(6), 2), S(_r(6), _r(6, 2), 1, None, False, _R.uniform(0.5, 1, 6))]),
]

# counting with weights (the samples are held: their bins are concrete)
_hx, _hy, _hw = _r(20), _r(20), _R.uniform(0.5, 2, 20)
ROWS += [
    Row("bincount[weights]", cnp.bincount, np.bincount,
        [S(np.array([0, 1, 1, 4]), _hw[:4]), S(np.array([2, 0]), _hw[:2], minlength=5)]),
    Row("histogram[weights]", cnp.histogram, np.histogram,
        [S(_hx, 5, None, None, _hw, diff=(4,)), S(_hx, 4, (-1, 1), True, _hw, diff=(4,)),
         S(_hx, np.array([-2.0, -0.5, 0.1, 0.8, 2.5]), None, True, diff=())]),
    Row("histogram2d", cnp.histogram2d, np.histogram2d,
        [S(_hx, _hy, 3, None, None, _hw, diff=(5,)),
         S(_hx, _hy, [3, 4], None, True, _hw, diff=(5,)), S(_hx, _hy, diff=())]),
    Row("histogramdd", cnp.histogramdd, np.histogramdd,
        [S(np.stack([_hx, _hy], 1), 2, None, None, _hw, diff=(4,)),
         S(np.stack([_hx, _hy, _hw], 1), (2, 3, 2), None, True, _hw, diff=(4,))]),
]
