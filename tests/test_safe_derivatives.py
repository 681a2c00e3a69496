"""Derivatives that are finite where peers give NaN: the derivative of a branch that
where() does not select, of sqrt/log when the incoming cotangent is exactly zero, of
abs and norm at 0, of logsumexp/softmax on all -inf rows, of eigh with repeated
eigenvalues."""
import warnings

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp

from numpy.testing import assert_allclose
from chainrule.test_util import check_grads



def sqrt_where(x):
    return cnp.where(x > 0, cnp.sqrt(x), 0.0)


def log_where(x):
    return cnp.where(x > 0, cnp.log(x), 0.0)


@pytest.mark.parametrize("x0", [np.float64(0.0), np.float64(-1.0)])
def test_where_sqrt_unselected_branch_grad_is_zero(x0):
    with np.errstate(all="ignore"):
        assert cr.grad(sqrt_where)(x0) == 0.0
        assert cr.jvp(sqrt_where, (x0,), (np.float64(1.0),))[1] == 0.0


def test_where_sqrt_python_float_zero():
    with np.errstate(all="ignore"):
        assert cr.grad(sqrt_where)(0.0) == 0.0
        assert cr.jvp(sqrt_where, (0.0,), (1.0,))[1] == 0.0


def test_where_sqrt_vector_mixed():
    x = np.array([0.0, 4.0, -1.0, 0.25])
    with np.errstate(all="ignore"):
        g = cr.grad(lambda x: cnp.sum(sqrt_where(x)))(x)
        J = cr.jacfwd(sqrt_where)(x)
    assert_allclose(g, [0.0, 0.25, 0.0, 1.0])
    assert_allclose(np.diag(J), [0.0, 0.25, 0.0, 1.0])
    assert not np.isnan(J).any()


def test_where_log_unselected_branch_grad_is_zero():
    with np.errstate(all="ignore"):
        assert cr.grad(log_where)(np.float64(0.0)) == 0.0
        assert cr.grad(log_where)(np.float64(-2.0)) == 0.0
        assert cr.jvp(log_where, (np.float64(0.0),), (np.float64(1.0),))[1] == 0.0


def test_where_log_python_float_zero():
    with np.errstate(all="ignore"):
        assert cr.grad(log_where)(0.0) == 0.0


def test_grad_log_at_python_float_zero_is_inf():
    with np.errstate(all="ignore"):
        assert cr.grad(cnp.log)(0.0) == np.inf
        assert cr.grad(lambda x: 1.0 / x)(0.0) == -np.inf


def test_grad_log_at_numpy_zero_is_inf():
    with np.errstate(all="ignore"):
        assert cr.grad(cnp.log)(np.float64(0.0)) == np.inf


def test_zero_cotangent_into_sqrt():
    with np.errstate(all="ignore"):
        assert cr.grad(lambda x: 0.0 * cnp.sqrt(x))(0.0) == 0.0
        assert cr.grad(lambda x: cnp.sqrt(x) * 0.0)(np.float64(0.0)) == 0.0
        assert_allclose(cr.grad(lambda x: cnp.sum(cnp.array([0.0, 1.0]) * cnp.sqrt(x)))(
            np.array([0.0, 4.0])), [0.0, 0.25])


def test_abs_at_zero_has_zero_gradient():
    assert cr.grad(cnp.abs)(0.0) == 0.0
    assert cr.grad(abs)(0.0) == 0.0
    assert cr.jvp(cnp.abs, (0.0,), (1.0,))[1] == 0.0
    assert_allclose(cr.grad(lambda x: cnp.sum(cnp.abs(x)))(np.array([-2.0, 0.0, 3.0])),
                    [-1.0, 0.0, 1.0])
    assert cr.grad(cnp.abs)(0j) == 0.0


def test_where_sqrt_second_derivative_of_unselected_branch_is_zero():
    x0 = np.float64(-1.0)
    with np.errstate(all="ignore"):
        assert cr.jvp(cr.grad(sqrt_where), (x0,), (np.float64(1.0),))[1] == 0.0
        assert cr.hessian(sqrt_where)(x0) == 0.0
        assert cr.grad(cr.grad(sqrt_where))(x0) == 0.0


def test_safe_where_emits_no_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for x0 in (0.0, np.float64(0.0), np.zeros(2)):
            assert_allclose(cr.grad(lambda x: cnp.sum(sqrt_where(x)))(x0), 0.0 * x0)
            assert_allclose(cr.grad(lambda x: cnp.sum(0.0 * cnp.sqrt(x)))(x0), 0.0 * x0)


