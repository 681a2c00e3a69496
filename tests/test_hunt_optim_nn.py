"""chainrule.optim and chainrule.nn against reference formulas (hand-written NumPy,
SciPy, and optax when installed): silent wrong answers found by a hunt, and the
step-by-step comparisons that guard the rest."""
import numpy as np
import pytest
import scipy.special
from numpy.testing import assert_allclose

import chainrule as cr
import chainrule.numpy as cnp
from chainrule import nn, optim, tree_util


# ------------------------------------------------------------------- nn: losses

def test_mse_and_binary_nll_refuse_same_size_different_shape():
    # (2, 3) predictions against (3, 2) targets used to be reshaped silently (mse 0.0
    # here, pairing the wrong entries); only size-1 axes may differ
    a = np.arange(6.0).reshape(2, 3)
    b = np.arange(6.0).reshape(3, 2)
    with pytest.raises(ValueError, match="shape"):
        nn.mse(a, b)
    with pytest.raises(ValueError, match="shape"):
        nn.mse(a.ravel(), a)
    with pytest.raises(ValueError, match="shape"):
        nn.binary_nll(a, (b > 2).astype(float))
    # what stays accepted: (N, 1) against (N,), and (1, N) against (N,)
    z, y = np.array([0.3, -1.0, 2.0]), np.array([1.0, 0.0, 1.0])
    assert_allclose(nn.mse(z[:, None], y), np.mean((z - y) ** 2), rtol=1e-15)
    assert_allclose(nn.mse(z[None, :], y), np.mean((z - y) ** 2), rtol=1e-15)
    assert_allclose(nn.binary_nll(z[:, None], y), nn.binary_nll(z, y), rtol=1e-15)


def test_cross_entropy_integer_labels_must_fit_the_logits():
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((4, 3))
    labels = np.array([1, 0, 2, 1])
    ref = -scipy.special.log_softmax(logits, axis=-1)[np.arange(4), labels]
    # one label for a batch, or a scalar, used to broadcast silently
    for bad in (np.array([1]), np.array(1), np.array([1, 0, 2])):
        with pytest.raises(ValueError, match="integer labels of shape"):
            nn.cross_entropy(logits, bad)
    # (N, 1) integer labels used to broadcast to an (N, N) table silently
    assert_allclose(nn.cross_entropy(logits, labels[:, None]), ref.mean(), rtol=1e-14)
    assert_allclose(nn.cross_entropy(logits, labels, reduction="none"), ref, rtol=1e-14)
    # class axis 0
    assert_allclose(nn.cross_entropy(logits.T, labels, axis=0, reduction="none"), ref,
                    rtol=1e-14)
    with pytest.raises(ValueError, match="integer labels of shape"):
        nn.cross_entropy(logits.T, labels[:3], axis=0)
    # per-example gradients (vmap: labels of shape ()) still work
    g = nn.per_example_grads(lambda p, X, t: nn.cross_entropy(X @ p, t), np.eye(3),
                             logits, labels)
    assert g.shape == (4, 3, 3)


def test_cross_entropy_matches_scipy_at_extreme_logits():
    L = np.array([[1000.0, 1000.0, -1000.0, 0.0], [-1000.0] * 4, [3.0, -2.0, 0.5, 1e-3],
                  [-1000.0, 1000.0, 999.0, 0.0]])
    y = np.array([0, 3, 1, 2])
    ref = -scipy.special.log_softmax(L, axis=-1)[np.arange(4), y]
    assert_allclose(nn.cross_entropy(L, y, reduction="none"), ref, rtol=1e-14)
    assert_allclose(nn.cross_entropy(L, np.eye(4)[y], reduction="sum"), ref.sum(),
                    rtol=1e-14)
    g = cr.grad(lambda l: nn.cross_entropy(l, y))(L)
    assert_allclose(g, (scipy.special.softmax(L, axis=-1) - np.eye(4)[y]) / 4,
                    rtol=1e-12, atol=1e-300)


def test_binary_nll_keeps_relative_accuracy_for_confident_predictions():
    # softplus(z) - y z cancelled 30 - 30 and was 1.3% off at z = 30, y = 1
    z = np.array([30.0, -30.0, 40.0, -36.0, 0.0, 1000.0, -1000.0])
    y = np.array([1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0])
    ref = -(y * scipy.special.log_expit(z) + (1 - y) * scipy.special.log_expit(-z))
    assert_allclose(nn.binary_nll(z, y, reduction="none"), ref, rtol=1e-14)
    g = cr.grad(lambda v: nn.binary_nll(v, y, reduction="sum"))(z)
    # the derivative sigmoid(z) - y, written without cancellation
    assert_allclose(g, np.where(y == 1, -scipy.special.expit(-z), scipy.special.expit(z)),
                    rtol=1e-14, atol=1e-300)
    assert_allclose(g[4], -0.5)               # z = 0: sigmoid(0) - 1
    # soft labels and the mean still follow the documented formula
    ys = np.array([0.3, 0.9, 0.5, 0.0, 1.0, 0.25, 0.75])
    zs = np.array([0.3, -1.0, 2.0, 4.0, -3.0, 10.0, -8.0])
    p = scipy.special.expit(zs)
    assert_allclose(nn.binary_nll(zs, ys), -np.mean(ys * np.log(p) + (1 - ys) * np.log1p(-p)),
                    rtol=1e-13)


