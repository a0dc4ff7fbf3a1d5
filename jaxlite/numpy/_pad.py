"""`pad` with NumPy's modes (constant, edge, reflect, symmetric, wrap, and whole-axis statistics),
axis by axis as NumPy does, from slices, rev, concatenate and lax.pad.
"""

from __future__ import annotations

import builtins

import numpy as np

from jaxlite import dtypes
from jaxlite import primitives as lax
from jaxlite.numpy import _reductions as red
from jaxlite.numpy._shape import _slice_axis
from jaxlite.numpy._ufuncs import round as round_
from jaxlite.numpy._util import (
    asarray,
    broadcast_to_shape,
    concrete_value,
    convert,
    dtype_of,
    dtype_weak,
    shape_of,
)
from jaxlite.util import safe_zip

# ------------------------------------------------------------------------------------------
# Padding
# ------------------------------------------------------------------------------------------


def _pad_widths(pad_width, nd: int, name: str = "pad") -> list[tuple[int, int]]:
    pw = (
        concrete_value(pad_width, name, "pad_width")
        if not isinstance(pad_width, (int, np.integer))
        else np.asarray(pad_width)
    )
    if pw.dtype.kind not in "iu":
        raise TypeError(f"jnp.pad: pad_width must be integers, got {pad_width!r:.60}")
    try:
        pw = np.broadcast_to(pw, (nd, 2))
    except ValueError:
        raise ValueError(
            f"jnp.pad: pad_width {pad_width!r:.60} does not fit {nd} dimensions"
        ) from None
    if (pw < 0).any():
        raise ValueError(f"jnp.pad: pad widths must be non-negative, got {pad_width!r:.60}")
    return [(int(b), int(a)) for b, a in pw]


def _pad_values(values, nd: int, name: str):
    v = values
    if isinstance(v, (int, float, bool)) or shape_of(asarray(v, name)) == ():
        return [(v, v)] * nd
    arr = concrete_value(v, name, "constant_values")
    arr = np.broadcast_to(arr, (nd, 2))
    return [(arr[i, 0].item(), arr[i, 1].item()) for i in range(nd)]


def _edge_pieces(x, ax, before, after):
    s = shape_of(x)
    n = s[ax]
    out = []
    if before:
        out.append(broadcast_to_shape(_slice_axis(x, ax, 0, 1), s[:ax] + (before,) + s[ax + 1 :]))
    out.append(x)
    if after:
        out.append(
            broadcast_to_shape(_slice_axis(x, ax, n - 1, n), s[:ax] + (after,) + s[ax + 1 :])
        )
    return lax.concatenate(out, ax) if len(out) > 1 else x


def _pad_reflect(x, ax, before, after, symmetric: bool):
    p = shape_of(x)[ax]
    if p == 1:
        return _edge_pieces(x, ax, before, after)
    while before > 0 or after > 0:  # NumPy's iteration: whole periods of the original length
        n = shape_of(x)[ax]
        if symmetric:
            length = n // p * p
            b, a = builtins.min(length, before), builtins.min(length, after)
            left = _slice_axis(x, ax, 0, b)
            right = _slice_axis(x, ax, n - a, n)
        else:
            length = (n - 1) // (p - 1) * (p - 1)
            b, a = builtins.min(length, before), builtins.min(length, after)
            left = _slice_axis(x, ax, 1, 1 + b)
            right = _slice_axis(x, ax, n - 1 - a, n - 1)
        pieces = (
            ([lax.rev(left, (ax,))] if b else []) + [x] + ([lax.rev(right, (ax,))] if a else [])
        )
        x = lax.concatenate(pieces, ax) if len(pieces) > 1 else x
        before, after = before - b, after - a
    return x


def _pad_wrap(x, ax, before, after):
    p = shape_of(x)[ax]
    while before > 0 or after > 0:
        n = shape_of(x)[ax]
        period = n // p * p
        b, a = builtins.min(period, before), builtins.min(period, after)
        pieces = [_slice_axis(x, ax, period - b, period)] if b else []
        pieces += [x] + ([_slice_axis(x, ax, n - period, n - period + a)] if a else [])
        x = lax.concatenate(pieces, ax) if len(pieces) > 1 else x
        before, after = before - b, after - a
    return x


