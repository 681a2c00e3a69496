"""Hunt: graphs you can print, draw and count FLOPs on (make_graph, Graph, flops, bytes,
cost_table, compare_cost, to_dot, save).

Table-driven over the op database (the graph, evaluated equation by equation with each
primitive's ``impl``, gives the staged values bit for bit; bytes are the intermediates'
sizes; elementwise costs follow the convention), random compositions under every
transformation, exact FLOP counts of matrix chains in both modes (seed 000), and
rendering of graphs with every kind of equation."""
import re
import shutil
import subprocess
import xml.dom.minidom

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from chainrule._src.graph.make import trace_to_graph
from chainrule._src.interpreters.staging import Literal
from chainrule._src.prims import elementwise as ew
from chainrule._src.tree_util import tree_flatten

from opdb import all_rows


def eval_graph(g, flat_args):
    """The graph run equation by equation with each primitive's impl, on plain values."""
    env = dict(zip((v.id for v in g.in_vars), flat_args))
    written = []
    for e in g.eqns:
        out = e.prim.impl(*[x.val if isinstance(x, Literal) else env[x.id] for x in e.ins],
                          **e.params)
        outs = list(out) if e.prim.multiple_results else [out]
        assert len(outs) == len(e.outs), e.prim.name
        for v, o in zip(e.outs, outs):
            assert np.shape(o) == v.shape and np.asarray(o).dtype == v.dtype, \
                (e.prim.name, v.shape, v.dtype, np.shape(o), np.asarray(o).dtype)
            env[v.id] = o
            written.append(o)
    return [x.val if isinstance(x, Literal) else env[x.id] for x in g.outs], written


def same_bits(a, b):
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.dtype.kind not in "fc" or a.tobytes() == b.tobytes():
        return a.dtype.kind in "fc" or np.array_equal(a, b)
    return bool(np.all(((a == b) & (np.signbit(a.real) == np.signbit(b.real)))
                       | (np.isnan(a) & np.isnan(b))))


def _closure(row, sample):
    nums = sample.diff_argnums()

    def f(*diff_args):
        args = list(sample.args)
        for i, v in zip(nums, diff_args):
            args[i] = v
        return row.fn(*args, **sample.kwargs)
    return f, tuple(sample.args[i] for i in nums)


# ------------------------------------------------------------------ the op database

def test_every_op_db_graph_evaluates_to_its_values_and_counts_by_the_convention():
    bad = []
    n = 0
    for row in all_rows():
        for i, s in enumerate(row.samples):
            n += 1
            tag = f"{row.name}-{i}"
            f, args = _closure(row, s)
            with np.errstate(all="ignore"):
                g, staged = trace_to_graph(f, args, {}, (), fold_constants=False)
                assert str(g) == str(cr.make_graph(f)(*args)), tag
                res, written = eval_graph(g, tree_flatten(args)[0])
            flat = tree_flatten(staged)[0]
            if len(flat) != len(res) or not all(map(same_bits, res, flat)):
                bad.append((tag, "graph value"))
            if g.bytes() != sum(np.asarray(o).nbytes for o in written):
                bad.append((tag, "bytes"))
            assert g.flops() == sum(c for _, c in g.cost_table().values())
            for e in g.eqns:
                c = e.prim.cost(e.ins, *((e.outs,) if e.prim.multiple_results
                                          else (e.outs[0],)), **e.params)
                size = int(np.prod(e.outs[0].shape))
                if isinstance(e.prim, (ew.Unary, ew.Binary)) and e.prim.flops == 1 \
                        and c != size:
                    bad.append((tag, e.prim.name, "elementwise", c, size))
                if e.prim.name in ("reshape", "transpose", "broadcast_to", "getitem",
                                   "concatenate", "copy", "moveaxis") and c != 0:
                    bad.append((tag, e.prim.name, "data movement", c))
                if e.prim.name in ("reduce_sum", "reduce_max", "reduce_min", "reduce_prod") \
                        and c != int(np.prod(e.ins[0].shape)) - size:
                    bad.append((tag, e.prim.name, "reduction", c))
                if e.prim.name == "matmul":
                    k = e.ins[0].shape[-1]
                    if c != size * (2 * k - 1):
                        bad.append((tag, "matmul", c))
    assert n > 1500
    assert not bad, bad[:20]


