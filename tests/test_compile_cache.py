"""One compile path (issue 13, items 1, 2, 4): jit, linearize and compiled backward
passes share one cache type (graph/cache.py: bounded, thread-safe, least recently
used, with counts and reasons), one key of a call's arguments built on tree_util, and
one code generator; a failure to compile is counted, visible in ``cache_info()`` and
raised under ``config.update("compile_errors", "raise")`` (the suite's setting,
tests/conftest.py). The tape is a list of named records; interpreters never import
graph/; no trace writes to a shared primitive."""
import ast
import pathlib
import threading

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from chainrule._src import core
from chainrule._src.graph import cache as cache_mod, jit as jit_mod, replay
from chainrule._src.graph.cache import CompileCache, CompileError, signature
from chainrule._src.interpreters import reverse
from chainrule._src.tree_util import tree_flatten

SRC = pathlib.Path(cr.__file__).parent / "_src"


@pytest.fixture
def counting(monkeypatch):
    """compile_errors="count" for one test (the suite raises)."""
    monkeypatch.setattr(cr.config, "compile_errors", "count")


# ------------------------------------------------------------------ the cache type

def test_cache_is_lru_bounded_and_counts():
    c = CompileCache(3)
    for k in "abc":
        c.update(k, lambda now, k=k: k.upper())
    c.hit("a")                              # a hit makes "a" the most recent
    c.update("d", lambda now: "D")          # so "b" goes
    assert [k for k in "abcd" if c.get(k) is not None] == ["a", "c", "d"]
    assert c.count("misses", "why") == 1
    info = c.info()
    assert (info.hits, info.misses, info.size, info.maxsize) == (1, 1, 3, 3)
    assert info.miss_reasons == ["why"]
    c.update("a", lambda now: None)         # None removes
    assert c.get("a") is None and c.info().size == 2
    c.clear()
    assert len(c) == 0 and c.info().hits == 1   # (the counts stay)


def test_cache_weights_entries():
    c = CompileCache(4, weight=len)
    c.update("a", lambda now: (1, 2, 3))
    c.update("b", lambda now: (1, 2))       # 5 > 4: "a" goes
    assert c.get("a") is None and c.info().size == 2


def test_cache_changes_from_4_threads():
    c = CompileCache(50)

    def work(t):
        for i in range(500):
            k = (t * 7 + i) % 80
            c.update(k, lambda now: (now or 0) + 1)
            c.hit(k)
    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    info = c.info()
    assert info.hits == 2000 and len(c) == info.size <= 50


def test_failures_are_counted_or_raised(monkeypatch):
    c = CompileCache(2)
    with pytest.raises(CompileError, match="compiling x failed: ValueError: bad"):
        c.failed("compiling x", ValueError("bad"))      # (the suite's setting)
    monkeypatch.setattr(cr.config, "compile_errors", "count")
    c.failed("compiling x", ValueError("bad"))
    info = c.info()
    assert info.failures == 2 and info.miss_reasons[-1].startswith("compiling x failed")


def test_config_compile_errors_values():
    with pytest.raises(ValueError, match="'count', 'raise'"):
        cr.config.update("compile_errors", "ignore")
    assert cr.config.compile_errors == "raise"


# ------------------------------------------------------------------ the key

def test_signature_is_tree_util_order_and_structure():
    tree = {"b": [np.ones(2), 1.0], "a": (np.zeros((2, 3)), 2)}
    key, leaves = signature([tree])
    want, td = tree_flatten([tree])
    assert all(x is y for x, y in zip(leaves, want))
    assert key[1] == td
    assert key[2:] == ((2, 3), np.dtype(float), (24, 8), int, (2,), np.dtype(float), (8,),
                       float)       # (an array's strides: its layout decides views)
    # another key for other shapes, dtypes, scalar types, structure or static values
    assert signature([tree])[0] == key
    other = {"b": [np.ones(3), 1.0], "a": (np.zeros((2, 3)), 2)}
    assert signature([other])[0] != key
    assert signature([tree], static=((1, "x"),))[0] != key
    assert hash(signature([tree], static=((1, "x"),))[0]) is not None


def test_jit_uses_the_shared_cache_and_key():
    jf = cr.jit(lambda d: d["x"] * d["y"])
    d = {"y": np.ones(3), "x": np.arange(3.0)}
    jf(d)
    jf(d)
    jf({"y": np.ones(4), "x": np.arange(4.0)})
    info = jf.cache_info()
    assert (info.hits, info.misses, info.compiled, info.failures) == (1, 2, 2, 0)


