"""Compile a Graph into straight-line Python/NumPy code.

The generator knows NumPy, not chainrule's primitives: how an equation is spelled,
whether it may write into a buffer that dies, what it may simplify and which scalar
factors it may carry, it asks the equation's primitive (the code-generation slots of
``core.Primitive``: ``spell``, ``ufunc``, ``fresh``, ``simplify``, ``combination``,
``homogeneous``, ``broadcast``).

Passes, in order (:func:`optimize`):

1. Common subexpressions are shared (same primitive, parameters and operands), and each
   primitive may ``simplify`` its equation: hand an operand on (``x * 1``) or build a
   cheaper value from what made its operands (``diag(d) @ y`` as a row scaling).
2. Scalar factors ride along instead of costing passes over arrays (:func:`_fold_scales`).
3. Broadcasts that only feed elementwise ufuncs are dropped (NumPy broadcasts for free).
4. Dead code is dropped: only what the outputs and guards need stays.

Then the code is written (:func:`compile_graph`): an elementwise ufunc writes into an
operand that dies at that equation (``np.tanh(a, out=a)``) when shapes and dtypes agree
and the buffer was made inside the graph, each intermediate is freed after its last use,
and guards become ``if`` checks that raise :class:`Retrace`. In exact mode (the compiled
backward passes of graph/replay.py) only the sharing of 1 and pass 4 run.
"""
import functools
import math

import numpy as np

from .. import core
from ..core import Primitive, size_of
from ..interpreters.staging import Eqn, Literal, Var


class Retrace(Exception):
    """A guard failed: the compiled graph does not apply to these arguments."""


class HasInfinity(Retrace):
    """A base of the compiled code's reassociated sums holds an infinity or a zero
    (:class:`NoInfinity`): the program must run as written."""


class _Op(Primitive):
    """An operation the generator writes itself (a carried factor applied, factors
    multiplied or added, the two bases of a sum added): a NumPy ufunc, as an operator."""
    fresh = True

    def __init__(self, name, ufunc, symbol):
        super().__init__(name)
        self.ufunc, self.impl, self.symbol = ufunc, ufunc, symbol

    def spell(self, ops, ins):
        return f"{ops[0]} {self.symbol} {ops[1]}"


_MUL = _Op("multiply", np.multiply, "*")
_ADD = _Op("add", np.add, "+")
_SUB = _Op("subtract", np.subtract, "-")
class _Neg(_Op):
    def spell(self, ops, ins):
        return f"-{ops[0]}"


_NEG = _Neg("negative", np.negative, "-")
_MUL.homogeneous, _ADD.combination, _SUB.combination = (1, 1), (1.0, 1.0), (1.0, -1.0)
_ONE = Literal(1.0)


def _root_ids(outs, guards):
    """Ids of the (non-literal) outputs and guarded values: what must survive (a new
    set, so callers may add to it)."""
    return {x.id for x in outs if not isinstance(x, Literal)} | \
        {v.id for _, v in guards if not isinstance(v, Literal)}


def _is_ufunc(e):
    """Whether ``e`` is a single-output ufunc (it makes a fresh buffer and can write
    into one with ``out=``)."""
    return e.prim.ufunc is not None and not e.prim.multiple_results


def _binary_ufunc(e, ins):
    """Whether ``e`` applies an elementwise ufunc to two operands (which it broadcasts)."""
    return _is_ufunc(e) and e.prim.ufunc.nin == 2 and len(ins) == 2


def _key(x):
    if isinstance(x, Literal):
        v = x.val
        if isinstance(v, (bool, int, float, complex)):
            return ("lit", type(v), v, repr(v))     # (0.0 == -0.0: repr tells them apart)
        return ("const", id(v))
    return x.id


def _params_key(params):
    try:
        key = tuple(sorted(params.items()))
        hash(key)
        return key
    except TypeError:
        return None


def _number(x):
    """A constant operand's value if it is a finite real number (Python's or NumPy's,
    not a bool), else None."""
    if isinstance(x, Literal) and isinstance(x.val, (int, float, np.integer, np.floating)) \
            and not isinstance(x.val, bool) and np.isfinite(x.val):
        return x.val
    return None


def _as_python(f):
    """A constant factor as a Python number (weakly typed, double precision: exact for
    NumPy's float16/32/64 scalars): products of factors are then formed in double
    precision, where a np.float32 factor would round them to float32 (a 1e-8 relative
    error in a float64 program); a value of the program stays as it is."""
    v = _number(f)
    return f if v is None or type(v) in (int, float) else \
        Literal(int(v) if isinstance(v, np.integer) else float(v))


def _reciprocal(f):
    """1 / f of a constant factor, in double precision (``x / np.float32(2.5)`` is
    ``x * 0.4`` to rounding, not ``x * np.float32(0.4)``)."""
    return Literal(1.0 / float(_number(f)))


def _stands_for(y, o):
    """Whether operand ``y`` may replace the output ``o`` (a value of the program, of
    the same shape and dtype)."""
    return y is not None and not isinstance(y, Literal) and y.shape == o.shape and \
        y.dtype == o.dtype


def _scalar_literal(x, e, ins):
    """A constant array whose entries are all equal, operand of an elementwise binary
    ufunc that its shape does not widen, becomes a Python scalar (the folded cotangent
    of a sum is an array of ones: ``ones * x`` is then ``1.0 * x`` and goes)."""
    if not isinstance(x, Literal) or x.live or not _binary_ufunc(e, ins) or \
            not isinstance(x.val, np.ndarray) or x.val.size == 0 or \
            x.val.dtype.kind not in "fi" or x.shape != e.outs[0].shape:
        return x
    first = x.val.flat[0]
    if not np.all(x.val == first):
        return x
    others = [y for y in ins if y is not x]
    if not others or others[0].shape != e.outs[0].shape or \
            np.result_type(others[0].dtype, x.val.dtype) != e.outs[0].dtype:
        return x
    scalar = float(first) if x.val.dtype.kind == "f" else int(first)
    try:    # a Python scalar is weak in NumPy's promotion: int64 [3, 3] / float32 is
        # float64, 3 / float32 float32; keep the array where the loop would change
        if np.result_type(others[0].dtype, scalar) != \
                np.result_type(others[0].dtype, x.val.dtype):
            return x
    except (OverflowError, TypeError, ValueError):
        return x
    return Literal(scalar)


