"""Generic tests over the op database (tests/opdb): values against NumPy/SciPy
(outside and inside transformations), derivatives against finite differences in
forward and reverse mode to second order, and each vjp as the exact transpose of
its jvp. Plus: every public function has a row."""
import numpy as np
import pytest

import chainrule as cr
from chainrule.test_util import check_grads, inner_product
from chainrule._src.numpy.dispatch import PUBLIC
from chainrule._src.tree_util import tree_flatten, tree_unflatten
from chainrule._src.core import Tracer

from opdb import all_rows

ROWS = all_rows()
CASES = [(r, i) for r in ROWS for i in range(len(r.samples))]
IDS = [f"{r.name}-{i}" for r, i in CASES]
GRAD_CASES = [(r, i) for r, i in CASES if r.grad and r.samples[i].diff_argnums()]
GRAD_IDS = [f"{r.name}-{i}" for r, i in GRAD_CASES]
# rows with forward mode (a reverse-only, custom_vjp-style row has no jvp to transpose)
FWD_CASES = [(r, i) for r, i in GRAD_CASES if "fwd" in r.modes]
FWD_IDS = [f"{r.name}-{i}" for r, i in FWD_CASES]


def closure(row, sample):
    nums = sample.diff_argnums()

    def f(*diff_args):
        args = list(sample.args)
        for i, v in zip(nums, diff_args):
            args[i] = v
        return row.fn(*args, **sample.kwargs)
    return f, tuple(sample.args[i] for i in nums)


def assert_same(a, b, tol=1e-10, dtypes=True):
    """Equal structure, shapes and values (to ``tol`` where floating) and, unless
    ``dtypes`` is False, equal dtypes (NumPy's, where ``b`` is NumPy's result)."""
    fa, fb = tree_flatten(a)[0], tree_flatten(b)[0]
    assert len(fa) == len(fb)
    for x, y in zip(fa, fb):
        x, y = np.asarray(x), np.asarray(y)
        assert x.shape == y.shape, (x.shape, y.shape)
        assert not dtypes or x.dtype == y.dtype, (x.dtype, y.dtype)
        if x.dtype.kind in "fc" or y.dtype.kind in "fc":
            np.testing.assert_allclose(x, y, rtol=tol, atol=tol)
        else:
            np.testing.assert_array_equal(x, y)


def assert_plain_leaves(out):
    """No tracer and no object-dtype array escapes a transformation's output."""
    for leaf in tree_flatten(out)[0]:
        assert not isinstance(leaf, Tracer), type(leaf)
        assert not (isinstance(leaf, np.ndarray) and leaf.dtype == object), leaf


@pytest.mark.parametrize("row,i", CASES, ids=IDS)
def test_value_matches_reference(row, i):
    s = row.samples[i]
    ref = row.ref if row.ref is not None else row.fn
    expected = ref(*s.args, **s.kwargs)
    dtypes = "value" not in row.dtype_differs     # (a row may say why they differ)
    assert_same(row.fn(*s.args, **s.kwargs), expected, dtypes=dtypes)
    # the traced implementation (inside a transformation) must agree too, in value and
    # dtype: reverse mode traces the float arguments; a row without any is staged by jit
    f, diff_args = closure(row, s)
    if diff_args:
        out, _ = cr.vjp(f, *diff_args)
    else:
        out = cr.jit(f)()
    assert_same(out, expected, dtypes=dtypes)
    assert_plain_leaves(out)


@pytest.mark.parametrize("row,i", GRAD_CASES, ids=GRAD_IDS)
def test_derivatives_match_finite_differences(row, i):
    f, args = closure(row, row.samples[i])
    check_grads(f, args, order=row.order, modes=row.modes, atol=row.tol, rtol=row.tol)


@pytest.mark.parametrize("row,i", FWD_CASES, ids=FWD_IDS)
def test_vjp_is_transpose_of_jvp(row, i):
    f, args = closure(row, row.samples[i])
    rng = np.random.default_rng(7)
    ts = _random_like(args, rng)
    out, t_out = cr.jvp(f, args, ts)
    for o, t in zip(tree_flatten(out)[0], tree_flatten(t_out)[0]):
        if np.asarray(o).dtype.kind in "fc":        # a tangent has its primal's dtype
            assert np.asarray(t).dtype == np.asarray(o).dtype, (t.dtype, o.dtype)
    out2, vjp_fun = cr.vjp(f, *args)
    ct = _random_like(out2, rng)
    lhs = inner_product(ct, t_out)
    rhs = inner_product(vjp_fun(ct), ts)
    np.testing.assert_allclose(lhs, rhs, rtol=1e-9, atol=1e-9)