def test_safe_where_under_errstate_raise():
    with np.errstate(all="raise"):
        for x0 in (0.0, np.float64(0.0), np.zeros(2)):
            assert_allclose(cr.grad(lambda x: cnp.sum(sqrt_where(x)))(x0), 0.0 * x0)


# ------------------------------------------------------------------ functions owned by other families
# These tests fail until chainrule.numpy.linalg.norm / eigh and chainrule.scipy.special
# logsumexp / softmax are differentiable; they are meant to.

def test_pending_family_norm_at_zero_has_zero_gradient():
    assert_allclose(cr.grad(cnp.linalg.norm)(np.zeros(3)), np.zeros(3))
    assert_allclose(cr.grad(cnp.linalg.norm)(np.array([3.0, 4.0])), [0.6, 0.8])


def test_pending_family_logsumexp_all_neg_inf_row():
    from chainrule.scipy.special import logsumexp
    x = np.array([[-np.inf, -np.inf, -np.inf], [0.0, 1.0, 2.0]])
    with np.errstate(all="ignore"):
        out = logsumexp(x, axis=1)
        g = cr.grad(lambda x: cnp.sum(cnp.where(cnp.isfinite(logsumexp(x, axis=1)),
                                                logsumexp(x, axis=1), 0.0)))(x)
    assert out[0] == -np.inf
    assert not np.isnan(g).any()
    assert_allclose(g[0], 0.0)
    assert_allclose(g[1], np.exp(x[1]) / np.exp(x[1]).sum())


def test_pending_family_softmax_row_with_neg_inf():
    from chainrule.scipy.special import softmax
    x = np.array([[-np.inf, 0.0, 1.0], [0.5, -np.inf, -np.inf]])
    ct = np.array([[1.0, 2.0, 3.0], [1.0, -1.0, 0.5]])
    with np.errstate(all="ignore"):
        s = softmax(x, axis=-1)
        g = cr.grad(lambda x: cnp.sum(softmax(x, axis=-1) * ct))(x)
    assert not np.isnan(s).any() and not np.isnan(g).any()
    assert_allclose(s[1], [1.0, 0.0, 0.0])
    assert_allclose(g[1], 0.0, atol=1e-15)          # softmax saturated: no sensitivity
    assert_allclose(g[0, 0], 0.0)


def test_pending_family_eigh_repeated_eigenvalues():
    # a loss that only depends on the eigenvalues is smooth even when they repeat
    A = np.diag([2.0, 2.0, 5.0])
    w_grad = cr.grad(lambda A: cnp.sum(cnp.linalg.eigh(A)[0] ** 2))(A)
    assert not np.isnan(w_grad).any()
    # d/dA sum(lambda^2) = d/dA tr(A^2) = 2A for symmetric A
    assert_allclose(w_grad, 2 * A, atol=1e-12)
    # and a vector function of an invariant subspace is finite too (projector on the
    # 2-dimensional eigenspace of 2 is smooth; written as I - v3 v3^T with v3 from
    # scipy.linalg.eigh(subset_by_index=[2, 2]), since any eigenvector cotangent of
    # numpy.linalg.eigh at a repeated eigenvalue is refused)
    import chainrule.scipy.linalg as csl
    v3 = lambda A: csl.eigh(A, subset_by_index=[2, 2])[1]            # noqa: E731
    P = lambda A: np.eye(3) - v3(A) @ v3(A).T                         # noqa: E731
    g = cr.grad(lambda A: cnp.sum(P(A) * np.arange(9.0).reshape(3, 3)))(A)
    assert not np.isnan(g).any()
    with pytest.raises(NotImplementedError, match="subset_by_index"):
        cr.grad(lambda A: cnp.sum(cnp.linalg.eigh(A)[1][:, 2:]))(A)


@pytest.mark.parametrize("std", [cnp.std, lambda x: cnp.std(x, ddof=1), cnp.nanstd,
                                 lambda x: cnp.sum(cnp.std(x.reshape(2, 2), axis=0))])
def test_std_at_zero_spread_has_the_subgradient_zero(std):
    """np.std of a constant: the peers give a finite gradient; sqrt's infinite derivative
    times var's zero gradient was NaN. The subgradient 0, as for abs and norm at 0, to
    every order and under every transformation; exact elsewhere."""
    x = np.full(4, 1.5)
    with np.errstate(all="raise"):
        assert std(x) == 0.0
        for d in (cr.grad(std)(x), cr.jacfwd(std)(x), cr.hessian(std)(x),
                  cr.jit(cr.grad(std))(x), cr.vmap(cr.grad(std))(np.stack([x, 2 * x]))):
            np.testing.assert_array_equal(d, np.zeros_like(d))
    y = np.array([1.0, 2.0, 4.0, 7.0])
    check_grads(std, (y,), order=2)


