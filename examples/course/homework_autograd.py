"""The homework's own reverse-mode autodiff (seed 003), reimplemented from its code.

Seed 003 ("Homework 6: Vectorization") trains a 2-25-25-1 sigmoid network on make_moons
with a hand-made reverse-mode library, in two versions:

* ``scalar_library()``: Part 0 — one ``AutogradValue`` per *number*. Weights are NumPy
  object arrays of AutogradValues, so ``np.matmul``, ``np.exp`` and ``np.log`` run
  element by element in Python and build one graph node per scalar operation. The
  homework reports 20.36 steps/s for a 2-5-5-1 network with it.
* ``vectorized_library()``: Part 1 — one ``AutogradValue`` per *array*, each operation
  with a vector-Jacobian product. The homework reports 1,332.97 steps/s for 2-25-25-1.

Both are the homework's code (classes, operator overloading, ``backward`` with visit
counts, ``NeuralNetwork``, ``nll``, ``nll_and_grad``) with only what is needed to run it
outside the notebook: each version lives in a factory so the two can coexist (the
notebook redefines the same names in place), and ``hw6_support.gradient_descent`` — not
part of the seed — is reconstructed from its progress line ``Loss 2.37, accuracy: 1.00``
(one ``nll_and_grad``, one update ``w - lr * g`` per weight, one ``accuracy``).
Nothing is optimised: these are the baselines chainrule is timed against.
"""
import math
from types import SimpleNamespace

import numpy as np


def _neural_network_class(pad, matmul, sigmoid, log):
    """The homework's NeuralNetwork, bound to one library's pad/matmul/sigmoid/log."""

    class NeuralNetwork:
        def __init__(self, dims, hidden_sizes=[], rng=None):
            # Create a list of all layer dimensions (including input and output)
            sizes = [dims] + hidden_sizes + [1]
            normal = np.random.normal if rng is None else rng.normal
            # Create each layer weight matrix (including bias dimension)
            self.weights = [normal(scale=1., size=(i + 1, o))
                            for (i, o) in zip(sizes[:-1], sizes[1:])]

        def prediction_function(self, X, w):
            # Iterate through the weights of each layer and apply the linear function
            # and activation
            for wi in w[:-1]:
                X = pad(X)  # Only if we're using bias
                X = sigmoid(matmul(X, wi))
            # For the output layer, we don't apply the activation
            X = pad(X)
            return matmul(X, w[-1])

        def predict(self, X):
            return (self.prediction_function(X, self.weights) > 0)

        def predict_probability(self, X):
            return sigmoid(self.prediction_function(X, self.weights))

        def accuracy(self, X, y):
            y = y.reshape((-1, 1))
            return (self.predict(X) == y).mean()

        def nll(self, X, y, w=None):
            if w is None:
                w = self.weights
            y = y.reshape((-1, 1))
            xw = self.prediction_function(X, w)
            py = sigmoid(xw * (2 * y - 1))
            nll = -(log(py))
            return nll.sum()

    return NeuralNetwork


def _train_step(model, X, y, lr, with_accuracy):
    """One iteration of hw6_support.gradient_descent (reconstructed)."""
    loss, grads = model.nll_and_grad(X, y)
    model.weights = [w - lr * g for (w, g) in zip(model.weights, grads)]
    acc = model.accuracy(X, y) if with_accuracy else None
    return loss, acc


def _gradient_descent(model, X, y, lr=3e-2, steps=250, callback=None):
    """hw6_support.gradient_descent (reconstructed): full-batch steps of size lr on the
    summed NLL, the loss and accuracy reported at each step. Returns the losses."""
    losses = []
    for i in range(steps):
        loss, acc = _train_step(model, X, y, lr, with_accuracy=True)
        losses.append(float(loss))
        if callback is not None:
            callback(i, loss, acc)
    return losses


# ======================================================= Part 0: one node per scalar

