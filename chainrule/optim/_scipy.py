"""``minimize``: SciPy's optimisers fed with exact derivatives from chainrule."""
import inspect

import numpy as np

import chainrule as cr

from . import _lazy
from ._tree import _scalar, as_args, ravel_pytree

__all__ = ["minimize"]

# SciPy methods by what they use (lower-case names).
_NO_GRADIENT = {"nelder-mead", "powell", "cobyla", "cobyqa"}
_HESS_FULL = {"dogleg", "trust-exact"}
_HESS_EITHER = {"newton-cg", "trust-ncg", "trust-krylov", "trust-constr"}
_OBJECTIVE = "minimize: the objective"      # names it in _scalar's error message


class _Evaluator:
    """Value and gradient computed together, with a one-entry cache keyed on x."""

    def __init__(self, f_flat):
        self.f_flat = f_flat
        self._vg = cr.value_and_grad(f_flat)
        self._x = None
        self._value = None
        self._grad = None
        self.n_value_and_grad = 0
        self.n_value = 0
        self.n_hess = 0
        self.n_hessp = 0
        self.n_compute = 0          # Dask computations (lazy data), one per request

    def _numpy(self, *values):
        """``values`` as float64 arrays; lazy ones computed together, once."""
        if _lazy.is_lazy(*values):
            self.n_compute += 1
        return _lazy.compute(*values)

    def _compute(self, x):
        x = np.asarray(x, dtype=np.float64)
        if self._x is None or self._x.shape != x.shape or not np.array_equal(self._x, x):
            v, g = self._numpy(*self._vg(x.copy()))
            self.n_value_and_grad += 1
            self._x = x.copy()
            self._value = _scalar(v, _OBJECTIVE)
            self._grad = g.copy()

    def fun(self, x):
        self._compute(x)
        return self._value

    def jac(self, x):
        self._compute(x)
        return self._grad.copy()

    def value_only(self, x):
        self.n_value += 1
        v, = self._numpy(self.f_flat(np.asarray(x, dtype=np.float64).copy()))
        return _scalar(v, _OBJECTIVE)

    def hess(self, x):
        self.n_hess += 1
        x = np.asarray(x, dtype=np.float64)
        H, = self._numpy(cr.hessian(self.f_flat)(x.copy()))
        return H.reshape(x.size, x.size)

    def hessp(self, x, p):
        self.n_hessp += 1
        x = np.asarray(x, dtype=np.float64)
        p = np.asarray(p, dtype=np.float64)
        return self._numpy(cr.hvp(self.f_flat, (x.copy(),), (p.copy(),)))[0]


def _wrap_callback(callback, unravel):
    if callback is None:
        return None
    try:
        params = inspect.signature(callback).parameters
    except (TypeError, ValueError):
        params = {}
    if "intermediate_result" in params:
        def cb(intermediate_result):
            r = type(intermediate_result)(intermediate_result)
            if "x" in r:
                r["x"] = unravel(np.asarray(r["x"]))
            return callback(intermediate_result=r)
        return cb

    def cb(xk, *rest):
        return callback(unravel(np.asarray(xk)), *rest)
    return cb


