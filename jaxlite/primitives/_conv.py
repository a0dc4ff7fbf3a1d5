"""conv_general_dilated, XLA's convolution (any number of spatial dimensions, strides, padding,
lhs and rhs dilation, feature and batch groups, any layout), its dimension numbers and the
shape helpers lax exposes (`padtype_to_pads`, `conv_general_shape_tuple`, ...).

The parameters are normalized by the wrapper: `dimension_numbers` is a ConvDimensionNumbers of
int permutations (lhs: batch, feature, spatial...; rhs: out feature, in feature, spatial...;
out: batch, feature, spatial...), `padding` a tuple of (lo, hi) pairs.
"""

from __future__ import annotations

import builtins
import math
from typing import NamedTuple

import numpy as np

from jaxlite import dtypes
from jaxlite.core import ShapedArray, get_aval
from jaxlite.primitives._base import _NUM, _all_weak, _check_kinds, _prim, _same_dtypes
from jaxlite.primitives._shape import reshape, rev, transpose
from jaxlite.util import safe_zip

NAME = "conv_general_dilated"


class ConvDimensionNumbers(NamedTuple):
    """The positions of batch/feature/spatial dimensions of lhs, rhs and output (lax's)."""

    lhs_spec: tuple[int, ...]
    rhs_spec: tuple[int, ...]
    out_spec: tuple[int, ...]


def _string_spec(spec: str, chars: str, which: str) -> tuple[int, ...]:
    a, b = chars
    if spec.count(a) != 1 or spec.count(b) != 1:
        raise TypeError(
            f"convolution dimension_numbers[{which}] must contain the characters '{a}' and "
            f"'{b}' exactly once, got {spec}."
        )
    spatial = [c for c in spec if c not in chars]
    if len(set(spatial)) != len(spatial):
        raise TypeError(
            f"convolution dimension_numbers[{which}] must not contain duplicate spatial "
            f"dimension characters, got {spec}."
        )
    return spec.index(a), spec.index(b), spatial


def conv_general_permutations(dimension_numbers):
    """The (lhs, rhs, out) permutations of string dimension numbers such as
    ('NHWC', 'HWIO', 'NHWC')."""
    lhs, rhs, out = dimension_numbers
    if not (len(lhs) == len(rhs) == len(out)):
        raise TypeError(
            f"convolution dimension_numbers {dimension_numbers}: the three strings must have "
            "the same length (one character per dimension)."
        )
    ln, lc, ls = _string_spec(lhs, "NC", "0")
    ro, ri, rs = _string_spec(rhs, "OI", "1")
    on, oc, os_ = _string_spec(out, "NC", "2")
    if sorted(rs) != sorted(ls) or sorted(os_) != sorted(rs):
        raise TypeError(
            f"convolution dimension_numbers {dimension_numbers}: the spatial characters of the "
            f"three strings must be the same, got {''.join(ls)}, {''.join(rs)} and "
            f"{''.join(os_)}."
        )
    # Spatial dimensions are ordered as in the rhs spec (as lax does).
    lhs_perm = (ln, lc) + tuple(lhs.index(c) for c in rs)
    rhs_perm = (ro, ri) + tuple(rhs.index(c) for c in rs)
    out_perm = (on, oc) + tuple(out.index(c) for c in rs)
    return lhs_perm, rhs_perm, out_perm


