"""Realistic NumPy programs, written the way people write them (helper-53's hunt):
scikit-learn losses, scipy.optimize test problems, physics loops with in-place updates,
finance, statistics, small networks, image processing, geometry and signal code. Each
is f(xp, sp, x, *data), run with (numpy, scipy) and with (chainrule.numpy,
chainrule.scipy): values against NumPy's, gradients and Hessian-vector products
against finite differences of the NumPy program, jacfwd against jacrev, vmap against a
loop, jit (and jit(grad)) at a second input of the same shapes. The hunt (/tmp/h_real,
94 programs x 3 seeds, 2,550 checks) found no wrong value or derivative; the programs
below are a selection. Programs that write traced values into NumPy buffers
(np.zeros then fill) or call functions chainrule does not support raise clear errors
(LIMITS)."""
import warnings

import numpy as np
import pytest
import scipy
import scipy.linalg
import scipy.special
import scipy.stats

import chainrule as cr
import chainrule.numpy as cnp
import chainrule.scipy as csp
import chainrule.scipy.linalg  # noqa: F401
import chainrule.scipy.special  # noqa: F401
import chainrule.scipy.stats  # noqa: F401
from chainrule._src.core import TracerConversionError
from chainrule import ConcretizationError
from realistic_checks import check_realistic

PROGRAMS = []


def program(make, kink=False, no_vmap=False, note=""):
    def deco(f):
        PROGRAMS.append(dict(name=f.__name__, f=f, make=make, kink=kink,
                             no_vmap=no_vmap, note=note))
        return f
    return deco


def mk_clf(n=20, p=4, labels="01", f32=False):
    def make(rng):
        X = rng.standard_normal((n, p))
        if f32:
            X = X.astype(np.float32)
        y = rng.integers(0, 2, n)
        if labels == "pm":
            y = 2 * y - 1
        w = 0.5 * rng.standard_normal(p + 1)
        return w, (X, y)
    return make


@program(mk_clf())
def logistic_loss(xp, sp, w, X, y):
    # sklearn _logistic_loss: intercept last, alpha ridge penalty
    coef, c = w[:-1], w[-1]
    z = X @ coef + c
    yz = (2 * y - 1) * z
    alpha = 0.1
    return xp.sum(xp.logaddexp(0, -yz)) + 0.5 * alpha * xp.dot(coef, coef)


@program(mk_clf(f32=True))
def logistic_loss_f32_data(xp, sp, w, X, y):
    z = X.dot(w[:-1]) + w[-1]
    p = sp.special.expit(z)
    eps = 1e-12
    return -xp.mean(y * xp.log(p + eps) + (1 - y) * xp.log(1 - p + eps))


@program(mk_clf(labels="pm"), kink=True)
def hinge_loss(xp, sp, w, X, y):
    margin = y * (X @ w[:-1] + w[-1])
    losses = xp.maximum(0, 1 - margin)
    return losses.sum() / X.shape[0] + 0.01 * xp.linalg.norm(w[:-1]) ** 2


@program(mk_clf(labels="pm"), kink=True)
def squared_hinge_masked(xp, sp, w, X, y):
    margin = y * (X @ w[:-1] + w[-1])
    loss = 1 - margin
    loss[loss < 0] = 0          # boolean-mask assignment
    return (loss ** 2).mean()


def mk_reg(n=25, p=3):
    def make(rng):
        X = rng.standard_normal((n, p))
        y = X @ rng.standard_normal(p) + 0.8 * rng.standard_normal(n)
        w = rng.standard_normal(p)
        return w, (X, y)
    return make


@program(mk_reg(), kink=True)
def huber_loss(xp, sp, w, X, y):
    eps = 0.7
    r = X @ w - y
    abs_r = xp.abs(r)
    quad = abs_r <= eps
    out = xp.where(quad, 0.5 * r ** 2, eps * abs_r - 0.5 * eps ** 2)
    return out.sum()


def mk_softmax(n=15, p=3, k=4):
    def make(rng):
        X = rng.standard_normal((n, p))
        y = rng.integers(0, k, n)
        W = rng.standard_normal(p * k + k)
        return W, (X, y)
    return make


@program(mk_softmax())
def softmax_xent_int_labels(xp, sp, theta, X, y):
    p, n = X.shape[1], X.shape[0]
    k = theta.size // (p + 1)
    W = theta[:p * k].reshape(p, k)
    b = theta[p * k:]
    logits = X @ W + b[xp.newaxis, :]
    logits = logits - logits.max(axis=1, keepdims=True)
    logp = logits - xp.log(xp.exp(logits).sum(axis=1, keepdims=True))
    return -logp[xp.arange(n), y].mean()


def mk_gp(n=8, d=2):
    def make(rng):
        X = rng.uniform(-2, 2, (n, d))
        y = np.sin(X.sum(1)) + 0.1 * rng.standard_normal(n)
        theta = np.array([0.1, 0.2, -1.5]) + 0.1 * rng.standard_normal(3)
        return theta, (X, y)
    return make


@program(mk_gp())
def gp_nlml_cho_solve(xp, sp, theta, X, y):
    ell, sf2, sn2 = xp.exp(theta[0]), xp.exp(2 * theta[1]), xp.exp(2 * theta[2])
    sqd = ((X[:, None, :] - X[None, :, :]) ** 2).sum(-1)
    K = sf2 * xp.exp(-0.5 * sqd / ell ** 2) + sn2 * xp.eye(len(y))
    L = xp.linalg.cholesky(K)
    alpha = sp.linalg.cho_solve((L, True), y)
    n = y.shape[0]
    return 0.5 * y @ alpha + xp.log(xp.diag(L)).sum() + 0.5 * n * xp.log(2 * xp.pi)


