"""The ndarray protocol on traced values: methods, attributes and Python operators inside
grad/jvp/vjp/jacfwd/jacrev/vmap/jit, compared with the same code on NumPy arrays (a
generated hunt over dir(np.ndarray), every operator with operands of every kind, in-place
operators on traced values and their views, conversions and indexing)."""
import copy
import operator

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from chainrule.tree_util import tree_map

X = np.array([[0.7, 1.3, 0.4], [1.9, 0.55, 1.1]])


def _jvp(f):
    return lambda x: cr.jvp(f, (x,), (np.ones_like(x),))[0]


def _vmap(f):
    return lambda x: tree_map(lambda v: v[0], cr.vmap(f)(np.stack([x, x])))


MODES = {"jit": cr.jit, "jvp": _jvp, "vmap": _vmap}


# ------------------------------------------------- derivatives in NumPy's compute dtype

@pytest.mark.parametrize("make", [
    lambda y: (lambda x: x / y),
    lambda y: (lambda x: y ** x),
    lambda y: (lambda x: np.arctan2(x, y)),
    lambda y: (lambda x: y / x),
])
@pytest.mark.parametrize("y", [np.float16(1.5), np.float16(0.1),
                               np.array([3.1, 0.7, 1.7], np.float32),
                               np.array([0.3, 2.5, 1.1], np.float16)])
def test_derivative_uses_the_promoted_operand(make, y):
    # float64 x op float16/float32 y is computed on float64(y): its derivative too (it
    # was computed in y's precision: 1 / np.float16(1.5) = 0.6665, 2.5e-4 relative error)
    f = make(y)
    y64 = np.asarray(y, np.float64)
    exact = {0: 1 / y64, 1: np.log(y64) * y64 ** X[0], 2: y64 / (X[0] ** 2 + y64 ** 2),
             3: -y64 / X[0] ** 2}
    kind = [k for k, g in enumerate([lambda x: x / y64, lambda x: y64 ** x,
                                     lambda x: np.arctan2(x, y64), lambda x: y64 / x])
            if np.array_equal(g(X[0]), f(X[0]))][0]
    want = np.broadcast_to(exact[kind], X[0].shape)
    np.testing.assert_allclose(cr.grad(lambda x: f(x).sum())(X[0]), want, rtol=1e-13)
    np.testing.assert_allclose(cr.jvp(f, (X[0],), (np.ones(3),))[1], want, rtol=1e-13)
    np.testing.assert_allclose(np.diag(cr.jacrev(f)(X[0])), want, rtol=1e-13)


@pytest.mark.parametrize("base", [-2, -2.0])
def test_power_of_negative_python_number_to_complex_exponent(base):
    z = X[0]

    def f(x):
        return (base ** (x * (1 + 0.5j))).real
    e = 1e-6
    fd = (f(z + e) - f(z - e)) / (2 * e)
    for jac in (cr.jacfwd, cr.jacrev):
        np.testing.assert_allclose(np.diag(jac(f)(z)), fd, rtol=1e-7)   # was nan


# ------------------------------------------------------------------ reductions, clip

@pytest.mark.parametrize("lo,hi", [(np.nan, 1.0), (0.0, np.nan),
                                   (np.array([0.2, np.nan, 0.1]), None),
                                   (None, np.array([np.nan, 0.4, 1.0]))])
@pytest.mark.parametrize("mode", MODES)
def test_clip_with_nan_bound_is_nan(lo, hi, mode):
    want = np.clip(X, lo, hi)                 # NumPy: minimum(maximum(x, lo), hi)
    got = MODES[mode](lambda x: x.clip(lo, hi))(X)
    np.testing.assert_array_equal(got, want)  # the NaN bound was ignored


@pytest.mark.parametrize("mode", MODES)
def test_prod_initial_in_the_result_dtype(mode):
    a = np.array([[1, 2, 3], [4, 5, 6]])
    for init, axis in [(2.5, None), (2.5, 1), (np.float32(2.5), 0)]:
        want = np.prod(a, axis=axis, initial=init)     # int64: initial truncated to 2
        got = MODES[mode](lambda x: cnp.prod(x.astype(int), axis=axis, initial=init))(
            a.astype(float))
        assert np.asarray(got).dtype == want.dtype
        np.testing.assert_array_equal(got, want)
    f32 = np.array([1.5, 2.5], np.float32)
    got = MODES[mode](lambda x: x.prod(initial=np.float64(3)))(f32)
    assert np.asarray(got).dtype == np.float32
    got = MODES[mode](lambda x: cnp.nansum(x.astype(int), axis=0, initial=2.5))(a * 1.0)
    np.testing.assert_array_equal(got, np.nansum(a, axis=0, initial=2.5))
    with pytest.raises(TypeError):
        MODES[mode](lambda x: cnp.prod(x.astype(int), initial=1j))(a * 1.0)


