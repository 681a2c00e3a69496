"""chainrule.numpy.linalg: differentiable ``numpy.linalg``.

Decompositions and solvers bind the primitives of ``prims/linalg.py`` (see its
docstring for the derivative conventions: Hermitian gradients for cholesky/eigh,
degenerate spectra, complex numbers, costs); norms, matrix powers, lstsq, cond,
multi_dot, tensorinv/tensorsolve and the NumPy 2 array-API helpers are compositions.

What is not differentiable or not implemented inside transformations:

* ``svd(..., full_matrices=True)`` (NumPy's default) of a non-square matrix and
  ``qr(mode='complete')`` of a tall one: the extra columns (an arbitrary orthonormal
  basis of a complement) are differentiable through their span (``U[:, :k]``, the
  projector onto the extra columns); a loss that depends on the basis itself raises
  NotImplementedError in reverse mode. ``qr(mode='raw')`` (LAPACK's Householder
  reflectors): NotImplementedError inside transformations.
* ``matrix_rank`` and lstsq's ``rank``: integers (no derivative).
* slogdet/inv/solve at exactly singular matrices: the derivative raises LinAlgError,
  as the value does for inv/solve (slogdet's is infinite there). det's derivative at a
  singular matrix is the cofactor matrix (the adjugate's transpose), exact to any order
  (under vmap, where each example has its own value, it raises LinAlgError instead).
* qr where the leading columns are rank-deficient (up to rounding), and svd's singular
  vectors at a singular value that is zero up to rounding (non-square or complex
  matrices): no derivative exists; reverse mode raises NotImplementedError, forward
  mode gives NaN.
* ``eig``/``eigvals`` of a real matrix: NumPy returns real arrays when every
  eigenvalue is real, which depends on the values: under ``jit`` a guard, under
  ``vmap`` (each example could decide differently) complex arrays (JAX's convention).
  Their derivatives: ``prims/eig.py``.
"""
import operator

import numpy as np

from .. import backend
from ..core import shape_of, dtype_of, has_value
from ..core import size_of as _size
from ..prims import shape as sp
from ..prims import elementwise as ew
from ..prims.products import matmul_p
from . import aliasing
from .basic import concrete
from ..prims.reductions import reduce_max_p, reduce_min_p
from ..prims.linalg import (inv_p, solve_p, det_p, slogdet_p, cholesky_p, eigh_p, svd_p,
                            qr_p, pinv_p, matrix_rank_p)
from ..prims.eig import eig_p
from . import basic, products, reductions as _reductions, shape as _shape
from .basic import asarray_like, normalize_axis, as_inexact
from .dispatch import numpy_function, no_kwargs

LinAlgError = np.linalg.LinAlgError
_L = np.linalg._linalg
_SlogdetResult = getattr(_L, "SlogdetResult", None)
_EighResult = getattr(_L, "EighResult", None)
_EigResult = getattr(_L, "EigResult", None)
_SVDResult = getattr(_L, "SVDResult", None)
_QRResult = getattr(_L, "QRResult", None)
_NoValue = getattr(np, "_NoValue", None)


def _result(cls, *values):
    return cls(*values) if cls is not None else tuple(values)


def _linalg(np_fn, name=None, eager=None, **kw):
    return numpy_function(np_fn, module="numpy.linalg", name=name, eager=eager, **kw)


def _cholesky_eager(a, /, *, upper=False):
    """np.linalg.cholesky outside transformations, with NumPy's factor on Dask arrays
    too (Dask's own cholesky returns the upper one unless told lower=True)."""
    if type(a) is not np.ndarray and backend.is_lazy(a):
        return cholesky_p.impl(a, upper=bool(upper))
    return np.linalg.cholesky(a, upper=upper)


def _check_2d(*arrays):
    for a in arrays:
        nd = len(shape_of(a))
        if nd < 2:
            raise LinAlgError(f"{nd}-dimensional array given. Array must be at least "
                              "two-dimensional")


