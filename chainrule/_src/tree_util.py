"""Pytrees: nested containers of arrays (tuples, lists, dicts, OrderedDicts and
defaultdicts, None, namedtuples,
dataclasses and user-registered classes), flattened to a list of leaves and a
hashable structure, as in JAX."""
import collections
import dataclasses

import numpy as np

_registry = {}   # type -> (flatten(x) -> (children, aux), unflatten(aux, children) -> x)


def register_pytree_node(nodetype, flatten_func, unflatten_func):
    """Register a container type.

    Parameters
    ----------
    nodetype : type
    flatten_func : callable
        ``x -> (children, aux_data)``; ``children`` an iterable, ``aux_data`` hashable.
    unflatten_func : callable
        ``(aux_data, children) -> x``.
    """
    _registry[nodetype] = (flatten_func, unflatten_func)
    return nodetype


def register_dataclass(nodetype, data_fields=None, meta_fields=None):
    """Register a dataclass: ``data_fields`` are children, ``meta_fields`` static.

    Usable as a decorator. With no field lists, every field is a child.
    """
    if data_fields is None:
        data_fields = [f.name for f in dataclasses.fields(nodetype)]
        meta_fields = []
    data_fields, meta_fields = tuple(data_fields), tuple(meta_fields or ())

    def flatten(x):
        return ([getattr(x, k) for k in data_fields],
                tuple(getattr(x, k) for k in meta_fields))

    def unflatten(aux, children):
        kw = dict(zip(data_fields, children))
        kw.update(zip(meta_fields, aux))
        return nodetype(**kw)
    return register_pytree_node(nodetype, flatten, unflatten)


register_pytree_node(tuple, lambda x: (x, None), lambda _, c: tuple(c))
register_pytree_node(list, lambda x: (x, None), lambda _, c: list(c))
register_pytree_node(dict, lambda x: ([x[k] for k in sorted(x)], tuple(sorted(x))),
                     lambda keys, c: dict(zip(keys, c)))
register_pytree_node(type(None), lambda x: ((), None), lambda _, c: None)
# as JAX: an OrderedDict in its own order (a PyTorch-style state dict), a defaultdict
# sorted, keeping its default factory
register_pytree_node(collections.OrderedDict, lambda x: (list(x.values()), tuple(x)),
                     lambda keys, c: collections.OrderedDict(zip(keys, c)))
register_pytree_node(collections.defaultdict,
                     lambda x: ([x[k] for k in sorted(x)], (x.default_factory, tuple(sorted(x)))),
                     lambda aux, c: collections.defaultdict(aux[0], zip(aux[1], c)))


def _lookup(t):
    entry = _registry.get(t)
    if entry is None and issubclass(t, tuple) and hasattr(t, "_fields"):   # namedtuple
        entry = (lambda x: (tuple(x), None), lambda _, c, t=t: t(*c))
        _registry[t] = entry
    return entry


class PyTreeDef:
    """The structure of a pytree: hashable, comparable, able to rebuild the tree."""
    __slots__ = ("node_type", "aux", "children", "num_leaves", "shared", "rebuild", "_hash")

    def __init__(self, node_type, aux, children, num_leaves=None):
        self.node_type, self.aux, self.children = node_type, aux, tuple(children)
        self._hash = None       # computed once (compile caches hash a structure per call)
        if num_leaves is None:
            num_leaves = 1 if node_type is None else sum(c.num_leaves for c in children)
        self.num_leaves = num_leaves
        self.shared = False     # one object for every tree of this structure (_SHARED)
        self.rebuild = None     # shared defs of tuples and lists: generated unflatten

    def _key(self):
        return (self.node_type, self.aux, self.children)

    def __eq__(self, other):
        return self is other or isinstance(other, PyTreeDef) and self._key() == other._key()

    def __hash__(self):
        h = self._hash
        if h is None:
            h = self._hash = hash(self._key())
        return h

    def __repr__(self):
        if self.node_type is None:
            return "*"
        inner = ", ".join(map(repr, self.children))
        return f"PyTreeDef({self.node_type.__name__}[{inner}])"

    def unflatten(self, leaves):
        return tree_unflatten(self, leaves)


_LEAF = PyTreeDef(None, None, ())
_LEAF.shared = True
# Tuples and lists of shared structures are made once: flattening the same parameters
# every step of a training loop then allocates no PyTreeDef (ids of shared defs, which
# are never freed, are stable keys)
_FLAT = {}      # (tuple or list, n) -> the PyTreeDef of n leaves (no key of ids to build)
_SHARED = {}    # (tuple or list, ids of shared children) -> PyTreeDef
_MAX_SHARED = 4096
_LEAF_TYPES = {float, int, complex, bool, np.ndarray, np.float64, np.float32,
               np.complex128, np.int64}


def tree_flatten(tree, is_leaf=None):
    """Return ``(leaves, treedef)``: the leaves in order and the hashable structure.

    ``is_leaf(x) -> bool`` stops the descent at chosen nodes.
    """
    leaves = []
    return leaves, _flatten(tree, leaves, is_leaf)


