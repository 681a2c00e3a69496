"""The JAX Autodiff Cookbook (seed 002), with chainrule in place of jax.

Every cell of the cookbook, in order, with ``import chainrule as cr`` and
``import chainrule.numpy as cnp`` for ``jax`` and ``jax.numpy``. Where the cookbook prints
a number we print ours next to it. Two differences to expect:

* chainrule computes in float64, the cookbook's outputs are float32: values agree to
  ~1e-7, and the finite-difference checks are far more accurate here.
* the cookbook draws W and b from ``jax.random.key(0)``. We use the same data set and
  the same W and b, recovered from the cookbook's own printed Jacobians (see
  ``COOKBOOK_W``), so W_grad, b_grad, the loss, the Jacobians and the Hessian can be
  compared with the printed values. Other random draws use NumPy.

Sections that need a transformation chainrule does not have yet (vmap, jit) check for
it and print a note instead of running. Run ``python examples/autodiff_cookbook.py``
(``--fast`` uses smaller arrays for the Hessian-vector-product timings).
"""
import sys
import timeit

import numpy as np

try:
    import chainrule as cr
except ImportError:  # run from a checkout without `pip install -e .`
    sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[1]))
    import chainrule as cr
import chainrule.numpy as cnp
from chainrule.test_util import check_grads

HAS_VMAP = hasattr(cr, "vmap")
HAS_JIT = hasattr(cr, "jit")
VMAP_NOTE = "needs vmap (issue #3)"
JIT_NOTE = "needs jit (a later issue)"

# ----------------------------------------------------------------------------- the data

# The cookbook's toy data set.
inputs = np.array([[0.52, 1.12, 0.77],
                   [0.88, -1.08, 0.15],
                   [0.52, 0.06, -1.30],
                   [0.74, -2.49, 1.39]])
targets = np.array([True, True, False, True])

# The cookbook's W and b (drawn from jax.random.key(0)). Recovered from its printed
# Jacobian with respect to b, d sigmoid(z_i)/db = s_i (1 - s_i): solving for s_i, then
# z_i = logit(s_i), then [inputs, 1] @ [W; b] = z (one of the 16 root choices reproduces
# the printed loss 3.051939).
COOKBOOK_W = np.array([-0.36837534, -2.27568704, 0.01144644])
COOKBOOK_b = 0.85354344

# What the cookbook prints (float32).
PRINTED = {
    "grad_tanh": 0.070650935,
    "grad2_tanh": -0.13621889,
    "grad3_tanh": 0.2526544,
    "W_grad": np.array([-0.16965576, -0.8774645, -1.4901344]),
    "b_grad": -0.29227236,
    "loss": 3.051939,
    "J": np.array([[0.05981756, 0.12883782, 0.088576],
                   [0.04015914, -0.04928622, 0.00684531],
                   [0.12188289, 0.01406341, -0.3047072],
                   [0.00140428, -0.00472522, 0.00263777]]),
    "J_b": np.array([0.11503378, 0.04563539, 0.23439017, 0.00189768]),
    "H": np.array([[[0.02285465, 0.0492254, 0.03384246],
                    [0.0492254, 0.10602394, 0.07289147],
                    [0.03384246, 0.07289146, 0.05011288]],
                   [[-0.03195214, 0.03921399, -0.00544639],
                    [0.03921399, -0.04812626, 0.0066842],
                    [-0.00544639, 0.0066842, -0.00092836]],
                   [[-0.01583708, -0.00182736, 0.03959271],
                    [-0.00182736, -0.00021085, 0.00456839],
                    [0.03959271, 0.00456839, -0.09898177]],
                   [[-0.00103522, 0.00348336, -0.00194453],
                    [0.00348336, -0.01172105, 0.00654308],
                    [-0.00194453, 0.00654308, -0.00365256]]]),
    "vgrad": np.full((2, 2), 6.0),
    "grad_abs2": 6 - 8j,
    "grad_sin_holo": -27.034945 - 3.8511531j,
    "grad_conj_holo": 1 - 0j,
    "cholesky_grad": np.array(
        [[-0.75342447 + 0.j, -3.0509021 - 10.940544j, 5.989684 + 3.5422976j],
         [-3.0509021 + 10.940544j, -8.904487 + 0.j, -5.1351547 - 6.5593696j],
         [5.989684 - 3.5422976j, -5.1351547 + 6.5593696j, 0.01320434 + 0.j]]),
}
PRINT_TOL = 2e-6    # float32 printouts vs float64 results


