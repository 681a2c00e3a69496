"""NumPy interop: plain `import numpy as np` code inside a differentiated function is
differentiated (np.sin, np.sum, np.dot, x @ W, np.exp, ndarray methods); outside
transformations chainrule.numpy returns exactly what NumPy returns (types and dtypes);
float32 stays float32; NEP 50 promotion."""
import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp

from numpy.testing import assert_allclose

W = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])
X = np.array([0.1, -0.4, 0.7])


def f_np(x):
    h = np.tanh(W @ x)
    return np.sum(np.exp(np.sin(h)) * np.dot(h, h)) + np.mean(x ** 2) + np.max(x)


def f_cnp(x):
    h = cnp.tanh(W @ x)
    return cnp.sum(cnp.exp(cnp.sin(h)) * cnp.dot(h, h)) + cnp.mean(x ** 2) + cnp.max(x)


def grad_fd(f, x, eps=1e-6):
    g = np.zeros_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = eps
        g[i] = (f(x + e) - f(x - e)) / (2 * eps)
    return g


def test_plain_numpy_code_is_differentiated():
    g = cr.grad(f_np)(X)
    assert_allclose(g, cr.grad(f_cnp)(X), rtol=1e-14)
    assert_allclose(g, grad_fd(f_np, X), rtol=1e-7)
    assert f_np(X) == f_cnp(X)


def test_plain_numpy_code_forward_mode_and_hessian():
    v = np.array([1.0, 0.5, -1.0])
    _, t = cr.jvp(f_np, (X,), (v,))
    assert_allclose(t, cr.grad(f_cnp)(X) @ v, rtol=1e-13)
    assert_allclose(cr.hessian(f_np)(X), cr.hessian(f_cnp)(X), rtol=1e-13)


@pytest.mark.parametrize("f", [
    lambda x: x.sum(),
    lambda x: x.dot(x),
    lambda x: (x @ x),
    lambda x: np.add.reduce(x * x),
    lambda x: x.mean() * x.max(),
    lambda x: np.sqrt(np.sum(np.square(x))),
    lambda x: np.sum(np.abs(x) ** 3),
    lambda x: np.prod(x),
    lambda x: np.sum(np.where(x > 0, np.log1p(x), np.expm1(x))),
    lambda x: np.sum(np.concatenate([x, x ** 2])),
    lambda x: np.sum(np.stack([x, np.cos(x)]) ** 2),
    lambda x: np.sum(np.outer(x, x)),
    lambda x: np.einsum("i,i->", x, x),
    lambda x: np.sum(x.reshape(3, 1) * x.T),
    lambda x: np.sum(np.maximum(x, 0.0) + np.minimum(x, 0.0) ** 2),
], ids=["sum-method", "dot-method", "matmul", "add.reduce", "mean*max", "sqrt-sum-square",
        "abs-power", "prod", "where", "concatenate", "stack", "outer", "einsum", "reshape-T",
        "maximum-minimum"])
def test_numpy_function_gradients_against_finite_differences(f):
    assert_allclose(cr.grad(f)(X), grad_fd(f, X), rtol=1e-6, atol=1e-8)


def test_numpy_matmul_with_traced_matrix():
    def loss(W, x):
        return np.sum(np.tanh(x @ W.T) ** 2)
    g = cr.grad(loss)(W, X)
    assert g.shape == W.shape
    fd = grad_fd(lambda w: loss(w.reshape(W.shape), X), W.ravel()).reshape(W.shape)
    assert_allclose(g, fd, rtol=1e-6, atol=1e-9)


def test_numpy_ufunc_methods_reduce_and_accumulate():
    assert_allclose(cr.grad(lambda x: np.sum(np.add.accumulate(x)))(X), [3.0, 2.0, 1.0])


# ------------------------------------------------------------------ outside transformations

@pytest.mark.parametrize("fn,args", [
    (lambda m: m.sin, (X,)),
    (lambda m: m.sum, (X,)),
    (lambda m: m.sum, (np.ones((2, 2)),)),
    (lambda m: m.mean, (X,)),
    (lambda m: m.dot, (X, X)),
    (lambda m: m.matmul, (W, X)),
    (lambda m: m.exp, (1.0,)),
    (lambda m: m.sin, (np.float32(1.0),)),
    (lambda m: m.exp, (np.ones(2, np.float32),)),
    (lambda m: m.where, (X > 0, X, 0.0)),
    (lambda m: m.stack, ([X, X],)),
    (lambda m: m.reshape, (X, (3, 1))),
    (lambda m: m.add, (np.ones(2, np.float32), 2.0)),
    (lambda m: m.multiply, (np.float32(3.0), 2.0)),
    (lambda m: m.maximum, (X, 0.0)),
    (lambda m: m.sqrt, (4,)),
    (lambda m: m.abs, (-3,)),
], ids=["sin", "sum", "sum2d", "mean", "dot", "matmul", "exp-pyfloat", "sin-f32-scalar",
        "exp-f32", "where", "stack", "reshape", "add-f32-pyfloat", "mul-f32scalar-pyfloat",
        "maximum", "sqrt-int", "abs-int"])
