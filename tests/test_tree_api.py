"""jaxlite.tree (JAX's short names), tree_util's key paths and registrations, Partial, and
flatten_util.ravel_pytree: checked against JAX where it is installed."""

import collections
import dataclasses

import numpy as np
import pytest

import jaxlite
import jaxlite.numpy as jnp
from jaxlite import tree_util as tu
from jaxlite.flatten_util import ravel_pytree

Point = collections.namedtuple("Point", "x y")


@dataclasses.dataclass
class Layer:
    w: object
    b: object
    name: str = dataclasses.field(default="dense", metadata={"static": True})


tu.register_dataclass(Layer)


@tu.register_static
class Tag:
    def __init__(self, s):
        self.s = s

    def __eq__(self, other):
        return isinstance(other, Tag) and self.s == other.s

    def __hash__(self):
        return hash(self.s)


@tu.register_pytree_with_keys_class
class Pair:
    def __init__(self, a, b):
        self.a, self.b = a, b

    def tree_flatten_with_keys(self):
        return ((tu.GetAttrKey("a"), self.a), (tu.GetAttrKey("b"), self.b)), None

    @classmethod
    def tree_unflatten(cls, aux, children):
        return cls(*children)


TREE = {"p": Point(1, 2), "l": [3, (4, None)], "d": Layer(5, 6)}


def test_tree_face_is_tree_util():
    assert jaxlite.tree.map is tu.tree_map and jaxlite.tree.leaves is tu.tree_leaves
    assert jaxlite.tree.leaves(TREE) == [5, 6, 3, 4, 1, 2]
    leaves, treedef = jaxlite.tree.flatten(TREE)
    assert jaxlite.tree.unflatten(treedef, leaves) == TREE
    assert jaxlite.tree.map(lambda x: x * 10, TREE)["d"] == Layer(50, 60)
    assert jaxlite.tree.reduce(lambda a, b: a + b, TREE) == 21
    assert jaxlite.tree.reduce_associative(lambda a, b: a + b, TREE) == 21
    assert jaxlite.tree.all([True, (1, 2)]) and not jaxlite.tree.all([True, 0])
    with pytest.raises(TypeError, match="needs an initializer"):
        jaxlite.tree.reduce(lambda a, b: a + b, [])
    assert jaxlite.tree.reduce(lambda a, b: a + b, [], None) is None  # None is an initializer


def test_key_paths_and_keystr():
    pairs = jaxlite.tree.leaves_with_path(TREE)
    texts = [tu.keystr(p) for p, _ in pairs]
    assert texts == ["['d'].w", "['d'].b", "['l'][0]", "['l'][1][0]", "['p'].x", "['p'].y"]
    assert tu.keystr(pairs[3][0], simple=True, separator="/") == "l/1/0"
    assert pairs[0][0] == (tu.DictKey("d"), tu.GetAttrKey("w"))
    assert repr(tu.SequenceKey(0)) == "SequenceKey(idx=0)"
    assert str(tu.FlattenedIndexKey(2)) == "[<flat index 2>]"
    out = jaxlite.tree.map_with_path(lambda p, x: len(p) * x, TREE)
    assert out["l"] == [6, (12, None)]
    # is_leaf_takes_path: stop at depth 1
    top = jaxlite.tree.leaves_with_path(
        TREE, is_leaf=lambda p, x: len(p) == 1, is_leaf_takes_path=True
    )
    assert [tu.keystr(p) for p, _ in top] == ["['d']", "['l']", "['p']"]
    flat, treedef = jaxlite.tree.flatten_with_path(TREE, lambda p, x: len(p) == 1, True)
    assert treedef.num_leaves == 3 and [x for _, x in flat][1] == [3, (4, None)]


def test_registrations():
    leaves, treedef = tu.tree_flatten(Layer(1, 2, "conv"))
    assert leaves == [1, 2] and tu.tree_unflatten(treedef, [3, 4]) == Layer(3, 4, "conv")
    assert tu.tree_structure(Layer(1, 2, "a")) != tu.tree_structure(Layer(1, 2, "b"))
    assert tu.tree_leaves([Tag("x"), 1]) == [1]
    assert tu.tree_structure(Tag("x")) != tu.tree_structure(Tag("y"))
    p = tu.tree_map(lambda x: x + 1, Pair(1, 2))
    assert (p.a, p.b) == (2, 3)
    assert [tu.keystr(k) for k, _ in tu.tree_leaves_with_path(Pair(1, 2))] == [".a", ".b"]
    with pytest.raises(TypeError, match="is not a dataclass"):
        tu.register_dataclass(dict)
    with pytest.raises(ValueError, match="Duplicate"):
        tu.register_static(Tag)