def mk_gp_ard(n=7, d=3):
    def make(rng):
        X = rng.uniform(-2, 2, (n, d))
        y = np.cos(X[:, 0]) + X[:, 1] + 0.1 * rng.standard_normal(n)
        theta = np.concatenate([0.1 * rng.standard_normal(d), [0.0, -1.0]])
        return theta, (X, y)
    return make


@program(mk_gp_ard())
def gp_nlml_ard_solve_triangular(xp, sp, theta, X, y):
    d = X.shape[1]
    ls = xp.exp(theta[:d])
    Xs = X / ls
    sq = xp.sum(Xs ** 2, axis=1)
    sqd = sq[:, None] + sq[None, :] - 2 * Xs @ Xs.T
    sqd = xp.maximum(sqd, 0)
    K = xp.exp(2 * theta[d]) * xp.exp(-0.5 * sqd)
    K[xp.diag_indices_from(K)] += xp.exp(2 * theta[d + 1])
    L = sp.linalg.cholesky(K, lower=True)
    v = sp.linalg.solve_triangular(L, y, lower=True)
    return 0.5 * v @ v + xp.sum(xp.log(xp.diagonal(L)))


def mk_krr(n=10, m=5, d=2):
    def make(rng):
        X = rng.standard_normal((n, d))
        Xt = rng.standard_normal((m, d))
        y = X[:, 0] ** 2 + rng.standard_normal(n) * 0.1
        yt = Xt[:, 0] ** 2
        return np.array([-0.5, -2.0]) + 0.1 * rng.standard_normal(2), (X, y, Xt, yt)
    return make


@program(mk_krr())
def kernel_ridge_val_loss(xp, sp, theta, X, y, Xt, yt):
    gamma, lam = xp.exp(theta[0]), xp.exp(theta[1])
    def rbf(A, B):
        d2 = xp.sum(A ** 2, 1)[:, None] + xp.sum(B ** 2, 1)[None, :] - 2 * A @ B.T
        return xp.exp(-gamma * d2)
    K = rbf(X, X)
    alpha = xp.linalg.solve(K + lam * xp.eye(K.shape[0]), y)
    pred = rbf(Xt, X) @ alpha
    return xp.mean((pred - yt) ** 2)


def mk_vec(n, scale=1.0, shift=0.0):
    def make(rng):
        return shift + scale * rng.standard_normal(n), ()
    return make


@program(mk_vec(6))
def rosenbrock_nd(xp, sp, x):
    return xp.sum(100.0 * (x[1:] - x[:-1] ** 2.0) ** 2.0 + (1 - x[:-1]) ** 2.0, axis=0)


@program(mk_vec(6))
def rosen_der_vector(xp, sp, x):
    # scipy.optimize.rosen_der (vector output)
    xm = x[1:-1]
    xm_m1 = x[:-2]
    xm_p1 = x[2:]
    der = xp.zeros_like(x)
    der[1:-1] = (200 * (xm - xm_m1 ** 2) - 400 * (xm_p1 - xm ** 2) * xm - 2 * (1 - xm))
    der[0] = -400 * x[0] * (x[1] - x[0] ** 2) - 2 * (1 - x[0])
    der[-1] = 200 * (x[-1] - x[-2] ** 2)
    return der


@program(mk_vec(2))
def beale(xp, sp, x):
    a, b = x
    return ((1.5 - a + a * b) ** 2 + (2.25 - a + a * b ** 2) ** 2
            + (2.625 - a + a * b ** 3) ** 2)


@program(mk_vec(5))
def rastrigin(xp, sp, x):
    A = 10
    return A * len(x) + xp.sum(x ** 2 - A * xp.cos(2 * xp.pi * x))


def mk_nbody(N=5):
    def make(rng):
        pos = rng.standard_normal((N, 3))
        vel = rng.standard_normal((N, 3)) * 0.3
        m = rng.uniform(0.5, 2.0, N)
        return np.concatenate([pos.ravel(), vel.ravel()]), (m,)
    return make


@program(mk_nbody())
def nbody_energy_masked_diag(xp, sp, state, m):
    N = m.shape[0]
    pos = state[:3 * N].reshape(N, 3)
    vel = state[3 * N:].reshape(N, 3)
    diff = pos[:, xp.newaxis, :] - pos[xp.newaxis, :, :]
    r2 = (diff ** 2).sum(axis=-1)
    eye = xp.eye(N, dtype=bool)
    r2 = xp.where(eye, 1.0, r2)
    inv_r = 1.0 / xp.sqrt(r2)
    inv_r[eye] = 0.0
    pot = -0.5 * xp.sum(m[:, None] * m[None, :] * inv_r)
    kin = 0.5 * xp.sum(m * xp.sum(vel ** 2, axis=1))
    return kin + pot


@program(mk_nbody())
def nbody_accel_vector(xp, sp, state, m):
    N = m.shape[0]
    pos = state[:3 * N].reshape(N, 3)
    d = pos[None, :, :] - pos[:, None, :]
    r2 = xp.einsum("ijk,ijk->ij", d, d) + 0.01
    inv3 = r2 ** -1.5
    xp.fill_diagonal(inv3, 0.0)
    acc = (d * (inv3 * m[None, :])[..., None]).sum(axis=1)
    return acc.ravel()


