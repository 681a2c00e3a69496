"""Pytree helpers shared by the optimisers (public API only), and their argument
checks."""
import numbers

import numpy as np

import chainrule.numpy as cnp
from chainrule import tree_util

from . import _lazy

__all__ = ["ravel_pytree", "global_norm", "tree_vdot", "tree_zeros_like"]


def _scalar(v, what="f"):
    """``v`` (an array with one element) as a Python float; ``what`` names the callable
    that returned it in the error message."""
    a = np.asarray(v, dtype=np.float64)
    if a.size != 1:
        raise TypeError(f"{what} must return a scalar (an array with one element); "
                        f"got shape {a.shape}")
    return float(a.reshape(()))


def ravel_pytree(tree):
    """Flatten a pytree of arrays into one float64 vector.

    Parameters
    ----------
    tree : pytree
        Nested tuples, lists, dicts, namedtuples, ... of array-likes (Python floats,
        NumPy arrays). Integer and boolean leaves are converted to float64; complex
        leaves are rejected.

    Returns
    -------
    flat : numpy.ndarray
        1-D float64 vector holding every leaf's entries, leaf after leaf in
        ``tree_util.tree_leaves`` order, each in C order.
        Inside a transformation, a tree holding traced values gives a traced vector
        (so a penalty on the flattened parameters can be differentiated, as with
        autograd's ``flatten`` and JAX's ``ravel_pytree``).
    unravel : callable
        ``unravel(v)`` rebuilds the pytree from a vector of the same length. It is
        differentiable (works on traced vectors), so ``lambda v: f(unravel(v))`` can be
        handed to any transformation. On a NumPy vector it returns fresh float64 arrays.

    Examples
    --------
    >>> flat, unravel = ravel_pytree({"W": np.ones((2, 2)), "b": np.zeros(2)})
    >>> flat.shape
    (6,)
    >>> unravel(flat)["W"].shape
    (2, 2)
    """
    leaves, treedef = tree_util.tree_flatten(tree)
    if any(_is_traced(leaf) for leaf in leaves):
        # inside a transformation (an L2 penalty on the flattened parameters, as
        # autograd's flatten and JAX's ravel_pytree allow): the same vector, traced
        return _ravel_traced(leaves, treedef)
    arrays = []
    for leaf in leaves:
        if _lazy.is_lazy(leaf):
            raise TypeError("ravel_pytree: a Dask array as a parameter; the optimisers keep "
                            "parameters in memory as NumPy arrays (pass the data as Dask "
                            "arrays in args, and x0 as NumPy: x0.compute() if it is small)")
        a = np.asarray(leaf)
        if np.iscomplexobj(a):
            raise TypeError("ravel_pytree: complex leaves are not supported "
                            "(optimisers work on real float64 parameters)")
        if a.dtype == object:
            raise TypeError(f"ravel_pytree: leaf of type {type(leaf).__name__} is not an array")
        arrays.append(a.astype(np.float64))
    shapes = [a.shape for a in arrays]
    sizes = [a.size for a in arrays]
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
    flat = (np.concatenate([a.ravel() for a in arrays]) if arrays
            else np.zeros(0, dtype=np.float64))
    return flat, _unraveler(treedef, shapes, offsets)


def _is_traced(leaf):
    """A traced value (or any array-like that is not NumPy's): has shape and dtype."""
    return (not isinstance(leaf, (np.ndarray, np.generic, numbers.Number))
            and hasattr(leaf, "shape") and hasattr(leaf, "dtype")
            and not _lazy.is_lazy(leaf))


def _ravel_traced(leaves, treedef):
    parts = []
    for leaf in leaves:
        dtype = np.dtype(leaf.dtype) if hasattr(leaf, "dtype") else np.asarray(leaf).dtype
        if dtype.kind == "c":
            raise TypeError("ravel_pytree: complex leaves are not supported "
                            "(optimisers work on real float64 parameters)")
        if dtype == object:
            raise TypeError(f"ravel_pytree: leaf of type {type(leaf).__name__} is not an array")
        parts.append(cnp.ravel(cnp.asarray(leaf)).astype(np.float64))
    shapes = [tuple(cnp.shape(leaf)) for leaf in leaves]
    offsets = np.concatenate([[0], np.cumsum([p.shape[0] for p in parts])]).astype(int)
    flat = cnp.concatenate(parts) if parts else np.zeros(0, dtype=np.float64)
    return flat, _unraveler(treedef, shapes, offsets)


