"""Functional layers: parameters are plain pytrees, layers are pure functions."""
import numpy as np

import chainrule.numpy as cnp
from chainrule import tree_util

from .activations import get_activation
from .initializers import as_rng, glorot_normal, zeros

__all__ = ["dense_init", "dense", "linear_init", "linear", "dropout", "MLP", "mlp",
           "num_params"]


def dense_init(rng, in_features, out_features, w_init=None, b_init=zeros, bias=True):
    """Parameters of a dense (fully connected) layer.

    Parameters
    ----------
    rng : numpy.random.Generator, int or None
    in_features, out_features : int
    w_init : callable, optional
        ``w_init(rng, shape)``; default Glorot normal.
    b_init : callable, optional
        ``b_init(rng, shape)``; default zeros.
    bias : bool, optional
        Whether to include the bias ``b``.

    Returns
    -------
    dict
        ``{"W": (in_features, out_features), "b": (out_features,)}`` (``"b"`` omitted
        when ``bias=False``).
    """
    rng = as_rng(rng)
    w_init = glorot_normal() if w_init is None else w_init
    params = {"W": np.asarray(w_init(rng, (in_features, out_features)), dtype=np.float64)}
    if bias:
        params["b"] = np.asarray(b_init(rng, (out_features,)), dtype=np.float64)
    return params


def dense(params, x):
    """Apply a dense layer: ``x @ W + b``.

    Parameters
    ----------
    params : dict
        ``{"W": ..., "b": ...}`` from :func:`dense_init` (``"b"`` optional).
    x : array, shape (..., in_features)

    Returns
    -------
    array, shape (..., out_features)
    """
    out = x @ params["W"]
    if "b" in params and params["b"] is not None:
        out = out + params["b"]
    return out


linear_init = dense_init
linear = dense


def dropout(x, rate, rng=None, train=True):
    """Inverted dropout: zero each entry with probability ``rate`` and scale the rest
    by ``1 / (1 - rate)`` during training; the identity at evaluation.

    Parameters
    ----------
    x : array
    rate : float
        Drop probability in ``[0, 1)``.
    rng : numpy.random.Generator or int, optional
        Source of the mask; required when ``train`` and ``rate > 0``. Pass the same
        Generator on every call (it advances) for fresh masks.
    train : bool, optional
        False: return ``x`` unchanged.

    Returns
    -------
    array like ``x``
    """
    if not 0.0 <= rate < 1.0:
        raise ValueError(f"dropout: rate must be in [0, 1), got {rate}")
    if not train or rate == 0.0:
        return x
    if rng is None:
        raise ValueError("dropout: pass rng= (a numpy Generator) when train=True")
    keep = as_rng(rng).random(tuple(x.shape) if hasattr(x, "shape") else np.shape(x)) >= rate
    return cnp.where(keep, x / (1.0 - rate), 0.0)


def num_params(params):
    """Total number of scalar parameters in a pytree."""
    return int(sum(np.size(leaf) for leaf in tree_util.tree_leaves(params)))


