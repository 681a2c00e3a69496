"""chainrule.optim with small NumPy parameters and Dask data: the same coefficients as
with NumPy data (to 1e-8), and one Dask computation per iteration for the value, the
gradient and the Hessian (or one per CG product), counted with a Dask callback on the
synchronous scheduler; the data persisted once."""
import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from chainrule import optim

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")
from dask.callbacks import Callback  # noqa: E402
from dask_counting import Computations  # noqa: E402


@pytest.fixture(autouse=True)
def synchronous():
    with dask.config.set(scheduler="synchronous"):
        yield


def logistic(w, X, y):
    z = X @ w
    return cnp.sum(cnp.logaddexp(0.0, z) - y * z) / X.shape[0] + 0.5e-2 * cnp.sum(w ** 2)


def poisson(w, X, y):
    z = X @ w
    return cnp.sum(cnp.exp(z) - y * z) / X.shape[0]


def _data(kind, n=400, p=4, chunks=100, seed=11):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p)) / np.sqrt(p)
    w = rng.normal(size=p)
    if kind == "logistic":
        y = (rng.random(n) < 1 / (1 + np.exp(-X @ w))).astype(float)
    else:
        y = rng.poisson(np.exp(0.5 * X @ w)).astype(float)
    return X, y, da.from_array(X, chunks=(chunks, p)), da.from_array(y, chunks=chunks)


LOSSES = {"logistic": logistic, "poisson": poisson}


def _rejected(res):
    """Line-search trials rejected (each step starts at 1 and halves)."""
    return sum(int(round(-np.log2(a))) for a in res.history.step_size)


@pytest.mark.parametrize("kind", ["logistic", "poisson"])
def test_newton_exact_one_computation_per_iteration(kind):
    X, y, Xd, yd = _data(kind)
    f = LOSSES[kind]
    ref = optim.newton(f, np.zeros(X.shape[1]), args=(X, y), method="exact")
    with Computations() as c:
        res = optim.newton(f, np.zeros(X.shape[1]), args=(Xd, yd), method="exact")
    assert res.converged and ref.converged
    np.testing.assert_allclose(res.x, ref.x, rtol=0, atol=1e-8)
    assert res.nit == ref.nit
    # one persist, then one computation per point visited (start + each iteration when
    # the full Newton step is accepted; a rejected trial costs one more)
    assert res.ncompute == res.nit + 1 + _rejected(res), res
    assert c.count == 1 + res.ncompute
    assert res.nhev == res.ncompute and res.nfev == 0


@pytest.mark.parametrize("kind", ["logistic", "poisson"])
def test_newton_cg_computations(kind):
    X, y, Xd, yd = _data(kind)
    f = LOSSES[kind]
    ref = optim.newton(f, np.zeros(X.shape[1]), args=(X, y), method="cg")
    with Computations() as c:
        res = optim.newton(f, np.zeros(X.shape[1]), args=(Xd, yd), method="cg")
    assert res.converged
    np.testing.assert_allclose(res.x, ref.x, rtol=0, atol=1e-8)
    assert res.nit == ref.nit and res.nhvp == ref.nhvp == sum(res.history.cg_iterations)
    # one computation per point (value and gradient) and one per CG product
    assert res.ncompute == res.ngev + res.nhvp
    assert c.count == 1 + res.ncompute
    assert res.ngev == res.nit + 1 + _rejected(res)


def test_gradient_descent_one_computation_per_point():
    X, y, Xd, yd = _data("logistic")
    ref = optim.gradient_descent(logistic, np.zeros(X.shape[1]), args=(X, y), tol=1e-7)
    with Computations() as c:
        res = optim.gradient_descent(logistic, np.zeros(X.shape[1]), args=(Xd, yd), tol=1e-7)
    assert res.converged
    np.testing.assert_allclose(res.x, ref.x, rtol=0, atol=1e-8)
    assert res.nit == ref.nit
    # each trial point of the line search is one computation (value and gradient
    # together), and the accepted one serves the next iteration
    assert res.ncompute == ref.nfev + 1
    assert c.count == 1 + res.ncompute


@pytest.mark.parametrize("method", ["L-BFGS-B", "BFGS"])
def test_minimize_one_computation_per_evaluation(method):
    X, y, Xd, yd = _data("poisson")
    ref = optim.minimize(poisson, np.zeros(X.shape[1]), args=(X, y), method=method,
                         options={"gtol": 1e-10})
    with Computations() as c:
        res = optim.minimize(poisson, np.zeros(X.shape[1]), args=(Xd, yd), method=method,
                             options={"gtol": 1e-10})
    np.testing.assert_allclose(res.x, ref.x, rtol=0, atol=1e-8)
    assert res.nfev == ref.nfev and res.ncompute == res.nfev
    assert c.count == 1 + res.ncompute
    assert ref.ncompute == 0


