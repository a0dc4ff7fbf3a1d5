"""Pytrees: round trips (hypothesis), node kinds, registration, tree_map and its error messages."""

import collections

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from jaxlite import tree_util as tu

Point = collections.namedtuple("Point", ["x", "y"])


class Box:
    """A registered node with aux data (its label)."""

    def __init__(self, label, items):
        self.label, self.items = label, items

    def __eq__(self, other):
        return type(other) is Box and (self.label, self.items) == (other.label, other.items)

    def __repr__(self):
        return f"Box({self.label!r}, {self.items!r})"


tu.register_pytree_node(Box, lambda b: (list(b.items), b.label), lambda lab, xs: Box(lab, xs))


@tu.register_pytree_node_class
class Pair:
    def __init__(self, a, b):
        self.a, self.b = a, b

    def tree_flatten(self):
        return (self.a, self.b), None

    @classmethod
    def tree_unflatten(cls, aux, children):
        return cls(*children)

    def __eq__(self, other):
        return type(other) is Pair and (self.a, self.b) == (other.a, other.b)


leaves = st.one_of(st.integers(-5, 5), st.floats(-1, 1), st.booleans(), st.text(max_size=2))


def extend(children):
    return st.one_of(
        st.tuples(children, children),
        st.lists(children, max_size=3),
        st.lists(children, max_size=3).map(tuple),
        st.dictionaries(st.sampled_from("abcd"), children, max_size=3),
        st.builds(Point, children, children),
        st.builds(Box, st.sampled_from(["p", "q"]), st.lists(children, max_size=2)),
        st.builds(Pair, children, children),
        st.just(None),
    )


trees = st.recursive(leaves, extend, max_leaves=12)


@given(trees)
def test_flatten_unflatten_round_trip(tree):
    flat, treedef = tu.tree_flatten(tree)
    assert tu.tree_unflatten(treedef, flat) == tree
    assert treedef.num_leaves == len(flat)
    assert tu.tree_leaves(tree) == flat
    assert tu.tree_structure(tree) == treedef
    assert hash(tu.tree_structure(tree)) == hash(treedef)


@given(trees)
def test_tree_map_identity_and_counting(tree):
    assert tu.tree_map(lambda x: x, tree) == tree
    counted = tu.tree_map(lambda x: 1, tree)
    assert sum(tu.tree_leaves(counted)) == len(tu.tree_leaves(tree))
    assert tu.tree_structure(counted) == tu.tree_structure(tree)


@given(trees, st.data())
def test_tree_map_over_two_trees_with_the_same_structure(tree, data):
    flat, treedef = tu.tree_flatten(tree)
    other = treedef.unflatten(range(len(flat)))
    pairs = tu.tree_leaves(tu.tree_map(lambda a, b: (a, b), tree, other), is_leaf=_is_pair)
    assert pairs == list(zip(flat, range(len(flat))))


def _is_pair(x):
    return type(x) is tuple and len(x) == 2 and type(x[1]) is int


def test_node_kinds_and_leaf_order():
    tree = {"b": [1, (2, 3)], "a": Point(4, None), "c": None}
    assert tu.tree_leaves(tree) == [4, 1, 2, 3]  # dict keys sorted
    assert tu.tree_leaves([None, None]) == []
    assert tu.tree_leaves(None) == []
    assert tu.tree_leaves(5) == [5]
    arr = np.arange(3)
    assert tu.tree_leaves([arr])[0] is arr  # arrays are leaves, not sequences


def test_unflatten_rebuilds_the_same_types():
    tree = (Point(1, [2]), {"k": (3,)}, Box("lab", [4, 5]), Pair(6, 7), None)
    out = tu.tree_unflatten(tu.tree_structure(tree), ["a", "b", "c", "d", "e", "f", "g"])
    assert out == (Point("a", ["b"]), {"k": ("c",)}, Box("lab", ["d", "e"]), Pair("f", "g"), None)
    assert type(out[0]) is Point


