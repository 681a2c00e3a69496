"""Gradient transformations with pure functional state (optax's design).

A :class:`GradientTransformation` is a pair of pure functions:

- ``init(params) -> state``
- ``update(grads, state, params=None) -> (updates, new_state)``

``apply_updates(params, updates)`` adds the updates to the parameters. Everything
works on pytrees and is differentiable (an optimiser step can itself be
differentiated, e.g. for hypergradients).

Every leaf keeps its dtype, as in optax: float16, float32 and complex64 parameters give
updates, state buffers and new parameters of the same dtype (integer and boolean leaves
become float64). Hyperparameters held as float64 scalars (NumPy float64, 0-d arrays, a
schedule's values) do not promote them: each leaf's result is cast back to its dtype.
"""
from typing import Any, Callable, NamedTuple

import numpy as np

import chainrule.numpy as cnp
from chainrule.tree_util import tree_leaves, tree_map, tree_structure

from ._tree import (global_norm, tree_zeros_like, check_numbers, map_like, wrong_state,
                    leaf_dtype, cast_to)

__all__ = ["GradientTransformation", "EmptyState", "ScaleByScheduleState", "TraceState",
           "ScaleByAdamState", "ScaleByRmsState", "ScaleByAdagradState",
           "apply_updates", "chain", "identity", "scale", "scale_by_learning_rate",
           "scale_by_schedule", "trace", "scale_by_adam", "scale_by_rms",
           "scale_by_adagrad", "add_decayed_weights", "clip", "clip_by_value",
           "clip_by_global_norm", "sgd", "momentum", "nesterov", "adam", "adamw",
           "rmsprop", "adagrad"]


class GradientTransformation(NamedTuple):
    """An optimiser: ``init(params) -> state`` and ``update(grads, state, params=None)``.

    Attributes
    ----------
    init : callable
        ``init(params)`` returns the initial state (a pytree).
    update : callable
        ``update(grads, state, params=None)`` returns ``(updates, new_state)``;
        ``apply_updates(params, updates)`` then gives the new parameters.
    """
    init: Callable[[Any], Any]
    update: Callable[..., Any]


class EmptyState(NamedTuple):
    """State of a stateless transformation."""


class ScaleByScheduleState(NamedTuple):
    """Step counter of a scheduled scaling."""
    count: int


class TraceState(NamedTuple):
    """Momentum buffer of :func:`trace`."""
    trace: Any


class ScaleByAdamState(NamedTuple):
    """Step count and first/second moment estimates of Adam."""
    count: int
    mu: Any
    nu: Any


class ScaleByRmsState(NamedTuple):
    """Running mean of squared (and, if centred, plain) gradients of RMSProp."""
    nu: Any
    mu: Any


class ScaleByAdagradState(NamedTuple):
    """Sum of squared gradients of Adagrad."""
    sum_of_squares: Any


def apply_updates(params, updates):
    """Return ``params + updates`` leafwise.

    Parameters
    ----------
    params, updates : pytrees with the same structure and leaf shapes

    Returns
    -------
    new_params : pytree
        Plain ndarrays outside transformations (the inputs are never modified), each
        in its parameter's dtype: float16, float32, complex64 ... stay; integer and
        boolean parameters and Python numbers give float64.

    Raises
    ------
    ValueError
        If the structures or a leaf's shapes differ (broadcasting would silently change
        a parameter's shape).
    """
    def add(p, u):
        dtype = leaf_dtype(p)
        r = cast_to(p + u, dtype)
        return np.asarray(r, dtype=dtype) if isinstance(r, (float, np.number)) else r
    try:
        return map_like("apply_updates", lambda u, p: add(p, u), updates, params,
                        what="update", made_for=False)
    except ValueError as e:
        if type(updates) is tuple and len(updates) == 2 and \
                tree_structure(updates[0]) == tree_structure(params):
            raise ValueError(f"{e}. update() returns a pair: write updates, state = "
                             f"opt.update(grads, state, params)") from None
        raise


