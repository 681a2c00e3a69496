"""Seed 002 — the JAX Autodiff Cookbook, with chainrule in place of jax.

A thin runner: examples/autodiff_cookbook.py does every cell of the cookbook in order
(grad, value_and_grad, pytrees, has_aux, numerical checks, jacfwd/jacrev, Hessians,
jvp/vjp, Hessian-vector products, vmap'ed Jacobian products, jit of a vjp, complex
numbers, custom_jvp/custom_vjp, checkpoint, stop_gradient) and prints chainrule's
numbers beside the cookbook's. This script runs it, counts how many printed values
agree, and adds what the cookbook does with ``jax.jit`` and chainrule now can too:
``cr.jit`` around the cookbook's Hessian-vector products, Jacobian products and loss
gradient, checked equal to the eager results and timed against them.

Run:  python examples/course/seed002_cookbook.py [--fast] [--out DIR]
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _course  # noqa: E402

import numpy as np  # noqa: E402

import chainrule as cr  # noqa: E402
import chainrule.numpy as cnp  # noqa: E402

import autodiff_cookbook as cb  # noqa: E402  (examples/autodiff_cookbook.py)


def printed_value_errors(results):
    """The cookbook-vs-chainrule differences the cookbook script recorded: every
    ``*_err`` entry compared with a value the cookbook prints (float32)."""
    errs = {k: v for k, v in results.items() if k.endswith("_err") and isinstance(v, float)}
    errs.update({f"complex.{k}": v for k, v in results["complex"].items()
                 if k.endswith("_err")})
    return errs


def jit_section(fast):
    """cr.jit around the cookbook's computations: same numbers, less Python per call."""
    out = {}
    rng = np.random.default_rng(0)
    shape = (6, 8) if fast else (30, 40)
    X, V = rng.standard_normal(shape), rng.standard_normal(shape)

    def f(X):
        return cnp.sum(cnp.tanh(X) ** 2)

    W, b = cb.COOKBOOK_W, cb.COOKBOOK_b
    g = lambda W: cb.predict(W, b, cb.inputs)                         # noqa: E731
    U = rng.standard_normal((16 if fast else 128, cb.inputs.shape[0]))
    cases = {
        "hvp: forward over reverse": lambda X, V: cb.hvp(f, (X,), (V,)),
        "hvp: reverse over forward": lambda X, V: cb.hvp_revfwd(f, (X,), (V,))[0],
        "hvp: reverse over reverse": lambda X, V: cb.hvp_revrev(f, (X,), (V,)),
        "grad of the loss (W, b)": lambda W, b: cr.grad(cb.loss, argnums=(0, 1))(W, b),
        "vmapped matrix-Jacobian product": lambda W, U: cb.vmap_mjp(g, W, U),
        "jacrev of predict": lambda W, _: cr.jacrev(g)(W),
    }
    args = {"hvp: forward over reverse": (X, V), "hvp: reverse over forward": (X, V),
            "hvp: reverse over reverse": (X, V), "grad of the loss (W, b)": (W, b),
            "vmapped matrix-Jacobian product": (W, U), "jacrev of predict": (W, None)}
    fns, agree = {}, {}
    for name, fn in cases.items():
        a = args[name]
        jfn = cr.jit(fn)
        eager, jitted = fn(*a), jfn(*a)
        agree[name] = all(np.allclose(e, j, rtol=1e-12, atol=1e-12) for e, j in
                          zip(np.atleast_1d(eager) if not isinstance(eager, tuple) else eager,
                              np.atleast_1d(jitted) if not isinstance(jitted, tuple) else jitted))
        fns[name + " | eager"] = (lambda fn=fn, a=a: fn(*a))
        fns[name + " | jit"] = (lambda fn=jfn, a=a: fn(*a))
    r = _course.rates(fns, rounds=3 if fast else 7, min_time=0.01 if fast else 0.05)
    print(f"  {'computation':34s} {'eager [us]':>11s} {'cr.jit [us]':>12s} {'speedup':>8s}"
          "  same numbers")
    for name in cases:
        te, tj = 1e6 / r[name + " | eager"]["rate"], 1e6 / r[name + " | jit"]["rate"]
        print(f"  {name:34s} {te:11.1f} {tj:12.1f} {te / tj:7.1f}x  {agree[name]}")
        out[name] = {"eager_us": te, "jit_us": tj, "speedup": te / tj, "same": agree[name]}
    jgrad = cr.jit(cr.grad(cb.loss, argnums=(0, 1)))
    graph, source = jgrad.lower(W, b)
    print(f"\n  what cr.jit runs for grad(loss, argnums=(0, 1)): {len(graph.eqns)} primitives "
          "staged, then this NumPy code:")
    print("    " + source.strip().replace("\n", "\n    "))
    return out


def main(fast=False, out_dir="out"):
    _course.section("The JAX Autodiff Cookbook, cell by cell (examples/autodiff_cookbook.py)")
    res = cb.main(fast=fast)

    _course.section("Summary: chainrule's numbers against the cookbook's printed ones")
    errs = printed_value_errors(res)
    bad = {k: v for k, v in errs.items() if not v < 1e-5}
    print(f"  {len(errs) - len(bad)} of {len(errs)} printed values reproduced to 1e-5 "
          f"(largest difference {max(errs.values()):.1e}; the cookbook prints float32)")
    for k, v in bad.items():
        print(f"  MISMATCH {k}: {v:.2e}")
    print(f"  jacfwd == jacrev: {res['fwd_eq_rev']}; finite differences vs grad: "
          f"b {res['b_fd_err']:.1e}, W {res['W_fd_err']:.1e}; complex jvp/vjp checks: "
          f"{all(res['complex']['jvp_checks'] + res['complex']['vjp_checks'])}")
    res["printed_errors"] = errs
    res["printed_mismatches"] = bad

    _course.section("jit: the cookbook's computations under cr.jit")
    print("  The cookbook leans on jax.jit for speed; cr.jit traces once, then replays")
    print("  straight-line NumPy (shared subexpressions, no dead code, buffers reused).")
    res["jit"] = jit_section(fast)
    return res


if __name__ == "__main__":
    args = _course.parse_args(__doc__)
    main(fast=args.fast, out_dir=args.out)
