"""Pytrees through every transformation: tuples, lists, dicts, None, namedtuples,
dataclasses (register_dataclass) and classes registered with register_pytree_node, as
inputs and as outputs; Jacobians laid out as JAX lays them out (the output tree whose
leaves are input trees, each block of shape out.shape + in.shape)."""
import collections
import dataclasses

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from chainrule import tree_util as tu

from numpy.testing import assert_allclose

a = np.array([0.5, -1.0, 2.0])
b = np.array([[1.0, 2.0], [3.0, -4.0]])

Pair = collections.namedtuple("Pair", ["x", "y"])


@tu.register_dataclass
@dataclasses.dataclass
class Params:
    w: object
    b: object


@dataclasses.dataclass
class Layer:
    w: object
    act: str            # static metadata


tu.register_dataclass(Layer, data_fields=["w"], meta_fields=["act"])


class Box:
    """A user class registered by hand; ``tag`` is static auxiliary data."""

    def __init__(self, value, tag):
        self.value, self.tag = value, tag


tu.register_pytree_node(Box, lambda bx: ((bx.value,), bx.tag),
                        lambda tag, children: Box(children[0], tag))


def assert_tree_allclose(x, y, **kw):
    lx, tx = tu.tree_flatten(x)
    ly, ty = tu.tree_flatten(y)
    assert tx == ty, f"structures differ: {tx} vs {ty}"
    for p, q in zip(lx, ly):
        assert np.shape(p) == np.shape(q), (np.shape(p), np.shape(q))
        assert_allclose(p, q, **kw)


# ------------------------------------------------------------------ tree_util itself

def test_tree_flatten_unflatten_roundtrip():
    tree = {"b": [1.0, (2.0, None)], "a": Pair(3.0, {"z": 4.0}), "c": Params(5.0, 6.0)}
    leaves, td = tu.tree_flatten(tree)
    assert len(leaves) == 6
    back = tu.tree_unflatten(td, leaves)
    assert back["a"] == Pair(3.0, {"z": 4.0})
    assert back["b"] == [1.0, (2.0, None)]
    assert back["c"] == Params(5.0, 6.0)
    assert tu.tree_structure(tree) == td
    assert hash(tu.tree_structure(tree)) == hash(td)


def test_tree_map_multiple_trees():
    t1 = {"a": 1.0, "b": [2.0, 3.0]}
    t2 = {"a": 10.0, "b": [20.0, 30.0]}
    assert tu.tree_map(lambda p, q: p + q, t1, t2) == {"a": 11.0, "b": [22.0, 33.0]}
    with pytest.raises(ValueError):
        tu.tree_map(lambda p, q: p + q, t1, {"a": 1.0, "b": [2.0]})


def test_none_is_an_empty_subtree():
    assert tu.tree_leaves([None, 1.0, (None,)]) == [1.0]


# ------------------------------------------------------------------ grad of pytrees

def test_grad_dict_input():
    g = cr.grad(lambda d: cnp.sum(d["a"] ** 2) * d["s"])({"a": a, "s": 3.0})
    assert set(g) == {"a", "s"}
    assert_allclose(g["a"], 6.0 * a)
    assert_allclose(g["s"], np.sum(a ** 2))


def test_grad_list_with_none_input():
    g = cr.grad(lambda l: cnp.sum(l[0] * l[2]))([a, None, 2 * a])
    assert isinstance(g, list) and g[1] is None
    assert_allclose(g[0], 2 * a)
    assert_allclose(g[2], a)


def test_grad_nested_tuple_input():
    g = cr.grad(lambda t: cnp.sum(t[0][0] * t[1]) + cnp.sum(t[0][1]))(((a, b), a))
    assert isinstance(g, tuple) and isinstance(g[0], tuple)
    assert_allclose(g[0][0], a)
    assert_allclose(g[0][1], np.ones_like(b))
    assert_allclose(g[1], a)


def test_grad_namedtuple_input():
    g = cr.grad(lambda p: cnp.sum(p.x * p.y ** 2))(Pair(a, 2 * a))
    assert type(g) is Pair
    assert_allclose(g.x, (2 * a) ** 2)
    assert_allclose(g.y, 2 * a * (2 * a))


def test_grad_dataclass_input():
    def loss(p, x):
        return cnp.sum((p.w @ x + p.b) ** 2)
    p = Params(b, a[:2])
    x = np.array([1.0, -1.0])
    g = cr.grad(loss)(p, x)
    assert type(g) is Params
    r = b @ x + a[:2]
    assert_allclose(g.w, 2 * np.outer(r, x))
    assert_allclose(g.b, 2 * r)


