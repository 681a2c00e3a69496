"""The user-facing transformations: argnums, has_aux, pytrees and argument errors are
handled here, once; the interpreters only ever see flat lists of values.

Compose, don't re-implement: jacfwd pushes the standard basis through jvp, jacrev
pulls it back through vjp, hessian = jacfwd(jacrev(f)), hvp = jvp of grad.
"""
import functools

import numpy as np

from . import backend
from .core import (Tracer, Zero, _state, shape_of, dtype_of, size_of,
                   TracerConversionError)
from .tree_util import tree_flatten, tree_unflatten, tree_map, tree_structure
from .interpreters.reverse import vjp_flat
from .interpreters.deferred import force
from .interpreters.forward import jvp_flat
from .interpreters.batching import vmap_flat
from .numpy.basic import reshape, moveaxis
from .tree_util import broadcast_prefix
from .graph import replay
from .graph.jit import Staged
from .argcheck import (argnums_tuple, not_inexact, check_diff_input, check_has_tangents,
                       real_inputs, check_callable, index_tuple, check_indices_in_range,
                       check_vmap_axes, mapped_axes)

__all__ = ["vmap", "grad", "value_and_grad", "vjp", "jvp", "linearize", "jacfwd", "jacrev",
           "jacobian", "hessian", "hvp", "elementwise_grad"]


# ------------------------------------------------------------------ argument plumbing

def _made(fun, argnums, fname, argname="argnums"):
    """Checks when a transformation is made: ``fun`` callable, ``argnums`` an int or a
    tuple of distinct ints. Returns argnums as an int or a tuple of ints."""
    check_callable(fun, fname)
    nums = index_tuple(argnums, fname, argname)
    if not nums:
        raise ValueError(f"{fname}: {argname}=() is empty: there is nothing to "
                         f"differentiate with respect to")
    return nums[0] if isinstance(argnums, (int, np.integer)) else nums




def _check_flat_inputs(flat, args, nums, fname, holomorphic):
    """Validate the flattened differentiable inputs; find the argument only on error."""
    for leaf in flat:
        kind = leaf.dtype.kind if type(leaf) is np.ndarray else dtype_of(leaf).kind
        if kind not in "fc" or (holomorphic and kind != "c"):
            for i in nums:
                check_diff_input(args[i], fname, holomorphic, i)






def _split_aux(out, has_aux, fname):
    if not has_aux:
        return out, None
    if not (isinstance(out, (tuple, list)) and len(out) == 2):
        raise TypeError(f"{fname} with has_aux=True requires the function to return a "
                        f"pair (output, auxiliary data), but it returned "
                        f"{type(out).__name__}")
    return out[0], _lower(out[1])


def _lower(tree):
    """Auxiliary outputs leave the transformation that is running: replace the values
    it owns by their primal values (outer transformations keep theirs)."""
    trace = _state.trace
    return tree_map(lambda v: force(v.primal) if isinstance(v, Tracer) and
                    v._trace is trace and hasattr(v, "primal") else v, tree)


def _flat_fun(fun, args, argnums, has_aux, fname):
    """A flat-in/flat-out version of ``fun`` w.r.t. the arguments in ``argnums``.

    Returns (flat_fun, flat_primals, in_trees, store) where ``store`` receives the
    output tree and aux after the call.
    """
    dyn = [args[i] for i in argnums]
    flat, in_tree = tree_flatten(dyn)
    # (the leaves differentiated and the other arguments themselves: Dask data is an
    # argument; a Dask array deep inside another argument's pytree is not looked for)
    guard = backend.no_compute(flat) or backend.no_compute(args)
    flat_fun, store = _flat_fun_of(fun, args, argnums, in_tree, guard, has_aux, fname)
    return flat_fun, flat, in_tree, store


def _flat_fun_of(fun, args, argnums, in_tree, guard, has_aux, fname):
    """``(flat_fun, store)`` of :func:`_flat_fun`, given the structure of the
    differentiated arguments and the guard the user's function runs under."""
    store = {}

    def flat_fun(*xs):
        new_args = list(args)
        for i, v in zip(argnums, tree_unflatten(in_tree, xs)):
            new_args[i] = v
        try:
            out = backend.call_user(guard, fun, *new_args)
        except ValueError as e:
            # NumPy hides our conversion error behind "setting an array element with a
            # sequence" when a traced value is written into an ndarray: show ours
            if isinstance(e.__cause__, TracerConversionError):
                raise e.__cause__ from None
            raise
        if has_aux:
            out, store["aux"] = _split_aux(out, has_aux, fname)
        else:
            store["aux"] = None
        if isinstance(out, Tracer):             # one traced output (a loss): a leaf
            store["out_tree"] = _LEAF
            return [out]
        out_flat, store["out_tree"] = tree_flatten(out)
        return out_flat
    return flat_fun, store


