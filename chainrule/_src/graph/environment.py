"""What a jitted function reads besides its arguments: the arrays it can reach, and the
names (closure cells, globals, attributes, dict and list items) through which it
reaches them and its Python numbers.

NumPy reads them when the line runs; a compiled program must not answer with values
of the moment it was traced:

- arrays the function can reach are **live** (``staging.Literal.live``): the compiled
  program reads them on every call and simplifies nothing on their values;
- an :class:`Environment`, taken after tracing, holds each name's object and a copy of
  each small reachable array the program does not read (one the function read with
  NumPy itself while traced: ``a[0]``, ``a.sum()``, ``float(a)``, or did not read at
  all). A call checks it first; a name rebound (``lr = 0.02``, ``W = W - g``,
  ``self.W = ...``) or such an array changed traces again.
"""
import functools
import itertools
import operator
import types

import numpy as np

from ..interpreters.staging import is_live

SNAPSHOT_SIZE = 1 << 16     # arrays up to this many elements are copied and compared
MAX_NAMES = 256             # names checked per call, at most
_MISSING = object()
_ATOMS = (types.ModuleType, type, str, bytes, int, float, complex, bool, type(None))
_LIBRARIES = {"numpy", "scipy", "chainrule", "math", "cmath", "builtins", "dask", "cupy",
              "jax", "torch", "autograd", "functools", "itertools", "operator"}


def reachable_arrays(fun, depth=4, limit=1000):
    """The ids of the NumPy arrays ``fun`` can reach without arguments: its closure,
    defaults, the globals its code names (and those of the functions, objects and
    containers found there, to ``depth`` levels, ``limit`` items each; modules and
    classes are not entered, nor chainrule's own globals). The user may write into them
    between calls, so the compiled program reads them on every call instead of folding
    what it computes from them, and simplifies nothing on their values."""
    return frozenset(id(a) for a in _Walk(fun, depth, limit, names=False).arrays)


class Environment:
    """The names ``fun`` reads (to two levels: its closure cells and globals, and the
    attributes and items of the objects found there) with the objects they held, and
    copies of the small reachable arrays outside ``staged`` (ids of the arrays the
    compiled program reads on every call), taken when the function has been traced."""
    __slots__ = ("cells", "items", "copies", "check")

    def __init__(self, fun, staged, depth=4, limit=1000):
        walk = _Walk(fun, depth, limit, names=True)
        self.cells, self.items = walk.cells, walk.items
        self.copies = [(a, a.tobytes()) for a in walk.arrays
                       if a.size <= SNAPSHOT_SIZE and not is_live(a, staged)]
        self.check = None

    def __bool__(self):
        return bool(self.cells or self.items or self.copies)

    def holds(self):
        """Whether every name still holds its object and every copied array its values
        (generated once: one expression of ``is`` tests, then the comparisons)."""
        check = self.check
        if check is None:
            check = self.check = _checker(self.cells, self.items, self.copies)
        try:
            return check()
        except (ValueError, KeyError, IndexError, AttributeError):
            return False                # (an emptied cell, a deleted name or slot)


def _checker(cells, items, copies):
    """A function that tests what :meth:`Environment.holds` says, written out."""
    env, terms = {}, []
    for i, (cell, obj) in enumerate(cells):
        env[f"c{i}"], env[f"o{i}"] = cell, obj
        terms.append(f"c{i}.cell_contents is o{i}")
    for i, (holder, key, obj) in enumerate(items):
        env[f"h{i}"], env[f"k{i}"], env[f"p{i}"] = holder, key, obj
        if type(key) is _Attr:          # (a slot: the object's attribute)
            env[f"k{i}"] = operator.attrgetter(key.name)
            terms.append(f"k{i}(h{i}) is p{i}")
        elif obj is _MISSING:           # (a name that must stay unset)
            terms.append(f"k{i} not in h{i}")
        else:
            terms.append(f"h{i}[k{i}] is p{i}")
    for i, (a, data) in enumerate(copies):
        env[f"a{i}"], env[f"d{i}"] = a, data
        terms.append(f"a{i}.tobytes() == d{i}")
    exec(f"def check():\n    return {' and '.join(terms) or 'True'}\n", env)
    return env["check"]