def scalar_library():
    """The homework's scalar reverse mode (Part 0). Returns a namespace with
    AutogradValue, NeuralNetwork, wrap_array, unwrap_gradient, gradient_descent."""

    class AutogradValue:
        '''Base class for automatic differentiation operations. Represents variable
        declaration. Subclasses overwrite func and grads to define new operations.'''

        def __init__(self, *args):
            self.parents = list(args)
            self.parent_values = [arg.value if isinstance(arg, AutogradValue) else arg
                                  for arg in args]
            self.forward_grads = {}
            self.value = self.forward_pass()
            self.grad = 0.  # Used later for reverse mode

        def func(self, input):
            return input

        def grads(self, *args):
            return (1,)

        def forward_pass(self):
            # Calls func to compute the value of this operation
            return self.func(*self.parent_values)

        def __repr__(self):
            return str(self.value)

    class _add(AutogradValue):
        def func(self, a, b):
            return a + b

        def grads(self, a, b):
            return 1., 1.

    class _sub(AutogradValue):
        def func(self, a, b):
            return a - b

        def grads(self, a, b):
            return 1., -1.

    class _neg(AutogradValue):
        def func(self, a):
            return -a

        def grads(self, a):
            return (-1.,)

    class _mul(AutogradValue):
        def func(self, a, b):
            return a * b

        def grads(self, a, b):
            return b, a

    class _div(AutogradValue):
        def func(self, a, b):
            return a / b

        def grads(self, a, b):
            return 1 / b, -a / (b * b)

    class _exp(AutogradValue):
        def func(self, a):
            return math.exp(a)

        def grads(self, a):
            return (math.exp(a),)

    class _log(AutogradValue):
        def func(self, a):
            return math.log(a)

        def grads(self, a):
            return (1 / a,)

    def backward_pass(self):
        local_grads = self.grads(*self.parent_values)
        # Loop through pairs of parents and their corresponding grads
        for node, grad in zip(self.parents, local_grads):
            # Update the gradient of each AutogradValue parent
            if isinstance(node, AutogradValue):
                node.grad += self.grad * grad

    def backward(self):
        # We call backward on the loss, so dL/dL = 1
        self.grad = 1.
        queue = [self]
        order = []
        # Additionally keep track of the visit counts for each node
        counts = {}
        while len(queue) > 0:
            node = queue.pop()
            # Rather than removing nodes from the order [slow, O(N)],
            # just mark that it has been visited again [O(1)]
            if isinstance(node, AutogradValue):
                if node in counts:
                    counts[node] += 1
                else:
                    counts[node] = 1
                order.append(node)
                queue.extend(node.parents)
        # Go through the order, but only call backward pass once we're at
        # the last visit for a given node
        for node in order:
            counts[node] -= 1
            if counts[node] == 0:
                node.backward_pass()

    AutogradValue.backward_pass = backward_pass
    AutogradValue.backward = backward
    AutogradValue.exp = lambda a: _exp(a)
    AutogradValue.log = lambda a: _log(a)
    AutogradValue.__add__ = lambda a, b: _add(a, b)
    AutogradValue.__radd__ = lambda a, b: _add(b, a)
    AutogradValue.__sub__ = lambda a, b: _sub(a, b)
    AutogradValue.__rsub__ = lambda a, b: _sub(b, a)
    AutogradValue.__neg__ = lambda a: _neg(a)
    AutogradValue.__mul__ = lambda a, b: _mul(a, b)
    AutogradValue.__rmul__ = lambda a, b: _mul(b, a)
    AutogradValue.__truediv__ = lambda a, b: _div(a, b)
    AutogradValue.__rtruediv__ = lambda a, b: _div(b, a)

    # The network helpers of the homework. Weights are object arrays here, never an
    # AutogradValue themselves, so NumPy's own matmul/pad/exp/log run on the elements.
    def pad(a):
        return a.pad() if isinstance(a, AutogradValue) else np.pad(
            a, ((0, 0), (0, 1)), constant_values=1., mode='constant')

    def matmul(a, b):
        return np.matmul(a, b)   # (_matmul exists only in the vectorized Part 1)

    def sigmoid(x):
        return 1. / (1. + (-x).exp()) if isinstance(x, AutogradValue) else 1. / (1. + np.exp(-x))

    def log(x):
        return x.log() if isinstance(x, AutogradValue) else np.log(x)

    NeuralNetwork = _neural_network_class(pad, matmul, sigmoid, log)

    def element_map(f, a):
        shape = a.shape
        flat_wrapped = np.asarray([f(ai) for ai in a.flatten()])
        return flat_wrapped.reshape(shape)

    def wrap_array(a):
        return element_map(AutogradValue, a)

    def unwrap_gradient(a):
        return element_map(lambda ai: ai.grad, a)

    def nll_and_grad(self, X, y):
        # Wrap the array we want to differentiate with respect to (weights)
        w = [wrap_array(wi) for wi in self.weights]
        # Run the NLL function and call backward to populate the gradients
        nll = self.nll(X, y, w)
        nll.backward()
        # Get both the nll value and gradient
        return nll.value, [unwrap_gradient(wi) for wi in w]

    NeuralNetwork.nll_and_grad = nll_and_grad
    return SimpleNamespace(name="scalar", AutogradValue=AutogradValue,
                           NeuralNetwork=NeuralNetwork, wrap_array=wrap_array,
                           unwrap_gradient=unwrap_gradient,
                           gradient_descent=_gradient_descent, train_step=_train_step)


# ====================================================== Part 1: one node per array