@pytest.mark.parametrize("axis", [None, 0, 1, (0, 1)])
@pytest.mark.parametrize("mode", MODES)
def test_prod_initial_bit_for_bit(axis, mode):
    x = np.random.default_rng(0).uniform(0.5, 1.5, (33, 17))
    want = np.prod(x, axis=axis, initial=0.3)
    np.testing.assert_array_equal(MODES[mode](lambda x: x.prod(axis=axis, initial=0.3))(x),
                                  want)
    g = cr.grad(lambda x: x[:2, :3].prod(axis=1, initial=2.0).sum())(x[:2, :3])
    np.testing.assert_allclose(g, 2 * np.prod(x[:2, :3], axis=1, keepdims=True) / x[:2, :3])


# ------------------------------------------------------------------ Python protocols

@pytest.mark.parametrize("mode", MODES)
def test_copy_copy_of_a_view_is_a_new_array(mode):
    def f(x):
        y = x * 1.0
        z = copy.copy(y[:1])         # ndarray.__copy__: a copy, not a second view
        z[0, 0] = 100.0
        w = copy.deepcopy(y)
        w[1] = -1.0
        return y, z, w
    want = f(X.copy())
    for g, w in zip(MODES[mode](f)(X), want):
        np.testing.assert_array_equal(g, w)


def test_deepcopy_keeps_the_derivative():
    np.testing.assert_allclose(cr.grad(lambda x: (copy.deepcopy(x) ** 2).sum())(X), 2 * X)


@pytest.mark.parametrize("fn", [lambda x: operator.index(x.sum()), lambda x: x[:x.sum()],
                                lambda x: list(range(x.sum())), lambda x: x[:x[0] > 0],
                                lambda x: operator.index(x[0, 0] > 0)])
@pytest.mark.parametrize("mode", ["jit", "jvp"])
def test_float_or_bool_traced_value_is_no_index(fn, mode):
    x = np.array([[0.6, 0.7, 0.8]])
    with pytest.raises(TypeError):
        fn(x)
    with pytest.raises(TypeError):            # jit used int(4.1): x[:4], range(4)
        MODES[mode](fn)(x)


@pytest.mark.parametrize("mode", ["jit", "jvp"])
def test_list_times_numpy_scalar_repeats_the_list(mode):
    for fn in [lambda x: [0.0] * (x > 1).sum(), lambda x: (x > 1).sum() * (1, 2),
               lambda x: [1, 2] * (x * 3).astype(int)[0, 0]]:
        assert MODES[mode](fn)(X) == fn(X)    # was an array: [0.0] * n -> array([0.])

    def f(x):
        s = (x * 3).astype(int)[1, 1]
        s *= [1.0, 2.0]
        return s
    assert MODES[mode](f)(X) == f(X)
    for fn in [lambda x: x.sum() * [1.0], lambda x: [1.0] * x[0, 0]]:
        with pytest.raises(TypeError):        # NumPy: can't multiply sequence by float
            fn(X)
        with pytest.raises(TypeError):
            MODES[mode](fn)(X)


@pytest.mark.parametrize("mode", MODES)
def test_small_protocol_methods(mode):
    run = MODES[mode]
    np.testing.assert_array_equal(run(lambda x: divmod(2.0, x)[0])(X), divmod(2.0, X)[0])
    np.testing.assert_array_equal(run(lambda x: divmod([2.0, 1.0, 3.0], x)[1])(X),
                                  divmod([2.0, 1.0, 3.0], X)[1])
    np.testing.assert_array_equal(run(lambda x: x * x.itemsize + x.nbytes)(X),
                                  X * 8 + 48)
    if mode != "vmap":
        assert run(lambda x: 0.5 in x)(X) is False       # NumPy: (x == v).any()
        assert run(lambda x: 0.4 in x)(X) is True
    with pytest.raises(TypeError):            # np.positive has no bool loop
        run(lambda x: +(x > 1))(X)