def test_every_public_function_has_a_row():
    from opdb import elementwise
    names = {r.name.split("[")[0] for r in ROWS}
    missing = []
    for module, fns in PUBLIC.items():
        prefix = "" if module == "numpy" else module.replace("numpy.", "") + "."
        for name in fns:
            full = prefix + name
            if full not in names and name not in elementwise.ALIASES:
                missing.append(f"{module}.{name}")
    assert not missing, f"public functions without an op-database row: {missing}"


# ------------------------------------------------------------------ the vmap column

from chainrule._src.interpreters import batching as _batching   # noqa: E402
from chainrule._src.tree_util import tree_map   # noqa: E402

B = 3


def _batch(x, axis, rng):
    """B perturbed copies of ``x`` stacked along ``axis``."""
    def one(a):
        a = np.asarray(a)
        noise = rng.standard_normal(a.shape) * 1e-3
        if a.dtype.kind == "c":
            noise = noise + 1j * rng.standard_normal(a.shape) * 1e-3
        copies = [a + i * noise if a.dtype.kind in "fc" else a for i in range(B)]
        return np.stack(copies, axis=axis)
    return tree_map(one, x)


def _take(xb, axis, i):
    return tree_map(lambda a: np.take(a, i, axis=axis), xb)


def _loop(f, args, batched, axes):
    outs = []
    for i in range(B):
        a = [(_take(x, ax, i) if k in batched else x) for k, (x, ax) in
             enumerate(zip(args, axes))]
        outs.append(f(*a))
    return tree_map(lambda *o: np.stack(o), *outs)


def _random_like(tree, rng):
    """A random cotangent with the structure, shapes and (real/complex) kind of ``tree``."""
    return tree_map(lambda o: np.asarray(rng.standard_normal(np.shape(o)) + (
        1j * rng.standard_normal(np.shape(o)) if np.iscomplexobj(o) else 0)), tree)


def _pullback(f, args, rng):
    """``a -> vjp(f, *a)[1](ct)`` for a fixed random cotangent ``ct`` shaped like
    ``f(*args)``."""
    ct = _random_like(f(*args), rng)
    return lambda *a: cr.vjp(f, *a)[1](ct)


@pytest.fixture
def fallback_used(monkeypatch):
    """A fresh ``batching.FALLBACK_USED`` for this test alone (the module-level set
    is session-wide, so a name recorded by an earlier test would otherwise hide the
    same primitive falling back here). batching reads the name at call time."""
    fresh = set()
    monkeypatch.setattr(_batching, "FALLBACK_USED", fresh)
    return fresh


VMAP_CASES = [(r, i) for r, i in CASES if r.samples[i].diff_argnums()]
VMAP_IDS = [f"{r.name}-{i}" for r, i in VMAP_CASES]


@pytest.mark.parametrize("row,i", VMAP_CASES, ids=VMAP_IDS)
def test_vmap_matches_loop(row, i, fallback_used):
    f, args = closure(row, row.samples[i])
    rng = np.random.default_rng(3)
    dtypes = "vmap" not in row.dtype_differs
    for k in range(len(args)):
        leaves = tree_flatten(args[k])[0]
        axes_to_try = [0]
        if all(np.ndim(a) >= 1 for a in leaves):
            axes_to_try.append(1)
        for ax in axes_to_try:
            batched_args = list(args)
            batched_args[k] = _batch(args[k], ax, rng)
            in_axes = tuple(ax if j == k else None for j in range(len(args)))
            got = cr.vmap(f, in_axes=in_axes)(*batched_args)
            want = _loop(f, batched_args, {k}, [ax if j == k else None
                                                for j in range(len(args))])
            assert_same(got, want, tol=1e-9, dtypes=dtypes)
    # every argument batched at once, and nothing batched (axis_size)
    all_b = [_batch(a, 0, rng) for a in args]
    assert_same(cr.vmap(f)(*all_b), _loop(f, all_b, set(range(len(args))), [0] * len(args)),
                tol=1e-9, dtypes=dtypes)
    got = cr.vmap(f, in_axes=None, axis_size=2)(*args) if len(args) == 1 else \
        cr.vmap(f, in_axes=(None,) * len(args), axis_size=2)(*args)
    assert_same(got, tree_map(lambda o: np.stack([o, o]), f(*args)), tol=1e-12,
                dtypes=dtypes)
    assert not fallback_used, f"primitives without a batching rule: {fallback_used}"


