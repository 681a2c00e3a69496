"""Automatic differentiation exercises (seed 001), solved with chainrule.

The exercise sheet asks to:

  1. differentiate a Taylor series of cos(x) (autograd-style) and compare with -sin(x);
  2. compute the 4th derivative of tanh by autodiff and by hand;
  3. compare analytic and autodiff gradients/Hessians of
       1/2 x^T A x + b^T x + c   (Hessian)
       tr(A X B)                 (gradient w.r.t. X)
       1/2 ||A x - b||^2         (gradient and Hessian)
       ln(1 + exp<a, x>)         (gradient and Hessian)
       -log det X                (gradient)
       x^T x x^T x               (gradient and Hessian);
  4. draw the computational graph of f(x, y) = exp(-(sin x - cos y)^2);
  5. a hypergradient: the result of 10 gradient-descent steps on 1/2 ||x||^2 as a
     function of the 10 step sizes, optimised itself by gradient descent;
  6. linear regression with a hand-written gradient vs autodiff, and their timings.

Run ``python examples/autodiff_exercises.py`` (``--fast`` for a shorter timing study).
"""
import math
import sys
import time

import numpy as np

try:
    import chainrule as cr
except ImportError:  # run from a checkout without `pip install -e .`
    sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[1]))
    import chainrule as cr
import chainrule.numpy as cnp

TOL = 1e-8       # every analytic-vs-autodiff comparison must agree to this


def report(name, autodiff, analytic, tol=TOL):
    """Print the max abs difference of two arrays and assert it is below ``tol``."""
    autodiff, analytic = np.asarray(autodiff), np.asarray(analytic)
    assert autodiff.shape == analytic.shape, (name, autodiff.shape, analytic.shape)
    err = float(np.max(np.abs(autodiff - analytic)))
    print(f"  {name:44s} max |autodiff - analytic| = {err:.2e}")
    assert err < tol, f"{name}: {err}"
    return err


# ------------------------------------------------------- 1. Taylor series of cos(x)

def taylor_cosine(x, n_terms=30):
    """cos(x) ~ sum_{k<n_terms} (-1)^k x^(2k) / (2k)!, written with plain operators."""
    ans = 0.0
    for k in range(n_terms):
        # float(): (2k)! overflows int64 for k >= 11, and NumPy would make it an object
        ans = ans + (-1) ** k * x ** (2 * k) / float(math.factorial(2 * k))
    return ans


def taylor_truncation_bound(x, n_terms=30):
    """A bound on |d/dx taylor_cosine(x) + sin(x)|: the first omitted term of the
    derivative series, |x|^(2n-1) / (2n-1)!, plus rounding (~eps per unit of sum |term|,
    and sum |term| <= e^|x|)."""
    x = np.abs(np.asarray(x, dtype=float))
    m = 2 * n_terms - 1
    return x ** m / float(math.factorial(m)) + 64 * np.finfo(float).eps * np.exp(x)


def taylor_cosine_gradient(xs, n_terms=30):
    """d/dx of the series at every point of ``xs`` (autograd's elementwise_grad)."""
    return cr.elementwise_grad(lambda x: taylor_cosine(x, n_terms))(np.asarray(xs, float))


# --------------------------------------------------------- 2. 4th derivative of tanh

def tanh_d4_analytic(x):
    """t = tanh x: t' = 1 - t^2, t'' = -2t(1 - t^2), t''' = -2(1 - t^2)(1 - 3t^2),
    t'''' = 8t(1 - t^2)(2 - 3t^2)."""
    t = np.tanh(x)
    return 8 * t * (1 - t ** 2) * (2 - 3 * t ** 2)


def tanh_d4_autodiff(xs):
    d4 = cr.grad(cr.grad(cr.grad(cr.grad(cnp.tanh))))
    return np.array([d4(float(x)) for x in np.ravel(xs)]).reshape(np.shape(xs))


# ---------------------------------------------- 3. analytic vs autodiff, one per function

