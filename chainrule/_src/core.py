"""The core: primitives, traces, tracers, symbolic zeros and the current-trace slot.

This module knows no NumPy function by name. Everything else is built on four ideas:

* A :class:`Primitive` is one operation with all of its rules (``impl``, ``jvp``,
  ``vjp``, ``batch``, ``cost``). ``prim.bind(*args, **params)`` applies it.
* Dispatch is by context. One slot per thread (``_state.trace``) holds the current
  trace; ``None`` means "evaluate with NumPy". ``bind`` hands the primitive to the
  current trace, which unpacks only the tracers it owns (by identity), treats every
  other value as a constant, and runs the primitive's rules with its *parent* current.
  Transformations therefore nest to any depth and never confuse perturbations.
* A :class:`Tracer` is a value that a trace owns. Operators and NumPy methods are
  installed on it by the numpy layer.
* :class:`Zero` is a symbolic zero tangent/cotangent: rules skip work for it.
"""
import threading

import math

import numpy as np

from . import backend


class _State(threading.local):
    trace = None          # the current trace; None: plain NumPy evaluation
    nan_checks = 0        # > 0 inside debug_nans()


_state = _State()


class new_trace_context:
    """Install ``trace`` as current for the duration of a ``with`` block."""
    __slots__ = ("trace", "saved")

    def __init__(self, trace):
        self.trace = trace

    def __enter__(self):
        self.saved = _state.trace
        _state.trace = self.trace
        return self.trace

    def __exit__(self, *exc):
        _state.trace = self.saved


class Trace:
    """Base class of every transformation's interpreter.

    A trace is created by a transformation with the trace that was current as its
    ``parent``. Subclasses implement ``process(prim, args, params)``.

    ``lift``: inside a jit of a function that can reach arrays the user may write into
    between calls, the staging trace's ``lift_live`` (interpreters/staging.py), which
    the transformations apply to the values their rules compute with; else None.
    Every trace takes its parent's (``inherited_lift``).
    """
    __slots__ = ("parent", "lift", "__weakref__")

    def __init__(self, parent):
        self.parent = parent
        self.lift = inherited_lift(parent)

    def process(self, prim, args, params):  # pragma: no cover - abstract
        raise NotImplementedError

    def in_parent(self, prim, args, params):
        """Apply ``prim`` with this trace's parent current (used for constants).

        A higher-order primitive (custom_jvp/custom_vjp) runs its function with this
        trace still current instead: the function may close over values this trace
        owns even when none of its arguments is one.
        """
        if prim.higher_order:
            return prim.impl(*args, **params)
        saved = _state.trace
        _state.trace = self.parent
        try:
            return prim.bind(*args, **params)
        finally:
            _state.trace = saved


def inherited_lift(parent):
    """The ``lift`` a new trace with this parent takes (see :class:`Trace`)."""
    return None if parent is None else getattr(parent, "lift", None)