def _check_square(*arrays):
    _check_2d(*arrays)
    for a in arrays:
        m, n = shape_of(a)[-2:]
        if m != n:
            raise LinAlgError("Last 2 dimensions of the array must be square")


_inexact = as_inexact     # NumPy's linalg computes in floating point


def _ndim(a):
    return len(shape_of(a))


# ------------------------------------------------------------------ inverses, solvers

@_linalg(np.linalg.inv)
def inv(a):
    a = _inexact(a)
    _check_square(a)
    return inv_p.bind(a)


@_linalg(np.linalg.solve)
def solve(a, b):
    """``b`` is a vector only when it is exactly 1-D (NumPy 2 semantics); otherwise a
    stack of (M, K) matrices whose batch axes broadcast against ``a``'s."""
    a, b = _inexact(a), _inexact(b)
    _check_square(a)
    m = shape_of(a)[-1]
    sb = shape_of(b)
    if len(sb) == 1:
        if sb[0] != m:
            raise ValueError(f"solve1: Input operand 1 has a mismatch in its core "
                             f"dimension 0, with gufunc signature (m,m),(m)->(m) (size "
                             f"{sb[0]} is different from {m})")
        x = solve_p.bind(a, sp.reshape(b, (m, 1)))
        return sp.reshape(x, shape_of(x)[:-1])
    if len(sb) < 2 or sb[-2] != m:
        raise ValueError(f"solve: Input operand 1 has a mismatch in its core dimension 0, "
                         f"with gufunc signature (m,m),(m,n)->(m,n) (size "
                         f"{sb[-2] if len(sb) >= 2 else sb} is different from {m})")
    np.broadcast_shapes(shape_of(a)[:-2], sb[:-2])
    return solve_p.bind(a, b)


@_linalg(np.linalg.det)
def det(a):
    """The derivative is ``det(a) * inv(a).T``, and at an exactly singular matrix
    (where ``inv`` does not exist) the cofactor matrix, the transpose of the adjugate,
    exact to any order; under vmap a singular example raises LinAlgError."""
    a = _inexact(a)
    _check_square(a)
    return det_p.bind(a)


@_linalg(np.linalg.slogdet)
def slogdet(a):
    """Returns (sign, logabsdet). The sign of a real matrix has zero derivative; the
    sign of a complex one (a unit complex number) is differentiable."""
    a = _inexact(a)
    _check_square(a)
    sign, logdet = slogdet_p.bind(a)
    return _result(_SlogdetResult, sign, logdet)


@_linalg(np.linalg.pinv)
def pinv(a, rcond=None, hermitian=False, *, rtol=_NoValue):
    """Derivative assumes the rank is locally constant (singular values above the
    cutoff stay above it). ``rcond``/``rtol`` must be scalars inside transformations."""
    a = _inexact(a)
    _check_2d(a)
    if rcond is None:
        if rtol is _NoValue:
            rcond = 1e-15
        elif rtol is None:
            rcond = max(shape_of(a)[-2:]) * np.finfo(np.float64).eps
        else:
            rcond = rtol
    elif rtol is not _NoValue:
        raise ValueError("`rtol` and `rcond` can't be both set.")
    rcond = concrete(rcond)
    if np.ndim(rcond) != 0:
        raise NotImplementedError("chainrule.numpy.linalg.pinv: an array rcond/rtol is "
                                  "not supported inside transformations")
    m, n = shape_of(a)[-2:]
    if m == 0 or n == 0:
        return np.empty(shape_of(a)[:-2] + (n, m), dtype=dtype_of(a))
    return pinv_p.bind(a, rcond=float(rcond), hermitian=bool(hermitian))