class _Rewriter:
    """Pass 1: the equations in order, common subexpressions shared and (``simplify``)
    each primitive's simplification applied. It is also the ``graph`` that
    ``Primitive.simplify`` gets: ``producer``, ``emit`` and ``const``."""

    def __init__(self, simplify):
        self.simplifying = simplify
        self.subst, self.seen, self.made, self.eqns = {}, {}, {}, []

    def sub(self, x):
        return x if isinstance(x, Literal) else self.subst.get(x.id, x)

    def producer(self, x):
        """``(prim, ins, params)`` of the equation that computes ``x``; None for the
        inputs and constants."""
        return None if isinstance(x, Literal) else self.made.get(x.id)

    def const(self, value):
        """A constant operand."""
        return Literal(value)

    def emit(self, prim, ins, params, shape, dtype):
        """The value of ``prim(*ins, **params)`` (of ``shape`` and ``dtype``), added as an
        equation (shared and simplified like the graph's own)."""
        var = Var(shape, dtype)
        self.add(Eqn(prim, list(ins), [var], dict(params)))
        return self.sub(var)

    def add(self, e):
        ins = [self.sub(x) for x in e.ins]
        if self.simplifying and not e.prim.multiple_results:
            ins = [_scalar_literal(x, e, ins) for x in ins]
            y = e.prim.simplify(ins, self, **e.params)
            if _stands_for(y, e.outs[0]):
                self.subst[e.outs[0].id] = y
                return
        pk = _params_key(e.params)
        if pk is not None:
            k = (id(e.prim), pk, tuple(_key(x) for x in ins))
            prev = self.seen.get(k)
            # (a value computed as written, which a guard reads, is not one the
            # simplified program computed: optimize)
            if prev is not None and (self.simplifying or prev[1]):
                self.subst.update((o.id, p) for o, p in zip(e.outs, prev[0]))
                return
            self.seen[k] = (e.outs, not self.simplifying)
        self.eqns.append((e, ins))
        for o in e.outs:
            self.made[o.id] = (e.prim, ins, e.params)


class _Trial:
    """The ``graph`` of a simplification tried on operands that are not the program's
    (a scalar operand replaced by 1): it knows no producers and builds nothing."""

    @staticmethod
    def producer(x):
        return None

    @staticmethod
    def const(value):
        return Literal(value)

    class Builds(Exception):
        """A simplification that would build something (not tried)."""

    @staticmethod
    def emit(prim, ins, params, shape, dtype):
        raise _Trial.Builds


def optimize(graph, reassociate=True):
    """Return (eqns, outs, guards) after the passes of this module's docstring.

    Without ``reassociate`` (graph.replay's exact mode) only the sharing of common
    subexpressions and dead-code elimination run: every rewrite that hands an
    operation's input on as its output (``x * 1``, a uniform constant as a scalar,
    ``where`` with a constant condition, an elided broadcast) can change a result's
    memory layout, and NumPy's reductions add in memory order, so the last bits could
    differ from the program as written."""
    exact = _guarded_work(graph) if reassociate else ()
    rw = _Rewriter(reassociate)
    for e in graph.eqns:
        rw.simplifying = reassociate and id(e) not in exact
        rw.add(e)
    eqns = rw.eqns
    outs = [rw.sub(x) for x in graph.outs]
    guards = [(g, rw.sub(g.var)) for g in graph.guards]
    if reassociate:
        # what Python control flow read is computed as the program did (bit for bit):
        # a guard checked on a reassociated value could pass where the program's own
        # value takes the other branch (``if d == 0`` with d = 3x - 2x - x, 0.0 here
        # and 2.8e-17 there); the rest is rewritten, reading those values as given
        first = [(e, ins) for e, ins in eqns if id(e) in exact]
        eqns = [(e, ins) for e, ins in eqns if id(e) not in exact]
        eqns, outs, guards = _fold_scales(eqns, outs, guards)
        eqns, outs, guards = _factor_sums(eqns, outs, guards)
        _elide_broadcasts(eqns, outs, guards)
        eqns = first + eqns
    live = _root_ids(outs, guards)
    kept = []
    for e, ins in reversed(eqns):
        if any(o.id in live for o in e.outs):
            kept.append((e, ins))
            live |= {x.id for x in ins if not isinstance(x, Literal)}
    kept.reverse()
    return kept, outs, guards


def _guarded_work(graph):
    """Ids of the equations whose values a guard reads (Python control flow on them),
    directly or through others: computed as the program does, in its order."""
    # (not "no_infinity": a guard the rewrites themselves ask for, reading no value)
    need = {g.var.id for g in graph.guards
            if not isinstance(g.var, Literal) and g.kind != "no_infinity"}
    work = set()
    for e in reversed(graph.eqns):
        if any(o.id in need for o in e.outs):
            work.add(id(e))
            need.update(x.id for x in e.ins if not isinstance(x, Literal))
    return work


def _scalar_factor(x, o, k):
    """Whether operand ``x`` of degree ``k`` is a scalar that may be carried as a factor
    of ``o``: a finite Python number other than 0, or, for k = 1 and an array
    ``o``, a 0-d float value of the program of ``o``'s dtype."""
    if isinstance(x, Literal):
        v = _number(x)      # (not 0: 0 * (a b) is nan where a b overflows, a (0 b) is 0)
        return v is not None and v != 0
    return k == 1 and not x.shape and o.shape != () and x.dtype == o.dtype and \
        x.dtype.kind == "f"


def _combination(e, ins, o):
    """The coefficients of ``e`` where it is a ``combination`` of operands of o's shape
    and dtype and of scalar numbers (into a real floating ``o``); else None."""
    coefs = e.prim.combination
    if coefs is None or o is None or len(coefs) != len(ins) or o.dtype.kind != "f":
        return None
    arrays = 0
    for x in ins:
        if isinstance(x, Literal):
            if x.shape or _number(x) is None:
                return None
        elif x.shape != o.shape or x.dtype != o.dtype:
            return None
        else:
            arrays += 1
    return coefs if arrays else None


def _takes_factor(e, ins, j, o):
    """Whether ``e`` can take what is carried on its operand ``j`` (into ``o``, its
    output): it is a combination of it, or it is homogeneous in it and ``o`` is a float
    value not larger than it. (Not complex: a real factor written onto a complex value is
    a complex product, ``(4+0j) * (inf+nanj)`` is ``nan+nanj`` where the program's own
    order gives ``inf+nanj``.)"""
    if o is None or o.dtype.kind != "f":
        return False
    if e.prim.combination is not None and _combination(e, ins, o) is not None:
        return True
    hom = e.prim.homogeneous
    return j < len(hom) and hom[j] is not None and _not_larger(o, ins[j])


def _not_larger(o, x):
    """Whether carrying a factor from ``x`` to ``o`` costs no more where it is written
    out: ``o`` is not larger. (Carried from small arrays to larger small ones, where a
    pass costs its call, factors reach more outputs and cost more passes: mlp_small.)"""
    return size_of(o.shape) <= size_of(x.shape)


