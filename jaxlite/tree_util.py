"""Pytrees: nested tuples, lists, dicts, namedtuples, None and registered classes.

`tree_flatten` turns a pytree into a list of leaves and a `PyTreeDef`; `tree_unflatten` inverts it.
Dicts flatten in sorted-key order, as in JAX. `None` is an empty pytree (it has no leaves).
"""

from __future__ import annotations

import functools
from typing import Any, NamedTuple
from collections.abc import Callable, Hashable, Iterable

__all__ = [
    "PyTreeDef",
    "tree_flatten",
    "tree_unflatten",
    "tree_map",
    "tree_leaves",
    "tree_structure",
    "tree_reduce",
    "tree_all",
    "tree_transpose",
    "tree_flatten_with_path",
    "tree_map_with_path",
    "keystr",
    "register_pytree_node",
    "register_pytree_node_class",
    "treedef_is_leaf",
    "all_leaves",
    "Partial",
]


class _NodeType(NamedTuple):
    name: str
    to_iterable: Callable[[Any], tuple[Iterable, Hashable]]
    from_iterable: Callable[[Hashable, Iterable], Any]
    # For key paths: the keys of the children, given the aux data and the node.
    keys: Callable[[Hashable, Any], list]


_registry: dict[type, _NodeType] = {}


def register_pytree_node(nodetype: type, flatten_func, unflatten_func) -> None:
    """Registers `nodetype` as a pytree node.

    Args:
      nodetype: the class.
      flatten_func: `obj -> (children, aux_data)`; `aux_data` must be hashable.
      unflatten_func: `(aux_data, children) -> obj`.
    """
    if nodetype in _registry:
        raise ValueError(f"Duplicate pytree node registration for {nodetype}")
    n = len
    _registry[nodetype] = _NodeType(
        nodetype.__name__,
        flatten_func,
        unflatten_func,
        lambda aux, node: [f"<flat index {i}>" for i in range(n(list(flatten_func(node)[0])))],
    )


def register_pytree_node_class(cls: type) -> type:
    """Class decorator: registers `cls` using its `tree_flatten` / `tree_unflatten` methods."""
    register_pytree_node(cls, lambda x: x.tree_flatten(), cls.tree_unflatten)
    return cls


def _dict_flatten(d):
    keys = sorted(d)
    return [d[k] for k in keys], tuple(keys)


_registry[tuple] = _NodeType(
    "tuple", lambda t: (t, None), lambda _, xs: tuple(xs), lambda aux, t: list(range(len(t)))
)
_registry[list] = _NodeType(
    "list", lambda t: (t, None), lambda _, xs: list(xs), lambda aux, t: list(range(len(t)))
)
_registry[dict] = _NodeType(
    "dict", _dict_flatten, lambda keys, xs: dict(zip(keys, xs)), lambda aux, d: list(aux)
)
_registry[type(None)] = _NodeType(
    "None", lambda _: ((), None), lambda _, xs: None, lambda aux, n: []
)


def _is_namedtuple(x) -> bool:
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


class PyTreeDef:
    """The structure of a pytree: a node kind, its aux data and its children's structures."""

    __slots__ = ("kind", "aux", "children", "num_leaves", "num_nodes", "_hash")

    def __init__(self, kind, aux, children: tuple[PyTreeDef, ...]):
        self.kind = kind  # None for a leaf, else the node's type
        self.aux = aux
        self.children = children
        self.num_leaves = 1 if kind is None else sum(c.num_leaves for c in children)
        self.num_nodes = 1 + sum(c.num_nodes for c in children)
        self._hash = None

    def unflatten(self, leaves: Iterable) -> Any:
        return tree_unflatten(self, leaves)

    def flatten_up_to(self, tree) -> list:
        """The subtrees of `tree` at this structure's leaves (for prefix matching)."""
        out: list = []
        _flatten_up_to(self, tree, out, ())
        return out

    def __eq__(self, other) -> bool:
        if self is other:
            return True
        return (
            isinstance(other, PyTreeDef)
            and self.kind == other.kind
            and self.aux == other.aux
            and self.children == other.children
        )

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash((self.kind, _aux_hash(self.aux), self.children))
        return self._hash

    def __repr__(self) -> str:
        return f"PyTreeDef({self._str()})"

    def _str(self) -> str:
        if self.kind is None:
            return "*"
        kids = [c._str() for c in self.children]
        if self.kind is tuple:
            return "(" + ", ".join(kids) + ("," if len(kids) == 1 else "") + ")"
        if self.kind is list:
            return "[" + ", ".join(kids) + "]"
        if self.kind is dict:
            return "{" + ", ".join(f"{k!r}: {c}" for k, c in zip(self.aux, kids)) + "}"
        if self.kind is type(None):
            return "None"
        if _is_namedtuple_type(self.kind):
            fields = ", ".join(f"{f}={c}" for f, c in zip(self.kind._fields, kids))
            return f"{self.kind.__name__}({fields})"
        return f"CustomNode({self.kind.__name__}[{self.aux!r}], [{', '.join(kids)}])"


