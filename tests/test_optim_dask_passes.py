"""chainrule.optim on Dask data, pass by pass: each computation is one graph, in which
each chunk of the data is read once and its part of the work is one task
(``chainrule.optim._lazy`` fuses it), with the same numbers as Dask's own graph
(bit for bit) and as NumPy; the optimisers count one graph per point, on the
synchronous scheduler and on a ``distributed.LocalCluster`` of worker processes."""
import threading

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from chainrule import optim
from chainrule.optim import _lazy

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")
from dask_counting import Computations  # noqa: E402


from test_optim_dask import logistic, poisson, _data as _both  # noqa: E402

LOSSES = {"logistic": logistic, "poisson": poisson}


def _numpy_data(kind, n=1200, p=5, seed=5):
    return _both(kind, n=n, p=p, chunks=n, seed=seed)[:2]


def _data(kind, chunks=300, **kw):
    X, y = _numpy_data(kind, **kw)
    return X, y, da.from_array(X, chunks=(chunks, X.shape[1])), da.from_array(y, chunks=chunks)


def _bundle(f, w, X, y):
    """Value, gradient and Hessian at w, lazily (what newton asks for at a point)."""
    v, g = cr.value_and_grad(f)(w, X, y)
    return v, g, cr.hessian(f)(w, X, y)


def _rejected(res):
    """Line-search trials rejected (each step starts at 1 and halves)."""
    return sum(int(round(-np.log2(a))) for a in res.history.step_size)


def _unfused(monkeypatch):
    monkeypatch.setattr(_lazy, "_fused", lambda values: None)


@pytest.fixture
def synchronous():
    with dask.config.set(scheduler="synchronous"):
        yield


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster:
        yield cluster


class _Graphs:
    """Graphs a distributed scheduler receives (one per computation or persist)."""

    def __init__(self, scheduler):
        from distributed.diagnostics.plugin import SchedulerPlugin
        counter = self
        self.n = 0

        class Plugin(SchedulerPlugin):
            name = "test-optim-dask-passes-counter"

            def update_graph(self, scheduler, **kwargs):
                counter.n += 1
        scheduler.add_plugin(Plugin())


# ------------------------------------------------------------------ the fused graph

@pytest.mark.parametrize("kind", ["logistic", "poisson"])
@pytest.mark.parametrize("scheduler", ["synchronous", "threads"])
def test_fused_graph_same_numbers_as_dask(kind, scheduler):
    X, y, Xd, yd = _data(kind)
    w = np.linspace(-0.3, 0.4, X.shape[1])
    lazy = _bundle(LOSSES[kind], w, Xd, yd)
    with dask.config.set(scheduler=scheduler):
        ours = _lazy.compute(*lazy)
        theirs = dask.compute(*lazy)
    for a, b in zip(ours, theirs):
        assert np.array_equal(a, np.asarray(b))          # the same functions, same blocks
    ref = _bundle(LOSSES[kind], w, X, y)
    for a, b in zip(ours, ref):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("kind", ["logistic", "poisson"])
