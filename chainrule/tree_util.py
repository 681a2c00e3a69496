"""Pytrees: nested tuples, lists, dicts, None, namedtuples, dataclasses and registered
classes, flattened to leaves and a structure (JAX's ``jax.tree_util`` names)."""
from ._src.tree_util import (  # noqa: F401
    tree_flatten, tree_unflatten, tree_leaves, tree_structure, tree_map,
    register_pytree_node, register_dataclass, PyTreeDef, treedef_is_leaf,
)

__all__ = ["tree_flatten", "tree_unflatten", "tree_leaves", "tree_structure", "tree_map",
           "register_pytree_node", "register_dataclass", "PyTreeDef", "treedef_is_leaf"]
