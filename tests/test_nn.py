"""chainrule.nn: activations, initialisers, layers, losses (the homework's binary NLL),
batching, data sets, the make_moons network of the homework (>= 0.97 training
accuracy), the fit loop (early stopping, callbacks, progress without tqdm), plots, and
that the optional extras (tqdm, matplotlib, scikit-learn) are never needed at import."""
import importlib.util
import math
import os
import subprocess
import sys

import numpy as np
import pytest
import scipy.special
from numpy.testing import assert_allclose

import chainrule as cr
import chainrule.numpy as cnp
from chainrule import nn, optim, tree_util

HAVE_MPL = importlib.util.find_spec("matplotlib") is not None
HAVE_SKLEARN = importlib.util.find_spec("sklearn") is not None
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

Z = np.array([-1000.0, -30.0, -2.0, -0.5, 0.0, 0.5, 2.0, 30.0, 1000.0])


# ------------------------------------------------------------------- activations

def test_activation_values():
    assert_allclose(nn.sigmoid(Z), scipy.special.expit(Z), rtol=1e-14, atol=1e-300)
    assert_allclose(nn.softplus(Z), np.logaddexp(0.0, Z), rtol=1e-14)
    assert_allclose(nn.log_sigmoid(Z), -np.logaddexp(0.0, -Z), rtol=1e-14)
    assert_allclose(nn.relu(Z), np.maximum(Z, 0.0))
    assert_allclose(nn.tanh(Z), np.tanh(Z))
    assert_allclose(nn.leaky_relu(Z, 0.1), np.where(Z > 0, Z, 0.1 * Z))
    assert_allclose(nn.elu(Z[2:7]), np.where(Z[2:7] > 0, Z[2:7], np.expm1(Z[2:7])))
    assert_allclose(nn.silu(Z[1:-1]), Z[1:-1] * scipy.special.expit(Z[1:-1]), rtol=1e-14)
    exact = 0.5 * Z * (1 + scipy.special.erf(Z / np.sqrt(2)))
    assert_allclose(nn.gelu(Z, approximate=False), exact, rtol=1e-12, atol=1e-300)
    assert np.max(np.abs(nn.gelu(Z) - exact)) < 1e-3                 # tanh approximation
    x = np.array([[1.0, 2.0, 3.0], [1000.0, 0.0, -1000.0]])
    assert_allclose(nn.log_softmax(x), scipy.special.log_softmax(x, axis=-1), rtol=1e-14)
    assert_allclose(nn.softmax(x), scipy.special.softmax(x, axis=-1), rtol=1e-14)
    assert_allclose(nn.logsumexp(x), scipy.special.logsumexp(x, axis=-1), rtol=1e-14)
    assert nn.get_activation("tanh") is nn.tanh and nn.get_activation(None)(3.0) == 3.0
    with pytest.raises(ValueError, match="unknown activation"):
        nn.get_activation("nope")


def test_activation_gradients_are_finite_and_right():
    for f, df in [(nn.sigmoid, lambda z: scipy.special.expit(z) * scipy.special.expit(-z)),
                  (nn.softplus, scipy.special.expit),
                  (nn.log_sigmoid, lambda z: scipy.special.expit(-z)),
                  (nn.tanh, lambda z: 1 - np.tanh(z) ** 2)]:
        g = cr.elementwise_grad(f)(Z)
        assert np.all(np.isfinite(g)), f.__name__
        assert_allclose(g, df(Z), rtol=1e-12, atol=1e-300, err_msg=f.__name__)
    assert_allclose(cr.elementwise_grad(nn.relu)(np.array([-1.0, 0.0, 2.0])), [0.0, 0.0, 1.0])
    assert_allclose(cr.elementwise_grad(nn.elu)(np.array([-1.0, 0.0, 2.0, 800.0])),
                    [np.exp(-1.0), 1.0, 1.0, 1.0])
    assert_allclose(cr.elementwise_grad(lambda v: nn.leaky_relu(v, 0.1))(np.array([-1.0, 2.0])),
                    [0.1, 1.0])
    x = np.array([[1000.0, 0.0, -1000.0]])
    g = cr.grad(lambda v: nn.log_softmax(v)[0, 1])(x)
    assert np.all(np.isfinite(g))
    assert_allclose(g, [[-1.0, 1.0, 0.0]], atol=1e-300)