@_linalg(np.linalg.lstsq)
def lstsq(a, b, rcond=None):
    """x = pinv(a, rcond) @ b (the minimum-norm least-squares solution, as LAPACK's
    gelsd), residuals, rank and singular values as NumPy returns them. Under vmap the
    rank is not a Python number: residuals are then returned whenever M > N (as if
    ``a`` had full column rank)."""
    a, b = _inexact(a), _inexact(b)
    is_1d = _ndim(b) == 1
    b2 = sp.reshape(b, shape_of(b) + (1,)) if is_1d else b
    for x in (a, b2):
        if _ndim(x) != 2:
            raise LinAlgError(f"{_ndim(x)}-dimensional array given. Array must be "
                              "two-dimensional")
    m, n = shape_of(a)
    if shape_of(b2)[0] != m:
        raise LinAlgError("Incompatible dimensions")
    if rcond is None:
        rcond = np.finfo(np.float64).eps * max(n, m)
    rcond = float(concrete(rcond))
    dt = np.result_type(dtype_of(a), dtype_of(b))
    real_t = np.dtype(dt.char.lower()) if dt.kind == "c" else dt
    if m == 0 or n == 0:
        # NumPy's answer for empty operands: x = 0, rank 0, no singular values; for
        # an empty a with M > 0 rows the residuals are |b|^2 (b is not empty then)
        x, resids, rank, s = np.linalg.lstsq(np.zeros(shape_of(a), dt),
                                             np.zeros(shape_of(b), dt), rcond)
        if n == 0 and m > 0:
            resids = sp.reduce_sum(_abs2(b2), (0,))
        return x, resids, rank, s
    x = matmul_p.bind(pinv_p.bind(a, rcond=rcond, hermitian=False), b2)
    s = svd_p.bind(a, full_matrices=False, compute_uv=False, hermitian=False)[0]
    rank = matrix_rank_p.bind(a, tol=None, hermitian=False, rtol=rcond)
    try:
        full = int(concrete(rank)) == n
    except TypeError:       # under vmap: no single Python answer
        full = True
    if full and m > n:
        r = b2 - matmul_p.bind(a, x)
        resids = sp.reduce_sum(_abs2(r), (0,))
    else:
        resids = np.array([], dtype=real_t)
    if is_1d:
        x = sp.reshape(x, (n,))
    return x, resids, basic.astype(rank, np.int32), s      # (LAPACK's int, NumPy's)


@_linalg(np.linalg.matrix_power, view="identity")    # n=1: the argument itself
def matrix_power(a, n):
    a = asarray_like(a)
    _check_square(a)
    try:
        n = operator.index(n)
    except TypeError as e:
        raise TypeError("exponent must be an integer") from e
    if n == 0:
        return np.linalg.matrix_power(aliasing.numpy_layout(a), 0)   # laid out as NumPy's
    if n < 0:
        a = inv(a)
        n = -n
    if n == 1:
        return a
    if n == 2:
        return matmul_p.bind(a, a)
    if n == 3:
        return matmul_p.bind(matmul_p.bind(a, a), a)
    z = result = None
    while n > 0:
        z = a if z is None else matmul_p.bind(z, z)
        n, bit = divmod(n, 2)
        if bit:
            result = z if result is None else matmul_p.bind(result, z)
    return result


@_linalg(np.linalg.tensorinv)
def tensorinv(a, ind=2):
    a = asarray_like(a)
    old = shape_of(a)
    if ind <= 0:
        raise ValueError("Invalid ind argument.")
    prod = _size(old[ind:])
    ia = inv(basic.reshape(a, (prod, -1)))
    return basic.reshape(ia, old[ind:] + old[:ind])


