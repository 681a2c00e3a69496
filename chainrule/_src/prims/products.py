"""Products: matmul (NumPy's broadcasting semantics) and einsum.

Both are multilinear: jvp is the sum over arguments of the product with that
argument replaced by its tangent; vjp contracts the cotangent with the other
arguments. Complex follows JAX's convention (plain transposes, no conjugation).

Cost convention (used by make_graph/flops): a contraction producing ``out`` with
``k`` summed elements per output costs ``out * (2k - 1)`` flops, so an (m, n) x (n, p)
matmul costs ``2mnp - mp``.
"""
import numpy as np

from .. import backend
from ..core import Primitive, Zero, shape_of, dtype_of, scaled
from ..core import size_of as _size
from .shape import (reshape, transpose, moveaxis, fit_cotangent, broadcast_to,
                    transpose_p, reshape_p, real_p, copy_p)
from .elementwise import multiply_p

_ndarray = np.ndarray



def mT(x):
    """Swap the last two axes (arrays of fewer than two dimensions are returned as
    they are)."""
    nd = len(shape_of(x))
    if nd < 2:
        return x
    axes = list(range(nd))
    axes[-1], axes[-2] = axes[-2], axes[-1]
    return transpose(x, axes)


class MatMul(Primitive):
    """x @ y with NumPy semantics (1-D promotion, broadcast batch dimensions)."""
    dispatches = True           # Dask/CuPy arrays too (core.Primitive)
    vjp_uses_ans = False
    fresh = True                # code generation (core.Primitive's docstring)
    homogeneous = (1, 1)

    def impl(self, x, y):
        if (type(x) is not _ndarray or type(y) is not _ndarray) and \
                len(shape_of(y)) == 1 and len(shape_of(x)) == 2 and backend.is_lazy(x):
            # a Dask matrix times a vector: dot, whose graph lacks the expand-and-squeeze
            # tasks of Dask's matmul with a vector. Measured on a 2-worker cluster with
            # 0.75 GiB each, 20M x 20 rows from disk: a Poisson GLM's value and gradient
            # 2.5-2.7 s a pass with dot, 5.6-8.8 s with matmul (dask-glm: 2.0). Not for
            # a vector times a matrix (a sum over the chunks): there dot's reduction
            # doubled the time of the Newton pass (4.6 -> 10 s) under memory pressure
            return np.dot(x, y)
        return x @ y

    def spell(self, ops, ins):
        return f"{ops[0]} @ {ops[1]}"

    def simplify(self, ins, graph):
        """A batch of products with one matrix is one product (the batch folded into the
        rows); ``diag(d) @ y`` is ``d[:, None] * y`` and ``x @ diag(d)`` is ``x * d``:
        O(n^2), not O(n^3). Under jit, jacrev and jacfwd of elementwise maps pull back or
        push forward an identity basis scaled by a derivative: a product that is diagonal
        whatever the inputs, which the staged program shows (:func:`_staged_diagonal`)."""
        x, y = ins
        xs, ys = x.shape, y.shape
        if len(xs) >= 3 and 2 <= len(ys) <= len(xs) and not any(d != 1 for d in ys[:-2]):
            # a batch of products with one matrix (vmap's per-example products): one
            # (B n, k) @ (k, m) product, not B small ones
            (n, k), m, dtype = xs[-2:], ys[-1], np.result_type(x.dtype, y.dtype)
            rows = _size(xs[:-1])
            x2 = graph.emit(reshape_p, [x], {"shape": (rows, k)}, (rows, k), x.dtype)
            y2 = graph.emit(reshape_p, [y], {"shape": (k, m)}, (k, m), y.dtype)
            xy = graph.emit(self, [x2, y2], {}, (rows, m), dtype)
            return graph.emit(reshape_p, [xy], {"shape": xs[:-1] + (m,)}, xs[:-1] + (m,),
                              dtype)
        if len(xs) != 2 or len(ys) != 2:
            return None
        d = _staged_diagonal(x, graph)
        if d is not None:                       # diag(d) @ y: y's rows scaled
            n = x.shape[0]
            a, b = graph.emit(reshape_p, [d], {"shape": (n, 1)}, (n, 1), d.dtype), y
        else:
            d = _staged_diagonal(y, graph)
            if d is None:
                return None
            a, b = x, d                         # x @ diag(d): x's columns scaled
        return graph.emit(multiply_p, [a, b], {}, np.broadcast_shapes(a.shape, b.shape),
                          np.result_type(a.dtype, b.dtype))

    def jvp(self, primals, tangents):
        x, y = primals
        tx, ty = tangents
        ans = self.bind(x, y)
        out = None
        if type(tx) is not Zero:
            out = self.bind(tx, y)
        if type(ty) is not Zero:
            t = self.bind(x, ty)
            out = t if out is None else out + t
        return ans, (Zero.like(ans) if out is None else out)

    def vjp(self, ct, ans, args, needs):
        x, y = args
        xs, ys = shape_of(x), shape_of(y)
        if len(xs) == 2 and len(ys) == 2:      # the common case, without reshapes
            if type(ct) is np.ndarray and type(x) is np.ndarray and type(y) is np.ndarray \
                    and ct.dtype == x.dtype == y.dtype:
                # all concrete, one dtype: nothing to trace or convert
                return [ct @ y.T if needs[0] else None, x.T @ ct if needs[1] else None]
            return [_fix_kind(self.bind(ct, transpose_p.bind(y, axes=(1, 0))), x)
                    if needs[0] else None,
                    _fix_kind(self.bind(transpose_p.bind(x, axes=(1, 0)), ct), y)
                    if needs[1] else None]
        if len(xs) == 1 and len(ys) == 1:      # inner product: scalings, not 1-wide matmuls
            return [_fix_kind(scaled(y, ct), x) if needs[0] else None,
                    _fix_kind(scaled(x, ct), y) if needs[1] else None]
        if len(xs) == 2 and len(ys) == 1:      # matrix @ vector
            return [_fix_kind(reshape(ct, (xs[0], 1)) * y, x) if needs[0] else None,
                    _fix_kind(self.bind(ct, x), y) if needs[1] else None]
        if len(xs) == 1 and len(ys) == 2:      # vector @ matrix
            return [_fix_kind(self.bind(y, ct), x) if needs[0] else None,
                    _fix_kind(reshape(x, (xs[0], 1)) * ct, y) if needs[1] else None]
        x2 = reshape(x, (1,) + xs) if len(xs) == 1 else x
        y2 = reshape(y, ys + (1,)) if len(ys) == 1 else y
        cs = shape_of(ct)
        if len(xs) == 1:
            cs = cs[:-1] + (1,) + cs[-1:] if len(ys) > 1 else cs + (1,)
        if len(ys) == 1:
            cs = cs + (1,)
        ct2 = reshape(ct, cs)
        ct_x = ct_y = None
        if needs[0]:
            ct_x = fit_cotangent(self.bind(ct2, mT(y2)), x2)
            ct_x = reshape(ct_x, xs)
            ct_x = _fix_kind(ct_x, x)
        if needs[1]:
            ct_y = fit_cotangent(self.bind(mT(x2), ct2), y2)
            ct_y = reshape(ct_y, ys)
            ct_y = _fix_kind(ct_y, y)
        return [ct_x, ct_y]

    def batch(self, args, dims):
        x, y = args
        dx, dy = dims
        xs, ys = shape_of(x), shape_of(y)
        # a batch against one unbatched matrix is one 2-D product (per-example
        # gradients, jacrev's pulled-back basis), not a stack of small ones
        if dy is None and len(ys) == 2 and len(xs) - 1 in (1, 2):
            x = moveaxis(x, dx, 0)
            xs = shape_of(x)
            if len(xs) == 2:
                return self.bind(x, y), 0
            out = self.bind(reshape(x, (xs[0] * xs[1], xs[2])), y)
            return reshape(out, (xs[0], xs[1], ys[1])), 0
        if dx is None and len(xs) == 2 and len(ys) - 1 in (1, 2):
            y = moveaxis(y, dy, 0)
            ys = shape_of(y)
            if len(ys) == 2:                        # (m, k) @ (B, k).T -> (m, B)
                return self.bind(x, transpose(y, (1, 0))), 1
            yk = reshape(transpose(y, (1, 0, 2)), (ys[1], ys[0] * ys[2]))
            return reshape(self.bind(x, yk), (xs[0], ys[0], ys[2])), 1
        prepared = []
        for a, d, vec_shape in zip(args, dims, (lambda e: (1,) + e, lambda e: e + (1,))):
            a = reshape(a, (1,) + shape_of(a)) if d is None else moveaxis(a, d, 0)
            e = shape_of(a)[1:]                     # the per-example shape
            prepared.append((a, vec_shape(e) if len(e) == 1 else e, len(e) == 1))
        (x, ex, xv), (y, ey, yv) = prepared
        nb = max(len(ex), len(ey)) - 2              # per-example batch dimensions
        x = reshape(x, shape_of(x)[:1] + (1,) * (nb - len(ex) + 2) + ex)
        y = reshape(y, shape_of(y)[:1] + (1,) * (nb - len(ey) + 2) + ey)
        out = self.bind(x, y)
        s = shape_of(out)
        if xv and yv:
            out = reshape(out, s[:-2])
        elif xv:
            out = reshape(out, s[:-2] + s[-1:])
        elif yv:
            out = reshape(out, s[:-1])
        return out, 0

    def batch_diagonal(self, args, dims, diags):
        """A product with the one-hot basis scaled by ``d`` (jacrev pulls the identity
        back through an elementwise map, jacfwd pushes it forward: its derivative is the
        factor) is a scaling, ``diag(d) @ y = d[:, None] * y`` and ``x @ diag(d) = x * d``:
        O(n^2), not O(n^3); with the basis itself (no factor yet) it is ``y`` or ``x``,
        no work. So jacfwd of ``x -> C B A x`` computes C(BA) and jacrev (CB)A: the two
        orders of the chain, as the course counts them."""
        (x, y), (dx, dy) = args, dims
        xs, ys = shape_of(x), shape_of(y)
        # (shapes that do not match are left to ``batch``, which raises as NumPy does)
        if diags[0] is not None and dy is None and len(ys) in (1, 2) and ys[0] == xs[0]:
            if not diags[0]:                    # example i: e_i @ y = y[i]
                # (a copy: the Jacobian of a @ A is A's values, not the user's A, which a
                # write into the Jacobian would change)
                return copy_p.bind(y, order="C"), 0, None
            d = _product(diags[0])              # example i: d[i] * y[i]
            if len(ys) == 2 and shape_of(d):
                d = reshape(d, (ys[0], 1))
            return multiply_p.bind(d, y), 0, None
        if diags[1] is not None and dx is None and len(xs) in (1, 2) and xs[-1] == ys[0]:
            # example j: x[..., j] * d[j] (x[..., j] for the basis), along x's last axis
            if not diags[1]:
                return copy_p.bind(x, order="C"), len(xs) - 1, None
            return multiply_p.bind(x, _product(diags[1])), len(xs) - 1, None
        return None

    def cost(self, args, ans):
        xs = shape_of(args[0])
        k = xs[-1] if xs else 1
        return _size(shape_of(ans)) * (2 * k - 1)


