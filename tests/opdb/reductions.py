"""Rows for numpy/reductions.py: prod, moments, cumulative sums and products, order
statistics, the nan-ignoring family, clip, sort, round, diff, trace, kron, cross."""
import numpy as np

import chainrule.numpy as cnp
from . import Row, S, randn, pos, unit, cplx

# rows added after the first ones draw from a generator of their own, so that the
# shared stream (and every later row's samples) stays what it was
_OWN = np.random.default_rng(2026)


def _rn(*shape):
    return _OWN.standard_normal(shape)


def _cx(*shape):
    return _rn(*shape) + 1j * _rn(*shape)


_x = randn(3, 4)
_t = randn(2, 3, 4)
_nanx = randn(3, 5)
_nanx[0, 1] = _nanx[2, 0] = _nanx[2, 3] = np.nan
_zeros1 = np.array([1.5, 0.0, 2.0, -1.0, 0.0, 3.0])
_zeros2 = np.array([[1.5, 0.0, -2.0], [0.0, 0.0, 3.0], [0.5, 2.0, 0.0]])

_special = np.array([1.5, np.nan, -0.5, np.inf, -np.inf, 2.0])
_cspecial = np.array([1.5 + 2j, complex(np.nan, 1.0), complex(2.0, -np.inf), -1j,
                      complex(np.inf, 0.5)])
_dups = np.array([2.0, -1.0, 2.0, 0.5, -1.0, 3.0])
_cdups = np.array([1 + 1j, 2.0, 1 + 1j, -1j, 3.0, -1j])


def _partition_in_place(mod):
    def f(x, kth, axis=-1):
        y = x * 1.0
        y.partition(kth, axis=axis)
        return y
    return f