def test_round_of_a_traced_scalar_is_a_python_int():
    for mode in ("jvp", "jit"):
        got = MODES[mode](lambda x: round(x[0, 0] * 3) * x)(X)
        np.testing.assert_array_equal(got, round(X[0, 0] * 3) * X)
    with pytest.raises(TypeError):            # a 0-d array has no __round__
        cr.jit(lambda x: round(x[0, 0, ...]))(X)


@pytest.mark.parametrize("mode", MODES)
def test_real_and_imag_setters(mode):
    def f(x):
        z = x * (1 + 2j)
        z.real = x ** 2
        z.imag[0] = 7.0
        w = x * 1.0
        w.real = 3.0
        return z, w
    for g, w in zip(MODES[mode](f)(X), f(X.copy())):
        np.testing.assert_array_equal(g, w)
    with pytest.raises(TypeError):
        MODES[mode](lambda x: setattr(x * 1.0, "imag", 1.0))(X)
    g = cr.grad(lambda x: (lambda z: (setattr(z, "real", x ** 2), z)[1])(x * 1j).real.sum())(X)
    np.testing.assert_allclose(g, 2 * X)


def test_imatmul_needs_a_matrix():
    def f(x):
        r = x[0] * 1.0
        r @= x[1]            # NumPy's ValueError; was the dot product in every element
        return r
    with pytest.raises(ValueError):
        f(X.copy())
    for mode in MODES:
        with pytest.raises(ValueError):
            MODES[mode](f)(X)


# ------------------------------------------------------------------ writes and indexes

@pytest.mark.parametrize("dt,value,how", [
    (float, 1j, "set"), (int, np.nan, "set"), (np.int8, 300, "set"), (np.uint8, -1, "set"),
    (float, [1j, 2.0], "list"), (int, [np.nan], "list"), (float, 1j, "fill"),
    (int, np.nan, "fill"), (float, 1j, "mask")])
@pytest.mark.parametrize("mode", MODES)
def test_python_number_written_converts_as_numpy(dt, value, how, mode):
    def f(x):
        y = (x * 1).astype(dt)
        if how == "set":
            y[0] = value
        elif how == "list":
            y[0, :len(value)] = value
        elif how == "fill":
            y[:, 1].fill(value)
        else:
            y[x > 1] = value
        return y
    with pytest.raises((TypeError, ValueError, OverflowError)) as want:
        f(X.copy())
    with pytest.raises(want.type):    # vmap, masks, views: the imaginary part was dropped
        MODES[mode](f)(X)


M = np.array([True, False, True])


@pytest.mark.parametrize("fn", [
    lambda x: x[[True, False]],                                   # a list mask, wrong length
    lambda x: (lambda y: (y.__setitem__([True, False], 1.0), y)[1])(x * 1.0),
    lambda x: (lambda y: (y.T.__setitem__(M, 1.0), y)[1])(x * 1.0),   # through a view
    lambda x: (lambda y: (y.T.__setitem__(M[:2], 1.0), y)[1])(x * 1.0),
])
@pytest.mark.parametrize("mode", MODES)
def test_mask_of_the_wrong_length_raises(fn, mode):
    x = np.arange(12.0).reshape(3, 4)
    with pytest.raises(IndexError):
        fn(x.copy())
    with pytest.raises(IndexError):           # was row 0 / a write somewhere
        MODES[mode](fn)(x)


@pytest.mark.parametrize("idx", [[], np.array(True), np.array(False), (np.array(True), 1),
                                 (slice(None), [])])
@pytest.mark.parametrize("mode", MODES)
def test_empty_list_and_0d_mask_index(idx, mode):
    x = np.arange(12.0).reshape(3, 4)
    np.testing.assert_array_equal(MODES[mode](lambda x: x[idx] * 2)(x), x[idx] * 2)

    def f(x):
        y = x * 1.0
        y[idx] = 5.0
        return y
    np.testing.assert_array_equal(MODES[mode](f)(x), f(x.copy()))


@pytest.mark.parametrize("mode", MODES)
def test_setitem_with_index_none(mode):
    def f(x):
        y = x * 1.0
        y[None] += x[None] * x        # y[None] is a (1, 2, 3) view: NumPy writes through
        y[None] = y[None] * 2
        return y
    np.testing.assert_array_equal(MODES[mode](f)(X), f(X.copy()))
    np.testing.assert_allclose(cr.grad(lambda x: f(x).sum())(X), 2 * (1 + 2 * X))
