"""C lowering rules of the layout primitives (new views of the same elements: no copy) and of
the kernels that place blocks of elements: iota, dynamic_slice, dynamic_update_slice,
concatenate, pad."""

from __future__ import annotations

from jaxlite import primitives as P
from jaxlite.backend.c_nodes import Leaf, View, map_views, reshape_view, scaled
from jaxlite.backend.lower_ctx import as_scalar, broadcast_to, register_kernel, register_layout

# ------------------------------------------------------------------------------------------
# LAYOUT: new views of the same elements
# ------------------------------------------------------------------------------------------


def transpose_view(v: View, permutation) -> View:
    return View(v.buf, [v.shape[p] for p in permutation], [v.strides[p] for p in permutation],
                v.offset, v.dyn)  # fmt: skip


def broadcast_in_dim_view(v: View, shape, broadcast_dimensions) -> View:
    strides = [0] * len(shape)
    for i, d in enumerate(broadcast_dimensions):
        strides[d] = v.strides[i] if v.shape[i] == shape[d] else 0
    return View(v.buf, shape, strides, v.offset, v.dyn)


def _reshape(v: View, new_sizes, dimensions) -> View | None:
    return reshape_view(v, new_sizes)


def _squeeze(v: View, dimensions) -> View:
    keep = [d for d in range(len(v.shape)) if d not in dimensions]
    return View(v.buf, [v.shape[d] for d in keep], [v.strides[d] for d in keep], v.offset, v.dyn)


def _expand_dims(v: View, dimensions) -> View:
    shape, strides = list(v.shape), list(v.strides)
    for d in sorted(dimensions):
        shape.insert(d, 1)
        strides.insert(d, 0)
    return View(v.buf, shape, strides, v.offset, v.dyn)


def slice_view(v: View, start_indices, limit_indices, strides) -> View:
    steps = strides or (1,) * len(v.shape)
    shape = [max(0, -(-(hi - lo) // st)) for lo, hi, st in zip(start_indices, limit_indices, steps)]
    offset = v.offset + sum(lo * s for lo, s in zip(start_indices, v.strides))
    return View(v.buf, shape, [s * st for s, st in zip(v.strides, steps)], offset, v.dyn)


def _rev(v: View, dimensions) -> View:
    strides, offset = list(v.strides), v.offset
    for d in dimensions:
        offset += max(v.shape[d] - 1, 0) * strides[d]
        strides[d] = -strides[d]
    return View(v.buf, v.shape, strides, offset, v.dyn)


register_layout(P.transpose_p, transpose_view)
register_layout(P.broadcast_in_dim_p, broadcast_in_dim_view)
register_layout(P.reshape_p, _reshape)
register_layout(P.squeeze_p, _squeeze)
register_layout(P.expand_dims_p, _expand_dims)
register_layout(P.slice_p, slice_view)
register_layout(P.rev_p, _rev)


# ------------------------------------------------------------------------------------------
# KERNELS: primitives that need loops of their own
# ------------------------------------------------------------------------------------------


def _iota(ctx, eqn, args, *, dtype, shape, dimension):
    strides = [1 if d == dimension else 0 for d in range(len(shape))]
    return [Leaf(View(None, shape, strides), dtype)]


register_kernel(P.iota_p, _iota)


def _dynamic_slice(ctx, eqn, args, *, slice_sizes):
    x, starts = args[0], args[1:]
    names = []
    for s, d, z in zip(starts, x.shape, slice_sizes):
        names.append(ctx.fresh("start"))
        ctx.line(f"const int64_t {names[-1]} = jl_clamp_start((int64_t){ctx.scalar(s)}, {d}, {z});")

    def window(v: View) -> View:
        dyn = " + ".join(
            [v.dyn] * bool(v.dyn) + [scaled(n, s) for n, s in zip(names, v.strides) if s]
        )
        return View(v.buf, slice_sizes, v.strides, v.offset, dyn.replace("+ -", "- "))

    return [map_views(x, window)]


register_kernel(P.dynamic_slice_p, _dynamic_slice)


def _dynamic_update_slice(ctx, eqn, args):
    x, update, starts = args[0], args[1], args[2:]
    out = ctx.new_output(eqn)
    ctx.write(x, out)
    dyn = []
    for s, d, z, st in zip(starts, x.shape, update.shape, out.strides):
        name = ctx.fresh("start")
        ctx.line(f"const int64_t {name} = jl_clamp_start((int64_t){ctx.scalar(s)}, {d}, {z});")
        dyn.append(scaled(name, st))
    ctx.write(update, View(out.buf, update.shape, out.strides, 0, " + ".join(dyn)))
    return [Leaf(out, eqn.outvars[0].aval.dtype)]


register_kernel(P.dynamic_update_slice_p, _dynamic_update_slice)


def _concatenate(ctx, eqn, args, *, dimension):
    out = ctx.new_output(eqn)
    at = 0
    for x in args:
        n = x.shape[dimension]
        lo = [0] * len(out.shape)
        hi = list(out.shape)
        lo[dimension], hi[dimension] = at, at + n
        ctx.write(x, slice_view(out, lo, hi, None))
        at += n
    return [Leaf(out, eqn.outvars[0].aval.dtype)]


register_kernel(P.concatenate_p, _concatenate)


def _pad(ctx, eqn, args, *, padding_config):
    x, value = args
    out = ctx.new_output(eqn)
    ctx.write(broadcast_to(as_scalar(ctx, value), out.shape), out)
    src_lo, src_hi, dst_lo, dst_hi, steps = [], [], [], [], []
    for n, m, (lo, _, interior) in zip(x.shape, out.shape, padding_config):
        step = interior + 1
        first = max(0, -(lo // step) if lo < 0 else 0)  # first source index that lands in range
        last = min(n, (m - 1 - lo) // step + 1) if m > 0 else 0  # one past the last one
        last = max(last, first)
        src_lo.append(first)
        src_hi.append(last)
        dst_lo.append(lo + first * step)
        dst_hi.append(lo + (last - 1) * step + 1 if last > first else lo + first * step)
        steps.append(step)
    if all(h > lo for lo, h in zip(src_lo, src_hi)):
        part = map_views(x, lambda v: slice_view(v, src_lo, src_hi, None))
        ctx.write(part, slice_view(out, dst_lo, dst_hi, steps))
    return [Leaf(out, eqn.outvars[0].aval.dtype)]


register_kernel(P.pad_p, _pad)
