"""vmap of the selection functions that read their arguments' values: searchsorted,
digitize, lexsort, choose, piecewise and bincount, against a Python loop over the
examples (``np.stack([f(*ex) for ex], out_axis)``, NumPy's own functions), with random
in_axes/out_axes and every non-empty subset of the array arguments batched; jit of the
vmap against the same loop; and, where the function is differentiable (choose's
choices, piecewise's x, bincount's weights), vmap(grad), grad(vmap), vmap(jacrev),
vmap(jacfwd), jacrev(vmap) and jacfwd(vmap) against the loop of per-example
derivatives, and those against central differences of the NumPy program. The cases
that cannot be batched (bincount whose examples need different lengths) raise.

Before this file, every batched case here raised ConcretizationError (the functions
read their arguments' values through ``concrete``)."""
import itertools
import warnings

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from chainrule._src.interpreters import batching

B = 3


@pytest.fixture
def fallback_used(monkeypatch):
    fresh = set()
    monkeypatch.setattr(batching, "FALLBACK_USED", fresh)
    return fresh


def _subsets(positions):
    return [set(c) for r in range(1, len(positions) + 1)
            for c in itertools.combinations(positions, r)]


def _assert_same(got, want):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, (got.shape, want.shape)
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    np.testing.assert_array_equal(got, want)


def _batched_args(examples, batched, rng):
    """The examples' arguments stacked along a random axis where batched (the first
    example's where not); returns (args, in_axes, per-example args)."""
    args, in_axes = [], []
    for k, a in enumerate(examples[0]):
        if k in batched:
            nd = np.ndim(a)
            ax = int(rng.integers(-nd - 1, nd + 1))
            args.append(np.stack([np.asarray(e[k]) for e in examples], axis=ax))
            in_axes.append(ax)
        else:
            args.append(a)
            in_axes.append(None)
    per = [tuple(e[k] if k in batched else examples[0][k] for k in range(len(args)))
           for e in examples]
    return args, tuple(in_axes), per


def check_vmap(f, examples, batched, rng):
    """vmap(f) and jit(vmap(f)) with random axes == the loop. Returns 1 (a case)."""
    args, in_axes, per = _batched_args(examples, batched, rng)
    outs = [f(*p) for p in per]                     # NumPy's functions (no trace)
    nd = np.ndim(outs[0])
    out_ax = int(rng.integers(-nd - 1, nd + 1))
    want = np.stack(outs, axis=out_ax)
    vf = cr.vmap(f, in_axes=in_axes, out_axes=out_ax)
    _assert_same(vf(*args), want)
    jf = cr.jit(vf)
    _assert_same(jf(*args), want)
    _assert_same(jf(*args), want)                   # the compiled replay
    return 1


def _fd_jacobian(g, args, d, eps=1e-6):
    """Central differences of the NumPy program ``g`` in argument ``d``."""
    x = np.asarray(args[d], dtype=float)
    out = np.asarray(g(*args))
    jac = np.zeros(out.shape + x.shape)
    for i in np.ndindex(*x.shape):
        e = np.zeros_like(x)
        e[i] = eps
        hi = list(args); hi[d] = x + e
        lo = list(args); lo[d] = x - e
        jac[(Ellipsis,) + i] = (np.asarray(g(*hi)) - np.asarray(g(*lo))) / (2 * eps)
    return jac


