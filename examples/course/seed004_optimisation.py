"""Seed 004 — optimisation: gradient descent vs Newton's method on a quadratic and on a
non-quadratic landscape, step-size and batch-size sweeps, and a small deep-learning
regression, with chainrule.optim and chainrule.nn.

The assignment plan, part by part:

  1  GD with a simple adaptive step (Armijo backtracking) vs Newton's method on a
     quadratic landscape: why the step must adapt (constant steps crawl or diverge),
     steps and time of each; Newton converges in one step.
  2  a more realistic, non-quadratic landscape (a log-sum-exp, as in softmax models),
     where the full Newton step diverges: Newton needs step control (a line search),
     gradient descent with the same simple scheme is fine.
  3  (optional) vary the constant step size of SGD: stagnation vs oscillation.
  4  (optional) vary the batch size: cheap noisy steps vs accurate expensive ones.
  5  deep learning: fit sin(x) on [-3, 3] with a small MLP (nn.fit), loss curve.
  6  (optional) relative mean absolute error below the "optimal" one, and the sample
     size: training error vs an independent test set.
  7  autodiff optimisation: constant data, reverse mode's reuse of intermediate
     results (vs forward mode), and jit's graph optimisations, measured.

Run:  python examples/course/seed004_optimisation.py [--fast] [--out DIR]
"""
import os
import sys
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _course  # noqa: E402

import numpy as np  # noqa: E402

import chainrule as cr  # noqa: E402
import chainrule.numpy as cnp  # noqa: E402
import chainrule.nn as nn  # noqa: E402
import chainrule.optim as optim  # noqa: E402


REPEAT = [3]    # timings are the best of this many runs (1 with --fast)


def timed(fn):
    """(fn(), the best wall time of REPEAT runs): single runs of a few ms are noisy."""
    best = float("inf")
    for _ in range(REPEAT[0]):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return out, best


def row(name, res, dt):
    """One printed line of a DescentResult."""
    steps = max(res.nit, 1)
    print(f"  {name:34s} {res.nit:6d} {res.nfev:6d} {res.ngev:5d} {res.nhev:4d} "
          f"{1e3 * dt:9.2f} {1e6 * dt / steps:9.1f}  {res.fun: .10g}  {res.message[:40]}")


HEADER = (f"  {'method':34s} {'steps':>6s} {'f-evs':>6s} {'grads':>5s} {'hess':>4s} "
          f"{'time [ms]':>9s} {'us/step':>9s}  {'final f':>17s}  stop reason")


# ============================================================ 1. quadratic landscape

def quadratic(n, cond, seed=0):
    """f(x) = 1/2 x^T A x - b^T x with A = Q diag(eigenvalues from 1 to cond) Q^T."""
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    A = (Q * np.logspace(0, np.log10(cond), n)) @ Q.T
    A = (A + A.T) / 2
    b = rng.standard_normal(n)
    return (lambda x: 0.5 * x @ A @ x - b @ x), A, b


