"""The products of chainrule.numpy: matmul, dot, vdot, inner, outer, tensordot and
einsum (with NumPy's ``optimize``: its value is NumPy's bit for bit).

Each function is NumPy's own outside transformations (see ``dispatch.py``); the
bodies below are the traced versions.
"""
import builtins
import operator

import numpy as np

from ..core import Tracer, shape_of, dtype_of
from ..prims import elementwise as ew
from ..prims.products import matmul_p, einsum_p
from . import aliasing
from .basic import asarray_like, astype, ravel, reshape
from .dispatch import numpy_function, no_kwargs


def two_matrices(x1, x2):
    """Whether ``x1 @ x2`` is a product of two conforming matrices (arrays or tracers):
    no promotion, broadcasting or error to handle (a layer's ``h @ W``)."""
    if (type(x1) is np.ndarray or isinstance(x1, Tracer)) and \
            (type(x2) is np.ndarray or isinstance(x2, Tracer)):
        s1, s2 = x1.shape, x2.shape
        return len(s1) == 2 and len(s2) == 2 and s1[1] == s2[0]
    return False


@numpy_function(np.matmul)
def matmul(x1, x2, /, out=None, **kwargs):
    if out is None and not kwargs and two_matrices(x1, x2):
        return matmul_p.bind(x1, x2)
    no_kwargs("matmul", out=out)
    x1, x2 = asarray_like(x1), asarray_like(x2)
    dtype, casting = kwargs.pop("dtype", None), kwargs.pop("casting", "same_kind")
    if kwargs:                               # axes=, axis=, order=, subok=, signature=
        raise NotImplementedError(f"chainrule.numpy.matmul: the arguments {sorted(kwargs)} "
                                  "are not supported inside a transformation")
    if dtype is not None or casting != "same_kind":
        # NumPy's loop: the operands are cast to it (np.matmul(i1, i1, dtype=i2) does
        # not overflow), with NumPy's casting errors
        loop = np.matmul.resolve_dtypes(
            (dtype_of(x1), dtype_of(x2), None), casting=casting,
            signature=None if dtype is None else (None, None, np.dtype(dtype)))
        x1, x2 = astype(x1, loop[0]), astype(x2, loop[1])
        return astype(matmul(x1, x2), loop[2])
    s1, s2 = shape_of(x1), shape_of(x2)
    if not s1 or not s2:
        raise ValueError("matmul: Input operand does not have enough dimensions")
    k2 = s2[-2] if len(s2) > 1 else s2[0]
    if s1[-1] != k2:
        raise ValueError(f"matmul: Input operand 1 has a mismatch in its core dimension 0, "
                         f"with gufunc signature (n?,k),(k,m?)->(n?,m?) (size {k2} is "
                         f"different from {s1[-1]})")
    if len(s1) > 2 or len(s2) > 2:
        np.broadcast_shapes(s1[:-2], s2[:-2])
    return matmul_p.bind(x1, x2)


@numpy_function(np.dot, layout="C")
def dot(a, b, out=None):
    no_kwargs("dot", out=out)
    a, b = asarray_like(a), asarray_like(b)
    sa, sb = shape_of(a), shape_of(b)
    if not sa or not sb:
        return a * b
    if len(sb) <= 2:
        if sa[-1] != sb[0]:
            raise ValueError(f"shapes {sa} and {sb} not aligned: {sa[-1]} (dim "
                             f"{len(sa) - 1}) != {sb[0]} (dim 0)")
        return matmul_p.bind(a, b)
    return tensordot(a, b, axes=([len(sa) - 1], [len(sb) - 2]))


@numpy_function(np.vdot)
def vdot(a, b, /):
    a = ravel(a)
    if dtype_of(a).kind == "c":
        a = ew.conj_p.bind(a)
    return matmul_p.bind(a, ravel(b))


@numpy_function(np.inner, layout="C")
def inner(a, b, /):
    a, b = asarray_like(a), asarray_like(b)
    if not shape_of(a) or not shape_of(b):
        return a * b
    return tensordot(a, b, axes=([-1], [-1]))


@numpy_function(np.outer)
def outer(a, b, out=None):
    no_kwargs("outer", out=out)
    a, b = ravel(a), ravel(b)
    return reshape(a, (-1, 1)) * reshape(b, (1, -1))


_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


@numpy_function(np.tensordot, layout="C")
def tensordot(a, b, axes=2):
    a, b = asarray_like(a), asarray_like(b)
    na, nb = len(shape_of(a)), len(shape_of(b))
    if isinstance(axes, (int, np.integer)):
        ax_a, ax_b = list(range(na - axes, na)), list(range(axes))
    else:
        ax_a, ax_b = axes
        ax_a = [ax_a] if isinstance(ax_a, (int, np.integer)) else list(ax_a)
        ax_b = [ax_b] if isinstance(ax_b, (int, np.integer)) else list(ax_b)
    ax_a = [x % na for x in ax_a]
    ax_b = [x % nb for x in ax_b]
    for i, j in zip(ax_a, ax_b):
        if shape_of(a)[i] != shape_of(b)[j]:
            raise ValueError("shape-mismatch for sum")
    sa = list(_LETTERS[:na])
    sb = list(_LETTERS[na:na + nb])
    for i, j in zip(ax_a, ax_b):
        sb[j] = sa[i]
    out = [c for k, c in enumerate(sa) if k not in ax_a] + \
        [c for k, c in enumerate(sb) if k not in ax_b]
    return einsum_p.bind(a, b, subscripts="".join(sa) + "," + "".join(sb) + "->" +
                         "".join(out))


