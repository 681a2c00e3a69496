"""The fast path of sum/mean/max/min (dispatch.py's ``fast``, basic.py's ``_*_fast``)
agrees with the full path bit for bit: the same graphs, generated sources, values,
dtypes and layouts, and the same errors; and it is taken where it should be."""
import itertools

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from chainrule._src.core import _state, Tracer
from chainrule._src.numpy import basic

FUNCS = ["sum", "mean", "max", "min", "amax", "amin"]
SHAPES = [(), (0,), (3, 0), (5,), (2, 3, 4)]
DTYPES = [np.bool_, np.int8, np.int64, np.uint8, np.float16, np.float32, np.float64,
          np.complex64, np.complex128]
AXES = [None, 0, 1, -1, -2, 3, (), (0,), (0, -1), (-1, 0), (1, 1), np.int64(1), True, [0]]
KEEPDIMS = [False, True, np.True_, 1]


def _data(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape) * 3
    if np.dtype(dtype).kind == "c":
        x = x + 1j * rng.standard_normal(shape)
    if np.dtype(dtype).kind == "b":
        x = x > 0
    return np.asarray(x).astype(dtype)


def _call(name, full, style, x, axis, keepdims):
    """``name``'s reduction of ``x``: fast (the public function) or full (the wrapper
    behind it), as a function, a method or with ``axis`` positional."""
    fn = getattr(cnp, name)
    if full:
        fn = fn.__wrapped__
    kw = {} if keepdims is None else {"keepdims": keepdims}
    if style == "method":
        if full:
            return fn(x, axis=axis, **kw)
        return getattr(x, name)(axis=axis, **kw)
    if style == "positional":
        return fn(x, axis, **kw)
    return fn(x, axis=axis, **kw)


def _outcome(thunk):
    try:
        return "ok", thunk()
    except Exception as e:                     # the same error on both paths
        return "err", (type(e), str(e))


def _graph(name, full, style, x, axis, keepdims):
    g = _outcome(lambda: cr.make_graph(
        lambda t: _call(name, full, style, t, axis, keepdims))(x))
    return g if g[0] == "err" else ("ok", str(g[1]))


def test_fast_path_is_the_public_function():
    for name in ["sum", "mean", "max", "min"]:
        assert getattr(Tracer, name) is getattr(basic, name)
        assert getattr(cnp, name).__wrapped__ is not getattr(cnp, name)


@pytest.mark.parametrize("name", FUNCS)
def test_graphs_agree(name):
    styles = ["function", "positional"] + (["method"] if name in ("sum", "mean", "max", "min")
                                           else [])
    for shape, dtype in itertools.product(SHAPES, DTYPES):
        x = _data(shape, dtype)
        for axis, keepdims in itertools.product(AXES, KEEPDIMS + [None]):
            for style in styles:
                if style == "positional" and keepdims is None:
                    continue
                fast = _graph(name, False, style, x, axis, keepdims)
                full = _graph(name, True, style, x, axis, keepdims)
                assert fast == full, (name, shape, dtype, axis, keepdims, style)


def _vjp_case(name, full, x, axis, keepdims):
    """Values, dtype and layout of the primal and of the derivative (cotangent: ones)."""
    f = lambda t: _call(name, full, "function", t, axis, keepdims)   # noqa: E731
    out, pull = cr.vjp(f, x)
    (g,) = pull(np.ones_like(out))
    return [(np.asarray(v).tobytes(), np.asarray(v).dtype, np.shape(v),
             getattr(v, "strides", None), type(v)) for v in (out, g)]


VALUE_AXES = [None, 0, -1, (0, -1), (), (-1, 0)]


@pytest.mark.parametrize("name", FUNCS)
def test_values_agree(name):
    for shape, dtype in itertools.product([(), (5,), (2, 3, 4), (3, 0)],
                                          [np.float16, np.float32, np.float64,
                                           np.complex64, np.complex128]):
        if name not in ("sum", "mean") and np.dtype(dtype).kind == "c":
            continue
        x = _data(shape, dtype, seed=1)
        for axis, keepdims in itertools.product(VALUE_AXES, [False, True]):
            fast = _outcome(lambda: _vjp_case(name, False, x, axis, keepdims))
            full = _outcome(lambda: _vjp_case(name, True, x, axis, keepdims))
            assert fast == full, (name, shape, dtype, axis, keepdims)


@pytest.mark.parametrize("name", ["sum", "mean", "max"])
def test_jit_sources_and_vmap_agree(name):
    for dtype in [np.float32, np.float64, np.int64, np.bool_]:
        x = _data((4, 3, 2), dtype, seed=2)
        for axis, keepdims in [(None, False), (1, True), ((0, -1), False), (-1, False)]:
            f = [lambda t, full=full: _call(name, full, "function", t, axis, keepdims)
                 for full in (False, True)]
            srcs = [cr.jit(g).lower(x)[1] for g in f]
            assert srcs[0] == srcs[1]
            vals = [cr.vmap(g)(x) for g in f]
            assert vals[0].dtype == vals[1].dtype
            assert vals[0].tobytes() == vals[1].tobytes()


def test_mlp_style_grad_agrees():
    x = _data((8, 5), np.float64, seed=3)

    def loss(t, full):
        red = {n: (getattr(cnp, n).__wrapped__ if full else getattr(cnp, n))
               for n in ("max", "sum", "mean")}
        z = t - red["max"](t, axis=1, keepdims=True)
        return red["mean"](cnp.log(red["sum"](cnp.exp(z), axis=1)) - red["sum"](z, axis=1))

    fast = cr.value_and_grad(lambda t: loss(t, False))(x)
    full = cr.value_and_grad(lambda t: loss(t, True))(x)
    assert fast[0] == full[0] and fast[1].tobytes() == full[1].tobytes()
    assert str(cr.make_graph(cr.grad(lambda t: loss(t, False)))(x)) == \
        str(cr.make_graph(cr.grad(lambda t: loss(t, True)))(x))


def _taken(fast, x, axis, keepdims):
    seen = []

    def f(t):
        seen.append(fast(_state.trace, t, axis, keepdims) is not None)
        return t

    cr.make_graph(f)(x)
    return seen[0]


def test_fast_path_taken_and_declined():
    f64, f32 = _data((2, 3), np.float64), _data((2, 3), np.float32)
    for fast in (basic._sum_fast, basic._mean_fast, basic._max_fast, basic._min_fast):
        assert _taken(fast, f64, 1, True)
        assert _taken(fast, f64, None, False)
        assert _taken(fast, f64, (0, -1), False)
        assert _taken(fast, f32, -1, False)
        assert not _taken(fast, f64, (), False)       # the full path's copy
        assert not _taken(fast, f64, 1, np.True_)
        assert not _taken(fast, f64, np.int64(1), False)
        assert not _taken(fast, f64, [1], False)
        assert not _taken(fast, f64, 2, False)        # the full path's AxisError
    for fast in (basic._sum_fast, basic._mean_fast):
        assert not _taken(fast, _data((2, 3), np.int64), 1, False)
        assert not _taken(fast, _data((2, 3), np.bool_), 1, False)
    assert not _taken(basic._mean_fast, _data((2, 3), np.float16), 1, False)
    assert not _taken(basic._mean_fast, _data((2, 3), np.complex64), 1, False)
    assert not _taken(basic._mean_fast, _data((2, 0), np.float64), 1, False)
    assert _taken(basic._max_fast, _data((2, 3), np.int64), 1, False)
    assert not _taken(basic._max_fast, _data((2, 0), np.float64), 0, False)