def _prepare(fun, args, argnums, has_aux, holomorphic, fname):
    """argnums, flattening and input checks, once for grad, jacfwd and jacrev.

    Returns ``(single, flat_fun, flat, in_tree, store)``.
    """
    single, nums = argnums_tuple(argnums, len(args), fname)
    for i in nums:
        if args[i] is None:
            raise TypeError(f"{fname}: argument {i} is None: there is nothing to "
                            f"differentiate with respect to. Pass an array or a float (or "
                            f"choose other arguments with argnums=)")
    guard = None
    for a in args:
        if type(a) is not np.ndarray and backend.is_lazy(a):
            backend.check_input(a)              # a Dask array with unknown chunk sizes
            guard = backend.no_compute((a,))
    flat, in_tree = tree_flatten([args[i] for i in nums])
    # (what _flat_fun and _check_flat_inputs do, in one pass over the leaves: the
    # guard where a leaf is lazy, the checks of their dtypes)
    for leaf in flat:
        if type(leaf) is np.ndarray:
            kind = leaf.dtype.kind
        else:
            if guard is None:
                guard = backend.no_compute((leaf,))
            kind = dtype_of(leaf).kind
        if kind not in "fc" or (holomorphic and kind != "c"):
            for i in nums:
                check_diff_input(args[i], fname, holomorphic, i)
    flat_fun, store = _flat_fun_of(fun, args, nums, in_tree, guard, has_aux, fname)
    return single, flat_fun, flat, in_tree, store


def _with_aux(result, store, has_aux):
    return (result, store["aux"]) if has_aux else result


def _zeros_like(x):
    if type(x) is float:
        return 0.0
    if type(x) is complex:
        return 0j
    return np.zeros(shape_of(x), dtype_of(x))


def _fill(cts, primals):
    """Cotangents for the caller: zeros for None, the primal's dtype, writable arrays of
    their own (a linear rule may hand one cotangent to two arguments: the second gets a
    copy, so updating one gradient in place leaves the other alone)."""
    out, seen = [], set()
    for c, p in zip(cts, primals):
        if type(c) is np.ndarray:
            if id(c) in seen:
                c = c.copy()
            seen.add(id(c))
            if type(p) is np.ndarray and c.dtype is p.dtype and c.flags.writeable:
                out.append(c)               # the common case (_cast_like would keep it)
                continue
        out.append(_zeros_like(p) if c is None else _cast_like(c, p))
    return out


def _unaliased(results, given):
    """``results`` with copies where an array may share memory with one the caller
    passed in (a linear pass-through such as ``x + 1`` or a reshape would otherwise hand
    back the caller's own tangent or cotangent)."""
    given = [g for g in given if type(g) is np.ndarray]
    if not given:
        return results
    return [r.copy() if type(r) is np.ndarray and
            any(np.may_share_memory(r, g) for g in given) else r for r in results]


def _cast_like(ct, p):
    """Cotangents keep the primal's dtype (float32 stays float32, real stays real), and
    come back as writable arrays (a broadcast view of a seed is copied)."""
    cast = _tangent_like(ct, p)
    if cast is not ct:
        ct = cast
    elif type(ct) is np.ndarray and not ct.flags.writeable:
        ct = ct.copy()
    if type(ct) is np.ndarray and not ct.shape and type(p) is not np.ndarray:
        ct = ct[()]                     # a scalar's cotangent is a NumPy scalar
    elif type(p) is not np.ndarray and type(ct) is not np.ndarray and \
            backend.is_lazy(p) and backend.is_lazy(ct) and ct.chunks != p.chunks:
        ct = ct.rechunk(p.chunks)       # the data's derivative has the data's chunks
    return ct


