"""chainrule.numpy's elementwise functions: one wrapper per primitive of the tables in
``prims/elementwise.py`` (:func:`expose`: the wrapper, its entry in chainrule.numpy and
the routing of ``np.<name>(tracer)``, for ufuncs and plain NumPy functions alike), plus
the NumPy aliases (abs, conj, ...). A table row is all it takes."""
import numpy as np

from ..core import _state, Tracer, dtype_of
from ..prims import elementwise as ew
from ..prims.shape import convert_element_type_p
from .dispatch import HANDLED_UFUNCS, HANDLED_FUNCTIONS, PUBLIC
from . import aliasing
from .basic import asarray_like, astype


def _make(name, np_fn, prim):
    nargs = np_fn.nin if isinstance(np_fn, np.ufunc) else 1

    if nargs == 1:
        def fn(x, /, *args, **kwargs):
            trace = _state.trace
            if trace is None:
                return np_fn(x, *args, **kwargs)
            if args or kwargs:
                return _with_options(fn, name, (x,), args, kwargs)
            if type(x) in _SEQUENCES:
                x = asarray_like(x)
            out = trace.process(prim, (x,), _NO_PARAMS)
            return out if out is not x else aliasing.copy_of(out)
    else:
        def fn(x, y, /, *args, **kwargs):
            trace = _state.trace
            if trace is None:
                return np_fn(x, y, *args, **kwargs)
            if args or kwargs:
                return _with_options(fn, name, (x, y), args, kwargs)
            if type(x) in _SEQUENCES or type(y) in _SEQUENCES:
                x, y = asarray_like(x), asarray_like(y)
            out = trace.process(prim, (x, y), _NO_PARAMS)
            return out if out is not x and out is not y else aliasing.copy_of(out)
    fn.__name__ = fn.__qualname__ = name
    kind = "a ufunc" if isinstance(np_fn, np.ufunc) else "elementwise"
    fn.__doc__ = (f"Differentiable ``numpy.{name}`` ({kind}). Inside a transformation, "
                  f"``out=`` may be a traced array (written in place, with ``where=``), "
                  f"and lists holding traced values are arrays.\n\nSee NumPy's "
                  f"documentation of ``numpy.{name}``.")
    fn.numpy_function = np_fn
    fn.primitive = prim
    if isinstance(np_fn, np.ufunc):
        # cnp.add.reduce(x), cnp.multiply.outer(a, b), ...: NumPy's own methods, which
        # reach chainrule's versions for traced values (methods._array_ufunc)
        for method in ("reduce", "accumulate", "reduceat", "outer", "at"):
            setattr(fn, method, getattr(np_fn, method))
    return fn


_NO_PARAMS = {}
_SEQUENCES = (list, tuple)


def _with_options(fn, name, inputs, args, kwargs):
    """A ufunc call with out= (a traced array written in place, or positional),
    where= (only together with out=) and dtype=."""
    kwargs = dict(kwargs)
    out = kwargs.pop("out", None)
    if args:
        if out is not None or len(args) > 1:
            raise TypeError(f"{name}() got too many output arguments")
        out = args[0]
    where = kwargs.pop("where", True)
    dtype = kwargs.pop("dtype", None)
    signature = kwargs.pop("signature", None)
    casting = kwargs.pop("casting", "same_kind")
    if kwargs:
        raise NotImplementedError(
            f"chainrule.numpy.{name}: the arguments {sorted(kwargs)} are not "
            "supported inside a transformation")
    if isinstance(out, tuple):
        out = out[0] if len(out) == 1 else out
    np_fn = getattr(fn, "numpy_function", None)
    if dtype is not None or signature is not None or casting != "same_kind":
        # NumPy's loop for dtype=/signature=/casting=: the inputs are cast to the loop's
        # dtypes before it computes (np.add(i8, i8, dtype=i16) does not overflow,
        # np.sqrt(-1.0, dtype=complex) is 1j), and NumPy's casting errors
        if not isinstance(np_fn, np.ufunc):
            raise NotImplementedError(
                f"chainrule.numpy.{name}: dtype=, signature= and casting= are not "
                "supported inside a transformation")
        loop = np_fn.resolve_dtypes(
            tuple(_loop_dtype(v) for v in inputs) +
            (None if out is None else dtype_of(out),),
            signature=_signature(np_fn, dtype, signature), casting=casting)
        inputs = tuple(v if dtype_of(asarray_like(v)) == dt else
                       convert_element_type_p.bind(asarray_like(v), dtype=dt)
                       for v, dt in zip(inputs, loop))
        res = fn(*inputs)
        if dtype_of(res) != loop[len(inputs)]:
            res = convert_element_type_p.bind(res, dtype=loop[len(inputs)])
        if out is not None and dtype_of(out) != dtype_of(res):
            res = convert_element_type_p.bind(res, dtype=dtype_of(out))
    else:
        res = fn(*inputs)
    if where is not True:
        if out is None:
            raise NotImplementedError(
                f"chainrule.numpy.{name}: where= without out= leaves NumPy's result "
                "uninitialised where the condition is False; pass out= as well")
        res = PUBLIC["numpy"]["where"](where, res, out)
    if out is None:
        return res
    return aliasing.write_out(out, res)


