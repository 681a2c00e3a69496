"""Linear algebra primitives: inv, solve, det, slogdet, cholesky, eigh, svd, qr, pinv
and matrix_rank (not differentiable); eig (general matrices) is ``prims/eig.py``, which
shares the helpers and conventions below.

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

Hermitian input: symmetric (Hermitian) gradients
-------------------------------------------------
``numpy.linalg.cholesky`` reads only the lower triangle (``upper=True``: the upper
one), ``eigh``/``eigvalsh`` the triangle named by ``UPLO``, and ``svd``/``pinv`` with
``hermitian=True`` the lower triangle (they call ``eigh``); LAPACK also ignores the
imaginary part of the diagonal. The values here are NumPy's (so of that triangle). The
derivatives treat the input as the Hermitian matrix it stands for, as JAX, PyTorch
(its eigh backward projects onto Hermitian gradients) and autograd's cholesky do
(autograd's eigh reads the triangle, as chainrule did before): a tangent ``dA`` enters as its Hermitian part ``(dA + dA^H) /
2`` and a gradient comes back Hermitian (``_herm``; self-adjoint under the pairing, so
jvp and vjp stay exact transposes). Along Hermitian directions (the only ones that keep
the input a valid one) this is the derivative of NumPy's function, and finite
differences of NumPy's program agree; a gradient-descent step keeps a symmetric
iterate symmetric, and the JAX cookbook's complex Cholesky example prints JAX's matrix.
Along a non-Hermitian direction it is the derivative in the direction's Hermitian part,
not the derivative of the triangle NumPy reads (which differs there). The
compositions of ``chainrule.scipy.linalg`` that mirror one triangle (``solve``/``inv``
with ``assume_a='pos'``/``'sym'``/``'her'``) keep SciPy's triangle, as JAX's do.

Repeated eigenvalues and singular values
----------------------------------------
eigh uses ``F_ij = 1 / (w_j - w_i)`` off the diagonal. Where ``w_i == w_j`` (up to
rounding: ``|w_i - w_j| <= 8 n eps max|w|``) the eigenvectors of that eigenvalue are
any basis of its eigenspace, and their derivative does not exist. For a loss that does
not depend on the basis the derivative of the loss exists, but eigh's rule cannot know
it: ``V diag(g(w)) V^T`` needs ``g'(w_i)`` in the coupling of the pair (Daleckii-Krein),
and ``g(w) = w`` and ``g(w) = w^2 / 2`` at ``diag(2, 2, 5)`` hand eigh the *same*
cotangents with different exact gradients (``tests/test_silent_errors.py``). Worse,
where ``g`` vanishes at the repeated value (``V diag(w) V^T`` at a repeated 0) the
eigenvectors' cotangent is exactly zero, the cotangent of a loss that does not use them
at all; no rule can tell the two apart. So:

- functions of the eigenvalues alone (``sum(f(w))``, eigvalsh: no eigenvector
  cotangent) are exact;
- every eigenvector cotangent at a repeated eigenvalue is refused, a zero one too:
  reverse mode raises NotImplementedError (under jit the test is a guard), NaN under
  vmap (where each example has its own answer: per-example gradients, jacrev); forward
  mode (jvp, jacfwd, the forward half of hessian) gives NaN in the eigenvector tangent
  wherever the tangent couples the pair (``V^H dA V`` non-zero there), since it cannot
  know whether V is used, and is exact where it does not. Never a finite wrong number
  (``tests/test_linalg_ties_generated.py`` draws losses at planted ties to check it);
- the exact ways are in ``prims/matfun.py`` (``scipy.linalg.funm``: Daleckii-Krein with
  ``g'`` at ties; ``scipy.linalg.eigh(subset_by_index=...)``: only eigenpairs whose
  eigenvalues are not repeated) and ``prims/scipy_linalg.py`` (expm, logm, sqrtm,
  fractional_matrix_power).

svd: with ``P = U^H dA V`` split into its Hermitian part ``S`` and skew part ``K``, U
turns by ``S_ij / (s_j - s_i) + K_ij / (s_j + s_i)`` and V by the difference. At a
repeated singular value, a pair of zeros, a zero of a complex matrix (the phase of
``u_k``) or a zero of a non-square matrix (the complement rotation) the singular
vectors have no derivative (a zero up to rounding, ``s <= 8 q eps max(s)``, counts as
one: dividing by it would turn rounding errors into numbers), and ``U diag(g(s)) Vh`` with ``g`` vanishing there hides
its coupling as eigh's does: every singular-vector cotangent there is refused (NaN in
forward mode where the tangent reaches it). ``sum(f(s))``, svdvals and norms are exact.
The extra columns of ``full_matrices=True`` (and of qr's ``mode='complete'``) are any
orthonormal basis of a complement: they turn only as far as they must to stay
orthogonal to the others (exact through their span); a cotangent reaching a rotation
within the span raises (NaN under vmap).

Cost conventions (FLOPs of one application, times the number of matrices in the stack;
n x n matrices unless stated; complex counted as real):
inv n^3, solve 2n^3/3 + 2n^2 k (LU and k right-hand sides), det and slogdet 2n^3/3 (LU),
cholesky n^3/3, eigh 9n^3 (4n^3/3 for values only), svd of m x n with p = max, q = min:
4pq^2 - 4q^3/3 (values only), 14pq^2 + 8q^3 (reduced), 4p^2q + 8pq^2 + 9q^3 (full),
qr 4pq^2 - 4q^3/3, pinv reduced svd + 2mnq, matrix_rank as svd values.
"""
import numpy as np

from .. import backend
from ..core import Primitive, NonDiffPrimitive, Zero, shape_of, dtype_of, has_value
from ..core import size_of as _size
from .shape import reshape, moveaxis, fit_cotangent, reduce_sum
from .products import matmul_p, einsum_p, mT
from .reductions import reduce_max_p
from .indexing import getitem_p
from .structure import concatenate_p
from .control import stop_gradient_p
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


