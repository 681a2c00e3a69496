"""Pytree helpers shared by the optimisers (public API only)."""
import numpy as np

import chainrule.numpy as cnp
from chainrule import tree_util

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
    arrays = []
    for leaf in leaves:
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
            parts = [cnp.reshape(v[offsets[i]:offsets[i + 1]], shapes[i])
                     for i in range(len(shapes))]
        return tree_util.tree_unflatten(treedef, parts)

    return flat, unravel


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
    """A pytree of float64 zeros shaped like ``tree``."""
    return tree_util.tree_map(lambda x: np.zeros(np.shape(x), dtype=np.float64), tree)