def test_softmax_family_on_fully_masked_rows():
    # chainrule.scipy.special's fused primitives: a row that is entirely -inf has
    # SciPy's value (-inf / nan) and derivative 0, never nan; nn keeps axis=-1
    x = np.array([[1.0, 2.0, -np.inf], [-np.inf, -np.inf, -np.inf]])
    with np.errstate(invalid="ignore"):           # -inf - -inf in the masked row
        assert_allclose(nn.logsumexp(x), [scipy.special.logsumexp(x[0]), -np.inf])
        assert nn.logsumexp(x, keepdims=True).shape == (2, 1)
        assert np.all(np.isnan(nn.softmax(x)[1])) and np.all(np.isnan(nn.log_softmax(x)[1]))
        assert_allclose(nn.softmax(x)[0], scipy.special.softmax(x[0]), rtol=1e-14)
        for f in (lambda v: cnp.sum(nn.logsumexp(v)[1]),
                  lambda v: cnp.sum(nn.softmax(v)[0] * np.array([1.0, 2.0, 3.0])),
                  lambda v: nn.log_softmax(v)[0, 0]):
            g = cr.grad(f)(x)
            assert np.all(np.isfinite(g)) and np.all(g[1] == 0.0)
        g = cr.grad(lambda v: nn.logsumexp(v)[0])(x)
        assert_allclose(g[0], scipy.special.softmax(x[0]), rtol=1e-14)


def test_piecewise_activations_under_vmap_of_grad():
    # cnp.where with a condition batched by vmap: per-example derivatives
    X = np.array([[-1.0, 0.0, 2.0], [3.0, -0.5, 0.0]])
    w = np.array([1.0, 1.0, 1.0])
    for f, df in [(nn.relu, lambda z: (z > 0) * 1.0),
                  (lambda z: nn.leaky_relu(z, 0.1), lambda z: np.where(z > 0, 1.0, 0.1)),
                  (nn.elu, lambda z: np.where(z > 0, 1.0, np.exp(z)))]:
        pe = cr.vmap(cr.grad(lambda w, x: cnp.sum(f(w * x))), in_axes=(None, 0))(w, X)
        assert_allclose(pe, df(X) * X, rtol=1e-14)


# ------------------------------------------------------------------ initialisers

def test_initializers_shapes_and_scales():
    rng = np.random.default_rng(0)
    fan_in, fan_out = 400, 300
    shape = (fan_in, fan_out)
    W = nn.glorot_uniform()(rng, shape)
    lim = math.sqrt(6 / (fan_in + fan_out))
    assert W.shape == shape and W.dtype == np.float64
    assert np.abs(W).max() <= lim and np.abs(W).max() > 0.99 * lim
    for init, std in [(nn.glorot_normal(), math.sqrt(2 / (fan_in + fan_out))),
                      (nn.he_normal(), math.sqrt(2 / fan_in)),
                      (nn.he_uniform(), math.sqrt(2 / fan_in)),
                      (nn.lecun_normal(), math.sqrt(1 / fan_in)),
                      (nn.normal(1.0), 1.0)]:
        assert abs(init(rng, shape).std() / std - 1) < 0.02
    assert nn.xavier_uniform is nn.glorot_uniform and nn.xavier_normal is nn.glorot_normal
    assert not nn.zeros(rng, (3, 2)).any() and nn.zeros(rng, (3, 2)).shape == (3, 2)
    assert_allclose(nn.glorot_normal()(7, (5, 4)), nn.glorot_normal()(7, (5, 4)))
    t = nn.initializers.variance_scaling(1.0, "fan_in", "truncated_normal")(rng, shape)
    assert np.abs(t).max() <= 2 * math.sqrt(1 / fan_in) / 0.8796256610342398 + 1e-12
    assert abs(t.std() * math.sqrt(fan_in) - 1) < 0.02


# ------------------------------------------------------------------------ layers