def minimize(fun, x0, args=(), method="BFGS", *, hessian="auto", bounds=None,
             constraints=(), tol=None, callback=None, options=None, persist=True):
    """Minimise ``fun`` with ``scipy.optimize.minimize``, given exact derivatives.

    The objective is written with ``chainrule.numpy``. SciPy receives ``jac`` (the
    exact gradient; value and gradient are computed together, once per point, by
    ``chainrule.value_and_grad``, and a one-entry cache serves SciPy's separate
    ``fun``/``jac`` calls), and, for the methods that use second derivatives,
    ``hessp`` (Hessian-vector products, ``chainrule.hvp``) or ``hess`` (the full
    Hessian, ``chainrule.hessian``). ``x0`` may be any pytree of arrays: it is
    flattened for SciPy (see :func:`ravel_pytree`) and the solution is returned in
    the same structure.

    Parameters
    ----------
    fun : callable
        ``fun(x, *args) -> scalar``.
    x0 : pytree
        Starting point (Python floats, arrays, or nested tuples/lists/dicts of them).
    args : tuple, optional
        Extra arguments of ``fun`` (not differentiated), by SciPy's rule: a tuple is
        unpacked into them, anything else is one argument (``args=[a, b]`` passes
        the list ``[a, b]`` itself, ``args=(a, b)`` passes ``a`` and ``b``).
    method : str, optional
        Any ``scipy.optimize.minimize`` method: ``"BFGS"`` (default), ``"L-BFGS-B"``,
        ``"CG"``, ``"Newton-CG"``, ``"trust-ncg"``, ``"trust-krylov"``,
        ``"trust-exact"``, ``"dogleg"``, ``"trust-constr"``, ``"TNC"``, ``"SLSQP"``,
        and the derivative-free ``"Nelder-Mead"``, ``"Powell"``, ``"COBYLA"``
        (which get the plain objective only).
    hessian : {"auto", "hessp", "full", None}, optional
        Second-order information for the methods that accept it: ``"auto"`` hands
        ``hess`` to ``dogleg``/``trust-exact`` (they need the matrix) and ``hessp``
        to ``Newton-CG``/``trust-ncg``/``trust-krylov``/``trust-constr``; ``"full"``
        hands ``hess`` wherever it is accepted; None hands neither.
    bounds, constraints, tol, options :
        Passed to SciPy unchanged; bounds refer to the flattened vector
        (``ravel_pytree(x0)[0]`` order).
    callback : callable, optional
        Called as SciPy calls it, with ``x`` (or ``intermediate_result.x``) restored
        to ``x0``'s structure.
    persist : bool, optional
        Persist the Dask arrays among ``args`` once, before SciPy starts
        (``dask.persist``), so that evaluations do not recompute the graphs that make
        them; pass False for data that should be read from disk at each evaluation.

    With Dask data (in ``args``, or closed over by ``fun``) each evaluation SciPy asks
    for is one Dask computation: value and gradient together (L-BFGS-B, BFGS, CG: one
    per function evaluation, usually one per iteration), and one per ``hessp`` product
    or ``hess``.

    Returns
    -------
    scipy.optimize.OptimizeResult
        SciPy's result, with ``x`` and ``jac`` restored to ``x0``'s pytree structure
        (float64 ndarrays) and the evaluation counts replaced by what was really
        computed: ``nfev`` = objective evaluations (each one together with its
        gradient), ``njev`` = gradient evaluations, ``nhev`` = Hessians,
        ``nhvp`` = Hessian-vector products, ``ncompute`` = Dask computations (0 for
        NumPy data); SciPy's own counts (calls it made,
        cache hits included) are kept as ``scipy_nfev``/``scipy_njev``/``scipy_nhev``.
        ``x_flat`` holds the flat solution vector.

    Examples
    --------
    >>> def rosen(p):
    ...     return (1 - p["x"]) ** 2 + 100 * (p["y"] - p["x"] ** 2) ** 2
    >>> res = minimize(rosen, {"x": -1.2, "y": 1.0}, method="BFGS")
    >>> round(float(res.x["x"]), 6), res.success
    (1.0, True)
    """
    import scipy.optimize

    flat0, unravel = ravel_pytree(x0)
    args = as_args(args)
    args = _lazy.persist(args, persist)

    def f_flat(v):
        return fun(unravel(v), *args)

    ev = _Evaluator(f_flat)
    m = method.lower() if isinstance(method, str) else None
    if hessian not in ("auto", "hessp", "full", None):
        raise ValueError("minimize: hessian must be 'auto', 'hessp', 'full' or None")
    kw = {}
    if m in _NO_GRADIENT:
        objective = ev.value_only
    else:
        objective = ev.fun
        kw["jac"] = ev.jac
        if hessian is not None and m in (_HESS_FULL | _HESS_EITHER):
            if m in _HESS_FULL or hessian == "full":
                kw["hess"] = ev.hess
            else:
                kw["hessp"] = ev.hessp
    if bounds is not None:
        kw["bounds"] = bounds
    if constraints:
        kw["constraints"] = constraints
    res = scipy.optimize.minimize(objective, flat0, method=method, tol=tol,
                                  callback=_wrap_callback(callback, unravel),
                                  options=options, **kw)
    x_flat = np.asarray(res.x, dtype=np.float64)
    res.x_flat = x_flat
    res.x = unravel(x_flat)
    if "jac" in res and res.jac is not None and np.size(res.jac) == x_flat.size:
        res.jac = unravel(np.asarray(res.jac, dtype=np.float64).reshape(-1))
    for name in ("nfev", "njev", "nhev"):
        if name in res:
            res["scipy_" + name] = res[name]
    res.nfev = ev.n_value_and_grad + ev.n_value
    res.njev = ev.n_value_and_grad
    res.nhev = ev.n_hess
    res.nhvp = ev.n_hessp
    res.ncompute = ev.n_compute
    return res
