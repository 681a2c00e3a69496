"""Deterministic optimisers with step control: gradient descent with Armijo
backtracking, and Newton's method (full Hessian or Hessian-vector products with
truncated conjugate gradients). Everything is built on ``chainrule``'s public
transformations: ``value_and_grad``, ``hessian``, ``linearize``."""
from dataclasses import dataclass, field
from typing import Any, List

import numpy as np

import chainrule as cr

from . import _lazy
from ._tree import _scalar, as_args, ravel_pytree

__all__ = ["DescentResult", "DescentHistory", "gradient_descent", "newton"]


@dataclass
class DescentHistory:
    """Per-iteration record of :func:`gradient_descent` and :func:`newton`.

    Attributes
    ----------
    f : list of float
        Objective values; ``f[0]`` is at the starting point, ``f[k]`` after iteration k.
    grad_norm : list of float
        Euclidean gradient norms at the same points.
    step_size : list of float
        The step length accepted at each iteration (``len == nit``).
    direction : list of str
        ``"gradient"`` or ``"newton"``: the direction taken at each iteration.
    cg_iterations : list of int
        Conjugate-gradient iterations per Newton step (``method="cg"`` only).
    x : list of pytrees
        The iterates, ``x[0]`` being the start (only with ``keep_path=True``).
    """
    f: List[float] = field(default_factory=list)
    grad_norm: List[float] = field(default_factory=list)
    step_size: List[float] = field(default_factory=list)
    direction: List[str] = field(default_factory=list)
    cg_iterations: List[int] = field(default_factory=list)
    x: List[Any] = field(default_factory=list)


@dataclass
class DescentResult:
    """Result of :func:`gradient_descent` or :func:`newton`.

    Attributes
    ----------
    x : pytree
        The final point, float64 ndarrays in the structure of ``x0``.
    fun : float
        Objective value at ``x``.
    grad : pytree
        Gradient at ``x`` (same structure as ``x``).
    nit : int
        Iterations taken.
    nfev : int
        Objective evaluations, line-search trials included (each gradient evaluation
        also computes the value and is counted in ``ngev`` only).
    ngev : int
        Gradient evaluations.
    nhev : int
        Full Hessian evaluations (``newton`` with ``method="exact"``).
    nhvp : int
        Hessian-vector products (``newton`` with ``method="cg"``).
    converged : bool
        True when the gradient norm fell below ``tol``.
    message : str
        Why the iteration stopped.
    history : DescentHistory
        Values, gradient norms, step sizes and directions per iteration.
    ncompute : int
        Dask computations (passes over lazy data): one per point for the value, the
        gradient and (``method="exact"``) the Hessian together, plus one per
        Hessian-vector product (``method="cg"``). 0 for NumPy data.
    """
    x: Any
    fun: float
    grad: Any
    nit: int
    nfev: int
    ngev: int
    nhev: int
    nhvp: int
    converged: bool
    message: str
    history: DescentHistory
    ncompute: int = 0

    @property
    def success(self):
        """Alias of ``converged`` (SciPy's name)."""
        return self.converged

    @property
    def jac(self):
        """Alias of ``grad`` (SciPy's name)."""
        return self.grad

    def __repr__(self):
        return (f"DescentResult(converged={self.converged}, fun={self.fun:.6g}, nit={self.nit}, "
                f"nfev={self.nfev}, ngev={self.ngev}, nhev={self.nhev}, nhvp={self.nhvp}, "
                f"message={self.message!r})")