def chain(*transforms):
    """Apply transformations one after another (``updates`` flow left to right).

    Parameters
    ----------
    *transforms : GradientTransformation

    Returns
    -------
    GradientTransformation
        Its state is the tuple of the parts' states.

    Examples
    --------
    >>> opt = chain(clip_by_global_norm(1.0), adam(1e-3))
    """
    return _chain("chain", transforms)


def _chain(name, transforms):
    transforms = tuple(transforms)
    for t in transforms:
        if not isinstance(t, GradientTransformation):
            raise TypeError(f"{name}: expected GradientTransformations (e.g. adam(1e-3)), "
                            f"got {type(t).__name__}")

    def init(params):
        return tuple(t.init(params) for t in transforms)

    def update(updates, state, params=None):
        if type(state) is not tuple or len(state) != len(transforms):
            raise wrong_state(name, state, f"tuple of {len(transforms)} states (one per "
                              f"chained transformation)")
        new_states = []
        for t, s in zip(transforms, state):
            updates, s = t.update(updates, s, params)
            new_states.append(s)
        return updates, tuple(new_states)

    return GradientTransformation(init, update)


def identity():
    """A transformation that leaves the updates unchanged."""
    def init(params):
        return EmptyState()

    def update(updates, state, params=None):
        return updates, state
    return GradientTransformation(init, update)


def scale(step_size):
    """Multiply the updates by a constant ``step_size``."""
    check_numbers("scale", step_size=step_size)
    return _scale("scale", step_size)


def _scale(name, step_size):
    def init(params):
        return EmptyState()

    def update(updates, state, params=None):
        if type(state) is not EmptyState:
            raise wrong_state(name, state, "EmptyState")
        return tree_map(lambda g: cast_to(step_size * g, leaf_dtype(g)), updates), state
    return GradientTransformation(init, update)


def scale_by_schedule(schedule):
    """Multiply the updates by ``schedule(count)``, counting calls from 0."""
    if not callable(schedule):
        raise TypeError(f"scale_by_schedule: schedule must be a callable count -> value, "
                        f"got {type(schedule).__name__}")
    return _scale_by_schedule("scale_by_schedule", schedule)


def _scale_by_schedule(name, schedule):
    def init(params):
        return ScaleByScheduleState(count=0)

    def update(updates, state, params=None):
        if type(state) is not ScaleByScheduleState:
            raise wrong_state(name, state, "ScaleByScheduleState (a step count)")
        s = schedule(state.count)
        return (tree_map(lambda g: cast_to(s * g, leaf_dtype(g)), updates),
                ScaleByScheduleState(count=state.count + 1))
    return GradientTransformation(init, update)


def scale_by_learning_rate(learning_rate, *, flip_sign=True):
    """Multiply by ``-learning_rate`` (a number or a schedule ``count -> value``).

    Parameters
    ----------
    learning_rate : float or callable
    flip_sign : bool, optional
        If True (default), descend: the updates are ``-learning_rate * g``.
    """
    check_numbers("scale_by_learning_rate", learning_rate=learning_rate)
    return _scale_by_learning_rate("scale_by_learning_rate", learning_rate, flip_sign)


def _scale_by_learning_rate(name, learning_rate, flip_sign=True):
    sign = -1.0 if flip_sign else 1.0
    if callable(learning_rate):
        return _scale_by_schedule(name, lambda count: sign * learning_rate(count))
    return _scale(name, sign * learning_rate)


def trace(decay, nesterov=False):
    """Momentum: ``t = g + decay * t``; the update is ``t`` (or ``g + decay * t``).

    Parameters
    ----------
    decay : float
        Momentum coefficient (e.g. 0.9).
    nesterov : bool, optional
        Nesterov's accelerated variant.
    """
    check_numbers("trace", decay=decay)
    return _trace("trace", decay, nesterov)


