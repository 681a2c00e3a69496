"""Complex numbers, with JAX's conventions: grad of a C->R function is
df/dx - i df/dy (so grad(|z|^2) = 2 conj(z)); holomorphic=True for C->C functions;
jvp pushes complex tangents; real-input functions with complex intermediates give
real gradients."""
import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp

from numpy.testing import assert_allclose

Z = np.array([1.0 + 2.0j, -0.5 + 0.25j, 3.0 - 1.0j])


def test_grad_abs_squared():
    g = cr.grad(lambda z: cnp.abs(z) ** 2)(3.0 + 4.0j)
    assert_allclose(g, 6.0 - 8.0j)


def test_grad_abs_squared_via_conj():
    g = cr.grad(lambda z: cnp.real(z * cnp.conj(z)))(3.0 + 4.0j)
    assert_allclose(g, 6.0 - 8.0j)


def test_grad_abs():
    assert_allclose(cr.grad(abs)(3.0 + 4.0j), 0.6 - 0.8j)
    assert_allclose(cr.grad(cnp.abs)(3.0 + 4.0j), 0.6 - 0.8j)


def test_grad_vector_complex_input():
    g = cr.grad(lambda z: cnp.sum(cnp.abs(z) ** 2))(Z)
    assert g.dtype == np.complex128
    assert_allclose(g, 2 * np.conj(Z))


def test_grad_real_and_imag_parts():
    # f = Re z: df/dx = 1, df/dy = 0 -> 1;  f = Im z: -> -i (JAX's convention)
    assert_allclose(cr.grad(cnp.real)(1.0 + 1.0j), 1.0)
    assert_allclose(cr.grad(cnp.imag)(1.0 + 1.0j), -1.0j)
    assert_allclose(cr.grad(lambda z: z.imag)(1.0 + 1.0j), -1.0j)


def test_grad_real_part_of_holomorphic_is_derivative():
    # for holomorphic g, grad Re g(z) = g'(z) in JAX's convention
    z = 1.0 + 2.0j
    assert_allclose(cr.grad(lambda z: cnp.real(cnp.exp(z)))(z), np.exp(z))
    assert_allclose(cr.grad(lambda z: (z * z).real)(z), 2 * z)


@pytest.mark.parametrize("z", [1.0 + 2.0j, -3.0 + 0.5j])
def test_holomorphic_grad_of_square(z):
    assert_allclose(cr.grad(lambda z: z ** 2, holomorphic=True)(z), 2 * z)


def test_holomorphic_grad_of_functions():
    z = 0.3 + 0.7j
    assert_allclose(cr.grad(cnp.exp, holomorphic=True)(z), np.exp(z))
    assert_allclose(cr.grad(cnp.sin, holomorphic=True)(z), np.cos(z))
    assert_allclose(cr.grad(lambda z: 1.0 / z, holomorphic=True)(z), -1.0 / z ** 2)
    assert_allclose(cr.grad(cnp.log, holomorphic=True)(z), 1.0 / z)


def test_holomorphic_second_derivative():
    z = 0.3 + 0.7j
    g2 = cr.grad(cr.grad(lambda z: z ** 3, holomorphic=True), holomorphic=True)
    assert_allclose(g2(z), 6 * z)


@pytest.mark.parametrize("jac", [cr.jacfwd, cr.jacrev])
def test_holomorphic_jacobian(jac):
    J = jac(lambda z: z ** 2, holomorphic=True)(Z)
    assert J.dtype == np.complex128
    assert_allclose(J, np.diag(2 * Z))


def test_holomorphic_hessian():
    H = cr.hessian(lambda z: cnp.sum(z ** 3), holomorphic=True)(Z)
    assert_allclose(H, np.diag(6 * Z))


def test_complex_to_complex_without_holomorphic_raises():
    with pytest.raises(TypeError, match="holomorphic=True"):
        cr.grad(lambda z: z ** 2)(1.0 + 2.0j)
    with pytest.raises(TypeError, match="holomorphic=True"):
        cr.jacrev(lambda z: z ** 2)(Z)


