"""vmap: a trace whose tracers carry a batch axis.

A :class:`BatchTracer` holds the whole batch (``val``) and the position of the batch
axis in it (``bdim``); its ``shape`` is the per-example shape. Each primitive's
``batch(args, dims, **params) -> (ans, out_dim)`` rule applies the primitive once to
the whole batch, usually by moving the batch axis and shifting axis parameters.

A primitive without a batching rule (its class defines none, or the rule raises
:class:`NoBatchRule` for a case it does not handle) falls back to a Python loop over the
batch, which slices and stacks with NumPy's functions and warns once per primitive. The
op database fails for any primitive that reaches it.
"""
import warnings

import numpy as np

from .. import core
from ..core import (inherited_lift, Trace, Tracer, Primitive, _state, shape_of, dtype_of, size_of,
                    new_trace_context)


class BatchTracer(Tracer):
    """A batched value: ``val`` with its batch axis at ``bdim``.

    ``diag`` is None, or a tuple of unbatched factors of shape () or (n,) when the value
    is the one-hot basis of jacfwd/jacrev (per-example shape (n,), batch size n) scaled
    by their product ``d``: example ``i`` is ``d[i] * e_i`` and ``val`` is ``diag(d)``.
    Rules see it in ``Primitive.batch_diagonal`` (the empty tuple: the basis itself).

    ``scale`` is None, or an unbatched factor still to be applied: every example is
    ``val``'s example times ``scale`` (which broadcasts against the per-example shape
    without growing it). A chain of products with unbatched arrays, negations and sums
    over one batched array -- forward mode's tangents through elementwise functions
    under jacfwd -- then costs passes over the small factor instead of the batch
    (``Primitive.batch_scaled``); the product is formed once, by the first rule that
    needs the values (:func:`apply_scale`)."""
    __slots__ = ("val", "bdim", "diag", "scale")

    def __init__(self, trace, val, bdim, diag=None, scale=None):
        self._trace = trace
        self.val = val
        self.bdim = bdim
        self.diag = diag
        self.scale = scale

    @property
    def shape(self):
        s = shape_of(self.val)
        return s[:self.bdim] + s[self.bdim + 1:]

    @property
    def dtype(self):
        return dtype_of(self.val)

    def _describe(self):
        return "BatchTracer (vmapped value)"

    def _concrete(self):
        raise ConcretizationError(
            f"vmap: a batched value of per-example shape {self.shape} and dtype "
            f"{self.dtype} was converted to a Python bool or int (data-dependent Python "
            f"control flow such as `if x > 0:` or `while err > tol:`). Under vmap each "
            f"example may take a different branch, so there is no single answer. Write "
            f"the branch with cnp.where(cond, a, b) (or cnp.select) instead.")


class ConcretizationError(TypeError):
    pass


class NoBatchRule(NotImplementedError):
    """Raised by a batching rule for a case it does not handle: vmap then loops over the
    batch in Python (a primitive whose class defines no ``batch`` rule does the same)."""


_WARNED = set()
FALLBACK_USED = set()      # primitive names that hit the Python-loop fallback


def axis_size(args, dims):
    """The batch size of a ``batch(args, dims)`` call: the length of the batch axis
    of the first batched argument."""
    return next(shape_of(a)[d] for a, d in zip(args, dims) if d is not None)


