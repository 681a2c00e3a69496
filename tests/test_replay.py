"""Compiled backward passes for recurring tapes (graph/replay.py).

The second and later calls with a tape structure already seen run generated code here
(``COMPILE_AFTER = 2``). Each test compares against the eager walk
(``config.replay_backward = False``) bit for bit, over
enough calls that the compiled code runs, and checks that it did run (or did not,
where it must not)."""
import threading
import warnings

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from chainrule._src.graph import replay
from benchmarks.mlp import make_data, make_loss


@pytest.fixture(autouse=True)
def fresh_cache(monkeypatch):
    """Compile on the second sighting (the library waits for the eighth), from empty
    caches."""
    monkeypatch.setattr(replay, "COMPILE_AFTER", 2)
    replay.cache_clear()
    yield
    replay.cache_clear()


def eager(fn, *args):
    cr.config.update("replay_backward", False)
    try:
        return fn(*args)
    finally:
        cr.config.update("replay_backward", True)


def replays():
    return replay.cache_info().hits


def assert_bitwise(a, b):
    fa, fb = cr.tree_util.tree_leaves(a), cr.tree_util.tree_leaves(b)
    assert len(fa) == len(fb)
    for x, y in zip(fa, fb):
        assert type(x) is type(y)
        assert np.asarray(x).dtype == np.asarray(y).dtype
        np.testing.assert_array_equal(x, y)


def test_mlp_value_and_grad_is_replayed_bit_for_bit():
    d = make_data([2, 32, 32, 2], 16)
    loss = make_loss(cnp)
    vg = cr.value_and_grad(loss)
    want = eager(vg, d["params"], d["x"], d["Y"])
    before = replays()
    for _ in range(5):
        assert_bitwise(vg(d["params"], d["x"], d["Y"]), want)
    assert replays() - before == 4           # calls 2 (compiles, then runs), 3, 4, 5
    assert replay.cache_info().compiled >= 1
    # the function remembers the structure it last replayed (compared before hashing)
    ref, key, compiled = replay._recent[id(loss)]
    assert ref() is loss and replay.cache.get(key) is compiled
    # new data of the same shapes: the same compiled code, the eager answer
    d2 = make_data([2, 32, 32, 2], 16, seed=1)
    assert_bitwise(vg(d2["params"], d2["x"], d2["Y"]), eager(vg, d2["params"], d2["x"], d2["Y"]))
    assert replays() - before == 5


def test_results_are_fresh_writable_arrays():
    c = np.arange(3.0)
    g = cr.grad(lambda x: cnp.sum(x * c))
    x = np.ones(3)
    outs = [g(x) for _ in range(4)]
    assert replays() >= 1
    for o in outs:
        assert o is not c and not np.may_share_memory(o, c) and o.flags.writeable
    outs[-1][:] = 99.0                      # mutating a result changes nothing later
    np.testing.assert_array_equal(g(x), c)
    # a gradient that does not depend on the inputs' values (a constant of the code)
    h = cr.grad(lambda x: cnp.sum(x))
    a, b, c2 = h(x), h(x), h(x)
    a[:] = 5.0
    np.testing.assert_array_equal(h(x), np.ones(3))
    assert not np.may_share_memory(b, c2)


def test_control_flow_changes_structure():
    def f(x):
        y = cnp.sin(x)
        if cnp.sum(x) > 0:                      # Python branch on a value
            return cnp.sum(y * y)
        return cnp.sum(cnp.exp(y))
    g = cr.grad(f)
    xs = [np.linspace(-1, 2, 5), -np.linspace(-1, 2, 5)]
    for _ in range(4):
        for x in xs:
            assert_bitwise(g(x), eager(g, x))
    assert replays() >= 4


def test_shapes_dtypes_and_python_constants_are_part_of_the_key():
    def f(x, k):
        return cnp.sum(cnp.tanh(x) ** k) * 0.5
    g = cr.grad(f)
    for _ in range(3):
        for shape in [(3,), (4,), (2, 3)]:
            for k in (2, 3, 2.5):
                x = np.linspace(0.1, 0.9, np.prod(shape)).reshape(shape)
                assert_bitwise(g(x, k), eager(g, x, k))
    assert replays() > 0


