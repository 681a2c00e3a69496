"""Regression tests from a hunt for silent wrong answers in the linear-algebra family
(generated programs against NumPy and central finite differences of the NumPy
program). Each test failed before its fix."""
import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from program_checks import fd_grad

RNG = np.random.default_rng(7)


def _fd(f, x, t, h=1e-6):
    return (f(x + h * t) - f(x - h * t)) / (2 * h)


def _fd_grad(f, x, h=1e-5):
    return fd_grad(f, x, h)


# ----------------------------------------------------------------- lstsq

@pytest.mark.parametrize("dt", [np.float32, np.complex64, np.float64, np.complex128])
@pytest.mark.parametrize("sa,sb", [((3, 0), (3,)), ((3, 0), (3, 2)), ((0, 3), (0,)),
                                   ((0, 0), (0, 2))])
def test_lstsq_empty_operands_match_numpy(dt, sa, sb):
    """An (M, 0) ``a`` has residuals |b|^2 (they were 0), and every output keeps
    NumPy's dtype (they were float64 for float32/complex64 input)."""
    a = np.zeros(sa, dt)
    b = (RNG.standard_normal(sb) + 1).astype(dt)
    want = np.linalg.lstsq(a, b)
    got, _ = cr.vjp(lambda b_: cnp.linalg.lstsq(a, b_), b)
    for x, y in zip(got, want):
        x, y = np.asarray(x), np.asarray(y)
        assert x.dtype == y.dtype and x.shape == y.shape
        np.testing.assert_allclose(x, y, rtol=1e-6)


def test_lstsq_empty_a_residual_gradient():
    a, b = np.zeros((3, 0)), np.array([1.0, -2.0, 0.5])
    g = cr.grad(lambda b_: cnp.sum(cnp.linalg.lstsq(a, b_)[1]))(b)
    np.testing.assert_allclose(g, 2 * b)


@pytest.mark.parametrize("dt", [np.float32, np.complex64])
def test_lstsq_residual_dtype_single_precision(dt):
    a = np.ones((3, 2), dt)            # rank-deficient: empty residuals
    b = np.ones(3, dt)
    got, _ = cr.vjp(lambda b_: cnp.linalg.lstsq(a, b_), b)
    assert np.asarray(got[1]).dtype == np.linalg.lstsq(a, b)[1].dtype == np.float32


# ----------------------------------------------------------------- qr

def _qr_loss(mod, shape, which):
    w = np.arange(1.0, 1.0 + np.prod(shape)).reshape(shape) / 7.0

    def f(a):
        return mod.sum(mod.linalg.qr(a)[which] * w)
    return f


@pytest.mark.parametrize("which", [0, 1])
@pytest.mark.parametrize("a", [
    np.array([[1.0, 2, 3], [4, 5, 6], [7, 8, 9]]),       # singular in its last column only
    np.array([[1.0, 2, 3], [2, 4, 7]]),                   # wide: X singular in its last column
])
def test_qr_real_square_singular_last_column_is_exact(a, which):
    """Q and R of a real square matrix are smooth where only R's last diagonal entry
    vanishes; the rule divided by that entry (Q's gradient was off by O(1))."""
    shape = np.linalg.qr(a)[which].shape
    g = cr.grad(_qr_loss(cnp, shape, which))(a)
    np.testing.assert_allclose(g, _fd_grad(_qr_loss(np, shape, which), a), atol=1e-6)
    t = RNG.standard_normal(a.shape)
    _, jt = cr.jvp(_qr_loss(cnp, shape, which), (a,), (t,))
    np.testing.assert_allclose(jt, _fd(_qr_loss(np, shape, which), a, t), atol=1e-6)