class Primitive:
    """One operation and all of its rules, and the one place its flags are documented.

    Rules (methods; override in subclasses or factories). Rules other than ``impl`` run
    with the parent trace current and are written with chainrule's own operations, so
    they can be differentiated, batched and staged in turn.

    ``impl(*args, **params)``
        Evaluate with NumPy on plain values. ``params`` are keyword-only and hashable.
    ``jvp(primals, tangents, **params) -> (ans, t_ans)``
        Forward mode. ``tangents`` holds :class:`Zero` for constant arguments.
    ``vjp(ct, ans, args, needs, **params) -> sequence of cotangents``
        Reverse mode: one entry per argument (``None`` for no contribution). Only the
        arguments whose ``needs[i]`` is true must be computed.
    ``batch(args, dims, **params) -> (ans, dim)``
        vmap: ``dims[i]`` is the batch axis of ``args[i]`` or ``None``.
    ``batch_diagonal(args, dims, diags, **params) -> (ans, dim, diag) or None``
        Optional (None: ``batch`` runs). vmap over the one-hot basis that jacfwd and
        jacrev push forward or pull back: ``diags[i]`` is None or, for a batched
        argument known to be that basis scaled by the product of some unbatched
        factors, the tuple of those factors (``interpreters/batching.py``). The rule
        returns the output's factors (or None) with it, or None for ``batch`` to run.
        What it does depends on this structure only, never on data or on the trace.
    ``batch_scaled(args, dims, scales, **params) -> (ans, dim, scale) or None``
        Optional (None: the scaled arguments are multiplied out and ``batch`` runs).
        ``scales[i]`` is None or the unbatched factor every example of the batched
        ``args[i]`` is still to be multiplied by (``interpreters/batching.py``); the
        rule returns its output the same way (``scale`` None: none pending), or None.
        The products, negation and sums of elementwise.py keep a factor pending so
        that a chain of them costs passes over the factor, not over the batch.
    ``cost(args, ans, **params) -> flops``
        Floating point operations of one application.

    What every rule author decides (class attributes):

    ``multiple_results``
        ``impl`` returns a list of outputs (``jvp``/``batch`` return lists too, and
        ``vjp`` receives a list of output cotangents).
    ``differentiable``
        False: outputs carry no derivative (comparisons, floor, argmax): every
        transformation but vmap evaluates the primitive on its arguments' values.
        :class:`NonDiffPrimitive` sets it.
    ``higher_order``
        The parameters carry a user function (custom_jvp, custom_vjp): a trace that owns
        none of the arguments still runs ``impl`` with itself current (the function may
        close over its values), and compiled backward passes leave such tapes alone.
    ``fwd(*args, **params) -> (ans, res)``, ``outputs_of(res)``
        Only for a rule that keeps something other than its outputs for ``vjp``
        (custom_vjp): reverse mode calls ``fwd`` instead of ``impl`` and hands ``res``
        to ``vjp`` as ``ans``. None for every other primitive.

    Economies (the defaults are always right; a rule that sets one promises what it
    says; the op database's lazy-paths column runs every row with them in force):

    ``vjp_uses_ans``
        False: the derivative rules never read ``ans``: the tape keeps no output, and a
        primitive with ``jvp_with_ans(primals, tangents, ans)`` (the tangent, given the
        output) lets forward mode leave the output unevaluated where the caller
        discards it (hvp). ``reads_ans(args, needs)`` may refine it per call for vjp.
    ``vjp_uses_args``
        False: ``vjp`` reads only its arguments' shapes and dtypes (the tape keeps
        :class:`ShapeDtype` of large arguments).
    ``defer``
        ``"map"`` (elementwise) or ``"sum"``: reverse mode may leave a large float64
        application unevaluated until something needs it (interpreters/deferred.py).
    ``scaled_tangents``
        ``jvp`` accepts tangents with differing pending factors (:class:`Scaled`).

    Array backends (``backend.py``):

    ``dispatches``
        True: ``impl`` works on Dask and CuPy arrays as on NumPy's, through NumPy's
        dispatch protocols and ``backend``'s functions (declared on the class that
        defines ``impl``; a table row's NumPy/SciPy ufunc always dispatches). Any other
        ``impl`` given another backend's array raises ``NotImplementedError`` naming
        the primitive and the backend, before it can convert the array (which would
        compute a Dask graph, or copy a GPU array) or give a wrong answer.

    Code generation (``graph/codegen.py`` compiles staged programs for jit, linearize
    and recurring backward passes by asking these; it knows no primitive by name). All
    optional. Operands are the graph's values: ``shape``, ``dtype``, and a constant is
    a ``staging.Literal`` whose ``val`` is its value. The simplifications run only where
    results may differ from the eager program's by rounding (not in replay's exact mode):

    ``spell(ops, ins, **params) -> str or None``
        A Python expression for one application, from the operands' source text
        ``ops`` (``a @ b``, ``x.sum(axis=(0,))``); None (the default): a call of
        ``impl``. Prefer what NumPy, CuPy and Dask arrays all understand (operators,
        methods, ``np.where``) to ufunc methods such as ``np.add.reduce``.
    ``ufunc``
        The NumPy ufunc this elementwise primitive computes (None: not one): compiled
        code may write its result into an operand that dies there (``out=``).
    ``fresh``
        The result is always a new array, never a view of an operand (reductions,
        products; a ufunc's always is): compiled code returns it without a copy.
    ``simplify(ins, graph, **params) -> operand or None``
        A cheaper way to the same output: an operand it equals (``x * 1``, ``where``
        with a constant condition), or a value built with ``graph.emit(prim, ins,
        params, shape, dtype)`` (``graph.const(value)``: a constant operand) from what
        made the operands (``graph.producer(x)``: the ``(prim, ins, params)`` that
        computed ``x``, None for inputs and constants): ``diag(d) @ y`` is
        ``d[:, None] * y``. The generator checks the shape and dtype of what it gets.
    ``combination``
        ``(c_0, c_1, ...)``: the output is ``c_0 x_0 + c_1 x_1 + ...`` (add, subtract,
        negative), so scalar factors pending on the operands add up instead of each
        costing a pass over an array.
    ``homogeneous``
        Each operand's degree (1, -1 or None; operands past the tuple: None):
        ``f(.., c x_i, ..) = c**k f(..)`` for a real scalar ``c`` (multiply ``(1, 1)``,
        divide ``(1, -1)``, linear maps ``(1,)``). A factor pending on an operand, or a
        scalar operand itself, then rides through to the output and is applied once,
        where something needs it written out (or never: ``x - a * x`` is ``(1 - a) x``).
    ``broadcast``
        True: the output is operand 0 broadcast to the output's shape (NumPy's rules),
        so an elementwise ufunc reading it may read operand 0 and broadcast it itself.

    A primitive object is shared by every thread and every trace: no trace writes
    to it (what a trace derives from the flags it keeps in its own tables).
    """
    multiple_results = False
    differentiable = True
    higher_order = False
    fwd = None
    vjp_uses_ans = True
    vjp_uses_args = True
    defer = None
    scaled_tangents = False
    jvp_with_ans = None
    batch_diagonal = None
    batch_scaled = None
    dispatches = False          # array backends (see above; read from the defining class)
    # code generation (see above)
    ufunc = None
    fresh = False
    combination = None
    homogeneous = ()
    broadcast = False

    def __init__(self, name):
        self.name = name

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        impl = cls.__dict__.get("impl")
        if impl is not None and not cls.__dict__.get("dispatches", False):
            cls.impl = _numpy_only(impl)

    def __repr__(self):
        return self.name

    def reads_ans(self, args, needs):
        """Whether ``vjp`` reads ``ans`` for these arguments (lets reverse mode skip
        computing an output nothing else needs; see ``vjp_uses_ans``)."""
        return self.vjp_uses_ans

    def spell(self, ops, ins, **params):
        """Python source computing one application (code generation); None: call
        ``impl``."""
        return None

    def simplify(self, ins, graph, **params):
        """An operand the output equals, or a cheaper value built with ``graph.emit``
        (code generation); None: none."""
        return None

    def outputs_of(self, res):
        """The outputs, given what ``fwd`` kept (only for primitives with ``fwd``)."""
        return res[0]

    def bind(self, *args, **params):
        trace = _state.trace
        if trace is None:
            return self.impl(*args, **params)
        return trace.process(self, args, params)

    def impl(self, *args, **params):
        raise NotImplementedError(f"primitive '{self.name}' has no implementation")

    def jvp(self, primals, tangents, **params):
        raise NotImplementedError(
            f"jvp of '{self.name}' is not implemented (forward mode: jvp, jacfwd, hessian)")

    def vjp(self, ct, ans, args, needs, **params):
        raise NotImplementedError(
            f"vjp of '{self.name}' is not implemented (reverse mode: grad, vjp, jacrev)")

    def batch(self, args, dims, **params):
        raise NotImplementedError(f"batching rule of '{self.name}' is not implemented (vmap)")

    def cost(self, args, ans, **params):
        raise NotImplementedError(f"cost rule of '{self.name}' is not implemented")


