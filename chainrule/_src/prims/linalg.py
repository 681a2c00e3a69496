"""Linear algebra primitives: inv, solve, det, slogdet, cholesky, eigh, svd, qr, pinv
and matrix_rank (not differentiable).

Every primitive works on stacks of matrices as NumPy does (the last two axes are the
matrix, the leading ones a batch), so vmap only moves its batch axis to the front.

Derivatives
-----------
Rules are written with chainrule operations (``matmul_p``, ``einsum_p``, the shape
helpers, elementwise primitives and these primitives themselves), so they can be
differentiated again (``hessian`` through inv/solve/det/cholesky/eigh works).

Complex numbers follow JAX: the vjp is the transpose under the real bilinear pairing
``<a, b> = Re(sum(a * b))`` (no conjugation of the cotangent). For holomorphic maps
(inv, solve, det, pinv of a full-rank matrix) this is the plain transpose; for the
decompositions of Hermitian matrices (cholesky, eigh) it is the transpose of the
R-linear jvp.

Which entries the decompositions read
-------------------------------------
``numpy.linalg.cholesky`` reads only the lower triangle (``upper=True``: the upper
one), ``eigh``/``eigvalsh`` the triangle named by ``UPLO``, and ``svd``/``pinv`` with
``hermitian=True`` the lower triangle (they call ``eigh``); LAPACK also ignores the
imaginary part of the diagonal. The derivatives here are derivatives of *that*
function: a tangent ``dA`` is first replaced by the Hermitian matrix the routine
effectively sees (``_sym_proj``), and cotangents are mapped back by its transpose.
For Hermitian tangents (the usual case) this is the identity, and finite
differences of NumPy's own function agree in every direction.

JAX, PyTorch and TensorFlow instead differentiate with respect to the Hermitian part
``(A + A^H) / 2`` (JAX also symmetrises the value). Both agree on Hermitian tangents;
the gradients differ only in how they represent the same linear functional: the
Hermitian part ``(g + g^H) / 2`` of chainrule's gradient is JAX's gradient (so the JAX
cookbook's complex Cholesky example prints JAX's matrix after that projection). The
NumPy-consistent choice keeps ``check_grads`` exact and gives correct gradients when
only one triangle of the input is meaningful; to keep gradient-descent iterates on a
symmetric matrix symmetric, step with the Hermitian part of the gradient (or
parametrise the matrix, e.g. ``A = X X^T``).

Degenerate spectra
------------------
eigh uses ``F_ij = 1 / (w_j - w_i)`` off the diagonal and 0 where
``|w_i - w_j| <= 8 n eps max|w|`` (eigenvalues equal up to rounding); svd the same with
``1 / (s_j^2 - s_i^2)``. When the eigenvector cotangent is symbolically zero the F term
is skipped entirely. The result is exact for losses that depend on the eigenvectors only
through the spectral projectors of degenerate clusters (and on the eigenvalues through
any function), e.g. ``sum(f(w))`` or ``V[:, :k] @ V[:, :k].T`` when ``w[k-1] < w[k]``.
It is *not* exact for ``V diag(g(w)) V^T`` with a non-constant ``g`` across an exactly
degenerate cluster: the exact derivative there needs ``g'`` inside the cluster, which
no rule of eigh sees (it is finite, without NaN, but misses that term).

Cost conventions (FLOPs of one application, times the number of matrices in the stack;
n x n matrices unless stated; complex counted as real):
inv n^3, solve 2n^3/3 + 2n^2 k (LU and k right-hand sides), det and slogdet 2n^3/3 (LU),
cholesky n^3/3, eigh 9n^3 (4n^3/3 for values only), svd of m x n with p = max, q = min:
4pq^2 - 4q^3/3 (values only), 14pq^2 + 8q^3 (reduced), 4p^2q + 8pq^2 + 9q^3 (full),
qr 4pq^2 - 4q^3/3, pinv reduced svd + 2mnq, matrix_rank as svd values.
"""
import numpy as np

from ..core import Primitive, NonDiffPrimitive, Zero, shape_of, dtype_of
from ..core import size_of as _size
from .shape import reshape, moveaxis, fit_cotangent
from .products import matmul_p, einsum_p, mT
from .reductions import reduce_max_p
from . import elementwise as ew


