"""C lowering of dot_general: the runtime library's gemm (csrc/jl_blas.h) for floats, fused
elementwise products without contraction, C loops for integers, bools and a
preferred_element_type."""

from __future__ import annotations

import math

from jaxlite import dtypes
from jaxlite import primitives as P
from jaxlite.backend.c_nodes import (
    CTYPE,
    Leaf,
    Op,
    Scalar,
    View,
    c_literal,
    map_views,
    reshape_view,
    scaled,
    sfx,
)
from jaxlite.backend.lower_ctx import ELEMENTWISE, register_kernel
from jaxlite.backend.rules_elementwise import convert
from jaxlite.backend.rules_layout import broadcast_in_dim_view, transpose_view

# --- dot_general ---------------------------------------------------------------------------


def _dot_general(ctx, eqn, args, *, dimension_numbers, preferred_element_type=None):
    (lc, rc), (lb, rb) = dimension_numbers
    lhs, rhs = args
    dt, out_dt = lhs.dtype, eqn.outvars[0].aval.dtype
    lfree = [d for d in range(len(lhs.shape)) if d not in lc and d not in lb]
    rfree = [d for d in range(len(rhs.shape)) if d not in rc and d not in rb]
    if out_dt != dt and dt.kind != "b":  # accumulate in the preferred type, as XLA (and eager)
        rule = ELEMENTWISE[P.convert_element_type_p]
        lhs, rhs = [Op(rule, {"new_dtype": out_dt}, [a], out_dt, a.shape, "cvt", 1 + a.cost
                       if type(a) is Op else 1) for a in (lhs, rhs)]  # fmt: skip
        dt = out_dt
    if not lc and out_dt == dt:  # no contraction: an elementwise product, fused like one
        return [_outer_product(ctx, eqn, lhs, rhs, list(lb) + lfree, list(rb) + rfree, len(lb))]
    # NB: gemm and the loops read buffers: an Op, or a Scalar (a broadcast constant such as
    # `jnp.ones(3)`, or the seed of a gradient), is first written to one.
    lhs, rhs = [a if type(a) is Leaf else ctx.materialize(a, "dot") for a in (lhs, rhs)]
    if dtypes.is_float(dt) and out_dt == dt:
        return [_gemm(ctx, eqn, lhs, rhs, (lb, lfree, lc), (rb, rc, rfree))]
    return [_dot_loops(ctx, eqn, lhs, rhs, lc, rc, lb, rb, lfree, rfree)]


def _outer_product(ctx, eqn, lhs, rhs, ldims, rdims, nb):
    out = eqn.outvars[0].aval
    nlf = len(ldims) - nb
    lpos = list(range(nb + nlf))
    rpos = list(range(nb)) + list(range(nb + nlf, len(out.shape)))
    placed = []
    for x, dims, pos in ((lhs, ldims, lpos), (rhs, rdims, rpos)):
        if type(x) is Op and x.cost > 2:
            x = ctx.materialize(x, "dot")

        def place(v, dims=dims, pos=pos):
            return broadcast_in_dim_view(transpose_view(v, dims), out.shape, pos)

        placed.append(map_views(x, place))
    rule = ELEMENTWISE[P.and_p if out.dtype.kind == "b" else P.mul_p]
    cost = 1 + sum(getattr(a, "cost", 0) for a in placed)
    return Op(rule, {}, placed, out.dtype, out.shape, ctx.names.var(eqn.outvars[0]), cost)


def _gemm(ctx, eqn, lhs, rhs, ldims, rdims):
    """dot_general as one BLAS gemm per batch element (csrc/jl_blas.h)."""
    out = ctx.new_output(eqn)
    dt = lhs.dtype
    (lb, lfree, lc), (rb, rc, rfree) = ldims, rdims
    size = lambda x, dims: math.prod(x.shape[d] for d in dims)
    nbatch, m, n, k = size(lhs, lb), size(lhs, lfree), size(rhs, rfree), size(lhs, lc)
    if m * n * nbatch == 0:
        return Leaf(out, dt)
    if k == 0:
        ctx.write(Scalar(c_literal(0, dt), dt, out.shape), out)
        return Leaf(out, dt)
    ctx.runtime = True
    a_buf, a_ptr, a_batch, ta, lda = _matrix(ctx, lhs, lb, lfree, lc)
    b_buf, b_ptr, b_batch, tb, ldb = _matrix(ctx, rhs, rb, rc, rfree)
    t = lambda flag: "true" if flag else "false"
    scratch, nscratch = gemm_scratch(ctx, dt, m, n, k)

    def call(b: str) -> str:
        ctx.touch(a_buf, b_buf, out.buf, scratch)
        a_at = a_ptr + (f" + {scaled(b, a_batch)}" if a_batch and b != "0" else "")
        b_at = b_ptr + (f" + {scaled(b, b_batch)}" if b_batch and b != "0" else "")
        c_at = out.buf + (f" + {scaled(b, m * n)}" if b != "0" else "")
        return (f"jl_gemm_ws_{sfx(dt)}({t(ta)}, {t(tb)}, {m}, {n}, {k}, {a_at}, {lda}, {b_at}, "
                f"{ldb}, {c_at}, {n}, {scratch}, {nscratch});")  # fmt: skip

    if nbatch == 1:
        ctx.line(call("0"))
    else:
        with ctx.loops([nbatch], prefix="b") as (b,):
            ctx.line(call(b))
    return Leaf(out, dt)


