"""Rows for chainrule.numpy.linalg.

Samples live in the smooth domain: well-conditioned matrices for inv/solve/det,
SPD/HPD matrices for cholesky, distinct eigen/singular values for eigh/svd. Outputs
with a sign/phase gauge (eigenvectors, singular vectors) go through gauge-invariant
row functions (|v|^2 elementwise) so finite differences are meaningful.
"""
import numpy as np

import chainrule.numpy as cnp
from . import Row, S, randn, cplx, spd

# rows added after the first ones draw from a generator of their own, so that the
# shared stream (and every later row's samples) stays what it was
_OWN = np.random.default_rng(2026)


def _rn(*shape):
    return _OWN.standard_normal(shape)


def _cx(*shape):
    return _rn(*shape) + 1j * _rn(*shape)


def wc(n, batch=()):
    """Well-conditioned (diagonally shifted) random matrices."""
    return randn(*(batch + (n, n))) + n * np.eye(n)


def wcc(n, batch=()):
    return cplx(*(batch + (n, n))) + n * np.eye(n)


def hpd(n):
    a = cplx(n, n)
    return a @ a.conj().T + n * np.eye(n)


def sym(n, batch=()):
    """Symmetric with well-separated eigenvalues."""
    q, _ = np.linalg.qr(randn(*(batch + (n, n))))
    w = np.arange(1.0, n + 1) * 1.5 - 2.0
    return (q * w[..., None, :]) @ np.swapaxes(q, -1, -2)


def herm(n):
    q, _ = np.linalg.qr(cplx(n, n))
    w = np.arange(1.0, n + 1) * 1.5 - 2.0
    return (q * w) @ q.conj().T


def hermitian_input(mod, fn, when=None, arg=0):
    """``fn`` with its argument ``arg`` replaced by its Hermitian part (when ``when(kwargs)``
    holds): functions of a Hermitian matrix (cholesky, eigh, ``hermitian=True``) give
    Hermitian gradients, the derivative along the Hermitian part of a tangent (the
    convention of JAX and PyTorch, ``prims/linalg.py``), so their derivatives are
    compared with finite differences of NumPy's program along Hermitian directions."""
    def f(*args, **kwargs):
        if when is None or when(kwargs):
            args = list(args)
            a = args[arg]
            args[arg] = 0.5 * (a + mod.conj(mod.swapaxes(a, -1, -2)))
        return fn(*args, **kwargs)
    return f


def _gauge(v):
    """|v|^2 elementwise: invariant to the sign/phase of each singular/eigen-vector."""
    return (v * v.conj()).real


def _eigh_row(mod):
    def f(a, UPLO="L"):
        w, v = mod.linalg.eigh(a, UPLO=UPLO)
        return w, _gauge(v)
    return f


def _svd_row(mod):
    def f(a, full_matrices=False, hermitian=False):
        u, s, vh = mod.linalg.svd(a, full_matrices=full_matrices, hermitian=hermitian)
        return _gauge(u), s, _gauge(vh)
    return f


def _svd_full_row(mod):
    """full_matrices=True of a non-square matrix: the first columns (up to their sign or
    phase) and the span of the extra ones (their projector)."""
    def f(a):
        u, s, vh = mod.linalg.svd(a)
        k = min(a.shape[-2:])
        up, vp = u[..., :, k:], vh[..., k:, :]
        return (_gauge(u[..., :, :k]), s, _gauge(vh[..., :k, :]),
                up @ mod.swapaxes(up.conj(), -1, -2), mod.swapaxes(vp.conj(), -1, -2) @ vp)
    return f


def _qr_complete_row(mod):
    def f(a):
        q, r = mod.linalg.qr(a, mode="complete")
        n = a.shape[-1]
        return q[..., :, :n], r, q[..., :, n:] @ mod.swapaxes(q[..., :, n:].conj(), -1, -2)
    return f


def _degenerate():
    q, _ = np.linalg.qr(randn(4, 4))
    return (q * np.array([1.0, 1.0, 1.0, 3.0])) @ q.T