def _tangent_like(t, p):
    """A tangent (or cotangent) in its primal's dtype, as NumPy would compute it: a rule may hand back
    another (max's weights are float64, ``x + 1j`` passes a real tangent through). A
    real primal's tangent is real (the imaginary part of a complex one is dropped)."""
    pd, td = dtype_of(p), dtype_of(t)
    if td == pd or pd.kind not in "fc":
        return t
    if td.kind == "c" and pd.kind == "f":
        t = t.real
    return t.astype(pd) if hasattr(t, "astype") else pd.type(t)


# ------------------------------------------------------------------ vjp / grad

def vjp(fun, *primals, has_aux=False):
    """Evaluate ``fun(*primals)`` and return its vector-Jacobian product function.

    Parameters
    ----------
    fun : callable
        Function of pytrees of arrays, returning a pytree of arrays.
    *primals
        Point at which to linearise.
    has_aux : bool
        If true, ``fun`` returns ``(output, aux)`` and aux is returned unchanged.

    Returns
    -------
    (out, vjp_fun) or (out, vjp_fun, aux)
        ``vjp_fun(ct)`` takes a cotangent with the structure and shapes of ``out``
        and returns a tuple with one cotangent per primal. It may be called
        many times.
    """
    check_callable(fun, "vjp")
    flat_fun, flat, in_tree, store = _flat_fun(fun, primals, tuple(range(len(primals))),
                                               has_aux, "vjp")
    outs, pullback = vjp_flat(flat_fun, flat)
    backward = replay.recurring(pullback, hint=fun)     # compiled where it recurs
    out_tree = store["out_tree"]

    def vjp_fun(ct):
        ct_flat, ct_tree = tree_flatten(ct)
        if ct_tree != out_tree:
            raise ValueError(f"vjp_fun: the cotangent has structure {ct_tree} but the "
                             f"output has structure {out_tree}")
        for c, o in zip(ct_flat, outs):
            if shape_of(c) != shape_of(o):
                raise ValueError(f"vjp_fun: cotangent of shape {shape_of(c)} for an output "
                                 f"of shape {shape_of(o)}")
            ck, ok = dtype_of(c).kind, dtype_of(o).kind
            if ck not in "iufc" or (ck == "c" and ok != "c"):
                raise TypeError(f"vjp_fun: cotangent of dtype {dtype_of(c)} for an output "
                                f"of dtype {dtype_of(o)}: "
                                + ("the function's output is real, so its cotangent must "
                                   "be real (the imaginary part would be dropped); take "
                                   ".real, or make the function complex-valued"
                                   if ck == "c" else "cotangents must be numbers"))
        return tuple(tree_unflatten(in_tree, _unaliased(_fill(backward(ct_flat), flat),
                                                        ct_flat)))
    out = tree_unflatten(out_tree, outs)
    if has_aux:
        return out, vjp_fun, store["aux"]
    return out, vjp_fun


def value_and_grad(fun, argnums=0, has_aux=False, holomorphic=False):
    """Return a function computing ``fun``'s value and its gradient.

    Parameters
    ----------
    fun : callable
        Returns a real scalar (or an array with exactly one element); with
        ``holomorphic=True`` a complex scalar.
    argnums : int or tuple of ints
        Which positional arguments to differentiate with respect to.
    has_aux : bool
        ``fun`` returns ``(value, aux)``; the result is then ``((value, aux), grad)``.
    holomorphic : bool
        ``fun`` is complex-differentiable; inputs must be complex.

    Returns
    -------
    callable
        ``(value, grad)``, with ``grad`` shaped like the chosen argument(s) (a tuple
        when ``argnums`` is a tuple).

    Raises
    ------
    TypeError, ValueError
        When made: ``fun`` not callable, ``argnums`` not an int or a non-empty tuple of
        distinct ints. When called: argnums beyond the positional arguments, a
        differentiated argument that is None or not float/complex, an output that is not
        one real (or, with ``holomorphic``, complex) element. See
        docs/transformations.md, "Errors".
    """
    return _value_and_grad(fun, argnums, has_aux, holomorphic, "value_and_grad")


