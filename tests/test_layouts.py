"""Memory layouts of fresh results: whether a later ``reshape``/``ravel`` is a view of
an array is NumPy's decision on the array's memory layout, so every result chainrule
hands the user must be laid out as NumPy's (or SciPy's) result would be. Where it is
not, ``r = y.reshape(-1); r[0] = 9`` writes into ``y`` in chainrule but not in NumPy (or
the reverse): a silent wrong value and gradient under every transformation.

``test_op_db_layouts`` runs every sample of the op database with its differentiable
arguments in C order, F order, with a negative stride and (3-D) with permuted axes, and
compares NumPy's view decisions for five reshapes of each output with chainrule's (on
the layout NumPy's array would have: a view's steps applied to its base's layout)."""
import warnings

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
import chainrule.scipy.linalg as csl
from chainrule._src.core import Tracer
from chainrule._src.numpy.aliasing import numpy_layout
from chainrule._src.tree_util import tree_flatten

from opdb import all_rows

# rows whose two programs differ on purpose, not chainrule's layouts: the ufunc.at rows'
# NumPy reference writes into x.copy() (C order), chainrule's into x + 0.0 * v (x's order)
_DIFFERENT_PROGRAMS = (".at",)
# layouts no dense allocation has: SciPy returns slices of larger arrays here
# (qr_multiply's cQ[:, :k], expm_frechet's blockEnlarge X[:n, n:]), and writes into
# them keep chainrule's dense layout (see docs/copies-and-views.md)
_KNOWN = ("scipy.linalg.qr_multiply", "scipy.linalg.expm_frechet")


def _reshapes(a):
    """NumPy's view decisions for five reshapes of ``a`` (None below two dimensions)."""
    if a.ndim < 2 or a.size <= 1:
        return None
    out = []
    for f in (lambda v: v.reshape(-1), lambda v: v.reshape(-1, order="F"),
              lambda v: v.reshape(v.shape[0], -1), lambda v: v.reshape(-1, v.shape[-1]),
              np.ravel):
        try:
            out.append(bool(np.may_share_memory(f(a), a)))
        except Exception:
            out.append("err")
    return tuple(out)


def _variants(args, nums):
    out = [("C", args)]
    f, g, p = list(args), list(args), list(args)
    changed = permuted = False
    for i in nums:
        a = args[i]
        if isinstance(a, np.ndarray) and a.ndim >= 2:
            f[i] = np.asfortranarray(a)
            g[i] = a[..., ::-1].copy()[..., ::-1]
            changed = True
            if a.ndim >= 3:
                p[i] = np.ascontiguousarray(np.swapaxes(a, 0, 1)).swapaxes(0, 1)
                permuted = True
    if changed:
        out += [("F", tuple(f)), ("negstride", tuple(g))]
    if permuted:
        out.append(("permuted", tuple(p)))
    return out


def sweep(pattern=""):
    """The (row, sample, variant, output) where chainrule's layout differs from NumPy's."""
    hits = []
    for row in all_rows():
        if pattern not in row.name or any(s in row.name for s in _DIFFERENT_PROGRAMS):
            continue
        ref = row.ref if row.ref is not None else row.fn
        for si, s in enumerate(row.samples):
            nums = s.diff_argnums()
            if not nums:
                continue
            for vname, args in _variants(tuple(s.args), nums):
                try:
                    with np.errstate(all="ignore"), warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        expected = tree_flatten(ref(*args, **s.kwargs))[0]
                except Exception:
                    continue
                got = []

                def f(*diff):
                    a = list(args)
                    for i, v in zip(nums, diff):
                        a[i] = v
                    out = row.fn(*a, **s.kwargs)
                    got.extend(numpy_layout(leaf) if isinstance(leaf, Tracer) else leaf
                               for leaf in tree_flatten(out)[0])
                    return out
                try:
                    with np.errstate(all="ignore"), warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        cr.vjp(f, *[args[i] for i in nums])
                except Exception:
                    continue
                if len(got) != len(expected):
                    continue
                for k, (e, g) in enumerate(zip(expected, got)):
                    if isinstance(e, np.ndarray) and \
                            _reshapes(e) != _reshapes(np.asarray(g)):
                        hits.append(f"{row.name}-{si} [{vname}] out{k} {e.shape}: "
                                    f"NumPy strides {e.strides}, chainrule "
                                    f"{np.asarray(g).strides}")
    return hits


