"""The eigendecomposition of a general (non-Hermitian) matrix: ``np.linalg.eig``.

``eig_p`` returns complex eigenvalues and eigenvectors for real and complex input
alike (the numpy layer takes the real parts where NumPy returns real arrays). It shares
``prims/linalg.py``'s helpers and conventions (complex numbers, repeated values).

Derivatives (distinct eigenvalues)
----------------------------------
With ``A V = V diag(w)`` and ``Z = V^-1 dA V``: ``dw = diag(Z)``, and the eigenvectors
turn by ``dU = V (F o Z)``, ``F_ij = 1 / (w_j - w_i)`` off the diagonal. An eigenvector
is only defined up to a complex factor; LAPACK (so NumPy) fixes it by two rules, and
the derivative follows both, so it is the derivative of the arrays NumPy returns:

* unit 2-norm: ``Re(v_j^H dv_j) = 0``;
* the component of largest modulus real: ``Im(dv_kj) = 0`` at ``k = argmax_i |v_ij|``.

The sign is not fixed for a real matrix (LAPACK's dgeev leaves the sign of a real
eigenvector, and of the largest component of a complex one, to its intermediate
results), and NumPy's eigenvectors can flip where the matrix changes; the derivative
holds the sign (for a real eigenvector the second rule is void).

So ``dv_j = du_j - v_j (Re(v_j^H du_j) + i Im(du_kj conj(v_kj)) / |v_kj|^2)``.
JAX and autograd keep the first rule and not the second (their complex eigenvectors'
derivatives leave the phase free): for real eigenvectors and for every loss that does
not depend on the phase of the eigenvectors (``|v|``, ``v v^H``, eigenvalues, ...)
the three agree; for a phase-dependent loss only this one matches finite differences
of ``np.linalg.eig``. Where the largest modulus is shared by two components (LAPACK
takes the first), NumPy's phase jumps and the derivative is the one-sided derivative
that keeps the first.

Repeated eigenvalues
--------------------
Where ``w_i == w_j`` (up to rounding, as for eigh) the eigenvectors of that eigenvalue
are not determined (and a defective matrix has no basis of them), and neither are the
separate derivatives of the repeated eigenvalues, unless the coupling ``Z_ij`` vanishes:
forward mode gives NaN in the eigenvector and eigenvalue tangents the coupling reaches;
reverse mode raises NotImplementedError wherever the eigenvectors get a cotangent (a
zero one too: for ``V g(w) V^-1`` the coupling's cotangent vanishes at a tie whatever
g is, so a zero cotangent does not mean the coupling is unused) or the copies of a
repeated eigenvalue get differing cotangents, NaN under vmap. A loss through a
symmetric function of the eigenvalues (``sum(f(w))``) is exact; matrix functions have
exact derivatives in ``chainrule.scipy.linalg`` (expm, logm, sqrtm,
fractional_matrix_power, funm).

Cost: about 25 n^3 FLOPs (Hessenberg reduction, QR iterations, back substitution).
"""
import numpy as np

from ..core import Zero, shape_of, dtype_of
from .shape import fit_cotangent, reduce_sum
from .products import mT
from .reductions import argmax_p, reduce_max_p
from . import elementwise as ew
from .linalg import (_StackPrimitive, _nbatch, _mm, _conj, _real, _imag, _diag,
                     _diag_embed, _row, _col, _gap_inverse, _significant, _nan_where,
                     _undetermined, _is_zero, _add, _ANY, inv_p)

_EIG_TIED = (
    "chainrule.numpy.linalg.eig: the eigenvectors get a cotangent at a repeated "
    "eigenvalue (equal up to rounding), or the copies of a repeated eigenvalue get "
    "different cotangents. There the eigenvectors are any basis of the eigenspace (a "
    "defective matrix has no basis of them) and the copies have no separate "
    "derivatives. Even a loss that does not depend on the basis (V @ diag(g(w)) @ "
    "inv(V)) has a derivative eig's rule cannot know: it needs g' at the repeated "
    "value, and the cotangent of the coupling vanishes there whatever g is; so every "
    "eigenvector cotangent is refused there, a zero one too. Exact alternatives: "
    "functions that treat the copies alike (sum(f(w)), eigvals); matrix functions "
    "g(A): chainrule.scipy.linalg.expm, logm, sqrtm, fractional_matrix_power (any "
    "matrix), funm (Hermitian matrices); eigenvalues that are not repeated.")


