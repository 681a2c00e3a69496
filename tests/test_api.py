"""The transformations one by one, against analytic derivatives: grad, value_and_grad,
vjp, jvp, linearize, jacfwd, jacrev, jacobian, hessian, hvp, elementwise_grad and
stop_gradient, with argnums (int, tuple, negative), has_aux and keyword arguments."""
import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from chainrule.tree_util import tree_leaves

from numpy.testing import assert_allclose

X = np.array([0.3, -1.2, 2.0])
W = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])


def f_scalar(x):
    return cnp.sum(cnp.sin(x) * x ** 2)


def df_scalar(x):
    return np.cos(x) * x ** 2 + 2 * x * np.sin(x)


def f_vec(x):
    return cnp.tanh(W @ x)


def jac_vec(x):
    return (1 - np.tanh(W @ x) ** 2)[:, None] * W




def assert_no_tracers(tree):
    from chainrule._src.core import Tracer
    for leaf in tree_leaves(tree):
        assert not isinstance(leaf, Tracer), f"a tracer escaped the transformation: {leaf!r}"


# ------------------------------------------------------------------ grad

def test_grad_matches_analytic():
    assert_allclose(cr.grad(f_scalar)(X), df_scalar(X), rtol=1e-13)


def test_grad_of_python_float_scalar():
    g = cr.grad(lambda x: x ** 3 - 2.0 * x)(1.5)
    assert_allclose(g, 3 * 1.5 ** 2 - 2.0, rtol=1e-14)
    assert np.shape(g) == ()


@pytest.mark.parametrize("index", [None, Ellipsis, ()], ids=["None", "Ellipsis", "empty"])
def test_python_float_argument_indexes_like_a_0d_array(index):
    g = cr.grad(lambda x: cnp.sum(x[index] * 2.0))(1.0)
    assert_allclose(g, 2.0)


def test_grad_result_has_argument_shape_and_dtype():
    x = np.ones((2, 3))
    g = cr.grad(lambda x: cnp.sum(x * x))(x)
    assert isinstance(g, np.ndarray)
    assert g.shape == (2, 3) and g.dtype == np.float64
    assert_allclose(g, 2 * x)


def test_grad_argnums_int():
    f = lambda x, y: cnp.sum(x * y ** 2)
    assert_allclose(cr.grad(f, argnums=1)(X, 2 * X), 2 * X * (2 * X))


def test_grad_argnums_tuple_returns_tuple():
    f = lambda x, y, z: cnp.sum(x * y) + z ** 2
    g = cr.grad(f, argnums=(0, 2))(X, 2 * X, 3.0)
    assert isinstance(g, tuple) and len(g) == 2
    assert_allclose(g[0], 2 * X)
    assert_allclose(g[1], 6.0)


def test_grad_argnums_one_element_tuple_returns_tuple():
    g = cr.grad(lambda x, y: x * y, argnums=(1,))(3.0, 2.0)
    assert isinstance(g, tuple) and len(g) == 1
    assert_allclose(g[0], 3.0)


def test_grad_negative_argnums():
    f = lambda x, y: x * y ** 3
    assert_allclose(cr.grad(f, argnums=-1)(2.0, 3.0), 2.0 * 3 * 9.0)
    g = cr.grad(f, argnums=(-2, -1))(2.0, 3.0)
    assert_allclose(g[0], 27.0)
    assert_allclose(g[1], 54.0)


def test_grad_keyword_arguments_are_passed_through_and_not_differentiated():
    def f(x, scale=1.0, power=2):
        return scale * cnp.sum(x ** power)
    assert_allclose(cr.grad(f)(X, scale=3.0), 6.0 * X)
    assert_allclose(cr.grad(f)(X, power=3, scale=0.5), 1.5 * X ** 2)
    v, g = cr.value_and_grad(f)(X, scale=2.0)
    assert_allclose(v, 2.0 * np.sum(X ** 2))
    assert_allclose(g, 4.0 * X)


def test_grad_has_aux():
    def f(x):
        loss = cnp.sum(x ** 2)
        return loss, {"loss": loss, "double": 2 * x}
    g, aux = cr.grad(f, has_aux=True)(X)
    assert_allclose(g, 2 * X)
    assert_allclose(aux["double"], 2 * X)
    assert_allclose(aux["loss"], np.sum(X ** 2))


def test_grad_has_aux_returns_concrete_values():
    """The aux output is data, not a traced value: it must be usable afterwards."""
    def f(x):
        return cnp.sum(x ** 2), (x * 3.0, cnp.sum(x))
    g, aux = cr.grad(f, has_aux=True)(X)
    assert_no_tracers(aux)
    assert_allclose(np.asarray(aux[0]), 3 * X)