# ------------------------------------------------------------------ failures

def _boom(*a, **k):
    raise RuntimeError("code generator bug")


def test_jit_compile_failure_raises_under_the_switch(monkeypatch):
    monkeypatch.setattr(jit_mod, "compile_graph", _boom)
    with pytest.raises(CompileError, match="compiling jit.*code generator bug"):
        cr.jit(lambda x: x * 2.0)(np.ones(3))


def test_jit_compile_failure_is_counted_and_runs_uncompiled(monkeypatch, counting):
    monkeypatch.setattr(jit_mod, "compile_graph", _boom)
    calls = []

    def f(x):
        calls.append(1)
        return cnp.sin(x) * 2.0
    jf = cr.jit(f)
    x = np.linspace(0, 1, 4)
    for _ in range(3):
        np.testing.assert_array_equal(jf(x), np.sin(x) * 2.0)
    info = jf.cache_info()
    assert info.failures == 1 and info.fallbacks == 2 and len(calls) == 3
    assert any("code generator bug" in r for r in info.miss_reasons)


def test_replay_compile_failure_raises_under_the_switch(monkeypatch):
    monkeypatch.setattr(replay, "COMPILE_AFTER", 2)
    monkeypatch.setattr(replay, "compile_graph", _boom)
    replay.cache_clear()
    g = cr.grad(lambda x: cnp.sum(cnp.tanh(x) ** 2))
    x = np.linspace(-1, 1, 5)
    g(x)
    with pytest.raises(CompileError, match="compiling a backward pass.*code generator"):
        g(x)
    replay.cache_clear()


def test_replay_failures_are_counted_and_give_the_eager_result(monkeypatch, counting):
    monkeypatch.setattr(replay, "COMPILE_AFTER", 2)
    replay.cache_clear()
    f = lambda x: cnp.sum(cnp.tanh(x) ** 2)               # noqa: E731
    x = np.linspace(-1, 1, 5)
    want = cr.grad(f)(x)
    before = replay.cache_info()
    monkeypatch.setattr(replay, "compile_graph", _boom)
    g = cr.grad(f)
    for _ in range(4):                      # seen, fails to compile, then never tried
        np.testing.assert_array_equal(g(x), want)
    info = replay.cache_info()
    assert info.failures - before.failures == 1
    assert any("code generator bug" in r for r in info.miss_reasons)
    # compiled code that raises (not a guard) at run time: counted, the eager result
    monkeypatch.undo()
    monkeypatch.setattr(replay, "COMPILE_AFTER", 2)
    monkeypatch.setattr(cr.config, "compile_errors", "count")
    replay.cache_clear()
    f2 = lambda x: cnp.sum(cnp.sin(x) ** 2)             # noqa: E731
    h = cr.grad(f2)
    h(x)
    h(x)                                    # compiled, and remembered by f2
    compiled = replay._recent[id(f2)][2]
    monkeypatch.setattr(compiled, "fn", _boom)
    failures = replay.cache_info().failures
    np.testing.assert_allclose(h(x), 2 * np.sin(x) * np.cos(x), rtol=1e-15)
    assert replay.cache_info().failures == failures + 1
    monkeypatch.setattr(cr.config, "compile_errors", "raise")
    with pytest.raises(CompileError, match="running a compiled backward pass"):
        h(x)
    replay.cache_clear()


def test_replay_counts_what_it_does_not_compile():
    replay.cache_clear()
    g = cr.grad(lambda x: cnp.sum(x.astype(np.float32) ** 2))
    x32 = np.linspace(0, 1, 5)
    before = replay.cache_info()
    for _ in range(replay.COMPILE_AFTER + 2):
        g(x32)
    info = replay.cache_info()
    assert info.compiled == before.compiled and info.hits == before.hits
    assert info.misses - before.misses == replay.COMPILE_AFTER + 2
    assert any("not compiled: a value of a dtype" in r for r in info.miss_reasons)


def test_linearize_shares_jit_machinery():
    W = np.random.default_rng(0).standard_normal((3, 3))
    f = lambda x: cnp.tanh(W @ x)           # noqa: E731
    x, v = np.linspace(-1, 1, 3), np.ones(3)
    _, f_jvp = cr.linearize(f, x)
    want = cr.jvp(f, (x,), (v,))[1]
    np.testing.assert_allclose(f_jvp(v), want, rtol=1e-14)
    np.testing.assert_allclose(f_jvp(v), want, rtol=1e-14)
    info = f_jvp.cache_info()
    assert (info.compiled, info.hits, info.failures) == (1, 2, 0)


