"""Seed 001 — automatic differentiation exercises: analytic vs autodiff, the 4th
derivative of tanh, a computational graph, a hypergradient, and the timing of manual
vs automatic gradients in linear regression.

The sheet, in its order:

  1  the gradient of a Taylor series of cos(x) (autograd's ``grad``);
  2  linear regression by gradient descent with the manual gradient replaced by
     autodiff; time both until the MSE is below 1e-9 for n in np.logspace(1, 4),
     three runs each (and cr.jit of the autodiff gradient), written as a plot;
  3  the 4th derivative of tanh;
  4  analytic vs autodiff for 1/2 x^T A x + b^T x + c (Hessian), tr(A X B) (gradient),
     1/2 ||Ax - b||^2 and ln(1 + exp<a, x>) (gradient and Hessian), -log det X
     (gradient), x^T x x^T x (gradient and Hessian);
  5  the computational graph of f(x, y) = exp(-(sin x - cos y)^2), drawn automatically;
  6  the hypergradient: L(alpha) = f(x_10) after 10 gradient-descent steps on
     f(x) = 1/2 ||x||^2 from x0 in [0, 1]^1000, minimised over the 10 step sizes.

Run:  python examples/course/seed001_exercises.py [--fast] [--out DIR]
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _course  # noqa: E402

import numpy as np  # noqa: E402

import chainrule as cr  # noqa: E402
import chainrule.numpy as cnp  # noqa: E402
import chainrule.optim as optim  # noqa: E402

import autodiff_exercises as ex  # noqa: E402  (examples/autodiff_exercises.py)


def graph_f(x, y):
    return cnp.exp(-(cnp.sin(x) - cnp.cos(y)) ** 2)


# ------------------------------------------------------------------ 6. hypergradient

def hypergradient_runs(x0, alpha0, steps, beta):
    """Minimise L(alpha) three ways with chainrule.optim: the sheet's rule
    alpha <- alpha - beta dL/dalpha (optim.sgd(beta)), Adam, and gradient descent with
    an Armijo line search (optim.gradient_descent). Returns {name: (alpha, losses)}."""
    L = ex.make_hyper_loss(x0)          # 10 steps x_{k+1} = x_k - alpha_k grad f(x_k)
    vg = cr.value_and_grad(L)
    out = {}
    for name, opt in ((f"sheet's rule, beta = {beta:g} (optim.sgd)", optim.sgd(beta)),
                      ("optim.adam(0.05)", optim.adam(0.05))):
        alpha, losses = np.array(alpha0, float), []
        state = opt.init(alpha)
        for _ in range(steps):
            value, g = vg(alpha)
            losses.append(float(value))
            updates, state = opt.update(g, state, alpha)
            alpha = optim.apply_updates(alpha, updates)
        losses.append(float(L(alpha)))
        out[name] = (alpha, np.array(losses))
    res = optim.gradient_descent(L, np.array(alpha0, float), max_iter=steps, tol=1e-10)
    out["optim.gradient_descent (Armijo)"] = (res.x, np.array(res.history.f))
    return out


# ---------------------------------------------------- 2. manual vs autodiff timing

def timing_study(ns, runs=3, eps=1e-9):
    """Seconds to train w (f = w x, data y = 2 x) until MSE < eps, for each n and each
    gradient: the hand-written one, cr.grad and cr.jit(cr.grad). Every run is kept.
    Returns {"n": ns, "iters": ..., name: array (len(ns), runs)}."""
    grads = {"manual": ex.manual_gradient, "cr.grad": cr.grad(ex.mse),
             "cr.jit(cr.grad)": cr.jit(cr.grad(ex.mse))}
    times = {name: np.zeros((len(ns), runs)) for name in grads}
    iters = []
    for i, n in enumerate(ns):
        X, Y = ex.linreg_data(int(n))
        ws = {}
        for r in range(runs):
            for name, g in grads.items():          # interleaved: noise hits all alike
                t0 = time.perf_counter()
                w, it = ex.train_linreg(X, Y, g, eps=eps)
                times[name][i, r] = time.perf_counter() - t0
                ws[name] = (w, it)
        its = {it for _, it in ws.values()}
        assert len(its) == 1, "the same gradient values must take the same iterations"
        assert max(abs(w - ws["manual"][0]) for w, _ in ws.values()) < 1e-12
        iters.append(its.pop())
    return {"n": np.asarray(ns, int), "iters": np.array(iters), **times}


def plot_timing(study, path):
    fig, ax = _course.figure(figsize=(6.4, 4.2), what="the timing plot")
    if fig is None:
        return None
    n = study["n"]
    for name, style in (("manual", "o-"), ("cr.grad", "s-"), ("cr.jit(cr.grad)", "^-")):
        t = 1e3 * study[name]
        mean = t.mean(axis=1)
        ax.errorbar(n, mean, yerr=[mean - t.min(axis=1), t.max(axis=1) - mean], fmt=style,
                    ms=3, capsize=2, label=f"{name} gradient")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("n (data points)")
    ax.set_ylabel("time to MSE < 1e-9 [ms]  (mean, min-max of 3 runs)")
    ax.set_title("Linear regression by gradient descent: manual vs autodiff")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    return _course.save(fig, path)


def plot_hyper_and_tanh(runs, tanh_curves, path):
    fig, axes = _course.figure(ncols=2, figsize=(11, 4), what="the hypergradient plot")
    if fig is None:
        return None
    ax = axes[0][0]
    for name, (_, losses) in runs.items():
        ax.semilogy(np.arange(len(losses)), np.maximum(losses, 1e-300), ".-", ms=3, label=name)
    ax.set_xlabel("outer iteration (updates of the 10 step sizes)")
    ax.set_ylabel("L(alpha) = f(x_10)")
    ax.set_title("Hypergradient descent from alpha = 0.1")
    ax.legend(fontsize=8)
    ax = axes[0][1]
    xs, ds = tanh_curves
    for k, d in enumerate(ds):
        ax.plot(xs, d, label="tanh" if k == 0 else f"d^{k}/dx^{k} tanh")
    ax.set_title("tanh and its derivatives (vmap of nested grad)")
    ax.set_xlabel("x")
    ax.legend(fontsize=8)
    return _course.save(fig, path)


def main(fast=False, out_dir="out"):
    res = {}

    _course.section("1. The gradient of a Taylor series of cos(x)")
    xs = np.linspace(-2 * np.pi, 2 * np.pi, 25)
    g = ex.taylor_cosine_gradient(xs)              # cr.elementwise_grad of the series
    err = np.abs(g + np.sin(xs))
    print(f"  30 terms, x in [-2pi, 2pi]: max |d/dx series + sin x| = {err.max():.1e} "
          f"(truncation + rounding bound {ex.taylor_truncation_bound(xs).max():.1e})")
    print(f"  cr.grad(taylor_cosine)(1.0) = {float(cr.grad(ex.taylor_cosine)(1.0)):.15f};"
          f" -sin(1) = {-np.sin(1.0):.15f}")
    res["taylor_err"] = float(err.max())

    _course.section("2. Linear regression: manual vs autodiff gradient, and their timings")
    X = np.array([1.0, 2.0, 3.0, 4.0])
    Y = 2 * X
    seed_grad = np.dot(2 * X, 0.0 * X - Y).mean()
    res["seed_manual_grad"] = float(seed_grad)
    res["autodiff_grad"] = float(cr.grad(ex.mse)(0.0, X, Y))
    print(f"  the sheet's data, w = 0: its gradient np.dot(2*x, y_pred - y).mean() = "
          f"{seed_grad:g}; cr.grad(mse) = {res['autodiff_grad']:g}")
    print("  (np.dot already sums, so .mean() of a scalar divides by nothing: the sheet's")
    print("  'gradient' is N = 4 times too large; we time the corrected one,")
    print("  2 np.dot(x, w x - y) / N)")
    w, iters = ex.train_linreg(X, Y, cr.grad(ex.mse), lr=0.01)
    print(f"  trained with cr.grad (lr 0.01, the sheet's): w = {w:.6f} after {iters} steps; "
          f"f(5) = {5 * w:.6f}")
    ns = np.unique(np.logspace(1, 4, 4 if fast else 50).astype(int))
    study = timing_study(ns, runs=3)
    res["timing"] = study
    print(f"  time to MSE < 1e-9 with lr 0.1, {len(ns)} values of n from np.logspace(1, 4), "
          "3 runs each (mean):")
    print(f"  {'n':>6s} {'iters':>5s} {'manual [ms]':>12s} {'cr.grad [ms]':>13s} "
          f"{'cr.jit [ms]':>12s} {'grad/manual':>11s}")
    show = sorted(set(range(0, len(ns), max(1, len(ns) // 6))) | {len(ns) - 1})
    for i in show:
        tm, ta, tj = (1e3 * study[k][i].mean() for k in ("manual", "cr.grad", "cr.jit(cr.grad)"))
        print(f"  {ns[i]:6d} {study['iters'][i]:5d} {tm:12.3f} {ta:13.3f} {tj:12.3f} "
              f"{ta / tm:11.1f}")
    per_step = {k: float(np.median(study[k].mean(axis=1) / study["iters"]))
                for k in ("manual", "cr.grad", "cr.jit(cr.grad)")}
    print("  median time per iteration (gradient + the MSE test): " + ", ".join(
        f"{k} {1e6 * v:.1f} us" for k, v in per_step.items()))
    print("  The manual gradient is a couple of NumPy calls; autodiff adds a fixed cost per\n"
          "  call (tracing and the backward pass) that large n amortises, and jit removes\n"
          "  part of it. The iterations are identical: both compute the same numbers.")
    res["timing_per_step"] = per_step
    res["timing_plot"] = plot_timing(study, _course.out_file(out_dir, "seed001_timing.png"))
    _course.section("3. The 4th derivative of tanh")
    d4 = cr.grad(cr.grad(cr.grad(cr.grad(cnp.tanh))))
    print("  d4 = cr.grad(cr.grad(cr.grad(cr.grad(cnp.tanh))));  by hand, t = tanh x:")
    print("  t' = 1 - t^2, t'' = -2t(1 - t^2), t''' = -2(1 - t^2)(1 - 3t^2), "
          "t'''' = 8t(1 - t^2)(2 - 3t^2)")
    for x in (0.0, 0.5, 1.0, 2.0):
        print(f"    x = {x}: autodiff {float(d4(x)): .15f}, analytic "
              f"{float(ex.tanh_d4_analytic(x)): .15f}")
    grid = np.linspace(-3, 3, 61 if fast else 301)
    batched = [cnp.tanh]
    for _ in range(4):
        batched.append(cr.grad(batched[-1]))
    tanh_curves = (grid, [cr.vmap(f)(grid) for f in batched])
    d4_err = float(np.max(np.abs(tanh_curves[1][4] - ex.tanh_d4_analytic(grid))))
    print(f"  cr.vmap(d4) on {grid.size} points of [-3, 3]: max |autodiff - analytic| = "
          f"{d4_err:.1e}")
    res["tanh_d4_at"] = {x: float(d4(x)) for x in (0.0, 0.5, 1.0, 2.0)}
    res["tanh_d4_err"] = d4_err

    _course.section("4. Analytic vs autodiff gradients and Hessians")
    res["compare"] = ex.compare_all()               # prints one line each; asserts < 1e-8

    _course.section("5. The computational graph of f(x, y) = exp(-(sin x - cos y)^2)")
    graph = cr.make_graph(graph_f)(1.0, 2.0)
    print(graph)
    res["graph_ops"] = [e.prim.name for e in graph.eqns]
    res["graph_svg"] = graph.save(_course.out_file(out_dir, "seed001_graph.svg"))
    grad_graph = cr.make_graph(cr.grad(graph_f, argnums=(0, 1)))(1.0, 2.0)
    res["grad_graph_svg"] = grad_graph.save(_course.out_file(out_dir, "seed001_grad_graph.svg"))
    print(f"  picture: {res['graph_svg']}; its gradient's program (forward and backward, "
          f"{len(grad_graph.eqns)} primitives): {res['grad_graph_svg']}")
    (gx, gy), (ax_, ay), _ = ex.graph_example(1.0, 2.0)
    res["graph_grad_err"] = ex.report("gradient (df/dx, df/dy) at (1, 2)", [gx, gy], [ax_, ay])

    _course.section("6. Hypergradient: optimise the 10 step sizes of gradient descent")
    x0 = np.random.default_rng(0).uniform(0, 1, 1000)
    L = ex.make_hyper_loss(x0)
    L1, g1 = cr.value_and_grad(L)(np.ones(10))
    print(f"  the sheet's start alpha = 1: L = {float(L1):.3g}, |dL/dalpha| = "
          f"{np.abs(g1).max():.3g}. With f = 1/2 ||x||^2 one step of size 1 lands on x = 0:")
    print("  alpha = 1 is already optimal and every optimiser stays there. We start at")
    print("  alpha = 0.1 instead (ten small steps), where there is something to learn.")
    alpha0 = np.full(10, 0.1)
    res["hypergrad_check"] = ex.report("dL/dalpha at alpha = 0.1 vs analytic",
                                       cr.grad(L)(alpha0), ex.hypergradient_analytic(alpha0, x0),
                                       tol=1e-8 * (x0 @ x0))
    steps = 30 if fast else 60
    runs = hypergradient_runs(x0, alpha0, steps, beta=3e-3)
    print(f"  {'optimiser':42s} {'L(0.1)':>10s} {'after 1':>10s} {'after 5':>10s} "
          f"{'last':>10s} {'iters':>5s}  alpha_1..alpha_3")
    for name, (alpha, losses) in runs.items():
        after5 = losses[min(5, len(losses) - 1)]
        print(f"  {name:42s} {losses[0]:10.3e} {losses[1]:10.3e} {after5:10.3e}"
              f" {losses[-1]:10.3e} {len(losses) - 1:5d}  {np.round(alpha[:3], 4)}")
    print("  L = 1/2 prod(1 - alpha_k)^2 ||x0||^2: the minimum is the whole set where some\n"
          "  alpha_k = 1, and dL/dalpha_j = -2L/(1 - alpha_j) vanishes as L does. The sheet's\n"
          "  fixed beta makes one big first step and then crawls (sublinear); Adam's\n"
          "  normalised steps keep moving, and the Armijo step, which grows while the\n"
          "  gradient shrinks, converges linearly. The alphas stay equal to each other:\n"
          "  L is symmetric in them, and so is every update.")
    res["hypergrad"] = {k: (a, l) for k, (a, l) in runs.items()}
    res["hyper_plot"] = plot_hyper_and_tanh(runs, tanh_curves,
                                            _course.out_file(out_dir, "seed001_hypergrad_tanh.png"))

    return res


if __name__ == "__main__":
    args = _course.parse_args(__doc__)
    main(fast=args.fast, out_dir=args.out)