@pytest.mark.parametrize("a", [
    np.outer([1.0, 2, 3], [1, -1, 2]),                      # rank 1, square
    np.outer([1.0, 2, 3, 4], [1, -1, 2]),                   # rank 1, tall
    np.array([[1.0, 2], [2, 4], [0, 0]]) @ np.array([[1.0, 0, 1], [0, 1, 1]]),
    np.array([[0.0, 1], [0, 1]]),                           # zero first column
    np.outer([1.0 + 1j, 2, 1j], [1, 1j, 2]) + np.diag([0, 0, 0.0]),   # complex rank 1
])
def test_qr_rank_deficient_refuses(a):
    """Where Q has no derivative (rank-deficient leading columns) the rule returned
    numbers of size 1e16 or O(1) wrong ones; now reverse mode raises, forward mode
    gives NaN, vmap NaN."""
    loss = lambda x: cnp.sum(cnp.real(cnp.linalg.qr(x)[0]))
    with pytest.raises(NotImplementedError, match="rank-deficient"):
        cr.grad(loss)(a)
    t = RNG.standard_normal(a.shape)
    _, jt = cr.jvp(loss, (a,), (t.astype(a.dtype),))
    assert np.isnan(jt)
    g = cr.vmap(cr.grad(loss))(np.stack([a, a]))
    assert np.isnan(g).all()


def test_qr_regular_matrix_still_exact_next_to_a_degenerate_one():
    a = RNG.standard_normal((3, 3))
    stack = np.stack([a, np.outer([1.0, 2, 3], [1, -1, 2])])
    loss = lambda x: cnp.sum(cnp.linalg.qr(x)[0] * np.arange(9.0).reshape(3, 3))
    g = cr.vmap(cr.grad(loss))(stack)
    np.testing.assert_allclose(g[0], cr.grad(loss)(a))
    np.testing.assert_allclose(g[0], _fd_grad(lambda x: np.sum(np.linalg.qr(x)[0] * np.arange(9.0).reshape(3, 3)), a), atol=1e-6)
    assert np.isnan(g[1]).all()


# ----------------------------------------------------------------- svd

def _rank_deficient(m, n, r, cplx):
    x, y = RNG.standard_normal((m, r)), RNG.standard_normal((r, n))
    if cplx:
        x, y = x + 1j * RNG.standard_normal((m, r)), y + 1j * RNG.standard_normal((r, n))
    return x @ y


@pytest.mark.parametrize("m,n,cplx,which", [(4, 3, False, 0), (3, 4, False, 2),
                                            (4, 3, True, 0), (3, 4, True, 2),
                                            (3, 3, True, 0)])
def test_svd_singular_value_zero_up_to_rounding_refuses(m, n, cplx, which):
    """A singular value that is zero only up to rounding (1e-16, as a rank-deficient
    product gives) was divided by: the gradient of a loss through |U|^2 was 1e15 (tall,
    wide) or O(1) wrong (the phase of a complex u_k). It now counts as a zero, as an
    exact one did: reverse mode raises, forward mode NaN."""
    a = _rank_deficient(m, n, 2, cplx)
    assert np.linalg.svd(a, compute_uv=False)[-1] < 1e-13
    w = RNG.standard_normal(np.linalg.svd(a, full_matrices=False)[which].shape)

    def loss(x):
        return cnp.sum(w * cnp.abs(cnp.linalg.svd(x, full_matrices=False)[which]) ** 2)
    with pytest.raises(NotImplementedError, match="svd"):
        cr.grad(loss)(a)
    t = RNG.standard_normal(a.shape) + (1j * RNG.standard_normal(a.shape) if cplx else 0)
    assert np.isnan(cr.jvp(loss, (a,), (t,))[1])


def test_svd_real_square_rank_deficient_vectors_still_exact():
    a = _rank_deficient(3, 3, 2, False)
    w = RNG.standard_normal((3, 3))

    def loss(mod):
        return lambda x: mod.sum(w * mod.abs(mod.linalg.svd(x)[0]) ** 2)
    g = cr.grad(loss(cnp))(a)
    np.testing.assert_allclose(g, _fd_grad(loss(np), a, 1e-6), atol=1e-5)