def compare(name, ours, printed, tol=PRINT_TOL):
    """Print our value beside the cookbook's and return the max abs difference."""
    err = float(np.max(np.abs(np.asarray(ours) - np.asarray(printed))))
    print(f"  {name:34s} max |chainrule - cookbook| = {err:.1e}"
          + ("" if err < tol else "   <-- MISMATCH"))
    return err


def sigmoid(x):
    return 0.5 * (cnp.tanh(x / 2) + 1)


# Outputs probability of a label being true.
def predict(W, b, inputs):
    return sigmoid(cnp.dot(inputs, W) + b)


# Training loss is the negative log-likelihood of the training examples.
def loss(W, b):
    preds = predict(W, b, inputs)
    label_probs = preds * targets + (1 - preds) * (1 - targets)
    return -cnp.sum(cnp.log(label_probs))


# --------------------------------------------------------------------------- gradients

def section_gradients(W=COOKBOOK_W, b=COOKBOOK_b):
    out = {}
    print("== Gradients: starting with grad ==")
    grad_tanh = cr.grad(cnp.tanh)
    out["grad_tanh"] = grad_tanh(2.0)
    out["grad2_tanh"] = cr.grad(cr.grad(cnp.tanh))(2.0)
    out["grad3_tanh"] = cr.grad(cr.grad(cr.grad(cnp.tanh)))(2.0)
    for k in ("grad_tanh", "grad2_tanh", "grad3_tanh"):
        print(f"  {k:10s} (2.0) = {float(out[k]): .9f}   (cookbook {PRINTED[k]})")
        out[k + "_err"] = compare(k, out[k], PRINTED[k])

    print("\n== Logistic regression: grad with argnums ==")
    # Differentiate `loss` with respect to the first positional argument:
    W_grad = cr.grad(loss, argnums=0)(W, b)
    print("  W_grad", W_grad)
    # Since argnums=0 is the default, this does the same thing:
    W_grad = cr.grad(loss)(W, b)
    print("  W_grad", W_grad)
    # But we can choose different values too, and drop the keyword:
    b_grad = cr.grad(loss, 1)(W, b)
    print("  b_grad", b_grad)
    # Including tuple values
    W_grad, b_grad = cr.grad(loss, (0, 1))(W, b)
    print("  W_grad", W_grad)
    print("  b_grad", b_grad)
    out["W_grad"], out["b_grad"] = W_grad, b_grad
    out["W_grad_err"] = compare("W_grad", W_grad, PRINTED["W_grad"])
    out["b_grad_err"] = compare("b_grad", b_grad, PRINTED["b_grad"])

    print("\n== Differentiating with respect to nested lists, tuples, and dicts ==")

    def loss2(params_dict):
        preds = predict(params_dict["W"], params_dict["b"], inputs)
        label_probs = preds * targets + (1 - preds) * (1 - targets)
        return -cnp.sum(cnp.log(label_probs))

    g = cr.grad(loss2)({"W": W, "b": b})
    print(" ", g)
    out["dict_grad"] = g

    print("\n== Evaluate a function and its gradient using value_and_grad ==")
    loss_value, Wb_grad = cr.value_and_grad(loss, (0, 1))(W, b)
    print("  loss value", loss_value)
    print("  loss value", loss(W, b))
    out["loss"] = loss_value
    out["loss_err"] = compare("loss", loss_value, PRINTED["loss"])

    # has_aux: return something besides the loss (here the predictions) without
    # differentiating it.
    def loss_with_preds(W, b):
        preds = predict(W, b, inputs)
        label_probs = preds * targets + (1 - preds) * (1 - targets)
        return -cnp.sum(cnp.log(label_probs)), preds

    W_grad_aux, preds = cr.grad(loss_with_preds, has_aux=True)(W, b)
    print("  has_aux: W_grad", W_grad_aux, "predictions", np.round(preds, 4))
    out["has_aux_err"] = float(np.max(np.abs(W_grad_aux - W_grad)))
    out["has_aux_preds"] = preds
    return out