def check_derivatives(g, examples, batched, d, rng, fd=True):
    """Derivatives in argument ``d`` of ``g`` under vmap against the loop (to
    rounding) and the loop against central differences. Returns the number of checks."""
    args, in_axes, per = _batched_args(examples, batched, rng)
    out0 = np.asarray(g(*per[0]))
    R = rng.standard_normal(out0.shape)

    def loss(*a):
        return cnp.sum(g(*a) * R)

    grads = [cr.grad(loss, argnums=d)(*p) for p in per]
    jrev = [cr.jacrev(g, argnums=d)(*p) for p in per]
    jfwd = [cr.jacfwd(g, argnums=d)(*p) for p in per]
    for p, jr, jf in zip(per, jrev, jfwd):
        np.testing.assert_allclose(jr, jf, rtol=1e-12, atol=1e-12)
        if fd:
            np.testing.assert_allclose(jr, _fd_jacobian(g, p, d), rtol=1e-6, atol=1e-6)
    n = 2
    # vmap of the derivatives: each example's own
    ax_d = in_axes[d]
    out_ax = 0 if ax_d is None else ax_d
    want = np.stack(grads, axis=out_ax)
    got = cr.vmap(cr.grad(loss, argnums=d), in_axes=in_axes, out_axes=out_ax)(*args)
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-13)
    for jac, loop in ((cr.jacrev, jrev), (cr.jacfwd, jfwd)):
        got = cr.vmap(jac(g, argnums=d), in_axes=in_axes)(*args)
        np.testing.assert_allclose(got, np.stack(loop), rtol=1e-13, atol=1e-13)
    n += 3
    # derivatives of the vmap: the sum over the examples' losses
    total = lambda *a: cnp.sum(cr.vmap(loss, in_axes=in_axes)(*a))
    got = cr.grad(total, argnums=d)(*args)
    want = np.sum(grads, axis=0) if ax_d is None else np.stack(grads, axis=ax_d)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    n += 1
    if ax_d is not None:            # jacobians of the vmap: block diagonal
        vg = cr.vmap(g, in_axes=in_axes, out_axes=0)
        for jac, loop in ((cr.jacrev, jrev), (cr.jacfwd, jfwd)):
            J = np.asarray(jac(vg, argnums=d)(*args))
            J = np.moveaxis(J, out0.ndim + 1 + (ax_d % (np.ndim(args[d]))), out0.ndim + 1)
            for i in range(B):
                for j in range(B):
                    block = J[(i,) + (slice(None),) * out0.ndim + (j,)]
                    if i == j:
                        np.testing.assert_allclose(block, loop[i], rtol=1e-12, atol=1e-12)
                    else:
                        assert not np.any(block)
            n += 1
    return n


# ---------------------------------------------------------------- searchsorted

def _sorted_with_ties(rng, n, nan=False):
    a = np.sort(rng.integers(-3, 4, n).astype(float))
    if nan and n:
        a[-1] = np.nan
    return a


@pytest.mark.parametrize("seed", range(6))
def test_searchsorted(seed, fallback_used):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 6)) if seed else 5
    vshape = [(), (4,), (2, 3)][seed % 3]
    nan = seed % 2 == 1
    count = 0
    for side in ("left", "right"):
        examples = []
        for _ in range(B):
            v = rng.integers(-4, 5, vshape).astype(float)
            if nan and v.size:
                v.flat[0] = np.nan
            examples.append((_sorted_with_ties(rng, n, nan), v))
        for batched in _subsets([0, 1]):
            count += check_vmap(lambda a, v: cnp.searchsorted(a, v, side=side),
                                examples, batched, rng)
        # a sorter: a unsorted, its argsort
        ex2 = []
        for a, v in examples:
            a = rng.permutation(a)
            ex2.append((a, v, np.argsort(a, kind="stable")))
        for batched in _subsets([0, 1, 2]):
            if 2 in batched and 0 not in batched:
                continue                            # a sorter of another array
            count += check_vmap(lambda a, v, s: cnp.searchsorted(a, v, side, s),
                                ex2, batched, rng)
    assert count == 2 * (3 + 5)
    assert not fallback_used


def test_searchsorted_unsorted_rows_and_nested_vmap():
    rng = np.random.default_rng(10)
    A = rng.standard_normal((B, 6))                 # not sorted: NumPy's search path
    A[1] = np.sort(A[1])
    V = rng.standard_normal((B, 5))
    want = np.stack([np.searchsorted(a, v) for a, v in zip(A, V)])
    _assert_same(cr.vmap(cnp.searchsorted)(A, V), want)
    A2 = np.sort(rng.standard_normal((2, B, 6)), axis=-1)
    V2 = rng.standard_normal((B, 2, 4))
    want = np.stack([np.stack([np.searchsorted(A2[i, j], V2[j, i]) for j in range(B)])
                     for i in range(2)])
    got = cr.vmap(cr.vmap(cnp.searchsorted, in_axes=(0, 0)), in_axes=(0, 1))(A2, V2)
    _assert_same(got, want)