# ----------------------------------------------------------------- det

_SINGULAR = [np.zeros((3, 3)), np.outer([1.0, 2, 3], [1, -1, 2]),
             np.array([[1.0, 2, 3], [4, 5, 6], [7, 8, 9]]), np.array([[0.0, 1], [0, 0]]),
             np.zeros((1, 1)), np.diag([1.0, 0, 2, 3])]


@pytest.mark.parametrize("a", _SINGULAR, ids=range(len(_SINGULAR)))
def test_det_derivatives_at_singular_matrices_are_the_cofactors(a):
    """det's derivative at an exactly singular matrix is the adjugate's transpose; it
    raised LinAlgError (inv of a singular matrix). Second order too."""
    g = cr.grad(cnp.linalg.det)(a)
    np.testing.assert_allclose(g, _fd_grad(np.linalg.det, a), atol=1e-7)
    t = RNG.standard_normal(a.shape)
    np.testing.assert_allclose(cr.jvp(cnp.linalg.det, (a,), (t,))[1],
                               _fd(np.linalg.det, a, t), atol=1e-7)
    h = cr.hessian(cnp.linalg.det)(a)
    hfd = np.stack([_fd_grad(lambda x: np.asarray(cr.grad(cnp.linalg.det)(x))[i], a)
                    for i in np.ndindex(a.shape)]).reshape(a.shape * 2)
    np.testing.assert_allclose(h, hfd, atol=1e-6)


def test_det_singular_complex_jit_and_repeated_grads():
    a = RNG.standard_normal((3, 3)) + 1j * RNG.standard_normal((3, 3))
    a[2] = a[0] + 2 * a[1]
    assert np.linalg.det(a) == 0 or abs(np.linalg.det(a)) < 1e-14
    w = 0.3 - 0.7j
    f_c = lambda x: cnp.real(cnp.linalg.det(x) * w)
    f_n = lambda x: np.real(np.linalg.det(x) * w)
    t = RNG.standard_normal(a.shape) + 1j * RNG.standard_normal(a.shape)
    g = cr.grad(f_c)(a)
    np.testing.assert_allclose(np.real(np.sum(g * t)), _fd(f_n, a, t), atol=1e-7)
    jg = cr.jit(cr.grad(cnp.linalg.det))
    gf = cr.grad(lambda x: 2.0 * cnp.linalg.det(x))
    for k in range(12):             # jit's guard and the compiled backward passes
        x = RNG.standard_normal((3, 3))
        if k % 2:
            x[2] = 0.0 if k % 3 else x[0]
        np.testing.assert_allclose(jg(x), _fd_grad(np.linalg.det, x), atol=1e-7)
        np.testing.assert_allclose(gf(x), 2 * _fd_grad(np.linalg.det, x), atol=1e-7)


def test_det_singular_under_vmap_raises():
    # one singular example of two: an error naming it (a LinAlgError for the whole batch
    # would send every example through a try/except LinAlgError in the function)
    from chainrule._src.interpreters.batching import ConcretizationError
    with pytest.raises(ConcretizationError, match="LinAlgError.*example"):
        cr.vmap(cr.grad(cnp.linalg.det))(np.stack([np.zeros((2, 2)), np.eye(2)]))
    with pytest.raises(np.linalg.LinAlgError):          # every example: NumPy's error
        cr.vmap(cr.grad(cnp.linalg.det))(np.zeros((2, 2, 2)))


# ----------------------------------------------------------------- scipy.linalg dtypes