def test_index_arrays_are_inputs_not_constants():
    def f(x, idx):
        return cnp.sum(x[idx] ** 2)
    g = cr.grad(f)
    x = np.arange(6.0)
    for idx in [np.array([0, 1, 1]), np.array([5, 4, 3]), np.array([2, 2, 2])] * 2:
        assert_bitwise(g(x, idx), eager(g, x, idx))
    assert replays() >= 2
    # a boolean mask selecting a different number of elements is another structure
    for m in [x > 2, x > 4, x > 0] * 2:
        assert_bitwise(g(x, m), eager(g, x, m))


def test_not_replayed_where_it_must_not():
    f = lambda x: cnp.sum(cnp.sin(x) * x)
    before = replays()
    x32 = np.linspace(0, 1, 5, dtype=np.float32)   # float32: Python scalars promote weakly
    for _ in range(4):
        assert cr.grad(f)(x32).dtype == np.float32
    big = np.linspace(0, 1, 2 * replay.core.LAZY_SIZE)   # large: rules' own economies
    for _ in range(4):
        cr.grad(f)(big)
    with cr.debug_nans():
        for _ in range(4):
            cr.grad(f)(np.ones(3))
    assert replays() == before


def test_nested_grad():
    """The inner tape (recorded under the outer trace) is walked eagerly, by the outer
    trace's rules; the outer tape, which recorded that walk, is replayed."""
    f = lambda x: cnp.sum(cnp.sin(x) * x)
    h = cr.grad(lambda x: cnp.sum(cr.grad(f)(x) ** 2))
    x = np.linspace(0, 1, 3)
    want = eager(h, x)
    before = replays()
    for _ in range(4):
        assert_bitwise(h(x), want)
    assert replays() - before == 3


def test_vjp_called_many_times_and_jacrev():
    f = lambda x: cnp.tanh(x) * cnp.sum(x)
    x = np.linspace(-1, 1, 4)
    out, f_vjp = cr.vjp(f, x)
    cts = np.eye(4)
    got = [f_vjp(c) for c in cts]
    cr.config.update("replay_backward", False)
    try:
        want = [f_vjp(c) for c in cts]
    finally:
        cr.config.update("replay_backward", True)
    assert_bitwise(got, want)
    assert replays() >= 2
    assert_bitwise(cr.jacrev(f)(x), eager(cr.jacrev(f), x))


def test_errstate_raise_falls_back_to_the_eager_walk():
    def taylor(x):
        return sum((-1.0) ** k * x ** (2 * k) / float(np.prod(np.arange(1, 2 * k + 1)))
                   for k in range(8))
    g = cr.grad(taylor)
    with np.errstate(all="raise"):
        for _ in range(4):
            assert float(g(0.0)) == 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")              # and no warning on the way
        for _ in range(4):
            assert float(g(0.0)) == 0.0


def test_concurrent_replays_agree():
    d = make_data([2, 8, 2], 4)
    vg = cr.value_and_grad(make_loss(cnp))
    want = eager(vg, d["params"], d["x"], d["Y"])
    errors = []

    def work():
        try:
            for _ in range(50):
                assert_bitwise(vg(d["params"], d["x"], d["Y"]), want)
        except Exception as e:      # pragma: no cover - reported below
            errors.append(e)
    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert replays() > 0


def test_cache_is_bounded(monkeypatch):
    monkeypatch.setattr(replay.cache, "maxsize", 8)
    for n in range(1, 30):
        for _ in range(3):
            cr.grad(lambda x: cnp.sum(x ** 2))(np.ones(n))
    assert len(replay.cache) <= 8 and replay.cache_info().size <= 8


def test_remembered_structure_is_checked_in_full():
    """A function's remembered structure is only a shortcut: a tape that differs in a
    parameter, a constant's shape or value, an input's shape or the seed goes the long
    way (and gets its own compiled code)."""
    def f(x, c, axis, k):
        return cnp.sum(cnp.sum(cnp.tanh(x) * c, axis=axis) ** k)
    g = cr.grad(f)
    x = np.linspace(0.1, 1.0, 6).reshape(2, 3)
    cases = [(np.ones(3), 0, 2), (np.ones(3), 1, 2), (np.ones((2, 1)), 0, 2),
             (np.ones(3), 0, 3), (2.0, 0, 2), (np.ones(3), 0, 2)]
    for _ in range(3):
        for c, axis, k in cases:
            assert_bitwise(g(x, c, axis, k), eager(g, x, c, axis, k))
        assert_bitwise(g(x[:, :2], np.ones(2), 0, 2), eager(g, x[:, :2], np.ones(2), 0, 2))
    out, f_vjp = cr.vjp(lambda x: cnp.tanh(x) * 2.0, x)
    for ct in [np.ones_like(x), 2 * np.ones_like(x), np.ones_like(x), x] * 2:
        want = eager(f_vjp, ct)
        assert_bitwise(f_vjp(ct), want)


