"""vmap semantics (JAX's): in_axes/out_axes forms, nesting, axis_size, composition with
every differentiation transformation, custom rules surviving batching, and errors."""
import warnings

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from chainrule._src.core import Primitive

rng = np.random.default_rng(0)
X = rng.standard_normal((5, 3))
W = rng.standard_normal((3, 4))


def f(x):
    return cnp.sum(cnp.tanh(x @ W) ** 2)


def loop(fn, *xs):
    return np.stack([fn(*a) for a in zip(*xs)])


def test_in_axes_forms():
    assert cr.vmap(cnp.sin)(X).shape == (5, 3)
    np.testing.assert_allclose(cr.vmap(cnp.sin, in_axes=1)(X), np.sin(X).T)
    np.testing.assert_allclose(cr.vmap(cnp.sin, in_axes=-1, out_axes=1)(X), np.sin(X))
    got = cr.vmap(lambda a, w: a @ w, in_axes=(0, None))(X, W)
    np.testing.assert_allclose(got, X @ W)
    got = cr.vmap(lambda d: d["a"] * d["b"], in_axes=({"a": 0, "b": None},))(
        {"a": X, "b": 2.0})
    np.testing.assert_allclose(got, 2 * X)
    got = cr.vmap(lambda x: (x, x * 2), out_axes=(0, 1))(X)
    np.testing.assert_allclose(got[1], 2 * X.T)


def test_unbatched_output_is_broadcast_and_out_axes_none():
    out = cr.vmap(lambda x: 1.0 + 0 * cnp.sum(W), in_axes=0)(X)
    assert out.shape == (5,)
    out = cr.vmap(lambda x: (cnp.sum(x), W), out_axes=(0, None))(X)
    assert out[1].shape == W.shape
    with pytest.raises(ValueError, match="out_axes=None"):
        cr.vmap(lambda x: x, out_axes=None)(X)


def test_axis_size_and_errors():
    out = cr.vmap(lambda: cnp.ones(3), axis_size=4)()
    assert out.shape == (4, 3)
    with pytest.raises(ValueError, match="axis_size"):
        cr.vmap(lambda x: x, in_axes=None)(X)
    with pytest.raises(ValueError, match="inconsistent sizes"):
        cr.vmap(lambda a, b: a + b)(X, np.ones((4, 3)))
    with pytest.raises(ValueError, match="rank should be at least"):
        cr.vmap(lambda a: a, in_axes=2)(X)
    with pytest.raises(ValueError, match="tree prefix"):
        cr.vmap(lambda a, b: a, in_axes=(0, 0, 0))(X, X)


def test_nested_vmap():
    A = rng.standard_normal((4, 5, 3))
    got = cr.vmap(cr.vmap(lambda x: cnp.sum(x ** 2)))(A)
    np.testing.assert_allclose(got, np.sum(A ** 2, -1))
    # outer product through nesting with in_axes None
    got = cr.vmap(lambda a: cr.vmap(lambda b: a * b)(np.arange(3.)))(np.arange(4.))
    np.testing.assert_allclose(got, np.outer(np.arange(4.), np.arange(3.)))


def test_vmap_of_grad_is_per_example_gradient():
    got = cr.vmap(cr.grad(f))(X)
    np.testing.assert_allclose(got, loop(cr.grad(f), X), rtol=1e-12)
    vg = cr.vmap(cr.value_and_grad(f))(X)
    np.testing.assert_allclose(vg[0], loop(f, X))


def test_grad_of_vmap_through_a_sum():
    g = cr.grad(lambda x: cnp.sum(cr.vmap(f)(x)))(X)
    np.testing.assert_allclose(g, loop(cr.grad(f), X), rtol=1e-12)


