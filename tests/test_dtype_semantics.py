"""NumPy's dtypes and values under every transformation, and derivatives at the points
where a derivative formula needs care (regressions of silent wrong answers):

- ``divmod`` with a Python int keeps a small integer dtype (NEP 50 weak scalars);
- ``ldexp`` and ``frexp`` follow NumPy's loops (bool -> float16, float32 stays float32);
- ``heaviside`` is ``x2`` where ``x1 == 0`` (derivative 1 in ``x2`` there);
- ``copysign(x, y)`` at ``y = +-0`` takes ``y``'s sign bit (derivative +-1, not 0);
- a jvp's tangent has its primal's dtype (``ptp`` of float32, float32 % int32, a real
  array minus a complex one), in jvp, jacfwd, linearize and hvp.
- inside a float32 program tangents and cotangents are float32 (max/min tie weights,
  maximum/minimum's choice weights), and a derivative of +-1 hands on a tangent in its
  output's dtype (float32 % int32: float64);
- lstsq's rank and scipy.linalg.lu's p_indices are int32 (LAPACK's, as NumPy/SciPy).

(The op database's generic tests, tests/test_op_db.py, compare every row's dtypes with
NumPy's under jit, vmap and vjp, and each jvp tangent's with its primal's.)
"""
import warnings

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from chainrule.test_util import check_grads

_I32 = np.array([5, -3, 9, 0, -7], np.int32)


def _dtypes(tree):
    return [np.asarray(x).dtype for x in cr.tree_util.tree_flatten(tree)[0]]


def _transforms(f, x):
    """f(x) eagerly under vjp (a traced x), jit and vmap (a batch of one)."""
    out = {"jit": cr.jit(f)(x), "vmap": cr.tree_util.tree_map(lambda o: o[0],
                                                             cr.vmap(f)(x[None]))}
    if np.asarray(x).dtype.kind in "fc":
        out["vjp"] = cr.vjp(f, x)[0]
    return out


def _assert_numpy(f_np, f_cr, x):
    want = f_np(x)
    for how, got in _transforms(f_cr, x).items():
        assert _dtypes(got) == _dtypes(want), (how, _dtypes(got), _dtypes(want))
        for g, w in zip(cr.tree_util.tree_flatten(got)[0],
                        cr.tree_util.tree_flatten(want)[0]):
            np.testing.assert_array_equal(g, w, err_msg=how)


# ------------------------------------------------------------------ divmod, ldexp, frexp

@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int32, np.uint8, np.float16,
                                   np.float32])
def test_divmod_with_a_python_scalar_keeps_the_array_dtype(dtype):
    x = np.abs(_I32).astype(dtype)
    for y in (7, 2.5):
        _assert_numpy(lambda x: np.divmod(x, y), lambda x: cnp.divmod(x, y), x)
        _assert_numpy(lambda x: np.divmod(y, x + 1), lambda x: cnp.divmod(y, x + 1), x)


# (NumPy's loops: bool, int8, uint8 -> float16; int16 -> float32; wider -> float64)
_LDEXP_X = [_I32 > 0, _I32.astype(np.int8), _I32.astype(np.uint8), _I32.astype(np.int16),
            _I32, _I32.astype(np.float16), _I32.astype(np.float32), _I32.astype(np.float64)]


@pytest.mark.parametrize("e", [2, np.int32(-3), np.array([1, -3, 0, 5, 2], np.int8),
                               np.array([1, 2, 3, 4, -20], np.int64)],
                         ids=["int", "np.int32", "int8", "int64"])
def test_ldexp_follows_numpy_loops(e):
    for x in _LDEXP_X:
        _assert_numpy(lambda x: np.ldexp(x, e), lambda x: cnp.ldexp(x, e), x)


def test_ldexp_of_python_scalars_and_unsupported_types():
    e = np.array([1, 2, 3], np.int32)
    for x1 in (3, 3.5, True):      # a Python int is weak: ldexp(3, int32) is float16
        want = np.ldexp(x1, e)
        got = cr.jit(lambda e: cnp.ldexp(x1, e))(e)
        assert got.dtype == want.dtype and np.array_equal(got, want), (x1, got, want)
    for bad in (np.array([1, 2], np.uint64), np.array([1.0, 2.0])):
        with pytest.raises(TypeError):
            np.ldexp(np.ones(2), bad)
        with pytest.raises(TypeError):
            cr.jit(lambda x: cnp.ldexp(x, bad))(np.ones(2))