def section_numerical(W=COOKBOOK_W, b=COOKBOOK_b, seed=0):
    print("\n== Checking against numerical differences ==")
    out = {}
    # Set a step size for finite differences calculations
    eps = 1e-4

    # Check b_grad with scalar finite differences
    b_grad_numerical = (loss(W, b + eps / 2.) - loss(W, b - eps / 2.)) / eps
    print("  b_grad_numerical", b_grad_numerical)
    print("  b_grad_autodiff ", cr.grad(loss, 1)(W, b))
    out["b_fd_err"] = abs(b_grad_numerical - cr.grad(loss, 1)(W, b))

    # Check W_grad with finite differences in a random direction
    vec = np.random.default_rng(seed).standard_normal(W.shape)
    unitvec = vec / cnp.sqrt(cnp.vdot(vec, vec))
    W_grad_numerical = (loss(W + eps / 2. * unitvec, b) - loss(W - eps / 2. * unitvec, b)) / eps
    print("  W_dirderiv_numerical", W_grad_numerical)
    print("  W_dirderiv_autodiff ", cnp.vdot(cr.grad(loss)(W, b), unitvec))
    out["W_fd_err"] = abs(W_grad_numerical - cnp.vdot(cr.grad(loss)(W, b), unitvec))
    print("  (float64: the central differences agree to ~1e-9; the cookbook's float32 "
          "ones only to ~3e-3)")

    # check up to 2nd order derivatives, forward and reverse, against finite differences
    check_grads(loss, (W, b), order=2)
    print("  check_grads(loss, (W, b), order=2): passed")
    return out


# ------------------------------------------------------- Hessian-vector products, Jacobians

def hvp_revrev_cookbook(f, x, v):
    """The first hvp of the cookbook: pure reverse mode, grad of <grad f(x), v>."""
    return cr.grad(lambda x: cnp.vdot(cr.grad(f)(x), v))(x)


def section_jacobians(W=COOKBOOK_W, b=COOKBOOK_b):
    print("\n== Jacobians and Hessians using jacfwd and jacrev ==")
    out = {}
    # Isolate the function from the weight matrix to the predictions
    f = lambda W: predict(W, b, inputs)

    J = cr.jacfwd(f)(W)
    print("  jacfwd result, with shape", J.shape)
    print(J)
    out["J_fwd"] = J
    J = cr.jacrev(f)(W)
    print("  jacrev result, with shape", J.shape)
    print(J)
    out["J_rev"] = J
    out["fwd_eq_rev"] = np.allclose(out["J_fwd"], out["J_rev"])
    print("  allclose(jacfwd, jacrev):", out["fwd_eq_rev"])
    out["J_err"] = compare("Jacobian", J, PRINTED["J"])

    # Container types
    def predict_dict(params, inputs):
        return predict(params["W"], params["b"], inputs)

    J_dict = cr.jacrev(predict_dict)({"W": W, "b": b}, inputs)
    for k, v in J_dict.items():
        print(f"  Jacobian from {k} to logits is")
        print(v)
    out["J_b_err"] = compare("Jacobian w.r.t. b", J_dict["b"], PRINTED["J_b"])

    # Dense Hessians: forward-over-reverse (the cookbook's definition; = cr.hessian)
    def hessian(f):
        return cr.jacfwd(cr.jacrev(f))

    H = hessian(f)(W)
    print("  hessian, with shape", H.shape)
    print(H)
    out["H"] = H
    out["H_err"] = compare("Hessian", H, PRINTED["H"])
    out["H_builtin_err"] = float(np.max(np.abs(cr.hessian(f)(W) - H)))

    # The grad-of-grad hvp from the beginning, checked against the dense Hessian of the loss
    v = np.random.default_rng(1).standard_normal(3)
    H_loss = cr.hessian(loss)(W, b)
    out["hvp_revrev_err"] = float(np.max(np.abs(hvp_revrev_cookbook(lambda W: loss(W, b), W, v)
                                                - H_loss @ v)))
    print(f"  grad-of-grad hvp vs hessian(loss) @ v: max abs diff {out['hvp_revrev_err']:.1e}")
    return out


