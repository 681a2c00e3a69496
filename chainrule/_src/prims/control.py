"""Higher-order primitives: custom_jvp, custom_vjp, and stop_gradient.

They carry user functions in their parameters. Traces that differentiate use the
custom rule; the others evaluate the function (and, for vmap, batch both the
function and its rule, so ``grad(vmap(f))`` keeps the custom rule).
"""
import numpy as np

from ..core import (Primitive, NonDiffPrimitive, Tracer, Zero, instantiate, shape_of,
                   dtype_of)
from ..interpreters.batching import axis_size, vmap_flat
from ..interpreters.reverse import vjp_flat
from ..tree_util import tree_flatten, tree_unflatten
from .shape import moveaxis, reduce_sum


def _zeros_like(x):
    return np.zeros(shape_of(x), dtype_of(x))


def _front(args, dims):
    """Batched arguments with the batch axis first; (values, in_dims, size)."""
    size = axis_size(args, dims)
    vals = [a if d is None else moveaxis(a, d, 0) for a, d in zip(args, dims)]
    return vals, [None if d is None else 0 for d in dims], size


def _array_like(x):
    """A traced value or an array (NumPy's, a scalar of its, Dask's, CuPy's): what vmap
    batches; anything else (a Python number, string, shape) is a constant of the call."""
    return isinstance(x, (Tracer, np.ndarray, np.generic)) or (
        hasattr(x, "shape") and hasattr(x, "dtype"))


class CustomJVPCall(Primitive):
    """fun(*args) whose derivative is the user's ``jvp_rule(primals, tangents)``.

    Reverse mode transposes the (linear in the tangents) user rule by running it
    under a reverse trace with respect to the tangents.
    """
    dispatches = True           # Dask/CuPy arrays too (core.Primitive)
    multiple_results = True
    higher_order = True

    def impl(self, *args, fun, jvp_rule):
        return fun(*args)

    def jvp(self, primals, tangents, *, fun, jvp_rule):
        outs, t_outs = jvp_rule(list(primals), [instantiate(t) for t in tangents])
        return list(outs), list(t_outs)

    def vjp(self, ct, ans, args, needs, *, fun, jvp_rule):
        ct = [instantiate(c) for c in ct]

        def linear(*ts):
            return list(jvp_rule(list(args), list(ts))[1])
        _, back = vjp_flat(linear, [_zeros_like(a) for a in args])
        return back(ct)

    def batch(self, args, dims, *, fun, jvp_rule):
        vals, in_dims, size = _front(args, dims)
        n = len(vals)

        def fun_b(*xs):
            return vmap_flat(fun, list(xs), in_dims, size)

        def rule_b(ps, ts):
            def both(*xs):
                out, t_out = jvp_rule(list(xs[:n]), list(xs[n:]))
                return list(out) + list(t_out)
            res = vmap_flat(both, list(ps) + list(ts), in_dims + in_dims, size)
            half = len(res) // 2
            return res[:half], res[half:]
        outs = self.bind(*vals, fun=fun_b, jvp_rule=rule_b)
        return outs, [0] * len(outs)


