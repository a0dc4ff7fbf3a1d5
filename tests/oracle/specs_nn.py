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