def part1(fast):
    out = {}
    print("  f(x) = 1/2 x^T A x - b^T x; the minimum solves A x = b. A 2-D one (condition 25)")
    print("  for the picture, an n-dimensional one (condition 100) for the timing.")
    f2, A2, _ = quadratic(2, 25.0, seed=3)
    x0 = np.array([-4.0, 3.5])
    L = np.linalg.eigvalsh(A2).max()
    print(f"\n  Why an adaptive step? Constant steps a on the 2-D quadratic (L = largest "
          f"curvature = {L:.3g}; GD is stable only for a < 2/L = {2 / L:.3g}):")
    print("  " + HEADER.strip())
    out["constant"] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for frac in (0.05, 1.0, 1.9, 2.1):
            a = frac / L
            r, dt = timed(lambda a=a: optim.gradient_descent(
                f2, x0, line_search=False, step_size=a, tol=1e-8, max_iter=1000))
            row(f"constant step {frac:g}/L = {a:.3g}", r, dt)
            out["constant"][frac] = r
    gd2, dt = timed(lambda: optim.gradient_descent(f2, x0, tol=1e-8, max_iter=5000,
                                                   keep_path=True))
    row("Armijo backtracking (adaptive)", gd2, dt)
    nt2, dt = timed(lambda: optim.newton(f2, x0, tol=1e-8, keep_path=True))
    row("Newton's method", nt2, dt)
    print(f"  (the 2.1/L run ends at f = {out['constant'][2.1].fun:.3g}: it diverges, slowly)")
    print("  Too small a step crawls, a step near 2/L oscillates along the steep direction,")
    print("  above 2/L it diverges, and L is unknown in general: the Armijo rule finds a")
    print("  step that decreases f enough, trying the last one times 2 and halving it.")
    out["gd2"], out["newton2"], out["f2"], out["x0_2"] = gd2, nt2, f2, x0

    n = 60 if fast else 200
    fn, A, b = quadratic(n, 100.0)
    x_star = np.linalg.solve(A, b)
    xn0 = np.zeros(n)
    print(f"\n  n = {n}, condition number 100, from x = 0, until |grad f| <= 1e-6:")
    print(HEADER)
    runs = {"gradient descent (Armijo)":
            lambda: optim.gradient_descent(fn, xn0, tol=1e-6, max_iter=20000),
            "Newton, exact Hessian (Cholesky)":
            lambda: optim.newton(fn, xn0, method="exact", tol=1e-6),
            "Newton-CG (Hessian-vector products)":
            lambda: optim.newton(fn, xn0, method="cg", tol=1e-6)}
    out["quadratic"] = {}
    for name, run in runs.items():
        r, dt = timed(run)
        row(name, r, dt)
        out["quadratic"][name] = {"nit": r.nit, "time": dt, "per_step": dt / max(r.nit, 1),
                                  "err": float(np.abs(r.x - x_star).max()),
                                  "converged": r.converged}
    g = out["quadratic"]["gradient descent (Armijo)"]
    nt = out["quadratic"]["Newton, exact Hessian (Cholesky)"]
    print(f"  Newton: {nt['nit']} step (the quadratic model is exact), |x - A^-1 b| = "
          f"{nt['err']:.1e}. A GD step is {nt['per_step'] / g['per_step']:.0f}x cheaper, but GD "
          f"needs {g['nit']} of them: {g['time'] / nt['time']:.1f}x the time overall.")
    print("  (Newton-CG solves each Newton system only roughly, so it takes a few steps.)")
    return out


# ======================================================== 2. non-quadratic landscape

ANGLES = np.deg2rad([20.0, 140.0, 260.0])
LSE_A = np.stack([np.cos(ANGLES), 3.0 * np.sin(ANGLES)], axis=1)
LSE_B = np.array([0.3, -0.2, 0.1])


def lse(x):
    """log(sum_i exp(a_i . x - b_i)): smooth, convex, bounded below, but linear far away
    (one exponential dominates), where its Hessian almost vanishes."""
    return cnp.log(cnp.sum(cnp.exp(LSE_A @ x - LSE_B)))


TOL2 = 1e-7     # |grad f| at convergence on the log-sum-exp (1e-8 is at f's resolution)


