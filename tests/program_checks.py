"""The checks a random program goes through (tests/test_aliasing_programs.py,
tests/test_composition_programs.py): values and derivatives under every transformation
against NumPy's values and central finite differences of the NumPy program."""
import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp

H = 1e-6


def _outputs(prog, x):
    with np.errstate(all="ignore"):
        return [np.asarray(o, dtype=np.float64) for o in prog(x.copy())]


def check(p, x, lazy=False, namespace=None, repeat=False):
    """Raise AssertionError (with the program) on any mismatch of program ``p`` at input
    ``x``. ``lazy``: only the eager reverse and forward modes (with the size thresholds
    of pending factors and deferred evaluation at 1, so that every value takes those
    paths). ``repeat``: also call the gradient function three more times (a recurring
    tape's backward pass runs compiled from the second call), and call the compiled
    functions (jit's, the replayed backward pass) at another input, against NumPy's
    values and the eager walk there: compiled code must be right for any input (its
    guards decide when it no longer applies)."""
    seed = p.seed
    prog = p.function(namespace)
    rng = np.random.default_rng(seed + 1)
    ref = _outputs(prog, x)
    weights = [rng.standard_normal(np.shape(o)) for o in ref]
    u = rng.standard_normal(x.shape)
    plus, minus = _outputs(prog, x + H * u), _outputs(prog, x - H * u)
    fd = [(a - b) / (2 * H) for a, b in zip(plus, minus)]
    fd_loss = sum(float(np.sum(w * d)) for w, d in zip(weights, fd))

    def loss_of(outs):
        return sum(cnp.sum(o * w) for o, w in zip(outs, weights))

    def loss(x):
        return loss_of(prog(x))

    def fail(what, got, want):
        raise AssertionError(f"{what} differs for program {seed}:\n{p.source}\n"
                             f"got  {got}\nwant {want}")

    def close_values(what, got):
        for k, (g, r) in enumerate(zip(got, ref)):
            if np.shape(g) != np.shape(r) or not np.allclose(g, r, rtol=1e-12, atol=1e-12):
                fail(f"{what}: output {p.outputs[k]}", g, r)

    tol = 1e-5 * (1 + abs(fd_loss))
    grad_fn = cr.grad(loss)
    g = grad_fn(x)
    if abs(float(np.sum(g * u)) - fd_loss) > tol:
        fail("grad . u", float(np.sum(g * u)), fd_loss)
    if repeat:                  # the recurring tape's compiled backward pass
        for call in range(3):
            gr = grad_fn(x)
            if not np.allclose(gr, g, rtol=1e-9, atol=1e-12):
                fail(f"grad, call {call + 2} (compiled backward pass)", gr, g)
    if lazy:
        vals, pullback = cr.vjp(prog, x)
        close_values("vjp (reverse-mode) value", [np.asarray(v) for v in vals])
        vals, tans = cr.jvp(prog, (x,), (u,))
        for k, (t, d) in enumerate(zip(tans, fd)):
            if not np.allclose(t, d, rtol=1e-5, atol=1e-5):
                fail(f"jvp tangent of {p.outputs[k]}", t, d)
        return None
    jitted = cr.jit(prog)
    close_values("jit value (tracing call)", [np.asarray(o) for o in jitted(x.copy())])
    close_values("jit value (compiled call)", [np.asarray(o) for o in jitted(x.copy())])
    x2 = x + 0.3 * rng.standard_normal(x.shape)
    try:
        ref2 = _outputs(prog, x2)
    except (IndexError, ValueError):    # (a boolean mask's count made the program invalid)
        ref2 = None
    if repeat and ref2 is not None:
        got2 = [np.asarray(o) for o in jitted(x2.copy())]
        for k, (a, b) in enumerate(zip(got2, ref2)):
            if np.shape(a) != np.shape(b) or not np.allclose(a, b, rtol=1e-10, atol=1e-12,
                                                             equal_nan=True):
                fail(f"jit value at another input: output {p.outputs[k]}", a, b)
        # (a boolean-mask read changes shapes: the weights no longer fit)
        if [np.shape(o) for o in ref2] == [np.shape(o) for o in ref]:
            with np.errstate(all="ignore"):
                replayed = grad_fn(x2)
                cr.config.update("replay_backward", False)
                try:
                    walked = cr.grad(loss)(x2)
                finally:
                    cr.config.update("replay_backward", True)
            if not np.allclose(replayed, walked, rtol=1e-9, atol=1e-12, equal_nan=True):
                fail("replayed backward pass at another input", replayed, walked)
    jgrad = cr.jit(cr.grad(loss))
    for call in ("tracing", "compiled"):
        gj = jgrad(x)
        if not np.allclose(gj, g, rtol=1e-9, atol=1e-12):
            fail(f"jit(grad) ({call} call)", gj, g)
    if seed % 5 == 0:           # checkpoint re-runs the program in the backward pass
        gc = cr.grad(lambda x: loss_of(cr.checkpoint(prog)(x)))(x)
        if not np.allclose(gc, g, rtol=1e-9, atol=1e-12):
            fail("grad(checkpoint)", gc, g)
    if seed % 10 == 0:          # second order: forward-over-reverse against differences
        _, hu = cr.jvp(cr.grad(loss), (x,), (u,))
        want = (cr.grad(loss)(x + H * u) - cr.grad(loss)(x - H * u)) / (2 * H)
        if not np.allclose(hu, want, rtol=1e-4, atol=1e-5):
            fail("hessian-vector product", hu, want)
    vals, tans = cr.jvp(prog, (x,), (u,))
    close_values("jvp value", [np.asarray(v) for v in vals])
    for k, (t, d) in enumerate(zip(tans, fd)):
        if not np.allclose(t, d, rtol=1e-5, atol=1e-5):
            fail(f"jvp tangent of {p.outputs[k]}", t, d)
    vals, pullback = cr.vjp(prog, x)
    close_values("vjp (reverse-mode) value", [np.asarray(v) for v in vals])
    (ct,) = pullback(tuple(np.asarray(w) for w in weights))
    if not np.allclose(ct, g, rtol=1e-9, atol=1e-12):
        fail("vjp", ct, g)
    xs = np.stack([x, x + 0.1 * u, x - 0.05 * u])
    if not p.vmappable:     # x[x > 0] has a shape that depends on each example's data
        with pytest.raises((cr.ConcretizationError, NotImplementedError), match="vmap"):
            cr.vmap(prog)(xs)
        return
    try:
        batched = cr.vmap(prog)(xs)
    except NotImplementedError as e:    # a documented refusal, never a wrong value
        assert "made by reshape or ravel under vmap" in str(e), e
        return "refused"
    nested = {"vmap": batched}
    if seed % 5 == 0:           # nested: each level's batch axis is its own
        nested["jit(vmap)"] = cr.jit(cr.vmap(prog))(xs)
        nested["vmap(vmap)"] = [o[0] for o in cr.vmap(cr.vmap(prog))(xs[None])]
    for how, outs in nested.items():
        for k, b in enumerate(outs):
            loop = np.stack([_outputs(prog, xi)[k] for xi in xs])
            if not np.allclose(b, loop, rtol=1e-12, atol=1e-12):
                fail(f"{how} value of {p.outputs[k]}", b, loop)


def fd_grad(f, x, h=1e-6):
    """Central differences of the NumPy program ``f`` at ``x`` (on copies: it may
    write into x)."""
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = h
        g[i] = (f(x + e) - f(x - e)) / (2 * h)
    return g
