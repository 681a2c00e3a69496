"""Silent wrong results of issue 10 (item 3), each now exact or a clear error:
eigh/svd at repeated eigen/singular values, ``at[idx].multiply`` with repeated indices
and zero factors, ``checkpoint`` of functions that draw from NumPy's global random
generator, ``unique``'s derivative, and out-of-range labels of ``nn.cross_entropy``.

Derivatives are compared with central finite differences of the NumPy program."""
import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from chainrule import nn
from chainrule.test_util import check_grads

RNG = np.random.default_rng(10)


def randn(*shape):
    return RNG.standard_normal(shape)


def num_grad(f, x, eps=1e-6):
    """Central differences of a scalar NumPy function, one coordinate at a time."""
    x = np.asarray(x, float)
    g = np.zeros(x.shape)
    for k in np.ndindex(x.shape):
        e = np.zeros(x.shape)
        e[k] = eps
        g[k] = (f(x + e) - f(x - e)) / (2 * eps)
    return g


# ------------------------------------------------------------- nn.cross_entropy labels

LOGITS = randn(4, 3)


@pytest.mark.parametrize("bad", [3, 7, -1, -3])
def test_cross_entropy_label_out_of_range_raises(bad):
    labels = np.array([0, 1, bad, 2])
    with pytest.raises(IndexError, match=rf"label {bad} at index \(2,\).*3 classes"):
        nn.cross_entropy(LOGITS, labels)
    with pytest.raises(IndexError, match="3 classes"):
        cr.grad(nn.cross_entropy)(LOGITS, labels)
    with pytest.raises(IndexError, match="3 classes"):
        cr.jit(nn.cross_entropy)(LOGITS, labels)
    with pytest.raises(IndexError, match="3 classes"):      # class axis first
        nn.cross_entropy(LOGITS.T, labels, axis=0)


def test_cross_entropy_labels_in_range_unchanged():
    labels = np.array([0, 1, 2, 2])
    logp = LOGITS - np.log(np.sum(np.exp(LOGITS), axis=1, keepdims=True))
    want = -np.mean(logp[np.arange(4), labels])
    np.testing.assert_allclose(nn.cross_entropy(LOGITS, labels), want, rtol=1e-12)
    np.testing.assert_allclose(cr.jit(nn.cross_entropy)(LOGITS, labels), want, rtol=1e-12)
    g = cr.grad(nn.cross_entropy)(LOGITS, labels)
    np.testing.assert_allclose(g, num_grad(lambda z: -np.mean(
        (z - np.log(np.sum(np.exp(z), 1, keepdims=True)))[np.arange(4), labels]), LOGITS),
        rtol=1e-6, atol=1e-8)


def test_cross_entropy_bad_label_under_vmap_is_nan_never_zero():
    # per-example labels are batched: no single value to raise about, so that example's
    # loss and gradient are NaN (they were a silent 0)
    labels = np.array([0, 1, 7, 1])
    loss = lambda z, y: nn.cross_entropy(z[None], y[None])     # noqa: E731
    values = cr.vmap(loss)(LOGITS, labels)
    grads = cr.vmap(cr.grad(loss))(LOGITS, labels)
    assert np.isnan(values[2]) and np.all(np.isnan(grads[2]))
    assert np.all(np.isfinite(np.delete(values, 2))) and np.all(np.isfinite(np.delete(grads, 2, 0)))
    np.testing.assert_allclose(values[0], nn.cross_entropy(LOGITS[:1], labels[:1]))


# ------------------------------------------------------------- checkpoint and np.random

def _noisy(x):
    """Draws from NumPy's global generator (a dropout-like mask and noise)."""
    mask = np.random.rand(*x.shape) < 0.5
    return cnp.sum(cnp.sin(x * np.random.standard_normal(x.shape)) * mask)


def _noisy_np(x, seed):
    np.random.seed(seed)
    mask = np.random.rand(*x.shape) < 0.5
    return np.sum(np.sin(x * np.random.standard_normal(x.shape)) * mask)


@pytest.mark.parametrize("nested", [False, True])
def test_checkpoint_redraws_the_same_random_numbers(nested):
    x = randn(6)
    f = cr.checkpoint(_noisy)
    if nested:
        g = cr.checkpoint(lambda x: f(x) + cnp.sum(x * np.random.standard_normal(6)))
        plain = lambda x: _noisy(x) + cnp.sum(x * np.random.standard_normal(6))  # noqa: E731
    else:
        g, plain = f, _noisy
    np.random.seed(5)
    want = cr.grad(plain)(x)
    after_plain = np.random.rand(3)
    np.random.seed(5)
    got = cr.grad(g)(x)
    after = np.random.rand(3)
    np.testing.assert_array_equal(got, want)
    # the generator is left where the program without checkpoint leaves it
    np.testing.assert_array_equal(after, after_plain)
    if not nested:
        np.testing.assert_allclose(got, num_grad(lambda z: _noisy_np(z, 5), x), rtol=1e-6,
                                   atol=1e-8)


