"""custom_jvp, custom_vjp and checkpoint: JAX's cookbook examples, the rules used
under every mode and nested, nondiff_argnums, and check_grads catching a wrong rule."""
from functools import partial

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from chainrule.test_util import check_grads

from numpy.testing import assert_allclose


# ------------------------------------------------------------------ custom_jvp: log1pexp

@cr.custom_jvp
def log1pexp(x):
    return cnp.log(1.0 + cnp.exp(x))


@log1pexp.defjvp
def log1pexp_jvp(primals, tangents):
    x, = primals
    x_dot, = tangents
    ans = log1pexp(x)
    ans_dot = (1 - 1 / (1 + cnp.exp(x))) * x_dot
    return ans, ans_dot


def naive_log1pexp(x):
    return cnp.log(1.0 + cnp.exp(x))


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def test_log1pexp_outside_transformations_is_the_function():
    assert_allclose(log1pexp(3.0), np.log1p(np.exp(3.0)))
    assert_allclose(log1pexp(np.array([0.0, 1.0])), np.log1p(np.exp([0.0, 1.0])))


def test_log1pexp_grad_at_100_is_finite():
    assert cr.grad(log1pexp)(100.0) == 1.0
    # in float64 exp overflows at 1000: the naive derivative is inf / inf = nan there
    with np.errstate(all="ignore"):
        assert np.isnan(cr.grad(naive_log1pexp)(1000.0))
        assert cr.grad(log1pexp)(1000.0) == 1.0


def test_log1pexp_jvp_uses_rule():
    out, t = cr.jvp(log1pexp, (100.0,), (2.0,))
    assert_allclose(out, 100.0)
    assert t == 2.0


@pytest.mark.parametrize("x", [-3.0, 0.0, 0.7, 5.0])
def test_custom_jvp_under_reverse_mode_transposes_rule(x):
    assert_allclose(cr.grad(log1pexp)(x), sigmoid(x), rtol=1e-14)
    _, vjp_fun = cr.vjp(log1pexp, np.array([x, 2 * x]))
    assert_allclose(vjp_fun(np.array([1.0, 3.0]))[0], [sigmoid(x), 3 * sigmoid(2 * x)],
                    rtol=1e-12)


def test_custom_jvp_nested_grad():
    x = 0.3
    s = sigmoid(x)
    assert_allclose(cr.grad(cr.grad(log1pexp))(x), s * (1 - s), rtol=1e-13)
    assert_allclose(cr.grad(cr.grad(cr.grad(log1pexp)))(x), s * (1 - s) * (1 - 2 * s),
                    rtol=1e-12)


def test_custom_jvp_hessian_and_jacobians():
    x = np.array([0.3, -1.0, 100.0])
    s = sigmoid(x)
    H = cr.hessian(lambda x: cnp.sum(log1pexp(x)))(x)
    assert_allclose(H, np.diag(s * (1 - s)), atol=1e-15)
    assert_allclose(cr.jacfwd(log1pexp)(x), np.diag(s), rtol=1e-14)
    assert_allclose(cr.jacrev(log1pexp)(x), np.diag(s), rtol=1e-14)


def test_custom_jvp_check_grads():
    check_grads(log1pexp, (np.array([0.3, -1.0, 2.0]),), order=2)


def test_custom_jvp_rule_is_used_not_the_function():
    @cr.custom_jvp
    def f(x):
        return cnp.sin(x)

    f.defjvp(lambda p, t: (f(p[0]), 10.0 * t[0]))        # deliberately not cos
    assert cr.grad(f)(0.5) == 10.0
    assert cr.jvp(f, (0.5,), (1.0,))[1] == 10.0
    assert_allclose(cr.jacrev(f)(np.ones(2)), 10.0 * np.eye(2))


def test_custom_jvp_two_arguments_and_closure_in_rule():
    @cr.custom_jvp
    def f(x, y):
        return x * cnp.sin(y)

    @f.defjvp
    def f_jvp(primals, tangents):
        x, y = primals
        tx, ty = tangents
        return f(x, y), cnp.sin(y) * tx + x * cnp.cos(y) * ty

    gx, gy = cr.grad(f, argnums=(0, 1))(2.0, 0.5)
    assert_allclose(gx, np.sin(0.5))
    assert_allclose(gy, 2.0 * np.cos(0.5))
    # second derivative through the rule
    assert_allclose(cr.grad(cr.grad(f, argnums=1), argnums=1)(2.0, 0.5), -2.0 * np.sin(0.5))
    check_grads(f, (2.0, 0.5), order=2)