class BatchTrace(Trace):
    __slots__ = ("axis_size")

    def __init__(self, parent, axis_size):
        self.parent = parent
        self.axis_size = axis_size
        self.lift = inherited_lift(parent)   # (inside a jit: see Trace)

    def process(self, prim, args, params):
        vals, dims, found, diags, scales = [], [], False, None, None
        for i, a in enumerate(args):
            if type(a) is BatchTracer and a._trace is self:
                vals.append(a.val)
                dims.append(a.bdim)
                found = True
                if a.diag is not None and prim.batch_diagonal is not None:
                    diags = diags or [None] * len(args)
                    diags[i] = a.diag
                elif a.scale is not None:
                    scales = scales or [None] * len(args)
                    scales[i] = a.scale
            else:
                vals.append(a)
                dims.append(None)
        if not found:
            return self.in_parent(prim, vals, params)
        if self.lift is not None:
            self.lift(vals)
        saved = _state.trace
        _state.trace = self.parent
        given = vals
        try:
            # (the basis first; a factor starts only beside an unbatched argument)
            if diags is None and prim.batch_scaled is not None and \
                    (scales is not None or None in dims):
                out = prim.batch_scaled(vals, dims, scales or [None] * len(vals),
                                        **params)
                if out is not None:
                    ans, out_dim, scale = out
                    return BatchTracer(self, ans, out_dim, None, scale)
            if scales is not None:
                vals = [v if s is None else apply_scale(v, d, s)
                        for v, d, s in zip(vals, dims, scales)]
            if diags is not None:
                out = prim.batch_diagonal(vals, dims, diags, **params)
                if out is not None:                 # (one output)
                    ans, out_dim, diag = out
                    return ans if out_dim is None else BatchTracer(self, ans, out_dim, diag)
            try:
                if type(prim).batch is Primitive.batch:
                    raise NoBatchRule(prim.name)
                ans, out_dim = prim.batch(vals, dims, **params)
            except NoBatchRule:
                if prim.name not in _WARNED:
                    _WARNED.add(prim.name)
                    warnings.warn(f"vmap: primitive '{prim.name}' has no batching rule; "
                                  f"looping over the batch in Python (slow)",
                                  RuntimeWarning, stacklevel=3)
                FALLBACK_USED.add(prim.name)
                ans, out_dim = loop_batch(prim, vals, dims, params, self.axis_size)
        except (np.linalg.LinAlgError, FloatingPointError) as e:
            if scales is not None:
                given = [v if s is None else apply_scale(v, d, s)
                         for v, d, s in zip(given, dims, scales)]
            ans, out_dim = _failed_examples(prim, given, dims, params, self.axis_size, e)
        finally:
            _state.trace = saved
        if prim.multiple_results:
            return [self.wrap(a, d) for a, d in zip(ans, out_dim)]
        return self.wrap(ans, out_dim)

    def wrap(self, val, dim):
        return val if dim is None else BatchTracer(self, val, dim)


def _failed_examples(prim, args, dims, params, size, exc):
    """The batched ``prim`` raised ``exc`` (a singular or indefinite matrix, a
    floating-point error under ``np.errstate(..., "raise")``): ``exc`` again where every
    example raises it (a loop would raise it for each), the examples' results where none
    does, and a ConcretizationError where some do: one exception for the whole batch
    would send every example through the program's ``except`` branch."""
    failed = []
    for i in range(size):
        ex = [a if d is None else np.moveaxis(a, d, 0)[i] for a, d in zip(args, dims)]
        try:
            prim.bind(*ex, **params)
        except type(exc):
            failed.append(i)
    if len(failed) == size:
        raise exc
    if not failed:
        return loop_batch(prim, args, dims, params, size)
    raise ConcretizationError(
        f"vmap: primitive '{prim.name}' raised {type(exc).__name__} ({exc}) for "
        f"example{'s' if len(failed) > 1 else ''} {failed[:10]}"
        f"{'...' if len(failed) > 10 else ''} of the batch of {size} and not for the "
        f"others. An exception is one answer for the whole batch, so a try/except "
        f"around it would treat every example alike. Handle those examples outside "
        f"vmap, or compute without raising (a check with cnp.where instead of the "
        f"exception).") from exc


def loop_batch(prim, args, dims, params, size):
    """Apply ``prim`` example by example and stack the results (the slow fallback). The
    values are sliced and stacked with NumPy's own functions, which reach chainrule's
    for traced values of outer transformations."""
    if size == 0:
        # no example to run: the examples' shapes and dtypes are those of the primitive
        # on one example of zeros (an empty batch of them; NumPy's stack has none)
        ex = [a if d is None else np.zeros(shape_of(a)[:d] + shape_of(a)[d + 1:],
                                           dtype_of(a)) for a, d in zip(args, dims)]
        out = prim.bind(*ex, **params)
        empty = [np.zeros((0,) + shape_of(o), dtype_of(o)) for o in
                 (out if prim.multiple_results else [out])]
        return (empty, [0] * len(empty)) if prim.multiple_results else (empty[0], 0)
    results = []
    for i in range(size):
        ex = [a if d is None else np.moveaxis(a, d, 0)[i] for a, d in zip(args, dims)]
        results.append(prim.bind(*ex, **params))
    if prim.multiple_results:
        outs = [np.stack([r[k] for r in results]) for k in range(len(results[0]))]
        return outs, [0] * len(outs)
    return np.stack(results), 0


