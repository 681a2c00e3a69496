"""Bad inputs (hunt over the op database's rows, /tmp/h_bad/hunt.py): where NumPy/SciPy
raise, chainrule raises too, in every mode (eager, vjp, jvp, jit, vmap); where they
return a value for an odd input (nan, a same-size mask of another shape), chainrule
returns the same one. Each case below was silently accepted (or gave another value)
under a transformation before its fix."""
import numpy as np
import pytest
import scipy.special as sps
import scipy.stats as sst

import chainrule as cr
import chainrule.numpy as cnp
import chainrule.scipy.special as csp
import chainrule.scipy.stats as cst
from chainrule._src.tree_util import tree_map

MODES = ["eager", "vjp", "jvp", "jit", "vmap"]


def run(mode, f, x):
    """``f(x)`` in ``mode``; vmap over a batch of two copies of ``x`` (its first
    example returned)."""
    if mode == "eager":
        return f(x)
    if mode == "vjp":
        return cr.vjp(f, x)[0]
    if mode == "jvp":
        return cr.jvp(f, (x,), (np.ones_like(x),))[0]
    if mode == "jit":
        return cr.jit(f)(x)
    return tree_map(lambda o: o[0], cr.vmap(f)(np.stack([x, x])))


def outcome(f, x):
    try:
        return f(x)
    except Exception as e:          # noqa: BLE001 - the exception is the outcome
        return e


def assert_like_reference(ref, f, x, mode):
    """``f`` in ``mode`` raises where ``ref`` (NumPy's/SciPy's) raises, with its type,
    and returns its value (shape, dtype, nan) where it returns."""
    want = outcome(ref, x)
    if isinstance(want, Exception):
        with pytest.raises(type(want)):
            run(mode, f, x)
        return
    got = run(mode, f, x)
    got, want = (list(v) if isinstance(v, (tuple, list)) else [v] for v in (got, want))
    assert len(got) == len(want)
    for a, b in zip(got, want):
        a, b = np.asarray(a), np.asarray(b)
        assert a.shape == b.shape and a.dtype == b.dtype, (a.shape, b.shape, a.dtype, b.dtype)
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=0, equal_nan=True)


X = np.array([0.5, np.nan, 2.0, 3.0])

# ------------------------------------------------------------------ scipy.stats