def _trace(name, decay, nesterov):
    def init(params):
        return TraceState(trace=tree_zeros_like(params))

    def update(updates, state, params=None):
        if type(state) is not TraceState:
            raise wrong_state(name, state, "TraceState (a momentum buffer)")
        new_trace = map_like(f"{name}.update",
                             lambda g, t: cast_to(g + decay * t, leaf_dtype(t)), updates,
                             state.trace)
        if nesterov:
            out = tree_map(lambda g, t: cast_to(g + decay * t, leaf_dtype(t)), updates,
                           new_trace)
        else:
            out = new_trace
        return out, TraceState(trace=new_trace)
    return GradientTransformation(init, update)


def scale_by_adam(b1=0.9, b2=0.999, eps=1e-8, eps_root=0.0):
    """Adam's rescaling (Kingma & Ba 2015) with bias correction, without the step size.

    ``m = b1 m + (1-b1) g``, ``v = b2 v + (1-b2) g^2``,
    update ``= m_hat / (sqrt(v_hat + eps_root) + eps)``.
    """
    check_numbers("scale_by_adam", b1=b1, b2=b2, eps=eps, eps_root=eps_root)
    return _scale_by_adam("scale_by_adam", b1, b2, eps, eps_root)


def _abs2(g):
    """|g|^2: the second moments of complex parameters are real (``g * g`` of a complex
    gradient is not its squared size; optax's ``abs_sq``)."""
    if np.iscomplexobj(g) or getattr(getattr(g, "dtype", None), "kind", "") == "c":
        return cnp.real(g * cnp.conj(g))
    return g * g


def _scale_by_adam(name, b1, b2, eps, eps_root):
    def init(params):
        return ScaleByAdamState(count=0, mu=tree_zeros_like(params),
                                nu=tree_zeros_like(params))

    def update(updates, state, params=None):
        if type(state) is not ScaleByAdamState:
            raise wrong_state(name, state, "ScaleByAdamState (a step count and moments)")
        count = state.count + 1
        mu = map_like(f"{name}.update",
                      lambda g, m: cast_to(b1 * m + (1.0 - b1) * g, leaf_dtype(m)), updates,
                      state.mu)
        nu = tree_map(lambda g, v: cast_to(b2 * v + (1.0 - b2) * _abs2(g), leaf_dtype(v)),
                      updates, state.nu)
        c1 = 1.0 - b1 ** count
        c2 = 1.0 - b2 ** count
        out = tree_map(lambda m, v: cast_to((m / c1) / (cnp.sqrt(v / c2 + eps_root) + eps),
                                            leaf_dtype(m)), mu, nu)
        return out, ScaleByAdamState(count=count, mu=mu, nu=nu)
    return GradientTransformation(init, update)


def scale_by_rms(decay=0.9, eps=1e-8, centered=False):
    """RMSProp's rescaling: ``g / (sqrt(E[g^2] (- E[g]^2 if centred)) + eps)``."""
    check_numbers("scale_by_rms", decay=decay, eps=eps)
    return _scale_by_rms("scale_by_rms", decay, eps, centered)


def _scale_by_rms(name, decay, eps, centered):
    def init(params):
        return ScaleByRmsState(nu=tree_zeros_like(params),
                               mu=tree_zeros_like(params) if centered else None)

    def update(updates, state, params=None):
        if type(state) is not ScaleByRmsState:
            raise wrong_state(name, state, "ScaleByRmsState (running mean squares)")
        nu = map_like(f"{name}.update",
                      lambda g, v: cast_to(decay * v + (1.0 - decay) * _abs2(g),
                                           leaf_dtype(v)),
                      updates, state.nu)
        if centered:
            mu = tree_map(lambda g, m: cast_to(decay * m + (1.0 - decay) * g,
                                               leaf_dtype(m)), updates, state.mu)
            # E[g^2] - E[g]^2 >= 0 in exact arithmetic (Cauchy-Schwarz on the averages'
            # weights), but rounds to a tiny negative number once the gradients have
            # been constant for a while: clamp, or sqrt gives NaN parameters
            out = tree_map(lambda g, v, m: cast_to(
                g / (cnp.sqrt(cnp.maximum(cnp.real(v) - _abs2(m), 0.0)) + eps), leaf_dtype(v)),
                updates, nu, mu)
        else:
            mu = None
            out = tree_map(lambda g, v: cast_to(g / (cnp.sqrt(v) + eps), leaf_dtype(v)),
                           updates, nu)
        return out, ScaleByRmsState(nu=nu, mu=mu)
    return GradientTransformation(init, update)