def test_dense_and_mlp():
    p = nn.dense_init(0, 3, 4)
    assert p["W"].shape == (3, 4) and p["b"].shape == (4,)
    x = np.ones((5, 3))
    assert_allclose(nn.dense(p, x), x @ p["W"] + p["b"])
    model = nn.mlp([2, 25, 25, 1], activation="tanh")
    params = model.init(0)
    assert [layer["W"].shape for layer in params] == [(2, 25), (25, 25), (25, 1)]
    assert nn.num_params(params) == 2 * 25 + 25 + 25 * 25 + 25 + 25 + 1
    X = np.random.default_rng(0).standard_normal((7, 2))
    h = X
    for layer in params[:-1]:
        h = np.tanh(h @ layer["W"] + layer["b"])
    assert_allclose(model.apply(params, X), h @ params[-1]["W"] + params[-1]["b"], rtol=1e-14)
    init_fn, apply_fn = nn.mlp([2, 3, 1])
    assert apply_fn(init_fn(1), X).shape == (7, 1)
    with pytest.raises(ValueError, match="layers"):
        model.apply(params[:2], X)


def test_dropout():
    x = np.ones((200, 100))
    assert nn.dropout(x, 0.3, train=False) is x
    out = nn.dropout(x, 0.3, rng=np.random.default_rng(0))
    kept = out != 0
    assert abs(kept.mean() - 0.7) < 0.01
    assert_allclose(out[kept], 1 / 0.7)
    with pytest.raises(ValueError, match="rng"):
        nn.dropout(x, 0.5)
    # inside a gradient the mask multiplies the derivative
    rng = np.random.default_rng(1)
    g = cr.grad(lambda v: cnp.sum(nn.dropout(v, 0.5, rng=rng)))(np.ones(1000))
    assert set(np.unique(g)) <= {0.0, 2.0}
    model = nn.mlp([2, 16, 1], dropout=0.5)
    params = model.init(0)
    X = np.ones((4, 2))
    assert_allclose(model.apply(params, X), model.apply(params, X))       # eval: no dropout
    a = model.apply(params, X, rng=np.random.default_rng(0), train=True)
    b = model.apply(params, X, rng=np.random.default_rng(1), train=True)
    assert not np.allclose(a, b)


# ------------------------------------------------------------------------ losses

def test_binary_nll_is_the_homeworks_and_stable():
    rng = np.random.default_rng(0)
    z = rng.standard_normal(50) * 3
    y = (rng.uniform(size=50) > 0.5).astype(float)
    p = 1 / (1 + np.exp(-z))
    expected = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    assert_allclose(nn.binary_nll(z, y), expected, rtol=1e-13)
    # the homework's own form: nll = -log(sigmoid(xw * (2y - 1))), summed
    homework = np.sum(-np.log(1 / (1 + np.exp(-(z * (2 * y - 1))))))
    assert_allclose(nn.binary_nll(z[:, None], y, reduction="sum"), homework, rtol=1e-13)
    assert_allclose(nn.binary_nll(np.array([1000.0, -1000.0]), np.array([1.0, 0.0])), 0.0,
                    atol=1e-300)
    assert_allclose(nn.binary_nll(np.array([1000.0]), np.array([0.0])), 1000.0)
    g = cr.grad(nn.binary_nll)(z, y)
    assert_allclose(g, (p - y) / 50, rtol=1e-12)
    with pytest.raises(ValueError, match="shape"):
        nn.binary_nll(np.zeros((4, 2)), np.zeros(4))


def test_cross_entropy_and_mse():
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((6, 4))
    labels = np.array([0, 3, 1, 1, 2, 0])
    onehot = np.eye(4)[labels]
    expected = -np.mean(scipy.special.log_softmax(logits, axis=1)[np.arange(6), labels])
    assert_allclose(nn.cross_entropy(logits, labels), expected, rtol=1e-14)
    assert_allclose(nn.cross_entropy(logits, onehot), expected, rtol=1e-14)
    g = cr.grad(nn.cross_entropy)(logits, labels)
    assert_allclose(g, (scipy.special.softmax(logits, axis=1) - onehot) / 6, rtol=1e-12)
    assert_allclose(nn.cross_entropy(np.array([[1000.0, -1000.0]]), np.array([0])), 0.0,
                    atol=1e-300)
    # traced integer labels: vmap(grad) over (logits, label) pairs, and over labels alone
    pe = cr.vmap(cr.grad(nn.cross_entropy))(logits[:, None, :], labels[:, None])
    assert_allclose(pe[:, 0, :], scipy.special.softmax(logits, axis=1) - onehot, rtol=1e-12)
    pe = cr.vmap(cr.grad(lambda z, y: nn.cross_entropy(z, y, reduction="sum")),
                 in_axes=(None, 0))(logits, np.stack([labels, labels[::-1]]))
    assert_allclose(pe[1], scipy.special.softmax(logits, axis=1) - onehot[::-1], rtol=1e-12)
    assert_allclose(nn.cross_entropy(logits.T, labels, axis=0), expected, rtol=1e-14)
    pred, target = rng.standard_normal((6, 1)), rng.standard_normal(6)
    assert_allclose(nn.mse(pred, target), np.mean((pred[:, 0] - target) ** 2), rtol=1e-14)
    assert_allclose(nn.mse(pred, target, reduction="sum"),
                    np.sum((pred[:, 0] - target) ** 2), rtol=1e-14)
    assert_allclose(nn.l2_penalty({"W": np.ones((2, 2)), "b": np.ones(3)}), 7.0)
    assert_allclose(nn.l2_penalty({"W": np.ones((2, 2)), "b": np.ones(3)}, weights_only=True), 4.0)


