"""C lowering of a max (min) pool's derivatives: select_and_gather_add (the tangent) and
select_and_scatter_add (the gradient), each one pass over every window, reading the operand (and
the tangents) where they are: no patches, no masks in memory. The selection is the primitives'
(jaxlite/primitives/_pooling.py): `!(selected >= x)` replaces the selection (ge; `<=` for le), so
that NaNs and ties select as XLA's.

When the last dimension is not windowed (NHWC pooling) the loops over it are innermost and
vectorized, with the running selections in a local array per window row; otherwise one scalar
loop nest per output. Elementwise operands (a relu before the pool, the cotangent's scaling) are
read fused, computed where the window reads them, unless costly.
"""

from __future__ import annotations

import math

from jaxlite import primitives as P
from jaxlite.backend.c_nodes import CTYPE, Leaf, Op, Scalar, c_literal
from jaxlite.backend.lower_ctx import KernelContext, register_kernel
from jaxlite.backend.rules_conv import _positions
from jaxlite.primitives._pooling import select_identity

# A fused elementwise operand is recomputed at every read: up to this cost (a relu of a biased
# product costs 2-3), or once per element in windows that do not overlap.
FUSED_READ_COST = 8
# Channels held in a local array of running selections (the vectorized NHWC path).
LOCAL_CHANNELS = 4096


def _operand(ctx: KernelContext, x, overlapping: bool):
    if type(x) is Scalar or (type(x) is Leaf):
        return x if type(x) is Scalar or x.view.buf is not None else ctx.materialize(x, "sel")
    if type(x) is Op and (not overlapping or x.cost <= FUSED_READ_COST):
        return x
    return ctx.materialize(x, "sel")


def _overlapping(window, strides, dilation=None) -> bool:
    dilation = dilation or (1,) * len(window)
    return any((w - 1) * d + 1 > s for w, s, d in zip(window, strides, dilation))


def _window_positions(ctx, oi, ki, geom, shape):
    """`_positions`, with None for the condition when no window reaches padding or a dilation
    hole (no padding, no base dilation: VALID pooling), so that no test is emitted."""
    strides, padding, base_dilation, window_dilation = geom
    pos, outside = _positions(ctx, oi, ki, strides, padding, base_dilation, window_dilation, shape)
    inside = all(lo <= 0 and hi <= 0 for lo, hi in padding) and all(b == 1 for b in base_dilation)
    return pos, (None if inside else outside)


def _keeps(select_prim, a: str, b: str) -> str:
    return f"({a} {'>=' if select_prim is P.ge_p else '<='} {b})"


def _channels_inner(geom, window, shape) -> bool:
    """The last dimension unwindowed and untouched: it can be the innermost, vectorized loop."""
    return (
        len(shape) > 1
        and [g[-1] for g in geom] == [1, (0, 0), 1, 1]
        and window[-1] == 1
        and shape[-1] <= LOCAL_CHANNELS
    )


def _gather(ctx, eqn, args, *, select_prim, window_dimensions, window_strides, padding,
            base_dilation, window_dilation):  # fmt: skip
    overlap = _overlapping(window_dimensions, window_strides, window_dilation)
    t, x = (_operand(ctx, a, overlap) for a in args)
    out = ctx.new_output(eqn)
    dt, xdt = eqn.outvars[0].aval.dtype, x.dtype
    if math.prod(out.shape) == 0:
        return [Leaf(out, dt)]
    ident = c_literal(select_identity(select_prim, xdt), xdt)
    zero = c_literal(0, dt)
    geom = (window_strides, padding, base_dilation, window_dilation)
    work = math.prod(out.shape) * max(1, math.prod(window_dimensions)) * 2
    if not out.shape:  # rank 0: the element itself (a window of no dimensions)
        x0, t0 = ctx.read(x, []), ctx.read(t, [])
        ctx.line(f"{ctx.at(out, [])} = {_keeps(select_prim, ident, x0)} ? {zero} : {t0};")
        return [Leaf(out, dt)]
    if _channels_inner(geom, window_dimensions, x.shape):
        lead, c = out.shape[:-1], out.shape[-1]
        with ctx.loops(lead, parallel=ctx.parallel(work)) as oi:
            best = ctx.fresh("best")
            ctx.line(f"{CTYPE[xdt]} {best}[{c}];")
            with ctx.loops([c], prefix="c", simd=True) as (j,):
                ctx.line(f"{best}[{j}] = {ident};")
                ctx.line(f"{ctx.at(out, [*oi, j])} = {zero};")
            with ctx.loops(window_dimensions[:-1], prefix="k") as ki:
                pos, outside = _window_positions(ctx, oi, ki, [g[:-1] for g in geom], x.shape[:-1])
                if outside is not None:
                    ctx.line(f"if ({outside}) continue;")
                with ctx.loops([c], prefix="c", simd=True) as (j,):
                    memo: dict = {}
                    v, tv = ctx.read(x, [*pos, j], memo), ctx.read(t, [*pos, j], memo)
                    take, dest = ctx.fresh("take"), ctx.at(out, [*oi, j])
                    ctx.line(f"const int {take} = !{_keeps(select_prim, f'{best}[{j}]', v)};")
                    ctx.line(f"{best}[{j}] = {take} ? {v} : {best}[{j}];")
                    ctx.line(f"{ctx.at(out, [*oi, j])} = {take} ? {tv} : {dest};")
        return [Leaf(out, dt)]
    with ctx.loops(out.shape, parallel=ctx.parallel(work)) as oi:
        best, val = ctx.fresh("best"), ctx.fresh("val")
        ctx.line(f"{CTYPE[xdt]} {best} = {ident};")
        ctx.line(f"{CTYPE[dt]} {val} = {zero};")
        with ctx.loops(window_dimensions, prefix="k") as ki:
            pos, outside = _window_positions(ctx, oi, ki, geom, x.shape)
            if outside is not None:
                ctx.line(f"if ({outside}) continue;")
            memo = {}
            v, tv = ctx.read(x, pos, memo), ctx.read(t, pos, memo)
            ctx.line(f"if (!{_keeps(select_prim, best, v)}) {{ {best} = {v}; {val} = {tv}; }}")
        ctx.line(f"{ctx.at(out, oi)} = {val};")
    return [Leaf(out, dt)]