def _value_and_grad(fun, argnums, has_aux, holomorphic, fname, lazy=False):
    """value_and_grad; ``lazy``: the caller discards the value, which then need not be
    computed (deferred.Pending)."""
    argnums = _made(fun, argnums, fname)

    @functools.wraps(fun)
    def value_and_grad_f(*args, **kwargs):
        f = functools.partial(fun, **kwargs) if kwargs else fun
        single, flat_fun, flat, in_tree, store = _prepare(f, args, argnums, has_aux,
                                                          holomorphic, fname)
        outs, pullback = vjp_flat(flat_fun, flat, lazy)
        backward = replay.recurring(pullback, hint=fun)     # compiled where it recurs
        out_tree = store["out_tree"]
        ans = outs[0] if out_tree is _LEAF else None
        if type(ans) is np.float64:             # the common case: the checks below pass
            grads = tree_unflatten(in_tree, _fill(backward([_ONE], consume=True), flat))
            g = grads[0] if single else tuple(grads)
            if has_aux:
                return (ans, store["aux"]), g
            return ans, g
        if out_tree.num_leaves != 1:
            got = ("None (is a return statement missing?)"
                   if store["out_tree"].node_type is type(None) else
                   f"a {store['out_tree']}" + ("" if has_aux else
                                               " (for (value, aux), pass has_aux=True)"))
            raise TypeError(f"{fname} requires a function returning a single array (a "
                            f"scalar), but it returned {got}")
        ans = outs[0]
        dt = dtype_of(ans)
        if size_of(shape_of(ans)) != 1:
            raise TypeError(f"{fname} requires a scalar output (or an array with exactly "
                            f"one element), but the output has shape {shape_of(ans)}. "
                            f"For vector outputs use jacrev/jacobian or vjp, or "
                            f"elementwise_grad for elementwise functions.")
        if dt.kind == "c" and not holomorphic:
            raise TypeError(f"{fname} requires real-valued outputs (output dtype {dt}). "
                            "For holomorphic functions, pass holomorphic=True; for "
                            "real-valued losses of complex values, take .real or abs.")
        if dt.kind not in "fc":
            raise TypeError(f"{fname} requires a float output, got dtype {dt}")
        one = np.ones(shape_of(ans), dt) if shape_of(ans) else dt.type(1)
        grads = tree_unflatten(in_tree, _fill(backward([one], consume=True), flat))
        g = grads[0] if single else tuple(grads)
        value = ans if store["out_tree"].node_type is None else \
            tree_unflatten(store["out_tree"], outs)
        if has_aux:
            return (value, store["aux"]), g
        return value, g
    return value_and_grad_f


_LEAF = tree_structure(0.0)          # the structure of one leaf (a shared object)
_ONE = np.float64(1.0)              # the seed of a float64 scalar output


def grad(fun, argnums=0, has_aux=False, holomorphic=False):
    """Return a function computing the gradient of scalar-valued ``fun``.

    ``grad(f)(x)`` evaluates the gradient of ``f`` at ``x``. Composes with every other
    transformation (``grad(grad(f))``, ``vmap(grad(f))``, ``jit(grad(f))``).
    For complex inputs with real output, returns JAX's convention (the conjugate of
    df/dz*; ``grad(lambda z: abs(z)**2)(3+4j) == 6-8j``).

    Parameters
    ----------
    fun, argnums, has_aux, holomorphic
        As :func:`value_and_grad`.

    Returns
    -------
    callable
        Returns the gradient (and ``aux`` with ``has_aux=True``: ``(grad, aux)``).
    """
    return _grad(fun, argnums, has_aux, holomorphic, "grad")


def _grad(fun, argnums, has_aux, holomorphic, fname):
    vg = _value_and_grad(fun, argnums, has_aux, holomorphic, fname, lazy=True)

    @functools.wraps(fun)
    def grad_f(*args, **kwargs):
        (value, g) = vg(*args, **kwargs)
        if has_aux:
            return g, value[1]
        return g
    return grad_f


def elementwise_grad(fun, argnum=0):
    """autograd's ``elementwise_grad``: the vjp of ``fun`` with a cotangent of ones.

    For an elementwise function this is the derivative at every element.
    """
    argnum = _made(fun, argnum, "elementwise_grad", "argnum")
    if not isinstance(argnum, int):
        raise TypeError(f"elementwise_grad: argnum must be one int, got {argnum!r}")

    def egrad(*args, **kwargs):
        f = functools.partial(fun, **kwargs) if kwargs else fun
        argnums_tuple(argnum, len(args), "elementwise_grad")
        check_diff_input(args[argnum], "elementwise_grad", False, argnum)

        def g(x):
            new = list(args)
            new[argnum] = x
            return f(*new)
        out, vjp_fun = vjp(g, args[argnum])
        return vjp_fun(tree_map(lambda o: np.ones(shape_of(o), dtype_of(o)), out))[0]
    return egrad


