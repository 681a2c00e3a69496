"""Learning-rate schedules: functions ``count -> value``.

A schedule is any callable taking the step count (0, 1, 2, ...) and returning a
learning rate. Every optimiser accepts one wherever it accepts a number::

    lr = cosine_decay(0.1, decay_steps=1000)
    opt = adam(learning_rate=warmup(lr, warmup_steps=100))
"""
import math

__all__ = ["constant_schedule", "constant", "linear_schedule", "exponential_decay",
           "cosine_decay", "cosine_decay_schedule", "piecewise_constant",
           "piecewise_constant_schedule", "warmup", "warmup_cosine_decay",
           "join_schedules"]


def constant_schedule(value):
    """A schedule that always returns ``value``.

    Parameters
    ----------
    value : float

    Returns
    -------
    schedule : callable
        ``schedule(count) == value``.
    """
    def schedule(count):
        return value
    return schedule


constant = constant_schedule


def linear_schedule(init_value, end_value, transition_steps, transition_begin=0):
    """Linear interpolation from ``init_value`` to ``end_value``.

    Parameters
    ----------
    init_value, end_value : float
    transition_steps : int
        Number of steps the interpolation takes; ``<= 0`` gives a constant schedule.
    transition_begin : int, optional
        Steps during which ``init_value`` is held before the transition starts.

    Returns
    -------
    schedule : callable
    """
    if transition_steps <= 0:
        return constant_schedule(init_value)

    def schedule(count):
        frac = min(max(count - transition_begin, 0), transition_steps) / transition_steps
        return init_value + (end_value - init_value) * frac
    return schedule


def exponential_decay(init_value, transition_steps, decay_rate, transition_begin=0,
                      staircase=False, end_value=None):
    """``init_value * decay_rate ** (count / transition_steps)``.

    Parameters
    ----------
    init_value : float
    transition_steps : int
        Steps over which the value is multiplied by ``decay_rate`` once.
    decay_rate : float
        Must be positive; below 1 decays, above 1 grows.
    transition_begin : int, optional
        Steps during which ``init_value`` is held.
    staircase : bool, optional
        Decay in discrete jumps every ``transition_steps`` instead of continuously.
    end_value : float, optional
        Lower bound (if decaying) or upper bound (if growing) of the value.

    Returns
    -------
    schedule : callable
    """
    if transition_steps <= 0:
        raise ValueError("exponential_decay: transition_steps must be positive")
    if decay_rate <= 0:
        raise ValueError("exponential_decay: decay_rate must be positive")

    def schedule(count):
        p = max(count - transition_begin, 0) / transition_steps
        if staircase:
            p = math.floor(p)
        value = init_value * decay_rate ** p
        if end_value is not None:
            value = max(value, end_value) if decay_rate < 1 else min(value, end_value)
        return value
    return schedule


def cosine_decay(init_value, decay_steps, alpha=0.0, exponent=1.0):
    """Cosine decay from ``init_value`` to ``alpha * init_value`` over ``decay_steps``.

    ``value = init_value * ((1 - alpha) * c ** exponent + alpha)`` with
    ``c = (1 + cos(pi * min(count, decay_steps) / decay_steps)) / 2`` (Loshchilov & Hutter).

    Parameters
    ----------
    init_value : float
    decay_steps : int
        Positive number of steps to decay over; afterwards the value stays at the end.
    alpha : float, optional
        Final value as a fraction of ``init_value``.
    exponent : float, optional

    Returns
    -------
    schedule : callable
    """
    if decay_steps <= 0:
        raise ValueError("cosine_decay: decay_steps must be positive")

    def schedule(count):
        t = min(max(count, 0), decay_steps) / decay_steps
        c = 0.5 * (1.0 + math.cos(math.pi * t))
        return init_value * ((1.0 - alpha) * c ** exponent + alpha)
    return schedule


cosine_decay_schedule = cosine_decay


def piecewise_constant(init_value, boundaries_and_scales=None):
    """Piecewise-constant schedule: multiply the value by a scale at given steps.

    Parameters
    ----------
    init_value : float
    boundaries_and_scales : dict {int: float}, optional
        At step ``b`` (for ``count >= b``) the value is multiplied by
        ``boundaries_and_scales[b]`` (scales accumulate, as in optax).

    Returns
    -------
    schedule : callable

    Examples
    --------
    >>> s = piecewise_constant(0.1, {100: 0.1, 200: 0.1})
    >>> s(0), s(150), s(250)
    (0.1, 0.010000000000000002, 0.0010000000000000002)
    """
    items = sorted((boundaries_and_scales or {}).items())

    def schedule(count):
        value = init_value
        for boundary, scale in items:
            if count >= boundary:
                value = value * scale
        return value
    return schedule


piecewise_constant_schedule = piecewise_constant


def _as_schedule(value):
    return value if callable(value) else constant_schedule(value)


def warmup(schedule, warmup_steps, init_value=0.0, peak_value=None):
    """Linear warm-up in front of another schedule (or a constant).

    For ``count < warmup_steps`` the value rises linearly from ``init_value`` to
    ``peak_value`` (default ``schedule(0)``); afterwards it is
    ``schedule(count - warmup_steps)``.

    Parameters
    ----------
    schedule : callable or float
    warmup_steps : int
    init_value : float, optional
    peak_value : float, optional

    Returns
    -------
    schedule : callable
    """
    after = _as_schedule(schedule)
    peak = after(0) if peak_value is None else peak_value
    if warmup_steps <= 0:
        return after

    def wrapped(count):
        if count < warmup_steps:
            return init_value + (peak - init_value) * count / warmup_steps
        return after(count - warmup_steps)
    return wrapped


def warmup_cosine_decay(init_value, peak_value, warmup_steps, decay_steps, end_value=0.0):
    """Linear warm-up to ``peak_value``, then cosine decay to ``end_value``.

    Parameters
    ----------
    init_value, peak_value, end_value : float
    warmup_steps : int
    decay_steps : int
        Total length including the warm-up (as in optax).

    Returns
    -------
    schedule : callable
    """
    alpha = 0.0 if peak_value == 0 else end_value / peak_value
    return warmup(cosine_decay(peak_value, max(decay_steps - warmup_steps, 1), alpha=alpha),
                  warmup_steps, init_value=init_value, peak_value=peak_value)


def join_schedules(schedules, boundaries):
    """Run ``schedules[i]`` between ``boundaries[i-1]`` and ``boundaries[i]``.

    Each schedule sees the count relative to the start of its segment.

    Parameters
    ----------
    schedules : sequence of callables
    boundaries : sequence of int, one fewer than ``schedules``

    Returns
    -------
    schedule : callable
    """
    schedules = [_as_schedule(s) for s in schedules]
    boundaries = list(boundaries)
    if len(boundaries) != len(schedules) - 1:
        raise ValueError("join_schedules: need len(boundaries) == len(schedules) - 1")

    def schedule(count):
        start = 0
        for s, b in zip(schedules, boundaries):
            if count < b:
                return s(count - start)
            start = b
        return schedules[-1](count - start)
    return schedule