def _carried(f):
    """Whether a factor may stay carried: a constant only between 2**-500 and 2**500 in
    magnitude (not 0), so a value written out without it is off from the value the
    program computes by at most that: reassociating scalar factors overflows or
    underflows only where the program's own values pass 1e157 or 1e-157."""
    v = _number(f)      # (as a Python float: 2**500 against a float32 would overflow)
    return v is None or core.moderate(float(v))


class NoInfinity:
    """The guard of a base whose terms of both signs were added into one factor: ``x -
    a x`` as ``(1 - a) x`` is ``inf`` where ``x`` is, but NumPy's ``inf - a inf`` is nan;
    and it is -0.0 where ``x`` is -0.0, NumPy's ``-0.0 - a (-0.0)`` +0.0 (terms of both
    signs add up to +0.0). The compiled code raises :class:`HasInfinity` where the base
    holds an infinity or a zero, and the caller runs the program as written. (A factor
    of the program's own that such a sum made is guarded too: ``(1 - a) x`` with ``a``
    1 is -0.0 where ``x`` is negative, ``x - a x`` +0.0.)"""
    kind, value = "no_infinity", None


def _carried_product(f, g, fmul):
    """Whether the product of factors ``f`` and ``g`` may be carried: within
    :func:`_carried`'s range, and not a product of numbers that overflowed or underflowed
    (1e150 * 1e200 is inf, 1e-150 * 1e-200 is 0: the program multiplies its values by
    each in turn)."""
    a, b = _number(f), _number(g)
    if a is not None and b is not None:
        p = float(a) * float(b)
        if p == 0:
            return a == 0 or b == 0
        return core.moderate(p)                       # (inf and nan fail too)
    return _carried(fmul(f, g))


def _one_sign(cs):
    """Whether the terms ``c * f`` of one base (``cs``: (c, f) pairs) add infinities as
    their sum's factor does: numbers of one sign (a factor of the program's own, whose
    sign is not known when compiling, is not). Else the base is guarded
    (:class:`NoInfinity`)."""
    if len(cs) == 1:
        return True
    signs = set()
    for c, f in cs:
        v = _number(f)
        if v is None or c * v == 0:
            return False
        signs.add(c * v > 0)
    return len(signs) == 1


_ABSENT = -0.0     # the constant of a sum that has none: x + (-0.0) is x, signed zeros too


def _absent(k):
    """Whether the constant ``k`` of a carried sum is absent (-0.0, the exact identity
    of addition: ``x + 0.0`` is not ``x`` where ``x`` is -0.0, so a constant 0.0 is
    kept and written)."""
    return k == 0 and math.copysign(1.0, k) < 0


def _sign(f, g):
    """1 where factor ``f`` is ``g``, -1 where it is ``-g`` (numbers), else None."""
    if f is g:
        return 1.0
    a, b = _number(f), _number(g)
    if a is None or b is None or b == 0:
        return None
    return {1.0: 1.0, -1.0: -1.0}.get(a / b)


class _Writer:
    """Writes the generator's own equations into ``out``, sharing equal ones: products
    and sums of scalar factors (a Python number or a 0-d value), and sums of terms
    ``f * b`` plus a constant."""

    def __init__(self, out):
        self.out, self.memo = out, {}

    def emit(self, prim, ins, params=None, like=None):
        """``prim(*ins)`` (a value like ``like``), written now, or the equal one written
        before."""
        params = params or {}
        pk = _params_key(params)
        key = None if pk is None else (id(prim), pk, tuple(_key(x) for x in ins))
        if key in self.memo:
            return self.memo[key]
        var = Var(like.shape, like.dtype)
        if key is not None:
            self.memo[key] = var
        self.out.append((Eqn(prim, list(ins), [var], params), list(ins)))
        return var

    def fmul(self, f, g):
        """The factor f * g."""
        if _number(f) == 1:
            return g
        if _number(g) == 1:
            return f
        if isinstance(f, Literal) and isinstance(g, Literal):
            return Literal(float(f.val) * float(g.val))
        return self.emit(_MUL, [f, g], like=g if isinstance(f, Literal) else f)

    def neg(self, f):
        """The factor -f."""
        return Literal(-float(f.val)) if isinstance(f, Literal) else \
            self.fmul(Literal(-1.0), f)

    def fsum(self, terms):
        """The factor sum of c * f over ``terms`` (c a Python float, f a factor)."""
        emit = self.emit
        const = _ABSENT
        for c, f in terms:
            if isinstance(f, Literal):
                const += c * float(f.val)
        total = None
        for c, f in ((c, f) for c, f in terms if not isinstance(f, Literal)):
            if total is None and const and c in (1.0, -1.0):    # 1 - a
                total, const = emit(_ADD if c == 1.0 else _SUB, [Literal(const), f],
                                    like=f), 0.0
            elif total is None:
                total = self.fmul(Literal(c), f)
            elif c in (1.0, -1.0):
                total = emit(_ADD if c == 1.0 else _SUB, [total, f], like=f)
            else:
                total = emit(_ADD, [total, self.fmul(Literal(c), f)], like=f)
        if total is None:
            return Literal(const)
        return emit(_ADD, [Literal(const), total], like=total) if const else total

    def signed_sum(self, members, like):
        """The sum of s * b over ``members`` ((sign, base) pairs, the first one
        positive)."""
        acc = members[0][1]
        for s, b in members[1:]:
            acc = self.emit(_ADD if s > 0 else _SUB, [acc, b], like=like)
        return acc

    def orient(self, f, members):
        """``(f, members)`` of a group ``f * sum(s * b)`` written as a positive number
        times a sum whose first term is positive, or None where it cannot be: then each
        term has the sign the program gives it where the group is 0 (``-(a + b)`` is
        not ``-a - b`` where ``a + b`` is 0, nor ``0 (a - b)`` ``0 a - 0 b``, nor ``f
        (a + b)`` ``f a + f b`` for a factor ``f`` of the program's, of either sign)."""
        n = _number(f)
        if n is None or n == 0:
            return None
        if n < 0:
            f, members = self.neg(f), [(-s, b) for s, b in members]
        if not any(s > 0 for s, _ in members):
            return None
        return f, sorted(members, key=lambda m: -m[0])

    def write(self, terms, const, like):
        """The operand ``sum(f * b for f, b in terms) + const``, written out: terms
        whose factors agree up to sign added first, each such group scaled once (by a
        positive number: see :meth:`orient`; a term of its own is added or subtracted
        as it is, ``t - 2 b`` for ``t + (-2) b``, exact for zeros too)."""
        emit = self.emit
        groups = []                         # [factor, [(sign, base), ...]]
        for f, b in terms:
            for g in groups:
                s = _sign(f, g[0])
                if s is not None:
                    g[1].append((s, b))
                    break
            else:
                groups.append([f, [(1.0, b)]])
        parts = []                          # (sign, factor, members)
        for f, members in groups:
            o = self.orient(f, members) if len(members) > 1 else None
            if o is not None:
                parts.append((1.0, o[0], o[1]))
                continue
            n = _number(f)
            for s, b in members:
                if n is None:
                    parts.append((s, f, [(1.0, b)]))
                else:
                    c = s * float(n)
                    parts.append((math.copysign(1.0, c), Literal(abs(c)), [(1.0, b)]))
        parts.sort(key=lambda p: -p[0])     # (stable) the first term positive
        total, const_left = None, not _absent(const)
        for sign, f, members in parts:
            acc = self.signed_sum(members, like)
            unit = _number(f) == 1
            if total is None and sign < 0:
                if const_left:              # c - f b
                    v = acc if unit else emit(_MUL, [f, acc], like=like)
                    total, const_left = emit(_SUB, [Literal(const), v], like=like), False
                elif unit:                  # -b (not (-1.0) * b: a nan's sign too)
                    total = emit(_NEG, [acc], like=like)
                else:                       # (-f) b: one term
                    total = emit(_MUL, [self.neg(f), acc], like=like)
                continue
            v = acc if unit else emit(_MUL, [f, acc], like=like)
            total = v if total is None else \
                emit(_ADD if sign > 0 else _SUB, [total, v], like=like)
        if const_left:
            total = emit(_ADD, [Literal(const), total], like=like)
        return total