# ------------------------------------------------------------------ jvp / linearize

def jvp(fun, primals, tangents, has_aux=False):
    """Jacobian-vector product: ``(fun(*primals), J @ tangents)``.

    ``primals`` and ``tangents`` are tuples (or lists) of equal structure; each
    tangent must have the shape and dtype of its primal. Integer and boolean primals
    have no tangent (JAX's float0): they raise TypeError; close over them instead
    (``jvp(lambda x: f(x, n), (x,), (t,))``).
    """
    check_callable(fun, "jvp")
    return _jvp(fun, primals, tangents, has_aux, "jvp")


def _jvp(fun, primals, tangents, has_aux, fname, lazy_outputs=False):
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError(f"{fname}: primals and tangents must be tuples or lists, e.g. "
                        f"{fname}(f, (x,), (v,))")
    if len(primals) != len(tangents):
        raise ValueError(f"{fname}: {len(primals)} primals but {len(tangents)} tangents")
    flat_fun, flat, in_tree, store = _flat_fun(fun, tuple(primals),
                                               tuple(range(len(primals))), has_aux, fname)
    t_flat, t_tree = tree_flatten(list(tangents))
    if t_tree != in_tree:
        raise ValueError(f"{fname}: tangents have structure {t_tree} but primals have "
                         f"structure {in_tree}")
    ts = []
    for p, t in zip(flat, t_flat):
        if shape_of(p) != shape_of(t):
            raise ValueError(f"{fname}: tangent of shape {shape_of(t)} for a primal of "
                             f"shape {shape_of(p)}; they must match")
        pd, td = dtype_of(p), dtype_of(t)
        if pd.kind not in "fc":
            check_has_tangents(primals, fname)
        if td.kind not in "fc" or (pd.kind == "f" and td.kind == "c"):
            raise TypeError(f"{fname}: tangent dtype {td} does not match primal dtype {pd}")
        ts.append(t)
    outs, t_outs = jvp_flat(flat_fun, flat, ts, lazy_outputs)
    out_tree = store["out_tree"]
    out = tree_unflatten(out_tree, outs)
    t_out = tree_unflatten(out_tree, _unaliased([_zeros_like(o) if type(t) is Zero else
                                                 _tangent_like(t, o)
                                                 for o, t in zip(outs, t_outs)], ts))
    if has_aux:
        return out, t_out, store["aux"]
    return out, t_out




def linearize(fun, *primals):
    """Return ``(fun(*primals), f_jvp)`` where ``f_jvp(*tangents)`` is the JVP at primals.

    The tangent map is staged once with everything that depends only on the primals
    folded to constants, so each ``f_jvp`` call replays just the linear part (what JAX's
    linearize does; jit's machinery, graph/jit.py). Called under another transformation
    it runs forward mode afresh; tangents of other shapes, or whose values a guard
    rejects, are traced again: the same results.
    """
    check_callable(fun, "linearize")
    check_has_tangents(primals, "linearize")
    out = fun(*primals)

    def slow(*tangents):
        return _jvp(fun, primals, tangents, False, "linearize")[1]
    if _state.trace is not None:            # primals may be traced: nothing to fold
        return out, slow
    flat_p, p_tree = tree_flatten(list(primals))
    if not all(dtype_of(p).kind in "fc" for p in flat_p):
        return out, slow
    zeros = tree_unflatten(p_tree, [np.zeros(shape_of(p), dtype_of(p)) for p in flat_p])
    staged = Staged(slow, "linearize", maxsize=8, own_outputs=True, live=False)
    graph, _ = staged.trace(tuple(zeros))

    def f_jvp(*tangents):
        if _state.trace is not None:
            return slow(*tangents)
        return staged(tangents, {})
    f_jvp.graph = graph
    f_jvp.cache_info = staged.cache.info
    return out, f_jvp