# -------------------------------------------------------------- nn: activations

def test_relu_keeps_nan_and_its_subgradient_at_zero():
    x = np.array([np.nan, -1.0, 0.0, 2.0])
    with np.errstate(invalid="ignore"):
        out = nn.relu(x)
    assert np.isnan(out[0])                     # was 0.0: a diverged input hidden
    assert_allclose(out[1:], [0.0, 0.0, 2.0])
    assert_allclose(cr.elementwise_grad(nn.relu)(x[1:]), [0.0, 0.0, 1.0])
    assert nn.relu(np.ones(2, np.float32)).dtype == np.float32


@pytest.mark.parametrize("name,f,ref", [
    ("gelu_exact", lambda x: nn.gelu(x, approximate=False),
     lambda x: 0.5 * x * (1 + scipy.special.erf(x / np.sqrt(2)))),
    ("gelu_tanh", nn.gelu,
     lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))),
    ("softplus", nn.softplus, lambda x: np.logaddexp(0.0, x)),
    ("silu", nn.silu, lambda x: x * scipy.special.expit(x)),
    ("elu", nn.elu, lambda x: np.where(x > 0, x, np.expm1(np.minimum(x, 0)))),
    ("log_sigmoid", nn.log_sigmoid, scipy.special.log_expit),
])
def test_activations_values_and_derivatives(name, f, ref):
    x = np.array([-1000.0, -40.0, -3.0, -0.7, 0.3, 2.0, 40.0, 1000.0])
    with np.errstate(over="ignore", invalid="ignore"):
        assert_allclose(f(x), ref(x), rtol=1e-13, atol=1e-300)
    d = cr.elementwise_grad(f)(x)
    assert np.all(np.isfinite(d))
    h = 1e-6
    xs = x[np.abs(x) < 100]
    fd = (f(xs + h) - f(xs - h)) / (2 * h)
    assert_allclose(d[np.abs(x) < 100], fd, rtol=1e-7, atol=1e-9)


# ----------------------------------------------------------------- nn: data, fit

def test_num_batches_agrees_with_batches():
    X = np.arange(10.0)[:, None]
    for bs in (1, 3, 4, 9, 10, 11, 32, None):
        for drop_last in (False, True):
            got = list(nn.batches(X, batch_size=bs, rng=0, drop_last=drop_last))
            assert nn.num_batches(10, bs, drop_last) == len(got), (bs, drop_last)
            seen = np.concatenate([b[:, 0] for b in got]) if got else np.zeros(0)
            assert len(set(seen)) == len(seen)
            if not drop_last:
                assert sorted(seen) == list(range(10))


def test_fit_with_drop_last_and_no_full_batch_raises():
    # used to "train" 0 steps and record a loss of 0.0 per epoch
    X = np.random.default_rng(0).normal(size=(10, 2))
    y = (X[:, 0] > 0).astype(float)
    model = nn.mlp([2, 3, 1])

    def loss(p, X, y):
        return nn.binary_nll(model.apply(p, X), y)

    for kw in (dict(epochs=3), dict(steps=3)):
        with pytest.raises(ValueError, match="no batches"):
            nn.fit(loss, model.init(0), (X, y), optim.sgd(0.1), batch_size=32,
                   drop_last=True, progress=False, **kw)


def test_fit_follows_the_hand_written_loop():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(23, 2))
    y = (X[:, 0] + 0.3 * rng.normal(size=23) > 0).astype(float)
    model = nn.mlp([2, 4, 1])

    def loss(p, X, y):
        return nn.binary_nll(model.apply(p, X), y)

    for bs, drop_last in [(5, False), (7, True), (None, False)]:
        hist = nn.fit(loss, model.init(0), (X, y), optim.adam(0.05), epochs=3,
                      batch_size=bs, drop_last=drop_last, rng=3, progress=False)
        p, opt = model.init(0), optim.adam(0.05)
        s, gen, step_losses, epoch_losses = opt.init(p), np.random.default_rng(3), [], []
        for _ in range(3):
            perm, size, total, count = gen.permutation(23), bs or 23, 0.0, 0
            for start in range(0, 23, size):
                idx = perm[start:start + size]
                if drop_last and idx.size < size:
                    break
                v, g = cr.value_and_grad(loss)(p, X[idx], y[idx])
                u, s = opt.update(g, s, p)
                p = optim.apply_updates(p, u)
                step_losses.append(float(v))
                total, count = total + float(v) * idx.size, count + idx.size
            epoch_losses.append(total / count)
        assert_allclose(hist.step_loss, step_losses, rtol=0, atol=0)
        assert_allclose(hist["loss"], epoch_losses, rtol=1e-15)
        for a, b in zip(tree_util.tree_leaves(hist.params), tree_util.tree_leaves(p)):
            assert_allclose(a, b, rtol=0, atol=0)


# ------------------------------------------------------------ nn: initialisers

@pytest.mark.parametrize("name,var", [
    ("glorot_uniform", 2 / 100), ("glorot_normal", 2 / 100), ("he_uniform", 2 / 60),
    ("he_normal", 2 / 60), ("lecun_uniform", 1 / 60), ("lecun_normal", 1 / 60)])
def test_initialiser_variances(name, var):
    W = np.concatenate([getattr(nn, name)()(s, (60, 40)).ravel() for s in range(60)])
    assert abs(W.var() / var - 1) < 0.01
    assert abs(W.mean()) < 0.01 * np.sqrt(var) * 10
    assert np.array_equal(getattr(nn, name)()(3, (60, 40)), getattr(nn, name)()(3, (60, 40)))


