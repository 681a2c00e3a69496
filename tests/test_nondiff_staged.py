"""The non-differentiable NumPy functions with a fixed output shape (any, all,
count_nonzero, isclose, allclose, array_equal, array_equiv, isreal, iscomplex,
isposinf, isneginf, isin, nanargmax, nanargmin) are staged and batched: against NumPy
in values, dtypes, shapes and result types; vmap against a loop of NumPy's own function
over the examples (random in_axes, any arguments batched); jit against NumPy on calls
with changing values and no re-trace; grad of functions that use them against finite
differences. argwhere, nonzero and flatnonzero work outside vmap and say clearly why
they cannot under it."""
import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from chainrule._src.interpreters.batching import ConcretizationError

nan, inf = np.nan, np.inf
_POOL = np.array([0.0, -0.0, 1.0, -1.0, 2.0, 0.5, 1.0 + 1e-9, 1e-9, nan, inf, -inf])


def _floats(rng, shape, special=True):
    """Values drawn from a small pool (ties, zeros, NaN, infinities) and normals."""
    pool = _POOL if special else _POOL[:8]
    x = rng.choice(pool, size=shape)
    normal = rng.random(shape) < 0.3
    return np.where(normal, rng.normal(size=shape), x)


def _complex(rng, shape):
    out = np.zeros(shape, complex)
    out.real = _floats(rng, shape)
    out.imag = np.where(rng.random(shape) < 0.4, 0.0, _floats(rng, shape))
    return out


def _ints(rng, shape, hi=4):
    return rng.integers(-1, hi, size=shape)


def _bools(rng, shape):
    return rng.random(shape) < 0.5


def _near(rng, a):
    """``a`` with some elements moved a little (close, or not quite)."""
    step = rng.choice([0.0, 1e-9, 1e-6, 1e-3, 1.0], size=np.shape(a))
    return a + step * rng.choice([-1, 1], size=np.shape(a))


def _nan_slices(rng, shape):
    """Floats with NaNs, none of whose slices along any axis is all NaN."""
    a = _floats(rng, shape)
    if a.ndim:
        first = np.zeros(shape, bool)
        for ax in range(a.ndim):
            idx = [slice(None)] * a.ndim
            idx[ax] = 0
            first[tuple(idx)] = True
        a = np.where(first & np.isnan(a), rng.normal(size=shape), a)
    elif np.isnan(a):
        a = np.float64(0.25)
    return np.asarray(a)


# (id, function of the arrays (called as cnp's and as NumPy's), generator of the arrays)
def _case(name, call, gen):
    return pytest.param(call, gen, id=name)


def _any_all_cases():
    out = []
    for fname in ("any", "all"):
        for dt, g in [("f", lambda r, s: _floats(r, s)), ("b", _bools), ("i", _ints),
                      ("c", _complex)]:
            for kw in [{}, {"axis": 0}, {"axis": -1, "keepdims": True}, {"axis": (0, 1)},
                       {"axis": ()}, {"keepdims": True}]:
                out.append(_case(f"{fname}-{dt}-{kw}",
                                 lambda m, a, fname=fname, kw=kw: getattr(m, fname)(a, **kw),
                                 lambda r, g=g: (g(r, (3, 4)),)))
        out += [
            _case(f"{fname}-where", lambda m, a, w, fname=fname:
                  getattr(m, fname)(a > 0, axis=1, where=w),
                  lambda r: (_floats(r, (3, 4)), _bools(r, (4,)))),
            _case(f"{fname}-where-keepdims", lambda m, a, w, fname=fname:
                  getattr(m, fname)(a, axis=None, keepdims=True, where=w),
                  lambda r: (_ints(r, (3, 4)), _bools(r, (3, 1)))),
            _case(f"{fname}-0d", lambda m, a, fname=fname: getattr(m, fname)(a),
                  lambda r: (np.asarray(_floats(r, ())),)),
            _case(f"{fname}-0d-axis0", lambda m, a, fname=fname: getattr(m, fname)(a, axis=0),
                  lambda r: (np.asarray(_ints(r, ())),)),
            _case(f"{fname}-empty", lambda m, a, fname=fname: getattr(m, fname)(a, axis=1),
                  lambda r: (np.zeros((0, 3)),)),
            _case(f"{fname}-empty-all", lambda m, a, fname=fname: getattr(m, fname)(a),
                  lambda r: (np.zeros((2, 0)),)),
            _case(f"{fname}-method", lambda m, a, fname=fname:
                  getattr(m.asarray(a) > 0.5, fname)(axis=0),
                  lambda r: (_floats(r, (3, 4)),)),
        ]
    return out