def _loop_dtype(v):
    """What NumPy's loop resolution sees of an input: Python scalars are weak."""
    if type(v) in (bool, int, float, complex):
        return type(v)
    return dtype_of(asarray_like(v))


def _signature(np_fn, dtype, signature):
    if dtype is not None:
        if signature is not None:
            raise TypeError("cannot specify both 'signature' and 'dtype'")
        return (None,) * np_fn.nin + (np.dtype(dtype),) * np_fn.nout
    if isinstance(signature, str):
        ins, outs = signature.replace(" ", "").split("->")
        return tuple(np.dtype(c) for c in ins.split(",") if c) + \
            tuple(np.dtype(c) for c in outs.split(",") if c) \
            if "," in signature else tuple(np.dtype(c) for c in ins + outs)
    if signature is not None:
        signature = tuple(signature) if isinstance(signature, (tuple, list)) else \
            (np.dtype(signature),) * (np_fn.nin + np_fn.nout)
        return tuple(None if d is None else np.dtype(d) for d in signature)
    return None


UFUNCS = {}


def expose(prim):
    """Make the elementwise primitive ``prim`` (a row of prims/elementwise.py) the
    function ``chainrule.numpy.<name>``, and route NumPy's own ``np.<name>`` on traced
    values to it (``__array_ufunc__`` for a ufunc, ``__array_function__`` otherwise).
    A row whose name NumPy lacks stands for its implementation."""
    name = prim.name
    np_fn = getattr(np, name, None) or prim.impl
    fn = _make(name, np_fn, prim)
    UFUNCS[name] = PUBLIC.setdefault("numpy", {})[name] = fn
    (HANDLED_UFUNCS if isinstance(np_fn, np.ufunc) else HANDLED_FUNCTIONS)[np_fn] = fn
    return fn


for _prim in ew.PRIMS.values():
    if _prim.name != "select":              # numpy.where (basic.py)
        expose(_prim)

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
    if args or kwargs:
        return _with_options(float_power, "float_power", (x, y), args, kwargs)
    x, y = asarray_like(x), asarray_like(y)
    dt = np.result_type(dtype_of(x), dtype_of(y), np.float64)
    return ew.power_p.bind(convert_element_type_p.bind(x, dtype=dt),
                           convert_element_type_p.bind(y, dtype=dt))


float_power.numpy_function = np.float_power
UFUNCS["float_power"] = float_power
HANDLED_UFUNCS[np.float_power] = float_power
PUBLIC["numpy"].update(UFUNCS)


# np.real / np.imag are plain functions (not ufuncs) that return views: their wrappers
# replace the ones expose() made
def _part(kind):
    ufunc = UFUNCS[kind]

    def part(val, /):
        if _state.trace is None:
            return getattr(np, kind)(val)
        if kind == "real" and isinstance(val, Tracer) and val.dtype.kind != "c":
            return val                           # NumPy: x.real is x for real x
        out = ufunc(val)
        if aliasing._local.depth:
            return out
        return aliasing.register(kind, part, (val,), {}, out)
    part.__name__ = part.__qualname__ = kind
    part.__doc__ = (f"Differentiable ``numpy.{kind}``: for a complex array, a view of "
                    f"its {kind} part (writes through it reach the array), as in NumPy.")
    part.numpy_function = getattr(np, kind)
    return part


