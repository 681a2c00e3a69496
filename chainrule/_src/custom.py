"""Custom rules and rematerialisation: ``custom_jvp``, ``custom_vjp``, ``checkpoint``
(``remat``) and ``stop_gradient``. Like the transformations in ``api.py``, these handle
pytrees and argument errors here and hand the interpreters flat lists of values (the
higher-order primitives of ``prims/control.py``)."""
import functools

from .core import Tracer, Zero, _state, shape_of, dtype_of, LeakedTracerError
from .tree_util import tree_flatten, tree_unflatten, tree_map
from .interpreters.reverse import ReverseTrace
from .prims.control import custom_jvp_call_p, custom_vjp_call_p, stop_gradient_p
from .argcheck import check_callable, index_tuple, static_argnums_tuple, static_positions

__all__ = ["stop_gradient", "custom_jvp", "custom_vjp", "checkpoint", "remat"]


# ------------------------------------------------------------------ stop_gradient

def stop_gradient(x):
    """Return ``x`` unchanged, but treat it as a constant for differentiation.

    Works on pytrees.
    """
    return tree_map(lambda v: stop_gradient_p.bind(v) if isinstance(v, Tracer)
                    else v, x)


# ------------------------------------------------------------------ custom rules

class custom_jvp:
    """A function with a user-defined forward-mode derivative (JAX's ``custom_jvp``).

    Examples
    --------
    >>> @custom_jvp
    ... def f(x):
    ...     return cnp.log1p(cnp.exp(x))
    >>> @f.defjvp
    ... def f_jvp(primals, tangents):
    ...     (x,), (t,) = primals, tangents
    ...     return f(x), t * (1 - 1 / (1 + cnp.exp(x)))

    Reverse mode (grad) transposes the rule, so one rule serves both modes.
    ``nondiff_argnums`` name arguments that are passed to the rule first, untouched.
    The rule must return ``(primal_out, tangent_out)`` of equal structure, each tangent
    with the shape of its output and a float dtype (complex only for complex outputs):
    anything else raises, naming the function and the output.
    """

    def __init__(self, fun, nondiff_argnums=()):
        check_callable(fun, "custom_jvp")
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.nondiff_argnums = index_tuple(nondiff_argnums, "custom_jvp", "nondiff_argnums",
                                           allow_negative=False)
        self.jvp_rule = None

    def defjvp(self, jvp_rule):
        check_callable(jvp_rule, f"custom_jvp {_name(self.fun)}.defjvp", "jvp_rule")
        self.jvp_rule = jvp_rule
        return jvp_rule

    def defjvps(self, *rules):
        """One rule per argument: ``rule(t_i, ans, *primals)``, summed."""
        for r in rules:
            if r is not None:
                check_callable(r, f"custom_jvp {_name(self.fun)}.defjvps", "each rule")

        def jvp_rule(primals, tangents):
            if len(rules) != len(tangents):
                raise TypeError(f"custom_jvp {_name(self.fun)}.defjvps: {len(rules)} "
                                f"rule(s) for {len(tangents)} differentiable argument(s): "
                                f"give one per argument (None for no derivative)")
            ans = self.fun(*primals)
            out = None
            for r, t in zip(rules, tangents):
                if r is None:
                    continue
                term = r(t, ans, *primals)
                out = term if out is None else out + term
            return ans, out
        self.jvp_rule = jvp_rule

    def __call__(self, *args):
        nd = self.nondiff_argnums
        _check_call("custom_jvp", "JVP", self.fun, self.jvp_rule, nd, args)
        if _state.trace is None:
            return self.fun(*args)
        static = {i: args[i] for i in nd}
        dyn = [a for i, a in enumerate(args) if i not in nd]
        flat, in_tree = tree_flatten(dyn)
        store = {}

        def full(dyn_args):
            it = iter(dyn_args)
            return [static[i] if i in static else next(it) for i in range(len(args))]

        def fun_flat(*xs):
            with _closure_hint("custom_jvp", self.fun, "the function"):
                out = self.fun(*full(tree_unflatten(in_tree, xs)))
            out_flat, store["out_tree"] = tree_flatten(out)
            return out_flat

        def rule_flat(ps, ts):
            p_tree = tree_unflatten(in_tree, ps)
            t_tree = tree_unflatten(in_tree, ts)
            s_args = [static[i] for i in nd]
            with _closure_hint("custom_jvp", self.fun, "its jvp rule"):
                pair = self.jvp_rule(*s_args, tuple(p_tree), tuple(t_tree))
            if not (isinstance(pair, (tuple, list)) and len(pair) == 2):
                raise TypeError(f"custom_jvp function {_name(self.fun)}: the jvp rule must "
                                f"return a pair (primal_out, tangent_out), got "
                                f"{_describe(pair)}")
            out, t_out = pair
            out_flat, store["out_tree"] = tree_flatten(out)
            t_flat, t_tree2 = tree_flatten(t_out)
            if t_tree2 != store["out_tree"]:
                raise TypeError(f"custom_jvp function {_name(self.fun)}: the jvp rule must "
                                f"return (primal_out, tangent_out) of equal structure, got "
                                f"{store['out_tree']} and {t_tree2}")
            _check_rule_outputs(t_flat, out_flat, f"custom_jvp function "
                                f"{_name(self.fun)}: the jvp rule returned a tangent",
                                "output", range(len(out_flat)))
            return out_flat, t_flat
        outs = custom_jvp_call_p.bind(*flat, fun=fun_flat, jvp_rule=rule_flat)
        return tree_unflatten(store["out_tree"], outs)