ROWS = [
    Row("prod", cnp.prod, np.prod,
        [S(pos(3, 4)), S(unit(2, 3, 4), axis=1), S(randn(3, 4), axis=(0, 1), keepdims=True),
         S(cplx(2, 3), axis=0), S(randn(5), initial=2.0, diff=(0,)), S(randn(4, 3), axis=-1)]),
    # zeros in the input: the derivative is the product of the others (no 0/0)
    Row("prod[zeros]", cnp.prod, np.prod,
        [S(_zeros1), S(_zeros2, axis=1), S(_zeros2, axis=0), S(_zeros2)]),
    Row("var", cnp.var, np.var,
        [S(_t), S(_t, axis=1), S(_t, axis=(0, 2), ddof=1, keepdims=True), S(cplx(3, 4), axis=0),
         S(_x, correction=1)]),
    Row("std", cnp.std, np.std, [S(_t), S(_t, axis=-1, ddof=1), S(cplx(3, 4), axis=1)]),
    Row("nanvar", cnp.nanvar, np.nanvar, [S(_nanx), S(_nanx, axis=1, ddof=1)]),
    Row("nanstd", cnp.nanstd, np.nanstd, [S(_nanx, axis=0, keepdims=True), S(_nanx)]),
    Row("ptp", cnp.ptp, np.ptp, [S(_t), S(_t, axis=1), S(_x, axis=0, keepdims=True)]),
    Row("average", cnp.average, np.average,
        [S(_t), S(_t, axis=1), S(_x, axis=0, returned=True), S(_x, axis=1, keepdims=True)]),
    Row("average[weights]",
        lambda a, w, **kw: cnp.average(a, weights=w, **kw),
        lambda a, w, **kw: np.average(a, weights=w, **kw),
        [S(_t, pos(2, 3, 4)), S(_t, pos(3), axis=1), S(_t, pos(2, 4), axis=(0, 2)),
         S(_x, pos(4), axis=1, returned=True), S(_x, pos(3), axis=0, keepdims=True)]),
    Row("cumsum", cnp.cumsum, np.cumsum,
        [S(_t), S(_t, axis=1), S(_x, axis=-1), S(cplx(4), axis=0)]),
    Row("cumprod", cnp.cumprod, np.cumprod,
        [S(unit(2, 5), axis=1), S(pos(6)), S(unit(3, 4, 2), axis=0), S(cplx(5))]),
    Row("cumprod[zeros]", cnp.cumprod, np.cumprod,
        [S(_zeros1), S(_zeros2, axis=1), S(_zeros2, axis=0)]),
    Row("cumulative_sum", cnp.cumulative_sum, np.cumulative_sum,
        [S(randn(5)), S(_x, axis=1, include_initial=True)]),
    Row("cumulative_prod", cnp.cumulative_prod, np.cumulative_prod,
        [S(unit(5)), S(unit(3, 4), axis=0, include_initial=True)]),
    Row("median", cnp.median, np.median,
        [S(randn(7)), S(randn(6)), S(randn(3, 6), axis=1), S(_t, axis=(0, 2), keepdims=True),
         S(randn(3, 5), axis=0), S(_t, axis=None, keepdims=True)]),
    Row("nanmedian", cnp.nanmedian, np.nanmedian,
        [S(_nanx, axis=1), S(_nanx, axis=0), S(_nanx)]),
    Row("quantile", cnp.quantile, np.quantile,
        [S(randn(7), 0.3, diff=(0,)), S(randn(3, 6), np.array([0.1, 0.5, 0.95]), axis=1, diff=(0,)),
         S(_t, np.array([[0.25], [0.75]]), axis=(0, 2), keepdims=True, diff=(0,)),
         S(randn(5), 1.0, diff=(0,)), S(randn(5), 0.0, diff=(0,))]),
    Row("quantile[methods]", cnp.quantile, np.quantile,
        [S(_rn(7), np.array([0.0, 0.2, 0.5, 0.9, 1.0]), method=m, diff=(0,)) for m in
         ("weibull", "hazen", "median_unbiased", "normal_unbiased",
          "interpolated_inverted_cdf", "inverted_cdf", "averaged_inverted_cdf",
          "closest_observation", "lower", "higher", "nearest", "midpoint")] +
        [S(_rn(3, 6), 0.3, axis=1, method="hazen", keepdims=True, diff=(0,))]),
    Row("percentile", cnp.percentile, np.percentile,
        [S(randn(8), 40.0, diff=(0,)), S(randn(3, 5), np.array([10.0, 50.0, 90.0]), axis=0, diff=(0,))]),
    Row("nansum", cnp.nansum, np.nansum, [S(_nanx), S(_nanx, axis=1), S(_x, axis=0)]),
    Row("nanmean", cnp.nanmean, np.nanmean,
        [S(_nanx), S(_nanx, axis=0), S(_nanx, axis=1, keepdims=True)]),
    Row("nanmax", cnp.nanmax, np.nanmax, [S(_nanx), S(_nanx, axis=1), S(_x, axis=0)]),
    Row("nanmin", cnp.nanmin, np.nanmin, [S(_nanx), S(_nanx, axis=0, keepdims=True)]),
    Row("nanprod", cnp.nanprod, np.nanprod, [S(_nanx), S(_nanx, axis=1)]),
    Row("nancumsum", cnp.nancumsum, np.nancumsum, [S(_nanx), S(_nanx, axis=1)]),
    Row("nancumprod", cnp.nancumprod, np.nancumprod, [S(_nanx, axis=1)]),
    Row("clip", cnp.clip, np.clip,
        [S(_x, -0.5, 0.5, diff=(0,)), S(_x, None, 0.3, diff=(0,)), S(_x, -0.2, None, diff=(0,)),
         S(_x, randn(3, 4) * 0.1 - 0.5, 0.5 + randn(4) * 0.1), S(_x, min=-0.4, max=0.6)]),
    Row("partition", cnp.partition, np.partition,
        [S(_rn(9), 3), S(_t, [0, 2], axis=1), S(_rn(4, 7), (-1, 2, 5)),
         S(_x, 5, axis=None), S(_nanx, 1, axis=0, diff=())]),
    Row("partition[method]", _partition_in_place(cnp), _partition_in_place(np),
        [S(_rn(8), 4), S(_t, 1, axis=0)]),
    Row("argpartition", cnp.argpartition, np.argpartition,
        [S(_rn(9), 3, diff=()), S(_t, [0, 2], axis=1, diff=()), S(_x, 2, axis=None, diff=())],
        grad=False),
    Row("nan_to_num", cnp.nan_to_num, np.nan_to_num,
        [S(_nanx), S(_special, nan=-1.5, posinf=9.0, neginf=-9.0),
         S(_cspecial, posinf=4.0, neginf=-4.0), S(_rn(4), copy=False),
         S(_special, diff=())]),
    Row("sort", cnp.sort, np.sort,
        [S(randn(5)), S(_t, axis=1), S(_x, axis=None), S(_x, axis=0), S(_t)]),
    # piecewise constant: samples kept away from the rounding boundaries
    Row("round", cnp.round, np.round, [S(np.round(_x * 10) + 0.2), S(np.round(_x, 1) + 0.02, 1)]),
    Row("around", cnp.around, np.around, [S(np.round(_x, 2) + 0.002, 2)]),
    Row("diff", cnp.diff, np.diff,
        [S(_x), S(_t, n=2, axis=1), S(randn(5), prepend=1.0, append=np.array([2.0, 3.0])),
         S(randn(6), 3), S(_x, 0)]),
    Row("ediff1d", cnp.ediff1d, np.ediff1d,
        [S(randn(5)), S(randn(2, 3), to_end=np.array([1.0, 2.0]), to_begin=2.0)]),
    Row("gradient", cnp.gradient, np.gradient,
        [S(_rn(6)), S(_rn(6), 0.5, edge_order=2), S(_x), S(_t, axis=(0, 2)),
         S(_x, 2.0, np.array([0.0, 1.0, 1.5, 3.0])), S(_rn(5), np.arange(5.0) * 2),
         S(_x, np.array([0.0, 1.0, 3.0]), axis=0, edge_order=2), S(_rn(4), 1.5),
         S(_cx(5)), S(_rn(2, 5), 0.5, axis=-1)]),
    # traced coordinates: the formula for uneven spacing, differentiated in them too
    Row("gradient[coordinates]", lambda f, x, **kw: cnp.gradient(f, x, **kw),
        lambda f, x, **kw: np.gradient(f, x, **kw),
        [S(_rn(5), np.array([0.0, 0.5, 1.5, 2.0, 3.5])),
         S(_rn(5), np.array([0.0, 0.5, 1.5, 2.0, 3.5]), edge_order=2)]),
    Row("trace", cnp.trace, np.trace,
        [S(_x), S(_t, 1, 1, 2), S(randn(4, 4), -1), S(randn(4, 4)), S(_t, 0, 0, 2)]),
    Row("kron", cnp.kron, np.kron,
        [S(randn(2, 3), randn(3, 2)), S(randn(3), randn(2, 2)), S(randn(2), randn(3)),
         S(2.0, randn(3))]),
    Row("cross", cnp.cross, np.cross,
        [S(randn(3), randn(3)), S(randn(4, 3), randn(4, 3)), S(randn(3, 4), randn(4, 3), axisa=0),
         S(randn(2, 3), randn(3), axisc=0), S(randn(3, 2), randn(3, 2), axis=0)]),
    # like unique (basic.py's rows): values only (an output of data-dependent shape has
    # no vmap); tests/test_numpy_extra.py differentiates them
    Row("unique_values", cnp.unique_values, np.unique_values,
        [S(_dups, diff=()), S(_cdups, diff=()), S(np.round(_x), diff=())]),
    Row("unique_counts", cnp.unique_counts, np.unique_counts,
        [S(_dups, diff=()), S(np.round(_x), diff=())]),
    Row("unique_inverse", cnp.unique_inverse, np.unique_inverse,
        [S(_dups, diff=()), S(np.round(_x), diff=())]),
    Row("unique_all", cnp.unique_all, np.unique_all,
        [S(_dups, diff=()), S(_cdups, diff=())]),
]

