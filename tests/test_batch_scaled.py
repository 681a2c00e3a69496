"""Pending factors under vmap (``BatchTracer.scale``, ``Primitive.batch_scaled``).

A large batched array times an unbatched factor keeps the factor pending; negation,
further products and sums of two scalings of one array combine factors; every other
rule multiplies the factor out first. jacfwd's tangents through elementwise functions
are such chains, so the Hessian of a GLM loss costs one pass over an n x p array where
it cost five. Random elementwise programs are checked with the factors pending against
the same programs with them off (the size threshold raised), against a loop over the
examples in NumPy, against jacrev and under jit.
"""
import importlib.util
import pathlib
import random
import re

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from chainrule._src import core
from chainrule._src.interpreters import batching

UNARY = ["np.sin({a})", "np.tanh({a})", "np.exp(0.3 * {a})", "-{a}", "np.negative({a})",
         "{a} ** 2", "np.log1p({a} ** 2)", "np.logaddexp(0.0, {a})", "np.abs({a})"]
WITH_CONST = ["{a} * {c}", "{c} * {a}", "{a} / (2.0 + {c} ** 2)", "{a} + {c}",
              "{c} - {a}", "{a} - {c}", "np.multiply({a}, {c})"]
PAIR = ["{a} + {b}", "{a} - {b}", "{a} * {b}", "np.add({a}, {b})"]


def _program(rng, consts, statements=8):
    """Source of ``f(x, c0, c1, ...)``: elementwise statements over ``x``, the constants
    and earlier results (so that sums of two scalings of one array are common)."""
    lines, names = [], ["x"]
    for k in range(statements):
        a = rng.choice(names[-3:] + names[:1])
        r = rng.random()
        if r < 0.3:
            expr = rng.choice(UNARY).format(a=a)
        elif r < 0.75:
            expr = rng.choice(WITH_CONST).format(a=a, c=rng.choice(consts))
        else:
            expr = rng.choice(PAIR).format(a=a, b=rng.choice(names))
        lines.append(f"    v{k} = {expr}")
        names.append(f"v{k}")
    tail = " + ".join(rng.sample(names[1:], 3))
    args = ", ".join(["x"] + consts)
    return f"def f({args}):\n" + "\n".join(lines) + f"\n    return {tail}\n"


def _compile(src):
    ns = {"np": np}
    exec(src, ns)
    return ns["f"]


@pytest.fixture
def count_scaled(monkeypatch):
    """Counts the factors multiplied out (a test that never defers proves nothing)."""
    calls = []
    real = batching.apply_scale

    def spy(*a):
        calls.append(1)
        return real(*a)
    monkeypatch.setattr(batching, "apply_scale", spy)
    return calls


def _without_pending(monkeypatch, fn):
    size = core.LAZY_SIZE
    core.LAZY_SIZE = 10 ** 18
    try:
        return fn()
    finally:
        core.LAZY_SIZE = size


@pytest.mark.parametrize("seed", range(150))
def test_vmap_of_random_elementwise_programs(seed, monkeypatch, count_scaled):
    rng = random.Random(seed)
    per, in_axis = rng.choice([((100,), 0), ((100,), 1), ((20, 30), 0), ((20, 30), 1),
                               ((20, 30), 2)])
    batch = 60
    shape = per[:in_axis] + (batch,) + per[in_axis:]
    g = np.random.default_rng(seed)
    xs = g.normal(size=shape)
    consts = {"c0": 0.7, "c1": g.normal(size=per[-1:]), "c2": g.normal(size=per),
              "c3": np.float32(1.5)}
    if len(per) == 2:
        consts["c4"] = g.normal(size=(per[0], 1))
    names = list(consts)
    src = _program(rng, names)
    f = _compile(src)
    vals = [consts[n] for n in names]
    got = cr.vmap(f, in_axes=(in_axis,) + (None,) * len(vals))(xs, *vals)
    want = np.stack([f(np.take(xs, i, axis=in_axis), *vals) for i in range(batch)])
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12, err_msg=src)
    plain = _without_pending(monkeypatch, lambda: cr.vmap(
        f, in_axes=(in_axis,) + (None,) * len(vals))(xs, *vals))
    np.testing.assert_allclose(got, plain, rtol=1e-13, atol=1e-13, err_msg=src)
    jitted = cr.jit(cr.vmap(f, in_axes=(in_axis,) + (None,) * len(vals)))(xs, *vals)
    np.testing.assert_allclose(jitted, got, rtol=1e-13, atol=1e-13, err_msg=src)