def test_accuracy():
    assert nn.accuracy(np.array([[2.0], [-1.0], [0.5]]), np.array([1, 0, 0])) == pytest.approx(2 / 3)
    assert nn.accuracy(np.array([0.9, 0.2]), np.array([1, 1]), threshold=0.5) == 0.5
    scores = np.array([[0.1, 0.9, 0.0], [3.0, 1.0, 2.0]])
    assert nn.accuracy(scores, np.array([1, 2])) == 0.5
    assert nn.accuracy(scores, np.eye(3)[[1, 0]]) == 1.0


# ---------------------------------------------------------------------- batching

def test_batches_cover_every_example_once():
    X = np.arange(23.0)[:, None] * np.ones((1, 2))
    y = np.arange(23)
    seen, sizes = [], []
    for xb, yb in nn.batches(X, y, batch_size=5, rng=0):
        assert_allclose(xb[:, 0], yb)
        seen.extend(yb.tolist())
        sizes.append(len(yb))
    assert sorted(seen) == list(range(23)) and sizes == [5, 5, 5, 5, 3]
    assert seen != list(range(23))                                        # shuffled
    again = [yb.tolist() for _, yb in nn.batches(X, y, batch_size=5, rng=0)]
    assert sum(again, []) == seen                                          # reproducible
    assert [len(b) for b in nn.batches(X, batch_size=5, drop_last=True, shuffle=False)] == [5] * 4
    assert nn.num_batches(23, 5) == 5 and nn.num_batches(23, 5, drop_last=True) == 4
    (xb, yb), = list(nn.batches(X, y, batch_size=None, shuffle=False))
    assert xb is X and yb is y
    Xtr, Xte, ytr, yte = nn.train_test_split(X, y, test_size=0.25, rng=0)
    assert len(yte) == 6 and sorted(np.concatenate([ytr, yte]).tolist()) == list(range(23))


# --------------------------------------------------------------------- data sets

def test_make_moons_numpy_implementation():
    X, y = nn.datasets._moons_numpy(101, shuffle=False)
    assert X.shape == (101, 2) and y.tolist() == [0] * 50 + [1] * 51
    assert_allclose(np.hypot(X[:50, 0], X[:50, 1]), 1.0)                 # upper moon
    assert_allclose(np.hypot(X[50:, 0] - 1.0, X[50:, 1] - 0.5), 1.0)     # lower moon
    assert np.all(X[:50, 1] >= 0) and np.all(X[50:, 1] <= 0.5)
    Xn, yn = nn.datasets._moons_numpy(200, noise=0.1, random_state=0)
    assert Xn.shape == (200, 2) and yn.sum() == 100
    Xs, _ = nn.datasets._moons_numpy(200, noise=None, random_state=0)
    assert 0.07 < np.std(Xn - Xs) < 0.13                                  # the noise level
    Xc, yc = nn.datasets._circles_numpy(100, shuffle=False, factor=0.5)
    assert_allclose(np.hypot(*Xc[yc == 0].T), 1.0)
    assert_allclose(np.hypot(*Xc[yc == 1].T), 0.5)


@pytest.mark.skipif(not HAVE_SKLEARN, reason="scikit-learn is not installed: the NumPy "
                    "make_moons is checked against sklearn only when sklearn is present")