# nanquantile / nanpercentile: a generator of their own (the shared samples stay put);
# NaNs in some slices (an all-NaN slice: tests/test_numpy_gaps.py)
_NQ = np.random.default_rng(122)
_nanq = _NQ.standard_normal((4, 6))
_nanq[0, [1, 4]] = _nanq[2, 2] = np.nan
_NQ_METHODS = ("linear", "weibull", "hazen", "median_unbiased", "normal_unbiased",
               "interpolated_inverted_cdf", "inverted_cdf", "averaged_inverted_cdf",
               "closest_observation", "lower", "higher", "nearest", "midpoint")


ROWS += [
    Row("nanquantile", cnp.nanquantile, np.nanquantile,
        [S(_nanq, 0.3, axis=1, diff=(0,)), S(_nanq, np.array([0.0, 0.45, 1.0]), diff=(0,)),
         S(_nanq, np.array([[0.2], [0.9]]), axis=0, keepdims=True, diff=(0,)),
         S(_NQ.standard_normal(7), 0.6, diff=(0,))]),
    Row("nanquantile[methods]", cnp.nanquantile, np.nanquantile,
        [S(_nanq, np.array([0.0, 0.3, 0.5, 0.95]), axis=1, method=m, diff=(0,))
         for m in _NQ_METHODS]),
    Row("nanpercentile", cnp.nanpercentile, np.nanpercentile,
        [S(_nanq, 35.0, axis=1, diff=(0,)), S(_nanq, np.array([5.0, 50.0, 99.0]), axis=0,
                                              method="hazen", diff=(0,))]),
]

