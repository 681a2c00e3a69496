"""Argument checks shared by the transformations (api.py) and the staging entry points
(graph/jit.py, graph/make.py), which sit below api.py and so cannot import it.

Each check runs when a transformation is made (``grad(3.0)`` fails there, not when
called), or on a path that costs nothing when the arguments are right: the hot paths
of ``value_and_grad`` and ``jit`` see none of it.
"""
import inspect
import operator

import numpy as np

from .core import shape_of, dtype_of
from .tree_util import tree_flatten, broadcast_prefix

__all__ = ["check_callable", "index_tuple", "check_indices_in_range", "positional_count",
           "static_argnums_tuple", "static_positions", "check_static_argnames",
           "reconcile_static", "check_vmap_axes", "mapped_axes", "argnums_tuple",
           "not_inexact", "check_diff_input", "check_has_tangents", "real_inputs"]


def check_callable(fun, fname, argname="fun"):
    """Raise TypeError unless ``fun`` is callable (``grad(3.0)`` fails when made)."""
    if not callable(fun):
        hint = (f" Write {fname}(f) with the function itself, not its value f(x)."
                if argname == "fun" else "")
        raise TypeError(f"{fname}: {argname} must be a callable (a function), got "
                        f"{type(fun).__name__} {_short(fun)}.{hint}")


def _short(x):
    r = repr(x)
    return r if len(r) <= 60 else r[:57] + "..."


def index_tuple(nums, fname, argname, *, allow_negative=True):
    """``nums`` (an int or a sequence of ints) as a tuple of ints, with TypeError for
    anything else and ValueError for repeated entries."""
    if isinstance(nums, bool) or isinstance(nums, (str, bytes)):
        raise TypeError(f"{fname}: {argname} must be an int or a tuple of ints, got "
                        f"{nums!r}")
    try:
        out = (operator.index(nums),)
    except TypeError:
        try:
            items = tuple(nums)
        except TypeError:
            raise TypeError(f"{fname}: {argname} must be an int or a tuple of ints, got "
                            f"{type(nums).__name__} {_short(nums)}") from None
        out = []
        for a in items:
            if isinstance(a, bool):
                raise TypeError(f"{fname}: {argname} must be an int or a tuple of ints, "
                                f"got {nums!r}")
            try:
                out.append(operator.index(a))
            except TypeError:
                raise TypeError(f"{fname}: {argname} must be an int or a tuple of ints, "
                                f"got {nums!r} (entry {a!r} is not an int)") from None
        out = tuple(out)
    if len(set(out)) != len(out):
        raise ValueError(f"{fname}: {argname}={nums!r} contains duplicates; name each "
                         f"argument once")
    if not allow_negative and any(a < 0 for a in out):
        raise ValueError(f"{fname}: {argname}={nums!r} must be non-negative argument "
                         f"positions")
    return out


def check_indices_in_range(nums, nargs, fname, argname):
    """Raise ValueError if a position in ``nums`` does not exist among ``nargs``
    positional arguments (negative positions count from the end)."""
    for a in nums:
        if not -nargs <= a < nargs:
            raise ValueError(f"{fname}: {argname}={nums if len(nums) > 1 else a!r} is out "
                             f"of range for a function called with {nargs} positional "
                             f"argument(s)")
    if len({a % nargs for a in nums}) != len(nums):
        raise ValueError(f"{fname}: {argname}={nums!r} names the same argument twice for "
                         f"a function called with {nargs} positional argument(s)")


def positional_count(fun):
    """``(n, names)``: how many positional parameters ``fun`` takes and the names it
    accepts as keywords; n is None when it takes ``*args`` or has no signature, and
    names is None when it takes ``**kwargs`` or has no signature."""
    try:
        sig = inspect.signature(fun)
    except (TypeError, ValueError):
        return None, None
    n, names = 0, set()
    for p in sig.parameters.values():
        if p.kind is p.VAR_POSITIONAL:
            n = None
        elif p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            if n is not None:
                n += 1
        if p.kind is p.VAR_KEYWORD:
            names = None
        elif names is not None and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
            names.add(p.name)
    return n, names


def static_argnums_tuple(fun, static_argnums, fname):
    """``static_argnums`` checked when ``fun`` is transformed: ints, no duplicates, and,
    where ``fun``'s signature says how many positional parameters it has, positions it
    has (negative ones resolved against that signature, as JAX does)."""
    nums = index_tuple(static_argnums, fname, "static_argnums")
    if not nums:
        return nums
    n, _ = positional_count(fun)
    if n is None:
        return nums
    for a in nums:
        if not -n <= a < n:
            raise ValueError(f"{fname}: static_argnums={static_argnums!r} is out of range: "
                             f"{_name(fun)} takes {n} positional argument(s)")
    out = tuple(a % n for a in nums)
    if len(set(out)) != len(out):
        raise ValueError(f"{fname}: static_argnums={static_argnums!r} names the same "
                         f"argument twice ({_name(fun)} takes {n} positional argument(s))")
    return out


