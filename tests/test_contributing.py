"""docs/contributing-primitives.md's walk-through, followed by a test.

A throwaway elementwise NumPy-style function, ``exprel(x) = (e^x - 1) / x`` (1 at 0, a
removable singularity like sinc's), is added at run time with the doc's two edits: a row
of the elementwise table (``prims/elementwise.py``) and a row of the op database
(``tests/opdb/elementwise.py``). Then: chainrule.numpy exposes it, ``np.exprel(tracer)``
reaches it, the docs generator lists it, and every op-database column passes for it,
including the samples added at its declared singular point. The fixture removes it
again, so no other test sees it.
"""
import math

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from chainrule._src.graph import replay
from chainrule._src.interpreters import batching
from chainrule._src.numpy import dispatch, ufuncs
from chainrule._src.prims import elementwise as ew

import opdb
from opdb import Row, S, randn
from opdb import elementwise as opdb_elementwise
import test_op_db as db

from numpy._core.overrides import array_function_dispatch   # how NumPy defines np.sinc


@array_function_dispatch(lambda x: (x,), module="numpy")
def exprel(x):
    """(e^x - 1) / x, and 1 at x = 0: a NumPy function as NumPy writes them (it takes
    part in ``__array_function__``, so ``np.exprel(tracer)`` asks chainrule)."""
    x = np.asanyarray(x)
    y = np.where(x == 0, 1.0, x)
    return np.where(x == 0, 1.0, np.expm1(y) / y)


# Edit 1, the table row (prims/elementwise.py, _UNARY): name, NumPy implementation, the
# derivative in x and ans = exprel(x) written with chainrule's operations, and the
# removable singularity at 0 with the limits of f, f', f'' (series 1 + x/2 + x^2/6 + ...).
TABLE_ROW = ("exprel", exprel, lambda x, a: (ew.exp(x) - a) / x,
             ew.Removable({0.0: (1.0, 0.5, 1.0 / 3.0)}))


def op_db_row():
    """Edit 2, the op-database row (tests/opdb/elementwise.py; for a unary function it is
    the one entry ``"exprel": randn`` in ``UNARY``, which builds this Row)."""
    return Row("exprel", cnp.exprel, np.exprel, [S(randn(3, 4)), S(randn())])


@pytest.fixture
def table_row(monkeypatch):
    """The table row added as importing the package adds every row (``add_row`` builds
    the primitive, ``ufuncs.expose`` the public function and NumPy's routing); every
    registry is restored afterwards."""
    assert not hasattr(np, "exprel") and "exprel" not in ew.PRIMS, "pick another name"
    registries = [ew.PRIMS, ufuncs.UFUNCS, dispatch.PUBLIC["numpy"],
                  dispatch.HANDLED_FUNCTIONS, dispatch.HANDLED_UFUNCS]
    saved = [dict(r) for r in registries]
    monkeypatch.setattr(np, "exprel", exprel, raising=False)
    try:
        yield ufuncs.expose(ew.add_row(TABLE_ROW))
    finally:
        for r, old in zip(registries, saved):
            r.clear()
            r.update(old)
        replay.cache_clear()


@pytest.fixture
def op_db_rows(table_row, monkeypatch):
    """Both edits: the table row and the op-database row; the op database's rows."""
    monkeypatch.setattr(opdb_elementwise, "ROWS", opdb_elementwise.ROWS + [op_db_row()])
    return opdb.all_rows()


