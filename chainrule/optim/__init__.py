"""chainrule.optim: optimisers on chainrule's public API.

- Gradient transformations with pure functional state, optax-style:
  ``opt = adam(1e-3); state = opt.init(params);
  updates, state = opt.update(grads, state, params);
  params = apply_updates(params, updates)`` — :func:`sgd` (momentum, Nesterov),
  :func:`adam`, :func:`adamw`, :func:`rmsprop`, :func:`adagrad`, clipping
  (:func:`clip_by_global_norm`, :func:`clip`) and :func:`chain`.
- Learning-rate schedules (:mod:`chainrule.optim.schedules`), usable wherever a
  learning rate is.
- Deterministic methods with step control: :func:`gradient_descent` (Armijo
  backtracking) and :func:`newton` (full Hessian or Hessian-vector products + CG).
- :func:`minimize`: ``scipy.optimize.minimize`` with exact gradients and Hessians.

Parameters may be any pytree (dicts, lists, tuples, namedtuples of arrays).
"""
from ._tree import ravel_pytree, global_norm, tree_vdot, tree_zeros_like  # noqa: F401
from ._transforms import (  # noqa: F401
    GradientTransformation, EmptyState, ScaleByScheduleState, TraceState, ScaleByAdamState,
    ScaleByRmsState, ScaleByAdagradState, apply_updates, chain, identity, scale,
    scale_by_learning_rate, scale_by_schedule, trace, scale_by_adam, scale_by_rms,
    scale_by_adagrad, add_decayed_weights, clip, clip_by_value, clip_by_global_norm, sgd,
    momentum, nesterov, adam, adamw, rmsprop, adagrad,
)
from . import schedules  # noqa: F401
from .schedules import (  # noqa: F401
    constant_schedule, linear_schedule, exponential_decay, cosine_decay,
    cosine_decay_schedule, piecewise_constant, piecewise_constant_schedule, warmup,
    warmup_cosine_decay, join_schedules,
)
from ._descent import DescentResult, DescentHistory, gradient_descent, newton  # noqa: F401
from ._scipy import minimize  # noqa: F401

__all__ = [
    "ravel_pytree", "global_norm", "tree_vdot", "tree_zeros_like",
    "GradientTransformation", "EmptyState", "ScaleByScheduleState", "TraceState",
    "ScaleByAdamState", "ScaleByRmsState", "ScaleByAdagradState", "apply_updates", "chain",
    "identity", "scale", "scale_by_learning_rate", "scale_by_schedule", "trace",
    "scale_by_adam", "scale_by_rms", "scale_by_adagrad", "add_decayed_weights", "clip",
    "clip_by_value", "clip_by_global_norm", "sgd", "momentum", "nesterov", "adam", "adamw",
    "rmsprop", "adagrad", "schedules", "constant_schedule", "linear_schedule",
    "exponential_decay", "cosine_decay", "cosine_decay_schedule", "piecewise_constant",
    "piecewise_constant_schedule", "warmup", "warmup_cosine_decay", "join_schedules",
    "DescentResult", "DescentHistory", "gradient_descent", "newton", "minimize",
]
