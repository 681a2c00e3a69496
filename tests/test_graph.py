"""Staging, make_graph, FLOP counts, jit (guards, cache, compositions) and checkpoint."""
import re
import tracemalloc

import numpy as np

import chainrule as cr
import chainrule.numpy as cnp

rng = np.random.default_rng(0)


def seed001(x, y):
    return cnp.exp(-(cnp.sin(x) - cnp.cos(y)) ** 2)


def test_graph_prints_a_stable_readable_program():
    g = cr.make_graph(seed001)(1.0, 2.0)
    expected = """\
{ lambda a:f64[] b:f64[] . let
    c:f64[] = sin a
    d:f64[] = cos b
    e:f64[] = subtract c d
    f:f64[] = power e 2
    g:f64[] = negative f
    h:f64[] = exp g
  in (h) }"""
    assert str(g) == expected
    assert str(cr.make_graph(seed001)(1.0, 2.0)) == expected     # stable across calls
    g2 = cr.make_graph(lambda x: cnp.sum(x, axis=1))(np.ones((2, 3)))
    assert "reduce_sum[axis=(1,) keepdims=False] a" in str(g2)
    assert "f64[2,3]" in str(g2)


def _parse_dot(src):
    """A small DOT checker: balanced braces, every edge joins declared nodes."""
    assert src.startswith("digraph") and src.rstrip().endswith("}")
    assert src.count("{") == src.count("}")
    nodes = set(re.findall(r'^\s*("?[\w]+"?) \[', src, re.M))
    edges = re.findall(r'^\s*("?[\w]+"?) -> ("?[\w]+"?)', src, re.M)
    for a, b in edges:
        assert a in nodes and b in nodes, (a, b)
    return nodes, edges


def test_dot_output_parses_and_names_primitives():
    g = cr.make_graph(seed001)(1.0, 2.0)
    nodes, edges = _parse_dot(g.to_dot())
    for prim in ["sin", "cos", "subtract", "power", "negative", "exp"]:
        assert f'label="{prim}"' in g.to_dot()
    assert len(edges) >= 7
    _parse_dot(cr.make_graph(cr.grad(seed001))(1.0, 2.0).to_dot())


def test_matmul_dot_einsum_flops_match_hand_counts():
    A, B = rng.standard_normal((3, 4)), rng.standard_normal((4, 5))
    hand = 2 * 3 * 4 * 5 - 3 * 5
    assert cr.flops(lambda a, b: a @ b, A, B) == hand
    assert cr.flops(cnp.dot, A, B) == hand
    assert cr.flops(lambda a, b: cnp.einsum("ij,jk->ik", a, b), A, B) == hand
    v = rng.standard_normal(4)
    assert cr.flops(cnp.dot, v, v) == 2 * 4 - 1
    # batched: 7 independent (3,4)x(4,5) products
    assert cr.flops(cnp.matmul, rng.standard_normal((7, 3, 4)), B) == 7 * hand


def test_matrix_chain_orders_from_seed_000():
    def count(shapes_fn, mats):
        return cr.flops(shapes_fn, *mats)
    A, B, C = (rng.standard_normal(s) for s in [(100, 200), (50, 100), (2, 50)])
    fwd = count(lambda A, B, C: C @ (B @ A), (A, B, C))
    bwd = count(lambda A, B, C: (C @ B) @ A, (A, B, C))
    assert fwd == (2 * 50 * 100 * 200 - 50 * 200) + (2 * 2 * 50 * 200 - 2 * 200)
    assert bwd == (2 * 2 * 50 * 100 - 2 * 100) + (2 * 2 * 100 * 200 - 2 * 200)
    assert fwd / bwd > 10                       # 200 -> 2: reverse order wins
    A, B, C = (rng.standard_normal(s) for s in [(300, 2), (500, 300), (1000, 500)])
    fwd = count(lambda A, B, C: C @ (B @ A), (A, B, C))
    bwd = count(lambda A, B, C: (C @ B) @ A, (A, B, C))
    assert bwd / fwd > 100                      # 2 -> 1000: forward order wins


def test_jacfwd_vs_jacrev_costs_follow_the_shape():
    # a chain of three layers: jacfwd computes C(BA), jacrev (CB)A
    def net(n_in, n_out):
        A, B, C = (rng.standard_normal(s) for s in [(40, n_in), (40, 40), (n_out, 40)])
        f = lambda x: C @ cnp.tanh(B @ cnp.tanh(A @ x))         # noqa: E731
        return cr.compare_cost({"jacfwd": cr.jacfwd(f), "jacrev": cr.jacrev(f)},
                               np.ones(n_in))
    wide, tall = net(400, 3), net(3, 400)
    assert wide["jacrev"]["flops"] * 5 < wide["jacfwd"]["flops"]
    assert tall["jacfwd"]["flops"] * 5 < tall["jacrev"]["flops"]