def test_zero_tangents_that_are_differentiated_take_the_derivative_at_x():
    """The safe point moves x only where the derivative there is not finite: a zero
    tangent or cotangent that is itself differentiated (zero-initialised weights times
    log of other parameters) needs the derivative at x (the Hessian came out
    asymmetric, d/ds d/dw = 1 instead of 1/s)."""
    p = np.array([0.0, 0.0, 4.0, 2.0])
    f = lambda p: cnp.sum(p[:2] * cnp.log(p[2:]))             # noqa: E731
    for H in (cr.hessian(f)(p), cr.jacrev(cr.jacrev(f))(p), cr.jacfwd(cr.jacfwd(f))(p),
              cr.jit(cr.hessian(f))(p)):
        np.testing.assert_allclose(H[2:, :2], np.diag([0.25, 0.5]), rtol=1e-15)
        np.testing.assert_allclose(H[:2, 2:], np.diag([0.25, 0.5]), rtol=1e-15)
    assert cr.hessian(lambda x: cnp.sum((x - 2.0) * cnp.log(x)))(np.array([2.0]))[0, 0] \
        == pytest.approx(1.0, rel=1e-15)
    assert cr.hessian(lambda p: p[:1] @ (p[1:] ** 0.5))(np.array([0.0, 4.0]))[1, 0] \
        == pytest.approx(0.25, rel=1e-15)
    x = np.array([1.0, 2.0, 4.0])
    np.testing.assert_allclose(
        cr.grad(lambda t: cnp.sum(cr.jvp(cnp.log, (x,), (t,))[1]))(np.zeros(3)), 1 / x)

    @cr.custom_jvp
    def mylog(x):
        return cnp.log(x)
    mylog.defjvp(lambda primals, tangents: cr.jvp(cnp.log, primals, tangents))
    np.testing.assert_allclose(cr.grad(lambda x: cnp.sum(mylog(x)))(x), 1 / x)
    # the unselected branch at its singular point still gives 0, not nan
    g = lambda x: cnp.sum(cnp.where(x > 0, cnp.sqrt(x), 0.0))   # noqa: E731
    with np.errstate(all="ignore"):
        np.testing.assert_allclose(cr.grad(g)(np.array([0.0, 4.0])), [0.0, 0.25])
        np.testing.assert_allclose(cr.hessian(g)(np.array([0.0, 4.0])),
                                   [[0.0, 0.0], [0.0, -1 / 32]])


_SINGULAR_ROWS = {      # every singular row, at a point of its smooth domain
    "arcsin": 0.3, "arccos": -0.4, "arccosh": 1.7, "arctanh": 0.2, "log": 1.3,
    "log2": 0.7, "log10": 2.5, "log1p": 0.4, "sqrt": 2.2, "cbrt": 1.9, "reciprocal": -1.4,
}


def test_the_table_of_singular_rows_is_complete():
    from chainrule._src.prims.elementwise import PRIMS, Unary
    assert {n for n, p in PRIMS.items() if isinstance(p, Unary) and p.singular} \
        == set(_SINGULAR_ROWS)


@pytest.mark.parametrize("name", sorted(_SINGULAR_ROWS))
def test_a_zero_weight_times_a_singular_row_has_the_mixed_derivative_at_x(name):
    """d/dw d/dx (w f(x)) at w = 0 is f'(x): the tangent or cotangent reaching f is
    exactly 0 there, and is itself differentiated. Checked by every route to the
    Hessian, under jit, and against central differences of NumPy's f."""
    x0 = _SINGULAR_ROWS[name]
    f_np = getattr(np, name)
    h = 1e-6
    want = (f_np(x0 + h) - f_np(x0 - h)) / (2 * h)
    g = lambda p: p[0] * getattr(cnp, name)(p[1])              # noqa: E731
    p = np.array([0.0, x0])
    for H in (cr.hessian(g)(p), cr.jacrev(cr.jacrev(g))(p), cr.jacfwd(cr.jacfwd(g))(p),
              cr.jacfwd(cr.jacrev(g))(p), cr.jit(cr.hessian(g))(p)):
        assert H[0, 1] == pytest.approx(want, rel=1e-8)
        assert H[1, 0] == pytest.approx(want, rel=1e-8)
    # and power with an exponent below 1 (Binary's safe point)
    q = lambda p: p[0] * p[1] ** 0.5                             # noqa: E731
    assert cr.hessian(q)(np.array([0.0, 4.0]))[1, 0] == pytest.approx(0.25, rel=1e-15)


