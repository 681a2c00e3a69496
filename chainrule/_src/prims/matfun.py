"""Functions of Hermitian matrices that stay differentiable where eigenvalues repeat:
``scipy.linalg.eigh`` with ``subset_by_index`` (some of the eigenpairs) and
``scipy.linalg.funm`` (``f(A) = V f(w) V^H``).

``numpy.linalg.eigh`` cannot be differentiated through its eigenvectors at a repeated
eigenvalue (``prims/linalg.py``): they are any basis of the eigenspace, and no rule of
eigh can tell a loss that does not use them from one that does through a factor that
vanishes there. These two give that information by construction.

eigh_subset (``scipy.linalg.eigh(a, subset_by_index=[lo, hi])``)
    Only the eigenpairs ``lo..hi`` are outputs, so eigenvalues repeated among the
    others do not matter. With all eigenpairs ``(w, V)`` of the matrix (the rules
    compute them with ``eigh_p``) and the selected ones ``(w_s, V_s)``:
    ``dw_s = Re diag(V_s^H dS V_s)``, ``dV_s = V (C o (V^H dS V_s))``,
    ``C_ji = 1 / (w_s_i - w_j)`` (0 for the pair of an eigenpair with itself), ``dS``
    the Hermitian part of the tangent (Hermitian gradients, as eigh's). A selected
    eigenvalue that repeats (inside or outside the subset) is eigh's case again: its
    eigenvectors' tangent is NaN, and a cotangent of them raises NotImplementedError
    (NaN under vmap), as does an eigenvalue cotangent when a copy of it lies outside
    the subset (the function is not differentiable there).

daleckii_krein (``scipy.linalg.funm`` of a Hermitian matrix, ``scipy/linalg.py``)
    ``F = V g(w) V^H`` with the Frechet derivative of Daleckii and Krein,
    ``dF = V (G o (V^H E V)) V^H``, ``G_ij = (g(w_i) - g(w_j)) / (w_i - w_j)`` and
    ``g'(w_i)`` where ``w_i`` and ``w_j`` are equal or close (``|w_i - w_j| <= sqrt(eps)
    max(1, max|w|)``: the mean of ``g'`` at both, whose error is below the divided
    difference's rounding there). ``E`` is the Hermitian part of the tangent and the
    gradient is Hermitian, as eigh's (``prims/linalg.py``): the second derivative goes
    through eigh's rules, which see the Hermitian part, so both orders agree. ``g = func(w)`` and ``g' `` (forward mode through ``func``, an elementwise
    function as SciPy requires) are computed where funm is called, so the rules never
    call the user's function later (a closure that changed meanwhile cannot change the
    derivative). Exact at repeated eigenvalues; the second derivative there goes
    through eigh's eigenvectors (NaN or NotImplementedError).

Cost: eigh's 9 n^3 for the eigendecomposition, SciPy's subset eigensolver, 2 n^3 for
``V g V^H``.
"""
import numpy as np
import scipy.linalg as sl

from ..core import Primitive, Zero, shape_of, dtype_of
from .shape import fit_cotangent, reduce_sum, batch_to_front as _front
from .products import mT
from .reductions import reduce_max_p
from . import elementwise as ew
from .linalg import (_StackPrimitive, _nbatch, _mm, _H, _conj, _real, _diag, _row, _col,
                     _herm, _tol, _undetermined, _is_zero, _add, _ANY,
                     eigh_p)

_SUBSET_TIED = (
    "chainrule.scipy.linalg.eigh: a selected eigenvalue (subset_by_index) is repeated "
    "(equal up to rounding to another eigenvalue of the matrix), and its eigenvectors "
    "get a cotangent, or its value does while a copy of it lies outside the subset: "
    "there the eigenvectors are any basis of the eigenspace and the selected "
    "eigenvalue is not differentiable. Choose a subset whose ends are not repeated "
    "outside it and do not use the eigenvectors of repeated eigenvalues, or use "
    "chainrule.scipy.linalg.funm(A, g) for V g(w) V^H.")

