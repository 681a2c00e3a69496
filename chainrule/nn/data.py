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
    """Split arrays into training and test parts, with scikit-learn's sizes.

    Parameters
    ----------
    X, y : arrays with the same number of examples ``n``
    test_size : float or int, optional
        A float in (0, 1) is a fraction: the test part has ``ceil(test_size * n)``
        examples (the product in floating point, as scikit-learn computes it). An int
        is the number of test examples. The training part is the rest. Either part
        empty raises a ValueError.
    rng : numpy.random.Generator or int, optional
        Source of the permutation (scikit-learn's ``random_state``; the same seed gives
        another permutation than scikit-learn's).
    shuffle : bool, optional
        False: no permutation; as in scikit-learn, the training part is the first
        ``n - n_test`` examples and the test part the last ``n_test``.

    Returns
    -------
    X_train, X_test, y_train, y_test

    Examples
    --------
    >>> X_tr, X_te, y_tr, y_te = train_test_split(np.zeros((10, 2)), np.zeros(10))
    >>> len(X_tr), len(X_te)            # ceil(0.25 * 10) = 3 test examples
    (7, 3)
    """
    X, y = np.asarray(X), np.asarray(y)
    n = X.shape[0]
    if y.shape[:1] != (n,):
        raise ValueError(f"train_test_split: X has {n} examples but y has "
                         f"{y.shape[0] if y.ndim else 'none (a scalar)'}")
    kind = np.asarray(test_size).dtype.kind
    if isinstance(test_size, (bool, np.bool_)) or np.ndim(test_size) != 0 or kind not in "iuf":
        raise TypeError(f"train_test_split: test_size must be a fraction in (0, 1) or a "
                        f"number of examples, got {test_size!r}")
    if kind == "f":
        if not 0.0 < test_size < 1.0:
            raise ValueError(f"train_test_split: a fractional test_size must be in (0, 1), "
                             f"got {test_size}")
        n_test = math.ceil(float(test_size) * n)
    else:
        n_test = int(test_size)
    if not 0 < n_test < n:
        raise ValueError(f"train_test_split: test_size={test_size!r} gives {n_test} test "
                         f"and {n - n_test} training examples of {n}; both must be "
                         f"at least 1")
    if shuffle:
        idx = as_rng(rng).permutation(n)
        test, train = idx[:n_test], idx[n_test:]
    else:
        train, test = np.arange(n - n_test), np.arange(n - n_test, n)
    return X[train], X[test], y[train], y[test]
