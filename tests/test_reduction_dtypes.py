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
  (the reduction primitives widen small integers, as np.add.reduce does).

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
    ("nansum", dict(where=np.array([True, False, True]))),
    ("nanprod", dict(where=np.array([True, False, True]))),
    ("nanmean", dict(where=np.array([True, False, True]))),
], ids=["nanmax-initial", "nanmin-initial", "nansum-where", "nanprod-where",
        "nanmean-where"])
def test_nan_reduction_arguments_are_refused_not_ignored(name, kw, how):
    """initial= and where= change NumPy's result; inside transformations they were
    dropped (a different number), now they are refused."""
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