def scale_by_adagrad(initial_accumulator_value=0.1, eps=1e-7):
    """Adagrad's rescaling: ``g / sqrt(sum of g^2 + eps)``."""
    check_numbers("scale_by_adagrad", initial_accumulator_value=initial_accumulator_value,
                  eps=eps)
    return _scale_by_adagrad("scale_by_adagrad", initial_accumulator_value, eps)


def _scale_by_adagrad(name, initial_accumulator_value, eps):
    def init(params):
        return ScaleByAdagradState(sum_of_squares=tree_map(
            lambda p: np.full(np.shape(p), initial_accumulator_value, dtype=leaf_dtype(p)),
            params))

    def update(updates, state, params=None):
        if type(state) is not ScaleByAdagradState:
            raise wrong_state(name, state, "ScaleByAdagradState (sums of squares)")
        s = map_like(f"{name}.update", lambda g, a: cast_to(a + _abs2(g), leaf_dtype(a)),
                     updates, state.sum_of_squares)
        out = tree_map(lambda g, a: cast_to(g / cnp.sqrt(a + eps), leaf_dtype(a)), updates,
                       s)
        return out, ScaleByAdagradState(sum_of_squares=s)
    return GradientTransformation(init, update)


def _resolve_mask(mask, params, name="add_decayed_weights"):
    """The mask as a list of bools, one per leaf of ``params`` (tree_leaves order), or
    None. The mask has the structure of ``params``, or is a prefix of it whose bool leaves
    stand for whole subtrees (``{"W": True, "b": False}`` for lists of biases, as in
    optax); any other structure raises (matching leaves by position alone would decay
    the wrong parameters silently)."""
    if mask is None:
        return None
    m = mask(params) if callable(mask) else mask
    if tree_structure(m) == tree_structure(params):
        return tree_leaves(m)
    out = []

    def expand(m, p, path):
        if isinstance(m, (bool, np.bool_)):
            out.extend([bool(m)] * len(tree_leaves(p)))
        elif isinstance(m, dict) and isinstance(p, dict) and sorted(m) == sorted(p):
            for k in sorted(m):
                expand(m[k], p[k], f"{path}[{k!r}]")
        elif (isinstance(m, (list, tuple)) and isinstance(p, (list, tuple))
              and len(m) == len(p)):
            for i, (a, b) in enumerate(zip(m, p)):
                expand(a, b, f"{path}[{i}]")
        elif m is None and p is None:
            pass
        else:
            raise ValueError(f"{name}: the mask does not fit the parameters at "
                             f"{path or 'the top level'}: the mask has "
                             f"{type(m).__name__} {m!r:.60}, the parameters "
                             f"{type(p).__name__}; give a pytree of bools with the "
                             f"parameters' structure (or a prefix of it)")
    expand(m, params, "")
    return out


def add_decayed_weights(weight_decay=0.0, mask=None):
    """Add ``weight_decay * params`` to the updates (decoupled weight decay).

    Parameters
    ----------
    weight_decay : float
    mask : pytree of bool or callable, optional
        Decay only the leaves where the mask is True (e.g. skip biases with
        ``mask=lambda p: tree_map(lambda x: np.ndim(x) > 1, p)``). The mask has the
        parameters' structure, or is a prefix of it (a bool stands for a whole
        subtree: ``{"W": True, "b": False}``); another structure raises a ValueError.
    """
    check_numbers("add_decayed_weights", weight_decay=weight_decay)
    return _add_decayed_weights("add_decayed_weights", weight_decay, mask)