def _product(factors):
    """The product of the factors of a scaled basis (shapes () and (n,))."""
    d = factors[0]
    for f in factors[1:]:
        d = multiply_p.bind(d, f)
    return d


def _staged_diagonal(x, graph):
    """The diagonal (an operand of shape (n,)) of a staged n x n matrix that is diagonal
    whatever the program's inputs, else None: a constant diagonal matrix, or one times
    a vector or a scalar (elementwise: still diagonal). ``graph`` is code generation's
    (core.Primitive.simplify). Only from n = 16 on, where the scaling beats a product."""
    n = x.shape[0]
    if x.shape != (n, n) or n < 16:
        return None
    if hasattr(x, "val"):
        return _constant_diagonal(x, graph)
    made = graph.producer(x)
    if made is None or made[0] is not multiply_p:
        return None
    for m, v in (made[1], made[1][::-1]):
        d = _constant_diagonal(m, graph) if m.shape == (n, n) else None
        if d is not None and v.shape in ((), (n,), (1, n), (n, 1)):
            if len(v.shape) == 2:
                v = graph.emit(reshape_p, [v], {"shape": (n,)}, (n,), v.dtype)
            return graph.emit(multiply_p, [d, v], {}, (n,), np.result_type(d.dtype, v.dtype))
    return None