def test_make_moons_matches_sklearn():
    import sklearn.datasets
    for seed in (0, 3):
        a = nn.datasets._moons_numpy(101, noise=0.1, random_state=seed)
        b = sklearn.datasets.make_moons(101, noise=0.1, random_state=seed)
        assert_allclose(a[0], b[0], rtol=0, atol=0)
        assert (a[1] == b[1]).all()
        c = nn.datasets._circles_numpy(60, noise=0.05, random_state=seed, factor=0.3)
        d = sklearn.datasets.make_circles(60, noise=0.05, random_state=seed, factor=0.3)
        assert_allclose(c[0], d[0], rtol=0, atol=0)
    X, y = nn.datasets.make_moons(50, noise=0.2, random_state=1)
    Xs, ys = sklearn.datasets.make_moons(50, noise=0.2, random_state=1)
    assert_allclose(X, Xs, rtol=0, atol=0)


# ------------------------------------------------ the homework's make_moons network

def _moons():
    return nn.datasets.make_moons(100, noise=0.1, random_state=0)


@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_make_moons_network_homework_settings(activation, seed):
    """2-25-25-1, N(0, 1) weights, summed NLL, plain gradient descent with lr 3e-2 and
    250 full-batch steps: the homework's settings (it reported 1.00 accuracy)."""
    X, y = nn.datasets.make_moons(100, noise=0.1, random_state=seed)
    model = nn.mlp([2, 25, 25, 1], activation=activation, w_init=nn.normal(1.0),
                   b_init=nn.normal(1.0))

    def loss(params, X, y):
        return nn.binary_nll(model.apply(params, X), y, reduction="sum")
    hist = nn.fit(loss, model.init(seed), (X, y), optim.sgd(3e-2), steps=250,
                  predict_fn=model.apply, progress=False)
    assert hist.steps == 250 and len(hist.step_loss) == 250 and len(hist.epoch) == 250
    acc = nn.accuracy(model.apply(hist.params, X), y)
    assert acc >= 0.97, acc
    assert hist["accuracy"][-1] == acc
    assert hist.step_loss[-1] < 0.1 * hist.step_loss[0]


def test_make_moons_network_adam_minibatches():
    X, y = _moons()
    model = nn.mlp([2, 25, 25, 1], activation="tanh")

    def loss(params, X, y):
        return nn.binary_nll(model.apply(params, X), y)
    hist = nn.fit(loss, model.init(0), (X, y), optim.adam(1e-2), epochs=60, batch_size=20,
                  rng=0, predict_fn=model.apply, progress=False)
    assert hist.steps == 60 * 5 and len(hist.epoch) == 60
    assert nn.accuracy(model.apply(hist.params, X), y) >= 0.97


# ------------------------------------------------------------------- the fit loop

def _tiny_problem():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.standard_normal(40)

    def loss(w, X, y):
        return nn.mse(X @ w, y)
    return loss, X, y


def test_fit_early_stopping_restores_best():
    loss, X, y = _tiny_problem()
    scripted = iter([5.0, 4.0, 3.0, 3.5, 2.9999, 3.7, 3.8, 9.0, 9.0, 9.0])
    snapshots = {}

    def remember(info):
        snapshots[info.epoch] = info.params
    hist = nn.fit(loss, np.zeros(3), (X, y), optim.sgd(0.01), epochs=10,
                  metrics={"score": lambda p, X, y: next(scripted)},
                  early_stopping=nn.EarlyStopping(monitor="score", patience=3, min_delta=1e-3),
                  callbacks=[remember], progress=False)
    # epoch 5's 2.9999 is not better than 3.0 by min_delta: best stays epoch 3
    assert hist.stopped_early and "early stopping" in hist.stop_reason
    assert hist.epoch == [1, 2, 3, 4, 5, 6]
    assert hist.best_epoch == 3
    assert hist.params is snapshots[3]
    assert hist["score"] == [5.0, 4.0, 3.0, 3.5, 2.9999, 3.7]