# ------------------------------------------------------- optim: transformations

def test_centered_rmsprop_with_constant_gradients_stays_finite():
    # E[g^2] - E[g]^2 rounds to a tiny negative number after ~300 equal gradients:
    # sqrt gave NaN parameters (the formula's value there is g / eps)
    opt = optim.rmsprop(0.01, centered=True)
    x = np.zeros(3)
    s = opt.init(x)
    for _ in range(400):
        u, s = opt.update(np.full(3, 12.3), s, x)
        x = optim.apply_updates(x, u)
    assert np.all(np.isfinite(x))


def test_adamw_mask_structure_is_checked_and_prefixes_broadcast():
    p = {"W": np.ones((2, 2)), "b": np.ones(2), "c": [np.ones(1), np.ones(1)]}
    g = tree_util.tree_map(np.zeros_like, p)

    def decayed(mask):
        opt = optim.add_decayed_weights(0.5, mask=mask)
        return opt.update(g, opt.init(p), p)[0]

    # a prefix mask: a bool for a whole subtree (as in optax)
    u = decayed({"W": True, "b": False, "c": True})
    assert_allclose(u["W"], 0.5)
    assert_allclose(u["b"], 0.0)
    assert_allclose(u["c"][0], 0.5)
    assert_allclose(u["c"][1], 0.5)
    u = decayed({"W": True, "b": False, "c": [False, True]})
    assert_allclose(u["c"][0], 0.0)
    assert_allclose(u["c"][1], 0.5)
    # same number of leaves, other structure: matched by position, silently, before
    for bad in ([True, False, True, True], {"w": True, "b": False, "c": [True, False]},
                {"W": True, "b": False, "c": [True]}):
        with pytest.raises(ValueError, match="mask"):
            decayed(bad)
    with pytest.raises(ValueError, match="adamw: the mask"):
        opt = optim.adamw(0.1, mask=[True, False, True, True])
        opt.update(g, opt.init(p), p)


def _tree_params(rng):
    return {"a": rng.normal(size=(3, 4)), "b": [rng.normal(size=5), (np.array(0.7), 1.3)],
            "c": {"d": rng.normal(size=(2,)), "e": np.array(-0.2)}}


def _run(opt, grads_seq, p):
    s = opt.init(p)
    out = []
    for g in grads_seq:
        u, s = opt.update(g, s, p)
        p = optim.apply_updates(p, u)
        out.append(p)
    return out


def _reference(rule, grads_seq, p, **hp):
    """The documented update rules written leaf by leaf in NumPy (PyTorch's and
    optax's formulas)."""
    leaves, td = tree_util.tree_flatten(p)
    x = [np.asarray(v, dtype=float) for v in leaves]
    st = [dict(m=np.zeros_like(v), v=np.zeros_like(v), b=np.zeros_like(v),
               a=np.full_like(v, hp.get("iav", 0.1))) for v in x]
    out = []
    for t, g in enumerate(grads_seq, start=1):
        gl = [np.asarray(v, dtype=float) for v in tree_util.tree_leaves(g)]
        if "clip" in hp:
            n = np.sqrt(sum(np.sum(v * v) for v in gl))
            gl = [v * hp["clip"] / max(n, hp["clip"]) for v in gl]
        new = []
        for xi, gi, s in zip(x, gl, st):
            lr = hp["lr"]
            if rule == "sgd":
                d = gi + hp.get("wd", 0.0) * xi
                if hp.get("mom"):
                    s["b"] = hp["mom"] * s["b"] + d
                    d = d + hp["mom"] * s["b"] if hp.get("nesterov") else s["b"]
                xi = xi - lr * d
            elif rule in ("adam", "adamw"):
                b1, b2, eps = hp.get("b1", 0.9), hp.get("b2", 0.999), hp.get("eps", 1e-8)
                s["m"] = b1 * s["m"] + (1 - b1) * gi
                s["v"] = b2 * s["v"] + (1 - b2) * gi * gi
                mh, vh = s["m"] / (1 - b1 ** t), s["v"] / (1 - b2 ** t)
                xi = xi - lr * (mh / (np.sqrt(vh) + eps) + hp.get("wd", 0.0) * xi)
            elif rule == "rmsprop":
                a, eps = hp.get("decay", 0.9), hp.get("eps", 1e-8)
                s["v"] = a * s["v"] + (1 - a) * gi * gi
                var = s["v"]
                if hp.get("centered"):
                    s["m"] = a * s["m"] + (1 - a) * gi
                    var = s["v"] - s["m"] ** 2
                d = gi / (np.sqrt(var) + eps)
                if hp.get("mom"):
                    s["b"] = hp["mom"] * s["b"] + d
                    d = s["b"]
                xi = xi - lr * d
            elif rule == "adagrad":
                s["a"] = s["a"] + gi * gi
                xi = xi - lr * gi / np.sqrt(s["a"] + hp.get("eps", 1e-7))
            new.append(xi)
        x = new
        out.append(tree_util.tree_unflatten(td, x))
    return out


