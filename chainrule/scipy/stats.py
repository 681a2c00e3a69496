"""chainrule.scipy.stats: distributions as namespaces of differentiable methods
(``norm.logpdf(x, loc=0, scale=1)``, ...). Each namespace falls back to SciPy's own
distribution object for other methods; every other name is ``scipy.stats``'s own."""
import sys as _sys

import scipy.stats as _sp

from .._src.numpy import dispatch as _dispatch
from .._src.scipy import api as _api  # noqa: F401  (registers every function)
from .._src.scipy import stats as _stats

globals().update(_dispatch.PUBLIC.get("scipy.stats", {}))     # also "norm.logpdf", ...
_distributions = _stats.namespaces()
globals().update(_distributions)
# each distribution is also a module: import chainrule.scipy.stats.norm as norm (as for
# autograd's and JAX's)
_sys.modules.update({f"{__name__}.{k}": v for k, v in _distributions.items()})


def __getattr__(name):
    try:
        return getattr(_sp, name)
    except AttributeError:
        raise AttributeError(f"module 'chainrule.scipy.stats' has no attribute {name!r}") from None