def part2(fast):
    out = {}
    x0 = np.array([2.0, 1.0])
    x_star = optim.newton(lse, np.zeros(2), tol=1e-12).x
    f_star = float(lse(x_star))
    print("  f(x) = log(sum_i exp(a_i . x - b_i)) with three directions a_i, from x0 = (2, 1).")
    H0 = cr.hessian(lse)(x0)
    g0 = cr.grad(lse)(x0)
    step0 = -np.linalg.solve(H0, g0)
    print(f"  At x0 the gradient has norm {np.linalg.norm(g0):.2f} but the Hessian's smallest "
          f"eigenvalue is {np.linalg.eigvalsh(H0).min():.3g}:")
    print(f"  the full Newton step -H^-1 g has length {np.linalg.norm(step0):.1f} "
          "(the minimum is 1.9 away). The quadratic model trusts a flat direction too much.")
    print(HEADER)
    runs = {"Newton, full step (step size 1)":
            lambda: optim.newton(lse, x0, method="exact", line_search=False, max_iter=50,
                                 keep_path=True),
            "Newton, fixed step size 0.5":
            lambda: optim.newton(lse, x0, method="exact", line_search=False, step_size=0.5,
                                 max_iter=200, keep_path=True),
            "Newton, fixed step size 0.1":
            lambda: optim.newton(lse, x0, method="exact", line_search=False, step_size=0.1,
                                 max_iter=500, keep_path=True),
            "Newton, Levenberg damping (H + I)":
            lambda: optim.newton(lse, x0, method="exact", line_search=False, damping=1.0,
                                 tol=TOL2, max_iter=500, keep_path=True),
            "Newton + Armijo line search":
            lambda: optim.newton(lse, x0, method="exact", tol=TOL2, keep_path=True),
            "gradient descent (Armijo)":
            lambda: optim.gradient_descent(lse, x0, tol=TOL2, max_iter=5000, keep_path=True)}
    out["runs"] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)    # exp overflows as Newton diverges
        for name, run in runs.items():
            r, dt = timed(run)
            row(name, r, dt)
            out["runs"][name] = {"result": r, "time": dt}
    full = out["runs"]["Newton, full step (step size 1)"]["result"]
    print("  the full Newton step, f along the way: "
          + " -> ".join(f"{v:.4g}" for v in full.history.f[:6]))
    print("  Far from the minimum the log-sum-exp is almost linear: the Newton step lands\n"
          "  further out, where it is flatter still, and the iteration runs away. A fixed\n"
          "  smaller step does not cure it: the step's length is unbounded where the Hessian\n"
          "  is nearly singular, so 0.5 or 0.1 of it still lands in a flatter region.\n"
          "  The step has to be controlled by the landscape: backtracking (Armijo) takes\n"
          "  short steps far away and full ones near the minimum, where f is quadratic again\n"
          "  and Newton converges quadratically; Levenberg damping (H + I) bounds the step\n"
          "  but turns Newton into a slow gradient-like method. Gradient descent with the\n"
          "  simple backtracking of part 1 needs no extra care here: its steps are bounded\n"
          "  by the gradient, which is bounded on this landscape.")
    out["x_star"], out["f_star"], out["x0"] = x_star, f_star, x0
    return out


def plot_landscapes(p1, p2, path):
    fig, axes = _course.figure(ncols=3, figsize=(15, 4.4), what="the landscape plots")
    if fig is None:
        return None
    axes = axes[0]

    def contour(ax, f, box, paths, title):
        xs = np.linspace(box[0], box[1], 200)
        ys = np.linspace(box[2], box[3], 200)
        XX, YY = np.meshgrid(xs, ys)
        pts = np.stack([XX.ravel(), YY.ravel()], 1)
        Z = cr.vmap(f)(pts).reshape(XX.shape)
        ax.contour(XX, YY, Z, levels=25, cmap="viridis", linewidths=0.7)
        for label, (r, style) in paths.items():
            P = np.array([np.asarray(p, float) for p in r.history.x])
            inside = np.all((P[:, :1] >= box[0]) & (P[:, :1] <= box[1])
                            & (P[:, 1:] >= box[2]) & (P[:, 1:] <= box[3]), axis=1)
            last = len(P) if inside.all() else int(np.argmin(inside)) + 1
            ax.plot(P[:last, 0], P[:last, 1], style, ms=3, lw=1,
                    label=f"{label} ({r.nit} steps)")
        ax.set_xlim(box[0], box[1])
        ax.set_ylim(box[2], box[3])
        ax.set_title(title, fontsize=10)
        ax.legend(fontsize=7, loc="lower left")

    contour(axes[0], p1["f2"], (-5, 5, -4, 4.5),
            {"GD, Armijo": (p1["gd2"], ".-"), "Newton": (p1["newton2"], "o-")},
            "quadratic: Newton jumps to the minimum")
    runs = p2["runs"]
    contour(axes[1], lse, (-2.5, 3, -1.5, 1.5),
            {"GD, Armijo": (runs["gradient descent (Armijo)"]["result"], ".-"),
             "Newton + line search": (runs["Newton + Armijo line search"]["result"], "o-"),
             "Newton, full steps (leaves the box)":
             (runs["Newton, full step (step size 1)"]["result"], "x--")},
            "log-sum-exp: the full Newton step runs away")
    ax = axes[2]
    for name, d in runs.items():
        f = np.array(d["result"].history.f)
        gap = np.clip(f - p2["f_star"], 1e-16, 1e6)
        ax.semilogy(np.arange(len(gap)), np.where(np.isfinite(gap), gap, 1e6), ".-", ms=3,
                    label=name)
    ax.set_xlim(0, 60)
    ax.set_ylim(1e-16, 1e6)
    ax.set_xlabel("iteration")
    ax.set_ylabel("f - f*  (clipped to [1e-16, 1e6])")
    ax.set_title("log-sum-exp: convergence", fontsize=10)
    ax.legend(fontsize=7)
    return _course.save(fig, path)


