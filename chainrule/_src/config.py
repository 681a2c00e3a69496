"""Global switches: ``chainrule.config.update("debug_nans", True)``.

A switch applies to the calling thread at once and to threads started afterwards (the
current-trace slot is per thread).
"""
import numpy as np

from .core import _State, _state
from .interpreters.debug import NaNCheckTrace


class Config:
    """chainrule's switches. ``config.update(name, value)`` or ``config.name = value``.

    debug_nans : bool
        Raise on the first primitive whose value or derivative is NaN, naming the
        primitive and the source line (the same as running inside ``debug_nans()``).
    replay_backward : bool
        Compile the backward pass of a reverse-mode tape whose structure recurs (a
        training loop on small arrays) and run that code instead of the rules (the same
        results, bit for bit; see docs/transformations.md). On by default, for every
        thread.
    """
    _names = ("debug_nans", "replay_backward")

    def __init__(self):
        object.__setattr__(self, "_values", {"debug_nans": False, "replay_backward": True})

    def update(self, name, value):
        if name not in self._names:
            raise AttributeError(f"chainrule.config has no option {name!r}; options: "
                                 f"{', '.join(self._names)}")
        if not isinstance(value, (bool, int, np.bool_)):
            raise TypeError(f"chainrule.config.update({name!r}, value): value must be a "
                            f"bool, got {type(value).__name__} {value!r}")
        value = bool(value)
        if value == self._values[name]:
            return
        self._values[name] = value
        if name == "replay_backward":
            from .graph import replay
            replay.enabled = value
            return
        if value:
            _state.nan_checks += 1
            _state.trace = NaNCheckTrace(_state.trace)
            _State.nan_checks = 1                       # threads started from now on
            _State.trace = NaNCheckTrace(None)
        else:
            _state.nan_checks = max(0, _state.nan_checks - 1)
            if type(_state.trace) is NaNCheckTrace:
                _state.trace = _state.trace.parent
            _State.nan_checks = 0
            _State.trace = None

    def __getattr__(self, name):
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(f"chainrule.config has no option {name!r}") from None

    def __setattr__(self, name, value):
        self.update(name, value)

    def __repr__(self):
        return f"chainrule.config({self._values})"


config = Config()
