"""Losses and metrics, stable and differentiable (chainrule.numpy underneath)."""
import numpy as np

import chainrule.numpy as cnp
from chainrule import tree_util

from .activations import log_sigmoid, log_softmax

__all__ = ["mse", "mean_squared_error", "cross_entropy", "softmax_cross_entropy",
           "binary_nll", "binary_cross_entropy_with_logits", "sigmoid_binary_cross_entropy",
           "l2_penalty", "accuracy"]


def _reduce(values, reduction):
    if reduction == "mean":
        return cnp.mean(values)
    if reduction == "sum":
        return cnp.sum(values)
    if reduction in ("none", None):
        return values
    raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _as_array(x):
    """Traced values pass through; anything else becomes an ndarray."""
    return x if (hasattr(x, "shape") and hasattr(x, "dtype")) else np.asarray(x)


def _squeezed(shape):
    return tuple(d for d in shape if d != 1)


def _match(pred, target, name):
    """Reshape pred to target's shape when they differ only by size-1 axes
    (e.g. (N, 1) network outputs against (N,) labels), refusing silent broadcasting --
    and refusing a reshape too when they differ otherwise ((2, 3) against (3, 2), or
    (6,) against (2, 3), have the same size but pair the wrong entries)."""
    pshape, tshape = tuple(np.shape(pred)), tuple(np.shape(target))
    if pshape == tshape:
        return pred
    if _squeezed(pshape) == _squeezed(tshape):
        return cnp.reshape(pred, tshape)
    raise ValueError(f"{name}: prediction shape {pshape} does not match target shape {tshape}")


def mse(pred, target, reduction="mean"):
    """Mean squared error ``mean((pred - target)^2)``.

    Parameters
    ----------
    pred, target : arrays of the same size ((N, 1) against (N,) is accepted)
    reduction : {"mean", "sum", "none"}

    Returns
    -------
    scalar (or array with ``reduction="none"``)
    """
    target = _as_array(target)
    pred = _match(pred, target, "mse")
    return _reduce((pred - target) ** 2, reduction)


mean_squared_error = mse


def cross_entropy(logits, labels, reduction="mean", axis=-1):
    """Softmax cross-entropy from logits.

    Parameters
    ----------
    logits : array, shape (N, K)
    labels : array
        Integer class indices of shape (N,) (the logits' shape without the class
        axis; (N, 1) is accepted too) in ``[0, K)`` (IndexError otherwise, negative
        labels included), or one-hot / probability vectors of shape (N, K). Other
        shapes raise a ValueError (they would broadcast silently).
    reduction : {"mean", "sum", "none"}
    axis : int, optional
        Class axis of ``logits``.

    Returns
    -------
    scalar
        ``-mean(sum(labels_onehot * log_softmax(logits)))``.
    """
    logp = log_softmax(logits, axis=axis)
    labels_arr = _as_array(labels)
    if np.issubdtype(labels_arr.dtype, np.integer):
        # NumPy or traced labels (per-example gradients under vmap) alike
        classes = logits.shape[axis]
        labels_arr = _match_labels(labels_arr, logits.shape, axis)
        bad = _check_labels(labels_arr, classes)
        onehot = cnp.where(labels_arr[..., None] == np.arange(classes), 1.0, 0.0)
        if axis not in (-1, logits.ndim - 1):
            onehot = cnp.moveaxis(onehot, -1, axis)
        per_example = -cnp.sum(onehot * logp, axis=axis)
        if bad is not None:      # under vmap: a bad label's example (and its gradient)
            per_example = per_example * cnp.where(bad, np.nan, 1.0)      # is NaN, never 0
    else:
        if tuple(labels_arr.shape) != tuple(logits.shape):
            raise ValueError(f"cross_entropy: one-hot labels of shape {tuple(labels_arr.shape)} "
                             f"do not match logits {tuple(logits.shape)}")
        per_example = -cnp.sum(labels_arr * logp, axis=axis)
    return _reduce(per_example, reduction)


softmax_cross_entropy = cross_entropy


def _match_labels(labels, logits_shape, axis):
    """Integer labels of the logits' shape without the class axis (or with a trailing
    size-1 axis, Keras-style ``(N, 1)``, squeezed here); other shapes -- ``(1,)`` or a
    scalar for a batch, ``(N - 1,)`` -- would broadcast against the logits silently."""
    logits_shape = tuple(logits_shape)
    ax = axis % len(logits_shape) if logits_shape else 0
    expected = logits_shape[:ax] + logits_shape[ax + 1:]
    lshape = tuple(labels.shape)
    if lshape == expected:
        return labels
    if lshape == expected + (1,):
        return cnp.reshape(labels, expected)
    raise ValueError(f"cross_entropy: integer labels of shape {lshape} do not fit logits of "
                     f"shape {logits_shape} (class axis {axis}): expected labels of shape "
                     f"{expected}, one class index per example")


