"""Realistic NumPy programs, round 2 (helper-56's hunt): finite-difference PDEs (np.roll
Laplacians, Crank-Nicolson with np.diag + solve and with solve_banded, leapfrog waves),
unrolled optimisation (hypergradients of a step size, unrolled CG/Newton/power
iteration), LQR by Riccati iteration, robot forward kinematics, ray-sphere
intersection, Lennard-Jones and Coulomb energies, HMM/CRF forward algorithms,
hierarchical models with scipy.stats, Weibull/Cox survival, matrix factorisation with
integer ids and np.add.at, embeddings, Holt-Winters, portfolio penalties,
quantile/Huber/Tukey losses, GP prediction with cho_factor, Mahalanobis distances,
log-domain Sinkhorn, masked attention (-inf fills), batch/layer/group norm with running
statistics, histograms, polyfit/interp/trapezoid, and complex programs (expm unitary
fidelity, FFT low-pass filters, phase retrieval). Each is f(xp, sp, x, *data), run with
(numpy, scipy) and with (chainrule.numpy, chainrule.scipy): values against NumPy's,
gradients, jvps and Hessian-vector products against finite differences of the NumPy
program, jacfwd against jacrev, vmap against a loop, jit and jit(grad) at a second
input of the same shapes. The hunt (/tmp/h_real2, 85 programs x 3 seeds) found two
gaps, fixed here: writing -inf (or nan) into a traced array (s[mask] = -np.inf) gave
nan tangents and gradients (the derivative of the write multiplied the written
constant by 0.0), and second derivatives of norm.cdf/erf/erfc/log_ndtr at +-inf (an
ordinal model's outer cut points) were nan."""
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
from chainrule import ConcretizationError, TracerConversionError
from realistic_checks import check_realistic

PROGRAMS = []


def program(make, kink=False, no_vmap=False, note=""):
    def deco(f):
        PROGRAMS.append(dict(name=f.__name__, f=f, make=make, kink=kink,
                             no_vmap=no_vmap, note=note))
        return f
    return deco


def mk_vec(n, scale=1.0, shift=0.0, data=None):
    def make(rng):
        x = shift + scale * rng.standard_normal(n)
        return x, (data(rng) if data else ())
    return make


# ================================================================ numerical PDEs
def mk_field(H=6, W=6):
    def make(rng):
        return rng.standard_normal((H, W)), ()
    return make


@program(mk_field())
def heat2d_roll_laplacian(xp, sp, u):
    # explicit 2-D heat equation, periodic, 5-point Laplacian with np.roll
    dt, alpha = 0.1, 1.0
    for _ in range(5):
        lap = (xp.roll(u, 1, axis=0) + xp.roll(u, -1, axis=0) + xp.roll(u, 1, axis=1)
               + xp.roll(u, -1, axis=1) - 4 * u)
        u = u + dt * alpha * lap
    return u


@program(mk_field(7, 7))
def poisson_residual_slices(xp, sp, u):
    h = 1.0 / 6
    f = np.ones((5, 5))
    lap = (u[2:, 1:-1] + u[:-2, 1:-1] + u[1:-1, 2:] + u[1:-1, :-2] - 4 * u[1:-1, 1:-1]) / h ** 2
    bc = xp.sum(u[0] ** 2) + xp.sum(u[-1] ** 2) + xp.sum(u[:, 0] ** 2) + xp.sum(u[:, -1] ** 2)
    return 0.5 * xp.sum((lap + f) ** 2) * h ** 2 + 10 * bc


@program(mk_field(6, 6))
def heat2d_inplace_interior(xp, sp, u):
    # Dirichlet boundaries kept; interior updated in place with a copy
    u = u.copy()
    for _ in range(4):
        un = u.copy()
        u[1:-1, 1:-1] = un[1:-1, 1:-1] + 0.2 * (un[2:, 1:-1] + un[:-2, 1:-1] + un[1:-1, 2:]
                                                 + un[1:-1, :-2] - 4 * un[1:-1, 1:-1])
    return u


def mk_cn(n=8):
    def make(rng):
        th = np.concatenate([[np.log(0.5) + 0.1 * rng.standard_normal()],
                             np.sin(np.linspace(0, np.pi, n)) + 0.1 * rng.standard_normal(n)])
        return th, ()
    return make


@program(mk_cn())
def crank_nicolson_diag_solve(xp, sp, th):
    kappa = xp.exp(th[0])
    u = th[1:]
    n = u.shape[0]
    dx, dt = 1.0 / (n + 1), 0.01
    r = kappa * dt / dx ** 2
    main = (1 + r) * np.ones(n)
    off = -0.5 * r * np.ones(n - 1)
    A = xp.diag(main) + xp.diag(off, 1) + xp.diag(off, -1)
    B = xp.diag((1 - r) * np.ones(n)) + xp.diag(-off, 1) + xp.diag(-off, -1)
    for _ in range(4):
        u = xp.linalg.solve(A, B @ u)
    return u


