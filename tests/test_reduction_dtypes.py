"""Reductions give NumPy's values and dtypes under every transformation, for every
dtype NumPy accepts (regressions of silent wrong answers; eagerly, on plain arrays,
chainrule.numpy calls NumPy, so only the transformations could differ):

- the nan-ignoring family keeps NumPy's dtypes: integers and bools are reduced without
  NaN handling (nansum of int32 is int64, nanmax of uint8 is uint8), float16/float32/
  complex64 stay in their precision (the fill constants and counts are made in the
  input's dtype); nanvar is NaN where no degree of freedom is left;
- median and nanmedian take NumPy's mean of the middle pair (float64 for bools and
  integers: int8 100 and 120 give 110, not a wrapped -18; float16 summed in float32);
  nanmedian follows NumPy's two code paths for float16 (np.median's or np.ma.median's);
- mean accumulates float16 in float32 (NumPy's), an integer ``dtype=`` truncates;
- var and std with ``dtype=``: complex128 of real input is complex; an integer
  ``dtype=`` is refused (NotImplementedError), never a different number;
- sum, prod, cumsum and cumprod with a ``dtype=`` narrower than int64 return that dtype
  (the reduction primitives widen small integers, as np.add.reduce does);
- quantile, percentile and their nan versions interpolate as NumPy's _lerp does, in its
  dtypes: a Python number ``q`` promotes weakly (float16 and float32 stay), an array
  ``q`` by its dtype; lower/higher/nearest/inverted_cdf/closest_observation keep the
  input's dtype (integers and bools too).

Every case is checked eagerly, under jit (called twice), under vmap (against a loop),
through vjp's primal (and value_and_grad's value for a scalar result) and through jvp's
primal and tangent dtype, for floating and complex inputs.
"""
import warnings

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp

DTYPES = [np.bool_, np.int8, np.uint8, np.int32, np.int64, np.float16, np.float32,
          np.float64, np.complex64, np.complex128]

_BASE = np.array([[3, -1, 7, 2, 0],
                  [5, 4, -2, 6, 1],
                  [1, 0, 4, -3, 2],
                  [6, 2, 3, 1, -1]])

# a first column where the middle pair or the sum leaves the dtype's range: the
# median's and mean's arithmetic must be NumPy's (float64, float32 for float16)
_BIG = {np.int8: [100, 120, 90, 110], np.uint8: [200, 250, 220, 240],
        np.int32: [2 ** 30, 2 ** 30 + 2, 2 ** 30 + 4, 2 ** 30 + 6],
        np.int64: [2 ** 62, 2 ** 62 + 2, 2 ** 62 + 4, 2 ** 62 + 6],
        np.float16: [60000, 65000, 50000, 64000]}


def data(dtype, nans=False, small=False):
    """A (4, 5) array of ``dtype`` (``small``: no out-of-range first column, for casts
    to narrow dtypes; ``nans``: NaNs in floating and complex arrays, one column all
    NaN, one with two NaNs, one with one)."""
    dt = np.dtype(dtype)
    if dt.kind == "b":
        return _BASE > 1
    if dt.kind == "u":
        x = np.abs(_BASE).astype(dt)
    elif dt.kind == "c":
        x = (_BASE * 0.75 + 0.5j * np.roll(_BASE, 1, axis=1)).astype(dt)
    elif dt.kind == "f":
        x = (_BASE * 0.75 + 0.125).astype(dt)
    else:
        x = _BASE.astype(dt)
    if dtype in _BIG and not small:
        x[:, 0] = np.array(_BIG[dtype]).astype(dt)
    if nans and dt.kind in "fc":
        x[0, 1] = x[2, 1] = x[1, 3] = np.nan
        x[:, 4] = np.nan
    return x


class Case:
    def __init__(self, name, nans=False, small=False, **kw):
        self.name, self.kw, self.nans, self.small = name, kw, nans, small

    def __repr__(self):
        kw = ",".join(f"{k}={getattr(v, '__name__', v)}" for k, v in self.kw.items())
        return f"{self.name}({kw})"


def _nan(name, **kw):
    return Case(name, nans=True, **kw)


