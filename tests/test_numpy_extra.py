"""The NumPy functions of issue 12 item 2 beyond their op-database rows: vectorize's
element loop for Python branches and NumPy's errors, in-place and view semantics
(x.partition, nan_to_num(copy=False), rollaxis, real_if_close), the unique_* family's
derivatives, NumPy's own functions routed to chainrule, and eig where eigenvectors
are undetermined or compared with autograd."""
import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from chainrule._src.interpreters.batching import ConcretizationError
from chainrule.test_util import check_grads

RNG = np.random.default_rng(12)


def randn(*shape):
    return RNG.standard_normal(shape)


# ------------------------------------------------------------------ vectorize

def _branchy(a):
    return a * a if a > 0 else -a          # Python control flow on the value


def test_vectorize_python_branches_run_element_by_element():
    x = np.array([-1.0, 2.0, 3.0])
    f = cnp.vectorize(_branchy)
    np.testing.assert_allclose(cr.grad(lambda x: cnp.sum(f(x)))(x), [-1.0, 4.0, 6.0])
    np.testing.assert_allclose(cr.jit(f)(x), np.vectorize(_branchy)(x))
    with pytest.raises(ConcretizationError, match="cnp.where"):
        cr.vmap(lambda x: f(x))(x[:, None])       # no single value per example


def test_vectorize_is_numpy_outside_and_accepts_numpy_forms():
    @cnp.vectorize(otypes=[np.float64], excluded={"scale"})
    def f(a, b, scale=1.0):
        return (a + b) * scale
    assert type(f(np.arange(3), 1)) is np.ndarray and f(np.arange(3), 1).dtype == np.float64
    got = cr.grad(lambda a: cnp.sum(f(a, np.ones((2, 1)), scale=3.0)))(np.arange(3.0))
    np.testing.assert_allclose(got, [6.0, 6.0, 6.0])
    g = cnp.vectorize(lambda a, b: cnp.dot(a, b), signature="(n),(n)->()")
    with pytest.raises(ValueError, match="inconsistent size for core dimension"):
        cr.grad(lambda a: g(a, np.ones(4)).sum())(np.ones((2, 3)))
    with pytest.raises(TypeError, match="wrong number of positional arguments"):
        cr.grad(lambda a: g(a).sum())(np.ones((2, 3)))
    with pytest.raises(ValueError, match="size 0"):
        cr.grad(lambda a: cnp.sum(cnp.vectorize(cnp.sin)(a[:0])))(np.ones(3))


def test_vectorize_writes_in_the_function_are_numpy_writes():
    def f(v):
        w = v * 1.0
        head = w[:2]
        head *= 10.0                            # a view of w: w changes
        return cnp.sum(w)
    g = cnp.vectorize(f, signature="(n)->()")
    x = randn(3, 4)
    np.testing.assert_allclose(cr.jit(g)(x), np.vectorize(f, signature="(n)->()")(x))
    np.testing.assert_allclose(cr.grad(lambda x: cnp.sum(g(x)))(x),
                               np.tile([10.0, 10.0, 1.0, 1.0], (3, 1)))


# ------------------------------------------------------------------ in place and views

def test_partition_method_and_numpy_function():
    x = randn(7)

    def f(x):
        y = x * 2.0
        v = y[1:]
        v.partition(2)                          # in place, through a view
        return y
    want = f(x.copy())
    np.testing.assert_array_equal(cr.jit(f)(x), want)
    g = cr.grad(lambda x: f(x)[3])(x)
    assert np.count_nonzero(g) == 1 and g[np.argmax(g)] == 2.0
    np.testing.assert_array_equal(cr.jit(lambda x: np.partition(x, (1, 4)))(x),
                                  np.partition(x, (1, 4)))


def test_nan_to_num_in_place_and_rollaxis_view():
    x = np.array([1.0, np.nan, 2.0, np.inf])

    def f(x):
        y = x * 3.0
        np.nan_to_num(y[1:], copy=False, posinf=5.0)   # writes into y
        return y
    np.testing.assert_array_equal(cr.jit(f)(x), f(x.copy()))
    np.testing.assert_array_equal(cr.grad(lambda x: cnp.sum(f(x)))(x), [3.0, 0.0, 3.0, 0.0])

    def h(a):
        b = a * 1.0
        r = np.rollaxis(b, 2)
        r[0] = 0.0                              # a view: b changes
        return b
    t = randn(2, 3, 4)
    np.testing.assert_array_equal(cr.jit(h)(t), h(t.copy()))


