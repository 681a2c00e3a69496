"""vmap against a Python loop over the examples (``np.stack([f(*ex) for ex], axis)``):
cases found by a generated hunt over in_axes/out_axes, nesting, indexing and empty
batches. Each test fails on the code before its fix."""
import warnings

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from chainrule._src.core import Primitive
from chainrule._src.interpreters import batching
from chainrule._src.prims.indexing import getitem_p, split_index

B = 3
rng = np.random.default_rng(0)
X = rng.standard_normal((B, 4, 5, 6))
I = rng.integers(0, 4, size=(B, 2))          # a batched index: per example (2,)
K = rng.integers(0, 4, size=(B, 2, 1))       # per example (2, 1)
V = 2.5 + rng.standard_normal((B, 1))


@pytest.fixture
def fallback_used(monkeypatch):
    fresh = set()
    monkeypatch.setattr(batching, "FALLBACK_USED", fresh)
    return fresh


def _written(x, idx, v, op):
    """A copy of ``x`` with ``v`` set at (op "set") or added to (else) ``x[idx]``: the
    same NumPy code on traced and on plain arrays."""
    y = x * 1.0
    if op == "set":
        y[idx] = v
    else:
        y[idx] += v
    return y


def _index(entries, i, k):
    table = {":": slice(None), "1:": slice(1, None), "None": None, "...": Ellipsis,
             "0": 0, "-1": -1, "I": i, "K": k, "J": np.array([1, 3])}
    return tuple(table[e] for e in entries.split())


# batched index arrays after a slice, an int, None or an ellipsis (NumPy's placement of
# the index dimensions: where the first advanced index was when the advanced indices
# are adjacent, first when something separates them)
SPECS = [": I", "... I", "1: I", ": 0 I", ": I 0", ": I J", ": I ... K", "None I",
         "I None I", "I 1: I", ": K", "... K None", "0 : I", "-1 ... K", ": I :",
         "1: K I", "I ... I"]


