"""Pytrees: nested tuples, lists, dicts, namedtuples, None and registered classes.

`tree_flatten` turns a pytree into a list of leaves and a `PyTreeDef`; `tree_unflatten` inverts it.
Dicts flatten in sorted-key order, as in JAX. `None` is an empty pytree (it has no leaves).
"""

from __future__ import annotations

import dataclasses
import functools
from itertools import islice
from typing import Any, NamedTuple
from collections.abc import Callable, Hashable, Iterable, Sequence

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
    "tree_leaves_with_path",
    "tree_map_with_path",
    "tree_broadcast",
    "tree_reduce_associative",
    "keystr",
    "register_pytree_node",
    "register_pytree_node_class",
    "register_pytree_with_keys",
    "register_pytree_with_keys_class",
    "register_dataclass",
    "register_static",
    "flatten_one_level",
    "flatten_one_level_with_keys",
    "is_tree_node",
    "treedef_is_leaf",
    "treedef_children",
    "treedef_tuple",
    "all_leaves",
    "Partial",
    "SequenceKey",
    "DictKey",
    "GetAttrKey",
    "FlattenedIndexKey",
]


# --- keys of key paths (JAX's classes: `str` gives the piece of a keystr) -------------------


@dataclasses.dataclass(frozen=True)
class SequenceKey:
    """The key of a tuple's or list's child: its index."""

    idx: int

    def __str__(self) -> str:
        return f"[{self.idx!r}]"


@dataclasses.dataclass(frozen=True)
class DictKey:
    """The key of a dict's child: its dict key."""

    key: Hashable

    def __str__(self) -> str:
        return f"[{self.key!r}]"


@dataclasses.dataclass(frozen=True)
class GetAttrKey:
    """The key of a namedtuple's or dataclass's child: the attribute name."""

    name: str

    def __str__(self) -> str:
        return f".{self.name}"


@dataclasses.dataclass(frozen=True)
class FlattenedIndexKey:
    """The key of a child of a node registered without keys: its index among the children."""

    key: int

    def __str__(self) -> str:
        return f"[<flat index {self.key}>]"


KeyEntry = Any
KeyPath = tuple


def _raw_key(k):
    """The plain value inside a key (`SequenceKey(0)` -> 0), for `keystr(simple=True)`."""
    for attr in ("idx", "key", "name"):
        if hasattr(k, attr) and type(k) in (SequenceKey, DictKey, GetAttrKey, FlattenedIndexKey):
            return getattr(k, attr)
    return k


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
    _check_new(nodetype)
    _registry[nodetype] = _NodeType(
        nodetype.__name__,
        flatten_func,
        unflatten_func,
        lambda aux, node: [FlattenedIndexKey(i) for i in range(len(list(flatten_func(node)[0])))],
    )


def _check_new(nodetype) -> None:
    if not isinstance(nodetype, type):
        raise TypeError(f"pytree node registration needs a class, got {nodetype!r}")
    if nodetype in _registry:
        raise ValueError(f"Duplicate pytree node registration for {nodetype}")


def register_pytree_with_keys(nodetype: type, flatten_with_keys, unflatten_func,
                              flatten_func=None) -> None:  # fmt: skip
    """Registers `nodetype` as a pytree node whose children have keys (for key paths).

    Args:
      nodetype: the class.
      flatten_with_keys: `obj -> (((key, child), ...), aux_data)`.
      unflatten_func: `(aux_data, children) -> obj`.
      flatten_func: optional faster `obj -> (children, aux_data)`; default: from
        `flatten_with_keys`.
    """
    _check_new(nodetype)

    def flatten(node):
        pairs, aux = flatten_with_keys(node)
        return [c for _, c in pairs], aux

    _registry[nodetype] = _NodeType(
        nodetype.__name__,
        flatten_func or flatten,
        unflatten_func,
        lambda aux, node: [k for k, _ in flatten_with_keys(node)[0]],
    )


def register_pytree_with_keys_class(cls: type) -> type:
    """Class decorator: registers `cls` with its `tree_flatten_with_keys` and `tree_unflatten`
    methods (and `tree_flatten`, if it has one)."""
    flat = getattr(cls, "tree_flatten", None)
    register_pytree_with_keys(
        cls,
        lambda x: x.tree_flatten_with_keys(),
        cls.tree_unflatten,
        None if flat is None else (lambda x: x.tree_flatten()),
    )
    return cls


