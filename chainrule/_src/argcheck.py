"""Argument checks shared by the transformations (api.py) and the staging entry points
(graph/jit.py, graph/make.py), which sit below api.py and so cannot import it.

Each check runs when a transformation is made (``grad(3.0)`` fails there, not when
called), or on a path that costs nothing when the arguments are right: the hot paths
of ``value_and_grad`` and ``jit`` see none of it.
"""
import inspect
import operator

__all__ = ["check_callable", "index_tuple", "check_indices_in_range", "positional_count",
           "static_argnums_tuple", "static_positions", "check_static_argnames",
           "reconcile_static"]


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
