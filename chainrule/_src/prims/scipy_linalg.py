"""scipy.linalg primitives: solve_triangular, expm, logm, fractional_matrix_power, sqrtm
and solve_sylvester.

Every primitive takes stacks of matrices (``(..., n, n)``, batch dimensions equal
across arguments: the public functions broadcast first) and SciPy (>= 1.15) batches
natively, so batching rules only move the batch axis to the front.

Derivatives (complex inputs follow JAX: plain transposes, no conjugation):

* solve_triangular: ``X = op(A)^-1 B``, ``dX = op(A)^-1 (dB - op(dA) X)`` with ``dA``
  restricted to the triangle SciPy reads (strictly, for ``unit_diagonal``).
* expm: the Frechet derivative ``L(A, E)`` is the top-right block of
  ``expm([[A, E], [0, A]])``; its adjoint is ``L(A^T, .)``.
* logm, fractional_matrix_power: the same block identity, ``f([[A, E], [0, A]]) =
  [[f(A), L(A, E)], [0, f(A)]]`` for every primary matrix function (exact where f is
  defined, repeated eigenvalues included), computed with SciPy's own f; the adjoint is
  ``L(A^T, .)``.
* solve_sylvester (``AX + XB = Q``): ``dX = sylv(A, B, dQ - dA X - X dB)``; the
  adjoint of ``Q -> X`` is ``sylv(A^T, B^T, .)``.
* sqrtm: ``X dX + dX X = dA``, i.e. ``dX = sylv(X, X, dA)``.
* solve_banded (one ``(l + u + 1, n)`` band, SciPy's diagonal ordered form
  ``ab[u + i - j, j] == a[i, j]``): ``dX = A^-1 (dB - dA X)``, ``dA X`` read off the
  band; the adjoint solves with the transposed band (``(u, l)``, gathered from ``ab``)
  and the band of ``-G X^T``. Everything stays banded: O((l + u) n k).
"""
import numpy as np
import scipy.linalg as sl

from ..core import Primitive, NonDiffPrimitive, Zero, shape_of, dtype_of, instantiate
from ..core import size_of as _size
from ..interpreters.batching import axis_size, loop_batch
from .shape import (moveaxis, fit_cotangent, reshape, reduce_sum, broadcast_to,
                    batch_to_front as _front)
from .structure import concatenate_p
from .indexing import getitem_p, argsort_p, ARRAY
from .products import mT
from .elementwise import real_p





def _tri_mask(n, lower, unit_diagonal):
    k = -1 if unit_diagonal else 0
    ones = np.ones((n, n))
    return np.tril(ones, k) if lower else np.triu(ones, -k)


def _front_aligned(args, dims):
    """:func:`batch_to_front`, each argument's stack axes then padded with 1s after the
    batch axis to the longest per-example rank: the arguments broadcast their stacks
    against each other (an unbatched (n, k) ``b`` put in front of a batched (1, n, n)
    ``a`` broadcast the batch against the stack: per-example shape (2, n, k), not
    (1, n, k))."""
    vals = _front(args, dims)
    nd = max(len(shape_of(v)) for v in vals)
    return [v if len(shape_of(v)) == nd else
            reshape(v, shape_of(v)[:1] + (1,) * (nd - len(shape_of(v))) + shape_of(v)[1:])
            for v in vals]