def register_dataclass(nodetype: type, data_fields: Sequence[str] | None = None,
                       meta_fields: Sequence[str] | None = None,
                       drop_fields: Sequence[str] = ()) -> type:  # fmt: skip
    """Registers a dataclass (or any class built by keyword) as a pytree node: `data_fields` are
    children, `meta_fields` static aux data (hashable); by default, from the dataclass's fields,
    a field with `metadata=dict(static=True)` is meta. Returns `nodetype` (a decorator).
    """
    if data_fields is None and meta_fields is None:
        if not dataclasses.is_dataclass(nodetype):
            raise TypeError(
                f"register_dataclass: {nodetype.__name__} is not a dataclass; pass data_fields "
                "and meta_fields"
            )
        fields = [f for f in dataclasses.fields(nodetype) if f.init and f.name not in drop_fields]
        meta_fields = [f.name for f in fields if f.metadata.get("static", False)]
        data_fields = [f.name for f in fields if not f.metadata.get("static", False)]
    elif data_fields is None or meta_fields is None:
        raise TypeError("register_dataclass: give both data_fields and meta_fields, or neither")
    data_fields, meta_fields = tuple(data_fields), tuple(meta_fields)
    if dataclasses.is_dataclass(nodetype):
        init = {f.name for f in dataclasses.fields(nodetype) if f.init}
        missing = init - set(data_fields) - set(meta_fields) - set(drop_fields)
        if missing:
            raise ValueError(
                f"register_dataclass: the init fields {sorted(missing)} of {nodetype.__name__} "
                "are neither data_fields nor meta_fields"
            )

    def unflatten(meta, data):
        return nodetype(**dict(zip(meta_fields, meta)), **dict(zip(data_fields, data)))

    register_pytree_with_keys(
        nodetype,
        lambda x: (
            [(GetAttrKey(n), getattr(x, n)) for n in data_fields],
            tuple(getattr(x, n) for n in meta_fields),
        ),
        unflatten,
        lambda x: ([getattr(x, n) for n in data_fields], tuple(getattr(x, n) for n in meta_fields)),
    )
    return nodetype


def register_static(cls: type) -> type:
    """Registers `cls` as a pytree node with no children: its instances are static aux data
    (they must be hashable), e.g. jit sees them as part of the structure. Returns `cls`."""
    register_pytree_with_keys(cls, lambda x: ((), x), lambda x, _: x, lambda x: ((), x))
    return cls


def register_pytree_node_class(cls: type) -> type:
    """Class decorator: registers `cls` using its `tree_flatten` / `tree_unflatten` methods."""
    register_pytree_node(cls, lambda x: x.tree_flatten(), cls.tree_unflatten)
    return cls


def _dict_flatten(d):
    keys = sorted(d)
    return [d[k] for k in keys], tuple(keys)


def _seq_keys(aux, t):
    return [SequenceKey(i) for i in range(len(t))]