# ------------------------------------------------------------------ transformations

N = 4


def _program(rng):
    steps, d = [], N
    for _ in range(rng.integers(1, 6)):
        k = rng.integers(0, 8)
        if k == 0:
            m = int(rng.integers(1, 6))
            steps.append(("W", rng.standard_normal((m, d))))
            d = m
        elif k == 1:
            steps.append(("un", str(rng.choice(["sin", "cos", "tanh", "exp", "square"]))))
        elif k == 2:
            steps.append(("mulsin", None))
        elif k == 3:
            steps.append(("addc", rng.standard_normal(d)))
        elif k == 4:
            steps.append(("outer", None))
        elif k == 5:
            steps.append(("pow", int(rng.integers(2, 4))))
        elif k == 6:
            steps.append(("cumsum", None))
        else:
            steps.append(("rev", None))
    return steps


def _run(steps, x):
    for kind, p in steps:
        if kind == "W":
            x = p @ x
        elif kind == "un":
            x = getattr(cnp, p)(x)
        elif kind == "mulsin":
            x = x * cnp.sin(x)
        elif kind == "addc":
            x = x + p
        elif kind == "outer":
            x = cnp.sum(cnp.outer(x, x), axis=1) / 10.0
        elif kind == "pow":
            x = x ** p / 3.0
        elif kind == "cumsum":
            x = cnp.cumsum(x)
        else:
            x = x[::-1]
    return x


@pytest.mark.parametrize("seed", range(12))
def test_graphs_of_transformed_random_compositions_compute_the_transformation(seed):
    rng = np.random.default_rng(seed)
    steps = _program(rng)

    def f(x):
        return _run(steps, x)

    def fs(x):
        return cnp.sum(f(x) ** 2) / 2
    x = rng.uniform(-1, 1, N)
    v = rng.standard_normal(N)
    ct = rng.standard_normal(np.shape(f(x)))
    X = rng.standard_normal((3, N))
    cases = {
        "grad": (cr.grad(fs), x), "value_and_grad": (cr.value_and_grad(fs), x),
        "jvp": (lambda x: cr.jvp(f, (x,), (v,)), x),
        "vjp": (lambda x: cr.vjp(f, x)[1](ct), x),
        "jacfwd": (cr.jacfwd(f), x), "jacrev": (cr.jacrev(f), x),
        "hessian": (cr.hessian(fs), x), "vmap": (cr.vmap(f), X),
        "vmap_grad": (cr.vmap(cr.grad(fs)), X),
        "jacfwd_jacrev": (cr.jacfwd(cr.jacrev(f)), x),
        "linearize": (lambda x: cr.linearize(f, x)[1](v), x),
    }
    for name, (T, arg) in cases.items():
        eager = T(arg)
        g, staged = trace_to_graph(T, (arg,), {}, (), fold_constants=False)
        res, _ = eval_graph(g, [arg])
        flat = tree_flatten(staged)[0]
        assert len(res) == len(flat) and all(map(same_bits, res, flat)), name
        for a, b in zip(tree_flatten(eager)[0], flat):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12, err_msg=name)
        cost = cr.compare_cost({name: T}, arg)[name]
        assert cost == {"flops": g.flops(), "bytes": g.bytes(), "equations": len(g.eqns)}
        assert cr.flops(T, arg) == g.flops()


def _mv(m, n):
    return m * (2 * n - 1)


def _mm(m, n, p):
    return m * p * (2 * n - 1)