# csrc/jl_gemm.c's blocking (JL_PK_MC, JL_PK_KC, JL_PK_NC, JL_SMALL_PACK) and its widest vector
VEC_BYTES, PK_MC, PK_KC, PK_NC, SMALL_PACK = 64, 64, 128, 512, 16384


def scratch_elems(dt, m: int, n: int, k: int) -> int:
    """Elements of the scratch an m x k @ k x n product of `dt` packs into (csrc/jl_gemm.c:
    JL_PK_ELEMS for its packed kernel, k x n rounded up to whole vectors, at most JL_SMALL_PACK,
    for its register-blocked one), for vectors of any width up to AVX-512's (an export may be
    compiled for another CPU); the C checks the size it is given."""
    w = VEC_BYTES // dt.itemsize
    npad = -(-n // w) * w
    packed = min(k, PK_KC) * (
        (npad if n < PK_NC else PK_NC) + (-(-m // 4) * 4 if m < PK_MC else PK_MC)
    )
    return max(packed, min(k * npad, SMALL_PACK))


def gemm_scratch(ctx, dt, m: int, n: int, k: int) -> tuple[str, int]:
    """A workspace buffer for the packing of one product (`jl_gemm_ws_*`'s scratch: no malloc,
    no large stack array in the call), live only where the call touches it: (its name, its
    elements)."""
    elems = scratch_elems(dt, m, n, k)
    return ctx.alloc("pack", dt, [elems]).buf, elems


def _matrix(ctx, x: Leaf, batch, rows, cols):
    """`x` as a batch of BLAS matrices: (buffer, pointer, batch stride, transposed, leading
    dimension), copying it to a contiguous (batch, rows, cols) buffer only when no strides fit
    BLAS."""
    sizes = [math.prod(x.shape[d] for d in dims) for dims in (batch, rows, cols)]
    perm = list(batch) + list(rows) + list(cols)
    v = reshape_view(transpose_view(x.view, perm), sizes) if x.view.buf is not None else None
    layout = _blas_layout(v) if v is not None else None
    if layout is None:
        dest = ctx.alloc(f"{x.view.buf or 'iota'}_mat", x.dtype, [x.shape[d] for d in perm])
        ctx.write(Leaf(transpose_view(x.view, perm), x.dtype), dest)
        v = reshape_view(dest, sizes)
        layout = _blas_layout(v)
    offset = v.index(["0"] * 3)
    ptr = v.buf if offset == "0" else f"({v.buf} + {offset})"
    return v.buf, ptr, v.strides[0] if sizes[0] > 1 else 0, layout[0], layout[1]


def _blas_layout(v: View) -> tuple[bool, int] | None:
    """(transposed, leading dimension) of a (batch, rows, cols) view that BLAS can read, or None."""
    (_, r, c), (_, sr, sc) = v.shape, v.strides
    if (sc == 1 or c == 1) and (r == 1 or sr >= max(c, 1)):
        return False, sr if r > 1 else max(c, 1)
    if (sr == 1 or r == 1) and (c == 1 or sc >= max(r, 1)):
        return True, sc if c > 1 else max(r, 1)
    return None


def _dot_loops(ctx, eqn, lhs, rhs, lc, rc, lb, rb, lfree, rfree):
    """dot_general as C loops: integers, bools, and a preferred_element_type."""
    out = ctx.new_output(eqn)
    dt, out_dt = lhs.dtype, eqn.outvars[0].aval.dtype
    csizes = [lhs.shape[d] for d in lc]
    with ctx.loops(out.shape) as oidx:
        acc = ctx.fresh("acc")
        ctx.line(f"{CTYPE[dt]} {acc} = {c_literal(0, dt)};")
        with ctx.loops(csizes, prefix="k") as cidx:

            def index(nd, c, b, free, free_at):
                return [
                    cidx[c.index(d)] if d in c else oidx[b.index(d)] if d in b
                    else oidx[free_at + free.index(d)]
                    for d in range(nd)
                ]  # fmt: skip

            a = ctx.read(lhs, index(len(lhs.shape), lc, lb, lfree, len(lb)))
            b = ctx.read(rhs, index(len(rhs.shape), rc, rb, rfree, len(lb) + len(lfree)))
            step = f"{acc} || ({a} && {b})" if dt.kind == "b" else f"{acc} + {a} * {b}"
            ctx.line(f"{acc} = {step};")
        ctx.line(f"{ctx.at(out, oidx)} = {convert(dt, out_dt, acc)};")
    return Leaf(out, out_dt)


register_kernel(P.dot_general_p, _dot_general)