NOT_HERMITIAN = (
    "chainrule.scipy.linalg.funm: inside a transformation only Hermitian (real "
    "symmetric) matrices are supported: funm is computed there as V f(w) V^H from their "
    "eigendecomposition, with the derivatives of Daleckii and Krein; this matrix is not "
    "Hermitian (beyond 1e-10 max|A|). For a general matrix use "
    "chainrule.scipy.linalg.expm, logm, sqrtm or fractional_matrix_power (exact Frechet "
    "derivatives).")


def not_hermitian(a):
    """The (..., 1, 1) mask of matrices that are not Hermitian beyond 1e-10 max|A|."""
    nd = len(shape_of(a))
    gap = reduce_max_p.bind(ew.abs_p.bind(a - _H(a)), axis=(nd - 2, nd - 1), keepdims=True)
    top = reduce_max_p.bind(ew.abs_p.bind(a), axis=(nd - 2, nd - 1), keepdims=True)
    return ew.greater_p.bind(gap, 1e-10 * top)


def _pair_masks(w_all, w_sel):
    """(n, k) masks: ``tied[j, i]`` where ``w_all[j]`` equals ``w_sel[i]`` up to rounding;
    the counts of tied eigenvalues per selected one (..., k)."""
    diff = _row(w_sel) - _col(w_all)
    tied = ew.less_equal_p.bind(ew.abs_p.bind(diff), _tol(w_all))
    nd = len(shape_of(tied))
    count = reduce_sum(ew.select_p.bind(tied, 1.0, 0.0), (nd - 2,))
    return diff, tied, count


class EighSubset(_StackPrimitive):
    """scipy.linalg.eigh(a, lower, subset_by_index=(lo, hi), driver) -> [w_s, V_s]."""
    multiple_results = True

    def impl(self, a, *, lower, lo, hi, driver):
        w, v = sl.eigh(a, lower=lower, subset_by_index=(lo, hi), driver=driver,
                       check_finite=False)
        return [w, v]

    def _all(self, a, lower):
        return eigh_p.bind(a, UPLO="L" if lower else "U")

    def jvp(self, primals, tangents, *, lower, lo, hi, driver):
        (a,), (t,) = primals, tangents
        ws, vs = self.bind(a, lower=lower, lo=lo, hi=hi, driver=driver)
        if _is_zero(t):
            return [ws, vs], [Zero.like(ws), Zero.like(vs)]
        w, v = self._all(a, lower)
        s = _herm(t)
        z = _mm(_mm(_H(v), s), vs)                         # (n, k)
        dw = _real(_diag(_mm(_mm(_H(vs), s), vs)))
        diff, tied, count = _pair_masks(w, ws)
        safe = ew.select_p.bind(tied, 1.0, diff)
        coef = ew.select_p.bind(tied, 0.0, 1.0 / safe)
        dv = _mm(v, z * coef)
        repeated = _row(ew.greater_p.bind(count, 1.5))
        dv = ew.select_p.bind(ew.logical_and_p.bind(repeated, np.ones(shape_of(vs)[-2:], bool)),
                              np.nan, dv)
        return [ws, vs], [dw, dv]

    def vjp(self, ct, ans, args, needs, *, lower, lo, hi, driver):
        a = args[0]
        ws, vs = ans
        ct_w, ct_v = ct
        w, v = self._all(a, lower)
        diff, tied, count = _pair_masks(w, ws)
        k = shape_of(ws)[-1]
        repeated = _row(ew.greater_p.bind(count, 1.5))            # (..., 1, k)
        abar = None
        if not _is_zero(ct_w):
            # a copy outside the subset: the selected value is not differentiable
            dw_sel = _row(ws) - _col(ws)
            inside = reduce_sum(ew.select_p.bind(ew.less_equal_p.bind(
                ew.abs_p.bind(dw_sel), _tol(w)), 1.0, 0.0), (len(shape_of(dw_sel)) - 2,))
            partial = _row(ew.greater_p.bind(count - inside, 0.5))
            cw = _undetermined(_row(_real(ct_w)), partial, _row(_real(ct_w)), _SUBSET_TIED)
            abar = _mm(_conj(vs) * cw, mT(vs))
        if not _is_zero(ct_v):
            safe = ew.select_p.bind(tied, 1.0, diff)
            coef = ew.select_p.bind(tied, 0.0, 1.0 / safe)
            ybar = coef * _mm(mT(v), ct_v)                        # (n, k)
            ybar = _undetermined(ybar, repeated, np.ones((1, k)), _SUBSET_TIED)
            abar = _add(abar, _mm(_mm(_conj(v), ybar), mT(vs)))
        if abar is None:
            return [None]
        return [fit_cotangent(_herm(abar), a)]

    def cost(self, args, ans, **params):
        n = shape_of(args[0])[-1]
        return _nbatch(args[0]) * 9 * n ** 3


