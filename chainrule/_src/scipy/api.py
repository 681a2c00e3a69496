"""Imports every module of the scipy layer so that each registers its functions
(``dispatch.PUBLIC["scipy.special"]``, ``["scipy.stats"]``, ...), and finds the
differentiable version of a ufunc (NumPy's or SciPy's) applied to a traced value."""
import scipy.special as sps

from ..numpy import api as _numpy_api  # noqa: F401  (the numpy layer first)
from ..numpy.dispatch import HANDLED_UFUNCS
from . import (special, stats, distributions, linalg, matrices, signal,  # noqa: F401
               integrate)


def traced_ufunc(ufunc):
    """chainrule's version of ``ufunc`` called on a traced value (``__array_ufunc__``):
    SciPy's ufuncs (``scipy.special.expit(x)``) dispatch like NumPy's, and importing
    this module has registered chainrule.scipy's. Raises NotImplementedError naming
    the function (``scipy.special.struve``, ``numpy.frexp``) where there is none."""
    fn = HANDLED_UFUNCS.get(ufunc)
    if fn is not None:
        return fn
    name = ufunc.__name__
    if getattr(sps, name, None) is ufunc:
        raise NotImplementedError(
            f"scipy.special.{name} has no differentiable version in chainrule: it cannot "
            "be applied to a traced value. chainrule.scipy.special lists the functions "
            "that have one; for another, give it a rule with chainrule.custom_jvp or "
            "custom_vjp.")
    raise NotImplementedError(
        f"numpy.{name} has no differentiable version in chainrule: it cannot be applied "
        "to a traced value")