def test_checkpoint_vjp_called_twice_and_value_and_grad():
    x = randn(4)
    np.random.seed(1)
    out, back = cr.vjp(cr.checkpoint(_noisy), x)
    np.random.rand(10)                      # the caller draws between the two passes
    g1, = back(1.0)
    g2, = back(1.0)
    np.testing.assert_array_equal(g1, g2)
    np.testing.assert_allclose(out, _noisy_np(x, 1), rtol=1e-12)
    np.testing.assert_allclose(g1, num_grad(lambda z: _noisy_np(z, 1), x), rtol=1e-6,
                               atol=1e-8)
    np.random.seed(2)
    v, g = cr.value_and_grad(cr.checkpoint(_noisy))(x)
    np.testing.assert_allclose(v, _noisy_np(x, 2), rtol=1e-12)
    np.testing.assert_allclose(g, num_grad(lambda z: _noisy_np(z, 2), x), rtol=1e-6,
                               atol=1e-8)


# ------------------------------------------------------------- unique

X_TIES = np.array([3.0, 1.0, 3.0, 2.0, 1.0, 0.5])
W6 = randn(6)


def _tie_preserving(x):
    """A direction that moves equal elements together (np.unique keeps its shape)."""
    _, inv = np.unique(x, return_inverse=True)
    return randn(inv.max() + 1)[inv.ravel()].reshape(x.shape)


@pytest.mark.parametrize("fn", [cnp.unique, np.unique])
def test_unique_values_carry_the_derivative(fn):
    loss = lambda x: cnp.sum(cnp.sin(fn(x)) * W6[:4])                  # noqa: E731
    loss_np = lambda x: np.sum(np.sin(np.unique(x)) * W6[:4])          # noqa: E731
    g = cr.grad(loss)(X_TIES)
    u, first = np.unique(X_TIES, return_index=True)
    want = np.zeros(6)
    want[first] = np.cos(u) * W6[:4]            # each value's first occurrence
    np.testing.assert_allclose(g, want, rtol=1e-12)
    assert np.count_nonzero(g) == 4             # was all zeros
    for _ in range(3):                          # finite differences along ties
        t = _tie_preserving(X_TIES)
        fd = (loss_np(X_TIES + 1e-6 * t) - loss_np(X_TIES - 1e-6 * t)) / 2e-6
        np.testing.assert_allclose(g @ t, fd, rtol=1e-6)
        _, jt = cr.jvp(loss, (X_TIES,), (t,))
        np.testing.assert_allclose(jt, fd, rtol=1e-6)


def test_unique_distinct_values_second_order_and_jit():
    x = randn(5)
    f = lambda x: cnp.sum(cnp.unique(x) ** 3 * np.arange(1.0, 6.0))   # noqa: E731
    check_grads(f, (x,), order=2)
    np.testing.assert_allclose(cr.grad(f)(x), num_grad(
        lambda z: np.sum(np.unique(z) ** 3 * np.arange(1.0, 6.0)), x), rtol=1e-6)
    np.testing.assert_allclose(cr.jit(cr.grad(f))(x), cr.grad(f)(x), rtol=1e-12)


def test_unique_return_tuples_and_axis():
    flags = dict(return_index=True, return_inverse=True, return_counts=True)
    out = cr.jvp(lambda x: cnp.unique(x, **flags), (X_TIES,), (np.arange(6.0),))
    (u, idx, inv, cnt), (du, *_) = out
    for got, want in zip((u, idx, inv, cnt), np.unique(X_TIES, **flags)):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(du, np.arange(6.0)[idx])
    g = cr.grad(lambda x: cnp.sum(cnp.unique(x, return_counts=True)[0] * W6[:4]))(X_TIES)
    assert np.count_nonzero(g) == 4
    X = np.array([[1.0, 2.0], [3.0, 4.0], [1.0, 2.0]])
    C = randn(2, 2)
    g = cr.grad(lambda X: cnp.sum(cnp.unique(X, axis=0) ** 2 * C))(X)
    np.testing.assert_allclose(g, np.vstack([2 * X[0] * C[0], 2 * X[1] * C[1], [0, 0]]))
    with pytest.raises(TypeError, match="unique under vmap"):
        cr.vmap(cnp.unique)(X)


# ------------------------------------------------------------- at[idx].multiply, repeats