def _aux_hash(aux) -> int:
    """The hash of a node's aux data, or 0 when it is unhashable (a dict, a list): as JAX, aux
    data need only compare by `==`; an unhashable one just shares its bucket with the others of
    its node type, and `__eq__` tells them apart (so a jit cache key still works)."""
    try:
        return hash(aux)
    except TypeError:
        return 0


def _is_namedtuple_type(t) -> bool:
    return isinstance(t, type) and issubclass(t, tuple) and hasattr(t, "_fields")


_LEAF = PyTreeDef(None, None, ())


def _node_type(x):
    t = type(x)
    nt = _registry.get(t)
    if nt is not None:
        return t, nt
    if _is_namedtuple(x):
        return t, _NAMEDTUPLE
    return None, None


_NAMEDTUPLE = _NodeType(
    "namedtuple", lambda t: (tuple(t), None), None, lambda aux, t: list(type(t)._fields)
)


def tree_flatten(tree, is_leaf: Callable[[Any], bool] | None = None) -> tuple[list, PyTreeDef]:
    """Flattens `tree` into `(leaves, treedef)`."""
    leaves: list = []
    treedef = _flatten(tree, leaves, is_leaf)
    return leaves, treedef


def _flatten(x, leaves: list, is_leaf) -> PyTreeDef:
    if is_leaf is not None and is_leaf(x):
        leaves.append(x)
        return _LEAF
    t, nt = _node_type(x)
    if nt is None:
        leaves.append(x)
        return _LEAF
    children, aux = nt.to_iterable(x)
    return PyTreeDef(t, aux, tuple(_flatten(c, leaves, is_leaf) for c in children))


def tree_unflatten(treedef: PyTreeDef, leaves: Iterable) -> Any:
    """Builds the pytree with structure `treedef` from `leaves`."""
    leaves = list(leaves)
    if len(leaves) != treedef.num_leaves:
        raise ValueError(
            f"tree_unflatten: the structure {treedef} has {treedef.num_leaves} leaves, "
            f"but {len(leaves)} leaves were given"
        )
    it = iter(leaves)
    return _unflatten(treedef, it)


def _unflatten(td: PyTreeDef, it) -> Any:
    if td.kind is None:
        return next(it)
    children = [_unflatten(c, it) for c in td.children]
    if _is_namedtuple_type(td.kind) and td.kind not in _registry:
        return td.kind(*children)
    return _registry[td.kind].from_iterable(td.aux, children)


def _flatten_up_to(td: PyTreeDef, x, out: list, path: tuple) -> None:
    if td.kind is None:
        out.append(x)
        return
    t, nt = _node_type(x)
    if t is not td.kind:
        raise ValueError(
            f"pytree structure mismatch at {keystr(path) or 'the root'}: expected "
            f"{_kind_name(td.kind)}, got {type(x).__name__} ({x!r:.60})"
        )
    children, aux = nt.to_iterable(x)
    children = list(children)
    if aux != td.aux or len(children) != len(td.children):
        raise ValueError(
            f"pytree structure mismatch at {keystr(path) or 'the root'}: expected "
            f"{td._str()}, got a {type(x).__name__} with "
            f"{'keys ' + repr(list(aux)) if t is dict else str(len(children)) + ' children'}"
        )
    keys = nt.keys(aux, x)
    for k, c, ctd in zip(keys, children, td.children):
        _flatten_up_to(ctd, c, out, path + (k,))


