"""Elementwise functions (NumPy's ufuncs), each a promotion followed by one primitive."""

from __future__ import annotations

from jaxlite import primitives as lax
from jaxlite.numpy._util import promote, promote_inexact


def _binary(prim, name):
    def fn(x, y, /):
        return prim.bind(*promote(name, x, y))

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Elementwise `{name}` with NumPy broadcasting and NEP 50 promotion."
    return fn


def _unary_inexact(prim, name):
    def fn(x, /):
        return prim.bind(*promote_inexact(name, x))

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Elementwise `{name}`; integer inputs are promoted to floating point."
    return fn


add = _binary(lax.add_p, "add")
subtract = _binary(lax.sub_p, "subtract")
multiply = _binary(lax.mul_p, "multiply")
sin = _unary_inexact(lax.sin_p, "sin")
cos = _unary_inexact(lax.cos_p, "cos")
tanh = _unary_inexact(lax.tanh_p, "tanh")
exp = _unary_inexact(lax.exp_p, "exp")
log = _unary_inexact(lax.log_p, "log")