def _add_decayed_weights(name, weight_decay, mask):
    def init(params):
        return EmptyState()

    def update(updates, state, params=None):
        if type(state) is not EmptyState:
            raise wrong_state(name, state, "EmptyState")
        if params is None:
            raise ValueError(f"{name} (weight decay) needs params: call "
                             f"update(grads, state, params)")
        m = _resolve_mask(mask, params, name)
        if m is None:
            out = map_like(f"{name}.update",
                           lambda g, p: cast_to(g + weight_decay * p, leaf_dtype(p)),
                           updates, params, made_for=False)
        else:
            out = map_like(f"{name}.update",
                           lambda g, p, keep: (cast_to(g + weight_decay * p, leaf_dtype(p))
                                               if keep else g),
                           updates, params, m, made_for=False)
        return out, state
    return GradientTransformation(init, update)


def clip(max_delta):
    """Clip every update entry to ``[-max_delta, max_delta]`` (clipping by value)."""
    check_numbers("clip", max_delta=max_delta)
    if max_delta <= 0:
        raise ValueError("clip: max_delta must be positive")

    def init(params):
        return EmptyState()

    def update(updates, state, params=None):
        if type(state) is not EmptyState:
            raise wrong_state("clip", state, "EmptyState")
        return tree_map(lambda g: cast_to(cnp.clip(g, -max_delta, max_delta),
                                          leaf_dtype(g)), updates), state
    return GradientTransformation(init, update)


clip_by_value = clip


def clip_by_global_norm(max_norm):
    """Rescale the updates so that their global norm is at most ``max_norm``.

    ``g * max_norm / max(global_norm(g), max_norm)``: unchanged when already small.
    """
    check_numbers("clip_by_global_norm", max_norm=max_norm)
    if max_norm <= 0:
        raise ValueError("clip_by_global_norm: max_norm must be positive")

    def init(params):
        return EmptyState()

    def update(updates, state, params=None):
        if type(state) is not EmptyState:
            raise wrong_state("clip_by_global_norm", state, "EmptyState")
        norm = global_norm(updates)
        factor = max_norm / cnp.maximum(norm, max_norm)
        return tree_map(lambda g: cast_to(g * factor, leaf_dtype(g)), updates), state
    return GradientTransformation(init, update)


# --------------------------------------------------------------------- the optimisers

def sgd(learning_rate, momentum=None, nesterov=False, weight_decay=0.0):
    """Stochastic gradient descent, optionally with (Nesterov) momentum.

    Parameters
    ----------
    learning_rate : float or schedule
    momentum : float, optional
        Momentum coefficient (e.g. 0.9); None or 0 for plain SGD.
    nesterov : bool, optional
        Use Nesterov momentum (needs a ``momentum``).
    weight_decay : float, optional
        L2 penalty added to the gradient (coupled, as in PyTorch's SGD).

    Returns
    -------
    GradientTransformation

    Examples
    --------
    >>> opt = sgd(0.1, momentum=0.9)
    >>> state = opt.init(params)
    >>> updates, state = opt.update(grads, state)
    >>> params = apply_updates(params, updates)
    """
    check_numbers("sgd", learning_rate=learning_rate, momentum=momentum,
                  weight_decay=weight_decay)
    parts = []
    if weight_decay:
        parts.append(_add_decayed_weights("sgd", weight_decay, None))
    if momentum:
        parts.append(_trace("sgd", momentum, nesterov))
    elif nesterov:
        raise ValueError("sgd: nesterov=True needs a momentum")
    parts.append(_scale_by_learning_rate("sgd", learning_rate))
    return _chain("sgd", parts) if len(parts) > 1 else parts[0]