def compare_all(n=6, seed=0):
    """Every analytic-vs-autodiff comparison of the sheet; returns {name: max abs diff}."""
    rng = np.random.default_rng(seed)
    errs = {}

    # f(x) = 1/2 x^T A x + b^T x + c, A not symmetric: Hessian = (A + A^T) / 2
    A, b, c, x = rng.standard_normal((n, n)), rng.standard_normal(n), 1.5, rng.standard_normal(n)
    quad = lambda x: 0.5 * x @ A @ x + b @ x + c
    errs["quadratic: Hessian"] = report("1/2 x^T A x + b^T x + c: Hessian",
                                        cr.hessian(quad)(x), (A + A.T) / 2)
    errs["quadratic: gradient"] = report("1/2 x^T A x + b^T x + c: gradient",
                                         cr.grad(quad)(x), (A + A.T) / 2 @ x + b)

    # f(X) = tr(A X B): gradient w.r.t. X = A^T B^T
    A, X, B = (rng.standard_normal(s) for s in ((n, n + 1), (n + 1, n + 2), (n + 2, n)))
    tr = lambda X: cnp.trace(A @ X @ B)
    errs["trace: gradient"] = report("tr(A X B): gradient", cr.grad(tr)(X), A.T @ B.T)

    # f(x) = 1/2 ||A x - b||^2: gradient = A^T (A x - b), Hessian = A^T A
    A, b, x = rng.standard_normal((n + 3, n)), rng.standard_normal(n + 3), rng.standard_normal(n)
    lsq = lambda x: 0.5 * cnp.sum((A @ x - b) ** 2)
    errs["least squares: gradient"] = report("1/2 ||Ax - b||^2: gradient",
                                             cr.grad(lsq)(x), A.T @ (A @ x - b))
    errs["least squares: Hessian"] = report("1/2 ||Ax - b||^2: Hessian",
                                            cr.hessian(lsq)(x), A.T @ A)

    # f(x) = ln(1 + exp<a, x>): gradient = s a, Hessian = s (1 - s) a a^T, s = sigmoid<a, x>
    a, x = rng.standard_normal(n), rng.standard_normal(n)
    softplus = lambda x: cnp.log(1 + cnp.exp(cnp.dot(a, x)))
    s = 1 / (1 + np.exp(-a @ x))
    errs["log(1+exp): gradient"] = report("ln(1 + exp<a,x>): gradient",
                                          cr.grad(softplus)(x), s * a)
    errs["log(1+exp): Hessian"] = report("ln(1 + exp<a,x>): Hessian",
                                         cr.hessian(softplus)(x), s * (1 - s) * np.outer(a, a))

    # f(X) = -log det X (det X > 0): gradient = -X^{-T}
    X = rng.standard_normal((n, n)) + n * np.eye(n)
    assert np.linalg.det(X) > 0
    neglogdet = lambda X: -cnp.log(cnp.linalg.det(X))
    errs["-log det: gradient"] = report("-log det X: gradient",
                                        cr.grad(neglogdet)(X), -np.linalg.inv(X).T)

    # f(x) = x^T x x^T x = ||x||^4: gradient = 4 (x^T x) x, Hessian = 4 (x^T x) I + 8 x x^T
    x = rng.standard_normal(n)
    quartic = lambda x: x @ x * (x @ x)
    errs["x^T x x^T x: gradient"] = report("x^T x x^T x: gradient",
                                           cr.grad(quartic)(x), 4 * (x @ x) * x)
    errs["x^T x x^T x: Hessian"] = report("x^T x x^T x: Hessian", cr.hessian(quartic)(x),
                                          4 * (x @ x) * np.eye(n) + 8 * np.outer(x, x))
    return errs


# ------------------------------------------------------------ 4. a computational graph

def graph_example(x=0.3, y=1.2):
    """f(x, y) = exp(-(sin x - cos y)^2): its gradient, and its graph of primitives
    where chainrule can draw it (cr.make_graph)."""
    f = lambda x, y: cnp.exp(-(cnp.sin(x) - cnp.cos(y)) ** 2)
    dfdx, dfdy = cr.grad(f, argnums=(0, 1))(x, y)
    u = np.sin(x) - np.cos(y)
    fx = np.exp(-u ** 2)
    analytic = (-2 * u * np.cos(x) * fx, -2 * u * np.sin(y) * fx)
    graph = str(cr.make_graph(f)(x, y)) if hasattr(cr, "make_graph") else None
    return (dfdx, dfdy), analytic, graph


# ------------------------------------------------------------------ 5. hypergradient

def make_hyper_loss(x0):
    """L(alpha) = f(x_10), x_{k+1} = x_k - alpha_k grad f(x_k), f(x) = 1/2 ||x||^2.

    grad f is itself computed by autodiff inside, so dL/dalpha differentiates through
    ten gradient evaluations (grad of a function that calls grad)."""
    f = lambda x: 0.5 * cnp.sum(x ** 2)
    grad_f = cr.grad(f)

    def L(alpha):
        x = x0
        for k in range(10):
            x = x - alpha[k] * grad_f(x)
        return f(x)
    return L