def test_frexp_follows_numpy_loops():
    for x in [_I32 > 0, _I32.astype(np.int8), _I32.astype(np.int16), _I32,
              np.array([1.5, -2.25, 0.0, 6e4, 6e-8], np.float16),
              np.array([1.3, -2.7, 0.0, 3e38, 1e-45], np.float32)]:
        _assert_numpy(np.frexp, cnp.frexp, x)


def test_ldexp_and_frexp_derivatives_keep_float32():
    x = np.array([1.3, -2.7, 0.4], np.float32)
    e = np.array([3, -2, 0], np.int8)
    g = cr.grad(lambda x: cnp.sum(cnp.ldexp(x, e)))(x)
    assert g.dtype == np.float32
    np.testing.assert_array_equal(g, np.ldexp(np.float32(1), e))
    out, t = cr.jvp(lambda x: cnp.ldexp(x, e), (x,), (np.ones_like(x),))
    assert out.dtype == t.dtype == np.float32
    np.testing.assert_array_equal(t, np.ldexp(np.float32(1), e))
    (m, ex), (tm, te) = cr.jvp(cnp.frexp, (x,), (np.ones_like(x),))
    assert m.dtype == tm.dtype == np.float32 and ex.dtype == np.int32
    np.testing.assert_array_equal(tm, np.ldexp(np.float32(1), -ex))


# ------------------------------------------------------------------ heaviside, copysign

def test_heaviside_is_linear_in_x2_where_x1_is_zero():
    x1 = np.array([0.0, 1.0, 0.0, -2.0])
    b = np.array([0.5, -1.5, 2.0, 0.3])
    f = lambda b: cnp.heaviside(x1, b)
    np.testing.assert_array_equal(cr.grad(lambda b: cnp.sum(f(b)))(b), [1, 0, 1, 0])
    np.testing.assert_array_equal(cr.jvp(f, (b,), (np.ones(4),))[1], [1, 0, 1, 0])
    check_grads(f, (b,), order=2)
    # in x1: 0 away from the jump
    a = np.array([0.7, -1.2, 2.0])
    np.testing.assert_array_equal(cr.grad(lambda a: cnp.sum(cnp.heaviside(a, b[:3])))(a),
                                  [0, 0, 0])
    check_grads(lambda a: cnp.heaviside(a, b[:3]), (a,), order=2)
    # x1 a scalar zero, vmap over x2
    np.testing.assert_array_equal(
        cr.vmap(cr.grad(lambda s: cnp.heaviside(0.0, s)))(np.array([0.5, -3.0])), [1, 1])


@pytest.mark.parametrize("y", [0, 0.0, -0.0, np.zeros(3), -np.zeros(3),
                               np.array([0.0, -0.0, 0.0])],
                         ids=["int", "float", "-float", "array", "-array", "mixed"])
def test_copysign_takes_the_sign_bit_of_a_zero(y):
    b = np.array([0.5, -1.5, 2.0])
    want = np.sign(b) * np.copysign(1.0, y)     # finite differences of NumPy's program
    f = lambda b: cnp.copysign(b, y)
    np.testing.assert_array_equal(cr.grad(lambda b: cnp.sum(f(b)))(b), want)
    np.testing.assert_array_equal(cr.jvp(f, (b,), (np.ones(3),))[1], want)
    check_grads(f, (b,), order=2)


def test_copysign_at_x_zero_is_like_abs():
    """Not differentiable at x == 0 (|x| with y's sign): 0, as abs at 0, which is also
    what central differences give."""
    x = np.array([0.0, -0.0, 0.0])
    y = np.array([1.0, -2.0, -0.0])
    g = cr.grad(lambda x: cnp.sum(cnp.copysign(x, y)))(x)
    np.testing.assert_array_equal(g, cr.grad(lambda x: cnp.sum(cnp.abs(x)))(x))
    np.testing.assert_array_equal(g, 0)
    check_grads(lambda x: cnp.copysign(x, y), (x,), order=1)
    # the y derivative is 0, also at y = +-inf (not 0 * inf = nan)
    yi = np.array([np.inf, -np.inf, 2.0])
    gy = cr.grad(lambda y: cnp.sum(cnp.copysign(np.ones(3), y)))(yi)
    np.testing.assert_array_equal(gy, 0)