@program(mk_cn(10))
def crank_nicolson_solve_banded(xp, sp, th):
    kappa = xp.exp(th[0])
    u = th[1:]
    n = u.shape[0]
    dx, dt = 1.0 / (n + 1), 0.02
    r = kappa * dt / dx ** 2
    ones = np.ones(n)
    ab = xp.stack([-0.5 * r * ones, (1 + r) * ones, -0.5 * r * ones])
    for _ in range(3):
        rhs = (1 - r) * u
        rhs[1:] += 0.5 * r * u[:-1]
        rhs[:-1] += 0.5 * r * u[1:]
        u = sp.linalg.solve_banded((1, 1), ab, rhs)
    return xp.sum(u ** 2) + u[n // 2]


@program(mk_vec(12, data=lambda rng: ()))
def wave_leapfrog_pad(xp, sp, u0):
    # 1-D wave equation, fixed ends via np.pad, leapfrog
    c, dt, dx = 1.0, 0.05, 0.1
    s = (c * dt / dx) ** 2
    prev = u0
    cur = u0 + 0.5 * s * (xp.pad(u0, 1)[2:] - 2 * u0 + xp.pad(u0, 1)[:-2])
    for _ in range(6):
        up = xp.pad(cur, 1)
        nxt = 2 * cur - prev + s * (up[2:] - 2 * cur + up[:-2])
        prev, cur = cur, nxt
    return 0.5 * xp.sum(((cur - prev) / dt) ** 2) + xp.sum(xp.diff(cur) ** 2)


@program(mk_vec(10, shift=1.0, scale=0.5), kink=True)
def burgers_upwind_where(xp, sp, u):
    dt, dx = 0.02, 0.1
    for _ in range(4):
        back = (u - xp.roll(u, 1)) / dx
        fwd = (xp.roll(u, -1) - u) / dx
        u = u - dt * u * xp.where(u > 0, back, fwd)
    return u


@program(mk_vec(10))
def advection_lax_wendroff(xp, sp, u):
    c = 0.4
    for _ in range(5):
        up, um = xp.roll(u, -1), xp.roll(u, 1)
        u = u - 0.5 * c * (up - um) + 0.5 * c ** 2 * (up - 2 * u + um)
    return u


@program(mk_vec(9))
def gradient_np_gradient_energy(xp, sp, u):
    # Dirichlet energy using np.gradient (second order interior, first order edges)
    du = xp.gradient(u, 0.1)
    d2u = xp.gradient(du, 0.1, edge_order=2)
    return xp.sum(du ** 2) + 0.01 * xp.sum(d2u ** 2)


# ================================================================ unrolled optimisation
def mk_hyper(n=15, p=3):
    def make(rng):
        X = rng.standard_normal((n, p))
        y = X @ rng.standard_normal(p) + 0.3 * rng.standard_normal(n)
        Xv = rng.standard_normal((n, p))
        yv = Xv @ rng.standard_normal(p)
        th = np.array([np.log(0.05), np.log(0.1)]) + 0.1 * rng.standard_normal(2)
        return th, (X, y, Xv, yv)
    return make


@program(mk_hyper())
def unrolled_gd_ridge_hypergrad(xp, sp, th, X, y, Xv, yv):
    # validation loss after K steps of gradient descent; derivative in log step & log lambda
    eta, lam = xp.exp(th[0]), xp.exp(th[1])
    w = np.zeros(X.shape[1])
    for _ in range(8):
        grad = X.T @ (X @ w - y) / len(y) + lam * w
        w = w - eta * grad
    return xp.mean((Xv @ w - yv) ** 2)


def mk_unroll_logit(n=12, p=3):
    def make(rng):
        X = rng.standard_normal((n, p))
        y = (rng.random(n) < 0.5).astype(float)
        w0 = 0.3 * rng.standard_normal(p)
        return w0, (X, y)
    return make


@program(mk_unroll_logit())
def unrolled_momentum_logistic(xp, sp, w0, X, y):
    # meta-learning the initialisation: loss after heavy-ball steps from w0
    w, v = w0, xp.zeros_like(w0)
    for _ in range(5):
        p = sp.special.expit(X @ w)
        g = X.T @ (p - y) / len(y)
        v = 0.9 * v - 0.5 * g
        w = w + v
    p = sp.special.expit(X @ w)
    return -xp.mean(sp.special.xlogy(y, p) + sp.special.xlogy(1 - y, 1 - p))


@program(mk_vec(3, scale=0.3, shift=1.0))
def newton_root_inner_loop(xp, sp, th):
    # z(theta) solving z**3 + a z - b = 0 by unrolled Newton; then use z
    a, b, c = th[0] ** 2 + 1, th[1] + 2, th[2]
    z = xp.ones_like(a)
    for _ in range(12):
        z = z - (z ** 3 + a * z - b) / (3 * z ** 2 + a)
    return z * c + z ** 2


def mk_cg(n=5):
    def make(rng):
        M = rng.standard_normal((n, n))
        A0 = M @ M.T + n * np.eye(n)
        b = rng.standard_normal(n)
        th = 0.3 * rng.standard_normal(n)
        return th, (A0, b)
    return make


@program(mk_cg())
def unrolled_conjugate_gradient(xp, sp, th, A0, b):
    A = A0 + xp.diag(xp.exp(th))
    x = xp.zeros_like(b)
    r = b - A @ x
    p = r
    rs = r @ r
    for _ in range(4):
        Ap = A @ p
        alpha = rs / (p @ Ap)
        x = x + alpha * p
        r = r - alpha * Ap
        rs_new = r @ r
        p = r + (rs_new / rs) * p
        rs = rs_new
    return x


@program(mk_cg(4))
def power_iteration_spectral_norm(xp, sp, th, A0, b):
    W = A0 + xp.outer(th, th)
    v = b / xp.linalg.norm(b)
    for _ in range(20):
        v = W @ v
        v = v / xp.linalg.norm(v)
    sigma = v @ W @ v
    return sigma + xp.sum(th ** 2)


@program(mk_cg(4))
def jacobi_fixed_point(xp, sp, th, A0, b):
    A = A0 + xp.diag(1 + th ** 2)
    D = xp.diag(A)
    R = A - xp.diag(D)
    x = b / D
    for _ in range(10):
        x = (b - R @ x) / D
    return x


# ================================================================ control
def mk_lqr(n=3, m=2):
    def make(rng):
        A = np.eye(n) + 0.1 * rng.standard_normal((n, n))
        B = rng.standard_normal((n, m))
        x0 = rng.standard_normal(n)
        th = 0.2 * rng.standard_normal(n + m)
        return th, (A, B, x0)
    return make


@program(mk_lqr())
def lqr_riccati_iteration(xp, sp, th, A, B, x0):
    n, m = B.shape
    Q = xp.diag(xp.exp(th[:n]))
    R = xp.diag(xp.exp(th[n:]))
    P = Q
    for _ in range(15):
        BtP = B.T @ P
        K = xp.linalg.solve(R + BtP @ B, BtP @ A)
        P = Q + A.T @ P @ A - A.T @ P @ B @ K
    return x0 @ P @ x0 + xp.sum(K ** 2)


def mk_lqr_gain(n=2, m=1, T=10):
    def make(rng):
        A = np.array([[1.0, 0.1], [0.0, 1.0]])
        B = np.array([[0.0], [0.1]])
        x0 = rng.standard_normal(n)
        K = np.array([1.0, 1.5]) + 0.1 * rng.standard_normal(2)
        return K, (A, B, x0)
    return make


@program(mk_lqr_gain())
def lqr_rollout_cost_gain(xp, sp, k, A, B, x0):
    K = k.reshape(1, 2)
    x = x0
    cost = 0.0
    for t in range(15):
        u = -K @ x
        cost = cost + x @ x + 0.1 * u @ u
        x = A @ x + B @ u
    return cost + 10 * x @ x


# ================================================================ robotics
@program(mk_vec(4, scale=0.8))
def planar_arm_fk_cumsum(xp, sp, q):
    L = np.array([1.0, 0.8, 0.6, 0.4])
    ang = xp.cumsum(q)
    px = xp.cumsum(L * xp.cos(ang))
    py = xp.cumsum(L * xp.sin(ang))
    target = np.array([1.2, 1.1])
    return xp.stack([px, py], axis=1)  # all joint positions


@program(mk_vec(4, scale=0.8))
def planar_arm_ik_loss(xp, sp, q):
    L = np.array([1.0, 0.8, 0.6, 0.4])
    ang = xp.cumsum(q)
    ee = xp.array([xp.sum(L * xp.cos(ang)), xp.sum(L * xp.sin(ang))])
    target = np.array([1.2, 1.1])
    return xp.sum((ee - target) ** 2) + 1e-2 * q @ q


def _dh(xp, theta, d, a, alpha):
    ct, st = xp.cos(theta), xp.sin(theta)
    ca, sa = np.cos(alpha), np.sin(alpha)
    return xp.array([[ct, -st * ca, st * sa, a * ct],
                     [st, ct * ca, -ct * sa, a * st],
                     [0.0, sa, ca, d],
                     [0.0, 0.0, 0.0, 1.0]])


@program(mk_vec(5, scale=0.7))
def robot_dh_chain_matmul(xp, sp, q):
    d = [0.3, 0.0, 0.0, 0.25, 0.0]
    a = [0.0, 0.4, 0.35, 0.0, 0.1]
    al = [np.pi / 2, 0.0, 0.0, np.pi / 2, -np.pi / 2]
    T = np.eye(4)
    pts = []
    for i in range(5):
        T = T @ _dh(xp, q[i], d[i], a[i], al[i])
        pts.append(T[:3, 3])
    return xp.concatenate([xp.stack(pts).ravel(), T[:3, :3].ravel()])


@program(mk_vec(3, scale=0.6))
def robot_jacobian_manipulability(xp, sp, q):
    # analytic planar Jacobian, manipulability sqrt(det(J J^T))
    L = np.array([1.0, 0.7, 0.5])
    ang = xp.cumsum(q)
    c, s = L * xp.cos(ang), L * xp.sin(ang)
    Jx = -xp.cumsum(s[::-1])[::-1]
    Jy = xp.cumsum(c[::-1])[::-1]
    J = xp.stack([Jx, Jy])
    return xp.sqrt(xp.linalg.det(J @ J.T))


# ================================================================ graphics / geometry
def mk_rays(nr=12):
    def make(rng):
        dirs = rng.standard_normal((nr, 3)) * 0.2 + np.array([0.0, 0.0, 1.0])
        dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
        orig = np.zeros((nr, 3)) + 0.05 * rng.standard_normal((nr, 3))
        th = np.array([0.1, -0.05, 3.0, 0.8]) + 0.02 * rng.standard_normal(4)
        return th, (orig, dirs)
    return make


@program(mk_rays(), kink=True)
def ray_sphere_where_discriminant(xp, sp, th, orig, dirs):
    c, r = th[:3], th[3]
    oc = orig - c
    b = 2 * xp.sum(dirs * oc, axis=1)
    cc = xp.sum(oc * oc, axis=1) - r ** 2
    disc = b * b - 4 * cc
    hit = disc > 0
    t = xp.where(hit, (-b - xp.sqrt(xp.where(hit, disc, 1.0))) / 2, 0.0)
    p = orig + t[:, None] * dirs
    n = (p - c) / r
    light = np.array([0.3, 0.5, -0.8])
    shade = xp.where(hit, xp.maximum(n @ light, 0.0), 0.0)
    return shade + 0.1 * t


@program(mk_rays(), kink=True)
def ray_sphere_masked_assign(xp, sp, th, orig, dirs):
    c, r = th[:3], th[3]
    oc = orig - c
    b = xp.einsum("ij,ij->i", dirs, oc)
    disc = b ** 2 - (xp.einsum("ij,ij->i", oc, oc) - r ** 2)
    depth = xp.full(len(b), 10.0) + 0.0 * b
    m = disc > 0
    depth[m] = -b[m] - xp.sqrt(disc[m])
    return depth


def mk_lj(N=5):
    def make(rng):
        g = np.array([[i, j, k] for i in range(2) for j in range(2) for k in range(2)], float)[:N]
        pos = 1.2 * g + 0.05 * rng.standard_normal((N, 3))
        return pos.ravel(), ()
    return make


@program(mk_lj())
def lennard_jones_triu_indices(xp, sp, x):
    pos = x.reshape(-1, 3)
    n = pos.shape[0]
    i, j = np.triu_indices(n, k=1)
    d = pos[i] - pos[j]
    r2 = xp.sum(d * d, axis=1)
    inv6 = (1.0 / r2) ** 3
    return 4 * xp.sum(inv6 ** 2 - inv6)


@program(mk_lj())
def lennard_jones_full_mask(xp, sp, x):
    pos = x.reshape(-1, 3)
    diff = pos[:, None, :] - pos[None, :, :]
    r = xp.sqrt(xp.sum(diff ** 2, axis=-1) + np.eye(len(pos)))
    mask = ~np.eye(len(pos), dtype=bool)
    sr6 = xp.where(mask, (1.0 / r) ** 6, 0.0)
    e = 0.5 * xp.sum(4 * (sr6 ** 2 - sr6))
    forces_norm = xp.sum(xp.where(mask[..., None], diff / r[..., None] ** 8, 0.0), axis=1)
    return e + 1e-3 * xp.sum(forces_norm ** 2)


@program(mk_lj(4))
def coulomb_fill_diagonal_cutoff(xp, sp, x):
    pos = x.reshape(-1, 3)
    q = np.array([1.0, -1.0, 1.0, -1.0])
    D = xp.linalg.norm(pos[:, None] - pos[None], axis=-1)
    xp.fill_diagonal(D, 1.0)
    E = q[:, None] * q[None, :] / D
    xp.fill_diagonal(E, 0.0)
    cut = D < 1.6
    return 0.5 * xp.sum(E * cut)


@program(mk_lj(5))
def pairwise_pdist_softmin(xp, sp, x):
    pos = x.reshape(-1, 3)
    sq = xp.sum(pos ** 2, 1)
    D2 = sq[:, None] + sq[None, :] - 2 * pos @ pos.T
    iu = xp.triu_indices_from(D2, k=1)
    d2 = D2[iu]
    return -0.3 * sp.special.logsumexp(-d2 / 0.3)


# ================================================================ HMM / CRF
def mk_hmm(K=3, T=8):
    def make(rng):
        th = 0.5 * rng.standard_normal(K * K + K + K)
        obs = rng.standard_normal(T) * 1.5
        return th, (obs,)
    return make


@program(mk_hmm())
def hmm_forward_logsumexp(xp, sp, th, obs):
    K = 3
    logA = sp.special.log_softmax(th[:K * K].reshape(K, K), axis=1)
    logpi = sp.special.log_softmax(th[K * K:K * K + K])
    mu = th[K * K + K:] + np.array([-2.0, 0.0, 2.0])
    logB = sp.stats.norm.logpdf(obs[:, None], mu[None, :], 1.0)
    alpha = logpi + logB[0]
    for t in range(1, len(obs)):
        alpha = sp.special.logsumexp(alpha[:, None] + logA, axis=0) + logB[t]
    return sp.special.logsumexp(alpha)


@program(mk_hmm())
def hmm_forward_scaled_inplace(xp, sp, th, obs):
    K = 3
    A = xp.exp(th[:K * K].reshape(K, K))
    A = A / A.sum(axis=1, keepdims=True)
    pi = sp.special.softmax(th[K * K:K * K + K])
    mu = th[K * K + K:] + np.array([-2.0, 0.0, 2.0])
    B = xp.exp(-0.5 * (obs[:, None] - mu) ** 2) / np.sqrt(2 * np.pi)
    T = len(obs)
    alpha = xp.zeros_like(B)
    c = xp.zeros(T) + 0.0 * th[0]
    alpha[0] = pi * B[0]
    c[0] = alpha[0].sum()
    alpha[0] /= c[0]
    for t in range(1, T):
        alpha[t] = (alpha[t - 1] @ A) * B[t]
        c[t] = alpha[t].sum()
        alpha[t] /= c[t]
    return xp.sum(xp.log(c))


def mk_crf(K=3, T=6):
    def make(rng):
        th = 0.5 * rng.standard_normal(K * K + T * K)
        tags = rng.integers(0, K, T)
        return th, (tags,)
    return make


@program(mk_crf())
def linear_chain_crf_nll(xp, sp, th, tags):
    K, T = 3, len(tags)
    trans = th[:K * K].reshape(K, K)
    emit = th[K * K:].reshape(T, K)
    gold = emit[np.arange(T), tags].sum() + trans[tags[:-1], tags[1:]].sum()
    a = emit[0]
    for t in range(1, T):
        a = sp.special.logsumexp(a[:, None] + trans, axis=0) + emit[t]
    return sp.special.logsumexp(a) - gold


@program(mk_crf(), kink=True)
def viterbi_max_score(xp, sp, th, tags):
    K, T = 3, len(tags)
    trans = th[:K * K].reshape(K, K)
    emit = th[K * K:].reshape(T, K)
    s = emit[0]
    for t in range(1, T):
        s = xp.max(s[:, None] + trans, axis=0) + emit[t]
    return xp.max(s)


@program(mk_lj(4))
def coulomb_sqrt_eye_fill_diagonal(xp, sp, x):
    # the norm-free spelling of the pairwise distances (exact Hessian on the diagonal)
    pos = x.reshape(-1, 3)
    q = np.array([1.0, -1.0, 1.0, -1.0])
    diff = pos[:, None] - pos[None]
    D = xp.sqrt(xp.sum(diff ** 2, axis=-1) + np.eye(4))
    E = q[:, None] * q[None, :] / D
    xp.fill_diagonal(E, 0.0)
    return 0.5 * xp.sum(E)


# ================================================================ Bayesian / stats models
def mk_hier(J=5):
    def make(rng):
        th = np.concatenate([[0.5, np.log(0.7)], 0.3 * rng.standard_normal(J), [np.log(2.0)]])
        th = th + 0.05 * rng.standard_normal(len(th))
        y = rng.poisson(3.0, size=(J, 4))
        return th, (y,)
    return make


@program(mk_hier())
def hierarchical_poisson_logdensity(xp, sp, th, y):
    mu, log_tau = th[0], th[1]
    eta = th[2:-1]
    log_a = th[-1]
    tau = xp.exp(log_tau)
    lp = sp.stats.norm.logpdf(mu, 0.0, 5.0)
    lp = lp + sp.stats.gamma.logpdf(tau, a=2.0, scale=1.0) + log_tau    # Jacobian
    lp = lp + xp.sum(sp.stats.norm.logpdf(eta, mu, tau))
    lp = lp + sp.stats.gamma.logpdf(xp.exp(log_a), 2.0) + log_a
    rate = xp.exp(eta)[:, None] * xp.ones(y.shape[1])
    lp = lp + xp.sum(sp.stats.poisson.logpmf(y, rate))
    return lp


@program(mk_hier())
def hierarchical_noncentered_nbinom(xp, sp, th, y):
    mu, tau = th[0], xp.exp(th[1])
    z = th[2:-1]
    r = xp.exp(th[-1])
    theta = mu + tau * z
    lp = xp.sum(sp.stats.norm.logpdf(z)) + sp.stats.norm.logpdf(mu, 0, 2) \
        + sp.stats.gamma.logpdf(tau, 2.0, scale=0.5) + th[1]
    m = xp.exp(theta)[:, None]
    p = r / (r + m)
    lp = lp + xp.sum(sp.stats.nbinom.logpmf(y, r, p))
    return lp


def mk_surv(n=20):
    def make(rng):
        t = rng.weibull(1.5, n) * 2.0
        event = (rng.random(n) < 0.7).astype(int)
        X = rng.standard_normal((n, 2))
        th = np.array([np.log(1.5), np.log(2.0), 0.1, -0.2]) + 0.05 * rng.standard_normal(4)
        return th, (t, event, X)
    return make


@program(mk_surv())
def weibull_aft_censored_loglik(xp, sp, th, t, event, X):
    k = xp.exp(th[0])
    lam = xp.exp(th[1] + X @ th[2:])
    z = (t / lam) ** k
    obs = event == 1
    logf = xp.log(k) - xp.log(lam) + (k - 1) * xp.log(t / lam) - z
    logS = -z
    return xp.sum(xp.where(obs, logf, logS))


@program(mk_surv())
def weibull_censored_boolean_index(xp, sp, th, t, event, X):
    k, lam = xp.exp(th[0]), xp.exp(th[1])
    obs = event.astype(bool)
    ll = xp.sum(xp.log(k / lam) + (k - 1) * xp.log(t[obs] / lam)) \
        - xp.sum((t / lam) ** k)
    return -ll + 0.5 * xp.sum(th[2:] ** 2)


@program(mk_surv())
def cox_partial_likelihood_reverse_cumsum(xp, sp, th, t, event, X):
    order = np.argsort(-t)        # descending time
    eta = X[order] @ th[2:] + 0.1 * th[0] * X[order, 0] ** 2
    ev = event[order]
    log_risk = xp.log(xp.cumsum(xp.exp(eta)))
    return -xp.sum(ev * (eta - log_risk))


def mk_ord(n=15, K=4):
    def make(rng):
        X = rng.standard_normal((n, 2))
        y = rng.integers(0, K, n)
        th = np.array([0.5, -0.3, -1.0, 0.0, 0.0]) + 0.1 * rng.standard_normal(5)
        return th, (X, y)
    return make


@program(mk_ord())
def ordinal_probit_cutpoints(xp, sp, th, X, y):
    beta = th[:2]
    c = xp.concatenate([th[2:3], th[2] + xp.cumsum(xp.exp(th[3:]))])
    cuts = xp.concatenate([[-np.inf], c, [np.inf]])
    eta = X @ beta
    upper = sp.stats.norm.cdf(cuts[y + 1] - eta)
    lower = sp.stats.norm.cdf(cuts[y] - eta)
    return -xp.sum(xp.log(upper - lower))


def mk_rob(n=20):
    def make(rng):
        X = rng.standard_normal((n, 2))
        y = X @ np.array([1.0, -0.5]) + rng.standard_t(3, n)
        th = np.array([0.9, -0.4, np.log(1.0), np.log(4.0)]) + 0.05 * rng.standard_normal(4)
        return th, (X, y)
    return make


@program(mk_rob())
def student_t_regression_df(xp, sp, th, X, y):
    r = y - X @ th[:2]
    return -xp.sum(sp.stats.t.logpdf(r, df=xp.exp(th[3]), scale=xp.exp(th[2])))


@program(mk_rob())
def probit_logcdf_and_gammaln(xp, sp, th, X, y):
    yb = (y > 0).astype(float)
    eta = X @ th[:2] + th[2]
    ll = xp.sum(yb * sp.stats.norm.logcdf(eta) + (1 - yb) * sp.stats.norm.logcdf(-eta))
    a = xp.exp(th[3])
    return ll + sp.special.gammaln(a) - a * xp.log(a) + xp.sum(sp.special.xlog1py(yb, xp.exp(eta)))


def mk_vi(d=3, S=6):
    def make(rng):
        th = 0.3 * rng.standard_normal(d + d * (d + 1) // 2)
        eps = rng.standard_normal((S, d))
        return th, (eps,)
    return make


@program(mk_vi())
def reparam_elbo_tril_cholesky(xp, sp, th, eps):
    d = eps.shape[1]
    mu = th[:d]
    L = xp.zeros((d, d)) + 0.0 * th[0]
    r, c = np.tril_indices(d)
    L[r, c] = th[d:]
    L[np.diag_indices(d)] = xp.exp(xp.diag(L))
    z = mu + eps @ L.T
    logp = xp.sum(sp.stats.norm.logpdf(z, 1.0, 2.0), axis=1)
    logq = xp.sum(sp.stats.norm.logpdf(eps), axis=1) - xp.sum(xp.log(xp.diag(L)))
    return xp.mean(logp - logq)


# ================================================================ recommenders / embeddings
def mk_mf_ids(nu=4, ni=5, r=2, nobs=14):
    def make(rng):
        th = 0.3 * rng.standard_normal(nu * r + ni * r + nu + ni)
        uid = rng.integers(0, nu, nobs)
        iid = rng.integers(0, ni, nobs)
        rating = rng.integers(1, 6, nobs).astype(float)
        return th, (uid, iid, rating)
    return make


def _mf_unpack(th, nu=4, ni=5, r=2):
    U = th[:nu * r].reshape(nu, r)
    V = th[nu * r:nu * r + ni * r].reshape(ni, r)
    bu = th[nu * r + ni * r:nu * r + ni * r + nu]
    bi = th[nu * r + ni * r + nu:]
    return U, V, bu, bi


@program(mk_mf_ids())
def matrix_factorization_id_gathers(xp, sp, th, uid, iid, rating):
    U, V, bu, bi = _mf_unpack(th)
    pred = xp.sum(U[uid] * V[iid], axis=1) + bu[uid] + bi[iid] + 3.0
    return xp.mean((pred - rating) ** 2) + 0.05 * (xp.sum(U ** 2) + xp.sum(V ** 2))


@program(mk_mf_ids())
def mf_sgd_step_add_at(xp, sp, th, uid, iid, rating):
    # one manual gradient step with np.add.at scatter, then the loss after it
    U, V, bu, bi = _mf_unpack(th)
    err = xp.sum(U[uid] * V[iid], axis=1) + bu[uid] + bi[iid] + 3.0 - rating
    gU = xp.zeros_like(U)
    gV = xp.zeros_like(V)
    xp.add.at(gU, uid, err[:, None] * V[iid])
    xp.add.at(gV, iid, err[:, None] * U[uid])
    gbu = xp.bincount(uid, weights=err, minlength=4)
    gbi = xp.bincount(iid, weights=err, minlength=5)
    lr = 0.1
    U2, V2 = U - lr * gU, V - lr * gV
    bu2, bi2 = bu - lr * gbu, bi - lr * gbi
    pred = xp.sum(U2[uid] * V2[iid], axis=1) + bu2[uid] + bi2[iid] + 3.0
    return xp.mean((pred - rating) ** 2)


def mk_tok(V=7, d=3, T=6, C=4):
    def make(rng):
        th = 0.4 * rng.standard_normal(V * d + d * C)
        toks = rng.integers(0, V, (3, T))
        labels = rng.integers(0, C, 3)
        return th, (toks, labels)
    return make


@program(mk_tok())
def embedding_bag_softmax_classifier(xp, sp, th, toks, labels):
    E = th[:21].reshape(7, 3)
    W = th[21:].reshape(3, 4)
    h = E[toks].mean(axis=1)                 # (B, d)
    logits = xp.tanh(h) @ W
    logp = logits - sp.special.logsumexp(logits, axis=1, keepdims=True)
    return -xp.take_along_axis(logp, labels[:, None], axis=1).mean()


@program(mk_tok())
def next_token_lm_take(xp, sp, th, toks, labels):
    E = th[:21].reshape(7, 3)
    W = th[21:].reshape(3, 4)
    Wout = xp.concatenate([W, W[:, :3] * 0.5], axis=1)     # (3, 7) tied-ish output
    h = xp.take(E, toks[:, :-1], axis=0)                     # (B, T-1, d)
    logits = h @ Wout
    m = logits.max(axis=-1, keepdims=True)
    logp = logits - m - xp.log(xp.exp(logits - m).sum(axis=-1, keepdims=True))
    tgt = toks[:, 1:]
    B, T1 = tgt.shape
    nll = -logp[np.arange(B)[:, None], np.arange(T1)[None, :], tgt]
    return nll.mean()


@program(mk_tok())
def word2vec_negative_sampling(xp, sp, th, toks, labels):
    E = th[:21].reshape(7, 3)
    C = xp.concatenate([th[21:].reshape(3, 4).T, th[21:27].reshape(2, 3)])   # (6, 3) ctx
    center, ctx = toks[:, 0] % 7, toks[:, 1] % 6
    neg = toks[:, 2:5] % 6
    pos = sp.special.log_expit(xp.sum(E[center] * C[ctx], axis=1))
    negs = sp.special.log_expit(-xp.einsum("bd,bkd->bk", E[center], C[neg]))
    return -(pos.sum() + negs.sum())


# ================================================================ time series
def mk_hw(T=16, m=4):
    def make(rng):
        t = np.arange(T)
        y = 10 + 0.3 * t + 2 * np.sin(2 * np.pi * t / m) + 0.3 * rng.standard_normal(T)
        th = np.array([0.0, -1.0, -0.5]) + 0.1 * rng.standard_normal(3)
        return th, (y,)
    return make


@program(mk_hw())
def holt_winters_additive_lists(xp, sp, th, y):
    alpha, beta, gamma = sp.special.expit(th)
    m = 4
    level, trend = y[:m].mean(), (y[m:2 * m].mean() - y[:m].mean()) / m
    season = list(y[:m] - y[:m].mean())
    sse = 0.0
    for t in range(m, len(y)):
        s = season[t - m]
        fc = level + trend + s
        sse = sse + (y[t] - fc) ** 2
        new_level = alpha * (y[t] - s) + (1 - alpha) * (level + trend)
        trend = beta * (new_level - level) + (1 - beta) * trend
        season.append(gamma * (y[t] - new_level) + (1 - gamma) * s)
        level = new_level
    return sse


@program(mk_hw())
def holt_linear_inplace_arrays(xp, sp, th, y):
    a, b = sp.special.expit(th[0]), sp.special.expit(th[1])
    n = len(y)
    L = xp.zeros(n) + 0.0 * th[0]
    B = xp.zeros(n) + 0.0 * th[0]
    L[0], B[0] = y[0], y[1] - y[0]
    for t in range(1, n):
        L[t] = a * y[t] + (1 - a) * (L[t - 1] + B[t - 1])
        B[t] = b * (L[t] - L[t - 1]) + (1 - b) * B[t - 1]
    fc = L[:-1] + B[:-1]
    return xp.mean(xp.abs(y[1:] - fc) / y[1:]) * 100 + xp.exp(th[2]) * 0.0 + xp.sum((fc - y[1:]) ** 2)


@program(mk_hw(), kink=True)
def arima_css_residual_loop(xp, sp, th, y):
    phi, theta = xp.tanh(th[0]), xp.tanh(th[1])
    dy = xp.diff(y)
    e = [dy[0] * 0.0]
    for t in range(1, len(dy)):
        e.append(dy[t] - 0.3 - phi * dy[t - 1] - theta * e[-1])
    e = xp.array(e)
    return xp.sum(e ** 2) + xp.sum(xp.abs(e[-3:]))


# ================================================================ portfolio / losses
def mk_pf(n=5):
    def make(rng):
        M = rng.standard_normal((n, n))
        S = M @ M.T / n + 0.1 * np.eye(n)
        mu = 0.1 * rng.standard_normal(n)
        w = np.full(n, 1.0 / n) + 0.2 * rng.standard_normal(n)
        return w, (S, mu)
    return make


@program(mk_pf(), kink=True)
def portfolio_cvx_penalties(xp, sp, w, S, mu):
    rho = 50.0
    risk = w @ S @ w
    ret = mu @ w
    pen = rho * (xp.sum(w) - 1) ** 2 + rho * xp.sum(xp.maximum(0, -w) ** 2) \
        + rho * xp.sum(xp.maximum(0, w - 0.4) ** 2)
    turnover = xp.sum(xp.sqrt((w - 0.2) ** 2 + 1e-4))
    return risk - 2.0 * ret + pen + 0.01 * turnover


@program(mk_pf(6), kink=True)
def portfolio_cvar_sorted_tail(xp, sp, w, S, mu):
    scen = (np.linalg.cholesky(S) @ np.random.default_rng(5).standard_normal((6, 40))).T + mu
    losses = -scen @ w
    tail = xp.sort(losses)[-8:]
    return xp.mean(tail) + 10 * (xp.sum(w) - 1) ** 2


def mk_qr(n=20, p=3, taus=(0.1, 0.5, 0.9)):
    def make(rng):
        X = rng.standard_normal((n, p))
        y = X @ rng.standard_normal(p) + rng.standard_normal(n)
        th = 0.5 * rng.standard_normal(p * len(taus))
        return th, (X, y)
    return make


@program(mk_qr(), kink=True)
def multi_quantile_pinball_where(xp, sp, th, X, y):
    taus = np.array([0.1, 0.5, 0.9])
    B = th.reshape(3, -1).T             # (p, 3)
    r = y[:, None] - X @ B
    loss = xp.where(r >= 0, taus * r, (taus - 1) * r)
    cross = xp.maximum(0, (X @ B)[:, :-1] - (X @ B)[:, 1:])     # quantile crossing
    return loss.mean(axis=0).sum() + xp.sum(cross ** 2)


@program(mk_qr(), kink=True)
def huber_clip_and_tukey(xp, sp, th, X, y):
    r = y - X @ th[:3]
    c = 1.0
    hub = 0.5 * xp.clip(r, -c, c) ** 2 + c * (xp.abs(r) - xp.clip(xp.abs(r), None, c))
    r2 = y - X @ th[3:6]
    k = 2.5
    tuk = xp.where(xp.abs(r2) < k, k ** 2 / 6 * (1 - (1 - (r2 / k) ** 2) ** 3), k ** 2 / 6)
    lc = xp.sum(xp.log(xp.cosh(y - X @ th[6:])))
    return xp.sum(hub) + xp.sum(tuk) + lc


# ================================================================ GP / Mahalanobis
def mk_gpp(n=7, m=4):
    def make(rng):
        X = np.sort(rng.uniform(-2, 2, n))
        y = np.sin(X) + 0.1 * rng.standard_normal(n)
        Xs = np.linspace(-2.5, 2.5, m)
        th = np.array([np.log(0.8), np.log(1.0), np.log(0.1)]) + 0.05 * rng.standard_normal(3)
        return th, (X, y, Xs)
    return make


@program(mk_gpp())
def gp_predict_cho_factor(xp, sp, th, X, y, Xs):
    ell, sf, sn = xp.exp(th[0]), xp.exp(th[1]), xp.exp(th[2])
    k = lambda a, b: sf ** 2 * xp.exp(-0.5 * (a[:, None] - b[None, :]) ** 2 / ell ** 2)
    K = k(X, X) + sn ** 2 * np.eye(len(X))
    cf = sp.linalg.cho_factor(K, lower=True)
    alpha = sp.linalg.cho_solve(cf, y)
    Ks = k(Xs, X)
    mean = Ks @ alpha
    v = sp.linalg.cho_solve(cf, Ks.T)
    var = sf ** 2 - xp.sum(Ks * v.T, axis=1)
    return xp.concatenate([mean, var])


@program(mk_gpp())
def gp_predict_cholesky_solve_triangular(xp, sp, th, X, y, Xs):
    ell, sf, sn = xp.exp(th[0]), xp.exp(th[1]), xp.exp(th[2])
    d2 = (X[:, None] - X[None, :]) ** 2
    K = sf ** 2 * xp.exp(-0.5 * d2 / ell ** 2)
    K[np.diag_indices_from(K)] += sn ** 2
    L = xp.linalg.cholesky(K)
    a = sp.linalg.solve_triangular(L.T, sp.linalg.solve_triangular(L, y, lower=True))
    Ks = sf ** 2 * xp.exp(-0.5 * (Xs[:, None] - X[None, :]) ** 2 / ell ** 2)
    V = sp.linalg.solve_triangular(L, Ks.T, lower=True)
    mean, var = Ks @ a, sf ** 2 - xp.sum(V ** 2, axis=0)
    nlpd = 0.5 * xp.sum((mean - xp.sin(Xs)) ** 2 / var + xp.log(var))
    return nlpd


def mk_maha(n=10, d=3):
    def make(rng):
        X = rng.standard_normal((n, d))
        th = 0.3 * rng.standard_normal(d + d * (d + 1) // 2)
        th[d:] += np.array([1.0, 0.0, 1.0, 0.0, 0.0, 1.0])[:d * (d + 1) // 2]
        return th, (X,)
    return make


@program(mk_maha())
def mahalanobis_solve_triangular(xp, sp, th, X):
    d = X.shape[1]
    mu = th[:d]
    A = xp.zeros((d, d)) + 0.0 * th[0]
    A[np.tril_indices(d)] = th[d:]
    S = A @ A.T + 0.5 * np.eye(d)
    L = sp.linalg.cholesky(S, lower=True)
    Z = sp.linalg.solve_triangular(L, (X - mu).T, lower=True)
    return xp.sqrt(xp.sum(Z ** 2, axis=0))


@program(mk_maha())
def mvn_logpdf_vs_manual(xp, sp, th, X):
    d = X.shape[1]
    mu = th[:d]
    A = xp.zeros((d, d)) + 0.0 * th[0]
    A[np.tril_indices(d)] = th[d:]
    S = A @ A.T + 0.5 * np.eye(d)
    lp = sp.stats.multivariate_normal.logpdf(X, mu, S)
    sign, logdet = xp.linalg.slogdet(S)
    Z = xp.linalg.solve(S, (X - mu).T)
    manual = -0.5 * (xp.sum((X - mu).T * Z, axis=0) + logdet + d * np.log(2 * np.pi))
    return xp.concatenate([lp, lp - manual])


# ================================================================ optimal transport
def mk_ot(n=4, m=5):
    def make(rng):
        x = rng.standard_normal((n, 2))
        y = rng.standard_normal((m, 2)) + 0.5
        a = np.full(n, 1.0 / n)
        b = rng.dirichlet(np.ones(m))
        return x.ravel(), (y, a, b)
    return make


@program(mk_ot())
def sinkhorn_log_domain(xp, sp, xs, y, a, b):
    x = xs.reshape(-1, 2)
    C = xp.sum((x[:, None, :] - y[None, :, :]) ** 2, axis=-1)
    eps = 0.5
    f = xp.zeros(len(a)) + 0.0 * C[:, 0]
    g = xp.zeros(len(b)) + 0.0 * C[0]
    for _ in range(20):
        f = -eps * sp.special.logsumexp((g[None, :] - C) / eps + np.log(b)[None, :], axis=1)
        g = -eps * sp.special.logsumexp((f[:, None] - C) / eps + np.log(a)[:, None], axis=0)
    logP = (f[:, None] + g[None, :] - C) / eps + np.log(a)[:, None] + np.log(b)[None, :]
    P = xp.exp(logP)
    return xp.sum(P * C)


@program(mk_ot())
def sinkhorn_kernel_scaling_entropy(xp, sp, xs, y, a, b):
    x = xs.reshape(-1, 2)
    C = ((x[:, None, :] - y[None, :, :]) ** 2).sum(-1)
    K = xp.exp(-C / 1.0)
    u = xp.ones_like(a) + 0.0 * K[:, 0]
    for _ in range(25):
        v = b / (K.T @ u)
        u = a / (K @ v)
    P = u[:, None] * K * v[None, :]
    return xp.sum(P * C) + xp.sum(sp.special.entr(P))


# ================================================================ attention / norms
def mk_att(T=5, d=4):
    def make(rng):
        th = 0.4 * rng.standard_normal(3 * d * d)
        X = rng.standard_normal((T, d))
        lengths = np.array([T])
        return th, (X,)
    return make


@program(mk_att())
def causal_attention_where_neg_inf(xp, sp, th, X):
    T, d = X.shape
    Wq, Wk, Wv = th.reshape(3, d, d)
    Q, K, V = X @ Wq, X @ Wk, X @ Wv
    s = Q @ K.T / np.sqrt(d)
    mask = np.tril(np.ones((T, T), dtype=bool))
    s = xp.where(mask, s, -np.inf)
    s = s - s.max(axis=-1, keepdims=True)
    p = xp.exp(s)
    p = p / p.sum(axis=-1, keepdims=True)
    return p @ V


@program(mk_att())
def causal_attention_inplace_fill_softmax(xp, sp, th, X):
    T, d = X.shape
    Wq, Wk, Wv = th.reshape(3, d, d)
    s = (X @ Wq) @ (X @ Wk).T / np.sqrt(d)
    s[np.triu_indices(T, k=1)] = -np.inf
    p = sp.special.softmax(s, axis=1)
    return xp.sum(p * (X @ Wv)[None, :, 0], axis=1)


def mk_padatt(B=3, T=4, d=3):
    def make(rng):
        th = 0.5 * rng.standard_normal(2 * d * d)
        X = rng.standard_normal((B, T, d))
        lengths = np.array([4, 2, 3])
        return th, (X, lengths)
    return make


@program(mk_padatt())
def padded_batch_attention_lengths(xp, sp, th, X, lengths):
    B, T, d = X.shape
    Wq, Wk = th.reshape(2, d, d)
    s = xp.einsum("btd,de,bse->bts", X, Wq @ Wk.T, X) / np.sqrt(d)
    keymask = np.arange(T)[None, :] < lengths[:, None]          # (B, T)
    s = xp.where(keymask[:, None, :], s, -1e9)
    p = sp.special.softmax(s, axis=-1)
    out = p @ X
    qmask = keymask[..., None]
    return xp.sum(out * qmask, axis=1) / lengths[:, None]


def mk_bn(B=6, d=3):
    def make(rng):
        th = np.concatenate([1 + 0.1 * rng.standard_normal(d), 0.1 * rng.standard_normal(d),
                             0.5 * rng.standard_normal(d * d)])
        X = rng.standard_normal((B, d)) * 2 + 1
        return th, (X,)
    return make


@program(mk_bn())
def batch_norm_running_stats_rebind(xp, sp, th, X):
    d = X.shape[1]
    gamma, beta, W = th[:d], th[d:2 * d], th[2 * d:].reshape(d, d)
    state = {"mean": np.zeros(d), "var": np.ones(d)}
    h = X
    outs = []
    for step in range(3):
        h = X @ W + step
        mu = h.mean(axis=0)
        var = h.var(axis=0)
        state["mean"] = 0.9 * state["mean"] + 0.1 * mu
        state["var"] = 0.9 * state["var"] + 0.1 * var * len(X) / (len(X) - 1)
        outs.append(gamma * (h - mu) / xp.sqrt(var + 1e-5) + beta)
    infer = gamma * (h - state["mean"]) / xp.sqrt(state["var"] + 1e-5) + beta
    return xp.concatenate([outs[-1].ravel(), infer.ravel(), state["mean"], state["var"]])


@program(mk_bn())
def batch_norm_running_stats_inplace(xp, sp, th, X):
    # running buffers that are NumPy arrays, updated in place with traced statistics
    d = X.shape[1]
    gamma, beta, W = th[:d], th[d:2 * d], th[2 * d:].reshape(d, d)
    running_mean = np.zeros(d)
    running_var = np.ones(d)
    h = X @ W
    mu, var = h.mean(axis=0), h.var(axis=0)
    running_mean *= 0.9
    running_mean += 0.1 * mu
    running_var *= 0.9
    running_var += 0.1 * var
    return xp.sum(gamma * (h - running_mean) / xp.sqrt(running_var + 1e-5) + beta)


@program(mk_bn())
def batch_norm_zeros_like_state_inplace(xp, sp, th, X):
    d = X.shape[1]
    gamma, beta, W = th[:d], th[d:2 * d], th[2 * d:].reshape(d, d)
    h = X @ W
    running_mean = xp.zeros_like(gamma)
    running_var = xp.ones_like(gamma)
    for _ in range(3):
        mu, var = h.mean(axis=0), h.var(axis=0, ddof=1)
        running_mean *= 0.9
        running_mean += 0.1 * mu
        running_var *= 0.9
        running_var += 0.1 * var
        h = xp.tanh(gamma * (h - mu) / xp.sqrt(var + 1e-5) + beta)
    return xp.concatenate([h[0], running_mean, running_var])


@program(mk_bn())
def layer_norm_gelu_erf(xp, sp, th, X):
    d = X.shape[1]
    gamma, beta, W = th[:d], th[d:2 * d], th[2 * d:].reshape(d, d)
    h = X @ W
    mu = h.mean(-1, keepdims=True)
    sd = xp.sqrt(((h - mu) ** 2).mean(-1, keepdims=True) + 1e-5)
    z = gamma * (h - mu) / sd + beta
    return 0.5 * z * (1 + sp.special.erf(z / np.sqrt(2)))


@program(mk_bn(B=4, d=4))
def group_norm_reshape(xp, sp, th, X):
    d = X.shape[1]
    W = th[2 * d:].reshape(d, d)
    h = (X @ W).reshape(4, 2, 2)
    mu = h.mean(axis=2, keepdims=True)
    var = h.var(axis=2, keepdims=True)
    h = ((h - mu) / xp.sqrt(var + 0.1)).reshape(4, 4)
    return h * th[:d] + th[d:2 * d]


# ================================================================ histograms / interp / poly
@program(mk_vec(12, data=lambda rng: (rng.standard_normal(30),)), kink=True)
def histogram_features_mixed(xp, sp, x, data):
    edges = np.linspace(-3, 3, 7)
    counts, _ = xp.histogram(x, bins=edges)          # no derivative
    hd, _ = xp.histogram(data, bins=edges, weights=xp.exp(0.1 * x.mean()) * np.ones(30))
    centers = 0.5 * (edges[1:] + edges[:-1])
    return xp.sum(counts * centers) * xp.sum(x ** 2) + xp.sum(hd * centers)


@program(mk_vec(10, data=lambda rng: (rng.standard_normal(10),)), kink=True)
def histogram_weighted_soft(xp, sp, x, data):
    edges = np.linspace(-2.5, 2.5, 6)
    h, _ = xp.histogram(data, bins=edges, weights=x ** 2)    # derivative through weights
    idx = xp.digitize(x, edges)
    slope = np.linspace(0.5, 1.5, 7)
    return xp.sum(h * xp.arange(5)) + xp.sum(slope[idx] * x)


@program(mk_vec(8, data=lambda rng: (np.sort(rng.uniform(0, 1, 8)),)))
def polyfit_polyval_smoothing(xp, sp, y, t):
    c = xp.polyfit(t, y, 3)
    tt = np.linspace(0, 1, 12)
    fit = xp.polyval(c, tt)
    return xp.concatenate([fit, c])


@program(mk_vec(4))
def polyval_coeffs_and_polyder(xp, sp, c):
    t = np.linspace(-1, 1, 9)
    p = xp.polyval(c, t)
    dp = xp.polyval(xp.polyder(c), t)
    integ = xp.polyval(xp.polyint(c), 1.0) - xp.polyval(xp.polyint(c), -1.0)
    return xp.sum((p - np.cos(t)) ** 2) + 0.1 * xp.sum(dp ** 2) + integ


@program(mk_vec(6, data=lambda rng: (rng.uniform(0, 5, 10),)), kink=True)
def interp_values_and_queries(xp, sp, fp, xq):
    grid = np.linspace(0, 5, 6)
    vals = xp.interp(xq, grid, fp)                         # derivative in fp
    q = 2.5 + xp.tanh(fp[:3])                              # derivative in the query
    vals2 = xp.interp(q, grid, np.sin(grid))
    return xp.concatenate([vals, vals2])


@program(mk_vec(10, shift=1.0))
def cumulative_trapezoid_manual(xp, sp, y):
    t = np.linspace(0, 2, 10)
    dt = xp.diff(t)
    cum = xp.concatenate([[0.0], xp.cumsum(0.5 * dt * (y[1:] + y[:-1]))])
    tot = xp.trapezoid(y ** 2, t)
    return xp.concatenate([cum, [tot]])


# ================================================================ complex-valued programs
def mk_qc(n=3):
    def make(rng):
        def herm():
            M = rng.standard_normal((n, n)) + 1j * rng.standard_normal((n, n))
            return (M + M.conj().T) / 2
        H0, H1, H2 = herm(), herm(), herm()
        psi0 = np.zeros(n, complex); psi0[0] = 1
        tgt = rng.standard_normal(n) + 1j * rng.standard_normal(n)
        tgt /= np.linalg.norm(tgt)
        u = 0.3 * rng.standard_normal(4)
        return u, (H0, H1, H2, psi0, tgt)
    return make


@program(mk_qc())
def unitary_expm_fidelity(xp, sp, u, H0, H1, H2, psi0, tgt):
    psi = psi0
    for k in range(2):
        H = H0 + u[2 * k] * H1 + u[2 * k + 1] * H2
        U = sp.linalg.expm(-1j * H * 0.5)
        psi = U @ psi
    return xp.abs(xp.vdot(tgt, psi)) ** 2


@program(mk_qc())
def unitary_eigh_evolution(xp, sp, u, H0, H1, H2, psi0, tgt):
    H = H0 + u[0] * H1 + u[1] * H2
    w, V = xp.linalg.eigh(H)
    t = 1.0 + u[2] ** 2
    U = (V * xp.exp(-1j * w * t)) @ V.conj().T
    psi = U @ psi0
    rho = xp.outer(psi, psi.conj())
    return xp.real(xp.trace(rho @ H1)) + xp.abs(tgt.conj() @ psi) ** 2


@program(mk_vec(16, data=lambda rng: (rng.standard_normal(16),)))
def fft_lowpass_filter_loss(xp, sp, x, target):
    X = xp.fft.fft(x)
    freqs = xp.fft.fftfreq(len(x))
    H = (np.abs(freqs) < 0.2).astype(float)
    y = xp.fft.ifft(X * H).real
    return xp.sum((y - target) ** 2)


@program(mk_vec(16, data=lambda rng: (rng.standard_normal(16),)))
def fft_lowpass_inplace_zero(xp, sp, x, target):
    X = xp.fft.rfft(x)
    X[4:] = 0
    y = xp.fft.irfft(X, n=len(x))
    return xp.mean((y - target) ** 2) + xp.sum(xp.abs(X[1:4]))


def mk_pr(n=8):
    def make(rng):
        z = rng.standard_normal(n) + 1j * rng.standard_normal(n)
        meas = np.abs(np.fft.fft(z)) ** 2
        th = np.concatenate([z.real, z.imag]) + 0.3 * rng.standard_normal(2 * n)
        return th, (meas,)
    return make


@program(mk_pr())
def phase_retrieval_intensity(xp, sp, th, meas):
    n = len(meas)
    z = th[:n] + 1j * th[n:]
    F = xp.fft.fft(z)
    return xp.sum((xp.abs(F) ** 2 - meas) ** 2) / n


@program(mk_pr())
def phase_retrieval_amplitude_complex_ops(xp, sp, th, meas):
    n = len(meas)
    z = xp.zeros(n, dtype=complex) + th[:n]
    z.imag = th[n:]
    F = xp.fft.fft(z, norm="ortho")
    amp = xp.sqrt(meas / n)
    proj = amp * xp.exp(1j * xp.angle(F))
    return xp.sum(xp.abs(F - proj) ** 2) + 0.01 * xp.real(xp.vdot(z, z))


@program(mk_vec(8, data=lambda rng: (rng.standard_normal(8),)))
def circular_conv_rfft_deconv(xp, sp, k, sig):
    Y = xp.fft.irfft(xp.fft.rfft(sig) * xp.fft.rfft(k), n=8)
    return xp.sum((Y - xp.roll(sig, 1)) ** 2) + 0.1 * xp.sum(k ** 2)


# ================================================================ misc realistic
@program(mk_vec(6, scale=0.5))
def ising_logpartition_enumeration(xp, sp, th):
    import itertools
    n = 4
    states = np.array(list(itertools.product([-1, 1], repeat=n)), float)
    J = xp.zeros((n, n)) + 0.0 * th[0]
    J[np.triu_indices(n, 1)] = th
    E = xp.einsum("si,ij,sj->s", states, J, states)
    logZ = sp.special.logsumexp(E)
    p = xp.exp(E - logZ)
    corr = xp.einsum("s,si,sj->ij", p, states, states)
    return xp.concatenate([[logZ], corr[np.triu_indices(n, 1)]])


def mk_gn(n=12):
    def make(rng):
        t = np.linspace(0, 3, n)
        y = 2.0 * np.exp(-0.7 * t) + 0.05 * rng.standard_normal(n)
        th = np.array([1.8, 0.6]) + 0.05 * rng.standard_normal(2)
        return th, (t, y)
    return make


@program(mk_gn())
def gauss_newton_step_lstsq(xp, sp, th, t, y):
    a, k = th[0], th[1]
    r = a * xp.exp(-k * t) - y
    J = xp.stack([xp.exp(-k * t), -a * t * xp.exp(-k * t)], axis=1)
    step = xp.linalg.lstsq(J, -r, rcond=None)[0]
    th2 = th + step
    r2 = th2[0] * xp.exp(-th2[1] * t) - y
    return xp.concatenate([th2, [xp.sum(r2 ** 2)]])


@program(mk_vec(8, shift=0.5), kink=True)
def topk_softmax_argsort_mask(xp, sp, x):
    idx = xp.argsort(x)[-3:]
    mask = np.zeros(len(x), bool)
    mask[idx] = True
    z = xp.where(mask, x, -np.inf)
    p = sp.special.softmax(z)
    return p * xp.arange(len(x))


@program(mk_vec(10, shift=0.0))
def spline_smoothing_diff2(xp, sp, f):
    y = np.sin(np.linspace(0, 3, 10))
    return xp.sum((f - y) ** 2) + 5.0 * xp.sum(xp.diff(f, n=2) ** 2) + xp.sum(xp.ediff1d(f) ** 4)



@program(mk_vec(10, shift=1.0))
def scipy_cumulative_trapezoid(xp, sp, y):
    import scipy.integrate
    return scipy.integrate.cumulative_trapezoid(y ** 2, dx=0.1)


PROGS = {p["name"]: p for p in PROGRAMS}
# documented limitations: clear errors under every transformation, never a number
LIMITS = {
    # NumPy buffers updated in place with traced statistics (running_mean += 0.1 * mu)
    "batch_norm_running_stats_inplace": (TracerConversionError, "written into a NumPy array"),
    # SciPy's own function on a traced value (chainrule has no scipy.integrate version):
    # write it with cnp.cumsum (cumulative_trapezoid_manual) or cnp.trapezoid
    "scipy_cumulative_trapezoid": (TracerConversionError, "cumulative_trapezoid"),
}
# a norm at an exact zero (the pairwise diagonal, overwritten by fill_diagonal): its
# Hessian is nan by design (docs/transformations.md, "Safe derivatives"); see the test
NAN_HESSIAN = {"coulomb_fill_diagonal_cutoff"}
CHECKED = [n for n in PROGS if n not in LIMITS and n not in NAN_HESSIAN]
# vmap raises: a boolean-mask read (x[m] with a batched m), np.histogram of a batched
# value, a NumPy array indexed with an integer array computed from a batched value
NO_VMAP = {"ray_sphere_masked_assign": ConcretizationError,
           "histogram_features_mixed": ConcretizationError,
           "histogram_weighted_soft": ConcretizationError,
           "topk_softmax_argsort_mask": ConcretizationError}
# (a NumPy array indexed with, or written at, a traced integer array under jit:
# slope[np.digitize(x, edges)], mask[np.argsort(x)[-3:]] = True: NumPy reads the
# indices, a guard, as eagerly; it raised TracerConversionError)


@pytest.mark.parametrize("name", CHECKED)
def test_realistic_program(name):
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        check_realistic(PROGS[name], seed=0, no_vmap=NO_VMAP)


@pytest.mark.parametrize("name", sorted(LIMITS))
def test_documented_limitations_raise_clearly(name):
    p = PROGS[name]
    x, data = p["make"](np.random.default_rng(0))
    exc, words = LIMITS[name]
    with pytest.raises(exc, match=words):
        cr.grad(lambda x: cnp.sum(p["f"](cnp, csp, x, *data)))(x)


def test_norm_at_zero_hessian_is_nan_not_a_number():
    """Pairwise distances by np.linalg.norm include the zero diagonal; fill_diagonal
    overwrites it. The gradient is exact; the Hessian through a norm at 0 is nan by
    design (never a finite guess), and the sqrt(sum + eye) spelling is exact."""
    p = PROGS["coulomb_fill_diagonal_cutoff"]
    x, data = p["make"](np.random.default_rng(0))
    f = lambda x: p["f"](cnp, csp, x, *data)
    fn = lambda x: p["f"](np, scipy, x.copy(), *data)
    u = np.random.default_rng(1).standard_normal(x.shape)
    h = 1e-6
    want = (fn(x + h * u) - fn(x - h * u)) / (2 * h)
    assert abs(float(cr.grad(f)(x) @ u) - want) <= 1e-6 * abs(want)
    with np.errstate(all="ignore"):
        assert np.all(np.isnan(cr.hvp(f, (x,), (u,))))
    check_realistic(PROGS["coulomb_sqrt_eye_fill_diagonal"], 0, no_vmap=NO_VMAP)


def test_writing_inf_into_traced_array_has_zero_derivative():
    """s[mask] = -np.inf (masked attention scores): the written positions are constants,
    their tangent and cotangent 0. The derivative of the write multiplied the constant
    by 0.0 (0 * inf = nan): jvp, jacfwd, jacrev and hvp were nan (grad too, through an
    integer-array index)."""
    def scores(x):
        s = cnp.outer(x, x)
        s[np.triu_indices(3, k=1)] = -np.inf
        return s

    def att(x):
        return csp.special.softmax(scores(x), axis=1)[:, 0]

    def ref(x):
        s = np.outer(x, x)
        return scipy.special.softmax(np.where(np.tril(np.ones((3, 3), bool)), s, -np.inf),
                                     axis=1)[:, 0]

    x = np.array([0.5, -0.3, 0.8])
    u = np.array([1.0, 0.5, -2.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        _, t = cr.jvp(scores, (x,), (u,))
        np.testing.assert_array_equal(t, np.where(np.tril(np.ones((3, 3), bool)),
                                                  np.outer(u, x) + np.outer(x, u), 0.0))
        J = np.array([(ref(x + 1e-6 * e) - ref(x - 1e-6 * e)) / 2e-6 for e in np.eye(3)]).T
        for jac in (cr.jacfwd(att)(x), cr.jacrev(att)(x), cr.jit(cr.jacrev(att))(x)):
            np.testing.assert_allclose(jac, J, rtol=1e-6, atol=1e-9)
        for idx in (np.triu(np.ones((3, 3), bool), 1), (0, slice(1, None)), (0, 1)):
            for val in (-np.inf, np.nan):
                def h(x):
                    s = cnp.outer(x, x)
                    s[idx] = val
                    return cnp.sum(cnp.where(cnp.isfinite(s), s, 0.0))
                gw = cr.grad(h)(x)
                assert np.all(np.isfinite(gw)) and np.all(np.isfinite(cr.jvp(h, (x,), (u,))[1]))
                assert np.all(np.isfinite(cr.hvp(h, (x,), (u,))))
        # a constant buffer holding inf, then a traced write: the tangent elsewhere is 0
        def buf(x):
            b = cnp.at(np.full(4, np.inf))[1:3].set(x[:2] ** 2)
            return b
        _, t = cr.jvp(buf, (x,), (u,))
        np.testing.assert_array_equal(t, [0.0, 2 * x[0] * u[0], 2 * x[1] * u[1], 0.0])


@pytest.mark.parametrize("fn,name", [(csp.special.ndtr, "ndtr"), (csp.special.erf, "erf"),
                                     (csp.special.erfc, "erfc"),
                                     (csp.special.log_ndtr, "log_ndtr")])
def test_gaussian_cdf_derivatives_at_infinity_are_zero(fn, name):
    """norm.cdf(inf - eta): every derivative is 0 (the limit), not 0 * inf = nan. An
    ordinal probit's Hessian with cut points padded by -inf/+inf was nan."""
    signs = (np.inf,) if name == "log_ndtr" else (np.inf, -np.inf)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        for x0 in signs:
            for dt in (np.float64, np.float32):
                x = dt(x0)
                d2 = cr.grad(cr.grad(fn))(x)
                d3 = cr.jacfwd(cr.grad(cr.grad(fn)))(x)
                assert d2 == 0 and d3 == 0 and np.asarray(d2).dtype == dt
        # finite points unchanged: against the closed forms
        z = np.array([-3.0, -0.4, 0.7, 2.5])
        d2 = cr.vmap(cr.grad(cr.grad(fn)))(z)
        phi = np.exp(-0.5 * z * z) / np.sqrt(2 * np.pi)
        want = {"ndtr": -z * phi, "erf": -4 * z / np.sqrt(np.pi) * np.exp(-z * z),
                "erfc": 4 * z / np.sqrt(np.pi) * np.exp(-z * z)}.get(name)
        if name == "log_ndtr":
            m = phi / scipy.special.ndtr(z)
            want = -m * (z + m)
        np.testing.assert_allclose(d2, want, rtol=1e-12)
    # the ordinal program's Hessian against differences of its gradient
    p = PROGS["ordinal_probit_cutpoints"]
    x, data = p["make"](np.random.default_rng(0))
    f = lambda x: p["f"](cnp, csp, x, *data)
    H = cr.hessian(f)(x)
    g = cr.grad(f)
    fdH = np.array([(g(x + 1e-5 * e) - g(x - 1e-5 * e)) / 2e-5 for e in np.eye(len(x))])
    np.testing.assert_allclose(H, fdH, rtol=1e-5, atol=1e-7)