def batch_flat(fun, args, in_dims, axis_size, basis=()):
    """Run ``fun(*args)`` with ``args[i]`` batched along ``in_dims[i]`` (None: not
    batched). Returns one ``(value, batch_axis)`` pair per output, ``batch_axis`` None
    for an output that does not depend on a batched input (:func:`move_batch_axis`
    puts the axis where the caller wants it). ``basis``: the positions of arguments
    that are the identity matrix, the one-hot basis of a vector (jacfwd, jacrev; see
    :class:`BatchTracer`'s ``diag``)."""
    trace = BatchTrace(_state.trace, axis_size)
    ins = [a if d is None else BatchTracer(trace, a, d, () if i in basis else None)
           for i, (a, d) in enumerate(zip(args, in_dims))]
    with new_trace_context(trace):
        outs = fun(*ins)
    return [(o.val if o.scale is None else apply_scale(o.val, o.bdim, o.scale), o.bdim)
            if type(o) is BatchTracer and o._trace is trace else (o, None) for o in outs]


def vmap_flat(fun, args, in_dims, axis_size, out_dims=None, basis=()):
    """Run ``fun(*args)`` with ``args[i]`` batched along ``in_dims[i]`` (None: not
    batched; see :func:`batch_flat`, which takes ``basis``). Returns the flat outputs
    with their batch axes at ``out_dims`` (default 0, or a callable giving them after
    the run); outputs that do not depend on a batched input are broadcast along the
    batch. The driver of vmap, jacfwd, jacrev and of the control-flow primitives'
    batching rules."""
    outs = batch_flat(fun, args, in_dims, axis_size, basis)
    if out_dims is None:
        out_dims = [0] * len(outs)
    elif callable(out_dims):
        out_dims = out_dims()
    return [move_batch_axis(v, d, axis_size, dst) for (v, d), dst in zip(outs, out_dims)]


def move_batch_axis(x, d, size, dst):
    """vmap's output ``x`` with batch axis ``d`` (None: unbatched) moved to ``dst``;
    ``dst=None`` requires ``x`` to be unbatched. (NumPy's functions, which reach
    chainrule's for traced values of outer transformations.)"""
    if d is None:
        if dst is None:
            return x
        s = shape_of(x)
        x = np.broadcast_to(np.reshape(x, (1,) + s), (size,) + s)
        if type(x) is np.ndarray and x.size <= core.BROADCAST_VIEW_SIZE:
            x = x.copy()            # small: writable, as the broadcast_to primitive gives
        d = 0
    elif dst is None:
        raise ValueError("vmap: out_axes=None for an output that is batched (it "
                         "depends on a mapped input)")
    dst %= len(shape_of(x))
    return x if d == dst else np.moveaxis(x, d, dst)


def apply_scale(val, bdim, scale):
    """The values of a batched ``val`` (batch axis ``bdim``) whose examples are each to
    be multiplied by the unbatched ``scale`` (:class:`BatchTracer`'s ``scale``). Written
    with NumPy's functions, which reach chainrule's for traced values of outer
    transformations (as :func:`loop_batch`)."""
    s = shape_of(scale)
    if s:
        k = len(shape_of(val)) - 1          # the per-example rank; scale aligns right
        lead = k - len(s)
        if lead < bdim:                     # the batch axis falls inside scale's axes
            at = bdim - lead
            scale = np.reshape(scale, s[:at] + (1,) + s[at:])
    return val * scale


