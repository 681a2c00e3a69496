"""Global switches: ``chainrule.config.update("debug_nans", True)``.

A switch applies to the calling thread at once and to threads started afterwards (the
current-trace slot is per thread). Values are plain attributes of ``config``, so the
library reads them at the cost of an attribute lookup (graph/ reads
``replay_backward`` on every backward pass).
"""
import numpy as np

from .core import _State, _state
from .interpreters.debug import NaNCheckTrace

_BOOL = (False, True)


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
    compile_errors : "count" or "raise"
        What a failure to compile does (jit, linearize, a recurring backward pass):
        ``"count"`` (the default) runs the program uncompiled, with the same results,
        and counts the failure and its reason in the cache's ``cache_info()``;
        ``"raise"`` raises :class:`chainrule._src.graph.cache.CompileError` (the test
        suite runs with it, so a code-generation bug fails a test instead of becoming
        a slow path).
    """
    _options = {"debug_nans": _BOOL, "replay_backward": _BOOL,
                "compile_errors": ("count", "raise")}

    def __init__(self):
        object.__setattr__(self, "debug_nans", False)
        object.__setattr__(self, "replay_backward", True)
        object.__setattr__(self, "compile_errors", "count")

    def update(self, name, value):
        allowed = self._options.get(name)
        if allowed is None:
            raise AttributeError(f"chainrule.config has no option {name!r}; options: "
                                 f"{', '.join(self._options)}")
        if allowed is _BOOL:
            if not isinstance(value, (bool, int, np.bool_)):
                raise TypeError(f"chainrule.config.update({name!r}, value): value must be "
                                f"a bool, got {type(value).__name__} {value!r}")
            value = bool(value)
        elif value not in allowed or not isinstance(value, str):
            raise ValueError(f"chainrule.config.update({name!r}, value): value must be one "
                             f"of {', '.join(map(repr, allowed))}, got {value!r}")
        if value == getattr(self, name):
            return
        object.__setattr__(self, name, value)
        if name != "debug_nans":
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

    def __getattr__(self, name):            # (only for names that are not options)
        raise AttributeError(f"chainrule.config has no option {name!r}")

    def __setattr__(self, name, value):
        self.update(name, value)

    def __repr__(self):
        return f"chainrule.config({ {k: getattr(self, k) for k in self._options} })"


config = Config()
