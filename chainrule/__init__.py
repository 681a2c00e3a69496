"""chainrule: NumPy-native automatic differentiation.

JAX's composable transformations (grad, vjp, jvp, jacfwd, jacrev, hessian, hvp,
custom rules, checkpoint) over plain NumPy semantics and float64::

    import chainrule as cr
    import chainrule.numpy as cnp

    def f(x):
        return cnp.sum(cnp.tanh(x) ** 2)

    cr.grad(f)(np.ones(3))
"""
from ._src.api import (  # noqa: F401
    vmap, grad, value_and_grad, vjp, jvp, linearize, jacfwd, jacrev, jacobian, hessian, hvp,
    elementwise_grad,
)
from ._src.custom import (  # noqa: F401
    stop_gradient, custom_jvp, custom_vjp, checkpoint, remat,
)
from ._src.interpreters.debug import debug_nans  # noqa: F401
from ._src.config import config  # noqa: F401
from ._src.graph.make import make_graph, flops, compare_cost  # noqa: F401
from ._src.graph.jit import jit  # noqa: F401
from ._src.graph.ir import Graph  # noqa: F401
from ._src.core import LeakedTracerError, TracerConversionError, LazyValueError  # noqa: F401
from ._src.interpreters.batching import ConcretizationError  # noqa: F401
from . import numpy, tree_util  # noqa: F401

__version__ = "0.1.0"

__all__ = ["vmap", "grad", "value_and_grad", "vjp", "jvp", "linearize", "jacfwd", "jacrev",
           "jacobian", "hessian", "hvp", "elementwise_grad", "stop_gradient",
           "custom_jvp", "custom_vjp", "checkpoint", "remat", "debug_nans", "config",
           "LeakedTracerError", "TracerConversionError", "ConcretizationError", "LazyValueError", "numpy", "tree_util", "make_graph", "flops",
           "compare_cost", "jit", "Graph"]