def _unraveler(treedef, shapes, offsets):
    total = int(offsets[-1])

    def unravel(v):
        if isinstance(v, np.ndarray) or np.isscalar(v):
            v = np.asarray(v, dtype=np.float64)
            if v.shape != (total,):
                raise ValueError(f"unravel: expected a vector of shape ({total},), "
                                 f"got {v.shape}")
            parts = [v[offsets[i]:offsets[i + 1]].reshape(shapes[i]).copy()
                     for i in range(len(shapes))]
        else:
            if tuple(v.shape) != (total,):
                raise ValueError(f"unravel: expected a vector of shape ({total},), "
                                 f"got {tuple(v.shape)}")
            if len(shapes) == 1:      # one leaf: no slice (its transpose is a scatter)
                parts = [cnp.reshape(v, shapes[0])]
            else:
                parts = [cnp.reshape(v[offsets[i]:offsets[i + 1]], shapes[i])
                         for i in range(len(shapes))]
        return tree_util.tree_unflatten(treedef, parts)

    return unravel


def global_norm(tree):
    """Euclidean norm of all leaves of a pytree taken together.

    Parameters
    ----------
    tree : pytree of arrays

    Returns
    -------
    norm : scalar
        ``sqrt(sum over leaves of sum(leaf ** 2))``; differentiable.
    """
    leaves = tree_util.tree_leaves(tree)
    total = 0.0
    for leaf in leaves:
        total = total + cnp.sum(cnp.square(leaf))
    return cnp.sqrt(total)


def tree_vdot(a, b):
    """Inner product of two pytrees with the same structure (sum of leafwise vdots)."""
    total = 0.0
    for x, y in zip(tree_util.tree_leaves(a), tree_util.tree_leaves(b)):
        total = total + cnp.sum(x * y)
    return total


def tree_zeros_like(tree):
    """A pytree of zeros shaped like ``tree``, each leaf in the dtype it keeps.

    Parameters
    ----------
    tree : pytree of arrays

    Returns
    -------
    pytree
        NumPy zeros with each leaf's shape and dtype (float16, float32, complex64, ...
        stay); integer and boolean leaves and Python numbers give float64 zeros (see
        :func:`leaf_dtype`).
    """
    return tree_util.tree_map(lambda x: np.zeros(np.shape(x), dtype=leaf_dtype(x)), tree)


def leaf_dtype(x):
    """The dtype the optimisers keep for the leaf ``x``: its own when it is a floating
    or complex dtype (float16, float32, complex64, ...), float64 for integer and
    boolean leaves (a parameter moved by a fractional update is no longer an integer)
    and for Python floats and ints (complex128 for Python complex numbers)."""
    dt = getattr(x, "dtype", None)
    dt = np.asarray(x).dtype if dt is None else np.dtype(dt)
    return dt if dt.kind in "fc" else np.dtype(np.float64)


def cast_to(x, dtype):
    """``x`` in ``dtype``: unchanged when it already has it, a NumPy cast for NumPy
    values and Python numbers, ``chainrule.numpy.astype`` (differentiable) for traced
    values. Used to keep a hyperparameter held as a float64 scalar (a NumPy float64,
    a 0-d array, a schedule's value) from promoting a float32 leaf."""
    if getattr(x, "dtype", None) == dtype:
        return x
    if isinstance(x, (np.ndarray, np.generic, numbers.Number)):
        return np.asarray(x, dtype=dtype)
    return cnp.astype(x, dtype)


# ------------------------------------------------------------------ argument checks
# (used by the optimisers; each names the optimiser the user called)

def check_numbers(fname, **values):
    """TypeError unless each value is a real number (a Python or NumPy number, a real
    array or a traced value); ``learning_rate`` may also be a schedule (a callable),
    and ``momentum`` None."""
    for argname, v in values.items():
        if argname == "learning_rate" and callable(v) or argname == "momentum" and v is None:
            continue
        if isinstance(v, bool) or not (isinstance(v, numbers.Real) or
                                       getattr(getattr(v, "dtype", None), "kind", "") in "iuf"
                                       and hasattr(v, "shape")):
            what = ("a real number or a schedule (a callable count -> value)"
                    if argname == "learning_rate" else "a real number")
            raise TypeError(f"{fname}: {argname} must be {what}, got "
                            f"{type(v).__name__} {v!r}")