class SolveTriangular(Primitive):
    """X with op(A) X = B; op(A) = A (trans=0) or A^T (trans=1); B is (..., n, k)."""

    def impl(self, a, b, *, lower, trans, unit_diagonal):
        return sl.solve_triangular(a, b, trans=trans, lower=lower,
                                   unit_diagonal=unit_diagonal, check_finite=False)

    def jvp(self, primals, tangents, *, lower, trans, unit_diagonal):
        a, b = primals
        ta, tb = tangents
        params = dict(lower=lower, trans=trans, unit_diagonal=unit_diagonal)
        x = self.bind(a, b, **params)
        if type(ta) is Zero and type(tb) is Zero:
            return x, Zero.like(x)
        rhs = None if type(tb) is Zero else tb
        if type(ta) is not Zero:
            da = ta * _tri_mask(shape_of(a)[-1], lower, unit_diagonal)
            term = (mT(da) if trans else da) @ x
            rhs = -term if rhs is None else rhs - term
        return x, self.bind(a, rhs, **params)

    def vjp(self, ct, x, args, needs, *, lower, trans, unit_diagonal):
        a, b = args
        g = self.bind(a, ct, lower=lower, trans=1 - trans, unit_diagonal=unit_diagonal)
        ct_a = None
        if needs[0]:
            ct_a = -(x @ mT(g) if trans else g @ mT(x))
            ct_a = fit_cotangent(ct_a * _tri_mask(shape_of(a)[-1], lower, unit_diagonal), a)
        return [ct_a, fit_cotangent(g, b) if needs[1] else None]

    def batch(self, args, dims, **params):
        return self.bind(*_front_aligned(args, dims), **params), 0

    def cost(self, args, ans, **params):
        b = shape_of(args[1])
        return _size(b) * b[-2]        # n^2 k per (n, n) x (n, k) system


def _block(a, e):
    """[[A, E], [0, A]] for stacks of matrices."""
    nd = len(shape_of(a))
    top = concatenate_p.bind(a, e, axis=nd - 1)
    bottom = concatenate_p.bind(0.0 * e, a, axis=nd - 1)
    return concatenate_p.bind(top, bottom, axis=nd - 2)


def frechet_expm(a, e):
    """L(A, E) = d/dt expm(A + tE) at t = 0, written with expm_p (differentiates again)."""
    if dtype_of(e) != dtype_of(a):
        dt = np.result_type(dtype_of(a), dtype_of(e))
        a, e = a + np.zeros((), dt), e + np.zeros((), dt)
    nd, n = len(shape_of(a)), shape_of(a)[-1]
    big = expm_p.bind(_block(a, e))
    spec = (("slice", None, None, None),) * (nd - 2) + (
        ("slice", 0, n, None), ("slice", n, 2 * n, None))
    return getitem_p.bind(big, spec=spec)


class Expm(Primitive):
    def impl(self, a):
        return sl.expm(a)

    def jvp(self, primals, tangents):
        (a,), (t,) = primals, tangents
        ans = self.bind(a)
        if type(t) is Zero:
            return ans, Zero.like(ans)
        return ans, frechet_expm(a, t)

    def vjp(self, ct, ans, args, needs):
        return [fit_cotangent(frechet_expm(mT(args[0]), ct), args[0])]

    def batch(self, args, dims):
        return self.bind(moveaxis(args[0], dims[0], 0)), 0

    def cost(self, args, ans):
        s = shape_of(args[0])
        # Pade 13 with scaling and squaring: ~6 products, one solve, a few squarings
        return 20 * _size(s) * s[-1]


def _frechet_block(prim, a, e, ans, **params):
    """L_f(A, E): the top-right block of ``prim([[A, E], [0, A]])`` (f primary), in the
    (real/complex) kind of ``ans = f(A)``."""
    dt = np.result_type(dtype_of(a), dtype_of(e))
    if dtype_of(a) != dt or dtype_of(e) != dt:
        a, e = a + np.zeros((), dt), e + np.zeros((), dt)
    nd, n = len(shape_of(a)), shape_of(a)[-1]
    big = prim.bind(_block(a, e), **params)
    spec = (("slice", None, None, None),) * (nd - 2) + (
        ("slice", 0, n, None), ("slice", n, 2 * n, None))
    out = getitem_p.bind(big, spec=spec)
    if dtype_of(out).kind == "c" and dtype_of(ans).kind != "c":
        out = real_p.bind(out)
    elif dtype_of(out).kind != "c" and dtype_of(ans).kind == "c":
        out = out + 0j
    return out