def test_custom_jvp_with_pytree_output():
    @cr.custom_jvp
    def f(x):
        return {"s": cnp.sin(x), "c": cnp.cos(x)}

    @f.defjvp
    def f_jvp(primals, tangents):
        x, = primals
        t, = tangents
        return f(x), {"s": cnp.cos(x) * t, "c": -cnp.sin(x) * t}

    g = cr.grad(lambda x: f(x)["s"] + 2 * f(x)["c"])(0.4)
    assert_allclose(g, np.cos(0.4) - 2 * np.sin(0.4))


def test_custom_jvp_nondiff_argnums():
    @partial(cr.custom_jvp, nondiff_argnums=(1,))
    def power(x, n):
        return x ** n

    @power.defjvp
    def power_jvp(n, primals, tangents):
        x, = primals
        t, = tangents
        return power(x, n), n * x ** (n - 1) * t

    assert_allclose(cr.grad(power)(2.0, 3), 12.0)
    assert_allclose(cr.grad(cr.grad(power))(2.0, 3), 12.0)
    assert_allclose(cr.jvp(lambda x: power(x, 4), (2.0,), (1.0,))[1], 32.0)


def test_custom_jvp_nondiff_callable_argument():
    @partial(cr.custom_jvp, nondiff_argnums=(0,))
    def apply(f, x):
        return f(x)

    @apply.defjvp
    def apply_jvp(f, primals, tangents):
        x, = primals
        t, = tangents
        return apply(f, x), 7.0 * t

    assert cr.grad(lambda x: apply(cnp.sin, x))(0.1) == 7.0


def test_custom_jvp_defjvps():
    @cr.custom_jvp
    def f(x, y):
        return cnp.sin(x) * y

    f.defjvps(lambda x_dot, ans, x, y: cnp.cos(x) * x_dot * y,
              lambda y_dot, ans, x, y: cnp.sin(x) * y_dot)
    gx, gy = cr.grad(f, argnums=(0, 1))(0.5, 2.0)
    assert_allclose(gx, 2.0 * np.cos(0.5))
    assert_allclose(gy, np.sin(0.5))




def test_custom_jvp_inside_closure_of_outer_grad():
    # perturbation confusion with custom rules: the rule closes over an outer tracer
    def outer(a):
        @cr.custom_jvp
        def f(x):
            return a * x ** 2

        f.defjvp(lambda p, t: (f(p[0]), 2 * a * p[0] * t[0]))
        return cr.grad(f)(3.0)          # 6a
    assert_allclose(cr.grad(outer)(1.5), 6.0)


# ------------------------------------------------------------------ custom_vjp

def test_custom_vjp_basic_and_called_directly():
    @cr.custom_vjp
    def f(x, y):
        return cnp.sin(x) * y

    def f_fwd(x, y):
        return f(x, y), (cnp.cos(x), cnp.sin(x), y)

    def f_bwd(res, g):
        cos_x, sin_x, y = res
        return (cos_x * g * y, sin_x * g)

    f.defvjp(f_fwd, f_bwd)
    assert_allclose(f(0.5, 2.0), np.sin(0.5) * 2.0)
    gx, gy = cr.grad(f, argnums=(0, 1))(0.5, 2.0)
    assert_allclose(gx, np.cos(0.5) * 2.0)
    assert_allclose(gy, np.sin(0.5))
    # reverse-over-reverse differentiates bwd
    assert_allclose(cr.grad(cr.grad(f))(0.5, 2.0), -np.sin(0.5) * 2.0)
    check_grads(f, (0.5, 2.0), order=2, modes=("rev",))


def test_custom_vjp_rule_is_used_not_the_function():
    @cr.custom_vjp
    def f(x):
        return cnp.sin(x)

    f.defvjp(lambda x: (f(x), None), lambda res, g: (5.0 * g,))
    assert cr.grad(f)(0.3) == 5.0
    assert_allclose(cr.jacrev(f)(np.ones(3)), 5.0 * np.eye(3))


