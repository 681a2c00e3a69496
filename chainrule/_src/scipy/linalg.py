"""chainrule.scipy.linalg: differentiable ``scipy.linalg`` functions (SciPy's names,
signatures and batching over leading dimensions).

solve_triangular, expm, logm, fractional_matrix_power, sqrtm and solve_sylvester bind
the primitives of ``prims/scipy_linalg.py``; eigh and funm those of
``prims/matfun.py`` (functions of Hermitian matrices that stay differentiable at
repeated eigenvalues); cho_factor/cho_solve/cholesky compose them with
``chainrule.numpy.linalg.cholesky``; inv/det/solve pass through to
``chainrule.numpy.linalg``.
"""
import numpy as np
import scipy.linalg as sl

from ..core import shape_of, dtype_of, has_value
from ..prims import scipy_linalg as pl
from ..prims.matfun import eigh_subset_p, dk_p
from ..numpy import aliasing
from ..prims.shape import reshape, broadcast_to
from ..prims.shape import reshape, broadcast_to, moveaxis
from ..prims.elementwise import conj_p
from ..prims.products import mT, einsum_p
from ..prims.linalg import read_hermitian
from ..numpy import linalg as nla
from ..numpy.basic import as_inexact, asarray_like, concrete
from ..numpy import basic
from ..numpy.dispatch import numpy_function, PUBLIC

MODULE = "scipy.linalg"
# layout=: SciPy's results of LAPACK calls are F-ordered matrices ("lapack": in a
# C-ordered batch), others C-ordered (numpy_function; docs/copies-and-views.md)


def _square(a, name="a"):
    s = shape_of(a)
    if len(s) < 2 or s[-1] != s[-2]:
        raise ValueError(f"expected square matrix (or a stack of them) for '{name}', "
                         f"got shape {s}")
    return s[-1]


_TRANS = {0: 0, 1: 1, 2: 2, "N": 0, "T": 1, "C": 2, "n": 0, "t": 1, "c": 2}


@numpy_function(sl.solve_triangular, module=MODULE, layout="lapack")
def solve_triangular(a, b, trans=0, lower=False, unit_diagonal=False, overwrite_b=False,
                     check_finite=True):
    """Only the triangle of ``a`` that SciPy reads carries a derivative (its diagonal
    too unless ``unit_diagonal``)."""
    a, b = as_inexact(a), as_inexact(b)
    n = _square(a)
    if trans not in _TRANS:
        raise ValueError(f"Incorrect value for 'trans': {trans!r}")
    trans = _TRANS[trans]
    if trans == 2:
        if dtype_of(a).kind == "c":
            a = conj_p.bind(a)
        trans = 1
    bs = shape_of(b)
    if not bs or (bs[0] if len(bs) == 1 else bs[-2]) != n:
        raise ValueError(f"shapes of a {shape_of(a)} and b {bs} are incompatible")
    vector = len(bs) == 1
    if vector:
        b = reshape(b, bs + (1,))
        bs = shape_of(b)
    batch = np.broadcast_shapes(shape_of(a)[:-2], bs[:-2])
    a = broadcast_to(a, batch + (n, n))
    b = broadcast_to(b, batch + bs[-2:])
    x = pl.solve_triangular_p.bind(a, b, lower=bool(lower), trans=trans,
                                   unit_diagonal=bool(unit_diagonal))
    return reshape(x, shape_of(x)[:-1]) if vector else x


def _real_dtype(x):
    return np.dtype(dtype_of(x).char.lower()) if dtype_of(x).kind == "c" else dtype_of(x)


def _scipy_dtype(y, sp_fn, a):
    """``y`` in the dtype SciPy's ``sp_fn`` returns for an argument of ``a``'s dtype
    (asked of SciPy on a 1 x 1 matrix: det and expm_frechet return double precision
    for single-precision input, as SciPy's versions decide)."""
    want = np.asarray(sp_fn(np.ones((1, 1), dtype_of(a)))).dtype
    return y if dtype_of(y) == want else basic.astype(y, want)