def _fold_scales(eqns, outs, guards):
    """Carry scalar factors and sums instead of writing them out in passes over arrays.

    What a float value is, as far as this pass knows, is a sum of terms ``f * b`` plus a
    constant: ``f`` a scalar factor (a Python number, or a 0-d value of the program),
    ``b`` a value written out (a base). ``2.0 * a``, ``-a``, ``a + a``, ``alpha * a``
    (``alpha`` 0-d) are one term; ``1 - s`` and ``x + 2 y`` are sums. A value is written
    out only where something reads it that cannot take what is carried. What can, each
    primitive says: a ``combination`` adds the terms of its operands (``x - a * x`` is
    ``(1 - a) x``: one pass, or none); a primitive ``homogeneous`` in an operand
    (products, matmul, sums, reshapes, indexing) takes the factor of a one-term operand,
    or the operand itself where it is a scalar, and hands the product on. A sum is
    carried only into the one combination that reads it (else its additions would be
    repeated); written, terms with one factor are added first and scaled once
    (``c a + c b`` is ``c (a + b)``), and a factor common to every term stays carried.

    So the gradient through descent steps ``x - a_k x`` is a factor times ``x_0`` all
    the way, and ``(-2 b) * (2 a)`` costs one pass, ``b * a``, with -4 applied once at
    the end. Factors are multiplied and added by scalar statements. This reassociates
    scalar factors and the terms of sums: results agree with the eager program to
    rounding. Where terms of both signs (or of factors of the program's) are added into
    one factor, ``inf - a inf`` (nan) would become ``(1 - a) inf``: their base is guarded
    (:class:`NoInfinity`), and a call where it holds an infinity runs as written. Only
    real floating values carry factors (a complex product with a real factor turns
    ``inf+nanj`` into ``nan+nanj``); constant factors are Python numbers, so that their
    products are formed in double precision.
    """
    subst, rep, out = {}, {}, []                # rep: id -> (terms, constant) carried
    no_inf = {}                                 # id -> a base guarded (NoInfinity)
    w = _Writer(out)
    emit, fmul, fsum, write = w.emit, w.fmul, w.fsum, w.write
    pinned = _root_ids(outs, guards)
    reads, summed = {}, set()
    for e, ins in eqns:
        o = None if e.prim.multiple_results else e.outs[0]
        sums = _combination(e, ins, o) is not None
        for j, x in enumerate(ins):
            if isinstance(x, Literal):
                continue
            reads[x.id] = reads.get(x.id, 0) + 1
            if sums:
                summed.add(x.id)
            elif not _takes_factor(e, ins, j, o):
                pinned.add(x.id)
    # a sum may be carried into the one combination that reads it
    sums_carried = {i for i in summed if reads[i] == 1 and i not in pinned}

    def sub(x):
        return x if isinstance(x, Literal) else subst.get(x.id, x)

    def materialize(x):
        """``x`` written out where it is carried: the operand to read."""
        x = sub(x)
        if isinstance(x, Literal) or x.id not in rep:
            return x
        terms, const = rep.pop(x.id)
        subst[x.id] = y = write(terms, const, x)
        return y

    def after(e, f):
        """The constant of ``f * e(...)`` where factor ``f`` passes through ``e``:
        absent where ``e`` is elementwise (the sign of a product, zeros included, is the
        product of the signs) or makes a view (moves no number), or ``f`` is a positive
        number; else (``fresh``: ``e`` may add, ``x.sum()``, ``A @ x``) +0.0: NumPy's
        sums start from +0.0 and are never -0.0, so ``(-2 x).sum()`` is +0.0 where
        ``-2 x.sum()`` is -0.0, and ``-2 x.sum() + 0.0`` is the program's value."""
        if _is_ufunc(e) or not e.prim.fresh:
            return _ABSENT
        n = _number(f)
        return _ABSENT if n is not None and n > 0 else 0.0

    def fold(e, ins, o):
        """(terms, constant) of ``o``, emitting what its bases need; None: ``e`` stays."""
        coefs = _combination(e, ins, o)
        if coefs is not None:
            acc, const = {}, _ABSENT        # base id -> (base, [(c, factor)])
            for c, x in zip(coefs, ins):
                if isinstance(x, Literal):
                    const += c * float(x.val)
                    continue
                if x.id in rep and c < 0 and _many(rep[x.id]):
                    # -(a + b) is not -a - b where a + b is 0 (-0.0 against +0.0): a
                    # sum subtracted is written out first
                    x = materialize(x)
                if x.id in sums_carried and x.id in rep:
                    ts, k = rep.pop(x.id)
                else:
                    ts, k = rep.get(x.id, (((_ONE, x),), _ABSENT))
                if not _absent(k):
                    const += c * k
                for f, b in ts:
                    acc.setdefault(b.id, (b, []))[1].append((c, f))
            terms = []
            for b, cs in acc.values():
                f = fsum(cs)
                if len(cs) > 1 and _number(f) == 0:
                    # x - x stays: +0.0 (0 x is -0.0 where x < 0), nan where x is not
                    # finite
                    terms.extend((fsum([cf]), b) for cf in cs)
                    continue
                if not _one_sign(cs):       # x - a x as (1 - a) x: see _one_sign
                    no_inf[b.id] = b
                    if not isinstance(f, Literal):
                        no_inf[f.id] = f
                terms.append((f, b))
            return tuple(terms), const
        hom = e.prim.homogeneous
        if not hom:
            return None
        factor, new, moved, scalars = _ONE, list(ins), False, []
        for i, x in enumerate(ins):
            k = hom[i] if i < len(hom) else None
            if k is None:
                continue
            if isinstance(x, Literal) or x.id not in rep:
                if _scalar_factor(x, o, k):
                    scalars.append(i)
                continue
            terms, const = rep[x.id]
            if _many((terms, const)):       # a sum: written out below
                continue
            f, b = terms[0]
            if k == -1:
                if _number(f) in (None, 0):
                    continue
                f = _reciprocal(f)
            if _not_larger(o, x) and _carried_product(factor, f, fmul):
                # (a product of factors past 2**+-500, 1e150 * 1e200: the operand is
                # written with its own factor, in the program's order)
                factor, new[i], moved = fmul(factor, f), b, True
        if not moved and not scalars:
            return None
        new = [materialize(x) for x in new]     # what it could not take
        if scalars:                         # 2 * x is x, carrying the factor 2
            trial = [_ONE if i in scalars else x for i, x in enumerate(new)]
            try:
                y = e.prim.simplify(trial, _Trial, **e.params)
            except _Trial.Builds:
                y = None
            if _stands_for(y, o):
                for i in scalars:
                    s = new[i]
                    s = _as_python(s) if hom[i] == 1 else _reciprocal(s)
                    if not _carried_product(factor, s, fmul):
                        return None         # (written as the program has it)
                    factor = fmul(factor, s)
                return ((factor, y),), after(e, factor)
        if moved:
            return ((factor, emit(e.prim, new, e.params, like=o)),), after(e, factor)
        return None

    for e, ins in eqns:
        ins = [sub(x) for x in ins]
        o = None if e.prim.multiple_results else e.outs[0]
        got = fold(e, ins, o) if o is not None and o.dtype.kind == "f" else None
        if got is None:
            out.append((e, [materialize(x) for x in ins]))
            continue
        terms, const = got
        if not all(_carried(f) for f, _ in terms):
            subst[o.id] = write(terms, const, o)    # (an extreme factor: see _carried)
        elif not _many((terms, const)) and _number(terms[0][0]) == 1:
            if terms[0][1] is not o:
                subst[o.id] = terms[0][1]
        elif o.id in pinned:                # written out here, once
            subst[o.id] = write(terms, const, o)
        elif not _many((terms, const)) or o.id in sums_carried:
            rep[o.id] = (terms, const)
        elif _absent(const) and all(_sign(f, terms[0][0]) for f, _ in terms) and \
                w.orient(terms[0][0], [(_sign(g, terms[0][0]), b) for g, b in terms]):
            # f (b1 +- b2 ...): the sum written once, its (positive) factor carried
            f, members = w.orient(terms[0][0], [(_sign(g, terms[0][0]), b) for g, b in terms])
            b = w.signed_sum(members, o)
            if _number(f) == 1:
                subst[o.id] = b
            else:
                rep[o.id] = (((f, b),), _ABSENT)
        else:
            subst[o.id] = write(terms, const, o)
    outs = [materialize(sub(x)) for x in outs]
    guards = [(g, materialize(sub(v))) for g, v in guards]
    guards += [(NoInfinity, b) for b in no_inf.values()]
    return out, outs, guards


