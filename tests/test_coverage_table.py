"""docs/numpy.md's coverage table is what tools/coverage_table.py writes from the
registry and tools/peers.json; the peers' lists hold what they should."""
import importlib.util
import json
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _tool():
    path = ROOT / "tools" / "coverage_table.py"
    spec = importlib.util.spec_from_file_location("coverage_table", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_committed_table_is_current():
    tool = _tool()
    text = tool.DOC.read_text()
    assert tool.render(text) == text, \
        "docs/numpy.md's coverage table is out of date: run python tools/coverage_table.py"
    assert text.index(tool.BEGIN) < text.index("## The functions"), "the page opens with it"


def test_peer_lists_name_their_versions_and_hold_known_functions():
    peers = json.loads((ROOT / "tools" / "peers.json").read_text())
    assert peers["autograd"]["version"].startswith("1.")
    assert peers["jax"]["version"] == "0.10.2"
    ag, jx = peers["autograd"]["namespaces"], peers["jax"]["namespaces"]
    assert {"sin", "einsum", "std"} <= set(ag["numpy"])
    assert "odeint" in ag["scipy.integrate"] and "solve_banded" in ag["scipy.linalg"]
    assert "norm.logpdf" in ag["scipy.stats"] and "logsumexp" in ag["scipy.special"]
    assert {"sin", "arange", "vecdot"} <= set(jx["numpy"])
    assert "truncnorm.logpdf" in jx["scipy.stats"] and "lu_factor" in jx["scipy.linalg"]
    nd = peers["jax"]["not_differentiable"]
    for ns, names in nd.items():
        assert set(names) <= set(jx[ns]), ns
    assert "arange" in nd["numpy"] and "sin" not in nd["numpy"]


def test_table_marks_a_missing_function():
    tool = _tool()
    peers = {"autograd": {"version": "1.0", "namespaces": {"numpy": ["sin", "nothere"]}},
             "jax": {"version": "0.0", "namespaces": {"numpy": ["sin", "zeros"]},
                     "not_differentiable": {"numpy": ["zeros"]}}}
    out = tool.table({"numpy": {"sin": None}}, peers)
    assert "| `nothere` | **missing** | yes | - |" in out
    assert "| `zeros` | NumPy's | - | no derivative |" in out
    assert "| `numpy` | 1 | 2 | 1 (+1 without derivatives) | 1: `nothere` |" in out