def _numpy_only(impl):
    """The method ``impl`` refusing other backends' arrays (``Primitive.dispatches``
    is False)."""
    def impl_numpy_only(self, *args, **params):
        for a in args:
            if type(a) is not np.ndarray and backend.is_foreign(a):
                raise backend.unsupported(f"chainrule primitive '{self.name}'", a)
        return impl(self, *args, **params)
    impl_numpy_only.__name__ = impl_numpy_only.__qualname__ = impl.__name__
    impl_numpy_only.__doc__ = impl.__doc__
    impl_numpy_only.__wrapped__ = impl
    return impl_numpy_only


def numpy_only(name, fn):
    """A table row's implementation ``fn`` (not a ufunc: ``scipy.special.polygamma``
    converts its arguments with ``np.asarray``) refusing other backends' arrays."""
    def impl_numpy_only(*args, **params):
        for a in args:
            if type(a) is not np.ndarray and backend.is_foreign(a):
                raise backend.unsupported(f"chainrule primitive '{name}'", a)
        return fn(*args, **params)
    impl_numpy_only.__wrapped__ = fn
    return impl_numpy_only


class NonDiffPrimitive(Primitive):
    """A primitive whose outputs carry no derivative (integer/boolean or piecewise flat)."""
    differentiable = False

    def jvp(self, primals, tangents, **params):
        ans = self.bind(*primals, **params)
        zeros = [Zero.like(a) for a in ans] if self.multiple_results else Zero.like(ans)
        return ans, zeros

    def vjp(self, ct, ans, args, needs, **params):
        return [None] * len(args)


