"""chainrule.numpy.fft: differentiable ``numpy.fft``.

Every transform pads or truncates its input to ``n`` (``s``) with chainrule's own
slicing/concatenation and then binds a one-axis primitive of ``prims/fft.py`` (see its
docstring for the transposes); the n-dimensional transforms loop over the axes in
NumPy's order, so repeated axes and ``s`` behave exactly as in NumPy. ``fftshift``
and ``ifftshift`` are rolls (slices and a concatenation); ``fftfreq``/``rfftfreq``
return NumPy's constants, differentiable in the sample spacing ``d``.
"""
import operator

import numpy as np

from ..core import shape_of, dtype_of
from ..prims.fft import fft_p, rfft_p, irfft_p, pad_axis, SWAP_NORM
from ..prims import elementwise as ew
from .basic import asarray_like, single_axis
from .dispatch import numpy_function, no_kwargs
from .shape import slice_axis, roll


def _fft(np_fn, name=None):
    # NumPy's results are laid out in the order of the argument's strides
    return numpy_function(np_fn, module="numpy.fft", name=name, layout="K")


def _norm(norm):
    if norm is None:
        return "backward"
    if norm not in ("backward", "ortho", "forward"):
        raise ValueError(f'Invalid norm value {norm}; should be "backward",'
                         '"ortho" or "forward".')
    return norm


def _axis(a, axis):
    return single_axis(axis, len(shape_of(a)))


def _resize(x, axis, n):
    """Truncate or zero-pad ``x`` along ``axis`` to length ``n`` (NumPy's rule)."""
    cur = shape_of(x)[axis]
    if cur > n:
        return slice_axis(x, axis, 0, n)
    if cur < n:
        return pad_axis(x, axis, n)
    return x


def _check_n(n):
    if n < 1:
        raise ValueError(f"Invalid number of FFT data points ({n}) specified.")


def _c2c(a, n, axis, norm, inverse):
    a = asarray_like(a)
    axis = _axis(a, axis)
    n = shape_of(a)[axis] if n is None else operator.index(n)
    _check_n(n)
    norm = _norm(norm)
    return fft_p.bind(_resize(a, axis, n), axis=axis, inverse=inverse, norm=norm)


def _r2c(a, n, axis, norm):
    a = asarray_like(a)
    if dtype_of(a).kind == "c":
        raise TypeError("ufunc 'rfft' not supported for complex input (numpy.fft.rfft "
                        "takes real input)")
    axis = _axis(a, axis)
    n = shape_of(a)[axis] if n is None else operator.index(n)
    _check_n(n)
    norm = _norm(norm)
    return rfft_p.bind(_resize(a, axis, n), axis=axis, norm=norm)