_registry[tuple] = _NodeType("tuple", lambda t: (t, None), lambda _, xs: tuple(xs), _seq_keys)
_registry[list] = _NodeType("list", lambda t: (t, None), lambda _, xs: list(xs), _seq_keys)
_registry[dict] = _NodeType(
    "dict",
    _dict_flatten,
    lambda keys, xs: dict(zip(keys, xs)),
    lambda aux, d: list(map(DictKey, aux)),
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
    "namedtuple",
    lambda t: (tuple(t), None),
    None,
    lambda aux, t: [GetAttrKey(f) for f in type(t)._fields],
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


def _unflattener(treedef: PyTreeDef) -> Callable[[list], Any]:
    """`tree_unflatten(treedef, leaves)` for a list `leaves`, as a function built once: jit's
    dispatch rebuilds a step's output tree at every call (the 15 leaves of the VAE benchmark's
    parameters and loss: 21 us through `tree_unflatten`, ~5 us this way)."""
    n, make = treedef.num_leaves, _maker(treedef)

    def unflatten(leaves: list) -> Any:
        if len(leaves) != n:
            return tree_unflatten(treedef, leaves)  # (its error)
        return make(iter(leaves))

    return unflatten


def _maker(td: PyTreeDef) -> Callable:
    """A function of an iterator of leaves that builds `td` from its next `td.num_leaves`."""
    if td.kind is None:
        return next
    kind, n = td.kind, len(td.children)
    if kind not in (tuple, list, dict):  # (namedtuples, None, registered nodes)
        return functools.partial(_unflatten, td)
    if all(c.kind is None for c in td.children):
        if kind is dict:
            keys = td.aux
            return lambda it: dict(zip(keys, islice(it, n)))
        return lambda it: kind(islice(it, n))
    makers = [_maker(c) for c in td.children]
    if kind is dict:
        keys = td.aux
        return lambda it: dict(zip(keys, [m(it) for m in makers]))
    return lambda it: kind([m(it) for m in makers])


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
    """The leaves of `tree`, in flattening order."""
    return tree_flatten(tree, is_leaf)[0]


def tree_structure(tree, is_leaf=None) -> PyTreeDef:
    """The `PyTreeDef` of `tree`."""
    return tree_flatten(tree, is_leaf)[1]


def treedef_is_leaf(treedef: PyTreeDef) -> bool:
    """Whether `treedef` is a single leaf."""
    return treedef.kind is None


def all_leaves(iterable, is_leaf=None) -> bool:
    """Whether every element of `iterable` is a leaf."""
    return all(tree_structure(x, is_leaf).kind is None for x in iterable)


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


class _Unspecified:
    def __repr__(self) -> str:
        return "<unspecified>"


_UNSPECIFIED = _Unspecified()


def tree_reduce(function: Callable, tree, initializer=_UNSPECIFIED, is_leaf=None):
    """`functools.reduce(function, leaves[, initializer])` over the leaves of `tree`."""
    leaves = tree_leaves(tree, is_leaf)
    if initializer is _UNSPECIFIED:
        if not leaves:
            raise TypeError("tree_reduce: reduce of a tree with no leaves needs an initializer")
        return functools.reduce(function, leaves)
    return functools.reduce(function, leaves, initializer)


def tree_reduce_associative(operation: Callable, tree, *, identity=_UNSPECIFIED, is_leaf=None):
    """Reduces the leaves with an associative `operation`, pairwise in a balanced tree (depth
    log n); `identity` is the result for a tree with no leaves."""
    leaves = tree_leaves(tree, is_leaf)
    if not leaves:
        if identity is _UNSPECIFIED:
            raise TypeError(
                "tree_reduce_associative: reduce of a tree with no leaves needs an identity"
            )
        return identity
    while len(leaves) > 1:
        pairs = [operation(a, b) for a, b in zip(leaves[::2], leaves[1::2])]
        leaves = pairs + ([leaves[-1]] if len(leaves) % 2 else [])
    return leaves[0]


def tree_all(tree, *, is_leaf=None) -> bool:
    """Whether every leaf of `tree` is true."""
    return all(tree_leaves(tree, is_leaf))


def tree_broadcast(prefix_tree, full_tree, is_leaf=None):
    """`prefix_tree` (a prefix of `full_tree`'s structure) with each leaf repeated over the
    leaves of its subtree in `full_tree`: a tree of `full_tree`'s structure."""
    prefix_def = tree_structure(prefix_tree, is_leaf)
    subtrees = prefix_def.flatten_up_to(full_tree)
    filled = [
        tree_map(lambda _, x=x: x, sub)
        for x, sub in zip(tree_leaves(prefix_tree, is_leaf), subtrees)
    ]
    return prefix_def.unflatten(filled)


def tree_transpose(outer_treedef: PyTreeDef, inner_treedef: PyTreeDef | None, pytree) -> Any:
    """Turns a tree of structure `outer` of trees of structure `inner` into a tree of structure
    `inner` of trees of structure `outer`. `inner_treedef=None`: that of the first subtree."""
    flat = outer_treedef.flatten_up_to(pytree)
    if inner_treedef is None:
        if not flat:
            raise ValueError("tree_transpose: inner_treedef=None needs a non-empty outer tree")
        inner_treedef = tree_structure(flat[0])
    inner = [inner_treedef.flatten_up_to(x) for x in flat]
    transposed = zip(*inner) if inner else [[] for _ in range(inner_treedef.num_leaves)]
    subtrees = [outer_treedef.unflatten(col) for col in transposed]
    return inner_treedef.unflatten(subtrees)


# --- key paths -----------------------------------------------------------------------------


def tree_flatten_with_path(
    tree, is_leaf=None, is_leaf_takes_path: bool = False
) -> tuple[list[tuple[tuple, Any]], PyTreeDef]:
    """Like `tree_flatten`, but each leaf comes with its key path (a tuple of keys:
    `SequenceKey`, `DictKey`, `GetAttrKey`, `FlattenedIndexKey`). `is_leaf_takes_path`:
    `is_leaf(path, x)` instead of `is_leaf(x)`."""
    out: list = []
    _flatten_with_path(tree, (), out, is_leaf, is_leaf_takes_path)
    return out, _structure_with_path(tree, is_leaf, is_leaf_takes_path)


def _structure_with_path(tree, is_leaf, is_leaf_takes_path: bool) -> PyTreeDef:
    if not is_leaf_takes_path or is_leaf is None:
        return tree_structure(tree, is_leaf)
    leaf_paths = {p for p, _ in tree_leaves_with_path(tree, is_leaf, True)}
    return _structure_by_paths(tree, (), leaf_paths)


def _structure_by_paths(x, path, leaf_paths) -> PyTreeDef:
    t, nt = _node_type(x)
    if path in leaf_paths or nt is None:
        return _LEAF
    children, aux = nt.to_iterable(x)
    children = list(children)
    kids = tuple(
        _structure_by_paths(c, path + (k,), leaf_paths) for k, c in zip(nt.keys(aux, x), children)
    )
    return PyTreeDef(t, aux, kids)


def tree_leaves_with_path(tree, is_leaf=None, is_leaf_takes_path: bool = False) -> list:
    """The `(key path, leaf)` pairs of `tree`."""
    out: list = []
    _flatten_with_path(tree, (), out, is_leaf, is_leaf_takes_path)
    return out


def _flatten_with_path(x, path, out, is_leaf, takes_path=False):
    if is_leaf is not None and (is_leaf(path, x) if takes_path else is_leaf(x)):
        out.append((path, x))
        return
    t, nt = _node_type(x)
    if nt is None:
        out.append((path, x))
        return
    children, aux = nt.to_iterable(x)
    children = list(children)
    for k, c in zip(nt.keys(aux, x), children):
        _flatten_with_path(c, path + (k,), out, is_leaf, takes_path)


def tree_map_with_path(f: Callable, tree, *rest, is_leaf=None, is_leaf_takes_path: bool = False):
    """`tree_map` where `f` also gets each leaf's key path first: `f(path, x, *rest_leaves)`."""
    pairs, treedef = tree_flatten_with_path(tree, is_leaf, is_leaf_takes_path)
    others = [treedef.flatten_up_to(r) for r in rest]
    return treedef.unflatten(f(p, x, *xs) for (p, x), *xs in zip(pairs, *others))


def keystr(keys: tuple, *, simple: bool = False, separator: str = "") -> str:
    """A key path as text: `(DictKey('params'), SequenceKey(0))` -> `['params'][0]`; with
    `simple=True, separator='/'`: `params/0`."""
    if simple:
        return separator.join(str(_raw_key(k)) for k in keys)
    return separator.join(str(k) for k in keys)


# --- one level, and treedef helpers ---------------------------------------------------------


def flatten_one_level(tree) -> tuple[list, Hashable]:
    """The children and aux data of the node `tree` (ValueError for a leaf)."""
    t, nt = _node_type(tree)
    if nt is None:
        raise ValueError(f"flatten_one_level: can't flatten a leaf, {type(tree).__name__}")
    children, aux = nt.to_iterable(tree)
    return list(children), aux


def flatten_one_level_with_keys(tree) -> tuple[list, Hashable]:
    """The `(key, child)` pairs and the aux data of the node `tree`."""
    children, aux = flatten_one_level(tree)
    _, nt = _node_type(tree)
    return list(zip(nt.keys(aux, tree), children)), aux


def is_tree_node(tree, is_leaf=None) -> bool:
    """Whether `tree` is a pytree node (not a leaf, nor a leaf by `is_leaf`)."""
    if is_leaf is not None and is_leaf(tree):
        return False
    return _node_type(tree)[1] is not None


def treedef_children(treedef: PyTreeDef) -> list[PyTreeDef]:
    """The structures of a node's children."""
    return list(treedef.children)


def treedef_tuple(treedefs: Iterable[PyTreeDef]) -> PyTreeDef:
    """The structure of a tuple of trees of the given structures."""
    return PyTreeDef(tuple, None, tuple(treedefs))


# --- Partial --------------------------------------------------------------------------------


class _CallableBox:
    """Wraps a `functools.partial` given to `Partial`, so that `functools.partial.__new__` does
    not merge its arguments into the new one's: only the new arguments are leaves (as JAX)."""

    def __init__(self, fun):
        self.fun = fun

    def __call__(self, *args, **kw):
        return self.fun(*args, **kw)

    def __eq__(self, other):
        return self.fun == (other.fun if isinstance(other, _CallableBox) else other)

    def __hash__(self):
        return hash(self.fun)

    def __repr__(self):
        return repr(self.fun)


class Partial(functools.partial):
    """A `functools.partial` that is a pytree: its bound arguments are leaves, the function is
    static (aux data). A `functools.partial` given as the function stays whole: its own bound
    arguments are part of the function, not leaves."""

    def __new__(klass, func, *args, **kw):
        if isinstance(func, functools.partial):
            func = _CallableBox(func)
        return super().__new__(klass, func, *args, **kw)


register_pytree_node(
    Partial,
    lambda p: ((p.args, p.keywords), p.func),
    lambda func, xs: Partial(func, *xs[0], **xs[1]),
)