def test_op_db_layouts():
    hits = [h for h in sweep() if not h.startswith(_KNOWN)]
    assert not hits, "\n".join(hits)


# ---------------------------------------------------------------- targeted programs

def _modes(prog, x):
    """prog's value under NumPy, and under vjp, jvp, jit and grad's value."""
    want = prog(x.copy())
    vals = [cr.vjp(prog, x)[0], cr.jvp(prog, (x,), (np.ones_like(x),))[0],
            cr.jit(prog)(x), cr.value_and_grad(lambda v: cnp.sum(prog(v)))(x)[0]]
    return want, vals


def _check(prog, x):
    want, vals = _modes(prog, x)
    for v in vals[:3]:
        np.testing.assert_allclose(np.asarray(v), want, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(vals[3], np.sum(want))


A = np.array([[4.0, 1.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 2.0]])


@pytest.mark.parametrize("fn", [csl.cholesky, lambda a: csl.cholesky(a, lower=True),
                                lambda a: csl.cho_factor(a)[0],
                                lambda a: csl.qr(a)[0], lambda a: csl.svd(a)[0],
                                lambda a: csl.svd(a)[2], lambda a: csl.lu_factor(a)[0],
                                lambda a: csl.lu(a)[1],
                                lambda a: csl.solve(a, a[:, :2] * 1.0),
                                lambda a: csl.lu_solve(csl.lu_factor(a), a[:, :2] * 1.0),
                                lambda a: csl.funm(a, np.exp)])
def test_scipy_linalg_write_through_reshape(fn):
    """SciPy's LAPACK results are F-ordered (a write through a reshape copies)."""
    def prog(a):
        y = fn(a * 1.0)
        y.reshape(-1)[1] = 9.0
        return y * 1.0
    _check(prog, A)


@pytest.mark.parametrize("fn", [lambda x: np.sort(x.T, axis=0),
                                lambda x: np.partition(x.T, 1, axis=0),
                                lambda x: np.einsum("ij,jk->ik", x, x.T),
                                lambda x: np.einsum("ij->ji", x * 1.0),
                                lambda x: np.einsum("ij,ij->ji", x, x),
                                lambda x: np.tensordot(x, x, axes=([0], [0])),
                                lambda x: np.fft.fft(x.T, axis=0).real,
                                lambda x: np.polyval([1.0, 2.0], x.T),
                                lambda x: np.gradient(x.T, axis=0),
                                lambda x: np.full_like(x.T, 1.0) * x.T,
                                lambda x: np.linalg.matrix_power(x.T[:3, :3], 1),
                                lambda x: np.diff(x.T, n=0)])
def test_numpy_write_through_reshape(fn):
    def prog(x):
        y = fn(x)
        y.reshape(-1)[1] = 9.0
        return y * 1.0
    _check(prog, np.arange(1.0, 13.0).reshape(3, 4) / 7.0)


def test_diff_n0_is_the_argument():
    def prog(x):
        a = x * 1.0
        d = np.diff(a, n=0)
        d[0, 0] = 5.0                  # NumPy: d is a, so a changes
        return a * 1.0
    _check(prog, np.arange(6.0).reshape(2, 3))


def test_zeros_like_of_f_array():
    def prog(x):
        z = np.zeros_like(x.T)
        r = z.reshape(-1)          # a copy in NumPy (z is F-ordered like x.T)
        r[0] = 1.0
        return x.T + z
    _check(prog, np.arange(6.0).reshape(2, 3))


def test_flat_raises_clearly():
    def prog(x):
        return (x * 1.0).flat[0]
    with pytest.raises(NotImplementedError, match="x.flat"):
        cr.grad(prog)(np.arange(3.0))
