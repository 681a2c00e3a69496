"""Transformations are thread-safe: the current-trace slot is per thread, so threads
differentiating different functions at the same time get exactly the serial results."""
import sys
import threading

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp

X = np.linspace(-1.0, 1.0, 17)

FUNS = [
    lambda x: cnp.sum(cnp.sin(x) * x),
    lambda x: cnp.sum(cnp.tanh(x) ** 2),
    lambda x: cnp.sum(cnp.exp(-x * x)),
    lambda x: cnp.sum(x ** 3) * cnp.mean(cnp.cos(x)),
]


@pytest.fixture
def fast_switching():
    """Make the interpreter switch threads very often so that traces really interleave."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(old)


def _run_concurrently(jobs, n_iter):
    barrier = threading.Barrier(len(jobs))
    results = [None] * len(jobs)
    errors = []

    def work(i):
        try:
            barrier.wait(timeout=30)
            results[i] = [jobs[i]() for _ in range(n_iter)]
        except BaseException as e:           # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    return results


@pytest.mark.parametrize("n_threads", [2, 4])
def test_concurrent_grads_equal_serial_results(n_threads, fast_switching):
    funs = FUNS[:n_threads]
    serial = [cr.grad(f)(X) for f in funs]
    jobs = [lambda f=f: cr.grad(f)(X) for f in funs]
    results = _run_concurrently(jobs, 60)
    for i, res in enumerate(results):
        for r in res:
            np.testing.assert_array_equal(r, serial[i])


def test_concurrent_mixed_transformations(fast_switching):
    f = FUNS[3]
    v = np.ones_like(X)
    jobs = [lambda: cr.grad(f)(X),
            lambda: cr.jvp(f, (X,), (v,))[1],
            lambda: cr.hvp(f, (X[:4],), (v[:4],)),
            lambda: cr.grad(cr.grad(lambda s: f(X * s)))(0.7)]
    serial = [job() for job in jobs]
    results = _run_concurrently(jobs, 15)
    for i, res in enumerate(results):
        for r in res:
            np.testing.assert_array_equal(r, serial[i])


def test_concurrent_lazy_paths_on_large_arrays(fast_switching, monkeypatch):
    """Pending scale factors and deferred evaluation (large arrays; thresholds lowered
    so that 4096-element arrays take them) under threads: exactly the serial results,
    and each thread's np.errstate stays its own."""
    from chainrule._src import core
    monkeypatch.setattr(core, "DEFER_SIZE", 1000)
    x = np.linspace(-1.0, 1.0, 4096)
    v = np.cos(x)

    def descent(a):
        y = x
        for k in range(5):
            y = y - a[k] * y
        return 0.5 * cnp.dot(y, y)
    alphas = np.linspace(0.1, 0.3, 5)
    def under_errstate():
        with np.errstate(over="raise"):       # this thread's state must not leak out
            return cr.value_and_grad(FUNS[2])(x)[1]
    jobs = [lambda: cr.grad(FUNS[1])(x),
            lambda: cr.hvp(FUNS[3], (x,), (v,)),
            lambda: cr.grad(descent)(alphas),
            under_errstate]
    serial = [job() for job in jobs]
    results = _run_concurrently(jobs, 10)
    for i, res in enumerate(results):
        for r in res:
            np.testing.assert_array_equal(r, serial[i])


def test_debug_nans_in_one_thread_does_not_affect_another(fast_switching):
    started = threading.Event()
    done = threading.Event()
    seen = {}

    def checker():
        with cr.debug_nans(), np.errstate(invalid="ignore"):
            started.set()
            done.wait(timeout=30)
            try:
                cr.grad(lambda x: cnp.log(x))(-1.0)
            except FloatingPointError:
                seen["checker"] = "raised"

    def plain():
        started.wait(timeout=30)
        with np.errstate(invalid="ignore"):
            seen["plain"] = cr.grad(lambda x: cnp.sum(cnp.log(x)))(np.array([-1.0]))
        done.set()

    threads = [threading.Thread(target=checker), threading.Thread(target=plain)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert seen["checker"] == "raised"
    np.testing.assert_array_equal(seen["plain"], [-1.0])


def test_tracer_from_another_thread_is_not_confused():
    # a tracer created in thread A and (wrongly) used in thread B's transformation is
    # treated as foreign there: an error, never a silently wrong derivative
    box = {}
    ready = threading.Event()
    release = threading.Event()

    def a():
        def f(x):
            box["t"] = x
            ready.set()
            release.wait(timeout=30)
            return x * 2.0
        cr.grad(f)(1.0)

    ta = threading.Thread(target=a)
    ta.start()
    ready.wait(timeout=30)
    try:
        with pytest.raises((cr.LeakedTracerError, TypeError)):
            cr.grad(lambda y: y * box["t"])(3.0)
    finally:
        release.set()
        ta.join(timeout=30)