def _constant_diagonal(x, graph):
    """The diagonal of a constant operand that is a diagonal square matrix, as a
    constant; else None."""
    c = getattr(x, "val", None)
    if type(c) is not np.ndarray or c.ndim != 2 or c.shape[0] != c.shape[1] or x.live:
        return None                         # (live: the user may write into it)
    n = c.shape[0]
    off = c.reshape(-1)[1:].reshape(n - 1, n + 1)[:, :n]     # the off-diagonal entries
    return None if off.any() else graph.const(np.diagonal(c).copy())


def _fix_kind(ct, x):
    if dtype_of(ct).kind == "c" and dtype_of(x).kind != "c":
        return real_p.bind(ct)
    return ct


class Einsum(Primitive):
    """np.einsum with an explicit, normalised ``subscripts`` ("ij,jk->ik") and NumPy's
    ``optimize``: a user's call passes its own (NumPy's default False runs NumPy's own
    loop, whose rounding differs from the BLAS contractions of True, so the value is
    NumPy's bit for bit); the rules' contractions take True (the default here)."""
    dispatches = True           # Dask/CuPy arrays too (core.Primitive)

    def impl(self, *operands, subscripts, optimize=True):
        return np.einsum(subscripts, *operands, optimize=optimize)

    def jvp(self, primals, tangents, *, subscripts, optimize=True):
        ans = self.bind(*primals, subscripts=subscripts, optimize=optimize)
        out = None
        for i, t in enumerate(tangents):
            if type(t) is Zero:
                continue
            ops = list(primals)
            ops[i] = t
            term = self.bind(*ops, subscripts=subscripts, optimize=optimize)
            out = term if out is None else out + term
        return ans, (Zero.like(ans) if out is None else out)

    def vjp(self, ct, ans, args, needs, *, subscripts, optimize=True):
        ins, out = subscripts.split("->")
        ins = ins.split(",")
        result = []
        for i, x in enumerate(args):
            if not needs[i]:
                result.append(None)
                continue
            result.append(_fix_kind(_einsum_transpose(ct, out, args, ins, i), x))
        return result

    def batch(self, args, dims, *, subscripts, optimize=True):
        ins, out = subscripts.split("->")
        ins = ins.split(",")
        used = set(subscripts)
        b = next(c for c in "ZYXWVUTSRQPONMLKJIHGFEDCBAzyxwvutsrqponmlkjihgfedcba"
                 if c not in used)
        new_ins, new_args = [], []
        for s, a, d in zip(ins, args, dims):
            if d is None:
                new_ins.append(s)
                new_args.append(a)
            else:
                new_ins.append(b + s)
                new_args.append(moveaxis(a, d, 0))
        return self.bind(*new_args, subscripts=",".join(new_ins) + "->" + b + out,
                         optimize=optimize), 0

    def cost(self, args, ans, *, subscripts, optimize=True):
        ins, out = subscripts.split("->")
        ins = ins.split(",")
        sizes = {}
        for s, a in zip(ins, args):
            for c, d in zip(s, shape_of(a)):
                sizes[c] = max(sizes.get(c, 1), d)

        def step(indices, kept, n):
            # (n - 1) multiplies per term, then (terms per output - 1) additions per output
            total = _size([sizes[c] for c in indices])
            return total * (n - 1) + total - _size([sizes[c] for c in kept])
        if len(args) <= 2 or optimize is False:     # NumPy's own loop: every term
            return step(set("".join(ins)), set(out), len(args))
        # with optimize, NumPy contracts three or more operands pairwise, in the order
        # its optimizer picks (np.einsum_path, from the shapes alone): count those
        path = np.einsum_path(subscripts, *[np.broadcast_to(np.float64(0), shape_of(a))
                                            for a in args], optimize=optimize)[0][1:]
        terms, total = [set(s) for s in ins], 0
        for which in path:
            which = sorted(which, reverse=True)
            indices = set().union(*(terms[i] for i in which))
            rest = set(out).union(*(t for i, t in enumerate(terms) if i not in which))
            total += step(indices, indices & rest, len(which))
            for i in which:
                del terms[i]
            terms.append(indices & rest)
        return total