def section_jvp_vjp(W=COOKBOOK_W, b=COOKBOOK_b, seed=2):
    print("\n== How it's made: jvp and vjp ==")
    rng = np.random.default_rng(seed)
    out = {}
    f = lambda W: predict(W, b, inputs)

    # Push forward the vector `v` along `f` evaluated at `W`
    v = rng.standard_normal(W.shape)
    y, u = cr.jvp(f, (W,), (v,))
    print("  jvp: f(W) =", y, "\n       J v  =", u)
    out["jvp_err"] = float(np.max(np.abs(u - cr.jacfwd(f)(W) @ v)))

    # Pull back the covector `u` along `f` evaluated at `W`
    y, vjp_fun = cr.vjp(f, W)
    u = rng.standard_normal(y.shape)
    v, = vjp_fun(u)
    print("  vjp: u^T J =", v)
    out["vjp_err"] = float(np.max(np.abs(v - u @ cr.jacrev(f)(W))))

    # Vector-valued gradients with VJPs
    def vgrad(f, x):
        y, vjp_fn = cr.vjp(f, x)
        return vjp_fn(cnp.ones(y.shape))[0]

    out["vgrad"] = vgrad(lambda x: 3 * x ** 2, cnp.ones((2, 2)))
    print("  vgrad(lambda x: 3*x**2, ones((2, 2))) =\n", out["vgrad"])
    return out


# forward-over-reverse
def hvp(f, primals, tangents):
    return cr.jvp(cr.grad(f), primals, tangents)[1]


# reverse-over-forward
def hvp_revfwd(f, primals, tangents):
    g = lambda primals: cr.jvp(f, primals, tangents)[1]
    return cr.grad(g)(primals)


# reverse-over-reverse, only works for single arguments
def hvp_revrev(f, primals, tangents):
    x, = primals
    v, = tangents
    return cr.grad(lambda x: cnp.vdot(cr.grad(f)(x), v))(x)


def section_hvp(shape=(30, 40), seed=3, timing=True):
    print("\n== Hessian-vector products using both forward- and reverse-mode ==")
    out = {}

    def f(X):
        return cnp.sum(cnp.tanh(X) ** 2)

    rng = np.random.default_rng(seed)
    X = rng.standard_normal(shape)
    V = rng.standard_normal(shape)

    ans1 = hvp(f, (X,), (V,))
    ans2 = cnp.tensordot(cr.hessian(f)(X), V, 2)
    out["fwdrev_vs_hessian"] = bool(np.allclose(ans1, ans2, 1e-4, 1e-4))
    print(f"  X, V of shape {shape}: allclose(hvp, tensordot(hessian(f)(X), V, 2)):",
          out["fwdrev_vs_hessian"])
    # hvp_revfwd takes the tuple of primals as its single argument: grad of a function
    # of a tuple returns a tuple
    revfwd, = hvp_revfwd(f, (X,), (V,))
    others = {"reverse-over-forward": revfwd,
              "reverse-over-reverse": hvp_revrev(f, (X,), (V,)),
              "cr.hvp (built in)": cr.hvp(f, (X,), (V,))}
    # d^2/dX^2 sum tanh^2 is diagonal: 2 (sech^4 - 2 tanh^2 sech^2) elementwise
    t = np.tanh(X)
    analytic = 2 * ((1 - t ** 2) ** 2 - 2 * t ** 2 * (1 - t ** 2)) * V
    out["errs"] = {"forward-over-reverse": float(np.max(np.abs(ans1 - analytic))),
                   "dense Hessian": float(np.max(np.abs(ans2 - analytic)))}
    for name, ans in others.items():
        out["errs"][name] = float(np.max(np.abs(ans - analytic)))
    for name, err in out["errs"].items():
        print(f"  {name:22s} vs analytic: max abs diff {err:.1e}")

    if timing:
        cases = [("Forward over reverse", lambda: hvp(f, (X,), (V,))),
                 ("Reverse over forward", lambda: hvp_revfwd(f, (X,), (V,))),
                 ("Reverse over reverse", lambda: hvp_revrev(f, (X,), (V,))),
                 ("Naive full Hessian materialization",
                  lambda: cnp.tensordot(cr.hessian(f)(X), V, 2))]
        for name, fn in cases:
            n = 10 if "Naive" not in name else 1
            best = min(timeit.repeat(fn, number=n, repeat=3)) / n
            print(f"  {name:36s} best of 3: {1e3 * best:8.2f} ms per loop")
    return out


