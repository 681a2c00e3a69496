"""linalg and fft beyond the op database: the JAX cookbook's complex Cholesky example,
eigh/svd at repeated eigen/singular values, norms at zero, hessians through the
solvers, errors, and cost rules."""
import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
import chainrule.scipy.linalg as csl
import scipy.linalg as sl
from chainrule.test_util import check_grads

LinAlgError = np.linalg.LinAlgError
RNG = np.random.default_rng(2024)


def randn(*shape):
    return RNG.standard_normal(shape)


def cplx(*shape):
    return randn(*shape) + 1j * randn(*shape)


def wc(n):
    return randn(n, n) + n * np.eye(n)


def num_jac(f, x, eps=1e-6):
    """Central-difference Jacobian of f (array -> array) at x, shape out + in."""
    x = np.asarray(x, float)
    cols = []
    for k in range(x.size):
        e = np.zeros(x.size)
        e[k] = eps
        e = e.reshape(x.shape)
        cols.append((np.asarray(f(x + e)) - np.asarray(f(x - e))) / (2 * eps))
    out = np.stack(cols, axis=-1)
    return out.reshape(np.shape(f(x)) + x.shape)


def herm(a):
    return 0.5 * (a + np.swapaxes(a, -1, -2).conj())


def sym_grad(f_np, A, eps=1e-6):
    """The symmetric gradient of NumPy's ``f_np`` at a symmetric ``A`` (the convention
    of cholesky/eigh: G with <G, E> = the derivative along every symmetric E), by
    central differences along E_ij + E_ji."""
    n = A.shape[0]
    G = np.zeros((n, n))
    for i in range(n):
        for j in range(i + 1):
            E = np.zeros((n, n))
            E[i, j] = E[j, i] = eps
            d = (f_np(A + E) - f_np(A - E)) / (2 * eps)
            G[i, j] = G[j, i] = d if i == j else d / 2
    return G


# ------------------------------------------------------------- the cookbook example

def _cookbook_f(X):
    L = cnp.linalg.cholesky(X)
    return cnp.sum((L - cnp.sin(L)) ** 2)


def _cookbook_np(X):
    L = np.linalg.cholesky(X)
    return np.sum((L - np.sin(L)) ** 2)


def test_cookbook_complex_cholesky_holomorphic_grad():
    A = cplx(4, 4)
    X = A @ A.conj().T
    g = cr.grad(_cookbook_f, holomorphic=True)(X)
    assert g.shape == (4, 4) and g.dtype == np.complex128 and np.all(np.isfinite(g))
    np.testing.assert_allclose(_cookbook_f(X), _cookbook_np(X))
    eps = 1e-6
    for _ in range(3):
        B = cplx(4, 4)
        T = B + B.conj().T                  # Hermitian-preserving direction
        out, t = cr.jvp(_cookbook_f, (X,), (T,))
        fd = (_cookbook_np(X + eps * T) - _cookbook_np(X - eps * T)) / (2 * eps)
        np.testing.assert_allclose(t, fd, rtol=1e-6, atol=1e-6)
        # the gradient is the transpose of the jvp under Re(sum(a * b)) (ct = 1)
        np.testing.assert_allclose(np.real(np.sum(g * T)), np.real(t), rtol=1e-9)
    # the gradient is Hermitian (JAX's convention); a generic (non-Hermitian) direction
    # counts through its Hermitian part, in both modes
    np.testing.assert_allclose(g, g.conj().T, atol=1e-12)
    T = cplx(4, 4)
    _, t = cr.jvp(_cookbook_f, (X,), (T,))
    np.testing.assert_allclose(t, cr.jvp(_cookbook_f, (X,), (herm(T),))[1], rtol=1e-12)
    np.testing.assert_allclose(np.real(np.sum(g * T)), np.real(t), rtol=1e-9)


def test_cookbook_complex_cholesky_matches_jax_printout():
    # the cookbook's matrix and the gradient JAX prints (complex64): chainrule's is the
    # same Hermitian matrix, with no symmetrising by hand
    A = np.array([[5., 2. + 3j, 5j], [2. - 3j, 7., 1. + 7j], [-5j, 1. - 7j, 12.]])
    jax_grad = np.array(
        [[-0.75342447 + 0.j, -3.0509021 - 10.940544j, 5.989684 + 3.5422976j],
         [-3.0509021 + 10.940544j, -8.904487 + 0.j, -5.1351547 - 6.5593696j],
         [5.989684 - 3.5422976j, -5.1351547 + 6.5593696j, 0.01320434 + 0.j]])
    g = cr.grad(_cookbook_f, holomorphic=True)(A)
    np.testing.assert_allclose(g, jax_grad, atol=2e-5)
    np.testing.assert_array_equal(g, g.conj().T)


