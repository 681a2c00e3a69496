"""chainrule.numpy: NumPy's namespace, differentiable.

``import chainrule.numpy as cnp`` and write NumPy. Outside any transformation
every function is NumPy's own (it returns plain ndarrays and Python scalars);
inside ``grad``, ``vjp``, ``jvp``, ``vmap``, ... the same calls are differentiated.
Names chainrule has no derivative for are NumPy's own objects: they work on plain
arrays, and raise a clear error naming the function when given a traced value.
"""
import numpy as _np

from .._src.numpy import dispatch as _dispatch
from .._src.numpy import api as _api  # noqa: F401  (registers every function)

globals().update(_dispatch.PUBLIC["numpy"])

from . import linalg, fft, random  # noqa: E402,F401

# dtypes, constants and creation functions: NumPy's own objects
from numpy import (  # noqa: E402,F401
    pi, e, inf, nan, newaxis, euler_gamma,
    float16, float32, float64, complex64, complex128, int8, int16, int32, int64,
    uint8, uint16, uint32, uint64, bool_, intp, dtype, ndarray, generic, number,
    integer, floating, complexfloating, inexact, finfo, iinfo, errstate, printoptions,
    set_printoptions, get_printoptions,
    zeros, ones, empty, eye, identity, arange,
    indices, tri, fromfunction, frombuffer, fromiter, loadtxt, savetxt, save, load,
    mgrid, ogrid, r_, c_, s_, index_exp, ndindex, ndenumerate, broadcast_shapes,
    unravel_index, ravel_multi_index, diag_indices, tril_indices, triu_indices,
    issubdtype, promote_types, can_cast, isdtype,
)
from .._src.numpy.shape import r_, c_  # noqa: E402,F401,F811  (they see traced items)


def __getattr__(name):
    # A function registered after this import (an elementwise row added at run time)
    fn = _dispatch.PUBLIC["numpy"].get(name)
    if fn is not None:
        return fn
    # Every other NumPy name: NumPy's own object. Called on a traced value it raises
    # an error naming the function (see Tracer.__array_function__).
    try:
        return getattr(_np, name)
    except AttributeError:
        raise AttributeError(f"module 'chainrule.numpy' has no attribute {name!r}") from None
