"""Imports every module of the scipy layer so that each registers its functions
(``dispatch.PUBLIC["scipy.special"]``, ``["scipy.stats"]``, ...)."""
from ..numpy import api as _numpy_api  # noqa: F401  (the numpy layer first)
from . import special, stats, linalg, signal  # noqa: F401
