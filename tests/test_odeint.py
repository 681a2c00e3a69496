"""chainrule.scipy.integrate.odeint beyond the op database: derivatives against the
analytic solution of y' = -k y, against JAX's odeint on the same problem, a traced
value closed over (raises), SciPy's options and refusals, and the module fallback."""
import numpy as np
import pytest
import scipy.integrate as si

import chainrule as cr
import chainrule.numpy as cnp
import chainrule.scipy.integrate as cig

TOL = dict(rtol=1e-12, atol=1e-12)


def decay(y, t, k):
    return -k * y


def test_value_is_scipys_outside_and_inside_transformations():
    t = np.linspace(0, 2, 5)
    want = si.odeint(decay, np.array([1.0, 2.0]), t, args=(0.7,))
    got = cig.odeint(decay, np.array([1.0, 2.0]), t, args=(0.7,))
    assert type(got) is np.ndarray
    np.testing.assert_array_equal(got, want)
    out, _ = cr.vjp(lambda y0: cig.odeint(decay, y0, t, args=(0.7,)), np.array([1.0, 2.0]))
    np.testing.assert_array_equal(out, want)


def test_derivatives_match_the_analytic_solution():
    # y(t) = y0 exp(-k (t - t0)): d/dy0, d/dk, d/dt_i and d/dt0 in both modes
    def final(y0, t, k):
        return cig.odeint(decay, y0, t, args=(k,), **TOL)[-1, 0]
    y0, k, t = 1.5, 0.8, np.array([0.2, 0.7, 1.3])
    e = np.exp(-k * (t[-1] - t[0]))
    want = (e, np.array([k * y0 * e, 0.0, -k * y0 * e]), -(t[-1] - t[0]) * y0 * e)
    got = cr.grad(final, argnums=(0, 1, 2))(y0, t, k)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-8, atol=1e-10)
    fwd = cr.jacfwd(final, argnums=(0, 1, 2))(y0, t, k)
    for g, w in zip(fwd, want):
        np.testing.assert_allclose(g, w, rtol=1e-8, atol=1e-10)
    # second order: d2/dk2 = (t - t0)^2 y0 e
    h = cr.grad(cr.grad(final, argnums=2), argnums=2)(y0, t, k)
    np.testing.assert_allclose(h, (t[-1] - t[0]) ** 2 * y0 * e, rtol=1e-7)
    h = cr.jacfwd(cr.grad(final, argnums=2), argnums=2)(y0, t, k)
    np.testing.assert_allclose(h, (t[-1] - t[0]) ** 2 * y0 * e, rtol=1e-7)


def test_gradient_agrees_with_jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    from jax.experimental.ode import odeint as jodeint
    import jax.numpy as jnp

    def fj(y, t, a):
        return jnp.stack([y[1], -a * jnp.sin(y[0])])

    def fc(y, t, a):
        return cnp.stack([y[1], -a * cnp.sin(y[0])])
    y0, t, a = np.array([1.0, 0.0]), np.linspace(0.0, 2.0, 4), 1.7

    def lj(y0, t, a):
        return jnp.sum(jodeint(fj, y0, t, a, rtol=1e-12, atol=1e-12) ** 2)

    def lc(y0, t, a):
        return cnp.sum(cig.odeint(fc, y0, t, args=(a,), **TOL) ** 2)
    want = jax.grad(lj, argnums=(0, 1, 2))(y0, t, a)
    got = cr.grad(lc, argnums=(0, 1, 2))(y0, t, a)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, np.asarray(w), rtol=1e-7, atol=1e-9)


def test_closing_over_a_traced_value_raises():
    with pytest.raises(cr.LeakedTracerError, match="through args="):
        cr.grad(lambda k: cig.odeint(lambda y, t: -k * y, 1.0, np.array([0.0, 1.0]))[1, 0])(2.0)


def test_vmap_and_jit():
    t = np.linspace(0, 1, 3)
    f = cr.jit(lambda y0, k: cig.odeint(decay, y0, t, args=(k,), **TOL))
    ks = np.array([0.5, 1.0, 2.0])
    got = cr.vmap(f, in_axes=(None, 0))(np.array([1.0]), ks)
    want = np.stack([si.odeint(decay, [1.0], t, args=(k,), **TOL) for k in ks])
    np.testing.assert_array_equal(got, want)
    g = cr.vmap(cr.grad(lambda k: f(np.array([1.0]), k)[-1, 0]))(ks)
    np.testing.assert_allclose(g, -t[-1] * np.exp(-ks * t[-1]), rtol=1e-8)


def test_options_and_refusals():
    t = np.linspace(0, 1, 3)
    # tfirst, Dfun (used for the values), list-valued func outputs
    got = cr.jacrev(lambda y0: cig.odeint(lambda s, y: [-y[0], y[0] - y[1]], y0, t,
                                          tfirst=True, Dfun=lambda s, y: np.array(
                                              [[-1.0, 0.0], [1.0, -1.0]]), **TOL))(
        np.array([1.0, 0.5]))
    assert got.shape == (3, 2, 2)
    np.testing.assert_allclose(got[-1, 0, 0], np.exp(-1.0), rtol=1e-9)
    with pytest.raises(NotImplementedError, match="full_output"):
        cr.grad(lambda y0: cig.odeint(decay, y0, t, args=(1.0,), full_output=True)[0][-1])(1.0)
    with pytest.raises(ValueError, match="one-dimensional"):
        cr.grad(lambda y0: cig.odeint(decay, y0, t, args=(1.0,)).sum())(np.ones((2, 2)))


def test_module_falls_back_to_scipy():
    assert cig.solve_ivp is si.solve_ivp
    assert "odeint" in dir(cig) or cig.odeint is not si.odeint