def test_minimize_newton_cg_hessp():
    X, y, Xd, yd = _data("logistic")
    ref = optim.minimize(logistic, np.zeros(X.shape[1]), args=(X, y), method="trust-ncg")
    with Computations() as c:
        res = optim.minimize(logistic, np.zeros(X.shape[1]), args=(Xd, yd),
                             method="trust-ncg")
    np.testing.assert_allclose(res.x, ref.x, rtol=0, atol=1e-8)
    assert res.ncompute == res.nfev + res.nhvp
    assert c.count == 1 + res.ncompute


def test_persist_once_and_off():
    """The data's graph runs once (persist) with persist=True, at every computation with
    persist=False; the answers agree."""
    X, y, _, _ = _data("logistic")
    calls = []

    def load(block):
        if block.size:                  # not map_blocks' call on an empty meta block
            calls.append(1)
        return block
    Xd = da.from_array(X, chunks=(100, X.shape[1])).map_blocks(load, dtype=float)
    yd = da.from_array(y, chunks=100)
    on = optim.newton(logistic, np.zeros(X.shape[1]), args=(Xd, yd), method="exact")
    n_on = len(calls)
    calls.clear()
    off = optim.newton(logistic, np.zeros(X.shape[1]), args=(Xd, yd), method="exact",
                       persist=False)
    n_blocks = Xd.numblocks[0]
    assert n_on == n_blocks                               # read once
    assert len(calls) >= off.ncompute * n_blocks          # read at every computation
    np.testing.assert_allclose(on.x, off.x, rtol=0, atol=1e-12)


def test_closure_over_dask_data():
    """Data closed over by the objective is lazy too (not persisted: the caller's)."""
    X, y, Xd, yd = _data("poisson")
    ref = optim.newton(lambda w: poisson(w, X, y), np.zeros(X.shape[1]))
    with Computations() as c:
        res = optim.newton(lambda w: poisson(w, Xd, yd), np.zeros(X.shape[1]))
    np.testing.assert_allclose(res.x, ref.x, rtol=0, atol=1e-8)
    assert c.count == res.ncompute > 0


def test_numpy_data_counts_no_computation():
    X, y, _, _ = _data("logistic")
    res = optim.newton(logistic, np.zeros(X.shape[1]), args=(X, y))
    assert res.converged and res.ncompute == 0
    assert res.nfev + res.ngev >= res.nit + 1


def test_value_and_grad_on_dask_is_lazy():
    """The premise: the optimisers' gradient is a Dask value, computed by nobody until
    asked."""
    X, y, Xd, yd = _data("logistic")
    with Computations() as c:
        v, g = cr.value_and_grad(logistic)(np.zeros(X.shape[1]), Xd, yd)
    assert c.count == 0 and dask.is_dask_collection(g)
    np.testing.assert_allclose(g.compute(), cr.grad(logistic)(np.zeros(X.shape[1]), X, y),
                               rtol=0, atol=1e-12)


def test_dask_parameters_are_refused():
    """Parameters stay NumPy (small, in memory); a Dask x0 would be computed silently by
    np.asarray, so it is refused with the way out."""
    X, y, Xd, yd = _data("logistic")
    with pytest.raises(TypeError, match="Dask array as a parameter"):
        optim.newton(logistic, da.zeros(X.shape[1], chunks=2), args=(Xd, yd))
    with pytest.raises(TypeError, match="Dask array as a parameter"):
        optim.minimize(logistic, {"w": da.zeros(X.shape[1], chunks=2)}, args=(X, y))


class GraphBytes(Callback):
    """The pickled size of each computed graph, the data's own chunks left out."""

    def __init__(self, *data):
        super().__init__()
        self.names = {d.name for d in data}
        self.sizes = []

    def _start(self, dsk):
        import pickle
        tasks = {k: v for k, v in dict(dsk).items()
                 if not (isinstance(k, tuple) and k[0] in self.names)}
        try:
            self.sizes.append(len(pickle.dumps(tasks)))
        except Exception:                           # noqa: BLE001 (a task pickle refuses)
            import cloudpickle
            self.sizes.append(len(cloudpickle.dumps(tasks)))


@pytest.mark.parametrize("method", ["exact", "cg"])
def test_newton_graphs_do_not_grow_with_n(method):
    """What a pass ships does not grow with the number of rows (4 chunks either way): no
    n-element NumPy constant (a broadcast seed) is embedded in the graph."""
    sizes = {}
    for n in (400, 40_000):
        X, y, Xd, yd = _data("logistic", n=n, chunks=n // 4)
        with GraphBytes(Xd, yd) as gb:
            optim.newton(logistic, np.zeros(X.shape[1]), args=(Xd, yd), method=method,
                         max_iter=1)
        sizes[n] = max(gb.sizes[1:])                # [0] is the persist
    assert sizes[40_000] < 1.5 * sizes[400] + 20_000, sizes     # 40,000 rows: 320 kB