def test_one_layer_jacobians_do_no_product_with_the_basis():
    W = rng.standard_normal((3, 400))
    n = W.size
    for jac in (cr.jacfwd, cr.jacrev):     # the primal product, tanh and the scaling
        flops = cr.make_graph(jac(lambda x: cnp.tanh(W @ x)))(np.ones(400)).flops()
        assert flops < 3 * n + 100, (jac.__name__, flops)   # (a product: 2 n 400)


def test_make_graph_composes_with_transformations():
    f = lambda x: cnp.sum(cnp.tanh(x) ** 2)                      # noqa: E731
    x = rng.standard_normal((3, 4))
    g = cr.make_graph(cr.grad(f))(x)
    names = [e.prim.name for e in g.eqns]
    assert "tanh" in names and names.count("multiply") >= 2
    gv = cr.make_graph(cr.vmap(f))(x)
    assert any(e.prim.name == "reduce_sum" and e.params["axis"] == (1,) for e in gv.eqns)
    gj = cr.make_graph(cr.jacrev(lambda x: cnp.sin(x)))(np.ones(3))
    assert gj.flops() > 0


def test_jit_equals_eager_for_compositions():
    W = rng.standard_normal((4, 3))
    f = lambda x: cnp.sum(cnp.tanh(W @ x) ** 2)                  # noqa: E731
    X = rng.standard_normal((6, 3))
    eager = np.stack([cr.grad(f)(x) for x in X])
    np.testing.assert_allclose(cr.jit(cr.grad(f))(X[0]), eager[0])
    np.testing.assert_allclose(cr.grad(cr.jit(f))(X[0]), eager[0])
    np.testing.assert_allclose(cr.vmap(cr.jit(f))(X), [f(x) for x in X])
    jv = cr.jit(cr.vmap(cr.grad(f)))
    np.testing.assert_allclose(jv(X), eager)
    np.testing.assert_allclose(jv(X + 1), np.stack([cr.grad(f)(x + 1) for x in X]))
    assert jv.cache_info().hits == 1


def test_guards_retrace_on_a_branch_change_and_both_branches_are_right():
    def f(x):
        if cnp.sum(x) > 0:
            return x * 2.0
        return x * 3.0
    jf = cr.jit(f)
    pos, neg = np.ones(3), -np.ones(3)
    np.testing.assert_allclose(jf(pos), 2 * pos)
    np.testing.assert_allclose(jf(neg), 3 * neg)                 # guard fails: re-trace
    np.testing.assert_allclose(jf(pos), 2 * pos)                 # both variants cached
    np.testing.assert_allclose(jf(neg), 3 * neg)
    info = jf.cache_info()
    assert (info.misses, info.retraces, info.hits) == (1, 1, 2)
    assert any("guard" in r for r in info.miss_reasons)


def test_float_and_while_loops_under_jit_do_not_raise():
    def newton_sqrt(a):
        x = a
        while float(cnp.abs(x * x - a)) > 1e-12:
            x = 0.5 * (x + a / x)
        return x
    jf = cr.jit(newton_sqrt)
    assert abs(jf(2.0) - np.sqrt(2.0)) < 1e-12
    assert abs(jf(2.0) - np.sqrt(2.0)) < 1e-12
    assert abs(jf(9.0) - 3.0) < 1e-12


def test_jit_cache_is_bounded():
    jf = cr.jit(lambda x: x * 2.0, maxsize=4)
    for n in range(1, 10):
        jf(np.ones(n))
    assert jf.cache_info().size == 4
    np.testing.assert_allclose(jf(np.ones(1)), 2 * np.ones(1))


def test_jit_static_args():
    jf = cr.jit(lambda x, n: x ** n, static_argnums=1)
    assert jf(2.0, 3) == 8.0 and jf(2.0, 2) == 4.0
    jk = cr.jit(lambda x, mode="a": x * (2.0 if mode == "a" else 3.0),
                static_argnames="mode")
    assert jk(1.0, mode="b") == 3.0 and jk(1.0) == 2.0