def test_fit_early_stopping_on_validation_loss():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((30, 2))
    y = (X[:, 0] + 0.8 * rng.standard_normal(30) > 0).astype(float)   # noisy: overfits
    Xv = rng.standard_normal((200, 2))
    yv = (Xv[:, 0] + 0.8 * rng.standard_normal(200) > 0).astype(float)
    model = nn.mlp([2, 64, 64, 1], activation="tanh")

    def loss(p, X, y):
        return nn.binary_nll(model.apply(p, X), y)
    hist = nn.fit(loss, model.init(0), (X, y), optim.adam(2e-2), epochs=400,
                  validation_data=(Xv, yv), early_stopping=10, progress=False)
    assert hist.stopped_early and len(hist.epoch) < 400
    best = int(np.argmin(hist["val_loss"]))
    assert hist.best_epoch == hist.epoch[best]
    assert_allclose(loss(hist.params, Xv, yv), hist["val_loss"][best], rtol=1e-12)
    assert hist["loss"][-1] < hist["loss"][best]           # training kept improving


def test_fit_callbacks_hooks_and_stop():
    loss, X, y = _tiny_problem()

    class Counter(nn.Callback):
        def __init__(self):
            self.calls = {"begin": 0, "step": 0, "epoch": 0, "end": 0}

        def on_train_begin(self, info):
            self.calls["begin"] += 1

        def on_step_end(self, info):
            self.calls["step"] += 1

        def on_epoch_end(self, info):
            self.calls["epoch"] += 1
            assert "loss" in info.logs and info.history is not None

        def on_train_end(self, info):
            self.calls["end"] += 1
    c = Counter()
    hist = nn.fit(loss, np.zeros(3), (X, y), optim.sgd(0.05), epochs=4, batch_size=8,
                  callbacks=[c], progress=False, rng=0)
    assert c.calls == {"begin": 1, "step": 20, "epoch": 4, "end": 1}
    assert hist.steps == 20 and len(hist.step_loss) == 20
    # a plain callable runs after each epoch; returning True stops
    hist = nn.fit(loss, np.zeros(3), (X, y), optim.sgd(0.05), epochs=10,
                  callbacks=[lambda info: info.epoch == 2], progress=False)
    assert hist.epoch == [1, 2] and hist.stop_reason == "stopped by callback"
    steps = []
    hist = nn.fit(loss, np.zeros(3), (X, y), optim.sgd(0.05), steps=7, batch_size=8,
                  callbacks=[nn.LambdaCallback(on_step_end=lambda i: steps.append(i.step))],
                  progress=False)
    assert steps == list(range(1, 8)) and hist.epoch == [1, 2]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")      # the overflow is the point
def test_fit_converges_and_stops_on_divergence():
    loss, X, y = _tiny_problem()
    hist = nn.fit(loss, np.zeros(3), (X, y), optim.sgd(0.1), epochs=300, progress=False)
    w_ls = np.linalg.lstsq(X, y, rcond=None)[0]
    assert_allclose(hist.params, w_ls, atol=1e-8)
    bad = nn.fit(loss, np.zeros(3), (X, y), optim.sgd(10.0), epochs=2000, progress=False)
    assert bad.stop_reason == "non-finite loss" and bad.steps < 2000
    with pytest.raises(ValueError, match="epochs"):
        nn.fit(loss, np.zeros(3), (X, y), optim.sgd(0.1))


def test_fit_progress_prints_without_tqdm(monkeypatch, capsys):
    loss, X, y = _tiny_problem()
    monkeypatch.setitem(sys.modules, "tqdm", None)          # "not installed"
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    nn.fit(loss, np.zeros(3), (X, y), optim.sgd(0.05), epochs=20, progress=True,
           metrics={"r2": lambda w, X, y: 1 - np.mean((X @ w - y) ** 2) / np.var(y)})
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("epoch")]
    assert 5 <= len(lines) <= 12
    assert "loss" in lines[-1] and "r2" in lines[-1] and lines[-1].startswith("epoch 20/20")


@pytest.mark.skipif(importlib.util.find_spec("tqdm") is None,
                    reason="tqdm is not installed: the progress-bar path is not exercised")
def test_fit_progress_bar_with_tqdm(capsys):
    X, y = _moons()
    model = nn.mlp([2, 8, 1])

    def loss(p, X, y):
        return nn.binary_nll(model.apply(p, X), y)
    nn.fit(loss, model.init(0), (X, y), optim.adam(1e-2), steps=30, progress=True,
           predict_fn=model.apply)
    err = capsys.readouterr().err
    assert "30/30" in err and "loss" in err and "acc" in err


