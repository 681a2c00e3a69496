"""NumPy features realistic programs use that chainrule refused on traced values:
``where=``/``initial=`` of the reductions, ``sliding_window_view``, the ufunc methods
``maximum/minimum.accumulate``, ``logaddexp.reduce/accumulate`` and ``add.reduceat``,
``fix`` and the layout functions (``ascontiguousarray``, ``asfortranarray``,
``require``). Values are NumPy's bit for bit (the same NumPy calls run); what the op
database's rows (tests/opdb/) cannot say is here: masks that are traced or batched,
masked infinities, NumPy's errors and warnings, views written through, exact
Jacobians at ties."""
import warnings

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp

SWV = np.lib.stride_tricks.sliding_window_view


def same(a, b):
    """Equal shapes, dtypes and bits (NaNs equal; the signs of zeros compared)."""
    a, b = np.asarray(a), np.asarray(b)
    return (a.shape == b.shape and a.dtype == b.dtype
            and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")
            and (a.dtype.kind not in "fc" or
                 (np.array_equal(np.signbit(a.real), np.signbit(b.real)) and
                  np.array_equal(np.signbit(a.imag), np.signbit(b.imag)))))


def fd_grad(f, x, h=1e-6):
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = h
        g[i] = (f(x + e) - f(x - e)) / (2 * h)
    return g


# ------------------------------------------------------------------ where= / initial=

def _masked_cases(rng, n):
    fns = ["sum", "mean", "max", "min", "prod", "std", "var", "nansum"]
    for k in range(n):
        name = fns[k % len(fns)]
        nd = int(rng.integers(1, 4))
        shape = tuple(int(s) for s in rng.integers(1, 40 if nd == 1 else 7, nd))
        dt = str(rng.choice(["f8", "f8", "f4", "f2", "c16", "i8", "?"]))
        if name in ("max", "min") and dt == "c16" or name == "nansum" and dt == "?":
            dt = "f8"
        x = rng.standard_normal(shape) * 10 ** rng.uniform(-2, 2, shape)
        if dt == "c16":
            x = x + 1j * rng.standard_normal(shape)
        if dt in ("i8", "?"):
            x = (x * 3).round()
        if name == "nansum" and dt[0] == "f":
            x[rng.random(shape) < 0.2] = np.nan
        x = x.astype(dt)
        kw = {"axis": [None, 0, -1][k % 3]}
        if k % 4 == 1:
            kw["keepdims"] = True
        mshape = shape[int(rng.integers(0, nd)):] if k % 2 else shape
        kw["where"] = rng.random(mshape) < 0.6
        if name in ("sum", "prod", "max", "min", "nansum") and (k % 3 or name in ("max", "min")):
            kw["initial"] = float(np.round(rng.standard_normal() * 3, 2))
        if name in ("std", "var") and k % 5 == 0:
            kw["ddof"] = 1
        yield name, x, kw


def test_masked_reductions_are_numpys_bit_for_bit():
    """Traced (reverse mode, jit, the ndarray methods) values of sum/mean/max/min/prod/
    std/var/nansum with where= and initial= are NumPy's bits, in NumPy's dtype (float16
    products accumulated in float32, complex products skipping masked entries, NumPy's
    order of a masked sum's additions, which a sum with zeros at the masked entries
    does not repeat)."""
    rng = np.random.default_rng(0)
    checked = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for name, x, kw in _masked_cases(rng, 240):
            ref = getattr(np, name)(x, **kw)

            def f(v):
                return getattr(cnp, name)(v, **kw)
            if x.dtype.kind in "fc":
                assert same(cr.vjp(f, x)[0], ref), (name, x.dtype, kw)
                if name != "nansum":
                    meth = cr.vjp(lambda v: getattr(v, name)(**kw), x)[0]
                    assert same(meth, ref), (name, x.dtype, kw)
            assert same(cr.jit(f)(x), ref), (name, x.dtype, kw)
            checked += 1
    assert checked == 240


def test_masked_sum_is_not_a_sum_of_zeros():
    """The reason for the masked_sum primitive: NumPy's masked sum adds runs of unmasked
    entries, so it differs in the last bit from ``sum(where(mask, x, 0))``."""
    rng = np.random.default_rng(1)
    differs = 0
    for _ in range(50):
        x, m = rng.standard_normal(300), rng.random(300) < 0.5
        assert same(cr.vjp(lambda v: np.sum(v, where=m), x)[0], np.sum(x, where=m))
        differs += np.sum(x, where=m) != np.sum(np.where(m, x, 0))
    assert differs > 0