def mk_spring(n=6):
    def make(rng):
        P = np.cumsum(np.ones((n, 2)) + 0.2 * rng.standard_normal((n, 2)), axis=0)
        return P.ravel(), (np.linspace(1.0, 2.0, n - 1),)
    return make


@program(mk_spring())
def spring_chain_2d(xp, sp, p, k):
    P = p.reshape(-1, 2)
    seg = xp.diff(P, axis=0)
    length = xp.linalg.norm(seg, axis=1)
    L0 = 1.4
    elastic = 0.5 * xp.sum(k * (length - L0) ** 2)
    gravity = 9.81 * P[:, 1].sum()
    return elastic + gravity


def mk_heat(n=12):
    def make(rng):
        u0 = np.sin(np.linspace(0, np.pi, n)) + 0.1 * rng.standard_normal(n)
        return np.concatenate([u0, [0.2 + 0.05 * rng.random()]]), ()
    return make


@program(mk_heat())
def heat_equation_inplace(xp, sp, theta):
    u = theta[:-1].copy()
    r = theta[-1]
    for step in range(20):
        u[1:-1] += r * (u[2:] - 2 * u[1:-1] + u[:-2])
        u[0] = u[-1] = 0.0
    return xp.sum(u ** 2)


def mk_pend():
    def make(rng):
        return np.array([1.0, 0.0, 9.81, 0.3]) + 0.1 * rng.standard_normal(4), ()
    return make


@program(mk_pend())
def pendulum_rk4(xp, sp, p):
    g_over_L, damping = p[2], p[3]

    def rhs(y):
        return xp.array([y[1], -g_over_L * xp.sin(y[0]) - damping * y[1]])

    y = p[:2]
    dt = 0.05
    traj = []
    for _ in range(40):
        k1 = rhs(y)
        k2 = rhs(y + dt / 2 * k1)
        k3 = rhs(y + dt / 2 * k2)
        k4 = rhs(y + dt * k3)
        y = y + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        traj.append(y[0])
    return xp.array(traj)[::8]


def mk_lv():
    def make(rng):
        return np.array([1.0, 0.5, 1.1, 0.4, 0.1, 0.4]) * (1 + 0.05 * rng.standard_normal(6)), ()
    return make


@program(mk_lv())
def lotka_volterra_euler_fill(xp, sp, th):
    T = 30
    out = xp.zeros((T, 2))
    out[0] = th[:2] * 10
    a, b, c, d = th[2:]
    dt = 0.05
    for i in range(1, T):
        prey, pred = out[i - 1]
        out[i, 0] = prey + dt * (a * prey - b * prey * pred)
        out[i, 1] = pred + dt * (d * prey * pred - c * pred)
    return out[-1]


def mk_bs(n=5):
    def make(rng):
        S = rng.uniform(80, 120, n)
        sig = rng.uniform(0.1, 0.4, n)
        K = rng.uniform(90, 110, n)
        T = rng.uniform(0.2, 2.0, n)
        return np.concatenate([S, sig]), (K, T)
    return make


@program(mk_bs())
def black_scholes_call(xp, sp, th, K, T):
    n = K.shape[0]
    S, sigma = th[:n], th[n:]
    r = 0.03
    d1 = (xp.log(S / K) + (r + 0.5 * sigma ** 2) * T) / (sigma * xp.sqrt(T))
    d2 = d1 - sigma * xp.sqrt(T)
    return S * sp.special.ndtr(d1) - K * xp.exp(-r * T) * sp.special.ndtr(d2)


def mk_port(n=4, T=30):
    def make(rng):
        R = 0.01 * rng.standard_normal((T, n)) + 0.001
        return rng.standard_normal(n), (R,)
    return make


@program(mk_port())
def portfolio_sharpe_softmax(xp, sp, z, R):
    w = xp.exp(z - z.max())
    w /= w.sum()
    mu = R.mean(axis=0)
    cov = xp.cov(R, rowvar=False)
    var = w @ cov @ w
    return -(w @ mu) / xp.sqrt(var)


@program(mk_port())
def portfolio_drawdown(xp, sp, z, R):
    w = sp.special.softmax(z)
    rets = R @ w
    wealth = xp.cumprod(1 + rets)
    peak = xp.maximum.accumulate(wealth)
    return xp.max((peak - wealth) / peak) + xp.var(rets, ddof=1)


def mk_gmm(n=30, K=3, d=2):
    def make(rng):
        X = rng.standard_normal((n, d)) * 2
        th = np.concatenate([rng.standard_normal(K * d), 0.1 * rng.standard_normal(K * d),
                             0.1 * rng.standard_normal(K)])
        return th, (X,)
    return make


@program(mk_gmm())
def gmm_loglik_logsumexp(xp, sp, th, X):
    n, d = X.shape
    K = th.size // (2 * d + 1)
    mu = th[:K * d].reshape(K, d)
    log_sd = th[K * d:2 * K * d].reshape(K, d)
    log_pi = th[2 * K * d:] - sp.special.logsumexp(th[2 * K * d:])
    z = (X[:, None, :] - mu[None]) / xp.exp(log_sd)[None]
    comp = -0.5 * xp.sum(z ** 2, axis=2) - log_sd.sum(1) - 0.5 * d * np.log(2 * np.pi)
    return -sp.special.logsumexp(comp + log_pi, axis=1).sum()


