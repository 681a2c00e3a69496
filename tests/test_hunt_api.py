"""API-plumbing hunt: Jacobian results must be arrays of their own, and
``jacobian``'s dtypes must not depend on which mode it picks (it is jacrev's result)."""
import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp


@pytest.mark.parametrize("jac", [cr.jacfwd, cr.jacrev, cr.jacobian])
@pytest.mark.parametrize("prog", ["a@A", "A.T@a", "dot"])
def test_jacobian_does_not_alias_closed_over_array(jac, prog):
    x = np.array([1., 2., 3.])
    A = np.arange(12.).reshape(3, 4)
    keep = A.copy()
    f = {"a@A": lambda a: a @ A, "A.T@a": lambda a: A.T @ a,
         "dot": lambda a: cnp.dot(a, A)}[prog]
    J = jac(f)(x)
    assert not np.may_share_memory(J, A)
    J[...] = 99.0                       # the user's A is untouched
    np.testing.assert_array_equal(A, keep)


def test_jacobian_of_undifferentiated_argument_does_not_alias_it():
    x, A = np.array([1., 2., 3.]), np.arange(12.).reshape(3, 4)
    J = cr.jacfwd(lambda a, B: a @ B)(x, A)
    assert not np.may_share_memory(J, A)


@pytest.mark.parametrize("jac", [cr.jacfwd, cr.jacrev])
def test_jacobian_blocks_of_two_outputs_are_separate(jac):
    x = np.array([1., 2., 3.])
    J = jac(lambda a: (a + 1.0, a * 1.0))(x)
    J2 = cr.jacfwd(lambda a: (a, a))(x)
    for pair in (J, J2):
        assert not np.may_share_memory(pair[0], pair[1])
        pair[0][0, 0] = 5.0
        assert pair[1][0, 0] == 1.0


@pytest.mark.parametrize("case", range(4))
def test_jacobian_dtypes_are_jacrevs_whichever_mode(case):
    x = np.array([1., 2., 3.])
    f32 = x.astype(np.float32)
    fun, args, kw = [
        (lambda a, b: cnp.outer(a, b), (f32, x[:2]), dict(argnums=(1, 0))),   # tall
        (lambda a: cnp.outer(a, a).astype(np.float32), (x,), {}),
        (lambda p: {"u": cnp.outer(p["p"], p["q"]), "v": p["p"] * 2},
         ({"p": f32, "q": x},), {}),
        (lambda a: cnp.sum(a) * cnp.ones(5), (f32,), {}),
    ][case]
    got = cr.jacobian(fun, **kw)(*args)
    want = cr.jacrev(fun, **kw)(*args)
    gl, wl = cr.tree_util.tree_leaves(got), cr.tree_util.tree_leaves(want)
    assert cr.tree_util.tree_structure(got) == cr.tree_util.tree_structure(want)
    for g, w in zip(gl, wl):
        assert g.dtype == w.dtype and g.shape == w.shape
        np.testing.assert_allclose(g, w, rtol=1e-6)


def test_jacobian_functions_take_keyword_arguments_held_fixed():
    """jacfwd/jacrev/jacobian/hessian raised TypeError on keyword arguments, which grad
    (and JAX) accept and hold fixed."""
    import chainrule.numpy as cnp
    f = lambda x, s=1.0: cnp.tanh(x) * s                       # noqa: E731
    x = np.array([0.1, 0.2])
    for t in (cr.jacfwd, cr.jacrev, cr.jacobian):
        np.testing.assert_allclose(t(f)(x, s=2.0), 2 * t(f)(x), rtol=1e-15)
    g = lambda x, s=1.0: cnp.sum(cnp.tanh(x)) * s              # noqa: E731
    np.testing.assert_allclose(cr.hessian(g)(x, s=3.0), 3 * cr.hessian(g)(x), rtol=1e-15)