# ---------------------------------------------------------------------------- values

def shape_of(x):
    """Shape of an array, scalar or tracer (Python scalars have shape ())."""
    return getattr(x, "shape", ())


_PY_DTYPES = {float: np.dtype(np.float64), int: np.dtype(np.int64),
              complex: np.dtype(np.complex128), bool: np.dtype(np.bool_)}


def size_of(shape):
    """Number of elements of an array of ``shape`` (1 for a scalar)."""
    n = 1
    for d in shape:
        n *= d
    return n


def dtype_of(x):
    """NumPy dtype of an array, scalar or tracer."""
    d = _PY_DTYPES.get(type(x))
    if d is not None:
        return d
    d = getattr(x, "dtype", None)
    return d if d is not None else np.asarray(x).dtype


def is_inexact(x):
    """True for float and complex values (the ones that carry derivatives)."""
    t = type(x)
    if t is np.ndarray:
        return x.dtype.kind in "fc"
    if t is float or t is complex:
        return True
    if t is int or t is bool:
        return False
    d = getattr(x, "dtype", None)
    return d is not None and d.kind in "fc"


class Zero:
    """A symbolic zero of a given shape and dtype (tangent or cotangent)."""
    __slots__ = ("shape", "dtype")

    def __init__(self, shape, dtype):
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)

    @staticmethod
    def like(x):
        return Zero(shape_of(x), dtype_of(x))

    def __repr__(self):
        return f"Zero({self.shape}, {self.dtype})"


class ShapeDtype:
    """What reverse mode keeps of a large argument whose value a rule does not read
    (``Primitive.vjp_uses_args = False``): its shape and dtype, so the array itself
    can be freed before the backward pass."""
    __slots__ = ("shape", "dtype")

    def __init__(self, shape, dtype):
        self.shape = shape
        self.dtype = dtype

    def __repr__(self):
        return f"ShapeDtype({self.shape}, {self.dtype})"


class Scaled:
    """A cotangent or tangent ``scale * base`` left unevaluated.

    Derivatives are linear, so a factor that is a real scalar (a step size, the -1 of a
    subtraction, the 2 of a square, the 1/n of a mean) can ride along instead of costing a
    pass over a large array: the reverse trace hands ``base`` to the next rule and scales
    its results (still lazily), the forward trace takes a common factor out of a rule, and
    two contributions with the same base add their factors. The product is formed once,
    when a sum with a different array or the final result needs it. Only float64 arrays of at least ``LAZY_SIZE`` elements are wrapped, and
    only with a finite, non-zero factor, so the values equal the eager ones up to the
    order of scalar multiplications. Made by :func:`scaled`; never seen by users.
    """
    __slots__ = ("base", "scale", "_value")
    __array_ufunc__ = None            # ndarray + Scaled defers to Scaled.__radd__

    def __init__(self, base, scale):
        self.base = base
        self.scale = scale
        self._value = None

    shape = property(lambda self: self.base.shape)
    dtype = property(lambda self: self.base.dtype)
    ndim = property(lambda self: self.base.ndim)
    size = property(lambda self: self.base.size)

    def value(self):
        """The array ``scale * base`` (computed once)."""
        v = self._value
        if v is None:
            v = self._value = self.base * self.scale
        return v

    def __add__(self, other):
        a, sa = (self.base, self.scale)
        b, sb = (other.base, other.scale) if type(other) is Scaled else (other, 1.0)
        if a is b and moderate(sa + sb) and (
                sa * sb > 0 or (type(a) is np.ndarray and not np.isinf(a).any())):
            # (factors of both signs: exact unless a holds an infinity, whose
            # inf - inf is nan; one pass to look instead of three to multiply out)
            return scaled(a, sa + sb)
        if a is not b and type(other) is Scaled and self._value is None and \
                other._value is None:
            # sa a + sb b = sa (a + (sb/sa) b): one or two passes, the factor pending
            # (a ratio between 2**-500 and 2**500: a b r that overflows where the
            # program's sb b does not needs values past 1e150)
            r = sb / sa
            if moderate(r):
                return scaled(a + b if r == 1.0 else a - b if r == -1.0 else a + b * r,
                              sa)
        return self.value() + materialize(other)

    __radd__ = __add__

    def __repr__(self):
        return f"Scaled({self.scale!r} * array{self.shape})"