class MLP:
    """A multi-layer perceptron: dense layers with an activation between them.

    Parameters
    ----------
    sizes : sequence of int
        Layer widths including input and output, e.g. ``[2, 25, 25, 1]``.
    activation : str or callable, optional
        Hidden activation (``"tanh"`` default; ``"relu"``, ``"sigmoid"``, ...).
    output_activation : str or callable, optional
        Applied to the last layer (default None: the outputs are logits/raw values).
    w_init, b_init : callable, optional
        Initialisers ``init(rng, shape)`` (default Glorot normal and zeros).
    dropout : float, optional
        Dropout rate applied after each hidden activation when ``train=True``.

    Notes
    -----
    ``init_fn, apply_fn = mlp(...)`` unpacks into the two functions.
    Parameters are a list of ``{"W", "b"}`` dicts, one per layer.

    Examples
    --------
    >>> model = MLP([2, 25, 25, 1], activation="tanh")
    >>> params = model.init(0)
    >>> logits = model.apply(params, X)          # (N, 1)
    """

    def __init__(self, sizes, activation="tanh", output_activation=None, w_init=None,
                 b_init=zeros, dropout=0.0):
        sizes = [int(s) for s in sizes]
        if len(sizes) < 2:
            raise ValueError("MLP: sizes needs at least an input and an output size")
        if any(s < 1 for s in sizes):
            raise ValueError(f"MLP: sizes must be positive, got {sizes}")
        self.sizes = sizes
        self._shapes = [((i, o), (o,)) for i, o in zip(sizes[:-1], sizes[1:])]
        self.activation = get_activation(activation)
        self.output_activation = get_activation(output_activation)
        self.w_init = w_init                  # None: dense_init's default (Glorot normal)
        self.b_init = b_init
        self.dropout = float(dropout)

    def init(self, rng=None):
        """Initial parameters: a list of ``{"W": (n_in, n_out), "b": (n_out,)}``."""
        rng = as_rng(rng)
        return [dense_init(rng, i, o, self.w_init, self.b_init)
                for i, o in zip(self.sizes[:-1], self.sizes[1:])]

    def apply(self, params, x, *, rng=None, train=False):
        """Forward pass.

        Parameters
        ----------
        params : list of dict
        x : array, shape (..., sizes[0])
        rng : numpy.random.Generator, optional
            Needed for dropout when ``train=True``.
        train : bool, optional
            Enables dropout.

        Returns
        -------
        array, shape (..., sizes[-1])
        """
        if len(params) != len(self.sizes) - 1:
            raise ValueError(f"MLP.apply: expected {len(self.sizes) - 1} layers of "
                             f"parameters, got {len(params)}")
        self._check(params, x)
        h = x
        for layer in params[:-1]:
            h = self.activation(dense(layer, h))
            if self.dropout and train:
                h = dropout(h, self.dropout, rng=rng, train=True)
        return self.output_activation(dense(params[-1], h))

    __call__ = apply

    def _check(self, params, x):
        """ValueError naming the layer whose parameters, or the input whose last axis,
        do not fit ``sizes`` (a bias of the wrong shape would broadcast silently)."""
        xs = x.shape if hasattr(x, "shape") else np.shape(x)
        if not xs or xs[-1] != self.sizes[0]:
            raise ValueError(f"MLP.apply: x has shape {tuple(xs)}, but this MLP takes "
                             f"{self.sizes[0]} input features (x.shape[-1] must be "
                             f"sizes[0] = {self.sizes[0]})")
        for k, (layer, (w_shape, b_shape)) in enumerate(zip(params, self._shapes)):
            W = layer["W"] if isinstance(layer, dict) and "W" in layer else None
            if W is None:
                raise ValueError(f"MLP.apply: layer {k} must be a dict with 'W' (and 'b'), "
                                 f"got {type(layer).__name__}")
            if (W.shape if hasattr(W, "shape") else np.shape(W)) != w_shape:
                raise ValueError(f"MLP.apply: layer {k}'s W has shape {np.shape(W)}, but "
                                 f"sizes {self.sizes} give it shape {w_shape}")
            b = layer.get("b")
            if b is not None and (b.shape if hasattr(b, "shape") else
                                  np.shape(b)) != b_shape:
                raise ValueError(f"MLP.apply: layer {k}'s b has shape {np.shape(b)}, but "
                                 f"sizes {self.sizes} give it shape {b_shape}")

    def __iter__(self):
        return iter((self.init, self.apply))

    def __repr__(self):
        act = getattr(self.activation, "__name__", repr(self.activation))
        return f"MLP(sizes={self.sizes}, activation={act})"


def mlp(sizes, activation="tanh", output_activation=None, w_init=None, b_init=zeros,
        dropout=0.0):
    """Build a multi-layer perceptron; see :class:`MLP`.

    Returns
    -------
    MLP
        With ``.init(rng) -> params`` and ``.apply(params, x)``; unpacks as
        ``init_fn, apply_fn = mlp(...)``.
    """
    return MLP(sizes, activation, output_activation, w_init, b_init, dropout)