def _c2r(a, n, axis, norm):
    a = asarray_like(a)
    axis = _axis(a, axis)
    n = (shape_of(a)[axis] - 1) * 2 if n is None else operator.index(n)
    _check_n(n)
    norm = _norm(norm)
    return irfft_p.bind(_resize(a, axis, n // 2 + 1), axis=axis, n=n, norm=norm)


@_fft(np.fft.fft)
def fft(a, n=None, axis=-1, norm=None, out=None):
    no_kwargs("fft.fft", out=out)
    return _c2c(a, n, axis, norm, False)


@_fft(np.fft.ifft)
def ifft(a, n=None, axis=-1, norm=None, out=None):
    no_kwargs("fft.ifft", out=out)
    return _c2c(a, n, axis, norm, True)


@_fft(np.fft.rfft)
def rfft(a, n=None, axis=-1, norm=None, out=None):
    no_kwargs("fft.rfft", out=out)
    return _r2c(a, n, axis, norm)


@_fft(np.fft.irfft)
def irfft(a, n=None, axis=-1, norm=None, out=None):
    """Ignores the imaginary parts of the zero-frequency (and, for even n, the
    Nyquist) coefficients, as NumPy does: their derivative is zero."""
    no_kwargs("fft.irfft", out=out)
    return _c2r(a, n, axis, norm)


@_fft(np.fft.hfft)
def hfft(a, n=None, axis=-1, norm=None, out=None):
    no_kwargs("fft.hfft", out=out)
    a = asarray_like(a)
    if n is None:
        n = (shape_of(a)[_axis(a, axis)] - 1) * 2
    norm = SWAP_NORM[_norm(norm)]
    if dtype_of(a).kind == "c":
        a = ew.conj_p.bind(a)
    return _c2r(a, n, axis, norm)


@_fft(np.fft.ihfft)
def ihfft(a, n=None, axis=-1, norm=None, out=None):
    no_kwargs("fft.ihfft", out=out)
    out = _r2c(a, n, axis, SWAP_NORM[_norm(norm)])
    return ew.conj_p.bind(out)


# ------------------------------------------------------------------ n-dimensional

def _cook_nd_args(a, s=None, axes=None, invreal=False):
    shape = shape_of(a)
    if s is None:
        shapeless = True
        s = list(shape) if axes is None else [shape[ax] for ax in axes]
    else:
        shapeless = False
    s = list(s)
    if axes is None:
        axes = list(range(-len(s), 0))
    axes = list(axes)
    if len(s) != len(axes):
        raise ValueError("Shape and axes have different lengths.")
    if invreal and shapeless:
        s[-1] = (shape[axes[-1]] - 1) * 2
    s = [shape[ax] if n is None or n == -1 else n for n, ax in zip(s, axes)]
    return s, axes


def _c2c_nd(a, s, axes, norm, inverse):
    a = asarray_like(a)
    s, axes = _cook_nd_args(a, s, axes)
    for ii in reversed(range(len(axes))):
        a = _c2c(a, s[ii], axes[ii], norm, inverse)
    return a


@_fft(np.fft.fftn)
def fftn(a, s=None, axes=None, norm=None, out=None):
    no_kwargs("fft.fftn", out=out)
    return _c2c_nd(a, s, axes, norm, False)


@_fft(np.fft.ifftn)
def ifftn(a, s=None, axes=None, norm=None, out=None):
    no_kwargs("fft.ifftn", out=out)
    return _c2c_nd(a, s, axes, norm, True)


@_fft(np.fft.fft2)
def fft2(a, s=None, axes=(-2, -1), norm=None, out=None):
    no_kwargs("fft.fft2", out=out)
    return _c2c_nd(a, s, axes, norm, False)


@_fft(np.fft.ifft2)
def ifft2(a, s=None, axes=(-2, -1), norm=None, out=None):
    no_kwargs("fft.ifft2", out=out)
    return _c2c_nd(a, s, axes, norm, True)


def _rfftn(a, s, axes, norm):
    a = asarray_like(a)
    s, axes = _cook_nd_args(a, s, axes)
    a = _r2c(a, s[-1], axes[-1], norm)
    for ii in range(len(axes) - 2, -1, -1):
        a = _c2c(a, s[ii], axes[ii], norm, False)
    return a


def _irfftn(a, s, axes, norm):
    a = asarray_like(a)
    s, axes = _cook_nd_args(a, s, axes, invreal=True)
    for ii in range(len(axes) - 1):
        a = _c2c(a, s[ii], axes[ii], norm, True)
    return _c2r(a, s[-1], axes[-1], norm)


@_fft(np.fft.rfftn)
def rfftn(a, s=None, axes=None, norm=None, out=None):
    no_kwargs("fft.rfftn", out=out)
    return _rfftn(a, s, axes, norm)


@_fft(np.fft.irfftn)
def irfftn(a, s=None, axes=None, norm=None, out=None):
    no_kwargs("fft.irfftn", out=out)
    return _irfftn(a, s, axes, norm)


@_fft(np.fft.rfft2)
def rfft2(a, s=None, axes=(-2, -1), norm=None, out=None):
    no_kwargs("fft.rfft2", out=out)
    return _rfftn(a, s, axes, norm)


@_fft(np.fft.irfft2)
def irfft2(a, s=None, axes=(-2, -1), norm=None, out=None):
    no_kwargs("fft.irfft2", out=out)
    return _irfftn(a, s, axes, norm)


# ------------------------------------------------------------------ shifts, frequencies

def _shift(x, axes, sign):
    x = asarray_like(x)
    shape = shape_of(x)
    if axes is None:
        axes = tuple(range(len(shape)))
    elif isinstance(axes, (int, np.integer)):
        axes = (axes,)
    shifts = [sign * (shape[ax] // 2) for ax in axes]
    return roll(x, shifts, axes)


@_fft(np.fft.fftshift)
def fftshift(x, axes=None):
    return _shift(x, axes, 1)


@_fft(np.fft.ifftshift)
def ifftshift(x, axes=None):
    return _shift(x, axes, -1)


def _check_int(n):
    if not isinstance(n, (int, np.integer)):
        raise ValueError("n should be an integer")


@_fft(np.fft.fftfreq)
def fftfreq(n, d=1.0, device=None):
    """NumPy's frequencies (constants); differentiable in the sample spacing ``d``."""
    _check_int(n)
    val = 1.0 / (n * d)
    results = np.empty(n, int)
    N = (n - 1) // 2 + 1
    results[:N] = np.arange(0, N, dtype=int)
    results[N:] = np.arange(-(n // 2), 0, dtype=int)
    return results * val


@_fft(np.fft.rfftfreq)
def rfftfreq(n, d=1.0, device=None):
    """NumPy's frequencies (constants); differentiable in the sample spacing ``d``."""
    _check_int(n)
    val = 1.0 / (n * d)
    return np.arange(0, n // 2 + 1, dtype=int) * val
