"""jit sees what NumPy would see of the names its function reads (graph/environment.py).

A name rebound between calls (a global, a closure cell, an attribute, a dict or list
item) and a small array read with NumPy itself while traced (``a[0]``, ``float(a)``,
``a.sum()``) that was written into since trace again; arrays the compiled program reads
on every call (the batch filled in place) do not.
"""
import warnings

import numpy as np

import chainrule as cr
import chainrule.numpy as cnp

x = np.ones(3)
LR = 0.5
TABLE = np.array([1.0, 2.0, 3.0])


def test_a_rebound_global_number_is_seen():
    global LR
    f = cr.jit(lambda x: x * LR)
    np.testing.assert_array_equal(f(x), 0.5 * x)
    LR = 2.0
    try:
        np.testing.assert_array_equal(f(x), 2.0 * x)
        np.testing.assert_array_equal(cr.jit(cr.grad(lambda x: cnp.sum(x * x) * LR))(x),
                                      4.0 * x)
    finally:
        LR = 0.5
    np.testing.assert_array_equal(f(x), 0.5 * x)
    assert f.cache_info().retraces == 2


def test_an_array_read_by_numpy_while_traced_is_copied_and_compared():
    f = cr.jit(lambda x: TABLE[0] * x + float(TABLE.sum()))
    np.testing.assert_array_equal(f(x), 1.0 * x + 6.0)
    TABLE[0] = 5.0
    try:
        np.testing.assert_array_equal(f(x), 5.0 * x + 10.0)
        g = cr.jit(cr.grad(lambda x: cnp.sum(cnp.sin(x)) * TABLE[1]))
        np.testing.assert_allclose(g(x), 2.0 * np.cos(x))
        TABLE[1] = -1.0
        np.testing.assert_allclose(g(x), -np.cos(x))
    finally:
        TABLE[:] = [1.0, 2.0, 3.0]


def test_closure_cells_attributes_and_items_rebound():
    scale = 1.0

    def bump():
        nonlocal scale
        scale = 3.0
    f = cr.jit(lambda x: x * scale)
    f(x)
    bump()
    np.testing.assert_array_equal(f(x), 3.0 * x)

    class Model:
        pass
    m = Model()
    m.W = np.eye(3)
    g = cr.jit(lambda x: m.W @ x)
    g(x)
    m.W = 2.0 * np.eye(3)
    np.testing.assert_array_equal(g(x), 2.0 * x)

    params = {"w": np.array([1.0, 2.0, 3.0])}
    h = cr.jit(cr.grad(lambda x: cnp.sum(params["w"] * x * x)))
    np.testing.assert_array_equal(h(x), 2.0 * params["w"])
    params["w"] = np.array([-1.0, 0.0, 4.0])
    np.testing.assert_array_equal(h(x), 2.0 * params["w"])

    layers = [np.ones(3)]
    k = cr.jit(lambda x: layers[0] * x)
    k(x)
    layers[0] = np.full(3, 7.0)
    np.testing.assert_array_equal(k(x), 7.0 * x)


def test_arrays_the_program_reads_every_call_do_not_retrace():
    batch = np.zeros(3)
    f = cr.jit(cr.value_and_grad(lambda w: cnp.sum((batch - w) ** 2)))
    for i in range(5):
        batch[:] = i                        # filled in place, as a data loader does
        v, g = f(np.zeros(3))
        assert v == 3.0 * i * i
        np.testing.assert_array_equal(g, -2.0 * batch)
    assert f.cache_info().retraces == 0 and f.cache_info().misses == 1


def test_a_side_effect_on_a_global_does_not_retrace_every_call():
    state = {"calls": 0}

    def f(x):
        state["calls"] += 1                 # (a Python side effect: runs when traced)
        return x * 2.0
    jf = cr.jit(f)
    for _ in range(4):
        jf(x)
    assert jf.cache_info().retraces == 0 and state["calls"] == 1


def test_stale_variants_are_dropped_and_rebinding_every_call_warns():
    global LR
    f = cr.jit(lambda x: x * LR)
    try:
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            for i in range(12):
                LR = float(i)
                np.testing.assert_array_equal(f(x), i * x)
        assert any("re-traced 10 times" in str(m.message) for m in w)
        assert f.cache_info().size == 1
    finally:
        LR = 0.5


def test_arrays_reached_through_a_module_or_nested_transformations_are_live():
    import types
    config = types.ModuleType("user_config")    # a user's module: config.S, config.W
    config.S = np.array(1.5)
    config.W = [np.array([1.0, 2.0, 3.0])]

    def f(x):
        return cnp.exp(x * config.S) * config.W[0]
    f.__globals__["user_config_for_test"] = config
    g = eval("lambda x: cnp.sum(user_config_for_test.W[0] * cnp.exp(x * user_config_for_test.S))",
             f.__globals__)
    hess = cr.jacrev(cr.grad(g))                # (three wrappers deep)
    jhess = cr.jit(hess)
    try:
        for _ in range(3):
            np.testing.assert_allclose(jhess(x), hess(x), rtol=1e-12)
            config.S[...] = config.S + 0.25     # written in place
        config.S = np.array(-1.0)               # rebound in the module
        np.testing.assert_allclose(jhess(x), hess(x), rtol=1e-12)
    finally:
        del f.__globals__["user_config_for_test"]


class _Slotted:
    __slots__ = ("W", "s")

    def __init__(self):
        self.W, self.s = np.array([1.0, 2.0, 3.0]), 1.0


def test_attributes_in_slots_are_walked():
    m = _Slotted()
    f = lambda x: cnp.sum(m.W * cnp.sin(x)) * m.s      # noqa: E731
    jg = cr.jit(cr.grad(f))
    np.testing.assert_allclose(jg(x), cr.grad(f)(x))
    m.s = 3.0                                           # rebound
    np.testing.assert_allclose(jg(x), cr.grad(f)(x))
    m.W = m.W + 1.0                                     # rebound
    np.testing.assert_allclose(jg(x), cr.grad(f)(x))
    m.W[0] = 10.0                                       # written in place
    np.testing.assert_allclose(jg(x), cr.grad(f)(x))
    n = jg.cache_info().retraces
    jg(x)
    assert jg.cache_info().retraces == n


def test_class_attributes_and_a_callable_objects_call_are_walked():
    class Model:
        W = np.array([1.0, 2.0, 3.0])
        lr = 1.0

        def loss(self, x):
            return cnp.sum(self.W * cnp.sin(x)) * self.lr

    m = Model()
    jg = cr.jit(cr.grad(m.loss))
    np.testing.assert_allclose(jg(x), cr.grad(m.loss)(x))
    Model.lr = 3.0                                      # a class attribute rebound
    np.testing.assert_allclose(jg(x), cr.grad(m.loss)(x))
    Model.W = Model.W + 1.0
    np.testing.assert_allclose(jg(x), cr.grad(m.loss)(x))
    Model.W[0] = 10.0
    np.testing.assert_allclose(jg(x), cr.grad(m.loss)(x))
    m.lr = -2.0                                         # the instance's own hides it
    np.testing.assert_allclose(jg(x), cr.grad(m.loss)(x))

    class Call:
        def __call__(self, x):
            return cnp.sum(TABLE * cnp.sin(x)) * LR
    global LR
    c = Call()
    jc = cr.jit(cr.grad(c))
    try:
        np.testing.assert_allclose(jc(x), cr.grad(c)(x))
        LR = 4.0                                        # a global its __call__ reads
        np.testing.assert_allclose(jc(x), cr.grad(c)(x))
    finally:
        LR = 0.5