def _complex_t(x):
    return np.result_type(dtype_of(x), np.complex64)


def _largest(v):
    """The one-hot mask (..., n, n) of each column's component of largest modulus
    (the first of equal ones, as LAPACK's idamax), and those components (..., n)."""
    nd = len(shape_of(v))
    if shape_of(v)[-2] == 0:                # (no components: argmax has nothing to pick)
        return np.zeros(shape_of(v), bool), reduce_sum(v, (nd - 2,))
    k = argmax_p.bind(ew.abs_p.bind(v), axis=nd - 2, keepdims=True)
    hot = ew.equal_p.bind(k, np.arange(shape_of(v)[-2]).reshape(-1, 1))
    return hot, reduce_sum(ew.select_p.bind(hot, v, 0.0), (nd - 2,))


def _abs2(x):
    return _real(x) * _real(x) + _imag(x) * _imag(x)


class Eig(_StackPrimitive):
    """np.linalg.eig(a) -> [w, V], both complex. See the module docstring."""
    multiple_results = True

    def impl(self, a):
        w, v = np.linalg.eig(a)
        t = _complex_t(a)
        return [w.astype(t, copy=False), v.astype(t, copy=False)]

    def jvp(self, primals, tangents):
        (a,), (t,) = primals, tangents
        w, v = self.bind(a)
        if _is_zero(t) or shape_of(a)[-1] == 0:     # (an empty matrix: nothing moves)
            return [w, v], [Zero.like(w), Zero.like(v)]
        z = _mm(_mm(inv_p.bind(v), t), v)
        f, tied = _gap_inverse(w)
        coupled = ew.logical_and_p.bind(tied, _significant(z, z))
        either = ew.logical_or_p.bind(coupled, mT(coupled))
        nd = len(shape_of(either))
        dw = ew.select_p.bind(reduce_max_p.bind(either, axis=(nd - 1,), keepdims=False),
                              np.nan, _diag(z))
        du = _mm(v, _nan_where(z * f, tied, z))
        hot, vk = _largest(v)
        nd = len(shape_of(v))
        duk = reduce_sum(ew.select_p.bind(hot, du, 0.0), (nd - 2,))
        norm = _real(reduce_sum(_conj(v) * du, (nd - 2,)))
        phase = _imag(duk * _conj(vk)) / _abs2(vk)
        return [w, v], [dw, du - v * _row(norm + 1j * phase)]

    def vjp(self, ct, ans, args, needs):
        a = args[0]
        w, v = ans
        ct_w, ct_v = ct
        if shape_of(a)[-1] == 0:                    # (an empty matrix)
            return [np.zeros(shape_of(a), dtype_of(a))]
        f, tied = _gap_inverse(w)
        ct_z = None
        if not _is_zero(ct_w):
            spread = _row(ct_w) - _col(ct_w)
            ct_z = _undetermined(_diag_embed(ct_w), tied, spread, _EIG_TIED,
                                 _diag_embed(ct_w))
        if not _is_zero(ct_v):
            nd = len(shape_of(v))
            s = reduce_sum(ct_v * v, (nd - 2,))
            hot, vk = _largest(v)
            ct_du = ct_v - _row(_real(s)) * _conj(v) - 1j * ew.select_p.bind(
                hot, _conj(v) * _row(_imag(s) / _abs2(vk)), 0.0)
            ct_g = _mm(mT(v), ct_du)
            # every eigenvector cotangent at a repeated eigenvalue is refused, a zero one
            # too: for V g(w) V^-1 the cotangent of the coupling vanishes there whatever
            # g is, and the exact derivative needs g' (as eigh's, prims/linalg.py)
            ct_z = _add(ct_z, _undetermined(f * ct_g, tied, _ANY, _EIG_TIED))
        if ct_z is None:
            return [None]
        vinv = inv_p.bind(v)
        return [fit_cotangent(_mm(_mm(mT(vinv), ct_z), mT(v)), a)]

    def cost(self, args, ans):
        n = shape_of(args[0])[-1]
        return _nbatch(args[0]) * 25 * n ** 3


eig_p = Eig("eig")