# ufunc methods (chainrule.numpy's ufuncs carry NumPy's own: cnp.add.reduce is
# np.add.reduce, which reaches chainrule's versions on traced values); their axis
# defaults to 0, not to every axis as sum's does
_UR = np.random.default_rng(77)
ROWS += [
    Row("add.reduce", cnp.add.reduce, np.add.reduce,
        [S(_UR.standard_normal((3, 4))), S(_UR.standard_normal((2, 3, 4)), 2),
         S(_UR.standard_normal((3, 4)), axis=None), S(_UR.standard_normal((3, 4)), 1, None,
                                                      None, True)]),
    Row("multiply.reduce", cnp.multiply.reduce, np.multiply.reduce,
        [S(_UR.uniform(0.5, 2.0, (3, 4))), S(_UR.uniform(0.5, 2.0, (3, 4)), axis=-1)]),
    Row("maximum.reduce", cnp.maximum.reduce, np.maximum.reduce,
        [S(_UR.standard_normal((3, 4))), S(_UR.standard_normal((2, 3, 4)), axis=(0, 2))]),
    Row("minimum.reduce", cnp.minimum.reduce, np.minimum.reduce,
        [S(_UR.standard_normal((4, 3))), S(_UR.standard_normal((4, 3)), 1, keepdims=True)]),
    Row("add.accumulate", cnp.add.accumulate, np.add.accumulate,
        [S(_UR.standard_normal((3, 4))), S(_UR.standard_normal((3, 4)), axis=1)]),
    Row("multiply.accumulate", cnp.multiply.accumulate, np.multiply.accumulate,
        [S(_UR.uniform(0.5, 2.0, (3, 4))), S(_UR.uniform(0.5, 2.0, 5))]),
    Row("multiply.outer", cnp.multiply.outer, np.multiply.outer,
        [S(_UR.standard_normal(3), _UR.standard_normal((2, 4))),
         S(_UR.standard_normal((2, 2)), _UR.standard_normal(3))]),
    Row("subtract.outer", cnp.subtract.outer, np.subtract.outer,
        [S(_UR.standard_normal(4), _UR.standard_normal(3))]),
    Row("arctan2.outer", cnp.arctan2.outer, np.arctan2.outer,
        [S(_UR.uniform(0.5, 2.0, 3), _UR.uniform(0.5, 2.0, 2))]),
]

# where= and initial= of the reductions (masks broadcast against the input; every
# slice keeps more unmasked entries than ddof): a generator of their own
_CV = np.random.default_rng(55)
_wt = _CV.standard_normal((2, 3, 4))
_wx = _CV.standard_normal((3, 4))
_m3 = np.array([[True, False, True, True], [False, True, True, False],
                [True, True, False, True]])
_m4 = np.array([True, False, True, True])
_mnan = ~np.isnan(_nanx) | (np.arange(5) % 2 == 0)      # keeps some NaNs, masks others
ROWS += [
    Row("sum[where]", cnp.sum, np.sum,
        [S(_wt, where=_m3), S(_wt, axis=1, where=_m4), S(_wx, initial=-2.5),
         S(_wt, axis=(0, 2), keepdims=True, where=_m3, initial=1.5),
         S(_CV.standard_normal((3, 4)) + 1j * _CV.standard_normal((3, 4)), axis=0,
           where=_m3)]),
    Row("mean[where]", cnp.mean, np.mean,
        [S(_wt, where=_m3), S(_wt, axis=2, where=_m4), S(_wx, axis=0, keepdims=True,
                                                          where=_m3)]),
    Row("max[where]", cnp.max, np.max,
        [S(_wt, where=_m3, initial=-5.0), S(_wt, axis=2, where=_m4, initial=0.1),
         S(_wx, initial=10.0), S(_wx, axis=0, keepdims=True, where=_m3, initial=-1.0)]),
    Row("min[where]", cnp.min, np.min,
        [S(_wt, where=_m3, initial=5.0), S(_wt, axis=(0, 1), where=_m4, initial=-0.1)]),
    Row("amax[where]", cnp.amax, np.amax, [S(_wx, axis=1, where=_m3, initial=-0.5)]),
    Row("amin[where]", cnp.amin, np.amin, [S(_wx, axis=0, where=_m4, initial=0.5)]),
    Row("prod[where]", cnp.prod, np.prod,
        [S(_CV.uniform(0.5, 2.0, (3, 4)), where=_m3),
         S(_CV.uniform(-0.9, 0.9, (2, 3, 4)), axis=1, where=_m4, initial=2.0)]),
    Row("var[where]", cnp.var, np.var,
        [S(_wt, where=_m3), S(_wt, axis=2, where=_m4, ddof=1),
         S(_CV.standard_normal((3, 4)) + 1j * _CV.standard_normal((3, 4)), axis=1,
           where=_m3, keepdims=True)]),
    Row("std[where]", cnp.std, np.std,
        [S(_wt, where=_m3), S(_wt, axis=(0, 2), where=_m3, ddof=1)]),
    Row("nansum[where]", cnp.nansum, np.nansum,
        [S(_nanx, where=_mnan), S(_nanx, axis=1, where=_mnan, initial=1.0)]),
]

