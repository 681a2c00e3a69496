"""Every cache is safe under threads (issue 10, item 5): the jit cache of a function
whose variants churn (more shapes than ``maxsize``, guards that re-trace), the compiled
backward passes of recurring tapes (graph/replay.py: counts, compiled passes, the
per-function memo of the last structure) and linearize's compiled tangent map. Four
threads hammer each with a fixed number of calls; no call may raise, and each result
must equal the single-threaded one bit for bit. (tests/test_threads.py covers the
transformations themselves under threads.)"""
import sys
import threading

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from chainrule._src.graph import replay

N_THREADS = 4


@pytest.fixture
def switch_often():
    """Let the interpreter switch threads every microsecond, so that the threads really
    interleave inside the caches' bookkeeping."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(old)


def _hammer(call, n_iter):
    """Run ``call(t, i)`` for i in range(n_iter) in each of N_THREADS threads t started
    together. Returns (exceptions raised, (t, i) of calls that returned False)."""
    barrier = threading.Barrier(N_THREADS)
    errors, wrong = [], []

    def run(t):
        try:
            barrier.wait(timeout=30)
        except threading.BrokenBarrierError as e:
            errors.append(e)
            return
        for i in range(n_iter):
            try:
                if not call(t, i):
                    wrong.append((t, i))
            except Exception as e:          # noqa: BLE001 - every one is reported
                errors.append(e)

    threads = [threading.Thread(target=run, args=(t,)) for t in range(N_THREADS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)
    assert not any(th.is_alive() for th in threads), "a thread did not finish"
    return errors, wrong


def _same(got, want):
    a, b = cr.tree_util.tree_flatten(got)[0], cr.tree_util.tree_flatten(want)[0]
    return len(a) == len(b) and all(
        type(x) is type(y) and np.array_equal(x, y) for x, y in zip(a, b))


def _copy(tree):
    """The expected results, kept apart from anything a call returns later."""
    return cr.tree_util.tree_map(
        lambda x: x.copy() if isinstance(x, np.ndarray) else x, tree)


def _scribble(tree):
    """Write into every array of a result: a result shared between calls (or threads)
    would show it in the next call's result."""
    for leaf in cr.tree_util.tree_flatten(tree)[0]:
        if isinstance(leaf, np.ndarray) and leaf.flags.writeable:
            leaf += 1000.0


# ------------------------------------------------------------------ jit

def _guarded(x):
    # Python control flow on a traced value: a guard, so one key has two variants
    if cnp.sum(x) > 0:
        y = cnp.tanh(x) * x
    else:
        y = cnp.sin(x) - x
    return cnp.sum(y * y), cnp.zeros(3), y[:2]


JIT_INPUTS = [s * np.linspace(0.1, 1.0, n) for n in range(2, 8) for s in (1.0, -1.0)]


# Re-tracing is what this test provokes, so jit's advice after 10 re-traces (a
# RuntimeWarning) is expected here, and only here; it comes from four threads at once,
# which pytest.warns (a catch_warnings context, not thread-safe) cannot collect.
@pytest.mark.filterwarnings("ignore:jit.*re-traced:RuntimeWarning")
def test_jit_cache_churning_from_4_threads(switch_often):
    """12 variants (6 shapes x 2 branches) through a cache of 4: misses, guard failures
    that re-trace, hits and evictions interleave in 4 threads (1,600 calls)."""
    n_iter, maxsize = 400, 4
    want = [_copy(cr.jit(_guarded)(x)) for x in JIT_INPUTS]
    f = cr.jit(_guarded, maxsize=maxsize)

    def call(t, i):
        # every other call the thread's own input (hits), else one that churns
        k = 3 * t if i % 2 else (5 * i + t) % len(JIT_INPUTS)
        got = f(JIT_INPUTS[k])
        ok = _same(got, want[k])
        _scribble(got)
        return ok
    errors, wrong = _hammer(call, n_iter)
    assert errors == [] and wrong == []
    info = f.cache_info()
    assert info.hits + info.misses + info.retraces == N_THREADS * n_iter
    assert info.hits > 0 and info.misses > 0 and info.retraces > 0
    assert info.size <= maxsize


# ------------------------------------------------------------------ replay

def _mlp_loss(k):
    def loss(params, x):
        h = x
        for W, b in params:
            h = cnp.tanh(h @ W + b)
        return cnp.sum(h * h) * (1.0 + 0.25 * k) + cnp.mean(params[0][0] ** 2)
    return loss


