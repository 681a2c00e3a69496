"""What jit, linearize and compiled backward passes share: the cache of compiled
programs, the key of a call's arguments, and what a failure to compile does.

:class:`CompileCache` is bounded and least-recently-used: a hit moves its entry to the
end, and the entries at the front go when the cache is over ``maxsize``. It counts
what happened (hits, misses, guards that failed, compiled programs, failures, calls
that ran uncompiled) and keeps the reasons for the last 20 misses and failures, which
``cache_info()`` reports. Threads share it: reads take no lock (a dict lookup), every
change and count is made under the cache's lock, and a caller that decides from an
entry re-reads it under the lock (:meth:`CompileCache.update`).

:func:`signature` is the one key of a call's arguments: the pytree structure (from
``tree_util``), the static values, and per leaf what a compiled program bakes in
(:func:`leaf_code`: an array's shape and dtype, a Python scalar's type). The compiled
backward pass keys a tape with the same leaf codes (graph/replay.py).
"""
import collections
import itertools
import threading

import numpy as np

from .. import backend
from ..config import config
from ..core import shape_of, dtype_of
from ..tree_util import tree_flatten

CacheInfo = collections.namedtuple(
    "CacheInfo", "hits misses retraces size maxsize miss_reasons compiled failures "
                 "fallbacks")
CacheInfo.__doc__ = """What a compile cache did.

hits: calls served by compiled code. misses: calls that found no compiled program
(jit and linearize traced one; a backward pass was walked eagerly). retraces: compiled
programs whose guards failed (jit traced again; a backward pass was walked eagerly).
size, maxsize: entries held and the bound (jit counts variants). miss_reasons: why the
last 20 misses, guard failures and failures happened. compiled: programs compiled.
failures: programs that failed to compile or to run for another reason than a guard
(each also in miss_reasons; ``config.update("compile_errors", "raise")`` raises them).
fallbacks: calls run uncompiled for another reason than a miss or a guard (a program
that failed to compile; a floating-point error under ``np.errstate`` that the eager
path decides on)."""

_COUNTERS = ("hits", "misses", "retraces", "compiled", "failures", "fallbacks")


class CompileError(RuntimeError):
    """A program failed to compile, or compiled code failed for another reason than a
    guard (raised under ``config.update("compile_errors", "raise")``; counted
    otherwise)."""


class CompileCache:
    """A bounded, thread-safe, least-recently-used map from keys to compiled programs,
    with counts of what happened (``info()``) and the reasons of the last misses.

    Entries have a size (``weight(value)``, 1 unless given): jit keeps the variants of
    one key in one entry and counts each."""

    def __init__(self, maxsize, weight=None):
        self.maxsize = maxsize
        self._weight = weight
        self._entries = collections.OrderedDict()
        self._size = 0
        self._counts = dict.fromkeys(_COUNTERS, 0)
        self._uses = {c: itertools.count() for c in ("hits", "fallbacks")}   # (see hit)
        self._reasons = collections.deque(maxlen=20)
        self.lock = threading.Lock()
        # get(key): the entry of key or None (no lock, no count: see hit); the dict's
        # own method (a training loop's every call looks up its program)
        self.get = self._entries.get

    def hit(self, key, counter="hits"):
        """Count a use of ``key``'s entry and make it the most recently used. No lock
        (every call of a training loop comes here): the count is an itertools.count,
        whose ``next`` is one C call, as ``move_to_end`` is; ``update`` holds the lock
        for its several steps."""
        next(self._uses[counter])
        try:
            self._entries.move_to_end(key)
        except KeyError:                # (dropped meanwhile)
            pass

    def count(self, counter, reason=None):
        """Count an event (``counter``: one of CacheInfo's counts), with its reason;
        returns the new count."""
        with self.lock:
            n = self._counts[counter] = self._counts[counter] + 1
            if reason is not None:
                self._reasons.append(reason)
        return n

    def update(self, key, change):
        """Replace ``key``'s entry by ``change(entry)`` (entry None when absent), made
        under the lock (so ``change`` sees what other threads stored; it must not run
        user code). ``change`` returning None removes the entry. The entry becomes the
        most recent, and the oldest entries go while the cache is over ``maxsize``.
        Returns the new entry."""
        with self.lock:
            old = self._entries.get(key)
            new = change(old)
            if old is not None:
                self._size -= self._size_of(old)
                del self._entries[key]
            if new is not None:
                self._entries[key] = new
                self._size += self._size_of(new)
                while self._size > self.maxsize and len(self._entries) > 1:
                    _, gone = self._entries.popitem(last=False)
                    self._size -= self._size_of(gone)
            return new

    def _size_of(self, value):
        return 1 if self._weight is None else self._weight(value)

    def failed(self, what, exc):
        """Count a failure to compile (or to run compiled code) ``what``, and raise
        CompileError under ``config.update("compile_errors", "raise")``."""
        reason = f"{what} failed: {type(exc).__name__}: {exc}"
        self.count("failures", reason)
        if config.compile_errors == "raise":
            raise CompileError(reason) from exc

    def info(self):
        with self.lock:
            c = dict(self._counts)
            for k, uses in self._uses.items():
                c[k] += int(repr(uses)[6:-1])      # count(n): n uses so far
            return CacheInfo(c["hits"], c["misses"], c["retraces"], self._size, self.maxsize,
                             list(self._reasons), c["compiled"], c["failures"],
                             c["fallbacks"])

    def clear(self):
        """Drop every entry (the counts stay)."""
        with self.lock:
            self._entries.clear()
            self._size = 0

    def __len__(self):
        return len(self._entries)


_SCALARS = (float, int, complex, bool)


def leaf_code(x):
    """What a compiled program bakes in about an argument it takes as an input: an
    array's shape and dtype, a Python scalar's type (its value is traced)."""
    t = type(x)
    if t is np.ndarray:
        return x.shape, x.dtype
    if t in _SCALARS:
        return t
    if backend.is_lazy(x):              # Dask: constants made for it carry its chunks
        backend.check_input(x)
        return t, shape_of(x), dtype_of(x), getattr(x, "chunks", None)
    return t, shape_of(x), dtype_of(x)


def signature(args, kwargs=None, static=()):
    """``(key, leaves)``: the leaves of the pytree ``(args, kwargs)`` in tree_util's
    order, and the key a compiled program for them is stored under: the static values,
    the tree structure and the :func:`leaf_code` of each leaf, with an array's strides
    (its memory layout decides views, as NumPy's). (The key is hashable when the static
    values are.)"""
    leaves, tree = tree_flatten((args, kwargs) if kwargs else args)
    key = [static, tree]
    for x in leaves:
        if type(x) is np.ndarray:       # (leaf_code, written out: no tuple)
            key.append(x.shape)
            key.append(x.dtype)
            # and its memory layout: whether a reshape or ravel is a view (a write
            # through it reaches the argument) and results' layouts follow it
            key.append(x.strides)
        else:
            key.append(leaf_code(x))
    return tuple(key), leaves
