"""Rows for chainrule.numpy.fft: every transform with padding (n/s larger than the
input), truncation, odd and even lengths, each norm, non-default axes, and real and
complex inputs."""
import numpy as np

import chainrule.numpy as cnp
from . import Row, S, randn, cplx

_fft = cnp.fft


def _c2c_samples():
    return [S(randn(8)), S(cplx(8)), S(cplx(3, 8), n=6), S(cplx(3, 5), n=8, axis=0),
            S(randn(4, 6), axis=0, norm="ortho"), S(cplx(7), norm="forward"),
            S(cplx(2, 5), n=5, norm="backward")]


def _nd_samples():
    return [S(cplx(3, 4)), S(randn(2, 3, 4)), S(cplx(2, 3, 4), axes=(0, 2)),
            S(cplx(3, 4), s=(5, 3), axes=(0, 1)),
            S(cplx(2, 3, 4), s=(2, 6), axes=(2, 0), norm="ortho"),
            S(cplx(3, 4), axes=(1, 1)), S(cplx(3, 4), norm="forward")]


ROWS = [
    Row("fft.fft", _fft.fft, np.fft.fft, _c2c_samples()),
    Row("fft.ifft", _fft.ifft, np.fft.ifft, _c2c_samples()),
    Row("fft.rfft", _fft.rfft, np.fft.rfft,
        [S(randn(8)), S(randn(7)), S(randn(3, 8), n=6, norm="ortho"),
         S(randn(5, 4), n=9, axis=0, norm="forward"), S(randn(2, 5), n=10)]),
    Row("fft.irfft", _fft.irfft, np.fft.irfft,
        [S(cplx(5)), S(cplx(5), n=9), S(cplx(3, 5), n=6), S(cplx(4, 3), n=10, axis=0,
                                                             norm="ortho"),
         S(randn(5)), S(cplx(2, 4), n=7, norm="forward"), S(cplx(6), n=5)]),
    Row("fft.hfft", _fft.hfft, np.fft.hfft,
        [S(cplx(5)), S(cplx(3, 4), n=7, norm="ortho"), S(randn(4), n=8, norm="forward")]),
    Row("fft.ihfft", _fft.ihfft, np.fft.ihfft,
        [S(randn(8)), S(randn(3, 7), n=5, norm="ortho"), S(randn(6), n=9, norm="forward")]),
    Row("fft.fft2", _fft.fft2, np.fft.fft2,
        [S(cplx(3, 4)), S(randn(2, 3, 4), s=(4, 2)), S(cplx(3, 4, 2), axes=(0, 2),
                                                         norm="ortho")]),
    Row("fft.ifft2", _fft.ifft2, np.fft.ifft2,
        [S(cplx(3, 4)), S(cplx(2, 3, 4), s=(2, 5), norm="forward")]),
    Row("fft.fftn", _fft.fftn, np.fft.fftn, _nd_samples()),
    Row("fft.ifftn", _fft.ifftn, np.fft.ifftn, _nd_samples()),
    Row("fft.rfftn", _fft.rfftn, np.fft.rfftn,
        [S(randn(3, 4)), S(randn(2, 3, 5), axes=(0, 2)), S(randn(3, 4), s=(4, 6), axes=(0, 1)),
         S(randn(3, 5), norm="ortho")]),
    Row("fft.irfftn", _fft.irfftn, np.fft.irfftn,
        [S(cplx(3, 4)), S(cplx(2, 3, 4), axes=(0, 2)), S(cplx(3, 4), s=(4, 5), axes=(0, 1)),
         S(cplx(3, 5), norm="forward")]),
    Row("fft.rfft2", _fft.rfft2, np.fft.rfft2, [S(randn(3, 4)), S(randn(2, 3, 5), s=(3, 4))]),
    Row("fft.irfft2", _fft.irfft2, np.fft.irfft2,
        [S(cplx(3, 4)), S(cplx(2, 3, 4), s=(3, 7), norm="ortho")]),
    Row("fft.fftshift", _fft.fftshift, np.fft.fftshift,
        [S(randn(5)), S(randn(4, 5)), S(randn(4, 5), axes=1), S(cplx(4, 5), axes=(0,))]),
    Row("fft.ifftshift", _fft.ifftshift, np.fft.ifftshift,
        [S(randn(5)), S(randn(4, 5)), S(randn(3, 6), axes=(-1,))]),
    Row("fft.fftfreq", _fft.fftfreq, np.fft.fftfreq, [S(8, 0.5), S(7, 2.0)]),
    Row("fft.rfftfreq", _fft.rfftfreq, np.fft.rfftfreq, [S(8, 0.5), S(7, 2.0)]),
]