def test_structures_compare_by_kind_aux_data_and_children():
    s = tu.tree_structure
    assert s((1, 2)) == s((3, 4))
    assert s((1, 2)) != s([1, 2])
    assert s({"a": 1}) != s({"b": 1})
    assert s(Box("p", [1])) != s(Box("q", [1]))
    assert s(Point(1, 2)) != s((1, 2))
    assert s([1, None]) != s([1, 2])


def test_treedef_repr_shows_the_structure():
    r = repr(tu.tree_structure((1, [2, None], {"a": 3}, Point(4, 5))))
    assert r == "PyTreeDef((*, [*, None], {'a': *}, Point(x=*, y=*)))"
    assert repr(tu.tree_structure((1,))) == "PyTreeDef((*,))"


def test_tree_map_several_trees_and_prefix_trees():
    assert tu.tree_map(lambda a, b, c: a + b + c, [1, (2,)], [10, (20,)], [100, (200,)]) == [
        111,
        (222,),
    ]
    # The other trees may hold subtrees where the first has leaves (JAX's prefix rule).
    assert tu.tree_map(lambda a, b: (a, b), [1, 2], [(3, 4), {"k": 5}]) == [
        (1, (3, 4)),
        (2, {"k": 5}),
    ]


def test_tree_map_is_leaf():
    tree = [(1, 2), (3, 4)]
    assert tu.tree_map(lambda t: t[0], tree, is_leaf=lambda x: isinstance(x, tuple)) == [1, 3]


def test_mismatched_structures_show_both_structures():
    with pytest.raises(ValueError) as e:
        tu.tree_map(lambda a, b: a, [1, 2], [1, 2, 3])
    msg = str(e.value)
    assert "PyTreeDef([*, *])" in msg and "PyTreeDef([*, *, *])" in msg
    with pytest.raises(ValueError) as e:
        tu.tree_map(lambda a, b: a, {"a": 1}, {"b": 1})
    assert "{'a': *}" in str(e.value) and "{'b': *}" in str(e.value)
    with pytest.raises(ValueError) as e:
        tu.tree_map(lambda a, b: a, (1, None), (1, 2))
    assert "(*, None)" in str(e.value) and "(*, *)" in str(e.value)


def test_unflatten_with_the_wrong_number_of_leaves():
    with pytest.raises(ValueError, match=r"has 2 leaves, but 3 leaves were given"):
        tu.tree_unflatten(tu.tree_structure((1, 2)), [1, 2, 3])


def test_duplicate_registration_is_an_error():
    with pytest.raises(ValueError, match="Duplicate"):
        tu.register_pytree_node(Box, lambda b: ((), None), lambda a, c: Box("", []))


def test_flatten_with_path_and_keystr():
    pairs, _ = tu.tree_flatten_with_path({"params": [10, Point(20, 30)]})
    assert [(tu.keystr(p), x) for p, x in pairs] == [
        ("['params'][0]", 10),
        ("['params'][1].x", 20),  # a namedtuple's field is an attribute key, as JAX
        ("['params'][1].y", 30),
    ]


def test_tree_reduce_all_and_transpose():
    assert tu.tree_reduce(lambda a, b: a + b, [1, (2, 3)]) == 6
    assert tu.tree_all([True, (True,)]) and not tu.tree_all([True, (False,)])
    outer, inner = tu.tree_structure([0, 0]), tu.tree_structure((0, 0, 0))
    assert tu.tree_transpose(outer, inner, [(1, 2, 3), (4, 5, 6)]) == ([1, 4], [2, 5], [3, 6])


def test_partial_is_a_pytree():
    p = tu.Partial(lambda a, b: a + b, 2)
    leaves, treedef = tu.tree_flatten(p)
    assert leaves == [2]
    q = tu.tree_unflatten(treedef, [10])
    assert q(1) == 11