def static_positions(nums, nargs, fname):
    """The positions of static arguments in a call with ``nargs`` positional arguments:
    a position beyond them is an argument not passed (its default, a constant, is used);
    a negative one counts from the end and must exist (it never wraps around)."""
    out = []
    for a in nums:
        if a < 0:
            if a < -nargs:
                raise ValueError(f"{fname}: static_argnums position {a} is out of range "
                                 f"for a call with {nargs} positional argument(s)")
            a += nargs
        if a < nargs and a not in out:
            out.append(a)
    return tuple(out)


def check_static_argnames(fun, static_argnames, fname):
    """``static_argnames`` as a tuple of str; names ``fun`` cannot take raise ValueError."""
    names = (static_argnames,) if isinstance(static_argnames, str) else static_argnames
    try:
        names = tuple(names)
    except TypeError:
        raise TypeError(f"{fname}: static_argnames must be a str or a tuple of str, got "
                        f"{static_argnames!r}") from None
    for k in names:
        if not isinstance(k, str):
            raise TypeError(f"{fname}: static_argnames must be a str or a tuple of str, "
                            f"got {static_argnames!r}")
    _, accepted = positional_count(fun) if names else (None, None)
    if accepted is not None:
        for k in names:
            if k not in accepted:
                raise ValueError(f"{fname}: static_argnames={static_argnames!r}, but "
                                 f"{_name(fun)} has no parameter named {k!r} (it takes "
                                 f"{sorted(accepted)})")
    return names


def reconcile_static(fun, nums, names):
    """As JAX: a static parameter is static whether it is passed by position or by name,
    so ``static_argnums`` gain the positions of ``static_argnames`` and the names of
    ``static_argnums`` join ``static_argnames`` (where ``fun`` has a signature)."""
    if not nums and not names:
        return nums, names
    try:
        params = list(inspect.signature(fun).parameters.values())
    except (TypeError, ValueError):
        return nums, names
    nums, names = list(nums), list(names)
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    for i, p in enumerate(q for q in params if q.kind in kinds):
        if i in nums and p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD and \
                p.name not in names:
            names.append(p.name)
        if p.name in names and i not in nums:
            nums.append(i)
    return tuple(nums), tuple(names)


def _name(fun):
    return getattr(fun, "__name__", None) or repr(fun)


# ---------------------------------------------------------------------------- vmap

def check_vmap_axes(in_axes, out_axes, axis_size):
    """vmap's own arguments, checked when the function is made."""
    if not (in_axes is None or isinstance(in_axes, (int, np.integer, tuple, list, dict))):
        raise TypeError(f"vmap in_axes must be an int, None, or a tuple of entries "
                        f"corresponding to the positional arguments, got {in_axes!r}")
    for name, axes in (("in_axes", in_axes), ("out_axes", out_axes)):
        for a in tree_flatten(axes, is_leaf=lambda x: x is None)[0]:
            if not (a is None or isinstance(a, (int, np.integer))) or isinstance(a, bool):
                raise TypeError(f"vmap {name} must be an int, None, or a pytree of them "
                                f"(one entry per argument or output), got {axes!r} (entry "
                                f"{a!r} of type {type(a).__name__})")
    if axis_size is not None and (not isinstance(axis_size, (int, np.integer)) or
                                  isinstance(axis_size, bool) or axis_size < 0):
        raise TypeError(f"vmap axis_size must be a non-negative int or None, got "
                        f"{axis_size!r}")


def mapped_axes(args, kwargs, in_axes, axis_size):
    """vmap's call: ``(flat, in_tree, dims, size)``: the flattened ``(args, kwargs)``,
    each leaf's batch axis (None: not mapped; keyword arguments along axis 0) and the
    batch size, with an error naming the argument for each mistake."""
    axes = in_axes
    if isinstance(axes, list):
        axes = tuple(axes)
    if isinstance(axes, tuple) and len(axes) != len(args):
        raise ValueError(f"vmap in_axes specification must be a tree prefix of the "
                         f"corresponding value, got specification {in_axes!r} for "
                         f"{len(args)} positional argument(s)")
    try:
        leaf_axes = broadcast_prefix(axes if isinstance(axes, tuple) else
                                     (axes,) * len(args), tuple(args),
                                     is_leaf=lambda x: x is None)
    except ValueError as e:
        raise ValueError(f"vmap in_axes {in_axes!r} does not match the structure of "
                         f"the arguments: {e}") from None
    flat, in_tree = tree_flatten((tuple(args), kwargs))
    kw_leaves = len(flat) - len(leaf_axes)
    leaf_axes = list(leaf_axes) + [0] * kw_leaves
    dims, sizes = [], []
    for i, (x, ax) in enumerate(zip(flat, leaf_axes)):
        if ax is None:
            dims.append(None)
            continue
        nd = len(shape_of(x))
        if not -nd <= ax < nd:
            raise ValueError(f"vmap was requested to map {_owner(args, kwargs, i)} "
                             f"along axis {ax}, which implies that its rank should be "
                             f"at least {ax + 1 if ax >= 0 else -ax}, but is only {nd} "
                             f"(its shape is {shape_of(x)})")
        dims.append(ax % nd)
        sizes.append((i, shape_of(x)[ax % nd]))
    if len({s for _, s in sizes}) > 1:
        desc = "; ".join(f"{_owner(args, kwargs, i)} has size {s} along its mapped "
                         f"axis" for i, s in sizes)
        raise ValueError(f"vmap got inconsistent sizes for array axes to be mapped: "
                         f"{desc}")
    size = sizes[0][1] if sizes else axis_size
    if size is None:
        raise ValueError("vmap must have at least one non-None value in in_axes, or "
                         "be given axis_size")
    if sizes and axis_size is not None and axis_size != size:
        raise ValueError(f"vmap: axis_size={axis_size} but the mapped axes have size "
                         f"{size}")
    return flat, in_tree, dims, size


