"""Compile a Graph into straight-line Python/NumPy code.

Passes, in order: common subexpressions are shared (same primitive, parameters and
operands), algebraic identities removed (x * 1, x + 0 where shapes agree), dead code
dropped (only what the outputs and guards need), and buffers reused: an elementwise
ufunc writes into an operand that dies at that equation (``np.tanh(a, out=a)``)
when shapes and dtypes agree and the buffer was produced inside the graph.
Guards become ``if`` checks that raise :class:`Retrace`.
"""
import functools

import numpy as np

from ..interpreters.staging import Literal

_OPERATORS = {"add": "+", "subtract": "-", "multiply": "*"}
# operators that agree with NumPy only when an operand is an array (not a Python
# scalar, where e.g. 1.0 / 0.0 raises instead of giving inf)
_ARRAY_OPERATORS = {"divide": "/", "power": "**", "matmul": "@"}
# inline spellings of common structural primitives (saves a call per equation)
_INLINE = {
    "reduce_sum": lambda o, p: f"np.add.reduce({o[0]}, axis={p['axis']!r}, "
                               f"keepdims={p['keepdims']!r})",
    "reduce_max": lambda o, p: f"np.maximum.reduce({o[0]}, axis={p['axis']!r}, "
                               f"keepdims={p['keepdims']!r})",
    "reduce_min": lambda o, p: f"np.minimum.reduce({o[0]}, axis={p['axis']!r}, "
                               f"keepdims={p['keepdims']!r})",
    "select": lambda o, p: f"np.where({o[0]}, {o[1]}, {o[2]})",
    "transpose": lambda o, p: (f"{o[0]}.T" if p["axes"] == (1, 0) else
                               f"{o[0]}.transpose({p['axes']!r})"),
    "reshape": lambda o, p: f"{o[0]}.reshape({p['shape']!r})",
}


class Retrace(Exception):
    """A guard failed: the compiled graph does not apply to these arguments."""


def _root_ids(outs, guards):
    """Ids of the (non-literal) outputs and guarded values: what must survive (a new
    set, so callers may add to it)."""
    return {x.id for x in outs if not isinstance(x, Literal)} | \
        {v.id for _, v in guards if not isinstance(v, Literal)}


def _is_ufunc(e):
    """Whether ``e`` is a single-output ufunc (it makes a fresh buffer and can write
    into one with ``out=``)."""
    return (isinstance(e.prim.impl, np.ufunc) or e.prim.name in _ARITH_UFUNCS) and \
        not e.prim.multiple_results


def _key(x):
    if isinstance(x, Literal):
        v = x.val
        if isinstance(v, (bool, int, float, complex)):
            return ("lit", type(v), v)
        return ("const", id(v))
    return x.id


def _params_key(params):
    try:
        key = tuple(sorted(params.items()))
        hash(key)
        return key
    except TypeError:
        return None


def _is_literal(x, value):
    return isinstance(x, Literal) and isinstance(x.val, (int, float)) and \
        not isinstance(x.val, bool) and x.val == value


def _scalar_literal(x, e):
    """A constant array whose entries are all equal, in an elementwise arithmetic
    equation that its shape does not widen, becomes a Python scalar (the folded
    cotangent of a sum is an array of ones: ``ones * x`` is then ``1.0 * x`` and goes)."""
    if not isinstance(x, Literal) or e.prim.name not in _OPERATORS or \
            not isinstance(x.val, np.ndarray) or x.val.size == 0 or \
            x.val.dtype.kind not in "fi" or x.shape != e.outs[0].shape:
        return x
    first = x.val.flat[0]
    if not np.all(x.val == first):
        return x
    others = [y for y in e.ins if y is not x]
    if not others or others[0].shape != e.outs[0].shape or \
            np.result_type(others[0].dtype, x.val.dtype) != e.outs[0].dtype:
        return x
    return Literal(float(first) if x.val.dtype.kind == "f" else int(first))


