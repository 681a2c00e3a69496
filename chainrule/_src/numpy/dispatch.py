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
from ..core import _state, Tracer
from . import aliasing

HANDLED_FUNCTIONS = {}    # numpy function -> chainrule wrapper (__array_function__)
HANDLED_UFUNCS = {}       # numpy ufunc -> chainrule wrapper (__array_ufunc__)
PUBLIC = {}               # module name ("numpy", "numpy.linalg", ...) -> {name: fn}


def numpy_function(np_fn, module="numpy", name=None, view=None, eager=None, layout=None,
                   fast=None):
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

    ``fast``, for the reductions (sum, mean, max, min), is tried first inside a
    transformation when the call is ``f(tracer[, axis][, axis=][, keepdims=])`` and
    nothing else: ``fast(trace, a, axis, keepdims)`` returns the result, binding the
    same primitives with the same parameters as ``traced`` would, or None to decline
    (the call then takes the full path). It must decline wherever ``traced`` could
    return ``a`` itself, raise, or read a value.
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
        # (the full path's own calls back into ``wrapper`` stay on it)
        public = wrapper if fast is None else _with_fast_path(wrapper, direct, fast)
        public.__doc__ = _doc(np_fn, traced, module, fname)
        public.traced = traced
        public.numpy_function = np_fn
        if np_fn is not None:
            if isinstance(np_fn, np.ufunc):
                HANDLED_UFUNCS[np_fn] = public
            else:
                HANDLED_FUNCTIONS[np_fn] = public
        PUBLIC.setdefault(module, {})[fname] = public
        return public
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


def _with_fast_path(full, direct, fast):
    """``full`` (a :func:`numpy_function` wrapper) behind the fast path of a reduction
    (see ``fast`` there)."""
    @functools.wraps(full)
    def wrapper(*args, **kwargs):
        trace = _state.trace
        if trace is None:
            return direct(*args, **kwargs)
        nargs = len(args)
        if (nargs == 1 or nargs == 2) and isinstance(args[0], Tracer):
            axis = args[1] if nargs == 2 else None
            keepdims = False
            if kwargs:
                left = len(kwargs)
                if "keepdims" in kwargs:
                    keepdims = kwargs["keepdims"]
                    left -= 1
                if nargs == 1 and "axis" in kwargs:
                    axis = kwargs["axis"]
                    left -= 1
                if left:
                    return full(*args, **kwargs)
            out = fast(trace, args[0], axis, keepdims)
            if out is not None:
                return out
        return full(*args, **kwargs)
    return wrapper


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
