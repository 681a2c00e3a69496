"""Mini-batching and splitting of in-memory data sets."""
import math

import numpy as np

from chainrule import tree_util

from .initializers import as_rng

__all__ = ["batches", "num_batches", "train_test_split"]


def _length(tree):
    leaves = tree_util.tree_leaves(tree)
    if not leaves:
        raise ValueError("batches: no arrays given")
    n = np.shape(leaves[0])[0]
    for leaf in leaves:
        if np.shape(leaf)[0] != n:
            raise ValueError("batches: arrays have different numbers of examples "
                             f"({n} and {np.shape(leaf)[0]})")
    return n


def num_batches(n, batch_size, drop_last=False):
    """Number of mini-batches of ``batch_size`` in ``n`` examples (None: one batch), as
    many as :func:`batches` yields: with ``drop_last`` a ``batch_size`` above ``n``
    gives none."""
    if batch_size is None:
        return 1 if n > 0 else 0
    return n // batch_size if drop_last else math.ceil(n / batch_size)


def batches(X, y=None, batch_size=32, shuffle=True, rng=None, drop_last=False):
    """Iterate over mini-batches of ``(X, y)``.

    Parameters
    ----------
    X : array or pytree of arrays
        Examples along the first axis.
    y : array or pytree of arrays, optional
        Targets along the first axis (same number of examples).
    batch_size : int or None, optional
        None: the whole data set as one batch.
    shuffle : bool, optional
        Visit the examples in a random order (a new permutation per call).
    rng : numpy.random.Generator or int, optional
        Source of the permutation (reproducible with a seed).
    drop_last : bool, optional
        Skip the last, smaller batch.

    Yields
    ------
    (X_batch, y_batch), or X_batch when ``y`` is None.

    Examples
    --------
    >>> for xb, yb in batches(X, y, batch_size=32, rng=0):
    ...     params = step(params, xb, yb)
    """
    data = X if y is None else (X, y)
    n = _length(data)
    if batch_size is None:
        batch_size = n
    if batch_size <= 0:
        raise ValueError("batches: batch_size must be positive")
    idx = as_rng(rng).permutation(n) if shuffle else np.arange(n)
    for start in range(0, n, batch_size):
        sel = idx[start:start + batch_size]
        if drop_last and sel.size < batch_size:
            break
        if not shuffle and sel.size == n:
            yield data
        else:
            yield tree_util.tree_map(lambda a: np.asarray(a)[sel], data)


def train_test_split(X, y, test_size=0.25, rng=None, shuffle=True):
    """Split arrays into training and test parts.

    Parameters
    ----------
    X, y : arrays with the same number of examples
    test_size : float or int, optional
        Fraction (in (0, 1)) or number of test examples.
    rng : numpy.random.Generator or int, optional
    shuffle : bool, optional

    Returns
    -------
    X_train, X_test, y_train, y_test
    """
    X, y = np.asarray(X), np.asarray(y)
    n = X.shape[0]
    n_test = int(round(test_size * n)) if isinstance(test_size, float) else int(test_size)
    if not 0 < n_test < n:
        raise ValueError(f"train_test_split: test_size gives {n_test} of {n} examples")
    idx = as_rng(rng).permutation(n) if shuffle else np.arange(n)
    test, train = idx[:n_test], idx[n_test:]
    return X[train], X[test], y[train], y[test]