def optimize(graph, reassociate=True):
    """Return (eqns, outs, guards) after CSE, identities and dead-code elimination (and,
    with ``reassociate``, scalar factors carried through products: _fold_scales).

    Without ``reassociate`` (graph.replay's exact mode) only CSE and dead-code
    elimination run: every rewrite that hands an operation's input on as its output
    (``x * 1``, a uniform constant as a scalar, ``where`` with a constant condition, an
    elided broadcast) can change a result's memory layout, and NumPy's reductions add in
    memory order, so the last bits could differ from the program as written."""
    subst = {}

    def sub(x):
        return subst.get(x.id, x) if not isinstance(x, Literal) else x
    seen, eqns = {}, []
    for e in graph.eqns:
        ins = [_scalar_literal(sub(x), e) if reassociate else sub(x) for x in e.ins]
        # identities: x * 1, 1 * x, x + 0, x - 0 (when they change neither shape nor dtype)
        name = e.prim.name
        if name in ("multiply", "add", "subtract") and not e.prim.multiple_results and \
                reassociate:
            unit = 1 if name == "multiply" else 0
            for keep, other in ((0, 1), (1, 0)):
                if name == "subtract" and keep == 1:
                    continue
                x = ins[keep]
                if _is_literal(ins[other], unit) and not isinstance(x, Literal) and \
                        x.shape == e.outs[0].shape and x.dtype == e.outs[0].dtype:
                    subst[e.outs[0].id] = x
                    break
            if e.outs[0].id in subst:
                continue
        # where(c, x, y) with a constant, uniform condition is one of its operands
        if name == "select" and isinstance(ins[0], Literal) and reassociate:
            c = np.asarray(ins[0].val)
            if c.size and (c.all() or not c.any()):
                pick = ins[1] if c.all() else ins[2]
                if not isinstance(pick, Literal) and pick.shape == e.outs[0].shape and \
                        pick.dtype == e.outs[0].dtype:
                    subst[e.outs[0].id] = pick
                    continue
        pk = _params_key(e.params)
        if pk is not None:
            k = (id(e.prim), pk, tuple(_key(x) for x in ins))
            if k in seen:
                for o, prev in zip(e.outs, seen[k]):
                    subst[o.id] = prev
                continue
            seen[k] = e.outs
        eqns.append((e, ins))
    outs = [sub(x) for x in graph.outs]
    guards = [(g, sub(g.var)) for g in graph.guards]
    if reassociate:
        eqns = _fold_scales(eqns, outs, guards)
        _elide_broadcasts(eqns, outs, guards)
    live = _root_ids(outs, guards)
    kept = []
    for e, ins in reversed(eqns):
        if any(o.id in live for o in e.outs):
            kept.append((e, ins))
            live |= {x.id for x in ins if not isinstance(x, Literal)}
    kept.reverse()
    return kept, outs, guards


def _scalar(x):
    return isinstance(x, Literal) and type(x.val) in (int, float) and np.isfinite(x.val)


def _fold_scales(eqns, outs, guards):
    """Carry scalar factors through products instead of multiplying whole arrays.

    A float array that is a constant times another (``2.0 * a``, ``-a``, ``a + a``) is
    kept as (factor, base) and only written out when something other than arithmetic
    reads it; products and sums of such values combine their factors, so
    ``(-2 * b) * (2 * a)`` costs one pass, ``b * a``, with the factor -4 applied once at
    the end. This is the reassociation of scalar factors only (results agree with the
    eager program to rounding).
    """
    from ..interpreters.staging import Eqn, Var
    from ..prims.elementwise import PRIMS
    mul, add, sub = PRIMS["multiply"], PRIMS["add"], PRIMS["subtract"]
    scale, pending, out = {}, {}, []
    # defer a value only if every reader can absorb its factor (else it is written out
    # anyway, and carrying the factor further would cost a second multiply)
    absorbing = {"multiply", "add", "subtract", "negative"}
    pinned = _root_ids(outs, guards)
    for e, ins in eqns:
        for x in ins:
            if not isinstance(x, Literal) and (e.prim.name not in absorbing or
                                               e.prim.multiple_results):
                pinned.add(x.id)

    def factor(x):
        return scale.get(x.id, (1.0, x))

    def emit(prim, ins, var=None, like=None):
        var = var if var is not None else Var(like.shape, like.dtype)
        out.append((Eqn(prim, list(ins), [var], {}), list(ins)))
        return var

    def materialize(x):
        if not isinstance(x, Literal) and x.id in pending:
            c, b = scale[x.id]
            del pending[x.id]
            emit(mul, [Literal(float(c)), b], var=x)

    for e, ins in eqns:
        o = None if e.prim.multiple_results else e.outs[0]
        name = e.prim.name
        folded = None
        if o is not None and o.dtype.kind in "fc" and len(ins) <= 2 and \
                all(isinstance(x, Literal) or x.dtype == o.dtype for x in ins):
            if name == "negative" and not isinstance(ins[0], Literal) and \
                    ins[0].shape == o.shape:
                c, b = factor(ins[0])
                folded = (-c, b)
            elif name == "multiply" and (_scalar(ins[0]) or _scalar(ins[1])):
                lit, x = (ins[0], ins[1]) if _scalar(ins[0]) else (ins[1], ins[0])
                if not isinstance(x, Literal) and x.shape == o.shape:
                    c, b = factor(x)
                    folded = (c * float(lit.val), b)
            elif name in ("multiply", "add", "subtract") and \
                    not any(isinstance(x, Literal) for x in ins) and \
                    (ins[0].id in scale or ins[1].id in scale or
                     (ins[0] is ins[1] and name != "multiply")):
                (ca, ba), (cb, bb) = factor(ins[0]), factor(ins[1])
                if name == "multiply":
                    c = ca * cb         # factor 1: the product is this equation's output
                    t = emit(mul, [ba, bb], var=o if c == 1.0 else None, like=o)
                    if c == 1.0:
                        continue
                    folded = (c, t)
                elif ins[0].shape == ins[1].shape == o.shape:
                    cb = -cb if name == "subtract" else cb
                    if ba is bb:
                        folded = (ca + cb, ba)
                    elif ca != 0:
                        r = cb / ca
                        if r in (1.0, -1.0):        # c (a +- b): one pass, not two
                            target = o if ca == 1.0 else None
                            t = emit(add if r == 1.0 else sub, [ba, bb], var=target,
                                     like=o)
                            if ca == 1.0:
                                continue
                            folded = (ca, t)
        if folded is not None:
            scale[o.id] = folded
            if o.id in pinned:                  # written out here, once
                emit(mul, [Literal(float(folded[0])), folded[1]], var=o)
                scale[o.id] = (1.0, o)
            else:
                pending[o.id] = o
            continue
        for x in ins:
            materialize(x)
        out.append((e, ins))
    for x in outs:
        materialize(x)
    for _, v in guards:
        materialize(v)
    return out