@pytest.mark.parametrize("op", ["get", "get-unbatched-x", "set", "add", "grad"])
@pytest.mark.parametrize("entries", SPECS)
def test_batched_index_after_a_slice_is_one_gather_like_the_loop(entries, op,
                                                                  fallback_used):
    # these fell back to a Python loop over the batch (with a warning), in every mode
    def f(x, i, k, v):
        idx = _index(entries, i, k)
        if op == "get":
            return x[idx]
        if op == "get-unbatched-x":          # (what cnp.take does with a plain array)
            spec, arrays = split_index(idx)
            return getitem_p.bind(x, *arrays, spec=spec)
        if op == "grad":
            return cr.grad(lambda x: cnp.sum(cnp.sin(x[idx])))(x)
        return _written(x, idx, v, op)

    def reference(x, i, k, v):
        idx = _index(entries, i, k)
        if op.startswith("get"):
            return x[idx]
        if op == "grad":
            g = np.zeros_like(x)
            np.add.at(g, idx, np.cos(x[idx]))
            return g
        return _written(x, idx, v, op)

    batched_x = op != "get-unbatched-x"
    xs = X if batched_x else X[0]
    want = np.stack([reference(xs[b] if batched_x else xs, I[b], K[b], V[b])
                     for b in range(B)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = cr.vmap(f, (0 if batched_x else None, 0, 0, 0))(xs, I, K, V)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-12)
    assert not fallback_used


def test_batched_index_after_a_slice_in_the_common_forms(fallback_used):
    A = rng.standard_normal((5, 4))
    idx = np.array([3, 0, 2])
    got = cr.vmap(lambda i: cnp.take(A, i, axis=-1))(idx)
    np.testing.assert_array_equal(got, np.stack([A[:, i] for i in idx]))
    got = cr.vmap(lambda x, i: x[..., i], in_axes=(2, 0))(X[:, 0].T, idx)
    np.testing.assert_array_equal(got, np.stack([X[:, 0].T[..., b][..., i]
                                                 for b, i in enumerate(idx)]))
    # per-example gradients through x[:, i] (the transposed gather) and jit of it
    g = cr.vmap(cr.grad(lambda x, i: cnp.sum(x[:, i] ** 2)))(X[:, :, :, 0], I)
    want = np.stack([cr.grad(lambda x: cnp.sum(x[:, i] ** 2))(x)
                     for x, i in zip(X[:, :, :, 0], I)])
    np.testing.assert_allclose(g, want)
    jg = cr.jit(cr.vmap(cr.grad(lambda x, i: cnp.sum(x[:, i] ** 2))))(X[:, :, :, 0], I)
    np.testing.assert_allclose(jg, want)
    assert not fallback_used


def test_empty_batches_have_the_examples_shape_and_dtype(fallback_used):
    # argmax over all axes reshaped the batch to (0, -1) (ambiguous: it raised), and so
    # did the batching rule of a reshape to (-1,) (convolve's ravel of its operands)
    out = cr.vmap(lambda x: cnp.argmax(x))(np.zeros((0, 3, 2)))
    assert out.shape == (0,) and out.dtype == np.intp
    out = cr.vmap(lambda x: cnp.argmin(x, keepdims=True), in_axes=1, out_axes=1)(
        np.zeros((3, 0, 2)))
    assert out.shape == (1, 0, 1)
    out = cr.vmap(lambda x: cnp.convolve(x, np.ones(2)))(np.zeros((0, 3)))
    assert out.shape == (0, 4) and out.dtype == np.float64
    assert not fallback_used


def test_the_loop_fallback_on_an_empty_batch():
    # a primitive without a batching rule, on a batch of no examples: NumPy's stack of
    # no results raised; the examples' shape and dtype come from one example of zeros
    class NoRule(Primitive):
        def impl(self, x):
            return np.cumsum(x, axis=-1).astype(np.float32)
    p = NoRule("hunt_vmap_no_rule")
    with pytest.warns(RuntimeWarning, match="no batching rule"):
        out = cr.vmap(lambda x: p.bind(x))(np.zeros((0, 3)))
    assert out.shape == (0, 3) and out.dtype == np.float32
    out = cr.vmap(lambda x: p.bind(x))(np.ones((2, 3)))
    np.testing.assert_array_equal(out, [[1, 2, 3], [1, 2, 3]])


@pytest.mark.parametrize("mask", [np.array([True, False]), np.zeros((2, 5), bool),
                                  (slice(None), np.array([True, False]))])
def test_boolean_masks_of_the_wrong_shape_raise_as_in_numpy(mask):
    """A mask was turned into index arrays without checking its shape, so x[mask] with
    a (2,) mask on an axis of 3 gave a (1, 5) result (and writes landed) where NumPy
    raises IndexError: under grad, jvp, jit, vmap and for writes."""
    x = np.zeros((3, 5))
    with pytest.raises(IndexError):
        x[mask]
    routes = [lambda: cr.grad(lambda v: cnp.sum(v[mask]))(x),
              lambda: cr.jit(lambda v: v[mask])(x),
              lambda: cr.jvp(lambda v: v[mask], (x,), (x,)),
              lambda: cr.vmap(lambda v: v[mask])(np.zeros((4, 3, 5))),
              lambda: cr.jit(lambda v: (v.__setitem__(mask, 1.0), v)[1])(x.copy())]
    for route in routes:
        with pytest.raises(IndexError):
            route()
    ok = np.array([[True] * 5, [False] * 5, [True] * 5])
    np.testing.assert_array_equal(cr.jit(lambda v: v[ok])(np.arange(15.0).reshape(3, 5)),
                                  np.arange(15.0).reshape(3, 5)[ok])


def test_round_of_a_traced_value_is_numpys():
    """round() of a 0-d value is a Python int on NumPy's scalars (it was a float64
    array); of an array it raises TypeError as an ndarray does (vmap returned values)."""
    assert cr.jit(lambda x: round(x.sum()) * 1.0)(np.array([1.0, 1.5])) == 2.0
    np.testing.assert_allclose(cr.grad(lambda x: round(x, 2) * x)(1.234), 1.23)
    with pytest.raises(TypeError):
        cr.jit(lambda x: round(x))(np.array([1.5]))
    with pytest.raises(TypeError):
        cr.vmap(lambda x: round(x))(np.array([1.5, 2.5]))


def test_asarray_of_a_number_inside_a_transformation():
    """cnp.asarray(2.0) inside grad raised 'Unable to avoid copy' (copy=False passed to
    NumPy 2's np.array); asanyarray too."""
    assert cr.grad(lambda x: x * cnp.asarray(2.0))(1.0) == 2.0
    assert cr.grad(lambda x: x * cnp.asanyarray(np.float32(2)))(1.0) == 2.0