def _flatten(x, leaves, is_leaf):
    if is_leaf is not None and is_leaf(x):
        leaves.append(x)
        return _LEAF
    t = type(x)
    if t in _LEAF_TYPES:
        leaves.append(x)
        return _LEAF
    start = len(leaves)
    if t is tuple or t is list:                 # fast path for the common containers
        if is_leaf is None:
            for c in x:
                if type(c) not in _LEAF_TYPES:
                    break
            else:                               # all leaves (a layer's (W, b)): shared def
                leaves.extend(x)
                n = len(x)
                td = _FLAT.get((t, n))
                if td is None:              # (setdefault: threads agree on one def)
                    td = PyTreeDef(t, None, [_LEAF] * n, n)
                    td.shared = True
                    td = _FLAT.setdefault((t, n), td)
                return td
            kids = []
            for c in x:         # (leaves and tuples of leaves written out: no call for them)
                tc = type(c)
                if tc in _LEAF_TYPES:
                    leaves.append(c)
                    kids.append(_LEAF)
                    continue
                if tc is tuple or tc is list:   # a layer's (W, b), seen before
                    td = _FLAT.get((tc, len(c)))
                    if td is not None:
                        for g in c:
                            if type(g) not in _LEAF_TYPES:
                                break
                        else:
                            leaves.extend(c)
                            kids.append(td)
                            continue
                kids.append(_flatten(c, leaves, None))
        else:
            kids = [_flatten(c, leaves, is_leaf) for c in x]
        for k in kids:
            if not k.shared:
                return PyTreeDef(t, None, kids, len(leaves) - start)
        key = (t, *map(id, kids))               # shared children: share this one too
        td = _SHARED.get(key)
        if td is None:
            td = PyTreeDef(t, None, kids, len(leaves) - start)
            if len(_SHARED) < _MAX_SHARED:
                td.shared = True
                td = _SHARED.setdefault(key, td)
        return td
    entry = _lookup(t)
    if entry is None:
        leaves.append(x)
        return _LEAF
    children, aux = entry[0](x)
    kids = [_flatten(c, leaves, is_leaf) for c in children]
    return PyTreeDef(t, aux, kids, len(leaves) - start)


def tree_unflatten(treedef, leaves):
    """Rebuild a pytree of structure ``treedef`` from a sequence of leaves."""
    if treedef.shared and (type(leaves) is list or type(leaves) is tuple) and \
            len(leaves) == treedef.num_leaves and treedef.node_type is not None:
        rebuild = treedef.rebuild
        if rebuild is None:
            rebuild = treedef.rebuild = _rebuilder(treedef)
        return rebuild(leaves)
    it = iter(leaves)
    out = _unflatten(treedef, it)
    try:
        next(it)
    except StopIteration:
        return out
    raise ValueError(f"too many leaves for tree structure {treedef}")


def _rebuilder(td):
    """``leaves -> tree`` for a shared structure of tuples, lists and leaves, as one
    generated expression (a training step rebuilds the same parameters twice a call)."""
    count = iter(range(td.num_leaves))

    def expr(d):
        if d.node_type is None:
            return f"l[{next(count)}]"
        inner = ", ".join(expr(c) for c in d.children)
        if d.node_type is tuple:
            return f"({inner},)" if len(d.children) == 1 else f"({inner})"
        return f"[{inner}]"
    if td.num_leaves <= 4096:
        try:
            ns = {}
            exec(f"def rebuild(l):\n    return {expr(td)}", ns)
            return ns["rebuild"]
        except (SyntaxError, RecursionError, MemoryError):   # nested too deeply
            pass
    return lambda leaves: _unflatten(td, iter(leaves))


def _unflatten(td, it):
    t = td.node_type
    if t is None:
        try:
            return next(it)
        except StopIteration:
            raise ValueError("too few leaves for tree structure") from None
    if t is tuple:
        return tuple([_unflatten(c, it) for c in td.children])
    if t is list:
        return [_unflatten(c, it) for c in td.children]
    return _lookup(td.node_type)[1](td.aux, [_unflatten(c, it) for c in td.children])


def tree_leaves(tree, is_leaf=None):
    """The leaves of ``tree``, in flattening order (dict keys sorted)."""
    return tree_flatten(tree, is_leaf)[0]


def tree_structure(tree, is_leaf=None):
    """The :class:`PyTreeDef` of ``tree`` (hashable; ``.unflatten(leaves)`` rebuilds)."""
    return tree_flatten(tree, is_leaf)[1]


def tree_map(f, tree, *rest, is_leaf=None):
    """Apply ``f`` leaf-wise to ``tree`` and trees ``rest`` of the same structure."""
    leaves, td = tree_flatten(tree, is_leaf)
    others = [_flatten_like(td, r) for r in rest]
    return tree_unflatten(td, [f(*xs) for xs in zip(leaves, *others)])


def _flatten_like(td, tree):
    leaves, td2 = tree_flatten(tree)
    if td2 != td:
        raise ValueError(f"tree structures differ: {td} and {td2}")
    return leaves


def treedef_is_leaf(td):
    """True if the structure ``td`` is a single leaf."""
    return td.node_type is None


def broadcast_prefix(prefix, tree, is_leaf=None):
    """Expand ``prefix`` (a pytree prefix of ``tree``) to one entry per leaf of ``tree``.

    Used for ``in_axes``/``out_axes`` style arguments: a leaf of the prefix applies
    to the whole subtree at that position.
    """
    out = []

    def go(p, t):
        if is_leaf is not None and is_leaf(p) or _lookup(type(p)) is None:
            out.extend([p] * len(tree_leaves(t)))
            return
        if type(p) is not type(t):
            raise ValueError(f"prefix {p!r} does not match the structure of {t!r}")
        pc, paux = _lookup(type(p))[0](p)
        tc, taux = _lookup(type(t))[0](t)
        if paux != taux or len(list(pc)) != len(list(tc)):
            raise ValueError(f"prefix {p!r} does not match the structure of {t!r}")
        for a, b in zip(pc, tc):
            go(a, b)
    go(prefix, tree)
    return out