CASES = [
    # 7: dtype= narrower than int64
    Case("sum", axis=1, dtype=np.int8, small=True), Case("sum", dtype=np.int16, small=True),
    Case("sum", axis=0, dtype=np.uint8, small=True),
    Case("prod", axis=1, dtype=np.int8, small=True),
    Case("prod", axis=0, dtype=np.int16, small=True),
    Case("cumsum", axis=1, dtype=np.int8, small=True),
    Case("cumprod", axis=1, dtype=np.int16, small=True),
    # 5: mean's float16 accumulation and integer dtype=
    Case("mean", axis=0), Case("mean", axis=None),
    Case("mean", axis=1, dtype=np.int64), Case("mean", axis=0, dtype=np.int8, small=True),
    Case("average", axis=0), Case("average"),
    # 6: var and std with dtype= (the deviations from the input, as NumPy takes them)
    Case("var", axis=1, dtype=np.complex128), Case("var", axis=0, dtype=np.float32),
    Case("std", axis=0, dtype=np.complex128),
    # 4: median's middle pair
    Case("median", axis=0), Case("median", axis=None),
    # 3: the nan-ignoring family
    _nan("nansum", axis=0), _nan("nansum", axis=None), _nan("nanprod", axis=1),
    _nan("nanprod", axis=None), _nan("nanmax", axis=0), _nan("nanmin", axis=1),
    _nan("nanmax", axis=None), _nan("nancumsum", axis=0), _nan("nancumprod", axis=1),
    _nan("nanmean", axis=0), _nan("nanmean", axis=None), _nan("nanvar", axis=1),
    _nan("nanvar", axis=0, ddof=2), _nan("nanstd", axis=None), _nan("nanstd", axis=0),
    _nan("nanmedian", axis=0), _nan("nanmedian", axis=1), _nan("nanmedian", axis=None),
    _nan("nanmedian", axis=(0, 1)),
    # 12: quantiles in NumPy's dtypes: a Python q promotes weakly (float16 stays
    # float16), an array q strongly; the methods that pick a value keep the input's
    Case("quantile", q=0.3, axis=0), Case("quantile", q=[0.25, 0.9], axis=1),
    Case("quantile", q=0.5, method="lower"), Case("quantile", q=0.7, axis=1,
                                                 method="inverted_cdf"),
    Case("percentile", q=40, axis=1, method="nearest"),
    Case("percentile", q=np.array([10.0, 75.0], np.float32), axis=0, method="hazen"),
    _nan("nanquantile", q=0.3, axis=0), _nan("nanquantile", q=[0.1, 0.6], axis=1),
    _nan("nanquantile", q=0.4, axis=0, method="closest_observation"),
    _nan("nanpercentile", q=35), _nan("nanpercentile", q=[20, 80], axis=1,
                                      method="midpoint"),
    _nan("nanpercentile", q=60, axis=1, method="higher"),
]