def _replay_jobs():
    """3 functions x 3 input shapes: 9 tape structures."""
    rng = np.random.default_rng(0)
    funs = [_mlp_loss(k) for k in range(3)]
    data = []
    for n in (2, 3, 5):
        params = [(rng.standard_normal((n, 4)), rng.standard_normal(4)),
                  (rng.standard_normal((4, 2)), rng.standard_normal(2))]
        data.append((params, rng.standard_normal((3, n))))
    return [(f, d) for f in funs for d in data], funs


def _hammer_replay(monkeypatch, n_iter, pick):
    """value_and_grad of each job from 4 threads (job ``pick(t, i)``), against the
    eager walk computed single-threaded."""
    jobs, funs = _replay_jobs()
    monkeypatch.setattr(cr.config, "replay_backward", False)
    want = [_copy(cr.value_and_grad(f)(*d)) for f, d in jobs]
    monkeypatch.setattr(cr.config, "replay_backward", True)
    vgs = {id(f): cr.value_and_grad(f) for f in funs}

    def call(t, i):
        f, d = jobs[pick(t, i) % len(jobs)]
        got = vgs[id(f)](*d)
        ok = _same(got, want[pick(t, i) % len(jobs)])
        _scribble(got)
        return ok
    return _hammer(call, n_iter), len(jobs)


def test_replay_compiles_each_recurring_tape_once_from_4_threads(switch_often,
                                                                 monkeypatch):
    """9 recurring structures, 4 threads, 600 calls: each structure is compiled exactly
    once (one thread compiles while the others walk eagerly), then replayed; every
    gradient is the eager walk's, bit for bit."""
    replay.cache_clear()
    before = replay.cache_info()._asdict()
    n_iter = 150
    (errors, wrong), n_jobs = _hammer_replay(monkeypatch, n_iter,
                                             lambda t, i: (i // 2) + t)
    assert errors == [] and wrong == []
    after = replay.cache_info()._asdict()
    delta = {k: after[k] - before[k] for k in ("hits", "misses", "retraces", "compiled",
                                               "failures", "fallbacks")}
    assert delta["compiled"] == n_jobs, delta
    assert delta["fallbacks"] == delta["retraces"] == delta["failures"] == 0
    # the first COMPILE_AFTER - 1 sightings of each structure walk eagerly (and those
    # while another thread compiles it); the rest are replayed
    assert 0 < delta["hits"] <= N_THREADS * n_iter - n_jobs * (replay.COMPILE_AFTER - 1)
    assert delta["hits"] + delta["misses"] == N_THREADS * n_iter


def test_replay_cache_churning_from_4_threads(switch_often, monkeypatch):
    """9 structures (3 functions) through a cache and a memo of 2, compiling at the
    2nd sighting: counts, compiles, evictions and the memo of each function's last
    structure change under 4 threads (600 calls)."""
    monkeypatch.setattr(replay.cache, "maxsize", 2)
    monkeypatch.setattr(replay, "COMPILE_AFTER", 2)
    replay.cache_clear()
    before = replay.cache_info().hits
    (errors, wrong), _ = _hammer_replay(
        monkeypatch, 150, lambda t, i: t if i % 2 else 7 * i + t)
    assert errors == [] and wrong == []
    assert replay.cache_info().hits > before
    assert len(replay.cache) <= 2 and len(replay._recent) <= 2
    replay.cache_clear()


# ------------------------------------------------------------------ linearize

def _lin_fun(x, y):
    return cnp.sin(x) * cnp.sum(y ** 2), cnp.floor(y)      # (a constant tangent: zeros)


def test_linearize_from_4_threads(switch_often):
    """Threads linearize (tracing and compiling the tangent map) and call one shared
    f_jvp at once (800 calls): the single-threaded results, and arrays of their own."""
    rng = np.random.default_rng(1)
    xs = [rng.standard_normal(4) for _ in range(N_THREADS)]
    y = rng.standard_normal(3)
    tx, ty = rng.standard_normal(4), rng.standard_normal(3)
    shared_out, shared = cr.linearize(_lin_fun, xs[0], y)
    want_shared = _copy(shared(tx, ty))
    want_own = [cr.linearize(_lin_fun, x, y) for x in xs]
    want_own = [_copy((out, f_jvp(tx, ty))) for out, f_jvp in want_own]

    def call(t, i):
        if i % 4 == 0:              # a linearize of its own
            out, f_jvp = cr.linearize(_lin_fun, xs[t], y)
            got, want = (out, f_jvp(tx, ty)), want_own[t]
        else:                       # the shared tangent map
            got, want = shared(tx, ty), want_shared
        ok = _same(got, want)
        _scribble(got)
        return ok
    errors, wrong = _hammer(call, 200)
    assert errors == [] and wrong == []
