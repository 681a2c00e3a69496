"""Keyword arguments that chainrule accepted and ignored or mishandled inside
transformations (a wrong number, no error). Found by a generated hunt over NumPy's
keyword arguments (ufunc dtype/signature/casting/out/where, reductions, sort, shape
functions, linalg, fft) comparing plain, jit, vmap, grad and jvp with NumPy and
central differences."""
import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp

I8 = np.array([[100, 27, -90], [64, 120, 3]], np.int8)
X = np.array([[0.3, 0.7, 0.45], [0.6, 0.25, 0.9]])


# ---------------------------------------------------------------- ufunc dtype=

@pytest.mark.parametrize("fn,args,kw", [
    ("add", (I8, I8), {"dtype": np.int16}),              # int8 overflowed, then cast
    ("multiply", (I8, I8), {"dtype": np.float64}),
    ("add", (I8, I8), {"signature": (None, None, np.int64)}),
    ("exp", (I8,), {"dtype": np.float64}),                # exp in int8's float16 loop
    ("sqrt", (-X,), {"dtype": complex}),                  # NaN instead of 1j * sqrt(x)
    ("power", (-X, 0.5), {"dtype": complex}),
    ("add", (X, X), {"signature": "dd->d"}),
])
def test_ufunc_dtype_is_the_loop(fn, args, kw):
    want = getattr(np, fn)(*args, **kw)
    got = cr.jit(lambda *a: getattr(cnp, fn)(*a, **kw))(*args)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)
    in_axes = tuple(0 if isinstance(a, np.ndarray) else None for a in args)
    got = cr.vmap(lambda *a: getattr(cnp, fn)(*a, **kw), in_axes=in_axes)(*args)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


def test_ufunc_dtype_complex_gradient():
    # d/dx sum(Re sqrt(x + 0j)) for x < 0 is 0, d/dx sum(Im sqrt(x + 0j)) = -1/(2 sqrt(-x))
    x = -X
    g = cr.grad(lambda x: cnp.sum(cnp.imag(cnp.sqrt(x, dtype=complex))))(x)
    np.testing.assert_allclose(g, -0.5 / np.sqrt(-x))


@pytest.mark.parametrize("fn,args,kw", [
    ("sin", (X,), {"dtype": np.int64}),                   # no such loop
    ("add", (X, X), {"dtype": np.int64}),                 # same_kind forbids float -> int
    ("add", (X, X), {"dtype": np.float32, "casting": "no"}),
    ("arctan2", (X, X), {"dtype": complex}),
])
def test_ufunc_dtype_errors_as_numpy(fn, args, kw):
    with pytest.raises(TypeError):
        getattr(np, fn)(*args, **kw)
    with pytest.raises(TypeError):
        cr.jit(lambda *a: getattr(cnp, fn)(*a, **kw))(*args)


def test_ufunc_casting_unsafe_and_out_dtype():
    want = np.add(X, X, dtype=np.int64, casting="unsafe")
    got = cr.jit(lambda a, b: cnp.add(a, b, dtype=np.int64, casting="unsafe"))(X, X)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


# ---------------------------------------------------------------- clip where=

def test_clip_where_with_traced_out_is_refused():
    x = np.array([0.1, 0.5, 0.9])
    m = np.array([True, False, True])
    o = np.array([5.0, 6.0, 7.0])
    # NumPy keeps out[1] = 6 (derivative 1 in out); chainrule overwrote out with
    # NumPy's uninitialised where-result (derivative 0)
    with pytest.raises(NotImplementedError, match="where"):
        cr.jvp(lambda o: cnp.clip(x, 0.3, 0.6, where=m, out=o), (o,), (np.ones(3),))
    with pytest.raises(NotImplementedError, match="where"):
        cr.jit(lambda x, o: cnp.clip(x, 0.3, 0.6, where=m, out=o))(x, o)
    np.testing.assert_array_equal(cnp.clip(x, 0.3, 0.6, where=m, out=o.copy()),
                                  [0.3, 6.0, 0.6])        # outside transformations: NumPy


# ---------------------------------------------------------------- concatenate casting=

A = np.array([[1.5, 2.5]])
B32 = np.array([[3.5, 4.5]], np.float32)


@pytest.mark.parametrize("fn,arrays,kw", [
    ("concatenate", [A, A], {"dtype": np.int64}),
    ("concatenate", [A, B32], {"casting": "no"}),
    ("stack", [A, B32], {"casting": "equiv"}),
    ("stack", [A, A], {"dtype": np.int64, "casting": "safe"}),
    ("vstack", [A, A], {"dtype": np.int64}),
    ("hstack", [A, B32], {"casting": "no"}),
])
def test_concatenate_casting_errors(fn, arrays, kw):
    with pytest.raises(TypeError):
        getattr(np, fn)(arrays, **kw)
    with pytest.raises(TypeError, match="Cannot cast"):
        cr.jit(lambda a, b: getattr(cnp, fn)([a, b], **kw))(*arrays)
    # casting='unsafe' allows it, as in NumPy
    kw = dict(kw, casting="unsafe")
    want = getattr(np, fn)(arrays, **kw)
    got = cr.jit(lambda a, b: getattr(cnp, fn)([a, b], **kw))(*arrays)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)