def _diag_mask(v):
    """(..., n) bool -> (..., n, n) bool, v on the diagonal."""
    return ew.logical_and_p.bind(_row(v), np.eye(shape_of(v)[-1], dtype=bool))


def _rdt(x):
    """The real dtype of ``x`` (masks in it keep float32 values float32)."""
    return np.dtype(dtype_of(x).char.lower()) if _cplx(x) else dtype_of(x)


def _strict(n, upper, dtype=np.float64):
    ones = np.ones((n, n), dtype)
    return np.triu(ones, 1) if upper else np.tril(ones, -1)


def _sym_proj(t, upper=False):
    """The Hermitian matrix that LAPACK sees when it reads one triangle of ``t``
    (and the real part of its diagonal)."""
    n = shape_of(t)[-1]
    s = t * _strict(n, upper, _rdt(t))
    return s + _H(s) + _real(t) * np.eye(n, dtype=_rdt(t))


def read_hermitian(a, upper=False, conj=True):
    """The Hermitian (``conj=False``: complex-symmetric) matrix a LAPACK routine sees
    when it reads one triangle of ``a``, with the derivative of the Hermitian
    (symmetric) part: ``dA -> (dA + dA^H) / 2`` (see the module docstring). For the
    compositions that mirror a triangle themselves (scipy.linalg's ``assume_a``,
    scipy.stats' covariances)."""
    fixed = stop_gradient_p.bind(a)
    n = shape_of(a)[-1]
    if conj:
        value = _sym_proj(fixed, upper)
        return value + _herm(a - fixed)
    part = fixed * _strict(n, upper, _rdt(a))
    delta = a - fixed
    return part + mT(part) + fixed * np.eye(n, dtype=_rdt(a)) + 0.5 * (delta + mT(delta))


def _herm(t):
    """The Hermitian part ``(t + t^H) / 2``: the tangent a function of a Hermitian
    matrix sees, and (being self-adjoint under ``Re(sum(a * b))``) the map its
    cotangents go back through, so gradients are Hermitian (JAX's, PyTorch's and
    autograd's cholesky convention)."""
    return 0.5 * (t + _H(t))


def _eps(x):
    """The machine epsilon of ``x``'s precision (float32's for float32/complex64: their
    rounding errors, e.g. between two LAPACK drivers' eigenvalues, are that large)."""
    dt = dtype_of(x)
    return float(np.finfo(dt).eps) if dt.kind in "fc" else float(np.finfo(np.float64).eps)


def _tol(x):
    """Rounding level of the values ``x`` (..., n): 8 n eps max|x| (eps of ``x``'s
    precision), shaped (..., 1, 1)."""
    n = shape_of(x)[-1]
    nd = len(shape_of(x))
    scale = reduce_max_p.bind(ew.abs_p.bind(x), axis=(nd - 1,), keepdims=True) if n else x
    return _col(scale) * (8.0 * max(n, 1) * _eps(x))


def _tiny(s):
    """(..., q) bool: the (non-negative) values ``s`` that are zero up to rounding
    (at most :func:`_tol`, as the ties of :func:`_gap_inverse`)."""
    t = _tol(s)
    return ew.less_equal_p.bind(s, reshape(t, shape_of(t)[:-1]))


def _tiny_inv(s, tiny):
    """1 / s with 0 where ``tiny`` holds."""
    safe = ew.select_p.bind(tiny, 1.0, s)
    return ew.select_p.bind(tiny, 0.0, 1.0 / safe)


def _pair_inverse(d, singular, n):
    """(1 / d off the diagonal and off ``singular``, 0 there; the off-diagonal pairs
    where ``singular`` holds)."""
    off = ~np.eye(n, dtype=bool)
    zero = ew.logical_or_p.bind(singular, ~off)
    safe = ew.select_p.bind(zero, 1.0, d)
    return ew.select_p.bind(zero, 0.0, 1.0 / safe), ew.logical_and_p.bind(singular, off)


def _gap_inverse(x):
    """F_ij = 1 / (x_j - x_i) for i != j, 0 on the diagonal and where x_i, x_j are equal
    up to rounding; and the mask of those tied pairs (i != j)."""
    diff = _row(x) - _col(x)
    return _pair_inverse(diff, ew.less_equal_p.bind(ew.abs_p.bind(diff), _tol(x)),
                         shape_of(x)[-1])


def _sum_inverse(s):
    """1 / (s_j + s_i) for i != j, 0 on the diagonal and where both singular values are
    0 up to rounding; and the mask of those pairs (i != j)."""
    total = _row(s) + _col(s)
    return _pair_inverse(total, ew.less_equal_p.bind(total, _tol(s)), shape_of(s)[-1])


def _significant(t, ref):
    """|t| above the rounding level of ``ref``, the (co)tangent it was computed from
    (8 n eps max|ref| over the last two axes): the entries that are not zero but for
    rounding."""
    nd = len(shape_of(ref))
    top = reduce_max_p.bind(ew.abs_p.bind(ref), axis=(nd - 2, nd - 1), keepdims=True) \
        if _size(shape_of(ref)) else ew.abs_p.bind(ref)
    return ew.greater_p.bind(ew.abs_p.bind(t), top * (
        8.0 * max(shape_of(ref)[-1], 1) * _eps(ref)))


def _nan_where(value, mask, t, ref=None):
    """``value`` with NaN where ``mask`` holds and ``t`` is significant (relative to
    ``ref``, default ``t``): a derivative that the rule cannot determine is NaN, never a
    wrong number."""
    bad = ew.logical_and_p.bind(mask, _significant(t, t if ref is None else ref))
    return ew.select_p.bind(bad, np.nan, value)


