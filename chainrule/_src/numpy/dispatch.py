"""How a chainrule.numpy function reaches NumPy or a trace.

Every public function has the same shape: outside any transformation it calls
NumPy's own function with the caller's arguments (one thread-local read of
overhead); inside one it runs its traced implementation, which binds primitives.
:func:`numpy_function` builds that wrapper from a NumPy function and a traced
implementation, and records the pair so that plain ``np.foo(tracer)`` calls
(``__array_function__``) reach the same code.
"""
import functools

import numpy as np

from .. import backend
from ..core import _state
from . import aliasing

HANDLED_FUNCTIONS = {}    # numpy function -> chainrule wrapper (__array_function__)
HANDLED_UFUNCS = {}       # numpy ufunc -> chainrule wrapper (__array_ufunc__)
PUBLIC = {}               # module name ("numpy", "numpy.linalg", ...) -> {name: fn}


def numpy_function(np_fn, module="numpy", name=None, view=None, eager=None, layout=None):
    """Decorator: make ``traced`` the in-transformation version of ``np_fn``.

    The returned function calls ``np_fn`` directly when no transformation is active,
    so a user who never differentiates pays one thread-local read per call. ``eager``,
    if given, is called there instead: for a function that another backend implements
    with other rules (Dask's ``cholesky`` returns the upper factor), so that the value
    outside a transformation is the one inside it.

    ``view`` says what NumPy's function returns, for the aliasing of traced arrays
    (``aliasing.py``): None, a new array (a result that is one of the arguments is
    copied); ``"always"`` / ``"readonly"``, a view of the first argument; ``"maybe"``,
    a view when NumPy can avoid a copy (reshape, ravel); ``"split"``, a list of views
    of the first argument; ``"each"``, output k a view of argument k; ``"real"`` /
    ``"imag"``, the parts of a complex array; ``"identity"``, possibly the argument
    itself (asarray). A traced ``out=`` argument is written in place.

    ``layout`` says how NumPy lays out a new result in memory, where chainrule's
    implementation computes it otherwise (whether a later ``reshape``/``ravel`` of it
    is a view depends on that layout): None, the result is computed by NumPy's own
    function (a primitive's ``impl``), so its layout is NumPy's; else an order of
    ``aliasing.fresh_layout`` ("C", "F", "K", "A", "lapack"), a list of them (one
    per output) or a function of the arguments that returns one
    (``aliasing.numpy_allocation``). It applies to the user's calls only.
    """
    def deco(traced):
        fname = name or traced.__name__

        local, register = aliasing._local, aliasing.register
        direct = np_fn if eager is None else eager

        @functools.wraps(traced)
        def wrapper(*args, **kwargs):
            if _state.trace is None:
                return direct(*args, **kwargs)
            if local.depth:                      # called by chainrule's own code
                return traced(*args, **kwargs)
            if kwargs and view is None and kwargs.get("out") is not None:
                return aliasing.write_out(kwargs.pop("out"), wrapper(*args, **kwargs))
            local.depth = 1
            try:
                out = traced(*args, **kwargs)
            finally:
                local.depth = 0
            if view is None:                     # a new array, never an argument itself
                for a in args:
                    if a is out:
                        return aliasing.copy_of(out)
                if layout is not None:
                    return aliasing.numpy_allocation(out, layout, args, kwargs)
                return out
            return register(view, wrapper, args, kwargs, out)
        wrapper.__doc__ = _doc(np_fn, traced, module, fname)
        wrapper.traced = traced
        wrapper.numpy_function = np_fn
        if np_fn is not None:
            if isinstance(np_fn, np.ufunc):
                HANDLED_UFUNCS[np_fn] = wrapper
            else:
                HANDLED_FUNCTIONS[np_fn] = wrapper
        PUBLIC.setdefault(module, {})[fname] = wrapper
        return wrapper
    return deco


WRITES_IN_PLACE = ("it writes in place, and a Dask array cannot be written: NumPy's "
                   "fallback would write into a computed copy and leave the array as it was")


def dask_differs(np_fn, why, when=None):
    """An ``eager=`` for :func:`numpy_function`: ``np_fn`` itself, except that a Dask
    array among the positional arguments (where ``when(*args, **kwargs)`` holds, if
    given) raises NotImplementedError saying ``why``: Dask's version of the function
    departs from NumPy's, and outside transformations NumPy would hand the array to
    it. (Inside them chainrule's own rules apply.)"""
    def eager(*args, **kwargs):
        for a in args:
            if type(a) is not np.ndarray and backend.is_lazy(a) and \
                    (when is None or when(*args, **kwargs)):
                raise backend.unsupported(f"np.{np_fn.__name__}", a, why)
        return np_fn(*args, **kwargs)
    return eager


def traced_only(module="numpy", name=None):
    """Register a function that has no NumPy counterpart to fall back on."""
    def deco(fn):
        PUBLIC.setdefault(module, {})[name or fn.__name__] = fn
        return fn
    return deco


def _doc(np_fn, traced, module, name):
    own = (traced.__doc__ or "").strip()
    lib = "SciPy" if module.startswith("scipy") else "NumPy"
    head = f"Differentiable ``{module}.{name}``: {lib} semantics, float64 by default.\n\n"
    if own:
        return head + own
    return head + f"See NumPy's documentation of ``{module}.{name}``."


def no_kwargs(fn_name, **kwargs):
    """Raise for NumPy keyword arguments the traced version does not support."""
    for k, v in kwargs.items():
        if v is not None and not (k == "where" and v is True) and not (k == "casting"):
            raise NotImplementedError(
                f"chainrule.numpy.{fn_name}: the argument {k}= is not supported inside a "
                "transformation (grad, vjp, jvp, vmap, ...)")
