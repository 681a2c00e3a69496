"""odeint: the solution of y' = f(y, t, *args) at the times t, by SciPy's LSODA
(``scipy.integrate.odeint``), as one primitive with every rule.

The user's right-hand side ``func`` travels in the parameters (normalised by
``scipy/integrate.py`` to ``func(y, t, *args) -> (n,)``). Its derivatives are
chainrule's own (``jvp_flat``/``vjp_flat`` of ``func`` inside the systems below), and
every derivative rule binds ``odeint_p`` again, on a larger system, so derivatives of
derivatives (grad of grad, jvp of vjp, vmap of either) follow the same rules:

- forward mode integrates the tangent system [y, v]' = [f, df/dy v + df/dargs targs]
  from v(t0) = ty0 - f(y0, t0) tt0, and adds f(y_i, t_i) tt_i at each output time;
- reverse mode integrates the adjoint system [y, a, argsbar]' = [f, -a df/dy,
  -a df/dargs] backwards from each output time to the one before (adding that time's
  cotangent to a), the method of autograd's and JAX's odeint; t_i's cotangent is
  g_i . f(y_i, t_i), t_0's is -a(t0) . f(y0, t0).

The derivative systems are solved to the caller's ``rtol``/``atol``: derivatives
carry the solver's error, as the values do. Functions built here for a given
``func`` are cached, so that jit and compiled backward passes meet the same
parameters on every call.
"""
import functools

import numpy as np
import scipy.integrate

from ..core import Primitive, Tracer, LeakedTracerError, Zero, _state, shape_of, dtype_of, instantiate
from ..core import is_inexact, size_of
from ..interpreters.batching import axis_size, loop_batch
from ..interpreters.forward import jvp_flat
from ..interpreters.reverse import vjp_flat
from .shape import reshape, reduce_sum
from .structure import concatenate_p
from .reductions import reduce_max_p
from .elementwise import PRIMS, abs_p, select_p
from .control import stop_gradient_p


def _cat(parts):
    """The 1-D concatenation of ``parts`` (each raveled)."""
    flat = [reshape(p, (size_of(shape_of(p)),)) for p in parts]
    return flat[0] if len(flat) == 1 else concatenate_p.bind(*flat, axis=0)


def _rows(parts):
    """Stack 1-D ``parts`` as the rows of a matrix."""
    return concatenate_p.bind(*[reshape(p, (1,) + shape_of(p)) for p in parts], axis=0)


def _dense(ct, like):
    """A cotangent/tangent as an array (None or Zero: zeros shaped like ``like``)."""
    if ct is None:
        return np.zeros(shape_of(like), np.float64)
    return instantiate(ct)


_CLOSED = ("chainrule.scipy.integrate.odeint: func uses a traced value it closes over; "
           "pass it to func through args= instead (odeint differentiates in y0, t and "
           "args only)")


def _unit_scale(values):
    """A positive scalar (traced like the values, held constant for derivatives) that
    brings the (co)tangents ``values`` to largest magnitude 1; None when they are all
    zero or empty. The derivative systems are linear in the (co)tangents, but the
    solver's error control is not scale-free (atol): solving for the scaled values and
    scaling back makes a rule's result the same, to rounding, whatever factor its
    (co)tangent carries (reverse mode hands rules the base of a pending factor and
    scales afterwards)."""
    vals = [v for v in values if v is not None and type(v) is not Zero
            and size_of(shape_of(v))]
    if not vals:
        return None
    m = reduce_max_p.bind(abs_p.bind(_cat(vals)), axis=(0,), keepdims=False)
    m = stop_gradient_p.bind(m)
    ok = PRIMS["logical_and"].bind(PRIMS["greater"].bind(m, 0.0),
                                   PRIMS["less"].bind(m, np.inf))
    return select_p.bind(ok, m, 1.0)


def _derivative_options(options, backwards=False):
    """The options for a derivative system: per-component tolerances (sized for y)
    become their smallest value; ``tcrit`` is kept only for a forward solve."""
    out = []
    for k, v in options:
        if k in ("rtol", "atol") and isinstance(v, tuple):
            v = min(v)
        if k == "tcrit" and backwards:
            continue
        out.append((k, v))
    return tuple(out)


