"""Shape manipulation: reshape, transpose, concatenate/stack/split, tile/repeat, broadcasting,
flip/roll/rot90, pad, atleast_*d, index raveling, diff. All static-shape compositions of
reshape, transpose, slice, concatenate, pad, rev and broadcast_in_dim.
"""

from __future__ import annotations

import builtins
import math

import numpy as np

from jaxlite import dtypes
from jaxlite import primitives as lax
from jaxlite.core import Tracer
from jaxlite.numpy._util import (
    asarray,
    broadcast_to_shape,
    canonical_dtype,
    canonicalize_axes,
    canonicalize_axis,
    concrete_int,
    concrete_value,
    convert,
    fname,
    normalize_shape,
    promote_dtypes,
    shape_of,
    stack_arrays,
)
from jaxlite.numpy._util import (
    broadcast_shapes as _broadcast_shapes,
)
from jaxlite.util import safe_zip


def shape(a):
    """The shape of `a` as a tuple."""
    return shape_of(asarray(a, "shape"))


def ndim(a):
    """The number of dimensions of `a`."""
    return len(shape_of(asarray(a, "ndim")))


def size(a, axis=None):
    """The number of elements of `a` (along `axis` if given)."""
    s = shape_of(asarray(a, "size"))
    if axis is None:
        return math.prod(s)
    return s[canonicalize_axis(axis, len(s), "size", s)]


# ------------------------------------------------------------------------------------------
# Reshaping and transposing
# ------------------------------------------------------------------------------------------


def _resolve_shape(newshape, size_: int, old_shape, name: str) -> tuple[int, ...]:
    if not isinstance(newshape, (tuple, list)):
        newshape = (newshape,)
    dims = [concrete_int(d, name, "shape") for d in newshape]
    unknown = [i for i, d in enumerate(dims) if d == -1]
    if len(unknown) > 1 or builtins.any(d < -1 for d in dims):
        raise ValueError(f"{fname(name)}: invalid shape {tuple(dims)} (one -1 at most)")
    if unknown:
        known = math.prod(d for d in dims if d != -1)
        if known == 0 or size_ % known:
            raise ValueError(
                f"{fname(name)}: cannot reshape an array of shape {old_shape} into shape "
                f"{tuple(newshape)}"
            )
        dims[unknown[0]] = size_ // known
    if math.prod(dims) != size_:
        raise ValueError(
            f"{fname(name)}: cannot reshape an array of shape {old_shape} (size {size_}) into "
            f"shape {tuple(dims)}"
        )
    return tuple(dims)


def reshape(a, shape=None, order="C", *, newshape=None, copy=None):
    """`a` with a new shape (one entry may be -1); `order` 'C' (row-major) or 'F'.

    Example:
      >>> jnp.reshape(jnp.arange(6), (2, -1))
      Array([[0, 1, 2],
             [3, 4, 5]], dtype=int32)
    """
    if shape is None:
        shape = newshape
    if shape is None:
        raise TypeError("jnp.reshape: the new shape is missing")
    a = asarray(a, "reshape")
    old = shape_of(a)
    if type(shape) is tuple and order == "C" and all(type(d) is int and d >= 0 for d in shape):
        if shape == old:  # fast path: a static shape of the right size
            return a
        if math.prod(shape) == math.prod(old):
            return lax.reshape_p.bind(a, new_sizes=shape, dimensions=None)
    new = _resolve_shape(shape, math.prod(old), old, "reshape")
    if order == "F":
        at = lax.transpose(a, tuple(reversed(range(len(old)))))
        r = lax.reshape(at, tuple(reversed(new)))
        return lax.transpose(r, tuple(reversed(range(len(new)))))
    if order not in ("C", "A", None):
        raise ValueError(f"jnp.reshape: order must be 'C' or 'F', got {order!r}")
    return a if new == old else lax.reshape_p.bind(a, new_sizes=new, dimensions=None)