def _scatter(ctx, eqn, args, *, select_prim, window_dimensions, window_strides, padding):
    n = len(window_dimensions)
    overlap = _overlapping(window_dimensions, window_strides)
    # (the source is read at every position of its window)
    s, x = _operand(ctx, args[0], True), _operand(ctx, args[1], overlap)
    out = ctx.new_output(eqn)
    dt, xdt = eqn.outvars[0].aval.dtype, x.dtype
    if math.prod(out.shape) == 0:
        return [Leaf(out, dt)]
    zero = c_literal(0, dt)
    if math.prod(s.shape) == 0:
        ctx.write(Scalar(zero, dt, out.shape), out)
        return [Leaf(out, dt)]
    ident = c_literal(select_identity(select_prim, xdt), xdt)
    ones = (1,) * n
    geom = (window_strides, padding, ones, ones)
    work = math.prod(s.shape) * max(1, math.prod(window_dimensions)) * 2
    # Distinct windows along a dimension of window 1 read distinct rows: threads may share it.
    parallel = ctx.parallel(work) and window_dimensions[0] == 1
    idx_t = "int32_t" if math.prod(out.shape) < 2**31 else "int64_t"

    def add(at: str, value: str) -> str:
        return f"{at} = {at} || {value};" if dt.kind == "b" else f"{at} += {value};"

    if not out.shape:  # rank 0: the element itself is its window's selection
        ctx.line(f"{ctx.at(out, [])} = {ctx.read(s, [])};")
        return [Leaf(out, dt)]
    if _channels_inner(geom, window_dimensions, x.shape):
        if not overlap:
            _scatter_disjoint(ctx, s, x, out, select_prim, window_dimensions, geom, parallel)
        else:
            _scatter_channels(ctx, s, x, out, select_prim, window_dimensions, geom, parallel,
                              idx_t, add)  # fmt: skip
        return [Leaf(out, dt)]
    ctx.write(Scalar(zero, dt, out.shape), out)
    with ctx.loops(s.shape, parallel=parallel) as oi:
        best, where, first = ctx.fresh("best"), ctx.fresh("where"), ctx.fresh("first")
        ctx.line(f"{CTYPE[xdt]} {best} = {ident};")
        ctx.line(f"int64_t {where} = -1;")
        ctx.line(f"int {first} = 1;")
        with ctx.loops(window_dimensions, prefix="k") as ki:
            pos, outside = _window_positions(ctx, oi, ki, geom, x.shape)
            if outside is not None:
                with ctx.block(f"if ({outside})"):
                    keep = _keeps(select_prim, best, ident)
                    ctx.line(f"if ({first} || !{keep}) {{ {best} = {ident}; {where} = -1; }}")
            with ctx.block("else" if outside is not None else ""):
                v = ctx.read(x, pos)
                keep = _keeps(select_prim, best, v)
                ctx.line(f"if ({first} || !{keep}) {{ {best} = {v}; {where} = {out.index(pos)}; }}")
            ctx.line(f"{first} = 0;")
        value = ctx.read(s, oi)
        ctx.touch(out.buf)
        ctx.line(f"if ({where} >= 0) {add(f'{out.buf}[{where}]', value)}")
    return [Leaf(out, dt)]