# the traced formulas' support masks (where(x >= 0, f, 0)) took a nan x or loc for a
# point outside the support: expon.cdf(nan) was 0 under vjp/jit/vmap, SciPy's nan
NAN_CASES = {
    "expon.cdf": lambda m: lambda x: m.expon.cdf(x),
    "expon.pdf": lambda m: lambda x: m.expon.pdf(x),
    "uniform.logpdf": lambda m: lambda x: m.uniform.logpdf(x),
    "gamma.cdf": lambda m: lambda x: m.gamma.cdf(x, 2.0),
    "gamma.logsf[loc]": lambda m: lambda x: m.gamma.logsf(1.5, 2.0, x),
    "beta.sf": lambda m: lambda x: m.beta.sf(x / 4, 2.0, 3.0),
    "pareto.logpdf": lambda m: lambda x: m.pareto.logpdf(x + 1, 2.0),
    "poisson.cdf[loc]": lambda m: lambda x: m.poisson.cdf(3.0, 2.0, x),
    "truncnorm.cdf": lambda m: lambda x: m.truncnorm.cdf(x, -1.0, 1.0),
    "chi2.logcdf": lambda m: lambda x: m.chi2.logcdf(x, 3.0),
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", sorted(NAN_CASES))
def test_stats_nan_argument_gives_nan(name, mode):
    ref, f = NAN_CASES[name](sst), NAN_CASES[name](cst)
    want = ref(X)
    assert np.isnan(want[1]) and not np.isnan(want[0])
    assert_like_reference(ref, f, X, mode)


@pytest.mark.parametrize("mode", ["vjp", "jit", "vmap"])
def test_multinomial_nan_probability_is_nan_not_minus_inf(mode):
    x = np.array([1.0, 2.0, 3.0])
    for p in (np.full(3, np.nan), np.array([0.2, np.nan, 0.5])):
        assert np.isnan(sst.multinomial.logpmf(x, 6, p))
        assert np.isnan(run(mode, lambda p: cst.multinomial.logpmf(x, 6, p), p))


@pytest.mark.parametrize("mode", ["eager", "jit", "vmap"])
def test_bernoulli_ppf_at_one_with_p_zero(mode):
    q = np.array([0.0, 0.2, 0.5, 1.0])
    for p in (0.0, 1.0, 0.4):
        want = sst.bernoulli.ppf(q, p)
        got = run(mode, lambda q: cst.bernoulli.ppf(q, p), q)
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("mode", ["vjp", "jvp", "jit", "vmap"])
@pytest.mark.parametrize("call", [
    lambda m, x: m.cauchy.logpdf(x),
    lambda m, x: m.truncnorm.cdf(x, -1.0, 1.0),
    lambda m, x: m.norm.logpdf(1.0, x),
    lambda m, x: m.multivariate_normal.logpdf(x[:2], np.zeros(2), np.eye(2)),
])
def test_stats_complex_argument_raises_under_transformations(call, mode):
    """SciPy's distributions are real (some raise for complex input, some drop the
    imaginary part); traced, chainrule computed a holomorphic extension: a value
    neither of them gives. It raises instead."""
    z = np.array([0.2 + 0.5j, 0.3 - 0.1j, 0.1 + 0j])
    with pytest.raises(TypeError, match="complex"):
        run(mode, lambda x: call(cst, x), z)


@pytest.mark.parametrize("mode", MODES)
def test_log_softmax_of_a_scalar_keeps_its_shape(mode):
    assert_like_reference(sps.log_softmax, csp.log_softmax, np.array(0.3), mode)


# ------------------------------------------------------------------ numpy: parameters

M = np.arange(12.0).reshape(3, 4) / 7


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("axes", [(0, 5), (0, -3), (5, 6), (1.0, 0), (-1, 0)])
def test_transpose_axes_out_of_range(axes, mode):
    """``int(x) % nd`` took axis 5 of a matrix for axis 1 under transformations."""
    assert_like_reference(lambda x: np.transpose(x, axes), lambda x: cnp.transpose(x, axes),
                          M, mode)
    assert_like_reference(lambda x: np.permute_dims(x, axes),
                          lambda x: cnp.permute_dims(x, axes), M, mode)


CALLS = {
    "correlate[0-d a]": lambda m: lambda x: m.correlate(x[0, 0], x[0]),
    "correlate[0-d v]": lambda m: lambda x: m.correlate(x[0], x[0, 0]),
    "vander[N<0]": lambda m: lambda x: m.vander(x[0], -1),
    "vander[N float]": lambda m: lambda x: m.vander(x[0], 2.0),
    "apply_along_axis[axis 5]": lambda m: lambda x: m.apply_along_axis(m.sum, 5, x),
    "apply_along_axis[axis -3]": lambda m: lambda x: m.apply_along_axis(m.sum, -3, x),
    "apply_over_axes[axis 2]": lambda m: lambda x: m.apply_over_axes(m.sum, x, [2]),
    "apply_over_axes[axis -3]": lambda m: lambda x: m.apply_over_axes(m.sum, x, [-3]),
    "expand_dims[None]": lambda m: lambda x: m.expand_dims(x, None),
    "round[1.5]": lambda m: lambda x: m.round(x, 1.5),
    "around[2.0]": lambda m: lambda x: m.around(x, 2.0),
    "round[np.int64]": lambda m: lambda x: m.round(x, np.int64(2)),
    "tile[1.5]": lambda m: lambda x: m.tile(x, 1.5),
    "tile[(2, 1.5)]": lambda m: lambda x: m.tile(x, (2, 1.5)),
    "tile[True]": lambda m: lambda x: m.tile(x, (2, True)),
    "hsplit[1.5]": lambda m: lambda x: m.hsplit(x, 1.5),
    "split[2.0]": lambda m: lambda x: m.split(x, 2.0, axis=1),
    "split[[1.5]]": lambda m: lambda x: m.split(x, [1.5], axis=1),
    "array_split[1.5]": lambda m: lambda x: m.array_split(x, 1.5, axis=1),
    "histogram[weights (1, n)]": lambda m: lambda x: m.histogram(
        np.arange(4.0), 3, weights=x[:1]),
    "interp[complex x]": lambda m: lambda x: m.interp(x[0] + 1j, np.arange(4.0), x[1]),
    "interp[complex xp]": lambda m: lambda x: m.interp(x[0], np.arange(4.0) + 1j, x[1]),
    "interp[complex fp]": lambda m: lambda x: m.interp(x[0], np.arange(4.0), x[1] + 1j),
    "gradient[bool f]": lambda m: lambda x: m.gradient(x[0] > 0.5) + x[0],
    "gradient[bool coordinates]": lambda m: lambda x: m.gradient(x[0], x[1] > 0.8),
    "fft.fft[n=1.5]": lambda m: lambda x: m.fft.fft(x, n=1.5),
    "fft.rfft[n=2.0]": lambda m: lambda x: m.fft.rfft(x, n=2.0),
    "fft.irfft[n=2.0]": lambda m: lambda x: m.fft.irfft(x, n=2.0),
    "fft.fft[n=np.int64]": lambda m: lambda x: m.fft.fft(x, n=np.int64(3)),
    "trace[offset 1.5]": lambda m: lambda x: m.trace(x, 1.5),
    "diagonal[offset 1.5]": lambda m: lambda x: m.diagonal(x, 1.5),
    "diagonal[offset np.int64]": lambda m: lambda x: m.diagonal(x, np.int64(1)),
    "trapezoid[axis 5]": lambda m: lambda x: m.trapezoid(x, axis=5),
    "trapezoid[axis -3]": lambda m: lambda x: m.trapezoid(x, axis=-3),
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", sorted(CALLS))
def test_parameters_as_numpy(name, mode):
    assert_like_reference(CALLS[name](np), CALLS[name](cnp), M, mode)


# ------------------------------------------------------------------ in-place writes

def _in_place(mod, fn, mask, vals):
    def f(x):
        x = x + 0.0 if mod is cnp else x.copy()
        getattr(mod, fn)(x, mask, vals)
        return x
    return f


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("fn", ["putmask", "place"])
@pytest.mark.parametrize("mask,vals", [
    (np.ones(12, bool), np.array([-1.0, -2.0])),          # same size, flat: NumPy's
    ((M.T > 0.5), np.array([-1.0, -2.0])),                 # same size, other shape
    (np.ones(4, bool), np.array([-1.0, -2.0])),           # other size: ValueError
    ((M > 0.5), np.zeros(0)),                              # place: nothing to insert
    ((M > 5.0), np.zeros(0)),                              # ... where nothing is selected
], ids=["flat", "transposed", "broadcast", "empty-vals", "empty-vals-no-true"])
def test_putmask_and_place_pair_mask_and_data_by_size(fn, mask, vals, mode):
    assert_like_reference(_in_place(np, fn, mask, vals), _in_place(cnp, fn, mask, vals),
                          M, mode)


def _put(mod, idx):
    def f(x):
        x = x + 0.0 if mod is cnp else x.copy()
        mod.put_along_axis(x, idx, -1.0, None)
        return x
    return f


@pytest.mark.parametrize("idx", [[0, 5, 1000], [0, 5, 12], [0, 5, -13], [0, -12, 11]])
def test_put_along_axis_traced_index_out_of_range(idx):
    """A traced flat index was split into coordinates with ``% d`` on every axis, so
    1000 on 12 elements wrote element 4 under jit and vmap (NumPy: IndexError)."""
    idx = np.array(idx)
    want = outcome(_put(np, idx), M)

    def jitted(x, i):
        return cr.jit(lambda x, i: _put(cnp, i)(x))(x, i)

    def vmapped(x, i):
        return cr.vmap(lambda x, i: _put(cnp, i)(x))(np.stack([x, x]), np.stack([i, i]))[0]

    for g in (jitted, vmapped):
        if isinstance(want, Exception):
            with pytest.raises(IndexError):
                g(M, idx)
        else:
            np.testing.assert_array_equal(g(M, idx), want)


# ------------------------------------------------------------------ derivatives

@pytest.mark.parametrize("name,call", [
    ("jv", lambda v, x: csp.jv(v, x)),
    ("owens_t", lambda v, x: csp.owens_t(v, x)),
    ("gammainc", lambda v, x: csp.gammainc(v, x)),
    ("betainc", lambda v, x: csp.betainc(v, [2.0, 3.0], x / 2)),
])
def test_special_list_argument_has_a_pullback(name, call):
    """A list argument reached the primitive as a list: the forward pass worked and
    the pullback raised (``v - 1.0`` on a list)."""
    x, ct = np.array([0.7, 1.3]), np.array([1.0, -0.5])
    out, pb = cr.vjp(lambda x: call([0.5, 1.5], x), x)
    out2, pb2 = cr.vjp(lambda x: call(np.array([0.5, 1.5]), x), x)
    np.testing.assert_array_equal(out, out2)
    np.testing.assert_array_equal(pb(ct)[0], pb2(ct)[0])


@pytest.mark.parametrize("fn", ["maximum", "minimum"])
@pytest.mark.parametrize("shape,axis", [((0, 3), 0), ((3, 0), 1), ((0, 3), 1)])
def test_accumulate_extremum_of_an_empty_axis_has_derivatives(fn, shape, axis):
    f = lambda x: getattr(cnp, fn).accumulate(x, axis=axis)     # noqa: E731
    x = np.zeros(shape)
    out, pb = cr.vjp(f, x)
    assert out.shape == shape and pb(np.ones(shape))[0].shape == shape
    assert cr.jvp(f, (x,), (x,))[1].shape == shape


# ------------------------------------------------------------------ more traced values

@pytest.mark.parametrize("mode", ["vjp", "jit", "vmap"])
@pytest.mark.parametrize("c", [0.7, -0.7, -1.5])
@pytest.mark.parametrize("dt", [np.int64, np.uint8, np.float64])
def test_pad_of_an_integer_array_with_traced_values(dt, c, mode):
    """NumPy casts ``constant_values`` to the array's dtype (0.7 pads an int array
    with 0) and rounds linear ramps down for integers (linspace's rule); a traced value
    padded with 0.7 in float64, and the ramp was truncated towards 0."""
    x = np.arange(12).reshape(3, 4).astype(dt)
    for mod_call in (
            lambda m, c: m.pad(x, ((1, 2), (0, 1)), constant_values=c),
            lambda m, c: m.pad(x, ((1, 2), (2, 1)), mode="linear_ramp",
                               end_values=((c, -1.5), (-1.5, 0.5)))):
        want = mod_call(np, c)
        got = run(mode, lambda c: mod_call(cnp, c), np.float64(c))
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)


XS = np.random.default_rng(1).standard_normal((20, 2))


@pytest.mark.parametrize("bins", [np.array(3), np.array([3, 3]), np.array([2, 4]),
                                  np.array([-1.0, 0.0, 1.0])])
def test_histograms_with_traced_bins(bins):
    """A traced count of bins (a jit argument) was returned as the bin edges
    (histogram's edges had shape (), histogram2d's (2,) for bins [3, 3])."""
    w = np.linspace(0.5, 1.5, 20)
    if bins.ndim == 0 or bins.dtype.kind == "f":
        cases = [(lambda m: lambda w, b: m.histogram(XS[:, 0], b, weights=w))]
    else:
        cases = [(lambda m: lambda w, b: m.histogram2d(XS[:, 0], XS[:, 1], b, weights=w)),
                 (lambda m: lambda w, b: m.histogramdd(XS, b, weights=w))]
    for case in cases:
        want = case(np)(w, bins)
        got = cr.jit(case(cnp))(w, bins)
        flat_w, flat_g = (tree_map(np.asarray, list(t)) for t in (want, got))
        for a, b in zip(flat_w, flat_g):
            for x, y in zip(a if isinstance(a, list) else [a], b if isinstance(b, list) else [b]):
                assert np.shape(x) == np.shape(y)
                np.testing.assert_allclose(y, x, rtol=1e-12)


@pytest.mark.parametrize("kth", [[3, 3], [3, -6], [0, 0, 8], [-1, 8], [2, 5, 2]])
@pytest.mark.parametrize("fn", ["partition", "argpartition"])
def test_partition_with_repeated_kth_is_numpys_arrangement(fn, kth):
    """kth was deduplicated (and -1 merged with n - 1) before NumPy's partition ran
    on the traced values: NumPy's arrangement for [3, 3] is not kth=3's."""
    v = np.random.default_rng(0).standard_normal(9)
    want = getattr(np, fn)(v, kth)
    np.testing.assert_array_equal(cr.jit(lambda v: getattr(cnp, fn)(v, kth))(v), want)
    if fn == "partition":
        np.testing.assert_array_equal(cr.vjp(lambda v: cnp.partition(v, kth), v)[0], want)


def test_vmap_of_stacked_triangular_solves_with_an_unstacked_right_side():
    """solve_triangular's (and solve_sylvester's) batch rule put the batch axis in
    front of an unbatched (n, k) right side, which then broadcast against a batched
    (1, n, n) stack: per-example results of shape (2, n, k) instead of (1, n, k)."""
    import scipy.linalg as sl
    import chainrule.scipy.linalg as csl
    rng = np.random.default_rng(0)
    a = rng.standard_normal((1, 4, 4)) + 4 * np.eye(4)
    b = rng.standard_normal((4, 2))
    cases = [
        (lambda a: sl.solve_triangular(np.triu(a), b, trans=1),
         lambda a: csl.solve_triangular(cnp.triu(a), b, trans=1)),
        (lambda a: sl.lu_solve(sl.lu_factor(a), b, trans=1),
         lambda a: csl.lu_solve(csl.lu_factor(a), b, trans=1)),
        (lambda a: sl.solve_sylvester(a[..., :3, :3], np.eye(2), b[:3]),
         lambda a: csl.solve_sylvester(a[..., :3, :3], np.eye(2), b[:3])),
    ]
    for ref, f in cases:
        want = ref(a)
        got = cr.vmap(f)(np.stack([a, a]))
        assert got.shape == (2,) + want.shape
        np.testing.assert_allclose(got[1], want, rtol=1e-10)


def test_real_only_special_functions_refuse_complex_arguments():
    # boxcox/boxcox1p/factorial computed a complex extension of a complex argument where
    # SciPy raises; zeta gave nan where SciPy's complex Riemann zeta has a value
    import chainrule.scipy.special as cs
    import scipy.special as ss
    z = np.array([0.5 + 0.2j])
    for name, args, exc in (("boxcox", (z, 2.0), TypeError), ("boxcox1p", (2.0, z), TypeError),
                            ("factorial", (z,), ValueError)):
        with pytest.raises(exc):
            getattr(ss, name)(*args)
        with pytest.raises(exc):
            cr.jit(getattr(cs, name))(*args)
    with pytest.raises(NotImplementedError, match="complex"):
        cr.jit(cs.zeta)(z)