@_linalg(np.linalg.tensorsolve)
def tensorsolve(a, b, axes=None):
    a, b = asarray_like(a), asarray_like(b)
    an = _ndim(a)
    if axes is not None:
        allaxes = list(range(an))
        for k in axes:
            allaxes.remove(k)
            allaxes.insert(an, k)
        a = basic.transpose(a, allaxes)
    old = shape_of(a)[-(an - _ndim(b)):]
    prod = _size(old)
    if _size(shape_of(a)) != prod ** 2:
        raise LinAlgError("Input arrays must satisfy the requirement "
                          "prod(a.shape[b.ndim:]) == prod(a.shape[:b.ndim])")
    res = solve(basic.reshape(a, (prod, prod)), basic.ravel(b))
    return basic.reshape(res, old)


@_linalg(np.linalg.multi_dot)
def multi_dot(arrays, *, out=None):
    """Chained matmul in NumPy's optimal order (same matrix-chain algorithm)."""
    no_kwargs("multi_dot", out=out)
    n = len(arrays)
    if n < 2:
        raise ValueError("Expecting at least two arrays.")
    if n == 2:
        return products.dot(arrays[0], arrays[1])
    arrays = [asarray_like(x) for x in arrays]
    nd_first, nd_last = _ndim(arrays[0]), _ndim(arrays[-1])
    if nd_first == 1:
        arrays[0] = sp.reshape(arrays[0], (1,) + shape_of(arrays[0]))
    if nd_last == 1:
        arrays[-1] = sp.reshape(arrays[-1], shape_of(arrays[-1]) + (1,))
    for x in arrays:
        if _ndim(x) != 2:
            raise LinAlgError(f"{_ndim(x)}-dimensional array given. Array must be "
                              "two-dimensional")
    for x, y in zip(arrays[:-1], arrays[1:]):
        if shape_of(x)[1] != shape_of(y)[0]:
            raise ValueError(f"shapes {shape_of(x)} and {shape_of(y)} not aligned: "
                             f"{shape_of(x)[1]} (dim 1) != {shape_of(y)[0]} (dim 0)")
    order = _chain_order([shape_of(x)[0] for x in arrays] + [shape_of(arrays[-1])[1]])

    def build(i, j):
        if i == j:
            return arrays[i]
        k = order[i][j]
        return matmul_p.bind(build(i, k), build(k + 1, j))
    result = build(0, n - 1)
    if nd_first == 1 and nd_last == 1:
        return sp.reshape(result, ())
    if nd_first == 1 or nd_last == 1:
        return sp.reshape(result, (_size(shape_of(result)),))
    return result



def _chain_order(p):
    """Optimal parenthesisation of a matrix chain with dimensions p (CLRS 15.2)."""
    n = len(p) - 1
    m = [[0] * n for _ in range(n)]
    s = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            m[i][j] = float("inf")
            for k in range(i, j):
                q = m[i][k] + m[k + 1][j] + p[i] * p[k + 1] * p[j + 1]
                if q < m[i][j]:
                    m[i][j] = q
                    s[i][j] = k
    return s


# ------------------------------------------------------------------ decompositions

@_linalg(np.linalg.cholesky, eager=_cholesky_eager)
def cholesky(a, /, *, upper=False):
    """Reads only the lower (``upper=True``: upper) triangle, as NumPy does. The
    gradient is Hermitian, as JAX's, PyTorch's and autograd's: the derivative of the
    Hermitian matrix the input stands for (a tangent enters through its Hermitian part;
    along Hermitian directions it is the derivative of NumPy's function)."""
    a = _inexact(a)
    _check_square(a)
    return cholesky_p.bind(a, upper=bool(upper))


def _uplo(UPLO):
    UPLO = UPLO.upper()
    if UPLO not in ("L", "U"):
        raise ValueError("UPLO argument must be 'L' or 'U'")
    return UPLO