class _BlockFrechet(Primitive):
    """A primary matrix function of SciPy's (``_fn(a, **params)``), differentiated by
    :func:`_frechet_block`."""

    def impl(self, a, **params):
        return self._fn(a, **params)

    def jvp(self, primals, tangents, **params):
        (a,), (t,) = primals, tangents
        ans = self.bind(a, **params)
        if type(t) is Zero:
            return ans, Zero.like(ans)
        return ans, _frechet_block(self, a, t, ans, **params)

    def vjp(self, ct, ans, args, needs, **params):
        a = args[0]
        return [fit_cotangent(_frechet_block(self, mT(a), ct, mT(ans), **params), a)]

    def batch(self, args, dims, **params):
        return self.bind(moveaxis(args[0], dims[0], 0), **params), 0

    def cost(self, args, ans, **params):
        s = shape_of(args[0])
        return 40 * _size(s) * s[-1]      # Schur, square roots and a Pade approximant


class Logm(_BlockFrechet):
    """The principal logarithm (scipy.linalg.logm)."""

    @staticmethod
    def _fn(a):
        return sl.logm(a)


class FractionalMatrixPower(_BlockFrechet):
    """A^t for a real t (scipy.linalg.fractional_matrix_power)."""

    @staticmethod
    def _fn(a, *, t):
        return sl.fractional_matrix_power(a, t)


class SolveSylvester(Primitive):
    """X with A X + X B = Q (stacks of square matrices)."""

    def impl(self, a, b, q):
        return sl.solve_sylvester(a, b, q)

    def jvp(self, primals, tangents):
        a, b, q = primals
        ta, tb, tq = tangents
        x = self.bind(a, b, q)
        if all(type(t) is Zero for t in tangents):
            return x, Zero.like(x)
        rhs = None if type(tq) is Zero else tq
        for t, term in ((ta, lambda: ta @ x), (tb, lambda: x @ tb)):
            if type(t) is not Zero:
                rhs = -term() if rhs is None else rhs - term()
        return x, self.bind(a, b, rhs)

    def vjp(self, ct, x, args, needs):
        a, b, q = args
        g = self.bind(mT(a), mT(b), ct)
        return [fit_cotangent(-(g @ mT(x)), a) if needs[0] else None,
                fit_cotangent(-(mT(x) @ g), b) if needs[1] else None,
                fit_cotangent(g, q) if needs[2] else None]

    def batch(self, args, dims):
        return self.bind(*_front_aligned(args, dims)), 0

    def cost(self, args, ans):
        s = shape_of(args[0])
        return 60 * _size(s) * s[-1]      # two Schur decompositions and a triangular solve


class Sqrtm(Primitive):
    """The principal square root (scipy.linalg.sqrtm)."""

    def impl(self, a):
        return sl.sqrtm(a)

    def jvp(self, primals, tangents):
        (a,), (t,) = primals, tangents
        x = self.bind(a)
        if type(t) is Zero:
            return x, Zero.like(x)
        return x, solve_sylvester_p.bind(x, x, t)

    def vjp(self, ct, x, args, needs):
        xt = mT(x)
        return [fit_cotangent(solve_sylvester_p.bind(xt, xt, ct), args[0])]

    def batch(self, args, dims):
        return self.bind(moveaxis(args[0], dims[0], 0)), 0

    def cost(self, args, ans):
        s = shape_of(args[0])
        return 30 * _size(s) * s[-1]      # Schur decomposition plus the recurrence


def _band(l, u, n):
    """Band position (r, j) -> (row i = r - u + j of A, clipped; whether it is in A)."""
    r, j = np.arange(l + u + 1)[:, None], np.arange(n)[None, :]
    i = r - u + j
    return np.clip(i, 0, n - 1), ((i >= 0) & (i < n)).astype(np.float64)


def _band_transpose(ab, l, u):
    """The band of A^T ((u, l) diagonals) from the band of A: at (r, j) it holds
    A[j, r - l + j] = ab[u + l - r, r - l + j]."""
    n = shape_of(ab)[-1]
    r, j = np.arange(l + u + 1)[:, None], np.arange(n)[None, :]
    col = r - l + j
    inside = ((col >= 0) & (col < n)).astype(np.float64)
    return ab[np.broadcast_to(u + l - r, col.shape), np.clip(col, 0, n - 1)] * inside