def mk_kalman(T=15):
    def make(rng):
        x = np.cumsum(rng.standard_normal(T) * 0.3)
        y = x + 0.5 * rng.standard_normal(T)
        return np.array([np.log(0.1), np.log(0.25)]) + 0.1 * rng.standard_normal(2), (y,)
    return make


@program(mk_kalman())
def kalman_filter_loglik(xp, sp, th, ys):
    q, r = xp.exp(th[0]), xp.exp(th[1])
    F = xp.array([[1.0, 1.0], [0.0, 1.0]])
    H = xp.array([[1.0, 0.0]])
    Q = q * xp.eye(2)
    R = r * xp.eye(1)
    x = xp.zeros(2)
    P = 10.0 * xp.eye(2)
    ll = 0.0
    for t in range(ys.shape[0]):
        x = F @ x
        P = F @ P @ F.T + Q
        v = ys[t] - H @ x
        S = H @ P @ H.T + R
        Kg = P @ H.T @ xp.linalg.inv(S)
        x = x + Kg @ v
        P = (xp.eye(2) - Kg @ H) @ P
        sign, logdet = xp.linalg.slogdet(S)
        ll = ll - 0.5 * (logdet + v @ xp.linalg.solve(S, v) + np.log(2 * np.pi))
    return -ll


def mk_ar(T=40, p=3):
    def make(rng):
        y = np.zeros(T)
        e = rng.standard_normal(T)
        for t in range(2, T):
            y[t] = 0.5 * y[t - 1] - 0.2 * y[t - 2] + e[t]
        return np.concatenate([0.1 * rng.standard_normal(p), [0.0]]), (y,)
    return make


@program(mk_ar())
def ar_p_conditional_nll(xp, sp, th, y):
    p = th.shape[0] - 1
    phi, log_sigma = th[:p], th[p]
    n = y.shape[0]
    lags = xp.column_stack([y[p - k - 1:n - k - 1] for k in range(p)])
    resid = y[p:] - lags @ phi
    sigma2 = xp.exp(2 * log_sigma)
    m = n - p
    return 0.5 * m * xp.log(2 * xp.pi * sigma2) + 0.5 * xp.sum(resid ** 2) / sigma2


def mk_kde(n=25, m=6):
    def make(rng):
        data = rng.standard_normal(n)
        q = rng.uniform(-2, 2, m)
        return np.concatenate([q, [np.log(0.4)]]), (data,)
    return make


@program(mk_kde())
def kde_log_density(xp, sp, th, data):
    q, h = th[:-1], xp.exp(th[-1])
    u = xp.subtract.outer(q, data) / h
    logk = -0.5 * u ** 2 - 0.5 * xp.log(2 * xp.pi)
    return sp.special.logsumexp(logk, axis=1) - xp.log(len(data) * h)


def mk_cnn1d(n=16, k=3, c=2):
    def make(rng):
        return rng.standard_normal(n + k * c + c), (np.array([0.5, -1.0]),)
    return make