# ================================================ 3, 4, 6. a regression problem for SGD

NOISE = 0.5     # standard deviation of the regression noise: the best MSE is 0.25


def regression_data(n, d=8, seed=0):
    """y = X w* + b* + noise with one fixed true model (w*, b*) for every seed;
    features of different scales, so the steps along them interact."""
    w_true = np.random.default_rng(1234).standard_normal(d)
    b_true = np.float64(0.5)
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * np.linspace(0.5, 2.0, d)
    y = X @ w_true + b_true + NOISE * rng.standard_normal(n)
    return X, y, {"w": w_true, "b": b_true}


def linear_loss(p, X, y):
    return nn.mse(X @ p["w"] + p["b"], y)


def least_squares(X, y):
    Xb = np.c_[X, np.ones(len(X))]
    sol = np.linalg.lstsq(Xb, y, rcond=None)[0]
    return {"w": sol[:-1], "b": sol[-1]}


def part3(X, y, epochs):
    """SGD (batch 32) for each constant learning rate: final loss per epoch."""
    d = X.shape[1]
    p0 = {"w": np.zeros(d), "b": np.float64(0.0)}
    Xb = np.c_[X, np.ones(len(X))]
    L = 2 * np.linalg.eigvalsh(Xb.T @ Xb / len(X)).max()
    best = float(linear_loss(least_squares(X, y), X, y))
    print(f"  linear regression, n = {len(X)}, d = {X.shape[1]}; SGD with batch 32 for "
          f"{epochs} epochs; full-batch GD is stable below 2/L = {2 / L:.3f};")
    print(f"  the least-squares optimum of the training MSE is {best:.4f}")
    out = {"L": L, "optimum": best, "runs": {}}
    print(f"  {'learning rate':>13s} {'final MSE':>12s} {'above optimum':>14s}  what happens")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for lr in (0.001, 0.003, 0.01, 0.03, 0.1, 0.2, 0.3):
            h = nn.fit(linear_loss, p0, (X, y), optim.sgd(lr), epochs=epochs, batch_size=32,
                       rng=0, progress=False)
            final = float(linear_loss(h.params, X, y))
            tail = np.array(h["loss"][-4:])
            if not np.isfinite(final) or final > 1e3:
                verdict = "diverges"
            elif final > 1.5 * best and np.all(np.diff(tail) < 0):
                verdict = "stagnation: still creeping down"
            elif final < 1.05 * best:
                verdict = "converged, small noise floor"
            else:
                verdict = "oscillation: bounces above the optimum"
            out["runs"][lr] = {"loss": h["loss"], "final": final, "verdict": verdict}
            excess = f"{final / best - 1:+.1%}" if final < 1e3 else "-"
            print(f"  {lr:13g} {final:12.4g} {excess:>14s}  {verdict}")
    print("  Too small a step stagnates; too large a step leaves SGD bouncing around the\n"
          "  optimum at a level that grows with the step, and beyond ~2/L it diverges. A\n"
          "  learning-rate schedule (optim.exponential_decay, cosine_decay) or an adaptive\n"
          "  step gets both: large steps early, small ones near the optimum.")
    return out


def part4(X, y, epochs, lr=0.02):
    """SGD at one learning rate for several batch sizes: loss vs epochs and vs time."""
    d = X.shape[1]
    p0 = {"w": np.zeros(d), "b": np.float64(0.0)}
    out = {}
    print(f"  SGD with learning rate {lr} for {epochs} epochs, n = {len(X)}:")
    print(f"  {'batch size':>10s} {'steps':>6s} {'time [s]':>9s} {'us/step':>8s} "
          f"{'final MSE':>10s}")
    for bs in (1, 4, 16, 64, 256, None):
        h = nn.fit(linear_loss, p0, (X, y), optim.sgd(lr), epochs=epochs, batch_size=bs,
                   rng=0, progress=False)
        final = float(linear_loss(h.params, X, y))
        label = "full" if bs is None else str(bs)
        out[label] = {"loss": h["loss"], "final": final, "steps": h.steps, "time": h.elapsed,
                      "per_step": h.elapsed / h.steps}
        print(f"  {label:>10s} {h.steps:6d} {h.elapsed:9.3f} {1e6 * h.elapsed / h.steps:8.1f} "
              f"{final:10.4f}")
    print("  Small batches: many cheap, noisy steps per epoch, so fast progress per epoch,\n"
          "  but batch 1 stalls at a noise floor above the optimum (its gradient noise times\n"
          "  the step stays large). Large batches: accurate gradients but few steps per\n"
          "  epoch. The sweet spot lies in between, and it moves with the hardware: here a\n"
          f"  step costs {1e6 * out['1']['per_step']:.0f} us for 1 example and "
          f"{1e6 * out['full']['per_step']:.0f} us for all {len(X)} (Python overhead\n"
          "  dominates), so per second of training the larger batches catch up.")
    return out


