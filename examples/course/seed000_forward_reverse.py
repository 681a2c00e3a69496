"""Seed 000 — forward vs reverse: FLOPs of matrix chains, a Jacobian from jvp columns
and vjp rows, and vmap(value_and_grad) curves.

The exercise sheet ("Automatic Differentiation", lecture 5), step by step:

  1-3  the FLOPs of a matrix product: the formula, a Python-loop count, np.matmul;
  4-5  M = C B A evaluated "forward" C(BA) and "backward" (CB)A for a shrinking
       (200 -> 2) and a growing (2 -> 1000) chain: counted by cr.make_graph(...).flops()
       and checked against the formula; the same choice made by jacfwd and jacrev;
  6-8  the Jacobian of f(x) = [2 x1 x2, x3^2] at x = [2, 3, 2] by hand, as three jvp
       columns and as two vjp rows;
  9    values and derivatives of x^2, sin(x^2) cos(x) (and one function of our own)
       on (-5, 5) with cr.vmap(cr.value_and_grad(f)), written as a plot.

Run:  python examples/course/seed000_forward_reverse.py [--fast] [--out DIR]
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _course  # noqa: E402  (sets up the import paths)

import numpy as np  # noqa: E402

import chainrule as cr  # noqa: E402
import chainrule.numpy as cnp  # noqa: E402

import forward_vs_reverse as fvr  # noqa: E402  (examples/forward_vs_reverse.py)
import graphs_and_flops as gaf  # noqa: E402  (examples/graphs_and_flops.py)

CHAINS = {"shrinking (200 -> 2)": fvr.CHAIN_SHRINKING,     # step 4
          "growing (2 -> 1000)": fvr.CHAIN_GROWING}        # step 5

# step 9: the seed's two functions and one of our own ("or whatever function you can
# think of"), each with its derivative by hand for the check
CURVES = dict(fvr.CURVES)
CURVES["tanh(x) exp(-x^2/8)"] = (
    lambda x: cnp.tanh(x) * cnp.exp(-x ** 2 / 8),
    lambda x: ((1 - np.tanh(x) ** 2) - np.tanh(x) * x / 4) * np.exp(-x ** 2 / 8))


def chain_flops(shapes, seed=0):
    """FLOPs of C(BA) and (CB)A from cr.make_graph, and from the formula 2mnp - mp."""
    rng = np.random.default_rng(seed)
    A, B, C = (rng.standard_normal(s) for s in shapes)
    g_fwd = cr.make_graph(lambda A, B, C: C @ (B @ A))(A, B, C)
    g_bwd = cr.make_graph(lambda A, B, C: (C @ B) @ A)(A, B, C)
    formula = fvr.chain_costs(shapes)             # sums of 2mnp - mp per product
    return {"forward": g_fwd.flops(), "backward": g_bwd.flops(),
            "forward_formula": formula["forward"], "backward_formula": formula["backward"],
            "graph_forward": g_fwd, "graph_backward": g_bwd}


def jacobian_of_chain(shapes, seed=0):
    """FLOPs of jacfwd and jacrev of the linear map x -> C B A x: forward mode pushes
    the identity through A first (the C(BA) order), reverse mode pulls it back through
    C first (the (CB)A order)."""
    rng = np.random.default_rng(seed)
    A, B, C = (rng.standard_normal(s) for s in shapes)

    def f(x):
        return C @ (B @ (A @ x))
    x = np.ones(A.shape[1])
    costs = cr.compare_cost({"jacfwd": cr.jacfwd(f), "jacrev": cr.jacrev(f)}, x)
    J = C @ B @ A
    ok = (np.allclose(cr.jacfwd(f)(x), J) and np.allclose(cr.jacrev(f)(x), J))
    # the prediction: the primal pass (three matrix-vector products), then the identity
    # of the input side pushed forward, C(B(A I_n)) = C(BA) (A I_n is A: no work), or
    # that of the output side pulled back, ((I_m C) B) A = (CB)A
    mf = lambda m, k, p: fvr.matmul_flops(m, k, p)["total"]             # noqa: E731
    (a0, a1), (b0, _), (c0, _) = shapes
    primal = mf(a0, a1, 1) + mf(b0, a0, 1) + mf(c0, b0, 1)
    predicted = {"jacfwd": primal + mf(b0, a0, a1) + mf(c0, b0, a1),
                 "jacrev": primal + mf(c0, b0, a0) + mf(c0, a0, a1)}
    return costs["jacfwd"]["flops"], costs["jacrev"]["flops"], ok, predicted


def plot_curves(crv, path):
    fig, axes = _course.figure(ncols=len(crv), figsize=(4.2 * len(crv), 3.4),
                               what="the vmap(value_and_grad) curves")
    if fig is None:
        return None
    for ax, (name, (xs, vals, grads, _, _)) in zip(axes[0], crv.items()):
        ax.plot(xs, vals, label="f(x)")
        ax.plot(xs, grads, "--", label="f'(x), chainrule")
        ax.axhline(0, color="gray", lw=0.5)
        ax.set_title(f"f(x) = {name}", fontsize=10)
        ax.set_xlabel("x")
        ax.legend(fontsize=8)
    fig.suptitle("cr.vmap(cr.value_and_grad(f)) on (-5, 5)")
    return _course.save(fig, path)


def main(fast=False, out_dir="out"):
    res = {}

    _course.section("Steps 1-3: the cost of a matrix product")
    print("R_ij = sum_k A_ik B_kj: each of the m*p entries takes n multiplications and n - 1")
    print("additions, so (m x n) @ (n x p) costs m*n*p + m*p*(n-1) = 2mnp - mp FLOPs.")
    rows = fvr.check_matmul()                     # asserts loop == formula == np.matmul
    res["matmul"] = []
    for (m, n, p), total, ok_value, ok_count in rows:
        rng = np.random.default_rng(m + n + p)
        g = cr.make_graph(lambda A, B: A @ B)(rng.standard_normal((m, n)),
                                               rng.standard_normal((n, p)))
        res["matmul"].append(((m, n, p), total, g.flops(), 2 * m * n * p - m * p))
        print(f"  {m:2d}x{n:2d} @ {n:2d}x{p:2d}: loop counts {total:5d}, make_graph {g.flops():5d},"
              f" formula {2 * m * n * p - m * p:5d}; allclose(np.matmul) {ok_value}")

    res["chains"] = {}
    for step, (label, shapes) in zip((4, 5), CHAINS.items()):
        _course.section(f"Step {step}: a {label} chain, M = C B A")
        c = chain_flops(shapes)
        print(f"  A {shapes[0]}, B {shapes[1]}, C {shapes[2]}")
        print("  the forward order as chainrule records it:\n   ",
              str(c["graph_forward"]).replace("\n", "\n    "))
        print(f"  forward  C(BA): make_graph {c['forward']:>10,d} FLOPs, "
              f"formula {c['forward_formula']:>10,d}")
        print(f"  backward (CB)A: make_graph {c['backward']:>10,d} FLOPs, "
              f"formula {c['backward_formula']:>10,d}")
        if not fast:   # the sheet's own loop count (steps 2-3) where it takes < ~1 s
            loop = fvr.chain_costs(shapes, use_loop=True, loop_budget=5_000_000)
            print("  Python-loop counts:", ", ".join(
                f"{k} {loop[k]:,} ({loop['counted_by'][k]})" for k in ("forward", "backward")))
        ratio = c["forward"] / c["backward"]
        winner = ("backward (CB)A, i.e. reverse mode" if ratio > 1
                  else "forward C(BA), i.e. forward mode")
        print(f"  forward / backward = {ratio:.4g}: {winner} is cheaper by "
              f"{max(ratio, 1 / ratio):.3g}x")
        jf, jr, ok, pred = jacobian_of_chain(shapes)
        print(f"  the Jacobian of x -> C B A x (both equal C @ B @ A: {ok}):")
        print(f"    jacfwd {jf:>13,d} FLOPs = primal + C(BA) (A I is A): {pred['jacfwd']:>13,d}")
        print(f"    jacrev {jr:>13,d} FLOPs = primal + (CB)A (I C is C): {pred['jacrev']:>13,d}")
        print(f"    -> {'jacrev' if jr < jf else 'jacfwd'} wins, as the chain order says")
        res["chains"][label] = {
            "forward": c["forward"], "backward": c["backward"],
            "forward_formula": c["forward_formula"], "backward_formula": c["backward_formula"],
            "ratio": ratio, "jacfwd": jf, "jacrev": jr, "jacobian_ok": ok,
            "jacfwd_predicted": pred["jacfwd"], "jacrev_predicted": pred["jacrev"]}
    print("\n  A map to few outputs (a loss) is cheapest backwards (reverse mode, vjp); a map"
          "\n  from few inputs is cheapest forwards (forward mode, jvp).")
    res["jacobian_costs"] = {f"R^{i}->R^{o}": gaf.jacobian_costs(i, o)
                             for i, o in ((300, 3), (3, 300))}
    for k, (f, r) in res["jacobian_costs"].items():
        print(f"  W3 tanh(W2 tanh(W1 x)), {k}: jacfwd {f:,} FLOPs, jacrev {r:,} FLOPs")

    _course.section("Steps 6-8: the Jacobian of f(x) = [2 x1 x2, x3^2] at x = [2, 3, 2]")
    x = np.array([2.0, 3.0, 2.0])
    J_hand = fvr.jacobian_analytic(x)
    J_jvp = fvr.jacobian_by_jvp(fvr.func, x)    # columns J e_j: cr.jvp(f, (x,), (e_j,))[1]
    J_vjp = fvr.jacobian_by_vjp(fvr.func, x)    # rows e_i^T J: cr.vjp(f, x)[1](e_i)
    print("  by hand dz_i/dx_j = [[2 x2, 2 x1, 0], [0, 0, 2 x3]] =", J_hand.tolist())
    for j in range(3):
        print(f"  cr.jvp(f, (x,), (e_{j + 1},)) -> column {j + 1}: {J_jvp[:, j]}")
    for i in range(2):
        print(f"  vjp_fun(e_{i + 1})             -> row {i + 1}:    {J_vjp[i]}")
    print("  cr.jacfwd(f)(x) =", cr.jacfwd(fvr.func)(x).tolist(),
          " cr.jacrev(f)(x) =", cr.jacrev(fvr.func)(x).tolist())
    res.update(J_hand=J_hand, J_jvp=J_jvp, J_vjp=J_vjp,
               J_jacfwd=cr.jacfwd(fvr.func)(x), J_jacrev=cr.jacrev(fvr.func)(x))

    _course.section("Step 9: vmap(value_and_grad(f)) on (-5, 5)")
    saved, fvr.CURVES = fvr.CURVES, CURVES
    try:
        crv = fvr.curves(num=41 if fast else 401)   # cr.vmap(cr.value_and_grad(f))(xs)
    finally:
        fvr.CURVES = saved
    res["curve_errors"] = {}
    for name, (xs, vals, grads, err, how) in crv.items():
        v1, d1 = cr.value_and_grad(CURVES[name][0])(1.0)
        print(f"  {name:20s} [{how}] {xs.size} points, max |autodiff - analytic| = {err:.1e};"
              f" f(1) = {float(v1): .6f}, f'(1) = {float(d1): .6f}")
        res["curve_errors"][name] = err
    res["curves_plot"] = plot_curves(crv, _course.out_file(out_dir, "seed000_curves.png"))
    return res


if __name__ == "__main__":
    args = _course.parse_args(__doc__)
    main(fast=args.fast, out_dir=args.out)