# ------------------------------------------------------------------ records, layers

def test_the_tape_is_named_records():
    trace = reverse.ReverseTrace(None)
    x = trace.new_input(np.linspace(0, 1, 3))
    with core.new_trace_context(trace):
        y = cnp.sum(cnp.sin(x) * 2.0)
    assert reverse.Record._fields == ("prim", "params", "nodes", "args", "res", "out")
    recs = trace.tape
    assert all(type(r) is reverse.Record for r in recs)
    assert [r.prim.name for r in recs] == ["sin", "multiply", "reduce_sum"]
    assert recs[1].nodes == (recs[0].out, None) and recs[1].args[1] == 2.0
    assert recs[2].out == y.node


def test_compiled_backward_passes_read_records_by_name():
    f = cr.value_and_grad(lambda x: cnp.sum(cnp.tanh(x) * x))
    x = np.linspace(-1, 1, 4)
    from chainrule._src.graph import replay
    replay.cache_clear()
    for _ in range(replay.COMPILE_AFTER + 1):
        f(x)
    sources = [e.fn.source for e in replay.cache._entries.values()
               if type(e) is replay._Compiled]
    assert sources and all(".args[" in src and "][" not in src for src in sources)


def test_checkpoint_and_deferred_records_are_their_own_kinds(monkeypatch):
    trace = reverse.ReverseTrace(None)
    x = trace.new_input(np.linspace(0, 1, 3))
    with core.new_trace_context(trace):
        cr.checkpoint(lambda a: cnp.sin(a) * a)(x)
    assert [type(r) for r in trace.tape] == [reverse.Remat]
    monkeypatch.setattr(core, "DEFER_SIZE", 1)
    _, pullback = reverse.vjp_flat(lambda a: [cnp.sum(cnp.exp(a) * a)],
                                   [np.linspace(0, 1, 3)])
    kinds = {type(r) for r in pullback.trace.tape}
    assert reverse.Deferred in kinds        # exp's rule reads its (deferred) output
    np.testing.assert_allclose(pullback([1.0])[0],
                               np.exp(np.linspace(0, 1, 3)) * (1 + np.linspace(0, 1, 3)))


def test_no_trace_writes_to_a_primitive():
    from chainrule._src.prims.elementwise import PRIMS
    prims = [PRIMS["sin"], PRIMS["multiply"]]
    before = [dict(vars(p)) for p in prims]
    for _ in range(3):
        cr.grad(lambda x: cnp.sum(cnp.sin(x) * x))(np.ones(3))
    assert [dict(vars(p)) for p in prims] == before
    assert not hasattr(core.Primitive, "lean")


def test_interpreters_import_nothing_of_graph():
    for path in (SRC / "interpreters").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                mod = "." * node.level + (node.module or "")
                assert "graph" not in mod.split("."), (path.name, mod)
            elif isinstance(node, ast.Import):
                assert not any("graph" in a.name for a in node.names), path.name


def test_cache_module_is_the_only_cache_type():
    """jit, linearize and replay keep their compiled programs in CompileCache objects."""
    assert isinstance(replay.cache, CompileCache)
    jf = cr.jit(lambda x: x)
    assert jf.cache_info.__self__.__class__ is CompileCache
    _, f_jvp = cr.linearize(lambda x: x * 2.0, np.ones(2))
    assert f_jvp.cache_info.__self__.__class__ is CompileCache
    assert cache_mod.CacheInfo._fields[:6] == ("hits", "misses", "retraces", "size",
                                               "maxsize", "miss_reasons")


def test_tapes_with_custom_rules_are_never_stored():
    """Their parameters hold the user's functions (new closures each call): a key of
    theirs would keep them alive and push compiled structures out of the cache."""
    replay.cache_clear()

    @cr.custom_vjp
    def f(x):
        return cnp.sin(x)
    f.defvjp(lambda x: (cnp.sin(x), x), lambda x, g: (g * cnp.cos(x),))
    g = cr.grad(lambda x: cnp.sum(f(x) * 2.0))
    x = np.linspace(0, 1, 3)
    for _ in range(replay.COMPILE_AFTER + 3):
        np.testing.assert_allclose(g(x), 2 * np.cos(x), rtol=1e-15)
    assert len(replay.cache) == 0