def _numpy(case, x):
    """NumPy's result, or None where NumPy refuses the dtype (or casts complex values
    to real, with its ComplexWarning)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.simplefilter("error", np.exceptions.ComplexWarning)
        try:
            return getattr(np, case.name)(x, **case.kw)
        except (TypeError, np.exceptions.ComplexWarning):
            return None


def _tolerance(dt):
    return 0 if dt.kind not in "fc" else 8 * np.finfo(dt).eps


def _mismatch(how, got, want):
    """A description of how ``got`` differs from ``want`` (dtype, shape, value), or
    None."""
    got, want = np.asarray(got), np.asarray(want)
    if got.dtype != want.dtype:
        return f"{how}: dtype {got.dtype}, NumPy {want.dtype}"
    if got.shape != want.shape:
        return f"{how}: shape {got.shape}, NumPy {want.shape}"
    tol = _tolerance(want.dtype)
    finite = np.isfinite(want)
    scale = np.max(np.abs(want[finite]), initial=0.0) if want.dtype.kind in "fc" else 0
    try:
        if tol:
            np.testing.assert_allclose(got, want, rtol=tol, atol=tol * scale,
                                       equal_nan=True)
        else:
            np.testing.assert_array_equal(got, want)
    except AssertionError:
        return f"{how}: {got.ravel()[:6]} (NumPy {want.ravel()[:6]})"
    return None


def _modes(case, x, want):
    """(mode, result, NumPy's result) for every transformation that applies."""
    def f(x):
        return getattr(cnp, case.name)(x, **case.kw)
    yield "eager", f(x), want
    jf = cr.jit(f)
    yield "jit call 1", jf(x), want
    yield "jit call 2", jf(x), want
    batch = np.stack([x, x[::-1], np.roll(x, 1, axis=1)])
    yield "vmap", cr.vmap(f)(batch), np.stack([_numpy(case, b) for b in batch])
    if x.dtype.kind not in "fc":
        return
    out, back = cr.vjp(f, x)
    yield "vjp primal", out, want
    if np.asarray(out).dtype.kind in "fc":
        (ct,) = back(np.ones_like(out))
        yield "vjp cotangent", np.asarray(ct).dtype, x.dtype
        if np.ndim(want) == 0:
            value, _ = cr.value_and_grad(f)(x) if x.dtype.kind == "f" else (want, None)
            yield "value_and_grad value", value, want
    primal, tangent = cr.jvp(f, (x,), (np.ones_like(x),))
    yield "jvp primal", primal, want
    if np.asarray(primal).dtype.kind in "fc":
        yield "jvp tangent dtype", np.asarray(tangent).dtype, np.asarray(want).dtype


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("case", CASES, ids=repr)
def test_reduction_matches_numpy_under_every_transformation(case, dtype):
    x = data(dtype, nans=case.nans, small=case.small)
    want = _numpy(case, x)
    if want is None:
        pytest.skip("NumPy refuses this dtype")
    problems = []
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        for how, got, ref in _modes(case, x, want):
            if isinstance(got, np.dtype):
                if got != ref:
                    problems.append(f"{how}: {got}, expected {ref}")
                continue
            problem = _mismatch(how, got, ref)
            if problem:
                problems.append(problem)
    assert not problems, "\n".join(problems)


# ------------------------------------------------------------------ refusals

_TRANSFORMS = {
    "jit": lambda f, x: cr.jit(f)(x),
    "vmap": lambda f, x: cr.vmap(f)(x[None]),
    "vjp": lambda f, x: cr.vjp(f, x)[0],
}


@pytest.mark.parametrize("how", sorted(_TRANSFORMS))
@pytest.mark.parametrize("name", ["var", "std"])
@pytest.mark.parametrize("dtype", [np.int64, np.int8, np.bool_])
def test_var_std_integer_dtype_is_refused_not_different(name, dtype, how):
    """NumPy truncates the mean and the variance in an integer dtype=; chainrule says
    it does not do that instead of returning a float."""
    x = np.array([[1.0, 2.0, 4.0], [0.5, 3.0, -1.0]], np.float32)
    getattr(np, name)(x, dtype=dtype)            # NumPy's number (std: a scalar only)
    with pytest.raises(NotImplementedError, match=f"{name}: dtype="):
        _TRANSFORMS[how](lambda x: getattr(cnp, name)(x, dtype=dtype), x)


@pytest.mark.parametrize("how", sorted(_TRANSFORMS))
@pytest.mark.parametrize("name", ["nanmean", "nanvar", "nanstd"])
def test_nan_moments_integer_dtype_of_float_input_is_numpys_type_error(name, how):
    x = np.array([[1.0, np.nan, 4.0], [0.5, 3.0, -1.0]])
    with pytest.raises(TypeError, match="dtype must be inexact"):
        getattr(np, name)(x, axis=1, dtype=np.int64)
    with pytest.raises(TypeError, match="dtype must be inexact"):
        _TRANSFORMS[how](lambda x: getattr(cnp, name)(x, axis=1, dtype=np.int64), x)


@pytest.mark.parametrize("how", sorted(_TRANSFORMS))
@pytest.mark.parametrize("name, kw", [
    ("nanmax", dict(initial=10.0)), ("nanmin", dict(initial=-10.0)),
    ("nanprod", dict(where=np.array([True, False, True]))),
    ("nanmean", dict(where=np.array([True, False, True]))),
], ids=["nanmax-initial", "nanmin-initial", "nanprod-where", "nanmean-where"])
def test_nan_reduction_arguments_are_refused_not_ignored(name, kw, how):
    """initial= and where= change NumPy's result; inside transformations they were
    dropped (a different number), now they are refused (nansum's where= is NumPy's
    masked sum: tests/test_numpy_coverage2.py)."""
    x = np.array([[1.0, np.nan, 4.0], [0.5, 3.0, -1.0]])
    with pytest.raises(NotImplementedError, match=f"{name}: the argument"):
        _TRANSFORMS[how](lambda x: getattr(cnp, name)(x, axis=1, **kw), x)


def test_nanmedian_float16_follows_numpys_two_paths():
    """np.nanmedian of float16 sums the middle pair in float32 when it reduces every
    axis (np.median's mean) and in float16 for short slices of some axes
    (np.ma.median's): 60000 and 65000 give 62500 one way and inf the other."""
    x = np.array([[60000.0, 60000.0], [65000.0, 65000.0]], np.float16)
    cases = [dict(axis=None), dict(axis=0), dict(axis=(0, 1)), dict(axis=1)]
    for kw in cases:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            want = np.nanmedian(x, **kw)
            got = cr.jit(lambda x: cnp.nanmedian(x, **kw))(x)
        assert got.dtype == want.dtype == np.float16
        np.testing.assert_array_equal(got, want, err_msg=str(kw))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert np.isinf(np.nanmedian(x, axis=0)).all() and np.nanmedian(x) == 62496.0


# ------------------------------------------------------------------ quantiles

_QUANTILES = ["quantile", "percentile", "nanquantile", "nanpercentile"]
_QS = [0.5, [0.5], np.float64(0.5), np.float32(0.5), np.array([0.5, 0.25], np.float32)]


def _q(name, q):
    """``q`` as a percentile for the percentile functions, of the same type."""
    if "percentile" not in name:
        return q
    if isinstance(q, list):
        return [v * 100 for v in q]
    return type(q)(q * 100) if not isinstance(q, np.ndarray) else (q * 100).astype(q.dtype)


_Q_TRANSFORMS = dict(_TRANSFORMS, **{"vmap": lambda f, x: cr.vmap(f)(x[None])[0]})


@pytest.mark.parametrize("how", sorted(_Q_TRANSFORMS))
@pytest.mark.parametrize("name", _QUANTILES)
@pytest.mark.parametrize("dtype", [np.float16, np.float32])
def test_quantile_dtype_follows_q_as_numpy(dtype, name, how):
    """np.quantile keeps float16/float32 for a Python q and promotes by an array q's
    dtype, rounding where NumPy rounds: float16 6000 and 6004 have the middle 6000 for a
    Python 0.5 (6002 was float64's), 6002.0 for [0.5] (float64) and np.float32(0.5)."""
    x = np.array([[6004.0, 6000.0, 7.5], [1.0, 0.25, -3.0]], dtype).T
    for q in _QS:
        qq = _q(name, q)
        want = getattr(np, name)(x, qq, axis=0)
        got = _Q_TRANSFORMS[how](lambda x: getattr(cnp, name)(x, qq, axis=0), x)
        assert got.dtype == want.dtype, (repr(q), got.dtype, want.dtype)
        np.testing.assert_array_equal(got, want, err_msg=repr(q))


_PICKING = ["lower", "higher", "nearest", "inverted_cdf", "closest_observation"]


@pytest.mark.parametrize("how", ["jit", "vmap"])
@pytest.mark.parametrize("name", _QUANTILES)
@pytest.mark.parametrize("dtype", [np.bool_, np.int8, np.uint8, np.int64, np.float32])
def test_quantile_methods_that_pick_keep_the_input_dtype(dtype, name, how):
    x = data(dtype, nans=name.startswith("nan"))
    for method in _PICKING:
        for q, axis in [(0.3, None), ([0.2, 0.9], 0), (np.float32(0.6), 1)]:
            qq = _q(name, q)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                want = getattr(np, name)(x, qq, axis=axis, method=method)
                got = _Q_TRANSFORMS[how](
                    lambda x: getattr(cnp, name)(x, qq, axis=axis, method=method), x)
            assert got.dtype == want.dtype == x.dtype, (method, repr(q), got.dtype)
            np.testing.assert_array_equal(got, want, err_msg=f"{method} {q!r}")


@pytest.mark.parametrize("how", ["jit", "vmap"])
def test_quantile_interpolation_follows_numpys_arithmetic(how):
    """NumPy interpolates an integer pair with the difference taken in the input's
    dtype (int8 -120 and 100 wrap to 118 at q = 0.5) and refuses to subtract bools."""
    x = np.array([100, -120], np.int8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        want = np.quantile(x, [0.5, 0.25])
        got = _Q_TRANSFORMS[how](lambda x: cnp.quantile(x, [0.5, 0.25]), x)
    assert got.dtype == want.dtype == np.float64
    np.testing.assert_array_equal(got, want)
    b = np.array([True, False, True])
    for f in (np.quantile, np.nanquantile):
        with pytest.raises(TypeError, match="boolean subtract"):
            f(b, 0.3)
        with pytest.raises(TypeError, match="boolean subtract"):
            _Q_TRANSFORMS[how](lambda b: getattr(cnp, f.__name__)(b, 0.3), b)


def test_quantile_of_a_q_passed_to_jit_promotes_as_numpy():
    """A Python number q passed as jit's argument promotes weakly (float16 stays), a
    NumPy scalar by its dtype; each call is NumPy's."""
    x = np.array([6004.0, 6000.0, 3.0], np.float16)
    jf = cr.jit(lambda x, q: cnp.quantile(x, q))
    for q in (0.5, np.float64(0.5), np.float32(0.5), 0.5):
        got, want = jf(x, q), np.quantile(x, q)
        assert got.dtype == want.dtype, (repr(q), got.dtype, want.dtype)
        np.testing.assert_array_equal(got, want)


def test_cumulative_functions_of_a_0d_array_along_axis_0_as_numpy():
    """NumPy takes a 0-d array as shape (1,) for cumsum/cumprod with axis 0 (or -1);
    vmap, jacfwd and hessian raised AxisError (the batch rule used axis 1 of (B,))."""
    X = np.arange(1.0, 7.0).reshape(2, 3)
    for cum in ("cumsum", "cumprod"):
        for axis in (0, -1):
            f = lambda x: getattr(cnp, cum)(cnp.sum(x ** 2), axis=axis)  # noqa: E731
            ref = lambda x: getattr(np, cum)(np.sum(x ** 2), axis=axis)  # noqa: E731
            np.testing.assert_allclose(cr.vmap(f)(X), np.stack([ref(x) for x in X]))
            np.testing.assert_allclose(cr.jacfwd(f)(X[0]), cr.jacrev(f)(X[0]))
            np.testing.assert_allclose(cr.jit(f)(X[0]), ref(X[0]))
            assert cr.jit(f)(X[0]).shape == ref(X[0]).shape == (1,)
            h = lambda x: cnp.sum(f(x))                                   # noqa: E731
            np.testing.assert_allclose(cr.hessian(h)(X[0]), 2 * np.eye(3))


def test_ufunc_methods_on_traced_values_follow_numpys_edges():
    """A 0-d array reduces to itself; accumulate refuses a 0-d array and axis=None (or a
    tuple) as NumPy does, instead of answering; the axis defaults to 0."""
    x = np.arange(1.0, 7.0).reshape(2, 3)
    for t in (lambda f: f, cr.jit):
        assert t(lambda x: np.add.reduce(x[0, 0] * 3.0))(x) == 3.0
        np.testing.assert_array_equal(t(lambda x: np.add.reduce(x))(x), np.add.reduce(x))
        with pytest.raises(ValueError, match="multiple axes"):
            t(lambda x: np.add.accumulate(x * 1.0, axis=None))(x) if t is cr.jit else \
                cr.grad(lambda x: cnp.sum(np.add.accumulate(x, axis=None)))(x)
        with pytest.raises(TypeError, match="scalar"):
            cr.grad(lambda x: np.add.accumulate(x[0, 0] * 1.0))(x)