def _many(r):
    """Whether a carried ``(terms, constant)`` is a sum of more than one term."""
    return len(r[0]) != 1 or not _absent(r[1])


def _product(e, ins):
    """The two operands of ``e`` where it is an elementwise product of values of its
    output's shape and dtype (a ufunc homogeneous of degree 1 in both operands is a
    product: f(x, y) = x y f(1, 1), and f(1, y) = y is a unit), else None."""
    o = e.outs[0]
    if not _binary_ufunc(e, ins) or tuple(e.prim.homogeneous) != (1, 1) or \
            o.dtype.kind != "f" or any(
                isinstance(x, Literal) or x.shape != o.shape or x.dtype != o.dtype
                for x in ins):
        return None
    return ins


def _factor_sums(eqns, outs, guards):
    """A sum of products with a common factor is the factor times a sum: ``2 f e -
    4 c f c`` is ``f (2 e - 4 c c)``, and where a term of what is left is itself a sum
    of what is left (``e = 1 - c c``), it is put in: ``f (2 - 6 c c)``.

    Arrays are seen as monomials: products of atoms (values that are not elementwise
    products), found through the products that make them. For each sum that no other
    sum takes whole (its terms found through the sums and scalings only it reads), the
    monomials' greatest common divisor is taken out, and the program is rewritten where
    that takes fewer equations than go (those sums and the products only they read).
    Products the program computes anyway are reused (``c c`` is its ``s``). This is
    distributivity: results agree with the eager program to rounding; where terms of
    both signs are added into one coefficient (``2 a c - 4 a c``), the atoms are guarded
    (:class:`NoInfinity`: NumPy's ``inf - inf`` is nan)."""
    roots = _root_ids(outs, guards)
    uses, made, monos, atoms = {}, {}, {}, {}   # made: id -> ("product"|"sum", ...)
    for e, ins in eqns:
        for x in ins:
            if not isinstance(x, Literal):
                uses[x.id] = uses.get(x.id, 0) + 1
        o = None if e.prim.multiple_results else e.outs[0]
        if o is None or not o.shape:
            continue
        p = _product(e, ins)
        if p is not None:
            m = tuple(sorted(_monomial(p[0], monos, atoms) + _monomial(p[1], monos, atoms)))
            if len(m) <= _MAX_DEGREE:
                made[o.id], monos[o.id] = ("product", p), m
        elif e.prim.combination is not None and _combination(e, ins, o) is not None:
            made[o.id] = ("sum", list(zip(e.prim.combination, ins)))
        elif _binary_ufunc(e, ins) and tuple(e.prim.homogeneous) == (1, 1):
            c, x = ins if isinstance(ins[0], Literal) else ins[::-1]
            if _number(c) is not None and not isinstance(x, Literal) and \
                    x.shape == o.shape and x.dtype == o.dtype:    # c x: a one-term sum
                made[o.id] = ("sum", [(float(c.val), x)])
    for i in roots:
        uses[i] = uses.get(i, 0) + 1

    def terms_of(v):
        """(terms, constant, sums that go) of the sum v: terms [coefficient, monomial,
        value], found through the sums only v's reads; None past _MAX_TERMS terms."""
        terms, const, gone = [], 0.0, [v]
        todo = [(c, x) for c, x in reversed(made[v.id][1])]
        while todo:
            c, x = todo.pop()
            if isinstance(x, Literal):
                const += c * float(x.val)
                continue
            m = made.get(x.id)
            if m is not None and m[0] == "sum" and uses.get(x.id) == 1:
                gone.append(x)
                todo.extend((c * ci, y) for ci, y in reversed(m[1]))
            else:
                terms.append([c, _monomial(x, monos, atoms), x])
                if len(terms) > _MAX_TERMS:
                    return None
        return terms, const, gone

    def dying(v, acc):
        """Add to ``acc`` the products only v reads, v included if it is one."""
        m = made.get(v.id)
        if m is not None and m[0] == "product" and uses.get(v.id) == 1 and v.id not in acc:
            acc.add(v.id)
            for x in m[1]:
                dying(x, acc)

    subst, inserts, known = {}, {}, {}      # known: monomial -> a product computed
    guarded = {}                            # id -> an atom to guard (NoInfinity)
    for k, (e, ins) in enumerate(eqns):
        o = None if e.prim.multiple_results else e.outs[0]
        if o is not None and made.get(o.id, ("",))[0] == "sum":
            found = terms_of(o)
            rewrite = _factored(found, o, known, made, monos, atoms, dying) if found \
                else None
            if rewrite is not None:
                inserts[k], subst[o.id], more = rewrite
                guarded.update(more)
        if o is not None and made.get(o.id, ("",))[0] == "product":
            known.setdefault(monos[o.id], o)
    if not subst:
        return eqns, outs, guards

    def sub(x):
        while not isinstance(x, Literal) and x.id in subst:
            x = subst[x.id]
        return x
    new = []
    for k, (e, ins) in enumerate(eqns):
        for e2, ins2 in inserts.get(k, ()):
            new.append((e2, [sub(x) for x in ins2]))
        new.append((e, [sub(x) for x in ins]))
    guards = guards + [(NoInfinity, v) for v in guarded.values()]
    return new, [sub(x) for x in outs], [(g, sub(v)) for g, v in guards]