def _tri(x, lower, strict=False):
    n = shape_of(x)[-1]
    k = -1 if strict else 0
    ones = np.ones((n, n), _real_dtype(x))       # (a float64 mask would promote float32)
    return x * (np.tril(ones, k) if lower else np.triu(ones, -k))


@numpy_function(sl.cholesky, module=MODULE, layout="lapack")
def cholesky(a, lower=False, overwrite_a=False, check_finite=True):
    """Reads the triangle ``lower`` selects (upper by default), as SciPy."""
    a = as_inexact(a)
    _square(a)
    return nla.cholesky(a, upper=not lower)


@numpy_function(sl.cho_factor, module=MODULE, layout=["lapack", None])
def cho_factor(a, lower=False, overwrite_a=False, check_finite=True):
    """(c, lower): the factor in one triangle of ``c``, ``a``'s own entries in the
    other (as SciPy's LAPACK call leaves them)."""
    a = as_inexact(a)
    factor = cholesky(a, lower=lower)
    return _tri(factor, lower) + _tri(a, not lower, strict=True), lower


@numpy_function(sl.cho_solve, module=MODULE, layout="lapack")
def cho_solve(c_and_lower, b, overwrite_b=False, check_finite=True):
    c, lower = c_and_lower
    b = as_inexact(b)
    vector = len(shape_of(b)) == 1     # (a column: a stack of factors gives a stack of y)
    if vector:
        b = reshape(b, shape_of(b) + (1,))
    if lower:      # A = L L^T: L y = b, L^T x = y
        y = solve_triangular(c, b, trans=0, lower=True)
        x = solve_triangular(c, y, trans=1, lower=True)
    else:          # A = U^T U
        y = solve_triangular(c, b, trans=1, lower=False)
        x = solve_triangular(c, y, trans=0, lower=False)
    return reshape(x, shape_of(x)[:-1]) if vector else x


@numpy_function(sl.expm, module=MODULE)
def expm(A):
    """Derivative: the Frechet derivative from the block matrix [[A, E], [0, A]]."""
    A = as_inexact(A)
    _square(A, "A")
    return pl.expm_p.bind(A)


@numpy_function(sl.sqrtm, module=MODULE)
def sqrtm(A, disp=None, blocksize=None):
    """Derivative from the Sylvester equation X dX + dX X = dA. The deprecated
    ``disp``/``blocksize`` arguments are only accepted outside transformations."""
    if disp is not None or blocksize is not None:
        raise NotImplementedError("chainrule.scipy.linalg.sqrtm: disp= and blocksize= "
                                  "are not supported inside a transformation")
    A = as_inexact(A)
    _square(A, "A")
    return pl.sqrtm_p.bind(A)


@numpy_function(sl.logm, module=MODULE)
def logm(A, disp=None):
    """The principal logarithm. Derivative: the Frechet derivative from the block
    matrix [[A, E], [0, A]] (exact at repeated eigenvalues). ``disp`` (deprecated in
    SciPy) is only accepted outside transformations."""
    if disp is not None:
        raise NotImplementedError("chainrule.scipy.linalg.logm: disp= is not supported "
                                  "inside a transformation")
    A = as_inexact(A)
    _square(A, "A")
    return pl.logm_p.bind(A)


@numpy_function(sl.fractional_matrix_power, module=MODULE)
def fractional_matrix_power(A, t):
    """A^t for a real scalar ``t`` (not differentiated). Derivative: the Frechet
    derivative from the block matrix [[A, E], [0, A]] (exact at repeated
    eigenvalues)."""
    from ..numpy.basic import concrete
    A = as_inexact(A)
    _square(A, "A")
    t = concrete(t)
    if np.ndim(t) != 0 or np.iscomplexobj(t):
        raise NotImplementedError("chainrule.scipy.linalg.fractional_matrix_power: t must "
                                  "be a real scalar (it is not differentiated)")
    return pl.fractional_matrix_power_p.bind(A, t=float(t))