# ----------------------------------------------------- composing VJPs, JVPs and vmap

def loop_mjp(f, x, M):
    # Pull back the covectors `m_i` along `f`, evaluated at `x`, one row at a time.
    y, vjp_fun = cr.vjp(f, x)
    return cnp.vstack([vjp_fun(mi) for mi in M])


def vmap_mjp(f, x, M):
    # One batched pull-back: a single matrix-matrix product instead of a loop.
    y, vjp_fun = cr.vjp(f, x)
    outs, = cr.vmap(vjp_fun)(M)
    return outs


def loop_jmp(f, W, M):
    # jvp returns (primal, tangent); keep the tangents
    return cnp.vstack([cr.jvp(f, (W,), (mi,))[1] for mi in M])


def vmap_jmp(f, W, M):
    _jvp = lambda s: cr.jvp(f, (W,), (s,))[1]
    return cr.vmap(_jvp)(M)


def our_jacrev(f):
    def jacfun(x):
        y, vjp_fun = cr.vjp(f, x)
        # vmap a matrix-Jacobian product over the Euclidean basis: all rows at once
        J, = cr.vmap(vjp_fun, in_axes=0)(cnp.eye(len(y)))
        return J
    return jacfun


def our_jacfwd(f):
    def jacfun(x):
        _jvp = lambda s: cr.jvp(f, (x,), (s,))[1]
        Jt = cr.vmap(_jvp, in_axes=1)(cnp.eye(len(x)))
        return cnp.transpose(Jt)
    return jacfun


def section_vmap(W=COOKBOOK_W, b=COOKBOOK_b, num=128, seed=4, timing=True):
    print("\n== Jacobian-Matrix and Matrix-Jacobian products ==")
    out = {}
    f = lambda W: predict(W, b, inputs)
    y = f(W)
    rng = np.random.default_rng(seed)
    U = rng.standard_normal((num,) + y.shape)
    S = rng.standard_normal((num,) + W.shape)

    loop_vs = loop_mjp(f, W, M=U)
    out["loop_mjp_err"] = float(np.max(np.abs(loop_vs - U @ cr.jacrev(f)(W))))
    loop_js = loop_jmp(f, W, M=S)
    out["loop_jmp_err"] = float(np.max(np.abs(loop_js - S @ cr.jacfwd(f)(W).T)))
    print(f"  loop matrix-Jacobian product: {loop_vs.shape}, vs U @ J: "
          f"{out['loop_mjp_err']:.1e}")
    print(f"  loop Jacobian-matrix product: {loop_js.shape}, vs S @ J^T: "
          f"{out['loop_jmp_err']:.1e}")

    if not HAS_VMAP:
        print(f"  vmapped products, our_jacrev, our_jacfwd: {VMAP_NOTE}; skipped")
        out["vmap"] = None
        return out

    vmap_vs = vmap_mjp(f, W, M=U)
    assert np.allclose(loop_vs, vmap_vs), \
        "Vmap and non-vmapped Matrix-Jacobian Products should be identical"
    vmap_js = vmap_jmp(f, W, M=S)
    assert np.allclose(loop_js, vmap_js), \
        "Vmap and non-vmapped Jacobian-Matrix products should be identical"
    if timing:
        for name, fn in (("Non-vmapped Matrix-Jacobian product", lambda: loop_mjp(f, W, U)),
                         ("Vmapped Matrix-Jacobian product", lambda: vmap_mjp(f, W, U)),
                         ("Non-vmapped Jacobian-Matrix product", lambda: loop_jmp(f, W, S)),
                         ("Vmapped Jacobian-Matrix product", lambda: vmap_jmp(f, W, S))):
            best = min(timeit.repeat(fn, number=3, repeat=3)) / 3
            print(f"  {name:36s} best of 3: {1e3 * best:8.2f} ms per loop")
    print("  vmapped products == looped products: True")

    print("\n== The implementation of jacfwd and jacrev ==")
    assert np.allclose(cr.jacrev(f)(W), our_jacrev(f)(W)), \
        "Incorrect reverse-mode Jacobian results!"
    assert np.allclose(cr.jacfwd(f)(W), our_jacfwd(f)(W)), \
        "Incorrect forward-mode Jacobian results!"
    print("  our_jacrev(f)(W) == jacrev(f)(W), our_jacfwd(f)(W) == jacfwd(f)(W): True")
    out["vmap"] = {"mjp": float(np.max(np.abs(loop_vs - vmap_vs))),
                   "jmp": float(np.max(np.abs(loop_js - vmap_js))),
                   "our_jacrev": float(np.max(np.abs(cr.jacrev(f)(W) - our_jacrev(f)(W)))),
                   "our_jacfwd": float(np.max(np.abs(cr.jacfwd(f)(W) - our_jacfwd(f)(W))))}
    return out