LAZY_SIZE = 4096        # arrays from this size on carry pending scale factors
# pending factors stay between these (or are applied in the program's order), so that a
# reassociated product overflows or underflows only where the program's own values pass
# about 1e150 (or 1e-150)
FACTOR_MIN, FACTOR_MAX = 2.0 ** -500, 2.0 ** 500


def moderate(f):
    """Whether the number ``f`` may be a pending or carried factor: between FACTOR_MIN
    and FACTOR_MAX in magnitude (so not 0, inf or nan)."""
    return FACTOR_MIN <= abs(f) <= FACTOR_MAX
BROADCAST_VIEW_SIZE = 65536     # broadcasts larger than this are views, smaller copies
DEFER_SIZE = 65536      # ... and from this size on may be evaluated lazily
_F64 = np.dtype(np.float64)


def scaled(t, s):
    """``t * s`` for a tangent or cotangent ``t`` and a scalar ``s``: a :class:`Scaled`
    when ``t`` is a large float64 array (or already a Scaled) and ``s`` a finite non-zero
    real number, the product otherwise."""
    if type(t) is Scaled:
        base, s0 = t.base, t.scale
    elif type(t) is np.ndarray and t.dtype is _F64 and t.size >= LAZY_SIZE:
        base, s0 = t, 1.0
    elif type(s) is float and s == -1.0:
        return -t                           # a negation stays one (graphs read better)
    else:
        return t * s
    if type(s) is not float:
        if isinstance(s, (int, float, np.integer, np.floating)) and type(s) is not bool:
            s = float(s)
        elif type(s) is np.ndarray and s.shape == () and s.dtype.kind in "fi":
            s = float(s)
        else:
            return materialize(t) * s
    f = s0 * s
    if not moderate(f):
        # a product of factors that overflows or underflows (1e150 * 1e200): the
        # program's order, t's value times s
        return (materialize(t) * s) if f == f else base * f
    return Scaled(base, f)


def materialize(t):
    """The array a cotangent stands for (evaluates a :class:`Scaled`)."""
    return t.value() if type(t) is Scaled else t


def instantiate(t):
    """Turn a symbolic zero into a real array of zeros; leave other values alone."""
    if type(t) is Zero:
        return np.zeros(t.shape, t.dtype)
    return t


# ---------------------------------------------------------------------------- tracers

class LeakedTracerError(RuntimeError):
    """A traced value was used after the transformation that created it had finished
    (stored in a global, a closure or an attribute instead of being returned)."""


class TracerConversionError(TypeError):
    """A traced value was converted to a NumPy array or Python number (which would
    drop its derivative)."""


