"""The runnable course (examples/course/): each seed's script runs in fast mode and its
answers match the analytic values.

Every script's ``main(fast=True, out_dir=...)`` runs once (module-scoped fixtures,
stdout captured); the tests check the numbers it returns: FLOP formulas, the Jacobian
of the seed-000 function, the 4th derivative of tanh, the cookbook's printed values,
the make_moons accuracy, Newton's one step on a quadratic, which optimiser wins where.
Nothing here asserts a timing. matplotlib, tqdm and scikit-learn are optional: the
tests pass without them (plots are then skipped with a printed note).
"""
import contextlib
import importlib
import io
import math
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

COURSE = pathlib.Path(__file__).resolve().parents[1] / "examples" / "course"
sys.path.insert(0, str(COURSE))

try:
    import matplotlib  # noqa: F401
    HAVE_MPL = True
except ImportError:
    HAVE_MPL = False


def _run(name, out_dir):
    mod = importlib.import_module(name)
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        res = mod.main(fast=True, out_dir=str(out_dir))
    return mod, res, buf.getvalue()


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("course_out")


def _plot_written(path):
    if HAVE_MPL:
        assert path is not None and os.path.getsize(path) > 5000
    else:
        assert path is None


# ============================================================================ seed 000

@pytest.fixture(scope="module")
def s000(out_dir):
    return _run("seed000_forward_reverse", out_dir)


def test_s000_matmul_flops_formula(s000):
    _, res, _ = s000
    for (m, n, p), loop, graph, formula in res["matmul"]:
        assert loop == graph == formula == 2 * m * n * p - m * p


@pytest.mark.parametrize("label,fwd,bwd", [
    # C(BA): 50x100 @ 100x200 then 2x50 @ 50x200; (CB)A: 2x50 @ 50x100 then 2x100 @ 100x200
    ("shrinking (200 -> 2)", (2 * 50 * 100 * 200 - 50 * 200) + (2 * 2 * 50 * 200 - 2 * 200),
     (2 * 2 * 50 * 100 - 2 * 100) + (2 * 2 * 100 * 200 - 2 * 200)),
    ("growing (2 -> 1000)", (2 * 500 * 300 * 2 - 500 * 2) + (2 * 1000 * 500 * 2 - 1000 * 2),
     (2 * 1000 * 500 * 300 - 1000 * 300) + (2 * 1000 * 300 * 2 - 1000 * 2)),
])
def test_s000_chain_orders(s000, label, fwd, bwd):
    c = s000[1]["chains"][label]
    assert (c["forward"], c["backward"]) == (c["forward_formula"], c["backward_formula"]) \
        == (fwd, bwd)
    assert c["jacobian_ok"]
    assert c["jacfwd"] == c["jacfwd_predicted"] and c["jacrev"] == c["jacrev_predicted"]
    if label.startswith("shrinking"):
        assert c["ratio"] == pytest.approx(2_029_600 / 99_400) and c["jacrev"] < c["jacfwd"]
    else:
        assert 1 / c["ratio"] > 100 and c["jacfwd"] < c["jacrev"]


def test_s000_jacobian_by_jvp_columns_and_vjp_rows(s000):
    res = s000[1]
    J = np.array([[6.0, 4.0, 0.0], [0.0, 0.0, 4.0]])
    for key in ("J_hand", "J_jvp", "J_vjp", "J_jacfwd", "J_jacrev"):
        np.testing.assert_array_equal(res[key], J)


def test_s000_vmap_value_and_grad_curves(s000):
    _, res, text = s000
    assert set(res["curve_errors"]) >= {"x**2", "sin(x**2)*cos(x)"}
    assert max(res["curve_errors"].values()) < 1e-12
    assert "[vmap]" in text
    _plot_written(res["curves_plot"])


# ============================================================================ seed 001

@pytest.fixture(scope="module")
def s001(out_dir):
    return _run("seed001_exercises", out_dir)


def test_s001_taylor_and_tanh(s001):
    res = s001[1]
    assert res["taylor_err"] < 1e-12
    for x, d4 in res["tanh_d4_at"].items():
        t = math.tanh(x)
        assert d4 == pytest.approx(8 * t * (1 - t ** 2) * (2 - 3 * t ** 2), abs=1e-12)
    assert res["tanh_d4_at"][0.5] == pytest.approx(3.952219563724583, rel=1e-12)
    assert res["tanh_d4_err"] < 1e-12


def test_s001_every_analytic_comparison(s001):
    errs = s001[1]["compare"]
    assert len(errs) == 10
    assert max(errs.values()) < 1e-8


def test_s001_graph_svg(s001):
    res = s001[1]
    assert res["graph_ops"] == ["sin", "cos", "subtract", "power", "negative", "exp"]
    for key in ("graph_svg", "grad_graph_svg"):
        text = pathlib.Path(res[key]).read_text()
        assert text.lstrip().startswith("<svg") and "exp" in text
    assert res["graph_grad_err"] < 1e-12


