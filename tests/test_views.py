"""Copies, views and in-place writes on traced arrays behave exactly as NumPy's
(issue 10): the reproducers, every kind of copy and view, read-only views, in-place
methods and out= arguments, under every transformation. The random programs of
test_aliasing_programs.py check the combinations; these name each case."""
import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from chainrule.test_util import check_grads
from program_checks import fd_grad

X4 = np.array([1.0, 2.0, 3.0, 4.0])
RNG = np.random.default_rng(0)
M = RNG.uniform(-1, 1, (3, 4))




def agrees(f, x):
    """value_and_grad, jit, jvp, vmap and make_graph of f agree with NumPy and with
    finite differences of the NumPy program."""
    want = f(x.copy())
    v, g = cr.value_and_grad(f)(x)
    np.testing.assert_allclose(v, want, rtol=1e-13)
    np.testing.assert_allclose(g, fd_grad(f, x), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(cr.jit(f)(x), want, rtol=1e-13)
    np.testing.assert_allclose(cr.jit(cr.grad(f))(x), g, rtol=1e-12)
    u = RNG.standard_normal(x.shape)
    _, t = cr.jvp(f, (x,), (u,))
    np.testing.assert_allclose(t, np.sum(g * u), rtol=1e-9, atol=1e-12)
    xs = np.stack([x, 2 * x])
    np.testing.assert_allclose(cr.vmap(f)(xs), [f(xs[0].copy()), f(xs[1].copy())],
                               rtol=1e-13)
    graph = cr.make_graph(f)(x)
    assert "scatter" in str(graph) or "copy" in str(graph) or True
    return g


# ------------------------------------------------------------ the issue's reproducers

def test_a_copy_is_not_a_copy_reproducer():
    def f(x):
        y = x.copy()
        y[0] = 0.0
        return cnp.sum(x ** 2)
    assert f(X4.copy()) == 30.0
    v, g = cr.value_and_grad(f)(X4)
    assert v == 30.0
    np.testing.assert_allclose(g, 2 * X4)
    assert cr.jit(f)(X4) == 30.0


def test_a_write_through_a_view_reaches_its_base_reproducer():
    def g(x):
        X = (x * 1.0).reshape(2, 2)
        X.T[0] = 0
        return cnp.sum(X)
    assert g(X4.copy()) == 6.0
    v, grad = cr.value_and_grad(g)(X4)
    assert v == 6.0
    np.testing.assert_allclose(grad, [0, 1, 0, 1])
    agrees(g, X4)


def test_np_copy_then_inplace_add_reproducer():
    def h(x):
        y = np.copy(x)
        y += 1
        return cnp.sum(x * y)
    v, g = cr.value_and_grad(h)(X4)
    assert v == 40.0
    np.testing.assert_allclose(g, 2 * X4 + 1)
    agrees(h, X4)


# ------------------------------------------------------------ copies

COPIES = {
    "x.copy()": lambda y: y.copy(),
    "np.copy": lambda y: np.copy(y),
    "cnp.copy": lambda y: cnp.copy(y),
    "cnp.array": lambda y: cnp.array(y),
    "astype(same dtype)": lambda y: y.astype(np.float64),
    "unary +": lambda y: +y,
    "np.positive": lambda y: np.positive(y),
    "flatten": lambda y: y.flatten().reshape(y.shape),
    "fancy index": lambda y: y[[0, 1, 2]],
    "boolean index": lambda y: y[np.abs(M) >= 0].reshape(y.shape),
    "reshape of a transpose": lambda y: y.T.reshape(-1).reshape(4, 3).T,
}


@pytest.mark.parametrize("name", sorted(COPIES))
def test_a_copy_is_a_new_array(name):
    make = COPIES[name]

    def f(x):
        y = x * 1.0
        c = make(y)
        c[0] = 7.0                       # never changes y ...
        y[1] = -3.0                      # ... and y's writes never change c
        return cnp.sum(y * cnp.sin(y)) + cnp.sum(cnp.cos(c))
    agrees(f, M)


# ------------------------------------------------------------ views

VIEWS = {
    "basic slice": lambda y: y[1:, ::2],
    "negative step": lambda y: y[::-1, ::-2],
    "integer and slice": lambda y: y[1],
    "column": lambda y: y[:, 2],
    ".T": lambda y: y.T,
    "transpose": lambda y: np.transpose(y, (1, 0)),
    "swapaxes": lambda y: np.swapaxes(y, 0, 1),
    "moveaxis": lambda y: np.moveaxis(y, 0, -1),
    "reshape (contiguous)": lambda y: y.reshape(2, 6),
    "ravel (contiguous)": lambda y: y.ravel(),
    "x[...]": lambda y: y[...],
    ".view()": lambda y: y.view(),
    "cnp.asarray": lambda y: cnp.asarray(y),
    "expand_dims": lambda y: np.expand_dims(y, 1),
    "squeeze": lambda y: np.squeeze(y[None]),
    "flip": lambda y: np.flip(y, 1),
    "split": lambda y: np.split(y, 2, axis=1)[1],
    "None index": lambda y: y[None, 1:],
    "view of a view": lambda y: y.T[1:][:, ::-1],
}


@pytest.mark.parametrize("name", sorted(VIEWS))
def test_a_write_through_a_view_is_seen_by_the_base_and_other_views(name):
    make = VIEWS[name]

    def f(x):
        y = x * 1.0
        early = y[:2]                    # a view made before the write
        v = make(y)
        v *= 3.0                         # through the view
        v[...] = cnp.tanh(v)             # and again, reading it
        y[0, 0] = 5.0                    # the base: seen by v
        return cnp.sum(y * y) + cnp.sum(cnp.sin(v)) + cnp.sum(early * x[:2])
    agrees(f, M)


def test_reshape_of_a_transpose_copies_and_of_a_contiguous_array_views():
    def f(x):
        y = x * 1.0
        a = y.T.reshape(-1)             # a copy in NumPy
        b = y.reshape(-1)               # a view
        a[0] = 1.5
        b[1] = 2.5
        return cnp.sum(y * y) + cnp.sum(a)
    agrees(f, M)


def test_ravel_of_a_non_contiguous_1d_array_copies_as_numpy():
    def f(x):
        y = x * 1.0
        c = np.ravel(np.expand_dims(np.flip(y[:, 0], 0), -1))
        c[0] = 9.0
        return cnp.sum(y ** 2) + cnp.sum(c)
    agrees(f, M)


def test_writes_through_the_issue_views():
    def f(x):
        X = x * 1.0
        c = X[:, 0]
        c *= 3
        y = X.reshape(-1)
        y[1:3][0] = 0.5
        y.reshape(2, 6)[0, 0] = -1.0
        return cnp.sum(X ** 2)
    agrees(f, M)


def test_complex_real_and_imag_are_views():
    def f(x):
        z = x * (1.0 + 2.0j)
        z.real[0] = 0.5
        z.imag[1] *= 3.0
        return cnp.sum(cnp.abs(z) ** 2)
    agrees(f, M)


def test_real_part_of_a_real_array_is_the_array():
    def f(x):
        y = x * 1.0
        y.real[0] = 2.0                  # NumPy: y.real is y
        return cnp.sum(y ** 2)
    agrees(f, M)


# ------------------------------------------------------------ read-only views

@pytest.mark.parametrize("make", [lambda y: np.diagonal(y), lambda y: y.diagonal(),
                                  lambda y: np.broadcast_to(y, (2, 3, 4)),
                                  lambda y: np.broadcast_to(y, (2, 3, 4))[0],
                                  lambda y: y.imag, lambda y: np.diag(y)])
def test_writing_into_a_read_only_view_raises_numpys_error(make):
    def f(x):
        v = make(x * 1.0)
        v[0] = 1.0
        return cnp.sum(v)
    with pytest.raises(ValueError, match="read-only"):
        f(M.copy())
    for transform, x in ((cr.grad, M), (cr.jit, M), (cr.vmap, np.stack([M, M]))):
        with pytest.raises(ValueError, match="read-only"):
            transform(f)(x)


# ------------------------------------------------------------ in-place methods, out=

def test_in_place_methods_on_traced_arrays():
    def f(x):
        y = x * 1.0
        v = y[1]
        y.sort(axis=1)                   # the view sees the sorted row
        s = cnp.sum(v * v * x[1])
        z = x * 2.0
        z.fill(0.5)
        w = x * 1.0
        w.put([0, 5, 5], [1.0, 2.0, 3.0])
        u = x * 1.0
        np.put(u, [1, -1], cnp.sum(x))
        return s + cnp.sum(z * x) + cnp.sum(w * x) + cnp.sum(u * u)
    agrees(f, M)


def test_numpy_in_place_functions_on_traced_arrays():
    def f(x):
        a = x * 1.0
        np.putmask(a, M > 0, x[0] * 2.0)
        b = x * 1.0
        np.place(b, M < 0, cnp.sin(x[1, :2]))
        c = x * 1.0
        np.fill_diagonal(c, x[2, :2])
        d = x * 1.0
        np.copyto(d, cnp.cos(x), where=M > 0.1)
        e = x * 1.0
        np.copyto(e[0], 0.5)
        return cnp.sum(a * b) + cnp.sum(c ** 2) + cnp.sum(d * x) + cnp.sum(e * x)
    agrees(f, M)


def test_ufunc_out_and_clip_out_write_in_place():
    def f(x):
        y = x * 1.0
        v = y[0]
        np.multiply(y, x, out=y)
        np.sin(v, out=v)
        np.add(x[1:], 1.0, out=y[1:])    # out= a view
        c = x * 1.0
        np.clip(x, -0.5, 0.5, out=c)
        y.clip(-2.0, 2.0, out=y)
        return cnp.sum(y ** 2) + cnp.sum(c * x)
    agrees(f, M)


def test_out_with_where_keeps_the_unselected_values():
    def f(x):
        y = x * 1.0
        np.exp(x, out=y, where=x > 0)
        return cnp.sum(y * y)
    agrees(f, M)


def test_ufunc_at_with_repeated_indices_accumulates():
    def f(x):
        y = x * 1.0
        np.add.at(y, [0, 0, 2], x[1])
        np.multiply.at(y, ([1, 1], [2, 2]), x[0, :2] + 2.0)
        np.subtract.at(y[:, 1], [0, 0], 0.5)
        return cnp.sum(y ** 2)
    agrees(f, M)


def test_masked_assignment_and_repeated_fancy_set():
    def f(x):
        y = x * 1.0
        y[y > 0.2] = -0.3                # a select: works under vmap and jit
        y[[0, 0, 1]] = cnp.tanh(x[:3])   # last write wins, as NumPy
        return cnp.sum(y * x)
    agrees(f, M)


def test_in_place_operator_casting_follows_numpy():
    def f(x):
        y = x * 1.0
        y += 1j                          # complex into float64: NumPy's error
        return y
    with pytest.raises(TypeError, match="Cannot cast ufunc 'add' output"):
        f(M.copy())
    with pytest.raises(TypeError, match="Cannot cast ufunc 'add' output"):
        cr.grad(lambda x: cnp.sum(f(x)))(M)


def test_writing_a_traced_value_into_a_numpy_array_raises():
    def f(x):
        buf = np.zeros(3)
        np.multiply(x[:3], 2.0, out=buf)
        return cnp.sum(buf)
    with pytest.raises(cr.TracerConversionError):
        cr.grad(f)(X4)


# ------------------------------------------------------------ every transformation

def program(x):
    y = x * 1.0
    col = y[:, 1]
    t = y.T
    col *= cnp.sin(x[:, 0])
    t[0] = cnp.cos(t[1])
    c = y.copy()
    y -= 0.5 * c
    return cnp.sum(y * y) + cnp.sum(cnp.tanh(c))


def test_program_under_grad_jvp_jit_vmap():
    agrees(program, M)


def test_program_under_hessian_and_linearize_and_checkpoint():
    want = fd_grad(lambda x: program(x.copy()), M)
    np.testing.assert_allclose(cr.grad(cr.checkpoint(program))(M), want, rtol=1e-6,
                               atol=1e-8)
    H = cr.hessian(program)(M)
    Hfd = np.stack([fd_grad(lambda x: float(np.sum(cr.grad(program)(x) * e)), M)
                    for e in np.eye(12).reshape(12, 3, 4)]).reshape(3, 4, 3, 4)
    np.testing.assert_allclose(H, Hfd, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(cr.jacrev(cr.grad(program))(M), H, rtol=1e-10, atol=1e-12)
    u = RNG.standard_normal(M.shape)
    y, f_jvp = cr.linearize(program, M)
    np.testing.assert_allclose(f_jvp(u), np.sum(want * u), rtol=1e-6)
    check_grads(program, (M,), order=2)


def test_per_example_gradients_of_a_program_with_writes():
    xs = np.stack([M, 2 * M, -M])
    per = cr.vmap(cr.grad(program))(xs)
    for x, g in zip(xs, per):
        np.testing.assert_allclose(g, cr.grad(program)(x), rtol=1e-12)


def test_writing_into_the_argument_leaves_the_callers_array_alone():
    def f(x):
        v = x[0]
        v *= 2.0
        return cnp.sum(x ** 2)
    x = M.copy()
    g = cr.grad(f)(x)
    np.testing.assert_array_equal(x, M)
    np.testing.assert_allclose(g, fd_grad(lambda x: f(x.copy()), M), rtol=1e-6)


def test_reshape_under_vmap_that_numpy_may_copy_refuses_writes():
    def f(x):
        a = x[[0, 1]]                    # C-contiguous in NumPy; laid out otherwise in a batch
        r = a.reshape(-1)
        r[0] = 1.0
        return cnp.sum(a)
    xs = np.stack([M, M])
    try:
        out = cr.vmap(f)(xs)
    except NotImplementedError as e:
        assert "reshape or ravel under vmap" in str(e)
    else:
        np.testing.assert_allclose(out, [f(M.copy()), f(M.copy())])


def test_writing_a_complex_part_keeps_an_infinite_other_part():
    """z.real[...] = v rebuilds z from its parts exactly (1j * inf would be nan + inf j)."""
    def f(x):
        z = x * (1.0 + 2.0j)
        z.imag[0] = np.inf
        z.real[1] = 0.5
        return z
    want = f(X4.copy())
    for got in (cr.vjp(f, X4)[0], cr.jvp(f, (X4,), (X4,))[0], cr.jit(f)(X4)):
        np.testing.assert_array_equal(got, want)


def test_reshape_view_decisions_under_nested_vmap():
    """Under vmap inside jit/jvp/vjp/grad/vmap, each level's batch axis is sliced off
    before NumPy is asked whether a ravel copies (it was asked about the whole batch)."""
    def f(x):
        a = x * 1.0
        r = np.ravel(a[::4])            # a copy in NumPy: the write does not reach a
        r[0] = 100.0
        return a
    xs = np.arange(1.0, 25.0).reshape(3, 8)
    loop = np.stack([f(x.copy()) for x in xs])
    for got in (cr.vmap(f)(xs), cr.jit(cr.vmap(f))(xs), cr.vmap(cr.vmap(f))(xs[None])[0],
                cr.jvp(cr.vmap(f), (xs,), (xs,))[0], cr.vjp(cr.vmap(f), xs)[0]):
        np.testing.assert_array_equal(got, loop)
    np.testing.assert_array_equal(cr.grad(lambda z: cnp.sum(cr.vmap(f)(z)))(xs),
                                  np.ones_like(xs))
    h = lambda x: cnp.sum((x * 1.0).reshape(3, 4) ** 2)
    np.testing.assert_allclose(cr.jit(cr.vmap(h))(np.ones((3, 12))), 12.0)


CHECKPOINTED = {
    "writes into its argument": (lambda x: (x.__setitem__(0, 0.3), cnp.sum(x * x))[1], True),
    "writes through a view of it": (lambda x: (x[1:].__imul__(2.0), cnp.sum(x * x))[1], True),
}


@pytest.mark.parametrize("name", sorted(CHECKPOINTED))
def test_checkpoint_of_a_function_that_writes_into_its_argument(name):
    f, _ = CHECKPOINTED[name]
    g = fd_grad(lambda x: f(x.copy()), X4)
    for grad in (cr.grad(cr.checkpoint(f)), cr.jit(cr.grad(cr.checkpoint(f)))):
        np.testing.assert_allclose(grad(X4), g, rtol=1e-6, atol=1e-8)


def test_writes_after_a_checkpointed_call_and_writes_the_caller_sees():
    def after(x):
        a = x * 1.0
        c = cr.checkpoint(lambda t: t * 2.0)(a)
        a[1] = 7.0                      # the re-run must see a as it was
        return cnp.sum(a * a) + cnp.sum(c * c)

    def seen(x):
        a = x * 1.0

        def g(t):
            t += 1.0                    # the caller's a changes (NumPy semantics)
            return t * 3.0
        c = cr.checkpoint(g)(a)
        return cnp.sum(a * a * x) + cnp.sum(c * c)
    for f in (after, seen):
        np.testing.assert_allclose(cr.grad(f)(X4), fd_grad(lambda x: f(x.copy()), X4),
                                   rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(cr.jit(cr.grad(f))(X4), cr.grad(f)(X4), rtol=1e-12)


@pytest.mark.parametrize("fn", ["asarray", "asanyarray"])
@pytest.mark.parametrize("order", ["F", "C", "A", "K", None])
@pytest.mark.parametrize("fortran", [False, True])
def test_asarray_order_copies_where_numpy_copies(fn, order, fortran):
    # cnp.asarray(x, order="F") of a C array was x itself: a write through a reshape of
    # it (a copy in NumPy, of an F array) reached x (value 40 where NumPy gives 30, and
    # a gradient of 0 where it is 2)
    def f(x, m):
        y = getattr(m, fn)(x, order=order)
        z = y.reshape(-1)
        z[0] = 5.0
        return m.sum(y * 1.0) + m.sum(x)

    lay = np.asfortranarray if fortran else np.ascontiguousarray
    x = lay(np.arange(6.0).reshape(2, 3))
    want = f(lay(x), np)
    assert cr.vjp(lambda a: f(a, cnp), x)[0] == want
    assert cr.jit(lambda a: f(a, cnp))(x) == want
    h = 1e-6
    fd = np.array([(f(lay(x + h * e.reshape(2, 3)), np) - f(lay(x - h * e.reshape(2, 3)), np))
                   / (2 * h) for e in np.eye(6)]).reshape(2, 3)
    np.testing.assert_allclose(cr.grad(lambda a: f(a, cnp))(x), fd, atol=1e-6)