def test_custom_vjp_nondiff_argnums():
    @partial(cr.custom_vjp, nondiff_argnums=(0,))
    def app(f, x):
        return f(x)

    def app_fwd(f, x):
        return f(x), x

    def app_bwd(f, x, g):
        return (3.0 * g * x,)            # deliberately not f'(x)

    app.defvjp(app_fwd, app_bwd)
    assert_allclose(app(cnp.sin, 0.2), np.sin(0.2))
    assert_allclose(cr.grad(lambda x: app(cnp.sin, x))(0.2), 0.6)
    assert_allclose(cr.grad(lambda x: app(cnp.exp, x) * 2.0)(0.5), 3.0)


def test_custom_vjp_nondiff_argnums_non_array_static():
    @partial(cr.custom_vjp, nondiff_argnums=(1,))
    def scale(x, how):
        return x * (2.0 if how == "double" else 3.0)

    scale.defvjp(lambda x, how: (scale(x, how), None),
                 lambda how, res, g: ((2.0 if how == "double" else 3.0) * g,))
    assert cr.grad(scale)(1.0, "double") == 2.0
    assert cr.grad(scale)(1.0, "triple") == 3.0


def test_custom_vjp_forward_mode_is_a_clear_type_error():
    @cr.custom_vjp
    def f(x):
        return cnp.sin(x)

    f.defvjp(lambda x: (f(x), cnp.cos(x)), lambda c, g: (c * g,))
    with pytest.raises(TypeError, match=r"forward-mode.*custom_vjp"):
        cr.jvp(f, (1.0,), (1.0,))
    with pytest.raises(TypeError, match="custom_vjp"):
        cr.jacfwd(f)(np.ones(2))


# The cookbook's clip_gradient example, verbatim (apart from the namespace): bwd returns
# None for the bounds lo and hi.
@cr.custom_vjp
def clip_gradient(lo, hi, x):
    return x            # identity function


def clip_gradient_fwd(lo, hi, x):
    return x, (lo, hi)  # save bounds as residuals


def clip_gradient_bwd(res, g):
    lo, hi = res
    return (None, None, cnp.clip(g, lo, hi))   # None: zero cotangents for lo and hi


clip_gradient.defvjp(clip_gradient_fwd, clip_gradient_bwd)



def test_clip_gradient_cookbook():
    def clip_sin(x):                       # the cookbook's example: clip, then sin
        return cnp.sin(clip_gradient(-0.75, 0.75, x))
    assert_allclose(clip_sin(0.1), np.sin(0.1))
    assert_allclose(cr.grad(clip_sin)(2.0), np.cos(2.0))       # |cos 2| < 0.75: unclipped
    assert_allclose(cr.grad(clip_sin)(0.1), 0.75)              # cos 0.1 > 0.75: clipped
    assert_allclose(cr.grad(clip_sin)(3.0), -0.75)
    # clipping after sin clips the incoming cotangent instead
    f = lambda x: clip_gradient(-0.75, 0.75, cnp.sin(x))       # noqa: E731
    assert_allclose(cr.grad(f)(0.1), 0.75 * np.cos(0.1))


def test_clip_gradient_elementwise():
    g = cr.elementwise_grad(lambda x: 3.0 * clip_gradient(-1.0, 1.0, x))(np.array([0.0, 1.0]))
    assert_allclose(g, [1.0, 1.0])


def test_custom_vjp_none_cotangent_for_pytree_argument():
    @cr.custom_vjp
    def f(params, x):
        return params["w"] * x

    f.defvjp(lambda params, x: (f(params, x), params["w"]),
             lambda w, g: (None, w * g))          # no gradient for params at all
    gp, gx = cr.grad(f, argnums=(0, 1))({"w": 3.0, "b": 1.0}, 2.0)
    assert gp == {"w": 0.0, "b": 0.0}
    assert gx == 3.0


def test_custom_vjp_bwd_wrong_arity_is_an_error():
    @cr.custom_vjp
    def f(x, y):
        return x * y

    f.defvjp(lambda x, y: (f(x, y), (x, y)), lambda res, g: (g * res[1],))
    with pytest.raises((TypeError, ValueError), match="cotangent"):
        cr.grad(f)(1.0, 2.0)