# more ufunc methods: running extrema (derivative to the element that set the running
# extremum; a two-way tie shares it, as np.max's), logaddexp's fold, add.reduceat
_UM = np.random.default_rng(5555)
_mtie = np.array([[0.3, 1.2, 1.2, -0.5, 2.0, 0.7], [1.5, -0.2, 1.5, 2.5, 2.5, 0.1]])
ROWS += [
    Row("maximum.accumulate", cnp.maximum.accumulate, np.maximum.accumulate,
        [S(_UM.standard_normal(9)), S(_UM.standard_normal((4, 5))),
         S(_UM.standard_normal((3, 6)), axis=1), S(_UM.standard_normal((2, 3, 4)), -1)]),
    Row("maximum.accumulate[ties]", cnp.maximum.accumulate, np.maximum.accumulate,
        [S(_mtie, axis=1)], order=1),
    Row("minimum.accumulate", cnp.minimum.accumulate, np.minimum.accumulate,
        [S(_UM.standard_normal(9)), S(_UM.standard_normal((4, 5)), axis=1)]),
    Row("logaddexp.reduce", cnp.logaddexp.reduce, np.logaddexp.reduce,
        [S(_UM.standard_normal(6)), S(_UM.standard_normal((3, 4)), axis=1),
         S(_UM.standard_normal((3, 4)), axis=None), S(_UM.standard_normal((2, 3)), 0, None,
                                                      None, True),
         S(_UM.standard_normal((3, 4)), axis=1, where=_m4, initial=0.5)]),
    Row("logaddexp.accumulate", cnp.logaddexp.accumulate, np.logaddexp.accumulate,
        [S(_UM.standard_normal(7)), S(_UM.standard_normal((3, 5)), axis=1),
         S(_UM.standard_normal((4, 2)))]),
    Row("add.reduceat", cnp.add.reduceat, np.add.reduceat,
        [S(_UM.standard_normal(8), [0, 3, 2, 5]), S(_UM.standard_normal((3, 6)), [0, 2, 5], axis=1),
         S(_UM.standard_normal((5, 2)), np.array([1, 1, 4]))]),
]

# fix (NumPy's trunc: derivative zero) and the layout functions (a transposed input
# is copied into the layout asked for)
_LY = np.random.default_rng(556)
_ly = _LY.standard_normal((3, 4))
ROWS += [
    Row("fix", cnp.fix, np.fix, [S(np.round(_ly * 10) + 0.3), S(-np.round(_ly * 10) - 0.4)]),
    Row("ascontiguousarray", cnp.ascontiguousarray, np.ascontiguousarray,
        [S(_ly), S(np.asfortranarray(_ly)), S(_ly, dtype=np.float32, diff=()),
         S(np.array(1.5))]),
    Row("asfortranarray", cnp.asfortranarray, np.asfortranarray,
        [S(_ly), S(_ly.T), S(_LY.standard_normal((2, 3)) + 1j * _LY.standard_normal((2, 3)))]),
    Row("require", cnp.require, np.require,
        [S(_ly), S(_ly, requirements="F"), S(_ly, None, ["C", "W", "O"]),
         S(_ly, np.float32, "F", diff=())]),
]