def test_at_multiply_repeated_index_zero_factor_reproducer():
    f = lambda v: cnp.sum(cnp.at(np.full(2, 2.0))[[0, 0]].multiply(v))     # noqa: E731
    v = np.array([0.0, 3.0])
    np.testing.assert_array_equal(cr.grad(f)(v), [6.0, 0.0])               # was [2, 0]
    np.testing.assert_array_equal(cr.jvp(f, (v,), (np.array([1.0, 0.0]),))[1], 6.0)
    np.testing.assert_array_equal(cr.jacfwd(f)(v), [6.0, 0.0])


IDX = np.array([0, 2, 0, 0, 1, 2, 0])
X3 = np.array([2.0, -1.0, 3.0])
FACTORS = [np.array([1.5, 2.0, 0.0, 0.5, 3.0, 0.7, -1.2]),     # one zero at a repeated index
           np.array([0.0, 2.0, 0.0, 0.5, 3.0, 0.0, -1.2]),     # two zeros at one index
           np.array([1.5, 2.0, 0.7, 0.5, 3.0, 0.7, 0.0])]      # zero last


def _mul_at(x, v, idx):
    return cnp.sum(cnp.sin(cnp.at(x)[idx].multiply(v)))


def _mul_at_np(x, v, idx):
    y = np.array(x, copy=True)
    np.multiply.at(y, idx, v)
    return np.sum(np.sin(y))


@pytest.mark.parametrize("k", range(3))
def test_at_multiply_repeated_indices_match_finite_differences(k):
    v = FACTORS[k]
    gx, gv = cr.grad(_mul_at, argnums=(0, 1))(X3, v, IDX)
    np.testing.assert_allclose(gv, num_grad(lambda z: _mul_at_np(X3, z, IDX), v), atol=1e-8)
    np.testing.assert_allclose(gx, num_grad(lambda z: _mul_at_np(z, v, IDX), X3), atol=1e-8)
    check_grads(lambda x, v: _mul_at(x, v, IDX), (X3, v), order=2)    # hessian at zeros
    # np.multiply.at on a traced array, forward and reverse
    def inplace(v):
        y = v[:3] * 0.0 + X3
        np.multiply.at(y, IDX, v)
        return cnp.sum(cnp.sin(y))
    want = num_grad(lambda z: _mul_at_np(X3, z, IDX), v)
    np.testing.assert_allclose(cr.grad(inplace)(v), want, atol=1e-8)
    np.testing.assert_allclose(cr.jacfwd(inplace)(v), want, atol=1e-8)


def test_at_multiply_batched_repeated_indices():
    # index arrays batched under vmap: the runs of equal positions are found with traced
    # comparisons; each example against its own finite differences
    idxs = np.stack([IDX, np.array([1, 1, 1, 0, 2, 2, 1]), np.array([0, 1, 2, 0, 1, 2, 2])])
    vs = np.stack(FACTORS)
    gx, gv = cr.vmap(cr.grad(_mul_at, argnums=(0, 1)), in_axes=(None, 0, 0))(X3, vs, idxs)
    tv = cr.vmap(lambda v, i: cr.jvp(lambda v: _mul_at(X3, v, i), (v,), (np.ones(7),))[1])(
        vs, idxs)
    for k in range(3):
        want = num_grad(lambda z: _mul_at_np(X3, z, idxs[k]), vs[k])
        np.testing.assert_allclose(gv[k], want, atol=1e-8)
        np.testing.assert_allclose(tv[k], want.sum(), atol=1e-8)
        np.testing.assert_allclose(gx[k], num_grad(lambda z: _mul_at_np(z, vs[k], idxs[k]),
                                                   X3), atol=1e-8)
    jg = cr.jit(cr.grad(_mul_at, argnums=1))
    for k in range(3):
        np.testing.assert_allclose(jg(X3, vs[k], idxs[k]), gv[k], rtol=1e-12, atol=1e-15)


def test_at_multiply_broadcast_factor_over_repeated_rows():
    X = np.arange(1.0, 7.0).reshape(2, 3)
    rows = np.array([0, 1, 0])          # row 0 is multiplied by v twice: v**2
    v = np.array([0.0, 2.0, -1.0])

    def f(X, v):
        return cnp.sum(cnp.at(X)[rows].multiply(v) ** 2)

    def f_np(X, v):
        Y = X.copy()
        np.multiply.at(Y, rows, v)
        return np.sum(Y ** 2)
    np.testing.assert_allclose(cr.grad(f, argnums=1)(X, v), num_grad(lambda z: f_np(X, z), v),
                               atol=1e-6)
    check_grads(f, (X, v), order=2)