@numpy_function(sl.funm, module=MODULE, layout="real")
def funm(A, func, disp=True):
    """For Hermitian (real symmetric) ``A``: ``V f(w) V^H`` from the eigendecomposition
    (SciPy's Schur-Parlett value up to rounding), differentiated by the divided
    differences of ``f`` (Daleckii-Krein), with ``f'`` where eigenvalues are repeated,
    so it is exact there (unlike ``V @ diag(f(w)) @ V.T`` written with
    ``numpy.linalg.eigh``, whose eigenvectors at a repeated eigenvalue have no
    derivative). As for eigh, a tangent enters through its Hermitian part and the
    gradient is Hermitian (the Frechet derivative along Hermitian directions). ``func`` is elementwise, as SciPy requires, and differentiated by
    chainrule (``np.exp``, ``cnp.sin``, a lambda of them); it is called once, here, on
    the real eigenvalues (SciPy calls it on complex numbers: a function that leaves the
    real line there, e.g. ``np.sqrt`` of a negative eigenvalue, gives NaN here). A
    matrix that is not Hermitian raises NotImplementedError (NaN under vmap): use expm,
    logm, sqrtm or fractional_matrix_power. ``disp=False`` (SciPy's error estimate) is
    not supported inside transformations."""
    from ..interpreters.forward import jvp_flat
    from ..core import Zero
    from ..prims.linalg import eigh_p, _undetermined, _ANY
    from ..prims.matfun import not_hermitian, NOT_HERMITIAN
    if not disp:
        raise NotImplementedError("chainrule.scipy.linalg.funm: disp=False (the error "
                                  "estimate) is not supported inside a transformation")
    A = as_inexact(A)
    if len(shape_of(A)) != 2:
        raise ValueError("expected square array_like input")
    _square(A, "A")
    if not callable(func):
        raise TypeError(f"chainrule.scipy.linalg.funm: func must be callable, got "
                        f"{type(func).__name__}")
    w, v = eigh_p.bind(A, UPLO="L")
    (g,), (dg,) = jvp_flat(lambda x: [as_inexact(aliasing.as_user(func, x))], [w],
                           [np.ones(shape_of(w))])
    if shape_of(g) != shape_of(w):
        g = broadcast_to(g, shape_of(w))
    if type(dg) is Zero:
        dg = np.zeros(shape_of(w), dtype_of(g))
    elif shape_of(dg) != shape_of(w):
        dg = broadcast_to(dg, shape_of(w))
    out = dk_p.bind(A, v, w, g, dg)
    return _undetermined(out, not_hermitian(A), _ANY, NOT_HERMITIAN)


@numpy_function(sl.eigh, module=MODULE, layout=[None, "lapack"])
def eigh(a, b=None, *, lower=True, eigvals_only=False, overwrite_a=False,
         overwrite_b=False, type=1, check_finite=True, subset_by_index=None,
         subset_by_value=None, driver=None):
    """SciPy's values (its driver: the eigenvectors' signs are SciPy's). With
    ``subset_by_index=[lo, hi]`` only those eigenpairs are outputs, so eigenvalues
    repeated outside the subset do not matter: the exact way to differentiate the
    leading eigenvectors of a matrix whose other eigenvalues repeat (a rank-deficient
    covariance), where ``numpy.linalg.eigh`` raises. A selected eigenvalue that is
    repeated has eigh's rule (NaN tangent, NotImplementedError for a cotangent of its
    eigenvectors). Gradients are Hermitian, as ``numpy.linalg.eigh``'s. The generalized
    problem (``b``) and ``subset_by_value`` are not supported inside transformations."""
    if b is not None:
        raise NotImplementedError("chainrule.scipy.linalg.eigh: the generalized problem "
                                  "(b=) is not supported inside a transformation")
    if subset_by_value is not None:
        raise NotImplementedError("chainrule.scipy.linalg.eigh: subset_by_value= is not "
                                  "supported inside a transformation (the number of "
                                  "eigenpairs depends on the values); use subset_by_index")
    a = as_inexact(a)
    n = _square(a)
    if subset_by_index is None:
        lo, hi = 0, n - 1
    else:
        lo, hi = (int(i) for i in subset_by_index)
        if not (0 <= lo <= hi < n):
            raise ValueError("Requested eigenvalue indices are not valid. Valid range is "
                             f"[0, {n - 1}] and start <= end, but start={lo}, end={hi} is "
                             "given")
    w, v = eigh_subset_p.bind(a, lower=bool(lower), lo=lo, hi=hi, driver=driver)
    return w if eigvals_only else (w, v)


