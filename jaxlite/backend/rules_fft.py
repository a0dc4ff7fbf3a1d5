"""C lowering of lax.fft (issue 21): calls of csrc/jl_fft.h on contiguous buffers, one
one-dimensional pass per transformed axis, every scratch buffer in the kernel's workspace."""

from __future__ import annotations

import math

from jaxlite import dtypes
from jaxlite.backend.c_nodes import Leaf, sfx
from jaxlite.backend.lower_ctx import register_kernel
from jaxlite.primitives._fft import FftType, fft_p

_MAX_RADIX = 13  # JL_FFT_MAX_RADIX
_VB = 8  # JL_FFT_VB


def _bluestein_len(n: int) -> int:
    m = n
    for p in range(2, _MAX_RADIX + 1):
        while m % p == 0:
            m //= p
    return 0 if m == 1 else 1 << (2 * n - 2).bit_length()


def scratch_size(n: int) -> int:
    """jl_fft_scratch_size(n): complex elements a transform of length n works in."""
    big = _bluestein_len(n)
    return 3 * n + (n + 5 * big if big else 2 * _VB * n)


def _axis_calls(ctx, s, buf, shape, axes, inverse, scratch):
    """jl_fft_axis over each of `axes` of the contiguous complex buffer `buf` of `shape`."""
    for d in sorted(axes, reverse=True):
        outer, inner = math.prod(shape[:d]), math.prod(shape[d + 1 :])
        ctx.touch(buf, scratch)
        ctx.line(
            f"jl_fft_axis_{s}({buf}, {outer}, {shape[d]}, {inner}, {int(inverse)}, {scratch});"
        )


def _fft(ctx, eqn, args, *, fft_type, fft_lengths):
    x_aval, out_aval = eqn.invars[0].aval, eqn.outvars[0].aval
    cdt = dtypes.to_complex(out_aval.dtype)
    s = sfx(cdt)
    out = ctx.new_output(eqn)
    if 0 in x_aval.shape or 0 in out_aval.shape:
        return [Leaf(out, out_aval.dtype)]
    k = len(fft_lengths)
    scratch = ctx.alloc("fft_scratch", cdt, (max(scratch_size(n) for n in fft_lengths),)).buf
    if fft_type in (FftType.FFT, FftType.IFFT):
        ctx.write(args[0], out)  # transformed in place in the output
        axes = range(out_aval.ndim - k, out_aval.ndim)
        _axis_calls(ctx, s, out.buf, out_aval.shape, axes, fft_type == FftType.IFFT, scratch)
        return [Leaf(out, out_aval.dtype)]
    n = fft_lengths[-1]
    full = ctx.alloc("fft_row", cdt, (2 * n + 2,)).buf
    if fft_type == FftType.RFFT:
        x = ctx.materialize(args[0], "fft_in", contiguous=True)
        rows = math.prod(x_aval.shape[:-1])
        ctx.touch(x.view.buf, out.buf, full, scratch)
        ctx.line(f"jl_rfft_rows_{s}({x.view.buf}, {out.buf}, {rows}, {n}, {full}, {scratch});")
        axes = range(out_aval.ndim - k, out_aval.ndim - 1)
        _axis_calls(ctx, s, out.buf, out_aval.shape, axes, False, scratch)
        return [Leaf(out, out_aval.dtype)]
    # IRFFT: the leading axes inverted in a copy of the input, then the rows
    tmp = ctx.alloc("fft_tmp", cdt, x_aval.shape)
    ctx.write(args[0], tmp)
    axes = range(x_aval.ndim - k, x_aval.ndim - 1)
    _axis_calls(ctx, s, tmp.buf, x_aval.shape, axes, True, scratch)
    rows = math.prod(x_aval.shape[:-1])
    ctx.touch(tmp.buf, out.buf, full, scratch)
    ctx.line(f"jl_irfft_rows_{s}({tmp.buf}, {out.buf}, {rows}, {n}, {full}, {scratch});")
    return [Leaf(out, out_aval.dtype)]


register_kernel(fft_p, _fft)