def test_grad_dataclass_meta_field_is_static():
    def loss(layer):
        h = layer.w * 2.0
        return cnp.sum(cnp.tanh(h) if layer.act == "tanh" else h)
    g = cr.grad(loss)(Layer(a, "tanh"))
    assert type(g) is Layer and g.act == "tanh"
    assert_allclose(g.w, 2 * (1 - np.tanh(2 * a) ** 2))


def test_grad_registered_class_input():
    g = cr.grad(lambda bx: cnp.sum(bx.value ** 3))(Box(a, "hello"))
    assert type(g) is Box and g.tag == "hello"
    assert_allclose(g.value, 3 * a ** 2)


def test_grad_mixed_tree_with_argnums_tuple():
    def f(params, x, extra):
        return cnp.sum(params["w"] * x) + extra.x * extra.y
    gp, gextra = cr.grad(f, argnums=(0, 2))({"w": a}, 2 * a, Pair(2.0, 5.0))
    assert_allclose(gp["w"], 2 * a)
    assert type(gextra) is Pair
    assert_allclose(gextra.x, 5.0)
    assert_allclose(gextra.y, 2.0)


def test_value_and_grad_pytree():
    v, g = cr.value_and_grad(lambda d: d["x"] * d["y"])({"x": 2.0, "y": 3.0})
    assert_allclose(v, 6.0)
    assert_tree_allclose(g, {"x": 3.0, "y": 2.0})


# ------------------------------------------------------------------ vjp / jvp of pytrees

def test_vjp_pytree_in_and_out():
    def f(p):
        return {"sum": cnp.sum(p.x), "prod": p.x * p.y}
    out, vjp_fun = cr.vjp(f, Pair(a, 3.0))
    assert_allclose(out["prod"], 3 * a)
    (g,) = vjp_fun({"sum": 2.0, "prod": np.array([1.0, 0.0, 1.0])})
    assert type(g) is Pair
    assert_allclose(g.x, 2.0 + 3.0 * np.array([1.0, 0.0, 1.0]))
    assert_allclose(g.y, a[0] + a[2])


def test_jvp_pytree_in_and_out_with_none():
    def f(d):
        return (d["a"] * 2.0, None, [cnp.sum(d["b"])])
    out, t = cr.jvp(f, ({"a": a, "b": b},), ({"a": np.ones(3), "b": np.ones((2, 2))},))
    assert out[1] is None and t[1] is None
    assert_allclose(t[0], 2.0 * np.ones(3))
    assert_allclose(t[2][0], 4.0)


def test_jvp_dataclass():
    out, t = cr.jvp(lambda p: p.w * p.b, (Params(2.0, 3.0),), (Params(1.0, 0.0),))
    assert_allclose(out, 6.0)
    assert_allclose(t, 3.0)


# ------------------------------------------------------------------ Jacobian layout

@pytest.mark.parametrize("jac", [cr.jacfwd, cr.jacrev])
def test_jacobian_layout_dict_out_dict_in(jac):
    def f(p):
        return {"s": cnp.sum(p["a"]) * p["k"], "m": p["a"][:, None] * p["b"][0]}
    p = {"a": a, "b": b, "k": 2.0}
    J = jac(f)(p)
    # the output tree, whose leaves are input trees
    assert set(J) == {"s", "m"}
    assert set(J["s"]) == {"a", "b", "k"} and set(J["m"]) == {"a", "b", "k"}
    # each block: out.shape + in.shape
    assert J["s"]["a"].shape == (3,)
    assert J["s"]["b"].shape == (2, 2)
    assert J["s"]["k"].shape == ()
    assert J["m"]["a"].shape == (3, 2, 3)
    assert J["m"]["b"].shape == (3, 2, 2, 2)
    assert J["m"]["k"].shape == (3, 2)
    assert_allclose(J["s"]["a"], 2.0 * np.ones(3))
    assert_allclose(J["s"]["k"], np.sum(a))
    assert_allclose(J["s"]["b"], 0.0)
    # m[i, j] = a[i] * b[0, j]
    Ja = np.einsum("ik,j->ijk", np.eye(3), b[0])
    assert_allclose(J["m"]["a"], Ja)
    Jb = np.zeros((3, 2, 2, 2))
    for i in range(3):
        for j in range(2):
            Jb[i, j, 0, j] = a[i]
    assert_allclose(J["m"]["b"], Jb)


@pytest.mark.parametrize("jac", [cr.jacfwd, cr.jacrev])
def test_jacobian_layout_tuple_out_argnums_tuple(jac):
    f = lambda x, y: (x * y, cnp.sum(x) + y)
    J = jac(f, argnums=(0, 1))(a, 2.0)
    assert isinstance(J, tuple) and len(J) == 2
    (J00, J01), (J10, J11) = J
    assert J00.shape == (3, 3) and J01.shape == (3,)
    assert J10.shape == (3,) and np.shape(J11) == ()
    assert_allclose(J00, 2.0 * np.eye(3))
    assert_allclose(J01, a)
    assert_allclose(J10, np.ones(3))
    assert_allclose(J11, 1.0)