def plot_sweeps(p3, p4, path):
    fig, axes = _course.figure(ncols=3, figsize=(15, 4.2), what="the sweep plots")
    if fig is None:
        return None
    axes = axes[0]
    ax = axes[0]
    for lr, d in p3["runs"].items():
        loss = np.array(d["loss"])
        if np.all(np.isfinite(loss)) and loss.max() < 1e3:
            ax.semilogy(np.arange(1, len(loss) + 1), loss, label=f"lr {lr:g}")
        else:
            ax.semilogy([], [], label=f"lr {lr:g} (diverges)")
    ax.axhline(p3["optimum"], color="k", lw=0.8, ls=":", label="optimum")
    ax.set_ylim(p3["optimum"] * 0.9, 50)
    ax.set_xlabel("epoch")
    ax.set_ylabel("training MSE (epoch mean)")
    ax.set_title("step-size sweep, SGD batch 32", fontsize=10)
    ax.legend(fontsize=7, ncol=2)
    for ax, key, xlabel in ((axes[1], "epoch", "epoch"), (axes[2], "time", "wall time [s]")):
        for label, d in p4.items():
            loss = np.array(d["loss"])
            x = np.arange(1, len(loss) + 1)
            if key == "time":
                x = x * d["time"] / len(loss)
            ax.semilogy(x, loss, label=f"batch {label}")
        ax.axhline(p3["optimum"], color="k", lw=0.8, ls=":")
        ax.set_xlabel(xlabel)
        ax.set_ylim(p3["optimum"] * 0.9, 50)
        if key == "time":
            ax.set_xscale("log")
        ax.set_title(f"batch-size sweep: loss vs {xlabel}", fontsize=10)
        ax.legend(fontsize=7)
    return _course.save(fig, path)


def part6(fast):
    """Relative mean absolute error against the true weights, and the sample size."""
    out = {}
    epochs = 30 if fast else 100
    X, y, true = regression_data(64, seed=1)
    Xt, yt, _ = regression_data(20000, seed=2)          # an independent test set

    def mae(p, X, y):
        return float(np.mean(np.abs(X @ p["w"] + p["b"] - y)))

    h = nn.fit(linear_loss, true, (X, y), optim.sgd(0.02), epochs=epochs, batch_size=16,
               rng=0, progress=False)
    rmae_train = mae(h.params, X, y) / mae(true, X, y) - 1
    rmae_test = mae(h.params, Xt, yt) / mae(true, Xt, yt) - 1
    print("  Start SGD at the true weights w* (the 'optimal' model) on n = 64 noisy samples.")
    print(f"  relative MAE vs w*: training {rmae_train:+.3%}, independent test set "
          f"{rmae_test:+.3%}")
    print("  Negative on the training data: the weights move to fit this sample's noise (a\n"
          "  little overfitting, even though the model class is exactly right). The test set\n"
          "  shows it is not better than w*.")
    out.update(rmae_train=rmae_train, rmae_test=rmae_test)
    n_steps = 300 if fast else 1000
    print("\n  Vary the sample size, same batch size (16) and step size (0.02). Per epoch")
    print(f"  (30 epochs) and per step ({n_steps} steps); MSE on the training data and on")
    print("  the test set (the noise alone gives 0.25):")
    print(f"  {'n':>6s} {'30 epochs: steps':>17s} {'train':>8s} {'test':>8s}   "
          f"{n_steps} steps: train     test")
    out["sample_size"] = {}
    for n in (12, 24, 64, 256, 1024):
        X, y, _ = regression_data(n, seed=1)
        p0 = {"w": np.zeros(8), "b": np.float64(0.0)}
        he = nn.fit(linear_loss, p0, (X, y), optim.sgd(0.02), epochs=30, batch_size=16,
                    rng=0, progress=False)
        hs = nn.fit(linear_loss, p0, (X, y), optim.sgd(0.02), steps=n_steps, batch_size=16,
                    rng=0, progress=False)
        r = {"epochs_steps": he.steps,
             "epochs_train": float(linear_loss(he.params, X, y)),
             "epochs_test": float(linear_loss(he.params, Xt, yt)),
             "steps_train": float(linear_loss(hs.params, X, y)),
             "steps_test": float(linear_loss(hs.params, Xt, yt))}
        out["sample_size"][n] = r
        print(f"  {n:6d} {r['epochs_steps']:17d} {r['epochs_train']:8.4f} {r['epochs_test']:8.4f}"
              f"   {r['steps_train']:19.4f} {r['steps_test']:8.4f}")
    print("  Per epoch, fewer samples means fewer steps: the loss is higher only because\n"
          "  training is shorter. At a fixed number of steps the small sample's training\n"
          "  loss drops below the noise level (it fits the noise) while its test loss is the\n"
          "  worst: judge a model on data it was not trained on.")
    return out


