"""NumPy's in-place semantics inside transformations: x[i] = v, x += v, aliasing (other
names see the update), JAX's functional x.at[i].set/add/multiply, and the derivatives
of all of them (including repeated indices)."""
import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp

from numpy.testing import assert_allclose

X = np.array([1.0, 2.0, 3.0])


def both_modes(f, x):
    """The Jacobian by forward and by reverse mode (they must agree)."""
    Jf, Jr = cr.jacfwd(f)(x), cr.jacrev(f)(x)
    assert_allclose(Jf, Jr, err_msg="jacfwd and jacrev disagree")
    return Jr


def test_setitem_constant_kills_gradient_at_that_position():
    def f(x):
        y = x * 1.0
        y[1] = 5.0
        return cnp.sum(y ** 2)
    assert_allclose(cr.grad(f)(X), [2.0, 0.0, 6.0])
    assert f(X.copy()) == 1 + 25 + 9


def test_setitem_traced_value():
    def f(x, v):
        y = x * 1.0
        y[1] = v
        return cnp.sum(y ** 2)
    gx, gv = cr.grad(f, argnums=(0, 1))(X, 4.0)
    assert_allclose(gx, [2.0, 0.0, 6.0])
    assert_allclose(gv, 8.0)
    out, t = cr.jvp(f, (X, 4.0), (np.ones(3), 1.0))
    assert_allclose(out, 26.0)
    assert_allclose(t, 2 * 1 + 2 * 4 + 2 * 3)


def test_setitem_on_the_argument_itself():
    def f(x):
        x[0] = x[1] * x[2]
        return cnp.sum(x ** 2)
    x = X.copy()
    assert_allclose(cr.grad(f)(x), [0.0, 2 * 6 * 3 + 2 * 2, 2 * 6 * 2 + 2 * 3])
    # the caller's array is not modified by the traced update
    assert_allclose(x, X)


def test_setitem_slice_and_overlap_reads_rhs_first():
    def f(x):
        y = x * 1.0
        y[1:] = y[:-1] * 2.0              # NumPy: RHS evaluated before the write
        return y
    assert_allclose(f(X.copy()), [1.0, 2.0, 4.0])
    J = both_modes(f, X)
    assert_allclose(J, [[1, 0, 0], [2, 0, 0], [0, 2, 0]])


def test_setitem_boolean_mask_and_fancy_index():
    def f(x):
        y = x * 1.0
        y[x > 1.5] = 0.0
        y[np.array([0])] = x[0] * 3.0
        return y
    J = both_modes(f, X)
    assert_allclose(J, [[3, 0, 0], [0, 0, 0], [0, 0, 0]])


def test_iadd_and_imul():
    def f(x):
        y = x * 1.0
        y += x ** 2
        y *= 2.0
        y -= x
        y /= 2.0
        return y
    assert_allclose(f(X.copy()), ((X + X ** 2) * 2 - X) / 2)
    J = both_modes(f, X)
    assert_allclose(J, np.diag(((1 + 2 * X) * 2 - 1) / 2))


def test_aliasing_sees_setitem():
    def f(x):
        x = x * 1.0
        y = x                     # same array
        x[0] = 10.0
        return cnp.sum(y ** 2)    # y sees the update, as in NumPy
    assert f(X.copy()) == 100 + 4 + 9
    assert_allclose(cr.grad(f)(X), [0.0, 4.0, 6.0])


def test_aliasing_sees_inplace_operator():
    def f(x):
        y = x * 1.0
        z = y
        y *= x
        return cnp.sum(z)         # z is y: sum(x * x)
    assert f(X.copy()) == np.sum(X * X)
    assert_allclose(cr.grad(f)(X), 2 * X)


def test_old_value_used_before_update_keeps_its_derivative():
    def f(x):
        y = x * 2.0
        s = cnp.sum(y ** 2)       # uses the old y
        y[0] = 0.0
        return s + cnp.sum(y)
    assert_allclose(cr.grad(f)(X), 8 * X + np.array([0.0, 2.0, 2.0]))


def test_view_semantics_are_not_promised_but_copies_are_independent():
    def f(x):
        y = x * 1.0
        c = y.copy() if hasattr(y, "copy") else y
        c = c + 0.0
        y[0] = 7.0
        return cnp.sum(c)
    assert_allclose(cr.grad(f)(X), np.ones(3))


# ------------------------------------------------------------------ x.at[...]