def hypergradient_descent(alpha0, x0, beta, steps):
    """Gradient descent on the step sizes: alpha <- alpha - beta dL/dalpha."""
    L = make_hyper_loss(x0)
    value_and_grad_L = cr.value_and_grad(L)
    alpha = np.array(alpha0, dtype=float)
    losses = []
    for _ in range(steps):
        loss, g = value_and_grad_L(alpha)
        losses.append(float(loss))
        alpha = alpha - beta * g
    losses.append(float(L(alpha)))
    return alpha, np.array(losses)


def hypergradient_analytic(alpha, x0):
    """Here x_10 = prod(1 - alpha_k) x0, so L = 1/2 P^2 ||x0||^2 with P = prod(1 - alpha_k),
    and dL/dalpha_j = -P^2 ||x0||^2 / (1 - alpha_j) (written without the division)."""
    alpha = np.asarray(alpha, float)
    P = np.prod(1 - alpha)
    others = np.array([np.prod(np.delete(1 - alpha, j)) for j in range(alpha.size)])
    return -P * others * (x0 @ x0)


# -------------------------------------------- 6. linear regression, manual vs autodiff

def linreg_data(n, seed=0):
    """The seed's f = 2 x problem with n points (the seed has X = [1, 2, 3, 4])."""
    X = np.random.default_rng(seed).standard_normal(n)
    return X, 2 * X


def mse(w, X, Y):
    return cnp.mean((w * X - Y) ** 2)


def manual_gradient(w, X, Y):
    # dJ/dw = 1/N sum 2 x (w x - y). (The seed writes np.dot(2*x, y_pred - y).mean():
    # np.dot already sums, the .mean() of a scalar divides by nothing, so it returns N
    # times the gradient. Autodiff of the MSE shows the factor at once; see main().)
    return 2 * np.dot(X, w * X - Y) / X.size


def train_linreg(X, Y, gradient, lr=0.1, eps=1e-9, max_iters=10_000):
    """Gradient descent on w from 0 until the loss is below eps; returns (w, iters)."""
    w = 0.0
    for it in range(max_iters):
        if mse(w, X, Y) < eps:
            return w, it
        w = w - lr * gradient(w, X, Y)
    raise RuntimeError("did not converge")


def linreg_timing(ns, runs=3, eps=1e-9):
    """Seconds to reach loss < eps with the manual and the autodiff gradient (best of
    ``runs``) for every n in ns; rows (n, iters, t_manual, t_autodiff, |w_m - w_a|)."""
    autodiff_gradient = cr.grad(mse)
    rows = []
    for n in ns:
        X, Y = linreg_data(int(n))
        times = {}
        for name, g in (("manual", manual_gradient), ("autodiff", autodiff_gradient)):
            best = math.inf
            for _ in range(runs):
                t0 = time.perf_counter()
                w, iters = train_linreg(X, Y, g, eps=eps)
                best = min(best, time.perf_counter() - t0)
            times[name] = (best, w, iters)
        (tm, wm, im), (ta, wa, ia) = times["manual"], times["autodiff"]
        assert im == ia, "both gradients are the same numbers, so the same iterations"
        rows.append((int(n), im, tm, ta, abs(wm - wa)))
    return rows


# -------------------------------------------------------------------------------- main