# ========================================================== 5. deep-learning regression

def part5(fast, out_dir):
    rng = np.random.default_rng(0)
    X = rng.uniform(-3, 3, (256, 1))
    y = np.sin(X[:, 0]) + 0.05 * rng.standard_normal(256)
    Xv = np.linspace(-3, 3, 200)[:, None]
    yv = np.sin(Xv[:, 0])
    model = nn.mlp([1, 32, 32, 1], activation="tanh")

    def loss(p, X, y):
        return nn.mse(model.apply(p, X), y)
    epochs = 60 if fast else 300
    print(f"  y = sin(x) + noise, 256 points on [-3, 3]; nn.mlp([1, 32, 32, 1], tanh), "
          f"{nn.num_params(model.init(0))} parameters;")
    print(f"  nn.fit(loss, model.init(0), (X, y), optim.adam(1e-2), epochs={epochs}, "
          "batch_size=32, validation_data=...)")
    hist = nn.fit(loss, model.init(0), (X, y), optim.adam(1e-2), epochs=epochs, batch_size=32,
                  rng=0, validation_data=(Xv, yv), progress=True, desc="sin regression")
    out = {"train_mse": hist.last["loss"], "val_mse": hist.last["val_loss"],
           "first_loss": hist["loss"][0], "steps": hist.steps, "time": hist.elapsed}
    print(f"  after {hist.steps} steps ({hist.elapsed:.1f} s): training MSE {out['train_mse']:.4f} "
          f"(noise variance 0.0025), validation MSE vs sin {out['val_mse']:.4f}")
    try:
        fig = hist.plot(log_loss=True)
    except ImportError:
        print("  [matplotlib is not installed: the loss curve and fit are skipped "
              "(pip install matplotlib to get them)]")
        return out
    fig.axes[0].set_title("sin regression: loss curves (nn.History.plot)")
    out["loss_plot"] = _course.save(fig, _course.out_file(out_dir, "seed004_dl_loss.png"))
    fig, ax = _course.figure(figsize=(6, 3.6), what="the fit")
    ax.plot(X[:, 0], y, ".", ms=3, alpha=0.5, label="training data")
    ax.plot(Xv[:, 0], yv, "k:", label="sin(x)")
    ax.plot(Xv[:, 0], model.apply(hist.params, Xv)[:, 0], label="MLP")
    ax.legend(fontsize=8)
    ax.set_title("a small deep-learning regression")
    out["fit_plot"] = _course.save(fig, _course.out_file(out_dir, "seed004_dl_fit.png"))
    return out


# ============================================================ 7. autodiff optimisation

