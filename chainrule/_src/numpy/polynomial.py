"""NumPy's polynomial functions (``poly``, ``polyval``, ``polyadd``, ``polysub``,
``polymul``, ``polydiv``, ``polyder``, ``polyint``, ``polyfit``, ``roots``): NumPy's
algorithms on chainrule's functions, so values agree to rounding and derivatives
follow (``roots`` through ``eigvals`` of the companion matrix, ``polyfit`` through
``lstsq``). Leading zeros are trimmed on concrete values, as NumPy trims them."""
import numpy as np

from ..core import shape_of, dtype_of, has_value
from .basic import asarray_like, as_inexact, concrete
from .dispatch import numpy_function, PUBLIC


def _n():
    return PUBLIC["numpy"]


def _1d(p, name="p"):
    p = asarray_like(p)
    if not shape_of(p):
        p = _n()["reshape"](p, (1,))
    if len(shape_of(p)) != 1:
        raise ValueError(f"{name} must be a 1-d array")
    return p


@numpy_function(np.polyval, layout=lambda p, x: ("K", x))     # zeros_like(x)
def polyval(p, x):
    """Horner's scheme, as NumPy's."""
    N = _n()
    p, x = asarray_like(p), asarray_like(x)
    y = np.zeros(shape_of(x), dtype_of(x))
    for i in range(shape_of(p)[0]):
        y = y * x + p[i]
    return y


def _pad_add(a1, a2, sign):
    N = _n()
    a1, a2 = _1d(a1, "a1"), _1d(a2, "a2")
    d = shape_of(a2)[0] - shape_of(a1)[0]
    if d > 0:
        a1 = N["concatenate"]((np.zeros(d, dtype_of(a1)), a1))
    elif d < 0:
        a2 = N["concatenate"]((np.zeros(-d, dtype_of(a2)), a2))
    return a1 + a2 if sign > 0 else a1 - a2


@numpy_function(np.polyadd)
def polyadd(a1, a2):
    return _pad_add(a1, a2, 1)


@numpy_function(np.polysub)
def polysub(a1, a2):
    return _pad_add(a1, a2, -1)


def _poly1d(c):
    """NumPy's ``poly1d(c).coeffs``: 1-d, leading zeros trimmed (on concrete values;
    under vmap, where each example has its own, they are kept), ``[0]`` if none is
    left."""
    c = asarray_like(c)
    if len(shape_of(c)) > 1:
        raise ValueError("Polynomial must be 1d only.")
    c = _1d(c)
    if has_value(c):
        nz = np.flatnonzero(np.asarray(concrete(c)))
        if nz.size == 0:
            return np.zeros(1, dtype_of(c))
        if nz[0]:
            c = c[int(nz[0]):]
    return c


@numpy_function(np.polymul)
def polymul(a1, a2):
    """``convolve`` of NumPy's ``poly1d`` coefficients: leading zeros of either
    factor are trimmed first (an empty one is ``[0]``)."""
    return _n()["convolve"](_poly1d(a1), _poly1d(a2))


@numpy_function(np.polyder)
def polyder(p, m=1):
    """NumPy's ``p[:-1] * arange(n, 0, -1)``, ``m`` times, in NumPy's dtypes (integer
    coefficients stay integer, float32 ones become float64; ``m=0`` is ``p``)."""
    m = int(m)
    if m < 0:
        raise ValueError("Order of derivative must be positive (see polyint)")
    p = asarray_like(p)
    for _ in range(m):
        n = shape_of(p)[0] - 1
        p = p[:-1] * np.arange(n, 0, -1)
    return p


@numpy_function(np.polyint)
def polyint(p, m=1, k=None):
    """NumPy's ``concatenate((p / arange(n, 0, -1), [k[i]]))``, ``m`` times (``m=0``
    is ``p``); a scalar or length-1 ``k`` is every constant, as NumPy's."""
    N = _n()
    m = int(m)
    if m < 0:
        raise ValueError("Order of integral must be positive (see polyder)")
    k = np.zeros(m, float) if k is None else k
    k = N["atleast_1d"](asarray_like(k))
    if shape_of(k)[0] == 1 and m > 1:
        k = k[0] * np.ones(m, float)
    if shape_of(k)[0] < m:
        raise ValueError("k must be a scalar or a rank-1 array of length 1 or >m.")
    p = asarray_like(p)
    for i in range(m):
        n = shape_of(p)[0]
        p = N["concatenate"]((p / np.arange(n, 0, -1), N["reshape"](k[i], (1,))))
    return p