class _Walk:
    """Visit what ``fun`` can reach (see :func:`reachable_arrays`); with ``names``, also
    record the names it reads at the first two levels (``cells``: (cell, object);
    ``items``: (dict or list, key, object))."""

    def __init__(self, fun, depth, limit, names):
        self.arrays, self.seen, self.limit = [], set(), limit
        self.cells, self.items = [], []
        self.shallow = depth - 2 if names else depth + 1
        self.visit(fun, depth)

    def name(self, d, holder, key, v):
        """Record that ``holder[key]`` (a cell when ``key`` is None) holds ``v``."""
        if d >= self.shallow and len(self.cells) + len(self.items) < MAX_NAMES:
            if key is None:
                self.cells.append((holder, v))
            else:
                self.items.append((holder, key, v))

    def visit(self, v, d):
        if type(v) is np.ndarray:
            if id(v) not in self.seen:
                self.seen.add(id(v))
                self.arrays.append(v)
            return
        if d == 0 or id(v) in self.seen or isinstance(v, _ATOMS):
            return
        self.seen.add(id(v))
        limit = self.limit
        if isinstance(v, functools.partial):
            self.visit(v.func, d)
            for x in itertools.islice(itertools.chain(v.args, v.keywords.values()), limit):
                self.visit(x, d - 1)
        elif isinstance(v, types.MethodType):
            self.visit(v.__self__, d - 1)
            self.visit(v.__func__, d)
        elif isinstance(v, types.FunctionType):
            self.visit(getattr(v, "__wrapped__", None), d)
            for x in (v.__defaults__ or ()) + tuple((v.__kwdefaults__ or {}).values()):
                self.visit(x, d - 1)
            # chainrule's own functions (the wrappers of grad, jacrev, vmap, ...) are
            # plumbing: what they close over (your function) is at their level, and
            # their globals hold nothing of yours
            # (the module that defined it: functools.wraps copies your __module__)
            ours = str(v.__globals__.get("__name__", "")).startswith("chainrule.")
            for c in v.__closure__ or ():
                try:
                    x = c.cell_contents
                except ValueError:          # (an empty cell)
                    continue
                if not ours:
                    self.name(d, c, None, x)
                self.visit(x, d if ours else d - 1)
            if not ours:
                g = v.__globals__
                names = _names(v.__code__)
                for name in names:
                    x = g.get(name, _MISSING)
                    if x is _MISSING:
                        continue
                    self.name(d, g, name, x)
                    if isinstance(x, types.ModuleType):
                        self.module(x, names, d - 1)
                    else:
                        self.visit(x, d - 1)
        elif isinstance(v, (tuple, set, frozenset)):
            for x in itertools.islice(v, limit):
                self.visit(x, d - 1)
        elif isinstance(v, list):
            for i, x in enumerate(itertools.islice(v, limit)):
                self.name(d, v, i, x)
                self.visit(x, d - 1)
        elif isinstance(v, dict):
            self.items_of(v, d)
        else:                               # (an object: its attributes)
            if callable(v):
                self.visit(getattr(v, "__wrapped__", None), d)
            self.instance(v, d)

    def instance(self, v, d):
        """The attributes ``self.name`` may read of the object ``v``: its ``__dict__``,
        and, for a class of yours (not a library's), its ``__slots__``, the data
        attributes of its class and bases (``W = np.zeros(3)`` in the class body;
        ``Model.lr = 0.1``) and its ``__call__``."""
        inst = getattr(v, "__dict__", None)
        if isinstance(inst, dict):
            self.items_of(inst, d)
        else:
            inst = None
        cls = type(v)
        if (getattr(cls, "__module__", "") or "").partition(".")[0] in _LIBRARIES:
            return
        seen = set()
        for c in cls.__mro__[:-1]:
            for k in _slot_names(c):
                if k not in seen:
                    seen.add(k)
                    x = getattr(v, k, _MISSING)
                    if x is not _MISSING:
                        self.name(d, v, _Attr(k), x)
                        self.visit(x, d - 1)
            for k, x in itertools.islice(vars(c).items(), self.limit):
                if k in seen or k.startswith("__") or hasattr(type(x), "__get__"):
                    continue                # (methods, properties, slots: not data)
                seen.add(k)
                if inst is not None and k in inst:
                    continue                # (shadowed by the instance's own)
                self.name(d, vars(c), k, x)
                if inst is not None:        # (an instance attribute set later hides it)
                    self.name(d, inst, k, _MISSING)
                self.visit(x, d - 1)
        if callable(v):
            call = getattr(cls, "__call__", None)
            if isinstance(call, types.FunctionType):
                self.visit(call, d)

    def module(self, m, names, d):
        """What the code reading ``names`` may reach as ``m.name`` in your module ``m``
        (not a library's): ``config.lr``, ``data.X``."""
        if (getattr(m, "__name__", "") or "").partition(".")[0] in _LIBRARIES:
            return
        g = vars(m)
        for name in names:
            x = g.get(name, _MISSING)
            if x is not _MISSING and not isinstance(x, types.ModuleType):
                self.name(d + 1, g, name, x)
                self.visit(x, d)

    def items_of(self, mapping, d):
        for k, x in itertools.islice(mapping.items(), self.limit):
            self.name(d, mapping, k, x)
            self.visit(x, d - 1)


class _Attr:
    """The key of an attribute held in a slot (``items`` otherwise hold ``h[k]``)."""
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name


def _slot_names(c):
    """The ``__slots__`` class ``c`` itself declares."""
    slots = vars(c).get("__slots__", ())
    slots = (slots,) if isinstance(slots, str) else slots
    return [k for k in slots if isinstance(k, str) and k not in ("__dict__", "__weakref__")]


def _names(code):
    """The global names ``code`` and the code objects nested in it read."""
    names = list(code.co_names)
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            names += _names(c)
    return names
