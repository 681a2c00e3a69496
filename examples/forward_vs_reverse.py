"""Forward vs reverse: why the order of a chain of linear maps matters (seed 000).

The exercise sheet ("Automatic Differentiation", lecture 5) works through:

  1-3. the cost of a matrix product, a counting loop checked against np.matmul;
  4-5. the two orders of evaluating a chain of matrices, C(BA) ("forward", the order a
       jvp pushes a tangent through) and (CB)A ("backward", the order a vjp pulls a
       cotangent back through), for a shrinking and a growing chain;
  6-8. the Jacobian of f(x) = [2 x1 x2, x3^2] at x = [2, 3, 2]: by hand, column by
       column with jvp and row by row with vjp;
  9.   value and derivative curves of x^2 and sin(x^2) cos(x) on (-5, 5) with
       vmap(value_and_grad(f)).

Run ``python examples/forward_vs_reverse.py`` (add ``--plot`` to save the curves to
``forward_vs_reverse.png`` when matplotlib is installed; ``--fast`` skips the
Python-loop counts of the chains; ``--count-all`` counts even the 3*10^8-FLOP product
with the loop).
"""
import sys
import time

import numpy as np

try:
    import chainrule as cr
except ImportError:  # run from a checkout without `pip install -e .`
    sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[1]))
    import chainrule as cr
import chainrule.numpy as cnp


# ---------------------------------------------------------------- steps 1-3: matmul FLOPs

def matmul_flops(m, n, p):
    """Operations of (m x n) @ (n x p), computed the schoolbook way.

    Each of the m*p entries R_ij = sum_k A_ik B_kj needs n multiplications and n - 1
    additions, so: mnp multiplications + mp(n - 1) additions = 2mnp - mp FLOPs.
    """
    mults = m * n * p
    adds = m * p * (n - 1)
    return {"mults": mults, "adds": adds, "total": mults + adds}


def matmul_count(A, B):
    """Multiply two matrices with plain Python loops and count the operations.

    Returns (R, {"mults": ..., "adds": ..., "total": ...}).
    """
    A = np.asarray(A, dtype=float)
    B = np.asarray(B, dtype=float)
    m, n = A.shape
    n2, p = B.shape
    if n != n2:
        raise ValueError(f"shapes {A.shape} and {B.shape} do not fit")
    a, b = A.tolist(), B.tolist()          # Python floats: the loop stays "non-fancy"
    R = [[0.0] * p for _ in range(m)]
    mults = adds = 0
    for i in range(m):
        for j in range(p):
            s = a[i][0] * b[0][j]           # first term: a multiplication only
            mults += 1
            for k in range(1, n):
                s += a[i][k] * b[k][j]      # every further term: one mult, one add
                mults += 1
                adds += 1
            R[i][j] = s
    return np.array(R), {"mults": mults, "adds": adds, "total": mults + adds}


def check_matmul(shapes=((3, 4, 5), (7, 2, 6), (1, 9, 1), (10, 10, 10)), seed=0):
    """Step 3: the loop agrees with np.matmul and with the formula on random matrices."""
    rng = np.random.default_rng(seed)
    rows = []
    for m, n, p in shapes:
        A, B = rng.standard_normal((m, n)), rng.standard_normal((n, p))
        R, count = matmul_count(A, B)
        ok_value = np.allclose(R, np.matmul(A, B))
        ok_count = count == matmul_flops(m, n, p)
        rows.append(((m, n, p), count["total"], ok_value, ok_count))
        assert ok_value and ok_count, (m, n, p)
    return rows


# ----------------------------------------------------------- steps 4-5: chains of matrices