# ------------------------------------------------------------------ tangent dtypes

_F32 = np.array([[1.0, 3.0, 2.0]], np.float32)
_C = np.array([1 + 1j, 2j, -1.0])

JVP_CASES = {
    "ptp-float32": (lambda b: cnp.ptp(b, axis=-1), _F32),
    "max-min-float32": (lambda b: cnp.max(b, axis=-1) - cnp.min(b, axis=-1), _F32),
    "float32%int32": (lambda b: (-b) % _I32[:3], _F32),
    "float32+int32": (lambda b: b + _I32[:3], _F32),
    "int32-float32": (lambda b: _I32[:3] - b, _F32),
    "fmod-float32-int32": (lambda b: cnp.fmod(b, _I32[:3] + 10), _F32),
    "real-complex": (lambda a: a - _C, _F32[0].astype(np.float64)),
    "complex+real": (lambda a: _C + a, _F32[0].astype(np.float64)),
    "float32-complex64": (lambda a: a - _C.astype(np.complex64), _F32[0]),
}


@pytest.mark.parametrize("name", list(JVP_CASES))
def test_jvp_tangent_has_the_primal_dtype(name):
    f, x = JVP_CASES[name]
    t = np.ones_like(x)
    want = np.asarray(f(x)).dtype
    out, t_out = cr.jvp(f, (x,), (t,))
    assert out.dtype == t_out.dtype == want, (out.dtype, t_out.dtype, want)
    # the values: finite differences of NumPy's program (f is linear near x)
    np.testing.assert_allclose(t_out, f(x.astype(np.float64) + 1) - f(x.astype(np.float64)))
    # inside jit and vmap, and through jacfwd, linearize and hvp
    _, tj = cr.jit(lambda x, t: cr.jvp(f, (x,), (t,)))(x, t)
    _, tv = cr.vmap(lambda x, t: cr.jvp(f, (x,), (t,)))(x[None], t[None])
    assert tj.dtype == tv.dtype == want, (tj.dtype, tv.dtype)
    assert cr.jacfwd(f)(x).dtype == want
    assert cr.linearize(f, x)[1](t).dtype == want
    if want.kind == "f":            # (a gradient has its input's dtype)
        assert cr.hvp(lambda x: cnp.sum(f(x) * f(x)), (x,), (t,)).dtype == x.dtype