def _undetermined(value, mask, ct, message, ref=None):
    """The reverse-mode counterpart of :func:`_nan_where`: a cotangent that reaches an
    undetermined coupling raises NotImplementedError(message). The test reads values:
    under jit (and the compiled replay of recurring backward passes) it is a guard, so
    the compiled code runs only where nothing is undetermined; under vmap, where each
    example has its own answer, those entries are NaN instead."""
    ref = ct if ref is None else ref
    if type(ct) is np.ndarray and type(mask) is np.ndarray and type(ref) is np.ndarray:
        if mask.any() and np.any(mask & _significant(ct, ref)):
            raise NotImplementedError(message)
        return value
    bad = ew.logical_and_p.bind(mask, _significant(ct, ref))
    if not has_value(bad):
        return ew.select_p.bind(bad, np.nan, value)
    if bool(reduce_max_p.bind(bad, axis=tuple(range(len(shape_of(bad)))), keepdims=False)):
        raise NotImplementedError(message)
    return value


_ANY = np.ones((1, 1))    # a cotangent "significant" wherever it exists (see below)

_TIED = ("chainrule.numpy.linalg.{fn}: the {what} of a repeated {value} (equal up to "
         "rounding) get a non-zero cotangent, and there the derivative is not determined "
         "by the cotangents: the {what} of a repeated {value} are any basis of its space, "
         "and even for a loss that does not depend on that basis ({example}) the exact "
         "derivative needs g' at the repeated value, which no rule of {fn} sees (two such "
         "losses with different g' give {fn} the same cotangents). Exact alternatives: "
         "functions of the {value}s alone ({alone}), losses through the other {what} "
         "only ({rest}), chainrule.scipy.linalg.expm/sqrtm for matrix functions, or "
         "{value}s that are not repeated.")
_EIGH_TIED = ("chainrule.numpy.linalg.eigh: the eigenvectors get a cotangent at a repeated "
              "eigenvalue (equal up to rounding), where they are any basis of its "
              "eigenspace and have no derivative. Even a loss that does not depend on that "
              "basis (V @ diag(g(w)) @ V.T) has a derivative eigh's rule cannot know: it "
              "needs g' at the repeated value, and where g vanishes there (V @ diag(w) @ "
              "V.T at a repeated 0) the cotangent is zero, the same as for a loss that "
              "does not use those eigenvectors; so every eigenvector cotangent is refused "
              "there, a zero one too. Exact alternatives: functions of the eigenvalues "
              "alone (eigvalsh, sum(f(w))); matrix functions V g(w) V^H: "
              "chainrule.scipy.linalg.funm(A, g) (any elementwise g, Daleckii-Krein "
              "derivatives, g' at repeated eigenvalues), expm, logm, sqrtm, "
              "fractional_matrix_power; eigenvectors of eigenvalues that are not repeated: "
              "chainrule.scipy.linalg.eigh(A, subset_by_index=[lo, hi]) (only those "
              "eigenpairs, so repeated ones outside the subset do not matter).")
_SVD_TIED = (
    "chainrule.numpy.linalg.svd: the singular vectors get a cotangent at a repeated "
    "singular value (equal up to rounding), at a pair of zero singular values, or at a "
    "zero one (up to rounding) of a non-square or complex matrix, where they are any basis of "
    "their space and have no derivative. Even a loss that does not depend on that basis "
    "(U @ diag(g(s)) @ Vh with g(0) = 0) has a derivative svd's rule cannot know: it "
    "needs g' there, and where g vanishes (U @ diag(s) @ Vh at repeated zeros) the "
    "cotangent is zero, the same as for a loss that does not use those vectors; so "
    "every singular-vector cotangent is refused there, a zero one too. Exact "
    "alternatives: functions of the singular values alone (svdvals, norms, sum(f(s))); "
    "U diag(g(s)) Vh for an odd g as A @ chainrule.scipy.linalg.funm(A.T @ A, h) with "
    "h(x) = g(sqrt(x)) / sqrt(x) written smoothly at 0 (g(s) = s exp(s^2): h = exp); "
    "the leading right singular vectors as "
    "chainrule.scipy.linalg.eigh(A.T @ A, subset_by_index=[lo, hi]) (only those "
    "eigenpairs, so repeated ones outside the subset do not matter).")


def _is_zero(t):
    return type(t) is Zero


def _add(a, b):
    if a is None:
        return b
    if b is None:
        return a
    return a + b


def _cols(x, start, stop):
    """x[..., :, start:stop]."""
    return getitem_p.bind(x, spec=(Ellipsis, ("slice", None, None, None),
                                   ("slice", start, stop, None)))


def _rows(x, start, stop):
    """x[..., start:stop, :]."""
    return getitem_p.bind(x, spec=(Ellipsis, ("slice", start, stop, None),
                                   ("slice", None, None, None)))


def _join(x, y, axis):
    """concatenate along axis -1 or -2 (a symbolic zero ``y`` is written out)."""
    if _is_zero(y):
        y = np.zeros(y.shape, y.dtype)
    return concatenate_p.bind(x, y, axis=len(shape_of(x)) + axis)


_COMPLEMENT = ("chainrule.numpy.linalg.{fn}: with {mode} the extra {what} ({which}) are "
               "any orthonormal basis of the complement of the others. A loss that "
               "depends on them only through their span (the projector Q_perp @ "
               "Q_perp^H, norms of projections onto it) is differentiable, but this one "
               "depends on the basis itself (a rotation within the span), which NumPy's "
               "LAPACK chooses arbitrarily and no rule can know. Use {instead}, or write "
               "the projector as I - Q @ Q^H with the first columns.")
_SVD_COMPLEMENT = _COMPLEMENT.format(
    fn="svd", mode="full_matrices=True", what="singular vectors",
    which="the columns of U past N, or the rows of Vh past M",
    instead="full_matrices=False")
