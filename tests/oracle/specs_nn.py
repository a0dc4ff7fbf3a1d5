"""Oracle specs of `jaxlite.nn`'s newer functions, `jaxlite.tree` and `jaxlite.flatten_util`
(issue 16): how each is called, beside the older nn specs in specs.py."""

from __future__ import annotations

from .harness import Call, Spec
from .specs import unary

_ACT = """celu hard_sigmoid hard_silu hard_swish hard_tanh mish selu soft_sign sparse_plus
sparse_sigmoid squareplus""".split()

SPECS: dict[str, Spec] = {}
SPECS |= {f"nn.{n}": unary() for n in _ACT}
SPECS["nn.log1mexp"] = Spec([Call(lambda f, L, x: f(x), [((3, 4),)], "pos")], diff=True)
SPECS["nn.glu"] = Spec(
    [Call(lambda f, L, x: f(x), [((3, 4),)]), Call(lambda f, L, x: f(x, axis=0), [((2, 3),)])],
    diff=True,
)
SPECS["nn.logmeanexp"] = Spec(
    [
        Call(lambda f, L, x: f(x, axis=-1), [((3, 4),), ("special",)]),
        Call(lambda f, L, x: f(x, axis=0, keepdims=True, where=x > 0), [((3, 4),)]),
    ],
    diff=True,
    tol=10.0,
)


def _attention(f, L, q, k, v, bias):
    return (
        f(q, k, v),
        f(q, k, v, bias, is_causal=True),
        f(q, k, v, mask=bias > 0, scale=0.5),
        f(q, k, v, local_window_size=1, return_residual=True),
        f(q, k, v, query_seq_lengths=L.numpy.array([2, 3], "int32"),
          key_value_seq_lengths=L.numpy.array([4, 1], "int32")),
    )  # fmt: skip


def _gqa(f, L, q, k, v):
    return f(q, k, v, is_causal=True)


SPECS["nn.dot_product_attention"] = Spec(
    [
        Call(_attention, [((2, 3, 2, 4), (2, 4, 2, 4), (2, 4, 2, 4), (1, 2, 3, 4))]),
        Call(_gqa, [((2, 3, 4, 2), (2, 3, 2, 2), (2, 3, 2, 2))]),  # 4 heads over 2
        Call(lambda f, L, q, k, v: f(q, k, v), [((3, 2, 4), (5, 2, 4), (5, 2, 4))]),  # 3-d
    ],
    dtypes=("float32",),  # float64 in tests/test_nn_api.py: its softmax runs in float32
    diff=True,
    tol=10.0,
)

# ---------------------------------------------------------------------- initializers, random
_R = dict(dtypes=("float64",), routes=("eager", "jit"))


def _init(make):
    """An initializer built by `make(I)` (I: the library's nn.initializers), on a few shapes,
    with the library's own key: the values are JAX's for the same key."""

    def fn(f, L):
        init = make(f)
        key = L.random.key(3)
        return [init(key, s) for s in ((3, 4), (2, 3, 5))] + [init(key, (4, 2), "float32")]

    return Spec([Call(fn, [()])], **_R)


_I = "nn.initializers."
_PRESETS = """glorot_uniform glorot_normal xavier_uniform xavier_normal he_uniform he_normal
kaiming_uniform kaiming_normal lecun_uniform lecun_normal orthogonal""".split()
SPECS |= {_I + n: _init(lambda f: f()) for n in _PRESETS}
SPECS |= {_I + n: _init(lambda f: f) for n in ("zeros", "ones")}
SPECS |= {_I + n: _init(lambda f: f(0.5)) for n in ("constant", "uniform", "normal")}
SPECS[_I + "truncated_normal"] = _init(lambda f: f(0.5, lower=-1.0, upper=1.5))
SPECS[_I + "variance_scaling"] = _init(lambda f: f(2.0, "fan_geo_avg", "normal", in_axis=0))
SPECS[_I + "delta_orthogonal"] = Spec(
    [Call(lambda f, L: [f()(L.random.key(1), s) for s in ((3, 2, 2), (3, 3, 2, 4))], [()])], **_R
)
SPECS[_I + "Initializer"] = Spec(
    [Call(lambda f, L: isinstance(L.nn.initializers.lecun_normal(), f), [()])], **_R
)
SPECS["random.orthogonal"] = Spec(
    [Call(lambda f, L: (f(L.random.key(0), 3), f(L.random.key(1), 2, (2,), "float32", 4)), [()])],
    **_R,
)

# ---------------------------------------------------------------------- jaxlite.tree, ravel
_T = dict(dtypes=("float64",), routes=("eager",))