def test_cookbook_complex_cholesky_check_grads():
    A = cplx(3, 3)
    X = A @ A.conj().T + np.eye(3)
    # along Hermitian directions (the gradient's convention): through the Hermitian part
    check_grads(lambda x: _cookbook_f(0.5 * (x + cnp.conj(x.T))), (X,), order=2)


def test_cholesky_real_gradient_matches_symmetric_formula():
    a = randn(3, 3)
    S = a @ a.T + 3 * np.eye(3)
    C = randn(3, 3)
    g = cr.grad(lambda s: cnp.sum(C * cnp.linalg.cholesky(s)))(S)
    # the gradient w.r.t. a symmetric argument, by finite differences along E_ij + E_ji
    fs = lambda s: np.sum(C * np.linalg.cholesky(s))   # noqa: E731
    np.testing.assert_allclose(g, sym_grad(fs, S), rtol=1e-6, atol=1e-8)
    np.testing.assert_array_equal(g, g.T)


# ------------------------------------------------------------- repeated eigenvalues

def _degenerate(ws, complex_=False):
    n = len(ws)
    q, _ = np.linalg.qr(cplx(n, n) if complex_ else randn(n, n))
    return (q * np.asarray(ws, float)) @ q.conj().T


DEGENERATE = [np.eye(3), np.diag([1.0, 1.0, 2.0]), _degenerate([1.0, 1.0, 1.0, 3.0]),
              _degenerate([-1.0, 2.0, 2.0])]


@pytest.mark.parametrize("A", DEGENERATE, ids=["eye", "diag", "rotated3", "rotated2"])
def test_eigh_repeated_sum_of_f_of_eigenvalues(A):
    # sum(f(w)) = tr f(A): gradient f'(A) (as a function of the lower triangle)
    for fn in (lambda a: cnp.sum(cnp.exp(cnp.linalg.eigvalsh(a))),
               lambda a: cnp.sum(cnp.linalg.eigh(a)[0] ** 2),
               lambda a: cnp.sum(cnp.sin(cnp.linalg.eigh(a, UPLO="U").eigenvalues))):
        g = cr.grad(fn)(A)
        assert np.all(np.isfinite(g))
    w, v = np.linalg.eigh(A)
    expm = (v * np.exp(w)) @ v.T
    g = cr.grad(lambda a: cnp.sum(cnp.exp(cnp.linalg.eigvalsh(a))))(A)
    np.testing.assert_allclose(g, expm, rtol=1e-10, atol=1e-10)
    g = cr.grad(lambda a: cnp.sum(cnp.linalg.eigh(a)[0] ** 2))(A)
    np.testing.assert_allclose(g, 2 * A, rtol=1e-10, atol=1e-10)
    check_grads(lambda a: cnp.sum(cnp.exp(cnp.linalg.eigvalsh(herm(a)))), (A,), order=1)
    # forward mode agrees
    T = randn(*A.shape)
    _, t = cr.jvp(lambda a: cnp.sum(cnp.exp(cnp.linalg.eigvalsh(a))), (A,), (T,))
    np.testing.assert_allclose(t, np.sum(expm * T), rtol=1e-9)


def test_eigh_repeated_projector_loss_matches_finite_differences():
    A = _degenerate([1.0, 1.0, 1.0, 3.0])
    C = randn(4, 4)

    def loss_np(a):
        w, v = np.linalg.eigh(a)
        return np.sum(C * (v[:, :3] @ v[:, :3].T)) + np.sum(np.cos(w))

    # the projector on the repeated eigenspace as I - v4 v4^T, with v4 from
    # scipy.linalg.eigh(subset_by_index=[3, 3]): the repeated eigenvalue is not selected
    def loss(a):
        v4 = csl.eigh(a, subset_by_index=[3, 3])[1]
        p = np.eye(4) - v4 @ v4.T
        return cnp.sum(C * p) + cnp.sum(cnp.cos(cnp.linalg.eigvalsh(a)))

    g = cr.grad(loss)(A)
    np.testing.assert_allclose(g, sym_grad(loss_np, A), rtol=1e-5, atol=1e-6)
    check_grads(lambda a: loss(herm(a)), (A,), order=1)
    # through numpy.linalg.eigh's eigenvectors it raises, as does every eigenvector
    # cotangent at a repeated eigenvalue (they are any basis of the eigenspace, and a
    # zero cotangent there may be a factor that vanishes: see test_silent_errors)
    for f in (lambda a: cnp.sum(C * (lambda v: v[:, :3] @ v[:, :3].T)(cnp.linalg.eigh(a)[1])),
              lambda a: cnp.sum(C * (np.eye(4) - (lambda v: v[:, 3:] @ v[:, 3:].T)(
                  cnp.linalg.eigh(a)[1])))):
        with pytest.raises(NotImplementedError, match="subset_by_index"):
            cr.grad(f)(A)