@pytest.mark.parametrize("rule,opt,hp", [
    ("sgd", optim.sgd(0.05), dict(lr=0.05)),
    ("sgd", optim.sgd(0.05, momentum=0.9), dict(lr=0.05, mom=0.9)),
    ("sgd", optim.sgd(0.05, momentum=0.9, nesterov=True), dict(lr=0.05, mom=0.9, nesterov=True)),
    ("sgd", optim.sgd(0.05, momentum=0.8, weight_decay=0.01), dict(lr=0.05, mom=0.8, wd=0.01)),
    ("adam", optim.adam(0.01), dict(lr=0.01)),
    ("adam", optim.adam(0.02, b1=0.5, b2=0.9, eps=1e-3), dict(lr=0.02, b1=0.5, b2=0.9, eps=1e-3)),
    ("adamw", optim.adamw(0.01, weight_decay=0.1), dict(lr=0.01, wd=0.1)),
    ("rmsprop", optim.rmsprop(0.01), dict(lr=0.01)),
    ("rmsprop", optim.rmsprop(0.01, decay=0.99, centered=True, momentum=0.5),
     dict(lr=0.01, decay=0.99, centered=True, mom=0.5)),
    ("adagrad", optim.adagrad(0.1), dict(lr=0.1)),
    ("adagrad", optim.adagrad(0.1, initial_accumulator_value=0.5, eps=1e-3),
     dict(lr=0.1, iav=0.5, eps=1e-3)),
    ("sgd", optim.chain(optim.clip_by_global_norm(0.5), optim.sgd(0.1)), dict(lr=0.1, clip=0.5)),
])
def test_optimisers_match_the_documented_formulas(rule, opt, hp):
    rng = np.random.default_rng(1)
    p = _tree_params(rng)
    grads = [tree_util.tree_map(lambda v: rng.normal(size=np.shape(v)) * rng.choice(
        [0.0, 1e-3, 1.0, 30.0]), p) for _ in range(60)]
    ours = _run(opt, grads, p)
    ref = _reference(rule, grads, p, **hp)
    for a, b in zip(ours, ref):
        assert tree_util.tree_structure(a) == tree_util.tree_structure(b)
        for u, v in zip(tree_util.tree_leaves(a), tree_util.tree_leaves(b)):
            assert np.shape(u) == np.shape(v)
            assert_allclose(u, v, rtol=1e-12, atol=1e-14)


def test_hypergradients_through_optimiser_steps_match_finite_differences():
    rng = np.random.default_rng(3)
    A = rng.normal(size=(4, 4))
    A = A @ A.T / 4 + np.eye(4)
    b = rng.normal(size=4)

    def f(p):
        return (0.5 * p["x"] @ A @ p["x"] - b @ p["x"] + cnp.sum(cnp.cos(p["y"][0]))
                + p["y"][1] ** 2)

    p0 = {"x": rng.normal(size=4), "y": [rng.normal(size=3), 0.4]}

    def after(make, h, k=10):
        opt, p = make(h), p0
        s = opt.init(p)
        for _ in range(k):
            u, s = opt.update(cr.grad(f)(p), s, p)
            p = optim.apply_updates(p, u)
        return f(p)

    for make, h in [(lambda lr: optim.sgd(lr, momentum=0.8, nesterov=True), 0.05),
                    (lambda b1: optim.adam(0.05, b1=b1), 0.8),
                    (lambda lr: optim.adamw(lr, weight_decay=0.1), 0.05),
                    (lambda lr: optim.rmsprop(lr, momentum=0.3, centered=True), 0.01),
                    (lambda m: optim.chain(optim.clip_by_global_norm(m), optim.sgd(0.1)), 0.5),
                    (lambda lr: optim.sgd(optim.warmup_cosine_decay(0.0, lr, 3, 10, 0.01)),
                     0.05)]:
        g = float(cr.grad(lambda v: after(make, v))(h))
        fd = (after(make, h + 1e-6) - after(make, h - 1e-6)) / 2e-6
        assert_allclose(g, fd, rtol=1e-7)


# ------------------------------------------------- optim: deterministic methods

def _rosen(p):
    return (1 - p["x"]) ** 2 + 100 * (p["y"] - p["x"] ** 2) ** 2


def _rosen_np(v):
    return (1 - v[0]) ** 2 + 100 * (v[1] - v[0] ** 2) ** 2


def _rosen_grad(v):
    x, y = v
    return np.array([-2 * (1 - x) - 400 * x * (y - x ** 2), 200 * (y - x ** 2)])


def _rosen_hess(v):
    x, y = v
    return np.array([[2 - 400 * (y - x ** 2) + 800 * x ** 2, -400 * x], [-400 * x, 200.0]])


@pytest.mark.parametrize("kw", [dict(max_iter=400), dict(line_search=False, step_size=1e-3,
                                                         max_iter=300),
                                dict(step_size=0.01, tol=1e-3, max_iter=300)])