class _Problem:
    """f on a flat float64 vector, with evaluation counters.

    With NumPy data each request computes what it asks for. With lazy (Dask) data --
    detected from the first evaluation's result -- every request at a point computes
    the value, the gradient and (``hessian=True``) the Hessian there together, in one
    Dask computation, and keeps them for the next requests at the same point: a line
    search's accepted trial then serves the whole next iteration."""

    def __init__(self, f, x0, args, persist=True, hessian=False):
        self.flat0, self.unravel = ravel_pytree(x0)
        unravel = self.unravel
        args = _lazy.persist(as_args(args), persist)

        def f_flat(v):
            return f(unravel(v), *args)
        self.f_flat = f_flat
        self._vg = cr.value_and_grad(f_flat)

        def grad_aux(v):
            value, grad = self._vg(v)
            return grad, (value, grad)
        self._grad_aux = grad_aux
        self.nfev = self.ngev = self.nhev = self.nhvp = self.ncompute = 0
        self.lazy = _lazy.is_lazy(*args)   # or found from the first evaluation's result
        self._with_hessian = hessian
        self._at = None             # lazy mode: the point of the kept results
        self._kept = None           # (value, gradient, Hessian or None) there

    def _bundle(self, x, v=None, g=None):
        """Lazy mode: (value, gradient, Hessian or None) at ``x``, one computation."""
        if self._at is not None and np.array_equal(self._at, x):
            return self._kept
        if self._with_hessian:
            # jacfwd(grad) (forward over reverse) rather than hessian (= jacfwd(jacrev)):
            # one reverse pass with p tangents instead of a vmapped reverse pass, its
            # elementwise tangents kept as one factor times the data (BatchTracer.scale),
            # and the value and gradient as its primal outputs: one graph, in which the
            # data's product with x is formed once (both graphs stay the same size as n
            # grows)
            H, (v, g) = cr.jacfwd(self._grad_aux, has_aux=True)(x)
            parts = [v, g, H]
            self.nhev += 1
        else:
            if v is None:
                v, g = self._vg(x)
            parts = [v, g]
        out = _lazy.compute(*parts)
        self.ncompute += 1
        self.ngev += 1
        n = x.size
        H = out[2].reshape(n, n) if self._with_hessian else None
        self._at, self._kept = x.copy(), (_scalar(out[0]), out[1], H)
        return self._kept

    def value(self, x):
        if self.lazy:
            return self._bundle(x)[0]
        self.nfev += 1
        return _scalar(self.f_flat(x))

    def value_and_grad(self, x):
        if self.lazy:
            return self._bundle(x)[:2]
        v, g = self._vg(x)
        if _lazy.is_lazy(v, g):
            self.lazy = True
            return self._bundle(x, v, g)[:2]
        self.ngev += 1
        return _scalar(v), np.asarray(g, dtype=np.float64)

    def hessian(self, x):
        if self.lazy and self._with_hessian:
            return self._bundle(x)[2]
        self.nhev += 1
        H = _lazy.compute(cr.hessian(self.f_flat)(x))[0]
        if self.lazy:
            self.ncompute += 1
        n = x.size
        return H.reshape(n, n)

    def grad_and_hvp(self, x):
        """Gradient at x and a function v -> H(x) v (one linearization of grad f).

        Lazy mode: the gradient comes with the value in one computation, and each
        product is one more (CG's products depend on each other: one pass over the
        data each)."""
        if self.lazy:
            g = self._bundle(x)[1]
            f_flat = self.f_flat

            def hvp(v):
                self.nhvp += 1
                self.ncompute += 1
                return _lazy.compute(cr.hvp(f_flat, (x,), (v,)))[0]
            return g, hvp
        g, lin = cr.linearize(cr.grad(self.f_flat), x)
        if _lazy.is_lazy(g):            # data closed over by f
            self.lazy = True
            return self.grad_and_hvp(x)
        self.ngev += 1

        def hvp(v):
            self.nhvp += 1
            return np.asarray(lin(v), dtype=np.float64)
        return np.asarray(g, dtype=np.float64), hvp


def _backtrack(prob, x, fx, gnorm, slope, d, alpha, c1, shrink, max_backtracks):
    """Armijo backtracking: the largest alpha * shrink**k with
    f(x + a d) <= f(x) + c1 a slope (and a real decrease).

    Near a minimum the predicted decrease can fall below the resolution of f in
    floating point (|f| * eps); there the value test cannot tell, and a trial whose
    value is within that noise is accepted if it reduces the gradient norm (by 10%, or at
    all without reversing the gradient; checked at most four times per search), so a
    jump across the valley to a mirror point is not. Returns (alpha, f_new, x_new) or (None, None, None)."""
    noise = 16.0 * np.finfo(np.float64).eps * abs(fx)
    grad_checks = 0
    for _ in range(max_backtracks + 1):
        x_new = x + alpha * d
        f_new = prob.value(x_new)
        if np.isfinite(f_new):
            if f_new <= fx + c1 * alpha * slope and f_new < fx:
                return alpha, f_new, x_new
            if abs(f_new - fx) <= noise and grad_checks < 4:
                grad_checks += 1
                _, g_new = prob.value_and_grad(x_new)
                # progress: a smaller gradient, not a jump across the valley to a mirror
                # point where the gradient is as large and points back
                gn = np.linalg.norm(g_new)
                if gn <= 0.9 * gnorm or (gn < gnorm and float(g_new @ (-d)) > 0):
                    return alpha, f_new, x_new
        alpha *= shrink
    return None, None, None