@pytest.mark.parametrize("seed", range(150))
def test_jacfwd_of_random_elementwise_programs(seed, monkeypatch, count_scaled):
    rng = random.Random(1000 + seed)
    n = 80                                   # the batch: 80 x 80 tangents
    g = np.random.default_rng(seed)
    x = g.normal(size=n)
    consts = {"c0": -1.3, "c1": g.normal(size=n), "c2": g.normal(size=(1,))}
    names = list(consts)
    src = _program(rng, names)
    f = _compile(src)
    vals = [consts[k] for k in names]
    fwd = cr.jacfwd(f)(x, *vals)
    rev = cr.jacrev(f)(x, *vals)
    np.testing.assert_allclose(fwd, rev, rtol=1e-11, atol=1e-12, err_msg=src)
    plain = _without_pending(monkeypatch, lambda: cr.jacfwd(f)(x, *vals))
    np.testing.assert_allclose(fwd, plain, rtol=1e-13, atol=1e-13, err_msg=src)
    np.testing.assert_allclose(cr.jit(cr.jacfwd(f))(x, *vals), fwd, rtol=1e-13,
                               atol=1e-13, err_msg=src)
    # the Hessian of a sum by forward over reverse (the Newton path of optim)
    loss = lambda x, *c: np.sum(f(x, *c) ** 2)  # noqa: E731
    h_fr = cr.jacfwd(cr.grad(loss))(x, *vals)
    h_rr = cr.jacrev(cr.grad(loss))(x, *vals)
    np.testing.assert_allclose(h_fr, h_rr, rtol=1e-10, atol=1e-10, err_msg=src)


def test_the_random_programs_keep_factors_pending(monkeypatch, count_scaled):
    """The programs take the path under test: factors are deferred (and multiplied out
    later) in most of them."""
    taken = 0
    for seed in range(10):
        before = len(count_scaled)
        test_jacfwd_of_random_elementwise_programs(seed, monkeypatch, count_scaled)
        test_vmap_of_random_elementwise_programs(seed, monkeypatch, count_scaled)
        taken += len(count_scaled) > before
    assert taken >= 8


