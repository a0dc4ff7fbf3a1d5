"""`jaxlite.nn`: activation functions, softmax and friends, attention and initializers, with
JAX 0.10's names and semantics (the functions live in `_functions`, `_logsumexp`, `_attention`).
"""

from __future__ import annotations

from jaxlite import core
from jaxlite.nn import initializers  # noqa: F401
from jaxlite.nn._attention import dot_product_attention
from jaxlite.nn._functions import (
    celu, elu, gelu, glu, hard_sigmoid, hard_silu, hard_swish, hard_tanh, identity,
    leaky_relu, log1mexp, log_sigmoid, log_softmax, logmeanexp, mish, one_hot, relu, relu6,
    selu, sigmoid, silu, soft_sign, softmax, softplus, sparse_plus, sparse_sigmoid,
    squareplus, standardize, swish, tanh,
)  # fmt: skip
from jaxlite.nn._logsumexp import logsumexp

__all__ = [
    "celu", "dot_product_attention", "elu", "gelu", "glu", "hard_sigmoid", "hard_silu",
    "hard_swish", "hard_tanh", "identity", "initializers", "leaky_relu", "log1mexp",
    "log_sigmoid", "log_softmax", "logmeanexp", "logsumexp", "mish", "one_hot", "relu", "relu6",
    "selu", "sigmoid", "silu", "soft_sign", "softmax", "softplus", "sparse_plus",
    "sparse_sigmoid", "squareplus", "standardize", "swish", "tanh",
]  # fmt: skip

core.name_api("jaxlite.nn.", {n: globals()[n] for n in __all__ if n != "initializers"})