def test_the_table_row_makes_the_public_function_and_routes_numpy(table_row):
    assert cnp.exprel is table_row is dispatch.PUBLIC["numpy"]["exprel"]
    assert cnp.exprel is not np.exprel
    assert dispatch.HANDLED_FUNCTIONS[np.exprel] is cnp.exprel    # a plain NumPy function
    x = np.array([-1.5, 0.0, 0.25, 2.0])
    np.testing.assert_array_equal(cnp.exprel(x), np.exprel(x))    # NumPy's own outside
    g_cnp = cr.grad(lambda v: cnp.sum(cnp.exprel(v)))(x)
    g_np = cr.grad(lambda v: np.sum(np.exprel(v)))(x)              # np.exprel(tracer)
    np.testing.assert_array_equal(g_cnp, g_np)
    e = np.exp(x[[0, 2, 3]])
    np.testing.assert_allclose(g_np[[0, 2, 3]], (e - np.expm1(x[[0, 2, 3]]) / x[[0, 2, 3]])
                               / x[[0, 2, 3]], rtol=1e-12)
    assert g_np[1] == 0.5                                         # the declared limit
    # the second derivative at the singular point, in every mode
    d2 = [cr.grad(cr.grad(np.exprel))(0.0),
          cr.jvp(lambda v: cr.jvp(np.exprel, (v,), (1.0,))[1], (0.0,), (1.0,))[1],
          cr.hessian(lambda v: np.sum(np.exprel(v)))(np.zeros(2))[0, 0],
          cr.vmap(cr.grad(cr.grad(np.exprel)))(np.zeros(3))[1],
          cr.jit(cr.grad(cr.grad(np.exprel)))(0.0)]
    np.testing.assert_allclose(d2, 1.0 / 3.0, rtol=1e-14)


def test_every_table_row_is_routed_from_numpy():
    """Dispatch is derived from the table for every row: ufuncs through
    ``__array_ufunc__``, plain NumPy functions (sinc, angle) through
    ``__array_function__``."""
    for name, prim in ew.PRIMS.items():
        if name == "select":                # numpy.where, a function of basic.py
            continue
        np_fn = getattr(np, name)
        handled = dispatch.HANDLED_UFUNCS if isinstance(np_fn, np.ufunc) else \
            dispatch.HANDLED_FUNCTIONS
        fn = handled[np_fn]         # (np.invert is np.bitwise_not: one of the two rows)
        assert fn.numpy_function is np_fn and fn is getattr(cnp, fn.__name__), name
    z = np.array([1.0 + 1.0j, -2.0 + 0.5j])
    np.testing.assert_allclose(cr.grad(lambda v: np.sum(np.angle(v)))(z),
                               cr.grad(lambda v: cnp.sum(cnp.angle(v)))(z))


def test_the_docs_generator_lists_it(table_row):
    gen = db._docs_lists()
    assert "`exprel`" in gen.lists()
    text = gen.DOC.read_text()
    assert "`exprel`" not in text and "`exprel`" in gen.render(text)


def test_the_coverage_check_asks_for_the_op_db_row(table_row, monkeypatch):
    monkeypatch.setattr(db, "ROWS", opdb.all_rows())
    with pytest.raises(AssertionError, match="numpy.exprel"):
        db.test_every_public_function_has_a_row()
    monkeypatch.setattr(opdb_elementwise, "ROWS", opdb_elementwise.ROWS + [op_db_row()])
    monkeypatch.setattr(db, "ROWS", opdb.all_rows())
    db.test_every_public_function_has_a_row()


def test_every_op_database_column_passes(op_db_rows, monkeypatch):
    (row,) = [r for r in op_db_rows if r.name == "exprel"]
    # two samples of the row, and two the op database added at the singular point 0
    assert len(row.samples) == 4
    assert (row.samples[2].args[0] == 0).sum() == 6 and row.samples[3].args[0] == 0
    for i in range(len(row.samples)):
        db.test_value_matches_reference(row, i)
        db.test_derivatives_match_finite_differences(row, i)
        db.test_vjp_is_transpose_of_jvp(row, i)
        monkeypatch.setattr(batching, "FALLBACK_USED", set())
        db.test_vmap_matches_loop(row, i, batching.FALLBACK_USED)
        db.test_vmap_of_vjp_matches_loop(row, i, batching.FALLBACK_USED)
        db.test_jit_matches_eager_and_every_primitive_has_a_cost(row, i)
        db.test_jit_of_vjp_matches_eager(row, i)
        db.test_lazy_paths_match_eager(row, i, monkeypatch)
        db.test_replayed_backward_matches_eager(row, i, monkeypatch)


