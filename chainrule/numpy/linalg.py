"""chainrule.numpy.linalg: differentiable ``numpy.linalg``."""
import numpy.linalg as _npl

from .._src.numpy import dispatch as _dispatch
from .._src.numpy import api as _api  # noqa: F401

globals().update(_dispatch.PUBLIC.get("numpy.linalg", {}))
LinAlgError = _npl.LinAlgError


def __getattr__(name):
    return getattr(_npl, name)