@numpy_function(sl.solve_sylvester, module=MODULE)
def solve_sylvester(a, b, q):
    """X with a X + X b = q; differentiable in all three arguments."""
    a, b, q = as_inexact(a), as_inexact(b), as_inexact(q)
    m, n = _square(a), _square(b, "b")
    qs = shape_of(q)
    if len(qs) < 2 or qs[-2:] != (m, n):
        raise ValueError(f"shapes of a {shape_of(a)}, b {shape_of(b)} and q {qs} are "
                         "incompatible")
    batch = np.broadcast_shapes(shape_of(a)[:-2], shape_of(b)[:-2], qs[:-2])
    return pl.solve_sylvester_p.bind(broadcast_to(a, batch + (m, m)),
                                     broadcast_to(b, batch + (n, n)),
                                     broadcast_to(q, batch + (m, n)))


@numpy_function(sl.solve_banded, module=MODULE, layout="lapack")
def solve_banded(l_and_u, ab, b, overwrite_ab=False, overwrite_b=False, check_finite=True):
    """Derivatives in ``ab`` (the entries SciPy reads: the corners outside the matrix
    get 0) and ``b``, computed with banded solves (the transposed band for reverse
    mode). Inside transformations ``ab`` is one ``(l + u + 1, n)`` band and ``b`` is
    ``(n,)`` or ``(n, k)`` (stacks of bands raise NotImplementedError; use vmap)."""
    l, u = (int(v) for v in l_and_u)
    ab, b = as_inexact(ab), as_inexact(b)
    sa, sb = shape_of(ab), shape_of(b)
    if len(sa) != 2 or len(sb) not in (1, 2):
        raise NotImplementedError("chainrule.scipy.linalg.solve_banded: stacks of bands "
                                  "or right-hand sides are not supported inside a "
                                  "transformation; use vmap")
    if sa[-1] != sb[0]:
        raise ValueError("shapes of ab and b are not compatible.")
    if l + u + 1 != sa[0]:
        raise ValueError(f"invalid values for the number of lower and upper diagonals: "
                         f"l+u+1 ({l + u + 1}) does not equal ab.shape[0] ({sa[0]})")
    if l < 0 or u < 0:
        raise ValueError("l and u must be non-negative")
    if 0 in sb:
        return sl.solve_banded((l, u), np.zeros(sa, dtype_of(ab)),
                               np.zeros(sb, dtype_of(b)))
    return pl.solve_banded_p.bind(ab, b, l=l, u=u)


# ---------------------------------------------------------------- passthroughs

_SYM = ("sym", "symmetric")
_HERM = ("pos", "positive definite", "her", "hermitian")