def _einsum_layout(subscripts, *operands, optimize=False, **kwargs):
    """NumPy's einsum (optimize=False) lays its result out in the order of the
    operands' strides (its iterator's order "K"): NumPy is asked, on operands with
    the same layouts and every axis of length at most 2. (With optimize, the result
    is np.einsum's own: the primitive calls it so.)"""
    if optimize is not False:
        return None
    if not isinstance(subscripts, str):
        subscripts, operands = _sublist_subscripts((subscripts,) + operands)
    return ("K", np.einsum(subscripts, *[aliasing.small_like(aliasing.numpy_layout(o))
                                         for o in operands]))


@numpy_function(np.einsum, layout=_einsum_layout)
def einsum(subscripts, *operands, out=None, optimize=False, **kwargs):
    """Both of NumPy's forms: ``einsum('ij,jk->ik', a, b)`` and the operand-list form
    ``einsum(a, [0, 1], b, [1, 2], [0, 2])``."""
    no_kwargs("einsum", out=out)
    dtype, casting = kwargs.pop("dtype", None), kwargs.pop("casting", "safe")
    if kwargs.pop("order", "K") != "K" or kwargs:
        raise NotImplementedError("chainrule.numpy.einsum: the arguments "
                                  f"{sorted(kwargs) or ['order']} are not supported "
                                  "inside a transformation")
    if not isinstance(subscripts, str):
        subscripts, operands = _sublist_subscripts((subscripts,) + operands)
    operands = [asarray_like(o) for o in operands]
    if dtype is not None:
        # NumPy computes in dtype (np.einsum(i1, i1, dtype=i8) does not overflow);
        # casting= is checked as NumPy does ('safe' by default)
        for o in operands:
            if not np.can_cast(dtype_of(o), dtype, casting):
                raise TypeError(f"Iterator operand 0 dtype could not be cast from "
                                f"{dtype_of(o)!r} to {np.dtype(dtype)!r} according to "
                                f"the rule {casting!r}")
        operands = [astype(o, dtype) for o in operands]
    if isinstance(optimize, (list, tuple)):     # an explicit path: hashable, as NumPy's
        optimize = tuple(tuple(p) if isinstance(p, list) else p for p in optimize)
    return einsum_p.bind(*operands, subscripts=normalize_subscripts(subscripts, operands),
                         optimize=optimize)


def _sublist_subscripts(args):
    """NumPy's operand-list form ``(op0, sub0, op1, sub1, ..., [out])`` as (subscripts
    string, operands): integer k is the letter 'A' + k (k < 26) or 'a' + k - 26,
    Ellipsis is '...'."""
    def letters(sub):
        out = []
        for k in sub:
            if k is Ellipsis:
                out.append("...")
                continue
            k = operator.index(k)
            if not 0 <= k < 52:
                raise ValueError("subscript is not within the valid range [0, 52)")
            out.append(chr(ord("A") + k) if k < 26 else chr(ord("a") + k - 26))
        return "".join(out)
    out = None
    if len(args) % 2:
        args, out = args[:-1], args[-1]
    spec = ",".join(letters(s) for s in args[1::2])
    return spec + ("" if out is None else "->" + letters(out)), tuple(args[0::2])


def normalize_subscripts(subscripts, operands):
    """Explicit form without spaces or ellipses: 'ij,jk->ik'."""
    s = subscripts.replace(" ", "")
    if "->" in s:
        ins, out = s.split("->")
    else:
        ins, out = s, None
    ins = ins.split(",")
    if len(ins) != len(operands):
        raise ValueError("more operands provided to einstein sum function than "
                         "specified in the subscripts string" if len(operands) > len(ins)
                         else "fewer operands provided to einstein sum function than "
                         "specified in the subscripts string")
    used = set("".join(ins) + (out or ""))
    free = [c for c in _LETTERS if c not in used]
    ell_nd = 0
    for sub, op in zip(ins, operands):
        if "..." in sub:
            ell_nd = builtins.max(ell_nd, len(shape_of(op)) - (len(sub) - 3))
    ell = "".join(free[:ell_nd])
    new_ins = []
    for sub, op in zip(ins, operands):
        if "..." in sub:
            k = len(shape_of(op)) - (len(sub) - 3)
            sub = sub.replace("...", ell[ell_nd - k:] if k else "")
        if len(sub) != len(shape_of(op)):
            raise ValueError("einstein sum subscripts string contains too many "
                             "subscripts for operand")
        new_ins.append(sub)
    if out is None:
        counts = {}
        for c in "".join(new_ins):
            counts[c] = counts.get(c, 0) + 1
        out = ell + "".join(sorted(c for c in counts if counts[c] == 1 and c not in ell))
    else:
        out = out.replace("...", ell)
    sizes = {}
    for sub, op in zip(new_ins, operands):
        for c, d in zip(sub, shape_of(op)):
            if sizes.setdefault(c, d) != d and d != 1 and sizes[c] != 1:
                raise ValueError(f"operands could not be broadcast together: subscript "
                                 f"'{c}' has sizes {sizes[c]} and {d}")
    if any(c not in sizes for c in out):
        raise ValueError("einstein sum subscripts string included output subscript "
                         "which never appeared in an input")
    return ",".join(new_ins) + "->" + out

