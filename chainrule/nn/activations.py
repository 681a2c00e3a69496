"""Activation functions, differentiable and numerically stable, on chainrule.numpy."""
import math

import chainrule.numpy as cnp
from chainrule.scipy import special as _special

__all__ = ["relu", "leaky_relu", "elu", "tanh", "sigmoid", "log_sigmoid", "softplus",
           "silu", "swish", "gelu", "softmax", "log_softmax", "logsumexp", "identity",
           "get_activation"]


def identity(x):
    """Return ``x`` unchanged (the "linear" activation)."""
    return x


def relu(x):
    """Rectified linear unit ``max(x, 0)`` (derivative 0 at 0, as in JAX).

    NaN stays NaN (as in ``numpy.maximum``, JAX and PyTorch): a diverged input is not
    silently turned into 0."""
    return cnp.where(x <= 0, 0.0, x)


def leaky_relu(x, negative_slope=0.01):
    """``x`` for ``x > 0``, ``negative_slope * x`` otherwise."""
    return cnp.where(x > 0, x, negative_slope * x)


def elu(x, alpha=1.0):
    """Exponential linear unit: ``x`` for ``x > 0``, ``alpha * (exp(x) - 1)`` otherwise."""
    negative_part = cnp.where(x > 0, 0.0, x)          # no overflow for large x
    return cnp.where(x > 0, x, alpha * cnp.expm1(negative_part))


def tanh(x):
    """Hyperbolic tangent."""
    return cnp.tanh(x)


def sigmoid(x):
    """Logistic sigmoid ``1 / (1 + exp(-x))`` (SciPy's ``expit``: no overflow for any
    ``x``, full accuracy in both tails, one primitive with derivative ``s (1 - s)``)."""
    return _special.expit(x)


def softplus(x):
    """``log(1 + exp(x))``, stable for large ``|x|`` (``scipy.special.softplus``)."""
    return _special.softplus(x)


def log_sigmoid(x):
    """``log(sigmoid(x)) = -softplus(-x)``, stable for large ``|x|`` (SciPy's
    ``log_expit``, one primitive with derivative ``sigmoid(-x)``)."""
    return _special.log_expit(x)


def silu(x):
    """Sigmoid-weighted linear unit ``x * sigmoid(x)`` (also called swish)."""
    return x * sigmoid(x)


swish = silu


def gelu(x, approximate=True):
    """Gaussian error linear unit.

    Parameters
    ----------
    x : array
    approximate : bool, optional
        True (default, as in JAX): the tanh approximation
        ``x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))``; False: the exact
        ``x/2 (1 + erf(x / sqrt 2))`` (uses ``chainrule.scipy.special.erf``).
    """
    if approximate:
        c = math.sqrt(2.0 / math.pi)
        return 0.5 * x * (1.0 + cnp.tanh(c * (x + 0.044715 * x ** 3)))
    return 0.5 * x * (1.0 + _special.erf(x / math.sqrt(2.0)))


# The softmax family is chainrule.scipy.special's (fused primitives: stable, and a row
# that is entirely -inf has value -inf/nan as in SciPy but derivative 0, never nan),
# with the last axis as the default.

def logsumexp(x, axis=-1, keepdims=False):
    """``log(sum(exp(x), axis))`` computed stably (``scipy.special.logsumexp``)."""
    return _special.logsumexp(x, axis=axis, keepdims=keepdims)


def log_softmax(x, axis=-1):
    """``x - logsumexp(x, axis)``: log-probabilities from logits, stable
    (``scipy.special.log_softmax``)."""
    return _special.log_softmax(x, axis=axis)


def softmax(x, axis=-1):
    """``exp(x) / sum(exp(x), axis)``, stable (``scipy.special.softmax``)."""
    return _special.softmax(x, axis=axis)


_BY_NAME = {
    "relu": relu, "leaky_relu": leaky_relu, "elu": elu, "tanh": tanh, "sigmoid": sigmoid,
    "softplus": softplus, "log_sigmoid": log_sigmoid, "silu": silu, "swish": swish,
    "gelu": gelu, "softmax": softmax, "log_softmax": log_softmax, "identity": identity,
    "linear": identity, None: identity,
}


def get_activation(activation):
    """Look an activation up by name (``"tanh"``, ``"relu"``, ...) or return a callable.

    Parameters
    ----------
    activation : str, callable or None
        None and ``"linear"`` mean the identity.

    Returns
    -------
    callable
    """
    if callable(activation):
        return activation
    try:
        return _BY_NAME[activation]
    except KeyError:
        names = sorted(k for k in _BY_NAME if k)
        raise ValueError(f"unknown activation {activation!r}; known: {names}") from None