def test_searchsorted_bad_sorter_raises():
    a = np.array([3.0, 1.0, 2.0])
    S = np.array([[1, 2, 0], [1, 2, 3], [1, 2, 0]])
    with pytest.raises(ValueError, match="Sorter index out of range"):
        cr.vmap(lambda s: cnp.searchsorted(a, 1.5, sorter=s))(S)


# ---------------------------------------------------------------- digitize

def _bins(rng, n, direction):
    b = np.sort(rng.integers(-3, 4, n).astype(float))
    return b if direction > 0 else b[::-1].copy()


@pytest.mark.parametrize("seed", range(6))
def test_digitize(seed, fallback_used):
    rng = np.random.default_rng(100 + seed)
    n = int(rng.integers(0, 6)) if seed else 4
    xshape = [(), (5,), (2, 3)][seed % 3]
    count = 0
    for right in (False, True):
        examples = [(rng.integers(-4, 5, xshape).astype(float),
                     _bins(rng, n, rng.choice([-1, 1]))) for _ in range(B)]
        for batched in _subsets([0, 1]):
            count += check_vmap(lambda x, b: cnp.digitize(x, b, right=right), examples,
                                batched, rng)
    assert count == 6
    assert not fallback_used


def test_digitize_monotonicity_of_each_example():
    rng = np.random.default_rng(7)
    # NumPy's _monotonicity on rows with ties, NaN and leading repeats
    rows = [np.array(r, float) for r in (
        [1, 1, 2, 3], [1, 1, 0, -1], [2, 2, 2], [0, np.nan, 1], [np.nan, 1, 2],
        [1, 2, np.nan], [3, 2, 2, 1], [1, 2, 1], [2, 1, 2], [5], [0, 0, 1, 1, 0])]
    from chainrule._src.numpy.nondiff import _monotonicity_rows
    from numpy._core.multiarray import _monotonicity
    for r in rows:
        assert _monotonicity_rows(r[None])[0] == _monotonicity(r), r
    x = rng.standard_normal(4)
    ok = [r for r in rows if _monotonicity(r) != 0 and len(r) == 3]
    Bins = np.stack(ok)
    want = np.stack([np.digitize(x, b) for b in Bins])
    _assert_same(cr.vmap(cnp.digitize, in_axes=(None, 0))(x, Bins), want)
    bad = np.array([[0.0, 1, 2], [2, 1, 2], [3, 4, 5]])
    with pytest.raises(ValueError, match="monotonically"):
        cr.vmap(cnp.digitize, in_axes=(None, 0))(x, bad)


# ---------------------------------------------------------------- lexsort

@pytest.mark.parametrize("seed", range(4))
def test_lexsort(seed, fallback_used):
    rng = np.random.default_rng(200 + seed)
    k = 1 + seed % 3
    shape = [(5,), (2, 4)][seed % 2]
    axes = [-1, 0] if len(shape) == 2 else [-1, 0]
    count = 0
    for axis in axes:
        examples = [tuple(rng.integers(0, 3, shape) for _ in range(k)) for _ in range(B)]
        for batched in _subsets(list(range(k))):
            count += check_vmap(lambda *keys: cnp.lexsort(keys, axis=axis), examples,
                                batched, rng)
        # the keys as one array (k, *shape)
        ex1 = [(np.stack(e),) for e in examples]
        count += check_vmap(lambda keys: cnp.lexsort(keys, axis=axis), ex1, {0}, rng)
    assert count == len(axes) * (2 ** k - 1 + 1)
    assert not fallback_used


# ---------------------------------------------------------------- choose

