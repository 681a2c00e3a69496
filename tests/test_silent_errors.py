"""Silent wrong results of issue 10 (item 3), each now exact or a clear error:
eigh/svd at repeated eigen/singular values, ``at[idx].multiply`` with repeated indices
and zero factors, ``checkpoint`` of functions that draw from NumPy's global random
generator, ``unique``'s derivative, and out-of-range labels of ``nn.cross_entropy``.

Derivatives are compared with central finite differences of the NumPy program."""
import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
import chainrule.scipy.linalg as csl
import scipy.linalg as sl
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


# ------------------------------------------------------------- eigh / svd, repeated values

W9 = np.arange(9.0).reshape(3, 3)
D225 = np.diag([2.0, 2.0, 5.0])


def sym_grad(f, A, eps=1e-6):
    """The symmetric gradient of NumPy's ``f`` at a symmetric ``A`` (eigh's convention:
    <G, E> is the derivative along every symmetric E), by central differences along
    E_ij + E_ji."""
    n = A.shape[0]
    g = np.zeros(A.shape)
    for i in range(n):
        for j in range(i + 1):
            E = np.zeros(A.shape)
            E[i, j] = E[j, i] = eps
            d = (f(A + E) - f(A - E)) / (2 * eps)
            g[i, j] = g[j, i] = d if i == j else d / 2
    return g


def _rotated(ws):
    q, _ = np.linalg.qr(randn(len(ws), len(ws)))
    return (q * np.asarray(ws)) @ q.T


def _recon(mod, g, C):
    def f(a):
        w, v = mod.linalg.eigh(a)
        return mod.sum(C * ((v * g(w)) @ v.T))
    return f


def test_eigh_reproducer_is_an_error_not_a_wrong_gradient():
    # sum(W * V diag(w) V^T) = sum(W * A): exact (symmetric) gradient entry (1, 0) is
    # (W[1, 0] + W[0, 1]) / 2 = 2; it was 0
    f, f_np = _recon(cnp, lambda w: w, W9), _recon(np, lambda w: w, W9)
    assert sym_grad(f_np, D225)[1, 0] == pytest.approx(2.0)
    with pytest.raises(NotImplementedError, match="repeated eigenvalue"):
        cr.grad(f)(D225)
    # forward mode cannot know whether V is used: NaN where the tangent couples the pair
    T = np.zeros((3, 3))
    T[1, 0] = T[0, 1] = 1.0
    assert np.isnan(cr.jvp(f, (D225,), (T,))[1])
    # ... and exact where it does not
    T = np.diag([1.0, -2.0, 0.5]) + np.outer([0, 0, 1.0], [1.0, 1.0, 0]) * 0.3
    T = T + T.T
    np.testing.assert_allclose(cr.jvp(f, (D225,), (T,))[1],
                               np.sum(sym_grad(f_np, D225) * T), rtol=1e-6)
    # under vmap each example has its own answer: NaN for the degenerate one only
    B = np.diag([1.0, 2.0, 3.0])
    g = cr.vmap(cr.grad(f))(np.stack([D225, B]))
    assert np.all(np.isnan(g[0]))
    np.testing.assert_allclose(g[1], sym_grad(f_np, B), atol=1e-6)
    # under jit the test is a guard: compiled at B, called at the tie, it raises
    jg = cr.jit(cr.grad(f))
    np.testing.assert_allclose(jg(B), sym_grad(f_np, B), atol=1e-6)
    np.testing.assert_allclose(jg(B), sym_grad(f_np, B), atol=1e-6)
    with pytest.raises(NotImplementedError, match="repeated eigenvalue"):
        jg(D225)