def chain_costs(shapes, use_loop=False, loop_budget=5_000_000, seed=0):
    """FLOPs of M = C B A (A applied first) evaluated forward, C(BA), or backward, (CB)A.

    ``shapes`` = (A.shape, B.shape, C.shape). With ``use_loop`` the counts come from
    matmul_count on random matrices (for orderings whose total cost fits ``loop_budget``;
    the others keep the formula) and are checked against the formula.
    """
    (a0, a1), (b0, b1), (c0, c1) = shapes
    assert b1 == a0 and c1 == b0, "the chain C B A must be defined"
    fwd = [matmul_flops(b0, b1, a1), matmul_flops(c0, c1, a1)]     # BA, then C(BA)
    bwd = [matmul_flops(c0, c1, b1), matmul_flops(c0, b1, a1)]     # CB, then (CB)A
    res = {"forward": sum(f["total"] for f in fwd),
           "backward": sum(f["total"] for f in bwd),
           "counted_by": {"forward": "formula", "backward": "formula"}}
    if use_loop:
        rng = np.random.default_rng(seed)
        A, B, C = (rng.standard_normal(s) for s in shapes)
        for name in ("forward", "backward"):
            if res[name] > loop_budget:
                continue
            if name == "forward":
                BA, c1_ = matmul_count(B, A)
                M, c2_ = matmul_count(C, BA)
            else:
                CB, c1_ = matmul_count(C, B)
                M, c2_ = matmul_count(CB, A)
            assert np.allclose(M, C @ B @ A)
            assert c1_["total"] + c2_["total"] == res[name], name   # loop == formula
            res["counted_by"][name] = "loop"
    res["ratio_fwd_over_bwd"] = res["forward"] / res["backward"]
    return res


# --------------------------------------------------------------- steps 6-8: the Jacobian

def func(x):
    """The R^3 -> R^2 function of the seed: [2 x1 x2, x3^2]."""
    x1, x2, x3 = x
    z1 = 2 * x1 * x2
    z2 = x3 ** 2
    return cnp.stack([z1, z2])


def jacobian_analytic(x):
    """dz_i/dx_j by hand: [[2 x2, 2 x1, 0], [0, 0, 2 x3]]."""
    x1, x2, x3 = x
    return np.array([[2 * x2, 2 * x1, 0.0],
                     [0.0, 0.0, 2 * x3]])


def jacobian_by_jvp(f, x):
    """Step 7: J v with v = e_j reveals column j; three jvps give the whole J."""
    x = np.asarray(x, dtype=float)
    cols = [cr.jvp(f, (x,), (e,))[1] for e in np.eye(x.size)]
    return np.stack(cols, axis=1)


def jacobian_by_vjp(f, x):
    """Step 8: u^T J with u = e_i reveals row i; two vjps give the whole J."""
    x = np.asarray(x, dtype=float)
    y, vjp_fun = cr.vjp(f, x)
    rows = [vjp_fun(e)[0] for e in np.eye(np.size(y))]
    return np.stack(rows, axis=0)


# ------------------------------------------------- step 9: values and gradients on a grid

CURVES = {
    "x**2": (lambda x: x ** 2, lambda x: 2 * x),
    "sin(x**2)*cos(x)": (lambda x: cnp.sin(x ** 2) * cnp.cos(x),
                         lambda x: 2 * x * np.cos(x ** 2) * np.cos(x)
                         - np.sin(x ** 2) * np.sin(x)),
}


def values_and_grads(f, xs):
    """vmap(value_and_grad(f))(xs), as in the seed; a Python loop until vmap exists."""
    if hasattr(cr, "vmap"):
        vals, grads = cr.vmap(cr.value_and_grad(f))(xs)
        return np.asarray(vals), np.asarray(grads), "vmap"
    pairs = [cr.value_and_grad(f)(x) for x in xs]
    return (np.array([v for v, _ in pairs]), np.array([g for _, g in pairs]), "loop")


def curves(num=201):
    """Values and derivatives of the seed's functions on (-5, 5), checked against the
    analytic derivatives. Returns {name: (xs, values, grads, max_abs_error)}."""
    xs = np.linspace(-5, 5, num + 2)[1:-1]       # the open interval (-5, 5)
    out = {}
    for name, (f, df) in CURVES.items():
        vals, grads, how = values_and_grads(f, xs)
        f_np = np.asarray(f(xs))                 # outside transformations cnp is NumPy
        err = max(np.max(np.abs(vals - f_np)), np.max(np.abs(grads - df(xs))))
        out[name] = (xs, vals, grads, err, how)
    return out