def test_a_real_primal_keeps_a_real_tangent():
    """A tangent is cast to its primal's dtype where jvp returns; a complex tangent of a
    real output (no rule should make one) keeps its real part, traced or not."""
    from chainrule._src.api import _tangent_like
    t = np.array([1 + 2j, 3j])
    got = _tangent_like(t, np.zeros(2, np.float32))
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, [1, 0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")       # no ComplexWarning
        traced = cr.jit(lambda t: _tangent_like(t, np.float64(0)))(t)
    assert traced.dtype == np.float64
    np.testing.assert_array_equal(traced, [1, 0])
    ints = np.arange(2)
    assert _tangent_like(ints, np.zeros(2, bool)) is ints     # no tangent space: as is


# ------------------------------------------------------------------ tangents inside

_Y32 = np.array([[2.0, 1.0, 2.0], [0.0, 4.0, 0.5]], np.float32)
_X32 = np.array([[1.0, 3.0, 2.0], [3.0, 3.0, 0.5]], np.float32)     # ties in max/min

FLOAT32_PROGRAMS = {
    "max": lambda x: cnp.max(x, axis=-1) * 2.0, "min": lambda x: cnp.min(x),
    "ptp": lambda x: cnp.ptp(x, axis=0), "amax-keepdims": lambda x: cnp.amax(x, 1, keepdims=True),
    "maximum": lambda x: cnp.maximum(x, _Y32), "minimum": lambda x: cnp.minimum(_Y32, x),
    "fmax": lambda x: cnp.fmax(x, _Y32), "fmin": lambda x: cnp.fmin(x, 2.0),
}


def _values(graph):
    return {str(v.dtype) for e in graph.eqns for v in e.outs}


@pytest.mark.parametrize("name", list(FLOAT32_PROGRAMS))
def test_a_float32_program_stays_float32_inside(name):
    """A float32 program's tangents and cotangents are float32 at every step (max/min's
    tie weights and maximum's choice weights were float64), seen in the staged jvp and
    vjp (make_graph), jacfwd and jacrev, and the concrete reverse pass."""
    f = FLOAT32_PROGRAMS[name]

    def jvp(x, t):
        return cr.jvp(f, (x,), (t,))

    def vjp(x, ct):
        return cr.vjp(f, x)[1](ct)
    for how, g, t in (("jvp", jvp, _X32 * 0.5), ("vjp", vjp, np.ones_like(f(_X32)))):
        floats = {d for d in _values(cr.make_graph(g)(_X32, t)) if d.startswith("float")}
        assert floats == {"float32"}, (how, floats)
    assert cr.jacfwd(f)(_X32).dtype == cr.jacrev(f)(_X32).dtype == np.float32


def test_max_weights_keep_the_precision_concretely():
    """The concrete reverse rule of max (no tracer: NumPy calls) weights a tie in the
    input's precision (float16: counted in float32), the weights summing to 1."""
    from chainrule._src.prims.reductions import reduce_max_p
    for dt in (np.float16, np.float32, np.complex64):
        x = _X32.astype(dt)
        ans = x.max(axis=1)
        (ct,) = reduce_max_p.vjp(np.ones_like(ans), ans, (x,), (True,), axis=(1,),
                                 keepdims=False)
        assert ct.dtype == dt, (dt, ct.dtype)
        np.testing.assert_array_equal(ct, [[0, 1, 0], [0.5, 0.5, 0]])


@pytest.mark.parametrize("name, f", [
    ("float32 % int32", lambda x: (x % _I32[:3]) * 2.0),
    ("float32 + int32", lambda x: (x + _I32[:3]) * 2.0),
    ("int32 - float32", lambda x: (_I32[:3] - x) * 2.0),
    ("fmod(float32, int32)", lambda x: cnp.fmod(x, _I32[:3] + 10) * 2.0),
    ("float32 + complex64", lambda x: (x + np.complex64(1j)) * 2.0),
], ids=lambda v: v if isinstance(v, str) else "")
def test_a_passed_through_tangent_takes_the_output_dtype(name, f):
    """A derivative of +-1 passed the tangent through unpromoted (float32 % int32 is
    float64, its tangent was float32 until jvp's end): inside the program every value
    of the tangent has the output's dtype."""
    want = str(np.asarray(f(_F32)).dtype)
    g = cr.make_graph(lambda x, t: cr.jvp(f, (x,), (t,)))(_F32, _F32 * 0.5)
    assert _values(g) - {"bool"} == {want}, (_values(g), want)


# ------------------------------------------------------------------ LAPACK's integers

@pytest.mark.parametrize("how", ["jit", "vmap", "vjp"])
def test_lstsq_rank_and_lu_p_indices_are_int32(how):
    """NumPy's lstsq rank and SciPy's lu(p_indices=True) are LAPACK's int32 (eagerly
    chainrule calls them)."""
    import chainrule.scipy as csp
    a = np.array([[2.0, 1.0, 0.5], [1.0, 3.0, 1.0], [0.5, 1.0, 4.0], [1.0, 0.0, 1.0]])
    b = np.arange(4.0)
    run = {"jit": lambda f, *x: cr.jit(f)(*x),
           "vjp": lambda f, *x: cr.vjp(f, *x)[0],
           "vmap": lambda f, *x: cr.tree_util.tree_map(lambda o: o[0], cr.vmap(f)(
               *[v[None] for v in x]))}[how]
    rank = run(cnp.linalg.lstsq, a, b)[2]
    assert np.asarray(rank).dtype == np.linalg.lstsq(a, b)[2].dtype == np.int32
    assert rank == 3
    import scipy.linalg as sl
    p = run(lambda a: csp.linalg.lu(a, p_indices=True), a[:3])[0]
    want = sl.lu(a[:3], p_indices=True)[0]
    assert np.asarray(p).dtype == want.dtype == np.int32
    np.testing.assert_array_equal(p, want)