def test_at_set_add_multiply():
    f_set = lambda x: cnp.sum(x.at[1].set(7.0) ** 2)
    f_add = lambda x: cnp.sum(x.at[1].add(x[0]) ** 2)
    f_mul = lambda x: cnp.sum(x.at[1].multiply(x[2]) ** 2)
    assert_allclose(cr.grad(f_set)(X), [2.0, 0.0, 6.0])
    # y = [x0, x1 + x0, x2]
    assert_allclose(cr.grad(f_add)(X), [2 * 1 + 2 * 3, 2 * 3, 2 * 3])
    # y = [x0, x1 * x2, x2]
    assert_allclose(cr.grad(f_mul)(X), [2.0, 2 * 6 * 3, 2 * 6 * 2 + 2 * 3])


def test_at_is_functional():
    def f(x):
        y = x.at[0].set(100.0)
        return cnp.sum(x) + 0.0 * cnp.sum(y)     # x itself is unchanged
    assert_allclose(cr.grad(f)(X), np.ones(3))
    assert cr.grad(lambda x: x.at[0].set(100.0)[0] + x[0])(X)[0] == 1.0


def test_at_get_subtract_divide():
    f = lambda x: cnp.sum(x.at[1:].subtract(x[0]).at[0].divide(x[2]) * np.array([1.0, 2.0, 3.0]))
    # y = [x0 / x2, x1 - x0, x2 - x0]
    g = cr.grad(f)(X)
    assert_allclose(g, [1 / 3 - 2 - 3, 2.0, -1 / 9 + 3])
    assert_allclose(cr.grad(lambda x: cnp.sum(x.at[::2].get() ** 2))(X), [2.0, 0.0, 6.0])


def test_at_out_of_bounds_is_index_error():
    with pytest.raises(IndexError):
        cr.grad(lambda x: cnp.sum(x.at[5].set(1.0)))(X)

    def f(x):
        x[5] = 1.0
        return cnp.sum(x)
    with pytest.raises(IndexError):
        cr.grad(f)(X)


# ------------------------------------------------------------------ repeated indices

def test_fancy_iadd_with_distinct_indices():
    def f(x):
        y = x * 1.0
        y[np.array([0, 2])] += x[:2]
        return y
    assert_allclose(f(X.copy()), [2.0, 2.0, 5.0])
    J = both_modes(f, X)
    assert_allclose(J, [[2, 0, 0], [0, 1, 0], [0, 1, 1]])




def test_fancy_iadd_with_repeated_indices_follows_numpy():
    # NumPy: y[[0, 0]] += 1 adds 1 once (buffered), so y = x + [1, 0, 0]: Jacobian = I
    def f(x):
        y = x * 1.0
        y[[0, 0]] += 1.0
        return y
    x = X.copy()
    assert_allclose(f(x.copy()), X + [1.0, 0.0, 0.0])
    assert_allclose(cr.jacfwd(f)(X), np.eye(3))
    assert_allclose(cr.jacrev(f)(X), np.eye(3))


# g(x, v), x, v, d g / d x, d g / d v. x.at only exists on traced arrays, so each
# Jacobian is taken with respect to x as well as v.
_V = np.array([5.0, 7.0])
AT_JACOBIANS = {
    "traced_value_and_index_array": (
        lambda x, v: x.at[np.array([0, 2])].set(v * 2.0), X, np.array([1.0, 1.0]),
        np.diag([0.0, 1.0, 0.0]), [[2, 0], [0, 0], [0, 2]]),
    "set_repeated_indices_last_write_wins": (
        lambda x, v: x.at[np.array([0, 0])].set(v), X, _V,
        np.diag([0.0, 1.0, 1.0]), [[0, 1], [0, 0], [0, 0]]),
    "add_repeated_indices_accumulates": (
        lambda x, v: x.at[np.array([0, 0])].add(v), X, _V,
        np.eye(3), [[1, 1], [0, 0], [0, 0]]),
    # out[0] = x0 * v0 * v1
    "multiply_repeated_indices": (
        lambda x, v: x.at[np.array([0, 0])].multiply(v), X, _V,
        np.diag([35.0, 1.0, 1.0]), [[7.0, 5.0], [0, 0], [0, 0]]),
    # (from test_indexing.py) x = [2, 3]: out[0] = x0 * v0 * v1
    "multiply_repeated_indices_of_a_product": (
        lambda x, v: (x * 1.0).at[np.array([0, 0])].multiply(v), np.array([2.0, 3.0]), _V,
        [[35.0, 0.0], [0.0, 1.0]], [[14.0, 10.0], [0.0, 0.0]]),
}


