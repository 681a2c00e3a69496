"""scipy.signal.convolve as a primitive (N-D, modes 'full' / 'same' / 'valid').

Convolution is bilinear. With ``full = in1 * in2`` and an output that is the slice of
``full`` starting at ``start`` (0 for 'full', centred for 'same' and 'valid'), the
transposes are correlations, written as convolutions with a flipped argument::

    ct_in1 = convolve(pad(ct), flip(in2), 'valid')      # shape of in1
    ct_in2 = convolve(pad(ct), flip(in1), 'valid')      # shape of in2

where ``pad`` places the cotangent at ``start`` inside a zero array of the full
shape (the transpose of the slice). No conjugation: complex inputs follow JAX's
convention for bilinear maps.

``nbatch`` leading axes (equal in both arguments) are not convolved: they index
independent problems (vmap).
"""
import numpy as np

from ..core import Primitive, Zero, shape_of, dtype_of
from ..core import size_of as _size
from .shape import fit_cotangent, batch_to_front
from .indexing import getitem_p, scatter_add_p



def out_start(s1, s2, mode):
    """(shape of the output, its offset inside the full convolution) per axis."""
    full = tuple(a + b - 1 for a, b in zip(s1, s2))
    if mode == "full":
        return full, (0,) * len(s1)
    if mode == "same":
        return tuple(s1), tuple((f - a) // 2 for f, a in zip(full, s1))
    shape = tuple(abs(a - b) + 1 for a, b in zip(s1, s2))
    return shape, tuple((f - o) // 2 for f, o in zip(full, shape))


_ALL = ("slice", None, None, None)


def _flip(x, nbatch):
    nd = len(shape_of(x))
    spec = (_ALL,) * nbatch + (("slice", None, None, -1),) * (nd - nbatch)
    return getitem_p.bind(x, spec=spec)


class Convolve(Primitive):
    def impl(self, in1, in2, *, mode, method, nbatch):
        # scipy.signal (which loads scipy.stats) on first use: numpy.convolve binds this
        # primitive, and importing chainrule must not load the scipy stack
        import scipy.signal as ss
        if nbatch == 0:
            return ss.convolve(in1, in2, mode=mode, method=method)
        lead = shape_of(in1)[:nbatch]
        a = np.reshape(in1, (-1,) + np.shape(in1)[nbatch:])
        b = np.reshape(in2, (-1,) + np.shape(in2)[nbatch:])
        out = [ss.convolve(x, y, mode=mode, method=method) for x, y in zip(a, b)]
        if not out:
            s = out_start(a.shape[1:], b.shape[1:], mode)[0]
            return np.zeros(lead + s, np.result_type(in1, in2))
        return np.reshape(np.stack(out), lead + out[0].shape)

    def jvp(self, primals, tangents, **params):
        x, y = primals
        tx, ty = tangents
        ans = self.bind(x, y, **params)
        out = None
        if type(tx) is not Zero:
            out = self.bind(tx, y, **params)
        if type(ty) is not Zero:
            t = self.bind(x, ty, **params)
            out = t if out is None else out + t
        return ans, (Zero.like(ans) if out is None else out)

    def vjp(self, ct, ans, args, needs, *, mode, method, nbatch):
        x, y = args
        s1, s2 = shape_of(x)[nbatch:], shape_of(y)[nbatch:]
        if mode != "full":
            start = out_start(s1, s2, mode)[1]
            full = tuple(a + b - 1 for a, b in zip(s1, s2))
            spec = (_ALL,) * nbatch + tuple(
                ("slice", st, st + n, None) for st, n in zip(start, shape_of(ct)[nbatch:]))
            dt = np.result_type(dtype_of(ct), np.float64).str
            ct = scatter_add_p.bind(ct, spec=spec, shape=shape_of(ct)[:nbatch] + full,
                                    dtype=dt)
        kw = dict(mode="valid", method=method, nbatch=nbatch)
        ct_x = fit_cotangent(self.bind(ct, _flip(y, nbatch), **kw), x) if needs[0] else None
        ct_y = fit_cotangent(self.bind(ct, _flip(x, nbatch), **kw), y) if needs[1] else None
        return [ct_x, ct_y]

    def batch(self, args, dims, *, mode, method, nbatch):
        x, y = batch_to_front(args, dims)
        return self.bind(x, y, mode=mode, method=method, nbatch=nbatch + 1), 0

    def cost(self, args, ans, *, mode, method, nbatch):
        s1, s2 = shape_of(args[0]), shape_of(args[1])
        batch = _size(s1[:nbatch])
        direct = 2 * _size(s1[nbatch:]) * _size(s2[nbatch:])
        n = _size(tuple(a + b - 1 for a, b in zip(s1[nbatch:], s2[nbatch:])))
        fft = int(15 * n * max(np.log2(max(n, 2)), 1))    # three transforms and a product
        per = {"direct": direct, "fft": fft}.get(method, min(direct, fft))
        return batch * per


convolve_p = Convolve("convolve")