_MAX_DEGREE, _MAX_TERMS = 16, 32    # (bounds on the work of _factor_sums)


def _monomial(v, monos, atoms):
    """``v`` as a sorted tuple of atom ids (one, for an atom)."""
    m = monos.get(v.id)
    if m is None:
        atoms[v.id] = v
        return (v.id,)
    return m


def _factored(found, o, known, made, monos, atoms, dying):
    """(equations, value, guarded) computing the sum ``o`` with the common factor of its
    terms taken out (``found``: _factor_sums' terms_of), or None where that is no
    cheaper. ``guarded``: id -> atom whose terms of both signs were added into one
    coefficient (their program gives nan where the atom is infinite: NoInfinity)."""
    terms, const, gone = found
    guarded = {}
    if const or len(terms) < 2:
        return None
    common = set(terms[0][1])
    for t in terms[1:]:
        common &= set(t[1])
    if not common:
        return None
    g = []                                  # the greatest common divisor
    for a in sorted(common):
        g += [a] * min(t[1].count(a) for t in terms)
    quotient = [[c, _minus(mono, g)] for c, mono, _ in terms]
    if any(not m for _, m in quotient):
        return None
    # a term that is a sum of the quotient's other monomials (and a constant): put in
    qconst = 0.0
    for q in list(quotient):
        c, mono = q
        m = made.get(mono[0]) if len(mono) == 1 else None
        if m is None or m[0] != "sum":
            continue
        inner = [(ci, x) for ci, x in m[1] if not isinstance(x, Literal)]
        others = [r for r in quotient if r is not q]
        if not inner or not all(any(r[1] == _monomial(x, monos, atoms) for r in others)
                                for _, x in inner):
            continue
        quotient.remove(q)
        qconst += c * sum(ci * float(x.val) for ci, x in m[1] if isinstance(x, Literal))
        for ci, x in inner:
            mx = _monomial(x, monos, atoms)
            r = next(r for r in quotient if r[1] == mx)
            if r[0] * (c * ci) < 0:     # terms of both signs: inf - inf (NoInfinity)
                guarded.update((a, atoms[a]) for a in mx)
            r[0] += c * ci
    quotient = [(c, m) for c, m in quotient if c]
    if not quotient:
        return None
    going = set()
    for _, _, v in terms:
        dying(v, going)
    out, mine = [], {}                      # mine: monomials written here
    w = _Writer(out)

    def usable(m):
        v = mine.get(m) or known.get(m)
        return v if v is not None and v.id not in going else None

    def value(mono):
        """The value of a monomial, from the largest part computed before."""
        if len(mono) == 1:
            return atoms[mono[0]]
        v = usable(mono)
        if v is not None:
            return v
        best = max((m for m in (*mine, *known) if len(m) < len(mono) and usable(m) and
                    not _missing(m, mono)), key=len, default=None)
        head, rest = ((mono[0],), mono[1:]) if best is None else (best, _minus(mono, best))
        mine[mono] = v = w.emit(_MUL, [value(head), value(rest)], like=o)
        return v
    q = w.write([(Literal(c), value(m)) for c, m in quotient], qconst, o)
    result = w.emit(_MUL, [value(tuple(g)), q], like=o)
    if len(out) >= len(gone) + len(going):
        return None
    return out, result, guarded


def _missing(part, whole):
    """Whether the multiset ``part`` is not contained in ``whole`` (sorted tuples)."""
    rest = list(whole)
    for a in part:
        if a not in rest:
            return True
        rest.remove(a)
    return False


def _minus(whole, part):
    rest = list(whole)
    for a in part:
        rest.remove(a)
    return tuple(rest)


def _elide_broadcasts(eqns, outs, guards):
    """Drop ``b = broadcast_to(x, S)`` (a primitive that says it is a ``broadcast``)
    when every use of ``b`` is an elementwise binary ufunc with an operand of shape
    ``S`` (NumPy then broadcasts ``x`` itself, for free)."""
    pinned = _root_ids(outs, guards)
    uses = {}
    for k, (e, ins) in enumerate(eqns):
        for j, x in enumerate(ins):
            if not isinstance(x, Literal):
                uses.setdefault(x.id, []).append((k, j))
    # the other operand keeps the shape only if it is not itself an elided broadcast
    broadcasts = {e.outs[0].id for e, _ in eqns if e.prim.broadcast}
    for e, ins in eqns:
        if not e.prim.broadcast or isinstance(ins[0], Literal):
            continue
        b = e.outs[0]
        if b.id in pinned or b.id not in uses:
            continue
        ok = True
        for k, j in uses[b.id]:
            ce, cins = eqns[k]
            other = cins[1 - j] if len(cins) == 2 else None
            if not _binary_ufunc(ce, cins) or other is None or other.shape != b.shape or \
                    (not isinstance(other, Literal) and other.id in broadcasts) or \
                    ce.outs[0].shape != b.shape:
                ok = False
                break
        if ok:
            for k, j in uses[b.id]:
                eqns[k][1][j] = ins[0]