def hvp(fun, primals, tangents):
    """Hessian-vector product of scalar ``fun`` (forward-over-reverse).

    ``hvp(f, (x,), (v,))`` returns ``H(x) @ v`` with the structure of ``x``.
    """
    check_callable(fun, "hvp")
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError(f"hvp: primals and tangents must be tuples or lists, e.g. "
                        f"hvp(f, (x,), (v,)), got {type(primals).__name__} and "
                        f"{type(tangents).__name__}")
    if not primals:
        raise ValueError("hvp: no primals: pass the point as a tuple, hvp(f, (x,), (v,))")
    argnums = 0 if len(primals) == 1 else tuple(range(len(primals)))
    # the gradient's value is not returned: it may stay unevaluated (lazy_outputs)
    return _jvp(_grad(fun, argnums, False, False, "hvp"), tuple(primals), tuple(tangents),
                False, "hvp", lazy_outputs=True)[1]


# ------------------------------------------------------------------ Jacobians

def _basis(flat):
    """Rows of the identity, split into one pytree leaf-list per basis vector. A single
    vector leaf's basis is the identity matrix itself (``_identity``)."""
    sizes = [size_of(shape_of(x)) for x in flat]
    n = sum(sizes)
    dtype = np.result_type(*[dtype_of(x) for x in flat]) if flat else np.float64
    eye = np.eye(n, dtype=dtype)
    out, start = [], 0
    for x, s in zip(flat, sizes):
        out.append(eye[:, start:start + s].reshape((n,) + shape_of(x))
                   .astype(dtype_of(x), copy=False))
        start += s
    return out, n


def _identity(flat):
    """The positions of ``_basis(flat)`` that are an identity matrix (vmap's ``basis``:
    rules may use its known structure, ``Primitive.batch_diagonal``)."""
    return (0,) if len(flat) == 1 and len(shape_of(flat[0])) == 1 else ()


def _owned(results):
    """Jacobian columns (rows) from ``vmap_flat`` as arrays of their own: a linear
    pass-through hands the same basis to two outputs (``a -> (a, a)``), and writing into
    one Jacobian block must never change another. (A product with the basis copies its
    other factor itself: ``MatMul.batch_diagonal``.)"""
    out, seen = [], []
    for r in results:
        if type(r) is np.ndarray:
            if any(np.may_share_memory(r, s) for s in seen):
                r = r.copy()
            seen.append(r)
        out.append(r)
    return out


def _jac_tree(blocks, out_tree, in_tree, single):
    """Arrange Jacobian blocks ``blocks[i][j]`` (out leaf i, in leaf j) as JAX does:
    the output pytree whose leaves are input pytrees."""
    rows = []
    for row in blocks:
        inner = tree_unflatten(in_tree, row)
        rows.append(inner[0] if single else tuple(inner))
    return tree_unflatten(out_tree, rows)


def jacfwd(fun, argnums=0, has_aux=False, holomorphic=False):
    """Jacobian of ``fun`` by forward mode (one jvp per input element).

    Efficient for "tall" Jacobians (few inputs, many outputs). The result for an
    output of shape ``S`` and an input of shape ``T`` has shape ``S + T``; with
    pytrees, the output pytree holds input pytrees (as in JAX).
    """
    return _jacfwd(fun, _made(fun, argnums, "jacfwd"), has_aux, holomorphic)


def _jacfwd(fun, argnums, has_aux, holomorphic, rev_dtypes=False):
    """jacfwd; ``rev_dtypes``: each block in its input's dtype, as jacrev gives it
    (``jacobian`` is jacrev's result whichever mode computes it)."""
    def jac_f(*args, **kwargs):
        if kwargs:              # keyword arguments are held fixed, as grad's (and JAX's)
            return _jacfwd(functools.partial(fun, **kwargs), argnums, has_aux,
                           holomorphic, rev_dtypes)(*args)
        single, flat_fun, flat, in_tree, store = _prepare(fun, args, argnums, has_aux,
                                                          holomorphic, "jacfwd")
        real_inputs(flat, holomorphic, "jacfwd")
        basis, n = _basis(flat)
        primal_out = {}

        def push(*ts):      # one jvp; vmap pushes the whole basis at once
            outs, t_outs = jvp_flat(flat_fun, flat, list(ts))
            primal_out["outs"] = outs
            return [_zeros_like(o) if type(t) is Zero else _tangent_like(t, o)
                    for o, t in zip(outs, t_outs)]
        cols = _owned(vmap_flat(push, basis, [0] * len(basis), n,   # each (n,) + out.shape
                                basis=_identity(flat)))
        outs = primal_out["outs"]      # (only their shapes are used)
        blocks = []
        for o, stacked in zip(outs, cols):
            row, start = [], 0
            for x in flat:
                s = size_of(shape_of(x))
                block = _to_front_last(stacked[start:start + s], shape_of(x), shape_of(o))
                if rev_dtypes and dtype_of(block) != dtype_of(x):
                    block = _tangent_like(block, x)
                row.append(block)
                start += s
            blocks.append(row)
        return _with_aux(_jac_tree(blocks, store["out_tree"], in_tree, single), store,
                         has_aux)
    return jac_f