def _assumed(a, assume_a, lower, fname):
    """The matrix SciPy actually uses for ``assume_a``: symmetric/Hermitian kinds read
    one triangle only (mirrored here: the values are SciPy's). The Hermitian routines
    ("pos" and "her" call LAPACK's po*/he* drivers) conjugate the mirror and ignore the
    imaginary part of the diagonal; "sym" mirrors it unchanged. Their derivatives are
    those of the Hermitian (symmetric) matrix the input stands for, as cholesky's and
    eigh's: Hermitian (symmetric) gradients (``prims/linalg.py``)."""
    if assume_a in (None, "gen", "general"):
        return a
    if assume_a in _HERM:
        return read_hermitian(a, upper=not lower)
    if assume_a in _SYM:
        return read_hermitian(a, upper=not lower, conj=False)
    if assume_a == "tridiagonal":
        n = shape_of(a)[-1]
        return a * (np.tri(n, n, 1) - np.tri(n, n, -2))
    raise NotImplementedError(f"chainrule.scipy.linalg.{fname}: assume_a={assume_a!r} "
                              "is not supported inside a transformation")


@numpy_function(sl.solve, module=MODULE, layout=lambda *a, assume_a=None, **k:
                "lapack" if assume_a == "banded" else "C")
def solve(a, b, lower=False, overwrite_a=False, overwrite_b=False, check_finite=True,
          assume_a=None, transposed=False):
    """Through ``chainrule.numpy.linalg.solve`` (triangular kinds through
    solve_triangular); only the entries SciPy reads for ``assume_a`` carry a derivative."""
    a, b = as_inexact(a), as_inexact(b)
    n = _square(a)
    bs = shape_of(b)
    if not bs or (bs[0] if len(bs) == 1 else bs[-2]) != n:
        raise ValueError(f"incompatible shapes: a1.shape={shape_of(a)} and b1.shape={bs}")
    if assume_a in ("lower triangular", "upper triangular"):
        return solve_triangular(a, b, trans=1 if transposed else 0,
                                lower=assume_a.startswith("lower"))
    if assume_a == "diagonal":
        d = einsum_p.bind(a, subscripts=_diag_subscripts(a))
        return b / d if len(bs) == 1 else b / reshape(d, shape_of(d) + (1,))
    a = _assumed(a, assume_a, lower, "solve")
    if transposed:
        a = mT(a)
    if len(bs) > 1:
        batch = np.broadcast_shapes(shape_of(a)[:-2], bs[:-2])
        a, b = broadcast_to(a, batch + (n, n)), broadcast_to(b, batch + bs[-2:])
    return nla.solve(a, b)


def _diag_subscripts(a):
    letters = "abcdefghklmnopqrstuvwxyz"[:len(shape_of(a)) - 2]
    return f"{letters}ii->{letters}i"


@numpy_function(sl.inv, module=MODULE)
def inv(a, overwrite_a=False, check_finite=True, *, assume_a=None, lower=False):
    """Through ``chainrule.numpy.linalg.inv``."""
    a = as_inexact(a)
    _square(a)
    return nla.inv(_assumed(a, assume_a, lower, "inv"))


@numpy_function(sl.det, module=MODULE)
def det(a, overwrite_a=False, check_finite=True):
    """Through ``chainrule.numpy.linalg.det``."""
    a = as_inexact(a)
    _square(a)
    return _scipy_dtype(nla.det(a), sl.det, a)


# ---------------------------------------------------------------- decompositions

def _refuse(fname, **kw):
    for k, v in kw.items():
        if v:
            k = k if "=" in k else f"{k}="     # (an argument, or an argument=value)
            raise NotImplementedError(f"chainrule.scipy.linalg.{fname}: {k} is not "
                                      "supported inside a transformation")


@numpy_function(sl.svd, module=MODULE, layout=["lapack", None, "lapack"])
def svd(a, full_matrices=True, compute_uv=True, overwrite_a=False, check_finite=True,
        lapack_driver="gesdd"):
    """Through ``chainrule.numpy.linalg.svd`` (LAPACK's gesdd, as SciPy's default);
    ``lapack_driver='gesvd'`` is refused inside transformations."""
    if lapack_driver != "gesdd":
        raise NotImplementedError("chainrule.scipy.linalg.svd: lapack_driver='gesvd' is "
                                  "not supported inside a transformation")
    a = as_inexact(a)
    out = nla.svd(a, full_matrices=full_matrices, compute_uv=compute_uv)
    return out if not compute_uv else tuple(out)