def _own(x):
    return x.copy() if type(x) is np.ndarray else x


def _alias_roots(eqns, fresh):
    """id -> the ids of the arrays whose memory each value may share: itself where its
    equation makes a new array (``fresh``: those ids; None: asked of the primitive),
    else its operands' (a view, or an operand handed on)."""
    roots = {}
    for prim, outs, ins in eqns:
        for o in outs:
            if (o.id in fresh) if fresh is not None else \
                    (not prim.multiple_results and
                     (getattr(prim, "ufunc", None) is not None or prim.fresh)):
                continue
            r = set()
            for x in ins:
                if not isinstance(x, Literal):
                    r |= roots.get(x.id, {x.id})
            roots[o.id] = r
    return roots


def _fresh(x, scalar):
    """A result of its own for an output the passes rewrote into an input, a view or
    another output: a copy in ``x``'s memory order, or NumPy's scalar where the traced
    program gave one (a ufunc of 0-d values)."""
    if type(x) is np.ndarray:
        return x[()] if scalar and not x.ndim else x.copy(order="K")
    return x if isinstance(x, (np.generic, int, float, complex, bool)) or \
        not hasattr(x, "copy") else x.copy()


def compile_graph(graph, own_outputs=False, reassociate=True, free=True, reads=None,
                  reuse=True):
    """Python function ``f(*flat_inputs) -> list of outputs`` replaying ``graph``.

    With ``own_outputs``, an output that may be (a view of) an input or a constant of
    the graph is copied, so every call returns arrays of its own. Without
    ``reassociate``, the code computes what the graph says in its order, into fresh
    arrays (bit for bit the eager results; see optimize). Without ``free``, no ``del``
    statements (for small arrays, where NumPy's memory reuse gains less than the
    statements cost). Without ``reuse``, no ufunc writes into an operand's buffer
    (``out=``): the arrays are another backend's (Dask's are immutable graphs); and the
    primitives whose implementation chooses per backend (``dispatches``: a Dask matrix
    times a vector is Dask's dot) are called, not spelled. With ``reads`` (a
    ``(parameters, expressions)`` pair: one source expression per input, in those
    parameters), the function takes the parameters and reads only the inputs it uses
    (graph.replay reads them straight from a tape).
    """
    eqns, outs, guards = optimize(graph, reassociate)
    ns = {"np": np, "Retrace": Retrace, "HasInfinity": HasInfinity, "_own": _own,
          "_INF": float("inf"),
          "_fresh": _fresh}
    names = {}

    def name(v):
        if v.id not in names:
            names[v.id] = f"v{len(names)}"
        return names[v.id]

    def constant(v, prefix="c"):
        cname = f"{prefix}{len(ns)}"
        ns[cname] = v
        return cname

    def operand(x, e=None, ins=()):
        if isinstance(x, Literal):
            v = x.val
            if type(v) in (int, float, bool) and np.isfinite(v):
                s = repr(v)
            # a NumPy float64 scalar (a folded constant) written as a Python float is
            # faster, and promotes the same where everything else is float64 too
            elif type(v) is np.float64 and np.isfinite(v) and e is not None and \
                    e.outs[0].dtype == np.float64 and \
                    all(y.dtype == np.float64 for y in ins):
                s = repr(float(v))
            else:
                return constant(v)
            return f"({s})" if s.startswith("-") else s     # (-2.0) ** x, not -(2.0 ** x)
        return name(x)

    def ufunc_name(u):
        return f"np.{u.__name__}" if getattr(np, u.__name__, None) is u else constant(u, "u")

    inputs = {v.id for v in graph.in_vars}
    # last use of each variable (for buffer reuse)
    last_use = {}
    for i, (e, ins) in enumerate(eqns):
        for x in ins:
            if not isinstance(x, Literal):
                last_use[x.id] = i
    # a buffer may be overwritten only if it is new (made by a ufunc or a primitive
    # whose results are ``fresh``) and only ufuncs read it (no view of it, made by
    # reshape/transpose/indexing, can outlive it)
    fresh, viewed = set(), set()
    for e, ins in eqns:
        if not e.prim.multiple_results and (_is_ufunc(e) or e.prim.fresh):
            fresh.add(e.outs[0].id)
        if not _is_ufunc(e):
            viewed |= {x.id for x in ins if not isinstance(x, Literal)}
    keep = _root_ids(outs, guards)      # outputs and guarded values: never freed
    # buffers a ufunc may write into (none in exact mode: layouts stay NumPy's)
    protected = inputs | viewed | (set(last_use) - fresh) | keep \
        if reassociate and reuse else None
    guard_at = {}
    for g, v in guards:
        guard_at.setdefault(v.id if not isinstance(v, Literal) else None, []).append(g)

    if reads is None:
        lines = [f"def compiled({', '.join(name(v) for v in graph.in_vars)}):"]
    else:
        params, exprs = reads
        used = {x.id for _, ins in eqns for x in ins if not isinstance(x, Literal)} | keep
        lines = [f"def compiled({', '.join(params)}):"]
        lines += [f"    {name(v)} = {expr}" for v, expr in zip(graph.in_vars, exprs)
                  if v.id in used]
    # (guards on constants, keyed None, always hold: nothing to emit)
    for v in graph.in_vars:
        lines.extend(_guard_lines(guard_at.get(v.id, []), name(v), ns, not v.shape))
    for i, (e, ins) in enumerate(eqns):
        ops = [operand(x, e, ins) for x in ins]
        outs_s = ", ".join(name(o) for o in e.outs)
        if e.prim.multiple_results:
            outs_s += ","
        buf = _reusable(e, ins, i, last_use, protected)
        if buf is not None:             # a ufunc writing into an operand that dies here
            expr = f"{ufunc_name(e.prim.ufunc)}({', '.join(ops)}, out={name(buf)})"
        else:
            expr = None if e.prim.multiple_results or \
                (not reuse and e.prim.dispatches) \
                else e.prim.spell(ops, ins, **e.params)
            if expr is None and _is_ufunc(e) and e.prim.impl is e.prim.ufunc:
                expr = f"{ufunc_name(e.prim.ufunc)}({', '.join(ops)})"
            elif expr is None:          # a call of the primitive's implementation
                f = functools.partial(e.prim.impl, **e.params) if e.params else e.prim.impl
                expr = f"{constant(f, 'f')}({', '.join(ops)})"
        lines.append(f"    {outs_s} = {expr}")
        for o in e.outs:
            lines.extend(_guard_lines(guard_at.get(o.id, []), name(o), ns, not o.shape))
        # free what dies here, so NumPy can recycle the memory for the next results
        # (arrays: a scalar's memory is not worth a statement)
        dead = sorted({name(x) for x in ins if not isinstance(x, Literal) and x.shape and
                       last_use.get(x.id) == i and x.id not in keep})
        if dead and free:
            lines.append(f"    del {', '.join(dead)}")
    made = {e.outs[0].id for e, _ in eqns
            if not e.prim.multiple_results and (_is_ufunc(e) or e.prim.fresh)}
    returned = set()
    # what each output was before the passes: a rewrite (x * 1 as x, two equal
    # results shared, where(True, x, y) as x, a reshape of x * 1 as a view of x) must
    # not hand out the caller's input, a view of it, or one array (or views of one) for
    # results NumPy makes apart: such an output is copied
    orig = graph.outs if len(graph.outs) == len(outs) else [None] * len(outs)
    scalar = getattr(graph, "out_scalar", None) or [False] * len(outs)
    opt_roots = _alias_roots(((e.prim, e.outs, ins) for e, ins in eqns), made)
    orig_roots = _alias_roots(((e.prim, e.outs, e.ins) for e in graph.eqns), None)
    # what the traced call's results shared (inputs' ids, pairs of outputs), where known
    traced_in = getattr(graph, "out_shares", None)
    traced_pairs = getattr(graph, "out_overlaps", None)
    given, kept = {}, []                # original id -> expression; kept outputs

    def result(i, x, o, scalar):
        s = operand(x)
        if own_outputs and (isinstance(x, Literal) or x.id not in made or x.id in returned):
            return f"_own({s})"         # (an output given twice: the second is a copy)
        if isinstance(x, Literal) and type(x.val) is np.ndarray:
            if x.live and isinstance(o, Literal) and o.val is x.val:
                return s                # the array the function reaches (NumPy's object)
            # a constant array is a new array on every call (as NumPy makes it): never
            # one object shared by every caller (and every thread) that one could write to
            return f"_own({s})"
        if isinstance(x, Literal) or o is None or isinstance(o, Literal):
            return s
        if o.id in given:               # the program gives one object twice
            return given[o.id]
        mine = opt_roots.get(x.id, {x.id})
        rewritten = x.id != o.id and traced_in is not None
        was = traced_in[i] if rewritten else orig_roots.get(o.id, {o.id}) & inputs
        clash = False
        for j, r, w in kept:
            if mine & r:
                clash = clash or ((i, j) not in traced_pairs if rewritten else not (w & was))
        if (mine & inputs) - was or clash:
            given[o.id] = f"_fresh({s}, {bool(scalar and not x.shape)})"
        else:
            given[o.id] = s
            kept.append((i, mine, orig_roots.get(o.id, {o.id})))
        return given[o.id]
    rets = [result(i, x, o, sc) for i, (x, o, sc) in enumerate(zip(outs, orig, scalar))]
    if any(r.startswith("_fresh(") for r in rets):
        # (each copy once, named, so an output the program gives twice is one object)
        named = {}
        for i, r in enumerate(rets):
            if r.startswith("_fresh("):
                if r not in named:
                    named[r] = f"r{len(named)}"
                    lines.append(f"    {named[r]} = {r}")
                rets[i] = named[r]
    lines.append(f"    return [{', '.join(rets)}]")
    src = "\n".join(lines)
    exec(compile(src, "<chainrule.jit>", "exec"), ns)
    fn = ns["compiled"]
    fn.source = src
    return fn


