"""FFT primitives: one-axis, fixed-size transforms (the numpy layer pads/truncates to
``n`` first and composes the n-dimensional transforms from these, as NumPy does).

All three are linear (jvp applies the primitive to the tangent). Their transposes under
the real pairing ``<a, b> = Re(sum(a * b))`` (JAX's convention, no conjugation):

* ``fft``/``ifft``: the DFT matrix is symmetric, so the transpose is the same transform
  with the same ``norm`` (and the real part when the input was real).
* ``rfft`` of a real x is ``fft(x)[:n//2+1]``: transpose = ``Re(fft(zero-pad(ct, n)))``.
* ``irfft`` (length n from m = n//2+1 coefficients) is
  ``y_k = s * Re(sum_j c_j x_j exp(2 pi i jk/n))`` with ``c_0 = 1``, ``c_{n/2} = 1`` for
  even n and ``c_j = 2`` otherwise (NumPy ignores the imaginary parts of the DC and
  Nyquist terms); its transpose is ``c * conj(rfft(ct))`` with the rfft scaled by the
  same ``s`` (the ``norm`` with directions swapped).

Cost: a complex transform of length n costs 5 n log2(n) flops, so ``fft`` of an
array of size N along an axis of length n costs ``5 N log2 n``; ``rfft``/``irfft``
half of that for the real array's size.
"""
import math

import numpy as np

from ..core import shape_of, dtype_of
from ..core import size_of as _size
from .shape import moveaxis, fit_cotangent, LinearUnary
from .structure import concatenate_p
from . import elementwise as ew

SWAP_NORM = {"backward": "forward", "ortho": "ortho", "forward": "backward"}



def _log2(n):
    return math.log2(n) if n > 1 else 0.0


def pad_axis(x, axis, n):
    """Zero-pad ``x`` at the end of ``axis`` to length ``n`` (n >= current length)."""
    s = shape_of(x)
    extra = n - s[axis]
    if extra <= 0:
        return x
    zeros = np.zeros(s[:axis] + (extra,) + s[axis + 1:], dtype_of(x))
    return concatenate_p.bind(x, zeros, axis=axis)


class _LinearFFT(LinearUnary):
    """The FFT family: linear in x (jvp from LinearUnary), one axis at a time."""

    def batch(self, args, dims, *, axis, **params):
        x = moveaxis(args[0], dims[0], 0)
        return self.bind(x, axis=axis + 1, **params), 0


class FFT(_LinearFFT):
    """Complex-to-complex transform along ``axis`` (``inverse``: ifft)."""

    def impl(self, x, *, axis, inverse, norm):
        fn = np.fft.ifft if inverse else np.fft.fft
        return fn(x, axis=axis, norm=norm)

    def vjp(self, ct, ans, args, needs, *, axis, inverse, norm):
        return [fit_cotangent(self.bind(ct, axis=axis, inverse=inverse, norm=norm), args[0])]

    def cost(self, args, ans, *, axis, inverse, norm):
        n = shape_of(ans)[axis]
        return int(5 * _size(shape_of(ans)) * _log2(n))


class RFFT(_LinearFFT):
    """Real-to-complex transform along ``axis`` (length n -> n//2 + 1)."""

    def impl(self, x, *, axis, norm):
        return np.fft.rfft(x, axis=axis, norm=norm)

    def vjp(self, ct, ans, args, needs, *, axis, norm):
        x = args[0]
        n = shape_of(x)[axis]
        c = pad_axis(ct, axis, n)
        if dtype_of(c).kind != "c":
            c = c + 0j
        full = fft_p.bind(c, axis=axis, inverse=False, norm=norm)
        return [fit_cotangent(ew.real_p.bind(full), x)]

    def cost(self, args, ans, *, axis, norm):
        n = shape_of(args[0])[axis]
        return int(2.5 * _size(shape_of(args[0])) * _log2(n))


def irfft_weights(n, m, nd, axis):
    """c_j of the irfft transpose, shaped to broadcast along ``axis``."""
    w = np.full(m, 2.0)
    w[0] = 1.0
    if n % 2 == 0 and m > n // 2:
        w[n // 2] = 1.0
    shape = [1] * nd
    shape[axis] = m
    return w.reshape(shape)


class IRFFT(_LinearFFT):
    """Complex-to-real transform along ``axis``: n//2 + 1 coefficients -> length n."""

    def impl(self, x, *, axis, n, norm):
        return np.fft.irfft(x, n=n, axis=axis, norm=norm)

    def vjp(self, ct, ans, args, needs, *, axis, n, norm):
        x = args[0]
        if dtype_of(ct).kind == "c":
            ct = ew.real_p.bind(ct)
        y = rfft_p.bind(ct, axis=axis, norm=SWAP_NORM[norm])
        m = shape_of(x)[axis]
        w = irfft_weights(n, m, len(shape_of(x)), axis)
        return [fit_cotangent(ew.conj_p.bind(y) * w, x)]

    def cost(self, args, ans, *, axis, n, norm):
        return int(2.5 * _size(shape_of(ans)) * _log2(n))


fft_p = FFT("fft")
rfft_p = RFFT("rfft")
irfft_p = IRFFT("irfft")