def _selection_row(ctx, x, select_prim, window_dimensions, geom, oi, c, record, idx_t="int32_t"):
    """The loops over a window with the channels innermost: the running selections `best[c]`
    and, per channel, `record(pos, ki)` (a C value) of the element selected; declares both
    arrays and returns their names."""
    xdt = x.dtype
    ident = c_literal(select_identity(select_prim, xdt), xdt)
    best, where = ctx.fresh("best"), ctx.fresh("where")
    ctx.line(f"{CTYPE[xdt]} {best}[{c}];")
    ctx.line(f"{idx_t} {where}[{c}];")
    with ctx.loops(window_dimensions[:-1], prefix="k") as ki:
        first = " && ".join(f"{k} == 0" for k in ki) or "1"
        pos, outside = _window_positions(ctx, oi, ki, [g[:-1] for g in geom], x.shape[:-1])
        if outside is not None:
            with ctx.block(f"if ({outside})"):
                with ctx.loops([c], prefix="c", simd=True) as (j,):
                    take = ctx.fresh("take")
                    keep = _keeps(select_prim, f"{best}[{j}]", ident)
                    ctx.line(f"const int {take} = ({first}) || !{keep};")
                    ctx.line(f"{best}[{j}] = {take} ? {ident} : {best}[{j}];")
                    ctx.line(f"{where}[{j}] = {take} ? -1 : {where}[{j}];")
        with ctx.block("else" if outside is not None else ""):
            rec = ctx.fresh("rec")
            ctx.line(f"const {idx_t} {rec} = {record(pos, ki)};")
            with ctx.loops([c], prefix="c", simd=True) as (j,):
                v, take = ctx.read(x, [*pos, j]), ctx.fresh("take")
                keep = _keeps(select_prim, f"{best}[{j}]", v)
                ctx.line(f"const int {take} = ({first}) || !{keep};")
                ctx.line(f"{best}[{j}] = {take} ? {v} : {best}[{j}];")
                ctx.line(f"{where}[{j}] = {take} ? {rec} : {where}[{j}];")
    return where


def _scatter_channels(ctx, s, x, out, select_prim, window_dimensions, geom, parallel, idx_t,
                      add):  # fmt: skip
    # Overlapping windows: zeros, then each window's cotangent added at its selection.
    dt = out_dt = s.dtype
    ctx.write(Scalar(c_literal(0, dt), out_dt, out.shape), out)
    lead, c = s.shape[:-1], s.shape[-1]
    cs = out.strides[-1]
    with ctx.loops(lead, parallel=parallel) as oi:
        where = _selection_row(ctx, x, select_prim, window_dimensions, geom, oi, c,
                               lambda pos, ki: out.index([*pos, "0"]), idx_t)  # fmt: skip
        with ctx.loops([c], prefix="c", simd=True) as (j,):
            value = ctx.read(s, [*oi, j])
            ctx.touch(out.buf)
            at = f"{out.buf}[{where}[{j}] + {j if cs == 1 else f'{j} * {cs}'}]"
            ctx.line(f"if ({where}[{j}] >= 0) {add(at, value)}")


def _scatter_disjoint(ctx, s, x, out, select_prim, window_dimensions, geom, parallel):
    # Windows that do not overlap (pooling as CNNs use it): each window's elements written once,
    # its cotangent where it selected, zeros elsewhere; zeros first only where no window reads.
    strides, padding = geom[0], geom[1]
    dt = s.dtype
    zero = c_literal(0, dt)
    covered = all(st == w and p == (0, 0) and o * w == n for st, w, p, o, n in
                  zip(strides, window_dimensions, padding, s.shape, x.shape))  # fmt: skip
    if not covered:
        ctx.write(Scalar(zero, dt, out.shape), out)
    lead, c = s.shape[:-1], s.shape[-1]
    win = window_dimensions[:-1]
    flat_strides = [math.prod(win[d + 1 :]) for d in range(len(win))]

    def flat(ki):
        return " + ".join(f"{k} * {m}" if m != 1 else k for k, m in zip(ki, flat_strides)) or "0"

    with ctx.loops(lead, parallel=parallel) as oi:
        where = _selection_row(ctx, x, select_prim, window_dimensions, geom, oi, c,
                               lambda pos, ki: flat(ki))  # fmt: skip
        with ctx.loops(win, prefix="k") as ki:
            pos, outside = _window_positions(ctx, oi, ki, [g[:-1] for g in geom], x.shape[:-1])
            if outside is not None:
                ctx.line(f"if ({outside}) continue;")
            kk = ctx.fresh("kk")
            ctx.line(f"const int32_t {kk} = {flat(ki)};")
            with ctx.loops([c], prefix="c", simd=True) as (j,):
                value = ctx.read(s, [*oi, j])
                ctx.line(f"{ctx.at(out, [*pos, j])} = {where}[{j}] == {kk} ? {value} : {zero};")


register_kernel(P.select_and_gather_add_p, _gather)
register_kernel(P.select_and_scatter_add_p, _scatter)