def _reshape_method(a, *shape, order="C"):
    """`x.reshape(2, 3)` and `x.reshape((2, 3))`, as NumPy's method accepts both."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return reshape(a, shape, order)


def ravel(a, order="C"):
    """`a` flattened to one dimension."""
    a = asarray(a, "ravel")
    return reshape(a, (math.prod(shape_of(a)),), order)


def _flatten_method(a, order="C"):
    return ravel(a, order)


def transpose(a, axes=None):
    """`a` with its axes permuted (reversed by default).

    Example:
      >>> jnp.transpose(jnp.zeros((2, 3, 4)), (1, 0, 2)).shape
      (3, 2, 4)
    """
    a = asarray(a, "transpose")
    s = shape_of(a)
    if axes is None:
        perm = tuple(reversed(range(len(s))))
    else:
        perm = canonicalize_axes(tuple(axes), len(s), "transpose", s)
        if len(perm) != len(s):
            raise ValueError(f"jnp.transpose: axes {tuple(axes)} do not match the shape {s}")
    if perm == tuple(range(len(s))):
        return a
    return lax.transpose(a, perm)


def _transpose_method(a, *axes):
    if not axes or axes == (None,):
        return transpose(a)
    if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
        axes = axes[0]
    return transpose(a, axes)


def permute_dims(a, /, axes):
    """`transpose` with the axes required (the array API name)."""
    return transpose(a, axes)


def matrix_transpose(x, /):
    """Swaps the last two axes."""
    x = asarray(x, "matrix_transpose")
    if len(shape_of(x)) < 2:
        raise ValueError(f"jnp.matrix_transpose: needs at least 2 dimensions, got {shape_of(x)}")
    return swapaxes(x, -1, -2)


def swapaxes(a, axis1, axis2):
    """`a` with two axes interchanged."""
    a = asarray(a, "swapaxes")
    s = shape_of(a)
    i = canonicalize_axis(axis1, len(s), "swapaxes", s)
    j = canonicalize_axis(axis2, len(s), "swapaxes", s)
    perm = list(range(len(s)))
    perm[i], perm[j] = perm[j], perm[i]
    return transpose(a, perm)


def moveaxis(a, source, destination):
    """`a` with the axes `source` moved to positions `destination`."""
    a = asarray(a, "moveaxis")
    s = shape_of(a)
    src = canonicalize_axes(
        source if isinstance(source, (tuple, list)) else (source,), len(s), "moveaxis", s
    )
    dst = canonicalize_axes(
        destination if isinstance(destination, (tuple, list)) else (destination,),
        len(s),
        "moveaxis",
        s,
    )
    if len(src) != len(dst):
        raise ValueError("jnp.moveaxis: `source` and `destination` need the same number of axes")
    order = [i for i in range(len(s)) if i not in src]
    for d, sx in sorted(safe_zip(dst, src)):
        order.insert(d, sx)
    return transpose(a, order)


def rollaxis(a, axis, start=0):
    """Moves `axis` to before position `start` (legacy; prefer `moveaxis`)."""
    a = asarray(a, "rollaxis")
    n = len(shape_of(a))
    axis = canonicalize_axis(axis, n, "rollaxis", shape_of(a))
    if start < 0:
        start += n
    if not 0 <= start <= n:
        raise ValueError(f"jnp.rollaxis: start {start} is out of range for dimension {n}")
    if axis < start:
        start -= 1
    return moveaxis(a, axis, start) if axis != start else a


def expand_dims(a, axis):
    """`a` with size-1 axes inserted at the positions `axis` (of the result)."""
    a = asarray(a, "expand_dims")
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    nd = len(shape_of(a)) + len(axes)
    axes = canonicalize_axes(tuple(axes), nd, "expand_dims", shape_of(a))
    return lax.expand_dims(a, axes)


def squeeze(a, axis=None):
    """`a` without its size-1 axes (only those in `axis` when given)."""
    a = asarray(a, "squeeze")
    s = shape_of(a)
    if axis is None:
        axes = tuple(i for i, d in enumerate(s) if d == 1)
    else:
        axes = canonicalize_axes(axis, len(s), "squeeze", s)
        for i in axes:
            if s[i] != 1:
                raise ValueError(
                    f"jnp.squeeze: cannot select an axis to squeeze out which has size not equal "
                    f"to one: axis {i} of shape {s}"
                )
    return lax.squeeze(a, axes) if axes else a


# ------------------------------------------------------------------------------------------
# Joining and splitting
# ------------------------------------------------------------------------------------------


def _arrays(arrays, name: str):
    if isinstance(arrays, Tracer) or hasattr(arrays, "_value") or isinstance(arrays, np.ndarray):
        arrays = [arrays[i] for i in range(shape_of(arrays)[0])]
    if not isinstance(arrays, (list, tuple)):
        raise TypeError(
            f"{fname(name)}: expected a sequence of arrays, got {type(arrays).__name__}"
        )
    if not arrays:
        raise ValueError(f"{fname(name)}: need at least one array")
    return [asarray(x, name) for x in arrays]


def _promote_all(xs, dtype, name: str):
    xs = list(promote_dtypes(name, *xs))
    if dtype is not None:
        dt = canonical_dtype(dtype, name)
        xs = [convert(x, dt) for x in xs]
    return xs


def concatenate(arrays, axis=0, dtype=None):
    """Joins arrays along an existing axis (`axis=None` flattens them first).

    Example:
      >>> jnp.concatenate([jnp.zeros(2), jnp.ones(1)])
      Array([0., 0., 1.], dtype=float32)
    """
    xs = _promote_all(_arrays(arrays, "concatenate"), dtype, "concatenate")
    if axis is None:
        xs = [lax.reshape(x, (math.prod(shape_of(x)),)) for x in xs]
        axis = 0
    s0 = shape_of(xs[0])
    if not s0:
        raise ValueError("jnp.concatenate: zero-dimensional arrays cannot be concatenated")
    ax = canonicalize_axis(axis, len(s0), "concatenate", s0)
    for x in xs:
        s = shape_of(x)
        if len(s) != len(s0) or builtins.any(
            a != b for i, (a, b) in enumerate(safe_zip(s, s0)) if i != ax
        ):
            raise ValueError(
                "jnp.concatenate: all input dimensions except the concatenation axis must match, "
                f"got shapes {[shape_of(x) for x in xs]} along axis {ax}"
            )
    if len(xs) == 1:
        return xs[0]
    return lax.concatenate(xs, ax)


concat = concatenate


def stack(arrays, axis=0, out=None, dtype=None):
    """Joins arrays of one shape along a new axis."""
    return stack_arrays(_promote_all(_arrays(arrays, "stack"), dtype, "stack"), axis)


def _atleast(x, n: int, name: str):
    x = asarray(x, name)
    s = shape_of(x)
    if len(s) >= n:
        return x
    if n == 1 or len(s) == 0:
        return lax.reshape(x, (1,) * (n - len(s)) + s)
    if n == 2:
        return lax.reshape(x, (1,) + s)
    if len(s) == 1:
        return lax.reshape(x, (1,) + s + (1,))
    return lax.reshape(x, s + (1,))


def atleast_1d(*arys):
    """Views of the inputs with at least one dimension."""
    out = [_atleast(x, 1, "atleast_1d") for x in arys]
    return out[0] if len(out) == 1 else out


def atleast_2d(*arys):
    """Views of the inputs with at least two dimensions (1-D `n` becomes `(1, n)`)."""
    out = [_atleast(x, 2, "atleast_2d") for x in arys]
    return out[0] if len(out) == 1 else out


def atleast_3d(*arys):
    """Views with at least three dimensions (`n` -> `(1, n, 1)`, `(m, n)` -> `(m, n, 1)`)."""
    out = [_atleast(x, 3, "atleast_3d") for x in arys]
    return out[0] if len(out) == 1 else out


def hstack(tup, dtype=None):
    """Stacks arrays horizontally (along axis 1; axis 0 for 1-D arrays)."""
    xs = [_atleast(x, 1, "hstack") for x in _arrays(tup, "hstack")]
    return concatenate(xs, 0 if len(shape_of(xs[0])) == 1 else 1, dtype)


def vstack(tup, dtype=None):
    """Stacks arrays vertically (along axis 0, 1-D arrays as rows)."""
    return concatenate([_atleast(x, 2, "vstack") for x in _arrays(tup, "vstack")], 0, dtype)


def dstack(tup, dtype=None):
    """Stacks arrays along the third axis."""
    return concatenate([_atleast(x, 3, "dstack") for x in _arrays(tup, "dstack")], 2, dtype)


def column_stack(tup):
    """Stacks 1-D arrays as columns of a 2-D array (2-D arrays are stacked as they are)."""
    xs = []
    for x in _arrays(tup, "column_stack"):
        s = shape_of(x)
        xs.append(lax.reshape(x, (s[0] if s else 1, 1)) if len(s) < 2 else x)
    return concatenate(xs, 1)


def _split_points(n: int, indices_or_sections, name: str, even: bool) -> list[int]:
    if isinstance(indices_or_sections, (list, tuple, np.ndarray)) or (
        hasattr(indices_or_sections, "shape") and shape_of(indices_or_sections) != ()
    ):
        pts = [int(i) for i in concrete_value(indices_or_sections, name, "indices").ravel()]
        return [builtins.min(builtins.max(p + n if p < 0 else p, 0), n) for p in pts]
    k = concrete_int(indices_or_sections, name, "sections")
    if k <= 0:
        raise ValueError(f"{fname(name)}: number of sections must be larger than 0, got {k}")
    if even and n % k:
        raise ValueError(
            f"{fname(name)}: array split does not result in an equal division ({n} into {k})"
        )
    q, r = divmod(n, k)
    sizes = [q + 1] * r + [q] * (k - r)
    return list(np.cumsum(sizes)[:-1])


def _split(ary, indices_or_sections, axis, name: str, even: bool):
    a = asarray(ary, name)
    s = shape_of(a)
    ax = canonicalize_axis(axis, len(s), name, s)
    pts = _split_points(s[ax], indices_or_sections, name, even)
    bounds = [0] + [int(p) for p in pts] + [s[ax]]
    out = []
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        hi = builtins.max(lo, hi)
        out.append(_slice_axis(a, ax, lo, hi))
    return out


def _slice_axis(a, ax: int, lo: int, hi: int, step: int = 1):
    s = shape_of(a)
    start = [0] * len(s)
    limit = list(s)
    strides = [1] * len(s)
    start[ax], limit[ax], strides[ax] = lo, hi, step
    return lax.slice(a, start, limit, strides if step != 1 else None)


def split(ary, indices_or_sections, axis=0):
    """Splits into equal sections (an int) or at the given indices, along `axis`."""
    return _split(ary, indices_or_sections, axis, "split", True)


def array_split(ary, indices_or_sections, axis=0):
    """Like `split`, but the sections may differ in size by one."""
    return _split(ary, indices_or_sections, axis, "array_split", False)


def hsplit(ary, indices_or_sections):
    """`split` along axis 1 (axis 0 for 1-D arrays)."""
    a = asarray(ary, "hsplit")
    return _split(a, indices_or_sections, 1 if len(shape_of(a)) > 1 else 0, "hsplit", True)


def vsplit(ary, indices_or_sections):
    """`split` along axis 0 (of an at least 2-D array)."""
    a = asarray(ary, "vsplit")
    if len(shape_of(a)) < 2:
        raise ValueError("jnp.vsplit: only works on arrays of 2 or more dimensions")
    return _split(a, indices_or_sections, 0, "vsplit", True)


def dsplit(ary, indices_or_sections):
    """`split` along axis 2 (of an at least 3-D array)."""
    a = asarray(ary, "dsplit")
    if len(shape_of(a)) < 3:
        raise ValueError("jnp.dsplit: only works on arrays of 3 or more dimensions")
    return _split(a, indices_or_sections, 2, "dsplit", True)


def unstack(x, /, *, axis=0):
    """The slices of `x` along `axis`, as a tuple."""
    x = asarray(x, "unstack")
    s = shape_of(x)
    if not s:
        raise ValueError("jnp.unstack: needs at least one dimension")
    ax = canonicalize_axis(axis, len(s), "unstack", s)
    return tuple(lax.squeeze(_slice_axis(x, ax, i, i + 1), (ax,)) for i in range(s[ax]))


def append(arr, values, axis=None):
    """`values` appended to `arr` (both flattened when `axis` is None)."""
    if axis is None:
        return concatenate([ravel(arr), ravel(values)], 0)
    return concatenate([arr, values], axis)


# ------------------------------------------------------------------------------------------
# Tiling and broadcasting
# ------------------------------------------------------------------------------------------


def tile(A, reps):
    """`A` repeated `reps` times along each axis.

    Example:
      >>> jnp.tile(jnp.array([1, 2]), 2)
      Array([1, 2, 1, 2], dtype=int32)
    """
    a = asarray(A, "tile")
    reps = normalize_shape(reps, "tile")
    s = shape_of(a)
    d = builtins.max(len(s), len(reps))
    s = (1,) * (d - len(s)) + s
    reps = (1,) * (d - len(reps)) + reps
    a = lax.reshape(a, s)
    inter = tuple(v for r, n in safe_zip(reps, s) for v in (r, n))
    b = lax.broadcast_in_dim(a, inter, tuple(range(1, 2 * d, 2)))
    return lax.reshape(b, tuple(r * n for r, n in safe_zip(reps, s)))


def repeat(a, repeats, axis=None, *, total_repeat_length=None):
    """Repeats each element `repeats` times along `axis` (of the flattened array by default).

    A scalar `repeats` is a broadcast and a reshape; per-element `repeats` must be concrete.
    """
    a = asarray(a, "repeat")
    if axis is None:
        a = ravel(a)
        axis = 0
    s = shape_of(a)
    ax = canonicalize_axis(axis, len(s), "repeat", s)
    reps = concrete_value(repeats, "repeat", "`repeats`").astype(np.int64)
    if reps.ndim == 0 or reps.size == 1:
        r = int(reps.reshape(()))
        if r < 0:
            raise ValueError(f"jnp.repeat: repeats may not be negative, got {r}")
        shape = s[: ax + 1] + (r,) + s[ax + 1 :]
        b = lax.broadcast_in_dim(a, shape, tuple(i for i in range(len(shape)) if i != ax + 1))
        out = lax.reshape(b, s[:ax] + (s[ax] * r,) + s[ax + 1 :])
    else:
        if reps.shape != (s[ax],):
            raise ValueError(
                f"jnp.repeat: repeats of shape {reps.shape} do not match axis {ax} of shape {s}"
            )
        if (reps < 0).any():
            raise ValueError("jnp.repeat: repeats may not be negative")
        pieces = []
        for i, r in enumerate(reps):  # one broadcast slice per element
            if r:
                piece = _slice_axis(a, ax, i, i + 1)
                pieces.append(broadcast_to_shape(piece, s[:ax] + (int(r),) + s[ax + 1 :]))
        if not pieces:
            return _slice_axis(a, ax, 0, 0)
        out = lax.concatenate(pieces, ax) if len(pieces) > 1 else pieces[0]
    if total_repeat_length is not None and shape_of(out)[ax] != total_repeat_length:
        raise ValueError(
            f"jnp.repeat: total_repeat_length={total_repeat_length} does not match the "
            f"{shape_of(out)[ax]} repeated elements"
        )
    return out


def broadcast_to(array, shape):
    """`array` broadcast to `shape` (NumPy's broadcasting rules)."""
    a = asarray(array, "broadcast_to")
    return broadcast_to_shape(a, normalize_shape(shape, "broadcast_to"), "broadcast_to")


def broadcast_shapes(*shapes):
    """The shape that arrays of the given shapes broadcast to."""
    return _broadcast_shapes(
        "broadcast_shapes", *[normalize_shape(s, "broadcast_shapes") for s in shapes]
    )


def broadcast_arrays(*args):
    """The arguments broadcast against each other."""
    xs = [asarray(x, "broadcast_arrays") for x in args]
    shape = _broadcast_shapes("broadcast_arrays", *[shape_of(x) for x in xs])
    return [broadcast_to_shape(x, shape, "broadcast_arrays") for x in xs]


# ------------------------------------------------------------------------------------------
# Flipping and rolling
# ------------------------------------------------------------------------------------------


def flip(m, axis=None):
    """`m` with the order of elements reversed along `axis` (all axes by default)."""
    m = asarray(m, "flip")
    s = shape_of(m)
    axes = canonicalize_axes(axis, len(s), "flip", s)
    return lax.rev(m, axes) if axes else m


def fliplr(m):
    """`m` flipped along axis 1."""
    m = asarray(m, "fliplr")
    if len(shape_of(m)) < 2:
        raise ValueError("jnp.fliplr: the input must be at least 2-D")
    return flip(m, 1)


def flipud(m):
    """`m` flipped along axis 0."""
    m = asarray(m, "flipud")
    if len(shape_of(m)) < 1:
        raise ValueError("jnp.flipud: the input must be at least 1-D")
    return flip(m, 0)


def _roll_axis(a, shift, ax: int):
    n = shape_of(a)[ax]
    if n == 0:
        return a
    if isinstance(shift, Tracer) and shift.to_concrete_value() is None:
        # a traced shift: a dynamic slice of the array concatenated with itself
        aa = lax.concatenate([a, a], ax)
        start = lax.rem(lax.sub(n, lax.rem(convert(shift, dtypes.int64), n)), n)
        starts = [convert(0, dtypes.int64)] * len(shape_of(a))
        starts[ax] = start
        return lax.dynamic_slice(aa, starts, shape_of(a))
    k = concrete_int(shift, "roll", "shift") % n
    if k == 0:
        return a
    return lax.concatenate([_slice_axis(a, ax, n - k, n), _slice_axis(a, ax, 0, n - k)], ax)


def roll(a, shift, axis=None):
    """Elements shifted by `shift` positions along `axis` (of the flattened array by default),
    wrapping around. `shift` may be traced."""
    a = asarray(a, "roll")
    s = shape_of(a)
    if axis is None:
        return lax.reshape(_roll_axis(ravel(a), shift, 0), s)
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    shifts = shift if isinstance(shift, (tuple, list)) else (shift,) * len(axes)
    if len(shifts) != len(axes):
        if len(axes) == 1:
            axes = axes * len(shifts)
        else:
            raise ValueError("jnp.roll: `shift` and `axis` must have the same length")
    for sh, ax in safe_zip(shifts, axes):
        a = _roll_axis(a, sh, canonicalize_axis(ax, len(s), "roll", s))
    return a


def rot90(m, k=1, axes=(0, 1)):
    """`m` rotated by 90 degrees `k` times in the plane of `axes`."""
    m = asarray(m, "rot90")
    s = shape_of(m)
    if len(axes) != 2:
        raise ValueError("jnp.rot90: `axes` must have two entries")
    a0, a1 = (canonicalize_axis(x, len(s), "rot90", s) for x in axes)
    if a0 == a1:
        raise ValueError("jnp.rot90: the axes must be different")
    k = concrete_int(k, "rot90", "k") % 4
    if k == 0:
        return m
    if k == 2:
        return flip(flip(m, a0), a1)
    perm = list(range(len(s)))
    perm[a0], perm[a1] = perm[a1], perm[a0]
    if k == 1:
        return transpose(flip(m, a1), perm)
    return flip(transpose(m, perm), a1)
