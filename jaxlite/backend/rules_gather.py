"""C lowering of gather and scatter."""

from __future__ import annotations

import math

from jaxlite import primitives as P
from jaxlite.backend.c_nodes import Leaf, Node, Op, View, c_literal
from jaxlite.backend.lower_ctx import ELEMENTWISE, register_kernel

# ---- gather / scatter ----
# One loop nest over the index batch (the start indices are read and clamped, or checked, once
# per window) around a loop nest over the window. Index arithmetic is int64_t throughout. The
# out-of-bounds rules are those of the NumPy impl: gathers clamp or fill, scatters clamp or drop.


def _window_dims_of(rank: int, dropped, batching) -> list[int]:
    return [d for d in range(rank) if d not in dropped and d not in batching]


def _window_starts(ctx, idx: Node, bidx, index_map, op_shape, sizes, check: bool):
    """Per operand dimension, the C name of its window start; and the in-bounds flag (or None)."""
    starts, ok_terms = {}, []
    for k, d in enumerate(index_map):
        s = ctx.fresh("start")
        raw = f"(int64_t){ctx.read(idx, list(bidx) + [str(k)])}"
        if check:
            ctx.line(f"const int64_t {s} = {raw};")
            ok_terms.append(f"{s} >= 0 && {s} <= {op_shape[d] - sizes[d]}")
        else:
            ctx.line(f"const int64_t {s} = jl_clamp_start({raw}, {op_shape[d]}, {sizes[d]});")
        starts[d] = s
    if not check:
        return starts, None
    ok = ctx.fresh("inbounds")
    ctx.line(f"const bool {ok} = {' && '.join(f'({t})' for t in ok_terms) or 'true'};")
    return starts, ok


def _operand_index(ctx, starts: dict, widx, window, rank: int) -> list[str]:
    names = []
    for d in range(rank):
        terms = [starts[d]] if d in starts else []
        if d in window:
            terms.append(widx[window.index(d)])
        name = ctx.fresh("at")
        ctx.line(f"const int64_t {name} = {' + '.join(terms) or '0'};")
        names.append(name)
    return names


def _gather(ctx, eqn, args, *, dimension_numbers, slice_sizes, mode, fill_value, **_):
    x, idx = [ctx.materialize(a, "gather_in") if type(a) is Op else a for a in args]
    dn, dt = dimension_numbers, eqn.outvars[0].aval.dtype
    out = ctx.new_output(eqn)
    if math.prod(out.shape) == 0:
        return [Leaf(out, dt)]
    rank, bshape = len(x.shape), idx.shape[:-1]
    window = _window_dims_of(rank, dn.collapsed_slice_dims, dn.operand_batching_dims)
    # The output seen in (batch dims, window dims) order.
    b_pos = [p for p in range(len(out.shape)) if p not in dn.offset_dims]
    strides = [out.strides[p] for p in b_pos] + [out.strides[p] for p in dn.offset_dims]
    dest = View(out.buf, bshape + tuple(slice_sizes[d] for d in window), strides)
    fill = mode is P.GatherScatterMode.FILL_OR_DROP
    with ctx.loops(bshape, prefix="b") as bidx:
        starts, ok = _window_starts(ctx, idx, bidx, dn.start_index_map, x.shape, slice_sizes, fill)
        for ob, ib in zip(dn.operand_batching_dims, dn.start_indices_batching_dims):
            starts[ob] = bidx[ib]
        with ctx.loops([slice_sizes[d] for d in window], prefix="w") as widx:
            value = ctx.read(x, _operand_index(ctx, starts, widx, window, rank))
            if fill:  # NB: the ternary never reads the operand out of bounds
                value = f"{ok} ? {value} : {c_literal(fill_value, dt)}"
            ctx.line(f"{ctx.at(dest, list(bidx) + list(widx))} = {value};")
    return [Leaf(out, dt)]


register_kernel(P.gather_p, _gather)


def _scatter_combine(prim, dt):
    if prim is P.scatter_p:
        return lambda old, new: new
    rule = {P.scatter_add_p: P.add_p, P.scatter_mul_p: P.mul_p, P.scatter_min_p: P.min_p,
            P.scatter_max_p: P.max_p}[prim]  # fmt: skip
    return lambda old, new: ELEMENTWISE[rule](dt, old, new)


def _scatter(ctx, eqn, args, *, dimension_numbers, mode, **_):
    x, idx, upd = args
    idx = ctx.materialize(idx, "scatter_idx") if type(idx) is Op else idx
    dn, dt = dimension_numbers, eqn.outvars[0].aval.dtype
    out = ctx.new_output(eqn)
    ctx.write(x, out)
    if math.prod(out.shape) == 0 or math.prod(upd.shape) == 0:
        return [Leaf(out, dt)]
    rank, bshape = len(out.shape), idx.shape[:-1]
    window = _window_dims_of(rank, dn.inserted_window_dims, dn.operand_batching_dims)
    sizes = [1] * rank
    for d, u in zip(window, dn.update_window_dims):
        sizes[d] = upd.shape[u]
    scatter_dims = [i for i in range(len(upd.shape)) if i not in dn.update_window_dims]
    combine = _scatter_combine(eqn.primitive, dt)
    drop = mode is not P.GatherScatterMode.CLIP

    def window_loops(bidx, starts):
        with ctx.loops([sizes[d] for d in window], prefix="w") as widx:
            at = _operand_index(ctx, starts, widx, window, rank)
            uidx = [
                bidx[scatter_dims.index(i)]
                if i in scatter_dims
                else widx[dn.update_window_dims.index(i)]
                for i in range(len(upd.shape))
            ]
            new = ctx.read(upd, uidx)
            ctx.line(f"{ctx.at(out, at)} = {combine(ctx.at(out, at), new)};")

    with ctx.loops(bshape, prefix="b") as bidx:
        starts, ok = _window_starts(
            ctx, idx, bidx, dn.scatter_dims_to_operand_dims, out.shape, sizes, drop
        )
        for ob, ib in zip(dn.operand_batching_dims, dn.scatter_indices_batching_dims):
            starts[ob] = bidx[ib]
        if drop:  # an out-of-bounds window is skipped whole
            with ctx.block(f"if ({ok})"):
                window_loops(bidx, starts)
        else:
            window_loops(bidx, starts)
    return [Leaf(out, dt)]


for _p in (P.scatter_p, P.scatter_add_p, P.scatter_mul_p, P.scatter_min_p, P.scatter_max_p):
    register_kernel(_p, _scatter)