def part7(fast):
    out = {}
    rng = np.random.default_rng(0)
    model = nn.mlp([8, 64, 64, 1], activation="tanh")
    p = model.init(0)
    X, y = rng.standard_normal((256, 8)), rng.standard_normal(256)

    def loss(p, X, y):
        return nn.mse(model.apply(p, X), y)
    fl_w = cr.flops(cr.grad(loss), p, X, y)
    fl_wx = cr.flops(cr.grad(loss, argnums=(0, 1)), p, X, y)
    fl_f = cr.flops(loss, p, X, y)
    print(f"  MLP 8-64-64-1 on 256 examples ({nn.num_params(p)} parameters), FLOPs from "
          "cr.flops:")
    print(f"    the loss alone                        {fl_f:>12,d}")
    print(f"    grad w.r.t. the weights (data const)   {fl_w:>12,d}  ({fl_w / fl_f:.2f}x the loss)")
    print(f"    grad w.r.t. the weights and the data   {fl_wx:>12,d}  (the data's derivative "
          f"costs {fl_wx - fl_w:,} more)")
    flat, unravel = optim.ravel_pytree(p)
    f_flat = lambda v: loss(unravel(v), X, y)                      # noqa: E731
    n_par = flat.size
    fl_rev = cr.flops(cr.grad(f_flat), flat)
    fl_jvp = cr.flops(lambda v: cr.jvp(f_flat, (flat,), (v,))[1], np.ones(n_par))
    fl_fwd = n_par * fl_jvp
    print(f"  Reverse mode: one backward pass, reusing the forward pass's intermediate\n"
          f"  results, gives all {n_par} partial derivatives for {fl_rev:,} FLOPs. Forward\n"
          f"  mode needs one jvp ({fl_jvp:,} FLOPs) per parameter: {fl_fwd:,} FLOPs,\n"
          f"  {fl_fwd / fl_rev:,.0f}x more. Reusing (caching) dy/dx along the graph is what makes\n"
          f"  backpropagation affordable.")
    vg = cr.value_and_grad(loss)
    jvg = cr.jit(vg)
    r = _course.rates({"eager": lambda: vg(p, X, y), "jit": lambda: jvg(p, X, y)},
                      rounds=3 if fast else 7, min_time=0.01 if fast else 0.05)
    te, tj = 1e6 / r["eager"]["rate"], 1e6 / r["jit"]["rate"]
    print(f"  value_and_grad of the loss: eager {te:.0f} us, cr.jit {tj:.0f} us "
          f"({te / tj:.1f}x): jit optimises the graph once (common subexpressions, dead\n"
          "  code, constant folding, buffer reuse) and replays it as straight-line NumPy.")
    out.update(flops_loss=fl_f, flops_grad_w=fl_w, flops_grad_wx=fl_wx, flops_rev=fl_rev,
               flops_jvp=fl_jvp, flops_fwd=fl_fwd, eager_us=te, jit_us=tj)
    print("\n  Further (theory): a GPU would run each array operation in parallel (chainrule\n"
          "  is NumPy on the CPU); memory is managed by reference counting — a tape entry\n"
          "  lives while a later rule still needs it (cr.checkpoint trades it for\n"
          "  recomputation), and cr.jit's generated code deletes each buffer after its last use.")
    return out


def main(fast=False, out_dir="out"):
    res = {}
    REPEAT[0] = 1 if fast else 3
    _course.section("1. Gradient descent vs Newton's method on a quadratic landscape")
    res["part1"] = p1 = part1(fast)
    _course.section("2. A non-quadratic landscape: Newton's method needs step control")
    res["part2"] = p2 = part2(fast)
    res["landscape_plot"] = plot_landscapes(p1, p2,
                                            _course.out_file(out_dir, "seed004_landscapes.png"))

    X, y, _ = regression_data(512)
    _course.section("3. Step-size sweep (SGD on linear regression)")
    res["part3"] = p3 = part3(X, y, epochs=10 if fast else 30)
    _course.section("4. Batch-size sweep")
    Xs, ys = (X[:256], y[:256]) if fast else (X, y)
    res["part4"] = p4 = part4(Xs, ys, epochs=15 if fast else 30)
    res["sweep_plot"] = plot_sweeps(p3, p4, _course.out_file(out_dir, "seed004_sweeps.png"))

    _course.section("5. Deep learning: a small regression network")
    res["part5"] = part5(fast, out_dir)
    _course.section("6. Below the 'optimal' error, and the sample size")
    res["part6"] = part6(fast)
    _course.section("7. Autodiff optimisation: what makes gradients cheap")
    res["part7"] = part7(fast)
    return res


if __name__ == "__main__":
    args = _course.parse_args(__doc__)
    main(fast=args.fast, out_dir=args.out)
