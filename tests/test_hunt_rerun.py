"""Regressions found re-running the generated hunts (helper, new seeds)."""
import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp


@pytest.mark.parametrize("const, other", [
    (np.array([3, 3, 3, 3]), np.ones(4, np.float32)),              # int64 with float32
    (np.full(4, 2.0), np.ones(4, np.float16)),                      # float64 with float16
    (np.array([2, 2, 2, 2], np.int64), np.ones(4, np.int8)),       # int64 with int8
])
def test_jit_uniform_constant_keeps_numpy_dtype(const, other):
    # a uniform constant array operand became a Python scalar in the compiled code,
    # which is weak in NumPy's promotion: int64 [3, 3, 3, 3] / float32 gave float32
    # from the second call on (the traced first call was float64, as NumPy)
    for fun in (lambda b: const / b, lambda b: b * const, lambda b: const - b):
        want = fun(other)
        jf = cr.jit(fun)
        for _ in range(3):
            got = jf(other)
            assert got.dtype == want.dtype
            np.testing.assert_array_equal(got, want)


def test_jit_count_nonzero_over_float32_after_retrace():
    # hunt2 seed 75799: count_nonzero(a, axis=0) / b under jit, after a guard retrace
    a0 = np.arange(12.).reshape(3, 4)
    a1 = a0 + 1
    b = np.ones(4, np.float32)
    jf = cr.jit(lambda a, b: cnp.count_nonzero(a, axis=0) / b)
    for a in (a0, a1, a0, a1, a1):
        assert jf(a, b).dtype == np.float64


def test_power_of_a_boolean_array_has_numpys_dtype():
    """np.power(m, 2) of a bool array is int64 in NumPy, m ** 2 int8 (the operator's
    fast square); inside transformations both were int8 (one primitive)."""
    import chainrule.numpy as cnp
    m = np.array([True, False])
    for e in (2, 3):
        assert cr.jit(lambda v: np.power(v, e))(m).dtype == np.power(m, e).dtype
        assert cr.jit(lambda v: cnp.power(v, e))(m).dtype == np.power(m, e).dtype
        assert cr.jit(lambda v: v ** e)(m).dtype == (m ** e).dtype
        assert cr.vmap(lambda v: np.power(v, e))(m).dtype == np.power(m, e).dtype


def test_replaced_wrappers_keep_the_ufunc_methods():
    """cnp.power and cnp.sign are wrappers around their rows' (for NumPy's dtypes and
    complex sign): they keep NumPy's ufunc methods and the primitive, as every row does."""
    assert cnp.power.primitive.name == "power"
    np.testing.assert_array_equal(cr.jit(lambda a: cnp.power.outer(a, a))(np.arange(3.0)),
                                  np.power.outer(np.arange(3.0), np.arange(3.0)))
    assert cnp.sign.numpy_function is np.sign and callable(cnp.sign.reduce)