def test_eigh_tie_raises_after_the_backward_pass_is_compiled():
    # a training loop's recurring backward pass is compiled (graph/replay.py); the
    # test for undetermined couplings is a guard of that code, so a tie still raises
    from chainrule._src.graph import replay
    f = lambda a: (lambda w, v: cnp.sum(W9 * (v * w)))(*cnp.linalg.eigh(a))   # noqa: E731
    B = np.diag([1.0, 2.0, 3.0]) + 0.01
    before = replay.cache_info().hits
    for _ in range(10):
        g = cr.grad(f)(B)
    assert replay.cache_info().hits > before or not cr.config.replay_backward
    np.testing.assert_allclose(g, sym_grad(lambda a: (lambda w, v: np.sum(W9 * (v * w)))(
        *np.linalg.eigh(a)), B), atol=1e-6)
    with pytest.raises(NotImplementedError, match="repeated eigenvalue"):
        cr.grad(f)(D225)


def test_eigh_cotangents_cannot_determine_the_repeated_block():
    # why the rule raises: g(w) = w and g(w) = w^2 / 2 agree in g(2) and give eigh the
    # same cotangents at diag(2, 2, 5), but g'(2) differs and so do the exact gradients
    C = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    w, v = np.linalg.eigh(D225)
    cts, exact = [], []
    for g in (lambda w: w, lambda w: w * w / 2):
        cts.append(cr.grad(lambda w, v: cnp.sum(C * ((v * g(w)) @ v.T)), argnums=(0, 1))(w, v))
        exact.append(sym_grad(_recon(np, g, C), D225)[1, 0])
    np.testing.assert_array_equal(cts[0][0], cts[1][0])
    np.testing.assert_array_equal(cts[0][1], cts[1][1])
    np.testing.assert_allclose(exact, [1.0, 2.0], rtol=1e-6)


def _lin(m):
    return csl if m is cnp else sl


EXACT_AT_TIES = {
    # functions of the eigenvalues alone
    "sum exp(w)": lambda m: lambda a: m.sum(m.exp(m.linalg.eigh(a)[0])),
    "eigvalsh": lambda m: lambda a: m.sum(m.linalg.eigvalsh(a) ** 3),
    # the eigenvector of the eigenvalue that is not repeated, as the only one selected
    "top vector": lambda m: lambda a: m.sum(W9 * (lambda v: v @ v.T)(
        _lin(m).eigh(a, subset_by_index=[2, 2])[1])),
    # the projector on the repeated eigenspace written as I - v3 v3^T, plus sum f(w)
    "projector": lambda m: lambda a: m.sum(W9 * (np.eye(3) - (lambda v: v @ v.T)(
        _lin(m).eigh(a, subset_by_index=[2, 2])[1]))) + m.sum(
        m.cos(m.linalg.eigh(a)[0])),
    # matrix functions V g(w) V^T, with g vanishing at the repeated value too
    "funm": lambda m: lambda a: m.sum(W9 * _lin(m).funm(a, lambda w: m.sin(w + 1.0))),
    "funm vanishing": lambda m: lambda a: m.sum(W9 * _lin(m).funm(a, lambda w: w * w - 1.0)),
    "logm": lambda m: lambda a: m.sum(W9 * _lin(m).logm(a + 3.0 * np.eye(3))),
    "fractional power": lambda m: lambda a: m.sum(
        W9 * _lin(m).fractional_matrix_power(a + 3.0 * np.eye(3), 0.7)),
}


@pytest.mark.parametrize("name", sorted(EXACT_AT_TIES))
@pytest.mark.parametrize("A", [D225, _rotated([-1.0, -1.0, 2.0]), np.diag([0.0, 0.0, 1.0])],
                         ids=["diag", "rotated", "zeros"])