def _showcase_models():
    """The GLM losses of examples/scale/glm.py (the Newton showcase on Dask; the example
    imports dask: without the scale extra these tests skip)."""
    pytest.importorskip("dask")
    path = pathlib.Path(__file__).resolve().parents[1] / "examples" / "scale" / "glm.py"
    spec = importlib.util.spec_from_file_location("examples_scale_glm", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.MODELS



def _live(graph):
    """The equations of a printed graph that its outputs depend on."""
    lines = graph.splitlines()
    out = lines[-1].split("(", 1)[1].rsplit(")", 1)[0]
    need = set(re.findall(r"[a-z]+", out))
    live = []
    for line in reversed(lines[1:-1]):
        m = re.match(r"\s*([a-z]+):\S+ = (.*)", line)
        if m and m.group(1) in need:
            live.append(line)
            need |= set(re.findall(r"\b[a-z]+\b", m.group(2).split(" ", 1)[-1]))
    return live


@pytest.mark.parametrize("kind", ["logistic", "poisson"])
def test_glm_hessian_by_forward_over_reverse_makes_one_pass_over_the_data(kind):
    loss = _showcase_models()[kind]
    n, p = 4000, 5
    g = np.random.default_rng(0)
    X, y, w = g.normal(size=(n, p)), (g.random(n) < 0.5) * 1.0, 0.1 * g.normal(size=p)
    hess = cr.jacfwd(cr.grad(loss))
    graph = str(cr.make_graph(hess)(w, X, y))
    big = [line for line in _live(graph) if f"[{p},{n}] =" in line or f"[{n},{p}] =" in line]
    elementwise = [line for line in big if any(f"= {op} " in line for op in (
        "multiply", "add", "subtract", "negative", "divide"))]
    assert len(elementwise) == 1, graph          # the factor times the data, once
    z = X @ w
    d2 = np.exp(z) if kind == "poisson" else np.exp(-np.logaddexp(0, z) - np.logaddexp(0, -z))
    want = (X.T * d2) @ X / n
    np.testing.assert_allclose(hess(w, X, y), want, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(cr.jit(hess)(w, X, y), want, rtol=1e-12, atol=1e-14)


def test_factors_that_would_change_the_dtype_or_shape_are_applied_at_once():
    x32 = np.ones((50, 100), np.float32)
    out = cr.vmap(lambda a: a * 2.0)(x32)                    # float32 stays float32
    assert out.dtype == np.float32
    out = cr.vmap(lambda a: a * np.float64(2.0) + a)(x32)
    assert out.dtype == (x32 * np.float64(2.0)).dtype
    big = cr.vmap(lambda a: a * np.ones((3, 1)))(np.ones((2000, 4)))   # grows examples
    assert big.shape == (2000, 3, 4)
    ints = cr.vmap(lambda a: a * 3 - a)(np.arange(10000).reshape(100, 100))
    assert ints.dtype.kind == "i" and ints[5, 7] == 2 * 507
    c = cr.vmap(lambda a: a * (1 + 2j) + a)(np.ones((100, 100)))
    assert c.dtype == np.complex128 and c[0, 0] == 2 + 2j


@pytest.mark.parametrize("jac", [cr.jacrev, cr.jacfwd])
def test_the_scaled_identity_basis_stays_diagonal(jac):
    """The identity basis scaled by an elementwise derivative is a diagonal
    (``batch_diagonal``), which a pending factor must not hide: the Jacobian of
    tanh(W x) costs O(n^2), not the O(n^3) of a product with a dense basis."""
    n = 100                                  # the basis: 10,000 elements, above LAZY_SIZE
    W = np.random.default_rng(0).normal(size=(n, n)) / 10
    f = lambda x: np.tanh(W @ x)            # noqa: E731
    x = np.linspace(-1, 1, n)
    assert cr.make_graph(jac(f))(x).flops() < 10 * n * n
    want = (1 - np.tanh(W @ x) ** 2)[:, None] * W
    np.testing.assert_allclose(jac(f)(x), want, rtol=1e-13, atol=1e-15)


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning",
                            "ignore:invalid value encountered:RuntimeWarning")
@pytest.mark.parametrize("case", ["float32 up and down", "inf minus inf", "underflow"])
def test_pending_factors_keep_numpys_overflow(case):
    """Multiplying factors together first (``x (a b)`` for ``(x a) b``) may overflow or
    underflow where the program does not, or the reverse: a helper's hunt had vmap give
    1e30 where NumPy gives inf (float32), 0 where NumPy gives nan (``x 1e308 - x 1e308``).
    float32 takes no pending factor; float64's are bounded (batching.safe_factor)."""
    x, f = {
        "float32 up and down": (np.full((2, 4096), 1e30, np.float32),
                                lambda x: x * np.float32(1e10) * np.float32(1e-10)),
        "inf minus inf": (np.full((2, 4096), 2.0), lambda x: x * 1e308 - x * 1e308),
        "underflow": (np.full((2, 4096), 1e-20), lambda x: x * 1e-300 * 1e300),
    }[case]
    np.testing.assert_array_equal(cr.vmap(f)(x), np.stack([f(r) for r in x]))
    np.testing.assert_array_equal(cr.jit(cr.vmap(f))(x), np.stack([f(r) for r in x]))


def test_ordinary_float64_factors_still_stay_pending(count_scaled):
    x = np.random.default_rng(0).normal(size=(50, 100))
    f = lambda r: -(r * np.linspace(1, 2, 100)) * 3.0 + r         # noqa: E731
    np.testing.assert_allclose(cr.vmap(f)(x), np.stack([f(r) for r in x]), rtol=1e-14)
    assert count_scaled                                            # deferred, then applied


def test_concrete_pending_factors_combine_only_where_exact_on_infinities():
    """``x a - x b`` as ``x (a - b)`` is inf where x is, but NumPy's ``inf - inf`` is nan:
    concrete factors combine only when nonzero with one sign (a zero factor: 0 inf)."""
    from chainrule._src import core
    X = np.ones((4, core.LAZY_SIZE))
    X[0, 0], X[1, 1], X[2, 2] = np.inf, -np.inf, np.nan
    for f in (lambda x: x * 2.0 - x * 3.0, lambda x: x * 2.0 + x * 3.0,
              lambda x: x * 2.0 - x * (-3.0), lambda x: x * 0.0 + x * 2.0,
              lambda x: -(x * 2.0) + x * 3.0, lambda x: x - x * 0.5):
        with np.errstate(all="ignore"):
            np.testing.assert_array_equal(cr.vmap(f)(X), f(X))


def test_scaled_tangents_of_both_signs_stay_exact_on_infinities():
    """Forward and reverse mode keep large float64 tangents and cotangents as a pending
    scalar times an array (core.Scaled); ``2 t - 3 t`` was ``-t`` (-inf where NumPy's
    program gives nan)."""
    from chainrule._src import core
    x, t = np.ones(core.LAZY_SIZE), np.ones(core.LAZY_SIZE)
    t[0], t[1], t[2] = np.inf, -np.inf, np.nan
    for f in (lambda x: x * 2.0 - x * 3.0, lambda x: -(x * 2.0) + x * 0.5,
              lambda x: x * 2.0 + x * 3.0, lambda x: x * 1e-300 + x * 1e300):
        with np.errstate(all="ignore"):
            np.testing.assert_array_equal(cr.jvp(f, (x,), (t,))[1], f(t))
            np.testing.assert_array_equal(cr.vjp(f, x)[1](t)[0], f(t))


def test_pending_factors_stay_exact_at_the_extremes_and_under_jit():
    """Scaled: a product of factors that overflows (1e150 * 1e200) is applied in the
    program's order; x c - x c of one array is not c (x - x) (0 where NumPy's overflow
    gives nan). vmap under jit: staged factors of both signs combine under a guard on
    the base, and a call whose base holds an infinity runs as written."""
    from chainrule._src import core
    n = core.LAZY_SIZE
    x = np.ones(n)
    cases = [(lambda v: 1e150 * (1e200 * v), np.zeros(n)),
             (lambda v: 1e150 * (1e200 * v), np.full(n, 1e-300)),
             (lambda v: 1e-150 * (1e-200 * v), np.full(n, 1e300)),
             (lambda v: 1e-150 * (1e-200 * v), np.full(n, np.inf))]
    with np.errstate(all="ignore"):
        for L, t in cases:
            np.testing.assert_array_equal(cr.jvp(L, (x,), (t,))[1], L(t))
            np.testing.assert_array_equal(cr.vjp(L, x)[1](t)[0], L(t))
        t = np.full(n, 1e308)
        np.testing.assert_array_equal(cr.vjp(lambda v: v * 3.0 - v * 3.0, x)[1](t)[0],
                                      t * 3.0 - t * 3.0)
        X = np.ones((4, n))
        X[0, 0] = np.inf
        hv = cr.jit(lambda a, b, X: cr.vmap(lambda x: x * a + x * b)(X))
        for data in (X, np.ones((4, n)), X, np.ones((4, n))):
            np.testing.assert_array_equal(hv(1.0, -2.0, data), data * 1.0 + data * -2.0)
        vg = cr.value_and_grad(lambda a, b, X: cnp.sum(cr.vmap(lambda x: x * a + x * b)(X)))
        assert np.isnan(vg(1.0, -2.0, X)[0])