def _sp_cases():
    import scipy.linalg as sl
    import chainrule.scipy.linalg as cla
    b = np.ones((3, 2))
    return [
        ("lu", cla.lu, sl.lu),
        ("lu-permute_l", lambda x: cla.lu(x, permute_l=True), lambda x: sl.lu(x, permute_l=True)),
        ("cho_factor", cla.cho_factor, sl.cho_factor),
        ("cho_solve", lambda x: cla.cho_solve(cla.cho_factor(x), b.astype(x.dtype)),
         lambda x: sl.cho_solve(sl.cho_factor(x), b.astype(x.dtype))),
        ("solve-pos", lambda x: cla.solve(x, b.astype(x.dtype), assume_a="pos"),
         lambda x: sl.solve(x, b.astype(x.dtype), assume_a="pos")),
        ("det", cla.det, sl.det),
        ("expm_frechet", lambda x: cla.expm_frechet(x, x), lambda x: sl.expm_frechet(x, x)),
        ("expm_frechet-only", lambda x: cla.expm_frechet(x, x, compute_expm=False),
         lambda x: sl.expm_frechet(x, x, compute_expm=False)),
    ]


@pytest.mark.parametrize("dt", [np.float32, np.complex64])
@pytest.mark.parametrize("k", range(8))
def test_scipy_linalg_single_precision_dtypes_match_scipy(dt, k):
    """Inside transformations float64 masks promoted float32 factors (lu, cho_factor,
    cho_solve, solve(assume_a='pos')), and det/expm_frechet kept float32 where SciPy
    returns float64."""
    name, fc, fs = _sp_cases()[k]
    a = np.eye(3) * 2 + 0.1 * np.arange(9.0).reshape(3, 3)
    a = ((a + a.T) / 2 + 3 * np.eye(3)).astype(dt)
    want = fs(a)
    got, _ = cr.vjp(fc, a)
    want = want if isinstance(want, tuple) else (want,)
    got = got if isinstance(got, tuple) else (got,)
    for x, y in zip(got, want):
        x, y = np.asarray(x), np.asarray(y)
        assert x.dtype == y.dtype, (name, x.dtype, y.dtype)
        np.testing.assert_allclose(x, y, rtol=1e-4, atol=1e-5)


def test_scipy_eigh_float32_eigenvector_derivative():
    """scipy.linalg.eigh pairs SciPy's eigenvalues with NumPy's by value; in float32 the
    two drivers differ by ~1e-7, above the float64 rounding level the pairing used, so
    an eigenvalue was not paired with itself and its vector's tangent was 1/6e-8
    (3.8e6 for a true -0.029). The rounding level now follows the dtype."""
    import scipy.linalg as sl
    import chainrule.scipy.linalg as cla
    a = np.array([[0.8592677, -0.21707603], [-0.21707603, -0.57652897]], np.float32)
    t = np.array([[0.3, 0.2], [0.2, -0.4]], np.float32)
    for i in range(2):
        for j in range(2):
            f = lambda x: cla.eigh(x)[1][i, j] * 1.0
            want = _fd(lambda x: sl.eigh(x)[1][i, j], a.astype(np.float64), t)
            np.testing.assert_allclose(cr.jvp(f, (a,), (t,))[1], want, rtol=1e-4, atol=1e-6)
            np.testing.assert_allclose(np.sum(cr.grad(f)(a) * t), want, rtol=1e-4, atol=1e-6)


def test_eig_of_an_empty_matrix_has_empty_derivatives():
    """grad/jacfwd through eig of a (0, 0) matrix (and a stack of them) are empty, not
    'argmax of an empty sequence'."""
    loss = lambda a: cnp.sum(cnp.abs(cnp.linalg.eig(a)[1])) + \
        cnp.sum(cnp.real(cnp.linalg.eig(a)[0]))                  # noqa: E731
    for shape in [(0, 0), (3, 0, 0)]:
        a = np.zeros(shape)
        assert cr.grad(loss)(a).shape == shape
        assert cr.jit(cr.grad(loss))(a).shape == shape
    assert cr.jacfwd(lambda a: cnp.real(cnp.linalg.eig(a)[1]))(np.zeros((0, 0))).shape \
        == (0, 0, 0, 0)