@pytest.mark.parametrize("mode", ["raise", "wrap", "clip"])
@pytest.mark.parametrize("seed", range(3))
def test_choose(mode, seed, fallback_used):
    rng = np.random.default_rng(300 + seed)
    ishape = [(4,), (2, 3), (2, 3)][seed]
    cshapes = [[(4,), (4,)], [(2, 3), (3,), (2, 3)], [(1, 3), (2, 3), ()]][seed]
    lo, hi = (0, len(cshapes)) if mode == "raise" else (-3, len(cshapes) + 3)
    examples = [(rng.integers(lo, hi, ishape),) + tuple(rng.standard_normal(s)
                                                         for s in cshapes)
                for _ in range(B)]
    f = lambda a, *c: cnp.choose(a, list(c), mode=mode)
    count = 0
    for batched in _subsets(list(range(len(examples[0])))):
        count += check_vmap(f, examples, batched, rng)
        for d in range(1, len(examples[0])):
            if d in batched or 0 in batched:
                count += check_derivatives(f, examples, batched, d, rng)
    assert count > 0
    assert not fallback_used


def test_choose_batched_index_out_of_range_raises():
    C = [np.zeros(3), np.ones(3)]
    A = np.array([[0, 1, 1], [0, 2, 1]])
    with pytest.raises(ValueError, match="invalid entry in choice array"):
        cr.vmap(lambda a: cnp.choose(a, C))(A)
    with pytest.raises(ValueError, match="invalid entry in choice array"):
        cr.vmap(lambda a: cnp.choose(a, C))(-A)
    with pytest.raises(TypeError):
        cr.vmap(lambda a: cnp.choose(a, C))(A.astype(float))


# ---------------------------------------------------------------- piecewise

def _away(x, points, gap=1e-3):
    """x moved away from the conditions' boundaries (finite differences stay on one
    side)."""
    for p in points:
        x = np.where(np.abs(x - p) < gap, p + 2 * gap, x)
    return x


PIECES = [
    # (condlist from (x, t), funclist, boundaries)
    (lambda x, t: [x < 0, x > 0.5], [lambda v: v ** 2, lambda v: -v, 0.25], [0, 0.5]),
    (lambda x, t: [x > t], [lambda v: 10 * v, lambda v: -v], None),
    (lambda x, t: x > t if np.ndim(x) == 1 else [x > t], [np.cos, np.sinh], None),
    (lambda x, t: [x > 0], [np.sqrt, lambda v: 0.0 * v], [0]),      # sqrt of x <= 0 unused
    (lambda x, t: [x < t, x > 1], [np.sin, np.exp], None),
    (lambda x, t: [x > 0], [lambda v, s=2.0: s * v ** 3], [0]),
]


@pytest.mark.parametrize("which", range(len(PIECES)))
@pytest.mark.parametrize("xshape", [(6,), (2, 3), ()])
def test_piecewise(which, xshape, fallback_used):
    rng = np.random.default_rng(400 + which + 10 * len(xshape))
    conds, funcs, points = PIECES[which]
    examples = []
    for _ in range(B):
        x = rng.standard_normal(xshape)
        t = np.asarray(rng.uniform(-0.5, 0.5))
        if points is None:
            x = _away(x, [float(t), 1.0])
        else:
            x = _away(x, points)
        examples.append((x, t))
    f = lambda x, t: cnp.piecewise(x, conds(x, t), funcs)
    count = 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")             # no spurious warnings from the loop
        for batched in _subsets([0, 1]):
            count += check_vmap(f, examples, batched, rng)
            count += check_derivatives(f, examples, batched, 0, rng)
    assert count > 0
    assert not fallback_used