CASES = _any_all_cases() + [
    _case("count_nonzero", lambda m, a: m.count_nonzero(a), lambda r: (_ints(r, (3, 4)),)),
    _case("count_nonzero-axis", lambda m, a: m.count_nonzero(a, axis=0),
          lambda r: (_floats(r, (3, 4)),)),
    _case("count_nonzero-axes-keepdims", lambda m, a: m.count_nonzero(a, axis=(0, -1),
                                                                      keepdims=True),
          lambda r: (_complex(r, (2, 3, 4)),)),
    _case("count_nonzero-keepdims", lambda m, a: m.count_nonzero(a, keepdims=True),
          lambda r: (_bools(r, (3, 4)),)),
    _case("count_nonzero-0d", lambda m, a: m.count_nonzero(a), lambda r: (_ints(r, ()),)),
    _case("isclose", lambda m, a, b: m.isclose(a, b), lambda r: (lambda a: (a, _near(r, a)))(
        _floats(r, (3, 4)))),
    _case("isclose-equal_nan", lambda m, a, b: m.isclose(a, b, equal_nan=True),
          lambda r: (lambda a: (a, _near(r, a)))(_floats(r, (3, 4)))),
    _case("isclose-broadcast", lambda m, a, b: m.isclose(a, b, rtol=1e-3, atol=0),
          lambda r: (_floats(r, (3, 1)), _floats(r, (4,)))),
    _case("isclose-scalar", lambda m, a: m.isclose(a, 1.0), lambda r: (_near(r, np.ones(5)),)),
    _case("isclose-float32-weak", lambda m, a: m.isclose(a, 0.1, rtol=0, atol=0),
          lambda r: (np.where(r.random(4) < 0.5, np.float32(0.1), np.float32(0.2)),)),
    _case("isclose-tolerances", lambda m, a, b, rt, at: m.isclose(a, b, rt, at),
          lambda r: (_floats(r, (3, 4)), _floats(r, (4,)), r.choice([0, 1e-3, 1.0], 4),
                     r.choice([0, 1e-8, 0.5], (3, 1)))),
    _case("isclose-complex", lambda m, a, b: m.isclose(a, b, equal_nan=True),
          lambda r: (lambda a: (a, np.where(r.random(4) < 0.5, a, _complex(r, 4))))(
              _complex(r, 4))),
    _case("isclose-int", lambda m, a, b: m.isclose(a, b), lambda r: (_ints(r, 5), _ints(r, 5))),
    _case("isclose-0d", lambda m, a: m.isclose(a, 1.0), lambda r: (_near(r, np.array(1.0)),)),
    _case("allclose", lambda m, a, b: m.allclose(a, b),
          lambda r: (lambda a: (a, np.where(r.random(3) < 0.8, a, _near(r, a))))(
              _floats(r, 3, special=False))),
    _case("allclose-equal_nan", lambda m, a, b: m.allclose(a, b, equal_nan=True),
          lambda r: (lambda a: (a, np.where(r.random(3) < 0.8, a, _near(r, a))))(
              _floats(r, 3))),
    _case("allclose-broadcast", lambda m, a, b: m.allclose(a, b, atol=0.6),
          lambda r: (r.choice([0.0, 1.0], (2, 1)), r.choice([0.0, 0.5, 1.0], 3))),
    _case("allclose-0d", lambda m, a, b: m.allclose(a, b),
          lambda r: (np.asarray(r.choice([1.0, 2.0])), np.asarray(r.choice([1.0, 2.0])))),
    _case("array_equal", lambda m, a, b: m.array_equal(a, b),
          lambda r: (lambda a: (a, np.where(r.random(3) < 0.85, a, 0.0)))(
              _floats(r, 3, special=False))),
    _case("array_equal-equal_nan", lambda m, a, b: m.array_equal(a, b, equal_nan=True),
          lambda r: (lambda a: (a, np.where(r.random(3) < 0.85, a, nan)))(
              r.choice([0.0, 1.0, nan], 3))),
    _case("array_equal-complex-nan", lambda m, a, b: m.array_equal(a, b, equal_nan=True),
          lambda r: (r.choice([1 + 1j, complex(nan, 1), complex(1, nan)], 2),
                     r.choice([1 + 1j, complex(nan, 2)], 2))),
    _case("array_equal-int", lambda m, a, b: m.array_equal(a, b, equal_nan=True),
          lambda r: (_ints(r, 2, 2), _ints(r, 2, 2))),
    _case("array_equal-shapes", lambda m, a, b: m.array_equal(a, b),
          lambda r: (_floats(r, 3), _floats(r, 2))),
    _case("array_equiv", lambda m, a, b: m.array_equiv(a, b),
          lambda r: (r.choice([0.0, 1.0], (2, 2)), r.choice([0.0, 1.0], 2))),
    _case("array_equiv-shapes", lambda m, a, b: m.array_equiv(a, b),
          lambda r: (_floats(r, (2, 3)), _floats(r, 2))),
    _case("isreal", lambda m, a: m.isreal(a), lambda r: (_complex(r, (3, 2)),)),
    _case("isreal-real", lambda m, a: m.isreal(a), lambda r: (_floats(r, 3),)),
    _case("isreal-0d", lambda m, a: m.isreal(a), lambda r: (np.asarray(_complex(r, ())),)),
    _case("iscomplex", lambda m, a: m.iscomplex(a), lambda r: (_complex(r, (3, 2)),)),
    _case("iscomplex-real", lambda m, a: m.iscomplex(a), lambda r: (_ints(r, 3),)),
    _case("iscomplex-0d", lambda m, a: m.iscomplex(a), lambda r: (np.asarray(_complex(r, ())),)),
    _case("isposinf", lambda m, a: m.isposinf(a), lambda r: (_floats(r, (3, 4)),)),
    _case("isneginf", lambda m, a: m.isneginf(a), lambda r: (_floats(r, (3, 4)),)),
    _case("isneginf-0d", lambda m, a: m.isneginf(a), lambda r: (np.asarray(_floats(r, ())),)),
    _case("isin", lambda m, a, t: m.isin(a, t), lambda r: (_ints(r, (3, 4)), _ints(r, 3))),
    _case("isin-invert", lambda m, a, t: m.isin(a, t, invert=True),
          lambda r: (_ints(r, 5), _ints(r, (2, 2)))),
    _case("isin-float-nan", lambda m, a, t: m.isin(a, t),
          lambda r: (_floats(r, 6), _floats(r, 4))),
    _case("isin-mixed", lambda m, a, t: m.isin(a, t), lambda r: (_ints(r, 6), r.choice(
        [0.0, 1.0, 2.5, nan], 3))),
    _case("isin-complex", lambda m, a, t: m.isin(a, t),
          lambda r: (r.choice([1j, 1.0, complex(nan, 0), 2.0], 5),
                     r.choice([1j, 1.0, complex(nan, 0)], 2))),
    _case("isin-0d", lambda m, a, t: m.isin(a, t),
          lambda r: (np.asarray(_ints(r, ())), _ints(r, 2))),
    _case("isin-table", lambda m, a, t: m.isin(a, t, kind="table"),
          lambda r: (_ints(r, 5), _ints(r, 3))),
    _case("isin-assume_unique", lambda m, a, t: m.isin(a, t, assume_unique=True),
          lambda r: (r.permutation(5), r.permutation(6)[:3])),
    _case("isin-empty-test", lambda m, a, t: m.isin(a, t, invert=True),
          lambda r: (_ints(r, 3), np.zeros(0, int))),
    _case("nanargmax", lambda m, a: m.nanargmax(a), lambda r: (_nan_slices(r, (3, 4)),)),
    _case("nanargmin", lambda m, a: m.nanargmin(a), lambda r: (_nan_slices(r, (3, 4)),)),
    _case("nanargmax-axis", lambda m, a: m.nanargmax(a, axis=1),
          lambda r: (_nan_slices(r, (3, 4)),)),
    _case("nanargmin-axis0-keepdims", lambda m, a: m.nanargmin(a, axis=0, keepdims=True),
          lambda r: (_nan_slices(r, (3, 4)),)),
    _case("nanargmax-keepdims", lambda m, a: m.nanargmax(a, keepdims=True),
          lambda r: (_nan_slices(r, (3, 4)),)),
    _case("nanargmax-neg-axis", lambda m, a: m.nanargmax(a, axis=-2),
          lambda r: (_nan_slices(r, (2, 3, 4)),)),
    _case("nanargmin-complex", lambda m, a: m.nanargmin(a, axis=0),
          lambda r: (_nan_slices(r, (3, 2)) + 1j * _ints(r, (3, 2)),)),
    _case("nanargmax-int", lambda m, a: m.nanargmax(a, axis=0), lambda r: (_ints(r, (3, 2)),)),
    _case("nanargmax-0d", lambda m, a: m.nanargmax(a), lambda r: (_nan_slices(r, ()),)),
    _case("nanargmin-0d-axis", lambda m, a: m.nanargmin(a, axis=0, keepdims=True),
          lambda r: (_nan_slices(r, ()),)),
]