def _eigh_degenerate(mod):
    """At a repeated eigenvalue: depends on w through a symmetric function (the
    eigenvectors of numpy.linalg.eigh at a repeated eigenvalue have no derivative, and
    every cotangent of them raises there: see tests/test_silent_errors.py; the row
    scipy.linalg.eigh[degenerate] has the projector of the other eigenvalue)."""
    def f(a):
        w, v = mod.linalg.eigh(a)
        return mod.sum(mod.sin(w)), mod.sum(mod.exp(mod.linalg.eigvalsh(a)))
    return f


def _eig_row(mod):
    """w and V with each column's sign fixed by its largest component: for a real matrix
    LAPACK leaves that sign to its intermediate results, and it can flip within a
    finite-difference step (eig's derivative holds it). The phase rule (largest
    component real) is NumPy's own, so complex eigenvectors are compared as they are."""
    def f(a):
        w, v = mod.linalg.eig(a)
        k = mod.argmax(mod.abs(v), axis=-2)[..., None, :]
        return w, v * mod.sign(mod.take_along_axis(v, k, axis=-2).real)
    return f


def _HERMITIAN(kwargs):
    return kwargs.get("hermitian", False)


_A, _Ab, _Ac = wc(3), wc(3, (2,)), wcc(3)
_Eig = _rn(4, 4)                                             # two complex eigenvalues
_EigR = np.triu(_rn(3, 3)) + np.diag([1.0, 2.0, 3.0]) + 0.1 * _rn(3, 3)     # real ones
# NumPy's eigenvalues of a real matrix are real where every one is (a dtype decided by
# the values): vmapped, each example could decide differently, so they are complex
_EIG_VMAP = "NumPy's dtype depends on the values; under vmap complex (linalg.eig)"
_Neg = wc(3) - 6 * np.eye(3)      # det < 0 for slogdet's sign