def test_eigh_repeated_complex_hermitian():
    A = _degenerate([0.5, 0.5, 2.0], complex_=True)
    f = lambda a: cnp.sum(cnp.exp(cnp.linalg.eigvalsh(a)))   # noqa: E731
    g = cr.grad(f)(A)
    assert np.all(np.isfinite(g))
    np.testing.assert_allclose(g, g.conj().T, atol=1e-12)
    check_grads(lambda a: f(herm(a)), (A,), order=1)


def test_eigh_exactly_repeated_with_eigenvector_cotangent_is_an_error():
    # V diag(g(w)) V^T at an exactly repeated eigenvalue: the exact derivative needs
    # g' there, which eigh's rules cannot see (see the prims/linalg docstring): reverse
    # mode raises, forward mode gives NaN (it was a finite, wrong value)
    for A in DEGENERATE[:2]:
        def loss(a):
            w, v = cnp.linalg.eigh(a)
            return cnp.sum((v * cnp.sin(w)) @ v.T)
        with pytest.raises(NotImplementedError, match="repeated eigenvalue"):
            cr.grad(loss)(A)
        _, t = cr.jvp(loss, (A,), (randn(3, 3),))
        assert np.isnan(t)


def test_eigh_reconstruction_distinct():
    # V diag(w) V^T == A: the (symmetric) gradient of sum(C * .) is sym(C)
    A = _degenerate([-1.0, 0.5, 2.0])
    C = randn(3, 3)
    g = cr.grad(lambda a: cnp.sum(C * ((lambda w, v: (v * w) @ v.T)(*cnp.linalg.eigh(a)))))(A)
    np.testing.assert_allclose(g, (C + C.T) / 2, rtol=1e-9, atol=1e-9)


def test_svd_repeated_singular_values():
    q, _ = np.linalg.qr(randn(3, 3))
    A = 2.0 * q                     # all singular values equal 2
    g = cr.grad(lambda a: cnp.sum(cnp.linalg.svd(a, compute_uv=False)))(A)
    np.testing.assert_allclose(g, q, rtol=1e-10, atol=1e-10)   # nuclear norm: U Vh
    g = cr.grad(lambda a: cnp.linalg.norm(a, "nuc"))(A)
    np.testing.assert_allclose(g, q, rtol=1e-10, atol=1e-10)

    def recon(a):
        u, s, vh = cnp.linalg.svd(a, full_matrices=False)
        return cnp.sum(((u * s) @ vh) ** 2)
    # the singular vectors of a repeated singular value have no derivative: their
    # cotangent is refused (the functions of the singular values above are exact)
    with pytest.raises(NotImplementedError, match="repeated singular value"):
        cr.grad(recon)(A)


def test_svd_rank_deficient_values_gradient():
    A = randn(4, 2) @ randn(2, 3)   # a zero singular value
    g = cr.grad(lambda a: cnp.sum(cnp.linalg.svd(a, full_matrices=False)[1][:2]))(A)
    assert np.all(np.isfinite(g))


# ------------------------------------------------------------- norms at zero

NORMS = [lambda x: cnp.linalg.norm(x), lambda x: cnp.linalg.norm(x, 2),
         lambda x: cnp.linalg.norm(x, 3), lambda x: cnp.linalg.norm(x, 1),
         lambda x: cnp.linalg.norm(x, np.inf),
         lambda x: cnp.linalg.norm(cnp.reshape(x, (2, 2)), "fro"),
         lambda x: cnp.sum(cnp.linalg.norm(cnp.reshape(x, (2, 2)), axis=0)),
         lambda x: cnp.linalg.norm(cnp.reshape(x, (2, 2)), keepdims=True)[0, 0],
         lambda x: cnp.linalg.vector_norm(x),
         lambda x: cnp.linalg.matrix_norm(cnp.reshape(x, (2, 2)))]


@pytest.mark.parametrize("k", range(len(NORMS)))
def test_norm_gradient_is_zero_at_zero(k):
    fn = NORMS[k]
    for x in (np.zeros(4), np.zeros(4, complex)):
        g = cr.grad(fn)(x)
        assert np.array_equal(g, np.zeros_like(x)), g
        _, t = cr.jvp(fn, (x,), (np.ones_like(x),))
        assert t == 0
    x = np.array([3.0, 0.0, -4.0, 0.0])
    if k in (0, 1, 5, 8, 9):
        np.testing.assert_allclose(cr.grad(fn)(x), x / 5.0)