@numpy_function(sl.qr, module=MODULE, layout=lambda a, overwrite_a=False, lwork=None,
                mode="full", *r, **k: ["C"] if mode == "r" else ["lapack", "C", None])
def qr(a, overwrite_a=False, lwork=None, mode="full", pivoting=False, check_finite=True):
    """Modes 'full', 'economic' and 'r' through ``chainrule.numpy.linalg.qr`` (the same
    LAPACK calls); ``pivoting`` and mode 'raw' are refused inside transformations."""
    _refuse("qr", pivoting=pivoting, **{"mode='raw'": mode == "raw"})
    if mode not in ("full", "r", "economic", "raw"):
        raise ValueError("Mode argument should be one of ['full', 'r', 'economic', 'raw']")
    a = as_inexact(a)
    if len(shape_of(a)) != 2:
        raise ValueError("expected a 2-D array")
    q, r = nla.qr(a, mode="complete" if mode in ("full", "r") else "reduced")
    return (r,) if mode == "r" else (q, r)


@numpy_function(sl.eigh_tridiagonal, module=MODULE, layout=[None, "lapack"])
def eigh_tridiagonal(d, e, eigvals_only=False, select="a", select_range=None,
                     check_finite=True, tol=0.0, lapack_driver="auto"):
    """Eigenvalues (``eigvals_only=True``, ``select='a'``) of the symmetric tridiagonal
    matrix, through ``eigvalsh``; eigenvectors and selections are refused inside
    transformations."""
    _refuse("eigh_tridiagonal", **{"eigvals_only=False": not eigvals_only,
                                  "select": select not in ("a", "all", 0)})
    d, e = as_inexact(d), as_inexact(asarray_like(e))
    n = shape_of(d)[0]
    if shape_of(e) != (n - 1,):
        raise ValueError("d (%s) must have one more element than e (%s)" % (n, shape_of(e)[0]))
    m = d[:, None] * np.eye(n)
    if n > 1:
        sub = np.eye(n, k=-1)
        m = m + _gather_sub(e, n) * (sub + sub.T)
    return nla.eigvalsh(m)


def _gather_sub(e, n):
    """The matrix with e on both first off-diagonals (a gather)."""
    idx = np.zeros((n, n), np.intp)
    i = np.arange(n - 1)
    idx[i + 1, i] = idx[i, i + 1] = i + 1
    N = PUBLIC["numpy"]
    return N["take"](N["concatenate"]((np.zeros(1), e)), idx)


@numpy_function(sl.polar, module=MODULE)
def polar(a, side="right"):
    """u p (``side='right'``) or p u from the SVD, as SciPy."""
    if side not in ("right", "left"):
        raise ValueError("`side` must be either 'right' or 'left'")
    a = as_inexact(a)
    if len(shape_of(a)) != 2:
        raise ValueError("`a` must be a 2-D array.")
    w, s, vh = nla.svd(a, full_matrices=False)
    u = w @ vh
    if side == "right":
        p = (_h(vh) * s) @ vh
    else:
        p = (w * s) @ _h(w)
    return u, p


def _h(x):
    return conj_p.bind(mT(x)) if dtype_of(x).kind == "c" else mT(x)


@numpy_function(sl.expm_frechet, module=MODULE)
def expm_frechet(A, E, method=None, compute_expm=True, check_finite=True):
    """(expm(A), L(A, E)) from the block matrix [[A, E], [0, A]] (both differentiable)."""
    A, E = as_inexact(A), as_inexact(E)
    _square(A, "A")
    if shape_of(A) != shape_of(E):
        raise ValueError("expected A and E to be the same shape")
    if method not in (None, "SPS", "blockEnlarge"):
        raise ValueError(f"Unknown implementation {method}")
    frechet = _scipy_dtype(pl.frechet_expm(A, E), lambda a: sl.expm_frechet(a, a)[1], A)
    if not compute_expm:
        return frechet
    return _scipy_dtype(pl.expm_p.bind(A), lambda a: sl.expm_frechet(a, a)[0], A), frechet