def main(fast=False):
    results = {}

    print("== 1. Gradient of a 30-term Taylor series of cos(x) ==")
    xs = np.linspace(-2 * np.pi, 2 * np.pi, 25)
    g = taylor_cosine_gradient(xs)
    err = np.abs(g + np.sin(xs))
    bound = taylor_truncation_bound(xs)
    print(f"  x in [-2pi, 2pi]: max |d/dx series + sin x| = {err.max():.2e} "
          f"(truncation + rounding bound {bound.max():.2e})")
    assert np.all(err <= bound)
    print(f"  at x = 1: {float(cr.grad(taylor_cosine)(1.0)):.15f}, -sin(1) = {-np.sin(1.0):.15f}")
    results["taylor"] = (xs, g, err, bound)

    print("\n== 2. 4th derivative of tanh ==")
    xs = np.linspace(-3, 3, 13 if fast else 61)
    d4 = tanh_d4_autodiff(xs)
    results["tanh_d4"] = report("grad(grad(grad(grad(tanh)))) vs 8t(1-t^2)(2-3t^2)",
                                d4, tanh_d4_analytic(xs))
    print("  derivatives of tanh at 2.0 (the cookbook prints 0.070650935, -0.13621889, "
          "0.2526544):")
    d = cnp.tanh
    for order in range(1, 5):
        d = cr.grad(d)
        print(f"    order {order}: {float(d(2.0)): .9f}")

    print("\n== 3. Analytic vs autodiff ==")
    results["compare"] = compare_all()

    print("\n== 4. The computational graph of f(x, y) = exp(-(sin x - cos y)^2) ==")
    (gx, gy), (ax, ay), graph = graph_example()
    results["graph"] = report("gradient (df/dx, df/dy) at (0.3, 1.2)", [gx, gy], [ax, ay])
    if graph is None:
        print("  needs cr.make_graph (not in chainrule yet): the graph is not drawn")
    else:
        print(graph)

    print("\n== 5. Hypergradient: optimise the 10 step sizes of gradient descent ==")
    x0 = np.random.default_rng(0).uniform(0, 1, 1000)
    L = make_hyper_loss(x0)
    # The sheet starts from alpha = 1: with f = 1/2 ||x||^2, one step of size 1 lands on
    # the minimum (x - 1 * grad f(x) = 0), so L = 0 and dL/dalpha = 0 there already.
    alpha, losses = hypergradient_descent(np.ones(10), x0, beta=1e-3, steps=5)
    print(f"  from alpha = 1 (the sheet's start): L = {losses[0]:.3g}, "
          f"|dL/dalpha| = {np.abs(cr.grad(L)(np.ones(10))).max():.3g}; alpha is already "
          f"optimal (one step of size 1 reaches x = 0) and stays {alpha[0]:.3g}")
    # A start where there is something to learn: small steps.
    alpha0 = np.full(10, 0.1)
    results["hypergrad_check"] = report("dL/dalpha at alpha = 0.1 vs analytic",
                                        cr.grad(L)(alpha0), hypergradient_analytic(alpha0, x0),
                                        tol=1e-8 * (x0 @ x0))
    steps = 20 if fast else 60
    alpha, losses = hypergradient_descent(alpha0, x0, beta=3e-3, steps=steps)
    print(f"  from alpha = 0.1, beta = 3e-3, {steps} steps; loss trajectory:")
    for k in sorted(set([0, 1, 2, 3] + list(range(0, steps, max(1, steps // 6))) + [steps])):
        print(f"    step {k:3d}: L = {losses[k]:.6e}")
    print(f"  final alpha = {np.array2string(alpha, precision=3)}")
    # What we see: L = 1/2 P^2 ||x0||^2 with P = prod(1 - alpha_k) is a degree-20
    # polynomial, flat near its minimum set (any alpha_k = 1); dL/dalpha_j = -2L/(1-alpha_j)
    # shrinks with L, so the first step does most of the work and the rest crawl
    # (sublinear convergence). A larger beta jumps further in one step, then stalls too.
    print("  the first step removes most of L; then dL/dalpha = -2L/(1 - alpha) shrinks "
          "with L and plain gradient descent crawls towards the flat minimum (alpha_k = 1)")
    assert np.all(np.diff(losses) <= 0) and losses[-1] < 1e-2 * losses[0]
    results["hypergrad"] = (alpha, losses)

    print("\n== 6. Linear regression: manual vs autodiff gradient ==")
    X = np.array([1.0, 2.0, 3.0, 4.0])
    Y = 2 * X
    seed_grad = np.dot(2 * X, 0.0 * X - Y).mean()
    print(f"  seed data X = [1,2,3,4], w = 0: the seed's np.dot(2*x, y_pred - y).mean() = "
          f"{seed_grad:g}, autodiff dMSE/dw = {float(cr.grad(mse)(0.0, X, Y)):g}, "
          f"corrected manual = {manual_gradient(0.0, X, Y):g}")
    w, iters = train_linreg(X, Y, cr.grad(mse), lr=0.01)
    print(f"  trained with autodiff (lr 0.01): w = {w:.6f} after {iters} steps, "
          f"f(5) = {5 * w:.6f}")
    ns = np.logspace(1, 4, 4 if fast else 50)
    rows = linreg_timing(ns, runs=3)
    print("  time to reach MSE < 1e-9 (best of 3 runs), lr 0.1:")
    print("        n  iters   manual [ms]  autodiff [ms]  ratio  |w_manual - w_autodiff|")
    show = [rows[i] for i in sorted(set(range(0, len(rows), 7)) | {len(rows) - 1})]
    for n, it, tm, ta, dw in show:
        print(f"    {n:5d}  {it:5d}  {1e3 * tm:11.3f}  {1e3 * ta:13.3f}  {ta / tm:5.1f}  {dw:.1e}")
    results["linreg"] = rows
    return results


if __name__ == "__main__":
    main(fast="--fast" in sys.argv)