def test_value_and_grad_has_aux_returns_concrete_values():
    (v, aux), g = cr.value_and_grad(lambda x: (cnp.sum(x ** 2), x * 3.0), has_aux=True)(X)
    assert_no_tracers((v, aux))
    assert_allclose(np.asarray(aux), 3 * X)
    assert_allclose(v, np.sum(X ** 2))
    assert_allclose(g, 2 * X)


def test_value_and_grad():
    v, g = cr.value_and_grad(f_scalar)(X)
    assert_allclose(v, np.sum(np.sin(X) * X ** 2), rtol=1e-14)
    assert_allclose(g, df_scalar(X), rtol=1e-13)


def test_value_and_grad_argnums_tuple():
    v, (gx, gy) = cr.value_and_grad(lambda x, y: x * cnp.exp(y), argnums=(0, 1))(2.0, 0.5)
    assert_allclose(v, 2.0 * np.exp(0.5))
    assert_allclose(gx, np.exp(0.5))
    assert_allclose(gy, 2.0 * np.exp(0.5))


@pytest.mark.parametrize("shape", [(1,), (1, 1), (1, 1, 1)])
def test_grad_accepts_single_element_output(shape):
    f = lambda x: cnp.reshape(cnp.sum(x ** 2), shape)
    assert_allclose(cr.grad(f)(X), 2 * X)
    v, g = cr.value_and_grad(f)(X)
    assert np.shape(v) == shape
    assert_allclose(g, 2 * X)


def test_grad_accepts_single_element_output_from_matmul():
    # the common NumPy idiom: a (1, n) @ (n, 1) product
    w = np.array([[1.0, 2.0, 3.0]])
    g = cr.grad(lambda x: w @ cnp.reshape(x, (3, 1)) ** 2)(X)
    assert_allclose(g, 2 * w[0] * X)


def test_grad_of_unused_argument_is_zero_of_right_shape():
    g = cr.grad(lambda x, y: cnp.sum(x), argnums=1)(X, np.ones((2, 2)))
    assert np.shape(g) == (2, 2)
    assert_allclose(g, 0.0)


def test_grad_of_constant_function_is_zero():
    g = cr.grad(lambda x: 1.0)(X)
    assert np.shape(g) == X.shape
    assert_allclose(g, 0.0)


def test_grad_preserves_functools_wraps_name():
    def my_loss(x):
        return x * x
    assert cr.grad(my_loss).__name__ == "my_loss"


# ------------------------------------------------------------------ vjp

def test_vjp_matches_jacobian_transpose():
    out, vjp_fun = cr.vjp(f_vec, X)
    assert_allclose(out, np.tanh(W @ X))
    ct = np.array([1.0, -2.0])
    (g,) = vjp_fun(ct)
    assert_allclose(g, jac_vec(X).T @ ct, rtol=1e-13)


def test_vjp_fun_callable_many_times():
    out, vjp_fun = cr.vjp(f_vec, X)
    J = jac_vec(X)
    for k in range(5):
        ct = np.array([float(k), 1.0 - k])
        assert_allclose(vjp_fun(ct)[0], J.T @ ct, rtol=1e-13)
    # and the first result again, after all that
    assert_allclose(vjp_fun(np.array([1.0, 0.0]))[0], J[0], rtol=1e-13)


def test_vjp_multiple_primals():
    out, vjp_fun = cr.vjp(lambda a, b: a * cnp.sin(b), X, 2 * X)
    ga, gb = vjp_fun(np.ones(3))
    assert_allclose(ga, np.sin(2 * X))
    assert_allclose(gb, X * np.cos(2 * X))


def test_vjp_has_aux_returns_concrete_aux():
    out, vjp_fun, aux = cr.vjp(lambda x: (x * 2.0, cnp.sum(x)), X, has_aux=True)
    assert_allclose(out, 2 * X)
    assert_allclose(vjp_fun(np.ones(3))[0], 2.0)
    assert_no_tracers(aux)
    assert_allclose(np.asarray(aux), np.sum(X))


def test_vjp_returns_tuple_even_for_one_primal():
    _, vjp_fun = cr.vjp(cnp.sin, 0.5)
    r = vjp_fun(1.0)
    assert isinstance(r, tuple) and len(r) == 1
    assert_allclose(r[0], np.cos(0.5))


# ------------------------------------------------------------------ jvp / linearize

