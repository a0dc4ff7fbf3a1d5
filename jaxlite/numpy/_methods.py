"""Operators and methods of `jaxlite.Array` and of tracers, forwarded to `jnp` functions.

Both types get the same tables, so code behaves the same eagerly and under every transformation.
Operators return NotImplemented for operands that are not arrays or numbers (so `x == None` is
False and `x + "a"` raises Python's TypeError). `jaxlite.numpy` calls `install(jnp)` once its
names are defined.
"""

from __future__ import annotations

import numpy as np

from jaxlite.array import Array
from jaxlite.core import Tracer
from jaxlite.numpy import _dtype_api, _eager_fast, _shape

# operator -> jnp function name; each also gets its reflected form `__r<op>__`.
_BINARY = {
    "add": "add",
    "sub": "subtract",
    "mul": "multiply",
    "truediv": "true_divide",
    "floordiv": "floor_divide",
    "mod": "remainder",
    "divmod": "divmod",
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
_UNARY = {"neg": "negative", "pos": "positive", "abs": "absolute", "invert": "invert"}

# method name -> jnp function name (the function takes the array first).
_METHODS = {
    "all": "all",
    "any": "any",
    "argmax": "argmax",
    "argmin": "argmin",
    "argpartition": "argpartition",
    "argsort": "argsort",
    "astype": "_astype_method",
    "clip": "clip",
    "conj": "conj",
    "conjugate": "conjugate",
    "cumprod": "cumprod",
    "cumsum": "cumsum",
    "diagonal": "diagonal",
    "dot": "dot",
    "flatten": "_flatten_method",
    "max": "max",
    "mean": "mean",
    "min": "min",
    "nonzero": "nonzero",
    "prod": "prod",
    "ptp": "ptp",
    "ravel": "ravel",
    "repeat": "repeat",
    "reshape": "_reshape_method",
    "round": "round",
    "searchsorted": "searchsorted",
    "sort": "sort",
    "squeeze": "squeeze",
    "std": "std",
    "sum": "sum",
    "swapaxes": "swapaxes",
    "take": "take",
    "trace": "trace",
    "transpose": "_transpose_method",
    "var": "var",
}

_ACCEPTED = (Array, Tracer, np.ndarray, np.generic, bool, int, float, complex)


def _binary(fn, reflected: bool):
    if reflected:

        def op(self, other):
            if type(other) is Array or isinstance(other, _ACCEPTED):
                return fn(other, self)
            return NotImplemented

    else:

        def op(self, other):
            if type(other) is Array or isinstance(other, _ACCEPTED):
                return fn(self, other)
            return NotImplemented

    return op


def _lookup(jnp, name: str):
    fn = getattr(jnp, name, None)
    if fn is not None:
        return fn
    return getattr(_shape, name, None) or getattr(_dtype_api, name, None)


def _install(cls, jnp) -> None:
    for op, name in _BINARY.items():
        fn = _lookup(jnp, name)
        method = _binary(fn, False)
        fast = getattr(fn, "_eager_fast", None)
        if cls is Array and fast is not None:  # `x + y` as quick as `jnp.add(x, y)`
            method = _eager_fast.binary(*fast, method)
        setattr(cls, f"__{op}__", method)
        setattr(cls, f"__r{op}__", _binary(fn, True))
    for op, name in _COMPARE.items():
        setattr(cls, f"__{op}__", _binary(_lookup(jnp, name), False))
    for op, name in _UNARY.items():
        setattr(cls, f"__{op}__", _lookup(jnp, name))
    cls.__round__ = lambda self, ndigits=None: jnp.round(self, ndigits or 0)
    for method, name in _METHODS.items():
        fn = _lookup(jnp, name)
        if fn is not None:
            setattr(cls, method, fn)
    getitem = getattr(jnp, "_getitem", None)
    if getitem is not None:
        cls.__getitem__ = getitem
    at = getattr(jnp, "_IndexUpdateHelper", None)
    if at is not None:
        cls.at = property(at)
    cls.T = property(lambda self: jnp.transpose(self))
    cls.mT = property(lambda self: jnp.matrix_transpose(self))
    cls.real = property(lambda self: jnp.real(self))
    cls.imag = property(lambda self: jnp.imag(self))


def install(jnp) -> None:
    """Gives Array and Tracer the operators and methods, from the `jaxlite.numpy` module `jnp`."""
    for cls in (Array, Tracer):
        _install(cls, jnp)
    if "copy" not in Tracer.__dict__:
        Tracer.copy = lambda self: jnp.copy(self)
    # NB: __eq__ without __hash__ would make the classes unhashable by accident; they raise a
    # clear TypeError instead (defined on the classes themselves).
    Array.__hash__ = Array.__dict__["__hash__"]
