"""NumPy's array_like arguments holding traced values (issue 12, item 1): lists and
tuples of traced values, arrays and scalars, nested, wherever NumPy accepts array_like;
NumPy's result shape and dtype, and derivatives to every element."""
import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from chainrule.test_util import check_grads

X = np.array([0.3, 0.7, -0.4])
Y = np.array([1.5, -0.5, 2.0])

CASES = {
    "linalg.norm([x, x + 2])": lambda x: cnp.linalg.norm([x, x + 2]),
    "mean([x, y * x])": lambda x: cnp.mean([x, Y * x]),
    "sum([x[0], x[1] * 2])": lambda x: cnp.sum([x[0], x[1] * 2]),
    "vstack((x, (x[0], x[1], 1.0)))": lambda x: cnp.vstack((x, (x[0], x[1], 1.0))),
    "append([1.0, 2.0], x)": lambda x: cnp.append([1.0, 2.0], x),
    "dot([x[0], 1.0, x[2]], y)": lambda x: cnp.dot([x[0], 1.0, x[2]], Y),
    "exp([x[0], x[1]])": lambda x: cnp.exp([x[0], x[1]]),
    "maximum([x[0], 2.0, 0.1], x)": lambda x: cnp.maximum([x[0], 2.0, 0.1], x),
    "where(y > 0, [x[0], x[1], x[2]], 0.0)": lambda x: cnp.where(Y > 0, [x[0], x[1], x[2]], 0.0),
    "x + [x[0], 1.0, 2.0]": lambda x: x + [x[0], 1.0, 2.0],
    "[x[0], 1.0, 2.0] * x": lambda x: [x[0], 1.0, 2.0] * x,
    "x @ [x[1], 1.0, x[0]]": lambda x: x @ [x[1], 1.0, x[0]],
    "matmul([[x[0], 1.0, 0.5]], x)": lambda x: cnp.matmul([[x[0], 1.0, 0.5]], x),
    "linalg.det([[x[0], 1.0], [2.0, x[1]]])": lambda x: cnp.linalg.det([[x[0], 1.0], [2.0, x[1]]]),
    "array([[x[0], x[1]], (x[2], 1.0)])": lambda x: cnp.array([[x[0], x[1]], (x[2], 1.0)]),
    "stack([x, [1.0, 2.0, 3.0]])": lambda x: cnp.stack([x, [1.0, 2.0, 3.0]]),
    "concatenate([x, [1.0]])": lambda x: cnp.concatenate([x, [1.0]]),
    "r_[x, 1.0, x[:2], 0:2]": lambda x: cnp.r_[x, 1.0, x[:2], 0:2],
    "c_[x, [1.0, 2.0, 3.0], x * x]": lambda x: cnp.c_[x, [1.0, 2.0, 3.0], x * x],
}


def numpy_version(f, x):
    """The same program on plain NumPy arrays (NumPy's own value)."""
    return f(x)


@pytest.mark.parametrize("name", sorted(CASES))
def test_array_like_with_traced_values(name):
    f = CASES[name]
    want = numpy_version(f, X.copy())
    got = cr.jit(f)(X)
    np.testing.assert_allclose(got, want, rtol=1e-13)
    assert np.shape(got) == np.shape(want) and np.result_type(got) == np.result_type(want)
    check_grads(lambda x: cnp.sum(cnp.sin(f(x))), (X,), order=2)
    per = cr.vmap(f)(np.stack([X, 2 * X]))
    np.testing.assert_allclose(per[1], f(2 * X), rtol=1e-13)


def test_r_and_c_are_numpys_without_traced_items():
    assert cnp.r_[1:3, 5.0].tolist() == np.r_[1:3, 5.0].tolist()
    np.testing.assert_array_equal(cnp.c_[np.ones(2), np.zeros(2)], np.c_[np.ones(2), np.zeros(2)])
    with pytest.raises(NotImplementedError, match="string directives"):
        cr.grad(lambda x: cnp.sum(cnp.r_["0,2", x, x]))(X)


def test_lists_of_traced_values_as_the_values_of_writes():
    """a[1:4] = [x[0], 2.0, x[5]] and the in-place functions take array_like values."""
    x = np.arange(1.0, 7.0)

    def f(x):
        a = x * 1.0
        a[1:4] = [x[0], 2.0, x[5]]
        np.put(a, [0, 5], [x[1], x[2]])
        b = x * 1.0
        np.putmask(b, x > 3.5, [x[0], 1.0])
        np.place(b, x < 1.5, [x[3]])
        c = x[:3] * 1.0
        np.copyto(c, [x[4], 1.0, x[0]])
        return cnp.sum(a * a) + cnp.sum(b * b * x) + cnp.sum(c * x[:3])
    h = 1e-6
    fd = np.array([(f(x + h * e) - f(x - h * e)) / (2 * h) for e in np.eye(6)])
    for g in (cr.grad(f)(x), cr.jit(cr.grad(f))(x)):
        np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(cr.jit(f)(x), f(x.copy()), rtol=1e-14)