for _kind in ("real", "imag"):
    UFUNCS[_kind] = _part(_kind)
    HANDLED_FUNCTIONS[getattr(np, _kind)] = UFUNCS[_kind]
PUBLIC["numpy"].update({"real": UFUNCS["real"], "imag": UFUNCS["imag"]})


def modf(x, /, *args, **kwargs):
    """Differentiable ``numpy.modf``: ``(fractional, integral)`` parts, both with the
    sign of ``x`` (NumPy's signed zeros, ``modf(inf) == (0.0, inf)``). The fractional
    part has derivative 1, the integral part 0. ``out=``/``where=`` are not supported
    inside transformations."""
    if _state.trace is None:
        return np.modf(x, *args, **kwargs)
    if args or kwargs:
        raise NotImplementedError("chainrule.numpy.modf: out=, where= and the other ufunc "
                                  "arguments are not supported inside a transformation")
    x = asarray_like(x)
    if dtype_of(x).kind == "c":
        raise TypeError("ufunc 'modf' not supported for the input types, and the inputs "
                        "could not be safely coerced to any supported types according "
                        "to the casting rule ''safe''")
    # NumPy's loop: float16 for bool/int8/uint8, float32 for int16/uint16 (as_inexact's
    # float64 gave another dtype under jit and vmap)
    dt = np.modf(np.zeros(1, dtype_of(x)))[0].dtype
    x = x if dtype_of(x) == dt else astype(x, dt)
    inf = ew.PRIMS["isinf"].bind(x)
    frac = ew.PRIMS["fmod"].bind(ew.select_p.bind(inf, 0.0, x), 1.0)
    frac = ew.select_p.bind(inf, ew.PRIMS["copysign"].bind(0.0 * frac, x), frac)
    return frac, ew.PRIMS["trunc"].bind(x)


modf.numpy_function = np.modf
UFUNCS["modf"] = PUBLIC["numpy"]["modf"] = HANDLED_UFUNCS[np.modf] = modf


def _replace(fn, np_fn):
    """Make ``fn`` chainrule.numpy's ``np_fn`` (and what ``np_fn(tracer)`` reaches) in
    place of the row's wrapper, keeping that wrapper's attributes (the primitive, NumPy's
    ufunc methods ``cnp.power.outer``, ...); returns the wrapper it replaces."""
    name = np_fn.__name__
    old = UFUNCS[name]
    for k, v in vars(old).items():
        setattr(fn, k, v)
    fn.__name__ = fn.__qualname__ = name
    PUBLIC["numpy"][name] = HANDLED_UFUNCS[np_fn] = fn
    return old


def sign(x, /, *args, **kwargs):
    """Differentiable ``numpy.sign``: for real ``x`` piecewise constant (derivative 0);
    for complex ``x`` NumPy 2's ``x / |x|`` (0 at 0), differentiable away from 0 (at 0:
    the subgradient 0, as ``abs``)."""
    if _state.trace is not None and not args and not kwargs:
        x = asarray_like(x)
        if dtype_of(x).kind == "c":
            return ew.complex_sign_p.bind(x)
    return _real_sign(x, *args, **kwargs)


def power(x, y, /, *args, **kwargs):
    """Differentiable ``numpy.power``. As NumPy's ufunc, a boolean base with a Python
    int exponent computes in the default integer (``np.power(m, 2)`` is int64), where the
    ``**`` operator's fast square keeps NumPy's int8 (``m ** 2``; the operator on traced
    values is the row's wrapper)."""
    if _state.trace is not None and not args and not kwargs and type(y) is int and \
            dtype_of(x) == np.bool_:
        x = convert_element_type_p.bind(asarray_like(x), dtype=np.result_type(np.bool_, y))
    return _power(x, y, *args, **kwargs)


_real_sign = _replace(sign, np.sign)
UFUNCS["sign"] = sign
_power = _replace(power, np.power)
