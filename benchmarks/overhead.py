"""Per-call overhead of chainrule.numpy outside any transformation.

``cnp.sin(x)`` on a plain ndarray must cost (almost) what ``np.sin(x)`` costs:
the target is a median difference of at most 1 microsecond per call.  The
arrays are small so that the call overhead, not the arithmetic, dominates.
Peers are shown for context, each on its own array type (autograd.numpy on
ndarrays, jax.numpy on jax arrays including dispatch and block_until_ready,
torch on tensors).
"""

from __future__ import annotations

import numpy as np

from . import peers
from .harness import Target, Workload, register

# name -> (numpy-style function name, argument names)
PRIMITIVES = {
    "sin": ("sin", ("x",)),
    "add": ("add", ("x", "y")),
    "sum": ("sum", ("x",)),
    "dot": ("dot", ("A", "B")),
}


def make_data(seed=0):
    rng = np.random.default_rng(seed)
    return {"x": rng.standard_normal(100), "y": rng.standard_normal(100),
            "A": rng.standard_normal((10, 10)), "B": rng.standard_normal((10, 10))}


def _thunk(fn, args):
    if len(args) == 1:
        (a,) = args
        return lambda: fn(a)
    a, b = args
    return lambda: fn(a, b)


def _add(prim):
    fname, argnames = PRIMITIVES[prim]
    w = register(Workload(
        name=f"overhead_{prim}", family="overhead",
        description=f"{fname}({', '.join(argnames)}) outside any transformation "
                    "(x, y: 100 floats; A, B: 10x10)",
        make_data=make_data, target=Target(delta_us=1.0), display="delta", rtol=1e-12))

    def args(d, convert=lambda a: a):
        return [convert(d[n]) for n in argnames]

    @w.impl("numpy")
    def _numpy(d):
        return _thunk(getattr(np, fname), args(d))

    @w.impl("chainrule")
    def _chainrule(d):
        _, cnp = peers.chainrule()
        return _thunk(getattr(cnp, fname), args(d))

    @w.impl("autograd")
    def _autograd(d):
        _, anp = peers.autograd()
        return _thunk(getattr(anp, fname), args(d))

    @w.impl("jax")
    def _jax(d):
        _, jnp = peers.jax()
        fn = getattr(jnp, fname)
        a = args(d, jnp.asarray)
        if len(a) == 1:
            return lambda: fn(a[0]).block_until_ready()
        return lambda: fn(a[0], a[1]).block_until_ready()

    @w.impl("torch")
    def _torch(d):
        th = peers.torch()
        fn = {"sin": th.sin, "add": th.add, "sum": th.sum, "dot": th.mm}[fname]
        return _thunk(fn, args(d, th.from_numpy))

    return w


for _p in PRIMITIVES:
    _add(_p)