def conv_dimension_numbers(lhs_shape, rhs_shape, dimension_numbers) -> ConvDimensionNumbers:
    """lax.conv_dimension_numbers: `dimension_numbers` (None, strings or ConvDimensionNumbers)
    as a ConvDimensionNumbers for operands of these shapes."""
    nd = len(lhs_shape)
    if len(rhs_shape) != nd:
        raise TypeError(
            f"convolution requires lhs and rhs ndim to be equal, got {nd} and {len(rhs_shape)}."
        )
    if nd < 2:
        raise TypeError(f"convolution requires operands of rank at least 2, got {nd}.")
    if dimension_numbers is None:
        spec = tuple(range(nd))
        return ConvDimensionNumbers(spec, spec, spec)
    if isinstance(dimension_numbers, ConvDimensionNumbers):
        specs = [tuple(int(i) for i in s) for s in dimension_numbers]
        for s in specs:
            if sorted(s) != list(range(nd)):
                raise TypeError(
                    f"convolution dimension_numbers {dimension_numbers} must hold permutations of "
                    f"range({nd}) for operands of rank {nd}."
                )
        return ConvDimensionNumbers(*specs)
    if len(dimension_numbers) != 3 or not all(isinstance(s, str) for s in dimension_numbers):
        raise TypeError(
            "convolution dimension_numbers must be None, a ConvDimensionNumbers or a tuple of "
            f"three strings such as ('NHWC', 'HWIO', 'NHWC'), got {dimension_numbers!r}."
        )
    if any(len(s) != nd for s in dimension_numbers):
        raise TypeError(
            f"convolution dimension_numbers {dimension_numbers} have strings of length "
            f"{tuple(len(s) for s in dimension_numbers)} for operands of rank {nd}: one "
            "character per dimension."
        )
    return ConvDimensionNumbers(*conv_general_permutations(dimension_numbers))