@program(mk_cnn1d(), kink=True)
def cnn1d_im2col_relu_maxpool(xp, sp, th, head):
    n, k, c = 16, 3, 2
    x = th[:n]
    w = th[n:n + k * c].reshape(k, c)
    b = th[n + k * c:]
    idx = xp.arange(k)[None, :] + xp.arange(n - k + 1)[:, None]
    patches = x[idx]                        # (n-k+1, k)
    h = xp.maximum(patches @ w + b, 0)
    h = h[:(h.shape[0] // 2) * 2]
    pooled = h.reshape(-1, 2, c).max(axis=1)
    return xp.tanh(pooled @ head).sum()


def mk_cnn2d(H=6, W=6, k=3):
    def make(rng):
        img = rng.standard_normal((H, W))
        return np.concatenate([img.ravel(), 0.5 * rng.standard_normal(k * k)]), ()
    return make


@program(mk_cnn2d())
def cnn2d_fancy_index_patches(xp, sp, th):
    H = W = 6
    k = 3
    img = th[:H * W].reshape(H, W)
    ker = th[H * W:].reshape(k, k)
    oh, ow = H - k + 1, W - k + 1
    ii = xp.arange(oh)[:, None, None, None] + xp.arange(k)[None, None, :, None]
    jj = xp.arange(ow)[None, :, None, None] + xp.arange(k)[None, None, None, :]
    patches = img[ii, jj]                     # (oh, ow, k, k)
    out = xp.einsum("ijkl,kl->ij", patches, ker)
    return xp.sum(xp.log1p(xp.exp(out)))


@program(mk_cnn2d(), note="sliding_window_view")
def cnn2d_sliding_window_view(xp, sp, th):
    H = W = 6
    k = 3
    img = th[:H * W].reshape(H, W)
    ker = th[H * W:].reshape(k, k)
    patches = xp.lib.stride_tricks.sliding_window_view(img, (k, k))
    out = (patches * ker).sum(axis=(-2, -1))
    return xp.sum(out ** 2)


def mk_attn(T=5, d=4):
    def make(rng):
        X = rng.standard_normal((T, d))
        return 0.5 * rng.standard_normal(3 * d * d), (X,)
    return make


@program(mk_attn())
def attention_layer(xp, sp, th, X):
    T, d = X.shape
    Wq, Wk, Wv = th.reshape(3, d, d)
    Q, K, V = X @ Wq, X @ Wk, X @ Wv
    scores = Q @ K.T / xp.sqrt(d)
    mask = xp.triu(xp.ones((T, T), dtype=bool), k=1)
    scores = xp.where(mask, -xp.inf, scores)
    scores -= scores.max(axis=-1, keepdims=True)
    A = xp.exp(scores)
    A /= A.sum(axis=-1, keepdims=True)
    return (A @ V).ravel()


def mk_ln(B=4, d=5):
    def make(rng):
        return rng.standard_normal(B * d + 2 * d), ()
    return make


@program(mk_ln())
def layer_norm(xp, sp, th):
    B, d = 4, 5
    x = th[:B * d].reshape(B, d)
    gamma, beta = th[B * d:B * d + d], th[B * d + d:]
    mu = x.mean(axis=-1, keepdims=True)
    var = x.var(axis=-1, keepdims=True)
    y = (x - mu) / xp.sqrt(var + 1e-5) * gamma + beta
    return y


def mk_rnn(T=6, d=3, h=4):
    def make(rng):
        xs = rng.standard_normal((T, d))
        return 0.4 * rng.standard_normal(h * h + h * d + h), (xs,)
    return make


@program(mk_rnn())
def rnn_loop_stack(xp, sp, th, xs):
    T, d = xs.shape
    h = 4
    Wh = th[:h * h].reshape(h, h)
    Wx = th[h * h:h * h + h * d].reshape(h, d)
    b = th[h * h + h * d:]
    state = xp.zeros(h)
    hs = []
    for t in range(T):
        state = xp.tanh(Wh @ state + Wx @ xs[t] + b)
        hs.append(state)
    Hs = xp.stack(hs)
    return xp.sum(Hs[-1] ** 2) + 0.1 * xp.sum(xp.concatenate(hs[:2]))


def mk_km(n=20, K=3, d=2):
    def make(rng):
        X = rng.standard_normal((n, d))
        return rng.standard_normal(K * d), (X,)
    return make


@program(mk_km(), kink=True)
def kmeans_argmin(xp, sp, c, X):
    d = X.shape[1]
    C = c.reshape(-1, d)
    D = ((X[:, None, :] - C[None, :, :]) ** 2).sum(-1)
    a = xp.argmin(D, axis=1)
    return ((X - C[a]) ** 2).sum()


def mk_img(H=6, W=7):
    def make(rng):
        return rng.standard_normal(H * W), ()
    return make


@program(mk_img())
def total_variation(xp, sp, th):
    img = th.reshape(6, 7)
    dx = xp.diff(img, axis=1)[:-1, :]
    dy = xp.diff(img, axis=0)[:, :-1]
    return xp.sum(xp.sqrt(dx ** 2 + dy ** 2 + 1e-3))


def mk_blur():
    def make(rng):
        return np.concatenate([rng.standard_normal(6 * 8), [0.3]]), ()
    return make


@program(mk_blur())
def gaussian_blur_convolve(xp, sp, th):
    img = th[:-1].reshape(6, 8)
    sigma = xp.exp(th[-1])
    t = xp.arange(-2, 3)
    g = xp.exp(-0.5 * (t / sigma) ** 2)
    g = g / g.sum()
    rows = xp.stack([xp.convolve(r, g, mode="same") for r in img])
    cols = xp.stack([xp.convolve(c, g, mode="same") for c in rows.T], axis=1)
    return cols


def mk_bilin():
    def make(rng):
        img = rng.standard_normal((5, 5))
        pts = rng.uniform(0.2, 3.7, (6, 2))
        return np.concatenate([pts.ravel(), img.ravel()]), ()
    return make


@program(mk_bilin(), kink=True)
def bilinear_interpolation(xp, sp, th):
    pts = th[:12].reshape(-1, 2)
    img = th[12:].reshape(5, 5)
    i0 = xp.floor(pts[:, 0]).astype(int)
    j0 = xp.floor(pts[:, 1]).astype(int)
    fi = pts[:, 0] - i0
    fj = pts[:, 1] - j0
    v = (img[i0, j0] * (1 - fi) * (1 - fj) + img[i0 + 1, j0] * fi * (1 - fj)
         + img[i0, j0 + 1] * (1 - fi) * fj + img[i0 + 1, j0 + 1] * fi * fj)
    return v


def mk_bump():
    def make(rng):
        target = rng.standard_normal((8, 9))
        return np.array([0.1, -0.2, 0.0, 0.5]) + 0.1 * rng.standard_normal(4), (target,)
    return make


@program(mk_bump())
def meshgrid_gaussian_bump(xp, sp, th, target):
    xs = xp.linspace(-1, 1, target.shape[1])
    ys = xp.linspace(-1, 1, target.shape[0])
    XX, YY = xp.meshgrid(xs, ys)
    cx, cy, log_w, amp = th
    bump = amp * xp.exp(-((XX - cx) ** 2 + (YY - cy) ** 2) / (2 * xp.exp(2 * log_w)))
    return xp.mean((bump - target) ** 2)


def mk_poly(n=7):
    def make(rng):
        ang = np.sort(rng.uniform(0, 2 * np.pi, n))
        rad = rng.uniform(0.5, 1.5, n)
        return np.concatenate([rad * np.cos(ang), rad * np.sin(ang)]), ()
    return make


@program(mk_poly(), kink=True)
def polygon_area_shoelace(xp, sp, th):
    x, y = xp.split(th, 2)
    return 0.5 * xp.abs(xp.dot(x, xp.roll(y, 1)) - xp.dot(y, xp.roll(x, 1)))


def mk_rot():
    def make(rng):
        pts = rng.standard_normal((5, 3))
        return rng.uniform(-1, 1, 3), (pts,)
    return make


@program(mk_rot())
def euler_rotation_matrices(xp, sp, ang, pts):
    a, b, c = ang
    Rz = xp.array([[xp.cos(a), -xp.sin(a), 0], [xp.sin(a), xp.cos(a), 0], [0, 0, 1]])
    Ry = xp.array([[xp.cos(b), 0, xp.sin(b)], [0, 1, 0], [-xp.sin(b), 0, xp.cos(b)]])
    Rx = xp.array([[1, 0, 0], [0, xp.cos(c), -xp.sin(c)], [0, xp.sin(c), xp.cos(c)]])
    R = Rz @ Ry @ Rx
    return (pts @ R.T).ravel()


def mk_quat():
    def make(rng):
        return rng.standard_normal(8), (rng.standard_normal((4, 3)),)
    return make


@program(mk_quat())
def quaternion_rotate(xp, sp, th, v):
    def qmul(q, r):
        w1, x1, y1, z1 = q[..., 0], q[..., 1], q[..., 2], q[..., 3]
        w2, x2, y2, z2 = r[..., 0], r[..., 1], r[..., 2], r[..., 3]
        return xp.stack([w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2,
                         w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2,
                         w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2,
                         w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2], axis=-1)
    q = th.reshape(2, 4)
    q = q / xp.linalg.norm(q, axis=-1, keepdims=True)
    qc = q * xp.array([1.0, -1, -1, -1])
    vq = xp.concatenate([xp.zeros((v.shape[0], 1)), v], axis=1)
    out = qmul(qmul(q[0][None, :], vq), qc[0][None, :])
    out = qmul(qmul(q[1], out), qc[1])
    return out[:, 1:].ravel()


def mk_sig(n=32):
    def make(rng):
        t = np.arange(n)
        return np.sin(0.3 * t) + 0.3 * rng.standard_normal(n), ()
    return make


@program(mk_sig())
def fft_power_spectrum(xp, sp, x):
    n = x.shape[0]
    w = xp.hanning(n)
    X = xp.fft.rfft((x - x.mean()) * w)
    P = xp.abs(X) ** 2 / (w ** 2).sum()
    return P[1:8]


@program(mk_reg(30, 4))
def ridge_normal_equations(xp, sp, w, X, y):
    lam = xp.exp(w[0])
    Xs = X[:, :3] * (1 + 0.1 * w[1:])
    beta = xp.linalg.solve(Xs.T @ Xs + lam * xp.eye(Xs.shape[1]), Xs.T @ y)
    return beta


def mk_pois(n=20, p=3):
    def make(rng):
        X = rng.standard_normal((n, p)) * 0.5
        y = rng.poisson(2.0, n)
        return 0.2 * rng.standard_normal(p + 1), (X, y)
    return make


def mk_dir(n=10, k=4):
    def make(rng):
        P = rng.dirichlet(np.ones(k), n)
        return 0.3 * rng.standard_normal(k), (P,)
    return make


def mk_mf(m=6, n=5, r=2):
    def make(rng):
        R = rng.standard_normal((m, n))
        mask = rng.random((m, n)) < 0.6
        return rng.standard_normal(m * r + n * r), (R, mask)
    return make


@program(mk_mf(), no_vmap=False)
def matrix_factorization_masked(xp, sp, th, R, mask):
    m, n = R.shape
    r = th.size // (m + n)
    U = th[:m * r].reshape(m, r)
    V = th[m * r:].reshape(n, r)
    E = (R - U @ V.T)[mask]
    return xp.sum(E ** 2) + 0.1 * (xp.linalg.norm(U, "fro") ** 2 + xp.linalg.norm(V, ord="fro") ** 2)


def mk_rank(n=8):
    def make(rng):
        X = rng.standard_normal((n, 3))
        rel = rng.integers(0, 3, n)
        return rng.standard_normal(3), (X, rel)
    return make


@program(mk_rank())
def pairwise_ranknet_outer(xp, sp, w, X, rel):
    s = X @ w
    S = xp.subtract.outer(s, s)
    P = xp.greater.outer(rel, rel)
    return xp.sum(xp.logaddexp(0, -S[P]))


def mk_trip(n=6, d=4):
    def make(rng):
        return rng.standard_normal(3 * n * d), ()
    return make


def mk_mat(m=4, n=3):
    def make(rng):
        return rng.standard_normal(m * n), ()
    return make


def mk_sink(n=4, m=5):
    def make(rng):
        x = rng.standard_normal((n, 2))
        a = np.full(n, 1 / n)
        b = np.full(m, 1 / m)
        return rng.standard_normal(m * 2), (x, a, b)
    return make


@program(mk_sink())
def sinkhorn_loop(xp, sp, th, x, a, b):
    y = th.reshape(-1, 2)
    C = ((x[:, None, :] - y[None, :, :]) ** 2).sum(-1)
    eps = 0.5
    K = xp.exp(-C / eps)
    v = xp.ones(len(b))
    for _ in range(20):
        u = a / (K @ v)
        v = b / (K.T @ u)
    T = u[:, None] * K * v[None, :]
    return xp.sum(T * C)


def mk_dtw(n=5, m=6):
    def make(rng):
        return rng.standard_normal(n), (rng.standard_normal(m),)
    return make


def mk_mvn(d=3, n=10):
    def make(rng):
        X = rng.standard_normal((n, d))
        return 0.3 * rng.standard_normal(d * (d + 1) // 2 + d), (X,)
    return make


@program(mk_vec(9), kink=True)
def owl_sorted_gather(xp, sp, x):
    idx = xp.argsort(-xp.abs(x))
    w = xp.linspace(1.0, 0.1, x.size)
    sorted_abs = xp.abs(x)[idx]
    trimmed = xp.sort(x)[2:-2].mean()
    return xp.dot(w, sorted_abs) + trimmed


@program(mk_vec(8), kink=True)
def leaky_relu_inplace_mask(xp, sp, x):
    out = x.copy()
    out[out < 0] *= 0.01
    y = xp.zeros_like(x)
    pos = x > 0
    y[pos] = xp.log1p(x[pos])
    y[~pos] = xp.expm1(x[~pos])
    return out * 2 + y


def mk_einsum():
    def make(rng):
        return rng.standard_normal(3 * 4 + 4 * 4), (rng.standard_normal((2, 3, 3)),)
    return make


def mk_lj(n=5):
    def make(rng):
        return np.arange(n) * 1.2 + 0.1 * rng.standard_normal(n), ()
    return make


@program(mk_lj())
def lennard_jones_1d_add_outer(xp, sp, x):
    r = xp.abs(xp.subtract.outer(x, x))
    n = len(x)
    r = r + xp.eye(n)
    iu = xp.triu_indices(n, 1)
    inv6 = (1.0 / r[iu]) ** 6
    pot = xp.sum(4 * (inv6 ** 2 - inv6))
    bonds = xp.add.outer(x, -x)[xp.arange(n - 1), xp.arange(1, n)]
    return pot + 0.1 * xp.sum(bonds ** 2)


def mk_vm(n=12):
    def make(rng):
        return np.array([0.3, 0.5]) + 0.1 * rng.standard_normal(2), (rng.vonmises(0.5, 2.0, n),)
    return make


@program(mk_vm())
def von_mises_bessel_nll(xp, sp, th, ang):
    mu, kappa = th[0], xp.exp(th[1])
    return -xp.sum(kappa * xp.cos(ang - mu)) + len(ang) * xp.log(2 * xp.pi * sp.special.i0(kappa))


@program(mk_clf(f32=True))
def logistic_loss_f32_data_matmul(xp, sp, w, X, y):
    z = X @ w[:-1] + w[-1]
    p = sp.special.expit(z)
    eps = 1e-12
    return -xp.mean(y * xp.log(p + eps) + (1 - y) * xp.log(1 - p + eps))


@program(mk_vec(6))
def rosen_der_vector_traced_buf(xp, sp, x):
    xm, xm_m1, xm_p1 = x[1:-1], x[:-2], x[2:]
    der = 0.0 * x
    der[1:-1] = (200 * (xm - xm_m1 ** 2) - 400 * (xm_p1 - xm ** 2) * xm - 2 * (1 - xm))
    der[0] = -400 * x[0] * (x[1] - x[0] ** 2) - 2 * (1 - x[0])
    der[-1] = 200 * (x[-1] - x[-2] ** 2)
    return der


@program(mk_heat())
def heat_equation_hist_traced(xp, sp, theta):
    u = xp.array(theta[:-1])
    r = theta[-1]
    hist = 0.0 * xp.tile(u, (10, 1))
    for t in range(10):
        un = u.copy()
        u[1:-1] = un[1:-1] + r * (un[2:] - 2 * un[1:-1] + un[:-2])
        hist[t] = u
    return hist.mean(axis=0)


@program(mk_lv())
def lotka_volterra_fill_traced(xp, sp, th):
    T = 30
    out = xp.zeros((T, 2)) * th[0]
    out[0] = th[:2] * 10
    a, b, c, d = th[2:]
    dt = 0.05
    for i in range(1, T):
        prey, pred = out[i - 1]
        out[i, 0] = prey + dt * (a * prey - b * prey * pred)
        out[i, 1] = pred + dt * (d * prey * pred - c * pred)
    return out[-1]


@program(mk_sig())
def ema_loop_copy_buf(xp, sp, x):
    alpha = 0.3
    ema = x.copy()
    for i in range(1, len(x)):
        ema[i] = alpha * x[i] + (1 - alpha) * ema[i - 1]
    c = xp.cumsum(x)
    sma = (c[5:] - c[:-5]) / 5
    return xp.sum((ema[5:] - sma) ** 2)


@program(mk_dtw())
def soft_dtw_traced_buf(xp, sp, x, y):
    gamma = 0.5
    n, m = len(x), len(y)
    D = (x[:, None] - y[None, :]) ** 2
    R = xp.full((n + 1, m + 1), xp.inf) + 0.0 * x[0]
    R[0, 0] = 0.0
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            r = -xp.array([R[i - 1, j - 1], R[i - 1, j], R[i, j - 1]]) / gamma
            rmax = xp.max(r)
            softmin = -gamma * (xp.log(xp.sum(xp.exp(r - rmax))) + rmax)
            R[i, j] = D[i - 1, j - 1] + softmin
    return R[n, m]


@program(mk_mvn())
def mvn_tril_from_indices(xp, sp, th, X):
    n, d = X.shape
    M = 0.0 * xp.outer(th[:d], th[:d])
    rows, cols = xp.tril_indices_from(M)
    M[rows, cols] = th[:len(rows)]
    M[xp.diag_indices_from(M)] = xp.exp(xp.diagonal(M))
    L = xp.tril(M)
    mu = th[len(rows):]
    Z = sp.linalg.solve_triangular(L, (X - mu).T, lower=True)
    return 0.5 * xp.sum(Z ** 2) + n * xp.sum(xp.log(xp.abs(xp.diag(L)))) \
        + xp.sum(M[xp.triu_indices_from(M, k=1)] ** 2)


@program(mk_vec(8), kink=True)
def leaky_relu_traced_buf(xp, sp, x):
    out = x.copy()
    out[out < 0] *= 0.01
    y = 0.0 * x
    pos = x > 0
    y[pos] = xp.log1p(x[pos])
    y[~pos] = xp.expm1(x[~pos])
    y[y > 0.5] = 0.5            # a masked write with a scalar
    return out * 2 + y



PROGS = {p["name"]: p for p in PROGRAMS}
LIMITS = {
    "logistic_loss_f32_data": (TracerConversionError, "converted to a NumPy array"),  # X.dot(w)
    "lotka_volterra_euler_fill": (TracerConversionError, "NumPy buffer"),   # np.zeros, then fill
}
CHECKED = [n for n in PROGS if n not in LIMITS]
# vmap raises its documented ConcretizationError for a boolean-mask read (x[x > 0])
NO_VMAP = {"leaky_relu_traced_buf": ConcretizationError,
           "leaky_relu_inplace_mask": ConcretizationError}


@pytest.mark.parametrize("name", CHECKED)
def test_realistic_program(name):
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        check_realistic(PROGS[name], seed=0, no_vmap=NO_VMAP)


@pytest.mark.parametrize("name", sorted(LIMITS))
def test_documented_limitations_raise_clearly(name):
    """NumPy buffers filled with traced values and ndarray.dot(tracer): clear errors
    under grad, never a number."""
    p = PROGS[name]
    x, data = p["make"](np.random.default_rng(0))
    exc, words = LIMITS[name]
    with pytest.raises(exc, match=words):
        cr.grad(lambda x: cnp.sum(p["f"](cnp, csp, x, *data)))(x)


def test_indices_from_take_traced_arrays():
    """np.diag_indices_from / tril_indices_from / triu_indices_from read only the shape:
    they raised NotImplementedError on a traced array (K[np.diag_indices_from(K)] += s2,
    a GP kernel's noise term)."""
    def f(x):
        K = x @ x.T
        K[np.diag_indices_from(K)] += 2.0
        return (np.sum(K[np.tril_indices_from(K, -1)] ** 2) + np.sum(K[np.triu_indices_from(K, k=1)])
                + np.sum(np.log(np.diag(K))))

    x = np.random.default_rng(0).standard_normal((3, 2))
    g = cr.grad(f)(x)
    h = 1e-6
    fd = np.array([(f(x + h * e.reshape(3, 2)) - f(x - h * e.reshape(3, 2))) / (2 * h)
                   for e in np.eye(6)]).reshape(3, 2)
    np.testing.assert_allclose(g, fd, rtol=1e-6)
    assert cr.jit(f)(x) == f(x)
    np.testing.assert_allclose(cr.vmap(f)(np.stack([x, 2 * x])), [f(x), f(2 * x)], rtol=1e-13)
    with pytest.raises(ValueError, match="equal length"):
        cr.grad(lambda x: np.sum(x[np.diag_indices_from(x)]))(np.ones((2, 3)))
    with pytest.raises(ValueError, match="2-d"):
        cr.grad(lambda x: np.sum(x[np.tril_indices_from(x)]))(np.ones(3))


def test_buffer_write_error_gives_advice_that_works():
    """np.put of a traced value into a NumPy buffer: the error's advice used to say
    'cnp.array(y) * 1.0', a NumPy array that raises the same error; the advice it gives
    (cnp.at, or a buffer made with np.zeros_like of a traced value) works."""
    def f(x):
        b = np.zeros(3)
        np.put(b, [0], x[:1])
        return cnp.sum(b)

    with pytest.raises(TracerConversionError) as info:
        cr.grad(f)(np.ones(3))
    assert "cnp.array(y) * 1.0" not in str(info.value)
    assert "cnp.at(y)[i].set(v)" in str(info.value)
    assert "np.zeros_like(x)" in str(info.value)

    def fixed(x):
        b = cnp.at(np.zeros(3))[0].set(x[0])
        b[1] = x[1] ** 2                # later writes update the traced copy
        return cnp.sum(b)

    np.testing.assert_array_equal(cr.grad(fixed)(np.array([1.0, 2.0, 3.0])), [1.0, 4.0, 0.0])

    def like(x):
        b = np.zeros_like(x)
        np.put(b, [0], x[:1])
        b[1] = x[1] ** 2
        return cnp.sum(b)

    np.testing.assert_array_equal(cr.grad(like)(np.array([1.0, 2.0, 3.0])), [1.0, 4.0, 0.0])
