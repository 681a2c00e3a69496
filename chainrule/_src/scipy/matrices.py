"""chainrule.scipy.linalg's special matrices built from vectors: ``block_diag``,
``circulant``, ``toeplitz``, ``hankel``, ``leslie``, ``companion``,
``fiedler_companion``, ``convolution_matrix`` (each entry is an input entry, its
negative, a constant 1 or 0) and ``fiedler`` (|a_i - a_j|).

Where each entry comes from is SciPy's own answer: its function is run once on the
entries' positions (1, 2, 3, ...) in place of the values, and the matrix is gathered
from the values with that map. So the layout is SciPy's by construction, and the
derivative is the gather's (a scatter-add). Inside transformations the vectors are
1-D (SciPy's stacks of them raise NotImplementedError).
"""
import numpy as np
import scipy.linalg as sl

from ..core import shape_of, dtype_of, has_value
from ..prims.elementwise import conj_p
from ..numpy.basic import asarray_like
from ..numpy.dispatch import numpy_function, PUBLIC

MODULE = "scipy.linalg"


def _n():
    return PUBLIC["numpy"]


def _gathered(build, arrays, ndims=1):
    """``build`` (SciPy's function of the arrays) on chainrule values: SciPy's entry map
    from positions, then a gather (a negative position: the entry negated). The dtype
    is SciPy's: ``build`` on ones of the arrays' dtypes (an int or bool matrix of int
    or bool vectors, float32 of float32, ...)."""
    N = _n()
    arrays = [asarray_like(a) for a in arrays]
    dt = np.asarray(build(*[np.ones(shape_of(a), dtype_of(a)) for a in arrays])).dtype
    codes, flat, off = [], [np.zeros(1, dt)], 1
    for a in arrays:
        size = int(np.prod(shape_of(a), dtype=np.int64))
        codes.append(np.arange(off, off + size, dtype=np.float64).reshape(shape_of(a)))
        flat.append(N["ravel"](a).astype(dt) if dtype_of(a) != dt else N["ravel"](a))
        off += size
    m = np.asarray(build(*codes)).real
    idx = np.rint(np.abs(m)).astype(np.intp)
    vals = N["take"](N["concatenate"](flat), idx)
    neg = m < 0
    return N["where"](neg, -vals, vals) if neg.any() else vals


def _vector(v, name, fname):
    v = asarray_like(v)         # in its own dtype: SciPy's functions keep it
    if len(shape_of(v)) != 1:
        raise NotImplementedError(f"chainrule.scipy.linalg.{fname}: {name} must be 1-D "
                                  "inside a transformation (use vmap for a batch)")
    return v


@numpy_function(sl.block_diag, module=MODULE)
def block_diag(*arrs):
    if not arrs:
        return np.empty((1, 0))
    arrs = [asarray_like(a) for a in arrs]
    for a in arrs:
        if len(shape_of(a)) > 2:
            raise ValueError("arguments in the following positions have dimension "
                             "greater than 2: " + str([i for i, x in enumerate(arrs)
                                                        if len(shape_of(x)) > 2]))
    return _gathered(sl.block_diag, arrs)


@numpy_function(sl.circulant, module=MODULE)
def circulant(c):
    return _gathered(sl.circulant, [_vector(c, "c", "circulant")])


@numpy_function(sl.toeplitz, module=MODULE)
def toeplitz(c, r=None):
    """``r`` defaults to ``conj(c)``, as SciPy."""
    c = _vector(c, "c", "toeplitz")
    if r is None:
        r = conj_p.bind(c) if dtype_of(c).kind == "c" else c
    return _gathered(sl.toeplitz, [c, _vector(r, "r", "toeplitz")])


@numpy_function(sl.hankel, module=MODULE)
def hankel(c, r=None):
    c = _vector(c, "c", "hankel")
    if r is None:
        return _gathered(lambda c: sl.hankel(c), [c])
    return _gathered(sl.hankel, [c, _vector(r, "r", "hankel")])


@numpy_function(sl.leslie, module=MODULE)
def leslie(f, s):
    return _gathered(sl.leslie, [_vector(f, "f", "leslie"), _vector(s, "s", "leslie")])


@numpy_function(sl.companion, module=MODULE)
def companion(a):
    """First row -a[1:] / a[0], ones below the diagonal."""
    a = _vector(a, "a", "companion")
    n = shape_of(a)[0]
    if n < 2:
        raise ValueError("The length of `a` along the last axis must be at least 2.")
    if has_value(a) and bool(a[0] == 0):
        raise ValueError("The first coefficient(s) of `a` (i.e. elements of `a[..., 0]`) "
                         "must not be zero.")
    first = -a[1:] / (1.0 * a[0:1])        # SciPy's expression (and its dtype)
    rest = np.eye(n - 2, n - 1, dtype=dtype_of(first))
    return _n()["concatenate"]((first[None, :], rest), axis=0)


@numpy_function(sl.fiedler_companion, module=MODULE)
def fiedler_companion(a):
    a = _vector(a, "a", "fiedler_companion")
    n = shape_of(a)[0]
    if n <= 2:
        if n == 2:
            return _n()["reshape"](-(a[1] / a[0]), (1, 1))
        return np.array([], dtype=dtype_of(a))
    if has_value(a) and bool(a[0] == 0):
        raise ValueError("Leading coefficient is zero.")
    b = a / a[0]
    # SciPy's map (on positions, a[0] = 1): -k is -b[k-1], 1 is a constant (or b[0] = 1)
    return _gathered(sl.fiedler_companion, [b])


@numpy_function(sl.convolution_matrix, module=MODULE)
def convolution_matrix(a, n, mode="full"):
    a = _vector(a, "a", "convolution_matrix")
    return _gathered(lambda a: sl.convolution_matrix(a, n, mode), [a])


@numpy_function(sl.fiedler, module=MODULE)
def fiedler(a):
    """|a_i - a_j| (derivative sign(a_i - a_j); 0 on the diagonal)."""
    a = _vector(a, "a", "fiedler")
    if shape_of(a)[0] == 0:                 # SciPy's constants (float64)
        return np.array([], dtype=np.float64)
    if shape_of(a)[0] == 1:
        return np.array([[0.]])
    return abs(a[:, None] - a[None, :])
