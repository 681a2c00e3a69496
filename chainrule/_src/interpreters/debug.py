"""debug_nans: a trace at the bottom of the stack that checks every primitive's
output for NaN and names the primitive and the user's source line.

Forward values are checked as they are computed. Derivatives are checked when the
backward pass runs under the same trace; the reverse trace then reports the source
line where the offending primitive was called in the forward pass.
"""
import functools
import os
import sys

import numpy as np

from .. import backend
from ..core import Trace, _state, Zero, Tracer, materialize

_PKG_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def user_site():
    """'file:line' of the innermost stack frame outside chainrule."""
    f = sys._getframe(1)
    while f is not None:
        fn = f.f_code.co_filename
        if not os.path.abspath(fn).startswith(_PKG_DIR) and "contextlib" not in fn:
            return f"{fn}:{f.f_lineno}"
        f = f.f_back
    return "<unknown>"


def _has_nan(x):
    if isinstance(x, (list, tuple)):
        return any(_has_nan(a) for a in x)
    if isinstance(x, Zero) or x is None:
        return False
    while isinstance(x, Tracer):     # look at the underlying values (a whole vmap batch)
        x = x.primal if hasattr(x, "primal") else x.val
    x = materialize(x)               # a cotangent with a pending scale factor
    if type(x) is not np.ndarray and backend.is_lazy(x):
        raise NotImplementedError(
            "debug_nans on lazy (Dask) arrays: checking every intermediate would compute "
            "the graph once per operation. Run the function on a NumPy slice of the data "
            "under debug_nans, or compute the result and check it.")
    try:
        return bool(np.any(np.isnan(x)))
    except TypeError:
        return False


class NaNCheckTrace(Trace):
    __slots__ = ()

    def process(self, prim, args, params):
        ans = self.in_parent(prim, args, params)
        if _has_nan(ans) and not _has_nan(list(args)):
            raise FloatingPointError(
                f"debug_nans: primitive '{prim.name}' produced NaN, called at {user_site()}")
        return ans


def _site_key(out):
    """A tape entry's key in ``trace.where``: its output node (the first one of a
    multiple-result primitive). Nodes, not tape positions: checkpoint records and
    recomputes on side tapes."""
    if type(out) is list:
        return next((n for n in out if n is not None), None)
    return out


def record_site(trace, out):
    trace.where[_site_key(out)] = user_site()


def annotate(err, trace, out, prim):
    site = trace.where.get(_site_key(out), "<unknown>")
    err.args = (f"debug_nans: the derivative (vjp) of primitive '{prim}' produced NaN; "
                f"it was called in the forward pass at {site}",)


def check_cotangents(ct, in_cts):
    """A vjp rule turned NaN-free cotangents into NaN ones."""
    if not _has_nan(ct) and any(c is not None and _has_nan(c) for c in in_cts):
        raise FloatingPointError("NaN in a derivative")


def check_tangent(prim, tangents, t_ans):
    if not _has_nan(list(tangents)) and _has_nan(t_ans):
        raise FloatingPointError(
            f"debug_nans: the derivative (jvp) of primitive '{prim.name}' produced NaN, "
            f"called at {user_site()}")


class debug_nans:
    """Raise on the first primitive whose value or derivative is NaN: a context manager
    and a decorator (``@debug_nans`` or ``@debug_nans()``: every call of the function
    runs with the checks on).

    Parameters
    ----------
    enabled : bool
        False turns the checks off (a context that changes nothing).

    Examples
    --------
    >>> with cr.debug_nans():                            # doctest: +SKIP
    ...     cr.grad(lambda x: cnp.sqrt(x) * 0.0)(0.0)
    >>> @cr.debug_nans                                   # doctest: +SKIP
    ... def loss(x):
    ...     return cnp.sum(cnp.log(x))
    """

    def __new__(cls, enabled=True):
        if callable(enabled):               # @debug_nans without parentheses
            return cls()(enabled)
        return super().__new__(cls)

    def __init__(self, enabled=True):
        if not isinstance(enabled, (bool, int)):
            raise TypeError(f"debug_nans: enabled must be a bool, got {enabled!r}")
        self.enabled = enabled

    def __call__(self, fun):
        """Decorate ``fun``: each call runs inside its own ``debug_nans`` context (so
        the decorated function may be called recursively or from several threads)."""
        if not callable(fun):
            raise TypeError(f"debug_nans()(fun): fun must be a callable, got "
                            f"{type(fun).__name__}")
        enabled = self.enabled

        @functools.wraps(fun)
        def checked(*args, **kwargs):
            with debug_nans(enabled):
                return fun(*args, **kwargs)
        return checked

    def __enter__(self):
        self.saved = _state.trace
        if self.enabled:
            _state.nan_checks += 1
            _state.trace = NaNCheckTrace(self.saved)
        return self

    def __exit__(self, *exc):
        if self.enabled:
            _state.nan_checks -= 1
        _state.trace = self.saved