@pytest.mark.parametrize("row,i", GRAD_CASES, ids=GRAD_IDS)
def test_vmap_of_vjp_matches_loop(row, i, fallback_used):
    f, args = closure(row, row.samples[i])
    rng = np.random.default_rng(4)
    g = _pullback(f, args, rng)
    all_b = [_batch(a, 0, rng) for a in args]
    assert_same(cr.vmap(g)(*all_b), _loop(g, all_b, set(range(len(args))), [0] * len(args)),
                tol=1e-8)
    assert not fallback_used, f"primitives without a batching rule: {fallback_used}"


# ------------------------------------------------------------------ jit and cost columns

@pytest.mark.parametrize("row,i", CASES, ids=IDS)
def test_jit_matches_eager_and_every_primitive_has_a_cost(row, i):
    f, diff_args = closure(row, row.samples[i])
    want = f(*diff_args)
    jf = cr.jit(f)
    dtypes = "jit" not in row.dtype_differs
    assert_same(jf(*diff_args), want, dtypes=dtypes)          # traced call
    assert_same(jf(*diff_args), want, dtypes=dtypes)          # compiled replay
    info = jf.cache_info()
    assert info.hits >= 1, info
    graph = cr.make_graph(f)(*diff_args)
    for name, (_, fl) in graph.cost_table().items():   # every primitive's cost rule runs
        assert fl >= 0, name


@pytest.mark.parametrize("row,i", GRAD_CASES, ids=GRAD_IDS)
def test_jit_of_vjp_matches_eager(row, i):
    f, args = closure(row, row.samples[i])
    g = _pullback(f, args, np.random.default_rng(5))
    jg = cr.jit(g)
    want = g(*args)
    assert_same(jg(*args), want, tol=1e-9)
    assert_same(jg(*args), want, tol=1e-9)