_QR_COMPLEMENT = _COMPLEMENT.format(
    fn="qr", mode="mode='complete'", what="columns of Q", which="past N",
    instead="mode='reduced'")


def _complement_jvp(q, dq, q_perp):
    """Tangent of the extra columns ``q_perp`` of a unitary completion of ``q`` given
    ``q``'s tangent: they turn only as far as they must to stay orthogonal to ``q``
    (``-q dq^H q_perp``), not within their own span (where the completion is
    arbitrary). Exact for every function of their span."""
    return -_mm(q, _mm(_H(dq), q_perp))


def _complement_vjp(q, q_perp, ct_perp, message):
    """Transpose of :func:`_complement_jvp`: the cotangent it adds to ``dq``. A
    cotangent that reaches the rotation within the span (``K = q_perp^T ct_perp`` not
    Hermitian) raises NotImplementedError(message) (NaN under vmap)."""
    k = _mm(mT(q_perp), ct_perp)
    nd = len(shape_of(k))
    skew = reduce_max_p.bind(ew.abs_p.bind(k - _H(k)), axis=(nd - 2, nd - 1),
                             keepdims=True) if _size(shape_of(k)) else ew.abs_p.bind(k)
    out = -_conj(_mm(q_perp, mT(_mm(mT(q), ct_perp))))
    return _undetermined(out, np.ones((1, 1), bool), skew, message, ct_perp)


class _StackPrimitive(Primitive):
    """A primitive of one stack of matrices (..., m, n); vmap moves the axis first."""

    def batch(self, args, dims, **params):
        x = moveaxis(args[0], dims[0], 0)
        out = self.bind(x, **params)
        if self.multiple_results:
            return out, [0] * len(out)
        return out, 0


def _foreign(name, *args, **kwargs):
    """A linear-algebra primitive on another backend's arrays: Dask's ``linalg`` (2-d);
    other backends raise NotImplementedError naming the function."""
    lazy = [a for a in args if backend.is_lazy(a)]
    if not lazy:
        raise backend.unsupported(f"chainrule primitive '{name}'",
                                  next(a for a in args if backend.is_foreign(a)))
    return backend.dask_linalg(name, *args, **kwargs)


# ----------------------------------------------------------------- inv

class Inv(_StackPrimitive):
    """np.linalg.inv. d(A^-1) = -A^-1 dA A^-1."""
    dispatches = True           # Dask: dask.array.linalg (2-d, square blocks)

    def impl(self, a):
        if type(a) is not np.ndarray and backend.is_foreign(a):
            return _foreign("inv", a)
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
    dispatches = True           # Dask: dask.array.linalg (2-d, square blocks)

    def impl(self, a, b):
        if (type(a) is not np.ndarray or type(b) is not np.ndarray) and \
                (backend.is_foreign(a) or backend.is_foreign(b)):
            return _foreign("solve", a, b)
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


def _minor_selectors(n):
    """P (n, n-1, n): P[i] keeps the rows other than i (0/1 entries, so products with
    it copy values exactly)."""
    p = np.zeros((n, n - 1, n))
    for i in range(n):
        keep = [k for k in range(n) if k != i]
        p[i, np.arange(n - 1), keep] = 1.0
    return p


def cofactors(a):
    """The cofactor matrix C of each matrix of the stack ``a`` (..., n, n):
    ``C_ij = (-1)^(i+j) det(A without row i and column j)``, so that
    ``d det(A) = sum(C * dA)`` and ``adj(A) = C^T``, for every matrix, singular ones
    included. Written with chainrule operations (the minors by products with 0/1
    selectors, then ``det``), so it is differentiable again. About n^2 determinants
    of order n - 1: the rules of det use it only at exactly singular matrices, where
    ``det(A) A^-T`` does not exist."""
    n = shape_of(a)[-1]
    if n == 1:
        return np.ones(shape_of(a), dtype_of(a))
    p = _minor_selectors(n)
    rows = _mm(p, reshape(a, shape_of(a)[:-2] + (1, n, n)))      # (..., n, n-1, n)
    rows = reshape(rows, shape_of(rows)[:-3] + (n, 1, n - 1, n))
    minors = _mm(rows, np.swapaxes(p, -1, -2)[None])             # (..., n, n, n-1, n-1)
    sign = (-1.0) ** np.add.outer(np.arange(n), np.arange(n))
    return det_p.bind(minors) * sign