def test_one_task_per_chunk(kind):
    X, y = _numpy_data(kind)

    def rows(A):                    # data made by tasks (as read from disk), 6 chunks
        return da.map_blocks(lambda block_info=None: A[block_info[None]["array-location"][0][0]:
                                                       block_info[None]["array-location"][0][1]],
                             chunks=((200,) * 6,) + A.shape[1:], dtype=float)
    Xd, yd = rows(X), rows(y)
    w = np.full(X.shape[1], 0.1)
    with Computations() as c:
        delayed, lazy = _lazy._fused(_bundle(LOSSES[kind], w, Xd, yd))
    assert c.count == 0                                  # building computes nothing
    assert lazy == [0, 1, 2]
    graph = dict(delayed.dask)
    rows = {k for k in graph if isinstance(k, tuple) and k[0].startswith("chainrule-rows")}
    assert len(rows) == 6
    # the data's blocks are made inside those tasks, not as tasks of their own
    data = {Xd.name, yd.name}
    assert not [k for k in graph if isinstance(k, tuple) and k[0] in data]
    # what leaves a chunk's task: one partial result per reduction (value, gradient,
    # Hessian), which the rest of the graph combines
    parts = [k for k, t in graph.items() if t.dependencies & rows]
    assert len(parts) == 6 * 3
    assert all(graph[k].dependencies <= rows for k in parts)
    for a, b in zip(dask.compute(delayed, scheduler="sync")[0],
                    _bundle(LOSSES[kind], w, X, y)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_data_held_in_memory_stays_out_of_the_chunk_tasks():
    # (a local scheduler's persisted or from_array data: shipped once, not per task)
    X, y, Xd, yd = _data("logistic")
    delayed, _ = _lazy._fused(_bundle(logistic, np.zeros(X.shape[1]), Xd, yd))
    held = [k for k in delayed.dask if isinstance(k, tuple) and k[0] in (Xd.name, yd.name)]
    assert len(held) == 8


def test_each_chunk_read_once_per_pass(synchronous):
    X, y = _numpy_data("logistic", n=800)
    reads = []
    lock = threading.Lock()

    def block(block_info=None):
        (i, _), = [block_info[None]["chunk-location"]]
        with lock:
            reads.append(i)
        return X[200 * i:200 * (i + 1)]
    Xd = da.map_blocks(block, chunks=((200,) * 4, (X.shape[1],)), dtype=float)
    yd = da.from_array(y, chunks=200)
    res = optim.newton(logistic, np.zeros(X.shape[1]), args=(Xd, yd), method="exact",
                       persist=False)
    ref = optim.newton(logistic, np.zeros(X.shape[1]), args=(X, y), method="exact")
    np.testing.assert_allclose(res.x, ref.x, rtol=0, atol=1e-10)
    assert res.ncompute == res.nit + 1 + _rejected(res)
    assert sorted(reads) == sorted(list(range(4)) * res.ncompute)


def test_per_chunk_work_after_a_reduction_is_not_fused_into_it(synchronous):
    # centring by the column means: each chunk's product needs a sum over all chunks
    # (the tasks after it are not fused with those before it: no cycle)
    X, y, Xd, yd = _data("poisson", chunks=300)

    def centred(w, X, y):
        z = (X - cnp.mean(X, axis=0)) @ w
        return cnp.sum(cnp.exp(z) - y * z) / X.shape[0]
    w = np.full(X.shape[1], 0.05)
    lazy = _bundle(centred, w, Xd, yd)
    ours = _lazy.compute(*lazy)
    for a, b in zip(ours, dask.compute(*lazy)):
        assert np.array_equal(a, np.asarray(b))
    for a, b in zip(ours, _bundle(centred, w, X, y)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_chunks_along_both_axes_and_other_collections(synchronous):
    X, y = _numpy_data("logistic")
    Xd = da.from_array(X, chunks=(300, 2))              # column blocks too
    yd = da.from_array(y, chunks=400)                   # other row blocks than X's
    w = np.full(X.shape[1], -0.2)
    lazy = _bundle(logistic, w, Xd, yd)
    for a, b in zip(_lazy.compute(*lazy), _bundle(logistic, w, X, y)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    one = da.from_array(X, chunks=X.shape)              # one chunk: nothing to fuse
    v, = _lazy.compute(cnp.sum(one))
    assert v == np.sum(X)
    d = dask.delayed(np.add)(1.0, 2.0)                  # not an array: fused around
    a, b, c = _lazy.compute(d, da.from_array(y, chunks=100).sum(), 4.0)
    assert (a, c) == (3.0, 4.0) and np.isclose(b, y.sum(), rtol=1e-14)


# ----------------------------------------------------------------- the optimisers

@pytest.mark.parametrize("kind", ["logistic", "poisson"])
def test_newton_fused_and_unfused_give_the_same_iterates(kind, synchronous, monkeypatch):
    X, y, Xd, yd = _data(kind)
    f = LOSSES[kind]
    with Computations() as c:
        res = optim.newton(f, np.zeros(X.shape[1]), args=(Xd, yd), method="exact")
    assert c.count == 1 + res.ncompute                   # the persist, then one a point
    ref = optim.newton(f, np.zeros(X.shape[1]), args=(X, y), method="exact")
    np.testing.assert_allclose(res.x, ref.x, rtol=0, atol=1e-10)
    assert res.nit == ref.nit and res.converged
    _unfused(monkeypatch)
    plain = optim.newton(f, np.zeros(X.shape[1]), args=(Xd, yd), method="exact")
    assert np.array_equal(plain.x, res.x) and plain.history.f == res.history.f
    assert plain.ncompute == res.ncompute


@pytest.mark.parametrize("kind", ["logistic", "poisson"])
def test_newton_on_a_cluster_one_graph_per_iteration(kind, cluster):
    distributed = pytest.importorskip("distributed")
    X, y, Xd, yd = _data(kind)
    f = LOSSES[kind]
    ref = optim.newton(f, np.zeros(X.shape[1]), args=(X, y), method="exact")
    graphs = _Graphs(cluster.scheduler)
    with distributed.Client(cluster):
        res = optim.newton(f, np.zeros(X.shape[1]), args=(Xd, yd), method="exact")
        n_persisted = graphs.n
        cold = optim.newton(f, np.zeros(X.shape[1]), args=(Xd, yd), method="exact",
                            persist=False)
    assert res.converged and res.nit == ref.nit
    np.testing.assert_allclose(res.x, ref.x, rtol=0, atol=1e-10)
    assert np.array_equal(cold.x, res.x)
    # one persist, then one graph per point: the start and each accepted full step
    assert res.ncompute == res.nit + 1 + _rejected(res)
    assert n_persisted == 1 + res.ncompute
    assert graphs.n - n_persisted == cold.ncompute == res.ncompute


def test_newton_reads_npy_chunks_on_a_cluster(cluster, tmp_path):
    distributed = pytest.importorskip("distributed")
    X, y = _numpy_data("poisson", n=1000)
    da.to_npy_stack(str(tmp_path / "X"), da.from_array(X, chunks=(250, X.shape[1])))
    da.to_npy_stack(str(tmp_path / "y"), da.from_array(y, chunks=250))
    Xd, yd = da.from_npy_stack(str(tmp_path / "X")), da.from_npy_stack(str(tmp_path / "y"))
    ref = optim.newton(poisson, np.zeros(X.shape[1]), args=(X, y), method="exact")
    with distributed.Client(cluster):
        res = optim.newton(poisson, np.zeros(X.shape[1]), args=(Xd, yd), method="exact",
                           persist=False)
    np.testing.assert_allclose(res.x, ref.x, rtol=0, atol=1e-10)
    assert res.ncompute == res.nit + 1 + _rejected(res)


def test_lbfgs_on_a_cluster(cluster):
    distributed = pytest.importorskip("distributed")
    X, y, Xd, yd = _data("logistic")
    ref = optim.minimize(logistic, np.zeros(X.shape[1]), args=(X, y), method="L-BFGS-B")
    with distributed.Client(cluster):
        res = optim.minimize(logistic, np.zeros(X.shape[1]), args=(Xd, yd),
                             method="L-BFGS-B", persist=False)
    np.testing.assert_allclose(res.x, ref.x, rtol=0, atol=1e-8)
    assert res.nit == ref.nit and res.ncompute == res.nfev


# ------------------------------------------------- generated graphs: bit for bit as Dask

def _random_chunks(rng, n):
    cuts = np.sort(rng.choice(np.arange(1, n), size=min(int(rng.integers(0, 6)), n - 1),
                                replace=False))
    return tuple(np.diff(np.r_[0, cuts, n]).tolist())


@pytest.mark.parametrize("seed", range(6))
def test_generated_graphs_same_results_as_dask(seed, synchronous):
    # uneven row and column blocks, differently chunked operands, derived arrays,
    # reductions feeding per-chunk work, integer/float32 data, 0-d results, mixed values
    rng = np.random.default_rng(seed)
    n, p = int(rng.integers(20, 50)), int(rng.integers(2, 5))
    dtype = [np.float64, np.float32, np.int64][seed % 3]
    Xn = (rng.standard_normal((n, p)) * 3).astype(dtype)
    yn = (rng.standard_normal(n) * 3).astype(dtype)
    w = rng.standard_normal(p)
    X = da.from_array(Xn, chunks=(_random_chunks(rng, n), _random_chunks(rng, p)))
    y = da.from_array(yn, chunks=_random_chunks(rng, n))
    if seed % 2:
        X = X.map_blocks(lambda b: b * 1, dtype=X.dtype)      # chunks made by tasks
    else:
        y = y.persist()
    values = (X.sum(axis=0), X.sum(axis=1), X @ w, X.T @ y, X.T @ (y[:, None] * X),
              (X - X.mean(axis=0)) @ w, X[1:-1:2].sum(), y.rechunk(7).sum(),
              da.concatenate([X, y[:, None]], axis=1).T @ y, y.mean(), y.argmax(),
              (X.T * 2).max(axis=1), 3.0, np.ones(2))
    assert _lazy._fused(values) is not None
    ours, theirs = _lazy._compute_lazy(values), dask.compute(*values)
    for a, b in zip(ours, theirs):
        assert type(a) is type(b) and np.asarray(a).dtype == np.asarray(b).dtype
        assert np.array_equal(a, b)
    for a, b in zip(_lazy.compute(*values), theirs):
        assert np.array_equal(a, np.asarray(b, dtype=np.float64))
    lossf = [logistic, poisson][seed % 2]
    Xf, yf = X.astype(float), (y > 0).astype(float)
    lazy = _bundle(lossf, w, Xf, yf)
    for a, b in zip(_lazy.compute(*lazy), dask.compute(*lazy)):
        assert np.array_equal(a, np.asarray(b))
    for a, b in zip(_lazy.compute(*lazy), _bundle(lossf, w, Xn.astype(float),
                                                   (yn > 0).astype(float))):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_only_containers_of_lazy_values_fall_back_to_dask(synchronous):
    y = da.from_array(np.arange(10.0), chunks=3)
    (a, b), c = _lazy._compute_lazy(((y.sum(), y.max()), 2.0))
    assert (a, b, c) == (45.0, 9.0, 2.0)
