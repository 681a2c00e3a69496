"""chainrule.nn: neural-network helpers on chainrule's public API.

Parameters are plain pytrees; layers are pure functions::

    import chainrule.nn as nn
    import chainrule.optim as optim

    X, y = nn.datasets.make_moons(100, noise=0.1, random_state=0)
    model = nn.mlp([2, 25, 25, 1], activation="tanh")
    def loss(params, X, y):
        return nn.binary_nll(model.apply(params, X), y)
    hist = nn.fit(loss, model.init(0), (X, y), optim.adam(1e-2), epochs=200,
                  predict_fn=model.apply)
    nn.plot_decision_boundary(lambda Z: model.apply(hist.params, Z), X, y, "moons.png")

tqdm (progress bars), matplotlib (plots) and scikit-learn (data sets) are used when
installed and never needed to import this package.
"""
from . import activations, initializers, datasets  # noqa: F401
from .activations import (  # noqa: F401
    relu, leaky_relu, elu, tanh, sigmoid, log_sigmoid, softplus, silu, swish, gelu,
    softmax, log_softmax, logsumexp, identity, get_activation,
)
from .initializers import (  # noqa: F401
    glorot_uniform, glorot_normal, xavier_uniform, xavier_normal, he_uniform, he_normal,
    kaiming_uniform, kaiming_normal, lecun_uniform, lecun_normal, normal, uniform, zeros, ones, constant,
)
from .layers import (  # noqa: F401
    dense_init, dense, linear_init, linear, dropout, MLP, mlp, num_params,
)
from .losses import (  # noqa: F401
    mse, mean_squared_error, cross_entropy, softmax_cross_entropy, binary_nll,
    binary_cross_entropy_with_logits, sigmoid_binary_cross_entropy, l2_penalty, accuracy,
)
from .data import batches, num_batches, train_test_split  # noqa: F401
from .training import (  # noqa: F401
    fit, History, EarlyStopping, Callback, LambdaCallback, per_example_grads,
    accuracy_metric,
)
from .plotting import plot_history, plot_decision_boundary  # noqa: F401

__all__ = [
    "activations", "initializers", "datasets",
    "relu", "leaky_relu", "elu", "tanh", "sigmoid", "log_sigmoid", "softplus", "silu",
    "swish", "gelu", "softmax", "log_softmax", "logsumexp", "identity", "get_activation",
    "glorot_uniform", "glorot_normal", "xavier_uniform", "xavier_normal", "he_uniform",
    "he_normal", "kaiming_uniform", "kaiming_normal", "lecun_uniform", "lecun_normal", "normal", "uniform", "zeros", "ones",
    "constant", "dense_init", "dense", "linear_init", "linear", "dropout", "MLP", "mlp",
    "num_params", "mse", "mean_squared_error", "cross_entropy", "softmax_cross_entropy",
    "binary_nll", "binary_cross_entropy_with_logits", "sigmoid_binary_cross_entropy",
    "l2_penalty", "accuracy", "batches", "num_batches", "train_test_split", "fit",
    "History", "EarlyStopping", "Callback", "LambdaCallback", "per_example_grads",
    "accuracy_metric", "plot_history", "plot_decision_boundary",
]
