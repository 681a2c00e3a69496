"""chainrule.scipy.signal: differentiable N-D convolution and correlation
(``convolve``, ``correlate``, ``fftconvolve``), SciPy's modes and methods.

All three bind ``prims/signal.py``'s convolve primitive; a correlation is a
convolution with the second argument reversed (and conjugated), exactly as SciPy
computes it.
"""
import numpy as np
import scipy.signal as ss

from ..core import shape_of, dtype_of
from ..prims.signal import convolve_p, _flip
from ..prims.elementwise import conj_p
from ..numpy.basic import asarray_like
from ..numpy.dispatch import numpy_function

MODULE = "scipy.signal"


def _check(in1, in2, mode, method):
    s1, s2 = shape_of(in1), shape_of(in2)
    if len(s1) != len(s2):
        raise ValueError("in1 and in2 should have the same dimensionality")
    if mode not in ("full", "same", "valid"):
        raise ValueError("acceptable mode flags are 'valid', 'same', or 'full'")
    if method not in ("auto", "direct", "fft"):
        raise ValueError("acceptable method flags are 'auto', 'direct', or 'fft'")
    if mode == "valid" and not (all(a >= b for a, b in zip(s1, s2)) or
                                all(b >= a for a, b in zip(s1, s2))):
        raise ValueError("For 'valid' mode, one must be at least as large as the other "
                         "in every dimension")


@numpy_function(ss.convolve, module=MODULE)
def convolve(in1, in2, mode="full", method="auto"):
    """Derivatives are convolutions with the other argument reversed (correlations)."""
    in1, in2 = asarray_like(in1), asarray_like(in2)
    _check(in1, in2, mode, method)
    if not shape_of(in1):
        return in1 * in2
    if 0 in shape_of(in1) or 0 in shape_of(in2):
        return ss.convolve(np.zeros(shape_of(in1), dtype_of(in1)),
                           np.zeros(shape_of(in2), dtype_of(in2)), mode, method)
    return convolve_p.bind(in1, in2, mode=mode, method=method, nbatch=0)


@numpy_function(ss.correlate, module=MODULE)
def correlate(in1, in2, mode="full", method="auto"):
    """convolve(in1, reverse(conj(in2))), as SciPy."""
    in1, in2 = asarray_like(in1), asarray_like(in2)
    _check(in1, in2, mode, method)
    if not shape_of(in1):
        return in1 * (conj_p.bind(in2) if dtype_of(in2).kind == "c" else in2)
    if dtype_of(in2).kind == "c":
        in2 = conj_p.bind(in2)
    return convolve(in1, _flip(in2, 0), mode=mode, method=method)


def _fft_dtype(x):
    """The dtype scipy.fft computes ``x``'s transform in: single precision stays single
    (float16 too), everything else (integers, booleans) is double."""
    dt = dtype_of(x)
    if dt.kind == "c":
        return np.dtype(np.complex64 if dt.itemsize <= 8 else np.complex128)
    return np.dtype(np.float32 if dt.kind == "f" and dt.itemsize <= 4 else np.float64)


@numpy_function(ss.fftconvolve, module=MODULE)
def fftconvolve(in1, in2, mode="full", axes=None):
    """Only ``axes=None`` (convolve over every axis) inside transformations. SciPy's
    dtypes: the transforms' (integers and booleans give float64, float32 stays float32),
    except where every axis has length 1 in one argument (SciPy multiplies) and for
    empty arguments (SciPy's ``array([])``)."""
    if axes is not None:
        raise NotImplementedError("chainrule.scipy.signal.fftconvolve: axes= is not "
                                  "supported inside a transformation")
    in1, in2 = asarray_like(in1), asarray_like(in2)
    s1, s2 = shape_of(in1), shape_of(in2)
    if s1 and len(s1) == len(s2):
        if 0 in s1 or 0 in s2:
            return np.array([])
        if not all(a == 1 or b == 1 for a, b in zip(s1, s2)):
            # each in its transform's dtype (a float32 argument's transform is single
            # precision beside a float64 one, as SciPy's)
            d1, d2 = _fft_dtype(in1), _fft_dtype(in2)
            in1 = in1 if dtype_of(in1) == d1 else in1.astype(d1)
            in2 = in2 if dtype_of(in2) == d2 else in2.astype(d2)
    return convolve(in1, in2, mode=mode, method="fft")