def _elide_broadcasts(eqns, outs, guards):
    """Drop ``b = broadcast_to(x, S)`` when every use of ``b`` is elementwise arithmetic
    with an operand of shape ``S`` (NumPy then broadcasts ``x`` itself, for free)."""
    pinned = _root_ids(outs, guards)
    uses = {}
    for k, (e, ins) in enumerate(eqns):
        for j, x in enumerate(ins):
            if not isinstance(x, Literal):
                uses.setdefault(x.id, []).append((k, j))
    # the other operand keeps the shape only if it is not itself an elided broadcast
    broadcasts = {e.outs[0].id for e, _ in eqns if e.prim.name == "broadcast_to"}
    for e, ins in eqns:
        if e.prim.name != "broadcast_to" or isinstance(ins[0], Literal):
            continue
        b = e.outs[0]
        if b.id in pinned or b.id not in uses:
            continue
        ok = True
        for k, j in uses[b.id]:
            ce, cins = eqns[k]
            other = cins[1 - j] if len(cins) == 2 else None
            if ce.prim.name not in ("add", "subtract", "multiply", "divide") or \
                    other is None or other.shape != b.shape or \
                    (not isinstance(other, Literal) and other.id in broadcasts) or \
                    ce.outs[0].shape != b.shape:
                ok = False
                break
        if ok:
            for k, j in uses[b.id]:
                eqns[k][1][j] = ins[0]


_FRESH = {"reduce_sum", "reduce_max", "reduce_min", "matmul"}


def _own(x):
    return x.copy() if type(x) is np.ndarray else x


