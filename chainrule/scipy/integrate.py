"""chainrule.scipy.integrate: differentiable ``scipy.integrate``; every other name is SciPy's own."""
import scipy.integrate as _sp

from .._src.numpy import dispatch as _dispatch
from .._src.scipy import api as _api  # noqa: F401  (registers every function)

globals().update(_dispatch.PUBLIC.get("scipy.integrate", {}))


def __getattr__(name):
    try:
        return getattr(_sp, name)
    except AttributeError:
        raise AttributeError(f"module 'chainrule.scipy.integrate' has no attribute {name!r}") from None