def _band_matmul(dab, x, l, u):
    """A x for the band ``dab``: (A x)_i = sum_r dab[r, j] x_j with j = i + u - r."""
    n = shape_of(dab)[-1]
    r, i = np.arange(l + u + 1)[:, None], np.arange(n)[None, :]
    j = i + u - r
    inside = ((j >= 0) & (j < n)).astype(np.float64)
    jc = np.clip(j, 0, n - 1)
    coef = dab[np.broadcast_to(r, j.shape), jc] * inside           # (L, n)
    xs = x[jc]                                                     # (L, n) or (L, n, k)
    if len(shape_of(x)) == 2:
        coef = reshape(coef, shape_of(coef) + (1,))
    return reduce_sum(coef * xs, (0,))


def _band_outer(g, x, l, u):
    """The band of G X^T: at (r, j), sum_k G[r - u + j, k] X[j, k]."""
    n = shape_of(g)[0]
    rows, inside = _band(l, u, n)
    prod = g[rows] * x                 # (L, n) or (L, n, k) (x broadcasts over r)
    if len(shape_of(g)) == 2:
        prod = reduce_sum(prod, (2,))
    return prod * inside


class SolveBanded(Primitive):
    """x with A x = b, A given by its band ``ab`` (l lower, u upper diagonals); b is
    (n,) or (n, k). One system per application (SciPy's own batching loops too)."""

    def impl(self, ab, b, *, l, u):
        return sl.solve_banded((l, u), ab, b, check_finite=False)

    def jvp(self, primals, tangents, *, l, u):
        ab, b = primals
        tab, tb = tangents
        x = self.bind(ab, b, l=l, u=u)
        if type(tab) is Zero and type(tb) is Zero:
            return x, Zero.like(x)
        rhs = None if type(tb) is Zero else tb
        if type(tab) is not Zero:
            term = _band_matmul(tab, x, l, u)
            rhs = -term if rhs is None else rhs - term
        return x, self.bind(ab, rhs, l=l, u=u)

    def vjp(self, ct, x, args, needs, *, l, u):
        ab, b = args
        g = self.bind(_band_transpose(ab, l, u), ct, l=u, u=l)
        ct_ab = fit_cotangent(-_band_outer(g, x, l, u), ab) if needs[0] else None
        return [ct_ab, fit_cotangent(g, b) if needs[1] else None]

    def batch(self, args, dims, *, l, u):
        (ab, b), (da, db) = args, dims
        if da is None:       # right-hand sides only: one solve with the batch as columns
            bb = moveaxis(b, db, -1)                         # (n, [k,] B)
            s = shape_of(bb)
            x = self.bind(ab, reshape(bb, (s[0], _size(s[1:]))), l=l, u=u)
            return reshape(x, s), len(s) - 1
        return loop_batch(self, args, dims, dict(l=l, u=u), axis_size(args, dims))

    def cost(self, args, ans, *, l, u):
        return 2 * (l + u + 1) * _size(shape_of(ans))


def _perm_of(piv):
    """LAPACK's row interchanges -> the permutation ``perm`` with ``A[perm] = L U``."""
    n = piv.shape[-1]
    perm = np.broadcast_to(np.arange(n), piv.shape).copy()
    for idx in np.ndindex(*piv.shape[:-1]):
        p = perm[idx]
        for i, j in enumerate(piv[idx]):
            p[i], p[j] = p[j], p[i]
    return perm


class PivToPerm(NonDiffPrimitive):
    """The row permutation of LAPACK's pivots (``lu_factor``'s ``piv``)."""

    def impl(self, piv):
        return _perm_of(np.asarray(piv))

    def batch(self, args, dims):
        return self.bind(moveaxis(args[0], dims[0], 0)), 0

    def cost(self, args, ans):
        return 0