class OdeInt(Primitive):
    """``scipy.integrate.odeint(func, y0, t, args)``: outputs (len(t), len(y0)).

    Params: ``func`` (y, t, *args) -> (n,) with chainrule operations; ``options``,
    SciPy's keyword arguments as sorted (name, value) pairs, for every solve;
    ``jac``, SciPy's ``Dfun`` (y, t, *args), for the solve of the values only.
    """

    def impl(self, y0, t, *args, func, options, jac):
        saved, _state.trace = _state.trace, None
        try:
            def rhs(y, s):
                try:
                    out = func(y, s, *args)
                except LeakedTracerError as e:
                    raise LeakedTracerError(_CLOSED) from e
                if isinstance(out, Tracer):
                    raise LeakedTracerError(_CLOSED)
                return out
            kw = dict(options)
            if jac is not None:
                kw["Dfun"] = lambda y, s: jac(y, s, *args)
            return scipy.integrate.odeint(rhs, np.asarray(y0, np.float64),
                                          np.asarray(t, np.float64), **kw)
        finally:
            _state.trace = saved

    def jvp(self, primals, tangents, *, func, options, jac):
        y0, t, args = primals[0], primals[1], primals[2:]
        ty0, tt, targs = tangents[0], tangents[1], tangents[2:]
        ys = self.bind(y0, t, *args, func=func, options=options, jac=jac)
        if all(type(x) is Zero for x in tangents):
            return ys, Zero.like(ys)
        n, m = shape_of(y0)[0], shape_of(t)[0]
        scale = _unit_scale(tangents)
        if scale is not None:
            tangents = [x if type(x) is Zero else x / scale for x in tangents]
            ty0, tt, targs = tangents[0], tangents[1], tangents[2:]
        live = tuple(k for k, x in enumerate(targs) if type(x) is not Zero)
        v0 = _dense(ty0 if type(ty0) is not Zero else None, y0)
        if type(tt) is not Zero:
            v0 = v0 - func(y0, t[0], *args) * tt[0]
        both = self.bind(_cat([y0, v0]), t, *args, *[targs[k] for k in live],
                         func=_tangent_system(func, n, live),
                         options=_derivative_options(options), jac=None)
        t_ys = both[:, n:]
        if type(tt) is not Zero:
            fs = _rows([func(ys[i], t[i], *args) for i in range(m)])
            t_ys = t_ys + fs * reshape(tt, (m, 1))
        return ys, (t_ys if scale is None else t_ys * scale)

    def vjp(self, ct, ans, args, needs, *, func, options, jac):
        y0, t, fargs = args[0], args[1], args[2:]
        g, ys = instantiate(ct), ans
        scale = _unit_scale([g])
        if scale is not None:
            g = g / scale
        m, n = shape_of(ys)
        diff = tuple(k for k, a in enumerate(fargs) if needs[2 + k] and is_inexact(a))
        shapes = tuple(shape_of(fargs[k]) for k in diff)
        system = _adjoint_system(func, n, diff, shapes)
        backwards = _derivative_options(options, backwards=True)
        a = g[m - 1]
        a_plus = np.zeros(n)           # a(t0+): the adjoint at t0, without g_0
        pbar = np.zeros(sum(size_of(s) for s in shapes))
        t_bars = []
        for i in range(m - 1, 0, -1):
            if needs[1]:
                t_bars.append(reduce_sum(func(ys[i], t[i], *fargs) * g[i], (0,)))
            back = self.bind(_cat([ys[i], a, pbar]), _cat([t[i], t[i - 1]]), *fargs,
                             func=system, options=backwards, jac=None)[1]
            a_plus = back[n:2 * n]
            a = a_plus + g[i - 1]
            pbar = back[2 * n:]
        out = [a if needs[0] else None, None]
        if needs[1]:
            t0_bar = -reduce_sum(func(y0, t[0], *fargs) * a_plus, (0,))
            out[1] = _cat([t0_bar] + t_bars[::-1])
        cts = [None] * len(fargs)
        start = 0
        for k, s in zip(diff, shapes):
            size = size_of(s)
            c = reshape(pbar[start:start + size], s)
            start += size
            cts[k] = c if dtype_of(fargs[k]) == np.float64 else c.astype(dtype_of(fargs[k]))
        out += cts
        if scale is not None:
            out = [None if c is None else c * scale for c in out]
        return out

    def batch(self, args, dims, **params):
        # each example is its own solve: one system holding every example would be
        # integrated with steps chosen for all of them, and differ from SciPy's result
        # for each (by the solver's tolerance)
        return loop_batch(self, args, dims, params, axis_size(args, dims))

    def cost(self, args, ans, *, func, options, jac):
        # the solver's steps are not known in advance: the outputs' size (a lower bound)
        return int(size_of(shape_of(ans)))


@functools.lru_cache(maxsize=512)
def _tangent_system(func, n, live):
    """[y, v]' = [f(y, s, args), df/dy v + sum_k df/dargs_k targs_k] for the
    arguments ``live`` (their tangents follow the arguments)."""
    def system(Y, s, *rest):
        k = len(rest) - len(live)
        args, targs = rest[:k], rest[k:]
        tangents = [Zero.like(a) for a in args]
        for j, tg in zip(live, targs):
            tangents[j] = tg

        def f(y, *a):
            return [func(y, s, *a)]
        (dy,), (dv,) = jvp_flat(f, [Y[:n], *args], [Y[n:], *tangents])
        return _cat([dy, _dense(dv if type(dv) is not Zero else None, dy)])
    return system


@functools.lru_cache(maxsize=512)
def _adjoint_system(func, n, diff, shapes):
    """[y, a, argsbar]' = [f(y, s, args), -a df/dy, -a df/dargs_k for k in diff]."""
    def system(Y, s, *args):
        def f(y, *d):
            full = list(args)
            for j, v in zip(diff, d):
                full[j] = v
            return [func(y, s, *full)]
        (fy,), pullback = vjp_flat(f, [Y[:n], *[args[j] for j in diff]])
        cts = pullback([Y[n:2 * n]])
        parts = [fy, -_dense(cts[0], fy)]
        parts += [-_dense(c, np.empty(sh)) for c, sh in zip(cts[1:], shapes)]
        return _cat(parts)
    return system


odeint_p = OdeInt("odeint")