def test_custom_vjp_under_vjp_with_multiple_calls():
    calls = []

    @cr.custom_vjp
    def f(x):
        return x ** 2

    def bwd(x, g):
        calls.append(1)
        return (2 * x * g,)

    f.defvjp(lambda x: (f(x), x), bwd)
    _, vjp_fun = cr.vjp(f, np.array([1.0, 2.0]))
    assert_allclose(vjp_fun(np.ones(2))[0], [2.0, 4.0])
    assert_allclose(vjp_fun(np.array([0.5, 0.5]))[0], [1.0, 2.0])
    assert len(calls) == 2


# ------------------------------------------------------------------ check_grads catches wrong rules

@cr.custom_jvp
def wrong_sin(x):
    return cnp.sin(x)


wrong_sin.defjvp(lambda p, t: (wrong_sin(p[0]), 2.0 * cnp.cos(p[0]) * t[0]))


@pytest.mark.parametrize("modes", [("fwd",), ("rev",)])
def test_check_grads_catches_wrong_custom_jvp(modes):
    with pytest.raises(AssertionError):
        check_grads(wrong_sin, (np.array([0.3, 0.5]),), order=1, modes=modes)


def test_check_grads_catches_wrong_second_order_only():
    # right first derivative, wrong second derivative (rule uses a constant cos(0.3))
    @cr.custom_jvp
    def f(x):
        return cnp.sin(x)

    f.defjvp(lambda p, t: (f(p[0]), cnp.cos(p[0]) * t[0] + 0.0 * p[0] ** 3 * t[0] * 1e3))
    check_grads(f, (np.array([0.3]),), order=2)          # right: passes

    @cr.custom_jvp
    def g(x):
        return cnp.sin(x)

    g.defjvp(lambda p, t: (g(p[0]), cnp.cos(cr.stop_gradient(p[0])) * t[0]))
    check_grads(g, (np.array([0.3]),), order=1)          # first order is right
    with pytest.raises(AssertionError):
        check_grads(g, (np.array([0.3]),), order=2, modes=("fwd",))
    with pytest.raises(AssertionError):
        check_grads(g, (np.array([0.3]),), order=2, modes=("rev",))


def test_check_grads_catches_wrong_custom_vjp():
    @cr.custom_vjp
    def f(x):
        return cnp.sin(x)

    f.defvjp(lambda x: (f(x), x), lambda x, g: (-cnp.cos(x) * g,))
    with pytest.raises(AssertionError):
        check_grads(f, (np.array([0.3, 0.5]),), order=1, modes=("rev",))


def test_check_grads_passes_on_correct_functions():
    check_grads(lambda x: cnp.sin(x) * x ** 2, (np.array([0.3, -0.5]),), order=3)
    check_grads(lambda x, y: cnp.exp(x) @ y, (np.array([0.3, -0.5]), np.ones((2, 3))),
                order=2)
    check_grads(lambda d: {"a": d["x"] * d["y"]}, ({"x": 1.5, "y": -2.0},), order=2)


# ------------------------------------------------------------------ checkpoint

def _g(x):
    return cnp.sum(cnp.sin(cnp.cos(x)) * x) + cnp.sum(cnp.tanh(x) ** 3)


X = np.array([0.3, -0.7, 1.1])


def test_checkpoint_same_gradient():
    assert_allclose(cr.grad(cr.checkpoint(_g))(X), cr.grad(_g)(X), rtol=1e-14)
    assert_allclose(cr.grad(cr.remat(_g))(X), cr.grad(_g)(X), rtol=1e-14)


def test_checkpoint_outside_transformations_is_the_function():
    assert_allclose(cr.checkpoint(_g)(X), _g(X))


def test_checkpoint_nested_and_partial():
    def f(x):
        h = cr.checkpoint(lambda y: cnp.sin(y) * 2.0)(x)
        return cr.checkpoint(lambda z: cnp.sum(cr.checkpoint(_g)(z) * z))(h)

    def f_plain(x):
        return cnp.sum(_g(cnp.sin(x) * 2.0) * cnp.sin(x) * 2.0)

    assert_allclose(cr.grad(f)(X), cr.grad(f_plain)(X), rtol=1e-13)