class Det(_StackPrimitive):
    """np.linalg.det. d det = det * tr(A^-1 dA) = sum(C * dA), C the cofactor
    matrix; vjp ct * det * A^-T.

    At an exactly singular matrix (det 0: LAPACK's LU met a zero pivot, so A^-1 does
    not exist) the rules use the cofactors (:func:`cofactors`, the adjugate's
    transpose): the derivative there is exact, to any order. Where each example of a
    vmap has its own value they take the A^-1 form, which raises LinAlgError at a
    singular matrix (NumPy's inv does), never a wrong number."""

    def impl(self, a):
        return np.linalg.det(a)

    @staticmethod
    def _singular(ans):
        """Whether some matrix of the stack has det exactly 0 (where the value can be
        read; under jit a guard)."""
        if not has_value(ans) or _size(shape_of(ans)) == 0:
            return False
        nd = len(shape_of(ans))
        zero = ew.equal_p.bind(ans, 0.0)
        return bool(reduce_max_p.bind(zero, axis=tuple(range(nd)), keepdims=False))

    def jvp(self, primals, tangents):
        (a,), (t,) = primals, tangents
        ans = self.bind(a)
        if _is_zero(t):
            return ans, Zero.like(ans)
        if self._singular(ans):
            nd = len(shape_of(a))
            return ans, reduce_sum(cofactors(a) * t, (nd - 2, nd - 1))
        return ans, ans * _trace(solve_p.bind(a, t))

    def vjp(self, ct, ans, args, needs):
        a = args[0]
        if self._singular(ans):
            return [fit_cotangent(_mat(ct) * cofactors(a), a)]
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
    dispatches = True           # Dask: dask.array.linalg (2-d, square blocks)

    def impl(self, a, *, upper):
        if type(a) is not np.ndarray and backend.is_lazy(a) and len(shape_of(a)) == 2:
            # NumPy reads one triangle (upper: the upper one); Dask's cholesky reads
            # either, by chunking: the Hermitian matrix of that triangle is what both
            # factor. (Dask's returns the upper factor unless told lower=True.)
            t = np.triu(a, 1) if upper else np.tril(a, -1)
            d = np.diag(np.real(np.diagonal(a)))
            return _foreign("cholesky", t + np.conj(np.swapaxes(t, -1, -2)) + d,
                            lower=not upper)
        if type(a) is not np.ndarray and backend.is_foreign(a):
            return _foreign("cholesky", a, lower=not upper)
        return np.linalg.cholesky(a, upper=upper)

    def jvp(self, primals, tangents, *, upper):
        (a,), (t,) = primals, tangents
        out = self.bind(a, upper=upper)
        if _is_zero(t):
            return out, Zero.like(out)
        L = _H(out) if upper else out
        n = shape_of(a)[-1]
        li = inv_p.bind(L)
        x = _mm(_mm(li, _herm(t)), _H(li))
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
        return [fit_cotangent(_herm(sbar), a)]

    def cost(self, args, ans, **params):
        n = shape_of(args[0])[-1]
        return _nbatch(args[0]) * (n ** 3 // 3)


# ----------------------------------------------------------------- eigh

class Eigh(_StackPrimitive):
    """np.linalg.eigh(a, UPLO) -> [w, V]. With Z = V^H dS V (dS the tangent's
    Hermitian part): dw = Re diag(Z), dV = V (F o Z), F_ij = 1/(w_j - w_i) (at repeated
    eigenvalues every eigenvector cotangent is refused: see the module docstring)."""
    multiple_results = True

    def impl(self, a, *, UPLO):
        w, v = np.linalg.eigh(a, UPLO=UPLO)
        return [w, v]

    def jvp(self, primals, tangents, *, UPLO):
        (a,), (t,) = primals, tangents
        w, v = self.bind(a, UPLO=UPLO)
        if _is_zero(t):
            return [w, v], [Zero.like(w), Zero.like(v)]
        z = _mm(_mm(_H(v), _herm(t)), v)
        dw = _real(_diag(z))
        f, tied = _gap_inverse(w)
        dv = _mm(v, _nan_where(z * f, tied, z))
        return [w, v], [dw, dv]

    def vjp(self, ct, ans, args, needs, *, UPLO):
        a = args[0]
        w, v = ans
        ct_w, ct_v = ct
        inner = None if _is_zero(ct_w) else _diag_embed(_real(ct_w))
        if not _is_zero(ct_v):
            # at a repeated eigenvalue any cotangent of the eigenvectors is refused, a
            # zero one too: V diag(g(w)) V^T with g(w_i) = 0 there gives them a zero
            # cotangent and needs g'(w_i), which no rule of eigh sees
            k = _mm(mT(v), ct_v)
            f, tied = _gap_inverse(w)
            inner = _add(inner, _undetermined(k * f, tied, _ANY, _EIGH_TIED))
        if inner is None:
            return [None]
        sbar = _mm(_mm(_conj(v), inner), mT(v))
        return [fit_cotangent(_herm(sbar), a)]

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
    ``full_matrices=True`` with a non-square input: the extra singular vectors are an
    arbitrary orthonormal basis of the complement; they turn only as far as they must
    to stay orthogonal to the others (:func:`_complement_jvp`), which is exact for
    every loss that depends on them through their span or not at all (the common
    ``U, s, Vh = svd(X); U[:, :k]``); reverse mode raises NotImplementedError where a
    cotangent reaches a rotation within their span. Singular values alone are always
    differentiable."""
    multiple_results = True

    def impl(self, a, *, full_matrices, compute_uv, hermitian):
        out = np.linalg.svd(a, full_matrices=full_matrices, compute_uv=compute_uv,
                            hermitian=hermitian)
        return list(out) if compute_uv else [out]

    def jvp(self, primals, tangents, *, full_matrices, compute_uv, hermitian):
        (a,), (t,) = primals, tangents
        m, n = shape_of(a)[-2:]
        full = compute_uv and full_matrices and m != n
        if full:                  # the reduced factors are the full ones' first parts
            out = self.bind(a, full_matrices=True, compute_uv=True, hermitian=hermitian)
            u = _cols(out[0], 0, n) if m > n else out[0]
            s, vh = out[1], (_rows(out[2], 0, m) if n > m else out[2])
        else:
            u, s, vh = self.bind(a, full_matrices=False, compute_uv=True,
                                 hermitian=hermitian)
            out = [u, s, vh] if compute_uv else [s]
        if _is_zero(t):
            return out, [Zero.like(o) for o in out]
        if hermitian:
            t = _herm(t)
        v = _H(vh)
        ds_mat = _mm(_mm(_H(u), t), v)
        ds = _real(_diag(ds_mat))
        if not compute_uv:
            return out, [ds]
        # with P = U^H dA V = S + K (Hermitian and skew parts), U rotates by
        # F- o S + F+ o K and V by F- o S - F+ o K (F-_ij = 1/(s_j - s_i),
        # F+_ij = 1/(s_j + s_i)): S couples a repeated pair (undetermined: NaN), K only a
        # pair of zeros
        fm, tied = _gap_inverse(s)
        fp, zeros = _sum_inverse(s)
        # a singular value that is zero up to rounding counts as zero: dividing by it
        # would turn rounding errors into numbers
        zero_s = _tiny(s)
        sinv = _tiny_inv(s, zero_s)
        sym = 0.5 * (ds_mat + _H(ds_mat))
        skew = 0.5 * (ds_mat - _H(ds_mat))
        rot = _nan_where(fm * sym, tied, sym, ds_mat)
        twist = _nan_where(fp * skew, zeros, skew, ds_mat)
        x, y = rot + twist, rot - twist
        if _cplx(ds_mat):         # the phase of u_k (V's fixed by LAPACK's convention)
            x = x + _nan_where(skew * _diag_embed(sinv), _diag_mask(zero_s), skew, ds_mat)
        du = _mm(u, x)
        dv = _mm(v, y)
        if m > n:
            dav = _mm(t, v)
            comp = dav - _mm(u, _mm(_H(u), dav))
            du = du + _nan_where(comp * _row(sinv), _row(zero_s), comp, dav)
        if n > m:
            dahu = _mm(_H(t), u)
            comp = dahu - _mm(v, _mm(vh, dahu))
            dv = dv + _nan_where(comp * _row(sinv), _row(zero_s), comp, dahu)
        if full and m > n:
            du = _join(du, _complement_jvp(u, du, _cols(out[0], n, m)), -1)
        if full and n > m:
            dv = _join(dv, _complement_jvp(v, dv, _H(_rows(out[2], m, n))), -1)
        return out, [du, ds, _H(dv)]

    def vjp(self, ct, ans, args, needs, *, full_matrices, compute_uv, hermitian):
        a = args[0]
        m, n = shape_of(a)[-2:]
        if compute_uv:
            ct_u, ct_s, ct_vh = ct
        else:
            (ct_s,) = ct
            ct_u = ct_vh = Zero((), np.float64)
        if not compute_uv:
            u, s, vh = self.bind(a, full_matrices=False, compute_uv=True,
                                 hermitian=hermitian)
        elif full_matrices and m > n:          # U's extra columns: their cotangent
            u, s, vh = _cols(ans[0], 0, n), ans[1], ans[2]
            if not _is_zero(ct_u):
                ct_u = _cols(ct_u, 0, n) + _complement_vjp(
                    u, _cols(ans[0], n, m), _cols(ct_u, n, m), _SVD_COMPLEMENT)
        elif full_matrices and n > m:          # Vh's extra rows
            u, s, vh = ans[0], ans[1], _rows(ans[2], 0, m)
            if not _is_zero(ct_vh):
                ct_vh = _rows(ct_vh, 0, m) + _H(_complement_vjp(
                    _H(vh), _H(_rows(ans[2], m, n)), _H(_rows(ct_vh, m, n)),
                    _SVD_COMPLEMENT))
        else:
            u, s, vh = ans
        sbar = None if _is_zero(ct_s) else _diag_embed(_real(ct_s))
        # the transpose of the jvp: xbar, ybar pull back U's and V's rotations
        extra = xbar = ybar = None
        if not _is_zero(ct_u) or not _is_zero(ct_vh):
            zero_s = _tiny(s)          # zero up to rounding (see jvp)
            sinv = _tiny_inv(s, zero_s)
        if not _is_zero(ct_u):
            xbar = _mm(mT(u), ct_u)
            if m > n:
                e = ct_u - _mm(_conj(u), _mm(mT(u), ct_u))
                e = _undetermined(e * _row(sinv), _row(zero_s), _ANY, _SVD_TIED)
                extra = _add(extra, _mm(e, _conj(vh)))
        if not _is_zero(ct_vh):
            v = _H(vh)
            ct_v = _H(ct_vh)
            ybar = _mm(mT(v), ct_v)
            if n > m:
                g = ct_v - _mm(_conj(v), _mm(mT(v), ct_v))
                g = _undetermined(g * _row(sinv), _row(zero_s), _ANY, _SVD_TIED)
                extra = _add(extra, _mm(_conj(u), _H(g)))
        if xbar is not None or ybar is not None:
            fm, tied = _gap_inverse(s)
            fp, zeros = _sum_inverse(s)
            # at a repeated singular value (or a pair of zeros, or a zero of a complex
            # or non-square matrix) every cotangent of the singular vectors is refused,
            # a zero one too, as eigh's (U diag(g(s)) Vh with g vanishing there)
            if ybar is None:
                rot, twist = xbar, xbar
            elif xbar is None:
                rot, twist = ybar, -ybar
            else:
                rot, twist = xbar + ybar, xbar - ybar
            sym = _undetermined(fm * rot, tied, _ANY, _SVD_TIED)
            skew = _undetermined(fp * twist, zeros, _ANY, _SVD_TIED)
            if xbar is not None and _cplx(xbar):      # the phase of u_k
                skew = skew + _undetermined(xbar * _diag_embed(sinv), _diag_mask(zero_s),
                                            _ANY, _SVD_TIED)
            sbar = _add(sbar, 0.5 * (sym + _H(sym)) + 0.5 * (skew - _H(skew)))
        abar = extra
        if sbar is not None:
            abar = _add(_mm(_mm(_conj(u), sbar), _conj(vh)), abar)
        if abar is None:
            return [None]
        if hermitian:
            abar = _herm(abar)
        return [fit_cotangent(abar, a)]

    def cost(self, args, ans, *, full_matrices, compute_uv, hermitian):
        return _svd_cost(args[0], compute_uv, full_matrices)


# ----------------------------------------------------------------- qr

_QR_RANK = (
    "chainrule.numpy.linalg.qr: the matrix is rank-deficient up to rounding (R has a "
    "diagonal entry that is zero up to rounding among the first min(M, N) columns; "
    "for a real square matrix, other than the last one). There a column of Q is any "
    "unit vector orthogonal to the previous ones (LAPACK picks one, and it jumps as "
    "the matrix moves), so Q and R have no derivative; a rule that divides by R's "
    "diagonal would return a number that is not one. Derivatives of qr need the "
    "leading columns to be linearly independent.")


def _qr_pivots(r, m, square):
    """Where qr's derivative does not exist, and the R its rules may invert.

    ``r`` is the (..., n, n) triangle of the first n columns (q: m x n). Returns
    ``(bad, r_safe)``: ``bad`` (..., 1, 1) holds for the matrices whose R has a diagonal
    entry that is zero up to rounding (8 max(m, n) eps max|R|) where the derivative
    needs it (every one, except the last one of a real square matrix: its Q column is
    the completion of the others, whatever R_nn is), and ``r_safe`` is R with those
    entries (and the last one of a real square R, which no rule reads) replaced by 1,
    so that inverting it never blows up: the columns of R^-1 that the rules read are
    the same. ``bad`` is None for an empty R."""
    n = shape_of(r)[-1]
    if n == 0 or _size(shape_of(r)) == 0:
        return None, r
    nd = len(shape_of(r))
    d = ew.abs_p.bind(_diag(r))
    top = reduce_max_p.bind(ew.abs_p.bind(r), axis=(nd - 2, nd - 1), keepdims=False)
    tol = _col(top) * (8.0 * max(m, n, 1) * _eps(r))
    small = ew.less_equal_p.bind(d, tol)
    needed = np.ones(n, bool)
    if square and not _cplx(r):
        needed[-1] = False
    bad = ew.logical_and_p.bind(small, needed)
    bad = _mat(reduce_max_p.bind(bad, axis=(nd - 2,), keepdims=False))
    replace = ew.logical_or_p.bind(small, ~needed)
    return bad, ew.select_p.bind(_diag_mask(replace), 1.0, r)


def _nan_matrices(value, bad, t):
    """``value`` with NaN in the matrices where ``bad`` (..., 1, 1) holds and the
    tangent ``t`` is not zero: forward mode's answer where no derivative exists."""
    if bad is None:
        return value
    nd = len(shape_of(t))
    moves = reduce_max_p.bind(ew.not_equal_p.bind(t, 0.0), axis=(nd - 2, nd - 1),
                              keepdims=True)
    return ew.select_p.bind(ew.logical_and_p.bind(bad, moves), np.nan, value)


def _qr_omega(z, n):
    """Q's rotation ``do`` from ``z = Q^H dX R^-1``: the strictly lower triangle minus
    its adjoint, and for complex input the imaginary part of the diagonal (R's diagonal
    stays real)."""
    low = z * np.tril(np.ones((n, n)), -1)
    do = low - _H(low)
    if _cplx(z):
        do = do + (z - _real(z)) * np.eye(n)
    return do


def _qr_square_jvp(q, r, dx, m):
    """QR's jvp for m >= n (q: m x n, r: n x n). Tall: JAX's rule. Square (q unitary):
    ``dQ = Q dO``, ``dR = Q^H dX - dO R``, the same map without the terms that cancel
    (JAX's ``(I - Q Q^H) dX R^-1``), so it reads only the columns of R^-1 it needs and
    stays exact where a real R's last diagonal entry vanishes. Returns ``dQ, dR``, NaN
    where the derivative does not exist (:func:`_qr_pivots`)."""
    n = shape_of(r)[-1]
    bad, r_safe = _qr_pivots(r, m, m == n)
    rinv = inv_p.bind(r_safe)
    if m == n:
        qhdx = _mm(_H(q), dx)
        do = _qr_omega(_mm(qhdx, rinv), n)
        dq, dr = _mm(q, do), qhdx - _mm(do, r)
    else:
        dxr = _mm(dx, rinv)
        z = _mm(_H(q), dxr)
        do = _qr_omega(z, n)
        dq, dr = _mm(q, do - z) + dxr, _mm(z - do, r)
    return _nan_matrices(dq, bad, dx), _nan_matrices(dr, bad, dx)


def _qr_square_vjp(q, r, ct_q, ct_r, m):
    """Transpose of :func:`_qr_square_jvp` (returns the cotangent of dX); raises
    NotImplementedError (NaN under vmap) where the derivative does not exist."""
    n = shape_of(r)[-1]
    bad, r_safe = _qr_pivots(r, m, m == n)
    rinv_t = mT(inv_p.bind(r_safe))
    if m == n:
        dobar = None if _is_zero(ct_r) else -_mm(ct_r, mT(r))
        if not _is_zero(ct_q):
            dobar = _add(dobar, _mm(mT(q), ct_q))
        zbar = (dobar - _H(dobar)) * np.tril(np.ones((n, n)), -1)
        if _cplx(dobar):
            zbar = zbar + (dobar - _real(dobar)) * np.eye(n)
        out = _mm(_conj(q), _mm(zbar, rinv_t))
        if not _is_zero(ct_r):
            out = out + _mm(_conj(q), ct_r)
    else:
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
        out = _mm(dxrbar, rinv_t)
    if bad is None:
        return out
    return _undetermined(out, bad, _ANY, _QR_RANK)


class QR(_StackPrimitive):
    """np.linalg.qr (modes 'reduced'; 'complete' = ``full_matrices``) -> [Q, R].

    Derivative: JAX's rule for m >= n; for wide matrices (m < n) A = [X | Y] with X
    square, Q, U = qr(X), V = Q^H Y. ``mode='complete'`` with m > n: Q's extra columns
    are an arbitrary orthonormal basis of the complement and R's extra rows are 0; the
    columns turn only as far as they must to stay orthogonal to the first N (exact for
    every loss through their span; reverse mode raises where a cotangent reaches a
    rotation within it), as for svd's ``full_matrices=True``.

    Square matrices use the form of the rule that never reads the last column of
    R^-1 (``dQ = Q dO``, ``dR = Q^H dA - dO R``): exact where a real square matrix is
    singular only in its last column. Where the first min(M, N) columns are
    rank-deficient up to rounding (a zero of R's diagonal that the derivative needs:
    :func:`_qr_pivots`) Q has no derivative: forward mode gives NaN, reverse mode
    raises NotImplementedError (NaN under vmap), never a number from a division by a
    rounding error."""
    multiple_results = True

    def impl(self, a, *, full_matrices):
        q, r = np.linalg.qr(a, mode="complete" if full_matrices else "reduced")
        return [q, r]

    def jvp(self, primals, tangents, *, full_matrices):
        (a,), (t,) = primals, tangents
        q, r = self.bind(a, full_matrices=full_matrices)
        if _is_zero(t):
            return [q, r], [Zero.like(q), Zero.like(r)]
        m, n = shape_of(a)[-2:]
        if full_matrices and m > n:      # the reduced factors are the first parts
            q1 = _cols(q, 0, n)
            dq, dr = _qr_square_jvp(q1, _rows(r, 0, n), t, m)
            dq = _join(dq, _complement_jvp(q1, dq, _cols(q, n, m)), -1)
            dr = _join(dr, np.zeros(shape_of(r)[:-2] + (m - n, n), dtype_of(dr)), -2)
            return [q, r], [dq, dr]
        if m >= n:
            return [q, r], list(_qr_square_jvp(q, r, t, m))
        e1, e2 = np.eye(n)[:, :m], np.eye(n)[:, m:]
        dq, du = _qr_square_jvp(q, _mm(r, e1), _mm(t, e1), m)
        dv = _mm(_H(dq), _mm(a, e2)) + _mm(_H(q), _mm(t, e2))
        return [q, r], [dq, _mm(du, e1.T) + _mm(dv, e2.T)]

    def vjp(self, ct, ans, args, needs, *, full_matrices):
        a = args[0]
        q, r = ans
        ct_q, ct_r = ct
        m, n = shape_of(a)[-2:]
        if full_matrices and m > n:      # R's extra rows are 0: no cotangent
            q1 = _cols(q, 0, n)
            if not _is_zero(ct_q):
                ct_q = _cols(ct_q, 0, n) + _complement_vjp(
                    q1, _cols(q, n, m), _cols(ct_q, n, m), _QR_COMPLEMENT)
            if not _is_zero(ct_r):
                ct_r = _rows(ct_r, 0, n)
            q, r = q1, _rows(r, 0, n)
        if m >= n:
            return [fit_cotangent(_qr_square_vjp(q, r, ct_q, ct_r, m), a)]
        e1, e2 = np.eye(n)[:, :m], np.eye(n)[:, m:]
        ubar = Zero((), np.float64)
        dybar = None
        if not _is_zero(ct_r):
            ubar, vbar = _mm(ct_r, e1), _mm(ct_r, e2)
            y = _mm(a, e2)
            ct_q = _add(None if _is_zero(ct_q) else ct_q, _mm(_conj(y), _H(vbar)))
            dybar = _mm(_conj(q), vbar)
        dxbar = _qr_square_vjp(q, _mm(r, e1), ct_q, ubar, m)
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
            t = _herm(t)
        m, n = shape_of(a)[-2:]
        ph = _H(p)
        th = _H(t)
        out = -_mm(_mm(p, t), p)
        out = out + _mm(_mm(_mm(p, ph), th), np.eye(m) - _mm(a, p))
        out = out + _mm(_mm(np.eye(n) - _mm(p, a), th), _mm(ph, p))
        return p, _pinv_truncates(out, a, rcond, hermitian)

    def vjp(self, ct, ans, args, needs, *, rcond, hermitian):
        abar = self._vjp(ct, ans, args, needs, rcond=rcond, hermitian=hermitian)[0]
        return [_pinv_truncates(abar, args[0], rcond, hermitian)]

    def _vjp(self, ct, ans, args, needs, *, rcond, hermitian):
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
            abar = _herm(abar)
        return [fit_cotangent(abar, a)]

    def cost(self, args, ans, **params):
        m, n = shape_of(args[0])[-2:]
        return _svd_cost(args[0], True, False) + _nbatch(args[0]) * 2 * m * n * min(m, n)


_PINV_TRUNCATES = (
    "chainrule.numpy.linalg.pinv/lstsq: rcond=/rtol= cuts off a singular value that is "
    "not zero (above sqrt(eps) times the largest), and the derivative of such a truncated "
    "pseudo-inverse is not the Golub-Pereyra formula the rule computes (it holds where "
    "the singular values cut off are zero). Use a smaller rcond, or build the truncated "
    "pseudo-inverse from linalg.svd (Vh[:k].T / s[:k]) @ U[:, :k].T.")


def _pinv_truncates(d, a, rcond, hermitian):
    """The derivative ``d`` of pinv, unless rcond cuts off a singular value that is not
    zero (then NotImplementedError, or NaN under vmap): a wrong number never."""
    s = svd_p.bind(stop_gradient_p.bind(a), full_matrices=False, compute_uv=False,
                   hermitian=hermitian)[0]
    nd = len(shape_of(s))
    top = reduce_max_p.bind(s, axis=(nd - 1,), keepdims=True)
    bad = ew.logical_and_p.bind(
        ew.less_equal_p.bind(s, top * rcond),
        ew.greater_p.bind(s, top * float(np.sqrt(np.finfo(np.float64).eps))))
    bad = reduce_max_p.bind(bad, axis=(nd - 1,), keepdims=False)
    if not has_value(bad):
        return ew.select_p.bind(reshape(bad, shape_of(bad) + (1, 1)), np.nan, d)
    if bool(reduce_max_p.bind(bad, axis=tuple(range(nd - 1)), keepdims=False)):
        raise NotImplementedError(_PINV_TRUNCATES)
    return d


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