def test_gradient_descent_iterates_match_the_documented_rule(kw):
    res = optim.gradient_descent(_rosen, {"x": -1.2, "y": 1.0}, keep_path=True, **kw)
    step, ls = kw.get("step_size", 1.0), kw.get("line_search", True)
    tol, max_iter = kw.get("tol", 1e-6), kw["max_iter"]
    x, alpha, path, nit = np.array([-1.2, 1.0]), step, [np.array([-1.2, 1.0])], 0
    while True:
        fx, g = _rosen_np(x), _rosen_grad(x)
        gn = np.linalg.norm(g)
        if gn <= tol or nit >= max_iter:
            break
        if ls:
            a = alpha
            while not (_rosen_np(x - a * g) <= fx - 1e-4 * a * gn ** 2
                       and _rosen_np(x - a * g) < fx):
                a *= 0.5
            ratio = (fx - _rosen_np(x - a * g)) / (a * gn ** 2)
            alpha = a * (2.0 if ratio >= 0.5 else 0.5 if ratio < 0.1 else 1.0)
        else:
            a = step
        x = x - a * g
        nit += 1
        path.append(x)
    ours = np.array([[q["x"], q["y"]] for q in res.history.x])
    assert res.nit == nit == len(ours) - 1
    assert_allclose(ours, np.array(path), rtol=0, atol=1e-12)
    assert res.converged == (np.linalg.norm(_rosen_grad(x)) <= tol)


@pytest.mark.parametrize("kw", [dict(), dict(damping=1.0), dict(line_search=False,
                                                               step_size=0.5)])
def test_newton_exact_iterates_match_the_documented_rule(kw):
    res = optim.newton(_rosen, {"x": -1.2, "y": 1.0}, method="exact", keep_path=True, **kw)
    damping, step = kw.get("damping", 0.0), kw.get("step_size", 1.0)
    x, path, nit = np.array([-1.2, 1.0]), [np.array([-1.2, 1.0])], 0
    while True:
        fx, g = _rosen_np(x), _rosen_grad(x)
        if np.linalg.norm(g) <= 1e-8 or nit >= 100:
            break
        M = _rosen_hess(x) + damping * np.eye(2)
        try:
            np.linalg.cholesky(M)
            d = -np.linalg.solve(M, g)
        except np.linalg.LinAlgError:
            d = -g
        if g @ d >= 0:
            d = -g
        a = step
        if kw.get("line_search", True):
            while not (_rosen_np(x + a * d) <= fx + 1e-4 * a * (g @ d)
                       and _rosen_np(x + a * d) < fx):
                a *= 0.5
        x = x + a * d
        nit += 1
        path.append(x)
    ours = np.array([[q["x"], q["y"]] for q in res.history.x])
    assert res.nit == nit and res.converged
    assert_allclose(ours, np.array(path), rtol=0, atol=1e-11)


# ------------------------------------------------------------- optax, if present

def _optax():
    optax = pytest.importorskip("optax")
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    return optax, jax


def test_schedules_match_optax():
    optax, _ = _optax()
    cases = [
        (optim.linear_schedule(1.0, 0.1, 100, 37), optax.linear_schedule(1.0, 0.1, 100, 37)),
        (optim.exponential_decay(1.0, 30, 0.5, 17, True),
         optax.exponential_decay(1.0, 30, 0.5, 17, True)),
        (optim.exponential_decay(1.0, 30, 0.5, 5, False, 0.05),
         optax.exponential_decay(1.0, 30, 0.5, 5, False, 0.05)),
        (optim.exponential_decay(1.0, 30, 1.5, 5, False, 3.0),
         optax.exponential_decay(1.0, 30, 1.5, 5, False, 3.0)),
        (optim.cosine_decay(0.1, 100, 0.1, 2.0), optax.cosine_decay_schedule(0.1, 100, 0.1, 2.0)),
        (optim.piecewise_constant(0.1, {100: 0.1, 200: 0.5, 50: 2.0}),
         optax.piecewise_constant_schedule(0.1, {100: 0.1, 200: 0.5, 50: 2.0})),
        (optim.warmup_cosine_decay(0.02, 0.1, 13, 200, 0.001),
         optax.warmup_cosine_decay_schedule(0.02, 0.1, 13, 200, 0.001)),
        (optim.join_schedules([optim.linear_schedule(0., 1., 20), optim.cosine_decay(1.0, 50),
                               0.3], [20, 90]),
         optax.join_schedules([optax.linear_schedule(0., 1., 20),
                               optax.cosine_decay_schedule(1.0, 50),
                               optax.constant_schedule(0.3)], [20, 90])),
    ]
    for ours, theirs in cases:
        # Python int counts: optax's int32 counter would evaluate in float32
        for t in range(260):
            assert_allclose(float(ours(t)), float(theirs(t)), rtol=1e-13)


def test_optimisers_match_optax():
    optax, jax = _optax()
    rng = np.random.default_rng(0)
    p = _tree_params(rng)
    grads = [tree_util.tree_map(lambda v: rng.normal(size=np.shape(v)), p) for _ in range(60)]
    cases = [
        (optim.sgd(0.05, momentum=0.9, nesterov=True), optax.sgd(0.05, 0.9, nesterov=True)),
        (optim.adam(0.01, eps_root=1e-6), optax.adam(0.01, eps_root=1e-6)),
        (optim.adamw(0.01, weight_decay=0.1), optax.adamw(0.01, weight_decay=0.1)),
        (optim.adagrad(0.1), optax.adagrad(0.1)),
        (optim.chain(optim.clip_by_global_norm(0.5), optim.clip(0.1), optim.adam(0.1)),
         optax.chain(optax.clip_by_global_norm(0.5), optax.clip(0.1), optax.adam(0.1))),
    ]
    for ours, theirs in cases:
        q = jax.tree_util.tree_map(lambda v: jax.numpy.asarray(v, dtype=jax.numpy.float64), p)
        mine = _run(ours, grads, p)
        t = theirs.init(q)
        for step, g in enumerate(grads):
            u, t = theirs.update(jax.tree_util.tree_map(jax.numpy.asarray, g), t, q)
            q = optax.apply_updates(q, u)
            for a, b in zip(tree_util.tree_leaves(mine[step]), jax.tree_util.tree_leaves(q)):
                assert_allclose(a, np.asarray(b), rtol=1e-12, atol=1e-14)


