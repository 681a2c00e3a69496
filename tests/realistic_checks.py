"""The checks of a realistic NumPy program (tests/test_hunt_realistic.py and
test_hunt_realistic2.py): ``p`` is a dict with ``f(xp, sp, x, *data)`` (run with numpy/
scipy and with chainrule.numpy/chainrule.scipy), ``make(rng) -> (x, data)`` and ``kink``
(a program with a kink near the point: cruder finite differences). Values against
NumPy's, gradients, jvps and Hessian-vector products against finite differences of the
NumPy program, jacfwd against jacrev, vmap against a loop (``no_vmap``: name ->
the error vmap must raise instead), jit and jit(grad) at a second input of the same
shapes."""
import numpy as np
import pytest
import scipy

import chainrule as cr
import chainrule.numpy as cnp
import chainrule.scipy as csp


def close(a, b, rtol, atol=0.0):
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and np.allclose(a, b, rtol=rtol, atol=atol)


def check_realistic(p, seed, no_vmap=None):
    x, data = p["make"](np.random.default_rng(seed))
    x2, data2 = p["make"](np.random.default_rng(seed + 1000))
    f, kink, name = p["f"], p["kink"], p["name"]

    def fnp(x, *d):
        return np.asarray(f(np, scipy, np.array(x, copy=True), *d))

    def fcr(x, *d):
        return f(cnp, csp, x, *d)

    ref, ref2 = fnp(x, *data), fnp(x2, *data2)
    rng = np.random.default_rng(seed + 7)
    w = rng.standard_normal(ref.shape)
    u, v = rng.standard_normal(x.shape), rng.standard_normal(x.shape)

    def fs_np(x, *d):
        return float(np.sum(w * fnp(x, *d)))

    def fs_cr(x, *d):
        return cnp.sum(w * fcr(x, *d))

    def fd(F, x, u, d):
        if kink:
            h = 1e-6
            return (F(x + h * u, *d) - F(x - h * u, *d)) / (2 * h)
        h = 1e-3
        return (-F(x + 2 * h * u, *d) + 8 * F(x + h * u, *d) - 8 * F(x - h * u, *d)
                + F(x - 2 * h * u, *d)) / (12 * h)

    # values under vjp (eager): NumPy's, to rounding (cho_solve, polyfit, histogram with
    # weights, t.logpdf and abs of a complex NumPy scalar use other NumPy calls)
    out, _ = cr.vjp(lambda x: fcr(x, *data), x)
    assert close(out, ref, 1e-12, 1e-14)
    g = np.asarray(cr.grad(lambda x: fs_cr(x, *data))(x))
    f0 = fs_np(x, *data)
    for dvec in (u, v):
        want = fd(fs_np, x, dvec, data)
        tol = (1e-5 if kink else 1e-6) * (abs(want) + 1e-2 * np.linalg.norm(g) *
                                          np.linalg.norm(dvec)) + 1e-9 * (1 + abs(f0))
        assert abs(float(np.sum(g * dvec)) - want) <= tol, (float(np.sum(g * dvec)), want)
    _, t = cr.jvp(lambda x: fcr(x, *data), (x,), (u,))
    want = fd(fnp, x, u, data)
    assert np.all(np.abs(np.asarray(t) - want) <= (1e-5 if kink else 1e-6) * (
        np.abs(want) + 1e-3 * np.max(np.abs(want), initial=0) + 1e-6 * (1 + np.abs(ref))))
    hv = np.asarray(cr.hvp(lambda x: fs_cr(x, *data), (x,), (v,)))
    gfun = cr.grad(lambda x: fs_cr(x, *data))
    fdg = (np.asarray(gfun(x + 1e-5 * v)) - np.asarray(gfun(x - 1e-5 * v))) / 2e-5
    assert close(hv, fdg, 1e-4, 1e-6 * (1 + np.max(np.abs(fdg))))
    if not kink:
        h = 1e-4
        uhv = (fs_np(x + h * u + h * v, *data) - fs_np(x + h * u - h * v, *data)
               - fs_np(x - h * u + h * v, *data) + fs_np(x - h * u - h * v, *data)) / (4 * h * h)
        got = float(np.sum(u * hv))
        assert abs(got - uhv) <= 1e-4 * (abs(uhv) + 1e-2 * np.linalg.norm(hv) *
                                         np.linalg.norm(u)) + 1e-7 * (1 + abs(f0)), (got, uhv)
    jf = np.asarray(cr.jacfwd(lambda x: fcr(x, *data))(x))
    jr = np.asarray(cr.jacrev(lambda x: fcr(x, *data))(x))
    assert close(jf, jr, 1e-9, 1e-11 * (1 + np.max(np.abs(jr), initial=0)))
    X = np.stack([x, x + 0.1 * u, x - 0.05 * v])
    axes = (0,) + (None,) * len(data)
    if name in (no_vmap or {}):
        with pytest.raises(no_vmap[name]):
            cr.vmap(fcr, in_axes=axes)(X, *data)
    else:
        assert close(cr.vmap(fcr, in_axes=axes)(X, *data),
                      np.stack([fnp(xi, *data) for xi in X]), 1e-11, 1e-13)
        gl = np.stack([np.asarray(cr.grad(fs_cr)(xi, *data)) for xi in X])
        assert close(cr.vmap(cr.grad(fs_cr), in_axes=axes)(X, *data), gl, 1e-9,
                      1e-12 * (1 + np.max(np.abs(gl))))
    jf = cr.jit(fcr)
    a, b, c = (np.asarray(jf(x, *data)), np.asarray(jf(x, *data)),
               np.asarray(jf(x2, *data2)))
    assert close(a, ref, 1e-11, 1e-13) and close(b, ref, 1e-11, 1e-13)
    assert close(c, ref2, 1e-11, 1e-13)
    jg = cr.jit(cr.grad(fs_cr))
    g2 = np.asarray(cr.grad(fs_cr)(x2, *data2))
    for got, want in ((jg(x, *data), g), (jg(x, *data), g), (jg(x2, *data2), g2)):
        assert close(got, want, 1e-9, 1e-12 * (1 + np.max(np.abs(want))))