def _check_labels(labels, classes):
    """Raise IndexError for an integer label outside ``[0, classes)`` (a negative one
    included: NumPy indexing would wrap it around, a one-hot comparison would count
    the example as 0). Under vmap, where a batched label has no single value to
    test, returns the mask of bad labels instead (their losses become NaN)."""
    bad = (labels < 0) | (labels >= classes)
    try:
        any_bad = bool(cnp.any(bad))
    except TypeError:           # vmap: the labels are batched
        return bad
    if any_bad:
        try:
            values = np.asarray(labels)
        except TypeError:       # a traced label: name the rule without its value
            raise IndexError(f"cross_entropy: a label is out of range for {classes} "
                             f"classes (labels must be integers in [0, {classes}))") \
                from None
        where = tuple(int(i) for i in np.argwhere((values < 0) | (values >= classes))[0])
        raise IndexError(f"cross_entropy: label {int(values[where])} at index {where} is "
                         f"out of range for {classes} classes (labels must be integers in "
                         f"[0, {classes}))")
    return None


def binary_nll(logits, y, reduction="mean"):
    """Binary negative log-likelihood of labels ``y`` in {0, 1} given logits.

    ``-mean(y log p + (1 - y) log(1 - p))`` with ``p = sigmoid(logits)``, computed
    stably as ``-mean(y log_sigmoid(z) + (1 - y) log_sigmoid(-z))``: no ``log(0)`` for
    confident predictions, and full relative accuracy for confident correct ones (the
    shorter ``softplus(z) - y z`` loses it: at ``z = 30, y = 1`` it cancels ``30 - 30``).
    ``reduction="sum"`` gives the homework's ``nll.sum()``.

    Parameters
    ----------
    logits : array, shape (N,) or (N, 1)
    y : array of 0/1 (or probabilities), shape (N,) or (N, 1)
    reduction : {"mean", "sum", "none"}

    Returns
    -------
    scalar
    """
    y_arr = _as_array(y)
    z = _match(logits, y_arr, "binary_nll")
    return _reduce(-(y_arr * log_sigmoid(z) + (1.0 - y_arr) * log_sigmoid(-z)), reduction)


binary_cross_entropy_with_logits = binary_nll
sigmoid_binary_cross_entropy = binary_nll


def l2_penalty(params, weights_only=False):
    """``sum of squares`` of the parameters (for L2 regularisation).

    Parameters
    ----------
    params : pytree
    weights_only : bool, optional
        Count only leaves with two or more dimensions (skip biases).
    """
    total = 0.0
    for leaf in tree_util.tree_leaves(params):
        if weights_only and np.ndim(leaf) < 2:
            continue
        total = total + cnp.sum(leaf * leaf)
    return total


def accuracy(outputs, labels, threshold=0.0):
    """Fraction of correct predictions.

    Parameters
    ----------
    outputs : array
        Shape (N, K) with K > 1: class scores (argmax is the prediction).
        Shape (N,) or (N, 1): binary scores, predicted class ``outputs > threshold``
        (threshold 0 for logits; pass 0.5 for probabilities).
    labels : array
        Integer labels (N,), or one-hot (N, K).
    threshold : float, optional

    Returns
    -------
    float
    """
    out = np.asarray(outputs)
    lab = np.asarray(labels)
    if out.ndim >= 2 and out.shape[-1] > 1:
        pred = np.argmax(out, axis=-1)
        if lab.ndim == out.ndim and lab.shape[-1] == out.shape[-1]:
            lab = np.argmax(lab, axis=-1)
        elif lab.shape != pred.shape and lab.shape != pred.shape + (1,):
            raise ValueError(f"accuracy: labels of shape {lab.shape} do not fit outputs of "
                             f"shape {out.shape} ({out.shape[-1]} classes): pass integer "
                             f"labels of shape {pred.shape} or one-hot labels of shape "
                             f"{out.shape}")
    else:
        pred = (out.reshape(-1) > threshold).astype(int)
        lab = lab.reshape(-1)
        if lab.size != pred.size:
            raise ValueError(f"accuracy: {lab.size} labels for {pred.size} binary outputs "
                             f"(outputs of shape {out.shape}, labels of shape "
                             f"{np.shape(labels)}): pass one label per example")
    lab = lab.reshape(pred.shape)
    return float(np.mean(pred == lab))