@pytest.mark.parametrize("jac", [cr.jacfwd, cr.jacrev])
def test_jacobian_of_namedtuple_and_registered_class(jac):
    J = jac(lambda bx: Pair(bx.value * 2.0, cnp.sum(bx.value)))(Box(a, "t"))
    assert type(J) is Pair
    assert type(J.x) is Box and J.x.tag == "t"
    assert_allclose(J.x.value, 2.0 * np.eye(3))
    assert_allclose(J.y.value, np.ones(3))


def test_jacfwd_and_jacrev_agree_on_pytrees():
    def f(p):
        return [cnp.sin(p.w @ p.b), {"n": cnp.sum(p.w ** 2)}]
    p = Params(b, np.array([0.3, -0.2]))
    assert_tree_allclose(cr.jacfwd(f)(p), cr.jacrev(f)(p), rtol=1e-12, atol=1e-14)


def test_hessian_pytree_layout():
    def f(d):
        return cnp.sum(d["x"] ** 2 * d["y"]) + d["y"] ** 2
    H = cr.hessian(f)({"x": a, "y": 3.0})
    assert H["x"]["x"].shape == (3, 3)
    assert H["x"]["y"].shape == (3,)
    assert H["y"]["x"].shape == (3,)
    assert np.shape(H["y"]["y"]) == ()
    assert_allclose(H["x"]["x"], 6.0 * np.eye(3))
    assert_allclose(H["x"]["y"], 2 * a)
    assert_allclose(H["y"]["x"], 2 * a)
    assert_allclose(H["y"]["y"], 2.0)


def test_hvp_pytree():
    f = lambda d: cnp.sum(d["x"] ** 3) + d["x"][0] * d["y"]
    out = cr.hvp(f, ({"x": a, "y": 2.0},), ({"x": np.ones(3), "y": 1.0},))
    assert_allclose(out["x"], 6 * a + np.array([1.0, 0.0, 0.0]))
    assert_allclose(out["y"], 1.0)


def test_shared_structures_rebuild_exactly():
    """Tuples and lists of leaves share one PyTreeDef per structure and rebuild with
    generated code: the same trees as the general path, new containers each time, deep
    nesting falls back to the general path."""
    from chainrule._src import tree_util as tu
    a = np.ones(2)
    deep = 1.0
    for _ in range(300):
        deep = [deep]
    trees = [[(a, a), (a, a)], [[(a, 1.0), (2, a)]], (a,), [a], (), [], ((), []),
             [(a,), [a, (a, a)]], deep]
    for tree in trees:
        leaves, td = tu.tree_flatten(tree)
        assert tu.tree_flatten(tree)[1] is td                     # shared
        for _ in range(2):
            back = tu.tree_unflatten(td, leaves)
            assert tu.tree_structure(back) == td
            assert tu.tree_leaves(back) == leaves or not leaves
            assert back is not tree or tree == ()
        if tree is not deep:
            with pytest.raises(ValueError):
                tu.tree_unflatten(td, leaves + [a])


def test_ordered_dicts_and_defaultdicts_are_nodes_as_in_jax():
    """A PyTorch-style state dict (OrderedDict) was one leaf: tree_map and the optimisers
    failed on it. OrderedDict flattens in its own order, defaultdict sorted, keeping its
    factory (JAX's conventions); grad, jit and optim keep the type."""
    import collections
    sd = collections.OrderedDict([("w", np.ones(3)), ("b", np.array(0.5))])
    leaves, tree = cr.tree_util.tree_flatten(sd)
    assert [x.shape for x in leaves] == [(3,), ()]
    assert type(cr.tree_util.tree_unflatten(tree, leaves)) is collections.OrderedDict
    loss = lambda p: cnp.sum(p["w"] ** 2) + p["b"] ** 3                # noqa: E731
    for g in (cr.grad(loss)(sd), cr.jit(cr.grad(loss))(sd)):
        assert type(g) is collections.OrderedDict and list(g) == ["w", "b"]
        np.testing.assert_allclose(g["w"], 2.0)
        np.testing.assert_allclose(g["b"], 0.75)
    dd = collections.defaultdict(list, {"y": 1.0, "x": 2.0})
    out = cr.tree_util.tree_map(lambda v: 2 * v, dd)
    assert type(out) is collections.defaultdict and out.default_factory is list
    assert dict(out) == {"x": 4.0, "y": 2.0}