def _owner(args, kwargs, leaf):
    """Which argument holds leaf number ``leaf`` of ``tree_flatten((args, kwargs))``, in
    words (for error messages)."""
    for i, a in enumerate(args):
        n = len(tree_flatten(a)[0])
        if leaf < n:
            if type(a) in (list, tuple) and all(
                    type(v) in (float, int, complex) for v in a):     # numbers
                return (f"argument {i} (leaf {leaf}; a {type(a).__name__} is a pytree of "
                        f"its items: to map over its entries pass np.asarray(...))")
            return f"argument {i}" + (f" (leaf {leaf})" if n > 1 else "")
        leaf -= n
    for k in sorted(kwargs):
        n = len(tree_flatten(kwargs[k])[0])
        if leaf < n:
            return f"keyword argument {k!r} (keyword arguments are mapped along axis 0)"
        leaf -= n
    return f"leaf {leaf}"


# ------------------------------------------------ inputs of the differentiating APIs

def argnums_tuple(argnums, nargs, fname):
    """``(single, positions)`` of ``argnums`` (an int or a sequence) for ``nargs``
    positional arguments, negative positions wrapped; ValueError out of range."""
    if type(argnums) is int and -nargs <= argnums < nargs:     # the common case
        return True, (argnums % nargs,)
    single = isinstance(argnums, (int, np.integer))
    nums = (int(argnums),) if single else tuple(int(a) for a in argnums)
    if nargs == 0:
        raise ValueError(f"{fname}: argnums={argnums!r} is out of range for a function "
                         f"called with 0 positional argument(s) (keyword arguments are "
                         f"not differentiated: pass the argument positionally)")
    check_indices_in_range(nums, nargs, fname, "argnums")
    return single, tuple(a % nargs for a in nums)


def not_inexact(tree):
    """The dtype of the first leaf of ``tree`` that is not float or complex, or None."""
    for leaf in tree_flatten(tree)[0]:
        dt = dtype_of(leaf)
        if dt.kind not in "fc":
            return dt
    return None


def check_diff_input(x, fname, holomorphic, argnum):
    """TypeError unless every leaf of argument ``argnum`` is float or complex (complex
    with ``holomorphic``)."""
    dt = not_inexact(x)
    if dt is not None:
        raise TypeError(
            f"{fname} requires real- or complex-valued inputs (float or complex "
            f"dtype), but argument {argnum} has dtype {dt}. Pass floats (e.g. 1.0 "
            f"instead of 1, or x.astype(float)); chainrule does not support "
            f"allow_int.")
    if holomorphic:
        for leaf in tree_flatten(x)[0]:
            if dtype_of(leaf).kind != "c":
                raise TypeError(f"{fname} with holomorphic=True requires complex inputs, "
                                f"but argument {argnum} has dtype {dtype_of(leaf)}")


def check_has_tangents(primals, fname):
    """TypeError naming the first primal without a tangent space (integers, booleans)."""
    for i, x in enumerate(primals):
        dt = not_inexact(x)
        if dt is not None:
            raise TypeError(
                f"{fname}: primal {i} has dtype {dt}; integer and boolean inputs have no "
                f"tangent (JAX would ask for a float0 tangent). Pass it as a float "
                f"(x.astype(float)), or close over it: {fname}(lambda x: f(x, n), "
                f"(x,), (t,))")


def real_inputs(flat, holomorphic, fname):
    """Forward mode pushes real unit tangents: with complex inputs that is the
    derivative along the real axes only, which differs from reverse mode's
    ``df/dx - i df/dy`` (JAX refuses it too)."""
    if not holomorphic and any(dtype_of(x).kind == "c" for x in flat):
        raise TypeError(
            f"{fname} requires real-valued inputs: it differentiates by forward mode, "
            "which along complex inputs gives only the derivative in their real parts. "
            "For complex-differentiable functions pass holomorphic=True; for a "
            "real-valued function of complex inputs use jacrev or grad (df/dx - i df/dy), "
            "or jvp with a direction of your choice.")
