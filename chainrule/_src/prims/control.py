"""Higher-order primitives: custom_jvp, custom_vjp, checkpoint, stop_gradient.

They carry user functions in their parameters. Traces that differentiate use the
custom rule; the others evaluate the function (and, for vmap, batch both the
function and its rule, so ``grad(vmap(f))`` keeps the custom rule).
"""
import numpy as np

from ..core import Primitive, NonDiffPrimitive, Zero, instantiate, shape_of, dtype_of
from ..interpreters.reverse import vjp_flat
from ..interpreters.forward import jvp_flat


def _zeros_like(x):
    return np.zeros(shape_of(x), dtype_of(x))


class CustomJVPCall(Primitive):
    """fun(*args) whose derivative is the user's ``jvp_rule(primals, tangents)``.

    Reverse mode transposes the (linear in the tangents) user rule by running it
    under a reverse trace with respect to the tangents.
    """
    multiple_results = True

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


class CustomVJPCall(Primitive):
    """fun(*args) whose reverse-mode derivative is given by the user's fwd/bwd pair."""
    multiple_results = True

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

    def jvp(self, primals, tangents, **params):
        raise TypeError("can't apply forward-mode autodiff (jvp, jacfwd, hessian) to a "
                        "custom_vjp function; define it with custom_jvp instead")


class Checkpoint(Primitive):
    """fun(*args) whose intermediates are recomputed in the backward pass."""
    multiple_results = True

    def impl(self, *args, fun):
        return fun(*args)

    def fwd(self, *args, fun):
        outs = list(fun(*args))
        return outs, (outs, list(args))

    def vjp(self, ct, res, args, needs, *, fun):
        _, back = vjp_flat(fun, res[1])
        return back(ct)

    def jvp(self, primals, tangents, *, fun):
        return jvp_flat(fun, list(primals), list(tangents))


class StopGradient(NonDiffPrimitive):
    def impl(self, x):
        return x

    def batch(self, args, dims):
        return args[0], dims[0]

    def cost(self, args, ans):
        return 0


custom_jvp_call_p = CustomJVPCall("custom_jvp_call")
custom_vjp_call_p = CustomVJPCall("custom_vjp_call")
checkpoint_p = Checkpoint("checkpoint")
stop_gradient_p = StopGradient("stop_gradient")