# ------------------------------------------- decisions: parameter dtypes are kept

def _all_optimisers():
    """Every optimiser and transformation of chainrule.optim, with the learning rate
    given in each form that used to promote float32 leaves to float64 (a NumPy float64,
    a 0-d float64 array, a schedule)."""
    lr64, lr0d = np.float64(0.05), np.asarray(0.05)
    return {
        "sgd": optim.sgd(0.05),
        "sgd_np64_lr": optim.sgd(lr64),
        "sgd_momentum_wd": optim.sgd(lr0d, momentum=np.float64(0.9), weight_decay=lr64),
        "sgd_nesterov": optim.sgd(0.05, momentum=0.9, nesterov=True),
        "momentum": optim.momentum(0.05),
        "nesterov": optim.nesterov(lr0d),
        "adam": optim.adam(0.01),
        "adam_schedule": optim.adam(optim.warmup_cosine_decay(0.0, 0.02, 5, 20),
                                    b1=np.float64(0.9), eps_root=1e-8),
        "adamw": optim.adamw(lr64, weight_decay=0.1),
        "adamw_mask": optim.adamw(0.01, weight_decay=lr0d,
                                  mask=lambda p: tree_util.tree_map(
                                      lambda v: np.ndim(v) > 1, p)),
        "rmsprop": optim.rmsprop(0.01),
        "rmsprop_centered_momentum": optim.rmsprop(lr0d, centered=True, momentum=0.5),
        "rmsprop_nesterov": optim.rmsprop(0.01, momentum=0.9, nesterov=True),
        "adagrad": optim.adagrad(lr64),
        "clipped_adam": optim.chain(optim.clip_by_global_norm(np.float64(0.5)),
                                    optim.clip(np.float64(0.1)), optim.adam(0.1)),
        "blocks": optim.chain(optim.identity(), optim.scale_by_adam(),
                              optim.add_decayed_weights(np.float64(1e-2)),
                              optim.trace(0.5), optim.scale_by_rms(),
                              optim.scale_by_adagrad(), optim.scale(lr64),
                              optim.scale_by_schedule(optim.exponential_decay(1.0, 5, 0.5)),
                              optim.scale_by_learning_rate(lr0d, flip_sign=False)),
    }


def _run_states(opt, grads_seq, p):
    s = opt.init(p)
    seen = [s]
    for g in grads_seq:
        u, s = opt.update(g, s, p)
        p = optim.apply_updates(p, u)
        seen += [u, s, p]
    return p, seen


def _float_leaves(tree):
    return [v for v in tree_util.tree_leaves(tree) if isinstance(v, (np.ndarray, np.generic))]


@pytest.mark.parametrize("name", sorted(_all_optimisers()))
def test_float32_parameters_stay_float32_and_agree_with_float64(name):
    # stateful optimisers turned float32 parameters into float64 silently (zeros
    # buffers in float64, and float64 hyperparameters promoting the leaves)
    opt = _all_optimisers()[name]
    rng = np.random.default_rng(1)
    p64 = {"W": rng.normal(size=(3, 4)), "b": [rng.normal(size=4), np.asarray(0.3)]}
    grads64 = [tree_util.tree_map(lambda v: rng.normal(size=np.shape(v)), p64)
               for _ in range(20)]
    to32 = lambda t: tree_util.tree_map(lambda v: np.asarray(v, dtype=np.float32), t)  # noqa
    p32, seen = _run_states(opt, [to32(g) for g in grads64], to32(p64))
    leaves = _float_leaves(seen)
    assert leaves and {v.dtype for v in leaves} == {np.dtype(np.float32)}, \
        sorted({str(v.dtype) for v in leaves})
    ref, _ = _run_states(opt, grads64, p64)
    for a, b in zip(tree_util.tree_leaves(p32), tree_util.tree_leaves(ref)):
        assert type(a) is np.ndarray and a.dtype == np.float32
        assert_allclose(a, b, rtol=2e-5, atol=2e-5)


@pytest.mark.parametrize("dtype", [np.float16, np.complex64])
def test_float16_and_complex64_parameters_keep_their_dtype(dtype):
    rng = np.random.default_rng(2)
    p = {"W": (rng.normal(size=(2, 3)) + (1j * rng.normal(size=(2, 3))
                                          if dtype is np.complex64 else 0)).astype(dtype)}
    grads = [tree_util.tree_map(lambda v: (0.5 * v).astype(dtype), p) for _ in range(5)]
    for name, opt in _all_optimisers().items():
        out, seen = _run_states(opt, grads, p)
        assert {v.dtype for v in _float_leaves(seen)} == {np.dtype(dtype)}, name