def test_config_switch():
    f = cr.grad(lambda x: cnp.sum(cnp.sin(x) * x))
    x = np.linspace(0, 1, 5)
    try:
        cr.config.update("replay_backward", False)
        before = replays()
        for _ in range(4):
            f(x)
        assert replays() == before
    finally:
        cr.config.update("replay_backward", True)
    for _ in range(3):
        f(x)
    assert replays() > before


# ---------------------------------------------------------------- review findings

def test_updating_a_gradient_in_place_changes_no_later_result():
    """A gradient that does not depend on the inputs is a constant of the compiled code:
    the caller's copy must be its own (training loops do ``g *= lr``)."""
    g = cr.grad(lambda b, x: cnp.mean(x + b))

    def train():
        b, x = np.zeros(3), np.ones((4, 3))
        for _ in range(5):
            gb = g(b, x)
            gb *= 0.1
            b -= gb
        return b
    replay.cache_clear()
    got = train()
    assert_bitwise(got, eager(train))
    # a unit cotangent given as an array is not kept by the code either
    f = lambda x, W: x @ W
    x, W = np.array([0.3, 0.4]), np.array([[2.0], [3.0]])
    ct = np.array([1.0])
    _, vf = cr.vjp(f, x, W)
    vf(ct)
    vf(ct)
    ct[0] = 5.0
    assert_bitwise(vf(np.array([1.0])), eager(vf, np.array([1.0])))


def test_two_gradients_are_two_arrays():
    z = np.array([[0.1], [0.2]])
    g = cr.grad(lambda x, y: cnp.sum(cnp.sin((x + z) + (y + z))), argnums=(0, 1))
    h = cr.grad(lambda x, y: cnp.sum(cnp.sin(x + y)), argnums=(0, 1))
    x, y = np.array([[1.0, 2, 3]]), np.array([[0.5, 0.6, 0.7]])
    for fn in (g, h):
        for _ in range(4):
            gx, gy = fn(x, y)
            assert gx is not gy and not np.may_share_memory(gx, gy)
            assert_bitwise((gx, gy), eager(fn, x, y))


def test_scalar_inputs_are_not_replayed_and_keep_their_results():
    g = cr.grad(lambda x, p: cnp.sum(x ** p), argnums=(0, 1))
    m = cr.grad(lambda x, y: x * y, argnums=(0, 1))
    cases = [(g, np.array([0.0, 2.0]), 0.0), (g, np.array([np.inf, np.nan, 2.0]), 1.0),
             (m, 1.5, 2.5), (m, np.array(1.5), np.array(2.5)),
             (m, np.float64(1.5), np.float64(2.5))]
    before = replays()
    with np.errstate(invalid="ignore"):         # inf and nan inputs
        for _ in range(4):
            for fn, a, b in cases:
                assert_bitwise(fn(a, b), eager(fn, a, b))
    assert replays() == before


def test_signed_zeros_are_kept():
    x = np.array([-0.0, 1.0, -2.0])
    g = cr.grad(lambda x: cnp.sum(x * 0.0) + cnp.sum(x * x))
    for _ in range(4):
        got, want = g(x), eager(g, x)
        assert_bitwise(got, want)
        assert np.array_equal(np.signbit(got), np.signbit(want))
    f = cr.grad(lambda z, c: cnp.real(cnp.sum(z * c)))
    z = np.array([1 + 2j, -0.5 + 0j])
    for c in [0j] * 4 + [complex(-0.0, -0.0)] * 2:
        got, want = f(z, c), eager(f, z, c)
        assert np.array_equal(np.signbit(got.real), np.signbit(want.real))
        assert np.array_equal(np.signbit(got.imag), np.signbit(want.imag))
    _, vf = cr.vjp(lambda z: cnp.sum(cnp.conj(z) * z), np.array([1 + 2j, -0.5 + 0j, -1 - 0j]))
    for ct in [1 + 0j] * 3 + [complex(1, -0.0)] * 2:
        got, want = vf(ct)[0], eager(vf, ct)[0]
        assert np.array_equal(np.signbit(got.imag), np.signbit(want.imag))