def test_norm_hessian_away_from_zero():
    x = randn(4)
    h = cr.hessian(cnp.linalg.norm)(x)
    r = np.linalg.norm(x)
    np.testing.assert_allclose(h, (np.eye(4) - np.outer(x, x) / r ** 2) / r, rtol=1e-10)


# ------------------------------------------------------------- higher order

HIGHER = [
    ("inv", lambda a: cnp.sum(cnp.linalg.inv(a) ** 2)),
    ("solve", lambda a: cnp.sum(cnp.sin(cnp.linalg.solve(a, np.arange(3.0))))),
    ("det", cnp.linalg.det),
    ("slogdet", lambda a: cnp.linalg.slogdet(a)[1]),
    ("cholesky", lambda a: cnp.sum(cnp.linalg.cholesky(a @ a.T + 3 * np.eye(3)) ** 3)),
    ("eigh", lambda a: cnp.sum(cnp.linalg.eigvalsh(a + a.T) ** 3)),
    ("pinv", lambda a: cnp.sum(cnp.linalg.pinv(a) ** 2)),
    ("qr", lambda a: cnp.sum(cnp.linalg.qr(a)[1] ** 2 * np.arange(3.0))),
    ("svd", lambda a: cnp.sum(cnp.linalg.svd(a, compute_uv=False) ** 3)),
]