def test_eigh_basis_free_losses_at_repeated_eigenvalues_are_exact(name, A):
    # (the matrix functions take general matrices, so their gradient is the full one:
    # its symmetric part is the symmetric gradient)
    f, f_np = EXACT_AT_TIES[name](cnp), EXACT_AT_TIES[name](np)
    want = sym_grad(f_np, A)
    sym = lambda g: 0.5 * (g + np.swapaxes(g, -1, -2))        # noqa: E731
    np.testing.assert_allclose(sym(cr.grad(f)(A)), want, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(sym(cr.jit(cr.grad(f))(A)), want, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(sym(cr.vmap(cr.grad(f))(
        np.stack([A, A + np.diag([0, 1.0, 0])]))[0]), want, rtol=1e-6, atol=1e-6)
    T = randn(3, 3)
    T = T + T.T
    np.testing.assert_allclose(cr.jvp(f, (A,), (T,))[1], np.sum(want * T),
                               rtol=1e-6, atol=1e-6)


def test_eigh_reconstruction_at_a_repeated_zero_raises():
    # the gap that was left: V diag(w) V^T at a repeated eigenvalue 0 hands eigh a zero
    # eigenvector cotangent (the coupling is multiplied by the eigenvalue 0), the same
    # cotangent as a loss that does not use those eigenvectors, and the rule returned
    # a gradient without the coupling term. Every eigenvector cotangent at a tie raises
    # now, naming funm; funm is exact
    A = np.diag([0.0, 0.0, 5.0])
    C = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    for g in (lambda m, w: w, lambda m, w: m.sin(w), lambda m, w: w * m.exp(w)):
        f = _recon(cnp, lambda w: g(cnp, w), C)
        want = sym_grad(_recon(np, lambda w: g(np, w), C), A)
        assert abs(want[1, 0]) > 0.5                  # the coupling term is not small
        with pytest.raises(NotImplementedError, match="funm"):
            cr.grad(f)(A)
        with pytest.raises(NotImplementedError, match="funm"):
            cr.jit(cr.grad(f))(A)
        assert np.all(np.isnan(cr.vmap(cr.grad(f))(A[None])))
        fm = lambda a: cnp.sum(C * csl.funm(a, lambda w: g(cnp, w)))      # noqa: E731
        np.testing.assert_allclose(cr.grad(fm)(A), want, atol=1e-6)       # C symmetric
    # a cotangent of the other eigenvectors only raises too (it cannot be told apart):
    # scipy.linalg.eigh with subset_by_index is the exact way
    top = lambda a: cnp.sum(W9 * (lambda v: cnp.outer(v, v))(cnp.linalg.eigh(a)[1][:, 2]))
    with pytest.raises(NotImplementedError, match="subset_by_index"):
        cr.grad(top)(A)


def test_eigh_hessian_at_a_tie_is_nan_where_it_is_undetermined():
    # d^2 tr exp(A) couples the tied pair with exp''(1) = e; the rule cannot see it,
    # so those entries are NaN (they were 0); the others are exact. (Tangents enter as
    # their symmetric part, so E_01 and E_10 both reach the pair.) trace(expm(A)) has
    # the exact hessian there
    f = lambda a: cnp.sum(cnp.exp(cnp.linalg.eigvalsh(a)))      # noqa: E731
    H = cr.hessian(f)(np.eye(2)).reshape(4, 4)
    g = cr.grad(f)
    Hfd = np.array([((g(np.eye(2) + 1e-6 * E) - g(np.eye(2) - 1e-6 * E)) / 2e-6).ravel()
                    for E in np.eye(4).reshape(4, 2, 2)])
    known = ~np.isnan(H)
    assert np.all(np.isnan(H[:, 1:3])) and known.sum() == 8
    np.testing.assert_allclose(H[known], Hfd[known], atol=1e-6)
    He = cr.hessian(lambda a: cnp.trace(csl.expm(a)))(np.eye(2)).reshape(4, 4)
    np.testing.assert_allclose(He, np.e * np.eye(4)[[0, 2, 1, 3]], atol=1e-12)


def _svd_loss(mod, body):
    return lambda a: body(mod, *mod.linalg.svd(a, full_matrices=False))


Q2 = 2.0 * np.linalg.qr(randn(3, 3))[0]          # every singular value is 2
C33 = randn(3, 3)


def test_svd_repeated_singular_values():
    exact = {
        "sum s^2": lambda m, u, s, vh: m.sum(s ** 2),
        "svdvals": lambda m, u, s, vh: m.sum(m.sin(s)),
    }
    for name, body in exact.items():
        f, f_np = _svd_loss(cnp, body), _svd_loss(np, body)
        np.testing.assert_allclose(cr.grad(f)(Q2), num_grad(f_np, Q2), atol=1e-6,
                                   err_msg=name)
    # U diag(g(s)) Vh through the repeated singular vectors: undetermined, refused
    for body in (lambda m, u, s, vh: m.sum(C33 * ((u * s) @ vh)),
                 lambda m, u, s, vh: m.sum(((u * s) @ vh) ** 2)):
        f = _svd_loss(cnp, body)
        with pytest.raises(NotImplementedError, match="repeated singular value"):
            cr.grad(f)(Q2)
        with pytest.raises(NotImplementedError, match="repeated singular value"):
            cr.jit(cr.grad(f))(Q2)
        assert np.isnan(cr.jvp(f, (Q2,), (randn(3, 3),))[1])
        assert np.all(np.isnan(cr.vmap(cr.grad(f))(Q2[None])))


ZERO_SV = [np.diag([3.0, 0.0, 0.0]),                          # a pair of zeros
           np.array([[2.0, 0.0, 0.0], [0.0, 0.0, 0.0]]),      # a zero, not square
           np.array([[1.0, 0.0], [0.0, 0.0], [0.0, 0.0]])]


@pytest.mark.parametrize("A", ZERO_SV, ids=["square", "wide", "tall"])
def test_svd_reconstruction_at_zero_singular_values_raises(A):
    # the gap eigh had too: U diag(g(s)) Vh with g(0) = 0 gives the singular vectors of
    # the zero singular values a zero cotangent (it is multiplied by g(0)), the same as
    # a loss that does not use them, and the rule returned a gradient without the
    # g'(0) term. Every singular-vector cotangent there raises now; the same loss as
    # A @ funm(A.T @ A, h), h(x) = g(sqrt(x)) / sqrt(x), is exact
    C = np.ones(A.shape)
    for g, h in ((lambda m, s: s, lambda m, x: 1.0 + 0.0 * x),
                 (lambda m, s: s ** 3, lambda m, x: x),
                 (lambda m, s: s * m.exp(s * s), lambda m, x: m.exp(x))):
        f = _svd_loss(cnp, lambda m, u, s, vh: m.sum(C * ((u * g(m, s)) @ vh)))
        want = num_grad(_svd_loss(np, lambda m, u, s, vh: m.sum(C * ((u * g(np, s)) @ vh))),
                        A)
        with pytest.raises(NotImplementedError, match="funm"):
            cr.grad(f)(A)
        assert np.all(np.isnan(cr.vmap(cr.grad(f))(A[None])))
        fm = lambda a: cnp.sum(C * (a @ csl.funm(a.T @ a, lambda x: h(cnp, x))))  # noqa
        np.testing.assert_allclose(cr.grad(fm)(A), want, atol=1e-6)


def test_svd_polar_factor_at_repeated_singular_values():
    # the polar factor U Vh at repeated singular values: a loss through it gives svd's
    # singular vectors a cotangent there, which is refused (the rule cannot tell it
    # from U diag(g(s)) Vh with g vanishing there); A (A^T A)^(-1/2), through
    # fractional_matrix_power or funm, is exact
    u, s, vh = np.linalg.svd(Q2)
    M = randn(3, 3)
    C = u @ (M - M.T) @ vh
    body = lambda m, u, s, vh: m.sum(C * (u @ vh))               # noqa: E731
    f, f_np = _svd_loss(cnp, body), _svd_loss(np, body)
    want = num_grad(f_np, Q2)
    assert np.abs(want).max() > 0.1
    with pytest.raises(NotImplementedError, match="repeated singular value"):
        cr.grad(f)(Q2)
    polar = lambda a: cnp.sum(C * (a @ csl.fractional_matrix_power(a.T @ a, -0.5)))  # noqa
    np.testing.assert_allclose(cr.grad(polar)(Q2), want, atol=1e-6)
    polar = lambda a: cnp.sum(C * (a @ csl.funm(a.T @ a, lambda x: x ** -0.5)))  # noqa
    np.testing.assert_allclose(cr.grad(polar)(Q2), want, atol=1e-6)