def test_holomorphic_with_real_input_raises():
    with pytest.raises(TypeError, match="complex"):
        cr.grad(lambda z: z ** 2, holomorphic=True)(1.0)


def test_jvp_with_complex_tangents():
    z, t = 1.0 + 2.0j, 1.0j
    out, t_out = cr.jvp(lambda z: z ** 2, (z,), (t,))
    assert_allclose(out, z ** 2)
    assert_allclose(t_out, 2 * z * t)
    out, t_out = cr.jvp(cnp.exp, (Z,), (Z[::-1],))
    assert_allclose(t_out, np.exp(Z) * Z[::-1])


def test_jvp_of_non_holomorphic_function():
    # f(z) = conj(z) * z = |z|^2 is real: its tangent is 2 Re(conj(z) t)
    z, t = 1.0 + 2.0j, 0.5 - 1.0j
    _, t_out = cr.jvp(lambda z: cnp.conj(z) * z, (z,), (t,))
    assert_allclose(t_out, 2 * np.real(np.conj(z) * t), atol=1e-15)


def test_vjp_of_holomorphic_function_is_plain_transpose():
    _, vjp_fun = cr.vjp(lambda z: z ** 2, Z)
    ct = np.array([1.0, 1j, -2.0])
    assert_allclose(vjp_fun(ct)[0], ct * 2 * Z)


def test_real_input_complex_intermediates_gives_real_gradient():
    def f(x):
        w = cnp.exp(1j * x)            # complex intermediate
        return cnp.sum(cnp.real(w * (1 + 2j)))      # cos x - 2 sin x
    x = np.array([0.3, -1.0, 2.5])
    g = cr.grad(f)(x)
    assert g.dtype == np.float64
    assert_allclose(g, -np.sin(x) - 2 * np.cos(x), rtol=1e-13)


def test_real_input_abs_of_complex_intermediate():
    # |x e^{ix}| = |x|
    g = cr.grad(lambda x: cnp.sum(cnp.abs(cnp.exp(1j * x) * x)))(np.array([0.3, -0.5]))
    assert g.dtype == np.float64
    assert_allclose(g, [1.0, -1.0])


def test_real_input_complex_intermediate_jacobians_are_real():
    f = lambda x: cnp.real(cnp.exp(1j * x) * x)        # x cos x
    x = np.array([0.3, 1.2])
    expected = np.diag(np.cos(x) - x * np.sin(x))
    for jac in (cr.jacfwd, cr.jacrev):
        J = jac(f)(x)
        assert J.dtype == np.float64
        assert_allclose(J, expected, atol=1e-15)


def test_real_input_complex_output_jacfwd():
    # jacfwd of an R -> C function is a complex Jacobian (as in JAX)
    J = cr.jacfwd(lambda x: cnp.exp(1j * x))(np.array([0.5, 1.0]))
    assert_allclose(J, np.diag(1j * np.exp(1j * np.array([0.5, 1.0]))))


def test_complex_hessian_of_real_loss_matches_real_parametrisation():
    # L(z) = |z|^4 as a function of (x, y): compare grad with the real 2-vector version
    def L_real(v):
        return (v[0] ** 2 + v[1] ** 2) ** 2
    z = 0.7 - 0.4j
    g = cr.grad(lambda z: cnp.abs(z) ** 4)(z)
    gr = cr.grad(L_real)(np.array([z.real, z.imag]))
    assert_allclose(g, gr[0] - 1j * gr[1], rtol=1e-13)


def test_complex_grad_under_check_grads():
    from chainrule.test_util import check_grads
    check_grads(lambda z: cnp.sum(cnp.abs(cnp.sin(z)) ** 2), (Z,), order=2)
    check_grads(lambda z: z * cnp.exp(z), (Z,), order=2)
