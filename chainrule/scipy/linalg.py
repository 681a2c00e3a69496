"""chainrule.scipy.linalg: differentiable ``scipy.linalg``; every other name is SciPy's own."""
import scipy.linalg as _sp

from .._src.numpy import dispatch as _dispatch
from .._src.scipy import api as _api  # noqa: F401  (registers every function)

globals().update(_dispatch.PUBLIC.get("scipy.linalg", {}))


def __getattr__(name):
    try:
        return getattr(_sp, name)
    except AttributeError:
        raise AttributeError(f"module 'chainrule.scipy.linalg' has no attribute {name!r}") from None
