"""The first call of a jit-compiled function: tracing and compiling, not replaying.

``jit_first_call``: every timed call of ``chainrule-jit-first`` builds a
fresh ``cr.jit(cr.value_and_grad(loss))`` for the large MLP of ``mlp.py``
(784-512-512-10, batch 256) and calls it once, so each call really traces
``value_and_grad`` (running it, concretely, while recording the Graph), optimises
the Graph and generates and compiles its Python source.  Target: under 50 ms.

For the split, the same row also times one *warm* call of a jit object that has
already compiled (``chainrule-jit``), one eager call (``chainrule``) and the
hand-written NumPy pass (``numpy``, the reference); the notes give
``first call - warm call``, the price of tracing and compiling over one execution.
``jax-jit-first`` / ``jax-jit`` do the same for JAX (a fresh ``jax.jit`` of a fresh
loss closure each call, so JAX's tracing and compilation caches miss), for context.

Cells are absolute times with the difference to the NumPy pass, like the overhead rows.
"""

from __future__ import annotations

from . import mlp, peers
from .harness import Target, Workload, fmt_delta, register

FIRST_CALL_BUDGET = 0.050  # seconds


def _derived(res):
    def med(n):
        r = res.impls.get(n)
        return r.median if r is not None and r.status == "ok" and r.samples else None

    lines = []
    for lib in ("chainrule", "jax"):
        first, warm = med(f"{lib}-jit-first"), med(f"{lib}-jit")
        if first is not None and warm is not None:
            lines.append(f"{lib}: trace + compile (first call - warm call) = {fmt_delta(first - warm)}")
    return lines


w = register(Workload(
    name="jit_first_call", family="jit",
    description=("first call (trace + compile) of a fresh jit(value_and_grad(loss)), MLP "
                 f"{'-'.join(map(str, mlp.LARGE[0]))}, batch {mlp.LARGE[1]}; "
                 "warm and eager calls of the same for the split"),
    make_data=lambda: mlp.make_data(*mlp.LARGE),
    target=Target(seconds=FIRST_CALL_BUDGET, impl="chainrule-jit-first", label="first call"),
    display="delta", derived=_derived))


# The numpy, eager and warm-jit rows are mlp.py's builders (the same loss and data).
w.impl("numpy")(mlp.build_numpy)
w.impl("chainrule")(mlp.build_chainrule)
w.impl("chainrule-jit")(mlp.build_chainrule_jit)


@w.impl("chainrule-jit-first")
def _chainrule_jit_first(d):
    cr, cnp = peers.chainrule()
    loss = mlp.make_loss(cnp)
    params, x, Y = d["params"], d["x"], d["Y"]

    def run():
        jf = cr.jit(cr.value_and_grad(loss))  # fresh cache: this call traces and compiles
        return jf(params, x, Y)

    return run


w.impl("jax-jit")(mlp.build_jax_jit)


@w.impl("jax-jit-first")
def _jax_jit_first(d):
    jx, jnp, params, x, Y = mlp.jax_inputs(d)

    def run():
        # A new closure each call: JAX's caches are keyed on the function, so this traces,
        # lowers and compiles with XLA every time (the persistent disk cache is off).
        vg = jx.jit(jx.value_and_grad(mlp.make_loss(jnp)))
        return jx.block_until_ready(vg(params, x, Y))

    return run