def compile_graph(graph, own_outputs=False, reassociate=True, free=True, reads=None):
    """Python function ``f(*flat_inputs) -> list of outputs`` replaying ``graph``.

    With ``own_outputs``, an output that may be (a view of) an input or a constant of
    the graph is copied, so every call returns arrays of its own. Without
    ``reassociate``, the code computes what the graph says in its order, into fresh
    arrays (bit for bit the eager results; see optimize). Without ``free``, no ``del`` statements (for
    small arrays, where NumPy's memory reuse gains less than the statements cost).
    With ``reads`` (a ``(parameters, expressions)`` pair: one source expression per
    input, in those parameters), the function takes the parameters and reads only the
    inputs it uses (graph.replay reads them straight from a tape).
    """
    eqns, outs, guards = optimize(graph, reassociate)
    ns = {"np": np, "Retrace": Retrace, "_own": _own}
    names = {}

    def name(v):
        if v.id not in names:
            names[v.id] = f"v{len(names)}"
        return names[v.id]

    def operand(x, e=None, ins=()):
        if isinstance(x, Literal):
            v = x.val
            if type(v) in (int, float, bool) and np.isfinite(v):
                return repr(v)
            # a NumPy float64 scalar (a folded constant) written as a Python float is
            # faster, and promotes the same where everything else is float64 too
            if type(v) is np.float64 and np.isfinite(v) and e is not None and \
                    e.outs[0].dtype == np.float64 and \
                    all(y.dtype == np.float64 for y in ins):
                return repr(float(v))
            cname = f"c{len(ns)}"
            ns[cname] = v
            return cname
        return name(x)

    inputs = {v.id for v in graph.in_vars}
    # last use of each variable (for buffer reuse)
    last_use = {}
    for i, (e, ins) in enumerate(eqns):
        for x in ins:
            if not isinstance(x, Literal):
                last_use[x.id] = i
    # a buffer may be overwritten only if a ufunc made it and only ufuncs read it (no
    # view of it, made by reshape/transpose/indexing, can outlive it)
    fresh, viewed = set(), set()
    for e, ins in eqns:
        if _is_ufunc(e):
            fresh.add(e.outs[0].id)
        else:
            viewed |= {x.id for x in ins if not isinstance(x, Literal)}
    keep = _root_ids(outs, guards)      # outputs and guarded values: never freed
    # buffers a ufunc may write into (none in exact mode: layouts stay NumPy's)
    protected = inputs | viewed | (set(last_use) - fresh) | keep if reassociate else None
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
        lines.extend(_guard_lines(guard_at.get(v.id, []), name(v), ns))
    for i, (e, ins) in enumerate(eqns):
        ops = [operand(x, e, ins) for x in ins]
        outs_s = ", ".join(name(o) for o in e.outs)
        if e.prim.multiple_results:
            outs_s += ","
        sym = _OPERATORS.get(e.prim.name)
        if sym is None and (any(getattr(x, "shape", ()) for x in ins) or (
                e.prim.name == "divide" and isinstance(ins[1], Literal) and
                type(ins[1].val) in (int, float) and ins[1].val != 0)):
            sym = _ARRAY_OPERATORS.get(e.prim.name)
        inline = _INLINE.get(e.prim.name)
        if e.prim.name == "negative":
            expr = f"-{ops[0]}"
        elif sym is not None and len(ops) == 2:
            expr = f"{ops[0]} {sym} {ops[1]}"
            buf = _reusable(e, ins, i, last_use, protected)
            if buf is not None:         # write into an operand that dies here
                expr = f"np.{_ARITH_UFUNCS[e.prim.name].__name__}({ops[0]}, {ops[1]}, " \
                       f"out={name(buf)})"
        elif inline is not None and not e.prim.multiple_results and (
                e.prim.name not in ("transpose", "reshape") or
                (not isinstance(ins[0], Literal) and ins[0].shape)):
            expr = inline(ops, e.params)
        else:
            fname = f"f{len(ns)}"
            ns[fname] = functools.partial(e.prim.impl, **e.params) if e.params else \
                e.prim.impl
            expr = f"{fname}({', '.join(ops)})"
            buf = _reusable(e, ins, i, last_use, protected)
            if buf is not None:
                expr = f"{fname}({', '.join(ops)}, out={name(buf)})"
        lines.append(f"    {outs_s} = {expr}")
        for o in e.outs:
            lines.extend(_guard_lines(guard_at.get(o.id, []), name(o), ns))
        # free what dies here, so NumPy can recycle the memory for the next results
        dead = sorted({name(x) for x in ins if not isinstance(x, Literal) and
                       last_use.get(x.id) == i and x.id not in keep})
        if dead and free:
            lines.append(f"    del {', '.join(dead)}")
    made = {e.outs[0].id for e, _ in eqns if _is_ufunc(e) or e.prim.name in _FRESH}
    returned = set()

    def result(x):
        s = operand(x)
        if own_outputs and (isinstance(x, Literal) or x.id not in made or x.id in returned):
            return f"_own({s})"         # (an output given twice: the second is a copy)
        if isinstance(x, Literal) and type(x.val) is np.ndarray:
            # a constant array is a new array on every call (as NumPy makes it): never
            # one object shared by every caller (and every thread) that one could write to
            return f"_own({s})"
        if not isinstance(x, Literal):
            returned.add(x.id)
        return s
    lines.append(f"    return [{', '.join(result(x) for x in outs)}]")
    src = "\n".join(lines)
    exec(compile(src, "<chainrule.jit>", "exec"), ns)
    fn = ns["compiled"]
    fn.source = src
    return fn


def _guard_lines(guards, var, ns):
    lines = []
    for g in guards:
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
        lines.append(f"    if {conv}({var}) != {want}: raise Retrace")
    return lines


_ARITH_UFUNCS = {"add": np.add, "subtract": np.subtract, "multiply": np.multiply,
                 "divide": np.divide}


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
