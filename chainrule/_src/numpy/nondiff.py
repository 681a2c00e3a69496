"""NumPy functions whose outputs carry no derivative (integer, boolean or index
results, and array creation). Inside a transformation they run NumPy on the
concrete values of their traced arguments; there is nothing to differentiate."""
import numpy as np

from .dispatch import numpy_function
from .basic import concrete




NONDIFF_FUNCTIONS = [
    "argwhere", "nonzero", "flatnonzero", "count_nonzero",
    "searchsorted", "digitize", "isclose", "allclose", "array_equal", "array_equiv",
    "all", "any", "isreal", "iscomplex", "isscalar", "lexsort", "shares_memory", "may_share_memory", "isin", "in1d",
    "zeros_like", "ones_like", "empty_like", "full_like", "iscomplexobj",
    "isneginf", "isposinf", "nanargmax", "nanargmin",
]


def _make(np_fn):
    @numpy_function(np_fn, name=np_fn.__name__)
    def fn(*args, **kwargs):
        return np_fn(*concrete(args), **{k: concrete(v) for k, v in kwargs.items()})
    fn.__doc__ = (f"``numpy.{np_fn.__name__}``: not differentiable (its result carries no "
                  "derivative); works on traced values through their concrete values.")
    return fn


for _name in NONDIFF_FUNCTIONS:
    _np_fn = getattr(np, _name, None)
    if _np_fn is not None and not isinstance(_np_fn, np.ufunc) and callable(_np_fn):
        if _name in ("zeros_like", "ones_like", "empty_like", "full_like", "iscomplexobj"):
            continue   # defined in basic.py
        _make(_np_fn)