def test_jacfwd_of_vmap_and_vmap_of_jvp_and_vjp():
    fv = cr.vmap(lambda x: cnp.sin(x) * x)
    J = cr.jacfwd(fv)(X)
    assert J.shape == (5, 3, 5, 3)
    J2 = cr.jacrev(fv)(X)
    np.testing.assert_allclose(J, J2, atol=1e-14)
    V = rng.standard_normal(X.shape)
    t = cr.vmap(lambda x, v: cr.jvp(f, (x,), (v,))[1])(X, V)
    np.testing.assert_allclose(t, [cr.jvp(f, (x,), (v,))[1] for x, v in zip(X, V)])
    y, vjp_fun = cr.vjp(lambda x: cnp.tanh(x @ W), X[0])
    cts = rng.standard_normal((6, 4))
    got = cr.vmap(vjp_fun)(cts)[0]
    np.testing.assert_allclose(got, np.stack([vjp_fun(c)[0] for c in cts]))


def test_hessians_of_many_points():
    H = cr.vmap(cr.hessian(f))(X)
    np.testing.assert_allclose(H, loop(cr.hessian(f), X), rtol=1e-10)


def test_custom_jvp_survives_batching():
    calls = []

    @cr.custom_jvp
    def g(x):
        return cnp.sin(x)

    @g.defjvp
    def g_jvp(primals, tangents):
        calls.append(1)
        (x,), (t,) = primals, tangents
        return g(x), 2.0 * t        # deliberately not cos(x): proves the rule is used
    got = cr.vmap(cr.grad(lambda x: cnp.sum(g(x))))(X)
    np.testing.assert_allclose(got, 2.0 * np.ones_like(X))
    got = cr.grad(lambda x: cnp.sum(cr.vmap(g)(x)))(X)
    np.testing.assert_allclose(got, 2.0 * np.ones_like(X))
    assert calls


def test_custom_vjp_survives_batching():
    @cr.custom_vjp
    def h(x, w):
        return cnp.sum(x * w)

    def h_fwd(x, w):
        return h(x, w), (x, w)

    def h_bwd(res, ct):
        x, w = res
        return 3.0 * ct * w, 3.0 * ct * x      # deliberately 3x: proves the rule is used
    h.defvjp(h_fwd, h_bwd)
    w = np.arange(3.)
    got = cr.grad(lambda x: cnp.sum(cr.vmap(h, in_axes=(0, None))(x, w)))(X)
    np.testing.assert_allclose(got, 3.0 * np.broadcast_to(w, X.shape))
    gw = cr.grad(lambda w: cnp.sum(cr.vmap(h, in_axes=(0, None))(X, w)))(w)
    np.testing.assert_allclose(gw, 3.0 * X.sum(0))


def test_checkpoint_under_vmap():
    g = cr.checkpoint(lambda x: cnp.sin(cnp.cos(x)))
    got = cr.vmap(cr.grad(lambda x: cnp.sum(g(x))))(X)
    np.testing.assert_allclose(got, loop(cr.grad(lambda x: cnp.sum(cnp.sin(cnp.cos(x)))), X))


def test_data_dependent_control_flow_names_the_value_and_suggests_where():
    def relu(x):
        if x > 0:
            return x
        return 0.0 * x
    with pytest.raises(TypeError, match="cnp.where"):
        cr.vmap(relu)(np.array([1.0, -1.0]))
    # concrete control flow is fine under grad
    assert cr.grad(relu)(2.0) == 1.0


def test_batched_indices_become_one_gather():
    idx = np.array([0, 2, 1, 1, 0])
    got = cr.vmap(lambda x, i: x[i])(X, idx)
    np.testing.assert_allclose(got, X[np.arange(5), idx])
    # a plain ndarray cannot be indexed by a traced value (NumPy converts the index);
    # cnp.take is the NumPy spelling that works
    got = cr.vmap(lambda i: cnp.take(W, i, axis=0))(np.array([0, 2]))
    np.testing.assert_allclose(got, W[[0, 2]])
    g = cr.vmap(cr.grad(lambda x, i: x[i] ** 2))(X, idx)
    want = np.zeros_like(X)
    want[np.arange(5), idx] = 2 * X[np.arange(5), idx]
    np.testing.assert_allclose(g, want)
    upd = cr.vmap(lambda x, i, v: x.at[i].set(v))(X, idx, np.arange(5.))
    want = X.copy()
    want[np.arange(5), idx] = np.arange(5.)
    np.testing.assert_allclose(upd, want)