class Tracer:
    """A value owned by a trace. Subclasses define ``shape`` and ``dtype``.

    Operators, NumPy protocol hooks and ndarray methods are installed by
    ``chainrule._src.numpy.methods``.
    """
    # _alias: None/unset for an array without views, else the record of its views or
    # of the base it is a view of (numpy/aliasing.py); weak references find live views
    __slots__ = ("_trace", "_alias", "__weakref__")
    __array_priority__ = 1000

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def size(self):
        return size_of(self.shape)

    def __len__(self):
        if not self.shape:
            raise TypeError("len() of unsized object (a 0-d traced array)")
        return self.shape[0]

    def _assign(self, other):
        """Make this tracer stand for ``other``'s value (in-place updates: ``x[i] = v``).
        The tracer keeps its identity and its aliasing record."""
        if type(other) is not type(self) or other._trace is not self._trace:
            raise TypeError("in-place update mixes values of different transformations")
        slots = _VALUE_SLOTS.get(type(self))
        if slots is None:
            slots = _VALUE_SLOTS[type(self)] = tuple(
                slot for cls in type(self).__mro__
                for slot in cls.__dict__.get("__slots__", ())
                if slot not in ("_trace", "_alias", "__weakref__"))
        for slot in slots:
            setattr(self, slot, getattr(other, slot))
        return self

    def _describe(self):
        return type(self).__name__

    def __repr__(self):
        """What ``print(x)`` shows inside a transformation: the value where one is known
        (as PyTorch does; read without recording a guard under jit), else the shape and
        dtype."""
        v, batch = self, None
        for _ in range(64):
            if isinstance(v, Tracer):
                if hasattr(v, "primal"):
                    v = v.primal
                else:                            # vmap: the whole batch
                    if batch is None:
                        batch = (v.bdim, shape_of(v.val)[v.bdim])
                    v = v.val
            elif callable(getattr(v, "value", None)) and hasattr(v, "prim"):
                v = v.value()                    # a deferred value: computed to be shown
            else:
                break
        if isinstance(v, Tracer) or not hasattr(v, "__array__") and \
                not isinstance(v, (int, float, complex)):
            return f"<{self._describe()}: shape {self.shape}, dtype {self.dtype}>"
        text = repr(v)
        if batch is not None:
            return (f"<{self._describe()}: a batch of {batch[1]} along axis {batch[0]} "
                    f"of shape {self.shape}, dtype {self.dtype}:\n{text}>")
        return f"<{self._describe()}: {text}>"


_VALUE_SLOTS = {}      # tracer class -> the slots that hold its value (Tracer._assign)


class PrimalTracer(Tracer):
    """A tracer that carries its value (concrete, or traced by an outer transformation)
    as ``primal``: reverse mode, forward mode and staging."""
    __slots__ = ("primal",)

    @property
    def shape(self):
        p = self.primal
        return p.shape if type(p) is np.ndarray else shape_of(p)

    @property
    def dtype(self):
        p = self.primal
        return p.dtype if type(p) is np.ndarray else dtype_of(p)

    def _concrete(self):
        p = self.primal
        # an outer transformation's tracer, or a value not computed yet (deferred.Pending)
        concrete = getattr(p, "_concrete", None)
        if concrete is None:
            if type(p) is not np.ndarray and backend.is_lazy(p):
                raise LazyValueError(_LAZY_MSG.format(shape=self.shape))
            return p
        return concrete()


def check_not_leaked(x):
    """Raise if ``x`` is a tracer used where no transformation owns it."""
    raise LeakedTracerError(
        f"a traced value ({x._describe()} of shape {x.shape}) was used outside the "
        "transformation that created it. Traced values only live while the transformed "
        "function runs: return them as outputs instead of storing them in globals, "
        "closures or object attributes.")



def has_value(x):
    """Whether ``x`` has one value Python can read (``bool(x)``, ``x._concrete()``):
    everything but a value batched under vmap, where each example has its own, and a
    lazy (Dask) value, which reading would compute. Rules ask this before branching on a
    value, instead of catching the error, and take their value-free path otherwise."""
    while isinstance(x, Tracer):
        if not isinstance(x, PrimalTracer):
            return False
        x = x.primal
    return type(x) is np.ndarray or not backend.is_lazy(x)


def value_of(x):
    """The array a tracer stands for under forward, reverse and staging traces (its
    innermost ``primal``); other values (and vmap's batched ones) as they are. Only
    for asking what backend a value lives on, never for computing with."""
    while isinstance(x, PrimalTracer):
        x = x.primal
    return x


class LazyValueError(NotImplementedError, TypeError):
    """Python read the value of a traced lazy (Dask) array: ``bool(x)``, ``float(x)``,
    ``if loss > 0``. Transformations never compute a Dask graph. A TypeError, as a
    conversion of a traced value is, and a NotImplementedError: what the backend
    cannot do."""


_LAZY_MSG = (
    "a traced value of shape {shape} is a lazy Dask array, and Python asked for its value "
    "(bool(), float(), int(), an `if` or `while` on it, or indexing with it). chainrule "
    "computes nothing while it transforms a function of Dask arrays, under jit too (jit "
    "records no guard on a lazy value). Compute the value first, outside the "
    "transformation (x.compute()), or write the branch with chainrule.numpy.where.")