class LUFactor(Primitive):
    """(lu, piv) = scipy.linalg.lu_factor(a) for square (..., n, n) stacks: L (unit lower,
    strictly below the diagonal of ``lu``) and U (upper) with ``a[perm] = L U``.

    Derivative (pivots held): with X = L^-1 da[perm] U^-1, dL = L tril(X, -1) and
    dU = triu(X) U (packed: their sum); the adjoint is da = (L^-T Xb U^-T)[perm^-1]
    with Xb = tril(L^T Cl, -1) + triu(Cu U^T) for the cotangent's two triangles."""
    multiple_results = True

    def impl(self, a):
        a = np.asarray(a)
        if a.ndim == 2:
            lu, piv = sl.lu_factor(a, check_finite=False)
            return [lu, piv.astype(np.int32)]
        lus, pivs = np.empty_like(a), np.empty(a.shape[:-1], np.int32)
        for idx in np.ndindex(*a.shape[:-2]):
            lus[idx], pivs[idx] = sl.lu_factor(a[idx], check_finite=False)
        return [lus, pivs]

    @staticmethod
    def _factors(lu):
        n = shape_of(lu)[-1]
        low = np.tril(np.ones((n, n)), -1)
        return lu * low + np.eye(n), lu * (1.0 - low), low

    def jvp(self, primals, tangents):
        (a,), (t,) = primals, tangents
        lu, piv = self.bind(a)
        if type(t) is Zero:
            return [lu, piv], [Zero.like(lu), Zero.like(piv)]
        L, U, low = self._factors(lu)
        perm = piv_to_perm_p.bind(piv)
        tp = _take_rows(t, perm)
        y = solve_triangular_p.bind(L, tp, lower=True, trans=0, unit_diagonal=True)
        x = mT(solve_triangular_p.bind(U, mT(y), lower=False, trans=1, unit_diagonal=False))
        return [lu, piv], [(L @ (x * low)) + (x * (1.0 - low)) @ U, Zero.like(piv)]

    def vjp(self, ct, ans, args, needs):
        lu, piv = ans
        c = instantiate(ct[0])
        L, U, low = self._factors(lu)
        xb = (mT(L) @ (c * low)) * low + ((c * (1.0 - low)) @ mT(U)) * (1.0 - low)
        # a_bar[perm] = L^-T xb U^-T
        z = solve_triangular_p.bind(L, xb, lower=True, trans=1, unit_diagonal=True)
        m = mT(solve_triangular_p.bind(U, mT(z), lower=False, trans=0, unit_diagonal=False))
        inv = piv_to_perm_p.bind(piv)
        return [fit_cotangent(_take_rows(m, _inverse(inv)), args[0])]

    def batch(self, args, dims):
        return self.bind(moveaxis(args[0], dims[0], 0)), [0, 0]

    def cost(self, args, ans):
        n = shape_of(args[0])[-1]
        return (2 * n ** 3 // 3) * _size(shape_of(args[0])[:-2])


def _take_rows(x, perm):
    """x[..., perm, :] with a per-matrix permutation (..., n)."""
    s = shape_of(x)
    rows = reshape(perm, shape_of(perm) + (1,))
    rows = broadcast_to(rows, s)
    idx = [np.arange(d).reshape((1,) * k + (d,) + (1,) * (len(s) - k - 1))
           for k, d in enumerate(s)]
    idx[-2] = rows
    return getitem_p.bind(x, *idx, spec=(ARRAY,) * len(s))


def _inverse(perm):
    return argsort_p.bind(perm, axis=len(shape_of(perm)) - 1)


solve_triangular_p = SolveTriangular("solve_triangular")
expm_p = Expm("expm")
solve_sylvester_p = SolveSylvester("solve_sylvester")
logm_p = Logm("logm")
fractional_matrix_power_p = FractionalMatrixPower("fractional_matrix_power")
sqrtm_p = Sqrtm("sqrtm")
solve_banded_p = SolveBanded("solve_banded")
piv_to_perm_p = PivToPerm("piv_to_perm")
lu_factor_p = LUFactor("lu_factor")
