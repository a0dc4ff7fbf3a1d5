"""Operators and methods of `jaxlite.Array` and of tracers, forwarded to `jnp` functions.

Both types get the same table, so code behaves the same eagerly and under every transformation.
Imported last by `jaxlite.numpy`, once every function it names exists.
"""

from __future__ import annotations

import sys

from jaxlite.array import Array
from jaxlite.core import Tracer

# operator -> jnp function; "r" marks the reflected form (other op self).
_BINARY = {
    "add": "add",
    "sub": "subtract",
    "mul": "multiply",
    "truediv": "true_divide",
    "floordiv": "floor_divide",
    "mod": "remainder",
    "pow": "power",
    "matmul": "matmul",
    "and": "bitwise_and",
    "or": "bitwise_or",
    "xor": "bitwise_xor",
    "lshift": "left_shift",
    "rshift": "right_shift",
}
_COMPARE = {
    "eq": "equal",
    "ne": "not_equal",
    "lt": "less",
    "le": "less_equal",
    "gt": "greater",
    "ge": "greater_equal",
}
_UNARY = {"neg": "negative", "pos": "positive", "abs": "abs", "invert": "invert"}
_METHODS = [
    "reshape", "astype", "sum", "mean", "max", "min", "prod", "transpose", "squeeze", "ravel",
    "dot", "clip", "argmax", "argmin", "all", "any", "std", "var", "cumsum", "cumprod",
    "flatten", "round", "sort", "argsort", "swapaxes", "take", "repeat", "conj", "nonzero",
    "trace", "diagonal", "ptp",
]


def _binary(fn, reflected: bool):
    if reflected:
        return lambda self, other: fn(other, self)
    return lambda self, other: fn(self, other)


def _install(cls, jnp) -> None:
    for op, name in _BINARY.items():
        fn = getattr(jnp, name, None)
        if fn is None:
            continue
        setattr(cls, f"__{op}__", _binary(fn, False))
        setattr(cls, f"__r{op}__", _binary(fn, True))
    for op, name in _COMPARE.items():
        fn = getattr(jnp, name, None)
        if fn is not None:
            setattr(cls, f"__{op}__", _binary(fn, False))
    for op, name in _UNARY.items():
        fn = getattr(jnp, name, None)
        if fn is not None:
            setattr(cls, f"__{op}__", lambda self, fn=fn: fn(self))
    for name in _METHODS:
        fn = getattr(jnp, name, None)
        if fn is not None:
            setattr(cls, name, lambda self, *a, fn=fn, **k: fn(self, *a, **k))
    getitem = getattr(jnp, "_getitem", None)
    if getitem is not None:
        cls.__getitem__ = getitem
    at = getattr(jnp, "_IndexUpdateHelper", None)
    if at is not None:
        cls.at = property(at)
    cls.T = property(lambda self: jnp.transpose(self))
    cls.mT = property(lambda self: jnp.swapaxes(self, -1, -2))


def install() -> None:
    jnp = sys.modules["jaxlite.numpy"]
    for cls in (Array, Tracer):
        _install(cls, jnp)
    # NB: __eq__ without __hash__ would make the classes unhashable by accident; they raise a
    # clear TypeError instead (defined on the classes themselves).
    Array.__hash__ = Array.__dict__["__hash__"]