class CustomVJPCall(Primitive):
    """fun(*args) whose reverse-mode derivative is given by the user's fwd/bwd pair."""
    dispatches = True           # Dask/CuPy arrays too (core.Primitive)
    multiple_results = True
    higher_order = True

    def impl(self, *args, fun, fwd_fn, bwd_fn):
        return fun(*args)

    def fwd(self, *args, fun, fwd_fn, bwd_fn):
        outs, res = fwd_fn(*args)
        return list(outs), (list(outs), res)

    def vjp(self, ct, res, args, needs, *, fun, fwd_fn, bwd_fn):
        cts = bwd_fn(res[1], [instantiate(c) for c in ct])
        if len(cts) != len(args):
            raise ValueError(f"custom_vjp bwd returned {len(cts)} cotangents for "
                             f"{len(args)} differentiable inputs")
        return list(cts)

    def batch(self, args, dims, *, fun, fwd_fn, bwd_fn):
        vals, in_dims, size = _front(args, dims)
        store = {}

        def fun_b(*xs):
            return vmap_flat(fun, list(xs), in_dims, size)

        def fwd_b(*xs):
            def flat_fwd(*ys):
                outs, res = fwd_fn(*ys)
                res_flat, store["res_tree"] = tree_flatten(res)
                # residuals that are Python values (a shape, an axis, a flag, a string)
                # are the same for every example: handed to bwd as they are, not as
                # batched arrays (an int shape would reach bwd as a traced value)
                store["static"] = {i: r for i, r in enumerate(res_flat)
                                   if not _array_like(r)}
                store["n_out"] = len(outs)
                return list(outs) + [r for i, r in enumerate(res_flat)
                                     if i not in store["static"]]
            r = vmap_flat(flat_fwd, list(xs), in_dims, size)
            return r[:store["n_out"]], r[store["n_out"]:]

        def bwd_b(res, cts):
            def flat_bwd(*ys):
                k = len(res)
                dyn, static = iter(ys[:k]), store["static"]
                res_flat = [static[i] if i in static else next(dyn)
                            for i in range(k + len(static))]
                got = bwd_fn(tree_unflatten(store["res_tree"], res_flat), list(ys[k:]))
                # None (no derivative) is not a value vmap can batch: it would come
                # back as an object array of Nones, which the backward pass would add
                # as a cotangent (NaN, of the batch's shape)
                store["none"] = [c is None for c in got]
                return [c for c in got if c is not None]
            out = iter(vmap_flat(flat_bwd, list(res) + list(cts),
                                 [0] * (len(res) + len(cts)), size))
            # an unbatched input receives the sum of its per-example cotangents
            return [None if none else (next(out) if d is not None
                                       else reduce_sum(next(out), (0,)))
                    for none, d in zip(store["none"], in_dims)]
        outs = self.bind(*vals, fun=fun_b, fwd_fn=fwd_b, bwd_fn=bwd_b)
        return outs, [0] * len(outs)

    def jvp(self, primals, tangents, **params):
        raise TypeError("can't apply forward-mode autodiff (jvp, jacfwd, hessian) to a "
                        "custom_vjp function; define it with custom_jvp instead")


class StopGradient(NonDiffPrimitive):
    dispatches = True           # Dask/CuPy arrays too (core.Primitive)
    def impl(self, x):
        return x

    def batch(self, args, dims):
        return args[0], dims[0]

    def cost(self, args, ans):
        return 0


class NoDerivative(Primitive):
    """The identity on an argument that has no derivative (an integer count or order
    that a function takes as a float: poisson's ``k``, polygamma's ``n``): a constant
    passes, a tangent or cotangent raises ``NotImplementedError`` naming ``what``
    (NumPy's program at a non-integer value is another function, or -inf: a derivative
    there would be a number that finite differences never give)."""
    dispatches = True           # Dask/CuPy arrays too (core.Primitive)

    def impl(self, x, *, what):
        return x

    def _refuse(self, what):
        raise NotImplementedError(
            f"{what} is an integer argument: it has no derivative. Hold it fixed (pass "
            "it as a constant, or chainrule.stop_gradient(...)).")

    def jvp(self, primals, tangents, *, what):
        if type(tangents[0]) is not Zero:
            self._refuse(what)
        return primals[0], tangents[0]

    def vjp(self, ct, ans, args, needs, *, what):
        self._refuse(what)

    def batch(self, args, dims, *, what):
        return self.bind(args[0], what=what), dims[0]

    def cost(self, args, ans, *, what):
        return 0


def no_derivative(x, what):
    """``x``, refusing any derivative with respect to it (:class:`NoDerivative`)."""
    return no_derivative_p.bind(x, what=what)


custom_jvp_call_p = CustomJVPCall("custom_jvp_call")
no_derivative_p = NoDerivative("no_derivative")
custom_vjp_call_p = CustomVJPCall("custom_vjp_call")
stop_gradient_p = StopGradient("stop_gradient")