def _einsum_transpose(ct, out, args, ins, i):
    """Cotangent of operand ``i`` of einsum(ins -> out) given ``ct``."""
    target = ins[i]
    others = [out] + [s for j, s in enumerate(ins) if j != i]
    other_vals = [ct] + [a for j, a in enumerate(args) if j != i]
    seen = "".join(others)
    uniq = "".join(dict.fromkeys(target))
    present = "".join(c for c in uniq if c in seen)
    sub = ",".join(others) + "->" + present
    r = einsum_p.bind(*other_vals, subscripts=sub)
    shape = shape_of(args[i])
    sizes = dict(zip(target, shape))
    # indices of the operand that appear nowhere else: broadcast along them
    if present != uniq:
        r = reshape(r, tuple(sizes[c] if c in present else 1 for c in uniq))
        r = broadcast_to(r, tuple(sizes[c] for c in uniq))
    # repeated indices (diagonals such as "ii"): put the values on the diagonal
    if uniq != target:
        used = set("".join(ins) + out)
        fresh = (c for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                 if c not in used)
        full, eyes, eye_subs = [], [], []
        first = set()
        for c in target:
            if c in first:
                n = next(fresh)
                full.append(n)
                eyes.append(np.eye(sizes[c], dtype=dtype_of(r)))
                eye_subs.append(c + n)
            else:
                first.add(c)
                full.append(c)
        r = einsum_p.bind(r, *eyes, subscripts=",".join([uniq] + eye_subs) + "->" + "".join(full))
    return r


matmul_p = MatMul("matmul")
einsum_p = Einsum("einsum")
