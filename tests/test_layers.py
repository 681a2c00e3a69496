"""The house's arrows (docs/architecture.md): the modules of prims/ import one another in
one direction, at module level (no cycle, none held together by an import inside a
function), prims/ imports nothing above it, and the scipy layer, which costs more to
import than the rest of chainrule, loads on demand."""
import ast
import os
import pathlib
import subprocess
import sys

import chainrule as cr

SRC = pathlib.Path(cr.__file__).parent / "_src"
BELOW_PRIMS = {"core", "interpreters", "tree_util", "config", "backend"}


def _imports(path):
    """``(level, module, names, inside_a_function)`` for every ``from ... import``."""
    tree = ast.parse(path.read_text())
    inner = {id(n) for f in ast.walk(tree)
             if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
             for n in ast.walk(f) if n is not f}
    return [(n.level, n.module, [a.name for a in n.names], id(n) in inner)
            for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]


def test_prims_import_one_way_at_module_level():
    graph = {}
    for path in sorted((SRC / "prims").glob("*.py")):
        deps = graph.setdefault(path.stem, set())
        for level, module, names, inside in _imports(path):
            if level == 1:                              # another module of prims/
                assert not inside, (path.name, module or names)
                deps.update([module] if module else names)
            elif level == 2:                            # chainrule._src.<module>
                for m in [module.split(".")[0]] if module else names:   # from .. import x
                    assert m in BELOW_PRIMS, (path.name, m)
    order, state = [], {}

    def visit(m, chain):
        if state.get(m) == "done":
            return
        assert state.get(m) != "open", f"import cycle in prims/: {' -> '.join(chain + [m])}"
        state[m] = "open"
        for d in sorted(graph.get(m, ())):
            visit(d, chain + [m])
        state[m] = "done"
        order.append(m)
    for m in sorted(graph):
        visit(m, [])
    assert order.index("shape") < order.index("elementwise") < order.index("products")


def test_the_scipy_layer_loads_when_a_scipy_ufunc_first_meets_a_traced_value():
    code = (
        "import sys\n"
        "import chainrule as cr\n"
        "assert 'chainrule._src.scipy.api' not in sys.modules\n"
        "assert 'scipy.stats' not in sys.modules\n"
        "import scipy.special as sps\n"
        "g = cr.grad(lambda x: sps.expit(x))(0.3)\n"
        "assert 'chainrule._src.scipy.api' in sys.modules\n"
        "e = sps.expit(0.3)\n"
        "assert abs(g - e * (1 - e)) < 1e-15, g\n")
    env = dict(os.environ, PYTHONPATH=str(SRC.parents[1]))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