# ----------------------------------------------------------------- small helpers


def _nbatch(x):
    return _size(shape_of(x)[:-2])


def _cplx(x):
    return dtype_of(x).kind == "c"


def _conj(x):
    return ew.conj_p.bind(x) if _cplx(x) else x


def _H(x):
    return _conj(mT(x))


def _real(x):
    return ew.real_p.bind(x) if _cplx(x) else x


def _imag(x):
    return ew.imag_p.bind(x)


def _mm(a, b):
    return matmul_p.bind(a, b)


def _batch_letters(nd):
    return "abcdefghijklmnopqrstuvw"[:nd]


def _diag(x):
    """Diagonal of the last two axes: (..., n, n) -> (..., n)."""
    b = _batch_letters(len(shape_of(x)) - 2)
    return einsum_p.bind(x, subscripts=f"{b}yy->{b}y")


def _trace(x):
    b = _batch_letters(len(shape_of(x)) - 2)
    return einsum_p.bind(x, subscripts=f"{b}yy->{b}")


def _row(v):
    """(..., n) -> (..., 1, n): v_j along the columns."""
    s = shape_of(v)
    return reshape(v, s[:-1] + (1, s[-1]))


def _col(v):
    """(..., n) -> (..., n, 1): v_i along the rows."""
    return reshape(v, shape_of(v) + (1,))


def _mat(v):
    """(...) -> (..., 1, 1)."""
    return reshape(v, shape_of(v) + (1, 1))


def _diag_embed(v):
    """(..., n) -> (..., n, n) with v on the diagonal."""
    return _row(v) * np.eye(shape_of(v)[-1])


def _strict(n, upper):
    return np.triu(np.ones((n, n)), 1) if upper else np.tril(np.ones((n, n)), -1)


def _sym_proj(t, upper=False):
    """The Hermitian matrix that LAPACK sees when it reads one triangle of ``t``
    (and the real part of its diagonal)."""
    n = shape_of(t)[-1]
    s = t * _strict(n, upper)
    return s + _H(s) + _real(t) * np.eye(n)


def _sym_proj_T(c, upper=False):
    """Transpose of :func:`_sym_proj` under the pairing Re(sum(a * b))."""
    n = shape_of(c)[-1]
    return (c + _H(c)) * _strict(n, upper) + _real(c) * np.eye(n)


def _safe_inv(s):
    """1 / s with 0 where s == 0."""
    zero = ew.equal_p.bind(s, 0.0)
    safe = ew.select_p.bind(zero, 1.0, s)
    return ew.select_p.bind(zero, 0.0, 1.0 / safe)


def _gap_inverse(x, square=False):
    """F_ij = 1 / (x_j - x_i) (``square``: 1 / (x_j^2 - x_i^2)) for i != j, 0 on the
    diagonal and where x_i, x_j are equal up to rounding."""
    n = shape_of(x)[-1]
    nd = len(shape_of(x))
    diff = _row(x) - _col(x)
    scale = reduce_max_p.bind(ew.abs_p.bind(x), axis=(nd - 1,), keepdims=True) if n else x
    tol = _col(scale) * (8.0 * max(n, 1) * np.finfo(np.float64).eps)
    degenerate = ew.less_equal_p.bind(ew.abs_p.bind(diff), tol)
    if square:
        diff = diff * (_row(x) + _col(x))
        degenerate = ew.logical_or_p.bind(degenerate, ew.equal_p.bind(diff, 0.0))
    safe = ew.select_p.bind(degenerate, 1.0, diff)
    return ew.select_p.bind(degenerate, 0.0, 1.0 / safe)


def _is_zero(t):
    return type(t) is Zero


def _add(a, b):
    if a is None:
        return b
    if b is None:
        return a
    return a + b


class _StackPrimitive(Primitive):
    """A primitive of one stack of matrices (..., m, n); vmap moves the axis first."""

    def batch(self, args, dims, **params):
        x = moveaxis(args[0], dims[0], 0)
        out = self.bind(x, **params)
        if self.multiple_results:
            return out, [0] * len(out)
        return out, 0