def _same(got, want, what):
    """Same value, dtype, shape and Python type (NumPy scalar, array or Python bool)."""
    assert type(got) is type(want), (what, type(got), type(want))
    g, w = np.asarray(got), np.asarray(want)
    assert g.shape == w.shape and g.dtype == w.dtype, (what, g.shape, w.shape, g.dtype, w.dtype)
    np.testing.assert_array_equal(g, w, err_msg=str(what))


def _loop_args(gen, rng, n):
    """``n`` examples of the arrays (shapes and dtypes fixed by the generator)."""
    return [gen(rng) for _ in range(n)]


@pytest.mark.parametrize("call,gen", CASES)
def test_values_types_and_jit_without_retrace(call, gen):
    rng = np.random.default_rng(0)
    examples = _loop_args(gen, rng, 4)
    f = cr.jit(lambda *a: call(cnp, *a))
    for args in examples:
        want = call(np, *args)
        _same(call(cnp, *args), want, "plain")
        _same(f(*args), want, "jit")
        # inside a transformation that keeps values (reverse mode: NumPy's own types)
        aux = cr.grad(lambda x, *a: (cnp.sum(x), call(cnp, *a)), has_aux=True)(1.0, *args)[1]
        _same(aux, want, "grad aux")
    info = f.cache_info()
    assert info.retraces == 0 and info.misses == 1, info