def test_per_example_grads():
    loss, X, y = _tiny_problem()
    w = np.array([0.1, 0.2, 0.3])
    pe = nn.per_example_grads(loss, w, X, y)
    assert pe.shape == (40, 3)
    for i in (0, 17):
        assert_allclose(pe[i], cr.grad(loss)(w, X[i:i + 1], y[i:i + 1]), rtol=1e-12)
    assert_allclose(pe.mean(axis=0), cr.grad(loss)(w, X, y), rtol=1e-12)
    model = nn.mlp([3, 4, 1])
    params = model.init(0)
    pe = nn.per_example_grads(lambda p, X, y: nn.mse(model.apply(p, X), y), params, X, y)
    assert tree_util.tree_structure(pe) == tree_util.tree_structure(params)
    assert pe[0]["W"].shape == (40, 3, 4)
    # piecewise activations under vmap (a batched condition), and cross-entropy labels
    for act in ("relu", "leaky_relu", "elu"):
        model = nn.mlp([3, 4, 3], activation=act)
        params = model.init(1)
        labels = np.arange(40) % 3

        def ce(p, X, y):
            return nn.cross_entropy(model.apply(p, X), y)
        pe = nn.per_example_grads(ce, params, X, labels)
        assert_allclose(pe[0]["W"][5], cr.grad(ce)(params, X[5:6], labels[5:6])[0]["W"],
                        rtol=1e-12, err_msg=act)


# ------------------------------------------------------------------------- plots

@pytest.mark.skipif(not HAVE_MPL, reason="matplotlib is not installed: History.plot and "
                    "plot_decision_boundary cannot draw (their ImportError is tested below)")
def test_history_plot_and_decision_boundary(tmp_path):
    X, y = _moons()
    model = nn.mlp([2, 16, 1])

    def loss(p, X, y):
        return nn.binary_nll(model.apply(p, X), y)
    hist = nn.fit(loss, model.init(0), (X, y), optim.adam(2e-2), epochs=20, batch_size=25,
                  validation_data=(X, y), predict_fn=model.apply, progress=False)
    path = tmp_path / "loss.png"
    fig = hist.plot(path)
    assert path.stat().st_size > 5000
    assert len(fig.axes) == 2                                  # losses, accuracy
    path = tmp_path / "boundary.png"
    nn.plot_decision_boundary(lambda Z: model.apply(hist.params, Z), X, y, path,
                              resolution=60)
    assert path.stat().st_size > 5000
    # multi-class scores
    nn.plot_decision_boundary(lambda Z: np.stack([Z[:, 0], Z[:, 1], -Z[:, 0]], 1), X, y,
                              tmp_path / "k3.png", resolution=30)
    assert (tmp_path / "k3.png").exists()


def test_plots_without_matplotlib_raise_a_clear_import_error(monkeypatch):
    loss, X, y = _tiny_problem()
    hist = nn.fit(loss, np.zeros(3), (X, y), optim.sgd(0.05), epochs=2, progress=False)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match="pip install matplotlib"):
        hist.plot("never.png")
    with pytest.raises(ImportError, match="pip install matplotlib"):
        nn.plot_decision_boundary(lambda Z: Z[:, 0], X[:, :2], y > 0)


def test_imports_and_training_without_optional_extras():
    """A fresh interpreter where tqdm, matplotlib and scikit-learn cannot be imported."""
    code = (
        "import sys\n"
        "for m in ('tqdm', 'tqdm.auto', 'matplotlib', 'sklearn', 'sklearn.datasets'):\n"
        "    sys.modules[m] = None\n"
        "import numpy as np\n"
        "from chainrule import nn, optim\n"
        "X, y = nn.datasets.make_moons(60, noise=0.1, random_state=0)\n"
        "model = nn.mlp([2, 8, 1])\n"
        "h = nn.fit(lambda p, X, y: nn.binary_nll(model.apply(p, X), y), model.init(0),\n"
        "           (X, y), optim.adam(1e-2), epochs=3, predict_fn=model.apply)\n"
        "print('OK', len(h.epoch))\n"
    )
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "epoch 3/3" in out.stdout and "OK 3" in out.stdout
