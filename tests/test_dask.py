"""Derivatives of programs over Dask arrays: every transformation returns Dask arrays,
computes nothing while it runs, and gives NumPy's numbers; graphs do not grow with the
data; a cluster of processes computes them."""
import pickle

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from chainrule import LazyValueError

dask = pytest.importorskip("dask")
import dask                                # noqa: E402
import dask.array as da                     # noqa: E402
from dask_counting import Computations  # noqa: E402


def logistic(w, X, y):
    z = X @ w
    return cnp.sum(cnp.logaddexp(0, z) - y * z)


def poisson(w, X, y):
    z = X @ w
    return cnp.sum(cnp.exp(z) - y * z)


def vector(w, X, y):
    return cnp.tanh(X @ w) * y


rng = np.random.default_rng(2026)
Xn = rng.normal(size=(40, 5))
yn = (rng.random(40) < 0.5) * 1.0
w0 = 0.1 * rng.normal(size=5)
v0 = rng.normal(size=5)

TRANSFORMS = {
    "grad": lambda f, X, y: cr.grad(f)(w0, X, y),
    "value_and_grad": lambda f, X, y: cr.value_and_grad(f)(w0, X, y),
    "vjp": lambda f, X, y: cr.vjp(lambda w: f(w, X, y), w0)[1](1.0),
    "jvp": lambda f, X, y: cr.jvp(lambda w: f(w, X, y), (w0,), (v0,)),
    "linearize": lambda f, X, y: cr.linearize(lambda w: f(w, X, y), w0)[1](v0),
    "hvp": lambda f, X, y: cr.hvp(lambda w: f(w, X, y), (w0,), (v0,)),
    "hessian": lambda f, X, y: cr.hessian(f)(w0, X, y),
    "jacfwd": lambda f, X, y: cr.jacfwd(vector)(w0, X, y),
    "jacrev": lambda f, X, y: cr.jacrev(vector)(w0, X, y),
    "vmap": lambda f, X, y: cr.vmap(cr.grad(f), in_axes=(0, None, None))(
        np.stack([w0, v0]), X, y),
    "jit": lambda f, X, y: cr.jit(f)(w0, X, y),
    "jit_grad": lambda f, X, y: cr.jit(cr.grad(f))(w0, X, y),
    "grad_wrt_data": lambda f, X, y: cr.grad(f, argnums=1)(w0, X, y),
}


@pytest.fixture(autouse=True)
def synchronous():
    with dask.config.set(scheduler="synchronous"):
        yield


def _dask_data(chunk=10):
    return da.from_array(Xn, chunks=(chunk, 5)), da.from_array(yn, chunks=chunk)


@pytest.mark.parametrize("loss", [logistic, poisson], ids=["logistic", "poisson"])
@pytest.mark.parametrize("name", list(TRANSFORMS))
def test_transformation_is_lazy_and_exact(name, loss):
    X, y = _dask_data()
    counter = Computations()
    with counter:
        out = TRANSFORMS[name](loss, X, y)
        if name.startswith("jit"):          # the compiled code, on a second call
            out = TRANSFORMS[name](loss, X, y)
    assert counter.count == 0
    expected = TRANSFORMS[name](loss, Xn, yn)
    got, ref = cr.tree_util.tree_leaves(out), cr.tree_util.tree_leaves(expected)
    assert len(got) == len(ref)
    for g, e in zip(got, ref):
        assert isinstance(g, da.Array), type(g)
        np.testing.assert_allclose(g.compute(), e, rtol=1e-12, atol=1e-12)


def test_derivative_wrt_data_keeps_its_chunks():
    X, y = _dask_data(chunk=8)
    gX, gy = cr.grad(logistic, argnums=(1, 2))(w0, X, y)
    assert gX.chunks == X.chunks and gy.chunks == y.chunks