# ----------------------------------------------------------------- inv

class Inv(_StackPrimitive):
    """np.linalg.inv. d(A^-1) = -A^-1 dA A^-1."""

    def impl(self, a):
        return np.linalg.inv(a)

    def jvp(self, primals, tangents):
        (a,), (t,) = primals, tangents
        ans = self.bind(a)
        if _is_zero(t):
            return ans, Zero.like(ans)
        return ans, -_mm(_mm(ans, t), ans)

    def vjp(self, ct, ans, args, needs):
        xt = mT(ans)
        return [fit_cotangent(-_mm(_mm(xt, ct), xt), args[0])]

    def cost(self, args, ans):
        n = shape_of(args[0])[-1]
        return _nbatch(args[0]) * n ** 3


# ----------------------------------------------------------------- solve

class Solve(Primitive):
    """np.linalg.solve(a, b) with b a stack of matrices (..., M, K); the batch axes
    of a and b broadcast. x = a^-1 b; dx = solve(a, db - da x)."""

    def impl(self, a, b):
        return np.linalg.solve(a, b)

    def jvp(self, primals, tangents):
        a, b = primals
        ta, tb = tangents
        x = self.bind(a, b)
        rhs = None if _is_zero(tb) else tb
        if not _is_zero(ta):
            rhs = _add(rhs, -_mm(ta, x))
        if rhs is None:
            return x, Zero.like(x)
        return x, self.bind(a, rhs)

    def vjp(self, ct, ans, args, needs):
        a, b = args
        ct_b = self.bind(mT(a), ct)
        return [fit_cotangent(-_mm(ct_b, mT(ans)), a) if needs[0] else None,
                fit_cotangent(ct_b, b) if needs[1] else None]

    def batch(self, args, dims):
        nd = max(len(shape_of(x)) - (d is not None) for x, d in zip(args, dims))
        a, b = [ew._lead_batch(x, d, nd) for x, d in zip(args, dims)]
        return self.bind(a, b), 0

    def cost(self, args, ans):
        n = shape_of(args[0])[-1]
        k = shape_of(ans)[-1]
        return _nbatch(ans) * (2 * n ** 3 // 3 + 2 * n * n * k)


# ----------------------------------------------------------------- det, slogdet

def _lu_cost(args):
    n = shape_of(args[0])[-1]
    return _nbatch(args[0]) * (2 * n ** 3 // 3)


class Det(_StackPrimitive):
    """np.linalg.det. d det = det * tr(A^-1 dA); vjp ct * det * A^-T.

    At an exactly singular matrix the derivative raises LinAlgError (it needs A^-1)."""

    def impl(self, a):
        return np.linalg.det(a)

    def jvp(self, primals, tangents):
        (a,), (t,) = primals, tangents
        ans = self.bind(a)
        if _is_zero(t):
            return ans, Zero.like(ans)
        return ans, ans * _trace(solve_p.bind(a, t))

    def vjp(self, ct, ans, args, needs):
        a = args[0]
        return [fit_cotangent(_mat(ct * ans) * mT(inv_p.bind(a)), a)]

    def cost(self, args, ans):
        return _lu_cost(args)


class SlogDet(_StackPrimitive):
    """np.linalg.slogdet -> [sign, logabsdet]. For real matrices the sign is piecewise
    constant (zero derivative); for complex ones d sign = i sign Im(tr(A^-1 dA))."""
    multiple_results = True

    def impl(self, a):
        sign, logdet = np.linalg.slogdet(a)
        return [sign, logdet]

    def jvp(self, primals, tangents):
        (a,), (t,) = primals, tangents
        sign, logdet = self.bind(a)
        if _is_zero(t):
            return [sign, logdet], [Zero.like(sign), Zero.like(logdet)]
        tr = _trace(solve_p.bind(a, t))
        if not _cplx(tr):
            return [sign, logdet], [Zero.like(sign), tr]
        return [sign, logdet], [sign * (1j * _imag(tr)), _real(tr)]

    def vjp(self, ct, ans, args, needs):
        a = args[0]
        ct_s, ct_l = ct
        sign = ans[0]
        coef = None if _is_zero(ct_l) else _real(ct_l)
        if _cplx(a) and not _is_zero(ct_s):
            coef = _add(coef, 1j * _imag(ct_s * sign))
        if coef is None:
            return [None]
        return [fit_cotangent(_mat(coef) * mT(inv_p.bind(a)), a)]

    def cost(self, args, ans):
        return _lu_cost(args)


# ----------------------------------------------------------------- cholesky

def _phi_mask(n):
    return np.tril(np.ones((n, n)), -1) + 0.5 * np.eye(n)


class Cholesky(_StackPrimitive):
    """np.linalg.cholesky(a, upper=...). With L the lower factor of the Hermitian
    matrix S that LAPACK reads: dL = L Phi(L^-1 dS L^-H), Phi = lower triangle with
    half the diagonal (Murray 2016)."""

    def impl(self, a, *, upper):
        return np.linalg.cholesky(a, upper=upper)

    def jvp(self, primals, tangents, *, upper):
        (a,), (t,) = primals, tangents
        out = self.bind(a, upper=upper)
        if _is_zero(t):
            return out, Zero.like(out)
        L = _H(out) if upper else out
        n = shape_of(a)[-1]
        li = inv_p.bind(L)
        x = _mm(_mm(li, _sym_proj(t, upper)), _H(li))
        dl = _mm(L, x * _phi_mask(n))
        return out, (_H(dl) if upper else dl)

    def vjp(self, ct, ans, args, needs, *, upper):
        a = args[0]
        n = shape_of(a)[-1]
        L = _H(ans) if upper else ans
        c = _H(ct) if upper else ct
        li = inv_p.bind(L)
        xbar = _mm(mT(L), c) * _phi_mask(n)
        sbar = _mm(_mm(mT(li), xbar), _conj(li))
        return [fit_cotangent(_sym_proj_T(sbar, upper), a)]

    def cost(self, args, ans, **params):
        n = shape_of(args[0])[-1]
        return _nbatch(args[0]) * (n ** 3 // 3)


# ----------------------------------------------------------------- eigh

class Eigh(_StackPrimitive):
    """np.linalg.eigh(a, UPLO) -> [w, V]. With Z = V^H dS V: dw = Re diag(Z),
    dV = V (F o Z), F_ij = 1/(w_j - w_i) (0 on degenerate pairs; see the module
    docstring)."""
    multiple_results = True

    def impl(self, a, *, UPLO):
        w, v = np.linalg.eigh(a, UPLO=UPLO)
        return [w, v]

    def jvp(self, primals, tangents, *, UPLO):
        (a,), (t,) = primals, tangents
        w, v = self.bind(a, UPLO=UPLO)
        if _is_zero(t):
            return [w, v], [Zero.like(w), Zero.like(v)]
        z = _mm(_mm(_H(v), _sym_proj(t, UPLO == "U")), v)
        dw = _real(_diag(z))
        dv = _mm(v, z * _gap_inverse(w))
        return [w, v], [dw, dv]

    def vjp(self, ct, ans, args, needs, *, UPLO):
        a = args[0]
        w, v = ans
        ct_w, ct_v = ct
        inner = None if _is_zero(ct_w) else _diag_embed(_real(ct_w))
        if not _is_zero(ct_v):
            inner = _add(inner, _mm(mT(v), ct_v) * _gap_inverse(w))
        if inner is None:
            return [None]
        sbar = _mm(_mm(_conj(v), inner), mT(v))
        return [fit_cotangent(_sym_proj_T(sbar, UPLO == "U"), a)]

    def cost(self, args, ans, **params):
        n = shape_of(args[0])[-1]
        return _nbatch(args[0]) * 9 * n ** 3


# ----------------------------------------------------------------- svd

def _svd_cost(a, compute_uv, full_matrices):
    m, n = shape_of(a)[-2:]
    p, q = max(m, n), min(m, n)
    if not compute_uv:
        c = 4 * p * q * q - 4 * q ** 3 // 3
    elif full_matrices:
        c = 4 * p * p * q + 8 * p * q * q + 9 * q ** 3
    else:
        c = 14 * p * q * q + 8 * q ** 3
    return _nbatch(a) * c


class SVD(_StackPrimitive):
    """np.linalg.svd -> [U, s, Vh] (compute_uv) or [s].

    Derivatives follow JAX's svd jvp (reduced factors) and its exact transpose.
    ``full_matrices=True`` with a non-square input has no derivative for U/Vh (the
    extra columns are an arbitrary basis): NotImplementedError, use
    ``full_matrices=False``. Singular values alone are always differentiable."""
    multiple_results = True

    def impl(self, a, *, full_matrices, compute_uv, hermitian):
        out = np.linalg.svd(a, full_matrices=full_matrices, compute_uv=compute_uv,
                            hermitian=hermitian)
        return list(out) if compute_uv else [out]

    @staticmethod
    def _check_full(a, full_matrices):
        m, n = shape_of(a)[-2:]
        if full_matrices and m != n:
            raise NotImplementedError(
                "chainrule.numpy.linalg.svd: the derivative of U/Vh with "
                "full_matrices=True (the default) is not implemented for non-square "
                "matrices (the extra singular vectors are not unique); pass "
                "full_matrices=False")

    def jvp(self, primals, tangents, *, full_matrices, compute_uv, hermitian):
        (a,), (t,) = primals, tangents
        if compute_uv:
            self._check_full(a, full_matrices)
        u, s, vh = self.bind(a, full_matrices=False, compute_uv=True, hermitian=hermitian)
        out = [u, s, vh] if compute_uv else [s]
        if _is_zero(t):
            return out, [Zero.like(o) for o in out]
        if hermitian:
            t = _sym_proj(t)
        v = _H(vh)
        ds_mat = _mm(_mm(_H(u), t), v)
        ds = _real(_diag(ds_mat))
        if not compute_uv:
            return out, [ds]
        m, n = shape_of(a)[-2:]
        f = _gap_inverse(s, square=True)
        s_row, s_col = _row(s), _col(s)
        sinv = _safe_inv(s)
        dss = ds_mat * s_row
        sds = ds_mat * s_col
        x = f * (dss + _H(dss))
        if _cplx(ds_mat):
            x = x + 0.5 * (ds_mat - _H(ds_mat)) * _diag_embed(sinv)
        du = _mm(u, x)
        dv = _mm(v, f * (sds + _H(sds)))
        if m > n:
            dav = _mm(t, v)
            du = du + (dav - _mm(u, _mm(_H(u), dav))) * _row(sinv)
        if n > m:
            dahu = _mm(_H(t), u)
            dv = dv + (dahu - _mm(v, _mm(vh, dahu))) * _row(sinv)
        return out, [du, ds, _H(dv)]

    def vjp(self, ct, ans, args, needs, *, full_matrices, compute_uv, hermitian):
        a = args[0]
        if compute_uv:
            ct_u, ct_s, ct_vh = ct
            if full_matrices and not (_is_zero(ct_u) and _is_zero(ct_vh)):
                self._check_full(a, full_matrices)
        else:
            (ct_s,) = ct
            ct_u = ct_vh = Zero((), np.float64)
        m, n = shape_of(a)[-2:]
        if compute_uv and not (full_matrices and m != n):
            u, s, vh = ans
        else:
            u, s, vh = self.bind(a, full_matrices=False, compute_uv=True,
                                 hermitian=hermitian)
        sbar = None if _is_zero(ct_s) else _diag_embed(_real(ct_s))
        f = _gap_inverse(s, square=True) if not (_is_zero(ct_u) and _is_zero(ct_vh)) \
            else None
        sinv = _safe_inv(s)
        extra = None
        if not _is_zero(ct_u):
            xbar = _mm(mT(u), ct_u)
            y = f * xbar
            sbar = _add(sbar, (y + _H(y)) * _row(s))
            if _cplx(u):
                zb = 0.5 * xbar * _diag_embed(sinv)
                sbar = _add(sbar, zb - _H(zb))
            if m > n:
                e = ct_u * _row(sinv)
                e = e - _mm(_conj(u), _mm(mT(u), e))
                extra = _add(extra, _mm(e, _conj(vh)))
        if not _is_zero(ct_vh):
            v = _H(vh)
            ct_v = _H(ct_vh)
            y2 = f * _mm(mT(v), ct_v)
            sbar = _add(sbar, (y2 + _H(y2)) * _col(s))
            if n > m:
                g = ct_v * _row(sinv)
                g = g - _mm(_conj(v), _mm(mT(v), g))
                extra = _add(extra, _mm(_conj(u), _H(g)))
        abar = extra
        if sbar is not None:
            abar = _add(_mm(_mm(_conj(u), sbar), _conj(vh)), abar)
        if abar is None:
            return [None]
        if hermitian:
            abar = _sym_proj_T(abar)
        return [fit_cotangent(abar, a)]

    def cost(self, args, ans, *, full_matrices, compute_uv, hermitian):
        return _svd_cost(args[0], compute_uv, full_matrices)


# ----------------------------------------------------------------- qr

def _qr_square_jvp(q, r, dx):
    """JAX's QR jvp for m >= n (q: m x n, r: n x n)."""
    n = shape_of(r)[-1]
    dxr = _mm(dx, inv_p.bind(r))
    z = _mm(_H(q), dxr)
    low = z * np.tril(np.ones((n, n)), -1)
    do = low - _H(low)
    if _cplx(z):
        do = do + (z - _real(z)) * np.eye(n)
    return _mm(q, do - z) + dxr, _mm(z - do, r)


def _qr_square_vjp(q, r, ct_q, ct_r):
    """Transpose of :func:`_qr_square_jvp` (returns the cotangent of dx)."""
    n = shape_of(r)[-1]
    zbar = dobar = dxrbar = None
    if not _is_zero(ct_r):
        w = _mm(ct_r, mT(r))
        zbar, dobar = w, -w
    if not _is_zero(ct_q):
        w2 = _mm(mT(q), ct_q)
        dobar = _add(dobar, w2)
        zbar = _add(zbar, -w2)
        dxrbar = ct_q
    lowbar = dobar - _H(dobar)
    zbar = zbar + lowbar * np.tril(np.ones((n, n)), -1)
    if _cplx(dobar):
        zbar = zbar + (dobar - _real(dobar)) * np.eye(n)
    dxrbar = _add(dxrbar, _mm(_conj(q), zbar))
    return _mm(dxrbar, mT(inv_p.bind(r)))


class QR(_StackPrimitive):
    """np.linalg.qr (modes 'reduced'; 'complete' = ``full_matrices``) -> [Q, R].

    Derivative: JAX's rule for m >= n; for wide matrices (m < n) A = [X | Y] with X
    square, Q, U = qr(X), V = Q^H Y. ``mode='complete'`` with m > n (Q has extra,
    non-unique columns) has no derivative: NotImplementedError."""
    multiple_results = True

    def impl(self, a, *, full_matrices):
        q, r = np.linalg.qr(a, mode="complete" if full_matrices else "reduced")
        return [q, r]

    @staticmethod
    def _check(a, full_matrices):
        m, n = shape_of(a)[-2:]
        if full_matrices and m > n:
            raise NotImplementedError(
                "chainrule.numpy.linalg.qr: the derivative of mode='complete' is not "
                "implemented for tall matrices (M > N); use mode='reduced'")

    def jvp(self, primals, tangents, *, full_matrices):
        (a,), (t,) = primals, tangents
        self._check(a, full_matrices)
        q, r = self.bind(a, full_matrices=full_matrices)
        if _is_zero(t):
            return [q, r], [Zero.like(q), Zero.like(r)]
        m, n = shape_of(a)[-2:]
        if m >= n:
            return [q, r], list(_qr_square_jvp(q, r, t))
        e1, e2 = np.eye(n)[:, :m], np.eye(n)[:, m:]
        dq, du = _qr_square_jvp(q, _mm(r, e1), _mm(t, e1))
        dv = _mm(_H(dq), _mm(a, e2)) + _mm(_H(q), _mm(t, e2))
        return [q, r], [dq, _mm(du, e1.T) + _mm(dv, e2.T)]

    def vjp(self, ct, ans, args, needs, *, full_matrices):
        a = args[0]
        self._check(a, full_matrices)
        q, r = ans
        ct_q, ct_r = ct
        m, n = shape_of(a)[-2:]
        if m >= n:
            return [fit_cotangent(_qr_square_vjp(q, r, ct_q, ct_r), a)]
        e1, e2 = np.eye(n)[:, :m], np.eye(n)[:, m:]
        ubar = Zero((), np.float64)
        dybar = None
        if not _is_zero(ct_r):
            ubar, vbar = _mm(ct_r, e1), _mm(ct_r, e2)
            y = _mm(a, e2)
            ct_q = _add(None if _is_zero(ct_q) else ct_q, _mm(_conj(y), _H(vbar)))
            dybar = _mm(_conj(q), vbar)
        dxbar = _qr_square_vjp(q, _mm(r, e1), ct_q, ubar)
        abar = _mm(dxbar, e1.T)
        if dybar is not None:
            abar = abar + _mm(dybar, e2.T)
        return [fit_cotangent(abar, a)]

    def cost(self, args, ans, **params):
        m, n = shape_of(args[0])[-2:]
        p, q = max(m, n), min(m, n)
        return _nbatch(args[0]) * (4 * p * q * q - 4 * q ** 3 // 3)


# ----------------------------------------------------------------- pinv

class PInv(_StackPrimitive):
    """np.linalg.pinv(a, rcond, hermitian). Derivative of the pseudo-inverse where
    the rank is locally constant (Golub & Pereyra 1973):
    dP = -P dA P + P P^H dA^H (I - A P) + (I - P A) dA^H P^H P."""

    def impl(self, a, *, rcond, hermitian):
        return np.linalg.pinv(a, rcond=rcond, hermitian=hermitian)

    def jvp(self, primals, tangents, *, rcond, hermitian):
        (a,), (t,) = primals, tangents
        p = self.bind(a, rcond=rcond, hermitian=hermitian)
        if _is_zero(t):
            return p, Zero.like(p)
        if hermitian:
            t = _sym_proj(t)
        m, n = shape_of(a)[-2:]
        ph = _H(p)
        th = _H(t)
        out = -_mm(_mm(p, t), p)
        out = out + _mm(_mm(_mm(p, ph), th), np.eye(m) - _mm(a, p))
        out = out + _mm(_mm(np.eye(n) - _mm(p, a), th), _mm(ph, p))
        return p, out

    def vjp(self, ct, ans, args, needs, *, rcond, hermitian):
        a = args[0]
        p = ans
        m, n = shape_of(a)[-2:]
        pt = mT(p)
        ph = _H(p)
        abar = -_mm(_mm(pt, ct), pt)
        # t -> M1 t^H N1 transposes to c -> (M1^T c N1^T)^H
        m1, n1 = _mm(p, ph), np.eye(m) - _mm(a, p)
        abar = abar + _H(_mm(_mm(mT(m1), ct), mT(n1)))
        n2, m2 = np.eye(n) - _mm(p, a), _mm(ph, p)
        abar = abar + _H(_mm(_mm(mT(n2), ct), mT(m2)))
        if hermitian:
            abar = _sym_proj_T(abar)
        return [fit_cotangent(abar, a)]

    def cost(self, args, ans, **params):
        m, n = shape_of(args[0])[-2:]
        return _svd_cost(args[0], True, False) + _nbatch(args[0]) * 2 * m * n * min(m, n)


# ----------------------------------------------------------------- matrix_rank

class MatrixRank(NonDiffPrimitive):
    """np.linalg.matrix_rank on a stack (integer result, no derivative)."""

    def impl(self, a, *, tol, hermitian, rtol):
        return np.linalg.matrix_rank(a, tol=tol, hermitian=hermitian, rtol=rtol)

    def batch(self, args, dims, **params):
        return self.bind(moveaxis(args[0], dims[0], 0), **params), 0

    def cost(self, args, ans, **params):
        return _svd_cost(args[0], False, False)


inv_p = Inv("inv")
solve_p = Solve("solve")
det_p = Det("det")
slogdet_p = SlogDet("slogdet")
cholesky_p = Cholesky("cholesky")
eigh_p = Eigh("eigh")
svd_p = SVD("svd")
qr_p = QR("qr")
pinv_p = PInv("pinv")
matrix_rank_p = MatrixRank("matrix_rank")