@_linalg(np.linalg.eigh)
def eigh(a, UPLO="L"):
    """The gradient is symmetric (Hermitian), as JAX's and PyTorch's: a tangent enters
    through its Hermitian part. At repeated eigenvalues (see
    ``chainrule._src.prims.linalg``) functions of the eigenvalues alone are exact; any
    cotangent of the eigenvectors there (``V @ diag(g(w)) @ V.T`` needs ``g'`` at the
    repeated value, which no rule of eigh sees) makes ``grad`` raise
    NotImplementedError (also under jit); forward mode and vmap give NaN. Exact
    alternatives: ``chainrule.scipy.linalg.funm``, ``expm``, ``logm``, ``sqrtm``,
    ``fractional_matrix_power``, and ``chainrule.scipy.linalg.eigh(a,
    subset_by_index=...)`` for eigenvectors of eigenvalues that are not repeated."""
    UPLO = _uplo(UPLO)
    a = _inexact(a)
    _check_square(a)
    w, v = eigh_p.bind(a, UPLO=UPLO)
    return _result(_EighResult, w, v)


def _eig(a):
    a = _inexact(a)
    _check_square(a)
    w, v = eig_p.bind(a)
    if dtype_of(a).kind != "c" and has_value(w) and \
            not np.any(concrete(ew.imag_p.bind(w))):
        w, v = ew.real_p.bind(w), ew.real_p.bind(v)
    return w, v


@_linalg(np.linalg.eig)
def eig(a):
    """Derivatives of the eigenvalues and of the eigenvectors NumPy returns (unit norm,
    largest component real: see ``chainrule._src.prims.eig``) for distinct
    eigenvalues; where eigenvalues repeat, what is undetermined is NaN (forward mode,
    vmap) or raises NotImplementedError (reverse mode). A real matrix gives real
    arrays where every eigenvalue is real, as NumPy does, except under vmap (complex
    arrays, since each example could decide differently)."""
    return _result(_EigResult, *_eig(a))


@_linalg(np.linalg.eigvals)
def eigvals(a):
    """The eigenvalues of :func:`eig` (derivatives: distinct eigenvalues, or a loss
    that treats repeated ones alike)."""
    return _eig(a)[0]


@_linalg(np.linalg.eigvalsh)
def eigvalsh(a, UPLO="L"):
    UPLO = _uplo(UPLO)
    a = _inexact(a)
    _check_square(a)
    return eigh_p.bind(a, UPLO=UPLO)[0]


@_linalg(np.linalg.svd)
def svd(a, full_matrices=True, compute_uv=True, hermitian=False):
    """Every mode. With ``full_matrices=True`` (the default) and non-square input, the
    extra singular vectors turn only as far as they must to stay orthogonal to the
    others: exact for ``U, s, Vh = svd(X)`` followed by ``U[:, :k]`` and for any loss
    through their span; reverse mode raises NotImplementedError where a cotangent
    reaches a rotation within it (``prims/linalg.py``)."""
    a = _inexact(a)
    _check_2d(a)
    out = svd_p.bind(a, full_matrices=bool(full_matrices), compute_uv=bool(compute_uv),
                     hermitian=bool(hermitian))
    if not compute_uv:
        return out[0]
    return _result(_SVDResult, *out)


@_linalg(np.linalg.svdvals)
def svdvals(x, /):
    x = _inexact(x)
    _check_2d(x)
    return svd_p.bind(x, full_matrices=False, compute_uv=False, hermitian=False)[0]


@_linalg(np.linalg.qr)
def qr(a, mode="reduced"):
    """Differentiable for modes 'reduced', 'r' and 'complete' (for a tall matrix, Q's
    extra columns as svd's: exact through their span); 'raw' is not supported inside
    transformations. Where the first min(M, N) columns are rank-deficient up to
    rounding (for a real square matrix: the first N - 1) Q has no derivative (a column
    of it is any unit vector orthogonal to the others): reverse mode raises
    NotImplementedError, forward mode and vmap give NaN."""
    if mode in ("f", "full"):
        mode = "reduced"
    if mode not in ("reduced", "complete", "r", "raw", "e", "economic"):
        raise ValueError(f"Unrecognized mode '{mode}'")
    if mode in ("raw", "e", "economic"):
        raise NotImplementedError(f"chainrule.numpy.linalg.qr: mode='{mode}' is not "
                                  "supported inside transformations")
    a = _inexact(a)
    _check_2d(a)
    q, r = qr_p.bind(a, full_matrices=(mode == "complete"))
    if mode == "r":
        return r
    return _result(_QRResult, q, r)