@pytest.mark.parametrize("name,f", HIGHER, ids=[h[0] for h in HIGHER])
def test_hessian_matches_finite_differences_of_grad(name, f):
    A = wc(3)
    H = cr.hessian(f)(A)
    g = cr.grad(f)
    np.testing.assert_allclose(H, num_jac(lambda a: g(a), A), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(H.reshape(9, 9), H.reshape(9, 9).T, rtol=1e-8, atol=1e-8)


def test_logdet_hessian_analytic():
    A = wc(3)
    H = cr.hessian(lambda a: cnp.linalg.slogdet(a)[1])(A)
    Ai = np.linalg.inv(A)
    np.testing.assert_allclose(H, -np.einsum("li,jk->ijkl", Ai, Ai), rtol=1e-10, atol=1e-12)


def test_third_order():
    A = wc(3)
    check_grads(cnp.linalg.det, (A,), order=3)
    check_grads(lambda a: cnp.linalg.inv(a)[0], (A,), order=3)


def test_slogdet_real_sign_has_zero_derivative():
    A = wc(3) - 6 * np.eye(3)
    g = cr.grad(lambda a: cnp.linalg.slogdet(a)[0])(A)
    assert np.array_equal(g, np.zeros((3, 3)))


def test_numpy_functions_dispatch_on_tracers():
    A = wc(3)
    g1 = cr.grad(lambda a: np.sum(np.linalg.inv(a)))(A)
    g2 = cr.grad(lambda a: cnp.sum(cnp.linalg.inv(a)))(A)
    np.testing.assert_allclose(g1, g2)
    g = cr.grad(lambda x: np.sum(np.fft.fft(x) * np.arange(4)).real)(randn(4))
    assert g.shape == (4,)


# ------------------------------------------------------------- errors

def _grad_sum(fn):
    return cr.grad(lambda a: cnp.sum(cnp.real(fn(a))))


def test_linalg_errors_inside_transformations():
    with pytest.raises(LinAlgError):
        _grad_sum(cnp.linalg.inv)(np.ones((2, 2)))            # singular
    with pytest.raises(LinAlgError):
        _grad_sum(cnp.linalg.inv)(randn(2, 3))                # not square
    with pytest.raises(LinAlgError):
        cr.grad(cnp.linalg.det)(randn(3))                       # 1-D
    with pytest.raises(ValueError):
        _grad_sum(lambda a: cnp.linalg.solve(a, np.ones(4)))(wc(3))
    with pytest.raises(ValueError):
        _grad_sum(lambda a: cnp.linalg.solve(a, np.ones((2, 4, 1))))(wc(3))
    with pytest.raises(LinAlgError):
        _grad_sum(cnp.linalg.cholesky)(-np.eye(3))              # not positive definite
    with pytest.raises(ValueError):
        _grad_sum(lambda a: cnp.linalg.eigh(a, UPLO="X")[0])(wc(3))
    with pytest.raises(ValueError):
        _grad_sum(lambda a: cnp.linalg.norm(a, "nuc"))(randn(3))
    with pytest.raises(ValueError):
        _grad_sum(lambda a: cnp.linalg.norm(a, "bad"))(randn(3, 3))
    with pytest.raises(ValueError):
        _grad_sum(lambda a: cnp.linalg.qr(a, mode="bad")[0])(randn(3, 3))


def test_not_implemented_derivatives_are_explicit():
    tall = randn(4, 3)
    # two or more extra columns of a full svd / complete qr are an arbitrary basis of
    # their span: a loss through the basis itself raises, naming the way out (one real
    # extra column is determined up to its sign)
    taller = randn(5, 3)
    with pytest.raises(NotImplementedError, match="full_matrices"):
        _grad_sum(lambda a: cnp.linalg.svd(a)[0])(taller)
    with pytest.raises(NotImplementedError, match="full_matrices"):
        _grad_sum(lambda a: cnp.linalg.svd(a)[2])(taller.T)
    with pytest.raises(NotImplementedError, match="complete"):
        _grad_sum(lambda a: cnp.linalg.qr(a, mode="complete")[0])(taller)
    check_grads(lambda a: cnp.linalg.svd(a)[0][:, 3:] * cnp.sign(cnp.linalg.svd(a)[0][0, 3]),
                (tall,), order=1)
    # ... the first columns, the values and the span are exact (full_matrices=True is
    # NumPy's default)
    g = _grad_sum(lambda a: cnp.linalg.svd(a)[1])(tall)
    u, s, vh = np.linalg.svd(tall, full_matrices=False)
    np.testing.assert_allclose(g, u @ vh, rtol=1e-10)

    def first_and_span(a):
        u, s, vh = cnp.linalg.svd(a)
        return u[:, :3] * cnp.sign(u[:1, :3]), s, u[:, 3:] @ u[:, 3:].T
    check_grads(first_and_span, (tall,), order=2)
    check_grads(lambda a: cnp.linalg.qr(a, mode="complete")[1], (tall,), order=2)
    with pytest.raises(NotImplementedError):
        _grad_sum(lambda a: cnp.linalg.qr(a, mode="raw")[0])(tall)
    check_grads(lambda a: cnp.linalg.qr(a, mode="complete")[1], (randn(2, 4),), order=1)


def test_fft_errors_inside_transformations():
    x = randn(4)
    with pytest.raises(ValueError, match="Invalid number of FFT data points"):
        _grad_sum(lambda a: cnp.fft.fft(a, n=0))(x)
    with pytest.raises(ValueError, match="Invalid norm value"):
        _grad_sum(lambda a: cnp.fft.fft(a, norm="bad"))(x)
    with pytest.raises(TypeError):
        cr.grad(lambda a: cnp.sum(cnp.abs(cnp.fft.rfft(a))))(cplx(4))
    with pytest.raises(np.exceptions.AxisError):
        _grad_sum(lambda a: cnp.fft.fft(a, axis=2))(x)
    with pytest.raises(ValueError, match="Shape and axes"):
        _grad_sum(lambda a: cnp.fft.fftn(a, s=(2, 2), axes=(0,)))(x)


# ------------------------------------------------------------- fft structure

def test_fft_jacobians_are_dft_matrices():
    n = 5
    x = randn(n) + 0j
    J = cr.jacfwd(cnp.fft.fft, holomorphic=True)(x)
    np.testing.assert_allclose(J, np.fft.fft(np.eye(n), axis=0), atol=1e-12)
    J = cr.jacrev(cnp.fft.ifft, holomorphic=True)(x)
    np.testing.assert_allclose(J, np.fft.ifft(np.eye(n), axis=0), atol=1e-12)
    xr = randn(6)
    J = cr.jacfwd(lambda a: cnp.fft.rfft(a, norm="ortho"))(xr)
    np.testing.assert_allclose(J, np.fft.rfft(np.eye(6), axis=0, norm="ortho"), atol=1e-12)


def test_irfft_transpose_weights():
    # <ct, irfft(t)> == <vjp(ct), t> for odd and even n and every norm
    for n in (6, 7):
        for norm in ("backward", "ortho", "forward"):
            t = cplx(n // 2 + 1)
            ct = randn(n)
            out, vjp_fun = cr.vjp(lambda a: cnp.fft.irfft(a, n=n, norm=norm), t)
            _, tout = cr.jvp(lambda a: cnp.fft.irfft(a, n=n, norm=norm), (t,), (t,))
            (ct_in,) = vjp_fun(ct)
            np.testing.assert_allclose(np.sum(ct * tout), np.real(np.sum(ct_in * t)),
                                       rtol=1e-12)


def test_fft_roundtrip_gradient():
    x = randn(3, 8)
    f = lambda a: cnp.sum(cnp.fft.irfft(cnp.fft.rfft(a)) ** 2)   # noqa: E731
    np.testing.assert_allclose(cr.grad(f)(x), 2 * x, rtol=1e-12)
    f = lambda a: cnp.sum(cnp.abs(cnp.fft.ifft2(cnp.fft.fft2(a))) ** 2)   # noqa: E731
    np.testing.assert_allclose(cr.grad(f)(x), 2 * x, rtol=1e-10)


def test_fftfreq_differentiable_in_d():
    g = cr.grad(lambda d: cnp.sum(cnp.fft.fftfreq(8, d)))(0.5)
    np.testing.assert_allclose(g, -np.sum(np.fft.fftfreq(8, 1.0)) / 0.25)


# ------------------------------------------------------------- costs

def test_cost_rules():
    A = wc(4)
    assert cr.make_graph(cnp.linalg.inv)(A).flops() == 64
    assert cr.make_graph(cnp.linalg.cholesky)(A @ A.T).flops() >= 64 // 3
    assert cr.make_graph(lambda a: cnp.linalg.solve(a, np.ones((4, 2))))(A).flops() == \
        2 * 64 // 3 + 2 * 16 * 2
    assert cr.make_graph(cnp.fft.fft)(np.ones(8) + 0j).flops() == 5 * 8 * 3
    for f in (cnp.linalg.det, lambda a: cnp.linalg.slogdet(a)[1], cnp.linalg.eigvalsh,
              lambda a: cnp.linalg.svd(a)[1], lambda a: cnp.linalg.qr(a)[1], cnp.linalg.pinv,
              cnp.linalg.matrix_rank):
        assert cr.make_graph(f)(A).flops() > 0


def test_lstsq_rank_deficient_matches_numpy_inside_transformation():
    a = randn(5, 2) @ randn(2, 3)
    b = randn(5)
    want = np.linalg.lstsq(a, b)
    got, _ = cr.vjp(lambda a_: cnp.linalg.lstsq(a_, b), a)
    np.testing.assert_allclose(got[0], want[0], atol=1e-10)
    assert got[1].shape == want[1].shape == (0,)
    assert int(got[2]) == int(want[2]) == 2
    np.testing.assert_allclose(got[3], want[3], atol=1e-10)


# ------------------------------------------------------------- pad (traced constants)

def test_pad_constant_values_list_with_traced_entries():
    """``constant_values`` given as (nested) lists holding traced values, or as a
    traced array, broadcasts to (ndim, 2) as NumPy's and is differentiable."""
    x = randn(2, 3)
    pw = ((1, 2), (0, 1))
    c0 = np.array([1.5, -2.0, 3.0])
    cases = [lambda c: c[0], lambda c: [c[0], c[1]], lambda c: [c[0], 5.0],
             lambda c: [[c[0], c[1]], [c[2], 7.0]], lambda c: [[c[0]], [c[1]]],
             lambda c: c[:2]]
    for cv in cases:
        f = lambda c: cnp.pad(x, pw, constant_values=cv(c))
        ref = lambda c: np.pad(x, pw, constant_values=np.array(cv(c)))
        np.testing.assert_allclose(cr.vjp(f, c0)[0], ref(c0))
        np.testing.assert_allclose(cr.jacfwd(f)(c0), num_jac(ref, c0), atol=1e-8)
        np.testing.assert_allclose(cr.jacrev(f)(c0), num_jac(ref, c0), atol=1e-8)
    with pytest.raises(ValueError):     # NumPy's broadcast error
        cr.jacfwd(lambda c: cnp.pad(x, pw, constant_values=[c[0], c[1], c[2]]))(c0)


# ------------------------------------------------------------- the peers' convention

def _peer_cases(m, lin):
    """Losses of a symmetric/Hermitian matrix through the functions whose gradient is
    Hermitian in chainrule, JAX and PyTorch (``m``: a numpy-like module, ``lin``: its
    scipy.linalg or None)."""
    rng = np.random.default_rng(31)
    C = rng.standard_normal((4, 4))
    cases = {
        "cholesky": lambda a: m.sum(C * m.linalg.cholesky(a)),
        "cholesky sin": lambda a: m.sum(m.sin(m.linalg.cholesky(a)) ** 2),
        "eigh": lambda a: (lambda w, v: m.sum(w ** 3) + m.sum(C * v * v))(*m.linalg.eigh(a)),
        "eigvalsh": lambda a: m.sum(m.exp(m.linalg.eigvalsh(a))),
        "svd hermitian": lambda a: m.sum(m.linalg.svd(a, hermitian=True,
                                                      compute_uv=False) ** 3),
        "pinv hermitian": lambda a: m.sum(C * m.linalg.pinv(a, hermitian=True)),
    }
    if lin is not None:
        cases["scipy cho_solve"] = lambda a: m.sum(C[:, 0] * lin.cho_solve(
            lin.cho_factor(a, lower=True), C[:, 1]))
    return cases


def _spd4():
    a = np.random.default_rng(30).standard_normal((4, 4))
    return a @ a.T + 4 * np.eye(4)


@pytest.mark.parametrize("name", sorted(_peer_cases(np, None)))
def test_hermitian_gradients_match_jax(name):
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    A = _spd4()
    g = cr.grad(_peer_cases(cnp, None)[name])(A)
    np.testing.assert_array_equal(g, g.T)
    want = np.asarray(jax.grad(_peer_cases(jnp, None)[name])(A))
    np.testing.assert_allclose(g, want, rtol=1e-9, atol=1e-10)


def test_complex_hermitian_cholesky_gradient_matches_jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    X = cplx(3, 3)
    X = X @ X.conj().T + 3 * np.eye(3)
    C = cplx(3, 3)
    for m_f in (lambda m: lambda a: m.real(m.sum(C * m.linalg.cholesky(a))),
                lambda m: lambda a: m.sum(m.abs(m.linalg.cholesky(a)) ** 2 * np.arange(9.0)
                                          .reshape(3, 3)),
                lambda m: lambda a: m.sum(m.linalg.eigvalsh(a) ** 3)):
        g = cr.grad(m_f(cnp))(X)
        np.testing.assert_allclose(g, g.conj().T, atol=1e-12)
        np.testing.assert_allclose(g, np.asarray(jax.grad(m_f(jnp))(X)), rtol=1e-9,
                                   atol=1e-10)


def test_cholesky_gradient_matches_autograd_and_eigh_its_symmetric_part():
    autograd = pytest.importorskip("autograd")
    anp = pytest.importorskip("autograd.numpy")
    A = _spd4()
    for name in ("cholesky", "cholesky sin"):
        g = cr.grad(_peer_cases(cnp, None)[name])(A)
        want = autograd.grad(_peer_cases(anp, None)[name])(A)
        np.testing.assert_allclose(g, want, rtol=1e-9, atol=1e-10)
    # autograd's eigh differentiates the triangle NumPy reads (chainrule's convention
    # before): the same linear functional on symmetric directions, so its symmetric
    # part is chainrule's gradient
    g = cr.grad(_peer_cases(cnp, None)["eigh"])(A)
    ag = autograd.grad(_peer_cases(anp, None)["eigh"])(A)
    np.testing.assert_array_equal(np.triu(ag, 1), 0)
    np.testing.assert_allclose(g, 0.5 * (ag + ag.T), rtol=1e-9, atol=1e-10)


def test_scipy_cho_factor_gradient_matches_jax_on_symmetric_directions():
    # jax.scipy.linalg.cho_factor differentiates the triangle it reads; chainrule's
    # gradient is the symmetric one: equal along every symmetric direction
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import jax.scipy.linalg as jsl
    A = _spd4()
    f = _peer_cases(cnp, csl)["scipy cho_solve"]
    g = cr.grad(f)(A)
    np.testing.assert_array_equal(g, g.T)
    gj = np.asarray(jax.grad(_peer_cases(jnp, jsl)["scipy cho_solve"])(A))
    for _ in range(3):
        E = randn(4, 4)
        E = E + E.T
        np.testing.assert_allclose(np.sum(g * E), np.sum(gj * E), rtol=1e-9)


def test_hermitian_convention_forward_mode_is_the_transpose():
    # a non-Hermitian tangent enters through its Hermitian part, in both modes: jvp is
    # the exact transpose of vjp for every direction
    A = _spd4()
    for name, f in _peer_cases(cnp, csl).items():
        g = cr.grad(f)(A)
        for _ in range(2):
            T = randn(4, 4)
            t = cr.jvp(f, (A,), (T,))[1]
            np.testing.assert_allclose(t, np.sum(g * T), rtol=1e-10, atol=1e-12,
                                       err_msg=name)
            np.testing.assert_allclose(t, cr.jvp(f, (A,), (herm(T),))[1], rtol=1e-10,
                                       atol=1e-12, err_msg=name)


# ------------------------------------------------------------- matrix functions

def test_funm_calls_the_function_where_it_is_called():
    # the rules use f(w) and f'(w) computed by funm itself: a lambda of a loop variable
    # that changed before the backward pass cannot change the derivative
    A = _degenerate([0.5, 0.5, 2.0])
    C = randn(3, 3)

    def loss(a):
        out = 0.0
        for k in (1.0, 2.0, 3.0):
            out = out + cnp.sum(C * csl.funm(a, lambda x: cnp.sin(k * x)))
        return out
    want = sum(sym_grad(lambda a: np.sum(C * sl.funm(a, lambda x: np.sin(k * x))), A)
               for k in (1.0, 2.0, 3.0))
    np.testing.assert_allclose(herm(cr.grad(loss)(A)), want, atol=1e-6)


def test_funm_second_order_and_errors():
    A = _degenerate([-1.0, 0.5, 2.0])            # distinct: exact to second order
    f = lambda a: cnp.sum(cnp.arange(9.0).reshape(3, 3) * csl.funm(a, cnp.exp))  # noqa
    # (along Hermitian directions: the second order evaluates the derivative at
    # perturbed matrices, which must stay Hermitian)
    check_grads(lambda a: f(0.5 * (a + a.T)), (A,), order=2)
    H = cr.hessian(f)(A).reshape(9, 9)
    He = cr.hessian(lambda a: cnp.sum(cnp.arange(9.0).reshape(3, 3) * csl.expm(a)))(A)
    for _ in range(3):          # along symmetric directions (the Hermitian convention)
        E1, E2 = (herm(randn(3, 3)).ravel() for _ in range(2))
        np.testing.assert_allclose(E1 @ H @ E2, E1 @ He.reshape(9, 9) @ E2, rtol=1e-6)
    np.testing.assert_allclose(H, H.T, rtol=1e-8, atol=1e-8)
    # at a repeated eigenvalue the first derivative is exact and the second is not
    # determined by eigh: NaN (forward over reverse) or an error (reverse over reverse)
    D = np.diag([1.0, 1.0, 2.0])
    np.testing.assert_allclose(cr.grad(f)(D), herm(cr.grad(
        lambda a: cnp.sum(cnp.arange(9.0).reshape(3, 3) * csl.expm(a)))(D)), atol=1e-12)
    H = cr.hessian(f)(D)
    assert np.isnan(H).any()
    # values: SciPy's; complex Hermitian input; a matrix that is not Hermitian raises
    Z = _degenerate([0.2, 0.2, 1.0], complex_=True)
    np.testing.assert_allclose(cr.vjp(lambda a: csl.funm(a, cnp.exp), Z)[0],
                               sl.expm(Z), atol=1e-12)
    check_grads(lambda a: cnp.real(cnp.sum(csl.funm(a, cnp.sin))), (Z,), order=1)
    with pytest.raises(NotImplementedError, match="not Hermitian"):
        cr.grad(lambda a: cnp.sum(csl.funm(a, cnp.exp)))(randn(3, 3))
    assert np.all(np.isnan(cr.vmap(cr.grad(lambda a: cnp.sum(csl.funm(a, cnp.exp))))(
        randn(1, 3, 3))))
    with pytest.raises(NotImplementedError, match="disp"):
        cr.grad(lambda a: cnp.sum(csl.funm(a, cnp.exp, disp=False)[0]))(A)


def test_scipy_eigh_subset_at_ties():
    # the leading eigenvectors of a rank-deficient covariance (repeated zeros below)
    X = randn(3, 6)
    S = X.T @ X                                  # rank 3: three zero eigenvalues
    C = randn(6, 2)

    def loss(m, lin):
        return lambda a: m.sum(C * m.abs(lin.eigh(a, subset_by_index=[4, 5])[1])) + \
            m.sum(lin.eigh(a, subset_by_index=[4, 5], eigvals_only=True) ** 2)
    g = cr.grad(loss(cnp, csl))(S)
    np.testing.assert_allclose(g, sym_grad(loss(np, sl), S), rtol=1e-5, atol=1e-6)
    # through numpy.linalg.eigh: refused (its repeated zeros)
    with pytest.raises(NotImplementedError, match="subset_by_index"):
        cr.grad(lambda a: cnp.sum(C * cnp.abs(cnp.linalg.eigh(a)[1][:, 4:])))(S)
    # a selected eigenvalue repeated outside the subset: refused
    with pytest.raises(NotImplementedError, match="subset_by_index"):
        cr.grad(lambda a: cnp.sum(csl.eigh(a, subset_by_index=[2, 5])[1] ** 3))(S)
    with pytest.raises(NotImplementedError, match="subset_by_index"):
        cr.grad(lambda a: cnp.sum(csl.eigh(a, subset_by_index=[2, 5])[0]))(S)
    with pytest.raises(NotImplementedError, match="b="):
        cr.grad(lambda a: cnp.sum(csl.eigh(a, np.eye(6))[0]))(S)
    with pytest.raises(ValueError):
        cr.grad(lambda a: cnp.sum(csl.eigh(a, subset_by_index=[4, 9])[0]))(S)