def padtype_to_pads(in_shape, window_shape, window_strides, padding) -> list[tuple[int, int]]:
    """lax.padtype_to_pads: 'VALID', 'SAME' or 'SAME_LOWER' as explicit (lo, hi) pairs."""
    if not isinstance(padding, str):
        raise TypeError(f"padtype_to_pads: padding must be a string, got {padding!r}")
    mode = padding.upper()
    if mode == "VALID":
        return [(0, 0)] * len(in_shape)
    if mode not in ("SAME", "SAME_LOWER"):
        raise RuntimeError(f"Unrecognized padding type: expected 'VALID' or 'SAME', got {padding}.")
    pads = []
    for n, w, s in safe_zip(in_shape, window_shape, window_strides):
        out = -(-int(n) // int(s))
        total = builtins.max((out - 1) * int(s) + int(w) - int(n), 0)
        lo, hi = (total // 2, total - total // 2)
        pads.append((lo, hi) if mode == "SAME" else (hi, lo))
    return pads


def _dilate_shape(shape, dilation):
    return tuple(0 if d == 0 else 1 + r * (d - 1) for d, r in safe_zip(shape, dilation))


def _ints(name: str, what: str, values, n: int) -> tuple[int, ...]:
    values = tuple(values)
    if len(values) != n:
        raise TypeError(
            f"{name}: {what} must have one entry per spatial dimension ({n}), got {values}."
        )
    out = []
    for v in values:
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
            raise TypeError(f"{name}: {what} must be integers, got {values}.")
        if int(v) < 1:
            raise ValueError(f"{name}: {what} must be positive integers, got {values}.")
        out.append(int(v))
    return tuple(out)


def _pairs(name: str, padding, n: int) -> tuple[tuple[int, int], ...]:
    try:
        pads = tuple((int(lo), int(hi)) for lo, hi in padding)
        ok = all(isinstance(v, (int, np.integer)) for p in padding for v in p)
    except (TypeError, ValueError):
        ok = False
    if not ok or len(pads) != n:
        raise ValueError(
            f"{name}: padding must be 'SAME', 'VALID', 'SAME_LOWER' or a sequence of {n} "
            f"(low, high) integer pairs, got {padding!r}."
        )
    return pads


def conv_shape_tuple(lhs_shape, rhs_shape, strides, pads, batch_group_count=1):
    """lax.conv_shape_tuple: the output shape of a convolution in (N, C, spatial...) layout."""
    if isinstance(pads, str):
        pads = padtype_to_pads(lhs_shape[2:], rhs_shape[2:], strides, pads)
    if len(pads) != len(lhs_shape) - 2:
        raise TypeError(f"Wrong number of explicit pads for convolution: {pads}")
    padded = [d + lo + hi for d, (lo, hi) in safe_zip(lhs_shape[2:], pads)]
    if any(p < 0 for p in padded):
        raise ValueError(
            f"Negative padding is larger than the size of the corresponding dimension: got "
            f"padding={pads} for lhs_shape[2:]={tuple(lhs_shape[2:])}"
        )
    space = [
        builtins.max(0, (p - k) // s + 1) for p, k, s in safe_zip(padded, rhs_shape[2:], strides)
    ]
    return (lhs_shape[0] // batch_group_count, rhs_shape[0], *space)


def conv_general_shape_tuple(lhs_shape, rhs_shape, window_strides, padding, dimension_numbers):
    """lax.conv_general_shape_tuple: the output shape of a convolution in its own layout."""
    dn = conv_dimension_numbers(lhs_shape, rhs_shape, dimension_numbers)
    lhs_t = tuple(lhs_shape[i] for i in dn.lhs_spec)
    rhs_t = tuple(rhs_shape[i] for i in dn.rhs_spec)
    out_t = conv_shape_tuple(lhs_t, rhs_t, window_strides, padding)
    return tuple(out_t[dn.out_spec.index(i)] for i in range(len(out_t)))


def conv_transpose_shape_tuple(lhs_shape, rhs_shape, window_strides, padding, dimension_numbers):
    """lax.conv_transpose_shape_tuple: the output shape of conv_transpose (string layouts)."""
    lperm, rperm, operm = conv_general_permutations(dimension_numbers)
    lhs_t = [lhs_shape[i] for i in lperm]
    rhs_t = [rhs_shape[i] for i in rperm]
    if isinstance(padding, str):
        padding = [
            _conv_transpose_padding(k, s, padding) for k, s in safe_zip(rhs_t[2:], window_strides)
        ]
    space = [
        (i - 1) * s - k + 2 + lo + hi
        for i, k, s, (lo, hi) in safe_zip(lhs_t[2:], rhs_t[2:], window_strides, padding)
    ]
    out_t = (lhs_t[0], rhs_t[0], *space)
    return tuple(out_t[operm.index(i)] for i in range(len(out_t)))


def _conv_transpose_padding(k, s, padding):
    """The explicit padding of a conv_transpose with 'SAME' or 'VALID' padding (lax's rule)."""
    if padding == "SAME":
        pad_len = k + s - 2
        pad_a = k - 1 if s > k - 1 else int(np.ceil(pad_len / 2))
    elif padding == "VALID":
        pad_len = k + s - 2 + builtins.max(k - s, 0)
        pad_a = k - 1
    elif isinstance(padding, tuple):  # the forward convolution's explicit padding
        pad_a = k - padding[0] - 1
        pad_len = pad_a + k - padding[1] - 1
    else:
        raise ValueError("Padding mode must be `SAME` or `VALID`.")
    return pad_a, pad_len - pad_a


# ------------------------------------------------------------------------------------------
# The primitive
# ------------------------------------------------------------------------------------------

conv_general_dilated_p = _prim(NAME)


def _conv_out_space(lhs_t, rhs_t, window_strides, padding, lhs_dilation, rhs_dilation):
    in_d = _dilate_shape(lhs_t[2:], lhs_dilation)
    k_d = _dilate_shape(rhs_t[2:], rhs_dilation)
    padded = [d + lo + hi for d, (lo, hi) in safe_zip(in_d, padding)]
    if any(p < 0 for p in padded):
        raise ValueError(
            f"{NAME}: negative padding {padding} is larger than the (dilated) lhs spatial "
            f"shape {in_d}: reduce the negative padding."
        )
    return tuple(
        builtins.max(0, (p - k) // s + 1) for p, k, s in safe_zip(padded, k_d, window_strides)
    )


@conv_general_dilated_p.def_abstract_eval
def _conv_abstract(
    lhs, rhs, *, window_strides, padding, lhs_dilation, rhs_dilation, dimension_numbers,
    feature_group_count, batch_group_count, preferred_element_type,
):  # fmt: skip
    dt = _same_dtypes(NAME, lhs, rhs)
    _check_kinds(NAME, lhs, _NUM + "b")
    lspec, rspec, ospec = dimension_numbers
    lhs_t = tuple(lhs.shape[i] for i in lspec)
    rhs_t = tuple(rhs.shape[i] for i in rspec)
    G, B = feature_group_count, batch_group_count
    where = f"lhs shape {lhs.shape}, rhs shape {rhs.shape}, dimension_numbers {dimension_numbers}"
    if G > 1 and B > 1:
        raise ValueError(
            f"{NAME}: at most one of feature_group_count ({G}) and batch_group_count ({B}) may "
            "be greater than 1."
        )
    if lhs_t[1] % G:
        raise ValueError(
            f"{NAME}: the lhs feature dimension ({lhs_t[1]}) must be a multiple of "
            f"feature_group_count={G} ({where})."
        )
    if lhs_t[1] // G != rhs_t[1]:
        raise ValueError(
            f"{NAME}: lhs feature dimension size divided by feature_group_count must equal the "
            f"rhs input feature dimension size, but {lhs_t[1]} // {G} != {rhs_t[1]} ({where}). "
            "Check the layout in dimension_numbers and the kernel's in-feature size."
        )
    if rhs_t[0] % G:
        raise ValueError(
            f"{NAME}: the rhs output feature dimension ({rhs_t[0]}) must be a multiple of "
            f"feature_group_count={G} ({where})."
        )
    if lhs_t[0] % B:
        raise ValueError(
            f"{NAME}: the lhs batch dimension ({lhs_t[0]}) must be a multiple of "
            f"batch_group_count={B} ({where})."
        )
    if rhs_t[0] % B:
        raise ValueError(
            f"{NAME}: the rhs output feature dimension ({rhs_t[0]}) must be a multiple of "
            f"batch_group_count={B} ({where})."
        )
    space = _conv_out_space(lhs_t, rhs_t, window_strides, padding, lhs_dilation, rhs_dilation)
    out_t = (lhs_t[0] // B, rhs_t[0], *space)
    shape = tuple(out_t[ospec.index(i)] for i in range(len(out_t)))
    out_dt = dt if preferred_element_type is None else preferred_element_type
    return ShapedArray(shape, out_dt, _all_weak(lhs, rhs) and preferred_element_type is None)


def dilate_and_pad(x: np.ndarray, dilation, padding, fill=0) -> np.ndarray:
    """`x` dilated (`fill` between elements, `dilation` per dimension) and padded with `fill`
    (negative padding crops)."""
    grown, src, crop = [], [], []
    for d, r, (lo, hi) in safe_zip(x.shape, dilation, padding):
        dd = 0 if d == 0 else 1 + r * (d - 1)
        grown.append(builtins.max(lo, 0) + dd + builtins.max(hi, 0))
        src.append(slice(builtins.max(lo, 0), builtins.max(lo, 0) + dd, r))
        crop.append(slice(builtins.max(-lo, 0), grown[-1] - builtins.max(-hi, 0)))
    out = np.full(grown, fill, x.dtype)
    out[tuple(src)] = x
    return out[tuple(crop)]


def windows(x: np.ndarray, out_shape, window, strides, dilation) -> np.ndarray:
    """A read-only view of shape (*out_shape, *window) of the windows of `x` (every dimension
    windowed; a window of 1 with stride 1 keeps a dimension as it is)."""
    st = x.strides
    shape = (*out_shape, *window)
    strides = (
        *(s * k for s, k in safe_zip(st, strides)),
        *(s * k for s, k in safe_zip(st, dilation)),
    )
    return np.lib.stride_tricks.as_strided(x, shape, strides, writeable=False)


@conv_general_dilated_p.def_impl
def _conv_impl(
    lhs, rhs, *, window_strides, padding, lhs_dilation, rhs_dilation, dimension_numbers,
    feature_group_count, batch_group_count, preferred_element_type,
):  # fmt: skip
    aval = _conv_abstract(
        get_aval(lhs), get_aval(rhs), window_strides=window_strides, padding=padding,
        lhs_dilation=lhs_dilation, rhs_dilation=rhs_dilation,
        dimension_numbers=dimension_numbers, feature_group_count=feature_group_count,
        batch_group_count=batch_group_count, preferred_element_type=preferred_element_type,
    )  # fmt: skip
    lspec, rspec, ospec = dimension_numbers
    acc = aval.dtype if aval.dtype.kind != "b" else np.dtype(np.int32)
    x = np.transpose(lhs, lspec).astype(acc, copy=False)  # (N, C, S...)
    w = np.transpose(rhs, rspec).astype(acc, copy=False)  # (O, I, K...)
    x = dilate_and_pad(x, (1, 1, *lhs_dilation), ((0, 0), (0, 0), *padding))
    nout = (aval.shape[ospec[0]], aval.shape[ospec[1]])
    out_space = tuple(aval.shape[i] for i in ospec[2:])
    if math.prod(aval.shape) == 0:
        return np.zeros(aval.shape, aval.dtype)
    ns = len(out_space)
    patches = windows(x, (*x.shape[:2], *out_space), (1, 1, *w.shape[2:]),
                      (1, 1, *window_strides), (1, 1, *rhs_dilation))[(Ellipsis, 0, 0) + (slice(None),) * ns]  # fmt: skip
    G, B = feature_group_count, batch_group_count
    n, c = patches.shape[:2]
    o, i = w.shape[:2]
    groups = builtins.max(G, B)
    # (groups, n, C/groups, out..., K...) and (groups, O/groups, I, K...)
    if B > 1:
        p = patches.reshape(B, n // B, c, *patches.shape[2:])
    else:
        p = patches.reshape(n, G, c // G, *patches.shape[2:]).swapaxes(0, 1)
    wg = w.reshape(groups, o // groups, i, *w.shape[2:])
    sp = "".join(chr(ord("p") + k) for k in range(ns))
    kk = "".join(chr(ord("d") + k) for k in range(ns))
    if p.dtype in dtypes.HALF_DTYPES:  # 16-bit floats accumulate in float32, as XLA's CPU
        p, wg = p.astype(np.float32), wg.astype(np.float32)
    out = np.einsum(f"gnc{sp}{kk},goc{kk}->gno{sp}", p, wg, optimize=True)
    out = out.swapaxes(0, 1).reshape(nout[0], nout[1], *out_space)  # (N, O, S...)
    if lhs.dtype == np.bool_:
        out = out > 0
    return np.ascontiguousarray(np.transpose(out, np.argsort(ospec))).astype(aval.dtype, copy=False)


def _canonical_padding(name, padding, lhs_t, rhs_t, window_strides, lhs_dilation, rhs_dilation):
    n = len(lhs_t) - 2
    if isinstance(padding, str):
        if padding.upper() not in ("SAME", "VALID", "SAME_LOWER"):
            raise ValueError(
                f"{name}: padding must be 'SAME', 'VALID', 'SAME_LOWER' or explicit pairs, got "
                f"{padding!r}."
            )
        if builtins.max(lhs_dilation, default=1) > 1:
            raise ValueError(
                f"{name}: string padding {padding!r} is not implemented for a transposed "
                f"convolution (lhs_dilation={lhs_dilation}): give explicit (low, high) pairs, "
                "or use conv_transpose."
            )
        k_d = _dilate_shape(rhs_t[2:], rhs_dilation)
        return tuple(padtype_to_pads(lhs_t[2:], k_d, window_strides, padding))
    return _pairs(name, padding, n)


def conv_general_dilated(
    lhs, rhs, window_strides, padding, lhs_dilation=None, rhs_dilation=None,
    dimension_numbers=None, feature_group_count=1, batch_group_count=1, precision=None,
    preferred_element_type=None,
):  # fmt: skip
    """lax.conv_general_dilated: XLA's general convolution."""
    la, ra = get_aval(lhs), get_aval(rhs)
    dn = conv_dimension_numbers(la.shape, ra.shape, dimension_numbers)
    n = la.ndim - 2
    strides = _ints(NAME, "window_strides", window_strides, n)
    ldil = _ints(NAME, "lhs_dilation", (1,) * n if lhs_dilation is None else lhs_dilation, n)
    rdil = _ints(NAME, "rhs_dilation", (1,) * n if rhs_dilation is None else rhs_dilation, n)
    lhs_t = tuple(la.shape[i] for i in dn.lhs_spec)
    rhs_t = tuple(ra.shape[i] for i in dn.rhs_spec)
    pads = _canonical_padding(NAME, padding, lhs_t, rhs_t, strides, ldil, rdil)
    for what, v in (("feature_group_count", feature_group_count),
                    ("batch_group_count", batch_group_count)):  # fmt: skip
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"{NAME}: {what} must be a positive integer, got {v!r}.")
    pet = None if preferred_element_type is None else dtypes.canonicalize(preferred_element_type)
    return conv_general_dilated_p.bind(
        lhs, rhs, window_strides=strides, padding=pads, lhs_dilation=ldil, rhs_dilation=rdil,
        dimension_numbers=dn, feature_group_count=int(feature_group_count),
        batch_group_count=int(batch_group_count), preferred_element_type=pet,
    )  # fmt: skip


def conv(lhs, rhs, window_strides, padding, precision=None, preferred_element_type=None):
    """lax.conv: conv_general_dilated in NCHW/OIHW layout, no dilation."""
    return conv_general_dilated(
        lhs, rhs, window_strides, padding, preferred_element_type=preferred_element_type
    )


def conv_with_general_padding(
    lhs, rhs, window_strides, padding, lhs_dilation, rhs_dilation, precision=None,
    preferred_element_type=None,
):  # fmt: skip
    """lax.conv_with_general_padding: conv_general_dilated in NCHW/OIHW layout."""
    return conv_general_dilated(
        lhs, rhs, window_strides, padding, lhs_dilation=lhs_dilation, rhs_dilation=rhs_dilation,
        preferred_element_type=preferred_element_type,
    )  # fmt: skip


def conv_transpose(
    lhs, rhs, strides, padding, rhs_dilation=None, dimension_numbers=None,
    transpose_kernel=False, precision=None, preferred_element_type=None,
    use_consistent_padding=False,
):  # fmt: skip
    """lax.conv_transpose: the gradient of a strided convolution, computed as a convolution with
    lhs dilation (the 'fractionally strided' convolution)."""
    la, ra = get_aval(lhs), get_aval(rhs)
    nd = la.ndim
    if dimension_numbers is None:
        dimension_numbers = {2: ("NC", "IO", "NC"), 3: ("NHC", "HIO", "NHC"),
                             4: ("NHWC", "HWIO", "NHWC"), 5: ("NHWDC", "HWDIO", "NHWDC")}.get(nd)  # fmt: skip
        if dimension_numbers is None:
            raise ValueError("conv_transpose: no default dimension_numbers for rank > 5")
    dn = conv_dimension_numbers(la.shape, ra.shape, dimension_numbers)
    n = nd - 2
    strides = _ints("conv_transpose", "strides", strides, n)
    rdil = (1,) * n if rhs_dilation is None else rhs_dilation
    rdil = _ints("conv_transpose", "rhs_dilation", rdil, n)
    eff_k = _dilate_shape([ra.shape[i] for i in dn.rhs_spec[2:]], rdil)
    if use_consistent_padding or padding in ("SAME", "VALID"):
        each = [padding] * n if isinstance(padding, str) else [tuple(p) for p in padding]
        pads = [_conv_transpose_padding(k, s, p) for k, s, p in safe_zip(eff_k, strides, each)]
    else:
        pads = padding
    if transpose_kernel:  # flip the spatial dimensions, swap the in and out features
        rhs = rev(rhs, dn.rhs_spec[2:])
        perm = list(range(nd))
        perm[dn.rhs_spec[0]], perm[dn.rhs_spec[1]] = dn.rhs_spec[1], dn.rhs_spec[0]
        rhs = transpose(rhs, perm)
    return conv_general_dilated(
        lhs, rhs, (1,) * n, pads, strides, rdil, dn,
        preferred_element_type=preferred_element_type,
    )  # fmt: skip


def conv_general_dilated_patches(
    lhs, filter_shape, window_strides, padding, lhs_dilation=None, rhs_dilation=None,
    dimension_numbers=None, precision=None, preferred_element_type=None,
):  # fmt: skip
    """lax.conv_general_dilated_patches: the patches a convolution with a `filter_shape`
    kernel reads, as output features (channel-major: feature c * prod(filter_shape) + k), by a
    depthwise convolution with one-hot kernels (as lax computes them)."""
    la = get_aval(lhs)
    filter_shape = tuple(int(d) for d in filter_shape)
    dn = conv_dimension_numbers(la.shape, (1, 1) + filter_shape, dimension_numbers)
    size, c = math.prod(filter_shape), la.shape[dn.lhs_spec[1]]
    eye = np.broadcast_to(np.eye(size, dtype=la.dtype), (c, size, size))
    w = eye.reshape(c * size, 1, *filter_shape)
    w = np.moveaxis(w, (0, 1), (dn.rhs_spec[0], dn.rhs_spec[1]))
    return conv_general_dilated(
        lhs, np.ascontiguousarray(w), window_strides, padding, lhs_dilation, rhs_dilation, dn,
        feature_group_count=c, preferred_element_type=preferred_element_type,
    )  # fmt: skip


# ------------------------------------------------------------------------------------------
# Helpers of the transformation rules (lax's): moving a dimension into or out of another, and
# the paddings of the convolutions that compute a convolution's cotangents
# ------------------------------------------------------------------------------------------


def reshape_axis_out_of(src: int, size1: int, x):
    """`x` with dimension `src` split into (size1, rest), size1 major."""
    shape = list(get_aval(x).shape)
    shape[src : src + 1] = [size1, shape[src] // size1]
    return reshape(x, shape)


def reshape_axis_into(src: int, dst: int, x):
    """`x` with dimension `src` merged into dimension `dst` (numbered without `src`), as its
    major part."""
    shape = get_aval(x).shape
    perm = [i for i in range(len(shape)) if i != src]
    perm.insert(dst, src)
    new_shape = [shape[i] for i in range(len(shape)) if i != src]
    new_shape[dst] *= shape[src]
    return reshape(transpose(x, perm), new_shape)


def conv_vjp_lhs_padding(in_shape, window_dimensions, window_strides, out_shape, padding,
                         lhs_dilation, rhs_dilation):  # fmt: skip
    """The padding of the convolution that computes the lhs cotangent (lax's rule)."""
    lhs_d = _dilate_shape(in_shape, lhs_dilation)
    rhs_d = _dilate_shape(window_dimensions, rhs_dilation)
    out_d = _dilate_shape(out_shape, window_strides)
    before = [r - lo - 1 for r, (lo, _) in safe_zip(rhs_d, padding)]
    after = [a + r - 1 - o - b for a, r, o, b in safe_zip(lhs_d, rhs_d, out_d, before)]
    return tuple(safe_zip(before, after))


def conv_vjp_rhs_padding(in_shape, window_dimensions, window_strides, out_shape, padding,
                         lhs_dilation, rhs_dilation):  # fmt: skip
    """The padding of the convolution that computes the rhs cotangent (lax's rule)."""
    lhs_d = _dilate_shape(in_shape, lhs_dilation)
    rhs_d = _dilate_shape(window_dimensions, rhs_dilation)
    out_d = _dilate_shape(out_shape, window_strides)
    lo = [p for p, _ in padding]
    hi = [o - a + r - p - 1 for o, a, r, p in safe_zip(out_d, lhs_d, rhs_d, lo)]
    return tuple(safe_zip(lo, hi))