def _tree(fn):
    return Spec([Call(fn, [((3,), (2, 2))])], **_T)


def _paths(L, pairs):
    return [(L.tree_util.keystr(p), x) for p, x in pairs]


SPECS |= {
    "tree.all": _tree(lambda f, L, a, b: (f([True, (a > -100).all()]), f([a.size == 0]))),
    "tree.broadcast": _tree(lambda f, L, a, b: f([a, b], [(1, 2), {"k": 3}])),
    "tree.flatten": _tree(lambda f, L, a, b: f({"a": a, "b": (b, None)})[0]),
    "tree.flatten_with_path": _tree(lambda f, L, a, b: _paths(L, f({"a": a, "b": [b]})[0])),
    "tree.leaves": _tree(lambda f, L, a, b: f([a, {"x": b, "y": None}], is_leaf=lambda x: x is b)),
    "tree.leaves_with_path": _tree(
        lambda f, L, a, b: _paths(
            L, f({"a": [a, b]}, is_leaf=lambda p, x: len(p) == 1, is_leaf_takes_path=True)
        )
    ),  # fmt: skip
    "tree.map": _tree(lambda f, L, a, b: f(lambda x, y: x * 2 + y.sum(), [a, b], [b, a])),
    "tree.map_with_path": _tree(
        lambda f, L, a, b: f(
            lambda p, x: (L.tree_util.keystr(p, simple=True, separator="/"), x), {"a": a, "b": [b]}
        )
    ),  # fmt: skip
    "tree.reduce": _tree(lambda f, L, a, b: f(lambda x, y: x + y.sum(), [a, b], 0.0)),
    "tree.reduce_associative": _tree(
        lambda f, L, a, b: f(lambda x, y: x + y, [a, a * 2, a, a - 1, a * a])
    ),
    "tree.structure": _tree(lambda f, L, a, b: f([a, {"x": b}]).num_leaves),
    "tree.transpose": _tree(
        lambda f, L, a, b: f(L.tree_util.tree_structure([0, 0]), None, [(a, b), (b, a)])
    ),
    "tree.unflatten": _tree(lambda f, L, a, b: f(L.tree_util.tree_structure((1, [2])), [a, b])),
}
_ravel_trees = lambda L, a, b: [  # noqa: E731
    {"w": a, "b": [b, 2.0]},
    (a.astype("int8"), b.astype("uint8")),
    [a.astype("float32"), b],
    (a > 0, b.astype("int32")),
]
SPECS["flatten_util.ravel_pytree"] = _tree(
    lambda f, L, a, b: [(f(t)[0], f(t)[1](f(t)[0])) for t in _ravel_trees(L, a, b)]
)

_U = "tree_util."
SPECS |= {
    _U + "SequenceKey": _tree(lambda f, L, a, b: (str(f(0)), repr(f(1)), f(2).idx)),
    _U + "DictKey": _tree(lambda f, L, a, b: (str(f("a")), repr(f(1)), f("k").key)),
    _U + "GetAttrKey": _tree(lambda f, L, a, b: (str(f("x")), repr(f("y")), f("z").name)),
    _U + "FlattenedIndexKey": _tree(lambda f, L, a, b: (str(f(2)), repr(f(0)), f(1).key)),
    _U + "flatten_one_level": _tree(lambda f, L, a, b: (f([a, b])[0], f({"a": a, "b": b})[0])),
    _U + "flatten_one_level_with_keys": _tree(
        lambda f, L, a, b: [(str(k), x) for k, x in f({"a": a, "b": (b,)})[0]]
    ),
    _U + "is_tree_node": _tree(lambda f, L, a, b: (f(a), f([a]), f(None), f({"k": b}))),
    _U + "tree_broadcast": _tree(lambda f, L, a, b: f([a, b], [(1, 2), {"k": 3}])),
    _U + "tree_leaves_with_path": _tree(lambda f, L, a, b: _paths(L, f({"a": [a, b]}))),
    _U + "tree_reduce_associative": _tree(
        lambda f, L, a, b: (
            f(lambda x, y: x + y, [a, a * 2, a, a - 1, a * a]),
            f(max, [], identity=0),
        )
    ),
    _U + "treedef_children": _tree(
        lambda f, L, a, b: [c.num_leaves for c in f(L.tree_util.tree_structure([a, (a, b)]))]
    ),
    _U + "treedef_tuple": _tree(
        lambda f, L, a, b: f(
            [L.tree_util.tree_structure(a), L.tree_util.tree_structure([a, b])]
        ).unflatten([1, 2, 3])
    ),
}