# ---------------------------------------------------------------- LU

@numpy_function(sl.lu_factor, module=MODULE, layout=["lapack", None])
def lu_factor(a, overwrite_a=False, check_finite=True):
    """(lu, piv) as SciPy; ``lu`` is differentiable (pivots held: the derivative of the
    factorisation that keeps them), ``piv`` is not. Square matrices (or stacks)."""
    a = as_inexact(a)
    _square(a)
    lu, piv = pl.lu_factor_p.bind(a)
    return lu, piv


@numpy_function(sl.lu_solve, module=MODULE, layout="lapack")
def lu_solve(lu_and_piv, b, trans=0, overwrite_b=False, check_finite=True):
    """Solves with the factors (differentiable in ``lu`` and ``b``) by two triangular
    solves and the pivots' permutation."""
    lu, piv = lu_and_piv
    lu, b = as_inexact(lu), as_inexact(b)
    n = _square(lu)
    if trans not in _TRANS:
        raise ValueError(f"Incorrect value for 'trans': {trans!r}")
    trans = _TRANS[trans]
    if trans == 2 and dtype_of(lu).kind == "c":
        lu = conj_p.bind(lu)
    bs = shape_of(b)
    if not bs or bs[0] != n:
        raise ValueError(f"Shapes of lu {shape_of(lu)} and b {bs} are incompatible")
    vector = len(bs) == 1
    if vector:
        b = reshape(b, bs + (1,))
    perm = pl.piv_to_perm_p.bind(piv)
    if trans == 0:           # L U x = b[perm]
        y = pl.solve_triangular_p.bind(lu, pl._take_rows(b, perm), lower=True, trans=0,
                                       unit_diagonal=True)
        x = pl.solve_triangular_p.bind(lu, y, lower=False, trans=0, unit_diagonal=False)
    else:                    # U^T L^T (P^T x) = b
        z = pl.solve_triangular_p.bind(lu, b, lower=False, trans=1, unit_diagonal=False)
        w = pl.solve_triangular_p.bind(lu, z, lower=True, trans=1, unit_diagonal=True)
        x = pl._take_rows(w, pl._inverse(perm))
    return reshape(x, bs) if vector else x


@numpy_function(sl.lu, module=MODULE, layout="C")
def lu(a, permute_l=False, overwrite_a=False, check_finite=True, p_indices=False):
    """(p, l, u) (or (pl, u), or p as row indices) from ``lu_factor``: l and u are
    differentiable. Square matrices (or stacks) inside transformations."""
    a = as_inexact(a)
    n = _square(a)
    packed, piv = pl.lu_factor_p.bind(a)
    low = np.tril(np.ones((n, n), _real_dtype(packed)), -1)    # (keeps float32)
    L = packed * low + np.eye(n, dtype=dtype_of(packed))
    U = packed * (1.0 - low)
    perm = pl.piv_to_perm_p.bind(piv)          # a[perm] = L U
    inv = pl._inverse(perm)                    # a = L[inv] U: p's row i is e_{inv[i]}
    if permute_l:
        return pl._take_rows(L, inv), U
    if p_indices:
        return basic.astype(inv, np.int32), L, U          # (LAPACK's int, SciPy's)
    eye = np.eye(n, dtype=dtype_of(a).type(0).real.dtype)
    P = PUBLIC["numpy"]["take"](eye, inv, axis=0)
    return mT(P), L, U


