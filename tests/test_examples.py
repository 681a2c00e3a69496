"""The worked examples in examples/ run and give the seeds' answers.

Each script runs once in fast mode (module-scoped fixtures); the tests then check the
key numbers it returns: FLOP counts and ratios, Jacobians, analytic-vs-autodiff
differences, the cookbook's printed values.
"""
import contextlib
import importlib.util
import io
import pathlib

import numpy as np
import pytest

import chainrule as cr

EXAMPLES = pathlib.Path(__file__).resolve().parents[1] / "examples"


def _load(name):
    spec = importlib.util.spec_from_file_location(f"examples_{name}", EXAMPLES / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _run_main(mod, **kw):
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        res = mod.main(fast=True, **kw)
    return res, buf.getvalue()


# ====================================================================== forward_vs_reverse

@pytest.fixture(scope="module")
def fvr():
    return _load("forward_vs_reverse")


@pytest.fixture(scope="module")
def fvr_main(fvr):
    return _run_main(fvr)


@pytest.mark.parametrize("m,n,p", [(1, 1, 1), (3, 4, 5), (7, 2, 6), (1, 9, 1), (10, 10, 10)])
def test_matmul_count_matches_formula_and_numpy(fvr, m, n, p):
    rng = np.random.default_rng(m * 100 + n * 10 + p)
    A, B = rng.standard_normal((m, n)), rng.standard_normal((n, p))
    R, count = fvr.matmul_count(A, B)
    np.testing.assert_allclose(R, np.matmul(A, B), rtol=1e-13, atol=1e-13)
    assert count == {"mults": m * n * p, "adds": m * p * (n - 1),
                     "total": 2 * m * n * p - m * p}
    assert fvr.matmul_flops(m, n, p) == count


def test_shrinking_chain_costs(fvr):
    # BA: 50x100 @ 100x200, C(BA): 2x50 @ 50x200; CB: 2x50 @ 50x100, (CB)A: 2x100 @ 100x200
    res = fvr.chain_costs(fvr.CHAIN_SHRINKING, use_loop=True)
    assert res["forward"] == (2 * 50 * 100 * 200 - 50 * 200) + (2 * 2 * 50 * 200 - 2 * 200)
    assert res["forward"] == 2_029_600
    assert res["backward"] == (2 * 2 * 50 * 100 - 2 * 100) + (2 * 2 * 100 * 200 - 2 * 200)
    assert res["backward"] == 99_400
    assert res["counted_by"] == {"forward": "loop", "backward": "loop"}
    assert res["ratio_fwd_over_bwd"] == pytest.approx(2_029_600 / 99_400)
    assert res["ratio_fwd_over_bwd"] == pytest.approx(20.42, abs=5e-3)   # backward wins


def test_growing_chain_costs(fvr):
    res = fvr.chain_costs(fvr.CHAIN_GROWING, use_loop=True)   # the cheap order is looped
    assert res["forward"] == 599_000 + 1_998_000 == 2_597_000
    assert res["backward"] == 299_700_000 + 1_198_000 == 300_898_000
    assert res["counted_by"]["forward"] == "loop"
    assert 1 / res["ratio_fwd_over_bwd"] == pytest.approx(115.86, abs=5e-3)  # forward wins


def test_jacobian_three_ways(fvr):
    x = np.array([2.0, 3.0, 2.0])
    expected = np.array([[6.0, 4.0, 0.0], [0.0, 0.0, 4.0]])
    np.testing.assert_array_equal(fvr.jacobian_analytic(x), expected)
    np.testing.assert_array_equal(fvr.jacobian_by_jvp(fvr.func, x), expected)
    np.testing.assert_array_equal(fvr.jacobian_by_vjp(fvr.func, x), expected)
    np.testing.assert_array_equal(cr.jacfwd(fvr.func)(x), expected)
    np.testing.assert_array_equal(cr.jacrev(fvr.func)(x), expected)


def test_value_and_grad_curves(fvr):
    res = fvr.curves(num=21)
    assert set(res) == {"x**2", "sin(x**2)*cos(x)"}
    for name, (xs, vals, grads, err, how) in res.items():
        assert xs.min() > -5 and xs.max() < 5 and vals.shape == grads.shape == xs.shape
        assert err < 1e-12, name
        assert how == ("vmap" if hasattr(cr, "vmap") else "loop")


def test_forward_vs_reverse_main(fvr, fvr_main):
    res, text = fvr_main
    assert "Step 4" in text and "Step 9" in text
    assert res[fvr.CHAIN_SHRINKING]["forward"] == 2_029_600
    assert res[fvr.CHAIN_GROWING]["backward"] == 300_898_000
    J_hand, J_jvp, J_vjp = res["jacobian"]
    np.testing.assert_array_equal(J_jvp, [[6, 4, 0], [0, 0, 4]])
    np.testing.assert_array_equal(J_hand, J_jvp)
    np.testing.assert_array_equal(J_vjp, J_jvp)


# ====================================================================== autodiff_exercises

@pytest.fixture(scope="module")
def ex():
    return _load("autodiff_exercises")


@pytest.fixture(scope="module")
def ex_main(ex):
    return _run_main(ex)


def test_taylor_cosine_gradient(ex):
    xs = np.linspace(-2 * np.pi, 2 * np.pi, 40)      # an even count: 0 is not a node
    g = ex.taylor_cosine_gradient(xs)
    err = np.abs(g + np.sin(xs))
    bound = ex.taylor_truncation_bound(xs)
    assert np.all(err <= bound)
    assert bound.max() < 1e-10 and err.max() < 1e-12
    # the series itself is cos(x), and a scalar grad agrees with elementwise_grad
    np.testing.assert_allclose(ex.taylor_cosine(xs), np.cos(xs), atol=1e-12)
    assert float(cr.grad(ex.taylor_cosine)(1.0)) == pytest.approx(-np.sin(1.0), abs=1e-15)


def test_taylor_cosine_gradient_at_zero(ex):
    with np.errstate(all="raise"):
        assert float(cr.grad(ex.taylor_cosine)(0.0)) == 0.0


def test_taylor_truncation_is_visible_with_few_terms(ex):
    # with 5 terms the derivative of the series misses -sin by about the first omitted
    # term, x^9/9!, and stays within the bound
    x = np.array([2.0, 3.0])
    g = ex.taylor_cosine_gradient(x, n_terms=5)
    err = np.abs(g + np.sin(x))
    assert np.all(err <= ex.taylor_truncation_bound(x, n_terms=5))
    assert np.all(err > 1e-4)


def test_tanh_fourth_derivative(ex):
    xs = np.linspace(-3, 3, 7)
    np.testing.assert_allclose(ex.tanh_d4_autodiff(xs), ex.tanh_d4_analytic(xs),
                               rtol=0, atol=1e-12)


def test_analytic_vs_autodiff(ex):
    with contextlib.redirect_stdout(io.StringIO()):
        errs = ex.compare_all()
    expected = {"quadratic: Hessian", "quadratic: gradient", "trace: gradient",
                "least squares: gradient", "least squares: Hessian", "log(1+exp): gradient",
                "log(1+exp): Hessian", "-log det: gradient", "x^T x x^T x: gradient",
                "x^T x x^T x: Hessian"}
    assert set(errs) == expected
    for name, err in errs.items():
        assert err < 1e-8, name


def test_graph_example_gradient(ex):
    (gx, gy), (ax, ay), graph = ex.graph_example()
    assert abs(gx - ax) < 1e-14 and abs(gy - ay) < 1e-14


def test_hypergradient(ex):
    x0 = np.random.default_rng(0).uniform(0, 1, 1000)
    L = ex.make_hyper_loss(x0)
    # alpha = 1 is already optimal: one unit step reaches the minimum
    assert L(np.ones(10)) == 0.0
    np.testing.assert_array_equal(cr.grad(L)(np.ones(10)), np.zeros(10))
    # the gradient through 10 steps (each with an inner grad) matches the closed form
    alpha = np.linspace(0.05, 0.5, 10)
    np.testing.assert_allclose(cr.grad(L)(alpha), ex.hypergradient_analytic(alpha, x0),
                               rtol=1e-10)
    alpha, losses = ex.hypergradient_descent(np.full(10, 0.1), x0, beta=3e-3, steps=10)
    assert np.all(np.diff(losses) < 0)
    assert losses[-1] < 0.05 * losses[0]


def test_linear_regression(ex):
    X = np.array([1.0, 2.0, 3.0, 4.0])
    Y = 2 * X
    for w in (0.0, 0.7, 2.5):
        assert float(cr.grad(ex.mse)(w, X, Y)) == pytest.approx(ex.manual_gradient(w, X, Y),
                                                               rel=1e-14, abs=1e-14)
    # the seed's manual gradient is N times too large (np.dot sums, .mean() of a scalar)
    assert np.dot(2 * X, 0.0 * X - Y).mean() == pytest.approx(4 * ex.manual_gradient(0.0, X, Y))
    w, iters = ex.train_linreg(X, Y, cr.grad(ex.mse), lr=0.01)
    assert abs(w - 2) < 1e-4 and ex.mse(w, X, Y) < 1e-9
    rows = ex.linreg_timing([10, 100], runs=1)
    for n, iters, tm, ta, dw in rows:
        assert iters > 0 and tm > 0 and ta > 0 and dw == 0.0


def test_exercises_main(ex_main):
    res, text = ex_main
    for section in ("== 1.", "== 2.", "== 3.", "== 4.", "== 5.", "== 6."):
        assert section in text
    assert res["tanh_d4"] < 1e-8
    assert all(e < 1e-8 for e in res["compare"].values())
    alpha, losses = res["hypergrad"]
    assert np.all(np.diff(losses) <= 0) and losses[-1] < losses[0]
    assert len(res["linreg"]) == 4 and [r[0] for r in res["linreg"]] == [10, 100, 1000, 10000]


# ======================================================================= autodiff_cookbook

@pytest.fixture(scope="module")
def cb():
    return _load("autodiff_cookbook")


@pytest.fixture(scope="module")
def cb_main(cb):
    return _run_main(cb)


def test_cookbook_printed_gradients(cb_main, cb):
    res, _ = cb_main
    for k in ("grad_tanh", "grad2_tanh", "grad3_tanh", "W_grad", "b_grad", "loss"):
        assert res[k + "_err"] < cb.PRINT_TOL, k
    assert float(res["grad_tanh"]) == pytest.approx(1 - np.tanh(2.0) ** 2, abs=1e-15)
    np.testing.assert_allclose(res["dict_grad"]["W"], res["W_grad"], rtol=1e-15)
    assert float(res["dict_grad"]["b"]) == pytest.approx(float(res["b_grad"]), rel=1e-15)
    assert res["has_aux_err"] == 0.0


def test_cookbook_has_aux_returns_arrays(cb_main, cb):
    res, _ = cb_main
    assert isinstance(res["has_aux_preds"], np.ndarray)
    W, b = cb.COOKBOOK_W, cb.COOKBOOK_b
    np.testing.assert_allclose(res["has_aux_preds"], cb.predict(W, b, cb.inputs), rtol=1e-15)


def test_cookbook_finite_differences(cb_main):
    res, _ = cb_main
    assert res["b_fd_err"] < 1e-8 and res["W_fd_err"] < 1e-8


def test_cookbook_jacobians_and_hessian(cb_main, cb):
    res, _ = cb_main
    assert res["fwd_eq_rev"]
    np.testing.assert_allclose(res["J_fwd"], res["J_rev"], rtol=1e-14, atol=1e-16)
    assert res["J_err"] < cb.PRINT_TOL and res["J_b_err"] < cb.PRINT_TOL
    assert res["H"].shape == (4, 3, 3) and res["H_err"] < cb.PRINT_TOL
    assert res["H_builtin_err"] < 1e-15
    assert res["hvp_revrev_err"] < 1e-12


def test_cookbook_jvp_vjp(cb_main):
    res, _ = cb_main
    assert res["jvp_err"] < 1e-14 and res["vjp_err"] < 1e-14
    np.testing.assert_array_equal(res["vgrad"], np.full((2, 2), 6.0))


def test_cookbook_hvp_formulations(cb_main, cb):
    res, _ = cb_main
    assert res["hvp"]["fwdrev_vs_hessian"]
    assert set(res["hvp"]["errs"]) == {"forward-over-reverse", "dense Hessian",
                                       "reverse-over-forward", "reverse-over-reverse",
                                       "cr.hvp (built in)"}
    for name, err in res["hvp"]["errs"].items():
        assert err < 1e-12, name
    # the cookbook's own size for the tensordot(hessian(f)(X), V, 2) check
    with contextlib.redirect_stdout(io.StringIO()):
        out = cb.section_hvp(shape=(30, 40), timing=False)
    assert out["fwdrev_vs_hessian"]


def test_cookbook_matrix_jacobian_products(cb_main):
    res, _ = cb_main
    assert res["mjp"]["loop_mjp_err"] < 1e-14 and res["mjp"]["loop_jmp_err"] < 1e-14
    if not hasattr(cr, "vmap"):
        assert res["mjp"]["vmap"] is None
        pytest.skip("needs vmap (issue #3)")
    for name, err in res["mjp"]["vmap"].items():
        assert err < 1e-14, name


def test_cookbook_vjp_of_dynamic_function(cb_main):
    res, _ = cb_main
    (ct,) = res["jit_vjp"]
    assert float(ct) == pytest.approx(np.pi, rel=1e-15)


def test_cookbook_complex(cb_main, cb):
    res, _ = cb_main
    c = res["complex"]
    assert c["jvp_checks"] == [True] * 3 and c["vjp_checks"] == [True] * 3
    assert c["grad_abs2"] == 6 - 8j
    assert c["grad_sin_holo"] == pytest.approx(np.cos(3 + 4j), rel=1e-14)
    assert c["grad_conj_holo"] == 1
    assert c["cholesky_grad_err"] < 2e-5       # the cookbook prints complex64
    # cholesky's gradient is Hermitian, as JAX's: the cookbook's printout (complex64)
    # as it is, no symmetrising by hand
    G = c["cholesky_grad"]
    np.testing.assert_allclose(G, G.conj().T, atol=1e-12)
    assert c["cholesky_hermitian"] < 1e-12
    assert c["cholesky_dir_diff"] < 1e-6


def test_cookbook_advanced(cb_main):
    a = cb_main[0]["advanced"]
    assert a["gnvp_err"] < 1e-14
    est, stderr, exact = a["hutchinson"]
    assert abs(est - exact) < 5 * stderr + 1e-12
    assert a["log1pexp_grad"] == 1.0
    expected = np.clip(np.cos([0.0, 1.0, 2.0, 3.0]), -0.75, 0.75)
    np.testing.assert_allclose(a["clip_grads"], expected, atol=1e-15)
    np.testing.assert_allclose(a["clip_grads_nondiff"], expected, atol=1e-15)
    assert a["checkpoint_err"] == 0.0
    assert a["stop_gradient"] == 4.0


# ====================================================================== scale/glm.py

@pytest.mark.filterwarnings("ignore:scipy.optimize:DeprecationWarning")   # (dask-glm calls L-BFGS-B with disp=)
def test_scale_glm_small(tmp_path):
    """The Dask showcase in its --small form: a LocalCluster of two worker processes,
    data written as .npy chunks and read back, Newton and L-BFGS on both models; the
    coefficients agree with NumPy's on the slice and with dask-glm's (when installed)."""
    pytest.importorskip("dask.array")
    pytest.importorskip("distributed")
    spec = importlib.util.spec_from_file_location("examples_scale_glm",
                                                  EXAMPLES / "scale" / "glm.py")
    glm = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(glm)
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        out = glm.main(["--small", "--quiet", "--data", str(tmp_path)])
    assert list((tmp_path).glob("*/X/0.npy"))            # written as chunks on disk
    for kind in ("logistic", "poisson"):
        assert out["slice"][kind]["max_abs_diff"] < 1e-10
        newton = out["fits"][(kind, "newton", "chainrule")]
        lbfgs = out["fits"][(kind, "lbfgs", "chainrule")]
        assert newton["nit"] >= 2 and newton["computations"] == newton["nit"] + 1
        np.testing.assert_allclose(lbfgs["w"], newton["w"], atol=1e-7)
        # the true coefficients are recovered to the sampling error of 20,000 rows
        beta = glm._true_coefficients(5, 0)[kind]
        assert np.max(np.abs(newton["w"] - beta)) < 0.1
        glm_newton = out["fits"].get((kind, "newton", "dask-glm"))
        if glm_newton is not None:
            np.testing.assert_allclose(glm_newton["w"], newton["w"], atol=1e-8)
            np.testing.assert_allclose(out["fits"][(kind, "lbfgs", "dask-glm")]["w"],
                                       newton["w"], atol=1e-5)
    assert "largest coefficient difference" in buf.getvalue()
