"""Transformations composed with each other: higher-order derivatives against
analytic values, the four Hessian routes agreeing, and no perturbation confusion when
a differentiated function itself differentiates a closure over its argument."""
import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp

from numpy.testing import assert_allclose

X = np.array([0.3, -0.7, 1.1])


def tanh_derivs(x):
    t = np.tanh(x)
    d1 = 1 - t ** 2
    d2 = -2 * t * d1
    d3 = -2 * d1 ** 2 + 4 * t ** 2 * d1
    d4 = 16 * t * d1 ** 2 - 8 * t ** 3 * d1
    return d1, d2, d3, d4


@pytest.mark.parametrize("x", [-1.3, 0.0, 0.5, 2.0])
def test_grad_grad_grad_tanh(x):
    d1, d2, d3, d4 = tanh_derivs(x)
    g = cnp.tanh
    for expected in (d1, d2, d3, d4):
        g = cr.grad(g)
        assert_allclose(g(x), expected, rtol=1e-12, atol=1e-14)


def test_fourth_derivative_by_every_mode_mix():
    x = 0.4
    d4 = tanh_derivs(x)[3]
    fwd = lambda f: (lambda x: cr.jvp(f, (x,), (1.0,))[1])
    for outer in (cr.grad, fwd):
        for inner in (cr.grad, fwd):
            g = outer(inner(outer(inner(cnp.tanh))))
            assert_allclose(g(x), d4, rtol=1e-11)


def f_h(x):
    return cnp.sum(cnp.sin(x) * x ** 2) + x[0] * x[1] * x[2]


def test_four_hessian_routes_agree():
    H = cr.hessian(f_h)(X)
    expected = np.diag(2 * np.sin(X) + 4 * X * np.cos(X) - X ** 2 * np.sin(X))
    expected[0, 1] = expected[1, 0] = X[2]
    expected[0, 2] = expected[2, 0] = X[1]
    expected[1, 2] = expected[2, 1] = X[0]
    assert_allclose(H, expected, rtol=1e-12, atol=1e-14)
    for route in (cr.jacfwd(cr.jacrev(f_h)), cr.jacrev(cr.jacfwd(f_h)),
                  cr.jacrev(cr.jacrev(f_h)), cr.jacfwd(cr.jacfwd(f_h))):
        assert_allclose(route(X), expected, rtol=1e-12, atol=1e-14)


def test_third_order_tensor():
    f = lambda x: cnp.sum(x ** 4) + x[0] * x[1] ** 2
    T = cr.jacfwd(cr.hessian(f))(np.array([1.0, 2.0]))
    assert T.shape == (2, 2, 2)
    expected = np.zeros((2, 2, 2))
    expected[0, 0, 0] = 24 * 1.0
    expected[1, 1, 1] = 24 * 2.0
    expected[0, 1, 1] = expected[1, 0, 1] = expected[1, 1, 0] = 2.0
    assert_allclose(T, expected)
    assert_allclose(cr.jacrev(cr.jacrev(cr.jacrev(f)))(np.array([1.0, 2.0])), expected)


def test_hvp_equals_hessian_times_vector():
    v = np.array([1.0, 2.0, -3.0])
    assert_allclose(cr.hvp(f_h, (X,), (v,)), cr.hessian(f_h)(X) @ v, rtol=1e-12)


def test_jvp_of_grad_is_hvp():
    v = np.array([0.5, 0.0, 1.0])
    _, t = cr.jvp(cr.grad(f_h), (X,), (v,))
    assert_allclose(t, cr.hessian(f_h)(X) @ v, rtol=1e-12)


def test_grad_of_jvp_is_hvp():
    v = np.array([0.5, 0.0, 1.0])
    g = cr.grad(lambda x: cr.jvp(f_h, (x,), (v,))[1])(X)
    assert_allclose(g, cr.hessian(f_h)(X) @ v, rtol=1e-12)