def test_s001_hypergradient(s001):
    res = s001[1]
    assert res["hypergrad_check"] < 1e-6
    runs = res["hypergrad"]
    sheet = next(v for k, v in runs.items() if k.startswith("sheet"))
    adam, armijo = runs["optim.adam(0.05)"], runs["optim.gradient_descent (Armijo)"]
    assert np.all(np.diff(sheet[1]) <= 0)                  # the sheet's rule only descends
    assert armijo[1][-1] < 1e-8 * armijo[1][0]             # the line search gets to ~0
    assert adam[1][-1] < sheet[1][-1]
    for alpha, _ in runs.values():                         # L is symmetric in the alphas
        assert np.ptp(alpha) < 1e-12


def test_s001_linear_regression_study(s001):
    res = s001[1]
    assert res["seed_manual_grad"] == -120.0 and res["autodiff_grad"] == -30.0
    study = res["timing"]
    assert study["n"][0] == 10 and study["n"][-1] == 10_000
    for name in ("manual", "cr.grad", "cr.jit(cr.grad)"):
        assert study[name].shape == (len(study["n"]), 3) and np.all(study[name] > 0)
    assert np.all(study["iters"] > 0)
    _plot_written(res["timing_plot"])


# ============================================================================ seed 002

@pytest.fixture(scope="module")
def s002(out_dir):
    return _run("seed002_cookbook", out_dir)


def test_s002_cookbook_values(s002):
    res = s002[1]
    assert len(res["printed_errors"]) >= 15
    assert not res["printed_mismatches"]
    assert res["fwd_eq_rev"]
    assert res["grad_tanh"] == pytest.approx(0.070650935, abs=1e-6)
    assert res["loss"] == pytest.approx(3.051939, abs=1e-5)


def test_s002_jit_gives_the_same_numbers(s002):
    jit = s002[1]["jit"]
    assert len(jit) == 6
    assert all(v["same"] for v in jit.values())


# ============================================================================ seed 003

@pytest.fixture(scope="module")
def s003(out_dir):
    return _run("seed003_moons", out_dir)


def test_s003_training_accuracy(s003):
    res = s003[1]
    assert res["accuracy"] >= 0.97
    assert res["loss"] < 0.05 * res["first_loss"]
    assert res["homework_accuracy"] >= 0.97


def test_s003_homework_libraries_agree_with_chainrule(s003):
    res = s003[1]
    assert set(res["gradient_diff"]) == {"scalar", "vectorized"}
    assert max(res["gradient_diff"].values()) < 1e-10
    assert res["trajectory_diff"] < 1e-8


def test_s003_speed_table(s003):
    rates = s003[1]["steps_per_s"]
    assert set(rates) == {"scalar, 2-5-5-1", "scalar", "vectorised", "chainrule eager",
                          "chainrule jit", "chainrule eager, homework code",
                          "chainrule jit, homework code"}
    assert all(r > 0 for r in rates.values())


def test_s003_plots(s003):
    plots = s003[1]["plots"]
    if HAVE_MPL:
        _plot_written(plots["boundary"])
        _plot_written(plots["loss"])
    else:
        assert plots == {}


def test_s003_steppers_train_identically():
    """Every implementation's step gives the same losses from the same weights."""
    mod = importlib.import_module("seed003_moons")
    X, y = mod.moons()
    params = mod.homework_model([5, 5]).init(1)
    steps = mod.steppers(X, y, params, ["scalar", "vectorised", "vectorised + accuracy",
                                        "chainrule eager", "chainrule jit",
                                        "chainrule eager, homework code",
                                        "chainrule jit, homework code"], hidden=[5, 5])
    losses = {k: [float(f()) for _ in range(3)] for k, f in steps.items()}
    ref = losses["chainrule eager"]
    for k, v in losses.items():
        np.testing.assert_allclose(v, ref, rtol=1e-12, err_msg=k)


# ============================================================================ seed 004

@pytest.fixture(scope="module")
def s004(out_dir):
    return _run("seed004_optimisation", out_dir)


def test_s004_newton_one_step_on_the_quadratic(s004):
    q = s004[1]["part1"]["quadratic"]
    nt = q["Newton, exact Hessian (Cholesky)"]
    gd = q["gradient descent (Armijo)"]
    assert nt["nit"] == 1 and nt["converged"] and nt["err"] < 1e-10
    assert gd["converged"] and gd["nit"] > 50
    assert q["Newton-CG (Hessian-vector products)"]["converged"]
    p1 = s004[1]["part1"]
    assert p1["newton2"].nit == 1 and p1["gd2"].converged and p1["gd2"].nit > 20