@numpy_function(sl.qr_multiply, module=MODULE)
def qr_multiply(a, c, mode="right", pivoting=False, conjugate=False, overwrite_a=False,
                overwrite_c=False):
    """(Q c or c Q, R) with the economic Q and R of ``qr``; ``pivoting`` is refused
    inside transformations."""
    _refuse("qr_multiply", pivoting=pivoting)
    if mode not in ("left", "right"):
        raise ValueError(f"Mode argument can only be 'left' or 'right' but not '{mode}'")
    a, c = as_inexact(a), as_inexact(c)
    q, r = nla.qr(a, mode="reduced")
    if conjugate and dtype_of(q).kind == "c":
        q = conj_p.bind(q)
    vector = len(shape_of(c)) == 1
    if mode == "left":
        cm = reshape(c, shape_of(c) + (1,)) if vector else c
        if shape_of(cm)[0] != shape_of(q)[1]:
            raise ValueError(f"Array shapes are not compatible for Q @ c operation: "
                             f"{shape_of(q)} vs {shape_of(c)}")
        out = q @ cm
        return (reshape(out, shape_of(out)[:1]) if vector else out), r
    cm = reshape(c, (1,) + shape_of(c)) if vector else c
    if shape_of(cm)[-1] != shape_of(q)[0]:
        raise ValueError(f"Array shapes are not compatible for c @ Q operation: "
                         f"{shape_of(c)} vs {shape_of(q)}")
    out = cm @ q
    return (reshape(out, shape_of(out)[1:]) if vector else out), r


@numpy_function(sl.rsf2csf, module=MODULE)
def rsf2csf(T, Z, check_finite=True):
    """SciPy's Givens sweep on chainrule values (the rotation of each 2x2 block from
    ``eigvals``): differentiable in ``T`` and ``Z`` along quasi-triangular ``T`` (which
    blocks are rotated is SciPy's test on the values: a perturbation that makes a zero
    subdiagonal entry nonzero changes the result discontinuously, as SciPy's)."""
    N = PUBLIC["numpy"]
    T, Z = as_inexact(T), as_inexact(Z)
    for name, X in (("Z", Z), ("T", T)):
        if len(shape_of(X)) != 2 or shape_of(X)[0] != shape_of(X)[1]:
            raise ValueError(f"Input '{name}' must be square.")
    if shape_of(T)[0] != shape_of(Z)[0]:
        raise ValueError(f"Input array shapes must match: Z: {shape_of(Z)} vs. T: "
                         f"{shape_of(T)}")
    n = shape_of(T)[0]
    dt = np.result_type(dtype_of(T), dtype_of(Z), np.complex64)
    T, Z = T.astype(dt), Z.astype(dt)
    eps = np.finfo(float).eps
    at = N["at"]
    for m in range(n - 1, 0, -1):
        sub, d0, d1 = T[m, m - 1], T[m - 1, m - 1], T[m, m]
        cond = abs(sub) > eps * (abs(d0) + abs(d1))
        known = has_value(cond)                  # (under vmap: a select per example)
        if not known or bool(concrete(cond)):
            mu = nla.eigvals(T[m - 1:m + 1, m - 1:m + 1]) - d1
            r = N["sqrt"](abs(mu[0]) ** 2 + abs(sub) ** 2)
            if known:
                c, s = mu[0] / r, sub / r
            else:
                r = N["where"](cond, r, 1.0)
                c, s = N["where"](cond, mu[0] / r, 1.0), N["where"](cond, sub / r, 0.0)
            G = N["stack"]([N["stack"]([conj_p.bind(c), s]), N["stack"]([-s, c])])
            Gh = conj_p.bind(mT(G))
            T = at(T)[m - 1:m + 1, m - 1:].set(G @ T[m - 1:m + 1, m - 1:])
            T = at(T)[:m + 1, m - 1:m + 1].set(T[:m + 1, m - 1:m + 1] @ Gh)
            Z = at(Z)[:, m - 1:m + 1].set(Z[:, m - 1:m + 1] @ Gh)
        T = at(T)[m, m - 1].set(0.0)
    return T, Z
