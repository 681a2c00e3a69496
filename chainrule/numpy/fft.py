"""chainrule.numpy.fft: differentiable ``numpy.fft``."""
import numpy.fft as _npf

from .._src.numpy import dispatch as _dispatch
from .._src.numpy import api as _api  # noqa: F401

globals().update(_dispatch.PUBLIC.get("numpy.fft", {}))


def __getattr__(name):
    return getattr(_npf, name)