def _kind_name(kind) -> str:
    return "None" if kind is type(None) else kind.__name__


def tree_leaves(tree, is_leaf=None) -> list:
    return tree_flatten(tree, is_leaf)[0]


def tree_structure(tree, is_leaf=None) -> PyTreeDef:
    return tree_flatten(tree, is_leaf)[1]


def treedef_is_leaf(treedef: PyTreeDef) -> bool:
    return treedef.kind is None


def all_leaves(iterable) -> bool:
    return all(tree_structure(x).kind is None for x in iterable)


def tree_map(f: Callable, tree, *rest, is_leaf=None) -> Any:
    """Applies `f` leaf-wise; `rest` must have the structure of `tree` (or be a superset)."""
    leaves, treedef = tree_flatten(tree, is_leaf)
    if not rest:
        return treedef.unflatten(f(x) for x in leaves)
    others = []
    for r in rest:
        r_leaves, r_def = tree_flatten(r, is_leaf)
        if r_def != treedef:
            try:
                r_leaves = treedef.flatten_up_to(r)
            except ValueError as e:
                raise ValueError(
                    f"tree_map: trees have different structures:\n  {treedef}\n  {r_def}\n({e})"
                ) from None
        others.append(r_leaves)
    return treedef.unflatten(f(*xs) for xs in zip(leaves, *others))


def tree_reduce(f: Callable, tree, initializer=None, is_leaf=None):
    leaves = tree_leaves(tree, is_leaf)
    if initializer is None:
        return functools.reduce(f, leaves)
    return functools.reduce(f, leaves, initializer)


def tree_all(tree) -> bool:
    return all(tree_leaves(tree))


def tree_transpose(outer_treedef: PyTreeDef, inner_treedef: PyTreeDef, pytree) -> Any:
    flat = outer_treedef.flatten_up_to(pytree)
    inner = [inner_treedef.flatten_up_to(x) for x in flat]
    transposed = zip(*inner) if inner else [[] for _ in range(inner_treedef.num_leaves)]
    subtrees = [outer_treedef.unflatten(col) for col in transposed]
    return inner_treedef.unflatten(subtrees)


# --- key paths -----------------------------------------------------------------------------


def tree_flatten_with_path(tree, is_leaf=None) -> tuple[list[tuple[tuple, Any]], PyTreeDef]:
    """Like `tree_flatten`, but each leaf comes with its key path (a tuple of keys)."""
    out: list = []
    _flatten_with_path(tree, (), out, is_leaf)
    return out, tree_structure(tree, is_leaf)


def _flatten_with_path(x, path, out, is_leaf):
    if is_leaf is not None and is_leaf(x):
        out.append((path, x))
        return
    t, nt = _node_type(x)
    if nt is None:
        out.append((path, x))
        return
    children, aux = nt.to_iterable(x)
    children = list(children)
    for k, c in zip(nt.keys(aux, x), children):
        _flatten_with_path(c, path + (k,), out, is_leaf)


def tree_map_with_path(f: Callable, tree, *rest, is_leaf=None):
    pairs, treedef = tree_flatten_with_path(tree, is_leaf)
    others = [treedef.flatten_up_to(r) for r in rest]
    return treedef.unflatten(f(p, x, *xs) for (p, x), *xs in zip(pairs, *others))


def keystr(path: tuple) -> str:
    """`('params', 0)` -> `['params'][0]`."""
    return "".join(f"[{k!r}]" for k in path)


# --- Partial --------------------------------------------------------------------------------


class Partial(functools.partial):
    """A `functools.partial` that is a pytree: its bound arguments are leaves."""

    def __new__(klass, func, *args, **kw):
        if isinstance(func, functools.partial):
            original = func
            func = func.func
            args = original.args + args
            kw = {**original.keywords, **kw}
        return super().__new__(klass, func, *args, **kw)


register_pytree_node(
    Partial,
    lambda p: ((p.args, p.keywords), p.func),
    lambda func, xs: Partial(func, *xs[0], **xs[1]),
)