def _pad_stat(x, ax, before, after, mode):
    fn = {"maximum": red.max, "minimum": red.min, "mean": red.mean, "median": red.median}[mode]
    v = fn(x, axis=ax, keepdims=True)
    if mode in ("mean", "median") and not dtypes.is_float(dtype_of(x)):
        v = convert(round_(v), dtype_of(x))
    elif mode in ("mean", "median"):
        v = convert(v, dtype_of(x))
    s = shape_of(x)
    pieces = []
    if before:
        pieces.append(broadcast_to_shape(v, s[:ax] + (before,) + s[ax + 1 :]))
    pieces.append(x)
    if after:
        pieces.append(broadcast_to_shape(v, s[:ax] + (after,) + s[ax + 1 :]))
    return lax.concatenate(pieces, ax) if len(pieces) > 1 else x


_PAD_MODES = (
    "constant",
    "empty",
    "edge",
    "reflect",
    "symmetric",
    "wrap",
    "maximum",
    "minimum",
    "mean",
    "median",
)


def pad(array, pad_width, mode="constant", **kwargs):
    """Pads `array` with `pad_width` = n, (before, after) or ((before, after), ...) per axis.

    Modes: constant (`constant_values`), empty (zeros), edge, reflect, symmetric, wrap,
    maximum, minimum, mean, median (statistics over the whole axis).

    Example:
      >>> jnp.pad(jnp.array([1, 2, 3]), (1, 2), mode="edge")
      Array([1, 1, 2, 3, 3, 3], dtype=int32)
    """
    x = asarray(array, "pad")
    s = shape_of(x)
    widths = _pad_widths(pad_width, len(s))
    if callable(mode) or mode not in _PAD_MODES:
        raise ValueError(f"jnp.pad: mode must be one of {_PAD_MODES}, got {mode!r}")
    allowed = {
        "constant": {"constant_values"},
        "reflect": {"reflect_type"},
        "symmetric": {"reflect_type"},
    }.get(mode, {"stat_length"} if mode in ("maximum", "minimum", "mean", "median") else set())
    extra = set(kwargs) - allowed
    if extra:
        raise ValueError(f"jnp.pad: unsupported keyword arguments for mode {mode!r}: {extra}")
    if kwargs.get("reflect_type", "even") != "even":
        raise NotImplementedError("jnp.pad: only reflect_type='even' is supported")
    if kwargs.get("stat_length") is not None:
        raise NotImplementedError("jnp.pad: stat_length is not supported (whole-axis statistics)")
    if mode in ("constant", "empty"):
        values = _pad_values(kwargs.get("constant_values", 0), len(s), "pad")
        dt, weak = dtype_weak(x)
        if len({v for pair in values for v in pair}) == 1:
            return lax.pad(
                x, convert(values[0][0], dt, weak, "pad"), [(b, a, 0) for b, a in widths]
            )
        for ax, ((b, a), (vb, va)) in enumerate(safe_zip(widths, values)):
            cfg = [(0, 0, 0)] * len(s)
            cfg[ax] = (b, 0, 0)
            x = lax.pad(x, convert(vb, dt, weak, "pad"), cfg)
            cfg[ax] = (0, a, 0)
            x = lax.pad(x, convert(va, dt, weak, "pad"), cfg)
        return x
    for ax, (b, a) in enumerate(widths):
        if not (b or a):
            continue
        if s[ax] == 0:
            raise ValueError(
                f"jnp.pad: can't extend empty axis {ax} of shape {s} using mode {mode!r}"
            )
        if mode == "edge":
            x = _edge_pieces(x, ax, b, a)
        elif mode in ("reflect", "symmetric"):
            x = _pad_reflect(x, ax, b, a, mode == "symmetric")
        elif mode == "wrap":
            x = _pad_wrap(x, ax, b, a)
        else:
            x = _pad_stat(x, ax, b, a, mode)
    return x
