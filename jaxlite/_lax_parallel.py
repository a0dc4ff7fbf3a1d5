"""The public collectives of `jaxlite.lax` (JAX's `lax.psum`, `all_gather`, ...): the
primitives' wrappers (primitives/_collective.py) mapped over the leaves of a pytree, as JAX's."""

from __future__ import annotations

from jaxlite import tree_util
from jaxlite.primitives import _collective as _c


def _tree(fn, x):
    return tree_util.tree_map(fn, x)


def psum(x, axis_name, *, axis_index_groups=None):
    """The sum of `x` (a pytree) over the mapped axis `axis_name` (a name or a tuple of names):
    every example gets the total. Booleans are summed as int32. `psum(1, name)` is the axis size.

    Example:
      >>> jaxlite.vmap(lambda v: v / lax.psum(v, "i"), axis_name="i")(jnp.arange(1.0, 4.0))
      Array([0.16666667, 0.33333334, 0.5], dtype=float32)
    """
    return _tree(lambda v: _c.psum(v, axis_name, axis_index_groups=axis_index_groups), x)


def pmean(x, axis_name, *, axis_index_groups=None):
    """The mean of `x` over the mapped axis (integers give floats)."""
    return _tree(lambda v: _c.pmean(v, axis_name, axis_index_groups=axis_index_groups), x)


def pmax(x, axis_name, *, axis_index_groups=None):
    """The maximum of `x` over the mapped axis."""
    return _tree(lambda v: _c.pmax(v, axis_name, axis_index_groups=axis_index_groups), x)


def pmin(x, axis_name, *, axis_index_groups=None):
    """The minimum of `x` over the mapped axis."""
    return _tree(lambda v: _c.pmin(v, axis_name, axis_index_groups=axis_index_groups), x)


def all_gather(x, axis_name, *, axis_index_groups=None, axis: int = 0, tiled: bool = False):
    """Every example's `x`, stacked along a new axis `axis` (tiled: concatenated along it)."""
    return _tree(
        lambda v: _c.all_gather(
            v, axis_name, axis_index_groups=axis_index_groups, axis=axis, tiled=tiled
        ),
        x,
    )


def psum_scatter(x, axis_name, *, scatter_dimension: int = 0, axis_index_groups=None,
                 tiled: bool = False):  # fmt: skip
    """The sum over the mapped axis, scattered: example `i` gets block `i` of the total along
    `scatter_dimension` (not tiled: that dimension equals the axis size and is removed)."""
    return _tree(
        lambda v: _c.psum_scatter(
            v,
            axis_name,
            scatter_dimension=scatter_dimension,
            axis_index_groups=axis_index_groups,
            tiled=tiled,
        ),  # fmt: skip
        x,
    )


def all_to_all(x, axis_name, split_axis: int, concat_axis: int, *, axis_index_groups=None,
               tiled: bool = False):  # fmt: skip
    """Block `i` of `x` along `split_axis` goes to example `i`; the blocks received are
    concatenated along `concat_axis` (not tiled: the split axis, of the axis size, moves)."""
    return _tree(
        lambda v: _c.all_to_all(
            v,
            axis_name,
            split_axis,
            concat_axis,
            axis_index_groups=axis_index_groups,
            tiled=tiled,
        ),  # fmt: skip
        x,
    )


def ppermute(x, axis_name, perm):
    """Sends `x` along the `(source, destination)` pairs of `perm` (unique sources and
    destinations); an example no pair sends to gets zeros."""
    return _tree(lambda v: _c.ppermute(v, axis_name, perm), x)


def pshuffle(x, axis_name, perm):
    """Example `i` gets the `x` of example `perm[i]` (a permutation of the axis)."""
    return _tree(lambda v: _c.pshuffle(v, axis_name, perm), x)


def axis_index(axis_name):
    """This example's index along the mapped axis `axis_name` (int32)."""
    return _c.axis_index(axis_name)


def axis_size(axis_name) -> int:
    """The size of the mapped axis `axis_name` (a Python int)."""
    return _c.axis_size(axis_name)