def test_integer_and_python_number_parameters_become_float64():
    # documented: a fractional step would otherwise be truncated
    p = {"i": np.arange(3), "f": 1.0, "n": 2}
    g = {"i": np.full(3, 0.5), "f": 0.5, "n": 0.5}
    for opt in (optim.sgd(0.1), optim.adam(0.1), optim.adagrad(0.1)):
        s = opt.init(p)
        u, s = opt.update(g, s, p)
        new = optim.apply_updates(p, u)
        for v in tree_util.tree_leaves((u, s, new)):
            if isinstance(v, np.ndarray):
                assert v.dtype == np.float64
        assert np.all(new["i"] < np.arange(3)) and np.all(new["i"] > np.arange(3) - 1)
        assert type(new["f"]) is np.ndarray and new["f"].dtype == np.float64
    assert optim.tree_zeros_like({"a": np.ones(2, np.float32), "b": 3})["a"].dtype == \
        np.float32
    assert optim.tree_zeros_like({"a": np.ones(2, np.float32), "b": 3})["b"].dtype == \
        np.float64


def test_float32_hypergradient_through_adam():
    # the cast back to float32 is differentiable (a traced learning rate)
    def after(lr):
        p = np.zeros(3, np.float32)
        opt = optim.adam(lr)
        s = opt.init(p)
        for _ in range(5):
            u, s = opt.update(cr.grad(lambda q: cnp.sum((q - 3.0) ** 2))(p), s, p)
            p = optim.apply_updates(p, u)
        assert p.dtype == np.float32
        return cnp.sum((p - 3.0) ** 2)
    d = float(cr.grad(after)(0.05))
    fd = (float(after(0.0501)) - float(after(0.0499))) / 2e-4
    assert_allclose(d, fd, rtol=1e-2)


def test_float32_optimisers_match_optax_float32():
    optax, jax = _optax()
    rng = np.random.default_rng(3)
    p = {"W": rng.normal(size=(3, 4)).astype(np.float32),
         "b": rng.normal(size=4).astype(np.float32)}
    grads = [tree_util.tree_map(lambda v: rng.normal(size=np.shape(v)).astype(np.float32), p)
             for _ in range(20)]
    cases = [
        (optim.sgd(0.05), optax.sgd(0.05)),
        (optim.sgd(0.05, momentum=0.9, nesterov=True), optax.sgd(0.05, 0.9, nesterov=True)),
        (optim.adam(0.01), optax.adam(0.01)),
        (optim.adamw(0.01, weight_decay=0.1), optax.adamw(0.01, weight_decay=0.1)),
        # eps=0: optax puts rmsprop's eps inside the root, chainrule (PyTorch) outside
        (optim.rmsprop(0.01, eps=0.0), optax.rmsprop(0.01, eps=0.0)),
        (optim.adagrad(0.1), optax.adagrad(0.1)),
        (optim.chain(optim.clip_by_global_norm(0.5), optim.adam(0.1)),
         optax.chain(optax.clip_by_global_norm(0.5), optax.adam(0.1))),
    ]
    for ours, theirs in cases:
        mine = _run(ours, grads, p)
        q = jax.tree_util.tree_map(jax.numpy.asarray, p)
        t = theirs.init(q)
        for step, g in enumerate(grads):
            u, t = theirs.update(jax.tree_util.tree_map(jax.numpy.asarray, g), t, q)
            q = optax.apply_updates(q, u)
            for a, b in zip(tree_util.tree_leaves(mine[step]), jax.tree_util.tree_leaves(q)):
                assert a.dtype == np.float32 and np.asarray(b).dtype == np.float32
                assert_allclose(a, np.asarray(b), rtol=1e-5, atol=1e-5)


def test_fit_keeps_float32_parameters():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(20, 2)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.float32)
    model = nn.mlp([2, 4, 1])
    p32 = tree_util.tree_map(lambda v: v.astype(np.float32), model.init(0))
    hist = nn.fit(lambda p, X, y: nn.binary_nll(model.apply(p, X), y), p32, (X, y),
                  optim.adam(1e-2), epochs=3, progress=False)
    assert {v.dtype for v in tree_util.tree_leaves(hist.params)} == {np.dtype(np.float32)}


# ------------------------------------------- decisions: minimize's args, rmsprop

def test_minimize_args_follow_scipy():
    # scipy.optimize.minimize: a non-tuple args is one argument; chainrule unpacked a list
    import scipy.optimize
    c, shift = np.array([1.0, -2.0]), 3.0

    def f(x, pair):
        return cnp.sum((x - pair[0]) ** 2) + pair[1]
    ref = scipy.optimize.minimize(lambda x, pair: np.sum((x - pair[0]) ** 2) + pair[1],
                                  np.zeros(2), args=[c, shift])
    res = optim.minimize(f, np.zeros(2), args=[c, shift])
    assert_allclose(res.x, ref.x, atol=1e-6)
    assert_allclose(res.fun, 3.0, atol=1e-10)
    # an array is one argument too; a tuple is unpacked
    assert_allclose(optim.minimize(lambda x, a: cnp.sum((x - a) ** 2), np.zeros(2),
                                   args=c).x, c, atol=1e-6)
    assert_allclose(optim.minimize(lambda x, a, b: cnp.sum((x - a) ** 2) + b, np.zeros(2),
                                   args=(c, shift)).fun, 3.0, atol=1e-10)
    # gradient_descent and newton read args the same way
    assert_allclose(optim.gradient_descent(f, np.zeros(2), args=[c, shift]).x, c, atol=1e-5)
    assert_allclose(optim.newton(f, np.zeros(2), args=[c, shift]).x, c, atol=1e-8)
    assert_allclose(optim.newton(lambda x, a: cnp.sum((x - a) ** 2), np.zeros(2),
                                 args=c).x, c, atol=1e-8)