def jacrev(fun, argnums=0, has_aux=False, holomorphic=False):
    """Jacobian of ``fun`` by reverse mode (one vjp per output element).

    Efficient for "wide" Jacobians (many inputs, few outputs). Layout as
    :func:`jacfwd`.
    """
    argnums = _made(fun, argnums, "jacrev")

    def jac_f(*args, **kwargs):
        if kwargs:              # keyword arguments are held fixed, as grad's (and JAX's)
            return jacrev(functools.partial(fun, **kwargs), argnums, has_aux,
                          holomorphic)(*args)
        single, flat_fun, flat, in_tree, store = _prepare(fun, args, argnums, has_aux,
                                                          holomorphic, "jacrev")
        outs, backward = vjp_flat(flat_fun, flat)
        return _jacrev_from(outs, backward, single, flat, in_tree, store, has_aux,
                            holomorphic)
    return jac_f


def _jacrev_from(outs, backward, single, flat, in_tree, store, has_aux, holomorphic):
    """The Jacobian from a recorded forward pass (``vjp_flat``'s outputs and backward)."""
    for o in outs:
        kind = dtype_of(o).kind
        if kind == "c" and not holomorphic:
            raise TypeError("jacrev requires real-valued outputs; for holomorphic "
                            "functions pass holomorphic=True")
        if kind not in "fc":
            raise TypeError(f"jacrev requires float outputs, but an output has dtype "
                            f"{dtype_of(o)} (integer and boolean values have no "
                            f"derivative; use jacfwd, or cast the output to float)")
    basis, m = _basis(outs)

    def pull(*cts):     # one vjp; vmap pulls the whole output basis back at once
        return _fill(backward(list(cts)), flat)
    rows = _owned(vmap_flat(pull, basis, [0] * len(basis), m,      # each (m,) + in.shape
                            basis=_identity(outs)))
    blocks = []
    start = 0
    for o in outs:
        s = size_of(shape_of(o))
        blocks.append([reshape(r[start:start + s], shape_of(o) + shape_of(x))
                       for r, x in zip(rows, flat)])
        start += s
    return _with_aux(_jac_tree(blocks, store["out_tree"], in_tree, single), store, has_aux)


def _to_front_last(part, in_shape, out_shape):
    """(prod(in_shape),) + out_shape  ->  out_shape + in_shape."""
    nin = len(in_shape)
    part = reshape(part, in_shape + out_shape)
    nout = len(out_shape)
    if nin and nout:
        part = moveaxis(part, tuple(range(nin)), tuple(range(nout, nout + nin)))
    return part


def jacobian(fun, argnums=0, has_aux=False, holomorphic=False):
    """Jacobian of ``fun``, by forward or reverse mode, whichever is cheaper.

    The seed-000 lesson: a Jacobian of an R^n -> R^m function costs about n jvps in
    forward mode and m vjps in reverse mode, so chainrule evaluates ``fun`` once to
    learn m and then uses :func:`jacfwd` when n <= m ("tall" Jacobians) and
    :func:`jacrev` otherwise ("wide" ones, such as gradients of losses). The layout
    is the same as :func:`jacfwd` / :func:`jacrev`.
    """
    argnums = _made(fun, argnums, "jacobian")

    def jac_f(*args, **kwargs):
        if kwargs:              # keyword arguments are held fixed, as grad's (and JAX's)
            return jacobian(functools.partial(fun, **kwargs), argnums, has_aux,
                            holomorphic)(*args)
        single, flat_fun, flat, in_tree, store = _prepare(fun, args, argnums, has_aux,
                                                          holomorphic, "jacobian")
        outs, backward = vjp_flat(flat_fun, flat)    # evaluated once: reused if wide
        n_in = sum(size_of(shape_of(x)) for x in flat)
        complex_in = not holomorphic and any(dtype_of(x).kind == "c" for x in flat)
        if n_in <= sum(size_of(shape_of(o)) for o in outs) and not complex_in:
            return _jacfwd(fun, argnums, has_aux, holomorphic, rev_dtypes=True)(*args)
        return _jacrev_from(outs, backward, single, flat, in_tree, store, has_aux,
                            holomorphic)
    return jac_f