@pytest.mark.parametrize("op", ["@", "dot", "matmul"])
def test_jacobians_of_matrix_chains_cost_the_two_orders_of_the_chain(op):
    rng = np.random.default_rng(3)
    mul = {"@": lambda M, x: M @ x, "dot": cnp.dot, "matmul": cnp.matmul}[op]
    for _ in range(12):
        k = int(rng.integers(1, 5))
        d = [int(s) for s in rng.integers(1, 9, k + 1)]
        Ms = [rng.standard_normal((d[i + 1], d[i])) for i in range(k)]

        def f(x):
            for M in Ms:
                x = mul(M, x)
            return x
        x = rng.standard_normal(d[0])
        primal = sum(_mv(d[i + 1], d[i]) for i in range(k))
        fwd = primal + sum(_mm(d[i + 1], d[i], d[0]) for i in range(1, k))      # C(BA)
        rev = primal + sum(_mm(d[k], d[i + 1], d[i]) for i in range(k - 1))     # (CB)A
        cost = cr.compare_cost({"jacfwd": cr.jacfwd(f), "jacrev": cr.jacrev(f)}, x)
        assert (cost["jacfwd"]["flops"], cost["jacrev"]["flops"]) == (fwd, rev), d
        J = Ms[0] if k == 1 else np.linalg.multi_dot(Ms[::-1])
        np.testing.assert_allclose(cr.jacfwd(f)(x), J, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(cr.jacrev(f)(x), J, rtol=1e-12, atol=1e-12)


def test_seed000_numbers_and_the_documented_network():
    rng = np.random.default_rng(0)
    A, B, C = (rng.standard_normal(s) for s in [(100, 200), (50, 100), (2, 50)])
    assert cr.flops(lambda A, B, C: C @ (B @ A), A, B, C) == 2_029_600
    assert cr.flops(lambda A, B, C: (C @ B) @ A, A, B, C) == 99_400
    f = lambda x: C @ (B @ (A @ x))                                   # noqa: E731
    primal = _mv(100, 200) + _mv(50, 100) + _mv(2, 50)
    assert cr.flops(cr.jacfwd(f), np.ones(200)) == primal + 2_029_600 == 2_079_648
    assert cr.flops(cr.jacrev(f), np.ones(200)) == primal + 99_400 == 149_448
    A, B, C = (rng.standard_normal(s) for s in [(300, 2), (500, 300), (1000, 500)])
    assert cr.flops(lambda A, B, C: C @ (B @ A), A, B, C) == 599_000 + 1_998_000
    assert cr.flops(lambda A, B, C: (C @ B) @ A, A, B, C) == 299_700_000 + 1_198_000
    # the docs' R^100 -> R^3 network, by hand: tanh' = 1 - y^2 is 2 flops per element
    W1, W2, W3 = rng.normal(size=(20, 100)), rng.normal(size=(20, 20)), rng.normal(size=(3, 20))
    net = lambda x: W3 @ cnp.tanh(W2 @ cnp.tanh(W1 @ x))               # noqa: E731
    primal = _mv(20, 100) + 20 + _mv(20, 20) + 20 + _mv(3, 20)
    fwd = primal + 2 * (40 + 20 * 100) + _mm(20, 20, 100) + _mm(3, 20, 100)
    rev = primal + 2 * (40 + 3 * 20) + _mm(3, 20, 20) + _mm(3, 20, 100)
    cost = cr.compare_cost({"jacfwd": cr.jacfwd(net), "jacrev": cr.jacrev(net)}, np.ones(100))
    assert (primal, cost["jacfwd"]["flops"], cost["jacrev"]["flops"]) == \
        (4917, fwd, rev) == (4917, 98697, 19157)


# ------------------------------------------------------------------ cost rules fixed here

def test_einsum_of_three_operands_counts_the_contractions_numpy_runs():
    # np.einsum(optimize=True) contracts pairwise, in np.einsum_path's order. Seed 000's
    # chain as one einsum: NumPy contracts B A first, then C (BA): the forward order
    # (the naive count, 5,999,600, was counted for it: neither order). NumPy's default,
    # optimize=False, runs its own loop over every term: the naive count is that one's.
    rng = np.random.default_rng(1)
    A, B, C = (rng.standard_normal(s) for s in [(100, 200), (50, 100), (2, 50)])
    assert np.einsum_path("ij,jk,kl->il", C, B, A, optimize=True)[0][1:] == [(1, 2), (0, 1)]
    assert cr.flops(lambda A, B, C: cnp.einsum("ij,jk,kl->il", C, B, A, optimize=True),
                    A, B, C) == _mm(50, 100, 200) + _mm(2, 50, 200)
    assert cr.flops(lambda A, B, C: cnp.einsum("ij,jk,kl->il", C, B, A), A, B, C) == 5999600
    x, y, z, w = (rng.standard_normal(s) for s in [(3, 4), (4, 5), (5, 6), (6, 2)])
    # path (2, 3), (1, 2), (0, 1): z w, then y (z w), then x (y z w)
    assert cr.flops(lambda *o: cnp.einsum("ij,jk,kl,lm->im", *o, optimize="greedy"),
                    x, y, z, w) == _mm(5, 6, 2) + _mm(4, 5, 2) + _mm(3, 4, 2)
    # a full contraction: y z summed over l first (k, l only there), then x with it
    assert cr.flops(lambda *o: cnp.einsum("ij,jk,kl->", *o, optimize=True), x, y, z) == \
        (2 * 120 - 4) + (2 * 12 - 1)
    # three operands in one step: two multiplications per element
    assert cr.flops(lambda a: cnp.einsum("ij,ij,ij->ij", a, a, a), x) == 24
    # two operands: unchanged
    assert cr.flops(lambda a, b: cnp.einsum("ij,jk->ik", a, b), x, y) == _mm(3, 4, 5)


def test_scatter_costs_one_flop_per_updated_position_and_set_is_data_movement():
    x = np.ones(6)

    def cost(f):
        g = cr.make_graph(f)(x.copy())
        return [e.prim.cost(e.ins, e.outs[0], **e.params) for e in g.eqns
                if e.prim.name == "scatter"]
    assert cost(lambda x: x.at[1:4].add(5.0)) == [3]              # (was 1: v's size)
    assert cost(lambda x: x.at[np.array([0, 0, 2])].add(2.0)) == [3]
    assert cost(lambda x: x.at[np.array([0, 1])].multiply(np.array([2.0, 3.0]))) == [2]
    assert cost(lambda x: cnp.reshape(x, (2, 3)).at[:, np.array([1, 1])].add(1.0)) == [4]
    assert cost(lambda x: x.at[None, 1:4].add(1.0)) == [3]
    assert cost(lambda x: x.at[1:4].set(np.ones(3))) == [0]         # (was 3)

    def write(x):
        x[0:2] = 5.0
        return x
    assert cost(write) == [0]


# ------------------------------------------------------------------ drawing

def _cases():
    return {
        "empty": (lambda: (), ()),
        "none": (lambda: None, ()),
        "constant": (lambda: 1.5, ()),
        "constant_of_arg": (lambda x: 2.0, (1.0,)),
        "constant_array": (lambda x: np.arange(3.0), (1.0,)),
        "identity": (lambda x: x, (np.ones(3),)),
        "repeated": (lambda x: (x, x, cnp.sin(x), cnp.sin(x)), (np.ones(2),)),
        "swap": (lambda x, y: (y, x, cnp.sin(y)), (1.0, 2.0)),
        "complex": (lambda x: x * (1 + 2j) + 3j, (np.ones(2),)),
        "0d": (lambda x: x * 2, (np.float64(3.0),)),
        "big_constant": (lambda x: x @ np.arange(1e4).reshape(100, 100), (np.ones(100),)),
        "pytree": (lambda p: {"b": p["a"] * 2, "a": [p["b"], (p["a"], 3.0)]},
                   ({"a": np.ones(2), "b": 1.0},)),
        "multiple_results": (lambda A: cnp.linalg.eigh(A), (np.diag([1.0, 2.0, 3.0]),)),
        "int_and_bool": (lambda x, n: cnp.where(x > 0, x * n, 0.0),
                         (np.array([1.0, -1.0]), np.arange(2))),
        "grad": (cr.grad(lambda x, y: cnp.exp(-(cnp.sin(x) - cnp.cos(y)) ** 2)), (1.0, 2.0)),
    }


@pytest.mark.parametrize("name", list(_cases()))
def test_every_kind_of_graph_draws_with_inputs_and_outputs_in_order(name, tmp_path):
    f, args = _cases()[name]
    g = cr.make_graph(f)(*args)
    dot = g.to_dot()
    # the graph's ID is quoted: ``graph`` is a DOT keyword (``digraph graph {`` is a
    # syntax error for Graphviz)
    assert dot.splitlines()[0] == 'digraph "graph" {'
    names = [re.match(r'\s*"(\w+)" \[shape=ellipse', line).group(1)
             for line in dot.splitlines() if "shape=ellipse" in line]
    assert names == [chr(ord("a") + i) for i in range(len(g.in_vars))]
    assert re.findall(r"^\s*(out\d+) \[", dot, re.M) == [f"out{k}" for k in range(len(g.outs))]
    for k, o in enumerate(g.outs):          # each output's edge from what made it
        edges = re.findall(rf"^\s*(\S+) -> out{k};", dot, re.M)
        if isinstance(o, Literal):
            assert edges == []
        elif o.id in {v.id for v in g.in_vars}:
            assert edges == [f'"{chr(ord("a") + [v.id for v in g.in_vars].index(o.id))}"']
        else:
            i = next(i for i, e in enumerate(g.eqns) if o.id in {v.id for v in e.outs})
            assert edges == [f"eq{i}"]
    svg = g.to_svg()
    xml.dom.minidom.parseString(svg)
    assert svg.count(">output ") == len(g.outs)
    assert g.save(str(tmp_path / "g.svg")) == str(tmp_path / "g.svg")
    assert (tmp_path / "g.svg").read_text() == svg
    assert g.save(str(tmp_path / "g.dot")) == str(tmp_path / "g.dot")
    if shutil.which("dot"):
        r = subprocess.run(["dot", "-Tsvg", str(tmp_path / "g.dot")], capture_output=True)
        assert r.returncode == 0, r.stderr


def test_dot_title_is_quoted_and_escaped():
    g = cr.make_graph(cnp.sin)(1.0)
    assert g.to_dot(name='my "net"').splitlines()[0] == r'digraph "my \"net\"" {'


def test_save_through_graphviz_writes_the_named_file(tmp_path, monkeypatch):
    g = cr.make_graph(lambda x, y: cnp.exp(-(cnp.sin(x) - cnp.cos(y)) ** 2))(1.0, 2.0)
    with pytest.raises(ValueError, match="extension"):
        g.save(str(tmp_path / "graph"))
    pytest.importorskip("graphviz")
    if not shutil.which("dot"):
        pytest.skip("Graphviz's dot program is not installed")
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "pics"
    out.mkdir()
    assert g.save(str(out / "g.png")) == str(out / "g.png")
    assert (out / "g.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert g.render(str(out / "r"), format="svg") == str(out / "r.svg")
    xml.dom.minidom.parse(str(out / "r.svg"))
    assert sorted(p.name for p in out.iterdir()) == ["g.png", "r.svg"]      # no leftovers
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pics"]


# ------------------------------------------------------------------ static arguments

def test_static_argnums_is_static_when_passed_by_name():
    def f(x, n, scale=1.0):
        for _ in range(n):
            x = cnp.sin(x)
        return x * scale
    x = np.ones(3)
    by_position = cr.make_graph(f, static_argnums=1)(x, 2)
    by_name = cr.make_graph(f, static_argnums=1)(x, n=2)
    assert str(by_name) == str(by_position)
    assert len(by_name.in_vars) == 1 and not by_name.guards
    # a dynamic keyword stays an input
    g = cr.make_graph(f, static_argnums=1)(x, n=2, scale=3.0)
    assert len(g.in_vars) == 2 and "multiply d b" in str(g)
    # not static: staged, with a guard on the value Python read
    g = cr.make_graph(f)(x, n=2)
    assert len(g.in_vars) == 2 and [gd.kind for gd in g.guards] == ["int"]
    # a static argument that must be a Python int (a shape) works by name too
    h = cr.make_graph(lambda x, n: x + cnp.zeros(n), static_argnums=1)(x, n=3)
    assert len(h.in_vars) == 1


def test_svg_labels_complex_constants_with_their_value():
    # float() of a NumPy complex scalar drops the imaginary part (with a ComplexWarning):
    # the picture said "multiply (-0)" for x * np.complex128(-1j)
    g = cr.make_graph(lambda x: (x * np.complex128(-1j), x * (1 + 2j), x * 2.5,
                                 x + np.ones(2)))(1.0)
    labels = re.findall(r">(\w+ \([^<]*\))<", g.to_svg())
    assert labels == ["multiply (-0-1j)", "multiply (1+2j)", "multiply (2.5)", "add (const)"]