ROWS = [
    Row("linalg.inv", cnp.linalg.inv, np.linalg.inv, [S(_A), S(_Ab), S(_Ac)]),
    Row("linalg.solve", cnp.linalg.solve, np.linalg.solve,
        [S(_A, randn(3)), S(_A, randn(3, 2)), S(_Ab, randn(2, 3, 2)),
         S(_A, randn(2, 3, 2)), S(_Ab, randn(3)), S(_Ac, cplx(3, 2)),
         S(_A, cplx(3))]),
    Row("linalg.det", cnp.linalg.det, np.linalg.det, [S(_A), S(_Ab), S(_Ac), S(_Neg)]),
    Row("linalg.slogdet", cnp.linalg.slogdet, np.linalg.slogdet,
        [S(_A), S(_Neg), S(_Ab), S(_Ac)]),
    Row("linalg.cholesky", hermitian_input(cnp, cnp.linalg.cholesky),
        hermitian_input(np, np.linalg.cholesky),
        [S(spd(3)), S(spd(3, (2,))), S(spd(3), upper=True), S(hpd(3)),
         S(hpd(3), upper=True)]),
    Row("linalg.eigh", hermitian_input(cnp, _eigh_row(cnp)), hermitian_input(np, _eigh_row(np)),
        [S(sym(3)), S(sym(3), UPLO="U"), S(sym(3, (2,))), S(herm(3)),
         S(herm(3), UPLO="U")]),
    # order 1: the second derivative at an exactly repeated eigenvalue needs the
    # divided differences inside the degenerate block, which no eigh rule sees (NaN)
    Row("linalg.eigh[degenerate]", hermitian_input(cnp, _eigh_degenerate(cnp)),
        hermitian_input(np, _eigh_degenerate(np)),
        [S(_degenerate())], order=1),
    # eig: the derivatives are those of the arrays NumPy returns (unit norm, largest
    # component real), so the eigenvectors are compared with finite differences as they
    # are, up to their sign
    Row("linalg.eig", _eig_row(cnp), _eig_row(np),
        [S(_Eig), S(_EigR), S(_Ac), S(np.stack([_EigR, _EigR.T + 0.1])),
         S(_cx(2, 2) + 2 * np.eye(2))], dtype_differs={"vmap": _EIG_VMAP}),
    Row("linalg.eigvals", cnp.linalg.eigvals, np.linalg.eigvals, [S(_Eig), S(_EigR), S(_Ac)],
        dtype_differs={"vmap": _EIG_VMAP}),
    Row("linalg.eigvalsh", hermitian_input(cnp, cnp.linalg.eigvalsh),
        hermitian_input(np, np.linalg.eigvalsh),
        [S(sym(3)), S(herm(3), UPLO="U"), S(sym(3, (2,)))]),
    Row("linalg.svd", hermitian_input(cnp, _svd_row(cnp), _HERMITIAN),
        hermitian_input(np, _svd_row(np), _HERMITIAN),
        [S(randn(4, 3)), S(randn(3, 4)), S(randn(3, 3)), S(randn(3, 3), full_matrices=True),
         S(randn(2, 4, 3)), S(cplx(3, 2)), S(cplx(2, 3)), S(cplx(3, 3)),
         S(sym(3), hermitian=True), S(herm(3), hermitian=True)]),
    Row("linalg.svd[full_matrices]", _svd_full_row(cnp), _svd_full_row(np),
        [S(_rn(5, 3)), S(_rn(2, 5)), S(_cx(4, 2)), S(_rn(2, 3, 5))]),
    Row("linalg.svd[values]", lambda a: cnp.linalg.svd(a, compute_uv=False),
        lambda a: np.linalg.svd(a, compute_uv=False),
        [S(randn(4, 3)), S(randn(3, 5)), S(cplx(3, 3))]),
    Row("linalg.svdvals", cnp.linalg.svdvals, np.linalg.svdvals, [S(randn(3, 4))]),
    Row("linalg.qr", cnp.linalg.qr, np.linalg.qr,
        [S(randn(4, 3) + 2 * np.eye(4, 3)), S(randn(3, 3)), S(randn(3, 4)), S(randn(2, 4, 3)),
         S(cplx(3, 3)), S(cplx(2, 3)), S(cplx(4, 2)), S(randn(4, 3), mode="r"),
         S(randn(3, 4), mode="complete")]),
    Row("linalg.qr[complete]", _qr_complete_row(cnp), _qr_complete_row(np),
        [S(_rn(5, 3)), S(_cx(4, 2)), S(_rn(2, 4, 2))]),
    Row("linalg.pinv", hermitian_input(cnp, cnp.linalg.pinv, _HERMITIAN),
        hermitian_input(np, np.linalg.pinv, _HERMITIAN),
        [S(randn(4, 3)), S(randn(3, 4)), S(_A), S(cplx(3, 2)), S(randn(2, 3, 4)),
         S(sym(3), hermitian=True), S(herm(3), hermitian=True)]),
    Row("linalg.matrix_power", cnp.linalg.matrix_power, np.linalg.matrix_power,
        [S(_A, 0), S(_A, 1), S(_A / 3, 2), S(_A / 3, 3), S(_A / 3, 5), S(_A, -1),
         S(_A, -2), S(_Ab / 3, 4), S(_Ac / 3, 3)]),
    Row("linalg.lstsq", lambda a, b: cnp.linalg.lstsq(a, b), lambda a, b: np.linalg.lstsq(a, b),
        [S(randn(5, 3), randn(5)), S(randn(5, 3), randn(5, 2)), S(_A, randn(3)),
         S(randn(3, 5), randn(3)), S(cplx(4, 2), cplx(4))]),
    Row("linalg.norm", cnp.linalg.norm, np.linalg.norm,
        [S(randn(5)), S(randn(3, 4)), S(randn(2, 3, 4)), S(cplx(4)), S(randn(5), 1),
         S(randn(5), ord=np.inf), S(randn(5), ord=-np.inf), S(randn(5), 3), S(randn(5), 0),
         S(randn(3, 4), "fro"), S(randn(3, 4), "nuc"), S(randn(3, 4), 2), S(randn(3, 4), -2),
         S(randn(3, 4), 1), S(randn(3, 4), -1), S(randn(3, 4), ord=np.inf),
         S(randn(3, 4), ord=-np.inf), S(randn(3, 4), axis=1), S(randn(3, 4), 3, axis=0),
         S(randn(2, 3, 4), axis=(0, 2)), S(randn(2, 3, 4), "nuc", axis=(2, 1)),
         S(randn(3, 4), keepdims=True), S(randn(2, 3, 4), 1, axis=(0, 1), keepdims=True),
         S(randn(3, 4), 2, axis=-1, keepdims=True), S(cplx(3, 3), "nuc")]),
    Row("linalg.vector_norm", cnp.linalg.vector_norm, np.linalg.vector_norm,
        [S(randn(2, 3, 4)), S(randn(2, 3, 4), axis=(0, 2)), S(randn(2, 3), axis=1, ord=1),
         S(randn(2, 3), keepdims=True, ord=np.inf)]),
    Row("linalg.matrix_norm", cnp.linalg.matrix_norm, np.linalg.matrix_norm,
        [S(randn(2, 3, 4)), S(randn(3, 4), ord=2), S(randn(3, 3), ord="nuc", keepdims=True)]),
    Row("linalg.cond", cnp.linalg.cond, np.linalg.cond,
        [S(_A), S(randn(3, 4)), S(_A, -2), S(_A, "fro"), S(_A, 1), S(_A, p=np.inf), S(_Ab)]),
    Row("linalg.matrix_rank", cnp.linalg.matrix_rank, np.linalg.matrix_rank,
        [S(randn(3, 4)), S(randn(4, 2) @ randn(2, 4)), S(randn(2, 3, 3))], grad=False),
    Row("linalg.multi_dot", cnp.linalg.multi_dot, np.linalg.multi_dot,
        [S([randn(2, 3), randn(3, 4)]), S([randn(2, 3), randn(3, 4), randn(4, 2)]),
         S([randn(3), randn(3, 4), randn(4, 5), randn(5)]),
         S([randn(5, 3), randn(3, 4), randn(4, 1), randn(1, 2)])]),
    Row("linalg.tensorinv", cnp.linalg.tensorinv, np.linalg.tensorinv,
        [S(wc(6).reshape(2, 3, 6)), S(wc(6).reshape(6, 2, 3), ind=1)]),
    Row("linalg.tensorsolve", cnp.linalg.tensorsolve, np.linalg.tensorsolve,
        [S(wc(6).reshape(2, 3, 6), randn(2, 3)),
         S(wc(6).reshape(2, 3, 2, 3), randn(2, 3), axes=(0,))]),
    Row("linalg.matrix_transpose", cnp.linalg.matrix_transpose, np.linalg.matrix_transpose,
        [S(randn(2, 3, 4))]),
    Row("linalg.trace", cnp.linalg.trace, np.linalg.trace,
        [S(randn(3, 4)), S(randn(2, 3, 4), offset=1), S(randn(3, 4), offset=-2),
         S(cplx(3, 3))]),
    Row("linalg.diagonal", cnp.linalg.diagonal, np.linalg.diagonal,
        [S(randn(3, 4)), S(randn(2, 3, 4), offset=2), S(randn(4, 3), offset=-1)]),
    Row("linalg.outer", cnp.linalg.outer, np.linalg.outer, [S(randn(3), randn(4))]),
    Row("linalg.vecdot", cnp.linalg.vecdot, np.linalg.vecdot,
        [S(randn(2, 3), randn(3)), S(randn(3, 2), randn(3, 2), axis=0),
         S(cplx(2, 3), cplx(2, 3))]),
    Row("linalg.matmul", cnp.linalg.matmul, np.linalg.matmul,
        [S(randn(2, 3, 4), randn(4, 2))]),
    Row("linalg.tensordot", cnp.linalg.tensordot, np.linalg.tensordot,
        [S(randn(2, 3, 4), randn(3, 4, 2)), S(randn(3, 4), randn(4, 5), axes=1)]),
    Row("linalg.cross", cnp.linalg.cross, np.linalg.cross,
        [S(randn(3), randn(3)), S(randn(2, 3), randn(3)), S(randn(3, 2), randn(3, 2), axis=0)]),
]