def test_missing_batching_rule_falls_back_with_one_warning():
    class Twice(Primitive):
        def impl(self, x):
            return 2 * x
    p = Twice("twice_no_batch_rule")
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        out = cr.vmap(lambda x: p.bind(x))(X)
        cr.vmap(lambda x: p.bind(x))(X)
    np.testing.assert_allclose(out, 2 * X)
    msgs = [str(m.message) for m in w if "twice_no_batch_rule" in str(m.message)]
    assert len(msgs) == 1


def test_per_example_gradients_of_logistic_regression():
    Xd = rng.standard_normal((256, 10))
    y = (rng.uniform(size=256) > 0.5).astype(float)
    w = rng.standard_normal(10)

    def loss(w, x, t):
        z = x @ w
        return cnp.logaddexp(0.0, z) - t * z
    per_ex = cr.vmap(cr.grad(loss), in_axes=(None, 0, 0))(w, Xd, y)
    want = np.stack([cr.grad(loss)(w, x, t) for x, t in zip(Xd, y)])
    np.testing.assert_allclose(per_ex, want, rtol=1e-12)
    p = 1 / (1 + np.exp(-(Xd @ w)))
    np.testing.assert_allclose(per_ex, (p - y)[:, None] * Xd, rtol=1e-10)


def test_dense_layer_jacobians_take_the_diagonal_shortcut_and_stay_exact():
    # the pulled-back (jacrev) and pushed-forward (jacfwd) identity bases reach the
    # matrix product scaled by tanh's derivative and are applied as scalings
    n = 80
    W = rng.standard_normal((n, n)) / np.sqrt(n)
    x = rng.standard_normal(n)

    def f(x):
        return cnp.tanh(W @ x)
    t = np.tanh(W @ x)
    J = (1 - t ** 2)[:, None] * W
    np.testing.assert_allclose(cr.jacrev(f)(x), J, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(cr.jacfwd(f)(x), J, rtol=1e-12, atol=1e-14)
    # a Hessian through the same path, against its closed form
    g = lambda x: cnp.sum(cnp.tanh(W @ x) ** 2)                 # noqa: E731
    d2 = 2 * (1 - t ** 2) * (1 - 3 * t ** 2)
    np.testing.assert_allclose(cr.hessian(g)(x), W.T @ (d2[:, None] * W), rtol=1e-10,
                               atol=1e-12)
    # a basis that is not diagonal any more takes the general product
    M = rng.standard_normal((n, n))
    np.testing.assert_allclose(cr.jacrev(lambda x: M @ f(x))(x), M @ J, rtol=1e-10,
                               atol=1e-12)


def _matmuls(monkeypatch, fun, *args):
    """How many matrix products an eager run of ``fun`` computes, and how many the
    program ``make_graph`` stages holds (with the largest one's FLOPs)."""
    from chainrule._src.prims.products import MatMul, matmul_p
    calls = []
    impl = MatMul.impl
    monkeypatch.setattr(MatMul, "impl", lambda self, x, y: calls.append(1) or impl(self, x, y))
    value = fun(*args)
    monkeypatch.setattr(MatMul, "impl", impl)
    eqns = [e for e in cr.make_graph(fun)(*args).eqns if e.prim is matmul_p]
    return value, len(calls), len(eqns)


def test_jacobian_bases_are_known_by_structure_so_eager_and_staged_agree(monkeypatch):
    # jacfwd/jacrev hand vmap their identity basis as such (basis=); a product with it
    # once an elementwise derivative scales it is a scaling, decided from that structure
    # alone: the eager run and the staged program (what make_graph counts) do the same
    # products, at every size
    r = np.random.default_rng(41)
    n = 7
    W, M = r.standard_normal((n, n)), r.standard_normal((n, 3))
    v, x = r.standard_normal(n), r.standard_normal(n)
    d = 1 - np.tanh(x) ** 2
    t = np.tanh(W @ x)
    cases = [   # (jacobian, closed form, products left: the primal ones)
        (cr.jacrev(lambda x: cnp.tanh(W @ x)), (1 - t ** 2)[:, None] * W, 1),
        (cr.jacrev(lambda x: 2.0 * cnp.tanh(W @ x)), 2 * (1 - t ** 2)[:, None] * W, 1),
        (cr.jacfwd(lambda x: cnp.tanh(W @ x)), (1 - t ** 2)[:, None] * W, 1),  # W I is W
        (cr.jacfwd(lambda x: W @ cnp.tanh(x)), W * d, 1),
        (cr.jacfwd(lambda x: v @ cnp.tanh(x)), v * d, 1),
        (cr.jacfwd(lambda x: cnp.tanh(x) @ v), v * d, 1),
        (cr.jacfwd(lambda x: cnp.tanh(x) @ M), (d[:, None] * M).T, 1),
        (cr.jacrev(lambda x: cnp.tanh(x) @ M), (d[:, None] * M).T, 1),        # I M.T is M.T
    ]
    for jac, want, products in cases:
        got, eager, staged = _matmuls(monkeypatch, jac, x)
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)
        assert eager == staged == products
    # a product with the basis itself is no work: the Jacobian of x -> W x is W
    assert cr.make_graph(cr.jacrev(lambda x: W @ x))(x).flops() == 2 * n * n - n
    assert cr.make_graph(cr.jacfwd(lambda x: W @ x))(x).flops() == 2 * n * n - n