def momentum(learning_rate, beta=0.9):
    """SGD with heavy-ball momentum ``beta`` (shorthand for ``sgd(lr, momentum=beta)``)."""
    return sgd(learning_rate, momentum=beta)


def nesterov(learning_rate, beta=0.9):
    """SGD with Nesterov momentum ``beta``."""
    return sgd(learning_rate, momentum=beta, nesterov=True)


def adam(learning_rate=1e-3, b1=0.9, b2=0.999, eps=1e-8, eps_root=0.0):
    """Adam (Kingma & Ba 2015).

    Parameters
    ----------
    learning_rate : float or schedule
    b1, b2 : float
        Decay rates of the first and second moment estimates.
    eps, eps_root : float
        Added outside / inside the square root of the second moment.

    Returns
    -------
    GradientTransformation
    """
    check_numbers("adam", learning_rate=learning_rate, b1=b1, b2=b2, eps=eps,
                  eps_root=eps_root)
    return _chain("adam", (_scale_by_adam("adam", b1, b2, eps, eps_root),
                           _scale_by_learning_rate("adam", learning_rate)))


def adamw(learning_rate=1e-3, b1=0.9, b2=0.999, eps=1e-8, weight_decay=1e-4, mask=None):
    """Adam with decoupled weight decay (Loshchilov & Hutter 2019).

    The update is ``-lr * (adam_direction + weight_decay * params)``; needs ``params``
    in ``update``.

    Parameters
    ----------
    learning_rate : float or schedule
    b1, b2, eps : float
        As in :func:`adam`.
    weight_decay : float
    mask : pytree of bool or callable, optional
        Which leaves to decay (see :func:`add_decayed_weights`).

    Returns
    -------
    GradientTransformation
    """
    check_numbers("adamw", learning_rate=learning_rate, b1=b1, b2=b2, eps=eps,
                  weight_decay=weight_decay)
    return _chain("adamw", (_scale_by_adam("adamw", b1, b2, eps, 0.0),
                            _add_decayed_weights("adamw", weight_decay, mask),
                            _scale_by_learning_rate("adamw", learning_rate)))


def rmsprop(learning_rate=1e-2, decay=0.9, eps=1e-8, momentum=None, centered=False,
            nesterov=False):
    """RMSProp (Tieleman & Hinton 2012), optionally centred and with momentum.

    Parameters
    ----------
    learning_rate : float or schedule
    decay : float
        Decay of the running average of squared gradients.
    eps : float
    momentum : float, optional
        Momentum coefficient; None or 0 for none.
    centered : bool, optional
        Divide by the estimated standard deviation instead of the RMS.
    nesterov : bool, optional
        Use Nesterov momentum (needs a ``momentum``).

    Returns
    -------
    GradientTransformation
    """
    check_numbers("rmsprop", learning_rate=learning_rate, decay=decay, eps=eps,
                  momentum=momentum)
    parts = [_scale_by_rms("rmsprop", decay, eps, centered)]
    if momentum:
        parts.append(_trace("rmsprop", momentum, nesterov))
    elif nesterov:
        raise ValueError("rmsprop: nesterov=True needs a momentum")
    parts.append(_scale_by_learning_rate("rmsprop", learning_rate))
    return _chain("rmsprop", parts)


def adagrad(learning_rate=1e-1, initial_accumulator_value=0.1, eps=1e-7):
    """Adagrad (Duchi et al. 2011).

    Parameters
    ----------
    learning_rate : float or schedule
    initial_accumulator_value, eps : float

    Returns
    -------
    GradientTransformation
    """
    check_numbers("adagrad", learning_rate=learning_rate,
                  initial_accumulator_value=initial_accumulator_value, eps=eps)
    return _chain("adagrad", (_scale_by_adagrad("adagrad", initial_accumulator_value, eps),
                              _scale_by_learning_rate("adagrad", learning_rate)))