def as_args(args):
    """The extra arguments of an objective by ``scipy.optimize.minimize``'s rule: a tuple
    is the arguments; anything else (a list, an array, a number) is one argument."""
    return args if isinstance(args, tuple) else (args,)


def wrong_state(fname, state, expected):
    """The TypeError for an ``update`` given a state its ``init`` did not make."""
    hint = (" (call state = opt.init(params) first)" if state is None else
            ", not another optimiser's")
    article = "an" if expected[0] in "AEIOU" else "a"
    return TypeError(f"{fname}.update: got a state of type {type(state).__name__}, but "
                     f"{fname}'s state is {article} {expected}: pass the state its "
                     f"init(params) returned (or its last update){hint}")


def map_like(fname, f, updates, ref, *rest, what="gradient", made_for=True):
    """``tree_map(f, updates, ref, *rest)``, where ``updates`` (gradients) must have the
    structure and leaf shapes of ``ref`` (the parameters, or a state buffer that
    ``init(params)`` shaped like them): broadcasting would silently give every parameter
    the wrong update. ``fname`` starts the messages; ``made_for``: ``ref`` is state."""
    leaves, td = tree_util.tree_flatten(updates)
    ref_leaves, ref_td = tree_util.tree_flatten(ref)
    note = " the state was made for (by init(params))" if made_for else ""
    if td != ref_td:
        raise ValueError(f"{fname}: the {what}s do not have the structure of the "
                         f"parameters{note}: {_difference(updates, ref, what)}")
    others = [tree_util.tree_leaves(r) for r in rest]
    out = []
    for i, xs in enumerate(zip(leaves, ref_leaves, *others)):
        if getattr(xs[0], "shape", ()) != getattr(xs[1], "shape", ()):
            raise ValueError(f"{fname}: the {what} at {_leaf_path(ref, i)} has shape "
                             f"{tuple(np.shape(xs[0]))} but the parameter{note} has shape "
                             f"{tuple(np.shape(xs[1]))}")
        out.append(f(*xs))
    return tree_util.tree_unflatten(td, out)


def _leaf_path(tree, index):
    """The path (``[0]['W']``) of the leaf ``index`` of ``tree``, in tree_flatten order."""
    paths = []

    def walk(x, prefix):
        if isinstance(x, dict):
            for k in sorted(x):
                walk(x[k], f"{prefix}[{k!r}]")
        elif isinstance(x, (list, tuple)):
            fields = getattr(x, "_fields", None)
            for i, c in enumerate(x):
                walk(c, f"{prefix}.{fields[i]}" if fields else f"{prefix}[{i}]")
        elif x is not None:
            leaves = tree_util.tree_leaves(x)
            if len(leaves) == 1 and leaves[0] is x:
                paths.append(prefix or "the top level")
            else:
                paths.extend(f"{prefix}<leaf {j}>" for j in range(len(leaves)))
    walk(tree, "")
    return paths[index] if index < len(paths) else f"leaf {index}"


def _kind(x):
    if isinstance(x, dict):
        return f"a dict with keys {sorted(x)}"
    if isinstance(x, (list, tuple)):
        return f"a {type(x).__name__} of length {len(x)}"
    if x is None:
        return "None"
    return f"a {type(x).__name__}"


def _difference(a, b, what, path=""):
    """Where the pytrees ``a`` (gradients or updates) and ``b`` (parameters) first differ."""
    where = path or "the top level"
    if tree_util.tree_structure(a) == tree_util.tree_structure(b):
        return None
    differs = f"at {where} the {what}s have {{}}, the parameters {{}}"
    if type(a) is not type(b):
        return differs.format(_kind(a), _kind(b))
    if isinstance(a, dict):
        if sorted(a) != sorted(b):
            return differs.format(f"keys {sorted(a)}", f"keys {sorted(b)}")
        for k in sorted(a):
            d = _difference(a[k], b[k], what, f"{path}[{k!r}]")
            if d:
                return d
        return None
    if isinstance(a, (list, tuple)):
        if len(a) != len(b):
            return differs.format(_kind(a), _kind(b))
        for i, (x, y) in enumerate(zip(a, b)):
            d = _difference(x, y, what, f"{path}[{i}]")
            if d:
                return d
        return None
    return differs.format(_kind(a), _kind(b))