class _closure_hint:
    """Re-raise a LeakedTracerError from a custom rule with what usually causes it: the
    rule closes over a traced value of the transformation around the function."""
    __slots__ = ("kind", "fun", "rule")

    def __init__(self, kind, fun, rule):
        self.kind, self.fun, self.rule = kind, fun, rule

    def __enter__(self):
        return self

    def __exit__(self, typ, exc, tb):
        if typ is LeakedTracerError and not getattr(exc, "_hinted", False):
            new = LeakedTracerError(
                f"{self.kind} function {_name(self.fun)}: {self.rule} used a traced "
                f"value it was not given, most likely one it closes over from the "
                f"function that calls it (a value computed under grad/jvp/vmap/jit "
                f"there). A custom function and its rules see only their own "
                f"arguments: pass that value "
                f"to {_name(self.fun)} as an argument (its derivative then flows "
                f"through the rule's tangents or cotangents). ({exc})")
            new._hinted = True
            raise new from exc
        return False


def _name(fun):
    return getattr(fun, "__name__", None) or repr(fun)


def _describe(x):
    if isinstance(x, (tuple, list)):
        return f"a {type(x).__name__} of length {len(x)}"
    return f"{type(x).__name__}"


def _check_call(kind, rule_kind, fun, rule, nd, args):
    """What a custom_jvp/custom_vjp call checks first: a rule was defined, and the
    non-differentiable arguments are not traced values."""
    if rule is None:
        raise AttributeError(f"No {rule_kind} defined for {kind} function "
                             f"{fun.__name__} using def{rule_kind.lower()}.")
    if nd:
        _check_nondiff(nd, args, kind, fun)


def _check_nondiff(nd, args, kind, fun):
    """nondiff_argnums must name positions that the call has."""
    if max(nd) >= len(args):
        raise ValueError(f"{kind} function {_name(fun)}: nondiff_argnums={nd} but it was "
                         f"called with {len(args)} positional argument(s)")


def _check_rule_outputs(got, want, what, of, positions):
    """A custom rule's tangents or cotangents ``got`` against the values ``want`` they
    belong to: the same shape, and a float dtype (complex only where ``want`` is
    complex). ``what`` starts the message; ``positions[k]`` names leaf k's ``of``."""
    for c, w, pos in zip(got, want, positions):
        if c is None or type(c) is Zero:
            continue
        wk = dtype_of(w).kind
        if wk not in "fc":
            continue                            # integer values have no derivative
        if shape_of(c) != shape_of(w):
            raise ValueError(f"{what} of shape {shape_of(c)} for {of} {pos} of shape "
                             f"{shape_of(w)}; they must have the same shape")
        ck = dtype_of(c).kind
        if ck != "f" and not (ck == "c" and wk == "c"):
            why = ("a real value's derivative must be real (the imaginary part would be "
                   "dropped)" if ck == "c" else "derivatives of float values must be floats")
            raise TypeError(f"{what} of dtype {dtype_of(c)} for {of} {pos} of dtype "
                            f"{dtype_of(w)}: {why}")


