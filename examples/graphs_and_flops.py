"""Graphs you can see and count (seed 001's computational graph, seed 000's FLOP
exercises), and jit.

Run:  python examples/graphs_and_flops.py [--out DIR]
"""
import argparse
import os

import numpy as np

import chainrule as cr
import chainrule.numpy as cnp


def seed001_graph(out_dir=None):
    """The computational graph of f(x, y) = exp(-(sin x - cos y)^2), drawn automatically."""
    def f(x, y):
        return cnp.exp(-(cnp.sin(x) - cnp.cos(y)) ** 2)
    g = cr.make_graph(f)(1.0, 2.0)
    print(g)
    print("its gradient's program (forward and backward passes):")
    print(cr.make_graph(cr.grad(f, argnums=(0, 1)))(1.0, 2.0))
    paths = []
    if out_dir:
        paths = [g.save(os.path.join(out_dir, "seed001_graph.svg")),
                 g.save(os.path.join(out_dir, "seed001_graph.dot"))]
        print("picture written to", paths[0], "(Graphviz source:", paths[1] + ")")
    return g, paths


def matmul_flops(m, n, p):
    """The seed-000 formula: m*p dot products of length n, n multiplications and
    n - 1 additions each."""
    return m * p * (2 * n - 1)


def matrix_chain(shapes, rng=np.random.default_rng(0)):
    """FLOPs of M = C B A computed forward, C (B A), and backward, (C B) A."""
    A, B, C = (rng.standard_normal(s) for s in shapes)
    fwd = cr.flops(lambda A, B, C: C @ (B @ A), A, B, C)
    bwd = cr.flops(lambda A, B, C: (C @ B) @ A, A, B, C)
    (a0, a1), (b0, b1), (c0, c1) = shapes
    fwd_formula = matmul_flops(b0, b1, a1) + matmul_flops(c0, c1, a1)
    bwd_formula = matmul_flops(c0, c1, b1) + matmul_flops(c0, b1, a1)
    return fwd, bwd, fwd_formula, bwd_formula


def jacobian_costs(n_in, n_out, width=50, rng=np.random.default_rng(1)):
    """FLOPs of jacfwd and jacrev of a network R^n_in -> R^n_out with two tanh hidden
    layers of ``width`` (x -> W3 tanh(W2 tanh(W1 x))). One layer alone costs about the
    same both ways (its Jacobian is W scaled by tanh'); a chain shows the two orders:
    jacfwd computes W3 (W2 W1), jacrev (W3 W2) W1, each with the scalings between."""
    W1 = rng.standard_normal((width, n_in))
    W2 = rng.standard_normal((width, width))
    W3 = rng.standard_normal((n_out, width))

    def f(x):
        return W3 @ cnp.tanh(W2 @ cnp.tanh(W1 @ x))
    costs = cr.compare_cost({"jacfwd": cr.jacfwd(f), "jacrev": cr.jacrev(f)}, np.ones(n_in))
    return costs["jacfwd"]["flops"], costs["jacrev"]["flops"]


def jit_demo():
    def f(x):
        if cnp.sum(x) > 0:          # Python control flow on a traced value: a guard
            return cnp.tanh(x) * 2.0
        return cnp.tanh(x) * 3.0
    jf = cr.jit(f)
    for x in [np.ones(3), np.ones(3), -np.ones(3), -np.ones(3)]:
        jf(x)
    info = jf.cache_info()
    print("jit cache:", info.hits, "hits,", info.misses, "miss,", info.retraces,
          "re-trace;", info.miss_reasons)
    print("generated code:\n" + jf.lower(np.ones(3))[1])
    return info


def main(out_dir=None):
    section = lambda t: print(f"\n=== {t} " + "=" * (70 - len(t)))      # noqa: E731
    section("seed 001: the computational graph of exp(-(sin x - cos y)^2)")
    seed001_graph(out_dir)
    section("seed 000: FLOPs of a matrix chain, both orders")
    results = {}
    for label, shapes in [("decreasing (200 -> 2)", [(100, 200), (50, 100), (2, 50)]),
                          ("increasing (2 -> 1000)", [(300, 2), (500, 300), (1000, 500)])]:
        fwd, bwd, ff, bf = matrix_chain(shapes)
        results[label] = (fwd, bwd)
        print(f"{label}: forward C(BA) {fwd:,} flops (formula {ff:,}), backward (CB)A "
              f"{bwd:,} flops (formula {bf:,}); ratio forward/backward = {fwd / bwd:.3g}")
    section("jacfwd vs jacrev: the cheaper end of the chain first")
    for n_in, n_out in [(300, 3), (3, 300)]:
        f, r = jacobian_costs(n_in, n_out)
        print(f"R^{n_in} -> R^{n_out}: jacfwd {f:,} flops, jacrev {r:,} flops "
              f"-> use {'jacrev' if r < f else 'jacfwd'}")
    section("jit: guards instead of tracer errors")
    jit_demo()
    return results


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="out", help="folder for the pictures")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    main(args.out)