def test_piecewise_sqrt_gradient_is_finite_under_vmap():
    """The unselected elements never reach the derivative: sqrt's infinite slope at
    0 and its nan below do not leak into the gradient (nor a warning)."""
    X = np.array([[-1.0, 0.0, 4.0], [-2.0, -3.0, -4.0], [1.0, 9.0, 0.25]])
    f = lambda x: cnp.sum(cnp.piecewise(x, [x > 0], [np.sqrt, 0.0]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = cr.vmap(cr.grad(f))(X)
    want = np.stack([cr.grad(f)(x) for x in X])
    np.testing.assert_array_equal(got, want)
    assert np.all(np.isfinite(got))


def test_piecewise_function_of_the_whole_selection_raises():
    X = np.random.default_rng(0).standard_normal((B, 4))
    with pytest.raises(ValueError, match="piecewise"):
        cr.vmap(lambda x: cnp.piecewise(x, [x > 0], [lambda v: v[:2], 0.0]))(X)


def test_piecewise_integer_x_casts_as_numpy():
    X = np.array([[1, -2, 3], [-4, 5, 6]])
    f = lambda x: cnp.piecewise(x, [x > 0], [lambda v: v * 1.7, lambda v: v / 2])
    _assert_same(cr.vmap(f)(X), np.stack([f(x) for x in X]))


# ---------------------------------------------------------------- bincount

@pytest.mark.parametrize("seed", range(5))
def test_bincount(seed, fallback_used):
    rng = np.random.default_rng(500 + seed)
    m = int(rng.integers(1, 7))
    top = int(rng.integers(1, 5))
    minlength = [0, 0, 3, top + 2, 1][seed]
    examples = []
    for _ in range(B):
        x = rng.integers(0, top, m)
        x[rng.integers(0, m)] = top - 1             # every example: top bins
        examples.append((x, rng.standard_normal(m)))
    count = 0
    for batched in _subsets([0, 1]):
        count += check_vmap(lambda x: cnp.bincount(x, minlength=minlength),
                            [(e[0],) for e in examples], {0}, rng) if batched == {0} else 0
        f = lambda x, w: cnp.bincount(x, w, minlength=minlength)
        count += check_vmap(f, examples, batched, rng)
        count += check_derivatives(f, examples, batched, 1, rng)
    assert count > 0
    assert not fallback_used


def test_bincount_integer_and_bool_weights():
    X = np.array([[0, 2, 2], [1, 0, 2]])
    for W in (np.array([[1, 2, 3], [4, 5, 6]]), np.array([[True, False, True]] * 2)):
        _assert_same(cr.vmap(cnp.bincount)(X, W),
                     np.stack([np.bincount(x, w) for x, w in zip(X, W)]))


def test_bincount_examples_of_different_lengths_raise():
    X = np.array([[0, 1, 1], [0, 1, 4]])            # 2 bins and 5 bins
    with pytest.raises(ValueError, match="bincount.*different numbers of bins"):
        cr.vmap(cnp.bincount)(X)
    with pytest.raises(ValueError, match="bincount.*different numbers of bins"):
        cr.vmap(lambda x: cnp.bincount(x, np.ones(3)))(X)
    with pytest.raises(ValueError):
        np.stack([np.bincount(x) for x in X])       # (what the loop does)
    # minlength large enough gives every example one length
    _assert_same(cr.vmap(lambda x: cnp.bincount(x, minlength=5))(X),
                 np.stack([np.bincount(x, minlength=5) for x in X]))
    with pytest.raises(ValueError, match="no negative elements"):
        cr.vmap(cnp.bincount)(-X)


def test_bincount_jit_of_vmap_retraces_for_new_lengths():
    f = cr.jit(cr.vmap(cnp.bincount))
    for X in (np.array([[0, 1, 1], [1, 1, 0]]), np.array([[0, 3, 1], [3, 1, 0]])):
        _assert_same(f(X), np.stack([np.bincount(x) for x in X]))


def test_bincount_nested_vmap():
    rng = np.random.default_rng(9)
    X = rng.integers(0, 4, (2, B, 5))
    X[..., 0] = 3
    W = rng.standard_normal((B, 2, 5))
    got = cr.vmap(cr.vmap(cnp.bincount), in_axes=(0, 1))(X, W)
    want = np.stack([np.stack([np.bincount(X[i, j], W[j, i]) for j in range(B)])
                     for i in range(2)])
    _assert_same(got, want)
    g = cr.grad(lambda w: cnp.sum(cr.vmap(cr.vmap(cnp.bincount), in_axes=(0, 1))(X, w) ** 2))(W)
    want = np.stack([np.stack([2 * np.bincount(X[i, j], W[j, i])[X[i, j]]
                               for i in range(2)]) for j in range(B)])
    np.testing.assert_allclose(g, want, rtol=1e-13)