class custom_vjp:
    """A function with a user-defined reverse-mode derivative (JAX's ``custom_vjp``).

    ``f.defvjp(fwd, bwd)``: ``fwd(*args) -> (out, residuals)``,
    ``bwd(*nondiff_args, residuals, ct) -> tuple of cotangents`` (one per
    differentiable argument, each with its argument's structure and shape and a float
    dtype, or None for no derivative); anything else raises, naming the function and
    the argument. ``nondiff_argnums`` name arguments that are Python values (functions,
    shapes, flags): a traced value there raises TypeError, as in JAX; pass arrays as
    ordinary arguments (their cotangent may be None).
    """

    def __init__(self, fun, nondiff_argnums=()):
        check_callable(fun, "custom_vjp")
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.nondiff_argnums = index_tuple(nondiff_argnums, "custom_vjp", "nondiff_argnums",
                                           allow_negative=False)
        self.fwd = self.bwd = None

    def defvjp(self, fwd, bwd):
        check_callable(fwd, f"custom_vjp {_name(self.fun)}.defvjp", "fwd")
        check_callable(bwd, f"custom_vjp {_name(self.fun)}.defvjp", "bwd")
        self.fwd, self.bwd = fwd, bwd

    def __call__(self, *args):
        nd = self.nondiff_argnums
        _check_call("custom_vjp", "VJP", self.fun, self.fwd, nd, args)
        if _state.trace is None:
            return self.fun(*args)
        for i in nd:
            for leaf in tree_flatten(args[i])[0]:
                if isinstance(leaf, Tracer):
                    raise TypeError(
                        f"custom_vjp function {_name(self.fun)}: argument {i} is in "
                        f"nondiff_argnums but received a traced value ({leaf!r}); "
                        f"nondiff_argnums are for Python values (functions, shapes, "
                        f"flags). Pass arrays as ordinary arguments (bwd may return None "
                        f"as their cotangent)")
        static = {i: args[i] for i in nd}
        dyn = [a for i, a in enumerate(args) if i not in nd]
        positions = [i for i in range(len(args)) if i not in static]
        flat, in_tree = tree_flatten(dyn)
        store = {}
        name = _name(self.fun)

        def full(xs):
            it = iter(tree_unflatten(in_tree, xs))
            return [static[i] if i in static else next(it) for i in range(len(args))]

        def fun_flat(*xs):
            with _closure_hint("custom_vjp", self.fun, "the function"):
                out = self.fun(*full(xs))
            out_flat, store["out_tree"] = tree_flatten(out)
            return out_flat

        def fwd_flat(*xs):
            with _closure_hint("custom_vjp", self.fun, "its fwd"):
                pair = self.fwd(*full(xs))
            if not (isinstance(pair, (tuple, list)) and len(pair) == 2):
                raise TypeError(f"custom_vjp function {name}: fwd must return a pair "
                                f"(output, residuals), got {_describe(pair)}")
            out, res = pair
            out_flat, store["out_tree"] = tree_flatten(out)
            return out_flat, res

        def bwd_flat(res, cts):
            ct = tree_unflatten(store["out_tree"], cts)
            with _closure_hint("custom_vjp", self.fun, "its bwd"):
                in_cts = self.bwd(*[static[i] for i in nd], res, ct)
            if not isinstance(in_cts, (tuple, list)):
                raise TypeError(f"custom_vjp function {name}: bwd must return a tuple with "
                                f"one cotangent per differentiable argument, got "
                                f"{_describe(in_cts)}")
            if len(in_cts) != len(dyn):
                raise TypeError(f"custom_vjp function {name}: bwd returned {len(in_cts)} "
                                f"cotangent(s) for {len(dyn)} differentiable argument(s)"
                                + (f" (the arguments in nondiff_argnums={nd} get none)"
                                   if nd else ""))
            flat_cts = []
            for c, d, pos in zip(in_cts, dyn, positions):
                d_leaves, d_tree = tree_flatten(d)
                if c is None:                   # None: no derivative for this argument
                    flat_cts.extend([None] * len(d_leaves))
                    continue
                leaves, tree = tree_flatten(c)
                if tree != d_tree:
                    raise TypeError(f"custom_vjp function {name}: bwd returned a "
                                    f"cotangent of structure {tree} for argument {pos} of "
                                    f"structure {d_tree}")
                _check_rule_outputs(leaves, d_leaves, f"custom_vjp function {name}: bwd "
                                    f"returned a cotangent", "argument", [pos] * len(leaves))
                flat_cts.extend(leaves)
            return flat_cts
        outs = custom_vjp_call_p.bind(*flat, fun=fun_flat, fwd_fn=fwd_flat, bwd_fn=bwd_flat)
        return tree_unflatten(store["out_tree"], outs)


def checkpoint(fun, *, static_argnums=()):
    """Rematerialisation: the tape keeps only ``fun``'s inputs, and its intermediates
    are recomputed during the backward pass (less memory, one more forward pass).

    NumPy's global random generator is saved before the forward run and restored
    around the recomputation, so ``fun`` draws the same ``np.random.*`` numbers both
    times; the generator is then put back, so the caller's stream is unaffected. A
    ``np.random.Generator`` that ``fun`` closes over is not restored: pass its draws
    as arguments.
    """
    check_callable(fun, "checkpoint")
    static_argnums = static_argnums_tuple(fun, static_argnums, "checkpoint")

    @functools.wraps(fun)
    def wrapped(*args):
        if _state.trace is None:
            return fun(*args)
        nums = static_positions(static_argnums, len(args), "checkpoint")
        static = {i: args[i] for i in nums}
        dyn = [a for i, a in enumerate(args) if i not in static]
        flat, in_tree = tree_flatten(dyn)
        store = {}

        def fun_flat(*xs):
            it = iter(tree_unflatten(in_tree, xs))
            full = [static[i] if i in static else next(it) for i in range(len(args))]
            out_flat, store["out_tree"] = tree_flatten(fun(*full))
            return out_flat
        trace = _state.trace
        if type(trace) is ReverseTrace:
            outs = trace.checkpointed(fun_flat, flat)
        else:       # nothing to save memory on: forward mode, vmap and jit run it inline
            outs = fun_flat(*flat)
        return tree_unflatten(store["out_tree"], outs)
    return wrapped


remat = checkpoint