def test_jvp_matches_jacobian():
    v = np.array([1.0, 0.5, -2.0])
    out, t = cr.jvp(f_vec, (X,), (v,))
    assert_allclose(out, np.tanh(W @ X))
    assert_allclose(t, jac_vec(X) @ v, rtol=1e-13)


def test_jvp_multiple_primals_and_lists():
    out, t = cr.jvp(lambda a, b: a * b, [2.0, 3.0], [1.0, 10.0])
    assert_allclose(out, 6.0)
    assert_allclose(t, 3.0 + 20.0)


def test_jvp_has_aux_returns_concrete_aux():
    out, t, aux = cr.jvp(lambda x: (x ** 2, x + 1.0), (3.0,), (1.0,), has_aux=True)
    assert_allclose(out, 9.0)
    assert_allclose(t, 6.0)
    assert_no_tracers(aux)
    assert_allclose(np.asarray(aux), 4.0)


def test_jvp_of_constant_output_gives_zero_tangent():
    out, t = cr.jvp(lambda x: np.ones(2), (X,), (X,))
    assert_allclose(t, np.zeros(2))


def test_linearize():
    out, f_jvp = cr.linearize(f_vec, X)
    assert_allclose(out, np.tanh(W @ X))
    J = jac_vec(X)
    v1, v2 = np.array([1.0, 0, 0]), np.array([0.5, -1.0, 3.0])
    assert_allclose(f_jvp(v1), J @ v1, rtol=1e-13)
    assert_allclose(f_jvp(v2), J @ v2, rtol=1e-13)
    # linear: f_jvp(a v1 + b v2) = a f_jvp(v1) + b f_jvp(v2)
    assert_allclose(f_jvp(2 * v1 - 3 * v2), 2 * f_jvp(v1) - 3 * f_jvp(v2), rtol=1e-12)


# ------------------------------------------------------------------ Jacobians

@pytest.mark.parametrize("jac", [cr.jacfwd, cr.jacrev, cr.jacobian])
def test_jacobian_matches_analytic(jac):
    J = jac(f_vec)(X)
    assert J.shape == (2, 3)
    assert_allclose(J, jac_vec(X), rtol=1e-13)


def test_jacobian_is_reverse_mode_jacobian():
    f = lambda x: cnp.sin(x[:2]) * x[2]
    assert_allclose(cr.jacobian(f)(X), cr.jacrev(f)(X))
    J, aux = cr.jacobian(lambda x: (f(x), 1.0), has_aux=True)(X)
    assert_allclose(J, cr.jacrev(f)(X))


@pytest.mark.parametrize("jac", [cr.jacfwd, cr.jacrev])
def test_jacobian_shape_is_out_shape_plus_in_shape(jac):
    A = np.arange(24.0).reshape(2, 3, 4) / 10
    f = lambda M: cnp.einsum("ijk,kl->ijl", A, M)        # (2, 3, 5) from (4, 5)
    M = np.ones((4, 5))
    J = jac(f)(M)
    assert J.shape == (2, 3, 5, 4, 5)
    # d out[i,j,l] / d M[k,m] = A[i,j,k] * (l == m)
    expected = np.einsum("ijk,lm->ijlkm", A, np.eye(5))
    assert_allclose(J, expected)


@pytest.mark.parametrize("jac", [cr.jacfwd, cr.jacrev])
def test_jacobian_scalar_in_and_scalar_out(jac):
    assert_allclose(jac(cnp.sin)(0.5), np.cos(0.5))
    J = jac(lambda t: cnp.stack([t, t ** 2, t ** 3]))(2.0)
    assert J.shape == (3,)
    assert_allclose(J, [1.0, 4.0, 12.0])
    g = jac(lambda x: cnp.sum(x ** 2))(X)
    assert g.shape == (3,)
    assert_allclose(g, 2 * X)


@pytest.mark.parametrize("jac", [cr.jacfwd, cr.jacrev])
def test_jacobian_argnums_tuple(jac):
    f = lambda a, b: a * b
    Ja, Jb = jac(f, argnums=(0, 1))(X, 3.0)
    assert_allclose(Ja, 3.0 * np.eye(3))
    assert_allclose(Jb, X)


@pytest.mark.parametrize("jac", [cr.jacfwd, cr.jacrev])
def test_jacobian_has_aux(jac):
    J, aux = jac(lambda x: (x ** 2, cnp.sum(x)), has_aux=True)(X)
    assert_allclose(J, np.diag(2 * X))
    assert_no_tracers(aux)
    assert_allclose(np.asarray(aux), np.sum(X))


@pytest.mark.parametrize("jac", [cr.jacfwd, cr.jacrev])
def test_jacobian_float32_stays_float32(jac):
    J = jac(lambda a: cnp.sin(a) * 2.0)(np.ones(2, np.float32))
    assert J.dtype == np.float32