def vectorized_library():
    """The homework's vectorized reverse mode (Part 1): vector-Jacobian products."""

    class AutogradValue:
        def __init__(self, *args):
            self.parents = list(args)
            self.parent_values = [arg.value if isinstance(arg, AutogradValue) else arg
                                  for arg in args]
            self.forward_grads = {}
            self.value = self.forward_pass()
            self.grad = 0.  # Used later for reverse mode

        def func(self, input):
            return input

        def forward_pass(self):
            return self.func(*self.parent_values)

        def __repr__(self):
            return str(self.value)

    class _add(AutogradValue):
        def func(self, a, b):
            return a + b

        def vjp(self, grad, a, b):
            return grad, grad

    class _square(AutogradValue):
        def func(self, a):
            return a ** 2

        def vjp(self, grad, a):
            return (2 * a * grad,)

    class _pad(AutogradValue):
        def func(self, a):
            return np.pad(a, ((0, 0), (0, 1)), constant_values=1., mode='constant')

        def vjp(self, grad, a):
            return (grad[:, :-1],)

    class _sub(AutogradValue):
        def func(self, a, b):
            return a - b

        def vjp(self, grad, a, b):
            return grad, -grad

    class _neg(AutogradValue):
        def func(self, a):
            return -a

        def vjp(self, grad, a):
            return (-grad,)

    class _mul(AutogradValue):
        def func(self, a, b):
            return a * b

        def vjp(self, grad, a, b):
            return b * grad, a * grad

    class _div(AutogradValue):
        def func(self, a, b):
            return a / b

        def vjp(self, grad, a, b):
            return grad / b, grad * (-a / (b * b))

    class _exp(AutogradValue):
        def func(self, a):
            return np.exp(a)

        def vjp(self, grad, a):
            return (grad * np.exp(a),)

    class _log(AutogradValue):
        def func(self, a):
            return np.log(a)

        def vjp(self, grad, a):
            return (grad / a,)

    class _sum(AutogradValue):
        def func(self, a):
            return np.sum(a)

        def vjp(self, grad, a):
            return (grad * np.ones_like(a),)

    class _matmul(AutogradValue):
        def func(self, a, b):
            return np.matmul(a, b)

        def vjp(self, grad, a, b):
            return np.dot(grad, b.T), np.dot(grad.T, a).T

    def backward_pass(self):
        local_vjps = self.vjp(self.grad, *self.parent_values)
        # Loop through pairs of parents and their corresponding grads
        for node, vjp in zip(self.parents, local_vjps):
            # Update the gradient of each AutogradValue parent
            if isinstance(node, AutogradValue):
                node.grad += vjp

    def backward(self):
        self.grad = 1.
        queue = [self]
        order = []
        counts = {}
        while len(queue) > 0:
            node = queue.pop()
            if isinstance(node, AutogradValue):
                if node in counts:
                    counts[node] += 1
                else:
                    counts[node] = 1
                order.append(node)
                queue.extend(node.parents)
        for node in order:
            counts[node] -= 1
            if counts[node] == 0:
                node.backward_pass()

    AutogradValue.backward_pass = backward_pass
    AutogradValue.backward = backward
    AutogradValue.vjp = lambda self, g, a: (1.,)
    AutogradValue.exp = lambda a: _exp(a)
    AutogradValue.log = lambda a: _log(a)
    AutogradValue.pad = lambda a: _pad(a)
    AutogradValue.sum = lambda a: _sum(a)
    AutogradValue.matmul = lambda a, b: _matmul(a, b)
    AutogradValue.__add__ = lambda a, b: _add(a, b)
    AutogradValue.__radd__ = lambda a, b: _add(b, a)
    AutogradValue.__sub__ = lambda a, b: _sub(a, b)
    AutogradValue.__rsub__ = lambda a, b: _sub(b, a)
    AutogradValue.__neg__ = lambda a: _neg(a)
    AutogradValue.__mul__ = lambda a, b: _mul(a, b)
    AutogradValue.__rmul__ = lambda a, b: _mul(b, a)
    AutogradValue.__truediv__ = lambda a, b: _div(a, b)
    AutogradValue.__rtruediv__ = lambda a, b: _div(b, a)

    def pad(a):
        return a.pad() if isinstance(a, AutogradValue) else np.pad(
            a, ((0, 0), (0, 1)), constant_values=1., mode='constant')

    def matmul(a, b):
        return _matmul(a, b) if isinstance(a, AutogradValue) or isinstance(
            b, AutogradValue) else np.matmul(a, b)

    def sigmoid(x):
        return 1. / (1. + (-x).exp()) if isinstance(x, AutogradValue) else 1. / (1. + np.exp(-x))

    def log(x):
        return x.log() if isinstance(x, AutogradValue) else np.log(x)

    NeuralNetwork = _neural_network_class(pad, matmul, sigmoid, log)

    def nll_and_grad(self, X, y):
        w = [AutogradValue(wi) for wi in self.weights]
        nll = self.nll(X, y, w)
        nll.backward()
        return nll.value, [wi.grad for wi in w]

    NeuralNetwork.nll_and_grad = nll_and_grad
    return SimpleNamespace(name="vectorized", AutogradValue=AutogradValue,
                           NeuralNetwork=NeuralNetwork,
                           gradient_descent=_gradient_descent, train_step=_train_step)


# ============================================================ shared with chainrule

def to_homework_weights(params):
    """chainrule.nn.mlp parameters [{"W": (i, o), "b": (o,)}, ...] -> the homework's
    [(i + 1, o), ...] matrices (bias as the last row, matching ``pad``)."""
    return [np.vstack([np.asarray(p["W"]), np.asarray(p["b"])[None, :]]) for p in params]


def from_homework_weights(weights):
    """The inverse of :func:`to_homework_weights`."""
    return [{"W": np.array(w[:-1]), "b": np.array(w[-1])} for w in weights]
