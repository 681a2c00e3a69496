"""chainrule.scipy.integrate: ``odeint`` with SciPy's signature and values, differentiable
in ``y0``, ``t`` and the float arguments in ``args`` (``prims/ode.py``: the tangent
system in forward mode, the adjoint system solved backwards in reverse mode)."""
import functools

import numpy as np
import scipy.integrate as si

from ..core import shape_of, dtype_of
from ..prims.ode import odeint_p
from ..prims.shape import reshape
from ..numpy.basic import as_inexact, asarray_like
from ..numpy.dispatch import numpy_function

MODULE = "scipy.integrate"

_UNSUPPORTED = ("col_deriv", "full_output", "ml", "mu", "printmessg")


@functools.lru_cache(maxsize=512)
def _normalised(func, tfirst, n):
    """``func`` as ``(y, t, *args) -> (n,)`` array: lists of traced values stacked,
    SciPy's check of the returned shape."""
    def rhs(y, t, *args):
        out = func(t, y, *args) if tfirst else func(y, t, *args)
        out = as_inexact(asarray_like(out))
        s = shape_of(out)
        if len(s) > 1:
            raise RuntimeError("The array return by func must be one-dimensional, but "
                               f"got ndim={len(s)}.")
        if (s[0] if s else 1) != n:
            raise RuntimeError(f"func returned {s[0] if s else 1} values for a system "
                               f"of size {n}")
        return reshape(out, (n,)) if s != (n,) else out
    return rhs


@functools.lru_cache(maxsize=512)
def _normalised_jac(jac, tfirst):
    def dfun(y, t, *args):
        return jac(t, y, *args) if tfirst else jac(y, t, *args)
    return dfun


@numpy_function(si.odeint, module=MODULE)
def odeint(func, y0, t, args=(), Dfun=None, col_deriv=0, full_output=0, ml=None,
           mu=None, rtol=None, atol=None, tcrit=None, h0=0.0, hmax=0.0, hmin=0.0,
           ixpr=0, mxstep=0, mxhnil=0, mxordn=12, mxords=5, printmessg=0, tfirst=False):
    """Values are SciPy's (one LSODA solve of the system as given). Derivatives in
    ``y0``, ``t`` and every float array or scalar in ``args``, to any order, in forward
    mode (the tangent system [y, v]' = [f, df/dy v + df/dargs dargs]) and in reverse
    mode (the adjoint system [y, a, argsbar]' = [f, -a df/dy, -a df/dargs], solved
    backwards from each output time to the one before, as autograd's and JAX's
    odeint). Those systems are solved with the same ``rtol``, ``atol`` and step
    options (``Dfun`` serves the values' solve only): derivatives carry the solver's
    error, so ask for tight tolerances (``rtol=1e-10, atol=1e-10``) where they
    matter.

    ``func`` is called with traced values and must use chainrule-aware operations
    (``np.sin`` on a traced value is, ``math.sin`` is not); values it closes over are
    constants for the derivative: a traced value must reach it through ``args``
    (closing over one raises). Under ``vmap`` each example is its own solve.
    ``full_output``, ``col_deriv``, ``ml``/``mu`` and ``printmessg`` are refused
    inside transformations.
    """
    for name, val in zip(_UNSUPPORTED, (col_deriv, full_output, ml, mu, printmessg)):
        if val:
            raise NotImplementedError(f"chainrule.scipy.integrate.odeint: {name}= is not "
                                      "supported inside a transformation")
    if not isinstance(args, tuple):
        args = (args,)
    y0, t = as_inexact(y0), as_inexact(t)
    if dtype_of(y0).kind == "c" or dtype_of(t).kind == "c":
        raise TypeError("Cannot cast array data from dtype('complex128') to "
                        "dtype('float64') according to the rule 'safe'")
    if len(shape_of(y0)) > 1:
        raise ValueError("Initial condition y0 must be one-dimensional.")
    if len(shape_of(t)) != 1:
        t = reshape(t, (-1,)) if len(shape_of(t)) == 0 else t
        if len(shape_of(t)) != 1:
            raise ValueError("t must be one-dimensional")
    if not shape_of(y0):
        y0 = reshape(y0, (1,))
    n = shape_of(y0)[0]
    args = tuple(a if isinstance(a, (int, float, np.ndarray, np.generic)) or
                 hasattr(a, "_trace") else asarray_like(a) for a in args)
    options = dict(rtol=rtol, atol=atol, h0=h0, hmax=hmax, hmin=hmin, ixpr=ixpr,
                   mxstep=mxstep, mxhnil=mxhnil, mxordn=mxordn, mxords=mxords)
    if tcrit is not None:
        options["tcrit"] = tuple(np.asarray(tcrit, np.float64).ravel().tolist())
    for k in ("rtol", "atol"):
        v = options[k]
        if v is not None and np.ndim(v):
            options[k] = tuple(np.asarray(v, np.float64).ravel().tolist())
    opts = tuple(sorted((k, v) for k, v in options.items() if v is not None))
    jac = None if Dfun is None else _normalised_jac(Dfun, bool(tfirst))
    return odeint_p.bind(y0, t, *args, func=_normalised(func, bool(tfirst), n),
                         options=opts, jac=jac)