@pytest.mark.parametrize("call,gen", CASES)
def test_vmap_matches_a_loop(call, gen):
    rng = np.random.default_rng(1)
    n = 3
    f = lambda *a: call(cnp, *a)                                 # noqa: E731
    nargs = len(gen(rng))
    masks = [tuple(bool(b) for b in rng.random(nargs) < 0.5) for _ in range(3)]
    masks += [(True,) * nargs, tuple(k == nargs - 1 for k in range(nargs))]
    for batched in masks:
        if not np.any(batched):
            continue
        examples = _loop_args(gen, rng, n)
        fixed = examples[0]
        args, in_axes = [], []
        for k in range(nargs):
            if batched[k]:
                ax = int(rng.integers(0, np.ndim(fixed[k]) + 1))
                args.append(np.stack([np.asarray(e[k]) for e in examples], axis=ax))
                in_axes.append(ax)
            else:
                args.append(fixed[k])
                in_axes.append(None)
        want = np.stack([np.asarray(call(np, *[e[k] if batched[k] else fixed[k]
                                               for k in range(nargs)])) for e in examples])
        got = cr.vmap(f, in_axes=tuple(in_axes))(*args)
        assert isinstance(got, np.ndarray)
        _same(got, want, ("vmap", batched, in_axes))
        # the same under jit: staged, batched, no re-trace on new values
        jf = cr.jit(cr.vmap(f, in_axes=tuple(in_axes)))
        _same(jf(*args), want, ("jit(vmap)", batched, in_axes))


@pytest.mark.parametrize("name", ["any", "isclose", "isin", "nanargmax", "count_nonzero",
                                  "allclose", "array_equal"])