_NO_DECREASE = ("line search found no decrease (gradient norm {gnorm:.3g}: "
                "at the resolution of f in floating point, or tol too small)")
_BY_CALLBACK = "stopped by callback"


def _stop_reason(fx, gnorm, tol, nit, max_iter):
    """(converged, message) when a descent loop should stop, else None."""
    if not np.isfinite(fx):
        return False, "diverged (non-finite objective)"
    if gnorm <= tol:
        return True, "gradient norm below tol"
    if nit >= max_iter:
        return False, "maximum number of iterations reached"
    return None


def _start(prob, keep_path):
    hist = DescentHistory()
    x = prob.flat0.copy()
    if keep_path:
        hist.x.append(prob.unravel(x))
    return hist, x


def _record(prob, hist, x, fx, g, step=None, direction=None, keep_path=False,
            callback=None):
    """Append the value and gradient norm at ``x`` to ``hist``; after an iteration
    (``step`` given) also its step size, direction and (``keep_path``) the iterate, then
    call ``callback``. Returns (gradient norm, True when the callback asks to stop)."""
    gnorm = float(np.linalg.norm(g))
    hist.f.append(fx)
    hist.grad_norm.append(gnorm)
    if step is None:
        return gnorm, False
    hist.step_size.append(step)
    hist.direction.append(direction)
    if keep_path:
        hist.x.append(prob.unravel(x))
    return gnorm, bool(callback is not None and callback(prob.unravel(x), fx))


def _finish(prob, x, fx, g, nit, converged, message, hist):
    return DescentResult(x=prob.unravel(x), fun=fx, grad=prob.unravel(g), nit=nit,
                         nfev=prob.nfev, ngev=prob.ngev, nhev=prob.nhev, nhvp=prob.nhvp,
                         converged=converged, message=message, history=hist,
                         ncompute=prob.ncompute)


def gradient_descent(f, x0, *, args=(), step_size=1.0, line_search=True, c1=1e-4,
                     shrink=0.5, grow=2.0, max_step=None, max_backtracks=60, tol=1e-6,
                     max_iter=1000, callback=None, keep_path=False, persist=True):
    """Minimise ``f`` by gradient descent with an adaptive (Armijo backtracking) step.

    Each iteration moves along ``-grad f(x)``. With ``line_search=True`` the trial
    step is multiplied by ``shrink`` until the Armijo sufficient-decrease condition
    ``f(x - a g) <= f(x) - c1 a |g|^2`` (and a real decrease) holds. The first search
    starts at ``step_size``, each later one at the previous accepted step ``a`` times
    ``grow`` if it delivered at least half the decrease its slope promised
    (``f(x) - f(x - a g) >= a |g|^2 / 2``), times ``shrink`` if less than a tenth,
    unchanged otherwise (then capped at ``max_step``). With ``line_search=False`` the step is
    the constant ``step_size`` (the classic fixed-learning-rate iteration, which may
    diverge: the run then stops with ``message="diverged"``).

    Parameters
    ----------
    f : callable
        ``f(x, *args) -> scalar``, written with ``chainrule.numpy``; ``x`` may be any
        pytree of arrays.
    x0 : pytree
        Starting point.
    args : tuple, optional
        Extra arguments passed to ``f`` (not differentiated); as in :func:`minimize`,
        a tuple is unpacked and anything else is one argument.
    step_size : float, optional
        Initial (line search) or constant (no line search) step.
    line_search : bool, optional
        Use Armijo backtracking (default) or a constant step.
    c1 : float, optional
        Sufficient-decrease constant of the Armijo condition.
    shrink, grow : float, optional
        Step multipliers on rejection and at the start of the next search.
    max_step : float, optional
        Upper bound of the adaptive step.
    max_backtracks : int, optional
        Rejections allowed per iteration before giving up.
    tol : float, optional
        Stop when the Euclidean norm of the gradient is at most ``tol``.
    max_iter : int, optional
    callback : callable, optional
        ``callback(x, f_value)`` after each iteration (``x`` as a pytree); returning
        True stops the iteration.
    keep_path : bool, optional
        Record the iterates in ``result.history.x``.
    persist : bool, optional
        Persist the Dask arrays among ``args`` once, before the first iteration
        (``dask.persist``: in a cluster's memory, spilling to disk beyond its limit), so
        that iterations do not recompute the graphs that make them. Pass False for data
        read from disk that should stay there (larger than memory, local scheduler).

    Returns
    -------
    DescentResult
        ``x``, ``fun``, ``grad``, ``nit``, ``nfev``, ``ngev``, ``converged``,
        ``message`` and ``history`` (values, gradient norms, step sizes).

    Examples
    --------
    >>> res = gradient_descent(lambda x: cnp.sum((x - 3.0) ** 2), np.zeros(2))
    >>> res.x, res.converged
    (array([3., 3.]), True)
    """
    if not 0 < shrink < 1:
        raise ValueError("gradient_descent: shrink must be in (0, 1)")
    prob = _Problem(f, x0, args, persist)
    hist, x = _start(prob, keep_path)
    fx, g = prob.value_and_grad(x)
    gnorm, _ = _record(prob, hist, x, fx, g)
    alpha = float(step_size)
    nit, converged = 0, False
    while True:
        stop = _stop_reason(fx, gnorm, tol, nit, max_iter)
        if stop is not None:
            converged, message = stop
            break
        if line_search:
            a, f_new, x_new = _backtrack(prob, x, fx, gnorm, -gnorm ** 2, -g, alpha, c1,
                                         shrink, max_backtracks)
            if a is None:
                message = _NO_DECREASE.format(gnorm=gnorm)
                break
            x = x_new
            # next trial step: grow after a step that delivered at least half the decrease
            # its slope promised, shrink after one that barely decreased f (a step near
            # 2/L, which bounces across the valley), keep it otherwise
            ratio = (fx - f_new) / (a * gnorm ** 2) if gnorm > 0 else 1.0
            alpha = a * (grow if ratio >= 0.5 else shrink if ratio < 0.1 else 1.0)
            if max_step is not None:
                alpha = min(alpha, max_step)
        else:
            a = alpha
            x = x - a * g
        nit += 1
        fx, g = prob.value_and_grad(x)
        gnorm, stopped = _record(prob, hist, x, fx, g, a, "gradient", keep_path, callback)
        if stopped:
            message = _BY_CALLBACK
            break
    return _finish(prob, x, fx, g, nit, converged, message, hist)