# ------------------------------------------------------------------ hessian / hvp

def f_h(x):
    return cnp.exp(x[0] * x[1]) + cnp.sum(x ** 4) + x[0] * x[2] ** 2


def hess_h(x):
    a, b, c = x
    e = np.exp(a * b)
    H = np.diag(12 * x ** 2)
    H[0, 0] += b * b * e
    H[1, 1] += a * a * e
    H[0, 1] += e + a * b * e
    H[1, 0] = H[0, 1]
    H[0, 2] += 2 * c
    H[2, 0] = H[0, 2]
    H[2, 2] += 2 * a
    return H


def test_hessian_matches_analytic():
    H = cr.hessian(f_h)(X)
    assert H.shape == (3, 3)
    assert_allclose(H, hess_h(X), rtol=1e-12)


def test_hessian_argnums_tuple_layout():
    f = lambda a, b: cnp.sum(a ** 2 * b) + b ** 3
    H = cr.hessian(f, argnums=(0, 1))(X, 2.0)
    (Haa, Hab), (Hba, Hbb) = H
    assert_allclose(Haa, 2 * 2.0 * np.eye(3))
    assert_allclose(Hab, 2 * X)
    assert_allclose(Hba, 2 * X)
    assert_allclose(Hbb, 6 * 2.0)


def test_hessian_has_aux():
    H, aux = cr.hessian(lambda x: (cnp.sum(x ** 3), x * 2.0), has_aux=True)(X)
    assert_allclose(H, np.diag(6 * X))
    assert_no_tracers(aux)
    assert_allclose(np.asarray(aux), 2 * X)


def test_hvp_equals_hessian_times_vector():
    v = np.array([1.0, -0.5, 2.0])
    assert_allclose(cr.hvp(f_h, (X,), (v,)), hess_h(X) @ v, rtol=1e-12)


def test_hvp_two_arguments():
    f = lambda a, b: cnp.sum(a ** 2 * b) + b ** 3
    va, vb = np.array([1.0, 0.0, 2.0]), 0.5
    ha, hb = cr.hvp(f, (X, 2.0), (va, vb))
    assert_allclose(ha, 4.0 * va + 2 * X * vb)
    assert_allclose(hb, np.dot(2 * X, va) + 12.0 * vb)


# ------------------------------------------------------------------ elementwise_grad, stop_gradient

def test_elementwise_grad():
    assert_allclose(cr.elementwise_grad(cnp.tanh)(X), 1 - np.tanh(X) ** 2, rtol=1e-14)


def test_elementwise_grad_argnum_and_kwargs():
    f = lambda a, b, p=2.0: a * b ** p
    assert_allclose(cr.elementwise_grad(f, 1)(X, 2 * X, p=3.0), X * 3 * (2 * X) ** 2)


def test_stop_gradient():
    g = cr.grad(lambda x: cnp.sum(x * cr.stop_gradient(x)))(X)
    assert_allclose(g, X)


def test_stop_gradient_pytree_and_outside_transformations():
    g = cr.grad(lambda x: cnp.sum(cr.stop_gradient({"a": x, "b": [x]})["b"][0] * x ** 2))(X)
    assert_allclose(g, 2 * X * X)
    # outside a transformation it is the identity
    assert cr.stop_gradient(X) is X


def test_stop_gradient_under_forward_mode_and_hessian():
    f = lambda x: cnp.sum(x ** 2 * cr.stop_gradient(x ** 2))
    _, t = cr.jvp(f, (X,), (np.ones(3),))
    assert_allclose(t, np.sum(2 * X * X ** 2))
    assert_allclose(cr.hessian(f)(X), np.diag(2 * X ** 2))


def test_vjp_accepts_python_int_cotangents():
    assert cr.vjp(lambda x: x + 1.0, 3.0)[1](1) == (1.0,)
    (g,) = cr.vjp(lambda x: x * 2.0, np.ones(3))[1](np.array([1, 2, 3]))
    np.testing.assert_array_equal(g, [2.0, 4.0, 6.0])
    assert g.dtype == np.float64


def test_jacobian_of_a_wide_function_runs_it_once():
    calls = []

    def f(x):
        calls.append(1)
        return cnp.stack([cnp.sum(cnp.sin(x)), cnp.sum(x * x)])
    x = np.linspace(0.0, 1.0, 5)
    J = cr.jacobian(f)(x)
    assert len(calls) == 1
    assert_allclose(J, np.stack([np.cos(x), 2 * x]))