def test_nested_vmap(name):
    rng = np.random.default_rng(2)
    calls = {
        "any": (lambda m, a, b: m.any(a > b, axis=0), lambda: (_floats(rng, (3, 2, 4)),
                                                            _floats(rng, (5, 4)))),
        "isclose": (lambda m, a, b: m.isclose(a, b), lambda: (_floats(rng, (3, 2, 4)),
                                                             _floats(rng, (5, 4)))),
        "isin": (lambda m, a, b: m.isin(a, b), lambda: (_ints(rng, (3, 2, 4)),
                                                       _ints(rng, (5, 4)))),
        "nanargmax": (lambda m, a, b: m.nanargmax(a * b), lambda: (
            _nan_slices(rng, (3, 2, 4)), rng.normal(size=(5, 4)))),
        "count_nonzero": (lambda m, a, b: m.count_nonzero(a - b, axis=0),
                          lambda: (_ints(rng, (3, 2, 4)), _ints(rng, (5, 4)))),
        "allclose": (lambda m, a, b: m.allclose(a, b, atol=0.5),
                     lambda: (rng.choice([0., 1.], (3, 2, 4)), rng.choice([0., 1.], (5, 4)))),
        "array_equal": (lambda m, a, b: m.array_equal(a, b),
                        lambda: (rng.choice([0., 1.], (3, 2, 2)), rng.choice([0., 1.], (5, 2)))),
    }
    call, gen = calls[name]
    A, B = gen()
    got = cr.vmap(cr.vmap(lambda a, b: call(cnp, a, b), in_axes=(None, 0)),
                  in_axes=(1, None))(A, B)
    want = np.stack([np.stack([np.asarray(call(np, A[:, i], B[j])) for j in range(B.shape[0])])
                     for i in range(A.shape[1])])
    _same(got, want, name)


def test_the_common_lines_batch():
    X = np.random.default_rng(3).normal(size=(6, 4))
    np.testing.assert_array_equal(cr.vmap(lambda x: cnp.any(x > 0))(X), np.any(X > 0, axis=1))
    np.testing.assert_array_equal(cr.vmap(lambda x: (x > -1).all())(X), np.all(X > -1, axis=1))
    np.testing.assert_array_equal(cr.vmap(lambda x: x.any(axis=0, keepdims=True))(X > 0),
                                  np.any(X > 0, axis=1, keepdims=True))
    # np's own functions reach chainrule's on traced values
    np.testing.assert_array_equal(cr.vmap(lambda x: np.isclose(x, X[0]))(X),
                                  np.isclose(X, X[0]))
    np.testing.assert_array_equal(cr.vmap(lambda x: np.allclose(x, X[0]))(X),
                                  [True] + [False] * 5)


def test_jit_stages_instead_of_guarding():
    """The compiled program is reused whatever the answers (before: a re-trace each
    time an answer changed)."""
    f = cr.jit(lambda x: cnp.where(cnp.any(x > 1), x, -x) * cnp.count_nonzero(x > 0)
               + cnp.nanargmax(x) + cnp.isin(x, [1.0, 2.0]))
    rng = np.random.default_rng(4)
    for _ in range(6):
        x = rng.choice([0.0, 1.0, 2.0, -1.0, 3.0, nan], 5)
        x[0] = 0.5
        want = (np.where(np.any(x > 1), x, -x) * np.count_nonzero(x > 0)
                + np.nanargmax(x) + np.isin(x, [1.0, 2.0]))
        np.testing.assert_array_equal(f(x), want)
    assert f.cache_info().retraces == 0
    # a Python branch on allclose guards its answer only (not the values)
    g = cr.jit(lambda x: x * 2 if cnp.allclose(x, 1.0) else x - 1)
    for x in [np.ones(3), np.ones(3) + 1e-12, np.ones(3) - 1e-11]:
        np.testing.assert_array_equal(g(x), x * 2)
    assert g.cache_info().retraces == 0
    np.testing.assert_array_equal(g(np.zeros(3)), -np.ones(3))


def _fd(f, x, eps=1e-6):
    g = np.zeros_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e.flat[i] = eps
        g.flat[i] = (f(x + e) - f(x - e)) / (2 * eps)
    return g


GRAD_FUNS = [
    lambda m, x: m.sum(m.where(m.isclose(x, 1), 0, x ** 2)),
    lambda m, x: m.sum(m.where(m.isclose(x, 1.5, atol=0.3), x ** 3, x)),
    lambda m, x: m.sum(x ** 2) * m.count_nonzero(x > 0),
    lambda m, x: m.where(m.all(x > -5), m.sum(m.sin(x)), 0.0),
    lambda m, x: m.where(m.any(x > 1, axis=0), x[0] ** 2, x[1]).sum(),
    lambda m, x: x.ravel()[m.nanargmax(x)] ** 2 + x.ravel()[m.nanargmin(x)],
    lambda m, x: m.sum(m.take(x, m.nanargmax(x, axis=0))),
    lambda m, x: m.sum(m.where(m.isin(m.round(x), [1.0, 2.0]), m.exp(x), 2 * x)),
    lambda m, x: m.sum(m.where(m.isposinf(1 / (x - x.ravel()[0])), 0.0, x ** 2)),
    lambda m, x: m.sum(x * m.isreal(x) + m.allclose(x, 0.0) + m.array_equal(x, x)),
]


