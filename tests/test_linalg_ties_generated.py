"""Generated losses at planted repeated eigenvalues and singular values (issue 10).

Random matrices with planted ties (ties at 0 among them, diagonal and permuted bases as
well as random ones) and random losses that do not depend on the choice of basis,
built from the decomposition's factors: ``sum(C * V g(w) V^T)`` terms (g vanishing at a
planted value half the time: the case whose coupling a zero cotangent hides), plus
``sum(f(w))``; the same for svd (``U g(s) Vh``, g odd) and eig (``V g(w) V^-1``, a
well-conditioned basis). Such a loss is a smooth function of the matrix, so central
finite differences of NumPy's program are its derivative (along symmetric directions
for eigh, the convention of its gradient).

Every case must be exact or refused, in reverse mode (exact or NotImplementedError)
and in forward mode (exact or NaN): never a finite wrong number. The same losses
written as matrix functions (``chainrule.scipy.linalg.funm``; for svd ``A @ funm(A^T A,
h)``) must be exact in both modes.
"""
import collections

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
import chainrule.scipy.linalg as csl
import scipy.linalg as sl

G = {   # elementwise g for module m
    "id": lambda m, x: x, "cube": lambda m, x: x ** 3, "sin": lambda m, x: m.sin(x),
    "sq": lambda m, x: x * x, "exp": lambda m, x: m.exp(x), "tanh": lambda m, x: m.tanh(x),
    "xexp": lambda m, x: x * m.exp(x),
}
# odd g for svd, with h(x) = g(sqrt(x)) / sqrt(x) smooth at 0 (U g(s) Vh = A h(A^T A))
ODD = {"id": (lambda m, s: s, lambda m, x: 1.0 + 0.0 * x),
       "cube": (lambda m, s: s ** 3, lambda m, x: x),
       "sexp2": (lambda m, s: s * m.exp(s * s), lambda m, x: m.exp(x))}


def _funm(m, a, f):
    """chainrule's funm, or SciPy's (quietly: near a tie it prints a warning)."""
    return csl.funm(a, f) if m is cnp else sl.funm(a, f, disp=False)[0]


def _coefficients(rng, shape):
    """A random weight matrix, or a structured 0/1 symmetric one (whose diagonal in a
    diagonal matrix's eigenbasis can be equal across a tie: the hardest case)."""
    if rng.random() < 0.6:
        return rng.standard_normal(shape)
    c = np.where(rng.random(shape) < 0.5, 1.0, 0.0)
    return 0.5 * (c + c.T) if shape[0] == shape[1] else c


def _basis(rng, n):
    kind = rng.integers(3)
    if kind == 0:
        return np.eye(n)
    if kind == 1:
        return np.eye(n)[rng.permutation(n)]
    return np.linalg.qr(rng.standard_normal((n, n)))[0]


def _planted(rng, n, pool):
    k = int(rng.integers(1, n))             # k distinct values, n - k repeats of them
    vals = list(rng.choice(pool, size=k, replace=False))
    return np.array(sorted(vals + list(rng.choice(vals, size=n - k))))


def eigh_case(rng):
    n = int(rng.integers(2, 6))
    w = _planted(rng, n, [-2.0, -1.0, 0.0, 0.5, 1.0, 3.0])
    q = _basis(rng, n)
    A = (q * w) @ q.T
    A = 0.5 * (A + A.T)
    terms = [(str(rng.choice(list(G))), _coefficients(rng, (n, n)),
              float(rng.choice(w)) if rng.random() < 0.5 else 0.0)
             for _ in range(int(rng.integers(1, 3)))]
    fname = str(rng.choice(["none", "exp", "sq"]))

    def through_eigh(m):
        def f(a):
            w, v = m.linalg.eigh(a)
            out = 0.0
            for g, C, s in terms:
                out = out + m.sum(C * ((v * G[g](m, w - s)) @ v.T))
            return out if fname == "none" else out + m.sum(G[fname](m, w))
        return f

    def through_funm(m):
        def f(a):
            out = 0.0
            for g, C, s in terms:
                out = out + m.sum(C * _funm(m, a, lambda x: G[g](m, x - s)))
            if fname != "none":
                out = out + m.sum(G[fname](m, m.linalg.eigvalsh(a)))
            return out
        return f
    return A, through_eigh, through_funm, True


