"""Claims in the prose of the user docs (README.md, docs/*.md) that the code blocks do
not execute: each test checks one claim a user relies on (helper-61's claims check)."""
import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
import chainrule.nn as nn


def test_nn_exports_every_initializer_alias_docs_name():
    # docs/nn.md: `he_uniform`, `he_normal` (= `kaiming_*`), `glorot_*` (= `xavier_*`)
    # are `nn.` names, as chainrule.nn.initializers has them.
    assert nn.kaiming_uniform is nn.initializers.kaiming_uniform is nn.he_uniform
    assert nn.kaiming_normal is nn.initializers.kaiming_normal is nn.he_normal
    assert nn.xavier_normal is nn.glorot_normal
    for name in ("kaiming_uniform", "kaiming_normal"):
        assert name in nn.__all__


def test_other_ufuncs_at_on_traced_arrays_follow_numpy():
    # docs/copies-and-views.md: ufuncs' `.at` beyond add/subtract/multiply/divide work on
    # traced arrays in NumPy's order (the page used to say they raise).
    idx, x = [0, 0, 2], np.array([1.0, 3.0, 0.5, 2.0, 1.5])

    def f(x):
        y = x * 1.0
        np.maximum.at(y, idx, x[1:4])
        return y

    ref = x.copy()
    np.maximum.at(ref, idx, x[1:4].copy())
    assert np.array_equal(f(x), ref)
    assert np.array_equal(cr.jit(f)(x), ref)
    J = cr.jacrev(f)(x)
    expect = np.eye(5)
    expect[0] = [0, 1, 0, 0, 0]          # y[0] = max(1, 3, 0.5) = x[1]
    expect[2] = [0, 0, 0, 1, 0]          # y[2] = max(0.5, 2) = x[3]
    assert np.array_equal(J, expect)


def test_ufunc_at_without_differentiable_version_raises():
    def f(x):
        y = x * 1.0
        np.gcd.at(y, [0], 2.0)
        return cnp.sum(y)
    with pytest.raises((NotImplementedError, TypeError)):
        cr.grad(f)(np.ones(2))
