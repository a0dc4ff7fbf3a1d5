"""Reductions with NumPy's `axis`, `keepdims` and `dtype` arguments."""

from __future__ import annotations

from jaxlite import primitives as lax
from jaxlite.numpy._util import asarray_arg, canonicalize_axes, shape_of


def sum(a, axis=None, dtype=None, keepdims=False):  # noqa: A001 - NumPy's name
    a = asarray_arg(a, "jnp.sum")
    shape = shape_of(a)
    axes = canonicalize_axes(axis, len(shape), "jnp.sum")
    out = lax.reduce_sum(a, axes)
    if keepdims:
        out = lax.expand_dims(out, axes)
    return out