def test_real_if_close_derivative_view_and_vmap():
    z = randn(3) + 1e-17j

    def f(z):
        w = z * 1.0
        r = cnp.real_if_close(w)                # a view of w's real part
        r[0] = 0.0
        return w
    np.testing.assert_array_equal(cr.jit(f)(z), f(z.copy()))
    g = cr.grad(lambda z: cnp.sum(cnp.real_if_close(z) ** 2))(z)
    np.testing.assert_allclose(g, 2 * z.real)
    with pytest.raises(ConcretizationError, match="real_if_close"):
        cr.vmap(cnp.real_if_close)(np.stack([z, z]))
    x = randn(3)
    np.testing.assert_array_equal(cr.vmap(cnp.real_if_close)(np.stack([x, x])),
                                  np.stack([x, x]))


def test_unique_family_derivatives():
    x = np.array([2.0, -1.0, 2.0, 0.5, -1.0, 3.0])
    # each unique value is a gather of its first occurrence
    first = np.array([1.0, 1.0, 0.0, 1.0, 0.0, 1.0])
    for fn in (cnp.unique_values, lambda a: cnp.unique_counts(a)[0],
               lambda a: cnp.unique_inverse(a)[0], lambda a: cnp.unique_all(a).values):
        np.testing.assert_allclose(cr.grad(lambda a: cnp.sum(fn(a) * 2.0))(x), 2 * first)
    z = np.array([1 + 1j, 2.0, 1 + 1j, -1j, 3.0])      # unsorted values (hash order)
    g = cr.grad(lambda z: cnp.sum(cnp.abs(cnp.unique_values(z)) ** 2))(z)
    np.testing.assert_allclose(g, 2 * z.conj() * np.array([1, 1, 0, 1, 1]))
    with pytest.raises(ConcretizationError):
        cr.vmap(cnp.unique_values)(np.stack([x, x]))


def test_numpy_functions_reach_chainrule():
    a, b = randn(3, 4), randn(4, 2)
    g = cr.grad(lambda a: np.sum(np.einsum(a, [0, 1], b, [1, 2], [0, 2])))(a)
    np.testing.assert_allclose(g, np.tile(b.sum(1), (3, 1)))
    got = cr.grad(lambda x: np.sum(np.gradient(x ** 2)))(np.arange(4.0))
    np.testing.assert_allclose(got, cr.grad(lambda x: cnp.sum(cnp.gradient(x ** 2)))(
        np.arange(4.0)))
    w = cr.jit(lambda a: np.linalg.eigvals(a))(randn(3, 3))
    assert w.shape == (3,)


# ------------------------------------------------------------------ eig

def _repeated():
    """A diagonalisable, non-normal matrix with the eigenvalue 2 twice."""
    p = randn(3, 3) + 3 * np.eye(3)
    return p @ np.diag([2.0, 2.0, 5.0]) @ np.linalg.inv(p)


def test_eig_at_a_repeated_eigenvalue():
    a = _repeated()
    # symmetric functions of the eigenvalues are exact (the trace's derivative is I)
    g = cr.grad(lambda a: cnp.sum(cnp.linalg.eigvals(a)).real)(a)
    np.testing.assert_allclose(g, np.eye(3), atol=1e-8)
    # one copy of the repeated eigenvalue, or its eigenvectors: undetermined
    k = int(np.argmin(np.abs(np.linalg.eigvals(a) - 2.0)))
    with pytest.raises(NotImplementedError, match="eig"):
        cr.grad(lambda a: cnp.linalg.eigvals(a)[k].real)(a)
    with pytest.raises(NotImplementedError, match="eig"):
        cr.grad(lambda a: cnp.sum(cnp.abs(cnp.linalg.eig(a)[1]) ** 2 * randn(3, 3)))(a)
    _, tv = cr.jvp(lambda a: cnp.linalg.eig(a)[1], (a,), (randn(3, 3),))
    assert np.isnan(tv).any()
    batched = cr.vmap(cr.grad(lambda a: cnp.linalg.eigvals(a)[k].real))(np.stack([a, a]))
    assert np.isnan(batched).all()


def test_eig_agrees_with_autograd_on_phase_free_losses():
    ag = pytest.importorskip("autograd")
    anp = pytest.importorskip("autograd.numpy")
    a = randn(4, 4)
    c = randn(4, 4)

    def loss(mod):
        def f(a):
            w, v = mod.linalg.eig(a)
            return mod.sum(mod.abs(v) ** 2 * c) + mod.sum(mod.real(w * w))
        return f
    np.testing.assert_allclose(cr.grad(loss(cnp))(a), ag.grad(loss(anp))(a), rtol=1e-7,
                               atol=1e-9)
