"""Indexing, reductions and shape functions beyond the op database: boolean masks
(data-dependent shapes, so no vmap column), errors inside transformations, repeated
indices, and derivatives of prod/cumprod at zeros checked against exact values."""
import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from chainrule.test_util import check_grads

RNG = np.random.default_rng(0)
X = RNG.standard_normal((3, 4))
T = RNG.standard_normal((2, 3, 4))


# ------------------------------------------------------------------ boolean masks

@pytest.mark.parametrize("f", [
    lambda x: x[x > 0],
    lambda x: x[x[:, 0] > 0],
    lambda x: x[np.array([True, False, True]), 1:],
])
def test_bool_mask_getitem(f):
    check_grads(f, (X,), order=2)
    np.testing.assert_array_equal(cr.vjp(f, X)[0], f(X))


def test_bool_mask_setitem_and_where():
    def f(x, v):
        x = x * 1.0
        x[x > 0.5] = v
        return x
    check_grads(f, (X, 2.5), order=2)
    g = cr.grad(lambda x: cnp.sum(f(x, 2.5)))(X)
    np.testing.assert_array_equal(g, np.where(X > 0.5, 0.0, 1.0))


def test_bool_mask_under_vmap_is_a_clear_error():
    with pytest.raises(TypeError, match="vmap"):
        cr.vmap(lambda x: cnp.sum(x[x > 0]))(X)


# ------------------------------------------------------------------ errors

@pytest.mark.parametrize("f", [
    lambda x: x[5],
    lambda x: x[np.array([0, 5])],
    lambda x: x[:, 9],
    lambda x: cnp.take(x, np.array([12])),
    lambda x: cnp.take(x, 4, axis=1),
    lambda x: cnp.take_along_axis(x, np.array([[0], [7], [1]]), axis=1),
])
def test_out_of_bounds_raises_index_error_inside_grad(f):
    with pytest.raises(IndexError):
        f(X)                                   # NumPy's own error
    with pytest.raises(IndexError):
        cr.grad(lambda x: cnp.sum(f(x)))(X)
    with pytest.raises(IndexError):
        cr.jvp(f, (X,), (X,))


def test_out_of_bounds_update_raises_index_error():
    with pytest.raises(IndexError):
        cr.grad(lambda x: cnp.sum(x.at[7].set(1.0)))(X)

    def f(x):
        x = x * 1.0
        x[3, 0] = 2.0
        return cnp.sum(x)
    with pytest.raises(IndexError):
        cr.grad(f)(X)


@pytest.mark.parametrize("call, err", [
    (lambda x: cnp.sum(x, axis=2), np.exceptions.AxisError),
    (lambda x: cnp.cumsum(x, axis=3), np.exceptions.AxisError),
    (lambda x: cnp.sort(x, axis=-3), np.exceptions.AxisError),
    (lambda x: cnp.split(x, 3, axis=1), ValueError),
    (lambda x: cnp.diagonal(x, 0, 1, 1), ValueError),
    (lambda x: cnp.diag(cnp.reshape(x, (2, 3, 2))), ValueError),
    (lambda x: cnp.pad(x, 1, mode="bogus"), ValueError),
    (lambda x: cnp.pad(x, 1, mode="edge", constant_values=1), ValueError),
    (lambda x: cnp.repeat(x, [1, 2], axis=0), ValueError),
    (lambda x: cnp.diff(x, -1), ValueError),
    (lambda x: cnp.select([x > 0], [x, x]), ValueError),
    (lambda x: cnp.average(x, weights=np.ones(4)), TypeError),
    (lambda x: cnp.average(x, axis=1, weights=np.zeros(4)), ZeroDivisionError),
    (lambda x: cnp.take_along_axis(x, np.array([0, 1]), axis=1), ValueError),
    (lambda x: cnp.quantile(x, 1.5), ValueError),
    (lambda x: cnp.fliplr(x[0]), ValueError),
])
def test_numpy_errors_inside_grad(call, err):
    with pytest.raises(err):
        call(X)
    with pytest.raises(err):
        cr.grad(lambda x: cnp.sum(call(x)))(X)


@pytest.mark.parametrize("call", [
    lambda x: cnp.quantile(x, 0.5, weights=np.ones(X.shape)),
    lambda x: cnp.sort(x, order="f"),
    lambda x: cnp.partition(x, 1, order="f"),
])
def test_unsupported_options_name_themselves(call):
    with pytest.raises(NotImplementedError, match="chainrule.numpy"):
        cr.grad(lambda x: cnp.sum(call(x)))(X)


# ------------------------------------------------------------------ repeated indices

def test_repeated_indices_accumulate():
    g = cr.grad(lambda x: cnp.sum(x[np.array([0, 0, 1, 0])] ** 2))(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(g, [6.0, 4.0, 0.0])
    g = cr.grad(lambda v: cnp.sum((v[0] * cnp.zeros(3)).at[np.array([1, 1])].add(v) ** 2))(
        np.array([1.0, 2.0]))
    np.testing.assert_allclose(g, [6.0, 6.0])


# ------------------------------------------------------------------ zeros in products

def test_prod_gradient_with_zeros():
    x = np.array([2.0, 0.0, 3.0, 4.0])
    np.testing.assert_allclose(cr.grad(cnp.prod)(x), [0.0, 24.0, 0.0, 0.0])
    x2 = np.array([2.0, 0.0, 3.0, 0.0])
    np.testing.assert_allclose(cr.grad(cnp.prod)(x2), [0.0, 0.0, 0.0, 0.0])
    h = cr.hessian(cnp.prod)(x2)
    want = np.zeros((4, 4))
    want[1, 3] = want[3, 1] = 6.0
    np.testing.assert_allclose(h, want)
    assert not np.isnan(cr.jacfwd(cnp.prod)(x2)).any()


def test_cumprod_jacobian_with_zeros():
    x = np.array([2.0, 0.0, 3.0, 5.0])
    want = np.array([[1, 0, 0, 0], [0, 2, 0, 0], [0, 6, 0, 0], [0, 30, 0, 0]], float)
    np.testing.assert_allclose(cr.jacrev(cnp.cumprod)(x), want)
    np.testing.assert_allclose(cr.jacfwd(cnp.cumprod)(x), want)
    check_grads(cnp.cumprod, (x,), order=3)


# ------------------------------------------------------------------ methods on tracers

def test_ndarray_methods_on_tracers():
    def f(x):
        y = x.clip(-0.5, 0.5).cumsum(axis=1) + x.prod(axis=0) + x.round(1)
        z = x.var() + x.std(axis=0).sum() + cnp.ptp(x) + x.trace() + x.diagonal(1).sum()
        w = x.repeat(2, axis=0).take(np.array([0, 3]), axis=0).cumprod(axis=1)
        return cnp.sum(y) + z + cnp.sum(w)
    check_grads(f, (X,), order=2)
    assert np.isclose(cr.vjp(f, X)[0], f(X))