def section_jit_vjp():
    print("\n== jit of the linear part of a dynamic function ==")

    def f(x):
        try:
            if x < 3:
                return 2 * x ** 3
            else:
                raise ValueError
        except ValueError:
            return cnp.pi * x

    y, f_vjp = cr.vjp(f, 4.)
    if HAS_JIT:
        ans = cr.jit(f_vjp)(1.)
    else:
        print(f"  jit(f_vjp): {JIT_NOTE}; calling f_vjp without jit")
        ans = f_vjp(1.)
    print(" ", ans, "  (cookbook: (Array(3.1415927, dtype=float32),))")
    return ans


# ------------------------------------------------------------------- complex numbers

def _check_complex(seed, mode):
    """The cookbook's check(seed): jvp/vjp of f(z) = u(x, y) + i v(x, y), u, v linear."""
    rng = np.random.default_rng(seed)
    a, b, c, d = rng.uniform(size=4)

    def fun(z):
        x, y = cnp.real(z), cnp.imag(z)
        return u(x, y) + v(x, y) * 1j

    def u(x, y):
        return a * x + b * y

    def v(x, y):
        return c * x + d * y

    x, y = rng.uniform(size=2)          # primal point
    z = x + y * 1j
    c, d = rng.uniform(size=2)          # tangent / cotangent (the cookbook reuses c, d)
    if mode == "jvp":
        _, ans = cr.jvp(fun, (z,), (c + d * 1j,))
        expected = (cr.grad(u, 0)(x, y) * c +
                    cr.grad(u, 1)(x, y) * d +
                    cr.grad(v, 0)(x, y) * c * 1j +
                    cr.grad(v, 1)(x, y) * d * 1j)
    else:
        z_bar = cnp.array(c + d * 1j)   # for dtype control
        _, fun_vjp = cr.vjp(fun, z)
        ans, = fun_vjp(z_bar)
        expected = (cr.grad(u, 0)(x, y) * c +
                    cr.grad(v, 0)(x, y) * (-d) +
                    cr.grad(u, 1)(x, y) * c * (-1j) +
                    cr.grad(v, 1)(x, y) * (-d) * (-1j))
    return bool(np.allclose(ans, expected, atol=1e-12, rtol=1e-12))


