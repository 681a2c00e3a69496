"""Silent wrong answers found by generated programs over complex numbers and custom
rules (custom_jvp, custom_vjp, checkpoint, stop_gradient): each test failed before
its fix."""
import numpy as np
import pytest
from numpy.testing import assert_allclose

import chainrule as cr
import chainrule.numpy as cnp


def _mul_with_none_cotangent():
    @cr.custom_vjp
    def f(x, y):
        return x * y
    f.defvjp(lambda x, y: (f(x, y), y), lambda y, ct: (ct * y, None))
    return f


def test_grad_of_vmap_of_custom_vjp_whose_bwd_returns_none():
    # bwd's None (no derivative) came back from vmap as an object array of Nones,
    # which the backward pass added as a cotangent: y's gradient was [nan, nan],
    # neither zero nor of y's shape
    f = _mul_with_none_cotangent()
    x = np.array([0.3, -0.7, 1.2])
    xs, ys = np.stack([x, 0.5 * x]), np.stack([x[::-1], 2 * x])
    for run in (lambda g: g, cr.jit):
        gx, gy = run(cr.grad(lambda x, y: cnp.sum(cr.vmap(f)(x, y)), argnums=(0, 1)))(xs, ys)
        assert_allclose(gx, ys)
        assert gy.shape == ys.shape
        assert_allclose(gy, 0.0)
    # an unbatched argument sums its examples' cotangents; None stays no derivative
    gx, gy = cr.grad(lambda x, y: cnp.sum(cr.vmap(f, in_axes=(None, 0))(x, y)),
                     argnums=(0, 1))(x, ys)
    assert_allclose(gx, ys.sum(0))
    assert_allclose(gy, 0.0)
    gy = cr.grad(lambda y: cnp.sum(cr.vmap(f, in_axes=(0, None))(xs, y)))(x)
    assert gy.shape == x.shape
    assert_allclose(gy, 0.0)


def test_grad_of_vmap_of_custom_vjp_with_python_residuals():
    # residuals that are Python values (a shape, an axis, a flag) reached bwd as batched
    # arrays under grad(vmap(f)): the shape became a traced value and bwd raised
    @cr.custom_vjp
    def f(x):
        return cnp.sum(cnp.sin(x), axis=1)
    f.defvjp(lambda x: (f(x), (x, x.shape, 1, "cos")),
             lambda r, ct: (cnp.expand_dims(ct, r[2]) * np.broadcast_to(1.0, r[1])
                            * (cnp.cos(r[0]) if r[3] == "cos" else 0.0),))
    x = np.array([[0.3, 0.7, 1.2], [0.1, 0.2, 0.3]])
    xs = np.stack([x, 2 * x])
    for run in (lambda g: g, cr.jit):
        g = run(cr.grad(lambda xs: cnp.sum(cr.vmap(f)(xs))))(xs)
        assert_allclose(g, np.cos(xs))
    xa = np.moveaxis(xs, 0, 1)
    assert_allclose(cr.grad(lambda xs: cnp.sum(cr.vmap(f, in_axes=1)(xs)))(xa), np.cos(xa))
    assert_allclose(cr.vmap(cr.grad(lambda x: cnp.sum(f(x))))(xs), np.cos(xs))


def test_complex_sign_is_differentiable():
    """np.sign of a complex z is z/|z| (NumPy 2): its derivative was 0 (sign was a
    non-differentiable row). Values are NumPy's bit for bit; grad of a real loss
    matches finite differences (df/dx - i df/dy), jvp too, and vjp is jvp's transpose
    for the pairing Re(u v)."""
    rng = np.random.default_rng(0)
    Z = rng.normal(size=5) + 1j * rng.normal(size=5)
    Z[2] = 0
    W = rng.normal(size=5) + 1j * rng.normal(size=5)
    np.testing.assert_array_equal(cr.jit(cnp.sign)(Z), np.sign(Z))
    np.testing.assert_array_equal(cr.vmap(cnp.sign)(Z), np.sign(Z))
    f_np = lambda z: np.sum(np.real(np.sign(z) * W))                  # noqa: E731
    f_cr = lambda z: cnp.sum(cnp.real(cnp.sign(z) * W))               # noqa: E731
    h = 1e-6
    fd = np.array([(f_np(Z + h * e) - f_np(Z - h * e)) / (2 * h)
                   - 1j * (f_np(Z + 1j * h * e) - f_np(Z - 1j * h * e)) / (2 * h)
                   for e in np.eye(5)])
    g = cr.grad(f_cr)(Z)
    keep = [0, 1, 3, 4]
    np.testing.assert_allclose(g[keep], fd[keep], atol=1e-8)
    assert g[2] == 0                                    # the subgradient at 0
    np.testing.assert_allclose(cr.jit(cr.grad(f_cr))(Z), g, rtol=1e-14)
    t = rng.normal(size=5) + 1j * rng.normal(size=5)
    t[2] = 0
    _, jt = cr.jvp(cnp.sign, (Z,), (t,))
    np.testing.assert_allclose(jt, (np.sign(Z + h * t) - np.sign(Z - h * t)) / (2 * h),
                               atol=1e-8)
    ct = rng.normal(size=5) + 1j * rng.normal(size=5)
    (v,) = cr.vjp(cnp.sign, Z)[1](ct)
    assert np.real(np.sum(v * t)) == pytest.approx(np.real(np.sum(ct * jt)), rel=1e-12)
    # real sign: still piecewise constant
    np.testing.assert_array_equal(cr.grad(lambda x: cnp.sum(cnp.sign(x) * x))(
        np.array([1.0, -2.0, 0.0])), [1.0, -1.0, 0.0])


def test_forward_mode_jacobians_refuse_complex_inputs_without_holomorphic():
    """jacfwd pushed real unit tangents, so with complex inputs it gave the derivative
    along the real axes only (diag(2 Re z) for |z|^2, where jacrev gives diag(2 conj z));
    jacobian chose between them by size and hessian inherited it. jacfwd and hessian now
    raise as JAX does; jacobian uses reverse mode for complex inputs."""
    Z = np.array([1 + 2j, -0.5 + 1j])
    f = lambda z: cnp.abs(z) ** 2                                     # noqa: E731
    with pytest.raises(TypeError, match="jacfwd requires real-valued inputs"):
        cr.jacfwd(f)(Z)
    with pytest.raises(TypeError, match="hessian requires real-valued inputs"):
        cr.hessian(lambda z: cnp.sum(f(z)))(Z)
    np.testing.assert_allclose(cr.jacobian(f)(Z), np.diag(2 * np.conj(Z)))
    np.testing.assert_allclose(cr.jacobian(f)(Z), cr.jacrev(f)(Z))
    np.testing.assert_allclose(cr.jacfwd(lambda z: z ** 2, holomorphic=True)(Z), np.diag(2 * Z))


def test_real_part_cotangent_keeps_infinities():
    """The cotangent of real(z) is ct + 0j, built exactly: ``ct + 0j * ct`` made an
    infinite cotangent nan."""
    z = np.array([1 + 2j, 3 - 1j])
    (ct,) = cr.vjp(cnp.real, z)[1](np.array([np.inf, 1.0]))
    np.testing.assert_array_equal(ct, [np.inf + 0j, 1 + 0j])
    (ct32,) = cr.vjp(cnp.real, z.astype(np.complex64))[1](np.array([1.0, 2.0], np.float32))
    assert ct32.dtype == np.complex64