def test_jacobian_bases_stay_exact_under_nesting_and_complex_numbers():
    r = np.random.default_rng(42)
    n = 6
    W, xs = r.standard_normal((n, n)), r.standard_normal((4, n))
    f = lambda x: cnp.tanh(W @ x)                                   # noqa: E731
    want = np.stack([(1 - np.tanh(W @ x) ** 2)[:, None] * W for x in xs])
    np.testing.assert_allclose(cr.vmap(cr.jacrev(f))(xs), want, rtol=1e-13)
    np.testing.assert_allclose(cr.vmap(cr.jacfwd(f))(xs), want, rtol=1e-13)
    np.testing.assert_allclose(cr.jit(cr.jacrev(f))(xs[0]), want[0], rtol=1e-13)
    Wc = W + 1j * r.standard_normal((n, n))
    z = xs[0] + 0.5j
    tz = np.tanh(Wc @ z)
    for jac in (cr.jacrev, cr.jacfwd):
        got = jac(lambda z: cnp.tanh(Wc @ z), holomorphic=True)(z)
        np.testing.assert_allclose(got, (1 - tz ** 2)[:, None] * Wc, rtol=1e-12)
    # a Hessian: jacfwd of jacrev, the inner basis scaled by a traced derivative
    g = lambda x: cnp.sum(cnp.sin(W @ x))                           # noqa: E731
    s = np.sin(W @ xs[1])
    np.testing.assert_allclose(cr.hessian(g)(xs[1]), -W.T @ (s[:, None] * W), rtol=1e-12,
                               atol=1e-13)



def test_a_scaled_basis_against_a_matrix_of_the_wrong_size_is_left_to_the_general_rule():
    # a row scaling would broadcast (3, 1) * (1, 4) where the product has no answer
    from chainrule._src.prims.products import matmul_p
    d = (np.linspace(1, 2, 3),)
    assert matmul_p.batch_diagonal([np.diag(d[0]), np.ones((1, 4))], [0, None],
                                   [d, None]) is None
    assert matmul_p.batch_diagonal([np.ones((4, 1)), np.diag(d[0])], [None, 0],
                                   [None, d]) is None
    with pytest.raises(ValueError):
        matmul_p.batch([np.diag(d[0]), np.ones((1, 4))], [0, None])