@_linalg(np.linalg.matrix_rank)
def matrix_rank(A, tol=None, hermitian=False, *, rtol=None):
    """Not differentiable (an integer)."""
    if rtol is not None and tol is not None:
        raise ValueError("`tol` and `rtol` can't be both set.")
    A = asarray_like(A)
    if _ndim(A) < 2:
        return np.linalg.matrix_rank(concrete(A))
    tol, rtol = concrete(tol), concrete(rtol)
    if (tol is not None and np.ndim(tol)) or (rtol is not None and np.ndim(rtol)):
        raise NotImplementedError("chainrule.numpy.linalg.matrix_rank: array tol/rtol "
                                  "are not supported inside transformations")
    return matrix_rank_p.bind(A, tol=None if tol is None else float(tol),
                              hermitian=bool(hermitian),
                              rtol=None if rtol is None else float(rtol))


@_linalg(np.linalg.cond)
def cond(x, p=None):
    """NumPy's nan -> inf replacement for singular matrices is not reproduced inside
    transformations."""
    x = _inexact(x)
    _check_2d(x)
    if 0 in shape_of(x)[-2:]:
        raise LinAlgError("cond is not defined on empty arrays")
    if p is None or p in (2, -2):
        s = svdvals(x)
        if p == -2:
            return s[..., -1] / s[..., 0]
        return s[..., 0] / s[..., -1]
    _check_square(x)
    return norm(x, p, axis=(-2, -1)) * norm(inv(x), p, axis=(-2, -1))


# ------------------------------------------------------------------ norms

def _abs2(x):
    """|x|^2 elementwise, real."""
    if dtype_of(x).kind == "c":
        re, im = ew.real_p.bind(x), ew.imag_p.bind(x)
        return re * re + im * im
    return x * x


def _sum_squares(x, nd):
    """sum |x|^2 over all of ``x`` as NumPy's ``norm`` computes it: a dot product of
    ``x.ravel('K')`` with itself (BLAS's order of summation, bit for bit), or a sum
    where ``x`` is not contiguous in C or F order (it may round otherwise)."""
    lay = aliasing.numpy_layout(x)
    order = "C" if lay.flags.c_contiguous else "F" if lay.flags.f_contiguous else None
    if order is None:
        return _sum(_abs2(x), range(nd))
    r = basic.ravel(x, order=order)
    if dtype_of(x).kind == "c":
        re, im = ew.real_p.bind(r), ew.imag_p.bind(r)
        return matmul_p.bind(re, re) + matmul_p.bind(im, im)
    return matmul_p.bind(r, r)


def _safe_root(s, p=None):
    """s ** (1/p) (sqrt for p None) with first derivative 0 (not nan) where s == 0, and
    nan beyond it there: the second derivative of a norm at 0 is not known from the
    norm alone (that of norm(x) ** 2 is 2 I, of norm(x) infinite), so a Hessian through
    it is nan, never a finite guess (a constant 0 there made hessian(norm(x) ** 2) 0)."""
    zero = ew.equal_p.bind(s, 0.0)
    safe = ew.select_p.bind(zero, 1.0, s)
    root = ew.sqrt_p.bind(safe) if p is None else ew.power_p.bind(safe, 1.0 / p)
    at_zero = ew.removable_taylor_p.bind(s, point=0.0, coefs=(0.0, 0.0))
    return ew.select_p.bind(zero, at_zero, root)


def _abs(x):
    return ew.abs_p.bind(x)


def _sum(x, axis, keepdims=False):
    return sp.reduce_sum(x, tuple(axis), keepdims)