def test_checkpoint_under_hessian_and_forward_mode():
    assert_allclose(cr.hessian(cr.checkpoint(_g))(X), cr.hessian(_g)(X), rtol=1e-13)
    v = np.array([1.0, 2.0, 3.0])
    assert_allclose(cr.jvp(cr.checkpoint(_g), (X,), (v,))[1], cr.jvp(_g, (X,), (v,))[1],
                    rtol=1e-14)
    assert_allclose(cr.grad(cr.grad(cr.checkpoint(cnp.sin)))(0.4), -np.sin(0.4))


def test_checkpoint_recomputes_in_backward_pass():
    calls = []

    def f(x):
        calls.append(1)
        return cnp.sin(x)

    cr.grad(lambda x: cnp.sum(cr.checkpoint(f)(x)))(X)
    assert len(calls) == 2          # forward pass, and again in the backward pass


def test_checkpoint_closing_over_differentiated_parameters():
    # the standard use: a layer that closes over the parameters being differentiated
    W = np.array([[1.0, 2.0], [0.5, -1.0]])
    x = np.array([0.3, -0.2])

    def loss(W, remat):
        wrap = cr.checkpoint if remat else (lambda f: f)
        h = wrap(lambda h: cnp.tanh(W @ h))(x)          # x is a constant
        h = wrap(lambda h: cnp.tanh(W @ h))(h)          # h is traced
        return cnp.sum(h)

    assert_allclose(cr.grad(loss)(W, True), cr.grad(loss)(W, False), rtol=1e-14)


def test_checkpoint_closing_over_outer_grad_tracer():
    f = lambda a: cnp.sum(cr.checkpoint(lambda x: a * x ** 2)(np.ones(2)))
    assert_allclose(cr.grad(f)(1.5), 2.0)


def test_checkpoint_pytree_and_static_argnums():
    def f(d, n):
        return {"y": d["a"] ** n * d["b"]}

    cf = cr.checkpoint(f, static_argnums=(1,))
    g = cr.grad(lambda d: cf(d, 3)["y"])({"a": 2.0, "b": 5.0})
    assert_allclose(g["a"], 3 * 4.0 * 5.0)
    assert_allclose(g["b"], 8.0)


def test_custom_rules_under_make_graph_and_jit():
    """Staged programs record the function's own operations (they are not
    differentiated further), so graphs count the body once and jit accepts closures
    over its own arguments."""
    @cr.custom_vjp
    def sin2(x):
        return cnp.sin(x) * 2.0
    sin2.defvjp(lambda x: (sin2(x), cnp.cos(x)), lambda c, g: (2.0 * c * g,))
    x = np.linspace(0.1, 1.0, 3)
    for h in (log1pexp, sin2):
        g = cr.make_graph(lambda x: h(x) + 1.0)(x)
        names = [e.prim.name for e in g.eqns]
        assert names[-1] == "add" and not any("custom" in n for n in names), names
        assert_allclose(cr.jit(lambda x: h(x) + 1.0)(x), h(x) + 1.0)
        assert_allclose(cr.jit(cr.grad(lambda x: cnp.sum(h(x))))(x),
                        cr.grad(lambda x: cnp.sum(h(x)))(x))

    def closes_over_argument(x):
        @cr.custom_jvp
        def scale(y):
            return y * x
        scale.defjvp(lambda p, t: (scale(p[0]), t[0] * x))
        return cnp.sum(scale(x))
    assert_allclose(cr.jit(closes_over_argument)(x), np.sum(x * x))


def test_a_custom_function_closing_over_a_traced_value_says_so():
    import pytest
    from chainrule._src.core import LeakedTracerError

    def outer(x):
        y = cnp.sin(x)

        @cr.custom_jvp
        def f(z):
            return z * y

        @f.defjvp
        def f_jvp(p, t):
            return p[0] * y, t[0] * y
        return cnp.sum(f(x))
    with pytest.raises(LeakedTracerError, match="custom_jvp function f: .*pass that value"):
        cr.grad(outer)(np.ones(3))