def svd_case(rng):
    r, c = int(rng.integers(2, 5)), int(rng.integers(2, 5))
    p = min(r, c)
    s = _planted(rng, p + 1, [0.0, 0.5, 1.0, 2.0])[1:][::-1]
    if rng.random() < 0.3:
        u, vh = np.eye(r)[:, :p], np.eye(c)[:p]
    else:
        u = np.linalg.qr(rng.standard_normal((r, p)))[0]
        vh = np.linalg.qr(rng.standard_normal((c, p)))[0].T
    A = (u * s) @ vh
    terms = [(str(rng.choice(list(ODD))), rng.standard_normal((r, c)))
             for _ in range(int(rng.integers(1, 3)))]
    sq = rng.random() < 0.5

    def through_svd(m):
        def f(a):
            u, s, vh = m.linalg.svd(a, full_matrices=False)
            out = 0.0
            for g, C in terms:
                out = out + m.sum(C * ((u * ODD[g][0](m, s)) @ vh))
            return out + m.sum(s * s) if sq else out
        return f

    def through_funm(m):
        def f(a):
            out = 0.0
            for g, C in terms:
                out = out + m.sum(C * (a @ _funm(m, a.T @ a, lambda x: ODD[g][1](m, x))))
            return out + m.sum(a * a) if sq else out
        return f
    return A, through_svd, through_funm, False


def eig_case(rng):
    n = int(rng.integers(2, 5))
    w = _planted(rng, n, [-1.0, 0.0, 0.5, 2.0])
    P = np.linalg.qr(rng.standard_normal((n, n)))[0] @ (np.eye(n) + 0.3 * rng.random((n, n)))
    if rng.random() < 0.3:
        P = np.eye(n)
    A = P @ np.diag(w) @ np.linalg.inv(P)
    terms = [(str(rng.choice(list(G))), _coefficients(rng, (n, n)),
              float(rng.choice(w)) if rng.random() < 0.5 else 0.0)
             for _ in range(int(rng.integers(1, 3)))]

    def through_eig(m):
        def f(a):
            w, v = m.linalg.eig(a)
            out = 0.0
            for g, C, s in terms:
                out = out + m.sum(C * ((v * G[g](m, w - s)) @ m.linalg.inv(v)))
            return m.real(out)
        return f
    return A, through_eig, None, "diagonalizable"


def _directions(rng, A, kind):
    out = []
    for _ in range(2):
        E = rng.standard_normal(A.shape)
        if kind is True:                       # eigh: symmetric directions
            E = E + E.T
        out.append(E)
    return out


def classify(A, loss, kind, rng, h=1e-6):
    """('exact' | 'raise' | 'SILENT' | 'nan' in reverse mode, 'exact' | 'nan' | 'SILENT'
    in forward mode) against central differences of NumPy's program."""
    f, f_np = loss(cnp), loss(np)
    dirs = _directions(rng, A, kind)
    fd = [(f_np(A + h * E) - f_np(A - h * E)) / (2 * h) for E in dirs]
    tol = 1e-5 * (1.0 + max(abs(d) for d in fd))
    try:
        g = cr.grad(f)(A)
        if not np.all(np.isfinite(g)):
            rev = "nan"
        else:
            rev = "exact" if all(abs(np.sum(g * E) - d) < tol for E, d in zip(dirs, fd)) \
                else "SILENT"
    except NotImplementedError:
        rev = "raise"
    fwd = set()
    for E, d in zip(dirs, fd):
        t = cr.jvp(f, (A,), (E,))[1]
        fwd.add("nan" if not np.isfinite(t) else ("exact" if abs(t - d) < tol else "SILENT"))
    return rev, ("SILENT" if "SILENT" in fwd else "nan" if "nan" in fwd else "exact")


CASES = {"eigh": (eigh_case, 400), "svd": (svd_case, 300), "eig": (eig_case, 200)}
CHUNKS = 4
COUNTS = collections.defaultdict(collections.Counter)


@pytest.mark.parametrize("chunk", range(CHUNKS))
@pytest.mark.parametrize("name", sorted(CASES))
def test_no_silent_derivative_at_planted_ties(name, chunk):
    make, total = CASES[name]
    rng = np.random.default_rng([2028, chunk, sorted(CASES).index(name)])
    counts = COUNTS[name]
    for i in range(total // CHUNKS):
        A, loss, exact_loss, kind = make(rng)
        rev, fwd = classify(A, loss, kind, rng)
        counts[(rev, fwd)] += 1
        assert rev in ("exact", "raise", "nan") and fwd in ("exact", "nan"), (
            f"{name} case {chunk}:{i}: a silent wrong derivative ({rev}, {fwd}) at\n{A}")
        if exact_loss is not None:
            res = classify(A, exact_loss, kind, rng)
            COUNTS[name + " as funm"][res] += 1
            assert res == ("exact", "exact"), (
                f"{name} case {chunk}:{i}: the matrix-function form is not exact at\n{A}")
    # the losses do reach the refused cases (the rule is not vacuously exact)
    assert counts[("raise", "nan")] > 0, dict(counts)
