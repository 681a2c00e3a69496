"""jit against the same NumPy program run uncompiled: silent differences a hunt found
(writes into arguments, outputs a rewrite turned into the caller's array, the memory
layout of arguments)."""
import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp


def _calls(f, make, n=3):
    jf = cr.jit(f)
    for _ in range(n):
        yield make(), jf


def test_writes_into_an_argument_reach_the_caller():
    def f(x):
        x[0] = 7.0
        return x * 2

    def g(x):
        x += 1
        return x

    def h(x):
        np.add(x, 1.0, out=x)
        return cnp.sum(x)

    for fun in (f, g, h):
        jf = cr.jit(fun)
        for _ in range(3):
            x, y = np.arange(3.0), np.arange(3.0)
            want, got = fun(x), jf(y)
            np.testing.assert_array_equal(got, want)
            np.testing.assert_array_equal(y, x)
    jg = cr.jit(g)
    for _ in range(3):
        x = np.arange(3.0)
        assert jg(x) is x                   # NumPy returns the argument itself


def test_write_into_read_only_or_aliased_arguments_runs_as_numpy():
    def f(x):
        x[0] = 1.0
        return x

    jf = cr.jit(f)
    jf(np.arange(3.0))
    ro = np.arange(3.0)
    ro.flags.writeable = False
    for a in (ro, np.broadcast_to(np.arange(3.0), (2, 3))[0]):
        with pytest.raises(ValueError):
            jf(a)

    def g(x, y):
        x[0] = 5.0
        return y * 1.0

    jg = cr.jit(g)
    for _ in range(3):
        a = np.arange(3.0)
        np.testing.assert_array_equal(jg(a, a), [5.0, 1.0, 2.0])
        np.testing.assert_array_equal(a, [5.0, 1.0, 2.0])
    assert jg.cache_info().fallbacks >= 2


@pytest.mark.parametrize("f", [
    lambda x: x + 0, lambda x: x * 1, lambda x: x - 0.0, lambda x: -(-x),
    lambda x: cnp.where(True, x, 0.0), lambda x: (x * 1).T,
    lambda x: cnp.reshape(x * 1, (6,)), lambda x: (x, x * 1), lambda x: (x * 1, x),
    lambda x: (x + 1, x + 1), lambda x: ((x + 1) * 1, x + 1)])
def test_rewritten_outputs_are_not_the_caller_array(f):
    jf = cr.jit(f)
    for _ in range(3):
        x = np.arange(6.0).reshape(2, 3)
        want, got = f(x), jf(x)
        want = want if isinstance(want, tuple) else (want,)
        got = got if isinstance(got, tuple) else (got,)
        for w, g in zip(want, got):
            assert (w is x) == (g is x)
            assert np.shares_memory(w, x) == np.shares_memory(g, x)
            np.testing.assert_array_equal(g, w)
            assert g.flags.c_contiguous == w.flags.c_contiguous
        assert [[a is b for b in want] for a in want] == \
            [[a is b for b in got] for a in got]
        assert [[np.shares_memory(a, b) for b in want] for a in want] == \
            [[np.shares_memory(a, b) for b in got] for a in got]


def test_rewritten_zero_d_output_is_numpy_scalar():
    f = lambda x: x / 1.0           # noqa: E731
    jf = cr.jit(f)
    for _ in range(3):
        x = np.array(2.5)
        r = jf(x)
        assert type(r) is type(f(x)) and r is not x


def test_returned_global_array_is_the_array():
    W = np.ones(3)
    jf = cr.jit(lambda: W)
    for _ in range(3):
        assert jf() is W


def test_memory_layout_is_part_of_the_key():
    A = np.arange(12.0).reshape(3, 4)

    def f(x):
        y = x.reshape(-1)               # a view of C arrays, a copy of the others
        y[0] = 100.0
        return x

    jf = cr.jit(f)
    for make in (lambda: A.copy(), lambda: np.asfortranarray(A), lambda: A.copy()[:, ::2],
                 lambda: A.copy().T, lambda: A.copy()) * 2:
        a, b = make(), make()
        want, got = f(a), jf(b)
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(b, a)


def test_augmented_assignment_rebinds_numbers_and_numpy_scalars():
    """``s += 1`` on a NumPy scalar (a reduction's result, an element) or a Python
    number rebinds s; another name keeps the old value. Traced values wrote in place,
    so ``t = s; s += 1`` changed t under jit, vmap and value_and_grad (4.0 for 3.0).
    0-d arrays are still written in place, as NumPy's are."""
    def f(x):
        s = cnp.sum(x)
        t = s
        s += 1.0
        return t * 1.0 + s * 0.5

    x = np.ones(3)
    assert f(x) == 5.0
    assert cr.jit(f)(x) == 5.0
    assert cr.value_and_grad(f)(x)[0] == 5.0
    np.testing.assert_array_equal(cr.vmap(f)(np.ones((2, 3))), [5.0, 5.0])

    def g(x):
        y = x
        x += 1.0
        return y * 1.0 + x
    for a, want in [(2.0, 5.0), (np.float64(2.0), 5.0), (np.array(2.0), 6.0)]:
        assert g(np.copy(a) if isinstance(a, np.ndarray) else a) == want
        assert cr.jit(g)(np.copy(a) if isinstance(a, np.ndarray) else a) == want


def test_a_zero_d_view_under_vmap_is_written_in_place():
    """Under vmap a 0-d example that is a view (b[0, ...], a reshape of a kept-dims sum)
    is a 0-d array, written in place as NumPy does; only a fresh 0-d value (a reduction's
    result) rebinds. The views were rebound, so the writes were lost (found by a
    break-it pass)."""
    def f(x):
        b = x * 1.0
        c = b[0, ...]
        c *= 3.0
        return b

    np.testing.assert_array_equal(cr.vmap(f)(np.array([[1.0, 2.0]])), [f(np.array([1.0, 2.0]))])
    np.testing.assert_array_equal(cr.vmap(cr.grad(lambda x: cnp.sum(f(x))))(
        np.array([[1.0, 2.0]])), [[3.0, 1.0]])

    def g(x):
        a = x.sum(keepdims=True).reshape(())
        t = a
        a += 1
        return t
    X = np.array([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(cr.vmap(g)(X), [g(r) for r in X])