def _gradient_graph_bytes(n, transform):
    X = da.random.default_rng(0).normal(size=(n, 5), chunks=(n // 4, 5))
    y = (da.random.default_rng(1).random(n, chunks=n // 4) < 0.5) * 1.0
    return len(pickle.dumps(transform(w0, X, y))), transform(w0, X, y)


def mean_logistic(w, X, y):
    z = X @ w
    return cnp.mean(cnp.logaddexp(0, z) - y * z)


@pytest.mark.parametrize("name", ["grad", "jit_grad", "hvp", "hessian", "jacrev"])
def test_pickled_gradient_graph_does_not_grow_with_n(name):
    # (hessian, jacrev: the output basis under vmap meets the mean's broadcast)
    transform = {"grad": cr.grad(logistic), "jit_grad": cr.jit(cr.grad(logistic)),
                 "hvp": lambda w, X, y: cr.hvp(lambda w: logistic(w, X, y), (w,), (v0,))[1],
                 "hessian": cr.hessian(mean_logistic),
                 "jacrev": cr.jacrev(mean_logistic)}[name]
    small, _ = _gradient_graph_bytes(1_000, transform)
    large, _ = _gradient_graph_bytes(400_000, transform)
    # n * 8 bytes of one embedded NumPy constant would be 3.2 MB
    assert large < small + 2_000, (small, large)


def test_jitted_gradient_graph_no_larger_than_eager():
    X, y = _dask_data()
    eager = cr.grad(logistic)(w0, X, y)
    jitted = cr.jit(cr.grad(logistic))
    jitted(w0, X, y)
    compiled = jitted(w0, X, y)               # the generated code's graph
    assert len(compiled.__dask_graph__()) <= len(eager.__dask_graph__())


def test_jit_generates_no_out_buffers_for_dask():
    X, y = _dask_data()
    graph, source = cr.jit(cr.grad(logistic)).lower(w0, X, y)
    assert "out=" not in source
    _, numpy_source = cr.jit(cr.grad(logistic)).lower(w0, Xn, yn)
    assert isinstance(numpy_source, str)


def test_jit_cache_key_holds_the_array_type():
    f = cr.jit(logistic)
    X, y = _dask_data()
    a = f(w0, X, y)
    b = f(w0, Xn, yn)
    assert isinstance(a, da.Array) and isinstance(b, (float, np.floating, np.ndarray))
    np.testing.assert_allclose(a.compute(), b, rtol=1e-12)


def test_python_control_flow_on_a_lazy_value_says_compute_first():
    X, y = _dask_data()
    scheduler = dask.config.get("scheduler", None)

    def branch(w, X, y):
        loss = logistic(w, X, y)
        if loss > 0:
            return loss
        return -loss

    def to_float(w, X, y):
        return logistic(w, X, y) * float(logistic(w, X, y))

    def to_bool(w, X, y):
        return logistic(w, X, y) if bool(logistic(w, X, y)) else 0.0
    # jit records no guard on a lazy value: every read raises
    for f in (branch, to_float, to_bool):
        with pytest.raises(LazyValueError, match="compute"):
            cr.jit(f)(w0, X, y)
    # reverse and forward mode, vjp and vmap: reading a traced value raises, and so does
    # an `if` on a comparison (`loss > 0` carries no derivative: a plain Dask array,
    # whose computation is refused while the transformation runs)
    def compute_inside(w, X, y):
        return logistic(w, X, y) * (X.sum().compute() > 0)
    transforms = [(cr.grad, w0),
                  (lambda f: lambda w, X, y: cr.jvp(f, (w, X, y), (v0, da.zeros_like(X),
                                                                 da.zeros_like(y))), w0),
                  (lambda f: lambda w, X, y: cr.vjp(f, w, X, y)[0], w0),
                  (lambda f: cr.vmap(f, in_axes=(0, None, None)), np.stack([w0, w0]))]
    for f in (to_bool, branch, compute_inside):
        for k, (transform, w) in enumerate(transforms):
            if f is compute_inside and k in (1, 2):
                continue        # (there X is traced: a tracer has no .compute())
            # (vmap: a batched value has no one value either: ConcretizationError)
            errors = (LazyValueError, cr.ConcretizationError) if k == 3 else LazyValueError
            with pytest.raises(errors):
                transform(f)(w, X, y)
    # the refusal is this thread's, while the transformation runs: Dask computes again
    # afterwards, with the scheduler that was set before
    assert dask.config.get("scheduler", None) is scheduler
    assert float(X.sum().compute()) == pytest.approx(float(np.asarray(X).sum()))


def test_control_flow_on_closed_over_dask_data_says_compute_first():
    """Dask data the function closes over (not among its arguments): the first lazy
    value a traced value hands to Python (a comparison) begins the no-compute guard, in
    reverse and forward mode, nested transformations too, and it ends with the call."""
    X, y = _dask_data()
    scheduler = dask.config.get("scheduler", None)

    def branch(w):
        loss = logistic(w, X, y)
        return loss if loss > 0 else -loss

    def nested(w):                      # the comparison precedes an inner transformation
        positive = logistic(w, X, y) > 0
        g = cr.grad(lambda v: cnp.sum(v ** 2))(w)
        return cnp.sum(g) if positive else 0.0
    for transform in (cr.grad, cr.jacfwd, cr.jacrev, cr.hessian):
        for f in (branch, nested):
            with Computations() as counter, pytest.raises(LazyValueError, match="compute"):
                transform(f)(w0)
            assert counter.count == 0
    assert dask.config.get("scheduler", None) is scheduler
    # without a branch: lazy, and computed afterwards as usual
    with Computations() as counter:
        g = cr.grad(lambda w: logistic(w, X, y))(w0)
    assert counter.count == 0
    np.testing.assert_allclose(g.compute(), cr.grad(logistic)(w0, np.asarray(X),
                                                              np.asarray(y)),
                               rtol=1e-12)


def test_other_threads_compute_while_a_transformation_runs():
    import threading
    X, y = _dask_data()
    done = []

    def other():
        for _ in range(30):
            done.append(float(X.sum().compute()))
    t = threading.Thread(target=other)
    t.start()
    for _ in range(10):
        cr.grad(logistic)(w0, X, y)
    t.join()
    assert len(done) == 30 and len(set(done)) == 1


def test_unknown_chunk_sizes_are_refused():
    X, y = _dask_data()
    Xu = X[X[:, 0] > 0]                        # rows chosen by values: unknown chunks
    with pytest.raises(ValueError, match="unknown chunk sizes"):
        cr.grad(logistic)(w0, Xu, y[:Xu.shape[0]] if False else y)


def test_missing_backend_function_names_it():
    X, _ = _dask_data()
    A = X[:5]
    with pytest.raises(NotImplementedError, match="dask"):
        cr.grad(lambda A: cnp.linalg.slogdet(A.T @ A)[1])(A)


def test_debug_nans_refuses_lazy_values():
    X, y = _dask_data()
    with cr.debug_nans():
        with pytest.raises(NotImplementedError, match="debug_nans"):
            cr.grad(logistic)(w0, X, y)


def test_gradient_on_a_local_cluster_of_processes():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster, \
            distributed.Client(cluster) as client:
        X, y = _dask_data()
        X, y = client.persist([X, y])
        value, g = cr.value_and_grad(logistic)(w0, X, y)
        value, g = client.compute([value, g], sync=True)
    ref_value, ref_g = cr.value_and_grad(logistic)(w0, Xn, yn)
    np.testing.assert_allclose(value, ref_value, rtol=1e-12)
    np.testing.assert_allclose(g, ref_g, rtol=1e-12, atol=1e-12)


X3 = rng.normal(size=(3, 40, 5))


@pytest.mark.parametrize("name,fn", [
    ("vmap over a Dask axis", lambda X: cr.vmap(lambda X: cnp.sum(cnp.tanh(X @ w0)))(X)),
    ("vmap of grad over a Dask axis", lambda X: cr.vmap(
        cr.grad(lambda w, X: cnp.sum(cnp.tanh(X @ w))), in_axes=(None, 0))(w0, X)),
    ("grad of mean", lambda X: cr.grad(lambda X: cnp.mean(cnp.sin(X)))(X)),
    ("grad of max", lambda X: cr.grad(lambda X: cnp.max(X))(X)),
    ("grad of a slice", lambda X: cr.grad(lambda X: cnp.sum(X[1:3, ::2] ** 2))(X)),
    ("grad through newaxis", lambda X: cr.grad(lambda X: cnp.sum(X[:, None] * 2.0))(X)),
    ("grad of prod", lambda X: cr.grad(lambda X: cnp.prod(X[0, :3, 0]))(X)),
])
def test_more_programs_are_lazy_and_exact(name, fn):
    X = da.from_array(X3, chunks=(1, 10, 5))
    counter = Computations()
    with counter:
        out = fn(X)
    assert counter.count == 0 and isinstance(out, da.Array)
    np.testing.assert_allclose(out.compute(), fn(X3), rtol=1e-12, atol=1e-14)


# ---------------------------------------------------------------- scatter-add on Dask

def _embedding(W, X, idx):
    """W's rows picked by a (repeating) NumPy index, weighted by Dask data: the
    derivative with respect to W adds the data's rows into W's (np.add.at)."""
    return cnp.sum(W[idx] * X)


SCATTER_CASES = {
    "rows, repeated": (lambda W, X: cnp.sum(W[np.array([0, 3, 3, 1, 0, 3] * 5)] * X),
                       (4, 5), (30, 5)),
    "negative indices": (lambda W, X: cnp.sum(W[np.array([-1, 0, -1] * 10)] * X),
                         (4, 5), (30, 5)),
    "two index arrays": (lambda W, X: cnp.sum(W[np.array([0, 1, 1] * 10),
                                                np.array([2, 2, 4] * 10)] * X),
                         (3, 5), (30,)),
    "slice then array": (lambda W, X: cnp.sum(W[:, np.array([4, 0, 4, 4] * 5)] * X),
                         (3, 5), (3, 20)),
    "take": (lambda W, X: cnp.sum(cnp.take(W, np.array([2, 2, 0] * 8)) * X), (3,), (24,)),
    "broadcast value": (lambda W, X: cnp.sum(W[np.array([1, 1, 2])] * cnp.sum(X)),
                        (3, 2), (10, 2)),
}


@pytest.mark.parametrize("case", list(SCATTER_CASES))
def test_scatter_add_on_dask_is_lazy_and_exact(case):
    """The derivative of indexing with arrays on Dask data: per-chunk partial sums
    (backend.scatter_add), lazy, equal to np.add.at's."""
    f, wshape, xshape = SCATTER_CASES[case]
    r = np.random.default_rng(5)
    W, Xn_ = r.normal(size=wshape), r.normal(size=xshape)
    X = da.from_array(Xn_, chunks=tuple(max(1, n // 3) for n in xshape))
    with Computations() as counter:
        g = cr.grad(f)(W, X)
    assert isinstance(g, da.Array) and counter.count == 0
    np.testing.assert_allclose(g.compute(), cr.grad(f)(W, Xn_), rtol=1e-13, atol=1e-13)


def test_scatter_add_on_dask_complex_and_float32():
    idx = np.array([0, 2, 2, 1] * 6)
    W = np.array([1 + 2j, 0.5 - 1j, 2.0 + 0j])
    Xn_ = np.random.default_rng(6).normal(size=24) + 0j
    X = da.from_array(Xn_, chunks=7)
    f = lambda W, X: cnp.real(cnp.sum(W[idx] * X * cnp.conj(W[idx])))   # noqa: E731
    np.testing.assert_allclose(cr.grad(f)(W, X).compute(), cr.grad(f)(W, Xn_), rtol=1e-13)
    W32, X32 = np.ones(3, np.float32), np.arange(24, dtype=np.float32)
    g = cr.grad(lambda W, X: cnp.sum(W[idx] * X))(W32, da.from_array(X32, chunks=5))
    assert g.dtype == np.float32
    np.testing.assert_array_equal(g.compute(), np.bincount(idx, X32, minlength=3))


def test_scatter_add_on_dask_refuses_a_data_sized_target():
    """A partial sum per chunk of a target as large as the data would not fit: a clear
    NotImplementedError, not a memory error or a silent computation."""
    from chainrule._src import backend
    X = da.zeros((100, 4), chunks=(25, 4))
    idx = np.array([3, 3, 7, 1])
    old = backend.SCATTER_LIMIT
    backend.SCATTER_LIMIT = 100
    try:
        with pytest.raises(NotImplementedError, match="scatter-add.*dask.*exceed"):
            cr.grad(lambda X: cnp.sum(X[idx] ** 2))(X)
    finally:
        backend.SCATTER_LIMIT = old


def _random_index(rng, a):
    entries = [lambda: slice(None), lambda: slice(1, 3), lambda: slice(None, None, -2),
               lambda: 1, lambda: -1, lambda: a, lambda: None, lambda: a[:, None],
               lambda: Ellipsis, lambda: np.array([True, False, True]),
               lambda: np.array(2), lambda: np.array([[1, 0], [0, 2]]),
               lambda: np.array([], dtype=int)]
    return tuple(rng.choice(entries)() for _ in range(rng.randint(1, 5)))


@pytest.mark.parametrize("seed", range(4))
def test_random_indexing_of_dask_arrays_follows_numpy(seed):
    """Dask departs from NumPy's indexing rules without an error (advanced indices apart
    put first, index arrays of other than one dimension, None beside an array);
    chainrule rewrites the index so that values and derivatives are NumPy's, or raises
    NotImplementedError (two index arrays). Random indices of every kind."""
    import random
    rng = random.Random(seed)
    x = np.random.default_rng(seed).normal(size=(3, 4, 5, 6))
    xd = da.from_array(x, chunks=2)
    checked = 0
    for _ in range(150):
        c = _random_index(rng, np.array([0, 2, 2]))
        try:
            want = x[c]
        except IndexError:
            continue
        w = np.random.default_rng(1).normal(size=want.shape)
        f = lambda x: cnp.sum(x[c] * w)        # noqa: E731, B023
        try:
            got = cr.vjp(lambda x: x[c], xd)[0]                   # noqa: B023
            g = cr.grad(f)(xd)
        except NotImplementedError:
            continue
        np.testing.assert_array_equal(got.compute(), want, err_msg=str(c))
        np.testing.assert_allclose(g.compute(), cr.grad(f)(x), rtol=1e-13, atol=1e-13,
                                   err_msg=str(c))
        checked += 1
    assert checked > 60


@pytest.mark.parametrize("seed", range(2))
def test_random_basic_assignment_into_dask_arrays_follows_numpy(seed):
    """The cotangent of a basic index is an assignment into zeros (backend.assign, and
    backend.scatter_add for +=). Dask put values at wrong positions for some negative
    steps (74 of 5,824 random cases, and 1,564 raised); the index is normalised first."""
    import random
    from chainrule._src import backend
    rng = random.Random(seed)
    checked = 0
    for t in range(300):
        shape = tuple(rng.randint(1, 5) for _ in range(rng.randint(1, 4)))
        idx = []
        for n in shape:
            r = rng.random()
            if r < 0.3:
                idx.append(rng.randint(-n, n - 1))
            elif r < 0.8:
                idx.append(slice(rng.choice([None, rng.randint(-n, n)]),
                                 rng.choice([None, rng.randint(-n, n)]),
                                 rng.choice([1, 2, 3, -1, -2, -3])))
            if rng.random() < 0.2:
                idx.append(None)
        if rng.random() < 0.3:
            idx.insert(rng.randint(0, len(idx)), Ellipsis)
        idx = tuple(idx)
        try:
            v = np.random.default_rng(t).normal(size=np.zeros(shape)[idx].shape)
        except IndexError:              # (a None before an integer moved it an axis on)
            continue
        z = np.random.default_rng(t + 1).normal(size=shape)
        for add in (False, True):
            want = z.copy()
            if add:
                want[idx] += v
            else:
                want[idx] = v
            zd = da.from_array(z, chunks=2)
            got = backend.scatter_add(zd, idx, v) if add else backend.assign(zd, idx, v)
            np.testing.assert_array_equal(got.compute(), want, err_msg=str((shape, idx)))
            checked += 1
    assert checked > 400


@pytest.mark.parametrize("f", [lambda x: cnp.sum(cnp.unique(x)),
                               lambda x: cnp.sum(cnp.real_if_close(x + 0j)),
                               lambda x: cnp.sum(x) * cnp.array_equal(x, x)],
                         ids=["unique", "real_if_close", "array_equal"])
def test_functions_that_read_values_say_so_on_dask(f):
    """Under a transformation, a function whose result depends on the values of a lazy
    array raises LazyValueError (not the vmap message it gave, nor a computation)."""
    xd = da.from_array(np.array([3.0, 1.0, 3.0, 2.0]), chunks=2)
    with Computations() as counter, pytest.raises(LazyValueError, match="lazy Dask"):
        cr.grad(f)(xd)
    assert counter.count == 0


@pytest.mark.parametrize("chunk", range(2))
def test_random_compositions_on_dask_follow_numpy_or_raise(chunk):
    """Random compositions of NumPy/SciPy functions (tests/composition_programs.py) on a
    Dask input: the values and the gradient equal NumPy's, or the call raises
    NotImplementedError naming what Dask lacks. Never a different number."""
    from composition_programs import generate, NAMESPACE
    equal = 0
    for seed in range(9000 + 60 * chunk, 9000 + 60 * (chunk + 1)):
        p = generate(seed)
        ns = dict(NAMESPACE, np=np)
        exec(p.source, ns)
        prog, x = ns["prog"], p.input
        xd = da.from_array(x, chunks=tuple(max(1, (n + 1) // 2) for n in x.shape))
        with np.errstate(all="ignore"):
            ref = prog(x)
            ws = [np.random.default_rng(seed).normal(size=np.shape(o)) for o in ref]

            def loss(x):
                return sum(cnp.sum(o * w) for o, w in zip(prog(x), ws))
            gref = cr.grad(loss)(x)
            try:
                outs = cr.vjp(prog, xd)[0]
                g = cr.grad(loss)(xd)
            except NotImplementedError:
                continue
            outs = [np.asarray(o.compute() if hasattr(o, "compute") else o) for o in outs]
            g = np.asarray(g.compute() if hasattr(g, "compute") else g)
        for a, b in zip(outs, ref):
            assert np.shape(a) == np.shape(b), p.source
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12, err_msg=p.source)
        np.testing.assert_allclose(g, gref, rtol=1e-9, atol=1e-12, err_msg=p.source)
        equal += 1
    assert equal >= 15


_SPD = np.random.default_rng(8).normal(size=(6, 6))
_SPD = _SPD @ _SPD.T + 6 * np.eye(6)
_WEIGHTS = np.arange(36.0).reshape(6, 6) / 10
LINALG = {
    "cholesky": lambda A: cnp.sum(cnp.linalg.cholesky(A) * _WEIGHTS),
    "cholesky upper": lambda A: cnp.sum(cnp.linalg.cholesky(A, upper=True) * _WEIGHTS),
    "solve vector": lambda A: cnp.sum(cnp.linalg.solve(A, np.arange(6.0)) ** 2),
    "solve matrix": lambda A: cnp.sum(cnp.linalg.solve(A, A[:, :2]) * 3),
    "inv": lambda A: cnp.sum(cnp.linalg.inv(A) * _WEIGHTS),
}


@pytest.mark.parametrize("name", list(LINALG))
def test_linear_algebra_on_dask_is_lazy_and_numpys(name):
    """cholesky, solve and inv of a 2-d Dask matrix (dask.array.linalg): value, jit,
    gradient and Hessian-vector product lazy and equal to NumPy's. Dask's cholesky
    returns the upper factor unless told otherwise: the lower one is NumPy's, outside
    transformations too."""
    f = LINALG[name]
    Ad = da.from_array(_SPD, chunks=3)
    with Computations() as counter:
        got = [f(Ad), cr.jit(f)(Ad), cr.grad(f)(Ad), cr.hvp(f, (Ad,), (0.1 * Ad,))]
    assert counter.count == 0
    want = [f(_SPD), f(_SPD), cr.grad(f)(_SPD), cr.hvp(f, (_SPD,), (0.1 * _SPD,))]
    for g, w in zip(got, want):
        np.testing.assert_allclose(np.asarray(g.compute() if hasattr(g, "compute") else g),
                                   w, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(cnp.linalg.cholesky(Ad).compute(), np.linalg.cholesky(_SPD))


def test_linear_algebra_on_dask_stacks_raise():
    stack = da.from_array(np.stack([_SPD, _SPD]), chunks=(1, 3, 3))
    with pytest.raises(NotImplementedError, match="stack of matrices.*dask"):
        cr.grad(lambda A: cnp.sum(cnp.linalg.inv(A)))(stack)


EAGER_DIFFERS = {
    "take without axis": lambda x: cnp.take(x, np.array([0, 5, 5])),
    "percentile": lambda x: cnp.percentile(x, 30, axis=0),
    "quantile": lambda x: cnp.quantile(x, 0.3, axis=0),
    "pad with a callable": lambda x: cnp.pad(x, 1, mode=lambda v, w, i, k: None),
    "put": lambda x: cnp.put(x, [0], 1.0),
    "putmask": lambda x: cnp.putmask(x, np.ones((3, 4), bool), 1.0),
    "place": lambda x: cnp.place(x, np.ones((3, 4), bool), [1.0]),
    "fill_diagonal": lambda x: cnp.fill_diagonal(x, 1.0),
    "copyto": lambda x: cnp.copyto(x, np.ones((3, 4))),
    "put_along_axis": lambda x: cnp.put_along_axis(x, np.zeros((3, 1), int), 1.0, axis=1),
}


@pytest.mark.parametrize("name", list(EAGER_DIFFERS))
def test_functions_dask_computes_otherwise_refuse_it_outside_transformations(name):
    """Outside transformations NumPy hands a Dask array to Dask's own function. Where
    that one departs from NumPy's (found by running the op database eagerly on Dask:
    take without an axis indexes axis 0, quantiles are approximated, pad with a callable
    gives NaN, in-place writes go to a computed copy), chainrule's raises instead."""
    x = da.from_array(np.arange(12.0).reshape(3, 4), chunks=2)
    with pytest.raises(NotImplementedError, match="dask"):
        EAGER_DIFFERS[name](x)


def test_take_with_an_axis_stays_lazy_and_right():
    x = np.arange(12.0).reshape(3, 4)
    got = cnp.take(da.from_array(x, chunks=2), np.array([0, 2, 2]), axis=1)
    assert isinstance(got, da.Array)
    np.testing.assert_array_equal(got.compute(), np.take(x, [0, 2, 2], axis=1))


@pytest.mark.filterwarnings("ignore::numpy.exceptions.ComplexWarning")  # Dask's meta
@pytest.mark.parametrize("chunks", [(1, 1), 2, 4])
@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_on_dask_reads_numpys_triangle(chunks, upper):
    """NumPy's cholesky reads one triangle of a matrix that need not be symmetric; Dask's
    read the other one for some chunkings (a helper's hunt found values and gradients
    off, silently). Real and complex."""
    r = np.random.default_rng(3)
    for A in (np.triu(r.normal(size=(4, 4))) + 5 * np.eye(4),
              np.tril(r.normal(size=(4, 4)) + 1j * r.normal(size=(4, 4)), -1) + 6 * np.eye(4)):
        f = lambda A: cnp.sum(cnp.abs(cnp.linalg.cholesky(A, upper=upper)) ** 2 *    # noqa
                              np.arange(16.0).reshape(4, 4))
        Ad = da.from_array(A, chunks=chunks)
        np.testing.assert_allclose(cnp.linalg.cholesky(Ad, upper=upper).compute(),
                                   np.linalg.cholesky(A, upper=upper), rtol=1e-12)
        np.testing.assert_allclose(cr.grad(f)(Ad).compute(), cr.grad(f)(A), rtol=1e-10)


def test_a_step_slice_that_leaves_an_empty_chunk():
    """x[2:4:2] of a Dask array in chunks of 3 keeps an empty chunk, and Dask then
    broadcast its product with a length-1 array into two elements (a helper's hunt)."""
    x = np.arange(5.0)
    f = lambda x: x[2:4:2] * np.array([10.0])                 # noqa: E731
    p, t = cr.jvp(f, (da.from_array(x, chunks=3),), (da.from_array(x, chunks=3),))
    np.testing.assert_array_equal(np.asarray(t), cr.jvp(f, (x,), (x,))[1])
    g = cr.grad(lambda x: cnp.sum(f(x)))(da.from_array(x, chunks=3))
    np.testing.assert_array_equal(g.compute(), [0, 0, 10, 0, 0])


def test_derivatives_with_respect_to_the_data_keep_its_chunks():
    """A slice's cotangent is scattered into zeros whose chunks Dask chose ('auto': one
    chunk of 3.3M rows for data in chunks of 500k); the derivative comes back in the
    data's own chunks, with NumPy's values."""
    X = da.from_array(rng.normal(size=(40, 5)), chunks=((5, 15, 20), (2, 3)))
    Xn = np.asarray(X)
    for f in (lambda X: cnp.sum(X[::2] ** 2), lambda X: cnp.sum(X[1:, ::-1] ** 3),
              lambda X: cnp.sum(cnp.sum(X, 0, keepdims=True) * X)):
        with Computations() as counter:
            g = cr.grad(f)(X)
        assert counter.count == 0 and g.chunks == X.chunks
        np.testing.assert_allclose(g.compute(), cr.grad(f)(Xn), rtol=1e-12)
    big = da.zeros((4_000_000, 5), chunks=(500_000, 5))
    assert cr.grad(lambda X: cnp.sum(X[::2] ** 2))(big).chunks == big.chunks


def test_singular_rows_at_their_singular_points_on_dask():
    """SingularProduct on Dask: lazy, nothing computed during the call, NumPy's numbers
    to every order, and no RuntimeWarning when the graph runs (the derivative's
    infinities at 0 are met chunk by chunk under errstate). Its second-order
    derivative recursed without end on Dask (a lazy unit tangent cannot be seen to
    hold no zeros)."""
    import warnings
    xn = np.array([0.0, 1.0, 4.0, 0.0, 9.0])
    x = da.from_array(xn, chunks=2)
    losses = [lambda v: cnp.sum(cnp.where(v > 0, cnp.sqrt(v), 0.0)),
              lambda v: cnp.sum(v[0] * cnp.sqrt(v[1:])),
              lambda v: cnp.sum(v[1:] * cnp.log1p(v[:-1]))]
    for loss in losses:
        for tr in (cr.grad, cr.hessian):
            with Computations() as c:
                out = tr(loss)(x)
            assert c.count == 0 and isinstance(out, da.Array)
            with warnings.catch_warnings():
                warnings.simplefilter("error", RuntimeWarning)
                got = out.compute()
            np.testing.assert_array_equal(got + 0.0, tr(loss)(xn) + 0.0)