def _docs_lists():
    """tools/docs_lists.py, the generator of docs/numpy.md's function lists."""
    import importlib.util
    import pathlib
    path = pathlib.Path(__file__).parent.parent / "tools" / "docs_lists.py"
    spec = importlib.util.spec_from_file_location("docs_lists", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_docs_lists_are_generated_from_the_registry():
    gen = _docs_lists()
    text = gen.DOC.read_text()
    assert gen.render(text) == text, \
        "docs/numpy.md's function lists are out of date: run python tools/docs_lists.py"


def _scaled_around(f):
    """f with its float64 inputs and outputs multiplied by scalars, so that every
    cotangent entering and leaving f's rules carries a pending scale factor."""
    def g(*args):
        args = tree_map(lambda a: a * 0.5 if cr.numpy.result_type(a) == np.float64 else a,
                        list(args))
        flat, tree = tree_flatten(f(*args))
        return tree_unflatten(tree, [-3.0 * o if cr.numpy.result_type(o) == np.float64
                                     else o for o in flat])
    return g


@pytest.mark.parametrize("row,i", GRAD_CASES, ids=GRAD_IDS)
def test_lazy_paths_match_eager(row, i, monkeypatch):
    """Large arrays take lazy paths: scalar factors of tangents and cotangents ride
    along unevaluated (core.Scaled); reverse mode defers elementwise operations and
    sums, and hvp leaves the gradient's unused values unevaluated (deferred.Pending).
    With the size thresholds at 1 every rule meets them: values, vjp, grad, jvp,
    forward-over-reverse and hvp must equal the eager results."""
    from chainrule._src import core
    from chainrule._src.interpreters.deferred import Pending
    f, args = closure(row, row.samples[i])
    g = _scaled_around(f)
    rng = np.random.default_rng(3)
    ct = _random_like(g(*args), rng)
    ts = _random_like(tuple(args), rng)
    fwd = "fwd" in row.modes

    first = [k for k, o in enumerate(tree_flatten(g(*args))[0])
             if np.asarray(o).dtype == np.float64][:1]

    def loss(*a):                       # a scalar of the first float output, for grad
        o = tree_flatten(g(*a))[0][first[0]]
        return cr.numpy.sum(o * o)

    def run():
        out, f_vjp = cr.vjp(g, *args)
        res = [out, f_vjp(ct)]
        if first:
            res.append(cr.grad(loss, argnums=tuple(range(len(args))))(*args))
        if fwd:
            res.append(cr.jvp(g, args, ts)[1])
            res.append(cr.jvp(lambda *a: cr.vjp(g, *a)[1](ct), args, ts)[1])
            if first:
                res.append(cr.hvp(loss, tuple(args), tuple(ts)))
        return res
    monkeypatch.setattr(core, "LAZY_SIZE", 10 ** 18)
    monkeypatch.setattr(core, "DEFER_SIZE", 10 ** 18)
    want = run()
    monkeypatch.setattr(core, "LAZY_SIZE", 1)
    monkeypatch.setattr(core, "DEFER_SIZE", 1)
    got = run()
    for a, b in zip(tree_flatten(got)[0], tree_flatten(want)[0]):
        assert type(a) is not core.Scaled and type(a) is not Pending
        assert np.asarray(a).dtype == np.asarray(b).dtype
    assert_same(got, want, tol=1e-12)


REPLAYED = {}           # row id -> whether its backward pass was compiled and replayed


def _replay_case(row, i):
    """(args, run): ``run()`` takes the row's vjp (a random cotangent) and the grad of
    the sum of squares of its first float64 output."""
    f, args = closure(row, row.samples[i])
    rng = np.random.default_rng(5)
    ct = _random_like(f(*args), rng)
    first = [k for k, o in enumerate(tree_flatten(f(*args))[0])
             if np.asarray(o).dtype == np.float64][:1]

    def loss(*a):
        o = tree_flatten(f(*a))[0][first[0]]
        return cr.numpy.sum(o * o)

    def run():
        res = [cr.vjp(f, *args)[1](ct)]
        if first:
            res.append(cr.grad(loss, argnums=tuple(range(len(args))))(*args))
        return res
    return args, run


@pytest.mark.parametrize("row,i", GRAD_CASES, ids=GRAD_IDS)
def test_replayed_backward_matches_eager(row, i, monkeypatch):
    """A backward pass whose tape structure recurs is compiled (graph/replay.py): with
    compiling on the second sighting, the second and later calls of vjp and grad run
    generated code. It must give the eager
    walk's results bit for bit, every time, and arrays of its own."""
    from chainrule._src.graph import replay
    args, run = _replay_case(row, i)
    monkeypatch.setattr(cr.config, "replay_backward", False)
    want = tree_flatten(run())[0]
    monkeypatch.setattr(cr.config, "replay_backward", True)
    monkeypatch.setattr(replay, "COMPILE_AFTER", 2)     # (the default waits for 8 calls)
    replay.cache_clear()
    before = replay.cache_info().hits
    for _ in range(4):
        got = tree_flatten(run())[0]
        assert len(got) == len(want)
        for a, b in zip(got, want):
            assert type(a) is type(b) or not isinstance(b, np.ndarray), (type(a), type(b))
            assert np.asarray(a).dtype == np.asarray(b).dtype
            np.testing.assert_array_equal(a, b)
            assert not any(a is x for x in args)
    for a, b in zip(tree_flatten(run())[0], got):
        assert not (isinstance(a, np.ndarray) and np.may_share_memory(a, b))
    REPLAYED[f"{row.name}-{i}"] = replay.cache_info().hits > before


def test_most_rows_replay(monkeypatch):
    """Rows are replayed unless an input is a scalar or a large array, a value is
    float32/complex64 or not C-contiguous (a transpose, a strided slice), or staging
    meets a floating-point event (the column above records which were; rows it did not
    run in this process, e.g. under pytest -n or -k, are tried here): a regression that
    stopped replay everywhere would still pass it, but not this."""
    from chainrule._src.graph import replay
    monkeypatch.setattr(cr.config, "replay_backward", True)
    monkeypatch.setattr(replay, "COMPILE_AFTER", 2)
    replayed = {}
    for row, i in GRAD_CASES:
        name = f"{row.name}-{i}"
        if name not in REPLAYED:
            replay.cache_clear()
            before = replay.cache_info().hits
            try:
                _, run = _replay_case(row, i)
                for _ in range(3):
                    run()
            except Exception:       # noqa: BLE001 - the column reports the row's error
                pass
            REPLAYED[name] = replay.cache_info().hits > before
        replayed[name] = REPLAYED[name]
    share = sum(replayed.values()) / len(replayed)
    print(f"replayed: {share:.0%} of {len(replayed)} cases")
    assert share > 0.7, share
