"""The graph/FLOP example script computes what the seeds ask."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "examples"))
import graphs_and_flops as ex  # noqa: E402


def test_seed001_graph_is_drawn(tmp_path):
    g, paths = ex.seed001_graph(str(tmp_path))
    assert [e.prim.name for e in g.eqns] == ["sin", "cos", "subtract", "power", "negative",
                                            "exp"]
    with open(paths[0]) as fh:                     # closed: no ResourceWarning
        svg = fh.read()
    assert svg.startswith("<svg") and svg.count("<rect") >= 9 and "exp" in svg


def test_matrix_chains_match_the_formula():
    fwd, bwd, ff, bf = ex.matrix_chain([(100, 200), (50, 100), (2, 50)])
    assert (fwd, bwd) == (ff, bf) == (1_989_800 + 39_800, 19_800 + 79_600)
    assert fwd / bwd > 20
    fwd, bwd, ff, bf = ex.matrix_chain([(300, 2), (500, 300), (1000, 500)])
    assert (fwd, bwd) == (ff, bf)
    assert bwd / fwd > 100


def test_jacobian_costs_pick_the_right_mode():
    f, r = ex.jacobian_costs(300, 3)
    assert r < f
    f, r = ex.jacobian_costs(3, 300)
    assert f < r


def test_jit_demo_retraces_once():
    info = ex.jit_demo()
    assert (info.hits, info.misses, info.retraces) == (2, 1, 1)