def test_jit_treats_static_nodes_as_structure():
    f = jaxlite.jit(lambda layer, x: layer.w * x + layer.b)
    assert float(f(Layer(jnp.array(2.0), jnp.array(1.0)), 3.0)) == 7.0


def test_broadcast_transpose_one_level():
    assert jaxlite.tree.broadcast([1, 2], [(0, 0), {"a": 0}]) == [(1, 1), {"a": 2}]
    assert jaxlite.tree.transpose(tu.tree_structure([0, 0]), None, [(1, 2), (3, 4)]) == (
        [1, 3],
        [2, 4],
    )
    assert tu.flatten_one_level({"b": 1, "a": 2}) == ([2, 1], ("a", "b"))
    with pytest.raises(ValueError, match="can't flatten a leaf"):
        tu.flatten_one_level(1.0)
    assert [str(k) for k, _ in tu.flatten_one_level_with_keys(Point(1, 2))[0]] == [".x", ".y"]
    assert (
        tu.is_tree_node([1]) and not tu.is_tree_node(1) and not tu.is_tree_node([1], lambda x: True)
    )
    td = tu.treedef_tuple([tu.tree_structure(1), tu.tree_structure([1, 2])])
    assert td.unflatten([1, 2, 3]) == (1, [2, 3])
    assert [c.num_leaves for c in tu.treedef_children(td)] == [1, 2]


def test_partial():
    p = tu.Partial(jnp.add, jnp.array(1.0))
    out = jaxlite.jit(lambda p, x: p(x))(p, 2.0)
    assert float(out) == 3.0
    assert tu.tree_leaves(p) == [p.args[0]]


@pytest.mark.parametrize(
    "tree",
    [
        {"w": np.ones((2, 3), np.float32), "b": [np.arange(3), 2.0]},
        (np.ones(2, np.int8), np.zeros(3, np.uint8)),
        [np.array([True, False]), np.ones(2, np.int32)],
        [],
    ],
)
def test_ravel_pytree_round_trip(tree):
    flat, unravel = ravel_pytree(tree)
    assert flat.ndim == 1
    back = unravel(flat)
    for a, b in zip(tu.tree_leaves(back), tu.tree_leaves(tree)):
        assert jnp.asarray(a).dtype == jnp.asarray(b).dtype
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_ravel_pytree_dtypes_errors_and_transforms():
    flat, unravel = ravel_pytree({"a": np.ones(2, np.float32), "b": np.arange(2)})
    assert flat.dtype == np.float32  # float32 with int64: float32 in JAX's lattice
    with pytest.raises(ValueError, match=r"expected an array of shape \(4,\), got shape \(3,\)"):
        unravel(jnp.zeros(3))
    with pytest.raises(TypeError, match="given array of dtype float64 but expected dtype float32"):
        unravel(jnp.zeros(4, np.float64))
    g = jaxlite.grad(lambda x: jnp.sum(ravel_pytree({"a": x, "b": 2 * x})[0] ** 2))(jnp.ones(2))
    np.testing.assert_allclose(np.asarray(g), [10.0, 10.0])
    f = jaxlite.jit(lambda t: ravel_pytree(t)[0])
    np.testing.assert_array_equal(np.asarray(f({"a": jnp.ones(2), "b": jnp.zeros(1)})), [1, 1, 0])


def test_ravel_pytree_matches_jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    from jax.flatten_util import ravel_pytree as jax_ravel

    tree = {"w": np.ones((2, 2), np.float32), "i": np.arange(3, dtype=np.int16), "s": 2.5}
    a, ua = ravel_pytree(tree)
    b, ub = jax_ravel(tree)
    assert a.dtype == b.dtype
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    for x, y in zip(tu.tree_leaves(ua(a)), jax.tree.leaves(ub(b))):
        assert x.dtype == y.dtype and x.shape == y.shape


def test_partial_of_a_partial_keeps_the_inner_arguments_static():
    import functools

    inner = functools.partial(lambda a, b, c: a * 100 + b * 10 + c, 1)
    p = tu.Partial(inner, 2)
    assert tu.tree_leaves(p) == [2] and p(3) == 123
    q = tu.tree_unflatten(tu.tree_structure(p), [5])
    assert q(3) == 153
    assert tu.tree_structure(p) == tu.tree_structure(tu.Partial(inner, 7))