def _truncated_cg(g, hvp, damping, tol, max_iter):
    """Approximately solve (H + damping I) p = -g by conjugate gradients.

    Stops on small residual, or on non-positive curvature (returning the last
    iterate, or None at the first iteration). Returns (p, iterations)."""
    z = np.zeros_like(g)
    r = g.copy()
    d = -r
    rr = float(r @ r)
    for j in range(max_iter):
        Hd = hvp(d)
        if damping:
            Hd = Hd + damping * d
        dHd = float(d @ Hd)
        if dHd <= 1e-14 * float(d @ d):
            return (None if j == 0 else z), j + 1
        a = rr / dHd
        z = z + a * d
        r = r + a * Hd
        rr_new = float(r @ r)
        if np.sqrt(rr_new) <= tol:
            return z, j + 1
        d = -r + (rr_new / rr) * d
        rr = rr_new
    return z, max_iter


def newton(f, x0, *, args=(), method="auto", line_search=True, step_size=1.0,
           damping=0.0, c1=1e-4, shrink=0.5, max_backtracks=60, tol=1e-8, max_iter=100,
           cg_tol=None, cg_max_iter=None, max_exact_size=500, callback=None,
           keep_path=False, persist=True):
    """Minimise ``f`` by Newton's method with step control.

    The direction solves ``(H + damping I) d = -g``. With ``method="exact"`` the full
    Hessian comes from ``chainrule.hessian`` and is factorised by Cholesky; when it is
    not positive definite the iteration falls back to the gradient direction
    ``d = -g`` for that step. With ``method="cg"`` only Hessian-vector products are
    used (``chainrule.linearize`` of the gradient), and the system is solved by
    truncated conjugate gradients (Newton-CG, Nocedal & Wright Alg. 7.1): CG stops
    at the forcing tolerance ``min(0.5, sqrt(|g|)) |g|`` (or ``cg_tol * |g|``) or on
    negative curvature, falling back to ``-g`` if that happens at once.
    ``method="auto"`` takes ``"exact"`` up to ``max_exact_size`` unknowns, else
    ``"cg"``.

    The step: with ``line_search=True`` Armijo backtracking along ``d`` starting at
    ``step_size`` (1 = the full Newton step, which it accepts on a quadratic); with
    ``line_search=False`` the fixed damped step ``x + step_size * d``.

    Parameters
    ----------
    f : callable
        ``f(x, *args) -> scalar``; ``x`` may be any pytree of arrays.
    x0 : pytree
        Starting point.
    args : tuple, optional
        Extra arguments of ``f`` (not differentiated); a tuple is unpacked and anything
        else is one argument, as in :func:`minimize`.
    method : {"auto", "exact", "cg"}, optional
    line_search : bool, optional
    step_size : float, optional
        Initial (line search) or fixed step along the Newton direction.
    damping : float, optional
        Levenberg-style shift ``lambda`` added to the Hessian's diagonal.
    c1, shrink, max_backtracks : optional
        Armijo constant, backtracking factor and maximum number of rejections.
    tol : float, optional
        Stop when the Euclidean norm of the gradient is at most ``tol``.
    max_iter : int, optional
    cg_tol : float, optional
        Relative CG residual tolerance (default: the forcing sequence above).
    cg_max_iter : int, optional
        Maximum CG iterations per Newton step (default: the number of unknowns).
    max_exact_size : int, optional
        Size threshold of ``method="auto"``.
    callback : callable, optional
        ``callback(x, f_value)`` after each iteration; returning True stops.
    keep_path : bool, optional
        Record the iterates in ``result.history.x``.
    persist : bool, optional
        Persist the Dask arrays among ``args`` once, before the first iteration
        (``dask.persist``: in a cluster's memory, spilling to disk beyond its limit), so
        that iterations do not recompute the graphs that make them. Pass False for data
        read from disk that should stay there (larger than memory, local scheduler).

    Returns
    -------
    DescentResult
        With ``history.direction`` telling Newton from gradient-fallback steps,
        ``nhev`` (full Hessians) and ``nhvp`` (Hessian-vector products).

    Examples
    --------
    >>> A = np.array([[3.0, 1.0], [1.0, 2.0]]); b = np.array([1.0, -1.0])
    >>> res = newton(lambda x: 0.5 * x @ A @ x - b @ x, np.zeros(2))
    >>> res.nit, np.allclose(res.x, np.linalg.solve(A, b))
    (1, True)
    """
    if method not in ("auto", "exact", "cg"):
        raise ValueError(f"newton: method must be 'auto', 'exact' or 'cg', got {method!r}")
    n = ravel_pytree(x0)[0].size
    if method == "auto":
        method = "exact" if n <= max_exact_size else "cg"
    prob = _Problem(f, x0, args, persist, hessian=(method == "exact"))
    cg_max_iter = cg_max_iter or max(n, 1)
    hist, x = _start(prob, keep_path)

    def local_model(x):
        if method == "exact":          # the Hessian is computed only if a step is taken
            fx, g = prob.value_and_grad(x)
            return fx, g, None
        g, hvp = prob.grad_and_hvp(x)
        return None, g, hvp

    fx, g, H = local_model(x)
    if fx is None:
        fx = prob.value(x)
    gnorm, _ = _record(prob, hist, x, fx, g)
    nit, converged = 0, False
    while True:
        stop = _stop_reason(fx, gnorm, tol, nit, max_iter)
        if stop is not None:
            converged, message = stop
            break
        d, kind = None, "newton"
        if method == "exact":
            H = prob.hessian(x)
            M = H + damping * np.eye(n) if damping else H
            try:
                Lc = np.linalg.cholesky(M)
                d = -np.linalg.solve(Lc.T, np.linalg.solve(Lc, g))
            except np.linalg.LinAlgError:
                d = None
        else:
            forcing = cg_tol if cg_tol is not None else min(0.5, np.sqrt(gnorm))
            d, its = _truncated_cg(g, H, damping, forcing * gnorm, cg_max_iter)
            hist.cg_iterations.append(its)
        slope = float(g @ d) if d is not None else 0.0
        if d is None or not np.all(np.isfinite(d)) or slope >= 0:
            d, kind = -g, "gradient"
            slope = -gnorm ** 2
        if line_search:
            a, f_new, x_new = _backtrack(prob, x, fx, gnorm, slope, d, float(step_size),
                                         c1, shrink, max_backtracks)
            if a is None:
                message = _NO_DECREASE.format(gnorm=gnorm)
                break
            x = x_new
        else:
            a = float(step_size)
            x = x + a * d
            f_new = None
        nit += 1
        fx_new, g, H = local_model(x)
        fx = fx_new if fx_new is not None else (f_new if f_new is not None else prob.value(x))
        gnorm, stopped = _record(prob, hist, x, fx, g, a, kind, keep_path, callback)
        if stopped:
            message = _BY_CALLBACK
            break
    return _finish(prob, x, fx, g, nit, converged, message, hist)