def fit_scale(val, bdim, factor, pending):
    """The factor pending on every example of ``val`` (batch axis ``bdim``) once the
    unbatched ``factor`` joins ``pending`` (None: none yet), or None where it cannot
    (``Primitive.batch_scaled``; the caller multiplies out instead):

    - it must change neither the examples' shape nor the dtype, and have ``val``'s
      dtype (a scalar is converted to it, so that products of factors round as NumPy's
      products with ``val`` would: a Python float times a float32 scalar is float32);
    - a first factor must be worth deferring (``val`` has at least ``core.LAZY_SIZE``
      elements and twice as many as the factor);
    - it must keep the reassociation ``(x a) b = x (a b)`` harmless: see
      :func:`safe_factor`."""
    vs = shape_of(val)
    n = size_of(vs)
    fs = shape_of(factor)
    if pending is None and (n < core.LAZY_SIZE or n < 2 * size_of(fs)):
        return None
    example = vs[:bdim] + vs[bdim + 1:]
    if len(fs) > len(example) or any(f != 1 and f != e for f, e in
                                     zip(fs[::-1], example[::-1])):
        return None
    dt = dtype_of(val)
    if isinstance(factor, (int, float, complex, np.generic)):
        if np.result_type(dt, dtype_of(factor)) != dt:
            return None
        factor = dt.type(factor)
    elif dtype_of(factor) != dt:
        return None
    return safe_factor(factor if pending is None else pending * factor, dt)


def one_sign(a, b, subtract=False, base=None):
    """Whether ``a x + b x`` (``a x - b x`` with ``subtract``) may be ``(a + b) x`` for
    the pending factors ``a`` and ``b`` of ``x`` (``base``): exact where the factors
    are nonzero with one sign in every entry, as NumPy's ``inf - inf`` and ``0 inf``
    are nan where ``x`` is infinite. Complex factors: never.

    - concrete factors (NumPy's, or the values of forward and reverse tracers) are
      looked at;
    - staged factors (jit, make_graph) cannot be: the sum is taken and the compiled
      program is guarded on ``x`` holding no infinity (a call where it does runs as
      written);
    - lazy (Dask) factors cannot be either, and are taken: the Hessian of a GLM on Dask
      data is one pass over it (``X g - X c`` as ``X (g - c)``), which is inf where
      NumPy's is nan if ``X`` holds an infinity (a known gap, docs/vmap.md)."""
    from .staging import StagingTracer
    values, staged = [], False
    for f in (a, b):
        while isinstance(f, Tracer):
            if type(f) is StagingTracer:
                staged = True
            elif not isinstance(f, core.PrimalTracer):
                return False                # (a batched factor: no one value)
            f = f.primal
        if type(f) is not np.ndarray and not isinstance(f, (int, float, np.generic)):
            if not core.backend.is_lazy(f):
                return False
            return dtype_of(f).kind != "c"  # (lazy: the known gap)
        if np.iscomplexobj(f):
            return False
        values.append(f)
    if staged:
        # (the trace's own values are this call's result: exact now, guarded later)
        v = base.primal if type(base) is StagingTracer else None
        if type(v) is not np.ndarray or np.isinf(v).any():
            return False
        base.guard_no_infinity()
        return True
    with np.errstate(all="ignore"):
        s = np.sign(values[0]) * np.sign(values[1])
        return bool(np.all(s < 0 if subtract else s > 0))


def safe_factor(f, dtype):
    """``f`` where multiplying it into a batch of ``dtype`` later, rather than factor by
    factor as the program does, can differ from the program's values only by rounding,
    else None. Integers and booleans: always (their products wrap alike in any order).
    float16, float32 and complex64: never (their overflow is too near). float64 and
    complex128: where every entry of a concrete factor is 0 or between 2**-500 and
    2**500 in magnitude (as code generation's carried factors), so that a product
    overflows or underflows only where the program's own values pass 1e150 or so (a
    pending ``x * 1e308 - x * 1e308`` was ``x * 0``: 0 where NumPy says nan). A lazy
    or traced factor cannot be read and is taken as it is."""
    dtype = np.dtype(dtype)
    if dtype.kind not in "fc":
        return f
    if dtype.itemsize < (8 if dtype.kind == "f" else 16):
        return None
    if isinstance(f, Tracer) or not (type(f) is np.ndarray or isinstance(
            f, (int, float, complex, np.generic))):
        return f                            # (lazy or traced: not read)
    a = np.abs(f)
    return f if np.all((a == 0) | ((a >= core.FACTOR_MIN) & (a <= core.FACTOR_MAX))) \
        else None