# ---------------------------------------------------------------- matmul / einsum kwargs

def test_matmul_dtype_is_honoured():
    a, b = np.ones((2, 3, 4)), np.ones((2, 4, 3))
    for dt in (np.float32, np.complex128):
        got = cr.jit(lambda a, b: cnp.matmul(a, b, dtype=dt))(a, b)
        assert got.dtype == np.dtype(dt)                  # was float64: dtype= dropped
    i = np.full((2, 2), 100, np.int8)
    want = np.matmul(i, i, dtype=np.int16)
    got = cr.jit(lambda a, b: cnp.matmul(a, b, dtype=np.int16))(i, i)
    np.testing.assert_array_equal(got, want)


def test_matmul_unsupported_keywords_raise():
    a = np.arange(8.0).reshape(2, 2, 2)
    np.matmul(a, a, axes=[(0, 1), (0, 1), (0, 1)])       # valid for NumPy
    with pytest.raises(NotImplementedError, match="axes"):
        cr.jit(lambda a: cnp.matmul(a, a, axes=[(0, 1), (0, 1), (0, 1)]))(a)
    with pytest.raises(NotImplementedError, match="order"):
        cr.grad(lambda a: cnp.sum(cnp.matmul(a, a, order="F")))(a)


def test_einsum_dtype_is_honoured():
    i = np.full((2, 2), 100, np.int8)
    want = np.einsum("ij,jk->ik", i, i, dtype=np.int64)   # int8 -> int64 is 'safe'
    got = cr.jit(lambda a, b: cnp.einsum("ij,jk->ik", a, b, dtype=np.int64))(i, i)
    np.testing.assert_array_equal(got, want)              # was int8 overflow
    x = np.ones((2, 3))
    got = cr.jit(lambda a: cnp.einsum("ij->i", a, dtype=np.float32, casting="unsafe"))(x)
    assert got.dtype == np.float32
    with pytest.raises(TypeError):                        # float64 -> float32 not 'safe'
        np.einsum("ij->i", x, dtype=np.float32)
    with pytest.raises(TypeError):
        cr.jit(lambda a: cnp.einsum("ij->i", a, dtype=np.float32))(x)
    with pytest.raises(NotImplementedError, match="order"):
        cr.jit(lambda a: cnp.einsum("ij->ji", a, order="F"))(x)


# ---------------------------------------------------------------- pinv / lstsq rcond=

def test_pinv_truncating_rcond_gradient_not_wrong():
    rng = np.random.default_rng(5)
    a = rng.standard_normal((5, 3))                       # singular values 2.66 2.32 0.86
    b = rng.standard_normal(5)
    # rcond=0.5 cuts 0.86 off: the Golub-Pereyra rule gave a wrong gradient (0.2 off)
    for f in (lambda a: cnp.sum(cnp.linalg.pinv(a, rcond=0.5)),
              lambda a: cnp.sum(cnp.linalg.lstsq(a, b, rcond=0.5)[0]),
              lambda a: cnp.sum(cnp.linalg.pinv(a, rtol=0.5))):
        with pytest.raises(NotImplementedError, match="rcond"):
            cr.grad(f)(a)
        with pytest.raises(NotImplementedError, match="rcond"):
            cr.jvp(f, (a,), (np.ones_like(a),))
        assert np.isnan(cr.vmap(cr.grad(f))(a[None])).all()
    # a cutoff below every singular value: the gradient is still exact
    f = lambda a: np.sum(np.linalg.pinv(a, rcond=1e-3) * np.arange(15.0).reshape(3, 5))
    g = cr.grad(lambda a: cnp.sum(cnp.linalg.pinv(a, rcond=1e-3) *
                                  np.arange(15.0).reshape(3, 5)))(a)
    eps, fd = 1e-6, np.zeros_like(a)
    for i in np.ndindex(a.shape):
        e = np.zeros_like(a)
        e[i] = eps
        fd[i] = (f(a + e) - f(a - e)) / (2 * eps)
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-7)
    # a rank-deficient matrix (its cut-off singular value is zero): still differentiable
    r = rng.standard_normal((5, 2)) @ rng.standard_normal((2, 4))
    cr.grad(lambda a: cnp.sum(cnp.linalg.pinv(a, rcond=1e-3)))(r)