@pytest.mark.parametrize("k", range(len(GRAD_FUNS)))
def test_grad_matches_finite_differences(k):
    fun = GRAD_FUNS[k]
    rng = np.random.default_rng(5 + k)
    x = rng.normal(size=(2, 3)) + 1.0
    x.flat[1] = 1.0                                        # an isclose / isin hit
    f = lambda x: fun(cnp, x)                              # noqa: E731
    with np.errstate(divide="ignore", invalid="ignore"):
        want = _fd(lambda v: fun(np, v), x)
        np.testing.assert_allclose(cr.grad(f)(x), want, rtol=1e-6, atol=1e-6)
        jg = cr.jit(cr.grad(f))
        np.testing.assert_allclose(jg(x), want, rtol=1e-6, atol=1e-6)
        X = np.stack([x, x + rng.normal(size=x.shape), x * 2])
        loop = np.stack([cr.grad(f)(v) for v in X])
        np.testing.assert_allclose(cr.vmap(cr.grad(f))(X), loop, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", ["nonzero", "argwhere", "flatnonzero", "method"])
def test_value_shaped_results_refuse_vmap_clearly(name):
    X = np.array([[0.0, 1.0, 2.0], [3.0, 0.0, 0.0]])
    fn = (lambda x: x.nonzero()) if name == "method" else getattr(cnp, name)
    with pytest.raises(ConcretizationError, match=r"chainrule\.numpy\.(nonzero|argwhere|"
                       r"flatnonzero).*vmap cannot batch.*count_nonzero"):
        cr.vmap(fn)(X)
    # outside vmap: NumPy's answer, also under grad and jit
    np_fn = (lambda x: x.nonzero()) if name == "method" else getattr(np, name)
    for x in X:
        want = np_fn(x)
        for got in (fn(x), cr.jit(fn)(x),
                    cr.grad(lambda v: (cnp.sum(v), fn(v)), has_aux=True)(x)[1]):
            for g, w in zip(got if isinstance(want, tuple) else [got],
                            want if isinstance(want, tuple) else [want]):
                _same(g, w, name)
    # jit: a guard on where the values are nonzero, not on the values
    jf = cr.jit(fn)
    jf(X[0])
    jf(X[0] * 7.0)
    assert jf.cache_info().retraces == 0
    jf(X[1])
    assert jf.cache_info().retraces == 1


def test_errors_are_numpys():
    X = np.array([[1.0, nan], [nan, nan]])
    with pytest.raises(ValueError, match="All-NaN slice encountered"):
        cr.vmap(cnp.nanargmax)(X)
    with pytest.raises(ValueError, match="All-NaN slice encountered"):
        cr.jit(cnp.nanargmin)(X[1])
    np.testing.assert_array_equal(cr.vmap(cnp.nanargmax, in_axes=1)(X[:, :1]), [0])
    for fn, kw, err in [(cnp.any, {"axis": 2}, np.exceptions.AxisError),
                        (cnp.count_nonzero, {"axis": (0, 0)}, ValueError),
                        (cnp.nanargmax, {"axis": -3}, np.exceptions.AxisError),
                        (cnp.all, {"where": np.ones(3, bool)}, ValueError),
                        (cnp.any, {"where": np.ones(2)}, TypeError)]:
        np_fn = getattr(np, fn.__name__)
        with pytest.raises(err) as want:
            np_fn(np.ones((2, 2)), **kw)
        with pytest.raises(err) as got:
            cr.vmap(lambda x: fn(x, **kw))(np.ones((3, 2, 2)))
        assert str(got.value) == str(want.value)
    with pytest.raises(TypeError, match="not supported for complex"):
        cr.vmap(cnp.isposinf)(np.ones((2, 2), complex))
    with pytest.raises(ValueError, match="broadcast"):
        cr.vmap(lambda x: cnp.isclose(x, np.ones(3)))(np.ones((2, 2)))
    with pytest.raises(ValueError, match="table"):
        cr.vmap(lambda x: cnp.isin(x, [1.0], kind="table"))(np.ones((2, 2)))


def test_memory_and_scalar_questions_under_jit_raise_instead_of_a_traced_answer():
    # jit answered these from copies made while tracing: shares_memory(a, a) was False
    # (NumPy: True), may_share_memory(a, a[1:]) False, isscalar(np.float64(2.0)) False,
    # and the answer was frozen into the compiled program.
    x = np.arange(3.0)
    with pytest.raises(NotImplementedError, match="shares_memory"):
        cr.jit(lambda a, b: a * 0 + cnp.shares_memory(a, b))(x, x)
    with pytest.raises(NotImplementedError, match="may_share_memory"):
        cr.jit(lambda a: a + cnp.may_share_memory(a, a[1:]))(x)
    with pytest.raises(NotImplementedError, match="isscalar"):
        cr.jit(lambda a: a + cnp.isscalar(a))(np.float64(2.0))
    with pytest.raises(NotImplementedError, match="isscalar"):
        cr.vmap(lambda a: a + cnp.isscalar(a))(x)


def test_memory_and_scalar_questions_eagerly_are_numpys():
    x = np.arange(3.0)
    # reverse and forward tracers hold NumPy's own values: NumPy's answers
    g = cr.grad(lambda a: (cnp.isscalar(a[0]) + cnp.shares_memory(a, a[1:])
                           + 2 * cnp.may_share_memory(a, a.copy())) * a[0])(x)
    assert g[0] == float(np.isscalar(x[0]) + np.shares_memory(x, x[1:])
                         + 2 * np.may_share_memory(x, x.copy())) == 2.0
    assert cnp.isscalar(3.0) and not cnp.isscalar(x)


def test_isscalar_of_an_array_under_jit_is_false_without_a_value_guard():
    # an array of one or more dimensions is never a scalar: no guard on its values, so
    # new values do not trace again (it recorded a value guard and re-traced per call)
    f = cr.jit(lambda a: a * (1.0 + cnp.isscalar(a)))
    for k in range(4):
        np.testing.assert_array_equal(f(np.arange(3.0) + k), np.arange(3.0) + k)
    assert f.cache_info().misses == 1 and f.cache_info().retraces == 0


def test_integer_and_boolean_sums_under_jit_are_staged_not_read():
    # cnp.sum of a bool or integer traced value was computed from its value while
    # tracing, with a guard on the whole array: each new count (or new integer data)
    # traced again, and after 10 a warning
    f = cr.jit(lambda x: cnp.sum(x > 0) * x)
    h = cr.jit(lambda x, i: x.sum(0) + i.sum(0))
    for k in range(6):
        x = np.arange(5.0) - k
        np.testing.assert_array_equal(f(x), np.sum(x > 0) * x)
        i = np.arange(6).reshape(2, 3) * k
        np.testing.assert_array_equal(h(np.ones((2, 3)), i), 2.0 + i.sum(0))
    assert f.cache_info().retraces == 0 and h.cache_info().retraces == 0
    # Python reading the count still guards (a slice bound): new counts trace again
    g = cr.jit(lambda x: x[:cnp.sum(x > 0)].sum())
    assert [g(np.arange(5.0) - k) for k in range(3)] == [6.0, 0.0, -3.0]


def test_numpy_arrays_indexed_by_traced_integers_under_jit_read_the_indices():
    # slope[np.digitize(x, edges)] with slope a NumPy array: NumPy converts the index,
    # which raised TracerConversionError under jit (eagerly the index is NumPy's own
    # integer array); an integer index drops no derivative: its value is read (a guard)
    from chainrule._src.core import TracerConversionError
    slope, edges = np.array([1.0, 2.0, 3.0, 4.0]), np.array([0.0, 1.0, 2.0])
    f = lambda x: cnp.sum(slope[np.digitize(x, edges)] * x)
    jf, jg = cr.jit(f), cr.jit(cr.grad(f))
    for k in range(3):
        x = np.array([0.5, 1.5, 2.5, -1.0]) + k
        assert jf(x) == f(x)
        np.testing.assert_array_equal(jg(x), cr.grad(f)(x))
    with pytest.raises(ConcretizationError):
        cr.vmap(f)(np.ones((2, 4)))
    with pytest.raises(TracerConversionError):          # a float index still refuses
        cr.jit(lambda x: cnp.sum(np.asarray(x * 1.0)))(np.ones(3))
