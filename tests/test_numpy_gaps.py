"""Edges of nanquantile/nanpercentile, modf, order='F'/'A'/'K', put_along_axis(axis=None)
and ufunc.at beyond add/multiply that the op database's smooth samples do not reach."""
import warnings

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp


def test_nanquantile_all_nan_slice_is_nan_with_zero_gradient():
    x = np.array([[1.0, 2.0, 4.0], [np.nan, np.nan, np.nan]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        want = np.nanquantile(x, 0.4, axis=1)
    out, pull = cr.vjp(lambda x: cnp.nanquantile(x, 0.4, axis=1), x)
    np.testing.assert_array_equal(out, want)
    (g,) = pull(np.ones(2))
    np.testing.assert_allclose(g[0], [0.2, 0.8, 0.0])
    assert np.all(g[1] == 0)


def test_nanquantile_under_vmap_counts_each_example():
    x = np.array([[1.0, np.nan, 3.0, 0.5], [2.0, 1.0, np.nan, np.nan], [4.0, 3.0, 2.0, 1.0]])
    got = cr.vmap(lambda r: cnp.nanpercentile(r, [25.0, 80.0]))(x)
    np.testing.assert_array_equal(got, np.stack([np.nanpercentile(r, [25.0, 80.0]) for r in x]))
    jitted = cr.jit(lambda r: cnp.nanquantile(r, 0.5, method="nearest"))
    for r in x:                                    # one compiled program, any NaN pattern
        np.testing.assert_array_equal(jitted(r), np.nanquantile(r, 0.5, method="nearest"))


def test_modf_signed_zeros_and_infinities():
    x = np.array([-2.5, -3.0, -0.0, 0.0, 1.75, np.inf, -np.inf, np.nan])
    got = cr.vjp(lambda x: np.modf(x), x)[0]
    for g, w in zip(got, np.modf(x)):
        np.testing.assert_array_equal(g, w)
        np.testing.assert_array_equal(np.signbit(g), np.signbit(w))
    frac, whole = cr.jacrev(lambda x: cnp.modf(x))(np.array([1.5, -2.25]))
    np.testing.assert_array_equal(frac, np.eye(2))
    np.testing.assert_array_equal(whole, np.zeros((2, 2)))
    with pytest.raises(NotImplementedError, match="out="):
        cr.grad(lambda x: cnp.modf(x, out=(np.empty(()), np.empty(())))[0])(1.5)


def test_order_f_views_and_layout_orders():
    x = np.arange(6.0).reshape(2, 3)

    def write_through_f_view(x):
        y = (x * 1.0).T                      # F-contiguous: reshape(order='F') is a view
        v = y.reshape(6, order="F")
        v[0] = 100.0
        return y

    def ref(x):
        y = x.copy().T
        y.reshape(6, order="F")[0] = 100.0
        return y
    np.testing.assert_array_equal(cr.vjp(write_through_f_view, x)[0], ref(x))
    for order in ("A", "K"):
        with pytest.raises(NotImplementedError, match="memory"):
            cr.grad(lambda x: cnp.ravel(x, order=order)[0])(x)
    with pytest.raises(ValueError, match="not permitted"):
        cr.grad(lambda x: cnp.reshape(x, (6,), order="K")[0])(x)


def test_put_along_axis_none_errors_as_numpy():
    x = np.zeros((2, 3))
    with pytest.raises(IndexError):
        cr.grad(lambda x: (np.put_along_axis(x * 1.0, np.array([6]), 1.0, axis=None), 0.0)[1])(x)
    with pytest.raises(ValueError, match="single dimension"):
        cr.grad(lambda x: (np.put_along_axis(x * 1.0, np.array([[1]]), 1.0, axis=None),
                           0.0)[1])(x)


def test_ufunc_at_order_and_refusals():
    # power is not commutative in its repeated applications: NumPy's order is kept
    idx = np.array([1, 1, 0, 1])
    b = np.array([2.0, 0.5, 3.0, 1.5])

    def f(x):
        y = x * 1.0
        np.power.at(y, idx, b)
        return y
    x = np.array([1.3, 0.8])
    y = x.copy()
    np.power.at(y, idx, b)
    np.testing.assert_array_equal(cr.vjp(f, x)[0], y)
    with pytest.raises(NotImplementedError, match="nextafter"):
        cr.grad(lambda x: (np.nextafter.at(x * 1.0, [0], 2.0), x[0])[1])(x)
    with pytest.raises(ValueError, match="second operand"):     # (NumPy's own check)
        cr.grad(lambda x: (np.maximum.at(x * 1.0, [0]), x[0])[1])(x)


def test_sum_of_booleans_under_vmap():
    # NumPy's int result per example (it read the concrete value, which vmap has not)
    X = np.array([[0.1, 0.7, 0.9], [0.6, 0.2, 0.3]])
    got = cr.vmap(lambda x: cnp.sum(x > 0.5))(X)
    np.testing.assert_array_equal(got, (X > 0.5).sum(axis=1))
    assert got.dtype == np.sum(X > 0.5).dtype


def test_set_routines_and_trim_zeros_derivatives():
    a = np.array([3.0, 1.0, 2.0, 1.0])
    b = np.array([2.0, 5.0])
    # union1d: sorted unique values; each value's derivative goes to one of its copies
    g = cr.jacrev(lambda a, b: cnp.union1d(a, b), argnums=(0, 1))(a, b)
    np.testing.assert_array_equal(g[0].sum(axis=1) + g[1].sum(axis=1), np.ones(4))
    # intersect1d: the common values, taken from ar1
    ga = cr.jacrev(lambda a: cnp.intersect1d(a, b))(a)
    np.testing.assert_array_equal(ga, [[0.0, 0.0, 1.0, 0.0]])
    # setdiff1d / setxor1d keep values of the side they come from
    np.testing.assert_array_equal(cr.jacrev(lambda a: cnp.setdiff1d(a, b))(a).sum(axis=1),
                                  [1.0, 1.0])
    np.testing.assert_array_equal(cr.vjp(lambda a, b: cnp.setxor1d(a, b), a, b)[0],
                                  np.setxor1d(a, b))
    t = np.array([0.0, 0.0, 1.5, 0.0, 2.0, 0.0])
    np.testing.assert_array_equal(cr.jacrev(cnp.trim_zeros)(t),
                                  np.eye(6)[2:5])


def test_concrete_selections_refuse_under_vmap():
    from chainrule._src.interpreters.batching import ConcretizationError
    with pytest.raises(ConcretizationError):
        cr.vmap(lambda x: cnp.union1d(x, x))(np.ones((2, 3)))


def test_poly_of_a_matrix():
    from chainrule.test_util import check_grads
    a = np.array([[2.0, 0.3, -0.1], [0.2, 1.5, 0.4], [0.0, -0.3, 3.0]])
    np.testing.assert_allclose(cr.vjp(cnp.poly, a)[0], np.poly(a), rtol=1e-12)
    check_grads(cnp.poly, (a,), order=2, modes=("fwd", "rev"), atol=1e-4, rtol=1e-4)
    z = np.array([1.0 + 2.0j, 0.5 - 1.0j])
    np.testing.assert_allclose(cr.vjp(cnp.poly, z)[0], np.poly(z), rtol=1e-12)
    pair = np.array([1.0 + 2.0j, 1.0 - 2.0j])            # conjugate roots: a real result
    assert cr.vjp(cnp.poly, pair)[0].dtype == np.poly(pair).dtype == np.float64


def test_histograms_differentiate_in_weights_and_a_traced_sample_range():
    from chainrule.test_util import check_grads
    rng = np.random.default_rng(3)
    x, y, w = rng.standard_normal(20), rng.standard_normal(20), rng.uniform(0.5, 2, 20)
    # (was: the weights' derivative silently 0)
    g = cr.grad(lambda w: cnp.histogram(x, bins=2, weights=w)[0].sum())(np.ones(20))
    np.testing.assert_array_equal(g, np.ones(20))
    g = cr.grad(lambda w: cnp.bincount(np.array([0, 2, 2]), w)[2])(np.ones(3))
    np.testing.assert_array_equal(g, [0.0, 1.0, 1.0])
    # the edges follow min and max of a traced sample (linspace), and density with them
    for f, args in [(lambda x: cnp.histogram(x, 4, density=True), (x,)),
                    (lambda x, w: cnp.histogram(x, 4, weights=w), (x, w)),
                    (lambda x, y: cnp.histogram2d(x, y, 3), (x, y)),
                    (lambda b: cnp.histogram(x, b, density=True),
                     (np.array([-2.0, -0.5, 0.1, 0.8, 2.5]),)),
                    (lambda s: cnp.histogramdd(s, 2, density=True), (np.stack([x, y], 1),))]:
        check_grads(f, args, order=2, modes=("fwd", "rev"))
    with pytest.raises(NotImplementedError, match="rule"):
        cr.grad(lambda x: cnp.histogram(x, bins="auto")[1].sum())(x)


_ONE_AXIS = {
    "argmax": lambda m, a, ax: m.argmax(a, axis=ax),
    "argmin": lambda m, a, ax: m.argmin(a, axis=ax),
    "nanargmax": lambda m, a, ax: m.nanargmax(a, axis=ax),
    "cumsum": lambda m, a, ax: m.cumsum(a, axis=ax),
    "cumprod": lambda m, a, ax: m.cumprod(a, axis=ax),
    "sort": lambda m, a, ax: m.sort(a, axis=ax),
    "argsort": lambda m, a, ax: m.argsort(a, axis=ax),
    "partition": lambda m, a, ax: m.partition(a, 0, axis=ax),
    "diff": lambda m, a, ax: m.diff(a, axis=ax),
    "unwrap": lambda m, a, ax: m.unwrap(a, axis=ax),
    "take": lambda m, a, ax: m.take(a, [0], axis=ax),
    "repeat": lambda m, a, ax: m.repeat(a, 2, axis=ax),
    "concatenate": lambda m, a, ax: m.concatenate([a, a], axis=ax),
    "stack": lambda m, a, ax: m.stack([a, a], axis=ax),
    "delete": lambda m, a, ax: m.delete(a, 0, axis=ax),
    "take_along_axis": lambda m, a, ax: m.take_along_axis(a, np.zeros((1, 3), int), axis=ax),
    "sum": lambda m, a, ax: m.sum(a, axis=ax),
    "roll": lambda m, a, ax: m.roll(a, 1, axis=ax),
    "swapaxes": lambda m, a, ax: m.swapaxes(a, ax, 1),
    "fft": lambda m, a, ax: m.real(m.fft.fft(a, axis=ax)),
    "cross": lambda m, a, ax: m.cross(m.stack([a, a, a], -1)[0], a.T, axisa=ax),
}


def _numpy_rejects(name, axis):
    try:
        _ONE_AXIS[name](np, np.arange(1.0, 7.0).reshape(2, 3), axis)
    except TypeError:
        return True
    return False


# (roll and sum take a tuple of axes, so only their float axis is here)
_REJECTED = [(name, axis) for name in sorted(_ONE_AXIS) for axis in [(0,), 1.0]
             if _numpy_rejects(name, axis)]


@pytest.mark.parametrize("name,axis", _REJECTED, ids=[f"{n}-{type(a).__name__}" for n, a in _REJECTED])
@pytest.mark.parametrize("mode", ["eager", "jit", "vmap", "grad"])
def test_axis_forms_numpy_rejects_raise_in_every_mode(name, axis, mode):
    # jit and vmap accepted axis=(0,) for one-axis functions, and every mode took a float
    # axis as int(1.0), where NumPy raises TypeError: a program that fails in NumPy must
    # not run here.
    fn = _ONE_AXIS[name]
    x = np.arange(1.0, 7.0).reshape(2, 3)
    run = {"eager": lambda a: fn(cnp, a, axis),
           "jit": cr.jit(lambda a: fn(cnp, a, axis)),
           "vmap": lambda a: cr.vmap(lambda r: fn(cnp, r, axis))(a[None]),
           "grad": cr.grad(lambda a: cnp.sum(cnp.asarray(fn(cnp, a, axis), dtype=float)))}[mode]
    with pytest.raises(TypeError):
        run(x)


@pytest.mark.parametrize("optimize", [False, True, "greedy"])
@pytest.mark.parametrize("spec,shapes", [
    ("ij,jk->ik", [(7, 13), (13, 5)]), ("ij,jk->ik", [(31, 17), (17, 23)]),
    ("bij,bjk->bik", [(3, 9, 11), (3, 11, 4)]), ("ij,jk,kl->il", [(6, 9), (9, 8), (8, 5)]),
    ("i,i->", [(101,), (101,)])])
def test_einsum_values_are_numpys_bit_for_bit(spec, shapes, optimize):
    # the primitive ran np.einsum(optimize=True) whatever the call said: NumPy's
    # default (optimize=False) runs its own loop, whose sums round otherwise (helper-53:
    # differences up to 1e-15 relative in eager values)
    rng = np.random.default_rng(0)
    ops = [rng.standard_normal(s) for s in shapes]
    want = np.einsum(spec, *ops, optimize=optimize)
    f = lambda *o: cnp.einsum(spec, *o, optimize=optimize)
    np.testing.assert_array_equal(cr.vjp(f, *ops)[0], want)
    np.testing.assert_array_equal(cr.jvp(f, tuple(ops), tuple(ops))[0], want)
    np.testing.assert_array_equal(cr.jit(f)(*ops), want)


@pytest.mark.parametrize("shape", [(10,), (101,), (3, 7), (20, 30), (2, 3, 4), (1,), (0,)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.complex128])
@pytest.mark.parametrize("layout", ["C", "F"])
def test_norm_of_a_whole_array_is_numpys_bit_for_bit(shape, dtype, layout):
    # norm(x) with axis=None was sqrt(sum(x * x)); NumPy's is sqrt(dot(r, r)) with r =
    # x.ravel('K'): they differed in the last bit for 90 of 268 float64 shapes
    rng = np.random.default_rng(sum(shape))
    x = rng.standard_normal(shape).astype(dtype)
    if dtype == np.complex128:
        x = x + 1j * rng.standard_normal(shape)
    x = np.asfortranarray(x) if layout == "F" else x
    for ord in [None] + (["fro"] if x.ndim == 2 else []) + ([2] if x.ndim == 1 else []):
        want = np.linalg.norm(x, ord)
        f = lambda a: cnp.linalg.norm(a, ord)
        for got in (cr.vjp(f, x)[0], cr.jvp(f, (x,), (x,))[0], cr.jit(f)(x)):
            assert got == want and np.asarray(got).dtype == np.asarray(want).dtype


@pytest.mark.parametrize("dtype", [np.bool_, np.int8, np.uint8, np.int16, np.int32, np.float32])
def test_modf_result_dtype_is_numpys(dtype):
    # modf converted every integer input to float64 inside transformations; NumPy's loop
    # gives float16 for bool/int8/uint8 and float32 for int16 (helper-60's hunt)
    x = np.array([3, 0, 1], dtype=dtype)
    want = np.modf(x)
    for got in (cr.jit(cnp.modf)(x), cr.vmap(cnp.modf)(x[None]),
                cr.vjp(lambda a: cnp.modf(a), x.astype(np.float32))[0] if dtype == np.float32
                else cr.jit(cnp.modf)(x)):
        for g, w in zip(got, want):
            g = np.asarray(g).reshape(w.shape)
            assert g.dtype == w.dtype and np.array_equal(g, w)


def test_where_none_is_numpys():
    # mean/var/std(where=None) returned nan inside transformations (NumPy: TypeError),
    # nanmean(where=None) 1.5 (NumPy: nan, an all-False mask); helper-60's hunt
    x = np.arange(4.0)
    for name in ("mean", "var", "std"):
        with pytest.raises(TypeError):
            getattr(np, name)(x, where=None)
        with pytest.raises(TypeError):
            cr.vjp(lambda a: getattr(cnp, name)(a, where=None), x)
    with pytest.raises(NotImplementedError, match="where="):
        cr.vjp(lambda a: cnp.nanmean(a, where=None), x)
    for name in ("sum", "prod"):        # NumPy: an all-False mask
        assert cr.vjp(lambda a: getattr(cnp, name)(a, where=None), x)[0] == \
            getattr(np, name)(x, where=None)