def section_complex():
    print("\n== Complex numbers and differentiation ==")
    out = {}
    out["jvp_checks"] = [_check_complex(s, "jvp") for s in (0, 1, 2)]
    out["vjp_checks"] = [_check_complex(s, "vjp") for s in (0, 1, 2)]
    print("  jvp checks:", *out["jvp_checks"], "  vjp checks:", *out["vjp_checks"])

    def f(z):
        x, y = cnp.real(z), cnp.imag(z)
        return x ** 2 + y ** 2

    z = 3. + 4j
    out["grad_abs2"] = cr.grad(f)(z)
    print("  grad(x**2 + y**2)(3+4j) =", out["grad_abs2"])
    out["grad_sin_holo"] = cr.grad(cnp.sin, holomorphic=True)(z)
    print("  grad(sin, holomorphic=True)(3+4j) =", out["grad_sin_holo"])
    out["grad_conj_holo"] = cr.grad(cnp.conjugate, holomorphic=True)(z)
    print("  grad(conjugate, holomorphic=True)(3+4j) =", out["grad_conj_holo"],
          " (conjugate is not holomorphic!)")
    for k in ("grad_abs2", "grad_sin_holo", "grad_conj_holo"):
        out[k + "_err"] = compare(k, out[k], PRINTED[k], tol=1e-5)

    # Differentiating through a Cholesky decomposition of a complex matrix
    A = cnp.array([[5., 2. + 3j, 5j],
                   [2. - 3j, 7., 1. + 7j],
                   [-5j, 1. - 7j, 12.]])

    def f(X):
        L = cnp.linalg.cholesky(X)
        return cnp.sum((L - cnp.sin(L)) ** 2)

    G = cr.grad(f, holomorphic=True)(A)
    out["cholesky_grad"] = G
    print("  grad(sum((L - sin L)**2), holomorphic=True)(A), L = cholesky(A):")
    print(np.array2string(G, precision=6))
    # chainrule follows JAX (and PyTorch, autograd) here: cholesky's input stands for a
    # Hermitian matrix, so the gradient is Hermitian and is the cookbook's printout as it
    # is, with no symmetrising by hand (NumPy's cholesky reads only the lower triangle;
    # along Hermitian directions, the only ones that keep X a valid input, the gradient
    # is the derivative of NumPy's function).
    out["cholesky_hermitian"] = float(np.max(np.abs(G - G.conj().T)))
    print(f"  max |G - G^H| = {out['cholesky_hermitian']:.1e}")
    E = np.random.default_rng(6).standard_normal((3, 3, 2)) @ np.array([1, 1j])
    E = E + E.conj().T                       # a random Hermitian direction
    # pair G with E under Re(sum(a * b)), the pairing vjp is the transpose for, against
    # a central difference of NumPy's own program along E
    def f_np(X):
        L = np.linalg.cholesky(X)
        return np.sum((L - np.sin(L)) ** 2)
    fd = (f_np(A + 1e-6 * E) - f_np(A - 1e-6 * E)) / 2e-6
    out["cholesky_dir_diff"] = abs(np.real(np.sum(G * E)) - np.real(fd))
    print(f"  along a Hermitian direction E: |Re sum(G E) - finite difference| = "
          f"{out['cholesky_dir_diff']:.1e}")
    out["cholesky_grad_err"] = compare("cholesky gradient", G, PRINTED["cholesky_grad"],
                                       tol=2e-5)
    return out


# --------------------------------------------------------------- more advanced autodiff