def _guard_lines(guards, var, ns, scalar=False):
    lines = []
    for g in guards:
        if (g is NoInfinity or g.kind == "no_infinity") and scalar:
            # a 0-d value (a factor the sums made): Python's comparisons, not NumPy's
            # reductions (a nan fails too: the program runs as written)
            lines.append(f"    if not 0.0 < abs({var}) < _INF: raise HasInfinity")
            continue
        if g is NoInfinity or g.kind == "no_infinity":
            # (a zero too: x - a x is +0.0 where x is -0.0, (1 - a) x is -0.0)
            lines.append(f"    if np.isinf({var}).any() or not {var}.all(): raise HasInfinity")
            continue
        if g.kind == "fp_event":            # (computed under np.errstate "raise": kept)
            continue
        if g.kind == "value":               # an array read as data: it must be equal
            want = f"w{len(ns)}"
            ns[want] = g.value
            lines.append(f"    if not np.array_equal({var}, {want}): raise Retrace")
            continue
        conv = {"bool": "bool", "int": "int", "float": "float", "complex": "complex"}.get(g.kind)
        if conv is None:
            conv = f"g{len(ns)}"
            ns[conv] = (lambda v: np.asarray(v).item()) if g.kind == "item" else \
                (lambda v: np.asarray(v).tolist())
        want = f"w{len(ns)}"
        ns[want] = g.value
        if g.kind in ("bool", "int"):
            lines.append(f"    if {conv}({var}) != {want}: raise Retrace")
        else:                   # (a float read: -0.0 is not 0.0 to math.atan2 or copysign)
            ns["_same"] = same_python_value
            lines.append(f"    if not _same({conv}({var}), {want}): raise Retrace")
    return lines


def same_python_value(a, b):
    """Whether Python code given ``a`` behaves as it did given ``b`` (a guard's value):
    ``==``, but a float's sign is compared too (``float(x)`` of ``-0.0`` and of ``0.0``
    are equal, yet ``math.copysign``, ``math.atan2`` and ``1 / x`` tell them apart) and a
    nan is the same as a nan of the same sign (any comparison with either is False)."""
    if type(a) is float and type(b) is float:
        return (a == b or a != a and b != b) and math.copysign(1.0, a) == math.copysign(1.0, b)
    if type(a) is complex and type(b) is complex:
        return same_python_value(a.real, b.real) and same_python_value(a.imag, b.imag)
    if type(a) is list and type(b) is list:
        return len(a) == len(b) and all(map(same_python_value, a, b))
    return type(a) is type(b) and a == b


def _reusable(e, ins, i, last_use, protected):
    """An operand buffer the ufunc ``e`` may overwrite (dies here, same shape/dtype);
    ``protected`` None: none may be."""
    if protected is None or not _is_ufunc(e):
        return None
    out = e.outs[0]
    if not out.shape:
        return None
    for x in ins:
        if isinstance(x, Literal) or x.id in protected or last_use.get(x.id) != i:
            continue
        if x.shape == out.shape and x.dtype == out.dtype:
            return x
    return None