def test_outside_transformations_results_are_exactly_numpys(fn, args):
    ours, ref = fn(cnp)(*args), fn(np)(*args)
    assert type(ours) is type(ref)
    assert np.asarray(ours).dtype == np.asarray(ref).dtype
    assert np.shape(ours) == np.shape(ref)
    np.testing.assert_array_equal(ours, ref)


def test_outside_transformations_returns_plain_ndarray():
    out = cnp.tanh(W @ X)
    assert type(out) is np.ndarray
    assert type(cnp.sum(out)) is np.float64


# ------------------------------------------------------------------ dtypes inside transformations

def test_float32_stays_float32_inside_transformations():
    x32 = np.ones(3, np.float32)
    seen = {}

    def f(a):
        seen["mul"] = (a * 2.0).dtype           # NEP 50: Python float is weak
        seen["exp"] = cnp.exp(a).dtype
        seen["sum"] = cnp.sum(a).dtype
        seen["matmul"] = (a @ np.ones((3, 2), np.float32)).dtype
        seen["f64"] = (a + np.float64(1.0)).dtype  # a float64 array/scalar promotes
        return cnp.sum(cnp.sin(a) * 2.0)

    g = cr.grad(f)(x32)
    assert g.dtype == np.float32
    assert seen["mul"] == np.float32 and seen["exp"] == np.float32
    assert seen["sum"] == np.float32 and seen["matmul"] == np.float32
    assert seen["f64"] == np.float64
    assert_allclose(g, 2 * np.cos(x32), rtol=1e-6)


def test_float32_through_forward_mode_and_jacobians():
    x32 = np.array([0.5, 1.5], np.float32)
    out, t = cr.jvp(lambda a: cnp.sin(a) * 2.0, (x32,), (np.ones(2, np.float32),))
    assert out.dtype == np.float32 and t.dtype == np.float32
    assert cr.jacfwd(lambda a: cnp.exp(a) * 2.0)(x32).dtype == np.float32
    assert cr.jacrev(lambda a: cnp.exp(a) * 2.0)(x32).dtype == np.float32
    assert cr.grad(lambda a: a * 2.0)(np.float32(1.0)).dtype == np.float32


def test_nep50_promotion_matches_numpy_outside_and_inside():
    x32 = np.ones(2, np.float32)
    cases = [lambda a: a * 2.0, lambda a: a + 1, lambda a: a * np.float64(2.0),
             lambda a: a / 3, lambda a: cnp.multiply(a, 2.0), lambda a: a ** 2]
    for c in cases:
        ref = c(x32).dtype
        seen = {}
        cr.grad(lambda a: (seen.setdefault("d", c(a).dtype), cnp.sum(c(a) * 1.0))[1])(x32)
        assert seen["d"] == ref, (ref, seen["d"])


def test_integer_constants_mix_with_float_traced_values():
    f = lambda x: cnp.sum(x * np.arange(3) + 2)
    assert_allclose(cr.grad(f)(X), [0.0, 1.0, 2.0])


def test_float64_default():
    # Python floats and lists become float64, as in NumPy (no float32 default)
    g = cr.grad(lambda x: x * 2.0)(1.0)
    assert np.asarray(g).dtype == np.float64
    J = cr.jacfwd(lambda x: cnp.stack([x, x]))(1.0)
    assert J.dtype == np.float64


def test_scipy_functions_that_convert_their_arguments_are_named():
    """SciPy's non-ufunc functions call np.asarray, which no dispatch reaches: the error
    names the SciPy function and chainrule's counterpart (or says there is none)."""
    import pytest
    import scipy.linalg
    import scipy.special
    import chainrule as cr
    with pytest.raises(cr.TracerConversionError,
                       match=r"scipy\.linalg\.expm was called on a traced value.*"
                             r"chainrule\.scipy\.linalg\.expm instead"):
        cr.grad(lambda a: scipy.linalg.expm(a).sum())(np.eye(2))
    with pytest.raises(cr.TracerConversionError,
                       match=r"chainrule\.scipy\.special\.logsumexp instead"):
        cr.grad(lambda a: scipy.special.logsumexp(a))(np.ones(3))
    with pytest.raises(cr.TracerConversionError, match=r"^a traced value"):
        cr.grad(lambda a: np.asarray(a).sum())(np.ones(3))