def test_jit_generated_code_shares_subexpressions_and_drops_dead_code():
    def f(x):
        a = cnp.sin(x)
        b = cnp.sin(x)              # same as a
        _unused = cnp.exp(x) * 3.0  # dead
        return a + b
    graph, src = cr.jit(f).lower(np.ones(3))
    assert src.count("f") and src.count("= ") == 2                 # sin once, add once
    assert "exp" not in src


def _chain(x, n=100):
    for _ in range(n):
        x = cnp.sin(cnp.cos(x) * 1.01)
    return cnp.sum(x)


def _chain_ckpt(x, n=100, seg=10):
    block = cr.checkpoint(lambda x: _chain_block(x, seg))
    for _ in range(n // seg):
        x = block(x)
    return cnp.sum(x)


def _chain_block(x, seg):
    for _ in range(seg):
        x = cnp.sin(cnp.cos(x) * 1.01)
    return x


def _peak(fn, x):
    tracemalloc.start()
    tracemalloc.reset_peak()
    g = fn(x)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return g, peak


def test_checkpoint_lowers_peak_memory_5x_with_the_same_gradient():
    x = rng.standard_normal(20000)
    g_plain, peak_plain = _peak(cr.grad(_chain), x)
    g_ckpt, peak_ckpt = _peak(cr.grad(_chain_ckpt), x)
    np.testing.assert_allclose(g_plain, g_ckpt, rtol=1e-12)
    assert peak_plain >= 5 * peak_ckpt, (peak_plain, peak_ckpt)


def test_checkpoint_nested_and_under_jit():
    inner = cr.checkpoint(lambda x: cnp.sin(x) * cnp.cos(x))
    outer = cr.checkpoint(lambda x: inner(inner(x)) + 1.0)
    f = lambda x: cnp.sum(outer(x) ** 2)                         # noqa: E731
    ref = lambda x: cnp.sum((cnp.sin(cnp.sin(x) * cnp.cos(x)) *   # noqa: E731
                             cnp.cos(cnp.sin(x) * cnp.cos(x)) + 1.0) ** 2)
    x = rng.standard_normal(5)
    np.testing.assert_allclose(cr.grad(f)(x), cr.grad(ref)(x))
    np.testing.assert_allclose(cr.jit(cr.grad(f))(x), cr.grad(ref)(x))
    np.testing.assert_allclose(cr.hessian(f)(x), cr.hessian(ref)(x), atol=1e-12)


def test_jit_warns_after_repeated_retraces():
    import warnings as _w
    jf = cr.jit(lambda x: x * 2.0 if float(x) > 0 else x)
    with _w.catch_warnings(record=True) as caught:
        _w.simplefilter("always")
        for k in range(12):
            jf(float(k + 1))                 # float(x) is a guard that changes each call
    assert any("re-traced 10 times" in str(w.message) for w in caught)
    assert jf.cache_info().retraces >= 10


def test_linearize_replays_only_the_linear_part():
    W = rng.standard_normal((30, 30))
    f = lambda x: cnp.sum(cnp.tanh(W @ x) ** 2)                  # noqa: E731
    x, v = rng.standard_normal(30), rng.standard_normal(30)
    out, f_jvp = cr.linearize(cr.grad(f), x)
    np.testing.assert_allclose(out, cr.grad(f)(x))
    np.testing.assert_allclose(f_jvp(v), cr.hvp(f, (x,), (v,)), rtol=1e-12)
    np.testing.assert_allclose(f_jvp(2 * v), 2 * f_jvp(v), rtol=1e-12)       # linear
    names = [e.prim.name for e in f_jvp.graph.eqns]
    assert "tanh" not in names                   # primal work folded into constants
    # under another transformation it runs forward mode afresh: same numbers
    np.testing.assert_allclose(cr.vmap(f_jvp)(np.stack([v, 2 * v])),
                               np.stack([f_jvp(v), f_jvp(2 * v)]), rtol=1e-12)


def test_jit_keeps_a_broadcast_whose_every_operand_is_broadcast():
    """codegen dropped broadcast_to(x, S) feeding `b * b` (or two broadcasts added),
    so the compiled call computed on x's smaller shape (found by the aliasing programs)."""
    def f(x):
        b = cnp.broadcast_to(x * 1.0, (2,) + x.shape)
        c = cnp.broadcast_to(cnp.sin(x), (2,) + x.shape)
        return b * b, b + c, cnp.sum(b * b)
    x = np.random.default_rng(0).standard_normal((3, 4))
    jf = cr.jit(f)
    for _ in range(2):                   # the tracing call and the compiled call
        for got, want in zip(jf(x), f(x)):
            np.testing.assert_allclose(got, want, rtol=1e-14)