def test_a_wrong_limit_is_caught_at_the_singular_sample(op_db_rows, monkeypatch):
    (row,) = [r for r in op_db_rows if r.name == "exprel"]
    monkeypatch.setattr(cnp.exprel.primitive, "removable",
                        ew.Removable({0.0: (1.0, 0.5, 0.0)}))       # f''(0) is 1/3
    db.test_derivatives_match_finite_differences(row, 0)
    with pytest.raises(AssertionError, match="finite differences"):
        db.test_derivatives_match_finite_differences(row, 3)


def test_the_walk_through_shows_the_committed_rows():
    """The two snippets of docs/contributing-primitives.md's walk-through (after the
    ``# not run:`` line that tells tests/test_docs.py they are excerpts) are, verbatim,
    the lines the files hold (so the doc cannot drift from the code it teaches)."""
    import pathlib
    import re
    root = pathlib.Path(__file__).parent.parent
    doc = (root / "docs" / "contributing-primitives.md").read_text()
    walk = doc[doc.index("two edits (walk-through"):doc.index("## A primitive")]
    table, op_db = re.findall(r"```python\n# not run: .*?\n(.*?)```", walk, re.S)
    assert table in (root / "chainrule" / "_src" / "prims" / "elementwise.py").read_text()
    assert op_db in (root / "tests" / "opdb" / "elementwise.py").read_text()


def _removable_prims():
    return [p for p in ew.PRIMS.values() if getattr(p, "removable", None) is not None]


@pytest.mark.parametrize("prim", _removable_prims(), ids=lambda p: p.name)
def test_declared_limits_match_the_function(prim):
    """The declared limits against the function itself: its value at the point, and
    central differences of it for f' and f'' (not the rules' formula)."""
    h = 1e-3
    for p, (f0, d1, d2) in prim.removable.limits.items():
        lo, mid, hi = (prim.impl(np.float64(p + s)) for s in (-h, 0.0, h))
        assert mid == f0
        np.testing.assert_allclose((hi - lo) / (2 * h), d1, atol=1e-5)
        np.testing.assert_allclose((hi - 2 * mid + lo) / h ** 2, d2, atol=1e-4)


def test_sinc_second_derivative_at_zero():
    """The worked example of the walk-through: exact, -pi^2/3, in every mode."""
    want = -math.pi ** 2 / 3
    got = [cr.grad(cr.grad(np.sinc))(0.0),
           cr.jvp(lambda v: cr.jvp(np.sinc, (v,), (1.0,))[1], (0.0,), (1.0,))[1],
           cr.hessian(lambda v: np.sum(np.sinc(v)))(np.zeros(2))[1, 1],
           cr.vmap(cr.grad(cr.grad(np.sinc)))(np.zeros(3))[2],
           cr.jit(cr.grad(cr.grad(cnp.sinc)))(0.0),
           cr.grad(cr.grad(np.sinc, holomorphic=True), holomorphic=True)(0j)]
    np.testing.assert_allclose(got, want, rtol=1e-15)
    assert cr.grad(np.sinc)(0.0) == 0.0


def test_a_row_with_two_removable_points():
    """Several declared points are combined with logical_or (a name the rule once lacked)."""
    import math
    from chainrule._src.prims import elementwise as ew
    sinc_pi = ew.RemovableUnary(
        "sinc_twice", np.sinc, lambda x, a: (cnp.cos(math.pi * x) - a) / x,
        ew.Removable({0.0: (1.0, 0.0, -math.pi ** 2 / 3), 2.0: (0.0, 0.5, -0.5)}))
    assert cr.grad(lambda x: sinc_pi.bind(x))(0.0) == 0.0
    assert cr.grad(lambda x: sinc_pi.bind(x))(2.0) == 0.5
    assert cr.grad(cr.grad(lambda x: sinc_pi.bind(x)))(0.0) == -math.pi ** 2 / 3