def section_advanced(seed=5):
    """The cookbook's closing list, a few lines each: Gauss-Newton vector products with
    linearize, Hutchinson's Hessian-trace estimate from random hvps, custom JVPs/VJPs,
    checkpointing, and stop_gradient."""
    print("\n== More advanced autodiff ==")
    out = {}
    rng = np.random.default_rng(seed)

    # Gauss-Newton vector products, linearizing once: J^T J v for f(W) = predictions
    f = lambda W: predict(W, COOKBOOK_b, inputs)
    y, f_jvp = cr.linearize(f, COOKBOOK_W)
    _, f_vjp = cr.vjp(f, COOKBOOK_W)
    v = rng.standard_normal(3)
    gnvp = f_vjp(f_jvp(v))[0]
    J = cr.jacobian(f)(COOKBOOK_W)
    out["gnvp_err"] = float(np.max(np.abs(gnvp - J.T @ J @ v)))
    print(f"  Gauss-Newton vector product J^T J v via linearize + vjp: "
          f"vs dense {out['gnvp_err']:.1e}")

    # Hutchinson: E[z^T H z] = tr H for random z with E[z z^T] = I (here +-1 entries)
    A = rng.standard_normal((20, 50)) / 5
    g = lambda x: cnp.sum(cnp.tanh(A @ x) ** 2)
    x = rng.standard_normal(50)
    zs = rng.choice([-1.0, 1.0], size=(300, 50))
    samples = np.array([z @ cr.hvp(g, (x,), (z,)) for z in zs])
    est, stderr = samples.mean(), samples.std() / np.sqrt(len(samples))
    exact = np.trace(cr.hessian(g)(x))
    out["hutchinson"] = (est, stderr, exact)
    print(f"  Hutchinson trace estimate from 300 random hvps: {est:.3f} +- {stderr:.3f}; "
          f"exact tr H = {exact:.3f}")

    # custom_jvp: a numerically stable derivative for log(1 + e^x)
    @cr.custom_jvp
    def log1pexp(x):
        return cnp.log(1. + cnp.exp(x))

    @log1pexp.defjvp
    def log1pexp_jvp(primals, tangents):
        x, = primals
        x_dot, = tangents
        ans = log1pexp(x)
        return ans, x_dot * (1 - 1 / (1 + cnp.exp(x)))

    with np.errstate(over="ignore", invalid="ignore"):   # e^1000 overflows, as intended
        naive = cr.grad(lambda x: cnp.log(1. + cnp.exp(x)))(1000.)
        out["log1pexp_grad"] = cr.grad(log1pexp)(1000.)
    print(f"  custom_jvp: d/dx log(1 + e^x) at x = 1000: naive {naive}, "
          f"custom rule {out['log1pexp_grad']}")

    # custom_vjp: identity forwards, the cotangent clipped to [lo, hi] backwards. JAX's
    # version returns None as the (zero) cotangent of lo and hi.
    @cr.custom_vjp
    def clip_gradient(lo, hi, x):
        return x

    def clip_fwd(lo, hi, x):
        return x, (lo, hi)

    def clip_bwd(res, g):
        lo, hi = res
        return (None, None, cnp.clip(g, lo, hi))

    clip_gradient.defvjp(clip_fwd, clip_bwd)
    ts = (0.0, 1.0, 2.0, 3.0)
    h = lambda x: cnp.sin(clip_gradient(-0.75, 0.75, x))
    out["clip_grads"] = [float(cr.grad(h)(t)) for t in ts]
    print(f"  custom_vjp: grad of sin(clip_gradient(-0.75, 0.75, x)) at {ts}:",
          np.round(out["clip_grads"], 4), " unclipped cos:", np.round(np.cos(ts), 4))

    # The same rule with lo and hi declared non-differentiable: bwd receives them first
    # and returns a cotangent for x only.
    clip2 = cr.custom_vjp(lambda lo, hi, x: x, nondiff_argnums=(0, 1))
    clip2.defvjp(lambda lo, hi, x: (x, None),
                 lambda lo, hi, res, g: (cnp.clip(g, lo, hi),))
    h2 = lambda x: cnp.sin(clip2(-0.75, 0.75, x))
    out["clip_grads_nondiff"] = [float(cr.grad(h2)(t)) for t in ts]
    print("  custom_vjp with nondiff_argnums=(0, 1): the same",
          np.round(out["clip_grads_nondiff"], 4))

    # checkpoint: same gradient, intermediates recomputed on the way back
    def deep(x):
        for _ in range(5):
            x = cnp.sin(x) * 1.1
        return cnp.sum(x)

    xs = rng.standard_normal(8)
    out["checkpoint_err"] = float(np.max(np.abs(cr.grad(cr.checkpoint(deep))(xs)
                                                - cr.grad(deep)(xs))))
    print(f"  checkpoint: grad(checkpoint(f)) vs grad(f): {out['checkpoint_err']:.1e}")

    # stop_gradient: treat part of the computation as a constant
    out["stop_gradient"] = cr.grad(lambda x: x ** 2 + cr.stop_gradient(x ** 3))(2.0)
    print(f"  stop_gradient: d/dx [x^2 + stop_gradient(x^3)] at 2 = "
          f"{out['stop_gradient']} (the x^3 term contributes nothing)")
    return out


# -------------------------------------------------------------------------------- main

def main(fast=False):
    results = {}
    results.update(section_gradients())
    results.update(section_numerical())
    results.update(section_jacobians())
    results.update(section_jvp_vjp())
    results["hvp"] = section_hvp(shape=(6, 8) if fast else (30, 40), timing=not fast)
    results["mjp"] = section_vmap(num=16 if fast else 128, timing=not fast)
    results["jit_vjp"] = section_jit_vjp()
    results["complex"] = section_complex()
    results["advanced"] = section_advanced()
    return results


if __name__ == "__main__":
    main(fast="--fast" in sys.argv)
