"""chainrule.scipy.stats: distributions as namespaces of differentiable methods
(``norm.logpdf(x, loc=0, scale=1)``, ...). Each namespace falls back to SciPy's own
distribution object for other methods; every other name is ``scipy.stats``'s own."""
import scipy.stats as _sp

from .._src.numpy import dispatch as _dispatch
from .._src.scipy import api as _api  # noqa: F401  (registers every function)
from .._src.scipy import stats as _stats

globals().update(_dispatch.PUBLIC.get("scipy.stats", {}))     # also "norm.logpdf", ...
globals().update(_stats.namespaces())


def __getattr__(name):
    try:
        return getattr(_sp, name)
    except AttributeError:
        raise AttributeError(f"module 'chainrule.scipy.stats' has no attribute {name!r}") from None
