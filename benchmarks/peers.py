"""Lazy, optional imports of chainrule and the peer libraries.

Each getter returns the module (configured for float64) or raises
``Unavailable``; results are cached so a missing library is looked up once.
None of these libraries is a dependency of chainrule: they are oracles and
points of comparison for the benchmarks only.
"""

from __future__ import annotations

import functools
import os

from .harness import Unavailable


def _unavailable(name, exc):
    return Unavailable(f"{name} not importable ({type(exc).__name__}: {exc})")


@functools.lru_cache(None)
def chainrule():
    """(cr, cnp) or Unavailable."""
    try:
        import chainrule as cr
        import chainrule.numpy as cnp
    except Exception as e:
        raise _unavailable("chainrule", e) from e
    return cr, cnp


@functools.lru_cache(None)
def autograd():
    """(autograd, autograd.numpy) or Unavailable."""
    try:
        import autograd as ag
        import autograd.numpy as anp
    except Exception as e:
        raise _unavailable("autograd", e) from e
    return ag, anp


@functools.lru_cache(None)
def jax():
    """(jax, jax.numpy) with float64 enabled, or Unavailable."""
    try:
        import jax as jx
        jx.config.update("jax_enable_x64", True)
        jx.config.update("jax_platforms", "cpu")
        import jax.numpy as jnp
    except Exception as e:
        raise _unavailable("jax", e) from e
    return jx, jnp


@functools.lru_cache(None)
def torch():
    """torch (float64 default dtype) or Unavailable."""
    try:
        import torch as th
    except Exception as e:
        raise _unavailable("torch", e) from e
    th.set_default_dtype(th.float64)
    return th


def configure_threads(n: int | None) -> dict:
    """Give every library the same thread count (before it is first used).

    ``n=None`` leaves each library's default.  JAX's XLA CPU client reads its
    threading flags once, at backend creation, so this must run before any JAX
    array exists; only single-threaded operation can be requested there.
    """
    info = {"requested": n}
    if n is None:
        return info
    if n == 1:
        flags = os.environ.get("XLA_FLAGS", "")
        if "xla_cpu_multi_thread_eigen" not in flags:
            os.environ["XLA_FLAGS"] = (flags + " --xla_cpu_multi_thread_eigen=false").strip()
    try:
        th = torch()
        th.set_num_threads(n)
    except Unavailable:
        pass
    try:
        import threadpoolctl

        # Kept alive for the whole process: limits every BLAS/OpenMP pool loaded so far.
        info["_limiter"] = threadpoolctl.threadpool_limits(limits=n)
    except ImportError:
        info["threadpoolctl"] = "not installed: BLAS threads not set"
    return info
