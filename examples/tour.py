"""A tour of chainrule: each capability, with printed output.

Run:  python examples/tour.py [--out DIR]      (pictures go to DIR, default ./out)
"""
import argparse
import os
import time

import numpy as np

import chainrule as cr
import chainrule.numpy as cnp


def _best(fn, repeat=20):
    """The fastest of ``repeat`` calls, in seconds."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def section(title):
    print(f"\n=== {title} " + "=" * max(0, 70 - len(title)))


def main(out_dir="out", steps=250):
    os.makedirs(out_dir, exist_ok=True)
    np.set_printoptions(precision=4, suppress=True)
    rng = np.random.default_rng(0)

    section("1. It is NumPy: plain ndarrays out, float64, NumPy's own cost")
    x = np.linspace(-1.0, 1.0, 5)
    y = cnp.tanh(x)
    print("cnp.tanh(x) ->", type(y).__name__, y.dtype, y)

    section("2. grad, value_and_grad, higher derivatives")
    print("grad(tanh)(2.0)              =", cr.grad(cnp.tanh)(2.0))
    print("grad(grad(grad(tanh)))(2.0)  =", cr.grad(cr.grad(cr.grad(cnp.tanh)))(2.0))

    def taylor_cos(x, terms=30):
        ans, term = 0.0, 1.0
        for n in range(terms):
            ans = ans + term
            term = term * (-x * x) / ((2 * n + 1) * (2 * n + 2))
        return ans
    print("grad of a 30-term Taylor cos at 1.0 =", cr.grad(taylor_cos)(1.0),
          " (-sin(1) =", -np.sin(1.0), ")")

    W, b = rng.standard_normal((3, 2)), rng.standard_normal(2)
    inputs = rng.standard_normal((4, 3))
    targets = np.array([1.0, 0.0, 1.0, 1.0])

    def loss(W, b):
        p = 1 / (1 + cnp.exp(-(inputs @ W[:, 0] + b[0])))
        return -cnp.sum(targets * cnp.log(p) + (1 - targets) * cnp.log(1 - p))
    value, (gW, gb) = cr.value_and_grad(loss, argnums=(0, 1))(W, b)
    print("value_and_grad(loss, argnums=(0, 1)): loss =", round(float(value), 6))
    print("  dW[:, 0] =", gW[:, 0], " db =", gb)

    section("3. Jacobians, Hessians, Hessian-vector products")

    def f(x):
        x1, x2, x3 = x
        return cnp.stack([2 * x1 * x2, x3 ** 2])
    x0 = np.array([2.0, 3.0, 2.0])
    print("jacfwd(f)(x0) =\n", cr.jacfwd(f)(x0))
    print("jacrev(f)(x0) equal:", np.allclose(cr.jacfwd(f)(x0), cr.jacrev(f)(x0)))
    _, col = cr.jvp(f, (x0,), (np.array([1.0, 0.0, 0.0]),))
    _, vjp_fun = cr.vjp(f, x0)
    print("one jvp column:", col, " one vjp row:", vjp_fun(np.array([1.0, 0.0]))[0])

    def g(X):
        return cnp.sum(cnp.tanh(X) ** 2)
    X = rng.standard_normal((3, 4))
    V = rng.standard_normal((3, 4))
    H = cr.hessian(g)(X)
    print("hessian shape", H.shape, "; hvp == tensordot(H, V):",
          np.allclose(cr.hvp(g, (X,), (V,)), np.tensordot(H, V, 2)))

    # on large arrays the eager transformations cost a few NumPy passes: scalar factors
    # stay pending, and nothing computes a value no one needs (grad skips the loss)
    X, V = 0.7 * rng.standard_normal((300, 400)), rng.standard_normal((300, 400))

    def by_hand(X, V):
        t = np.tanh(X)
        s = t * t
        return V * (2.0 - 6.0 * s) * (1.0 - s)
    t_cr = _best(lambda: cr.hvp(g, (X,), (V,)))
    t_np = _best(lambda: by_hand(X, V))
    print(f"hvp of sum(tanh(X)**2), X 300x400: {t_cr * 1e3:.2f} ms; the closed form written "
          f"by hand in NumPy: {t_np * 1e3:.2f} ms ({t_cr / t_np:.1f}x)")

    section("4. Pytrees: dicts, tuples, dataclasses")
    params = {"W": W, "b": b}
    grads = cr.grad(lambda p: loss(p["W"], p["b"]))(params)
    print("grad of a dict ->", {k: v.shape for k, v in grads.items()})

    section("5. vmap: per-example gradients in one call")
    Xd = rng.standard_normal((256, 10))
    t = (rng.uniform(size=256) > 0.5).astype(float)
    w = rng.standard_normal(10)

    def example_loss(w, x, t):
        z = x @ w
        return cnp.logaddexp(0.0, z) - t * z
    per_example = cr.vmap(cr.grad(example_loss), in_axes=(None, 0, 0))(w, Xd, t)
    looped = np.stack([cr.grad(example_loss)(w, xi, ti) for xi, ti in zip(Xd, t)])
    print("per-example gradients", per_example.shape, "match a loop:",
          np.allclose(per_example, looped))

    section("6. Complex numbers (JAX's conventions)")
    print("grad(|z|^2)(3+4j)           =", cr.grad(lambda z: abs(z) ** 2)(3 + 4j))
    print("grad(z**2, holomorphic)(1j)  =", cr.grad(lambda z: z ** 2, holomorphic=True)(1j))

    section("7. Safe derivatives where others give NaN")
    print("grad(where(x > 0, sqrt(x), 0))(0.0) =",
          cr.grad(lambda x: cnp.where(x > 0, cnp.sqrt(x), 0.0))(0.0))
    print("grad(abs)(0.0)                      =", cr.grad(cnp.abs)(0.0))

    section("8. Custom rules, stop_gradient, checkpoint")

    @cr.custom_jvp
    def log1pexp(x):
        return cnp.log1p(cnp.exp(x))

    @log1pexp.defjvp
    def log1pexp_jvp(primals, tangents):
        (x,), (t,) = primals, tangents
        return log1pexp(x), t * (1 - 1 / (1 + cnp.exp(x)))
    print("grad(log1pexp)(100.) =", cr.grad(log1pexp)(100.0), "(finite, thanks to the rule)")
    print("grad(x * stop_gradient(x))(3.) =", cr.grad(lambda x: x * cr.stop_gradient(x))(3.0))
    deep = cr.checkpoint(lambda x: cnp.sin(cnp.cos(cnp.sin(x))))
    print("checkpointed grad equals plain:",
          np.isclose(cr.grad(deep)(0.3), cr.grad(lambda x: cnp.sin(cnp.cos(cnp.sin(x))))(0.3)))

    section("9. Plain `import numpy as np` inside a differentiated function")
    print("grad(lambda x: np.sum(np.sin(x)))(x) == cos(x):",
          np.allclose(cr.grad(lambda x: np.sum(np.sin(x)))(x), np.cos(x)))

    section("10. Errors that say what to do")
    for what, fn in [
        ("grad of a vector output", lambda: cr.grad(lambda x: x * 2)(np.ones(3))),
        ("grad w.r.t. an integer", lambda: cr.grad(lambda x: x * 2.0)(3)),
        ("float() of a traced value", lambda: cr.grad(lambda x: float(x) * 2)(1.0)),
        ("data-dependent `if` under vmap",
         lambda: cr.vmap(lambda x: x if x > 0 else -x)(np.ones(2))),
    ]:
        try:
            fn()
        except (TypeError, ValueError) as e:
            print(f"- {what}: {type(e).__name__}: {str(e)[:110]}...")

    section("11. debug_nans names the primitive and your source line")
    try:
        with cr.debug_nans(), np.errstate(invalid="ignore"):
            cr.grad(lambda x: cnp.log(x - 2.0))(1.0)
    except FloatingPointError as e:
        print(str(e)[:160])

    section("12. Graphs you can print, draw and count")

    def seed001(x, y):
        return cnp.exp(-(cnp.sin(x) - cnp.cos(y)) ** 2)
    graph = cr.make_graph(seed001)(1.0, 2.0)
    print(graph)
    print("picture:", graph.save(os.path.join(out_dir, "graph.svg")))
    A, B, C = (rng.standard_normal(s) for s in [(100, 200), (50, 100), (2, 50)])
    fwd = cr.flops(lambda A, B, C: C @ (B @ A), A, B, C)
    bwd = cr.flops(lambda A, B, C: (C @ B) @ A, A, B, C)
    print(f"matrix chain 200 -> 2: C(BA) {fwd:,} flops, (CB)A {bwd:,} flops "
          f"({fwd / bwd:.1f}x)")
    W300 = rng.standard_normal((3, 300))
    costs = cr.compare_cost({"jacfwd": cr.jacfwd(lambda x: cnp.tanh(W300 @ x)),
                             "jacrev": cr.jacrev(lambda x: cnp.tanh(W300 @ x))}, np.ones(300))
    print("Jacobian of R^300 -> R^3:", {k: f"{v['flops']:,} flops" for k, v in costs.items()})

    section("13. jit: compiled replay, with guards instead of tracer errors")

    def step(x):
        if cnp.sum(x) > 0:                     # Python control flow on a traced value
            return cnp.tanh(x) * 2.0
        return cnp.tanh(x) * 3.0
    jstep = cr.jit(step)
    for v in [np.ones(3), -np.ones(3), np.ones(3)]:
        jstep(v)
    info = jstep.cache_info()
    print(f"jit: {info.hits} hit(s), {info.misses} miss, {info.retraces} re-trace "
          f"(the branch changed); generated code:")
    print(jstep.lower(np.ones(3))[1])

    # without jit: eager reverse mode compiles the backward pass of a tape that recurs
    vg = cr.value_and_grad(lambda W, x: cnp.sum(cnp.tanh(x @ W) ** 2))
    Wm, xm = rng.standard_normal((8, 8)), rng.standard_normal((16, 8))
    replayed = [vg(Wm, xm) for _ in range(10)][-1]     # compiled at the 8th call
    on = _best(lambda: vg(Wm, xm), 200)
    cr.config.update("replay_backward", False)
    eager = vg(Wm, xm)
    off = _best(lambda: vg(Wm, xm), 200)
    cr.config.update("replay_backward", True)
    same = bool(np.array_equal(replayed[1], eager[1]))
    print(f"eager value_and_grad, 8th call on: the recurring backward pass runs compiled, "
          f"{on * 1e6:.0f} us per call (rule by rule: {off * 1e6:.0f} us); same bits: {same}")

    section("14. Training: make_moons, the homework's network, with a progress bar")
    from chainrule import nn, optim
    X, y = nn.datasets.make_moons(200, noise=0.1, random_state=0)
    model = nn.mlp([2, 25, 25, 1], activation="tanh")

    def loss(params, X, y):
        return nn.binary_nll(model.apply(params, X), y)
    t0 = time.perf_counter()
    hist = nn.fit(loss, model.init(0), (X, y), optim.adam(1e-2), steps=steps,
                  predict_fn=model.apply)
    print(f"{steps} steps in {time.perf_counter() - t0:.2f} s; final", {
        k: round(float(v), 4) for k, v in hist.last.items()})
    try:
        path = os.path.join(out_dir, "moons.png")
        nn.plot_decision_boundary(lambda Z: model.apply(hist.params, Z), X, y, path)
        hist.plot(os.path.join(out_dir, "loss.png"))
        print("decision boundary written to", path)
    except ImportError as e:
        print("plots skipped:", e)

    section("15. The same gradient on Dask arrays: data in chunks, computed lazily")
    try:
        import dask.array as da
    except ImportError:
        print("skipped: dask is not installed (pip install chainrule[scale]; docs/scale.md)")
        return
    Xn = rng.standard_normal((4000, 3))
    yn = (rng.random(4000) < 1 / (1 + np.exp(-Xn @ np.array([1.0, -1.0, 0.5])))) * 1.0
    Xd, yd = da.from_array(Xn, chunks=(1000, 3)), da.from_array(yn, chunks=1000)

    def nll(w, X, y):
        z = X @ w
        return cnp.sum(cnp.logaddexp(0.0, z) - y * z) / X.shape[0]
    g = cr.grad(nll)(np.zeros(3), Xd, yd)
    print(f"grad on {Xd.numblocks[0]} chunks -> {type(g).__module__}.{type(g).__name__} "
          f"(a graph, nothing computed yet); .compute() = {g.compute()}")
    print("same as on NumPy arrays:",
          bool(np.allclose(g.compute(), cr.grad(nll)(np.zeros(3), Xn, yn), rtol=0, atol=1e-14)))


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="out", help="folder for the pictures")
    main(ap.parse_args().out)
