"""Functional updates `x.at[idx].set/add/subtract/multiply/divide/min/max/get`, as in JAX: the
index is parsed and described as for a gather (`_indexing`), then applied as one `scatter*`. Out of
bounds, updates are dropped (`mode="drop"`, the default) or clamped (`mode="clip"`).
"""

from __future__ import annotations

from jaxlite import primitives as lax
from jaxlite.numpy import _util
from jaxlite.numpy._indexing import _full, _index_to_gather, _parse, _rewriting_take
from jaxlite.primitives import ScatterDimensionNumbers


def _scatter_update(
    x, idx, y, scatter, indices_are_sorted=False, unique_indices=False, mode=None, name="at"
):
    x = _util.asarray(x, name)
    dt, weak = _util.dtype_weak(x)
    p = _parse(_util.shape_of(x), idx)
    ix = _index_to_gather(p)
    if 0 in ix.slice_shape:
        return x
    xe = lax.expand_dims(x, p.bool_axes) if p.bool_axes else x
    xe, y = _util.promote_dtypes(name, xe, y)
    y = _util.broadcast_to_shape(y, ix.slice_shape, name)
    if ix.newaxis_dims:
        y = lax.squeeze(y, ix.newaxis_dims)
    dnums = ScatterDimensionNumbers(
        update_window_dims=ix.dnums.offset_dims,
        inserted_window_dims=ix.dnums.collapsed_slice_dims,
        scatter_dims_to_operand_dims=ix.dnums.start_index_map,
    )
    out = scatter(
        xe,
        ix.indices,
        y,
        dnums,
        indices_are_sorted=indices_are_sorted or ix.is_sorted,
        unique_indices=unique_indices or ix.unique,
        mode=mode,
    )
    if p.bool_axes:
        out = lax.squeeze(out, p.bool_axes)
    return _util.convert(out, dt, weak, name)


def _negative(y):
    y = _util.asarray(y, "at[].subtract")
    return lax.neg(y)


class _IndexUpdateRef:
    """`x.at[idx]`: methods return an updated copy of `x` (JAX's functional `x[idx] op= y`).

    Out-of-bounds updates are dropped (`mode="drop"`, the default) or clamped (`mode="clip"`);
    `get` clamps by default and fills with `fill_value` under `mode="fill"`.
    """

    __slots__ = ("array", "index")

    def __init__(self, array, index):
        self.array = array
        self.index = index

    def __repr__(self) -> str:
        return f"_IndexUpdateRef({self.array!r}, {self.index!r})"

    def get(self, *, indices_are_sorted=False, unique_indices=False, mode=None, fill_value=None):
        """`x[idx]`, with an out-of-bounds `mode` ("clip", "fill", "promise_in_bounds").

        Example:
          >>> jnp.arange(3.0).at[5].get(mode="fill", fill_value=-1.0)
          Array(-1., dtype=float32)
        """
        return _rewriting_take(
            self.array, self.index, indices_are_sorted, unique_indices, mode, fill_value
        )

    def set(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None):
        """`x[idx] = values`, functionally.

        Example:
          >>> jnp.zeros(3).at[1].set(5.0)
          Array([0., 5., 0.], dtype=float32)
        """
        return _scatter_update(
            self.array,
            self.index,
            values,
            lax.scatter,
            indices_are_sorted,
            unique_indices,
            mode,
            "at[].set",
        )

    def add(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None):
        """`x[idx] += values`, functionally; repeated indices all add (like np.add.at)."""
        return _scatter_update(
            self.array,
            self.index,
            values,
            lax.scatter_add,
            indices_are_sorted,
            unique_indices,
            mode,
            "at[].add",
        )

    def subtract(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None):
        """`x[idx] -= values`, functionally; repeated indices all subtract."""
        return _scatter_update(
            self.array,
            self.index,
            _negative(values),
            lax.scatter_add,
            indices_are_sorted,
            unique_indices,
            mode,
            "at[].subtract",
        )

    def multiply(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None):
        """`x[idx] *= values`, functionally; repeated indices all multiply."""
        return _scatter_update(
            self.array,
            self.index,
            values,
            lax.scatter_mul,
            indices_are_sorted,
            unique_indices,
            mode,
            "at[].multiply",
        )

    mul = multiply

    def divide(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None):
        """`x[idx] /= values`, functionally (true division, as `jnp.divide`)."""
        x = _util.asarray(self.array, "at[].divide")
        ones = _full(_util.shape_of(x), 1, x)
        denom = _scatter_update(
            ones,
            self.index,
            values,
            lax.scatter_mul,
            indices_are_sorted,
            unique_indices,
            mode,
            "at[].divide",
        )
        return lax.div(*_util.promote_inexact("at[].divide", x, denom))

    def min(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None):
        """`x[idx] = minimum(x[idx], values)`, functionally."""
        return _scatter_update(
            self.array,
            self.index,
            values,
            lax.scatter_min,
            indices_are_sorted,
            unique_indices,
            mode,
            "at[].min",
        )

    def max(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None):
        """`x[idx] = maximum(x[idx], values)`, functionally."""
        return _scatter_update(
            self.array,
            self.index,
            values,
            lax.scatter_max,
            indices_are_sorted,
            unique_indices,
            mode,
            "at[].max",
        )


class _IndexUpdateHelper:
    """The `x.at` property: `x.at[idx]` gives an `_IndexUpdateRef` (see its methods)."""

    __slots__ = ("array",)

    def __init__(self, array):
        self.array = array

    def __getitem__(self, index) -> _IndexUpdateRef:
        return _IndexUpdateRef(self.array, index)

    def __repr__(self) -> str:
        return f"_IndexUpdateHelper({self.array!r})"