def hessian(fun, argnums=0, has_aux=False, holomorphic=False):
    """Hessian of scalar ``fun``: ``jacfwd(jacrev(fun))`` (forward-over-reverse)."""
    argnums = _made(fun, argnums, "hessian")
    hess = jacfwd(jacrev(fun, argnums, has_aux, holomorphic), argnums, has_aux, holomorphic)

    @functools.wraps(fun)
    def hessian_f(*args, **kwargs):
        if kwargs:              # keyword arguments are held fixed, as grad's (and JAX's)
            return hessian(functools.partial(fun, **kwargs), argnums, has_aux,
                           holomorphic)(*args)
        _, nums = argnums_tuple(argnums, len(args), "hessian")   # errors name hessian
        for i in nums:
            if args[i] is None:
                raise TypeError(f"hessian: argument {i} is None: there is nothing to "
                                f"differentiate with respect to")
            check_diff_input(args[i], "hessian", holomorphic, i)
        real_inputs(tree_flatten([args[i] for i in nums])[0], holomorphic, "hessian")
        return hess(*args)
    return hessian_f


# ------------------------------------------------------------------ vmap

def vmap(fun, in_axes=0, out_axes=0, axis_size=None):
    """Vectorise ``fun`` over a batch axis of its arguments (JAX's ``vmap``).

    Parameters
    ----------
    fun : callable
        Function of pytrees of arrays.
    in_axes : int, None, or a tuple/pytree prefix of the positional arguments
        Which axis of each argument is mapped (negative axes count from the end;
        None: broadcast the argument to every example). Keyword arguments are
        mapped along axis 0.
    out_axes : int, None, or a pytree prefix of the output
        Where the batch axis goes in each output.
    axis_size : int, optional
        The batch size when no argument is mapped.

    Returns
    -------
    callable
        Computes the outputs of ``fun`` for every example at once; each primitive
        runs once on the whole batch (no Python loop).
    """
    check_callable(fun, "vmap")
    check_vmap_axes(in_axes, out_axes, axis_size)

    @functools.wraps(fun)
    def vmapped(*args, **kwargs):
        flat, in_tree, dims, size = mapped_axes(args, kwargs, in_axes, axis_size)
        flat = [x if d is None or isinstance(x, Tracer) or type(x) is np.ndarray or
                backend.is_foreign(x) else np.asarray(x) for x, d in zip(flat, dims)]
        store = {}

        guard = backend.no_compute(flat)

        def flat_fun(*xs):
            a, kw = tree_unflatten(in_tree, xs)
            out = backend.call_user(guard, fun, *a, **kw)
            out_flat, store["out_tree"] = tree_flatten(out)
            store["outs"] = out_flat
            return out_flat

        def out_dims():
            out = tree_unflatten(store["out_tree"], [0] * store["out_tree"].num_leaves)
            try:
                dims = broadcast_prefix(out_axes, out, is_leaf=lambda x: x is None)
            except ValueError as e:
                raise ValueError(f"vmap out_axes {out_axes!r} does not match the "
                                 f"structure of the output: {e}") from None
            for i, (o, d) in enumerate(zip(store["outs"], dims)):
                nd = len(shape_of(o)) + 1       # the output's rank with its batch axis
                if d is not None and not -nd <= d < nd:
                    raise ValueError(f"vmap out_axes={out_axes!r}: output {i} has "
                                     f"per-example shape {shape_of(o)}, so its batch axis "
                                     f"can go at positions {-nd} to {nd - 1}, not {d}")
            return dims
        outs = vmap_flat(flat_fun, flat, dims, size, out_dims)
        return tree_unflatten(store["out_tree"], outs)
    return vmapped