@pytest.mark.parametrize("name,kw", [
    ("sum", {}), ("sum", {"initial": 2.0, "axis": 1}), ("mean", {"axis": 0}),
    ("std", {"axis": 1}), ("var", {"ddof": 1}), ("max", {"initial": -5.0, "axis": 1}),
    ("min", {"initial": 5.0}), ("prod", {"axis": 0}), ("nansum", {})])
def test_masked_entries_get_zero_derivative_even_when_infinite(name, kw):
    """Entries where the mask is False may hold inf or NaN (masked invalid data): the
    derivative is 0 there and the finite entries' derivatives are NumPy's (finite
    differences of the NumPy program); forward and reverse mode agree."""
    rng = np.random.default_rng(2)
    x = rng.uniform(0.5, 2.0, (3, 4))
    m = np.array([[True, False, True, True], [True, True, False, True],
                  [False, True, True, True]])
    xi = x.copy()
    xi[~m] = [np.inf, np.nan, -np.inf]

    def f(v):
        return np.sum(getattr(np, name)(v, where=m, **kw))
    g = cr.grad(f)(xi)
    assert np.all(g[~m] == 0) and np.all(np.isfinite(g))
    np.testing.assert_allclose(cr.jacfwd(f)(xi), g, rtol=1e-12, atol=1e-15)
    fd = fd_grad(lambda v: f(np.where(m, v, xi)), x)
    np.testing.assert_allclose(g[m], fd[m], rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name,kw", [
    ("sum", {"initial": 1.0}), ("mean", {"axis": 1}), ("std", {"axis": -1}),
    ("var", {"ddof": 1, "axis": 1}), ("max", {"initial": -3.0, "axis": 1}),
    ("prod", {"axis": 0}), ("nansum", {"axis": 1})])
def test_traced_and_batched_masks(name, kw):
    """The mask may be traced (computed from x under jit) or batched under vmap, on its
    own or with the data: vmap matches the loop bit for bit, vmap of grad matches the
    loop of grads, jit matches eager."""
    rng = np.random.default_rng(3)
    X = rng.standard_normal((4, 3, 5))
    M = rng.random((4, 3, 5)) < 0.6
    M[:, :, :2] = True

    def f(x, m):
        return getattr(np, name)(x, where=m, **kw)

    def loss(x, m):
        return cnp.sum(cnp.sin(f(x, m)))
    for in_axes in [(0, 0), (0, None), (None, 0)]:
        xs, ms = (X if in_axes[0] == 0 else X[0]), (M if in_axes[1] == 0 else M[0])
        pick = [(xs[i] if in_axes[0] == 0 else xs, ms[i] if in_axes[1] == 0 else ms)
                for i in range(4)]
        assert same(cr.vmap(f, in_axes=in_axes)(xs, ms), np.stack([f(*p) for p in pick]))
        np.testing.assert_allclose(cr.vmap(cr.grad(loss), in_axes=in_axes)(xs, ms),
                                   np.stack([cr.grad(loss)(*p) for p in pick]), rtol=1e-13)
    assert same(cr.jit(f)(X[1], M[1]), f(X[1], M[1]))

    def h(x):
        return getattr(np, name)(x, where=x > -0.5, **kw)
    assert same(cr.jit(h)(X[2]), h(X[2]))
    np.testing.assert_allclose(cr.jit(cr.grad(lambda x: np.sum(h(x))))(X[2]),
                               cr.grad(lambda x: np.sum(h(x)))(X[2]), rtol=1e-13)


def _outcome(f, *args):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return f(*args)
    except Exception as e:      # noqa: BLE001  (the error is the outcome compared)
        return (type(e), str(e))


@pytest.mark.parametrize("name,kw", [
    ("sum", dict(where=np.array([1, 0, 1]))), ("sum", dict(where=np.array([True, False]))),
    ("mean", dict(where=np.ones((2, 2, 3), bool))), ("var", dict(where=np.array([True, False]))),
    ("max", dict(where=np.array([True, False, True]))), ("amin", dict(where=[True, False, True])),
    ("sum", dict(initial=1j)), ("prod", dict(initial="a")), ("max", dict(initial=np.array([2.0]))),
    ("std", dict(where=np.array([1, 0, 1]))), ("nansum", dict(where=np.array([1, 0, 1]))),
    ("sum", dict(where=1.0)), ("sum", dict(where=[True, False, True], initial=2))])