def _svd_vals_last2(x, row, col):
    y = basic.moveaxis(x, (row, col), (-2, -1))
    return svd_p.bind(y, full_matrices=False, compute_uv=False, hermitian=False)[0]


@_linalg(np.linalg.norm)
def norm(x, ord=None, axis=None, keepdims=False):
    """The 2-norm (and 'fro') has derivative 0 at x = 0 (a subgradient), not NaN;
    ord=1/inf use the subgradient sign(0) = 0 and share ties equally."""
    x = _inexact(x)
    nd = _ndim(x)
    if axis is None:
        if ord is None or (ord in ("f", "fro") and nd == 2) or (ord == 2 and nd == 1):
            ret = _safe_root(_sum_squares(x, nd))
            if keepdims:
                ret = sp.reshape(ret, (1,) * nd)
            return ret
        axis = tuple(range(nd))
    elif not isinstance(axis, tuple):
        try:
            axis = int(axis)
        except Exception as e:
            raise TypeError("'axis' must be None, an integer or a tuple of integers") \
                from e
        axis = (axis,)
    if len(axis) == 1:
        ax = normalize_axis(axis, nd)
        if ord == np.inf:
            return reduce_max_p.bind(_abs(x), axis=ax, keepdims=keepdims)
        if ord == -np.inf:
            return reduce_min_p.bind(_abs(x), axis=ax, keepdims=keepdims)
        if isinstance(ord, str):
            raise ValueError(f"Invalid norm order '{ord}' for vectors")
        if ord == 0:
            nz = ew.not_equal_p.bind(x, 0.0)
            real_t = np.float32 if dtype_of(x) in (np.float32, np.complex64) else np.float64
            return _sum(sp.convert_element_type_p.bind(nz, dtype=np.dtype(real_t)), ax,
                        keepdims)
        if ord == 1:
            return _sum(_abs(x), ax, keepdims)
        if ord is None or ord == 2:
            return _safe_root(_sum(_abs2(x), ax, keepdims))
        ordf = float(ord)
        return _safe_root(_sum(ew.power_p.bind(_abs(x), ordf), ax, keepdims), ordf)
    if len(axis) == 2:
        row, col = normalize_axis(axis[0], nd)[0], normalize_axis(axis[1], nd)[0]
        if row == col:
            raise ValueError("Duplicate axes given.")
        if ord == 2:
            ret = reduce_max_p.bind(_svd_vals_last2(x, row, col), axis=(nd - 2,),
                                    keepdims=False)
        elif ord == -2:
            ret = reduce_min_p.bind(_svd_vals_last2(x, row, col), axis=(nd - 2,),
                                    keepdims=False)
        elif ord in (1, -1):
            c = col - 1 if col > row else col
            red = reduce_max_p if ord == 1 else reduce_min_p
            ret = red.bind(_sum(_abs(x), (row,)), axis=(c,), keepdims=False)
        elif ord in (np.inf, -np.inf):
            r = row - 1 if row > col else row
            red = reduce_max_p if ord == np.inf else reduce_min_p
            ret = red.bind(_sum(_abs(x), (col,)), axis=(r,), keepdims=False)
        elif ord in (None, "fro", "f"):
            ret = _safe_root(_sum(_abs2(x), (row, col)))
        elif ord == "nuc":
            ret = _sum(_svd_vals_last2(x, row, col), (nd - 2,))
        else:
            raise ValueError("Invalid norm order for matrices.")
        if keepdims:
            shape = list(shape_of(x))
            shape[row] = 1
            shape[col] = 1
            ret = sp.reshape(ret, tuple(shape))
        return ret
    raise ValueError("Improper number of dimensions to norm.")


