"""chainrule.numpy's ufuncs: one wrapper per elementwise primitive, generated from
the tables in ``prims/elementwise.py``, plus the NumPy aliases (abs, conj, ...)."""
import numpy as np

from ..core import _state
from ..prims import elementwise as ew
from .dispatch import HANDLED_UFUNCS, PUBLIC


def _make(name, np_fn, prim):
    nargs = np_fn.nin if isinstance(np_fn, np.ufunc) else 1

    if nargs == 1:
        def fn(x, /, *args, **kwargs):
            trace = _state.trace
            if trace is None:
                return np_fn(x, *args, **kwargs)
            if args or kwargs:
                _check(name, args, kwargs)
            return trace.process(prim, (x,), _NO_PARAMS)
    else:
        def fn(x, y, /, *args, **kwargs):
            trace = _state.trace
            if trace is None:
                return np_fn(x, y, *args, **kwargs)
            if args or kwargs:
                _check(name, args, kwargs)
            return trace.process(prim, (x, y), _NO_PARAMS)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"Differentiable ``numpy.{name}`` (a ufunc; ``out=``/``where=`` are "
                  f"only supported outside transformations).\n\nSee NumPy's "
                  f"documentation of ``numpy.{name}``.")
    fn.numpy_function = np_fn
    return fn


_NO_PARAMS = {}


def _check(name, args, kwargs):
    if args or any(v is not None for k, v in kwargs.items() if k != "where") or \
            kwargs.get("where", True) is not True:
        if kwargs.get("dtype") is not None and len(kwargs) == 1 and not args:
            return
        raise NotImplementedError(
            f"chainrule.numpy.{name}: out=, where=, dtype= and positional out arguments "
            "are not supported inside a transformation")


UFUNCS = {}
for _name, _prim in ew.PRIMS.items():
    if _name == "select":
        continue
    _np = getattr(np, _name)
    UFUNCS[_name] = _make(_name, _np, _prim)
    if isinstance(_np, np.ufunc):
        HANDLED_UFUNCS[_np] = UFUNCS[_name]

# NumPy's aliases and the few ufuncs that are compositions
_ALIASES = {"abs": "absolute", "conj": "conjugate", "true_divide": "divide",
            "mod": "remainder", "radians": "deg2rad", "degrees": "rad2deg",
            "bitwise_invert": "invert", "pow": "power", "acos": "arccos",
            "asin": "arcsin", "atan": "arctan", "atan2": "arctan2", "acosh": "arccosh",
            "asinh": "arcsinh", "atanh": "arctanh"}
for _alias, _target in _ALIASES.items():
    if hasattr(np, _alias):
        UFUNCS[_alias] = UFUNCS[_target]


def float_power(x, y, /, *args, **kwargs):
    """Differentiable ``numpy.float_power``: power computed in float64 (or complex128)."""
    if _state.trace is None:
        return np.float_power(x, y, *args, **kwargs)
    _check("float_power", args, kwargs)
    from ..prims.shape import convert_element_type_p
    from ..core import dtype_of
    dt = np.result_type(dtype_of(x), dtype_of(y), np.float64)
    return ew.power_p.bind(convert_element_type_p.bind(x, dtype=dt),
                           convert_element_type_p.bind(y, dtype=dt))


UFUNCS["float_power"] = float_power
HANDLED_UFUNCS[np.float_power] = float_power
PUBLIC.setdefault("numpy", {}).update(UFUNCS)

# np.real / np.imag / np.conj are plain functions (not ufuncs) on ndarrays: route them too
from .dispatch import HANDLED_FUNCTIONS  # noqa: E402
HANDLED_FUNCTIONS[np.real] = UFUNCS["real"]
HANDLED_FUNCTIONS[np.imag] = UFUNCS["imag"]