@pytest.mark.parametrize("jac", [cr.jacfwd, cr.jacrev], ids=["jacfwd", "jacrev"])
@pytest.mark.parametrize("name", list(AT_JACOBIANS))
def test_at_jacobians(name, jac):
    g, x, v, want_Jx, want_Jv = AT_JACOBIANS[name]
    Jx, Jv = jac(g, argnums=(0, 1))(x, v)
    assert_allclose(Jx, want_Jx)
    assert_allclose(Jv, want_Jv)


def test_gather_with_repeated_indices_accumulates():
    f = lambda x: cnp.sum(x[np.array([0, 0, 2])] ** 2)
    assert_allclose(cr.grad(f)(X), [4.0, 0.0, 6.0])


def _rosen_der(x):          # scipy.optimize.rosen_der as SciPy 1.x wrote it
    xm, xm_m1, xm_p1 = x[1:-1], x[:-2], x[2:]
    der = np.zeros_like(x)
    der[1:-1] = 200 * (xm - xm_m1 ** 2) - 400 * (xm_p1 - xm ** 2) * xm - 2 * (1 - xm)
    der[0] = -400 * x[0] * (x[1] - x[0] ** 2) - 2 * (1 - x[0])
    der[-1] = 200 * (x[-1] - x[-2] ** 2)
    return der


def _rosen_hess(x):
    H = np.diag(-400 * x[:-1], 1) + np.diag(-400 * x[:-1], -1)
    d = np.zeros_like(x)
    d[0] = 1200 * x[0] ** 2 - 400 * x[1] + 2
    d[-1] = 200
    d[1:-1] = 202 + 1200 * x[1:-1] ** 2 - 400 * x[2:]
    return H + np.diag(d)


def test_buffers_made_like_a_traced_array_take_traced_values():
    # np.zeros_like(x) of a traced x was a plain ndarray: der[1:-1] = <traced> raised
    # TracerConversionError in every transformation (SciPy's rosen_der pattern)
    x = np.array([1.3, 0.7, 0.8, 1.9, 1.2])
    H = _rosen_hess(x)
    np.testing.assert_allclose(cr.jacfwd(_rosen_der)(x), H, rtol=1e-13)
    np.testing.assert_allclose(cr.jacrev(_rosen_der)(x), H, rtol=1e-13)
    np.testing.assert_allclose(cr.jit(cr.jacrev(_rosen_der))(x), H, rtol=1e-13)
    np.testing.assert_array_equal(cr.jit(_rosen_der)(x), _rosen_der(x))
    X = np.stack([x, x + 1.0, -x])
    np.testing.assert_array_equal(cr.vmap(_rosen_der)(X), [_rosen_der(v) for v in X])
    np.testing.assert_allclose(cr.vmap(cr.jacfwd(_rosen_der))(X), [_rosen_hess(v) for v in X],
                               rtol=1e-13)


@pytest.mark.parametrize("make", ["zeros_like", "ones_like", "empty_like", "full_like"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.complex128])
def test_like_buffers_values_dtypes_and_zero_derivative(make, dtype):
    fill = {"zeros_like": 0, "ones_like": 1, "empty_like": 0, "full_like": 2.5}[make]
    args = (2.5,) if make == "full_like" else ()

    def f(x):
        b = getattr(np, make)(x, *args)
        if make == "empty_like":
            b[...] = 0
        b[1] = x[0] * x[2]
        return b

    x = np.array([1.0, 2.0, 3.0], dtype)
    want = np.full(3, fill, dtype)
    want[1] = x[0] * x[2]
    for run in (lambda x: f(x), cr.jit(f), lambda x: cr.vmap(f)(x[None])[0]):
        got = run(x)
        assert got.dtype == dtype
        np.testing.assert_array_equal(got, want)
    J = cr.jacfwd(f, holomorphic=dtype == np.complex128)(x)
    Jr = cr.jacrev(f, holomorphic=dtype == np.complex128)(x)
    expect = np.zeros((3, 3), dtype)
    expect[1, 0], expect[1, 2] = x[2], x[0]
    np.testing.assert_array_equal(J, expect)
    np.testing.assert_array_equal(Jr, expect)


def test_like_buffers_stay_numpys_where_no_derivative_can_reach_them():
    x = np.arange(3.0)
    assert type(cnp.zeros_like(x)) is np.ndarray              # outside transformations

    def f(x):
        i = np.zeros_like(x, dtype=int)                         # an integer buffer
        s = np.zeros_like(x, shape=(2,))                        # another shape
        assert type(i) is np.ndarray and type(s) is np.ndarray
        return cnp.sum(x) + i.sum() + s.sum()

    np.testing.assert_array_equal(cr.grad(f)(x), np.ones(3))