@_linalg(np.linalg.vector_norm)
def vector_norm(x, /, *, axis=None, keepdims=False, ord=2):
    x = _inexact(x)
    shape = list(shape_of(x))
    if axis is None:
        y, ax = basic.ravel(x), 0
    elif isinstance(axis, tuple):
        nax = normalize_axis(axis, len(shape))
        rest = tuple(i for i in range(len(shape)) if i not in nax)
        y = basic.transpose(x, nax + rest)
        y = basic.reshape(y, (_size([shape[i] for i in nax]),) + tuple(shape[i] for i in rest))
        ax = 0
    else:
        y, ax = x, axis
    res = norm(y, axis=ax, ord=ord)
    if keepdims:
        axes = normalize_axis(tuple(range(len(shape))) if axis is None else
                              (axis if isinstance(axis, tuple) else (axis,)), len(shape))
        for i in axes:
            shape[i] = 1
        res = sp.reshape(res, tuple(shape))
    return res


@_linalg(np.linalg.matrix_norm)
def matrix_norm(x, /, *, keepdims=False, ord="fro"):
    return norm(x, axis=(-2, -1), keepdims=keepdims, ord=ord)


# ------------------------------------------------------------------ array-API helpers

@_linalg(np.linalg.matrix_transpose)
def matrix_transpose(x, /):
    x = asarray_like(x)
    if _ndim(x) < 2:
        raise ValueError("Input array must be at least 2-dimensional")
    return basic.swapaxes(x, -1, -2)


@_linalg(np.linalg.diagonal, view="readonly")      # as x.diagonal(): a read-only view
def diagonal(x, /, *, offset=0):
    """``numpy.diagonal`` of the last two axes."""
    return _shape.diagonal(x, operator.index(offset), -2, -1)


@_linalg(np.linalg.trace)
def trace(x, /, *, offset=0, dtype=None):
    """``numpy.trace`` of the last two axes."""
    return _reductions.trace(x, operator.index(offset), -2, -1, dtype=dtype)


@_linalg(np.linalg.outer)
def outer(x1, x2, /):
    x1, x2 = asarray_like(x1), asarray_like(x2)
    if _ndim(x1) != 1 or _ndim(x2) != 1:
        raise ValueError("Input arrays must be one-dimensional, but they are "
                         f"x1.ndim={_ndim(x1)} and x2.ndim={_ndim(x2)}.")
    return products.outer(x1, x2)


@_linalg(np.linalg.vecdot)
def vecdot(x1, x2, /, *, axis=-1):
    """sum(conj(x1) * x2, axis) (x1 conjugated, as NumPy)."""
    x1, x2 = asarray_like(x1), asarray_like(x2)
    a = basic.moveaxis(x1, axis, -1)
    b = basic.moveaxis(x2, axis, -1)
    if shape_of(a)[-1] != shape_of(b)[-1]:
        raise ValueError(f"vecdot: Input operand 1 has a mismatch in its core dimension "
                         f"0, with gufunc signature (n),(n)->() (size {shape_of(b)[-1]} "
                         f"is different from {shape_of(a)[-1]})")
    if dtype_of(a).kind == "c":
        a = ew.conj_p.bind(a)
    prod = a * b
    return sp.reduce_sum(prod, (_ndim(prod) - 1,))


@_linalg(np.linalg.matmul)
def matmul(x1, x2, /):
    return products.matmul(x1, x2)


@_linalg(np.linalg.tensordot, layout="C")
def tensordot(x1, x2, /, *, axes=2):
    return products.tensordot(x1, x2, axes=axes)


@_linalg(np.linalg.cross)
def cross(x1, x2, /, *, axis=-1):
    x1, x2 = asarray_like(x1), asarray_like(x2)
    n1, n2 = shape_of(x1)[axis], shape_of(x2)[axis]
    if n1 != 3 or n2 != 3:
        raise ValueError("Both input arrays must be (arrays of) 3-dimensional vectors, "
                         f"but they are {n1} and {n2} dimensional instead.")
    return _reductions.cross(x1, x2, axis=axis)