def test_rmsprop_nesterov_needs_momentum():
    for momentum in (None, 0, 0.0):
        with pytest.raises(ValueError, match="rmsprop: nesterov=True needs a momentum"):
            optim.rmsprop(0.01, momentum=momentum, nesterov=True)
        with pytest.raises(ValueError, match="sgd: nesterov=True needs a momentum"):
            optim.sgd(0.01, momentum=momentum, nesterov=True)
    optim.rmsprop(0.01, momentum=0.9, nesterov=True)


# ------------------------------------------- decisions: train_test_split's sizes

def test_train_test_split_sizes():
    X, y = np.arange(20).reshape(10, 2), np.arange(10)
    # a fraction: ceil(test_size * n) test examples (round() gave 2 here)
    Xtr, Xte, ytr, yte = nn.train_test_split(X, y, test_size=0.25, rng=0)
    assert (len(Xtr), len(Xte), len(ytr), len(yte)) == (7, 3, 7, 3)
    assert sorted(np.concatenate([ytr, yte])) == list(range(10))
    assert_allclose(Xte[:, 0] // 2, yte)
    assert len(nn.train_test_split(X, y, test_size=0.21, rng=0)[1]) == 3
    assert len(nn.train_test_split(X, y, test_size=np.float32(0.5), rng=0)[1]) == 5
    # an int is a count
    assert len(nn.train_test_split(X, y, test_size=4, rng=0)[1]) == 4
    assert len(nn.train_test_split(X, y, test_size=np.int64(1), rng=0)[1]) == 1
    # shuffle=False: the test part is the last examples
    Xtr, Xte, ytr, yte = nn.train_test_split(X, y, test_size=0.25, shuffle=False)
    assert list(ytr) == list(range(7)) and list(yte) == [7, 8, 9]
    for bad in (0.0, 1.0, 1.5, 0, 10, -1, 0.99):
        with pytest.raises(ValueError, match="train_test_split"):
            nn.train_test_split(X, y, test_size=bad)
    for bad in (True, "0.25", None, [0.25]):
        with pytest.raises(TypeError, match="train_test_split"):
            nn.train_test_split(X, y, test_size=bad)
    with pytest.raises(ValueError, match="train_test_split"):
        nn.train_test_split(X, y[:9])


def test_train_test_split_matches_sklearn():
    sklearn_split = pytest.importorskip("sklearn.model_selection").train_test_split
    for n in range(2, 41):
        X, y = np.arange(2 * n).reshape(n, 2), np.arange(n)
        for t in (0.01, 0.1, 0.15, 0.2, 0.25, 0.3, 1 / 3, 0.5, 0.7, 0.9, 0.95, 1, 2, 7):
            try:
                ref = sklearn_split(X, y, test_size=t, shuffle=False)
            except ValueError:
                with pytest.raises(ValueError):
                    nn.train_test_split(X, y, test_size=t, shuffle=False)
                continue
            ours = nn.train_test_split(X, y, test_size=t, shuffle=False)
            for a, b in zip(ours, ref):
                assert np.array_equal(a, b), (n, t)
            shuffled = nn.train_test_split(X, y, test_size=t, rng=n)
            assert [len(a) for a in shuffled] == [len(a) for a in ref], (n, t)


# ------------------------------------------- fit: the reported epoch loss (documented)

def test_fit_epoch_loss_is_the_batch_size_weighted_mean_of_step_losses():
    rng = np.random.default_rng(5)
    X, y = rng.normal(size=(10, 2)), (rng.normal(size=10) > 0).astype(float)
    model = nn.mlp([2, 3, 1])

    def summed(p, X, y):
        return nn.binary_nll(model.apply(p, X), y, reduction="sum")
    hist = nn.fit(summed, model.init(0), (X, y), optim.sgd(1e-3), epochs=2, batch_size=4,
                  shuffle=False, progress=False)
    sizes = [4, 4, 2]
    for e in range(2):
        steps = hist.step_loss[3 * e:3 * e + 3]
        assert_allclose(hist["loss"][e], np.dot(steps, sizes) / 10, rtol=1e-14)
    # full batch: the training set's sum
    full = nn.fit(summed, model.init(0), (X, y), optim.sgd(1e-3), epochs=1, progress=False)
    assert_allclose(full["loss"][0], summed(model.init(0), X, y), rtol=1e-14)


@pytest.mark.parametrize("make", [lambda: optim.adam(0.1), lambda: optim.adamw(0.1, weight_decay=0.0),
                                  lambda: optim.rmsprop(0.1), lambda: optim.rmsprop(0.1, centered=True),
                                  lambda: optim.adagrad(0.1)])
def test_complex_parameters_use_the_squared_size_of_the_gradient(make):
    """The second moments of complex gradients are |g|^2 (optax's abs_sq): with g * g a
    gradient 1j has 'square' -1 and the first step went -0.1 (sideways) or NaN instead
    of -0.1j against the gradient."""
    opt = make()
    p = np.zeros(3, complex)
    state = opt.init(p)
    g = np.full(3, 1j)
    u, state = opt.update(g, state, p)
    p = optim.apply_updates(p, u)
    assert np.all(np.isfinite(p))
    assert np.all(p.real == 0) and np.all(p.imag < 0)