def test_s004_constant_steps_need_adapting(s004):
    const = s004[1]["part1"]["constant"]
    f0 = const[1.0].history.f[0]
    assert not const[0.05].converged                    # crawls
    assert const[1.0].converged and const[1.9].converged
    assert const[1.9].nit < const[1.0].nit
    assert not const[2.1].converged and const[2.1].fun > 1e10 * abs(f0)   # diverges


def test_s004_non_quadratic_landscape(s004):
    p2 = s004[1]["part2"]
    runs = {k: v["result"] for k, v in p2["runs"].items()}
    assert runs["Newton, full step (step size 1)"].message.startswith("diverged")
    assert runs["Newton, fixed step size 0.5"].message.startswith("diverged")
    for name in ("Newton + Armijo line search", "gradient descent (Armijo)",
                 "Newton, Levenberg damping (H + I)"):
        r = runs[name]
        assert r.converged, name
        np.testing.assert_allclose(np.asarray(r.x), p2["x_star"], atol=1e-6)
        assert r.fun == pytest.approx(p2["f_star"], abs=1e-12)
    assert runs["Newton + Armijo line search"].nit < runs["gradient descent (Armijo)"].nit
    assert min(runs["Newton + Armijo line search"].history.step_size) < 1   # it backtracked


def test_s004_step_size_sweep(s004):
    p3 = s004[1]["part3"]
    runs = p3["runs"]
    assert runs[0.3]["verdict"] == "diverges" and 0.3 > 2 / p3["L"]
    assert runs[0.001]["verdict"].startswith("stagnation")
    assert min(r["final"] for r in runs.values()) < 1.1 * p3["optimum"]
    assert runs[0.2]["final"] > runs[0.03]["final"]     # a larger step, a higher floor


def test_s004_batch_size_sweep(s004):
    p4 = s004[1]["part4"]
    assert list(p4) == ["1", "4", "16", "64", "256", "full"]
    assert p4["1"]["steps"] > p4["16"]["steps"] > p4["full"]["steps"]
    assert p4["16"]["final"] < p4["1"]["final"]          # batch 1: a noise floor
    assert p4["16"]["final"] < p4["full"]["final"]       # full batch: too few steps


def test_s004_deep_learning_regression(s004):
    p5 = s004[1]["part5"]
    assert p5["val_mse"] < 0.05 and p5["train_mse"] < 0.2 * p5["first_loss"]
    if HAVE_MPL:
        _plot_written(p5["loss_plot"])
        _plot_written(p5["fit_plot"])


def test_s004_rmae_and_sample_size(s004):
    p6 = s004[1]["part6"]
    assert p6["rmae_train"] < 0 < p6["rmae_test"]
    small, large = p6["sample_size"][12], p6["sample_size"][1024]
    assert small["steps_train"] < 0.25 < small["steps_test"]
    assert small["steps_test"] > large["steps_test"]


def test_s004_autodiff_costs(s004):
    p7 = s004[1]["part7"]
    assert p7["flops_loss"] < p7["flops_grad_w"] < p7["flops_grad_wx"]
    assert p7["flops_grad_w"] < 4 * p7["flops_loss"]     # reverse mode: a few times the loss
    assert p7["flops_fwd"] > 100 * p7["flops_rev"]


def test_s004_plots(s004):
    res = s004[1]
    _plot_written(res["landscape_plot"])
    _plot_written(res["sweep_plot"])


# ====================================================================== without extras

def test_plots_are_skipped_without_matplotlib(tmp_path, monkeypatch):
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)      # import matplotlib -> ImportError
    mod = importlib.import_module("seed000_forward_reverse")
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        plot = mod.plot_curves({"x**2": (np.zeros(3), np.zeros(3), np.zeros(3), 0.0, "vmap")},
                               str(tmp_path / "x.png"))
        s3 = importlib.import_module("seed003_moons")
        X, y = s3.moons(20)
        model = s3.homework_model([3, 3])
        hist = type("H", (), {"params": model.init(0), "last": {"accuracy": 1.0}})()
        paths = s3.plot_results(model, hist, X, y, str(tmp_path))
    assert plot is None and paths == {}
    assert "matplotlib is not installed" in buf.getvalue()
    assert not list(tmp_path.iterdir())


def test_make_moons_without_scikit_learn(monkeypatch):
    mod = importlib.import_module("seed003_moons")
    X1, y1 = mod.moons()
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    X2, y2 = mod.moons()
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)


def test_command_line(tmp_path):
    out = subprocess.run([sys.executable, str(COURSE / "seed000_forward_reverse.py"), "--fast",
                          "--out", str(tmp_path)], capture_output=True, text=True, timeout=120,
                         cwd=str(tmp_path), check=False)
    assert out.returncode == 0, out.stderr
    assert "Steps 6-8" in out.stdout
    assert (tmp_path / "seed000_curves.png").exists() == HAVE_MPL
