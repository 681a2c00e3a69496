"""Generic tests over the op database (tests/opdb): values against NumPy/SciPy
(outside and inside transformations), derivatives against finite differences in
forward and reverse mode to second order, and each vjp as the exact transpose of
its jvp. Plus: every public function has a row."""
import numpy as np
import pytest

import chainrule as cr
from chainrule.test_util import check_grads, inner_product
from chainrule._src.numpy.dispatch import PUBLIC
from chainrule._src.tree_util import tree_flatten, tree_unflatten

from opdb import all_rows

ROWS = all_rows()
CASES = [(r, i) for r in ROWS for i in range(len(r.samples))]
IDS = [f"{r.name}-{i}" for r, i in CASES]
GRAD_CASES = [(r, i) for r, i in CASES if r.grad and r.samples[i].diff_argnums()]
GRAD_IDS = [f"{r.name}-{i}" for r, i in GRAD_CASES]


def closure(row, sample):
    nums = sample.diff_argnums()

    def f(*diff_args):
        args = list(sample.args)
        for i, v in zip(nums, diff_args):
            args[i] = v
        return row.fn(*args, **sample.kwargs)
    return f, tuple(sample.args[i] for i in nums)


def assert_same(a, b, tol=1e-10):
    fa, fb = tree_flatten(a)[0], tree_flatten(b)[0]
    assert len(fa) == len(fb)
    for x, y in zip(fa, fb):
        x, y = np.asarray(x), np.asarray(y)
        assert x.shape == y.shape, (x.shape, y.shape)
        if x.dtype.kind in "fc" or y.dtype.kind in "fc":
            np.testing.assert_allclose(x, y, rtol=tol, atol=tol)
        else:
            np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("row,i", CASES, ids=IDS)
def test_value_matches_reference(row, i):
    s = row.samples[i]
    ref = row.ref if row.ref is not None else row.fn
    expected = ref(*s.args, **s.kwargs)
    assert_same(row.fn(*s.args, **s.kwargs), expected)
    # the traced implementation (inside a transformation) must agree too
    f, diff_args = closure(row, s)
    if diff_args and row.grad:
        out, _ = cr.vjp(f, *diff_args)
    else:
        out, _ = cr.vjp(lambda dummy: (f(*diff_args), dummy)[0], 0.0)
    assert_same(out, expected)
    assert type(out) is not object


@pytest.mark.parametrize("row,i", GRAD_CASES, ids=GRAD_IDS)
def test_derivatives_match_finite_differences(row, i):
    f, args = closure(row, row.samples[i])
    check_grads(f, args, order=row.order, modes=row.modes, atol=row.tol, rtol=row.tol)


@pytest.mark.parametrize("row,i", GRAD_CASES, ids=GRAD_IDS)
def test_vjp_is_transpose_of_jvp(row, i):
    f, args = closure(row, row.samples[i])
    rng = np.random.default_rng(7)

    def rand_like(x):
        x = np.asarray(x)
        r = rng.standard_normal(x.shape)
        return r + 1j * rng.standard_normal(x.shape) if x.dtype.kind == "c" else r
    flat, tree = tree_flatten(args)
    ts = tree_unflatten(tree, [rand_like(a) for a in flat])
    if "fwd" not in row.modes:
        pytest.skip("row is reverse-mode only (custom_vjp-style)")
    out, t_out = cr.jvp(f, args, ts)
    out2, vjp_fun = cr.vjp(f, *args)
    flat_out, out_tree = tree_flatten(out2)
    ct = tree_unflatten(out_tree, [rand_like(o) for o in flat_out])
    lhs = inner_product(ct, t_out)
    rhs = inner_product(vjp_fun(ct), ts)
    np.testing.assert_allclose(lhs, rhs, rtol=1e-9, atol=1e-9)


ALIASES = set()


def test_every_public_function_has_a_row():
    from opdb import elementwise
    names = {r.name.split("[")[0] for r in ROWS}
    missing = []
    for module, fns in PUBLIC.items():
        prefix = "" if module == "numpy" else module.replace("numpy.", "") + "."
        for name in fns:
            full = prefix + name
            if full not in names and name not in elementwise.ALIASES:
                missing.append(f"{module}.{name}")
    assert not missing, f"public functions without an op-database row: {missing}"
