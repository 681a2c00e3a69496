"""Imports every module of the numpy layer so that each registers its functions.

A family module defines its functions with ``@numpy_function(np.foo)`` (or
``module="numpy.linalg"``); this list is the only place that has to know it exists.
"""
from . import (basic, products, ufuncs, nondiff, reductions, shape, linalg, fft, methods,  # noqa: F401
               extra, composite, polynomial)