@numpy_function(np.polydiv)
def polydiv(u, v):
    """Long division as NumPy's; the remainder's leading near-zeros (``allclose``, on
    concrete values) are trimmed. Under vmap only the entries the division eliminates
    are (a remainder whose own leading coefficient is near zero keeps it)."""
    N = _n()
    u, v = as_inexact(_1d(u, "u")), as_inexact(_1d(v, "v"))
    dt = np.result_type(dtype_of(u), dtype_of(v))    # NumPy: q and r in u[0] + v[0]'s
    u = u if dtype_of(u) == dt else u.astype(dt)
    m, n = shape_of(u)[0] - 1, shape_of(v)[0] - 1
    scale = 1.0 / v[0]
    q = []
    r = u
    for k in range(max(m - n + 1, 0)):
        d = scale * r[k]
        q.append(d)
        r = N["at"](r)[k:k + n + 1].add(-d * v)
    q = N["stack"](q) if q else np.zeros(1, dt)
    if not has_value(r):        # under vmap: the entries the division eliminated
        return q, r[min(max(m - n + 1, 0), shape_of(r)[0] - 1):]
    while np.allclose(concrete(r[0]), 0, rtol=1e-14) and shape_of(r)[-1] > 1:
        r = r[1:]
    return q, r


@numpy_function(np.poly)
def poly(seq_of_zeros):
    N = _n()
    z = asarray_like(seq_of_zeros)
    s = shape_of(z)
    if len(s) == 2 and s[0] == s[1] and s[0] != 0:
        z = PUBLIC["numpy.linalg"]["eigvals"](z)
    elif len(s) == 1 or not s:
        z = N["reshape"](z, (-1,))
        dt = np.dtype(np.mintypecode(dtype_of(z).char))     # NumPy: ints to float64
        z = z if dtype_of(z) == dt else z.astype(dt)
    else:
        raise ValueError("input must be 1d or non-empty square 2d array.")
    if shape_of(z)[0] == 0:
        return 1.0
    a = np.ones((1,), dtype_of(z))
    for i in range(shape_of(z)[0]):
        a = N["convolve"](a, N["stack"]([np.ones((), dtype_of(z)), -z[i]]), mode="full")
    if dtype_of(a).kind == "c":
        roots = np.asarray(concrete(z), complex)
        if np.all(np.sort(roots) == np.sort(roots.conjugate())):
            a = N["real"](a) * 1.0
    return a


@numpy_function(np.roots)
def roots(p):
    """Eigenvalues of the companion matrix (``eigvals``), NumPy's order; leading and
    trailing zeros trimmed on concrete values (under vmap, where they are not known,
    none: trailing zeros are then roots of the companion matrix, a leading zero gives
    inf/nan)."""
    N = _n()
    p = _1d(p)
    if has_value(p):
        nz = np.flatnonzero(np.asarray(concrete(p)))
        if nz.size == 0:
            return np.array([])
        trailing = shape_of(p)[0] - nz[-1] - 1
        p = as_inexact(p[int(nz[0]):int(nz[-1]) + 1])
    else:       # under vmap: no trimming (a zero leading coefficient gives inf/nan)
        trailing, p = 0, as_inexact(p)
    n = shape_of(p)[0]
    if n > 1:
        a = np.diag(np.ones((n - 2,), dtype_of(p)), -1)
        first = N["reshape"](-p[1:] / p[0], (1, n - 1))
        A = N["concatenate"]((first, a[1:]), axis=0) if n > 2 else first
        r = PUBLIC["numpy.linalg"]["eigvals"](A)
    else:
        r = np.array([])                                  # NumPy's: float64
    if trailing:
        r = N["concatenate"]((r, np.zeros(trailing, dtype_of(r))))
    return r


@numpy_function(np.polyfit)
def polyfit(x, y, deg, rcond=None, full=False, w=None, cov=False):
    """NumPy's scaled least squares (``full``/``cov`` are refused inside
    transformations)."""
    if full or cov:
        raise NotImplementedError("chainrule.numpy.polyfit: full= and cov= are not "
                                  "supported inside a transformation")
    N = _n()
    order = int(deg) + 1
    x, y = as_inexact(x), as_inexact(y)
    if deg < 0:
        raise ValueError("expected deg >= 0")
    if len(shape_of(x)) != 1:
        raise TypeError("expected 1D vector for x")
    if shape_of(x)[0] == 0:
        raise TypeError("expected non-empty vector for x")
    if len(shape_of(y)) < 1 or len(shape_of(y)) > 2:
        raise TypeError("expected 1D or 2D array for y")
    if shape_of(x)[0] != shape_of(y)[0]:
        raise TypeError("expected x and y to have same length")
    if rcond is None:
        rcond = shape_of(x)[0] * np.finfo(np.result_type(dtype_of(x), np.float64)).eps
    lhs = N["vander"](x, order)
    rhs = y
    if w is not None:
        w = as_inexact(w)
        lhs = lhs * w[:, None]
        rhs = rhs * w if len(shape_of(rhs)) == 1 else rhs * w[:, None]
    scale = N["sqrt"](N["sum"](lhs * lhs, axis=0))
    lhs = lhs / scale
    c = PUBLIC["numpy.linalg"]["lstsq"](lhs, rhs, rcond)[0]
    return (c.T / scale).T