def test_vjp_of_vjp():
    g = lambda x: cnp.sin(x) * x[::-1]
    J = cr.jacrev(g)(X)
    # the vjp of the (linear) map ct -> J^T ct is w -> J w
    pull = lambda ct: cr.vjp(g, X)[1](ct)[0]
    w = np.array([0.5, -1.0, 2.0])
    _, vjp2 = cr.vjp(pull, np.zeros(3))
    assert_allclose(vjp2(w)[0], J @ w, rtol=1e-13)
    # second order: d/dx of <ct, J(x) t>  via vjp of vjp w.r.t. x
    ct = np.array([1.0, 2.0, 3.0])
    pull_x = lambda x: cr.vjp(g, x)[1](ct)[0]
    _, vjp_x = cr.vjp(pull_x, X)
    assert_allclose(vjp_x(w)[0], cr.jacfwd(pull_x)(X).T @ w, rtol=1e-12)


def test_vjp_fun_of_outer_trace_inside_grad():
    # the vjp closure is created inside the differentiated function and called there
    def f(x):
        out, vjp_fun = cr.vjp(cnp.sin, x)
        return cnp.sum(vjp_fun(x)[0])          # sum(cos(x) * x)
    assert_allclose(cr.grad(f)(X), np.cos(X) - X * np.sin(X), rtol=1e-13)


# ------------------------------------------------------------------ perturbation confusion

@pytest.mark.parametrize("x", [-2.0, 0.0, 1.0, 3.5])
def test_no_perturbation_confusion_grad(x):
    # d/dx [ x * d/dy (x + y) ] = d/dx [x * 1] = 1 for any x
    f = lambda x: x * cr.grad(lambda y: x + y)(1.0)
    assert_allclose(cr.grad(f)(x), 1.0)


def test_no_perturbation_confusion_classic():
    assert_allclose(cr.grad(lambda x: cr.grad(lambda y: x * y)(3.0))(2.0), 1.0)


@pytest.mark.parametrize("outer", ["grad", "jvp", "jacfwd", "jacrev"])
@pytest.mark.parametrize("inner", ["grad", "jvp", "jacfwd", "jacrev"])
def test_no_perturbation_confusion_all_mode_pairs(outer, inner):
    def d(f, mode):
        if mode == "grad":
            return cr.grad(f)
        if mode == "jvp":
            return lambda x: cr.jvp(f, (x,), (1.0,))[1]
        return getattr(cr, mode)(f)
    # d/dx [ x * d/dy (x * y)|_{y=3} ] = d/dx [x * x] = 2x
    f = lambda x: x * d(lambda y: x * y, inner)(3.0)
    assert_allclose(d(f, outer)(2.5), 5.0)


def test_no_perturbation_confusion_nested_closure_three_levels():
    # h(x) = x * d/dy [ y * d/dz (x*y*z) ] = x * d/dy [x y^2] = x * 2xy, at y = 2: 4x^2
    def h(x):
        return x * cr.grad(lambda y: y * cr.grad(lambda z: x * y * z)(1.0))(2.0)
    assert_allclose(h(1.5), 4 * 1.5 ** 2)
    assert_allclose(cr.grad(h)(1.5), 8 * 1.5)
    assert_allclose(cr.grad(cr.grad(h))(1.5), 8.0)
    assert_allclose(cr.grad(cr.grad(cr.grad(h)))(1.5), 0.0)


def test_grad_of_function_returning_grad_closure_value():
    # Newton step uses derivatives of derivatives of closures
    def newton_step(a, x):
        f = lambda x: x ** 3 - a
        return x - f(x) / cr.grad(f)(x)
    # d/da of one Newton step at x = 2: d/da [x - (x^3 - a)/(3x^2)] = 1/(3x^2)
    assert_allclose(cr.grad(newton_step)(5.0, 2.0), 1 / 12.0)


def test_checkpoint_under_nesting():
    f = lambda x: cnp.sum(cnp.sin(cnp.cos(x)) * x)
    cf = cr.checkpoint(f)
    assert_allclose(cr.hessian(cf)(X), cr.hessian(f)(X), rtol=1e-12)
    assert_allclose(cr.grad(cr.grad(cr.checkpoint(cnp.sin)))(0.4), -np.sin(0.4))