# (function, point, exact Hessian): a zero weight w times a row at its singular point.
# f = 0 along w = 0, so d2/ds2 is 0 there; d/dw d/ds is the row's derivative, infinite.
_AT_THE_SINGULAR_POINT = [
    (lambda p: p[0] * cnp.sqrt(p[1]), (0.0, 0.0), [[0, np.inf], [np.inf, 0]]),
    (lambda p: p[0] * cnp.cbrt(p[1]), (0.0, 0.0), [[0, np.inf], [np.inf, 0]]),
    (lambda p: p[0] * p[1] ** 0.5, (0.0, 0.0), [[0, np.inf], [np.inf, 0]]),
    (lambda p: p[0] * cnp.arcsin(p[1]), (0.0, 1.0), [[0, np.inf], [np.inf, 0]]),
    (lambda p: p[0] * cnp.log1p(p[1]), (0.0, -1.0), [[0, np.inf], [np.inf, 0]]),
    (lambda p: cnp.sqrt(p[0]) + p[1], (0.0, 1.0), [[-np.inf, 0], [0, 0]]),
    (lambda p: cnp.where(p[0] > 0, cnp.sqrt(p[0]), 0.0) + p[1] ** 2, (0.0, 1.0),
     [[0, 0], [0, 2]]),
]


@pytest.mark.parametrize("k", range(len(_AT_THE_SINGULAR_POINT)))
def test_second_derivatives_at_the_singular_point_itself(k):
    """At the singular point the mixed derivative is infinite, as it is, by every
    route and under jit; it was a finite wrong number (the derivative at the safe point
    1.0: 0.5 for sqrt) when the rules moved x there. The products of a singular row's
    derivatives with tangents are ``SingularProduct``s: 0 where a factor is 0, at every
    order."""
    g, p, want = _AT_THE_SINGULAR_POINT[k]
    p = np.array(p)
    with np.errstate(all="ignore"):
        for route in (cr.hessian(g), cr.jacrev(cr.jacrev(g)), cr.jacfwd(cr.jacrev(g)),
                      cr.jit(cr.hessian(g)), cr.jit(cr.jacrev(cr.jacrev(g)))):
            for _ in range(2):
                np.testing.assert_array_equal(route(p), want)


def test_third_derivatives_through_a_singular_product():
    """d3/(dw ds2) of w sqrt(s) at w = 0 is sqrt's second derivative at s (a product
    of the next order)."""
    g = lambda p: p[0] * cnp.sqrt(p[1])                         # noqa: E731
    T = cr.jacfwd(cr.hessian(g))(np.array([0.0, 4.0]))
    np.testing.assert_allclose([T[0, 1, 1], T[1, 0, 1], T[1, 1, 0]], -1 / 32, rtol=1e-15)
    T = cr.jacrev(cr.jacfwd(cr.jacrev(g)))(np.array([0.0, 4.0]))
    np.testing.assert_allclose([T[0, 1, 1], T[1, 0, 1], T[1, 1, 0]], -1 / 32, rtol=1e-15)


def test_norm_at_zero_second_derivatives_are_nan_not_a_finite_guess():
    # The subgradient 0 at first order stays; past it the norm alone does not know the
    # answer: hessian(norm(x) ** 2) at 0 is 2 I (it was 0, silently: an L2 penalty
    # written with norm at zero weights), hessian(norm) is unbounded there.
    z = np.zeros(3)
    n = cnp.linalg.norm
    for grad in (cr.grad(n), cr.jacfwd(n), cr.jit(cr.grad(n))):
        assert_allclose(grad(z), np.zeros(3))
    for hess in (cr.hessian(lambda w: n(w) ** 2), cr.jacrev(cr.jacrev(lambda w: n(w) ** 2)),
                 cr.jacfwd(cr.grad(n)), cr.jit(cr.hessian(lambda w: 3.0 * n(w, 3)))):
        assert np.isnan(hess(z)).all()
    x = np.array([1.0, 2.0, 2.0])     # away from 0: exact
    assert_allclose(cr.hessian(lambda w: n(w) ** 2)(x), 2 * np.eye(3), rtol=1e-14)
    A = np.zeros((2, 2))
    assert_allclose(cr.grad(lambda a: n(a, "fro"))(A), A)
    assert np.isnan(cr.hessian(lambda a: n(a, "fro") ** 2)(A)).all()