def test_errstate_applies_to_what_the_code_computes_once():
    g = cr.grad(lambda x: cnp.sum((x * 1e300) * 1e300))
    x = np.array([1e-300, 2e-300])
    with np.errstate(over="ignore"):
        for _ in range(3):
            g(x)
    with np.errstate(all="raise"):
        with pytest.raises(FloatingPointError):
            g(x)


def test_a_structure_is_compiled_once_it_recurs(monkeypatch):
    """By default a structure is compiled the COMPILE_AFTER-th time it is seen: a
    program run only a few times never pays for compiling."""
    monkeypatch.setattr(replay, "COMPILE_AFTER", 8)
    g = cr.grad(lambda x: cnp.sum(cnp.tanh(x) ** 2))
    x = np.linspace(-1, 1, 5)
    want = eager(g, x)
    compiled, before = replay.cache_info().compiled, replays()
    for k in range(1, 11):
        assert_bitwise(g(x), want)
        assert replay.cache_info().compiled - compiled == (k >= 8)
        assert replays() - before == max(0, k - 7)


def test_memory_layouts_do_not_change_a_bit():
    """NumPy's reductions add in memory order: replayed code must make the arrays the
    eager walk makes (no rewrites that hand an input on as an output, no buffer reuse),
    and tapes with arrays that are not C-contiguous are walked eagerly (review 2)."""
    rng = np.random.default_rng(1)
    g = cr.grad(lambda b, w: cnp.sum(b.T * w), argnums=1)
    h = cr.grad(lambda x, w: cnp.sum(x * w), argnums=1)
    k = cr.grad(lambda x, v, w: cnp.sum(cnp.sin(x.T * w) * v), argnums=2)
    for _ in range(12):
        b = rng.random((53, 37)) * 10.0 ** rng.integers(-2, 2, (53, 37))
        w = np.ones((1, 1))
        assert_bitwise(g(b, w), eager(g, b, w))
        for x in (b, np.asfortranarray(b)):
            assert_bitwise(h(x, w), eager(h, x, w))
        v = rng.random((37, 53))
        assert_bitwise(k(b, v, w), eager(k, b, v, w))


_UNARY = [cnp.sin, cnp.tanh, lambda a: a * a, lambda a: cnp.exp(a * 0.01),
          lambda a: cnp.mean(a, axis=0, keepdims=True) + a, lambda a: a / 3.0, lambda a: -a,
          lambda a: cnp.sqrt(a * a + 1.0), lambda a: cnp.log(cnp.abs(a) + 1.0),
          lambda a: cnp.maximum(a, 0.1), lambda a: cnp.sum(a, axis=1, keepdims=True) * a,
          lambda a: cnp.where(a > 0.2, a, 0.5 * a), lambda a: cnp.max(a, axis=0) + a,
          lambda a: (a @ np.ones((a.shape[1], a.shape[1]))) / a.shape[1]]
_BINARY = [lambda a, b: a * b, lambda a, b: a + b, lambda a, b: a - b,
           lambda a, b: a / (b * b + 1.0), lambda a, b: cnp.hypot(a, b),
           lambda a, b: cnp.minimum(a, b)]


def test_random_programs_replay_bit_for_bit():
    """Random chains of elementwise operations, reductions and products, on values that
    span four decades: every replayed gradient equals the eager one bit for bit."""
    rng = np.random.default_rng(0)

    def program():
        ops = [(rng.integers(2), rng.integers(100), rng.integers(100), rng.integers(100))
               for _ in range(rng.integers(3, 10))]

        def f(a, b, w):
            vals = [a, b, a * w, b * w]
            for kind, i, j, k in ops:
                if kind:
                    vals.append(_UNARY[i % len(_UNARY)](vals[j % len(vals)]))
                else:
                    vals.append(_BINARY[i % len(_BINARY)](vals[j % len(vals)],
                                                          vals[k % len(vals)]))
            return cnp.sum(vals[-1] * w) + cnp.sum(vals[-2] * vals[-2]) + cnp.mean(vals[-3])
        return f

    def data():
        return [rng.random(s) * 10.0 ** rng.integers(-2, 2, s) - 0.3
                for s in ((17, 23), (17, 23), (1, 1))]
    compiled = replay.cache_info().compiled
    with np.errstate(all="ignore"):
        for _ in range(12):
            g = cr.grad(program(), argnums=(0, 1, 2))
            for args in (data(), data()):
                want = eager(g, *args)
                for _ in range(2):
                    assert_bitwise(g(*args), want)
    assert replay.cache_info().compiled - compiled >= 10