def plot_curves(results, path="forward_vs_reverse.png"):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, len(results), figsize=(5 * len(results), 3.5))
    for ax, (name, (xs, vals, grads, _, _)) in zip(np.atleast_1d(axes), results.items()):
        ax.plot(xs, vals, label=f"f(x) = {name}")
        ax.plot(xs, grads, "--", label="f'(x) (chainrule)")
        ax.axhline(0, color="gray", lw=0.5)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    return path


# ------------------------------------------------------------------------------- main

CHAIN_SHRINKING = ((100, 200), (50, 100), (2, 50))      # 200 -> 2: step 4
CHAIN_GROWING = ((300, 2), (500, 300), (1000, 500))     # 2 -> 1000: step 5


def main(fast=False, plot=False, count_all=False):
    results = {}

    print("== Steps 1-3: the cost of a matrix product ==")
    print("(m x n) @ (n x p): m*n*p multiplications + m*p*(n-1) additions = 2mnp - mp FLOPs")
    for (m, n, p), total, ok_value, ok_count in check_matmul():
        print(f"  {m:2d}x{n:2d} @ {n:2d}x{p:2d}: {total:5d} FLOPs counted, "
              f"allclose(np.matmul)={ok_value}, count == formula: {ok_count}")

    for title, shapes in (("Step 4: shrinking chain, a map 200 -> 2", CHAIN_SHRINKING),
                          ("Step 5: growing chain, a map 2 -> 1000", CHAIN_GROWING)):
        t0 = time.perf_counter()
        res = chain_costs(shapes, use_loop=not fast,
                          loop_budget=float("inf") if count_all else 5_000_000)
        dt = time.perf_counter() - t0
        print(f"\n== {title} ==")
        print(f"  A {shapes[0]}, B {shapes[1]}, C {shapes[2]}; M = C B A")
        by = res["counted_by"]
        print(f"  forward  C(BA): {res['forward']:>12,d} FLOPs  (counted by {by['forward']})")
        print(f"  backward (CB)A: {res['backward']:>12,d} FLOPs  (counted by {by['backward']})")
        if not fast and "formula" in by.values():
            print("  (a count above the loop budget comes from the formula; --count-all "
                  "runs the Python loop on it too, ~10^7 operations per second)")
        r = res["ratio_fwd_over_bwd"]
        better = "backward (reverse mode)" if r > 1 else "forward (forward mode)"
        print(f"  forward / backward = {r:.4g}: {better} wins by a factor "
              f"{max(r, 1 / r):.4g}  [{dt:.2f} s]")
        results[shapes] = res

    print("\n== Steps 6-8: the Jacobian of f(x) = [2 x1 x2, x3^2] at x = [2, 3, 2] ==")
    x = np.array([2.0, 3.0, 2.0])
    J_hand = jacobian_analytic(x)
    J_jvp = jacobian_by_jvp(func, x)
    J_vjp = jacobian_by_vjp(func, x)
    print("  by hand: [[2 x2, 2 x1, 0], [0, 0, 2 x3]] =\n", J_hand)
    print("  three jvp columns (J e_j):\n", J_jvp)
    print("  two vjp rows (e_i^T J):\n", J_vjp)
    assert np.array_equal(J_jvp, J_hand) and np.array_equal(J_vjp, J_hand)
    results["jacobian"] = (J_hand, J_jvp, J_vjp)

    print("\n== Step 9: vmap(value_and_grad(f)) on (-5, 5) ==")
    if not hasattr(cr, "vmap"):
        print("  needs vmap (issue #3): using a Python loop over value_and_grad instead")
    crv = curves(num=41 if fast else 201)
    for name, (xs, vals, grads, err, how) in crv.items():
        i = np.argmin(np.abs(xs - 1.0))
        print(f"  {name:18s} [{how}] f({xs[i]:.2f}) = {vals[i]: .6f}, "
              f"f'({xs[i]:.2f}) = {grads[i]: .6f}; max |autodiff - analytic| = {err:.2e}")
        assert err < 1e-12
    results["curves"] = crv

    if plot:
        try:
            path = plot_curves(crv)
            print(f"\n  curves saved to {path}")
        except ImportError:
            print("\n  --plot: matplotlib is not installed, nothing plotted")
    return results


if __name__ == "__main__":
    main(fast="--fast" in sys.argv, plot="--plot" in sys.argv,
         count_all="--count-all" in sys.argv)