def divided_differences(w, g, dg):
    """G_ij = (g_i - g_j) / (w_i - w_j), and (g'_i + g'_j) / 2 where w_i, w_j are
    equal or close (see the module docstring); chainrule operations, so G is
    differentiated again through w, g and g'."""
    diff = _col(w) - _row(w)
    nd = len(shape_of(w))
    top = reduce_max_p.bind(ew.abs_p.bind(w), axis=(nd - 1,), keepdims=True)
    close = ew.less_equal_p.bind(ew.abs_p.bind(diff), _col(
        ew.maximum_p.bind(top, 1.0)) * np.sqrt(np.finfo(np.float64).eps))
    safe = ew.select_p.bind(close, 1.0, diff)
    return ew.select_p.bind(close, 0.5 * (_col(dg) + _row(dg)), (_col(g) - _row(g)) / safe)


class DaleckiiKrein(Primitive):
    """``dk(a, v, w, g, dg) = V diag(g) V^H`` for a Hermitian ``a = V diag(w) V^H``
    with ``g = f(w)`` and ``dg = f'(w)`` (computed by the caller from ``a``): the
    derivative is taken in ``a`` alone, by the divided differences of f
    (``dF = V (G o (V^H dA V)) V^H``, ``dA`` the tangent's Hermitian part). The other arguments are functions of ``a``
    that the rule reads; their tangents are not added (they are already in it), and
    they get no cotangent. Written with chainrule operations on them, the rule is
    differentiated again through their own rules (g' through f', g'' through the
    forward mode that made dg)."""

    def impl(self, a, v, w, g, dg):
        return np.matmul(v * g[..., None, :], np.conj(np.swapaxes(v, -1, -2)))

    def _dk(self, v, w, g, dg, t):
        big = divided_differences(w, g, dg)
        return _mm(_mm(v, big * _mm(_mm(_H(v), t), v)), _H(v))

    def jvp(self, primals, tangents):
        a, v, w, g, dg = primals
        ans = self.bind(a, v, w, g, dg)
        if _is_zero(tangents[0]):
            return ans, Zero.like(ans)
        out = self._dk(v, w, g, dg, _herm(tangents[0]))
        return ans, _match(_undetermined(out, not_hermitian(a), _ANY, NOT_HERMITIAN), ans)

    def vjp(self, ct, ans, args, needs):
        a, v, w, g, dg = args
        if not needs[0]:
            return [None] * 5
        big = divided_differences(w, g, dg)
        abar = _mm(_mm(_conj(v), big * _mm(_mm(mT(v), ct), _conj(v))), mT(v))
        abar = _undetermined(_herm(abar), not_hermitian(a), _ANY, NOT_HERMITIAN)
        return [fit_cotangent(abar, a), None, None, None, None]

    def batch(self, args, dims):
        return self.bind(*_front(args, dims)), 0

    def cost(self, args, ans):
        n = shape_of(args[0])[-1]
        return _nbatch(args[0]) * 2 * n ** 3


def _match(t, ans):
    """The tangent in the output's (real/complex) kind."""
    if dtype_of(t).kind == "c" and dtype_of(ans).kind != "c":
        return _real(t)
    if dtype_of(t).kind != "c" and dtype_of(ans).kind == "c":
        return t + 0j
    return t


eigh_subset_p = EighSubset("eigh_subset")
dk_p = DaleckiiKrein("daleckii_krein")