def test_numpys_errors_for_bad_masks_and_initial(name, kw):
    x = np.arange(6.0).reshape(2, 3) + 1
    ref = _outcome(lambda v: getattr(np, name)(v, **kw), x)
    out = _outcome(lambda v: cr.vjp(lambda u: getattr(np, name)(u, **kw), v)[0], x)
    if isinstance(ref, tuple):
        assert out == ref
    else:
        assert same(out, ref)


def test_numpys_warnings_for_empty_slices():
    x = np.arange(6.0).reshape(2, 3) + 1
    for name, kw in [("mean", dict(where=np.array([[True, False, False], [False] * 3]), axis=1)),
                     ("var", dict(where=np.array([[True, False, False], [True, True, False]]),
                                  axis=1, ddof=1))]:
        msgs = []
        for fn in (lambda: getattr(np, name)(x, **kw),
                   lambda: cr.vjp(lambda v: getattr(np, name)(v, **kw), x)[0]):
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter("always")
                out = fn()
            msgs.append(sorted({str(a.message) for a in w}))
        assert msgs[0] == msgs[1] and len(msgs[0]) == 2, msgs


# ------------------------------------------------------------------ sliding windows

def test_sliding_window_view_conv_is_numpys_and_differentiates():
    """The CNN idiom: windows of a traced image, contracted with a kernel. The view has
    NumPy's memory layout, so even einsum (whose rounding follows the layout) gives
    NumPy's bits; the gradient matches finite differences; vmap and jit work."""
    rng = np.random.default_rng(4)
    img, k = rng.standard_normal((6, 7)), rng.standard_normal((3, 2))

    def conv(x):
        return np.einsum("ijkl,kl->ij", SWV(x, (3, 2)), k)

    def loss(x):
        return np.sum(np.tanh(conv(x)) ** 2)
    assert same(cr.vjp(conv, img)[0], conv(img))
    assert same(cr.jit(conv)(img), conv(img))
    np.testing.assert_allclose(cr.grad(loss)(img), fd_grad(loss, img), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(cr.jacfwd(conv)(img), cr.jacrev(conv)(img), rtol=1e-14)
    imgs = rng.standard_normal((3, 6, 7))
    assert same(cr.vmap(conv)(imgs), np.stack([conv(a) for a in imgs]))
    np.testing.assert_allclose(cr.vmap(cr.grad(loss))(imgs),
                               np.stack([cr.grad(loss)(a) for a in imgs]), rtol=1e-13)
    # a moving average, the 1-d idiom; duplicate axes as NumPy allows
    s = rng.standard_normal(12)
    assert same(cr.vjp(lambda v: SWV(v, 4).mean(axis=-1), s)[0], SWV(s, 4).mean(axis=-1))
    assert same(cr.vjp(lambda v: SWV(v, (2, 2), axis=(0, 0)), img)[0],
                SWV(img, (2, 2), axis=(0, 0)))


def test_sliding_window_view_is_read_only_and_sees_writes_to_its_base():
    x = np.arange(6.0)

    def write_view(v):
        w = SWV(v, 3)
        w[0, 0] = 1.0
        return w
    with pytest.raises(ValueError, match="read-only"):
        write_view(x.copy())
    with pytest.raises(ValueError, match="read-only"):
        cr.grad(lambda v: np.sum(write_view(v)))(x)

    def write_base(v):
        v = v * 1.0
        w = SWV(v, 3)
        v[1] = 100.0
        return w * 1.0
    assert same(cr.vjp(write_base, x)[0], write_base(x))
    with pytest.raises(NotImplementedError, match="writeable=True"):
        cr.grad(lambda v: np.sum(SWV(v, 3, writeable=True)))(x)


def test_sliding_window_view_errors_are_numpys():
    x = np.zeros((4, 5))
    for args, kw in [(((7,),), {}), (((2, 2, 2),), {}), ((3,), {"axis": 5}),
                     ((6,), {"axis": 1}), ((-1,), {"axis": 0})]:
        ref = _outcome(lambda v: SWV(v, *args, **kw), x)
        assert isinstance(ref, tuple)
        assert _outcome(lambda v: cr.vjp(lambda u: SWV(u, *args, **kw), v)[0], x) == ref


def test_as_strided_names_sliding_window_view():
    with pytest.raises(NotImplementedError, match="sliding_window_view"):
        cr.grad(lambda v: np.sum(np.lib.stride_tricks.as_strided(v, (3,), (8,))))(np.ones(4))


# ------------------------------------------------------------------ ufunc methods

def _running_extremum_jacobian(x, op):
    """d op.accumulate(x)[i] / dx[j]: 1/count over the j <= i equal to the running
    extremum (np.max's rule for max(x[:i+1])); from a NaN on, 1 at the first NaN."""
    y = op.accumulate(x)
    J = np.zeros((len(x), len(x)))
    for i in range(len(x)):
        if np.isnan(y[i]):
            J[i, np.flatnonzero(np.isnan(x[:i + 1]))[0]] = 1
        else:
            hits = np.flatnonzero(x[:i + 1] == y[i])
            J[i, hits] = 1 / len(hits)
    return J


@pytest.mark.parametrize("op", [np.maximum, np.minimum])
def test_running_extremum_values_and_exact_jacobians(op):
    """Running max/min (ties of any multiplicity, NaNs, -inf): NumPy's values; the
    Jacobian in forward and reverse mode exactly the reference rule."""
    rng = np.random.default_rng(5)
    for k in range(60):
        x = rng.standard_normal(int(rng.integers(1, 30)))
        if k % 3 == 1:
            x = np.round(x * 2) / 2                     # many ties
        if k % 3 == 2:
            x[rng.random(x.size) < 0.15] = np.nan

        def f(v):
            return op.accumulate(v)
        assert same(cr.vjp(f, x)[0], f(x)) and same(cr.jit(f)(x), f(x))
        J = _running_extremum_jacobian(x, op)
        assert np.array_equal(cr.jacfwd(f)(x), J) and np.array_equal(cr.jacrev(f)(x), J)


def test_drawdown_gradient():
    """Maximum drawdown of a wealth path (the realistic program that raised): value
    NumPy's, gradient against finite differences, vmap against the loop."""
    rng = np.random.default_rng(6)
    r = 0.02 * rng.standard_normal(30)

    def mdd(r):
        wealth = np.cumprod(1 + r)
        peak = np.maximum.accumulate(wealth)
        return np.max((peak - wealth) / peak)
    assert same(cr.vjp(mdd, r)[0], mdd(r))
    np.testing.assert_allclose(cr.grad(mdd)(r), fd_grad(mdd, r), rtol=1e-6, atol=1e-9)
    R = 0.02 * rng.standard_normal((3, 30))
    assert same(cr.vmap(mdd)(R), np.stack([mdd(a) for a in R]))


def test_logaddexp_reduce_and_accumulate():
    """NumPy's folds bit for bit; Jacobians exp(x[j] - y[i]) (closed form), 0 at -inf
    entries with finite outputs; float32 stays float32."""
    rng = np.random.default_rng(7)
    for k in range(20):
        x = rng.standard_normal(int(rng.integers(1, 25))) * 3
        y = np.logaddexp.accumulate(x)
        acc, red = cr.vjp(np.logaddexp.accumulate, x)[0], cr.vjp(np.logaddexp.reduce, x)[0]
        assert same(acc, y) and same(red, np.logaddexp.reduce(x))
        J = np.tril(np.exp(x[None, :] - y[:, None]))
        for jac in (cr.jacfwd, cr.jacrev):
            np.testing.assert_allclose(jac(np.logaddexp.accumulate)(x), J, rtol=1e-13,
                                       atol=1e-16)
            np.testing.assert_allclose(jac(np.logaddexp.reduce)(x),
                                       np.exp(x - np.logaddexp.reduce(x)), rtol=1e-13)
    x = np.array([-np.inf, 0.5, -np.inf, 1.0, -2.0])
    for fn in (np.logaddexp.accumulate, lambda v: np.logaddexp.reduce(v, initial=0.3)):
        J = cr.jacrev(fn)(x)
        assert np.all(np.isfinite(J)) and np.all(J[..., np.isneginf(x)] == 0)
    x32 = rng.standard_normal((3, 4)).astype(np.float32)
    assert same(cr.vjp(lambda v: np.logaddexp.reduce(v, axis=(0, 1)), x32)[0],
                np.logaddexp.reduce(x32, axis=(0, 1)))
    m = np.array([True, False, True, True])
    assert same(cr.vjp(lambda v: np.logaddexp.reduce(v, axis=1, where=m), x32)[0],
                np.logaddexp.reduce(x32, axis=1, where=m))


def test_add_reduceat():
    """NumPy's values (decreasing indices pick one element, as NumPy's); the Jacobian
    is each slice's indicator; vmap over other axes; multiply.reduceat is refused."""
    rng = np.random.default_rng(8)
    x = rng.standard_normal(10)
    for idx in ([0, 3, 2, 7], [5], [0, 0, 4], [9, 1]):
        def f(v):
            return np.add.reduceat(v, idx)
        assert same(cr.vjp(f, x)[0], f(x)) and same(cr.jit(f)(x), f(x))
        J = np.zeros((len(idx), 10))
        for a, i in enumerate(idx):
            stop = idx[a + 1] if a + 1 < len(idx) else 10
            J[a, i:stop] = 1 if i < stop else 0
            J[a, i] = 1
        assert np.array_equal(cr.jacfwd(f)(x), J) and np.array_equal(cr.jacrev(f)(x), J)
    X = rng.standard_normal((4, 3, 6))
    g = cr.vmap(lambda v: np.add.reduceat(v, [0, 2], axis=1), in_axes=1)(X)
    assert same(g, np.stack([np.add.reduceat(X[:, i], [0, 2], axis=1) for i in range(3)]))
    with pytest.raises(IndexError, match="out-of-bounds"):
        cr.grad(lambda v: np.sum(np.add.reduceat(v, [0, 10])))(x)
    with pytest.raises(NotImplementedError, match="multiply.reduceat"):
        cr.grad(lambda v: np.sum(np.multiply.reduceat(v, [0, 2])))(x)


def test_ufunc_method_errors_are_numpys():
    x = np.arange(6.0).reshape(2, 3) + 1
    for f in [lambda v: np.maximum.accumulate(v, axis=None),
              lambda v: np.minimum.accumulate(v[0, 0]),
              lambda v: np.logaddexp.accumulate(v, axis=2),
              lambda v: np.add.reduceat(v, np.array([0.0, 1.0]), axis=1),
              lambda v: np.add.reduceat(v, [0, 1], axis=None)]:
        ref = _outcome(f, x)
        assert isinstance(ref, tuple) and _outcome(lambda v: cr.vjp(f, v)[0], x) == ref


# ------------------------------------------------------------------ fix and layouts

def test_fix_is_trunc():
    x = np.array([-1.5, -0.5, -0.0, 0.5, 2.7, np.nan, -np.inf])
    assert same(cr.vjp(np.fix, x)[0], np.fix(x))
    assert np.array_equal(cr.grad(lambda v: np.sum(np.fix(v)))(x[[0, 1, 3, 4]]), np.zeros(4))


def _layout_program(xp, fn, transposed, dtype, req):
    def f(v):
        v = v * 1.0
        a = v.T if transposed else v
        if fn == "require":
            r = xp.require(a, dtype=dtype, requirements=req)
        else:
            r = getattr(xp, fn)(a, dtype=dtype)
        r[0] = 100.0                    # reaches v exactly where NumPy's shares memory
        return v * 1.0, r * 1.0, r.reshape(-1) * 1.0
    return f


@pytest.mark.parametrize("fn", ["ascontiguousarray", "asfortranarray", "require"])
def test_layout_functions_copy_exactly_where_numpys_do(fn):
    """The argument itself where NumPy's returns it (a write through the result reaches
    it), a copy laid out as NumPy's otherwise (a later reshape's order follows it)."""
    x = np.arange(6.0).reshape(2, 3) + 1
    for transposed in (False, True):
        for dtype in (None, np.float32):
            for req in ([None] if fn != "require" else [None, "C", "F", ["F", "W"], "O"]):
                ref = _layout_program(np, fn, transposed, dtype, req)(x)
                out = cr.vjp(_layout_program(cnp, fn, transposed, dtype, req), x)[0]
                assert all(same(a, b) for a, b in zip(out, ref)), (transposed, dtype, req)
    g = cr.grad(lambda v: cnp.sum(getattr(cnp, fn)(v.T) ** 2))(x)
    np.testing.assert_allclose(g, 2 * x)
